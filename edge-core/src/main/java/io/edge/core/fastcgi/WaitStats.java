package io.edge.core.fastcgi;

import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.atomic.AtomicLong;

/** Time requests of one backend group spent in its wait queue before a connection: count, sum and maximum. */
public final class WaitStats {

    private final LongAdder count = new LongAdder();
    private final LongAdder totalNanos = new LongAdder();
    private final AtomicLong maxNanos = new AtomicLong();

    void record(long waitNanos) {
        count.increment();
        totalNanos.add(waitNanos);
        maxNanos.accumulateAndGet(waitNanos, Math::max);
    }

    /** Leases granted since start. */
    public long count() {
        return count.sum();
    }

    /** Total wait in seconds since start. */
    public double totalSeconds() {
        return totalNanos.sum() / 1e9;
    }

    /** Mean wait in milliseconds since start. */
    public double meanMillis() {
        long n = count.sum();
        return n == 0 ? 0 : totalNanos.sum() / 1e6 / n;
    }

    /** Longest wait in milliseconds since the previous call. */
    public double takeMaxMillis() {
        return maxNanos.getAndSet(0) / 1e6;
    }
}
