package io.edge.core.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.cache.ResponseCacheGateTest.FakeExchange;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Ranges of stored answers, on a fake exchange that keeps what is written (a real php-fpm's are in ResponseCacheIT). */
class CachedRangesTest {

    final EmbeddedChannel client = new EmbeddedChannel();

    @AfterEach
    void close() {
        client.finishAndReleaseAll();
    }

    /** A stored 200 of {@code length} bytes, byte i being 'a' + i % 26, whose script takes ranges. */
    static FullHttpResponse stored(int length) {
        ByteBuf body = Unpooled.buffer(length);
        for (int i = 0; i < length; i++) {
            body.writeByte('a' + i % 26);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/pdf")
                .set(HttpHeaderNames.CONTENT_LENGTH, length).set(HttpHeaderNames.ACCEPT_RANGES, "bytes");
        return response;
    }

    FakeExchange asking(String range) {
        DefaultHttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/doc.php");
        request.headers().set(HttpHeaderNames.RANGE, range);
        return new FakeExchange(client, request);
    }

    /** Ranges of a body above a slice go out a slice at a time, each after the last was written, all of them. */
    @Test
    void rangesOfALargeAnswerGoOutWholeInSlices() {
        FullHttpResponse response = stored(300_000);
        String all = response.content().toString(StandardCharsets.US_ASCII);
        FakeExchange exchange = asking("bytes=10-99999,200000-");
        assertThat(CachedRanges.answer(exchange, response, null)).isTrue();
        client.runPendingTasks();

        assertThat(exchange.statuses).containsExactly(HttpResponseStatus.PARTIAL_CONTENT);
        String type = exchange.head.headers().get(HttpHeaderNames.CONTENT_TYPE);
        assertThat(type).startsWith("multipart/byteranges; boundary=");
        String boundary = type.substring(type.indexOf('=') + 1);
        String expected = "\r\n--" + boundary + "\r\nContent-Type: application/pdf\r\nContent-Range: bytes 10-99999/300000"
                + "\r\n\r\n" + all.substring(10, 100_000)
                + "\r\n--" + boundary + "\r\nContent-Type: application/pdf\r\nContent-Range: bytes 200000-299999/300000"
                + "\r\n\r\n" + all.substring(200_000) + "\r\n--" + boundary + "--\r\n";
        assertThat(exchange.body.toString(StandardCharsets.US_ASCII)).isEqualTo(expected);
        assertThat(exchange.head.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(expected.length());
        assertThat(exchange.ended).isTrue();
        assertThat(response.refCnt()).as("the stored copy is released with the last slice").isZero();
    }

    @Test
    void oneRangeOfALargeAnswerHasItsContentRange() {
        FullHttpResponse response = stored(300_000);
        String all = response.content().toString(StandardCharsets.US_ASCII);
        FakeExchange exchange = asking("bytes=-150000");
        assertThat(CachedRanges.answer(exchange, response, null)).isTrue();
        client.runPendingTasks();

        assertThat(exchange.head.headers().get(HttpHeaderNames.CONTENT_RANGE)).isEqualTo("bytes 150000-299999/300000");
        assertThat(exchange.head.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/pdf");
        assertThat(exchange.body.toString(StandardCharsets.US_ASCII)).isEqualTo(all.substring(150_000));
        assertThat(response.refCnt()).isZero();
    }

    /** Not its business: nothing written, the answer still the caller's. */
    @Test
    void aRangeThatIsNotBytesOrAnAnswerThatTakesNoRangesIsLeftWhole() {
        FullHttpResponse response = stored(100);
        assertThat(CachedRanges.answer(asking("lines=1-2"), response, null)).isFalse();
        response.headers().remove(HttpHeaderNames.ACCEPT_RANGES);
        FakeExchange exchange = asking("bytes=1-2");
        assertThat(CachedRanges.answer(exchange, response, null)).isFalse();
        assertThat(exchange.statuses).isEmpty();
        assertThat(response.refCnt()).isEqualTo(1);
        response.release();
    }
}
