package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import io.edge.core.fastcgi.SpoolFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's proxy_buffering against the JDK's HTTP server, in a group of one connection (max-connections = 1): a client
 * that sends its request and reads nothing of an answer far larger than the sockets' buffers does not hold that
 * connection. Another request to the group is answered while it still reads nothing, and then it gets every byte.
 * With proxy-buffering = false (nginx's proxy_buffering off, and edge's only way before) the backend is read at the
 * client's pace: the other request waits in the group's queue, and its timeout answers it (503).
 */
class ProxyBufferingIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** 8 MiB: past what the sockets on the way (client, edge, backend) hold. */
    private static final byte[] BODY = new byte[8 << 20];

    static {
        new Random(7).nextBytes(BODY);
    }

    @TempDir
    Path dir;

    /** Requests the backend took, and answers it wrote to their end. */
    private final AtomicInteger taken = new AtomicInteger();
    private final AtomicInteger written = new AtomicInteger();

    /**
     * The backend's answers: /big, BODY with its Content-Length; /chunked, BODY chunked; anything else, "small"; under
     * /stream/, with X-Accel-Buffering: no.
     */
    private void answer(HttpExchange exchange) throws IOException {
        taken.incrementAndGet();
        String path = exchange.getRequestURI().getPath();
        if (path.startsWith("/stream/")) {
            exchange.getResponseHeaders().add("X-Accel-Buffering", "no");
        }
        if (path.startsWith("/off/yes/")) {
            exchange.getResponseHeaders().add("X-Accel-Buffering", "yes");
        }
        byte[] body = path.endsWith("/big") || path.endsWith("/chunked") ? BODY
                : "small".getBytes(StandardCharsets.US_ASCII);
        exchange.sendResponseHeaders(200, path.endsWith("/chunked") ? 0 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            for (int at = 0; at < body.length; at += 64 * 1024) {
                out.write(body, at, Math.min(64 * 1024, body.length - at));
            }
        }
        written.incrementAndGet();
    }

    private EdgeHarness edge(JdkBackend backend) throws Exception {
        Files.createDirectories(dir.resolve("www"));
        return EdgeHarness.start(dir, """
                server.run-dir = "%s"
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", proxy = app }
                  { match = "/off/", proxy = app, proxy-buffering = false }
                ] }]
                proxy.backends.app {
                  addresses = ["%s"]
                  max-connections = 1
                  queue.timeout = 2 s
                }
                """.formatted(run(), backend.address()));
    }

    private Path run() {
        return dir.resolve("run");
    }

    @Test
    void clientsThatReadNothingHoldNoBackendConnectionAndGetEveryByteWhenTheyRead() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try (JdkBackend backend = JdkBackend.start(this::answer); EdgeHarness edge = edge(backend)) {
            slow.add(request(edge, "/big"));
            slow.add(request(edge, "/chunked"));
            // Both answers were read whole one after the other on the one connection, though nobody read them.
            Awaits.await(() -> written.get() == 2, "both answers written by the backend");
            HttpResponse<String> other = CLIENT.send(HttpRequest.newBuilder(edge.uri("/small")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).as("the group's one connection is free").isEqualTo(200);
            assertThat(other.body()).isEqualTo("small");
            assertThat(spoolFilesOpen()).as("answers held in spool files").isPositive();

            InputStream big = slow.get(0).getInputStream();
            assertThat(FastCgiBufferingIT.readHead(big)).startsWith("HTTP/1.1 200")
                    .containsIgnoringCase("content-length: " + BODY.length);
            assertThat(big.readNBytes(BODY.length)).as("the whole body, byte for byte").isEqualTo(BODY);

            InputStream chunked = slow.get(1).getInputStream();
            assertThat(FastCgiBufferingIT.readHead(chunked)).startsWith("HTTP/1.1 200")
                    .containsIgnoringCase("transfer-encoding: chunked");
            assertThat(dechunked(chunked)).as("the whole chunked body, byte for byte").isEqualTo(BODY);
            Awaits.await(() -> spoolFilesOpen() == 0, "every spool file closed");
        } finally {
            for (Socket socket : slow) {
                socket.close();
            }
        }
    }

    /** nginx's X-Accel-Buffering: yes turns buffering on for its answer where proxy_buffering is off. */
    @Test
    void aBackendsXAccelBufferingYesBuffersWhereTheLocationDoesNot() throws Exception {
        try (JdkBackend backend = JdkBackend.start(this::answer); EdgeHarness edge = edge(backend);
             Socket slow = request(edge, "/off/yes/big")) {
            Awaits.await(() -> written.get() == 1, "the answer written by the backend though nobody read it");
            HttpResponse<String> other = CLIENT.send(HttpRequest.newBuilder(edge.uri("/small")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).as("the group's one connection is free").isEqualTo(200);
            InputStream in = slow.getInputStream();
            assertThat(FastCgiBufferingIT.readHead(in)).startsWith("HTTP/1.1 200");
            assertThat(in.readNBytes(BODY.length)).as("the whole body, byte for byte").isEqualTo(BODY);
        }
    }

    @Test
    void aClientThatLeavesDropsItsSpool() throws Exception {
        try (JdkBackend backend = JdkBackend.start(this::answer); EdgeHarness edge = edge(backend)) {
            Socket leaving = request(edge, "/big");
            Awaits.await(() -> written.get() == 1, "the answer written by the backend");
            Awaits.await(() -> spoolFilesOpen() > 0, "the answer held in a spool file");
            leaving.close();
            Awaits.await(() -> spoolFilesOpen() == 0, "its spool file closed once its client left");
            HttpResponse<String> other = CLIENT.send(HttpRequest.newBuilder(edge.uri("/small")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.body()).isEqualTo("small");
        }
    }

    @Test
    void withProxyBufferingOffAClientThatReadsNothingHoldsTheConnection() throws Exception {
        holdsTheConnection("/off/big");
    }

    /** nginx reads the header too (unless proxy_ignore_headers): the backend's own answer streams. */
    @Test
    void aBackendsXAccelBufferingNoStreamsItsAnswer() throws Exception {
        holdsTheConnection("/stream/big");
    }

    private void holdsTheConnection(String path) throws Exception {
        try (JdkBackend backend = JdkBackend.start(this::answer); EdgeHarness edge = edge(backend);
             Socket slow = request(edge, path)) {
            Awaits.await(() -> taken.get() == 1, "the request on the group's connection");
            HttpResponse<String> other = CLIENT.send(HttpRequest.newBuilder(edge.uri("/small")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).as("waited in the queue for the held connection").isEqualTo(503);
            assertThat(spoolFilesOpen()).as("nothing spooled").isZero();

            InputStream in = slow.getInputStream();
            assertThat(FastCgiBufferingIT.readHead(in)).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase(
                    "x-accel-buffering");
            assertThat(in.readNBytes(BODY.length)).as("the whole body, byte for byte").isEqualTo(BODY);
        }
    }

    /** A raw client that sends a GET for {@code path} and reads nothing (a small window, set before the connect). */
    private static Socket request(EdgeHarness edge, String path) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(edge.address());
        socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: buffering\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    /** A chunked body, up to its last chunk and the empty line after it. */
    private static byte[] dechunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line(in);
            int length = Integer.parseInt(size.split(";")[0].strip(), 16);
            if (length == 0) {
                assertThat(line(in)).as("no trailers").isEmpty();
                return body.toByteArray();
            }
            body.writeBytes(in.readNBytes(length));
            assertThat(line(in)).as("the end of a chunk").isEmpty();
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed in a chunk's line: " + line);
            }
            line.append((char) c);
        }
        return line.toString().strip();
    }

    /** Descriptors of this process (edge runs in it) on deleted response spool files in the run-dir (0 without one). */
    private long spoolFilesOpen() throws IOException {
        return Files.isDirectory(run()) ? SpoolFiles.open(run().toRealPath() + "/edge-response-") : 0;
    }
}
