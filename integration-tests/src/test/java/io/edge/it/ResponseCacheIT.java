package io.edge.it;

import static io.edge.it.CachedPhp.body;
import static io.edge.it.CachedPhp.eventually;
import static io.edge.it.CachedPhp.url;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The response cache in front of a real php-fpm (see {@link CachedPhp}): each test uses its own ids, so
 * they share one edge, and counts how often PHP really ran. Ages run on the fake clock only.
 */
class ResponseCacheIT {

    @TempDir
    static Path dir;

    static CachedPhp php;

    @BeforeAll
    static void start() throws Exception {
        php = CachedPhp.start(dir, 4, "max-connections = 4, queue { max-waiters = 1000, timeout = 20 s }",
                "coalesce-timeout = 120 s"); // only bounds a follower's wait: long, so no CI stall can end one
    }

    @AfterAll
    static void stop() {
        if (php != null) {
            php.close();
        }
    }

    @Test
    void aCacheableResponseIsComputedOnceForOneHundredSequentialRequests() throws Exception {
        String url = url("seq", "public, max-age=60", "");
        for (int i = 0; i < 100; i++) {
            HttpResponse<String> response = php.get(url);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo(body("seq", 1));
        }
        assertThat(php.runs("seq")).isEqualTo(1);
        assertThat(php.get(url).headers().firstValue("age")).contains("0");
    }

    /**
     * A script's Trailer goes to the client (end-to-end, RFC 9110 6.6.2) on the miss and on the hit after it, as
     * nginx 1.22's fastcgi_cache sends it on both (measured beside php-fpm 8.2); the hit had none.
     */
    @Test
    void aScriptsTrailerComesWithItsStoredAnswer() throws Exception {
        String url = url("trailer", "public, max-age=60", "&trailer=X-Sum");
        assertThat(php.get(url).headers().firstValue("trailer")).contains("X-Sum");
        HttpResponse<String> hit = php.get(url);
        assertThat(hit.headers().firstValue("age")).as("a hit").isPresent();
        assertThat(hit.headers().firstValue("trailer")).contains("X-Sum");
        assertThat(hit.body()).isEqualTo(body("trailer", 1));
        assertThat(php.runs("trailer")).isEqualTo(1);
    }

    @Test
    void aCacheableResponseIsComputedOnceForOneHundredConcurrentRequests() throws Exception {
        // PHP holds the first run until the other ninety-nine wait for it, so they overlap however slow the machine is.
        String url = url("conc", "public, max-age=60", "&hold=release-conc");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            responses.add(php.getAsync(url));
        }
        eventually(() -> php.runs("conc"), runs -> runs == 1);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 99);
        php.release("release-conc");
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.get().statusCode()).isEqualTo(200);
            assertThat(response.get().body()).isEqualTo(body("conc", 1));
        }
        assertThat(php.runs("conc")).isEqualTo(1);
    }

    /**
     * A script that fails for every request (a 500, which marks nothing for hit-for-miss): the requests that waited for
     * the first run take turns, one run at a time, as nginx's fastcgi_cache_lock has its waiters take the lock again
     * when its holder's answer is not cached. They all went to PHP at once when the first answer came.
     */
    @Test
    void theRequestsWaitingForAnAnswerNeverStoredRunThePageOneAtATime() throws Exception {
        String url = url("turns", null, "&failfrom=1&track=1&sleep=200&hold=release-turns");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            responses.add(php.getAsync(url));
        }
        eventually(() -> php.runs("turns"), runs -> runs == 1);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 4);
        php.release("release-turns");
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.get().statusCode()).isEqualTo(500);
        }
        assertThat(php.runs("turns")).as("each request's own run").isEqualTo(5);
        assertThat(php.mostAtOnce("turns")).as("one at a time").isEqualTo(1);
    }

    /**
     * A request with Authorization, first to reach an uncached page, goes to PHP alone: the plain burst behind it
     * coalesces behind one of its own. It led them once, and its answer, not shareable, sent all twenty to PHP.
     */
    @Test
    void aRequestWithAuthorizationAheadOfABurstLeavesTheBurstCoalesced() throws Exception {
        String url = url("authburst", "max-age=60", "&hold=release-authburst");
        CompletableFuture<HttpResponse<String>> authorized = php.getAsync(url, "Authorization", "Bearer x");
        eventually(() -> php.runs("authburst"), runs -> runs == 1);
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> plain = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            plain.add(php.getAsync(url));
        }
        eventually(() -> php.runs("authburst"), runs -> runs == 2);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 19);
        php.release("release-authburst");
        assertThat(authorized.get().body()).isEqualTo(body("authburst", 1));
        for (CompletableFuture<HttpResponse<String>> response : plain) {
            assertThat(response.get().body()).isEqualTo(body("authburst", 2));
        }
        assertThat(php.runs("authburst")).isEqualTo(2);
    }

    /**
     * A request target with a fragment is refused (RFC 9112 3.2) before routing, PHP or the cache: cut off for the
     * cache's key, one reached PHP in REQUEST_URI, and a page echoing it (a canonical link, a form's action) was stored
     * under the URL without it and served to everyone.
     */
    @Test
    void aTargetWithAFragmentIsRefusedAndNeverReachesPhpOrTheCache() throws Exception {
        String url = url("frag", "public, max-age=60", "");
        try (Socket attack = php.sendAndHold(url + "#\"><script>alert(1)</script>")) {
            String statusLine = new String(attack.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(statusLine).isEqualTo("HTTP/1.1 400");
        }
        assertThat(php.runs("frag")).isZero();
        assertThat(php.get(url).body()).isEqualTo(body("frag", 1));
    }

    @Test
    void maxAgeOneExpiresOnTheFakeClock() throws Exception {
        String url = url("expiry", "public, max-age=1", "");
        assertThat(php.get(url).body()).isEqualTo(body("expiry", 1));
        php.advance(Duration.ofMillis(999));
        HttpResponse<String> fresh = php.get(url);
        assertThat(fresh.body()).isEqualTo(body("expiry", 1));
        assertThat(fresh.headers().firstValue("age")).contains("0");
        php.advance(Duration.ofMillis(1));
        assertThat(php.get(url).body()).isEqualTo(body("expiry", 2));
        assertThat(php.get(url).body()).isEqualTo(body("expiry", 2));
        assertThat(php.runs("expiry")).isEqualTo(2);
    }

    @Test
    void aHeadMissStoresTheAnswerOfTheGetItSent() throws Exception {
        String url = url("head", "public, max-age=60", "");
        HttpResponse<String> head = php.send("HEAD", url);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(php.get(url).body()).isEqualTo(body("head", 1));
        assertThat(php.send("HEAD", url).headers().firstValue("content-length"))
                .contains(Integer.toString(body("head", 1).length()));
        assertThat(php.runs("head")).isEqualTo(1);
    }

    @Test
    void aHeadMissCarriesTheContentLengthTheGetHas() throws Exception {
        String cacheable = url("headlength", "public, max-age=60", "");
        String length = Integer.toString(body("headlength", 1).length());
        HttpResponse<String> miss = php.send("HEAD", cacheable);
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(miss.headers().firstValue("content-length")).contains(length);
        assertThat(php.send("HEAD", cacheable).headers().firstValue("content-length")).contains(length); // a hit
        // not storable: every HEAD is a miss, sent to PHP as the GET it would answer
        String uncacheable = url("headlength-none", null, "");
        assertThat(php.send("HEAD", uncacheable).headers().firstValue("content-length"))
                .contains(Integer.toString(body("headlength-none", 1).length()));
        HttpResponse<String> get = php.get(uncacheable);
        assertThat(get.body()).isEqualTo(body("headlength-none", 2));
        assertThat(get.headers().firstValue("content-length")).contains(Integer.toString(get.body().length()));
    }

    /**
     * A miss is fetched without the client's own validators (the cache wants the whole answer), so PHP cannot answer
     * 304 itself: they are judged against its answer, and a browser revalidating a page that just expired or was
     * purged gets its 304, as from nginx's fastcgi_cache; the body is still stored.
     */
    @Test
    void aConditionalMissWhoseValidatorsMatchTheAnswerIsNotModifiedAndTheAnswerIsStored() throws Exception {
        String url = url("cond", "public, max-age=60", "&etag=%22v1%22");
        HttpResponse<String> miss = php.get(url, "If-None-Match", "\"v1\"");
        assertThat(miss.statusCode()).isEqualTo(304);
        assertThat(miss.body()).isEmpty();
        assertThat(miss.headers().firstValue("etag")).contains("\"v1\"");
        assertThat(miss.headers().firstValue("x-saw-if-none-match")).as("PHP was asked unconditionally").isEmpty();
        HttpResponse<String> hit = php.get(url);
        assertThat(hit.statusCode()).isEqualTo(200);
        assertThat(hit.body()).isEqualTo(body("cond", 1));
        HttpResponse<String> other = php.get(url("cond-other", "public, max-age=60", "&etag=%22v2%22"),
                "If-None-Match", "\"v1\"");
        assertThat(other.statusCode()).as("validators that do not match").isEqualTo(200);
        assertThat(other.body()).isEqualTo(body("cond-other", 1));
        assertThat(php.runs("cond")).isEqualTo(1);
    }

    /**
     * If-Match and If-Unmodified-Since are judged against the cached answer, on a hit and on the miss that fills it
     * (PHP is asked without them), as an origin would (RFC 9110 13.2.2) and nginx's cache does: a page that is not
     * the one the client means is 412, and the body is still stored. Without Last-Modified, If-Unmodified-Since is
     * ignored (13.1.4).
     */
    @Test
    void ifMatchAndIfUnmodifiedSinceAreJudgedAgainstTheCachedAnswer() throws Exception {
        String url = url("ifmatch", "public, max-age=60", "&etag=%22m1%22");
        assertThat(php.get(url, "If-Match", "\"zz\"").statusCode()).as("the miss").isEqualTo(412);
        HttpResponse<String> hit = php.get(url, "If-Match", "\"m1\"");
        assertThat(hit.statusCode()).isEqualTo(200);
        assertThat(hit.body()).isEqualTo(body("ifmatch", 1));
        assertThat(php.get(url, "If-Match", "\"zz\", W/\"m1\"").statusCode()).as("a weak tag never matches strongly")
                .isEqualTo(412);
        assertThat(php.get(url, "If-Match", "*").statusCode()).isEqualTo(200);
        assertThat(php.get(url, "If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT").statusCode())
                .as("no Last-Modified: ignored").isEqualTo(200);
        assertThat(php.runs("ifmatch")).isEqualTo(1);
    }

    /**
     * A Range on a cached answer whose script said it takes byte ranges (Accept-Ranges: bytes) is answered from the
     * cache, as nginx ranges a cached answer then: 206 for one range, multipart/byteranges for two, 416 past its end,
     * the whole 200 for an If-Range naming another version. The fill asks PHP for the whole answer, whose range goes to
     * its client; PHP runs once and never sees a Range.
     */
    @Test
    void aRangeOfACachedAnswerThatTakesRangesIsAnsweredFromTheCache() throws Exception {
        String url = url("ranges", "public, max-age=60", "&ar=bytes&etag=%22r1%22&pad=0"); // its length declared
        String whole = body("ranges", 1);
        HttpResponse<String> miss = php.get(url, "Range", "bytes=0-1");
        assertThat(miss.statusCode()).as("the fill's range, as nginx's range filter cuts it").isEqualTo(206);
        assertThat(miss.body()).isEqualTo("id");
        assertThat(miss.headers().firstValue("content-range")).contains("bytes 0-1/" + whole.length());
        assertThat(miss.headers().firstValue("x-saw-range")).isEmpty();

        HttpResponse<String> one = php.get(url, "Range", "bytes=3-8");
        assertThat(one.statusCode()).isEqualTo(206);
        assertThat(one.body()).isEqualTo(whole.substring(3, 9));
        assertThat(one.headers().firstValue("content-range")).contains("bytes 3-8/" + whole.length());
        assertThat(one.headers().firstValue("etag")).contains("\"r1\"");
        assertThat(php.get(url, "Range", "bytes=-3").body()).isEqualTo(whole.substring(whole.length() - 3));

        HttpResponse<String> two = php.get(url, "Range", "bytes=0-1,10-12");
        assertThat(two.statusCode()).isEqualTo(206);
        assertThat(two.headers().firstValue("content-type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("multipart/byteranges; boundary="));
        assertThat(two.body())
                .contains("Content-Type: text/plain;charset=UTF-8\r\nContent-Range: bytes 0-1/" + whole.length() + "\r\n\r\nid\r\n")
                .contains("Content-Range: bytes 10-12/" + whole.length() + "\r\n\r\n" + whole.substring(10, 13) + "\r\n");
        assertThat(two.headers().firstValue("content-length")).contains(String.valueOf(two.body().length()));

        HttpResponse<String> past = php.get(url, "Range", "bytes=100-");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(past.headers().firstValue("content-range")).contains("bytes */" + whole.length());

        assertThat(php.get(url, "Range", "bytes=0-1", "If-Range", "\"r1\"").body()).isEqualTo("id");
        HttpResponse<String> otherVersion = php.get(url, "Range", "bytes=0-1", "If-Range", "\"r0\"");
        assertThat(otherVersion.statusCode()).isEqualTo(200);
        assertThat(otherVersion.body()).isEqualTo(whole);

        HttpResponse<String> head = php.send("HEAD", url, "Range", "bytes=3-8");
        assertThat(head.statusCode()).isEqualTo(206);
        assertThat(head.headers().firstValue("content-length")).contains("6");
        assertThat(php.runs("ranges")).isEqualTo(1);
    }

    /**
     * An answer too large to store, whose script declares its length and takes ranges (a download, a video): a Range
     * has its bytes as the answer streams from PHP, as nginx's range filter cuts it, miss after miss. It went whole
     * every time (the cache audit): PHP never sees the Range (the cache hides it, as fastcgi_cache does), and the cache
     * could not answer it from an answer it had not kept. One range only; a multipart or another version's goes whole.
     */
    @Test
    void aRangeOfAnAnswerTooLargeToStoreIsCutFromItAsItStreams() throws Exception {
        int pad = 2 * 1024 * 1024; // past max-object-size: streamed, never stored
        String url = url("bigrange", "public, max-age=60", "&ar=bytes&etag=%22b1%22&pad=" + pad);
        long length = body("bigrange", 1).length() + pad;
        for (int run = 1; run <= 2; run++) {
            HttpResponse<String> part = php.get(url, "Range", "bytes=1048576-1048585");
            assertThat(part.statusCode()).as("run " + run).isEqualTo(206);
            assertThat(part.body()).isEqualTo("x".repeat(10));
            assertThat(part.headers().firstValue("content-range")).contains("bytes 1048576-1048585/" + length);
            assertThat(part.headers().firstValue("content-length")).contains("10");
            assertThat(part.headers().firstValue("x-saw-range")).isEmpty();
        }
        HttpResponse<String> start = php.get(url, "Range", "bytes=0-11");
        assertThat(start.statusCode()).isEqualTo(206);
        assertThat(start.body()).isEqualTo("id=bigrange ");
        assertThat(php.get(url, "Range", "bytes=-3").body()).isEqualTo("xxx");

        HttpResponse<String> past = php.get(url, "Range", "bytes=" + length + "-");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(past.headers().firstValue("content-range")).contains("bytes */" + length);
        assertThat(past.body()).as("edge's page, as nginx's special response").contains("416 Requested Range");

        HttpResponse<String> head = php.send("HEAD", url, "Range", "bytes=5-9");
        assertThat(head.statusCode()).isEqualTo(206);
        assertThat(head.headers().firstValue("content-length")).contains("5");

        for (String[] whole : List.of(new String[] {"Range", "bytes=0-1,5-6"},
                new String[] {"Range", "bytes=0-1", "If-Range", "\"b0\""})) {
            HttpResponse<String> all = php.get(url, whole);
            assertThat(all.statusCode()).as(String.join(" ", whole)).isEqualTo(200);
            assertThat(all.body()).hasSize((int) length).startsWith("id=bigrange run=");
        }
        assertThat(php.runs("bigrange")).as("never stored").isEqualTo(8);
    }

    /**
     * A range past the end of a script's answer, on the miss (which stores nothing then), on the hit, and of an answer
     * too large to store: edge's own 416 page (a HEAD its length alone) with the Content-Range, the script's other
     * fields (its Cache-Control) but not its ETag, type or Accept-Ranges, and the location's headers, as nginx 1.22's
     * range filter's 416 becomes its special response (measured beside php-fpm 8.2, fastcgi_cache miss and hit alike).
     * It went with an empty body and every field of the script's 200 on the miss, and without any of them on the hit.
     */
    @Test
    void anUnsatisfiableRangeOfAScriptsAnswerGetsEdgesPageWithTheScriptsFields() throws Exception {
        int pad = 2 * 1024 * 1024; // past max-object-size: streamed, never stored
        String stored = url("rangepage", "public, max-age=60", "&ar=bytes&etag=%22p1%22&pad=0");
        String large = url("bigrangepage", "public, max-age=60", "&ar=bytes&etag=%22p2%22&pad=" + pad);
        assertUnsatisfiable(stored, body("rangepage", 1).length(), "MISS");
        assertThat(php.get(stored).statusCode()).isEqualTo(200);
        assertUnsatisfiable(stored, body("rangepage", 1).length(), "HIT");
        assertUnsatisfiable(large, body("bigrangepage", 1).length() + pad, "MISS");
    }

    private static void assertUnsatisfiable(String url, long length, String cacheStatus) throws Exception {
        HttpResponse<String> past = php.get(url, "Range", "bytes=" + length + "-");
        assertThat(past.statusCode()).as(url).isEqualTo(416);
        assertThat(past.body()).as(url).contains("<title>416 Requested Range Not Satisfiable</title>");
        assertThat(past.headers().firstValue("content-type")).contains("text/html; charset=utf-8");
        assertThat(past.headers().firstValue("content-length")).contains(String.valueOf(past.body().length()));
        assertThat(past.headers().firstValue("content-range")).contains("bytes */" + length);
        assertThat(past.headers().firstValue("cache-control")).as(url).contains("public, max-age=60");
        // the location's headers, added to the 200 before it was ranged, as nginx's headers filter runs first
        assertThat(past.headers().firstValue("x-cache")).as(url).contains(cacheStatus);
        assertThat(past.headers().firstValue("etag")).as(url).isEmpty();
        assertThat(past.headers().firstValue("accept-ranges")).as(url).isEmpty();
        HttpResponse<String> head = php.send("HEAD", url, "Range", "bytes=" + length + "-");
        assertThat(head.statusCode()).isEqualTo(416);
        assertThat(head.headers().firstValue("content-length")).contains(String.valueOf(past.body().length()));
    }

    /**
     * An answer whose script declared no length (php-fpm adds none: a plain echo) goes whole to a Range, a 200 on its
     * miss and on its hit, one past its end too, and is stored, as nginx 1.22's range filter leaves an answer of no
     * known length alone, on the hit too, as its cache keeps the head as it came (measured beside php-fpm 8.2,
     * fastcgi_cache: 1000 bytes, Accept-Ranges: bytes, no Content-Length, `bytes=0-9` a whole 200 on the MISS and the
     * HIT, `bytes=5000-` too). Edge ranged it, the miss once it had come whole, and the hit by its stored length.
     */
    @Test
    void anAnswerWithoutADeclaredLengthGoesWholeToARangeOnItsMissAndItsHit() throws Exception {
        String url = url("rangenolength", "public, max-age=60", "&ar=bytes");
        String whole = body("rangenolength", 1);
        HttpResponse<String> miss = php.get(url, "Range", "bytes=0-1");
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(miss.headers().firstValue("x-cache")).contains("MISS");
        assertThat(miss.body()).isEqualTo(whole);
        for (String range : List.of("bytes=0-1", "bytes=0-0,2-2", "bytes=1000-")) {
            HttpResponse<String> hit = php.get(url, "Range", range);
            assertThat(hit.statusCode()).as(range).isEqualTo(200);
            assertThat(hit.headers().firstValue("x-cache")).as(range).contains("HIT");
            assertThat(hit.body()).as(range).isEqualTo(whole);
            assertThat(hit.headers().firstValue("content-range")).as(range).isEmpty();
        }
        HttpResponse<String> pastOnMiss = php.get(url("rangenolength416", "public, max-age=60", "&ar=bytes"),
                "Range", "bytes=1000-");
        assertThat(pastOnMiss.statusCode()).isEqualTo(200);
        assertThat(pastOnMiss.body()).isEqualTo(body("rangenolength416", 1));
        assertThat(php.runs("rangenolength")).isEqualTo(1);
    }

    /**
     * The answer to a request with Authorization or with Cache-Control: no-store, which the cache keeps out for that
     * request alone (RFC 9111 3.5, 5.2.1.5), is ranged on its way all the same, a 206 or a 416, as nginx 1.22's
     * fastcgi_cache ranges it, reading neither field (measured beside php-fpm 8.2: 1000 bytes, Accept-Ranges: bytes, a
     * Content-Length, max-age=60, `bytes=0-9` with `Authorization: Bearer x` or `Cache-Control: no-store` a 206 on the
     * MISS, and on the HIT nginx stored it for). A hit for such a request is ranged as any: a no-store request's, and an
     * Authorization request's of an answer that says public. Edge sent the whole 200 on the miss.
     */
    @Test
    void anAnswerKeptOutForItsRequestsAuthorizationOrNoStoreIsRangedOnItsWay() throws Exception {
        for (String[] own : new String[][] {{"rangeauth", "Authorization", "Bearer x"},
                {"rangenostorereq", "Cache-Control", "no-store"}}) {
            String url = url(own[0], "max-age=60", "&ar=bytes&pad=0");
            int length = body(own[0], 1).length();
            HttpResponse<String> part = php.get(url, "Range", "bytes=0-1", own[1], own[2]);
            assertThat(part.statusCode()).as(own[1]).isEqualTo(206);
            assertThat(part.headers().firstValue("x-cache")).as(own[1]).contains("MISS");
            assertThat(part.body()).as(own[1]).isEqualTo("id");
            assertThat(part.headers().firstValue("content-range")).as(own[1]).contains("bytes 0-1/" + length);
            HttpResponse<String> past = php.get(url, "Range", "bytes=" + length + "-", own[1], own[2]);
            assertThat(past.statusCode()).as(own[1]).isEqualTo(416);
            assertThat(past.headers().firstValue("content-range")).as(own[1]).contains("bytes */" + length);
            assertThat(php.get(url).headers().firstValue("x-cache")).as(own[1] + ": kept out").contains("MISS");
        }
        String noStore = url("rangenostorereq", "max-age=60", "&ar=bytes&pad=0");
        HttpResponse<String> hit = php.get(noStore, "Range", "bytes=3-4", "Cache-Control", "no-store");
        assertThat(hit.statusCode()).isEqualTo(206);
        assertThat(hit.headers().firstValue("x-cache")).contains("HIT");
        assertThat(hit.body()).isEqualTo(body("rangenostorereq", 3).substring(3, 5));
        String shared = url("rangeauthpublic", "public, max-age=60", "&ar=bytes&pad=0");
        assertThat(php.get(shared).statusCode()).isEqualTo(200);
        HttpResponse<String> authorized = php.get(shared, "Range", "bytes=3-4", "Authorization", "Bearer x");
        assertThat(authorized.statusCode()).isEqualTo(206);
        assertThat(authorized.headers().firstValue("x-cache")).contains("HIT");
        assertThat(authorized.body()).isEqualTo(body("rangeauthpublic", 1).substring(3, 5));
    }

    /**
     * If-Range on a script's answer, on its miss (ranged on its way) and on its hit: its strong ETag or its exact
     * Last-Modified ranges it; a weak tag, the answer's own weak ETag too, has the whole 200 (RFC 9110 13.1.5: If-Range
     * compares strongly, a weak tag never names the bytes), and so does a later date. nginx 1.22 ranges an answer
     * whose weak ETag the If-Range equals (measured beside php-fpm 8.2, fastcgi_cache: W/"w1" on an answer with ETag
     * W/"w1", a 206 on the MISS and on the HIT; "w1" a 200; its Last-Modified a 206, a second later a 200), a bug edge
     * does not copy. Pins what edge did.
     */
    @Test
    void ifRangeRangesAScriptsAnswerByItsStrongTagOrExactDateNotByAWeakTag() throws Exception {
        String lastModified = "Sat, 01 Jan 2000 00:00:00 GMT";
        String later = "Sat, 01 Jan 2000 00:00:01 GMT";
        String[][] cases = {
            {"%22s1%22", "\"s1\"", "206"}, {"%22s1%22", lastModified, "206"}, {"%22s1%22", "W/\"s1\"", "200"},
            {"%22s1%22", later, "200"}, {"W/%22w1%22", "W/\"w1\"", "200"}, {"W/%22w1%22", "\"w1\"", "200"},
            {"W/%22w1%22", lastModified, "206"}};
        for (int i = 0; i < cases.length; i++) {
            String id = "ifrange" + i;
            String url = url(id, "public, max-age=60", "&ar=bytes&pad=0&etag=" + cases[i][0] + "&lm="
                    + URLEncoder.encode(lastModified, StandardCharsets.UTF_8));
            for (String status : List.of("MISS", "HIT")) {
                HttpResponse<String> response = php.get(url, "Range", "bytes=0-1", "If-Range", cases[i][1]);
                String as = status + " If-Range " + cases[i][1] + " of ETag " + cases[i][0];
                assertThat(response.headers().firstValue("x-cache")).as(as).contains(status);
                assertThat(response.statusCode()).as(as).isEqualTo(Integer.parseInt(cases[i][2]));
                assertThat(response.body()).as(as).isEqualTo(cases[i][2].equals("206") ? "id" : body(id, 1));
            }
            assertThat(php.runs(id)).isEqualTo(1);
        }
    }

    /** Without Accept-Ranges: bytes from its script, a cached answer goes whole to a Range, as nginx sends it. */
    @Test
    void aRangeOfACachedAnswerWhoseScriptTakesNoRangesGetsItWhole() throws Exception {
        for (String id : List.of("noranges", "rangesnone")) {
            String url = url(id, "public, max-age=60", id.equals("rangesnone") ? "&ar=none" : "");
            assertThat(php.get(url).body()).isEqualTo(body(id, 1));
            HttpResponse<String> hit = php.get(url, "Range", "bytes=0-1");
            assertThat(hit.statusCode()).isEqualTo(200);
            assertThat(hit.body()).isEqualTo(body(id, 1));
            assertThat(php.runs(id)).isEqualTo(1);
        }
    }

    /**
     * A range past the end of a miss's answer: its 416 goes, and the answer is neither stored nor read on, as nginx
     * 1.22's range filter's 416 ends its upstream request (measured beside php-fpm 8.2, fastcgi_cache: the next request a
     * MISS again; a script streaming 8 MiB saw its next write fail). The 8 MiB went on from PHP to the end, and the small
     * answer was stored.
     */
    @Test
    void aRangePastTheEndOfAMissStoresNothingAndLetsTheScriptGo() throws Exception {
        // pad=0: its length declared, as a range is cut of an answer on its way only then (nginx's range filter too)
        String small = url("range416", "public, max-age=60", "&ar=bytes&pad=0");
        HttpResponse<String> past = php.get(small, "Range", "bytes=1000-");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(past.headers().firstValue("x-cache")).contains("MISS");
        HttpResponse<String> next = php.get(small);
        assertThat(next.headers().firstValue("x-cache")).as("nothing stored").contains("MISS");
        assertThat(next.body()).isEqualTo(body("range416", 2));

        String streamed = url("range416stream", "public, max-age=60", "&ar=bytes&stream=128");
        HttpResponse<String> cut = php.get(streamed, "Range", "bytes=" + 16 * 1024 * 1024 + "-");
        assertThat(cut.statusCode()).isEqualTo(416);
        assertThat(cut.headers().firstValue("content-range"))
                .contains("bytes */" + (body("range416stream", 1).length() + 128 * 65536));
        assertThat(eventually(() -> php.streamEnd("range416stream"), end -> end != null && !end.isEmpty()))
                .as("PHP's write failed: edge closed its connection").isEqualTo("aborted");
        eventually(() -> php.metric("edge_fastcgi_connections_open{group=\"php\"}")
                - php.metric("edge_fastcgi_connections_idle{group=\"php\"}"), busy -> busy == 0);
        assertThat(php.get(small).statusCode()).as("the backend still answers").isEqualTo(200);
    }

    /**
     * A range past the end of a small miss, whose answer php-fpm wrote whole with its END_REQUEST (one write, read at
     * once): the 416 goes and nothing is stored, but its kept-alive FastCGI connection goes back to the pool for the next
     * request, no script being left to stop; only one whose script writes on after its head is closed
     * (aRangePastTheEndOfAMissStoresNothingAndLetsTheScriptGo). Pins what edge did: README said the connection was
     * closed in either case.
     */
    @Test
    void aRangePastTheEndOfAMissThatEndedInTheSameReadKeepsItsConnection() throws Exception {
        String open = "edge_fastcgi_connections_open{group=\"php\"}";
        String idle = "edge_fastcgi_connections_idle{group=\"php\"}";
        try (CachedPhp kept = CachedPhp.start(dir.resolve("kept"), 1,
                "max-connections = 1, keep-alive { enabled = true }", "")) {
            assertThat(kept.get(url("keptwarm", null, "")).statusCode()).isEqualTo(200);
            eventually(() -> kept.metric(idle), n -> n == 1);
            String url = url("kept416", "public, max-age=60", "&ar=bytes&pad=0");
            HttpResponse<String> past = kept.get(url, "Range", "bytes=1000-");
            assertThat(past.statusCode()).isEqualTo(416);
            eventually(() -> kept.metric(idle), n -> n == 1);
            assertThat(kept.metric(open)).as("the one connection, kept").isEqualTo(1);
            HttpResponse<String> next = kept.get(url);
            assertThat(next.headers().firstValue("x-cache")).as("nothing stored").contains("MISS");
            assertThat(next.body()).isEqualTo(body("kept416", 2));
        }
    }

    /**
     * A request the cache stays out of (bypass, or an Authorization request that finds an entry not marked public: both
     * BYPASS) or stores nothing for (no-cache) goes to the script as the client sent it, its Range and If-Range too, and
     * its answer goes as the script made it: only a lookup whose answer may be stored asks for it whole. nginx 1.22
     * blanks HTTP_RANGE and HTTP_IF_RANGE in every fastcgi_cache location and ranges a storable answer itself (measured
     * beside php-fpm 8.2, fastcgi_cache_bypass and fastcgi_no_cache: the script saw neither field; bytes=0-9 a 206,
     * bytes=5000- a 416, a private answer a whole 200). Pins what edge does: README said PHP never saw the client's
     * Range in a cached location.
     */
    @Test
    void aRequestTheCacheStaysOutOfTakesItsRangeToTheScript() throws Exception {
        try (CachedPhp passed = CachedPhp.start(dir.resolve("passed"), 2, "max-connections = 2",
                "bypass = [\"$http_x_bypass\"], no-cache = [\"$http_x_nocache\"]")) {
            String url = url("passrange", "public, max-age=60", "&ar=bytes&pad=0");
            String[][] outside = {{"X-Bypass", "BYPASS"}, {"X-Nocache", "MISS"}};
            for (int i = 0; i < outside.length; i++) {
                HttpResponse<String> sent = passed.get(url, outside[i][0], "1", "Range", "bytes=0-1",
                        "If-Range", "\"x\"");
                assertThat(sent.statusCode()).as(outside[i][0]).isEqualTo(200);
                assertThat(sent.headers().firstValue("x-cache")).as(outside[i][0]).contains(outside[i][1]);
                assertThat(sent.headers().firstValue("x-saw-range")).as(outside[i][0]).contains("bytes=0-1");
                assertThat(sent.body()).as(outside[i][0]).isEqualTo(body("passrange", i + 1));
            }
            HttpResponse<String> looked = passed.get(url, "Range", "bytes=0-1");
            assertThat(looked.statusCode()).as("a lookup asks for it whole").isEqualTo(206);
            assertThat(looked.headers().firstValue("x-cache")).contains("MISS");
            assertThat(looked.headers().firstValue("x-saw-range")).isEmpty();
            String own = url("passrangeauth", "max-age=60", "&ar=bytes&pad=0");
            assertThat(passed.get(own).headers().firstValue("x-cache")).contains("MISS");
            HttpResponse<String> authorized = passed.get(own, "Range", "bytes=0-1", "Authorization", "Bearer x");
            assertThat(authorized.statusCode()).isEqualTo(200);
            assertThat(authorized.headers().firstValue("x-cache")).contains("BYPASS");
            assertThat(authorized.headers().firstValue("x-saw-range")).contains("bytes=0-1");
            assertThat(authorized.body()).isEqualTo(body("passrangeauth", 2));
        }
    }

    /**
     * A range past the end of a miss's answer that other requests wait for: its 416 goes at the answer's head, and the
     * answer is still read and stored for them; PHP runs once, and the next is a HIT. Pins the followers' case of
     * aRangePastTheEndOfAMissStoresNothingAndLetsTheScriptGo (untested: nginx's lock waiters would each go to the
     * backend once its 416 ended the upstream request; edge's are answered by the one run).
     */
    @Test
    void aRangePastTheEndOfAMissOthersWaitForIsStoredForThem() throws Exception {
        String url = url("range416wait", "public, max-age=60", "&ar=bytes&pad=0&hold=release-range416wait");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        CompletableFuture<HttpResponse<String>> past = php.getAsync(url, "Range", "bytes=1000-");
        eventually(() -> php.runs("range416wait"), runs -> runs == 1);
        List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiting.add(php.getAsync(url));
        }
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 3);
        php.release("release-range416wait");
        assertThat(past.get().statusCode()).isEqualTo(416);
        for (CompletableFuture<HttpResponse<String>> response : waiting) {
            assertThat(response.get().statusCode()).isEqualTo(200);
            assertThat(response.get().body()).isEqualTo(body("range416wait", 1));
        }
        assertThat(php.get(url).headers().firstValue("x-cache")).contains("HIT");
        assertThat(php.runs("range416wait")).isEqualTo(1);
        eventually(() -> php.metric("edge_fastcgi_connections_open{group=\"php\"}")
                - php.metric("edge_fastcgi_connections_idle{group=\"php\"}"), busy -> busy == 0);
    }

    /**
     * A 206 says no Accept-Ranges, on the miss that cuts it as the answer streams and on the hit, one range or
     * several, as nginx 1.22's range filter clears it (measured beside php-fpm 8.2, fastcgi_cache miss and hit, and a
     * file's 206); the whole 200 keeps the script's. Every 206 had the script's Accept-Ranges.
     */
    @Test
    void aPartialAnswerSaysNoAcceptRanges() throws Exception {
        String url = url("rangenoar", "public, max-age=60", "&ar=bytes&pad=0");
        HttpResponse<String> miss = php.get(url, "Range", "bytes=0-1");
        assertThat(miss.statusCode()).isEqualTo(206);
        assertThat(miss.headers().firstValue("x-cache")).contains("MISS");
        assertThat(miss.headers().firstValue("accept-ranges")).isEmpty();
        for (String range : List.of("bytes=0-1", "bytes=0-0,2-2")) {
            HttpResponse<String> hit = php.get(url, "Range", range);
            assertThat(hit.statusCode()).as(range).isEqualTo(206);
            assertThat(hit.headers().firstValue("x-cache")).contains("HIT");
            assertThat(hit.headers().firstValue("accept-ranges")).as(range).isEmpty();
        }
        assertThat(php.get(url).headers().firstValue("accept-ranges")).contains("bytes");
    }

    /**
     * An answer the cache may not keep (a Set-Cookie, private) goes whole to a Range, one past its end too, as
     * nginx 1.22 sends it (measured beside php-fpm 8.2: a whole 200, Accept-Ranges: bytes and all); an answer the script
     * compressed itself is ranged on its miss and its hit, its bytes as encoded, as nginx's are (measured: a 206 of
     * the gzip bytes, Content-Encoding: gzip). The first had its 206 or 416, the second went whole on its miss.
     */
    @Test
    void anAnswerNotStoredGoesWholeToARangeAndAnEncodedOneIsRanged() throws Exception {
        for (String extra : List.of("&cookie=a&cc=public,max-age=60", "&cc=private,max-age=60")) {
            String url = url("rangenostore", null, "&ar=bytes" + extra);
            for (String range : List.of("bytes=0-1", "bytes=1000-")) {
                HttpResponse<String> whole = php.get(url, "Range", range);
                assertThat(whole.statusCode()).as(extra + " " + range).isEqualTo(200);
                assertThat(whole.body()).startsWith("id=rangenostore run=");
                assertThat(whole.headers().firstValue("accept-ranges")).contains("bytes");
            }
        }
        String encoded = url("rangegz", "public, max-age=60", "&ar=bytes&gz=1");
        for (String status : List.of("MISS", "HIT")) {
            HttpResponse<byte[]> part = php.getBytes(encoded, "Range", "bytes=0-1");
            assertThat(part.statusCode()).as(status).isEqualTo(206);
            assertThat(part.headers().firstValue("x-cache")).contains(status);
            assertThat(part.headers().firstValue("content-encoding")).contains("gzip");
            assertThat(part.headers().firstValue("content-range")).hasValueSatisfying(
                    range -> assertThat(range).startsWith("bytes 0-1/"));
            assertThat(part.body()).containsExactly(0x1f, 0x8b); // gzip's magic
        }
    }

    /**
     * An answer not stored because it is not buffered (X-Accel-Buffering: no) is still ranged on its miss, as nginx's
     * cache takes it as cacheable at its head (measured beside php-fpm 8.2, fastcgi_cache: with X-Accel-Buffering: no,
     * or fastcgi_buffering off, `bytes=0-9` of 1000 bytes a 206 and `bytes=5000-` a 416, a MISS every time). It went
     * whole, a 200 to both.
     */
    @Test
    void anUnbufferedAnswerIsRangedOnItsMiss() throws Exception {
        String url = url("rangeunbuf", "public, max-age=60", "&ar=bytes&xab=no&pad=100");
        int length = body("rangeunbuf", 1).length() + 100;
        HttpResponse<String> part = php.get(url, "Range", "bytes=0-1");
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo("id");
        assertThat(part.headers().firstValue("content-range")).contains("bytes 0-1/" + length);
        HttpResponse<String> past = php.get(url, "Range", "bytes=" + length + "-");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(past.headers().firstValue("content-range")).contains("bytes */" + length);
        HttpResponse<String> whole = php.get(url);
        assertThat(whole.headers().firstValue("x-cache")).contains("MISS");
        assertThat(whole.body()).startsWith("id=rangeunbuf run=3");
    }

    /** The same for an answer the cache may not keep: without the gate, PHP would have had the validators. */
    @Test
    void aConditionalRequestForAPrivatePageIsNotModifiedWhenTheAnswerMatches() throws Exception {
        String url = url("cond-private", "private, max-age=60", "&etag=%22p1%22");
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> response = php.get(url, "If-None-Match", "\"p1\"");
            assertThat(response.statusCode()).isEqualTo(304);
            assertThat(response.body()).isEmpty();
        }
        assertThat(php.get(url).body()).isEqualTo(body("cond-private", 3));
    }

    /**
     * A URL remembered uncacheable (hit-for-miss) goes to PHP as nginx passes a request it does not cache: with the
     * client's If-None-Match and If-Modified-Since, so the script can answer 304 itself. The first miss, which could
     * have been stored, still asked without them (as the test above shows). They reached PHP on no request.
     */
    @Test
    void aConditionalRequestForAPageRememberedUncacheableReachesPhpWithItsValidators() throws Exception {
        String url = url("hfm-cond", null, "&etag=%22h2%22&self304=1");
        HttpResponse<String> miss = php.get(url, "If-None-Match", "\"h1\"");
        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(miss.headers().firstValue("x-saw-if-none-match")).as("a miss the cache may fill").isEmpty();

        HttpResponse<String> passed = php.get(url, "If-None-Match", "\"h1\"",
                "If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT");
        assertThat(passed.statusCode()).isEqualTo(200);
        assertThat(passed.body()).isEqualTo(body("hfm-cond", 2));
        assertThat(passed.headers().firstValue("x-saw-if-none-match")).contains("\"h1\"");
        assertThat(passed.headers().firstValue("x-saw-if-modified-since")).contains("Sat, 01 Jan 2000 00:00:00 GMT");

        HttpResponse<String> own = php.get(url, "If-None-Match", "\"h2\"");
        assertThat(own.statusCode()).isEqualTo(304);
        assertThat(own.headers().firstValue("x-saw-if-none-match")).as("the script's own 304").contains("\"h2\"");
        assertThat(php.get(url).body()).as("the 304 was not stored").isEqualTo(body("hfm-cond", 4));
    }

    @Test
    void concurrentMissesOfAPageThatCannotBeStoredRunInPhpSideBySideOnceItsHeadIsIn() throws Exception {
        // PHP sends its head (no Cache-Control) at once, then waits until three runs are running: on the
        // first run alone for its bound, if the others are held behind it.
        String url = "/cache.php?id=sidebyside&together=1&flush=1";
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            responses.add(php.getAsync(url, "X-Together", "3"));
        }
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.get().statusCode()).isEqualTo(200);
            assertThat(response.get().body()).isEqualTo("waiting\ntogether");
        }
    }

    /**
     * A URL's first fill varies (Vary: Accept-Encoding): requests of another variant waited for it on the URL's key,
     * and then coalesce on their own variant's key, one PHP run for all of them, not one each.
     */
    @Test
    void missesOfAnotherVariantThanTheFirstFillCoalesceOnTheirOwnKey() throws Exception {
        String url = url("varyjoin", "public, max-age=60", "&vary=Accept-Encoding&hold=release-varyjoin");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        CompletableFuture<HttpResponse<String>> gzip = php.getAsync(url, "Accept-Encoding", "gzip");
        eventually(() -> php.runs("varyjoin"), runs -> runs == 1);
        List<CompletableFuture<HttpResponse<String>>> br = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            br.add(php.getAsync(url, "Accept-Encoding", "br"));
        }
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 6);
        php.release("release-varyjoin");
        assertThat(gzip.get().body()).isEqualTo("id=varyjoin run=1 ae=gzip");
        for (CompletableFuture<HttpResponse<String>> response : br) {
            assertThat(response.get().statusCode()).isEqualTo(200);
            assertThat(response.get().body()).isEqualTo("id=varyjoin run=2 ae=br");
        }
        assertThat(php.runs("varyjoin")).isEqualTo(2);
        assertThat(php.metric("edge_response_cache_coalesced_total") - coalesced)
                .as("each request that waited counted once, the second wait of five not again").isEqualTo(6);
    }

    @Test
    void missesOfAPageRememberedUncacheableRunInPhpSideBySideUncoalesced() throws Exception {
        String url = "/cache.php?id=hitformiss&together=1"; // no head before the wait
        assertThat(php.get(url, "X-Round", "first").body()).isEqualTo("together"); // alone: one of one
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            responses.add(php.getAsync(url, "X-Round", "second", "X-Together", "3"));
        }
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.get().statusCode()).isEqualTo(200);
            assertThat(response.get().body()).isEqualTo("together");
        }
        assertThat(php.metric("edge_response_cache_coalesced_total")).isEqualTo(coalesced);
    }

    @Test
    void aPageThatBecomesCacheableIsStoredAgain() throws Exception {
        String url = url("becomes", "public, max-age=60", "&ccfrom=2"); // no Cache-Control on the first run
        assertThat(php.get(url).body()).isEqualTo(body("becomes", 1));
        assertThat(php.get(url).body()).isEqualTo(body("becomes", 2));
        assertThat(php.get(url).body()).isEqualTo(body("becomes", 2));
        assertThat(php.runs("becomes")).isEqualTo(2);
    }

    @Test
    void varyAcceptEncodingKeepsTwoVariants() throws Exception {
        String url = url("vary", "public, max-age=60", "&vary=Accept-Encoding");
        for (int i = 0; i < 3; i++) {
            assertThat(php.get(url, "Accept-Encoding", "gzip").body()).isEqualTo("id=vary run=1 ae=gzip");
            assertThat(php.get(url, "Accept-Encoding", "br").body()).isEqualTo("id=vary run=2 ae=br");
        }
        assertThat(php.runs("vary")).isEqualTo(2);
    }

    @Test
    void setCookiePrivateAndNoStoreResponsesNeverReachAnotherClient() throws Exception {
        String cookie = url("cookie", "public, max-age=60", "&cookie=secret");
        String privately = url("private", "private, max-age=60", "");
        String noStore = url("nostore", "no-store", "");
        for (int i = 1; i <= 3; i++) {
            HttpResponse<String> withCookie = php.get(cookie);
            assertThat(withCookie.body()).isEqualTo(body("cookie", i));
            assertThat(withCookie.headers().allValues("set-cookie")).containsExactly("session=secret");
            assertThat(php.get(privately).body()).isEqualTo(body("private", i));
            assertThat(php.get(noStore).body()).isEqualTo(body("nostore", i));
        }
    }

    /**
     * A script written for nginx keeps a page its Cache-Control lets browsers keep out of the cache in front of it with
     * X-Accel-Expires: 0 (fastcgi_cache stores nothing then), and has a page browsers must revalidate (no-cache) kept
     * in it for a minute with X-Accel-Expires: 60; the client never sees that directive, and gets the script's
     * Cache-Control as it was.
     */
    @Test
    void xAccelExpiresZeroKeepsAPageOutOfTheCacheAndIsNotSentOn() throws Exception {
        String url = url("xae", "public, max-age=60", "&xae=0");
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> response = php.get(url);
            assertThat(response.body()).isEqualTo(body("xae", i));
            assertThat(response.headers().firstValue("cache-control")).contains("public, max-age=60");
            assertThat(response.headers().firstValue("x-accel-expires")).isEmpty();
        }
        String stored = url("xae-stored", "public, max-age=60", "&xae=60");
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> response = php.get(stored);
            assertThat(response.body()).isEqualTo(body("xae-stored", 1));
            assertThat(response.headers().firstValue("x-accel-expires")).isEmpty();
        }
        String overridden = url("xae-over", "no-cache", "&xae=60");
        for (int i = 1; i <= 2; i++) {
            HttpResponse<String> response = php.get(overridden);
            assertThat(response.body()).isEqualTo(body("xae-over", 1));
            assertThat(response.headers().firstValue("cache-control")).contains("no-cache");
            assertThat(response.headers().firstValue("x-accel-expires")).isEmpty();
        }
        assertThat(php.runs("xae-over")).isEqualTo(1);
    }

    @Test
    void answersToRequestsWithAuthorizationNeverReachAnotherClient() throws Exception {
        String url = url("auth", "max-age=60", "");
        assertThat(php.get(url, "Authorization", "Bearer alice").body()).isEqualTo(body("auth", 1));
        assertThat(php.get(url).body()).isEqualTo(body("auth", 2));
        assertThat(php.get(url).body()).isEqualTo(body("auth", 2)); // stored from the anonymous request
        // and a cached answer without "public" does not go to a request carrying credentials
        assertThat(php.get(url, "Authorization", "Bearer bob").body()).isEqualTo(body("auth", 3));
        assertThat(php.runs("auth")).isEqualTo(3);
    }

    /**
     * A stale entry revalidated with a 304 naming another version (RFC 9111 4.3.4: it updates nothing) is dropped and
     * asked again without validators; a script that answers that with a 304 too has it passed on, as nginx does. The
     * 304 to the unconditional request was merged as a revalidation, failed to match, and was asked again without
     * end while the client waited (PHP ran 2 464 times in 3 s).
     */
    @Test
    void a304NamingAnotherVersionIsAskedAgainOnceThenPassedOn() throws Exception {
        String url = url("other304", "public, max-age=1", "&etag=%22v1%22&other304from=2");
        assertThat(php.get(url).body()).isEqualTo(body("other304", 1));
        php.advance(Duration.ofSeconds(2));
        HttpResponse<String> again = php.get(url);
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.headers().firstValue("etag")).contains("\"other\"");
        assertThat(php.runs("other304")).as("the revalidation, then once without validators").isEqualTo(3);
    }

    @Test
    void staleWhileRevalidateAnswersStaleWhileExactlyOneRefreshRuns() throws Exception {
        // From its second run on, PHP holds until released: the refresh cannot finish while the test looks.
        String url = url("swr", "public, max-age=10, stale-while-revalidate=600", "&hold=release-swr&holdfrom=2");
        assertThat(php.get(url).body()).isEqualTo(body("swr", 1));
        php.advance(Duration.ofSeconds(11)); // past max-age, inside stale-while-revalidate

        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            responses.add(php.getAsync(url));
        }
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.get().statusCode()).isEqualTo(200);
            assertThat(response.get().body()).isEqualTo(body("swr", 1)); // all answered, the refresh still held
        }
        eventually(() -> php.runs("swr"), runs -> runs == 2); // the one refresh reached PHP
        assertThat(php.get(url).body()).isEqualTo(body("swr", 1));

        php.release("release-swr");
        eventually(() -> php.get(url).body(), body("swr", 2)::equals); // stored once its body ended
        assertThat(php.runs("swr")).isEqualTo(2);
    }

    /**
     * A fill stale when it came, within its stale-while-revalidate (an Age past its max-age): the requests that waited
     * for it are answered with it stale, one of them refreshing it in the background (STALE) while the others say
     * another does (UPDATING). They were logged HIT, and nothing refreshed it. nginx 1.22 (fastcgi_cache_lock,
     * fastcgi_cache_use_stale updating, fastcgi_cache_background_update on, php-fpm 8.2; its fill made stale by an
     * X-Accel-Expires instant long past, as it reads no Age) answers its waiters in turn, each STALE and each running a
     * refresh of its own first.
     */
    @Test
    void followersOfAFillStoredStaleWhileRevalidatedAnswerStaleAndOneRefreshRuns() throws Exception {
        String url = url("swrfill", "public, max-age=10, stale-while-revalidate=600",
                "&age=20&hold=release-swrfill&holdto=1&hold2=release-swrfill-refresh");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        CompletableFuture<HttpResponse<String>> leader = php.getAsync(url);
        eventually(() -> php.runs("swrfill"), runs -> runs == 1);
        List<CompletableFuture<HttpResponse<String>>> followers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            followers.add(php.getAsync(url));
        }
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 3);
        php.release("release-swrfill");
        assertThat(leader.get().headers().firstValue("x-cache")).contains("MISS");
        List<String> words = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> follower : followers) {
            assertThat(follower.get().body()).isEqualTo(body("swrfill", 1)); // answered, the refresh still held
            words.add(follower.get().headers().firstValue("x-cache").orElse("-"));
        }
        assertThat(words).containsExactlyInAnyOrder("STALE", "UPDATING", "UPDATING");
        eventually(() -> php.runs("swrfill"), runs -> runs == 2); // the one refresh reached PHP

        php.release("release-swrfill-refresh");
        eventually(() -> php.get(url).body(), body("swrfill", 2)::equals); // stored once it ended
    }

    @Test
    void aLeaderWhoseClientLeavesStillAnswersItsFollowersFromOneRun() throws Exception {
        String url = url("leave", "public, max-age=60", "&hold=release-leave");
        List<CompletableFuture<HttpResponse<String>>> followers = leaderLeavesWithFourFollowers(url, "leave", 1);
        php.release("release-leave");
        for (CompletableFuture<HttpResponse<String>> follower : followers) {
            assertThat(follower.get().statusCode()).isEqualTo(200);
            assertThat(follower.get().body()).isEqualTo(body("leave", 1));
        }
        assertThat(php.runs("leave")).isEqualTo(1);
        assertThat(php.get(url).body()).isEqualTo(body("leave", 1)); // stored
    }

    @Test
    void followersOfALeaderWhoseClientLeftGetItsAnswerNotAStaleCopy() throws Exception {
        String url = url("leavestale", "public, max-age=10", "&hold=release-leavestale&holdfrom=2");
        assertThat(php.get(url).body()).isEqualTo(body("leavestale", 1));
        php.advance(Duration.ofSeconds(11)); // stale, inside the configured grace: a copy that may answer on error
        List<CompletableFuture<HttpResponse<String>>> followers = leaderLeavesWithFourFollowers(url, "leavestale", 2);
        php.release("release-leavestale");
        for (CompletableFuture<HttpResponse<String>> follower : followers) {
            assertThat(follower.get().body()).isEqualTo(body("leavestale", 2)); // nothing failed: no stale answer
        }
        assertThat(php.runs("leavestale")).isEqualTo(2);
    }

    /**
     * Sends a GET for {@code url} on a connection of its own, waits until it leads a flight (its run, the
     * {@code run}-th of {@code id}, held in PHP) that four more GETs wait for, then closes that connection and
     * waits until edge has seen it go. Returns the four answers to come.
     */
    private static List<CompletableFuture<HttpResponse<String>>> leaderLeavesWithFourFollowers(String url, String id,
            int run) throws Exception {
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> followers = new ArrayList<>();
        long open;
        Socket leader = php.sendAndHold(url);
        try {
            eventually(() -> php.runs(id), runs -> runs == run);
            for (int i = 0; i < 4; i++) {
                followers.add(php.getAsync(url));
            }
            eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 4);
            open = php.metric("edge_connections_open");
        } finally {
            leader.close(); // the leader's client leaves
        }
        eventually(() -> php.metric("edge_connections_open"), n -> n < open);
        return followers;
    }

    @Test
    void purgeFromLoopbackDropsOneUrlOrAPrefix() throws Exception {
        String one = url("purge1", "public, max-age=60", "");
        String two = url("purge2", "public, max-age=60", "");
        php.get(one);
        php.get(two);
        assertThat(php.get(one).body()).isEqualTo(body("purge1", 1));

        HttpResponse<String> purged = php.send("PURGE", one);
        assertThat(purged.statusCode()).isEqualTo(200);
        assertThat(purged.body()).isEqualTo("purged 1\n");
        assertThat(php.get(one).body()).isEqualTo(body("purge1", 2));
        assertThat(php.send("PURGE", "/cache.php?id=nothing-cached").statusCode()).isEqualTo(404);

        HttpResponse<String> prefix = php.send("PURGE", "/cache.php?id=purge*");
        assertThat(prefix.statusCode()).isEqualTo(200);
        assertThat(prefix.body()).isEqualTo("purged 2\n");
        assertThat(php.get(two).body()).isEqualTo(body("purge2", 2));
        assertThat(php.runs("purge1")).isEqualTo(2);
    }

    /**
     * POSTs any client sends to other URLs while a page is filled keep nothing out but those URLs. Forty to targets of
     * 8 KiB, each answered 200 by PHP, pushed out the marks of purged URLs, whose size went by their URL's: the page was
     * refused as if purged, and each request waiting for it ran PHP on its own.
     */
    @Test
    void postsToLongTargetsWhileAPageIsFilledDoNotKeepItOut() throws Exception {
        String url = url("longposts", "public, max-age=60", "&hold=release-longposts");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            responses.add(php.getAsync(url));
        }
        eventually(() -> php.runs("longposts"), runs -> runs == 1);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 4);
        String pad = "x".repeat(7900);
        for (int i = 0; i < 40; i++) {
            assertThat(php.send("POST", url("longpost", null, "&n=" + i + "&pad=" + pad)).statusCode()).isEqualTo(200);
        }
        php.release("release-longposts");
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.get().body()).isEqualTo(body("longposts", 1));
        }
        assertThat(php.get(url).body()).isEqualTo(body("longposts", 1));
        assertThat(php.runs("longposts")).isEqualTo(1);
    }

    /**
     * A POST to a page while its fill runs (PHP holds the fill until the test lets it go): the request that waited for
     * the fill since before the POST has the fill's answer, without a run of its own; the one that came after the POST
     * never has the page from before it, but the next run, which the requests after it have from the cache. The fill's
     * answer was refused, and each waiting request ran PHP in turn: POSTs coming during every fill made every GET a run
     * of its own. nginx 1.22 with fastcgi_cache_lock answers both from the fill, and the GET after them too (a HIT: a POST
     * invalidates nothing there).
     */
    @Test
    void theRequestWaitingForAFillSinceBeforeAPostHasTheFillsAnswerAndOneAfterItDoesNot() throws Exception {
        // the third run (the one after the POST) is held too, so the request from before it answers while that fill
        // is still going: a late answer to it could otherwise be a HIT of the third run's entry, fresh by then
        String url = url("postfill", "public, max-age=60",
                "&hold=release-postfill&holdto=1&hold2=release-postfill-after&hold2from=3");
        long coalesced = php.metric("edge_response_cache_coalesced_total");
        CompletableFuture<HttpResponse<String>> leader = php.getAsync(url);
        eventually(() -> php.runs("postfill"), runs -> runs == 1);
        CompletableFuture<HttpResponse<String>> beforePost = php.getAsync(url);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 1);
        assertThat(php.send("POST", url).body()).isEqualTo(body("postfill", 2));
        CompletableFuture<HttpResponse<String>> afterPost = php.getAsync(url);
        eventually(() -> php.metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 2);
        php.advance(Duration.ofSeconds(1)); // the answer comes after the requests, on the cache's clock too
        php.release("release-postfill");
        assertThat(leader.get().body()).isEqualTo(body("postfill", 1));
        assertThat(beforePost.get().body()).isEqualTo(body("postfill", 1));
        eventually(() -> php.runs("postfill"), runs -> runs == 3);
        php.release("release-postfill-after");
        assertThat(afterPost.get().body()).isEqualTo(body("postfill", 3));
        assertThat(php.get(url).body()).isEqualTo(body("postfill", 3));
        assertThat(php.runs("postfill")).isEqualTo(3);
    }

    @Test
    void aSuccessfulPostInvalidatesItsUrlAndAFailedOneDoesNot() throws Exception {
        String url = url("post", "public, max-age=60", "");
        assertThat(php.get(url).body()).isEqualTo(body("post", 1));
        assertThat(php.get(url).body()).isEqualTo(body("post", 1));
        HttpResponse<String> post = php.send("POST", url);
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).isEqualTo(body("post", 2));
        assertThat(php.get(url).body()).isEqualTo(body("post", 3));
        assertThat(php.get(url).body()).isEqualTo(body("post", 3));

        String failing = url("postfail", "public, max-age=60", "&failfrom=2");
        assertThat(php.get(failing).body()).isEqualTo(body("postfail", 1));
        assertThat(php.send("POST", failing).statusCode()).isEqualTo(500);
        assertThat(php.get(failing).body()).isEqualTo(body("postfail", 1));
        assertThat(php.runs("postfail")).isEqualTo(2);
    }

    @Test
    void aPostInvalidatesTheLocationItNamesOnItsOwnHostOnly() throws Exception {
        String page = url("postloc", "public, max-age=60", "");
        String other = url("postother", "public, max-age=60", "");
        assertThat(php.get(page).body()).isEqualTo(body("postloc", 1));
        assertThat(php.get(other).body()).isEqualTo(body("postother", 1));

        String elsewhere = "http://elsewhere.example" + other;
        assertThat(php.send("POST", url("postform", null, "&location=" + encode(elsewhere))).statusCode()).isEqualTo(302);
        assertThat(php.send("POST", url("postform", null, "&location=" + encode(page))).statusCode()).isEqualTo(302);
        assertThat(php.get(page).body()).isEqualTo(body("postloc", 2));
        assertThat(php.get(other).body()).as("another host's URL stays").isEqualTo(body("postother", 1));
    }

    @Test
    void purgeDropsEveryVariantAlsoAfterAnAnswerWithoutVary() throws Exception {
        // Vary: Accept-Language only when the request has it: the last answer, without Vary, made the cache's
        // Vary index forget the URL while the en and fr variants stayed stored.
        String url = url("purgevary", "public, max-age=60", "&varyif=Accept-Language");
        assertThat(php.get(url, "Accept-Language", "en").body()).isEqualTo(body("purgevary", 1));
        assertThat(php.get(url, "Accept-Language", "fr").body()).isEqualTo(body("purgevary", 2));
        assertThat(php.get(url).body()).isEqualTo(body("purgevary", 3));
        assertThat(php.get(url, "Accept-Language", "fr").body()).isEqualTo(body("purgevary", 3)); // no Vary: any request

        assertThat(php.send("PURGE", url).body()).isEqualTo("purged 3\n");
        assertThat(php.get(url, "Accept-Language", "en").body()).isEqualTo(body("purgevary", 4));
        assertThat(php.get(url, "Accept-Language", "fr").body()).isEqualTo(body("purgevary", 5));
        assertThat(php.runs("purgevary")).isEqualTo(5);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    @Test
    void anXSendfileTheLocationDoesNotFollowIsAFieldStoredWithTheAnswer() throws Exception {
        // no x-sendfile directories here: the field goes to the client as the script wrote it, and the answer is
        // stored as another (it was never stored: taken for a file handed out, whose body is not the script's)
        String url = url("xsf", "public, max-age=60", "&xsf=/srv/files/a.bin");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response = php.get(url);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo(body("xsf", 1));
            assertThat(response.headers().firstValue("x-sendfile")).contains("/srv/files/a.bin");
        }
        assertThat(php.runs("xsf")).isEqualTo(1);
    }
}
