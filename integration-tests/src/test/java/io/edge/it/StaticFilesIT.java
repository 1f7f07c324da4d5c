package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Static files over real sockets: headers, conditionals, ranges, HEAD, indexes, safety. */
class StaticFilesIT {

    private static final String HELLO = "hello, world\n";
    private static final String SECRET = "outside-the-root-secret";

    @TempDir
    static Path dir;

    static EdgeHarness edge;
    static HttpClient http = HttpClient.newHttpClient();
    static byte[] random10k;
    static byte[] random512k;

    @BeforeAll
    static void start() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("hello.txt"), HELLO);
        random10k = new byte[10_000];
        new Random(1).nextBytes(random10k);
        Files.write(root.resolve("random.bin"), random10k);
        random512k = new byte[512 * 1024];
        new Random(2).nextBytes(random512k);
        Files.write(root.resolve("large.bin"), random512k);
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/index.html"), "<p>docs</p>");
        Files.writeString(root.resolve("docs/page.custom"), "custom type");
        Files.writeString(root.resolve(".htpasswd"), "user:secret");
        Files.writeString(root.resolve("caf\u00e9.txt"), "named in UTF-8");
        Files.writeString(root.resolve("caf\uFFFD.txt"), "named by the replacement character");
        Files.writeString(dir.resolve("outside.txt"), SECRET);
        Files.createSymbolicLink(root.resolve("escape.txt"), dir.resolve("outside.txt"));
        Files.createSymbolicLink(root.resolve("inside.txt"), root.resolve("hello.txt"));
        edge = EdgeHarness.start(dir, """
                mime-types { custom = "text/x-custom" }
                sites = [{ server-names = ["_"], default = true, root = "root", index = ["index.html"] }]
                """);
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void servesAFileWithValidatorsAndType() throws Exception {
        HttpResponse<byte[]> response = get("/hello.txt");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(HELLO);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(response.headers().firstValue("content-length")).hasValue(String.valueOf(HELLO.length()));
        assertThat(response.headers().firstValue("etag")).isPresent();
        assertThat(response.headers().firstValue("last-modified")).isPresent();
        assertThat(response.headers().firstValue("accept-ranges")).hasValue("bytes");
    }

    @Test
    void everyResponseCarriesTheDate() throws Exception {
        for (String path : new String[] {"/hello.txt", "/missing.txt"}) {
            HttpResponse<byte[]> response = get(path);
            java.time.ZonedDateTime date = java.time.ZonedDateTime.parse(response.headers().firstValue("date").orElseThrow(),
                    java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
            assertThat(java.time.Duration.between(date.toInstant(), java.time.Instant.now()).abs())
                    .as(path).isLessThan(java.time.Duration.ofMinutes(1));
        }
    }

    /**
     * A file touched into the future: its Last-Modified is not later than the answer's Date (RFC 9110 8.8.2.1), and
     * an If-Modified-Since of it gets the file, not a 304 (the file may still change before its mtime).
     */
    @Test
    void aFileModifiedInTheFutureIsLastModifiedNoLaterThanTheDate() throws Exception {
        Path future = dir.resolve("root/future.txt");
        Files.writeString(future, "from the future\n");
        Files.setLastModifiedTime(future, java.nio.file.attribute.FileTime.from(java.time.Instant.now().plus(
                java.time.Duration.ofDays(3650))));
        HttpResponse<byte[]> response = get("/future.txt");
        assertThat(response.statusCode()).isEqualTo(200);
        java.time.ZonedDateTime date = java.time.ZonedDateTime.parse(response.headers().firstValue("date").orElseThrow(),
                java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
        String lastModified = response.headers().firstValue("last-modified").orElseThrow();
        assertThat(java.time.ZonedDateTime.parse(lastModified, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME))
                .isBeforeOrEqualTo(date);
        assertThat(get("/future.txt", "If-Modified-Since", lastModified).statusCode()).isEqualTo(200);
        String etag = response.headers().firstValue("etag").orElseThrow();
        assertThat(get("/future.txt", "If-None-Match", etag).statusCode()).isEqualTo(304);
    }

    @Test
    void servesBinaryFilesExactly() throws Exception {
        HttpResponse<byte[]> response = get("/random.bin");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(random10k);
    }

    @Test
    void mimeTypesCanBeOverriddenInConfig() throws Exception {
        assertThat(get("/docs/page.custom").headers().firstValue("content-type")).hasValue("text/x-custom");
    }

    @Test
    void headHasTheLengthOfGetAndNoBody() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("HEAD /random.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response head = client.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length")).isEqualTo("10000");
            // had HEAD carried a body, this would parse its bytes as a status line and fail
            RawHttpClient.Response next = client.read();
            assertThat(next.text()).isEqualTo(HELLO);
        }
    }

    @Test
    void ifNoneMatchAndIfModifiedSinceGive304() throws Exception {
        HttpResponse<byte[]> first = get("/hello.txt");
        String etag = first.headers().firstValue("etag").orElseThrow();
        String lastModified = first.headers().firstValue("last-modified").orElseThrow();
        HttpResponse<byte[]> byEtag = get("/hello.txt", "If-None-Match", etag);
        assertThat(byEtag.statusCode()).isEqualTo(304);
        assertThat(byEtag.body()).isEmpty();
        assertThat(byEtag.headers().firstValue("etag")).hasValue(etag);
        assertThat(get("/hello.txt", "If-Modified-Since", lastModified).statusCode()).isEqualTo(304);
        assertThat(get("/hello.txt", "If-None-Match", "\"other\"").statusCode()).isEqualTo(200);
    }

    @Test
    void singleRangesGive206() throws Exception {
        HttpResponse<byte[]> first = get("/hello.txt", "Range", "bytes=0-4");
        assertThat(first.statusCode()).isEqualTo(206);
        assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(first.headers().firstValue("content-range")).hasValue("bytes 0-4/" + HELLO.length());
        HttpResponse<byte[]> suffix = get("/hello.txt", "Range", "bytes=-6");
        assertThat(new String(suffix.body(), StandardCharsets.UTF_8)).isEqualTo("world\n");
        HttpResponse<byte[]> open = get("/random.bin", "Range", "bytes=9990-");
        assertThat(open.statusCode()).isEqualTo(206);
        assertThat(open.body()).isEqualTo(java.util.Arrays.copyOfRange(random10k, 9990, 10000));
    }

    @Test
    void multipleRangesGiveMultipartByteranges() throws Exception {
        HttpResponse<byte[]> response = get("/random.bin", "Range", "bytes=0-9,5000-5009");
        assertThat(response.statusCode()).isEqualTo(206);
        String type = response.headers().firstValue("content-type").orElseThrow();
        assertThat(type).startsWith("multipart/byteranges; boundary=");
        String boundary = type.substring(type.indexOf("boundary=") + 9);
        assertThat(response.headers().firstValue("content-length")).hasValue(String.valueOf(response.body().length));
        String body = new String(response.body(), StandardCharsets.ISO_8859_1);
        Matcher part = Pattern.compile("--" + Pattern.quote(boundary) + "\r\n((?:[^\r\n]+\r\n)+)\r\n").matcher(body);
        List<String> ranges = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        while (part.find()) {
            Matcher range = Pattern.compile("(?i)content-range: bytes (\\d+)-(\\d+)/10000").matcher(part.group(1));
            assertThat(range.find()).isTrue();
            ranges.add(range.group(1) + "-" + range.group(2));
            int start = part.end();
            int length = Integer.parseInt(range.group(2)) - Integer.parseInt(range.group(1)) + 1;
            contents.add(java.util.Arrays.copyOfRange(response.body(), start, start + length));
        }
        assertThat(ranges).containsExactly("0-9", "5000-5009");
        assertThat(contents.get(0)).isEqualTo(java.util.Arrays.copyOfRange(random10k, 0, 10));
        assertThat(contents.get(1)).isEqualTo(java.util.Arrays.copyOfRange(random10k, 5000, 5010));
        assertThat(body).contains("--" + boundary + "--");
    }

    /**
     * As nginx 1.22.1's 416 (measured, a Range past the end of a file without an error_page for 416): its own HTML page
     * with the Content-Range of the file's length and no ETag, from the disk and from the content cache alike.
     */
    @Test
    void unsatisfiableRangeGives416WithTheLength() throws Exception {
        for (int round = 0; round < 3; round++) {
            HttpResponse<byte[]> response = get("/hello.txt", "Range", "bytes=100-200");
            assertThat(response.statusCode()).isEqualTo(416);
            assertThat(response.headers().firstValue("content-range")).hasValue("bytes */" + HELLO.length());
            assertThat(response.headers().firstValue("etag")).as("round %d", round).isEmpty();
            assertThat(response.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
            assertThat(new String(response.body(), StandardCharsets.UTF_8))
                    .startsWith("<html><head><title>416 Requested Range Not Satisfiable</title>");
        }
    }

    @Test
    void ifRangeWithAnOldValidatorGivesTheWholeFile() throws Exception {
        HttpResponse<byte[]> response = get("/hello.txt", "Range", "bytes=0-4", "If-Range", "\"stale-etag\"");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(HELLO);
        String etag = get("/hello.txt").headers().firstValue("etag").orElseThrow();
        assertThat(get("/hello.txt", "Range", "bytes=0-4", "If-Range", etag).statusCode()).isEqualTo(206);
    }

    @Test
    void directoriesServeTheirIndexAndGetATrailingSlash() throws Exception {
        HttpResponse<byte[]> index = get("/docs/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(new String(index.body(), StandardCharsets.UTF_8)).isEqualTo("<p>docs</p>");
        assertThat(index.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        HttpResponse<byte[]> redirect = get("/docs");
        assertThat(redirect.statusCode()).isEqualTo(301);
        assertThat(redirect.headers().firstValue("location")).hasValueSatisfying(l -> assertThat(l).endsWith("/docs/"));
        // a page saying so, as nginx's (it was empty): edge's layout, as its other pages'
        assertThat(new String(redirect.body(), StandardCharsets.UTF_8)).contains("<title>301 Moved Permanently</title>");
        assertThat(redirect.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(redirect.headers().firstValue("cache-control")).isEmpty();
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("HEAD /docs HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response head = client.read(true);
            assertThat(head.status()).isEqualTo(301);
            assertThat(head.header("content-length")).isEqualTo(Integer.toString(redirect.body().length));
            assertThat(client.read().text()).as("no body came before the next answer").isEqualTo(HELLO);
        }
    }

    /**
     * A path whose bytes are not UTF-8 (a legacy Latin-1 link, café as {@code %E9}) names no file here: 404 as any
     * name not there (it was a 400), and never the file named by the UTF-8 replacement character. Its UTF-8 spelling
     * is served.
     */
    @Test
    void aPathThatIsNotUtf8Is404AndNeverAnotherFile() throws Exception {
        HttpResponse<byte[]> utf8 = get("/caf%C3%A9.txt");
        assertThat(utf8.statusCode()).isEqualTo(200);
        assertThat(new String(utf8.body(), StandardCharsets.UTF_8)).isEqualTo("named in UTF-8");
        HttpResponse<byte[]> latin1 = get("/caf%E9.txt");
        assertThat(latin1.statusCode()).isEqualTo(404);
        assertThat(new String(latin1.body(), StandardCharsets.UTF_8)).doesNotContain("replacement");
        assertThat(get("/caf%EF%BF%BD.txt").statusCode()).isEqualTo(200);
    }

    @Test
    void missingFilesAre404WithoutRevealingPaths() throws Exception {
        HttpResponse<byte[]> response = get("/nope/missing.txt");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(new String(response.body(), StandardCharsets.UTF_8)).doesNotContain(dir.toString()).doesNotContain("missing");
    }

    @Test
    void otherMethodsGet405WithAllow() throws Exception {
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(edge.uri("/hello.txt"))
                .method("DELETE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("allow")).hasValueSatisfying(a -> assertThat(a).contains("GET").contains("HEAD"));
        HttpResponse<byte[]> posted = http.send(HttpRequest.newBuilder(edge.uri("/hello.txt"))
                .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(posted.statusCode()).as("a file takes no POST").isEqualTo(405);
        assertThat(posted.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(new String(posted.body(), StandardCharsets.UTF_8)).as("the page every other error has")
                .contains("<h1>405 Method Not Allowed</h1>");
    }

    @Test
    void dotfilesAndSymlinksLeavingTheRootAreForbidden() throws Exception {
        assertThat(get("/.htpasswd").statusCode()).isEqualTo(403);
        HttpResponse<byte[]> escape = get("/escape.txt");
        assertThat(escape.statusCode()).isEqualTo(403);
        assertThat(new String(escape.body(), StandardCharsets.UTF_8)).doesNotContain(SECRET);
        assertThat(new String(get("/inside.txt").body(), StandardCharsets.UTF_8)).isEqualTo(HELLO);
    }

    /**
     * A link leading out of the root says why it is refused in the log (a Laravel storage:link or a deploy tool's
     * shared directory met a silent 403), as nginx logs its refusals; a dotfile's refusal, on purpose and what scanners
     * ask for all day, does not. An edge of its own: the first refusal of a kind is logged, then one every 10 s.
     */
    @Test
    void aLinkLeadingOutOfTheRootIsRefusedWithALogLineSayingWhy() throws Exception {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "io.edge.core.statics.StaticResponder");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        log.addAppender(logged);
        try (EdgeHarness own = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "root" }]
                """)) {
            for (String path : new String[] {"/.htpasswd", "/escape.txt"}) {
                HttpResponse<byte[]> refused = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(own.uri(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertThat(refused.statusCode()).as(path).isEqualTo(403);
            }
        } finally {
            log.detachAppender(logged);
        }
        assertThat(logged.list).extracting(event -> event.getFormattedMessage()).singleElement().satisfies(line ->
                assertThat(line).startsWith("GET /escape.txt -> 403: /escape.txt: symbolic link").contains("symlinks rule"));
    }

    /**
     * Under symlinks = deny (nginx's disable_symlinks on), a file reached through a linked directory is 404 and a link
     * as the file's own name 403, as nginx 1.22.1 answers them (measured: openat() fails with ENOTDIR on the way, 404,
     * and with ELOOP for the link itself, 403), each time (the second request meets the remembered directory).
     */
    @Test
    void underSymlinksDenyAFileThroughALinkedDirectoryIsNotFoundAndALinkItselfRefused() throws Exception {
        Path linkedDir = dir.resolve("root/linked-docs");
        Files.createSymbolicLink(linkedDir, dir.resolve("root/docs"));
        try (EdgeHarness own = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "root", symlinks = deny }]
                """)) {
            for (int round = 0; round < 2; round++) {
                for (String path : new String[] {"/linked-docs/page.custom", "/linked-docs/index.html", "/linked-docs/",
                        "/inside.txt", "/linked-docs", "/docs/page.custom"}) {
                    HttpResponse<byte[]> answer = HttpClient.newHttpClient().send(
                            HttpRequest.newBuilder(own.uri(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
                    assertThat(answer.statusCode()).as(path).isEqualTo(path.startsWith("/linked-docs/") ? 404
                            : path.startsWith("/docs/") ? 200 : 403);
                }
            }
        } finally {
            Files.delete(linkedDir);
        }
    }

    /**
     * Under symlinks = deny a root that is itself a link holds nothing: every path is 404, its index and the way to
     * it too, as nginx 1.22.1's disable_symlinks on answers a root that is a link to a directory (measured: 404 for
     * /f.txt and /, openat() ENOTDIR; disable_symlinks on from=$document_root, which trusts the root's own path and
     * which edge has not, served it), where edge served the link's directory. Under the default within-root the same
     * root is served by its real path (a deploy's current -> releases/42).
     */
    @Test
    void underSymlinksDenyARootThatIsALinkHoldsNothing() throws Exception {
        Path linkedRoot = Files.createSymbolicLink(dir.resolve("root-link"), dir.resolve("root"));
        try {
            try (EdgeHarness own = EdgeHarness.start(dir, """
                    sites = [{ server-names = ["_"], default = true, root = "root-link", symlinks = deny }]
                    """)) {
                for (String path : new String[] {"/hello.txt", "/", "/docs/", "/docs/page.custom", "/missing"}) {
                    HttpResponse<byte[]> answer = HttpClient.newHttpClient().send(
                            HttpRequest.newBuilder(own.uri(path)).build(), HttpResponse.BodyHandlers.ofByteArray());
                    assertThat(answer.statusCode()).as(path).isEqualTo(404);
                }
            }
            try (EdgeHarness own = EdgeHarness.start(dir, """
                    sites = [{ server-names = ["_"], default = true, root = "root-link" }]
                    """)) {
                HttpResponse<String> answer = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(own.uri("/hello.txt")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).isEqualTo(200);
            }
        } finally {
            Files.delete(linkedRoot);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/../outside.txt", "/%2e%2e/outside.txt", "/%252e%252e/outside.txt", "/..%2foutside.txt",
            "/%2e%2e%2foutside.txt", "/hello.txt%00", "/..\\outside.txt", "/%2e%2e%5coutside.txt", "/docs/../../outside.txt",
            "/./../outside.txt", "/%c0%ae%c0%ae/outside.txt"})
    void traversalNeverReturnsAFileOutsideTheRoot(String path) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response response = client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").read();
            assertThat(response.status()).isIn(400, 403, 404);
            assertThat(response.text()).doesNotContain(SECRET).doesNotContain(dir.toString());
        }
    }

    @Test
    void pipelinedStaticRequestsComeBackInOrder() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /docs/ HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /random.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.read().text()).isEqualTo(HELLO);
            assertThat(client.read().text()).isEqualTo("<p>docs</p>");
            assertThat(client.read().body()).isEqualTo(random10k);
            assertThat(client.read().text()).isEqualTo(HELLO);
        }
    }

    /**
     * A file asked for with {@code Expect: 100-continue} and a body is answered at once, without the body (a static
     * file needs none) and without a 100, and the connection closes. A client that stops waiting for the 100 and sends
     * its body all the same (curl does after a second) must still get the whole file: bytes that reached a closed
     * socket made it answer with a reset, and the kernel dropped with it the part of the file the client, on a slow
     * link, had not taken yet (it got the first few KB of 512).
     */
    @Test
    void aClientThatSendsTheBodyItHeldForA100StillGetsTheWholeFile() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address(), 4096)) {
            client.send("GET /large.bin HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
            Thread.sleep(300); // the client waits for a 100, then gives up on it
            client.send(new byte[100_000]);
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("connection")).isEqualToIgnoringCase("close");
            assertThat(response.body()).as("the whole file").isEqualTo(random512k);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    @Test
    void absoluteFormWorks() throws Exception {
        URI uri = edge.uri("/hello.txt");
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            assertThat(client.send("GET " + uri + " HTTP/1.1\r\nHost: a\r\n\r\n").read().text()).isEqualTo(HELLO);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1", "HTTP/1.2"})
    void everyHttp1VersionIsAnsweredInHttp11(String version) throws Exception {
        try (Socket socket = new Socket(edge.address().getAddress(), edge.address().getPort())) {
            socket.getOutputStream().write(("GET /hello.txt " + version + "\r\nHost: a\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200 ").endsWith(HELLO);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/2.0", "HTTP/0.9"})
    void anotherMajorVersionIs505AndCloses(String version) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            assertThat(client.send("GET /hello.txt " + version + "\r\n\r\n").read().status()).isEqualTo(505);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/hel\u0001lo.txt", "/hello.txt?\u001b[31mred\u007f"})
    void controlCharactersInTheTargetAre400AndClose(String target) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            assertThat(client.send("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(400);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }
}
