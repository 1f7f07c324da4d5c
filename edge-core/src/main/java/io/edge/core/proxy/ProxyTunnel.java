package io.edge.core.proxy;

import io.edge.core.http.Exchange;
import io.edge.fastcgi.pool.Lease;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's connection and a backend's, joined once the backend answered an upgrade with 101 (Switching Protocols):
 * the bytes each side sends go to the other as they are, nginx's upgraded connection (a websocket). Both connections
 * live on the client's event loop.
 * <pre>
 *   OPENING: the 101 written to the client, the HTTP handlers leaving both pipelines; what either side sent after its
 *            head (a frame the client sent with its handshake, one the backend sent with its 101) is held
 *     ──both pipelines ready──► OPEN: the held bytes sent, then each read handed to the other side
 *   OPEN ──either side closes or ends its sending (FIN), fails, or nothing read on either side nor written for
 *          the idle timeout──► CLOSED: what was read goes out first, then both connections close; the backend's
 *          lease released (its slot, held while the tunnel was open, free); the exchange ended (its access-log line)
 * </pre>
 * Backpressure both ways, as the proxy's bodies: a side is not read while the other's connection takes nothing more.
 * The idle timeout is the group's read timeout, counted from the last read on either side or write done to either,
 * as nginx's proxy_read_timeout counts on an upgraded connection.
 */
final class ProxyTunnel {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyTunnel.class);
    static final String BACKEND_SIDE = "proxy-tunnel";

    private final Exchange exchange;
    private final Lease lease;
    private final Channel clientChannel;
    private final Channel backendChannel;
    private final long idleNanos;
    private final Side clientSide;
    private final Side backendSide;
    private ScheduledFuture<?> timer;
    private long lastProgressNanos;
    private long bytesToClient;
    private boolean open;
    private boolean ended;
    private final ChannelFutureListener progress = this::written;

    private ProxyTunnel(Exchange exchange, Lease lease, long idleNanos) {
        this.exchange = exchange;
        this.lease = lease;
        this.clientChannel = exchange.clientChannel();
        this.backendChannel = lease.channel();
        this.idleNanos = idleNanos;
        this.clientSide = new Side(true);
        this.backendSide = new Side(false);
    }

    /**
     * Sends {@code head}, the 101 to give the client, and joins the client's connection to the backend's of
     * {@code lease} (whose pipeline still has the proxy's HTTP codec and idle guard, {@code codec} and
     * {@code idleGuard} by name). The lease is the tunnel's from here: released as it closes.
     */
    static void open(Exchange exchange, Lease lease, HttpResponse head, String codec, String idleGuard,
            long idleNanos) {
        ProxyTunnel tunnel = new ProxyTunnel(exchange, lease, idleNanos);
        exchange.upgrade(head, tunnel.clientSide);
        ChannelPipeline backend = tunnel.backendChannel.pipeline();
        // the codec hands what it holds past the 101 to the next handler as it leaves: the tunnel's
        backend.addAfter(codec, BACKEND_SIDE, tunnel.backendSide);
        backend.remove(idleGuard);
        backend.remove(codec);
        tunnel.start();
    }

    private void start() {
        open = true;
        lastProgressNanos = System.nanoTime();
        armTimer(idleNanos);
        clientSide.sendHeld();
        backendSide.sendHeld();
        if (!ended) {
            // the client was not read while its upgrade was answered
            clientChannel.config().setAutoRead(backendChannel.isWritable());
            backendChannel.config().setAutoRead(clientChannel.isWritable());
        }
        if (!clientChannel.isActive() || !backendChannel.isActive()) {
            end(!clientChannel.isActive() ? "the client's connection closed" : "the backend's connection closed");
        }
    }

    private void written(ChannelFuture write) {
        if (write.isSuccess()) {
            lastProgressNanos = System.nanoTime();
        } else if (!ended) {
            end((write.channel() == clientChannel ? "a write to the client" : "a write to the backend") + " failed: "
                    + write.cause());
        }
    }

    private void armTimer(long delayNanos) {
        timer = clientChannel.eventLoop().schedule(this::checkTimer, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkTimer() {
        if (ended) {
            return;
        }
        long left = lastProgressNanos + idleNanos - System.nanoTime();
        if (left > 0) {
            armTimer(left);
            return;
        }
        end("nothing read on either side within " + TimeUnit.NANOSECONDS.toMillis(idleNanos) + " ms");
    }

    /**
     * Closes the tunnel: what either side read is still sent, then each connection closes; the backend's slot is free
     * once what it was sent went (or the idle timeout passed once more), the exchange ends after the client's last write.
     */
    private void end(String why) {
        if (ended) {
            return;
        }
        ended = true;
        LOG.debug("[{}] tunnel closed: {}", exchange.requestId(), why);
        if (timer != null) {
            timer.cancel(false);
        }
        clientSide.dropHeld();
        backendSide.dropHeld();
        exchange.upstreamEnded();
        ScheduledFuture<?> late = clientChannel.eventLoop().schedule(this::releaseLease, idleNanos,
                TimeUnit.NANOSECONDS);
        backendChannel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            late.cancel(false);
            releaseLease();
        });
        exchange.tunnelEnded(clientChannel.writeAndFlush(Unpooled.EMPTY_BUFFER), bytesToClient);
    }

    /** Closes the backend's connection and frees its slot; only the first call counts. */
    private void releaseLease() {
        backendChannel.close();
        lease.release(Lease.Outcome.CLOSE);
    }

    /**
     * The tunnel's handler in one connection's pipeline, in place of the HTTP handlers: what it reads goes to the
     * other side's connection.
     */
    private final class Side extends ChannelInboundHandlerAdapter {

        private final boolean client;
        /** What came before the tunnel was open (the bytes a decoder held as it left), in order. */
        private ArrayDeque<ByteBuf> held;

        Side(boolean client) {
            this.client = client;
        }

        private Channel own() {
            return client ? clientChannel : backendChannel;
        }

        private Channel other() {
            return client ? backendChannel : clientChannel;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf bytes)) {
                ReferenceCountUtil.release(msg); // the end of the 101's message, from the backend's decoder
                return;
            }
            if (ended || !bytes.isReadable()) {
                bytes.release();
                return;
            }
            if (!open) {
                if (held == null) {
                    held = new ArrayDeque<>(2);
                }
                held.add(bytes); // the tunnel's until it is open
                return;
            }
            lastProgressNanos = System.nanoTime();
            send(bytes);
        }

        /** Hands {@code bytes} (this call's to release) to the other side, and stops reading while it lags. */
        private void send(ByteBuf bytes) {
            if (!client) {
                bytesToClient += bytes.readableBytes();
            }
            other().write(bytes).addListener(progress);
            if (!other().isWritable()) {
                own().config().setAutoRead(false);
            }
        }

        void sendHeld() {
            if (held == null) {
                return;
            }
            ByteBuf bytes;
            while ((bytes = held.poll()) != null) {
                send(bytes);
            }
            held = null;
            other().flush();
        }

        void dropHeld() {
            if (held != null) {
                held.forEach(ByteBuf::release);
                held = null;
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (open && !ended) {
                other().flush();
            }
        }

        /** This side takes more again: the other side is read again. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (open && !ended && own().isWritable()) {
                lastProgressNanos = System.nanoTime();
                other().config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (open) {
                end(client ? "the client closed" : "the backend closed");
            }
            ctx.fireChannelInactive();
        }

        /**
         * A side that ends its sending ends the tunnel, as nginx's does: the other side gets what was read, then a
         * close. Not passed on: on the client's side the HTTP handler would end the exchange without the tunnel.
         */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) {
                if (open) {
                    end(client ? "the client ended its side" : "the backend ended its side");
                }
                return;
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!ended) {
                end((client ? "the client's" : "the backend's") + " connection failed: " + cause);
            }
            ctx.close();
        }
    }
}
