package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
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
 * One timer at most per connection, and none per request: the current state's expiry is a deadline field,
 * and the timer, when it fires, re-arms itself for a deadline that moved later (keep-alive ones move on every
 * request) rather than being cancelled and scheduled anew on each change. A timer is scheduled only when a
 * deadline moves earlier than the pending one (a new head timeout within a long keep-alive wait), and a head
 * that arrives whole in the read that started it never arms its own.
 *
 * All methods run on the channel's event loop.
 */
final class RequestTimeouts extends ChannelInboundHandlerAdapter {

    private enum State { WAITING, HEAD, BUSY }

    private final long requestHeadNanos;
    private final long keepAliveNanos;
    private ChannelHandlerContext ctx;
    private State state = State.WAITING;
    /** When the current state expires (the executor's ticker); meaningless while BUSY. */
    private long deadline;
    private ScheduledFuture<?> timer;
    /** When {@link #timer} fires. */
    private long timerAt;
    /** Counts {@link #awaitingRequest} calls: a response's end arms only the wait it was for. */
    private long waits;

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
        arm(now() + requestHeadNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.WAITING && msg instanceof ByteBuf buf && buf.isReadable()) {
            state = State.HEAD;
            long headDeadline = now() + requestHeadNanos;
            ctx.fireChannelRead(msg);
            if (state == State.HEAD) {
                arm(headDeadline); // the head is still incomplete
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    /**
     * What was read only carried the rest of the body of a request already answered (a POST answered 404 or 405
     * before its body was all in): the connection still waits for a head, under its keep-alive deadline, and no
     * head timeout (408) starts for those bytes.
     */
    void bodyOfAnsweredRequest() {
        if (state == State.HEAD) {
            state = State.WAITING;
        }
    }

    /** A whole request head was decoded: the exchange takes over. */
    void headReceived() {
        state = State.BUSY;
    }

    /**
     * The connection waits for its next kept-alive request. The keep-alive wait starts once {@code lastWrite}, the
     * end of the last response, is out: until then the client is still receiving (a slow reader of a large file is
     * the write timeout's business), and closing at the wait's end would cut the response short.
     */
    void awaitingRequest(ChannelFuture lastWrite) {
        state = State.WAITING;
        long wait = ++waits;
        if (lastWrite.isDone()) {
            arm(now() + keepAliveNanos);
            return;
        }
        if (timer != null) { // a deadline of the request just answered must not end the wait
            timer.cancel(false);
            timer = null;
        }
        lastWrite.addListener(written -> {
            if (state == State.WAITING && waits == wait) {
                arm(now() + keepAliveNanos);
            }
        });
    }

    /** Whether a connection is kept alive between requests at all ({@code keep-alive} above 0). */
    boolean keepsAlive() {
        return keepAliveNanos > 0;
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }

    private void arm(long newDeadline) {
        deadline = newDeadline;
        if (timer != null && timerAt - newDeadline <= 0) {
            return; // fires first and re-arms
        }
        if (timer != null) {
            timer.cancel(false);
        }
        schedule(newDeadline);
    }

    private void schedule(long at) {
        timerAt = at;
        timer = ctx.executor().schedule(this::fired, Math.max(0, at - now()), TimeUnit.NANOSECONDS);
    }

    private void fired() {
        timer = null;
        if (state == State.BUSY || !ctx.channel().isActive()) {
            return; // re-armed when the exchange is done
        }
        if (now() - deadline < 0) {
            schedule(deadline);
        } else if (state == State.HEAD) {
            // The decoder holds a partial head; answer from here, after it in the pipeline, and close.
            ctx.pipeline().fireUserEventTriggered(new HttpStatusException(HttpResponseStatus.REQUEST_TIMEOUT, "request head timeout"));
        } else {
            ctx.close();
        }
    }
}
