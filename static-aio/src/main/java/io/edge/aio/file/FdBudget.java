package io.edge.aio.file;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the descriptors the static path holds: cached and in-flight opens alike. A permit is taken before
 * a file is opened and given back when its {@link OpenFile} is deallocated. Only an open that found a
 * permit ({@link #tryAcquire}) may be cached; an open beyond the limit is still allowed up to the hard limit
 * ({@link #tryForce}) but is closed after its send, so the cache drains back under the limit instead
 * of a request failing. Past the hard limit (the static path's share of the process's descriptors) none is.
 */
final class FdBudget {

    private final int limit;
    private final int hardLimit;
    private final AtomicInteger inUse = new AtomicInteger();
    /** Files among {@link #inUse} that hold a second descriptor (kernel AIO's O_DIRECT one, or a channel's own open). */
    private final AtomicInteger seconds = new AtomicInteger();

    FdBudget(int limit) {
        this(limit, Integer.MAX_VALUE);
    }

    FdBudget(int limit, int hardLimit) {
        if (limit < 1) {
            throw new IllegalArgumentException("fdBudget: " + limit + " (expected: >= 1)");
        }
        this.limit = limit;
        this.hardLimit = Math.max(limit, hardLimit);
    }

    boolean tryAcquire() {
        return tryTake(limit);
    }

    /** A permit past {@link #limit}, for an open that is not cached; false at the hard limit. */
    boolean tryForce() {
        return tryTake(hardLimit);
    }

    /** A permit if fewer than {@code max} are taken. */
    private boolean tryTake(int max) {
        for (;;) {
            int n = inUse.get();
            if (n >= max) {
                return false;
            }
            if (inUse.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        int n = inUse.decrementAndGet();
        assert n >= 0 : "fd budget released more often than acquired";
    }

    int inUse() {
        return inUse.get();
    }

    /** A file holding a permit holds a second descriptor too. */
    void secondTaken() {
        seconds.incrementAndGet();
    }

    /** A file's second descriptor was closed. */
    void secondReleased() {
        seconds.decrementAndGet();
    }

    /** The descriptors the files holding permits hold: one each, two where {@link #secondTaken}. */
    int descriptors() {
        return inUse.get() + seconds.get();
    }

    int limit() {
        return limit;
    }

    int hardLimit() {
        return hardLimit;
    }
}
