package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP reloads the configuration file into a running edge (a separate process, a php-fpm it spawns, real
 * signals): new requests, kept-alive connections included, follow the new file; a request running meanwhile
 * finishes on the php-fpm it started with, which stops once it is done; an unchanged php-fpm is kept; a file
 * with problems is refused with every problem logged, and the running configuration stays.
 */
class ReloadIT {

    @TempDir
    Path dir;

    @Test
    void hupAppliesTheNewFileToNewRequestsWhileARunningOneFinishesOnThePreviousPhpFpm() throws Exception {
        Path gates = Files.createDirectories(dir.resolve("gates"));
        for (String site : new String[] {"a", "b"}) {
            Path root = Files.createDirectories(dir.resolve(site));
            Files.writeString(root.resolve("x.txt"), "site " + site);
            // Says it started, then holds its worker until the test creates "go" (30 s at most).
            Files.writeString(root.resolve("gate.php"), """
                    <?php
                    $gates = '%s';
                    touch($gates . '/started');
                    for ($i = 0; $i < 600 && !file_exists($gates . '/go'); $i++) { usleep(50000); }
                    echo 'done';
                    """.formatted(gates));
            Files.writeString(root.resolve("pid.php"), "<?php echo getmypid();\n");
        }
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, config(0, "a", 1));
        Path firstPidFile = dir.resolve("run/php/php-fpm.pid");
        long firstMaster = -1;
        long secondMaster = -1;
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            try {
                HttpClient http = HttpClient.newHttpClient();
                long[] masters = new long[2];
                edge.verify(() -> {
                    int port = edge.awaitBoundPort();
                    assertThat(EdgeProcess.get(http, port, "/x.txt")).isEqualTo("site a");
                    masters[0] = Long.parseLong(Files.readString(firstPidFile).strip());

                    // A kept-alive connection, opened before the reloads: its next requests follow them too.
                    try (Socket kept = new Socket("127.0.0.1", port)) {
                        assertThat(getOn(kept, "/x.txt")).isEqualTo("site a");

                        // Only the site's root changes: php-fpm is kept.
                        Files.writeString(conf, config(0, "b", 1));
                        reload(edge, 2);
                        assertThat(getOn(kept, "/x.txt")).isEqualTo("site b");
                        assertThat(EdgeProcess.get(http, port, "/x.txt")).isEqualTo("site b");
                        assertThat(Long.parseLong(Files.readString(firstPidFile).strip())).isEqualTo(masters[0]);
                        assertThat(parentOf(Long.parseLong(EdgeProcess.get(http, port, "/pid.php")))).isEqualTo(masters[0]);

                        // A request holds the one worker of that php-fpm and another waits for it in the pool's
                        // queue while the next reload changes the pool.
                        CompletableFuture<HttpResponse<String>> running = http.sendAsync(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/gate.php")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        EdgeProcess.awaitExists(gates.resolve("started"));
                        CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/gate.php")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        Awaits.await(() -> EdgeProcess.get(http, port, "/status").contains("waiters=1 "),
                                "the second request queued");
                        assertThat(EdgeProcess.get(http, port, "/status")).contains("waiters=1 ");
                        Files.writeString(conf, config(0, "b", 2));
                        reload(edge, 3);

                        // New requests go to a new php-fpm, while the old one's worker is still held.
                        long worker = Long.parseLong(getOn(kept, "/pid.php"));
                        masters[1] = parentOf(worker);
                        assertThat(masters[1]).as("the new php-fpm's master").isNotEqualTo(masters[0]).isPositive();
                        // <run-dir>/php.N, N the smallest free (not the generation, 3: the socket path stays
                        // within the length the configuration check allowed for)
                        assertThat(Long.parseLong(Files.readString(dir.resolve("run/php.2/php-fpm.pid")).strip()))
                                .as("beside the previous one, in a run directory of its own").isEqualTo(masters[1]);
                        assertThat(alive(masters[0])).as("the previous php-fpm, while a request runs on it").isTrue();
                        assertThat(running).isNotDone();
                        assertThat(waiting).isNotDone();
                        assertThat(edge.output()).as("retired while its requests run").doesNotContain("generation 2 retired");

                        Files.createFile(gates.resolve("go"));
                        for (CompletableFuture<HttpResponse<String>> request : List.of(running, waiting)) {
                            HttpResponse<String> finished = request.get(60, TimeUnit.SECONDS);
                            assertThat(finished.statusCode()).as("a request of the previous php-fpm").isEqualTo(200);
                            assertThat(finished.body()).isEqualTo("done");
                        }
                        edge.awaitOutput("generation 2 retired");
                        Awaits.await(() -> !alive(masters[0]), "the previous php-fpm gone");
                        assertThat(alive(masters[0])).as("the previous php-fpm, once its request was done").isFalse();
                        assertThat(alive(masters[1])).isTrue();

                        // A file with problems: refused, every problem logged with its line, nothing changes.
                        Files.writeString(conf, config(0, "a", 2).replace("workers = 2", "workers = many")
                                .replace("access-log = off", "access-log = off, keep-alive-timeout = 5 s"));
                        edge.signal("HUP");
                        edge.awaitOutput("reload refused");
                        edge.awaitOutput("edge.conf:3: edge.fastcgi.backends.php.spawn.workers: \"many\" is not a number");
                        assertThat(edge.output())
                                .contains("edge.conf:2: edge.server.keep-alive-timeout: unknown key")
                                .contains("edge.conf:3: edge.fastcgi.backends.php.spawn.workers: \"many\" is not a number")
                                .doesNotContain("\tat ");
                        assertThat(edge.output().lines().filter(line -> line.contains("reload refused: ")))
                                .as("each problem a log line of its own").hasSize(2)
                                .allSatisfy(line -> assertThat(line).contains(" ERROR ").contains("/edge.conf:"));
                        assertThat(getOn(kept, "/x.txt")).isEqualTo("site b");
                        assertThat(parentOf(Long.parseLong(EdgeProcess.get(http, port, "/pid.php")))).isEqualTo(masters[1]);
                    }
                    edge.process.destroy(); // SIGTERM
                    assertThat(edge.await()).isZero();
                    assertThat(alive(masters[1])).as("the new php-fpm after edge stopped").isFalse();
                    assertThat(dir.resolve("run/php.2")).as("the run directory edge made for it").doesNotExist();
                    assertThat(dir.resolve("run/php")).as("the configured one").isDirectory();
                });
                firstMaster = masters[0];
                secondMaster = masters[1];
            } finally {
                for (long master : new long[] {firstMaster, secondMaster}) {
                    if (master > 0 && alive(master)) { // whatever this test left behind, workers included
                        new ProcessBuilder("kill", "-KILL", "--", "-" + master).inheritIO().start()
                                .waitFor(10, TimeUnit.SECONDS);
                    }
                }
            }
        }
    }

    @Test
    void hupWithAnUnchangedFileKeepsServingAndChangesNothing() throws Exception {
        siteA();
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, staticSite(0));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                reload(edge, 2);
                assertThat(EdgeProcess.get(http, port, "/x.txt")).isEqualTo("site a");
                edge.awaitOutput("generation 1 retired");
                // what the reload said: the start may say what the test JVM's small heap holds max-connections to
                String output = edge.output();
                assertThat(output.substring(output.indexOf("SIGHUP: reloading"))).doesNotContain("edge.server")
                        .doesNotContain("WARN");
                assertThat(EdgeProcess.get(http, port, "/x.txt")).isEqualTo("site a");
            });
        }
    }

    /**
     * A configuration that includes a resource ({@code include classpath(...)}), which starts: its reload is applied
     * too. The reload ran on a thread made from the signal's handler, without a context class loader, and was refused
     * ("null class loader") every time.
     */
    @Test
    void hupReloadsAFileThatIncludesAClasspathResource() throws Exception {
        siteA();
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "include classpath(\"reference.conf\")\n" + staticSite(0));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                reload(edge, 2);
                assertThat(edge.output()).doesNotContain("reload refused");
                assertThat(EdgeProcess.get(HttpClient.newHttpClient(), port, "/x.txt")).isEqualTo("site a");
            });
        }
    }

    @Test
    void hupMovesTheListenersAppliesTheLimitsAndNamesWhatNeedsARestart() throws Exception {
        siteA();
        Files.createDirectories(dir.resolve("b"));
        Files.writeString(dir.resolve("b/x.txt"), "site b");
        Path conf = dir.resolve("edge.conf");
        String body = """
                edge {
                  server { listen = [%s], access-log = off, io-threads = %d, limits.header-count = %d }
                  sites = [{ server-names = ["_"], default = true, root = "%s" }]
                }
                """;
        Files.writeString(conf, body.formatted("\"127.0.0.1:0\"", 2, 100, "a"));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest crowded = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/x.txt"))
                        .header("X-One", "1").header("X-Two", "2").header("X-Three", "3").build();
                assertThat(http.send(crowded, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
                int otherPort;
                try (Socket kept = new Socket("127.0.0.1", port)) {
                    assertThat(getOn(kept, "/x.txt")).isEqualTo("site a");

                    // Another port besides (named, as a second one cannot be 0 too), and six header fields at most
                    // (the client's own are five); io-threads needs a restart.
                    otherPort = EdgeProcess.onFreePorts(1, ports -> {
                        Files.writeString(conf, body.formatted("\"127.0.0.1:0\", \"127.0.0.1:" + ports[0] + "\"",
                                1, 6, "b"));
                        reloadOrFail(edge, 2);
                        return ports[0];
                    });
                    assertThat(edge.output()).contains("edge.server io-threads changed; those apply only on a restart");
                    assertThat(EdgeProcess.get(http, otherPort, "/x.txt")).isEqualTo("site b");
                    assertThat(http.send(crowded, HttpResponse.BodyHandlers.ofString()).statusCode())
                            .as("more header fields than the new limit").isEqualTo(431);

                    // The first port dropped: no longer accepting, while a connection it accepted is served.
                    Files.writeString(conf, body.formatted("\"127.0.0.1:" + otherPort + "\"", 1, 100, "b"));
                    reload(edge, 3);
                    assertThat(EdgeProcess.accepts(port)).as("a listen address the file no longer names").isFalse();
                    assertThat(getOn(kept, "/x.txt")).isEqualTo("site b");
                    assertThat(EdgeProcess.get(http, otherPort, "/x.txt")).isEqualTo("site b");
                }

                // A listen address that cannot be bound: the reload fails and nothing changes.
                try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    Files.writeString(conf, body.formatted("\"127.0.0.1:" + taken.getLocalPort() + "\"", 1, 100, "a"));
                    edge.signal("HUP");
                    edge.awaitOutput("reload failed, the running configuration stays: " + conf
                            + ":2: edge.server.listen[0]: 127.0.0.1:" + taken.getLocalPort()
                            + ": address already in use");
                    assertThat(EdgeProcess.get(http, otherPort, "/x.txt")).isEqualTo("site b");
                }
            });
        }
    }

    @Test
    void hupTurnsTheAccessLogOnIntoAFileAndOffAgain() throws Exception {
        siteA();
        Path conf = dir.resolve("edge.conf");
        String body = """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = %s }
                  sites = [{ server-names = ["_"], default = true, root = "a" }]
                }
                """;
        Files.writeString(conf, body.formatted(0, "off"));
        Path log = dir.resolve("access.log");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                EdgeProcess.get(http, port, "/x.txt?while-off");
                Files.writeString(conf, body.formatted(0, "\"access.log\""));
                reload(edge, 2);
                EdgeProcess.get(http, port, "/x.txt?to-the-file");
                Awaits.await(() -> Files.exists(log) && Files.readString(log).contains("to-the-file"),
                        "the request logged to the file");
                assertThat(Files.readString(log)).contains("\"GET /x.txt?to-the-file HTTP/1.1\" 200 6");

                // A file that cannot be opened: the reload fails and the log stays where it was.
                Files.writeString(conf, body.formatted(0, "\"" + Files.createDirectories(dir.resolve("a-directory"))
                        + "\""));
                edge.signal("HUP");
                Awaits.await(() -> edge.output().contains("reload refused") || edge.output().contains("reload failed"),
                        "the reload refused");
                assertThat(edge.output()).containsAnyOf("reload refused", "reload failed").doesNotContain("(generation 3)");
                EdgeProcess.get(http, port, "/x.txt?still-the-file");

                Files.writeString(conf, body.formatted(0, "off"));
                reload(edge, 3);
                EdgeProcess.get(http, port, "/x.txt?off-again");
                edge.process.destroy(); // SIGTERM writes out what is queued
                assertThat(edge.await()).isZero();
                String lines = Files.readString(log);
                assertThat(lines).contains("still-the-file").doesNotContain("while-off").doesNotContain("off-again");
                assertThat(edge.output()).doesNotContain("x.txt?");
            });
        }
    }

    @Test
    void aPhpFpmAReloadAddsInATemporaryRunDirIsKeptByTheNextReload() throws Exception {
        Path root = Files.createDirectories(dir.resolve("a"));
        Files.writeString(root.resolve("pid.php"), "<?php echo getmypid();\n");
        Files.writeString(root.resolve("x.txt"), "site a");
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, staticSite(0));
        long[] master = {-1};
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            try {
                edge.verify(() -> {
                    int port = edge.awaitBoundPort();
                    HttpClient http = HttpClient.newHttpClient();
                    Files.writeString(conf, config(0, "a", 1).replace(", run-dir = \"run\"", ""));
                    reload(edge, 2);
                    master[0] = parentOf(Long.parseLong(EdgeProcess.get(http, port, "/pid.php")));
                    reload(edge, 3); // the same file again
                    assertThat(parentOf(Long.parseLong(EdgeProcess.get(http, port, "/pid.php"))))
                            .as("php-fpm's master after a reload of an unchanged file").isEqualTo(master[0]);
                    assertThat(edge.output()).containsOnlyOnce("started php-fpm");
                });
            } finally {
                if (master[0] > 0 && alive(master[0])) {
                    new ProcessBuilder("kill", "-KILL", "--", "-" + master[0]).inheritIO().start()
                            .waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /**
     * A reload that changes a FastCGI group builds a new pool for it: the group's counters since start (503s of its
     * queue, busy connects) fell back to 0 on the status page and in Prometheus, while its lease count went on.
     */
    @Test
    void aGroupsCountersSinceStartSurviveAReloadThatChangesIt() throws Exception {
        Files.writeString(siteA().resolve("x.php"), "<?php echo 1;\n");
        Path conf = dir.resolve("edge.conf");
        String group = """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off }
                  fastcgi.backends.php { addresses = ["unix:%s"], queue.timeout = %d ms }
                  sites = [{ server-names = ["_"], default = true, root = "a", locations = [
                    { match = "= /status", status = true }
                    { match = "~ \\\\.php$", fastcgi = php }
                  ]}]
                }
                """;
        Path nobody = dir.resolve("nobody-listens.sock");
        Files.writeString(conf, group.formatted(0, nobody, 500));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/x.php")).build();
                assertThat(http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(503);
                String counted = "edge_fastcgi_queue_timeouts_total{group=\"php\"} 1\n"; // no one listens: it waits
                assertThat(EdgeProcess.get(http, port, "/status?format=prometheus")).contains(counted);
                Files.writeString(conf, group.formatted(0, nobody, 400));
                reload(edge, 2);
                assertThat(EdgeProcess.get(http, port, "/status?format=prometheus")).contains(counted);
                assertThat(EdgeProcess.get(http, port, "/status")).contains(" timed-out=1 ");
            });
        }
    }

    /**
     * A reload that changes the static engine's settings or the content cache's builds them anew: their counters since
     * start (content cache hits and misses, the engine's reads and sendfile regions) fell back to 0 on the status page
     * and in Prometheus, which takes a counter that goes down for a restart. They go on, as a FastCGI group's do.
     */
    @Test
    void staticAndContentCacheCountersSinceStartSurviveAReloadThatRebuildsThem() throws Exception {
        siteA();
        Path conf = dir.resolve("edge.conf");
        String config = """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off }
                  static.read-timeout = %d s
                  cache.content { max-bytes = %d MiB, revalidate = 60 s } # no check due meanwhile: a hit is a hit
                  sites = [{ server-names = ["_"], default = true, root = "a", locations = [
                    { match = "= /status", status = true }
                    { match = "/" }
                  ]}]
                }
                """;
        Files.writeString(conf, config.formatted(0, 30, 64));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                for (int i = 0; i < 3; i++) { // a miss, a miss that copies it in, a hit
                    assertThat(EdgeProcess.get(http, port, "/x.txt")).isEqualTo("site a");
                }
                List<String> before = staticCounters(EdgeProcess.get(http, port, "/status?format=prometheus"));
                assertThat(before).contains("edge_content_cache_hits_total 1", "edge_content_cache_misses_total 2");
                assertThat(before).anyMatch(line -> line.startsWith("edge_static_") && !line.endsWith(" 0"));
                Files.writeString(conf, config.formatted(0, 20, 32));
                reload(edge, 2);
                assertThat(staticCounters(EdgeProcess.get(http, port, "/status?format=prometheus")))
                        .as("no static request since: the same counts").isEqualTo(before);
                assertThat(EdgeProcess.get(http, port, "/status")).contains("content cache: hits=1 misses=2 ");
                // and what the content cache held went on to the new one: a hit, not the disk again
                assertThat(EdgeProcess.get(http, port, "/x.txt")).isEqualTo("site a");
                assertThat(EdgeProcess.get(http, port, "/status")).contains("content cache: hits=2 misses=2 ");
            });
        }
    }

    /**
     * The same for the response cache: a reload that changes cache.responses builds a new one, and its counters since
     * start (hits, misses, coalesced...) fell back to 0.
     */
    @Test
    void responseCacheCountersSinceStartSurviveAReloadThatRebuildsIt() throws Exception {
        Files.writeString(siteA().resolve("x.php"), "<?php echo 1;\n");
        Path conf = dir.resolve("edge.conf");
        Path nobody = dir.resolve("nobody-listens.sock");
        Files.writeString(conf, cachedPhp(0, nobody, "max-bytes = 64 MiB"));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/x.php")).build();
                assertThat(http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(503);
                String counted = "edge_response_cache_misses_total 1\n"; // looked up, then waited for nobody
                assertThat(EdgeProcess.get(http, port, "/status?format=prometheus")).contains(counted);
                Files.writeString(conf, cachedPhp(0, nobody, "max-bytes = 32 MiB"));
                reload(edge, 2);
                assertThat(EdgeProcess.get(http, port, "/status?format=prometheus")).contains(counted);
                assertThat(EdgeProcess.get(http, port, "/status")).contains("response cache: hits=0 misses=1 ");
            });
        }
    }

    /**
     * A reload that changes cache.responses keeps what it stores, as nginx's cache outlives a reload: raising the grace
     * to ride out a PHP outage emptied it, the very copies the grace was for with it, and the next request got 503.
     */
    @Test
    void aReloadThatChangesTheResponseCacheKeepsWhatItStores() throws Exception {
        Files.writeString(siteA().resolve("page.php"), "<?php header('Cache-Control: max-age=1'); echo uniqid();\n");
        Path conf = dir.resolve("edge.conf");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n")) {
            Files.writeString(conf, cachedPhp(0, Path.of(fpm.address().substring("unix:".length())),
                    "stale-grace = 0 s"));
            try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
                edge.verify(() -> {
                    int port = edge.awaitBoundPort();
                    HttpClient http = HttpClient.newHttpClient();
                    String stored = EdgeProcess.get(http, port, "/page.php");
                    assertThat(EdgeProcess.get(http, port, "/page.php")).as("a hit").isEqualTo(stored);
                    // PHP goes away (the group now names a socket nobody listens on), and the grace is raised for it
                    Files.writeString(conf, cachedPhp(0, dir.resolve("nobody-listens.sock"), "stale-grace = 1 h"));
                    reload(edge, 2);
                    Awaits.await(() -> {
                        HttpResponse<String> stale = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/page.php")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(stale.statusCode()).as("the stored copy, in the grace").isEqualTo(200);
                        assertThat(stale.body()).isEqualTo(stored);
                        return stale.headers().firstValue("age").map(Integer::parseInt).orElse(0) >= 2;
                    }, "the stored copy to be past its max-age");
                });
            }
        }
    }

    /**
     * A configuration of site "a" on {@code port}: its PHP scripts through the group php at {@code socket}, their
     * answers cached under {@code cacheResponses} (the edge.cache.responses settings), and a status page.
     */
    private static String cachedPhp(int port, Path socket, String cacheResponses) {
        return """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off }
                  fastcgi.backends.php { addresses = ["unix:%s"], queue.timeout = 300 ms }
                  cache.responses { %s }
                  sites = [{ server-names = ["_"], default = true, root = "a", locations = [
                    { match = "= /status", status = true }
                    { match = "~ \\\\.php$", fastcgi = php, cache = true }
                  ]}]
                }
                """.formatted(port, socket, cacheResponses);
    }

    /** The static engine's and the content cache's counter samples ({@code _total}) of a Prometheus page. */
    private static List<String> staticCounters(String page) {
        return page.lines().filter(line -> (line.startsWith("edge_static_") || line.startsWith("edge_content_cache_"))
                && line.contains("_total")).toList();
    }

    /**
     * Directory "a" with x.txt ("site a"), modified an hour ago: a file modified within a cache's revalidation period
     * is neither trusted nor kept (it may be being written still).
     */
    private Path siteA() throws IOException {
        Path root = Files.createDirectories(dir.resolve("a"));
        Path file = Files.writeString(root.resolve("x.txt"), "site a");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        return root;
    }

    /** Site "a", static files only. */
    private static String staticSite(int port) {
        return """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off }
                  sites = [{ server-names = ["_"], default = true, root = "a" }]
                }
                """.formatted(port);
    }

    private static String config(int port, String root, int workers) {
        return """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off, run-dir = "run", timeouts.drain = 60 s }
                  fastcgi.backends.php.spawn { enabled = true, workers = %d }
                  fastcgi.backends.php.queue { max-waiters = 10, timeout = 60 s }
                  sites = [{ server-names = ["_"], default = true, root = "%s", locations = [
                    { match = "= /status", status = true }
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "/" }
                  ]}]
                }
                """.formatted(port, workers, root);
    }

    /** Sends SIGHUP and waits (bounded) until generation {@code generation} serves. */
    private static void reload(EdgeProcess edge, int generation) throws Exception {
        edge.signal("HUP");
        edge.awaitOutput("(generation " + generation + ")");
    }

    /**
     * As {@link #reload}, but a reload that fails fails at once, with edge's word why (its lines from the signal on):
     * for {@link EdgeProcess#onFreePorts}, which tries again on another port when the one a reload adds was in use.
     */
    private static void reloadOrFail(EdgeProcess edge, int generation) throws Exception {
        int before = edge.output().length();
        edge.signal("HUP");
        String since = Awaits.until(() -> edge.output().substring(before), lines -> lines.contains("(generation "
                + generation + ")") || lines.contains("reload failed"), "reload to generation " + generation);
        if (!since.contains("(generation " + generation + ")")) {
            throw new AssertionError("the reload to generation " + generation + " failed:\n" + since);
        }
    }

    /** One GET on an open connection, kept alive; the body of its 200 answer. */
    private static String getOn(Socket socket, String target) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        return new String(in.readNBytes(EdgeProcess.readHead(in)), StandardCharsets.UTF_8);
    }

    private static long parentOf(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("PPid:")) {
                return Long.parseLong(line.substring(5).strip());
            }
        }
        throw new IOException("no PPid for " + pid);
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
