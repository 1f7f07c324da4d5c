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
import static io.edge.core.tls.ClientVerifier.KEYUSAGE_NO_CRL_SIGN;
import static io.edge.core.tls.ClientVerifier.PATH_LENGTH_EXCEEDED;
import static io.edge.core.tls.ClientVerifier.UNABLE_TO_GET_CRL;

import io.edge.fastcgi.tls.RevocationList;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXReason;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;

/**
 * The JDK's PKIX check of a chain already built up to a trusted CA (signatures, dates, basic constraints, key usage),
 * and its check against the CRLs of nginx's {@code ssl_crl} or {@code proxy_ssl_crl} as OpenSSL makes it, its failure
 * in OpenSSL's words: for a client's
 * certificate ({@link ClientVerifier}) and a backend's ({@code BackendTls}).
 */
public final class PkixCheck {

    /** The index of cRLSign in {@link X509Certificate#getKeyUsage}. */
    private static final int CRL_SIGN = 6;

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
    public static String failure(List<X509Certificate> path, X509Certificate anchor, List<RevocationList> revocations) {
        int error = error(path, anchor, revocations);
        return error == 0 ? null : error + ":" + ClientVerifier.reason(error);
    }

    /** The check of {@link #failure}: 0, or OpenSSL's error code. */
    static int error(List<X509Certificate> path, X509Certificate anchor, List<RevocationList> revocations) {
        return error(path, anchor, revocations, new Date());
    }

    /**
     * The check of {@link #failure} at {@code now}: the JDK's validator without revocation (signatures, dates, basic
     * constraints, key usage), then each certificate of the path, the one under the anchor first as the JDK's
     * revocation checker took them, against the CRLs ({@link #revocationError}).
     *
     * <p>The CRLs are not the JDK's revocation checker's: it grants a CRL 15 minutes past its nextUpdate (and before
     * its thisUpdate), where OpenSSL grants none, and it copies and hashes each CRL's whole encoding on every check
     * (tens of milliseconds a check for a CRL of 200 000 entries); a serial is looked up here in the CRL's sorted
     * serials (a binary search).
     */
    static int error(List<X509Certificate> path, X509Certificate anchor, List<RevocationList> revocations, Date now) {
        // an empty path: a trusted client certificate alone, checked against its own CRL only
        if (!path.isEmpty()) {
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
        }
        if (revocations.isEmpty()) {
            return 0;
        }
        // every certificate of the chain on a CRL of its issuer's (OpenSSL's CRL_CHECK_ALL, as nginx's ssl_crl and
        // proxy_ssl_crl), the trusted root too (on its own CRL), the CRLs given alone: no OCSP, no fetch of a
        // distribution point. nginx's callback lets OpenSSL go on past an error, from the peer's certificate up: the
        // error left is the one nearest the root, found first here
        if (selfSigned(anchor)) {
            int error = revocationError(anchor, anchor, revocations, now);
            if (error != 0) {
                return error;
            }
        }
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
     * What the CRLs of {@code certificate}'s issuer say of it, as OpenSSL's get_crl_sk, check_crl and cert_crl judge
     * it. Of the CRLs that name its issuer and that {@code issuer}'s key signed, the one taken is, as OpenSSL scores
     * them, one whose scope holds the certificate before one whose does not, one in date before one out of date, then
     * the newest (latest thisUpdate), whatever their order in the file: a file holding an older CRL in date before the
     * one that revokes a certificate says it is revoked. Then, in the order of the first error nginx 1.22 logs for
     * it: "unable to get certificate CRL" (3) where the CRL's issuing distribution point leaves the certificate out
     * (openssl verify says "different CRL scope", 44; nginx 3); "key usage does not include CRL signing" (35) where
     * {@code issuer}'s key usage leaves out cRLSign; "CRL is not yet valid" (11) when its thisUpdate is still to
     * come, "CRL has expired" (12) when its nextUpdate is past (to the second, no skew, as OpenSSL's X509_cmp_time
     * compares them), even where it lists the certificate; "certificate revoked" (23) where it lists the serial with
     * any reason but removeFromCRL (a hold lifted); else 0. Where no CRL was taken: "CRL signature failure" (8) where
     * one named the issuer with a signature not {@code issuer}'s, else "unable to get certificate CRL" (3).
     *
     * <p>Not taken, as OpenSSL without extended CRL support takes none of them: a delta CRL, a CRL whose issuing
     * distribution point is invalid, indirect, limited to some reasons or to attribute certificates, and (edge reads
     * none) a CRL with another critical extension, or an entry with a critical extension but a certificateIssuer
     * (OpenSSL: "36:unhandled critical CRL extension" for every certificate). Each CRL's signature is checked once for
     * a key: a {@link RevocationList} keeps the key that verified it, as the JDK's X509CRL does.
     */
    private static int revocationError(X509Certificate certificate, X509Certificate issuer,
            List<RevocationList> revocations, Date now) {
        RevocationList taken = null;
        boolean takenInScope = false;
        boolean takenInDate = false;
        boolean signatureFailure = false;
        for (RevocationList crl : revocations) {
            if (!crl.getIssuerX500Principal().equals(certificate.getIssuerX500Principal())) {
                continue;
            }
            IssuingDistributionPoint point;
            try {
                point = issuingDistributionPoint(crl);
            } catch (IllegalArgumentException e) {
                continue; // not DER of one: OpenSSL's IDP_INVALID
            }
            if (!readable(crl, point)) {
                continue;
            }
            if (!crl.signedBy(issuer.getPublicKey())) {
                signatureFailure = true;
                continue;
            }
            boolean inScope = inScope(certificate, point);
            boolean inDate = !crl.getThisUpdate().after(now)
                    && (crl.getNextUpdate() == null || crl.getNextUpdate().after(now));
            int better = taken == null ? 1 : inScope != takenInScope ? Boolean.compare(inScope, takenInScope)
                    : inDate != takenInDate ? Boolean.compare(inDate, takenInDate)
                    : crl.getThisUpdate().compareTo(taken.getThisUpdate());
            if (better > 0) {
                taken = crl;
                takenInScope = inScope;
                takenInDate = inDate;
            }
        }
        if (taken == null) {
            return signatureFailure ? CRL_SIGNATURE_FAILURE : UNABLE_TO_GET_CRL;
        } else if (!takenInScope) {
            return UNABLE_TO_GET_CRL;
        } else if (issuer.getKeyUsage() != null && !issuer.getKeyUsage()[CRL_SIGN]) {
            return KEYUSAGE_NO_CRL_SIGN;
        } else if (taken.getThisUpdate().after(now)) {
            return CRL_NOT_YET_VALID;
        } else if (!takenInDate) {
            return CRL_HAS_EXPIRED;
        }
        return taken.revokes(certificate.getSerialNumber()) ? CERT_REVOKED : 0;
    }

    /**
     * Whether edge takes {@code crl} as OpenSSL without extended CRL support takes it: not a delta CRL, no critical
     * extension but an issuing distribution point and an authority key identifier, no entry's critical extension but
     * a certificateIssuer, and an issuing distribution point
     * ({@code point}, null for none) that is valid (at most one of the only-contains flags), not indirect, for every
     * reason.
     */
    private static boolean readable(RevocationList crl, IssuingDistributionPoint point) {
        if (crl.getExtensionValue(Extension.deltaCRLIndicator.getId()) != null || crl.hasCriticalEntryExtension()) {
            return false;
        }
        Set<String> critical = crl.getCriticalExtensionOIDs();
        if (critical != null && critical.stream().anyMatch(oid -> !oid.equals(
                Extension.issuingDistributionPoint.getId()) && !oid.equals(Extension.authorityKeyIdentifier.getId()))) {
            return false;
        }
        if (point == null) {
            return true;
        }
        int only = (point.onlyContainsUserCerts() ? 1 : 0) + (point.onlyContainsCACerts() ? 1 : 0)
                + (point.onlyContainsAttributeCerts() ? 1 : 0);
        return only <= 1 && !point.onlyContainsAttributeCerts() && !point.isIndirectCRL()
                && point.getOnlySomeReasons() == null;
    }

    /**
     * Whether {@code certificate} is in the scope of a CRL of its issuer's whose issuing distribution point is
     * {@code point} (null for none), as OpenSSL's crl_crldp_check
     * judges it: a CRL only of end-entity certificates (onlyContainsUserCerts) holds no CA, one only of CAs
     * (onlyContainsCACerts) no end entity; a CRL whose issuing distribution point names a distribution point holds
     * the certificates whose CRL distribution points name it (any name alike), a CRL that names none holds them all.
     */
    private static boolean inScope(X509Certificate certificate, IssuingDistributionPoint point) {
        if (point == null) {
            return true;
        }
        boolean ca = certificate.getBasicConstraints() >= 0;
        if (ca ? point.onlyContainsUserCerts() : point.onlyContainsCACerts()) {
            return false;
        }
        if (point.getDistributionPoint() == null) {
            return true;
        }
        byte[] extension = certificate.getExtensionValue(Extension.cRLDistributionPoints.getId());
        if (extension == null) {
            return false;
        }
        X500Name issuer = X500Name.getInstance(certificate.getIssuerX500Principal().getEncoded());
        try {
            for (DistributionPoint distributionPoint : CRLDistPoint.getInstance(
                    ASN1OctetString.getInstance(extension).getOctets()).getDistributionPoints()) {
                if (distributionPoint.getCRLIssuer() != null && Arrays.stream(distributionPoint.getCRLIssuer()
                        .getNames()).noneMatch(name -> name.getTagNo() == GeneralName.directoryName
                        && X500Name.getInstance(name.getName()).equals(issuer))) {
                    continue; // another CRL issuer's point
                }
                if (distributionPoint.getDistributionPoint() == null
                        || sameNames(distributionPoint.getDistributionPoint(), point.getDistributionPoint(), issuer)) {
                    return true;
                }
            }
        } catch (IllegalArgumentException e) {
            return false; // distribution points that are not DER of them: none that names the CRL's
        }
        return false;
    }

    /** Whether two distribution point names share a name, as OpenSSL's idp_check_dp compares them. */
    private static boolean sameNames(DistributionPointName a, DistributionPointName b, X500Name issuer) {
        GeneralName[] first = names(a, issuer);
        GeneralName[] second = names(b, issuer);
        return Arrays.stream(first).anyMatch(name -> Arrays.asList(second).contains(name));
    }

    /**
     * The names of {@code point}: its full names, or the one name its relative name makes under the CRL's issuer
     * (OpenSSL's DIST_POINT_set_dpname), as a directory name.
     */
    private static GeneralName[] names(DistributionPointName point, X500Name issuer) {
        if (point.getType() == DistributionPointName.FULL_NAME) {
            return GeneralNames.getInstance(point.getName()).getNames();
        }
        RDN[] rdns = Arrays.copyOf(issuer.getRDNs(), issuer.getRDNs().length + 1);
        rdns[rdns.length - 1] = RDN.getInstance(point.getName());
        return new GeneralName[] {new GeneralName(new X500Name(rdns))};
    }

    /** The issuing distribution point of {@code crl}, null where it has none. */
    private static IssuingDistributionPoint issuingDistributionPoint(RevocationList crl) {
        byte[] extension = crl.getExtensionValue(Extension.issuingDistributionPoint.getId());
        return extension == null ? null
                : IssuingDistributionPoint.getInstance(ASN1OctetString.getInstance(extension).getOctets());
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
