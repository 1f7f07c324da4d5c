package io.edge.core.cache;

import io.edge.conf.LimitRate;
import io.edge.conf.LocationSettings;
import io.edge.core.http.Exchange;
import io.edge.core.limit.BodyPace;
import io.edge.fastcgi.LogText;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import java.util.concurrent.RejectedExecutionException;

/**
 * A stored answer larger than a slice, sent as its head and then a slice at a time: each once the last one has gone to
 * the client, and after what else waits on the event loop. Written whole, a location's gzip would compress it in one
 * call (a 1 MiB page: ~15 ms of the loop at level 1, far more at 9) while every other connection of that loop waited.
 * Under a limit-rate, the slices are the pace's pieces, each sent when the pace allows it ({@link BodyPace}), as a
 * script's answer from the backend is: the script's X-Accel-Limit-Rate kept with the answer, as it paced the miss, else
 * the location's.
 */
final class SlicedAnswer implements Runnable {

    /** Bodies up to this go whole; larger ones in slices of it. */
    static final int SLICE = 64 * 1024;

    private final Exchange exchange;
    private final ByteBuf body;
    /** The pace of the answer; null: each slice as soon as the last one went. */
    private final BodyPace pace;
    private boolean released;

    private SlicedAnswer(Exchange exchange, ByteBuf body, BodyPace pace) {
        this.exchange = exchange;
        this.body = body;
        this.pace = pace;
    }

    /**
     * Answers {@code exchange} with {@code response} (owned from here): in one write when its body is a slice at most
     * (or it answers a HEAD) and its pace, if any, lets the body go at once; else its head, then its body a slice (or a
     * paced piece) at a time. The pace: {@code accelLimitRate}, the script's X-Accel-Limit-Rate kept with the answer
     * (null for none), with the location's limit-rate ({@link BodyPace#ofScript}).
     */
    static void answer(Exchange exchange, FullHttpResponse response, String accelLimitRate) {
        LocationSettings location = exchange.location();
        LimitRate limitRate = exchange.isHead() ? null
                : BodyPace.ofScript(accelLimitRate, location == null ? null : location.limitRate(),
                        () -> exchange.request().method() + " " + LogText.escapeBytes(exchange.request().uri())
                                + " from the cache:");
        BodyPace pace = limitRate == null ? null : new BodyPace(limitRate, exchange.clientChannel().eventLoop());
        int length = response.content().readableBytes();
        if (exchange.isHead() || length <= SLICE && (pace == null || pace.allowsAtOnce(length))) {
            exchange.complete(exchange.writeAndFlush(response)); // the write owns the body from here
            return;
        }
        exchange.write(new DefaultHttpResponse(response.protocolVersion(), response.status(), response.headers()));
        new SlicedAnswer(exchange, response.content(), pace).run();
    }

    @Override
    public void run() {
        try {
            next();
        } catch (RuntimeException e) {
            release();
            exchange.fail(e);
        }
    }

    private void next() {
        if (exchange.isEnded()) {
            release();
            return;
        }
        long sent = BodyPace.sent(exchange);
        if (pace != null && pace.holds(sent, this)) {
            return; // run again once the pace allows the next piece
        }
        int size = pace == null ? SLICE : (int) pace.piece(sent, SLICE);
        ByteBuf slice = body.readRetainedSlice(Math.min(size, body.readableBytes()));
        if (!body.isReadable()) {
            release();
            exchange.complete(exchange.writeAndFlush(new DefaultLastHttpContent(slice)));
            return;
        }
        ChannelFuture written = exchange.writeAndFlush(new DefaultHttpContent(slice));
        written.addListener(done -> {
            if (done.isSuccess()) {
                try {
                    exchange.clientChannel().eventLoop().execute(this);
                } catch (RejectedExecutionException e) {
                    release(); // the loop is shutting down with the server
                }
            } else {
                release();
                exchange.fail(done.cause()); // the connection closes, if the failed write has not closed it already
            }
        });
    }

    private void release() {
        if (!released) {
            released = true;
            body.release();
        }
    }
}
