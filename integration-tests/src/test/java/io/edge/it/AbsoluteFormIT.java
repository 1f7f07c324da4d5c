package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An absolute-form request target names the site, whatever {@code Host} says (RFC 9112 3.2.2), and neither
 * it nor {@code Host} may be anything but a host and port (an empty {@code Host} names none: 400, as nginx's
 * "client sent invalid host header"): two sites, a.test and b.test, each with a cached
 * PHP script that says which site ran it and for which host.
 */
class AbsoluteFormIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        for (String site : new String[] {"a", "b"}) {
            Path root = Files.createDirectories(dir.resolve("www-" + site));
            Files.writeString(root.resolve("p.php"), """
                    <?php
                    header('Cache-Control: public, max-age=60');
                    header('Content-Type: text/plain');
                    echo 'site=%s host=', $_SERVER['HTTP_HOST'], ' server=', $_SERVER['SERVER_NAME'],
                        ' uri=', $_SERVER['REQUEST_URI'];
                    """.formatted(site));
        }
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [
                  { server-names = ["a.test", "www.a.test"], root = "www-a"
                    locations = [{ match = "/", fastcgi = php, cache = true }] }
                  { server-names = ["b.test"], default = true, root = "www-b"
                    locations = [{ match = "/", fastcgi = php, cache = true }] }
                ]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static String get(String target, String host) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response response = client.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").read();
            assertThat(response.status()).isEqualTo(200);
            return response.text();
        }
    }

    @Test
    void theTargetsAuthorityRoutesAndKeysTheRequestNotHost() throws Exception {
        assertThat(get("http://a.test/p.php?x=1", "b.test")).isEqualTo("site=a host=a.test server=a.test uri=/p.php?x=1");
        // what an ordinary client of each site gets from the cache
        assertThat(get("/p.php?x=1", "a.test")).isEqualTo("site=a host=a.test server=a.test uri=/p.php?x=1");
        assertThat(get("/p.php?x=1", "b.test")).isEqualTo("site=b host=b.test server=b.test uri=/p.php?x=1");
    }

    @Test
    void anAuthorityWithAPortRoutesByItsHostName() throws Exception {
        assertThat(get("http://b.test:80/p.php?x=2", "a.test")).isEqualTo("site=b host=b.test:80 server=b.test uri=/p.php?x=2");
    }

    /**
     * A host no site names reaches the default site, and SERVER_NAME is that site's first name, as nginx's
     * $server_name: it was the client's host, so a script that trusts SERVER_NAME over HTTP_HOST (to build a
     * password-reset link, say) put any name an attacker sent into it.
     */
    @Test
    void aHostNoSiteNamesGetsTheDefaultSitesNameNotItsOwn() throws Exception {
        assertThat(get("/p.php?x=5", "evil.example")).isEqualTo("site=b host=evil.example server=b.test uri=/p.php?x=5");
        assertThat(get("http://evil.example:8080/p.php?x=6", "b.test"))
                .isEqualTo("site=b host=evil.example:8080 server=b.test uri=/p.php?x=6");
        assertThat(get("/p.php?x=7", "B.Test.")).isEqualTo("site=b host=B.Test. server=b.test uri=/p.php?x=7");
    }

    /**
     * A host the site names, but not first, gets the site's first name too, as nginx's $server_name: a script that
     * redirects to its canonical host when HTTP_HOST is not SERVER_NAME does so behind edge as behind nginx.
     */
    @Test
    void aHostTheSiteNamesButNotFirstGetsItsFirstName() throws Exception {
        assertThat(get("/p.php?x=8", "www.a.test")).isEqualTo("site=a host=www.a.test server=a.test uri=/p.php?x=8");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET /p.php?x=3 HTTP/1.1\r\nHost: a.test/x\r\n",
            "GET /p.php?x=3 HTTP/1.1\r\nHost: a.test, b.test\r\n",
            "GET /p.php?x=3 HTTP/1.1\r\nHost: local host/../x\r\n",
            "GET /p.php?x=3 HTTP/1.1\r\nHost: u@a.test\r\n",
            "GET http://a.test\\x/p.php?x=3 HTTP/1.1\r\nHost: a.test\r\n",
            "GET /p.php?x=3 HTTP/1.1\r\nHost: \r\n", "GET /p.php?x=3 HTTP/1.0\r\nHost:\r\n",
            "GET http://a.test/p.php?x=3 HTTP/1.1\r\nHost: \r\n"})
    void aHostThatIsNotHostAndPortIs400AndClosesBeforePhpOrTheCacheSeeIt(String head) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            assertThat(client.send(head + "\r\n").read().status()).isEqualTo(400);
            assertThat(client.isClosedByPeer()).isTrue();
        }
        // Nothing was stored. Host "a.test/x" and target /p.php?x=3 once made the key of /x/p.php?x=3 on a.test,
        // a script that does not exist: had the answer been cached, that request would get it.
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            assertThat(client.send("GET /x/p.php?x=3 HTTP/1.1\r\nHost: a.test\r\n\r\n").read().status())
                    .isEqualTo(404);
        }
        assertThat(get("/p.php?x=3", "a.test")).isEqualTo("site=a host=a.test server=a.test uri=/p.php?x=3");
    }
}
