package io.edge.core.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LimitRate;
import io.edge.conf.LocationSettings;
import io.edge.core.cache.ResponseCacheGateTest.FakeExchange;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A stored answer going out, paced by its location's limit-rate, on the loop's clock (frozen, moved by hand). */
class SlicedAnswerTest {

    final EmbeddedChannel client = new EmbeddedChannel();

    {
        client.freezeTime();
    }

    @AfterEach
    void close() {
        client.finishAndReleaseAll();
    }

    static LocationSettings limited(LimitRate limitRate) {
        return LocationSettings.builder("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null).limitRate(limitRate).build();
    }

    /** Moves the loop's clock on by {@code time}, then runs what is due and what that queued. */
    void advance(long time, TimeUnit unit) {
        client.advanceTimeBy(time, unit);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
    }

    FakeExchange get(LocationSettings location) {
        FakeExchange exchange = new FakeExchange(client,
                new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/page.php"));
        exchange.location = location;
        return exchange;
    }

    /**
     * A hit goes out as a script's answer does under the location's limit-rate: the first second's worth at once, then
     * a quarter second's worth each time the rate allows it; whole in the end, the stored copy released.
     */
    @Test
    void aHitIsPacedByItsLocationsLimitRate() {
        FullHttpResponse response = CachedRangesTest.stored(300_000);
        String all = response.content().toString(StandardCharsets.US_ASCII);
        FakeExchange exchange = get(limited(new LimitRate(64 * 1024, 0)));
        SlicedAnswer.answer(exchange, response, null);
        client.runPendingTasks();
        // pieces of 16 KiB while no more than the first second's worth went: five of them
        assertThat(exchange.body.size()).isEqualTo(5 * 16 * 1024);
        advance(249, TimeUnit.MILLISECONDS);
        assertThat(exchange.body.size()).isEqualTo(5 * 16 * 1024);
        advance(1, TimeUnit.MILLISECONDS);
        assertThat(exchange.body.size()).as("the next piece at 0.25 s").isEqualTo(6 * 16 * 1024);
        assertThat(exchange.ended).isFalse();
        for (int i = 0; i < 20 && !exchange.ended; i++) {
            advance(250, TimeUnit.MILLISECONDS);
        }
        assertThat(exchange.ended).isTrue();
        assertThat(exchange.body.toString(StandardCharsets.US_ASCII)).isEqualTo(all);
        assertThat(response.refCnt()).isZero();
    }

    /** Within the first second's worth (and "after"), a hit goes in one write, as an unpaced one of a slice at most. */
    @Test
    void aHitThePaceLetsGoAtOnceIsOneWrite() {
        FullHttpResponse response = CachedRangesTest.stored(2000);
        FakeExchange exchange = get(limited(new LimitRate(1000, 1000)));
        SlicedAnswer.answer(exchange, response, null);
        assertThat(exchange.head).isInstanceOf(FullHttpResponse.class);
        assertThat(exchange.ended).isTrue();
        FullHttpResponse larger = CachedRangesTest.stored(2001);
        FakeExchange paced = get(limited(new LimitRate(1000, 1000)));
        SlicedAnswer.answer(paced, larger, null);
        assertThat(paced.head).isNotInstanceOf(FullHttpResponse.class);
        advance(10, TimeUnit.SECONDS);
        assertThat(paced.ended).isTrue();
        assertThat(paced.body.size()).isEqualTo(2001);
    }

    /**
     * A hit whose script sent X-Accel-Limit-Rate goes at that pace, with its location's "after" at full speed, as the
     * miss went: 10 000 bytes, then the first second's worth of 4096 a second in its 4 KiB pieces, the rest a second
     * later.
     */
    @Test
    void aHitIsPacedByTheScriptsXAccelLimitRateWithItsLocationsAfter() {
        FullHttpResponse response = CachedRangesTest.stored(20_000);
        String all = response.content().toString(StandardCharsets.US_ASCII);
        FakeExchange exchange = get(limited(new LimitRate(1 << 20, 10_000)));
        SlicedAnswer.answer(exchange, response, "4096");
        client.runPendingTasks();
        assertThat(exchange.body.size()).isEqualTo(10_000 + 2 * 4096);
        advance(999, TimeUnit.MILLISECONDS);
        assertThat(exchange.ended).isFalse();
        advance(1, TimeUnit.MILLISECONDS);
        assertThat(exchange.ended).isTrue();
        assertThat(exchange.body.toString(StandardCharsets.US_ASCII)).isEqualTo(all);
    }

    /**
     * A hit whose script sent X-Accel-Limit-Rate: 0 goes unpaced, as the miss went, though its location has a
     * limit-rate; one whose script sent no number is paced by the location's, as nginx ignores such a header.
     */
    @Test
    void aHitWhoseScriptSaidNoLimitGoesAtOnce() {
        FullHttpResponse response = CachedRangesTest.stored(20_000);
        FakeExchange exchange = get(limited(new LimitRate(1000, 0)));
        SlicedAnswer.answer(exchange, response, "0");
        assertThat(exchange.head).isInstanceOf(FullHttpResponse.class);
        assertThat(exchange.ended).isTrue();
        FullHttpResponse other = CachedRangesTest.stored(20_000);
        FakeExchange paced = get(limited(new LimitRate(1000, 0)));
        SlicedAnswer.answer(paced, other, "fast");
        assertThat(paced.head).isNotInstanceOf(FullHttpResponse.class);
        client.runPendingTasks();
        assertThat(paced.ended).isFalse();
        advance(30, TimeUnit.SECONDS);
        assertThat(paced.ended).isTrue();
        assertThat(paced.body.size()).isEqualTo(20_000);
    }

    /** A client that leaves while its hit waits for the pace: the stored copy is let go at the next piece. */
    @Test
    void aHitWhoseClientLeftIsReleased() {
        FullHttpResponse response = CachedRangesTest.stored(300_000);
        FakeExchange exchange = get(limited(new LimitRate(4096, 0)));
        SlicedAnswer.answer(exchange, response, null);
        client.runPendingTasks();
        assertThat(response.refCnt()).isPositive();
        exchange.clientLeaves();
        advance(10, TimeUnit.SECONDS);
        assertThat(response.refCnt()).isZero();
    }
}
