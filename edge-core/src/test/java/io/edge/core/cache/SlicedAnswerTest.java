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
import java.util.List;
import java.util.Map;
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
        return new LocationSettings("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null, null, List.of(), false, List.of(), null, Map.of(),
                LocationSettings.SERVER_BODY_LIMIT, Map.of(), null, false, false, null, List.of(), null, null, null,
                null, null, true, null, false, limitRate, null, Map.of(), null);
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
        SlicedAnswer.answer(exchange, response);
        client.runPendingTasks();
        // pieces of 16 KiB while no more than the first second's worth went: five of them
        assertThat(exchange.body.size()).isEqualTo(5 * 16 * 1024);
        client.advanceTimeBy(249, TimeUnit.MILLISECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        assertThat(exchange.body.size()).isEqualTo(5 * 16 * 1024);
        client.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        assertThat(exchange.body.size()).as("the next piece at 0.25 s").isEqualTo(6 * 16 * 1024);
        assertThat(exchange.ended).isFalse();
        for (int i = 0; i < 20 && !exchange.ended; i++) {
            client.advanceTimeBy(250, TimeUnit.MILLISECONDS);
            client.runScheduledPendingTasks();
            client.runPendingTasks();
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
        SlicedAnswer.answer(exchange, response);
        assertThat(exchange.head).isInstanceOf(FullHttpResponse.class);
        assertThat(exchange.ended).isTrue();
        FullHttpResponse larger = CachedRangesTest.stored(2001);
        FakeExchange paced = get(limited(new LimitRate(1000, 1000)));
        SlicedAnswer.answer(paced, larger);
        assertThat(paced.head).isNotInstanceOf(FullHttpResponse.class);
        client.advanceTimeBy(10, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        assertThat(paced.ended).isTrue();
        assertThat(paced.body.size()).isEqualTo(2001);
    }

    /** A client that leaves while its hit waits for the pace: the stored copy is let go at the next piece. */
    @Test
    void aHitWhoseClientLeftIsReleased() {
        FullHttpResponse response = CachedRangesTest.stored(300_000);
        FakeExchange exchange = get(limited(new LimitRate(4096, 0)));
        SlicedAnswer.answer(exchange, response);
        client.runPendingTasks();
        assertThat(response.refCnt()).isPositive();
        exchange.clientLeaves();
        client.advanceTimeBy(10, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
        client.runPendingTasks();
        assertThat(response.refCnt()).isZero();
    }
}
