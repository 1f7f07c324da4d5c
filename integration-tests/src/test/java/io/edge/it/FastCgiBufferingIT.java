package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.fastcgi.SpoolFiles;
import io.edge.core.http.CapturedLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Response buffering against a real php-fpm (nginx's fastcgi_buffering): clients that read nothing do not keep PHP
 * workers busy. As many clients as workers ask for a response far larger than any socket buffer and do not read; the
 * scripts still run to their end (each writes a file as its last act), another request then gets its 200, and the
 * slow clients, reading at last, get every byte.
 */
class FastCgiBufferingIT {

    private static final int WORKERS = 4;
    /** 16-byte lines: 16 MiB per response, far past the sockets' buffers on the way. */
    private static final int LINES = 1 << 20;

    /** Prints ?lines= 16-byte lines with their Content-Length, then writes DONE/<id> as its last act. */
    private static final String LINES_SCRIPT = """
            <?php
            $n = (int) $_GET['lines'];
            header('Content-Type: text/plain');
            header('Content-Length: ' . ($n * 16));
            for ($i = 0; $i < $n; $i += 4096) {
                $s = '';
                for ($j = $i; $j < min($n, $i + 4096); $j++) { $s .= sprintf("%015d\\n", $j); }
                echo $s;
                flush();
            }
            file_put_contents('DONE/' . basename($_GET['id']), 'done');
            """;

    @TempDir
    Path dir;

    @Test
    void clientsThatDoNotReadHoldNoWorkerAndGetTheWholeResponseWhenTheyDo() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path done = Files.createDirectories(dir.resolve("done"));
        Files.writeString(www.resolve("lines.php"), LINES_SCRIPT.replace("DONE", done.toString()));
        Files.writeString(www.resolve("info.php"), "<?php echo 'workers free';");
        Path run = dir.resolve("run");
        PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = %d
                listen.backlog = 8
                """.formatted(WORKERS));
        EdgeHarness edge = null;
        List<Socket> slow = new ArrayList<>();
        try {
            edge = EdgeHarness.start(dir, """
                    server.run-dir = "%s"
                    sites = [{ server-names = ["_"], default = true, root = "www",
                               locations = [{ match = "/", fastcgi = php }] }]
                    fastcgi.backends.php {
                      addresses = ["%s"]
                      max-connections = %d
                      queue { max-waiters = 100, timeout = 60 s }
                    }
                    """.formatted(run, fpm.address(), WORKERS));
            for (int i = 0; i < WORKERS; i++) {
                Socket socket = new Socket();
                socket.setReceiveBufferSize(4096); // before the connect: a small window the client never drains
                socket.connect(edge.address());
                socket.getOutputStream().write(("GET /lines.php?lines=" + LINES + "&id=" + i
                        + " HTTP/1.1\r\nHost: buffering\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                slow.add(socket);
            }
            // Every script runs to its end though nobody reads: edge takes the responses as fast as PHP writes them.
            // (Before buffering, each worker waited for its client: no script got past the sockets' buffers.)
            Awaits.await(() -> countFiles(done) == WORKERS, "every script ended while its client read nothing");

            HttpResponse<String> other = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(HttpRequest.newBuilder(edge.uri("/info.php")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(200);
            assertThat(other.body()).isEqualTo("workers free");

            assertThat(spoolFilesOpen(run)).as("responses held in spool files").isPositive();

            byte[] expected = expectedLines();
            for (Socket socket : slow) {
                InputStream in = socket.getInputStream();
                String head = readHead(in);
                assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + expected.length);
                assertThat(in.readNBytes(expected.length)).as("the whole body, byte for byte").isEqualTo(expected);
            }
            // Every spool file is closed (they were unlinked as they were made) once the responses are sent.
            Awaits.await(() -> spoolFilesOpen(run) == 0, "every spool file closed");
        } finally {
            for (Socket socket : slow) {
                socket.close();
            }
            EdgeHarness.close(edge, fpm);
        }
    }

    /**
     * A run-dir that cannot take the spool file (here gone after the start; a full or read-only tmpfs fails the same
     * way): the response goes on without it, held in memory and paced by the client as before buffering, and the slow
     * client gets every byte. It was cut: a 200 head, then the connection closed after what fitted in memory.
     */
    @Test
    void aRunDirThatCannotTakeTheSpoolFileStillGivesTheSlowClientEverything() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path done = Files.createDirectories(dir.resolve("done"));
        Files.writeString(www.resolve("lines.php"), LINES_SCRIPT.replace("DONE", done.toString()));
        Path run = dir.resolve("run");
        PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 1
                """);
        CapturedLog lines = CapturedLog.of("io.edge.core.fastcgi.FastCgiResponder");
        EdgeHarness edge = null;
        try {
            edge = EdgeHarness.start(dir, """
                    server.run-dir = "%s"
                    sites = [{ server-names = ["_"], default = true, root = "www",
                               locations = [{ match = "/", fastcgi = php }] }]
                    fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                    """.formatted(run, fpm.address()));
            try (Stream<Path> left = Files.list(run)) {
                assertThat(left).as("nothing of edge's in the run-dir (php-fpm runs apart)").isEmpty();
            }
            Files.delete(run);
            try (Socket socket = new Socket()) {
                socket.setReceiveBufferSize(4096); // before the connect: a small window, drained only later
                socket.connect(edge.address());
                socket.getOutputStream().write(("GET /lines.php?lines=" + LINES + "&id=0"
                        + " HTTP/1.1\r\nHost: buffering\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                Awaits.await(() -> !lines.warnings().isEmpty(), "a warning");
                assertThat(lines.warnings()).as("the spool file failed").singleElement().asString()
                        .contains("/lines.php", "goes on without it");
                // Memory is bounded and the backend waits for the client: 16 MiB cannot have gone anywhere yet.
                assertThat(countFiles(done)).as("scripts ended before their client read").isZero();

                byte[] expected = expectedLines();
                InputStream in = socket.getInputStream();
                String head = readHead(in);
                assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + expected.length);
                byte[] body = in.readNBytes(expected.length);
                assertThat(body.length).as("body bytes before the connection ended").isEqualTo(expected.length);
                assertThat(Arrays.equals(body, expected)).as("the whole body, byte for byte").isTrue();
                assertThat(in.read()).as("then the close asked for").isEqualTo(-1);
            }
            Awaits.await(() -> countFiles(done) == 1, "the script ran to its end");
            assertThat(lines.warnings()).as("one warning for the response").hasSize(1);
        } finally {
            lines.close();
            EdgeHarness.close(edge, fpm);
        }
    }

    private static byte[] expectedLines() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(LINES * 16);
        for (int j = 0; j < LINES; j++) {
            out.writeBytes(String.format("%015d\n", j).getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    /** An answer's head, up to and with the empty line that ends it. */
    static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.append((char) c);
        }
        return head.toString();
    }

    private static long countFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.count();
        }
    }

    /** Descriptors of this process (edge runs in it) on deleted response spool files in {@code run}. */
    private static long spoolFilesOpen(Path run) throws IOException {
        return SpoolFiles.open(run.toRealPath() + "/edge-response-");
    }
}
