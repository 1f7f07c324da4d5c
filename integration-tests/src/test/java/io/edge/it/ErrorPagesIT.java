package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site's error-pages (nginx's error_page): its own body for the errors edge answers, status and headers kept. */
class ErrorPagesIT {

    private static final String NOT_FOUND_PAGE = "<h1>Nothing here</h1>\n";
    private static final String BUSY_PAGE = "<h1>Busy, back in a moment</h1>\n";
    private static final String TOO_LARGE_PAGE = "<h1>Too large for us</h1>\n";
    private static final String NOT_ALLOWED_PAGE = "<h1>Not that way</h1>\n";
    private static final String BAD_REQUEST_PAGE = "<h1>Say again?</h1>\n";
    private static final String RANGE_PAGE = "<p>no such range</p>\n";
    private static final String MOVED_PAGE = "<p>moved, follow the link</p>\n";

    @TempDir
    static Path dir;

    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("errors"));
        Files.writeString(root.resolve("errors/404.html"), NOT_FOUND_PAGE);
        Files.writeString(root.resolve("errors/busy.html"), BUSY_PAGE);
        Files.writeString(root.resolve("errors/413.html"), TOO_LARGE_PAGE);
        Files.writeString(root.resolve("errors/405.html"), NOT_ALLOWED_PAGE);
        Files.writeString(root.resolve("errors/400.html"), BAD_REQUEST_PAGE);
        Files.writeString(root.resolve("errors/416.html"), RANGE_PAGE);
        Files.writeString(root.resolve("errors/moved.html"), MOVED_PAGE);
        Files.createDirectories(root.resolve("dir"));
        Files.writeString(root.resolve("here.txt"), "here\n");
        Files.writeString(root.resolve("index.php"), "<?php echo 'never runs';");
        // PHP through a socket nobody listens on: every request waits out the queue timeout, then 503.
        edge = EdgeHarness.start(dir, """
                server.limits.body = 4 KiB
                sites = [{
                  server-names = ["_"], default = true, root = "root"
                  error-pages { 404 = "/errors/404.html", 503 = "/errors/busy.html", 413 = "/errors/413.html"
                    405 = "/errors/405.html", 400 = "/errors/400.html", 416 = "/errors/416.html"
                    301 = "/errors/moved.html" }
                  locations = [
                    { match = "/" }, { match = "/small/", body-limit = 1 KiB }, { match = "~ \\\\.php$", fastcgi = php }
                    { match = "= /old", return = "301 /new", headers { X-Return = "yes" } }
                    { match = "= /found", return = "302 /new" }
                    { match = "^~ /errors/", headers { X-Page = "yes" }, expires = 1h }
                  ]
                }]
                fastcgi.backends.php {
                  addresses = ["unix:%s"]
                  queue { timeout = 300 ms }
                }
                """.formatted(dir.resolve("nobody-listens.sock")));
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static HttpResponse<String> send(String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).method(method, HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aMissingFileGetsTheSitesPageWithItsStatusAndType() throws Exception {
        HttpResponse<String> missing = send("GET", "/no/such/file.jpg");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo(NOT_FOUND_PAGE);
        assertThat(missing.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(missing.headers().firstValue("content-length")).hasValue(String.valueOf(NOT_FOUND_PAGE.length()));
        // as nginx's: nothing that keeps a CDN in front from holding a missing thumbnail's 404 for a while
        assertThat(missing.headers().firstValue("cache-control")).isEmpty();
        assertThat(send("GET", "/here.txt").body()).as("files are still files").isEqualTo("here\n");
    }

    /**
     * nginx's error_page 301: a return's 301 and a directory's to its slash go with the page as their body, their status
     * and Location kept (a HEAD's without it, its length said); a 302 without a page of its own gets edge's.
     */
    @Test
    void aRedirectGetsTheSitesPageForItsStatusWithItsLocation() throws Exception {
        for (String path : new String[] {"/old", "/dir"}) {
            HttpResponse<String> moved = send("GET", path);
            assertThat(moved.statusCode()).as(path).isEqualTo(301);
            assertThat(moved.body()).as(path).isEqualTo(MOVED_PAGE);
            assertThat(moved.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t)
                    .startsWith("text/html"));
            assertThat(moved.headers().firstValue("location")).as(path).hasValueSatisfying(l -> assertThat(l)
                    .endsWith(":" + edge.address().getPort() + (path.equals("/old") ? "/new" : "/dir/")));
        }
        HttpResponse<String> head = send("HEAD", "/old");
        assertThat(head.statusCode()).isEqualTo(301);
        assertThat(head.headers().firstValue("content-length")).hasValue(String.valueOf(MOVED_PAGE.length()));
        assertThat(head.body()).isEmpty();
        HttpResponse<String> found = send("GET", "/found");
        assertThat(found.statusCode()).isEqualTo(302);
        assertThat(found.body()).contains("302 Found");
    }

    /**
     * A redirect's page gets the expires and headers of the page's location and none of the location that redirected,
     * as nginx's headers filter runs there after its error_page redirect (side by side: add_header X-Page and expires
     * 1h in the page's location, add_header X-Return beside the return 301).
     */
    @Test
    void aRedirectsPageGetsThePageLocationsHeaders() throws Exception {
        HttpResponse<String> moved = send("GET", "/old");
        assertThat(moved.statusCode()).isEqualTo(301);
        assertThat(moved.body()).isEqualTo(MOVED_PAGE);
        assertThat(moved.headers().firstValue("x-page")).hasValue("yes");
        assertThat(moved.headers().firstValue("cache-control")).hasValue("max-age=3600");
        assertThat(moved.headers().firstValue("x-return")).isEmpty();
    }

    /** A range past a file's end gets the site's page for 416, with the Content-Range of the file's length. */
    @Test
    void anUnsatisfiableRangeGetsTheSitesPageWithItsContentRange() throws Exception {
        for (int round = 0; round < 3; round++) { // the file's bytes are then in the content cache too
            HttpResponse<String> past = HTTP.send(HttpRequest.newBuilder(edge.uri("/here.txt"))
                    .header("Range", "bytes=50-").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(past.statusCode()).isEqualTo(416);
            assertThat(past.body()).isEqualTo(RANGE_PAGE);
            assertThat(past.headers().firstValue("content-range")).hasValue("bytes */5");
            // nginx 1.22.1 sends the file's ETag and then the page's, two ETag fields: edge the file's alone
            assertThat(past.headers().allValues("etag")).as("as nginx's 416")
                    .containsExactly(send("GET", "/here.txt").headers().firstValue("etag").orElseThrow());
            assertThat(past.headers().firstValue("last-modified")).as("as nginx's 416: only 200, 206, 304").isEmpty();
            assertThat(past.headers().firstValue("content-length")).hasValue(String.valueOf(RANGE_PAGE.length()));
            assertThat(send("GET", "/here.txt").body()).isEqualTo("here\n");
        }
    }

    @Test
    void headOfAMissingFileHasThePagesLengthAndNoBody() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("HEAD /missing HTTP/1.1\r\nHost: a\r\n\r\nGET /here.txt HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response head = client.read(true);
            assertThat(head.status()).isEqualTo(404);
            assertThat(head.header("content-length")).isEqualTo(String.valueOf(NOT_FOUND_PAGE.length()));
            assertThat(client.read().text()).as("no body came before the next answer").isEqualTo("here\n");
        }
    }

    @Test
    void aBusyBackendsAnswerIsThePageWithRetryAfter() throws Exception {
        HttpResponse<String> busy = send("GET", "/index.php");
        assertThat(busy.statusCode()).isEqualTo(503);
        assertThat(busy.body()).isEqualTo(BUSY_PAGE);
        assertThat(busy.headers().firstValue("retry-after")).isPresent();
        assertThat(busy.headers().firstValue("cache-control")).as("none, as nginx's own pages").isEmpty();
    }

    @Test
    void statusesWithoutAPageKeepEdgesOwn() throws Exception {
        HttpResponse<String> refused = send("GET", "/.env"); // dotfiles = deny
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("403 Forbidden").doesNotContain("Nothing here");
        assertThat(refused.headers().firstValue("cache-control")).isEmpty();
    }

    @Test
    void aBodyDeclaredOverTheLimitGetsTheSitesPage() throws Exception {
        for (String request : new String[] {
                "POST /here.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", // over every limit
                "POST /small/here.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n"}) { // over the location's
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send(request);
                RawHttpClient.Response tooLarge = client.read();
                assertThat(tooLarge.status()).as(request).isEqualTo(413);
                assertThat(tooLarge.text()).as(request).isEqualTo(TOO_LARGE_PAGE);
                assertThat(tooLarge.header("connection")).as(request).isEqualTo("close");
            }
        }
    }

    @Test
    void aMethodAFileDoesNotTakeGetsTheSitesPageAndTheConnectionGoesOn() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("DELETE /here.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /here.txt HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response refused = client.read();
            assertThat(refused.status()).isEqualTo(405);
            assertThat(refused.text()).isEqualTo(NOT_ALLOWED_PAGE);
            assertThat(refused.header("allow")).isEqualTo("GET, HEAD");
            assertThat(client.read().text()).isEqualTo("here\n");
        }
    }

    /**
     * A page naming a script that is not there ("/errors/404.php" in a PHP location) is no problem at load, as nginx -t
     * looks for no error_page target: nginx's error_page redirect sends the path to its {@code ~ \.php$} location,
     * where {@code try_files $uri =404} ends in nginx's own 404 page, not paged again. edge's answer is the same, never
     * a cycle or a 500; a page that is a file stays one, at start and at a reload.
     */
    @Test
    void aPageNamingAMissingScriptEndsInEdgesOwn404(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(Files.createDirectories(www.resolve("errors")).resolve("404.html"), NOT_FOUND_PAGE);
        Files.writeString(www.resolve("index.php"), "<?php echo 'front controller';");
        String site = """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "%s" }
                  locations = [{ match = "/", front-controller = "/index.php" }
                    { match = "~ \\\\.php$", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """;
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness php = EdgeHarness.start(own, site.formatted("/errors/404.html", fpm.address()))) {
            for (String path : new String[] {"/missing.php", "/errors/404.php"}) {
                HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(php.uri(path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(missing.statusCode()).as(path).isEqualTo(404);
                assertThat(missing.body()).as(path).isEqualTo(NOT_FOUND_PAGE);
            }
            php.reload(site.formatted("/errors/404.php", fpm.address()));
            for (String path : new String[] {"/missing.php", "/errors/404.php"}) {
                HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(php.uri(path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(missing.statusCode()).as(path).isEqualTo(404);
                assertThat(missing.body()).as(path).contains("404 Not Found").doesNotContain("Nothing here");
            }
            assertThat(HTTP.send(HttpRequest.newBuilder(php.uri("/blog")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("front controller");
        }
    }

    /**
     * nginx opens its error_page file at each request: a page put there, edited or taken away while edge runs is
     * answered so within about a second (its refresh, off the event loops), without a reload.
     */
    @Test
    void aPageAddedEditedOrRemovedIsSeenWithoutAReload(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path page = Files.createDirectories(www.resolve("errors")).resolve("404.html");
        try (EdgeHarness pages = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "/errors/404.html" }
                  locations = [{ match = "/" }] }]
                """)) {
            Callable<String> missing = () -> HTTP.send(HttpRequest.newBuilder(pages.uri("/no/such/file")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(missing.call()).startsWith("<html><head><title>404 Not Found</title>");
            Files.writeString(page, NOT_FOUND_PAGE);
            Awaits.until(missing, NOT_FOUND_PAGE::equals, "the page put there is sent");
            Files.writeString(page, BUSY_PAGE);
            Awaits.until(missing, BUSY_PAGE::equals, "the page edited is sent");
            Files.delete(page);
            Awaits.until(missing, body -> body.startsWith("<html><head><title>404 Not Found</title>"),
                    "the page taken away is edge's own again");
        }
    }

    /**
     * A page's file that, while edge runs, becomes a FIFO or a directory is answered as a missing page, 404 with edge's
     * own page; one that becomes a link the site's rule refuses, 403 with edge's own, as nginx 1.22.1 answers its
     * error_page redirect to a file it may not open (measured: a 503's page a link under disable_symlinks, or of mode
     * 000 to its workers' user, is a 403; a FIFO there a 404). nginx answers a directory there with a 301 to its slash:
     * edge keeps the 404, not making an error a permanent redirect. The FIFO is never opened to wait for a writer.
     */
    @Test
    void aPageThatBecomesAFifoADirectoryOrARefusedLinkIsAnsweredAsNginxAnswersIt(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path page = Files.createDirectories(www.resolve("errors")).resolve("503.html");
        Files.writeString(page, BUSY_PAGE);
        Path outside = Files.writeString(own.resolve("outside.html"), "<p>outside</p>");
        try (EdgeHarness pages = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 503 = "/errors/503.html" }
                  locations = [{ match = "/" }, { match = "= /busy", return = 503 }] }]
                """)) {
            Callable<String> busy = () -> {
                HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(pages.uri("/busy")).build(),
                        HttpResponse.BodyHandlers.ofString());
                return answer.statusCode() + " " + answer.body();
            };
            assertThat(busy.call()).isEqualTo("503 " + BUSY_PAGE);
            Files.delete(page);
            Files.createDirectory(page);
            Awaits.until(busy, body -> body.startsWith("404 <html><head><title>404 Not Found</title>"),
                    "a directory is a missing page");
            Files.delete(page);
            Files.writeString(page, BUSY_PAGE);
            Awaits.until(busy, ("503 " + BUSY_PAGE)::equals, "the page put back is sent");
            Files.delete(page);
            Process mkfifo = new ProcessBuilder("mkfifo", page.toString()).inheritIO().start();
            assertThat(mkfifo.waitFor()).isZero();
            Awaits.until(busy, body -> body.startsWith("404 <html><head><title>404 Not Found</title>"),
                    "a FIFO is a missing page");
            Files.delete(page);
            Files.createSymbolicLink(page, outside);
            Awaits.until(busy, body -> body.startsWith("403 <html><head><title>403 Forbidden</title>"),
                    "a link out of the root is refused");
            Files.delete(page);
            Files.writeString(page, BUSY_PAGE);
            Awaits.until(busy, ("503 " + BUSY_PAGE)::equals, "the page mended is sent");
        }
    }

    @Test
    void aRequestRefusedBeforeItIsRoutedGetsTheSitesPage() throws Exception {
        for (String request : new String[] {
                "GET /here.txt HTTP/1.1\r\n\r\n", // no Host
                "GET /here.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}) { // unreadable
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send(request);
                RawHttpClient.Response bad = client.read();
                assertThat(bad.status()).as(request).isEqualTo(400);
                assertThat(bad.text()).as(request).isEqualTo(BAD_REQUEST_PAGE);
                assertThat(bad.header("connection")).as(request).isEqualTo("close");
            }
        }
    }

    /**
     * nginx's error_page is an internal redirect to the page's URI, matched against the locations again (nginx 1.22.1,
     * side by side): a location /errors/ with its own root answers a missing file with the page beneath that root, and
     * a missing file there too; an alias the same from its directory.
     */
    @Test
    void aPageUnderALocationWithItsOwnRootOrAliasIsReadFromThere(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(Files.createDirectories(www.resolve("errors")).resolve("404.html"), "<p>site root</p>");
        Files.writeString(Files.createDirectories(own.resolve("other/errors")).resolve("404.html"), NOT_FOUND_PAGE);
        Files.writeString(Files.createDirectories(own.resolve("aliased")).resolve("410.html"), MOVED_PAGE);
        try (EdgeHarness pages = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  error-pages { 404 = "/errors/404.html", 410 = "/gone/410.html" }
                  locations = [{ match = "/" }, { match = "/errors/", root = "other" }
                    { match = "/gone/", alias = "aliased/" }, { match = "= /gone", return = 410 }] }]
                """)) {
            for (String path : new String[] {"/no/such/file", "/errors/no-such-file"}) {
                HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(pages.uri(path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(missing.statusCode()).as(path).isEqualTo(404);
                assertThat(missing.body()).as(path).isEqualTo(NOT_FOUND_PAGE);
            }
            HttpResponse<String> gone = HTTP.send(HttpRequest.newBuilder(pages.uri("/gone")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(gone.statusCode()).isEqualTo(410);
            assertThat(gone.body()).isEqualTo(MOVED_PAGE);
        }
    }
}
