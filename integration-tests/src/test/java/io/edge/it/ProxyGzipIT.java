package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A location's gzip on proxied answers, as nginx's gzip filter after its proxy module: a real edge in front of the
 * JDK's HTTP server, a real HTTP client (HTTP/1.1, and h2 over TLS). A client that takes gzip gets a page compressed,
 * buffered ({@code /b/}) or not ({@code /u/}), with or without the backend's length, from the response cache ({@code
 * /c/}) on a miss as on a hit; others get it as it is, and both are told by Vary; an image, an answer the backend
 * compressed itself and one under min-length go as they are.
 */
class ProxyGzipIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Some 20 KB of HTML, varied enough that it is not one repeated line. */
    private static final byte[] PAGE = page(20_000);
    private static final byte[] PHOTO = page(5_000); // compressible bytes, but of a type gzip does not name
    private static final byte[] SMALL = "<p>short</p>\n".getBytes(StandardCharsets.UTF_8);
    /**
     * 96 KiB of random hex lines: compressed to some 57 KB, which at 16 KiB a second is more than a second's worth
     * (a page of repeated lines would go whole within it).
     */
    private static final byte[] PACED = hex(96 * 1024);

    @TempDir
    static Path dir;

    static JdkBackend backend;
    static EdgeHarness edge;
    /** The port of the edge's TLS listener, which speaks h2. */
    static int tlsPort;
    static HttpClient h2;
    /** How often the backend was asked, by path. */
    static final Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        backend = JdkBackend.start(ProxyGzipIT::answer);
        Path s = Files.createDirectories(dir.resolve("www/s"));
        Files.write(s.resolve("page.html"), PAGE);
        Files.write(s.resolve("page.html.gz"), gzip(PAGE));
        Path tls = Files.createDirectories(dir.resolve("tls"));
        TrustingContext.selfSigned(tls);
        h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                .sslContext(TrustingContext.of(tls.resolve("cert.pem"))).build();
        tlsPort = EdgeProcess.freePort();
        edge = EdgeHarness.start(dir, """
                server.listen = ["127.0.0.1:0", "127.0.0.1:%d ssl http2"]
                location-defaults.gzip.enabled = true
                sites = [{ server-names = ["_"], default = true, root = "www",
                  tls { certificate = "%s", key = "%s" }, locations = [
                  { match = "/b/", proxy = app, proxy-uri = "/" }
                  { match = "/u/", proxy = app, proxy-uri = "/", proxy-buffering = false }
                  { match = "/c/", proxy = app, proxy-uri = "/", cache = true,
                    headers { X-Cache = "$upstream_cache_status" } }
                  { match = "/pb/", proxy = app, proxy-uri = "/", limit-rate { rate = 16 KiB } }
                  { match = "/pu/", proxy = app, proxy-uri = "/", proxy-buffering = false,
                    limit-rate { rate = 16 KiB } }
                  { match = "/x/", proxy = app, proxy-uri = "/", gzip.proxied = [expired] }
                  { match = "/xc/", proxy = app, proxy-uri = "/", cache = true, gzip.proxied = [expired] }
                  { match = "^~ /s/", gzip { static = true, proxied = [no_etag] } }
                ] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(tlsPort, tls.resolve("cert.pem"), tls.resolve("key.pem"), backend.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, backend);
    }

    /**
     * /page (with its length and an ETag), /chunked (the same page without a length), /cached (the page, stored for a
     * minute), /photo.jpg, /own (gzip of its own), /small (under min-length), /paced (lines of digits).
     */
    private static void answer(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        asked.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        try (InputStream in = exchange.getRequestBody()) {
            in.readAllBytes();
        }
        Headers headers = exchange.getResponseHeaders();
        headers.set("Content-Type", "text/html; charset=utf-8");
        byte[] body = PAGE;
        boolean chunked = false;
        switch (path) {
            case "/page" -> headers.set("ETag", "\"p1\"");
            case "/chunked" -> chunked = true;
            case "/cached" -> headers.set("Cache-Control", "max-age=60");
            // an Expires before or after the answer's Date (the JDK's server writes it: now)
            case "/expired" -> headers.set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
            case "/fresh" -> headers.set("Expires", "Thu, 01 Jan 2099 00:00:00 GMT");
            case "/stored" -> {
                headers.set("Cache-Control", "max-age=60");
                headers.set("Expires", "Thu, 01 Jan 2099 00:00:00 GMT");
            }
            case "/photo.jpg" -> {
                headers.set("Content-Type", "image/jpeg");
                body = PHOTO;
            }
            case "/own" -> {
                headers.set("Content-Encoding", "gzip");
                body = gzip(PAGE);
            }
            case "/small" -> body = SMALL;
            // a file handed out, with or without a Cache-Control of its own
            case "/accel" -> headers.set("X-Accel-Redirect", "/s/page.html");
            case "/accel-cc" -> {
                headers.set("X-Accel-Redirect", "/s/page.html");
                headers.set("Cache-Control", "max-age=60");
            }
            case "/paced" -> {
                headers.set("Content-Type", "text/plain");
                body = PACED;
            }
            default -> {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
        }
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(200, head ? -1 : chunked ? 0 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (!head) {
                out.write(body);
            }
        }
    }

    private static HttpResponse<byte[]> get(String target, boolean takesGzip) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(target));
        if (takesGzip) {
            request.header("Accept-Encoding", "gzip");
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The page, compressed for a client that takes gzip, its length and strong ETag gone, chunked; with Vary. */
    @ParameterizedTest
    @ValueSource(strings = {"/b/page", "/b/chunked", "/u/page", "/u/chunked"})
    void aPageGoesCompressedToAClientThatTakesGzip(String target) throws Exception {
        HttpResponse<byte[]> zipped = get(target, true);
        assertThat(zipped.statusCode()).isEqualTo(200);
        assertThat(zipped.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(zipped.headers().allValues("vary")).containsExactly("Accept-Encoding");
        assertThat(zipped.headers().firstValue("content-length")).isEmpty();
        assertThat(zipped.headers().firstValue("transfer-encoding")).hasValue("chunked");
        assertThat(zipped.body().length).as("compressed").isLessThan(PAGE.length / 2);
        assertThat(gunzip(zipped.body())).as("the backend's bytes, exactly").isEqualTo(PAGE);
        if (target.endsWith("/page")) {
            assertThat(zipped.headers().firstValue("etag")).as("weak, as nginx's").hasValue("W/\"p1\"");
        }
    }

    /**
     * A request with Via (through a proxy) gets the page as the backend sent it, told that it varies, buffered or not:
     * nginx's default gzip_proxied off. By gzip.proxied = [expired] one whose Expires is before its Date goes
     * compressed, one after it not (from the response cache on a miss as on a hit), as nginx's.
     */
    @Test
    void aRequestThroughAProxyGetsTheAnswerAsItIsUnlessProxiedNamesIt() throws Exception {
        for (String target : new String[] {"/b/page", "/u/chunked", "/x/fresh", "/xc/stored", "/xc/stored"}) {
            HttpResponse<byte[]> plain = HTTP.send(HttpRequest.newBuilder(edge.uri(target))
                    .header("Accept-Encoding", "gzip").header("Via", "1.1 squid").build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(plain.statusCode()).as(target).isEqualTo(200);
            assertThat(plain.headers().firstValue("content-encoding")).as(target).isEmpty();
            assertThat(plain.headers().allValues("vary")).as(target).containsExactly("Accept-Encoding");
            assertThat(plain.body()).as(target).isEqualTo(PAGE);
        }
        assertThat(asked.get("/stored").get()).as("the second from the cache").isEqualTo(1);
        HttpResponse<byte[]> expired = HTTP.send(HttpRequest.newBuilder(edge.uri("/x/expired"))
                .header("Accept-Encoding", "gzip").header("Via", "1.1 squid").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(expired.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(expired.headers().allValues("vary")).containsExactly("Accept-Encoding");
        assertThat(gunzip(expired.body())).isEqualTo(PAGE);
    }

    /**
     * A file a backend hands out by X-Accel-Redirect to a location with gzip.static, asked through a proxy: judged by
     * the Cache-Control the backend sent with it, as nginx's gzip_static judges after its redirect copied that into
     * the request's answer. With proxied = [no_etag], its .gz without one, the file as it is with one (edge judged by
     * none, and sent the .gz both times).
     */
    @Test
    void anXAccelRedirectsFileIsJudgedByTheFieldsTheBackendSentWithIt() throws Exception {
        HttpResponse<byte[]> plain = HTTP.send(HttpRequest.newBuilder(edge.uri("/b/accel-cc"))
                .header("Accept-Encoding", "gzip").header("Via", "1.1 squid").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(plain.headers().firstValue("cache-control")).hasValue("max-age=60");
        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
        assertThat(plain.body()).isEqualTo(PAGE);
        HttpResponse<byte[]> zipped = HTTP.send(HttpRequest.newBuilder(edge.uri("/b/accel"))
                .header("Accept-Encoding", "gzip").header("Via", "1.1 squid").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(zipped.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(gunzip(zipped.body())).isEqualTo(PAGE);
    }

    /** A client that does not take gzip gets the page as the backend sent it, told that it varies. */
    @ParameterizedTest
    @ValueSource(strings = {"/b/page", "/u/page"})
    void aPageGoesAsItIsToAClientThatDoesNotTakeGzip(String target) throws Exception {
        HttpResponse<byte[]> plain = get(target, false);
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
        assertThat(plain.headers().allValues("vary")).containsExactly("Accept-Encoding");
        assertThat(plain.headers().firstValue("content-length")).hasValue(String.valueOf(PAGE.length));
        assertThat(plain.headers().firstValue("etag")).hasValue("\"p1\"");
        assertThat(plain.body()).isEqualTo(PAGE);
    }

    /** An image, an answer the backend compressed itself, one under min-length: as they are, without Vary. */
    @ParameterizedTest
    @ValueSource(strings = {"/b/", "/u/"})
    void whatGzipDoesNotTakeGoesAsItIs(String prefix) throws Exception {
        HttpResponse<byte[]> photo = get(prefix + "photo.jpg", true);
        assertThat(photo.headers().firstValue("content-encoding")).isEmpty();
        assertThat(photo.headers().allValues("vary")).isEmpty();
        assertThat(photo.headers().firstValue("content-length")).hasValue(String.valueOf(PHOTO.length));
        assertThat(photo.body()).isEqualTo(PHOTO);

        HttpResponse<byte[]> own = get(prefix + "own", true);
        assertThat(own.headers().allValues("content-encoding")).containsExactly("gzip");
        assertThat(own.headers().allValues("vary")).isEmpty();
        assertThat(own.body()).as("compressed once, by the backend").isEqualTo(gzip(PAGE));

        HttpResponse<byte[]> small = get(prefix + "small", true);
        assertThat(small.headers().firstValue("content-encoding")).isEmpty();
        assertThat(small.headers().allValues("vary")).isEmpty();
        assertThat(small.headers().firstValue("content-length")).hasValue(String.valueOf(SMALL.length));
        assertThat(small.body()).isEqualTo(SMALL);
    }

    /** A HEAD gets the head its GET would: Content-Encoding and Vary, no length (the compressed one is not known). */
    @Test
    void aHeadGetsTheHeadOfItsCompressedGet() throws Exception {
        HttpResponse<byte[]> head = HTTP.send(HttpRequest.newBuilder(edge.uri("/b/page")).header("Accept-Encoding",
                "gzip").method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(head.headers().allValues("vary")).containsExactly("Accept-Encoding");
        assertThat(head.headers().firstValue("content-length")).isEmpty();
        assertThat(head.body()).isEmpty();
    }

    /**
     * The response cache stores the backend's answer as it came, uncompressed: its miss and its hit both go out
     * compressed to a client that takes gzip, the same bytes once decompressed; a client that does not gets the hit as
     * it is. The backend is asked once.
     */
    @Test
    void aCachedAnswerGoesCompressedOnItsMissAndItsHit() throws Exception {
        HttpResponse<byte[]> miss = get("/c/cached", true);
        HttpResponse<byte[]> hit = get("/c/cached", true);
        HttpResponse<byte[]> plainHit = get("/c/cached", false);
        assertThat(miss.headers().firstValue("x-cache")).hasValue("MISS");
        assertThat(hit.headers().firstValue("x-cache")).hasValue("HIT");
        assertThat(plainHit.headers().firstValue("x-cache")).hasValue("HIT");
        for (HttpResponse<byte[]> zipped : List.of(miss, hit)) {
            assertThat(zipped.headers().firstValue("content-encoding")).hasValue("gzip");
            assertThat(zipped.headers().allValues("vary")).containsExactly("Accept-Encoding");
            assertThat(gunzip(zipped.body())).isEqualTo(PAGE);
        }
        assertThat(plainHit.headers().firstValue("content-encoding")).isEmpty();
        assertThat(plainHit.headers().allValues("vary")).containsExactly("Accept-Encoding");
        assertThat(plainHit.body()).as("stored uncompressed").isEqualTo(PAGE);
        assertThat(asked.get("/cached").get()).isEqualTo(1);
    }

    /** An h2 client's answer is compressed as an HTTP/1.1 one's, without HTTP/1.1's framing. */
    @ParameterizedTest
    @ValueSource(strings = {"/b/chunked", "/u/page"})
    void anHttp2ClientGetsThePageCompressed(String target) throws Exception {
        HttpResponse<byte[]> zipped = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + tlsPort
                + target)).header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(zipped.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(zipped.statusCode()).isEqualTo(200);
        assertThat(zipped.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(zipped.headers().allValues("vary")).containsExactly("Accept-Encoding");
        assertThat(zipped.headers().map()).doesNotContainKeys("transfer-encoding", "content-length");
        assertThat(gunzip(zipped.body())).isEqualTo(PAGE);
    }

    /**
     * A paced answer that gzip compresses arrives whole, buffered (the spool's drain writes it a piece at a time into
     * zlib) or not. (The pace counts the compressed bytes as they go out: buffered, some 2 s here where the 96 KiB
     * uncompressed take some 5; not asserted, being time.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"/pb/paced", "/pu/paced"})
    void aPacedCompressedAnswerArrivesWhole(String target) throws Exception {
        HttpResponse<byte[]> paced = get(target, true);
        assertThat(paced.statusCode()).isEqualTo(200);
        assertThat(paced.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(gunzip(paced.body())).as("the whole body, byte for byte").isEqualTo(PACED);
    }

    private static byte[] page(int size) {
        StringBuilder page = new StringBuilder("<!doctype html>\n<html><body>\n");
        for (int i = 0; page.length() < size; i++) {
            page.append("<p class=\"row-").append(i % 7).append("\">line ").append(i).append(" of the page</p>\n");
        }
        return page.substring(0, size).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] hex(int size) {
        Random random = new Random(7);
        StringBuilder lines = new StringBuilder();
        while (lines.length() < size) {
            lines.append("%016x%016x\n".formatted(random.nextLong(), random.nextLong()));
        }
        return lines.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
            zip.write(bytes);
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] bytes) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        }
    }
}
