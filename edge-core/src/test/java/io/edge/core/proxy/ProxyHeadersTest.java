package io.edge.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.VariableText;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The hop-by-hop headers stay on their hop; proxy_hide_header's defaults are hidden from the client; proxy_redirect
 * rewrites a backend's Location and Refresh.
 */
class ProxyHeadersTest {

    @Test
    void aRequestLosesItsHopByHopHeadersHostAndExpect() {
        HttpHeaders client = new DefaultHttpHeaders()
                .add("Host", "edge.test").add("Connection", "keep-alive, X-Private").add("X-Private", "1")
                .add("Keep-Alive", "timeout=5").add("TE", "trailers").add("Upgrade", "websocket")
                .add("Proxy-Authorization", "Basic x").add("Proxy", "http://evil").add("Transfer-Encoding", "chunked")
                .add("Content-Length", "3").add("Expect", "100-continue").add("Cookie", "a=1").add("Accept", "*/*");
        HttpHeaders backend = new DefaultHttpHeaders();
        ProxyHeaders.copyRequest(client, backend);
        assertThat(backend.names()).containsExactlyInAnyOrder("Cookie", "Accept");
    }

    /**
     * A name of anything but letters, digits and '-' is not passed, as nginx's ignore_invalid_headers with
     * underscores_in_headers off: a backend that reads headers as CGI names (WSGI, Rack, PHP behind an app server)
     * takes {@code X_Real_IP} or {@code X.Forwarded.For} for the X-Real-IP or X-Forwarded-For edge sets.
     */
    @Test
    void aRequestHeaderNginxTakesForInvalidIsNotPassed() {
        HttpHeaders client = new DefaultHttpHeaders().add("X_Real_IP", "203.0.113.66")
                .add("X.Forwarded.For", "203.0.113.66").add("X-Forwarded_Proto", "https").add("X-Request-Id", "r1")
                .add("Accept", "*/*");
        HttpHeaders backend = new DefaultHttpHeaders();
        ProxyHeaders.copyRequest(client, backend);
        assertThat(backend.names()).containsExactlyInAnyOrder("X-Request-Id", "Accept");
    }

    @Test
    void anAnswerLosesItsHopByHopHeadersAndNginxsHiddenOnes() {
        HttpHeaders answer = new DefaultHttpHeaders()
                .add("Date", "x").add("Server", "node").add("X-Pad", "y").add("X-Accel-Redirect", "/f")
                .add("X-Accel-Buffering", "no").add("Connection", "close").add("Keep-Alive", "timeout=5")
                .add("Transfer-Encoding", "chunked").add("Set-Cookie", "a=1").add("Set-Cookie", "b=2")
                .add("Content-Type", "application/json");
        HttpHeaders client = new DefaultHttpHeaders();
        ProxyHeaders.copyResponse(answer, client, Set.of());
        assertThat(client.names()).containsExactlyInAnyOrder("Set-Cookie", "Content-Type");
        assertThat(client.getAll("Set-Cookie")).containsExactly("a=1", "b=2");
    }

    /**
     * nginx 1.22's proxy_hide_header defaults hide five X-Accel fields, not every one: measured behind the same raw
     * backend, nginx passed X-Accel-Foo and X-Accel-Mapping (any case) to its client and hid Expires, Redirect,
     * Limit-Rate, Buffering and Charset; proxy_pass_header lets one of those five through.
     */
    @Test
    void onlyTheXAccelFieldsNginxHidesAreHidden() {
        HttpHeaders answer = new DefaultHttpHeaders().add("X-Accel-Expires", "60").add("X-Accel-Redirect", "/f")
                .add("X-Accel-Limit-Rate", "0").add("X-Accel-Buffering", "no").add("x-accel-charset", "utf-8")
                .add("X-Accel-Foo", "foo").add("x-accel-mapping", "/=/").add("X-Accel-", "e").add("X-Accelerated", "a");
        HttpHeaders client = new DefaultHttpHeaders();
        ProxyHeaders.copyResponse(answer, client, Set.of());
        assertThat(client.names()).containsExactlyInAnyOrder("X-Accel-Foo", "x-accel-mapping", "X-Accel-",
                "X-Accelerated");
        HttpHeaders passed = new DefaultHttpHeaders();
        ProxyHeaders.copyResponse(answer, passed, Set.of("x-accel-expires", "x-accel-foo"));
        assertThat(passed.names()).containsExactlyInAnyOrder("X-Accel-Expires", "X-Accel-Foo", "x-accel-mapping",
                "X-Accel-", "X-Accelerated");
    }

    @Test
    void anUpgradeAsksForWhatTheClientNamedButH2c() {
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders().add("Upgrade", "websocket")))
                .isEqualTo("websocket");
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders().add("Upgrade", "h2c, websocket")))
                .isEqualTo("websocket");
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders().add("Upgrade", "H2C"))).isNull();
        assertThat(ProxyHeaders.upgradeProtocols(new DefaultHttpHeaders())).isNull();
    }

    private static LocationSettings.Proxy redirecting(String... fromTo) {
        List<LocationSettings.Proxy.Redirect> redirects = new java.util.ArrayList<>();
        for (int i = 0; i < fromTo.length; i += 2) {
            redirects.add(new LocationSettings.Proxy.Redirect(VariableText.of(fromTo[i]), VariableText.of(fromTo[i + 1])));
        }
        return new LocationSettings.Proxy("api", "/", "127.0.0.1:3000", Map.of(), true, redirects,
                LocationSettings.NextUpstream.DEFAULT, true, true, Set.of());
    }

    private static HttpHeaders rewritten(LocationSettings.Proxy proxy, String... headers) {
        HttpHeaders answer = new DefaultHttpHeaders();
        for (int i = 0; i < headers.length; i += 2) {
            answer.add(headers[i], headers[i + 1]);
        }
        ProxyHeaders.rewriteRedirects(null, proxy, answer);
        return answer;
    }

    @Test
    void aLocationStartingWithAPairsFromHasItReplacedByItsTo() {
        LocationSettings.Proxy proxy = redirecting("http://127.0.0.1:3000/", "/api/");
        assertThat(rewritten(proxy, "Location", "http://127.0.0.1:3000/users?id=1").get("Location"))
                .isEqualTo("/api/users?id=1");
        assertThat(rewritten(proxy, "Location", "http://127.0.0.1:3000/").get("Location")).isEqualTo("/api/");
        // another host, another port, a relative URL, another case: as sent
        assertThat(rewritten(proxy, "Location", "http://127.0.0.1:3001/users").get("Location"))
                .isEqualTo("http://127.0.0.1:3001/users");
        assertThat(rewritten(proxy, "Location", "/users").get("Location")).isEqualTo("/users");
        assertThat(rewritten(proxy, "Location", "HTTP://127.0.0.1:3000/users").get("Location"))
                .isEqualTo("HTTP://127.0.0.1:3000/users");
        // only at the start
        assertThat(rewritten(proxy, "Location", "https://x/?next=http://127.0.0.1:3000/").get("Location"))
                .isEqualTo("https://x/?next=http://127.0.0.1:3000/");
    }

    @Test
    void theFirstPairThatMatchesWinsInTheirOrder() {
        LocationSettings.Proxy proxy = redirecting("http://app/admin/", "/console/", "http://app/", "/",
                "http://app/a", "/never");
        assertThat(rewritten(proxy, "Location", "http://app/admin/x").get("Location")).isEqualTo("/console/x");
        assertThat(rewritten(proxy, "Location", "http://app/a/b").get("Location")).isEqualTo("/a/b");
        assertThat(rewritten(redirecting("/", "/app/"), "Location", "/login").get("Location"))
                .as("nginx's proxy_redirect / /app/: a relative redirect too").isEqualTo("/app/login");
    }

    @Test
    void refreshHasItsUrlRewrittenAndNothingElseIsTouched() {
        LocationSettings.Proxy proxy = redirecting("http://app/", "/api/");
        HttpHeaders answer = rewritten(proxy, "Refresh", "5; URL=http://app/next", "Content-Location", "http://app/x",
                "Link", "<http://app/style.css>; rel=preload", "X-Url", "http://app/y");
        assertThat(answer.get("Refresh")).isEqualTo("5; URL=/api/next");
        assertThat(answer.get("Content-Location")).isEqualTo("http://app/x");
        assertThat(answer.get("Link")).isEqualTo("<http://app/style.css>; rel=preload");
        assertThat(answer.get("X-Url")).isEqualTo("http://app/y");
        assertThat(rewritten(proxy, "Refresh", "5").get("Refresh")).as("no url=").isEqualTo("5");
        assertThat(rewritten(proxy, "Refresh", "0;url=http://app/").get("Refresh")).isEqualTo("0;url=/api/");
    }

    @Test
    void aRedirectNoPairTakesKeepsItsNameAsWrittenAndItsPlace() {
        HttpHeaders answer = rewritten(redirecting("http://127.0.0.1:3000/", "/api/"), "Location", "/elsewhere",
                "X-After", "1");
        assertThat(answer.names()).containsExactly("Location", "X-After");
        assertThat(answer.iteratorAsString().next().getKey()).isEqualTo("Location");
    }

    @Test
    void offLeavesTheRedirectsAsSent() {
        HttpHeaders answer = rewritten(redirecting(), "Location", "http://127.0.0.1:3000/x", "Refresh",
                "1; url=http://127.0.0.1:3000/y");
        assertThat(answer.get("Location")).isEqualTo("http://127.0.0.1:3000/x");
        assertThat(answer.get("Refresh")).isEqualTo("1; url=http://127.0.0.1:3000/y");
    }

    @Test
    void aRegexReplacesTheWholeUrlWithItsCaptures() {
        // nginx's proxy_redirect ~^http://[^/]+:3000/(?<rest>.*)$ /app/$rest; and a $1 after it
        VariableText to = new VariableText(List.of(new Return.Part("/app/", null), new Return.Part(null, "rest")), null);
        VariableText first = new VariableText(List.of(new Return.Part("/one/", null), new Return.Part(null, "1")), null);
        LocationSettings.Proxy proxy = new LocationSettings.Proxy("api", null, "127.0.0.1:3000", Map.of(), true, List.of(
                new LocationSettings.Proxy.Redirect(null, Pattern.compile("^http://[^/]+:3000/(?<rest>.*)$"), to),
                new LocationSettings.Proxy.Redirect(null, Pattern.compile("//([a-z]+)\\.internal/"), first)),
                LocationSettings.NextUpstream.DEFAULT, true, true, Set.of());
        assertThat(rewritten(proxy, "Location", "http://backend:3000/users?id=1").get("Location"))
                .isEqualTo("/app/users?id=1");
        assertThat(rewritten(proxy, "Refresh", "3;url=http://backend:3000/next").get("Refresh"))
                .isEqualTo("3;url=/app/next");
        assertThat(rewritten(proxy, "Location", "https://cart.internal/x").get("Location"))
                .as("found anywhere in it, the whole URL replaced, as nginx's").isEqualTo("/one/cart");
        assertThat(rewritten(proxy, "Location", "http://backend:3001/users").get("Location"))
                .isEqualTo("http://backend:3001/users");
    }
}
