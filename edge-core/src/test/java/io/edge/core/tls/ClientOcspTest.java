package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.TlsClientVerify;
import java.net.ConnectException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What nginx's ssl_ocsp makes of a verified chain's OCSP answers, against the openssl CLI's responder (openssl ocsp
 * -index, the CA's database, behind a fake transport that records what was asked where): good, revoked, unknown, no
 * answer; the client's certificate alone (leaf) or every one but the root (on); the responder of each certificate's
 * AIA or ocsp-responder's; answers kept until their nextUpdate.
 */
class ClientOcspTest {

    @TempDir
    static Path dir;

    static TestCertificates certificates;
    static X509Certificate root;
    static X509Certificate intermediate;
    static X509Certificate revokedIntermediate;

    /** The responders asked, in turn. */
    private final List<URI> asked = new ArrayList<>();
    /** Whether the responders answer (else the exchange fails as a refused connection). */
    private boolean answering = true;
    /** Whose key signs the answers: the issuer's (ca-name's own) where null. */
    private String signer;
    /** Whether the answers say a nextUpdate (an hour on). */
    private boolean nextUpdate = true;
    private final MutableClock clock = new MutableClock(Instant.now());

    @BeforeAll
    static void makeCertificates() throws Exception {
        certificates = new TestCertificates(dir);
        certificates.selfSignedByCa("root", "/CN=Client OCSP root", "20200101000000Z", "20991231000000Z");
        certificates.intermediateByCa("int", "root", "/CN=Client OCSP intermediate");
        certificates.intermediateByCa("badint", "root", "/CN=Client OCSP revoked intermediate");
        certificates.revoke("badint", "root");
        String aia = "authorityInfoAccess=OCSP;URI:http://int.ocsp.test/status\nextendedKeyUsage=clientAuth";
        certificates.signedByCa("good", "int", "/CN=good", aia);
        certificates.signedByCa("revoked", "int", "/CN=revoked", aia);
        certificates.revoke("revoked", "int");
        certificates.signed("unknown", "int", "/CN=unknown", aia); // not in int's database: unknown to its responder
        certificates.signedByCa("noaia", "int", "/CN=no responder", "extendedKeyUsage=clientAuth");
        certificates.signedByCa("underbad", "badint", "/CN=under a revoked intermediate", aia.replace("int.", "badint."));
        certificates.selfSigned("stranger", "/CN=stranger");
        root = certificates.certificate("root");
        intermediate = certificates.certificate("int");
        revokedIntermediate = certificates.certificate("badint");
    }

    @BeforeEach
    void reset() {
        asked.clear();
    }

    /**
     * The openssl responder of the CA whose name the URL's host begins with ("int.ocsp.test": int's database), or of
     * int where the host is ocsp-responder's.
     */
    private CompletableFuture<byte[]> respond(URI responder, byte[] request) {
        asked.add(responder);
        if (!answering) {
            return CompletableFuture.failedFuture(new ConnectException("Connection refused"));
        }
        try {
            String ca = responder.getHost().split("\\.")[0];
            ca = ca.equals("override") ? "int" : ca;
            Path requestFile = Files.createTempFile(dir, "request", ".der");
            Path responseFile = Files.createTempFile(dir, "response", ".der");
            Files.write(requestFile, request);
            String by = signer == null ? ca : signer;
            List<String> command = new ArrayList<>(List.of("ocsp", "-index", "ca-" + ca + "/index.txt", "-rsigner",
                    by + ".pem", "-rkey", by + ".key", "-CA", ca + ".pem", "-reqin", requestFile.toString(),
                    "-respout", responseFile.toString()));
            if (nextUpdate) {
                command.addAll(List.of("-nmin", "60"));
            }
            certificates.openssl(command.toArray(String[]::new));
            return CompletableFuture.completedFuture(Files.readAllBytes(responseFile));
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private ClientOcsp ocsp(TlsClientVerify.Ocsp.Checked checked, URI responder, int cache) {
        return new ClientOcsp(new TlsClientVerify.Ocsp(checked, responder, cache), clock, this::respond);
    }

    private static List<X509Certificate> chain(String leaf) throws Exception {
        X509Certificate certificate = certificates.certificate(leaf);
        return List.of(certificate, certificate.getIssuerX500Principal().equals(
                revokedIntermediate.getSubjectX500Principal()) ? revokedIntermediate : intermediate, root);
    }

    private static int checked(ClientOcsp ocsp, List<X509Certificate> chain) {
        CompletableFuture<Integer> check = ocsp.check(chain);
        assertThat(check).isDone(); // the fake transport answers at once
        return check.join();
    }

    @Test
    void aGoodLeafPassesAskedAtTheResponderItNames() throws Exception {
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0), chain("good"))).isZero();
        assertThat(asked).containsExactly(URI.create("http://int.ocsp.test/status"));
    }

    @Test
    void revokedAndUnknownAreTheirOwnFailures() throws Exception {
        ClientOcsp ocsp = ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0);
        assertThat(checked(ocsp, chain("revoked"))).isEqualTo(ClientVerifier.OCSP_REVOKED);
        assertThat(checked(ocsp, chain("unknown"))).isEqualTo(ClientVerifier.OCSP_UNKNOWN);
        assertThat(ClientVerification.failed(certificates.certificate("revoked"), ClientVerifier.OCSP_REVOKED)
                .verifyVariable()).isEqualTo("FAILED:certificate revoked");
        assertThat(ClientVerification.failed(certificates.certificate("unknown"), ClientVerifier.OCSP_UNKNOWN)
                .verifyVariable()).isEqualTo("FAILED:certificate status unknown");
    }

    /** nginx 1.22: a responder that refuses the connection is "certificate status request failed", refused too. */
    @Test
    void noAnswerFailsTheRequestAndIsNotKept() throws Exception {
        ClientOcsp ocsp = ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 100);
        answering = false;
        assertThat(checked(ocsp, chain("good"))).isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(ClientVerification.failed(certificates.certificate("good"), ClientVerifier.OCSP_REQUEST_FAILED)
                .verifyVariable()).isEqualTo("FAILED:certificate status request failed");
        answering = true;
        assertThat(checked(ocsp, chain("good"))).isZero();
        assertThat(asked).hasSize(2);
    }

    @Test
    void aCertificateWithoutAResponderFailsUnlessOcspResponderIsSet() throws Exception {
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0), chain("noaia")))
                .isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(asked).isEmpty();
        URI override = URI.create("http://override.ocsp.test:8080/ocsp");
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.LEAF, override, 0), chain("noaia"))).isZero();
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.LEAF, override, 0), chain("revoked")))
                .isEqualTo(ClientVerifier.OCSP_REVOKED);
        assertThat(asked).containsExactly(override, override); // over the certificate's own
    }

    /** OCSP_basic_verify without flags, as nginx's ssl_ocsp: a signer neither the issuer nor its responder fails. */
    @Test
    void anAnswerOfAStrangersSignatureFails() throws Exception {
        signer = "stranger";
        try {
            assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0), chain("good")))
                    .isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        } finally {
            signer = null;
        }
    }

    @Test
    void onAsksAboutEveryCertificateButTheRootLeafAboutTheClientsAlone() throws Exception {
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0), chain("underbad"))).isZero();
        assertThat(asked).containsExactly(URI.create("http://badint.ocsp.test/status"));
        asked.clear();
        // the intermediates name no responder: ocsp-responder's, whose host names root's database, asked of both
        URI rootResponder = URI.create("http://root.ocsp.test/");
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.ON, rootResponder, 0), List.of(intermediate, root)))
                .isZero();
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.ON, rootResponder, 0), List.of(revokedIntermediate,
                root))).isEqualTo(ClientVerifier.OCSP_REVOKED);
        assertThat(asked).containsExactly(rootResponder, rootResponder);
        asked.clear();
        // on, the leaf's own responder first, then the intermediate's (none named: the request fails), root unasked
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.ON, null, 0), chain("good")))
                .isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(asked).containsExactly(URI.create("http://int.ocsp.test/status"));
        asked.clear();
        // a revoked leaf ends it: its intermediate is not asked about
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.ON, null, 0), chain("revoked")))
                .isEqualTo(ClientVerifier.OCSP_REVOKED);
        assertThat(asked).hasSize(1);
    }

    @Test
    void aTrustedSelfSignedClientCertificateIsAskedAboutNothing() {
        assertThat(checked(ocsp(TlsClientVerify.Ocsp.Checked.ON, null, 0), List.of(root))).isZero();
        assertThat(asked).isEmpty();
    }

    @Test
    void answersAreKeptUntilTheirNextUpdateWhereOcspCacheAllows() throws Exception {
        ClientOcsp kept = ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 100);
        assertThat(checked(kept, chain("good"))).isZero();
        assertThat(checked(kept, chain("revoked"))).isEqualTo(ClientVerifier.OCSP_REVOKED);
        assertThat(checked(kept, chain("good"))).isZero();
        assertThat(checked(kept, chain("revoked"))).isEqualTo(ClientVerifier.OCSP_REVOKED);
        assertThat(asked).hasSize(2); // a revoked answer is kept too, as nginx's
        clock.now = clock.now.plus(Duration.ofMinutes(70)); // past the answers' nextUpdate (-nmin 60): asked again
        // (and the responder's fresh answer, of the real clock's time, is past its nextUpdate and the 5 minutes
        // OpenSSL's OCSP_check_validity allows nginx on the test's: failed)
        assertThat(checked(kept, chain("good"))).isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(asked).hasSize(3);
        asked.clear();
        clock.now = Instant.now();
        ClientOcsp unkept = ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0);
        assertThat(checked(unkept, chain("good"))).isZero();
        assertThat(checked(unkept, chain("good"))).isZero();
        assertThat(asked).hasSize(2); // nginx's ssl_ocsp_cache off: every connection asks
    }

    /**
     * nginx's ssl_ocsp checks an answer by OCSP_check_validity(thisUpdate, nextUpdate, 300, -1): taken until 5 minutes
     * past its nextUpdate (a responder's clock behind, a CDN's copy a moment stale), though never kept then
     * (ngx_ssl_ocsp_cache_store keeps no answer whose nextUpdate passed).
     */
    @Test
    void anAnswerUpToFiveMinutesPastItsNextUpdateIsTakenNotKept() throws Exception {
        ClientOcsp kept = ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 100);
        clock.now = Instant.now().plus(Duration.ofMinutes(62)); // the answers' nextUpdate (-nmin 60) 2 minutes past
        assertThat(checked(kept, chain("good"))).isZero();
        assertThat(checked(kept, chain("revoked"))).isEqualTo(ClientVerifier.OCSP_REVOKED);
        assertThat(checked(kept, chain("good"))).isZero();
        assertThat(asked).hasSize(3);
        clock.now = Instant.now().plus(Duration.ofMinutes(70)); // 10 minutes past: expired
        assertThat(checked(kept, chain("good"))).isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(checked(kept, chain("revoked"))).isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
    }

    /** nginx's: an answer without a nextUpdate is kept an hour. */
    @Test
    void anAnswerWithoutANextUpdateIsKeptAnHour() throws Exception {
        ClientOcsp kept = ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 100);
        nextUpdate = false;
        try {
            assertThat(checked(kept, chain("good"))).isZero();
            clock.now = clock.now.plus(Duration.ofMinutes(59));
            assertThat(checked(kept, chain("good"))).isZero();
            assertThat(asked).hasSize(1);
            clock.now = clock.now.plus(Duration.ofMinutes(2));
            assertThat(checked(kept, chain("good"))).isZero();
            assertThat(asked).hasSize(2);
        } finally {
            nextUpdate = true;
        }
    }

    /** A clock the test sets. */
    private static final class MutableClock extends Clock {

        volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /**
     * A client gone while its certificate is asked about ends the exchange with the responder, as nginx's
     * ngx_ssl_ocsp_cleanup closes it with the connection: else a slow responder held one exchange per connection a
     * client opened and closed, for a minute each, however many.
     */
    @Test
    void aClientGoneEndsItsExchangeWithTheResponder() throws Exception {
        List<CompletableFuture<byte[]>> exchanges = new ArrayList<>();
        ClientOcsp ocsp = new ClientOcsp(new TlsClientVerify.Ocsp(TlsClientVerify.Ocsp.Checked.ON, null, 100), clock,
                (uri, request) -> {
                    CompletableFuture<byte[]> exchange = new CompletableFuture<>(); // a responder that never answers
                    exchanges.add(exchange);
                    return exchange;
                });
        CompletableFuture<Void> gone = new CompletableFuture<>();
        CompletableFuture<Integer> check = ocsp.check(chain("good"), gone);
        assertThat(exchanges).hasSize(1);
        assertThat(check).isNotDone();
        gone.complete(null);
        assertThat(exchanges.get(0)).isCancelled();
        assertThat(check.join()).isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        // a client gone before its check begins: none asked
        assertThat(ocsp.check(chain("good"), gone).join()).isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(exchanges).hasSize(1);
    }

    @Test
    void anAnswerOtherThanSuccessfulFails() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ClientOcsp ocsp = new ClientOcsp(new TlsClientVerify.Ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0), clock,
                (uri, request) -> {
                    calls.incrementAndGet();
                    return CompletableFuture.completedFuture(new byte[] {0x30, 0x03, 0x0a, 0x01, 0x02});
                });
        // internalError: no status in it, the request fails
        assertThat(ocsp.check(List.of(certificates.certificate("good"), intermediate, root)).join())
                .isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(calls).hasValue(1);
    }

    /**
     * A request the transport cannot even start (it throws, as an HTTP client does for a URI it refuses): the check
     * fails with OCSP_REQUEST_FAILED and never throws, which would leave the connection's request waiting for a verdict
     * that never comes.
     */
    @Test
    void aTransportThatThrowsFailsTheCheck() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ClientOcsp ocsp = new ClientOcsp(new TlsClientVerify.Ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0), clock,
                (uri, request) -> {
                    calls.incrementAndGet();
                    throw new IllegalArgumentException("unsupported URI " + uri);
                });
        assertThat(checked(ocsp, chain("good"))).isEqualTo(ClientVerifier.OCSP_REQUEST_FAILED);
        assertThat(calls).hasValue(1);
    }
}
