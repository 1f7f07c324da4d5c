package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import io.edge.core.http.CapturedLog;
import io.edge.core.tls.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCSP of client certificates as nginx's ssl_ocsp, over real TLS: a root CA and two intermediates made by openssl ca
 * (one of them revoked), client certificates under them (one revoked), each OCSP request edge sends answered by
 * {@code openssl ocsp -index ... -reqin ... -respout} from the database of the CA the URL's path names (/int/, /root/,
 * /badint/: behind the JDK's HTTP server on loopback, as OcspStaplingIT's), and curl sending the client's certificate
 * and its intermediate. One listener, sites chosen by SNI: leaf.test (ocsp = leaf), on.test (ocsp = on),
 * over.test (ocsp = leaf, ocsp-responder over the certificate's own, ocsp-cache) and down.test (ocsp-responder a port
 * where nothing listens).
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class ClientOcspIT {

    @TempDir
    static Path dir;

    static Path tls;
    static TestCertificates certificates;
    static JdkBackend responder;
    static int port;
    static int deadPort;
    /** The requests each responder path answered. */
    static final Map<String, AtomicInteger> ASKED = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        tls = Files.createDirectories(dir.resolve("tls"));
        certificates = new TestCertificates(tls);
        responder = JdkBackend.start(ClientOcspIT::answer);
        // the server's certificate, of a CA curl trusts, for the four names
        certificates.selfSigned("ca", "/CN=edge test server CA");
        certificates.signed("server", "ca", "/CN=leaf.test",
                "subjectAltName=DNS:leaf.test,DNS:on.test,DNS:over.test,DNS:down.test");
        // the clients' root, its intermediates (each naming root's responder), one of them revoked
        certificates.selfSigned("root", "/CN=Client root");
        String ca = "basicConstraints=critical,CA:true\nkeyUsage=keyCertSign,cRLSign\n";
        certificates.signedByCa("int", "root", "/CN=Client intermediate", ca + aia("root"));
        certificates.signedByCa("badint", "root", "/CN=Revoked intermediate", ca + aia("root"));
        certificates.revoke("badint", "root");
        String client = "extendedKeyUsage=clientAuth\n";
        certificates.signedByCa("good", "int", "/CN=good", client + aia("int"));
        certificates.signedByCa("revoked", "int", "/CN=revoked", client + aia("int"));
        certificates.revoke("revoked", "int");
        certificates.signedByCa("noaia", "int", "/CN=no responder", client);
        certificates.signedByCa("underbad", "badint", "/CN=under a revoked intermediate", client + aia("badint"));
        for (String name : List.of("good", "revoked", "noaia", "underbad")) {
            String intermediate = name.equals("underbad") ? "badint" : "int";
            Files.writeString(tls.resolve(name + "-chain.pem"), Files.readString(tls.resolve(name + ".pem"))
                    + Files.readString(tls.resolve(intermediate + ".pem")));
        }
        port = EdgeProcess.freePort();
        deadPort = EdgeProcess.freePort(); // nothing listens there: a responder down
    }

    private static String aia(String ca) {
        return "authorityInfoAccess=OCSP;URI:http://" + responder.address() + "/" + ca + "/";
    }

    @AfterAll
    static void stop() {
        if (responder != null) {
            responder.close();
        }
    }

    /** The responder of the CA the path's first segment names: openssl ocsp answering from its database. */
    private static void answer(HttpExchange exchange) throws IOException {
        String[] path = exchange.getRequestURI().getRawPath().split("/", 3);
        ASKED.computeIfAbsent(path[1], any -> new AtomicInteger()).incrementAndGet();
        OpensslOcspResponder.answer(exchange, certificates, path[1], path[2]);
    }

    private static int asked(String ca) {
        return ASKED.computeIfAbsent(ca, any -> new AtomicInteger()).get();
    }

    private static EdgeHarness started() throws Exception {
        return EdgeHarness.start(Files.createDirectories(dir.resolve("edge-" + System.nanoTime())), """
                server {
                  listen = ["127.0.0.1:%1$d ssl http2"]
                  access-log = "-"
                  access-log-format = "$host $status $ssl_client_verify"
                }
                site-defaults {
                  tls { certificate = "%2$s/server.pem", key = "%2$s/server.key", verify-client = on,
                        client-certificate = "%2$s/root.pem", verify-depth = 2 }
                  locations = [{ match = "/", return = "200 $ssl_client_verify" }]
                }
                sites = [
                  { server-names = [leaf.test], root = "%3$s", default = true, tls.ocsp = leaf }
                  { server-names = [on.test], root = "%3$s", tls.ocsp = on }
                  { server-names = [over.test], root = "%3$s", tls { ocsp = leaf,
                    ocsp-responder = "http://%4$s/int/", ocsp-cache = 100 } }
                  { server-names = [down.test], root = "%3$s", tls { ocsp = leaf,
                    ocsp-responder = "http://127.0.0.1:%5$d/" } }
                ]
                """.formatted(port, tls, Files.createDirectories(dir.resolve("www")), responder.address(),
                deadPort));
    }

    /** What curl got of {@code host} over HTTP/1.1 with the client certificate {@code name} and its intermediate. */
    private static String curl(String host, String name) throws Exception {
        List<String> command = Curl.command("--http1.1", "--cacert", tls.resolve("ca.pem").toString(), "--resolve",
                host + ":" + port + ":127.0.0.1", "-w", "\n%{http_code}", "--cert",
                tls.resolve(name + "-chain.pem").toString(), "--key", tls.resolve(name + ".key").toString(),
                "https://" + host + ":" + port + "/");
        Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(said).isZero();
        return said;
    }

    /** nginx 1.22: good serves SUCCESS; revoked is 400 "The SSL certificate error", FAILED:certificate revoked. */
    @Test
    void leafServesAGoodCertificateAndRefusesARevokedOne() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = started()) {
            int before = asked("int");
            assertThat(curl("leaf.test", "good")).isEqualTo("SUCCESS\n200");
            assertThat(curl("leaf.test", "revoked")).contains("The SSL certificate error").endsWith("\n400");
            assertThat(asked("int")).isEqualTo(before + 2); // ocsp-cache 0, as nginx's default: asked each time
            // the client's certificate alone: its revoked intermediate is not asked about
            assertThat(curl("leaf.test", "underbad")).isEqualTo("SUCCESS\n200");
            await(() -> access.lines().size() == 3, "three lines");
            assertThat(access.lines()).containsExactly("leaf.test 200 SUCCESS",
                    "leaf.test 400 FAILED:certificate revoked", "leaf.test 200 SUCCESS");
        } finally {
            access.close();
        }
    }

    @Test
    void onAsksAboutTheIntermediateToo() throws Exception {
        try (EdgeHarness edge = started()) {
            int root = asked("root");
            assertThat(curl("on.test", "good")).isEqualTo("SUCCESS\n200");
            assertThat(asked("root")).isEqualTo(root + 1); // the intermediate, at the responder its AIA names
            assertThat(curl("on.test", "underbad")).contains("The SSL certificate error").endsWith("\n400");
            assertThat(curl("on.test", "revoked")).contains("The SSL certificate error").endsWith("\n400");
            assertThat(asked("root")).isEqualTo(root + 2); // a revoked leaf ends it: its intermediate unasked
        }
    }

    /** ocsp-responder over the certificate's own (one without AIA), and ocsp-cache keeping the answers. */
    @Test
    void theResponderSetIsAskedOnceWhileItsAnswerHolds() throws Exception {
        try (EdgeHarness edge = started()) {
            assertThat(curl("leaf.test", "noaia")).contains("The SSL certificate error").endsWith("\n400");
            int before = asked("int");
            assertThat(curl("over.test", "noaia")).isEqualTo("SUCCESS\n200");
            assertThat(curl("over.test", "noaia")).isEqualTo("SUCCESS\n200");
            assertThat(curl("over.test", "revoked")).contains("The SSL certificate error").endsWith("\n400");
            assertThat(curl("over.test", "revoked")).contains("The SSL certificate error").endsWith("\n400");
            assertThat(asked("int")).isEqualTo(before + 2);
        }
    }

    /**
     * A responder that takes the connection and never answers: the request waits no longer than timeouts.request-head,
     * then is answered 408 and its connection closed (nginx's client_header_timeout closes a handshake still waiting
     * for its responder, unanswered); never served.
     */
    @Test
    void aResponderThatNeverAnswersHoldsTheRequestNoLongerThanTheHeadTimeout() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("edge-" + System.nanoTime())),
                        """
                        server {
                          listen = ["127.0.0.1:%1$d ssl"]
                          access-log = "-"
                          access-log-format = "$status"
                          timeouts.request-head = 2 s
                        }
                        sites = [{ server-names = [leaf.test], root = "%3$s", default = true,
                          tls { certificate = "%2$s/server.pem", key = "%2$s/server.key", verify-client = on,
                                client-certificate = "%2$s/root.pem", verify-depth = 2, ocsp = leaf,
                                ocsp-responder = "http://127.0.0.1:%4$d/" } }]
                        """.formatted(port, tls, Files.createDirectories(dir.resolve("www")), silent.getLocalPort()))) {
            // accepted by the listen backlog, never read: the exchange waits for an answer that never comes
            assertThat(curl("leaf.test", "good")).contains("Request Timeout").endsWith("\n408");
            await(() -> access.lines().size() == 1, "a line");
            assertThat(access.lines()).containsExactly("408");
        } finally {
            access.close();
        }
    }

    /** nginx 1.22: a responder that refuses the connection fails the check, "certificate status request failed". */
    @Test
    void aResponderDownRefusesTheRequest() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try (EdgeHarness edge = started()) {
            assertThat(curl("down.test", "good")).contains("The SSL certificate error").endsWith("\n400");
            await(() -> access.lines().size() == 1, "a line");
            assertThat(access.lines()).containsExactly("down.test 400 FAILED:certificate status request failed");
        } finally {
            access.close();
        }
    }
}
