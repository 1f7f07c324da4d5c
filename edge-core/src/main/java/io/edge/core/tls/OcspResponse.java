package io.edge.core.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;

/**
 * An OCSP response (RFC 6960 4.2) found fit to staple: successful, signed, and saying "good" for the certificate
 * asked about, as nginx's stapling takes one from its responder:
 * <pre>
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
 *                                 responseType OID (id-pkix-ocsp-basic), response OCTET STRING } }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *                                    signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 *   ResponseData ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, responderID ([1] Name | [2] KeyHash),
 *                               producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse, [1] extensions }
 *   SingleResponse ::= SEQUENCE { certID CertID, certStatus (good [0] | revoked [1] | unknown [2]),
 *                                 thisUpdate GeneralizedTime, nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, ... }
 * </pre>
 *
 * @param encoded    the response as the responder sent it, stapled as it is
 * @param thisUpdate when the responder knew the status to be good
 * @param nextUpdate when newer news will be had, after which it is stapled no more; null: none said (nginx keeps such
 *                   a one until a newer one comes)
 */
record OcspResponse(byte[] encoded, Instant thisUpdate, Instant nextUpdate) {

    private static final String BASIC = "1.3.6.1.5.5.7.48.1.1";
    private static final String OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";
    /** A responder's clock may run this much ahead of edge's, as OpenSSL's OCSP_check_validity allows nginx. */
    private static final long LEEWAY_SECONDS = 300;
    private static final List<String> STATUSES = List.of("successful", "malformedRequest", "internalError",
            "tryLater", "4", "sigRequired", "unauthorized");
    private static final Map<String, String> SIGNATURES = Map.of(
            "1.2.840.113549.1.1.5", "SHA1withRSA", "1.2.840.113549.1.1.11", "SHA256withRSA",
            "1.2.840.113549.1.1.12", "SHA384withRSA", "1.2.840.113549.1.1.13", "SHA512withRSA",
            "1.2.840.10045.4.1", "SHA1withECDSA", "1.2.840.10045.4.3.2", "SHA256withECDSA",
            "1.2.840.10045.4.3.3", "SHA384withECDSA", "1.2.840.10045.4.3.4", "SHA512withECDSA",
            "1.3.101.112", "Ed25519");

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
        Der response = sequence(Der.parse(der), "OCSPResponse");
        int status = new java.math.BigInteger(response.child(0, Der.ENUMERATED, "responseStatus").content())
                .intValue();
        if (status != 0) {
            throw new IllegalArgumentException("responder answered " + (status > 0 && status < STATUSES.size()
                    ? STATUSES.get(status) : String.valueOf(status)) + " (expected: successful)");
        }
        Der responseBytes = response.child(1, 0xA0, "responseBytes").child(0, Der.SEQUENCE, "responseBytes");
        String type = responseBytes.child(0, Der.OID, "responseType").oid();
        if (!type.equals(BASIC)) {
            throw new IllegalArgumentException("responseType: " + type + " (expected: " + BASIC + ", basic)");
        }
        Der basic = sequence(Der.parse(responseBytes.child(1, Der.OCTET_STRING, "response").content()),
                "BasicOCSPResponse");
        Der data = basic.child(0, Der.SEQUENCE, "tbsResponseData");
        List<Der> fields = data.children();
        int field = !fields.isEmpty() && fields.get(0).tag() == 0xA0 ? 1 : 0; // an explicit version
        if (field >= fields.size()) {
            throw new IllegalArgumentException("responderID: missing (expected: [1] name or [2] key hash)");
        }
        Der responderId = fields.get(field);
        Der responses = data.child(field + 2, Der.SEQUENCE, "responses");
        X509Certificate signer = signer(responderId, certificates(basic), request.issuer());
        checkSignature(basic, data, signer);
        if (verify) {
            checkDelegation(signer, request.issuer(), now);
        }
        for (Der single : responses.children()) {
            List<Der> parts = single.children();
            if (parts.size() < 3 || !request.names(single.child(0, Der.SEQUENCE, "certID"))) {
                continue;
            }
            Der certStatus = parts.get(1);
            if (certStatus.tag() != 0x80) {
                throw new IllegalArgumentException("certificate status " + (certStatus.tag() == 0xA1 ? "revoked"
                        : certStatus.tag() == 0x82 ? "unknown" : "0x" + Integer.toHexString(certStatus.tag()))
                        + " (expected: good)");
            }
            Instant thisUpdate = time(single.child(2, Der.GENERALIZED_TIME, "thisUpdate"));
            Instant nextUpdate = parts.size() > 3 && parts.get(3).tag() == 0xA0
                    ? time(parts.get(3).child(0, Der.GENERALIZED_TIME, "nextUpdate")) : null;
            if (thisUpdate.isAfter(now.plusSeconds(LEEWAY_SECONDS))) {
                throw new IllegalArgumentException("thisUpdate " + thisUpdate + " is ahead of now (" + now + ")");
            }
            if (nextUpdate != null && !now.isBefore(nextUpdate)) {
                throw new IllegalArgumentException("expired: nextUpdate " + nextUpdate + " (now " + now + ")");
            }
            return new OcspResponse(der.clone(), thisUpdate, nextUpdate);
        }
        throw new IllegalArgumentException("no status of the certificate (serial " + request.certificate()
                .getSerialNumber().toString(16) + ") in it");
    }

    /**
     * {@code element}, a SEQUENCE: the response is stapled as it came, so no byte the signature leaves out may be other
     * than OpenSSL's d2i_OCSP_RESPONSE takes (nginx's check), or a client would be sent what it cannot read.
     */
    private static Der sequence(Der element, String what) {
        if (element.tag() != Der.SEQUENCE) {
            throw new IllegalArgumentException(what + ": tag 0x" + Integer.toHexString(element.tag())
                    + " (expected: tag 0x30, a sequence)");
        }
        return element;
    }

    /** The certificates the response carries (its signer's, where it is not the issuer). */
    private static List<X509Certificate> certificates(Der basic) {
        List<Der> parts = basic.children();
        List<X509Certificate> certificates = new ArrayList<>();
        if (parts.size() > 3 && parts.get(3).tag() == 0xA0) {
            try {
                CertificateFactory factory = CertificateFactory.getInstance("X.509");
                for (Der certificate : parts.get(3).child(0, Der.SEQUENCE, "certs").children()) {
                    certificates.add((X509Certificate) factory.generateCertificate(
                            new ByteArrayInputStream(certificate.encoded())));
                }
            } catch (CertificateException e) {
                throw new IllegalArgumentException("certs: " + e.getMessage(), e);
            }
        }
        return certificates;
    }

    /** The certificate {@code responderId} names, among {@code carried} and the issuer. */
    private static X509Certificate signer(Der responderId, List<X509Certificate> carried, X509Certificate issuer) {
        List<X509Certificate> candidates = new ArrayList<>(carried);
        candidates.add(issuer);
        for (X509Certificate candidate : candidates) {
            boolean named = switch (responderId.tag()) {
                case 0xA1 -> new X500Principal(responderId.child(0, Der.SEQUENCE, "responderID.byName").encoded())
                        .equals(candidate.getSubjectX500Principal());
                case 0xA2 -> Arrays.equals(responderId.child(0, Der.OCTET_STRING, "responderID.byKey").content(),
                        OcspRequest.keyHash(candidate, "SHA-1"));
                default -> throw new IllegalArgumentException("responderID: tag 0x"
                        + Integer.toHexString(responderId.tag()) + " (expected: [1] name or [2] key hash)");
            };
            if (named) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("signer certificate not found (neither carried in it nor the issuer)");
    }

    private static void checkSignature(Der basic, Der data, X509Certificate signer) {
        String algorithm = basic.child(1, Der.SEQUENCE, "signatureAlgorithm").child(0, Der.OID,
                "signatureAlgorithm.algorithm").oid();
        String name = SIGNATURES.get(algorithm);
        if (name == null) {
            throw new IllegalArgumentException("signatureAlgorithm: " + algorithm + " (expected: RSA, ECDSA or"
                    + " Ed25519 with SHA-1 or SHA-2)");
        }
        try {
            Signature signature = Signature.getInstance(name);
            signature.initVerify(signer.getPublicKey());
            signature.update(data.encoded());
            if (!signature.verify(basic.child(2, Der.BIT_STRING, "signature").bits())) {
                throw new IllegalArgumentException("signature does not verify with the key of "
                        + signer.getSubjectX500Principal().getName());
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("signature: " + e.getMessage(), e);
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
            signer.verify(issuer.getPublicKey());
            signer.checkValidity(java.util.Date.from(now));
            List<String> purposes = signer.getExtendedKeyUsage();
            if (purposes == null || !purposes.contains(OCSP_SIGNING)) {
                throw new IllegalArgumentException("signer " + who + " is not for OCSP signing (no extended key"
                        + " usage OCSPSigning)");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("signer " + who + ": " + e.getMessage(), e);
        }
    }

    private static final DateTimeFormatter GENERALIZED = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

    /** A GeneralizedTime, as DER writes it: YYYYMMDDHHMMSS[.fff]Z. */
    private static Instant time(Der element) {
        String text = new String(element.content(), StandardCharsets.US_ASCII);
        if (text.length() < 15 || !text.endsWith("Z")) {
            throw new IllegalArgumentException("time: \"" + text + "\" (expected: YYYYMMDDHHMMSSZ)");
        }
        try {
            return LocalDateTime.parse(text.substring(0, 14), GENERALIZED).toInstant(ZoneOffset.UTC);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("time: \"" + text + "\" (expected: YYYYMMDDHHMMSSZ)", e);
        }
    }
}
