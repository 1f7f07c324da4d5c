package io.edge.core.cache;

import io.edge.core.http.Exchange;
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
 */
final class SlicedAnswer implements Runnable {

    /** Bodies up to this go whole; larger ones in slices of it. */
    static final int SLICE = 64 * 1024;

    private final Exchange exchange;
    private final ByteBuf body;
    private boolean released;

    private SlicedAnswer(Exchange exchange, ByteBuf body) {
        this.exchange = exchange;
        this.body = body;
    }

    /** Answers {@code exchange} with {@code response} (owned from here), its body longer than {@link #SLICE}. */
    static void send(Exchange exchange, FullHttpResponse response) {
        exchange.write(new DefaultHttpResponse(response.protocolVersion(), response.status(), response.headers()));
        new SlicedAnswer(exchange, response.content()).run();
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
        ByteBuf slice = body.readRetainedSlice(Math.min(SLICE, body.readableBytes()));
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
