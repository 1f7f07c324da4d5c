package io.edge.cache.http;

import io.netty.util.Timeout;
import io.netty.util.Timer;
import io.netty.util.TimerTask;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * At most one backend request per key at a time. Concurrent misses for a key {@link #join} one flight: the
 * first becomes its leader and goes to the backend, the others are followers that wait for the flight to
 * end, then look the cache up again.
 *
 * <p>A flight is a small state machine:
 * <pre>
 *   (none) --join/tryLead--> FLYING --leader done()------> DONE       followers: look up again
 *                                   --leader notStored()-> NOT_STORED followers: look up again, else join again
 *                                   --leader failed()----> FAILED     followers: stale-if-error, else as NOT_STORED
 *                                   --timeout-----------> TIMED_OUT  followers: go to the backend themselves
 * </pre>
 * Invariants: a key maps to at most one FLYING flight; a flight leaves the map before its followers are
 * released, so a follower that joins again starts a new flight (the first to join leads it, the others wait on:
 * nginx's cache lock, taken again by one waiter when its holder's answer was not cached); a flight ends exactly
 * once (a leader that finishes after its timeout changes nothing). The timeout runs from the flight's start, so a
 * leader that never finishes cannot block a key; and a follower waits no longer than {@code timeout} in all, over
 * every flight it joins ({@link #join(String, boolean, long)}), as nginx's fastcgi_cache_lock_timeout runs from a
 * request's first wait. Nobody waits for a
 * flight once every follower {@link Ticket#leave left} or it ended; a leader may ask to hear of that
 * ({@link Ticket#whenNobodyWaits}), as one that goes on only for its followers does.
 *
 * <p>Threads: followers are released on the thread that ends the flight (the leader's, or the timer's);
 * a follower on an event loop continues with {@code whenCompleteAsync(..., loop)}. Nothing here blocks.
 */
public final class Coalescer {

    /** How a flight ended, as its followers see it. */
    public enum Outcome {
        /** The answer is in the cache, or was revalidated; or nothing came of it that another try would change. */
        DONE,
        /** The answer was not stored, for reasons another answer may not have: one follower tries again. */
        NOT_STORED,
        /**
         * The backend failed (no answer, or one a stale copy answers for): a stale copy answers the followers, else
         * they go on as from NOT_STORED (one tries again, as nginx's waiters take its cache lock in turn).
         */
        FAILED,
        /** The flight's timeout, or the follower's own wait in all, ran out. */
        TIMED_OUT
    }

    private final ConcurrentHashMap<String, Flight> flights = new ConcurrentHashMap<>();
    private final Timer timer;
    private final long timeoutNanos;
    private final LongAdder coalesced;

    /** @param timer ends flights after {@code timeout}; @param timeout the longest wait of a follower */
    public Coalescer(Timer timer, Duration timeout) {
        this(timer, timeout, new LongAdder());
    }

    /** As above, counting its followers in {@code coalesced} (a predecessor's count, which goes on). */
    Coalescer(Timer timer, Duration timeout, LongAdder coalesced) {
        this.timer = timer;
        this.timeoutNanos = timeout.toNanos();
        this.coalesced = coalesced;
    }

    /** Joins the flight for {@code key}, leading a new one if none is in the air. */
    public Ticket join(String key) {
        return join(key, true);
    }

    /** As {@link #join(String)}; {@code count}: false for a request counted as a follower already (a second wait). */
    public Ticket join(String key, boolean count) {
        return join(key, count, 0);
    }

    /**
     * As {@link #join(String, boolean)} for a request that waited {@code waitedNanos} for earlier flights already: as a
     * follower it waits only for what is left of {@code timeout} (none left: its wait ends at once, {@link
     * Outcome#TIMED_OUT}).
     */
    public Ticket join(String key, boolean count, long waitedNanos) {
        while (true) {
            Flight mine = new Flight(key);
            Flight existing = flights.putIfAbsent(key, mine);
            if (existing == null) {
                arm(mine);
                return new Ticket(mine, true);
            }
            if (!existing.future.isDone()) {
                if (count) {
                    coalesced.increment();
                }
                existing.followers.incrementAndGet();
                Ticket follower = new Ticket(existing, false);
                if (waitedNanos > 0) {
                    follower.waitAtMost(timeoutNanos - waitedNanos);
                }
                return follower;
            }
            flights.remove(key, existing); // ended but not yet removed by its ender: help, then retry
        }
    }

    /** Leads a new flight for {@code key} if none is in the air, else returns {@code null} (and waits for nothing). */
    public Ticket tryLead(String key) {
        Flight mine = new Flight(key);
        if (flights.putIfAbsent(key, mine) != null) {
            return null;
        }
        arm(mine);
        return new Ticket(mine, true);
    }

    /** Followers that joined a flight instead of going to the backend, since its count began. */
    public long coalesced() {
        return coalesced.sum();
    }

    /** Flights in the air now. */
    int inFlight() {
        return flights.size();
    }

    private void arm(Flight flight) {
        Timeout timeout = schedule(t -> end(flight, Outcome.TIMED_OUT), timeoutNanos);
        if (timeout == null) {
            end(flight, Outcome.TIMED_OUT); // nothing would end a wait for it: nobody waits, each goes on its own
            return;
        }
        flight.timeout = timeout;
        if (flight.future.isDone()) {
            timeout.cancel(); // ended between scheduling and here: not possible for a leader yet unreturned
        }
    }

    /**
     * Runs {@code task} after {@code nanos}; null where the timer takes no more: stopped with its configuration's cache,
     * whose requests may outlive the drain timeout of a reload (and then join again, a fill's answer not stored).
     */
    private Timeout schedule(TimerTask task, long nanos) {
        try {
            return timer.newTimeout(task, nanos, TimeUnit.NANOSECONDS);
        } catch (IllegalStateException | RejectedExecutionException stopped) {
            return null;
        }
    }

    private void end(Flight flight, Outcome outcome) {
        flights.remove(flight.key, flight);
        if (flight.future.complete(outcome)) {
            Timeout timeout = flight.timeout;
            if (timeout != null) {
                timeout.cancel();
            }
            flight.nobodyWaits(); // the followers go on their own now (or look up what the leader stored)
        }
    }

    private static final class Flight {
        final String key;
        final CompletableFuture<Outcome> future = new CompletableFuture<>();
        /** Followers that joined and have not {@link Ticket#leave left}. */
        final AtomicInteger followers = new AtomicInteger();
        /** The leader's {@link Ticket#whenNobodyWaits} task, until it ran. */
        final AtomicReference<Runnable> whenNobodyWaits = new AtomicReference<>();
        volatile Timeout timeout;
        /** When the leader's request left the backend's queue ({@link System#nanoTime}); 0 while it has not. */
        volatile long leasedAtNanos;

        Flight(String key) {
            this.key = key;
        }

        boolean hasFollowers() {
            return followers.get() > 0 && !future.isDone();
        }

        /** Runs the leader's task, once, if it waits for this and nobody waits for the flight now. */
        void nobodyWaits() {
            if (!hasFollowers()) {
                Runnable task = whenNobodyWaits.getAndSet(null);
                if (task != null) {
                    task.run();
                }
            }
        }
    }

    /** One request's part in a flight: the leader reports how it ended, a follower waits for that. */
    public final class Ticket {
        private final Flight flight;
        private final boolean leader;
        /** The flight's end as this follower sees it: also TIMED_OUT when its own wait ran out first. */
        private final CompletableFuture<Outcome> ended;
        /** Left by its request, or by its own wait running out (the timer's thread): once. */
        private final AtomicBoolean left = new AtomicBoolean();
        /** Follower: ends its own wait ({@link #waitAtMost}), cancelled once it ends or its request leaves; or null. */
        private volatile Timeout ownTimeout;

        Ticket(Flight flight, boolean leader) {
            this.flight = flight;
            this.leader = leader;
            this.ended = flight.future.copy();
        }

        /** Follower: stops waiting after {@code nanos}, as one that left: TIMED_OUT, its flight going on. */
        private void waitAtMost(long nanos) {
            Timeout timeout = nanos > 0 ? schedule(t -> stopWaiting(), nanos) : null;
            if (timeout == null) {
                stopWaiting(); // no wait left, or no timer to end one
                return;
            }
            ownTimeout = timeout;
            if (left.get()) {
                timeout.cancel(); // left between scheduling and here
            }
            ended.whenComplete((outcome, error) -> timeout.cancel());
        }

        private void stopWaiting() {
            if (ended.complete(Outcome.TIMED_OUT)) {
                leave();
            }
        }

        /** True for the one request that goes to the backend. */
        public boolean leader() {
            return leader;
        }

        /** Completes when the flight ends; each call returns a new stage, so a follower may cancel its own. */
        public CompletableFuture<Outcome> ended() {
            return ended.copy();
        }

        /** Whether followers wait for this flight: joined it, have not left, and it has not ended. */
        public boolean hasFollowers() {
            return flight.hasFollowers();
        }

        /**
         * Leader: runs {@code task} once nobody waits for this flight any more, at once if nobody does now: the last
         * follower left, or the flight ended (its timeout sent the followers on their own). Runs on the thread that
         * saw it (the last follower's, the timer's, or this one); a follower may join again afterwards. A second call
         * replaces a task that has not run.
         */
        public void whenNobodyWaits(Runnable task) {
            requireLeader();
            flight.whenNobodyWaits.set(task);
            flight.nobodyWaits();
        }

        /**
         * Follower: no longer waits for the flight (its client went away); idempotent. Its own timer goes too: the
         * timer would hold the ticket, and through it the flight and what waits on it, until its wait would have run
         * out.
         */
        public void leave() {
            if (!leader && left.compareAndSet(false, true)) {
                Timeout timeout = ownTimeout;
                if (timeout != null) {
                    timeout.cancel();
                }
                flight.followers.decrementAndGet();
                flight.nobodyWaits();
            }
        }

        /** Leader: the response is in the cache (or turned out not storable); followers look up again. */
        public void done() {
            requireLeader();
            end(flight, Outcome.DONE);
        }

        /**
         * Leader: the response is not stored, though the next one may be (a 5xx, a refusal owed to a purge meanwhile,
         * an answer not storable that left no hit-for-miss mark): followers look up again, and where nothing answers
         * they join again, so that one of them goes to the backend and the others wait for it (nginx's cache lock,
         * which its holder releases without storing). Idempotent, also after {@link #done()}.
         */
        public void notStored() {
            requireLeader();
            end(flight, Outcome.NOT_STORED);
        }

        /**
         * Leader: its request left the backend's wait queue (it has a connection, and the script runs now). What a
         * follower waited before that was a wait for the backend's queue ({@link #queuedSince}).
         */
        public void leaderLeased() {
            requireLeader();
            if (flight.leasedAtNanos == 0) {
                long now = System.nanoTime();
                flight.leasedAtNanos = now == 0 ? 1 : now;
            }
        }

        /**
         * Follower: of its wait since {@code joinedNanos} ({@link System#nanoTime}) until now, the part the leader spent
         * in the backend's wait queue: what it has waited for the queue already, to be counted against its own queue
         * wait should it go to the backend itself. Its wait while the leader's script ran is not.
         */
        public long queuedSince(long joinedNanos) {
            long leased = flight.leasedAtNanos;
            long now = System.nanoTime();
            long end = leased == 0 || leased - now > 0 ? now : leased;
            return Math.max(0, end - joinedNanos);
        }

        /** Leader: the backend failed or the client went away; idempotent, also after {@link #done()}. */
        public void failed() {
            requireLeader();
            end(flight, Outcome.FAILED);
        }

        private void requireLeader() {
            if (!leader) {
                throw new IllegalStateException("only the leader of a flight ends it");
            }
        }
    }
}
