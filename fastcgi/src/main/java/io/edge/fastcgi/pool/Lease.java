package io.edge.fastcgi.pool;

import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The right to run one exchange on one backend connection. Whoever holds a lease must
 * {@link #release} it exactly once; until then it counts against its address's {@code max-connections}.
 */
public final class Lease {

    /** How the exchange ended, which decides the connection's fate. */
    public enum Outcome {
        /** Finished cleanly at a record boundary: the connection may be kept for another exchange. */
        REUSABLE,
        /** The connection must be closed, but the backend did nothing wrong (e.g. the client went away). */
        CLOSE,
        /** The backend failed (protocol error, reset): close, and count against passive health. */
        BACKEND_FAILED,
        /**
         * The backend did not answer in time: close, count against passive health, and keep the slot taken for
         * the pool's linger time, since its worker may still be running the script.
         */
        TIMED_OUT,
        /**
         * The request was cut off while going out (its client left, its body could not be read back): close, no
         * failure, and the slot is free at once. No linger: the worker's reads of what is left of its request
         * end there (php-fpm reads a form body whole before the script runs), so it is free soon; a linger here
         * let a client that starts uploads and drops them hold every slot for the read timeout.
         */
        ABANDONED,
        /**
         * The backend refused the request unread, out of some resource of its own (FastCGI's FCGI_OVERLOADED): close,
         * no failure counted, and the backend is taken to be busy, as when its full backlog refuses a connect: new
         * connections to it wait a backoff that doubles while it keeps refusing, and the request waits in the queue.
         */
        OVERLOADED
    }

    private final BackendPool pool;
    final PooledConnection connection;
    private final boolean reused;
    private final long waitNanos;
    private final long connectNanos;
    /** When it was granted ({@link Timers#nanoTime}): how long it held its slot is measured from here. */
    final long grantedNanos;
    /** An exchange went out on it ({@link #exchangeStarted}): how long it held its slot says how long a script takes. */
    private volatile boolean used;
    private final AtomicBoolean released = new AtomicBoolean();
    /**
     * Counted among the pool's answered slots ({@link #answered}): its exchange's answer is complete, its slot held only
     * until the worker is free. Guarded by the pool's lock.
     */
    boolean answeredCounted;
    /**
     * Its address's failure was counted before the release ({@link #failed}): the release counts none again. Guarded by
     * the pool's lock.
     */
    boolean failureCounted;
    private volatile Outcome outcome;

    Lease(BackendPool pool, PooledConnection connection, boolean reused, long waitNanos, long connectNanos,
          long grantedNanos) {
        this.pool = pool;
        this.grantedNanos = grantedNanos;
        this.connection = connection;
        this.reused = reused;
        this.waitNanos = waitNanos;
        this.connectNanos = connectNanos;
    }

    /**
     * A request was sent on it. Only such leases count in the average time a slot is held, which bounds how long the
     * oldest queued request may be passed for locality: one given back at once (its client gone, its request refused
     * before it went out) says nothing of the backend's scripts.
     */
    public void exchangeStarted() {
        used = true;
    }

    boolean used() {
        return used;
    }

    /** The connected backend channel, registered on the event loop the lease was asked for. */
    public Channel channel() {
        return connection.channel;
    }

    public BackendAddress address() {
        return connection.backend.address;
    }

    /** True when the connection served an earlier exchange (so it may have been closed by the backend since). */
    public boolean isReused() {
        return reused;
    }

    /** Whether the exchange should send FCGI_KEEP_CONN. */
    public boolean keepAlive() {
        return pool.keepAliveEnabled();
    }

    /** Time from {@code acquire} to this lease, for the access log: the wait in the queue and the connect. */
    public long waitNanos() {
        return waitNanos;
    }

    /** The part of {@link #waitNanos} the connect of a new connection took; 0 for a kept-alive one. */
    public long connectNanos() {
        return connectNanos;
    }

    public boolean isReleased() {
        return released.get();
    }

    /**
     * The exchange's answer is complete, but the lease is kept until the backend's worker reads again (await-worker): its
     * client may send its next request meanwhile, which the pool then queues beyond {@code max-waiters}, as the request
     * before it counts no more. Only the first call counts; none after {@link #release}.
     */
    public void answered() {
        if (!released.get()) {
            pool.answered(this);
        }
    }

    /**
     * Counts a failure against the lease's address now, while its exchange goes on (its script left to end, the slot
     * held): nginx's fastcgi_next_upstream counts a 500, 503 or 429 it passes on the moment it passes it on, so the next
     * requests are kept from an address that went down meanwhile, not only once the script has ended. The release then
     * counts none again. Only the first call counts; none after {@link #release}.
     */
    public void failed() {
        if (!released.get()) {
            pool.failed(this);
        }
    }

    /**
     * Gives the connection back. Only the first call counts.
     *
     * @return false if the lease had already been released
     */
    public boolean release(Outcome outcome) {
        if (!released.compareAndSet(false, true)) {
            return false;
        }
        this.outcome = outcome;
        pool.release(this, outcome);
        return true;
    }

    /** What the lease was released with; null while it is held. */
    public Outcome outcome() {
        return outcome;
    }

    @Override
    public String toString() {
        return "Lease(" + connection.backend.address + ", " + connection.channel + ")";
    }
}
