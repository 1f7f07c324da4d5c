package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.fastcgi.FastCgiResponder;
import io.edge.core.http.CapturedLog;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code fastcgi_next_upstream error timeout} (its default, with {@code fastcgi_next_upstream_tries 0}) for a
 * FastCGI group of several addresses: a connect that fails (a socket file missing, a php-fpm stopped), and a failure
 * or timeout after the request went and before the answer's head, send the request to the next address it has not
 * tried (after it went: not a POST, LOCK or PATCH); every try is in {@code $upstream_addr} and {@code $upstream_status}
 * ("unix:/a.sock, unix:/b.sock" and "502, 200"). Real php-fpm pools and a {@link FakeFcgiServer} that stalls or dies
 * after a STDERR record.
 */
class FastCgiNextUpstreamIT {

    /**
     * The read timeout of a group whose first address stalls (its script sleeps a minute: any timeout fires there) and
     * whose other, a real php-fpm, answers: long enough for that answer on a loaded machine, where 1 s was not sure.
     */
    private static final String READ_TIMEOUT = ", timeouts.read = 3 s";

    @TempDir
    Path dir;

    /** The access log's lines, a test's own (JUnit makes an instance for each). */
    private final CapturedLog access = CapturedLog.of("edge.access");

    @AfterEach
    void closeLog() {
        access.close();
    }

    /**
     * An edge whose location /{name}/ runs {@code script} (every script echoes "good") at each group {@code name} of
     * {@code groups}: name, script, addresses and settings.
     */
    private EdgeHarness edge(String... groups) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        StringBuilder locations = new StringBuilder();
        StringBuilder backends = new StringBuilder();
        for (int i = 0; i < groups.length; i += 3) {
            Files.writeString(www.resolve(groups[i + 1]), "<?php echo 'good';");
            locations.append("  { match = \"^~ /").append(groups[i]).append("/\", fastcgi = ").append(groups[i])
                    .append(", fastcgi-script = \"/").append(groups[i + 1]).append("\" }\n");
            backends.append("fastcgi.backends.").append(groups[i])
                    .append(" { balance = round-robin, health.max-fails = 0, ").append(groups[i + 2]).append(" }\n");
        }
        return EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "%s" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                %s] }]
                %s""".formatted(UpstreamTries.FORMAT, locations, backends));
    }

    private static HttpResponse<String> send(EdgeHarness edge, String method, String target, String body)
            throws Exception {
        return UpstreamTries.send(edge, method, target, body);
    }

    /** The access log's line of {@code method} {@code target}, once written: status|upstream_status|upstream_addr. */
    private String logged(String method, String target) throws Exception {
        return UpstreamTries.logged(access, method, target);
    }

    private PhpFpm fpm(String name) throws Exception {
        return PhpFpm.unix(Files.createDirectories(dir.resolve(name)), "pm = static\npm.max_children = 2");
    }

    private static String addresses(String first, String second) {
        return "addresses = [\"%s\", \"%s\"]".formatted(first, second);
    }

    @Test
    void aConnectThatFailsGoesToTheNextAddressWhateverTheMethodAndEveryTryIsLogged() throws Exception {
        String missing = "unix:" + Files.createDirectories(dir.resolve("none")).resolve("php-fpm.sock");
        try (PhpFpm good = fpm("good"); PhpFpm stopped = fpm("stopped")) {
            stopped.stopNow();
            // a group each: an address that refused is skipped for a short backoff after
            try (EdgeHarness edge = edge("missing", "a.php", addresses(missing, good.address()),
                    "stopped", "b.php", addresses(stopped.address(), good.address()),
                    "post", "c.php", addresses(missing, good.address()))) {
                HttpResponse<String> get = send(edge, "GET", "/missing/x", null);
                assertThat(get.body()).isEqualTo("good");
                assertThat(logged("GET", "/missing/x")).isEqualTo("200|502, 200|" + missing + ", " + good.address());
                assertThat(send(edge, "GET", "/stopped/x", null).body()).isEqualTo("good");
                assertThat(logged("GET", "/stopped/x")).isEqualTo("200|502, 200|" + stopped.address() + ", "
                        + good.address());
                // nothing went to the first: a POST with its body is passed on too
                HttpResponse<String> post = send(edge, "POST", "/post/x", "a body");
                assertThat(post.statusCode()).isEqualTo(200);
                assertThat(logged("POST", "/post/x")).isEqualTo("200|502, 200|" + missing + ", " + good.address());
            }
        }
    }

    /**
     * Passed on, and the last address refuses too: both tries failed, the request's 502 (once the last address left
     * has refused connects for the restart window, as it is waited for), both tries listed, as nginx lists them.
     */
    @Test
    void passedOnAndTheLastAddressRefusesTooIs502WithBothTriesLogged() throws Exception {
        String missing = "unix:" + Files.createDirectories(dir.resolve("none")).resolve("php-fpm.sock");
        try (PhpFpm stopped = fpm("stopped")) {
            stopped.stopNow();
            try (EdgeHarness edge = edge("both", "a.php", addresses(missing, stopped.address()))) {
                assertThat(send(edge, "GET", "/both/x", null).statusCode()).isEqualTo(502);
                assertThat(logged("GET", "/both/x")).isEqualTo("502|502, 502|" + missing + ", " + stopped.address());
            }
        }
    }

    /**
     * A read timeout before the answer's head (a stalled backend): a GET goes to the next address, 504 listed for the
     * first try; a POST, which went, is answered 504. Round-robin over [stalling, good]: a GET the good one answers
     * alone (its turn: the GET passed on to it took none) puts the rotation back to the stalling one.
     */
    @Test
    @SuppressWarnings("try") // the fake peer answers the body's requests
    void aReadTimeoutBeforeTheAnswerPassesAGetOnAndNotAPost() throws Exception {
        Path socket = dir.resolve("fake.sock");
        String fake = "unix:" + socket;
        try (PhpFpm good = fpm("good"); FakeFcgiServer stalling = new FakeFcgiServer(socket);
             EdgeHarness edge = edge("stall", "stall.php", addresses(fake, good.address()) + READ_TIMEOUT)) {
            assertThat(send(edge, "GET", "/stall/a", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/stall/a")).isEqualTo("200|504, 200|" + fake + ", " + good.address());
            assertThat(send(edge, "GET", "/stall/between", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/stall/between")).isEqualTo("200|200|" + good.address());
            assertThat(send(edge, "POST", "/stall/post", "x").statusCode()).isEqualTo(504);
            assertThat(logged("POST", "/stall/post")).isEqualTo("504|504|" + fake);
        }
    }

    /**
     * A PUT whose client left runs on without it (its script gets the request, as edge runs a request that is not a
     * GET or HEAD), but once it went to an address it is not passed on to the next: nobody waits for its answer, and
     * nginx, its client gone, never tries another (499). Its try ends at the stalling address's read timeout (edge's
     * warning says so); edge's stop waits for an exchange still holding a worker, so a try passed on to the good
     * address would have run its script by the time the edge is closed.
     */
    @Test
    @SuppressWarnings("try") // the fake peer answers the body's requests
    void aRequestWhoseClientLeftIsNotPassedOnOnceItWent() throws Exception {
        Path socket = dir.resolve("fake.sock");
        String fake = "unix:" + socket;
        Path ran = dir.resolve("ran");
        try (CapturedLog responder = CapturedLog.of(FastCgiResponder.class); PhpFpm good = fpm("good");
             FakeFcgiServer stalling = new FakeFcgiServer(socket);
             EdgeHarness edge = edge("stall", "stall.php", addresses(fake, good.address()) + ", timeouts.read = 1 s")) {
            Files.writeString(dir.resolve("www/stall.php"),
                    "<?php file_put_contents('" + ran + "', 'ran'); echo 'good';");
            try (java.net.Socket client = new java.net.Socket("127.0.0.1", edge.uri("/").getPort())) {
                client.getOutputStream().write(("PUT /stall/gone HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n"
                        + "a body").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                client.getOutputStream().flush();
                await(() -> stalling.requestsPerConnection.stream().mapToInt(AtomicInteger::get).sum() == 1,
                        "the request at the stalling address");
            }
            await(() -> responder.warnings().stream().anyMatch(line -> line.contains(
                    "PUT /stall/gone, its client gone before the answer: failed at the backend")),
                    "the try's end at the stalling address's read timeout");
        }
        assertThat(ran).doesNotExist();
    }

    /**
     * The backend's connection closed after the request went and before any output (a worker that died, having logged
     * a line on its STDERR): a GET and a PUT with its body (read whole before the try, so sent again whole, as nginx's
     * buffered body is) go to the next address; a POST does not.
     */
    @Test
    @SuppressWarnings("try") // the fake peer answers the body's requests
    void aConnectionClosedBeforeTheAnswerPassesItOnUnlessItIsAPost() throws Exception {
        Path socket = dir.resolve("fake.sock");
        String fake = "unix:" + socket;
        try (PhpFpm good = fpm("good"); FakeFcgiServer dying = new FakeFcgiServer(socket);
             EdgeHarness edge = edge("cut", "stderr-then-close.php", addresses(fake, good.address()))) {
            String both = "|502, 200|" + fake + ", " + good.address();
            assertThat(send(edge, "GET", "/cut/get", null).body()).isEqualTo("good");
            assertThat(logged("GET", "/cut/get")).isEqualTo("200" + both);
            send(edge, "GET", "/cut/back1", null);
            assertThat(logged("GET", "/cut/back1")).isEqualTo("200|200|" + good.address());

            HttpResponse<String> put = send(edge, "PUT", "/cut/put", "a body");
            assertThat(put.statusCode()).isEqualTo(200);
            assertThat(logged("PUT", "/cut/put")).isEqualTo("200" + both);
            send(edge, "GET", "/cut/back2", null);

            assertThat(send(edge, "POST", "/cut/post", "x").statusCode()).isEqualTo(502);
            assertThat(logged("POST", "/cut/post")).isEqualTo("502|502|" + fake);
        }
    }

    /**
     * fastcgi-next-upstream = [off]: a request that went out on a kept connection the backend then ended unread (a
     * worker past its pm.max_requests) is the request's 502, sent nowhere again, neither on a new connection nor to the
     * next address, as nginx's ngx_http_upstream_next: its peer.cached retry (tries++) still needs error in the list. By
     * default (error) it goes again, and is answered.
     */
    @Test
    @SuppressWarnings("try") // the fake peer answers the first of each group's requests
    void offSendsNothingAgainAfterAKeptConnectionEndedUnderTheRequest() throws Exception {
        Path socket = dir.resolve("fake.sock");
        String fake = "unix:" + socket;
        Files.writeString(Files.createDirectories(dir.resolve("www")).resolve("ok.php"), "<?php echo 'good';");
        // two groups keep connections to the one php-fpm, each up to max-connections: its workers are both groups'
        // (README: split pm.max_children between them). With fewer, a request that finds its group's kept connection
        // still held, its worker awaited, connects anew and waits in php-fpm's backlog behind the other group's idle
        // one (its idle-timeout: 60 s)
        try (PhpFpm good = PhpFpm.unix(Files.createDirectories(dir.resolve("good")), "pm = static\npm.max_children = 4");
             FakeFcgiServer recycling = new FakeFcgiServer(socket);
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server { access-log = "-", access-log-format = "%s" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "^~ /off/", fastcgi = off, fastcgi-script = "/ok.php", fastcgi-next-upstream = [off] }
                       { match = "^~ /on/", fastcgi = on, fastcgi-script = "/ok.php" }
                     ] }]
                     fastcgi.backend-defaults { balance = round-robin, health.max-fails = 0, max-connections = 2,
                       keep-alive.enabled = true }
                     fastcgi.backends.off.addresses = ["%s", "%s"]
                     fastcgi.backends.on.addresses = ["%s", "%s"]
                     """.formatted(UpstreamTries.FORMAT, fake, good.address(), fake, good.address()))) {
            for (String name : new String[] {"off", "on"}) {
                // the fake's connection kept after the first request, the second the other address's turn
                assertThat(send(edge, "GET", "/" + name + "/a", null).body()).isEqualTo("ok from fake");
                assertThat(send(edge, "GET", "/" + name + "/b", null).body()).isEqualTo("good");
                recycling.closeKeptOnNext();
                HttpResponse<String> third = send(edge, "GET", "/" + name + "/c", null);
                if (name.equals("off")) {
                    assertThat(third.statusCode()).isEqualTo(502);
                    assertThat(logged("GET", "/off/c")).isEqualTo("502|502|" + fake);
                    assertThat(recycling.requestsPerConnection).as("no new connection to it").hasSize(1);
                } else {
                    assertThat(third.statusCode()).isEqualTo(200);
                    assertThat(third.body()).isIn("ok from fake", "good");
                }
            }
        }
    }

    /** A script's own 5xx is its answer, passed as it is, as by nginx's default list (no http_503 in it). */
    @Test
    void aScriptsOwn503IsAnsweredAsItIs() throws Exception {
        try (PhpFpm first = fpm("first"); PhpFpm second = fpm("second");
             EdgeHarness edge = edge("busy", "busy.php", addresses(first.address(), second.address()))) {
            Files.writeString(dir.resolve("www/busy.php"), "<?php http_response_code(503); echo 'busy';");
            HttpResponse<String> busy = send(edge, "GET", "/busy/x", null);
            assertThat(busy.statusCode()).isEqualTo(503);
            assertThat(busy.body()).isEqualTo("busy");
            assertThat(logged("GET", "/busy/x")).isEqualTo("503|503|" + first.address());
        }
    }
}
