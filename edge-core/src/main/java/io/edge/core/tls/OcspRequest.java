package io.edge.core.tls;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Map;

/**
 * The OCSP request for one certificate (RFC 6960 4.1), and the id a response names it by:
 * <pre>
 *   OCSPRequest ::= SEQUENCE { tbsRequest SEQUENCE { requestList SEQUENCE OF SEQUENCE { reqCert CertID } } }
 *   CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                         issuerKeyHash OCTET STRING, serialNumber INTEGER }
 * </pre>
 * The hashes are SHA-1's, as nginx's (OpenSSL's OCSP_cert_to_id) and every responder takes; a response may name the
 * certificate by another hash of {@link #DIGESTS}.
 *
 * @param certificate the certificate whose status is asked
 * @param issuer      the certificate of the CA that issued it
 */
record OcspRequest(X509Certificate certificate, X509Certificate issuer) {

    private static final String SHA1 = "1.3.14.3.2.26";
    /** The hash algorithms of a CertID that are understood, by OID. */
    private static final Map<String, String> DIGESTS = Map.of(SHA1, "SHA-1", "2.16.840.1.101.3.4.2.1", "SHA-256",
            "2.16.840.1.101.3.4.2.2", "SHA-384", "2.16.840.1.101.3.4.2.3", "SHA-512");

    /** The DER of the request. */
    byte[] encoded() {
        byte[] algorithm = Der.encode(Der.SEQUENCE, Der.encode(Der.OID, new byte[] {0x2b, 0x0e, 0x03, 0x02, 0x1a}),
                Der.encode(Der.NULL));
        byte[] certId = Der.encode(Der.SEQUENCE, algorithm,
                Der.encode(Der.OCTET_STRING, digest("SHA-1", issuer.getSubjectX500Principal().getEncoded())),
                Der.encode(Der.OCTET_STRING, keyHash(issuer, "SHA-1")),
                Der.encode(Der.INTEGER, certificate.getSerialNumber().toByteArray()));
        byte[] request = Der.encode(Der.SEQUENCE, certId);
        return Der.encode(Der.SEQUENCE, Der.encode(Der.SEQUENCE, Der.encode(Der.SEQUENCE, request)));
    }

    /** Whether the CertID {@code certId} of a response names this request's certificate. */
    boolean names(Der certId) {
        String digest = DIGESTS.get(certId.child(0, Der.SEQUENCE, "certID.hashAlgorithm")
                .child(0, Der.OID, "certID.hashAlgorithm.algorithm").oid());
        if (digest == null) {
            return false;
        }
        return Arrays.equals(certId.child(1, Der.OCTET_STRING, "certID.issuerNameHash").content(),
                        digest(digest, issuer.getSubjectX500Principal().getEncoded()))
                && Arrays.equals(certId.child(2, Der.OCTET_STRING, "certID.issuerKeyHash").content(),
                        keyHash(issuer, digest))
                && new BigInteger(certId.child(3, Der.INTEGER, "certID.serialNumber").content())
                        .equals(certificate.getSerialNumber());
    }

    /** The hash of {@code certificate}'s public key, the bits of its subjectPublicKey (as a responder's KeyHash). */
    static byte[] keyHash(X509Certificate certificate, String digest) {
        Der publicKeyInfo = Der.parse(certificate.getPublicKey().getEncoded());
        return digest(digest, publicKeyInfo.child(1, Der.BIT_STRING, "subjectPublicKey").bits());
    }

    static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + ", which every JDK has", e);
        }
    }
}
