package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Websockets through {@code proxy}: nginx's {@code proxy_pass} with {@code proxy_http_version 1.1},
 * {@code proxy_set_header Upgrade $http_upgrade} and {@code Connection "upgrade"}, which edge does by itself. A real
 * edge in front of a websocket echo server on Netty's handshaker ({@link WebSocketEchoBackend}), the JDK's websocket
 * client, and raw sockets where the bytes matter.
 */
class WebSocketProxyIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    private WebSocketEchoBackend backend;

    @BeforeEach
    void startBackend() throws Exception {
        backend = new WebSocketEchoBackend();
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    /**
     * /ws/ to group ws (one connection, a 300 ms queue), /q/ to queued (one connection, a 30 s queue), /idle/ to idle
     * (a 1 s read timeout), /off/ with proxy-upgrade off, /limited/ with a limit-conn of 1; /healthz a return.
     */
    private EdgeHarness edge() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        return EdgeHarness.start(dir, conf());
    }

    private String conf() {
        String address = backend.address();
        return """
                server { access-log = "-", access-log-format = "$request_uri|$status|$upstream_status|$bytes_sent" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/ws/", proxy = ws }
                  { match = "/q/", proxy = queued }
                  { match = "/idle/", proxy = idle }
                  { match = "/off/", proxy = ws, proxy-upgrade = false }
                  { match = "/limited/", proxy = plenty, limit-conn { max = 1 } }
                  { match = "/plenty/", proxy = plenty }
                  { match = "= /healthz", return = "200 ok" }
                  { match = "= /edge-status", status = true }
                ] }]
                proxy.backends {
                  ws { addresses = ["%s"], max-connections = 1, queue { timeout = 300 ms } }
                  queued { addresses = ["%s"], max-connections = 1, queue { timeout = 30 s } }
                  idle { addresses = ["%s"], timeouts { read = 1 s } }
                  plenty { addresses = ["%s"] }
                }
                """.formatted(address, address, address, address);
    }

    private static URI ws(EdgeHarness edge, String path) {
        return URI.create("ws://127.0.0.1:" + edge.address().getPort() + path);
    }

    /** What a websocket client received: whole messages (text as String, binary as byte[]), then its close code. */
    private static final class Received implements WebSocket.Listener {

        final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
        /** Until completed, the client takes no part of a message but the first: its connection backs up. */
        volatile CompletableFuture<Void> reading = CompletableFuture.completedFuture(null);

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            byte[] part = new byte[data.remaining()];
            data.get(part);
            binary.writeBytes(part);
            if (last) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            reading.thenRun(() -> socket.request(1));
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            closed.complete(-1);
        }

        Object next() throws InterruptedException {
            Object message = messages.poll(30, TimeUnit.SECONDS);
            assertThat(message).as("a message within 30 s").isNotNull();
            return message;
        }
    }

    private static WebSocket open(EdgeHarness edge, String path, Received received) throws Exception {
        return CLIENT.newWebSocketBuilder().buildAsync(ws(edge, path), received).get(30, TimeUnit.SECONDS);
    }

    /** A websocket handshake for {@code path}, as a browser sends it. */
    private static byte[] handshake(String path) {
        return ("GET " + path + " HTTP/1.1\r\nHost: edge.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Group plenty's connections all closed, and /limited/'s one limit-conn place free: a tunnel opens there. */
    private static void placesBack(EdgeHarness edge) throws Exception {
        await(() -> edge.status().contains("proxy backend plenty: open=0 "), "every tunnel's connection gone");
        Received received = new Received();
        echoThenClose(open(edge, "/limited/echo", received), received, "after");
    }

    /** Sends {@code text} and takes its echo. */
    private static void echo(WebSocket socket, Received received, String text) throws Exception {
        socket.sendText(text, true).get(10, TimeUnit.SECONDS);
        assertThat(received.next()).isEqualTo(text);
    }

    /** {@link #echo}, then a close from the client's side, which the backend answers. */
    private static void echoThenClose(WebSocket socket, Received received, String text) throws Exception {
        echo(socket, received, text);
        socket.sendClose(1000, "").get(10, TimeUnit.SECONDS);
        assertThat(received.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
    }

    @Test
    void textAndBinaryMessagesEchoBothWaysAndTheAccessLogLineComesAtTheEnd() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = edge()) {
            Received received = new Received();
            WebSocket socket = open(edge, "/ws/echo", received);
            echo(socket, received, "hello");
            socket.sendBinary(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 0x81, (byte) 0xff}), true)
                    .get(10, TimeUnit.SECONDS);
            assertThat((byte[]) received.next()).containsExactly(0, 1, 2, 0x81, 0xff);
            echo(socket, received, "again");
            // no line while the tunnel is open
            assertThat(access.lines()).noneMatch(l -> l.startsWith("/ws/echo|"));
            // closed by the client: the backend answers its close, and both connections end
            socket.sendClose(1000, "done").get(10, TimeUnit.SECONDS);
            assertThat(received.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
            await(() -> backend.open.get() == 0, "the backend's connection closed");
            await(() -> access.lines().stream().anyMatch(l -> l.startsWith("/ws/echo|")), "the access log line");
            String line = access.lines().stream().filter(l -> l.startsWith("/ws/echo|")).findFirst().orElseThrow();
            assertThat(line).startsWith("/ws/echo|101|101|");
            // the 101's head and the frames the client got: 3 echoes and the close, 2 bytes of header each
            long sent = Long.parseLong(line.substring(line.lastIndexOf('|') + 1));
            assertThat(sent).isGreaterThan(100 + 3 * 2 + 5 + 5 + 5 + 2);
        }
    }

    @Test
    void aBackendsCloseClosesTheClientAndTheSlotIsFreeAgain() throws Exception {
        try (EdgeHarness edge = edge()) {
            Received received = new Received();
            WebSocket socket = open(edge, "/ws/echo", received);
            socket.sendText("close-me", true).get(10, TimeUnit.SECONDS);
            assertThat(received.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
            await(() -> edge.status().contains("proxy backend ws: open=0 "), "the tunnel's connection gone");
            // max-connections = 1: a second tunnel only once the first's slot is free
            Received second = new Received();
            WebSocket again = open(edge, "/ws/echo", second);
            echo(again, second, "second");
            again.abort();
        }
    }

    @Test
    void aLargeMessageGoesByteExactWhileTheClientHoldsItsReadingBack() throws Exception {
        try (EdgeHarness edge = edge()) {
            Received received = new Received();
            CompletableFuture<Void> goOn = new CompletableFuture<>();
            received.reading = goOn;
            WebSocket socket = open(edge, "/ws/echo", received);
            byte[] big = new byte[8 * 1024 * 1024 + 7];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 31 + (i >>> 11));
            }
            // the echo fills the client's socket, edge's and the backend's while the client takes nothing
            CompletableFuture<WebSocket> sending = socket.sendBinary(ByteBuffer.wrap(big), true);
            sending.get(60, TimeUnit.SECONDS);
            goOn.complete(null);
            byte[] echoed = (byte[]) received.next();
            assertThat(echoed.length).isEqualTo(big.length);
            assertThat(Arrays.equals(echoed, big)).as("the echo byte for byte").isTrue();
            echoThenClose(socket, received, "after");
        }
    }

    @Test
    void nothingReadOnEitherSideForTheReadTimeoutClosesBoth() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = edge()) {
            Received received = new Received();
            WebSocket socket = open(edge, "/idle/echo", received);
            echo(socket, received, "one");
            // 1006: the connection ended without a close frame, as the tunnel closed it
            assertThat(received.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1006);
            await(() -> backend.open.get() == 0, "the backend's connection closed");
            await(() -> access.lines().stream().anyMatch(l -> l.startsWith("/idle/echo|101|101|")),
                    "the access log line");
        }
    }

    @Test
    void aSecondTunnelWaitsForTheSlotThenGets503OrGoesOnceTheFirstCloses() throws Exception {
        try (EdgeHarness edge = edge()) {
            Received first = new Received();
            WebSocket socket = open(edge, "/ws/echo", first);
            // a 300 ms queue: 503 while the first holds the group's one connection
            assertThatThrownBy(() -> open(edge, "/ws/echo", new Received()))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(WebSocketHandshakeException.class)
                    .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                            .isEqualTo(503));
            socket.sendClose(1000, "").get(10, TimeUnit.SECONDS);
            assertThat(first.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1000);

            // a 30 s queue: the second waits there while the first is open, and goes once it closes
            Received queuedFirst = new Received();
            WebSocket holder = open(edge, "/q/echo", queuedFirst);
            Received queuedSecond = new Received();
            CompletableFuture<WebSocket> waiting = CLIENT.newWebSocketBuilder()
                    .buildAsync(ws(edge, "/q/echo"), queuedSecond);
            await(() -> edge.status().contains("proxy backend queued: open=1 idle=0 lingering=0 answered=0 waiters=1 "),
                    "the second in the queue");
            assertThat(waiting).isNotDone();
            holder.sendClose(1000, "").get(10, TimeUnit.SECONDS);
            echoThenClose(waiting.get(30, TimeUnit.SECONDS), queuedSecond, "through");
        }
    }

    @Test
    void anOpenTunnelHoldsItsPlaceInALimitConn() throws Exception {
        try (EdgeHarness edge = edge()) {
            Received first = new Received();
            WebSocket socket = open(edge, "/limited/echo", first);
            assertThatThrownBy(() -> open(edge, "/limited/echo", new Received()))
                    .cause().isInstanceOf(WebSocketHandshakeException.class)
                    .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                            .isEqualTo(429)); // limit-conn's status, edge's default
            echoThenClose(socket, first, "held");
            Received second = new Received();
            WebSocket again = Awaits.until(() -> {
                try {
                    return open(edge, "/limited/echo", second);
                } catch (ExecutionException refused) {
                    return null; // the first's place is given back as its close ends: asked again
                }
            }, opened -> opened != null, "a tunnel once the first closed");
            echoThenClose(again, second, "after");
        }
    }

    /**
     * Many tunnels opened and closed quickly, a third of the clients gone mid-handshake, a third right after the 101,
     * a third after an echo: every backend connection closes, every limit-conn place comes back.
     */
    @Test
    void manyTunnelsOpenedAndClosedQuicklyGiveEverySlotAndPlaceBack() throws Exception {
        try (EdgeHarness edge = edge()) {
            ExecutorService clients = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    int kind = i % 3;
                    done.add(clients.submit(() -> {
                        try (Socket raw = new Socket("127.0.0.1", edge.address().getPort())) {
                            raw.setSoTimeout(30_000);
                            OutputStream out = raw.getOutputStream();
                            out.write(handshake("/plenty/echo"));
                            out.flush();
                            if (kind == 0) {
                                return null;
                            }
                            InputStream in = raw.getInputStream();
                            assertThat(readHead(in)).startsWith("HTTP/1.1 101 ");
                            if (kind == 2) {
                                out.write(maskedText("hi"));
                                out.flush();
                                assertThat(in.readNBytes(4)).containsExactly(0x81, 2, 'h', 'i');
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }
            placesBack(edge);
        }
    }

    /** A reload leaves an open tunnel open (nginx's old worker keeps it), and its slot comes back as it closes. */
    @Test
    void aReloadLeavesAnOpenTunnelOpen() throws Exception {
        try (EdgeHarness edge = edge()) {
            Received received = new Received();
            WebSocket socket = open(edge, "/ws/echo", received);
            echo(socket, received, "before");
            edge.reload(conf());
            echoThenClose(socket, received, "after");
            Received second = new Received();
            WebSocket again = Awaits.until(() -> {
                try {
                    return open(edge, "/ws/echo", second);
                } catch (ExecutionException busy) {
                    return null;
                }
            }, opened -> opened != null, "a tunnel once the first closed");
            echoThenClose(again, second, "second");
            await(() -> edge.status().contains("proxy backend ws: open=0 "), "the tunnels' connections gone");
        }
    }

    /**
     * A client that sends on but reads nothing of the echo: the tunnel backs up both ways, the write timeout resets
     * the client (nginx's send_timeout), and the backend's slot and the limit-conn place come back.
     */
    @Test
    void aClientThatStopsReadingIsResetAndGivesItsPlacesBack() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server { timeouts.write = 1 s }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/limited/", proxy = plenty, limit-conn { max = 1 } }
                  { match = "= /edge-status", status = true }
                ] }]
                proxy.backends.plenty { addresses = ["%s"] }
                """.formatted(backend.address()));
             Socket raw = new Socket("127.0.0.1", edge.address().getPort())) {
            raw.setSoTimeout(30_000);
            raw.setReceiveBufferSize(4096);
            OutputStream out = raw.getOutputStream();
            out.write(handshake("/limited/echo"));
            out.flush();
            assertThat(readHead(raw.getInputStream())).startsWith("HTTP/1.1 101 ");
            Thread writer = new Thread(() -> {
                byte[] frame = maskedText("x".repeat(100));
                try {
                    for (int i = 0; i < 1_000_000; i++) {
                        out.write(frame); // until the tunnel backs up, then until the reset
                    }
                } catch (IOException reset) {
                    // the reset
                }
            });
            writer.setDaemon(true);
            writer.start();
            placesBack(edge);
        }
    }

    /** A tunnel behind a listener that ends TLS: messages both ways, a large one byte exact, then the slot back. */
    @Test
    void aTunnelBehindTlsEchoesBothWays() throws Exception {
        Path tls = Files.createDirectories(dir.resolve("tls"));
        TrustingContext.selfSigned(tls);
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.listen = ["127.0.0.1:0 ssl"]
                sites = [{ server-names = ["_"], default = true, root = "www",
                  tls { certificate = "%s", key = "%s" },
                  locations = [
                    { match = "/ws/", proxy = ws }
                    { match = "= /edge-status", status = true }
                ] }]
                proxy.backends.ws { addresses = ["%s"], max-connections = 1, queue.timeout = 300 ms }
                """.formatted(tls.resolve("cert.pem"), tls.resolve("key.pem"), backend.address()))) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .sslContext(TrustingContext.of(tls.resolve("cert.pem"))).build();
            Received received = new Received();
            WebSocket socket = client.newWebSocketBuilder().buildAsync(URI.create("wss://127.0.0.1:" + edge.address().getPort() + "/ws/echo"),
                    received).get(30, TimeUnit.SECONDS);
            echo(socket, received, "over tls");
            byte[] large = new byte[2 * 1024 * 1024];
            new Random(7).nextBytes(large);
            socket.sendBinary(ByteBuffer.wrap(large), true).get(30, TimeUnit.SECONDS);
            assertThat((byte[]) received.next()).isEqualTo(large);
            echoThenClose(socket, received, "bye");
            // the slot back: a second tunnel (the status page is on the TLS listener only)
            Received second = new Received();
            WebSocket again = client.newWebSocketBuilder().buildAsync(URI.create("wss://127.0.0.1:" + edge.address().getPort() + "/ws/echo"),
                    second).get(30, TimeUnit.SECONDS);
            echoThenClose(again, second, "again");
        }
    }

    /**
     * A backend that sends bytes with its 101 and closes at once: the client gets the 101, the bytes, then the close;
     * one that closes right after a bare 101 too; the slot is free after each.
     */
    @Test
    void aBackendClosingRightAfterItsSwitchGivesTheClientWhatItSentThenTheClose() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (FakeHttpBackend fake = new FakeHttpBackend();
             EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", proxy = fake }
                  { match = "= /edge-status", status = true }
                ] }]
                proxy.backends.fake { addresses = ["127.0.0.1:%d"], max-connections = 1, queue.timeout = 300 ms }
                """.formatted(fake.port()))) {
            String switched = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
            fake.answer("with-data", switched + "hello");
            fake.answer("bare", switched);
            for (String path : new String[] {"with-data", "bare", "with-data"}) {
                try (Socket raw = new Socket("127.0.0.1", edge.address().getPort())) {
                    raw.setSoTimeout(30_000);
                    raw.getOutputStream().write(("GET /" + path + " HTTP/1.1\r\nHost: edge.test\r\n"
                            + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    InputStream in = raw.getInputStream();
                    assertThat(readHead(in)).startsWith("HTTP/1.1 101 ");
                    assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1))
                            .isEqualTo(path.equals("bare") ? "" : "hello");
                }
                await(() -> edge.status().contains("proxy backend fake: open=0 "), "the slot free after " + path);
            }
        }
    }

    @Test
    void aFrameSentWithTheHandshakeIsNotLost() throws Exception {
        try (EdgeHarness edge = edge(); Socket raw = new Socket("127.0.0.1", edge.address().getPort())) {
            raw.setSoTimeout(30_000);
            byte[] handshake = ("GET /ws/echo HTTP/1.1\r\nHost: edge.test\r\nConnection: Upgrade\r\n"
                    + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] frame = maskedText("early");
            // one write: the frame in the same read as the request (a 0x81 is no request line)
            byte[] both = Arrays.copyOf(handshake, handshake.length + frame.length);
            System.arraycopy(frame, 0, both, handshake.length, frame.length);
            OutputStream out = raw.getOutputStream();
            out.write(both);
            out.flush();
            InputStream in = raw.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 101 ");
            assertThat(head.toLowerCase()).contains("upgrade: websocket").contains("connection: upgrade")
                    .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=");
            assertThat(in.readNBytes(2)).containsExactly(0x81, 5);
            assertThat(new String(in.readNBytes(5), StandardCharsets.UTF_8)).isEqualTo("early");
        }
    }

    @Test
    void aRefusedUpgradeIsAnAnswerAndTheConnectionGoesOnAsHttp() throws Exception {
        try (EdgeHarness edge = edge(); RawHttpClient raw = new RawHttpClient(edge.address())) {
            RawHttpClient.Response refused = raw.send("GET /ws/refuse HTTP/1.1\r\nHost: edge.test\r\n"
                    + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").read();
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.text()).isEqualTo("refused");
            RawHttpClient.Response plain = raw.send("GET /ws/plain HTTP/1.1\r\nHost: edge.test\r\n\r\n").read();
            assertThat(plain.status()).isEqualTo(200);
            assertThat(plain.text()).isEqualTo("plain upgrade=null");
        }
    }

    @Test
    void h2cAndALocationWithUpgradeOffSendNoUpgradeToTheBackend() throws Exception {
        try (EdgeHarness edge = edge(); RawHttpClient raw = new RawHttpClient(edge.address())) {
            RawHttpClient.Response h2c = raw.send("GET /ws/plain HTTP/1.1\r\nHost: edge.test\r\n"
                    + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
                    .read();
            assertThat(h2c.status()).isEqualTo(200);
            assertThat(h2c.text()).isEqualTo("plain upgrade=null");
            RawHttpClient.Response off = raw.send("GET /off/plain HTTP/1.1\r\nHost: edge.test\r\n"
                    + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").read();
            assertThat(off.status()).isEqualTo(200);
            assertThat(off.text()).isEqualTo("plain upgrade=null");
            assertThat(CLIENT.send(java.net.http.HttpRequest.newBuilder(edge.uri("/ws/plain")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("plain upgrade=null");
        }
    }

    /** An upgrade asked where edge answers at once (a return): the request pipelined after it is read, in order. */
    @Test
    void anUpgradeAnsweredAtOnceLeavesTheRequestAfterItToBeRead() throws Exception {
        try (EdgeHarness edge = edge(); RawHttpClient raw = new RawHttpClient(edge.address())) {
            raw.send("GET /healthz HTTP/1.1\r\nHost: edge.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                    + "GET /ws/plain HTTP/1.1\r\nHost: edge.test\r\n\r\n");
            RawHttpClient.Response returned = raw.read();
            assertThat(returned.status()).isEqualTo(200);
            assertThat(returned.text()).isEqualTo("ok");
            RawHttpClient.Response proxied = raw.read();
            assertThat(proxied.status()).isEqualTo(200);
            assertThat(proxied.text()).isEqualTo("plain upgrade=null");
        }
    }

    /** A client's text frame (FIN, masked), for a payload under 126 bytes. */
    private static byte[] maskedText(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] mask = {0x12, 0x34, 0x56, 0x78};
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /** The bytes up to the empty line that ends a response head, read one at a time: nothing after it is taken. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.write(b);
            byte[] so = head.toByteArray();
            int n = so.length;
            if (n >= 4 && so[n - 4] == '\r' && so[n - 3] == '\n' && so[n - 2] == '\r' && so[n - 1] == '\n') {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }
}
