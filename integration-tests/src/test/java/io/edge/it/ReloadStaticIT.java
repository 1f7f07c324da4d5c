package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload ({@code Edge.reload}, what SIGHUP runs) in this JVM: a download running on the previous file engine
 * ends whole, while new requests go to the new engine and root; a reload whose parts fail to start changes nothing.
 */
class ReloadStaticIT {

    private static final int BIG = 32 << 20; // well past what loopback socket buffers hold

    @TempDir
    Path dir;

    @Test
    void aDownloadRunningOnThePreviousEngineEndsWholeWhileNewRequestsUseTheNewOne() throws Exception {
        Path a = site("a");
        Path b = site("b");
        byte[] big = new byte[BIG];
        new Random(7).nextBytes(big);
        Files.write(a.resolve("big.bin"), big);
        String before = site(a, "threads");
        try (EdgeHarness edge = EdgeHarness.start(dir, before); Socket client = new Socket("127.0.0.1", edge.address().getPort())) {
            HttpClient http = HttpClient.newHttpClient();
            assertThat(body(http, edge, "/status")).contains("engine=threads");
            Download download = Download.start(client); // the rest waits in edge, on the threads engine

            edge.reload(site(b, "sendfile"));
            assertThat(body(http, edge, "/x.txt")).isEqualTo("site b");
            assertThat(body(http, edge, "/status")).contains("engine=sendfile");

            assertThat(download.rest()).as("the download that began before the reload").isEqualTo(big);
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            out.write("GET /x.txt HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(new String(in.readNBytes(EdgeProcess.readHead(in)), StandardCharsets.UTF_8))
                    .as("the same connection's next request").isEqualTo("site b");
        }
    }

    /**
     * A download still running when the drain timeout after an engine-changing reload is over ends whole, as an nginx
     * worker that was told to quit finishes its downloads: the previous configuration's file engine stays open until
     * its last exchange ended (its other parts close at the timeout). It was closed with them, and every download past
     * the timeout was cut ("file engine closed"); a reload that changes static.* is what the README's tuning advice
     * leads to.
     */
    @Test
    void aDownloadOutlivingTheDrainTimeoutOfAnEngineChangingReloadEndsWhole() throws Exception {
        Path a = site("a");
        byte[] big = new byte[BIG];
        new Random(8).nextBytes(big);
        Files.write(a.resolve("big.bin"), big);
        // out of the page cache (clean pages dropped): what follows is read through the engine's ring, not sent from
        // resident pages by sendfile
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(a.resolve("big.bin"))) {
            channel.force(true);
        }
        Process dd = new ProcessBuilder("dd", "if=" + a.resolve("big.bin"), "iflag=nocache", "count=0", "status=none")
                .inheritIO().start();
        assertThat(dd.waitFor()).isZero();
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "io.edge.core.Edge");
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>(); // written by edge's threads
        ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core
                .AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent event) {
                lines.add(event.getFormattedMessage());
            }
        };
        logged.start();
        log.addAppender(logged);
        String drain = "server.timeouts.drain = 1 s\n";
        try (EdgeHarness edge = EdgeHarness.start(dir, site(a, "io_uring") + drain);
             Socket client = new Socket("127.0.0.1", edge.address().getPort())) {
            Download download = Download.start(client); // the rest waits in edge, on the io_uring engine

            edge.reload(site(a, "threads") + drain);
            Awaits.until(() -> lines, seen -> seen.stream().anyMatch(line ->
                    line.contains("still running after the drain timeout")), "the drain timeout");

            assertThat(download.rest()).as("the download that outlived the drain timeout").isEqualTo(big);
            Awaits.until(() -> lines, seen -> seen.stream().anyMatch(line ->
                    line.contains("last exchange ended; its files closed")),
                    "the previous engine closed once the download ended");
        } finally {
            log.detachAppender(logged);
        }
    }

    @Test
    void aReloadWhosePhpFpmDoesNotStartChangesNothing() throws Exception {
        Path a = site("a");
        Path b = site("b");
        try (EdgeHarness edge = EdgeHarness.start(dir, site(a, "threads"))) {
            HttpClient http = HttpClient.newHttpClient();
            String failing = site(b, "sendfile") + """
                    fastcgi.backends.php.spawn { enabled = true, command = "/bin/false" }
                    """;
            assertThatThrownBy(() -> edge.reload(failing)).hasMessageContaining("php-fpm");
            assertThat(body(http, edge, "/x.txt")).isEqualTo("site a");
            assertThat(body(http, edge, "/status")).contains("engine=threads").doesNotContain("fastcgi group");
        }
    }

    @Test
    void aReloadWhoseAccessLogCannotBeOpenedChangesNothing() throws Exception {
        Path a = site("a");
        Path b = site("b");
        // the port a reload adds, picked before it binds: another where it was in use by then (at either reload)
        EdgeProcess.onFreePorts(1, ports -> {
            int otherPort = ports[0];
            try (EdgeHarness edge = EdgeHarness.start(dir, site(a, "threads"))) {
                HttpClient http = HttpClient.newHttpClient();
                List<String> asked = new ArrayList<>();
                String next = site(b, "sendfile") + "server.access-log = \"" + dir.resolve("access.log") + "\"\n"
                        + "server.listen = [\"127.0.0.1:0\", \"127.0.0.1:" + otherPort + "\"]\n"; // :0 as started: kept
                Throwable refused = catchThrowable(() -> edge.reload(next, (enabled, file) -> {
                    asked.add(enabled + " " + file);
                    throw new IOException("edge.server.access-log: cannot open " + file + " for appending");
                }));
                if (refused instanceof BindException inUse) {
                    throw inUse; // otherPort in use by now: onFreePorts picks another
                }
                assertThat(refused).hasMessageContaining("cannot open");
                assertThat(asked).containsExactly("true " + dir.resolve("access.log"));
                assertThat(body(http, edge, "/x.txt")).isEqualTo("site a");
                assertThat(body(http, edge, "/status")).contains("engine=threads");
                assertThat(accepts(otherPort)).as("the listener bound for the failed reload, closed again").isFalse();

                edge.reload(next, (enabled, file) -> asked.add(enabled + " " + file));
                assertThat(body(http, edge, "/x.txt")).isEqualTo("site b");
                assertThat(accepts(otherPort)).isTrue();
                edge.reload(next, (enabled, file) -> asked.add(enabled + " " + file));
                assertThat(asked).as("an unchanged access log is left alone").hasSize(2);
            }
            return null;
        });
    }

    /**
     * Each configuration's static path holds its roots open; a reload's retired configuration lets them go. Every
     * reload left one more descriptor of the root open for good (and the old responder, engine and caches in the heap).
     */
    @Test
    void aReloadLetsTheRootsOfTheRetiredConfigurationGo() throws Exception {
        Path a = site("a");
        try (EdgeHarness edge = EdgeHarness.start(dir, site(a, "threads"))) {
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < 5; i++) {
                assertThat(body(http, edge, "/x.txt")).isEqualTo("site a");
                edge.reload(site(a, "threads"));
            }
            assertThat(body(http, edge, "/x.txt")).isEqualTo("site a");
            // the retired ones close off the request path, once their last answer is out
            long open = Awaits.until(() -> descriptorsOf(a), held -> held <= 1,
                    "the retired configurations' roots let go");
            assertThat(open).as("descriptors of the root held").isEqualTo(1);
        }
    }

    /** This process's descriptors open on {@code path} itself. */
    private static long descriptorsOf(Path path) throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(path.toRealPath());
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            return socket.isConnected();
        } catch (IOException refused) {
            return false;
        }
    }

    /**
     * A reload reads its file before it takes the server's lock: one whose include takes its time (a URL that takes
     * the connection and never answers, until the read times out) held up a stop, which then applied that reload
     * before it stopped; SIGTERM did nothing meanwhile.
     */
    @Test
    void aStopDoesNotWaitForAReloadStillReadingItsFile() throws Exception {
        String config = site(site("a"), "threads");
        EdgeHarness edge = EdgeHarness.start(dir, config);
        CompletableFuture<Void> reload;
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            silent.setSoTimeout(60_000); // a reload that never came this far fails the test, not hangs it
            String include = "include url(\"http://127.0.0.1:" + silent.getLocalPort() + "/more.conf\")\n";
            reload = CompletableFuture.runAsync(() -> {
                try {
                    edge.reload(include + config);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            Socket reading = silent.accept(); // the reload is reading its include
            try {
                edge.close();
                assertThat(reload).as("still reading its include when the stop returned").isNotDone();
            } finally {
                reading.close();
            }
        }
        // its include cut off (and refused from then on): the reload fails, and would not apply to a stopped edge
        assertThatThrownBy(reload::join).isInstanceOf(CompletionException.class);
    }

    /**
     * A reload whose file a stop overtook while it was read is not applied, and the temporary run directory that
     * file's {@code run-dir = ""} made (the server had none) is deleted: the stop, which deletes the server's own, never
     * knew of it.
     */
    @Test
    void aReloadOvertakenByAStopLeavesNoTemporaryRunDirectory() throws Exception {
        Path a = site("a");
        String config = "server.run-dir = \"" + Files.createDirectories(dir.resolve("run")) + "\"\n" + site(a, "threads");
        EdgeHarness edge = EdgeHarness.start(dir, config);
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        HttpServer include = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        include.createContext("/", exchange -> {
            reading.countDown();
            try {
                stopped.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "# nothing more\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        ExecutorService answering = Executors.newCachedThreadPool(); // the reads Typesafe makes of one include
        include.setExecutor(answering);
        include.start();
        Set<Path> before = temporaryRunDirs();
        try {
            String spawning = "include url(\"http://127.0.0.1:" + include.getAddress().getPort() + "/more.conf\")\n"
                    + site(a, "threads") + "server.run-dir = \"\"\nfastcgi.backends.php.spawn.enabled = true\n";
            CompletableFuture<Void> reload = CompletableFuture.runAsync(() -> {
                try {
                    edge.reload(spawning);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            assertThat(reading.await(60, TimeUnit.SECONDS)).as("the reload reads its include").isTrue();
            edge.close();
            stopped.countDown();
            assertThatThrownBy(reload::join).hasCauseInstanceOf(IllegalStateException.class);
            assertThat(temporaryRunDirs()).isEqualTo(before);
        } finally {
            stopped.countDown();
            include.stop(0);
            answering.shutdownNow();
        }
    }

    /**
     * The temporary run directories under java.io.tmpdir ({@code edge-*}) of this JVM's edges: those whose marker names
     * this process. Other processes' come and go meanwhile (another build's tests on the machine, whose edges share
     * {@code /tmp}) and are none of the test's.
     */
    private static Set<Path> temporaryRunDirs() throws IOException {
        String ours = ProcessHandle.current().pid() + " ";
        try (var entries = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return entries.filter(p -> p.getFileName().toString().startsWith("edge-") && Files.isDirectory(p)
                    && markedBy(p, ours)).collect(Collectors.toSet());
        }
    }

    /** Whether {@code dir}'s marker ({@code edge.pid}: pid, start time, namespace) begins with {@code pidAndSpace}. */
    private static boolean markedBy(Path dir, String pidAndSpace) {
        try {
            return Files.readString(dir.resolve("edge.pid"), StandardCharsets.US_ASCII).startsWith(pidAndSpace);
        } catch (IOException noMarker) { // another user's, one being made or removed: not this JVM's
            return false;
        }
    }

    /** Directory {@code name} with x.txt ("site <name>"). */
    /** {@code GET /big.bin} on {@code client}, its head and first 64 KiB read; the rest waits in edge. */
    private record Download(InputStream in, byte[] received, int first) {

        static Download start(Socket client) throws IOException {
            OutputStream out = client.getOutputStream();
            out.write("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = client.getInputStream();
            int length = EdgeProcess.readHead(in);
            assertThat(length).isEqualTo(BIG);
            byte[] received = new byte[length];
            return new Download(in, received, in.readNBytes(received, 0, 64 * 1024));
        }

        /** The whole body, once the rest of it came (as many bytes as its head said). */
        byte[] rest() throws IOException {
            int rest = in.readNBytes(received, first, received.length - first);
            assertThat(first + rest).as("bytes of the body").isEqualTo(received.length);
            return received;
        }
    }

    private Path site(String name) throws IOException {
        Path root = Files.createDirectories(dir.resolve(name));
        Files.writeString(root.resolve("x.txt"), "site " + name);
        return root;
    }

    private static String site(Path root, String engine) {
        return """
                static.engine = %s
                sites = [{ server-names = ["_"], default = true, root = "%s", locations = [
                  { match = "= /status", status = true }
                  { match = "/" }
                ]}]
                """.formatted(engine, root);
    }

    private static String body(HttpClient http, EdgeHarness edge, String target) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(edge.uri(target)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(target).isEqualTo(200);
        return response.body();
    }
}
