package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site's {@code listen}, as nginx's {@code server { listen 8080; server_name _; }} beside
 * {@code server { listen 8081; server_name _; }}: a connection is routed among the sites that listen on the address it
 * was accepted on, each address with its own default (the site marked so, else the first there), on a real edge with
 * two listeners, real files and a real php-fpm; and a reload moves a site from one to the other.
 */
class SiteListenIT {

    /** The ports of the test's listeners: picked free for each run ({@link #onFreePorts}). */
    private int publicPort;
    private int adminPort;
    /** Where a reload moves the public site. */
    private int movedPort;

    /** What a test runs on its ports. */
    private interface Run {
        void run() throws Exception;
    }

    /**
     * Runs {@code run} on the three ports picked free, and again on others where one was in use by the time edge bound
     * it (at the start or a reload): edge cannot bind port 0 for them, its configuration naming each again in a
     * site's listen, and a port is only free when picked.
     */
    private void onFreePorts(Run run) throws Exception {
        EdgeProcess.onFreePorts(3, ports -> {
            publicPort = ports[0];
            adminPort = ports[1];
            movedPort = ports[2];
            run.run();
            return null;
        });
    }

    @TempDir
    Path dir;

    @Test
    void eachPortAnswersFromItsOwnSitesAndAReloadMovesOne() throws Exception {
        for (String site : new String[] {"public", "admin", "shared"}) {
            Files.writeString(Files.createDirectories(dir.resolve(site)).resolve("who.txt"), site);
        }
        Files.writeString(dir.resolve("admin/who.php"), "<?php echo 'admin script on ', $_SERVER['SERVER_PORT'];");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 1\n")) {
            onFreePorts(() -> eachPortsOwnSitesThenAReloadMovesOne(fpm));
        }
    }

    private void eachPortsOwnSitesThenAReloadMovesOne(PhpFpm fpm) throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, config(fpm, "_", "127.0.0.1:" + adminPort, ""))) {
            assertThat(edge.edge().boundAddresses()).containsExactly(new InetSocketAddress("127.0.0.1", publicPort),
                    new InetSocketAddress("127.0.0.1", adminPort));
            assertThat(who(publicPort, "example.org")).as("the first site on the port is its default")
                    .isEqualTo("public");
            assertThat(who(adminPort, "example.org")).as("another port, another first site").isEqualTo("admin");
            assertThat(who(publicPort, "_")).isEqualTo("public");
            assertThat(who(adminPort, "_")).as("\"_\" of two sites on two ports: no conflict").isEqualTo("admin");
            assertThat(who(publicPort, "shared.org")).as("a site on both ports").isEqualTo("shared");
            assertThat(who(adminPort, "shared.org")).isEqualTo("shared");
            assertThat(get(adminPort, "example.org", "/who.php")).isEqualTo("admin script on " + adminPort);
            assertThat(status(publicPort, "example.org", "/who.php")).as("the public site has no PHP location: the"
                    + " file is not there").isEqualTo(404);

            // the shared site the default of the admin port alone
            edge.reload(config(fpm, "_", "127.0.0.1:" + adminPort, "default = true, listen = [\"127.0.0.1:"
                    + adminPort + "\"]"));
            assertThat(who(adminPort, "example.org")).as("marked default on that port").isEqualTo("shared");
            assertThat(who(adminPort, "_")).isEqualTo("admin");
            assertThat(who(publicPort, "example.org")).isEqualTo("public");
            assertThat(who(publicPort, "shared.org")).as("no longer on this port").isEqualTo("public");

            // the admin site moved to the public port, behind the public site (a name of its own there: "_" of two
            // sites on one address is an error); the shared one keeps the admin port
            edge.reload(config(fpm, "admin.org", "127.0.0.1:" + publicPort, "default = true, listen = [\"127.0.0.1:"
                    + adminPort + "\"]"));
            assertThat(who(publicPort, "admin.org")).isEqualTo("admin");
            assertThat(get(publicPort, "admin.org", "/who.php")).isEqualTo("admin script on " + publicPort);
            assertThat(who(publicPort, "example.org")).as("still the first there").isEqualTo("public");
            assertThat(who(adminPort, "admin.org")).as("moved away").isEqualTo("shared");
            assertThat(who(adminPort, "_")).isEqualTo("shared");
        }
    }

    /** A public site named "_" on the first port, an admin site, the default, on the second. */
    private static final String APART = """
            server.listen = ["127.0.0.1:%d", "127.0.0.1:%d"]
            sites = [
              { server-names = ["_"], listen = ["127.0.0.1:%d"], root = "public", locations = [{ match = "/" }] }
              { server-names = ["admin.org"], default = true, listen = ["127.0.0.1:%d"], root = "admin",
                locations = [{ match = "/" }] }
            ]
            """;

    /**
     * A reload that moves the public site to another port closes the connections the old port's listener accepted (an
     * idle one at once, as nginx's old workers close their idle keep-alive connections): their address has no sites
     * any more, and routed among every site a kept-alive client of the public port was answered the admin port's
     * default site.
     */
    @Test
    void aReloadThatClosesAPortClosesTheConnectionsItAccepted() throws Exception {
        onFreePorts(() -> reloadClosesTheKeptPublicConnection(APART.formatted(movedPort, adminPort, movedPort,
                adminPort), movedPort, "public"));
    }

    /**
     * A reload from sites on ports of their own to one site on every port that remains (the public port dropped, the
     * admin site alone on its port) closes the public port's connections too: they stayed open, and a kept-alive client
     * of the public port was answered by the admin site, the new configuration's only one, though it never listened
     * there.
     */
    @Test
    void aReloadToSitesOnEveryAddressClosesTheConnectionsOfAPortItDrops() throws Exception {
        onFreePorts(() -> reloadClosesTheKeptPublicConnection("""
                server.listen = ["127.0.0.1:%d"]
                sites = [{ server-names = ["admin.org"], root = "admin", locations = [{ match = "/" }] }]
                """.formatted(adminPort), adminPort, "admin"));
    }

    /**
     * Under {@link #APART}, a client of the public port kept alive across a reload to {@code next}, where
     * {@code answering} answers example.org with {@code answer}, is closed by it.
     */
    private void reloadClosesTheKeptPublicConnection(String next, int answering, String answer) throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("public")).resolve("who.txt"), "public");
        Files.writeString(Files.createDirectories(dir.resolve("admin")).resolve("who.txt"), "admin");
        try (EdgeHarness edge = EdgeHarness.start(dir, APART.formatted(publicPort, adminPort, publicPort, adminPort));
             RawHttpClient client = new RawHttpClient(new InetSocketAddress("127.0.0.1", publicPort))) {
            String request = "GET /who.txt HTTP/1.1\r\nHost: example.org\r\n\r\n";
            assertThat(client.send(request).read().text()).isEqualTo("public");
            edge.reload(next);
            assertThat(who(answering, "example.org")).isEqualTo(answer);
            assertThat(client.isClosedByPeer()).as("the idle connection of the dropped port").isTrue();
        }
    }

    /**
     * Two listeners; a public site named "_" on the first, an admin site named {@code adminName} with PHP on
     * {@code adminListen}, and a site named shared.org with {@code shared} (every address where it writes none).
     */
    private String config(PhpFpm fpm, String adminName, String adminListen, String shared) {
        return """
                server.listen = ["127.0.0.1:%d", "127.0.0.1:%d"]
                sites = [
                  { server-names = ["_"], listen = ["127.0.0.1:%d"], root = "public", locations = [{ match = "/" }] }
                  { server-names = ["%s"], listen = ["%s"], root = "admin", locations = [
                    { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }
                  ] }
                  { server-names = ["shared.org"], root = "shared", locations = [{ match = "/" }]%s }
                ]
                fastcgi.backends.php { addresses = ["%s"] }
                """.formatted(publicPort, adminPort, publicPort, adminName,
                adminListen, shared.isEmpty() ? "" : ", " + shared, fpm.address());
    }

    private static String who(int port, String host) throws Exception {
        return get(port, host, "/who.txt");
    }

    private static String get(int port, String host, String target) throws Exception {
        try (RawHttpClient client = new RawHttpClient(new InetSocketAddress("127.0.0.1", port))) {
            RawHttpClient.Response response = client.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
                    .read();
            assertThat(response.status()).as(host + " on " + port).isEqualTo(200);
            return response.text();
        }
    }

    private static int status(int port, String host, String target) throws Exception {
        try (RawHttpClient client = new RawHttpClient(new InetSocketAddress("127.0.0.1", port))) {
            return client.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").read().status();
        }
    }
}
