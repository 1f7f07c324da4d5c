package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's variables in a location's {@code fastcgi-params} and {@code headers} in front of a real php-fpm: PHP sees the
 * params the request's values make, the client the headers, one {@code $request_id} in both; a cached answer's hit gets
 * its own; a decoded $uri's CR LF splits neither.
 */
class VariablesIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        // each of the params below as NAME=value, "-" for one PHP was not sent
        Files.writeString(www.resolve("vars.php"), """
                <?php
                foreach (['REQ_ID', 'APP_HOST', 'HTTPS', 'APP_URI', 'APP_AGENT', 'APP_EMPTY', 'APP_LITERAL', 'APP_COOKIE',
                          'HTTP_X_REQUEST_ID', 'APP_IF_EMPTY', 'APP_IF_SET'] as $name) {
                    echo $name, '=', $_SERVER[$name] ?? '-', "\\n";
                }
                """);
        Files.createDirectories(www.resolve("cached"));
        Files.writeString(www.resolve("cached/page.php"), """
                <?php
                header('Cache-Control: public, max-age=60');
                echo uniqid('', true), ' ', $_SERVER['APP_CACHE'], ' ', $_SERVER['REQ_ID'], "\\n";
                """);
        Files.createDirectories(www.resolve("files"));
        Files.writeString(www.resolve("files/a.txt"), "a file\n");
        Files.writeString(www.resolve("accel.php"), """
                <?php
                header('X-Accel-Redirect: /files/a.txt' . (isset($_GET['q']) ? '?v=7&w=%41' : ''));
                """);
        Files.createDirectories(www.resolve("pages"));
        Files.writeString(www.resolve("pages/403.html"), "refused\n");
        Files.createDirectories(www.resolve("thumbs/120"));
        Files.writeString(www.resolve("thumbs/120/a.txt"), "a thumb\n");
        Files.writeString(www.resolve("caps.php"), """
                <?php
                if (isset($_GET['thumb'])) {
                    header('X-Accel-Redirect: /thumbs/120/a.txt');
                    exit;
                }
                if (isset($_GET['sendfile'])) {
                    header('X-Sendfile: ' . __DIR__ . '/thumbs/120/a.txt');
                    exit;
                }
                foreach (['SIZE', 'NAME', 'FIRST'] as $name) {
                    echo $name, '=', $_SERVER[$name] ?? '-', "\\n";
                }
                """);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$request_uri $request_id $uri $args" }
                location-defaults.fastcgi-params { REQ_ID = "$request_id" }
                sites = [{
                  server-names = ["_"], default = true, root = "www", error-pages { 403 = "/pages/403.html" }
                  locations = [
                    { match = "/", fastcgi = php, front-controller = "/vars.php", x-sendfile = ["www/files"]
                      fastcgi-params { APP_HOST = "$host", HTTPS = "$https", APP_URI = "$uri",
                                       APP_AGENT = "agent: ${http_user_agent}", APP_EMPTY = "$http_x_none",
                                       APP_LITERAL = "$$host costs US$ 5", APP_COOKIE = "$cookie_sid",
                                       HTTP_X_REQUEST_ID = "$request_id", APP_IF_EMPTY = "$https if_not_empty",
                                       APP_IF_SET = "$host if_not_empty" }
                      headers { X-Request-Id = "$request_id", X-Uri = "$uri", X-Origin = "$http_origin" }
                      always-headers { Link = "<https://$host$uri>; rel=canonical" } }
                    { match = "^~ /cached/", fastcgi = php, cache = true
                      fastcgi-params { APP_CACHE = "$upstream_cache_status" }
                      headers { X-Request-Id = "$request_id", X-Cache-Status = "$upstream_cache_status" } }
                    { match = "^~ /files/"
                      always-headers { X-Uri = "$uri", X-Args = "$is_args$args", X-Arg = "$arg_v" }
                      headers { X-Request-Id = "$request_id" } }
                    { match = "~ ^/thumbs/(?<size>\\\\d+)/(.+)$", headers { X-Size = "$size", X-Name = "$2" }
                      always-headers { X-Uri = "$uri", X-First = "$1" }
                      referers { valid = [none], invalid = "302 /hotlink/$size.png" } }
                    { match = "~ ^/caps/(?<size>\\\\d+)/(.+)$", fastcgi = php, front-controller = "/caps.php"
                      x-sendfile = ["www/thumbs"], headers { X-Size = "$Size" }
                      fastcgi-params { SIZE = "$size", NAME = "$2", FIRST = "${1}px" } }
                    { match = "~ ^/pages/(?<code>\\\\d+)\\\\.html$"
                      always-headers { X-Page = "$code", X-Uri = "$uri", X-Args = "$is_args$args" } }
                    { match = "= /old", return = "301 https://$host/new?id=$request_id"
                      headers { X-Request-Id = "$request_id" } }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    /**
     * The access log's $request_id is the one the request's headers and script were given (nginx's, one per request),
     * and a request whose answer named none is logged with one of its own.
     */
    @Test
    void theAccessLogNamesTheRequestIdItsHeadersAndScriptHad() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response answer = client.send("GET /vars.php?logged HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(answer.status()).isEqualTo(200);
            String id = answer.header("x-request-id");
            assertThat(lines(answer.text())).containsEntry("REQ_ID", id);
            await(() -> access.lines().contains("/vars.php?logged " + id + " /vars.php logged"),
                    "the line of /vars.php?logged");

            RawHttpClient.Response missing = client.send("GET /files/missing.txt HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.headers()).doesNotContainKey("x-request-id");
            await(() -> access.lines().stream().anyMatch(
                    line -> line.matches("/files/missing\\.txt [0-9a-f]{32} /files/missing\\.txt -")),
                    "the line of /files/missing.txt");
        }
    }

    private static Map<String, String> lines(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int equals = line.indexOf('=');
            values.put(line.substring(0, equals), line.substring(equals + 1));
        }
        return values;
    }

    /**
     * PHP sees each param as the request makes it (an empty one sent empty, as nginx's fastcgi_param sends it, but with
     * if_not_empty; $$ one literal $; an HTTP_ one in place of a header the client sent), the client the headers (an empty one left out), and
     * both the same $request_id, another for the next request.
     */
    @Test
    void paramsAndHeadersCarryTheRequestsValuesAndOneRequestId() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response first = client.send("GET /vars.php HTTP/1.1\r\nHost: Shop.Example:81\r\n"
                    + "User-Agent: probe/1\r\nCookie: a=1; sid=s3cr3t\r\nX-Request-Id: forged\r\n\r\n").read();
            assertThat(first.status()).isEqualTo(200);
            Map<String, String> php = lines(first.text());
            assertThat(php.get("REQ_ID")).matches("[0-9a-f]{32}");
            assertThat(php).containsEntry("APP_HOST", "shop.example").containsEntry("HTTPS", "")
                    .containsEntry("APP_URI", "/vars.php").containsEntry("APP_AGENT", "agent: probe/1")
                    .containsEntry("APP_EMPTY", "").containsEntry("APP_LITERAL", "$host costs US$ 5")
                    .containsEntry("APP_COOKIE", "s3cr3t").containsEntry("HTTP_X_REQUEST_ID", php.get("REQ_ID"))
                    .containsEntry("APP_IF_EMPTY", "-").containsEntry("APP_IF_SET", "shop.example");
            assertThat(first.header("x-request-id")).isEqualTo(php.get("REQ_ID"));
            assertThat(first.header("x-uri")).isEqualTo("/vars.php");
            assertThat(first.header("link")).isEqualTo("<https://shop.example/vars.php>; rel=canonical");
            assertThat(first.headers()).as("expands to nothing: not sent").doesNotContainKey("x-origin");

            RawHttpClient.Response second = client.send("GET /vars.php HTTP/1.1\r\nHost: a\r\n"
                    + "Origin: https://b.example\r\n\r\n").read();
            assertThat(lines(second.text()).get("REQ_ID")).matches("[0-9a-f]{32}").isNotEqualTo(php.get("REQ_ID"))
                    .isEqualTo(second.header("x-request-id"));
            assertThat(second.header("x-origin")).isEqualTo("https://b.example");
        }
    }

    /**
     * A decoded $uri's control bytes go to PHP and to the client percent-encoded (%01, %1B): a param is never cut where
     * PHP reads a C string, nor a terminal's escape logged as sent. A script's path with CR LF or NUL is refused before
     * (400), as before; a file's goes on: its CR LF (sent as %0D%0A) adds no header of the client's making.
     */
    @Test
    void aDecodedUrisControlBytesSplitNeitherAHeaderNorAParam() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response script = client.send("GET /page%01%1B[31m HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(script.status()).isEqualTo(200);
            assertThat(lines(script.text())).containsEntry("APP_URI", "/page%01%1B[31m");
            assertThat(script.header("x-uri")).isEqualTo("/page%01%1B[31m");
            RawHttpClient.Response file = client.send("GET /files/a%0D%0ASet-Cookie:%20evil=1%0D%0A HTTP/1.1\r\n"
                    + "Host: a\r\n\r\n").read();
            assertThat(file.status()).isEqualTo(404);
            assertThat(file.header("x-uri")).isEqualTo("/files/a%0D%0ASet-Cookie: evil=1%0D%0A");
            assertThat(file.headers()).doesNotContainKey("set-cookie");
        }
    }

    /**
     * Headers go on with their values expanded for each answer whoever gives it: a file, its 304, the file a script
     * hands out (those of the location its URI routes to, its $uri the X-Accel-Redirect's, as nginx's internal redirect
     * makes it), a return's redirect (whose URL names the same $request_id).
     */
    @Test
    void filesTheir304sHandedOutFilesAndRedirectsCarryExpandedHeaders() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response file = client.send("GET /files/a.txt HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(file.status()).isEqualTo(200);
            assertThat(file.header("x-request-id")).matches("[0-9a-f]{32}");
            assertThat(file.header("x-uri")).isEqualTo("/files/a.txt");
            RawHttpClient.Response notModified = client.send("GET /files/a.txt HTTP/1.1\r\nHost: a\r\n"
                    + "If-None-Match: " + file.header("etag") + "\r\n\r\n").read();
            assertThat(notModified.status()).isEqualTo(304);
            assertThat(notModified.header("x-request-id")).matches("[0-9a-f]{32}").isNotEqualTo(file.header("x-request-id"));
            assertThat(notModified.header("x-uri")).isEqualTo("/files/a.txt");
            RawHttpClient.Response handedOut = client.send("GET /accel.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(handedOut.status()).isEqualTo(200);
            assertThat(handedOut.text()).isEqualTo("a file\n");
            assertThat(handedOut.header("x-request-id")).matches("[0-9a-f]{32}");
            assertThat(handedOut.header("x-uri")).isEqualTo("/files/a.txt");
            assertThat(handedOut.headers()).as("the script's location's, not the file's").doesNotContainKey("link");
            // its $args, $arg_<name> and $is_args are the X-Accel-Redirect's query, none where it has none
            RawHttpClient.Response withQuery = client.send("GET /accel.php?v=1&q HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(withQuery.text()).isEqualTo("a file\n");
            assertThat(withQuery.header("x-args")).isEqualTo("?v=7&w=%41");
            assertThat(withQuery.header("x-arg")).isEqualTo("7");
            await(() -> access.lines().contains("/accel.php?v=1&q " + withQuery.header("x-request-id")
                    + " /files/a.txt v=7&w=%41"), "the line of the file, its query the X-Accel-Redirect's");
            RawHttpClient.Response noQuery = client.send("GET /accel.php?v=1 HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(noQuery.text()).isEqualTo("a file\n");
            assertThat(noQuery.headers()).doesNotContainKeys("x-args", "x-arg");
            RawHttpClient.Response redirect = client.send("GET /old HTTP/1.1\r\nHost: shop.example\r\n\r\n").read();
            assertThat(redirect.status()).isEqualTo(301);
            assertThat(redirect.header("x-request-id")).matches("[0-9a-f]{32}");
            assertThat(redirect.header("location")).isEqualTo("https://shop.example/new?id="
                    + redirect.header("x-request-id"));
        }
    }

    /**
     * A regex location's captures, $1 to $9 and named groups, fill its headers, always-headers and fastcgi-params as
     * nginx's add_header and fastcgi_param: a file's, a 404's always-headers, PHP's params (a front controller's script
     * run for the location that took the request, its captures of the request's path), and a file a script hands out,
     * whose captures and $uri are the X-Accel-Redirect URI's, in its headers and in the access log.
     */
    @Test
    void aRegexLocationsCapturesFillItsHeadersAndParams() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response thumb = client.send("GET /thumbs/120/a.txt HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(thumb.status()).isEqualTo(200);
            assertThat(thumb.header("x-size")).isEqualTo("120");
            assertThat(thumb.header("x-name")).isEqualTo("a.txt");
            assertThat(thumb.header("x-first")).isEqualTo("120");
            RawHttpClient.Response missing = client.send("GET /thumbs/300/b.txt HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.header("x-first")).isEqualTo("300");
            assertThat(missing.headers()).as("headers go with a 2xx or 3xx alone").doesNotContainKey("x-size");

            RawHttpClient.Response script = client.send("GET /caps/64/cat.jpg HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(script.status()).isEqualTo(200);
            assertThat(lines(script.text())).containsEntry("SIZE", "64").containsEntry("NAME", "cat.jpg")
                    .containsEntry("FIRST", "64px");
            assertThat(script.header("x-size")).isEqualTo("64");

            RawHttpClient.Response handedOut = client.send("GET /caps/64/cat.jpg?thumb HTTP/1.1\r\nHost: a\r\n\r\n")
                    .read();
            assertThat(handedOut.status()).isEqualTo(200);
            assertThat(handedOut.text()).isEqualTo("a thumb\n");
            assertThat(handedOut.header("x-size")).isEqualTo("120");
            assertThat(handedOut.header("x-name")).isEqualTo("a.txt");
            assertThat(handedOut.header("x-uri")).isEqualTo("/thumbs/120/a.txt");
            // an X-Sendfile's file goes out as the location of its URI: that location regex's captures are of it
            RawHttpClient.Response sent = client.send("GET /caps/64/cat.jpg?sendfile HTTP/1.1\r\nHost: a\r\n\r\n")
                    .read();
            assertThat(sent.status()).isEqualTo(200);
            assertThat(sent.text()).isEqualTo("a thumb\n");
            assertThat(sent.header("x-size")).isEqualTo("120");
            assertThat(sent.header("x-name")).isEqualTo("a.txt");
            assertThat(sent.header("x-uri")).isEqualTo("/thumbs/120/a.txt");
            RawHttpClient.Response hotlinked = client.send("GET /caps/64/cat.jpg?sendfile HTTP/1.1\r\nHost: a\r\n"
                    + "Referer: https://elsewhere.example/\r\n\r\n").read();
            assertThat(hotlinked.status()).isEqualTo(302);
            assertThat(hotlinked.header("location")).isEqualTo("http://a:" + edge.address().getPort() + "/hotlink/120.png");
            // an error page's always-headers are its location's, their captures of the page's URI
            RawHttpClient.Response refused = client.send("GET /files/ HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.text()).isEqualTo("refused\n");
            assertThat(refused.header("x-page")).isEqualTo("403");
            // and its $uri the page's, its $args none, as nginx's error_page redirect makes them: in the log too
            RawHttpClient.Response withQuery = client.send("GET /files/?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(withQuery.status()).isEqualTo(403);
            assertThat(withQuery.header("x-uri")).isEqualTo("/pages/403.html");
            assertThat(withQuery.headers()).doesNotContainKey("x-args");
            await(() -> access.lines().stream().anyMatch(line -> line.matches(
                    "/files/\\?x=1 [0-9a-f]{32} /pages/403\\.html -")), "the error page's line");
            await(() -> access.lines().stream().anyMatch(line -> line.matches(
                    "/caps/64/cat\\.jpg\\?thumb [0-9a-f]{32} /thumbs/120/a\\.txt -")), "the handed out file's line");
        }
    }

    /**
     * The response cache keeps the script's answer, never the location's headers: a hit, the same body, carries its
     * own $request_id, not the one of the request that filled the cache (which the script saw), and its own
     * $upstream_cache_status (nginx's add_header X-Cache-Status): MISS, then HIT; the script saw MISS in its param.
     */
    @Test
    void aCachedAnswersHitGetsItsOwnRequestId() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response miss = client.send("GET /cached/page.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
            RawHttpClient.Response hit = client.send("GET /cached/page.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
            RawHttpClient.Response again = client.send("GET /cached/page.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(miss.status()).isEqualTo(200);
            assertThat(hit.text()).as("from the cache").isEqualTo(miss.text());
            assertThat(again.text()).isEqualTo(miss.text());
            assertThat(miss.text().strip()).endsWith(" " + miss.header("x-request-id"));
            assertThat(hit.header("x-request-id")).matches("[0-9a-f]{32}").isNotEqualTo(miss.header("x-request-id"));
            assertThat(again.header("x-request-id")).matches("[0-9a-f]{32}")
                    .isNotIn(miss.header("x-request-id"), hit.header("x-request-id"));
            assertThat(miss.text()).contains(" MISS ");
            assertThat(miss.header("x-cache-status")).isEqualTo("MISS");
            assertThat(hit.header("x-cache-status")).isEqualTo("HIT");
            assertThat(again.header("x-cache-status")).isEqualTo("HIT");
        }
    }
}
