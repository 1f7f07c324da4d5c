package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The response cache beside sites on addresses of their own, as nginx's {@code server { listen 8080; }} beside
 * {@code server { listen 8081; }} with {@code fastcgi_cache} in each: one Host and one target on two ports are two
 * sites, and each is answered from its own site's entries through a real php-fpm, purged among them alone, its misses
 * never waiting for the other's; a site on both ports shares its entries across them. Keyed by Host and target alone,
 * the first port's stored page answered the second port.
 */
class SiteListenCacheIT {

    /**
     * Counts its runs in its own directory and answers that directory's name with the count, cacheable for 10 min;
     * {@code ?wait=ms} first waits that long.
     */
    private static final String WHO_PHP = """
            <?php
            usleep(1000 * (int) ($_GET['wait'] ?? 0));
            $runs = (int) @file_get_contents(__DIR__ . '/runs') + 1;
            file_put_contents(__DIR__ . '/runs', $runs);
            header('Cache-Control: max-age=600');
            echo basename(__DIR__), ' run ', $runs;
            """;

    @TempDir
    Path dir;

    @Test
    void eachSiteIsAnsweredAndPurgedFromItsOwnEntries() throws Exception {
        for (String site : new String[] {"public", "admin", "shared"}) {
            Files.writeString(Files.createDirectories(dir.resolve(site)).resolve("who.php"), WHO_PHP);
        }
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\n")) {
            // two listeners, each named again by a site: not port 0, picked free, and again where one was in use by the
            // time edge bound it (edge binds before any request, so no script has run then)
            EdgeProcess.onFreePorts(2, ports -> {
                eachSiteOnItsOwnEntries(fpm, ports[0], ports[1]);
                return null;
            });
        }
    }

    private void eachSiteOnItsOwnEntries(PhpFpm fpm, int publicPort, int adminPort) throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                     server.listen = ["127.0.0.1:%d", "127.0.0.1:%d"]
                     sites = [
                       { server-names = ["_"], listen = ["127.0.0.1:%d"], root = "public",
                         locations = [{ match = "/", fastcgi = php, cache = true }] }
                       { server-names = ["_"], listen = ["127.0.0.1:%d"], root = "admin",
                         locations = [{ match = "/", fastcgi = php, cache = true }] }
                       { server-names = ["shared.org"], root = "shared",
                         locations = [{ match = "/", fastcgi = php, cache = true }] }
                     ]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(publicPort, adminPort, publicPort, adminPort, fpm.address()))) {
            assertThat(edge.edge().boundAddresses()).containsExactly(new InetSocketAddress("127.0.0.1", publicPort),
                    new InetSocketAddress("127.0.0.1", adminPort));
            assertThat(send(publicPort, "GET", "example.org")).isEqualTo("public run 1");
            assertThat(send(adminPort, "GET", "example.org")).as("the same Host and target on the admin port: its own site's"
                    + " answer, not the public site's stored one").isEqualTo("admin run 1");
            assertThat(send(publicPort, "GET", "example.org")).as("stored").isEqualTo("public run 1");
            assertThat(send(adminPort, "GET", "example.org")).as("stored").isEqualTo("admin run 1");

            assertThat(send(publicPort, "PURGE", "example.org")).isEqualTo("purged 1\n");
            assertThat(send(adminPort, "GET", "example.org")).as("the admin site's entry outlives the public site's purge")
                    .isEqualTo("admin run 1");
            assertThat(send(publicPort, "GET", "example.org")).as("purged").isEqualTo("public run 2");

            assertThat(send(adminPort, "GET", "shared.org")).isEqualTo("shared run 1");
            assertThat(send(publicPort, "GET", "shared.org")).as("one site on both ports: one entry")
                    .isEqualTo("shared run 1");

            // misses of both sites at once: each its own backend request, neither a follower of the other's
            ExecutorService clients = Executors.newFixedThreadPool(2);
            try {
                Future<String> publicSlow = clients.submit(() -> send(publicPort, "GET", "example.org", "?wait=500"));
                Future<String> adminSlow = clients.submit(() -> send(adminPort, "GET", "example.org", "?wait=500"));
                assertThat(publicSlow.get()).isEqualTo("public run 3");
                assertThat(adminSlow.get()).isEqualTo("admin run 2");
            } finally {
                clients.shutdownNow();
            }
        }
    }

    /** {@code method} /who.php with {@code host} on {@code port}: the body of a 200 answer. */
    private static String send(int port, String method, String host) throws Exception {
        return send(port, method, host, "");
    }

    /** {@code method} /who.php{@code query} with {@code host} on {@code port}: the body of a 200 answer. */
    private static String send(int port, String method, String host, String query) throws Exception {
        try (RawHttpClient client = new RawHttpClient(new InetSocketAddress("127.0.0.1", port))) {
            RawHttpClient.Response response = client.send(method + " /who.php" + query + " HTTP/1.1\r\nHost: " + host
                    + "\r\n\r\n").read();
            assertThat(response.status()).as(method + " " + host + " on " + port).isEqualTo(200);
            return response.text();
        }
    }
}
