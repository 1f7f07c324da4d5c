package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location of files with a front-controller: a path that names no file or directory is answered as a request for
 * the front controller's path, routed again, as nginx's {@code try_files $uri $uri/ /index.html} (a single-page
 * application) and the {@code location / { try_files $uri $uri/ /index.php?$query_string; }} beside a PHP location
 * that most PHP frameworks ship for nginx.
 */
class StaticFrontControllerIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void aSinglePageApplicationGetsItsIndexForEveryPathThatNamesNoFile() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.html"), "<div id=app></div>");
        Files.createDirectories(www.resolve("assets"));
        Files.writeString(www.resolve("assets/app.js"), "start()");
        Files.createDirectories(www.resolve("empty"));
        Files.createDirectories(dir.resolve("other"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", front-controller = "/index.html" }
                  { match = "/lost/", root = "other", front-controller = "/lost/index.html" }
                ] }]
                """)) {
            for (String route : new String[] {"/users/42", "/users/42?tab=posts", "/assets/missing.js", "/index.html/x",
                    "/assets/app.js/"}) {
                HttpResponse<String> page = send(edge, "GET", route);
                assertThat(page.statusCode()).as(route).isEqualTo(200);
                assertThat(page.body()).as(route).isEqualTo("<div id=app></div>");
                assertThat(page.headers().firstValue("content-type")).as(route).hasValueSatisfying(
                        type -> assertThat(type).startsWith("text/html"));
                assertThat(page.headers().firstValue("etag")).as(route).isPresent();
            }
            assertThat(send(edge, "GET", "/assets/app.js").body()).as("a file is itself").isEqualTo("start()");
            Files.writeString(www.resolve("assets/a\\b.js"), "named so");
            assertThat(send(edge, "GET", "/assets/a%5Cb.js").body()).as("a name with a backslash").isEqualTo("named so");
            assertThat(send(edge, "GET", "/empty/").statusCode()).as("a directory without an index, as nginx's $uri/")
                    .isEqualTo(403);
            assertThat(send(edge, "HEAD", "/users/42").headers().firstValue("content-length")).contains("18");
            assertThat(send(edge, "DELETE", "/users/42").statusCode()).as("a file's methods, as nginx's static module")
                    .isEqualTo(405);
            assertThat(send(edge, "GET", "/lost/x").statusCode()).as("its front controller missing too: 404, no loop")
                    .isEqualTo(404);
        }
    }

    @Test
    void aPathThatNamesNoFileRunsThePhpFrontControllerWithItsMethodAndQuery() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("style.css"), "body{}");
        Files.writeString(www.resolve("index.php"), """
                <?php echo $_SERVER['REQUEST_METHOD'], ' ', $_SERVER['REQUEST_URI'], ' ', $_SERVER['SCRIPT_NAME'], ' ',
                    $_SERVER['QUERY_STRING'], ' ', file_get_contents('php://input');""");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", front-controller = "/index.php" }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(send(edge, "GET", "/blog/hello?page=2").body()).isEqualTo("GET /blog/hello?page=2 /index.php page=2 ");
            HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(edge.uri("/api/items/7"))
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"n\":1}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).isEqualTo(200);
            assertThat(put.body()).isEqualTo("PUT /api/items/7 /index.php  {\"n\":1}");
            assertThat(send(edge, "GET", "/search/a%5Cb").body()).as("a backslash is a path's character, as for nginx")
                    .isEqualTo("GET /search/a%5Cb /index.php  ");
            assertThat(send(edge, "GET", "/style.css").body()).isEqualTo("body{}");
            // as behind nginx's layout: a missing script is the PHP location's 404; a path ~ \.php$ does not take is a
            // path like any other
            assertThat(send(edge, "GET", "/missing.php").statusCode()).isEqualTo(404);
            assertThat(send(edge, "GET", "/missing.php/x").body()).isEqualTo("GET /missing.php/x /index.php  ");
            // a directory named as a script is none there (nginx: try_files $uri =404, or php-fpm's "No input file
            // specified."), not a redirect to /dir.php/; below it, a path like any other
            Files.createDirectories(www.resolve("dir.php"));
            HttpResponse<String> directory = send(edge, "GET", "/dir.php");
            assertThat(directory.statusCode()).isEqualTo(404);
            assertThat(directory.headers().firstValue("location")).isEmpty();
            assertThat(send(edge, "GET", "/dir.php/x").body()).isEqualTo("GET /dir.php/x /index.php  ");
            assertThat(send(edge, "PUT", "/style.css").statusCode()).as("an existing file: a file's methods").isEqualTo(405);
            Files.createDirectories(www.resolve("img"));
            assertThat(send(edge, "PUT", "/img").statusCode()).as("an existing directory too, not a redirect")
                    .isEqualTo(405);
        }
    }

    /**
     * Two locations whose front controllers lead to each other: a cycle, cut after ten internal redirects with a 500, as
     * nginx cuts its "internal redirection cycle". It was logged with a stack trace for every request; one line now.
     */
    @Test
    void aCycleOfFrontControllersIsA500AndOneLineInTheLog() throws Exception {
        Files.createDirectories(dir.resolve("www/a"));
        Files.createDirectories(dir.resolve("www/b"));
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "io.edge.core.http.ServerExchange");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        log.addAppender(logged);
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/a/", front-controller = "/b/x" }
                  { match = "/b/", front-controller = "/a/x" }
                  { match = "/spin/", rewrite = "/spin$uri" }
                ] }]
                """)) {
            for (int i = 0; i < 3; i++) {
                assertThat(send(edge, "GET", "/a/missing").statusCode()).isEqualTo(500);
            }
            // a rewrite's cycle ends so too (its line one of those the first stands for: one log, one throttle)
            assertThat(send(edge, "GET", "/spin/x").statusCode()).as("a rewrite cycle ends, as nginx's").isEqualTo(500);
        } finally {
            log.detachAppender(logged);
        }
        assertThat(logged.list).filteredOn(e -> e.getFormattedMessage().contains("internal redirects")).singleElement()
                .satisfies(e -> {
                    assertThat(e.getFormattedMessage()).startsWith("GET /a/missing -> 500: more than 10 internal redirects");
                    assertThat(e.getThrowableProxy()).isNull();
                });
    }

    /**
     * A PHP front controller that a location of files takes ({@code ^~ /index.php} with {@code internal = true}, meant
     * to hide it, is met before any regex location that runs PHP): never sent as a file, its source. 404 and a line
     * in the log. It was sent, {@code <?php} and all, for every path that names no file.
     */
    @Test
    void aPhpFrontControllerThatALocationOfFilesTakesIsNeverSentAsItsSource() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php $secret = 'db-password';");
        Files.writeString(www.resolve("app.css"), "body{}");
        CapturedLog lines = CapturedLog.of("io.edge.core.statics.StaticResponder");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", front-controller = "/index.php" }
                  { match = "^~ /index.php", internal = true }
                ] }]
                """)) {
            for (String path : new String[] {"/foo?x=1", "/blog/hello", "/app.css/x"}) {
                HttpResponse<String> response = send(edge, "GET", path);
                assertThat(response.statusCode()).as(path).isEqualTo(404);
                assertThat(response.body()).as(path).doesNotContain("db-password");
            }
            assertThat(send(edge, "GET", "/index.php").statusCode()).as("its own path, internal").isEqualTo(404);
            assertThat(send(edge, "GET", "/app.css").body()).as("a file is itself").isEqualTo("body{}");
            assertThat(lines.warnings()).as("one line for the three, throttled").singleElement().asString()
                    .contains("GET /foo?x=1 -> 404: front-controller /index.php routes to location \"^~ /index.php\"");
        } finally {
            lines.close();
        }
    }

    /**
     * Under symlinks = deny with the site's page for 403, a link as the file's own name is that 403 and its page, not
     * the front controller's answer; a file through a linked directory is missing (nginx's ENOTDIR) and goes to the
     * front controller, as a path naming nothing does. nginx 1.22 (measured, disable_symlinks on, try_files $uri
     * /index.php, error_page 403 /403.html, php-fpm 8.2) runs /index.php for both: edge differs on purpose for the
     * link itself (README says why). Pins what edge did already.
     */
    @Test
    void underSymlinksDenyALinkIsTheSites403PageNotTheFrontController() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php echo 'FC ', $_SERVER['REQUEST_URI'];");
        Files.writeString(www.resolve("target.txt"), "target");
        Files.writeString(www.resolve("403.html"), "403 page");
        Files.createSymbolicLink(www.resolve("link.txt"), www.resolve("target.txt"));
        Files.createDirectories(www.resolve("realdir"));
        Files.writeString(www.resolve("realdir/x.txt"), "in dir");
        Files.createSymbolicLink(www.resolve("linkdir"), www.resolve("realdir"));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", symlinks = deny
                       error-pages { 403 = "/403.html" }
                       locations = [
                         { match = "/", front-controller = "/index.php", front-controller-directories = false }
                         { match = "~ \\\\.php$", fastcgi = php }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> link = send(edge, "GET", "/link.txt");
            assertThat(link.statusCode()).isEqualTo(403);
            assertThat(link.body()).isEqualTo("403 page");
            for (String path : new String[] {"/linkdir/x.txt", "/nothing"}) {
                HttpResponse<String> front = send(edge, "GET", path);
                assertThat(front.statusCode()).as(path).isEqualTo(200);
                assertThat(front.body()).as(path).isEqualTo("FC " + path);
            }
            assertThat(send(edge, "GET", "/target.txt").body()).isEqualTo("target");
        }
    }

    private static HttpResponse<String> send(EdgeHarness edge, String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).method(method, HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
