package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code return} (nginx's return: redirects, fixed answers, 444) and {@code access} (nginx's allow and
 * deny), on a real edge with real files and a real php-fpm. The client address the access rules judge is varied by
 * X-Forwarded-For from loopback, which real-ip trusts here.
 */
class ReturnAccessIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;

    @Test
    void aReturnRedirectsOrAnswersEveryRequestOfItsLocation() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www/errors"));
        Files.writeString(www.resolve("gone.html"), "<h1>that page is gone</h1>");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["shop.example"], default = true, root = "www",
                  error-pages { 410 = "/errors/gone.html" }, locations = [
                  { match = "/" }
                  { match = "/old/", return = "301 https://new.example$request_uri" }
                  { match = "~ ^/product/([0-9]+)/(?<slug>[^/]+)$", return = "301 /shop/$1/$slug$is_args$args",
                    expires = 1 h }
                  { match = "= /healthz", return = "200 ok from $server_name for $remote_addr, page $arg_page\\n" }
                  { match = "= /api/ping", return = "200 {\\"pong\\":true}", headers { Content-Type = application/json } }
                  { match = "= /retired", return = 410 }
                  { match = "= /busy", return = 503 }
                  { match = "= /elsewhere", return = "https://other.example/" }
                ] }]
                """)) {
            HttpResponse<String> old = send(edge, "GET", "/old/list?sort=price");
            assertThat(old.statusCode()).isEqualTo(301);
            assertThat(old.headers().firstValue("location")).contains("https://new.example/old/list?sort=price");
            assertThat(old.body()).as("a page saying so, as nginx's (edge's layout)")
                    .contains("<title>301 Moved Permanently</title>");
            assertThat(old.headers().firstValue("content-type")).contains("text/html; charset=utf-8");

            HttpResponse<String> product = send(edge, "GET", "/product/12/red%20shoe?c=2");
            assertThat(product.statusCode()).isEqualTo(301);
            assertThat(product.headers().firstValue("location")).as("captures of the decoded path, encoded again")
                    .contains(edge.uri("/shop/12/red%20shoe?c=2").toString());
            assertThat(product.headers().firstValue("cache-control")).as("expires goes with it")
                    .contains("max-age=3600");
            assertThat(send(edge, "GET", "/product/7/a%0D%0ASet-Cookie:%20x=1").headers().map())
                    .as("a capture cannot split the head").doesNotContainKey("set-cookie")
                    .containsEntry("location", java.util.List.of(edge.uri("/shop/7/a%0D%0ASet-Cookie:%20x=1").toString()));

            HttpResponse<String> health = send(edge, "GET", "/healthz?page=3");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).isEqualTo("ok from shop.example for 127.0.0.1, page 3\n");
            assertThat(health.headers().firstValue("content-type")).contains("text/plain; charset=utf-8");
            HttpResponse<String> head = send(edge, "HEAD", "/healthz?page=3");
            assertThat(head.body()).isEmpty();
            assertThat(head.headers().firstValue("content-length")).contains("43");

            HttpResponse<String> ping = send(edge, "GET", "/api/ping");
            assertThat(ping.body()).isEqualTo("{\"pong\":true}");
            assertThat(ping.headers().allValues("content-type")).as("the location's type, once")
                    .containsExactly("application/json");

            HttpResponse<String> retired = send(edge, "GET", "/retired");
            assertThat(retired.statusCode()).isEqualTo(410);
            assertThat(retired.body()).as("the site's error page for it").isEqualTo("<h1>that page is gone</h1>");
            HttpResponse<String> busy = send(edge, "GET", "/busy");
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.headers().firstValue("retry-after")).as("maintenance: come back").isPresent();

            HttpResponse<String> elsewhere = send(edge, "GET", "/elsewhere");
            assertThat(elsewhere.statusCode()).as("a URL alone: 302, as nginx").isEqualTo(302);
            assertThat(elsewhere.headers().firstValue("location")).contains("https://other.example/");

            assertThat(send(edge, "DELETE", "/old/x").statusCode()).as("whatever the method").isEqualTo(301);
            assertThat(send(edge, "TRACE", "/healthz").statusCode()).as("but TRACE, refused everywhere").isEqualTo(405);
        }
    }

    /**
     * A redirect meant as a path stays on this host: "301 /$1" with a capture of "/evil.com/x" made "//evil.com/x",
     * which a browser follows to evil.com (an open redirect through a rule ported from nginx, where the same rule
     * redirects to "http://host//evil.com/x"); a backslash there too ("/\\evil.com", browsers read it as "//"). A URL
     * configured to start with "//" goes as written.
     */
    @Test
    void aRedirectMeantAsAPathIsNeverToAnotherHost() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "~ ^/legacy(.*)$", return = "301 /$1" }
                  { match = "/", return = "302 $request_uri" }
                  { match = "= /cdn", return = "301 //cdn.example/x" }
                ] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            String self = "http://a:" + edge.address().getPort(); // absolute-redirect: on this host, as nginx's
            for (String path : List.of("/legacy/evil.com/path", "/legacy//evil.com/path", "/a/../legacy/evil.com/path",
                    "/%6cegacy/evil.com/path")) {
                client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
                RawHttpClient.Response moved = client.read();
                assertThat(moved.status()).as(path).isEqualTo(301);
                assertThat(moved.header("location")).as(path).isEqualTo(self + "/evil.com/path");
            }
            client.send("GET /\\evil.com HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.read().header("location")).as("a backslash after it").isEqualTo(self + "/evil.com");
            client.send("GET /ok/\\x HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.read().header("location")).as("a path").isEqualTo(self + "/ok/\\x");
            client.send("GET /cdn HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.read().header("location")).as("configured so").isEqualTo("//cdn.example/x");
        }
    }

    /**
     * $host of a request without a Host (HTTP/1.0), on a site without a name, is the address it came to, written as a
     * Host carries it: an IPv6 one in brackets, "http://[::1]/x". Bare, "http://::1/x" was no URL a client can follow
     * (nginx, whose $host is the empty name there, sends "http:///x").
     */
    @Test
    void hostFromAnIpv6AddressKeepsItsBracketsInARedirect() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.listen = ["[::1]:0"]
                sites = [{ root = "www", locations = [{ match = "/", return = "301 http://$host$request_uri" }] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertThat(client.read().header("location")).isEqualTo("http://[::1]/x");
            client.send("GET /y HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
            assertThat(client.read().header("location")).as("a Host's, without its port").isEqualTo("http://[::1]/y");
        }
    }

    /**
     * A return's 2xx is judged by the request's preconditions as RFC 9110 13.2.1 has it (nginx judges a 200's, but
     * whatever the method): without validators, If-Match holds for "*" only and If-None-Match: * is a 304 to a GET
     * (412 to a POST); an OPTIONS (a CORS preflight), a redirect or an error is not judged.
     */
    @Test
    void aReturnsTwoHundredIsJudgedByThePreconditionsAndARedirectIsNot() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "= /healthz", return = "200 ok" }
                  { match = "= /moved", return = "301 /elsewhere" }
                ] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\n\r\n");
            assertThat(client.read().status()).isEqualTo(412);
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\nIf-None-Match: *\r\n\r\n");
            RawHttpClient.Response held = client.read();
            assertThat(held.status()).isEqualTo(304);
            assertThat(held.body()).isEmpty();
            client.send("POST /healthz HTTP/1.1\r\nHost: a\r\nIf-None-Match: *\r\nContent-Length: 0\r\n\r\n");
            assertThat(client.read().status()).isEqualTo(412);
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\nIf-Match: *\r\n"
                    + "If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT\r\n\r\n");
            RawHttpClient.Response ok = client.read();
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.text()).isEqualTo("ok");
            client.send("OPTIONS /healthz HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\n\r\n");
            assertThat(client.read().status()).as("an OPTIONS is not judged").isEqualTo(200);
            client.send("GET /moved HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\n\r\n");
            assertThat(client.read().status()).as("not a 2xx: not judged").isEqualTo(301);
        }
    }

    @Test
    void aReturnLeavesAPostsBodyUnreadAndTheConnectionServesTheNextRequest() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", return = "308 https://secure.example$request_uri" }
                ] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            String body = "x".repeat(5000);
            client.send("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length() + "\r\n\r\n" + body
                    + "GET /next?q=1 HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response post = client.read();
            assertThat(post.status()).isEqualTo(308);
            assertThat(post.header("location")).isEqualTo("https://secure.example/form");
            RawHttpClient.Response next = client.read();
            assertThat(next.status()).as("the body was framed and dropped, not read as a request").isEqualTo(308);
            assertThat(next.header("location")).isEqualTo("https://secure.example/next?q=1");
        }
    }

    @Test
    void return444ClosesTheConnectionWithoutAnAnswerAndTheLogSays444() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.access-log = "-"
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "~ \\\\.(asp|cgi)$", return = 444 }
                ] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /admin.asp HTTP/1.1\r\nHost: a\r\n\r\nGET /other HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.isClosedByPeer()).as("no byte of an answer, and none for the next request").isTrue();
            Awaits.await(() -> access.lines().stream().anyMatch(line -> line.contains("\"GET /admin.asp HTTP/1.1\" 444 0")),
                    "the access log's 444");
            assertThat(access.lines()).noneMatch(line -> line.contains("/other"));
        } finally {
            access.close();
        }
    }

    @Test
    void accessRulesDecideByTheClientFirstMatchWinsAndNothingRunsForARefusedOne() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("admin"));
        Files.writeString(www.resolve("admin/panel.html"), "panel");
        Files.writeString(www.resolve("public.html"), "public");
        Files.writeString(www.resolve("ran.php"), """
                <?php file_put_contents(__DIR__ . '/ran-' . $_SERVER['REMOTE_ADDR'], 'x'); echo 'ran';""");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     location-defaults.access = ["deny 192.0.2.0/24"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" }
                       { match = "/admin/", access = ["allow 198.51.100.0/24", "allow 2001:db8::/32", "deny all"] }
                       { match = "~ \\\\.php$", fastcgi = php, access = ["deny 203.0.113.9"] }
                       { match = "/secret/", access = ["deny all"], return = "200 the secret" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(edge.getFrom("198.51.100.7", "/admin/panel.html").body()).isEqualTo("panel");
            assertThat(edge.getFrom("2001:db8::1", "/admin/panel.html").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("203.0.113.9", "/admin/panel.html").statusCode()).isEqualTo(403);
            assertThat(edge.getFrom("203.0.113.9", "/admin/missing.html").statusCode())
                    .as("refused before the file is looked up: no 404 tells what exists").isEqualTo(403);
            assertThat(edge.getFrom("203.0.113.9", "/public.html").body()).as("location-defaults' rules there")
                    .isEqualTo("public");
            assertThat(edge.getFrom("192.0.2.5", "/public.html").statusCode()).isEqualTo(403);
            assertThat(edge.getFrom("192.0.2.5", "/admin/panel.html").statusCode())
                    .as("a location's own list replaces the defaults'").isEqualTo(403);

            assertThat(edge.getFrom("198.51.100.7", "/ran.php").body()).isEqualTo("ran");
            HttpResponse<String> refused = edge.getFrom("203.0.113.9", "/ran.php");
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(www.resolve("ran-198.51.100.7")).exists();
            assertThat(www.resolve("ran-203.0.113.9")).as("the script never ran for the refused client").doesNotExist();

            assertThat(edge.getFrom("198.51.100.7", "/secret/").statusCode())
                    .as("access is judged before the return answers (nginx's return would come first)").isEqualTo(403);
        }
    }

    @Test
    void accessRulesHoldAfterAnInternalRedirectAndForAnXAccelRedirectsLocation() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("app"));
        Files.writeString(www.resolve("app/index.html"), "the app");
        Files.writeString(www.resolve("download.php"), """
                <?php header('X-Accel-Redirect: /protected/report.pdf'); header('Content-Type: application/pdf');""");
        Path vault = Files.createDirectories(dir.resolve("vault/protected"));
        Files.writeString(vault.resolve("report.pdf"), "%PDF members only");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", front-controller = "/app/index.html" }
                       { match = "/app/", access = ["deny 203.0.113.0/24"] }
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /protected/", root = "vault", internal = true,
                         access = ["allow 198.51.100.0/24", "deny all"] }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(edge.getFrom("198.51.100.7", "/some/route").body()).isEqualTo("the app");
            assertThat(edge.getFrom("203.0.113.9", "/some/route").statusCode())
                    .as("the front controller's location refuses this client").isEqualTo(403);

            HttpResponse<String> member = edge.getFrom("198.51.100.7", "/download.php");
            assertThat(member.statusCode()).isEqualTo(200);
            assertThat(member.body()).isEqualTo("%PDF members only");
            assertThat(edge.getFrom("203.0.113.9", "/download.php").statusCode())
                    .as("the X-Accel-Redirect's location refuses this client, as nginx's internal redirect")
                    .isEqualTo(403);
        }
    }

    /**
     * A FastCGI location finds scripts under other URIs than the request's (a directory's index, its front controller,
     * the script part of a path with PATH_INFO): where such a URI is another location's, that location's access rules
     * hold, and a return there answers, as after nginx's internal redirect (the review of this change ran a PHP file in
     * a denied uploads directory through its index).
     */
    @Test
    void aScriptAFastCgiLocationFindsUnderAnotherUriIsHeldToThatUrisLocation() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("uploads/evil"));
        Files.writeString(www.resolve("uploads/evil/index.php"), "<?php echo 'EVIL RAN';");
        Files.writeString(www.resolve("uploads/evil2.php"), "<?php echo 'EVIL2 RAN';");
        Files.writeString(www.resolve("index.php"), "<?php echo 'front controller';");
        Files.writeString(www.resolve("legacy.php"), "<?php echo 'legacy ran';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"], locations = [
                       { match = "/", fastcgi = php, front-controller = "/index.php" }
                       { match = "~* /uploads/.*\\\\.php$", access = ["deny all"] }
                       { match = "= /index.php", fastcgi = php, access = ["allow 198.51.100.0/24", "deny all"] }
                       { match = "= /legacy.php", return = 410 }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(edge.getFrom("198.51.100.7", "/uploads/evil/").statusCode()).as("a directory's index").isEqualTo(403);
            assertThat(edge.getFrom("198.51.100.7", "/uploads/evil2.php/x").statusCode()).as("a script with PATH_INFO")
                    .isEqualTo(403);
            assertThat(edge.getFrom("198.51.100.7", "/some/route").body()).isEqualTo("front controller");
            assertThat(edge.getFrom("203.0.113.9", "/some/route").statusCode()).as("the front controller's location")
                    .isEqualTo(403);
            assertThat(edge.getFrom("198.51.100.7", "/legacy.php/more").statusCode()).as("a return there answers")
                    .isEqualTo(410);
        }
    }

    @Test
    void aPipelined444ClosesOnlyAfterTheAnswerBeforeItWentOutWhole() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        byte[] big = new byte[8 << 20];
        java.util.Arrays.fill(big, (byte) 'b');
        Files.write(www.resolve("big.bin"), big);
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "~ \\\\.asp$", return = 444 }
                ] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address(), 16 * 1024)) {
            client.send("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /x.asp HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response file = client.read();
            assertThat(file.status()).isEqualTo(200);
            assertThat(file.body()).as("every byte, not what was queued when the 444 came").hasSize(big.length);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void aRequestsOwnBytesAndTheConfigurationsNonAsciiGoOutAsUtf8() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/old/", return = "301 https://new.example$request_uri" }
                  { match = "= /cafe", return = "301 /café/$arg_q" }
                  { match = "= /echo", return = "200 $http_x_name and $remote_addr" }
                ] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address())) {
            java.nio.charset.Charset utf8 = java.nio.charset.StandardCharsets.UTF_8;
            client.send("GET /old/caf\u00e9?q=\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(utf8));
            assertThat(client.read().header("location")).isEqualTo("https://new.example/old/caf%C3%A9?q=%C3%A9");
            client.send("GET /cafe?q=\u65e5 HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(utf8));
            assertThat(client.read().header("location"))
                    .isEqualTo("http://a:" + edge.address().getPort() + "/caf%C3%A9/%E6%97%A5");
            client.send("GET /echo HTTP/1.1\r\nHost: a\r\nX-Name: \u65e5\u672c\r\n\r\n".getBytes(utf8));
            assertThat(new String(client.read().body(), utf8)).isEqualTo("\u65e5\u672c and 127.0.0.1");
        }
    }

    @Test
    void aPrefixPurgeIsHeldToTheAccessRulesOfTheLocationThatTakesIt() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("page.php"), "<?php header('Cache-Control: public, max-age=60'); echo 'page';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, cache = true, access = ["deny 127.0.0.1"] }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(send(edge, "PURGE", "/page.php").statusCode()).isEqualTo(403);
            assertThat(send(edge, "PURGE", "/*").statusCode()).as("a prefix, which names no location's path")
                    .isEqualTo(403);
        }
    }

    private static HttpResponse<String> send(EdgeHarness edge, String method, String target) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(target)).method(method, HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
