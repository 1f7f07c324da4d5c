package io.edge.core.http;

import io.edge.conf.ServerSettings;
import io.edge.core.tls.TlsContexts;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP/2 connection, as a connection of a listener marked http2 becomes once ALPN chose h2 ({@link Negotiation}),
 * or, on a plain one, once its first bytes were HTTP/2's client preface ({@link PriorKnowledge}, h2c):
 * <pre>
 *   ... SslHandler -> Http2FrameCodec (frames, HPACK, flow control, GOAWAY) -> Http2MultiplexHandler -> Http2Connection
 * </pre>
 * and each stream a child channel that serves its one request as an HTTP/1.1 connection serves one, by the same
 * handler ({@link HttpConnectionHandler}), so routing, files, FastCGI, caches, limits and the access log are the same:
 * <pre>
 *   RequestTimeouts -> Http2StreamFrameToHttpObjectCodec -> TokenFieldNames -> StreamRequests (read as HTTP/1.1, sent as HTTP/2.0)
 *     -> FileRegionReader (files in pieces, as DATA frames) -> HttpConnectionHandler
 * </pre>
 * A stream's answer carries no connection-specific field: Netty's codec drops them (RFC 9113 8.2.2). A stream the
 * client resets closes its channel, which ends its exchange as a client's close does on HTTP/1 (a FastCGI request
 * aborted, its backend freed). Bounded as nginx bounds it: {@code server.http2.max-concurrent-streams} streams at once,
 * the decoded header list by {@code limits.header-block} (one over it ends the connection: {@link HeaderBlockChecks}), its path by {@code limits.request-line} (414), and more than {@link
 * #RESETS_PER_WINDOW} resets in {@link #RESET_WINDOW_SECONDS} end the connection (Rapid Reset, CVE-2023-44487).
 *
 * <p>This handler keeps what the streams share: the connection's serial number and request count ({@code $connection},
 * {@code $connection_requests}), and the keep-alive wait: with no stream open for {@code timeouts.keep-alive} the
 * connection closes, as nginx's keepalive_timeout closes an idle HTTP/2 connection; the {@code
 * limits.keep-alive-requests}th stream closes it too ({@link #requestStarted}), and so does the client's FIN once no
 * stream is open, a stream whose request is still coming, or whose script's or backend's answer is awaited, reset at once
 * (nginx closes at once). A close (those, a reload's or a stop's drain) is Netty's graceful one:
 * GOAWAY, then the streams in flight finish before the connection closes.
 * A connection whose output stalls for {@code timeouts.write} is reset instead ({@link #userEventTriggered}).
 */
final class Http2Connection extends ReusableConnection implements StreamedConnection {

    /** What the access log, {@code $server_protocol} and CGI's SERVER_PROTOCOL say of a stream's request, as nginx. */
    static final HttpVersion HTTP_2 = new HttpVersion("HTTP", 2, 0, true);
    /** Resets a client may send in {@link #RESET_WINDOW_SECONDS} (Netty's default, named here for the documentation). */
    static final int RESETS_PER_WINDOW = 200;
    static final int RESET_WINDOW_SECONDS = 30;

    private static final Logger LOG = LoggerFactory.getLogger(Http2Connection.class);
    /**
     * The fields Netty's codec adds to a request of its own (the stream's id, scheme, path), which no script sees; a
     * stream error closes the stream with a reset of its code, PROTOCOL_ERROR where none, not the CANCEL a close sends.
     */
    private static final List<AsciiString> CODEC_FIELDS = Arrays.stream(HttpConversionUtil.ExtensionHeaderNames.values())
            .map(HttpConversionUtil.ExtensionHeaderNames::text).toList();

    private final long serial = HttpConnectionHandler.nextSerial();
    private final long idleNanos;
    private final ServerSettings.HttpLimits limits;
    private final HttpServerContext server;
    private ChannelHandlerContext ctx;
    private Http2FrameCodec codec;
    private long requestsStarted;
    /** The streams open. */
    private final Set<Http2StreamChannel> streams = new HashSet<>();
    private ScheduledFuture<?> idleClose;
    /** The client half-closed the connection (sent its FIN): it opens no stream more. */
    private boolean inputClosed;

    private Http2Connection(Duration idle, ServerSettings.HttpLimits limits, HttpServerContext server,
            IdleConnections idleList) {
        this.idleNanos = idle.toNanos();
        this.limits = limits;
        this.server = server;
        this.idleList = idleList;
    }

    /**
     * Makes {@code pipeline}'s connection, whose client chose h2 (or began with the preface: {@code endsTls} false),
     * an HTTP/2 one: its HTTP/1 handlers already gone, the frame codec and the streams' handlers go last.
     */
    static void addTo(ChannelPipeline pipeline, HttpServerContext server, ServerSettings settings, boolean endsTls) {
        ServerSettings.HttpLimits limits = settings.limits();
        ServerSettings.HttpTimeouts timeouts = settings.timeouts();
        // keep-alive = 0 closes HTTP/1 connections after each request; a stream is that already, and the connection
        // waits for its first one as for a request head
        Http2Connection connection = new Http2Connection(timeouts.keepAlive().isZero() ? timeouts.requestHead()
                : timeouts.keepAlive(), limits, server, server.idleConnections(pipeline.channel().eventLoop()));
        Http2Settings offered = Http2Settings.defaultSettings()
                .maxConcurrentStreams(settings.tls().http2().maxConcurrentStreams())
                .maxHeaderListSize(limits.headerBlock());
        connection.codec = new CodecBuilder(connection)
                .initialSettings(offered)
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(RESETS_PER_WINDOW, RESET_WINDOW_SECONDS)
                // a drain waits for the streams in flight, as an HTTP/1 drain waits for the running exchange
                .gracefulShutdownTimeoutMillis(-1)
                .build();
        pipeline.addLast("h2", connection.codec);
        pipeline.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                connection.streamOpened(stream);
                RequestTimeouts streamTimeouts = new RequestTimeouts(timeouts.requestHead(), timeouts.body(),
                        timeouts.keepAlive());
                ChannelPipeline streamPipeline = stream.pipeline();
                streamPipeline.addLast("timeouts", streamTimeouts);
                streamPipeline.addLast("head-check", new RequestHeadCheck());
                streamPipeline.addLast("http", new Http2StreamFrameToHttpObjectCodec(true));
                streamPipeline.addLast("field-names", TokenFieldNames.INSTANCE);
                streamPipeline.addLast("requests", new StreamRequests(HTTP_2, limits.requestLine(), CODEC_FIELDS,
                        Http2Exception.class, false, cause -> false,
                        (ctx, cause) -> ctx.writeAndFlush(new DefaultHttp2ResetFrame(
                                cause instanceof Http2Exception streamError ? streamError.error()
                                        : Http2Error.PROTOCOL_ERROR)).addListener(ChannelFutureListener.CLOSE)));
                streamPipeline.addLast("file-regions", TlsContexts.streamFileRegions());
                streamPipeline.addLast("exchanges", new HttpConnectionHandler(server, streamTimeouts,
                        new LingeringClose(Duration.ZERO, Duration.ZERO), limit -> false, endsTls, connection));
            }
        }));
        pipeline.addLast("h2-connection", connection);
    }

    @Override
    public long serial() {
        return serial;
    }

    /**
     * A stream's request started: counted for {@code $connection_requests}, and against {@code
     * limits.keep-alive-requests}. The last one the connection carries closes it as nginx's keepalive_requests does an
     * HTTP/2 connection: GOAWAY at once, the streams in flight finishing first (a client opens its next ones on a new
     * connection).
     */
    @Override
    public void requestStarted() {
        requestsStarted++;
        if (!limits.carriesAnother(requestsStarted)) {
            ctx.close();
        }
    }

    @Override
    public long requestsStarted() {
        return requestsStarted;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        waitIdle();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (idleClose != null) {
            idleClose.cancel(false);
        }
        notIdle();
        ctx.fireChannelInactive();
    }

    /** GOAWAY first, as at the end of the keep-alive wait. */
    @Override
    ChannelFuture closeIdle() {
        notIdle();
        return ctx.close();
    }

    /**
     * A client's breach of the protocol, which the frame codec has met already (GOAWAY and the close, as nginx), or a
     * failed read of a client gone: no stack trace at the pipeline's tail, which any client could write into the error
     * log at will.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof Http2Exception)) {
            ctx.close();
        }
    }

    /**
     * The write timeout's event, from the connection's idle handler before the frame codec (kept from HTTP/1's
     * pipeline): no frame's write completed for {@code timeouts.write}. A connection that owes output, in its socket's
     * queue or held by flow control for a stream whose window (or the connection's) the client does not open, is
     * reset, its streams closed, their files and backends freed, as nginx's send_timeout ends an HTTP/2 connection.
     * One that owes none, a script still thinking or no stream open, is left alone. Only a repeated event counts: Netty
     * sends one only when the socket's queue did not move since the one before (any move of flow-controlled data
     * passes through that queue), so a reader that stopped is reset one to two timeouts after its last completed
     * write, as on HTTP/1.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent idle) {
            if (!idle.isFirst() && owesOutput()) {
                LOG.debug("resetting {}: write stalled", ctx.channel().remoteAddress());
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                // closed below the frame codec, whose own close is the graceful one that waits for the streams
                ctx.pipeline().context(codec).close();
            }
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent) {
            // The client's FIN: it opens no stream more, so the connection closes once the streams open are answered
            // (at once if none is: no keep-alive wait for a client that cannot send), GOAWAY first. nginx closes at
            // once, those too.
            inputClosed = true;
            if (streams.isEmpty()) {
                ctx.close();
            }
            // A stream whose request is still coming (a body, trailers) can have no more of it, and one whose exchange
            // ends with its client (a script's or a backend's answer awaited) has its client gone: reset (CANCEL), the
            // exchange ended as a client's reset ends it (499, a backend's request aborted), as HTTP/1's is at the
            // client's FIN, not left waiting for timeouts.body, or for an answer nobody reads, with its backend held
            for (Http2StreamChannel stream : List.copyOf(streams)) {
                Http2Stream.State state = stream.stream().state();
                HttpConnectionHandler exchanges = stream.pipeline().get(HttpConnectionHandler.class);
                if (state == Http2Stream.State.OPEN || state == Http2Stream.State.HALF_CLOSED_LOCAL
                        || exchanges != null && exchanges.endsWithItsClient()) {
                    stream.close();
                }
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    private boolean owesOutput() {
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        if (out != null && out.totalPendingWriteBytes() > 0) {
            return true;
        }
        Http2RemoteFlowController flow = codec.connection().remote().flowController();
        try { // the first stream with data held, if any
            return codec.connection().forEachActiveStream(stream -> !flow.hasFlowControlled(stream)) != null;
        } catch (Http2Exception e) { // the visitor throws none
            throw new IllegalStateException(e);
        }
    }

    private void streamOpened(Http2StreamChannel stream) {
        streams.add(stream);
        notIdle();
        if (idleClose != null) {
            idleClose.cancel(false);
            idleClose = null;
        }
        stream.closeFuture().addListener(closed -> {
            streams.remove(stream);
            if (streams.isEmpty()) {
                if (inputClosed) {
                    ctx.close();
                } else {
                    waitIdle();
                }
            }
        });
    }

    /**
     * No stream open: the keep-alive wait starts, and one that has carried a stream is listed among its loop's idle
     * connections, which {@code max-connections} may close to make room as it closes HTTP/1's kept-alive ones (a new one
     * is not: its first HEADERS may be in the socket, not read yet).
     */
    private void waitIdle() {
        if (ctx.channel().isActive()) {
            if (requestsStarted > 0 && !idleLinked) {
                idleList.add(this, ctx.executor().ticker().nanoTime());
            }
            idleClose = ctx.executor().schedule(() -> {
                if (streams.isEmpty()) {
                    ctx.close(); // GOAWAY first (Netty's graceful close)
                }
            }, idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Netty's server frame codec with {@link HeaderBlockChecks} around its decoder: as {@code forServer()} builds it,
     * through the constructor Netty keeps for a builder that changes what it builds.
     */
    private static final class CodecBuilder extends Http2FrameCodecBuilder {

        private final Http2Connection connection;

        CodecBuilder(Http2Connection connection) {
            this.connection = connection;
            server(true);
        }

        @Override
        protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                Http2Settings initialSettings) {
            return super.build(connection.new HeaderBlockChecks(decoder), encoder, initialSettings);
        }
    }

    /**
     * Sees the header blocks the frame codec refuses before any stream is opened for them, which Netty answers itself
     * and logs nowhere, and logs them as nginx does (RFC 9113 8.2.2, 8.3):
     * <ul>
     * <li>a malformed one (an uppercase field name, a connection-specific field: Connection, Keep-Alive,
     *     Proxy-Connection, Transfer-Encoding, Upgrade, a TE other than "trailers"; a pseudo-header unknown, repeated
     *     or after a field): the stream is reset PROTOCOL_ERROR, as nginx resets it ("client sent invalid header
     *     name"), logged in the error log and as a {@code "-" 400} in the access log, as a malformed request that
     *     reaches a stream is; the connection serves on.
     * <li>one that decodes past {@code limits.header-block}: it ends the connection with a GOAWAY ENHANCE_YOUR_CALM,
     *     no answer and no reset before it, as nginx 1.22 ends it ("client sent too large header"): HPACK lets a few
     *     bytes name a field sent before, so a client that sends lists that decode past the limit makes edge decode
     *     far more than it sends (an HPACK bomb). Logged in the error log, and as {@code "-" 000} in the access log,
     *     as nginx 1.22 logs it (no answer went out; an HTTP/1 head past it is answered 431).
     * </ul>
     */
    private final class HeaderBlockChecks extends DecoratingHttp2ConnectionDecoder {

        /**
         * The connection was ended here: what the client sent after is read no more, as the frame reader reads no more
         * after a connection error of its own (one thrown here, after it, leaves it reading the rest of the read:
         * more bombs decoded, more streams opened and served on a connection closed). Nor once it is closed by a
         * connection error the codec met writing (the resets it sent past {@link #RESETS_PER_WINDOW}): the rest of
         * a burst of malformed blocks was refused and logged one by one, after the close.
         */
        private boolean ended;

        HeaderBlockChecks(Http2ConnectionDecoder decoder) {
            super(decoder);
        }

        @Override
        public void decodeFrame(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Http2Exception {
            if (ended || !ctx.channel().isActive()) { // or by the codec itself, from a write (too many resets)
                in.skipBytes(in.readableBytes());
                return;
            }
            try {
                super.decodeFrame(ctx, in, out);
            } catch (Http2Exception.StreamException refused) {
                boolean tooLarge = refused instanceof Http2Exception.HeaderListSizeException size && size.duringDecode();
                if (!tooLarge && refused.error() != Http2Error.PROTOCOL_ERROR
                        || connection().streamMayHaveExisted(refused.streamId())) {
                    // of a stream opened before, open (a body not its content-length: the stream's own handlers') or
                    // closed (trailers, HEADERS again): its request was logged, and the codec resets it
                    throw refused;
                }
                InetSocketAddress remote = ProxyProtocol.peer(ctx.channel());
                String client = "HTTP/2 client " + (remote == null || remote.getAddress() == null ? "-"
                        : NetUtil.toAddressString(remote.getAddress())) + " sent ";
                ThrottledWarnings log = server.refusedHeaders();
                if (!tooLarge) {
                    log.warn(Http2Exception.StreamException.class, client + "an invalid header block on stream "
                            + refused.streamId() + ", reset (PROTOCOL_ERROR): " + refused.getMessage());
                    logRefused(remote, HttpResponseStatus.BAD_REQUEST.code());
                } else {
                    // nginx 1.22 ends the connection at the first ("client sent too large header"): a GOAWAY
                    // ENHANCE_YOUR_CALM, no answer, no reset; an HPACK bomb (a large entry of the dynamic table named
                    // again and again, a few bytes each) is not read on
                    log.warn(Http2Exception.HeaderListSizeException.class, client + "a header list past"
                            + " server.limits.header-block (" + limits.headerBlock() + " bytes decoded) on stream "
                            + refused.streamId() + "; connection closed (GOAWAY ENHANCE_YOUR_CALM)");
                    logRefused(remote, 0); // "-" 000, as nginx's: no answer goes out
                    ended = true;
                    in.skipBytes(in.readableBytes());
                    throw Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
                            "a header list past %d bytes", limits.headerBlock());
                }
                throw refused;
            }
        }

        /**
         * The access log's line of a header block no stream was opened for: {@code "-"}, as nginx's, with {@code status}
         * (0: none went out).
         */
        private void logRefused(InetSocketAddress remote, int status) {
            server.accessLog().log(remote, "-", status, 0, null, null, System.nanoTime(), null, null,
                    new AccessLog.Unanswered(serial, requestsStarted + 1));
        }
    }

    /**
     * Stands before Netty's codec in a stream's pipeline for the HEADERS that open it. Of HEADERS that also end the
     * stream (a GET) the codec makes one full request, allocating its content before it makes the request line, and it
     * keeps that buffer where the line cannot be made (no {@code :method} or {@code :path}, a blank in either): a leak
     * any client could make at will. Such HEADERS go to {@link StreamRequests#exceptionCaught} as the codec's own
     * refusal of a malformed request does (a 400), never to the codec. HEADERS after the first (trailers) pass as they
     * are.
     */
    static final class RequestHeadCheck extends ChannelInboundHandlerAdapter {

        private boolean headRead;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame head && !headRead) {
                headRead = true;
                String refused = refusal(head.headers());
                if (refused != null) {
                    ctx.fireExceptionCaught(new DecoderException(refused));
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }

        /** Why the codec could make no request line of {@code headers}, as {@code HttpConversionUtil} makes it; or null. */
        private static String refusal(Http2Headers headers) {
            CharSequence method = headers.method();
            CharSequence target = HttpMethod.CONNECT.asciiName().contentEquals(method) ? headers.authority()
                    : headers.path();
            if (method == null || target == null) {
                return method == null ? "no :method" : "no request target (:path, or a CONNECT's :authority)";
            }
            try {
                if (HttpUtil.isEncodingSafeStartLineToken(HttpMethod.valueOf(method.toString()).asciiName())
                        && HttpUtil.isEncodingSafeStartLineToken(target)) {
                    return null;
                }
            } catch (IllegalArgumentException notAMethod) {
                // a blank or control character in it, as below
            }
            return "no request line of \"" + method + " " + target + "\"";
        }
    }

    /**
     * Put before the HTTP/1 handlers of a plain connection of a listener marked http2 (after a PROXY protocol
     * header's handlers), as nginx since 1.25.1 reads a connection of {@code listen 80 http2}: one whose first bytes
     * are HTTP/2's client preface (RFC 9113 3.4), which a client with prior knowledge sends (HAProxy's {@code proto
     * h2}, Envoy, gRPC, {@code curl --http2-prior-knowledge}, a load balancer that ended TLS), is turned to HTTP/2 by
     * {@code toHttp2}; any other stays HTTP/1.x as built, decided at its first byte that is not the preface's, so a
     * request waits for nothing here ("PRI * HTTP/1.1" too: HTTP/1's 400). No {@code Upgrade: h2c} (RFC 7540 3.2,
     * gone from RFC 9113): a request asking for it is answered as HTTP/1.1, as nginx answers it. What was read goes on
     * to whichever handlers are there then, the preface with it (the frame codec reads it). Put after HTTP/1's request
     * timeouts, which see the preface's first bytes as a head begun: one that sends no more of it by {@code
     * timeouts.request-head} is answered 408 and logged {@code "-" 408}, as an HTTP/1 head that stops is (nginx logs
     * "client timed out" and sends GOAWAY); a connection that closes with part of it sent closes quietly.
     */
    static final class PriorKnowledge extends ByteToMessageDecoder {

        private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

        private final Consumer<ChannelPipeline> toHttp2;

        PriorKnowledge(Consumer<ChannelPipeline> toHttp2) {
            this.toHttp2 = toHttp2;
        }

        /** Reads nothing: once it is known, this handler leaves, and Netty's decoder hands on what it holds. */
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            int known = Math.min(in.readableBytes(), PREFACE.length);
            for (int i = 0; i < known; i++) {
                if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
                    ctx.pipeline().remove(this);
                    return;
                }
            }
            if (known == PREFACE.length) {
                toHttp2.accept(ctx.pipeline());
                ctx.pipeline().remove(this);
            }
        }
    }

    /**
     * Put before the HTTP/1 handlers of a connection of a listener marked http2: once the handshake is done, where the
     * client chose h2 {@code toHttp2} turns the connection to HTTP/2; else (http/1.1, or no ALPN) it stays as it was
     * built. What the client sent meanwhile is held and handed on after, to whichever handlers are there then.
     */
    static final class Negotiation extends ChannelInboundHandlerAdapter {

        private final Consumer<ChannelPipeline> toHttp2;
        private final List<Object> held = new ArrayList<>(1);

        Negotiation(Consumer<ChannelPipeline> toHttp2) {
            this.toHttp2 = toHttp2;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            held.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
                SslHandler tls = ctx.pipeline().get(SslHandler.class);
                if (tls != null && ApplicationProtocolNames.HTTP_2.equals(tls.applicationProtocol())) {
                    toHttp2.accept(ctx.pipeline());
                }
                ctx.fireUserEventTriggered(evt);
                held.forEach(ctx::fireChannelRead);
                held.clear();
                ctx.pipeline().remove(this);
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            held.forEach(io.netty.util.ReferenceCountUtil::release); // the connection closed before its handshake ended
            held.clear();
        }
    }
}
