package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code limit-rate}, nginx's limit_rate, on a real edge and a real php-fpm: a paced body arrives whole and
 * in order, from the location itself, through a script's X-Accel-Redirect into it, and as a script's own answer, whose
 * php-fpm worker is free long before its client has it all (the pace is unit-tested on a clock moved by hand: no test
 * here times anything, they assert what comes before what).
 */
class LimitRateIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void aPacedDownloadArrivesWholeDirectlyAndThroughAnXAccelRedirect() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("downloads"));
        byte[] file = new byte[3 << 20];
        new Random(7).nextBytes(file);
        Files.write(www.resolve("downloads/big.bin"), file);
        Files.writeString(www.resolve("get.php"), "<?php header('X-Accel-Redirect: /downloads/big.bin');");
        Files.createDirectories(www.resolve("files"));
        Files.write(www.resolve("files/big.bin"), file);
        // nginx's X-Accel-Limit-Rate: the script sets the pace of the file it hands out
        Files.writeString(www.resolve("paced.php"), """
                <?php
                header('X-Accel-Redirect: /files/big.bin');
                header('X-Accel-Limit-Rate: ' . $_GET['rate']);
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/downloads/", limit-rate { rate = 4 MiB, after = 1 MiB } }
                       { match = "/files/", internal = true }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            HttpResponse<byte[]> direct = HTTP.send(HttpRequest.newBuilder(edge.uri("/downloads/big.bin")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(direct.statusCode()).isEqualTo(200);
            assertThat(direct.body()).isEqualTo(file);
            HttpResponse<byte[]> accel = HTTP.send(HttpRequest.newBuilder(edge.uri("/get.php")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(accel.statusCode()).isEqualTo(200);
            assertThat(accel.body()).isEqualTo(file);
            HttpResponse<byte[]> range = HTTP.send(HttpRequest.newBuilder(edge.uri("/downloads/big.bin"))
                    .header("Range", "bytes=1000-2999999").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(range.statusCode()).isEqualTo(206);
            assertThat(range.body()).isEqualTo(Arrays.copyOfRange(file, 1000, 3_000_000));
            for (String rate : new String[] {"4194304", "0", "fast"}) {
                HttpResponse<byte[]> paced = HTTP.send(HttpRequest.newBuilder(edge.uri("/paced.php?rate=" + rate))
                        .build(), HttpResponse.BodyHandlers.ofByteArray());
                assertThat(paced.statusCode()).isEqualTo(200);
                assertThat(paced.body()).as("X-Accel-Limit-Rate " + rate).isEqualTo(file);
                assertThat(paced.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();
            }
        }
    }

    /** The pace of the scripts' answers below: 64 KiB a second, of which the first second's worth goes at once. */
    private static final int FIRST_SECONDS_WORTH = 64 * 1024;
    /** Bytes of the script's answer: five seconds' worth at the rate past the first second's. */
    private static final int SCRIPT_BODY = 384 * 1024;

    /**
     * Prints SCRIPT_BODY bytes (a line pattern, each line its number) with their Content-Length; ?rate= sets its
     * X-Accel-Limit-Rate (a line for each of several, comma-separated), ?cache lets the response cache keep it for a
     * minute.
     */
    private static final String BIG_SCRIPT = """
            <?php
            if (isset($_GET['rate'])) {
                foreach (explode(',', $_GET['rate']) as $rate) { header('X-Accel-Limit-Rate: ' . $rate, false); }
            }
            if (isset($_GET['cache'])) { header('Cache-Control: public, max-age=60'); }
            header('Content-Type: application/octet-stream');
            header('Content-Length: %d');
            $s = '';
            for ($i = 0; strlen($s) < %d; $i++) { $s .= sprintf("%%015d\n", $i); }
            echo substr($s, 0, %d);
            """.formatted(SCRIPT_BODY, SCRIPT_BODY, SCRIPT_BODY);

    private static byte[] scriptBody() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; out.size() < SCRIPT_BODY; i++) {
            out.writeBytes(String.format("%015d\n", i).getBytes(StandardCharsets.US_ASCII));
        }
        return Arrays.copyOf(out.toByteArray(), SCRIPT_BODY);
    }

    /**
     * A PHP location's limit-rate paces the script's answer (it went as fast as the client took it), and edge holds
     * what the pace keeps back, so the pool's one worker is free at once: another request is answered while the first
     * client, reading as fast as it can, still waits for most of its body; then that body arrives whole.
     */
    @Test
    void aPhpLocationsLimitRatePacesTheScriptsAnswerWithItsWorkerFree() throws Exception {
        pacedScriptLeavesItsWorkerFree("""
                { match = "~ \\\\.php$", fastcgi = php, limit-rate { rate = 64 KiB } }
                """, "/big.php", false);
    }

    /**
     * nginx's X-Accel-Limit-Rate in a script's own answer (not only beside an X-Accel-Redirect) paces its body, in a
     * location without a limit-rate; the client never sees the header.
     */
    @Test
    void aScriptsOwnXAccelLimitRatePacesItsAnswer() throws Exception {
        pacedScriptLeavesItsWorkerFree("""
                { match = "~ \\\\.php$", fastcgi = php }
                """, "/big.php?rate=65536", false);
    }

    /**
     * Of several X-Accel-Limit-Rate lines in a script's answer the last that is a number sets the pace, as nginx's
     * upstream takes each over the ones before (measured on nginx 1.22, FastCGI and proxied alike): "0", "65536" is
     * paced, where the first line ("0": none) left it unpaced.
     */
    @Test
    void theLastOfSeveralXAccelLimitRateLinesPacesTheScriptsAnswer() throws Exception {
        pacedScriptLeavesItsWorkerFree("""
                { match = "~ \\\\.php$", fastcgi = php }
                """, "/big.php?rate=0,65536", false);
    }

    /**
     * "1", "0" leaves the answer unpaced, as nginx does: it arrives whole, where the first line's pace (a byte a
     * second) would hold it for days; and so does "0", "abc", a line that is no number set aside as nginx sets it aside.
     */
    @Test
    void aLastXAccelLimitRateLineOfZeroLeavesTheScriptsAnswerUnpaced() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("big.php"), BIG_SCRIPT);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            for (String rates : new String[] {"1,0", "0,abc"}) {
                HttpResponse<byte[]> whole = HTTP.sendAsync(HttpRequest.newBuilder(edge.uri("/big.php?rate=" + rates))
                        .build(), HttpResponse.BodyHandlers.ofByteArray()).get(60, TimeUnit.SECONDS);
                assertThat(whole.body()).as(rates).isEqualTo(scriptBody());
                assertThat(whole.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();
            }
        }
    }

    /**
     * The response cache keeps the line that paced the miss, the last that is a number, and paces its hits by it.
     */
    @Test
    void aHitGoesAtThePaceOfTheLastXAccelLimitRateLine() throws Exception {
        pacedScriptLeavesItsWorkerFree("""
                { match = "~ \\\\.php$", fastcgi = php, cache = true }
                """, "/big.php?cache&rate=0,65536", true);
    }

    /**
     * An answer from the response cache goes at its location's pace too, where its script sent no X-Accel-Limit-Rate.
     */
    @Test
    void aHitFromTheResponseCacheGoesAtItsLocationsPace() throws Exception {
        pacedScriptLeavesItsWorkerFree("""
                { match = "~ \\\\.php$", fastcgi = php, cache = true, limit-rate { rate = 64 KiB } }
                """, "/big.php?cache", true);
    }

    /**
     * The response cache keeps the script's X-Accel-Limit-Rate with its answer, as nginx's does, and paces every hit
     * by it as the miss was paced, in a location without a limit-rate; neither the miss nor the hit carries it.
     */
    @Test
    void aHitGoesAtThePaceItsScriptSentWithTheMiss() throws Exception {
        pacedScriptLeavesItsWorkerFree("""
                { match = "~ \\\\.php$", fastcgi = php, cache = true }
                """, "/big.php?cache&rate=65536", true);
    }

    /**
     * A 304 that renews a stale entry carries the script's X-Accel-Limit-Rate, which replaces the one kept with the
     * miss: stored at 64 KiB/s, renewed with 0, the hit after it goes unpaced. The client never sees the header. That
     * hit is asked while a paced answer of the same pace, asked before it, still comes, and is whole first: at the
     * pace the miss was kept with it would come after that one. The cache ages on a fake clock.
     */
    @Test
    void a304ThatRenewsAnEntryWithXAccelLimitRateZeroLeavesItsHitsUnpaced() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("big.php"), BIG_SCRIPT);
        Files.writeString(www.resolve("renewed.php"), """
                <?php
                file_put_contents('%s/renewed-runs', ($_SERVER['HTTP_IF_NONE_MATCH'] ?? '-') . "\n", FILE_APPEND);
                header('ETag: "v1"');
                if (($_SERVER['HTTP_IF_NONE_MATCH'] ?? '') === '"v1"') {
                    header('X-Accel-Limit-Rate: 0');
                    header('Cache-Control: public, max-age=60');
                    http_response_code(304);
                    exit;
                }
                header('Cache-Control: public, max-age=1');
                $_GET['rate'] = '65536';
                """.formatted(dir) + BIG_SCRIPT.substring("<?php\n".length()));
        byte[] expected = scriptBody();
        AtomicLong nanos = new AtomicLong(1);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, cache = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                     """.formatted(fpm.address()), nanos::get)) {
            HttpResponse<byte[]> miss = HTTP.send(HttpRequest.newBuilder(edge.uri("/renewed.php")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(miss.statusCode()).isEqualTo(200);
            assertThat(miss.body()).isEqualTo(expected);
            assertThat(miss.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();

            nanos.addAndGet(TimeUnit.SECONDS.toNanos(5)); // stale: the next request revalidates with the script
            HttpResponse<byte[]> renewed = HTTP.send(HttpRequest.newBuilder(edge.uri("/renewed.php")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(renewed.statusCode()).isEqualTo(200);
            assertThat(renewed.body()).isEqualTo(expected);
            assertThat(renewed.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();
            assertThat(renewed.headers().firstValue("age")).as("the 304 renewed the entry").contains("0");
            assertThat(Files.readAllLines(dir.resolve("renewed-runs"))).as("a miss, then a revalidation")
                    .containsExactly("-", "\"v1\"");

            // a paced answer of the pace the miss was kept with, under way past its first second's worth
            try (Socket paced = new Socket()) {
                paced.connect(edge.address());
                paced.getOutputStream().write(("GET /big.php?rate=65536 HTTP/1.1\r\nHost: a\r\nConnection: close"
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                InputStream in = paced.getInputStream();
                assertThat(FastCgiBufferingIT.readHead(in)).startsWith("HTTP/1.1 200");
                AtomicInteger received = new AtomicInteger();
                CompletableFuture<Void> whole = readAsItComes(in, received, new ByteArrayOutputStream());
                Awaits.await(() -> received.get() > FIRST_SECONDS_WORTH + 16 * 1024,
                        "more than the first second's worth");

                HttpResponse<byte[]> hit = HTTP.send(HttpRequest.newBuilder(edge.uri("/renewed.php")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(hit.statusCode()).isEqualTo(200);
                assertThat(hit.headers().firstValue("age")).as("a hit of the renewed entry").contains("0");
                assertThat(hit.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();
                assertThat(hit.body()).isEqualTo(expected);
                assertThat(received.get()).as("the paced answer asked before the hit still comes").isLessThan(
                        SCRIPT_BODY);
                whole.get(60, TimeUnit.SECONDS);
            }
            assertThat(Files.readAllLines(dir.resolve("renewed-runs"))).as("the hit ran no script").hasSize(2);
        }
    }

    /**
     * A script that sends its page with a Content-Length and then works on past timeouts.read (the mod_php habit): its
     * paced answer, all of it with edge by then, still arrives whole, as an unpaced one does (whole once the declared
     * bytes were out). It was cut: the pace still held most of it when the read timed out, and that dropped it.
     */
    @Test
    void aPacedAnswerIsWholeThoughItsScriptWorksOnPastTheReadTimeout() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("work.php"), BIG_SCRIPT + """
                while (ob_get_level()) { ob_end_flush(); }
                flush();
                ignore_user_abort(true);
                sleep(20);
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, limit-rate { rate = 64 KiB } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], timeouts.read = 1 s }
                     """.formatted(fpm.address()))) {
            HttpResponse<byte[]> paced = HTTP.send(HttpRequest.newBuilder(edge.uri("/work.php")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(paced.statusCode()).isEqualTo(200);
            assertThat(paced.body()).as("the whole body, byte for byte").isEqualTo(scriptBody());
        }
    }

    /**
     * A paced answer that the location's gzip compresses (chunked: the script gives no length) arrives whole; the pace
     * counts the compressed bytes as they go out.
     */
    @Test
    void aPacedCompressedAnswerArrivesWhole() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("text.php"), """
                <?php
                header('Content-Type: text/plain');
                for ($i = 0; $i < %d; $i++) { printf("%%015d\n", $i); }
                """.formatted(SCRIPT_BODY / 16));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, gzip.enabled = true, limit-rate { rate = 16 KiB } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            HttpResponse<byte[]> paced = HTTP.send(HttpRequest.newBuilder(edge.uri("/text.php"))
                    .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(paced.statusCode()).isEqualTo(200);
            assertThat(paced.headers().firstValue("content-encoding")).contains("gzip");
            try (GZIPInputStream gunzip = new GZIPInputStream(new ByteArrayInputStream(paced.body()))) {
                assertThat(gunzip.readAllBytes()).as("the whole body, byte for byte").isEqualTo(scriptBody());
            }
        }
    }

    /**
     * Asks for {@code uri} (first once more, whole at once, if {@code hit}: the hit is asked next) and reads its answer
     * as it comes; meanwhile another request to the pool's one worker is answered while the client still waits for
     * most of its body; then the body arrives whole.
     */
    private void pacedScriptLeavesItsWorkerFree(String location, String uri, boolean hit) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("big.php"), BIG_SCRIPT);
        Files.writeString(www.resolve("other.php"), "<?php echo 'worker free';");
        byte[] expected = scriptBody();
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       %s
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                     """.formatted(location, fpm.address()));
             Socket paced = new Socket()) {
            if (hit) {
                HttpResponse<byte[]> miss = HTTP.send(HttpRequest.newBuilder(edge.uri(uri)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(miss.body()).isEqualTo(expected);
                assertThat(miss.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();
            }
            paced.connect(edge.address());
            // the Host the miss had: the cache keys its answers by it
            paced.getOutputStream().write(("GET " + uri + " HTTP/1.1\r\nHost: " + edge.uri(uri).getAuthority()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = paced.getInputStream();
            String head = FastCgiBufferingIT.readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + SCRIPT_BODY);
            assertThat(head.toLowerCase()).as("never the client's").doesNotContain("x-accel-limit-rate");
            if (hit) {
                assertThat(head).as("from the cache, which gives its age").containsPattern("(?im)^age: \\d+\r\n");
            }
            // the client reads all it can as it comes, on a thread of its own
            AtomicInteger received = new AtomicInteger();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            CompletableFuture<Void> whole = readAsItComes(in, received, got);
            // Past the first second's worth, which goes at once: unpaced, the rest was on its way with it, and the
            // client, reading on, had it all long before another request could be answered.
            Awaits.await(() -> received.get() > FIRST_SECONDS_WORTH + 16 * 1024, "more than the first second's worth");

            HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(edge.uri("/other.php")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(200);
            assertThat(other.body()).isEqualTo("worker free");
            assertThat(received.get()).as("the paced client, reading all it can, still waits for the rest")
                    .isLessThan(SCRIPT_BODY);

            whole.get(60, TimeUnit.SECONDS);
            assertThat(got.toByteArray()).as("then the whole body, byte for byte").isEqualTo(expected);
        }
    }

    /** Reads {@code in} to its end on a thread of its own, as fast as it comes, into {@code got}, counting it. */
    static CompletableFuture<Void> readAsItComes(InputStream in, AtomicInteger received,
            ByteArrayOutputStream got) {
        CompletableFuture<Void> whole = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    got.write(buffer, 0, n);
                    received.addAndGet(n);
                }
                whole.complete(null);
            } catch (IOException e) {
                whole.completeExceptionally(e);
            }
        }, "paced-client");
        reader.start();
        return whole;
    }
}
