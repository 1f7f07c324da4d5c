package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.Inflater;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script that streams (Server-Sent Events, a long job's progress) against a real php-fpm, as behind nginx with the
 * script's {@code X-Accel-Buffering: no}: each piece it flushes reaches the client before the script makes the next
 * (the script waits for the test to let it go on, so a piece held back fails the client's read, not a clock), plain
 * and gzip-compressed (HTTP/1.1, chunked), in a location with the response cache and in a paced one; the header never
 * reaches the client, and such an answer is not stored (with {@code yes}, it is, as any), nor held in a spool file for
 * a slow client: the script waits for it, and one that stalls for good is reset at the write timeout, which stops the
 * script. A group's {@code response-buffer.enabled = false} (nginx's fastcgi_buffering off) takes every answer so.
 */
class UnbufferedAnswerIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    /**
     * Three events; the second and third only once the test made GATES/go-<id>-<n>. Storable by its Cache-Control, so
     * only X-Accel-Buffering (?buffering=) keeps it out of the cache; each run adds its id to RUNS.
     */
    private static final String EVENTS = """
            <?php
            while (ob_get_level() > 0) { ob_end_flush(); }
            header('Content-Type: text/event-stream');
            header('Cache-Control: public, max-age=60');
            if (isset($_GET['buffering'])) { header('X-Accel-Buffering: ' . $_GET['buffering']); }
            file_put_contents('RUNS', $_GET['id'] . "\\n", FILE_APPEND);
            $go = 'GATES/go-' . basename($_GET['id']) . '-';
            for ($i = 0; $i < 3; $i++) {
                for ($t = 0; $i > 0 && $t < 3000 && !file_exists($go . $i); $t++) { usleep(10000); }
                echo "data: piece $i\\n\\n";
                flush();
            }
            """;

    /**
     * 16 MiB unbuffered, 64 KiB a flush, far past what the sockets on the way and the response buffer's memory hold;
     * MARKS/<id>.sent says how much it wrote so far, MARKS/<id> how it ended (done, or aborted: its client was gone).
     */
    private static final String LARGE = """
            <?php
            while (ob_get_level() > 0) { ob_end_flush(); }
            header('Content-Type: text/plain');
            header('X-Accel-Buffering: no');
            $id = basename($_GET['id']);
            register_shutdown_function(function () use ($id) {
                file_put_contents('MARKS/' . $id, connection_aborted() ? 'aborted' : 'done');
            });
            $piece = str_repeat("0123456789abcde\n", 4096);
            for ($i = 0; $i < 256; $i++) {
                echo $piece;
                flush();
                file_put_contents('MARKS/' . $id . '.sent', (string) (($i + 1) * 65536));
            }
            """;
    private static final int LARGE_BYTES = 256 * 65536;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path gates = Files.createDirectories(dir.resolve("gates"));
        Files.writeString(www.resolve("large.php"),
                LARGE.replace("MARKS", Files.createDirectories(dir.resolve("marks")).toString()));
        for (String sub : new String[] {"", "cached/", "paced/", "streams/"}) {
            Files.createDirectories(www.resolve(sub));
            Files.writeString(www.resolve(sub + "events.php"),
                    EVENTS.replace("RUNS", dir.resolve("runs.txt").toString()).replace("GATES", gates.toString()));
        }
        // output_buffering off, as php.ini-development's 4096 would hold each piece in PHP itself
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 4
                php_admin_value[output_buffering] = 0
                """);
        edge = EdgeHarness.start(dir, """
                server.run-dir = "%s"
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "~ \\\\.php$", fastcgi = php, gzip { enabled = true, types = ["text/event-stream"] } }
                    { match = "^~ /cached/", fastcgi = php, cache = true }
                    { match = "^~ /paced/", fastcgi = php, limit-rate { rate = 1 MiB } }
                    { match = "^~ /streams/", fastcgi = streams, cache = true }
                  ]
                }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 2
                }
                fastcgi.backends.streams {
                  addresses = ["%2$s"]
                  max-connections = 2
                  response-buffer.enabled = false
                }
                """.formatted(dir.resolve("run"), fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    @Test
    void eachPieceReachesTheClientBeforeTheScriptMakesTheNext() throws Exception {
        String head = events("/events.php?id=plain&buffering=no", false);
        assertThat(head).contains("transfer-encoding: chunked\n").doesNotContain("content-encoding");
    }

    @Test
    void eachPieceReachesTheClientCompressedBeforeTheScriptMakesTheNext() throws Exception {
        String head = events("/events.php?id=gzip&buffering=no", true);
        assertThat(head).contains("content-encoding: gzip\n", "transfer-encoding: chunked\n");
    }

    @Test
    void aPacedAnswerStreamsToo() throws Exception {
        events("/paced/events.php?id=paced&buffering=no", false);
    }

    /** nginx hides the header: it is for the server in front, not for the browser. */
    @Test
    void theClientNeverSeesTheHeader() throws Exception {
        for (String value : new String[] {"no", "yes", "No"}) {
            assertThat(events("/events.php?id=hidden-" + value + "&buffering=" + value, false))
                    .doesNotContain("x-accel-buffering");
        }
    }

    /** nginx does not cache an unbuffered answer: each request runs the script, each streams. */
    @Test
    void anUnbufferedAnswerIsNotStored() throws Exception {
        String first = events("/cached/events.php?id=uncached&buffering=no", false);
        String second = events("/cached/events.php?id=uncached&buffering=no", false);
        assertThat(second).doesNotContain("age:");
        assertThat(runs("uncached")).as("script runs").isEqualTo(2);
        assertThat(first + second).doesNotContain("x-accel-buffering");
    }

    /** X-Accel-Buffering: yes is the default: stored as any answer, and its hits do not carry the header either. */
    @Test
    void aBufferedAnswerIsStoredAsAny() throws Exception {
        events("/cached/events.php?id=kept&buffering=yes", false);
        String hit = events("/cached/events.php?id=kept&buffering=yes", false);
        assertThat(hit).contains("age:").doesNotContain("x-accel-buffering");
        assertThat(runs("kept")).as("script runs").isEqualTo(1);
    }

    /**
     * A group with its response buffer off (nginx's fastcgi_buffering off) takes every answer as unbuffered: a script
     * that says nothing streams and is not stored; one that says X-Accel-Buffering: yes is, as nginx lets the header
     * override the directive.
     */
    @Test
    void aGroupWithItsBufferOffTakesEveryAnswerAsUnbufferedButOneThatSaysYes() throws Exception {
        events("/streams/events.php?id=off", false);
        String again = events("/streams/events.php?id=off", false);
        assertThat(again).doesNotContain("age:", "x-accel-buffering");
        assertThat(runs("off")).as("script runs").isEqualTo(2);
        events("/streams/events.php?id=on&buffering=yes", false);
        assertThat(events("/streams/events.php?id=on&buffering=yes", false)).contains("age:");
        assertThat(runs("on")).as("script runs").isEqualTo(1);
    }

    /**
     * nginx reads the header's whole value, "no" or "yes" in any case, and nothing else: a script's "nope" leaves its
     * answer buffered (stored as any), and under a group whose buffer is off a "1" leaves it unbuffered (not stored).
     */
    @Test
    void onlyNoAndYesAreReadAsNginxReadsThem() throws Exception {
        events("/cached/events.php?id=nope&buffering=nope", false);
        assertThat(events("/cached/events.php?id=nope&buffering=nope", false)).contains("age:");
        assertThat(runs("nope")).as("script runs").isEqualTo(1);
        events("/streams/events.php?id=one&buffering=1", false);
        assertThat(events("/streams/events.php?id=one&buffering=1", false)).doesNotContain("age:");
        assertThat(runs("one")).as("script runs").isEqualTo(2);
    }

    /**
     * A client that reads nothing for a while: what it does not take is held in the response buffer's memory alone
     * (nginx reads an unbuffered answer only as fast as its client takes it), never in a spool file, and the script
     * waits for the client beyond it; reading at last, the client gets every byte, and the script ends.
     */
    @Test
    void whatASlowClientDoesNotTakeIsHeldInMemoryAloneAndItStillGetsEverything() throws Exception {
        Path run = dir.resolve("run").toRealPath();
        try (WatchService made = run.getFileSystem().newWatchService(); Socket socket = new Socket()) {
            // a spool file is unlinked as soon as it is made: only the directory's events tell it was
            run.register(made, StandardWatchEventKinds.ENTRY_CREATE);
            socket.setReceiveBufferSize(4096); // before the connect: a small window the client does not drain yet
            socket.connect(edge.address());
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("GET /large.php?id=slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            // Past the buffer's 64 KiB of memory: buffered, the rest would go to a spool file and the script on to its
            // end. Unbuffered it stops a few hundred KiB in (what the sockets on the way hold, as the kernel sizes
            // them): no more is awaited.
            Awaits.until(() -> sent("slow"), sent -> sent >= 128 << 10, "the script wrote 128 KiB");
            InputStream in = socket.getInputStream();
            assertThat(FastCgiBufferingIT.readHead(in)).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase(
                    "x-accel-buffering");
            byte[] piece = "0123456789abcde\n".repeat(4096).getBytes(StandardCharsets.US_ASCII);
            long got = 0;
            for (byte[] chunk = GzipIT.chunk(in); chunk.length > 0; chunk = GzipIT.chunk(in)) {
                for (int i = 0; i < chunk.length; i++, got++) {
                    if (chunk[i] != piece[(int) (got % piece.length)]) {
                        throw new AssertionError("byte " + got + " differs");
                    }
                }
            }
            assertThat(got).as("body bytes").isEqualTo(LARGE_BYTES);
            List<String> files = new ArrayList<>();
            for (WatchKey key = made.poll(); key != null; key = made.poll()) {
                key.pollEvents().forEach(event -> files.add(event.context().toString()));
                key.reset();
            }
            assertThat(files).as("files made in the run-dir (a spool file's name starts edge-response-)").isEmpty();
        }
        Awaits.await(() -> "done".equals(mark("slow")), "the script ended");
    }

    /**
     * A client that stalls for good does not hold the script's worker forever: the write timeout (nginx's send_timeout)
     * resets it, and the script, whose next write finds its connection closed, is stopped (PHP's connection_aborted()).
     */
    @Test
    void aClientThatStallsIsResetAtTheWriteTimeoutAndItsScriptStopped() throws Exception {
        EdgeHarness strict = EdgeHarness.start(Files.createDirectories(dir.resolve("strict")), """
                server.timeouts.write = 1 s
                sites = [{ server-names = ["_"], default = true, root = "%s",
                           locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"] }
                """.formatted(dir.resolve("www"), fpm.address()));
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096);
            socket.connect(strict.address());
            socket.getOutputStream().write(("GET /large.php?id=stalled HTTP/1.1\r\nHost: t\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Awaits.await(() -> "aborted".equals(mark("stalled")), "the script stopped for its gone client");
            assertThat(sent("stalled")).as("bytes the script wrote").isLessThan(LARGE_BYTES);
        } finally {
            strict.close();
        }
    }

    private static long sent(String id) throws Exception {
        Path file = dir.resolve("marks/" + id + ".sent");
        String text = Files.exists(file) ? Files.readString(file) : "";
        return text.isEmpty() ? 0 : Long.parseLong(text);
    }

    private static String mark(String id) throws Exception {
        Path file = dir.resolve("marks/" + id);
        return Files.exists(file) ? Files.readString(file) : null;
    }

    private static long runs(String id) throws Exception {
        List<String> lines = Files.readAllLines(dir.resolve("runs.txt"));
        return lines.stream().filter(id::equals).count();
    }

    /**
     * GETs {@code target} over HTTP/1.1 (gzip taken if {@code gzip}) and reads its three events, letting the script
     * make the next only once the previous one is read; returns the head's fields, lower case, a line each.
     */
    private static String events(String target, boolean gzip) throws Exception {
        String id = target.replaceAll(".*[?&]id=([^&]*).*", "$1");
        try (Socket socket = new Socket()) {
            socket.connect(edge.address());
            socket.setSoTimeout(20_000); // a piece held back until the script goes on fails the read, not the run
            socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: t\r\n"
                    + (gzip ? "Accept-Encoding: gzip\r\n" : "") + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            assertThat(GzipIT.line(in)).startsWith("HTTP/1.1 200");
            StringBuilder head = new StringBuilder();
            for (String line = GzipIT.line(in); !line.isEmpty(); line = GzipIT.line(in)) {
                head.append(line.toLowerCase(Locale.ROOT)).append('\n');
            }
            assertThat(head.toString()).contains("content-type: text/event-stream");
            StringBuilder text = new StringBuilder();
            String length = head.toString().replaceAll("(?s).*content-length: (\\d+)\n.*|(?s).*", "$1");
            if (!length.isEmpty()) { // a hit, whole at once
                text.append(new String(in.readNBytes(Integer.parseInt(length)), StandardCharsets.UTF_8));
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            Inflater inflater = new Inflater(true);
            try {
                for (int i = 0; i < 3; i++) {
                    String expected = "data: piece " + i + "\n\n";
                    while (text.indexOf(expected) < 0) { // a hit's come at once
                        byte[] chunk = GzipIT.chunk(in);
                        assertThat(chunk).as("the body ended before " + expected.strip()).isNotEmpty();
                        body.write(chunk);
                        if (gzip) {
                            GzipIT.inflate(inflater, chunk, body.size() - chunk.length, text);
                        } else {
                            text.append(new String(chunk, StandardCharsets.UTF_8));
                        }
                    }
                    Files.writeString(dir.resolve("gates/go-" + id + "-" + (i + 1)), ""); // the script goes on
                }
                byte[] last = length.isEmpty() ? GzipIT.chunk(in) : new byte[0];
                if (gzip) { // the gzip trailer; nothing more of the text
                    while (last.length > 0) {
                        body.write(last);
                        GzipIT.inflate(inflater, last, body.size() - last.length, text);
                        last = GzipIT.chunk(in);
                    }
                    assertThat(inflater.finished()).as("the gzip stream ended").isTrue();
                }
                assertThat(last).as("the last chunk").isEmpty();
            } finally {
                inflater.end();
            }
            assertThat(text.toString()).isEqualTo("data: piece 0\n\ndata: piece 1\n\ndata: piece 2\n\n");
            assertThat(in.read()).as("the close asked for").isEqualTo(-1);
            return head.toString();
        }
    }
}
