package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code always-headers} (nginx's add_header ... always) in front of a real php-fpm, real files and the
 * response cache: on every answer of the location whatever its status, edge's own error pages too, once each; those of
 * location-defaults on the answers no location gives (as nginx's server-level ones), never a location's own there.
 */
class AlwaysHeadersIT {

    private static final String HSTS = "max-age=31536000";
    private static final String CSP = "default-src 'self'";

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Files.writeString(Files.createDirectories(www.resolve("files")).resolve("plain.txt"), "plain\n");
        Files.writeString(Files.createDirectories(www.resolve("bare")).resolve("plain.txt"), "bare\n");
        for (String refusing : new String[] {"small", "denied", "locked", "limited-php"}) {
            Files.copy(www.resolve("echo.php"), Files.createDirectories(www.resolve(refusing)).resolve("echo.php"));
        }
        Files.writeString(dir.resolve("htpasswd"), "alice:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n"); // secret
        Files.writeString(Files.createDirectories(www.resolve("errors")).resolve("404.html"), "the site's 404\n");
        Files.writeString(www.resolve("errors/400.html"), "the site's 400\n");
        Files.writeString(www.resolve("errors/416.html"), "the site's 416\n");
        Files.writeString(www.resolve("own.php"), """
                <?php
                http_response_code((int)($_GET['s'] ?? 200));
                header('X-Frame-Options: DENY');
                echo 'own';
                """);
        Files.writeString(www.resolve("accel-to.php"), """
                <?php
                header('X-Accel-Redirect: ' . $_GET['u']);
                """);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 4\n");
        edge = EdgeHarness.start(dir, """
                location-defaults {
                  headers { X-Added = "2xx and 3xx" }
                  always-headers { Strict-Transport-Security = "%s" }
                }
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/", fastcgi = php, cache = true, body-limit = 100
                      always-headers { X-Frame-Options = SAMEORIGIN } }
                    { match = "^~ /files/", always-headers { Content-Security-Policy = "%s" } }
                    { match = "^~ /bare/", always-headers { Strict-Transport-Security = "" } }
                    { match = "^~ /private/", access = ["deny all"] }
                    { match = "^~ /limited/", limit-req { rate = "1 r/m", burst = 0 } }
                    { match = "= /moved", return = "301 /files/plain.txt" }
                    { match = "= /gone", return = "410" }
                    { match = "^~ /down/", fastcgi = down, fastcgi-script = "/status.php" }
                    # a PHP location whose front controller is another's, which takes smaller bodies
                    { match = "^~ /front/", fastcgi = php, front-controller = "/small/echo.php"
                      always-headers { X-Where = front } }
                    { match = "^~ /small/", fastcgi = php, body-limit = 10, always-headers { X-Where = small } }
                    # PHP locations whose front controllers are others', which refuse the client
                    { match = "^~ /front-denied/", fastcgi = php, front-controller = "/denied/echo.php"
                      always-headers { X-Where = front } }
                    { match = "^~ /denied/", fastcgi = php, access = ["deny all"], always-headers { X-Where = denied } }
                    { match = "^~ /front-locked/", fastcgi = php, front-controller = "/locked/echo.php"
                      always-headers { X-Where = front } }
                    { match = "^~ /locked/", fastcgi = php, auth-basic { realm = "Locked", user-file = "htpasswd" }
                      always-headers { X-Where = locked } }
                    { match = "^~ /front-limited/", fastcgi = php, front-controller = "/limited-php/echo.php"
                      always-headers { X-Where = front } }
                    { match = "^~ /limited-php/", fastcgi = php, limit-req { rate = "1 r/m", burst = 0 }
                      always-headers { X-Where = limited } }
                  ]
                }, {
                  # a site where most paths match no location
                  server-names = ["sparse.test"], root = "www"
                  locations = [{ match = "= /front", front-controller = "/nowhere.php" }]
                }, {
                  # error pages in a location of their own, and where no location takes them
                  server-names = ["pages.test"], root = "www"
                  error-pages { 404 = "/errors/404.html", 400 = "/errors/400.html", 416 = "/errors/416.html" }
                  locations = [
                    { match = "/", always-headers { X-Where = request } }
                    { match = "^~ /errors/", always-headers { X-Where = page } }
                  ]
                }, {
                  server-names = ["pageless.test"], root = "www"
                  error-pages { 404 = "/errors/404.html" }
                  locations = [{ match = "^~ /files/", always-headers { X-Where = request } }]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                fastcgi.backends.down { addresses = ["unix:%s"], queue { timeout = 300 ms } }
                """.formatted(HSTS, CSP, fpm.address(), dir.resolve("nobody-listens.sock")));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        return LocationHeadersIT.send(edge, "GET", path, headers);
    }

    /** Asserts {@code answer} has the defaults' HSTS once and {@code name} once with {@code value}. */
    private static void assertAlways(HttpResponse<String> answer, int status, String name, String value) {
        String what = answer.request().method() + " " + answer.request().uri().getPath();
        assertThat(answer.statusCode()).as(what).isEqualTo(status);
        assertThat(answer.headers().allValues("strict-transport-security")).as(what).containsExactly(HSTS);
        assertThat(answer.headers().allValues(name)).as(what).containsExactly(value);
    }

    @Test
    void filesCarryThemOnEveryStatusHeadersOnlyOnTheirs() throws Exception {
        HttpResponse<String> file = get("/files/plain.txt");
        assertAlways(file, 200, "content-security-policy", CSP);
        assertThat(file.headers().allValues("x-added")).containsExactly("2xx and 3xx");
        assertThat(file.headers().allValues("x-frame-options")).as("another location's").isEmpty();
        assertAlways(get("/files/plain.txt", "If-None-Match", file.headers().firstValue("etag").orElseThrow()), 304,
                "content-security-policy", CSP);
        assertAlways(get("/files/plain.txt", "Range", "bytes=1000-"), 416, "content-security-policy", CSP);

        HttpResponse<String> missing = get("/files/missing.txt");
        assertAlways(missing, 404, "content-security-policy", CSP);
        assertThat(missing.headers().allValues("x-added")).as("headers: nginx's add_header without always").isEmpty();
        assertAlways(LocationHeadersIT.send(edge, "DELETE", "/files/plain.txt"), 405, "content-security-policy", CSP);
    }

    @Test
    void scriptsAnswersOfAnyStatusCarryThemOnceBesideTheScriptsOwn() throws Exception {
        for (int status : new int[] {200, 404, 500, 503}) {
            HttpResponse<String> page = get("/own.php?s=" + status);
            assertThat(page.statusCode()).isEqualTo(status);
            assertThat(page.body()).isEqualTo("own");
            assertThat(page.headers().allValues("strict-transport-security")).as("%d", status).containsExactly(HSTS);
            // as nginx's add_header ... always beside a backend's field of the same name: a second one
            assertThat(page.headers().allValues("x-frame-options")).as("%d", status)
                    .containsExactly("DENY", "SAMEORIGIN");
            assertThat(page.headers().allValues("x-added")).as("%d", status).hasSize(status == 200 ? 1 : 0);
        }
        assertAlways(get("/redirect.php"), 302, "x-frame-options", "SAMEORIGIN");
    }

    @Test
    void answersFromTheResponseCacheCarryThemOnce() throws Exception {
        String url = "/cache.php?id=always&cc=" + URLEncoder.encode("public, max-age=60", StandardCharsets.UTF_8);
        for (int i = 0; i < 3; i++) { // the first runs PHP, the others are hits
            HttpResponse<String> page = get(url);
            assertThat(page.body()).as("round %d", i).isEqualTo("id=always run=1 ae=");
            assertAlways(page, 200, "x-frame-options", "SAMEORIGIN");
        }
    }

    @Test
    void returnsRedirectsAndAFileAScriptHandsOutCarryThoseOfTheirLocation() throws Exception {
        HttpResponse<String> moved = get("/moved");
        assertAlways(moved, 301, "x-added", "2xx and 3xx");
        assertThat(moved.headers().firstValue("location").orElseThrow()).endsWith("/files/plain.txt");
        HttpResponse<String> gone = get("/gone");
        assertThat(gone.statusCode()).isEqualTo(410);
        assertThat(gone.headers().allValues("strict-transport-security")).containsExactly(HSTS);
        assertThat(gone.headers().allValues("x-added")).isEmpty();
        // nginx's X-Accel-Redirect is an internal redirect: the target location's, not the script's
        HttpResponse<String> accel = get("/accel-to.php?u=/files/plain.txt");
        assertThat(accel.body()).isEqualTo("plain\n");
        assertAlways(accel, 200, "content-security-policy", CSP);
        assertThat(accel.headers().allValues("x-frame-options")).isEmpty();
    }

    @Test
    void edgesOwnErrorPagesCarryThoseOfTheLocation() throws Exception {
        HttpResponse<String> denied = get("/private/x");
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(denied.headers().allValues("strict-transport-security")).containsExactly(HSTS);
        HttpResponse<String> first = get("/limited/a");
        HttpResponse<String> limited = get("/limited/a");
        assertThat(first.statusCode()).isEqualTo(404);
        assertThat(limited.statusCode()).as("over the rate: limit-req's status").isEqualTo(429);
        assertThat(limited.headers().allValues("strict-transport-security")).containsExactly(HSTS);
        HttpResponse<String> busy = get("/down/x");
        assertThat(busy.statusCode()).as("no backend's socket: waited for, as a php-fpm restarting").isEqualTo(503);
        assertThat(busy.headers().allValues("strict-transport-security")).containsExactly(HSTS);
        HttpResponse<String> tooLarge = LocationHeadersIT.HTTP.send(HttpRequest.newBuilder(edge.uri("/echo.php"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(1000))).build(), HttpResponse.BodyHandlers.ofString());
        assertAlways(tooLarge, 413, "x-frame-options", "SAMEORIGIN");
    }

    /**
     * A 413 where a PHP location's front controller takes the request to another PHP location, whose body-limit refuses
     * it, is that location's answer, as nginx's internal redirect there makes it: its always-headers, not those of the
     * location the request came in at.
     */
    @Test
    void a413WhereAFrontControllerLandsCarriesThoseOfTheLocationThatRefusedIt() throws Exception {
        HttpResponse<String> tooLarge = LocationHeadersIT.HTTP.send(HttpRequest.newBuilder(edge.uri("/front/form"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(50))).build(), HttpResponse.BodyHandlers.ofString());
        assertAlways(tooLarge, 413, "x-where", "small");
    }

    /**
     * Where a PHP location's front controller takes the request to another location, that location's refusals (its
     * access rules, its password, its limit-req) are its answers, as nginx's internal redirect there makes them: its
     * always-headers, not those of the location the request came in at. The script it lets through still runs as the
     * latter's.
     */
    @Test
    void aRefusalWhereAFrontControllerLandsCarriesThoseOfTheLocationThatRefusedIt() throws Exception {
        assertAlways(get("/front-denied/page"), 403, "x-where", "denied");
        assertAlways(get("/front-locked/page"), 401, "x-where", "locked");
        assertAlways(get("/front-limited/page"), 200, "x-where", "front");
        assertAlways(get("/front-limited/page"), 429, "x-where", "limited");
    }

    @Test
    void anEmptyValueDropsADefaultsAsInHeaders() throws Exception {
        HttpResponse<String> file = get("/bare/plain.txt");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.headers().allValues("strict-transport-security")).isEmpty();
        assertThat(get("/bare/missing").headers().allValues("strict-transport-security")).isEmpty();
    }

    /**
     * An answer no location gives (nginx 1.22 sends its server-level add_header ... always there, and no location's):
     * location-defaults' are on it, a location's own never, also for a request routed to its site's "/" only for that
     * site's error page.
     */
    @Test
    void answersNoLocationGivesCarryTheDefaultsOnly() throws Exception {
        Map<String, Integer> refused = Map.of("GARBAGE\r\n\r\n", 400,
                "GET /own.php HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
                "GET /own.php HTTP/1.1\r\n\r\n", 400,
                "GET /own.php HTTP/2.0\r\nHost: a\r\n\r\n", 505,
                "GET /files/../../x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        for (Map.Entry<String, Integer> request : refused.entrySet()) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response answer = client.send(request.getKey()).read();
                String what = request.getKey().lines().findFirst().orElseThrow();
                assertThat(answer.status()).as(what).isEqualTo(request.getValue());
                assertThat(answer.header("strict-transport-security")).as(what).isEqualTo(HSTS);
                assertThat(answer.header("x-frame-options")).as(what + ": the location's own").isNull();
                assertThat(answer.header("x-added")).as(what).isNull();
            }
        }
    }

    /**
     * The site's error page carries the always-headers of the location its URI routes to, not those of the location
     * that failed, as nginx's error_page is an internal redirect to it (nginx 1.22.1: add_header X-A a always in
     * "location /", X-B b always in that of the page, a 404 gets X-B alone); location-defaults' where no location
     * takes the page's URI, also for a request refused before routing (nginx: the page's location's, not the
     * server's).
     */
    @Test
    void anErrorPageCarriesThoseOfTheLocationItsUriRoutesTo() throws Exception {
        Map<String, String> answered = Map.of(
                "GET /missing.txt HTTP/1.1\r\nHost: pages.test\r\n\r\n", "the site's 404\n",
                "GET /files/../../x HTTP/1.1\r\nHost: pages.test\r\n\r\n", "the site's 400\n");
        for (Map.Entry<String, String> request : answered.entrySet()) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response answer = client.send(request.getKey()).read();
                String what = request.getKey().lines().findFirst().orElseThrow();
                assertThat(answer.text()).as(what).isEqualTo(request.getValue());
                assertThat(answer.header("x-where")).as(what).isEqualTo("page");
                assertThat(answer.header("strict-transport-security")).as(what).isEqualTo(HSTS);
            }
        }
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response answer = client.send("GET /files/missing.txt HTTP/1.1\r\nHost: pageless.test\r\n\r\n")
                    .read();
            assertThat(answer.text()).isEqualTo("the site's 404\n");
            assertThat(answer.header("x-where")).as("the failing location's").isNull();
            assertThat(answer.header("strict-transport-security")).isEqualTo(HSTS);
        }
    }

    /**
     * A file's 416 that goes to the site's page carries the file's location's always-headers and then the page's, as
     * nginx 1.22.1's (its headers filter ran on the 200 the file began as, before its range filter's 416 went to the
     * page: "location / { add_header X-A a always; }", "location = /err.html { add_header X-B b always; }", a Range
     * past the end gets X-A then X-B). It carried the page's alone; a field both give goes once.
     */
    @Test
    void aFilesUnsatisfiableRangeOnAnErrorPageCarriesTheFilesLocationsThenThePages() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response answer = client.send(
                    "GET /files/plain.txt HTTP/1.1\r\nHost: pages.test\r\nRange: bytes=1000-\r\n\r\n").read();
            assertThat(answer.status()).isEqualTo(416);
            assertThat(answer.text()).isEqualTo("the site's 416\n");
            assertThat(answer.header("x-where")).isEqualTo("request, page");
            assertThat(answer.header("strict-transport-security")).isEqualTo(HSTS);
        }
    }

    /**
     * An answer to a path no location matches (404) carries location-defaults', as nginx's server-level add_header ...
     * always is on the answer of a URI none of its locations takes, also where a front controller sends a request to
     * such a path. It had none: only a refused request's or a location's answer had them.
     */
    @Test
    void anAnswerWhereNoLocationMatchesCarriesTheDefaults() throws Exception {
        for (String request : new String[] {"GET /nowhere", "HEAD /nowhere", "GET /front"}) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response answer = client.send(request + " HTTP/1.1\r\nHost: sparse.test\r\n\r\n")
                        .read(request.startsWith("HEAD"));
                assertThat(answer.status()).as(request).isEqualTo(404);
                assertThat(answer.header("strict-transport-security")).as(request).isEqualTo(HSTS);
                assertThat(answer.header("x-added")).as(request + ": headers, not always-headers").isNull();
            }
        }
    }
}
