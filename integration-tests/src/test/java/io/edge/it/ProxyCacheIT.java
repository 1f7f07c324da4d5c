package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import io.edge.core.http.CapturedLog;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code proxy_cache}: a proxied location with {@code cache = true}, a real edge in front of the JDK's HTTP
 * server, which counts what it is asked and shows the validators each request came with; a real HTTP client; the
 * cache aging on a fake clock the test advances. {@code X-Cache} is the location's {@code $upstream_cache_status}.
 */
class ProxyCacheIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;

    private final AtomicLong nanos = new AtomicLong(1);
    /** What the backend was asked, by path: "METHOD If-None-Match" (null where none came). */
    private final Map<String, List<String>> asked = new ConcurrentHashMap<>();
    /** Holds /api/slow's answers until the test lets them go. */
    private final CountDownLatch slowGate = new CountDownLatch(1);
    /** Holds the rest of /api/failing's 503 body until the test lets it go. */
    private final CountDownLatch errorBodyGate = new CountDownLatch(1);
    private JdkBackend backend;
    private EdgeHarness edge;

    @BeforeEach
    void start() throws Exception {
        backend = JdkBackend.start(this::answer);
        Files.createDirectories(dir.resolve("www"));
        edge = EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$request_uri|$status|$upstream_cache_status" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/api/", proxy = api, cache = true, headers { X-Cache = "$upstream_cache_status" } }
                  { match = "= /edge-status", status = true }
                ] }]
                proxy.backends.api { addresses = ["%s"] }
                cache.responses { coalesce-timeout = 120 s }
                """.formatted(backend.address()), nanos::get);
    }

    @AfterEach
    void stop() {
        slowGate.countDown();
        errorBodyGate.countDown();
        EdgeHarness.close(edge, backend);
    }

    private void answer(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String ifNoneMatch = exchange.getRequestHeaders().getFirst("If-None-Match");
        List<String> requests = asked.computeIfAbsent(path, p -> new CopyOnWriteArrayList<>());
        requests.add(exchange.getRequestMethod() + " " + ifNoneMatch);
        int n = requests.size();
        try (InputStream in = exchange.getRequestBody()) {
            in.readAllBytes();
        }
        Headers headers = exchange.getResponseHeaders();
        int status = 200;
        String body = path.substring("/api/".length()) + " " + n;
        switch (path) {
            case "/api/page" -> headers.add("Cache-Control", "max-age=60");
            case "/api/private" -> headers.add("Cache-Control", "private, max-age=60");
            case "/api/cookie" -> {
                headers.add("Cache-Control", "max-age=60");
                headers.add("Set-Cookie", "session=" + n);
            }
            case "/api/vary" -> {
                headers.add("Cache-Control", "max-age=60");
                headers.add("Vary", "*");
            }
            case "/api/stream" -> {
                headers.add("Cache-Control", "max-age=60");
                headers.add("X-Accel-Buffering", "no");
            }
            case "/api/etag" -> {
                headers.add("Cache-Control", "max-age=1");
                headers.add("ETag", "\"v1\"");
                if ("\"v1\"".equals(ifNoneMatch)) {
                    exchange.sendResponseHeaders(304, -1);
                    exchange.close();
                    return;
                }
            }
            case "/api/stale" -> headers.add("Cache-Control", "max-age=1, stale-if-error=600");
            case "/api/failing" -> {
                headers.add("Cache-Control", "max-age=1");
                if (n > 1) {
                    // an overloaded backend's 503 whose body comes slowly (or never)
                    exchange.sendResponseHeaders(503, 20);
                    OutputStream out = exchange.getResponseBody();
                    out.write("overloaded".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    try {
                        errorBodyGate.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    out.write(" try later".getBytes(StandardCharsets.UTF_8));
                    exchange.close();
                    return;
                }
            }
            case "/api/cut" -> {
                // the backend dies mid-body: 10 bytes of the 100 its head announced, then the connection closes
                headers.add("Cache-Control", "max-age=60");
                exchange.sendResponseHeaders(200, 100);
                OutputStream out = exchange.getResponseBody();
                out.write("0123456789".getBytes(StandardCharsets.UTF_8));
                out.flush();
                exchange.close(); // the JDK's server closes the connection of a body left short
                return;
            }
            case "/api/sendfile" -> {
                headers.add("Cache-Control", "max-age=60");
                headers.add("ETag", "\"s1\"");
                headers.add("X-Sendfile", "/srv/files/report.pdf"); // an application's, for a server in front of the proxy
            }
            case "/api/old" -> {
                status = 301;
                headers.add("Cache-Control", "max-age=60");
                headers.add("Location", "http://" + backend.address() + "/api/new");
            }
            case "/api/slow" -> {
                headers.add("Cache-Control", "max-age=60");
                try {
                    slowGate.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            default -> { }
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (!head) {
                out.write(bytes);
            }
        }
    }

    private HttpResponse<String> send(String method, String target) throws Exception {
        return CLIENT.send(request(method, target), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String target) throws Exception {
        return send("GET", target);
    }

    private HttpRequest request(String method, String target) {
        return HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(60))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
    }

    private static String cacheStatus(HttpResponse<String> response) {
        return response.headers().firstValue("X-Cache").orElse(null);
    }

    /** How often the backend was asked for {@code path}, whatever the method. */
    private int hits(String path) {
        return asked.getOrDefault(path, List.of()).size();
    }

    private long metric(String name) throws Exception {
        String page = get("/edge-status?format=prometheus").body();
        return page.lines().filter(line -> line.startsWith(name + " "))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(name.length() + 1).strip()))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not on the status page:\n" + page));
    }

    @Test
    void aCacheableAnswerIsAskedOfTheBackendOnce() throws Exception {
        HttpResponse<String> first = get("/api/page");
        HttpResponse<String> second = get("/api/page");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("page 1");
        assertThat(cacheStatus(first)).isEqualTo("MISS");
        assertThat(second.body()).isEqualTo("page 1");
        assertThat(cacheStatus(second)).isEqualTo("HIT");
        assertThat(second.headers().firstValue("Cache-Control")).contains("max-age=60");
        HttpResponse<String> head = send("HEAD", "/api/page");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(head)).isEqualTo("HIT");
        assertThat(hits("/api/page")).isEqualTo(1);
        // a HEAD's miss asks a GET, whose body the cache keeps: the next GET is a hit
        HttpResponse<String> headMiss = send("HEAD", "/api/page?h=1");
        assertThat(headMiss.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(headMiss)).isEqualTo("MISS");
        assertThat(headMiss.body()).isEmpty();
        HttpResponse<String> afterHead = get("/api/page?h=1");
        assertThat(afterHead.body()).isEqualTo("page 2");
        assertThat(cacheStatus(afterHead)).isEqualTo("HIT");
        assertThat(asked.get("/api/page")).containsExactly("GET null", "GET null");
    }

    /** Private, a cookie, Vary: *, or read unbuffered (nginx stores no answer proxy_buffering off read): never stored. */
    @Test
    void aPrivateAnswerOrOneThatSetsACookieVariesOnAllOrStreamsIsNotStored() throws Exception {
        for (int i = 1; i <= 2; i++) {
            assertThat(get("/api/private").body()).isEqualTo("private " + i);
            HttpResponse<String> cookie = get("/api/cookie");
            assertThat(cookie.body()).isEqualTo("cookie " + i);
            assertThat(cookie.headers().firstValue("Set-Cookie")).contains("session=" + i);
            assertThat(get("/api/vary").body()).isEqualTo("vary " + i);
            HttpResponse<String> stream = get("/api/stream");
            assertThat(stream.body()).isEqualTo("stream " + i);
            assertThat(stream.headers().map()).doesNotContainKey("x-accel-buffering");
        }
        for (String path : List.of("/api/private", "/api/cookie", "/api/vary", "/api/stream")) {
            assertThat(hits(path)).as(path).isEqualTo(2);
        }
    }

    /**
     * The stale copy answers a backend's 5xx at its head, as nginx's proxy_cache_use_stale http_503 does: the client
     * does not wait for the error's body (here held by the backend until the client has its answer).
     */
    @Test
    void theStaleCopyAnswersABackends5xxAtItsHead() throws Exception {
        assertThat(get("/api/failing").body()).isEqualTo("failing 1");
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        // bounded below the group's read timeout (60 s), which would end the error's body and answer stale too
        HttpResponse<String> stale = CLIENT.send(HttpRequest.newBuilder(edge.uri("/api/failing"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        errorBodyGate.countDown();
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo("failing 1");
        assertThat(cacheStatus(stale)).isEqualTo("STALE");
        assertThat(hits("/api/failing")).isEqualTo(2);
    }

    /** An answer the backend cut short is not stored: the next request goes to the backend again, as nginx's. */
    @Test
    void anAnswerCutShortIsNotStored() throws Exception {
        for (int i = 1; i <= 2; i++) {
            assertThatThrownBy(() -> get("/api/cut")).isInstanceOf(IOException.class);
        }
        assertThat(hits("/api/cut")).isEqualTo(2);
        assertThat(cacheStatus(get("/api/page"))).isEqualTo("MISS"); // and edge answers on
    }

    /**
     * A proxied answer's X-Sendfile is a field like another (nginx's proxy neither acts on it nor hides it): the answer
     * is stored, and the client's own validators are judged on its miss, where a FastCGI script's hands out a file.
     */
    @Test
    void anAnswerWithXSendfileIsStoredAsAnother() throws Exception {
        HttpResponse<String> miss = CLIENT.send(HttpRequest.newBuilder(edge.uri("/api/sendfile"))
                .timeout(Duration.ofSeconds(60)).header("If-None-Match", "\"s1\"").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(miss.statusCode()).isEqualTo(304);
        assertThat(cacheStatus(miss)).isEqualTo("MISS");
        HttpResponse<String> hit = get("/api/sendfile");
        assertThat(hit.body()).isEqualTo("sendfile 1");
        assertThat(cacheStatus(hit)).isEqualTo("HIT");
        assertThat(hit.headers().firstValue("X-Sendfile")).contains("/srv/files/report.pdf");
        assertThat(hits("/api/sendfile")).isEqualTo(1);
    }

    @Test
    void aStaleEntryIsAskedAgainWithItsValidatorsAndTheBackends304RefreshesIt() throws Exception {
        assertThat(get("/api/etag").body()).isEqualTo("etag 1");
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        HttpResponse<String> revalidated = get("/api/etag");
        assertThat(revalidated.statusCode()).isEqualTo(200);
        assertThat(revalidated.body()).isEqualTo("etag 1");
        assertThat(cacheStatus(revalidated)).isEqualTo("REVALIDATED");
        // nginx's proxy_cache_revalidate: a conditional GET with the stored ETag
        assertThat(asked.get("/api/etag")).containsExactly("GET null", "GET \"v1\"");
        HttpResponse<String> refreshed = get("/api/etag");
        assertThat(refreshed.body()).isEqualTo("etag 1");
        assertThat(cacheStatus(refreshed)).isEqualTo("HIT");
        assertThat(hits("/api/etag")).isEqualTo(2);
    }

    @Test
    void theStaleCopyAnswersWhileTheBackendIsDownWhereStaleIfErrorAllows() throws Exception {
        assertThat(get("/api/stale").body()).isEqualTo("stale 1");
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        backend.close(); // its port refuses connections now
        backend = null;
        HttpResponse<String> stale = get("/api/stale");
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo("stale 1");
        assertThat(cacheStatus(stale)).isEqualTo("STALE");
    }

    @Test
    void aPostInvalidatesAndPurgeRemovesTheEntry() throws Exception {
        assertThat(get("/api/page").body()).isEqualTo("page 1");
        assertThat(cacheStatus(get("/api/page"))).isEqualTo("HIT");
        assertThat(send("POST", "/api/page").statusCode()).isEqualTo(200);
        HttpResponse<String> afterPost = get("/api/page");
        assertThat(afterPost.body()).isEqualTo("page 3");
        assertThat(cacheStatus(afterPost)).isEqualTo("MISS");
        assertThat(cacheStatus(get("/api/page"))).isEqualTo("HIT");
        HttpResponse<String> purged = send("PURGE", "/api/page");
        assertThat(purged.statusCode()).isEqualTo(200);
        assertThat(purged.body()).isEqualTo("purged 1\n");
        HttpResponse<String> afterPurge = get("/api/page");
        assertThat(afterPurge.body()).isEqualTo("page 4");
        assertThat(cacheStatus(afterPurge)).isEqualTo("MISS");
        assertThat(asked.get("/api/page")).containsExactly("GET null", "POST null", "GET null", "GET null");
    }

    @Test
    void aCachedRedirectCarriesTheLocationProxyRedirectRewrote() throws Exception {
        for (String status : List.of("MISS", "HIT")) {
            HttpResponse<String> moved = get("/api/old");
            assertThat(moved.statusCode()).isEqualTo(301);
            assertThat(moved.headers().firstValue("Location")).contains("/api/new");
            assertThat(cacheStatus(moved)).isEqualTo(status);
        }
        assertThat(hits("/api/old")).isEqualTo(1);
    }

    @Test
    void concurrentMissesCoalesceIntoOneBackendRequest() throws Exception {
        long coalesced = metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            answers.add(CLIENT.sendAsync(request("GET", "/api/slow"), HttpResponse.BodyHandlers.ofString()));
        }
        // the backend holds the first until the other four wait for it
        Awaits.until(() -> hits("/api/slow"), n -> n == 1, "the first request at the backend");
        Awaits.until(() -> metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 4,
                "four requests waiting for it");
        slowGate.countDown();
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
            assertThat(answer.get(60, TimeUnit.SECONDS).body()).isEqualTo("slow 1");
        }
        assertThat(hits("/api/slow")).isEqualTo(1);
    }

    /**
     * A leader whose client leaves while others wait for its answer goes on for them: the backend's answer is read to
     * its end and stored, and the backend is asked once.
     */
    @Test
    void aLeaderWhoseClientLeftGoesOnForTheRequestsWaitingForIt() throws Exception {
        long coalesced = metric("edge_response_cache_coalesced_total");
        List<CompletableFuture<HttpResponse<String>>> followers = new ArrayList<>();
        try (CapturedLog access = CapturedLog.of("edge.access")) {
            try (Socket leader = new Socket(edge.address().getAddress(), edge.address().getPort())) {
                // the Host the followers' client sends: the same key
                leader.getOutputStream().write(("GET /api/slow HTTP/1.1\r\nHost: " + edge.uri("/").getAuthority()
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                leader.getOutputStream().flush();
                Awaits.until(() -> hits("/api/slow"), n -> n == 1, "the leader at the backend");
                for (int i = 0; i < 2; i++) {
                    followers.add(CLIENT.sendAsync(request("GET", "/api/slow"), HttpResponse.BodyHandlers.ofString()));
                }
                Awaits.until(() -> metric("edge_response_cache_coalesced_total") - coalesced, n -> n == 2,
                        "two requests waiting for the leader");
            }
            Awaits.await(() -> access.lines().stream().anyMatch(l -> l.equals("/api/slow|499|MISS")),
                    "the leader's client gone: its 499");
        }
        slowGate.countDown();
        for (CompletableFuture<HttpResponse<String>> follower : followers) {
            HttpResponse<String> answer = follower.get(60, TimeUnit.SECONDS);
            assertThat(answer.body()).isEqualTo("slow 1");
            assertThat(cacheStatus(answer)).isEqualTo("HIT");
        }
        assertThat(cacheStatus(get("/api/slow"))).isEqualTo("HIT");
        assertThat(hits("/api/slow")).isEqualTo(1);
    }
}
