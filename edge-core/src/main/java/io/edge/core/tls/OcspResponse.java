package io.edge.core.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.ocsp.BasicOCSPResponse;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPResponse;
import org.bouncycastle.asn1.ocsp.ResponderID;
import org.bouncycastle.asn1.ocsp.ResponseBytes;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.CertException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

/**
 * An OCSP response (RFC 6960 4.2) found fit to staple: successful, signed, and saying "good" for the certificate
 * asked about, as nginx's stapling takes one from its responder (OpenSSL's OCSP_basic_verify, OCSP_resp_find_status,
 * OCSP_check_validity). BouncyCastle reads it; the JDK's providers check its signatures.
 *
 * @param encoded    the response as the responder sent it, stapled as it is
 * @param thisUpdate when the responder knew the status to be good
 * @param nextUpdate when newer news will be had, after which it is stapled no more; null: none said (nginx keeps such
 *                   a one until a newer one comes)
 */
record OcspResponse(byte[] encoded, Instant thisUpdate, Instant nextUpdate) {

    /**
     * A responder's clock may run this much ahead of edge's, as OpenSSL's OCSP_check_validity allows nginx; and a client
     * certificate's answer be this much past its nextUpdate ({@link #answer}).
     */
    private static final long LEEWAY_SECONDS = 300;
    private static final List<String> STATUSES = List.of("successful", "malformedRequest", "internalError",
            "tryLater", "4", "sigRequired", "unauthorized");
    private static final String OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";
    private static final int SEQUENCE = 0x30;

    /** Whether it may still be stapled at {@code now}. */
    boolean validAt(Instant now) {
        return nextUpdate == null || now.isBefore(nextUpdate);
    }

    /**
     * {@code der}, the responder's answer to {@code request}, where it is fit to staple at {@code now}. Its signature is
     * checked with the responder certificate it names, carried in it or the issuer itself (as OpenSSL's
     * OCSP_basic_verify with OCSP_NOVERIFY, nginx's check without ssl_stapling_verify); with {@code verify}, the signer
     * must also be the issuer, or a certificate the issuer signed for OCSP signing (RFC 6960 4.2.2.2), valid now.
     *
     * @throws IllegalArgumentException saying why it is not: the responder's error status, a certificate status other
     *                                  than good, a signature that fails, a response past its nextUpdate, bad DER
     */
    static OcspResponse check(byte[] der, OcspRequest request, boolean verify, Instant now) {
        Answer answer = answer(der, request, verify, now, 0);
        if (answer.status() != Status.GOOD) {
            throw new IllegalArgumentException("certificate status " + answer.status().name().toLowerCase(Locale.ROOT)
                    + " (expected: good)");
        }
        return new OcspResponse(der.clone(), answer.thisUpdate(), answer.nextUpdate());
    }

    /** A certificate's status as a responder says it (RFC 6960 4.2.1's CertStatus). */
    enum Status { GOOD, REVOKED, UNKNOWN }

    /**
     * What a responder said of one certificate: its status, and when (thisUpdate) and until when (nextUpdate, null:
     * not said) it holds.
     */
    record Answer(Status status, Instant thisUpdate, Instant nextUpdate) {
    }

    /**
     * What {@code der}, the responder's answer to {@code request}, says of its certificate at {@code now}, checked as
     * {@link #check} checks it (OpenSSL's OCSP_basic_verify, OCSP_resp_find_status, OCSP_check_validity, as nginx's
     * ssl_ocsp checks a client certificate's) but for the status, which may be any, and for its nextUpdate, which may
     * have passed 5 minutes ago at most (nginx's OCSP_check_validity(thisUpdate, nextUpdate, 300, -1); a stapled answer
     * is not sent past it, so {@link #check} takes none).
     *
     * @throws IllegalArgumentException saying why the answer says nothing: the responder's error status, a signature
     *                                  that fails, a response more than 5 minutes past its nextUpdate, bad DER
     */
    static Answer answer(byte[] der, OcspRequest request, boolean verify, Instant now) {
        return answer(der, request, verify, now, LEEWAY_SECONDS);
    }

    /** {@link #answer}, taken until {@code lateSeconds} past its nextUpdate. */
    private static Answer answer(byte[] der, OcspRequest request, boolean verify, Instant now, long lateSeconds) {
        try {
            return judged(der, request, verify, now, lateSeconds);
        } catch (IllegalStateException | ClassCastException e) { // BouncyCastle's word for a structure it cannot read
            throw new IllegalArgumentException("malformed: " + e.getMessage(), e);
        }
    }

    private static Answer judged(byte[] der, OcspRequest request, boolean verify, Instant now, long lateSeconds) {
        OCSPResp response = new OCSPResp(OCSPResponse.getInstance(parse(sequence(der, "OCSPResponse"),
                "OCSPResponse")));
        int status = response.getStatus();
        if (status != OCSPResp.SUCCESSFUL) {
            throw new IllegalArgumentException("responder answered " + (status > 0 && status < STATUSES.size()
                    ? STATUSES.get(status) : String.valueOf(status)) + " (expected: successful)");
        }
        ResponseBytes responseBytes = response.toASN1Structure().getResponseBytes();
        if (responseBytes == null) {
            throw new IllegalArgumentException("responseBytes: missing (expected: a basic response)");
        }
        if (!responseBytes.getResponseType().equals(OCSPObjectIdentifiers.id_pkix_ocsp_basic)) {
            throw new IllegalArgumentException("responseType: " + responseBytes.getResponseType() + " (expected: "
                    + OCSPObjectIdentifiers.id_pkix_ocsp_basic + ", basic)");
        }
        BasicOCSPResp basic = new BasicOCSPResp(BasicOCSPResponse.getInstance(
                parse(sequence(responseBytes.getResponse().getOctets(), "BasicOCSPResponse"), "BasicOCSPResponse")));
        checkParameters(basic.getSignatureAlgorithmID());
        X509Certificate signer = signer(basic.getResponderId(), certificates(basic), request.issuer());
        checkSignature("signature", basic::isSignatureValid, signer);
        if (verify) {
            checkDelegation(signer, request.issuer(), now);
        }
        for (SingleResp single : basic.getResponses()) {
            if (!request.names(single.getCertID())) {
                continue;
            }
            CertificateStatus certStatus = single.getCertStatus();
            Status said = certStatus == CertificateStatus.GOOD ? Status.GOOD
                    : certStatus instanceof RevokedStatus ? Status.REVOKED : Status.UNKNOWN;
            Instant thisUpdate = single.getThisUpdate().toInstant();
            Instant nextUpdate = single.getNextUpdate() == null ? null : single.getNextUpdate().toInstant();
            if (thisUpdate.isAfter(now.plusSeconds(LEEWAY_SECONDS))) {
                throw new IllegalArgumentException("thisUpdate " + thisUpdate + " is ahead of now (" + now + ")");
            }
            if (nextUpdate != null && !now.minusSeconds(lateSeconds).isBefore(nextUpdate)) {
                throw new IllegalArgumentException("expired: nextUpdate " + nextUpdate + " (now " + now + ")");
            }
            if (nextUpdate != null && nextUpdate.isBefore(thisUpdate)) { // OpenSSL's NEXTUPDATE_BEFORE_THISUPDATE
                throw new IllegalArgumentException("nextUpdate " + nextUpdate + " is before thisUpdate " + thisUpdate);
            }
            return new Answer(said, thisUpdate, nextUpdate);
        }
        throw new IllegalArgumentException("no status of the certificate (serial " + request.certificate()
                .getSerialNumber().toString(16) + ") in it");
    }

    /**
     * {@code der}, where it begins with a SEQUENCE's tag: the response is stapled as it came, so no byte the signature
     * leaves out may be other than OpenSSL's d2i_OCSP_RESPONSE takes (nginx's check), or a client would be sent what it
     * cannot read.
     */
    private static byte[] sequence(byte[] der, String what) {
        if (der.length == 0 || (der[0] & 0xff) != SEQUENCE) {
            throw new IllegalArgumentException(what + ": " + (der.length == 0 ? "empty"
                    : "tag 0x" + Integer.toHexString(der[0] & 0xff)) + " (expected: tag 0x30, a sequence)");
        }
        return der;
    }

    /**
     * The one ASN.1 element that is the whole of {@code der}, in DER (RFC 6960 4.2.1), as Der, edge's reader before
     * BouncyCastle, took it: the response is stapled as it came, and a client that reads DER alone (Firefox's
     * mozilla::pkix fails the handshake on a stapled response it cannot read) must not be sent BER (an indefinite or
     * longer length than needed, a constructed string); nor may the signed tbsResponseData be other than the DER
     * BouncyCastle writes again to check its signature on.
     */
    private static ASN1Primitive parse(byte[] der, String what) {
        ASN1Primitive element;
        try {
            element = ASN1Primitive.fromByteArray(der);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("length: " + e.getMessage() + " (expected: one whole DER element)", e);
        }
        try {
            if (!Arrays.equals(element.getEncoded(ASN1Encoding.DER), der)) {
                throw new IllegalArgumentException(what + ": BER, not DER (expected: DER, RFC 6960 4.2.1)");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage() + " (expected: DER, RFC 6960 4.2.1)", e);
        }
        return element;
    }

    /**
     * That the response's {@code algorithm}, which its signature does not cover, has NULL or no parameters (RFC 4055,
     * RFC 5758, RFC 8410), RSASSA-PSS's aside: the verifiers leave them aside, OpenSSL's for nginx too, so other ones
     * altered on the way would be stapled, and a client that reads these alone (Firefox's mozilla::pkix) fails the
     * handshake on them.
     */
    private static void checkParameters(AlgorithmIdentifier algorithm) {
        ASN1Encodable parameters = algorithm.getParameters();
        if (parameters != null && !DERNull.INSTANCE.equals(parameters)
                && !PKCSObjectIdentifiers.id_RSASSA_PSS.equals(algorithm.getAlgorithm())) {
            String encoded;
            try {
                encoded = HexFormat.of().formatHex(parameters.toASN1Primitive().getEncoded(ASN1Encoding.DER));
            } catch (IOException e) {
                encoded = e.getMessage();
            }
            throw new IllegalArgumentException("signatureAlgorithm " + algorithm.getAlgorithm() + ": parameters "
                    + encoded + " (expected: NULL or none)");
        }
    }

    /** The certificates the response carries (its signer's, where it is not the issuer). */
    private static List<X509Certificate> certificates(BasicOCSPResp basic) {
        List<X509Certificate> certificates = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try {
            for (X509CertificateHolder certificate : basic.getCerts()) {
                certificates.add(converter.getCertificate(certificate));
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException("certs: " + e.getMessage(), e);
        }
        return certificates;
    }

    /**
     * The certificate {@code respId} names (by name, or by the SHA-1 of its key), among {@code carried} and the issuer,
     * as OpenSSL's ocsp_find_signer looks for it.
     */
    private static X509Certificate signer(RespID respId, List<X509Certificate> carried, X509Certificate issuer) {
        ResponderID responderId = respId.toASN1Primitive();
        List<X509Certificate> candidates = new ArrayList<>(carried);
        candidates.add(issuer);
        for (X509Certificate candidate : candidates) {
            X509CertificateHolder holder = holder(candidate);
            boolean named = responderId.getName() != null ? responderId.getName().equals(holder.getSubject())
                    : Arrays.equals(responderId.getKeyHash(), keyHash(holder));
            if (named) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("signer certificate not found (neither carried in it nor the issuer)");
    }

    /** The SHA-1 of {@code certificate}'s subjectPublicKey bits, a responder's KeyHash (RFC 6960 4.2.1). */
    private static byte[] keyHash(X509CertificateHolder certificate) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(
                    certificate.getSubjectPublicKeyInfo().getPublicKeyData().getBytes());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1, which every JDK has", e);
        }
    }

    /** What a signature covers: the response's tbsResponseData, or a certificate's tbsCertificate. */
    private interface Signed {
        boolean verifiesWith(ContentVerifierProvider key) throws OCSPException, CertException;
    }

    /**
     * That {@code signed}'s signature ({@code what}) verifies with {@code signer}'s key: one path for the response's
     * signature by the issuer or its responder, and for the responder certificate's by the issuer.
     */
    private static void checkSignature(String what, Signed signed, X509Certificate signer) {
        try {
            if (!signed.verifiesWith(verifier(signer))) {
                throw new IllegalArgumentException(what + " does not verify with the key of "
                        + signer.getSubjectX500Principal().getName());
            }
        } catch (OCSPException | CertException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    /** That {@code signer} may answer for {@code issuer}'s certificates (RFC 6960 4.2.2.2). */
    private static void checkDelegation(X509Certificate signer, X509Certificate issuer, Instant now) {
        if (signer.equals(issuer)) {
            return;
        }
        String who = signer.getSubjectX500Principal().getName();
        try {
            if (!signer.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
                throw new IllegalArgumentException("signer " + who + " is not the issuer, nor issued by it");
            }
            checkSignature("signer " + who + ": its certificate's signature", holder(signer)::isSignatureValid, issuer);
            signer.checkValidity(Date.from(now));
            List<String> purposes = signer.getExtendedKeyUsage();
            if (purposes == null || !purposes.contains(OCSP_SIGNING)) {
                throw new IllegalArgumentException("signer " + who + " is not for OCSP signing (no extended key"
                        + " usage OCSPSigning)");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("signer " + who + ": " + e.getMessage(), e);
        }
    }

    /** What checks a signature with {@code signer}'s key: the JDK's providers (BouncyCastle's is not installed). */
    private static ContentVerifierProvider verifier(X509Certificate signer) {
        try {
            return new JcaContentVerifierProviderBuilder().build(signer);
        } catch (OperatorCreationException e) {
            throw new IllegalArgumentException("key of " + signer.getSubjectX500Principal().getName() + ": "
                    + e.getMessage(), e);
        }
    }

    private static X509CertificateHolder holder(X509Certificate certificate) {
        try {
            return new JcaX509CertificateHolder(certificate);
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("certificate " + certificate.getSubjectX500Principal().getName() + ": "
                    + e.getMessage(), e);
        }
    }
}
