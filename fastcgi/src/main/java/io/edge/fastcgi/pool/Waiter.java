package io.edge.fastcgi.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.edge.fastcgi.BackendUnavailableException;
import java.net.SocketAddress;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/** One request's claim for a connection; fields guarded by the pool's lock. */
final class Waiter {

    final Promise<Lease> promise;
    final EventLoop loop;
    final long startNanos;
    final long deadlineNanos;
    /**
     * The request has an answer of its own should the backend be down (a stale copy): it fails at once while the group
     * {@linkplain BackendPool#refusing refuses connections}, where another waits for a restart.
     */
    final boolean unlessRefused;
    /**
     * A request sent again after its lease's connection ended before the backend took it ({@link BackendPool#acquireAgain}):
     * it had its turn, so it goes ahead of every request that had not ({@link WaitQueue#putBack}).
     */
    final boolean again;
    /**
     * For a request passed on to the next address (nginx's {@code proxy_next_upstream}, {@link
     * BackendPool#acquireNext}): the {@linkplain BackendAddress#key keys} of the addresses it was tried at, which it is
     * not given again, its own failed connects added; null for any other request.
     */
    final Set<String> excluded;
    /**
     * Told of each connect that failed for it (the address's {@linkplain BackendAddress#key key} and the failure), on
     * its loop, while {@link #excluded} is not null.
     */
    final BiConsumer<String, BackendUnavailableException> failedConnect;
    /**
     * Whether a connect that failed for it (the cause given) sends it on to another address, asked on its loop while
     * {@link #excluded} is not null; when not, that failure fails it.
     */
    final Predicate<Throwable> passesOn;
    /** Hard (non-busy) connect failures this request met; bounded by the number of addresses. */
    int hardFailures;
    /** The address of the last connect made for it that failed, or null: what its failure names as tried. */
    SocketAddress tried;
    Runnable cancelTimer;
    /** Whether a younger waiter took a slot before this one; since when ({@link #overtakenSinceNanos}). */
    boolean overtaken;
    /** When a younger waiter first took a slot before this one; it may go on for {@code BackendPool.MAX_OVERTAKING}. */
    long overtakenSinceNanos;

    // WaitQueue links
    Waiter prev;
    Waiter next;
    boolean queued;
    /** The queue it is linked in while {@link #queued}: a pool's, which may hand it over to another pool's. */
    WaitQueue queue;

    Waiter(Promise<Lease> promise, EventLoop loop, long startNanos, long deadlineNanos, boolean unlessRefused,
            boolean again) {
        this(promise, loop, startNanos, deadlineNanos, unlessRefused, again, null, null, null);
    }

    Waiter(Promise<Lease> promise, EventLoop loop, long startNanos, long deadlineNanos, boolean unlessRefused,
            boolean again, Set<String> excluded, BiConsumer<String, BackendUnavailableException> failedConnect,
            Predicate<Throwable> passesOn) {
        this.excluded = excluded;
        this.failedConnect = failedConnect;
        this.passesOn = passesOn;
        this.unlessRefused = unlessRefused;
        this.again = again;
        this.promise = promise;
        this.loop = loop;
        this.startNanos = startNanos;
        this.deadlineNanos = deadlineNanos;
    }

    /** Whether {@code b} is one it must not be given ({@link #excluded}). */
    boolean excludes(Backend b) {
        return excluded != null && excluded.contains(b.key);
    }
}
