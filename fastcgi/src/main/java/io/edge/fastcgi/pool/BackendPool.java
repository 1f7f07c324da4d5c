package io.edge.fastcgi.pool;

import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.BackendUnavailableException;
import io.edge.fastcgi.PoolClosedException;
import io.edge.fastcgi.QueueFullException;
import io.edge.fastcgi.QueueTimeoutException;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.io.FileNotFoundException;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of one backend group and the queue of requests waiting for one. Thread-safe: requests
 * come from every event loop; one lock guards all counters, and no I/O, promise completion or listener
 * runs while it is held (those are collected and run after unlocking).
 *
 * <h2>Slots</h2>
 * Each address has {@code max-connections} slots. A slot is taken by a connection being opened, a leased
 * connection, or an idle kept-alive one (an idle connection holds a php-fpm worker), whichever event loop it
 * lives on. A connection lives on the event loop of the request that last used it.
 *
 * <h2>A request ({@link Waiter})</h2>
 * <pre>
 *   acquire ──► DISPATCHED ──connect ok / idle reuse──► GRANTED (promise holds a Lease)
 *      │            │
 *      │            ├─ connect failed, busy (EAGAIN, ECONNREFUSED, ENOENT) ──► QUEUED back (deadline kept)
 *      │            └─ connect failed, hard ──► QUEUED back, or FAILED (BackendUnavailable) once it
 *      │                                        failed on as many addresses as the group has, or all are down
 *      ├─ queue empty and a slot is free ──► DISPATCHED
 *      ├─ otherwise ──► QUEUED, or FAILED (QueueFull) when max-waiters are queued, and one more for each slot whose
 *      │                answer is complete while its worker is awaited ({@link Lease#answered}: the client of that
 *      │                answer may be the one asking again; none with max-waiters 0, never to wait); back for
 *      │                acquireAgain (a request sent again after its lease's connection ended unread: it had its turn)
 *      (back: ahead of every request not dispatched yet, behind those sent again before it: WaitQueue#putBack)
 *   one passed on to the next address ({@link #acquireNext}, HTTP groups): never DISPATCHED to an address it tried or
 *   whose connect failed for it (refused too, then counted against the address), except a refusal of the last one
 *   left to it: waited for as a restart, as above (the restart window counted on the addresses left to it); FAILED
 *   (BackendUnavailable) when no address is left that it has not tried and that is not down, arriving or QUEUED (a
 *   failed lease taking the last one down), or with its failed connect's failure when that may not pass it on (its
 *   location's proxy_next_upstream conditions, tries or timeout); QUEUED, those behind it may pass it for one it tried
 *   QUEUED ──oldest, when a slot frees──► DISPATCHED
 *   QUEUED ──deadline──► FAILED (QueueTimeout)        QUEUED ──promise cancelled──► removed, never dispatched
 *   one with an answer of its own ({@link #acquireUnlessRefused}), arriving or QUEUED, while every address refuses
 *   connects and has none alive ──► FAILED (BackendUnavailable): it answers without the backend; arriving with no
 *   queue and a connect due (the busy backoff over) ──► DISPATCHED, so that such requests alone find php-fpm back
 *   any request, once every address not down has refused connects for {@link #RESTART_WINDOW} (an outage, not a
 *   restart; not for a php-fpm edge spawned, which its supervisor restarts) ──► FAILED (BackendUnavailable) in the
 *   same way, as nginx's 502, until a connect works
 * </pre>
 * A newcomer never overtakes a queued request: it is dispatched directly only when the queue is empty.
 * A queued request may be overtaken by a younger queued one, boundedly, to keep connections on their loops:
 * when every slot is taken and the only idle connections live on other loops than the oldest waiter's, the
 * oldest of the next {@value #LOOKAHEAD} waiters whose loop has one takes the slot instead, so nothing is moved
 * (moving costs a deregister, a register and a hop to the other thread). The oldest waiter lets younger ones
 * pass this way for at most {@link #MAX_OVERTAKING} from the first time it is passed; then it gets the next
 * slot, moving a connection to its loop if need be, which also rebalances connections between loops. A time,
 * not a count: with a slow backend (4 workers, 100 ms scripts) the earlier bound of 8 passes could cost the
 * oldest request 200 ms, most of a 300 ms queue timeout, while with a fast one 8 passes take well under a
 * millisecond. Measured on php-hello (8 workers, 64 clients): 5 ms and 8 passes give the same rate and p99
 * (~5 ms); no bound at all gives +20 % rate but a p99 of 80 ms, one loop's clients starved. With a slow backend
 * one pass may cost the oldest request its whole wait, though (the next slot frees a script's time later: 503 while
 * the younger one got an answer), so it is passed only while it has more than twice the time a lease holds its slot,
 * on average, left of its queue timeout.
 *
 * <h2>A connection ({@link PooledConnection})</h2>
 * {@code (connecting) ──► LEASED ──release(REUSABLE), keep-alive, under max-requests──► IDLE ──► LEASED};
 * {@code LEASED ──release(CLOSE | BACKEND_FAILED | ABANDONED)──► CLOSED}; {@code IDLE ──idle timeout or peer close──► CLOSED}; an idle connection a request on another loop
 * needs (every slot taken) is moved to that loop, not closed. A slot freed by any of these goes to the oldest
 * waiter at once.
 * {@code LEASED ──release(TIMED_OUT)──► LINGERING ──linger──► CLOSED}: the channel is closed at once,
 * but its slot stays taken for the linger time ({@link BackendGroupSettings#lingerAfterTimeout}: the read timeout, or
 * for a spawned php-fpm the idle timeout of kept connections if longer). php-fpm does not stop a script when its connection closes, so a
 * slot freed at once would send the next connect into php-fpm's listen backlog, where it waits unseen, past the queue
 * and its timeout, while the worker finishes. The linger bounds the guess: a php-fpm edge spawns has
 * {@code request_terminate_timeout} set to the read timeout plus that idle timeout
 * ({@link BackendGroupSettings#requestTerminateTimeout}), so the worker is free by then; another php-fpm should set it
 * too (without it a hung script holds its worker for good, and no linger can tell).
 *
 * <h2>An address ({@link Backend})</h2>
 * A busy connect failure makes it ineligible for new connects for a short, doubling backoff (5 ms to 200 ms) and
 * is not a health failure (php-fpm restarting or its backlog full); any released lease clears it, since a worker is
 * free again. Until a connect succeeds or a lease is released, an idle connection on another loop is moved to a
 * request rather than a new connect tried (a php-fpm whose socket file was removed still serves the connections it
 * has). A refused connect (socket file gone, nobody listening) is logged, once per run of them and every 10 s.
 * {@code health.max-fails} consecutive hard failures (connect errors, released
 * {@code BACKEND_FAILED}, or counted at once by {@link Lease#failed}) take it down for {@code health.fail-timeout} (groups of two or more addresses only,
 * as in nginx). When every address is down, queued
 * and new requests fail with {@link BackendUnavailableException}.
 *
 * <h2>Invariants (asserted by {@link #checkInvariants()} in tests)</h2>
 * For each address {@code 0 <= idle <= open <= max-connections} and {@code 0 <= lingering <= open - idle}; every
 * idle connection is in state IDLE;
 * a queued waiter's promise is not done; no address is eligible (it has a free slot while not busy, or an idle
 * connection, and is not down) for a queued waiter (one passed on: of those it has not tried) — except transiently
 * inside a dispatch.
 */
public final class BackendPool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BackendPool.class);
    /** How far behind the oldest waiter one on an idle connection's loop is looked for. */
    static final int LOOKAHEAD = 16;
    /**
     * How long younger waiters may go on taking slots before the oldest one, from the first time one did: bounds
     * the unfairness of locality.
     */
    static final Duration MAX_OVERTAKING = Duration.ofMillis(5);
    private static final long MAX_OVERTAKING_NANOS = MAX_OVERTAKING.toNanos();
    /**
     * How long refused connects are taken for a restart of the backend, which the requests wait for (php-fpm's takes
     * a second or two); past it, for an outage: a request whose connect is refused fails at once (502), as from nginx,
     * rather than after the whole queue timeout (30 s a page, while php-fpm was down).
     */
    static final Duration RESTART_WINDOW = Duration.ofSeconds(5);
    private static final long RESTART_WINDOW_NANOS = RESTART_WINDOW.toNanos();
    /** While connects go on being refused, how often that is logged again. */
    private static final long REFUSAL_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

    /**
     * What kind of group this pool serves: FastCGI's (fastcgi.backends) or a proxied one's (proxy.backends), named
     * by the word of its configuration in the pool's log lines and failures.
     */
    public enum Kind {
        FASTCGI("fastcgi group"), PROXY("proxy backend");

        private final String words;

        Kind(String words) {
            this.words = words;
        }
    }

    private final String name;
    /** The group as its log lines and failures name it: "fastcgi group php", "proxy backend api". */
    private final String group;
    private final BackendGroupSettings.Balance balance;
    private final int maxConnections;
    private final int maxWaiters;
    private final long queueTimeoutNanos;
    private final Duration queueTimeout;
    /** The queue's 503s' Retry-After (queue.retry-after), 0 for none. */
    private final int retryAfterSeconds;
    private final boolean keepAlive;
    private final boolean awaitWorker;
    private final long idleTimeoutNanos;
    private final int maxRequests;
    private final int maxFails;
    private final long failTimeoutNanos;
    /** How long the slot of a connection closed while its worker may be busy stays taken (the read timeout). */
    private final long lingerNanos;
    private final Connector connector;
    private final Timers timers;
    private final Backend[] backends;
    private final WaitQueue queue;

    private int nextIndex;
    private volatile boolean closed;
    /** Built: the pools sharing its slots ({@link SharedSlots}) may offer it slots from then on. */
    private volatile boolean ready;
    /** The pool that took this one's place and its queue ({@link #takeOver}), or null. */
    private volatile BackendPool successor;
    /** An outage ({@link #outage}) was logged since a connect last worked; guarded by this pool's lock. */
    private boolean outageLogged;
    /** Its address is a php-fpm edge spawned, on this machine, with this configuration's files. */
    private final boolean spawned;
    /**
     * How long a lease holds its slot, a moving average (weight 1/8) over released leases a request went out on
     * ({@link Lease#exchangeStarted}); 0 before the first. A
     * queued request is overtaken for locality only while it has more than twice this left of its queue timeout.
     */
    private long holdNanos;
    /**
     * This pool's leases whose answer is complete but whose slot is held until their worker is free
     * ({@link Lease#answered}); with those of the pools sharing its slots ({@link SharedSlots#answered}), as many more
     * requests may wait than {@code max-waiters}, as their clients' next requests arrive meanwhile (a keep-alive client
     * asks again the moment it has its answer, before the probe's answer frees the slot).
     */
    private int answeredHeld;
    /**
     * When edge's running out of descriptors was last logged (it is the process's, not an address's: logged once per
     * {@link #REFUSAL_LOG_INTERVAL_NANOS} whichever address met it), and whether it was since the last working connect.
     */
    private boolean outOfDescriptorsLogged;
    private long outOfDescriptorsLoggedAt;
    /** Shared with the pools that replace this one on a reload, so that they count on from it. */
    private final Counters counters;
    /** Shared with the pools that replace this one on a reload: an address's connections count across them. */
    private final SharedSlots slots;
    /** Where this pool's connections to each address are counted with those of the server's other groups. */
    private final AddressCounts addressCounts;
    /**
     * The pools of other groups at one of this pool's addresses ({@link AddressCounts}), set as pools join and leave:
     * a connect that takes an address past max-connections has one of them give an idle connection up.
     */
    volatile List<BackendPool> neighbours = List.of();

    /** A pool connecting with epoll channels on the caller's event loop (which must be an epoll loop). */
    public static BackendPool create(BackendGroupSettings settings) {
        return create(settings, null);
    }

    /**
     * As {@link #create(BackendGroupSettings)}, for a group whose settings a reload changed: the counters since start
     * ({@link PoolStats#rejectedFull()} and the others) go on from {@code predecessor}'s (null: from 0), which adds what
     * its own requests still count while they drain; the gauges are this pool's own.
     */
    public static BackendPool create(BackendGroupSettings settings, BackendPool predecessor) {
        return create(settings, predecessor, predecessor == null ? new AddressCounts() : predecessor.addressCounts);
    }

    /**
     * As {@link #create(BackendGroupSettings, BackendPool)}, its connections counted in {@code addressCounts} with those
     * of the server's other groups at the same addresses.
     */
    public static BackendPool create(BackendGroupSettings settings, BackendPool predecessor,
                                     AddressCounts addressCounts) {
        return create(settings, predecessor, addressCounts, ConnectionSetup.NONE, Kind.FASTCGI);
    }

    /**
     * As {@link #create(BackendGroupSettings, BackendPool, AddressCounts)}, for a group of {@code kind}, each new
     * connection granted only once {@code setup} is done with it (a TLS handshake, within the connect timeout); null:
     * as connected.
     */
    public static BackendPool create(BackendGroupSettings settings, BackendPool predecessor,
                                     AddressCounts addressCounts, ConnectionSetup setup, Kind kind) {
        return new BackendPool(settings, new EpollConnector(settings.timeouts().connect(), setup), Timers.SYSTEM,
                predecessor, addressCounts, kind);
    }

    BackendPool(BackendGroupSettings settings, Connector connector, Timers timers) {
        this(settings, connector, timers, null);
    }

    BackendPool(BackendGroupSettings settings, Connector connector, Timers timers, BackendPool predecessor) {
        this(settings, connector, timers, predecessor,
                predecessor == null ? new AddressCounts() : predecessor.addressCounts);
    }

    BackendPool(BackendGroupSettings settings, Connector connector, Timers timers, BackendPool predecessor,
                AddressCounts addressCounts) {
        this(settings, connector, timers, predecessor, addressCounts, Kind.FASTCGI);
    }

    BackendPool(BackendGroupSettings settings, Connector connector, Timers timers, BackendPool predecessor,
                AddressCounts addressCounts, Kind kind) {
        this.counters = predecessor == null ? new Counters() : predecessor.counters;
        this.slots = predecessor == null ? new SharedSlots() : predecessor.slots;
        this.addressCounts = addressCounts;
        this.name = settings.name();
        this.group = kind.words + " " + name;
        this.balance = settings.balance() == null
                ? BackendGroupSettings.Balance.LEAST_CONNECTIONS : settings.balance();
        if (settings.addresses().isEmpty()) {
            throw new IllegalArgumentException(group + ": addresses: [] (expected: at least one)");
        }
        if (settings.maxConnections() < 1) {
            throw new IllegalArgumentException(group + ": max-connections: "
                    + settings.maxConnections() + " (expected: >= 1)");
        }
        this.maxConnections = settings.maxConnections();
        this.maxWaiters = settings.queue().maxWaiters();
        this.queueTimeout = settings.queue().timeout();
        this.queueTimeoutNanos = queueTimeout.toNanos();
        this.retryAfterSeconds = settings.queue().retryAfterSeconds();
        BackendGroupSettings.KeepAlive ka = settings.keepAlive();
        this.keepAlive = ka != null && ka.enabled();
        this.awaitWorker = settings.awaitWorker();
        this.spawned = settings.spawn() != null;
        this.idleTimeoutNanos = ka == null ? 0 : ka.idleTimeout().toNanos();
        this.maxRequests = ka == null ? 0 : ka.maxRequests();
        BackendGroupSettings.Health health = settings.health();
        // Like nginx: with a single address there is nowhere else to go, so it is never taken down (a
        // restarting php-fpm would otherwise turn a few failed connects into fail-timeout seconds of 502s).
        this.maxFails = health == null || settings.addresses().size() < 2 ? 0 : health.maxFails();
        this.failTimeoutNanos = health == null ? 0 : health.failTimeout().toNanos();
        this.lingerNanos = settings.lingerAfterTimeout().toNanos();
        this.connector = connector;
        this.timers = timers;
        this.queue = new WaitQueue(maxWaiters);
        List<BackendAddress> parsed = settings.addresses().stream().map(BackendAddress::parse).toList();
        // by the socket each reaches, not as written: "[::1]:9000" in one group is "[0::1]:9000" in another
        List<String> keys = parsed.stream().map(BackendAddress::key).toList();
        List<AtomicInteger> counters = slots.join(this, keys);
        List<AtomicInteger> everywhere = addressCounts.join(this, keys);
        this.backends = new Backend[parsed.size()];
        for (int i = 0; i < backends.length; i++) {
            backends[i] = new Backend(parsed.get(i), i, counters.get(i), everywhere.get(i));
        }
        ready = true;
    }

    public String name() {
        return name;
    }

    /** The group as its log lines, failures and the status page name it: "fastcgi group php", "proxy backend api". */
    public String group() {
        return group;
    }

    /**
     * A new request {@code w} (with {@code budget} of queue time): failed, dispatched, or queued (back ahead of those
     * that had no turn yet when it is sent {@code again}: {@link WaitQueue#putBack}).
     */
    private void admit(Waiter w, long budget, boolean again, long now, List<Runnable> after) {
        assert Thread.holdsLock(this);
        if (closed) {
            after.add(() -> w.promise.tryFailure(shuttingDown()));
        } else if (allDown(now)) {
            after.add(() -> w.promise.tryFailure(allDownException(w)));
        } else if (triedAll(w, now)) {
            after.add(() -> w.promise.tryFailure(triedAllException(w, null)));
        } else if (failsOnRefusal(w, now) && !queue.isEmpty()) {
            // the queued requests' connects, on the busy backoff, tell when php-fpm is back
            after.add(() -> w.promise.tryFailure(refusingException(w)));
        } else if (!queue.isEmpty() || !dispatch(w, now, after)) {
            if (failsOnRefusal(w, now)) {
                // backing off: no connect is due yet. One that is due is made for it (dispatched above): where only
                // such requests come, they are what finds php-fpm back, at most a backoff (200 ms) after it is.
                after.add(() -> w.promise.tryFailure(refusingException(w)));
            } else if (again) {
                queue.putBack(w, true);
                armTimer(w, budget);
            } else if (queue.offer(w, answeredRoom())) {
                armTimer(w, budget);
            } else {
                counters.rejectedFull.incrementAndGet();
                after.add(() -> w.promise.tryFailure(new QueueFullException(group, maxWaiters, retryAfterSeconds)));
            }
            if (w.queued && excludesAny(queue.peek())) {
                dispatchQueued(now, after); // the one ahead waits for an address it has not tried: another may be free
            }
            if (w.queued && slots.isShared()) {
                after.add(() -> slots.wanted(this)); // the slot it waits for may sit idle in another pool
            }
        }
    }

    /**
     * The refusal a request asking now would meet, counted as one: every place in the queue taken and no slot free (as
     * {@link #admit} judges it). Null when there is room. For a request whose client holds its body back until told to
     * send it ({@code Expect: 100-continue}), refused before the upload rather than after it.
     */
    public QueueFullException refusalIfFull() {
        BackendPool handedTo;
        synchronized (this) {
            handedTo = liveSuccessor();
            if (handedTo == null) {
                long now = timers.nanoTime();
                if (closed || allDown(now) || queue.size() < maxWaiters + answeredRoom()
                        || queue.isEmpty() && eligibleNow(now)) {
                    return null; // (every address down: admit answers that)
                }
                counters.rejectedFull.incrementAndGet();
                return new QueueFullException(group, maxWaiters, retryAfterSeconds);
            }
        }
        return handedTo.refusalIfFull();
    }

    /**
     * The pool this one's requests go to since it {@link #takeOver took over}, unless that one was closed first (it
     * retired before this one: its requests stay here); null for none.
     */
    private BackendPool liveSuccessor() {
        BackendPool to = successor;
        return to != null && !to.closed ? to : null;
    }

    /**
     * Asks for a connection on {@code loop}. The future completes on {@code loop} with a {@link Lease}, or
     * fails with {@link QueueFullException}, {@link QueueTimeoutException} (both: 503 + Retry-After) or
     * {@link BackendUnavailableException} (502; 504 for a connect that timed out). Cancel it ({@code future.cancel(false)}) when the client goes
     * away: a queued request is then removed and never reaches a backend. If cancel returns false the lease
     * was already granted, and the caller must release it.
     */
    public Future<Lease> acquire(EventLoop loop) {
        return acquire(loop, 0);
    }

    /**
     * As {@link #acquire(EventLoop)}, for a request that has waited {@code waitedNanos} for this backend already,
     * elsewhere (behind another request for the same cached answer): it may wait in the queue only what is left of
     * {@code queue.timeout}, so that no request waits longer in all. One with nothing left gets a free slot still,
     * or {@link QueueTimeoutException} at once.
     */
    public Future<Lease> acquire(EventLoop loop, long waitedNanos) {
        return acquire(loop, waitedNanos, false);
    }

    /**
     * As {@link #acquire(EventLoop, long)}, for a request whose lease's connection ended before the backend took it
     * (a kept connection php-fpm had closed, one reset in a stopping php-fpm's backlog) and that is sent again: it had
     * its turn, so it waits before every queued request that had none (the slot it lost went to the oldest of them),
     * behind those sent again before it ({@link WaitQueue#putBack}), and for what its earlier waits,
     * {@code waitedNanos}, left of {@code queue.timeout}.
     */
    public Future<Lease> acquireAgain(EventLoop loop, long waitedNanos) {
        return acquire(loop, waitedNanos, true);
    }

    /**
     * As {@link #acquire(EventLoop, long)}, or {@link #acquireAgain} when {@code again}, for a request with an answer of
     * its own should the backend be down (a stale copy in the response cache): while the group {@linkplain #refusing
     * refuses connections} it fails at once with {@link BackendUnavailableException}, on arrival or, queued, when a
     * connect is refused, where any other request waits for a restart up to the queue timeout (nginx answers its stale
     * copy at once on a connect error).
     */
    public Future<Lease> acquireUnlessRefused(EventLoop loop, long waitedNanos, boolean again) {
        return acquire(loop, waitedNanos, again, true);
    }

    /**
     * As {@link #acquire(EventLoop, long)}, or {@link #acquireAgain} when {@code again}, for a request passed on to the
     * next address when one fails it (nginx's {@code proxy_next_upstream error timeout} with {@code
     * proxy_next_upstream_tries 0}): it is never given a connection to an address whose {@linkplain BackendAddress#key
     * key} is in {@code tried} (those it went out to before), nor to one whose connect failed for it here. A connect that
     * fails (refused, reset, unreachable, timed out) is counted against its address's health (a refusal too, which
     * for another request is only a busy backend restarting) and reported to {@code failedConnect}, on {@code loop},
     * before the request goes on to another address. A refused (or otherwise busy) connect to the last address left to
     * it is not: that one is waited for as a restart of the backend, as any request waits ({@link #RESTART_WINDOW}), so
     * a group of one address, or of several all restarting at once, does not answer 502 at once. When none is left that
     * it has not tried and that is not down, the
     * future fails with {@link BackendUnavailableException} (naming the last failure's cause, if any), at once if
     * {@code tried} names them all. Busy is not a failure: a request whose untried addresses have every slot taken
     * waits for one in the queue as any other. A queued request that excludes an address may be passed, for that
     * address, by requests behind it.
     */
    public Future<Lease> acquireNext(EventLoop loop, long waitedNanos, boolean again, Set<String> tried,
            Consumer<BackendUnavailableException> failedConnect) {
        return acquireNext(loop, waitedNanos, again, tried, (key, failure) -> failedConnect.accept(failure),
                cause -> true);
    }

    /**
     * As {@link #acquireNext(EventLoop, long, boolean, Set, Consumer)}, {@code failedConnect} told the key of the address
     * whose connect failed too, where a connect that fails goes on to another address only if {@code passesOn} says so
     * of its cause (asked on {@code loop}, under the pool's lock: nginx's proxy_next_upstream conditions and bounds);
     * when not, the future fails with it (a {@link BackendUnavailableException} naming the address), {@code
     * failedConnect} not told. A refusal of the last address left is waited for as a restart still (nothing passed on).
     */
    public Future<Lease> acquireNext(EventLoop loop, long waitedNanos, boolean again, Set<String> tried,
            BiConsumer<String, BackendUnavailableException> failedConnect, Predicate<Throwable> passesOn) {
        return acquireNext(loop, waitedNanos, again, false, tried, failedConnect, passesOn);
    }

    /**
     * As {@link #acquireNext(EventLoop, long, boolean, Set, BiConsumer, Predicate)}, for a request with an answer of its
     * own should the backend be down when {@code unlessRefused} ({@link #acquireUnlessRefused}): it fails at once while
     * the addresses left to it refuse connections.
     */
    public Future<Lease> acquireNext(EventLoop loop, long waitedNanos, boolean again, boolean unlessRefused,
            Set<String> tried, BiConsumer<String, BackendUnavailableException> failedConnect,
            Predicate<Throwable> passesOn) {
        return acquire(loop, waitedNanos, again, unlessRefused, new HashSet<>(tried), failedConnect, passesOn);
    }

    /**
     * The address a connect made for a request failed at, as the failure of its lease ({@link
     * BackendUnavailableException}, {@link QueueTimeoutException}) names it; null for none.
     */
    public static SocketAddress triedAddress(Throwable failure) {
        return failure instanceof BackendUnavailableException unavailable ? unavailable.triedAddress()
                : failure instanceof QueueTimeoutException timedOut ? timedOut.triedAddress() : null;
    }

    /**
     * Whether an address is left that a request passed on to the next address ({@link #acquireNext}) could be given:
     * one not in {@code tried} (keys) and not down. The request's answer from the last of them is passed to the client
     * rather than dropped for none (nginx's proxy_next_upstream http_503 passes on no last answer).
     */
    public boolean hasAddressBesides(Set<String> tried) {
        return hasAddressBesides(tried, (String) null);
    }

    /** As {@link #hasAddressBesides(Set)}, {@code current}'s address counted as tried too (the try it is on). */
    public boolean hasAddressBesides(Set<String> tried, Lease current) {
        return hasAddressBesides(tried, current.address().key());
    }

    private boolean hasAddressBesides(Set<String> tried, String alsoTried) {
        BackendPool handedTo;
        synchronized (this) {
            handedTo = liveSuccessor();
            if (handedTo == null) {
                long now = timers.nanoTime();
                for (Backend b : backends) {
                    if (!tried.contains(b.key) && !b.key.equals(alsoTried) && !b.isDown(now)) {
                        return true;
                    }
                }
                return false;
            }
        }
        return handedTo.hasAddressBesides(tried, alsoTried); // outside this lock: never two pools' locks at once
    }

    private Future<Lease> acquire(EventLoop loop, long waitedNanos, boolean again) {
        return acquire(loop, waitedNanos, again, false);
    }

    private Future<Lease> acquire(EventLoop loop, long waitedNanos, boolean again, boolean unlessRefused) {
        return acquire(loop, waitedNanos, again, unlessRefused, null, null, null);
    }

    private Future<Lease> acquire(EventLoop loop, long waitedNanos, boolean again, boolean unlessRefused,
            Set<String> excluded, BiConsumer<String, BackendUnavailableException> failedConnect,
            Predicate<Throwable> passesOn) {
        long now = timers.nanoTime();
        long budget = Math.max(0, queueTimeoutNanos - Math.max(0, waitedNanos));
        Promise<Lease> promise = loop.newPromise();
        Waiter w = new Waiter(promise, loop, now, now + budget, unlessRefused, again, excluded, failedConnect,
                passesOn);
        List<Runnable> after = new ArrayList<>(2);
        BackendPool handedTo;
        synchronized (this) { // under the lock: a hand-over is done under it too, so no request is left behind
            handedTo = liveSuccessor();
            if (handedTo == null) {
                admit(w, budget, again, now, after);
            }
        }
        if (handedTo != null) {
            // outside this lock: never two pools' locks at once
            return handedTo.acquire(loop, waitedNanos, again, unlessRefused, excluded, failedConnect, passesOn);
        }
        promise.addListener(f -> {
            if (f.isCancelled()) {
                cancelled(w);
            }
        });
        runAll(after);
        return promise;
    }

    public synchronized PoolStats stats() {
        int open = 0;
        int idle = 0;
        int lingering = 0;
        for (Backend b : backends) {
            open += b.open;
            idle += b.idle.size();
            lingering += b.lingering;
        }
        return new PoolStats(open, idle, queue.size(), counters.rejectedFull.get(), counters.timedOut.get(),
                counters.busyConnects.get(), counters.failedConnects.get(), lingering, answeredHeld);
    }

    /**
     * Fails every queued request ({@link PoolClosedException}: 503, it never ran) and closes idle connections; leased
     * ones close when released.
     */
    @Override
    public void close() {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            failAllQueued(w -> shuttingDown(), after);
            closeAllIdle(after);
        }
        slots.leave(this);
        addressCounts.leave(this);
        runAll(after);
    }

    /**
     * Waits, after {@link #close}, until none of this pool's connections is left open (leased ones released, which with
     * a worker awaited is when its script ends; a lingering one, closed after a timeout, is not waited for), until
     * {@code deadlineNanos} ({@link System#nanoTime}) or until {@code giveUp} says so, whichever comes first; true if
     * none is left. Blocks: never on an event loop. What a php-fpm that is to be stopped waits for, so that a script
     * still running after {@code fastcgi_finish_request()} is not cut off by its stop.
     */
    public boolean awaitDrained(long deadlineNanos, BooleanSupplier giveUp) throws InterruptedException {
        synchronized (this) {
            while (true) {
                if (openConnections() == 0) {
                    return true;
                }
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0 || giveUp.getAsBoolean()) {
                    return false;
                }
                wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 50)));
            }
        }
    }

    /** The connections of this pool still open (connecting, leased, idle; not lingering ones, which are closed). */
    public synchronized int openConnections() {
        int open = 0;
        for (Backend b : backends) {
            open += b.open - b.lingering;
        }
        return open;
    }

    /**
     * Another pool sharing this one's slots ({@link SharedSlots}) needs them: a newer one a reload put in this one's
     * place, or one whose request waits. Idle connections, unless this pool's own queued requests are about to take
     * them, are closed, since they hold php-fpm workers the other pool needs.
     */
    void giveUpIdle() {
        if (!ready) {
            return;
        }
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (queue.isEmpty()) {
                closeAllIdle(after);
            }
        }
        runAll(after);
    }

    /**
     * A pool of another group connects to the address of {@code key} ({@link BackendAddress#key()}) past
     * max-connections with this one's connections there ({@link AddressCounts}): the idle connection there used longest
     * ago, unless this pool's own queued requests are about to take it, is closed, freeing its php-fpm worker for that
     * connect. Idle ones there the backend closed (a php-fpm restart, its request_terminate_timeout), whose close this
     * pool has not yet seen, free no worker: they are cleaned up on the way, as their close would. True if an open one
     * was closed; else the caller asks the next group.
     */
    boolean giveUpOneIdle(String key) {
        if (!ready) {
            return false;
        }
        List<Runnable> after = new ArrayList<>(4);
        boolean gaveUp = false;
        synchronized (this) {
            for (int i = 0; i < backends.length && !gaveUp && queue.isEmpty(); i++) {
                Backend b = backends[i];
                for (PooledConnection pc; !gaveUp && b.key.equals(key) && (pc = b.idle.pollFirst()) != null; ) {
                    gaveUp = pc.channel.isActive();
                    closeIdle(pc, after);
                }
            }
        }
        runAll(after);
        return gaveUp;
    }

    private void closeAllIdle(List<Runnable> after) {
        for (Backend b : backends) {
            for (PooledConnection pc; (pc = b.idle.pollFirst()) != null; ) {
                closeIdle(pc, after);
            }
        }
    }

    /**
     * A reload that built this pool went into force: the pools of its group it replaced whose addresses it has too hand
     * it their queued requests, oldest first and each with its deadline, ahead of its own, and send it every request
     * they are asked for from now on (a body spooled across the reload, a retry). One queue then orders them all; with
     * two, the new pool's requests took every slot its connections freed while the old pool's, older, timed out (a
     * reload raising max-connections under load gave 503s). So do those of a php-fpm edge spawned that a spawn change
     * replaced: the new one serves the same files, and idled while they waited for the old one, to have 502 when it
     * retired at the drain's end (the lifecycle audit). A group moved to other addresses keeps its old pool's queue
     * there: its requests' FastCGI params were made for the files as they lie there. Their running requests finish on
     * them as before.
     */
    public void takeOver() {
        for (BackendPool older : slots.before(this)) {
            if (slots.hasAddressesOf(this, older) || older.spawned && spawned) {
                older.handOver(this);
            }
        }
    }

    private void handOver(BackendPool newer) {
        List<Waiter> moved = new ArrayList<>();
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            successor = newer;
            for (Waiter w; (w = queue.poll()) != null; ) {
                stopTimer(w, after);
                if (!w.promise.isDone()) {
                    moved.add(w);
                }
            }
        }
        runAll(after);
        newer.adopt(moved);
    }

    /** Requests {@link #handOver handed over} by a replaced pool, oldest first: they go before this pool's own. */
    private void adopt(List<Waiter> moved) {
        if (moved.isEmpty()) {
            return;
        }
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            long now = timers.nanoTime();
            for (int i = moved.size() - 1; i >= 0; i--) {
                Waiter w = moved.get(i);
                if (closed) {
                    after.add(() -> w.promise.tryFailure(shuttingDown()));
                } else {
                    queue.offerFirst(w);
                    armTimer(w, Math.max(0, w.deadlineNanos - now));
                }
            }
            dispatchQueued(now, after);
        }
        runAll(after);
        for (Waiter w : moved) {
            w.promise.addListener(f -> {
                if (f.isCancelled()) {
                    cancelled(w);
                }
            });
        }
    }

    /** Whether requests wait in this pool's queue (read without the lock). */
    boolean hasWaiters() {
        return !queue.isEmpty();
    }

    boolean keepAliveEnabled() {
        return keepAlive;
    }

    /** The slots this pool shares with the pools before and after it. For tests. */
    SharedSlots slots() {
        return slots;
    }

    /** Whether a request's slot is held until its worker reads again (the group's await-worker). */
    public boolean awaitsWorker() {
        return awaitWorker;
    }

    // ---- transitions; the methods below that take `after` run under the lock -------------------------

    /** Gives {@code w} a slot if some address is eligible; false (nothing changed) if none is. */
    private boolean dispatch(Waiter w, long now, List<Runnable> after) {
        for (int tries = 0; tries <= backends.length; tries++) {
            Backend b = choose(now, w);
            if (b == null) {
                return false;
            }
            if (assign(w, b, after)) {
                return true;
            }
            // another pool took b's last slot since choose: b is not chosen again unless it has an idle connection
            // to move now, and another address may have room
        }
        return false;
    }

    /**
     * Gives {@code w} a slot of {@code b}, which {@link #choose} just returned; false (nothing changed) if a pool
     * sharing the slots ({@link SharedSlots}) took the last one of {@code b} since: {@code w} waits for the next.
     */
    private boolean assign(Waiter w, Backend b, List<Runnable> after) {
        Runnable granting;
        PooledConnection reuse = takeIdle(b, w.loop);
        if (reuse != null) {
            leaseIdle(reuse, after);
            granting = () -> grant(w, reuse, true);
        } else if (b.open >= maxConnections
                || (b.busyUntil != 0 || b.shared.get() >= maxConnections) && !b.idle.isEmpty()) {
            // Every slot is taken, some by idle connections on other loops, or new connects fail (php-fpm's
            // socket gone or its backlog full) while one stands open: move the most recently used one to this
            // request's loop, so an exchange never hops threads and the backend keeps its worker.
            PooledConnection moving = takeIdleToMove(b);
            leaseIdle(moving, after);
            granting = () -> move(w, moving);
        } else if (takeSharedSlot(b)) {
            b.open++;
            if (b.everywhere.incrementAndGet() > maxConnections && !neighbours.isEmpty()) {
                // with the other groups' connections there, more than its workers: one of them may be idle, holding
                // the worker this connect would wait for in php-fpm's backlog
                String key = b.key;
                after.add(() -> {
                    addressCounts.owe(key);
                    if (neighbours.stream().anyMatch(other -> other.giveUpOneIdle(key))) {
                        addressCounts.payIfOwed(key);
                    }
                });
            }
            granting = () -> connect(w, b);
        } else {
            return false;
        }
        stopTimer(w, after);
        after.add(granting);
        return true;
    }

    /**
     * Counts a new connection of {@code b} in the slots shared with other pools, if one is left: checked and taken in
     * one step, since the other pools take them under their own locks.
     */
    private boolean takeSharedSlot(Backend b) {
        int taken;
        do {
            taken = b.shared.get();
            if (taken >= maxConnections) {
                return false;
            }
        } while (!b.shared.compareAndSet(taken, taken + 1));
        return true;
    }

    /** {@code pc} was just taken from its idle deque for a request: IDLE -> LEASED, idle timer off. */
    private static void leaseIdle(PooledConnection pc, List<Runnable> after) {
        pc.state = PooledConnection.State.LEASED;
        pc.exchanges++;
        if (pc.cancelIdleTimer != null) {
            after.add(pc.cancelIdleTimer);
            pc.cancelIdleTimer = null;
        }
    }

    /** Whether {@code w} may not be given some address (one it tried): others may be free for those behind it. */
    private static boolean excludesAny(Waiter w) {
        return w.excluded != null && !w.excluded.isEmpty();
    }

    private void dispatchQueued(long now, List<Runnable> after) {
        int lost = 0;
        while (!queue.isEmpty()) {
            Waiter w = queue.peek();
            if (w.promise.isDone()) { // cancelled; its listener will find it gone
                queue.remove(w);
                continue;
            }
            Backend b = choose(now, w);
            Waiter taker = w;
            for (Waiter behind = w.next; b == null && excludesAny(taker) && behind != null; behind = behind.next) {
                // w waits for an address it has not tried: one behind it may take another (one that excludes none
                // found none free: none behind it can, and the queue is not walked)
                if (!behind.promise.isDone()) {
                    taker = behind;
                    b = choose(now, behind);
                }
            }
            if (b == null) {
                return;
            }
            if (taker == w) {
                taker = localTaker(w, b, now);
            }
            if (!assign(taker, b, after)) {
                // another pool took b's last slot since choose: try again (b with an idle connection to move now,
                // or another address), a few times at most; a slot the other pool frees comes back here (freed)
                if (++lost > backends.length) {
                    return;
                }
                continue;
            }
            queue.remove(taker);
        }
        if (!slots.isNewest(this)) {
            closeAllIdle(after); // replaced, and nobody here waits: its idle connections hold workers the newer needs
        }
    }

    /**
     * Who gets the slot of {@code b}: the oldest waiter {@code head}, unless that would move an idle connection
     * to its loop while one of the next {@link #LOOKAHEAD} waiters lives on that connection's loop (see the class
     * comment; {@code head} lets them pass for at most {@link #MAX_OVERTAKING}).
     */
    private Waiter localTaker(Waiter head, Backend b, long now) {
        if (b.shared.get() < maxConnections && b.busyUntil == 0 || hasIdleOn(b, head.loop)
                || head.overtaken && now - head.overtakenSinceNanos >= MAX_OVERTAKING_NANOS
                || head.deadlineNanos - now <= 2 * holdNanos) {
            // a new connection on head's loop (none while connects fail: assign moves an idle one), a local idle
            // one, head has waited long enough, or it could not afford to wait for another slot (a slow backend)
            return head;
        }
        int looked = 0;
        for (Waiter w = head.next; w != null && looked < LOOKAHEAD; w = w.next, looked++) {
            if (!w.promise.isDone() && hasIdleOn(b, w.loop) && !w.excludes(b)) {
                if (!head.overtaken) {
                    head.overtaken = true;
                    head.overtakenSinceNanos = now;
                }
                return w;
            }
        }
        return head;
    }

    /**
     * The idle connection of {@code b} to move to another loop: the most recently used one that is still open (one
     * the backend closed, as a php-fpm restart does, would fail its exchange at once), else the most recent.
     */
    private static PooledConnection takeIdleToMove(Backend b) {
        PooledConnection open = takeIdle(b, null);
        return open != null ? open : b.idle.pollLast();
    }

    private static boolean hasIdleOn(Backend b, EventLoop loop) {
        for (PooledConnection pc : b.idle) {
            if (pc.loop == loop && pc.channel.isActive()) {
                return true;
            }
        }
        return false;
    }

    /** The address to give a slot of next, to {@code w} (null: to any request); null when none can take one now. */
    private Backend choose(long now, Waiter w) {
        int n = backends.length;
        int start = nextIndex;
        Backend best = null;
        for (int i = 0; i < n; i++) {
            Backend b = backends[(start + i) % n];
            if (b.isDown(now) || (b.idle.isEmpty() && (b.isBusy(now) || b.shared.get() >= maxConnections))
                    || w != null && w.excludes(b)) {
                continue;
            }
            if (balance == BackendGroupSettings.Balance.ROUND_ROBIN) {
                best = b;
                break;
            }
            if (best == null || b.active() < best.active()) {
                best = b;
            }
        }
        if (best != null && (w == null || w.excluded == null || w.excluded.isEmpty())) {
            // a request passed on takes the next address out of turn: the rotation goes on from the address it was
            // first given, as nginx's round robin does (else the one that passed it on meets every request first)
            nextIndex = (best.index + 1) % n;
        }
        return best;
    }

    /** The most recently used idle connection of {@code b} that is still open, on {@code loop} (null: any loop). */
    private static PooledConnection takeIdle(Backend b, EventLoop loop) {
        for (Iterator<PooledConnection> it = b.idle.descendingIterator(); it.hasNext(); ) {
            PooledConnection pc = it.next();
            if ((loop == null || pc.loop == loop) && pc.channel.isActive()) {
                it.remove();
                return pc;
            }
        }
        return null;
    }

    /** A connection of {@code b} is gone (closed, failed, its linger over): its slot is free, here and elsewhere. */
    private void vacate(Backend b, List<Runnable> after) {
        b.open--;
        b.shared.decrementAndGet();
        b.everywhere.decrementAndGet();
        if (closed) {
            notifyAll(); // awaitDrained
        }
        if (closed || slots.isShared()) { // a closed pool has left them, its last connections counting still
            after.add(() -> slots.freed(this));
        }
    }

    /** {@code pc} was just removed from its idle deque. */
    private void closeIdle(PooledConnection pc, List<Runnable> after) {
        pc.state = PooledConnection.State.CLOSED;
        vacate(pc.backend, after);
        if (pc.cancelIdleTimer != null) {
            after.add(pc.cancelIdleTimer);
            pc.cancelIdleTimer = null;
        }
        after.add(() -> pc.channel.close());
    }

    private void armTimer(Waiter w, long delayNanos) {
        w.cancelTimer = timers.schedule(w.loop, () -> expired(w), delayNanos);
    }

    private void markFailure(Backend b, long now) {
        if (maxFails > 0 && ++b.consecutiveFailures >= maxFails) {
            b.consecutiveFailures = 0;
            b.downUntil = now + failTimeoutNanos;
            if (b.downUntil == 0) {
                b.downUntil = 1;
            }
            LOG.warn("{}: {} marked down for {} ms after {} consecutive failures", group, b.address,
                    failTimeoutNanos / 1_000_000, maxFails);
        }
    }

    /**
     * Whether nothing of the group answers now: every address refused its last connect (php-fpm stopped, its socket
     * gone) and has no connection alive, or is down. A restart ends it at its first connect that works: a queued
     * request's on the busy backoff, or one a request with an answer of its own arrives to find due ({@link #admit}).
     */
    private boolean refusing(long now) {
        return refusing(null, now);
    }

    /**
     * {@link #refusing}, of the addresses {@code w} may still go to (null: all of them): one passed on from an address
     * that answers connects but failed it (a read timeout) has only the others left, and waits for them alone.
     */
    private boolean refusing(Waiter w, long now) {
        for (Backend b : backends) {
            if ((w == null || !w.excludes(b)) && !b.isRefusing() && !b.isDown(now)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the addresses that are not down have refused every connect for longer than {@link #RESTART_WINDOW}: an
     * outage, not a restart. Meaningful while {@link #refusing}. Never for a php-fpm edge spawned: its supervisor
     * restarts it (a backoff of up to 5 s, then up to 10 s for it to listen), and its requests wait for that.
     */
    private boolean outage(long now) {
        return outage(null, now);
    }

    /**
     * {@link #outage}, of the addresses {@code w} may still go to (null: all of them), as {@link #refusing(Waiter, long)}.
     */
    private boolean outage(Waiter w, long now) {
        if (spawned) {
            return false;
        }
        for (Backend b : backends) {
            if ((w == null || !w.excludes(b)) && !b.isDown(now)
                    && (!b.refused || now - b.refusedSince < RESTART_WINDOW_NANOS)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code w} fails at once for connects refused ({@link #refusingException}) rather than wait for a restart:
     * every address it may go to refuses, and {@code w} answers without the backend or the refusals have lasted for an
     * outage.
     */
    private boolean failsOnRefusal(Waiter w, long now) {
        return (w.unlessRefused || outage(w, now)) && refusing(w, now);
    }

    /** That of the group refusing connects, for {@code w} (which names the address it tried, if it did). */
    private BackendUnavailableException refusingException(Waiter w) {
        return new BackendUnavailableException(group + ": connects refused (nothing listens)", null,
                w.tried);
    }

    /**
     * Fails the queued requests {@code which} names, each with {@code cause}'s failure for it: those that have an answer
     * of their own ({@link Waiter#unlessRefused}) when the group refuses, those passed on to the next address that have
     * none left ({@link #triedAll}) when a failed lease took the last down.
     */
    private void failQueued(Predicate<Waiter> which, Function<Waiter, RuntimeException> cause, List<Runnable> after) {
        for (Waiter w = queue.peek(); w != null; ) {
            Waiter next = w.next;
            if (which.test(w)) {
                queue.remove(w);
                stopTimer(w, after);
                Waiter failed = w;
                RuntimeException failure = cause.apply(w);
                after.add(() -> failed.promise.tryFailure(failure));
            }
            w = next;
        }
    }

    private boolean allDown(long now) {
        for (Backend b : backends) {
            if (!b.isDown(now)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code w}, passed on to the next address ({@link #acquireNext}), has none left: every address it has not
     * tried is down.
     */
    private boolean triedAll(Waiter w, long now) {
        return w.excluded != null && noneLeftBesides(w, null, now);
    }

    /**
     * Whether {@code w} may be given no address but {@code besides} (null: none at all): every other one it excludes
     * or is down.
     */
    private boolean noneLeftBesides(Waiter w, Backend besides, long now) {
        for (Backend b : backends) {
            if (b != besides && !w.excludes(b) && !b.isDown(now)) {
                return false;
            }
        }
        return true;
    }

    private BackendUnavailableException triedAllException(Waiter w, Throwable cause) {
        return new BackendUnavailableException("group " + name + ": every address was tried"
                + (cause == null ? "" : ", the last failed: " + reasonOf(cause)), cause, w.tried);
    }

    private PoolClosedException shuttingDown() {
        return new PoolClosedException(group, retryAfterSeconds);
    }

    /** Stops {@code w}'s queue timer, if it has one (the stop runs after the lock, with {@code after}). */
    private static void stopTimer(Waiter w, List<Runnable> after) {
        if (w.cancelTimer != null) {
            after.add(w.cancelTimer);
            w.cancelTimer = null;
        }
    }

    private BackendUnavailableException allDownException(Waiter w) {
        return new BackendUnavailableException(group + ": every address is down", null, w.tried);
    }

    /** Fails every queued request with its {@code cause}, one for each (it names what that request tried). */
    private void failAllQueued(Function<Waiter, RuntimeException> cause, List<Runnable> after) {
        failQueued(w -> true, cause, after);
    }

    // ---- events, called without the lock ---------------------------------------------------------------

    private void grant(Waiter w, PooledConnection pc, boolean reused) {
        grant(w, pc, reused, 0);
    }

    /** @param connectNanos how long the connect of a new connection took (0 for a kept-alive one) */
    private void grant(Waiter w, PooledConnection pc, boolean reused, long connectNanos) {
        long now = timers.nanoTime();
        Lease lease = new Lease(this, pc, reused, now - w.startNanos, connectNanos, now);
        if (!w.promise.trySuccess(lease)) {
            // Cancelled while connecting: the connection is fresh and clean, so keep it for the next one.
            lease.release(Lease.Outcome.REUSABLE);
        }
    }

    private void move(Waiter w, PooledConnection pc) {
        Future<Void> f;
        try {
            f = connector.move(pc.channel, w.loop);
        } catch (RuntimeException e) {
            f = w.loop.newFailedFuture(e);
        }
        f.addListener(done -> {
            if (done.isSuccess()) {
                synchronized (this) {
                    pc.loop = w.loop;
                }
            } else {
                LOG.debug("{}: moving a connection to another loop failed: {}", group,
                        done.cause().toString());
                pc.channel.close(); // the exchange then fails at once and the caller waits again
            }
            grant(w, pc, true);
        });
    }

    private void connect(Waiter w, Backend b) {
        long started = timers.nanoTime(); // a Unix socket's connect often completes within connect() itself
        Future<Channel> f;
        try {
            f = connector.connect(w.loop, b.address);
        } catch (RuntimeException e) {
            f = w.loop.newFailedFuture(e);
        }
        f.addListener(done -> connected(w, b, (Future<?>) done, started));
    }

    private void connected(Waiter w, Backend b, Future<?> f, long started) {
        List<Runnable> after = new ArrayList<>(2);
        long now = timers.nanoTime();
        if (f.isSuccess()) {
            PooledConnection pc = new PooledConnection((Channel) f.getNow(), w.loop, b);
            synchronized (this) {
                b.busyNoMore();
                if (!b.overloaded) {
                    b.lastBusyFailure = null;
                }
                b.refused = false;
                outageLogged = false;
                b.refusalLogged = false; // connects work again: the next refusal starts a new run
                outOfDescriptorsLogged = false;
                pc.exchanges++;
            }
            pc.channel.closeFuture().addListener(x -> connectionClosed(pc));
            grant(w, pc, false, now - started);
            return;
        }
        Throwable cause = f.cause();
        boolean busy = ConnectFailures.isBusy(cause);
        BackendUnavailableException stopped = null; // the failure that ends a request not passed on
        synchronized (this) {
            w.tried = b.address.address();
            vacate(b, after);
            if (w.excluded != null && !(busy && noneLeftBesides(w, b, now))) {
                // passed on to the next address: this one is not tried again, and nginx counts the failure against it.
                // Not the last one it may go to refusing: that is waited for as a restart, as for any request
                w.excluded.add(b.key);
                if (busy && ConnectFailures.isRefused(cause)) {
                    markFailure(b, now);
                }
                BackendUnavailableException failed = new BackendUnavailableException("group " + name + ": connect to "
                        + b.address + " failed", cause, w.tried);
                if (w.promise.isDone() || w.passesOn.test(cause)) {
                    after.add(() -> w.failedConnect.accept(b.key, failed));
                } else {
                    stopped = failed;
                }
            }
            if (busy) {
                boolean wasRefused = b.refused;
                b.refused = ConnectFailures.isRefused(cause);
                if (b.refused && !wasRefused) {
                    b.refusedSince = now;
                }
                if (b.refused
                        && (!b.refusalLogged || now - b.refusalLoggedAt >= REFUSAL_LOG_INTERVAL_NANOS)) {
                    b.refusalLogged = true;
                    b.refusalLoggedAt = now;
                    LOG.warn("{}: connect to {} failed: {}; taken for a restart of the backend, requests "
                            + "wait for it up to the queue timeout ({} ms), and fail at once when refused after {} ms",
                            group, b.address, reasonOf(cause), queueTimeout.toMillis(), RESTART_WINDOW.toMillis());
                } else if (ConnectFailures.isOutOfDescriptors(cause) && (!outOfDescriptorsLogged
                        || now - outOfDescriptorsLoggedAt >= REFUSAL_LOG_INTERVAL_NANOS)) {
                    outOfDescriptorsLogged = true;
                    outOfDescriptorsLoggedAt = now;
                    LOG.warn("{}: connect to {} failed: {}; edge is out of file descriptors (its limit, "
                            + "ulimit -n, or the system's), requests wait for one up to the queue timeout ({} ms)", group,
                            b.address, reasonOf(cause), queueTimeout.toMillis());
                }
                counters.busyConnects.incrementAndGet();
                b.lastBusyFailure = b.address + ": " + reasonOf(cause);
                b.lastBusyFailureAt = now;
                long backoff = busyFor(b, now);
                after.add(() -> timers.schedule(w.loop, this::dispatchQueued, backoff));
            } else {
                counters.failedConnects.incrementAndGet();
                w.hardFailures++;
                markFailure(b, now);
                LOG.warn("{}: connect to {} failed: {}", group, b.address, reasonOf(cause));
            }
            BackendPool handedTo = liveSuccessor(); // handed over while it connected: it waits in the one queue
            if (w.promise.isDone()) {
                // cancelled while connecting: nothing to do for it
            } else if (stopped != null) {
                BackendUnavailableException failure = stopped;
                after.add(() -> w.promise.tryFailure(failure));
            } else if (closed && handedTo == null) {
                after.add(() -> w.promise.tryFailure(shuttingDown()));
            } else if (triedAll(w, now)) {
                after.add(() -> w.promise.tryFailure(triedAllException(w, cause)));
            } else if (!busy && (w.hardFailures >= backends.length || allDown(now))) {
                after.add(() -> w.promise.tryFailure(new BackendUnavailableException(group
                        + ": connect to " + b.address + " failed", cause, w.tried)));
            } else if (failsOnRefusal(w, now)) {
                after.add(() -> w.promise.tryFailure(refusingException(w)));
            } else if (now - w.deadlineNanos >= 0) {
                counters.timedOut.incrementAndGet();
                QueueTimeoutException timedOut = queueTimeout(w);
                after.add(() -> w.promise.tryFailure(timedOut));
            } else if (handedTo != null) {
                after.add(() -> handedTo.adopt(List.of(w)));
            } else {
                queue.putBack(w, false); // behind requests sent again, which had their turn too (php-fpm restarting)
                armTimer(w, w.deadlineNanos - now);
            }
            if (allDown(now)) {
                failAllQueued(this::allDownException, after);
            } else if (refusing(now) && outage(now)) {
                if (!outageLogged) {
                    outageLogged = true;
                    LOG.warn("{}: connects refused for over {} s: taken for down, not restarting; "
                            + "requests fail at once (502) until a connect works", group, RESTART_WINDOW.toSeconds());
                }
                failAllQueued(this::refusingException, after);
            } else if (refusing(now)) {
                failQueued(queued -> queued.unlessRefused, this::refusingException, after);
            }
            dispatchQueued(now, after);
        }
        runAll(after);
    }

    /** Another pool sharing this one's slots freed one ({@link SharedSlots#freed}). */
    void dispatchQueuedFromElsewhere() {
        if (ready) {
            dispatchQueued();
        }
    }

    private void dispatchQueued() {
        List<Runnable> after = new ArrayList<>(2);
        synchronized (this) {
            dispatchQueued(timers.nanoTime(), after);
        }
        runAll(after);
    }

    private void cancelled(Waiter w) {
        Runnable cancelTimer = null;
        synchronized (this) {
            if (queue.remove(w)) {
                cancelTimer = w.cancelTimer;
                w.cancelTimer = null;
            }
        }
        if (cancelTimer != null) {
            cancelTimer.run();
        }
    }

    private void expired(Waiter w) {
        QueueTimeoutException timedOut = null;
        synchronized (this) {
            if (queue.remove(w)) { // not if handed over meanwhile: its timer is the other pool's then
                w.cancelTimer = null;
                counters.timedOut.incrementAndGet();
                timedOut = queueTimeout(w);
            }
        }
        if (timedOut != null) {
            w.promise.tryFailure(timedOut);
        }
    }

    /**
     * {@code w}'s timeout in the queue, with why the last connect that failed while it waited failed: of an address
     * that has not been connected to since (one refusing while another's workers are busy is named).
     */
    private QueueTimeoutException queueTimeout(Waiter w) {
        assert Thread.holdsLock(this);
        Backend last = null;
        for (Backend b : backends) {
            if (b.lastBusyFailure != null && b.lastBusyFailureAt - w.startNanos >= 0
                    && (last == null || b.lastBusyFailureAt - last.lastBusyFailureAt > 0)) {
                last = b;
            }
        }
        return new QueueTimeoutException(group, queueTimeout, last == null ? null : last.lastBusyFailure,
                retryAfterSeconds, w.tried);
    }

    /** {@code lease}'s answer is complete, its slot held until its worker is free ({@link Lease#answered}). */
    void answered(Lease lease) {
        synchronized (this) {
            if (!lease.isReleased() && !lease.answeredCounted) { // released meanwhile: never counted
                lease.answeredCounted = true;
                answeredHeld++;
                slots.answered.incrementAndGet();
            }
        }
    }

    /**
     * The places in the queue past max-waiters: one per answered lease of this pool and of those sharing its slots
     * ({@link SharedSlots#answered}); none with max-waiters 0, which is never to wait.
     */
    private int answeredRoom() {
        return maxWaiters == 0 ? 0 : slots.answered.get();
    }

    /** Whether an address could take a request now ({@link #choose}), the round robin's place left as it was. */
    private boolean eligibleNow(long now) {
        int saved = nextIndex;
        boolean eligible = choose(now, null) != null;
        nextIndex = saved;
        return eligible;
    }

    /** {@link Lease#failed}: its address's failure counted now, as a release as BACKEND_FAILED would, once. */
    void failed(Lease lease) {
        List<Runnable> after = new ArrayList<>(1);
        synchronized (this) {
            if (lease.failureCounted || lease.isReleased()) {
                return;
            }
            lease.failureCounted = true;
            countFailure(lease.connection.backend, timers.nanoTime(), after);
        }
        runAll(after);
    }

    /**
     * A failure of {@code b} counted against its health (caller holds the lock): where that takes it down, the requests
     * passed on that waited for it as the last address they had not tried fail now ({@code after} runs it unlocked).
     */
    private void countFailure(Backend b, long now, List<Runnable> after) {
        markFailure(b, now);
        failQueued(w -> !w.promise.isDone() && triedAll(w, now), w -> triedAllException(w, null), after);
    }

    void release(Lease lease, Lease.Outcome outcome) {
        PooledConnection pc = lease.connection;
        Backend b = pc.backend;
        List<Runnable> after = new ArrayList<>(2);
        long now = timers.nanoTime();
        boolean lingers = outcome == Lease.Outcome.TIMED_OUT && lingerNanos > 0;
        synchronized (this) {
            if (lease.answeredCounted) {
                answeredHeld--;
                slots.answered.decrementAndGet();
            }
            if (lease.used()) {
                long held = Math.max(0, now - lease.grantedNanos);
                holdNanos = holdNanos == 0 ? held : holdNanos + (held - holdNanos) / 8;
            }
            if (outcome == Lease.Outcome.OVERLOADED) {
                b.overloaded = true;
                b.lastBusyFailure = b.address + ": FCGI_OVERLOADED";
                b.lastBusyFailureAt = now;
                long backoff = busyFor(b, now);
                after.add(() -> timers.schedule(pc.loop, this::dispatchQueued, backoff));
            } else if (outcome == Lease.Outcome.REUSABLE && lease.used()) {
                b.answered();
            } else if (!lingers) {
                b.busyNoMore(); // a worker is free again
            }
            if ((outcome == Lease.Outcome.BACKEND_FAILED || outcome == Lease.Outcome.TIMED_OUT)
                    && !lease.failureCounted) {
                countFailure(b, now, after);
            } else if (outcome == Lease.Outcome.REUSABLE) {
                b.consecutiveFailures = 0;
                b.refused = false; // it answered: a refusal from now on starts a new run (and a new restart window)
            }
            boolean keep = outcome == Lease.Outcome.REUSABLE && keepAlive && !closed && pc.channel.isActive()
                    && (maxRequests <= 0 || pc.exchanges < maxRequests)
                    // a replaced pool keeps none for nobody, nor any pool while another one's requests wait
                    && (!queue.isEmpty() || slots.isNewest(this) && !slots.othersWaiting(this)
                        // unless a connect there past the workers waits for one, found none idle (AddressCounts.owe)
                        && !addressCounts.payIfOwed(b.key));
            if (keep) {
                pc.state = PooledConnection.State.IDLE;
                pc.idleGeneration++;
                b.idle.addLast(pc);
            } else if (lingers) {
                pc.state = PooledConnection.State.LINGERING;
                b.lingering++;
                after.add(() -> pc.channel.close());
                after.add(() -> {
                    try {
                        timers.schedule(pc.loop, () -> lingerEnded(pc), lingerNanos);
                    } catch (RejectedExecutionException shuttingDown) {
                        lingerEnded(pc); // the loop is gone, and with it whatever would wait for the slot
                    }
                });
            } else {
                pc.state = PooledConnection.State.CLOSED;
                vacate(b, after);
                after.add(() -> pc.channel.close());
            }
            dispatchQueued(now, after);
            if (pc.state == PooledConnection.State.IDLE && idleTimeoutNanos > 0) {
                long generation = pc.idleGeneration;
                pc.cancelIdleTimer = timers.schedule(pc.loop, () -> idleExpired(pc, generation),
                        idleTimeoutNanos);
            }
        }
        runAll(after);
    }

    /**
     * Takes {@code b} to be busy for its current backoff, which doubles for the next time (up to
     * {@link Backend#MAX_BUSY_BACKOFF_NANOS}): no new connection to it until then. Returns the backoff. Under the lock.
     */
    private static long busyFor(Backend b, long now) {
        long backoff = b.busyBackoffNanos;
        b.busyUntil = now + backoff;
        b.busyBackoffNanos = Math.min(backoff * 2, Backend.MAX_BUSY_BACKOFF_NANOS);
        return backoff;
    }

    /** The worker of a connection closed in a timeout or cut off is taken to be free by now: its slot is. */
    private void lingerEnded(PooledConnection pc) {
        List<Runnable> after = new ArrayList<>(2);
        synchronized (this) {
            Backend b = pc.backend;
            pc.state = PooledConnection.State.CLOSED;
            b.lingering--;
            vacate(b, after);
            b.busyNoMore();
            dispatchQueued(timers.nanoTime(), after);
        }
        runAll(after);
    }

    private void idleExpired(PooledConnection pc, long generation) {
        List<Runnable> after = new ArrayList<>(2);
        synchronized (this) {
            if (pc.state != PooledConnection.State.IDLE || pc.idleGeneration != generation) {
                return;
            }
            pc.cancelIdleTimer = null;
            pc.backend.idle.remove(pc);
            closeIdle(pc, after);
            dispatchQueued(timers.nanoTime(), after);
        }
        runAll(after);
    }

    private void connectionClosed(PooledConnection pc) {
        List<Runnable> after = new ArrayList<>(2);
        synchronized (this) {
            if (pc.state != PooledConnection.State.IDLE) {
                return; // a leased connection is accounted for when its lease is released
            }
            pc.backend.idle.remove(pc);
            closeIdle(pc, after);
            dispatchQueued(timers.nanoTime(), after);
        }
        runAll(after);
    }

    private static void runAll(List<Runnable> actions) {
        for (Runnable r : actions) {
            r.run();
        }
    }

    /** Throws AssertionError if an invariant from the class comment does not hold. For tests. */
    synchronized void checkInvariants() {
        long now = timers.nanoTime();
        for (Backend b : backends) {
            check(b.idle.size() <= b.open, b.address + ": idle " + b.idle.size() + " > open " + b.open);
            check(b.open <= maxConnections, b.address + ": open " + b.open + " > max " + maxConnections);
            check(b.open >= 0, b.address + ": open " + b.open + " < 0");
            check(b.shared.get() >= b.open, b.address + ": open " + b.open + " > shared " + b.shared.get());
            check(b.everywhere.get() >= b.shared.get(), b.address + ": shared " + b.shared.get() + " > everywhere "
                    + b.everywhere.get());
            check(b.lingering >= 0 && b.lingering <= b.open - b.idle.size(),
                    b.address + ": lingering " + b.lingering + " of open " + b.open + ", idle " + b.idle.size());
            for (PooledConnection pc : b.idle) {
                check(pc.state == PooledConnection.State.IDLE, b.address + ": idle connection in state " + pc.state);
            }
        }
        for (Waiter w = queue.peek(); w != null; w = w.next) {
            check(!w.promise.isDone() || w.promise.isCancelled(), "queued waiter already completed");
        }
        int open = 0;
        for (Backend b : backends) {
            open += b.open;
        }
        check(answeredHeld >= 0 && answeredHeld <= open, "answered slots " + answeredHeld + " of " + open + " open");
        for (Waiter w = queue.peek(); w != null && !closed; w = w.next) {
            // one passed on to the next address waits for those it has not tried
            int saved = nextIndex;
            check(w.promise.isDone() || choose(now, w) == null, "an address is eligible while requests wait");
            nextIndex = saved;
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** The counters since start of a group, shared by the pools of its successive configurations (hence atomic). */
    private static final class Counters {
        final AtomicLong rejectedFull = new AtomicLong();
        final AtomicLong timedOut = new AtomicLong();
        final AtomicLong busyConnects = new AtomicLong();
        final AtomicLong failedConnects = new AtomicLong();
    }

    /**
     * Why a connect failed, as an operator reads it: Netty's message names the reason and the address
     * ({@code connect(..) failed: Connection refused: ...}); a Java class name tells them nothing.
     */
    private static String reasonOf(Throwable cause) {
        // the innermost message: the system's words ("newSocketStream(..) failed: Too many open files"), not the
        // wrappers' around them ("Unable to create Channel from class ...EpollDomainSocketChannel")
        String reason = null;
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null) {
                reason = t.getMessage();
            } else if (t instanceof FileNotFoundException) {
                // Netty's ENOENT on a Unix socket's connect (no socket file there), which it leaves without words
                reason = "connect(..) failed: No such file or directory";
            }
        }
        return reason != null ? reason : cause.getClass().getSimpleName();
    }
}
