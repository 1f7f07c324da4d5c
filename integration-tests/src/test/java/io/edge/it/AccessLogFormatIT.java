package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.access-log-format}, nginx's log_format, on a real edge with real files and a real php-fpm: nginx's
 * variables written into the configured line, escaped as nginx's default or json escape writes them.
 */
class AccessLogFormatIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void nginxsVariablesFillTheConfiguredLineAndAValueARequestHasNotIsADash() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "static\n");
        Files.writeString(www.resolve("hello.php"), "<?php echo 'hello';");
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server { access-log = "-", access-log-format = "$remote_addr|$request|$request_method|$request_uri|$uri|$args|$is_args|$server_protocol|$status|$body_bytes_sent|$http_user_agent|$http_x_trace|$host|$server_name|$scheme|$upstream_connect_time|$upstream_response_time|rt=$request_time" }
                     sites = [{ server-names = ["example.org"], default = true, root = "www", locations = [
                       { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            // a field sent in two lines is both, as nginx's (HAProxy's forwardfor adds its X-Forwarded-For line)
            HTTP.send(HttpRequest.newBuilder(edge.uri("/a.txt?x=1")).header("User-Agent", "ua/1.0")
                    .header("X-Trace", "t-1").header("X-Trace", "t-2").build(), HttpResponse.BodyHandlers.ofString());
            HTTP.send(HttpRequest.newBuilder(edge.uri("/%68ello.php")).header("User-Agent", "ua/2.0").build(),
                    HttpResponse.BodyHandlers.ofString());
            try (RawHttpClient bad = new RawHttpClient(edge.address())) {
                bad.send("GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n");
                assertThat(bad.read().status()).isEqualTo(400);
            }
            await(() -> access.lines().size() == 3, "three lines");
            // A line is written on its connection's loop once the answer's last write completes; the client may have
            // the answer by then and another connection, on another loop, may log first: the order is not fixed.
            List<String> lines = access.lines();
            assertThat(lineOf(lines, "/a.txt?x=1")).matches("127\\.0\\.0\\.1\\|GET /a\\.txt\\?x=1 HTTP/1\\.1\\|GET\\|/a\\.txt\\?x=1\\|"
                    + "/a\\.txt\\|x=1\\|\\?\\|HTTP/1\\.1\\|200\\|7\\|ua/1\\.0\\|t-1, t-2\\|127\\.0\\.0\\.1\\|example\\.org\\|"
                    + "http\\|-\\|-\\|rt=\\d+\\.\\d{3}");
            assertThat(lineOf(lines, "/%68ello.php")).as("a backend's times; the path decoded, the request as sent")
                    .matches("127\\.0\\.0\\.1\\|GET /%68ello\\.php HTTP/1\\.1\\|GET\\|/%68ello\\.php\\|/hello\\.php\\|"
                            + "-\\|\\|HTTP/1\\.1\\|200\\|5\\|ua/2\\.0\\|-\\|127\\.0\\.0\\.1\\|example\\.org\\|http\\|"
                            + "\\d+\\.\\d{3}\\|\\d+\\.\\d{3}\\|rt=\\d+\\.\\d{3}");
            assertThat(lineOf(lines, "/x")).as("a head that could not be read: what is known of it")
                    .startsWith("127.0.0.1|GET /x HTTP/1.1|").contains("|400|");
        } finally {
            access.close();
        }
    }

    /**
     * nginx's {@code $sent_http_<field>}: the answer's fields as they went out (the location's expires and gzip
     * applied), several joined with ", ", "-" for one it had not; a head too malformed to route, the 400's own.
     */
    @Test
    void sentHttpVariablesAreTheAnswersFieldsAsTheyWentOut() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "static\n".repeat(100));
        Files.writeString(www.resolve("two.php"), "<?php header('X-App: a'); header('X-App: b', false); echo 'two';");
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server { access-log = "-", access-log-format = "$request_uri|$status|$sent_http_content_type|$sent_http_content_encoding|$sent_http_cache_control|$sent_http_x_app|$sent_http_connection" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", expires = 1 h, gzip.enabled = true }, { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            HTTP.send(HttpRequest.newBuilder(edge.uri("/a.txt")).header("Accept-Encoding", "gzip").build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            HTTP.send(HttpRequest.newBuilder(edge.uri("/two.php")).build(), HttpResponse.BodyHandlers.ofString());
            try (RawHttpClient bad = new RawHttpClient(edge.address())) {
                bad.send("GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n");
                assertThat(bad.read().status()).isEqualTo(400);
            }
            await(() -> access.lines().size() == 3, "three lines");
            assertThat(access.lines()).containsExactlyInAnyOrder(
                    "/a.txt|200|text/plain; charset=utf-8|gzip|max-age=3600|-|-",
                    "/two.php|200|text/html; charset=UTF-8|-|-|a, b|-",
                    "/x|400|text/html; charset=utf-8|-|-|-|close");
        } finally {
            access.close();
        }
    }

    /**
     * nginx's {@code $arg_<name>} and {@code $cookie_<name>}: the value as sent, nothing for one sent empty
     * ({@code ?empty=}), "-" for one the request has not.
     */
    @Test
    void argAndCookieVariablesAreTheRequestsOrADash() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "static\n");
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$uri|$arg_page|$arg_empty|$cookie_sid|$cookie_none" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/" }] }]
                """)) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(client.send("GET /a.txt?Page=2%20x&empty= HTTP/1.1\r\nHost: a\r\n"
                        + "Cookie: a=1; sid=s3\r\nCookie: none=\r\n\r\n").read().status()).isEqualTo(200);
                assertThat(client.send("GET /b.txt HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(404);
            }
            await(() -> access.lines().size() == 2, "two lines");
            assertThat(access.lines()).containsExactly("/a.txt|2%20x||s3|", "/b.txt|-|-|-|-");
        } finally {
            access.close();
        }
    }

    /**
     * What nginx writes for the odd ones: a path's bytes as sent (UTF-8 and a byte that is none), an absolute-form
     * target's origin form, an empty $is_args as nothing, and a refused request's parsed path and query.
     */
    @Test
    void oddRequestsAreWrittenAsNginxWritesThem() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$uri$is_args$args $request_uri $status" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/" }] }]
                """)) {
            for (String head : List.of("GET /a%C3%A9%FF/b HTTP/1.1\r\nHost: a\r\n\r\n",
                    "GET http://other.example/x.txt?z HTTP/1.1\r\nHost: a\r\n\r\n",
                    "GET /plain.txt HTTP/1.1\r\nHost: a\r\n\r\n",
                    "POST /up.txt?q=2 HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n")) {
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    client.send(head).read();
                }
            }
            await(() -> access.lines().size() == 4, "four lines");
            assertThat(access.lines()).as("one connection each: any order").containsExactlyInAnyOrder(
                    "/a\\xC3\\xA9\\xFF/b- /a%C3%A9%FF/b 404",
                    "/x.txt?z /x.txt?z 404",
                    "/plain.txt- /plain.txt 404",
                    "/up.txt?q=2 /up.txt?q=2 413");
        } finally {
            access.close();
        }
    }

    /**
     * A request refused before it is routed is logged as nginx logs it: the path and query it parsed ($uri, $args),
     * "-" where the target was none (a fragment, a line too long to read); and with its connection's number and its
     * own there, and a $request_id, even where it was too malformed for an exchange.
     */
    @Test
    void requestsRefusedBeforeRoutingHaveTheirParsedPathAndConnectionNumbers() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/a.txt"), "a\n");
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.access-log = "-"
                server.access-log-format = "$status|$uri|$args|$connection|$connection_requests|$request_id|$request"
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/" }] }]
                """)) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(client.send("GET /a.txt HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
                assertThat(client.send("GET /two/hosts?q=1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").read().status())
                        .isEqualTo(400);
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(client.send("GET /bad/header?z=2 HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n").read()
                        .status()).isEqualTo(400);
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(client.send("GET /frag#x HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(400);
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(client.send("GET /" + "l".repeat(70_000) + " HTTP/1.1\r\nHost: a\r\n\r\n").read()
                        .status()).isEqualTo(414);
            }
            await(() -> access.lines().size() == 5, "five lines");
            List<String> lines = access.lines();
            String id = "[0-9a-f]{32}";
            String ok = lines.stream().filter(line -> line.startsWith("200|")).findFirst().orElseThrow();
            assertThat(ok).matches("200\\|/a\\.txt\\|-\\|\\d+\\|1\\|" + id + "\\|GET /a\\.txt HTTP/1\\.1");
            String connection = ok.split("\\|")[3];
            assertThat(lines).as("its path parsed, on the same connection: its second request")
                    .contains(lines.stream().filter(line -> line.contains("/two/hosts")).findFirst().orElseThrow())
                    .anyMatch(line -> line.matches("400\\|/two/hosts\\|q=1\\|" + connection + "\\|2\\|" + id
                            + "\\|GET /two/hosts\\?q=1 HTTP/1\\.1"))
                    .as("too malformed for an exchange: its line's path, a connection of its own")
                    .anyMatch(line -> line.matches("400\\|/bad/header\\|z=2\\|(?!" + connection + "\\|)\\d+\\|1\\|" + id
                            + "\\|GET /bad/header\\?z=2 HTTP/1\\.1"))
                    .as("no target parsed: no $uri")
                    .anyMatch(line -> line.matches("400\\|-\\|-\\|\\d+\\|1\\|" + id + "\\|GET /frag#x HTTP/1\\.1"))
                    .anyMatch(line -> line.matches("414\\|-\\|-\\|\\d+\\|1\\|" + id + "\\|.*"));
        } finally {
            access.close();
        }
    }

    @Test
    void jsonEscapeKeepsEveryLineValidJsonWhateverAClientSends() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "static\n");
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server {
                  access-log = "-"
                  access-log-escape = json
                  access-log-format = "{\\"status\\":$status,\\"agent\\":\\"$http_user_agent\\",\\"referer\\":\\"$http_referer\\",\\"time\\":\\"$time_iso8601\\"}"
                }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/" }] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            byte[] utf8 = "caf\u00e9 \"quoted\" \\ back".getBytes(StandardCharsets.UTF_8);
            byte[] head = concat("GET /a.txt HTTP/1.1\r\nHost: a\r\nUser-Agent: ".getBytes(StandardCharsets.ISO_8859_1),
                    utf8, "\r\nReferer: \u00c3\u00a9x\u00ff\ty\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(client.send(head).read().status()).isEqualTo(200);
            await(() -> access.lines().size() == 1, "the line");
            assertThat(access.lines().get(0)).matches("\\{\"status\":200,\"agent\":\"caf\u00e9 \\\\\"quoted\\\\\" "
                    + "\\\\\\\\ back\",\"referer\":\"\u00e9x\\\\u00ff\\\\ty\",\"time\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d"
                    + "[+-]\\d\\d:\\d\\d\"}");
        } finally {
            access.close();
        }
    }

    /**
     * A field whose name nginx takes for invalid (ignore_invalid_headers on, underscores_in_headers off: its defaults)
     * is no field to $http_: X_Real_IP is not $http_x_real_ip, in a log line or a return's text.
     */
    @Test
    void aFieldNginxIgnoresIsNoHttpVariable() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                     server { access-log = "-", access-log-format = "$request_uri|$http_x_real_ip|$http_x_app_id" }
                     sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                       { match = "/", return = "200 [$http_x_real_ip][$http_x_app_id]" }
                     ] }]
                     """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response answer = client.send("GET /v HTTP/1.1\r\nHost: a\r\nX_Real_IP: 6.6.6.6\r\n"
                    + "x_real_ip: 6.6.6.7\r\nX-App_Id: forged\r\nX-App-Id: app\r\n\r\n").read();
            assertThat(answer.text()).isEqualTo("[][app]");
            await(() -> access.lines().size() == 1, "a line");
            assertThat(access.lines().get(0)).isEqualTo("/v|-|app");
        } finally {
            access.close();
        }
    }

    private static String lineOf(List<String> lines, String target) {
        String request = "127.0.0.1|GET " + target + " HTTP/1.1|";
        return lines.stream().filter(line -> line.startsWith(request)).findFirst().orElseThrow(
                () -> new AssertionError("no line for " + target + " in " + lines));
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}
