package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code proxy_redirect}: a real edge in front of the JDK's HTTP server, which redirects as an application
 * does, to an absolute URL made of the Host it was sent, and a real HTTP client that does not follow redirects, so the
 * Location it is given is the one asserted.
 */
class ProxyRedirectIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;

    private JdkBackend backend;

    /**
     * Every request is answered 302, its Location the query's {@code to} with {@code {host}} the Host it came with, and
     * a Refresh to the same URL.
     */
    @BeforeEach
    void startBackend() throws IOException {
        backend = JdkBackend.start(this::redirect);
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    private void redirect(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        String to = URLDecoder.decode(query.substring("to=".length()), StandardCharsets.UTF_8)
                .replace("{host}", exchange.getRequestHeaders().getFirst("Host"));
        exchange.getResponseHeaders().add("Location", to);
        exchange.getResponseHeaders().add("Refresh", "0; url=" + to);
        exchange.getResponseHeaders().add("Content-Location", to);
        exchange.sendResponseHeaders(302, -1);
        exchange.close();
    }

    private String backendAddress() {
        return backend.address();
    }

    private EdgeHarness edge() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/api/", proxy = app, proxy-uri = "/" }
                  { match = "/plain/", proxy = app }
                  { match = "/shop/", proxy = app, proxy-uri = "/", proxy-redirect = [
                    { from = "http://app.internal/", to = "https://$host/shop/" }
                    default
                    { from = "http://%s/", to = "/never/" }
                  ] }
                  { match = "/off/", proxy = app, proxy-uri = "/", proxy-redirect = off }
                  { match = "~ ^/([a-z]+)/old/", proxy = app, proxy-redirect = [
                    { from = "~*^http://[^/]+/legacy/(.*)$", to = "https://$host/new/$1" }
                  ] }
                ] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(backendAddress(), backendAddress()));
    }

    /** The answer to {@code path} when the backend redirects to {@code to}. */
    private static HttpResponse<Void> redirected(EdgeHarness edge, String path, String to) throws Exception {
        HttpResponse<Void> answer = CLIENT.send(HttpRequest.newBuilder(edge.uri(path + "?to="
                        + URLEncoder.encode(to, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(answer.statusCode()).isEqualTo(302);
        return answer;
    }

    private static String location(EdgeHarness edge, String path, String to) throws Exception {
        return redirected(edge, path, to).headers().firstValue("Location").orElseThrow();
    }

    @Test
    void byDefaultTheProxyPassUrlBecomesTheLocationsPrefix() throws Exception {
        try (EdgeHarness edge = edge()) {
            HttpResponse<Void> answer = redirected(edge, "/api/login", "http://{host}/users?id=1");
            assertThat(answer.headers().firstValue("Location")).hasValue("/api/users?id=1");
            assertThat(answer.headers().firstValue("Refresh")).hasValue("0; url=/api/users?id=1");
            assertThat(answer.headers().firstValue("Content-Location")).as("not nginx's to rewrite")
                    .hasValue("http://" + backendAddress() + "/users?id=1");
            // without a proxy-uri: http://$proxy_host/ becomes /
            assertThat(location(edge, "/plain/login", "http://{host}/plain/home")).isEqualTo("/plain/home");
            // what does not start with the proxy_pass URL goes as sent
            assertThat(location(edge, "/api/login", "https://sso.example/auth")).isEqualTo("https://sso.example/auth");
            assertThat(location(edge, "/api/login", "/relative")).isEqualTo("/relative");
        }
    }

    @Test
    void pairsAreTriedInOrderWithTheRequestsVariables() throws Exception {
        try (EdgeHarness edge = edge()) {
            // $host: the client's Host without its port
            assertThat(location(edge, "/shop/x", "http://app.internal/cart")).isEqualTo("https://127.0.0.1/shop/cart");
            assertThat(location(edge, "/shop/x", "http://{host}/cart")).as("default, listed before a pair that would")
                    .isEqualTo("/shop/cart");
            assertThat(location(edge, "/shop/x", "http://elsewhere/cart")).isEqualTo("http://elsewhere/cart");
        }
    }

    @Test
    void aRegexPairReplacesTheWholeUrlWithItsCaptures() throws Exception {
        try (EdgeHarness edge = edge()) {
            // its $1 the pair's regex's, not the location's; ~*: case ignored
            assertThat(location(edge, "/acme/old/x", "HTTP://{host}/legacy/page?id=2"))
                    .isEqualTo("https://127.0.0.1/new/page?id=2");
            assertThat(location(edge, "/acme/old/x", "http://{host}/current")).isEqualTo("http://" + backendAddress()
                    + "/current");
        }
    }

    @Test
    void offPassesTheBackendsLocationAsSent() throws Exception {
        try (EdgeHarness edge = edge()) {
            HttpResponse<Void> answer = redirected(edge, "/off/login", "http://{host}/users");
            assertThat(answer.headers().firstValue("Location")).hasValue("http://" + backendAddress() + "/users");
            assertThat(answer.headers().firstValue("Refresh")).hasValue("0; url=http://" + backendAddress() + "/users");
        }
    }
}
