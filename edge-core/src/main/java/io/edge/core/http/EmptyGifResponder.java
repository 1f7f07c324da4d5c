package io.edge.core.http;

import io.edge.core.statics.Preconditions;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A location's {@code empty-gif}, nginx's {@code empty_gif}: a GET or HEAD is answered with the 1x1 transparent GIF
 * nginx sends, byte for byte, as {@code image/gif} with nginx's Last-Modified (its preconditions judged by that date,
 * as a file's are); any other method is 405. The request's body is left unread (the connection drops it). Stateless:
 * one serves every location.
 */
public final class EmptyGifResponder implements Responder {

    /**
     * The GIF, 43 bytes: header {@code GIF89a}; a 1x1 screen with a global table of two colours (black, white),
     * background #1; a graphic control extension making #1 transparent; a 1x1 image of LZW code size 2 whose two data
     * bytes are clear, 1, end; the trailer {@code ;}.
     */
    private static final byte[] GIF = {
        'G', 'I', 'F', '8', '9', 'a',
        0x01, 0x00, 0x01, 0x00, (byte) 0x80, 0x01, 0x00,
        0x00, 0x00, 0x00, (byte) 0xff, (byte) 0xff, (byte) 0xff,
        0x21, (byte) 0xf9, 0x04, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0x02, 0x02, 0x4c, 0x01, 0x00,
        0x3b,
    };

    /** nginx's {@code last_modified_time = 23349600}: Mon, 28 Sep 1970 06:00:00 GMT, in ms. */
    static final long LAST_MODIFIED_MILLIS = 23_349_600_000L;

    private static final CharSequence LAST_MODIFIED = HttpDate.format(LAST_MODIFIED_MILLIS);

    @Override
    public void respond(Exchange exchange) {
        HttpMethod method = exchange.request().method();
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            exchange.sendError(HttpResponseStatus.METHOD_NOT_ALLOWED);
            return;
        }
        switch (Preconditions.evaluate(exchange.request().headers(), true, null, LAST_MODIFIED_MILLIS)) {
            case NOT_MODIFIED -> {
                FullHttpResponse notModified = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER);
                notModified.headers().set(HttpHeaderNames.LAST_MODIFIED, LAST_MODIFIED);
                exchange.complete(exchange.writeAndFlush(notModified));
                return;
            }
            case PRECONDITION_FAILED -> {
                exchange.sendError(HttpResponseStatus.PRECONDITION_FAILED);
                return;
            }
            case PROCEED -> {
            }
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                exchange.isHead() ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(GIF));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "image/gif")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, GIF.length)
                .set(HttpHeaderNames.LAST_MODIFIED, LAST_MODIFIED);
        exchange.complete(exchange.writeAndFlush(response)); // the write owns the body
    }
}
