package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.tls.TestCertificates;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy group's client certificate, CRL and ciphers (nginx's proxy_ssl_certificate, proxy_ssl_crl,
 * proxy_ssl_ciphers): a real edge in front of a real nginx 1.22 that asks for client certificates (ssl_verify_client
 * on, its $ssl_client_s_dn echoed) and of openssl s_server, which refuses a handshake without one (-Verify 1); their
 * certificates made by the openssl CLI, a real HTTP client. nginx 1.22 as the proxy in front of the same backends
 * answered as edge does here (200, 502, 502), with the same words logged for the revoked certificate.
 */
class HttpsBackendCertificatesIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    private TestCertificates certificates;

    @BeforeEach
    void makeCertificates() throws Exception {
        certificates = new TestCertificates(Files.createDirectories(dir.resolve("certs")));
        certificates.selfSigned("ca", "/CN=Backend CA");
        certificates.signedByCa("backend", "ca", "/CN=api.internal", null, null);
        certificates.signedByCa("revoked", "ca", "/CN=revoked.internal", null, null);
        certificates.signed("client", "ca", "/O=Edge Test/CN=edge proxy", "extendedKeyUsage=clientAuth");
        certificates.revoke("revoked", "ca");
        certificates.crl("ca");
        // the client's key encrypted with a passphrase, as a site's key may be (nginx's proxy_ssl_password_file)
        certificates.openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "client.key", "-out",
                "client-encrypted.key", "-passout", "pass:backend secret");
        Files.writeString(certificates.file("passphrases"), "wrong one\nbackend secret\n");
    }

    /** nginx on a free port, its server's certificate {@code name}, asking for a client certificate of the CA. */
    private Nginx nginxBackend(String name, String tlsLines) throws Exception {
        return Nginx.start(Files.createDirectories(dir.resolve("nginx-" + name)), ports -> """
                  server {
                    listen 127.0.0.1:%d ssl;
                    ssl_certificate %s;
                    ssl_certificate_key %s;
                    ssl_verify_client on;
                    ssl_client_certificate %s;
                    %s
                    location / {
                      add_header X-Client-Dn $ssl_client_s_dn always;
                      return 200 "verify=$ssl_client_verify\\n";
                    }
                  }
                """.formatted(ports[0], certificates.file(name + ".pem"), certificates.file(name + ".key"),
                certificates.file("ca.pem"), tlsLines));
    }

    private EdgeHarness edge(int port, String tls) throws Exception {
        return edge(port, "api.internal", tls);
    }

    private EdgeHarness edge(int port, String name, String tls) throws Exception {
        Files.createDirectories(dir.resolve("www"));
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/api/", proxy = api }
                ] }]
                proxy.backends.api { addresses = ["127.0.0.1:%d"], tls { enabled = true, name = "%s", %s } }
                """.formatted(port, name, tls));
    }

    private static HttpResponse<String> get(EdgeHarness edge) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(edge.uri("/api/whoami")).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String certificateLines(String key) {
        return "certificate = \"" + certificates.file("client.pem") + "\", key = \"" + certificates.file(key)
                + "\"";
    }

    @Test
    void theBackendSeesTheCertificatesSubjectAndNoneWithoutIt() throws Exception {
        try (Nginx backend = nginxBackend("backend", "")) {
            try (EdgeHarness edge = edge(backend.port(), certificateLines("client-encrypted.key")
                    + ", password-file = \"" + certificates.file("passphrases") + "\"")) {
                HttpResponse<String> response = get(edge);
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.headers().firstValue("X-Client-Dn")).hasValue("CN=edge proxy,O=Edge Test");
                assertThat(response.body()).isEqualTo("verify=SUCCESS\n");
            }
            // nginx's ssl_verify_client on completes the handshake and refuses the request itself, as it did to
            // nginx 1.22 as the proxy: its 400 goes to the client. A group of its own, with sessions of its own
            // (nginx shares them among the locations of one implicit upstream: one without a certificate resumed
            // the session of one with it, and was served)
            try (EdgeHarness edge = edge(backend.port(), "")) {
                HttpResponse<String> response = get(edge);
                assertThat(response.statusCode()).isEqualTo(400);
                assertThat(response.body()).contains("No required SSL certificate was sent");
            }
        }
    }

    @Test
    void theCertificateGoesToABackendWhoseRequestNamesOtherCasAsNginxSendsIt() throws Exception {
        // a certificate no CA of the backend's CertificateRequest issued, which it takes (optional_no_ca), its
        // fingerprint for the application to check: nginx 1.22 as the proxy sent it ("CN=pinned client"), edge sent
        // none (the JDK's key manager chose none for that CA list): "dn= verify=NONE"
        certificates.selfSigned("pinned", "/CN=pinned client");
        try (Nginx backend = Nginx.start(Files.createDirectories(dir.resolve("nginx-pinned")), ports -> """
                  server {
                    listen 127.0.0.1:%d ssl;
                    ssl_certificate %s;
                    ssl_certificate_key %s;
                    ssl_verify_client optional_no_ca;
                    ssl_client_certificate %s;
                    location / {
                      return 200 "dn=$ssl_client_s_dn verify=$ssl_client_verify\\n";
                    }
                  }
                """.formatted(ports[0], certificates.file("backend.pem"), certificates.file("backend.key"),
                certificates.file("ca.pem")));
             EdgeHarness edge = edge(backend.port(), "certificate = \"" + certificates.file("pinned.pem")
                     + "\", key = \"" + certificates.file("pinned.key") + "\"")) {
            HttpResponse<String> response = get(edge);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("dn=CN=pinned client verify=FAILED:self-signed certificate\n");
        }
    }

    @Test
    void aBackendThatRefusesTheHandshakeWithoutACertificateIs502AndTakesOneThatCame() throws Exception {
        Process server = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                certificates.file("backend.pem").toString(), "-key", certificates.file("backend.key").toString(),
                "-CAfile", certificates.file("ca.pem").toString(), "-Verify", "1", "-www", "-tls1_2")
                .redirectErrorStream(true).start();
        try {
            int port = acceptPort(server);
            try (EdgeHarness edge = edge(port, "")) {
                assertThat(get(edge).statusCode()).isEqualTo(502);
            }
            try (EdgeHarness edge = edge(port, certificateLines("client.key"))) {
                HttpResponse<String> response = get(edge);
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).contains("edge proxy");
            }
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The port openssl s_server says it accepts on ("ACCEPT 127.0.0.1:41234"). */
    private static int acceptPort(Process server) throws Exception {
        Pattern accept = Pattern.compile("ACCEPT 127\\.0\\.0\\.1:(\\d+)");
        StringBuilder said = new StringBuilder();
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream()));
        for (String line; (line = out.readLine()) != null; ) {
            said.append(line).append('\n');
            Matcher matcher = accept.matcher(line);
            if (matcher.find()) {
                Thread drain = new Thread(() -> out.lines().forEach(ignored -> { }));
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(matcher.group(1));
            }
        }
        throw new AssertionError("openssl s_server did not start: " + said);
    }

    @Test
    void aRevokedBackendCertificateFailsVerificationWithTheCrl() throws Exception {
        String verified = "verify = true, trusted-certificate = \"" + certificates.file("ca.pem") + "\", crl = \""
                + certificates.file("ca.crl") + "\", " + certificateLines("client.key");
        try (Nginx revoked = nginxBackend("revoked", "");
             CapturedLog log = CapturedLog.of("io.edge.fastcgi.pool.BackendPool");
             EdgeHarness edge = edge(revoked.port(), "revoked.internal", verified)) {
            assertThat(get(edge).statusCode()).isEqualTo(502);
            // nginx 1.22's words for the same backend
            assertThat(log.warnings()).anySatisfy(line -> assertThat(line).contains("upstream SSL certificate verify"
                    + " error: (23:certificate revoked) while SSL handshaking to upstream"));
        }
        try (Nginx good = nginxBackend("backend", "");
             EdgeHarness edge = edge(good.port(), verified)) {
            assertThat(get(edge).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void onlyTheListedCiphersAreOffered() throws Exception {
        try (Nginx backend = nginxBackend("backend",
                "ssl_protocols TLSv1.2; ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384;")) {
            try (EdgeHarness edge = edge(backend.port(), certificateLines("client.key")
                    + ", ciphers = [\"ECDHE-RSA-AES128-GCM-SHA256\", \"ECDHE-RSA-CHACHA20-POLY1305\"]")) {
                assertThat(get(edge).statusCode()).isEqualTo(502);
            }
            try (EdgeHarness edge = edge(backend.port(), certificateLines("client.key")
                    + ", ciphers = [\"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384\"]")) {
                assertThat(get(edge).statusCode()).isEqualTo(200);
            }
        }
    }
}
