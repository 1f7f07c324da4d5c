package io.edge.cache.content;

/**
 * Counters since the cache was built (or since the first of the caches a reload replaced one by another), and what it
 * holds now.
 *
 * @param hits          lookups answered from memory
 * @param misses        lookups not answered (absent, changed on disk, or just evicted)
 * @param evictions     entries dropped for room (not invalidations or replacements)
 * @param invalidations entries dropped because their file changed or vanished
 * @param bytesHeld     the weight held now: content bytes plus the per-entry overhead estimate
 * @param entries       entries held now (estimate)
 * @param admitOneIn    of the files the doorkeeper lets in, one in this many is copied in now ({@link AdmissionPace})
 */
public record ContentCacheStats(long hits, long misses, long evictions, long invalidations, long bytesHeld, long entries,
                                int admitOneIn) {
}
