package io.edge.cache.content;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Paces the content cache's admissions by what they earned. An admission costs a copy of the file into new
 * direct memory, an insertion, the eviction of another entry and, as the entry outlives young collections, GC
 * copying; a hit saves an open, a read and a close. When the entries evicted for room had been hit less than
 * once on average, the cache is churning (a stream much larger than the cache with no hot set, as uniform random
 * thumbnails are: there any set of files the cache can hold is hit as often as any other, so replacing them
 * buys nothing): only one candidate in {@code stride} is then admitted, the stride doubling per window of
 * {@value #WINDOW} evictions up to {@value #MAX_STRIDE}. When they earned {@value #PAYS_OFF} hits or more on
 * average, it halves back towards 1 (every candidate the doorkeeper lets through). A hot file is asked for
 * often enough to pass a stride soon; a lukewarm one waits.
 *
 * <p>Measured on hot-thumbs (300 000 files, 256 MiB cache): edge with the content cache took 20 % more CPU per
 * request than without it, and young collections took 20-80 ms against 4 ms (see BENCHMARKS.md).
 *
 * <p>Thread-safe: candidates are counted with an atomic counter; evictions are tallied under this object's
 * lock (Caffeine reports them from whichever thread ran its maintenance).
 */
final class AdmissionPace {

    /** Evictions per decision. */
    static final int WINDOW = 1024;
    /** At most one candidate in this many is admitted. */
    static final int MAX_STRIDE = 64;
    /** Mean hits per evicted entry at or above which admissions speed up again. */
    static final int PAYS_OFF = 2;

    private final AtomicLong candidates = new AtomicLong();
    private volatile int stride = 1;
    private int evicted;
    private long hitsOfEvicted;

    /** Whether this candidate (already past the doorkeeper) is copied in. */
    boolean admit() {
        int every = stride;
        return every == 1 || candidates.incrementAndGet() % every == 0;
    }

    /** An entry was evicted for room after {@code hits} hits. */
    synchronized void evicted(int hits) {
        hitsOfEvicted += hits;
        if (++evicted < WINDOW) {
            return;
        }
        if (hitsOfEvicted < evicted) {
            stride = Math.min(MAX_STRIDE, stride * 2);
        } else if (hitsOfEvicted >= (long) PAYS_OFF * evicted) {
            stride = Math.max(1, stride / 2);
        }
        evicted = 0;
        hitsOfEvicted = 0;
    }

    /** One candidate in this many is admitted now. */
    int stride() {
        return stride;
    }
}
