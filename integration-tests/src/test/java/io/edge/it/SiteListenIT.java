package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.io.IOException;
import java.io.UncheckedIOException;
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

    private static final int PUBLIC = freePort();
    private static final int ADMIN = freePort();
    private static final int MOVED = freePort();

    /** A port free now, as the process tests pick theirs ({@link EdgeProcess#freePort}). */
    private static int freePort() {
        try {
            return EdgeProcess.freePort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TempDir
    Path dir;

    @Test
    void eachPortAnswersFromItsOwnSitesAndAReloadMovesOne() throws Exception {
        for (String site : new String[] {"public", "admin", "shared"}) {
            Files.writeString(Files.createDirectories(dir.resolve(site)).resolve("who.txt"), site);
        }
        Files.writeString(dir.resolve("admin/who.php"), "<?php echo 'admin script on ', $_SERVER['SERVER_PORT'];");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, config(fpm, "_", "127.0.0.1:" + ADMIN, ""))) {
            assertThat(edge.edge().boundAddresses()).containsExactly(new InetSocketAddress("127.0.0.1", PUBLIC),
                    new InetSocketAddress("127.0.0.1", ADMIN));
            assertThat(who(PUBLIC, "example.org")).as("the first site on the port is its default").isEqualTo("public");
            assertThat(who(ADMIN, "example.org")).as("another port, another first site").isEqualTo("admin");
            assertThat(who(PUBLIC, "_")).isEqualTo("public");
            assertThat(who(ADMIN, "_")).as("\"_\" of two sites on two ports: no conflict").isEqualTo("admin");
            assertThat(who(PUBLIC, "shared.org")).as("a site on both ports").isEqualTo("shared");
            assertThat(who(ADMIN, "shared.org")).isEqualTo("shared");
            assertThat(get(ADMIN, "example.org", "/who.php")).isEqualTo("admin script on " + ADMIN);
            assertThat(status(PUBLIC, "example.org", "/who.php")).as("the public site has no PHP location: the file"
                    + " is not there").isEqualTo(404);

            // the shared site the default of the admin port alone
            edge.reload(config(fpm, "_", "127.0.0.1:" + ADMIN, "default = true, listen = [\"127.0.0.1:" + ADMIN
                    + "\"]"));
            assertThat(who(ADMIN, "example.org")).as("marked default on that port").isEqualTo("shared");
            assertThat(who(ADMIN, "_")).isEqualTo("admin");
            assertThat(who(PUBLIC, "example.org")).isEqualTo("public");
            assertThat(who(PUBLIC, "shared.org")).as("no longer on this port").isEqualTo("public");

            // the admin site moved to the public port, behind the public site (a name of its own there: "_" of two
            // sites on one address is an error); the shared one keeps the admin port
            edge.reload(config(fpm, "admin.org", "127.0.0.1:" + PUBLIC, "default = true, listen = [\"127.0.0.1:"
                    + ADMIN + "\"]"));
            assertThat(who(PUBLIC, "admin.org")).isEqualTo("admin");
            assertThat(get(PUBLIC, "admin.org", "/who.php")).isEqualTo("admin script on " + PUBLIC);
            assertThat(who(PUBLIC, "example.org")).as("still the first there").isEqualTo("public");
            assertThat(who(ADMIN, "admin.org")).as("moved away").isEqualTo("shared");
            assertThat(who(ADMIN, "_")).isEqualTo("shared");
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
        reloadClosesTheKeptPublicConnection(APART.formatted(MOVED, ADMIN, MOVED, ADMIN), MOVED, "public");
    }

    /**
     * A reload from sites on ports of their own to one site on every port that remains (the public port dropped, the
     * admin site alone on its port) closes the public port's connections too: they stayed open, and a kept-alive client
     * of the public port was answered by the admin site, the new configuration's only one, though it never listened
     * there.
     */
    @Test
    void aReloadToSitesOnEveryAddressClosesTheConnectionsOfAPortItDrops() throws Exception {
        reloadClosesTheKeptPublicConnection("""
                server.listen = ["127.0.0.1:%d"]
                sites = [{ server-names = ["admin.org"], root = "admin", locations = [{ match = "/" }] }]
                """.formatted(ADMIN), ADMIN, "admin");
    }

    /**
     * Under {@link #APART}, a client of the public port kept alive across a reload to {@code next}, where
     * {@code answering} answers example.org with {@code answer}, is closed by it.
     */
    private void reloadClosesTheKeptPublicConnection(String next, int answering, String answer) throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("public")).resolve("who.txt"), "public");
        Files.writeString(Files.createDirectories(dir.resolve("admin")).resolve("who.txt"), "admin");
        try (EdgeHarness edge = EdgeHarness.start(dir, APART.formatted(PUBLIC, ADMIN, PUBLIC, ADMIN));
             RawHttpClient client = new RawHttpClient(new InetSocketAddress("127.0.0.1", PUBLIC))) {
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
    private static String config(PhpFpm fpm, String adminName, String adminListen, String shared) {
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
                """.formatted(PUBLIC, ADMIN, PUBLIC, adminName,
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
