package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request bodies a location holds in memory (up to its client-body-buffer-size, here 1 MiB: many of the heap blocks a
 * body is kept in, {@code SpooledBody.READ_CHUNK} bytes each) reach a real php-fpm, and a real proxied backend, whole
 * and in order, sent a block at a time as the backend takes them: every size about a block's edges, none, one byte,
 * the size itself and one byte past it (the blocks handed to the temp file), with a Content-Length, chunked in many
 * small chunks, over HTTP/2, and after a 100 Continue; again whole to the next address after one that closed while
 * the body went to it; and a client that leaves mid-upload leaves edge answering the next one. The script waits
 * before it reads, so that edge fills the connection and goes on only when php-fpm reads. Paranoid leak detection
 * checks every buffer's release.
 */
@SuppressWarnings("try") // php-fpm and a backend serve the edge of a test, unnamed in its body
class HeldBodyIT {

    /** A heap block's size: one FastCGI record's worth. */
    private static final int BLOCK = 65528;
    private static final int HELD = 1 << 20;
    /** A body held in memory larger than a loopback TCP connection's buffers (autotuned to a few MiB) take at once. */
    private static final int LARGE = 16 << 20;
    private static final int[] SIZES = {0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK, HELD - 1, HELD, HELD + 1};
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    private static byte[] pattern(int size) {
        return ClientBodyBufferIT.pattern(size);
    }

    /** What the script (and the backend) answers for {@code body}: its length and md5. */
    private static String told(byte[] body) throws Exception {
        return body.length + " " + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body));
    }

    /** The script: waits a little (edge fills the connection meanwhile), reads php://input, says its length and md5. */
    private Path www() throws IOException {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("body.php"), """
                <?php
                usleep(200000);
                $body = file_get_contents('php://input');
                header('Content-Type: text/plain');
                echo strlen($body), ' ', md5($body);
                """);
        return www;
    }

    /**
     * An edge whose one location runs the script at group php ({@code group}: the inside of its block), bodies of up to
     * {@link #HELD} bytes held in memory; {@code server} and {@code location}: more of the server's and location's.
     */
    private EdgeHarness phpEdge(String server, String location, String group) throws Exception {
        return EdgeHarness.start(dir, """
                %s
                sites = [{ server-names = ["_"], default = true, root = "%s",
                  locations = [{ match = "/", fastcgi = php, client-body-buffer-size = %d %s }] }]
                fastcgi.backends.php { %s }
                """.formatted(server, www(), HELD, location, group));
    }

    private PhpFpm fpm(String name) throws IOException {
        return PhpFpm.unix(Files.createDirectories(dir.resolve(name)), "pm = static\npm.max_children = 2");
    }

    /** A group's addresses setting. */
    private static String addresses(String... addresses) {
        return "addresses = [\"" + String.join("\", \"", addresses) + "\"]";
    }

    private static HttpResponse<String> post(EdgeHarness edge, String target, byte[] body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code body} chunked in chunks of 1 to 97 bytes, on a connection of its own; what edge answered. */
    private static RawHttpClient.Response postChunked(EdgeHarness edge, String target, byte[] body) throws Exception {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        raw.writeBytes(("POST " + target + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        for (int at = 0, i = 0; at < body.length; i++) {
            int length = Math.min(1 + i % 97, body.length - at);
            raw.writeBytes((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            raw.write(body, at, length);
            raw.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            at += length;
        }
        raw.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            return client.send(raw.toByteArray()).read();
        }
    }

    /** Every size, with a Content-Length and chunked, to {@code target} of {@code edge}: each answered for all. */
    private static void everySizeWhole(EdgeHarness edge, String target) throws Exception {
        for (int size : SIZES) {
            byte[] body = pattern(size);
            HttpResponse<String> sized = post(edge, target, body);
            assertThat(sized.statusCode()).as("status for %d bytes", size).isEqualTo(200);
            assertThat(sized.body()).as("%d bytes with a Content-Length", size).isEqualTo(told(body));
            RawHttpClient.Response chunked = postChunked(edge, target, body);
            assertThat(chunked.status()).as("status for %d bytes chunked", size).isEqualTo(200);
            assertThat(chunked.text()).as("%d bytes chunked", size).isEqualTo(told(body));
        }
    }

    @Test
    void phpGetsEveryBodyHeldInMemoryWholeAndInOrderWhateverItsSizeAndFraming() throws Exception {
        try (PhpFpm fpm = fpm("fpm");
                EdgeHarness edge = phpEdge("server.client-body-temp-path = \"%s\"".formatted(
                        Files.createDirectories(dir.resolve("bodies"))), "", addresses(fpm.address()))) {
            everySizeWhole(edge, "/body.php");
        }
    }

    /** The JDK's server as a proxied backend: waits {@code millis} (edge fills the connection), then tells the body. */
    private static JdkBackend telling(long millis) throws IOException {
        return JdkBackend.start(exchange -> {
            byte[] answer;
            try (InputStream in = exchange.getRequestBody()) {
                Thread.sleep(millis);
                answer = told(in.readAllBytes()).getBytes(StandardCharsets.UTF_8);
            } catch (Exception e) {
                throw new IOException(e);
            }
            exchange.sendResponseHeaders(200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
    }

    @Test
    void aProxiedBackendGetsEveryBodyHeldInMemoryWholeAndInOrder() throws Exception {
        JdkBackend backend = telling(200);
        try (backend; EdgeHarness edge = EdgeHarness.start(dir, """
                server.client-body-temp-path = "%s"
                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                  { match = "/", proxy = app, client-body-buffer-size = %d }
                  { match = "/large/", proxy = app, client-body-buffer-size = %d }
                ] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(Files.createDirectories(dir.resolve("bodies")), HELD, LARGE, backend.address()))) {
            everySizeWhole(edge, "/up");
            byte[] large = pattern(LARGE);
            assertThat(post(edge, "/large/up", large).body()).as("more than loopback's buffers take at once")
                    .isEqualTo(told(large));
        }
    }

    @Test
    void anHttp2BodyAndOneThatExpects100ContinueHeldInMemoryReachPhpWhole() throws Exception {
        try (PhpFpm fpm = fpm("fpm");
                EdgeHarness edge = phpEdge("server.listen = [\"127.0.0.1:%d http2\"]".formatted(EdgeProcess.freePort()),
                        "", addresses(fpm.address()))) {
            for (int size : new int[] {1, BLOCK, BLOCK + 1, HELD}) {
                byte[] body = pattern(size);
                Path upload = dir.resolve("upload-" + size);
                Files.write(upload, body);
                assertThat(curl("--http2-prior-knowledge", "-H", "Content-Type: application/octet-stream",
                        "--data-binary", "@" + upload, "http://127.0.0.1:" + edge.address().getPort() + "/body.php"))
                        .as("%d bytes over h2c", size).isEqualTo("HTTP/2 200 " + told(body));
                assertThat(curl("--http1.1", "-H", "Expect: 100-continue", "-H",
                        "Content-Type: application/octet-stream", "--data-binary", "@" + upload,
                        "http://127.0.0.1:" + edge.address().getPort() + "/body.php"))
                        .as("%d bytes after 100 Continue", size).isEqualTo("HTTP/1.1 200 " + told(body));
            }
        }
    }

    /** What curl printed (the answer's version and status, then its body); it must succeed. */
    private static String curl(String... args) throws Exception {
        List<String> command = Curl.command("-w", "\\n%{http_version}", "-o", "-");
        command.addAll(List.of(args));
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(said).isZero();
        // the body, then a line of the version: the version first, as a status line has it
        int version = said.lastIndexOf('\n');
        return "HTTP/" + said.substring(version + 1) + " 200 " + said.substring(0, version);
    }

    /**
     * A FastCGI peer for the one fault a php-fpm will not make on demand: it takes the connection, reads
     * {@code readFirst} bytes of the request and closes it, the rest of the body still going to it.
     */
    private static final class ClosesMidBody implements AutoCloseable {
        final ServerSocketChannel server;
        final Thread acceptor;
        final AtomicInteger closed = new AtomicInteger();

        /** On the unix socket {@code socket}. */
        ClosesMidBody(Path socket, int readFirst) throws IOException {
            this(ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket)),
                    readFirst);
        }

        /** On {@code server}, bound already. */
        ClosesMidBody(ServerSocketChannel server, int readFirst) {
            this.server = server;
            acceptor = new Thread(() -> {
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                while (server.isOpen()) {
                    try (SocketChannel connection = server.accept()) {
                        for (int read = 0; read < readFirst; ) {
                            buffer.clear();
                            int n = connection.read(buffer);
                            if (n < 0) {
                                break;
                            }
                            read += n;
                        }
                        closed.incrementAndGet();
                    } catch (IOException e) {
                        return; // closed by the test
                    }
                }
            }, "closes-mid-body");
            acceptor.start();
        }

        @Override
        public void close() throws Exception {
            server.close();
            acceptor.join(10_000);
        }
    }

    /**
     * Two bodies of about {@code size} bytes to {@code target}, at a group of {@code closer} and then a good address in
     * round robin (the closer first at least once): each answered for all of it.
     */
    private static void twiceWholePastTheCloser(EdgeHarness edge, String target, int size, ClosesMidBody closer)
            throws Exception {
        for (int i = 0; i < 2; i++) {
            byte[] body = pattern(size - i);
            HttpResponse<String> answer = post(edge, target, body);
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.body()).isEqualTo(told(body));
        }
        assertThat(closer.closed.get()).as("the closer had a try").isPositive();
    }

    @Test
    void aBodyHeldInMemoryGoesWholeAgainToTheNextAddressAfterOneClosedWhileItWent() throws Exception {
        Path closerSocket = Files.createDirectories(dir.resolve("closer")).resolve("fcgi.sock");
        try (PhpFpm fpm = fpm("fpm"); ClosesMidBody closer = new ClosesMidBody(closerSocket, 3 * BLOCK);
                EdgeHarness edge = phpEdge("", ", fastcgi-next-upstream = [error, non_idempotent]",
                        "balance = round-robin, health.max-fails = 0, " + addresses("unix:" + closerSocket,
                                fpm.address()))) {
            twiceWholePastTheCloser(edge, "/body.php", HELD, closer);
        }
    }

    @Test
    void aProxiedBodyHeldInMemoryGoesWholeAgainToTheNextAddressAfterOneClosedWhileItWent() throws Exception {
        JdkBackend backend = telling(0);
        ServerSocketChannel closing = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        String closingAddress = "127.0.0.1:" + ((InetSocketAddress) closing.getLocalAddress()).getPort();
        try (backend; ClosesMidBody closer = new ClosesMidBody(closing, 3 * BLOCK);
                EdgeHarness edge = EdgeHarness.start(dir, """
                        sites = [{ server-names = ["_"], default = true, root = ".", locations = [{ match = "/",
                          proxy = app, client-body-buffer-size = %d, proxy-next-upstream = [error, non_idempotent] }] }]
                        proxy.backends.app { balance = round-robin, health.max-fails = 0, %s }
                        """.formatted(LARGE, addresses(closingAddress, backend.address())))) {
            twiceWholePastTheCloser(edge, "/up", LARGE, closer);
        }
    }

    @Test
    void aClientThatLeavesMidUploadLeavesEdgeAnsweringTheNext() throws Exception {
        try (PhpFpm fpm = fpm("fpm"); EdgeHarness edge = phpEdge("", "", addresses(fpm.address()))) {
            byte[] body = pattern(HELD);
            for (int half : new int[] {BLOCK, BLOCK + 1, HELD / 2}) {
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    OutputStream out = new BufferedOutputStream(client.socket().getOutputStream());
                    out.write(("POST /body.php HTTP/1.1\r\nHost: a\r\nContent-Length: " + HELD + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body, 0, half);
                    out.flush();
                }
            }
            HttpResponse<String> answer = post(edge, "/body.php", body);
            assertThat(answer.body()).isEqualTo(told(body));
        }
    }
}
