package io.edge.cache.content;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Paces the content cache's admissions by how many of them pay off. An admission costs a copy of the file into
 * new direct memory, an insertion, the eviction of another entry and, as the entry outlives young collections,
 * GC copying; it pays off once the entry is hit. Per window of {@value #WINDOW} admissions the pace compares the
 * entries hit for the first time in that window with the admissions: under half (a stream much larger than the
 * cache with no hot set, as uniform random thumbnails are: any set of files the cache can hold is hit as
 * often as any other, so replacing them buys little) and only one candidate in {@code stride} is admitted, the
 * stride doubling per window up to {@value #MAX_STRIDE}; three quarters or more and it halves back towards 1
 * (every candidate the doorkeeper lets through). Counting first hits rather than what evicted entries earned
 * follows a change of workload at once: when a hot set appears, the entries admitted for it are hit within the
 * next window, however many unhit entries are still waiting to be evicted. While the stride is above 1 a
 * candidate waits for about {@code stride} misses of the cache as a whole; a stride that no window has
 * confirmed for {@value #DECAY_SECONDS} s halves (a hot set that fits stops admissions, and so windows,
 * altogether: the next hot file should not wait on an old verdict).
 *
 * <p>Measured on hot-thumbs (300 000 files, 256 MiB cache): edge with the content cache took 20 % more CPU per
 * request than without it, and young collections took 20-80 ms against 4 ms (see BENCHMARKS.md).
 *
 * <p>Thread-safe: counters are atomic; a window's decision is taken under this object's lock by the admission
 * that completes it.
 */
final class AdmissionPace {

    /** Admissions per decision. */
    static final int WINDOW = 1024;
    /** At most one candidate in this many is admitted. */
    static final int MAX_STRIDE = 64;
    /** A stride above 1 that no window confirmed for this long halves. */
    static final long DECAY_SECONDS = 30;
    private static final long DECAY_NANOS = TimeUnit.SECONDS.toNanos(DECAY_SECONDS);

    private final LongSupplier nanos;

    private final AtomicLong candidates = new AtomicLong();
    private volatile int stride = 1;
    private int admitted;
    private int firstHits;
    private volatile long decidedAt;

    /** @param nanos the clock of the decay (the cache's ticker) */
    AdmissionPace(LongSupplier nanos) {
        this.nanos = nanos;
        this.decidedAt = nanos.getAsLong();
    }

    /** Whether this candidate (already past the doorkeeper) is copied in. */
    boolean admit() {
        int every = stride;
        if (every == 1) {
            return true;
        }
        if (nanos.getAsLong() - decidedAt >= DECAY_NANOS) {
            decay();
        }
        return candidates.incrementAndGet() % every == 0;
    }

    private synchronized void decay() {
        long now = nanos.getAsLong();
        if (stride > 1 && now - decidedAt >= DECAY_NANOS) {
            stride /= 2;
            decidedAt = now;
        }
    }

    /** An entry was hit for the first time. */
    synchronized void firstHit() {
        firstHits++;
    }

    /** An entry was put into the cache. */
    synchronized void admitted() {
        if (++admitted < WINDOW) {
            return;
        }
        if (2 * firstHits < admitted) {
            stride = Math.min(MAX_STRIDE, stride * 2);
        } else if (4 * firstHits >= 3 * admitted) {
            stride = Math.max(1, stride / 2);
        }
        admitted = 0;
        firstHits = 0;
        decidedAt = nanos.getAsLong();
    }

    /** One candidate in this many is admitted now. */
    int stride() {
        return stride;
    }
}
