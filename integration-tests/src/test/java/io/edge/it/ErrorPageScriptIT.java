package io.edge.it;

import static io.edge.it.UpstreamTries.send;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * error-pages whose path a PHP location takes as a script ({@code 404 = "/404.php"}) or a proxy location takes
 * ({@code 404 = "/api/404.html"}), as nginx's {@code error_page 404 /404.php;}: an internal redirect to the page's URI,
 * its answer going with the error's status. Each answer here is the one nginx 1.22 gave side by side with php-fpm 8.2.
 */
class ErrorPageScriptIT {

    /** The page's script: what it was run as, its own status 200 (or the one asked for). */
    private static final String PAGE = """
            <?php if (isset($_GET['code'])) { http_response_code((int) $_GET['code']); } header('X-Page: php');
            echo $_SERVER['REQUEST_METHOD'], ' ', $_SERVER['REQUEST_URI'], ' ', $_SERVER['SCRIPT_NAME'], ' [',
                $_SERVER['QUERY_STRING'], '] ', file_get_contents('php://input');""";

    /** What the page scripts of a body's errors say: how they ran, and what they were told of the body. */
    private static final String BODY_PAGE = """
            <?php echo $_SERVER['REQUEST_METHOD'], ' ', $_SERVER['REQUEST_URI'], ' [',
                $_SERVER['CONTENT_LENGTH'] ?? '-', '] [', file_get_contents('php://input'), ']';""";

    @TempDir
    Path dir;

    private Path www;
    private JdkBackend backend;

    @BeforeEach
    void files() throws IOException {
        www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("404.php"), PAGE);
        Files.writeString(www.resolve("busy.php"), PAGE);
        Files.writeString(www.resolve("here.txt"), "here\n");
        Files.writeString(Files.createDirectories(www.resolve("dead")).resolve("slow.php"), "<?php echo 'never';");
        backend = JdkBackend.start(NamedLocationIT::answer);
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    private EdgeHarness edge(PhpFpm fpm) throws Exception {
        return edge(fpm, "404 = \"/404.php\", 503 = \"/busy.php\", 405 = \"/api/405.html\"");
    }

    /**
     * edge with error-pages {@code pages}, PHP by {@code fpm}, a FastCGI group nobody listens for, a backend and a
     * proxy group whose one address refuses connects.
     */
    private EdgeHarness edge(PhpFpm fpm, String pages) throws Exception {
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  error-pages { %s }
                  locations = [
                    { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }
                    { match = "^~ /dead/", fastcgi = dead }, { match = "/api/", proxy = app }
                    { match = "/down/", proxy = down }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                fastcgi.backends.dead { addresses = ["unix:%s"], queue { timeout = 300 ms } }
                proxy.backends.app { addresses = ["%s"] }
                proxy.backends.down { addresses = ["127.0.0.1:%d"] }
                """.formatted(pages, fpm.address(), dir.resolve("nobody-listens.sock"), backend.address(),
                FakeHttpBackend.closedPort()));
    }

    private PhpFpm fpm() throws IOException {
        return PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
    }

    /**
     * nginx's {@code error_page 404 /404.php}: the script runs for the missing path, REQUEST_URI the request's, its
     * SCRIPT_NAME the page's and no query (the page's URI has none), the answer going with 404 over the script's 200.
     */
    @Test
    void aMissingPathsPageIsThePhpScriptsAnswerWithThe404() throws Exception {
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm)) {
            HttpResponse<String> missing = send(edge, "GET", "/no/such.html?a=1", null);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.headers().firstValue("x-page")).contains("php");
            assertThat(missing.body()).isEqualTo("GET /no/such.html?a=1 /404.php [] ");
            assertThat(send(edge, "GET", "/here.txt", null).body()).as("files are still files").isEqualTo("here\n");
        }
    }

    /**
     * A POST that errored: nginx's redirect to the page's URI makes it a GET (measured: REQUEST_METHOD GET), the body
     * passed on with it as it came (php://input, CONTENT_LENGTH), where a named location would keep the POST; one
     * read whole for a script that could not run is passed on too.
     */
    @Test
    void aPostThatErroredRunsThePageScriptAsAGet() throws Exception {
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm)) {
            HttpResponse<String> missing = send(edge, "POST", "/no/such.txt?q=2", "x=1&y=2");
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.body()).isEqualTo("GET /no/such.txt?q=2 /404.php [] x=1&y=2");
            // one its script's full queue refused, its body read whole for it: passed on all the same (nginx 1.22,
            // a POST to a script on a dead socket under error_page 502 /404.php: GET, CONTENT_LENGTH 7, its 7 bytes)
            HttpResponse<String> busy = send(edge, "POST", "/dead/slow.php", "a=1");
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.body()).isEqualTo("GET /dead/slow.php /busy.php [] a=1");
        }
    }

    /**
     * A POST whose proxied backend refused the connect, its body read whole for it and never sent: nginx 1.22 runs the
     * page with that body as for a script's group (measured: {@code location /papi/ { proxy_pass
     * http://127.0.0.1:19601; }} with nothing there, under {@code error_page 502 /busy.php}: 502, the page's script
     * saw GET, CONTENT_LENGTH 7 and the 7 bytes), one over client-body-buffer-size from its spool file too.
     */
    @Test
    void aPostWhoseProxiedBackendRefusedTheConnectRunsThePageWithItsBody() throws Exception {
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm, "502 = \"/busy.php\"")) {
            HttpResponse<String> down = send(edge, "POST", "/down/x?q=1", "a=1&b=2");
            assertThat(down.statusCode()).isEqualTo(502);
            assertThat(down.body()).isEqualTo("GET /down/x?q=1 /busy.php [] a=1&b=2");
            String big = "b".repeat(200_000);
            HttpResponse<String> spooled = send(edge, "POST", "/down/y", big);
            assertThat(spooled.statusCode()).isEqualTo(502);
            assertThat(spooled.body()).isEqualTo("GET /down/y /busy.php [] " + big);
        }
    }

    /**
     * nginx's {@code error_page 404 = /404.php} (the script's own status, measured: its 200, and a POST made a GET)
     * and {@code error_page 503 =200 /busy.php} (the one written).
     */
    @Test
    void theEqualsFormsAnswerWithTheScriptsOwnStatusOrTheOneWritten() throws Exception {
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm, "404 = \"= /404.php\", 503 = \"=200 /busy.php\"")) {
            HttpResponse<String> own = send(edge, "POST", "/no/such.txt", "a=1");
            assertThat(own.statusCode()).isEqualTo(200);
            assertThat(own.body()).isEqualTo("GET /no/such.txt /404.php [] a=1");
            HttpResponse<String> written = send(edge, "GET", "/dead/slow.php", null);
            assertThat(written.statusCode()).isEqualTo(200);
            assertThat(written.body()).isEqualTo("GET /dead/slow.php /busy.php [] ");
        }
    }

    /**
     * nginx's {@code error_page 503 /busy.php} for a FastCGI group whose queue is full: the page's script answers
     * with the 503 kept. nginx makes no Retry-After, and a redirect's answer carries the page location's headers, not
     * the erring one's: edge's Retry-After of the queue goes with its own page, not with the script's.
     */
    @Test
    void aFullQueuesBusyPageIsThePhpScriptsAnswerWithThe503() throws Exception {
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm)) {
            HttpResponse<String> busy = send(edge, "GET", "/dead/slow.php?x=1", null);
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.body()).isEqualTo("GET /dead/slow.php?x=1 /busy.php [] ");
            assertThat(busy.headers().firstValue("retry-after")).isEmpty();
        }
    }

    /**
     * An error of the page's own answer is not paged again, as nginx's error_page is met once (measured: php-fpm down
     * under {@code error_page 502 503 /busy.php}, nginx's own 502): the page's script in the busy group is refused as
     * the request was, edge's own 503 then, with its Retry-After. A HEAD stays a HEAD, as nginx's redirect keeps it.
     */
    @Test
    void anErrorOfThePagesAnswerIsNotPagedAgainAndAHeadStaysAHead() throws Exception {
        Files.writeString(www.resolve("dead/busy.php"), PAGE);
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm, "503 = \"/dead/busy.php\", 404 = \"/404.php\"")) {
            HttpResponse<String> busy = send(edge, "GET", "/dead/slow.php", null);
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.body()).contains("503 Service Unavailable");
            assertThat(busy.headers().firstValue("retry-after")).isPresent();
            HttpResponse<String> head = send(edge, "HEAD", "/no/such.html", null);
            assertThat(head.statusCode()).isEqualTo(404);
            assertThat(head.headers().firstValue("x-page")).contains("php");
            assertThat(head.body()).isEmpty();
        }
    }

    /**
     * The response cache of the page's location stays out of a page that stands for an error: its answer is neither
     * looked up nor stored under the request's URI, where nginx 1.22's fastcgi_cache (key {@code
     * $scheme$request_method$host$request_uri}, measured side by side) stores it there: the busy page of a script
     * whose group was down, and the page of a 413 any client can cause with one POST, would be what the next GET of
     * that URI gets, as a 200. The page's own URI is cached as any, and a page answering with the script's own status
     * ({@code "= /404.php"}, a front controller's answer for the URI) is stored as nginx stores it.
     */
    @Test
    void theCacheOfThePagesLocationKeepsNoAnswerThatStandsForAnError() throws Exception {
        String page = "<?php header('Cache-Control: public, max-age=60'); echo $_SERVER['REQUEST_URI'], ' ', uniqid();";
        Files.writeString(www.resolve("404.php"), page);
        Files.writeString(www.resolve("busy.php"), page);
        Files.writeString(www.resolve("413.php"), page);
        Files.writeString(www.resolve("app.php"), "<?php header('Cache-Control: max-age=60'); echo 'app';");
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  error-pages { 404 = "/404.php", 503 = "/busy.php", 413 = "/413.php" }
                  locations = [
                    { match = "/" }, { match = "~ \\\\.php$", fastcgi = php, cache = true, body-limit = 10 }
                    { match = "^~ /dead/", fastcgi = dead, cache = true }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                fastcgi.backends.dead { addresses = ["unix:%s"], queue { timeout = 300 ms } }
                """.formatted(fpm.address(), dir.resolve("nobody-listens.sock")))) {
            HttpResponse<String> missing = send(edge, "GET", "/no/such.html", null);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.body()).startsWith("/no/such.html ");
            HttpResponse<String> again = send(edge, "GET", "/no/such.html", null);
            assertThat(again.statusCode()).isEqualTo(404);
            assertThat(again.body()).as("the page ran again").startsWith("/no/such.html ").isNotEqualTo(missing.body());
            HttpResponse<String> own = send(edge, "GET", "/404.php", null);
            assertThat(own.statusCode()).isEqualTo(200);
            assertThat(send(edge, "GET", "/404.php", null).body()).as("the page's own URI is cached")
                    .isEqualTo(own.body());
            HttpResponse<String> busy = send(edge, "GET", "/dead/slow.php", null);
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.body()).startsWith("/dead/slow.php ");
            HttpResponse<String> stillBusy = send(edge, "GET", "/dead/slow.php", null);
            assertThat(stillBusy.statusCode()).as("no busy page stored as the script's answer").isEqualTo(503);
            HttpResponse<String> tooLarge = send(edge, "POST", "/app.php", "01234567890123456789");
            assertThat(tooLarge.statusCode()).isEqualTo(413);
            assertThat(tooLarge.body()).startsWith("/app.php ");
            HttpResponse<String> app = send(edge, "GET", "/app.php", null);
            assertThat(app.statusCode()).isEqualTo(200);
            assertThat(app.body()).as("a 413's page stored for the URI by one POST").isEqualTo("app");
        }
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "= /404.php" }
                  locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php, cache = true }] }]
                fastcgi.backends.php { addresses = ["%s"] }
                """.formatted(fpm.address()))) {
            HttpResponse<String> missing = send(edge, "GET", "/no/such.html", null);
            assertThat(missing.statusCode()).isEqualTo(200);
            assertThat(send(edge, "GET", "/no/such.html", null).body()).as("the script's own answer for the URI, stored")
                    .isEqualTo(missing.body());
        }
    }

    /**
     * nginx's {@code error_page 405 /api/405.html} beside {@code location /api/ { proxy_pass ...; }}: the backend is
     * asked for the page's URI, as a GET, and its answer goes with the 405 (measured: the backend's 200 sent as 404
     * for a 404's page).
     */
    @Test
    void aPagePathAProxyLocationTakesIsTheBackendsAnswerWithTheErrorsStatus() throws Exception {
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm)) {
            HttpResponse<String> refused = send(edge, "DELETE", "/here.txt", null);
            assertThat(refused.statusCode()).isEqualTo(405);
            assertThat(refused.headers().firstValue("x-app")).contains("proxy");
            assertThat(refused.body()).isEqualTo("app GET /api/405.html ");
        }
    }

    /**
     * nginx 1.22's {@code error_page 301 /moved.php} and {@code error_page 302 /api/moved} (measured side by side): the
     * page runs for a return's redirect and a directory's 301 to its slash, as a GET (a HEAD kept), REQUEST_URI the
     * request's, and its answer goes with the redirect's status and Location.
     */
    @Test
    void aRedirectsPageAScriptOrProxyLocationTakesRunsWithTheRedirectsStatusAndLocation() throws Exception {
        Files.createDirectories(www.resolve("dir"));
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  error-pages { 301 = "/404.php", 302 = "/api/moved" }
                  locations = [
                    { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }, { match = "/api/", proxy = app }
                    { match = "= /old", return = "301 /new" }
                    { match = "= /away", return = "302 http://example.com/x" }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"] }
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(fpm.address(), backend.address()))) {
            HttpResponse<String> old = send(edge, "GET", "/old?a=1", null);
            assertThat(old.statusCode()).isEqualTo(301);
            assertThat(old.headers().allValues("location")).singleElement().asString().endsWith("/new");
            assertThat(old.headers().firstValue("x-page")).contains("php");
            assertThat(old.body()).isEqualTo("GET /old?a=1 /404.php [] ");
            HttpResponse<String> directory = send(edge, "HEAD", "/dir", null);
            assertThat(directory.statusCode()).isEqualTo(301);
            assertThat(directory.headers().allValues("location")).singleElement().asString().endsWith("/dir/");
            assertThat(directory.headers().firstValue("x-page")).contains("php");
            assertThat(directory.body()).isEmpty();
            HttpResponse<String> away = send(edge, "GET", "/away", null);
            assertThat(away.statusCode()).isEqualTo(302);
            assertThat(away.headers().allValues("location")).containsExactly("http://example.com/x");
            assertThat(away.headers().firstValue("x-app")).contains("proxy");
            assertThat(away.body()).isEqualTo("app GET /api/moved ");
        }
    }

    /**
     * nginx 1.22's {@code error_page 301 /moved.php} beside a server-level {@code rewrite ^/perm$ /new permanent;}
     * (measured side by side): the page runs for the site's rewrite's redirect as for a location's, a GET with
     * REQUEST_URI the request's, the 301 and its Location kept, with the page's location's headers (nginx's headers
     * filter after its error_page redirect). Before, the site's rewrite answered unrouted and edge's own page went.
     */
    @Test
    void aSitesRewritesRedirectRunsItsPageAsALocationsDoes() throws Exception {
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 301 = "/404.php" }
                  rewrites = [{ rewrite = "^/perm$ /new permanent" }]
                  locations = [
                    { match = "/" }, { match = "~ \\\\.php$", fastcgi = php, headers { X-Where = php } }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"] }
                """.formatted(fpm.address()))) {
            HttpResponse<String> moved = send(edge, "GET", "/perm?a=1", null);
            assertThat(moved.statusCode()).isEqualTo(301);
            assertThat(moved.headers().allValues("location")).singleElement().asString().endsWith("/new?a=1");
            assertThat(moved.headers().firstValue("x-page")).contains("php");
            assertThat(moved.headers().firstValue("x-where")).contains("php");
            assertThat(moved.body()).isEqualTo("GET /perm?a=1 /404.php [] ");
        }
    }

    /**
     * nginx 1.22's {@code error_page 404 /404.php?x=1&y=2} and {@code error_page 405 /api/405.html?z=3} (measured): the
     * page's query in place of the request's, the script's QUERY_STRING (REQUEST_URI still the request's), the proxied
     * backend asked for the page's URI with it.
     */
    @Test
    void aPagesQueryGoesToItsLocationInPlaceOfTheRequests() throws Exception {
        String pages = "404 = \"/404.php?x=1&y=2\", 405 = \"/api/405.html?z=3\"";
        try (PhpFpm fpm = fpm(); EdgeHarness edge = edge(fpm, pages)) {
            HttpResponse<String> missing = send(edge, "GET", "/no/such.html?a=1", null);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.body()).isEqualTo("GET /no/such.html?a=1 /404.php [x=1&y=2] ");
            HttpResponse<String> refused = send(edge, "DELETE", "/here.txt", null);
            assertThat(refused.statusCode()).isEqualTo(405);
            assertThat(refused.body()).isEqualTo("app GET /api/405.html?z=3 ");
        }
    }

    /**
     * nginx 1.22's {@code error_page 413 /413.php} and {@code error_page 413 /api/413} (measured, client_max_body_size
     * 10 and a POST declaring 20 bytes): the page runs as a GET without the body it refused (php://input empty; the
     * proxied backend asked with no body), its answer goes with the 413, and the connection closes after it. nginx
     * announces the refused body's length to the script (CONTENT_LENGTH 20), edge none (empty, as a GET's).
     */
    @Test
    void aBodyDeclaredOverTheLimitRunsThe413sPageWithoutItAndTheConnectionCloses() throws Exception {
        Files.writeString(www.resolve("413.php"), BODY_PAGE);
        for (String page : new String[] {"/413.php", "/api/413"}) {
            try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                    sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 413 = "%s" }
                      locations = [
                        { match = "/", body-limit = 10 }, { match = "~ \\\\.php$", fastcgi = php }
                        { match = "/api/", proxy = app }
                      ] }]
                    fastcgi.backends.php { addresses = ["%s"] }
                    proxy.backends.app { addresses = ["%s"] }
                    """.formatted(page, fpm.address(), backend.address()));
                 RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send("POST /big?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n01234567890123456789"
                        + "GET /here.txt HTTP/1.1\r\nHost: a\r\n\r\n");
                RawHttpClient.Response tooLarge = client.read();
                assertThat(tooLarge.status()).as(page).isEqualTo(413);
                assertThat(tooLarge.text()).as(page).isEqualTo(page.equals("/413.php") ? "GET /big?q=1 [] []"
                        : "app GET /api/413 ");
                assertThat(tooLarge.header("connection")).as(page).isEqualTo("close");
                assertThat(client.isClosedByPeer()).as(page).isTrue();
            }
        }
    }

    /**
     * nginx 1.22 (measured, client_max_body_size 100, a PHP location): a chunked body found over the limit as it comes
     * (one chunk of 300 bytes; chunks of 60 whose second went past it, sent after the 100 Continue, so that the script's
     * location was reading the body) runs {@code error_page 413 /413.php} as a GET, its answer with the 413, the
     * connection closed after it; a broken chunk runs {@code error_page 400 /400.php} so. nginx passes the page the
     * chunks read before (CONTENT_LENGTH 60 and those bytes: a part of a body, as if whole), edge none of it, as for a
     * body declared over the limit. A site whose pages are files gets them (pinned: edge sent them before). A client
     * that stops sending its body gets a 408 with edge's own page or the site's file, never the script (pinned; nginx
     * closes the connection without an answer).
     */
    @Test
    void aChunkedBodyOverTheLimitOrBrokenAsItComesRunsThePageWithoutIt() throws Exception {
        Files.writeString(www.resolve("413.php"), BODY_PAGE);
        Files.writeString(www.resolve("400.php"), BODY_PAGE);
        Files.writeString(www.resolve("post.php"), "<?php echo 'ran with ', strlen(file_get_contents('php://input'));");
        Files.writeString(www.resolve("413.html"), "<p>too large</p>\n");
        Files.writeString(www.resolve("400.html"), "<p>bad request</p>\n");
        Files.writeString(www.resolve("408.php"), BODY_PAGE);
        Files.writeString(www.resolve("408.html"), "<p>too slow</p>\n");
        String sixty = "x".repeat(60);
        String chunkOver = "12c\r\n" + "x".repeat(300) + "\r\n0\r\n\r\n";
        String chunksOver = ("3c\r\n" + sixty + "\r\n").repeat(3) + "0\r\n\r\n";
        String broken = "5\r\nhello\r\nzz\r\n";
        String stopped = "5\r\nhello\r\n";
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [
                  { server-names = ["_"], default = true, root = "www"
                    error-pages { 413 = "/413.php", 400 = "/400.php", 408 = "/408.php" }
                    locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php, body-limit = 100 }] }
                  { server-names = ["files"], root = "www"
                    error-pages { 413 = "/413.html", 400 = "/400.html", 408 = "/408.html" }
                    locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php, body-limit = 100 }] }
                ]
                fastcgi.backends.php { addresses = ["%s"] }
                server.timeouts.body = 500 ms
                """.formatted(fpm.address()))) {
            String[][] cases = {
                    {"a", chunkOver, "", "413", "GET /post.php?q=1 [] []"},
                    {"a", chunksOver, "Expect: 100-continue\r\n", "413", "GET /post.php?q=1 [] []"},
                    {"a", broken, "", "400", "GET /post.php?q=1 [] []"},
                    {"a", stopped, "", "408", "<title>408 Request Timeout</title>"},
                    {"files", chunkOver, "", "413", "<p>too large</p>\n"},
                    {"files", chunksOver, "Expect: 100-continue\r\n", "413", "<p>too large</p>\n"},
                    {"files", broken, "", "400", "<p>bad request</p>\n"},
                    {"files", stopped, "", "408", "<p>too slow</p>\n"}};
            for (String[] sent : cases) {
                String as = sent[0] + " " + sent[1].length() + " bytes " + sent[2];
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    client.send("POST /post.php?q=1 HTTP/1.1\r\nHost: " + sent[0]
                            + "\r\nTransfer-Encoding: chunked\r\n" + sent[2] + "\r\n");
                    if (!sent[2].isEmpty()) {
                        // the 100 goes out as the script's location asks for the body: it reads it when it comes
                        assertThat(client.read().status()).as(as).isEqualTo(100);
                    }
                    client.send(sent[1]);
                    RawHttpClient.Response answer = client.read();
                    assertThat(answer.status()).as(as).isEqualTo(Integer.parseInt(sent[3]));
                    if (sent[4].startsWith("<title>")) { // edge's own page
                        assertThat(answer.text()).as(as).contains(sent[4]);
                    } else {
                        assertThat(answer.text()).as(as).isEqualTo(sent[4]);
                    }
                    assertThat(answer.header("connection")).as(as).isEqualTo("close");
                    assertThat(client.isClosedByPeer()).as(as).isTrue();
                }
            }
        }
    }

    /**
     * nginx 1.22's server-level {@code if ($arg_deny) { return 403; }} runs {@code error_page 403 /403.php} (measured:
     * the script saw a GET of /x?deny=1), as a location's return does; an unconditional server-level {@code return 403;}
     * meets itself again at the page's URI, and nginx's own 403 goes (error pages are met once). edge's site rewrites
     * alike.
     */
    @Test
    void aSitesRewritesErrorRunsTheSitesPage() throws Exception {
        Files.writeString(www.resolve("403.php"), PAGE);
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [
                  { server-names = ["_"], default = true, root = "www", error-pages { 403 = "/403.php" }
                    rewrites = [{ if = "$arg_deny", return = 403 }]
                    locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php }] }
                  { server-names = ["all"], root = "www", error-pages { 403 = "/403.php" }
                    rewrites = [{ return = 403 }]
                    locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php }] }
                ]
                fastcgi.backends.php { addresses = ["%s"] }
                """.formatted(fpm.address()))) {
            HttpResponse<String> denied = send(edge, "GET", "/x?deny=1", null);
            assertThat(denied.statusCode()).isEqualTo(403);
            assertThat(denied.body()).isEqualTo("GET /x?deny=1 /403.php [] ");
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send("GET /x HTTP/1.1\r\nHost: all\r\n\r\n");
                RawHttpClient.Response refused = client.read();
                assertThat(refused.status()).isEqualTo(403);
                assertThat(refused.text()).contains("<title>403 Forbidden</title>");
            }
        }
    }

    /**
     * A GET whose chunked body is found over the limit, or broken, as it comes, to a script or proxy location whose
     * response cache looks it up: the 413's or 400's page runs in place of the script or the backend, and the cache's
     * flight that request led ends with it, so the URI's next GET goes to the script or backend at once, not behind a
     * leader that never asks it. Failed before: the page ran, but the flight was left open, and the next GET of the URI
     * waited for the whole coalesce-timeout (here an hour: the raw client's read gave up).
     */
    @Test
    void aCachedLocationsGetWhoseBodyFailsAsItComesLeavesNoFlightForTheNextGetToWaitOn() throws Exception {
        Files.writeString(www.resolve("413.php"), BODY_PAGE);
        Files.writeString(www.resolve("400.php"), BODY_PAGE);
        Files.writeString(www.resolve("app.php"), "<?php echo 'app';");
        String chunkOver = "12c\r\n" + "x".repeat(300) + "\r\n0\r\n\r\n";
        String broken = "5\r\nhello\r\nzz\r\n";
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  error-pages { 413 = "/413.php", 400 = "/400.php" }
                  locations = [
                    { match = "/" }, { match = "~ \\\\.php$", fastcgi = php, cache = true, body-limit = 100 }
                    { match = "/api/", proxy = app, cache = true, body-limit = 100 }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"] }
                proxy.backends.app { addresses = ["%s"] }
                cache.responses.coalesce-timeout = 1 h
                """.formatted(fpm.address(), backend.address()))) {
            String[][] cases = {
                    {"/app.php?1", chunkOver, "413", "app"}, {"/app.php?2", broken, "400", "app"},
                    {"/api/x?1", chunkOver, "413", "app GET /api/x?1 "},
                    {"/api/x?2", broken, "400", "app GET /api/x?2 "}};
            for (String[] sent : cases) {
                String as = sent[0] + " " + sent[2];
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    client.send("GET " + sent[0] + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + sent[1]);
                    RawHttpClient.Response answer = client.read();
                    assertThat(answer.status()).as(as).isEqualTo(Integer.parseInt(sent[2]));
                    assertThat(answer.text()).as(as).isEqualTo("GET " + sent[0] + " [] []");
                    assertThat(client.isClosedByPeer()).as(as).isTrue();
                }
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    client.send("GET " + sent[0] + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    RawHttpClient.Response next = client.read();
                    assertThat(next.status()).as(as + ", the next GET").isEqualTo(200);
                    assertThat(next.text()).as(as + ", the next GET").isEqualTo(sent[3]);
                }
            }
        }
    }

    /**
     * A request queued behind another on its connection (pipelined: its head and chunked body read with the script's
     * request before it) whose body is past its location's limit gets the site's 413 page, as one whose body goes past
     * it as it comes does, as nginx 1.22's (measured: GET /slow.php then a POST of one 300-byte chunk to /post.php in
     * one write, client_max_body_size 100: the script's 200, then the 413 with /413.php run as a GET, Connection:
     * close). Failed before: edge's own 413 page for the queued one.
     */
    @Test
    void aQueuedRequestsChunkedBodyOverTheLimitRunsThePageWithoutIt() throws Exception {
        Files.writeString(www.resolve("413.php"), BODY_PAGE);
        Files.writeString(www.resolve("app.php"), "<?php echo 'app';");
        Files.writeString(www.resolve("post.php"), "<?php echo 'ran with ', strlen(file_get_contents('php://input'));");
        try (PhpFpm fpm = fpm(); EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 413 = "/413.php" }
                  locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php, body-limit = 100 }] }]
                fastcgi.backends.php { addresses = ["%s"] }
                """.formatted(fpm.address()));
             RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /app.php HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /post.php?q=1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "12c\r\n" + "x".repeat(300) + "\r\n0\r\n\r\n");
            RawHttpClient.Response first = client.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.text()).isEqualTo("app");
            RawHttpClient.Response queued = client.read();
            assertThat(queued.status()).isEqualTo(413);
            assertThat(queued.text()).isEqualTo("GET /post.php?q=1 [] []");
            assertThat(queued.header("connection")).isEqualTo("close");
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }
}
