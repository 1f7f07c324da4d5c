package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.BERSequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPResponse;
import org.bouncycastle.asn1.ocsp.ResponseBytes;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.jcajce.JcaCertificateID;
import org.bouncycastle.cert.ocsp.jcajce.JcaRespID;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCSP requests and responses against the openssl CLI's: its responder (openssl ocsp -index, the CA's database) answers
 * edge's requests, and its responses (good, revoked, of another certificate, signed by the CA, by a responder it
 * delegated to, by a stranger) are judged as nginx's stapling judges them.
 */
class OcspResponseTest {

    @TempDir
    static Path dir;

    static TestCertificates certificates;
    static OcspRequest good;
    static OcspRequest revoked;

    @BeforeAll
    static void makeCertificates() throws Exception {
        certificates = new TestCertificates(dir);
        certificates.selfSigned("ca", "/CN=OCSP test CA");
        certificates.signedByCa("good", "ca", "/CN=good.test",
                "authorityInfoAccess=OCSP;URI:http://ocsp.example:8080/status,caIssuers;URI:http://ca.example/ca");
        certificates.signedByCa("revoked", "ca", "/CN=revoked.test", "subjectAltName=DNS:revoked.test");
        certificates.revoke("revoked", "ca");
        certificates.signedByCa("responder", "ca", "/CN=OCSP responder", "extendedKeyUsage=OCSPSigning");
        certificates.signedByCa("notresponder", "ca", "/CN=not a responder", "extendedKeyUsage=serverAuth");
        certificates.selfSigned("stranger", "/CN=stranger");
        certificates.selfSigned("lookalike", "/CN=OCSP test CA"); // the CA's name, another key
        certificates.signed("lookalikeresponder", "lookalike", "/CN=look-alike responder",
                "extendedKeyUsage=OCSPSigning");
        good = new OcspRequest(certificates.certificate("good"), certificates.certificate("ca"));
        revoked = new OcspRequest(certificates.certificate("revoked"), certificates.certificate("ca"));
    }

    private static byte[] response(String name, String signer) throws Exception {
        String file = name + "-" + signer + ".der";
        certificates.ocspResponse(name, "ca", signer, file);
        return Files.readAllBytes(certificates.file(file));
    }

    @Test
    void openSslsResponderAnswersEdgesRequest() throws Exception {
        Files.write(certificates.file("edge.req"), good.encoded());
        String text = certificates.openssl("ocsp", "-reqin", "edge.req", "-req_text");
        assertThat(text).contains("Hash Algorithm: sha1").contains("Serial Number: "
                + certificates.certificate("good").getSerialNumber().toString(16).toUpperCase());
        certificates.openssl("ocsp", "-index", "ca-ca/index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA",
                "ca.pem", "-reqin", "edge.req", "-respout", "edge.resp", "-nmin", "60");
        byte[] der = Files.readAllBytes(certificates.file("edge.resp"));
        Instant now = Instant.now();
        OcspResponse response = OcspResponse.check(der, good, true, now);
        assertThat(response.encoded()).isEqualTo(der);
        assertThat(response.nextUpdate()).isAfter(now.plus(Duration.ofMinutes(55)));
        assertThat(response.validAt(now)).isTrue();
        assertThat(response.validAt(response.nextUpdate())).isFalse();
    }

    @Test
    void aRevokedCertificatesResponseIsNotStapled() throws Exception {
        byte[] der = response("revoked", "ca");
        for (boolean verify : List.of(false, true)) {
            assertThatThrownBy(() -> OcspResponse.check(der, revoked, verify, Instant.now()))
                    .hasMessage("certificate status revoked (expected: good)");
        }
    }

    @Test
    void aResponseOfAnotherCertificateIsNotStapled() throws Exception {
        byte[] der = response("good", "ca");
        assertThatThrownBy(() -> OcspResponse.check(der, revoked, false, Instant.now()))
                .hasMessageStartingWith("no status of the certificate (serial");
    }

    @Test
    void aResponsePastItsNextUpdateIsExpired() throws Exception {
        byte[] der = response("good", "ca");
        assertThatThrownBy(() -> OcspResponse.check(der, good, false, Instant.now().plus(Duration.ofHours(2))))
                .hasMessageStartingWith("expired: nextUpdate ");
    }

    /** OpenSSL's OCSP_check_validity for nginx: a thisUpdate more than 5 minutes ahead of the clock is refused. */
    @Test
    void aResponseFromTheFutureIsNotStapled() throws Exception {
        byte[] der = response("good", "ca");
        Instant thisUpdate = OcspResponse.check(der, good, true, Instant.now()).thisUpdate();
        assertThat(OcspResponse.check(der, good, true, thisUpdate.minus(Duration.ofMinutes(4)))).isNotNull();
        assertThatThrownBy(() -> OcspResponse.check(der, good, true, thisUpdate.minus(Duration.ofMinutes(6))))
                .hasMessageStartingWith("thisUpdate " + thisUpdate + " is ahead of now");
    }

    /**
     * OpenSSL's OCSP_check_validity refuses, for nginx, a response whose nextUpdate is before its thisUpdate
     * (NEXTUPDATE_BEFORE_THISUPDATE), though neither is out of its window on its own. openssl ocsp writes no such one
     * (its -nmin is positive): the CA's answer is made here with BouncyCastle, signed by the CA's key.
     */
    @Test
    void aResponseWhoseNextUpdateIsBeforeItsThisUpdateIsNotStapled() throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant thisUpdate = now.plus(Duration.ofMinutes(2));
        assertThat(OcspResponse.check(signedByTheCa(thisUpdate, now.plus(Duration.ofMinutes(3))), good, true, now))
                .isNotNull();
        byte[] backwards = signedByTheCa(thisUpdate, now.plus(Duration.ofMinutes(1)));
        assertThatThrownBy(() -> OcspResponse.check(backwards, good, true, now))
                .hasMessage("nextUpdate " + now.plus(Duration.ofMinutes(1)) + " is before thisUpdate " + thisUpdate);
    }

    /** The CA's "good" answer for good.pem, made with BouncyCastle: its times are what the test says. */
    private static byte[] signedByTheCa(Instant thisUpdate, Instant nextUpdate) throws Exception {
        PrivateKey key;
        try (PEMParser pem = new PEMParser(Files.newBufferedReader(certificates.file("ca.key")))) {
            key = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) pem.readObject());
        }
        X509Certificate ca = certificates.certificate("ca");
        BasicOCSPRespBuilder builder = new BasicOCSPRespBuilder(new JcaRespID(ca.getSubjectX500Principal()));
        builder.addResponse(new JcaCertificateID(new JcaDigestCalculatorProviderBuilder().build()
                        .get(CertificateID.HASH_SHA1), ca, certificates.certificate("good").getSerialNumber()),
                CertificateStatus.GOOD, Date.from(thisUpdate), Date.from(nextUpdate), null);
        BasicOCSPResp basic = builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key), null,
                Date.from(thisUpdate));
        return new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
    }

    @Test
    void aResponderTheIssuerDelegatedToIsTakenWithVerify() throws Exception {
        assertThat(OcspResponse.check(response("good", "responder"), good, true, Instant.now())).isNotNull();
        byte[] notResponder = response("good", "notresponder");
        assertThatThrownBy(() -> OcspResponse.check(notResponder, good, true, Instant.now()))
                .hasMessageContaining("not for OCSP signing");
    }

    /**
     * A delegated responder's signatures are checked as the issuer's, by one path: the response's with the responder's
     * key, and, with stapling-verify, the responder certificate's with the issuer's key. One whose certificate a
     * look-alike CA (the issuer's name, another key) signed is refused; so is its own answer altered.
     */
    @Test
    void aDelegatedRespondersSignaturesAreCheckedAsTheIssuers() throws Exception {
        byte[] lookalike = response("good", "lookalikeresponder");
        assertThat(OcspResponse.check(lookalike, good, false, Instant.now())).isNotNull();
        assertThatThrownBy(() -> OcspResponse.check(lookalike, good, true, Instant.now()))
                .hasMessage("signer CN=look-alike responder: its certificate's signature does not verify with the key"
                        + " of CN=OCSP test CA");
        byte[] altered = response("good", "responder");
        byte[] signature = ((BasicOCSPResp) new OCSPResp(altered).getResponseObject()).getSignature();
        altered[indexOf(altered, signature) + signature.length - 1] ^= 1;
        for (boolean verify : List.of(false, true)) {
            assertThatThrownBy(() -> OcspResponse.check(altered, good, verify, Instant.now()))
                    .hasMessage("signature does not verify with the key of CN=OCSP responder");
        }
    }

    /** As nginx's without ssl_stapling_verify (OCSP_NOVERIFY): any signer the response carries, whose key signed it. */
    @Test
    void aStrangersSignatureIsTakenOnlyWithoutVerify() throws Exception {
        byte[] der = response("good", "stranger");
        assertThat(OcspResponse.check(der, good, false, Instant.now())).isNotNull();
        assertThatThrownBy(() -> OcspResponse.check(der, good, true, Instant.now()))
                .hasMessage("signer CN=stranger is not the issuer, nor issued by it");
    }

    @Test
    void aSignatureThatFailsIsNotStapled() throws Exception {
        certificates.openssl("ocsp", "-issuer", "ca.pem", "-cert", "good.pem", "-no_nonce", "-reqout", "bare.req");
        certificates.openssl("ocsp", "-index", "ca-ca/index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA",
                "ca.pem", "-reqin", "bare.req", "-respout", "bare.resp", "-nmin", "60", "-resp_no_certs");
        byte[] der = Files.readAllBytes(certificates.file("bare.resp"));
        assertThat(OcspResponse.check(der, good, true, Instant.now())).isNotNull(); // signed by the issuer, not carried
        der[der.length - 1] ^= 1; // the signature's last byte
        assertThatThrownBy(() -> OcspResponse.check(der, good, false, Instant.now()))
                .hasMessage("signature does not verify with the key of CN=OCSP test CA");
    }

    /**
     * nginx asks by a SHA-1 CertID (OCSP_cert_to_id) and OCSP_resp_find_status finds only a CertID of the same hash
     * algorithm: an answer naming the certificate by SHA-256 has no status of it, and is not stapled.
     */
    @Test
    void aResponseNamingTheCertificateByAnotherHashIsNotStapled() throws Exception {
        certificates.openssl("ocsp", "-issuer", "ca.pem", "-sha256", "-cert", "good.pem", "-no_nonce", "-reqout",
                "sha256.req");
        certificates.openssl("ocsp", "-index", "ca-ca/index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA",
                "ca.pem", "-reqin", "sha256.req", "-respout", "sha256.resp", "-nmin", "60");
        assertThat(certificates.openssl("ocsp", "-respin", "sha256.resp", "-resp_text", "-noverify"))
                .contains("Hash Algorithm: sha256");
        byte[] der = Files.readAllBytes(certificates.file("sha256.resp"));
        for (boolean verify : List.of(false, true)) {
            assertThatThrownBy(() -> OcspResponse.check(der, good, verify, Instant.now()))
                    .hasMessageStartingWith("no status of the certificate (serial");
        }
    }

    @Test
    void anUnsuccessfulOrTruncatedResponseIsNotStapled() throws Exception {
        byte[] unauthorized = {0x30, 0x03, 0x0a, 0x01, 0x06};
        assertThatThrownBy(() -> OcspResponse.check(unauthorized, good, false, Instant.now()))
                .hasMessage("responder answered unauthorized (expected: successful)");
        byte[] der = response("good", "ca");
        byte[] truncated = java.util.Arrays.copyOf(der, der.length - 10);
        assertThatThrownBy(() -> OcspResponse.check(truncated, good, false, Instant.now()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("length: ");
    }

    /**
     * The bytes the signature does not cover are checked too, as OpenSSL's d2i_OCSP_RESPONSE reads them for nginx: the
     * response is stapled as it came, and one altered on the way (plain http) would reach clients. Before, a SET where
     * the OCSPResponse or BasicOCSPResponse SEQUENCE is was taken with stapling-verify.
     */
    @Test
    void aResponseWhoseOuterTagsAreNotSequencesIsNotStapled() throws Exception {
        byte[] der = response("good", "ca");
        assertThat(OcspResponse.check(der, good, true, Instant.now())).isNotNull();
        byte[] outer = der.clone();
        outer[0] = 0x31;
        assertThatThrownBy(() -> OcspResponse.check(outer, good, true, Instant.now()))
                .hasMessage("OCSPResponse: tag 0x31 (expected: tag 0x30, a sequence)");
        byte[] octets = OCSPResponse.getInstance(der).getResponseBytes().getResponse().getOctets();
        byte[] inner = der.clone();
        int at = indexOf(der, octets);
        inner[at] = 0x31;
        assertThatThrownBy(() -> OcspResponse.check(inner, good, true, Instant.now()))
                .hasMessage("BasicOCSPResponse: tag 0x31 (expected: tag 0x30, a sequence)");
    }

    /**
     * RFC 6960 4.2.1 has the response in DER, and it is stapled as it came: one a client reading DER alone (Firefox's
     * mozilla::pkix fails the handshake on a stapled response it cannot read) would refuse is not stapled, nor a signed
     * tbsResponseData in BER, whose signature BouncyCastle checks on the DER it writes again, not on the bytes sent.
     * Before, an indefinite length (BER) at any of these three places was taken with stapling-verify.
     */
    @Test
    void aResponseInBerRatherThanDerIsNotStapled() throws Exception {
        byte[] der = response("good", "ca");
        OCSPResponse response = OCSPResponse.getInstance(der);
        byte[] outerBer = new BERSequence(ASN1Sequence.getInstance(der).toArray()).getEncoded();
        ASN1Sequence basic = ASN1Sequence.getInstance(response.getResponseBytes().getResponse().getOctets());
        byte[] innerBer = withBasic(response, new BERSequence(basic.toArray()).getEncoded());
        ByteArrayOutputStream signedBer = new ByteArrayOutputStream();
        signedBer.writeBytes(new BERSequence(ASN1Sequence.getInstance(basic.getObjectAt(0)).toArray()).getEncoded());
        for (int i = 1; i < basic.size(); i++) {
            signedBer.writeBytes(basic.getObjectAt(i).toASN1Primitive().getEncoded(ASN1Encoding.DER));
        }
        byte[] tbsBer = withBasic(response, sequenceOf(signedBer.toByteArray()));
        assertThat(OcspResponse.check(der, good, true, Instant.now())).isNotNull();
        assertThatThrownBy(() -> OcspResponse.check(outerBer, good, true, Instant.now()))
                .hasMessage("OCSPResponse: BER, not DER (expected: DER, RFC 6960 4.2.1)");
        for (byte[] ber : List.of(innerBer, tbsBer)) {
            assertThatThrownBy(() -> OcspResponse.check(ber, good, true, Instant.now()))
                    .hasMessage("BasicOCSPResponse: BER, not DER (expected: DER, RFC 6960 4.2.1)");
        }
    }

    /**
     * The signatureAlgorithm is outside what the signature covers, and the JDK's and OpenSSL's RSA verifiers alike leave
     * its parameters aside: an answer whose NULL parameters were altered on the way into another empty element (here an
     * OCTET STRING) still verifies, OpenSSL's too, but a client that reads RFC 4055's NULL or nothing alone (Firefox's
     * mozilla::pkix) fails the handshake on it. Before, it was stapled with stapling-verify.
     */
    @Test
    void aSignatureAlgorithmWithOtherParametersThanNullIsNotStapled() throws Exception {
        byte[] der = response("good", "ca");
        BasicOCSPResp basic = (BasicOCSPResp) new OCSPResp(der).getResponseObject();
        byte[] algorithm = basic.getSignatureAlgorithmID().getEncoded(ASN1Encoding.DER);
        byte[] altered = der.clone();
        int parameters = indexOf(der, algorithm) + algorithm.length - 2;
        assertThat(altered[parameters]).isEqualTo((byte) 0x05); // NULL
        altered[parameters] = 0x04;
        assertThatThrownBy(() -> OcspResponse.check(altered, good, true, Instant.now()))
                .hasMessage("signatureAlgorithm " + basic.getSignatureAlgOID() + ": parameters 0400 (expected: NULL"
                        + " or none)");
    }

    /** {@code response} in DER, its BasicOCSPResponse's octets {@code basic}, whatever they are. */
    private static byte[] withBasic(OCSPResponse response, byte[] basic) throws Exception {
        return new OCSPResponse(response.getResponseStatus(), new ResponseBytes(
                OCSPObjectIdentifiers.id_pkix_ocsp_basic, new DEROctetString(basic))).getEncoded(ASN1Encoding.DER);
    }

    /** A SEQUENCE of definite length holding {@code content} as it is. */
    private static byte[] sequenceOf(byte[] content) {
        ByteArrayOutputStream sequence = new ByteArrayOutputStream();
        sequence.write(0x30);
        sequence.write(0x82);
        sequence.write(content.length >> 8);
        sequence.write(content.length);
        sequence.writeBytes(content);
        return sequence.toByteArray();
    }

    private static int indexOf(byte[] bytes, byte[] part) {
        for (int i = 0; i + part.length <= bytes.length; i++) {
            if (java.util.Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    @Test
    void theResponderIsTheCertificatesAiaOcspUrl() throws Exception {
        assertThat(OcspStapler.responderOf(certificates.certificate("good")))
                .isEqualTo(URI.create("http://ocsp.example:8080/status"));
        assertThat(OcspStapler.responderOf(certificates.certificate("revoked"))).isNull();
    }

    /** nginx's GET: the request's base64, URL-escaped, after the responder's path (RFC 6960 A.1). */
    @Test
    void theRequestGoesAfterTheRespondersPath() {
        byte[] request = {(byte) 0xfb, (byte) 0xff, 0x3e};
        assertThat(OcspStapler.requestUri(URI.create("http://ocsp.example:8080/status"), request))
                .hasToString("http://ocsp.example:8080/status/%2B%2F8%2B");
        assertThat(OcspStapler.requestUri(URI.create("http://127.0.0.1:9"), new byte[] {0x30}))
                .hasToString("http://127.0.0.1:9/MA%3D%3D");
    }

    @Test
    void theIssuerIsTheChainsNextElseATrustedOne() throws Exception {
        var leaf = certificates.certificate("good");
        var ca = certificates.certificate("ca");
        var stranger = certificates.certificate("stranger");
        assertThat(OcspStapler.issuer(List.of(leaf, ca), List.of())).isEqualTo(ca);
        assertThat(OcspStapler.issuer(List.of(leaf), List.of(stranger, ca))).isEqualTo(ca);
        assertThat(OcspStapler.issuer(List.of(leaf, stranger), List.of())).isNull();
    }

    /** nginx's: before the next update, but within an hour, and not sooner than five minutes. */
    @Test
    void aGoodResponseIsFetchedAgainBeforeItsNextUpdate() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(OcspStapler.refreshAfter(now, now.plus(Duration.ofDays(7)))).isEqualTo(Duration.ofHours(1));
        assertThat(OcspStapler.refreshAfter(now, now.plus(Duration.ofMinutes(30)))).isEqualTo(Duration.ofMinutes(25));
        assertThat(OcspStapler.refreshAfter(now, now.plus(Duration.ofMinutes(6)))).isEqualTo(Duration.ofMinutes(5));
        assertThat(OcspStapler.refreshAfter(now, null)).isEqualTo(Duration.ofHours(1));
    }
}
