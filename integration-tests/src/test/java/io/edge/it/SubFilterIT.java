package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's sub-filter against real files and a real php-fpm, as nginx 1.22's sub_filter (answers compared side
 * by side): the strings replaced ignoring case, the replacement's variables valued, the first only or every one; the
 * answer chunked without Content-Length, Accept-Ranges, ETag and Last-Modified (or, with last-modified, the ETag
 * weak); a Range answered with the whole filtered 200; with gzip, replaced first, then compressed.
 */
class SubFilterIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static JdkBackend backend;
    static EdgeHarness edge;
    /** How often the proxied backend was asked for /cached. */
    static final AtomicInteger cachedAsked = new AtomicInteger();

    /** A page of many lines, each with the old address in some case: more than one read of the file. */
    private static final String BIG =
            "<p>See HTTP://OLD.example/a and http://old.EXAMPLE/b, not http://old.exampl</p>\n".repeat(20000);
    private static final String SMALL = "<a href=\"http://old.example/\">Http://Old.Example</a>\n";

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        for (String sub : new String[] {"", "once/", "gz/", "lm/", "arg/"}) {
            Files.createDirectories(www.resolve(sub));
            Files.writeString(www.resolve(sub + "big.html"), BIG);
            Files.writeString(www.resolve(sub + "small.html"), SMALL);
            Files.writeString(www.resolve(sub + "style.css"), "a { background: url(http://old.example/i.png) }\n");
        }
        // error pages: 404's in a filtered location, 403's in one that filters nothing; a directory without index
        Files.writeString(www.resolve("404.html"), "<p>gone: http://old.example</p>\n");
        Files.writeString(Files.createDirectories(www.resolve("plain")).resolve("403.html"),
                "<p>no: http://old.example</p>\n");
        Files.createDirectories(www.resolve("dir"));
        // settled an hour ago: the content cache keeps its bytes (and their gzip) once it has been asked for twice
        Files.writeString(www.resolve("gz/hosts.html"), SMALL);
        Files.setLastModifiedTime(www.resolve("gz/hosts.html"),
                FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        // the old address cut between two flushed parts, and again whole
        Files.writeString(www.resolve("page.php"), """
                <?php
                header('Content-Type: text/html');
                echo "<p>http://ol";
                while (ob_get_level() > 0) { ob_end_flush(); }
                flush();
                echo "d.example/x http://old.example/y</p>\\n";
                """);
        // /page with its length, /cached stored a minute, /own compressed by the backend itself
        backend = JdkBackend.start(exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body = SMALL.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html");
            if (path.equals("/cached")) {
                cachedAsked.incrementAndGet();
                exchange.getResponseHeaders().set("Cache-Control", "max-age=60");
            } else if (path.equals("/ranged")) {
                exchange.getResponseHeaders().set("Cache-Control", "max-age=60");
                exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
            } else if (path.equals("/own")) {
                exchange.getResponseHeaders().set("Content-Encoding", "gzip");
                body = GzipIT.gzip(SMALL);
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 2
                """);
        edge = EdgeHarness.start(dir, """
                location-defaults.sub-filter {
                  replace = [{ match = "http://old.example", with = "https://$host" }]
                  once = false
                }
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  error-pages { 404 = "/404.html", 403 = "/plain/403.html" }
                  locations = [
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "/" }
                    { match = "^~ /once/", sub-filter.once = true }
                    { match = "^~ /gz/", gzip { enabled = true, min-length = 1 } }
                    { match = "^~ /lm/", sub-filter.last-modified = true }
                    { match = "^~ /plain/", sub-filter.replace = [] }
                    { match = "^~ /arg/", sub-filter.replace = [{ match = "$arg_x", with = "Y" }] }
                    { match = "^~ /p/", proxy = app, proxy-uri = "/" }
                    { match = "^~ /pc/", proxy = app, proxy-uri = "/", cache = true,
                      headers { X-Cache = "$upstream_cache_status" } }
                  ]
                }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 2
                }
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(fpm.address(), backend.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
        backend.close();
    }

    private static RawHttpClient.Response send(String request) throws IOException {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            return client.send(request).read(request.startsWith("HEAD "));
        }
    }

    private static RawHttpClient.Response get(String path, String... headers) throws IOException {
        return send("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + String.join("", headers) + "\r\n");
    }

    /** {@code text} with every "http://old.example", in any case, made "https://t". */
    private static String replacedAll(String text) {
        return text.replaceAll("(?i)http://old\\.example", "https://t");
    }

    private static void assertFilteredHead(RawHttpClient.Response response) {
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("transfer-encoding")).isEqualTo("chunked");
        assertThat(response.header("content-length")).isNull();
        assertThat(response.header("accept-ranges")).isNull();
        assertThat(response.header("etag")).isNull();
        assertThat(response.header("last-modified")).isNull();
    }

    @Test
    void aLargeFileHasEveryStringReplacedAsItStreams() throws Exception {
        RawHttpClient.Response response = get("/big.html");
        assertFilteredHead(response);
        assertThat(response.text()).isEqualTo(replacedAll(BIG));
        RawHttpClient.Response small = get("/small.html");
        assertFilteredHead(small);
        assertThat(small.text()).isEqualTo("<a href=\"https://t/\">https://t</a>\n");
    }

    @Test
    void onceReplacesTheFirstOnly() throws Exception {
        RawHttpClient.Response response = get("/once/big.html");
        assertFilteredHead(response);
        assertThat(response.text()).isEqualTo(BIG.replaceFirst("HTTP://OLD\\.example", "https://t"));
        assertThat(get("/once/small.html").text()).isEqualTo("<a href=\"https://t/\">Http://Old.Example</a>\n");
    }

    @Test
    void aScriptsAnswerHasAStringCutBetweenTwoPartsReplaced() throws Exception {
        RawHttpClient.Response response = get("/page.php");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("transfer-encoding")).isEqualTo("chunked");
        assertThat(response.text()).isEqualTo("<p>https://t/x https://t/y</p>\n");
    }

    @Test
    void aProxiedAnswerAndACacheHitAreFilteredOneTheBackendCompressedIsNot() throws Exception {
        String filtered = "<a href=\"https://t/\">https://t</a>\n";
        RawHttpClient.Response page = get("/p/page");
        assertFilteredHead(page);
        assertThat(page.text()).isEqualTo(filtered);
        RawHttpClient.Response miss = get("/pc/cached");
        RawHttpClient.Response hit = get("/pc/cached");
        assertThat(miss.header("x-cache")).isEqualTo("MISS");
        assertThat(hit.header("x-cache")).isEqualTo("HIT");
        assertThat(cachedAsked).hasValue(1);
        for (RawHttpClient.Response response : List.of(miss, hit)) {
            assertFilteredHead(response);
            assertThat(response.text()).isEqualTo(filtered);
        }
        RawHttpClient.Response own = get("/p/own", "Accept-Encoding: gzip\r\n");
        assertThat(own.header("content-encoding")).isEqualTo("gzip");
        assertThat(own.header("content-length")).isEqualTo(String.valueOf(own.body().length));
        assertThat(new String(gunzip(own.body()), StandardCharsets.UTF_8)).isEqualTo(SMALL);
    }

    @Test
    void aCacheHitAskedForARangeIsTheWholeFilteredAnswer() throws Exception {
        // nginx 1.22.1, proxy_cache HIT of an answer with Accept-Ranges: bytes, asked for bytes=0-9: the whole
        // filtered 200 (sub_filter took its length before the range filter looked); never a range of stored bytes
        // that were not filtered
        assertThat(get("/pc/ranged").text()).isEqualTo("<a href=\"https://t/\">https://t</a>\n");
        RawHttpClient.Response hit = get("/pc/ranged", "Range: bytes=0-9\r\n");
        assertThat(hit.header("x-cache")).isEqualTo("HIT");
        assertThat(hit.header("content-range")).isNull();
        assertFilteredHead(hit);
        assertThat(hit.text()).isEqualTo("<a href=\"https://t/\">https://t</a>\n");
    }

    @Test
    void aCachedFilesGzipIsOfItsFilteredBytesForEachRequest() throws Exception {
        // the content cache keeps a small file's gzip beside its bytes: never one filtered for another Host
        for (int i = 0; i < 6; i++) {
            String host = "h" + i;
            RawHttpClient.Response response = send("GET /gz/hosts.html HTTP/1.1\r\nHost: " + host
                    + "\r\nAccept-Encoding: gzip\r\n\r\n");
            assertThat(response.header("content-encoding")).isEqualTo("gzip");
            assertThat(new String(gunzip(response.body()), StandardCharsets.UTF_8)).as(host)
                    .isEqualTo("<a href=\"https://" + host + "/\">https://" + host + "</a>\n");
        }
    }

    @Test
    void anErrorPageIsFilteredByItsOwnLocationsSubFilter() throws Exception {
        // nginx 1.22.1, error_page 404 /404.html and 403 /plain/403.html, side by side: the page's location's
        // sub_filter, as its error_page redirect finds it, whichever location the request was in
        RawHttpClient.Response gone = get("/plain/nothing.html");
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.text()).isEqualTo("<p>gone: https://t</p>\n");
        RawHttpClient.Response refused = get("/dir/");
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.header("content-length")).isEqualTo("30");
        assertThat(refused.text()).isEqualTo("<p>no: http://old.example</p>\n");
    }

    @Test
    void otherTypesGoAsTheyAre() throws Exception {
        RawHttpClient.Response css = get("/style.css");
        assertThat(css.header("content-length")).isEqualTo("48");
        assertThat(css.header("etag")).isNotNull();
        assertThat(css.text()).isEqualTo("a { background: url(http://old.example/i.png) }\n");
    }

    @Test
    void aRangeIsAnsweredWithTheWholeFilteredPageAHeadWithItsGetsHead() throws Exception {
        RawHttpClient.Response range = get("/big.html", "Range: bytes=0-9\r\n");
        assertFilteredHead(range);
        assertThat(range.text()).isEqualTo(replacedAll(BIG));
        RawHttpClient.Response head = send("HEAD /small.html HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("content-length")).isNull();
        assertThat(head.header("etag")).isNull();
        assertThat(head.header("last-modified")).isNull();
        assertThat(head.header("content-type")).startsWith("text/html");
    }

    /**
     * A file's Range where no string has a value for the request (its variables all empty) gets its 206, as nginx's:
     * its sub filter leaves the answer alone, so its range filter takes the part (nginx 1.22.1, sub_filter $arg_x 'Y',
     * bytes=0-4 without x: 206 Partial Content, Content-Range bytes 0-4/19). It was the whole 200. With x, the whole
     * filtered 200.
     */
    @Test
    void aRangeWhereNoStringHasAValueIsTheFilesPart() throws Exception {
        RawHttpClient.Response part = get("/arg/small.html", "Range: bytes=0-9\r\n");
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.header("content-range")).isEqualTo("bytes 0-9/" + SMALL.length());
        assertThat(part.text()).isEqualTo(SMALL.substring(0, 10));
        RawHttpClient.Response filtered = get("/arg/small.html?x=old", "Range: bytes=0-9\r\n");
        assertFilteredHead(filtered);
        assertThat(filtered.text()).isEqualTo(SMALL.replaceAll("(?i)old", "Y"));
    }

    @Test
    void lastModifiedKeepsItAndAWeakEtag() throws Exception {
        RawHttpClient.Response response = get("/lm/small.html");
        assertThat(response.header("last-modified")).isNotNull();
        assertThat(response.header("etag")).startsWith("W/\"");
        assertThat(response.header("content-length")).isNull();
        assertThat(response.text()).isEqualTo("<a href=\"https://t/\">https://t</a>\n");
    }

    @Test
    void withGzipTheStringsAreReplacedThenCompressed() throws Exception {
        for (String path : new String[] {"/gz/big.html", "/gz/small.html"}) {
            RawHttpClient.Response response = get(path, "Accept-Encoding: gzip\r\n");
            assertThat(response.status()).as(path).isEqualTo(200);
            assertThat(response.header("content-encoding")).as(path).isEqualTo("gzip");
            assertThat(response.header("etag")).as(path).isNull();
            assertThat(response.header("last-modified")).as(path).isNull();
            assertThat(new String(gunzip(response.body()), StandardCharsets.UTF_8)).as(path)
                    .isEqualTo(replacedAll(Files.readString(dir.resolve("www" + path))));
        }
    }

    @Test
    void anHttp10ClientsAnswerEndsWithTheConnection() throws Exception {
        RawHttpClient.Response response = send("GET /small.html HTTP/1.0\r\n\r\n");
        assertThat(response.header("transfer-encoding")).isNull();
        assertThat(response.header("content-length")).isNull();
        assertThat(response.header("connection")).isEqualTo("close");
        assertThat(response.text()).startsWith("<a href=\"https://");
    }

    private static byte[] gunzip(byte[] gzip) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
            return in.readAllBytes();
        }
    }
}
