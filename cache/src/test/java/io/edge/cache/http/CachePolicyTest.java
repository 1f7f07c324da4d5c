package io.edge.cache.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.edge.cache.ResponseCacheSettings;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

class CachePolicyTest {

    static ResponseCacheSettings settings(boolean storeSetCookie, boolean honourClientNoCache) {
        return new ResponseCacheSettings(1 << 20, 64 * 1024, storeSetCookie, Duration.ofSeconds(5),
                Duration.ofSeconds(120),
                Duration.ofSeconds(60), List.of("SESSID"), honourClientNoCache);
    }

    final CachePolicy policy = new CachePolicy(settings(false, true));

    static HttpRequest get(String uri, String... headers) {
        return request(HttpMethod.GET, uri, headers);
    }

    static HttpRequest request(HttpMethod method, String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        r.headers().set("Host", "Example.org");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    static HttpResponse response(int status, String... headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private boolean storable(HttpRequest request, HttpResponse response) {
        return policy.storable(request, response, CacheControl.of(response.headers()), NONE);
    }

    /** Routing drops a trailing dot from Host; so does the key, or a PURGE of "a.test" missed "A.test."'s entry. */
    @Test
    void theKeysHostHasNoTrailingDotAndKeepsItsPort() {
        HttpRequest dotted = get("/p?x=1");
        dotted.headers().set("Host", "Example.ORG.");
        assertThat(CachePolicy.primaryKey(dotted)).isEqualTo(CachePolicy.primaryKey(get("/p?x=1")));
        HttpRequest dottedPort = get("/p");
        dottedPort.headers().set("Host", "example.org.:8080");
        HttpRequest port = get("/p");
        port.headers().set("Host", "example.org:8080");
        assertThat(CachePolicy.primaryKey(dottedPort)).isEqualTo(CachePolicy.primaryKey(port))
                .isNotEqualTo(CachePolicy.primaryKey(get("/p")));
        assertThat(CachePolicy.withoutTrailingDot("[::1]:80")).isEqualTo("[::1]:80");
        assertThat(CachePolicy.withoutTrailingDot("[::1]")).isEqualTo("[::1]");
        assertThat(CachePolicy.withoutTrailingDot(".")).isEqualTo(".");
    }

    @Test
    void parsesCacheControlAcrossFieldsWithQuotesAndJunk() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Cache-Control", "Public, max-age=60, no-cache=\"Set-Cookie, X\"")
                .add("Cache-Control", "s-maxage=\"30\", stale-while-revalidate=10,stale-if-error=abc, max-age=90");
        CacheControl cc = CacheControl.of(h);
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.noCache()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(60);
        assertThat(cc.sMaxAge()).isEqualTo(30);
        assertThat(cc.staleWhileRevalidate()).isEqualTo(10);
        assertThat(cc.staleIfError()).isZero();
        assertThat(cc.noStore()).isFalse();
        assertThat(CacheControl.of(new DefaultHttpHeaders().add("Cache-Control", "max-age=99999999999")).maxAge())
                .isEqualTo(2_147_483_648L);
        assertThat(CacheControl.of(new DefaultHttpHeaders())).isSameAs(CacheControl.NONE);
    }

    /**
     * An Expires that is no date is one already past (RFC 9111 5.3), a Date that is none is ignored: also when longer
     * than Netty's parser takes (64 characters), where it throws.
     */
    @Test
    void anExpiresOrDateThatIsNoDateOfAnyLengthIsNoFreshness() {
        String longer = "Thu, 01 Jan 2099 00:00:00 GMT " + "x".repeat(64);
        assertThat(CachePolicy.freshnessLifetime(response(200, "Expires", longer).headers(), CacheControl.NONE, 0,
                CachePolicy.NO_ACCEL_EXPIRES)).isZero();
        assertThat(CachePolicy.freshnessLifetime(response(200, "Date", longer, "Expires", "Thu, 01 Jan 1970 00:00:10 GMT")
                .headers(), CacheControl.NONE, 5_000, CachePolicy.NO_ACCEL_EXPIRES)).isEqualTo(5);
    }

    @Test
    void storesGetWithExplicitFreshnessOnly() {
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60"))).isTrue();
        assertThat(storable(get("/a"), response(200, "Expires", "Thu, 01 Jan 2099 00:00:00 GMT"))).isTrue();
        assertThat(storable(get("/a"), response(200))).as("no heuristic freshness").isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "public"))).isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "no-cache", "ETag", "\"x\""))).isTrue();
        assertThat(storable(request(HttpMethod.HEAD, "/a"), response(200, "Cache-Control", "max-age=60"))).isFalse();
        assertThat(storable(request(HttpMethod.POST, "/a"), response(200, "Cache-Control", "max-age=60"))).isFalse();
        assertThat(storable(get("/a"), response(206, "Cache-Control", "max-age=60"))).isFalse();
        assertThat(storable(get("/a"), response(302, "Cache-Control", "max-age=60"))).as("explicit freshness").isTrue();
        assertThat(storable(get("/a"), response(404, "Cache-Control", "max-age=60"))).isTrue();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "Content-Length", "70000"))).isFalse();
    }

    @Test
    void neverStoresPrivateNoStoreSetCookieOrVaryStar() {
        assertThat(storable(get("/a"), response(200, "Cache-Control", "private, max-age=60"))).isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "no-store, max-age=60"))).isFalse();
        assertThat(storable(get("/a", "Cache-Control", "no-store"), response(200, "Cache-Control", "max-age=60"))).isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "Set-Cookie", "a=b"))).isFalse();
        assertThat(new CachePolicy(settings(true, true)).storable(get("/a"),
                response(200, "Cache-Control", "max-age=60", "Set-Cookie", "a=b"), CacheControl.of(
                        response(200, "Cache-Control", "max-age=60").headers()), NONE)).isTrue();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "Vary", "Accept, *"))).isFalse();
    }

    /**
     * X-Accel-Buffering: no is a script's word that its answer streams (Server-Sent Events, a job's progress): nginx
     * caches no unbuffered answer, so neither does this cache, whatever its Cache-Control or X-Accel-Expires say. nginx
     * reads "no" alone, in any case (ngx_http_upstream_process_buffering compares the whole value): "n", "nope" or
     * anything else leaves the answer as any.
     */
    @Test
    void neverStoresAnUnbufferedAnswer() {
        for (String no : new String[] {"no", "No", "NO", "nO"}) {
            assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "X-Accel-Buffering", no)))
                    .as(no).isFalse();
        }
        assertThat(storable(get("/a"), response(200, "X-Accel-Expires", "60", "X-Accel-Buffering", "no"))).isFalse();
        for (String buffered : new String[] {"yes", "Yes", "", "maybe", "n", "nope", "none", "no-store"}) {
            assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "X-Accel-Buffering",
                    buffered))).as(buffered).isTrue();
        }
        // of several lines the last "no" or "yes", as nginx reads each in turn
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "X-Accel-Buffering", "no",
                "X-Accel-Buffering", "yes"))).isTrue();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "X-Accel-Buffering", "yes",
                "X-Accel-Buffering", "no"))).isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "X-Accel-Buffering", "no",
                "X-Accel-Buffering", "nope"))).isFalse();
    }

    /**
     * X-Accel-Expires: 0 is a script's word to the cache in front of it (nginx's fastcgi_cache) not to store its
     * answer, whatever its Cache-Control lets browsers keep; a value nginx cannot read it ignores.
     */
    @Test
    void xAccelExpiresZeroKeepsAnAnswerOut() {
        assertThat(storable(get("/a"), response(200, "Cache-Control", "public, max-age=60", "X-Accel-Expires", "0")))
                .isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "max-age=60", "X-Accel-Expires", "soon")))
                .isTrue();
    }

    /** nginx reads X-Accel-Expires as seconds from now, or "@" and the Unix time until which; nothing else. */
    @Test
    void xAccelExpiresIsSecondsOrAnInstant() {
        long now = 1_700_000_000_500L;
        assertThat(CachePolicy.accelExpires("60", now)).isEqualTo(60);
        assertThat(CachePolicy.accelExpires(" 60 ", now)).isEqualTo(60);
        assertThat(CachePolicy.accelExpires("@1700000090", now)).isEqualTo(90);
        assertThat(CachePolicy.accelExpires("0", now)).isZero();
        assertThat(CachePolicy.accelExpires("@1700000000", now)).as("an instant now or past").isZero();
        assertThat(CachePolicy.accelExpires("@1", now)).isZero();
        assertThat(CachePolicy.accelExpires("99999999999999", now)).isEqualTo(Integer.MAX_VALUE);
        for (String unreadable : new String[] {null, "", "@", "-5", "+5", "1.5", "60s", "soon", "6 0",
                "1234567890123456789"}) {
            assertThat(CachePolicy.accelExpires(unreadable, now)).as(String.valueOf(unreadable)).isEqualTo(NONE);
        }
    }

    /**
     * A positive X-Accel-Expires is this cache's freshness, over max-age, Expires and no-cache (which speak to the
     * browsers too), and makes an answer without them storable; it never lets in what private, no-store, a cookie or
     * Vary: * keep out, and an instant already past keeps the answer out as 0 does.
     */
    @Test
    void xAccelExpiresSetsThisCachesFreshnessButOpensNoOtherDoor() {
        long now = 1_700_000_000_000L;
        HttpHeaders h = response(200, "Cache-Control", "max-age=600").headers();
        assertThat(CachePolicy.freshnessLifetime(h, CacheControl.of(h), now, 30)).isEqualTo(30);
        h.set("Cache-Control", "no-cache");
        assertThat(CachePolicy.freshnessLifetime(h, CacheControl.of(h), now, 30)).isEqualTo(30);

        assertThat(storable(get("/a"), response(200, "X-Accel-Expires", "30"))).isTrue();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "no-cache", "X-Accel-Expires", "30"))).isTrue();
        assertThat(storable(get("/a"), response(500, "X-Accel-Expires", "30"))).as("explicit freshness").isTrue();
        assertThat(storable(get("/a"), response(200, "X-Accel-Expires", "@1"))).isFalse();
        assertThat(storable(get("/a"), response(200, "X-Accel-Expires", "soon"))).as("no freshness at all").isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "private", "X-Accel-Expires", "30"))).isFalse();
        assertThat(storable(get("/a"), response(200, "Cache-Control", "no-store", "X-Accel-Expires", "30"))).isFalse();
        assertThat(storable(get("/a"), response(200, "Set-Cookie", "a=b", "X-Accel-Expires", "30"))).isFalse();
        assertThat(storable(get("/a"), response(200, "Vary", "*", "X-Accel-Expires", "30"))).isFalse();
        assertThat(storable(get("/a", "Authorization", "Basic eDp5"), response(200, "X-Accel-Expires", "30")))
                .as("not a word for sharing with other users").isFalse();
    }

    @Test
    void authorizationNeedsPublicSMaxAgeOrMustRevalidate() {
        HttpRequest auth = get("/a", "Authorization", "Basic eDp5");
        assertThat(storable(auth, response(200, "Cache-Control", "max-age=60"))).isFalse();
        assertThat(storable(auth, response(200, "Cache-Control", "public, max-age=60"))).isTrue();
        assertThat(storable(auth, response(200, "Cache-Control", "s-maxage=60"))).isTrue();
        assertThat(storable(auth, response(200, "Cache-Control", "max-age=60, must-revalidate"))).isTrue();
    }

    @Test
    void bypassesOnConfiguredCookieAndOtherMethods() {
        assertThat(policy.bypass(get("/a", "Cookie", "theme=dark; SESSID=42"))).isTrue();
        assertThat(policy.bypass(get("/a", "Cookie", "theme=dark; sessid=42"))).isFalse();
        assertThat(policy.bypass(get("/a", "Cookie", "XSESSID=1"))).isFalse();
        assertThat(policy.bypass(request(HttpMethod.HEAD, "/a"))).isFalse();
        assertThat(policy.bypass(request(HttpMethod.PUT, "/a"))).isTrue();
    }

    /**
     * A name ending in * stands for every cookie whose name starts so: WordPress names its login cookie per site
     * (wordpress_logged_in_<hash>), which a list of exact names could not catch, and such a "name" was taken as written.
     */
    @Test
    void aBypassNameEndingInAStarIsThePrefixOfNames() {
        CachePolicy wordpress = new CachePolicy(new ResponseCacheSettings(1 << 20, 64 * 1024, false,
                Duration.ofSeconds(5), Duration.ofSeconds(120), Duration.ofSeconds(60),
                List.of("wordpress_logged_in_*", "wp-postpass_*"), true));
        assertThat(wordpress.bypass(get("/a", "Cookie", "wordpress_test_cookie=1; wordpress_logged_in_5f3a=u%7C1"))).isTrue();
        assertThat(wordpress.bypass(get("/a", "Cookie", "wp-postpass_abc=x"))).isTrue();
        assertThat(wordpress.bypass(get("/a", "Cookie", "wordpress_test_cookie=1"))).isFalse();
        assertThat(wordpress.bypass(get("/a", "Cookie", "x_wordpress_logged_in_5f3a=1"))).isFalse();
        assertThatIllegalArgumentException().isThrownBy(() -> new ResponseCacheSettings(1 << 20, 64 * 1024, false,
                Duration.ofSeconds(5), Duration.ofSeconds(120), Duration.ofSeconds(60), List.of("wp*x"), true));
    }

    /** No X-Accel-Expires. */
    private static final long NONE = CachePolicy.NO_ACCEL_EXPIRES;

    @Test
    void freshnessPrefersSMaxAgeThenMaxAgeThenExpires() {
        long now = 1_700_000_000_000L;
        String date = DateFormatter.format(new Date(now));
        String expires = DateFormatter.format(new Date(now + 120_000));
        HttpHeaders h = response(200, "Date", date, "Expires", expires).headers();
        assertThat(CachePolicy.freshnessLifetime(h, CacheControl.of(h), now, NONE)).isEqualTo(120);
        h.set("Cache-Control", "max-age=60");
        assertThat(CachePolicy.freshnessLifetime(h, CacheControl.of(h), now, NONE)).isEqualTo(60);
        h.set("Cache-Control", "max-age=60, s-maxage=10");
        assertThat(CachePolicy.freshnessLifetime(h, CacheControl.of(h), now, NONE)).isEqualTo(10);
        h.set("Cache-Control", "max-age=60, no-cache");
        assertThat(CachePolicy.freshnessLifetime(h, CacheControl.of(h), now, NONE)).isZero();
        HttpHeaders invalid = response(200, "Expires", "0").headers();
        assertThat(CachePolicy.freshnessLifetime(invalid, CacheControl.of(invalid), now, NONE)).isZero();
    }

    @Test
    void lifetimeAndAgeAreCappedAt2To31Seconds() {
        long now = 1_700_000_000_000L;
        HttpHeaders never = response(200, "Expires", "Fri, 31 Dec 9999 23:59:59 GMT").headers();
        assertThat(CachePolicy.freshnessLifetime(never, CacheControl.of(never), now, CachePolicy.NO_ACCEL_EXPIRES))
                .isEqualTo(2_147_483_648L);
        assertThat(CachePolicy.initialAge(response(200, "Age", "99999999999").headers())).isEqualTo(2_147_483_648L);
    }

    /** A backend's Date is its clock, not a measure of the answer's age: only Age counts (see initialAge). */
    @Test
    void initialAgeIsTheAgeFieldWhateverTheDate() {
        long now = 1_700_000_000_000L;
        HttpHeaders h = response(200, "Date", DateFormatter.format(new Date(now - 30_000)), "Age", "10").headers();
        assertThat(CachePolicy.initialAge(h)).isEqualTo(10);
        h.set("Date", DateFormatter.format(new Date(now + 30_000)));
        assertThat(CachePolicy.initialAge(h)).isEqualTo(10);
        h.remove("Age");
        assertThat(CachePolicy.initialAge(h)).isZero();
        assertThat(CachePolicy.initialAge(response(200).headers())).isZero();
    }

    @Test
    void clientNoCacheForcesRevalidationUnlessIgnored() {
        assertThat(policy.clientForcesRevalidation(get("/a", "Cache-Control", "no-cache"))).isTrue();
        assertThat(policy.clientForcesRevalidation(get("/a", "Cache-Control", "max-age=0"))).isTrue();
        assertThat(policy.clientForcesRevalidation(get("/a", "Pragma", "no-cache"))).isTrue();
        assertThat(policy.clientForcesRevalidation(get("/a", "Cache-Control", "max-age=5"))).isFalse();
        assertThat(new CachePolicy(settings(false, false)).clientForcesRevalidation(get("/a", "Cache-Control", "no-cache")))
                .isFalse();
    }

    @Test
    void requestsWhoseHostAndTargetRunTogetherTheSameHaveDifferentKeys() {
        HttpRequest slashInHost = get("/cached");
        slashInHost.headers().set("Host", "localhost/x");
        HttpRequest plain = get("/x/cached");
        plain.headers().set("Host", "localhost");
        assertThat(CachePolicy.primaryKey(slashInHost)).isNotEqualTo(CachePolicy.primaryKey(plain));
        assertThat(CachePolicy.primaryKey(get("http://localhost/x/cached"))).isEqualTo(CachePolicy.primaryKey(plain))
                .isNotEqualTo(CachePolicy.primaryKey(get("http://localhost:80/x/cached")));
    }

    @Test
    void keysNormaliseHostAndMethodAndIncludeVariedValues() {
        assertThat(CachePolicy.primaryKey(get("/p?q=1"))).isEqualTo("example.org\n/p?q=1");
        assertThat(CachePolicy.primaryKey(request(HttpMethod.HEAD, "/p?q=1"))).isEqualTo("example.org\n/p?q=1");
        // the target as sent, as the backend gets it (edge refuses a fragment before any key is made)
        assertThat(CachePolicy.primaryKey(get("http://Other.ORG:8080/x#frag"))).isEqualTo("other.org:8080\n/x#frag");
        assertThat(CachePolicy.primaryKey(get("http://Other.ORG?q=1"))).isEqualTo("other.org\n/?q=1");
        assertThat(CachePolicy.varyNames(response(200, "Vary", "Accept-Encoding, accept-encoding", "Vary", "Origin").headers()))
                .containsExactly("accept-encoding", "origin");
        List<String> vary = List.of("accept-encoding");
        String gzip = CachePolicy.variantKey("h/p", vary, get("/p", "Accept-Encoding", "gzip").headers());
        String none = CachePolicy.variantKey("h/p", vary, get("/p").headers());
        String empty = CachePolicy.variantKey("h/p", vary, get("/p", "Accept-Encoding", "").headers());
        assertThat(gzip).isEqualTo("h/p\u0000accept-encoding=gzip");
        assertThat(List.of(gzip, none, empty)).doesNotHaveDuplicates();
        assertThat(CachePolicy.variantKey("h/p", List.of(), get("/p").headers())).isEqualTo("h/p");
    }

    @Test
    void unsafeMethodsAndSameHostLocationsAreInvalidated() {
        assertThat(List.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH, HttpMethod.valueOf("FOO")))
                .allMatch(CachePolicy::invalidates);
        assertThat(List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.TRACE))
                .noneMatch(CachePolicy::invalidates);

        String request = "example.org:8080\n/shop/cart?add=7";
        assertThat(CachePolicy.referencedKey(request, "/shop/item/7")).isEqualTo("example.org:8080\n/shop/item/7");
        assertThat(CachePolicy.referencedKey(request, "list?page=1")).isEqualTo("example.org:8080\n/shop/list?page=1");
        assertThat(CachePolicy.referencedKey(request, " https://Example.ORG:8080/a%20b ")).isEqualTo("example.org:8080\n/a%20b");
        assertThat(CachePolicy.referencedKey(request, "http://example.org:8080")).isEqualTo("example.org:8080\n/");
        assertThat(CachePolicy.referencedKey(request, "http://example.org/shop/item/7")).as("another port").isNull();
        assertThat(CachePolicy.referencedKey(request, "//elsewhere.org/shop/item/7")).isNull();
        assertThat(CachePolicy.referencedKey(request, "ftp://example.org:8080/x")).isNull();
        assertThat(CachePolicy.referencedKey(request, "mailto:shop@example.org")).isNull();
        assertThat(CachePolicy.referencedKey(request, "/no spaces")).isNull();
        assertThat(CachePolicy.referencedKey("\n/cart", "/item")).as("no Host to compare with").isNull();
    }

    /** A key in a site's scope: the scope before the host, never read as part of it; a reference stays in the scope. */
    @Test
    void aKeyInAScopeBeginsWithIt() {
        HttpRequest request = get("http://example.org/shop/cart");
        assertThat(CachePolicy.primaryKey("1\n", request)).isEqualTo("1\nexample.org\n/shop/cart");
        assertThat(CachePolicy.primaryKey(CachePolicy.NO_SCOPE, request)).isEqualTo(CachePolicy.primaryKey(request))
                .isEqualTo("example.org\n/shop/cart");
        assertThat(CachePolicy.referencedKey("1\nexample.org\n/shop/cart", "item/7"))
                .isEqualTo("1\nexample.org\n/shop/item/7");
        assertThat(CachePolicy.referencedKey("1\nexample.org\n/shop/cart", "http://example.org/a"))
                .isEqualTo("1\nexample.org\n/a");
        assertThat(CachePolicy.referencedKey("1\nexample.org\n/shop/cart", "http://1/a")).as("another host").isNull();
    }
}
