package io.edge.cache.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CoalescerTest {

    final FakeTimer time = new FakeTimer();
    final Coalescer coalescer = new Coalescer(time, Duration.ofSeconds(5));

    @Test
    void concurrentJoinsElectOneLeaderAndReleaseFollowersWhenItIsDone() throws Exception {
        int n = 64;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Coalescer.Ticket>> joins = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                joins.add(pool.submit(() -> {
                    start.await();
                    return coalescer.join("k");
                }));
            }
            start.countDown();
            List<Coalescer.Ticket> tickets = new ArrayList<>();
            for (Future<Coalescer.Ticket> f : joins) {
                tickets.add(f.get(10, TimeUnit.SECONDS));
            }
            List<Coalescer.Ticket> leaders = tickets.stream().filter(Coalescer.Ticket::leader).toList();
            assertThat(leaders).hasSize(1);
            assertThat(coalescer.coalesced()).isEqualTo(n - 1);
            List<CompletableFuture<Coalescer.Outcome>> waits = tickets.stream().filter(t -> !t.leader())
                    .map(Coalescer.Ticket::ended).toList();
            assertThat(waits).noneMatch(CompletableFuture::isDone);
            leaders.get(0).done();
            assertThat(waits).allSatisfy(w -> assertThat(w.getNow(null)).isEqualTo(Coalescer.Outcome.DONE));
            assertThat(coalescer.inFlight()).isZero();
            assertThat(time.pending()).as("the flight's timeout is cancelled").isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aLeaderKnowsWhetherFollowersStillWait() {
        Coalescer.Ticket leader = coalescer.join("k");
        assertThat(leader.hasFollowers()).isFalse();
        Coalescer.Ticket first = coalescer.join("k");
        Coalescer.Ticket second = coalescer.join("k");
        assertThat(leader.hasFollowers()).isTrue();
        first.leave();
        first.leave(); // once only
        assertThat(leader.hasFollowers()).isTrue();
        second.leave();
        assertThat(leader.hasFollowers()).isFalse();
        leader.leave(); // a leader does not leave its flight
        assertThat(leader.hasFollowers()).isFalse();
        leader.done();
    }

    @Test
    void aLeaderHearsOnceNobodyWaitsForItsFlight() {
        Coalescer.Ticket leader = coalescer.join("k");
        List<String> heard = new ArrayList<>();
        leader.whenNobodyWaits(() -> heard.add("none"));
        assertThat(heard).as("nobody waits from the start: at once").containsExactly("none");

        Coalescer.Ticket first = coalescer.join("k");
        Coalescer.Ticket second = coalescer.join("k");
        heard.clear();
        leader.whenNobodyWaits(() -> heard.add("none"));
        first.leave();
        assertThat(heard).isEmpty();
        second.leave();
        second.leave();
        assertThat(heard).as("once, when the last follower left").containsExactly("none");
        leader.done();
        assertThat(heard).containsExactly("none");
    }

    @Test
    void aLeaderHearsNobodyWaitsOnceItsFlightTimedOut() {
        Coalescer.Ticket leader = coalescer.join("k");
        coalescer.join("k");
        List<String> heard = new ArrayList<>();
        leader.whenNobodyWaits(() -> heard.add("none"));
        assertThat(heard).isEmpty();
        time.advanceSeconds(5);
        assertThat(heard).as("the follower went on alone").containsExactly("none");
        assertThat(leader.hasFollowers()).isFalse();
    }

    @Test
    void followersGiveUpAfterTheTimeoutAndTheNextJoinLeadsAgain() {
        Coalescer.Ticket leader = coalescer.join("k");
        CompletableFuture<Coalescer.Outcome> follower = coalescer.join("k").ended();
        time.advance(Duration.ofSeconds(5).toNanos() - 1);
        assertThat(follower).isNotDone();
        time.advance(1);
        assertThat(follower.getNow(null)).isEqualTo(Coalescer.Outcome.TIMED_OUT);
        Coalescer.Ticket next = coalescer.join("k");
        assertThat(next.leader()).isTrue();
        leader.done(); // late: ends nothing, above all not the new flight
        assertThat(coalescer.join("k").leader()).isFalse();
        next.failed();
        assertThat(coalescer.inFlight()).isZero();
    }

    /**
     * nginx's cache lock when its holder's answer is not cached: the waiters take it again, one leads, the others wait on;
     * each waits no longer in all than the timeout from its first wait (fastcgi_cache_lock_timeout), not a new timeout
     * per flight it joins.
     */
    @Test
    void followersOfAnAnswerNotStoredJoinAgainAndWaitNoLongerThanTheTimeoutInAll() {
        Coalescer.Ticket leader = coalescer.join("k");
        CompletableFuture<Coalescer.Outcome> first = coalescer.join("k").ended();
        CompletableFuture<Coalescer.Outcome> second = coalescer.join("k").ended();
        time.advanceSeconds(3);
        leader.notStored();
        leader.done(); // once ended, a flight stays as it ended
        assertThat(first.getNow(null)).isEqualTo(Coalescer.Outcome.NOT_STORED);
        assertThat(second.getNow(null)).isEqualTo(Coalescer.Outcome.NOT_STORED);
        assertThat(coalescer.inFlight()).isZero();

        long waited = Duration.ofSeconds(3).toNanos();
        Coalescer.Ticket next = coalescer.join("k", false, waited);
        assertThat(next.leader()).as("the first to join again leads").isTrue();
        Coalescer.Ticket waiting = coalescer.join("k", false, waited);
        assertThat(waiting.leader()).isFalse();
        assertThat(coalescer.coalesced()).as("counted at their first wait").isEqualTo(2);
        time.advance(Duration.ofSeconds(2).toNanos() - 1);
        assertThat(waiting.ended()).isNotDone();
        time.advance(1);
        assertThat(waiting.ended().getNow(null)).as("5 s in all").isEqualTo(Coalescer.Outcome.TIMED_OUT);
        assertThat(next.hasFollowers()).as("it left the flight, which flies on").isFalse();
        assertThat(coalescer.inFlight()).isOne();
        assertThat(coalescer.join("k", false, Duration.ofSeconds(5).toNanos()).ended().getNow(null))
                .as("no wait left: over at once").isEqualTo(Coalescer.Outcome.TIMED_OUT);
        assertThat(next.hasFollowers()).isFalse();
        next.done();
        assertThat(time.pending()).as("no timer left behind").isZero();
    }

    /**
     * A follower in its second wait has a timer of its own (what is left of the timeout in all): its client leaving
     * cancels it, so the timer no longer holds the ticket (and its flight) until the timeout; the flight's own stays.
     */
    @Test
    void aFollowerThatLeavesCancelsItsOwnTimer() {
        Coalescer.Ticket leader = coalescer.join("k");
        Coalescer.Ticket follower = coalescer.join("k", false, Duration.ofSeconds(3).toNanos());
        assertThat(time.pending()).as("the flight's timer and the follower's").isEqualTo(2);
        follower.leave();
        assertThat(time.pending()).as("the flight's alone").isOne();
        assertThat(leader.hasFollowers()).isFalse();
        assertThat(follower.ended()).isNotDone();
        leader.done();
        assertThat(time.pending()).isZero();
    }

    @Test
    void failureReleasesFollowersWithFailedAndOnlyTheLeaderEndsAFlight() {
        Coalescer.Ticket leader = coalescer.join("k");
        Coalescer.Ticket follower = coalescer.join("k");
        assertThat(coalescer.join("other").leader()).isTrue();
        assertThatThrownBy(follower::done).isInstanceOf(IllegalStateException.class);
        leader.failed();
        leader.done();
        assertThat(follower.ended().getNow(null)).isEqualTo(Coalescer.Outcome.FAILED);
    }

    /** A follower's wait counts as a wait for the queue only until its leader's request left the queue. */
    @Test
    void aFollowerHasWaitedForTheQueueOnlyWhileItsLeaderWasInIt() throws Exception {
        Coalescer.Ticket leader = coalescer.join("k");
        Coalescer.Ticket follower = coalescer.join("k");
        long joined = System.nanoTime();
        assertThatThrownBy(() -> follower.leaderLeased()).isInstanceOf(IllegalStateException.class);
        Thread.sleep(5);
        long queuedBefore = follower.queuedSince(joined);
        assertThat(queuedBefore).isPositive();
        leader.leaderLeased();
        long queued = follower.queuedSince(joined);
        Thread.sleep(5);
        assertThat(follower.queuedSince(joined)).as("no more once the leader has its connection").isEqualTo(queued);
        assertThat(follower.queuedSince(System.nanoTime())).isZero();
    }

    @Test
    void tryLeadNeverWaits() {
        Coalescer.Ticket refresh = coalescer.tryLead("k");
        assertThat(refresh.leader()).isTrue();
        assertThat(coalescer.tryLead("k")).isNull();
        refresh.done();
        assertThat(coalescer.tryLead("k")).isNotNull();
    }
}
