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
 * A site's {@code error-pages} 416 for a range past the end of a script's answer that the response cache ranges (the
 * miss it cuts as it streams, the hit, an answer too large to store), in front of a real php-fpm, as nginx 1.22's
 * {@code error_page 416} covers its range filter's 416 on a fastcgi_cache answer (measured beside php-fpm 8.2).
 */
class CachedRangePageIT {

    private static final String RANGE_PAGE = "<p>no such range</p>\n";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        PhpScripts.install(www);
        Files.createDirectories(www.resolve("errors"));
        Files.writeString(www.resolve("errors/416.html"), RANGE_PAGE);
        // a download's first ten bytes, then (held until the test releases it, 20 s at most) its last ten; each run
        // counted in runs-<id>
        Files.writeString(www.resolve("held.php"), """
                <?php
                file_put_contents(__DIR__ . '/../runs-' . basename($_GET['id']), 'x', FILE_APPEND | LOCK_EX);
                header('Content-Type: application/octet-stream');
                header('Accept-Ranges: bytes');
                header('Cache-Control: public, max-age=60');
                header('Content-Length: 20');
                echo '0123456789';
                while (ob_get_level() > 0) { ob_end_flush(); }
                flush();
                $release = __DIR__ . '/../release-' . basename($_GET['id']);
                for ($i = 0; $i < 2000 && !file_exists($release); $i++) { usleep(10000); }
                touch(__DIR__ . '/../ended-' . basename($_GET['id']));
                echo 'abcdefghij';
                """);
        // an answer the script compressed itself, whose ranges are of the compressed bytes
        Files.writeString(www.resolve("encoded.php"), """
                <?php
                $body = gzencode(str_repeat("hello world\\n", 100));
                header('Content-Type: text/plain');
                header('Content-Encoding: gzip');
                header('Vary: Accept-Encoding');
                header('Accept-Ranges: bytes');
                header('Cache-Control: public, max-age=60');
                header('Content-Length: ' . strlen($body));
                echo $body;
                """);
        // a page the location's gzip compresses for a client that takes it
        Files.createDirectories(www.resolve("zipped"));
        Files.writeString(www.resolve("zipped/page.php"), """
                <?php
                $body = str_repeat("abcdefghij", 100);
                header('Content-Type: text/html');
                header('Accept-Ranges: bytes');
                header('Cache-Control: public, max-age=60');
                header('Content-Length: ' . strlen($body));
                echo $body;
                """);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                server.listen = ["127.0.0.1:0 http2"]
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  error-pages { 416 = "/errors/416.html" }
                  locations = [
                    { match = "/", fastcgi = php, cache = true, headers { X-Cache = "$upstream_cache_status" } }
                    { match = "^~ /errors/", always-headers { X-Page = "yes" } }
                    { match = "^~ /zipped/", fastcgi = php, cache = true, gzip { enabled = true }
                      headers { X-Cache = "$upstream_cache_status" } }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"] }
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

    private static HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(60))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A URL of {@code cache.php} and the length of its answer's body; {@code hit}: asked for whole first, so that what
     * is asked of it next is a hit.
     */
    private record Answer(String url, long length, boolean hit) {
        /** Asks for the whole answer first when it is to be a hit. */
        Answer stored() throws Exception {
            if (hit) {
                assertThat(send("GET", url).statusCode()).isEqualTo(200);
            }
            return this;
        }
    }

    /**
     * {@code id}'s answer (with {@code extra}, Accept-Ranges: bytes and a Cache-Control that lets it be stored) twice,
     * its miss (a 416's miss stores nothing), then the hit of it stored, then that of "big" and {@code id}, too large to
     * store, streamed on its miss every time.
     */
    private static List<Answer> missHitAndLarge(String id, String extra) {
        int pad = 2 * 1024 * 1024; // past max-object-size: streamed, never stored
        // pad=0: its length declared, as nginx's range filter wants it on the miss and the hit alike
        String url = CachedPhp.url(id, "public, max-age=60", "&ar=bytes&pad=0" + extra);
        long length = CachedPhp.body(id, 1).length();
        Answer large = new Answer(CachedPhp.url("big" + id, "public, max-age=60", "&ar=bytes" + extra + "&pad=" + pad),
                CachedPhp.body("big" + id, 1).length() + pad, false);
        return List.of(new Answer(url, length, false), new Answer(url, length, true), large);
    }

    /**
     * The site's page with the Content-Range, the script's ETag (nginx sends the page's after it, a second ETag field:
     * edge the first alone, as for a file's 416) and its other fields, the location's headers added to the 200 before
     * it was ranged and the page location's always-headers; a HEAD the page's length. It was an empty body on the miss,
     * and edge's own page without the script's fields on the hit.
     */
    @Test
    void aRangePastTheEndOfAScriptsAnswerGetsTheSitesPage() throws Exception {
        for (Answer answer : missHitAndLarge("paged", "&etag=%22s1%22")) {
            String url = answer.stored().url();
            long length = answer.length();
            HttpResponse<String> past = send("GET", url, "Range", "bytes=" + length + "-");
            assertThat(past.statusCode()).as(url).isEqualTo(416);
            assertThat(past.body()).as(url).isEqualTo(RANGE_PAGE);
            assertThat(past.headers().firstValue("content-type")).as(url).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/html"));
            assertThat(past.headers().firstValue("content-length")).contains(String.valueOf(RANGE_PAGE.length()));
            assertThat(past.headers().firstValue("content-range")).contains("bytes */" + length);
            assertThat(past.headers().allValues("etag")).as(url).containsExactly("\"s1\"");
            assertThat(past.headers().firstValue("cache-control")).as(url).contains("public, max-age=60");
            assertThat(past.headers().firstValue("x-cache")).as(url).isPresent();
            assertThat(past.headers().firstValue("x-page")).as(url).contains("yes");
            assertThat(past.headers().firstValue("accept-ranges")).as(url).isEmpty();
            HttpResponse<String> head = send("HEAD", url, "Range", "bytes=" + length + "-");
            assertThat(head.statusCode()).isEqualTo(416);
            assertThat(head.headers().firstValue("content-length")).contains(String.valueOf(RANGE_PAGE.length()));
        }
    }

    /**
     * The page of a range past the end of an answer on its way from the script goes as soon as the answer's first
     * part does, not once the script has ended: nginx 1.22 answers its 416 at once (measured beside php-fpm 8.2: 0.04 s
     * for a fastcgi_cache miss of 8 MiB a script streamed over 2 s). It went with the answer's last part, the client
     * waiting on the whole body it would never get (a download resumed at its end, on an answer too large to store).
     */
    @Test
    void theRangesPageGoesBeforeTheScriptHasEnded() throws Exception {
        HttpResponse<String> past = send("GET", "/held.php?id=early", "Range", "bytes=20-");
        try {
            assertThat(past.statusCode()).isEqualTo(416);
            assertThat(past.body()).isEqualTo(RANGE_PAGE);
            assertThat(dir.resolve("ended-early")).as("the script still held").doesNotExist();
        } finally {
            Files.writeString(dir.resolve("release-early"), "");
        }
        // the answer the page went in place of is not stored, as nginx's 416 on a miss ends its upstream request: the
        // next request runs the script again
        HttpResponse<String> next = send("GET", "/held.php?id=early");
        assertThat(next.headers().firstValue("x-cache")).contains("MISS");
        assertThat(next.body()).isEqualTo("0123456789abcdefghij");
        assertThat(Files.readString(dir.resolve("runs-early"))).isEqualTo("xx");
    }

    /**
     * A stored answer the script compressed itself: its 416's page says no Content-Encoding, its bytes being the
     * page's, not of that coding (nginx 1.22 keeps the answer's Content-Encoding on its page there, measured: a
     * fastcgi_cache hit of a gzip answer, its 416 an HTML page labelled gzip that a client cannot decode).
     */
    @Test
    void theRangesPageOfAnEncodedAnswerSaysNoContentEncoding() throws Exception {
        HttpResponse<String> whole = send("GET", "/encoded.php");
        assertThat(whole.headers().firstValue("content-encoding")).contains("gzip");
        HttpResponse<String> past = send("GET", "/encoded.php", "Range", "bytes=5000-");
        assertThat(past.statusCode()).isEqualTo(416);
        assertThat(past.headers().firstValue("x-cache")).contains("HIT");
        assertThat(past.body()).isEqualTo(RANGE_PAGE);
        assertThat(past.headers().firstValue("content-encoding")).isEmpty();
        assertThat(past.headers().firstValue("vary")).contains("Accept-Encoding");
    }

    /**
     * Over HTTP/2 (h2c) the page goes as over HTTP/1.1, on the miss that cuts the range as it streams, the hit, and an
     * answer too large to store: its length, its bytes, the stream ended after them. Pins it: the streamed answer's
     * page goes as a DATA frame in place of its first part, its other parts empty ones.
     */
    @Test
    void overHttp2TheRangesPageGoesAsOverHttp11() throws Exception {
        for (Answer answer : missHitAndLarge("h2paged", "")) {
            answer.stored();
            String sent = Curl.output("--http2-prior-knowledge", "-i", "-H", "Range: bytes=" + answer.length() + "-",
                    "http://127.0.0.1:" + edge.address().getPort() + answer.url());
            assertThat(sent).as(answer.url()).startsWith("HTTP/2 416")
                    .contains("content-range: bytes */" + answer.length())
                    .contains("content-length: " + RANGE_PAGE.length()).endsWith("\r\n\r\n" + RANGE_PAGE);
        }
    }

    /**
     * Where the location's gzip compresses the answer for the client, a Range gets the whole compressed 200, past the
     * end too, on the miss and the hit alike, and the miss is stored: nginx 1.22's gzip filter runs before its range
     * filter and leaves it no length to take a range of (measured beside php-fpm 8.2, fastcgi_cache and gzip on, a
     * 1000-byte text/html answer with Accept-Ranges: `bytes=5000-` and `bytes=0-9` with Accept-Encoding: gzip, a GET or
     * a HEAD, a 200 with Content-Encoding: gzip, the first a MISS, then HITs). edge answered the miss's `bytes=5000-`
     * with a 416 and stored nothing, and ranged the hit's uncompressed bytes (a 206, a 416).
     */
    @Test
    void aRangeOfAnAnswerTheLocationCompressesGetsTheWholeCompressed200() throws Exception {
        String url = "/zipped/page.php";
        List<String> sent = List.of("GET bytes=5000- MISS", "GET bytes=5000- HIT", "GET bytes=0-9 HIT",
                "HEAD bytes=5000- HIT", "HEAD bytes=0-9 HIT");
        for (String asked : sent) {
            String[] parts = asked.split(" ");
            HttpResponse<String> whole = send(parts[0], url, "Range", parts[1], "Accept-Encoding", "gzip");
            assertThat(whole.statusCode()).as(asked).isEqualTo(200);
            assertThat(whole.headers().firstValue("x-cache")).as(asked).contains(parts[2]);
            assertThat(whole.headers().firstValue("content-encoding")).as(asked).contains("gzip");
            assertThat(whole.headers().firstValue("content-range")).as(asked).isEmpty();
        }
        // without gzip the hit is ranged as before
        HttpResponse<String> part = send("GET", url, "Range", "bytes=0-9");
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo("abcdefghij");
    }
}
