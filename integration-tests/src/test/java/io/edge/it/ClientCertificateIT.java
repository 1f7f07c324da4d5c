package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.edge.core.http.CapturedLog;
import io.edge.core.tls.ClientCertificates;
import io.edge.core.tls.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Client certificates as nginx's ssl_verify_client asks for and checks them, over real TLS: certificates made by the
 * openssl CLI (a client CA and a certificate it signed, one of another CA, a self-signed one), curl sending them over
 * HTTP/1.1 and HTTP/2, openssl s_client reading the CertificateRequest, a real php-fpm told the verification. One
 * listener, five sites chosen by SNI: on (a.test), off (b.test), optional (c.test), optional_no_ca (d.test), and on
 * with another CA (e.test).
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class ClientCertificateIT {

    private static final String VARS = "$ssl_client_verify|$ssl_client_s_dn|$ssl_client_i_dn|$ssl_client_serial"
            + "|$ssl_client_fingerprint|$ssl_client_v_remain";

    @TempDir
    static Path dir;

    static Path tls;
    static TestCertificates certificates;
    static PhpFpm fpm;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        tls = Files.createDirectories(dir.resolve("tls"));
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("env.php"), "<?php echo $_SERVER['SSL_CLIENT_VERIFY'], '|',"
                + " $_SERVER['SSL_CLIENT_S_DN'], '|', md5(rawurldecode($_SERVER['SSL_CLIENT_CERT']));\n");
        Files.writeString(www.resolve("cert-error.html"), "<p>Your certificate was refused.</p>\n");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
        certificates = new TestCertificates(tls);
        // the server's certificate, of a CA curl trusts, for the four names
        certificates.selfSigned("ca", "/CN=edge test server CA");
        certificates.signed("server", "ca", "/CN=a.test",
                "subjectAltName=DNS:a.test,DNS:b.test,DNS:c.test,DNS:d.test");
        // the clients' CA and a certificate it signed; another CA's; a self-signed one
        certificates.selfSigned("clientca", "/O=Edge Test/CN=Client CA");
        certificates.signed("good", "clientca", "/C=DE/O=Edge Test, Inc./CN=alice", null);
        certificates.selfSigned("otherca", "/CN=Other CA");
        certificates.signed("other", "otherca", "/CN=mallory", null);
        certificates.selfSigned("self", "/CN=self");
        // names past ASCII, and attributes the JDK knows by OID alone
        certificates.signed("utf", "clientca", "/CN=Grüße Ünïcode/emailAddress=a@b.example/serialNumber=42", null);
        // one the client CA signed that expired long ago
        certificates.signedByCa("old", "clientca", "/CN=old", "20200101000000Z", "20200102000000Z");
        port = EdgeProcess.freePort();
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(null, fpm);
    }

    private static EdgeHarness started() throws Exception {
        return started("");
    }

    /** An edge of the five sites, {@code more} (configuration) after them. */
    private static EdgeHarness started(String more) throws Exception {
        return EdgeHarness.start(Files.createDirectories(dir.resolve("edge-" + System.nanoTime())), """
                server {
                  listen = ["127.0.0.1:%1$d ssl http2"]
                  access-log = "-"
                  access-log-format = "$host $status $ssl_client_verify $ssl_client_s_dn"
                }
                site-defaults {
                  tls { certificate = "%3$s", key = "%4$s", client-certificate = "%5$s" }
                  locations = [
                    { match = "/vars", return = "200 %6$s" }
                    { match = "~ \\\\.php$", fastcgi = php,
                      fastcgi-params { SSL_CLIENT_VERIFY = "$ssl_client_verify", SSL_CLIENT_S_DN = "$ssl_client_s_dn",
                                       SSL_CLIENT_CERT = "$ssl_client_escaped_cert" } }
                  ]
                }
                sites = [
                  { server-names = [a.test], root = "%2$s", default = true, tls.verify-client = on }
                  { server-names = [b.test], root = "%2$s" }
                  { server-names = [c.test], root = "%2$s", tls.verify-client = optional }
                  { server-names = [d.test], root = "%2$s", tls.verify-client = optional_no_ca,
                    error-pages { 495 = "/cert-error.html" } }
                  { server-names = [e.test], root = "%2$s", tls { verify-client = on, client-certificate = "%8$s" } }
                ]
                fastcgi.backends.php { addresses = ["%7$s"] }
                """.formatted(port, dir.resolve("www"), tls.resolve("server.pem"), tls.resolve("server.key"),
                tls.resolve("clientca.pem"), VARS, fpm.address(), tls.resolve("otherca.pem")) + more);
    }

    /**
     * What curl got for {@code path} of {@code host} over {@code version} ("--http1.1", "--http2") with the client
     * certificate {@code name} (null: none): the body, then a line of the status and the HTTP version.
     */
    private static String curl(String version, String host, String path, String name, String... more) throws Exception {
        List<String> command = Curl.command(version, "--cacert", tls.resolve("ca.pem").toString(), "--resolve",
                host + ":" + port + ":127.0.0.1", "-w", "\n%{http_code} %{http_version}");
        if (name != null) {
            command.addAll(List.of("--cert", tls.resolve(name + ".pem").toString(), "--key",
                    tls.resolve(name + ".key").toString()));
        }
        command.addAll(List.of(more));
        command.add("https://" + host + ":" + port + path);
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(said).isZero();
        return said;
    }

    /** The subject, issuer, serial and SHA-1 fingerprint of {@code name}.pem as nginx's variables say them. */
    private static String expectedVars(String name, String subject, String issuer) throws Exception {
        String serial = certificates.openssl("x509", "-in", name + ".pem", "-noout", "-serial").strip()
                .substring("serial=".length());
        String fingerprint = certificates.openssl("x509", "-in", name + ".pem", "-noout", "-fingerprint", "-sha1")
                .strip();
        fingerprint = fingerprint.substring(fingerprint.indexOf('=') + 1).replace(":", "").toLowerCase();
        return subject + "|" + issuer + "|" + serial + "|" + fingerprint + "|1";
    }

    @Test
    void onRefusesARequestWithoutACertificateAndServesOneWithAGoodOne() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = started()) {
            String none = curl("--http1.1", "a.test", "/vars", null);
            assertThat(none).contains("No required SSL certificate was sent").endsWith("\n400 1.1");
            assertThat(curl("--http1.1", "a.test", "/vars", "good")).isEqualTo("SUCCESS|"
                    + expectedVars("good", "CN=alice,O=Edge Test\\, Inc.,C=DE", "CN=Client CA,O=Edge Test")
                    + "\n200 1.1");
            assertThat(curl("--http1.1", "a.test", "/env.php", "good")).startsWith("SUCCESS|CN=alice,O=Edge Test\\,"
                    + " Inc.,C=DE|").endsWith("\n200 1.1");
            await(() -> access.lines().size() == 3, "three lines");
            // the log's escape of "\\" is nginx's too
            assertThat(access.lines()).contains("a.test 400 NONE -", "a.test 200 SUCCESS CN=alice,O=Edge Test\\x5C,"
                    + " Inc.,C=DE");
        } finally {
            access.close();
        }
    }

    /** PHP gets the certificate's PEM escaped (nginx's $ssl_client_escaped_cert), as openssl wrote it. */
    @Test
    void theEscapedCertificateReachesPhpWhole() throws Exception {
        try (EdgeHarness edge = started()) {
            String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                    .digest(Files.readAllBytes(tls.resolve("good.pem"))));
            assertThat(curl("--http1.1", "a.test", "/env.php", "good")).endsWith("|" + md5 + "\n200 1.1");
        }
    }

    @Test
    void aCertificateOfAnotherCaOrSelfSignedIsRefusedWhereOnOrOptional() throws Exception {
        try (EdgeHarness edge = started()) {
            for (String host : List.of("a.test", "c.test")) {
                for (String name : List.of("other", "self")) {
                    assertThat(curl("--http1.1", host, "/vars", name)).as(host + " " + name)
                            .contains("The SSL certificate error").endsWith("\n400 1.1");
                }
            }
        }
    }

    @Test
    void optionalServesARequestWithoutACertificate() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(curl("--http1.1", "c.test", "/vars", null)).isEqualTo("NONE|||||\n200 1.1");
            assertThat(curl("--http1.1", "c.test", "/vars", "good")).startsWith("SUCCESS|CN=alice,")
                    .endsWith("\n200 1.1");
        }
    }

    /**
     * Names as nginx's since 1.11.6 (OpenSSL's RFC 2253 form): the last attribute first, OpenSSL's short names, each
     * byte of UTF-8 escaped; nginx 1.22 said this of the same certificate.
     */
    @Test
    void namesAreWrittenAsNginxWritesThem() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(curl("--http1.1", "a.test", "/vars", "utf")).startsWith("SUCCESS|serialNumber=42,"
                    + "emailAddress=a@b.example,CN=Gr\\C3\\BC\\C3\\9Fe \\C3\\9Cn\\C3\\AFcode|CN=Client CA,O=Edge Test|")
                    .endsWith("\n200 1.1");
        }
    }

    /**
     * An expired certificate of the trusted CA is refused even by optional_no_ca, which lets pass only a CA unknown;
     * a site's error page for 495 is its answer, as nginx's error_page 495.
     */
    @Test
    void anExpiredCertificateIsRefusedEvenWhereNoCaIsNeeded() throws Exception {
        try (EdgeHarness edge = started()) {
            for (String host : List.of("a.test", "c.test")) {
                assertThat(curl("--http1.1", host, "/vars", "old")).as(host).contains("The SSL certificate error")
                        .endsWith("\n400 1.1");
            }
            assertThat(curl("--http1.1", "d.test", "/vars", "old"))
                    .isEqualTo("<p>Your certificate was refused.</p>\n\n400 1.1");
        }
    }

    /** optional_no_ca lets a certificate no trusted CA signed through, saying why it failed, as nginx's. */
    @Test
    void optionalNoCaServesACertificateOfNoTrustedCa() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(curl("--http1.1", "d.test", "/vars", "self")).isEqualTo("FAILED:self-signed certificate|"
                    + expectedVars("self", "CN=self", "CN=self") + "\n200 1.1");
            assertThat(curl("--http1.1", "d.test", "/vars", "other")).startsWith("FAILED:unable to verify the first"
                    + " certificate|CN=mallory|CN=Other CA|").endsWith("\n200 1.1");
            assertThat(curl("--http1.1", "d.test", "/vars", null)).isEqualTo("NONE|||||\n200 1.1");
        }
    }

    /**
     * The SNI name's site decides whether the handshake asks for a certificate: a.test names the client CA in its
     * CertificateRequest, b.test on the same listener asks for none (a certificate offered is not sent).
     */
    @Test
    void aSiteWithoutVerifyOnTheSameListenerAsksForNone() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(sClient("a.test"))
                    .contains("Acceptable client certificate CA names\nO = Edge Test, CN = Client CA");
            assertThat(sClient("b.test")).contains("No client certificate CA names sent");
            assertThat(curl("--http1.1", "b.test", "/vars", "good")).isEqualTo("NONE|||||\n200 1.1");
        }
    }

    /**
     * As nginx: a Host other than the SNI name, naming a site that asks for certificates, is answered 421 (the
     * connection's certificate was asked for, and checked, by the SNI name's site).
     */
    @Test
    void aHostOtherThanTheSniNameOfAVerifyingSiteIsMisdirected() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(curl("--http1.1", "b.test", "/vars", "good", "-H", "Host: a.test")).endsWith("\n421 1.1");
            assertThat(curl("--http1.1", "a.test", "/vars", "good", "-H", "Host: b.test")).isEqualTo("SUCCESS|"
                    + expectedVars("good", "CN=alice,O=Edge Test\\, Inc.,C=DE", "CN=Client CA,O=Edge Test")
                    + "\n200 1.1");
        }
    }

    /**
     * A request without a Host (HTTP/1.0) goes to the default site, a.test: where the SNI name was another's, it is
     * misdirected as nginx 1.22 answers it, not served on a certificate only e.test's CA signed (it was, 200 "SUCCESS").
     * The SNI name is read as a Host is: a trailing dot is the same site (it was 421).
     */
    @Test
    void aRequestWithoutAHostOnAnotherSitesHandshakeIsMisdirected() throws Exception {
        String request = "GET /vars HTTP/1.0\r\n\r\n";
        try (EdgeHarness edge = started()) {
            String other = sClient("e.test", request, "-ign_eof", "-cert", tls.resolve("other.pem").toString(),
                    "-key", tls.resolve("other.key").toString());
            assertThat(other).contains("HTTP/1.1 421 ").doesNotContain("SUCCESS|");
            assertThat(sClient("b.test", request, "-ign_eof")).contains("HTTP/1.1 421 ");
            assertThat(sClient("a.test.", "GET /vars HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
                    "-ign_eof", "-cert", tls.resolve("good.pem").toString(), "-key", tls.resolve("good.key")
                    .toString())).contains("HTTP/1.1 200 ").contains("\nSUCCESS|CN=alice,");
        }
    }

    /**
     * Without SNI the default site's handshake (a.test's CA) checked the certificate: a Host of e.test, whose CA is
     * another, is misdirected, not served on a.test's check (it was 200 "SUCCESS|CN=alice", as nginx 1.22 serves it: a
     * deliberate difference); a Host of a site that checks as a.test does (its CA; c.test's optional) is served.
     */
    @Test
    void withoutSniACertificateStandsOnlyForSitesThatVerifyAsTheDefault() throws Exception {
        try (EdgeHarness edge = started()) {
            String[] good = {"-ign_eof", "-noservername", "-cert", tls.resolve("good.pem").toString(), "-key",
                    tls.resolve("good.key").toString()};
            assertThat(sClient(null, "GET /vars HTTP/1.1\r\nHost: e.test\r\nConnection: close\r\n\r\n", good))
                    .contains("HTTP/1.1 421 ").doesNotContain("SUCCESS|");
            for (String host : List.of("a.test", "c.test")) {
                assertThat(sClient(null, "GET /vars HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n",
                        good)).as(host).contains("HTTP/1.1 200 ").contains("\nSUCCESS|CN=alice,");
            }
        }
    }

    /** On HTTP/2 each stream is held to its site's verify-client as a request of HTTP/1.1 is. */
    @Test
    void http2StreamsAreCheckedAsRequests() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(curl("--http2", "a.test", "/vars", null)).contains("No required SSL certificate was sent")
                    .endsWith("\n400 2");
            assertThat(curl("--http2", "a.test", "/vars", "other")).contains("The SSL certificate error")
                    .endsWith("\n400 2");
            assertThat(curl("--http2", "a.test", "/vars", "good")).startsWith("SUCCESS|CN=alice,")
                    .endsWith("\n200 2");
            assertThat(curl("--http2", "d.test", "/vars", "self")).startsWith("FAILED:self-signed certificate|")
                    .endsWith("\n200 2");
        }
    }

    /**
     * The chain is checked off the event loop, on a certificate-check thread, once a connection: two HTTP/2 streams
     * curl sends at once on one connection wait for the same check, and both are served by its result.
     */
    @Test
    void theCheckRunsOffTheLoopOnceForTheStreamsOfAConnection() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(ClientCertificates.class);
        Level level = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        try (EdgeHarness edge = started(); CapturedLog checks = CapturedLog.of(ClientCertificates.class)) {
            String said = curl("--http2", "a.test", "/vars", "good", "--parallel", "https://a.test:" + port
                    + "/vars?second");
            assertThat(said.split("SUCCESS\\|CN=alice,", -1)).as(said).hasSize(3);
            List<ILoggingEvent> made = checks.events().stream()
                    .filter(e -> e.getFormattedMessage().startsWith("client certificate of")).toList();
            assertThat(made).hasSize(1);
            assertThat(made.get(0).getFormattedMessage()).endsWith("checked: SUCCESS");
            assertThat(made.get(0).getThreadName()).startsWith("edge-client-cert");
        } finally {
            logger.setLevel(level);
        }
    }

    /**
     * A session resumed (a TLSv1.3 ticket; TLSv1.2's session id) keeps the certificate it was made with: the check is
     * made again of it, as nginx keeps the verification in the session.
     */
    @Test
    void aResumedSessionKeepsItsCertificate() throws Exception {
        String request = "GET /vars HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
        try (EdgeHarness edge = started()) {
            for (String version : List.of("-tls1_3", "-tls1_2")) {
                Path session = tls.resolve("session" + version + ".pem");
                String first = sClient("a.test", request, version, "-ign_eof", "-cert",
                        tls.resolve("good.pem").toString(), "-key", tls.resolve("good.key").toString(), "-sess_out",
                        session.toString());
                assertThat(first).as(version).contains("\nSUCCESS|CN=alice,");
                String resumed = sClient("a.test", request, version, "-ign_eof", "-sess_in", session.toString());
                assertThat(resumed).as(version).contains("Reused, TLSv1.").contains("\nSUCCESS|CN=alice,");
            }
        }
    }

    /**
     * Sites of one certificate that check clients' certificates against other CAs (a.test, e.test) never resume each
     * other's sessions, though session-ticket-keys seal every site's tickets with the same key: the session id context
     * is of the client CAs too, as nginx's. (nginx 1.22 does not resume it in TLSv1.3 either; in TLSv1.2 it does,
     * a ticket being opened before the SNI name switches the site, and answers 421.)
     */
    @Test
    void aSessionOfASiteDoesNotResumeOnOneCheckingAgainstAnotherCa() throws Exception {
        Files.write(tls.resolve("ticket.key"), new byte[48]);
        String request = "GET /vars HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n";
        try (EdgeHarness edge = started("server.tls.session-ticket-keys = [\"" + tls.resolve("ticket.key") + "\"]\n")) {
            for (String version : List.of("-tls1_3", "-tls1_2")) {
                Path session = tls.resolve("a-session" + version + ".pem");
                assertThat(sClient("a.test", request.formatted("a.test"), version, "-ign_eof", "-cert",
                        tls.resolve("good.pem").toString(), "-key", tls.resolve("good.key").toString(), "-sess_out",
                        session.toString()))
                        .as(version).contains("New, TLSv1.").contains("\nSUCCESS|CN=alice,");
                assertThat(sClient("a.test", "", version, "-sess_in", session.toString())).as(version)
                        .contains("Reused, TLSv1.");
                assertThat(sClient("e.test", request.formatted("e.test"), version, "-ign_eof", "-sess_in",
                        session.toString())).as(version).contains("New, TLSv1.").contains("HTTP/1.1 400 ");
            }
        }
    }

    /** What openssl s_client said of a handshake with {@code serverName}. */
    private static String sClient(String serverName) throws Exception {
        return sClient(serverName, "");
    }

    /**
     * What openssl s_client said of a handshake with {@code serverName} (null: none of its own, with -noservername),
     * {@code input} sent, {@code more} options.
     */
    private static String sClient(String serverName, String input, String... more) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-CAfile", tls.resolve("ca.pem").toString()));
        if (serverName != null) {
            command.addAll(List.of("-servername", serverName));
        }
        command.addAll(List.of(more));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
        process.getOutputStream().close();
        String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return said;
    }
}
