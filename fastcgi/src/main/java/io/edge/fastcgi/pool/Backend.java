package io.edge.fastcgi.pool;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/** One address of a group and its counters; guarded by the pool's lock. */
final class Backend {

    static final long MIN_BUSY_BACKOFF_NANOS = 5_000_000L;
    static final long MAX_BUSY_BACKOFF_NANOS = 200_000_000L;

    final BackendAddress address;
    /** {@link BackendAddress#key()}: what its counts are kept by, for another spelling of it too. */
    final String key;
    final int index;
    /** Connections counted against max-connections: connecting + leased + idle + lingering. */
    int open;
    /**
     * {@link #open} and the connections to this address of the pools a reload replaced that still live ({@link
     * SharedSlots}): what max-connections is held to.
     */
    final AtomicInteger shared;
    /**
     * The connections to this address of every pool of the server, of every group ({@link AddressCounts}): past
     * max-connections, an idle one of another group holds a worker that a connect of this one waits for.
     */
    final AtomicInteger everywhere;
    /** Closed connections whose worker may still run a script, counted in {@link #open} until their linger ends. */
    int lingering;
    /** Idle kept-alive connections, most recently used last. */
    final ArrayDeque<PooledConnection> idle = new ArrayDeque<>();
    /**
     * A busy connect failure makes the address ineligible for new connects until then (0 = not busy); its idle
     * connections still serve. Not 0 once set until a connect succeeds or a lease is released.
     */
    long busyUntil;
    /**
     * Refused connects were logged since the last success, the last time at {@link #refusalLoggedAt}: once at the
     * start of a run of them, then every 10 s.
     */
    boolean refusalLogged;
    long refusalLoggedAt;
    /** Its last connect was refused (nobody listening, socket file gone); false again once one works. */
    boolean refused;
    /** When the run of refused connects {@link #refused} is in began. */
    long refusedSince;
    /**
     * Why this address's last connect that counted as busy failed (refused, no descriptor), and when; null once a
     * connect to it worked again. A request that times out in the queue after it says so.
     */
    String lastBusyFailure;
    long lastBusyFailureAt;
    long busyBackoffNanos = MIN_BUSY_BACKOFF_NANOS;
    /**
     * Its last answer was FCGI_OVERLOADED: busy though connects work, so neither a connect that works nor a freed slot
     * ends the busy hold and its backoff ({@link #busyNoMore}); only an answer does ({@link #answered}).
     */
    boolean overloaded;
    int consecutiveFailures;
    /** Down (passive health) until then; 0 = up. */
    long downUntil;

    Backend(BackendAddress address, int index, AtomicInteger shared, AtomicInteger everywhere) {
        this.address = address;
        this.key = address.key();
        this.index = index;
        this.shared = shared;
        this.everywhere = everywhere;
    }

    /** Refused, with no connection of its own alive (a lingering one's is closed): nothing of it answers now. */
    boolean isRefusing() {
        return refused && open - lingering == 0;
    }

    int active() {
        return open - idle.size(); // lingering ones count: their workers are busy
    }

    boolean isDown(long now) {
        return downUntil != 0 && now - downUntil < 0;
    }

    boolean isBusy(long now) {
        return busyUntil != 0 && now - busyUntil < 0;
    }

    /**
     * A connect worked, or a worker is free again: its backlog has room, and the busy hold ends with its backoff;
     * not for an {@link #overloaded} backend, which accepts connections while it refuses requests.
     */
    void busyNoMore() {
        if (!overloaded) {
            busyUntil = 0;
            busyBackoffNanos = MIN_BUSY_BACKOFF_NANOS;
        }
    }

    /** It answered a request: overloaded no more, and busy no more. */
    void answered() {
        if (overloaded) {
            overloaded = false;
            lastBusyFailure = null;
        }
        busyNoMore();
    }
}
