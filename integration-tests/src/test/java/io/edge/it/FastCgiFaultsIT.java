package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Backend faults end to end: each gets its status, and the faulty connection is never used again. */
class FastCgiFaultsIT {

    @TempDir
    static Path dir;

    static FakeFcgiServer fake;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        for (String script : new String[] {"ok", "garbage", "cut", "stall", "overloaded", "bighead", "short", "long"}) {
            Files.writeString(www.resolve(script + ".php"), "<?php // answered by the fake peer");
        }
        Path busy = Files.createDirectories(www.resolve("busy"));
        for (String script : new String[] {"overloaded", "overloaded-once"}) {
            Files.writeString(busy.resolve(script + ".php"), "<?php // answered by the fake peer");
        }
        Path cached = Files.createDirectories(www.resolve("cached"));
        for (String script : new String[] {"sendfile-stall", "head-then-cut"}) {
            Files.writeString(cached.resolve(script + ".php"), "<?php // answered by the fake peer");
        }
        Path locked = Files.createDirectories(www.resolve("locked"));
        Files.writeString(locked.resolve("stall-once-till-closed.php"), "<?php // answered by the fake peer");
        Files.writeString(www.resolve("file.txt"), "the file's bytes");
        Path socket = dir.resolve("fake.sock");
        fake = new FakeFcgiServer(socket);
        edge = EdgeHarness.start(dir, """
                server.timeouts.body = 1 s
                cache.responses.coalesce-timeout = 1 h
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/cached/", fastcgi = fake, cache = true, x-sendfile = ["www"] }
                  { match = "/busy/", fastcgi = busy }
                  { match = "/locked/", fastcgi = wide, cache = true, headers { X-Cache = "$upstream_cache_status" } }
                  { match = "/", fastcgi = fake }
                ] }]
                fastcgi.backends.busy {
                  addresses = ["unix:%1$s"]
                  queue.timeout = 1 s
                }
                fastcgi.backends.wide {
                  addresses = ["unix:%1$s"]
                  max-connections = 8
                  timeouts.read = 1 s
                  health.max-fails = 1000
                }
                fastcgi.backends.fake {
                  addresses = ["unix:%1$s"]
                  max-connections = 1
                  timeouts.read = 1 s
                  health.max-fails = 1000
                  keep-alive.enabled = true # what is never reused after a fault
                }
                """.formatted(socket));
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) {
            edge.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    /**
     * With its limit, and the request's id first, as the FastCGI path's own lines about it have it (the php-fpm
     * lifecycle audit: a failed replay could not be told among others but by its time).
     */
    @Test
    void oversizedResponseHeadIsLoggedWithItsLimit() throws Exception {
        java.util.List<ch.qos.logback.classic.spi.ILoggingEvent> events;
        try (CapturedLog log = CapturedLog.of("io.edge.core.http.ServerExchange")) {
            assertThat(get("/bighead.php").statusCode()).isEqualTo(502);
            events = log.events();
        }
        assertThat(events).anySatisfy(event -> {
            assertThat(event.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
            assertThat(event.getFormattedMessage()).contains("/bighead.php", "502", "expected")
                    .matches("(?s)\\[[0-9a-z]+\\] GET /bighead\\.php -> 502: .*");
        });
    }

    @Test
    void aBackendFailingAfterXSendfileLetsTheRequestsCoalescedBehindItGoOn() throws Exception {
        // Two GETs of one cacheable URL at once: one leads, the other waits for its answer (coalesce-timeout
        // 1 h here). The leader's backend stalls after its X-Sendfile head and fails at the 1 s read timeout;
        // the follower must go on then, not an hour later.
        var first = HTTP.sendAsync(request("/cached/sendfile-stall.php"), HttpResponse.BodyHandlers.ofString());
        var second = HTTP.sendAsync(request("/cached/sendfile-stall.php"), HttpResponse.BodyHandlers.ofString());
        for (var answer : java.util.List.of(first, second)) {
            HttpResponse<String> response = answer.get(30, java.util.concurrent.TimeUnit.SECONDS); // a guard only
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("the file's bytes");
        }
    }

    /**
     * Concurrent misses of a cacheable URL whose backend times out: the one sent fails at its read timeout (504), and
     * its waiters take the backend in turn, as nginx's fastcgi_cache_lock waiters take the lock again whatever became
     * of its holder: the next one sent is answered and stored, and that answers the last (a HIT; X-Cache is not added
     * to the 504, as nginx's add_header without always). Had the waiters gone all at once, the backend would have seen
     * all three. The backend's pool has room for all of them, so only the cache keeps them apart. What is counted is
     * what arrived in all, not what was there at once: no count depends on when the fake peer notices a connection
     * edge closed.
     */
    @Test
    void theWaitersOfAFillThatTimedOutTakeTheBackendInTurn() throws Exception {
        var answers = new ArrayList<java.util.concurrent.CompletableFuture<HttpResponse<String>>>();
        for (int i = 0; i < 3; i++) {
            answers.add(HTTP.sendAsync(request("/locked/stall-once-till-closed.php"),
                    HttpResponse.BodyHandlers.ofString()));
        }
        List<String> outcomes = new ArrayList<>();
        for (var answer : answers) {
            HttpResponse<String> response = answer.get(60, java.util.concurrent.TimeUnit.SECONDS); // a guard only
            outcomes.add(response.statusCode() + " " + response.headers().firstValue("X-Cache").orElse("-"));
        }
        assertThat(fake.stalledOnceSeen.get()).as("one after the other, the second's answer stored").isEqualTo(2);
        assertThat(outcomes).containsExactlyInAnyOrder("504 -", "200 MISS", "200 HIT");
    }

    /**
     * A HEAD's answer is whole with its head, also where the response cache reads the body on for itself (a GET to the
     * backend): the backend failing after that head is the cache's loss alone. It closed the client's connection, and
     * the request pipelined behind the HEAD was never answered; nginx keeps the connection.
     */
    @Test
    void aCachedHeadWhoseBackendFailsAfterTheHeadKeepsItsConnection() throws Exception {
        // its read timeout keeps a hang from hanging the build; nothing is measured
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("HEAD /cached/head-then-cut.php HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /ok.php HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response head = client.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("connection")).isNotEqualToIgnoringCase("close");
            fake.cutAfterHead(); // the backend fails mid-body, the head out; ok.php waits for its one connection
            // framed by Content-Length or chunked, as its STDOUT and end came to edge together or apart
            RawHttpClient.Response ok = client.read();
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.text()).isEqualTo("ok from fake");
        }
    }

    @ParameterizedTest
    @CsvSource({"garbage, 502", "cut, 502", "stall, 504", "bighead, 502"})
    void faultGetsItsStatusAndItsConnectionIsNotReused(String script, int status) throws Exception {
        assertThat(get("/ok.php").statusCode()).isEqualTo(200);
        AtomicInteger okConnection = fake.requestsPerConnection.get(fake.requestsPerConnection.size() - 1);
        int beforeFault = okConnection.get();
        HttpResponse<String> faulty = get("/" + script + ".php");
        assertThat(faulty.statusCode()).isEqualTo(status);
        if (status == 503) {
            assertThat(faulty.headers().firstValue("retry-after")).isPresent();
        }
        assertThat(faulty.body()).doesNotContain("Exception").doesNotContain(dir.toString());
        int connectionsBefore = fake.requestsPerConnection.size();
        HttpResponse<String> after = get("/ok.php");
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(after.body()).isEqualTo("ok from fake");
        // the fault's connection (the kept-alive ok one) carried its last request; the next came on a new one
        assertThat(fake.requestsPerConnection.size()).isEqualTo(connectionsBefore + 1);
        assertThat(fake.requestsPerConnection.get(fake.requestsPerConnection.size() - 1).get()).isEqualTo(1);
        assertThat(okConnection.get()).as("the fault went on the kept-alive connection, and nothing after it")
                .isEqualTo(beforeFault + 1);
    }

    /**
     * FCGI_OVERLOADED is the backend refusing the request unread, busy: the request waits in the queue again, as for a
     * worker, and is sent again once the backend's backoff passed; a backend that keeps refusing gets 503 +
     * Retry-After at the queue timeout, as any wait (it was 503 at once).
     */
    @Test
    void anOverloadedBackendIsWaitedForAsABusyOne() throws Exception {
        int before = fake.overloadedAnswers.get();
        HttpResponse<String> once = HTTP.send(request("/busy/overloaded-once.php?k=get"), HttpResponse.BodyHandlers.ofString());
        assertThat(once.statusCode()).isEqualTo(200);
        assertThat(once.body()).isEqualTo("ok after an overload");
        assertThat(fake.overloadedAnswers.get() - before).isEqualTo(1);

        HttpResponse<String> always = HTTP.send(request("/busy/overloaded.php"), HttpResponse.BodyHandlers.ofString());
        assertThat(always.statusCode()).isEqualTo(503);
        assertThat(always.headers().firstValue("retry-after")).isPresent();
        assertThat(fake.overloadedAnswers.get() - before).as("asked again while the queue timeout lasted")
                .isGreaterThan(2);
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(edge.uri("/busy/overloaded.php"))
                .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).as("a POST too: refused unread, it never ran").isEqualTo(503);
    }

    /**
     * A POST whose client hung up as soon as it sent it still reaches the script when the backend refused it once,
     * overloaded: it is sent again as for a client still there (it was lost, the stress audit found, when the call
     * ended as the request went out).
     */
    @Test
    void aPostWhoseClientLeftIsSentAgainAfterAnOverload() throws Exception {
        int answered = fake.answeredAfterOverload.get();
        try (Socket client = new Socket()) {
            client.connect(edge.address());
            client.getOutputStream().write(("POST /busy/overloaded-once.php?k=gone HTTP/1.1\r\nHost: a\r\n"
                    + "Content-Length: 9\r\n\r\npayload=1").getBytes(StandardCharsets.US_ASCII));
        }
        Awaits.await(() -> fake.answeredAfterOverload.get() > answered, "the POST sent again and run");
    }

    /**
     * A POST whose client left, waiting in the queue (its backend's socket not there: taken for a php-fpm restarting)
     * when edge stops: failed while its event loop still runs, so its body is let go. The pools were closed after the
     * loops had stopped: the failure never reached the request (Netty: "Failed to submit a listener notification
     * task"), and its body stayed held (a paranoid leak report in CI, of such a POST waiting to be sent again after an
     * FCGI_OVERLOADED). A backend that never answers keeps the request from being at the backend as the loops stop.
     */
    @Test
    void aPostWaitingInTheQueueWhenEdgeStopsIsFailedOnItsLoop() throws Exception {
        Path own = Files.createDirectories(dir.resolve("stopping"));
        Path nobody = dir.resolve("nobody-listens.sock");
        CapturedLog notifications = CapturedLog.of("io.netty.util.concurrent.DefaultPromise");
        CapturedLog pool = CapturedLog.of("io.edge.fastcgi.pool.BackendPool");
        EdgeHarness stopping = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "%s", locations = [{ match = "/", fastcgi = gone }] }]
                fastcgi.backends.gone { addresses = ["unix:%s"], queue.timeout = 60 s }
                """.formatted(dir.resolve("www"), nobody));
        try {
            try (Socket client = new Socket()) {
                client.connect(stopping.address());
                client.getOutputStream().write(("POST /ok.php HTTP/1.1\r\nHost: a\r\n"
                        + "Content-Length: 9\r\n\r\npayload=1").getBytes(StandardCharsets.US_ASCII));
            }
            Awaits.await(() -> pool.warnings().stream().anyMatch(line -> line.contains(nobody.toString())),
                    "the POST queued, its backend's connects refused");
        } finally {
            stopping.close();
            notifications.close();
            pool.close();
        }
        assertThat(notifications.lines()).as("failures that could not reach their request").isEmpty();
    }

    @Test
    void aClientThatStopsSendingItsBodyGets408AndTheBackendNeverSeesTheRequest() throws Exception {
        assertThat(get("/ok.php").statusCode()).isEqualTo(200);
        int connectionsBefore = fake.requestsPerConnection.size();
        AtomicInteger kept = fake.requestsPerConnection.get(connectionsBefore - 1);
        int requestsBefore = kept.get();
        try (Socket client = new Socket()) {
            client.connect(edge.address());
            client.setSoTimeout(30_000); // keeps a missing timeout from hanging the build; nothing is measured
            client.getOutputStream().write(("POST /ok.php HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n"
                    + "0123456789").getBytes(StandardCharsets.US_ASCII));
            String response = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 408 ");
        }
        // A body is read whole before the request goes to a backend, so this one never went: the next request
        // (max-connections = 1) goes out on the same kept-alive connection as the first.
        HttpResponse<String> after = get("/ok.php");
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(fake.requestsPerConnection.size()).isEqualTo(connectionsBefore);
        assertThat(kept.get()).isEqualTo(requestsBefore + 1);
    }

    /**
     * A backend that never answers a connect is 504 once the group's connect timeout is over, as nginx's "upstream
     * timed out while connecting" (not 502: nothing refused or broke). The backend is a TCP listener whose accept
     * queue is full, whose SYNs Linux drops: filled until a connect to it times out, which shows it is.
     */
    @Test
    void aConnectThatTimesOutIs504() throws Exception {
        List<Socket> queued = new ArrayList<>();
        try (ServerSocket unaccepting = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            boolean full = false;
            for (int i = 0; i < 64 && !full; i++) {
                Socket s = new Socket();
                queued.add(s);
                try {
                    s.connect(unaccepting.getLocalSocketAddress(), 500);
                } catch (SocketTimeoutException e) {
                    full = true;
                }
            }
            assertThat(full).as("the listener's accept queue filled").isTrue();
            Path own = Files.createDirectories(dir.resolve("connect-timeout"));
            Files.writeString(Files.createDirectories(own.resolve("www")).resolve("index.php"), "<?php // never run");
            try (EdgeHarness timingOut = EdgeHarness.start(own, """
                    sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                      { match = "/", fastcgi = silent }
                    ] }]
                    fastcgi.backends.silent { addresses = ["127.0.0.1:%d"], timeouts.connect = 1 s }
                    """.formatted(unaccepting.getLocalPort()))) {
                HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(timingOut.uri("/index.php")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(504);
            }
        } finally {
            for (Socket s : queued) {
                s.close();
            }
        }
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(request(path), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest request(String path) {
        return HttpRequest.newBuilder(edge.uri(path)).build();
    }
}
