package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Read-side timeouts of one client connection. Sits in front of the HTTP decoder so it sees raw bytes.
 *
 * <pre>
 *   WAITING --first byte--> HEAD --head decoded--> BUSY --exchange done, keep-alive--> WAITING
 *   WAITING: a new connection waits {@code requestHead}, a kept-alive one {@code keepAlive}; expiry closes quietly.
 *   HEAD:    part of a request head arrived; expiry answers 408 and closes (slowloris).
 *   BUSY:    an exchange is running; its writes are watched by the write timeout instead.
 * </pre>
 *
 * All methods run on the channel's event loop.
 */
final class RequestTimeouts extends ChannelInboundHandlerAdapter {

    private enum State { WAITING, HEAD, BUSY }

    private final long requestHeadNanos;
    private final long keepAliveNanos;
    private ChannelHandlerContext ctx;
    private State state = State.WAITING;
    private ScheduledFuture<?> timer;

    RequestTimeouts(Duration requestHead, Duration keepAlive) {
        this.requestHeadNanos = requestHead.toNanos();
        this.keepAliveNanos = keepAlive.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        schedule(requestHeadNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.WAITING && msg instanceof ByteBuf buf && buf.isReadable()) {
            state = State.HEAD;
            schedule(requestHeadNanos);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    /** A whole request head was decoded: the exchange takes over. */
    void headReceived() {
        state = State.BUSY;
        cancel();
    }

    /** The connection is idle between kept-alive requests. */
    void awaitingRequest() {
        state = State.WAITING;
        schedule(keepAliveNanos);
    }

    private void schedule(long nanos) {
        cancel();
        timer = ctx.executor().schedule(this::expired, nanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expired() {
        timer = null;
        if (state == State.HEAD && ctx.channel().isActive()) {
            // The decoder holds a partial head; answer from here, after it in the pipeline, and close.
            ctx.pipeline().fireUserEventTriggered(new HttpStatusException(HttpResponseStatus.REQUEST_TIMEOUT, "request head timeout"));
        } else if (state == State.WAITING) {
            ctx.close();
        }
    }
}
