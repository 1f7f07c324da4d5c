package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.TlsClientVerify;
import io.edge.fastcgi.tls.RevocationList;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClientVerifier} on chains the openssl CLI makes, each result the one nginx 1.22 (Debian's, OpenSSL 3) gave
 * for the same chain: {@code $ssl_client_verify}, and the error its log named.
 */
class ClientVerifierTest {

    @TempDir
    static Path dir;

    static TestCertificates certificates;
    static X509Certificate root;
    static RevocationList rootCrl;

    @BeforeAll
    static void certificates() throws Exception {
        certificates = new TestCertificates(dir);
        certificates.selfSigned("root", "/O=Edge Test/CN=Client CA");
        certificates.intermediate("inter", "root", "/CN=Intermediate");
        certificates.intermediate("inter2", "inter", "/CN=Intermediate 2");
        certificates.signed("leaf", "root", "/CN=alice", null);
        certificates.signed("ileaf", "inter", "/CN=bob", null);
        certificates.signed("deep", "inter2", "/CN=deep", null);
        certificates.signed("server", "root", "/CN=server only", "extendedKeyUsage=serverAuth");
        certificates.selfSigned("other", "/CN=Other CA");
        certificates.signed("oleaf", "other", "/CN=mallory", null);
        certificates.selfSigned("self", "/CN=self");
        certificates.signedByCa("old", "root", "/CN=old", "20200101000000Z", "20200102000000Z");
        certificates.signedByCa("revoked", "root", "/CN=revoked", null, null);
        certificates.revoke("revoked", "root");
        certificates.selfSignedByCa("oldroot", "/CN=Old CA", "20200101000000Z", "20200201000000Z");
        certificates.signed("oldrootleaf", "oldroot", "/CN=carol", null);
        certificates.signed("serverinter", "root", "/CN=Server Intermediate", "basicConstraints=critical,CA:true\n"
                + "keyUsage=keyCertSign,cRLSign\nextendedKeyUsage=serverAuth");
        certificates.signed("serverinterleaf", "serverinter", "/CN=dave", "extendedKeyUsage=clientAuth");
        certificates.crl("root");
        // four CAs of one name as the intermediate's, of other keys: a hostile client's decoys; a certificate of the
        // intermediate that names its key (as a CA's tools write it), which tells the intermediate from them
        certificates.signed("akleaf", "inter", "/CN=erin", "authorityKeyIdentifier=keyid");
        for (int i = 0; i < 4; i++) {
            certificates.intermediate("decoy" + i, "other", "/CN=Intermediate");
        }
        root = certificates.certificate("root");
        rootCrl = certificates.revocationList("root.crl");
    }

    /** $ssl_client_verify for the client sending {@code sent} (its certificate first) to a site of {@code verify}. */
    private static String verified(TlsClientVerify verify, String... sent) throws Exception {
        X509Certificate[] chain = new X509Certificate[sent.length];
        for (int i = 0; i < sent.length; i++) {
            chain[i] = certificates.certificate(sent[i]);
        }
        return new ClientVerifier(verify).verify(chain).verifyVariable();
    }

    private static TlsClientVerify on(int depth, List<RevocationList> revocations) {
        return new TlsClientVerify(TlsClientVerify.Mode.ON, List.of(root), List.of(), depth, revocations);
    }

    @Test
    void aCertificateOfTheCaOrOfAnIntermediateItSentPasses() throws Exception {
        assertThat(verified(on(1, List.of()), "leaf")).isEqualTo("SUCCESS");
        assertThat(verified(on(1, List.of()), "ileaf", "inter")).isEqualTo("SUCCESS");
        assertThat(verified(on(0, List.of()), "leaf")).isEqualTo("SUCCESS");
        assertThat(verified(on(2, List.of()), "deep", "inter2", "inter")).isEqualTo("SUCCESS");
    }

    /** ssl_verify_depth: CA certificates under the trusted one; OpenSSL looks for none past it. */
    @Test
    void moreIntermediatesThanTheDepthIsNoLocalIssuer() throws Exception {
        assertThat(verified(on(0, List.of()), "ileaf", "inter"))
                .isEqualTo("FAILED:unable to get local issuer certificate");
        assertThat(verified(on(1, List.of()), "deep", "inter2", "inter"))
                .isEqualTo("FAILED:unable to get local issuer certificate");
    }

    @Test
    void aCertificateOfNoTrustedCaFailsAsOpenSslSaysIt() throws Exception {
        assertThat(verified(on(1, List.of()), "self")).isEqualTo("FAILED:self-signed certificate");
        assertThat(verified(on(1, List.of()), "oleaf")).isEqualTo("FAILED:unable to verify the first certificate");
        assertThat(verified(on(1, List.of()), "oleaf", "other"))
                .isEqualTo("FAILED:self-signed certificate in certificate chain");
        assertThat(verified(on(1, List.of()), "ileaf")).isEqualTo("FAILED:unable to verify the first certificate");
    }

    @Test
    void datesPurposeAndRevocation() throws Exception {
        assertThat(verified(on(1, List.of()), "old")).isEqualTo("FAILED:certificate has expired");
        assertThat(verified(on(1, List.of()), "server")).isEqualTo("FAILED:unsuitable certificate purpose");
        assertThat(verified(on(2, List.of(rootCrl)), "revoked")).isEqualTo("FAILED:certificate revoked");
        assertThat(verified(on(2, List.of(rootCrl)), "leaf")).isEqualTo("SUCCESS");
        // every certificate of the chain must be on a CRL of its issuer's (the intermediate has none here)
        assertThat(verified(on(2, List.of(rootCrl)), "ileaf", "inter"))
                .isEqualTo("FAILED:unable to get certificate CRL");
    }

    /**
     * A client's self-signed certificate that the site trusts is checked against a CRL of its own too (CRL_CHECK_ALL
     * checks every certificate of the chain, this one alone): nginx 1.22 with ssl_crl of another CA's CRL alone said
     * "3:unable to get certificate CRL" of it, where edge checked no CRL and let it in.
     */
    @Test
    void aTrustedSelfSignedClientCertificateNeedsACrlOfItsOwn() throws Exception {
        X509Certificate self = certificates.certificate("self");
        assertThat(verified(new TlsClientVerify(TlsClientVerify.Mode.ON, List.of(root, self), List.of(), 1,
                List.of()), "self")).isEqualTo("SUCCESS");
        assertThat(verified(new TlsClientVerify(TlsClientVerify.Mode.ON, List.of(root, self), List.of(), 1,
                List.of(rootCrl)), "self")).isEqualTo("FAILED:unable to get certificate CRL");
    }

    /**
     * OpenSSL checks the trusted CA's dates too (the JDK's validator does not look at its anchor's), and the purpose of
     * each certificate the client sent, a CA's too: nginx 1.22 said these of the same chains (both were SUCCESS).
     */
    @Test
    void anExpiredTrustedCaAndAnIntermediateForServersOnlyFail() throws Exception {
        TlsClientVerify oldRoot = new TlsClientVerify(TlsClientVerify.Mode.ON, List.of(root,
                certificates.certificate("oldroot")), List.of(), 1, List.of());
        assertThat(verified(oldRoot, "oldrootleaf")).isEqualTo("FAILED:certificate has expired");
        assertThat(verified(oldRoot, "oldroot")).isEqualTo("FAILED:certificate has expired");
        assertThat(verified(oldRoot, "leaf")).isEqualTo("SUCCESS");
        assertThat(verified(on(1, List.of()), "serverinterleaf", "serverinter"))
                .isEqualTo("FAILED:unsuitable certificate purpose");
    }

    /** optional_no_ca lets through what fails for want of a trusted CA, not a date or a revocation. */
    @Test
    void whatOptionalNoCaLetsThrough() throws Exception {
        TlsClientVerify noCa = new TlsClientVerify(TlsClientVerify.Mode.OPTIONAL_NO_CA, List.of(), List.of(), 1,
                List.of());
        assertThat(new ClientVerifier(noCa).verify(new X509Certificate[] {certificates.certificate("self")})
                .failedForWantOfCa()).isTrue();
        assertThat(new ClientVerifier(on(1, List.of())).verify(new X509Certificate[] {certificates.certificate("old")})
                .failedForWantOfCa()).isFalse();
        assertThat(new ClientVerifier(on(1, List.of())).verify(null).verifyVariable()).isEqualTo("NONE");
    }

    /**
     * OpenSSL's build_chain grows a chain to depth + 2 certificates at most, whatever came: a chain past it fails as
     * nginx says (no local issuer) with no issuer looked for past it, so no signature checked of the CAs beyond.
     */
    @Test
    void aChainIsBuiltNoLongerThanTheDepthAndTwo() throws Exception {
        ClientVerifier verifier = new ClientVerifier(on(0, List.of()));
        long before = verifier.signatureChecks.sum();
        assertThat(verifier.verify(new X509Certificate[] {certificates.certificate("deep"),
                certificates.certificate("inter2"), certificates.certificate("inter")}).verifyVariable())
                .isEqualTo("FAILED:unable to get local issuer certificate");
        // deep's issuer found among what was sent, inter2's not looked for: neither it nor the root checked
        assertThat(verifier.signatureChecks.sum() - before).isLessThanOrEqualTo(1);
    }

    /** Certificates of the issuer's name are not each tried by their signature: the one of its key identifier is. */
    @Test
    void manyCertificatesOfTheIssuersNameAreNotAllTried() throws Exception {
        ClientVerifier verifier = new ClientVerifier(on(1, List.of()));
        long before = verifier.signatureChecks.sum();
        assertThat(verifier.verify(new X509Certificate[] {certificates.certificate("akleaf"),
                certificates.certificate("decoy0"), certificates.certificate("decoy1"),
                certificates.certificate("decoy2"), certificates.certificate("decoy3"),
                certificates.certificate("inter")}).verifyVariable()).isEqualTo("SUCCESS");
        // the intermediate's and the root's (the trusted CA found, self-signed): no decoy's
        assertThat(verifier.signatureChecks.sum() - before).isLessThanOrEqualTo(2);
    }

    /** More certificates than depth + 10 are refused unlooked-at, in OpenSSL's words for a chain too long. */
    @Test
    void aClientSendingTooManyCertificatesIsRefused() throws Exception {
        X509Certificate[] sent = new X509Certificate[12];
        sent[0] = certificates.certificate("akleaf");
        for (int i = 1; i < sent.length; i++) {
            sent[i] = certificates.certificate(i == 1 ? "inter" : "decoy" + i % 4);
        }
        ClientVerifier verifier = new ClientVerifier(on(1, List.of()));
        long before = verifier.signatureChecks.sum();
        assertThat(verifier.verify(sent).verifyVariable()).isEqualTo("FAILED:certificate chain too long");
        assertThat(verifier.signatureChecks.sum()).isEqualTo(before);
        assertThat(verifier.verify(Arrays.copyOf(sent, 11)).verifyVariable()).isEqualTo("SUCCESS");
    }
}
