package io.edge.core.limit;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LimitRate;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BodyPaceTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** Its loop's clock stands still until a test moves it. */
    private final EmbeddedChannel channel = new EmbeddedChannel();

    {
        channel.freezeTime();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    @Test
    void theFirstSecondsWorthPastAfterIsFreeThenTheRateHolds() {
        LimitRate rate = new LimitRate(1000, 0);
        assertThat(BodyPace.waitNanos(rate, 1000, 0)).as("a second's worth at once").isLessThanOrEqualTo(0);
        assertThat(BodyPace.waitNanos(rate, 1500, 0)).isEqualTo(SECOND / 2);
        assertThat(BodyPace.waitNanos(rate, 1500, SECOND / 2)).as("due now").isZero();
        assertThat(BodyPace.waitNanos(rate, 3000, SECOND / 2)).isEqualTo(3 * SECOND / 2);
    }

    @Test
    void bytesBeforeAfterAreNotCounted() {
        LimitRate rate = new LimitRate(1000, 10_000);
        assertThat(BodyPace.waitNanos(rate, 10_000, 0)).isLessThanOrEqualTo(0);
        assertThat(BodyPace.waitNanos(rate, 11_000, 0)).isLessThanOrEqualTo(0);
        assertThat(BodyPace.waitNanos(rate, 12_000, 0)).isEqualTo(SECOND);
    }

    /** The sender's next try runs on the loop once the rate allows it, and only then; one wait at a time. */
    @Test
    void aheadOfTheRateTheNextTryIsScheduledOnceForWhenItIsAllowed() {
        BodyPace pace = new BodyPace(new LimitRate(1000, 0), channel.eventLoop());
        AtomicInteger tries = new AtomicInteger();
        assertThat(pace.holds(1000, tries::incrementAndGet)).as("within the free second").isFalse();
        assertThat(pace.holds(1250, tries::incrementAndGet)).isTrue();
        assertThat(pace.holds(1250, tries::incrementAndGet)).as("waiting already: no second wait").isTrue();
        channel.advanceTimeBy(249, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(tries).hasValue(0);
        channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(tries).as("one try, at 0.25 s").hasValue(1);
        assertThat(pace.holds(1250, tries::incrementAndGet)).as("the wait is over").isFalse();
        assertThat(channel.runScheduledPendingTasks()).as("nothing else scheduled").isEqualTo(-1);
    }

    @Test
    void aCancelledWaitRunsNothingAndLeavesNothingScheduled() {
        BodyPace pace = new BodyPace(new LimitRate(1000, 0), channel.eventLoop());
        AtomicInteger tries = new AtomicInteger();
        assertThat(pace.holds(5000, tries::incrementAndGet)).isTrue();
        pace.cancel();
        pace.cancel();
        channel.advanceTimeBy(10, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(tries).hasValue(0);
        assertThat(channel.runScheduledPendingTasks()).isEqualTo(-1);
    }

    /** Up to after in one piece, exactly; past it a quarter second's worth, 4 KiB at least, never more than asked. */
    @Test
    void piecesGoUpToAfterExactlyThenAQuarterSecondsWorth() {
        BodyPace pace = new BodyPace(new LimitRate(64 * 1024, 10_000), channel.eventLoop());
        assertThat(pace.piece(0, 65_536)).isEqualTo(10_000);
        assertThat(pace.piece(9_000, 65_536)).isEqualTo(1_000);
        assertThat(pace.piece(10_000, 65_536)).isEqualTo(16 * 1024);
        assertThat(pace.piece(10_000, 100)).isEqualTo(100);
        BodyPace slow = new BodyPace(new LimitRate(100, 0), channel.eventLoop());
        assertThat(slow.piece(0, 65_536)).as("nginx's floor").isEqualTo(BodyPace.MIN_PIECE);
    }

    @Test
    void aWholeBodyGoesAtOnceOnlyWithinAfterAndTheFreeSecond() {
        BodyPace pace = new BodyPace(new LimitRate(1000, 500), channel.eventLoop());
        assertThat(pace.allowsAtOnce(1500)).isTrue();
        assertThat(pace.allowsAtOnce(1501)).isFalse();
        channel.advanceTimeBy(1, TimeUnit.SECONDS);
        assertThat(pace.allowsAtOnce(2500)).as("counted from the body's start").isTrue();
    }
}
