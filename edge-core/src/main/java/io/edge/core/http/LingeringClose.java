package io.edge.core.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * How a client connection ends after a response that closes it, as nginx's {@code lingering_close}. The client may
 * still be sending then: a body it did not wait for {@code 100 Continue} to send, requests pipelined behind the last
 * one answered, the rest of a request refused (400, 413). A socket closed with bytes unread answers them with a
 * reset, and the kernel drops with it whatever of the response it had not sent yet: the client gets its response
 * cut short, or gets none (a 300 KB file behind a pipelined {@code Connection: close} arrived as its first 6 KB).
 * So, once the response's last write is in the socket:
 * <pre>
 *   OPEN --closeAfter(lastWrite), the write done, the client may still be sending--> LINGERING: output shut down
 *        (a FIN after the response), every byte read dropped here, before the decoder
 *   OPEN --closeAfter(lastWrite), the write done, nothing more expected--> closed
 *   LINGERING --the client closes its side, or `lingering` passes without a byte, or `lingering-time` in all--> closed
 *   OPEN or LINGERING --the connection closes for any other reason--> closed (the timer goes with it)
 * </pre>
 * A client that reads its response and closes, as clients do, ends the wait in one round trip. A client known to
 * have sent nothing more (one request, its body all in, nothing after it: the usual {@code Connection: close} or
 * HTTP/1.0 client) is closed at once, as nginx's {@code lingering_close on} does, for no round trip is needed then;
 * so is one whose write failed, with a {@code lingering} of 0, or on a channel that cannot shut down its output alone
 * (an embedded one in tests). Only closes that follow a response go through here; a timed-out idle connection or
 * request head (a client trickling a head would trickle on), a drain, or a response cut short is closed as it is.
 *
 * <p>Put first in the pipeline only once lingering begins (no cost to a connection that never lingers), so what
 * comes then reaches no other handler. Runs on the connection's event loop only.
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {

    private final long lingeringNanos;
    private final long lingeringTimeNanos;
    private ChannelHandlerContext ctx;
    private boolean closing;
    private long lingerStart;
    private long lastRead;
    private ScheduledFuture<?> timer;

    LingeringClose(Duration lingering, Duration lingeringTime) {
        this.lingeringNanos = lingering.toNanos();
        this.lingeringTimeNanos = lingeringTime.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Closes {@code lastWrite}'s connection once that write, the end of its last response, is done: lingering if
     * {@code clientMaySend} says then that the client may still be sending, and the channel can. Once per connection;
     * a second call changes nothing.
     */
    void closeAfter(ChannelFuture lastWrite, BooleanSupplier clientMaySend) {
        if (closing) {
            return;
        }
        closing = true;
        lastWrite.addListener(written -> {
            Channel clientChannel = lastWrite.channel();
            if (!written.isSuccess() || lingeringNanos == 0 || !(clientChannel instanceof DuplexChannel)) {
                clientChannel.close();
                return;
            }
            // Judged once the read being handled is through: a response written whole as its request was decoded is
            // done before the decoder has gone through the rest of that read, and the requests there say the client
            // sent more only once they are dropped.
            try {
                clientChannel.eventLoop().execute(() -> closeOrLinger((DuplexChannel) clientChannel, clientMaySend));
            } catch (RejectedExecutionException stopping) { // the loops are shutting down
                clientChannel.close();
            }
        });
    }

    private void closeOrLinger(DuplexChannel clientChannel, BooleanSupplier clientMaySend) {
        if (!clientChannel.isActive()) {
            return;
        }
        if (clientChannel.isInputShutdown() || !clientMaySend.getAsBoolean()) {
            clientChannel.close();
            return;
        }
        clientChannel.pipeline().addFirst("lingering-close", this);
        linger(clientChannel);
    }

    private void linger(DuplexChannel clientChannel) {
        lingerStart = now();
        lastRead = lingerStart;
        // Nothing is pending: the last write is done and nothing writes after it (a shutdown fails what is pending).
        // A TLS connection's close_notify goes first: the socket's shutdown goes past the SSL handler.
        SslHandler tls = clientChannel.pipeline().get(SslHandler.class);
        ChannelFuture notified = tls == null ? clientChannel.newSucceededFuture() : tls.closeOutbound();
        notified.addListener(sent -> clientChannel.shutdownOutput().addListener(shut -> {
            if (!shut.isSuccess()) {
                clientChannel.close();
            }
        }));
        clientChannel.config().setAutoRead(true); // reading may have been paused (pipelining, backpressure)
        schedule(Math.min(lingeringNanos, lingeringTimeNanos));
    }

    private void schedule(long delayNanos) {
        timer = ctx.executor().schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = now();
        long quietLeft = lingeringNanos - (now - lastRead);
        long timeLeft = lingeringTimeNanos - (now - lingerStart);
        if (quietLeft <= 0 || timeLeft <= 0) {
            ctx.close();
        } else {
            schedule(Math.min(quietLeft, timeLeft));
        }
    }

    // In the pipeline only while lingering: what comes is dropped, and goes no further.

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        lastRead = now();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close(); // the client closed its side (a connection that allows half-closure gets no close of its own)
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }
}
