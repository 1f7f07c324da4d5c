package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code limit-conn}, nginx's limit_conn, on a real edge with a real php-fpm: a client's requests in
 * progress (a download its client reads slowly, a script still running) are counted per client (varied by
 * X-Forwarded-For from loopback, which real-ip trusts here) until their answer is out, and one more is refused.
 */
class LimitConnIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Far more than the socket buffers on both ends hold: its download stays in progress while nobody reads it. */
    private static final int BIG = 32 << 20;

    @TempDir
    Path dir;

    /**
     * nginx's line for each refused request ("limiting connections by zone ..."), at limit_conn_log_level; a dry run
     * lets the request on, counted nowhere, and logs "limiting connections, dry run, by zone"; $limit_conn_status says
     * which.
     */
    @Test
    void eachRefusalIsLoggedAsNginxLogsItAndADryRunRefusesNothing() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("downloads"));
        Files.createDirectories(www.resolve("tries"));
        Files.write(www.resolve("downloads/big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("downloads/small.txt"), "small");
        Files.write(www.resolve("tries/big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("tries/small.txt"), "small");
        try (CapturedLog log = CapturedLog.of("io.edge.core.limit.ConnectionLimits");
             CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     server.access-log = "-"
                     server.access-log-format = "$remote_addr $request_uri $status conn=$limit_conn_status"
                     sites = [{ server-names = ["example.test"], default = true, root = "www", locations = [
                       { match = "/" }
                       { match = "/downloads/", limit-conn { max = 1, zone = downloads } }
                       { match = "/tries/", limit-conn { max = 1, zone = tries, dry-run = true, log-level = warn } }
                     ] }]
                     """)) {
            try (RawHttpClient slow = new RawHttpClient(edge.address(), 4096)) {
                slow.send("GET /downloads/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.9\r\n\r\n");
                assertThat(slow.readStatusLine()).isEqualTo("HTTP/1.1 200 OK");
                for (int i = 0; i < 2; i++) {
                    assertThat(edge.getFrom("198.51.100.9", "/downloads/small.txt").statusCode()).isEqualTo(429);
                }
                assertThat(log.events()).as("a line for each").hasSize(2).allSatisfy(event -> {
                    assertThat(event.getLevel()).isEqualTo(Level.ERROR);
                    assertThat(event.getFormattedMessage()).isEqualTo("limiting connections by zone \"downloads\","
                            + " client: 198.51.100.9, server: example.test, request: \"GET /downloads/small.txt"
                            + " HTTP/1.1\", host: \"127.0.0.1:" + edge.address().getPort() + "\"");
                });
            }
            try (RawHttpClient slow = new RawHttpClient(edge.address(), 4096)) {
                slow.send("GET /tries/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.9\r\n\r\n");
                assertThat(slow.readStatusLine()).isEqualTo("HTTP/1.1 200 OK");
                assertThat(edge.getFrom("198.51.100.9", "/tries/small.txt").body()).as("a dry run refuses none")
                        .isEqualTo("small");
                assertThat(log.events().subList(2, log.events().size())).singleElement().satisfies(event -> {
                    assertThat(event.getLevel()).isEqualTo(Level.WARN);
                    assertThat(event.getFormattedMessage()).startsWith("limiting connections, dry run, by zone"
                            + " \"tries\", client: 198.51.100.9, ");
                });
            }
            List<String> expected = List.of("198.51.100.9 /downloads/small.txt 429 conn=REJECTED",
                    "198.51.100.9 /tries/small.txt 200 conn=REJECTED_DRY_RUN");
            Awaits.until(access::lines, lines -> lines.containsAll(expected), "the access log's lines");
        }
    }

    @Test
    void aDownloadInProgressHoldsItsClientsPlaceUntilItsLastByteOrItsClientIsGone() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("downloads"));
        Files.createDirectories(www.resolve("errors"));
        Files.write(www.resolve("downloads/big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("downloads/small.txt"), "small");
        Files.writeString(www.resolve("free.html"), "free");
        Files.writeString(www.resolve("errors/busy.html"), "<p>one at a time</p>");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 429 = "/errors/busy.html" },
                  locations = [
                    { match = "/" }
                    { match = "/downloads/", limit-conn { max = 1 } }
                  ] }]
                """)) {
            try (RawHttpClient slow = new RawHttpClient(edge.address(), 4096)) {
                slow.send("GET /downloads/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n");
                assertThat(slow.readStatusLine()).as("the download under way, not refused")
                        .isEqualTo("HTTP/1.1 200 OK");

                HttpResponse<String> refused = edge.getFrom("198.51.100.1", "/downloads/small.txt");
                assertThat(refused.statusCode()).as("a second request in progress for the client").isEqualTo(429);
                assertThat(refused.body()).isEqualTo("<p>one at a time</p>");
                assertThat(edge.getFrom("198.51.100.1", "/downloads/missing.txt").statusCode())
                        .as("refused before the file is looked for").isEqualTo(429);
                assertThat(edge.getFrom("198.51.100.1", "/free.html").body()).as("a location without a limit")
                        .isEqualTo("free");
                assertThat(edge.getFrom("198.51.100.2", "/downloads/small.txt").body()).as("another client")
                        .isEqualTo("small");
            }
            // the client left before the last byte: its place is back once edge has seen it go
            Awaits.until(() -> edge.getFrom("198.51.100.1", "/downloads/small.txt").statusCode(), status -> status == 200,
                    "the client's place back after it left");

            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response whole = client.send("GET /downloads/big.bin HTTP/1.1\r\nHost: a\r\n"
                        + "X-Forwarded-For: 198.51.100.3\r\n\r\n").read();
                assertThat(whole.status()).isEqualTo(200);
                assertThat(whole.body()).hasSize(BIG);
                // on the same connection, so after edge saw the last byte written: the place is back
                assertThat(client.send("GET /downloads/small.txt HTTP/1.1\r\nHost: a\r\n"
                        + "X-Forwarded-For: 198.51.100.3\r\n\r\n").read().text()).isEqualTo("small");
                for (int i = 0; i < 3; i++) {
                    assertThat(client.send("GET /downloads/missing.txt HTTP/1.1\r\nHost: a\r\n"
                            + "X-Forwarded-For: 198.51.100.3\r\n\r\n").read().status())
                            .as("an error answer gives its place back too").isEqualTo(404);
                }
            }
        }
    }

    /**
     * With ipv6-prefix = 64 an IPv6 client is its /64: a download in progress for one address of it holds the place of
     * every other, and gives it back when it ends; another /64 is another client.
     */
    @Test
    void withAnIpv6PrefixOf64ADownloadHoldsThePlaceOfItsWholeSlash64() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("small.txt"), "small");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ root = "www", locations = [{ match = "/", limit-conn { max = 1, ipv6-prefix = 64 } }] }]
                """)) {
            try (RawHttpClient slow = new RawHttpClient(edge.address(), 4096)) {
                slow.send("GET /big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 2001:db8::1\r\n\r\n");
                assertThat(slow.readStatusLine()).as("the download under way, not refused")
                        .isEqualTo("HTTP/1.1 200 OK");
                assertThat(edge.getFrom("2001:db8::2", "/small.txt").statusCode()).as("another address of its /64")
                        .isEqualTo(429);
                assertThat(edge.getFrom("2001:db8:0:1::1", "/small.txt").body()).as("another /64").isEqualTo("small");
            }
            Awaits.until(() -> edge.getFrom("2001:db8::2", "/small.txt").statusCode(), status -> status == 200,
                    "the /64's place back after the download's client left");
        }
    }

    /** A reload keeps the tables, as nginx keeps its zones: a download the old configuration started still counts. */
    @Test
    void aDownloadStartedBeforeAReloadStillCountsAfterIt() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("small.txt"), "small");
        String config = """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", limit-conn { max = 1, zone = files } }
                  { match = "= /version", return = "200 %s" }
                ] }]
                """;
        try (EdgeHarness edge = EdgeHarness.start(dir, config.formatted("old"));
             RawHttpClient slow = new RawHttpClient(edge.address(), 4096)) {
            slow.send("GET /big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n");
            assertThat(slow.readStatusLine()).as("the download under way, not refused")
                    .isEqualTo("HTTP/1.1 200 OK");
            edge.reload(config.formatted("new"));
            assertThat(edge.getFrom("198.51.100.1", "/version").body()).as("the new configuration answers")
                    .isEqualTo("new");
            assertThat(edge.getFrom("198.51.100.1", "/small.txt").statusCode()).isEqualTo(429);
        }
    }

    /**
     * Pipelined requests are answered one after another, each once the one before is out, as nginx answers them: the
     * second does not find the first, whose file is still being sent, in progress.
     */
    @Test
    void pipelinedRequestsEachFindTheOneBeforeEnded() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.write(www.resolve("big.bin"), new byte[BIG]);
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", limit-conn { max = 1 } }
                ] }]
                """);
             RawHttpClient client = new RawHttpClient(edge.address(), 4096)) {
            client.send("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
            for (int i = 0; i < 2; i++) {
                RawHttpClient.Response response = client.read();
                assertThat(response.status()).as("request " + (i + 1)).isEqualTo(200);
                assertThat(response.body()).hasSize(BIG);
            }
        }
    }

    /**
     * A request is counted once, by the first limited location it meets: an internal redirect into another location of
     * the same zone lets it through (counted again, max 1 would refuse it); 444 closes without an answer.
     */
    @Test
    void aRequestIsCountedOnceWhateverLocationsItPassesAndA444LimitClosesTheConnection() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("new"));
        Files.createDirectories(www.resolve("bots"));
        Files.writeString(www.resolve("new/page.html"), "page");
        Files.write(www.resolve("bots/big.bin"), new byte[BIG]);
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/old/", front-controller = "/new/page.html", limit-conn { max = 1, zone = pages } }
                  { match = "/new/", limit-conn { max = 1, zone = pages } }
                  { match = "/bots/", limit-conn { max = 1, status = 444 } }
                ] }]
                """)) {
            HttpResponse<String> redirected = edge.getFrom("198.51.100.1", "/old/anything");
            assertThat(redirected.statusCode()).isEqualTo(200);
            assertThat(redirected.body()).isEqualTo("page");

            try (RawHttpClient slow = new RawHttpClient(edge.address(), 4096);
                 RawHttpClient bot = new RawHttpClient(edge.address())) {
                slow.send("GET /bots/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.2\r\n\r\n");
                assertThat(slow.readStatusLine()).as("the download under way, not refused")
                        .isEqualTo("HTTP/1.1 200 OK");
                bot.send("GET /bots/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.2\r\n\r\n");
                assertThat(bot.isClosedByPeer()).as("444: no answer at all").isTrue();
            }
        }
    }

    /**
     * A script still running holds its client's place (in the zone the PHP locations share) until php-fpm has answered;
     * the client's next request meanwhile is refused without reaching php-fpm, other clients' run.
     */
    @Test
    void aRunningScriptHoldsItsClientsPlaceInTheZoneItsLocationsShare() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("api"));
        Path counter = dir.resolve("count.txt");
        Files.writeString(www.resolve("hold.php"), """
                <?php
                file_put_contents('%s', "start\\n", FILE_APPEND | LOCK_EX);
                for ($i = 0; $i < 12000 && !file_exists('%s'); $i++) { clearstatcache(); usleep(10000); }
                echo 'held';
                """.formatted(counter, dir.resolve("release")));
        Files.writeString(www.resolve("api/quick.php"), """
                <?php
                file_put_contents('%s', "quick\\n", FILE_APPEND | LOCK_EX);
                echo 'quick';
                """.formatted(counter));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, limit-conn { max = 1, zone = php } }
                       { match = "^~ /api/", fastcgi = php, limit-conn { max = 1, zone = php, status = 503 } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            CompletableFuture<HttpResponse<String>> held = HTTP.sendAsync(HttpRequest.newBuilder(edge.uri("/hold.php"))
                    .header("X-Forwarded-For", "198.51.100.1").build(), HttpResponse.BodyHandlers.ofString());
            await(() -> Files.exists(counter) && Files.readAllLines(counter).contains("start"), "the script started");

            HttpResponse<String> refused = edge.getFrom("198.51.100.1", "/api/quick.php");
            assertThat(refused.statusCode()).as("the zone's place is taken; the status this location names")
                    .isEqualTo(503);
            assertThat(refused.headers().firstValue("retry-after")).as("as nginx's: when a place comes free is not known")
                    .isEmpty();
            assertThat(edge.getFrom("198.51.100.2", "/api/quick.php").body()).as("another client").isEqualTo("quick");
            assertThat(Files.readAllLines(counter)).as("the refused request never ran")
                    .containsExactly("start", "quick");

            Files.writeString(dir.resolve("release"), "");
            assertThat(held.get().body()).isEqualTo("held");
            Awaits.until(() -> edge.getFrom("198.51.100.1", "/api/quick.php").statusCode(), status -> status == 200,
                    "the client's place back after its script answered");
            assertThat(Files.readAllLines(counter)).containsExactly("start", "quick", "quick");
        } finally {
            Files.writeString(dir.resolve("release"), "");
        }
    }

    /**
     * nginx's download pattern: a script decides who may have a file and hands it out with X-Accel-Redirect into an
     * internal location whose limit-conn counts each client's downloads, until their last byte.
     */
    @Test
    void aFileAnXAccelRedirectSendsCountsInItsLocationsLimit() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("protected"));
        Files.write(www.resolve("protected/big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("protected/small.txt"), "small");
        Files.writeString(www.resolve("download.php"), """
                <?php
                header('X-Accel-Redirect: /protected/' . basename($_GET['f']));
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "/protected/", internal = true, limit-conn { max = 1 } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            try (RawHttpClient slow = new RawHttpClient(edge.address(), 4096)) {
                slow.send("GET /download.php?f=big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n");
                assertThat(slow.readStatusLine()).as("the download under way, not refused")
                        .isEqualTo("HTTP/1.1 200 OK");

                assertThat(edge.getFrom("198.51.100.1", "/download.php?f=small.txt").statusCode())
                        .as("the client's second download meanwhile").isEqualTo(429);
                assertThat(edge.getFrom("198.51.100.2", "/download.php?f=small.txt").body()).as("another client's")
                        .isEqualTo("small");
            }
            Awaits.until(() -> edge.getFrom("198.51.100.1", "/download.php?f=small.txt").statusCode(),
                    status -> status == 200, "the client's place back after it left");
        }
    }

    /** A front controller run for another location's URI holds a place in that location's limit-conn. */
    @Test
    void aFrontControllerRunForAnotherUriHoldsAPlaceInItsLocationsLimit() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path started = dir.resolve("started");
        Files.writeString(www.resolve("index.php"), """
                <?php
                touch('%s');
                for ($i = 0; $i < 12000 && !file_exists('%s'); $i++) { clearstatcache(); usleep(10000); }
                echo 'front';
                """.formatted(started, dir.resolve("release")));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.real-ip.from = ["127.0.0.1"]
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", fastcgi = php, front-controller = "/index.php" }
                       { match = "= /index.php", fastcgi = php, limit-conn { max = 1 } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            CompletableFuture<HttpResponse<String>> held = HTTP.sendAsync(HttpRequest.newBuilder(edge.uri("/app/a"))
                    .header("X-Forwarded-For", "198.51.100.1").build(), HttpResponse.BodyHandlers.ofString());
            await(() -> Files.exists(started), "the front controller running");
            assertThat(edge.getFrom("198.51.100.1", "/app/b").statusCode()).isEqualTo(429);
            Files.writeString(dir.resolve("release"), "");
            assertThat(held.get().body()).isEqualTo("front");
        } finally {
            Files.writeString(dir.resolve("release"), "");
        }
    }
}
