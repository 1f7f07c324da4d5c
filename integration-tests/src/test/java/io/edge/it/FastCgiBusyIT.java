package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.fastcgi.FastCgiResponder;
import io.edge.core.fastcgi.SpoolFiles;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Busy and restarting backends: 503 + Retry-After at the queue deadline, and nothing fails across restarts. */
class FastCgiBusyIT {

    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private EdgeHarness edgeFor(PhpFpm fpm, String queueTimeout) throws Exception {
        return phpEdge(fpm, "queue { max-waiters = 1000, timeout = " + queueTimeout + " }");
    }

    /** edge whose every path goes to {@code fpm} over 4 connections, with {@code backend}'s settings for the group. */
    private EdgeHarness phpEdge(PhpFpm fpm, String backend) throws Exception {
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www",
                           locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 4
                  %s
                }
                """.formatted(fpm.address(), backend));
    }

    private PhpFpm saturationPool(String name) throws Exception {
        return PhpFpm.unix(Files.createDirectories(dir.resolve(name)), """
                pm = static
                pm.max_children = 4
                listen.backlog = 8
                """);
    }

    /**
     * Runs {@code clients} loops of GETs until {@code keepGoing} is false or {@code perClient} each, counting each
     * answer's status in {@code statuses} as it comes; returns it.
     */
    private static Map<Integer, Integer> load(EdgeHarness edge, int clients, int perClient, AtomicBoolean keepGoing,
                                              Map<Integer, Integer> retryAfterMissing, Map<Integer, Integer> statuses)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> done = new ArrayList<>();
        AtomicInteger ids = new AtomicInteger();
        for (int c = 0; c < clients; c++) {
            done.add(pool.submit(() -> {
                for (int i = 0; i < perClient && keepGoing.get(); i++) {
                    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                            edge.uri("/count.php?sleep=100&id=" + ids.incrementAndGet())).build(), HttpResponse.BodyHandlers.ofString());
                    statuses.merge(response.statusCode(), 1, Integer::sum);
                    if (response.statusCode() == 503 && response.headers().firstValue("retry-after").isEmpty()) {
                        retryAfterMissing.merge(503, 1, Integer::sum);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        return statuses;
    }

    /**
     * A script that answers with fastcgi_finish_request() and runs on (Symfony's and Laravel's terminate work, on every
     * response) holds its worker, not the requests after it: edge does not keep the connection by default, so they go
     * to an idle worker. Over a kept connection the next request sent on it waited for the script to end (seconds, and
     * a 504 behind one running past the read timeout) while the other worker sat idle.
     */
    @Test
    void aScriptRunningOnAfterFinishRequestHoldsNoOtherRequest() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path release = dir.resolve("release");
        Path ended = dir.resolve("ended");
        writeFinishScript(www, release, "file_put_contents('" + ended + "', 'ended');");
        Files.writeString(www.resolve("quick.php"), "<?php echo 'quick';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = phpEdge(fpm, "")) {
            assertThat(send(edge, "/finish.php").body()).isEqualTo("answered");
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> quick = send(edge, "/quick.php?i=" + i);
                assertThat(quick.statusCode()).isEqualTo(200);
                assertThat(quick.body()).isEqualTo("quick");
            }
            assertThat(ended).as("the first script still runs").doesNotExist();
            Files.writeString(release, "");
            await(() -> Files.exists(ended), "the first script to end");
        }
    }

    /**
     * A slot whose answer went out while its script runs on (fastcgi_finish_request) is shown as answered on the status
     * page and to Prometheus: its worker is still busy, and one more request may wait for it.
     */
    @Test
    void aSlotWhoseScriptRunsOnAfterItsAnswerIsShownAnswered() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path release = dir.resolve("release");
        writeFinishScript(www, release, "");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = oneSlotEdge(fpm, "", "10 s", "")) {
            assertThat(send(edge, "/finish.php").body()).isEqualTo("answered");
            assertThat(edge.status()).contains(" open=1 idle=0 lingering=0 answered=1 waiters=0 ");
            assertThat(send(edge, "/edge-status?format=prometheus").body())
                    .contains("edge_fastcgi_connections_answered{group=\"php\"} 1");
            Files.writeString(release, "");
            await(() -> edge.status().contains(" answered=0 "), "the worker free again");
        } finally {
            Files.writeString(release, "");
        }
    }

    /**
     * {@code www/finish.php}: answers "answered" with fastcgi_finish_request() and runs on until the test creates
     * {@code release} (for at most 120 s, so that a failed run leaves no worker behind), then runs {@code then}.
     */
    private static void writeFinishScript(Path www, Path release, String then) throws IOException {
        Files.writeString(www.resolve("finish.php"), """
                <?php
                echo 'answered';
                fastcgi_finish_request();
                for ($i = 0; $i < 6000 && !file_exists('%s'); $i++) { clearstatcache(); usleep(20000); }
                %s
                """.formatted(release, then));
    }

    /** A GET of {@code target}, given up on after 60 s (a request held behind a running script would wait for it). */
    private static HttpResponse<String> send(EdgeHarness edge, String target) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(target)).timeout(java.time.Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void queueTimeoutGives503WithRetryAfterAndNever50xForBusyness() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        try (PhpFpm fpm = saturationPool("fpm"); EdgeHarness edge = edgeFor(fpm, "300 ms")) {
            Map<Integer, Integer> missing = new ConcurrentHashMap<>();
            Map<Integer, Integer> statuses = load(edge, 64, 5, new AtomicBoolean(true), missing,
                    new ConcurrentHashMap<>());
            assertThat(statuses.keySet()).containsExactlyInAnyOrder(200, 503);
            assertThat(missing).isEmpty();
        }
    }

    /**
     * 16 clients asking all along while php-fpm reloads, then stops and starts again: every request is answered 200.
     * Each step waits for what shows it took effect, not for a time: 16 more answers after the reload and after the
     * start, and edge's first refused connect (its log line) after the stop. php-fpm starts as soon as edge has seen it
     * down: the restart edge waits for (5 s of refused connects) is then only php-fpm's own start, however slowly the
     * machine runs the test.
     */
    @Test
    void reloadAndRestartOfPhpFpmFailNoRequest() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Path fpmDir = Files.createDirectories(dir.resolve("fpm"));
        PhpFpm fpm = PhpFpm.unix(fpmDir, "pm = static\npm.max_children = 4\nlisten.backlog = 8\n");
        try (CapturedLog pool = CapturedLog.of("io.edge.fastcgi.pool.BackendPool");
             EdgeHarness edge = edgeFor(fpm, "5 s")) {
            AtomicBoolean keepGoing = new AtomicBoolean(true);
            Map<Integer, Integer> missing = new ConcurrentHashMap<>();
            Map<Integer, Integer> answered = new ConcurrentHashMap<>();
            ExecutorService loader = Executors.newSingleThreadExecutor();
            Future<Map<Integer, Integer>> result = loader.submit(() -> load(edge, 16, 1_000_000, keepGoing, missing,
                    answered));
            awaitMoreAnswers(answered, 16, "answers before the reload");
            fpm.reload();
            awaitMoreAnswers(answered, 16, "answers after the reload");
            long refusalsSeen = restartsTaken(pool);
            fpm.stopGracefully();
            await(() -> restartsTaken(pool) > refusalsSeen, "edge's connects refused by the stopped php-fpm");
            fpm.start();
            awaitMoreAnswers(answered, 16, "answers after the start");
            keepGoing.set(false);
            Map<Integer, Integer> statuses = result.get(2, TimeUnit.MINUTES);
            loader.shutdown();
            assertThat(statuses).containsOnlyKeys(200);
            assertThat(statuses.get(200)).isGreaterThan(3 * 16);
        } finally {
            fpm.close();
        }
    }

    /** Waits until {@code more} answers (of any status) were counted in {@code statuses} after this call. */
    private static void awaitMoreAnswers(Map<Integer, Integer> statuses, int more, String what) throws Exception {
        int before = answers(statuses);
        await(() -> answers(statuses) >= before + more, what);
    }

    private static int answers(Map<Integer, Integer> statuses) {
        return statuses.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** The pool's warnings that its connects were refused and taken for a restart of the backend. */
    private static long restartsTaken(CapturedLog pool) {
        return pool.warnings().stream().filter(line -> line.contains("taken for a restart of the backend")).count();
    }
    /**
     * A client gives up on a script that writes nothing while it works (php-fpm does not notice the close, so the
     * worker runs on): edge keeps the backend exchange, and its slot, until the script ends. php-fpm has 2 workers
     * for edge's 1 connection, so a slot freed at the client's close would let the next request run on the other
     * worker while the first still runs (the pool's 1 broken: with as many workers as connections, it would sit
     * in php-fpm's listen backlog, unseen, past the queue timeout). Instead it waits in edge's queue and gets its
     * 503 + Retry-After; once the script ends the slot serves again.
     */
    @Test
    void aClientThatGivesUpLeavesTheSlotTakenUntilTheScriptEndsSoTheNextRequestWaitsInTheQueue() throws Exception {
        Path counter = installHoldScript();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = oneSlotEdge(fpm, "", "100 ms", "")) {
            try (RawHttpClient gone = new RawHttpClient(edge.address())) {
                gone.send("GET /hold.php HTTP/1.1\r\nHost: a\r\n\r\n");
                awaitLines(counter, List.of("start"));
                assertThat(edge.status()).contains("connections: open=2 ");
            }
            // edge saw the client go: only the status request's own connection is left
            await(() -> edge.status().contains("connections: open=1 "), "the client's close seen by edge");

            HttpResponse<String> next = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=next")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(next.statusCode()).as("waited in edge's queue, not on another worker").isEqualTo(503);
            assertThat(next.headers().firstValue("retry-after")).isPresent();
            assertThat(edge.status()).contains(" open=1 idle=0 lingering=0 ", " timed-out=1 ");
            assertThat(Files.readAllLines(counter)).containsExactly("start");

            Files.writeString(dir.resolve("release"), "");
            awaitLines(counter, List.of("start", "end"));
            // END_REQUEST came: the exchange ended cleanly, its connection closed (no keep-alive) and its slot is free
            await(() -> edge.status().contains(" open=0 idle=0 "), "the slot back in the pool");
            HttpResponse<String> after = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=after")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(Files.readAllLines(counter)).containsExactly("start", "end", "after");
        } finally {
            Files.writeString(dir.resolve("release"), "");
        }
    }

    /**
     * An upload announced with {@code Expect: 100-continue} while every place in the queue is taken is refused before
     * its body comes: 503 and Retry-After instead of 100 Continue, the connection closed. It was asked for its body and
     * sent all of it for the same 503 (nginx asks for the body first too, and 502s or 503s after it).
     */
    @Test
    void anUploadAskingToContinueWhileTheQueueIsFullIsRefusedBeforeItsBody() throws Exception {
        Path counter = installHoldScript();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" , fastcgi = php }
                       { match = "= /edge-status", status = true }
                     ] }]
                     fastcgi.backends.php {
                       addresses = ["%s"]
                       max-connections = 1
                       queue { max-waiters = 1, timeout = 60 s, retry-after = 7 s }
                       timeouts.read = 120 s
                     }
                     """.formatted(fpm.address()));
             RawHttpClient holder = new RawHttpClient(edge.address());
             RawHttpClient queued = new RawHttpClient(edge.address());
             RawHttpClient uploader = new RawHttpClient(edge.address())) {
            holder.send("GET /hold.php HTTP/1.1\r\nHost: a\r\n\r\n");
            awaitLines(counter, List.of("start"));
            queued.send("GET /count.php?id=queued HTTP/1.1\r\nHost: a\r\n\r\n");
            await(() -> edge.status().contains(" waiters=1 "), "a request queued");

            uploader.send("POST /hash.php HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n");
            RawHttpClient.Response refused = uploader.read();
            assertThat(refused.status()).as("no 100 Continue first").isEqualTo(503);
            assertThat(refused.header("retry-after")).isEqualTo("7");
            assertThat(refused.header("connection")).isEqualTo("close");
            assertThat(edge.status()).contains(" waiters=1 rejected-full=1 ");

            Files.writeString(dir.resolve("release"), "");
            assertThat(holder.read().status()).isEqualTo(200);
            assertThat(queued.read().status()).isEqualTo(200);
            assertThat(Files.readAllLines(counter)).containsExactly("start", "end", "queued");
        } finally {
            Files.writeString(dir.resolve("release"), "");
        }
    }

    /**
     * Under {@code cache = true}, a request waiting in the queue whose client leaves, with no other request waiting
     * for its answer, gives its place up as it does without the cache (nginx drops a cacheable request whose client
     * closed before it had an upstream connection). It stayed queued for nobody until its queue timeout and then ran
     * its script: clients that send requests and reset filled the queue, and a real client behind them got 503
     * (found soaking: 60 clients reset 1 s after their GETs, waiters stayed at 56 for the whole 10 s timeout).
     */
    @Test
    void aCachedLocationsRequestWhoseClientLeftTheQueueGivesItsPlaceUpAndNeverRuns() throws Exception {
        Path counter = installHoldScript();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = oneSlotEdge(fpm, ", cache = true", "120 s", "")) {
            HttpRequest holdRequest = HttpRequest.newBuilder(edge.uri("/hold.php")).build();
            CompletableFuture<HttpResponse<String>> held =
                    HTTP.sendAsync(holdRequest, HttpResponse.BodyHandlers.ofString());
            awaitLines(counter, List.of("start"));
            try (RawHttpClient gone = new RawHttpClient(edge.address())) {
                gone.send("GET /count.php?id=gone HTTP/1.1\r\nHost: a\r\n\r\n");
                await(() -> edge.status().contains(" waiters=1 "), "the request queued");
            }
            await(() -> edge.status().contains(" waiters=0 "), "the queue place given up");

            Files.writeString(dir.resolve("release"), "");
            assertThat(held.get(30, TimeUnit.SECONDS).body()).isEqualTo("held");
            HttpResponse<String> after = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=after")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(Files.readAllLines(counter)).as("the request whose client left never ran")
                    .containsExactly("start", "end", "after");
        } finally {
            Files.writeString(dir.resolve("release"), "");
        }
    }

    /**
     * Under {@code cache = true}, a queued request whose client left while another waited for its answer stays queued
     * for that one; once that one leaves too, nobody waits for it, and it gives its place up as a queued request whose
     * client left alone does. It stayed queued until its queue timeout and then ran its script for nobody.
     */
    @Test
    void aCachedLocationsQueuedRequestGivesItsPlaceUpOnceItsClientAndThoseWaitingForItAllLeft() throws Exception {
        Path counter = installHoldScript();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = oneSlotEdge(fpm, ", cache = true", "120 s",
                     "cache.responses.coalesce-timeout = 120 s # the follower waits for the leader throughout")) {
            CompletableFuture<HttpResponse<String>> held =
                    HTTP.sendAsync(HttpRequest.newBuilder(edge.uri("/hold.php")).build(), HttpResponse.BodyHandlers.ofString());
            awaitLines(counter, List.of("start"));
            String request = "GET /count.php?id=gone HTTP/1.1\r\nHost: a\r\n\r\n";
            try (RawHttpClient follower = new RawHttpClient(edge.address())) {
                try (RawHttpClient leader = new RawHttpClient(edge.address())) {
                    leader.send(request);
                    await(() -> edge.status().contains(" waiters=1 "), "the leader queued");
                    follower.send(request);
                    await(() -> edge.status().contains(" coalesced=1 "), "the follower waiting for the leader's answer");
                }
                // the hold request's connection, the follower's and the status request's own
                await(() -> edge.status().contains("connections: open=3 "), "the leader's close seen by edge");
                assertThat(edge.status()).as("kept queued for the follower").contains(" waiters=1 ");
            }
            await(() -> edge.status().contains(" waiters=0 "), "the queue place given up once nobody waits for it");

            Files.writeString(dir.resolve("release"), "");
            assertThat(held.get(30, TimeUnit.SECONDS).body()).isEqualTo("held");
            HttpResponse<String> after = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=after")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(Files.readAllLines(counter)).as("the request nobody waited for never ran")
                    .containsExactly("start", "end", "after");
        } finally {
            Files.writeString(dir.resolve("release"), "");
        }
    }

    /**
     * A script that keeps writing (a stream, a long poll) whose client leaves is stopped by the close of its
     * connection, as PHP stops a script whose client is gone at its next write: the slot is free at once, and the one
     * worker serves the next request. Kept until the script's end instead, the slot would be taken for 120 s and the
     * next request answered 503 when its 10 s in the queue ran out.
     */
    @Test
    void aWritingScriptWhoseClientLeftIsStoppedAndItsSlotFreed() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Files.writeString(dir.resolve("www/stream.php"), """
                <?php
                $log = __DIR__ . '/../count.txt';
                file_put_contents($log, "start\n", FILE_APPEND | LOCK_EX);
                for ($i = 0; $i < 12000; $i++) { echo "tick\n"; flush(); usleep(10000); }
                file_put_contents($log, "end\n", FILE_APPEND | LOCK_EX);
                """);
        Path counter = dir.resolve("count.txt");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www",
                                locations = [{ match = "/", fastcgi = php }] }]
                     fastcgi.backends.php {
                       addresses = ["%s"]
                       max-connections = 1
                       queue { max-waiters = 10, timeout = 10 s }
                       timeouts.read = 120 s
                     }
                     """.formatted(fpm.address()))) {
            try (Socket gone = new Socket(edge.address().getAddress(), edge.address().getPort())) {
                gone.getOutputStream().write("GET /stream.php HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] some = new byte[64];
                assertThat(gone.getInputStream().read(some)).as("the stream began").isPositive();
            }
            HttpResponse<String> next = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=next")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(next.statusCode()).as("served by the one worker, which the close freed").isEqualTo(200);
            assertThat(Files.readAllLines(counter)).containsExactly("start", "next");
        }
    }

    /**
     * A conditional GET on a cache location, for a page the cache may not keep (private) whose validators match the
     * client's: edge answers 304 at the answer's head, as on a hit, and nobody wants the rest of it, so the backend
     * request is let go as a gone client's is: a script that keeps writing is stopped and its worker freed. It ran on
     * to its end before, writing for nobody: the one worker stayed taken, and the next request got 503 when its 10 s
     * in the queue ran out.
     */
    @Test
    void aPrivatePageAnsweredNotModifiedAtItsHeadLetsItsScriptGo() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Files.writeString(dir.resolve("www/stream.php"), """
                <?php
                file_put_contents(__DIR__ . '/../count.txt', "start\n", FILE_APPEND | LOCK_EX);
                header('Cache-Control: private');
                header('ETag: "s1"');
                for ($i = 0; $i < 12000; $i++) { echo "tick\n"; flush(); usleep(10000); }
                file_put_contents(__DIR__ . '/../count.txt', "end\n", FILE_APPEND | LOCK_EX);
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www",
                                locations = [{ match = "/", fastcgi = php, cache = true }] }]
                     fastcgi.backends.php {
                       addresses = ["%s"]
                       max-connections = 1
                       queue { max-waiters = 10, timeout = 10 s }
                       timeouts.read = 120 s
                     }
                     """.formatted(fpm.address()));
             RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response notModified =
                    client.send("GET /stream.php HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"s1\"\r\n\r\n").read();
            assertThat(notModified.status()).isEqualTo(304);
            assertThat(notModified.header("etag")).isEqualTo("\"s1\"");
            HttpResponse<String> next = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=next")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(next.statusCode()).as("served by the one worker, which the script gave back").isEqualTo(200);
            assertThat(Files.readAllLines(dir.resolve("count.txt"))).containsExactly("start", "next");
        }
    }

    /**
     * A script that logs a line and then dies with its worker (SIGKILL, as the OOM killer or a segfault would): a
     * STDERR record came before the connection closed, so the script ran, and it is not run again: one run, then 502
     * (before, a GET ran three times and killed three workers). One that dies before it writes anything cannot be
     * told from a connection reset in a stopping php-fpm's backlog, and is replayed once (FcgiExchange.mayReplay):
     * {@link #aGetWhoseWorkerDiedSilentlyRunsTwiceThen502}.
     */
    @Test
    void aGetWhoseWorkerDiedAfterItLoggedIsNotReplayed() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Files.writeString(dir.resolve("www/die.php"), """
                <?php
                file_put_contents(__DIR__ . '/../count.txt', "ran\n", FILE_APPEND | LOCK_EX);
                error_log('about to die');
                flush(); // php-fpm buffers the STDERR record; a SIGKILL would lose it
                posix_kill(getmypid(), 9);
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 4\n");
             EdgeHarness edge = phpEdge(fpm, "keep-alive.enabled = false")) {
            HttpResponse<String> died = HTTP.send(HttpRequest.newBuilder(edge.uri("/die.php")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(died.statusCode()).isEqualTo(502);
            assertThat(Files.readAllLines(dir.resolve("count.txt"))).as("runs of the script").containsExactly("ran");
        }
    }

    /**
     * A script that dies with its worker before it writes anything (a crash, request_terminate_timeout) is reset
     * without a record, as a request in a stopping php-fpm's backlog is: its GET is sent once more, then 502,
     * and the replay is a line in the log. Before, it ran three times, killing three workers and
     * tripling the client's wait.
     */
    @Test
    void aGetWhoseWorkerDiedSilentlyRunsTwiceThen502() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Files.writeString(dir.resolve("www/crash.php"), """
                <?php
                file_put_contents(__DIR__ . '/../count.txt', "ran\n", FILE_APPEND | LOCK_EX);
                posix_kill(getmypid(), 9);
                """);
        for (boolean keepAlive : new boolean[] {false, true}) {
            Files.deleteIfExists(dir.resolve("count.txt"));
            Path fpmDir = dir.resolve("fpm-" + keepAlive);
            try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(fpmDir), "pm = static\npm.max_children = 4\n");
                 EdgeHarness edge = phpEdge(fpm, "keep-alive.enabled = " + keepAlive)) {
                if (keepAlive) { // the crash meets a kept connection, as under load
                    assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/index.php")).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
                }
                List<String> lines;
                HttpResponse<String> died;
                try (CapturedLog log = CapturedLog.of(FastCgiResponder.class)) {
                    died = HTTP.send(HttpRequest.newBuilder(edge.uri("/crash.php?a=1")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    lines = log.lines();
                }
                assertThat(died.statusCode()).as("keep-alive " + keepAlive).isEqualTo(502);
                assertThat(Files.readAllLines(dir.resolve("count.txt"))).as("runs of the script, keep-alive " + keepAlive)
                        .containsExactly("ran", "ran");
                assertThat(lines).as("keep-alive " + keepAlive).singleElement().asString()
                        .contains("GET /crash.php?a=1: the backend connection ended before any answer");
            }
        }
    }

    /**
     * php-fpm over TCP whose workers end after every fifth request (pm.max_requests), edge keeping connections: a
     * kept connection whose worker ended closes quietly as the next request goes out on it, and over TCP edge cannot
     * see that the worker never took it. Its GET goes again, and that is not counted against the one replay of a
     * reset: with 4 workers ending together, the replay met another ending connection, and 1 request in 40 was 502.
     */
    @Test
    void getsOverTcpWhoseWorkersEndAfterTheirLastRequestAllSucceed() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        try (PhpFpm fpm = PhpFpm.tcp(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 4\npm.max_requests = 5\n");
             EdgeHarness edge = phpEdge(fpm, "queue.timeout = 60 s, keep-alive.enabled = true")) {
            Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
            ExecutorService clients = Executors.newFixedThreadPool(16);
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 16; c++) {
                done.add(clients.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        statuses.merge(HTTP.send(HttpRequest.newBuilder(edge.uri("/index.php")).build(),
                                HttpResponse.BodyHandlers.ofString()).statusCode(), 1, Integer::sum);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(5, TimeUnit.MINUTES); // a guard only
            }
            clients.shutdown();
            assertThat(statuses).containsExactly(Map.entry(200, 640));
        }
    }

    /** Waits (30 s at most: a guard, nothing is measured) until {@code file} holds exactly {@code lines}. */
    private static void awaitLines(Path file, List<String> lines) throws Exception {
        await(() -> Files.exists(file) && Files.readAllLines(file).equals(lines), file + " holding " + lines);
    }

    @Test
    void aSmallRequestBodyTricklingInHoldsNoPhpWorkerWhileItComes() throws Exception {
        try (PhpFpm fpm = oneWorker();
             EdgeHarness edge = oneWorkerEdge(fpm);
             Socket slow = new Socket(edge.address().getAddress(), edge.address().getPort())) {
            OutputStream upload = startUpload(slow, "Content-Length: 10");
            upload.write("12345".getBytes(StandardCharsets.US_ASCII));
            upload.flush();
            // Half the body is in; the one PHP worker is not taken by it meanwhile.
            assertServedMeanwhile(edge);
            upload.write("67890".getBytes(StandardCharsets.US_ASCII));
            upload.flush();
            String response = new String(slow.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200 ");
            String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest("1234567890".getBytes(StandardCharsets.US_ASCII)));
            assertThat(response).endsWith("10 " + sha256);
        }
    }

    /**
     * An upload larger than what edge keeps in memory (64 KiB): edge writes it to an unlinked spool file as it
     * comes, so the one PHP worker serves other requests meanwhile (before, the upload took the worker as soon as
     * edge asked for its body, and the other request waited behind it), and PHP then gets every byte, whether the
     * client sent a length or chunks. The spool file is closed once the request is done.
     */
    @ParameterizedTest(name = "chunked: {0}")
    @ValueSource(booleans = {false, true})
    void aLargeUploadTricklingInIsSpooledHoldingNoPhpWorkerAndReachesPhpWhole(boolean chunked) throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool")).toRealPath();
        byte[] body = new byte[3 * 1024 * 1024 + 12345];
        new java.util.Random(7).nextBytes(body);
        int firstPart = 1024 * 1024;
        try (PhpFpm fpm = oneWorker();
             EdgeHarness edge = oneWorkerEdge(fpm);
             Socket slow = new Socket(edge.address().getAddress(), edge.address().getPort())) {
            OutputStream upload = startUpload(slow,
                    chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + body.length);
            writeBody(upload, body, 0, firstPart, chunked);
            upload.flush();
            // A third of the body is in, more than edge keeps in memory; the one PHP worker is not taken by it.
            assertServedMeanwhile(edge);
            // The body so far, more than edge keeps in memory: it is in a file nobody else can see.
            awaitSpoolFiles(spool, true);
            try (java.util.stream.Stream<Path> left = Files.list(spool)) {
                assertThat(left).as("the spool file is unlinked as soon as it is made").isEmpty();
            }
            writeBody(upload, body, firstPart, body.length - firstPart, chunked);
            if (chunked) {
                upload.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            upload.flush();
            String response = new String(slow.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200 ");
            String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
            assertThat(response).endsWith(body.length + " " + sha256);
            awaitSpoolFiles(spool, false);
        }
    }

    /**
     * A client that stops in the middle of a large upload, half-closing or resetting, ends its request: the body spooled
     * so far is dropped with its file, and the request never takes a queue place or reaches PHP.
     */
    @ParameterizedTest(name = "reset: {0}")
    @ValueSource(booleans = {false, true})
    void aClientThatStopsMidUploadEndsItsRequest(boolean reset) throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool")).toRealPath();
        Path counter = installHoldScript();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = busyUploadEdge(fpm)) {
            CompletableFuture<HttpResponse<String>> held =
                    HTTP.sendAsync(HttpRequest.newBuilder(edge.uri("/hold.php")).build(), HttpResponse.BodyHandlers.ofString());
            awaitLines(counter, List.of("start"));
            Socket upload = new Socket(edge.address().getAddress(), edge.address().getPort());
            try {
                OutputStream out = startUpload(upload, "/count.php?id=upload", "Content-Length: " + 3 * 1024 * 1024);
                out.write(new byte[1024 * 1024]);
                out.flush();
                awaitSpoolFiles(spool, true);
                if (reset) {
                    upload.setSoLinger(true, 0); // the close below resets
                } else {
                    upload.shutdownOutput();
                    assertThat(closedWithoutAnswer(upload)).as("the connection closed, nothing answered").isTrue();
                }
            } finally {
                upload.close();
            }
            awaitSpoolFiles(spool, false);
            assertThat(edge.status()).contains(" waiters=0 ");
            Files.writeString(dir.resolve("release"), "");
            assertThat(held.get(30, TimeUnit.SECONDS).body()).isEqualTo("held");
            assertThat(Files.readAllLines(counter)).as("the upload never ran").containsExactly("start", "end");
        } finally {
            Files.writeString(dir.resolve("release"), "");
        }
    }

    /**
     * A POST whose client left keeps its queue place (it runs without its client), but no longer than the queue
     * timeout: then it ends as any expired wait does, its 503 for nobody, and never runs.
     */
    @Test
    void aPostWhoseClientLeftWaitsNoLongerThanTheQueueTimeoutAndThenNeverRuns() throws Exception {
        Path counter = installHoldScript();
        // what edge logs meanwhile (it runs in this JVM): the expired wait of a call without its client failed
        CapturedLog logged = CapturedLog.of(org.slf4j.Logger.ROOT_LOGGER_NAME);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = oneSlotEdge(fpm, "", "3 s", "")) { // time to see it queued, and leave
            CompletableFuture<HttpResponse<String>> held =
                    HTTP.sendAsync(HttpRequest.newBuilder(edge.uri("/hold.php")).build(), HttpResponse.BodyHandlers.ofString());
            awaitLines(counter, List.of("start"));
            try (RawHttpClient poster = new RawHttpClient(edge.address())) {
                poster.send("POST /count.php?id=posted HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok");
                await(() -> edge.status().contains(" waiters=1 "), "the POST queued");
            }
            await(() -> edge.status().contains(" timed-out=1 "), "its wait over");
            assertThat(edge.status()).contains(" waiters=0 ");
            // (the count is up before the call is failed and says so)
            await(() -> logged.lines().stream().anyMatch(line -> line.contains(
                    "POST /count.php?id=posted, its client gone before the answer: never reached the backend")),
                    "the failure logged");
            Files.writeString(dir.resolve("release"), "");
            assertThat(held.get(30, TimeUnit.SECONDS).body()).isEqualTo("held");
            HttpResponse<String> after = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=after")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(Files.readAllLines(counter)).containsExactly("start", "end", "after");
        } finally {
            logged.close();
            Files.writeString(dir.resolve("release"), "");
        }
        assertThat(logged.events()).as("nothing thrown").noneMatch(event -> event.getThrowableProxy() != null);
    }

    /**
     * A POST whose client left, queued behind a script still running after its answer (fastcgi_finish_request()), keeps
     * its place when a reload moves the group to another php-fpm: the previous configuration, whose pool holds its
     * queue, is retired once that POST ran, not at once. Nothing else of it was running (the script's client had its
     * answer), so it was retired at the reload, its pool closed, and the POST dropped with the queue.
     */
    @Test
    void aPostWhoseClientLeftStillRunsWhenAReloadMovesItsGroupToAnotherPhpFpm() throws Exception {
        Path counter = installHoldScript();
        Path release = dir.resolve("release");
        writeFinishScript(dir.resolve("www"), release, "");
        try (PhpFpm first = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             PhpFpm second = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm2")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = oneSlotEdge(first, "", "60 s", "")) {
            assertThat(send(edge, "/finish.php").body()).isEqualTo("answered"); // its worker, and the one slot, held on
            try (RawHttpClient poster = new RawHttpClient(edge.address())) {
                poster.send("POST /count.php?id=posted HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok");
                await(() -> edge.status().contains(" waiters=1 "), "the POST queued");
            }
            edge.reload(oneSlotConfig(second, "", "60 s", ""));
            assertThat(send(edge, "/count.php?id=moved").statusCode()).as("new requests go to the other php-fpm")
                    .isEqualTo(200);
            Files.writeString(release, "");
            awaitLines(counter, List.of("moved", "posted"));
        } finally {
            Files.writeString(release, "");
        }
    }

    /**
     * A client whose FIN comes while its upload, all in, still goes to its spool file (held up here, as by a slow
     * disk): a POST whose body came whole runs without its client, as behind nginx, which has passed it to php-fpm by
     * then (fire-and-forget calls such as WordPress's cron spawn post and hang up at once). So once the file is written
     * the connection closes without an answer, and the script runs; a body cut short never does
     * (aClientThatStopsMidUploadEndsItsRequest).
     * Until this session the FIN ended the request there, and it never ran.
     */
    @Test
    void aClientWhoseFinComesWhileItsWholeUploadIsSpooledHasItRunWithoutAnAnswer() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool")).toRealPath();
        Path counter = installHoldScript();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = busyUploadEdge(fpm);
             Socket upload = new Socket(edge.address().getAddress(), edge.address().getPort())) {
            upload.setSoTimeout(30_000);
            Runnable diskBack = SpoolFiles.holdThreads();
            try {
                // All of it, over the 64 KiB kept in memory and under the 1 MiB that pauses the client's reading
                OutputStream out = startUpload(upload, "/count.php?id=upload", "Content-Length: " + 512 * 1024);
                out.write(new byte[512 * 1024]);
                out.flush();
                upload.shutdownOutput();
            } finally {
                diskBack.run();
            }
            assertThat(closedWithoutAnswer(upload)).as("closed once spooled, nothing answered").isTrue();
            awaitLines(counter, List.of("upload"));
            awaitSpoolFiles(spool, false);
            HttpResponse<String> after = HTTP.send(HttpRequest.newBuilder(edge.uri("/count.php?id=after")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(edge.status()).contains(" waiters=0 ", " leases=2 ");
            assertThat(Files.readAllLines(counter)).as("the upload ran once").containsExactly("upload", "after");
        }
    }

    /** Reads until {@code socket} ends (a FIN, or a reset): true if nothing came before the end. */
    private static boolean closedWithoutAnswer(Socket socket) throws Exception {
        try {
            return socket.getInputStream().read() < 0;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    /** edge in front of {@code fpm} with one backend connection, a long queue, a status page, and {@code spool}. */
    private EdgeHarness busyUploadEdge(PhpFpm fpm) throws Exception {
        return oneSlotEdge(fpm, "", "120 s", "server.run-dir = \"spool\"");
    }

    /**
     * edge in front of {@code fpm} with one backend connection, a queue of 10 waiting {@code queueTimeout}, a read
     * timeout of 120 s and a status page; {@code phpSettings} are added to the PHP location's, {@code extra} to the
     * configuration.
     */
    private EdgeHarness oneSlotEdge(PhpFpm fpm, String phpSettings, String queueTimeout, String extra)
            throws Exception {
        return EdgeHarness.start(dir, oneSlotConfig(fpm, phpSettings, queueTimeout, extra));
    }

    /** The configuration of {@link #oneSlotEdge}, for a reload. */
    private static String oneSlotConfig(PhpFpm fpm, String phpSettings, String queueTimeout, String extra) {
        return """
                %s
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" , fastcgi = php%s }
                  { match = "= /edge-status", status = true }
                ] }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 1
                  queue { max-waiters = 10, timeout = %s }
                  timeouts.read = 120 s
                }
                """.formatted(extra, phpSettings, fpm.address(), queueTimeout);
    }

    /**
     * Waits (up to 30 s) until this process (edge runs in it) holds a descriptor of a deleted file in {@code spool}
     * ({@code open}), or none any more.
     */
    private static void awaitSpoolFiles(Path spool, boolean open) throws Exception {
        for (int i = 0; i < 3000; i++) {
            boolean held = SpoolFiles.open(spool + "/edge-body-") > 0;
            if (held == open) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError(open ? "no spool file was ever open in " + spool : "a spool file stayed open in " + spool);
    }

    /** Writes {@code length} bytes of {@code body} from {@code offset}, as one chunk if {@code chunked}. */
    private static void writeBody(OutputStream out, byte[] body, int offset, int length, boolean chunked)
            throws Exception {
        if (chunked) {
            out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        out.write(body, offset, length);
        if (chunked) {
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** A php-fpm with one worker, for the scripts of {@link PhpScripts} in {@code www}. */
    private PhpFpm oneWorker() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        return PhpFpm.unix(Files.createDirectories(dir.resolve("one")), "pm = static\npm.max_children = 1\n");
    }

    /** edge in front of {@code fpm} with one backend connection, 5 s of queue, and {@code spool} as its run dir. */
    private EdgeHarness oneWorkerEdge(PhpFpm fpm) throws Exception {
        return EdgeHarness.start(dir, """
                server.run-dir = "spool"
                sites = [{ server-names = ["_"], default = true, root = "www",
                           locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 1
                  queue { max-waiters = 10, timeout = 5 s }
                }
                """.formatted(fpm.address()));
    }

    /**
     * Sends the head of a POST to /hash.php announcing its body by {@code framing} and asking for a 100 Continue,
     * and reads the 100: edge asks for a body when it starts reading it, so from then on the request is edge's.
     */
    private static OutputStream startUpload(Socket slow, String framing) throws Exception {
        return startUpload(slow, "/hash.php", framing);
    }

    /** As {@link #startUpload(Socket, String)}, to {@code target}. */
    private static OutputStream startUpload(Socket slow, String target, String framing) throws Exception {
        OutputStream upload = slow.getOutputStream();
        upload.write(("POST " + target + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\nExpect: 100-continue\r\n"
                + framing + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        upload.flush();
        slow.setSoTimeout(30_000);
        String interim = "HTTP/1.1 100 Continue\r\n\r\n";
        assertThat(new String(slow.getInputStream().readNBytes(interim.length()), StandardCharsets.US_ASCII))
                .isEqualTo(interim);
        return upload;
    }

    /** Another request is answered by the one PHP worker while an upload is still coming in. */
    private static void assertServedMeanwhile(EdgeHarness edge) throws Exception {
        HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(edge.uri("/echo.php?while=uploading")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(other.statusCode()).as("served while the upload trickles in, not queued behind it").isEqualTo(200);
        assertThat(other.body()).contains("query=while=uploading");
    }

    /**
     * The scripts, and {@code hold.php}: it writes "start" to the returned file, waits (2 min at most) until the test
     * creates {@code release}, then writes "end" and answers "held".
     */
    private Path installHoldScript() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Files.writeString(dir.resolve("www/hold.php"), """
                <?php
                $log = __DIR__ . '/../count.txt';
                file_put_contents($log, "start\n", FILE_APPEND | LOCK_EX);
                for ($i = 0; $i < 12000 && !file_exists(__DIR__ . '/../release'); $i++) { usleep(10000); }
                file_put_contents($log, "end\n", FILE_APPEND | LOCK_EX);
                echo 'held';
                """);
        return dir.resolve("count.txt");
    }
}
