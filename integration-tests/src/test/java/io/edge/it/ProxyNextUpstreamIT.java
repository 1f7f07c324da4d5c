package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code proxy_next_upstream error timeout} (its default, with {@code proxy_next_upstream_tries 0}) for a proxy
 * group of several addresses: a connect that fails, and a failure or timeout before any byte of an answer, send the
 * request to the next address it has not tried (after it went out: not a POST, LOCK or PATCH; one with a body goes
 * with it, read whole first: {@link ProxyRequestBufferingIT}); every try is in {@code $upstream_addr} and {@code
 * $upstream_status} as nginx 1.22 writes them (compared side by side: "127.0.0.1:1, 127.0.0.1:2" and "502, 200").
 * Real sockets: {@link FakeHttpBackend}s that close on a request, stall or answer, a port nobody listens on, a Unix
 * socket.
 */
class ProxyNextUpstreamIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String GOOD = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood";
    /**
     * The read timeout of a group whose first address stalls (until edge closes: any timeout fires there) and whose
     * other one answers: long enough for that answer on a loaded machine (at 300 ms it came late under load, 504
     * where a test wanted 200). A group whose every address stalls keeps a short one: nothing has to answer in it.
     */
    private static final String READ_TIMEOUT = "timeouts.read = 2 s";

    @TempDir
    Path dir;

    private CapturedLog access;

    @BeforeEach
    void captureAccessLog() {
        access = CapturedLog.of("edge.access");
    }

    @AfterEach
    void stopCapturing() {
        access.close();
    }

    /** An edge whose location /{name}/ goes to each group {@code name} of {@code groups}, addresses and settings. */
    private EdgeHarness edge(String... groups) throws Exception {
        StringBuilder locations = new StringBuilder();
        StringBuilder backends = new StringBuilder();
        for (int i = 0; i < groups.length; i += 2) {
            locations.append("  { match = \"/").append(groups[i]).append("/\", proxy = ").append(groups[i])
                    .append(" }\n");
            backends.append("proxy.backends.").append(groups[i]).append(" { balance = round-robin, health.max-fails = 0, ")
                    .append(groups[i + 1]).append(" }\n");
        }
        return EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$request_method $request_uri|$status|$upstream_status|$upstream_addr" }
                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                  { match = "= /edge-status", status = true }
                %s] }]
                %s""".formatted(locations, backends));
    }

    private static HttpResponse<String> send(EdgeHarness edge, String method, String target, String body)
            throws Exception {
        return UpstreamTries.send(edge, method, target, body);
    }

    /** The access log's line for {@code method} and {@code target}, once written: status|upstream_status|upstream_addr. */
    private String logged(String method, String target) throws Exception {
        return UpstreamTries.logged(access, method, target);
    }

    private static String at(int port) {
        return "127.0.0.1:" + port;
    }

    @Test
    void aRefusedConnectGoesToTheNextAddressWhateverTheMethodAndEveryTryIsLogged() throws Exception {
        int closed = FakeHttpBackend.closedPort();
        int closedToo = FakeHttpBackend.closedPort();
        // a group each: an address that refused is skipped for a short backoff after, so a second request to the same
        // group could go to the good one first
        try (FakeHttpBackend good = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"]".formatted(at(closed), at(good.port())),
                     "post", "addresses = [\"%s\", \"%s\"]".formatted(at(closedToo), at(good.port())))) {
            good.answer("api/a", GOOD);
            good.answer("post/b", GOOD);
            assertThat(send(edge, "GET", "/api/a", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/api/a")).isEqualTo("200|502, 200|" + at(closed) + ", " + at(good.port()));
            // nothing went to the first: a POST with a body is passed on too
            HttpResponse<String> post = send(edge, "POST", "/post/b", "a body");
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(logged("POST", "/post/b")).isEqualTo("200|502, 200|" + at(closedToo) + ", "
                    + at(good.port()));
        }
    }

    /**
     * nginx counts a refused connect against the address: with max-fails 1 the next request goes to the other. The
     * error log names the group by its configuration's word, "proxy backend api" (a FastCGI one's "fastcgi group").
     */
    @Test
    void aRefusedConnectCountsAgainstTheAddressesHealth() throws Exception {
        int closed = FakeHttpBackend.closedPort();
        try (CapturedLog pools = CapturedLog.of("io.edge.fastcgi.pool.BackendPool");
             FakeHttpBackend good = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], health { max-fails = 1, fail-timeout = 60 s }"
                     .formatted(at(closed), at(good.port())))) {
            good.answer("api/a", GOOD);
            good.answer("api/b", GOOD);
            good.answer("api/c", GOOD);
            send(edge, "GET", "/api/a", null);
            assertThat(logged("GET", "/api/a")).isEqualTo("200|502, 200|" + at(closed) + ", " + at(good.port()));
            send(edge, "GET", "/api/b", null);
            send(edge, "GET", "/api/c", null);
            assertThat(logged("GET", "/api/b")).isEqualTo("200|200|" + at(good.port()));
            assertThat(logged("GET", "/api/c")).isEqualTo("200|200|" + at(good.port()));
            assertThat(pools.warnings()).isNotEmpty().allMatch(line -> line.startsWith("proxy backend api: "))
                    .anyMatch(line -> line.startsWith("proxy backend api: " + at(closed) + " marked down for "));
            // the group in the metrics, as a FastCGI group is: its refused connect counted
            assertThat(send(edge, "GET", "/edge-status?format=prometheus", null).body())
                    .contains("edge_proxy_connections_open{group=\"api\"} ")
                    .contains("edge_proxy_waiters{group=\"api\"} 0\n")
                    .contains("edge_proxy_busy_connects_total{group=\"api\"} 1\n");
        }
    }

    /**
     * A connection closed after the request went, before any answer: a GET, DELETE, PROPFIND, a PUT with a body or
     * none goes on, a POST, PATCH or LOCK (nginx's non-idempotent methods) does not, bodiless too.
     * Round-robin over [closing, good]: after each request, a GET that the good one answers alone (its turn, whether
     * the request before was passed on to it or not) puts the rotation back to the closing one.
     */
    @Test
    void aConnectionClosedUnderTheRequestPassesItOnUnlessItIsAPostPatchOrLock() throws Exception {
        try (FakeHttpBackend closing = new FakeHttpBackend();
             FakeHttpBackend good = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], keep-alive.enabled = false"
                     .formatted(at(closing.port()), at(good.port())))) {
            for (String path : new String[] {"get", "post", "patch", "put", "put-empty", "delete", "lock", "propfind",
                    "back1", "back2", "back3", "back4", "back5", "back6", "back7", "back8"}) {
                closing.answer("api/" + path, "");
                good.answer("api/" + path, GOOD);
            }
            String both = "|502, 200|" + at(closing.port()) + ", " + at(good.port());
            String first = "|502|" + at(closing.port());
            String second = "|200|" + at(good.port());

            assertThat(send(edge, "GET", "/api/get", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/api/get")).isEqualTo("200" + both);
            send(edge, "GET", "/api/back5", null);
            assertThat(logged("GET", "/api/back5")).isEqualTo("200" + second);

            assertThat(send(edge, "POST", "/api/post", "x").statusCode()).isEqualTo(502);
            assertThat(logged("POST", "/api/post")).isEqualTo("502" + first);
            send(edge, "GET", "/api/back1", null);
            assertThat(logged("GET", "/api/back1")).isEqualTo("200" + second);

            assertThat(send(edge, "PATCH", "/api/patch", null).statusCode()).isEqualTo(502);
            assertThat(logged("PATCH", "/api/patch")).isEqualTo("502" + first);
            send(edge, "GET", "/api/back2", null);

            assertThat(send(edge, "PUT", "/api/put", "a body").statusCode()).isEqualTo(200);
            assertThat(logged("PUT", "/api/put")).isEqualTo("200" + both);
            send(edge, "GET", "/api/back3", null);

            assertThat(send(edge, "PUT", "/api/put-empty", null).statusCode()).isEqualTo(200);
            assertThat(logged("PUT", "/api/put-empty")).isEqualTo("200" + both);
            send(edge, "GET", "/api/back6", null);
            assertThat(send(edge, "DELETE", "/api/delete", null).statusCode()).isEqualTo(200);
            assertThat(logged("DELETE", "/api/delete")).isEqualTo("200" + both);
            send(edge, "GET", "/api/back7", null);
            // a method nginx does not name non-idempotent goes on, as there
            assertThat(send(edge, "PROPFIND", "/api/propfind", null).statusCode()).isEqualTo(200);
            assertThat(logged("PROPFIND", "/api/propfind")).isEqualTo("200" + both);
            send(edge, "GET", "/api/back8", null);
            assertThat(send(edge, "LOCK", "/api/lock", null).statusCode()).isEqualTo(502);
            assertThat(logged("LOCK", "/api/lock")).isEqualTo("502" + first);
            send(edge, "GET", "/api/back4", null);
            assertThat(logged("GET", "/api/back4")).isEqualTo("200" + second);
        }
    }

    @Test
    void aReadTimeoutBeforeTheAnswerPassesAGetOnAs504() throws Exception {
        try (FakeHttpBackend stalling = new FakeHttpBackend();
             FakeHttpBackend good = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], %s"
                     .formatted(at(stalling.port()), at(good.port()), READ_TIMEOUT))) {
            stalling.answer("api/get", null);
            stalling.answer("api/post", null);
            good.answer("api/get", GOOD);
            good.answer("api/post", GOOD);
            good.answer("api/between", GOOD);
            assertThat(send(edge, "GET", "/api/get", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/api/get")).isEqualTo("200|504, 200|" + at(stalling.port()) + ", "
                    + at(good.port()));
            // the good one's turn (the GET passed on to it took none): the POST then goes to the stalling one
            assertThat(send(edge, "GET", "/api/between", null).body()).isEqualTo("good");
            assertThat(send(edge, "POST", "/api/post", null).statusCode()).isEqualTo(504);
            assertThat(logged("POST", "/api/post")).isEqualTo("504|504|" + at(stalling.port()));
        }
    }

    /**
     * Fifty GETs at once to a group whose first address hangs: each one sent there times out and goes to the other,
     * every one is answered 200, and no connection nor place in the queue is left behind.
     */
    @Test
    void concurrentGetsPassedOnFromAHangingAddressAreAllAnswered() throws Exception {
        try (FakeHttpBackend stalling = new FakeHttpBackend();
             FakeHttpBackend good = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], %s, max-connections = 8"
                     .formatted(at(stalling.port()), at(good.port()), READ_TIMEOUT))) {
            stalling.answer("api/c", null);
            good.answer("api/c", GOOD);
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                all.add(CLIENT.sendAsync(HttpRequest.newBuilder(edge.uri("/api/c?" + i)).timeout(Duration.ofSeconds(30))
                        .build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (var f : all) {
                HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                assertThat(r.statusCode()).as(r.uri().toString()).isEqualTo(200);
            }
            await(() -> send(edge, "GET", "/edge-status?format=prometheus", null).body()
                    .contains("edge_proxy_waiters{group=\"api\"} 0\n"), "no waiter left");
            await(() -> !send(edge, "GET", "/edge-status", null).body().contains("lingering=")
                    || send(edge, "GET", "/edge-status", null).body().contains("lingering=0"), "no lingering slot left");
        }
    }

    /**
     * Passed on from an address that timed out to the last one, which refuses: answered 502 as the last try failed (after
     * the restart window at most), not left waiting for its whole queue timeout.
     */
    @Test
    void passedOnToALastAddressThatRefusesIsA502() throws Exception {
        int closed = FakeHttpBackend.closedPort();
        try (FakeHttpBackend stalling = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], timeouts.read = 300 ms, queue.timeout = 60 s"
                     .formatted(at(stalling.port()), at(closed)))) {
            stalling.answer("api/x", null);
            HttpRequest request = HttpRequest.newBuilder(edge.uri("/api/x")).timeout(Duration.ofSeconds(20)).build();
            assertThat(CLIENT.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/api/x")).isEqualTo("502|504, 502|" + at(stalling.port()) + ", " + at(closed));
        }
    }

    /** The client gone while its request, passed on, waits on the second address: both slots come back. */
    @Test
    void aClientGoneWhilePassedOnLeavesNoSlotTaken() throws Exception {
        try (FakeHttpBackend stalling1 = new FakeHttpBackend();
             FakeHttpBackend stalling2 = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], timeouts.read = 1 s"
                     .formatted(at(stalling1.port()), at(stalling2.port())))) {
            stalling1.answer("api/x", null);
            stalling2.answer("api/x", null);
            try (RawHttpClient raw = new RawHttpClient(edge.address())) {
                raw.send("GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
                await(() -> stalling1.connections() + stalling2.connections() == 2, "passed on to the second");
            }
            assertThat(logged("GET", "/api/x")).startsWith("499|504, ");
            await(() -> send(edge, "GET", "/edge-status", null).body().contains("proxy backend api: open=0 "),
                    "no connection left");
        }
    }

    /** nginx counts a read timeout against the address too: with max-fails 1 the next requests go to the other. */
    @Test
    void aReadTimeoutCountsAgainstTheAddressesHealth() throws Exception {
        try (FakeHttpBackend stalling = new FakeHttpBackend();
             FakeHttpBackend good = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], %s, "
                     .formatted(at(stalling.port()), at(good.port()), READ_TIMEOUT) + "health { max-fails = 1, fail-timeout = 60 s }")) {
            for (String path : new String[] {"a", "b", "c", "d"}) {
                stalling.answer("api/" + path, null);
                good.answer("api/" + path, GOOD);
            }
            assertThat(send(edge, "GET", "/api/a", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/api/a")).isEqualTo("200|504, 200|" + at(stalling.port()) + ", "
                    + at(good.port()));
            for (String path : new String[] {"b", "c", "d"}) {
                assertThat(send(edge, "GET", "/api/" + path, null).body()).isEqualTo("good");
                assertThat(logged("GET", "/api/" + path)).isEqualTo("200|200|" + at(good.port()));
            }
            assertThat(stalling.connections()).isEqualTo(1);
        }
    }

    /**
     * Bytes of the answer went to the client: the request is never sent again, the client's connection closed (the
     * backend closes after its short answer: edge asked for the close).
     */
    @Test
    void anAnswerCutAfterItsFirstBytesIsNotSentAgain() throws Exception {
        try (FakeHttpBackend cutting = new FakeHttpBackend();
             FakeHttpBackend good = new FakeHttpBackend();
             EdgeHarness edge = edge("api", "addresses = [\"%s\", \"%s\"], keep-alive.enabled = false"
                     .formatted(at(cutting.port()), at(good.port())))) {
            cutting.answer("api/cut", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
            good.answer("api/cut", GOOD);
            try (RawHttpClient raw = new RawHttpClient(edge.address())) {
                raw.send("GET /api/cut HTTP/1.1\r\nHost: a\r\n\r\n");
                String text = new String(raw.socket().getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(text).startsWith("HTTP/1.1 200").endsWith("only ten b");
            }
            assertThat(logged("GET", "/api/cut")).endsWith("|" + at(cutting.port()));
            assertThat(good.connections()).isZero();
        }
    }

    /** With every address failing, the last try's status answers (502, 504 for a timeout), and each try is logged. */
    @Test
    void everyAddressFailingAnswersAsTheLastTry() throws Exception {
        int closed1 = FakeHttpBackend.closedPort();
        int closed2 = FakeHttpBackend.closedPort();
        try (FakeHttpBackend stalling1 = new FakeHttpBackend();
             FakeHttpBackend stalling2 = new FakeHttpBackend();
             EdgeHarness edge = edge(
                     "refused", "addresses = [\"%s\", \"%s\"]".formatted(at(closed1), at(closed2)),
                     "stalling", "addresses = [\"%s\", \"%s\"], timeouts.read = 300 ms"
                             .formatted(at(stalling1.port()), at(stalling2.port())),
                     "single", "addresses = [\"%s\"]".formatted(at(closed1)))) {
            assertThat(send(edge, "GET", "/refused/x", null).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/refused/x")).isEqualTo("502|502, 502|" + at(closed1) + ", " + at(closed2));
            stalling1.answer("stalling/x", null);
            stalling2.answer("stalling/x", null);
            assertThat(send(edge, "GET", "/stalling/x", null).statusCode()).isEqualTo(504);
            assertThat(logged("GET", "/stalling/x")).isEqualTo("504|504, 504|" + at(stalling1.port()) + ", "
                    + at(stalling2.port()));
            // the last address left refusing is waited for as a restart (nginx: 502 at once), then 502 as an outage:
            // above, the second address of two; here the only one
            assertThat(send(edge, "GET", "/single/x", null).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/single/x")).isEqualTo("502|502|" + at(closed1));
        }
    }

    /**
     * A group at a Unix socket ({@code unix:/path}, nginx's server unix:...), end to end: a request and its body go
     * over it, and a socket file nobody listens at (gone) is a refused connect that goes to the next address.
     */
    @Test
    void aGroupAtAUnixSocketAnswersAndAMissingSocketGoesToTheNext() throws Exception {
        Path socket = dir.resolve("api.sock");
        Path missing = dir.resolve("gone.sock");
        try (UnixHttpBackend unix = new UnixHttpBackend(socket);
             EdgeHarness edge = edge(
                     "api", "addresses = [\"unix:%s\"]".formatted(socket),
                     "next", "addresses = [\"unix:%s\", \"unix:%s\"]".formatted(missing, socket))) {
            HttpResponse<String> post = send(edge, "POST", "/api/x?a=1", "a body of 16 B.");
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(post.body()).isEqualTo("POST /api/x?a=1 body=a body of 16 B.");
            assertThat(logged("POST", "/api/x?a=1")).isEqualTo("200|200|unix:" + socket);
            assertThat(send(edge, "GET", "/next/y", null).body()).isEqualTo("GET /next/y body=");
            assertThat(logged("GET", "/next/y")).isEqualTo("200|502, 200|unix:" + missing + ", unix:" + socket);
            assertThat(unix.requests()).isEqualTo(2);
        }
    }

    /** An HTTP backend at a Unix socket answering every request with its method, target and body, then closing. */
    private static final class UnixHttpBackend implements AutoCloseable {

        private final ServerSocketChannel server;
        private final AtomicInteger requests = new AtomicInteger();

        UnixHttpBackend(Path socket) throws IOException {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread acceptor = new Thread(this::accept, "unix-http-backend");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int requests() {
            return requests.get();
        }

        private void accept() {
            while (server.isOpen()) {
                try (SocketChannel connection = server.accept()) {
                    InputStream in = Channels.newInputStream(connection);
                    String head = readHead(in);
                    String lower = head.toLowerCase(Locale.ROOT);
                    int at = lower.indexOf("\r\ncontent-length:");
                    int length = at < 0 ? 0
                            : Integer.parseInt(lower.substring(at + 17, lower.indexOf("\r\n", at + 2)).strip());
                    String body = new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
                    String text = head.substring(0, head.indexOf(" HTTP/")) + " body=" + body;
                    requests.incrementAndGet();
                    Channels.newOutputStream(connection).write(("HTTP/1.1 200 OK\r\nContent-Length: " + text.length()
                            + "\r\nConnection: close\r\n\r\n" + text).getBytes(StandardCharsets.ISO_8859_1));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed before a request head");
                }
                head.write(b);
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
