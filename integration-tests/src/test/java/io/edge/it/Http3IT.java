package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.ServerField;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3GoAwayFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionAddress;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayInputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.luminis.http3.Http3Client;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/3 on a listener marked {@code ssl quic}, as nginx's {@code listen 443 quic} beside {@code listen 443 ssl}:
 * flupke (kwik's QUIC, pure Java; no code shared with Netty's QUIC that edge serves with) fetching static files,
 * small and of a few MiB (QUIC's flow control, files through its cipher), a 404, a script of a real php-fpm told
 * HTTP/3.0 and a POST body to it; the access log's {@code HTTP/3.0}; and the Alt-Svc field curl sees over TCP.
 *
 * <p>flupke 0.5.3 checks a certificate against the JVM's CAs alone (its builder's {@code sslContext} is a no-op), so
 * it is told to trust any: the test is of the wire, the certificate's choice is TlsContexts' (tested over TCP).
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class Http3IT {

    /**
     * The port of the edge started last, a new one for each: a client of an earlier test (flupke 0.5.3's cannot be
     * closed) and its QUIC packets never reach the next test's edge.
     */
    private static int port;

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static Path www;
    static byte[] large;

    @BeforeAll
    static void start() throws Exception {
        www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("small.txt"), "a small file\n");
        Files.writeString(www.resolve("env.php"), "<?php echo $_SERVER['SERVER_PROTOCOL'], ' ', $_SERVER['HTTPS'] ?? '-',"
                + " ' ', $_GET['n'] ?? '';\n");
        Files.writeString(www.resolve("echo.php"), "<?php echo strlen(file_get_contents('php://input')), ' ',"
                + " md5(file_get_contents('php://input'));\n");
        large = new byte[5 * 1024 * 1024 + 17];
        new Random(7).nextBytes(large);
        Files.write(www.resolve("large.bin"), large);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        TrustingContext.selfSigned(Files.createDirectories(dir.resolve("tls")));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(null, fpm);
    }

    private static EdgeHarness started(String name, String extra) throws Exception {
        port = EdgeProcess.freePort();
        Path tls = dir.resolve("tls");
        return EdgeHarness.start(Files.createDirectories(dir.resolve(name)), """
                server.listen = ["127.0.0.1:%d ssl http2 quic"]
                server.access-log = "-"
                server.access-log-format = "$server_protocol \\"$request\\" $status $body_bytes_sent"
                sites = [
                  { server-names = [localhost], default = true, root = "%s",
                    tls { certificate = "%s", key = "%s" },
                    locations = [
                      { match = "/" }
                      { match = "~ \\\\.php$", fastcgi = php }
                    ] }
                ]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(port, www, tls.resolve("cert.pem"), tls.resolve("key.pem"), fpm.address()) + extra);
    }

    /** A bound of 30 s on its handshake, as NettyHttp3Client's: 10 s ran out on a loaded CI machine. */
    private static HttpClient h3() {
        return Http3Client.newBuilder().disableCertificateCheck().connectTimeout(Duration.ofSeconds(30)).build();
    }

    private static HttpRequest.Builder request(String target) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + target)).timeout(Duration.ofSeconds(60));
    }

    private static HttpResponse<byte[]> get(HttpClient client, String target) throws Exception {
        return client.send(request(target).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void staticFilesAndA404GoOverHttp3() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("static", "")) {
            HttpClient h3 = h3();
            HttpResponse<byte[]> small = get(h3, "/small.txt");
            assertThat(small.statusCode()).isEqualTo(200);
            assertThat(new String(small.body(), StandardCharsets.UTF_8)).isEqualTo("a small file\n");
            assertThat(small.headers().map()).doesNotContainKeys("connection", "keep-alive", "transfer-encoding",
                    "alt-svc");
            assertThat(small.headers().allValues("server")).containsExactly("edge/" + ServerField.VERSION);
            HttpResponse<byte[]> whole = get(h3, "/large.bin");
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.body().length).isEqualTo(large.length);
            assertThat(sha256(whole.body())).isEqualTo(sha256(large));
            assertThat(get(h3, "/missing.txt").statusCode()).isEqualTo(404);
            await(() -> access.lines().size() == 3, "3 lines");
            assertThat(access.lines()).hasSize(3).startsWith("HTTP/3.0 \"GET /small.txt HTTP/3.0\" 200 13",
                    "HTTP/3.0 \"GET /large.bin HTTP/3.0\" 200 " + large.length);
            assertThat(access.lines().get(2)).startsWith("HTTP/3.0 \"GET /missing.txt HTTP/3.0\" 404 ");
        }
    }

    @Test
    void aScriptIsToldHttp3AndGetsItsPostBody() throws Exception {
        try (EdgeHarness edge = started("php", "")) {
            HttpClient h3 = h3();
            HttpResponse<byte[]> env = get(h3, "/env.php?n=1");
            assertThat(env.statusCode()).isEqualTo(200);
            assertThat(new String(env.body(), StandardCharsets.UTF_8)).as(env.headers().map().toString())
                    .isEqualTo("HTTP/3.0 on 1");
            byte[] body = new byte[300_000];
            new Random(3).nextBytes(body);
            HttpResponse<String> echoed = h3.send(request("/echo.php").POST(HttpRequest.BodyPublishers
                    .ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(echoed.statusCode()).isEqualTo(200);
            assertThat(echoed.body()).isEqualTo(body.length + " " + HexFormat.of().formatHex(MessageDigest
                    .getInstance("MD5").digest(body)));
        }
    }

    /**
     * A body over the limit gets the site's 413 page over HTTP/3 as over HTTP/1.1: a page a script location takes runs
     * as a GET without the body, for a body declared over the limit and for one found over it as it comes.
     */
    @Test
    void aBodyOverTheLimitGetsTheSitesPageOverHttp3() throws Exception {
        Files.writeString(www.resolve("413.php"), "<?php echo 'page ', $_SERVER['REQUEST_METHOD'], ' [',"
                + " file_get_contents('php://input'), ']';");
        try (EdgeHarness edge = started("page-413", """
                server.limits.body = 1k
                site-defaults.error-pages { 413 = "/413.php" }
                """)) {
            HttpClient h3 = h3();
            for (HttpRequest.BodyPublisher body : List.of(HttpRequest.BodyPublishers.ofByteArray(new byte[4096]),
                    HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[4096])))) {
                String as = body.contentLength() < 0 ? "no length said" : "a length said";
                HttpResponse<String> tooLarge = h3.send(request("/echo.php").POST(body).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(tooLarge.statusCode()).as(as).isEqualTo(413);
                assertThat(tooLarge.body()).as(as).isEqualTo("page GET []");
            }
        }
    }

    /**
     * Answers over TLS on TCP tell of HTTP/3 on the listener's UDP port, as nginx's {@code add_header Alt-Svc
     * 'h3=":443"; ma=86400'} does; {@code server.http3.alt-svc = off} sends none.
     */
    @Test
    void answersOverTcpCarryAltSvc() throws Exception {
        try (EdgeHarness edge = started("alt-svc", "")) {
            assertThat(curl("--http1.1", "-sS", "-D", "-", "-o", "/dev/null", "https://127.0.0.1:" + port + "/small.txt"))
                    .contains("HTTP/1.1 200").containsIgnoringCase("alt-svc: h3=\":" + port + "\"; ma=86400\r\n");
            assertThat(curl("--http2", "-sS", "-D", "-", "-o", "/dev/null", "https://127.0.0.1:" + port + "/nothing"))
                    .contains("HTTP/2 404").contains("alt-svc: h3=\":" + port + "\"; ma=86400\r\n");
        }
        try (EdgeHarness edge = started("no-alt-svc", "server.http3.alt-svc = off\n")) {
            assertThat(curl("--http1.1", "-sS", "-D", "-", "-o", "/dev/null", "https://127.0.0.1:" + port + "/small.txt"))
                    .contains("HTTP/1.1 200").doesNotContainIgnoringCase("alt-svc");
            assertThat(new String(get(h3(), "/small.txt").body(), StandardCharsets.UTF_8)).isEqualTo("a small file\n");
        }
    }

    /**
     * A client that stops reading a large file's stream (STOP_SENDING, H3_REQUEST_CANCELLED) after its first DATA
     * frame ends that exchange alone: the access log has its line, with fewer bytes than the file, the next request on
     * the same connection is answered, and nothing the exchange held leaks (paranoid leak detection fails the build).
     * Netty's own HTTP/3 client: flupke stops no stream on demand.
     */
    @Test
    void aStreamTheClientStopsEndsItsExchangeAlone() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("stop", "");
             NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
            CompletableFuture<Void> stopped = client.firstData("/large.bin",
                    ctx -> ((QuicStreamChannel) ctx.channel()).shutdownInput(0x10c) // H3_REQUEST_CANCELLED
                            .addListener(done -> ctx.close()));
            stopped.get(30, TimeUnit.SECONDS);
            await(() -> access.lines().size() == 1, "the stopped stream's line");
            String line = access.lines().get(0);
            assertThat(line).startsWith("HTTP/3.0 \"GET /large.bin HTTP/3.0\" 200 ");
            assertThat(Long.parseLong(line.substring(line.lastIndexOf(' ') + 1))).isLessThan(large.length);
            assertThat(client.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
        }
    }

    /**
     * A stream whose client stops reading its answer (no room opened in its flow-control window: 256 KiB of a 5 MiB
     * file) is reset at {@code timeouts.write}, as nginx's send_timeout ends a stream, and its exchange ends: the
     * access log has its line, fewer bytes than the file. The connection goes on: the next stream is answered. A
     * keep-alive of an hour: QUIC's idle timeout does not end the stalled stream's connection first.
     */
    @Test
    void aStreamWhoseClientStopsReadingIsResetAtTheWriteTimeout() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("write-timeout", "server.timeouts { write = 1 s, keep-alive = 1 h }\n");
             NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
            QuicStreamChannel stalled = Http3.newRequestStream(client.quic, new NettyHttp3Client.DroppingStream())
                    .get(30, TimeUnit.SECONDS);
            stalled.config().setAutoRead(false); // nothing read: the window stays shut once edge filled it
            stalled.writeAndFlush(client.get("/large.bin")).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            await(() -> access.lines().size() == 1, "the stalled stream's line");
            String line = access.lines().get(0);
            assertThat(line).startsWith("HTTP/3.0 \"GET /large.bin HTTP/3.0\" 200 ");
            assertThat(Long.parseLong(line.substring(line.lastIndexOf(' ') + 1))).isLessThan(large.length);
            assertThat(client.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
        }
    }

    /**
     * A malformed request head (RFC 9114 4.1.2: a Host that is not its :authority, no :path) is a stream error
     * H3_MESSAGE_ERROR: its stream is reset with that code, unanswered, and no access-log line (nginx 1.22 has no
     * HTTP/3: the RFC is the reference; it allows a 400 before the reset, which Netty's codec, refusing the head
     * before edge sees a request, gives no room for). The connection goes on: the next stream is answered.
     */
    @Test
    void aMalformedHeadIsResetWithH3MessageError() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("malformed", "");
             NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
            Http3HeadersFrame otherHost = client.get("/small.txt");
            otherHost.headers().add("host", "elsewhere.example");
            assertThat(client.outcome(otherHost).get(30, TimeUnit.SECONDS)).isEqualTo("reset 0x10e");
            Http3HeadersFrame noPath = client.get("/small.txt");
            noPath.headers().remove(":path");
            assertThat(client.outcome(noPath).get(30, TimeUnit.SECONDS)).isEqualTo("reset 0x10e");
            assertThat(client.outcome(client.get("/small.txt")).get(30, TimeUnit.SECONDS)).isEqualTo("status 200");
            await(() -> access.lines().size() == 1, "the answered request's line");
            assertThat(access.lines()).containsExactly("HTTP/3.0 \"GET /small.txt HTTP/3.0\" 200 13");
        }
    }

    /**
     * A malformed trailer section (a pseudo-header in it: RFC 9114 4.1.2) is a stream error H3_MESSAGE_ERROR as a
     * malformed head is, its stream reset by Netty's codec after the request was handed on (a script's, answered once
     * its body is read): not ended by edge with a FIN first, a clean end with no answer. The connection goes on.
     */
    @Test
    void aMalformedTrailerSectionIsResetWithH3MessageError() throws Exception {
        try (EdgeHarness edge = started("malformed-trailers", "");
             NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
            Http3HeadersFrame post = client.get("/echo.php");
            post.headers().method("POST");
            Http3HeadersFrame trailers = new DefaultHttp3HeadersFrame();
            trailers.headers().add(":path", "/elsewhere");
            assertThat(client.outcome(post, new byte[100], trailers, true).get(30, TimeUnit.SECONDS))
                    .isEqualTo("reset 0x10e");
            assertThat(client.outcome(client.get("/small.txt")).get(30, TimeUnit.SECONDS)).isEqualTo("status 200");
        }
    }

    /**
     * {@code $ssl_protocol}, {@code $ssl_cipher} and {@code $ssl_server_name} name the QUIC handshake's as nginx's: TLS
     * 1.3, a suite of its (OpenSSL's name), and the SNI name the client sent.
     */
    @Test
    void theTlsVariablesNameTheQuicHandshake() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("tls-variables",
                     "server.access-log-format = \"$ssl_protocol $ssl_cipher $ssl_server_name\"\n");
             NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
            assertThat(client.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            await(() -> access.lines().size() == 1, "its line");
            assertThat(access.lines().get(0)).matches(
                    "TLSv1\\.3 TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256) "
                            + NettyHttp3Client.SERVER_NAME);
        }
    }

    /**
     * A client whose QUIC connection closes while a script streams its answer stops the script at its next output
     * (PHP's connection_aborted), as on HTTP/2: the stream's close aborts its FastCGI request, whose connection goes
     * back to the pool (max-connections 1): the next request on a new connection is served.
     */
    @Test
    void aConnectionClosedMidScriptAbortsIt() throws Exception {
        Path ended = dir.resolve("closed-ended");
        PhpScripts.streamNotingItsEnd(www, ended);
        try (EdgeHarness edge = started("closed-mid-script", """
                fastcgi.backends.php { max-connections = 1 }
                """)) {
            try (NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
                CompletableFuture<Void> begun = client.firstData("/stream.php", ctx -> { });
                begun.get(30, TimeUnit.SECONDS);
            } // the connection closes
            assertThat(PhpScripts.noted(ended, "the script's end")).as("stopped at an output after its client went")
                    .startsWith("aborted=1 ").doesNotEndWith(" lines=5000");
            try (NettyHttp3Client next = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
                assertThat(next.status("/env.php").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            }
        }
    }

    /**
     * The {@code keep-alive-requests}th stream sends GOAWAY, as an HTTP/2 connection's (nginx's keepalive_requests):
     * the stream in flight is answered whole, the GOAWAY names the next request stream (4: the first one was 0), and
     * the connection closes after.
     */
    @Test
    void theLastRequestOfAConnectionSendsGoaway() throws Exception {
        CompletableFuture<Long> goaway = new CompletableFuture<>();
        ChannelHandler control = goawayTo(goaway);
        try (EdgeHarness edge = started("goaway", "server.limits.keep-alive-requests = 1\n");
             NettyHttp3Client client = new NettyHttp3Client(port, control)) {
            assertThat(client.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            assertThat(goaway.get(30, TimeUnit.SECONDS)).isEqualTo(4);
            assertThat(client.quic.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * A stop sends GOAWAY to an open HTTP/3 connection, naming the first stream it did not take, and closes it once
     * its streams are done (none open here), as an HTTP/2 connection's graceful close: the stop is a clean one.
     */
    @Test
    void aStopSendsGoaway() throws Exception {
        CompletableFuture<Long> goaway = new CompletableFuture<>();
        ChannelHandler control = goawayTo(goaway);
        try (EdgeHarness edge = started("stop-goaway", "");
             NettyHttp3Client client = new NettyHttp3Client(port, control)) {
            assertThat(client.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            assertThat(client.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            assertThat(goaway).isNotDone();
            assertThat(edge.edge().stop()).as("a clean drain").isTrue();
            assertThat(goaway.get(30, TimeUnit.SECONDS)).isEqualTo(8);
            assertThat(client.quic.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * Where the QUIC library does not load (its native part cannot be unpacked: Netty's work directory for native
     * libraries cannot be made; epoll's and BoringSSL's do not load either), one line says so, and the listener marked quic serves TLS on TCP alone, without
     * Alt-Svc. A process of its own: a JVM that loaded the library once keeps it.
     */
    @Test
    void withoutTheQuicLibraryTheListenerServesTcpAlone() throws Exception {
        Path home = Files.createDirectories(dir.resolve("no-quic"));
        Path conf = home.resolve("edge.conf");
        Path tls = dir.resolve("tls");
        int tcp = EdgeProcess.freePort();
        Files.writeString(conf, """
                edge {
                  server.listen = ["127.0.0.1:%d ssl http2 quic"]
                  sites = [{ server-names = [localhost], default = true, root = "%s",
                    tls { certificate = "%s", key = "%s" }, locations = [{ match = "/" }] }]
                }
                """.formatted(tcp, www, tls.resolve("cert.pem"), tls.resolve("key.pem")));
        // under a file: no directory can be made there (Netty makes a missing one)
        try (EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-Dio.netty.native.workdir="
                + conf.resolve("native")), home, "-c", conf.toString())) {
            edge.verify(() -> {
                edge.awaitOutput("HTTP/3 off, listeners marked quic serve TCP alone: the QUIC library did not load");
                await(() -> EdgeProcess.accepts(tcp), "the TCP listener");
                assertThat(curl("--http1.1", "-sS", "-D", "-", "https://127.0.0.1:" + tcp + "/small.txt"))
                        .contains("HTTP/1.1 200").contains("a small file").doesNotContainIgnoringCase("alt-svc");
                assertThat(edge.output()).as("no stack trace, no UDP socket").doesNotContain("\tat ")
                        .doesNotContain("listening for HTTP/3");
            });
        }
    }

    /**
     * A QUIC connection whose handshake never ends (its client went away after its Initial: the CI failure, a
     * flupke client that gave up at its connect timeout) does not hold a stop: it has no stream, so it closes at once,
     * as an idle connection, and the drain is a clean one, not one that waits out the drain timeout (30 s) for it.
     */
    @Test
    void aHandshakeLeftHalfwayDoesNotHoldAStop() throws Exception {
        try (EdgeHarness edge = started("half-open", "");
             DatagramSocket halfOpen = handshakeLeftHalfway()) {
            assertThat(edge.edge().stop()).as("a clean drain").isTrue();
        }
    }

    /**
     * A handshake left halfway is closed at {@code timeouts.request-head}, as a TLS handshake on TCP, as nginx's
     * handshake_timeout (its client_header_timeout): its slot of {@code max-connections} (1) is then free for the next
     * client. Without that bound it would be held for QUIC's idle timeout, {@code timeouts.keep-alive}, an hour here.
     */
    @Test
    void aHandshakeLeftHalfwayEndsAtTheRequestHeadTimeout() throws Exception {
        try (EdgeHarness edge = started("half-open-timeout", """
                server.max-connections = 1
                server.timeouts { request-head = 1 s, keep-alive = 1 h }
                """);
             DatagramSocket halfOpen = handshakeLeftHalfway()) {
            await(() -> { // once the half-open one is closed
                try (NettyHttp3Client next = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
                    return "200".equals(next.status("/small.txt").get(30, TimeUnit.SECONDS));
                } catch (ExecutionException | TimeoutException refused) { // in its handshake, or after it
                    return false;
                }
            }, "a connection served once the handshake left halfway closed");
        }
    }

    /**
     * Starts a QUIC handshake with the test's edge and leaves it halfway, as a client that went away after its Initial:
     * the Initial of Netty's client is relayed to edge from the socket returned, which reads edge's first flight and no
     * more.
     */
    private static DatagramSocket handshakeLeftHalfway() throws Exception {
        DatagramSocket halfOpen = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (DatagramSocket relay = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            relay.setSoTimeout(30_000);
            halfOpen.setSoTimeout(30_000);
            QuicSslContext tls = QuicSslContextBuilder.forClient()
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .applicationProtocols(Http3.supportedApplicationProtocols()).build();
            Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                    .handler(Http3.newQuicClientCodecBuilder().sslContext(tls).build()).bind(0).sync().channel();
            QuicChannel.newBootstrap(udp).handler(new ChannelInboundHandlerAdapter())
                    .localConnectionAddress(QuicConnectionAddress.random())
                    .remoteConnectionAddress(QuicConnectionAddress.random())
                    .remoteAddress(relay.getLocalSocketAddress()).connect();
            DatagramPacket initial = new DatagramPacket(new byte[65_536], 65_536);
            relay.receive(initial);
            halfOpen.send(new DatagramPacket(initial.getData(), initial.getLength(),
                    new InetSocketAddress("127.0.0.1", port)));
            halfOpen.receive(new DatagramPacket(new byte[65_536], 65_536)); // edge's first flight: it took the client
            return halfOpen;
        } catch (Exception e) {
            halfOpen.close();
            throw e;
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    /** A handler of the client's inbound control stream that completes {@code goaway} with a GOAWAY's stream id. */
    private static ChannelHandler goawayTo(CompletableFuture<Long> goaway) {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http3GoAwayFrame frame) {
                    goaway.complete(frame.id());
                }
                ReferenceCountUtil.release(msg);
            }
        };
    }

    private static String curl(String... args) throws Exception {
        List<String> command = Curl.command("--cacert", dir.resolve("tls/cert.pem").toString());
        command.addAll(List.of(args));
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(said).isZero();
        return said;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
