package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import io.edge.core.http.ServerField;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HTTP/2 on a listener marked {@code ssl http2}, as nginx's {@code listen 443 ssl http2}: the JDK's client speaking h2
 * (and http/1.1 to the same port), a real php-fpm, static files whole, in ranges and revalidated, many streams on one
 * connection, and Netty's own HTTP/2 client for a stream reset in the middle of a script's answer. And h2c on a plain
 * one marked {@code http2}, as nginx's {@code listen 80 http2} since 1.25.1: curl and Netty's client with prior
 * knowledge, HTTP/1.1 to the same port, an {@code Upgrade: h2c} answered as HTTP/1.1.
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class Http2IT {

    private static int port;
    /** The plain listener marked http2 (h2c) of every test's edge. */
    private static int clearPort;

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static Path www;
    static SSLContext trusting;
    static Path ten;
    /** A file of 256 KiB: fifty answers of {@link #ten} at once would not fit the test JVM's heap. */
    static Path quarter;

    /**
     * A request for two ranges of a file gets its whole multipart/byteranges answer over HTTP/2, a small file's (read
     * whole) and a large one's: the parts' boundaries and heads went to the stream's channel as bare buffers, which
     * takes frames only, so they were refused, the stream reset after the first part's bytes.
     */
    @Test
    void aMultipartRangeAnswerGoesWholeOverH2() throws Exception {
        try (EdgeHarness edge = started("multipart", "")) {
            HttpClient h2 = client(HttpClient.Version.HTTP_2);
            byte[] whole = Files.readAllBytes(ten);
            for (String[] file : new String[][] {{"/small.txt", "0-1,3-4", "13"}, {"/ten.bin", "0-9,1048570-1048589",
                    String.valueOf(whole.length)}}) {
                HttpResponse<byte[]> ranges = get(h2, file[0], "Range", "bytes=" + file[1]);
                assertThat(ranges.version()).isEqualTo(HttpClient.Version.HTTP_2);
                assertThat(ranges.statusCode()).as(file[0]).isEqualTo(206);
                String type = ranges.headers().firstValue("content-type").orElseThrow();
                assertThat(type).as(file[0]).startsWith("multipart/byteranges; boundary=");
                String body = new String(ranges.body(), StandardCharsets.ISO_8859_1);
                String[] asked = file[1].split(",");
                for (String range : asked) {
                    assertThat(body).as(file[0]).contains("Content-Range: bytes " + range + "/" + file[2]);
                }
                assertThat(body).as(file[0]).endsWith("--" + type.substring(type.indexOf('=') + 1) + "--\r\n");
                if (file[0].equals("/ten.bin")) {
                    assertThat(body).contains(new String(Arrays.copyOfRange(whole, 1048570, 1048590),
                            StandardCharsets.ISO_8859_1));
                } else {
                    assertThat(body).contains("\r\n\r\na \r\n").contains("\r\n\r\nma\r\n");
                }
            }
        }
    }

    @BeforeAll
    static void start() throws Exception {
        port = EdgeProcess.freePort();
        clearPort = EdgeProcess.freePort();
        www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("small.txt"), "a small file\n");
        Files.writeString(www.resolve("page.html"), "<p>" + "compressible text ".repeat(500) + "</p>\n");
        Files.writeString(www.resolve("env.php"), "<?php echo $_SERVER['SERVER_PROTOCOL'], ' ', $_SERVER['HTTPS'] ?? '-',"
                + " ' ', $_GET['n'] ?? '', ' ', isset($_SERVER['HTTP_X_HTTP2_STREAM_ID']) ? 'stream-id' : '-';\n");
        Files.writeString(www.resolve("echo.php"), "<?php echo strlen(file_get_contents('php://input')), ' ',"
                + " md5(file_get_contents('php://input'));\n");
        Files.writeString(www.resolve("fields.php"), "<?php foreach ($_GET['h'] as $h) { header($h, false); }"
                + " echo 'the page';\n");
        byte[] block = new byte[1 << 20];
        new Random(11).nextBytes(block);
        ten = www.resolve("ten.bin");
        try (OutputStream out = Files.newOutputStream(ten)) {
            for (int i = 0; i < 10; i++) {
                block[0] = (byte) i;
                out.write(block);
            }
        }
        quarter = www.resolve("quarter.bin");
        Files.write(quarter, Arrays.copyOf(block, 256 * 1024));
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        Path tls = Files.createDirectories(dir.resolve("tls"));
        TrustingContext.selfSigned(tls);
        trusting = TrustingContext.of(tls.resolve("cert.pem"));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(null, fpm);
    }

    /** {@code extra}: more of the configuration (a log format, a backend's queue). */
    private static EdgeHarness started(String name, String extra) throws Exception {
        Path tls = dir.resolve("tls");
        return EdgeHarness.start(Files.createDirectories(dir.resolve(name)), """
                server.listen = ["127.0.0.1:%d ssl http2", "127.0.0.1:%d http2"]
                sites = [
                  { server-names = [localhost], default = true, root = "%s",
                    tls { certificate = "%s", key = "%s" },
                    locations = [
                      { match = "/", gzip.enabled = true }
                      { match = "~ \\\\.php$", fastcgi = php }
                      { match = "/vars", return = "200 $http2 $server_protocol $scheme $https" }
                      { match = "/client", return = "200 $remote_addr $http2" }
                    ] }
                ]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(port, clearPort, www, tls.resolve("cert.pem"), tls.resolve("key.pem"), fpm.address())
                + extra);
    }

    private static HttpClient client(HttpClient.Version version) {
        return HttpClient.newBuilder().version(version).sslContext(trusting).build();
    }

    private static HttpRequest.Builder request(String target) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + target));
    }

    private static HttpResponse<byte[]> get(HttpClient client, String target, String... headers) throws Exception {
        HttpRequest.Builder request = request(target);
        if (headers.length > 0) {
            request.headers(headers);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    @Test
    void staticFilesWholeInRangesAndRevalidatedGoOverH2() throws Exception {
        try (EdgeHarness edge = started("static", "")) {
            HttpClient h2 = client(HttpClient.Version.HTTP_2);
            HttpResponse<byte[]> small = get(h2, "/small.txt");
            assertThat(small.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(small.statusCode()).isEqualTo(200);
            assertThat(text(small)).isEqualTo("a small file\n");
            assertThat(small.headers().map()).doesNotContainKeys("connection", "keep-alive", "transfer-encoding");
            assertThat(small.headers().allValues("server")).containsExactly("edge/" + ServerField.VERSION);
            HttpResponse<byte[]> missing = get(h2, "/missing.txt");
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(text(missing)).as("edge's own page, signed as nginx's server_tokens signs its")
                    .contains("<hr><p>edge/" + ServerField.VERSION + "</p>");
            HttpResponse<byte[]> range = get(h2, "/ten.bin", "Range", "bytes=1048570-1048589");
            assertThat(range.statusCode()).isEqualTo(206);
            byte[] whole = Files.readAllBytes(ten);
            assertThat(range.body()).isEqualTo(Arrays.copyOfRange(whole, 1048570, 1048590));
            String etag = small.headers().firstValue("etag").orElseThrow();
            assertThat(get(h2, "/small.txt", "If-None-Match", etag).statusCode()).isEqualTo(304);
            HttpResponse<byte[]> large = get(h2, "/ten.bin");
            assertThat(large.body().length).isEqualTo(whole.length);
            assertThat(sha256(large.body())).isEqualTo(sha256(whole));
            HttpResponse<byte[]> zipped = get(h2, "/page.html", "Accept-Encoding", "gzip");
            assertThat(zipped.headers().firstValue("content-encoding")).hasValue("gzip");
            assertThat(new GZIPInputStream(new ByteArrayInputStream(zipped.body())).readAllBytes())
                    .isEqualTo(Files.readAllBytes(www.resolve("page.html")));
        }
    }

    @Test
    void aScriptIsToldHttp2AndGetsItsPostBody() throws Exception {
        try (EdgeHarness edge = started("php", "")) {
            HttpClient h2 = client(HttpClient.Version.HTTP_2);
            HttpResponse<byte[]> env = get(h2, "/env.php?n=1");
            assertThat(env.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(text(env)).isEqualTo("HTTP/2.0 on 1 -");
            byte[] body = new byte[300_000];
            new Random(3).nextBytes(body);
            HttpResponse<String> echoed = h2.send(request("/echo.php").POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(echoed.statusCode()).isEqualTo(200);
            assertThat(echoed.body()).isEqualTo(body.length + " " + HexFormat.of().formatHex(MessageDigest
                    .getInstance("MD5").digest(body)));
            assertThat(text(get(h2, "/vars"))).isEqualTo("h2 HTTP/2.0 https on");
        }
    }

    /** Fifty requests at once on the one connection the JDK's client keeps to a host: all answered, each its own. */
    @Test
    void manyStreamsOnOneConnection() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("many", """
                     server.access-log = "-"
                     server.access-log-format = "$connection $http2 \\"$request\\" $status"
                     """)) {
            HttpClient h2 = client(HttpClient.Version.HTTP_2);
            get(h2, "/small.txt"); // the connection, made once
            List<CompletableFuture<HttpResponse<byte[]>>> answers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String target = i % 2 == 0 ? "/env.php?n=" + i : "/quarter.bin";
                answers.add(h2.sendAsync(request(target).build(), HttpResponse.BodyHandlers.ofByteArray()));
            }
            String whole = sha256(Files.readAllBytes(quarter));
            for (int i = 0; i < 50; i++) {
                HttpResponse<byte[]> answer = answers.get(i).get(60, TimeUnit.SECONDS);
                assertThat(answer.statusCode()).as("request " + i).isEqualTo(200);
                if (i % 2 == 0) {
                    assertThat(text(answer)).isEqualTo("HTTP/2.0 on " + i + " -");
                } else {
                    assertThat(sha256(answer.body())).as("request " + i).isEqualTo(whole);
                }
            }
            await(() -> access.lines().size() == 51, "51 lines");
            String connection = access.lines().get(0).split(" ")[0];
            assertThat(access.lines()).allSatisfy(line -> assertThat(line).startsWith(connection + " h2 \"GET /")
                    .endsWith(" HTTP/2.0\" 200"));
            assertThat(access.lines()).contains(connection + " h2 \"GET /env.php?n=48 HTTP/2.0\" 200");
        }
    }

    @Test
    void http11StillGoesToTheSameListener() throws Exception {
        try (EdgeHarness edge = started("http11", "")) {
            HttpClient h1 = client(HttpClient.Version.HTTP_1_1);
            HttpResponse<byte[]> small = get(h1, "/small.txt");
            assertThat(small.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            assertThat(text(small)).isEqualTo("a small file\n");
            assertThat(text(get(h1, "/env.php?n=2"))).isEqualTo("HTTP/1.1 on 2 -");
            assertThat(text(get(h1, "/vars"))).isEqualTo(" HTTP/1.1 https on");
            assertThat(sha256(get(h1, "/ten.bin").body())).isEqualTo(sha256(Files.readAllBytes(ten)));
        }
    }

    /**
     * curl's HTTP/2 (nghttp2, which refuses an answer with a connection-specific field): a script, a HEAD, an upload
     * that waits for 100 Continue.
     */
    @Test
    void curlGetsAScriptAndAHeadOverH2() throws Exception {
        try (EdgeHarness edge = started("curl", "")) {
            assertThat(curl("-w", " %{http_version}", "https://127.0.0.1:" + port + "/env.php?n=4"))
                    .isEqualTo("HTTP/2.0 on 4 - 2");
            assertThat(curl("-I", "https://127.0.0.1:" + port + "/small.txt")).startsWith("HTTP/2 200")
                    .contains("content-length: 13").doesNotContain("connection:");
            // a body sent once the script's location asked for it: the 100 Continue a HEADERS frame of its own
            Path upload = dir.resolve("upload.bin");
            byte[] body = new byte[2_000_000];
            new Random(5).nextBytes(body);
            Files.write(upload, body);
            assertThat(curl("-H", "Expect: 100-continue", "--data-binary", "@" + upload, "https://127.0.0.1:" + port
                    + "/echo.php")).isEqualTo(body.length + " " + HexFormat.of().formatHex(MessageDigest
                    .getInstance("MD5").digest(body)));
        }
    }

    /**
     * A script's fields about one connection (Upgrade, TE, Proxy-Connection, Keep-Alive, Connection) never reach an h2
     * client: they would make the answer malformed (RFC 9113 8.2.2), and nghttp2 behind curl would reset the stream
     * (nginx 1.22 sends a script's Upgrade, TE and Proxy-Connection on over HTTP/2 too). The fields its Connection
     * names are the answer's as any other: header('Connection: Location') keeps the redirect's target; Trailer goes.
     */
    @Test
    void aScriptsConnectionFieldsNeverReachAnH2ClientAndTheFieldsItNamesDo() throws Exception {
        String fields = Stream.of("Connection: Location", "Location: /elsewhere", "Upgrade: h2c", "TE: gzip",
                "Proxy-Connection: keep-alive", "Keep-Alive: timeout=5", "Trailer: X-Sum")
                .map(h -> "h%5B%5D=" + URLEncoder.encode(h, StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        try (EdgeHarness edge = started("fields", "")) {
            String said = curl("-i", "https://127.0.0.1:" + port + "/fields.php?" + fields);
            assertThat(said).startsWith("HTTP/2 302").contains("location: /elsewhere\r\n", "trailer: X-Sum\r\n")
                    .doesNotContainPattern("(?im)^(upgrade|te|proxy-connection|keep-alive|connection):")
                    .endsWith("the page");
        }
    }

    /** What curl, speaking h2 and trusting the test's certificate, printed; it must succeed. */
    private static String curl(String... args) throws Exception {
        List<String> command = Curl.command("--http2", "--cacert", dir.resolve("tls/cert.pem").toString());
        command.addAll(List.of(args));
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(said).isZero();
        return said;
    }

    /** Each stream is held to the request limits: answered on its own, the connection going on. */
    @Test
    void theRequestLimitsAnswerEachStream() throws Exception {
        try (EdgeHarness edge = started("limits", """
                server.limits { body = 1k, request-line = 200, header-count = 20 }
                """)) {
            HttpClient h2 = client(HttpClient.Version.HTTP_2);
            HttpResponse<String> tooLarge = h2.send(request("/echo.php").POST(HttpRequest.BodyPublishers.ofByteArray(
                    new byte[4096])).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(tooLarge.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(tooLarge.statusCode()).isEqualTo(413);
            assertThat(get(h2, "/small.txt?" + "x".repeat(300)).statusCode()).isEqualTo(414);
            List<String> headers = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                headers.add("X-Field-" + i);
                headers.add("v");
            }
            assertThat(get(h2, "/small.txt", headers.toArray(String[]::new)).statusCode()).isEqualTo(431);
            assertThat(text(get(h2, "/small.txt"))).isEqualTo("a small file\n");
        }
    }

    /**
     * A body over a location's limit gets the site's 413 page on a stream as on HTTP/1.1: a page a script location
     * takes ({@code 413 = "/413.php"}) runs as a GET without the body, for a body declared over the limit and for one
     * found over it as it comes (no length said); a file's page goes as it is.
     */
    @Test
    void aBodyOverTheLimitGetsTheSitesPageOnAStream() throws Exception {
        Files.writeString(www.resolve("413.php"), "<?php echo 'page ', $_SERVER['REQUEST_METHOD'], ' [',"
                + " file_get_contents('php://input'), ']';");
        Files.writeString(www.resolve("413.html"), "<p>too large</p>\n");
        for (String page : new String[] {"/413.php", "/413.html"}) {
            try (EdgeHarness edge = started("pages" + page.substring(5), """
                    server.limits.body = 1k
                    site-defaults.error-pages { 413 = "%s" }
                    """.formatted(page))) {
                HttpClient h2 = client(HttpClient.Version.HTTP_2);
                String expected = page.equals("/413.php") ? "page GET []" : "<p>too large</p>\n";
                for (HttpRequest.BodyPublisher body : List.of(HttpRequest.BodyPublishers.ofByteArray(new byte[4096]),
                        HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[4096])))) {
                    String as = page + ", " + (body.contentLength() < 0 ? "no length said" : "a length said");
                    HttpResponse<String> tooLarge = h2.send(request("/echo.php").POST(body).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(tooLarge.version()).as(as).isEqualTo(HttpClient.Version.HTTP_2);
                    assertThat(tooLarge.statusCode()).as(as).isEqualTo(413);
                    assertThat(tooLarge.body()).as(as).isEqualTo(expected);
                }
            }
        }
    }

    /**
     * A stream reset in the middle of a script's answer ends its FastCGI request as a client's close does on HTTP/1:
     * the script is told (connection_aborted), and the backend's one connection is free for the next request on the
     * same connection, which would get 503 at once were it still held.
     */
    @Test
    void aStreamResetMidScriptFreesItsBackend() throws Exception {
        Path ended = dir.resolve("reset-ended");
        PhpScripts.streamNotingItsEnd(www, ended);
        try (EdgeHarness edge = started("reset", """
                fastcgi.backends.php { max-connections = 1, queue.max-waiters = 0 }
                """);
             NettyClient client = new NettyClient()) {
            Answer streamed = new Answer();
            Http2StreamChannel stream = client.get("/stream.php", streamed);
            await(() -> streamed.bytes.get() > 64 * 1024, "some of the answer");
            stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).sync();
            assertThat(PhpScripts.noted(ended, "the script's end"))
                    .as("stopped at an output after its stream was reset")
                    .startsWith("aborted=1 ").doesNotEndWith(" lines=5000");
            Answer next = new Answer();
            client.get("/env.php?n=3", next);
            await(() -> next.done, "the next answer");
            assertThat(next.status).isEqualTo("200");
            assertThat(next.body.toString(StandardCharsets.UTF_8)).isEqualTo("HTTP/2.0 on 3 -");
        }
    }

    /**
     * Rapid Reset (CVE-2023-44487): a client that opens streams and resets each at once, more than 200 in 30 seconds,
     * loses its connection, as nginx's own bound on it ends such a connection; 150 leave it serving. h2c's too.
     */
    @ParameterizedTest(name = "tls {0}")
    @ValueSource(booleans = {true, false})
    void aClientResettingStreamsFasterThanTheBoundLosesItsConnection(boolean tls) throws Exception {
        try (EdgeHarness edge = started("rapid-reset-" + tls, "");
             NettyClient within = new NettyClient(tls);
             NettyClient past = new NettyClient(tls)) {
            resetStreams(within, 150);
            Answer still = new Answer();
            within.get("/small.txt", still);
            await(() -> still.done, "an answer after 150 resets");
            assertThat(still.status).isEqualTo("200");
            resetStreams(past, 300);
            await(() -> !past.connection.isActive(), "the close of a connection that reset 300 streams");
            assertThat(within.connection.isActive()).isTrue();
        }
    }

    /** Opens {@code count} streams on {@code client}'s connection and resets each at once, while it is open. */
    private static void resetStreams(NettyClient client, int count) throws Exception {
        for (int i = 0; i < count && client.connection.isActive(); i++) {
            try {
                // its body still to come: the stream is open at edge when its reset arrives
                client.postWithoutBody("/echo.php").writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL))
                        .sync();
            } catch (Exception closed) { // the connection ended meanwhile
                assertThat(client.connection.isActive()).as("open after " + closed).isFalse();
            }
        }
    }

    /**
     * A malformed request (RFC 9113 8.1.1): a Host that is not its :authority, a path with a blank, answered 400 and
     * logged {@code "-" 400}, as nginx answers and logs them; a body shorter than its content-length, a stream error
     * once the request was taken, reset PROTOCOL_ERROR. The connection serves on.
     */
    @Test
    void aMalformedRequestIsAnswered400OrResetAsAProtocolError() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("malformed", """
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             NettyClient client = new NettyClient()) {
            DefaultHttp2Headers twoHosts = headers("/small.txt");
            twoHosts.add("host", "other.example");
            Answer otherHost = new Answer();
            client.open(twoHosts, otherHost, true);
            Answer blank = new Answer();
            client.get("/small .txt", blank);
            await(() -> otherHost.done && blank.done, "the 400s");
            assertThat(otherHost.status).isEqualTo("400");
            assertThat(blank.status).isEqualTo("400");
            await(() -> access.lines().size() == 2, "2 lines");
            assertThat(access.lines()).containsExactly("\"-\" 400", "\"-\" 400");
            DefaultHttp2Headers post = headers("/echo.php");
            post.method("POST").setInt("content-length", 10);
            Answer shortBody = new Answer();
            client.open(post, shortBody, false).writeAndFlush(new DefaultHttp2DataFrame(
                    Unpooled.wrappedBuffer(new byte[5]), true)).sync();
            await(() -> shortBody.reset != null, "the stream's reset");
            assertThat(shortBody.reset).as("a body shorter than its content-length").isEqualTo(
                    Http2Error.PROTOCOL_ERROR.code());
            Answer still = new Answer();
            client.get("/small.txt", still);
            await(() -> still.done, "an answer after them");
            assertThat(still.status).isEqualTo("200");
        }
    }

    /**
     * A client that breaks the protocol (a DATA frame on stream 0) loses its connection with a GOAWAY PROTOCOL_ERROR, and
     * no stack trace: any client could fill the error log with them (nginx logs it at info).
     */
    @Test
    void aConnectionErrorClosesQuietly() throws Exception {
        try (CapturedLog pipeline = CapturedLog.of("io.netty.channel.DefaultChannelPipeline");
             EdgeHarness edge = started("connection-error", "");
             NettyClient client = new NettyClient()) {
            Answer first = new Answer();
            client.get("/small.txt", first);
            await(() -> first.done, "an answer");
            byte[] dataOnStreamZero = {0, 0, 0, 0, 1, 0, 0, 0, 0};
            client.connection.pipeline().context(Http2FrameCodec.class)
                    .writeAndFlush(Unpooled.wrappedBuffer(dataOnStreamZero)).sync();
            await(() -> !client.connection.isActive(), "the connection's close");
            assertThat(client.goAway).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
            assertThat(pipeline.warnings()).isEmpty();
        }
    }

    /**
     * A header block malformed by RFC 9113 8.2 (an uppercase field name, a connection-specific field, a TE other than
     * trailers): its stream reset PROTOCOL_ERROR, as nginx resets it, logged in the error log (as nginx's "client sent
     * invalid header name", throttled) and as {@code "-" 400} in the access log. The connection serves on.
     */
    @Test
    void anInvalidHeaderResetsItsStreamAndIsLogged() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             CapturedLog errors = CapturedLog.of("io.edge.core.http.Http2Connection");
             EdgeHarness edge = started("invalid-header", """
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             NettyClient client = new NettyClient()) {
            List<String[]> invalid = List.of(new String[] {"connection", "close"}, new String[] {"X-Upper", "a"},
                    new String[] {"te", "gzip"}, new String[] {"transfer-encoding", "chunked"},
                    new String[] {"upgrade", "h2c"}, new String[] {"keep-alive", "5"});
            for (String[] field : invalid) {
                DefaultHttp2Headers headers = new DefaultHttp2Headers(false); // the client's own checks off
                headers.method("GET").path("/small.txt").authority("localhost").add(field[0], field[1]);
                Answer refused = new Answer();
                client.open(headers, refused, true);
                await(() -> refused.reset != null, "the reset of a stream with " + field[0]);
                assertThat(refused.reset).as(field[0]).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
                assertThat(refused.status).as(field[0]).isNull();
            }
            await(() -> access.lines().size() == invalid.size(), invalid.size() + " lines");
            assertThat(access.lines()).containsOnly("\"-\" 400");
            assertThat(errors.warnings()).singleElement().asString()
                    .startsWith("HTTP/2 client 127.0.0.1 sent an invalid header block on stream 3, reset"
                            + " (PROTOCOL_ERROR): ").contains("'connection'");
            Answer still = answered(client, "/small.txt");
            assertThat(still.status).isEqualTo("200");
        }
    }

    /**
     * A header list that decodes past {@code limits.header-block} ends the connection with a GOAWAY
     * ENHANCE_YOUR_CALM, no answer and no reset of its stream before it, as nginx 1.22 ends it at the first ("client
     * sent too large header", measured with a raw-frame client): an HPACK bomb lets a few bytes name a large field
     * sent before. A stream answered before it was served; the list is in the error log and as {@code "-" 000} in the
     * access log, as nginx 1.22 logs it (measured: h2c, one 40 000-byte field; edge logged "-" 431, a status it never
     * sent).
     */
    @Test
    void aHeaderListPastTheLimitEndsTheConnection() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             CapturedLog errors = CapturedLog.of("io.edge.core.http.Http2Connection");
             EdgeHarness edge = started("header-list", """
                     server.limits.header-block = 4 KiB
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             NettyClient client = new NettyClient()) {
            assertThat(answered(client, "/small.txt").status).isEqualTo("200");
            DefaultHttp2Headers large = headers("/small.txt");
            large.add("x-large", "v".repeat(5000));
            Answer refused = new Answer();
            client.open(large, refused, true);
            await(() -> !client.connection.isActive(), "the connection's close");
            assertThat(client.goAway).isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
            assertThat(refused.status).as("no answer").isNull();
            assertThat(refused.reset).as("no reset").isNull();
            await(() -> access.lines().size() == 2, "2 lines");
            assertThat(access.lines()).containsExactly("\"GET /small.txt HTTP/2.0\" 200", "\"-\" 000");
            assertThat(errors.warnings()).containsExactly(
                    "HTTP/2 client 127.0.0.1 sent a header list past server.limits.header-block (4096 bytes decoded)"
                            + " on stream 5; connection closed (GOAWAY ENHANCE_YOUR_CALM)");
        }
    }

    /**
     * The GOAWAY ENHANCE_YOUR_CALM of a header list past the limit ends the reading too, as nginx's does: the frames
     * that came after it in the same read (a client's burst: requests) are not decoded, and open no stream, where they opened and began one each, served to a connection already closed (499).
     */
    @Test
    void framesAfterAHeaderListPastTheLimitAreNotRead() throws Exception {
        java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
        burst.writeBytes(largeHeaders(1));
        for (int stream = 3; stream < 25; stream += 2) {
            burst.writeBytes(getVars(stream));
        }
        assertThat(accessLinesOfBurst("header-list-burst", "server.limits.header-block = 4 KiB\n", burst))
                .containsExactly("\"-\" 000");
    }

    /**
     * A header list past the limit on a stream already answered and closed (trailers, or HEADERS again) is that
     * stream's error, reset by the codec: not one more request refused, neither logged {@code "-" 000} (its request
     * was logged already) nor ending the connection. Nor, malformed, {@code "-" 400}. A new stream's ends it.
     */
    @Test
    void aHeaderListOnAStreamClosedIsNoRequestRefused() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             CapturedLog errors = CapturedLog.of("io.edge.core.http.Http2Connection");
             EdgeHarness edge = started("header-list-closed-stream", """
                     server.limits.header-block = 4 KiB
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             java.net.Socket socket = new java.net.Socket("127.0.0.1", clearPort)) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(concat(PREFACE_AND_SETTINGS, GET_VARS));
            await(() -> access.lines().size() == 1, "the answer's line");
            byte[] upper = concat(getVars(1), new byte[] {0, 1, 'X', 1, 'a'});
            upper[2] += 5;
            out.write(concat(largeHeaders(1), upper, getVars(3)));
            await(() -> access.lines().size() == 2, "the second answer's line");
            out.write(largeHeaders(5));
            socket.getInputStream().readAllBytes(); // a new stream's past the limit ends it
            assertThat(access.lines()).containsExactly("\"GET /vars HTTP/2.0\" 200", "\"GET /vars HTTP/2.0\" 200",
                    "\"-\" 000");
            assertThat(errors.warnings()).singleElement().asString().contains("on stream 5; connection closed");
        }
    }

    /**
     * A burst of malformed header blocks, each reset (PROTOCOL_ERROR) and logged: past the resets the codec sends in
     * its window (200) it ends the connection, and the rest of the burst is read no more, nor logged.
     */
    @Test
    void aBurstOfInvalidHeaderBlocksIsNotReadPastTheConnectionsEnd() throws Exception {
        java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
        for (int stream = 1; stream < 1000; stream += 2) { // 500 streams, each with an uppercase field name
            byte[] upper = concat(GET_VARS, new byte[] {0, 1, 'X', 1, 'a'});
            upper[2] += 5;
            upper[7] = (byte) (stream >> 8);
            upper[8] = (byte) stream;
            burst.writeBytes(upper);
        }
        assertThat(accessLinesOfBurst("invalid-burst", "", burst)).hasSizeLessThanOrEqualTo(201)
                .containsOnly("\"-\" 400");
    }

    /**
     * The access log's lines of a connection to the h2c listener that sends the preface, its SETTINGS and {@code
     * frames} in one write (read by edge at once), then reads until edge closes it.
     */
    private static List<String> accessLinesOfBurst(String name, String extra, java.io.ByteArrayOutputStream frames)
            throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started(name, extra + """
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             java.net.Socket socket = new java.net.Socket("127.0.0.1", clearPort)) {
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write(concat(PREFACE_AND_SETTINGS, frames.toByteArray()));
            socket.getInputStream().readAllBytes();
            Thread.sleep(500); // lines of streams opened after the close, if any
            return access.lines();
        }
    }

    /**
     * HEADERS on {@code stream}, END_STREAM and END_HEADERS, whose list decodes past 4 KiB (35 fields of 100-byte
     * values: 4655 bytes as RFC 9113 counts them) though its block, 3 640 bytes, is within the 5 KiB its encoded
     * size may reach (the frame reader's own limit, a quarter more).
     */
    private static byte[] largeHeaders(int stream) {
        java.io.ByteArrayOutputStream block = new java.io.ByteArrayOutputStream();
        block.writeBytes(new byte[] {(byte) 0x82, (byte) 0x86, 0x04, 5});
        block.writeBytes("/vars".getBytes(StandardCharsets.US_ASCII));
        block.writeBytes(new byte[] {0x01, 9});
        block.writeBytes("localhost".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 35; i++) { // literal without indexing, new name "x", a 100-byte value
            block.writeBytes(new byte[] {0, 1, 'x', 100});
            block.writeBytes("v".repeat(100).getBytes(StandardCharsets.US_ASCII));
        }
        return concat(frameHead(block.size(), HEADERS, 5, stream), block.toByteArray());
    }

    /** {@link #GET_VARS} on {@code stream}. */
    private static byte[] getVars(int stream) {
        byte[] get = GET_VARS.clone();
        get[8] = (byte) stream;
        return get;
    }

    private static byte[] frameHead(int length, int type, int flags, int stream) {
        return new byte[] {(byte) (length >> 16), (byte) (length >> 8), (byte) length, (byte) type, (byte) flags,
            (byte) (stream >>> 24), (byte) (stream >> 16), (byte) (stream >> 8), (byte) stream};
    }

    /**
     * h2c with prior knowledge, frames written by hand: a client that sends the preface and its SETTINGS, then its FIN,
     * is closed at once (nginx closes it at once too), not held for the keep-alive wait; one that sends a request first
     * gets its answer, then the close.
     */
    @ParameterizedTest(name = "with a request {0}")
    @ValueSource(booleans = {false, true})
    void aClientThatHalfClosesIsClosedOnceNoStreamIsOpen(boolean withRequest) throws Exception {
        try (EdgeHarness edge = started("half-close-" + withRequest, "server.timeouts.keep-alive = 1h\n");
             java.net.Socket socket = new java.net.Socket("127.0.0.1", clearPort)) {
            socket.setSoTimeout(60_000); // far below the keep-alive wait: the close must not be that one
            OutputStream out = socket.getOutputStream();
            out.write(PREFACE_AND_SETTINGS);
            if (withRequest) {
                out.write(GET_VARS);
            }
            socket.shutdownOutput();
            List<Integer> types = new ArrayList<>();
            java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
            byte[] head = new byte[9];
            while (in.read(head, 0, 1) == 1) { // the end of the stream: edge closed the connection
                in.readFully(head, 1, 8);
                int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
                in.readFully(new byte[length]);
                types.add((int) head[3]);
            }
            assertThat(types).as("frame types").startsWith(SETTINGS).endsWith(GOAWAY);
            assertThat(types.contains(HEADERS)).as("an answer").isEqualTo(withRequest);
        }
    }

    /**
     * A client's FIN with a stream whose request body is still coming: that body can come no more, so the stream is
     * reset and its exchange ended (499), as HTTP/1's is at a FIN mid-body, and the connection closes, not held for
     * {@code timeouts.body}. The FIN goes once edge has answered a PING sent after the body's first bytes, so it has
     * read them (a FastCGI location's body is read whole before php-fpm is asked), not after a wait of 300 ms.
     */
    @Test
    void aHalfCloseMidBodyEndsTheStream() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("half-close-mid-body", """
                     server.timeouts.body = 1h
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             java.net.Socket socket = new java.net.Socket("127.0.0.1", clearPort)) {
            socket.setSoTimeout(30_000); // far below the body timeout
            // POST (static index 3) /echo.php, content-length (28) 100, then 10 bytes of it
            byte[] block = concat(new byte[] {(byte) 0x83, (byte) 0x86, 0x04, 9},
                    "/echo.php".getBytes(StandardCharsets.US_ASCII), new byte[] {0x01, 9},
                    "localhost".getBytes(StandardCharsets.US_ASCII), new byte[] {0x0f, 0x0d, 3, '1', '0', '0'});
            OutputStream out = socket.getOutputStream();
            // then a PING: its ACK says edge read the frames before it, the stream open with its body still coming
            out.write(concat(PREFACE_AND_SETTINGS, frameHead(block.length, HEADERS, 4, 1), block,
                    frameHead(10, 0, 0, 1), new byte[10], frameHead(8, PING, 0, 0), new byte[8]));
            java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
            byte[] head = new byte[9];
            do {
                in.readFully(head);
                in.readFully(new byte[(head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff]);
            } while (head[3] != PING || (head[4] & 1) == 0);
            socket.shutdownOutput();
            socket.getInputStream().readAllBytes(); // until edge closes the connection
            await(() -> access.lines().size() == 1, "the access log's line");
            assertThat(access.lines()).containsExactly("\"POST /echo.php HTTP/2.0\" 499");
        }
    }

    /**
     * A client's FIN while its stream's script runs: an exchange that ends with its client (FastCGI, proxy) has its
     * client gone, so the stream is reset (499, php-fpm's request aborted) and the connection closes, as HTTP/1's
     * exchange ends at the FIN; not held until the script answers a client that left.
     */
    @Test
    void aHalfCloseEndsAStreamWhoseScriptRuns() throws Exception {
        Path started = dir.resolve("wait-started");
        Files.writeString(www.resolve("wait.php"), "<?php touch('" + started + "'); sleep(8); echo 'late';");
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("half-close-script", """
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             java.net.Socket socket = new java.net.Socket("127.0.0.1", clearPort)) {
            socket.setSoTimeout(30_000);
            // GET (static index 2), http (6), :path /wait.php, :authority localhost; END_STREAM | END_HEADERS
            byte[] block = concat(new byte[] {(byte) 0x82, (byte) 0x86, 0x04, 9},
                    "/wait.php".getBytes(StandardCharsets.US_ASCII), new byte[] {0x01, 9},
                    "localhost".getBytes(StandardCharsets.US_ASCII));
            OutputStream out = socket.getOutputStream();
            out.write(concat(PREFACE_AND_SETTINGS, frameHead(block.length, HEADERS, 5, 1), block));
            await(() -> Files.exists(started), "the script running");
            socket.shutdownOutput();
            socket.getInputStream().readAllBytes(); // until edge closes the connection
            await(() -> access.lines().size() == 1, "the access log's line");
            assertThat(access.lines()).containsExactly("\"GET /wait.php HTTP/2.0\" 499");
        }
    }

    /**
     * A connection to the h2c listener that sends part of HTTP/2's preface and no more: at {@code request-head}
     * answered 408 and logged {@code "-" 408}, as an HTTP/1 head that stops (what it sent is HTTP/1 as much as
     * HTTP/2 so far), where it was closed unlogged.
     */
    @Test
    void aPartialPrefaceIsAnswered408AndLoggedAtTheHeadTimeout() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("partial-preface", """
                     server.timeouts.request-head = 1s
                     server.access-log = "-"
                     server.access-log-format = "\\"$request\\" $status"
                     """);
             java.net.Socket socket = new java.net.Socket("127.0.0.1", clearPort)) {
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write(Arrays.copyOf(PREFACE_AND_SETTINGS, 10));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 408 ");
            await(() -> access.lines().size() == 1, "the access log's line");
            assertThat(access.lines()).containsExactly("\"-\" 408");
        }
    }

    /*
     * Frames written by hand (RFC 9113 4.1): a 9-byte header, then the payload
     *   +-----------------------------------------------+
     *   |                 Length (24)                   |
     *   +---------------+---------------+---------------+
     *   |   Type (8)    |   Flags (8)   |
     *   +-+-------------+---------------+-------------------------------+
     *   |R|                 Stream Identifier (31)                      |
     *   +=+=============================================================+
     */
    private static final int HEADERS = 1;
    private static final int SETTINGS = 4;
    private static final int PING = 6;
    private static final int GOAWAY = 7;
    /** The client preface, then an empty SETTINGS frame. */
    private static final byte[] PREFACE_AND_SETTINGS = concat("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII), new byte[] {0, 0, 0, SETTINGS, 0, 0, 0, 0, 0});
    /**
     * HEADERS on stream 1, END_STREAM and END_HEADERS: GET (static index 2), http (6), :path "/vars" and :authority
     * "localhost" as literals without indexing of static names 4 and 1.
     */
    private static final byte[] GET_VARS = concat(new byte[] {0, 0, 20, HEADERS, 5, 0, 0, 0, 1, (byte) 0x82,
            (byte) 0x86, 0x04, 5}, "/vars".getBytes(StandardCharsets.US_ASCII), new byte[] {0x01, 9},
            "localhost".getBytes(StandardCharsets.US_ASCII));

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    /** As nginx's keepalive_timeout: a connection with no stream open for it is closed, GOAWAY first; h2c's too. */
    @ParameterizedTest(name = "tls {0}")
    @ValueSource(booleans = {true, false})
    void anIdleConnectionClosesAfterTheKeepAliveTimeout(boolean tls) throws Exception {
        try (EdgeHarness edge = started("idle-" + tls, "server.timeouts.keep-alive = 1s\n");
             NettyClient client = new NettyClient(tls)) {
            Answer answer = new Answer();
            client.get("/small.txt", answer);
            await(() -> answer.done, "the answer");
            assertThat(answer.status).isEqualTo("200");
            await(() -> !client.connection.isActive(), "the idle connection's close");
            assertThat(client.goAway).isEqualTo(Http2Error.NO_ERROR.code());
        }
    }

    /**
     * As nginx's keepalive_requests bounds an HTTP/2 connection's streams: the third of three sends GOAWAY and is
     * answered whole before the connection closes; the fourth request goes on a new connection, counted from one.
     * (Netty's client: the JDK's before 24 fails a request in flight when a GOAWAY comes, JDK-8335181.)
     */
    @Test
    void keepAliveRequestsEndsAConnectionWithGoAwayAtItsLastStream() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("keep-alive-requests", """
                     server.limits.keep-alive-requests = 3
                     server.access-log = "-"
                     server.access-log-format = "$connection $connection_requests $request_uri $status"
                     """);
             NettyClient first = new NettyClient();
             NettyClient second = new NettyClient()) {
            for (int i = 1; i <= 3; i++) {
                Answer answer = answered(first, "/env.php?n=" + i);
                assertThat(answer.body.toString(StandardCharsets.UTF_8)).isEqualTo("HTTP/2.0 on " + i + " -");
                assertThat(first.goAway).as("a GOAWAY after answer " + i).isEqualTo(i < 3 ? null
                        : Http2Error.NO_ERROR.code());
            }
            await(() -> !first.connection.isActive(), "the connection's close after its third stream");
            assertThat(answered(second, "/small.txt?n=4").status).isEqualTo("200");
            await(() -> access.lines().size() == 4, "4 lines");
            String[] fourth = access.lines().get(3).split(" ");
            String connection = access.lines().get(0).split(" ")[0];
            assertThat(access.lines().subList(0, 3)).containsExactly(connection + " 1 /env.php?n=1 200",
                    connection + " 2 /env.php?n=2 200", connection + " 3 /env.php?n=3 200");
            assertThat(fourth[0]).isNotEqualTo(connection);
            assertThat(fourth[1]).isEqualTo("1");
        }
    }

    /**
     * At max-connections an HTTP/2 connection with no stream open is closed (GOAWAY) to make room for a new client, as
     * an idle kept-alive HTTP/1 one is, and as nginx drains its reusable connections; its keep-alive wait is far off.
     */
    @Test
    void anIdleConnectionIsClosedToMakeRoomAtMaxConnections() throws Exception {
        try (EdgeHarness edge = started("make-room", """
                server.max-connections = 1
                server.timeouts.keep-alive = 10 m
                """);
             NettyClient idle = new NettyClient()) {
            assertThat(answered(idle, "/small.txt").status).isEqualTo("200");
            CompletableFuture<HttpResponse<byte[]>> next = client(HttpClient.Version.HTTP_2).sendAsync(
                    request("/small.txt").build(), HttpResponse.BodyHandlers.ofByteArray());
            await(() -> !idle.connection.isActive(), "the idle connection's close");
            assertThat(idle.goAway).isEqualTo(Http2Error.NO_ERROR.code());
            assertThat(text(next.get(60, TimeUnit.SECONDS))).isEqualTo("a small file\n");
        }
    }

    /** {@code client}'s whole answer to a GET of {@code path}. */
    private static Answer answered(NettyClient client, String path) throws Exception {
        Answer answer = new Answer();
        client.get(path, answer);
        await(() -> answer.done, "the answer to " + path);
        return answer;
    }

    /**
     * A stop drains an HTTP/2 connection as nginx's graceful shutdown does: GOAWAY at once, naming the last stream
     * taken, and the stream in flight answered whole before the connection closes. h2c's too.
     */
    @ParameterizedTest(name = "tls {0}")
    @ValueSource(booleans = {true, false})
    void aStopSendsGoAwayAndLetsTheStreamInFlightFinish(boolean tls) throws Exception {
        Path started = dir.resolve("drain-started-" + tls);
        Path release = dir.resolve("drain-release-" + tls);
        waitingScript("wait-" + tls + ".php", started, release);
        EdgeHarness edge = started("drain-" + tls, "");
        try (NettyClient client = new NettyClient(tls)) {
            Answer waiting = new Answer();
            client.get("/wait-" + tls + ".php", waiting);
            await(() -> Files.exists(started), "the script running");
            Thread stopping = new Thread(edge::close, "stopping edge");
            stopping.start();
            await(() -> client.goAway != null, "a GOAWAY");
            assertThat(client.connection.isActive()).isTrue();
            Files.writeString(release, "go");
            await(() -> waiting.done, "the answer in flight");
            assertThat(waiting.status).isEqualTo("200");
            assertThat(waiting.body.toString(StandardCharsets.UTF_8)).isEqualTo("finished");
            await(() -> !client.connection.isActive(), "the connection's close");
            stopping.join(30_000);
        } finally {
            edge.close();
        }
    }

    /** Writes {@code name}, a script that touches {@code started}, then answers "finished" once {@code release} exists. */
    private static void waitingScript(String name, Path started, Path release) throws IOException {
        Files.writeString(www.resolve(name), """
                <?php
                touch('%s');
                while (!file_exists('%s')) { usleep(20000); }
                echo 'finished';
                """.formatted(started, release));
    }

    /**
     * As nginx's send_timeout: a client that opens no window for the answers it asked for (its streams' initial
     * window 0, never a WINDOW_UPDATE) has its connection reset once its output has not moved for timeouts.write, a
     * file's answer and a script's ended with it (the script told, its backend freed); a connection waiting for a
     * script still thinking, owing nothing, stays and gets its answer.
     */
    @Test
    void aClientThatOpensNoWindowIsResetAfterTheWriteTimeout() throws Exception {
        Path ended = dir.resolve("stalled-ended");
        PhpScripts.streamNotingItsEnd(www, ended);
        Path started = dir.resolve("think-started");
        Path release = dir.resolve("think-release");
        waitingScript("think.php", started, release);
        try (EdgeHarness edge = started("write-timeout", "server.timeouts.write = 1s\n");
             NettyClient thinking = new NettyClient(Http2Settings.defaultSettings());
             NettyClient stalled = new NettyClient(Http2Settings.defaultSettings().initialWindowSize(0))) {
            Answer waiting = new Answer();
            thinking.get("/think.php", waiting);
            await(() -> Files.exists(started), "the thinking script running");
            Answer file = new Answer();
            Answer script = new Answer();
            stalled.get("/ten.bin", file);
            stalled.get("/stream.php", script);
            await(() -> !stalled.connection.isActive(), "the stalled connection's close");
            assertThat(stalled.goAway).as("reset, not closed gracefully").isNull();
            assertThat(file.done || script.done).isFalse();
            assertThat(PhpScripts.noted(ended, "the stalled script's end")).startsWith("aborted=1 ");
            assertThat(thinking.connection.isActive()).isTrue();
            Files.writeString(release, "go");
            await(() -> waiting.done, "the thought-out answer");
            assertThat(waiting.body.toString(StandardCharsets.UTF_8)).isEqualTo("finished");
        }
    }

    /**
     * h2c on the plain listener marked http2, as nginx's {@code listen 80 http2} since 1.25.1: curl with prior
     * knowledge gets a script, a large file and a HEAD over HTTP/2 with $http2 "h2c" and $scheme http, as nginx's, the access log
     * saying {@code HTTP/2.0}; Netty's client over plain TCP gets many streams on one connection.
     */
    @Test
    void h2cByPriorKnowledgeOnThePlainListener() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("h2c", """
                     server.access-log = "-"
                     server.access-log-format = "$http2 \\"$request\\" $status"
                     """);
             NettyClient client = new NettyClient(false)) {
            String clear = "http://127.0.0.1:" + clearPort;
            assertThat(curl("--http2-prior-knowledge", "-w", " %{http_version}", clear + "/env.php?n=5"))
                    .isEqualTo("HTTP/2.0 - 5 - 2");
            assertThat(curl("--http2-prior-knowledge", clear + "/vars")).isEqualTo("h2c HTTP/2.0 http ");
            assertThat(curl("--http2-prior-knowledge", "-I", clear + "/small.txt")).startsWith("HTTP/2 200")
                    .contains("content-length: 13").doesNotContain("connection:");
            assertThat(curlSha256("--http2-prior-knowledge", clear + "/ten.bin"))
                    .isEqualTo(sha256(Files.readAllBytes(ten)));
            List<Answer> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Answer answer = new Answer();
                client.get(i % 2 == 0 ? "/env.php?n=" + i : "/quarter.bin", answer);
                answers.add(answer);
            }
            for (int i = 0; i < 20; i++) {
                Answer answer = answers.get(i);
                await(() -> answer.done, "answer " + i);
                assertThat(answer.status).isEqualTo("200");
                if (i % 2 == 0) {
                    assertThat(answer.body.toString(StandardCharsets.UTF_8)).isEqualTo("HTTP/2.0 - " + i + " -");
                } else {
                    assertThat(answer.bytes.get()).isEqualTo(Files.size(quarter));
                }
            }
            await(() -> access.lines().size() == 24, "24 lines");
            assertThat(access.lines()).allSatisfy(line -> assertThat(line).startsWith("h2c \"")
                    .contains(" HTTP/2.0\" "));
            assertThat(access.lines()).contains("h2c \"GET /env.php?n=18 HTTP/2.0\" 200", "h2c \"HEAD /small.txt HTTP/2.0\" 200");
        }
    }

    /**
     * On the h2c listener anything that does not begin with HTTP/2's preface is HTTP/1.x as before: a request, one
     * asking for {@code Upgrade: h2c} (answered as HTTP/1.1, no 101, as nginx answers it; curl's {@code --http2} on an
     * http URL asks so), and one whose line begins as the preface does, {@code PRI * HTTP/1.1} (400, as nginx's).
     */
    @Test
    void http11AndAnUpgradeToH2cStayHttp11OnThePlainListener() throws Exception {
        try (EdgeHarness edge = started("h2c-http11", "")) {
            InetSocketAddress clear = new InetSocketAddress("127.0.0.1", clearPort);
            try (RawHttpClient client = new RawHttpClient(clear)) {
                RawHttpClient.Response plain = client.send("GET /vars HTTP/1.1\r\nHost: localhost\r\n\r\n").read();
                assertThat(plain.status()).isEqualTo(200);
                assertThat(plain.text()).isEqualTo(" HTTP/1.1 http ");
                RawHttpClient.Response upgrade = client.send("GET /vars HTTP/1.1\r\nHost: localhost\r\n"
                        + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
                        .read();
                assertThat(upgrade.status()).isEqualTo(200);
                assertThat(upgrade.text()).isEqualTo(" HTTP/1.1 http ");
                assertThat(upgrade.header("upgrade")).isNull();
                RawHttpClient.Response kept = client.send("GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n").read();
                assertThat(kept.text()).isEqualTo("a small file\n");
            }
            assertThat(curl("--http2", "-w", " %{http_version}", "http://127.0.0.1:" + clearPort + "/small.txt"))
                    .isEqualTo("a small file\n 1.1");
            try (RawHttpClient client = new RawHttpClient(clear)) {
                assertThat(client.send("PRI * HTTP/1.1\r\nHost: localhost\r\n\r\n").read().status()).isEqualTo(400);
            }
        }
    }

    /**
     * A connection to the h2c listener from a proxy that sends the PROXY protocol: its header first, then HTTP/2's
     * preface; the streams' client is the header's.
     */
    @Test
    void h2cAfterAProxyProtocolHeader() throws Exception {
        try (EdgeHarness edge = started("h2c-proxy-protocol", """
                server.real-ip { from = ["127.0.0.1"], proxy-protocol = true }
                """);
             NettyClient client = new NettyClient(false, Http2Settings.defaultSettings(),
                     "PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n")) {
            Answer answer = answered(client, "/client");
            assertThat(answer.status).isEqualTo("200");
            assertThat(answer.body.toString(StandardCharsets.UTF_8)).isEqualTo("203.0.113.7 h2c");
        }
    }

    /** The SHA-256 of what curl fetched. */
    private static String curlSha256(String... args) throws Exception {
        Path fetched = dir.resolve("curl-" + System.nanoTime());
        List<String> command = new ArrayList<>(List.of(args));
        command.addAll(List.of("-o", fetched.toString()));
        curl(command.toArray(String[]::new));
        try {
            return sha256(Files.readAllBytes(fetched));
        } finally {
            Files.delete(fetched);
        }
    }

    private static DefaultHttp2Headers headers(String path) {
        DefaultHttp2Headers headers = new DefaultHttp2Headers();
        headers.method("GET").path(path).scheme("https").authority("localhost");
        return headers;
    }

    /**
     * Netty's HTTP/2 client on one connection, over TLS by ALPN or in the clear with prior knowledge (h2c): streams
     * opened at will, a GOAWAY noted.
     */
    private static final class NettyClient implements AutoCloseable {
        private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        final Channel connection;
        private final boolean tls;
        /** The error code of the GOAWAY the server sent, or null before one. */
        volatile Long goAway;

        NettyClient() throws Exception {
            this(Http2Settings.defaultSettings());
        }

        /** {@code offered}: the client's SETTINGS (a window it opens to the server). */
        NettyClient(Http2Settings offered) throws Exception {
            this(true, offered, null);
        }

        /** Over TLS, or ({@code tls} false) h2c to the plain listener. */
        NettyClient(boolean tls) throws Exception {
            this(tls, Http2Settings.defaultSettings(), null);
        }

        /** {@code before}: what the connection sends before HTTP/2's preface (a PROXY protocol header), or null. */
        NettyClient(boolean tls, Http2Settings offered, String before) throws Exception {
            this.tls = tls;
            SslContext context = !tls ? null : SslContextBuilder.forClient()
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2)).build();
            connection = new Bootstrap().group(loops).channel(EpollSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            if (context != null) {
                                channel.pipeline().addLast(context.newHandler(channel.alloc(), "127.0.0.1", port));
                            }
                            if (before == null) {
                                addHttp2(channel.pipeline(), offered);
                                return;
                            }
                            // the codec sends its preface once the connection is up, before channelActive reaches a
                            // handler ahead of it: it comes after the header is written
                            channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(Unpooled.copiedBuffer(before, StandardCharsets.US_ASCII));
                                    addHttp2(ctx.pipeline(), offered);
                                    ctx.fireChannelActive();
                                    ctx.pipeline().remove(this);
                                }
                            });
                        }
                    }).connect("127.0.0.1", tls ? port : clearPort).sync().channel();
            // channelActive, which adds the codec behind a header, passes in the loop's task that ended the connect
            connection.eventLoop().submit(() -> { }).sync();
        }

        private void addHttp2(ChannelPipeline pipeline, Http2Settings offered) {
            // a header list past the one the server offers goes all the same: the tests send it on purpose
            pipeline.addLast(Http2FrameCodecBuilder.forClient().initialSettings(offered)
                            .encoderIgnoreMaxHeaderListSize(true).build(),
                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                    new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof Http2GoAwayFrame frame) {
                                goAway = frame.errorCode();
                            }
                            ReferenceCountUtil.release(msg);
                        }
                    });
        }

        /** Opens a stream with a GET of {@code path}, what comes on it going to {@code answer}. */
        Http2StreamChannel get(String path, Answer answer) throws Exception {
            return open(headers(path), answer, true);
        }

        /** Opens a stream with a POST of {@code path} that announces a body of 10 bytes, none of them sent. */
        Http2StreamChannel postWithoutBody(String path) throws Exception {
            DefaultHttp2Headers post = headers(path);
            post.method("POST").setInt("content-length", 10);
            return open(post, new Answer(), false);
        }

        Http2StreamChannel open(DefaultHttp2Headers headers, Answer answer, boolean ended) throws Exception {
            headers.scheme(tls ? "https" : "http");
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection).handler(answer).open().sync()
                    .getNow();
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, ended)).sync();
            return stream;
        }

        @Override
        public void close() throws Exception {
            try {
                connection.close().sync();
            } finally {
                loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }
    }

    /** What came on one stream of Netty's client: its status, its body (counted; kept up to 64 KiB), its end. */
    private static final class Answer extends ChannelInboundHandlerAdapter {
        final AtomicLong bytes = new AtomicLong();
        final java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        volatile String status;
        volatile boolean done;
        /** The error code of the RST_STREAM the server sent, or null before one. */
        volatile Long reset;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws IOException {
            try {
                if (msg instanceof Http2HeadersFrame head) {
                    if (head.headers().status() != null) {
                        status = head.headers().status().toString();
                    }
                    done |= head.isEndStream();
                } else if (msg instanceof Http2DataFrame data) {
                    int readable = data.content().readableBytes();
                    if (body.size() < 64 * 1024) {
                        byte[] bytesRead = new byte[readable];
                        data.content().getBytes(data.content().readerIndex(), bytesRead);
                        body.write(bytesRead);
                    }
                    bytes.addAndGet(readable);
                    done |= data.isEndStream();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame frame) { // Netty's multiplexer hands a stream its reset so
                reset = frame.errorCode();
            }
            ReferenceCountUtil.release(evt);
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
