package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.io.ByteArrayInputStream;
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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code proxy_request_buffering on}, its default, for a proxied location: a request's body is read whole
 * before the request takes a backend connection, goes with its Content-Length (a chunked one's too), and, kept, goes
 * again whole to the next address a request is passed on to ({@code proxy_next_upstream}); {@code
 * proxy-request-buffering = false} streams it as before. Real sockets: the JDK's HTTP server as the backend, telling
 * what it got of each request (its length fields, the body's length and SHA-256), a {@link FakeHttpBackend} that
 * closes on a request, a port nobody listens on, the JDK's client and raw ones.
 */
class ProxyRequestBufferingIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    private final CapturedLog access = CapturedLog.of("edge.access");
    /** What the backend got of each request, in order: {@link #told}'s text. */
    private final List<String> seen = new CopyOnWriteArrayList<>();

    @AfterEach
    void stopCapturing() {
        access.close();
    }

    /** The JDK's server answering each request with what it got of it ({@link #told}), once its body is whole. */
    private JdkBackend echo() throws IOException {
        return JdkBackend.start(exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String text = exchange.getRequestMethod() + " " + exchange.getRequestURI() + " cl="
                    + field(exchange, "Content-Length") + " te=" + field(exchange, "Transfer-Encoding") + " length="
                    + body.length + " sha=" + sha256(body);
            seen.add(text);
            byte[] answer = text.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
    }

    private static String field(HttpExchange exchange, String name) {
        String value = exchange.getRequestHeaders().getFirst(name);
        return value == null ? "-" : value;
    }

    /** What {@link #echo} answers for {@code method} {@code target} with {@code body} sent with its Content-Length. */
    private static String told(String method, String target, byte[] body) {
        return method + " " + target + " cl=" + body.length + " te=- length=" + body.length + " sha=" + sha256(body);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code size} bytes of a pattern no shift of itself matches at a buffer's boundary. */
    private static byte[] pattern(int size) {
        byte[] body = new byte[size];
        for (int i = 0; i < size; i++) {
            body[i] = (byte) (i * 31 + (i >>> 11));
        }
        return body;
    }

    private EdgeHarness edge(String locations, String groups) throws Exception {
        return EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "%s" }
                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                  { match = "= /edge-status", status = true }
                %s] }]
                %s""".formatted(UpstreamTries.FORMAT, locations, groups));
    }

    /**
     * An edge whose /kept/ goes to the group kept ({@code kept}: its settings), and /streamed/, with
     * proxy-request-buffering = false, to the group streamed ({@code streamed}), both at {@code backend}.
     */
    private EdgeHarness keptAndStreamed(JdkBackend backend, String kept, String streamed) throws Exception {
        return edge("""
                  { match = "/kept/", proxy = kept }
                  { match = "/streamed/", proxy = streamed, proxy-request-buffering = false }
                """, """
                proxy.backends.kept { addresses = ["%s"], %s }
                proxy.backends.streamed { addresses = ["%s"], %s }
                """.formatted(backend.address(), kept, backend.address(), streamed));
    }

    /**
     * A group {@code name} of the port {@code first} then {@code second}, round-robin from the first, no health
     * checks: its first request goes to {@code first}.
     */
    private static String twoAddresses(String name, int first, JdkBackend second) {
        return "proxy.backends.%s { addresses = [\"127.0.0.1:%d\", \"%s\"], balance = round-robin, "
                .formatted(name, first, second.address()) + "health.max-fails = 0 }\n";
    }

    /** {@code body} (null for none) with its Content-Length, or {@code chunked}. */
    private static HttpResponse<String> send(EdgeHarness edge, String method, String target, byte[] body,
            boolean chunked) throws Exception {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : chunked ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)) // no length
                : HttpRequest.BodyPublishers.ofByteArray(body);
        return CLIENT.send(HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(30))
                .method(method, publisher).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String logged(String method, String target) throws Exception {
        return UpstreamTries.logged(access, method, target);
    }

    /**
     * A group of one connection (max-connections = 1) and a client that sends half its body and waits: buffered, it
     * holds no connection while it uploads, and another client's request is answered meanwhile (before, it waited for
     * the whole queue timeout: 503); streamed (proxy-request-buffering = false), it holds the connection, and the other
     * request waits in the queue until the upload is whole. Each upload then arrives whole.
     */
    @Test
    void aSlowUploadHoldsNoBackendConnectionUnlessStreamed() throws Exception {
        try (JdkBackend backend = echo();
             EdgeHarness edge = keptAndStreamed(backend, "max-connections = 1, queue.timeout = 2 s",
                     "max-connections = 1, queue.timeout = 60 s")) {
            byte[] body = "0123456789".getBytes(StandardCharsets.US_ASCII);
            try (RawHttpClient uploader = new RawHttpClient(edge.address())) {
                // the 100 Continue says edge took the request (and, streamed, a connection for it)
                uploader.send("PUT /kept/upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                        + "Content-Length: 10\r\n\r\n");
                assertThat(uploader.read().status()).isEqualTo(100);
                uploader.send("01234");
                HttpResponse<String> meanwhile = send(edge, "GET", "/kept/meanwhile", null, false);
                assertThat(meanwhile.statusCode()).as(meanwhile.body()).isEqualTo(200);
                // the JDK's client announces its GET's empty body (Content-Length: 0), passed on as nginx passes it
                assertThat(seen).containsExactly("GET /kept/meanwhile cl=0 te=- length=0 sha=" + sha256(new byte[0]));
                uploader.send("56789");
                RawHttpClient.Response uploaded = uploader.read();
                assertThat(uploaded.status()).isEqualTo(200);
                assertThat(uploaded.text()).isEqualTo(told("PUT", "/kept/upload", body));
            }
            assertThat(logged("GET", "/kept/meanwhile")).isEqualTo("200|200|" + backend.address());

            seen.clear();
            try (RawHttpClient uploader = new RawHttpClient(edge.address())) {
                uploader.send("PUT /streamed/upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                        + "Content-Length: 10\r\n\r\n");
                assertThat(uploader.read().status()).isEqualTo(100);
                uploader.send("01234");
                CompletableFuture<HttpResponse<String>> meanwhile = CLIENT.sendAsync(HttpRequest.newBuilder(
                        edge.uri("/streamed/meanwhile")).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                await(() -> send(edge, "GET", "/edge-status?format=prometheus", null, false).body()
                        .contains("edge_proxy_waiters{group=\"streamed\"} 1\n"), "the second request queued");
                assertThat(meanwhile).as("waits for the upload's connection").isNotDone();
                assertThat(seen).isEmpty();
                uploader.send("56789");
                RawHttpClient.Response uploaded = uploader.read();
                assertThat(uploaded.text()).isEqualTo(told("PUT", "/streamed/upload", body));
                assertThat(meanwhile.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
        }
    }

    /**
     * A body of a few MiB (past memory: in the spool file) arrives byte-exact, with its Content-Length whether the
     * client sent one or chunks, as nginx sends a buffered body; streamed, chunks go on as chunks.
     */
    @Test
    void aBodyArrivesWholeWithItsContentLengthChunkedOrNot() throws Exception {
        try (JdkBackend backend = echo();
             EdgeHarness edge = keptAndStreamed(backend, "", "")) {
            byte[] big = pattern(3 * 1024 * 1024 + 7);
            assertThat(send(edge, "POST", "/kept/length", big, false).body()).isEqualTo(told("POST", "/kept/length",
                    big));
            assertThat(send(edge, "POST", "/kept/chunks", big, true).body()).isEqualTo(told("POST", "/kept/chunks",
                    big));
            byte[] small = pattern(1000);
            assertThat(send(edge, "PUT", "/kept/small", small, true).body()).isEqualTo(told("PUT", "/kept/small",
                    small));
            assertThat(send(edge, "POST", "/streamed/chunks", big, true).body()).isEqualTo("POST /streamed/chunks"
                    + " cl=- te=chunked length=" + big.length + " sha=" + sha256(big));
        }
    }

    /** An HTTP/2 client's body (DATA frames, no length announced) is read whole as well, and goes with its length. */
    @Test
    void anHttp2ClientsBodyGoesWholeWithItsLength() throws Exception {
        Path tls = Files.createDirectories(dir.resolve("tls"));
        TrustingContext.selfSigned(tls);
        int port = EdgeProcess.freePort();
        try (JdkBackend backend = echo();
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.listen = ["127.0.0.1:%d ssl http2"]
                     sites = [{ server-names = [localhost], default = true, root = ".",
                       tls { certificate = "%s", key = "%s" },
                       locations = [{ match = "/kept/", proxy = api }] }]
                     proxy.backends.api { addresses = ["%s"] }
                     """.formatted(port, tls.resolve("cert.pem"), tls.resolve("key.pem"), backend.address()))) {
            HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
                    .sslContext(TrustingContext.of(tls.resolve("cert.pem"))).build();
            byte[] big = pattern(2 * 1024 * 1024 + 3);
            HttpResponse<String> posted = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:"
                    + edge.address().getPort() + "/kept/h2")).timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofInputStream(
                    () -> new ByteArrayInputStream(big))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(posted.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(posted.body()).isEqualTo(told("POST", "/kept/h2", big));
        }
    }

    /**
     * A PUT whose first address fails, a connect refused or a connection closed before any answer (the body sent),
     * goes again to the second, its body whole and byte-exact (memory, and a spool file's), and both tries are in
     * {@code $upstream_addr}, as nginx resends a buffered body; streamed, it does not.
     */
    @Test
    void aPutWithABodyGoesWholeToTheNextAddress() throws Exception {
        int refusing = FakeHttpBackend.closedPort();
        try (FakeHttpBackend closing = new FakeHttpBackend();
             JdkBackend good = echo();
             EdgeHarness edge = edge("""
                       { match = "/refused/", proxy = refused }
                       { match = "/closed/", proxy = closed }
                       { match = "/streamed/", proxy = streamed, proxy-request-buffering = false }
                     """, twoAddresses("refused", refusing, good) + twoAddresses("closed", closing.port(), good)
                     + twoAddresses("streamed", closing.port(), good))) {
            closing.answer("closed/big", "");
            closing.answer("streamed/put", "");
            byte[] small = "a small body".getBytes(StandardCharsets.US_ASCII);
            assertThat(send(edge, "PUT", "/refused/small", small, false).body()).isEqualTo(told("PUT",
                    "/refused/small", small));
            assertThat(logged("PUT", "/refused/small")).isEqualTo("200|502, 200|127.0.0.1:" + refusing + ", "
                    + good.address());

            byte[] big = pattern(2 * 1024 * 1024 + 5);
            assertThat(send(edge, "PUT", "/closed/big", big, true).body()).isEqualTo(told("PUT", "/closed/big", big));
            assertThat(logged("PUT", "/closed/big")).isEqualTo("200|502, 200|127.0.0.1:" + closing.port() + ", "
                    + good.address());

            assertThat(send(edge, "PUT", "/streamed/put", small, false).statusCode()).isEqualTo(502);
            assertThat(logged("PUT", "/streamed/put")).isEqualTo("502|502|127.0.0.1:" + closing.port());
            assertThat(seen).hasSize(2);
        }
    }

    /**
     * proxy-next-upstream-timeout counts from when the request first goes to its group, its body whole, as nginx's
     * counts from its upstream's start: a client that took longer than it to upload still has its PUT passed on when
     * the first address closes (it was answered 502, the upload's time counted).
     */
    @Test
    void theNextUpstreamTimeoutCountsFromTheWholeBody() throws Exception {
        try (FakeHttpBackend closing = new FakeHttpBackend();
             JdkBackend good = echo();
             EdgeHarness edge = edge("""
                       { match = "/slow/", proxy = slow, proxy-next-upstream-timeout = 1 s }
                     """, twoAddresses("slow", closing.port(), good))) {
            closing.answer("slow/put", "");
            try (RawHttpClient uploader = new RawHttpClient(edge.address())) {
                uploader.socket().setSoTimeout(30_000);
                uploader.send("PUT /slow/put HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
                Thread.sleep(1500); // a slow client: its upload takes longer than the timeout
                uploader.send("56789");
                RawHttpClient.Response answer = uploader.read();
                assertThat(answer.status()).as(answer.text()).isEqualTo(200);
                assertThat(answer.text()).isEqualTo(told("PUT", "/slow/put",
                        "0123456789".getBytes(StandardCharsets.US_ASCII)));
            }
            assertThat(logged("PUT", "/slow/put")).isEqualTo("200|502, 200|127.0.0.1:" + closing.port() + ", "
                    + good.address());
        }
    }

    /**
     * An empty body announced (Content-Length: 0, a POST of an empty form) goes with its Content-Length: 0, as nginx
     * passes it (a backend may answer 411 to a POST without one); a request that announced none goes without.
     */
    @Test
    void anEmptyBodyGoesWithItsContentLength() throws Exception {
        try (JdkBackend backend = echo();
             EdgeHarness edge = keptAndStreamed(backend, "", "")) {
            for (String location : List.of("kept", "streamed")) {
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    client.send("POST /" + location + "/empty HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
                    assertThat(client.read().text()).isEqualTo(told("POST", "/" + location + "/empty", new byte[0]));
                    client.send("POST /" + location + "/none HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThat(client.read().text()).isEqualTo("POST /" + location + "/none cl=- te=- length=0 sha="
                            + sha256(new byte[0]));
                }
            }
        }
    }

    /**
     * A POST with a body whose connection closed before any answer goes on only where proxy-next-upstream lists
     * non_idempotent (nginx's rule for POST, LOCK and PATCH), then with its body whole.
     */
    @Test
    void aPostGoesOnOnlyWithNonIdempotent() throws Exception {
        try (FakeHttpBackend closing = new FakeHttpBackend();
             JdkBackend good = echo();
             EdgeHarness edge = edge("""
                       { match = "/plain/", proxy = plain }
                       { match = "/any/", proxy = any, proxy-next-upstream = [error, timeout, non_idempotent] }
                     """, twoAddresses("plain", closing.port(), good) + twoAddresses("any", closing.port(), good))) {
            closing.answer("plain/post", "");
            closing.answer("any/post", "");
            byte[] body = pattern(100_000);
            assertThat(send(edge, "POST", "/plain/post", body, false).statusCode()).isEqualTo(502);
            assertThat(logged("POST", "/plain/post")).isEqualTo("502|502|127.0.0.1:" + closing.port());
            assertThat(seen).isEmpty();

            assertThat(send(edge, "POST", "/any/post", body, false).body()).isEqualTo(told("POST", "/any/post", body));
            assertThat(logged("POST", "/any/post")).isEqualTo("200|502, 200|127.0.0.1:" + closing.port() + ", "
                    + good.address());
        }
    }

    /**
     * What guards the body while it is read still does: body-limit's 413 (a Content-Length over it, chunks that go
     * over it), and the body timeout's 408 for a client that stops sending; the backend sees none of them.
     */
    @Test
    void theBodyLimitAndTimeoutStillAnswer() throws Exception {
        try (JdkBackend backend = echo();
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.timeouts.body = 500 ms
                     sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                       { match = "/kept/", proxy = api, body-limit = 1 KiB }
                     ] }]
                     proxy.backends.api { addresses = ["%s"] }
                     """.formatted(backend.address()))) {
            byte[] over = pattern(2048);
            assertThat(send(edge, "POST", "/kept/length", over, false).statusCode()).isEqualTo(413);
            assertThat(send(edge, "POST", "/kept/chunks", over, true).statusCode()).isEqualTo(413);
            try (RawHttpClient stopping = new RawHttpClient(edge.address())) {
                stopping.socket().setSoTimeout(30_000); // keeps a missing timeout from hanging the build
                stopping.send("POST /kept/stopped HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789");
                assertThat(stopping.read().status()).isEqualTo(408);
            }
            byte[] under = pattern(1000);
            assertThat(send(edge, "POST", "/kept/under", under, true).body()).isEqualTo(told("POST", "/kept/under",
                    under));
            assertThat(seen).hasSize(1);
        }
    }
}
