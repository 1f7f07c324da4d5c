package io.edge.core.tls;

import java.io.IOException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.jcajce.JcaCertificateID;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * The OCSP request for one certificate (RFC 6960 4.1), and the id a response names it by: the CertID of SHA-1 hashes
 * of the issuer's name and key and the certificate's serial, as nginx's (OpenSSL's OCSP_cert_to_id) and as every
 * responder takes. BouncyCastle writes it, with the JDK's digests.
 *
 * @param certificate the certificate whose status is asked
 * @param issuer      the certificate of the CA that issued it
 */
record OcspRequest(X509Certificate certificate, X509Certificate issuer) {

    /** The DER of the request: one CertID, no nonce (a response a CDN in front of the responder may cache). */
    byte[] encoded() {
        try {
            return new OCSPReqBuilder().addRequest(id()).build().getEncoded();
        } catch (OCSPException | IOException e) {
            throw new IllegalStateException("OCSP request of " + certificate.getSubjectX500Principal().getName(), e);
        }
    }

    /**
     * Whether the CertID {@code responded} of a response names this request's certificate: its issuer's name and key
     * hashed by the CertID's own hash algorithm, and the serial.
     */
    boolean names(CertificateID responded) {
        try {
            return responded.getSerialNumber().equals(certificate.getSerialNumber())
                    && responded.matchesIssuer(new JcaX509CertificateHolder(issuer),
                            new JcaDigestCalculatorProviderBuilder().build());
        } catch (OCSPException | CertificateEncodingException | OperatorCreationException e) {
            return false; // a hash algorithm the JDK does not have
        }
    }

    private CertificateID id() {
        try {
            return new JcaCertificateID(sha1(), issuer, certificate.getSerialNumber());
        } catch (OCSPException | CertificateEncodingException e) {
            throw new IllegalStateException("CertID of " + certificate.getSubjectX500Principal().getName(), e);
        }
    }

    /** SHA-1, the JDK's: the hash of a CertID as nginx asks, and of a responder's KeyHash (RFC 6960 4.2.1). */
    static DigestCalculator sha1() {
        try {
            return new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("SHA-1, which every JDK has", e);
        }
    }
}
