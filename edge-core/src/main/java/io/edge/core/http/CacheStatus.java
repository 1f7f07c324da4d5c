package io.edge.core.http;

/**
 * What the response cache made of a request, as nginx's {@code $upstream_cache_status} words it. A request the cache
 * does not look up (not a GET or HEAD, or one with a body) has none, as nginx's has none for a method outside
 * {@code fastcgi_cache_methods}.
 */
public enum CacheStatus {
    /** Nothing stored: the backend answered (also a URL remembered uncacheable, which nginx has not: Varnish's hit-for-miss). */
    MISS,
    /** The cache stayed out (the client's request asked it to): the backend answered and nothing was stored. */
    BYPASS,
    /** Stored, stale: the backend answered anew. */
    EXPIRED,
    /**
     * Stored, stale, answered as it was: the backend failed or answered 5xx (stale-if-error, the grace), or, allowed by
     * stale-while-revalidate, this request refreshes it in the background (nginx's background update).
     */
    STALE,
    /** Stored, stale, answered as it was while another request refreshes it (nginx's use_stale updating). */
    UPDATING,
    /** Stored, stale: the backend's 304 made it fresh again, and it answered. */
    REVALIDATED,
    /** Stored and fresh (also what a request waiting for another's fill found stored once it landed). */
    HIT
}
