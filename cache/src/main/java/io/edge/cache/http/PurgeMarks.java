package io.edge.cache.http;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When each URL was last purged or invalidated, on a clock that counts purges. An answer asked for before its URL's
 * purge (a fill, a background refresh, a revalidation still running as the purge came: "the CMS saves, then purges"
 * while a request reads the old page) was made from what the purge said has changed: it answers its client, and is
 * never fresh to a request that came after the purge, else the old page would be back for its whole lifetime right
 * after the purge said it was gone. A fill's such answer is stored in need of a revalidation before any use, for the
 * requests that waited for it since before the purge ({@link ResponseCache#lookupAfterFlight}) and for a conditional
 * request of the next one; a revalidation's is dropped.
 *
 * <p>Bounded by count, oldest purge first out: a mark pushed out raises a floor to its time, and an answer asked for
 * before the floor is taken as overtaken whatever its URL. As the oldest goes first, that is only an answer asked for before the
 * last {@link #MAX_MARKS} purges, which no fill outlives unless purges come by the thousand while it runs. So is an
 * answer asked for before a purge by prefix, which names no URL. Taking more as overtaken than needed costs a
 * revalidation; storing what a purge removed as fresh would cost a stale page.
 *
 * <p>A mark keeps a 64-bit hash of its URL, not the URL: any client may invalidate (a POST its script answers 2xx, to
 * any target up to the request line's limit), and marks that weighed their URL were pushed out by a few dozen POSTs to
 * 8 KiB targets, which kept out every fill running meanwhile. The hash is seeded per process; two URLs that share one
 * only refuse an answer more, never store a wrong one.
 *
 * <p>A mark is the URL's in every scope ({@link ResponseCache#scope}, the https one too): a POST to a site whose cached
 * location chooses its group by a variable invalidates the URL in each group's scope and the site's, for http and https,
 * and each scope's mark of its own spent 2 x (groups + 1) of the bound on one POST. The same host and target in another
 * site's scope (sites on addresses of their own) shares the mark: an answer of that site asked for before it is taken as
 * overtaken too, which costs a revalidation, as a hash shared does.
 *
 * <p>Shared by the caches of successive configurations: a request outlives a reload, and so may a purge's meaning.
 * Purges and the stores that ask are not on any hot path: one lock.
 */
final class PurgeMarks {

    /** Marks kept at most: about 100 bytes each (a map node and two boxed longs), a megabyte in all. */
    static final int MAX_MARKS = 10_000;
    /** FNV-1a's 64-bit prime. */
    private static final long FNV_PRIME = 0x100000001b3L;

    /** Hash of a URL to the time of its last purge, oldest purge first (a URL purged again moves to the end). */
    private final LinkedHashMap<Long, Long> marks = new LinkedHashMap<>();
    private final long seed = ThreadLocalRandom.current().nextLong();
    private long clock;
    private long floor;

    /** The clock now: what an answer asked for from here on is compared with ({@link #purgedSince}). */
    synchronized long now() {
        return clock;
    }

    /** {@code url} (a primary key) is purged or invalidated now. Marked before its entries go. */
    synchronized void purged(String url) {
        Long key = hash(url);
        marks.remove(key);
        marks.put(key, ++clock);
        for (Iterator<Map.Entry<Long, Long>> oldest = marks.entrySet().iterator(); marks.size() > MAX_MARKS; ) {
            floor = Math.max(floor, oldest.next().getValue()); // a purge by prefix may have set it past the marks left
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
        Long at = marks.get(hash(url));
        return at != null && at > asOf;
    }

    /**
     * When {@code url} was last purged, as far as the marks tell (the floor where that is later, or where they forgot
     * it): a reading of {@link #now} at most, compared with an answer's {@link #now} when it was asked for.
     */
    synchronized long lastPurge(String url) {
        Long at = marks.get(hash(url));
        return at == null ? floor : Math.max(floor, at);
    }

    /**
     * FNV-1a over the URL's characters, from its host on (its scope left out: {@link CachePolicy#primaryKey}), from this
     * process's seed, then a finalizer that spreads every bit.
     */
    private long hash(String url) {
        // the host begins after the separator before the last: a scope ends in one, and no host or target holds one
        int host = url.lastIndexOf(CachePolicy.HOST_SEPARATOR, url.lastIndexOf(CachePolicy.HOST_SEPARATOR) - 1) + 1;
        long h = seed;
        for (int i = host; i < url.length(); i++) {
            h = (h ^ url.charAt(i)) * FNV_PRIME;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }
}
