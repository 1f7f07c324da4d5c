package io.edge.cache.http;

import static io.edge.cache.http.CachePolicyTest.get;
import static io.edge.cache.http.CachePolicyTest.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.cache.ResponseCacheSettings;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResponseCacheTest {

    static final Duration HIT_FOR_MISS = Duration.ofSeconds(120);

    final FakeTimer time = new FakeTimer();
    ResponseCache cache = cache(Duration.ZERO, 1 << 20, ByteBufAllocator.DEFAULT);

    ResponseCache cache(Duration grace, long maxBytes, ByteBufAllocator allocator) {
        return cache(grace, maxBytes, allocator, HIT_FOR_MISS);
    }

    ResponseCache cache(Duration grace, long maxBytes, ByteBufAllocator allocator, Duration hitForMiss) {
        ResponseCacheSettings settings = new ResponseCacheSettings(maxBytes, 64 * 1024, false, Duration.ofSeconds(5),
                hitForMiss, grace, List.of("SESSID"), true);
        return new ResponseCache(settings, time, time::read, time::wallMillis, allocator);
    }

    /** Replaces the cache with one whose configured stale grace is {@code grace}. */
    void graceOf(Duration grace) {
        cache.close();
        cache = cache(grace, 1 << 20, ByteBufAllocator.DEFAULT);
    }

    @AfterEach
    void close() {
        cache.close();
    }

    static FullHttpResponse backend(String body, String... headers) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set("Content-Length", r.content().readableBytes());
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    /** A backend's 304 with {@code headers} (name, value, ...). */
    static HttpResponse notModified(String... headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    /** Stores as the FastCGI path would, then releases its own response. */
    boolean store(HttpRequest request, FullHttpResponse response) {
        try {
            return cache.store(request, response);
        } finally {
            response.release();
        }
    }

    /** The body of the cached answer, releasing it. */
    static String body(FullHttpResponse response) {
        try {
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }

    /**
     * A cache full of answers past any use (stale, no validator to revalidate them by, no grace left) takes new ones: they
     * go, and their room with them, where W-TinyLFU turned most new pages away in favour of those more often used once
     * (6 of 20 pages were stored), though nothing held could answer anyone. nginx writes every page it may keep.
     */
    @Test
    void answersPastAnyUseMakeRoomForNewOnes() {
        String page = "x".repeat(30_000);
        for (int i = 0; i < 40; i++) {
            store(get("/old" + i), backend(page, "Cache-Control", "max-age=1"));
            for (int hit = 0; hit < 3; hit++) {
                body(cache.lookup(get("/old" + i)).response());
            }
        }
        store(get("/etag"), backend("kept", "Cache-Control", "max-age=1", "ETag", "\"v1\""));
        time.advanceSeconds(3600);
        for (int i = 0; i < 20; i++) {
            assertThat(store(get("/new" + i), backend(page, "Cache-Control", "max-age=60"))).isTrue();
            Lookup stored = cache.lookup(get("/new" + i));
            assertThat(stored.outcome()).as("page %d", i).isEqualTo(Lookup.Outcome.FRESH);
            body(stored.response());
        }
        Lookup revalidated = cache.lookup(get("/etag"));
        assertThat(revalidated.outcome()).as("one with a validator stays, to be revalidated").isEqualTo(Lookup.Outcome.STALE);
        assertThat(revalidated.backendRequest(get("/etag")).headers().get("If-None-Match")).isEqualTo("\"v1\"");
    }

    /**
     * A script's Trailer reaches the client on a miss (it is end-to-end, RFC 9110 6.6.2, not among RFC 9111 3.1's
     * fields a cache must not store): a hit sends it too, as nginx 1.22's fastcgi_cache does (measured beside php-fpm
     * 8.2: Trailer: X-Sum on the MISS and on the HIT). Transfer-Encoding, TE, Upgrade and Keep-Alive stay out.
     */
    @Test
    void aStoredAnswerKeepsItsTrailerAndDropsTheFieldsAboutOneConnection() {
        assertThat(store(get("/t"), backend("T", "Cache-Control", "max-age=60", "Trailer", "X-Sum",
                "Transfer-Encoding", "chunked", "TE", "trailers", "Upgrade", "h2c", "Keep-Alive", "timeout=5"))).isTrue();
        FullHttpResponse response = cache.lookup(get("/t")).response();
        assertThat(response.headers().get("Trailer")).isEqualTo("X-Sum");
        assertThat(response.headers().names()).doesNotContain("Transfer-Encoding", "TE", "Upgrade", "Keep-Alive");
        assertThat(body(response)).isEqualTo("T");
    }

    /**
     * nginx's inactive counts from the last request for an entry: one past any use (stale, no validator, no window
     * left) that is still asked for, its backend failing, stays and answers EXPIRED (a STALE lookup) as long as its
     * requests come less than 10 minutes apart; 10 minutes after the last it goes. It went 10 minutes after it could
     * no longer answer, asked for or not.
     */
    @Test
    void anAnswerPastAnyUseGoesTenMinutesAfterItWasLastAskedFor() {
        store(get("/p"), backend("page", "Cache-Control", "max-age=60"));
        time.advanceSeconds(60 + 9 * 60);
        assertThat(cache.lookup(get("/p")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(9 * 60);
        assertThat(cache.lookup(get("/p")).outcome()).as("asked for 9 minutes ago").isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(10 * 60 - 1);
        assertThat(cache.lookup(get("/p")).outcome()).as("again within 10 minutes").isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(10 * 60 + 1);
        assertThat(cache.lookup(get("/p")).outcome()).as("not asked for 10 minutes").isEqualTo(Lookup.Outcome.MISS);
        assertThat(cache.stats().entries()).isZero();
    }

    /**
     * Caffeine lets an expired entry go only at its maintenance, which reads and writes bring: in a cache nobody uses
     * (a quiet night, a site taken off), answers past any use held their bodies, direct memory the content cache and
     * the requests share, for good. The cache's timer runs its maintenance once the next entry is due.
     */
    @Test
    void anAnswerPastAnyUseGoesInACacheNobodyUses() {
        store(get("/p"), backend("page", "Cache-Control", "max-age=60"));
        assertThat(cache.stats().entries()).isOne();
        time.advanceSeconds(60 + 10 * 60 + 2); // the timer's tasks that are due run; nothing reads or writes
        assertThat(cache.stats().entries()).as("gone without a request").isZero();
        assertThat(time.pending()).as("nothing more to expire: nothing scheduled").isZero();
    }

    /** Asked for while it may still answer, an entry is kept for its windows and 10 minutes, as when stored. */
    @Test
    void anAnswerAskedForWhileUsableIsKeptForItsWindowsAndTenMinutes() {
        graceOf(Duration.ofHours(1));
        store(get("/p"), backend("page", "Cache-Control", "max-age=60"));
        time.advanceSeconds(30);
        body(cache.lookup(get("/p")).response());
        time.advanceSeconds(30 + 3600 + 10 * 60 - 31);
        Lookup stale = cache.lookup(get("/p"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(stale.usableOnError()).as("past the grace").isFalse();
        time.advanceSeconds(10 * 60 + 1);
        assertThat(cache.lookup(get("/p")).outcome()).isEqualTo(Lookup.Outcome.MISS);
    }

    @Test
    void maxAgeOneIsFreshForOneSecondWithAnAgeHeader() {
        assertThat(store(get("/a"), backend("A", "Cache-Control", "max-age=1", "Connection", "close"))).isTrue();
        Lookup hit = cache.lookup(get("/a"));
        assertThat(hit.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        FullHttpResponse response = hit.response();
        assertThat(response.headers().get("Age")).isEqualTo("0");
        assertThat(response.headers().contains("Connection")).isFalse();
        assertThat(body(response)).isEqualTo("A");
        time.advance(999_999_999L);
        assertThat(cache.lookup(get("/a")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advance(1);
        Lookup stale = cache.lookup(get("/a"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(stale.usableOnError()).isFalse();
        assertThat(stale.responseOnError()).isNull();
        assertThat(cache.stats().hits()).isEqualTo(2);
        assertThat(cache.stats().misses()).isEqualTo(1);
    }

    /**
     * RFC 9111 1.2.2: lifetimes and ages past 2^31 s count as 2^31 s. An Expires in the year 9999 ("never") overflowed
     * the nanoseconds it was kept in and was stale on arrival (never a hit, nor an answer on error); an age of
     * centuries (a Date of 1601, when the Date still aged an answer; an Age as large now) made it fresh for good,
     * max-age=1 and all.
     */
    @Test
    void lifetimesAndAgesPast2To31SecondsCountAs2To31() {
        assertThat(store(get("/never"), backend("N", "Expires", "Fri, 31 Dec 9999 23:59:59 GMT"))).isTrue();
        time.advanceSeconds(86_400);
        assertThat(cache.lookup(get("/never")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        store(get("/old"), backend("O", "Cache-Control", "max-age=1", "ETag", "\"o\"", "Age", "99999999999"));
        assertThat(cache.lookup(get("/old")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    /** X-Accel-Expires is a script's word to edge, which nginx hides from the client: a hit does not carry it. */
    @Test
    void xAccelExpiresIsNotStored() {
        assertThat(store(get("/a"), backend("A", "Cache-Control", "max-age=60", "X-Accel-Expires", "60"))).isTrue();
        FullHttpResponse hit = cache.lookup(get("/a")).response();
        assertThat(hit.headers().contains("X-Accel-Expires")).isFalse();
        assertThat(body(hit)).isEqualTo("A");
    }

    /**
     * X-Accel-Expires sets how long edge keeps the answer, over the Cache-Control the script sends on to browsers
     * (as nginx's fastcgi_cache): fresh for its 60 s though max-age says 5, fresh though no-cache, and "@" with a
     * Unix time fresh until then; the client gets the script's Cache-Control as it was.
     */
    @Test
    void xAccelExpiresSetsHowLongAnAnswerStaysFresh() {
        assertThat(store(get("/a"), backend("A", "Cache-Control", "max-age=5", "X-Accel-Expires", "60"))).isTrue();
        time.advanceSeconds(59);
        Lookup fresh = cache.lookup(get("/a"));
        assertThat(fresh.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        FullHttpResponse hit = fresh.response();
        assertThat(hit.headers().get("Cache-Control")).isEqualTo("max-age=5");
        assertThat(hit.headers().get("Age")).isEqualTo("59");
        assertThat(body(hit)).isEqualTo("A");
        time.advanceSeconds(1);
        assertThat(cache.lookup(get("/a")).outcome()).isEqualTo(Lookup.Outcome.STALE);

        assertThat(store(get("/n"), backend("N", "Cache-Control", "no-cache", "X-Accel-Expires", "10"))).isTrue();
        assertThat(cache.lookup(get("/n")).outcome()).isEqualTo(Lookup.Outcome.FRESH);

        long until = time.wallMillis() / 1000 + 30;
        assertThat(store(get("/t"), backend("T", "X-Accel-Expires", "@" + until))).isTrue();
        time.advanceSeconds(29);
        assertThat(cache.lookup(get("/t")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advanceSeconds(1);
        assertThat(cache.lookup(get("/t")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(store(get("/p"), backend("P", "Cache-Control", "max-age=60", "X-Accel-Expires", "@" + until)))
                .as("an instant already past: never stored, as 0").isFalse();
    }

    /**
     * Several X-Accel-Expires lines (a script's header(..., false), a framework's and a plugin's) are read as nginx 1.22
     * reads them, in turn: a "0" keeps the answer out whatever the others say, and of the rest the last it can read
     * sets the time. Only the first was read: "60" then a plugin's "0" was stored for 60 s (nginx: MISS every time),
     * and "abc" then "60" was not stored at all (nginx: HIT).
     */
    @Test
    void everyXAccelExpiresLineIsReadAsNginxReadsThem() {
        assertThat(store(get("/zero-last"), backend("Z", "X-Accel-Expires", "60", "X-Accel-Expires", "0"))).isFalse();
        assertThat(store(get("/zero-first"), backend("Z", "X-Accel-Expires", "0", "X-Accel-Expires", "60"))).isFalse();
        assertThat(store(get("/zero-first"), backend("Z", "Cache-Control", "max-age=60", "X-Accel-Expires", "0",
                "X-Accel-Expires", "60"))).as("over a max-age too").isFalse();
        assertThat(store(get("/last"), backend("L", "X-Accel-Expires", "abc", "X-Accel-Expires", "10",
                "X-Accel-Expires", "60"))).isTrue();
        time.advanceSeconds(59);
        assertThat(cache.lookup(get("/last")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advanceSeconds(1);
        assertThat(cache.lookup(get("/last")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    /**
     * stale-while-updating, nginx's use_stale updating with background_update: a stale answer still answers while one
     * request refreshes it, as its own stale-while-revalidate would have it, unless forbidden (must-revalidate) or past
     * the window; a longer stale-while-revalidate of its own wins.
     */
    @Test
    void staleWhileUpdatingGivesEveryAnswerAStaleWhileRevalidate() {
        cache.close();
        cache = new ResponseCache(new ResponseCacheSettings(1 << 20, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of(), true, Duration.ofSeconds(30), Map.of()),
                time, time::read, time::wallMillis, ByteBufAllocator.DEFAULT);
        assertThat(store(get("/page"), backend("P", "Cache-Control", "max-age=10"))).isTrue();
        assertThat(store(get("/strict"), backend("S", "Cache-Control", "max-age=10, must-revalidate"))).isTrue();
        assertThat(store(get("/own"), backend("O", "Cache-Control", "max-age=10, stale-while-revalidate=100"))).isTrue();
        time.advanceSeconds(20);
        Lookup page = cache.lookup(get("/page"));
        assertThat(page.outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
        assertThat(body(page.response())).isEqualTo("P");
        Coalescer.Ticket refresh = page.refresh();
        assertThat(refresh).as("one refresh").isNotNull();
        refresh.done();
        assertThat(cache.lookup(get("/strict")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(30);
        assertThat(cache.lookup(get("/page")).outcome()).as("past the window").isEqualTo(Lookup.Outcome.STALE);
        assertThat(cache.lookup(get("/own")).outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
    }

    /**
     * A lifetime from valid is the settings', not the script's word: a 304 that now says no-cache is not renewed by it
     * (it was, and so for ever with an ETag-aware script, also after a reload without valid), one that says nothing is;
     * and the answer's must-revalidate still forbids stale answers (as the script's own X-Accel-Expires would not).
     */
    @Test
    void aLifetimeFromValidIsJudgedAgainAtEach304AndLeavesMustRevalidateAlone() {
        cache.close();
        cache = new ResponseCache(new ResponseCacheSettings(1 << 20, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ofHours(1), List.of(), true, Duration.ofHours(1),
                Map.of(200, Duration.ofSeconds(10))), time, time::read, time::wallMillis, ByteBufAllocator.DEFAULT);
        assertThat(store(get("/e"), backend("E", "ETag", "\"e\""))).isTrue();
        assertThat(store(get("/m"), backend("M", "Cache-Control", "must-revalidate"))).isTrue();
        time.advanceSeconds(11);
        Lookup strict = cache.lookup(get("/m"));
        assertThat(strict.outcome()).as("no stale-while-updating").isEqualTo(Lookup.Outcome.STALE);
        assertThat(strict.usableOnError()).as("nor on error").isFalse();

        HttpResponse silent = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        silent.headers().set("ETag", "\"e\"");
        Lookup stale = cache.lookup(get("/e"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
        body(stale.response());
        assertThat(body(cache.revalidated(stale, silent))).isEqualTo("E");
        assertThat(cache.lookup(get("/e")).outcome()).as("renewed for valid's 10 s").isEqualTo(Lookup.Outcome.FRESH);
        time.advanceSeconds(11);
        HttpResponse noCache = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        noCache.headers().set("ETag", "\"e\"").set("Cache-Control", "max-age=0, no-cache");
        Lookup again = cache.lookup(get("/e"));
        body(again.response());
        assertThat(body(cache.revalidated(again, noCache))).isEqualTo("E");
        assertThat(cache.lookup(get("/e")).outcome()).as("its own no-cache now: not valid's 10 s")
                .isNotEqualTo(Lookup.Outcome.FRESH);
    }

    /**
     * valid, nginx's fastcgi_cache_valid: an answer that names no lifetime (most PHP pages) is kept for its status's,
     * or any's; what an answer says wins (max-age, Expires, its own X-Accel-Expires), and no-cache, no-store, private,
     * a past Expires (PHP's session pages) or Set-Cookie keep it out as before. Clients never see the lifetime given.
     */
    @Test
    void validGivesAnswersThatNameNoLifetimeTheConfiguredOne() {
        cache.close();
        cache = new ResponseCache(new ResponseCacheSettings(1 << 20, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of(), true, Duration.ZERO,
                Map.of(200, Duration.ofMinutes(10), ResponseCacheSettings.ANY_STATUS, Duration.ofSeconds(30))),
                time, time::read, time::wallMillis, ByteBufAllocator.DEFAULT);
        assertThat(store(get("/plain"), backend("P"))).isTrue();
        FullHttpResponse missing = backend("M");
        missing.setStatus(HttpResponseStatus.NOT_FOUND);
        assertThat(store(get("/missing"), missing)).isTrue();
        assertThat(store(get("/own"), backend("O", "Cache-Control", "max-age=5"))).isTrue();
        assertThat(store(get("/accel"), backend("A", "X-Accel-Expires", "20"))).isTrue();
        assertThat(store(get("/public"), backend("U", "Cache-Control", "public"))).isTrue();
        assertThat(store(get("/session"), backend("S", "Expires", "Thu, 19 Nov 1981 08:52:00 GMT",
                "Cache-Control", "no-store, no-cache, must-revalidate"))).isFalse();
        assertThat(store(get("/nocache"), backend("N", "Cache-Control", "no-cache"))).isFalse();
        assertThat(store(get("/private"), backend("V", "Cache-Control", "private"))).isFalse();
        assertThat(store(get("/cookie"), backend("C", "Set-Cookie", "s=1"))).isFalse();

        FullHttpResponse hit = cache.lookup(get("/plain")).response();
        assertThat(hit.headers().contains("X-Accel-Expires")).as("never to a client").isFalse();
        assertThat(body(hit)).isEqualTo("P");
        time.advanceSeconds(6);
        assertThat(cache.lookup(get("/own")).outcome()).as("its max-age wins").isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(15);
        assertThat(cache.lookup(get("/accel")).outcome()).as("its X-Accel-Expires wins").isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(10);
        assertThat(cache.lookup(get("/missing")).outcome()).as("any: 30 s").isEqualTo(Lookup.Outcome.STALE);
        assertThat(cache.lookup(get("/public")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advanceSeconds(600 - 31);
        assertThat(cache.lookup(get("/plain")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    /**
     * With X-Accel-Expires, the Cache-Control is the browsers' (nginx's idiom: X-Accel-Expires: 60 beside no-cache, or
     * max-age=0, must-revalidate, or s-maxage): it does not keep the stale copy from answering when php-fpm fails, as
     * nginx's use_stale reads none of it then. Without X-Accel-Expires the same directives still forbid it.
     */
    @Test
    void xAccelExpiresLeavesTheBrowsersCacheControlOutOfAnswersOnError() {
        graceOf(Duration.ofHours(1));
        for (String browsers : List.of("no-cache", "max-age=0, must-revalidate", "proxy-revalidate", "s-maxage=5")) {
            String path = "/" + browsers.hashCode();
            assertThat(store(get(path), backend("B", "Cache-Control", browsers, "X-Accel-Expires", "10"))).isTrue();
            assertThat(store(get(path + "x"), backend("B", "Cache-Control", browsers + ", max-age=10",
                    "ETag", "\"b\""))).isTrue();
        }
        time.advanceSeconds(60);
        for (String browsers : List.of("no-cache", "max-age=0, must-revalidate", "proxy-revalidate", "s-maxage=5")) {
            String path = "/" + browsers.hashCode();
            Lookup stale = cache.lookup(get(path));
            assertThat(stale.outcome()).as(browsers).isEqualTo(Lookup.Outcome.STALE);
            assertThat(body(stale.responseOnError())).as(browsers).isEqualTo("B");
            assertThat(cache.lookup(get(path + "x")).usableOnError()).as(browsers + " without X-Accel-Expires").isFalse();
        }
    }

    /**
     * X-Accel-Expires counts from when the answer came, as nginx's fastcgi_cache sets its valid time (now plus the
     * seconds, or the Unix time itself), whatever Age the script sends: "60" with Age 30 is fresh 60 s, not 30, and
     * "@" a time is fresh until that time, not Age seconds before it.
     */
    @Test
    void xAccelExpiresCountsFromReceiptWhateverAgeTheScriptSends() {
        store(get("/s"), backend("S", "Age", "30", "X-Accel-Expires", "60"));
        long until = time.wallMillis() / 1000 + 40;
        store(get("/u"), backend("U", "Age", "30", "X-Accel-Expires", "@" + until));
        time.advanceSeconds(39);
        assertThat(cache.lookup(get("/s")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(cache.lookup(get("/u")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advanceSeconds(1);
        assertThat(cache.lookup(get("/u")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(19);
        Lookup fresh = cache.lookup(get("/s"));
        assertThat(fresh.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        FullHttpResponse hit = fresh.response();
        assertThat(hit.headers().get("Age")).isEqualTo("89");
        assertThat(body(hit)).isEqualTo("S");
        time.advanceSeconds(1);
        assertThat(cache.lookup(get("/s")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    /**
     * An entry tells whether its backend declared the body's length (its own head always says it, of the stored body),
     * through a 304's renewal too, for the ranges of its hits: nginx ranges a hit only where the upstream's head had a
     * length.
     */
    @Test
    void anEntryTellsWhetherItsBackendDeclaredTheLength() {
        store(get("/declared"), backend("D", "Cache-Control", "max-age=1", "ETag", "\"d\""));
        FullHttpResponse undeclared = backend("U", "Cache-Control", "max-age=1", "ETag", "\"u\"");
        undeclared.headers().remove("Content-Length");
        store(get("/undeclared"), undeclared);
        for (String[] path : new String[][] {{"/declared", "true"}, {"/undeclared", "false"}}) {
            CachedResponse hit = cache.lookup(get(path[0])).response();
            assertThat(hit.lengthDeclared()).as(path[0]).isEqualTo(Boolean.parseBoolean(path[1]));
            assertThat(hit.headers().get("Content-Length")).as(path[0]).isEqualTo("1");
            hit.release();
        }
        time.advanceSeconds(3600);
        Lookup stale = cache.lookup(get("/undeclared"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        CachedResponse renewed = cache.revalidated(stale, notModified("ETag", "\"u\"", "Content-Length", "1"));
        assertThat(renewed.lengthDeclared()).as("the stored answer's word, not the 304's").isFalse();
        renewed.release();
        CachedResponse again = cache.lookup(get("/undeclared")).response();
        assertThat(again.lengthDeclared()).isFalse();
        again.release();
    }

    /**
     * A 304 renews an entry by the X-Accel-Expires the script stored it with, unless the 304 brings its own: a
     * page kept 10 s (its no-cache for browsers) is kept 10 s more, and a 304 saying 0 drops it.
     */
    @Test
    void aRevalidationKeepsTheScriptsXAccelExpiresUnlessThe304ReplacesIt() {
        store(get("/r"), backend("R", "Cache-Control", "no-cache", "ETag", "\"r\"", "X-Accel-Expires", "10"));
        time.advanceSeconds(10);
        Lookup stale = cache.lookup(get("/r"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        HttpResponse notModified = notModified("ETag", "\"r\"");
        FullHttpResponse renewed = cache.revalidated(stale, notModified);
        assertThat(renewed.headers().contains("X-Accel-Expires")).isFalse();
        assertThat(body(renewed)).isEqualTo("R");
        time.advanceSeconds(9);
        assertThat(cache.lookup(get("/r")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advanceSeconds(1);
        Lookup again = cache.lookup(get("/r"));
        assertThat(again.outcome()).isEqualTo(Lookup.Outcome.STALE);

        notModified.headers().set("X-Accel-Expires", "0");
        FullHttpResponse last = cache.revalidated(again, notModified);
        assertThat(last.headers().contains("X-Accel-Expires")).isFalse();
        assertThat(body(last)).isEqualTo("R");
        assertThat(cache.lookup(get("/r")).outcome()).isEqualTo(Lookup.Outcome.MISS);
    }

    /**
     * An answer a script streams unbuffered (X-Accel-Buffering: no) is not stored, and its URL's misses no longer wait
     * behind one another (a stream may never end); a buffered one (yes) is stored as any, without the header.
     */
    @Test
    void anUnbufferedAnswerIsNotStoredAndABufferedOneKeepsNoHeader() {
        assertThat(store(get("/s"), backend("S", "Cache-Control", "max-age=10", "X-Accel-Buffering", "no"))).isFalse();
        Lookup stream = cache.lookup(get("/s"));
        assertThat(stream.outcome()).isEqualTo(Lookup.Outcome.MISS);
        assertThat(stream.uncacheable()).as("its misses go to the backend side by side").isTrue();
        assertThat(store(get("/b"), backend("B", "Cache-Control", "max-age=10", "X-Accel-Buffering", "yes"))).isTrue();
        CachedResponse hit = cache.lookup(get("/b")).response();
        assertThat(hit.headers().contains("X-Accel-Buffering")).as("never to a client").isFalse();
        assertThat(body(hit)).isEqualTo("B");
    }

    /**
     * A script's X-Accel-Limit-Rate is kept with its answer, as nginx's cache keeps it, and handed out beside the head
     * at every use, never in it; counted in what the entry weighs. A 304 without one leaves it; one with its own
     * replaces it.
     */
    @Test
    void theScriptsXAccelLimitRateIsKeptBesideTheAnswerAndA304MayReplaceIt() {
        assertThat(store(get("/p"), backend("P", "Cache-Control", "max-age=10", "ETag", "\"r\""))).isTrue();
        long plain = cache.stats().bytesHeld();
        CachedResponse unpaced = cache.lookup(get("/p")).response();
        assertThat(unpaced.xAccelLimitRate()).isNull();
        unpaced.release();
        assertThat(store(get("/r"), backend("R", "Cache-Control", "max-age=10", "ETag", "\"r\"",
                "X-Accel-Limit-Rate", "65536"))).isTrue();
        assertThat(cache.stats().bytesHeld() - plain)
                .as("the same entry, the kept value's characters and the line kept for a location that passes it")
                .isEqualTo(plain + 2 * "65536".length() + 48 + 2 * ("X-Accel-Limit-Rate".length() + "65536".length())
                        + 48);
        CachedResponse hit = cache.lookup(get("/r")).response();
        assertThat(hit.headers().contains("X-Accel-Limit-Rate")).as("never to a client").isFalse();
        assertThat(hit.xAccelLimitRate()).isEqualTo("65536");
        assertThat(body(hit)).isEqualTo("R");

        time.advanceSeconds(10);
        Lookup stale = cache.lookup(get("/r"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        HttpResponse notModified = notModified("ETag", "\"r\"");
        CachedResponse renewed = cache.revalidated(stale, notModified);
        assertThat(renewed.xAccelLimitRate()).as("a 304 without one: the stored pace holds").isEqualTo("65536");
        assertThat(body(renewed)).isEqualTo("R");
        CachedResponse renewedHit = cache.lookup(get("/r")).response();
        assertThat(renewedHit.xAccelLimitRate()).isEqualTo("65536");
        renewedHit.release();

        time.advanceSeconds(10);
        notModified.headers().set("X-Accel-Limit-Rate", "0");
        CachedResponse last = cache.revalidated(cache.lookup(get("/r")), notModified);
        assertThat(last.headers().contains("X-Accel-Limit-Rate")).isFalse();
        assertThat(last.xAccelLimitRate()).as("the 304's own").isEqualTo("0");
        assertThat(body(last)).isEqualTo("R");
        CachedResponse lastHit = cache.lookup(get("/r")).response();
        assertThat(lastHit.headers().contains("X-Accel-Limit-Rate")).isFalse();
        assertThat(lastHit.xAccelLimitRate()).isEqualTo("0");
        lastHit.release();
    }

    /**
     * The backend's X-Accel lines are kept beside the head as they came, for a location that passes them (nginx's
     * proxy_pass_header: its hits carry them); a 304 replaces the lines of a name it has, and leaves the others.
     */
    @Test
    void theBackendsXAccelLinesAreKeptBesideTheHeadAndA304ReplacesThoseItHas() {
        assertThat(store(get("/x"), backend("X", "Cache-Control", "max-age=10", "ETag", "\"x\"",
                "X-Accel-Expires", "60", "X-Accel-Expires", "soon", "X-Accel-Limit-Rate", "4096",
                "X-Accel-Buffering", "yes"))).isTrue();
        CachedResponse hit = cache.lookup(get("/x")).response();
        assertThat(hit.headers().names()).noneMatch(name -> name.startsWith("X-Accel"));
        assertThat(hit.accelFields().getAll("X-Accel-Expires")).containsExactly("60", "soon");
        assertThat(hit.accelFields().getAll("X-Accel-Limit-Rate")).containsExactly("4096");
        assertThat(hit.accelFields().getAll("X-Accel-Buffering")).containsExactly("yes");
        assertThat(body(hit)).isEqualTo("X");

        time.advanceSeconds(61);
        CachedResponse renewed = cache.revalidated(cache.lookup(get("/x")),
                notModified("ETag", "\"x\"", "X-Accel-Expires", "30"));
        assertThat(renewed.accelFields().getAll("X-Accel-Expires")).containsExactly("30");
        assertThat(renewed.accelFields().getAll("X-Accel-Limit-Rate")).containsExactly("4096");
        assertThat(body(renewed)).isEqualTo("X");
        CachedResponse renewedHit = cache.lookup(get("/x")).response();
        assertThat(renewedHit.accelFields().getAll("X-Accel-Expires")).containsExactly("30");
        assertThat(renewedHit.accelFields().getAll("X-Accel-Buffering")).containsExactly("yes");
        renewedHit.release();
    }

    /**
     * Most answers bring none of the X-Accel lines: their entries share one empty set of them rather than each holding
     * an empty field map of its own (some 160 bytes an entry the weight does not count), after a 304 too.
     */
    @Test
    void entriesWithoutXAccelLinesShareOneEmptySetOfThem() {
        assertThat(store(get("/e1"), backend("1", "Cache-Control", "max-age=10", "ETag", "\"e\""))).isTrue();
        assertThat(store(get("/e2"), backend("2", "Cache-Control", "max-age=10"))).isTrue();
        CachedResponse first = cache.lookup(get("/e1")).response();
        CachedResponse second = cache.lookup(get("/e2")).response();
        assertThat(first.accelFields().isEmpty()).isTrue();
        assertThat(first.accelFields()).isSameAs(second.accelFields());
        assertThat(body(first)).isEqualTo("1");
        assertThat(body(second)).isEqualTo("2");

        time.advanceSeconds(11);
        CachedResponse renewed = cache.revalidated(cache.lookup(get("/e1")), notModified("ETag", "\"e\""));
        assertThat(renewed.accelFields()).isSameAs(second.accelFields());
        assertThat(body(renewed)).isEqualTo("1");
        CachedResponse renewedHit = cache.lookup(get("/e1")).response();
        assertThat(renewedHit.accelFields()).isSameAs(second.accelFields());
        renewedHit.release();
    }

    /**
     * A 304 whose X-Accel-Limit-Rate is no number, or is negative, leaves the stored one: a hit ignores such a value
     * (as nginx does) and would go at the location's pace instead of the script's. A number, 0 included, replaces it.
     */
    @Test
    void a304WithAnXAccelLimitRateThatIsNoNumberLeavesTheStoredOne() {
        assertThat(store(get("/r"), backend("R", "Cache-Control", "max-age=10", "ETag", "\"r\"",
                "X-Accel-Limit-Rate", "65536"))).isTrue();
        HttpResponse notModified = notModified("ETag", "\"r\"");
        for (String bad : new String[] {"fast", "-1", ""}) {
            time.advanceSeconds(10);
            Lookup stale = cache.lookup(get("/r"));
            assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
            notModified.headers().set("X-Accel-Limit-Rate", bad);
            CachedResponse renewed = cache.revalidated(stale, notModified);
            assertThat(renewed.xAccelLimitRate()).as("a 304 with \"%s\"", bad).isEqualTo("65536");
            renewed.release();
            CachedResponse hit = cache.lookup(get("/r")).response();
            assertThat(hit.xAccelLimitRate()).as("a hit after a 304 with \"%s\"", bad).isEqualTo("65536");
            hit.release();
        }

        time.advanceSeconds(10);
        notModified.headers().set("X-Accel-Limit-Rate", "0");
        CachedResponse last = cache.revalidated(cache.lookup(get("/r")), notModified);
        assertThat(last.xAccelLimitRate()).as("a number replaces it").isEqualTo("0");
        last.release();
    }

    /**
     * A reload that changes the response cache's settings builds a new one: it counts on from its predecessor's
     * counters (they went back to 0, which Prometheus takes for a restart), also what the predecessor still counts while
     * it drains, and holds what it stored (below).
     */
    @Test
    void aCacheThatReplacesAnotherCountsOnFromItsCounters() {
        assertThat(store(get("/a"), backend("A", "Cache-Control", "max-age=10"))).isTrue();
        body(cache.lookup(get("/a")).response());
        assertThat(cache.lookup(get("/b")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        cache.coalesce(cache.lookup(get("/c"))).done();
        ResponseCacheSettings settings = new ResponseCacheSettings(1 << 19, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of("SESSID"), true);
        try (ResponseCache after = new ResponseCache(settings, time, time::read, cache)) {
            assertThat(after.stats().hits()).isEqualTo(1);
            assertThat(after.stats().misses()).isEqualTo(2);
            assertThat(cache.lookup(get("/b")).outcome()).isEqualTo(Lookup.Outcome.MISS); // still draining
            Coalescer.Ticket leader = after.coalesce(after.lookup(get("/d")));
            after.coalesce(after.lookup(get("/d")));
            leader.done();
            assertThat(after.stats().misses()).isEqualTo(5);
            assertThat(after.stats().coalesced()).isEqualTo(1);
        }
    }

    /**
     * A reload that tunes the response cache (a longer grace to ride out an outage, other sizes) keeps what it stores,
     * as nginx's cache outlives a reload: it emptied it, the copies kept for outages with it. What the new settings would
     * not store (Set-Cookie, no longer stored; over the largest object size) is not carried; the grace is the new one;
     * the old cache's closing leaves the copies whole.
     */
    @Test
    void aCacheThatReplacesAnotherKeepsWhatItStoresByItsOwnSettings() {
        cache.close();
        ResponseCacheSettings before = new ResponseCacheSettings(1 << 20, 64 * 1024, true, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ofSeconds(10), List.of(), true);
        cache = new ResponseCache(before, time, time::read, time::wallMillis, ByteBufAllocator.DEFAULT);
        assertThat(store(get("/page"), backend("P", "Cache-Control", "max-age=1"))).isTrue();
        assertThat(store(get("/cookie"), backend("C", "Cache-Control", "max-age=60", "Set-Cookie", "a=b"))).isTrue();
        assertThat(store(get("/large"), backend("L".repeat(5000), "Cache-Control", "max-age=60"))).isTrue();
        assertThat(store(get("/gz", "Accept-Encoding", "gzip"), backend("Z", "Cache-Control", "max-age=60",
                "Vary", "Accept-Encoding"))).isTrue();
        ResponseCacheSettings after = new ResponseCacheSettings(1 << 19, 4096, false, Duration.ofSeconds(2),
                HIT_FOR_MISS, Duration.ofSeconds(600), List.of(), true);
        try (ResponseCache next = new ResponseCache(after, time, time::read, cache)) {
            cache.close(); // the old configuration retired
            assertThat(body(next.lookup(get("/page")).response())).isEqualTo("P");
            assertThat(next.lookup(get("/cookie")).outcome()).as("Set-Cookie no longer stored")
                    .isEqualTo(Lookup.Outcome.MISS);
            assertThat(next.lookup(get("/large")).outcome()).as("over the largest object now")
                    .isEqualTo(Lookup.Outcome.MISS);
            assertThat(body(next.lookup(get("/gz", "Accept-Encoding", "gzip")).response())).isEqualTo("Z");
            assertThat(next.lookup(get("/gz")).outcome()).as("its Vary index came along").isEqualTo(Lookup.Outcome.MISS);
            time.advanceSeconds(300);
            assertThat(body(next.lookup(get("/page")).responseOnError())).as("the new grace, 600 s").isEqualTo("P");
            assertThat(next.purge(ResponseCache.keyOf(get("/gz")), false)).as("its variants known").isEqualTo(1);
        }
    }

    /**
     * A request still running on the replaced cache when the reload came (a POST begun before it) invalidates what
     * was carried over too: the carried copy answered on, fresh, after the page changed. Purges go on to it as well.
     */
    @Test
    void whatTheReplacedCacheInvalidatesIsInvalidatedInItsSuccessor() {
        store(get("/cart"), backend("C", "Cache-Control", "max-age=600"));
        store(get("/shop/a"), backend("A", "Cache-Control", "max-age=600"));
        ResponseCacheSettings settings = new ResponseCacheSettings(1 << 19, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of("SESSID"), true);
        try (ResponseCache after = new ResponseCache(settings, time, time::read, cache)) {
            assertThat(after.lookup(get("/cart")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
            FullHttpResponse ok = backend("done");
            try {
                assertThat(cache.invalidate(request(HttpMethod.POST, "/cart"), ok, false)).isEqualTo(1);
            } finally {
                ok.release();
            }
            assertThat(after.lookup(get("/cart")).outcome()).isEqualTo(Lookup.Outcome.MISS);
            cache.purgePrefix(ResponseCache.keyOf(get("/shop/")), false);
            assertThat(after.lookup(get("/shop/a")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        }
    }

    /**
     * A GET begun before the reload that replaced the cache ends after it and stores its answer in the cache it began
     * with: that answer, newer than the copy carried over, is stored in the new cache too (with its Vary index), else
     * the new cache answered the older page on, and a URL first stored then was a miss there.
     */
    @Test
    void whatTheReplacedCacheStoresAfterTheReloadIsStoredInItsSuccessor() {
        store(get("/page"), backend("old", "Cache-Control", "max-age=600"));
        ResponseCacheSettings settings = new ResponseCacheSettings(1 << 19, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of(), true);
        try (ResponseCache after = new ResponseCache(settings, time, time::read, cache)) {
            assertThat(store(get("/page"), backend("new", "Cache-Control", "max-age=600"))).isTrue();
            assertThat(store(get("/gz", "Accept-Encoding", "gzip"), backend("Z", "Cache-Control", "max-age=60",
                    "Vary", "Accept-Encoding"))).isTrue();
            cache.close(); // the old configuration retired

            assertThat(body(after.lookup(get("/page")).response())).isEqualTo("new");
            assertThat(body(after.lookup(get("/gz", "Accept-Encoding", "gzip")).response())).isEqualTo("Z");
            assertThat(after.lookup(get("/gz")).outcome()).as("its Vary index came along").isEqualTo(Lookup.Outcome.MISS);
        }
    }

    /**
     * Two reloads while one request runs: its answer goes on along the chain of caches, through one already closed (a
     * generation retired before the request's own), to the one in use; where a cache's settings refuse the newer
     * answer (over its largest object size), the older copy carried there goes, rather than answer on.
     */
    @Test
    void whatTheFirstCacheStoresReachesTheLastThroughAClosedOneAndDropsACopyTheNewerAnswerCannotReplace() {
        store(get("/page"), backend("old", "Cache-Control", "max-age=600"));
        store(get("/grown"), backend("old", "Cache-Control", "max-age=600"));
        ResponseCacheSettings small = new ResponseCacheSettings(1 << 19, 8, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of(), true);
        ResponseCache second = new ResponseCache(small, time, time::read, cache);
        ResponseCache third = new ResponseCache(small, time, time::read, second);
        second.close(); // retired while the first cache's request still runs
        try (third) {
            assertThat(store(get("/page"), backend("new", "Cache-Control", "max-age=600"))).isTrue();
            assertThat(store(get("/grown"), backend("now longer than 8 bytes", "Cache-Control", "max-age=600")))
                    .isTrue();

            assertThat(body(third.lookup(get("/page")).response())).isEqualTo("new");
            assertThat(third.lookup(get("/grown")).outcome()).as("the older copy is not answered on")
                    .isEqualTo(Lookup.Outcome.MISS);
        }
    }

    @Test
    void aLookupAfterAFlightIsNotCountedAgain() {
        Lookup first = cache.lookup(get("/a"));
        assertThat(first.outcome()).isEqualTo(Lookup.Outcome.MISS);
        assertThat(cache.lookupAfterFlight(get("/a"), first).outcome()).isEqualTo(Lookup.Outcome.MISS);
        store(get("/a"), backend("A", "Cache-Control", "max-age=10"));
        Lookup again = cache.lookupAfterFlight(get("/a"), first);
        assertThat(again.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(again.response())).isEqualTo("A");
        assertThat(cache.stats().misses()).isEqualTo(1);
        assertThat(cache.stats().hits()).isZero();
        assertThat(cache.lookup(get("/a")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(cache.stats().hits()).isEqualTo(1);
    }

    @Test
    void ageFromTheBackendCountsAgainstFreshness() {
        store(get("/a"), backend("A", "Cache-Control", "max-age=10", "Age", "8"));
        FullHttpResponse response = cache.lookup(get("/a")).response();
        assertThat(response.headers().get("Age")).isEqualTo("8");
        response.release();
        time.advanceSeconds(2);
        assertThat(cache.lookup(get("/a")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    @Test
    void headIsAnsweredFromTheGetEntryWithoutABody() {
        store(get("/a"), backend("body", "Cache-Control", "max-age=60"));
        FullHttpResponse head = cache.lookup(request(HttpMethod.HEAD, "/a")).response();
        assertThat(head.content().readableBytes()).isZero();
        assertThat(head.headers().get("Content-Length")).isEqualTo("4");
        head.release();
    }

    @Test
    void varyKeepsOneEntryPerVariant() {
        store(get("/v", "Accept-Encoding", "gzip"), backend("zipped", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"));
        store(get("/v"), backend("plain", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"));
        assertThat(body(cache.lookup(get("/v", "Accept-Encoding", "gzip")).response())).isEqualTo("zipped");
        assertThat(body(cache.lookup(get("/v")).response())).isEqualTo("plain");
        assertThat(cache.lookup(get("/v", "Accept-Encoding", "br")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        assertThat(cache.stats().entries()).isEqualTo(2);
    }

    @Test
    void setCookiePrivateNoStoreAndAuthorizationAnswersAreNeverStored() {
        assertThat(store(get("/c"), backend("x", "Cache-Control", "max-age=60", "Set-Cookie", "s=1"))).isFalse();
        assertThat(store(get("/p"), backend("x", "Cache-Control", "private, max-age=60"))).isFalse();
        assertThat(store(get("/n"), backend("x", "Cache-Control", "no-store, max-age=60"))).isFalse();
        assertThat(store(get("/u", "Authorization", "Basic eDp5"), backend("x", "Cache-Control", "max-age=60"))).isFalse();
        for (String path : List.of("/c", "/p", "/n", "/u")) {
            assertThat(cache.lookup(get(path)).outcome()).as(path).isEqualTo(Lookup.Outcome.MISS);
        }
        assertThat(cache.stats().entries()).isZero();
    }

    @Test
    void requestsWithAuthorizationOrABypassCookieStayOut() {
        store(get("/a"), backend("A", "Cache-Control", "max-age=60"));
        store(get("/pub"), backend("P", "Cache-Control", "public, max-age=60"));
        assertThat(cache.lookup(get("/a", "Authorization", "Bearer t")).outcome()).isEqualTo(Lookup.Outcome.BYPASS);
        assertThat(cache.lookup(get("/pub", "Authorization", "Bearer t")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(cache.lookup(get("/a", "Cookie", "SESSID=1")).outcome()).isEqualTo(Lookup.Outcome.BYPASS);
        assertThat(cache.lookup(request(HttpMethod.POST, "/a")).outcome()).isEqualTo(Lookup.Outcome.BYPASS);
        assertThat(cache.stats().bypasses()).isEqualTo(3);
        assertThat(cache.bypassed("").outcome()).as("a bypass decided outside, a location's bypass texts")
                .isEqualTo(Lookup.Outcome.BYPASS);
        assertThat(cache.stats().bypasses()).isEqualTo(4);
    }

    @Test
    void clientNoCacheForcesARevalidation() {
        store(get("/a"), backend("A", "Cache-Control", "max-age=60"));
        assertThat(cache.lookup(get("/a", "Cache-Control", "no-cache")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(cache.lookup(get("/a", "Cache-Control", "max-age=0")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    @Test
    void revalidationSendsValidatorsAndMergesA304() {
        store(get("/e"), backend("E", "Cache-Control", "max-age=1", "ETag", "\"v1\"",
                "Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT", "X-Old", "1"));
        time.advanceSeconds(2);
        Lookup stale = cache.lookup(get("/e", "If-None-Match", "\"client\"", "Range", "bytes=0-1"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        HttpRequest backendRequest = stale.backendRequest(get("/e", "If-None-Match", "\"client\"", "Range", "bytes=0-1"));
        assertThat(backendRequest.headers().getAll("If-None-Match")).containsExactly("\"v1\"");
        assertThat(backendRequest.headers().get("If-Modified-Since")).isEqualTo("Tue, 14 Nov 2023 22:13:20 GMT");
        assertThat(backendRequest.headers().contains("Range")).isFalse();

        HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        notModified.headers().set("Cache-Control", "max-age=10").set("X-Old", "2").set("Content-Length", "0");
        FullHttpResponse merged = cache.revalidated(stale, notModified);
        assertThat(merged.headers().get("X-Old")).isEqualTo("2");
        assertThat(merged.headers().get("Content-Length")).isEqualTo("1");
        assertThat(body(merged)).isEqualTo("E");
        time.advanceSeconds(9);
        Lookup fresh = cache.lookup(get("/e"));
        assertThat(fresh.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(fresh.response())).isEqualTo("E");
        assertThat(cache.stats().entries()).isEqualTo(1);
    }

    /**
     * RFC 9111 4.3.4: a 304 naming another version (its ETag, else its Last-Modified) updates nothing; the entry is
     * dropped, so that its body is never sent under the new version's validator. One that names it (a weak ETag by
     * weak comparison, the same date in another form) merges.
     */
    @Test
    void a304ForAnotherVersionUpdatesNothingAndDropsTheEntry() {
        for (String[] other : new String[][] {{"ETag", "\"v2\""}, {"ETag", "W/\"v2\""},
                {"Last-Modified", "Wed, 15 Nov 2023 22:13:20 GMT"}}) {
            store(get("/e"), backend("E", "Cache-Control", "max-age=1", "ETag", "\"v1\"",
                    "Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT"));
            time.advanceSeconds(2);
            Lookup stale = cache.lookup(get("/e"));
            assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
            HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
            notModified.headers().set("Cache-Control", "max-age=60").set(other[0], other[1]);
            assertThat(cache.revalidated(stale, notModified)).as(other[1]).isNull();
            assertThat(cache.lookup(get("/e")).outcome()).as(other[1]).isEqualTo(Lookup.Outcome.MISS);
        }
        for (String[] same : new String[][] {{"ETag", "W/\"v1\""}, {"Last-Modified", "Tuesday, 14-Nov-23 22:13:20 GMT"},
                {"X-None", "1"}}) {
            store(get("/e"), backend("E", "Cache-Control", "max-age=1", "ETag", "\"v1\"",
                    "Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT"));
            time.advanceSeconds(2);
            Lookup stale = cache.lookup(get("/e"));
            HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
            notModified.headers().set("Cache-Control", "max-age=60").set(same[0], same[1]);
            FullHttpResponse merged = cache.revalidated(stale, notModified);
            assertThat(body(merged)).as(same[1]).isEqualTo("E");
            assertThat(cache.lookup(get("/e")).outcome()).as(same[1]).isEqualTo(Lookup.Outcome.FRESH);
        }
    }

    @Test
    void a304WithoutDateDatesTheEntryNowSoExpiresStaysInThePast() {
        String t0 = DateFormatter.format(new Date(time.wallMillis()));
        String t60 = DateFormatter.format(new Date(time.wallMillis() + 60_000));
        store(get("/x"), backend("X", "Date", t0, "Expires", t60, "ETag", "\"x\""));
        time.advanceSeconds(600);
        Lookup stale = cache.lookup(get("/x"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);

        HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        notModified.headers().set("ETag", "\"x\"");
        FullHttpResponse merged = cache.revalidated(stale, notModified);
        String now = DateFormatter.format(new Date(time.wallMillis()));
        assertThat(merged.headers().get("Date")).isEqualTo(now);
        assertThat(merged.headers().get("Age")).isEqualTo("0");
        assertThat(body(merged)).isEqualTo("X");
        // Expires - Date is now in the past: the merge gives no new freshness, and the Date and Age stay in step
        Lookup after = cache.lookup(get("/x"));
        assertThat(after.outcome()).isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(5);
        FullHttpResponse later = cache.lookup(get("/x")).response();
        assertThat(later.headers().get("Date")).isEqualTo(now);
        assertThat(later.headers().get("Age")).isEqualTo("5");
        later.release();
    }

    @Test
    void noCacheWithAValidatorIsStoredButAlwaysRevalidated() {
        store(get("/nc"), backend("N", "Cache-Control", "no-cache", "ETag", "\"n\""));
        Lookup lookup = cache.lookup(get("/nc"));
        assertThat(lookup.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(lookup.usableOnError()).isFalse();
    }

    /**
     * An answer every use must revalidate (max-age=0 or no-cache with a validator) that a flight stored or revalidated
     * after a request's lookup answers that request when the flight ends: the backend validated it after the request
     * came, also where its URL was purged since. A request that looks later revalidates (the cache audit: each
     * follower of such a URL revalidated again, one after another).
     */
    @Test
    void whatAFlightValidatedAfterALookupIsFreshToItEvenWhereEveryUseRevalidates() {
        for (String cc : new String[] {"max-age=0", "no-cache"}) {
            String path = "/" + cc;
            store(get(path), backend("v1", "Cache-Control", cc, "ETag", "\"v1\""));
            time.advance(1);
            Lookup follower = cache.lookup(get(path));
            Lookup purged = cache.lookup(get(path));
            Lookup leader = cache.lookup(get(path));
            assertThat(follower.outcome()).as(cc).isEqualTo(Lookup.Outcome.STALE);
            assertThat(cache.lookupAfterFlight(get(path), follower).outcome()).as(cc + ": nothing validated since")
                    .isEqualTo(Lookup.Outcome.STALE);
            time.advance(1);
            HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
            notModified.headers().set("Cache-Control", cc).set("ETag", "\"v1\"");
            assertThat(body(cache.revalidated(leader, notModified))).isEqualTo("v1");
            time.advance(1);
            Lookup after = cache.lookupAfterFlight(get(path), follower);
            assertThat(after.outcome()).as(cc).isEqualTo(Lookup.Outcome.FRESH);
            assertThat(body(after.response())).isEqualTo("v1");
            assertThat(cache.lookup(get(path)).outcome()).as(cc + ": a request after it").isEqualTo(Lookup.Outcome.STALE);
            Lookup late = cache.lookup(get(path));
            assertThat(cache.lookupAfterFlight(get(path), late).outcome()).as(cc + ": validated before this lookup")
                    .isEqualTo(Lookup.Outcome.STALE);
            cache.purge(ResponseCache.keyOf(get(path)), true);
            // it came before the purge, which came while it waited: the page from before answers it (the followers of a
            // fill a POST overtook); a request that came after the purge revalidates, as the test of that shows
            assertThat(cache.lookupAfterFlight(get(path), follower).outcome()).as(cc + ": purged after it came")
                    .isEqualTo(Lookup.Outcome.FRESH);
            assertThat(purged.outcome()).isEqualTo(Lookup.Outcome.STALE);
        }
    }

    @Test
    void staleWhileRevalidateAnswersStaleWhileExactlyOneRefreshRuns() {
        store(get("/s"), backend("old", "Cache-Control", "max-age=1, stale-while-revalidate=30"));
        time.advanceSeconds(5);
        int refreshes = 0;
        Coalescer.Ticket ticket = null;
        for (int i = 0; i < 20; i++) {
            Lookup lookup = cache.lookup(get("/s"));
            assertThat(lookup.outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
            assertThat(body(lookup.response())).isEqualTo("old");
            Coalescer.Ticket refresh = lookup.refresh();
            if (refresh != null) {
                refreshes++;
                ticket = refresh;
            }
        }
        assertThat(refreshes).isEqualTo(1);
        assertThat(cache.stats().staleAnswers()).isEqualTo(20);
        store(get("/s"), backend("new", "Cache-Control", "max-age=1, stale-while-revalidate=30"));
        ticket.done();
        Lookup after = cache.lookup(get("/s"));
        assertThat(after.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(after.response())).isEqualTo("new");
        time.advanceSeconds(40);
        assertThat(cache.lookup(get("/s")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    @Test
    void aLookupTakenBeforeARefreshLandedDoesNotStartAnother() {
        store(get("/r"), backend("old", "Cache-Control", "max-age=1, stale-while-revalidate=30"));
        time.advanceSeconds(5);
        Lookup early = cache.lookup(get("/r"));
        assertThat(early.outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
        Coalescer.Ticket refresh = cache.lookup(get("/r")).refresh();
        assertThat(refresh).isNotNull();
        store(get("/r"), backend("new", "Cache-Control", "max-age=1, stale-while-revalidate=30"));
        refresh.done();
        assertThat(early.refresh()).as("the entry it saw was already replaced").isNull();
        assertThat(cache.coalescer().inFlight()).isZero();
        assertThat(body(cache.lookup(get("/r")).response())).isEqualTo("new");
        time.advanceSeconds(5);
        assertThat(cache.lookup(get("/r")).refresh()).as("the new entry, stale in turn, is refreshed").isNotNull();
    }

    @Test
    void staleIfErrorAndTheGraceAnswerWhenTheBackendFails() {
        graceOf(Duration.ofSeconds(100));
        store(get("/sie"), backend("S", "Cache-Control", "max-age=1, stale-if-error=300"));
        store(get("/g"), backend("G", "Cache-Control", "max-age=1"));
        store(get("/mr"), backend("M", "Cache-Control", "max-age=1, must-revalidate"));
        time.advanceSeconds(50);
        assertThat(body(cache.lookup(get("/sie")).responseOnError())).isEqualTo("S");
        assertThat(body(cache.lookup(get("/g")).responseOnError())).isEqualTo("G");
        assertThat(cache.lookup(get("/mr")).usableOnError()).isFalse();
        time.advanceSeconds(100);
        assertThat(cache.lookup(get("/sie")).usableOnError()).isTrue();
        assertThat(cache.lookup(get("/g")).usableOnError()).isFalse();
        time.advanceSeconds(200);
        assertThat(cache.lookup(get("/sie")).usableOnError()).isFalse();
        assertThat(cache.stats().staleAnswers()).isEqualTo(2);
    }

    @Test
    void sMaxAgeIsProxyRevalidateSoTheGraceNeverAnswersForIt() {
        graceOf(Duration.ofSeconds(100));
        store(get("/sm"), backend("S", "Cache-Control", "s-maxage=60"));
        store(get("/sie"), backend("E", "Cache-Control", "s-maxage=60, stale-if-error=300"));
        store(get("/ma"), backend("M", "Cache-Control", "max-age=60"));
        // Still fresh (a client's no-cache may force a revalidation): a backend error is answered with it.
        assertThat(body(cache.lookup(get("/sm")).responseOnError())).isEqualTo("S");
        time.advanceSeconds(120);
        assertThat(cache.lookup(get("/sm")).usableOnError()).isFalse();
        assertThat(cache.lookup(get("/sm")).responseOnError()).isNull();
        // the origin's own stale-if-error still allows it, as does the grace without s-maxage
        assertThat(body(cache.lookup(get("/sie")).responseOnError())).isEqualTo("E");
        assertThat(body(cache.lookup(get("/ma")).responseOnError())).isEqualTo("M");
    }

    @Test
    void concurrentMissesCoalesceOnOneLeader() {
        List<Coalescer.Ticket> tickets = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Lookup miss = cache.lookup(get("/hot"));
            assertThat(miss.outcome()).isEqualTo(Lookup.Outcome.MISS);
            tickets.add(cache.coalesce(miss));
        }
        assertThat(tickets.stream().filter(Coalescer.Ticket::leader).count()).isEqualTo(1);
        var waits = tickets.stream().filter(t -> !t.leader()).map(Coalescer.Ticket::ended).toList();
        store(get("/hot"), backend("H", "Cache-Control", "max-age=60"));
        tickets.get(0).done();
        assertThat(waits).allSatisfy(w -> assertThat(w.getNow(null)).isEqualTo(Coalescer.Outcome.DONE));
        assertThat(cache.lookup(get("/hot")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(cache.stats().coalesced()).isEqualTo(9);
    }

    @Test
    void purgeByKeyAndPrefixRemovesOrMarksStale() {
        store(get("/blog/1"), backend("1", "Cache-Control", "max-age=60, stale-while-revalidate=60"));
        store(get("/blog/2"), backend("2", "Cache-Control", "max-age=60"));
        store(get("/shop/1", "Accept-Language", "de"), backend("de", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(get("/shop/1", "Accept-Language", "fr"), backend("fr", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        assertThat(cache.purge(ResponseCache.keyOf(get("/shop/1")), false)).isEqualTo(2);
        assertThat(cache.lookup(get("/shop/1", "Accept-Language", "de")).outcome()).isEqualTo(Lookup.Outcome.MISS);

        assertThat(cache.purgePrefix(ResponseCache.keyOf(get("/blog/")), true)).isEqualTo(2);
        assertThat(cache.lookup(get("/blog/1")).outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
        assertThat(cache.lookup(get("/blog/2")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(cache.purge(ResponseCache.keyOf(get("/blog/2")), false)).isEqualTo(1);
        assertThat(cache.stats().entries()).isEqualTo(1);
    }

    @Test
    void purgeRemovesTheVariantsOfAUrlTheVaryIndexForgot() {
        // The script varies on Accept-Language only when the request has it: the answer without Vary, stored
        // last, drops the URL from the Vary index while the two variants stay stored.
        store(get("/v", "Accept-Language", "en"), backend("en 1", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(get("/v", "Accept-Language", "fr"), backend("fr 1", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(get("/v"), backend("none 1", "Cache-Control", "max-age=60"));
        assertThat(cache.purge(ResponseCache.keyOf(get("/v")), false)).isEqualTo(3);

        // A new answer with Vary makes the index know the URL again: no old variant may come back with it.
        store(get("/v", "Accept-Language", "en"), backend("en 2", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        assertThat(cache.lookup(get("/v", "Accept-Language", "fr")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        assertThat(body(cache.lookup(get("/v", "Accept-Language", "en")).response())).isEqualTo("en 2");
        assertThat(cache.stats().entries()).isEqualTo(1);

        store(get("/v", "Accept-Language", "fr"), backend("fr 2", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(get("/v"), backend("none 2", "Cache-Control", "max-age=60"));
        assertThat(cache.purgePrefix(ResponseCache.keyOf(get("/v")), true)).isEqualTo(3);
        assertThat(cache.purge(ResponseCache.keyOf(get("/v")), false)).isEqualTo(3);
        assertThat(cache.stats().entries()).isZero();
    }

    @Test
    void theVariantIndexForgetsVariantsOnceTheyAreGone() {
        store(get("/v", "Accept-Language", "en"), backend("en", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(get("/v", "Accept-Language", "en"), backend("en again", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        assertThat(cache.purge(ResponseCache.keyOf(get("/v")), false)).isEqualTo(1); // the replaced one stayed known
        assertThat(cache.variantIndexSize()).isZero(); // and the purged one was forgotten
    }

    /**
     * A full cache turns most newcomers away (W-TinyLFU): their removal runs inside their own put, before the variant
     * record knew them. Thousands of distinct URLs with Vary (query strings a client picks) must not leave a key each.
     */
    @Test
    void theVariantIndexKeepsNoKeyOfAnEntryTurnedAwayByAFullCache() {
        cache.close();
        cache = cache(Duration.ZERO, 256 * 1024, ByteBufAllocator.DEFAULT);
        for (int i = 0; i < 5_000; i++) {
            store(get("/v?i=" + i, "Accept-Language", "en"),
                    backend("x".repeat(512), "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        }
        cache.cleanUp();
        assertThat(cache.variantIndexSize()).isLessThanOrEqualTo((int) cache.stats().entries());
    }

    @Test
    void aNonErrorAnswerToAnUnsafeMethodRemovesItsTargetAndItsSameHostLocations() {
        for (String uri : List.of("/shop/item/7", "/shop/list?page=1", "/shop/other", "/shop/kept")) {
            store(get(uri), backend(uri, "Cache-Control", "max-age=60"));
        }
        store(get("/shop/cart", "Accept-Language", "en"), backend("en", "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        store(get("/shop/cart"), backend("none", "Cache-Control", "max-age=60")); // the Vary index forgot the URL
        HttpRequest post = request(HttpMethod.POST, "/shop/cart");

        assertThat(cache.invalidate(post, CachePolicyTest.response(500), false)).isZero();
        assertThat(cache.invalidate(post, CachePolicyTest.response(404), false)).isZero();
        assertThat(cache.invalidate(request(HttpMethod.OPTIONS, "/shop/cart"), CachePolicyTest.response(200), false)).isZero();
        assertThat(cache.invalidate(post, CachePolicyTest.response(303, "Location", "http://elsewhere.org/shop/item/7"), false))
                .as("the target with its variant, not another host's URL").isEqualTo(2);
        assertThat(cache.invalidate(request(HttpMethod.PUT, "/shop/item/9"), CachePolicyTest.response(201,
                "Location", "/shop/item/7", "Content-Location", "../list?page=1"), false)).isEqualTo(2);
        assertThat(cache.invalidate(request(HttpMethod.DELETE, "/shop/item/9"), CachePolicyTest.response(204,
                "Content-Location", "http://EXAMPLE.org/shop/other"), false)).isEqualTo(1);
        assertThat(cache.stats().entries()).isEqualTo(1);
        assertThat(cache.lookup(get("/shop/kept")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
    }

    /**
     * With purge-marks-stale, an invalidation keeps the entry for outages: stale, asked for again (with its validators)
     * before any use, stale-while-revalidate notwithstanding (RFC 9111 4.4: in need of a mandatory validation), but an
     * answer when the backend fails. A PURGE's mark still lets stale-while-revalidate answer.
     */
    @Test
    void anInvalidationThatMarksStaleKeepsTheEntryOnlyForRevalidationAndErrors() {
        graceOf(Duration.ofHours(1));
        store(get("/page"), backend("page", "Cache-Control", "max-age=60, stale-while-revalidate=60", "ETag", "\"v1\""));
        store(get("/purged"), backend("purged", "Cache-Control", "max-age=60, stale-while-revalidate=60"));
        assertThat(cache.invalidate(request(HttpMethod.valueOf("FOO"), "/page"), CachePolicyTest.response(200), true))
                .isEqualTo(1);
        Lookup invalidated = cache.lookup(get("/page"));
        assertThat(invalidated.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(invalidated.backendRequest(get("/page")).headers().get("If-None-Match")).isEqualTo("\"v1\"");
        assertThat(body(invalidated.responseOnError())).isEqualTo("page");
        time.advanceSeconds(1);
        assertThat(cache.lookup(get("/page")).outcome()).as("until revalidated").isEqualTo(Lookup.Outcome.STALE);

        assertThat(cache.purge(ResponseCache.keyOf(get("/purged")), true)).isEqualTo(1);
        assertThat(cache.lookup(get("/purged")).outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
    }

    /**
     * Sites on addresses of their own: one Host and target on two ports may be two sites' URL, each kept in its site's
     * scope. The misses of two sites lead a flight each (neither waits for the other's answer), what one stores the
     * other misses, and a purge, a prefix purge or an invalidation in one leaves the other's entry. Equal sites have one
     * scope, kept by a cache that replaces this one on a reload, where the entries stay their sites'.
     */
    @Test
    void scopesKeepOneSitesAnswersFromAnothers() {
        String publicSite = cache.scope(List.of("127.0.0.1:8080"));
        String adminSite = cache.scope(List.of("127.0.0.1:8081"));
        assertThat(cache.scope(List.of("127.0.0.1:8080"))).isEqualTo(publicSite).isNotEqualTo(adminSite);
        Lookup publicMiss = cache.lookup(publicSite, get("/p"));
        Lookup adminMiss = cache.lookup(adminSite, get("/p"));
        Coalescer.Ticket publicFlight = cache.coalesce(publicMiss);
        Coalescer.Ticket adminFlight = cache.coalesce(adminMiss);
        assertThat(publicFlight.leader()).isTrue();
        assertThat(adminFlight.leader()).as("not a follower of the other site's flight").isTrue();
        assertThat(fill(publicMiss, get("/p"), "public", "Cache-Control", "max-age=60")).isTrue();
        publicFlight.done();
        assertThat(cache.lookup(adminSite, get("/p")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        assertThat(cache.lookup(get("/p")).outcome()).as("nor in no scope").isEqualTo(Lookup.Outcome.MISS);
        assertThat(fill(adminMiss, get("/p"), "admin", "Cache-Control", "max-age=60")).isTrue();
        adminFlight.done();
        assertThat(body(cache.lookup(publicSite, get("/p")).response())).isEqualTo("public");
        assertThat(body(cache.lookup(adminSite, get("/p")).response())).isEqualTo("admin");

        assertThat(cache.purge(ResponseCache.keyOf(publicSite, get("/p")), false)).isEqualTo(1);
        assertThat(cache.purgePrefix(ResponseCache.keyOf(publicSite, get("/")), false)).isZero();
        FullHttpResponse ok = backend("done");
        try {
            assertThat(cache.invalidate(publicSite, request(HttpMethod.POST, "/p"), ok, false)).isZero();
        } finally {
            ok.release();
        }
        assertThat(cache.lookup(publicSite, get("/p")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        assertThat(body(cache.lookup(adminSite, get("/p")).response())).isEqualTo("admin");

        ResponseCacheSettings settings = new ResponseCacheSettings(1 << 19, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of("SESSID"), true);
        try (ResponseCache after = new ResponseCache(settings, time, time::read, cache)) {
            assertThat(after.scope(List.of("127.0.0.1:8081"))).isEqualTo(adminSite);
            assertThat(body(after.lookup(adminSite, get("/p")).response())).isEqualTo("admin");
            assertThat(after.scope(List.of("127.0.0.1:8082"))).as("a new site").isNotIn(publicSite, adminSite);
        }
    }

    /**
     * The answers made for https requests (httpsScope) are kept apart from those made for http of the same URL, in no
     * site's scope and in one: neither is found for the other, nor purged with it, nor by a prefix purge of every path
     * of a host named like the marker (a Host holds no '/'); an invalidation in it reaches the URLs a Location names
     * as in any scope.
     */
    @Test
    void theHttpsScopeKeepsAnswersForHttpsApartFromThoseForHttp() {
        for (String site : List.of("", cache.scope(List.of("127.0.0.1:8080")))) {
            String https = ResponseCache.httpsScope(site);
            Lookup plainMiss = cache.lookup(site, get("/s" + site.length()));
            assertThat(fill(plainMiss, get("/s" + site.length()), "moved", "Cache-Control", "max-age=60")).isTrue();
            assertThat(cache.lookup(https, get("/s" + site.length())).outcome()).isEqualTo(Lookup.Outcome.MISS);
            Lookup secureMiss = cache.lookup(https, get("/s" + site.length()));
            assertThat(fill(secureMiss, get("/s" + site.length()), "secure", "Cache-Control", "max-age=60")).isTrue();
            assertThat(body(cache.lookup(site, get("/s" + site.length())).response())).isEqualTo("moved");
            assertThat(body(cache.lookup(https, get("/s" + site.length())).response())).isEqualTo("secure");

            for (String host : List.of("https", "https:")) {
                HttpRequest everyPath = get("");
                everyPath.headers().set("Host", host);
                assertThat(cache.purgePrefix(ResponseCache.keyOf(site, everyPath), false)).as(host).isZero();
            }
            assertThat(cache.purgePrefix(ResponseCache.keyOf(site, get("/")), false)).isEqualTo(1);
            assertThat(body(cache.lookup(https, get("/s" + site.length())).response())).isEqualTo("secure");
            assertThat(cache.purge(ResponseCache.keyOf(https, get("/s" + site.length())), false)).isEqualTo(1);
            assertThat(cache.lookup(https, get("/s" + site.length())).outcome()).isEqualTo(Lookup.Outcome.MISS);
        }
        Lookup miss = cache.lookup(ResponseCache.httpsScope(""), get("/listed"));
        assertThat(fill(miss, get("/listed"), "list", "Cache-Control", "max-age=60")).isTrue();
        FullHttpResponse created = backend("", "Location", "https://example.org/listed");
        try {
            assertThat(cache.invalidate(ResponseCache.httpsScope(""), request(HttpMethod.POST, "/new"), created, false))
                    .isEqualTo(1);
        } finally {
            created.release();
        }
    }

    /** Records {@code body} as the answer to the request {@code asked} led to; whether it was stored. */
    boolean fill(Lookup asked, HttpRequest request, String body, String... headers) {
        FullHttpResponse answer = backend(body, headers);
        try (ResponseRecorder recorder = cache.record(asked, asked.backendRequest(request), answer)) {
            return recorder != null && recorder.append(answer.content()) && recorder.finish();
        } finally {
            answer.release();
        }
    }

    /**
     * A purge, or an invalidation, that comes while a fill of its URL is on its way (the script read the old page, the
     * CMS saved and purged, then the answer came): the answer is never fresh to a request that comes after it, nor
     * answers one stale where the purge removed what there was. It was stored as any, and the old page was back for
     * its whole lifetime right after the purge, which found nothing to remove (a 404 to PURGE) or removed the stale
     * copy being refreshed.
     */
    @Test
    void anAnswerAskedForBeforeAPurgeOfItsUrlIsNeverFreshAfterIt() {
        Lookup miss = cache.lookup(get("/p"));
        assertThat(miss.outcome()).isEqualTo(Lookup.Outcome.MISS);
        Lookup other = cache.lookup(get("/other"));
        assertThat(cache.purge(ResponseCache.keyOf(get("/p")), false)).as("nothing stored yet").isZero();
        assertThat(fill(miss, get("/p"), "old", "Cache-Control", "max-age=300")).isFalse();
        Lookup afterPurge = cache.lookup(get("/p"));
        assertThat(afterPurge.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(afterPurge.responseOnError()).as("the purge left nothing for errors").isNull();
        assertThat(fill(other, get("/other"), "o", "Cache-Control", "max-age=300")).as("another URL").isTrue();
        Lookup after = cache.lookup(get("/p"));
        assertThat(fill(after, get("/p"), "new", "Cache-Control", "max-age=300")).as("asked after the purge").isTrue();
        assertThat(body(cache.lookup(get("/p")).response())).isEqualTo("new");

        Lookup beforePost = cache.lookup(get("/q"));
        cache.invalidate(request(HttpMethod.POST, "/q"), CachePolicyTest.response(200), false);
        assertThat(fill(beforePost, get("/q"), "old", "Cache-Control", "max-age=300")).as("a POST's invalidation")
                .isFalse();
        Lookup beforePrefix = cache.lookup(get("/shop/1"));
        cache.purgePrefix(ResponseCache.keyOf(get("/shop/")), false);
        assertThat(fill(beforePrefix, get("/shop/1"), "old", "Cache-Control", "max-age=300")).as("a purge by prefix")
                .isFalse();
        for (String path : List.of("/q", "/shop/1")) {
            Lookup later = cache.lookup(get(path));
            assertThat(later.outcome()).as(path).isEqualTo(Lookup.Outcome.STALE);
            assertThat(later.responseOnError()).as(path).isNull();
        }
    }

    /**
     * A POST (its invalidation removes, the default) that comes while a page is filled: the requests that waited for the
     * fill since before the POST answer from it, those that came after the POST never do, nor does any later request
     * but through a revalidation. The answer was not stored, and each request waiting for it went to the backend in
     * turn: POSTs coming during every fill made every GET a backend request of its own, one behind another.
     */
    @Test
    void theRequestsWaitingForAFillAPostOvertookSinceBeforeThePostAnswerFromIt() {
        Lookup leader = cache.lookup(get("/f"));
        Coalescer.Ticket flight = cache.coalesce(leader);
        assertThat(flight.leader()).isTrue();
        Lookup beforePost = cache.lookup(get("/f"));
        Coalescer.Ticket waiting = cache.coalesce(beforePost);
        assertThat(waiting.leader()).isFalse();
        cache.invalidate(request(HttpMethod.POST, "/f"), CachePolicyTest.response(200), false);
        Lookup afterPost = cache.lookup(get("/f"));
        assertThat(cache.coalesce(afterPost).leader()).isFalse();
        time.advanceSeconds(1);
        assertThat(fill(leader, get("/f"), "before the POST", "Cache-Control", "max-age=300", "ETag", "\"b\""))
                .as("not for every request that comes").isFalse();
        flight.notStored();

        Lookup waited = cache.lookupAfterFlight(get("/f"), beforePost);
        assertThat(waited.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(waited.response())).isEqualTo("before the POST");
        Lookup cameAfter = cache.lookupAfterFlight(get("/f"), afterPost);
        assertThat(cameAfter.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(cameAfter.backendRequest(get("/f")).headers().get("If-None-Match")).isEqualTo("\"b\"");
        Lookup next = cache.lookup(get("/f"));
        assertThat(next.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(next.responseOnError()).as("the POST removed what there was").isNull();

        // a fill asked for after the POST that ended first stays: the overtaken one comes after it, older
        Lookup early = cache.lookup(get("/g"));
        cache.invalidate(request(HttpMethod.POST, "/g"), CachePolicyTest.response(200), false);
        Lookup late = cache.lookup(get("/g"));
        assertThat(fill(late, get("/g"), "new", "Cache-Control", "max-age=300")).isTrue();
        assertThat(fill(early, get("/g"), "old", "Cache-Control", "max-age=300")).isFalse();
        assertThat(body(cache.lookup(get("/g")).response())).isEqualTo("new");
    }

    /**
     * With purge-marks-stale, a POST during a fill marks the copy there; the fill's answer, newer, takes its place with
     * the same use: in need of a revalidation, and an answer when the backend fails, as the copy was.
     */
    @Test
    void aFillAPostOvertookTakesThePlaceOfTheCopyItMarkedWithItsUse() {
        graceOf(Duration.ofHours(1));
        store(get("/m"), backend("v1", "Cache-Control", "max-age=1"));
        time.advanceSeconds(2);
        Lookup refill = cache.lookup(get("/m"));
        assertThat(refill.outcome()).isEqualTo(Lookup.Outcome.STALE);
        cache.invalidate(request(HttpMethod.POST, "/m"), CachePolicyTest.response(200), true);
        assertThat(fill(refill, get("/m"), "v2", "Cache-Control", "max-age=300")).isFalse();
        Lookup next = cache.lookup(get("/m"));
        assertThat(next.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(body(next.responseOnError())).isEqualTo("v2");
    }

    /**
     * A fill a PURGE that marks overtook answers stale while revalidated no longer than the copy the purge marked would
     * have: its window counts from the purge, not from when the overtaken answer came. It answered stale to requests
     * that came after the PURGE for as long again as the fill took past the purge.
     */
    @Test
    void aFillAPurgeOvertookAnswersStaleNoLongerThanTheCopyThePurgeMarked() {
        store(get("/w"), backend("v1", "Cache-Control", "max-age=1, stale-while-revalidate=10"));
        time.advanceSeconds(2);
        Lookup refreshing = cache.lookup(get("/w"));
        assertThat(refreshing.outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
        assertThat(cache.purge(ResponseCache.keyOf(get("/w")), true)).isEqualTo(1);
        time.advanceSeconds(8); // the refresh takes its time: 10 s after the copy's freshness ended
        assertThat(fill(refreshing, get("/w"), "v2", "Cache-Control", "max-age=1, stale-while-revalidate=10"))
                .isFalse();
        assertThat(cache.lookup(get("/w")).outcome()).as("within the marked copy's window")
                .isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
        time.advanceSeconds(2);
        Lookup later = cache.lookup(get("/w"));
        assertThat(later.outcome()).as("past it: the copy would have been revalidated").isEqualTo(Lookup.Outcome.STALE);
        assertThat(later.responseOnError()).isNull();
    }

    /**
     * A fill asked for before a purge by prefix (which names no URL, so every answer asked for before it counts as
     * overtaken) of a URL whose copy is fresh, which no purge marked: the copy stays fresh. The fill's answer took its
     * place stale, inheriting the fresh copy's use though it was no copy a purge left: where a fill stored since the
     * purge (a race with its own check) was such a copy, a removal's URL answered stale from before the purge.
     */
    @Test
    void aFillOvertookNeverTakesThePlaceOfACopyNoPurgeMarked() {
        store(get("/other"), backend("v1", "Cache-Control", "max-age=300"));
        Lookup forced = cache.lookup(get("/other", "Cache-Control", "no-cache"));
        assertThat(forced.outcome()).isEqualTo(Lookup.Outcome.STALE);
        cache.purgePrefix(ResponseCache.keyOf(get("/shop/")), false);
        assertThat(fill(forced, get("/other"), "v2", "Cache-Control", "max-age=300")).isFalse();
        Lookup next = cache.lookup(get("/other"));
        assertThat(next.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(next.response())).isEqualTo("v1");
    }

    /**
     * The background refresh of a stale copy, and a 304 that revalidates one, asked for before a purge that marks
     * the copy stale: neither makes it fresh again with the old page; the refresh's answer takes the copy's place,
     * stale as the purge left it, and the copy stays stale, for the next request to ask again.
     */
    @Test
    void aRefreshOrRevalidationAskedForBeforeAPurgeLeavesTheCopyStale() {
        store(get("/s"), backend("old", "Cache-Control", "max-age=2, stale-while-revalidate=60", "ETag", "\"v1\""));
        time.advanceSeconds(3);
        Lookup refreshing = cache.lookup(get("/s"));
        assertThat(refreshing.outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
        assertThat(cache.purge(ResponseCache.keyOf(get("/s")), true)).isEqualTo(1);
        assertThat(fill(refreshing, get("/s"), "old again", "Cache-Control", "max-age=300", "ETag", "\"v1\""))
                .isFalse();
        assertThat(cache.lookup(get("/s")).outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);

        Lookup revalidating = cache.lookup(get("/s"));
        cache.purge(ResponseCache.keyOf(get("/s")), true);
        HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        notModified.headers().set("ETag", "\"v1\"").set("Cache-Control", "max-age=300");
        assertThat(body(cache.revalidated(revalidating, notModified))).as("this request is answered")
                .isEqualTo("old again");
        assertThat(cache.lookup(get("/s")).outcome()).as("not renewed").isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);

        Lookup later = cache.lookup(get("/s"));
        assertThat(body(cache.revalidated(later, notModified))).isEqualTo("old again");
        assertThat(cache.lookup(get("/s")).outcome()).as("asked after the purge").isEqualTo(Lookup.Outcome.FRESH);
    }

    /**
     * A revalidation (a conditional GET for a stale copy) that a POST overtook, invalidations marking: its 304 renews
     * the copy as an overtaken fill's answer is stored, in need of a revalidation before any use, so that the requests
     * that waited for it since before the POST answer from it, and those that came after the POST ask again with its
     * validators. The copy was left as the POST marked it, and each waiting request went to the backend in turn.
     */
    @Test
    void theRequestsWaitingForARevalidationAPostOvertookSinceBeforeThePostAnswerFromIt() {
        store(get("/v"), backend("v1", "Cache-Control", "max-age=1", "ETag", "\"v1\""));
        time.advanceSeconds(2);
        Lookup leader = cache.lookup(get("/v"));
        assertThat(leader.outcome()).isEqualTo(Lookup.Outcome.STALE);
        Coalescer.Ticket flight = cache.coalesce(leader);
        assertThat(flight.leader()).isTrue();
        Lookup beforePost = cache.lookup(get("/v"));
        assertThat(cache.coalesce(beforePost).leader()).isFalse();
        cache.invalidate(request(HttpMethod.POST, "/v"), CachePolicyTest.response(200), true);
        Lookup afterPost = cache.lookup(get("/v"));
        assertThat(cache.coalesce(afterPost).leader()).isFalse();
        time.advanceSeconds(1);
        HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
        notModified.headers().set("ETag", "\"v1\"").set("Cache-Control", "max-age=300");
        assertThat(body(cache.revalidated(leader, notModified))).as("the leader is answered").isEqualTo("v1");
        flight.done();

        Lookup waited = cache.lookupAfterFlight(get("/v"), beforePost);
        assertThat(waited.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(waited.response())).isEqualTo("v1");
        Lookup cameAfter = cache.lookupAfterFlight(get("/v"), afterPost);
        assertThat(cameAfter.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(cameAfter.backendRequest(get("/v")).headers().get("If-None-Match")).isEqualTo("\"v1\"");
        assertThat(cache.lookup(get("/v")).outcome()).as("no later request has it as fresh")
                .isEqualTo(Lookup.Outcome.STALE);
    }

    /** A purge that comes to the cache a reload made keeps out what a request begun before the reload asked for. */
    @Test
    void aPurgeAfterAReloadKeepsOutAnAnswerAskedForBeforeIt() {
        Lookup beforeReload = cache.lookup(get("/r"));
        ResponseCacheSettings same = new ResponseCacheSettings(1 << 20, 64 * 1024, false, Duration.ofSeconds(5),
                HIT_FOR_MISS, Duration.ZERO, List.of("SESSID"), true);
        try (ResponseCache next = new ResponseCache(same, time, time::read, cache)) {
            next.purge(ResponseCache.keyOf(get("/r")), false);
            assertThat(fill(beforeReload, get("/r"), "old", "Cache-Control", "max-age=300")).isFalse();
            assertThat(next.lookup(get("/r")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        }
    }

    /**
     * The marks are bounded, oldest purge out first: an answer asked for before the marks pushed out is kept out, any
     * URL's; one asked for after them is not, however full the marks are and however many other URLs are purged while
     * it runs (within the bound). Pushed out as Caffeine chose, a fresh mark could go first, and 50 purges of other URLs
     * during a fill kept it out.
     */
    @Test
    void marksPastTheirBoundKeepOutOnlyAnswersAskedForBeforeTheMarksPushedOut() {
        Lookup early = cache.lookup(get("/early"));
        String longPath = "/" + "x".repeat(1000) + "/";
        int marks = PurgeMarks.MAX_MARKS;
        for (int i = 0; i < 2 * marks; i++) { // twice what the marks hold
            cache.purge(ResponseCache.keyOf(get(longPath + (1000 + i))), false);
        }
        assertThat(fill(early, get("/early"), "e", "Cache-Control", "max-age=300")).isFalse();
        Lookup late = cache.lookup(get("/late"));
        for (int i = 0; i < marks / 2; i++) {
            cache.purge(ResponseCache.keyOf(get(longPath + (5000 + i))), false);
        }
        assertThat(fill(late, get("/late"), "l", "Cache-Control", "max-age=300")).isTrue();

        // a purge by prefix keeps out what was asked for before it, however many marks are pushed out after it
        Lookup beforePrefix = cache.lookup(get("/shop/1"));
        cache.purgePrefix(ResponseCache.keyOf(get("/shop/")), false);
        for (int i = 0; i < marks / 2; i++) { // pushing out marks older than the lookup
            cache.purge(ResponseCache.keyOf(get(longPath + (9000 + i))), false);
        }
        assertThat(fill(beforePrefix, get("/shop/1"), "s", "Cache-Control", "max-age=300")).isFalse();
    }

    /**
     * Any client may invalidate: a POST its script answers 2xx (a front controller answers one to any URL) marks its
     * URL, for http and https. A mark weighed its URL, so 32 POSTs to 8 KiB targets filled the marks' megabyte and each
     * one more pushed out a mark and raised the floor: a page filled meanwhile was kept out as if its own URL had been
     * purged, and its coalesced followers each ran the script (edge with php-fpm: 10 concurrent GETs of a 1.5 s page, 40
     * such POSTs during it, 10 runs and nothing stored). Marks weigh the same whatever the URL: a thousand such
     * invalidations of other URLs during a fill keep out nothing but their own URLs.
     */
    @Test
    void longInvalidatedUrlsDoNotPushOutTheMarksAFillIsJudgedBy() {
        Lookup filling = cache.lookup(get("/page"));
        String longTarget = "/?" + "x".repeat(8000) + "=";
        for (int i = 0; i < 500; i++) {
            HttpRequest post = request(HttpMethod.POST, longTarget + i);
            cache.invalidate(post, CachePolicyTest.response(200), false);
            cache.invalidate(ResponseCache.httpsScope(""), post, CachePolicyTest.response(200), false);
        }
        assertThat(fill(filling, get("/page"), "p", "Cache-Control", "max-age=300")).isTrue();
        assertThat(cache.lookup(get("/page")).outcome()).isEqualTo(Lookup.Outcome.FRESH);

        Lookup purged = cache.lookup(get(longTarget + 7));
        cache.invalidate(request(HttpMethod.POST, longTarget + 7), CachePolicyTest.response(200), false);
        assertThat(fill(purged, get(longTarget + 7), "q", "Cache-Control", "max-age=300"))
                .as("its own URL's invalidation still keeps it out").isFalse();
    }

    /**
     * A POST to a site whose cached location chooses its group by a variable invalidates its URL in every scope of the
     * site, each group's and the site's, for http and https: 2 x (groups + 1) invalidations. One mark covers the URL in
     * all of them, so 9 000 such POSTs to other URLs during a fill in a site of four groups leave the marks within
     * their bound. Each scope's mark was one of its own: 90 000 marks, a floor raised past the fill, which was kept out
     * as if its URL had been purged. What an invalidation in any scope marks still keeps out a fill of that URL asked for before it, in every
     * scope.
     */
    @Test
    void anInvalidationInEveryScopeOfASiteMarksItsUrlOnce() {
        String site = cache.scope(List.of("127.0.0.1:8080"));
        List<String> scopes = new ArrayList<>();
        scopes.add(site);
        for (int group = 0; group < 4; group++) {
            scopes.add(site + cache.scope(List.of("group", group)));
        }
        List<String> both = new ArrayList<>(scopes);
        scopes.forEach(scope -> both.add(ResponseCache.httpsScope(scope)));
        Lookup filling = cache.lookup(scopes.get(2), get("/page"));
        for (int i = 0; i < PurgeMarks.MAX_MARKS / 10 * 9; i++) {
            HttpRequest post = request(HttpMethod.POST, "/cart/" + i);
            for (String scope : both) {
                cache.invalidate(scope, post, CachePolicyTest.response(200), false);
            }
        }
        assertThat(fill(filling, get("/page"), "p", "Cache-Control", "max-age=300")).isTrue();

        for (String asked : both) {
            Lookup before = cache.lookup(asked, get("/cart/7"));
            cache.invalidate(scopes.get(1), request(HttpMethod.POST, "/cart/7"), CachePolicyTest.response(200), false);
            assertThat(fill(before, get("/cart/7"), "c", "Cache-Control", "max-age=300")).as(asked).isFalse();
        }
    }

    /**
     * Pins what one mark for a URL in every scope (e7e80e59) costs another site whose scope holds the same host and
     * target (sites on addresses of their own): a fill of it asked for before the other site's purge or invalidation of
     * the URL is taken as overtaken, not fresh to the next request (a revalidation more), but its entries stay and a
     * fill asked for after is fresh; the site's own purge still keeps out its own fill asked for before, as does a
     * purge by prefix every fill asked for before it, in any scope.
     */
    @Test
    void aMarkSharedWithAnotherSitesScopeCostsARevalidationNeverAFreshOldPageOrAPurge() {
        String publicSite = cache.scope(List.of("127.0.0.1:8080"));
        String adminSite = cache.scope(List.of("127.0.0.1:8081"));
        assertThat(fill(cache.lookup(adminSite, get("/kept")), get("/kept"), "admin", "Cache-Control", "max-age=300"))
                .isTrue();
        Lookup adminAsked = cache.lookup(adminSite, get("/page"));
        Lookup publicAsked = cache.lookup(publicSite, get("/page"));
        cache.purge(ResponseCache.keyOf(publicSite, get("/page")), false);
        cache.purge(ResponseCache.keyOf(publicSite, get("/kept")), false);
        assertThat(fill(publicAsked, get("/page"), "old", "Cache-Control", "max-age=300")).as("its own purge").isFalse();
        assertThat(cache.lookup(publicSite, get("/page")).outcome()).isNotEqualTo(Lookup.Outcome.FRESH);
        assertThat(fill(adminAsked, get("/page"), "admin", "Cache-Control", "max-age=300")).as("the mark shared")
                .isFalse();
        assertThat(cache.lookup(adminSite, get("/page")).outcome()).isNotEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(cache.lookup(adminSite, get("/kept")).response())).as("not purged with the other site's")
                .isEqualTo("admin");
        Lookup adminAfter = cache.lookup(adminSite, get("/page"));
        assertThat(fill(adminAfter, get("/page"), "new", "Cache-Control", "max-age=300")).isTrue();
        assertThat(body(cache.lookup(adminSite, get("/page")).response())).isEqualTo("new");

        Lookup beforePrefix = cache.lookup(adminSite, get("/other"));
        cache.purgePrefix(ResponseCache.keyOf(publicSite, get("/")), false);
        assertThat(fill(beforePrefix, get("/other"), "old", "Cache-Control", "max-age=300")).isFalse();
    }

    @Test
    void aResponseBeingSentSurvivesPurgeAndEviction() {
        store(get("/a"), backend("still here", "Cache-Control", "max-age=60"));
        FullHttpResponse sending = cache.lookup(get("/a")).response();
        cache.purge(ResponseCache.keyOf(get("/a")), false);
        assertThat(sending.content().refCnt()).isEqualTo(1);
        assertThat(body(sending)).isEqualTo("still here");
    }

    @Test
    void aLookupWhoseEntryWasRemovedNeverAnswersWithTheBytesOfAReusedBuffer() {
        graceOf(Duration.ofSeconds(100));
        String original = "the original body";
        store(get("/a"), backend(original, "Cache-Control", "max-age=1", "ETag", "\"v1\""));
        time.advanceSeconds(2);
        Lookup stale = cache.lookup(get("/a"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        cache.purge(ResponseCache.keyOf(get("/a")), false);
        // Pooled buffers are recycled objects: one of these is likely the removed entry's body, alive again.
        List<ByteBuf> reused = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            ByteBuf buffer = ByteBufAllocator.DEFAULT.directBuffer(original.length());
            reused.add(buffer.writeBytes("x".repeat(original.length()).getBytes(StandardCharsets.US_ASCII)));
        }
        try {
            HttpResponse notModified = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
            notModified.headers().set("Cache-Control", "max-age=60");
            assertThat(bodyOrNull(cache.revalidated(stale, notModified))).isNull();
            assertThat(bodyOrNull(stale.responseOnError())).isNull();
            assertThat(bodyOrNull(stale.response())).isNull();
            assertThat(cache.lookup(get("/a")).outcome()).isEqualTo(Lookup.Outcome.MISS);
        } finally {
            reused.forEach(ByteBuf::release);
        }
    }

    private static String bodyOrNull(FullHttpResponse response) {
        return response == null ? null : body(response);
    }

    /**
     * An answer stale the moment it is stored, with no validator and no stale-* word from the origin, would send
     * every request to the backend after it waited behind a leader for nothing: not stored (as nginx), and its URL
     * is hit-for-miss. A validator (revalidation by 304) or stale-if-error /
     * stale-while-revalidate make it worth keeping.
     */
    @Test
    void anAnswerStaleWhenStoredWithNothingToRevalidateItByIsNotStoredAndItsUrlIsHitForMiss() {
        String past = DateFormatter.format(new Date(time.wallMillis() - 60_000));
        String[][] useless = {{"Cache-Control", "public, max-age=0"}, {"Expires", past},
                {"Expires", "0"}, {"Cache-Control", "max-age=600, no-cache"}, {"Cache-Control", "max-age=5", "Age", "5"}};
        for (int i = 0; i < useless.length; i++) {
            String[] fields = useless[i];
            String path = "/useless-" + i;
            assertThat(store(get(path), backend("U", fields))).as(fields[1]).isFalse();
            Lookup lookup = cache.lookup(get(path));
            assertThat(lookup.outcome()).as(fields[1]).isEqualTo(Lookup.Outcome.MISS);
            assertThat(lookup.uncacheable()).as(fields[1]).isTrue();
        }
        String[][] kept = {{"Cache-Control", "max-age=0", "ETag", "\"e\""},
                {"Cache-Control", "max-age=0", "Last-Modified", past}, {"Cache-Control", "max-age=0, stale-if-error=60"},
                {"Cache-Control", "max-age=0, stale-while-revalidate=60"}, {"Cache-Control", "no-cache", "X-Accel-Expires", "10"}};
        for (int i = 0; i < kept.length; i++) {
            String[] fields = kept[i];
            String path = "/kept-" + i;
            assertThat(store(get(path), backend("K", fields))).as(String.join(" ", fields)).isTrue();
            assertThat(cache.lookup(get(path)).uncacheable()).isFalse();
        }
        assertThat(cache.stats().entries()).isEqualTo(kept.length);
        // an Age from a cache before it, past its lifetime: stale on arrival, the URL marked (a Date in the past is
        // no age: aBackendsDateInThePastOrFutureDoesNotAgeItsAnswer)
        assertThat(store(get("/aged"), backend("A", "Cache-Control", "max-age=1", "Age", "2"))).isFalse();
        assertThat(cache.lookup(get("/aged")).uncacheable()).isTrue();
    }

    /**
     * A backend's Date is its own clock, not a measure of how long its answer travelled (edge asks the script itself):
     * php-fpm on a host whose clock is 5 s behind, or a script that dates its answer as it starts and runs longer than
     * its lifetime, still has its max-age counted from receipt, as nginx does. It was stale on arrival, never stored,
     * and its URL marked hit-for-miss. A Date ahead gives no extra freshness either; an Age still counts.
     */
    @Test
    void aBackendsDateInThePastOrFutureDoesNotAgeItsAnswer() {
        String behind = DateFormatter.format(new Date(time.wallMillis() - 5_000));
        assertThat(store(get("/behind"), backend("B", "Cache-Control", "max-age=3", "Date", behind))).isTrue();
        String ahead = DateFormatter.format(new Date(time.wallMillis() + 3_600_000));
        assertThat(store(get("/ahead"), backend("A", "Cache-Control", "max-age=3", "Date", ahead))).isTrue();
        assertThat(store(get("/aged"), backend("G", "Cache-Control", "max-age=3", "Date", behind, "Age", "2"))).isTrue();
        Lookup hit = cache.lookup(get("/behind"));
        assertThat(hit.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(hit.response())).isEqualTo("B");
        assertThat(cache.lookup(get("/ahead")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advance(999_999_999L);
        assertThat(cache.lookup(get("/aged")).outcome()).isEqualTo(Lookup.Outcome.FRESH);
        time.advance(1);
        assertThat(cache.lookup(get("/aged")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        time.advanceSeconds(2);
        assertThat(cache.lookup(get("/behind")).outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(cache.lookup(get("/ahead")).outcome()).isEqualTo(Lookup.Outcome.STALE);
    }

    /**
     * A stale copy revalidated with an answer the cache may not keep (stale on arrival, or private now) is forgotten:
     * it must not go on answering for stale-while-revalidate or the grace after the origin replaced it.
     */
    @Test
    void anAnswerThatMayNotBeStoredReplacesTheStoredCopyItRevalidated() {
        graceOf(Duration.ofSeconds(3600));
        for (String[] fields : new String[][] {{"Cache-Control", "max-age=0"}, {"Cache-Control", "private, max-age=60"}}) {
            String path = "/replaced-" + fields[1].length();
            assertThat(store(get(path), backend("old", "Cache-Control", "max-age=1, stale-while-revalidate=600",
                    "ETag", "\"v1\""))).isTrue();
            time.advanceSeconds(2);
            assertThat(cache.lookup(get(path)).outcome()).isEqualTo(Lookup.Outcome.STALE_WHILE_REVALIDATE);
            assertThat(store(get(path), backend("new", fields))).as(fields[1]).isFalse();
            Lookup after = cache.lookup(get(path));
            assertThat(after.outcome()).as(fields[1]).isEqualTo(Lookup.Outcome.MISS);
            assertThat(after.responseOnError()).as("nothing for the grace to answer with").isNull();
        }
    }

    /** A body recorded without Content-Length grows by doubling; the entry holds, and the bound counts, its size. */
    @Test
    void aBodyRecordedWithoutItsLengthIsHeldAtItsExactSize() {
        byte[] content = new byte[33_114];
        new java.util.Random(7).nextBytes(content);
        try (ResponseRecorder recorder = cache.record(get("/grown"), head(HttpResponseStatus.OK, "Cache-Control", "max-age=60"))) {
            for (int at = 0; at < content.length; at += 8192) {
                assertThat(recorder.append(Unpooled.wrappedBuffer(content, at, Math.min(8192, content.length - at))))
                        .isTrue();
            }
            assertThat(recorder.finish()).isTrue();
        }
        cache.cleanUp();
        assertThat(cache.stats().bytesHeld()).isBetween((long) content.length, content.length + 1024L);
        FullHttpResponse hit = cache.lookup(get("/grown")).response();
        try {
            assertThat(ByteBufUtil.getBytes(hit.content())).isEqualTo(content);
        } finally {
            hit.release();
        }
    }

    /**
     * A request that outlives its generation finishes recording into a cache a reload closed: its body is released,
     * not stored where nothing would ever release it.
     */
    @Test
    void aBodyFinishedAfterTheCacheClosedIsReleasedNotStored() {
        List<ByteBuf> made = new ArrayList<>();
        ByteBufAllocator tracking = new AbstractByteBufAllocator(true) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                return Unpooled.buffer(initialCapacity, maxCapacity);
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                ByteBuf buffer = Unpooled.directBuffer(initialCapacity, maxCapacity);
                made.add(buffer);
                return buffer;
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        };
        cache.close();
        cache = cache(Duration.ZERO, 1 << 20, tracking);
        ResponseRecorder recorder = cache.record(get("/late"), head(HttpResponseStatus.OK, "Cache-Control", "max-age=60"));
        assertThat(recorder.append(Unpooled.wrappedBuffer(new byte[100]))).isTrue();
        cache.close();
        assertThat(recorder.finish()).isFalse();
        assertThat(made).isNotEmpty().allSatisfy(buffer -> assertThat(buffer.refCnt()).isZero());
        assertThat(cache.stats().entries()).isZero();
    }

    @Test
    void recordingGivesUpOverTheLargestObjectAndOnTruncation() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set("Cache-Control", "max-age=60");
        try (ResponseRecorder recorder = cache.record(get("/big"), head)) {
            var chunk = Unpooled.wrappedBuffer(new byte[40 * 1024]);
            assertThat(recorder.append(chunk)).isTrue();
            assertThat(recorder.append(chunk)).isFalse();
            assertThat(chunk.readerIndex()).isZero();
            assertThat(recorder.finish()).isFalse();
        }
        head.headers().set("Content-Length", 10);
        try (ResponseRecorder recorder = cache.record(get("/short"), head)) {
            recorder.append(Unpooled.wrappedBuffer(new byte[4]));
            assertThat(recorder.finish()).isFalse();
        }
        assertThat(cache.stats().entries()).isZero();
    }

    /**
     * What nginx's cache takes as cacheable, whose Range its range filter cuts on a miss: an answer past the largest
     * object size too (edge's own bound), and one kept out for its request alone (its no-store, its Authorization
     * without public: nginx's cache reads neither), not one with Set-Cookie or private. The request's no-store and
     * Authorization counted (measured against nginx 1.22: it stores and ranges both).
     */
    @Test
    void anAnswerTooLargeOrKeptOutForItsRequestIsStorableByItsHead() {
        HttpResponse large = head(HttpResponseStatus.OK, "Cache-Control", "max-age=60", "Content-Length", "10000000");
        assertThat(cache.storableByItsHead(large)).isTrue();
        try (ResponseRecorder recorder = cache.record(get("/large"), large)) {
            assertThat(recorder).as("past the largest object size").isNull();
        }
        assertThat(cache.storableByItsHead(
                head(HttpResponseStatus.OK, "Cache-Control", "max-age=60", "Set-Cookie", "s=1"))).isFalse();
        assertThat(cache.storableByItsHead(head(HttpResponseStatus.OK, "Cache-Control", "private, max-age=60")))
                .isFalse();
        HttpResponse small = head(HttpResponseStatus.OK, "Cache-Control", "max-age=60", "Content-Length", "10");
        for (HttpRequest own : List.of(get("/no-store", "Cache-Control", "no-store"),
                get("/auth", "Authorization", "Bearer x"))) {
            try (ResponseRecorder recorder = cache.record(own, small)) {
                assertThat(recorder).as(own.uri()).isNull();
            }
            assertThat(cache.storableByItsHead(small)).as(own.uri()).isTrue();
        }
    }

    @Test
    void fieldsAddedToTheHeadAfterRecordingStartedAreNotStored() {
        HttpResponse head = head(HttpResponseStatus.OK, "Cache-Control", "max-age=60", "X-Backend", "1");
        try (ResponseRecorder recorder = cache.record(get("/streamed"), head)) {
            // As the client's copy of a streamed answer gains edge's fields before its body is over
            head.headers().add("X-Location", "added").add("X-Backend", "2");
            assertThat(recorder.append(Unpooled.wrappedBuffer(new byte[] {'s'}))).isTrue();
            assertThat(recorder.finish()).isTrue();
        }
        FullHttpResponse hit = cache.lookup(get("/streamed")).response();
        assertThat(hit.headers().contains("X-Location")).isFalse();
        assertThat(hit.headers().getAll("X-Backend")).containsExactly("1");
        assertThat(body(hit)).isEqualTo("s");
    }

    @Test
    void anAnswerWithoutDateIsDatedWhenReceivedSoAHitsDateAndAgeAgree() {
        // RFC 9110 6.6.1: a recipient caching a message without Date records the time it was received as its Date
        String received = DateFormatter.format(new Date(time.wallMillis()));
        assertThat(store(get("/undated"), backend("U", "Cache-Control", "max-age=60"))).isTrue();
        time.advanceSeconds(10);
        FullHttpResponse hit = cache.lookup(get("/undated")).response();
        assertThat(hit.headers().get("Age")).isEqualTo("10");
        assertThat(hit.headers().get("Date")).isEqualTo(received);
        assertThat(body(hit)).isEqualTo("U");
    }

    @Test
    void anUndatedAnswerWhoseBodyEndsInTheNextSecondIsNotAgedBySecondsItWasNotOld() {
        // RFC 9111 4.2.3: its age counts from when the head was received (response_time), however long its body
        // took, and it is dated at that receipt, so its Date and Age agree.
        time.advance(Duration.ofMillis(900).toNanos());
        HttpResponse head = head(HttpResponseStatus.OK, "Cache-Control", "max-age=60", "Content-Length", "1");
        try (ResponseRecorder recorder = cache.record(get("/slow-body"), head)) {
            time.advance(Duration.ofMillis(200).toNanos()); // the body ends in the next second
            assertThat(recorder.append(Unpooled.wrappedBuffer(new byte[] {'b'}))).isTrue();
            assertThat(recorder.finish()).isTrue();
        }
        FullHttpResponse hit = cache.lookup(get("/slow-body")).response();
        assertThat(hit.headers().get("Age")).isEqualTo("0");
        assertThat(body(hit)).isEqualTo("b");
    }

    @Test
    void oneMillionDistinctKeysStayUnderTheByteBound() {
        cache.close();
        long maxBytes = 1 << 20;
        // Unpooled buffers without leak tracking keep a million stores fast under paranoid detection, and
        // their metric counts every byte the cache still holds.
        UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(false, true);
        cache = cache(Duration.ZERO, maxBytes, allocator);
        String body = "x".repeat(100);
        int keys = 1_000_000;
        for (int i = 0; i < keys; i++) {
            // Every tenth URL varies, so the Vary index fills up as well.
            FullHttpResponse response = i % 10 == 0
                    ? backend(body, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding")
                    : backend(body, "Cache-Control", "max-age=60");
            assertThat(store(get("/k/" + i, "Accept-Encoding", "gzip"), response)).isTrue();
            if (i % 100_000 == 0) {
                cache.cleanUp();
                assertThat(cache.stats().bytesHeld()).isLessThanOrEqualTo(maxBytes);
                assertThat(allocator.metric().usedDirectMemory()).isLessThanOrEqualTo(maxBytes);
            }
        }
        cache.cleanUp();
        ResponseCacheStats stats = cache.stats();
        assertThat(stats.bytesHeld()).isLessThanOrEqualTo(maxBytes).isGreaterThan(maxBytes / 2);
        assertThat(stats.evictions()).isEqualTo(keys - stats.entries());
        assertThat(allocator.metric().usedDirectMemory()).isLessThanOrEqualTo(maxBytes);
        FullHttpResponse last = cache.lookup(get("/k/" + (keys - 1), "Accept-Encoding", "gzip")).response();
        assertThat(body(last)).isEqualTo(body);
        cache.close();
        assertThat(allocator.metric().usedDirectMemory()).isZero();
    }

    /** Offers {@code head} to the cache as the answer to {@code request}, recording nothing. */
    boolean recorded(HttpRequest request, HttpResponse head) {
        try (ResponseRecorder recorder = cache.record(request, head)) {
            return recorder != null;
        }
    }

    static HttpResponse head(HttpResponseStatus status, String... headers) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        for (int i = 0; i < headers.length; i += 2) {
            head.headers().add(headers[i], headers[i + 1]);
        }
        return head;
    }

    @Test
    void anAnswerThatCannotBeStoredMarksItsUrlUncacheableForHitForMiss() {
        assertThat(cache.lookup(get("/p?a=1")).uncacheable()).isFalse();
        assertThat(recorded(get("/p?a=1"), head(HttpResponseStatus.OK))).isFalse(); // no explicit freshness
        Lookup miss = cache.lookup(get("/p?a=1"));
        assertThat(miss.outcome()).isEqualTo(Lookup.Outcome.MISS);
        assertThat(miss.uncacheable()).isTrue();
        assertThat(cache.lookup(request(HttpMethod.HEAD, "/p?a=1")).uncacheable()).as("HEAD shares the URL").isTrue();
        assertThat(cache.lookup(get("/p?a=2")).uncacheable()).as("another URL").isFalse();
        for (String cc : List.of("private, max-age=60", "no-store", "max-age=60")) {
            String uri = "/p/" + cc.length();
            String[] headers = cc.equals("max-age=60") ? new String[] {"Cache-Control", cc, "Set-Cookie", "s=1"}
                    : new String[] {"Cache-Control", cc};
            assertThat(recorded(get(uri), head(HttpResponseStatus.OK, headers))).isFalse();
            assertThat(cache.lookup(get(uri)).uncacheable()).as(cc).isTrue();
        }
        time.advance(HIT_FOR_MISS.toNanos() - 1);
        assertThat(cache.lookup(get("/p?a=1")).uncacheable()).isTrue();
        time.advance(1);
        assertThat(cache.lookup(get("/p?a=1")).uncacheable()).isFalse();
    }

    /**
     * A hit-for-miss request goes to the backend with the client's validators (a pass-through), so the backend may
     * answer 304: that says nothing of whether its 200 could be stored now, and must not keep the URL marked (a page
     * revalidated by browsers at least every hitForMiss would stay uncacheable for good, its 200 never stored).
     */
    @Test
    void aPassThroughsNotModifiedDoesNotRenewTheMark() {
        recorded(get("/page"), head(HttpResponseStatus.OK, "Cache-Control", "no-store"));
        time.advance(HIT_FOR_MISS.toNanos() - Duration.ofSeconds(10).toNanos());
        assertThat(cache.lookup(get("/page")).uncacheable()).isTrue();
        assertThat(recorded(get("/page"), head(HttpResponseStatus.NOT_MODIFIED, "ETag", "\"e1\""))).isFalse();
        time.advanceSeconds(10);
        assertThat(cache.lookup(get("/page")).uncacheable()).as("marked by the 200 only, for hitForMiss").isFalse();
    }

    @Test
    void aStorableAnswerEndsTheMarkAndIsStored() {
        recorded(get("/page"), head(HttpResponseStatus.OK, "Cache-Control", "no-store"));
        assertThat(cache.lookup(get("/page")).uncacheable()).isTrue();
        assertThat(store(get("/page"), backend("now cacheable", "Cache-Control", "max-age=60"))).isTrue();
        Lookup hit = cache.lookup(get("/page"));
        assertThat(hit.outcome()).isEqualTo(Lookup.Outcome.FRESH);
        assertThat(body(hit.response())).isEqualTo("now cacheable");
        time.advanceSeconds(61);
        Lookup stale = cache.lookup(get("/page"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(stale.uncacheable()).as("its misses coalesce again").isFalse();
        // and one not storable again marks it, the stale entry staying for errors
        recorded(get("/page"), head(HttpResponseStatus.OK, "Cache-Control", "private"));
        assertThat(cache.lookup(get("/page")).uncacheable()).isTrue();
    }

    @Test
    void anAnswerThatVariesMarksNoOtherVariant() {
        // The private page of one logged-in user must not end coalescing for the anonymous visitors.
        HttpResponse mine = head(HttpResponseStatus.OK, "Vary", "Cookie", "Cache-Control", "private");
        assertThat(recorded(get("/v", "Cookie", "session=b"), mine)).isFalse();
        assertThat(cache.lookup(get("/v")).uncacheable()).as("another variant").isFalse();
        HttpResponse own = head(HttpResponseStatus.OK, "Vary", "X-V", "Content-Type", "text/plain"); // no freshness
        assertThat(recorded(get("/x", "X-V", "b"), own)).isFalse();
        assertThat(cache.lookup(get("/x", "X-V", "c")).uncacheable()).as("another variant").isFalse();
        // nor when its variant is known from a stored one, nor when it grew past the largest object
        assertThat(store(get("/x", "X-V", "c"), backend("c", "Vary", "X-V", "Cache-Control", "max-age=60"))).isTrue();
        assertThat(recorded(get("/x", "X-V", "b"), own)).isFalse();
        time.advanceSeconds(61);
        Lookup stale = cache.lookup(get("/x", "X-V", "c"));
        assertThat(stale.outcome()).isEqualTo(Lookup.Outcome.STALE);
        assertThat(stale.uncacheable()).isFalse();
        try (ResponseRecorder recorder = cache.record(get("/grown", "X-V", "b"),
                head(HttpResponseStatus.OK, "Vary", "X-V", "Cache-Control", "max-age=60"))) {
            assertThat(recorder.append(Unpooled.wrappedBuffer(new byte[70 * 1024]))).isFalse();
        }
        assertThat(cache.lookup(get("/grown", "X-V", "c")).uncacheable()).isFalse();
        // Vary: * matches no request: like an answer without Vary, it marks the URL
        recorded(get("/star", "X-V", "b"), head(HttpResponseStatus.OK, "Vary", "X-V, *", "Cache-Control", "max-age=60"));
        assertThat(cache.lookup(get("/star", "X-V", "c")).uncacheable()).isTrue();
    }

    @Test
    void errorsAndRefusalsOwedToTheRequestDoNotMark() {
        recorded(get("/e500"), head(HttpResponseStatus.INTERNAL_SERVER_ERROR));
        recorded(get("/e503"), head(HttpResponseStatus.SERVICE_UNAVAILABLE, "Cache-Control", "no-store"));
        recorded(get("/client-no-store", "Cache-Control", "no-store"),
                head(HttpResponseStatus.OK, "Cache-Control", "max-age=60"));
        recorded(get("/auth", "Authorization", "Bearer a"), head(HttpResponseStatus.OK, "Cache-Control", "max-age=60"));
        for (String uri : List.of("/e500", "/e503", "/client-no-store", "/auth")) {
            assertThat(cache.lookup(get(uri)).uncacheable()).as(uri).isFalse();
        }
    }

    @Test
    void anAnswerOverTheLargestObjectMarksItsUrl() {
        HttpResponse declared = head(HttpResponseStatus.OK, "Cache-Control", "max-age=60", "Content-Length", "70000");
        assertThat(recorded(get("/declared"), declared)).isFalse();
        assertThat(cache.lookup(get("/declared")).uncacheable()).isTrue();
        try (ResponseRecorder recorder = cache.record(get("/grown"), head(HttpResponseStatus.OK, "Cache-Control", "max-age=60"))) {
            ByteBuf chunk = Unpooled.wrappedBuffer(new byte[40 * 1024]);
            assertThat(recorder.append(chunk)).isTrue();
            assertThat(cache.lookup(get("/grown")).uncacheable()).isFalse();
            assertThat(recorder.append(chunk)).isFalse();
        }
        assertThat(cache.lookup(get("/grown")).uncacheable()).isTrue();
    }

    @Test
    void purgeForgetsTheMark() {
        recorded(get("/blog/1"), head(HttpResponseStatus.OK));
        recorded(get("/blog/2"), head(HttpResponseStatus.OK));
        recorded(get("/shop/1"), head(HttpResponseStatus.OK));
        cache.purge(ResponseCache.keyOf(get("/blog/1")), false);
        assertThat(cache.lookup(get("/blog/1")).uncacheable()).isFalse();
        assertThat(cache.lookup(get("/blog/2")).uncacheable()).isTrue();
        cache.purgePrefix(ResponseCache.keyOf(get("/blog/")), false);
        assertThat(cache.lookup(get("/blog/2")).uncacheable()).isFalse();
        assertThat(cache.lookup(get("/shop/1")).uncacheable()).isTrue();
    }

    @Test
    void hitForMissZeroRemembersNothing() {
        cache.close();
        cache = cache(Duration.ZERO, 1 << 20, ByteBufAllocator.DEFAULT, Duration.ZERO);
        recorded(get("/p"), head(HttpResponseStatus.OK));
        assertThat(cache.lookup(get("/p")).uncacheable()).isFalse();
    }

    @Test
    void rememberedUrlsStayUnderTheirShareOfTheByteBound() {
        for (int i = 0; i < 100_000; i++) {
            recorded(get("/u/" + i), head(HttpResponseStatus.OK));
        }
        cache.cleanUp();
        assertThat(cache.stats().bytesHeld()).isLessThanOrEqualTo((1 << 20) >> 6).isGreaterThan(0);
        assertThat(cache.lookup(get("/u/99999")).uncacheable()).isTrue();
    }

}
