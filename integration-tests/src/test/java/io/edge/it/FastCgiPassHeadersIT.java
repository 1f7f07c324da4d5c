package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FastCGI location's fastcgi-pass-headers (nginx's fastcgi_pass_header) in front of a real php-fpm, the response
 * cache on: {@code /pass/} passes X-Accel-Expires, X-Accel-Limit-Rate, Status and X-Accel-Charset, {@code /hidden/}
 * passes none. nginx 1.22 with php-fpm 8.2 (fastcgi_cache, fastcgi_pass_header X-Accel-Expires, X-Accel-Limit-Rate and
 * Status): the MISS and the HIT both carry {@code X-Accel-Expires: 60}, the two X-Accel-Limit-Rate lines as the script
 * sent them and {@code Status: 203 Made Up}; without the directive, neither carries any.
 */
class FastCgiPassHeadersIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        // counts its runs; two X-Accel-Limit-Rate lines, the last a number (0: no pace) setting the pace; a 203, which
        // the location's headers do not reach (nginx's add_header): X-Cache is an always-header
        String script = """
                <?php
                $f = __DIR__ . '/../runs-' . basename(__DIR__) . '.txt';
                $n = (int) @file_get_contents($f) + 1;
                file_put_contents($f, $n);
                header('X-Accel-Expires: 60');
                header('X-Accel-Limit-Rate: 1000000');
                header('X-Accel-Limit-Rate: 0', false);
                header('X-Accel-Buffering: yes');
                header('X-Accel-Charset: utf-8');
                header('Status: 203 Made Up');
                echo 'run=', $n;
                """;
        for (String location : List.of("pass", "hidden")) {
            Files.writeString(Files.createDirectories(dir.resolve("www").resolve(location)).resolve("page.php"), script);
        }
        // stored in need of a revalidation before every use; its 304 (a Status line from php-fpm) comes with another
        // X-Accel-Charset
        Files.writeString(dir.resolve("www/pass/revalidated.php"), """
                <?php
                header('Cache-Control: no-cache');
                header('ETag: "v1"');
                if (($_SERVER['HTTP_IF_NONE_MATCH'] ?? '') === '"v1"') {
                    header('Status: 304 Not Modified');
                    exit;
                }
                header('X-Accel-Charset: utf-8');
                echo 'v1';
                """);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/pass/", fastcgi = php, cache = true,
                      fastcgi-pass-headers = ["X-Accel-Expires", "x-accel-limit-rate", "Status", "X-Accel-Charset"],
                      always-headers { X-Cache = "$upstream_cache_status" } }
                    { match = "/hidden/", fastcgi = php, cache = true,
                      always-headers { X-Cache = "$upstream_cache_status" } }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        try {
            if (edge != null) {
                edge.close();
            }
        } finally {
            if (fpm != null) {
                fpm.close();
            }
        }
    }

    /** The lines passed reach the client of the miss and of the hit alike, every one as the script sent it. */
    @Test
    void passedFieldsReachTheMissAndTheHitAsTheScriptSentThem() throws Exception {
        for (String word : List.of("MISS", "HIT")) {
            HttpResponse<String> answer = get("/pass/page.php");
            assertThat(answer.headers().firstValue("x-cache")).contains(word);
            assertThat(answer.body()).as(word).isEqualTo("run=1");
            assertThat(answer.headers().allValues("x-accel-expires")).as(word).containsExactly("60");
            assertThat(answer.headers().allValues("x-accel-limit-rate")).as(word).containsExactly("1000000", "0");
            assertThat(answer.headers().allValues("x-accel-charset")).as(word).containsExactly("utf-8");
            assertThat(answer.statusCode()).as(word).isEqualTo(203);
            assertThat(answer.headers().allValues("status")).as(word).containsExactly("203 Made Up");
            assertThat(answer.headers().allValues("x-accel-buffering")).as(word + ": not passed").isEmpty();
        }
    }

    /**
     * A 304 that revalidates the stored answer leaves its Status out of the renewed head: the 200 goes on without the
     * 304's "Status: 304 Not Modified". It was merged in as any field of the 304, on the revalidated answer and every
     * hit after it. nginx 1.22 (fastcgi_cache_revalidate on, fastcgi_pass_header Status) answers REVALIDATED and HIT
     * with the head it stored, no Status line.
     */
    @Test
    void aRevalidationsStatusLineStaysOutOfTheRenewedHead() throws Exception {
        for (String word : List.of("MISS", "REVALIDATED", "REVALIDATED")) {
            HttpResponse<String> answer = get("/pass/revalidated.php");
            assertThat(answer.headers().firstValue("x-cache")).contains(word);
            assertThat(answer.statusCode()).as(word).isEqualTo(200);
            assertThat(answer.body()).as(word).isEqualTo("v1");
            assertThat(answer.headers().allValues("status")).as(word).isEmpty();
            assertThat(answer.headers().allValues("x-accel-charset")).as(word).containsExactly("utf-8");
        }
    }

    /**
     * A hit in a location that no longer passes the script's Status and X-Accel-Charset (a reload took them out of its
     * fastcgi-pass-headers, the entry carried over) shows neither, as the X-Accel fields it no longer passes. They were
     * stored as any field and went on every hit. nginx 1.22 reads a hit's stored head with its location's
     * fastcgi_pass_header as it is: none passed, none shown.
     */
    @Test
    void aHitWhereTheLocationNoLongerPassesStatusShowsNone() throws Exception {
        Path root = Files.createDirectories(dir.resolve("reload"));
        Files.writeString(Files.createDirectories(root.resolve("www/pass")).resolve("page.php"), """
                <?php
                header('X-Accel-Expires: 60');
                header('X-Accel-Charset: utf-8');
                header('Status: 203 Made Up');
                echo 'reloaded';
                """);
        String conf = """
                sites = [{ server-names = ["_"], default = true, root = "www"
                  locations = [{ match = "/pass/", fastcgi = php, cache = true, fastcgi-pass-headers = [%s],
                                 always-headers { X-Cache = "$upstream_cache_status" } }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """;
        try (EdgeHarness reloaded = EdgeHarness.start(root,
                conf.formatted("\"X-Accel-Expires\", \"Status\", \"X-Accel-Charset\"", fpm.address()))) {
            HttpResponse<String> miss = get(reloaded, "/pass/page.php");
            assertThat(miss.headers().firstValue("x-cache")).contains("MISS");
            assertThat(miss.headers().allValues("status")).containsExactly("203 Made Up");

            reloaded.reload(conf.formatted("", fpm.address()));
            HttpResponse<String> hit = get(reloaded, "/pass/page.php");
            assertThat(hit.headers().firstValue("x-cache")).contains("HIT");
            assertThat(hit.statusCode()).isEqualTo(203);
            assertThat(hit.body()).isEqualTo("reloaded");
            assertThat(hit.headers().map().keySet())
                    .noneMatch(name -> name.toLowerCase().startsWith("x-accel-") || name.equalsIgnoreCase("status"));
        }
    }

    /** A location that passes none hides them all, on the miss and on the hit, and its script still set the time. */
    @Test
    void aLocationThatPassesNoneHidesThemAll() throws Exception {
        for (String word : List.of("MISS", "HIT")) {
            HttpResponse<String> answer = get("/hidden/page.php");
            assertThat(answer.headers().firstValue("x-cache")).contains(word);
            assertThat(answer.body()).as(word).isEqualTo("run=1");
            assertThat(answer.statusCode()).as(word).isEqualTo(203);
            assertThat(answer.headers().map().keySet()).as(word)
                    .noneMatch(name -> name.toLowerCase().startsWith("x-accel-") || name.equalsIgnoreCase("status"));
        }
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return get(edge, path);
    }

    private static HttpResponse<String> get(EdgeHarness edge, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
