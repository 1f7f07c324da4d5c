package io.edge.cache.http;

/**
 * Counters since the cache was built.
 *
 * @param hits         lookups answered fresh
 * @param misses       lookups that had to go to the backend: absent, or stale and in need of revalidation
 * @param staleAnswers stale responses served: within stale-while-revalidate, or on a backend error / full queue
 * @param coalesced    requests that waited for another's backend request instead of sending their own
 * @param bypasses     requests the cache stayed out of (method, bypass cookie, Authorization)
 * @param evictions    entries dropped for room (not purges or replacements)
 * @param bytesHeld    weight held now: bodies, headers, the per-entry overhead estimate and the Vary index
 * @param entries      entries held now (estimate)
 */
public record ResponseCacheStats(long hits, long misses, long staleAnswers, long coalesced, long bypasses,
        long evictions, long bytesHeld, long entries) {
}
