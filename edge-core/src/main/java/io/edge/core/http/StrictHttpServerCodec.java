package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpContentException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Netty's {@code HttpServerCodec} with the request line held to RFC 9112, as nginx reads it: exactly
 * {@code method SP request-target SP HTTP-version} (3), after nothing but empty lines (2.2), the version in upper
 * case (2.3). Netty's decoder alone splits the line at any run of SP, HTAB, VT, FF or CR, skips spaces before it
 * and reads the version in any case ({@code GET\r/x\x0bHTTP/1.1}, {@code " GET /x http/1.1"}): a line nginx refuses
 * would reach the responders. A header line starting with a space or tab (obs-fold, RFC 9112 5.2), which Netty
 * unfolds, fails its request too, as nginx refuses it; so does a second Content-Length field, which Netty refuses in
 * HTTP/1.1 but in HTTP/1.0 drops, framing the body by the first (RFC 9112 6.3; nginx refuses it). A transfer coding
 * but chunked, which Netty refuses as malformed, is refused as nginx refuses it: 501, or 400 for a second
 * Transfer-Encoding field ({@code RequestDecoder#refusedCoding}). The method is
 * held to what nginx's parser takes, upper-case letters, {@code _} and {@code -}: Netty takes any token
 * ({@code get}, {@code Post}, {@code GET1}), which nginx refuses and which a backend or the response cache would see
 * as a method of its own. Such a line fails to decode, and is answered 400 and closed
 * as every request the decoder cannot read ({@link HttpConnectionHandler}). The version's digits Netty checks itself.
 * One place edge is stricter than nginx 1.22.1: nginx takes a run of SP between the words and after the version
 * ({@code "GET  /x HTTP/1.1  "}: 200), edge one SP between them and none after, as RFC 9112 3 writes the line and
 * warns that reading it leniently can let a request be smuggled past a proxy in front that splits it otherwise.
 * The checks run in the decoder's own split of the line, on its buffer: nothing is copied or allocated.
 *
 * <p>Netty's decoder reads a line only once its LF came, and a field line only once the line after it ended too (that
 * one may continue it). A line that a byte has made unreadable, whatever follows, fails its head as that byte comes
 * ({@link LinePart}), as nginx's parser fails it at the byte: a client that never ended it, or sent no line after it,
 * was answered 408 at the head timeout. Only the line a decode call leaves unfinished and the field line it leaves
 * held are checked, each byte of them once: a head that comes whole is not read again.
 *
 * <p>A chunked body is held to the body limit at each chunk-size line, as nginx holds it to
 * {@code client_max_body_size}: a line that declares more than the limit leaves for the body so far fails the body
 * (a {@link TooLongHttpContentException}: 413, then the connection closes), before a byte of that chunk is read.
 * The limit is the largest any location takes until the request is routed, then its location's
 * ({@link #limitChunkedBody}), which {@link HttpConnectionHandler} tells as it starts the request, before the decoder
 * reads on.
 * Netty's decoder reads chunk sizes in private, so the decoder here follows the chunk framing of the bytes Netty
 * consumed, Netty's own states shadowed ({@link ChunkedBody}), and reads each size line itself: a size it reads is
 * handed to Netty bare ({@code HEX CRLF}, extensions dropped), so blanks after the size that Netty refuses
 * ({@code "5 \r\n"}) are read as nginx reads them, and a line it does not read is Netty's to refuse.
 * Counting the bytes received, as {@link HttpConnectionHandler} does too, a 16 MiB chunk over a 1 MiB limit would be
 * refused only once a megabyte of it had come. The small chunks a read brought whole are read here too, size line, data
 * and CRLF, and handed on as one content ({@code RequestDecoder#gatherSmallChunks}): Netty's decoder makes a content of
 * each, and every layer after it handled each.
 *
 * <p>Netty's codec is final and its decoder private, so this is that codec again, with the one part of its encoder
 * edge needs: the methods of the requests decoded, in order, so the answer to a HEAD goes without a body (a chunked
 * one without its last chunk), also one to a HEAD whose request line could not be read (its first word), or whose
 * head never ended (a 408: the method of its line, or the first word of the line so far). Not kept: a pipelining
 * limit (reading stops while requests wait, see {@link HttpConnectionHandler}); CONNECT's handling (never answered
 * 2xx here: 405, or 400 for an authority, which is no path); and the close after a request with both
 * Transfer-Encoding and Content-Length, which the decoder refuses instead (RFC 9112 6.3, set in
 * {@link HttpChannelInitializer}).
 *
 * <p>Runs on the connection's event loop only.
 */
final class StrictHttpServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {

    private static final byte[] HTTP_SLASH = {'H', 'T', 'T', 'P', '/'};
    private static final byte[] HEAD_SP = {'H', 'E', 'A', 'D', ' '};
    /** A Content-Length field's name and colon, in lower case (Netty refuses a blank before the colon). */
    private static final byte[] CONTENT_LENGTH_COLON = "content-length:".getBytes(StandardCharsets.US_ASCII);

    /** Chunks smaller than this are gathered into one content ({@code RequestDecoder#gatherSmallChunks}). */
    static final int SMALL_CHUNK = 8 * 1024;
    /** The most bytes gathered into one content: a chunk of the decoder's ({@code maxChunkSize}) at most. */
    static final int GATHERED_MOST = 64 * 1024;

    /** The methods of the requests decoded and not yet answered, oldest first. */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

    private final RequestDecoder decoder;
    private ChannelHandlerContext ctx;
    /** In {@link #channelRead}: Netty's decoder may be handing requests on. */
    private boolean reading;
    /** {@link #readHeld} was asked while {@link #reading}: what is held is decoded once that read returns. */
    private boolean heldToRead;
    /**
     * The client's FIN came while the decoder {@link #holdsUpgrade}: passed on to the handlers after at once, and to
     * the decoder once what it holds is read ({@link #readHeld}), not before: told of it, Netty's decoder drops what it
     * holds (its buffer is released after its last decode), which would lose the requests pipelined after the upgrade
     * request unanswered, where the same requests without the upgrade are answered before the connection closes.
     */
    private boolean finHeld;

    /**
     * @param maxBody the largest request body, in bytes; asked as each chunked request's head is decoded (a reload
     *                changes it for the requests read after it)
     */
    StrictHttpServerCodec(HttpDecoderConfig config, LongSupplier maxBody) {
        decoder = new RequestDecoder(config, maxBody);
        init(decoder, new ResponseEncoder());
    }

    /**
     * Whether the decoder holds part of a request: a byte other than an empty line's came since the last request
     * ended (or the connection began), and that request has not ended yet.
     */
    boolean midRequest() {
        return !decoder.betweenRequests;
    }

    /**
     * The head being read, once its request line was: its method, target and version, with the header fields read
     * so far (but the last: Netty adds a field once the line after it came, which may continue it); null before its line
     * ended, and between heads. For the access-log line of a head that never ended, as nginx logs its request line.
     */
    HttpRequest unfinishedHead() {
        return decoder.inHead ? decoder.lineRequest : null;
    }

    /**
     * The connection's bytes read so far, as far as requests were decoded from them: as a request or a part of its body
     * is handed on, up to that one's last byte (Netty's decoder returns after each).
     */
    long received() {
        return decoder.received;
    }

    /** Where, in {@link #received}, the request head decoded last began: its first byte, empty lines before it not. */
    long requestFrom() {
        return decoder.requestFrom;
    }

    /**
     * Whether the decoder holds what came after a request that {@link Exchange#asksUpgrade}, unread: until that request
     * is answered, the bytes after it may be another protocol's (a websocket frame the client sent with its handshake),
     * which read as a request would be lost (a 400 for a line that starts with 0x81). Its answer either gives the
     * connection to a tunnel, which takes those bytes as they are as this codec leaves the pipeline (Netty's decoder
     * hands on what it holds as it is removed), or reads on with {@link #readHeld}.
     */
    boolean holdsUpgrade() {
        return decoder.upgradeHeld;
    }

    /**
     * Whether the client's FIN came while the decoder {@link #holdsUpgrade}, and has not reached the decoder yet: the
     * requests held are still to be read ({@link #readHeld}), the connection must not close as if none could come; once
     * they are, the FIN is passed on again.
     */
    boolean finHeld() {
        return finHeld;
    }

    /**
     * The request that asked for an upgrade was answered as any other (the connection goes on in HTTP/1): what came
     * after it is decoded now, the requests in it handed on (the caller reads, as for a read, once this returns).
     */
    void readHeld() {
        if (!decoder.upgradeHeld) {
            return;
        }
        decoder.upgradeHeld = false;
        if (reading) {
            // answered at once, while Netty's decoder hands on what it decoded (the request's end still to come): it
            // reads on by itself, and what is left is decoded once it returns, never inside it
            heldToRead = true;
        } else {
            decodeHeld();
        }
    }

    private void decodeHeld() {
        if (ctx != null) {
            // an empty read: Netty's decoder then decodes what it holds, as after any read
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);
                channelReadComplete(ctx);
                if (finHeld && !decoder.upgradeHeld) {
                    // what was held is read: the decoder ends as at the FIN (a request cut short there is one), and
                    // the handlers after it hear of the FIN again, with what it cut short now read
                    finHeld = false;
                    super.userEventTriggered(ctx, ChannelInputShutdownEvent.INSTANCE);
                }
            } catch (Exception e) { // Netty's decoder passes its own failures on as decoded requests: none comes here
                ctx.fireExceptionCaught(e);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        reading = true;
        try {
            super.channelRead(ctx, msg);
        } finally {
            reading = false;
        }
        if (heldToRead) {
            heldToRead = false;
            decodeHeld();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent && decoder.upgradeHeld) {
            finHeld = true;
            ctx.fireUserEventTriggered(evt);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    /** Whether part of a request head was read and the head is not whole yet. */
    boolean readingHead() {
        return decoder.inHead;
    }

    /**
     * The request whose head was decoded last, just routed, may take a body of at most {@code limit} bytes, its
     * location's: its chunk-size lines are held to that from here on, rather than to the largest any location takes,
     * which is all the decoder knows of a head not yet routed (none, if a location has no limit). Called as such a
     * request starts: at once as its head is read, or once the requests before it are answered (pipelined), by when its
     * size lines may have declared more already. Then the body fails here: true, and every byte from here on is
     * dropped (the caller answers 413). Does nothing once that body's last chunk is decoded.
     */
    boolean limitChunkedBody(long limit) {
        ChunkedBody state = decoder.chunked;
        if (state != ChunkedBody.SIZE_LINE && state != ChunkedBody.DATA && state != ChunkedBody.DELIMITER) {
            return false;
        }
        decoder.bodyLimit = Math.min(decoder.bodyLimit, limit);
        if (decoder.declared <= decoder.bodyLimit) {
            return false;
        }
        decoder.chunked = ChunkedBody.REFUSED;
        return true;
    }

    /** The version {@code request}'s line named, for the access log: its own, or the 1.x above 1.1 read as 1.1. */
    static HttpVersion sentVersion(HttpRequest request) {
        return request instanceof ReadAsHttp11 read ? read.sent : request.protocolVersion();
    }

    /**
     * Where a chunked request body is, in the bytes Netty's decoder consumed: Netty's {@code READ_CHUNK_SIZE},
     * {@code READ_CHUNKED_CONTENT}, {@code READ_CHUNK_DELIMITER} and {@code READ_CHUNK_FOOTER}, shadowed.
     * <pre>
     *   NONE --chunked request head decoded--> SIZE_LINE
     *   SIZE_LINE --size line consumed: n &gt; 0--> DATA (n bytes) --all consumed--> DELIMITER (CRLF) --> SIZE_LINE
     *   SIZE_LINE --size line consumed: 0--> TRAILER --last content decoded--> NONE
     *   TRAILER --its lines over the header block limit, or a line with a bare CR, or one a head would refuse--> REFUSED
     *   SIZE_LINE --a complete line declares more than the limit leaves, or 2 GiB or more, or holds a bare CR or
     *             another control character--> REFUSED (terminal: every byte dropped)
     *   SIZE_LINE, DATA, DELIMITER --the request, routed, has a lower limit than the sizes declared--> REFUSED
     *   any --a failure decoded (a head refused; Netty's BAD_MESSAGE, a size this class cannot read among them)-->
     *             REFUSED
     * </pre>
     * Netty consumes a size line only whole, and returns after a head, so a size line always starts where a decode
     * call starts in SIZE_LINE.
     */
    private enum ChunkedBody { NONE, SIZE_LINE, DATA, DELIMITER, TRAILER, REFUSED }

    /**
     * Where a line of the head not yet ended is, in the bytes of it that came ({@code RequestDecoder#faultSoFar}): the
     * request line read as {@code method SP target SP HTTP/d.d CR}, a field line as {@code name ":" value CR}.
     * <pre>
     *   METHOD --SP--> TARGET_START --a byte above 0x20 but DEL--> TARGET --SP--> VERSION --"HTTP/d.d"--> LINE_CR
     *   FIELD_START --a token byte--> FIELD_NAME --":"--> FIELD_VALUE --CR--> LINE_CR
     *   FIELD_START --CR--> LINE_CR (the empty line that ends the head)
     *   any --a byte the line cannot take, whatever follows (LINE_CR: any, as it is no LF)--> the head fails
     * </pre>
     * A new head starts in METHOD (its first byte already a method's), each line after its request line in FIELD_START.
     */
    private enum LinePart { METHOD, TARGET_START, TARGET, VERSION, FIELD_START, FIELD_NAME, FIELD_VALUE, LINE_CR }

    private final class RequestDecoder extends HttpRequestDecoder {

        private final LongSupplier maxBody;
        /** The longest chunk-size line, extensions and all, as the longest request line (Netty's line limit). */
        private final int maxSizeLine;
        /** The most bytes a trailer section may hold: as many as a head (Netty's header size limit). */
        private final int maxTrailer;
        private ChunkedBody chunked = ChunkedBody.NONE;
        /** The body limit of the chunked request being read, and the chunk sizes its lines declared so far. */
        private long bodyLimit;
        private long declared;
        /** Bytes of the current chunk's data, or of its CRLF, Netty has still to consume. */
        private long chunkLeft;
        /** Bytes of the trailer section dropped so far. */
        private int trailerBytes;

        /**
         * The bytes consumed since the connection began, up to the end of the last decode call; where that call's began
         * in its buffer; where in those bytes the head read last (or being read) began, past the empty lines before it.
         */
        private long received;
        private int callFrom;
        private long requestFrom;

        /** The request decoded last {@link Exchange#asksUpgrade}: once its end is, {@link #upgradeHeld} too. */
        private boolean upgradeAsked;
        /** Nothing after the request that asked for an upgrade is read until it is answered ({@link #holdsUpgrade}). */
        private boolean upgradeHeld;
        /** Only empty lines (CRLF) read since the last request ended, or the connection began. */
        private boolean betweenRequests = true;
        /**
         * A request head is being read: from its first byte until Netty's decoder emits it (it returns after a head,
         * so the bytes consumed meanwhile are the head's). {@link #headLf}: the last of them was an LF;
         * {@link #headFolded}: a line of it started with a space or tab.
         */
        private boolean inHead;
        private boolean headLf;
        private boolean headFolded;
        /**
         * The request of the head being read, once Netty's decoder made one of its line (split into its words), with
         * the header fields read so far; null before, and for a line it could not read.
         */
        private HttpRequest lineRequest;
        /**
         * Bytes of {@link #CONTENT_LENGTH_COLON} the head's current line starts with so far, -1 once it cannot be
         * one; and the Content-Length fields of the head so far.
         */
        private int contentLengthMatched;
        private int contentLengths;
        /**
         * The head's Transfer-Encoding fields, taken once it is read whole and its Content-Length checked
         * ({@link #isContentAlwaysEmpty}); null for a head Netty's decoder refused before that.
         */
        private List<String> transferCodings;
        /** Where the method, then the request target, ends in the line being split. */
        private int methodEnd;
        private int targetEnd;
        /**
         * Where the line Netty's decoder holds unfinished is ({@link #faultSoFar}), and how many of its bytes were
         * checked: counted from the reader index, which stays at the line's start until the line ends.
         */
        private LinePart partLine;
        private int partChecked;
        /** In {@link LinePart#VERSION}: how many bytes of the version came. */
        private int versionAt;

        RequestDecoder(HttpDecoderConfig config, LongSupplier maxBody) {
            super(config);
            this.maxBody = maxBody;
            this.maxSizeLine = config.getMaxInitialLineLength();
            this.maxTrailer = config.getMaxHeaderSize();
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            callFrom = buffer.readerIndex();
            try {
                decodeRequests(ctx, buffer, out);
            } finally {
                received += buffer.readerIndex() - callFrom;
            }
        }

        private void decodeRequests(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (chunked == ChunkedBody.REFUSED) {
                buffer.skipBytes(buffer.readableBytes()); // as Netty's BAD_MESSAGE: the connection closes
                return;
            }
            if (upgradeHeld) {
                return; // nothing consumed: Netty's decoder keeps the bytes, and stops decoding this read
            }
            ByteBuf sizeLine = null;
            if (chunked == ChunkedBody.SIZE_LINE) {
                ByteBuf gathered = gatherSmallChunks(ctx, buffer);
                if (gathered != null) {
                    out.add(new DefaultHttpContent(gathered));
                    return;
                }
                int lineEnd = buffer.indexOf(buffer.readerIndex(), buffer.writerIndex(), (byte) '\n');
                if (lineEnd >= 0 && hasBareCr(buffer, buffer.readerIndex(), lineEnd)) {
                    refuse(buffer, out, new IllegalArgumentException(
                            "chunk size line: a CR without LF (expected: none, RFC 9112 2.2, as nginx)"));
                    return;
                }
                int control = lineEnd < 0 ? -1 : controlIn(buffer, buffer.readerIndex(), lineEnd);
                if (control >= 0) {
                    // in an extension, which is dropped: a NUL there was taken while the same byte in a head is 400
                    refuse(buffer, out, new IllegalArgumentException(String.format(Locale.ROOT,
                            "chunk size line: control character 0x%02x (expected: none, RFC 9112 7.1.1)", control)));
                    return;
                }
                long size = lineEnd < 0 ? -1 : chunkSize(buffer, buffer.readerIndex(), lineEnd);
                if (refusesChunk(size, buffer, out)) {
                    return;
                }
                sizeLine = bareSizeLine(buffer, lineEnd, size);
            }
            if (chunked == ChunkedBody.TRAILER && !atTrailerEnd(buffer, out)) {
                return;
            }
            if (betweenRequests) {
                int first = buffer.forEachByte(ByteProcessor.FIND_NON_CRLF);
                // Empty lines before a request are dropped here, however many (RFC 9112 2.2, as nginx): Netty's decoder
                // counted them into the request line, and answered a few KiB of them 414, URI Too Long
                if (first < 0) {
                    buffer.skipBytes(buffer.readableBytes());
                    return;
                }
                buffer.readerIndex(first);
                requestFrom = received + first - callFrom;
                betweenRequests = false;
                inHead = true;
                headLf = false;
                headFolded = false;
                lineRequest = null;
                contentLengthMatched = -1; // the request line
                contentLengths = 0;
                transferCodings = null;
                partLine = LinePart.METHOD;
                partChecked = 0;
                byte b = buffer.getByte(first);
                if (!isMethodChar(b)) {
                    // No method starts so (a space, TAB, NUL, another control byte, binary junk, a lower-case
                    // letter or digit): 400 at once, as nginx, not once a whole line came (junk without an LF
                    // waited for the head timeout's 408, or ran into the line limit's 414)
                    refuseHead(buffer, first, out, new IllegalArgumentException(String.format(Locale.ROOT,
                            "request line: starts with 0x%02x (expected: the method, A-Z, _ and - only, as nginx)",
                            b & 0xff)));
                    return;
                }
            }
            int from = out.size();
            int consumedFrom = buffer.readerIndex();
            if (sizeLine != null) {
                try {
                    super.decode(ctx, sizeLine, out);
                    followChunks(sizeLine, 0, sizeLine.readerIndex());
                } finally {
                    sizeLine.release();
                }
            } else {
                boolean lineWasRead = lineRequest != null;
                super.decode(ctx, buffer, out);
                if (inHead) {
                    watchHeadLines(buffer, consumedFrom, buffer.readerIndex());
                }
                // Netty's decoder waits for a line's end before it looks at the line, and for the next line's end before
                // it looks at a field line: a byte that fails the line whatever follows is answered as it comes, as
                // nginx answers it, not at the head timeout (408). Only the line left unfinished and the field line
                // held are checked, only their new bytes: none on a head that came whole
                String fault = inHead && out.size() == from ? faultSoFar(buffer, consumedFrom, lineWasRead) : null;
                if (fault != null) {
                    refuseUnfinishedHead(buffer, out, fault);
                }
                followChunks(buffer, consumedFrom, buffer.readerIndex());
            }
            for (int i = from; i < out.size(); i++) {
                Object decoded = out.get(i);
                if (decoded instanceof HttpRequest request) {
                    inHead = false;
                    if (request instanceof UnreadRequest unread && sizeLine == null) {
                        // as for startsHead: the bytes this call consumed hold the line from its start
                        unread.sentFrom(buffer, consumedFrom, buffer.readerIndex());
                    }
                    if (lineRequest == null && sizeLine == null
                            && startsHead(buffer, consumedFrom, buffer.readerIndex())) {
                        request.setMethod(HttpMethod.HEAD); // Netty's stand-in for a line it could not read is a GET
                    }
                    Exception refused = headFolded ? new IllegalArgumentException(
                                    "header: a line starting with a space or tab (expected: no obs-fold, RFC 9112 5.2)")
                            : contentLengths > 1 ? new IllegalArgumentException(
                                    "header: " + contentLengths + " Content-Length fields (expected: one, RFC 9112 6.3)")
                            : refusedCoding(request);
                    // Netty's own failure stands, but for the one it makes of a transfer coding once the head is read
                    // whole (transferCodings taken): then the transfer coding is refused as nginx refuses it
                    if (refused != null && (request.decoderResult().isSuccess() || transferCodings != null)) {
                        request.setDecoderResult(DecoderResult.failure(refused));
                    }
                    methods.add(request.method());
                    upgradeAsked = request.decoderResult().isSuccess() && Exchange.asksUpgrade(request);
                    if (request.decoderResult().isSuccess() && HttpUtil.isTransferEncodingChunked(request)) {
                        chunked = ChunkedBody.SIZE_LINE; // as Netty's decoder, which returned after this head
                        bodyLimit = maxBody.getAsLong();
                        declared = 0;
                    }
                }
                if (decoded instanceof LastHttpContent) {
                    betweenRequests = true;
                    chunked = ChunkedBody.NONE;
                    upgradeHeld = upgradeAsked;
                    upgradeAsked = false;
                }
                if (decoded instanceof DecoderResultProvider result && result.decoderResult().isFailure()) {
                    // the connection closes after its 400: every byte from here on is dropped, as Netty's decoder
                    // drops them after a failure of its own, and none starts a head (junk of its own 400)
                    chunked = ChunkedBody.REFUSED;
                }
            }
        }

        /** Netty's stand-in for a request whose line it could not read: one that keeps what was sent of it. */
        @Override
        protected UnreadRequest createInvalidMessage() {
            return new UnreadRequest();
        }

        /**
         * Netty's decoder makes the request of a request line it split into its words, before it reads the header
         * lines; a line it cannot read (too long, refused as it is split, or its version no version) gets a stand-in
         * request instead.
         */
        @Override
        protected HttpMessage createMessage(String[] initialLine) throws Exception {
            HttpRequest request = (HttpRequest) super.createMessage(initialLine);
            HttpVersion version = request.protocolVersion();
            if (version.majorVersion() == 1 && version.minorVersion() > 1) {
                // RFC 9110 2.5: a 1.x above 1.1 is read and answered as 1.1 (as nginx), so before Netty's decoder reads
                // the header lines: it takes a Transfer-Encoding only in a request whose version is HTTP_1_1 itself
                request = new ReadAsHttp11(version, request);
            }
            lineRequest = request;
            return request;
        }

        /**
         * The method of the head being read, for an answer to a head that never ended (a 408): its line's when Netty's
         * decoder read the line; else HEAD when the bytes so far, which it keeps until the line ends, start with it;
         * else null.
         */
        HttpMethod methodSoFar() {
            if (lineRequest != null) {
                return lineRequest.method();
            }
            ByteBuf pending = internalBuffer();
            return startsHead(pending, pending.readerIndex(), pending.writerIndex()) ? HttpMethod.HEAD : null;
        }

        /**
         * Whether the request line in the bytes Netty's decoder consumed, {@code from} to {@code to}, names the method
         * HEAD, after the empty lines before it (which Netty skips). A line it could not read is consumed only as it
         * fails, from its start (Netty consumes a line whole, or drops every byte on a failure), so its first word is
         * there; nginx reads the method first too, and answers such a HEAD without a body.
         */
        private static boolean startsHead(ByteBuf buffer, int from, int to) {
            int at = afterEmptyLines(buffer, from, to);
            if (to - at < HEAD_SP.length) {
                return false;
            }
            for (int i = 0; i < HEAD_SP.length; i++) {
                if (buffer.getByte(at + i) != HEAD_SP[i]) {
                    return false;
                }
            }
            return true;
        }

        /**
         * Netty's decoder asks this of a head read whole, its Content-Length checked, just before it checks the transfer
         * coding itself: the Transfer-Encoding fields are taken here, for {@link #refusedCoding}. Nothing else changes.
         */
        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            transferCodings = msg.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)
                    ? msg.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING) : List.of();
            return super.isContentAlwaysEmpty(msg);
        }

        /**
         * Why an HTTP/1.1 {@code request} is refused for its transfer coding, as nginx refuses it, or null: a second
         * Transfer-Encoding field is a 400 ("duplicate header line"), one that says anything but {@code chunked} (in any
         * case, blanks around it) a 501, and closes ({@code gzip}, {@code gzip, chunked}, {@code chunked, chunked},
         * empty): edge decodes no other coding, and a body framed by none it reads would reach a backend still encoded.
         * Netty's decoder refused most of these itself, as malformed (400), and took {@code gzip, chunked}. In HTTP/1.0
         * Netty refuses any Transfer-Encoding (400), as nginx does before it looks at the coding (a 1.x above 1.1 is
         * read as 1.1: {@link #createMessage}); so is a request without one well-formed Host refused for that (400,
         * {@link HttpConnectionHandler}), as nginx checks the Host first.
         */
        private Exception refusedCoding(HttpRequest request) {
            if (transferCodings == null || transferCodings.isEmpty()
                    || !HttpVersion.HTTP_1_1.equals(request.protocolVersion())) {
                return null;
            }
            List<String> hosts = request.headers().getAll(HttpHeaderNames.HOST);
            if (hosts.size() != 1 || !RequestTarget.isHostAndPort(hosts.get(0))) {
                return null;
            }
            if (transferCodings.size() > 1) {
                return new IllegalArgumentException("header: " + transferCodings.size()
                        + " Transfer-Encoding fields (expected: one, as nginx)");
            }
            String coding = transferCodings.get(0).trim();
            return HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(coding) ? null
                    : new HttpStatusException(HttpResponseStatus.NOT_IMPLEMENTED,
                            "Transfer-Encoding: " + coding + " (expected: chunked)");
        }

        /**
         * In SIZE_LINE, takes the whole small chunks at the start of {@code buffer}, size line, data and CRLF, and
         * returns their data in one buffer (null: none), as nginx reads the chunks of one read into one buffer: Netty's
         * decoder makes a content of every chunk, so a body in 1-byte chunks was three decode calls, a content and a
         * trip through the pipeline a byte, some fifteen times nginx's CPU for such an upload. A chunk is taken only
         * where the normal path would take it as it is: its size line whole and clean (no bare CR, no control byte, a
         * size {@link #chunkSize} reads, within {@link #maxSizeLine}), its size from 1 to {@link #SMALL_CHUNK} - 1
         * and within the body limit, its data and CRLF there; the first that is not (the last chunk, a large one, one
         * cut by the read, one to refuse) and what follows go the normal way, in the next decode call. Netty's decoder
         * stays at a size line meanwhile, as the bytes it is spared end with a chunk's CRLF. At most
         * {@link #GATHERED_MOST} bytes are gathered at once.
         */
        private ByteBuf gatherSmallChunks(ChannelHandlerContext ctx, ByteBuf buffer) {
            ByteBuf gathered = null;
            while (true) {
                int from = buffer.readerIndex();
                int lineEnd = buffer.indexOf(from, (int) Math.min(buffer.writerIndex(), from + maxSizeLine + 2L),
                        (byte) '\n');
                if (lineEnd < 0 || hasBareCr(buffer, from, lineEnd) || controlIn(buffer, from, lineEnd) >= 0) {
                    return gathered;
                }
                long size = chunkSize(buffer, from, lineEnd);
                int dataFrom = lineEnd + 1;
                if (size <= 0 || size >= SMALL_CHUNK || size > bodyLimit - declared
                        || buffer.writerIndex() - dataFrom < size + 2
                        || buffer.getByte(dataFrom + (int) size) != '\r'
                        || buffer.getByte(dataFrom + (int) size + 1) != '\n'
                        || gathered != null && gathered.readableBytes() + size > GATHERED_MOST) {
                    return gathered;
                }
                if (gathered == null) {
                    gathered = ctx.alloc().buffer((int) Math.max(size, 256), GATHERED_MOST);
                }
                gathered.writeBytes(buffer, dataFrom, (int) size);
                declared += size;
                buffer.readerIndex(dataFrom + (int) size + 2);
            }
        }

        /**
         * In SIZE_LINE, with the size line whole in {@code buffer} declaring {@code size} ({@link #chunkSize}; -1 for a
         * line not whole yet or not a size, left to Netty to refuse): whether it declares more than the limit leaves, in
         * which case the body fails here (a last content carrying the failure, as Netty's own for a bad chunk) and
         * every byte from here on is dropped.
         */
        private boolean refusesChunk(long size, ByteBuf buffer, List<Object> out) {
            if (size <= bodyLimit - declared && size <= Integer.MAX_VALUE) { // also -1: not a size
                return false;
            }
            refuse(buffer, out, new TooLongHttpContentException(size > bodyLimit - declared
                    ? String.format(Locale.ROOT, "chunk size: %d after %d bytes of body (expected: <= %d in all)",
                            size, declared, bodyLimit)
                    // Netty's decoder holds a chunk's size in an int; nginx takes larger ones
                    : String.format(Locale.ROOT, "chunk size: %d (expected: < 2 GiB in one chunk)", size)));
            return true;
        }

        /**
         * Why the head Netty's decoder left unfinished in {@code buffer} fails whatever comes after it, or null while it
         * may still be read: the line it holds unfinished, from the reader index to the end, and the field line it
         * consumed last, which it reads only once the line after it ended (it may continue it), are checked as edge
         * reads whole lines (nginx's parser, which refuses at the byte, reads them so but for the blanks between the
         * request line's words and the field names it ignores: {@code "GET  /"}, {@code "X@Y: 1"}, which edge refuses
         * whole too). Judged on the bytes not judged before: those of this decode call, which consumed the bytes from
         * {@code consumedFrom} to the reader index; {@code lineWasRead}: the request line had been read before it.
         * No LF is among the unfinished line's bytes: Netty's decoder takes a line as its LF comes, or fails it as too
         * long.
         */
        private String faultSoFar(ByteBuf buffer, int consumedFrom, boolean lineWasRead) {
            int lineStart = buffer.readerIndex();
            if (lineStart > consumedFrom) {
                int heldEnd = lineStart - 1; // its LF
                int before = buffer.indexOf(heldEnd, consumedFrom, (byte) '\n');
                // The field line held: one this call brought whole, from its start; else the line left unfinished
                // before it, on from where its check stopped, unless that was the request line, which Netty read
                String fault = null;
                if (before >= 0) {
                    partLine = LinePart.FIELD_START;
                    fault = faultIn(buffer, before + 1, heldEnd);
                } else if (lineWasRead) {
                    fault = faultIn(buffer, consumedFrom + partChecked, heldEnd);
                }
                if (fault != null) {
                    return fault;
                }
                partLine = LinePart.FIELD_START;
                partChecked = 0;
            }
            int end = buffer.writerIndex();
            String fault = faultIn(buffer, lineStart + partChecked, end);
            partChecked = end - lineStart;
            return fault;
        }

        /**
         * Why the bytes from {@code from} to {@code end}, the next of the line {@link #partLine} says where it is in,
         * fail it whatever follows, or null (the line moved on over them).
         */
        private String faultIn(ByteBuf buffer, int from, int end) {
            for (int at = from; at < end; at++) {
                int b = buffer.getByte(at) & 0xff;
                String fault = switch (partLine) {
                    case METHOD -> b == ' ' ? next(LinePart.TARGET_START)
                            : isMethodChar((byte) b) ? null : "request line: method then " + hex(b)
                                    + " (expected: A-Z, _ and - only, then one 0x20, as nginx)";
                    case TARGET_START -> b > ' ' && b != 0x7f ? next(LinePart.TARGET)
                            : "request line: after the method: 0x20 " + hex(b) + " (expected: one 0x20, then the target)";
                    case TARGET -> b == ' ' ? versionStarts()
                            : b >= ' ' && b != 0x7f ? null : "request line: request target: " + hex(b)
                                    + " (expected: none below 0x21, nor 0x7f)";
                    case VERSION -> versionTakes(b) ? null
                            : "request line: version or what follows it: " + hex(b) + " after "
                                    + buffer.toString(at - versionAt, versionAt, StandardCharsets.ISO_8859_1)
                                    + " (expected: HTTP/ in upper case, digit, '.', digit, then the line's end)";
                    case FIELD_START -> b == '\r' ? next(LinePart.LINE_CR)
                            : b == ' ' || b == '\t' ? "header: a line starting with a space or tab (expected: no obs-fold,"
                                    + " RFC 9112 5.2)"
                            : isTokenChar(b) ? next(LinePart.FIELD_NAME)
                            : "header: a field name starting with " + hex(b) + " (expected: a token, RFC 9110 5.1)";
                    case FIELD_NAME -> b == ':' ? next(LinePart.FIELD_VALUE)
                            : isTokenChar(b) ? null : "header: field name byte " + hex(b)
                                    + " (expected: a token, then ':' with no blank before it, RFC 9112 5.1)";
                    case FIELD_VALUE -> b == '\r' ? next(LinePart.LINE_CR)
                            : b >= ' ' && b != 0x7f || b == '\t' ? null
                            : "header: control character " + hex(b) + " in a field value (expected: none, RFC 9110 5.5)";
                    case LINE_CR -> "a CR without LF: CR then " + hex(b) + " (expected: CR LF, RFC 9112 2.2)";
                };
                if (fault != null) {
                    return fault;
                }
            }
            return null;
        }

        /** Moves the unfinished line on to {@code part}; null, no fault. */
        private String next(LinePart part) {
            partLine = part;
            return null;
        }

        private String versionStarts() {
            versionAt = 0;
            return next(LinePart.VERSION);
        }

        /**
         * Whether the version's next byte may be {@code b}: {@code HTTP/}, a digit, '.', a digit, as Netty's strict
         * reading of the version takes it, then the CR of the line's end (a blank after it is refused too).
         */
        private boolean versionTakes(int b) {
            boolean takes = versionAt < HTTP_SLASH.length ? b == HTTP_SLASH[versionAt]
                    : versionAt == HTTP_SLASH.length + 1 ? b == '.'
                    : versionAt < HTTP_SLASH.length + 3 ? b >= '0' && b <= '9'
                    : b == '\r';
            if (takes) {
                versionAt++;
                partLine = b == '\r' ? LinePart.LINE_CR : LinePart.VERSION;
            }
            return takes;
        }

        /**
         * Fails the head still being read with {@code fault} (400) as Netty's decoder fails a line it cannot read: its
         * request once its line was read ({@link #lineRequest}), else a stand-in that keeps what was sent of the line.
         * Every byte from here on is dropped.
         */
        private void refuseUnfinishedHead(ByteBuf buffer, List<Object> out, String fault) {
            HttpMessage refused = lineRequest != null ? lineRequest : createInvalidMessage();
            buffer.skipBytes(buffer.readableBytes());
            refused.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(fault)));
            // Netty's decoder still reads that head: at the connection's close it would fail it a second time
            reset();
            out.add(refused);
        }

        /**
         * Fails the head just begun at {@code first} with {@code cause} (400); every byte from here on is dropped.
         */
        private void refuseHead(ByteBuf buffer, int first, List<Object> out, Exception cause) {
            chunked = ChunkedBody.REFUSED;
            inHead = false;
            UnreadRequest refused = createInvalidMessage(); // a full request: the head and the end of its body
            refused.sentFrom(buffer, first, buffer.writerIndex());
            buffer.skipBytes(buffer.readableBytes());
            refused.setDecoderResult(DecoderResult.failure(cause));
            methods.add(HttpMethod.GET);
            out.add(refused);
        }

        /**
         * Fails the body with {@code cause}, in a last content as Netty's own for a bad chunk, and drops every byte from
         * here on (REFUSED).
         */
        private void refuse(ByteBuf buffer, List<Object> out, Exception cause) {
            chunked = ChunkedBody.REFUSED;
            buffer.skipBytes(buffer.readableBytes());
            LastHttpContent refused = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
            refused.setDecoderResult(DecoderResult.failure(cause));
            out.add(refused);
        }

        /**
         * In TRAILER: drops the trailer section's lines whole in {@code buffer}, and says whether what is left starts with
         * the empty line that ends it, for Netty's decoder to read (it ends the body). Nothing of a trailer is used
         * (FastCGI has none); a line a head would refuse ({@link #malformedField}) fails the body (400), where nginx
         * skips it unread. A lone LF ends a line here too, as in the head; a CR elsewhere than before the LF fails the
         * body (400), as nginx. More than {@link #maxTrailer} bytes fail the body (400), as Netty bounded them; then
         * every byte from here on is dropped.
         */
        private boolean atTrailerEnd(ByteBuf buffer, List<Object> out) {
            while (buffer.isReadable()) {
                int from = buffer.readerIndex();
                int lineEnd = buffer.indexOf(from, buffer.writerIndex(), (byte) '\n');
                if (lineEnd == from || lineEnd == from + 1 && buffer.getByte(from) == '\r') {
                    return true;
                }
                int taken = (lineEnd < 0 ? buffer.writerIndex() : lineEnd + 1) - from;
                if (taken > maxTrailer - trailerBytes) {
                    refuse(buffer, out, new TooLongHttpHeaderException(String.format(Locale.ROOT,
                            "trailer: more than %d bytes (expected: <= %d, as the header block)", maxTrailer, maxTrailer)));
                    return false;
                }
                if (lineEnd < 0) {
                    return false; // the rest of the line is still to come
                }
                if (hasBareCr(buffer, from, lineEnd)) {
                    refuse(buffer, out, new IllegalArgumentException(
                            "trailer: a CR without LF (expected: none, RFC 9112 2.2, as nginx)"));
                    return false;
                }
                String malformed = malformedField(buffer, from, lineEnd);
                if (malformed != null) {
                    refuse(buffer, out, new IllegalArgumentException("trailer: " + malformed));
                    return false;
                }
                trailerBytes += taken;
                buffer.readerIndex(lineEnd + 1);
            }
            return false;
        }

        /**
         * In SIZE_LINE, with the size line ending at {@code lineEnd} in {@code buffer} declaring {@code size} (as
         * {@link #refusesChunk} takes them): that line consumed, and what Netty's decoder is to read in its place, the
         * bare size ({@code HEX CRLF}); null, consuming nothing, for a line not whole yet, not a size or too long, which
         * Netty reads (and refuses) itself. The size lines edge reads are {@link #chunkSize}'s: Netty refuses blanks
         * after the size that no extension follows ({@code "5 \r\n"}), which nginx takes.
         */
        private ByteBuf bareSizeLine(ByteBuf buffer, int lineEnd, long size) {
            // no longer than Netty's decoder takes a line (the request line's limit, CRLF not counted): a longer one
            // is left to it to refuse (400), as it refuses one that comes in parts
            if (size < 0 || lineEnd >= buffer.readerIndex() + maxSizeLine + 2L) {
                return null;
            }
            buffer.readerIndex(lineEnd + 1);
            return Unpooled.wrappedBuffer((Long.toHexString(size) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }

        /**
         * Watches the lines of the head in the bytes Netty's decoder just consumed (whole lines, so a line's state
         * carries over from one call to the next).
         *
         * <p>A line that starts with a space or tab is an obs-fold, which Netty unfolds into the field before, where a
         * proxy in front may read a field of its own (" Transfer-Encoding: chunked"). RFC 9112 5.2 lets a server
         * refuse it; nginx does (400).
         *
         * <p>Content-Length fields are counted: in HTTP/1.0 Netty reads the first of several and drops the rest
         * (it refuses them in 1.1 only), so "5" then "6" would be framed by the 5 here and by the 6 in a proxy that
         * takes the last, a desync. RFC 9112 6.3: an invalid Content-Length is a 400; nginx refuses any second one.
         */
        private void watchHeadLines(ByteBuf buffer, int from, int to) {
            for (int at = from; at < to; at++) {
                byte b = buffer.getByte(at);
                if (headLf) {
                    if (b == ' ' || b == '\t') {
                        headFolded = true;
                    }
                    contentLengthMatched = 0;
                }
                if (contentLengthMatched >= 0 && contentLengthMatched < CONTENT_LENGTH_COLON.length) {
                    byte lower = b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
                    if (lower != CONTENT_LENGTH_COLON[contentLengthMatched]) {
                        contentLengthMatched = -1;
                    } else if (++contentLengthMatched == CONTENT_LENGTH_COLON.length) {
                        contentLengths++;
                    }
                }
                headLf = b == '\n';
            }
        }

        /** Moves {@link #chunked} over the bytes Netty's decoder just consumed, {@code from} to {@code to}. */
        private void followChunks(ByteBuf buffer, int from, int to) {
            int at = from;
            while (at < to) {
                switch (chunked) {
                    case SIZE_LINE -> {
                        int lineEnd = buffer.indexOf(at, to, (byte) '\n');
                        long size = lineEnd < 0 ? -1 : chunkSize(buffer, at, lineEnd);
                        if (size < 0) { // Netty read what this class cannot: the received bytes still count
                            chunked = ChunkedBody.NONE;
                            return;
                        }
                        declared += size;
                        chunked = size == 0 ? ChunkedBody.TRAILER : ChunkedBody.DATA;
                        chunkLeft = size;
                        trailerBytes = 0;
                        at = lineEnd + 1;
                    }
                    case DATA, DELIMITER -> {
                        int taken = (int) Math.min(chunkLeft, to - at);
                        at += taken;
                        chunkLeft -= taken;
                        if (chunkLeft == 0 && chunked == ChunkedBody.DATA) {
                            chunked = ChunkedBody.DELIMITER;
                            chunkLeft = 2;
                        } else if (chunkLeft == 0) {
                            chunked = ChunkedBody.SIZE_LINE;
                        }
                    }
                    default -> at = to; // NONE, TRAILER: nothing to follow
                }
            }
        }

        // Netty splits the line in order, first to third word; a failure here fails the request (400).

        @Override
        protected String splitFirstWordInitialLine(byte[] line, int start, int length) {
            methodEnd = start + length;
            for (int i = start; i < methodEnd; i++) {
                if (!isMethodChar(line[i])) {
                    throw new IllegalArgumentException("request line: method "
                            + new String(line, start, length, StandardCharsets.ISO_8859_1)
                            + " (expected: A-Z, _ and - only, as nginx)");
                }
            }
            return super.splitFirstWordInitialLine(line, start, length);
        }

        @Override
        protected String splitSecondWordInitialLine(byte[] line, int start, int length) {
            checkOneSpace(line, methodEnd, start, "method");
            targetEnd = start + length;
            return super.splitSecondWordInitialLine(line, start, length);
        }

        @Override
        protected String splitThirdWordInitialLine(byte[] line, int start, int length) {
            checkOneSpace(line, targetEnd, start, "request target");
            if (length < HTTP_SLASH.length || !Arrays.equals(line, start, start + HTTP_SLASH.length,
                    HTTP_SLASH, 0, HTTP_SLASH.length)) {
                throw new IllegalArgumentException("request line: version "
                        + new String(line, start, length, StandardCharsets.ISO_8859_1)
                        + " (expected: HTTP/ in upper case, RFC 9112 2.3)");
            }
            return super.splitThirdWordInitialLine(line, start, length);
        }

        /**
         * The size a chunk-size line declares, {@code lineEnd} at its LF: hex digits, then optional whitespace (SP,
         * HTAB), then nothing or extensions ({@code ;...}), then CRLF. RFC 9112 7.1 allows the whitespace (BWS) only
         * before an extension; nginx takes it alone too ({@code "5 \r\n"}), and so does edge. -1 for a line
         * that is not one (Netty's decoder refuses it: 400): other bytes after the digits, blanks before them, a lone LF
         * at its end (a way to smuggle a request past a proxy in front), a size over 2^63 - 1 (malformed, as nginx
         * holds one its off_t cannot hold, not a body too large: RFC 9112 7.1 has recipients guard against overflow).
         */
        private static long chunkSize(ByteBuf buffer, int from, int lineEnd) {
            int end = lineEnd > from && buffer.getByte(lineEnd - 1) == '\r' ? lineEnd - 1 : -1;
            long size = 0;
            int at = from;
            for (int digit; at < end && (digit = Character.digit(buffer.getByte(at) & 0xff, 16)) >= 0; at++) {
                if (size > Long.MAX_VALUE >> 4) {
                    return -1; // no size, as nginx's off_t holds none
                }
                size = size << 4 | digit;
            }
            if (at == from || end < 0) {
                return -1;
            }
            while (at < end && (buffer.getByte(at) == ' ' || buffer.getByte(at) == '\t')) {
                at++;
            }
            return at == end || buffer.getByte(at) == ';' ? size : -1;
        }

        /**
         * Whether the line from {@code from} to its LF at {@code lineEnd} holds a CR that is not the one before that LF.
         * RFC 9112 2.2 lets a recipient refuse a bare CR or read it as SP; nginx refuses it in size lines and trailers,
         * and so does edge: a proxy in front may read it as a line end.
         */
        private static boolean hasBareCr(ByteBuf buffer, int from, int lineEnd) {
            return buffer.indexOf(from, contentEnd(buffer, from, lineEnd), (byte) '\r') >= 0;
        }

        /** Where the line from {@code from} to its LF at {@code lineEnd} ends but for its line end: its CR, or the LF. */
        private static int contentEnd(ByteBuf buffer, int from, int lineEnd) {
            return lineEnd > from && buffer.getByte(lineEnd - 1) == '\r' ? lineEnd - 1 : lineEnd;
        }

        /**
         * The first control character (below 0x20 but HTAB, or DEL) in the line from {@code from} to its LF at
         * {@code lineEnd}, its CR before that LF not counted; -1 for none.
         */
        private static int controlIn(ByteBuf buffer, int from, int lineEnd) {
            int end = contentEnd(buffer, from, lineEnd);
            for (int i = from; i < end; i++) {
                int b = buffer.getByte(i) & 0xff;
                if (b < 0x20 && b != '\t' || b == 0x7f) {
                    return b;
                }
            }
            return -1;
        }

        /**
         * What is wrong with the trailer field line from {@code from} to its LF at {@code lineEnd}, held to what a head's
         * field lines are (RFC 9112 5, 7.1.2): no obs-fold, a colon, a token before it with no blank, no control
         * character; null when nothing is. Trailers are dropped, but a line a head would not take is no field line,
         * and a proxy in front may have framed it otherwise.
         */
        private static String malformedField(ByteBuf buffer, int from, int lineEnd) {
            byte first = buffer.getByte(from);
            if (first == ' ' || first == '\t') {
                return "a line starting with a space or tab (expected: no obs-fold, RFC 9112 5.2)";
            }
            int control = controlIn(buffer, from, lineEnd);
            if (control >= 0) {
                return String.format(Locale.ROOT, "control character 0x%02x (expected: none, RFC 9110 5.5)", control);
            }
            int colon = buffer.indexOf(from, lineEnd, (byte) ':');
            if (colon < 0) {
                return "a line without a colon (expected: name \":\" value, RFC 9112 5)";
            }
            String name = buffer.toString(from, colon - from, StandardCharsets.ISO_8859_1);
            if (name.isEmpty() || HttpHeaderValidationUtil.validateToken(name) >= 0) {
                return "field name \"" + name + "\" (expected: a token with no blank before the colon, RFC 9112 5.1)";
            }
            return null;
        }

        /** A byte of a token (RFC 9110 5.6.2), as Netty's decoder holds field names to it. */
        private static boolean isTokenChar(int b) {
            return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b < 0x80 && b > ' '
                    && "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
        }

        private static String hex(int b) {
            return String.format(Locale.ROOT, "0x%02x", b);
        }

        /** What nginx's parser takes in a method: {@code A-Z}, {@code _} and {@code -}. */
        private static boolean isMethodChar(byte b) {
            return b >= 'A' && b <= 'Z' || b == '_' || b == '-';
        }

        /** Between {@code wordEnd} and {@code next}, where the next word starts, must be one SP. */
        private static void checkOneSpace(byte[] line, int wordEnd, int next, String word) {
            if (next == wordEnd + 1 && line[wordEnd] == ' ') {
                return;
            }
            StringBuilder sent = new StringBuilder();
            for (int i = wordEnd; i < next; i++) {
                sent.append(String.format(Locale.ROOT, " 0x%02x", line[i] & 0xff));
            }
            throw new IllegalArgumentException("request line: after the " + word + ":"
                    + (sent.length() == 0 ? " nothing" : sent.toString()) + " (expected: one 0x20)");
        }
    }

    private final class ResponseEncoder extends HttpResponseEncoder {

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse response) {
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(response); // a 100 Continue: the request's answer is still to come
            }
            HttpMethod method = methods.poll();
            if (method == null && decoder.inHead) {
                method = decoder.methodSoFar(); // an answer to a head that never ended (408)
            }
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(response);
        }
    }

    /**
     * Netty's stand-in for a request whose line could not be read (a full GET of {@code /bad-request}), with what was
     * sent of that line: the access log shows it, as nginx's shows a line it could not parse ({@code "GARBAGE"}, a TLS
     * handshake sent to a plain port as {@code "\x16\x03\x01..."}).
     */
    static final class UnreadRequest extends DefaultFullHttpRequest {

        private String sent;

        UnreadRequest() {
            super(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request", Unpooled.buffer(0));
        }

        /** What was sent of the line, one character a byte (ISO-8859-1), up to its end or {@value #MAX_SENT} bytes. */
        String sent() {
            return sent;
        }

        /** The most of an unread line kept: a line may be as long as the request-line limit, and is logged escaped. */
        static final int MAX_SENT = 1024;

        /** The line in {@code buffer} from {@code from} to {@code to}: after the empty lines, to its first CR or LF. */
        void sentFrom(ByteBuf buffer, int from, int to) {
            int start = afterEmptyLines(buffer, from, to);
            int end = start;
            while (end < to && end - start < MAX_SENT && buffer.getByte(end) != '\r' && buffer.getByte(end) != '\n') {
                end++;
            }
            sent = end > start ? buffer.toString(start, end - start, StandardCharsets.ISO_8859_1) : null;
        }
    }

    /**
     * Where the bytes of {@code buffer} from {@code from} to {@code to} start after the empty lines (CR and LF bytes)
     * before a request line, which Netty's decoder skips; {@code to} if they are all such.
     */
    private static int afterEmptyLines(ByteBuf buffer, int from, int to) {
        int at = from;
        while (at < to && (buffer.getByte(at) == '\r' || buffer.getByte(at) == '\n')) {
            at++;
        }
        return at;
    }

    /**
     * A request whose line named an HTTP/1.x above 1.1 (RFC 9110 2.5), or an HTTP/2 stream's ({@link Http2Connection}),
     * read and answered as HTTP/1.1; {@link #sentVersion} says what was sent.
     */
    static final class ReadAsHttp11 extends DefaultHttpRequest {

        private final HttpVersion sent;

        ReadAsHttp11(HttpVersion sent, HttpRequest read) {
            super(HttpVersion.HTTP_1_1, read.method(), read.uri(), read.headers());
            this.sent = sent;
        }
    }
}
