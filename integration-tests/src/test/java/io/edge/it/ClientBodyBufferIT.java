package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.edge.core.fastcgi.FastCgiResponder;
import io.edge.core.fastcgi.SpooledBody;
import io.edge.core.http.CapturedLog;
import io.edge.core.proxy.ProxyResponder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A location's client-body-buffer-size and server.client-body-temp-path, as nginx's client_body_buffer_size and
 * client_body_temp_path: a body no longer than the size reaches the script (or the proxied backend) from memory, a
 * longer one through an unlinked file in the temp path, every byte of either. Where a body is, is seen without a clock:
 * edge runs in this JVM, so while the script (or the backend) holds the request, its body whole and kept by edge until
 * the answer, /proc/self/fd shows whether edge holds a deleted file in the temp path.
 */
class ClientBodyBufferIT {

    /** The size the tests set: nginx's default on x86-64, 16k. */
    private static final int SIZE = 16 * 1024;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;
    private Path bodies;
    private final Logger spoolLog = (Logger) LoggerFactory.getLogger(SpooledBody.class);
    private final CapturedLog spooled = CapturedLog.of(SpooledBody.class);

    @BeforeEach
    void tempPath() throws IOException {
        bodies = Files.createDirectory(dir.resolve("bodies"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        spoolLog.setLevel(Level.DEBUG); // nginx's "a client request body is buffered to a temporary file"
    }

    @AfterEach
    void stopCapturing() {
        spoolLog.setLevel(null);
        spooled.close();
    }

    /** The deleted files edge holds open in {@code tempPath}: spooled bodies. */
    private static long spoolFilesIn(Path tempPath) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) { // closed meanwhile (the listing's own descriptor among them)
                    return "";
                }
            }).filter(target -> target.startsWith(tempPath + "/") && target.endsWith(" (deleted)")).count();
        }
    }

    /** {@code size} bytes of a pattern no shift of itself matches at a buffer's boundary. */
    static byte[] pattern(int size) {
        byte[] body = new byte[size];
        for (int i = 0; i < size; i++) {
            body[i] = (byte) (i * 31 + (i >>> 11));
        }
        return body;
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    private CompletableFuture<HttpResponse<String>> post(EdgeHarness edge, String target, byte[] body) {
        return HTTP.sendAsync(HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** What a backend answers for a request's body. */
    private interface Answer {
        String to(byte[] body) throws Exception;
    }

    /** The JDK's server answering each request, its body read whole, with {@code answer}. */
    private static JdkBackend answering(Answer answer) throws IOException {
        return JdkBackend.start(exchange -> {
            byte[] told;
            try (InputStream in = exchange.getRequestBody()) {
                told = answer.to(in.readAllBytes()).getBytes(StandardCharsets.UTF_8);
            } catch (Exception e) {
                throw new IOException(e);
            }
            exchange.sendResponseHeaders(200, told.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(told);
            }
        });
    }

    /** The debug lines of bodies that went to a file, by their length. */
    private boolean saidBuffered(int length) {
        return spooled.lines().stream().anyMatch(line -> line.contains("a client request body is buffered to a "
                + "temporary file in " + bodies + ": " + length + " bytes"));
    }

    @Test
    void phpGetsEveryBodyWholeAndOnlyOneLongerThanTheSizeWentToTheTempPath() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        // holds the request, the body read, until the test says go: edge keeps the body until the answer
        Files.writeString(www.resolve("body.php"), """
                <?php
                $body = file_get_contents('php://input');
                $n = $_GET['n'];
                touch('%1$s/read-' . $n);
                for ($i = 0; $i < 6000 && !file_exists('%1$s/go-' . $n); $i++) { usleep(10000); }
                header('Content-Type: text/plain');
                echo strlen($body), ' ', md5($body);
                """.formatted(dir));
        PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2");
        EdgeHarness edge = null;
        try {
            edge = EdgeHarness.start(dir, """
                    server { run-dir = "%s", client-body-temp-path = "%s" }
                    sites = [{ server-names = ["_"], default = true, root = "www",
                      locations = [{ match = "/", fastcgi = php, client-body-buffer-size = 16k }] }]
                    fastcgi.backends.php { addresses = ["%s"] }
                    """.formatted(Files.createDirectories(dir.resolve("run")), bodies, fpm.address()));
            for (int size : new int[] {SIZE - 1, SIZE, SIZE + 1, 1 << 20}) {
                byte[] body = pattern(size);
                CompletableFuture<HttpResponse<String>> answer = post(edge, "/body.php?n=" + size, body);
                await(() -> Files.exists(dir.resolve("read-" + size)), "the script read " + size + " bytes");
                assertThat(spoolFilesIn(bodies)).as("files in the temp path for a body of %d", size)
                        .isEqualTo(size > SIZE ? 1 : 0);
                Files.createFile(dir.resolve("go-" + size));
                HttpResponse<String> response = answer.get();
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo(size + " " + md5(body));
                assertThat(saidBuffered(size)).as("said it buffered %d bytes to a file", size).isEqualTo(size > SIZE);
                // closed by the file task that follows the answer, which the client may have before it ran
                await(() -> spoolFilesIn(bodies) == 0, "the file of the body of " + size + " closed with its request");
            }
            assertThat(spoolFilesIn(dir.resolve("run"))).as("nothing in the run-dir").isZero();
        } finally {
            EdgeHarness.close(edge, fpm);
        }
    }

    /**
     * The same for a proxied location's buffered bodies, the size set under location-defaults; a reload that names
     * another temp path and size spools the next bodies there.
     */
    @Test
    void aProxiedBodyTheSameUnderLocationDefaultsAndAReloadsPathAtOnce() throws Exception {
        Path other = Files.createDirectory(dir.resolve("other"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // how many bodies edge holds in either temp path while the backend has the request
        JdkBackend backend = answering(body -> body.length + " " + md5(body) + " files=" + spoolFilesIn(bodies)
                + "," + spoolFilesIn(other));
        String conf = """
                server.client-body-temp-path = "%s"
                location-defaults.client-body-buffer-size = %d
                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                  { match = "/", proxy = app }
                  { match = "/streamed/", proxy = app, proxy-request-buffering = false }
                ] }]
                proxy.backends.app { addresses = ["%s"] }
                """;
        EdgeHarness edge = null;
        try {
            edge = EdgeHarness.start(dir, conf.formatted(bodies, SIZE, backend.address()));
            for (int size : new int[] {SIZE - 1, SIZE, SIZE + 1, 1 << 20}) {
                byte[] body = pattern(size);
                HttpResponse<String> response = post(edge, "/up", body).get();
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo(size + " " + md5(body) + " files=" + (size > SIZE ? 1 : 0)
                        + ",0");
                assertThat(saidBuffered(size)).as("said it buffered %d bytes to a file", size).isEqualTo(size > SIZE);
            }
            byte[] streamed = pattern(SIZE + 1);
            assertThat(post(edge, "/streamed/up", streamed).get().body()).as("proxy-request-buffering = false: no file")
                    .isEqualTo(SIZE + 1 + " " + md5(streamed) + " files=0,0");

            edge.reload(conf.formatted(other, 2 * SIZE, backend.address()));
            for (int size : new int[] {2 * SIZE, 2 * SIZE + 1}) {
                byte[] body = pattern(size);
                assertThat(post(edge, "/up", body).get().body()).as("after the reload")
                        .isEqualTo(size + " " + md5(body) + " files=0," + (size > 2 * SIZE ? 1 : 0));
            }
        } finally {
            EdgeHarness.close(edge, backend);
        }
    }

    /**
     * A temp path not there yet is made by the start, 0700 and edge's, as nginx makes its client_body_temp_path (its
     * last directory, at nginx -t too): bodies longer than the size go there. It was a problem of the key ("does not
     * exist").
     */
    @Test
    void aTempPathNotThereYetIsMadeAtStart() throws Exception {
        Path made = dir.resolve("made");
        JdkBackend backend = answering(body -> body.length + " files=" + spoolFilesIn(made));
        EdgeHarness edge = null;
        try {
            edge = EdgeHarness.start(dir, """
                    server.client-body-temp-path = "%s"
                    location-defaults.client-body-buffer-size = 16k
                    sites = [{ server-names = ["_"], default = true, root = ".",
                      locations = [{ match = "/", proxy = app }] }]
                    proxy.backends.app { addresses = ["%s"] }
                    """.formatted(made, backend.address()));
            assertThat(Files.getPosixFilePermissions(made)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
            assertThat(post(edge, "/up", pattern(SIZE + 1)).get().body()).isEqualTo(SIZE + 1 + " files=1");
        } finally {
            EdgeHarness.close(edge, backend);
        }
    }

    /**
     * A temp path that goes away while edge runs (a cleaner, an unmounted disk) fails the requests whose bodies need
     * it at once, 500 and a warning naming it, as nginx's "open() ... failed (2: No such file or directory)"; bodies
     * that fit in memory go on as before.
     */
    @Test
    void aTempPathGoneAtRunTimeIs500AndAWarningForTheBodiesThatNeedIt() throws Exception {
        JdkBackend backend = answering(body -> Integer.toString(body.length));
        PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2");
        Files.writeString(Files.createDirectories(dir.resolve("www")).resolve("length.php"),
                "<?php echo strlen(file_get_contents('php://input'));");
        EdgeHarness edge = null;
        try (CapturedLog php = CapturedLog.of(FastCgiResponder.class);
                CapturedLog proxied = CapturedLog.of(ProxyResponder.class)) {
            edge = EdgeHarness.start(dir, """
                    server.client-body-temp-path = "%s"
                    location-defaults.client-body-buffer-size = 16k
                    sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                      { match = "/", fastcgi = php }
                      { match = "/proxied/", proxy = app }
                    ] }]
                    fastcgi.backends.php { addresses = ["%s"] }
                    proxy.backends.app { addresses = ["%s"] }
                    """.formatted(bodies, fpm.address(), backend.address()));
            Files.delete(bodies);
            for (String target : new String[] {"/length.php", "/proxied/up"}) {
                assertThat(post(edge, target, pattern(SIZE)).get().body()).as(target).isEqualTo(Integer.toString(SIZE));
                assertThat(post(edge, target, pattern(SIZE + 1)).get().statusCode()).as(target).isEqualTo(500);
            }
            assertThat(php.warnings()).anyMatch(line -> line.contains("request body of POST /length.php could not be "
                    + "spooled to " + bodies));
            assertThat(proxied.warnings()).anyMatch(line -> line.contains("request body of POST /proxied/up could "
                    + "not be spooled to " + bodies));
        } finally {
            try {
                EdgeHarness.close(edge, fpm);
            } finally {
                backend.close();
            }
        }
    }
}
