package io.edge.it;

import static io.edge.it.Awaits.await;
import static io.edge.it.Awaits.until;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import io.edge.core.http.CapturedLog;
import io.edge.core.tls.TestCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCSP stapling as nginx's ssl_stapling, over real TLS: a CA made by openssl ca, each request edge sends answered by
 * {@code openssl ocsp -index ... -reqin ... -respout} from its database (behind the JDK's HTTP server on loopback, as
 * nginx's own tests answer them), and {@code openssl s_client -status} reading what each handshake stapled. Not
 * {@code openssl ocsp -port}: openssl 3.0's responder spins forever on a connection closed before its request came,
 * as one is when a test's edge stops while it fetches, and answers nothing after it. One listener, sites chosen by SNI: good.test (the issuer in its chain file, the responder its
 * certificate's AIA URL, stapling-verify), revoked.test (the issuer from trusted-certificate), file.test (a
 * stapling-file), responder.test (a certificate without AIA, stapling-responder), noissuer.test (no issuer to be had)
 * and off.test (no stapling); swap.test's stapling-file is rewritten before a reload. The listener offers h2 too.
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class OcspStaplingIT {

    @TempDir
    static Path dir;

    static Path tls;
    static TestCertificates certificates;
    static JdkBackend responder;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        tls = Files.createDirectories(dir.resolve("tls"));
        certificates = new TestCertificates(tls);
        responder = JdkBackend.start(OcspStaplingIT::answer);
        String aia = "authorityInfoAccess=OCSP;URI:http://" + responder.address() + "/";
        certificates.selfSigned("ca", "/CN=OCSP test CA");
        certificates.signedByCa("good", "ca", "/CN=good.test", aia);
        certificates.signedByCa("revoked", "ca", "/CN=revoked.test", aia);
        certificates.signedByCa("plain", "ca", "/CN=responder.test", "subjectAltName=DNS:responder.test");
        certificates.revoke("revoked", "ca");
        Files.writeString(tls.resolve("good-chain.pem"), Files.readString(tls.resolve("good.pem"))
                + Files.readString(tls.resolve("ca.pem")));
        certificates.ocspResponse("revoked", "ca", "ca", "revoked.der");
        certificates.ocspResponse("good", "ca", "ca", "good.der");
        Files.copy(tls.resolve("revoked.der"), tls.resolve("swap.der"));
        port = EdgeProcess.freePort();
    }

    @AfterAll
    static void stop() {
        if (responder != null) {
            responder.close();
        }
    }

    /** The CA's responder: openssl ocsp answering from its database what the path's base64 asks. */
    private static void answer(HttpExchange exchange) throws IOException {
        OpensslOcspResponder.answer(exchange, certificates, "ca", exchange.getRequestURI().getRawPath().substring(1));
    }

    private static EdgeHarness started() throws Exception {
        return EdgeHarness.start(Files.createDirectories(dir.resolve("edge-" + System.nanoTime())), body());
    }

    private static String body() throws IOException {
        return """
                server.listen = ["127.0.0.1:%4$d ssl http2"]
                site-defaults.locations = [{ match = "/", return = "200 ok" }]
                sites = [
                  { root = "%1$s", server-names = [good.test], default = true, tls { certificate = "%2$s/good-chain.pem",
                    key = "%2$s/good.key", stapling = true, stapling-verify = true } }
                  { root = "%1$s", server-names = [revoked.test], tls { certificate = "%2$s/revoked.pem", key = "%2$s/revoked.key",
                    trusted-certificate = "%2$s/ca.pem", stapling = true, stapling-verify = true } }
                  { root = "%1$s", server-names = [file.test], tls { certificate = "%2$s/revoked.pem", key = "%2$s/revoked.key",
                    stapling = true, stapling-file = "%2$s/revoked.der" } }
                  { root = "%1$s", server-names = [responder.test], tls { certificate = "%2$s/plain.pem", key = "%2$s/plain.key",
                    trusted-certificate = "%2$s/ca.pem", stapling = true,
                    stapling-responder = "http://%3$s/" } }
                  { root = "%1$s", server-names = [noissuer.test], tls { certificate = "%2$s/good.pem", key = "%2$s/good.key",
                    stapling = true } }
                  { root = "%1$s", server-names = [swap.test], tls { certificate = "%2$s/good-chain.pem",
                    key = "%2$s/good.key", stapling = true, stapling-file = "%2$s/swap.der" } }
                  { root = "%1$s", server-names = [off.test], tls { certificate = "%2$s/good-chain.pem", key = "%2$s/good.key" } }
                ]
                """.formatted(Files.createDirectories(dir.resolve("www")), tls, responder.address(), port);
    }

    /** What openssl s_client -status said of a handshake with {@code serverName} (ALPN: none offered). */
    private static String status(EdgeHarness edge, String serverName) throws Exception {
        return status(edge, serverName, List.of());
    }

    /** What openssl s_client -status said of a handshake with {@code serverName}, with {@code more} arguments. */
    private static String status(EdgeHarness edge, String serverName, List<String> more) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:"
                + edge.address().getPort(), "-servername", serverName, "-status", "-CAfile",
                tls.resolve("ca.pem").toString()));
        command.addAll(more);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return said;
    }

    /** The issuer in the chain file, the responder the certificate's AIA URL: its "good" answer is stapled. */
    @Test
    void aGoodResponseFromTheRespondersIsStapled() throws Exception {
        try (EdgeHarness edge = started()) {
            String said = until(() -> status(edge, "good.test"), s -> s.contains("OCSP Response Status:"),
                    "a staple for good.test");
            assertThat(said).contains("OCSP Response Status: successful (0x0)").contains("Cert Status: good")
                    .contains("Verify return code: 0 (ok)");
            String overridden = until(() -> status(edge, "responder.test"), s -> s.contains("OCSP Response Status:"),
                    "a staple for responder.test, of stapling-responder");
            assertThat(overridden).contains("OCSP Response Status: successful (0x0)").contains("Cert Status: good");
            assertThat(status(edge, "off.test")).contains("OCSP response: no response sent");
        }
    }

    /**
     * The listener is marked http2: a handshake that picks h2 by ALPN gets its site's staple as one that picks
     * http/1.1 does (each site has a context for each, sharing one stapler), as nginx's listen ... ssl http2.
     */
    @Test
    void aHandshakeThatPicksH2GetsItsSitesStapleToo() throws Exception {
        try (EdgeHarness edge = started()) {
            String said = until(() -> status(edge, "good.test", List.of("-alpn", "h2")),
                    s -> s.contains("OCSP Response Status:"), "a staple for good.test over h2");
            assertThat(said).contains("ALPN protocol: h2").contains("Cert Status: good")
                    .contains("Verify return code: 0 (ok)");
            assertThat(status(edge, "file.test", List.of("-alpn", "h2"))).contains("ALPN protocol: h2")
                    .contains("Cert Status: revoked");
            assertThat(status(edge, "off.test", List.of("-alpn", "h2"))).contains("ALPN protocol: h2")
                    .contains("OCSP response: no response sent");
        }
    }

    /** As nginx's: "certificate status "revoked" in the OCSP response" is logged, and nothing is stapled. */
    @Test
    void aRevokedCertificatesResponseIsNotStapled() throws Exception {
        try (CapturedLog log = CapturedLog.of("io.edge.core.tls.OcspStapler"); EdgeHarness edge = started()) {
            await(() -> log.warnings().stream().anyMatch(w -> w.contains("revoked.pem")
                    && w.endsWith("is not stapled: certificate status revoked (expected: good)")),
                    "the revoked status logged");
            assertThat(status(edge, "revoked.test")).contains("OCSP response: no response sent");
            assertThat(log.warnings()).anyMatch(w -> w.contains("good.pem: off, the issuer certificate of"
                    + " \"CN=good.test\" is neither in the file nor in trusted-certificate"));
            assertThat(status(edge, "noissuer.test")).contains("OCSP response: no response sent");
        }
    }

    /**
     * A reload reads the stapling-file again, as nginx's: the new response is stapled from the reload on; a fetched
     * one is fetched again for the reload's contexts.
     */
    @Test
    void aReloadReadsTheStaplingFileAgain() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(status(edge, "swap.test")).contains("Cert Status: revoked");
            Files.copy(tls.resolve("good.der"), tls.resolve("swap.der"), StandardCopyOption.REPLACE_EXISTING);
            edge.reload(body());
            assertThat(status(edge, "swap.test")).contains("OCSP Response Status: successful (0x0)")
                    .contains("Cert Status: good");
            String said = until(() -> status(edge, "good.test"), s -> s.contains("OCSP Response Status:"),
                    "a staple for good.test after the reload");
            assertThat(said).contains("Cert Status: good");
        } finally {
            Files.copy(tls.resolve("revoked.der"), tls.resolve("swap.der"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** nginx's ssl_stapling_file: stapled as it is from the first handshake, whatever it says (here: revoked). */
    @Test
    void aStaplingFileIsStapledAsItIs() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(status(edge, "file.test")).contains("OCSP Response Status: successful (0x0)")
                    .contains("Cert Status: revoked");
        }
    }
}
