package io.edge.cache.http;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * When each URL was last purged or invalidated, on a clock that counts purges. An answer asked for before its URL's
 * purge (a fill, a background refresh, a revalidation still running as the purge came: "the CMS saves, then purges"
 * while a request reads the old page) was made from what the purge said has changed: it answers its client, and is not
 * stored, else the old page would be back for its whole lifetime right after the purge said it was gone.
 *
 * <p>Bounded by bytes, oldest purge first out: a mark pushed out raises a floor to its time, and an answer asked for
 * before the floor is refused whatever its URL. As the oldest goes first, that is only an answer asked for before the
 * last so many purges (some thousands), which no fill outlives unless purges come by the thousand while it runs. So is
 * an answer asked for before a purge by prefix, which names no URL. Refusing more than needed costs a backend request;
 * storing what a purge removed would cost a stale page.
 *
 * <p>Shared by the caches of successive configurations: a request outlives a reload, and so may a purge's meaning.
 * Purges and the stores that ask are not on any hot path: one lock.
 */
final class PurgeMarks {

    /** Bytes the marks may hold; a mark weighs its URL and about 100 bytes more. */
    static final long MAX_BYTES = 1 << 20;
    private static final int MARK_OVERHEAD = 100;

    /** URL to the time of its last purge, oldest purge first (a URL purged again moves to the end). */
    private final LinkedHashMap<String, Long> marks = new LinkedHashMap<>();
    private long bytes;
    private long clock;
    private long floor;

    /** The clock now: what an answer asked for from here on is compared with ({@link #purgedSince}). */
    synchronized long now() {
        return clock;
    }

    /** {@code url} (a primary key) is purged or invalidated now. Marked before its entries go. */
    synchronized void purged(String url) {
        Long before = marks.remove(url);
        if (before == null) {
            bytes += weight(url);
        }
        marks.put(url, ++clock);
        for (Iterator<Map.Entry<String, Long>> oldest = marks.entrySet().iterator(); bytes > MAX_BYTES; ) {
            Map.Entry<String, Long> out = oldest.next();
            floor = Math.max(floor, out.getValue()); // a purge by prefix may have set it past the marks left
            bytes -= weight(out.getKey());
            oldest.remove();
        }
    }

    /** Every URL is, as far as answers asked for until now go (a purge by prefix). */
    synchronized void purgedAll() {
        floor = ++clock;
    }

    /** Whether {@code url} was purged after {@code asOf}, a reading of {@link #now}. */
    synchronized boolean purgedSince(String url, long asOf) {
        if (floor > asOf) {
            return true;
        }
        Long at = marks.get(url);
        return at != null && at > asOf;
    }

    private static long weight(String url) {
        return 2L * url.length() + MARK_OVERHEAD;
    }
}
