package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import io.edge.core.http.CapturedLog;
import io.edge.core.tls.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.StandardConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's {@code proxy_pass https://} with its {@code proxy_ssl_*} directives: a real edge in front of the JDK's HTTPS
 * server, its certificate made by the openssl CLI, and a real HTTP client.
 */
class HttpsBackendIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    private TestCertificates certificates;
    private JdkBackend backend;
    /** The client ports of the backend's connections. */
    private final Set<Integer> backendConnections = ConcurrentHashMap.newKeySet();
    /** The SNI names the backend's handshakes carried. */
    private final Set<String> serverNames = ConcurrentHashMap.newKeySet();
    /** The TLS sessions of the backend's requests, by id. */
    private final Set<String> sessions = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void startBackend() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("certs"));
        certificates = new TestCertificates(certs);
        certificates.selfSigned("ca", "/CN=Backend CA");
        certificates.selfSigned("other", "/CN=Other CA");
        certificates.signed("backend", "ca", "/CN=api.internal",
                "subjectAltName=DNS:api.internal,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
        certificates.openssl("pkcs12", "-export", "-in", "backend.pem", "-inkey", "backend.key", "-out",
                "backend.p12", "-passout", "pass:secret");
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(certs.resolve("backend.p12"))) {
            keys.load(in, "secret".toCharArray());
        }
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, "secret".toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), null, null);
        backend = JdkBackend.startTls(this::answer, new HttpsConfigurator(context) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters parameters = context.getDefaultSSLParameters();
                parameters.setSNIMatchers(List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME) {
                    @Override
                    public boolean matches(SNIServerName name) {
                        serverNames.add(((SNIHostName) name).getAsciiName());
                        return true;
                    }
                }));
                params.setSSLParameters(parameters);
            }
        });
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    /** /echo answers the request's body as it came, else 64 KiB and a bit of a pattern. */
    private void answer(HttpExchange exchange) throws IOException {
        backendConnections.add(exchange.getRemoteAddress().getPort());
        sessions.add(HexFormat.of().formatHex(((HttpsExchange) exchange).getSSLSession().getId()));
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        byte[] answer = exchange.getRequestURI().getPath().endsWith("/echo") ? body : pattern(65536 + 7);
        exchange.getResponseHeaders().add("X-Method", exchange.getRequestMethod());
        exchange.sendResponseHeaders(200, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + (i >>> 9));
        }
        return bytes;
    }

    private EdgeHarness edge(String tls) throws Exception {
        Files.createDirectories(dir.resolve("www"));
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/api/", proxy = api }
                ] }]
                proxy.backends.api { addresses = ["%s"], tls { enabled = true, %s } }
                """.formatted(backend.address(), tls));
    }

    private static HttpResponse<byte[]> send(EdgeHarness edge, String target, byte[] post) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(20));
        if (post != null) {
            request.POST(HttpRequest.BodyPublishers.ofByteArray(post));
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aGetAndAPostGoOverTlsByteForByte() throws Exception {
        try (EdgeHarness edge = edge("")) { // verify = false, nginx's default: any certificate
            HttpResponse<byte[]> get = send(edge, "/api/data", null);
            assertThat(get.statusCode()).isEqualTo(200);
            assertThat(get.headers().firstValue("X-Method")).hasValue("GET");
            assertThat(get.body()).isEqualTo(pattern(65536 + 7));

            byte[] upload = pattern(200_000);
            HttpResponse<byte[]> post = send(edge, "/api/echo", upload);
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(post.headers().firstValue("X-Method")).hasValue("POST");
            assertThat(post.body()).isEqualTo(upload);
        }
    }

    @Test
    void verifyPassesWithTheBackendsCaAndFailsWithAnotherAs502WithTheReasonLogged() throws Exception {
        try (EdgeHarness edge = edge("verify = true, trusted-certificate = \""
                + certificates.file("ca.pem") + "\"")) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
        }
        try (CapturedLog log = CapturedLog.of("io.edge.fastcgi.pool.BackendPool");
             EdgeHarness edge = edge("verify = true, trusted-certificate = \""
                     + certificates.file("other.pem") + "\"")) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(502);
            assertThat(log.warnings()).anySatisfy(line -> assertThat(line)
                    .contains("upstream SSL certificate verify error"));
        }
        assertThat(backendConnections).hasSize(1); // the refused handshake carried no request
    }

    @Test
    void aNameTheCertificateDoesNotCarryFailsVerification() throws Exception {
        try (CapturedLog log = CapturedLog.of("io.edge.fastcgi.pool.BackendPool");
             EdgeHarness edge = edge("verify = true, name = \"other.internal\", trusted-certificate = \""
                     + certificates.file("ca.pem") + "\"")) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(502);
            // nginx 1.22's words
            assertThat(log.warnings()).anySatisfy(line -> assertThat(line).contains(
                    "upstream SSL certificate does not match \"other.internal\" while SSL handshaking to upstream"));
        }
        assertThat(backendConnections).isEmpty();
    }

    @Test
    void serverNameSendsTheNameAsSni() throws Exception {
        try (EdgeHarness edge = edge("verify = true, server-name = true, name = \"api.internal\","
                + " trusted-certificate = \"" + certificates.file("ca.pem") + "\"")) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
        }
        assertThat(serverNames).containsExactly("api.internal");
    }

    @Test
    void aNameWithoutADotIsSentAsSniAsNginxDoes() throws Exception {
        // a compose service's name, "api": nginx 1.22's proxy_ssl_server_name on sends it (only an address is not)
        try (EdgeHarness edge = edge("server-name = true, name = \"api\"")) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
        }
        try (EdgeHarness edge = edge("server-name = true, name = \"app\", session-reuse = false")) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
        }
        try (EdgeHarness edge = edge("server-name = true, name = \"my_api\"")) {
            assertThat(send(edge, "/api/data", null).statusCode()).as("a name SNI cannot carry goes without")
                    .isEqualTo(200);
        }
        assertThat(serverNames).containsExactlyInAnyOrder("api", "app");
    }

    @Test
    void withoutServerNameNoSniIsSent() throws Exception {
        try (EdgeHarness edge = edge("name = \"api.internal\"")) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
        }
        assertThat(serverNames).isEmpty();
    }

    @Test
    void aKeptConnectionCarriesSeveralRequestsOverOneHandshake() throws Exception {
        try (EdgeHarness edge = edge("")) {
            for (int i = 0; i < 4; i++) {
                assertThat(send(edge, "/api/echo", ("request " + i).getBytes()).body())
                        .isEqualTo(("request " + i).getBytes());
            }
        }
        assertThat(backendConnections).hasSize(1);
    }

    @Test
    void aHandshakeTheBackendNeverAnswersIsATimeout504() throws Exception {
        // a port that takes the connection (the kernel's backlog) and never says a word: nginx's "upstream timed out
        // (110: Connection timed out) while SSL handshaking to upstream", 504 and proxy_next_upstream's timeout
        Files.createDirectories(dir.resolve("www"));
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
             CapturedLog log = CapturedLog.of("io.edge.fastcgi.pool.BackendPool");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/api/", proxy = api }
                     ] }]
                     proxy.backends.api { addresses = ["127.0.0.1:%d"], tls.enabled = true, timeouts.connect = 1 s }
                     """.formatted(silent.getLocalPort()))) {
            assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(504);
            assertThat(log.warnings()).anySatisfy(line -> assertThat(line)
                    .contains("upstream timed out (110: Connection timed out) while SSL handshaking to upstream"));
        }
    }

    @Test
    void aFailedHandshakeIsAFailedConnectAndTheNextAddressAnswers() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (JdkBackend plain = JdkBackend.start(exchange -> {
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/api/", proxy = api }
                     ] }]
                     proxy.backends.api { addresses = ["%s", "%s"], balance = round-robin, tls.enabled = true }
                     """.formatted(plain.address(), backend.address()))) {
            for (int i = 0; i < 2; i++) { // whichever address round-robin takes first
                assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
            }
        }
    }

    @Test
    void aNewConnectionResumesTheSessionOfAnEarlierOneUnlessSessionReuseIsOff() throws Exception {
        try (EdgeHarness edge = edge("protocols = [\"TLSv1.2\"] }, keep-alive { enabled = false")) {
            for (int i = 0; i < 3; i++) {
                assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
            }
        }
        assertThat(backendConnections).hasSize(3);
        assertThat(sessions).as("one session, resumed").hasSize(1);

        sessions.clear();
        try (EdgeHarness edge = edge("protocols = [\"TLSv1.2\"], session-reuse = false }, keep-alive { enabled = false")) {
            for (int i = 0; i < 2; i++) {
                assertThat(send(edge, "/api/data", null).statusCode()).isEqualTo(200);
            }
        }
        assertThat(sessions).as("proxy_ssl_session_reuse off: a full handshake each").hasSize(2);
    }
}
