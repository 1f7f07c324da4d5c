package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kept FastCGI connections sitting idle in edge's pools while a request needs a php-fpm worker: an idle kept
 * connection holds a worker (php-fpm serves one connection per worker at a time), and a connect beyond the workers waits
 * in php-fpm's listen backlog, where no worker takes it until a kept connection is closed (its idle timeout, 60 s). With
 * every worker held by idle connections, the next request must still be answered by its script, and at once: none of
 * these waits for an idle timeout, a queue timeout (60 s here) or a read timeout (60 s). A read that gets nothing for
 * the client's 20 s is the failure.
 */
class IdleKeptConnectionsIT {

    @TempDir
    Path dir;

    private PhpFpm fpm;
    private Path www;

    @BeforeEach
    void twoWorkers() throws Exception {
        www = Files.createDirectories(dir.resolve("www"));
        for (String group : List.of("a", "b")) {
            Path scripts = Files.createDirectories(www.resolve(group));
            // Says it started, then holds its worker until the test's release file exists.
            Files.writeString(scripts.resolve("hold.php"), """
                    <?php
                    touch('%1$s/started-' . $_GET['id']);
                    while (!file_exists('%1$s/release')) { usleep(10000); clearstatcache(); }
                    echo 'held ', $_GET['id'];
                    """.formatted(dir));
            Files.writeString(scripts.resolve("quick.php"), "<?php echo 'quick ', getmypid();");
        }
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 2
                """);
    }

    @AfterEach
    void stop() {
        fpm.close();
    }

    /** A group at the php-fpm, with keep-alive, as many connections as it has workers, and long timeouts. */
    private static String group(String name, String address) {
        return """
                fastcgi.backends.%s {
                  addresses = ["%s"], max-connections = 2
                  keep-alive { enabled = true, idle-timeout = 60 s }
                  queue.timeout = 60 s, timeouts.read = 60 s
                }
                """.formatted(name, address);
    }

    /**
     * Both workers held by the scripts of two client connections that are on one event loop (connections are handed to
     * the loops in turn: the first and third share one), then let go: the group keeps both connections idle on that
     * loop. A request on the second client connection, on the other loop, finds every slot taken.
     */
    private void holdBothWorkersFrom(RawHttpClient first, RawHttpClient third, String group) throws Exception {
        first.send("GET /" + group + "/hold.php?id=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        third.send("GET /" + group + "/hold.php?id=2 HTTP/1.1\r\nHost: a\r\n\r\n");
        await(() -> Files.exists(dir.resolve("started-1")) && Files.exists(dir.resolve("started-2")),
                "both workers run a held script");
        Files.createFile(dir.resolve("release"));
        assertThat(first.read().text()).isEqualTo("held 1");
        assertThat(third.read().text()).isEqualTo("held 2");
    }

    /** edge with two event loops whose every path goes to group a. */
    private EdgeHarness oneGroupOnTwoLoops() throws Exception {
        return EdgeHarness.start(dir, """
                server.io-threads = 2
                sites = [{ server-names = ["_"], default = true, root = "www",
                           locations = [{ match = "/", fastcgi = a }] }]
                """ + group("a", fpm.address()));
    }

    /** Asks {@code client} for a quick script of {@code group}: its answer, not a wait (the client's 20 s). */
    private static void assertQuickAnswer(RawHttpClient client, String group) throws Exception {
        RawHttpClient.Response quick = client.send("GET /" + group + "/quick.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
        assertThat(quick.status()).isEqualTo(200);
        assertThat(quick.text()).startsWith("quick ");
    }

    /**
     * Question (1): the group's two idle connections live on one event loop; a request that arrives on the other loop
     * gets one of them (moved to its loop), not a wait in the queue until its timeout (503) while they sit idle.
     */
    @Test
    void aRequestOnAnotherLoopThanTheIdleConnectionsAtTheLimitIsAnsweredOverOneOfThem() throws Exception {
        try (EdgeHarness edge = oneGroupOnTwoLoops();
             RawHttpClient first = new RawHttpClient(edge.address());
             RawHttpClient second = new RawHttpClient(edge.address());
             RawHttpClient third = new RawHttpClient(edge.address())) {
            holdBothWorkersFrom(first, third, "a");
            assertQuickAnswer(second, "a");
        }
    }

    /**
     * Question (3): a client's HTTP keep-alive connection holds no FastCGI connection between its requests. With the
     * first two clients' connections still open (and idle), two more clients on either loop are answered, and so is the
     * first client's next request.
     */
    @Test
    void aClientsKeptConnectionHoldsNoWorkerBetweenItsRequests() throws Exception {
        try (EdgeHarness edge = oneGroupOnTwoLoops();
             RawHttpClient first = new RawHttpClient(edge.address());
             RawHttpClient second = new RawHttpClient(edge.address());
             RawHttpClient third = new RawHttpClient(edge.address());
             RawHttpClient fourth = new RawHttpClient(edge.address())) {
            holdBothWorkersFrom(first, third, "a");
            for (RawHttpClient client : List.of(second, fourth, first)) {
                assertQuickAnswer(client, "a");
            }
        }
    }

    /**
     * Question (2): two groups at one php-fpm (a location of uploads with a longer read timeout beside the others, say).
     * Group a's idle connections hold both workers; group b, which has no connection of its own, connects, and that
     * connect waited in php-fpm's backlog, unseen by either group's queue, until one of a's connections timed out idle
     * (60 s) or b's read timeout gave 504. Its request is answered at once: a gives an idle connection up.
     */
    @Test
    void aSecondGroupAtTheSamePhpFpmIsAnsweredWhileTheFirstsIdleConnectionsHoldEveryWorker() throws Exception {
        secondGroupIsAnsweredWhileTheFirstsIdleConnectionsHoldEveryWorker(fpm.address(), fpm.address());
    }

    /** Groups a and b at {@code addressA} and {@code addressB}: a's idle connections hold both workers; b is answered. */
    private void secondGroupIsAnsweredWhileTheFirstsIdleConnectionsHoldEveryWorker(String addressA, String addressB)
            throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/a/", fastcgi = a }
                  { match = "/b/", fastcgi = b }
                ] }]
                """ + group("a", addressA) + group("b", addressB));
             RawHttpClient first = new RawHttpClient(edge.address());
             RawHttpClient second = new RawHttpClient(edge.address());
             RawHttpClient third = new RawHttpClient(edge.address())) {
            holdBothWorkersFrom(first, third, "a");
            assertQuickAnswer(second, "b");
            assertQuickAnswer(first, "a"); // and group a, one of whose connections went, is served too
        }
    }

    /**
     * Question (2), with the php-fpm's socket spelt two ways ("dir/fpm.sock" and "dir/./fpm.sock"): one php-fpm, so
     * a gives up an idle connection for b's connect past the workers, as above. The configuration
     * normalises a socket's path before the pools see it, so this held before they counted by BackendAddress.key too.
     */
    @Test
    void aSecondGroupNamingTheSameSocketAnotherWayIsAnsweredWhileTheFirstsIdleConnectionsHoldEveryWorker()
            throws Exception {
        String address = fpm.address();
        int slash = address.lastIndexOf('/');
        String respelt = address.substring(0, slash) + "/." + address.substring(slash);
        secondGroupIsAnsweredWhileTheFirstsIdleConnectionsHoldEveryWorker(address, respelt);
    }

    /**
     * As above at a php-fpm on a loopback TCP port, written "127.0.0.1:port" in group a and "[::ffff:127.0.0.1]:port"
     * (the IPv4-mapped spelling) in group b. Unlike a socket's path, which the configuration normalises, the pools
     * kept these two texts apart: b's connect waited in php-fpm's backlog past the client's wait.
     */
    @Test
    void aSecondGroupSpellingTheSameIpAnotherWayIsAnsweredWhileTheFirstsIdleConnectionsHoldEveryWorker()
            throws Exception {
        fpm.close();
        fpm = PhpFpm.tcp(Files.createDirectories(dir.resolve("fpm-tcp")), """
                pm = static
                pm.max_children = 2
                """);
        String address = fpm.address();
        String port = address.substring(address.lastIndexOf(':') + 1);
        secondGroupIsAnsweredWhileTheFirstsIdleConnectionsHoldEveryWorker(address, "[::ffff:127.0.0.1]:" + port);
    }

    /**
     * Question (2), across a reload: a group renamed while a request of the old name still runs keeps the old
     * generation's pool, and its idle connection, until that request ends. The new name's first request connects past
     * the workers; the old pool gives its idle connection up rather than hold the worker until its idle timeout.
     */
    @Test
    void aRenamedGroupsRequestIsAnsweredWhileTheOldNamesIdleConnectionHoldsAWorker() throws Exception {
        String sites = """
                sites = [{ server-names = ["_"], default = true, root = "www",
                           locations = [{ match = "/", fastcgi = %s }] }]
                """;
        try (EdgeHarness edge = EdgeHarness.start(dir, sites.formatted("a") + group("a", fpm.address()));
             RawHttpClient running = new RawHttpClient(edge.address());
             RawHttpClient before = new RawHttpClient(edge.address());
             RawHttpClient after = new RawHttpClient(edge.address())) {
            running.send("GET /a/hold.php?id=1 HTTP/1.1\r\nHost: a\r\n\r\n");
            await(() -> Files.exists(dir.resolve("started-1")), "the running request's script started");
            assertQuickAnswer(before, "a"); // the other worker's connection, idle from now on
            edge.reload(sites.formatted("b") + group("b", fpm.address()));
            assertQuickAnswer(after, "b");
            Files.createFile(dir.resolve("release"));
            assertThat(running.read().text()).isEqualTo("held 1");
        }
    }
}
