package io.edge.fastcgi.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.BackendGroupSettings.Balance;
import io.edge.fastcgi.BackendUnavailableException;
import io.edge.fastcgi.PoolClosedException;
import io.edge.fastcgi.QueueFullException;
import io.edge.fastcgi.QueueTimeoutException;
import java.util.concurrent.TimeUnit;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.io.FileNotFoundException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackendPoolTest {

    /** Records connects; the test completes them. */
    static final class FakeConnector implements Connector {
        record Pending(EventLoop loop, BackendAddress address, Promise<Channel> promise) {
        }

        record Move(Channel channel, EventLoop loop) {
        }

        final ArrayDeque<Pending> pending = new ArrayDeque<>();
        final List<EmbeddedChannel> opened = new ArrayList<>();
        final List<Move> moves = new ArrayList<>();
        boolean failMoves;

        @Override
        public Future<Void> move(Channel channel, EventLoop loop) {
            moves.add(new Move(channel, loop));
            return failMoves ? loop.newFailedFuture(new IllegalStateException("not movable"))
                    : loop.newSucceededFuture(null);
        }

        @Override
        public Future<Channel> connect(EventLoop loop, BackendAddress address) {
            Promise<Channel> p = loop.newPromise();
            pending.add(new Pending(loop, address, p));
            return p;
        }

        Pending succeedNext() {
            Pending p = pending.poll();
            EmbeddedChannel ch = new BackendChannel();
            opened.add(ch);
            p.promise().setSuccess(ch);
            return p;
        }

        Pending failNext(Throwable cause) {
            Pending p = pending.poll();
            p.promise().setFailure(cause);
            return p;
        }

        void succeedAll() {
            while (!pending.isEmpty()) {
                succeedNext();
            }
        }
    }

    /** A connection the backend may close before edge has seen it: inactive, its close not yet fired. */
    static final class BackendChannel extends EmbeddedChannel {
        boolean closedByBackend;

        @Override
        public boolean isActive() {
            return !closedByBackend && super.isActive();
        }
    }

    final FakeTimers timers = new FakeTimers();
    final FakeConnector connector = new FakeConnector();
    final EventLoop loopA = new EmbeddedChannel().eventLoop();
    final EventLoop loopB = new EmbeddedChannel().eventLoop();
    BackendPool pool;

    static BackendGroupSettings settings(List<String> addresses, Balance balance, int maxConnections, int maxWaiters,
            boolean keepAlive, int maxFails) {
        return new BackendGroupSettings("php", addresses, balance, maxConnections,
                new BackendGroupSettings.Queue(maxWaiters, Duration.ofMillis(1000), Duration.ofSeconds(1)),
                new BackendGroupSettings.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(30)),
                new BackendGroupSettings.KeepAlive(keepAlive, Duration.ofSeconds(10), 3),
                new BackendGroupSettings.Health(maxFails, Duration.ofSeconds(5)), null,
                new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30));
    }

    /** A pool for the same address that a reload builds in {@code old}'s place, as Edge does. */
    BackendPool replacing(BackendPool old, int maxConnections, int maxWaiters, boolean keepAlive) {
        return new BackendPool(settings(List.of("unix:/run/php.sock"), Balance.LEAST_CONNECTIONS, maxConnections,
                maxWaiters, keepAlive, 2), connector, timers, old);
    }

    BackendPool pool(BackendGroupSettings s) {
        pool = new BackendPool(s, connector, timers);
        return pool;
    }

    BackendPool onePhp(int max, int waiters) {
        return pool(settings(List.of("unix:/run/php.sock"), Balance.LEAST_CONNECTIONS, max, waiters, true, 2));
    }

    @AfterEach
    void invariants() {
        if (pool != null) {
            pool.checkInvariants();
            pool.close();
        }
        connector.opened.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    @Test
    void freeSlotConnectsAtOnce() {
        onePhp(2, 10);
        Future<Lease> f = pool.acquire(loopA);
        assertThat(connector.pending).hasSize(1);
        connector.succeedNext();
        assertThat(f.isSuccess()).isTrue();
        assertThat(f.getNow().isReused()).isFalse();
        assertThat(pool.stats().open()).isEqualTo(1);
        pool.checkInvariants();
    }

    @Test
    void fullGroupQueuesFifoAndFreedSlotGoesToOldestWaiter() {
        onePhp(1, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> second = pool.acquire(loopA);
        Future<Lease> third = pool.acquire(loopA);
        assertThat(second.isDone()).isFalse();
        assertThat(pool.stats().waiters()).isEqualTo(2);
        pool.checkInvariants();

        first.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(second.isSuccess()).isTrue();
        assertThat(second.getNow().isReused()).isTrue(); // same loop: the kept-alive connection itself
        assertThat(second.getNow().channel()).isSameAs(first.getNow().channel());
        assertThat(third.isDone()).isFalse();
        pool.checkInvariants();

        second.getNow().release(Lease.Outcome.CLOSE);
        assertThat(third.isDone()).isFalse(); // the slot went to a new connection for the third
        assertThat(connector.pending).hasSize(1);
        connector.succeedNext();
        assertThat(third.isSuccess()).isTrue();
        assertThat(pool.stats().open()).isEqualTo(1);
    }

    /** A request cut off while going out frees its slot at once: its worker reads the end of its input. */
    @Test
    void anAbandonedConnectionFreesItsSlotAtOnce() {
        onePhp(1, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> queued = pool.acquire(loopA);
        first.getNow().release(Lease.Outcome.ABANDONED);
        assertThat(first.getNow().channel().isActive()).isFalse();
        assertThat(pool.stats().lingering()).isZero();
        assertThat(connector.pending).as("the queued request connects at once").hasSize(1);
        connector.succeedNext();
        assertThat(queued.isSuccess()).isTrue();
        pool.checkInvariants();
        pool.close();
    }

    /**
     * php-fpm goes on running a script whose connection closed: a connection closed in a timeout keeps its slot for
     * the linger (the read timeout, 30 s here), so requests wait in the queue, visibly and with its timeout, instead
     * of in php-fpm's listen backlog.
     */
    @Test
    void aTimedOutConnectionKeepsItsSlotForTheLinger() {
        for (Lease.Outcome outcome : new Lease.Outcome[] {Lease.Outcome.TIMED_OUT}) {
            onePhp(1, 10);
            Future<Lease> first = pool.acquire(loopA);
            connector.succeedNext();
            Future<Lease> queued = pool.acquire(loopA);
            first.getNow().release(outcome);
            assertThat(first.getNow().channel().isActive()).as(outcome + ": closed at once").isFalse();
            assertThat(queued.isDone()).as(outcome.name()).isFalse();
            assertThat(connector.pending).as(outcome + ": no connect while the worker may be busy").isEmpty();
            assertThat(pool.stats().open()).isEqualTo(1);
            assertThat(pool.stats().lingering()).isEqualTo(1);
            pool.checkInvariants();
            timers.advanceMillis(1000);
            assertThat(queued.cause()).as(outcome.name()).isInstanceOf(QueueTimeoutException.class);

            timers.advanceMillis(28_500);
            Future<Lease> next = pool.acquire(loopA);
            timers.advanceMillis(500); // the linger ends 30 s after the close
            assertThat(pool.stats().lingering()).isZero();
            assertThat(connector.pending).as(outcome.name()).hasSize(1);
            connector.succeedNext();
            assertThat(next.isSuccess()).isTrue();
            pool.checkInvariants();
            pool.close();
        }
    }

    /**
     * With kept connections idle for longer than the read timeout, a spawned php-fpm's request_terminate_timeout is the
     * sum of both, so a hung script may run on for the idle timeout after edge gave up: the slot lingers that long.
     */
    @Test
    void aTimedOutConnectionToASpawnedPhpFpmLingersForTheIdleTimeoutWhenItIsLongerThanTheReadTimeout() {
        BackendGroupSettings.Timeouts timeouts =
                new BackendGroupSettings.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(30));
        BackendGroupSettings.KeepAlive keepAlive = new BackendGroupSettings.KeepAlive(true, Duration.ofSeconds(45), 0);
        pool(new BackendGroupSettings("php", List.of("unix:/run/php.sock"), Balance.LEAST_CONNECTIONS, 1,
                new BackendGroupSettings.Queue(10, Duration.ofSeconds(10), Duration.ofSeconds(1)), timeouts, keepAlive,
                new BackendGroupSettings.Health(2, Duration.ofSeconds(5)),
                new BackendGroupSettings.Spawn(Path.of("/usr/sbin/php-fpm8.2"), 1, List.of(), Path.of("/run/edge/php"),
                        false, BackendGroupSettings.requestTerminateTimeout(timeouts, keepAlive)),
                new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30)));
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        first.getNow().release(Lease.Outcome.TIMED_OUT);
        timers.advanceMillis(44_000);
        Future<Lease> next = pool.acquire(loopA);
        assertThat(pool.stats().lingering()).as("past the read timeout, within the idle timeout").isEqualTo(1);
        assertThat(connector.pending).isEmpty();
        timers.advanceMillis(1_000);
        assertThat(pool.stats().lingering()).isZero();
        assertThat(connector.pending).hasSize(1);
        connector.succeedNext();
        assertThat(next.isSuccess()).isTrue();
        pool.checkInvariants();
        pool.close();
    }

    /**
     * A reload that changes a group's settings builds a new pool beside the old one: its 503 counters (status page,
     * Prometheus counters "since start") started again from 0, while the group's queue-wait count went on.
     */
    @Test
    void aPoolThatReplacesAnotherGoesOnFromItsCountersWhileTheOldOneStillCounts() {
        BackendPool old = onePhp(1, 0);
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        assertThat(old.acquire(loopA).cause()).isInstanceOf(QueueFullException.class);
        BackendPool next = replacing(old, 1, 0, true);
        try {
            assertThat(next.stats().rejectedFull()).isEqualTo(1);
            assertThat(old.acquire(loopA).cause()).isInstanceOf(QueueFullException.class); // a request of the old one
            // the old pool's connection takes the address's one slot (SharedSlots): no room in a queue of 0
            assertThat(next.acquire(loopA).cause()).isInstanceOf(QueueFullException.class);
            assertThat(next.stats().rejectedFull()).isEqualTo(3);
            running.getNow().release(Lease.Outcome.CLOSE);
            next.acquire(loopA);
            assertThat(next.stats().open()).isEqualTo(1); // gauges are its own
            assertThat(old.stats().open()).isZero();
        } finally {
            next.checkInvariants();
            next.close();
        }
    }

    /**
     * A reload that changes a group builds a new pool while requests finish on the old one: their connections take
     * workers of the same php-fpm, so the address's slots are shared. The new pool's request waits for the slot the
     * old one holds and gets it when that is released (the old pool, replaced, keeps no idle connection for nobody);
     * an idle connection of the old pool is closed when the new one comes, since it holds a worker.
     */
    @Test
    void aPoolThatReplacesAnotherWaitsForTheSlotsItsConnectionsHold() {
        BackendPool old = onePhpKeepingConnections(2, 10);
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        Future<Lease> idle = old.acquire(loopB);
        connector.succeedNext();
        Channel idleChannel = idle.getNow().channel();
        idle.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(old.stats().idle()).isEqualTo(1);
        BackendPool next = replacing(old, 2, 10, true);
        try {
            assertThat(idleChannel.isActive()).as("the old pool's idle connection held a worker").isFalse();
            assertThat(old.stats().open()).isEqualTo(1);
            Future<Lease> first = next.acquire(loopA);
            assertThat(connector.pending).hasSize(1);
            connector.succeedNext();
            assertThat(first.isSuccess()).isTrue();
            Future<Lease> waiting = next.acquire(loopA);
            assertThat(waiting.isDone()).as("both slots taken, one by the old pool").isFalse();
            assertThat(connector.pending).isEmpty();
            running.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(old.stats().open()).as("not kept: the old pool has no one to keep it for").isZero();
            assertThat(connector.pending).hasSize(1);
            connector.succeedNext();
            assertThat(waiting.isSuccess()).isTrue();
            // retired (closed) while a lease of its own is still out: that slot too comes to the new pool's queue
            Future<Lease> late = old.acquire(loopA);
            assertThat(late.isDone()).isFalse();
            waiting.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(late.isSuccess()).isTrue();
            Future<Lease> newest = next.acquire(loopA);
            old.close();
            late.getNow().release(Lease.Outcome.CLOSE);
            assertThat(connector.pending).as("the closed pool's freed slot, offered to the new pool").hasSize(1);
            connector.succeedNext();
            assertThat(newest.isSuccess()).isTrue();
            next.checkInvariants();
            old.checkInvariants();
        } finally {
            next.close();
            old.close();
        }
    }

    /**
     * A request that still goes to the replaced pool (a body spooled across the reload, a retry) waits for a slot
     * the new pool keeps idle: the new pool gives it up rather than keep it while that request waits, and keeps none
     * idle while another pool's requests wait.
     */
    @Test
    void aRequestOfTheReplacedPoolGetsTheSlotTheNewPoolKeepsIdle() {
        BackendPool old = onePhpKeepingConnections(1, 10);
        BackendPool next = replacing(old, 1, 10, true);
        try {
            Future<Lease> warm = next.acquire(loopA);
            connector.succeedNext();
            warm.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(next.stats().idle()).isEqualTo(1);
            Future<Lease> late = old.acquire(loopA);
            assertThat(next.stats().open()).as("its idle connection given up").isZero();
            connector.succeedNext();
            assertThat(late.isSuccess()).isTrue();

            Future<Lease> queuedNew = next.acquire(loopA);
            Future<Lease> queuedOld = old.acquire(loopB);
            late.getNow().release(Lease.Outcome.REUSABLE); // its own waiter first
            assertThat(queuedOld.isSuccess()).isTrue();
            assertThat(queuedNew.isDone()).isFalse();
            queuedOld.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(old.stats().open()).as("replaced, nobody waiting there: not kept").isZero();
            connector.succeedNext();
            assertThat(queuedNew.isSuccess()).isTrue();
            next.checkInvariants();
            old.checkInvariants();
        } finally {
            next.close();
        }
    }

    /**
     * A reload raising max-connections under load: the old pool's queued requests, older than any of the new pool's,
     * go to the new pool when it takes over, ahead of its own and with their deadlines; later requests to the old pool
     * go there too. With two queues the new pool's requests took every freed slot and the old ones timed out.
     */
    @Test
    void aNewPoolTakesTheQueueOfThePoolItReplacesAtItsAddresses() {
        BackendPool old = onePhp(1, 10);
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        Future<Lease> oldWaiter1 = old.acquire(loopA);
        Future<Lease> oldWaiter2 = old.acquire(loopA);
        timers.advanceMillis(600);
        BackendPool next = replacing(old, 2, 10, false);
        try {
            Future<Lease> fresh = next.acquire(loopA);
            assertThat(connector.pending).as("the new pool's second slot").hasSize(1);
            next.takeOver();
            Future<Lease> late = old.acquire(loopA); // a body spooled across the reload: asked of the old pool
            assertThat(old.stats().waiters()).isZero();
            assertThat(next.stats().waiters()).isEqualTo(3);
            connector.succeedNext();
            assertThat(fresh.isSuccess()).as("already connecting for it").isTrue();
            fresh.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(oldWaiter1.isSuccess()).as("the oldest first").isTrue();
            running.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(oldWaiter2.isSuccess()).isTrue();
            assertThat(late.isDone()).isFalse();
            timers.advanceMillis(400);
            assertThat(late.isDone()).as("its own deadline, 1 s from its start").isFalse();
            timers.advanceMillis(600);
            assertThat(late.cause()).isInstanceOf(QueueTimeoutException.class);
            next.checkInvariants();
        } finally {
            next.close();
        }
    }

    /** A handed-over request whose client leaves, or whose time runs out, leaves the new queue, and only it. */
    @Test
    void aHandedOverRequestCancelledOrTimedOutLeavesOnlyTheQueueItIsIn() {
        BackendPool old = onePhp(1, 10);
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        Future<Lease> gone = old.acquire(loopA);
        Future<Lease> second = old.acquire(loopA);
        BackendPool next = replacing(old, 1, 10, false);
        try {
            next.takeOver();
            assertThat(next.stats().waiters()).isEqualTo(2);
            assertThat(gone.cancel(false)).isTrue();
            assertThat(next.stats().waiters()).isEqualTo(1);
            assertThat(old.stats().waiters()).isZero();
            next.checkInvariants();
            old.checkInvariants();
            running.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(second.isSuccess()).isTrue();
            Future<Lease> late = old.acquire(loopA); // forwarded
            timers.advanceMillis(1000);
            assertThat(late.cause()).isInstanceOf(QueueTimeoutException.class);
            assertThat(next.stats().waiters()).isZero();
            next.checkInvariants();
        } finally {
            next.close();
        }
    }

    @Test
    void aHandedOverRequestKeepsItsDeadline() {
        BackendPool old = onePhp(1, 10);
        old.acquire(loopA);
        connector.succeedNext();
        Future<Lease> waiting = old.acquire(loopA);
        timers.advanceMillis(700);
        BackendPool next = replacing(old, 1, 10, false);
        try {
            next.takeOver();
            timers.advanceMillis(299);
            assertThat(waiting.isDone()).isFalse();
            timers.advanceMillis(1);
            assertThat(waiting.cause()).isInstanceOf(QueueTimeoutException.class);
        } finally {
            next.close();
        }
    }

    /**
     * A spawn change's new php-fpm (another socket, the same files): the old pool's queued requests, and those asked of
     * it later (a body spooled across the reload), go to the new one at once. They stayed queued for the old php-fpm
     * while the new one idled, and had 502 when its pool retired at the drain's end.
     */
    @Test
    void aSpawnedGroupsNewPoolTakesTheQueueOfThePoolItReplacesAtOnce() {
        BackendPool old = pool(spawnedAt("unix:/run/php.sock"));
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        Future<Lease> waiting = old.acquire(loopA);
        BackendPool next = new BackendPool(spawnedAt("unix:/run/php.2.sock"), connector, timers, old);
        try {
            next.takeOver();
            Future<Lease> late = old.acquire(loopA);
            assertThat(old.stats().waiters()).isZero();
            assertThat(next.stats().waiters()).as("the handed-over request connecting, the late one waiting").isEqualTo(1);
            connector.succeedNext();
            assertThat(waiting.isSuccess()).as("on the new php-fpm, while the old one's worker is still busy").isTrue();
            assertThat(waiting.getNow().address().spec()).isEqualTo("unix:/run/php.2.sock");
            waiting.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(late.isSuccess()).isTrue();
            late.getNow().release(Lease.Outcome.CLOSE);
            running.getNow().release(Lease.Outcome.CLOSE);
            next.checkInvariants();
            old.checkInvariants();
        } finally {
            old.close();
            next.close();
        }
    }

    /**
     * A reload that writes the group's address another way ({@code [::1]:9000} for {@code [0::1]:9000}) builds a pool
     * for the same php-fpm: it takes the old pool's queue, and the old pool's running request holds the one slot. The
     * new pool counted its connections apart and connected past max-connections, and the old queue waited there.
     */
    @ParameterizedTest
    @CsvSource({"[0::1]:9000, [::1]:9000", "PHP:9000, php:9000", "unix:/run/php//fpm.sock, unix:/run/php/fpm.sock"})
    void aReloadThatRespellsAnAddressSharesItsSlots(String was, String now) {
        BackendPool old = pool(settings(List.of(was), Balance.LEAST_CONNECTIONS, 1, 10, false, 2));
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        Future<Lease> waiting = old.acquire(loopA);
        BackendPool next = new BackendPool(settings(List.of(now), Balance.LEAST_CONNECTIONS, 1, 10, false, 2),
                connector, timers, old);
        try {
            next.takeOver();
            assertThat(old.stats().waiters()).as("the same address: handed over").isZero();
            Future<Lease> fresh = next.acquire(loopA);
            assertThat(connector.pending).as("the one slot is the running request's").isEmpty();
            running.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(waiting.isSuccess()).as("the oldest first").isTrue();
            waiting.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(fresh.isSuccess()).isTrue();
            fresh.getNow().release(Lease.Outcome.CLOSE);
            next.checkInvariants();
        } finally {
            next.close();
        }
    }

    /**
     * A group given more addresses takes the old pool's queue, its addresses being among them; one moved to other
     * addresses that edge did not spawn keeps it there (its requests' params were made for the files as they lie there).
     */
    @Test
    void aNewPoolTakesTheQueueWhereItHasTheOldAddressesOnly() {
        BackendPool old = onePhp(1, 10);
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        Future<Lease> waiting = old.acquire(loopA);
        BackendPool moved = new BackendPool(settings(List.of("127.0.0.1:9001"), Balance.LEAST_CONNECTIONS, 1, 10,
                false, 2), connector, timers, old);
        moved.takeOver();
        assertThat(old.stats().waiters()).as("moved elsewhere: kept").isEqualTo(1);
        BackendPool more = new BackendPool(settings(List.of("unix:/run/php.sock", "127.0.0.1:9001"),
                Balance.LEAST_CONNECTIONS, 1, 10, false, 2), connector, timers, moved);
        try {
            more.takeOver();
            assertThat(old.stats().waiters()).as("the old address among the new ones: taken").isZero();
            connector.succeedNext();
            assertThat(waiting.isSuccess()).isTrue();
            waiting.getNow().release(Lease.Outcome.CLOSE);
            running.getNow().release(Lease.Outcome.CLOSE);
            more.checkInvariants();
        } finally {
            old.close();
            moved.close();
            more.close();
        }
    }

    /** What a connect to a php-fpm that is not listening fails with. */
    private static ConnectException refused() {
        return new ConnectException("connect(..) failed: Connection refused");
    }

    /** Refuses every connect made while the clock moves on 50 ms at a time, for {@code millis} or until {@code done}. */
    private void refuseConnects(long millis, java.util.function.BooleanSupplier done) {
        for (long waited = 0; waited < millis && !done.getAsBoolean(); waited += 50) {
            if (!connector.pending.isEmpty()) {
                connector.failNext(refused());
            }
            timers.advanceMillis(50);
        }
    }

    /** {@code settings} with a queue of 10 waiters and {@code timeout}. */
    private static BackendGroupSettings withQueueTimeout(BackendGroupSettings settings, Duration timeout) {
        return new BackendGroupSettings(settings.name(), settings.addresses(), settings.balance(),
                settings.maxConnections(), new BackendGroupSettings.Queue(10, timeout, Duration.ofSeconds(1)),
                settings.timeouts(), settings.keepAlive(), settings.health(), settings.spawn(), settings.responseBuffer());
    }

    /** Settings of a group whose one address is a php-fpm edge spawned. */
    private static BackendGroupSettings spawnedAt(String address) {
        BackendGroupSettings plain = settings(List.of(address), Balance.LEAST_CONNECTIONS, 1, 10, false, 2);
        return new BackendGroupSettings(plain.name(), plain.addresses(), plain.balance(), plain.maxConnections(),
                plain.queue(), plain.timeouts(), plain.keepAlive(), plain.health(),
                new BackendGroupSettings.Spawn(Path.of("/usr/sbin/php-fpm8.2"), 1, List.of(), Path.of("/run/php"), false,
                        Duration.ofSeconds(30), null, null, BackendGroupSettings.Spawn.PHP_DEFAULT_MAX_BODY),
                plain.responseBuffer());
    }

    /** A reload that moves the group to another address (a spawned php-fpm's new socket): the old one is forgotten. */
    @Test
    void anAddressNoPoolUsesAnyMoreIsForgottenOnceItsConnectionsAreGone() {
        BackendPool old = onePhp(1, 10);
        Future<Lease> running = old.acquire(loopA);
        connector.succeedNext();
        BackendPool next = new BackendPool(settings(List.of("unix:/run/php.2.sock"), Balance.LEAST_CONNECTIONS, 1, 10,
                false, 2), connector, timers, old);
        try {
            Future<Lease> there = next.acquire(loopA);
            assertThat(connector.pending).as("another php-fpm: nothing shared").hasSize(1);
            connector.succeedNext();
            assertThat(there.isSuccess()).isTrue();
            assertThat(next.slots().addressesCounted()).isEqualTo(2);
            old.close();
            assertThat(next.slots().addressesCounted()).as("a connection of the old address still counts").isEqualTo(2);
            running.getNow().release(Lease.Outcome.CLOSE);
            new BackendPool(settings(List.of("unix:/run/php.2.sock"), Balance.LEAST_CONNECTIONS, 1, 10, false, 2),
                    connector, timers, next).close(); // a reload that failed: a leave, which forgets what is unused
            assertThat(next.slots().addressesCounted()).isEqualTo(1);
            next.checkInvariants();
        } finally {
            next.close();
        }
    }

    /** Another group at the same php-fpm, as Edge builds it: its connections counted in the same {@code counts}. */
    BackendPool otherGroup(AddressCounts counts, int maxConnections) {
        return otherGroup(counts, "unix:/run/php.sock", maxConnections);
    }

    /** Another group at {@code address}, as Edge builds it: its connections counted in the same {@code counts}. */
    BackendPool otherGroup(AddressCounts counts, String address, int maxConnections) {
        return new BackendPool(settings(List.of(address), Balance.LEAST_CONNECTIONS, maxConnections, 10, true, 2),
                connector, timers, null, counts);
    }

    /**
     * Two groups at one php-fpm of two workers: while the first keeps both of its connections idle, the second's
     * connect would wait in php-fpm's backlog for one of them to time out; the first closes the one it used longest ago.
     */
    @Test
    void aConnectPastMaxConnectionsWithAnotherGroupsConnectionsClosesOneOfItsIdleOnes() {
        AddressCounts counts = new AddressCounts();
        BackendPool a = otherGroup(counts, 2);
        BackendPool b = otherGroup(counts, 2);
        try {
            Future<Lease> first = a.acquire(loopA);
            Future<Lease> second = a.acquire(loopA);
            connector.succeedAll();
            Channel older = first.getNow().channel();
            first.getNow().release(Lease.Outcome.REUSABLE);
            second.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(a.stats().idle()).isEqualTo(2);

            Future<Lease> other = b.acquire(loopB);
            assertThat(connector.pending).as("b connects: it has slots of its own").hasSize(1);
            assertThat(a.stats().idle()).as("a gave one idle connection up").isEqualTo(1);
            assertThat(older.isOpen()).as("the one used longest ago").isFalse();
            connector.succeedNext();
            assertThat(other.isSuccess()).isTrue();
            other.getNow().release(Lease.Outcome.REUSABLE);

            Future<Lease> again = b.acquire(loopB);
            assertThat(again.isSuccess()).as("b's own idle connection, taken past nobody").isTrue();
            assertThat(a.stats().idle()).isEqualTo(1);
            again.getNow().release(Lease.Outcome.REUSABLE);
            a.checkInvariants();
            b.checkInvariants();
        } finally {
            a.close();
            b.close();
        }
        assertThat(counts.addressesCounted()).as("both left, nothing open: forgotten").isZero();
    }

    /**
     * Two groups at one php-fpm of two workers: the second connects past the workers while both of the first's
     * connections are still leased (their scripts answered, their END_REQUEST not yet read), so there is no idle one to
     * give up at that moment. The first of them to come back is closed, not kept idle: it was kept, and the second's
     * connect waited in php-fpm's backlog until it timed out idle (IdleKeptConnectionsIT failed so on a loaded machine).
     */
    @Test
    void aConnectPastMaxConnectionsWithNothingIdleYetHasTheNextConnectionReleasedThereClosed() {
        AddressCounts counts = new AddressCounts();
        BackendPool a = otherGroup(counts, 2);
        BackendPool b = otherGroup(counts, 2);
        try {
            Future<Lease> first = a.acquire(loopA);
            Future<Lease> second = a.acquire(loopA);
            connector.succeedAll();

            Future<Lease> other = b.acquire(loopB);
            assertThat(connector.pending).as("b connects: it has slots of its own").hasSize(1);
            Channel firstBack = first.getNow().channel();
            first.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(firstBack.isOpen()).as("closed for b's connect, its worker freed").isFalse();
            second.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(a.stats().idle()).as("one owed, one kept").isEqualTo(1);
            connector.succeedNext();
            other.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(b.stats().idle()).isEqualTo(1);
            a.checkInvariants();
            b.checkInvariants();
        } finally {
            a.close();
            b.close();
        }
        assertThat(counts.addressesCounted()).as("both left, nothing open: forgotten").isZero();
    }

    /**
     * Two groups writing one php-fpm's address two ways, which the configuration warns of as one address
     * ({@link BackendAddress#key}): the first closes an idle connection for the second's connect past its two workers.
     * Each group's connections were counted under its own spelling, and the second's connect waited in the backlog.
     */
    @ParameterizedTest
    @CsvSource({"[::1]:9000, [0::1]:9000", "[::1]:9000, [0:0:0:0:0:0:0:1]:9000", "PHP:9000, php:9000",
            "[::ffff:127.0.0.1]:9000, 127.0.0.1:9000", "unix:/run/php//fpm.sock, unix:/run/php/fpm.sock",
            "unix:/run/php/./fpm.sock, unix:/run/php/fpm.sock"})
    void twoGroupsSpellingOneAddressTwoWaysCountItTogether(String first, String second) {
        AddressCounts counts = new AddressCounts();
        BackendPool a = otherGroup(counts, first, 2);
        BackendPool b = otherGroup(counts, second, 2);
        try {
            Future<Lease> other = keepTwoIdleThenConnect(a, b);
            assertThat(a.stats().idle()).as("a gave one idle connection up").isEqualTo(1);
            assertThat(counts.addressesCounted()).as("one address").isEqualTo(1);
            connector.succeedNext();
            other.getNow().release(Lease.Outcome.CLOSE);
            a.checkInvariants();
            b.checkInvariants();
        } finally {
            a.close();
            b.close();
        }
    }

    /**
     * An idle connection php-fpm closed before the pool saw it (a restart) frees no worker: the group giving one up for
     * another's connect cleans it up and closes an open one; with none open it gave none up, and the next group is
     * asked. It closed the dead one and said it had given one up, the other group's connect waiting in the backlog.
     */
    @Test
    void aGroupGivingUpAnIdleConnectionClosesAnOpenOneNotOneItsBackendClosed() {
        AddressCounts counts = new AddressCounts();
        BackendPool a = otherGroup(counts, 2);
        BackendPool b = otherGroup(counts, 2);
        try {
            List<Channel> idle = keepTwoIdle(a);
            BackendChannel dead = (BackendChannel) idle.get(0);
            Channel open = idle.get(1);
            dead.closedByBackend = true; // the one used longest ago, given up first

            Future<Lease> other = b.acquire(loopB);
            assertThat(connector.pending).as("b connects").hasSize(1);
            assertThat(open.isOpen()).as("the open one, whose worker b's connect takes").isFalse();
            assertThat(dead.isOpen()).as("the dead one cleaned up").isFalse();
            assertThat(a.stats().open()).isZero();
            a.checkInvariants();
            connector.succeedNext();
            assertThat(other.isSuccess()).isTrue();

            Future<Lease> third = a.acquire(loopA);
            connector.succeedNext();
            ((BackendChannel) third.getNow().channel()).closedByBackend = true;
            third.getNow().release(Lease.Outcome.REUSABLE);
            assertThat(a.giveUpOneIdle(BackendAddress.key("unix:/run/php.sock"))).as("none open: none given up")
                    .isFalse();
            assertThat(a.stats().open()).as("cleaned up still").isZero();
            other.getNow().release(Lease.Outcome.CLOSE);
            a.checkInvariants();
            b.checkInvariants();
        } finally {
            a.close();
            b.close();
        }
    }

    /** {@code a} keeps two connections idle, then {@code b} asks for one: what it got, once connected. */
    Future<Lease> keepTwoIdleThenConnect(BackendPool a, BackendPool b) {
        keepTwoIdle(a);
        return b.acquire(loopB);
    }

    /** {@code a} keeps two connections idle: their channels, the one used longest ago first. */
    List<Channel> keepTwoIdle(BackendPool a) {
        Future<Lease> one = a.acquire(loopA);
        Future<Lease> two = a.acquire(loopA);
        connector.succeedAll();
        List<Channel> channels = List.of(one.getNow().channel(), two.getNow().channel());
        one.getNow().release(Lease.Outcome.REUSABLE);
        two.getNow().release(Lease.Outcome.REUSABLE);
        return channels;
    }

    /** Names are not looked up: localhost and 127.0.0.1 are two addresses (DNS may change what the first names). */
    @Test
    void twoGroupsAtAHostNameAndAnAddressCountThemApart() {
        AddressCounts counts = new AddressCounts();
        BackendPool a = otherGroup(counts, "localhost:9000", 2);
        BackendPool b = otherGroup(counts, "127.0.0.1:9000", 2);
        try {
            Future<Lease> other = keepTwoIdleThenConnect(a, b);
            assertThat(a.stats().idle()).as("counted apart: kept").isEqualTo(2);
            assertThat(counts.addressesCounted()).isEqualTo(2);
            connector.succeedNext();
            other.getNow().release(Lease.Outcome.CLOSE);
        } finally {
            a.close();
            b.close();
        }
    }

    /** Within the workers, with a group's queue waiting for its idle connections, or in a pool of its own: none closed. */
    @Test
    void anotherGroupsIdleConnectionsAreKeptWhileTheAddressHasWorkersToSpare() {
        AddressCounts counts = new AddressCounts();
        BackendPool a = otherGroup(counts, 3);
        BackendPool b = otherGroup(counts, 3);
        BackendPool apart = otherGroup(new AddressCounts(), 1);
        try {
            Future<Lease> first = a.acquire(loopA);
            Future<Lease> second = a.acquire(loopA);
            connector.succeedAll();
            first.getNow().release(Lease.Outcome.REUSABLE);
            second.getNow().release(Lease.Outcome.REUSABLE);
            Future<Lease> third = b.acquire(loopA);
            connector.succeedNext();
            assertThat(a.stats().idle()).as("3 connections, 3 workers").isEqualTo(2);
            Future<Lease> own = apart.acquire(loopA);
            connector.succeedNext();
            assertThat(a.stats().idle()).as("counted elsewhere").isEqualTo(2);
            assertThat(third.isSuccess() && own.isSuccess()).isTrue();
            third.getNow().release(Lease.Outcome.CLOSE);
            own.getNow().release(Lease.Outcome.CLOSE);
        } finally {
            a.close();
            b.close();
            apart.close();
        }
    }

    /** A reload that fails after building the new pool closes it: the old one is the newest again and keeps idle ones. */
    @Test
    void aPoolClosedBeforeItTookOverLeavesTheOldOneKeepingConnections() {
        BackendPool old = onePhpKeepingConnections(2, 10);
        BackendPool failed = replacing(old, 2, 10, true);
        failed.close();
        Future<Lease> f = old.acquire(loopA);
        connector.succeedNext();
        f.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(old.stats().idle()).isEqualTo(1);
        old.checkInvariants();
    }

    @Test
    void fullQueueRejectsAtOnce() {
        onePhp(1, 1);
        pool.acquire(loopA);
        Future<Lease> waiting = pool.acquire(loopA);
        Future<Lease> rejected = pool.acquire(loopA);
        assertThat(waiting.isDone()).isFalse();
        assertThat(rejected.cause()).isInstanceOf(QueueFullException.class);
        assertThat(pool.stats().rejectedFull()).isEqualTo(1);
    }

    /**
     * A slot whose answer is complete, held only until its worker reads again (await-worker), makes room for one more
     * waiter: its client asks again the moment it has its answer, and was refused at once below the queue's capacity
     * (the FastCGI audit: 181 of 1 800 requests of 6 keep-alive clients 503 with 2 slots and 4 waiters). The room goes
     * with the slot; and max-waiters 0 stays "never wait".
     */
    @Test
    void anAnsweredSlotAwaitingItsWorkerMakesRoomForOneMoreWaiter() {
        onePhp(1, 1);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        Lease held = first.getNow();
        Future<Lease> waiting = pool.acquire(loopA);
        assertThat(pool.acquire(loopA).cause()).isInstanceOf(QueueFullException.class);
        held.answered();
        held.answered(); // counted once
        assertThat(pool.stats().answered()).isEqualTo(1);
        Future<Lease> next = pool.acquire(loopA);
        assertThat(next.isDone()).isFalse();
        assertThat(pool.acquire(loopA).cause()).isInstanceOf(QueueFullException.class);
        pool.checkInvariants();
        held.release(Lease.Outcome.REUSABLE);
        assertThat(waiting.isSuccess()).as("the oldest, on the connection the answered request used").isTrue();
        assertThat(next.isDone()).isFalse();
        assertThat(pool.stats().answered()).isZero();
        assertThat(pool.acquire(loopA).cause()).as("the room went with the answered slot")
                .isInstanceOf(QueueFullException.class);
        waiting.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(next.isSuccess()).isTrue();
        next.getNow().answered();
        BackendPool never = replacing(pool, 1, 0, true);
        try {
            assertThat(never.acquire(loopA).cause()).as("max-waiters 0: never wait").isInstanceOf(QueueFullException.class);
        } finally {
            never.close();
        }
        next.getNow().release(Lease.Outcome.REUSABLE);
        pool.checkInvariants();
    }

    /** A reload's new pool makes room for the answered leases of the pool it replaces: their clients ask it now. */
    @Test
    void theAnsweredLeasesOfAReplacedPoolMakeRoomInItsSuccessor() {
        BackendPool old = onePhpKeepingConnections(1, 1);
        Future<Lease> first = old.acquire(loopA);
        connector.succeedNext();
        first.getNow().answered();
        BackendPool next = replacing(old, 1, 1, true);
        try {
            next.takeOver();
            Future<Lease> queued = next.acquire(loopA);
            Future<Lease> again = next.acquire(loopA);
            assertThat(queued.isDone()).isFalse();
            assertThat(again.isDone()).as("the old pool's answered slot made room").isFalse();
            assertThat(next.acquire(loopA).cause()).isInstanceOf(QueueFullException.class);
            first.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(queued.isSuccess()).isTrue();
            queued.getNow().release(Lease.Outcome.CLOSE);
            connector.succeedNext();
            assertThat(again.isSuccess()).isTrue();
            again.getNow().release(Lease.Outcome.CLOSE);
            next.checkInvariants();
        } finally {
            next.close();
        }
    }

    /**
     * Every place in the queue taken and no slot free: a request asking now would be refused, and is told so before it
     * sends its body (Expect: 100-continue); with max-waiters 0 as soon as the one slot is taken.
     */
    @Test
    void aRefusalIsToldBeforeTheRequestAsksOnlyWhenTheQueueIsFull() {
        onePhp(1, 0);
        assertThat(pool.refusalIfFull()).as("a slot free").isNull();
        Future<Lease> held = pool.acquire(loopA);
        assertThat(pool.refusalIfFull()).as("its connect under way: the slot is taken").isNotNull();
        connector.succeedNext();
        assertThat(pool.refusalIfFull()).isNotNull();
        assertThat(pool.stats().rejectedFull()).isEqualTo(2);
        held.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(pool.refusalIfFull()).as("the idle connection").isNull();
        BackendPool queueing = replacing(pool, 1, 1, true);
        try {
            queueing.takeOver();
            Future<Lease> running = queueing.acquire(loopA); // the replaced pool's idle connection was given up
            connector.succeedNext();
            assertThat(running.isSuccess()).isTrue();
            assertThat(queueing.refusalIfFull()).as("room to wait").isNull();
            Future<Lease> waiting = queueing.acquire(loopA);
            assertThat(pool.refusalIfFull()).as("asked of the replaced pool: its successor's").isNotNull();
            running.getNow().release(Lease.Outcome.REUSABLE);
            waiting.getNow().release(Lease.Outcome.REUSABLE);
            queueing.checkInvariants();
        } finally {
            queueing.close();
        }
    }

    @Test
    void waiterTimesOutAtItsDeadline() {
        onePhp(1, 10);
        pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> waiting = pool.acquire(loopA);
        timers.advanceMillis(999);
        assertThat(waiting.isDone()).isFalse();
        timers.advanceMillis(1);
        assertThat(waiting.cause()).isInstanceOf(QueueTimeoutException.class);
        assertThat(pool.stats().waiters()).isZero();
        assertThat(pool.stats().timedOut()).isEqualTo(1);
    }

    /** A request that waited behind another's already (coalesced) waits only what is left of the queue timeout. */
    @Test
    void aRequestThatWaitedElsewhereWaitsWhatIsLeftOfTheTimeout() {
        onePhp(1, 10);
        pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> waiting = pool.acquire(loopA, TimeUnit.MILLISECONDS.toNanos(700));
        Future<Lease> none = pool.acquire(loopA, TimeUnit.MILLISECONDS.toNanos(5000));
        timers.advanceMillis(0);
        assertThat(none.cause()).as("nothing left: at once").isInstanceOf(QueueTimeoutException.class);
        timers.advanceMillis(299);
        assertThat(waiting.isDone()).isFalse();
        timers.advanceMillis(1);
        assertThat(waiting.cause()).isInstanceOf(QueueTimeoutException.class);
        assertThat(pool.stats().timedOut()).isEqualTo(2);
        pool.checkInvariants();
    }

    /**
     * A request sent again after its lease's connection ended before the backend took it had its turn: it goes before
     * the requests queued meanwhile, and waits only what its earlier waits left of the timeout (1 s here).
     */
    @Test
    void aRequestSentAgainWaitsFirstForWhatIsLeftOfItsTimeout() {
        onePhp(1, 10);
        Future<Lease> holder = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> queued = pool.acquire(loopA);
        Future<Lease> again = pool.acquireAgain(loopA, TimeUnit.MILLISECONDS.toNanos(700));
        timers.advanceMillis(299);
        holder.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(again.isSuccess()).as("before the request queued earlier").isTrue();
        assertThat(queued.isDone()).isFalse();

        Future<Lease> late = pool.acquireAgain(loopA, TimeUnit.MILLISECONDS.toNanos(900));
        Future<Lease> newcomer = pool.acquire(loopA);
        timers.advanceMillis(99);
        assertThat(late.isDone()).isFalse();
        timers.advanceMillis(1);
        assertThat(late.cause()).as("100 ms left of its timeout").isInstanceOf(QueueTimeoutException.class);
        assertThat(queued.isDone()).as("queued for 399 ms of its 1 000").isFalse();
        again.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(queued.isSuccess()).isTrue();
        assertThat(newcomer.isDone()).isFalse();
        pool.checkInvariants();
    }

    /**
     * A request whose connect met a restarting php-fpm goes back behind a request sent again meanwhile (php-fpm killed
     * under it): both had their turn, the one sent again first (the FastCGI audit: sent-again requests timed out behind
     * requests queued after them, each refused connect putting those back at the head).
     */
    @Test
    void aRequestBackFromARefusedConnectWaitsBehindOneSentAgain() {
        onePhp(1, 10);
        Future<Lease> holder = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> queued = pool.acquire(loopA);
        holder.getNow().release(Lease.Outcome.CLOSE); // php-fpm killed: the slot frees, the queued request connects
        assertThat(connector.pending).hasSize(1);
        Future<Lease> again = pool.acquireAgain(loopA, 0); // the holder's request, sent again
        connector.failNext(new FileNotFoundException("/run/php.sock")); // php-fpm restarting
        assertThat(queued.isDone()).isFalse();
        timers.advanceMillis(5);
        connector.succeedNext();
        assertThat(again.isSuccess()).as("the request sent again first").isTrue();
        assertThat(queued.isDone()).isFalse();
        again.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(queued.isSuccess()).isTrue();
        pool.checkInvariants();
    }

    @Test
    void cancelledWaiterIsRemovedAndNeverGetsASlot() {
        onePhp(1, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> gone = pool.acquire(loopA);
        Future<Lease> next = pool.acquire(loopA);
        assertThat(gone.cancel(false)).isTrue();
        assertThat(pool.stats().waiters()).isEqualTo(1);
        first.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(next.isSuccess()).isTrue();
        assertThat(gone.isCancelled()).isTrue();
        assertThat(next.getNow().channel()).isSameAs(first.getNow().channel());
    }

    @Test
    void newcomerNeverOvertakesAQueuedRequest() {
        onePhp(1, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> queued = pool.acquire(loopA);
        first.getNow().release(Lease.Outcome.CLOSE);
        Future<Lease> newcomer = pool.acquire(loopA); // slot is being reconnected for `queued`
        connector.succeedNext();
        assertThat(queued.isSuccess()).isTrue();
        assertThat(newcomer.isDone()).isFalse();
    }

    @Test
    void leaseIsReleasedExactlyOnce() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        connector.succeedNext();
        Lease lease = f.getNow();
        assertThat(lease.release(Lease.Outcome.REUSABLE)).isTrue();
        assertThat(lease.release(Lease.Outcome.CLOSE)).isFalse();
        assertThat(pool.stats().open()).isEqualTo(1);
        assertThat(pool.stats().idle()).isEqualTo(1);
    }

    @Test
    void idleConnectionClosedAfterIdleTimeout() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        connector.succeedNext();
        f.getNow().release(Lease.Outcome.REUSABLE);
        timers.advanceMillis(10_000);
        assertThat(pool.stats().open()).isZero();
        assertThat(f.getNow().channel().isActive()).isFalse();
    }

    @Test
    void connectionClosedAfterMaxRequests() {
        onePhp(1, 10);
        Channel ch = null;
        for (int i = 0; i < 3; i++) {
            Future<Lease> f = pool.acquire(loopA);
            if (i == 0) {
                connector.succeedNext();
                ch = f.getNow().channel();
            }
            assertThat(f.getNow().channel()).isSameAs(ch);
            f.getNow().release(Lease.Outcome.REUSABLE);
        }
        assertThat(ch.isActive()).isFalse();
        assertThat(pool.stats().open()).isZero();
    }

    @Test
    void idleConnectionClosedByBackendIsForgotten() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        connector.succeedNext();
        f.getNow().release(Lease.Outcome.REUSABLE);
        f.getNow().channel().close();
        assertThat(pool.stats().open()).isZero();
        pool.acquire(loopA);
        assertThat(connector.pending).hasSize(1);
    }

    @Test
    void idleConnectionOnAnotherLoopIsMovedToTheRequestsLoopNotClosed() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        connector.succeedNext();
        Channel ch = f.getNow().channel();
        f.getNow().release(Lease.Outcome.REUSABLE);
        Future<Lease> onB = pool.acquire(loopB);
        assertThat(connector.pending).isEmpty(); // no new connection
        assertThat(connector.moves).containsExactly(new FakeConnector.Move(ch, loopB));
        assertThat(onB.isSuccess()).isTrue();
        assertThat(onB.getNow().channel()).isSameAs(ch);
        assertThat(onB.getNow().isReused()).isTrue();
        assertThat(ch.isActive()).isTrue();
        onB.getNow().release(Lease.Outcome.REUSABLE);
        Future<Lease> againOnB = pool.acquire(loopB);
        assertThat(connector.moves).hasSize(1); // now it lives on B
        assertThat(againOnB.getNow().channel()).isSameAs(ch);
        assertThat(pool.stats().open()).isEqualTo(1);
        againOnB.getNow().release(Lease.Outcome.REUSABLE); // its third exchange: max-requests closes it
    }

    /** One address, keep-alive without a max-requests bound, so connections stay put. */
    BackendPool onePhpKeepingConnections(int max, int waiters) {
        return pool(new BackendGroupSettings("php", List.of("unix:/run/php.sock"), Balance.LEAST_CONNECTIONS, max,
                new BackendGroupSettings.Queue(waiters, Duration.ofMillis(1000), Duration.ofSeconds(1)),
                new BackendGroupSettings.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(30)),
                new BackendGroupSettings.KeepAlive(true, Duration.ofSeconds(10), 0),
                new BackendGroupSettings.Health(2, Duration.ofSeconds(5)), null,
                new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30)));
    }

    @Test
    void aFreedConnectionGoesToAWaiterOnItsOwnLoopBeforeAnOlderOneElsewhere() {
        onePhpKeepingConnections(2, 10);
        Future<Lease> onA = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> onB = pool.acquire(loopB);
        connector.succeedNext();
        Future<Lease> olderOnA = pool.acquire(loopA);
        Future<Lease> youngerOnB = pool.acquire(loopB);

        onB.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(youngerOnB.isSuccess()).isTrue();
        assertThat(youngerOnB.getNow().channel()).isSameAs(onB.getNow().channel());
        assertThat(olderOnA.isDone()).isFalse();
        pool.checkInvariants();

        onA.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(olderOnA.getNow().channel()).isSameAs(onA.getNow().channel());
        assertThat(connector.moves).isEmpty();
        olderOnA.getNow().release(Lease.Outcome.REUSABLE);
        youngerOnB.getNow().release(Lease.Outcome.REUSABLE);
    }

    @Test
    void theOldestWaiterIsOvertakenForAtMostMaxOvertakingThenGetsAMovedConnection() {
        onePhpKeepingConnections(1, 100);
        Future<Lease> running = pool.acquire(loopB);
        connector.succeedNext();
        Channel ch = running.getNow().channel();
        Future<Lease> oldestOnA = pool.acquire(loopA);
        int passing = 20;
        List<Future<Lease>> onB = new ArrayList<>();
        for (int i = 0; i < passing + 1; i++) {
            onB.add(pool.acquire(loopB));
        }
        long stepMillis = BackendPool.MAX_OVERTAKING.toMillis() / 5;
        Lease current = running.getNow();
        for (int i = 0; i < passing; i++) {
            current.release(Lease.Outcome.REUSABLE);
            assertThat(onB.get(i).isSuccess()).as("younger waiter %d on the connection's loop", i).isTrue();
            assertThat(oldestOnA.isDone()).isFalse();
            current = onB.get(i).getNow();
            pool.checkInvariants();
            if (i % 5 == 4) {
                timers.advanceMillis(stepMillis); // four such steps: still short of MAX_OVERTAKING
            }
        }
        timers.advanceMillis(BackendPool.MAX_OVERTAKING.toMillis() - 4 * stepMillis);
        current.release(Lease.Outcome.REUSABLE);
        assertThat(oldestOnA.isSuccess()).as("overtaken for MAX_OVERTAKING: its turn").isTrue();
        assertThat(connector.moves).containsExactly(new FakeConnector.Move(ch, loopA));
        assertThat(onB.get(passing).isDone()).isFalse();
        oldestOnA.getNow().release(Lease.Outcome.CLOSE);
        assertThat(connector.pending).hasSize(1); // the slot reconnects on B for the last waiter
    }

    /**
     * A slow backend (leases held ~400 ms against a 1 s queue timeout): a younger waiter on the freed connection's loop
     * does not pass the oldest one, which could not afford to wait for the next slot; it gets the connection, moved.
     */
    @Test
    void theOldestWaiterIsNotOvertakenWhenItCannotAffordAnotherSlotsTime() {
        onePhpKeepingConnections(1, 100);
        Future<Lease> first = pool.acquire(loopB);
        connector.succeedNext();
        Channel ch = first.getNow().channel();
        first.getNow().exchangeStarted();
        timers.advanceMillis(400);
        first.getNow().release(Lease.Outcome.REUSABLE);
        for (int i = 0; i < 8; i++) { // leases given back unused (a client gone at once) say nothing of the scripts
            pool.acquire(loopB).getNow().release(Lease.Outcome.REUSABLE);
        }
        Future<Lease> second = pool.acquire(loopB);
        assertThat(second.getNow().channel()).isSameAs(ch);
        second.getNow().exchangeStarted();
        Future<Lease> oldestOnA = pool.acquire(loopA);
        Future<Lease> youngerOnB = pool.acquire(loopB);
        timers.advanceMillis(300);
        second.getNow().release(Lease.Outcome.REUSABLE); // 700 ms left to the oldest, under twice ~390 ms
        assertThat(oldestOnA.isSuccess()).as("not passed").isTrue();
        assertThat(connector.moves).containsExactly(new FakeConnector.Move(ch, loopA));
        assertThat(youngerOnB.isDone()).isFalse();
        pool.checkInvariants();
    }

    @Test
    void aConnectionThatFailsToMoveIsClosedAndStillHandedOver() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        connector.succeedNext();
        Channel ch = f.getNow().channel();
        f.getNow().release(Lease.Outcome.REUSABLE);
        connector.failMoves = true;
        Future<Lease> onB = pool.acquire(loopB);
        // the exchange on it fails at once, and the caller waits again (FastCgiResponder's retry)
        assertThat(onB.isSuccess()).isTrue();
        assertThat(ch.isActive()).isFalse();
        onB.getNow().release(Lease.Outcome.CLOSE);
        assertThat(pool.stats().open()).isZero();
        pool.acquire(loopB);
        assertThat(connector.pending).hasSize(1);
    }

    /**
     * A backend that refused a request unread (FCGI_OVERLOADED) is busy: the connection closes, no failure is counted,
     * and new connections to it wait a backoff that doubles while it keeps refusing, as after a full backlog's connect.
     */
    @Test
    void anOverloadedBackendIsBusyForABackoffThatGrows() {
        onePhp(2, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        first.getNow().release(Lease.Outcome.OVERLOADED);
        assertThat(first.getNow().channel().isActive()).isFalse();
        assertThat(pool.stats().open()).isZero();
        Future<Lease> again = pool.acquire(loopA);
        assertThat(connector.pending).as("busy: no connect yet").isEmpty();
        timers.advanceMillis(5);
        assertThat(connector.pending).hasSize(1);
        connector.succeedNext();
        assertThat(again.isSuccess()).isTrue();
        again.getNow().release(Lease.Outcome.OVERLOADED);
        Future<Lease> third = pool.acquire(loopA);
        timers.advanceMillis(5);
        assertThat(connector.pending).as("the backoff doubled").isEmpty();
        timers.advanceMillis(5);
        assertThat(connector.pending).hasSize(1);
        connector.succeedNext();
        third.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(pool.acquire(loopA).isSuccess()).as("answered: busy no more, its connection kept").isTrue();
        assertThat(pool.stats().failedConnects()).isZero();
        pool.checkInvariants();
    }

    /**
     * Only an answer ends an overloaded backend's busy hold: not a connect that works (it accepts connections), nor a
     * lease given back without an answer (its client gone), nor a release that did not use its connection.
     */
    @Test
    void anOverloadedBackendStaysBusyUntilItAnswers() {
        onePhp(3, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> second = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> connecting = pool.acquire(loopA);
        first.getNow().release(Lease.Outcome.OVERLOADED);
        connector.succeedNext(); // a connect in flight when it refused, which then worked
        connecting.getNow().release(Lease.Outcome.CLOSE); // given back unused: its client left
        second.getNow().release(Lease.Outcome.CLOSE);
        Future<Lease> waiting = pool.acquire(loopA);
        assertThat(connector.pending).as("still busy: no connect").isEmpty();
        timers.advanceMillis(5);
        assertThat(connector.pending).as("the backoff passed").hasSize(1);
        connector.succeedNext();
        assertThat(waiting.isSuccess()).isTrue();
        pool.checkInvariants();
    }

    @Test
    void busyConnectGoesBackToWaitWithinDeadline() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        connector.failNext(new ConnectException("connect(..) failed: Resource temporarily unavailable"));
        assertThat(f.isDone()).isFalse();
        assertThat(pool.stats().waiters()).isEqualTo(1);
        assertThat(connector.pending).isEmpty(); // backing off
        timers.advanceMillis(5);
        assertThat(connector.pending).hasSize(1);
        connector.failNext(new FileNotFoundException()); // php-fpm restarting: socket gone
        timers.advanceMillis(10);
        connector.succeedNext();
        assertThat(f.isSuccess()).isTrue();
        assertThat(pool.stats().busyConnects()).isEqualTo(2);
    }

    /**
     * php-fpm's socket file removed (a deploy, a tmp cleaner) while it runs: new connects fail, but the idle
     * connection it still serves goes to the request on the other loop, which waited out the queue timeout before.
     */
    @Test
    void anIdleConnectionOnAnotherLoopServesWhileConnectsAreRefused() {
        onePhp(2, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.succeedNext();
        first.getNow().release(Lease.Outcome.REUSABLE); // idle on loop A
        Future<Lease> f = pool.acquire(loopB);
        assertThat(connector.pending).as("a free slot: a new connect first").hasSize(1);
        connector.failNext(new FileNotFoundException("/run/php.sock"));
        assertThat(f.isSuccess()).as("the idle connection, moved").isTrue();
        assertThat(f.getNow().isReused()).isTrue();
        assertThat(connector.moves).singleElement().satisfies(m -> assertThat(m.loop()).isSameAs(loopB));
        assertThat(connector.pending).isEmpty();
        f.getNow().release(Lease.Outcome.REUSABLE);
        Future<Lease> next = pool.acquire(loopB);
        assertThat(next.isSuccess()).as("a released lease clears the failure; the connection now lives on B").isTrue();
        next.getNow().release(Lease.Outcome.REUSABLE);
    }

    /** A backend that refuses connects (down, or restarting) is named in the log, once per run of refusals. */
    @Test
    void refusedConnectsAreLoggedOncePerRunButAFullBacklogIsNot() {
        withPoolLog(lines -> {
            onePhp(1, 10);
            Future<Lease> f = pool.acquire(loopA);
            connector.failNext(new ConnectException("connect(..) failed: Resource temporarily unavailable"));
            timers.advanceMillis(5);
            assertThat(lines).as("a full backlog: busy, nothing to report").isEmpty();
            for (int i = 0; i < 3; i++) {
                connector.failNext(new ConnectException("connect(..) failed: No such file or directory"));
                timers.advanceMillis(200);
            }
            assertThat(lines).singleElement().satisfies(e -> assertThat(e.getFormattedMessage())
                    .startsWith("fastcgi group php: connect to unix:/run/php.sock failed: connect(..) failed: No such "
                            + "file or directory; ")); // the system's words, no Java class name
            connector.succeedNext();
            assertThat(f.isSuccess()).isTrue();
            f.getNow().release(Lease.Outcome.CLOSE);
            pool.acquire(loopA);
            connector.failNext(refused());
            assertThat(lines).as("a new run of refusals").hasSize(2);
        });
    }

    /**
     * Netty reports a Unix socket that is not there (php-fpm stopped, its socket removed) as a FileNotFoundException
     * without a message: logged in the system's words, as nginx's "(2: No such file or directory)", not as that class.
     */
    @Test
    void aMissingSocketFileIsLoggedInTheSystemsWords() {
        withPoolLog(lines -> {
            onePhp(1, 10);
            pool.acquire(loopA);
            connector.failNext(new FileNotFoundException());
            assertThat(lines).singleElement().satisfies(e -> assertThat(e.getFormattedMessage())
                    .startsWith("fastcgi group php: connect to unix:/run/php.sock failed: connect(..) failed: No such "
                            + "file or directory; "));
        });
    }

    /** Runs {@code test} with the pool's log lines from its start collected in the list it is given. */
    private static void withPoolLog(Consumer<List<ch.qos.logback.classic.spi.ILoggingEvent>> test) {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                BackendPool.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
                new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        log.addAppender(lines);
        try {
            test.accept(lines.list);
        } finally {
            log.detachAppender(lines);
        }
    }

    @Test
    void busyConnectsUntilDeadlineEndInQueueTimeout() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        refuseConnects(Long.MAX_VALUE, f::isDone);
        assertThat(f.cause()).isInstanceOf(QueueTimeoutException.class)
                .hasMessageEndingWith(" (the last connect failed: unix:/run/php.sock: connect(..) failed: Connection refused)");
    }

    /**
     * php-fpm down, not restarting: once its connects have been refused for longer than a restart takes, the requests
     * queued and those arriving fail at once (502, as from nginx), rather than each after the whole queue timeout (30 s
     * a page, the PHP-patterns audit); within that window they wait, as for a restart; a connect that works ends it.
     */
    @Test
    void connectsRefusedPastTheRestartWindowFailRequestsAtOnce() {
        pool(withQueueTimeout(settings(List.of("unix:/run/php.sock"), Balance.LEAST_CONNECTIONS, 1, 10, false, 2),
                Duration.ofSeconds(30)));
        Future<Lease> queued = pool.acquire(loopA);
        refuseConnects(BackendPool.RESTART_WINDOW.toMillis() - 100, queued::isDone);
        assertThat(queued.isDone()).as("within the window: a restart, waited for").isFalse();
        refuseConnects(Long.MAX_VALUE, queued::isDone);
        assertThat(queued.cause()).isInstanceOf(BackendUnavailableException.class)
                .hasMessage("fastcgi group php: connects refused (nothing listens)");
        assertThat(pool.stats().timedOut()).isZero();
        Future<Lease> arriving = pool.acquire(loopB);
        if (!connector.pending.isEmpty()) {
            connector.failNext(refused());
        }
        assertThat(arriving.cause()).as("at once").isInstanceOf(BackendUnavailableException.class);
        timers.advanceMillis(200);
        Future<Lease> back = pool.acquire(loopA);
        assertThat(connector.pending).as("the backoff over: a connect for it").hasSize(1);
        connector.succeedNext(); // php-fpm is back
        assertThat(back.isSuccess()).isTrue();
        back.getNow().release(Lease.Outcome.REUSABLE);
        Future<Lease> next = pool.acquire(loopA);
        connector.succeedNext();
        assertThat(next.isSuccess()).as("no outage any more").isTrue();
        next.getNow().release(Lease.Outcome.REUSABLE);
    }

    /**
     * A refusal long ago, since which the address answered (its leases released reusable), does not count toward an
     * outage: the restart that follows is waited for. Its time stayed, and the next restart's first refusal failed
     * every request at once (review).
     */
    @Test
    void anAnsweringAddressStartsANewRestartWindowAtItsNextRefusal() {
        pool(withQueueTimeout(settings(List.of("unix:/run/php.sock"), Balance.LEAST_CONNECTIONS, 2, 10, true, 2),
                Duration.ofSeconds(30)));
        Future<Lease> kept = pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> refusedOnce = pool.acquire(loopA); // the second slot's connect is refused: kept serves it
        connector.failNext(refused());
        kept.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(refusedOnce.isSuccess()).isTrue();
        timers.advanceMillis(60_000); // a minute of answers on the kept connection
        refusedOnce.getNow().release(Lease.Outcome.CLOSE); // then php-fpm restarts
        Future<Lease> during = pool.acquire(loopA);
        connector.failNext(refused());
        assertThat(during.isDone()).as("a restart, waited for").isFalse();
        timers.advanceMillis(200);
        connector.succeedNext();
        assertThat(during.isSuccess()).isTrue();
        during.getNow().release(Lease.Outcome.CLOSE);
    }

    /** A php-fpm edge spawned is restarted by its supervisor (a backoff, then up to 10 s to listen): waited for. */
    @Test
    void aSpawnedPhpFpmRefusingPastTheRestartWindowIsStillWaitedFor() {
        pool(withQueueTimeout(spawnedAt("unix:/run/php.sock"), Duration.ofSeconds(30)));
        Future<Lease> queued = pool.acquire(loopA);
        refuseConnects(BackendPool.RESTART_WINDOW.toMillis() * 2, queued::isDone);
        assertThat(queued.isDone()).isFalse();
        timers.advanceMillis(200);
        connector.succeedNext();
        assertThat(queued.isSuccess()).isTrue();
        queued.getNow().release(Lease.Outcome.CLOSE);
    }

    /**
     * A request with an answer of its own (a stale copy) fails at once while php-fpm refuses connects and nothing of it
     * is alive, queued or arriving, where any other waits for a restart; a worked connect ends that.
     */
    @Test
    void aRequestWithAnAnswerOfItsOwnDoesNotWaitForARefusingBackend() {
        onePhp(1, 10);
        Future<Lease> plain = pool.acquire(loopA);
        Future<Lease> withCopy = pool.acquireUnlessRefused(loopA, 0, false);
        assertThat(pool.stats().waiters()).as("behind the one slot's connect").isEqualTo(1);
        connector.failNext(refused());
        assertThat(withCopy.cause()).isInstanceOf(BackendUnavailableException.class)
                .hasMessage("fastcgi group php: connects refused (nothing listens)");
        assertThat(plain.isDone()).as("waits for a restart").isFalse();
        Future<Lease> arriving = pool.acquireUnlessRefused(loopB, 0, false);
        assertThat(arriving.cause()).isInstanceOf(BackendUnavailableException.class);
        assertThat(pool.stats().timedOut()).isZero();

        timers.advanceMillis(5);
        connector.succeedNext(); // php-fpm is back
        assertThat(plain.isSuccess()).isTrue();
        Future<Lease> after = pool.acquireUnlessRefused(loopA, 0, false);
        assertThat(after.isDone()).as("waits for the slot as any other").isFalse();
        plain.getNow().release(Lease.Outcome.REUSABLE);
        assertThat(after.isSuccess()).isTrue();
        after.getNow().release(Lease.Outcome.REUSABLE);
    }

    /**
     * Where only requests with an answer of their own come, they are what finds php-fpm back: one whose arrival finds
     * the backoff over makes the connect. The flag was cleared only by another request's connect, so a site whose every
     * page was cached went on answering stale copies (for up to the grace, an hour) after php-fpm was back.
     */
    @Test
    void requestsWithAnAnswerOfTheirOwnAloneFindTheBackendBack() {
        onePhp(1, 10);
        Future<Lease> first = pool.acquireUnlessRefused(loopA, 0, false);
        connector.failNext(refused());
        assertThat(first.cause()).isInstanceOf(BackendUnavailableException.class);
        Future<Lease> backingOff = pool.acquireUnlessRefused(loopA, 0, false);
        assertThat(backingOff.cause()).as("within the backoff: no connect").isInstanceOf(BackendUnavailableException.class);
        assertThat(connector.pending).isEmpty();
        timers.advanceMillis(5);
        Future<Lease> probe = pool.acquireUnlessRefused(loopA, 0, false);
        assertThat(connector.pending).as("the backoff over: a connect for it").hasSize(1);
        connector.succeedNext(); // php-fpm is back
        assertThat(probe.isSuccess()).isTrue();
        probe.getNow().release(Lease.Outcome.REUSABLE);
        Future<Lease> next = pool.acquireUnlessRefused(loopA, 0, false);
        assertThat(next.isSuccess()).isTrue();
        next.getNow().release(Lease.Outcome.REUSABLE);
    }

    /** Only a refusal: a full backlog (EAGAIN) is busyness, which a request with a copy waits out like any other. */
    @Test
    void aFullBacklogIsNotARefusal() {
        onePhp(1, 10);
        Future<Lease> withCopy = pool.acquireUnlessRefused(loopA, 0, false);
        connector.failNext(new ConnectException("connect(..) failed: Resource temporarily unavailable"));
        assertThat(withCopy.isDone()).isFalse();
        timers.advanceMillis(5);
        connector.succeedNext();
        assertThat(withCopy.isSuccess()).isTrue();
        withCopy.getNow().release(Lease.Outcome.REUSABLE);
    }

    /** A refused connect before a request began to wait is not why it timed out: it is not named. */
    @Test
    void aQueueTimeoutDoesNotNameAFailureFromBeforeItsWait() {
        onePhp(1, 10);
        Future<Lease> first = pool.acquire(loopA);
        connector.failNext(refused());
        timers.advanceMillis(10); // the retry's connect goes out and never ends: the one slot stays taken
        assertThat(connector.pending).hasSize(1);
        first.cancel(false); // its client left
        timers.advanceMillis(90);
        Future<Lease> later = pool.acquire(loopA);
        timers.advanceMillis(1_000);
        assertThat(later.cause()).isInstanceOf(QueueTimeoutException.class)
                .hasMessageEndingWith("no connection slot within 1000 ms");
    }

    /** A refusal while a request waited, followed by a connect to the address that worked, is not named either. */
    @Test
    void aQueueTimeoutDoesNotNameAFailureAConnectThatWorkedEnded() {
        onePhp(2, 10);
        Future<Lease> held = pool.acquire(loopA);
        connector.succeedNext();
        assertThat(held.isSuccess()).isTrue();
        Future<Lease> second = pool.acquire(loopA);
        Future<Lease> third = pool.acquire(loopA);
        timers.advanceMillis(10);
        connector.failNext(refused());
        timers.advanceMillis(50);
        connector.succeedNext();
        assertThat(second.isSuccess()).as("the retry worked").isTrue();
        timers.advanceMillis(1_000);
        assertThat(third.cause()).isInstanceOf(QueueTimeoutException.class)
                .hasMessageEndingWith("no connection slot within 1000 ms");
        held.getNow().release(Lease.Outcome.CLOSE);
        second.getNow().release(Lease.Outcome.CLOSE);
    }

    @Test
    void hardConnectFailureTriesAnotherAddressThenFails() {
        pool(settings(List.of("127.0.0.1:9001", "127.0.0.1:9002"), Balance.ROUND_ROBIN, 1, 10, true, 5));
        Future<Lease> f = pool.acquire(loopA);
        BackendAddress firstAddress = connector.failNext(new java.io.IOException("boom")).address();
        assertThat(f.isDone()).as("%s", f.cause()).isFalse();
        assertThat(connector.pending).hasSize(1);
        assertThat(connector.pending.peek().address()).isNotEqualTo(firstAddress);
        connector.failNext(new java.io.IOException("boom again"));
        assertThat(f.cause()).isInstanceOf(BackendUnavailableException.class);
    }

    /** Every address down with max-waiters 0: no queue full to tell early, the request is answered as down (502). */
    @Test
    void everyAddressDownIsNoFullQueueToTellEarly() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 1, 0, true, 1));
        Future<Lease> f = pool.acquire(loopA);
        connector.failNext(new java.io.IOException("reset"));
        connector.failNext(new java.io.IOException("reset"));
        assertThat(f.cause()).isInstanceOf(BackendUnavailableException.class);
        assertThat(pool.acquire(loopA).cause()).hasMessageContaining("every address is down");
        assertThat(pool.refusalIfFull()).isNull();
        assertThat(pool.stats().rejectedFull()).isZero();
    }

    @Test
    void maxFailsTakesAddressesDownForFailTimeout() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 4, 10, true, 2));
        Future<Lease> down = null;
        int failedConnects = 0;
        for (int i = 0; i < 10 && down == null; i++) {
            Future<Lease> f = pool.acquire(loopA);
            while (!connector.pending.isEmpty()) {
                connector.failNext(new java.io.IOException("reset"));
                failedConnects++;
            }
            if (f.cause() != null && f.cause().getMessage().contains("every address is down")) {
                down = f;
            }
        }
        assertThat(down).as("both addresses went down").isNotNull();
        assertThat(failedConnects).as("after max-fails (2) failed connects each").isEqualTo(4);
        assertThat(pool.acquire(loopA).cause()).hasMessageContaining("every address is down");
        assertThat(connector.pending).isEmpty();
        timers.advanceMillis(5000);
        pool.acquire(loopA);
        assertThat(connector.pending).hasSize(1);
    }

    @Test
    void aSingleAddressIsNeverTakenDown() {
        onePhp(1, 10); // maxFails 2, ignored with one address (as nginx does)
        for (int i = 0; i < 5; i++) {
            Future<Lease> f = pool.acquire(loopA);
            assertThat(connector.pending).hasSize(1);
            connector.failNext(new java.io.IOException("reset"));
            assertThat(f.cause()).isInstanceOf(BackendUnavailableException.class)
                    .hasMessageNotContaining("every address is down");
        }
        pool.acquire(loopA);
        assertThat(connector.pending).hasSize(1);
    }

    @Test
    void leastConnectionsPrefersTheLessLoadedAddress() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.LEAST_CONNECTIONS, 4, 10, true, 0));
        List<Lease> leases = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Future<Lease> f = pool.acquire(loopA);
            connector.succeedNext();
            leases.add(f.getNow());
        }
        assertThat(leases).extracting(l -> l.address().spec())
                .containsExactly("unix:/a.sock", "unix:/b.sock", "unix:/a.sock");
        leases.get(0).release(Lease.Outcome.CLOSE);
        leases.get(2).release(Lease.Outcome.CLOSE);
        // a has 0 active, b has 1: whatever the rotation says, a wins
        pool.acquire(loopA);
        assertThat(connector.pending.peek().address().spec()).isEqualTo("unix:/a.sock");
        connector.succeedAll();
    }

    @Test
    void roundRobinRotates() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock", "unix:/c.sock"), Balance.ROUND_ROBIN, 4, 10, true, 0));
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pool.acquire(loopA);
            order.add(connector.succeedNext().address().spec());
        }
        assertThat(order).containsExactly("unix:/a.sock", "unix:/b.sock", "unix:/c.sock", "unix:/a.sock");
    }

    @Test
    void cancelWhileConnectingKeepsTheFreshConnection() {
        onePhp(1, 10);
        Future<Lease> f = pool.acquire(loopA);
        assertThat(f.cancel(false)).isTrue();
        connector.succeedNext();
        assertThat(pool.stats().idle()).isEqualTo(1);
    }

    /**
     * A pool that closes (its configuration replaced and drained, or edge stopping) fails its queued requests as busy,
     * 503 with Retry-After: they never ran, and may be asked again (they were 502s, as if the backend had failed them).
     */
    @Test
    void closeFailsWaitersAsBusy() {
        onePhp(1, 10);
        pool.acquire(loopA);
        connector.succeedNext();
        Future<Lease> waiting = pool.acquire(loopA);
        pool.close();
        assertThat(waiting.cause()).isInstanceOf(PoolClosedException.class)
                .isInstanceOf(io.edge.fastcgi.BackendBusyException.class)
                .hasMessage("fastcgi group php: shutting down");
    }

    /**
     * nginx's proxy_next_upstream: a request passed on is never given an address it went out to, nor one whose connect
     * failed for it (a refusal too, which counts against the address's health as nginx counts it); with none left it
     * fails, naming the last failure.
     */
    @Test
    void aRequestPassedOnIsNeverGivenAnAddressItTriedAndFailsWhenNoneIsLeft() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock", "unix:/c.sock"), Balance.ROUND_ROBIN, 1, 10, true, 1));
        List<BackendUnavailableException> failed = new ArrayList<>();
        Future<Lease> f = pool.acquireNext(loopA, 0, false, java.util.Set.of(BackendAddress.key("unix:/a.sock")),
                failed::add);
        assertThat(connector.pending.peek().address().spec()).isEqualTo("unix:/b.sock");
        connector.failNext(refused());
        assertThat(failed).extracting(e -> e.triedAddress().toString()).containsExactly("/b.sock");
        assertThat(f.isDone()).isFalse();
        assertThat(connector.pending.peek().address().spec()).isEqualTo("unix:/c.sock");
        pool.checkInvariants();
        connector.failNext(new java.io.IOException("Connection reset by peer"));
        assertThat(failed).hasSize(2);
        assertThat(f.cause()).isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("every address was tried").hasMessageContaining("Connection reset by peer");
        assertThat(connector.pending).isEmpty();
        // max-fails 1: b (refused) and c are down; a plain request goes to a
        pool.acquire(loopA);
        assertThat(connector.pending.peek().address().spec()).isEqualTo("unix:/a.sock");
        connector.succeedAll();
    }

    /**
     * A connect failure the request's passesOn refuses (nginx's proxy_next_upstream off, or its tries used up) fails it
     * with that failure, naming the address, where it would go on; the address is still counted against.
     */
    @Test
    void aFailedConnectThatMayNotPassOnFailsTheRequest() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 1, 10, true, 1));
        List<String> failedKeys = new ArrayList<>();
        List<Throwable> asked = new ArrayList<>();
        Future<Lease> f = pool.acquireNext(loopA, 0, false, java.util.Set.of(), (key, e) -> failedKeys.add(key),
                cause -> !asked.add(cause));
        connector.failNext(new java.io.IOException("Connection reset by peer"));
        assertThat(asked).singleElement().asString().contains("Connection reset by peer");
        assertThat(failedKeys).as("not passed on: not told as a try of its own").isEmpty();
        assertThat(f.cause()).isInstanceOf(BackendUnavailableException.class).hasMessageContaining("connect to")
                .hasMessageContaining("a.sock");
        assertThat(((BackendUnavailableException) f.cause()).triedAddress().toString()).isEqualTo("/a.sock");
        assertThat(connector.pending).as("b not tried").isEmpty();
        pool.checkInvariants();
        // max-fails 1: a is down, b is the only address besides it
        assertThat(pool.hasAddressBesides(java.util.Set.of())).isTrue();
        assertThat(pool.hasAddressBesides(java.util.Set.of(BackendAddress.key("unix:/b.sock")))).isFalse();
    }

    /** Told of each failed connect, the address's key too: what the caller adds to those it tried. */
    @Test
    void aFailedConnectPassedOnIsToldWithItsAddressesKey() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 1, 10, true, 0));
        List<String> failedKeys = new ArrayList<>();
        Future<Lease> f = pool.acquireNext(loopA, 0, false, java.util.Set.of(), (key, e) -> failedKeys.add(key),
                cause -> true);
        connector.failNext(new java.io.IOException("Connection reset by peer"));
        assertThat(failedKeys).containsExactly(BackendAddress.key("unix:/a.sock"));
        connector.succeedNext();
        assertThat(f.isSuccess()).isTrue();
        assertThat(f.getNow().address().spec()).isEqualTo("unix:/b.sock");
        f.getNow().release(Lease.Outcome.REUSABLE);
    }

    @Test
    void aRequestPassedOnThatTriedEveryAddressFailsAtOnce() {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 1, 10, true, 1));
        Future<Lease> f = pool.acquireNext(loopA, 0, true,
                java.util.Set.of(BackendAddress.key("unix:/a.sock"), BackendAddress.key("unix:/b.sock")), e -> { });
        assertThat(f.cause()).isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("every address was tried");
        assertThat(connector.pending).isEmpty();
    }

    /**
     * A single address refusing: one passed on has nowhere else to go, so its refusal is taken for a restart, waited
     * for as a plain request's (not reported as a try of its own, not counted against the address); a connect that
     * works gives it the connection.
     */
    @Test
    void aRequestPassedOnToASingleRefusingAddressWaitsForItsRestart() {
        onePhp(1, 10);
        List<BackendUnavailableException> failed = new ArrayList<>();
        Future<Lease> f = pool.acquireNext(loopA, 0, false, java.util.Set.of(), failed::add);
        connector.failNext(refused());
        assertThat(failed).isEmpty();
        assertThat(f.isDone()).as("waits for the restart").isFalse();
        pool.checkInvariants();
        timers.advanceMillis(200);
        connector.succeedNext();
        assertThat(f.isSuccess()).isTrue();
        f.getNow().release(Lease.Outcome.REUSABLE);
    }

    /**
     * Busy is no failure: one passed on waits in the queue for the address it has not tried, and a request behind it
     * takes the slot of the one it tried.
     */
    @Test
    void aQueuedRequestPassedOnWaitsForItsUntriedAddressWhileOthersPassItForTheTriedOne() {
        List<Lease> held = oneLeaseEach(true);
        Lease onA = held.get(0);
        Lease onB = held.get(1);
        Future<Lease> passedOn = pool.acquireNext(loopA, 0, true, java.util.Set.of(BackendAddress.key("unix:/a.sock")),
                e -> { });
        Future<Lease> plain = pool.acquire(loopA);
        assertThat(pool.stats().waiters()).isEqualTo(2);
        pool.checkInvariants();

        onA.release(Lease.Outcome.REUSABLE);
        assertThat(plain.isSuccess()).isTrue();
        assertThat(plain.getNow().address().spec()).isEqualTo("unix:/a.sock");
        assertThat(passedOn.isDone()).isFalse();
        pool.checkInvariants();

        onB.release(Lease.Outcome.REUSABLE);
        assertThat(passedOn.isSuccess()).isTrue();
        assertThat(passedOn.getNow().address().spec()).isEqualTo("unix:/b.sock");
        plain.getNow().release(Lease.Outcome.CLOSE);
        passedOn.getNow().release(Lease.Outcome.CLOSE);
    }

    /** A round-robin pool at unix:/a.sock and unix:/b.sock, one connection each and max-fails 1: both leased. */
    private List<Lease> oneLeaseEach(boolean keepAlive) {
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 1, 10, keepAlive, 1));
        List<Lease> held = new ArrayList<>();
        for (String address : List.of("unix:/a.sock", "unix:/b.sock")) {
            Future<Lease> f = pool.acquire(loopA);
            connector.succeedNext();
            assertThat(f.getNow().address().spec()).isEqualTo(address);
            held.add(f.getNow());
        }
        return held;
    }

    /**
     * One passed on, queued for the only address it has not tried, fails at once when a failed lease takes that address
     * down (max-fails 1), as it would arriving then: not after its queue timeout.
     */
    @Test
    void aQueuedRequestPassedOnFailsAtOnceWhenItsLastUntriedAddressGoesDown() {
        List<Lease> held = oneLeaseEach(true);
        Lease onA = held.get(0);
        Lease onB = held.get(1);
        Future<Lease> passedOn = pool.acquireNext(loopA, 0, true, java.util.Set.of(BackendAddress.key("unix:/a.sock")),
                e -> { });
        assertThat(passedOn.isDone()).isFalse();
        onB.release(Lease.Outcome.BACKEND_FAILED);
        assertThat(passedOn.cause()).isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("every address was tried");
        assertThat(pool.stats().waiters()).isZero();
        pool.checkInvariants();
        onA.release(Lease.Outcome.CLOSE);
    }

    /** The address of a new lease taken on loopA, its connect made to work. */
    private String leasedAddress(List<Lease> held) {
        Future<Lease> f = pool.acquire(loopA);
        if (!f.isDone()) {
            connector.succeedNext();
        }
        held.add(f.getNow());
        return f.getNow().address().spec();
    }

    /**
     * Lease.failed (an answer passed on, fastcgi_next_upstream http_503) counts against its address at once, while the
     * lease is held (max-fails 1: the next requests, a's turn too, go to b), and its release as BACKEND_FAILED counts
     * it no more (max-fails 2: a stays up).
     */
    @Test
    void aFailureCountedBeforeTheReleaseTakesTheAddressDownAtOnceAndCountsOnce() {
        List<Lease> held = new ArrayList<>();
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 2, 10, false, 1));
        assertThat(leasedAddress(held)).isEqualTo("unix:/a.sock");
        held.get(0).failed();
        assertThat(leasedAddress(held)).isEqualTo("unix:/b.sock");
        assertThat(leasedAddress(held)).as("a's turn, a down").isEqualTo("unix:/b.sock");
        held.forEach(l -> l.release(Lease.Outcome.CLOSE));
        pool.close();
        connector.opened.forEach(EmbeddedChannel::finishAndReleaseAll);

        held.clear();
        pool(settings(List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 2, 10, false, 2));
        assertThat(leasedAddress(held)).isEqualTo("unix:/a.sock");
        held.get(0).failed();
        held.get(0).failed();
        held.get(0).release(Lease.Outcome.BACKEND_FAILED);
        assertThat(leasedAddress(held)).isEqualTo("unix:/b.sock");
        assertThat(leasedAddress(held)).as("one failure of two: a up").isEqualTo("unix:/a.sock");
        held.forEach(l -> l.release(Lease.Outcome.CLOSE));
    }

    /** One passed on waiting at the head of the queue does not hold back a newcomer an address it tried could take. */
    @Test
    void aNewcomerIsNotHeldBehindARequestPassedOnForAnAddressItTried() {
        List<Lease> held = oneLeaseEach(false);
        Lease onA = held.get(0);
        Lease onB = held.get(1);
        Future<Lease> passedOn = pool.acquireNext(loopA, 0, true, java.util.Set.of(BackendAddress.key("unix:/b.sock")),
                e -> { });
        onB.release(Lease.Outcome.CLOSE); // b's slot free: the one ahead tried b
        assertThat(passedOn.isDone()).isFalse();
        pool.checkInvariants();
        Future<Lease> newcomer = pool.acquire(loopA);
        assertThat(connector.pending).hasSize(1);
        assertThat(connector.succeedNext().address().spec()).isEqualTo("unix:/b.sock");
        assertThat(newcomer.isSuccess()).isTrue();
        pool.checkInvariants();
        onA.release(Lease.Outcome.CLOSE);
        connector.succeedNext();
        assertThat(passedOn.getNow().address().spec()).isEqualTo("unix:/a.sock");
        newcomer.getNow().release(Lease.Outcome.CLOSE);
        passedOn.getNow().release(Lease.Outcome.CLOSE);
    }

    /**
     * Passed on from an address that answers connects (a read timeout there) to the last one left, which refuses: its
     * restart is waited for the restart window, then the request fails (502), as when every address refuses; not held
     * for its whole queue timeout because the address it left is not refusing.
     */
    @Test
    void aRequestPassedOnToTheLastAddressRefusingFailsAfterTheRestartWindow() {
        pool(new BackendGroupSettings("php", List.of("unix:/a.sock", "unix:/b.sock"), Balance.ROUND_ROBIN, 1,
                new BackendGroupSettings.Queue(10, Duration.ofSeconds(60), Duration.ofSeconds(1)),
                new BackendGroupSettings.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(30)),
                new BackendGroupSettings.KeepAlive(true, Duration.ofSeconds(10), 3),
                new BackendGroupSettings.Health(0, Duration.ofSeconds(5)), null,
                new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30)));
        Future<Lease> f = pool.acquireNext(loopA, 0, true, java.util.Set.of(BackendAddress.key("unix:/a.sock")),
                e -> { });
        long waitedMillis = 0;
        while (!f.isDone() && waitedMillis < 30_000) {
            if (!connector.pending.isEmpty()) {
                assertThat(connector.pending.peek().address().spec()).isEqualTo("unix:/b.sock");
                connector.failNext(refused());
            }
            pool.checkInvariants();
            timers.advanceMillis(100);
            waitedMillis += 100;
        }
        assertThat(f.cause()).isInstanceOf(BackendUnavailableException.class);
        assertThat(waitedMillis).isBetween(BackendPool.RESTART_WINDOW.toMillis(),
                BackendPool.RESTART_WINDOW.toMillis() + 1000);
    }
}
