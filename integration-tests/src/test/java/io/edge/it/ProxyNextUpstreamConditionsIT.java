package io.edge.it;

import static io.edge.it.UpstreamTries.location;
import static io.edge.it.UpstreamTries.locationInGroup;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.edge.core.http.CapturedLog;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy location's proxy-next-upstream, -tries and -timeout (nginx's proxy_next_upstream with its conditions,
 * proxy_next_upstream_tries and proxy_next_upstream_timeout) through edge with a real client, to real backends that
 * answer one status each and count the requests they get. Each location has a group of its own, round-robin from its
 * first address, so each test's first request goes to the first address listed.
 */
class ProxyNextUpstreamConditionsIT {

    /**
     * The read timeout of a group whose first address stalls: long enough for the other, a backend in this JVM, to
     * answer on a loaded machine (at 300 ms its first answer came late under load: 504 where the test wanted 200).
     */
    private static final String READ_TIMEOUT = ", timeouts.read = 2 s";

    @TempDir
    Path dir;

    /** The access log's lines, a test's own (JUnit makes an instance for each). */
    private final CapturedLog access = CapturedLog.of("edge.access");

    @AfterEach
    void stopCapturing() {
        access.close();
    }

    /** A backend that answers every request with {@code status} and {@code body}, and counts them. */
    private static final class Backend implements AutoCloseable {

        private final HttpServer server;
        private final AtomicInteger hits = new AtomicInteger();

        Backend(int status, String body) throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", exchange -> {
                hits.incrementAndGet();
                exchange.getRequestBody().readAllBytes();
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("X-Backend", body);
                exchange.sendResponseHeaders(status, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            });
            server.start();
        }

        String address() {
            return "127.0.0.1:" + server.getAddress().getPort();
        }

        int hits() {
            return hits.get();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /**
     * An edge whose location /{name}/ goes to a group of its own for each {name, addresses, location settings, group
     * settings} of {@code locations}: the addresses a comma-separated list, the location's settings its
     * proxy-next-upstream keys, the group's laid over round-robin and no health checks. The read timeout is edge's
     * (60 s): a backend here answers as soon as it runs, and on a loaded machine that can be later than any short
     * timeout; a test that wants a read timeout sets its own.
     */
    private EdgeHarness edge(String[]... locations) throws Exception {
        StringBuilder sites = new StringBuilder();
        StringBuilder groups = new StringBuilder();
        for (String[] location : locations) {
            sites.append("  { match = \"/%s/\", proxy = %s, %s }\n".formatted(location[0], location[0], location[2]));
            groups.append("proxy.backends.%s { addresses = [%s], balance = round-robin, health.max-fails = 0"
                    .formatted(location[0], location[1].replaceAll("([^, ]+)", "\"$1\"")))
                    .append(location[3]).append(" }\n");
        }
        return EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$request_method $request_uri|$status|$upstream_status|$upstream_addr" }
                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                %s] }]
                %s""".formatted(sites, groups));
    }

    private static HttpResponse<String> send(EdgeHarness edge, String method, String target, String body)
            throws Exception {
        return UpstreamTries.send(edge, method, target, body);
    }

    /** The access log's status|upstream_status|upstream_addr for {@code method} and {@code target}, once written. */
    private String logged(String method, String target) throws Exception {
        return UpstreamTries.logged(access, method, target);
    }

    @Test
    void a502GoesToTheNextAddressWithHttp502InTheListAndNotWithout() throws Exception {
        try (Backend bad = new Backend(502, "bad gateway of the first");
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(location("on", "proxy-next-upstream = [error, timeout, http_502]",
                     bad.address(), good.address()), location("off", "", bad.address(), good.address()))) {
            HttpResponse<String> passed = send(edge, "GET", "/on/a", null);
            assertThat(passed.statusCode()).isEqualTo(200);
            assertThat(passed.body()).isEqualTo("good");
            assertThat(logged("GET", "/on/a")).isEqualTo("200|502, 200|" + bad.address() + ", " + good.address());
            assertThat(bad.hits()).isEqualTo(1);
            assertThat(good.hits()).isEqualTo(1);

            // nginx's default, error timeout: a 502 is an answer like any
            HttpResponse<String> kept = send(edge, "GET", "/off/a", null);
            assertThat(kept.statusCode()).isEqualTo(502);
            assertThat(kept.body()).isEqualTo("bad gateway of the first");
            assertThat(logged("GET", "/off/a")).isEqualTo("502|502|" + bad.address());
            assertThat(good.hits()).isEqualTo(1);
        }
    }

    @Test
    void theLastAddressesAnswerIsPassedOnAsItIs() throws Exception {
        try (Backend busy = new Backend(503, "busy, the first");
             Backend busyToo = new Backend(503, "busy, the second");
             EdgeHarness edge = edge(location("api", "proxy-next-upstream = [http_503]", busy.address(),
                     busyToo.address()))) {
            HttpResponse<String> last = send(edge, "GET", "/api/a", null);
            assertThat(last.statusCode()).isEqualTo(503);
            assertThat(last.body()).isEqualTo("busy, the second");
            assertThat(last.headers().firstValue("X-Backend")).hasValue("busy, the second");
            assertThat(logged("GET", "/api/a")).isEqualTo("503|503, 503|" + busy.address() + ", "
                    + busyToo.address());
            assertThat(busy.hits()).isEqualTo(1);
            assertThat(busyToo.hits()).isEqualTo(1);
        }
    }

    @Test
    void triesBoundThePassingOn() throws Exception {
        try (Backend bad = new Backend(502, "first");
             Backend badToo = new Backend(502, "second");
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(
                     location("two", "proxy-next-upstream = [http_502], proxy-next-upstream-tries = 2", bad.address(),
                             badToo.address(), good.address()),
                     location("any", "proxy-next-upstream = [http_502]", bad.address(), badToo.address(),
                             good.address()))) {
            HttpResponse<String> bounded = send(edge, "GET", "/two/a", null);
            assertThat(bounded.statusCode()).isEqualTo(502);
            assertThat(bounded.body()).isEqualTo("second");
            assertThat(logged("GET", "/two/a")).isEqualTo("502|502, 502|" + bad.address() + ", " + badToo.address());
            assertThat(good.hits()).isZero();

            HttpResponse<String> unbounded = send(edge, "GET", "/any/a", null);
            assertThat(unbounded.body()).isEqualTo("good");
            assertThat(logged("GET", "/any/a")).isEqualTo("200|502, 502, 200|" + bad.address() + ", "
                    + badToo.address() + ", " + good.address());
        }
    }

    @Test
    void offPassesNotEvenAFailedConnectOn() throws Exception {
        int closed = FakeHttpBackend.closedPort();
        String refusing = "127.0.0.1:" + closed;
        try (Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(location("off", "proxy-next-upstream = [off]", refusing, good.address()),
                     location("on", "", refusing, good.address()))) {
            assertThat(send(edge, "GET", "/off/a", null).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/off/a")).isEqualTo("502|502|" + refusing);
            assertThat(good.hits()).isZero();

            assertThat(send(edge, "GET", "/on/a", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/on/a")).isEqualTo("200|502, 200|" + refusing + ", " + good.address());
        }
    }

    /**
     * As nginx counts them: a 503 passed on counts against its address's health (max-fails 1 takes it out, the third
     * request, its turn again, goes to the other alone), a 404 passed on does not (the third request meets it again).
     */
    @Test
    void a503PassedOnCountsAgainstItsAddressAnd404DoesNot() throws Exception {
        String health = ", health { max-fails = 1, fail-timeout = 60 s }";
        try (Backend busy = new Backend(503, "busy");
             Backend missing = new Backend(404, "not here");
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(locationInGroup("busy", "proxy-next-upstream = [http_503]", health,
                     busy.address(), good.address()), locationInGroup("missing", "proxy-next-upstream = [http_404]",
                     health, missing.address(), good.address()))) {
            for (String name : new String[] {"busy", "missing"}) {
                for (String path : new String[] {"a", "b", "c"}) {
                    send(edge, "GET", "/" + name + "/" + path, null);
                }
            }
            assertThat(logged("GET", "/busy/a")).isEqualTo("200|503, 200|" + busy.address() + ", " + good.address());
            assertThat(logged("GET", "/busy/b")).isEqualTo("200|200|" + good.address());
            assertThat(logged("GET", "/busy/c")).isEqualTo("200|200|" + good.address());
            assertThat(busy.hits()).isEqualTo(1);
            assertThat(logged("GET", "/missing/b")).isEqualTo("200|200|" + good.address());
            assertThat(logged("GET", "/missing/c")).isEqualTo("200|404, 200|" + missing.address() + ", "
                    + good.address());
            assertThat(missing.hits()).isEqualTo(2);
        }
    }

    /**
     * The last address's answer of a listed status is the request's and no failure of its address, as nginx's
     * ngx_http_upstream_test_next passes on only while a try is left (peer.tries > 1) and frees the last peer as no
     * failure: both 503, the first counts (max-fails 1, down), the second does not, and answers the next requests.
     */
    @Test
    void theLastAddressesListedStatusDoesNotCountAgainstIt() throws Exception {
        try (Backend busy = new Backend(503, "busy, the first");
             Backend busyToo = new Backend(503, "busy, the second");
             EdgeHarness edge = edge(locationInGroup("api", "proxy-next-upstream = [http_503]",
                     ", health { max-fails = 1, fail-timeout = 60 s }", busy.address(), busyToo.address()))) {
            assertThat(send(edge, "GET", "/api/a", null).body()).isEqualTo("busy, the second");
            assertThat(logged("GET", "/api/a")).isEqualTo("503|503, 503|" + busy.address() + ", " + busyToo.address());
            for (String path : new String[] {"b", "c"}) {
                assertThat(send(edge, "GET", "/api/" + path, null).body()).isEqualTo("busy, the second");
                assertThat(logged("GET", "/api/" + path)).isEqualTo("503|503|" + busyToo.address());
            }
            assertThat(busy.hits()).isEqualTo(1);
        }
    }

    /**
     * An answer that is not HTTP counts against its address's health whether it is passed on (invalid_header) or
     * answered (502), as nginx frees an invalid header's peer as NGX_PEER_FAILED either way: with max-fails 1 the first
     * address is down after it, and the next requests, one of them its turn, go to the second.
     */
    @Test
    void anAnswerThatIsNotHttpCountsAgainstItsAddressPassedOnOrNot() throws Exception {
        String health = ", health { max-fails = 1, fail-timeout = 60 s }";
        try (FakeHttpBackend odd = new FakeHttpBackend();
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(locationInGroup("garbled", "proxy-next-upstream = [invalid_header]", health,
                     "127.0.0.1:" + odd.port(), good.address()), locationInGroup("default", "", health,
                     "127.0.0.1:" + odd.port(), good.address()))) {
            for (String name : new String[] {"garbled", "default"}) {
                for (String path : new String[] {"a", "b", "c"}) {
                    odd.answer(name + "/" + path, "SPDY/9 what\r\n\r\n");
                    send(edge, "GET", "/" + name + "/" + path, null);
                }
                assertThat(logged("GET", "/" + name + "/b")).isEqualTo("200|200|" + good.address());
                assertThat(logged("GET", "/" + name + "/c")).isEqualTo("200|200|" + good.address());
            }
            assertThat(logged("GET", "/garbled/a")).isEqualTo("200|502, 200|127.0.0.1:" + odd.port() + ", "
                    + good.address());
            assertThat(logged("GET", "/default/a")).isEqualTo("502|502|127.0.0.1:" + odd.port());
        }
    }

    /**
     * The address a request was passed on to had its turn of the rotation, as in nginx's round robin (and least_conn's
     * ties): the next request starts at the one after it, not again at the address that passed it on, which would
     * otherwise meet every request first (a 404 passed on is no failure that takes it out).
     */
    @Test
    void theAddressPassedOnToHadItsTurn() throws Exception {
        try (Backend missing = new Backend(404, "not here");
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(location("rr", "proxy-next-upstream = [http_404]", missing.address(),
                     good.address()), locationInGroup("least", "proxy-next-upstream = [http_404]",
                     ", balance = least-connections", missing.address(), good.address()))) {
            for (String name : new String[] {"rr", "least"}) {
                assertThat(send(edge, "GET", "/" + name + "/a", null).body()).isEqualTo("good");
                assertThat(send(edge, "GET", "/" + name + "/b", null).body()).isEqualTo("good");
                assertThat(logged("GET", "/" + name + "/a")).isEqualTo("200|404, 200|" + missing.address() + ", "
                        + good.address());
                assertThat(logged("GET", "/" + name + "/b")).isEqualTo("200|200|" + good.address());
            }
            assertThat(missing.hits()).isEqualTo(2);
        }
    }

    /** off: not even a kept connection the backend closed under a GET is tried again on a new one, as in nginx. */
    @Test
    void offDoesNotSendAgainOnANewConnection() throws Exception {
        try (FakeHttpBackend kept = new FakeHttpBackend();
             EdgeHarness edge = edge(location("off", "proxy-next-upstream = [off]", "127.0.0.1:" + kept.port()))) {
            kept.answer("off/first", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
            kept.answer("off/second", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
            assertThat(send(edge, "GET", "/off/first", null).body()).isEqualTo("first");
            kept.closeKeptOnNext();
            assertThat(send(edge, "GET", "/off/second", null).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/off/second")).isEqualTo("502|502|127.0.0.1:" + kept.port());
            assertThat(kept.connections()).isEqualTo(1);
        }
    }

    /**
     * A POST went out: passed on only with non_idempotent, and never with a body streamed (proxy-request-buffering =
     * false: nothing kept to send again). A 404 passes on with http_404 too.
     */
    @Test
    void aPostGoesOnOnlyWithNonIdempotentAndNeverWithABodyStreamed() throws Exception {
        try (Backend missing = new Backend(404, "not here");
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(
                     location("idempotent", "proxy-next-upstream = [http_404]", missing.address(), good.address()),
                     location("any", "proxy-next-upstream = [http_404, non_idempotent]", missing.address(),
                             good.address()),
                     location("body", "proxy-next-upstream = [http_404, non_idempotent], "
                             + "proxy-request-buffering = false", missing.address(), good.address()))) {
            assertThat(send(edge, "POST", "/idempotent/a", null).statusCode()).isEqualTo(404);
            assertThat(logged("POST", "/idempotent/a")).isEqualTo("404|404|" + missing.address());

            assertThat(send(edge, "POST", "/any/a", null).body()).isEqualTo("good");
            assertThat(logged("POST", "/any/a")).isEqualTo("200|404, 200|" + missing.address() + ", "
                    + good.address());

            assertThat(send(edge, "POST", "/body/a", "a body").statusCode()).isEqualTo(404);
            assertThat(logged("POST", "/body/a")).isEqualTo("404|404|" + missing.address());
            assertThat(good.hits()).isEqualTo(1);
        }
    }

    /**
     * A connection closed in the middle of the answer's head is nginx's "upstream prematurely closed connection", an
     * error: passed on with nginx's default error timeout, not taken for an answer that is not HTTP (invalid_header).
     */
    @Test
    void aConnectionClosedWithinTheHeadIsAnError() throws Exception {
        try (FakeHttpBackend cut = new FakeHttpBackend();
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(location("default", "", "127.0.0.1:" + cut.port(), good.address()),
                     location("garbled", "proxy-next-upstream = [invalid_header]", "127.0.0.1:" + cut.port(),
                             good.address()))) {
            cut.answer("default/a", "HTTP/1.1 200 OK\r\nContent-Le");
            cut.answer("garbled/a", "HTTP/1.1 200 OK\r\nContent-Le");
            assertThat(send(edge, "GET", "/default/a", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/default/a")).isEqualTo("200|502, 200|127.0.0.1:" + cut.port() + ", "
                    + good.address());
            assertThat(send(edge, "GET", "/garbled/a", null).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/garbled/a")).isEqualTo("502|502|127.0.0.1:" + cut.port());
        }
    }

    /** A garbled answer goes on with invalid_header; a read timeout past proxy-next-upstream-timeout does not. */
    @Test
    void invalidHeaderPassesOnAndTheTimeoutBoundsIt() throws Exception {
        try (FakeHttpBackend odd = new FakeHttpBackend();
             Backend good = new Backend(200, "good");
             EdgeHarness edge = edge(
                     location("garbled", "proxy-next-upstream = [invalid_header]", "127.0.0.1:" + odd.port(),
                             good.address()),
                     location("default", "", "127.0.0.1:" + odd.port(), good.address()),
                     locationInGroup("late", "proxy-next-upstream-timeout = 100 ms", READ_TIMEOUT,
                             "127.0.0.1:" + odd.port(), good.address()),
                     locationInGroup("early", "proxy-next-upstream-timeout = 1 h", READ_TIMEOUT,
                             "127.0.0.1:" + odd.port(), good.address()))) {
            odd.answer("garbled/a", "SPDY/9 what\r\n\r\n");
            odd.answer("default/a", "SPDY/9 what\r\n\r\n");
            odd.answer("late/a", null);
            odd.answer("early/a", null);
            assertThat(send(edge, "GET", "/garbled/a", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/garbled/a")).isEqualTo("200|502, 200|127.0.0.1:" + odd.port() + ", "
                    + good.address());
            assertThat(send(edge, "GET", "/default/a", null).statusCode()).isEqualTo(502);

            // the read timeout, 2 s, is past the 100 ms the request had to go on
            assertThat(send(edge, "GET", "/late/a", null).statusCode()).isEqualTo(504);
            assertThat(logged("GET", "/late/a")).isEqualTo("504|504|127.0.0.1:" + odd.port());
            assertThat(send(edge, "GET", "/early/a", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/early/a")).isEqualTo("200|504, 200|127.0.0.1:" + odd.port() + ", "
                    + good.address());
        }
    }
}
