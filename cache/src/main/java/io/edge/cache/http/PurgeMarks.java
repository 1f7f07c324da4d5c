package io.edge.cache.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When each URL was last purged or invalidated, on a clock that counts purges. An answer asked for before its URL's
 * purge (a fill, a background refresh, a revalidation still running as the purge came: "the CMS saves, then purges"
 * while a request reads the old page) was made from what the purge said has changed: it answers its client, and is not
 * stored, else the old page would be back for its whole lifetime right after the purge said it was gone.
 *
 * <p>Bounded by bytes: a mark pushed out raises a floor, and an answer asked for before the floor is refused whatever
 * its URL. So is one asked for before a purge by prefix, which names no URL. Refusing more than needed costs a backend
 * request; storing what a purge removed would cost a stale page.
 *
 * <p>Shared by the caches of successive configurations: a request outlives a reload, and so may a purge's meaning.
 */
final class PurgeMarks {

    /** Bytes the marks may hold; a mark weighs its URL and about 100 bytes more. */
    private static final long MAX_BYTES = 1 << 20;
    private static final int MARK_OVERHEAD = 100;

    private final AtomicLong clock = new AtomicLong();
    private final AtomicLong floor = new AtomicLong();
    private final Cache<String, Long> marks = Caffeine.newBuilder()
            .maximumWeight(MAX_BYTES)
            .<String, Long>weigher((url, at) -> 2 * url.length() + MARK_OVERHEAD)
            .executor(Runnable::run)
            .removalListener((String url, Long at, RemovalCause cause) -> {
                if (cause.wasEvicted() && at != null) {
                    raiseFloor(at);
                }
            })
            .build();

    /** The clock now: what an answer asked for from here on is compared with ({@link #purgedSince}). */
    long now() {
        return clock.get();
    }

    /** {@code url} (a primary key) is purged or invalidated now. Marked before its entries go. */
    void purged(String url) {
        marks.asMap().merge(url, clock.incrementAndGet(), Math::max);
    }

    /** Every URL is, as far as answers asked for until now go (a purge by prefix). */
    void purgedAll() {
        raiseFloor(clock.incrementAndGet());
    }

    /** Whether {@code url} was purged after {@code asOf}, a reading of {@link #now}. */
    boolean purgedSince(String url, long asOf) {
        if (floor.get() > asOf) {
            return true;
        }
        Long at = marks.getIfPresent(url);
        return at != null && at > asOf;
    }

    private void raiseFloor(long at) {
        floor.accumulateAndGet(at, Math::max);
    }
}
