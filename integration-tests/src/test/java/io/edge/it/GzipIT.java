package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.core.http.RawHttpClient;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A location's gzip against a real php-fpm, as nginx's {@code gzip on}: a client that takes gzip gets the script's
 * page compressed, streamed or whole, also from the response cache, and files compressed; others get them as they
 * are, and both are told by Vary that they vary. Which clients get gzip as nginx's gzip_proxied, gzip_disable and
 * gzip_http_version decide (each such answer as nginx 1.22 gave it, side by side): a request with Via gets none by
 * default, and by {@code gzip.proxied} the answers it names.
 */
class GzipIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /**
     * ?n= bytes of HTML lines; ?ct, ?etag, ?cc, ?status set those headers, ?len a Content-Length (without it, whether
     * edge knows the length depends on whether the page comes in one read), ?expires an Expires that many seconds from
     * now, ?lm a Last-Modified; each run adds ?count's value to RUNS.
     */
    private static final String PAGE = """
            <?php
            if (isset($_GET['count'])) { file_put_contents('RUNS', $_GET['count'] . "\\n", FILE_APPEND); }
            $n = (int) ($_GET['n'] ?? 5000);
            if (isset($_GET['ct'])) { header('Content-Type: ' . $_GET['ct']); }
            if (isset($_GET['etag'])) { header('ETag: "' . $_GET['etag'] . '"'); }
            if (isset($_GET['cc'])) { header('Cache-Control: ' . $_GET['cc']); }
            if (isset($_GET['status'])) { http_response_code((int) $_GET['status']); }
            if (isset($_GET['len'])) { header('Content-Length: ' . $n); }
            if (isset($_GET['expires'])) {
                header('Expires: ' . gmdate('D, d M Y H:i:s', time() + (int) $_GET['expires']) . ' GMT');
            }
            if (isset($_GET['lm'])) { header('Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT'); }
            $line = "<p>a line of the page</p>\\n";
            echo substr(str_repeat($line, intdiv($n, strlen($line)) + 1), 0, $n);
            """;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        for (String sub : new String[] {"", "cached/", "plain/", "expired/", "nocache/", "tags/", "auth/", "any/",
                "h10/"}) {
            Files.createDirectories(www.resolve(sub));
            Files.writeString(www.resolve(sub + "page.php"), PAGE.replace("RUNS", dir.resolve("runs.txt").toString()));
        }
        // a script that compresses its own answer (ob_gzhandler, zlib.output_compression)
        Files.writeString(www.resolve("own.php"), """
                <?php
                header('Content-Type: text/html');
                header('Content-Encoding: gzip');
                echo gzencode(str_repeat("its own\\n", 1000));
                """);
        // hands out ?to= by X-Accel-Redirect, with a ?cc Cache-Control and an ?expires Expires as PAGE's
        Files.writeString(www.resolve("accel.php"), """
                <?php
                if (isset($_GET['cc'])) { header('Cache-Control: ' . $_GET['cc']); }
                if (isset($_GET['expires'])) {
                    header('Expires: ' . gmdate('D, d M Y H:i:s', time() + (int) $_GET['expires']) . ' GMT');
                }
                header('X-Accel-Redirect: ' . $_GET['to']);
                """);
        // flushes its first part, then runs on until the test lets it end (at most 30 s)
        Files.writeString(www.resolve("stream.php"), """
                <?php
                header('Content-Type: text/html');
                echo str_repeat("first part\\n", 100);
                while (ob_get_level() > 0) { ob_end_flush(); }
                flush();
                $release = __DIR__ . '/../release-' . basename($_GET['id']);
                for ($i = 0; $i < 3000 && !file_exists($release); $i++) { usleep(10000); }
                echo "second part\\n";
                """);
        // declares more than it sends: at once (?hold absent), or a flushed part first, the rest when let go
        Files.writeString(www.resolve("short.php"), """
                <?php
                header('Content-Type: text/html');
                header('Content-Length: 20000');
                echo str_repeat("sent\\n", 600);
                if (isset($_GET['hold'])) {
                    while (ob_get_level() > 0) { ob_end_flush(); }
                    flush();
                    $release = __DIR__ . '/../release-' . basename($_GET['hold']);
                    for ($i = 0; $i < 3000 && !file_exists($release); $i++) { usleep(10000); }
                    echo str_repeat("more\\n", 400);
                }
                """);
        // files compressed beforehand, beside the files (gzip.static)
        for (String sub : new String[] {"assets/", "files/", "app/"}) {
            Files.createDirectories(www.resolve(sub + "dir.js.gz"));
            Files.writeString(www.resolve(sub + "app.js"), APP_JS);
            Files.write(www.resolve(sub + "app.js.gz"), gzip(APP_JS));
            Files.writeString(www.resolve(sub + "dir.js"), APP_JS);
            Files.writeString(www.resolve(sub + "plain.css"), "body { color: black }\n".repeat(100));
        }
        // files for gzip.proxied, gzip.disable and gzip.http-version (the last tests)
        for (String sub : new String[] {"", "f-tags/", "f-etag/", "assets-any/", "both/", "old/", "h10f/"}) {
            Files.createDirectories(www.resolve(sub));
            Files.writeString(www.resolve(sub + "page.html"), page(20000));
            Files.writeString(www.resolve(sub + "app.js"), APP_JS);
            Files.write(www.resolve(sub + "app.js.gz"), gzip(APP_JS));
        }
        Files.writeString(www.resolve("image.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n".repeat(100));
        Files.writeString(www.resolve("files/image.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n".repeat(100));
        Files.writeString(www.resolve("big.js"), BIG_JS); // more than the content cache keeps: read as it goes
        Files.createDirectories(www.resolve("raw"));
        Files.writeString(www.resolve("raw/plain.css"), "body { color: black }\n".repeat(100));
        Files.writeString(www.resolve("short.css"), "b{}"); // below min-length
        Files.writeString(Files.createDirectories(www.resolve("own")).resolve("a.html"), "<p>a</p>");
        Files.writeString(www.resolve("own/404.html"), NOT_HERE_PAGE);
        Files.write(www.resolve("photo.png"), new byte[5000]); // not a type gzip names
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 4
                """);
        edge = EdgeHarness.start(dir, """
                location-defaults.gzip.enabled = true
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "/" }
                    { match = "^~ /cached/", fastcgi = php, cache = true }
                    { match = "^~ /plain/", fastcgi = php, gzip.enabled = false }
                    { match = "^~ /assets/", gzip { static = true, enabled = false } }
                    { match = "^~ /app/", fastcgi = php, front-controller = "/app/index.php",
                      gzip { static = true, enabled = false } }
                    { match = "^~ /files/", gzip.enabled = false }
                    { match = "^~ /raw/", headers { "Cache-Control" = "public, no-transform" } }
                    { match = "^~ /expired/", fastcgi = php, gzip.proxied = [expired] }
                    { match = "^~ /nocache/", fastcgi = php, gzip.proxied = [no-cache, private] }
                    { match = "^~ /tags/", fastcgi = php, gzip.proxied = [no_last_modified, no_etag] }
                    { match = "^~ /auth/", fastcgi = php, gzip.proxied = [auth] }
                    { match = "^~ /any/", fastcgi = php, gzip.proxied = [any] }
                    { match = "^~ /h10/", fastcgi = php, gzip.http-version = "1.0" }
                    { match = "^~ /f-tags/", gzip.proxied = [no_last_modified] }
                    { match = "^~ /f-etag/", gzip.proxied = [no_etag] }
                    { match = "^~ /assets-any/", gzip { static = true, enabled = false, proxied = [no_etag] } }
                    { match = "^~ /both/", gzip { static = true, proxied = [no_etag] } }
                    { match = "^~ /old/", gzip.disable = [msie6, "^Bot"] }
                    { match = "^~ /h10f/", gzip.http-version = "1.0" }
                    { match = "^~ /own/", gzip.min-length = 20 }, { match = "= /own/refused", return = 403, gzip.min-length = 20 }
                    { match = "^~ /own-min/", gzip.min-length = 1000 }
                  ]
                }, {
                  server-names = ["pages.test"], root = "www", error-pages { 404 = "/own/404.html" }
                  locations = [{ match = "^~ /own/" }]
                }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 4
                }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static final String BIG_JS = "function item(n) { return document.querySelector('#item-' + n); }\n"
            .repeat(5000);

    private static final String NOT_HERE_PAGE = "<p>Not here.</p>\n".repeat(40);

    private static final String APP_JS = "function item(n) { return document.querySelector('#item-' + n); }\n".repeat(150);

    /** {@code text} compressed as a .gz file holds it. */
    static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String page(int n) {
        String line = "<p>a line of the page</p>\n";
        return line.repeat(n / line.length() + 1).substring(0, n);
    }

    private static String gunzip(byte[] body) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    @Test
    void aClientThatTakesGzipGetsTheScriptsPageCompressed() throws Exception {
        HttpResponse<byte[]> response = get("/page.php?n=20000", "Accept-Encoding", "gzip, deflate, br");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(header(response, "content-encoding")).isEqualTo("gzip");
        assertThat(header(response, "vary")).isEqualTo("Accept-Encoding");
        assertThat(response.body().length).isLessThan(2000);
        assertThat(gunzip(response.body())).isEqualTo(page(20000));
    }

    @Test
    void aClientThatTakesNoGzipGetsThePageAsWrittenAndToldItVaries() throws Exception {
        for (String[] headers : new String[][] {{}, {"Accept-Encoding", "gzip;q=0, deflate"},
                {"Accept-Encoding", "identity"}}) {
            HttpResponse<byte[]> response = get("/page.php?n=20000", headers);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(header(response, "content-encoding")).isNull();
            assertThat(header(response, "vary")).isEqualTo("Accept-Encoding");
            assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(page(20000));
        }
    }

    @Test
    void aLocationWithGzipOffAndFilesGoAsTheyAre() throws Exception {
        HttpResponse<byte[]> plain = get("/plain/page.php?n=20000", "Accept-Encoding", "gzip");
        assertThat(header(plain, "content-encoding")).isNull();
        assertThat(header(plain, "vary")).isNull();
        assertThat(new String(plain.body(), StandardCharsets.UTF_8)).isEqualTo(page(20000));
        HttpResponse<byte[]> file = get("/files/image.svg", "Accept-Encoding", "gzip");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(header(file, "content-encoding")).isNull();
        assertThat(header(file, "vary")).isNull();
        assertThat(file.body()).isEqualTo(Files.readAllBytes(dir.resolve("www/files/image.svg")));
    }

    /**
     * Files as nginx's gzip filter after its static module compresses them: a 200 of a listed type, not below
     * min-length, for a client that takes gzip (small files whole, from the content cache too; larger ones read as
     * they go), every such answer saying it varies; ranges are of the file's own bytes, a 304 carries the weak ETag
     * of the compressed 200, a HEAD the head its GET gets.
     */
    @Test
    void filesAreCompressedAsTheyGoForClientsThatTakeGzip() throws Exception {
        // the later svgs: content cache hits, compressed once and then sent as kept
        for (String path : new String[] {"/image.svg", "/image.svg", "/image.svg", "/big.js"}) {
            String text = Files.readString(dir.resolve("www" + path));
            HttpResponse<byte[]> compressed = get(path, "Accept-Encoding", "gzip");
            assertThat(compressed.statusCode()).as(path).isEqualTo(200);
            assertThat(header(compressed, "content-encoding")).as(path).isEqualTo("gzip");
            assertThat(header(compressed, "vary")).as(path).isEqualTo("Accept-Encoding");
            assertThat(header(compressed, "accept-ranges")).as(path).isNull();
            assertThat(header(compressed, "etag")).as(path).startsWith("W/\"");
            assertThat(compressed.body().length).as(path).isLessThan(text.length() / 4);
            assertThat(gunzip(compressed.body())).as(path).isEqualTo(text);

            HttpResponse<byte[]> plain = get(path);
            assertThat(header(plain, "content-encoding")).as(path).isNull();
            assertThat(header(plain, "vary")).as(path).isEqualTo("Accept-Encoding");
            assertThat(header(plain, "content-length")).as(path).isEqualTo(String.valueOf(text.length()));
            assertThat(new String(plain.body(), StandardCharsets.UTF_8)).as(path).isEqualTo(text);
            String etag = header(plain, "etag");
            assertThat(header(compressed, "etag")).isEqualTo("W/" + etag);

            HttpResponse<byte[]> notModified = get(path, "Accept-Encoding", "gzip", "If-None-Match",
                    header(compressed, "etag"));
            assertThat(notModified.statusCode()).as(path).isEqualTo(304);
            assertThat(header(notModified, "etag")).as(path).isEqualTo("W/" + etag);
            assertThat(header(notModified, "vary")).as(path).isEqualTo("Accept-Encoding");
            HttpResponse<byte[]> plainNotModified = get(path, "If-None-Match", etag);
            assertThat(plainNotModified.statusCode()).as(path).isEqualTo(304);
            assertThat(header(plainNotModified, "etag")).as(path).isEqualTo(etag);

            HttpResponse<byte[]> range = get(path, "Accept-Encoding", "gzip", "Range", "bytes=0-9");
            assertThat(range.statusCode()).as(path).isEqualTo(206);
            assertThat(header(range, "content-encoding")).as(path).isNull();
            assertThat(header(range, "vary")).as(path).isEqualTo("Accept-Encoding");
            assertThat(new String(range.body(), StandardCharsets.UTF_8)).as(path).isEqualTo(text.substring(0, 10));
        }
        HttpResponse<byte[]> head = HTTP.send(HttpRequest.newBuilder(edge.uri("/big.js"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept-Encoding", "gzip").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(header(head, "content-encoding")).isEqualTo("gzip");
        assertThat(header(head, "content-length")).isNull();
        // a location whose headers say no-transform: its files, and their 304s, go as they are, without Vary
        HttpResponse<byte[]> untransformed = get("/raw/plain.css", "Accept-Encoding", "gzip");
        assertThat(header(untransformed, "content-encoding")).isNull();
        assertThat(header(untransformed, "vary")).isNull();
        String strong = header(untransformed, "etag");
        assertThat(strong).startsWith("\"");
        HttpResponse<byte[]> untransformedNotModified = get("/raw/plain.css", "Accept-Encoding", "gzip",
                "If-None-Match", strong);
        assertThat(untransformedNotModified.statusCode()).isEqualTo(304);
        assertThat(header(untransformedNotModified, "etag")).as("the 200's").isEqualTo(strong);
        assertThat(header(untransformedNotModified, "vary")).isNull();
        HttpResponse<byte[]> untransformedRange = get("/raw/plain.css", "Accept-Encoding", "gzip", "Range", "bytes=0-9");
        assertThat(untransformedRange.statusCode()).isEqualTo(206);
        assertThat(header(untransformedRange, "vary")).as("as its 200").isNull();
        for (String path : new String[] {"/short.css", "/photo.png"}) {
            HttpResponse<byte[]> asItIs = get(path, "Accept-Encoding", "gzip");
            assertThat(header(asItIs, "content-encoding")).as(path).isNull();
            assertThat(header(asItIs, "vary")).as(path).isNull();
            assertThat(asItIs.body()).as(path).isEqualTo(Files.readAllBytes(dir.resolve("www" + path)));
        }
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response old = client.send("GET /image.svg HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n")
                    .read();
            assertThat(old.header("content-encoding")).isNull();
            assertThat(old.header("vary")).isEqualTo("Accept-Encoding");
        }
    }

    /** nginx's rules: 200, 403 and 404; a listed type; not encoded already; no no-transform; not below min-length. */
    @Test
    void onlyAnswersTheRulesNameAreCompressed() throws Exception {
        assertThat(header(get("/page.php?status=404", "Accept-Encoding", "gzip"), "content-encoding")).isEqualTo("gzip");
        assertThat(header(get("/page.php?status=403", "Accept-Encoding", "gzip"), "content-encoding")).isEqualTo("gzip");
        HttpResponse<byte[]> error = get("/page.php?status=500", "Accept-Encoding", "gzip");
        assertThat(error.statusCode()).isEqualTo(500);
        assertThat(header(error, "content-encoding")).isNull();
        assertThat(header(get("/page.php?ct=image/png", "Accept-Encoding", "gzip"), "content-encoding")).isNull();
        assertThat(header(get("/page.php?ct=application/json", "Accept-Encoding", "gzip"), "content-encoding"))
                .isEqualTo("gzip");
        assertThat(header(get("/page.php?cc=no-transform", "Accept-Encoding", "gzip"), "content-encoding")).isNull();
        HttpResponse<byte[]> small = get("/page.php?n=100&len=1", "Accept-Encoding", "gzip");
        assertThat(header(small, "content-encoding")).isNull();
        assertThat(new String(small.body(), StandardCharsets.UTF_8)).isEqualTo(page(100));
    }

    /**
     * edge's own pages go through the gzip of the location that answers them, as nginx's special responses go through
     * its gzip filter (a 404 of a missing file, a return's 403); one under min-length, or of a status nginx's gzip
     * leaves alone (a 405), goes as it is.
     */
    @Test
    void edgesOwnErrorPagesAreCompressedAsNginxsAre() throws Exception {
        HttpResponse<byte[]> missing = get("/own/missing.html", "Accept-Encoding", "gzip");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(header(missing, "content-encoding")).isEqualTo("gzip");
        assertThat(header(missing, "vary")).isEqualTo("Accept-Encoding");
        assertThat(gunzip(missing.body())).contains("<title>404 Not Found</title>");
        HttpResponse<byte[]> refused = get("/own/refused", "Accept-Encoding", "gzip");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(gunzip(refused.body())).contains("<title>403 Forbidden</title>");
        HttpResponse<byte[]> plain = get("/own/missing.html");
        assertThat(header(plain, "content-encoding")).isNull();
        assertThat(new String(plain.body(), StandardCharsets.UTF_8)).contains("<title>404 Not Found</title>");
        HttpResponse<byte[]> small = get("/own-min/missing.html", "Accept-Encoding", "gzip");
        assertThat(small.statusCode()).isEqualTo(404);
        assertThat(header(small, "content-encoding")).as("under min-length").isNull();
        assertThat(new String(small.body(), StandardCharsets.UTF_8)).contains("<title>404 Not Found</title>");
        HttpResponse<byte[]> notAllowed = HTTP.send(HttpRequest.newBuilder(edge.uri("/own/a.html"))
                .header("Accept-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(notAllowed.statusCode()).isEqualTo(405);
        assertThat(header(notAllowed, "content-encoding")).isNull();
    }

    /**
     * A site's page for a path no location matches goes through its own location's gzip all the same, as nginx's
     * error_page redirect reaches that location whatever the request matched.
     */
    @Test
    void aSitesPageForAPathNoLocationMatchesIsCompressedByItsOwnLocation() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response missing = client.send("GET /nowhere HTTP/1.1\r\nHost: pages.test\r\n"
                    + "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n").read();
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.header("content-encoding")).isEqualTo("gzip");
            assertThat(gunzip(missing.body())).isEqualTo(NOT_HERE_PAGE);
        }
    }

    @Test
    void aScriptsOwnEncodingIsLeftAlone() throws Exception {
        HttpResponse<byte[]> response = get("/own.php", "Accept-Encoding", "gzip");
        assertThat(header(response, "content-encoding")).isEqualTo("gzip");
        assertThat(gunzip(response.body())).isEqualTo("its own\n".repeat(1000)); // once, not twice
    }

    @Test
    void aStrongETagGoesWeakWithTheCompressedForm() throws Exception {
        assertThat(header(get("/page.php?etag=v1", "Accept-Encoding", "gzip"), "etag")).isEqualTo("W/\"v1\"");
        assertThat(header(get("/page.php?etag=v1"), "etag")).isEqualTo("\"v1\"");
    }

    /**
     * A HEAD whose GET's length is known (the script declares it; the response cache also sends a HEAD to PHP as a
     * GET and counts) gets the head its GET would, and nothing after it: the next answer on the connection reads whole.
     * One without (PHP sends a HEAD no body) gets the head of its GET streamed without a length, compressed, as nginx
     * answers it: Vary and Content-Encoding, a weak ETag, neither length nor chunked.
     */
    @Test
    void aHeadIsToldWhatItsGetWouldGetWhereThatIsKnownAndHttp10IsAnsweredUncompressed() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response head = client.send("HEAD /cached/page.php?etag=h1&len=1&cc=public,max-age%3D60"
                    + " HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n").read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-encoding")).isEqualTo("gzip");
            assertThat(head.header("content-length")).isNull();
            assertThat(head.header("etag")).isEqualTo("W/\"h1\"");
            assertThat(head.header("vary")).isEqualTo("Accept-Encoding");
            RawHttpClient.Response next = client.send("GET /page.php HTTP/1.1\r\nHost: t\r\n\r\n").read();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.text()).isEqualTo(page(5000));
            RawHttpClient.Response uncached = client.send("HEAD /page.php?etag=h2 HTTP/1.1\r\nHost: t\r\n"
                    + "Accept-Encoding: gzip\r\n\r\n").read(true);
            assertThat(uncached.status()).isEqualTo(200);
            assertThat(uncached.header("content-encoding")).isEqualTo("gzip");
            assertThat(uncached.header("vary")).isEqualTo("Accept-Encoding");
            assertThat(uncached.header("etag")).isEqualTo("W/\"h2\"");
            assertThat(uncached.header("transfer-encoding")).isNull();
            assertThat(client.send("GET /page.php HTTP/1.1\r\nHost: t\r\n\r\n").read().text())
                    .as("nothing after the HEAD's head").isEqualTo(page(5000));
        }
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response old = client.send("GET /page.php HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n").read();
            assertThat(old.status()).isEqualTo(200);
            assertThat(old.header("content-encoding")).isNull();
            assertThat(old.text()).isEqualTo(page(5000));
        }
    }

    /** The response cache keeps the script's page as written and compresses each hit for a client that takes gzip. */
    @Test
    void responseCacheHitsAreCompressedForClientsThatTakeGzip() throws Exception {
        String url = "/cached/page.php?n=30000&etag=c1&cc=public,max-age%3D60&count=c1";
        HttpResponse<byte[]> first = get(url, "Accept-Encoding", "gzip");
        assertThat(header(first, "content-encoding")).isEqualTo("gzip");
        assertThat(gunzip(first.body())).isEqualTo(page(30000));
        HttpResponse<byte[]> hit = get(url, "Accept-Encoding", "gzip");
        assertThat(header(hit, "age")).isNotNull(); // a hit
        assertThat(header(hit, "content-encoding")).isEqualTo("gzip");
        assertThat(header(hit, "etag")).isEqualTo("W/\"c1\"");
        // a hit is whole: it goes with its compressed length, not chunked
        assertThat(header(hit, "content-length")).isEqualTo(String.valueOf(hit.body().length));
        assertThat(gunzip(hit.body())).isEqualTo(page(30000));
        HttpResponse<byte[]> plainHit = get(url);
        assertThat(header(plainHit, "age")).isNotNull();
        assertThat(header(plainHit, "content-encoding")).isNull();
        assertThat(header(plainHit, "vary")).isEqualTo("Accept-Encoding");
        assertThat(new String(plainHit.body(), StandardCharsets.UTF_8)).isEqualTo(page(30000));
        // the client revalidates what it holds: the weak tag matches, and the 304 carries it as the 200 did
        HttpResponse<byte[]> notModified = get(url, "Accept-Encoding", "gzip", "If-None-Match", "W/\"c1\"");
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(header(notModified, "etag")).isEqualTo("W/\"c1\"");
        assertThat(header(notModified, "vary")).isEqualTo("Accept-Encoding");
        HttpResponse<byte[]> headNotModified = HTTP.send(HttpRequest.newBuilder(edge.uri(url))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept-Encoding", "gzip")
                .header("If-None-Match", "W/\"c1\"").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(headNotModified.statusCode()).isEqualTo(304); // a HEAD's lookup holds no body: judged by its length
        assertThat(header(headNotModified, "etag")).isEqualTo("W/\"c1\"");
        assertThat(header(headNotModified, "vary")).isEqualTo("Accept-Encoding");
        assertThat(Files.readAllLines(dir.resolve("runs.txt"))).containsExactly("c1"); // the script ran once
        // a large page: a hit goes in slices, compressed or not
        String largeUrl = "/cached/page.php?n=300000&cc=public,max-age%3D60&count=c3";
        assertThat(gunzip(get(largeUrl, "Accept-Encoding", "gzip").body())).isEqualTo(page(300000));
        HttpResponse<byte[]> largeHit = get(largeUrl, "Accept-Encoding", "gzip");
        assertThat(header(largeHit, "age")).isNotNull();
        assertThat(header(largeHit, "content-encoding")).isEqualTo("gzip");
        assertThat(gunzip(largeHit.body())).isEqualTo(page(300000));
        HttpResponse<byte[]> largePlainHit = get(largeUrl);
        assertThat(header(largePlainHit, "age")).isNotNull();
        assertThat(header(largePlainHit, "content-length")).isEqualTo("300000");
        assertThat(new String(largePlainHit.body(), StandardCharsets.UTF_8)).isEqualTo(page(300000));
        assertThat(Files.readAllLines(dir.resolve("runs.txt"))).containsExactly("c1", "c3");
        // a page too short to compress: its 304 carries the strong tag and no Vary, as its 200 did
        String shortUrl = "/cached/page.php?n=100&len=1&etag=c2&cc=public,max-age%3D60";
        HttpResponse<byte[]> shortPage = get(shortUrl, "Accept-Encoding", "gzip");
        assertThat(header(shortPage, "etag")).isEqualTo("\"c2\"");
        assertThat(header(shortPage, "vary")).isNull();
        HttpResponse<byte[]> shortNotModified = get(shortUrl, "Accept-Encoding", "gzip", "If-None-Match", "\"c2\"");
        assertThat(shortNotModified.statusCode()).isEqualTo(304);
        assertThat(header(shortNotModified, "etag")).isEqualTo("\"c2\"");
        assertThat(header(shortNotModified, "vary")).isNull();
    }

    /** A client that leaves in the middle of a large hit's slices stops them; the connection after it is answered. */
    @Test
    void aClientGoneInTheMiddleOfALargeHitEndsItsSlices() throws Exception {
        String url = "/cached/page.php?n=900000&cc=public,max-age%3D60";
        assertThat(gunzip(get(url, "Accept-Encoding", "gzip").body())).isEqualTo(page(900000)); // stored
        for (int i = 0; i < 3; i++) {
            try (Socket socket = new Socket()) {
                socket.setReceiveBufferSize(4096);
                socket.connect(edge.address());
                socket.getOutputStream().write(("GET " + url + " HTTP/1.1\r\nHost: t\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(line(socket.getInputStream())).startsWith("HTTP/1.1 200");
            } // closed with most of the answer unread
        }
        HttpResponse<byte[]> after = get(url);
        assertThat(after.body().length).isEqualTo(900000);
    }

    /** What a script flushes reaches the client compressed before the script goes on: nothing waits in zlib. */
    @Test
    void whatAScriptFlushesReachesTheClientBeforeItEnds() throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(edge.address());
            socket.setSoTimeout(20_000); // a first part held back until the script ends fails the read, not the run
            socket.getOutputStream().write(("GET /stream.php?id=s1 HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            String head = line(in);
            StringBuilder headers = new StringBuilder();
            for (String line = line(in); !line.isEmpty(); line = line(in)) {
                headers.append(line.toLowerCase()).append('\n');
            }
            assertThat(head).startsWith("HTTP/1.1 200");
            assertThat(headers.toString()).contains("content-encoding: gzip\n", "transfer-encoding: chunked\n");

            ByteArrayOutputStream compressed = new ByteArrayOutputStream();
            StringBuilder text = new StringBuilder();
            Inflater inflater = new Inflater(true);
            try {
                while (text.length() < "first part\n".length() * 100) {
                    byte[] chunk = chunk(in);
                    assertThat(chunk).as("the body ended before the flushed part").isNotEmpty();
                    compressed.write(chunk);
                    inflate(inflater, chunk, compressed.size() - chunk.length, text);
                }
            } finally {
                inflater.end();
            }
            assertThat(text.toString()).isEqualTo("first part\n".repeat(100));
            Files.writeString(dir.resolve("release-s1"), "");
            for (byte[] chunk = chunk(in); chunk.length > 0; chunk = chunk(in)) {
                compressed.write(chunk);
            }
            assertThat(gunzip(compressed.toByteArray())).isEqualTo("first part\n".repeat(100) + "second part\n");
        }
    }

    /**
     * A script that declares a longer body than it sends is cut for the client, compressed or not: never a gzip
     * stream ended as if whole (its trailer, the last chunk), which would pass a cut page off as the page.
     */
    @Test
    void aBodyShortOfItsDeclaredLengthReachesTheClientCut() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /short.php HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n");
            assertThatThrownBy(client::read).isInstanceOf(EOFException.class);
        }
        try (Socket socket = new Socket()) {
            socket.connect(edge.address());
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("GET /short.php?hold=cut1 HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n"
                    + "\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            assertThat(line(in)).startsWith("HTTP/1.1 200");
            StringBuilder headers = new StringBuilder();
            for (String line = line(in); !line.isEmpty(); line = line(in)) {
                headers.append(line.toLowerCase()).append('\n');
            }
            assertThat(headers.toString()).contains("content-encoding: gzip\n", "transfer-encoding: chunked\n");
            assertThat(chunk(in)).isNotEmpty(); // the flushed part
            Files.writeString(dir.resolve("release-cut1"), "");
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            assertThatThrownBy(() -> {
                for (byte[] chunk = chunk(in); chunk.length > 0; chunk = chunk(in)) {
                    rest.write(chunk);
                }
            }).as("the connection closes with no last chunk").isInstanceOf(IOException.class)
                    .hasMessage("connection closed in a line");
        }
    }

    /**
     * gzip.static, nginx's gzip_static: a client that takes gzip gets the file's .gz beside it, as the file compressed
     * (its type, its own length and validators; a Range answered with all of it, no Accept-Ranges, as nginx 1.22's
     * gzip_static handler leaves its answer to no range filter); any other client, or a file without one (or whose
     * .gz is a directory), gets the file; a location without it never looks.
     */
    @Test
    void aPhpLocationsFilesGetTheirGzTooAsNginxsGzipStaticInAnyLocation() throws Exception {
        HttpResponse<byte[]> compressed = get("/app/app.js", "Accept-Encoding", "gzip");
        assertThat(compressed.body()).isEqualTo(Files.readAllBytes(dir.resolve("www/app/app.js.gz")));
        assertThat(header(compressed, "content-encoding")).isEqualTo("gzip");
    }

    @Test
    void aFilesGzBesideItGoesToClientsThatTakeGzip() throws Exception {
        byte[] gz = Files.readAllBytes(dir.resolve("www/assets/app.js.gz"));
        HttpResponse<byte[]> compressed = get("/assets/app.js", "Accept-Encoding", "gzip");
        assertThat(compressed.statusCode()).isEqualTo(200);
        assertThat(compressed.body()).isEqualTo(gz);
        assertThat(header(compressed, "content-encoding")).isEqualTo("gzip");
        assertThat(header(compressed, "content-type")).startsWith("text/javascript");
        assertThat(header(compressed, "content-length")).isEqualTo(String.valueOf(gz.length));
        assertThat(header(compressed, "vary")).isEqualTo("Accept-Encoding");
        String etag = header(compressed, "etag");

        HttpResponse<byte[]> plain = get("/assets/app.js");
        assertThat(new String(plain.body(), StandardCharsets.UTF_8)).isEqualTo(APP_JS);
        assertThat(header(plain, "content-encoding")).isNull();
        assertThat(header(plain, "etag")).isNotEqualTo(etag);

        assertThat(header(compressed, "accept-ranges")).as("nginx's gzip_static says none").isNull();
        HttpResponse<byte[]> range = get("/assets/app.js", "Accept-Encoding", "gzip", "Range", "bytes=0-9");
        assertThat(range.statusCode()).isEqualTo(200);
        assertThat(range.body()).isEqualTo(gz);
        assertThat(header(range, "content-encoding")).isEqualTo("gzip");
        assertThat(header(range, "content-range")).isNull();
        HttpResponse<byte[]> notModified = get("/assets/app.js", "Accept-Encoding", "gzip", "If-None-Match", etag);
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(header(notModified, "vary")).isEqualTo("Accept-Encoding");
        HttpResponse<byte[]> pastTheEnd = get("/assets/app.js", "Accept-Encoding", "gzip", "Range",
                "bytes=" + gz.length + "-");
        assertThat(pastTheEnd.statusCode()).as("no range of it is looked at").isEqualTo(200);
        assertThat(pastTheEnd.body()).isEqualTo(gz);
        assertThat(header(pastTheEnd, "vary")).isEqualTo("Accept-Encoding");
        HttpResponse<byte[]> failed = get("/assets/app.js", "Accept-Encoding", "gzip", "If-Match", "\"other\"");
        assertThat(failed.statusCode()).isEqualTo(412);
        assertThat(header(failed, "vary")).as("judged by the .gz's ETag").isEqualTo("Accept-Encoding");
        assertThat(get("/assets/app.js", "Accept-Encoding", "gzip", "If-Match", etag).statusCode()).isEqualTo(200);

        for (String path : new String[] {"/assets/plain.css", "/assets/dir.js", "/files/app.js"}) {
            HttpResponse<byte[]> asItIs = get(path, "Accept-Encoding", "gzip");
            assertThat(asItIs.statusCode()).as(path).isEqualTo(200);
            assertThat(header(asItIs, "content-encoding")).as(path).isNull();
            assertThat(asItIs.body()).as(path).isEqualTo(Files.readAllBytes(dir.resolve("www" + path)));
        }
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response old = client.send("GET /assets/app.js HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n")
                    .read();
            assertThat(old.header("content-encoding")).isNull();
            assertThat(old.text()).isEqualTo(APP_JS);
        }
    }

    /** Inflates {@code chunk}, which starts {@code at} bytes into the gzip stream (its 10-byte header skipped). */
    static void inflate(Inflater inflater, byte[] chunk, int at, StringBuilder text) throws Exception {
        int skip = Math.max(0, Math.min(chunk.length, 10 - at));
        inflater.setInput(chunk, skip, chunk.length - skip);
        byte[] out = new byte[4096];
        for (int n = inflater.inflate(out); n > 0; n = inflater.inflate(out)) {
            text.append(new String(out, 0, n, StandardCharsets.UTF_8));
        }
    }

    /** One chunk of a chunked body; empty for the last (its trailer read). */
    static byte[] chunk(InputStream in) throws IOException {
        int size = Integer.parseInt(line(in).split(";")[0].strip(), 16);
        if (size == 0) {
            for (String trailer = line(in); !trailer.isEmpty(); trailer = line(in)) {
                // none expected
            }
            return new byte[0];
        }
        byte[] chunk = in.readNBytes(size);
        line(in);
        return chunk;
    }

    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed in a line");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    // ---- which clients are sent gzip: gzip.proxied, gzip.disable, gzip.http-version

    private static final String VIA = "1.1 cache.example";

    /** A GET that takes gzip, with {@code headers}. */
    private static HttpResponse<byte[]> gzipGet(String path, String... headers) throws Exception {
        String[] all = new String[headers.length + 2];
        all[0] = "Accept-Encoding";
        all[1] = "gzip";
        System.arraycopy(headers, 0, all, 2, headers.length);
        return get(path, all);
    }

    /** {@code response}'s body as the client reads it: gunzipped when it came compressed. */
    private static String text(HttpResponse<byte[]> response) throws IOException {
        return header(response, "content-encoding") != null ? gunzip(response.body())
                : new String(response.body(), StandardCharsets.UTF_8);
    }

    /** What {@code path} holds: the .js of gzip.static, else a page of 20 000 bytes (a file's, a script's). */
    private static String expected(String path) {
        return path.contains("app.js") ? APP_JS : page(20000);
    }

    /**
     * nginx's default gzip_proxied off: a request with Via (a proxy's, whose cache would hand the compressed answer
     * to clients that take none) gets a script's page, a response cache hit and a file as they are, told by Vary that
     * they vary, and a file's .gz is not sent; the same request without Via gets them compressed.
     */
    @Test
    void aRequestThroughAProxyIsSentNoGzipByDefaultAsNginxsIs() throws Exception {
        for (String path : new String[] {"/page.php?n=20000", "/cached/page.php?n=20000&cc=max-age%3D60",
                "/cached/page.php?n=20000&cc=max-age%3D60", "/page.html", "/page.html", "/assets/app.js"}) {
            HttpResponse<byte[]> proxied = gzipGet(path, "Via", VIA);
            assertThat(proxied.statusCode()).as(path).isEqualTo(200);
            assertThat(proxied.headers().firstValue("content-encoding")).as(path).isEmpty();
            if (!path.startsWith("/assets/")) { // gzip.static alone: Vary only with the .gz (as nginx's gzip_vary off)
                assertThat(proxied.headers().firstValue("vary")).as(path).hasValue("Accept-Encoding");
            }
            assertThat(new String(proxied.body(), StandardCharsets.UTF_8)).as(path).isEqualTo(expected(path));

            HttpResponse<byte[]> direct = gzipGet(path);
            assertThat(direct.headers().firstValue("content-encoding")).as(path).hasValue("gzip");
            assertThat(gunzip(direct.body())).as(path).isEqualTo(expected(path));
        }
    }

    /**
     * gzip.proxied's values as nginx's gzip_proxied reads them, each row as nginx 1.22 answered the same request: an
     * Expires decides alone (expired: one already past), then a Cache-Control (one of the named directives), then
     * no_last_modified and no_etag refuse an answer with one; a file's Last-Modified does not count, its ETag does; a
     * .gz is sent for any value but off, and in a location with both, the file itself as gzip.static judged it: by
     * the Cache-Control and Expires a script's X-Accel-Redirect hands on with it, as nginx's gzip_static judges after
     * the redirect has copied them (its no_etag and no Cache-Control gzip; edge judged by none, and compressed all).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/expired/page.php?n=20000&expires=-3600            |      | true",
        "/expired/page.php?n=20000&expires=3600             |      | false",
        "/expired/page.php?n=20000                          |      | true",
        "/expired/page.php?n=20000&cc=no-cache              |      | false",
        "/nocache/page.php?n=20000&cc=no-cache              |      | true",
        "/nocache/page.php?n=20000&cc=max-age%3D0,%20private |     | true",
        "/nocache/page.php?n=20000&cc=NO-CACHE%20,x         |      | true",
        "/nocache/page.php?n=20000&cc=no-cache%3D%22Set-Cookie%22 | | false",
        "/nocache/page.php?n=20000&cc=max-age%3D60          |      | false",
        "/nocache/page.php?n=20000&expires=-3600&cc=no-cache |     | false",
        "/nocache/page.php?n=20000                          |      | true",
        "/tags/page.php?n=20000                             |      | true",
        "/tags/page.php?n=20000&lm=1                        |      | false",
        "/tags/page.php?n=20000&etag=e1                     |      | false",
        "/auth/page.php?n=20000&cc=max-age%3D60             | auth | true",
        "/auth/page.php?n=20000&cc=max-age%3D60             |      | false",
        "/auth/page.php?n=20000&etag=e1                     |      | true",
        "/any/page.php?n=20000&cc=max-age%3D60&etag=e1      |      | true",
        "/f-tags/page.html                          |      | true",
        "/f-etag/page.html                          |      | false",
        "/assets-any/app.js                         |      | true",
        "/both/page.html                            |      | true",
        "/accel.php?to=/both/page.html              |      | true",
        "/accel.php?to=/both/page.html&cc=max-age%3D60 |   | false",
        "/accel.php?to=/both/page.html&expires=3600 |      | false"})
    void proxiedNamesTheAnswersSentCompressedAsNginxsDoes(String path, String auth, boolean compressed)
            throws Exception {
        HttpResponse<byte[]> response = auth == null ? gzipGet(path, "Via", VIA)
                : gzipGet(path, "Via", VIA, "Authorization", "Basic dXNlcjpwYXNz");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-encoding").isPresent()).isEqualTo(compressed);
        assertThat(response.headers().firstValue("vary")).hasValue("Accept-Encoding");
        assertThat(text(response)).isEqualTo(expected(path));
    }

    /**
     * gzip.disable as nginx's gzip_disable: msie6 (MSIE 4 to 6 without SV1) and a regex found in the User-Agent
     * ignoring case are sent the file as it is, told that it varies; a .gz is not sent them either.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)      | false",
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1) | true",
        "Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)          | false",
        "bot/1.0                                                 | false",
        "a Bot                                                   | true"})
    void disableNamesClientsSentNoGzip(String userAgent, boolean compressed) throws Exception {
        HttpResponse<byte[]> response = gzipGet("/old/page.html", "User-Agent", userAgent);
        assertThat(response.headers().firstValue("content-encoding").isPresent()).isEqualTo(compressed);
        assertThat(response.headers().firstValue("vary")).hasValue("Accept-Encoding");
        assertThat(text(response)).isEqualTo(page(20000));
    }

    /**
     * gzip.http-version = "1.0", nginx's gzip_http_version 1.0: an HTTP/1.0 client gets a script's page compressed,
     * streamed without a length or chunks it cannot read, ended by the connection's close; a file whole, with its
     * length. By
     * default (1.1) it gets them as they are.
     */
    @Test
    void http10ClientsAreSentGzipWhereHttpVersionSaysSo() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response page = client.send(
                    "GET /h10/page.php?n=200000 HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n").read();
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.header("content-encoding")).isEqualTo("gzip");
            assertThat(page.header("transfer-encoding")).isNull();
            assertThat(page.header("content-length")).isNull();
            assertThat(page.header("connection")).isEqualToIgnoringCase("close");
            assertThat(gunzip(page.body())).isEqualTo(page(200000)); // read to the close: whole, and the close came
        }
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response file = client.send("GET /h10f/page.html HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n")
                    .read();
            assertThat(file.header("content-encoding")).isEqualTo("gzip");
            assertThat(gunzip(file.body())).isEqualTo(page(20000));
        }
        for (String path : new String[] {"/page.php?n=20000", "/page.html"}) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response plain = client.send("GET " + path + " HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n")
                        .read();
                assertThat(plain.header("content-encoding")).as(path).isNull();
                assertThat(plain.text()).as(path).isEqualTo(page(20000));
            }
        }
    }
}
