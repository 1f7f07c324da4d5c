package io.edge.aio.file;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the descriptors the static path holds: cached and in-flight opens alike. A permit is taken before
 * a file is opened and given back when its {@link OpenFile} is deallocated. Only an open that found a
 * permit ({@link #tryAcquire}) may be cached; an open beyond the limit is still allowed
 * ({@link #forceAcquire}) but is closed after its send, so the cache drains back under the limit instead
 * of a request failing.
 */
final class FdBudget {

    private final int limit;
    private final AtomicInteger inUse = new AtomicInteger();

    FdBudget(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("fdBudget: " + limit + " (expected: >= 1)");
        }
        this.limit = limit;
    }

    boolean tryAcquire() {
        for (;;) {
            int n = inUse.get();
            if (n >= limit) {
                return false;
            }
            if (inUse.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void forceAcquire() {
        inUse.incrementAndGet();
    }

    void release() {
        int n = inUse.decrementAndGet();
        assert n >= 0 : "fd budget released more often than acquired";
    }

    int inUse() {
        return inUse.get();
    }

    int limit() {
        return limit;
    }
}
