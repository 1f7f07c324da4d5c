package io.edge.cache.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Locale;

/**
 * The directives of all {@code Cache-Control} fields of one message (RFC 9111 section 5.2). Delta-seconds
 * are {@code -1} when absent; an unparsable value counts as 0 (the conservative reading), a value that
 * overflows as 2^31 (section 1.2.2). A qualified {@code no-cache="..."} or {@code private="..."} is treated
 * as unqualified: this cache does not strip fields.
 */
record CacheControl(
        boolean noStore,
        boolean noCache,
        boolean isPrivate,
        boolean isPublic,
        boolean mustRevalidate,
        boolean proxyRevalidate,
        long maxAge,
        long sMaxAge,
        long staleWhileRevalidate,
        long staleIfError,
        boolean onlyIfCached) {

    static final long ABSENT = -1;
    static final CacheControl NONE = new CacheControl(false, false, false, false, false, false, ABSENT, ABSENT,
            ABSENT, ABSENT, false);
    /** RFC 9111 1.2.2: a delta-seconds too large is taken as 2^31; so is any lifetime or age this cache counts. */
    static final long DELTA_SECONDS_MAX = 2_147_483_648L;

    static CacheControl of(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.CACHE_CONTROL)) {
            return NONE;
        }
        Builder b = new Builder();
        for (String value : headers.getAll(HttpHeaderNames.CACHE_CONTROL)) {
            parse(value, b);
        }
        return new CacheControl(b.noStore, b.noCache, b.isPrivate, b.isPublic, b.mustRevalidate,
                b.proxyRevalidate, b.maxAge, b.sMaxAge, b.staleWhileRevalidate, b.staleIfError, b.onlyIfCached);
    }

    /** cache-control = #( token [ "=" ( token / quoted-string ) ] ), commas inside quotes not splitting. */
    private static void parse(String field, Builder b) {
        int i = 0;
        int n = field.length();
        while (i < n) {
            while (i < n && (field.charAt(i) == ',' || field.charAt(i) == ' ' || field.charAt(i) == '\t')) {
                i++;
            }
            int nameStart = i;
            while (i < n && field.charAt(i) != '=' && field.charAt(i) != ',') {
                i++;
            }
            String name = field.substring(nameStart, i).strip().toLowerCase(Locale.ROOT);
            String value = null;
            if (i < n && field.charAt(i) == '=') {
                i++;
                if (i < n && field.charAt(i) == '"') {
                    StringBuilder quoted = new StringBuilder();
                    i++;
                    while (i < n && field.charAt(i) != '"') {
                        if (field.charAt(i) == '\\' && i + 1 < n) {
                            i++;
                        }
                        quoted.append(field.charAt(i++));
                    }
                    i++; // closing quote (or past the end)
                    value = quoted.toString();
                    while (i < n && field.charAt(i) != ',') {
                        i++;
                    }
                } else {
                    int valueStart = i;
                    while (i < n && field.charAt(i) != ',') {
                        i++;
                    }
                    value = field.substring(valueStart, i).strip();
                }
            }
            if (!name.isEmpty()) {
                b.directive(name, value);
            }
        }
    }

    static long deltaSeconds(String value) {
        if (value == null || value.isEmpty()) {
            return 0;
        }
        long result = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            result = result * 10 + (c - '0');
            if (result >= DELTA_SECONDS_MAX) {
                return DELTA_SECONDS_MAX;
            }
        }
        return result;
    }

    private static final class Builder {
        boolean noStore;
        boolean noCache;
        boolean isPrivate;
        boolean isPublic;
        boolean mustRevalidate;
        boolean proxyRevalidate;
        long maxAge = ABSENT;
        long sMaxAge = ABSENT;
        long staleWhileRevalidate = ABSENT;
        long staleIfError = ABSENT;
        boolean onlyIfCached;

        void directive(String name, String value) {
            switch (name) {
                case "no-store" -> noStore = true;
                case "no-cache" -> noCache = true;
                case "private" -> isPrivate = true;
                case "public" -> isPublic = true;
                case "must-revalidate" -> mustRevalidate = true;
                case "proxy-revalidate" -> proxyRevalidate = true;
                case "only-if-cached" -> onlyIfCached = true;
                // A repeated directive is invalid (RFC 9111 4.2.1); the smallest value is the safe one.
                case "max-age" -> maxAge = min(maxAge, deltaSeconds(value));
                case "s-maxage" -> sMaxAge = min(sMaxAge, deltaSeconds(value));
                case "stale-while-revalidate" -> staleWhileRevalidate = min(staleWhileRevalidate, deltaSeconds(value));
                case "stale-if-error" -> staleIfError = min(staleIfError, deltaSeconds(value));
                default -> {
                    // extensions this cache does not act on
                }
            }
        }

        private static long min(long current, long value) {
            return current == ABSENT ? value : Math.min(current, value);
        }
    }
}
