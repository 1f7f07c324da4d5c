package io.edge.fastcgi.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;
import java.util.Map;

/**
 * Encodes {@link FcgiMessage}s as records (wire format drawn in {@link FcgiRecordDecoder}). A stream payload
 * longer than 65535 bytes becomes several records; each record's content is padded to a multiple of 8. PARAMS
 * records end between two name-value pairs: php-fpm decodes each record's pairs on their own, and a pair cut in two
 * is garbage to it (it resets the connection); only a pair longer than a record is cut.
 * An empty stream payload becomes the empty record that ends the stream. Small payloads are copied next to
 * their header; large ones go out as retained slices, without copying.
 */
@ChannelHandler.Sharable
public final class FcgiRecordEncoder extends MessageToMessageEncoder<FcgiMessage> {

    static final int VERSION = 1;
    static final int HEADER_LENGTH = 8;
    static final int MAX_CONTENT_LENGTH = 65535;
    /** Below this a payload is copied into the header's buffer: one write instead of three. */
    private static final int COPY_THRESHOLD = 8192;
    private static final byte[] ZEROS = new byte[8];

    public FcgiRecordEncoder() {
        super(FcgiMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, FcgiMessage msg, List<Object> out) {
        if (msg instanceof FcgiStreamRecord stream) {
            encodeStream(ctx, stream, out);
            return;
        }
        ByteBuf buf = ctx.alloc().buffer(HEADER_LENGTH + 64);
        int headerIndex = buf.writerIndex();
        buf.writeZero(HEADER_LENGTH);
        if (msg instanceof FcgiBeginRequest b) {
            buf.writeShort(b.role().code()).writeByte(b.keepConn() ? 1 : 0).writeZero(5);
        } else if (msg instanceof FcgiEndRequest e) {
            buf.writeInt((int) e.appStatus()).writeByte(e.protocolStatus().code()).writeZero(3);
        } else if (msg instanceof FcgiUnknownType u) {
            buf.writeByte(u.unknownType()).writeZero(7);
        } else if (msg instanceof FcgiGetValues g) {
            for (String name : g.names()) {
                FcgiNameValues.encode(buf, name, "");
            }
        } else if (msg instanceof FcgiGetValuesResult r) {
            for (Map.Entry<String, String> e : r.values()) {
                FcgiNameValues.encode(buf, e.getKey(), e.getValue());
            }
        } else if (!(msg instanceof FcgiAbortRequest)) {
            buf.release();
            throw new IllegalArgumentException("not a FastCGI message: " + msg);
        }
        int contentLength = buf.writerIndex() - headerIndex - HEADER_LENGTH;
        if (contentLength > MAX_CONTENT_LENGTH) {
            buf.release();
            throw new IllegalArgumentException("contentLength: " + contentLength + " (expected: <= 65535)");
        }
        int padding = padding(contentLength);
        buf.writeZero(padding);
        writeHeader(buf, headerIndex, msg.type(), msg.requestId(), contentLength, padding);
        out.add(buf);
    }

    private static void encodeStream(ChannelHandlerContext ctx, FcgiStreamRecord msg, List<Object> out) {
        ByteBuf content = msg.content();
        if (!content.isReadable()) {
            ByteBuf header = ctx.alloc().buffer(HEADER_LENGTH);
            header.writeZero(HEADER_LENGTH);
            writeHeader(header, 0, msg.type(), msg.requestId(), 0, 0);
            out.add(header);
            return;
        }
        int longPairEnd = -1; // PARAMS: where a pair longer than a record ends, and with it its last record
        while (content.isReadable()) {
            int length = Math.min(content.readableBytes(), MAX_CONTENT_LENGTH);
            if (msg.type() == FcgiRecordType.PARAMS) {
                if (content.readerIndex() < longPairEnd) {
                    length = Math.min(longPairEnd - content.readerIndex(), MAX_CONTENT_LENGTH);
                } else if (content.readableBytes() > MAX_CONTENT_LENGTH) {
                    int whole = FcgiNameValues.wholePairsWithin(content, MAX_CONTENT_LENGTH);
                    if (whole > 0) {
                        length = whole;
                    } else {
                        longPairEnd = FcgiNameValues.pairEnd(content, content.readerIndex());
                    }
                }
            }
            int padding = padding(length);
            if (length < COPY_THRESHOLD) {
                ByteBuf buf = ctx.alloc().buffer(HEADER_LENGTH + length + padding);
                buf.writeZero(HEADER_LENGTH);
                writeHeader(buf, 0, msg.type(), msg.requestId(), length, padding);
                buf.writeBytes(content, length).writeZero(padding);
                out.add(buf);
            } else {
                ByteBuf header = ctx.alloc().buffer(HEADER_LENGTH);
                header.writeZero(HEADER_LENGTH);
                writeHeader(header, 0, msg.type(), msg.requestId(), length, padding);
                out.add(header);
                out.add(content.readRetainedSlice(length)); // the slice's reference goes to the next handler
                if (padding > 0) {
                    out.add(Unpooled.wrappedBuffer(ZEROS, 0, padding));
                }
            }
        }
        // MessageToMessageEncoder releases msg (and with it our reference to content) after we return.
    }

    static int padding(int contentLength) {
        return (8 - (contentLength & 7)) & 7;
    }

    private static void writeHeader(ByteBuf buf, int index, FcgiRecordType type, int requestId, int contentLength,
            int padding) {
        buf.setByte(index, VERSION);
        buf.setByte(index + 1, type.code());
        buf.setShort(index + 2, requestId);
        buf.setShort(index + 4, contentLength);
        buf.setByte(index + 6, padding);
        buf.setByte(index + 7, 0);
    }
}
