package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code if} with {@code return} and {@code rewrite}, and its server-level rewrites, as configurations copied
 * from nginx write them, on a real edge and a real php-fpm: the canonical host's redirect, the methods a site takes, a
 * map's bot closed unanswered, a legacy path redirected, a feed's pretty URL routed to PHP with its arguments, and a
 * location's own if.
 */
class IfRewriteIT {

    @TempDir
    Path dir;

    @Test
    void serverAndLocationIfsAnswerOrHandOnAsNginxs() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), """
                <?php echo $_SERVER['SCRIPT_NAME'], ' ', $_SERVER['QUERY_STRING'], ' ', $_SERVER['REQUEST_URI'], ' ',
                    $_GET['feed'];""");
        Files.writeString(www.resolve("page.html"), "a page");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.maps.is_bot { source = "$http_user_agent", default = "0", values = [
                       { match = "~*badbot", value = "1" }
                     ] }
                     sites = [{ server-names = ["example.com", "www.example.com"], default = true, root = "www"
                       rewrites = [
                         { if = "$host != example.com", return = "301 https://example.com$request_uri" }
                         { if = "$request_method !~ ^(GET|HEAD|POST)$", return = 405 }
                         { if = "($is_bot)", return = 444 }
                         { rewrite = "^/old/(.*)$ /new/$1 permanent" }
                         { rewrite = "^/feed$ /index.php?feed=rss last" }
                       ]
                       locations = [
                         { match = "/", rewrites = [
                           { if = "$arg_debug", return = "403 no debugging" }
                           { if = "$http_x_lang ~ ^(en|fr)$", return = "302 /$1/" }
                         ] }
                         { match = "~ \\\\.php$", fastcgi = php }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            RawHttpClient.Response other = get(edge, "GET /a/b?c=1 HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
            assertThat(other.status()).isEqualTo(301);
            assertThat(other.header("location")).isEqualTo("https://example.com/a/b?c=1");

            assertThat(get(edge, "DELETE /page.html HTTP/1.1\r\nHost: example.com\r\n\r\n").status()).isEqualTo(405);

            try (RawHttpClient bot = new RawHttpClient(edge.address())) {
                bot.send("GET /page.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla BadBot/2\r\n\r\n");
                assertThat(bot.isClosedByPeer()).as("444: closed without an answer").isTrue();
            }

            RawHttpClient.Response moved = get(edge, "GET /old/x/y.html?utm=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
            assertThat(moved.status()).isEqualTo(301);
            assertThat(moved.header("location")).as("the query appended, as nginx's rewrite ... permanent")
                    .isEqualTo("http://example.com:" + edge.address().getPort() + "/new/x/y.html?utm=1");

            RawHttpClient.Response feed = get(edge, "GET /feed?page=2 HTTP/1.1\r\nHost: example.com\r\n\r\n");
            assertThat(feed.status()).isEqualTo(200);
            assertThat(feed.text()).as("routed again to PHP, its query and the sent URI as nginx's")
                    .isEqualTo("/index.php feed=rss&page=2 /feed?page=2 rss");

            RawHttpClient.Response page = get(edge, "GET /page.html HTTP/1.1\r\nHost: example.com\r\n\r\n");
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.text()).isEqualTo("a page");
            RawHttpClient.Response debug = get(edge, "GET /page.html?debug=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
            assertThat(debug.status()).as("the location's if").isEqualTo(403);
            assertThat(debug.text()).isEqualTo("no debugging");
            assertThat(get(edge, "GET /page.html?debug=0 HTTP/1.1\r\nHost: example.com\r\n\r\n").status())
                    .as("\"0\" is false, as nginx's").isEqualTo(200);
            RawHttpClient.Response lang = get(edge,
                    "GET /page.html HTTP/1.1\r\nHost: example.com\r\nX-Lang: fr\r\n\r\n");
            assertThat(lang.status()).isEqualTo(302);
            assertThat(lang.header("location")).as("the if regex's capture")
                    .isEqualTo("http://example.com:" + edge.address().getPort() + "/fr/");
        }
    }

    @Test
    void rewritesWithoutAFlagChainAndACycleIs500() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("c.html"), "c");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  rewrites = [
                    { rewrite = "^/a$ /b" }
                    { rewrite = "^/b$ /c.html" }
                  ]
                  locations = [
                    { match = "/" }
                    { match = "/loop/", rewrites = [{ rewrite = "^/loop/(.*)$ /loop/$1 last" }] }
                  ] }]
                """)) {
            RawHttpClient.Response chained = get(edge, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(chained.status()).isEqualTo(200);
            assertThat(chained.text()).as("the second rewrite met the first one's URI").isEqualTo("c");
            assertThat(get(edge, "GET /loop/x HTTP/1.1\r\nHost: x\r\n\r\n").status())
                    .as("nginx's cycle limit").isEqualTo(500);
        }
    }

    @Test
    void aScriptFoundUnderAnotherLocationsUriMeetsThatLocationsRewrites() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("admin"));
        Files.writeString(www.resolve("admin/index.php"), "<?php echo 'admin ', $_SERVER['PATH_INFO'] ?? '';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"]
                       locations = [
                         { match = "/", fastcgi = php, split-path-info = "^(.+\\\\.php)(/.*)$" }
                         { match = "~ ^/admin/.*\\\\.php$", fastcgi = php, rewrites = [
                           { if = "$http_x_admin != yes", return = "403 admins only" }
                         ] }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "GET /admin/index.php HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(403);
            // nginx's internal redirect to /admin/index.php meets that location's if, as the request for it does
            RawHttpClient.Response index = get(edge, "GET /admin/ HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(index.status()).as("the directory's index.php, its location's if").isEqualTo(403);
            assertThat(index.text()).isEqualTo("admins only");
            RawHttpClient.Response pathInfo = get(edge, "GET /admin/index.php/x HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(pathInfo.status()).as("the script part of a path with PATH_INFO").isEqualTo(403);
            RawHttpClient.Response admin = get(edge,
                    "GET /admin/index.php/x HTTP/1.1\r\nHost: x\r\nX-Admin: yes\r\n\r\n");
            assertThat(admin.status()).isEqualTo(200);
            assertThat(admin.text()).isEqualTo("admin /x");
        }
    }

    @Test
    void aReloadChangesTheRewritesOfNewRequests() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.html"), "a");
        Files.writeString(www.resolve("b.html"), "b");
        String config = """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  rewrites = [{ rewrite = "^/go$ /%s.html last" }]
                  locations = [
                    { match = "/", rewrites = [{ if = "$arg_x", return = "%s" }] }
                  ] }]
                """;
        try (EdgeHarness edge = EdgeHarness.start(dir, config.formatted("a", "403"))) {
            assertThat(get(edge, "GET /go HTTP/1.1\r\nHost: x\r\n\r\n").text()).isEqualTo("a");
            assertThat(get(edge, "GET /a.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(403);

            edge.reload(config.formatted("b", "410"));
            assertThat(get(edge, "GET /go HTTP/1.1\r\nHost: x\r\n\r\n").text()).as("the site's").isEqualTo("b");
            assertThat(get(edge, "GET /a.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").status()).as("the location's")
                    .isEqualTo(410);
        }
    }

    /**
     * A site's rewrites are met again at each internal redirect, as nginx's: the directory's index file of the very
     * location, and the PHP script a location of files' front controller names (they were met once, for the request's
     * URI). Checked beside nginx 1.22: "rewrite ^/dir/index\.html$ /other.html last;" in the server block answers
     * /dir/ with other.html.
     */
    @Test
    void aSitesRewritesAreMetAgainAtAnIndexAndAFrontController() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("dir"));
        Files.writeString(www.resolve("dir/index.html"), "dir index");
        Files.writeString(www.resolve("other.html"), "other");
        Files.writeString(www.resolve("index.php"), "<?php echo 'index ', $_SERVER['REQUEST_URI'];");
        Files.writeString(www.resolve("front.php"), "<?php echo 'front ', $_SERVER['REQUEST_URI'], ' ',"
                + " $_SERVER['DOCUMENT_URI'];");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www"
                       rewrites = [
                         { rewrite = "^/dir/index\\\\.html$ /other.html last" }
                         { rewrite = "^/index\\\\.php$ /front.php last" }
                       ]
                       locations = [
                         { match = "/", front-controller = "/index.php" }
                         { match = "~ \\\\.php$", fastcgi = php }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n").text()).as("the index's URI rewritten")
                    .isEqualTo("other");
            assertThat(get(edge, "GET /pretty?a=1 HTTP/1.1\r\nHost: x\r\n\r\n").text())
                    .as("the front controller's URI rewritten").isEqualTo("front /pretty?a=1 /front.php");
        }
    }

    /**
     * A PHP location's own front controller and index are found by nginx's internal redirect, whose URI meets the
     * location's rewrites again with $uri the script's: "location / { if ($uri = /index.php) { return 200 ...; }
     * try_files $uri /index.php?$args; fastcgi_pass ...; }" answers /pretty "front at /index.php" in nginx 1.22. They
     * ran the script, the location's rewrites met for the request's URI alone.
     */
    @Test
    void aPhpLocationsFrontControllerAndIndexMeetItsRewritesWithTheScriptsUri() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php echo 'index ', $_SERVER['REQUEST_URI'];");
        Files.createDirectories(www.resolve("sub"));
        Files.writeString(www.resolve("sub/index.php"), "<?php echo 'sub ', $_SERVER['REQUEST_URI'];");
        Files.writeString(www.resolve("a.php"), "<?php echo 'a ', $_SERVER['PATH_INFO'];");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"]
                       locations = [
                         { match = "/", fastcgi = php, front-controller = "/index.php", rewrites = [
                           { if = "$uri = /index.php", return = "200 front at $uri" }
                           { if = "$uri = /sub/index.php", return = "200 index at $uri" }
                         ] }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "GET /pretty HTTP/1.1\r\nHost: x\r\n\r\n").text()).as("the front controller's")
                    .isEqualTo("front at /index.php");
            assertThat(get(edge, "GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\n").text()).as("the index's")
                    .isEqualTo("index at /sub/index.php");
            assertThat(get(edge, "GET /a.php/x HTTP/1.1\r\nHost: x\r\n\r\n").text())
                    .as("a path with PATH_INFO is no redirect, in nginx neither").isEqualTo("a /x");
        }
    }

    /**
     * A body is held to the limit of the location a site's rewrite routes it to, as nginx checks client_max_body_size
     * in the location it finds: "client_max_body_size 10;" in the server and 1m in "location /upload/" take a body of
     * 26 bytes to /big rewritten to /upload/big in nginx 1.22. It was 413, held to the first location's.
     */
    @Test
    void aBodyIsHeldToTheLimitOfTheLocationASitesRewriteFinds() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("upload"));
        Files.writeString(www.resolve("upload/up.php"), "<?php echo strlen(file_get_contents('php://input'));");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www"
                       rewrites = [{ rewrite = "^/big$ /upload/up.php last" }]
                       locations = [
                         { match = "/", body-limit = 10 }
                         { match = "/upload/", fastcgi = php, body-limit = 1 MiB }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            String body = "abcdefghijklmnopqrstuvwxyz";
            RawHttpClient.Response big = get(edge, "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body);
            assertThat(big.status()).isEqualTo(200);
            assertThat(big.text()).isEqualTo("26");
            assertThat(get(edge, "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body).status()).isEqualTo(413);
        }
    }

    private static RawHttpClient.Response get(EdgeHarness edge, String raw) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            return client.send(raw).read(raw.startsWith("HEAD "));
        }
    }
}
