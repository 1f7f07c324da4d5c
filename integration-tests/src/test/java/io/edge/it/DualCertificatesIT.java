package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.tls.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site's certificates of two key types (nginx's ssl_certificate written twice, RSA beside ECDSA), over real TLS
 * with openssl s_client and curl: each client offer gets the certificate nginx 1.22 (OpenSSL 3.0) chose for it side by
 * side with the same two certificates, its subject read off the handshake. dual.test is the default site, sni.test has
 * its own pair, staple.test staples each certificate's own stapling-file. The listener offers h2 too.
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class DualCertificatesIT {

    @TempDir
    static Path dir;

    static Path tls;
    static TestCertificates certificates;

    @BeforeAll
    static void start() throws Exception {
        tls = Files.createDirectories(dir.resolve("tls"));
        certificates = new TestCertificates(tls);
        for (String site : List.of("dual", "sni")) {
            certificates.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", site + "-rsa.key", "-out",
                    site + "-rsa.pem", "-days", "2", "-subj", "/CN=rsa." + site + ".test");
            ecdsa(site + "-ec", "/CN=ecdsa." + site + ".test");
        }
        certificates.openssl("req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", "ed25519.key", "-out",
                "ed25519.pem", "-days", "2", "-subj", "/CN=ed25519.test");
        // two OCSP responses told apart by what they say: good for the RSA certificate, revoked for the ECDSA one
        certificates.selfSigned("ca", "/CN=OCSP test CA");
        certificates.signedByCa("good", "ca", "/CN=good.test", "subjectAltName=DNS:good.test");
        certificates.signedByCa("revoked", "ca", "/CN=revoked.test", "subjectAltName=DNS:revoked.test");
        certificates.revoke("revoked", "ca");
        certificates.ocspResponse("good", "ca", "ca", "good.der");
        certificates.ocspResponse("revoked", "ca", "ca", "revoked.der");
    }

    /** A P-256 key {@code name}.key and its self-signed certificate {@code name}.pem of {@code subject}. */
    private static void ecdsa(String name, String subject) throws Exception {
        certificates.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", subject);
    }

    private static String body(int port) throws Exception {
        return body(port, "");
    }

    private static String body(int port, String more) throws Exception {
        return more + """
                server.listen = ["127.0.0.1:%3$d ssl http2"]
                site-defaults.locations = [{ match = "/", return = "200 $ssl_cipher" }]
                sites = [
                  { root = "%1$s", server-names = [dual.test], default = true, tls.certificates = [
                      { certificate = "%2$s/dual-rsa.pem", key = "%2$s/dual-rsa.key" }
                      { certificate = "%2$s/dual-ec.pem", key = "%2$s/dual-ec.key" } ] }
                  { root = "%1$s", server-names = [sni.test], tls.certificates = [
                      { certificate = "%2$s/sni-ec.pem", key = "%2$s/sni-ec.key" }
                      { certificate = "%2$s/sni-rsa.pem", key = "%2$s/sni-rsa.key" } ] }
                  { root = "%1$s", server-names = [staple.test], tls { stapling = true, certificates = [
                      { certificate = "%2$s/dual-rsa.pem", key = "%2$s/dual-rsa.key", stapling-file = "%2$s/good.der" }
                      { certificate = "%2$s/dual-ec.pem", key = "%2$s/dual-ec.key", stapling-file = "%2$s/revoked.der" } ] } }
                  { root = "%1$s", server-names = [ed25519.test], tls.certificates = [
                      { certificate = "%2$s/dual-rsa.pem", key = "%2$s/dual-rsa.key" }
                      { certificate = "%2$s/ed25519.pem", key = "%2$s/ed25519.key" } ] }
                  { root = "%1$s", server-names = [ed25519-alone.test],
                    tls { certificate = "%2$s/ed25519.pem", key = "%2$s/ed25519.key" } }
                ]
                """.formatted(Files.createDirectories(dir.resolve("www")), tls, port);
    }

    private static EdgeHarness started(int port) throws Exception {
        return EdgeHarness.start(Files.createDirectories(dir.resolve("edge-" + System.nanoTime())), body(port));
    }

    /** What openssl s_client said of a handshake with {@code serverName} (none: null), offering {@code offer}. */
    private static String handshake(EdgeHarness edge, String serverName, String... offer) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:"
                + edge.address().getPort()));
        if (serverName != null) {
            command.addAll(List.of("-servername", serverName));
        } else {
            command.add("-noservername");
        }
        command.addAll(List.of(offer));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return said;
    }

    /** The subject of the certificate {@code serverName}'s handshake offering {@code offer} got. */
    private static String subject(EdgeHarness edge, String serverName, String... offer) throws Exception {
        String said = handshake(edge, serverName, offer);
        return said.lines().filter(line -> line.startsWith("subject=")).findFirst().orElse(said);
    }

    /**
     * What nginx 1.22 chose for each offer, with ssl_certificate rsa then ecdsa (prefer-server-ciphers off, as
     * nginx's default): over TLSv1.3 the key type of the client's first signature algorithm that one of them signs
     * with, over TLSv1.2 that of the client's first suite one of them serves.
     */
    @Test
    void eachOfferGetsTheCertificateNginxChoseForIt() throws Exception {
        try (EdgeHarness edge = started(EdgeProcess.freePort())) {
            String rsa = "subject=CN = rsa.dual.test";
            String ecdsa = "subject=CN = ecdsa.dual.test";
            assertThat(subject(edge, null)).isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_3")).isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256")).isEqualTo(rsa);
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256")).isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256"))
                    .isEqualTo(rsa);
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"))
                    .isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "ecdsa_secp384r1_sha384:rsa_pss_rsae_sha256"))
                    .as("a P-384 scheme does not sign with a P-256 key").isEqualTo(rsa);
            assertThat(handshake(edge, "dual.test", "-tls1_2")).contains(ecdsa)
                    .contains("Cipher is ECDHE-ECDSA-AES");
            assertThat(handshake(edge, "dual.test", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"))
                    .contains(rsa).contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256");
            assertThat(handshake(edge, "dual.test", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"))
                    .contains(ecdsa).contains("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256");
            assertThat(subject(edge, "dual.test", "-tls1_2", "-cipher",
                    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")).isEqualTo(rsa);
            assertThat(subject(edge, "dual.test", "-tls1_2", "-cipher",
                    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")).isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_2", "-sigalgs", "RSA+SHA256")).isEqualTo(rsa);
            assertThat(subject(edge, "dual.test", "-tls1_2", "-sigalgs", "ecdsa_secp256r1_sha256")).isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_2", "-curves", "secp384r1"))
                    .as("a P-256 key for a client without the curve").isEqualTo(rsa);
            assertThat(handshake(edge, "dual.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256", "-alpn", "h2"))
                    .contains(rsa).contains("ALPN protocol: h2");
        }
    }

    /**
     * With prefer-server-ciphers (nginx's ssl_prefer_server_ciphers on) the server's order decides, as nginx chose:
     * OpenSSL's list of signature algorithms (ECDSA first) over TLSv1.3, the server's suites over TLSv1.2.
     */
    @Test
    void theServersOrderDecidesWhereItIsPreferred() throws Exception {
        int port = EdgeProcess.freePort();
        try (EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("edge-" + System.nanoTime())),
                body(port, "server.tls.prefer-server-ciphers = on\n"))) {
            String rsa = "subject=CN = rsa.dual.test";
            String ecdsa = "subject=CN = ecdsa.dual.test";
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256"))
                    .isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256")).isEqualTo(rsa);
            assertThat(subject(edge, "dual.test", "-tls1_2", "-cipher",
                    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")).isEqualTo(ecdsa);
            assertThat(subject(edge, "dual.test", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"))
                    .isEqualTo(rsa);
            assertThat(subject(edge, "dual.test", "-tls1_2", "-curves", "secp384r1")).isEqualTo(rsa);
        }
    }

    /** $ssl_cipher names the suite of the certificate chosen, as the handshake agreed on it. */
    @Test
    void sslCipherNamesTheChosenCertificatesSuite() throws Exception {
        try (EdgeHarness edge = started(EdgeProcess.freePort())) {
            for (String suite : List.of("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384")) {
                Process curl = new ProcessBuilder(Curl.command("-sk", "--http1.1", "--tls-max", "1.2", "--ciphers",
                        suite, "https://dual.test:" + edge.address().getPort() + "/", "--resolve",
                        "dual.test:" + edge.address().getPort() + ":127.0.0.1")).redirectErrorStream(true).start();
                String body = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(body).isEqualTo(suite);
            }
        }
    }

    /** An SNI site chooses among its own pair, as the default site among its. */
    @Test
    void anSniSiteChoosesAmongItsOwnPair() throws Exception {
        try (EdgeHarness edge = started(EdgeProcess.freePort())) {
            assertThat(subject(edge, "sni.test")).isEqualTo("subject=CN = ecdsa.sni.test");
            assertThat(subject(edge, "sni.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"))
                    .isEqualTo("subject=CN = rsa.sni.test");
            assertThat(subject(edge, "sni.test", "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"))
                    .isEqualTo("subject=CN = rsa.sni.test");
            assertThat(subject(edge, "other.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"))
                    .as("an unknown name: the default site's").isEqualTo("subject=CN = rsa.dual.test");
        }
    }

    /**
     * An Ed25519 certificate beside an RSA one, as nginx 1.22 chose side by side: the Ed25519 one for a client whose
     * first signature algorithm is ed25519 (over TLSv1.3 as over TLSv1.2, where it answers ECDHE_ECDSA's suites), the
     * RSA one for a client that puts RSA-PSS first. An Ed25519 certificate alone answers as well (BoringSSL was never
     * handed the key: an internal error alert).
     */
    @Test
    void anEd25519CertificateBesideAnRsaOne() throws Exception {
        try (EdgeHarness edge = started(EdgeProcess.freePort())) {
            assertThat(handshake(edge, "ed25519.test", "-tls1_3", "-sigalgs", "ed25519:rsa_pss_rsae_sha256"))
                    .contains("subject=CN = ed25519.test").contains("Peer signature type: ed25519");
            assertThat(handshake(edge, "ed25519.test", "-tls1_2", "-sigalgs", "ed25519:RSA+SHA256"))
                    .contains("subject=CN = ed25519.test").contains("Cipher is ECDHE-ECDSA-AES256-GCM-SHA384");
            assertThat(subject(edge, "ed25519.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:ed25519"))
                    .isEqualTo("subject=CN = rsa.dual.test");
            assertThat(subject(edge, "ed25519.test", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"))
                    .isEqualTo("subject=CN = rsa.dual.test");
            assertThat(handshake(edge, "ed25519-alone.test")).contains("subject=CN = ed25519.test")
                    .contains("Peer signature type: ed25519");
        }
    }

    /**
     * A session resumes on a handshake that gets the certificate it began with, and only there: a client that now
     * offers RSA alone makes a full handshake and gets the RSA certificate, never the ECDSA session on it.
     */
    @Test
    void aSessionResumesOnlyWithItsOwnCertificate() throws Exception {
        try (EdgeHarness edge = started(EdgeProcess.freePort())) {
            Path session = dir.resolve("session-" + System.nanoTime() + ".pem");
            assertThat(handshake(edge, "dual.test", "-tls1_2", "-sess_out", session.toString()))
                    .contains("subject=CN = ecdsa.dual.test").contains("New, TLSv1.2");
            assertThat(handshake(edge, "dual.test", "-tls1_2", "-sess_in", session.toString()))
                    .contains("subject=CN = ecdsa.dual.test").contains("Reused, TLSv1.2");
            assertThat(handshake(edge, "dual.test", "-tls1_2", "-sess_in", session.toString(), "-cipher",
                    "ECDHE-RSA-AES128-GCM-SHA256")).contains("subject=CN = rsa.dual.test").contains("New, TLSv1.2");
        }
    }

    /** Each certificate staples its own response: the RSA one good.der's, the ECDSA one revoked.der's. */
    @Test
    void eachCertificateStaplesItsOwnResponse() throws Exception {
        try (EdgeHarness edge = started(EdgeProcess.freePort())) {
            assertThat(handshake(edge, "staple.test", "-status", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"))
                    .contains("subject=CN = rsa.dual.test").contains("Cert Status: good");
            assertThat(handshake(edge, "staple.test", "-status", "-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256"))
                    .contains("subject=CN = ecdsa.dual.test").contains("Cert Status: revoked");
        }
    }

    /** certbot renews the ECDSA certificate, then a reload: new handshakes get the new one, the RSA one stays. */
    @Test
    void aReloadReadsEachCertificateAgain() throws Exception {
        int port = EdgeProcess.freePort();
        try (EdgeHarness edge = started(port)) {
            assertThat(subject(edge, "dual.test")).isEqualTo("subject=CN = ecdsa.dual.test");
            ecdsa("dual-ec", "/CN=renewed.dual.test");
            edge.reload(body(port));
            assertThat(subject(edge, "dual.test")).isEqualTo("subject=CN = renewed.dual.test");
            assertThat(subject(edge, "dual.test", "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"))
                    .isEqualTo("subject=CN = rsa.dual.test");
        } finally {
            ecdsa("dual-ec", "/CN=ecdsa.dual.test");
        }
    }
}
