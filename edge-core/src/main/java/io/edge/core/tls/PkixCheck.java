package io.edge.core.tls;

import static io.edge.core.tls.ClientVerifier.CA_MD_TOO_WEAK;
import static io.edge.core.tls.ClientVerifier.CERT_HAS_EXPIRED;
import static io.edge.core.tls.ClientVerifier.CERT_NOT_YET_VALID;
import static io.edge.core.tls.ClientVerifier.CERT_REVOKED;
import static io.edge.core.tls.ClientVerifier.CERT_SIGNATURE_FAILURE;
import static io.edge.core.tls.ClientVerifier.CRL_HAS_EXPIRED;
import static io.edge.core.tls.ClientVerifier.CRL_NOT_YET_VALID;
import static io.edge.core.tls.ClientVerifier.CRL_SIGNATURE_FAILURE;
import static io.edge.core.tls.ClientVerifier.INVALID_CA;
import static io.edge.core.tls.ClientVerifier.INVALID_PURPOSE;
import static io.edge.core.tls.ClientVerifier.PATH_LENGTH_EXCEEDED;
import static io.edge.core.tls.ClientVerifier.UNABLE_TO_GET_CRL;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXReason;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;
import java.util.Set;

/**
 * The JDK's PKIX check of a chain already built up to a trusted CA (signatures, dates, basic constraints, key usage),
 * and its check against the CRLs of nginx's {@code ssl_crl} or {@code proxy_ssl_crl} as OpenSSL makes it, its failure
 * in OpenSSL's words: for a client's
 * certificate ({@link ClientVerifier}) and a backend's ({@code BackendTls}).
 */
public final class PkixCheck {

    private PkixCheck() {
    }

    /** Whether {@code certificate} names itself its issuer and its own key verifies its signature. */
    public static boolean selfSigned(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())
                && signedBy(certificate, certificate);
    }

    /** Whether {@code ca}'s key verifies {@code certificate}'s signature (false for another CA of the same name). */
    public static boolean signedBy(X509Certificate certificate, X509Certificate ca) {
        try {
            certificate.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /**
     * Why {@code path} (the peer's certificate first, then the CAs under {@code anchor}) fails under {@code anchor}
     * and {@code revocations}: OpenSSL's code and words as nginx logs them ("23:certificate revoked"); null where it
     * passes.
     */
    public static String failure(List<X509Certificate> path, X509Certificate anchor, List<X509CRL> revocations) {
        int error = error(path, anchor, revocations);
        return error == 0 ? null : error + ":" + ClientVerifier.reason(error);
    }

    /** The check of {@link #failure}: 0, or OpenSSL's error code. */
    static int error(List<X509Certificate> path, X509Certificate anchor, List<X509CRL> revocations) {
        return error(path, anchor, revocations, new Date());
    }

    /**
     * The check of {@link #failure} at {@code now}: the JDK's validator without revocation (signatures, dates, basic
     * constraints, key usage), then each certificate of the path, the one under the anchor first as the JDK's
     * revocation checker took them, against the CRLs ({@link #revocationError}).
     *
     * <p>The CRLs are not the JDK's revocation checker's: it grants a CRL 15 minutes past its nextUpdate (and before
     * its thisUpdate), where OpenSSL grants none, and it copies and hashes each CRL's whole encoding on every check
     * (tens of milliseconds a check for a CRL of 200 000 entries); a serial is looked up here in the CRL's own map.
     */
    static int error(List<X509Certificate> path, X509Certificate anchor, List<X509CRL> revocations, Date now) {
        try {
            CertPathValidator validator = CertPathValidator.getInstance("PKIX");
            PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
            parameters.setDate(now);
            parameters.setRevocationEnabled(false);
            validator.validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
        } catch (CertPathValidatorException e) {
            return openSslError(e);
        } catch (GeneralSecurityException e) {
            return CERT_SIGNATURE_FAILURE;
        }
        if (revocations.isEmpty()) {
            return 0;
        }
        // every certificate of the chain on a CRL of its issuer's (OpenSSL's CRL_CHECK_ALL, as nginx's ssl_crl and
        // proxy_ssl_crl), the CRLs given alone: no OCSP, no fetch of a distribution point
        for (int i = path.size() - 1; i >= 0; i--) {
            int error = revocationError(path.get(i), i + 1 < path.size() ? path.get(i + 1) : anchor, revocations,
                    now);
            if (error != 0) {
                return error;
            }
        }
        return 0;
    }

    /**
     * What the CRLs of {@code certificate}'s issuer say of it, as OpenSSL's check_crl and cert_crl judge it: 0 where a
     * CRL of its issuer's, signed by {@code issuer}'s key and in date, does not list it; "certificate revoked" (23)
     * where one in date lists it; else why none could tell: one that names its issuer with a signature not {@code
     * issuer}'s ("CRL signature failure", 8), one out of date ("CRL has expired", 12, when nextUpdate is past: the CRL
     * not renewed in time, its usual failure; "CRL is not yet valid", 11, when thisUpdate is still to come, to the
     * second and no skew, as OpenSSL's X509_cmp_time compares them), or none ("unable to get certificate CRL", 3).
     * A CRL with a critical extension (a delta CRL's indicator, an issuing distribution point) is not taken, as
     * edge reads none of them. Each CRL's signature is checked once for a key: the JDK's X509CRL keeps the key
     * that verified it.
     */
    private static int revocationError(X509Certificate certificate, X509Certificate issuer,
            List<X509CRL> revocations, Date now) {
        int error = UNABLE_TO_GET_CRL;
        for (X509CRL crl : revocations) {
            if (!crl.getIssuerX500Principal().equals(certificate.getIssuerX500Principal())) {
                continue;
            }
            try {
                crl.verify(issuer.getPublicKey());
            } catch (GeneralSecurityException e) {
                error = error == UNABLE_TO_GET_CRL ? CRL_SIGNATURE_FAILURE : error;
                continue;
            }
            Set<String> critical = crl.getCriticalExtensionOIDs();
            if (critical != null && !critical.isEmpty()) {
                continue;
            }
            if (crl.getNextUpdate() != null && !crl.getNextUpdate().after(now)) {
                error = CRL_HAS_EXPIRED;
            } else if (crl.getThisUpdate().after(now)) {
                error = CRL_NOT_YET_VALID;
            } else {
                return crl.getRevokedCertificate(certificate) != null ? CERT_REVOKED : 0;
            }
        }
        return error;
    }

    private static int openSslError(CertPathValidatorException e) {
        CertPathValidatorException.Reason reason = e.getReason();
        if (reason == CertPathValidatorException.BasicReason.EXPIRED) {
            return CERT_HAS_EXPIRED;
        } else if (reason == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
            return CERT_NOT_YET_VALID;
        } else if (reason == CertPathValidatorException.BasicReason.REVOKED) {
            return CERT_REVOKED;
        } else if (reason == CertPathValidatorException.BasicReason.ALGORITHM_CONSTRAINED) {
            return CA_MD_TOO_WEAK;
        } else if (reason == PKIXReason.NOT_CA_CERT) {
            return INVALID_CA;
        } else if (reason == PKIXReason.PATH_TOO_LONG) {
            return PATH_LENGTH_EXCEEDED;
        } else if (reason == PKIXReason.INVALID_KEY_USAGE) {
            return INVALID_PURPOSE;
        }
        return CERT_SIGNATURE_FAILURE;
    }
}
