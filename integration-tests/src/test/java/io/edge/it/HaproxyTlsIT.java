package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site reached by https and by plain http through a real HAProxy that ends TLS in front of edge, with a real
 * php-fpm behind it: HAProxy says per request which way its client came, in X-Forwarded-Proto
 * ({@code server.real-ip.proto-header}) or in the PROXY v2 header's SSL field ({@code send-proxy-v2-ssl}), and PHP's
 * HTTPS and REQUEST_SCHEME and the response cache's keys follow it. (RealIpIT writes the same headers by hand, this
 * has HAProxy write them, as {@code examples/haproxy.cfg} says to.) The certificate is a self-signed one made in the
 * test's temp dir, which the test's client alone trusts.
 */
class HaproxyTlsIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static SSLContext trustingTheTestsCertificate;
    /** The certificate and its key in one PEM file, as HAProxy's {@code crt} takes it. */
    static Path pem;

    private static final String SITE = """
            sites = [{ server-names = ["_"], default = true, root = "%s", locations = [
              { match = "~ ^/cached/", fastcgi = php, cache = true }, { match = "~ \\\\.php$", fastcgi = php }
            ] }]
            fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
            """;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        PhpScripts.installSchemeScripts(www);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        Path tls = Files.createDirectories(dir.resolve("tls"));
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", tls.resolve("key.pem").toString(), "-out", tls.resolve("cert.pem").toString())
                .redirectErrorStream(true).redirectOutput(tls.resolve("openssl.log").toFile()).start();
        assertThat(openssl.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).as(Files.readString(tls.resolve("openssl.log"))).isZero();
        pem = Files.writeString(tls.resolve("haproxy.pem"),
                Files.readString(tls.resolve("cert.pem")) + Files.readString(tls.resolve("key.pem")));
        trustingTheTestsCertificate = TrustingContext.of(tls.resolve("cert.pem"));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(null, fpm);
    }

    /** A client of HAProxy's: https to its TLS port, http to its plain one; redirects are the test's to follow. */
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .sslContext(trustingTheTestsCertificate).followRedirects(HttpClient.Redirect.NEVER).build();

    /** How HAProxy says which way a request came, and what edge trusts it by. */
    private enum SaysTheScheme {
        /** examples/haproxy.cfg's lines, HAProxy's X-Forwarded-Proto replacing whatever its client sent in it. */
        X_FORWARDED_PROTO("server.real-ip { from = [\"127.0.0.1\"], proto-header = X-Forwarded-Proto }", """
                    http-request set-header X-Forwarded-Proto https if { ssl_fc }
                    http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
                """, ""),
        /** HAProxy's {@code send-proxy-v2-ssl}: the PROXY v2 header's SSL field. */
        PROXY_PROTOCOL_SSL_FIELD("server.real-ip { from = [\"127.0.0.1\"], proxy-protocol = true }", "",
                " send-proxy-v2-ssl");

        /** edge's {@code server.real-ip}. */
        final String realIp;
        /** HAProxy's frontend's lines. */
        final String frontendLines;
        /** What HAProxy's server line ends in. */
        final String serverOptions;

        SaysTheScheme(String realIp, String frontendLines, String serverOptions) {
            this.realIp = realIp;
            this.frontendLines = frontendLines;
            this.serverOptions = serverOptions;
        }
    }

    /** Requests to HAProxy, and what is asserted of their answers. */
    private interface Requests {
        void run() throws Exception;
    }

    /** The ports of {@link #behindHaproxy}'s HAProxy: TLS ends on one, plain http comes to the other. */
    private int tlsPort;
    private int plainPort;

    /**
     * Runs {@code requests} with an edge behind a HAProxy that ends TLS and says {@code way} which way each request
     * came; their files are in {@code name}'s folder.
     */
    @SuppressWarnings("try") // both serve the requests
    private void behindHaproxy(String name, SaysTheScheme way, Requests requests) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        try (EdgeHarness edge = EdgeHarness.start(home,
                way.realIp + "\n" + SITE.formatted(dir.resolve("www"), fpm.address()));
             Haproxy haproxy = Haproxy.start(home, 2, ports -> Haproxy.GLOBAL_AND_DEFAULTS + """
                     frontend site
                         bind 127.0.0.1:%d ssl crt %s
                         bind 127.0.0.1:%d
                     %s    default_backend edges
                     backend edges
                         option forwardfor
                         server edge1 127.0.0.1:%d%s
                     """.formatted(ports[0], pem, ports[1], way.frontendLines, edge.address().getPort(),
                    way.serverOptions))) {
            tlsPort = haproxy.port(0);
            plainPort = haproxy.port(1);
            requests.run();
        }
    }

    private HttpResponse<String> get(String scheme, String pathAndQuery, String... headers) throws Exception {
        int port = scheme.equals("https") ? tlsPort : plainPort;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + port
                + pathAndQuery));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * HAProxy's {@code set-header X-Forwarded-Proto} (examples/haproxy.cfg) read by edge from HAProxy's address: a
     * client over TLS is https to PHP, one over plain http is http, and a client's own X-Forwarded-Proto is replaced
     * by HAProxy's, so one cannot pose as https over plain http.
     */
    @Test
    void phpSeesHttpsWhereHaproxySaysInXForwardedProtoThatItEndedTls() throws Exception {
        behindHaproxy("by-header", SaysTheScheme.X_FORWARDED_PROTO, this::assertSchemesAsHaproxyWasReached);
    }

    /** The same with HAProxy's {@code send-proxy-v2-ssl}: the PROXY v2 header's SSL field says it. */
    @Test
    void phpSeesHttpsWhereHaproxySaysInTheProxyProtocolThatItEndedTls() throws Exception {
        behindHaproxy("by-proxy-protocol", SaysTheScheme.PROXY_PROTOCOL_SSL_FIELD,
                this::assertSchemesAsHaproxyWasReached);
    }

    private void assertSchemesAsHaproxyWasReached() throws Exception {
        assertThat(get("https", "/scheme.php").body()).isEqualTo("on https");
        assertThat(get("http", "/scheme.php").body()).isEqualTo("- http");
        assertThat(get("http", "/scheme.php", "X-Forwarded-Proto", "https").body()).as("a client posing as https")
                .isEqualTo("- http");
        assertThat(get("https", "/scheme.php", "X-Forwarded-Proto", "http").body()).isEqualTo("on https");
        // again, on connections HAProxy and edge have kept alive
        assertThat(get("http", "/scheme.php").body()).isEqualTo("- http");
        assertThat(get("https", "/scheme.php").body()).isEqualTo("on https");
    }

    /**
     * The redirect loop the response cache's keys prevent: a script's cacheable 301 from http to https, made for a
     * client that came by plain http, is not served to the client that follows it over TLS; what is made for https
     * is served from the cache to https, and the 301 to http. Both ways round, by either way HAProxy says it. The
     * client names the site alike by both (as a browser to its 80 and 443 does), so the URL is one to the cache.
     */
    @Test
    void aCachedRedirectToHttpsIsNotServedToTheClientThatFollowsIt() throws Exception {
        behindHaproxy("cache-by-header", SaysTheScheme.X_FORWARDED_PROTO, this::assertTheRedirectIsFollowedOnce);
        behindHaproxy("cache-by-proxy-protocol", SaysTheScheme.PROXY_PROTOCOL_SSL_FIELD,
                this::assertTheRedirectIsFollowedOnce);
    }

    private void assertTheRedirectIsFollowedOnce() throws Exception {
        RawHttpClient.Response moved = getOfTheSite("http", "/cached/moved.php?a");
        assertThat(moved.status()).isEqualTo(301);
        assertThat(moved.header("location")).isEqualTo("https://site.test/cached/moved.php?a");
        RawHttpClient.Response secure = getOfTheSite("https", "/cached/moved.php?a");
        assertThat(secure.status()).as("not the 301 stored for http, again").isEqualTo(200);
        assertThat(secure.text()).startsWith("secure ");
        assertThat(getOfTheSite("https", "/cached/moved.php?a").text()).as("stored for https")
                .isEqualTo(secure.text());
        assertThat(getOfTheSite("http", "/cached/moved.php?a").status()).isEqualTo(301);
        // the other way round: https first
        RawHttpClient.Response first = getOfTheSite("https", "/cached/moved.php?b");
        assertThat(first.status()).isEqualTo(200);
        assertThat(getOfTheSite("http", "/cached/moved.php?b").status()).isEqualTo(301);
        assertThat(getOfTheSite("https", "/cached/moved.php?b").text()).as("stored for https").isEqualTo(first.text());
    }

    /**
     * A GET of {@code target} on site.test by {@code scheme}, as a browser sends it to the site's 443 or 80: with
     * the same Host either way (the test's HttpClient would name HAProxy's two ports in it, two hosts to the cache).
     */
    private RawHttpClient.Response getOfTheSite(String scheme, String target) throws Exception {
        Socket socket;
        if (scheme.equals("https")) {
            SSLSocket tls = (SSLSocket) trustingTheTestsCertificate.getSocketFactory()
                    .createSocket("127.0.0.1", tlsPort);
            SSLParameters checked = tls.getSSLParameters();
            checked.setEndpointIdentificationAlgorithm("HTTPS"); // its certificate names 127.0.0.1, as HttpClient checks
            tls.setSSLParameters(checked);
            socket = tls;
        } else {
            socket = new Socket("127.0.0.1", plainPort);
        }
        try (RawHttpClient client = new RawHttpClient(socket)) {
            client.send("GET " + target + " HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
            return client.read();
        }
    }
}
