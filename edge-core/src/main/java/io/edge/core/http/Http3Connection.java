package io.edge.core.http;

import io.edge.conf.ServerSettings;
import io.edge.core.tls.TlsContexts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http3.DefaultHttp3GoAwayFrame;
import io.netty.handler.codec.http3.DefaultHttp3SettingsFrame;
import io.netty.handler.codec.http3.DefaultHttp3UnknownFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3Exception;
import io.netty.handler.codec.http3.Http3FrameToHttpObjectCodec;
import io.netty.handler.codec.http3.Http3HeadersValidationException;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.http3.Http3Settings;
import io.netty.handler.codec.http3.HttpConversionUtil;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionIdGenerator;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicTokenHandler;
import io.netty.handler.codec.quic.QuicTransportParameters;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP/3 connection (RFC 9114): a QUIC connection to the UDP socket of a listener marked quic, whose handshake
 * chose its site's certificate by SNI ({@link TlsContexts#quicContext}), the name noted for {@code $ssl_server_name}
 * ({@link TlsContexts#quicEvents}):
 * <pre>
 *   UDP socket -> QUIC codec (quiche: packets, TLS 1.3, streams, flow control, idle timeout)
 *     -> QuicChannel: TlsEvents (the SNI name) -> Http3ServerConnectionHandler (control and QPACK streams, SETTINGS,
 *       GOAWAY) -> Http3Connection
 * </pre>
 * and each request stream a child channel that serves its one request as an HTTP/2 stream's does
 * ({@link Http2Connection}), by the same handler ({@link HttpConnectionHandler}), so routing, files, FastCGI, caches,
 * limits and the access log are the same:
 * <pre>
 *   StreamWriteTimeout -> RequestTimeouts -> Http3FrameToHttpObjectCodec -> TokenFieldNames -> ContentFromZero
 *     -> StreamRequests (read as HTTP/1.1, sent as HTTP/3.0)
 *     -> FileRegionReader (files in pieces, through QUIC's cipher: no sendfile) -> HttpConnectionHandler
 * </pre>
 * A file goes in pieces as the stream's channel is writable (QUIC's flow control of the stream and the
 * connection), as on HTTP/2; one whose answer makes no way for {@code timeouts.write} is reset
 * ({@link StreamWriteTimeout}). A stream the client resets (or stops reading: STOP_SENDING) closes its channel, which
 * ends its exchange as a client's close does on HTTP/1: its file released, a FastCGI request aborted.
 *
 * <p>This handler keeps what the streams share: the connection's serial number and request count ({@code
 * $connection}, {@code $connection_requests}), and its close: the {@code limits.keep-alive-requests}th stream, a
 * reload that drops the listener, or a stop send GOAWAY (naming the first stream not taken), and the connection
 * closes (H3_NO_ERROR) once the streams in flight are done, as an HTTP/2 connection's graceful close. An idle one is
 * closed by QUIC's idle timeout, {@code timeouts.keep-alive} (one with a request stream open is kept alive:
 * {@link #scheduleKeepAlive}), or sooner to make room at {@code max-connections}, as an
 * HTTP/2 one: one with no stream open once it carried a request is listed among its loop's idle connections
 * ({@link #waitIdle}); one whose handshake is not done within {@code timeouts.request-head} is closed then
 * ({@link #handlerAdded}).
 *
 * <pre>
 *   HANDSHAKE --channelActive--> OPEN --drain()--> GOAWAY SENT --last stream closed--> CLOSED
 *     \ \__ request-head passed, drain() ___________________________________________/  /
 *      \_______________________ idle timeout / client's close _________________________/
 * </pre>
 */
final class Http3Connection extends ReusableConnection implements StreamedConnection {

    /** What the access log, {@code $server_protocol} and CGI's SERVER_PROTOCOL say of a stream's request, as nginx. */
    static final HttpVersion HTTP_3 = new HttpVersion("HTTP", 3, 0, true);
    /** RFC 9114 8.1: no error, the code of a graceful close. */
    private static final int H3_NO_ERROR = 0x100;
    /** RFC 9000 20.1: the server refuses a new connection (a transport error, before HTTP/3 is spoken). */
    private static final int CONNECTION_REFUSED = 0x2;
    /** RFC 9000 20.1: a close that is no error of either side's (a transport one: a handshake not done speaks no HTTP/3). */
    private static final int NO_ERROR = 0x0;
    /**
     * RFC 9114 7.2.8: a reserved frame type (0x1f * N + 0x21), sent to be ignored; N = 2, Netty taking none under 0x40.
     */
    private static final long RESERVED_FRAME_TYPE = 0x1f * 2 + 0x21;
    /**
     * The least time between two keep-alive frames: a client offering a tiny max_idle_timeout (QUIC makes the timeout
     * in force at least three probe timeouts anyway) would otherwise have a frame sent every fraction of a millisecond
     * for as long as its request is open.
     */
    private static final long MIN_KEEP_ALIVE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Bytes a client may have in flight on the connection, and on one stream, before they are read. */
    private static final long CONNECTION_WINDOW = 16L * 1024 * 1024;
    private static final long STREAM_WINDOW = 1024L * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(Http3Connection.class);
    /** The fields Netty's codec adds to a request of its own (the stream's id, scheme, path), which no script sees. */
    private static final List<AsciiString> CODEC_FIELDS = Arrays.stream(HttpConversionUtil.ExtensionHeaderNames.values())
            .map(HttpConversionUtil.ExtensionHeaderNames::text).toList();

    private final long serial = HttpConnectionHandler.nextSerial();
    private final ServerSettings.HttpLimits limits;
    /** How long the QUIC handshake may take: {@code timeouts.request-head}, as TLS's on TCP and nginx's. */
    private final Duration handshakeTimeout;
    /** QUIC's idle timeout as the connection's socket offers it: {@code timeouts.keep-alive}, as bound. */
    private final long idleNanos;
    private ChannelHandlerContext ctx;
    /** Sends the next keep-alive frame ({@link #keepAlive}) while a request stream is open; null while none is. */
    private ScheduledFuture<?> keepAliveTimer;
    /** Closes the connection if its handshake is not done in time; null once it is, or the connection closed. */
    private ScheduledFuture<?> handshakeTimer;
    private long requestsStarted;
    /** The request streams open. */
    private final Set<QuicStreamChannel> streams = new HashSet<>();
    /** The highest request stream id opened, -1: none yet. */
    private long lastStreamId = -1;
    /** GOAWAY sent: no stream more is taken, and the connection closes once the open ones are done. */
    private boolean draining;

    private Http3Connection(ServerSettings.HttpLimits limits, Duration handshakeTimeout, Duration idle,
            IdleConnections idleList) {
        this.limits = limits;
        this.handshakeTimeout = handshakeTimeout;
        this.idleNanos = idle.toNanos();
        this.idleList = idleList;
    }

    /**
     * The QUIC codec of the UDP socket of the listener of {@code listenAddress}: its handshakes end TLS by the
     * certificate of the site the SNI name picks, in the configuration in force at each handshake (a reload's new
     * certificates serve new connections), and each connection it admits ({@link HttpServerContext#admit}) becomes an
     * HTTP/3 one. Its transport parameters, {@code settings}' (kept until the socket closes: a reload's new ones serve
     * a socket bound after it): {@code server.http3.max-concurrent-streams} request streams at once, QUIC's idle
     * timeout {@code timeouts.keep-alive} (the request-head timeout where keep-alive is 0). No Retry (nginx's
     * quic_retry off, its default): a client's address is not proved before its handshake.
     */
    static ChannelHandler quicCodec(HttpServerContext server, InetSocketAddress listenAddress,
            ServerSettings settings) {
        ServerSettings.HttpTimeouts timeouts = settings.timeouts();
        Duration idle = timeouts.keepAlive().isZero() ? timeouts.requestHead() : timeouts.keepAlive();
        // Netty's connection id signer seeds its key from SecureRandom (a read of /dev/urandom) at its first id: made
        // here, off the event loops, not at the first client's handshake on one
        QuicConnectionIdGenerator.signGenerator().newId(java.nio.ByteBuffer.allocate(Quic.MAX_CONN_ID_LEN),
                Quic.MAX_CONN_ID_LEN);
        return Http3.newQuicServerCodecBuilder()
                .sslContext(QuicSslContextBuilder.buildForServerWithSni(
                        serverName -> server.tls().quicContext(listenAddress, serverName)))
                .maxIdleTimeout(Math.max(1, idle.toMillis()), TimeUnit.MILLISECONDS)
                .initialMaxData(CONNECTION_WINDOW)
                .initialMaxStreamDataBidirectionalRemote(STREAM_WINDOW)
                .initialMaxStreamDataBidirectionalLocal(STREAM_WINDOW)
                .initialMaxStreamsBidirectional(settings.tls().http3().maxConcurrentStreams())
                .tokenHandler(NoRetry.INSTANCE)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel quic) {
                        if (!server.admitQuic(quic)) {
                            LOG.debug("refusing QUIC {}: draining, its listener dropped by a reload, or at "
                                    + "max-connections", quic.remoteSocketAddress());
                            // once its first packet is read: a close within it frees it before a packet is sent
                            quic.eventLoop().execute(() -> refuse(quic));
                            return;
                        }
                        addTo(quic.pipeline(), server, server.settings(), idle);
                    }
                })
                .build();
    }

    /** Closes {@code quic}, not served (CONNECTION_REFUSED, a transport error: no HTTP/3 was spoken). On its loop. */
    static void refuse(Channel quic) {
        ((QuicChannel) quic).close(false, CONNECTION_REFUSED, Unpooled.EMPTY_BUFFER);
    }

    /** Makes {@code pipeline}'s QUIC connection, whose idle timeout its socket set to {@code idle}, an HTTP/3 one. */
    private static void addTo(ChannelPipeline pipeline, HttpServerContext server, ServerSettings settings,
            Duration idle) {
        ServerSettings.HttpLimits limits = settings.limits();
        ServerSettings.HttpTimeouts timeouts = settings.timeouts();
        Http3Connection connection = new Http3Connection(limits, timeouts.requestHead(), idle,
                server.idleConnections(pipeline.channel().eventLoop()));
        // the decoded field section, as limits.header-block bounds an HTTP/1 head and an HTTP/2 header list
        DefaultHttp3SettingsFrame offered = new DefaultHttp3SettingsFrame(Http3Settings.defaultSettings()
                .maxFieldSectionSize(limits.headerBlock()));
        ChannelHandler requestStreams = new ChannelInitializer<QuicStreamChannel>() {
            @Override
            protected void initChannel(QuicStreamChannel stream) {
                if (!connection.streamOpened(stream)) {
                    return;
                }
                RequestTimeouts streamTimeouts = new RequestTimeouts(timeouts.requestHead(), timeouts.body(),
                        timeouts.keepAlive());
                ChannelPipeline streamPipeline = stream.pipeline();
                streamPipeline.addLast("write-timeout", new StreamWriteTimeout(timeouts.write()));
                streamPipeline.addLast("timeouts", streamTimeouts);
                streamPipeline.addLast("http", new Http3FrameToHttpObjectCodec(true));
                streamPipeline.addLast("field-names", TokenFieldNames.INSTANCE);
                streamPipeline.addLast("content-from-zero", new ContentFromZero());
                streamPipeline.addLast("requests", new StreamRequests(HTTP_3, limits.requestLine(), CODEC_FIELDS,
                        Http3Exception.class, true, Http3HeadersValidationException.class::isInstance,
                        (ctx, cause) -> {
                            LOG.debug("HTTP/3 stream {}: {}", ctx.channel(), cause.toString());
                            ctx.close(); // a reset by the client; a body past its content-length: reset
                        }));
                streamPipeline.addLast("file-regions", TlsContexts.streamFileRegions());
                streamPipeline.addLast("exchanges", new HttpConnectionHandler(server, streamTimeouts,
                        new LingeringClose(Duration.ZERO, Duration.ZERO), limit -> false, true, connection));
            }
        };
        pipeline.addLast("tls-events", TlsContexts.quicEvents());
        // QPACK's dynamic table off (nginx's http3 offers one; Netty's encoder uses none either way)
        pipeline.addLast("h3", new Http3ServerConnectionHandler(requestStreams, null, null, offered, true));
        pipeline.addLast("h3-connection", connection);
    }

    @Override
    public long serial() {
        return serial;
    }

    /**
     * As an HTTP/2 connection's: the {@code limits.keep-alive-requests}th stream sends GOAWAY, the streams in flight
     * finishing first.
     */
    @Override
    public void requestStarted() {
        requestsStarted++;
        if (!limits.carriesAnother(requestsStarted)) {
            drain();
        }
    }

    @Override
    public long requestsStarted() {
        return requestsStarted;
    }

    /**
     * Added as the connection's first packet is read, before its handshake is done: a client that stalls in it (or
     * sends one Initial and goes) would hold its slot of {@code max-connections} until QUIC's idle timeout, {@code
     * timeouts.keep-alive}. So the handshake is bounded by {@code timeouts.request-head}, as the TLS handshake on TCP
     * is and as nginx bounds a QUIC one (its handshake_timeout is client_header_timeout); at its end the connection
     * closes (CONNECTION_CLOSE, NO_ERROR: the client is told, not left to its own timeout).
     */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (!ctx.channel().isActive()) {
            handshakeTimer = ctx.executor().schedule(this::handshakeTimedOut, handshakeTimeout.toNanos(),
                    TimeUnit.NANOSECONDS);
            ctx.channel().closeFuture().addListener(closed -> handshakeDone());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        notIdle();
        stopKeepAlive();
        ctx.fireChannelInactive();
    }

    /** GOAWAY first, as at a drain; no stream is open, so the close follows at once. */
    @Override
    ChannelFuture closeIdle() {
        drain();
        return ctx.channel().closeFuture();
    }

    /** The handshake is done: QUIC's channel is active from then on. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        handshakeDone();
        ctx.fireChannelActive();
    }

    private void handshakeDone() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
            handshakeTimer = null;
        }
    }

    private void handshakeTimedOut() {
        handshakeTimer = null;
        QuicChannel quic = (QuicChannel) ctx.channel();
        if (quic.isOpen() && !quic.isActive()) {
            LOG.debug("closing QUIC {}: its handshake not done within timeouts.request-head",
                    quic.remoteSocketAddress());
            quic.close(false, NO_ERROR, Unpooled.EMPTY_BUFFER);
        }
    }

    /**
     * A client's breach of the protocol, which Netty's handlers met already (the connection closed with its error
     * code), or a failed read: no stack trace at the pipeline's tail, which any client could write at will.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("HTTP/3 connection {}: {}", ((QuicChannel) ctx.channel()).remoteSocketAddress(), cause.toString());
        if (!(cause instanceof Http3Exception)) {
            ctx.close();
        }
    }

    /** Whether {@code stream} is served: one the client opens after GOAWAY is refused (H3_REQUEST_REJECTED). */
    private boolean streamOpened(QuicStreamChannel stream) {
        if (draining) {
            stream.shutdown(Http3ErrorCode.H3_REQUEST_REJECTED.code()).addListener(done -> stream.close());
            return false;
        }
        streams.add(stream);
        notIdle();
        if (keepAliveTimer == null) {
            scheduleKeepAlive();
        }
        lastStreamId = Math.max(lastStreamId, stream.streamId());
        stream.closeFuture().addListener(closed -> {
            streams.remove(stream);
            if (streams.isEmpty()) {
                stopKeepAlive();
                if (draining) {
                    closeConnection();
                } else {
                    waitIdle();
                }
            }
        });
        return true;
    }

    /**
     * No stream open: one that has carried a request is listed among its loop's idle connections, which {@code
     * max-connections} may close to make room as it closes HTTP/1's kept-alive ones and HTTP/2's (a new one is not:
     * its first request may be on its way). QUIC's idle timeout closes it otherwise.
     */
    private void waitIdle() {
        if (ctx.channel().isActive() && requestsStarted > 0 && !idleLinked) {
            idleList.add(this, ctx.executor().ticker().nanoTime());
        }
    }

    /**
     * A request stream is open: the connection outlives QUIC's idle timeout while its answer is awaited (a script
     * silent before its first byte, a body that comes slowly), as HTTP/1.1's and HTTP/2's keep-alive timeout never
     * cuts a request in progress; the request's own timeouts (body, a backend's read, write) bound it still. Netty's
     * QUIC has no PING to send, so a frame of a reserved type goes on the control stream, which the client ignores
     * (RFC 9114 7.2.8; Chrome pings while streams are open for the same end), every third of the idle timeout in force
     * (the lesser of ours and the client's; a third, not a half, leaves room for a busy loop's late timer):
     * ack-eliciting, it restarts both ends' idle timers.
     */
    private void scheduleKeepAlive() {
        QuicTransportParameters client = ((QuicChannel) ctx.channel()).peerTransportParameters();
        long clientIdleMillis = client == null ? 0 : client.maxIdleTimeout(); // 0: none
        long inForce = clientIdleMillis > 0 ? Math.min(idleNanos, TimeUnit.MILLISECONDS.toNanos(clientIdleMillis))
                : idleNanos;
        keepAliveTimer = ctx.executor().schedule(this::keepAlive, Math.max(inForce / 3, MIN_KEEP_ALIVE_NANOS),
                TimeUnit.NANOSECONDS);
    }

    private void keepAlive() {
        keepAliveTimer = null;
        if (streams.isEmpty() || !ctx.channel().isActive()) {
            return;
        }
        QuicStreamChannel control = Http3.getLocalControlStream(ctx.channel());
        if (control != null) {
            control.writeAndFlush(new DefaultHttp3UnknownFrame(RESERVED_FRAME_TYPE, Unpooled.EMPTY_BUFFER));
        }
        scheduleKeepAlive();
    }

    private void stopKeepAlive() {
        if (keepAliveTimer != null) {
            keepAliveTimer.cancel(false);
            keepAliveTimer = null;
        }
    }

    /**
     * GOAWAY, naming the first request stream not taken (RFC 9114 5.2), then the close once the streams open are
     * done (at once where none is). A connection whose handshake is not done yet (no stream can be open) closes at
     * once, as an idle HTTP/1 connection at a drain: left alone, one whose client went away mid-handshake would hold
     * the drain until its handshake timeout ({@code timeouts.request-head}) or the drain timeout. On the
     * connection's loop; again, nothing more.
     */
    void drain() {
        if (draining) {
            return;
        }
        draining = true;
        notIdle();
        if (!ctx.channel().isActive()) {
            closeConnection();
            return;
        }
        QuicStreamChannel control = Http3.getLocalControlStream(ctx.channel());
        if (control != null) {
            control.writeAndFlush(new DefaultHttp3GoAwayFrame(lastStreamId < 0 ? 0 : lastStreamId + 4));
        }
        if (streams.isEmpty()) {
            closeConnection();
        }
    }

    private void closeConnection() {
        ((QuicChannel) ctx.channel()).close(true, H3_NO_ERROR, Unpooled.EMPTY_BUFFER);
    }

    /**
     * Asks {@code quic}, an HTTP/3 connection, to close once its streams in flight are done ({@link #drain}); false
     * where it is no such connection.
     */
    static boolean drain(QuicChannel quic) {
        Http3Connection connection = quic.pipeline().get(Http3Connection.class);
        if (connection == null) {
            return false;
        }
        connection.drain();
        return true;
    }

    /**
     * Hands Netty's codec each body part as a buffer whose bytes begin at its index 0: a retained slice of one whose
     * reader index is past 0 (a script's answer, its CGI head read off the front of its FastCGI record). Netty 4.2.18's
     * {@code Http3FrameCodec.writeDataFrame} sends a DATA frame as {@code Unpooled.wrappedUnmodifiableBuffer(header,
     * content)}, a {@code FixedCompositeByteBuf}, which reads each part from its index 0, not its reader index ("will
     * not try to slice", its javadoc says; its {@code nioBuffers} the QUIC stream sends from): a PHP page arrived as
     * the first bytes of its own CGI head ("Content-type:") for its body. No copy: the slice is a view.
     */
    static final class ContentFromZero extends ChannelOutboundHandlerAdapter {

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpContent content && content.content().readerIndex() != 0) {
                HttpContent fromZero = content.replace(content.content().retainedSlice());
                content.release(); // the slice's reference is the new part's, handed on
                ctx.write(fromZero, promise);
                return;
            }
            ctx.write(msg, promise);
        }
    }

    /**
     * nginx's send_timeout on a request stream: one whose answer is held (written, not yet taken by QUIC: the client
     * opens no room in its stream's or its connection's flow-control window) with no write done for {@code
     * timeouts.write} is reset (RESET_STREAM and STOP_SENDING, H3_REQUEST_CANCELLED) and closed, its exchange ended
     * as a client's reset ends it (its file released, its FastCGI request aborted); one that owes nothing (its script
     * still thinking) is left alone. Per stream, as nginx's, where HTTP/2's is the connection's: the connection's other
     * streams go on. Netty's IdleStateHandler, HTTP/1's and HTTP/2's watch, sees no held output here: a QUIC stream
     * queues its writes in no ChannelOutboundBuffer. A write is done once QUIC took all of it, so a reader that takes
     * an answer on, however slowly, is cut only where one piece of it takes longer than the timeout.
     */
    static final class StreamWriteTimeout extends ChannelOutboundHandlerAdapter {

        private final long timeoutNanos;
        private ChannelHandlerContext ctx;
        /** The writes not done yet. */
        private int pending;
        /** When the last write was done, or the first of those pending made (the executor's ticker). */
        private long progressAt;
        /** Fires at {@link #progressAt} plus the timeout, or later; null while none is pending. */
        private ScheduledFuture<?> timer;

        StreamWriteTimeout(Duration timeout) {
            this.timeoutNanos = timeout.toNanos();
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (pending++ == 0) {
                progressAt = now();
                if (timer == null) {
                    schedule(timeoutNanos);
                }
            }
            ChannelPromise watched = promise.unvoid();
            watched.addListener(done -> {
                pending--;
                progressAt = now();
            });
            ctx.write(msg, watched);
        }

        private void fired() {
            timer = null;
            QuicStreamChannel stream = (QuicStreamChannel) ctx.channel();
            if (pending == 0 || !stream.isActive()) {
                return; // the next write arms it again
            }
            long still = progressAt + timeoutNanos - now();
            if (still > 0) {
                schedule(still);
                return;
            }
            LOG.debug("resetting HTTP/3 stream {}: write stalled", stream);
            stream.shutdown(Http3ErrorCode.H3_REQUEST_CANCELLED.code()).addListener(done -> stream.close());
        }

        private void schedule(long delayNanos) {
            timer = ctx.executor().schedule(this::fired, delayNanos, TimeUnit.NANOSECONDS);
        }

        private long now() {
            return ctx.executor().ticker().nanoTime();
        }
    }

    /**
     * No Retry packets (nginx's quic_retry off): no address validation token is sent, and one a client offers (from
     * another server's NEW_TOKEN) is taken as none.
     */
    private static final class NoRetry implements QuicTokenHandler {

        static final NoRetry INSTANCE = new NoRetry();

        @Override
        public boolean writeToken(ByteBuf out, ByteBuf dcid, InetSocketAddress address) {
            return false;
        }

        @Override
        public int validateToken(ByteBuf token, InetSocketAddress address) {
            return 0;
        }

        @Override
        public int maxTokenLength() {
            return 0;
        }
    }
}
