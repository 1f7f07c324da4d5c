package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Location of the redirects edge makes itself, a directory asked for without its slash and a return's to a path,
 * under {@code absolute-redirect}, {@code port-in-redirect} and {@code server-name-in-redirect}, over plain HTTP and
 * over TLS edge ends: each as nginx 1.22 sends it with the same directives (compared by curl against nginx on the same
 * tree: {@code http://some.example:PORT/dir/} by default, no port with port_in_redirect off, the first server name with
 * server_name_in_redirect on, the path alone with absolute_redirect off, https on an ssl listener).
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class RedirectsIT {

    @TempDir
    static Path dir;

    private static int plain;
    private static int tls;
    private static SSLContext trusting;
    private static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = dir.resolve("www");
        for (String directory : new String[] {"dir/sub", "noport/d", "sn/d", "rel/d", "evil.com", "rel/evil.com"}) {
            Files.createDirectories(www.resolve(directory));
        }
        Files.writeString(www.resolve("dir/index.html"), "hi\n");
        Path keys = Files.createDirectories(dir.resolve("tls"));
        TrustingContext.selfSigned(keys);
        trusting = TrustingContext.of(keys.resolve("cert.pem"));
        plain = EdgeProcess.freePort();
        tls = EdgeProcess.freePort();
        edge = EdgeHarness.start(dir, """
                server.listen = ["127.0.0.1:%d", "127.0.0.1:%d ssl"]
                sites = [{ server-names = [first.example, second.example], default = true, root = www,
                  tls { certificate = "%s", key = "%s" },
                  locations = [
                    { match = "/" }
                    { match = "= /r", return = "301 /path" }
                    { match = "= /r2", return = "302 /path?x" }
                    { match = "/noport/", port-in-redirect = false }
                    { match = "= /noport/r", return = "301 /path", port-in-redirect = false }
                    { match = "/sn/", server-name-in-redirect = true }
                    { match = "= /sn/r", return = "301 /path", server-name-in-redirect = true }
                    { match = "/rel/", absolute-redirect = false }
                    { match = "= /rel/r", return = "301 /path", absolute-redirect = false }
                  ] }]
                """.formatted(plain, tls, keys.resolve("cert.pem"), keys.resolve("key.pem")));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, (PhpFpm) null);
    }

    @Test
    void aDirectoryAndAReturnRedirectToTheRequestsHostAndTheListenPortAsNginxsDefaultsDo() throws Exception {
        assertThat(location("/dir", "Some.Example:9999")).as("the Host's name, lower case, edge's port")
                .isEqualTo("http://some.example:" + plain + "/dir/");
        assertThat(location("/dir?a=1", "some.example")).isEqualTo("http://some.example:" + plain + "/dir/?a=1");
        assertThat(location("/r", "some.example")).isEqualTo("http://some.example:" + plain + "/path");
        assertThat(location("/r2", "some.example")).isEqualTo("http://some.example:" + plain + "/path?x");
        try (RawHttpClient client = new RawHttpClient(new InetSocketAddress("127.0.0.1", plain))) {
            RawHttpClient.Response answer = client.send("GET /dir HTTP/1.0\r\n\r\n").read();
            assertThat(answer.status()).isEqualTo(301);
            assertThat(answer.header("location")).as("no Host: the address the connection came to")
                    .isEqualTo("http://127.0.0.1:" + plain + "/dir/");
        }
    }

    @Test
    void portInRedirectFalseLeavesThePortOut() throws Exception {
        assertThat(location("/noport/d", "some.example")).isEqualTo("http://some.example/noport/d/");
        assertThat(location("/noport/r", "some.example")).isEqualTo("http://some.example/path");
    }

    @Test
    void serverNameInRedirectNamesTheSitesFirstServerNameWhateverTheHost() throws Exception {
        assertThat(location("/sn/d", "second.example")).isEqualTo("http://first.example:" + plain + "/sn/d/");
        assertThat(location("/sn/r", "some.example")).isEqualTo("http://first.example:" + plain + "/path");
    }

    @Test
    void absoluteRedirectFalseSendsThePathAlone() throws Exception {
        assertThat(location("/rel/d", "some.example")).isEqualTo("/rel/d/");
        assertThat(location("/rel/r", "some.example")).isEqualTo("/path");
    }

    /**
     * A client's path is normalised before its directory's slash is added, as nginx 1.22's merge_slashes (on by
     * default) makes $uri, the text its static module writes the Location from (ngx_http_parse_complex_uri merges "//",
     * a "%2F" decoded too): /dir//sub is sent to /dir/sub/, and a path starting "//" never becomes a Location a browser
     * takes for another host ("//evil.com/", scheme-relative), with absolute-redirect false too.
     */
    @Test
    void aDirectorysSlashIsAddedToTheNormalisedPathNeverMadeSchemeRelative() throws Exception {
        String self = "http://some.example:" + plain;
        assertThat(location("/dir//sub", "some.example")).isEqualTo(self + "/dir/sub/");
        assertThat(location("/dir/./sub?a=b", "some.example")).isEqualTo(self + "/dir/sub/?a=b");
        for (String path : new String[] {"//evil.com", "///evil.com", "/%2F%2Fevil.com", "/%2fevil.com"}) {
            assertThat(location(path, "some.example")).as(path).isEqualTo(self + "/evil.com/");
        }
        for (String path : new String[] {"/rel//evil.com", "//rel/evil.com", "//rel//evil.com", "/rel/%2F/evil.com"}) {
            assertThat(location(path, "some.example")).as(path).isEqualTo("/rel/evil.com/");
        }
    }

    @Test
    void overTlsTheUrlIsHttpsWithTheTlsListenersPort() throws Exception {
        assertThat(tlsLocation("/dir")).isEqualTo("https://a.example:" + tls + "/dir/");
        assertThat(tlsLocation("/r")).isEqualTo("https://a.example:" + tls + "/path");
        assertThat(tlsLocation("/noport/d")).isEqualTo("https://a.example/noport/d/");
        assertThat(tlsLocation("/sn/d")).isEqualTo("https://first.example:" + tls + "/sn/d/");
        assertThat(tlsLocation("/rel/d")).isEqualTo("/rel/d/");
    }

    /** Under location-defaults, the keys are every location's and those of the site's own rewrites' redirects. */
    @Test
    void locationDefaultsSetThemForEveryLocationAndTheSitesRewrites() throws Exception {
        Path other = Files.createDirectories(dir.resolve("defaults"));
        Files.createDirectories(other.resolve("www/dir"));
        try (EdgeHarness relative = EdgeHarness.start(other, """
                location-defaults { absolute-redirect = false }
                sites = [{ root = www, rewrites = [{ rewrite = "^/old$ /new permanent" }],
                  locations = [{ match = "/" }, { match = "= /r", return = "301 /path" }] }]
                """)) {
            int port = relative.address().getPort();
            assertThat(location(port, "/dir", "some.example")).isEqualTo("/dir/");
            assertThat(location(port, "/r", "some.example")).isEqualTo("/path");
            assertThat(location(port, "/old", "some.example")).isEqualTo("/new");
        }
    }

    /** The Location of edge's answer to a GET of {@code target} on the plain listener with {@code host}. */
    private static String location(String target, String host) throws Exception {
        return location(plain, target, host);
    }

    private static String location(int port, String target, String host) throws Exception {
        try (RawHttpClient client = new RawHttpClient(new InetSocketAddress("127.0.0.1", port))) {
            return redirected(client, target, host);
        }
    }

    /** As {@link #location(String, String)}, over TLS to the ssl listener, with the Host a.example. */
    private static String tlsLocation(String target) throws Exception {
        Socket socket = trusting.getSocketFactory().createSocket("127.0.0.1", tls);
        try (RawHttpClient client = new RawHttpClient(socket)) {
            return redirected(client, target, "a.example");
        }
    }

    private static String redirected(RawHttpClient client, String target, String host) throws Exception {
        RawHttpClient.Response answer = client.send("GET " + target + " HTTP/1.1\r\nHost: " + host
                + "\r\nConnection: close\r\n\r\n").read();
        assertThat(answer.status()).as(target).isBetween(301, 302);
        return answer.header("location");
    }
}
