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
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXReason;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The JDK's PKIX check of a chain already built up to a trusted CA (signatures, dates, basic constraints, key usage)
 * with the CRLs of nginx's {@code ssl_crl} or {@code proxy_ssl_crl}, its failure in OpenSSL's words: for a client's
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
        Date now = new Date();
        try {
            CertPathValidator validator = CertPathValidator.getInstance("PKIX");
            PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
            parameters.setDate(now);
            if (revocations.isEmpty()) {
                parameters.setRevocationEnabled(false);
            } else {
                // the CRLs given alone, every certificate of the chain on one (OpenSSL's CRL_CHECK_ALL, as nginx's
                // ssl_crl and proxy_ssl_crl): no OCSP, no fetch of a distribution point
                parameters.addCertStore(CertStore.getInstance("Collection",
                        new CollectionCertStoreParameters(revocations)));
                PKIXRevocationChecker revocation = (PKIXRevocationChecker) validator.getRevocationChecker();
                revocation.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS,
                        PKIXRevocationChecker.Option.NO_FALLBACK));
                parameters.addCertPathChecker(revocation);
            }
            validator.validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
            return 0;
        } catch (CertPathValidatorException e) {
            int error = openSslError(e);
            return error == UNABLE_TO_GET_CRL && e.getIndex() >= 0 && e.getIndex() < path.size()
                    ? crlError(path.get(e.getIndex()), e.getIndex() + 1 < path.size() ? path.get(e.getIndex() + 1)
                    : anchor, revocations, now) : error;
        } catch (GeneralSecurityException e) {
            return CERT_SIGNATURE_FAILURE;
        }
    }

    /**
     * Why no CRL of {@code revocations} could tell {@code certificate}'s status, in OpenSSL's words: where one names
     * its issuer, that its signature is not {@code issuer}'s ("CRL signature failure", 8), or that it is out of date
     * ("CRL has expired", 12: the CRL not renewed in time, its usual failure; "CRL is not yet valid", 11), as OpenSSL
     * checks the CRL it found; else that there is none ("unable to get certificate CRL", 3).
     */
    private static int crlError(X509Certificate certificate, X509Certificate issuer, List<X509CRL> revocations,
            Date now) {
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
            if (crl.getNextUpdate() != null && crl.getNextUpdate().before(now)) {
                error = CRL_HAS_EXPIRED;
            } else if (crl.getThisUpdate().after(now)) {
                error = CRL_NOT_YET_VALID;
            } else {
                return UNABLE_TO_GET_CRL; // a CRL of its issuer's in date the JDK did not take (a critical extension)
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
        } else if (reason == CertPathValidatorException.BasicReason.UNDETERMINED_REVOCATION_STATUS) {
            return UNABLE_TO_GET_CRL;
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
