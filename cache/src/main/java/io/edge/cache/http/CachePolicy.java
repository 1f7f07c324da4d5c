package io.edge.cache.http;

import io.edge.cache.ResponseCacheSettings;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * RFC 9111 rules for a shared cache, as pure functions of request and response headers.
 *
 * <p>Deliberate choices: no heuristic freshness (a response is stored only with explicit freshness,
 * {@code s-maxage}, {@code max-age} or {@code Expires}, or with {@code no-cache} and a validator), so a
 * script that says nothing is never cached; only answers to GET are stored, and HEAD is answered from them;
 * the explicit {@code stale-while-revalidate} / {@code stale-if-error} extensions are honoured next to
 * {@code s-maxage} (as CDNs do), while {@code no-cache}, {@code must-revalidate} and
 * {@code proxy-revalidate} forbid every stale answer, the configured grace included; {@code s-maxage}, which
 * implies {@code proxy-revalidate} (RFC 9111 5.2.2.10), forbids the grace. A script's {@code X-Accel-Expires}
 * (nginx's fastcgi_cache) sets this cache's freshness over all of those ({@link #accelExpires}); it never makes an
 * answer storable that {@code private}, {@code no-store}, a cookie, {@code Vary: *}, the script's
 * {@code X-Accel-Buffering: no} (a stream, which nginx does not cache) or the request keep out.
 */
final class CachePolicy {

    /** Statuses cacheable by default (RFC 9110 15.1), less 206 which this cache does not combine. */
    private static final Set<Integer> CACHEABLE_BY_DEFAULT = Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);
    /** Separates the variant part of a key; cannot occur in a request target or header value. */
    static final char VARIANT_SEPARATOR = '\u0000';
    /**
     * Separates host and target in a key; cannot occur in a request target or header value, so whatever a
     * {@code Host} holds, "a/x" + "/p" and "a" + "/x/p" stay two keys.
     */
    static final char HOST_SEPARATOR = '\n';
    /** The scope of a cache where one site's keys cannot meet another's ({@link ResponseCache#scope}): none. */
    static final String NO_SCOPE = "";

    /** {@link #accelExpires} of a field that is absent or that nginx could not read: no word from the script. */
    static final long NO_ACCEL_EXPIRES = -1;

    private final ResponseCacheSettings settings;
    /** The wall clock, for an {@code X-Accel-Expires} that gives an instant ({@code @} and Unix seconds). */
    private final LongSupplier wallMillis;
    /** The bypass cookies named whole, and the starts of those named with a {@code *}: split once, not per request. */
    private final Set<String> bypassNames;
    private final List<String> bypassPrefixes;

    CachePolicy(ResponseCacheSettings settings) {
        this(settings, System::currentTimeMillis);
    }

    CachePolicy(ResponseCacheSettings settings, LongSupplier wallMillis) {
        this.settings = settings;
        this.wallMillis = wallMillis;
        this.bypassNames = settings.bypassCookies().stream().filter(name -> !name.endsWith("*"))
                .collect(Collectors.toUnmodifiableSet());
        this.bypassPrefixes = settings.bypassCookies().stream().filter(name -> name.endsWith("*"))
                .map(name -> name.substring(0, name.length() - 1)).toList();
    }

    /**
     * True when the cache must be skipped in both directions: not GET/HEAD, or a bypass cookie is sent (its name, or
     * one a bypass name ending in {@code *} is the start of).
     */
    boolean bypass(HttpRequest request) {
        HttpMethod method = request.method();
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            return true;
        }
        if (settings.bypassCookies().isEmpty()) {
            return false;
        }
        for (String cookieField : request.headers().getAll(HttpHeaderNames.COOKIE)) {
            for (String pair : cookieField.split(";")) {
                int eq = pair.indexOf('=');
                String name = (eq < 0 ? pair : pair.substring(0, eq)).strip();
                if (bypassNames.contains(name)) {
                    return true;
                }
                for (String prefix : bypassPrefixes) {
                    if (name.startsWith(prefix)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * RFC 9111 section 3 for a shared cache, plus this cache's own limits (see the class comment); {@code valid}: the
     * seconds {@code response} is kept for if it says nothing of its lifetime ({@link #validSeconds}), else
     * {@link #NO_ACCEL_EXPIRES}.
     */
    boolean storable(HttpRequest request, HttpResponse response, CacheControl cc, long valid) {
        if (!HttpMethod.GET.equals(request.method()) || bypass(request)) {
            return false;
        }
        if (CacheControl.of(request.headers()).noStore()) {
            return false;
        }
        if (request.headers().contains(HttpHeaderNames.AUTHORIZATION) && !sharedWithAuthorization(cc)) {
            return false;
        }
        return storableResponse(response, cc, valid);
    }

    /** The response side of {@link #storable}: status, directives, cookies, Vary, size, explicit freshness. */
    boolean storableResponse(HttpResponse response, CacheControl cc, long valid) {
        return storableResponse(response, cc, accelExpiresField(response.headers()), valid);
    }

    /**
     * As {@link #storableResponse(HttpResponse, CacheControl, long)}, with the script's {@code X-Accel-Expires} given
     * apart (a stored entry's, which its fields do not keep), or null.
     */
    boolean storableResponse(HttpResponse response, CacheControl cc, String xAccelExpires, long valid) {
        int status = response.status().code();
        if (status < 200 || status == 206 || status == 304) {
            return false;
        }
        HttpHeaders res = response.headers();
        if (cc.noStore() || cc.isPrivate()) {
            return false;
        }
        if (!settings.storeSetCookie() && res.contains(HttpHeaderNames.SET_COOKIE)) {
            return false;
        }
        if (ResponseCache.unbuffered(res)) {
            return false; // a stream (Server-Sent Events, a job's progress) is its client's alone, as nginx keeps it
        }
        long accel = accelExpires(xAccelExpires, wallMillis.getAsLong());
        if (accel == 0) {
            return false;
        }
        if (varyNames(res) == null) {
            return false; // Vary: *
        }
        long contentLength = res.getInt(HttpHeaderNames.CONTENT_LENGTH, -1);
        if (contentLength > settings.maxObjectSize()) {
            return false;
        }
        boolean explicitFreshness = accel > 0 || valid > 0 || cc.sMaxAge() >= 0 || cc.maxAge() >= 0
                || res.contains(HttpHeaderNames.EXPIRES);
        boolean validated = res.contains(HttpHeaderNames.ETAG) || res.contains(HttpHeaderNames.LAST_MODIFIED);
        if (!explicitFreshness && !(cc.noCache() && validated)) {
            return false;
        }
        return CACHEABLE_BY_DEFAULT.contains(status) || explicitFreshness;
    }

    /**
     * nginx's {@code fastcgi_cache_valid} ({@link ResponseCacheSettings#valid}): the seconds {@code response} (its
     * Cache-Control {@code cc}) is kept for, by its status, when it names no lifetime of its own and forbids nothing; {@link #NO_ACCEL_EXPIRES} when it
     * does, or nothing is configured for its status. What the answer says wins, as over nginx's directive:
     * {@code max-age}, {@code s-maxage}, {@code no-cache}, {@code no-store}, {@code private}, an {@code Expires} (a past
     * one too: PHP's session pages) or the script's own {@code X-Accel-Expires}. Kept apart from a script's
     * X-Accel-Expires: unlike that, it does not make the answer's Cache-Control the browsers' (a must-revalidate still
     * forbids stale answers), and a 304 that renews the answer is judged again by the settings then.
     */
    long validSeconds(HttpResponse response, CacheControl cc) {
        if (settings.valid().isEmpty()) {
            return NO_ACCEL_EXPIRES;
        }
        HttpHeaders headers = response.headers();
        if (accelExpiresField(headers) != null || headers.contains(HttpHeaderNames.EXPIRES)) {
            return NO_ACCEL_EXPIRES;
        }
        if (cc.maxAge() >= 0 || cc.sMaxAge() >= 0 || cc.noCache() || cc.noStore() || cc.isPrivate()) {
            return NO_ACCEL_EXPIRES;
        }
        Duration lifetime = settings.validFor(response.status().code());
        return lifetime == null ? NO_ACCEL_EXPIRES : Math.min(lifetime.toSeconds(), Integer.MAX_VALUE);
    }

    /**
     * A script's {@code X-Accel-Expires} as nginx's fastcgi_cache reads it, in seconds this cache keeps the answer
     * fresh: digits, the seconds from now; {@code @} and digits, the Unix time until which. 0 for {@code 0} or an
     * instant already past: the answer is never stored (how a script written for nginx keeps a page out of the cache
     * in front of it, whatever its {@code Cache-Control} lets browsers keep). {@link #NO_ACCEL_EXPIRES} where absent
     * or unreadable (nginx ignores such a value too). Capped at 2^31 - 1 seconds.
     */
    static long accelExpires(String value, long nowMillis) {
        if (value == null) {
            return NO_ACCEL_EXPIRES;
        }
        String digits = value.strip();
        boolean instant = digits.startsWith("@");
        if (instant) {
            digits = digits.substring(1);
        }
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return NO_ACCEL_EXPIRES;
        }
        long n = Long.parseLong(digits);
        long seconds = instant ? Math.max(0, n - Math.floorDiv(nowMillis, 1000)) : n;
        return Math.min(seconds, Integer.MAX_VALUE);
    }

    /**
     * The one {@code X-Accel-Expires} value the lines of {@code headers} come to, as nginx 1.22 reads them in turn (a
     * script's {@code header(..., false)}, a framework's beside a plugin's): a {@code 0} keeps the answer out whatever
     * the others say; else the last line it can read sets the time; null where none can be read, as nginx then ignores
     * the field ({@link #accelExpires}).
     */
    static String accelExpiresField(HttpHeaders headers) {
        String readable = null;
        for (String value : headers.getAll(ResponseCache.X_ACCEL_EXPIRES)) {
            long seconds = accelExpires(value, 0); // 0 for "@" too only where it says the epoch itself
            if (seconds == 0 && !value.strip().startsWith("@")) {
                return value;
            }
            if (seconds != NO_ACCEL_EXPIRES) {
                readable = value;
            }
        }
        return readable;
    }

    /** RFC 9111 3.5: a response to a request with {@code Authorization} may be shared only if it says so. */
    static boolean sharedWithAuthorization(CacheControl cc) {
        return cc.isPublic() || cc.sMaxAge() >= 0 || cc.mustRevalidate();
    }

    /**
     * RFC 9111 4.2.1: {@code s-maxage} over {@code max-age} over {@code Expires - Date}; seconds, 0 to 2^31. A positive
     * {@code accel} ({@link #accelExpires}) comes first, over {@code no-cache} too: the script asked this cache, not
     * the browsers its {@code Cache-Control} speaks to, to keep the answer that long.
     */
    static long freshnessLifetime(HttpHeaders response, CacheControl cc, long responseTimeMillis, long accel) {
        if (accel > 0) {
            return accel;
        }
        if (cc.noCache()) {
            return 0;
        }
        if (cc.sMaxAge() >= 0) {
            return cc.sMaxAge();
        }
        if (cc.maxAge() >= 0) {
            return cc.maxAge();
        }
        String expires = response.get(HttpHeaderNames.EXPIRES);
        if (expires == null) {
            return 0;
        }
        Date expiresAt = HttpDates.parse(expires);
        if (expiresAt == null) {
            return 0; // an invalid Expires, "0" included, means already expired
        }
        Date date = date(response);
        long dateMillis = date != null ? date.getTime() : responseTimeMillis;
        // capped as a delta-seconds is (RFC 9111 1.2.2): "never expires" written as the year 9999 lasts 8 000 years
        return Math.min(Math.max(0, (expiresAt.getTime() - dateMillis) / 1000), CacheControl.DELTA_SECONDS_MAX);
    }

    /**
     * RFC 9111 4.2.3's corrected initial age in seconds, less its apparent age: the {@code Age} field, at most 2^31.
     * The request's own delay is not known here and counts as 0.
     *
     * <p>The apparent age (response time minus {@code Date}) measures how long an answer travelled through caches
     * that sent no {@code Age}, provided the origin's clock agrees with this one. This cache asks its own backends
     * directly, as a gateway: nothing stands between them to age the answer, and a cache inside the backend (Symfony's
     * HttpCache) sends {@code Age}, so their {@code Date} only tells how far their clock is from ours, or when a script
     * that dates its answer as it starts began. Counted, a php-fpm host 5 s behind made every {@code max-age=3} answer
     * stale on arrival: never stored, and its URL hit-for-miss. So lifetimes count from receipt, as nginx's
     * fastcgi_cache counts them, and a {@code Date} ahead gives no extra freshness either.
     */
    static long initialAge(HttpHeaders response) {
        return CacheControl.deltaSeconds(response.get(HttpHeaderNames.AGE)); // capped as a delta-seconds
    }

    private static Date date(HttpHeaders response) {
        String value = response.get(HttpHeaderNames.DATE);
        return HttpDates.parse(value);
    }

    /**
     * True when the client asks for an end-to-end revalidation ({@code Cache-Control: no-cache} or
     * {@code max-age=0}, or {@code Pragma: no-cache} without {@code Cache-Control}) and the settings honour it.
     */
    boolean clientForcesRevalidation(HttpRequest request) {
        if (!settings.honourClientNoCache()) {
            return false;
        }
        HttpHeaders headers = request.headers();
        if (!headers.contains(HttpHeaderNames.CACHE_CONTROL)) {
            String pragma = headers.get(HttpHeaderNames.PRAGMA);
            return pragma != null && pragma.toLowerCase(Locale.ROOT).contains("no-cache");
        }
        CacheControl cc = CacheControl.of(headers);
        return cc.noCache() || cc.maxAge() == 0;
    }

    /** {@code host[:port]} without the dot that may end its name ({@code a.test.:8080} is {@code a.test:8080}). */
    static String withoutTrailingDot(String host) {
        int colon = host.lastIndexOf(':');
        int name = colon > host.lastIndexOf(']') ? colon : host.length();
        return name > 1 && host.charAt(name - 1) == '.' ? host.substring(0, name - 1) + host.substring(name) : host;
    }

    /** {@link #primaryKey(String, HttpRequest)} in no scope. */
    static String primaryKey(HttpRequest request) {
        return primaryKey(NO_SCOPE, request);
    }

    /**
     * The key of a request without its variant part: {@code scope} (empty, or a site's, ending in
     * {@link #HOST_SEPARATOR}: {@link ResponseCache#scope}), host (lower case, from the absolute form or
     * {@code Host}, its port kept), {@link #HOST_SEPARATOR}, then path and query exactly as sent, as the backend gets
     * them (REQUEST_URI): a key that dropped part of what the backend saw (a fragment, once) would store the answer
     * made for one request under another's URL. GET and HEAD share it.
     */
    static String primaryKey(String scope, HttpRequest request) {
        String uri = request.uri();
        String host;
        String target;
        int scheme = uri.indexOf("://");
        if (scheme > 0 && uri.charAt(0) != '/') {
            int hostStart = scheme + 3;
            int hostEnd = hostStart;
            while (hostEnd < uri.length() && "/?".indexOf(uri.charAt(hostEnd)) < 0) {
                hostEnd++;
            }
            host = uri.substring(hostStart, hostEnd);
            target = hostEnd < uri.length() && uri.charAt(hostEnd) == '/' ? uri.substring(hostEnd) : "/" + uri.substring(hostEnd);
        } else {
            host = request.headers().get(HttpHeaderNames.HOST, "");
            target = uri;
        }
        // The port stays: a script may write it into links (HTTP_HOST), so "a:8080" must not answer for "a". A
        // trailing dot goes, as routing drops it: "A.test." is the host a PURGE of "a.test" must reach.
        return scope + withoutTrailingDot(host.toLowerCase(Locale.ROOT)) + HOST_SEPARATOR + target;
    }

    /**
     * RFC 9111 4.4: whether a non-error answer to {@code method} invalidates what is stored for its target; true
     * for every method but the safe GET, HEAD, OPTIONS and TRACE (one whose safety is unknown counts as unsafe).
     */
    static boolean invalidates(HttpMethod method) {
        return !HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)
                && !HttpMethod.OPTIONS.equals(method) && !HttpMethod.TRACE.equals(method);
    }

    /**
     * The primary key of {@code reference} (a {@code Location} or {@code Content-Location} value, absolute or
     * relative) resolved against the request keyed {@code requestKey}, in its scope; {@code null} when it names another
     * host (RFC 9111 4.4: invalidating for another origin would let one site empty another's entries), is no http(s)
     * URI, or does not parse.
     */
    static String referencedKey(String requestKey, String reference) {
        // the last separator: a scope ends in one too, and no target holds one
        int cut = requestKey.lastIndexOf(HOST_SEPARATOR);
        int hostStart = requestKey.lastIndexOf(HOST_SEPARATOR, cut - 1) + 1;
        String scope = requestKey.substring(0, hostStart);
        String host = requestKey.substring(hostStart, cut);
        URI resolved;
        try {
            resolved = new URI("http://" + host + requestKey.substring(cut + 1)).resolve(new URI(reference.strip()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
        String scheme = resolved.getScheme();
        String authority = resolved.getRawAuthority();
        if (resolved.isOpaque() || !("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
                || authority == null || !authority.toLowerCase(Locale.ROOT).equals(host)) {
            return null;
        }
        String path = resolved.getRawPath() == null || resolved.getRawPath().isEmpty() ? "/" : resolved.getRawPath();
        return scope + host + HOST_SEPARATOR + path + (resolved.getRawQuery() == null ? "" : "?" + resolved.getRawQuery());
    }

    /**
     * The header names a response varies on, lower case, in order, without duplicates; an empty list when it
     * does not vary, {@code null} for {@code Vary: *}.
     */
    static List<String> varyNames(HttpHeaders response) {
        // a set: a backend's Vary of thousands of names is looked through once, not once per name
        Set<String> names = new LinkedHashSet<>(4);
        for (String field : response.getAll(HttpHeaderNames.VARY)) {
            for (String name : field.split(",")) {
                String lower = name.strip().toLowerCase(Locale.ROOT);
                if (lower.equals("*")) {
                    return null;
                }
                if (!lower.isEmpty()) {
                    names.add(lower);
                }
            }
        }
        return new ArrayList<>(names);
    }

    /**
     * The full key: the primary key and, for each name in {@code varyNames}, the request's values of that
     * header (joined with ", ", blanks around them dropped; absent and empty differ).
     */
    static String variantKey(String primaryKey, List<String> varyNames, HttpHeaders request) {
        if (varyNames.isEmpty()) {
            return primaryKey;
        }
        StringBuilder key = new StringBuilder(primaryKey.length() + 32 * varyNames.size()).append(primaryKey);
        for (String name : varyNames) {
            key.append(VARIANT_SEPARATOR).append(name);
            List<String> values = request.getAll(name);
            if (values.isEmpty()) {
                continue; // "name" alone: absent
            }
            key.append('=');
            for (int i = 0; i < values.size(); i++) {
                if (i > 0) {
                    key.append(", ");
                }
                key.append(values.get(i).strip());
            }
        }
        return key.toString();
    }
}
