package io.edge.it;

import static io.edge.it.UpstreamTries.location;
import static io.edge.it.UpstreamTries.locationInGroup;
import static io.edge.it.UpstreamTries.send;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FastCGI location's fastcgi-next-upstream, -tries and -timeout (nginx's fastcgi_next_upstream with its conditions,
 * fastcgi_next_upstream_tries and fastcgi_next_upstream_timeout) through edge with a real client, to two real php-fpm
 * pools, "first" and "second", each of which tells its scripts its name ({@code env[EDGE_POOL]}). Every location runs
 * answer.php, which answers the status its query names for its pool ({@code ?first=503}; 200 for none), says its pool
 * in X-Pool and its body, and counts its runs per pool. Each location has a group of its own, round-robin from its
 * first address, so each test's first request goes to the first address listed.
 */
class FastCgiNextUpstreamConditionsIT {

    @TempDir
    Path dir;

    /** The access log's lines, a test's own (JUnit makes an instance for each). */
    private final CapturedLog access = CapturedLog.of("edge.access");

    @AfterEach
    void stopCapturing() {
        access.close();
    }

    /** A php-fpm pool whose scripts see {@code EDGE_POOL} = {@code name}. */
    private PhpFpm pool(String name) throws Exception {
        return PhpFpm.unix(Files.createDirectories(dir.resolve(name)),
                "pm = static\npm.max_children = 2\nenv[EDGE_POOL] = " + name);
    }

    /**
     * An edge whose location /{name}/ runs answer.php at a group of its own for each {name, addresses, location settings,
     * group settings} of {@code locations}: the addresses a comma-separated list, the location's settings its
     * fastcgi-next-upstream keys, the group's laid over round-robin and no health checks. /files/ is a location of
     * files, where an X-Accel-Redirect may lead; /edge-status the status page.
     */
    private EdgeHarness edge(String[]... locations) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(Files.createDirectories(www.resolve("files")).resolve("secret.txt"), "the file");
        Files.writeString(www.resolve("answer.php"), """
                <?php
                $pool = getenv('EDGE_POOL');
                file_put_contents('%s/hits-' . $pool, $_SERVER['REQUEST_URI'] . "\\n", FILE_APPEND);
                $status = (int) ($_GET[$pool] ?? 200);
                if (($_GET['bad'] ?? '') === $pool) {
                    header('X-Big: ' . str_repeat('a', 40000)); // a head over edge's 32 KiB: no CGI head
                }
                if (($_GET['slow'] ?? '') === $pool) {
                    usleep(300000);
                }
                if (($_GET['hold'] ?? '') === $pool) { // the head out at once, the worker held until the test says
                    http_response_code($status);
                    echo 'held ';
                    while (ob_get_level()) {
                        ob_end_flush();
                    }
                    flush();
                    for ($i = 0; $i < 200 && !file_exists('%s/go'); $i++) {
                        usleep(50000);
                    }
                }
                if (isset($_GET['accel']) && $status != 200) {
                    header('X-Accel-Redirect: /files/secret.txt');
                }
                http_response_code($status);
                header('X-Pool: ' . $pool);
                header('Cache-Control: public, max-age=60');
                echo $status, ' from ', $pool, file_get_contents('php://input');
                """.formatted(dir, dir));
        StringBuilder sites = new StringBuilder("  { match = \"/files/\" }\n")
                .append("  { match = \"= /edge-status\", status = true }\n");
        StringBuilder groups = new StringBuilder();
        for (String[] location : locations) {
            sites.append("  { match = \"^~ /%s/\", fastcgi = %s, fastcgi-script = \"/answer.php\", %s }\n"
                    .formatted(location[0], location[0], location[2]));
            groups.append("fastcgi.backends.%s { addresses = [%s], balance = round-robin, health.max-fails = 0%s }\n"
                    .formatted(location[0], location[1].replaceAll("([^, ]+)", "\"$1\""), location[3]));
        }
        return EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "%s" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                %s] }]
                %s""".formatted(UpstreamTries.FORMAT, sites, groups));
    }

    /** The access log's status|upstream_status|upstream_addr for {@code method} and {@code target}, once written. */
    private String logged(String method, String target) throws Exception {
        return UpstreamTries.logged(access, method, target);
    }

    /** The requests (their URIs) that answer.php ran for in pool {@code name}. */
    private List<String> hits(String name) throws Exception {
        Path file = dir.resolve("hits-" + name);
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    @Test
    void a503GoesToTheNextAddressWithHttp503InTheListAndIsAnsweredAsItIsWithout() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(location("on", "fastcgi-next-upstream = [error, timeout, http_503]",
                     first.address(), second.address()), location("default", "", first.address(), second.address()))) {
            HttpResponse<String> passed = send(edge, "GET", "/on/a?first=503", null);
            assertThat(passed.statusCode()).isEqualTo(200);
            assertThat(passed.body()).isEqualTo("200 from second");
            assertThat(logged("GET", "/on/a?first=503")).isEqualTo("200|503, 200|" + first.address() + ", "
                    + second.address());
            assertThat(hits("first")).containsExactly("/on/a?first=503");
            assertThat(hits("second")).containsExactly("/on/a?first=503");

            // nginx's default, error timeout: a script's 503 is an answer like any
            HttpResponse<String> kept = send(edge, "GET", "/default/a?first=503", null);
            assertThat(kept.statusCode()).isEqualTo(503);
            assertThat(kept.body()).isEqualTo("503 from first");
            assertThat(logged("GET", "/default/a?first=503")).isEqualTo("503|503|" + first.address());
            assertThat(hits("second")).hasSize(1);
        }
    }

    @Test
    void theLastAddressesAnswerIsPassedOnAsItIs() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(location("busy", "fastcgi-next-upstream = [http_503]", first.address(),
                     second.address()))) {
            HttpResponse<String> last = send(edge, "GET", "/busy/a?first=503&second=503", null);
            assertThat(last.statusCode()).isEqualTo(503);
            assertThat(last.body()).isEqualTo("503 from second");
            assertThat(last.headers().firstValue("X-Pool")).hasValue("second");
            assertThat(logged("GET", "/busy/a?first=503&second=503")).isEqualTo("503|503, 503|" + first.address() + ", "
                    + second.address());
            assertThat(hits("first")).hasSize(1);
            assertThat(hits("second")).hasSize(1);
        }
    }

    /** tries = 1: the first address's answer, or its failure, is the request's; no other address is tried. */
    @Test
    void oneTryStopsAfterTheFirstAddress() throws Exception {
        String missing = "unix:" + Files.createDirectories(dir.resolve("none")).resolve("php-fpm.sock");
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(
                     location("one", "fastcgi-next-upstream = [error, http_503], fastcgi-next-upstream-tries = 1",
                             first.address(), second.address()),
                     location("refused", "fastcgi-next-upstream-tries = 1", missing, second.address()))) {
            HttpResponse<String> bounded = send(edge, "GET", "/one/a?first=503", null);
            assertThat(bounded.statusCode()).isEqualTo(503);
            assertThat(bounded.body()).isEqualTo("503 from first");
            assertThat(logged("GET", "/one/a?first=503")).isEqualTo("503|503|" + first.address());

            assertThat(send(edge, "GET", "/refused/a", null).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/refused/a")).isEqualTo("502|502|" + missing);
            assertThat(hits("second")).isEmpty();
        }
    }

    /**
     * fastcgi-next-upstream-timeout: a 503 that came 300 ms after the request first went to the group, past its 100 ms,
     * is the request's; within an hour's it goes on.
     */
    @Test
    void theTimeoutBoundsThePassingOn() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(
                     location("late", "fastcgi-next-upstream = [http_503], fastcgi-next-upstream-timeout = 100 ms",
                             first.address(), second.address()),
                     location("early", "fastcgi-next-upstream = [http_503], fastcgi-next-upstream-timeout = 1 h",
                             first.address(), second.address()))) {
            assertThat(send(edge, "GET", "/late/a?first=503&slow=first", null).body()).isEqualTo("503 from first");
            assertThat(logged("GET", "/late/a?first=503&slow=first")).isEqualTo("503|503|" + first.address());
            assertThat(send(edge, "GET", "/early/a?first=503&slow=first", null).body()).isEqualTo("200 from second");
            assertThat(logged("GET", "/early/a?first=503&slow=first")).isEqualTo("200|503, 200|" + first.address()
                    + ", " + second.address());
        }
    }

    /**
     * fastcgi-next-upstream-timeout decides whether a request goes on, not how long its next try may take, as nginx's
     * (ngx_http_upstream_next and ngx_http_upstream_test_next read it, nothing cuts a try by it): a 503 passed on within
     * its 2 s to a second address whose one slot a held script takes waits in its queue past them, and is answered.
     */
    @Test
    void aRequestPassedOnWaitsForTheNextAddressPastTheTimeout() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(locationInGroup("late", "fastcgi-next-upstream = [http_503], "
                     + "fastcgi-next-upstream-timeout = 2 s", ", max-connections = 1", first.address(),
                     second.address()))) {
            assertThat(send(edge, "GET", "/late/a", null).body()).isEqualTo("200 from first");
            CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> sendUnchecked(edge,
                    "/late/b?hold=second"));
            CompletableFuture<HttpResponse<String>> passed;
            try {
                Awaits.until(() -> hits("second"), runs -> !runs.isEmpty(), "the held script running at second");
                long sent = System.nanoTime();
                passed = CompletableFuture.supplyAsync(() -> sendUnchecked(edge, "/late/c?first=503"));
                Awaits.until(() -> hits("first"), runs -> runs.size() == 2, "the 503 at first");
                Awaits.await(() -> edge.status().contains(" waiters=1 "), "the request passed on, in second's queue");
                // what the test is about: the time its 2 s allowed, counted from its start, runs out while it waits
                long left = 2_100 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
                if (left > 0) {
                    Thread.sleep(left);
                }
                assertThat(edge.status()).as("still waiting past its 2 s").contains(" waiters=1 ");
            } finally {
                Files.writeString(dir.resolve("go"), "");
            }
            assertThat(held.get(30, TimeUnit.SECONDS).body()).isEqualTo("held 200 from second");
            assertThat(passed.get(30, TimeUnit.SECONDS).body()).isEqualTo("200 from second");
            assertThat(logged("GET", "/late/c?first=503")).isEqualTo("200|503, 200|" + first.address() + ", "
                    + second.address());
        }
    }

    private static HttpResponse<String> sendUnchecked(EdgeHarness edge, String target) {
        try {
            return send(edge, "GET", target, null);
        } catch (Exception e) {
            throw new CompletionException(e);
        }
    }

    /** off: a connect the first address refuses is the request's 502 at once; by default it goes to the second. */
    @Test
    void offPassesNotEvenAFailedConnectOn() throws Exception {
        try (PhpFpm stopped = pool("stopped"); PhpFpm second = pool("second")) {
            stopped.stopNow();
            try (EdgeHarness edge = edge(location("off", "fastcgi-next-upstream = [off]", stopped.address(),
                    second.address()), location("on", "", stopped.address(), second.address()))) {
                assertThat(send(edge, "GET", "/off/a", null).statusCode()).isEqualTo(502);
                assertThat(logged("GET", "/off/a")).isEqualTo("502|502|" + stopped.address());
                assertThat(hits("second")).isEmpty();

                assertThat(send(edge, "GET", "/on/a", null).body()).isEqualTo("200 from second");
                assertThat(logged("GET", "/on/a")).isEqualTo("200|502, 200|" + stopped.address() + ", "
                        + second.address());
            }
        }
    }

    /**
     * Passed on, and the last address refuses too (php-fpm stopped): both tries failed, 502 (once the last address left
     * has refused for the restart window, as it is waited for), both listed.
     */
    @Test
    void passedOnAndTheLastAddressRefusesTooIs502WithBothTriesLogged() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm stopped = pool("stopped")) {
            stopped.stopNow();
            try (EdgeHarness edge = edge(location("busy", "fastcgi-next-upstream = [error, http_503]", first.address(),
                    stopped.address()))) {
                assertThat(send(edge, "GET", "/busy/a?first=503", null).statusCode()).isEqualTo(502);
                assertThat(logged("GET", "/busy/a?first=503")).isEqualTo("502|503, 502|" + first.address() + ", "
                        + stopped.address());
            }
        }
    }

    /**
     * As nginx counts them: a 503 passed on counts against its address's health (max-fails 1 takes it out, the next
     * requests go to the other alone), a 404 passed on does not (the third request, its turn again, meets it again).
     */
    @Test
    void a503PassedOnCountsAgainstItsAddressAnd404DoesNot() throws Exception {
        String health = ", health { max-fails = 1, fail-timeout = 60 s }";
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(locationInGroup("busy", "fastcgi-next-upstream = [http_503]", health,
                     first.address(), second.address()), locationInGroup("missing",
                     "fastcgi-next-upstream = [http_404]", health, first.address(), second.address()))) {
            for (String name : new String[] {"busy", "missing"}) {
                String status = name.equals("busy") ? "503" : "404";
                for (String path : new String[] {"a", "b", "c"}) {
                    send(edge, "GET", "/" + name + "/" + path + "?first=" + status, null);
                }
            }
            String both = first.address() + ", " + second.address();
            assertThat(logged("GET", "/busy/a?first=503")).isEqualTo("200|503, 200|" + both);
            assertThat(logged("GET", "/busy/b?first=503")).isEqualTo("200|200|" + second.address());
            assertThat(logged("GET", "/busy/c?first=503")).isEqualTo("200|200|" + second.address());
            assertThat(logged("GET", "/missing/b?first=404")).isEqualTo("200|200|" + second.address());
            assertThat(logged("GET", "/missing/c?first=404")).isEqualTo("200|404, 200|" + both);
            assertThat(hits("first")).containsExactly("/busy/a?first=503", "/missing/a?first=404",
                    "/missing/c?first=404");
        }
    }

    /**
     * The last address's answer of a listed status is the request's and no failure of its address, as nginx's
     * ngx_http_upstream_test_next passes on only while a try is left (peer.tries > 1) and frees the last peer as no
     * failure: both 503, the first counts (max-fails 1, down), the second does not, and takes the next request alone.
     */
    @Test
    void theLastAddressesListedStatusDoesNotCountAgainstIt() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(locationInGroup("busy", "fastcgi-next-upstream = [http_503]",
                     ", health { max-fails = 1, fail-timeout = 60 s }", first.address(), second.address()))) {
            assertThat(send(edge, "GET", "/busy/a?first=503&second=503", null).body()).isEqualTo("503 from second");
            assertThat(logged("GET", "/busy/a?first=503&second=503")).isEqualTo("503|503, 503|" + first.address()
                    + ", " + second.address());
            for (String path : new String[] {"b", "c"}) {
                assertThat(send(edge, "GET", "/busy/" + path, null).body()).isEqualTo("200 from second");
                assertThat(logged("GET", "/busy/" + path)).isEqualTo("200|200|" + second.address());
            }
        }
    }

    /**
     * A head php-fpm sent that is no CGI head (over 32 KiB) counts against its address's health whether it is passed
     * on (invalid_header) or answered (502), as nginx frees an invalid header's peer as NGX_PEER_FAILED either way: with
     * max-fails 1 the first address is down after it, and the next requests, one of them its turn, go to the second.
     */
    @Test
    void anAnswerWithoutAHeadCountsAgainstItsAddressPassedOnOrNot() throws Exception {
        String health = ", health { max-fails = 1, fail-timeout = 60 s }";
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(locationInGroup("garbled", "fastcgi-next-upstream = [invalid_header]", health,
                     first.address(), second.address()), locationInGroup("default", "", health, first.address(),
                     second.address()))) {
            for (String name : new String[] {"garbled", "default"}) {
                for (String path : new String[] {"a", "b", "c"}) {
                    send(edge, "GET", "/" + name + "/" + path + "?bad=first", null);
                }
                assertThat(logged("GET", "/" + name + "/b?bad=first")).isEqualTo("200|200|" + second.address());
                assertThat(logged("GET", "/" + name + "/c?bad=first")).isEqualTo("200|200|" + second.address());
            }
            assertThat(logged("GET", "/garbled/a?bad=first")).isEqualTo("200|502, 200|" + first.address() + ", "
                    + second.address());
            assertThat(logged("GET", "/default/a?bad=first")).isEqualTo("502|502|" + first.address());
            assertThat(hits("first")).containsExactly("/garbled/a?bad=first", "/default/a?bad=first");
        }
    }

    /**
     * A group of one address is never taken out by a head refused, as nginx's only server is never marked down
     * (ngx_http_upstream_get_round_robin_peer and ngx_http_upstream_free_round_robin_peer skip max_fails for a single
     * peer): after a 502 for a head over 32 KiB, with max-fails 1, the next request runs there, invalid_header in the
     * list or not (nginx 1.22 beside it answered the same: 502, then 200).
     */
    @Test
    void aHeadRefusedNeverTakesOutTheOnlyAddress() throws Exception {
        String health = ", health { max-fails = 1, fail-timeout = 60 s }";
        try (PhpFpm only = pool("first");
             EdgeHarness edge = edge(locationInGroup("garbled", "fastcgi-next-upstream = [invalid_header]", health,
                     only.address()), locationInGroup("default", "", health, only.address()))) {
            for (String name : new String[] {"garbled", "default"}) {
                assertThat(send(edge, "GET", "/" + name + "/a?bad=first", null).statusCode()).isEqualTo(502);
                assertThat(send(edge, "GET", "/" + name + "/b", null).body()).as(name).isEqualTo("200 from first");
                assertThat(logged("GET", "/" + name + "/b")).isEqualTo("200|200|" + only.address());
            }
        }
    }

    /**
     * A 503 passed on counts against its address the moment it is passed on, as nginx's, not once its script ends: while
     * the first address's script still holds its worker after its head, the address is down (max-fails 1) and the next
     * requests, one of them its turn, go to the other alone.
     */
    @Test
    void a503PassedOnCountsAtOnceWhileItsScriptStillRuns() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(locationInGroup("busy", "fastcgi-next-upstream = [http_503]",
                     ", health { max-fails = 1, fail-timeout = 60 s }", first.address(), second.address()))) {
            try {
                for (String path : new String[] {"a", "b", "c"}) {
                    assertThat(send(edge, "GET", "/busy/" + path + "?first=503&hold=first", null).body())
                            .isEqualTo("200 from second");
                }
                assertThat(logged("GET", "/busy/a?first=503&hold=first")).isEqualTo("200|503, 200|"
                        + first.address() + ", " + second.address());
                assertThat(logged("GET", "/busy/b?first=503&hold=first")).isEqualTo("200|200|" + second.address());
                assertThat(logged("GET", "/busy/c?first=503&hold=first")).isEqualTo("200|200|" + second.address());
                assertThat(hits("first")).containsExactly("/busy/a?first=503&hold=first");
            } finally {
                Files.writeString(dir.resolve("go"), "");
            }
        }
    }

    /**
     * A POST went out: passed on only with non_idempotent, then with its body whole (read before the first try and
     * kept); a PUT without it.
     */
    @Test
    void aPostGoesOnOnlyWithNonIdempotentAndWithItsBody() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(
                     location("idempotent", "fastcgi-next-upstream = [http_500]", first.address(), second.address()),
                     location("put", "fastcgi-next-upstream = [http_500]", first.address(), second.address()),
                     location("any", "fastcgi-next-upstream = [http_500, non_idempotent]", first.address(),
                             second.address()))) {
            HttpResponse<String> post = send(edge, "POST", "/idempotent/a?first=500", " and a body");
            assertThat(post.statusCode()).isEqualTo(500);
            assertThat(post.body()).isEqualTo("500 from first and a body");
            assertThat(logged("POST", "/idempotent/a?first=500")).isEqualTo("500|500|" + first.address());

            HttpResponse<String> put = send(edge, "PUT", "/put/a?first=500", " and a body");
            assertThat(put.body()).isEqualTo("200 from second and a body");
            assertThat(logged("PUT", "/put/a?first=500")).isEqualTo("200|500, 200|" + first.address() + ", "
                    + second.address());

            HttpResponse<String> any = send(edge, "POST", "/any/a?first=500", " and a body");
            assertThat(any.body()).isEqualTo("200 from second and a body");
            assertThat(logged("POST", "/any/a?first=500")).isEqualTo("200|500, 200|" + first.address() + ", "
                    + second.address());
        }
    }

    /** A head php-fpm sent that is no CGI head (over 32 KiB), 502 by default, goes on with invalid_header. */
    @Test
    void anAnswerWithoutAHeadGoesOnWithInvalidHeader() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(location("garbled", "fastcgi-next-upstream = [invalid_header]", first.address(),
                     second.address()), location("default", "", first.address(), second.address()))) {
            HttpResponse<String> passed = send(edge, "GET", "/garbled/a?bad=first", null);
            assertThat(passed.body()).isEqualTo("200 from second");
            assertThat(logged("GET", "/garbled/a?bad=first")).isEqualTo("200|502, 200|" + first.address() + ", "
                    + second.address());

            assertThat(send(edge, "GET", "/default/a?bad=first", null).statusCode()).isEqualTo(502);
            assertThat(logged("GET", "/default/a?bad=first")).isEqualTo("502|502|" + first.address());
        }
    }

    /**
     * The answer passed on is judged at its head, before anything of it goes anywhere: the response cache stores the
     * second address's answer (the next request a hit of it), and the first's X-Accel-Redirect is never followed.
     */
    @Test
    void anAnswerPassedOnReachesNeitherTheCacheNorItsXAccelRedirect() throws Exception {
        try (PhpFpm first = pool("first"); PhpFpm second = pool("second");
             EdgeHarness edge = edge(location("cached", "fastcgi-next-upstream = [http_503], cache = true",
                     first.address(), second.address()), location("accel", "fastcgi-next-upstream = [http_404]",
                     first.address(), second.address()))) {
            HttpResponse<String> miss = send(edge, "GET", "/cached/a?first=503", null);
            assertThat(miss.body()).isEqualTo("200 from second");
            assertThat(logged("GET", "/cached/a?first=503")).isEqualTo("200|503, 200|" + first.address() + ", "
                    + second.address());
            HttpResponse<String> hit = send(edge, "GET", "/cached/a?first=503", null);
            assertThat(hit.statusCode()).isEqualTo(200);
            assertThat(hit.body()).isEqualTo("200 from second");
            assertThat(hits("first")).containsExactly("/cached/a?first=503");
            assertThat(hits("second")).containsExactly("/cached/a?first=503");

            HttpResponse<String> accel = send(edge, "GET", "/accel/a?first=404&accel", null);
            assertThat(accel.body()).isEqualTo("200 from second");
            assertThat(logged("GET", "/accel/a?first=404&accel")).isEqualTo("200|404, 200|" + first.address() + ", "
                    + second.address());
        }
    }
}
