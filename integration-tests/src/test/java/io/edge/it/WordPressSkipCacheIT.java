package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The most copied nginx configuration for WordPress with fastcgi_cache, translated whole: {@code set $skip_cache} in
 * the site's rewrites, {@code fastcgi_cache_bypass} and {@code fastcgi_no_cache} as cache.responses' bypass and
 * no-cache, on a real edge and a real php-fpm. A POST, a query, a logged-in cookie and /wp-admin/ run the script every
 * time (BYPASS) and store nothing; a plain GET is stored (its second answer a HIT). A no-cache of its own keeps a
 * page out of the cache without stopping the hits of one stored before. Each BYPASS is counted on the status page.
 */
class WordPressSkipCacheIT {

    @TempDir
    Path dir;

    @Test
    void theSkipCacheBlockBypassesAndStoresNothingWhereNginxsDoes() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        String script = """
                <?php
                $f = __DIR__ . '/runs.txt';
                $n = (int) @file_get_contents($f) + 1;
                file_put_contents($f, $n);
                echo $_SERVER['SCRIPT_NAME'], ' run=', $n;
                """;
        Files.writeString(www.resolve("page.php"), script);
        Files.writeString(www.resolve("other.php"), script);
        Files.writeString(www.resolve("fresh.php"), script);
        Files.writeString(Files.createDirectories(www.resolve("wp-admin")).resolve("index.php"),
                script.replace("__DIR__", "dirname(__DIR__)"));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www"
                       rewrites = [
                         { set = "$skip_cache 0" }
                         { if = "$request_method = POST", set = "$skip_cache 1" }
                         { if = "$query_string != \\"\\"", set = "$skip_cache 1" }
                         { if = "$request_uri ~* \\"/wp-admin/|/xmlrpc.php|wp-.*.php|/feed/|index.php|sitemap(_index)?.xml\\"", set = "$skip_cache 1" }
                         { if = "$http_cookie ~* \\"comment_author|wordpress_[a-f0-9]+|wp-postpass|wordpress_no_cache|wordpress_logged_in\\"", set = "$skip_cache 1" }
                       ]
                       locations = [
                         { match = "~ \\\\.php$", fastcgi = php, cache = true,
                           headers { X-Cache = "$upstream_cache_status", X-Skip = "$skip_cache" } }
                         { match = "= /edge-status", status = true }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     cache.responses { valid { 200 = 10 m }, bypass = ["$skip_cache"],
                       no-cache = ["$skip_cache", "$cookie_nostore"] }
                     """.formatted(fpm.address()))) {
            RawHttpClient.Response first = get(edge, "GET /page.php HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(first.text()).isEqualTo("/page.php run=1");
            assertThat(first.header("x-cache")).isEqualTo("MISS");
            assertThat(first.header("x-skip")).isEqualTo("0");
            RawHttpClient.Response hit = get(edge, "GET /page.php HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(hit.text()).as("a plain GET is stored").isEqualTo("/page.php run=1");
            assertThat(hit.header("x-cache")).isEqualTo("HIT");

            for (int run = 2; run <= 3; run++) {
                RawHttpClient.Response query = get(edge, "GET /page.php?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(query.text()).as("a query: the script each time").isEqualTo("/page.php run=" + run);
                assertThat(query.header("x-cache")).isEqualTo("BYPASS");
                assertThat(query.header("x-skip")).isEqualTo("1");
            }
            for (int run = 4; run <= 5; run++) {
                RawHttpClient.Response admin = get(edge, "GET /wp-admin/index.php HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThat(admin.status()).isEqualTo(200);
                assertThat(admin.text()).as("/wp-admin/").isEqualTo("/wp-admin/index.php run=" + run);
                assertThat(admin.header("x-cache")).isEqualTo("BYPASS");
            }
            for (int run = 6; run <= 7; run++) {
                RawHttpClient.Response post = get(edge, "POST /other.php HTTP/1.1\r\nHost: a\r\n"
                        + "Content-Length: 0\r\n\r\n");
                assertThat(post.text()).as("a POST").isEqualTo("/other.php run=" + run);
            }
            for (int run = 8; run <= 9; run++) {
                RawHttpClient.Response loggedIn = get(edge, "GET /other.php HTTP/1.1\r\nHost: a\r\n"
                        + "Cookie: wordpress_logged_in_5f3a=admin%7C1\r\n\r\n");
                assertThat(loggedIn.text()).as("logged in").isEqualTo("/other.php run=" + run);
                assertThat(loggedIn.header("x-cache")).isEqualTo("BYPASS");
            }
            assertThat(get(edge, "GET /edge-status?format=prometheus HTTP/1.1\r\nHost: a\r\n\r\n").text().lines())
                    .as("every BYPASS answer counted, as nginx's $upstream_cache_status BYPASS: not the POSTs, never"
                            + " looked up")
                    .contains("edge_response_cache_bypasses_total 6");
            RawHttpClient.Response anonymous = get(edge, "GET /other.php HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(anonymous.text()).as("nothing the bypasses answered was stored").isEqualTo("/other.php run=10");
            assertThat(anonymous.header("x-cache")).isEqualTo("MISS");
            assertThat(get(edge, "GET /other.php HTTP/1.1\r\nHost: a\r\n\r\n").text()).isEqualTo("/other.php run=10");

            RawHttpClient.Response unstored = get(edge, "GET /fresh.php HTTP/1.1\r\nHost: a\r\nCookie: nostore=1"
                    + "\r\n\r\n");
            assertThat(unstored.text()).isEqualTo("/fresh.php run=11");
            assertThat(unstored.header("x-cache")).as("no-cache alone: looked up, a miss").isEqualTo("MISS");
            RawHttpClient.Response after = get(edge, "GET /fresh.php HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(after.text()).as("no-cache: its answer was not stored").isEqualTo("/fresh.php run=12");
            assertThat(after.header("x-cache")).isEqualTo("MISS");
            RawHttpClient.Response stillHit = get(edge, "GET /fresh.php HTTP/1.1\r\nHost: a\r\nCookie: nostore=1"
                    + "\r\n\r\n");
            assertThat(stillHit.text()).as("no-cache: what is stored still answers").isEqualTo("/fresh.php run=12");
            assertThat(stillHit.header("x-cache")).isEqualTo("HIT");
        }
    }

    private static RawHttpClient.Response get(EdgeHarness edge, String raw) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            return client.send(raw).read();
        }
    }
}
