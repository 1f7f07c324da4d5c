package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.Edge;
import io.edge.core.http.CapturedLog;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script that answers with {@code fastcgi_finish_request()} (Symfony's and Laravel's every response) and works on
 * holds its php-fpm worker after its client has the answer: edge keeps the worker's slot until the worker reads again,
 * so the next request waits in edge's queue (where its timeout and 503 apply), not unseen in php-fpm's listen backlog
 * until the read timeout's 504. With and without kept connections.
 */
class FinishRequestIT {

    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** www's PHP on a php-fpm edge spawns with %d workers; a drain of 60 s. */
    private static final String SPAWNED = """
            server { run-dir = "run", timeouts.drain = 60 s }
            sites = [{ server-names = ["_"], default = true, root = "www", locations = [
              { match = "~ \\\\.php$", fastcgi = php } ] }]
            fastcgi.backends.php.spawn { enabled = true, workers = %d }
            """;

    /**
     * www/finish.php answers, then works on until the test lets it go (30 s at most) by creating the file returned,
     * and touches "worked-on" as it ends; www/next.php answers "next".
     */
    private Path writeScripts() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path release = dir.resolve("release");
        Files.writeString(www.resolve("finish.php"), """
                <?php
                echo 'answered';
                fastcgi_finish_request();
                for ($i = 0; $i < 3000 && !file_exists('%s'); $i++) { usleep(10000); }
                touch('%s');
                """.formatted(release, dir.resolve("worked-on")));
        Files.writeString(www.resolve("next.php"), "<?php echo 'next';");
        return release;
    }

    @ParameterizedTest(name = "keep-alive {0}")
    @ValueSource(booleans = {false, true})
    void aWorkerStillRunningAfterItsAnswerKeepsItsSlot(boolean keepAlive) throws Exception {
        Path release = writeScripts();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }, { match = "= /edge-status", status = true }
                     ] }]
                     fastcgi.backends.php {
                       addresses = ["%s"], max-connections = 1, keep-alive.enabled = %s
                       queue.timeout = 60 s, timeouts.read = 60 s
                     }
                     """.formatted(fpm.address(), keepAlive))) {
            HttpResponse<String> first = HTTP.send(HttpRequest.newBuilder(edge.uri("/finish.php")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body()).isEqualTo("answered");
            assertThat(Files.exists(dir.resolve("worked-on"))).as("the script still works").isFalse();
            CompletableFuture<HttpResponse<String>> next = HTTP.sendAsync(
                    HttpRequest.newBuilder(edge.uri("/next.php")).build(), HttpResponse.BodyHandlers.ofString());
            // the one worker is busy: the request waits in edge's queue, its slot held by the finished answer
            await(() -> edge.status().contains(" waiters=1 "), "the next request queued in edge");
            assertThat(next).isNotDone();
            Files.writeString(release, "");
            assertThat(next.get().statusCode()).isEqualTo(200);
            assertThat(next.get().body()).isEqualTo("next");
            assertThat(dir.resolve("worked-on")).exists();
        } finally {
            Files.writeString(release, "");
        }
    }

    /**
     * A reload that changes the group builds a new pool while the previous one's worker still runs its script: that
     * worker's slot counts in the new pool too (both pools' connections take the same php-fpm's workers), so the next
     * request waits in edge's queue instead of in php-fpm's backlog.
     */
    @ParameterizedTest(name = "keep-alive {0}")
    @ValueSource(booleans = {false, true})
    void aReloadedGroupCountsTheSlotsItsPreviousPoolStillHolds(boolean keepAlive) throws Exception {
        Path release = writeScripts();
        String config = """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "~ \\\\.php$", fastcgi = php }, { match = "= /edge-status", status = true }
                ] }]
                fastcgi.backends.php {
                  addresses = ["%s"], max-connections = 1, keep-alive.enabled = %s
                  queue.timeout = %s, timeouts.read = 60 s
                }
                """;
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, config.formatted(fpm.address(), keepAlive, "60 s"))) {
            HttpResponse<String> first = HTTP.send(HttpRequest.newBuilder(edge.uri("/finish.php")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(first.body()).isEqualTo("answered");
            edge.reload(config.formatted(fpm.address(), keepAlive, "59 s"));
            CompletableFuture<HttpResponse<String>> next = HTTP.sendAsync(
                    HttpRequest.newBuilder(edge.uri("/next.php")).build(), HttpResponse.BodyHandlers.ofString());
            await(() -> edge.status().contains(" waiters=1 "), "the next request queued in the new pool");
            assertThat(next).isNotDone();
            Files.writeString(release, "");
            assertThat(next.get().statusCode()).isEqualTo(200);
            assertThat(next.get().body()).isEqualTo("next");
        } finally {
            Files.writeString(release, "");
        }
    }

    /**
     * A reload that raises max-connections while a request waits in the old pool's queue: the new pool takes that
     * queue over, so the waiting request gets the new slot at once rather than waiting behind the old pool's limit
     * (under load, until its timeout, while the new pool's younger requests took every slot).
     */
    @Test
    void aReloadRaisingMaxConnectionsServesTheRequestsWaitingInTheOldQueue() throws Exception {
        Path release = writeScripts();
        String config = """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "~ \\\\.php$", fastcgi = php }, { match = "= /edge-status", status = true }
                ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = %d, queue.timeout = 60 s }
                """;
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, config.formatted(fpm.address(), 1))) {
            assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/finish.php")).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("answered");
            CompletableFuture<HttpResponse<String>> next = HTTP.sendAsync(
                    HttpRequest.newBuilder(edge.uri("/next.php")).build(), HttpResponse.BodyHandlers.ofString());
            await(() -> edge.status().contains(" waiters=1 "), "the next request queued behind the one slot");
            edge.reload(config.formatted(fpm.address(), 2));
            assertThat(next.get().body()).as("served by the second slot, the first still held").isEqualTo("next");
            assertThat(dir.resolve("worked-on")).doesNotExist();
        } finally {
            Files.writeString(release, "");
        }
    }

    /**
     * A reload that replaces a spawned php-fpm (its workers changed) stops the old one only once the scripts still
     * running on it after their answer have ended (within the drain timeout): it was stopped at once, and php-fpm kills
     * a worker still busy process_control_timeout (10 s) into its graceful stop.
     */
    @Test
    void aReplacedSpawnedPhpFpmIsStoppedOnlyOnceItsScriptsEnd() throws Exception {
        Path done = writeLongScript();
        try (EdgeHarness edge = EdgeHarness.start(dir, SPAWNED.formatted(1))) {
            assertAnswered(edge);
            edge.reload(SPAWNED.formatted(2));
            await(() -> Files.exists(done), "the script on the replaced php-fpm ended, not killed");
        }
    }

    /**
     * At a stop (SIGTERM), likewise: the php-fpm edge spawned is stopped once the script running on after its answer
     * has ended, within the drain timeout, not at the end of the clients' drain (then php-fpm's graceful stop would
     * kill it 10 s later, as on the old code).
     */
    @Test
    void aStopWaitsForTheScriptsRunningOnTheSpawnedPhpFpm() throws Exception {
        Path done = writeLongScript();
        EdgeHarness edge = EdgeHarness.start(dir, SPAWNED.formatted(1));
        try {
            assertAnswered(edge);
        } finally {
            edge.close();
        }
        assertThat(done).as("the script ran to its end before php-fpm was stopped").exists();
    }

    /**
     * A stop soon after a reload that replaced the php-fpm: the old one's retirement, already waiting for the script
     * running on after its answer, is waited for by the stop as well (the stop waited only for the configurations
     * still retiring, and then ended the retirement's wait: php-fpm was stopped and killed the script 10 s later).
     */
    @Test
    void aStopDuringARetirementWaitsForItsScripts() throws Exception {
        Path done = writeLongScript();
        EdgeHarness edge = EdgeHarness.start(dir, SPAWNED.formatted(1));
        try {
            assertAnswered(edge);
            edge.reload(SPAWNED.formatted(2));
            await(() -> edge.edge().generationsClosing() == 1, "the replaced configuration's retirement began");
        } finally {
            edge.close();
        }
        assertThat(done).as("the script ran to its end before its php-fpm was stopped").exists();
    }

    /**
     * A stop waits, within the drain, for a POST whose client left and whose script still runs on a php-fpm edge did
     * not spawn, as for a spawned one's scripts: the script ends with its answer and the request lets its body go. The
     * stop waited only for spawned php-fpms: the loops' stop cut such a request's connection, and its body could be
     * left unreleased (a paranoid leak report).
     */
    @Test
    void aStopWaitsForAPostWhoseClientLeftAtAnotherPhpFpm() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path started = dir.resolve("started");
        Path release = dir.resolve("release");
        Path posted = dir.resolve("posted");
        Files.writeString(www.resolve("post.php"), """
                <?php
                $body = file_get_contents('php://input');
                touch('%s');
                for ($i = 0; $i < 3000 && !file_exists('%s'); $i++) { usleep(10000); }
                file_put_contents('%s', $body);
                echo 'done';
                """.formatted(started, release, posted));
        CapturedLog log = CapturedLog.of(Edge.class);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n")) {
            EdgeHarness edge = EdgeHarness.start(dir, """
                    server.timeouts.drain = 60 s
                    sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                      { match = "~ \\\\.php$", fastcgi = php } ] }]
                    fastcgi.backends.php { addresses = ["%s"], timeouts.read = 60 s }
                    """.formatted(fpm.address()));
            CompletableFuture<Void> stop;
            try {
                try (Socket client = new Socket()) {
                    client.connect(edge.address());
                    client.getOutputStream().write(("POST /post.php HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n"
                            + "payload=1").getBytes(StandardCharsets.US_ASCII));
                }
                await(() -> Files.exists(started), "the script has the POST, its client gone");
            } finally {
                stop = CompletableFuture.runAsync(edge::close);
            }
            try {
                await(() -> log.lines().stream().anyMatch(line -> line.contains("1 connection(s) still hold workers")),
                        "the stop waiting for the script");
                assertThat(stop).as("the stop, while the script runs").isNotDone();
            } finally {
                Files.writeString(release, "");
                log.close();
            }
            stop.get();
            assertThat(posted).as("the script ran to its end").hasContent("payload=1");
        }
    }

    /** Asks edge for www/long.php ({@link #writeLongScript}) and checks the answer, which comes before the work. */
    private static void assertAnswered(EdgeHarness edge) throws Exception {
        assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/long.php")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("answered");
    }

    /**
     * www/long.php answers, then works on for 12 s, longer than php-fpm's graceful stop waits (10 s) before it kills
     * a worker, and touches the file returned as it ends.
     */
    private Path writeLongScript() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path done = dir.resolve("worked-on");
        Files.writeString(www.resolve("long.php"), """
                <?php
                echo 'answered';
                fastcgi_finish_request();
                for ($i = 0; $i < 120; $i++) { usleep(100000); } // 12 s; a signal cuts a sleep() short, not this
                touch('%s');
                """.formatted(done));
        return done;
    }
}
