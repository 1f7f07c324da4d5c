package io.edge.core.http;

import io.edge.conf.AddressRange;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxySSLTLV;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.util.AttributeKey;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PROXY protocol header (v1 text or v2 binary, as HAProxy's {@code send-proxy} and {@code send-proxy-v2} and
 * cloud load balancers write it) that a connection from a trusted proxy begins with ({@code server.real-ip} with
 * {@code proxy-protocol = true}): its source is the client of every request on the connection ({@link #peer(Channel)}),
 * and a v2 header's SSL field says whether that client came over TLS ({@link #clientTls(Channel)}, HAProxy's
 * send-proxy-v2-ssl). A LOCAL command (a proxy's own health check) or an UNKNOWN or Unix-socket source leaves the
 * connection's own address. A connection whose first bytes are no such header is closed at once, as the protocol has
 * it, and logged (a proxy not set to send it would otherwise fail every connection without a word); so is one that
 * closes with part of a header read and the rest never sent (edge closes it at timeouts.request-head: too few bytes to
 * tell a header from anything else, "PROXY TCP4" without its line's end). Netty's decoder reads the header and leaves
 * the pipeline after it; this handler takes its message and leaves too.
 */
final class ProxyProtocol extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyProtocol.class);
    private static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("edge.proxied-client");
    /** Set on a connection whose PROXY v2 header's SSL field says its client came over TLS. */
    private static final AttributeKey<Boolean> CLIENT_TLS = AttributeKey.valueOf("edge.proxied-client-tls");
    /** Set on a connection accepted to begin with a PROXY protocol header, whatever a reload turns on or off later. */
    private static final AttributeKey<Boolean> EXPECTED = AttributeKey.valueOf("edge.proxy-protocol");
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;
    /** Broken headers since start, and when one was last logged. */
    private static final AtomicLong BROKEN = new AtomicLong();
    private static final AtomicLong LOGGED_AT = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS - 1);

    /** The decoder ahead of this handler, which sees the connection's bytes. */
    private final CountingDecoder decoder;

    private ProxyProtocol(CountingDecoder decoder) {
        this.decoder = decoder;
    }

    /** Makes {@code pipeline} read a PROXY protocol header first, before the handler named {@code before}. */
    static void expectIn(ChannelPipeline pipeline, String before) {
        pipeline.channel().attr(EXPECTED).set(Boolean.TRUE);
        CountingDecoder decoder = new CountingDecoder();
        pipeline.addBefore(before, "proxy-protocol", decoder);
        pipeline.addBefore(before, "proxied-client", new ProxyProtocol(decoder));
    }

    /** Netty's decoder, counting the bytes it is handed: whether a connection that closes began a header. */
    private static final class CountingDecoder extends HAProxyMessageDecoder {

        long received;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof ByteBuf bytes) {
                received += bytes.readableBytes();
            }
            super.channelRead(ctx, msg);
        }
    }

    /** Broken PROXY protocol headers since start, which the warning counts: its tests' view of whether one was logged. */
    static long brokenSinceStart() {
        return BROKEN.get();
    }

    /**
     * Whether {@code channel} was accepted to begin with a PROXY protocol header (real-ip.proxy-protocol on, from a
     * trusted proxy, when it was accepted): its client is the header's; one accepted before a reload turned the
     * protocol on is its proxy's, which names its clients in real-ip.header.
     */
    static boolean expected(Channel channel) {
        return channel.hasAttr(EXPECTED);
    }

    /** The connection's client: the source its PROXY protocol header named, else its peer. */
    static InetSocketAddress peer(Channel channel) {
        InetSocketAddress proxied = channel.hasAttr(CLIENT) ? channel.attr(CLIENT).get() : null;
        // null for a channel of no IP address (a test's embedded one): nothing to say of it, rather than a failure
        return proxied != null ? proxied : socketAddress(channel, true);
    }

    /**
     * {@code channel}'s IP address and port at the {@code remote} end or its own: a QUIC connection's are its UDP
     * path's (its channel's own addresses are connection ids); null for a channel of none (a test's embedded one).
     */
    static InetSocketAddress socketAddress(Channel channel, boolean remote) {
        SocketAddress address = channel instanceof QuicChannel quic
                ? remote ? quic.remoteSocketAddress() : quic.localSocketAddress()
                : remote ? channel.remoteAddress() : channel.localAddress();
        return address instanceof InetSocketAddress inet ? inet : null;
    }

    /**
     * Whether {@code channel}'s PROXY protocol header said its client came over TLS (a v2 header's SSL field with
     * PP2_CLIENT_SSL set); false for any other connection.
     */
    static boolean clientTls(Channel channel) {
        return channel.hasAttr(CLIENT_TLS);
    }

    /** The header was refused: the connection is closing, and the bytes behind it (a request) go nowhere. */
    private boolean refused;
    /** Edge closes the connection (a timeout, room made for another), not its proxy. */
    private boolean closing;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg);
            return;
        }
        InetSocketAddress source;
        boolean tls;
        try {
            source = source(header);
            tls = source != null && clientTls(header);
        } catch (HAProxyProtocolException unreadable) {
            refuse(ctx, why(unreadable));
            return;
        } finally {
            header.release();
        }
        if (source != null) {
            ctx.channel().attr(CLIENT).set(source);
        }
        if (tls) {
            ctx.channel().attr(CLIENT_TLS).set(Boolean.TRUE);
        }
        ctx.pipeline().remove(this);
    }

    /**
     * The client a header names, or null for one that names none (LOCAL, UNKNOWN, a Unix socket).
     *
     * @throws HAProxyProtocolException for a source address Netty's decoder let through that names no address as
     *         written ({@code fe80::1%eth0}, {@code 198.051.100.007}): the header is broken, and the connection was
     *         otherwise taken for its proxy's, its requests passing rules meant for that address (status pages)
     */
    static InetSocketAddress source(HAProxyMessage header) {
        HAProxyProxiedProtocol protocol = header.proxiedProtocol();
        if (header.command() != HAProxyCommand.PROXY || protocol == null
                || protocol.addressFamily() == HAProxyProxiedProtocol.AddressFamily.AF_UNSPEC
                || protocol.addressFamily() == HAProxyProxiedProtocol.AddressFamily.AF_UNIX) {
            return null;
        }
        InetAddress address = header.sourceAddress() == null ? null : AddressRange.literal(header.sourceAddress());
        if (address == null) {
            throw new HAProxyProtocolException("source address not readable: " + header.sourceAddress());
        }
        return new InetSocketAddress(address, header.sourcePort());
    }

    /**
     * Whether {@code header} says its client came over TLS: the PP2_CLIENT_SSL bit of its first SSL field
     * (PP2_TYPE_SSL, HAProxy's send-proxy-v2-ssl), as nginx's $proxy_protocol_tlv_ssl_... are read; a v1 header or a v2
     * one without the field says no. Netty's decoder has refused a field too short for its client bits and verify
     * result, or one running past the header's end (the header is then broken, see {@link #exceptionCaught}).
     */
    static boolean clientTls(HAProxyMessage header) {
        for (HAProxyTLV field : header.tlvs()) {
            // fields nested in the SSL one (its version, its cipher) follow it in the list: the first is the outer one
            if (field instanceof HAProxySSLTLV ssl) {
                return ssl.isPP2ClientSSL();
            }
        }
        return false;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // before the header is read (this handler leaves then), any decoder failure is the header's: Netty's decoder
        // fails a v2 TLV that runs past the header's end with an IndexOutOfBoundsException, not its own exception
        if (!(cause instanceof HAProxyProtocolException || cause instanceof DecoderException)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (!refused) {
            refuse(ctx, why(cause));
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        closing = true;
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // still here: no header was taken, and a connection that sent none of one is no broken header (a health check)
        if (!refused && decoder.received > 0) {
            broken(ctx, "cut short: " + decoder.received + " bytes, then " + (closing
                    ? "silence until edge closed it, at timeouts.request-head or to make room" : "the proxy closed it"));
        }
        ctx.fireChannelInactive();
    }

    /** Closes a connection whose first bytes are no readable PROXY protocol header, logged. */
    private void refuse(ChannelHandlerContext ctx, String why) {
        broken(ctx, why);
        ctx.close();
    }

    /** Counts and logs (at most every 10 s) a connection whose PROXY protocol header was unreadable or never whole. */
    private void broken(ChannelHandlerContext ctx, String why) {
        refused = true;
        long broken = BROKEN.incrementAndGet();
        long now = System.nanoTime();
        long last = LOGGED_AT.get();
        if (now - last >= LOG_INTERVAL_NANOS && LOGGED_AT.compareAndSet(last, now)) {
            InetSocketAddress proxy = peer(ctx.channel()); // no header was read: the proxy's own address
            LOG.warn("closing {}: no readable PROXY protocol header where server.real-ip.proxy-protocol expects one "
                    + "from a trusted proxy ({}; {} since start): is the proxy set to send it (HAProxy: "
                    + "send-proxy-v2)?", proxy == null ? "a connection" : NetUtil.toSocketAddressString(proxy),
                    why, broken);
        }
    }

    /**
     * What broke the header, in words: Netty wraps the reason of an invalid one ("invalid HAProxy message" around
     * "invalid IPv4 address"), and a TLV running past the header's end is an index out of a buffer's bounds.
     */
    private static String why(Throwable cause) {
        Throwable inner = cause;
        while (inner.getCause() != null && inner.getCause() != inner) {
            inner = inner.getCause();
        }
        if (inner instanceof IndexOutOfBoundsException) {
            return "a field runs past the header's end";
        }
        return inner == cause || inner.getMessage() == null ? String.valueOf(cause.getMessage())
                : cause.getMessage() + ": " + inner.getMessage();
    }
}
