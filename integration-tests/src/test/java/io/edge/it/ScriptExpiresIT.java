package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code expires} on scripts' answers, as nginx's headers filter sets it on a fastcgi_pass location's:
 * for 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 it replaces the script's Cache-Control and Expires in what
 * the client gets, while the response cache still judges the script's own (nginx's fastcgi_cache decides before its
 * headers filter runs). Other statuses keep the script's headers. Compared with nginx 1.22.1 and php-fpm 8.2.
 */
class ScriptExpiresIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static final AtomicLong NANOS = new AtomicLong(1);
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        // ?cc=...&cc2=...: two Cache-Control fields; ?exp: an Expires; ?s: a status; ?etag; the body is unique per run.
        String script = """
                <?php
                if (isset($_GET['s'])) { header('Status: ' . $_GET['s']); }
                if (isset($_GET['s']) && $_GET['s'][0] === '3') { header('Location: /elsewhere'); }
                if (isset($_GET['cc'])) { header('Cache-Control: ' . $_GET['cc']); }
                if (isset($_GET['cc2'])) { header('Cache-Control: ' . $_GET['cc2'], false); }
                if (isset($_GET['exp'])) { header('Expires: ' . $_GET['exp']); }
                if (isset($_GET['etag'])) { header('ETag: ' . $_GET['etag']); }
                header('Content-Type: text/plain');
                echo uniqid('', true);
                """;
        Files.writeString(www.resolve("page.php"), script);
        Files.writeString(Files.createDirectories(www.resolve("epoch")).resolve("page.php"), script);
        Files.writeString(Files.createDirectories(www.resolve("plain")).resolve("page.php"), script);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/", fastcgi = php, cache = true, expires = 30 d }
                    { match = "/epoch/", fastcgi = php, expires = epoch }
                    { match = "/plain/", fastcgi = php }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()), NANOS::get);
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static ZonedDateTime date(HttpResponse<?> response, String name) {
        return ZonedDateTime.parse(response.headers().firstValue(name).orElseThrow(() -> new AssertionError(name)),
                DateTimeFormatter.RFC_1123_DATE_TIME);
    }

    /** The location's 30 days in place of whatever the script said: one Cache-Control, one Expires. */
    private static void keptFor30Days(HttpResponse<?> response, String what) {
        assertThat(response.headers().allValues("cache-control")).as(what).containsExactly("max-age=2592000");
        assertThat(response.headers().allValues("expires")).as(what).hasSize(1);
        Duration apart = Duration.between(date(response, "date"), date(response, "expires"));
        assertThat(apart).as(what).isBetween(Duration.ofDays(30).minusSeconds(1), Duration.ofDays(30).plusSeconds(1));
    }

    @Test
    void aScriptsAnswerGoesOutWithTheLocationsExpiresInPlaceOfItsOwn() throws Exception {
        HttpResponse<String> page = get("/page.php?id=own&cc=" + q("private, max-age=5") + "&cc2=must-revalidate&exp="
                + q("Thu, 01 Jan 2037 00:00:00 GMT"));
        assertThat(page.statusCode()).isEqualTo(200);
        keptFor30Days(page, "200");
        for (String status : new String[] {"201", "204", "301", "302", "303", "307", "308"}) {
            HttpResponse<String> answer = get("/page.php?id=s" + status + "&s=" + status + "&cc=private");
            assertThat(answer.statusCode()).isEqualTo(Integer.parseInt(status));
            keptFor30Days(answer, status);
        }
    }

    @Test
    void otherStatusesKeepTheScriptsOwnHeaders() throws Exception {
        for (String status : new String[] {"404", "410", "500", "503"}) {
            HttpResponse<String> answer = get("/page.php?id=k" + status + "&s=" + status + "&cc=" + q("private, max-age=5")
                    + "&exp=" + q("Thu, 01 Jan 2037 00:00:00 GMT"));
            assertThat(answer.statusCode()).isEqualTo(Integer.parseInt(status));
            assertThat(answer.headers().allValues("cache-control")).as(status).containsExactly("private, max-age=5");
            assertThat(answer.headers().allValues("expires")).as(status).containsExactly("Thu, 01 Jan 2037 00:00:00 GMT");
        }
    }

    @Test
    void epochAsksEveryTimeAndNoExpiresLeavesTheScriptsHeaders() throws Exception {
        HttpResponse<String> epoch = get("/epoch/page.php?cc=" + q("public, max-age=600"));
        assertThat(epoch.headers().allValues("cache-control")).containsExactly("no-cache");
        assertThat(epoch.headers().allValues("expires")).containsExactly("Thu, 01 Jan 1970 00:00:01 GMT");
        HttpResponse<String> plain = get("/plain/page.php?cc=" + q("public, max-age=600"));
        assertThat(plain.headers().allValues("cache-control")).containsExactly("public, max-age=600");
        assertThat(plain.headers().allValues("expires")).isEmpty();
    }

    /**
     * A hit goes out fresh for the location's expires from now, as nginx's (which sends no Age of its own): with the
     * cache's Age beside the new max-age, a client's cache (RFC 9111 4.2.3) would keep a page aged 600 s for 600 s
     * less than the location says, and one aged past the location's expires not at all.
     */
    @Test
    void aHitIsFreshForTheLocationsExpiresNotLessTheAgeOfItsEntry() throws Exception {
        String page = "/page.php?id=aged&cc=" + q("public, max-age=36000000");
        HttpResponse<String> miss = get(page);
        NANOS.addAndGet(Duration.ofSeconds(600).toNanos());
        HttpResponse<String> hit = get(page);
        assertThat(hit.body()).as("a hit").isEqualTo(miss.body());
        keptFor30Days(hit, "hit");
        assertThat(hit.headers().firstValue("age")).as("no Age against the location's max-age").isEmpty();
    }

    /**
     * The cache stores and ages the script's answer by the script's own headers (60 s here, not the location's 30 days),
     * and refuses one the script marked private although its client is told max-age; hits and 304s from the cache go
     * out with the location's expires too.
     */
    @Test
    void theResponseCacheJudgesTheScriptsOwnHeadersNotTheLocationsExpires() throws Exception {
        String shared = "/page.php?id=shared&etag=%22e1%22&cc=" + q("public, max-age=60");
        HttpResponse<String> miss = get(shared);
        keptFor30Days(miss, "miss");
        HttpResponse<String> hit = get(shared);
        assertThat(hit.body()).as("a hit").isEqualTo(miss.body());
        keptFor30Days(hit, "hit");
        HttpResponse<String> notModified = get(shared, "If-None-Match", "\"e1\"");
        assertThat(notModified.statusCode()).isEqualTo(304);
        keptFor30Days(notModified, "304 from the cache");
        NANOS.addAndGet(Duration.ofSeconds(61).toNanos());
        HttpResponse<String> expired = get(shared);
        assertThat(expired.body()).as("stale after the script's 60 s: PHP ran again").isNotEqualTo(miss.body());
        keptFor30Days(expired, "after the script's max-age");

        String privatePage = "/page.php?id=private&cc=private";
        HttpResponse<String> first = get(privatePage);
        keptFor30Days(first, "private");
        assertThat(get(privatePage).body()).as("never stored: PHP ran again").isNotEqualTo(first.body());
    }
}
