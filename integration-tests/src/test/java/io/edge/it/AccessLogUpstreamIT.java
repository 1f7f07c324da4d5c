package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code $upstream_cache_status}, {@code $upstream_status} and {@code $upstream_addr} in
 * {@code server.access-log-format}, and {@code $bytes_sent} and {@code $request_length}, on a real edge with a real
 * php-fpm behind the response cache, which ages on a clock the test moves on.
 */
class AccessLogUpstreamIT {

    @TempDir
    Path dir;

    @Test
    void theCachesWordTheBackendsStatusAndAddressAndTheBytesBothWays() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        PhpScripts.install(www);
        Files.writeString(www.resolve("a.txt"), "static\n");
        Files.writeString(www.resolve("crash.php"), "<?php posix_kill(getmypid(), 9);\n");
        AtomicLong nanos = new AtomicLong(1);
        CapturedLog access = CapturedLog.of("edge.access");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server { access-log = "-", access-log-format = "$request_uri|$status|$upstream_cache_status|$upstream_status|$upstream_addr|$bytes_sent|$request_length|$request_completion" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" }, { match = "~ \\\\.php$", fastcgi = php, cache = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     cache.responses { bypass-cookies = ["PHPSESSID"] }
                     """.formatted(fpm.address()), nanos::get)) {
            String upstream = fpm.address(); // unix:/path, as nginx writes a socket
            String fresh = script("fresh", "max-age=60", "");
            assertLogged(edge, access, get("/a.txt"), "/a.txt|200|-|-|-");
            assertLogged(edge, access, get(fresh), fresh + "|200|MISS|200|" + upstream);
            assertLogged(edge, access, get(fresh), fresh + "|200|HIT|-|-");
            assertLogged(edge, access, get(fresh + "&x").replace("GET", "POST"), fresh + "&x|200|-|200|" + upstream);
            assertLogged(edge, access, get(fresh).replace("\r\n\r\n", "\r\nCookie: PHPSESSID=1\r\n\r\n"),
                    fresh + "|200|BYPASS|200|" + upstream);
            // a minute on: the stored answer is stale, and its backend answers anew
            nanos.addAndGet(Duration.ofSeconds(61).toNanos());
            assertLogged(edge, access, get(fresh), fresh + "|200|EXPIRED|200|" + upstream);
            // one the script revalidates with its own 304 to the stored ETag
            String tagged = script("tagged", "max-age=60", "&etag=%22v1%22&self304=1");
            assertLogged(edge, access, get(tagged), tagged + "|200|MISS|200|" + upstream);
            nanos.addAndGet(Duration.ofSeconds(61).toNanos());
            assertLogged(edge, access, get(tagged), tagged + "|200|REVALIDATED|304|" + upstream);
            // one whose script fails from its second run: the stale copy answers, the backend's 500 is the upstream's
            String failing = script("failing", "max-age=60", "&failfrom=2");
            assertLogged(edge, access, get(failing), failing + "|200|MISS|200|" + upstream);
            nanos.addAndGet(Duration.ofSeconds(61).toNanos());
            assertLogged(edge, access, get(failing), failing + "|200|STALE|500|" + upstream);
            // a worker that dies before it answers, twice (a GET is sent once more): each try's 502, each try's backend
            assertLogged(edge, access, get("/crash.php"), "/crash.php|502|MISS|502, 502|" + upstream + ", " + upstream);
        } finally {
            access.close();
        }
    }

    /**
     * A request whose connect failed logs the address it tried and the status it was answered, as nginx logs the
     * address and 502 of a connect that failed: a socket missing while its queue timeout runs out (php-fpm taken for
     * restarting: 503), and a TCP port nothing listens on past the restart window (502). Both were "-" before. A request that only waited for a slot
     * of a busy group and was tried at no backend still logs "-" (edge's queue; nginx has none).
     */
    @Test
    void aConnectThatFailedLogsTheAddressItTriedAndTheStatusAnswered() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(dir.resolve("gone"));
        String gone = "unix:" + dir.resolve("gone/fpm.sock");
        String refused = "127.0.0.1:" + FakeHttpBackend.closedPort();
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                     server { access-log = "-", access-log-format = "$request_uri|$status|$upstream_status|$upstream_addr" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "^~ /gone/", fastcgi = gone, fastcgi-script = "/x.php" }
                       { match = "^~ /refused/", fastcgi = refused, fastcgi-script = "/x.php" }
                     ] }]
                     fastcgi.backends.gone { addresses = ["%s"], queue.timeout = 1 s }
                     fastcgi.backends.refused { addresses = ["%s"], queue.timeout = 30 s }
                     """.formatted(gone, refused))) {
            assertFailureLogged(edge, access, "/gone/a", "/gone/a|503|503|" + gone);
            assertFailureLogged(edge, access, "/refused/a", "/refused/a|502|502|" + refused);
        } finally {
            access.close();
        }
    }

    /** Sends a GET of {@code target} and checks its line is {@code expected}. */
    private static void assertFailureLogged(EdgeHarness edge, CapturedLog access, String target, String expected)
            throws Exception {
        int before = access.lines().size();
        byte[] answer = exchange(edge, get(target));
        await(() -> access.lines().size() == before + 1, "the line of " + target);
        assertThat(access.lines().get(before)).as(new String(answer, StandardCharsets.ISO_8859_1)).isEqualTo(expected);
    }

    /** {@code cache.php} for {@code id} with {@code cacheControl} and more of its query. */
    private static String script(String id, String cacheControl, String extra) {
        return "/cache.php?id=" + id + "&cc=" + URLEncoder.encode(cacheControl, StandardCharsets.UTF_8) + extra;
    }

    /** A GET of {@code target} that closes its connection after the answer, so the answer is all the client reads. */
    private static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: edge.test\r\nUser-Agent: it\r\nConnection: close\r\n\r\n";
    }

    /**
     * Sends {@code request} on a connection of its own (a POST with a body of 4 bytes when it is one) and checks the
     * line it is logged with: {@code expected}, then the bytes the client read and sent, and OK (sent whole).
     */
    private static void assertLogged(EdgeHarness edge, CapturedLog access, String request, String expected)
            throws Exception {
        String sent = request.startsWith("POST")
                ? request.replace("\r\n\r\n", "\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbody") : request;
        int before = access.lines().size();
        byte[] answer = exchange(edge, sent);
        await(() -> access.lines().size() == before + 1, "the line of " + request);
        assertThat(access.lines().get(before)).as(new String(answer, StandardCharsets.ISO_8859_1))
                .isEqualTo(expected + "|" + answer.length + "|" + sent.length() + "|OK");
    }

    /** Sends {@code request} and reads its connection to the end. */
    private static byte[] exchange(EdgeHarness edge, String request) throws Exception {
        try (Socket client = new Socket(edge.address().getAddress(), edge.address().getPort())) {
            client.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            client.getInputStream().transferTo(answer);
            return answer.toByteArray();
        }
    }
}
