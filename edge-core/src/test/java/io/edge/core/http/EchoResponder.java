package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Answers "path?query body=N" after reading the whole body; {@code delay=MS} in the query delays the answer
 * on the event loop's timer (never sleeping), so pipelined answers would come out of order if the core let them;
 * {@code ends=1} then waits for the client's FIN and asks to end with its client ({@link Exchange#endOnClientClose}),
 * as a FastCGI call does once its script was looked up or its body spooled, and answers only if the exchange goes on.
 */
final class EchoResponder implements Responder {

    @Override
    public void respond(Exchange exchange) {
        long[] bodyBytes = {0};
        exchange.readBody(content -> {
            bodyBytes[0] += content.content().readableBytes();
            boolean last = content instanceof LastHttpContent;
            content.release();
            if (last) {
                long delay = delayOf(exchange.query());
                if (delay > 0) {
                    exchange.clientChannel().eventLoop().schedule(() -> {
                        if (param(exchange.query(), "ends") == 1) {
                            endWithTheClientOnceItsFinCame(exchange, bodyBytes[0]);
                        } else {
                            answer(exchange, bodyBytes[0]);
                        }
                    }, delay, TimeUnit.MILLISECONDS);
                } else {
                    answer(exchange, bodyBytes[0]);
                }
            }
        });
    }

    /**
     * Asks to end with the client once the loop has read its FIN (its input is shut down), and answers if the exchange
     * goes on. The FIN is waited for on the loop's timer: read only after the ask (a loaded machine), it would have
     * made the ask one made before the FIN, which is answered.
     */
    private static void endWithTheClientOnceItsFinCame(Exchange exchange, long bodyBytes) {
        Channel client = exchange.clientChannel();
        if (client.isActive() && !((DuplexChannel) client).isInputShutdown()) {
            client.eventLoop().schedule(() -> endWithTheClientOnceItsFinCame(exchange, bodyBytes), 10,
                    TimeUnit.MILLISECONDS);
            return;
        }
        exchange.endOnClientClose(true);
        if (!exchange.isEnded()) {
            answer(exchange, bodyBytes);
        }
    }

    private static long delayOf(String query) {
        return param(query, "delay");
    }

    private static long param(String query, String name) {
        for (String part : query.split("&")) {
            if (part.startsWith(name + "=")) {
                return Long.parseLong(part.substring(name.length() + 1));
            }
        }
        return 0;
    }

    private static void answer(Exchange exchange, long bodyBytes) {
        long size = param(exchange.query(), "size");
        if (size > 0) {
            answerLarge(exchange, size);
            return;
        }
        String text = exchange.path() + "?" + exchange.query() + " body=" + bodyBytes;
        ByteBuf body = exchange.isHead() ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, text.getBytes(StandardCharsets.UTF_8).length);
        exchange.complete(exchange.writeAndFlush(response));
    }

    /** {@code size} bytes in 64 KiB chunks, each written when the client can take it. */
    private static void answerLarge(Exchange exchange, long size) {
        io.netty.handler.codec.http.HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, size);
        exchange.write(head);
        writeChunks(exchange, size);
    }

    private static void writeChunks(Exchange exchange, long remaining) {
        while (remaining > 0 && exchange.isWritable() && exchange.clientChannel().isActive()) {
            int n = (int) Math.min(65536, remaining);
            remaining -= n;
            exchange.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(
                    exchange.clientChannel().alloc().buffer(n).writeZero(n)));
        }
        if (remaining == 0) {
            exchange.complete(exchange.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
        } else if (exchange.clientChannel().isActive()) {
            long left = remaining;
            exchange.onWritable(() -> writeChunks(exchange, left));
        }
    }
}
