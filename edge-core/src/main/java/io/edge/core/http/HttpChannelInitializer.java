package io.edge.core.http;

import io.edge.conf.ServerSettings;
import io.edge.core.tls.TlsContexts;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the pipeline of an accepted client connection (of HTTP/1; where ALPN picks h2, or a plain connection of a
 * listener marked http2 begins with HTTP/2's preface, see {@link Http2Connection}):
 * <pre>
 *   RequestTimeouts -> StrictHttpServerCodec (line/header limits) -> IdleStateHandler (stalled writes)
 *     -> HttpConnectionHandler (exchanges, routing, responders)
 * </pre>
 * with {@link ProxyProtocol}'s two handlers first on a connection from a trusted proxy that sends the PROXY protocol
 * (they leave once its header is read), then on a listener marked ssl {@link TlsContexts#addTo TLS's} (the SSL handler,
 * and a reader of file regions, which cannot go through it as sendfile),
 * and, once a response that ends the connection is out, {@link LingeringClose} first, to drop what still comes; a
 * 101 to a request that asked to upgrade takes the request timeouts and the codec out, and a tunnel's handler in
 * before the exchanges' ({@link Exchange#upgrade}).
 * No {@code HttpServerExpectContinueHandler}: it answers {@code 100 Continue} as soon as a request head is read,
 * before validation and in the middle of an earlier pipelined response. The exchange sends it instead, when its
 * responder first asks for the body ({@link ServerExchange#readBody}).
 * At {@code max-connections} the listeners stop accepting before they take one more ({@link AcceptLimit}); a
 * connection that arrives here once the server drains is closed at once.
 */
public final class HttpChannelInitializer extends ChannelInitializer<Channel> {

    private static final Logger LOG = LoggerFactory.getLogger(HttpChannelInitializer.class);

    private final HttpServerContext server;

    public HttpChannelInitializer(HttpServerContext server) {
        this.server = server;
    }

    @Override
    protected void initChannel(Channel clientChannel) {
        ServerSettings settings = server.settings(); // a reload's, for connections accepted after it
        if (!server.admit(clientChannel)) {
            LOG.debug("closing {}: draining, or its listener dropped by a reload", clientChannel.remoteAddress());
            clientChannel.close();
            return;
        }
        if (settings.tcpNotsentLowat() > 0 && clientChannel instanceof EpollSocketChannel) {
            try {
                clientChannel.config().setOption(EpollChannelOption.TCP_NOTSENT_LOWAT, (long) settings.tcpNotsentLowat());
            } catch (ChannelException e) { // the client is gone already: its close follows
                LOG.debug("TCP_NOTSENT_LOWAT not set on {}: {}", clientChannel.remoteAddress(), e.getMessage());
            }
        }
        ServerSettings.HttpLimits limits = settings.limits();
        ServerSettings.HttpTimeouts timeouts = settings.timeouts();
        RequestTimeouts requestTimeouts = new RequestTimeouts(timeouts.requestHead(), timeouts.body(), timeouts.keepAlive());
        requestTimeouts.trackIdleIn(server.idleConnections(clientChannel.eventLoop()));
        HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.requestLine())
                .setMaxHeaderSize(limits.headerBlock())
                .setMaxChunkSize(64 * 1024)
                .setValidateHeaders(true)
                // RFC 9112 2.2: a lone LF ends the request line and a field line too, as nginx reads them (Netty's
                // default refuses it). A chunk-size line or a chunk's end still needs its CRLF, which Netty holds
                // to apart from this: there a lone LF is a known way to smuggle a request past a proxy in front.
                .setStrictLineParsing(false)
                // Transfer-Encoding with Content-Length refused, never read as chunked on a connection kept open;
                // and Transfer-Encoding in a request not HTTP/1.1 (1.0 has none; nginx answers 400 too)
                .setUseRfc9112TransferEncoding(true);
        ChannelPipeline pipeline = clientChannel.pipeline();
        pipeline.addLast("timeouts", requestTimeouts);
        ServerSettings.RealIp realIp = settings.realIp();
        if (realIp.proxyProtocol() && clientChannel.remoteAddress() instanceof InetSocketAddress peer
                && realIp.trusts(peer.getAddress())) {
            // before the timeouts: its header is no request, and a connection that has sent only that waits for its first
            // request as a new one does (closed quietly at request-head), not a 408 for a head
            ProxyProtocol.expectIn(pipeline, "timeouts");
        }
        InetSocketAddress listenAddress = HttpServerContext.listenAddress(clientChannel);
        TlsContexts tls = server.tls();
        boolean endsTls = tls.endsOn(listenAddress);
        if (endsTls) {
            // after a PROXY protocol header, which comes before the handshake; before the timeouts, which then cover a
            // handshake never finished as they cover a request head never sent
            tls.addTo(pipeline, "timeouts", listenAddress, timeouts.requestHead(),
                    (line, referer, agent, bytes, start) -> server.accessLog().log(ProxyProtocol.peer(clientChannel),
                            line, 400, bytes, referer, agent, start, null, null, null), settings.serverTokens());
        }
        // No pipelining depth (Netty's own codec has one, 128 by default, beyond which it fails the connection and
        // every answer still owed): reading stops while a request waits (HttpConnectionHandler), so what is held is
        // at most the requests of one read.
        StrictHttpServerCodec codec = new StrictHttpServerCodec(decoder, server::largestBodyLimit);
        requestTimeouts.midRequestFrom(codec::midRequest);
        pipeline.addLast("http", codec);
        // In nanoseconds: in whole milliseconds a write timeout under one (which the configuration allows, > 0) is 0,
        // which turns the watch off; Netty raises anything shorter than a millisecond to one.
        pipeline.addLast("write-timeout", new IdleStateHandler(true, 0, timeouts.write().toNanos(), 0, TimeUnit.NANOSECONDS));
        pipeline.addLast("exchanges", new HttpConnectionHandler(server, requestTimeouts,
                new LingeringClose(timeouts.lingering(), timeouts.lingeringTime()), codec::limitChunkedBody, endsTls));
        if (endsTls && tls.offersHttp2(listenAddress)) {
            // built for HTTP/1.1 above, what a client that picks http/1.1 (or no ALPN) gets; one that picks h2 gets
            // HTTP/2 in their place once the handshake is done
            pipeline.addBefore("timeouts", "alpn",
                    new Http2Connection.Negotiation(http2 -> toHttp2(http2, settings, true)));
        } else if (!endsTls && settings.tls().http2().offeredOn(listenAddress)) {
            // h2c: likewise for a client whose first bytes, after a PROXY protocol header, are HTTP/2's preface;
            // after the timeouts, which see a preface begun as a head begun (408 and logged if it stops)
            pipeline.addAfter("timeouts", "h2c",
                    new Http2Connection.PriorKnowledge(h2c -> toHttp2(h2c, settings, false)));
        }
    }

    /** Turns {@code pipeline}'s connection, built for HTTP/1.1, to HTTP/2. */
    private void toHttp2(ChannelPipeline pipeline, ServerSettings settings, boolean endsTls) {
        for (String http1 : HTTP1_HANDLERS) {
            pipeline.remove(http1);
        }
        Http2Connection.addTo(pipeline, server, settings, endsTls);
    }

    /**
     * The handlers of HTTP/1 alone, which a connection turned to HTTP/2 does without; the write timeout's stays, then
     * before the frame codec, where it sees every frame written ({@link Http2Connection}'s stalled output).
     */
    private static final List<String> HTTP1_HANDLERS = List.of("timeouts", "http", "exchanges");

    /**
     * Asks every open connection to close once its running exchange is done (idle ones close at once); an HTTP/2 one,
     * with no such handler of its own, is closed by Netty's graceful close: GOAWAY, then the close once its streams
     * in flight are done ({@link Http2Connection}); an HTTP/3 one likewise ({@link Http3Connection#drain}).
     */
    public static void drain(Channel clientChannel) {
        clientChannel.eventLoop().execute(() -> {
            HttpConnectionHandler handler = clientChannel.pipeline().get(HttpConnectionHandler.class);
            if (handler != null) {
                handler.drain();
            } else if (clientChannel instanceof QuicChannel quic && Http3Connection.drain(quic)) {
                // GOAWAY, then the close once its streams in flight are done, as HTTP/2's graceful close
                return;
            } else {
                clientChannel.close();
            }
        });
    }
}
