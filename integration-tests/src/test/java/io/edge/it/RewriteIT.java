package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.edge.core.http.CapturedLog;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code rewrite}, nginx's {@code rewrite ... last}: the legacy URLs of an older PHP application answered
 * by its scripts with the captured parts as arguments, on a real edge and a real php-fpm. The client sees no redirect.
 */
class RewriteIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;

    @Test
    void aLegacyUrlRunsItsScriptWithTheCapturesAsArgumentsAndTheSentUriKept() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("article.php"), """
                <?php echo json_encode(['get' => $_GET, 'query' => $_SERVER['QUERY_STRING'],
                    'uri' => $_SERVER['REQUEST_URI'], 'script' => $_SERVER['SCRIPT_NAME'],
                    'method' => $_SERVER['REQUEST_METHOD'], 'body' => file_get_contents('php://input')]);""");
        Files.writeString(www.resolve("q.php"), "<?php echo $_SERVER['QUERY_STRING'];");
        Files.createDirectories(www.resolve("files"));
        Files.writeString(www.resolve("files/red shoe.txt"), "a file");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" }
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "~ ^/article/([0-9]+)/?$", rewrite = "/article.php?id=$1" }
                       { match = "~ ^/tag/(?<tag>[^/]+)$", rewrite = "/article.php?tag=$tag?" }
                       { match = "~ ^/legacy/", rewrite = "/article.php" }
                       { match = "~ ^/download/(.+)$", rewrite = "/files/$1" }
                       { match = "~ ^/article-name/(.+)$", rewrite = "/q.php?name=$1" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> article = send(edge, "GET", "/article/42?utm=mail");
            assertThat(article.statusCode()).isEqualTo(200);
            assertThat(article.body()).isEqualTo("{\"get\":{\"id\":\"42\",\"utm\":\"mail\"},\"query\":\"id=42&utm=mail\","
                    + "\"uri\":\"\\/article\\/42?utm=mail\",\"script\":\"\\/article.php\",\"method\":\"GET\",\"body\":\"\"}");

            HttpResponse<String> tag = send(edge, "GET", "/tag/a%26admin%3D1?page=2");
            assertThat(tag.body()).as("a capture is one argument's value, and the trailing ? drops the request's query")
                    .startsWith("{\"get\":{\"tag\":\"a&admin=1\"},\"query\":\"tag=a%26admin%3D1\",");

            HttpResponse<String> legacy = HTTP.send(HttpRequest.newBuilder(edge.uri("/legacy/form?k=v"))
                    .POST(HttpRequest.BodyPublishers.ofString("name=x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(legacy.body()).as("no ? in the replacement: the query as sent; the method and body go on")
                    .isEqualTo("{\"get\":{\"k\":\"v\"},\"query\":\"k=v\",\"uri\":\"\\/legacy\\/form?k=v\","
                            + "\"script\":\"\\/article.php\",\"method\":\"POST\",\"body\":\"name=x\"}");

            HttpResponse<String> file = send(edge, "GET", "/download/red%20shoe.txt");
            assertThat(file.statusCode()).isEqualTo(200);
            assertThat(file.body()).as("a decoded capture encoded again, the path decoded once").isEqualTo("a file");
            assertThat(send(edge, "GET", "/download/missing.txt").statusCode()).isEqualTo(404);

            HttpResponse<String> latin1 = send(edge, "GET", "/article-name/caf%E9");
            assertThat(latin1.body()).as("a capture's byte that is not UTF-8 goes on as that byte, as nginx's")
                    .isEqualTo("name=caf%E9");
        }
    }

    /**
     * A rewrite to a script that is not there (or to a directory named as one) is the PHP location's 404, the site's page
     * for it, as nginx's rewrite ... last into its ~ \.php$ location with try_files $uri =404 answers it (measured with
     * nginx 1.22): never the front controller's answer, never a cycle, nothing logged. In a PHP location with a front
     * controller, and in the layout of a location of files beside ~ \.php$, where a files location's front controller
     * that names a missing script is 404 the same way. The front controller counts its runs: none.
     */
    @Test
    void aRewriteToAMissingScriptIsThePhpLocations404() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path runs = dir.resolve("runs.txt");
        Files.writeString(www.resolve("index.php"), "<?php file_put_contents('" + runs + "', $_SERVER['REQUEST_URI']"
                + " . \"\\n\", FILE_APPEND | LOCK_EX); echo 'front controller for ', $_SERVER['REQUEST_URI'];");
        Files.writeString(Files.createDirectories(www.resolve("errors")).resolve("404.html"), "the site's own 404");
        Files.createDirectories(www.resolve("dir.php"));
        String rewrites = """
                { match = "~ ^/old/(.*)$", rewrite = "/missing.php?page=$1" }
                { match = "~ ^/folder/", rewrite = "/dir.php" }
                """;
        String phpFrontController = """
                { match = "/", fastcgi = php, front-controller = "/index.php" }
                { match = "~ ^/older/", rewrite = "/missing.php/more" }
                """;
        String filesBesidePhp = """
                { match = "/", front-controller = "/index.php" }
                { match = "~ \\\\.php$", fastcgi = php }
                { match = "^~ /lost/", front-controller = "/missing.php" }
                """;
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n")) {
            for (String locations : new String[] {phpFrontController, filesBesidePhp}) {
                try (EdgeHarness edge = EdgeHarness.start(dir, """
                        sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"]
                          error-pages { 404 = "/errors/404.html" }
                          locations = [
                        %s%s  ] }]
                        fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                        """.formatted(locations, rewrites, fpm.address()));
                     CapturedLog log = CapturedLog.of("io.edge")) {
                    List<String> paths = new ArrayList<>(List.of("/old/page?x=1", "/folder/x"));
                    paths.add(locations.equals(phpFrontController) ? "/older/x" : "/lost/x");
                    for (String path : paths) {
                        HttpResponse<String> missing = send(edge, "GET", path);
                        assertThat(missing.statusCode()).as(path).isEqualTo(404);
                        assertThat(missing.body()).as(path).isEqualTo("the site's own 404");
                    }
                    HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(edge.uri("/old/form"))
                            .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(posted.statusCode()).as("a POST too").isEqualTo(404);
                    assertThat(runs).as("the front controller never ran").doesNotExist();
                    assertThat(send(edge, "GET", "/blog/post").body()).as("it answers what names nothing")
                            .isEqualTo("front controller for /blog/post");
                    Files.delete(runs);
                    assertThat(log.events()).as("no warning, no error: a 404")
                            .noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN));
                }
            }
        }
    }

    /**
     * An internal location is reached only by a script's X-Accel-Redirect: a rewrite into it is 404, as a client's own
     * request is. "~ ^/old/(.*)$" -> "/$1" handed /protected/file.txt out around the script that guards it (nginx's
     * rewrite reaches an internal location; its documentation of internal says a client's request cannot).
     */
    @Test
    void aRewriteIntoAnInternalLocationIs404() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www/protected"));
        Files.writeString(www.resolve("file.txt"), "protected");
        Files.writeString(dir.resolve("www/open.txt"), "open");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "^~ /protected/", internal = true }
                  { match = "~ ^/old/(.*)$", rewrite = "/$1" }
                ] }]
                """)) {
            assertThat(send(edge, "GET", "/protected/file.txt").statusCode()).isEqualTo(404);
            HttpResponse<String> around = send(edge, "GET", "/old/protected/file.txt");
            assertThat(around.statusCode()).isEqualTo(404);
            assertThat(around.body()).doesNotContain("protected");
            HttpResponse<String> open = send(edge, "GET", "/old/open.txt");
            assertThat(open.statusCode()).isEqualTo(200);
            assertThat(open.body()).isEqualTo("open");
        }
    }

    /**
     * Nor does an index file: "GET /protected/" (which the internal regex location does not take) found
     * /protected/index.html, owned by the internal location, and served it there (nginx's index does too).
     */
    @Test
    void anIndexFileInAnInternalLocationIs404() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www/protected"));
        Files.writeString(www.resolve("index.html"), "protected index");
        Files.createDirectories(dir.resolve("www/open"));
        Files.writeString(dir.resolve("www/open/index.html"), "open index");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "~ ^/protected/.+", internal = true }
                ] }]
                """)) {
            HttpResponse<String> index = send(edge, "GET", "/protected/");
            assertThat(index.statusCode()).isEqualTo(404);
            assertThat(index.body()).doesNotContain("protected index");
            assertThat(send(edge, "GET", "/open/").body()).isEqualTo("open index");
        }
    }

    private static HttpResponse<String> send(EdgeHarness edge, String method, String target) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(target)).method(method, HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
