package io.edge.fastcgi.codec;

import io.edge.fastcgi.FcgiProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Decodes FastCGI records into {@link FcgiMessage}s: stream records with a copy of their content, the others
 * as records. A copy, not a retained slice of the input: a slice that lives on (a STDOUT chunk waiting in a
 * slow client's socket queue) keeps the decoder's buffer shared, and a shared buffer is never compacted, so
 * it grew by every byte of a long response (a 200 MiB php-fpm answer to a slow reader ended in a failed
 * 132 MiB allocation). A copy costs a memory copy of what the backend sends and keeps the buffer below a
 * record.
 *
 * <pre>
 *  0        1        2        3        4        5        6        7
 * +--------+--------+--------+--------+--------+--------+--------+--------+
 * |version |  type  |    requestId    |  contentLength  | padLen |reserved|
 * +--------+--------+--------+--------+--------+--------+--------+--------+
 * | contentData (contentLength bytes) ...  | paddingData (padLen bytes)   |
 * +--------+--------+-- ... ------+--------+--------+-- ... --------------+
 * version = 1; requestId and contentLength are big-endian; management records
 * (GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE) use requestId 0.
 * BEGIN_REQUEST body:  role(2) flags(1) reserved(5)        flags bit 0 = FCGI_KEEP_CONN
 * END_REQUEST body:    appStatus(4) protocolStatus(1) reserved(3)
 * UNKNOWN_TYPE body:   type(1) reserved(7)
 * </pre>
 *
 * <p>States: {@code READ_HEADER -> READ_CONTENT -> SKIP_PADDING -> READ_HEADER}; any violation moves to
 * {@code BAD_MESSAGE}, which is terminal: it discards all further input, and the connection must be closed.
 * Every header field is checked before any content is read. A record cut off by the end of the stream is a
 * protocol error too. Not sharable: one per connection.
 */
public final class FcgiRecordDecoder extends ByteToMessageDecoder {

    enum State { READ_HEADER, READ_CONTENT, SKIP_PADDING, BAD_MESSAGE }

    private State state = State.READ_HEADER;
    private FcgiRecordType type;
    private int requestId;
    private int contentLength;
    private int paddingLeft;
    private FcgiProtocolException failure;

    State state() {
        return state;
    }

    /** The error that moved the decoder to its terminal state, or null. */
    public FcgiProtocolException failure() {
        return failure;
    }

    /** The capacity of the buffer holding input not decoded yet (0 if none), for tests. */
    int bufferCapacity() {
        return internalBuffer() == null ? 0 : internalBuffer().capacity();
    }

    /**
     * True between records: nothing of a record's header or content is pending. A record whose padding has not all come
     * yet counts as read (it was delivered; the padding is skipped whenever it comes, and nothing else is sent before it),
     * so a connection is as reusable as one whose padding came in the same read.
     */
    public boolean isAtRecordBoundary() {
        return (state == State.READ_HEADER || state == State.SKIP_PADDING)
                && (internalBuffer() == null || !internalBuffer().isReadable());
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            switch (state) {
                case READ_HEADER -> {
                    if (in.readableBytes() < FcgiRecordEncoder.HEADER_LENGTH) {
                        return;
                    }
                    readHeader(in);
                    state = State.READ_CONTENT;
                    readContent(in, out);
                }
                case READ_CONTENT -> readContent(in, out);
                case SKIP_PADDING -> skipPadding(in);
                case BAD_MESSAGE -> in.skipBytes(in.readableBytes());
                default -> throw new IllegalStateException(state.name());
            }
        } catch (FcgiProtocolException e) {
            state = State.BAD_MESSAGE;
            failure = e;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private void readHeader(ByteBuf in) {
        int i = in.readerIndex();
        int version = in.getUnsignedByte(i);
        if (version != FcgiRecordEncoder.VERSION) {
            throw FcgiProtocolException.of("version", version, "1");
        }
        FcgiRecordType t = FcgiRecordType.of(in.getUnsignedByte(i + 1));
        int id = in.getUnsignedShort(i + 2);
        int length = in.getUnsignedShort(i + 4);
        int padding = in.getUnsignedByte(i + 6);
        if (t.isManagement() && id != 0) {
            throw FcgiProtocolException.of("requestId", id, "0 for " + t);
        }
        if (!t.isManagement() && id == 0) {
            throw FcgiProtocolException.of("requestId", id, "> 0 for " + t);
        }
        int fixed = switch (t) {
            case BEGIN_REQUEST, END_REQUEST, UNKNOWN_TYPE -> 8;
            case ABORT_REQUEST -> 0;
            default -> -1;
        };
        if (fixed >= 0 && length != fixed) {
            throw FcgiProtocolException.of("contentLength", length, fixed + " for " + t);
        }
        in.skipBytes(FcgiRecordEncoder.HEADER_LENGTH);
        type = t;
        requestId = id;
        contentLength = length;
        paddingLeft = padding;
    }

    private void readContent(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < contentLength) {
            return;
        }
        out.add(decodeContent(in));
        state = State.SKIP_PADDING;
        skipPadding(in);
    }

    private FcgiMessage decodeContent(ByteBuf in) {
        return switch (type) {
            case BEGIN_REQUEST -> {
                int role = in.readUnsignedShort();
                int flags = in.readUnsignedByte();
                in.skipBytes(5);
                yield new FcgiBeginRequest(requestId, FcgiRole.of(role), (flags & 1) != 0);
            }
            case END_REQUEST -> {
                long appStatus = in.readUnsignedInt();
                int protocolStatus = in.readUnsignedByte();
                in.skipBytes(3);
                yield new FcgiEndRequest(requestId, appStatus, FcgiProtocolStatus.of(protocolStatus));
            }
            case UNKNOWN_TYPE -> {
                int unknown = in.readUnsignedByte();
                in.skipBytes(7);
                yield new FcgiUnknownType(unknown);
            }
            case ABORT_REQUEST -> new FcgiAbortRequest(requestId);
            case GET_VALUES -> {
                ByteBuf body = in.readSlice(contentLength);
                yield new FcgiGetValues(FcgiNameValues.decode(body).stream().map(e -> e.getKey()).toList());
            }
            case GET_VALUES_RESULT -> new FcgiGetValuesResult(FcgiNameValues.decode(in.readSlice(contentLength)));
            // Stream records: a copy (see the class comment); its reference goes with the message.
            case PARAMS -> new FcgiParams(requestId, in.readBytes(contentLength));
            case STDIN -> new FcgiStdin(requestId, in.readBytes(contentLength));
            case STDOUT -> new FcgiStdout(requestId, in.readBytes(contentLength));
            case STDERR -> new FcgiStderr(requestId, in.readBytes(contentLength));
            case DATA -> new FcgiData(requestId, in.readBytes(contentLength));
        };
    }

    private void skipPadding(ByteBuf in) {
        int n = Math.min(paddingLeft, in.readableBytes());
        in.skipBytes(n);
        paddingLeft -= n;
        if (paddingLeft == 0) {
            state = State.READ_HEADER;
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.isReadable()) {
            decode(ctx, in, out);
        }
        FcgiProtocolException truncated = switch (state) {
            case READ_HEADER -> in.isReadable()
                    ? FcgiProtocolException.of("header", in.readableBytes() + " bytes at end of stream", "8")
                    : null;
            case READ_CONTENT -> FcgiProtocolException.of("content",
                    in.readableBytes() + " bytes at end of stream", contentLength + " for " + type);
            case SKIP_PADDING -> FcgiProtocolException.of("padding", "end of stream", paddingLeft + " more bytes");
            case BAD_MESSAGE -> null;
        };
        if (truncated != null) {
            state = State.BAD_MESSAGE;
            failure = truncated;
            in.skipBytes(in.readableBytes());
            throw truncated;
        }
    }
}
