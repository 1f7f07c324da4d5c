package io.edge.cache.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.cache.BufferCaches;
import io.edge.cache.ResponseCacheSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared cache of backend responses (RFC 9111, see {@link CachePolicy} for the rules and the choices):
 * Caffeine bounded by bytes, W-TinyLFU eviction, one {@link Coalescer} for the backend requests it causes.
 *
 * <p>Keys: host + path + query (HEAD and GET share them), plus the request's values of the headers the
 * stored response named in {@code Vary}; behind the scope of the site that answered, where sites listen on addresses
 * of their own ({@link #scope}). The names are remembered per URL in a small side index, so a
 * lookup knows which request headers make its variant. The index is bounded by bytes too, a sixteenth of
 * {@code maxBytes}, and the entries get the rest: together they never hold more than {@code maxBytes}.
 * That index may forget a URL (evicted, or dropped when an answer without {@code Vary} is stored) while its
 * variants are still stored, so purges find the variants through a second index, of the variant keys per
 * URL, kept exactly as long as the entries (it is part of their weight).
 *
 * <p>Hit-for-miss: a URL whose last answer could not be stored is remembered for {@code hitForMiss} (a third
 * index, of URLs, bounded by a sixty-fourth of {@code maxBytes}, also inside it), and its lookups say
 * {@link Lookup#uncacheable()}, so callers send its misses to the backend side by side instead of
 * coalescing them behind one request whose answer they could not share. A storable answer for the URL, or a
 * purge of it, forgets it; a 5xx never marks it (an error says nothing of the page, and coalescing shields a
 * failing backend), nor does an answer with {@code Vary} (other than {@code *}): it says nothing of the
 * URL's other variants (see {@link #rememberUncacheable}).
 *
 * <p>Ownership: each entry holds its body once (a direct buffer the cache allocated and copied into); the
 * cache holds one reference to each entry and the removal listener releases it, and so the body, on eviction,
 * purge, replacement or close. Responses handed out carry a retained duplicate that the caller releases,
 * normally by writing it; so eviction never frees a body that is being sent. A {@link Lookup} made before a
 * removal gets {@code null} instead of a response (see {@link StoredResponse}). The cache never takes a
 * reference to a caller's buffer.
 *
 * <p>Time: ages and freshness run on the {@link Ticker}; the wall clock is read only for dates: to date an answer
 * that has no {@code Date}, and to read an {@code Expires} without one, or an {@code X-Accel-Expires} instant. A
 * backend's {@code Date} does not age its answer (see {@link CachePolicy#initialAge}).
 */
public final class ResponseCache implements AutoCloseable {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);
    /** How often at most {@link #noRoom} is said. */
    private static final long NO_ROOM_WARNING_PERIOD_NANOS = 60 * NANOS_PER_SECOND;
    /**
     * How long an answer that can no longer answer is kept before it goes, from when it could last answer or was last
     * asked for, whichever is later ({@link #usefulFor}): nginx's default {@code inactive}, 10 minutes from a file's
     * last use, within which nginx keeps such a file and logs its requests EXPIRED.
     */
    private static final long UNUSABLE_KEPT_NANOS = 10 * 60 * NANOS_PER_SECOND;
    /** The share of {@code maxBytes} the Vary index may hold: 1/16. */
    private static final int VARY_INDEX_SHARE_SHIFT = 4;
    /** The share of {@code maxBytes} the hit-for-miss index may hold: 1/64. */
    private static final int UNCACHEABLE_SHARE_SHIFT = 6;
    /** Per-URL overhead of the hit-for-miss index beyond its string (node, expiry, references), an estimate. */
    private static final int UNCACHEABLE_OVERHEAD = 120;
    /** Per-entry overhead of the Vary index beyond its strings (node, list, references), an estimate. */
    private static final int VARY_INDEX_OVERHEAD = 160;
    /**
     * Per-entry overhead of the variant index beyond the URL's own string (a set node, and the URL's map node
     * and set charged to each of its variants), an estimate.
     */
    private static final int VARIANT_INDEX_OVERHEAD = 200;
    /**
     * nginx's cache directive from a script: read by this cache (seconds fresh, {@code @} a Unix time, {@code 0}
     * never stored: {@link CachePolicy#accelExpires}), kept beside an entry rather than in its fields, and sent to a
     * client only where a location passes it ({@link CachedResponse#accelFields}; nginx hides it unless passed).
     */
    public static final String X_ACCEL_EXPIRES = "X-Accel-Expires";
    /**
     * nginx's pace of an answer from a script (bytes a second; 0: none), which nginx's cache stores with the answer
     * and applies at every use: kept beside an entry rather than in its fields, handed out beside the head ({@link
     * CachedResponse#xAccelLimitRate}), sent to a client only where a location passes it ({@link
     * CachedResponse#accelFields}).
     */
    public static final String X_ACCEL_LIMIT_RATE = "X-Accel-Limit-Rate";
    /**
     * nginx's word from a script that its answer streams ({@link #unbuffered}): such an answer is not stored, as nginx
     * caches no unbuffered answer; kept beside a buffered one ({@link CachedResponse#accelFields}), never in its
     * fields: sent to a client only where a location passes it (nginx hides it unless passed).
     */
    public static final String X_ACCEL_BUFFERING = "X-Accel-Buffering";
    /**
     * A stored answer's fields: their names as the backend's reader took them, not judged again here (a proxied
     * backend's may hold any visible ASCII, {@code Fo(o}, as nginx passes it on), so a hit carries what the miss did.
     */
    private static final HttpHeadersFactory STORED_FIELDS = DefaultHttpHeadersFactory.headersFactory()
            .withNameValidation(false);

    /**
     * Fields about one connection (RFC 9111 3.1), never stored; {@code Age} is computed on the way out; a script's
     * {@code X-Accel-Expires}, {@code X-Accel-Limit-Rate} and {@code X-Accel-Buffering} are for this server, not in the
     * head (nginx hides them), but kept beside it ({@link StoredResponse#accelFields}). {@code Trailer} is stored: it
     * is end-to-end (RFC 9110 6.6.2), a script's reaches the client on a miss, and nginx's cache sends it on a hit too.
     */
    private static final Set<String> NOT_STORED = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "upgrade", "proxy-authenticate", "proxy-authorization", "age",
            X_ACCEL_EXPIRES.toLowerCase(Locale.ROOT), X_ACCEL_LIMIT_RATE.toLowerCase(Locale.ROOT),
            X_ACCEL_BUFFERING.toLowerCase(Locale.ROOT));
    /**
     * The fields nginx's cache reads and hides, kept beside an entry's head ({@link StoredResponse#accelFields}) for a
     * location that passes them to its clients.
     */
    public static final List<String> ACCEL_FIELDS = List.of(X_ACCEL_EXPIRES, X_ACCEL_LIMIT_RATE, X_ACCEL_BUFFERING);
    /**
     * RFC 9111 3.2: fields a 304 does not update; and a script's {@code Status} (kept in the head where its location
     * passes it, nginx's fastcgi_pass_header), which names the 304 itself, not the stored answer's status.
     */
    private static final Set<String> NOT_UPDATED = Set.of("content-length", "content-encoding", "content-range",
            "transfer-encoding", "status");

    private final ResponseCacheSettings settings;
    private final CachePolicy policy;
    private final Cache<String, StoredResponse> cache;
    private final Cache<String, List<String>> varyIndex;
    /**
     * Primary key to the variant keys stored under it, updated after the cache: added to after a put, removed
     * from by the removal listener when the key is no longer in the cache. Each set changes only inside
     * {@code compute} on its primary key, so a put and a removal of one key cannot lose each other.
     */
    private final ConcurrentHashMap<String, Set<String>> variants = new ConcurrentHashMap<>();
    /** URLs (primary keys) whose last answer could not be stored, for {@code hitForMiss}; null when that is 0. */
    private final Cache<String, Boolean> uncacheable;
    private final Coalescer coalescer;
    private final Ticker ticker;
    private final LongSupplier wallMillis;
    private final ByteBufAllocator allocator;
    /** Answers not stored for want of direct memory since {@link #noRoom} last said so, and when it did (0: never). */
    private final AtomicLong noRoom = new AtomicLong();
    private volatile long lastNoRoomWarning;
    private final long graceNanos;
    /** stale-while-updating: the stale-while-revalidate every answer has at least, where stale answers are allowed. */
    private final long updatingNanos;
    /** Shared with the cache that replaces this one on a reload, so that it counts on from these. */
    private final Counters counters;
    /** When URLs were purged, so that an answer asked for before is not stored; shared with a replacing cache too. */
    private final PurgeMarks purgeMarks;
    /** Each site's scope ({@link #scope}); shared with a replacing cache too, whose keys go on meaning the same sites. */
    private final Map<Object, String> scopes;
    private final LongAdder hits;
    private final LongAdder misses;
    private final LongAdder staleAnswers;
    private final LongAdder bypasses;
    private final LongAdder evictions;
    /** Set by {@link #close}: a body a recorder finishes later (a request that outlived its generation) is dropped. */
    private volatile boolean closed;
    /** The cache a reload made with what this one stored ({@link #carryOver}), else null. */
    private volatile ResponseCache successor;

    /**
     * @param timer ends coalesced waits after {@code coalesceTimeout}, and lets answers past any use go where no
     *              request comes to (a shared {@code HashedWheelTimer})
     */
    public ResponseCache(ResponseCacheSettings settings, Timer timer) {
        this(settings, timer, Ticker.systemTicker());
    }

    /**
     * A cache whose ages and freshness run on {@code ticker} (tests pass a fake one, so expiry needs no
     * sleeping); dates are still read on the wall clock.
     */
    public ResponseCache(ResponseCacheSettings settings, Timer timer, Ticker ticker) {
        this(settings, timer, ticker, null);
    }

    /**
     * As {@link #ResponseCache(ResponseCacheSettings, Timer, Ticker)}, for settings a reload changed: the counters since
     * start (hits, misses, stale answers, coalesced, bypasses, evictions) go on from {@code predecessor}'s (null: from
     * 0), which adds what its own requests still count while they drain; and what it stores is carried over
     * ({@link #carryOver}), so that a reload tuning the cache (a longer grace to ride out an outage, more bytes) does
     * not empty it, as nginx's cache on disk outlives a reload. What the predecessor's requests still running store
     * from then on is stored here too.
     */
    public ResponseCache(ResponseCacheSettings settings, Timer timer, Ticker ticker, ResponseCache predecessor) {
        this(settings, timer, ticker, System::currentTimeMillis, ByteBufAllocator.DEFAULT, predecessor);
    }

    ResponseCache(ResponseCacheSettings settings, Timer timer, Ticker ticker, LongSupplier wallMillis,
            ByteBufAllocator allocator) {
        this(settings, timer, ticker, wallMillis, allocator, null);
    }

    private ResponseCache(ResponseCacheSettings settings, Timer timer, Ticker ticker, LongSupplier wallMillis,
            ByteBufAllocator allocator, ResponseCache predecessor) {
        this.counters = predecessor == null ? new Counters() : predecessor.counters;
        this.purgeMarks = predecessor == null ? new PurgeMarks() : predecessor.purgeMarks;
        this.scopes = predecessor == null ? new HashMap<>() : predecessor.scopes;
        this.hits = counters.hits;
        this.misses = counters.misses;
        this.staleAnswers = counters.staleAnswers;
        this.bypasses = counters.bypasses;
        this.evictions = counters.evictions;
        this.settings = settings;
        this.policy = new CachePolicy(settings, wallMillis);
        this.ticker = ticker;
        this.wallMillis = wallMillis;
        this.allocator = allocator;
        this.graceNanos = settings.staleGrace().toNanos();
        this.updatingNanos = settings.staleWhileUpdating().toNanos();
        this.coalescer = new Coalescer(timer, settings.coalesceTimeout(), counters.coalesced);
        long indexBytes = settings.maxBytes() >> VARY_INDEX_SHARE_SHIFT;
        long uncacheableBytes = settings.hitForMiss().isZero() ? 0 : settings.maxBytes() >> UNCACHEABLE_SHARE_SHIFT;
        this.cache = BufferCaches.boundedWithKeys(settings.maxBytes() - indexBytes - uncacheableBytes,
                (String key, StoredResponse stored) -> stored.weight(key) + variantIndexWeight(key), this::removed,
                evictions, new UsefulFor(), ticker, timer);
        this.varyIndex = Caffeine.newBuilder()
                .maximumWeight(indexBytes)
                .<String, List<String>>weigher((primary, names) -> varyIndexWeight(primary, names))
                .executor(Runnable::run)
                .build();
        this.uncacheable = uncacheableBytes == 0 ? null : Caffeine.newBuilder()
                .maximumWeight(uncacheableBytes)
                .<String, Boolean>weigher((primary, mark) -> 2 * primary.length() + UNCACHEABLE_OVERHEAD)
                .expireAfterWrite(settings.hitForMiss())
                .ticker(ticker)
                .executor(Runnable::run)
                .build();
        if (predecessor != null) {
            carryOver(predecessor);
        }
    }

    /**
     * Takes a reference to each answer {@code predecessor} stores that these settings would store too (not one with
     * Set-Cookie where that is no longer stored, nor one over the largest object size), with its Vary index; its
     * grace is read from these settings at each use. Past max-bytes, the cache evicts as it does any newcomer. An
     * answer the predecessor lets go meanwhile (evicted, purged) is not carried; one it invalidates or purges after
     * this is invalidated or purged here too, and one it stores after this is stored here too
     * ({@link #offerToSuccessors}).
     */
    private void carryOver(ResponseCache predecessor) {
        // Its requests still running (a POST begun before the reload) invalidate, purge and store here too: else the
        // copy carried here would answer on after the page changed
        predecessor.successor = this;
        predecessor.varyIndex.asMap().forEach(varyIndex::put);
        // beside what is there: an answer its requests stored since the line above came here first, and is newer
        predecessor.cache.asMap().forEach((key, stored) -> adopt(key, stored, false));
    }

    /**
     * Stores here too what a cache this one replaced stored under {@code key}, if these settings would store it: a
     * reference of its own to the same answer. Its Vary index comes with it ({@link #carryOver}) or before it
     * ({@link #offerToSuccessors}). {@code over}: it replaces what is stored under the key (a newer answer), and where
     * these settings refuse it, what is stored there goes (older, it would answer on); else it goes in only where
     * nothing is (a carry-over).
     */
    private void adopt(String key, StoredResponse stored, boolean over) {
        if (closed) {
            return;
        }
        if (!settings.storeSetCookie() && stored.headers.contains(HttpHeaderNames.SET_COOKIE)
                || stored.body.readableBytes() > settings.maxObjectSize()) {
            if (over) {
                cache.invalidate(key);
            }
            return;
        }
        try {
            stored.retain();
        } catch (IllegalReferenceCountException released) {
            return; // removed from the predecessor since it was listed
        }
        if (over) {
            if (cache.asMap().put(key, stored) == stored) {
                stored.release(); // here already (carried while it was stored): Caffeine removes nothing for it
            }
        } else if (cache.asMap().putIfAbsent(key, stored) != null) {
            stored.release();
            return;
        }
        if (closed) {
            cache.invalidate(key); // close() ran since the check above, its invalidateAll maybe first
            return;
        }
        int cut = key.indexOf(CachePolicy.VARIANT_SEPARATOR);
        if (cut >= 0 && cache.asMap().containsKey(key)) {
            variants.computeIfAbsent(key.substring(0, cut), url -> ConcurrentHashMap.newKeySet()).add(key);
        }
    }

    /**
     * What {@code change} does, done to each cache a reload made to replace this one, and to the one that replaced
     * that, on: a request begun before a reload ends after it, and what it learnt of its URL holds there too. Closed
     * ones in the chain (a generation retired before this one) are walked through.
     */
    private void inSuccessors(Consumer<ResponseCache> change) {
        for (ResponseCache next = successor; next != null; next = next.successor) {
            change.accept(next);
        }
    }

    /**
     * The scope that keeps the keys of {@code site} apart from every other site's, for the methods that take one:
     * equal sites (by {@code equals}) get the same scope from this cache and from the caches that replace it on a
     * reload. Where one host may be answered by two sites, as when sites listen on addresses of their own, each
     * site's requests are keyed in its scope: a request then shares entries and backend requests only with those the
     * same site answered. Short and made once per site, so a key grows by a few characters; where a host names one
     * site, the empty scope ({@link #lookup(HttpRequest)}) keeps keys as they were.
     */
    public String scope(Object site) {
        synchronized (scopes) {
            // a number, then the separator no host holds: it cannot be read as a host, nor one scope as another
            return scopes.computeIfAbsent(site, s -> String.valueOf(scopes.size()) + CachePolicy.HOST_SEPARATOR);
        }
    }

    /**
     * The scopes given so far ({@link #scope}) to the sites {@code which} takes, by this cache and by those it replaced:
     * those of sites a reload took away too, whose entries outlive them (and are found again if a later one brings
     * them back).
     */
    public List<String> scopes(Predicate<Object> which) {
        synchronized (scopes) {
            return scopes.entrySet().stream().filter(scoped -> which.test(scoped.getKey())).map(Map.Entry::getValue)
                    .toList();
        }
    }

    /**
     * The scope of the answers made for https requests of {@code scope} ({@link #scope}, or empty): a request that came
     * over TLS to a proxy in front that ended it is answered apart from one of the same URL that came by plain http (a
     * script's cacheable 301 to https, made for http, would send an https client round in a loop). A marker no host
     * holds ('/') and the separator: its keys are never read as another host's or another scope's, and http
     * requests keep the keys of {@code scope} as they were. A {@code PURGE} purges both.
     */
    public static String httpsScope(String scope) {
        return scope + "https://" + CachePolicy.HOST_SEPARATOR;
    }

    /** {@link #keyOf(String, HttpRequest)} in no scope. */
    public static String keyOf(HttpRequest request) {
        return keyOf(CachePolicy.NO_SCOPE, request);
    }

    /**
     * The key of a request in {@code scope} ({@link #scope}) without its variant part, as {@code PURGE} addresses it:
     * the scope, host, a separator that no host or target holds, then path and query.
     */
    public static String keyOf(String scope, HttpRequest request) {
        return CachePolicy.primaryKey(scope, request);
    }

    /**
     * True when {@code clientRequest} says {@code Cache-Control: only-if-cached}: it wants a stored response or none,
     * and a cache that has no fresh one for it answers 504 (RFC 9111 5.2.1.7) rather than ask the backend.
     */
    public static boolean onlyIfCached(HttpRequest clientRequest) {
        return CacheControl.of(clientRequest.headers()).onlyIfCached();
    }

    /**
     * Whether a script's answer with {@code headers} is to stream unbuffered, nginx's {@code X-Accel-Buffering: no}:
     * read as nginx reads it, the whole value, {@code no} in any case (anything else: buffered, the default). The server
     * reads the backend only as fast as the client takes it, and this cache stores no such answer.
     */
    public static boolean unbuffered(HttpHeaders headers) {
        return unbuffered(headers, true);
    }

    /**
     * As {@link #unbuffered(HttpHeaders)} where the answer is buffered as {@code buffering} says (a group's
     * response-buffer.enabled, nginx's fastcgi_buffering) unless the script says {@code no} or {@code yes}, in any
     * case; nginx's ngx_http_upstream_process_buffering reads no other value, and reads each line in turn: of several,
     * the last "no" or "yes" says it.
     */
    public static boolean unbuffered(HttpHeaders headers, boolean buffering) {
        for (String value : headers.getAll(X_ACCEL_BUFFERING)) {
            if ("no".equalsIgnoreCase(value)) {
                buffering = false;
            } else if ("yes".equalsIgnoreCase(value)) {
                buffering = true;
            }
        }
        return !buffering;
    }

    /**
     * Whether {@code backendResponse}'s head declares its body's length: a {@code Content-Length}, not chunked. nginx's
     * range filter ranges an upstream's answer only then, on a miss and on the hit of it alike: its cache keeps the
     * upstream's head as it came (measured beside php-fpm 8.2, fastcgi_cache: a script's 200 without a length, which
     * php-fpm never adds, is a whole 200 to a Range on the hit too).
     */
    public static boolean declaresLength(HttpResponse backendResponse) {
        return HttpUtil.isContentLengthSet(backendResponse) && !HttpUtil.isTransferEncodingChunked(backendResponse);
    }

    /** {@link #lookup(String, HttpRequest)} in no scope. */
    public Lookup lookup(HttpRequest clientRequest) {
        return lookup(CachePolicy.NO_SCOPE, clientRequest);
    }

    /**
     * Looks {@code clientRequest} up among the entries of {@code scope} ({@link #scope}); never blocks, never touches
     * the backend. Counted in {@link #stats()}. What follows from the lookup (its coalescing, recording, a lookup after
     * its flight) stays in its scope.
     */
    public Lookup lookup(String scope, HttpRequest clientRequest) {
        return lookup(scope, clientRequest, true, null);
    }

    /**
     * A {@link Lookup.Outcome#BYPASS} in {@code scope} decided outside the cache (a location's {@code bypass} texts,
     * nginx's fastcgi_cache_bypass), counted with the bypasses the cache decides itself, as nginx counts every
     * $upstream_cache_status BYPASS alike.
     */
    public Lookup bypassed(String scope) {
        return bypassed(scope, true);
    }

    /** A {@link Lookup.Outcome#BYPASS} in {@code scope}, counted where {@code count}. */
    private Lookup bypassed(String scope, boolean count) {
        count(bypasses, count);
        return new Lookup(this, scope, Lookup.Outcome.BYPASS, null, null, false, false);
    }

    /**
     * Looks {@code clientRequest} up once more after a flight it waited for (or led) ended, {@code first} being its
     * lookup before: not counted again, so that hits and misses count client requests. An entry whose answer came after
     * {@code first} was made (stored or revalidated by the flight) is {@link Lookup.Outcome#FRESH} to it, also where
     * every use needs a revalidation (no-cache, max-age=0 with a validator, an invalidation, the client's own no-cache):
     * the backend validated it after this request came, as it would have validated this request's own. Otherwise each
     * follower of such a URL revalidated again on its own once the flight ended (the cache audit: 22 script runs for 12
     * concurrent requests). Not an answer asked for before a purge of the URL that came before {@code first}: that
     * purge said the page changed since, and no request that came after it has the page from before as fresh. One asked
     * for before a purge that came after {@code first} answers it (both came while the page changed): so the requests
     * that waited for a fill a POST overtook answer from it ({@link #putOvertaken}), where each asked the backend again.
     */
    public Lookup lookupAfterFlight(HttpRequest clientRequest, Lookup first) {
        return lookup(first.scope, clientRequest, false, first);
    }

    /** {@code validatedFor}: a lookup before a flight, for {@link #lookupAfterFlight}; else null. */
    private Lookup lookup(String scope, HttpRequest clientRequest, boolean count, Lookup validatedFor) {
        if (policy.bypass(clientRequest)) {
            return bypassed(scope, count);
        }
        boolean head = HttpMethod.HEAD.equals(clientRequest.method());
        String primary = CachePolicy.primaryKey(scope, clientRequest);
        String key = storedKey(primary, clientRequest);
        StoredResponse stored = cache.getIfPresent(key);
        if (stored == null) {
            count(misses, count);
            return new Lookup(this, scope, Lookup.Outcome.MISS, key, null, head, isUncacheable(primary),
                    goesAlone(clientRequest, null));
        }
        if (clientRequest.headers().contains(HttpHeaderNames.AUTHORIZATION) && !stored.sharedWithAuthorization) {
            return bypassed(scope, count);
        }
        long now = ticker.read();
        boolean forced = policy.clientForcesRevalidation(clientRequest);
        if (!forced && stored.fresh(now)) {
            count(hits, count);
            return new Lookup(this, scope, Lookup.Outcome.FRESH, key, stored, head, false);
        }
        if (!forced && !stored.alwaysRevalidate && stored.staleness(now) < stored.staleWhileRevalidateNanos) {
            count(staleAnswers, count);
            return new Lookup(this, scope, Lookup.Outcome.STALE_WHILE_REVALIDATE, key, stored, head, false);
        }
        if (validatedFor != null && stored.receivedAt - validatedFor.madeAt > 0
                && stored.askedAsOf >= validatedFor.lastPurge) {
            count(hits, count);
            return new Lookup(this, scope, Lookup.Outcome.FRESH, key, stored, head, false);
        }
        count(misses, count);
        return new Lookup(this, scope, Lookup.Outcome.STALE, key, stored, head, isUncacheable(primary),
                goesAlone(clientRequest, stored));
    }

    /**
     * Whether a miss (or a stale entry, {@code stored}) of {@code clientRequest} goes to the backend {@link Lookup#alone()
     * alone}: its {@code no-store} keeps its answer out (RFC 9111 5.2.1.5), and with {@code Authorization} only a
     * {@code public}, {@code s-maxage} or {@code must-revalidate} answer may be stored (3.5), which nothing tells before
     * the answer comes but an entry that said so. Coalesced, such a request would lead a flight whose answer is refused
     * at its head, and every follower would then go to the backend on its own; nor is it worth a wait behind another's
     * answer, as a stale entry not shared with Authorization is {@link Lookup.Outcome#BYPASS bypassed}.
     */
    private static boolean goesAlone(HttpRequest clientRequest, StoredResponse stored) {
        return CacheControl.of(clientRequest.headers()).noStore()
                || clientRequest.headers().contains(HttpHeaderNames.AUTHORIZATION)
                        && (stored == null || !stored.sharedWithAuthorization);
    }

    private boolean isUncacheable(String primary) {
        return uncacheable != null && uncacheable.getIfPresent(primary) != null;
    }

    /**
     * Remembers the URL of {@code clientRequest} as uncacheable for {@code hitForMiss}: {@code backendResponse},
     * its answer, could not be stored (see the class comment). {@link #record} does it for answers the rules
     * refuse; callers do it for answers they do not record. An answer that varies ({@code Vary} names headers)
     * marks nothing: it speaks for its own variant only. {@code asked}: the lookup the request made, whose scope the
     * mark is in.
     */
    public void rememberUncacheable(Lookup asked, HttpRequest clientRequest, HttpResponse backendResponse) {
        rememberUncacheable(asked.scope, clientRequest, backendResponse);
    }

    /** {@link #rememberUncacheable(Lookup, HttpRequest, HttpResponse)} in {@code scope}. */
    void rememberUncacheable(String scope, HttpRequest clientRequest, HttpResponse backendResponse) {
        if (uncacheable == null) {
            return;
        }
        // A mark is per URL, and a varying answer says nothing of the URL's other variants: one private answer
        // with Vary: Cookie for a logged-in user would end coalescing for every anonymous visitor. Marks per
        // variant, as Varnish keeps them, are not the simpler way here: a lookup knows a URL's Vary only from a
        // stored answer, so until one is stored all its requests share a key (the Vary index would have to learn
        // from answers it does not store, and purges find marks per variant); and with Vary: Cookie nearly every
        // logged-in user is a variant of their own, whose mark is seldom met again. So a varying answer marks
        // nothing: concurrent misses of an uncacheable variant still coalesce, and wait only for the head of the
        // first answer, which lets them go (ResponseCacheGate). Vary: * (null) matches no request, and an answer
        // without Vary speaks for every request: both mark the URL.
        if (!speaksForItsVariantOnly(backendResponse)) {
            uncacheable.put(CachePolicy.primaryKey(scope, clientRequest), Boolean.TRUE);
        }
    }

    /**
     * Whether {@code backendResponse}'s {@code Vary} names request headers: it is the answer for requests with its
     * values of them, and says nothing of the URL's other variants. {@code Vary: *} matches no request and speaks for
     * every request, as no {@code Vary}.
     */
    public static boolean speaksForItsVariantOnly(HttpResponse backendResponse) {
        List<String> vary = CachePolicy.varyNames(backendResponse.headers());
        return vary != null && !vary.isEmpty();
    }

    private static void count(LongAdder counter, boolean count) {
        if (count) {
            counter.increment();
        }
    }

    /**
     * Joins the one backend request for {@code lookup}'s key (see {@link Coalescer}). The leader sends
     * {@link Lookup#backendRequest}, stores the answer, then calls {@code done()} ({@code failed()} when
     * there is none); followers look up again once it ended, and go themselves on TIMED_OUT or a MISS.
     */
    public Coalescer.Ticket coalesce(Lookup lookup) {
        return coalesce(lookup, true);
    }

    /**
     * As {@link #coalesce(Lookup)}; {@code count}: false for a request that waits a second time (a follower of a URL's
     * first fill that turned out another variant), already counted among the coalesced.
     */
    public Coalescer.Ticket coalesce(Lookup lookup, boolean count) {
        return coalesce(lookup, count, 0);
    }

    /**
     * As {@link #coalesce(Lookup, boolean)} for a request that waited {@code waitedNanos} for earlier flights already: a
     * follower waits for what is left of {@code coalesce-timeout} at most ({@link Coalescer#join(String, boolean, long)}).
     */
    public Coalescer.Ticket coalesce(Lookup lookup, boolean count, long waitedNanos) {
        if (lookup.key() == null || lookup.alone()) {
            throw new IllegalArgumentException("a bypassed request, or one that goes alone, is not coalesced: " + lookup);
        }
        return coalescer.join(lookup.key(), count, waitedNanos);
    }

    Coalescer coalescer() {
        return coalescer;
    }

    /**
     * Whether {@code seen} is still the entry under {@code key}: a refresh stores a new entry (a 304 merges into
     * a new one too) before it ends its flight, so a lookup that saw the old one cannot lead another refresh.
     */
    boolean isCurrent(String key, StoredResponse seen) {
        return cache.getIfPresent(key) == seen;
    }

    /**
     * Starts recording {@code backendResponse} (the head; the body follows through the recorder) if it may
     * be stored as the answer to {@code clientRequest}; {@code null} when it may not. An answer that no
     * request could have stored (its status, directives, cookies, size...; not a 5xx, nor one that varies) marks
     * its URL uncacheable for {@code hitForMiss} ({@link Lookup#uncacheable()}); a refusal owed to the request
     * alone (its {@code no-store} or {@code Authorization}) does not. An answer that names no lifetime is kept for the
     * one configured for its status ({@code valid}, {@link CachePolicy#validSeconds}).
     * The head is stored as it is now, dated now if it has no {@code Date}: fields the caller adds once it sends
     * {@code backendResponse} on (a location's {@code headers}) are not the backend's, and are added again to every hit.
     */
    public ResponseRecorder record(HttpRequest clientRequest, HttpResponse backendResponse) {
        // asked now: a purge before is not seen
        return record(CachePolicy.NO_SCOPE, clientRequest, backendResponse, purgeMarks.now());
    }

    /**
     * As {@link #record(HttpRequest, HttpResponse)} for the answer to a request {@code asked} led to (a fill, a
     * refresh): where its URL is purged or invalidated after that lookup, before the answer is stored (the script read
     * the old page while the purge came), the answer is not stored (see {@link PurgeMarks}).
     */
    public ResponseRecorder record(Lookup asked, HttpRequest clientRequest, HttpResponse backendResponse) {
        return record(asked.scope, clientRequest, backendResponse, asked.asOf);
    }

    /**
     * Whether {@code backendResponse} is an answer this cache stores by its own fields, whatever keeps it out this time:
     * its size (past {@code max-object-size}, edge's own bound), its buffering (X-Accel-Buffering: no, or the group's
     * buffering off, which nginx learns only after it judged the answer cacheable at its head), or the request it
     * answers (its {@code no-store}, its {@code Authorization} where the answer does not say {@code public}: nginx's
     * cache reads neither, measured: it stores and ranges such an answer). What nginx's cache takes as cacheable, the
     * answers its range filter ranges on a miss. Not whether there is room, nor whether a purge came since it was asked.
     */
    public boolean storableByItsHead(HttpResponse backendResponse) {
        HttpResponse unsized = new DefaultHttpResponse(backendResponse.protocolVersion(), backendResponse.status(),
                backendResponse.headers().copy().remove(HttpHeaderNames.CONTENT_LENGTH).remove(X_ACCEL_BUFFERING));
        CacheControl cc = CacheControl.of(unsized.headers());
        return policy.storableResponse(unsized, cc, policy.validSeconds(unsized, cc));
    }

    private ResponseRecorder record(String scope, HttpRequest clientRequest, HttpResponse backendResponse,
            long askedAsOf) {
        CacheControl cc = CacheControl.of(backendResponse.headers());
        if (settings.maxBytes() == 0) {
            return null;
        }
        long valid = policy.validSeconds(backendResponse, cc);
        if (!policy.storable(clientRequest, backendResponse, cc, valid)) {
            // A 304 (to a hit-for-miss pass-through, which carries the client's validators) says nothing of whether
            // the backend's 200 could be stored now: it leaves the mark to run out, or to end at a storable answer.
            int status = backendResponse.status().code();
            if (status < 500 && status != 304 && !policy.storableResponse(backendResponse, cc, valid)) {
                rememberUncacheable(scope, clientRequest, backendResponse);
                forgetStored(scope, clientRequest);
            }
            return null;
        }
        Receipt receipt = receipt();
        if (valid <= 0 && uselessWhenStored(backendResponse.headers(), cc, receipt)) {
            rememberUncacheable(scope, clientRequest, backendResponse);
            forgetStored(scope, clientRequest);
            return null;
        }
        int max = (int) settings.maxObjectSize();
        int contentLength = backendResponse.headers().getInt(HttpHeaderNames.CONTENT_LENGTH, -1);
        int initial = contentLength >= 0 ? contentLength : Math.min(max, 4096);
        // The recorder owns this buffer until finish() hands it to put() or close() releases it.
        // A copy: a streamed answer's head goes to the client, and gains edge's fields, before the body is recorded.
        HttpResponse received = new DefaultHttpResponse(backendResponse.protocolVersion(), backendResponse.status(),
                backendResponse.headers().copy());
        if (!received.headers().contains(HttpHeaderNames.DATE)) {
            // RFC 9110 6.6.1: cached without a Date (PHP sends none), a message is dated when received; else every
            // hit would be dated when sent, younger than its Age says.
            received.headers().set(HttpHeaderNames.DATE, DateFormatter.format(new Date(receipt.wallMillis())));
        }
        ByteBuf body;
        try {
            body = allocator.directBuffer(initial, max);
        } catch (OutOfMemoryError e) {
            noRoom();
            return null;
        }
        return new ResponseRecorder(this, scope, clientRequest, received, receipt, askedAsOf, cc, valid, body, max);
    }

    /**
     * No direct memory for a copy of an answer: it goes to its client and is not stored. The caches are held to half of
     * the direct memory limit at the start, so the rest (requests, files, backends' answers) takes it: said once a
     * minute at most, with how many more there were.
     */
    void noRoom() {
        long missed = noRoom.incrementAndGet();
        long now = System.nanoTime();
        long last = lastNoRoomWarning;
        if (last == 0 || now - last >= NO_ROOM_WARNING_PERIOD_NANOS) {
            lastNoRoomWarning = now;
            noRoom.addAndGet(-missed);
            LOG.warn("response cache: no direct memory left for a copy of an answer; {} answer(s) passed on unstored"
                    + " (the JVM's limit: -XX:MaxDirectMemorySize, else -Xmx)", missed);
        }
    }

    /**
     * Stores a complete backend response if it may be stored; copies its content, so the caller keeps (and
     * still releases) {@code backendResponse}.
     */
    public boolean store(HttpRequest clientRequest, FullHttpResponse backendResponse) {
        try (ResponseRecorder recorder = record(clientRequest, backendResponse)) {
            return recorder != null && recorder.append(backendResponse.content()) && recorder.finish();
        }
    }

    /**
     * Takes ownership of {@code body}: it becomes the entry's reference (a copy of its exact size where it was
     * allocated larger: a body recorded without {@code Content-Length} grew by doubling, and the bound counts what
     * is held). {@code receipt}: when its head came. After {@link #close} it is released and nothing is stored.
     */
    boolean put(String scope, HttpRequest clientRequest, HttpResponse backendResponse, Receipt receipt, long askedAsOf,
            CacheControl cc, long valid, ByteBuf body) {
        String primary = CachePolicy.primaryKey(scope, clientRequest);
        if (closed) {
            body.release();
            return false;
        }
        ByteBuf exact = exactSize(body);
        List<String> vary = CachePolicy.varyNames(backendResponse.headers());
        String key = CachePolicy.variantKey(primary, vary, clientRequest.headers());
        HttpHeaders headers = storedHeaders(backendResponse.headers(), exact.readableBytes());
        String accel = CachePolicy.accelExpiresField(backendResponse.headers());
        String limitRate = limitRateLine(backendResponse.headers().getAll(X_ACCEL_LIMIT_RATE));
        HttpHeaders accelFields = accelFields(backendResponse.headers(), null);
        boolean overtaken = purgeMarks.purgedSince(primary, askedAsOf);
        StoredResponse left = overtaken ? cache.policy().getIfPresentQuietly(key) : null;
        StoredResponse stored = entry(backendResponse.status(), headers, backendResponse.headers(), receipt, cc,
                accel, limitRate, accelFields, valid, askedAsOf, overtaken, left, exact,
                declaresLength(backendResponse));
        if (overtaken) {
            return putOvertaken(primary, vary, key, askedAsOf, stored, left);
        }
        indexStorable(primary, vary);
        cache.put(key, stored);
        if (closed) {
            // close() ran since the check above: its invalidateAll may have come before this put
            cache.invalidate(key);
            return false;
        }
        if (!vary.isEmpty()) {
            indexVariant(primary, key);
        }
        offerToSuccessors(primary, vary, key, stored);
        if (purgeMarks.purgedSince(primary, askedAsOf)) {
            // A purge since the check above marks before it removes, here and in the caches that replaced this one:
            // its removal may have come before this answer was stored here or there. Checked once it is stored
            // everywhere, so that a purge is either seen here or removes what was stored.
            drop(key, stored);
            return false;
        }
        return true;
    }

    /**
     * Stores an answer whose URL was purged or invalidated after it was asked for (the script may have read the page
     * before the change; a POST that comes during every fill of its URL makes every fill one): in need of a
     * revalidation before any use, so that no request that came after the purge has it as fresh; but the requests that
     * waited for it since before the purge answer from it ({@link #lookupAfterFlight}), where they would each have asked
     * the backend again, one behind another, for as long as the POSTs came; and with validators, the next request asks
     * for it conditionally. It takes the place of what the purge left, with no more use than that had: where a removal
     * left nothing, it never answers stale, not even when the backend fails; where an invalidation marked a copy, it
     * answers only once revalidated, or on errors as that copy would have; where a PURGE marked one, stale while
     * revalidated too, as that copy would have (each for that copy's window, from the purge). Not over an entry asked
     * for later, nor over a fresh one (no purge marked it) (a fill that began after the purge and ended
     * first), nor carried to the caches that replaced this one on a reload (their requests came later). A 304 that
     * revalidated a copy is stored so too ({@link #revalidated}). Takes ownership of {@code overtaken}, the entry
     * {@link #entry} made of the answer given {@code old}, what the purge left under {@code key} (or null), read from
     * the cache once the purge was seen.
     *
     * @return false: stored or not, nothing later requests may have as fresh was
     */
    private boolean putOvertaken(String primary, List<String> vary, String key, long askedAsOf,
            StoredResponse overtaken, StoredResponse old) {
        // Nor over a fresh one: no purge marked it (a marked copy is stale), so no purge reached it since it was stored:
        // a fill's that stored it past a purge its check missed (its own check after drops it), or its URL's purge was
        // by prefix, of other URLs. Inheriting its use, the overtaken answer answered stale though a removal left none.
        if (old != null && (old.askedAsOf > askedAsOf || old.fresh(ticker.read()))) {
            overtaken.release(); // never cached: still ours, and its body with it
            return false;
        }
        indexStorable(primary, vary);
        // Only in the place of what it saw: a store or a purge since wins
        boolean stored = old == null ? cache.asMap().putIfAbsent(key, overtaken) == null
                : cache.asMap().replace(key, old, overtaken);
        if (!stored) {
            overtaken.release(); // never cached: still ours, and its body with it
        } else if (closed) {
            cache.invalidate(key); // close() ran since put() checked: its invalidateAll may have come before this
        } else if (!vary.isEmpty()) {
            indexVariant(primary, key);
        }
        return false;
    }

    /** A storable answer for {@code primary} that varies by {@code vary} (maybe none) comes: the indexes learn it. */
    private void indexStorable(String primary, List<String> vary) {
        if (uncacheable != null) {
            uncacheable.invalidate(primary); // storable again: its misses coalesce from now on
        }
        if (vary.isEmpty()) {
            varyIndex.invalidate(primary);
        } else {
            varyIndex.put(primary, List.copyOf(vary));
        }
    }

    /** {@code key}, a variant of {@code primary}, was just stored: the variant index knows it while it is there. */
    private void indexVariant(String primary, String key) {
        variants.compute(primary, (url, keys) -> {
            // Not an entry already gone: evicted by its own put (a full cache turns away a newcomer), or by
            // another thread since, its removal ran before this and would not forget it (serialised on url).
            Set<String> known = keys != null ? keys : ConcurrentHashMap.newKeySet();
            if (cache.asMap().containsKey(key)) {
                known.add(key);
            }
            return known.isEmpty() ? null : known;
        });
    }

    /**
     * Stores {@code stored} in the caches reloads made to replace this one ({@link #inSuccessors}): its answer, newer
     * than the copy carried over, is the one to keep there; where their settings refuse it, the older copy goes.
     */
    private void offerToSuccessors(String primary, List<String> vary, String key, StoredResponse stored) {
        inSuccessors(next -> {
            if (next.uncacheable != null) {
                next.uncacheable.invalidate(primary);
            }
            if (vary.isEmpty()) {
                next.varyIndex.invalidate(primary);
            } else {
                next.varyIndex.put(primary, List.copyOf(vary));
            }
            next.adopt(key, stored, true);
        });
    }

    /** Drops {@code old} from under {@code key}, here and where it was carried over to, if it is still there. */
    private void drop(String key, StoredResponse old) {
        cache.asMap().remove(key, old);
        inSuccessors(next -> next.cache.asMap().remove(key, old));
    }

    /** The removal listener: gives the cache's reference back, and forgets a variant key that is gone. */
    private void removed(String key, StoredResponse stored) {
        stored.release();
        int cut = key.indexOf(CachePolicy.VARIANT_SEPARATOR);
        if (cut < 0) {
            return;
        }
        variants.computeIfPresent(key.substring(0, cut), (url, keys) -> {
            // A replaced entry, or one stored again since, is still there: its key stays known.
            if (!cache.asMap().containsKey(key)) {
                keys.remove(key);
            }
            return keys.isEmpty() ? null : keys;
        });
    }

    private ByteBuf exactSize(ByteBuf body) {
        int length = body.readableBytes();
        if (body.capacity() == length) {
            return body;
        }
        ByteBuf exact;
        try {
            exact = allocator.directBuffer(length, length);
        } catch (OutOfMemoryError e) {
            return body; // no direct memory for the copy now: stored as it was recorded, counted at its capacity
        }
        try {
            return exact.writeBytes(body, body.readerIndex(), length);
        } finally {
            body.release();
        }
    }

    /**
     * The copy stored for {@code clientRequest}'s variant, if any, is forgotten: the backend has just answered it
     * with something the cache may not keep (private, stale on arrival...), which replaces it; else a stale copy
     * would go on answering (stale-while-revalidate, the grace on errors) after the origin moved on.
     */
    private void forgetStored(String scope, HttpRequest clientRequest) {
        String primary = CachePolicy.primaryKey(scope, clientRequest);
        cache.invalidate(storedKey(primary, clientRequest));
        inSuccessors(next -> next.cache.invalidate(next.storedKey(primary, clientRequest)));
    }

    /**
     * The key {@code clientRequest}'s answer is stored under: its URL's ({@code primary}), and its values of the
     * fields the URL's answers named in Vary, as far as the Vary index remembers them.
     */
    private String storedKey(String primary, HttpRequest clientRequest) {
        List<String> vary = varyIndex.getIfPresent(primary);
        return vary == null ? primary : CachePolicy.variantKey(primary, vary, clientRequest.headers());
    }

    /**
     * Whether an answer would be stale the moment it is stored (max-age=0, an Expires already past, an Age over its
     * lifetime, or no-cache) with nothing to revalidate it by (no ETag, no Last-Modified) and no word from the origin
     * that it may be served stale (stale-while-revalidate, stale-if-error): every request would go to the backend
     * anyway, after waiting for it as a follower. As nginx, such an answer is not stored; its URL is hit-for-miss.
     * Its {@code Date} plays no part but beside {@code Expires} (see {@link CachePolicy#initialAge}).
     */
    private static boolean uselessWhenStored(HttpHeaders headers, CacheControl cc, Receipt receipt) {
        if (headers.contains(HttpHeaderNames.ETAG) || headers.contains(HttpHeaderNames.LAST_MODIFIED)
                || cc.staleWhileRevalidate() > 0 || cc.staleIfError() > 0) {
            return false;
        }
        long wall = receipt.wallMillis();
        long accel = CachePolicy.accelExpires(CachePolicy.accelExpiresField(headers), wall);
        if (accel > 0) {
            return false; // the script's word to this cache, over no-cache and max-age
        }
        return cc.noCache() || CachePolicy.freshnessLifetime(headers, cc, wall, accel) <= CachePolicy.initialAge(headers);
    }

    /**
     * The one of a backend's {@code X-Accel-Limit-Rate} lines ({@code lines}, as they came) that sets the pace: nginx
     * 1.22's upstream reads each line as it comes, and each that is a number sets the pace over the lines before
     * (ngx_http_upstream_process_limit_rate), so the last that is a number ({@code 1000} of "1000", "abc"; {@code 0}
     * of "1000", "0"), on a miss and on its cache's hits alike (measured); with none a number, the last, for the pacer
     * to ignore; null for no line. The cache keeps every line beside the entry ({@link #ACCEL_FIELDS}) and this one
     * for its hits' pace.
     */
    public static String limitRateLine(List<String> lines) {
        String taken = null;
        for (String line : lines) {
            if (taken == null || isLimitRate(line) || !isLimitRate(taken)) {
                taken = line;
            }
        }
        return taken;
    }

    /** Whether {@code header} is an X-Accel-Limit-Rate a hit would pace by: bytes a second, 0 (none) included. */
    private static boolean isLimitRate(String header) {
        if (header == null) {
            return false;
        }
        try {
            return Long.parseLong(header.strip()) >= 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * {@code received}: the backend's message as it came, for its {@code Age}; {@code receipt}: when its head came
     * (RFC 9111 4.2.3's response_time; not when its body ended, which would age it by the seconds the body took);
     * {@code xAccelExpires}: the script's word to this cache, or null; {@code xAccelLimitRate}: the script's pace of
     * the answer, kept for every use, or null; {@code valid}: the seconds the settings keep an
     * answer that says nothing of its lifetime ({@link CachePolicy#validSeconds}), or {@link
     * CachePolicy#NO_ACCEL_EXPIRES}; {@code askedAsOf}: when it was asked for, on the purges' clock; {@code overtaken}:
     * its URL was purged since, and {@code left} is what the purge left under its key, or null ({@link #putOvertaken});
     * {@code lengthDeclared}: the backend's head declared the body's length ({@link #declaresLength}).
     */
    private StoredResponse entry(HttpResponseStatus status, HttpHeaders headers, HttpHeaders received, Receipt receipt,
            CacheControl cc, String xAccelExpires, String xAccelLimitRate, HttpHeaders accelFields, long valid,
            long askedAsOf, boolean overtaken, StoredResponse left, ByteBuf body, boolean lengthDeclared) {
        long wall = receipt.wallMillis();
        long accel = CachePolicy.accelExpires(xAccelExpires, wall);
        long lifetime = valid > 0 ? valid : CachePolicy.freshnessLifetime(headers, cc, wall, accel);
        long bornAt = receipt.ticks() - seconds(CachePolicy.initialAge(received));
        // With X-Accel-Expires the script has told this cache its time itself, and its Cache-Control is for browsers
        // (nginx's idiom: X-Accel-Expires: 60 beside no-cache or max-age=0, must-revalidate): as nginx then reads
        // none of Cache-Control, nothing there keeps a stale copy from answering when php-fpm fails.
        boolean toBrowsers = accel > 0;
        boolean staleForbidden = !toBrowsers && (cc.noCache() || cc.mustRevalidate() || cc.proxyRevalidate());
        // An overtaken answer has no more use on errors than what the purge left ({@link #putOvertaken})
        boolean onErrors = !staleForbidden && (!overtaken || left != null && usableOnError(left));
        long onError = seconds(Math.max(0, cc.staleIfError()));
        // RFC 9111 5.2.2.10: s-maxage is proxy-revalidate to a shared cache, so the grace, this cache's own choice,
        // stays out; the origin's explicit stale-if-error next to it still counts (see CachePolicy).
        boolean graceApplies = toBrowsers || cc.sMaxAge() < 0;
        // X-Accel-Expires counts from receipt, as nginx sets its valid time (now plus the seconds, or the instant
        // itself), not from when the answer was made: an Age the script sends would otherwise shorten it.
        long freshUntil = saturatedAdd(accel > 0 || valid > 0 ? receipt.ticks() : bornAt, seconds(lifetime));
        boolean alwaysRevalidate = cc.noCache() && accel <= 0 || overtaken && (left == null || left.alwaysRevalidate);
        long whileRevalidated = Math.max(seconds(Math.max(0, cc.staleWhileRevalidate())),
                graceApplies ? updatingNanos : 0);
        if (overtaken) {
            // Stale from the start, as an invalidation leaves one; where a purge marked a copy, stale since it did, and
            // stale while revalidated or on errors for that copy's windows: as long after the purge as that copy, not
            // as long again after the answer came
            freshUntil = Math.min(Math.min(freshUntil, receipt.ticks()), left == null ? Long.MAX_VALUE : left.freshUntil);
            whileRevalidated = left == null ? 0 : left.staleWhileRevalidateNanos;
            onError = left == null ? 0 : left.staleIfErrorNanos;
            graceApplies = left != null && left.graceApplies;
        }
        return new StoredResponse(status, headers, body, bornAt, receipt.ticks(), askedAsOf, freshUntil,
                staleForbidden ? 0 : whileRevalidated, onErrors ? onError : 0, onErrors && graceApplies,
                alwaysRevalidate, staleForbidden, CachePolicy.sharedWithAuthorization(cc),
                headers.get(HttpHeaderNames.ETAG), headers.get(HttpHeaderNames.LAST_MODIFIED), xAccelExpires,
                xAccelLimitRate, accelFields, lengthDeclared);
    }

    /**
     * The {@link #ACCEL_FIELDS} lines of {@code received} as they came, for {@link StoredResponse#accelFields}; where
     * {@code kept} (an entry's, renewed by the 304 {@code received}), its lines of each name {@code received} has none of.
     * None: one empty set shared by all such entries (most), not an empty map of fields each, which their weight
     * would not count.
     */
    private static HttpHeaders accelFields(HttpHeaders received, HttpHeaders kept) {
        HttpHeaders fields = null;
        for (String name : ACCEL_FIELDS) {
            List<String> lines = received.getAll(name);
            if (lines.isEmpty() && kept != null) {
                lines = kept.getAll(name);
            }
            if (!lines.isEmpty()) {
                if (fields == null) {
                    fields = new DefaultHttpHeaders();
                }
                fields.add(name, lines);
            }
        }
        return fields == null ? EmptyHttpHeaders.INSTANCE : fields;
    }

    private static int varyIndexWeight(String primary, List<String> names) {
        int weight = 2 * primary.length() + VARY_INDEX_OVERHEAD;
        for (String name : names) {
            weight += 2 * name.length() + 48;
        }
        return weight;
    }

    private static int variantIndexWeight(String key) {
        int cut = key.indexOf(CachePolicy.VARIANT_SEPARATOR);
        return cut < 0 ? 0 : 2 * cut + VARIANT_INDEX_OVERHEAD;
    }

    /** When a backend's head came: on the cache's ticker, for ages, and on the wall clock, for dates. */
    record Receipt(long ticks, long wallMillis) {
    }

    private Receipt receipt() {
        return new Receipt(ticker.read(), wallMillis.getAsLong());
    }

    private static long seconds(long seconds) {
        return seconds * NANOS_PER_SECOND; // at most 2^31 s: no overflow
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    private static HttpHeaders storedHeaders(HttpHeaders backend, int bodyLength) {
        HttpHeaders headers = STORED_FIELDS.newHeaders();
        List<String> connectionOptions = new ArrayList<>();
        for (String option : backend.getAll(HttpHeaderNames.CONNECTION)) {
            for (String name : option.split(",")) {
                connectionOptions.add(name.strip().toLowerCase(Locale.ROOT));
            }
        }
        for (var field : backend) {
            String name = field.getKey().toLowerCase(Locale.ROOT);
            if (!NOT_STORED.contains(name) && !connectionOptions.contains(name)) {
                headers.add(field.getKey(), field.getValue());
            }
        }
        headers.set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);
        return headers;
    }

    /**
     * Merges a backend's 304 into the entry {@code lookup} found (RFC 9111 4.3.4): its fields replace the
     * stored ones ({@code Date} too, set to now when the 304 has none; its {@code X-Accel-Expires} and {@code
     * X-Accel-Limit-Rate} the script's kept ones, which stay where it has none), freshness and age are computed again
     * from them, the body stays. Returns the updated response for the client,
     * owned by the caller, or {@code null} when the entry was evicted meanwhile (then the caller asks the
     * backend again, unconditionally). If the merged fields no longer allow storing, the entry is dropped
     * and the response still answers this request. A 304 whose validators name another version than the entry's
     * (a new ETag: the script changed it between the entry and now) updates nothing (RFC 9111 4.3.4: it MUST NOT):
     * the entry is dropped and {@code null} returned, so the body stored is never sent under the new version's
     * validator. A 304 its URL's purge or invalidation overtook (asked for before it) renews the entry as an overtaken
     * fill's answer is stored ({@link #putOvertaken}): for the requests that waited for it since before the purge.
     */
    public CachedResponse revalidated(Lookup lookup, HttpResponse notModified) {
        if (notModified.status().code() != 304 || lookup.stored == null) {
            throw new IllegalArgumentException("revalidated() needs a 304 and a lookup with an entry: "
                    + notModified.status() + ", " + lookup);
        }
        StoredResponse old = lookup.stored;
        if (!selects(notModified.headers(), old.headers)) {
            drop(lookup.key(), old);
            return null;
        }
        ByteBuf body = retainedBody(old); // the new entry's reference, or this answer's
        if (body == null) {
            return null;
        }
        HttpHeaders merged = STORED_FIELDS.newHeaders().set(old.headers);
        for (String name : notModified.headers().names()) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!NOT_UPDATED.contains(lower) && !NOT_STORED.contains(lower)) {
                merged.set(name, notModified.headers().getAll(name));
            }
        }
        Receipt receipt = receipt();
        if (!notModified.headers().contains(HttpHeaderNames.DATE)) {
            // RFC 9110 6.6.1: a message cached without a Date is dated when received. The old Date would
            // contradict the new Age, and Expires minus it would give the entry its old lifetime once more.
            merged.set(HttpHeaderNames.DATE, DateFormatter.format(new Date(receipt.wallMillis())));
        }
        CacheControl cc = CacheControl.of(merged);
        // A 304's X-Accel-Expires replaces the entry's, as its Cache-Control does; without one nginx could read, the
        // script's word when it stored the answer still holds.
        String renewedAccel = CachePolicy.accelExpiresField(notModified.headers());
        String accel = renewedAccel != null ? renewedAccel : old.xAccelExpires;
        // So does its X-Accel-Limit-Rate (0 for none from here on); without one, or with one that is no number or is
        // negative (a hit would ignore it, as nginx does, and fall back to the location's), the pace it was stored
        // with holds.
        String renewedRate = limitRateLine(notModified.headers().getAll(X_ACCEL_LIMIT_RATE));
        String limitRate = isLimitRate(renewedRate) ? renewedRate : old.xAccelLimitRate;
        // Without one, the settings' valid for an answer that still says nothing of its lifetime (the 304 may say
        // something now), as they are now (a reload may have changed them since it was stored).
        HttpResponse renewal = new DefaultHttpResponse(HttpVersion.HTTP_1_1, old.status, merged);
        long valid = accel == null ? policy.validSeconds(renewal, cc) : CachePolicy.NO_ACCEL_EXPIRES;
        // The request that made the entry passed the request-side rules; only the response side can change.
        HttpHeaders accelFields = accelFields(notModified.headers(), old.accelFields);
        if (policy.storableResponse(renewal, cc, accel, valid)) {
            String primary = primaryOf(lookup.key());
            // A purge marked the entry stale (or removed it) while the backend said it was not modified: the backend
            // answered for the page before the purge, which says it changed. Renewed as an overtaken fill's answer is
            // stored, for the requests that waited for it since before the purge ({@link #putOvertaken}).
            boolean overtaken = purgeMarks.purgedSince(primary, lookup.asOf);
            StoredResponse left = overtaken ? cache.policy().getIfPresentQuietly(lookup.key()) : null;
            StoredResponse renewed = entry(old.status, merged, notModified.headers(), receipt, cc, accel, limitRate,
                    accelFields, valid, lookup.asOf, overtaken, left, body, old.lengthDeclared); // owns body
            CachedResponse answer = toResponse(renewed, lookup.head); // before the entry can be evicted
            if (overtaken) {
                putOvertaken(primary, CachePolicy.varyNames(merged), lookup.key(), lookup.asOf, renewed, left);
            } else if (!cache.asMap().replace(lookup.key(), old, renewed)) {
                renewed.release(); // lost to a concurrent store or purge: never cached, so still ours
            } else {
                // the copy carried over to a cache that replaced this one is renewed there too
                inSuccessors(next -> {
                    try {
                        renewed.retain();
                    } catch (IllegalReferenceCountException evicted) {
                        return;
                    }
                    if (!next.cache.asMap().replace(lookup.key(), old, renewed)) {
                        renewed.release();
                    }
                });
                if (purgeMarks.purgedSince(primary, lookup.asOf)) {
                    // A purge since the check above, which marks the URL before it marks its entries stale or
                    // removes them: where it marked the old entry after this replaced it, the renewed one is left as
                    // it would have left the old one, stale (a removal removes the renewed one itself), and in need of
                    // a revalidation before any use, as an invalidation leaves it: whether the purge was one, its
                    // mark on the old entry may not be written yet. At most one revalidation more; stale-if-error holds.
                    renewed.alwaysRevalidate = true;
                    renewed.freshUntil = Math.min(renewed.freshUntil, ticker.read());
                }
            }
            return answer;
        }
        drop(lookup.key(), old);
        HttpHeaders out = STORED_FIELDS.newHeaders().set(merged).set(HttpHeaderNames.AGE, 0);
        if (lookup.head) {
            body.release();
            body = Unpooled.EMPTY_BUFFER;
        }
        // The caller owns body from here.
        return new CachedResponse(old.status, body, out, limitRate, accelFields, old.lengthDeclared);
    }

    /**
     * Whether a 304's validators select the stored response (RFC 9111 4.3.4): its strong ETag the stored one, a weak
     * one by weak comparison; without an ETag, its Last-Modified the same time as the stored one; with neither, the
     * one stored response there is.
     */
    static boolean selects(HttpHeaders notModified, HttpHeaders stored) {
        String etag = notModified.get(HttpHeaderNames.ETAG);
        if (etag != null) {
            String storedTag = stored.get(HttpHeaderNames.ETAG);
            if (storedTag == null) {
                return false;
            }
            return etag.startsWith("W/") ? opaque(etag).equals(opaque(storedTag)) : etag.equals(storedTag);
        }
        String lastModified = notModified.get(HttpHeaderNames.LAST_MODIFIED);
        if (lastModified != null) {
            String storedDate = stored.get(HttpHeaderNames.LAST_MODIFIED);
            if (storedDate == null) {
                return false;
            }
            Date mine = HttpDates.parse(lastModified);
            Date theirs = HttpDates.parse(storedDate);
            return mine != null && theirs != null ? mine.equals(theirs) : lastModified.equals(storedDate);
        }
        return true;
    }

    /** An entity tag without its weakness indicator. */
    private static String opaque(String etag) {
        return etag.startsWith("W/") ? etag.substring(2) : etag;
    }

    CachedResponse toResponse(StoredResponse stored, boolean head) {
        ByteBuf body = head ? Unpooled.EMPTY_BUFFER : retainedBody(stored);
        if (body == null) {
            return null;
        }
        HttpHeaders headers = STORED_FIELDS.newHeaders().set(stored.headers)
                .set(HttpHeaderNames.AGE, stored.ageSeconds(ticker.read()));
        // The caller owns body (a retained duplicate) from here.
        return new CachedResponse(stored.status, body, headers, stored.xAccelLimitRate, stored.accelFields,
                stored.lengthDeclared);
    }

    /**
     * How long from {@code now} (on the ticker) {@code stored} is kept: while it may still answer, fresh, stale while
     * revalidated, or on error (its own stale-while-revalidate and stale-if-error, the configured grace and
     * stale-while-updating, whichever is longest: this cache's grace; a reload's cache weighs what it carries over by
     * its own), and {@link #UNUSABLE_KEPT_NANOS} more; and that long at least after each time it is stored or asked
     * for, as nginx's {@code inactive} counts from a file's last use. Past that, an answer without validators is of no
     * use (a request for it goes to the backend as on a miss), and goes, so that its room takes a new answer without a
     * contest: else a cache full of such answers turned most new ones away (W-TinyLFU keeps what was used more often,
     * whether it can still answer or not). One with an ETag or a Last-Modified stays, to be revalidated (a 304 instead
     * of the whole page), until W-TinyLFU evicts it.
     */
    private long usefulFor(StoredResponse stored, long now) {
        if (stored.etag != null || stored.lastModified != null) {
            return Long.MAX_VALUE;
        }
        long onError = stored.staleForbidden ? 0
                : Math.max(stored.staleIfErrorNanos, stored.graceApplies ? graceNanos : 0);
        long usable = Math.max(stored.staleWhileRevalidateNanos, onError);
        long freshFor = stored.freshUntil - now;
        if (freshFor > Long.MAX_VALUE - usable - UNUSABLE_KEPT_NANOS) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, freshFor + usable) + UNUSABLE_KEPT_NANOS;
    }

    /**
     * The entries' lives ({@link #usefulFor}) for Caffeine: set again at each store and each request for one, so that
     * one still asked for (its backend failing: a request for it answered EXPIRED) stays, as nginx keeps such a file.
     */
    private final class UsefulFor implements Expiry<String, StoredResponse> {
        @Override
        public long expireAfterCreate(String key, StoredResponse stored, long now) {
            return usefulFor(stored, now);
        }

        @Override
        public long expireAfterUpdate(String key, StoredResponse stored, long now, long remaining) {
            return usefulFor(stored, now);
        }

        @Override
        public long expireAfterRead(String key, StoredResponse stored, long now, long remaining) {
            return usefulFor(stored, now);
        }
    }

    boolean usableOnError(StoredResponse stored) {
        if (stored.staleForbidden) {
            return false;
        }
        // How far past freshness, negative while still fresh (looked up stale only because a client's no-cache
        // forced a revalidation): a fresh entry always answers, a stale one within its window.
        long usable = Math.max(stored.staleIfErrorNanos, stored.graceApplies ? graceNanos : 0);
        return ticker.read() - stored.freshUntil < usable;
    }

    CachedResponse staleAnswer(CachedResponse response) {
        if (response != null) {
            staleAnswers.increment();
        }
        return response;
    }

    /**
     * A retained duplicate of {@code stored}'s body, or {@code null} when the entry was removed and released
     * since it was looked up. The entry, not its body, is retained first: it is never recycled, so a released
     * one stays released, where a released pooled body may already be another buffer.
     */
    private static ByteBuf retainedBody(StoredResponse stored) {
        try {
            stored.retain();
        } catch (IllegalReferenceCountException e) {
            return null;
        }
        try {
            return stored.body.retainedDuplicate();
        } finally {
            stored.release();
        }
    }

    /**
     * Purges the entries of one URL (all its variants), as {@link #keyOf} names it. With {@code markStale}
     * they stay but are stale from now on, so the next request revalidates them (coalesced) while
     * stale-while-revalidate and stale-if-error still apply; else they are removed.
     *
     * @return how many entries were purged
     */
    public int purge(String key, boolean markStale) {
        return purge(key, markStale ? Purge.MARK_STALE : Purge.REMOVE);
    }

    private int purge(String key, Purge purge) {
        purgeMarks.purged(key); // before the entries go: a store that missed the mark comes before their removal
        if (uncacheable != null) {
            uncacheable.invalidate(key);
        }
        int purged = purgeOne(key, purge);
        // Not through the Vary index: it may have forgotten the URL while variants are stored.
        Set<String> keys = variants.get(key);
        if (keys != null) {
            for (String k : List.copyOf(keys)) { // a copy: removing an entry changes the set
                purged += purgeOne(k, purge);
            }
        }
        ResponseCache next = successor;
        if (next != null) {
            next.purge(key, purge); // the same entries, carried over: counted once, here
        }
        return purged;
    }

    /**
     * RFC 9111 4.4: after a non-error answer (2xx or 3xx) to an unsafe method (any but GET, HEAD, OPTIONS and
     * TRACE), invalidates every entry (all variants) of the request's target URI, and of the URIs its
     * {@code Location} and {@code Content-Location} name on the same host; does nothing for any other answer
     * or method. The caller may call it again for the same answer (say at its head and at its end).
     * {@code markStale}: the entries stay, stale and in need of a revalidation before any use (4.4 allows that for
     * "invalidate"), so the next request asks the backend (coalesced) and the copy still answers when the backend
     * fails (stale-if-error, the grace); else they are removed. Marking matters where a front controller answers
     * 200 to any method: any client could otherwise drop any page, its copy kept for outages with it.
     *
     * @return how many entries were invalidated
     */
    public int invalidate(HttpRequest clientRequest, HttpResponse backendResponse, boolean markStale) {
        return invalidate(CachePolicy.NO_SCOPE, clientRequest, backendResponse, markStale);
    }

    /** As {@link #invalidate(HttpRequest, HttpResponse, boolean)}, for the entries of {@code scope} ({@link #scope}). */
    public int invalidate(String scope, HttpRequest clientRequest, HttpResponse backendResponse, boolean markStale) {
        int status = backendResponse.status().code();
        if (status < 200 || status >= 400 || !CachePolicy.invalidates(clientRequest.method())) {
            return 0;
        }
        Purge purge = markStale ? Purge.MARK_INVALID : Purge.REMOVE;
        String target = CachePolicy.primaryKey(scope, clientRequest);
        int invalidated = purge(target, purge);
        for (CharSequence name : List.of(HttpHeaderNames.LOCATION, HttpHeaderNames.CONTENT_LOCATION)) {
            String reference = backendResponse.headers().get(name);
            String key = reference == null ? null : CachePolicy.referencedKey(target, reference);
            if (key != null && !key.equals(target)) {
                invalidated += purge(key, purge);
            }
        }
        return invalidated;
    }

    /**
     * Purges every entry (variants too) whose key starts with {@code prefix} (say {@code "example.org/blog/"}); walks all
     * keys, so it costs time in proportion to the cache's size.
     */
    public int purgePrefix(String prefix, boolean markStale) {
        return purgePrefixes(List.of(prefix), markStale);
    }

    /**
     * As {@link #purgePrefix} for each of {@code prefixes} (a URL's in each scope of a site, say), in one walk of all
     * keys: a site's scopes may be many (a group's each, where a variable chooses it), the walk's time each one's.
     */
    public int purgePrefixes(List<String> prefixes, boolean markStale) {
        purgeMarks.purgedAll(); // a prefix names no URL: every answer asked for until now is kept out
        if (uncacheable != null) {
            uncacheable.asMap().keySet().removeIf(k -> startsWithAny(k, prefixes));
        }
        int purged = 0;
        for (String k : List.copyOf(cache.asMap().keySet())) {
            if (startsWithAny(k, prefixes)) {
                purged += purgeOne(k, markStale ? Purge.MARK_STALE : Purge.REMOVE);
            }
        }
        ResponseCache next = successor;
        if (next != null) {
            next.purgePrefixes(prefixes, markStale);
        }
        return purged;
    }

    private static boolean startsWithAny(String key, List<String> prefixes) {
        for (String prefix : prefixes) {
            if (key.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private int purgeOne(String key, Purge purge) {
        if (purge == Purge.REMOVE) {
            return cache.asMap().remove(key) != null ? 1 : 0;
        }
        StoredResponse stored = cache.policy().getIfPresentQuietly(key); // not a request for it: its life goes on
        if (stored == null) {
            return 0;
        }
        if (purge == Purge.MARK_INVALID) {
            stored.alwaysRevalidate = true;
        }
        stored.freshUntil = Math.min(stored.freshUntil, ticker.read());
        return 1;
    }

    /** The URL part of a stored key: the key up to its variant part, if it has one. */
    private static String primaryOf(String key) {
        int cut = key.indexOf(CachePolicy.VARIANT_SEPARATOR);
        return cut < 0 ? key : key.substring(0, cut);
    }

    /** The purges' clock now (for a {@link Lookup} as it is made). */
    long purgeClock() {
        return purgeMarks.now();
    }

    /** When the URL of {@code key} (a stored key) was last purged, on the purges' clock (for a {@link Lookup}). */
    long lastPurge(String key) {
        return purgeMarks.lastPurge(primaryOf(key));
    }

    /** Now, on this cache's ticker. */
    long ticks() {
        return ticker.read();
    }

    /** Whether the URL of {@code key} (a stored key) was purged or invalidated after {@code asOf}. */
    boolean purgedSince(String key, long asOf) {
        return purgeMarks.purgedSince(primaryOf(key), asOf);
    }

    /** What a purge or an invalidation does to an entry. */
    private enum Purge {
        /** Removes it. */
        REMOVE,
        /** Makes it stale now: stale-while-revalidate and stale-if-error (the grace too) still apply (PURGE). */
        MARK_STALE,
        /** As MARK_STALE, but it may answer again only once revalidated, or when the backend fails (RFC 9111 4.4). */
        MARK_INVALID
    }

    public ResponseCacheStats stats() {
        long weight = weightOf(cache) + weightOf(varyIndex) + (uncacheable == null ? 0 : weightOf(uncacheable));
        return new ResponseCacheStats(hits.sum(), misses.sum(), staleAnswers.sum(), coalescer.coalesced(),
                bypasses.sum(), evictions.sum(), weight, cache.estimatedSize());
    }

    private static long weightOf(Cache<?, ?> bounded) {
        return bounded.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    /** URLs the variant index holds; tests check that it forgets what the cache no longer has. */
    int variantIndexSize() {
        return variants.size();
    }

    /** Runs pending maintenance (eviction); tests call it before reading the bound. */
    void cleanUp() {
        cache.cleanUp();
        varyIndex.cleanUp();
        if (uncacheable != null) {
            uncacheable.cleanUp();
        }
    }

    /** Releases every stored body; responses handed out stay valid until their holders release them. */
    @Override
    public void close() {
        closed = true;
        cache.invalidateAll();
        cache.cleanUp();
        varyIndex.invalidateAll();
        if (uncacheable != null) {
            uncacheable.invalidateAll();
        }
    }

    /** The counters since start, shared by the caches of successive configurations (hence adders). */
    private static final class Counters {
        final LongAdder hits = new LongAdder();
        final LongAdder misses = new LongAdder();
        final LongAdder staleAnswers = new LongAdder();
        final LongAdder bypasses = new LongAdder();
        final LongAdder evictions = new LongAdder();
        final LongAdder coalesced = new LongAdder();
    }
}
