package io.edge.core.tls;

import java.io.IOException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
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
     * Whether the CertID {@code responded} of a response names this request's certificate, as OpenSSL's OCSP_id_cmp
     * compares them for nginx's OCSP_resp_find_status: the same hash algorithm (one naming it by SHA-256 is not about
     * this SHA-1 request), name and key hashes, and serial.
     */
    boolean names(CertificateID responded) {
        CertificateID asked = id();
        return asked.getHashAlgOID().equals(responded.getHashAlgOID())
                && Arrays.equals(asked.getIssuerNameHash(), responded.getIssuerNameHash())
                && Arrays.equals(asked.getIssuerKeyHash(), responded.getIssuerKeyHash())
                && asked.getSerialNumber().equals(responded.getSerialNumber());
    }

    /**
     * What names the certificate asked about among others, as nginx's OCSP cache keys it (ngx_ssl_ocsp_create_key):
     * the issuer's name and key hashes and the serial.
     */
    String key() {
        CertificateID id = id();
        return HexFormat.of().formatHex(id.getIssuerNameHash()) + ":" + HexFormat.of().formatHex(id.getIssuerKeyHash())
                + ":" + id.getSerialNumber().toString(16);
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
