package io.edge.cache;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The shared cache of backend (FastCGI, later HTTP upstream) responses. Defaults live in
 * {@code reference.conf}.
 *
 * @param maxBytes             bytes held at most: bodies, headers and an estimate of per-entry overhead
 * @param maxObjectSize        a response with a larger body is not stored, in bytes
 * @param storeSetCookie       store (and share) responses carrying {@code Set-Cookie}; off is the safe choice
 * @param coalesceTimeout      how long concurrent misses for one key wait for the one request in flight
 *                             before they go to the backend themselves
 * @param hitForMiss           how long a URL whose answer could not be stored (no explicit freshness,
 *                             {@code private}, {@code no-store}, {@code Set-Cookie}, too large...) is remembered as
 *                             such, so concurrent misses for it go to the backend at once instead of waiting for
 *                             one another (Varnish's hit-for-miss); a storable answer ends it sooner; zero
 *                             remembers nothing
 * @param staleGrace           how long past its freshness a stored response may still answer when the backend
 *                             fails, is down or its wait queue is full, if its own {@code stale-if-error} is
 *                             shorter (the larger window wins); {@code no-cache}, {@code must-revalidate},
 *                             {@code proxy-revalidate} and {@code s-maxage} still forbid it (but beside an
 *                             {@code X-Accel-Expires}, whose answer's Cache-Control is the browsers'); zero leaves only
 *                             {@code stale-if-error}
 * @param bypassCookies        names of request cookies (say a session cookie) whose presence skips the cache in
 *                             both directions; one ending in {@code *} names every cookie whose name starts with what
 *                             comes before it
 * @param honourClientNoCache  a client's {@code Cache-Control: no-cache} or {@code max-age=0} forces a
 *                             revalidation towards the backend; off ignores them (a reload storm stays cached)
 * @param staleWhileUpdating   how long past its freshness a stored response still answers while one request
 *                             refreshes it in the background (nginx's {@code fastcgi_cache_use_stale updating} with
 *                             {@code fastcgi_cache_background_update on}), if its own {@code stale-while-revalidate}
 *                             is shorter; forbidden as {@code staleGrace} is; zero leaves only the answer's own
 * @param valid                nginx's {@code fastcgi_cache_valid}: how long an answer of a status is kept when it
 *                             names no lifetime of its own (no {@code max-age}, {@code s-maxage}, {@code Expires} or
 *                             {@code X-Accel-Expires}) and does not forbid storing; {@link #ANY_STATUS} for the
 *                             statuses not named; empty: only what the answers say
 */
public record ResponseCacheSettings(
        long maxBytes,
        long maxObjectSize,
        boolean storeSetCookie,
        Duration coalesceTimeout,
        Duration hitForMiss,
        Duration staleGrace,
        List<String> bypassCookies,
        boolean honourClientNoCache,
        Duration staleWhileUpdating,
        Map<Integer, Duration> valid) {

    /** The key of {@link #valid} for every status it does not name. */
    public static final int ANY_STATUS = 0;

    /** Settings without {@link #staleWhileUpdating} or {@link #valid}: only what the answers say. */
    public ResponseCacheSettings(long maxBytes, long maxObjectSize, boolean storeSetCookie, Duration coalesceTimeout,
            Duration hitForMiss, Duration staleGrace, List<String> bypassCookies, boolean honourClientNoCache) {
        this(maxBytes, maxObjectSize, storeSetCookie, coalesceTimeout, hitForMiss, staleGrace, bypassCookies,
                honourClientNoCache, Duration.ZERO, Map.of());
    }

    public ResponseCacheSettings {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
        }
        if (maxObjectSize < 0 || maxObjectSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxObjectSize: " + maxObjectSize + " (expected: 0 .. 2147483647)");
        }
        Objects.requireNonNull(coalesceTimeout, "coalesceTimeout");
        Objects.requireNonNull(hitForMiss, "hitForMiss");
        Objects.requireNonNull(staleGrace, "staleGrace");
        if (coalesceTimeout.isNegative()) {
            throw new IllegalArgumentException("coalesceTimeout: " + coalesceTimeout + " (expected: >= 0)");
        }
        if (hitForMiss.isNegative()) {
            throw new IllegalArgumentException("hitForMiss: " + hitForMiss + " (expected: >= 0)");
        }
        if (staleGrace.isNegative()) {
            throw new IllegalArgumentException("staleGrace: " + staleGrace + " (expected: >= 0)");
        }
        if (staleWhileUpdating.isNegative()) {
            throw new IllegalArgumentException("staleWhileUpdating: " + staleWhileUpdating + " (expected: >= 0)");
        }
        // Cookie names are case-sensitive (RFC 6265); only surrounding blanks are dropped.
        bypassCookies = bypassCookies.stream().map(String::strip).toList();
        for (String name : bypassCookies) {
            String fault = bypassCookieFault(name);
            if (fault != null) {
                throw new IllegalArgumentException("bypassCookies: \"" + name + "\" " + fault
                        + " (expected: " + BYPASS_COOKIE + ")");
            }
        }
        valid = Map.copyOf(valid);
        valid.forEach((status, lifetime) -> {
            if (status != ANY_STATUS && (status < 200 || status > 599)) {
                throw new IllegalArgumentException("valid: status " + status + " (expected: 200 .. 599, or 0 for any)");
            }
            if (lifetime.isNegative() || lifetime.isZero()) {
                throw new IllegalArgumentException("valid: " + status + " = " + lifetime + " (expected: > 0)");
            }
        });
    }

    /** What a {@link #bypassCookies} element is, said where one is not. */
    public static final String BYPASS_COOKIE = "a cookie name such as PHPSESSID, or the start of some and a last * "
            + "(wordpress_logged_in_*)";

    /**
     * What is wrong with {@code name}, taken without its surrounding blanks, as a {@link #bypassCookies} element
     * ({@link #BYPASS_COOKIE}); null when nothing is.
     */
    public static String bypassCookieFault(String name) {
        String bare = name.strip();
        // no cookie's name holds these (PHP's setcookie refuses them, as RFC 6265 does): such a name never matches
        if (bare.isEmpty() || bare.chars().anyMatch(c -> c <= ' ' || c == 0x7f || "=;,".indexOf(c) >= 0)) {
            return "is not a cookie name";
        }
        int star = bare.indexOf('*');
        return star >= 0 && star < bare.length() - 1 ? "has a * before its end" : null;
    }

    /** How long an answer of {@code status} that names no lifetime is kept, from {@link #valid}; null: not at all. */
    public Duration validFor(int status) {
        Duration lifetime = valid.get(status);
        return lifetime != null ? lifetime : valid.get(ANY_STATUS);
    }

    /** These settings holding {@code maxBytes} at most instead. */
    public ResponseCacheSettings withMaxBytes(long maxBytes) {
        return new ResponseCacheSettings(maxBytes, maxObjectSize, storeSetCookie, coalesceTimeout, hitForMiss,
                staleGrace, bypassCookies, honourClientNoCache, staleWhileUpdating, valid);
    }
}
