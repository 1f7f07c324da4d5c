package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.TlsCertificate;
import io.edge.conf.TlsStapling;
import io.edge.core.http.CapturedLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetching from responders that misbehave, as a responder (or anyone between it and edge, over plain http) may: one
 * that sends without end, one that never ends its answer. Fake responders on loopback (a real one makes neither fault);
 * the good answer is openssl ocsp's.
 */
class OcspStaplerTest {

    @TempDir
    static Path dir;

    static TestCertificates certificates;
    static byte[] good;

    private final List<ServerSocket> responders = new java.util.ArrayList<>();
    private final List<OcspStapler> staplers = new java.util.ArrayList<>();

    @BeforeAll
    static void makeCertificates() throws Exception {
        certificates = new TestCertificates(dir);
        certificates.selfSigned("ca", "/CN=OCSP test CA");
        certificates.signedByCa("good", "ca", "/CN=good.test", "subjectAltName=DNS:good.test");
        certificates.ocspResponse("good", "ca", "ca", "good.der");
        good = Files.readAllBytes(certificates.file("good.der"));
    }

    @AfterEach
    void stop() throws IOException {
        staplers.forEach(OcspStapler::close);
        for (ServerSocket responder : responders) {
            responder.close();
        }
    }

    /** A responder on loopback that answers each connection as {@code answer} does, on its own thread. */
    private URI responder(Answer answer) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        responders.add(server);
        Thread thread = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                    InputStream in = socket.getInputStream();
                    String head = "";
                    while (!head.endsWith("\r\n\r\n")) {
                        int read = in.read();
                        if (read < 0) {
                            break;
                        }
                        head += (char) read;
                    }
                    answer.send(socket.getOutputStream());
                } catch (IOException | InterruptedException e) {
                    // the client went away, or the test ended
                }
            }
        }, "fake-ocsp-responder");
        thread.setDaemon(true);
        thread.start();
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/");
    }

    private interface Answer {
        void send(OutputStream out) throws IOException, InterruptedException;
    }

    private static void head(OutputStream out, long length) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: " + length
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private OcspStapler started(URI responder) throws Exception {
        TlsCertificate certificate = new TlsCertificate(certificates.file("good.pem"), certificates.file("good.key"),
                List.of(certificates.certificate("good"), certificates.certificate("ca")), null,
                new TlsStapling(true, null, null, responder, true, List.of()));
        OcspStapler stapler = OcspStapler.of(certificate, Clock.systemUTC());
        staplers.add(stapler);
        stapler.start();
        return stapler;
    }

    /** Waits for {@code condition} (a bound, not a timing). */
    private static boolean await(BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 1500 && !condition.getAsBoolean(); i++) {
            Thread.sleep(20);
        }
        return condition.getAsBoolean();
    }

    /**
     * nginx reads a responder's answer into 16 KB and no further; edge read all a responder sent into memory (100 MB
     * here, or what it takes to run out of heap).
     */
    @Test
    void aRespondersAnswerIsReadNoFurtherThanNginxReadsIt() throws Exception {
        AtomicLong sent = new AtomicLong();
        URI flood = responder(out -> {
            head(out, 100L << 20);
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < 1600; i++) {
                out.write(chunk);
                sent.addAndGet(chunk.length);
            }
        });
        try (CapturedLog log = CapturedLog.of(OcspStapler.class)) {
            started(flood);
            assertThat(await(() -> !log.warnings().isEmpty())).isTrue();
            assertThat(log.warnings().get(0)).endsWith("is not stapled: answer: more than 16384 bytes (expected:"
                    + " an OCSP response of at most 16384 bytes, as nginx reads)");
            assertThat(sent.get()).isLessThan(100L << 20);
        }
    }

    /**
     * A responder that sends its answer a byte at a time without end holds no other certificate's fetch: they go on
     * while it waits (nginx's are each their own connection on the event loop). Before, the one edge-ocsp thread
     * waited on it for ever (java.net.http's request timeout ends with the response's head).
     */
    @Test
    void aResponderThatNeverEndsItsAnswerHoldsBackNoOtherFetch() throws Exception {
        URI dribbling = responder(out -> {
            head(out, 1000);
            while (true) {
                out.write(0x30);
                out.flush();
                Thread.sleep(200);
            }
        });
        URI answering = responder(out -> {
            head(out, good.length);
            out.write(good);
            out.flush();
        });
        started(dribbling);
        OcspStapler other = started(answering);
        assertThat(await(() -> other.staple() != null)).isTrue();
        assertThat(other.staple()).isEqualTo(good);
    }

    /**
     * nginx refuses an answer whose Content-Type is not application/ocsp-response (ngx_ssl_ocsp_process_headers:
     * "OCSP responder sent invalid "Content-Type" header"), and reads one that has none: a proxy's or a portal's page
     * sent with 200 is not taken for a response. Before, edge judged the body whatever its type (and stapled this one).
     */
    @Test
    void anAnswerOfAnotherContentTypeIsNotStapledAsNginxRefusesIt() throws Exception {
        URI html = responder(out -> answer(out, "Content-Type: text/html\r\n"));
        URI untyped = responder(out -> answer(out, ""));
        try (CapturedLog log = CapturedLog.of(OcspStapler.class)) {
            OcspStapler refused = started(html);
            OcspStapler taken = started(untyped);
            assertThat(await(() -> taken.staple() != null && !log.warnings().isEmpty())).isTrue();
            assertThat(log.warnings()).singleElement().asString().endsWith("is not stapled: Content-Type: \"text/html\""
                    + " (expected: application/ocsp-response, as nginx takes)");
            assertThat(refused.staple()).isNull();
        }
    }

    /** The good answer, with the header lines {@code headers}. */
    private static void answer(OutputStream out, String headers) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\n" + headers + "Content-Length: " + good.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(good);
        out.flush();
    }
}
