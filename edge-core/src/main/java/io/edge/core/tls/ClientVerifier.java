package io.edge.core.tls;

import io.edge.conf.TlsClientVerify;
import java.io.IOException;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/**
 * Checks a client's certificate chain as OpenSSL checks it for nginx's ssl_verify_client, and says what came of it in
 * OpenSSL's words ({@code $ssl_client_verify}'s "FAILED:unable to verify the first certificate"). The handshake itself
 * takes any certificate (nginx's verify callback lets every error through too, and answers 400 at the HTTP level):
 * this check is made once a request asks, from the certificates the session holds.
 *
 * <p>The chain is built as OpenSSL builds it: from the client's certificate, each issuer looked for by name among the
 * trusted CAs (client-certificate's and trusted-certificate's) first, then among what the client sent (the first of its
 * name and key identifier, its signature left to the validator). It grows no longer than OpenSSL's build_chain grows
 * it, {@code depth} + 2 certificates, and a client that sent more than {@code depth} + 10 is refused unlooked-at,
 * "certificate chain too long": what a hostile chain costs is bounded, and the check runs off the event loops all the
 * same ({@link ClientCertificates}). One that ends
 * at no trusted CA fails as OpenSSL's does: "self-signed certificate" for a lone self-signed one, "self-signed
 * certificate in certificate chain" where the client sent its own root, "unable to verify the first certificate" for
 * a lone certificate of an unknown issuer, "unable to get local issuer certificate" for a longer chain of one, and
 * for more than {@code depth} CA certificates under the trusted one (OpenSSL does not look past it). A chain that
 * ends at a trusted CA is then checked by {@link PkixCheck} (the JDK's PKIX validator's signatures, dates, basic
 * constraints and key usage, and the CRLs where there are any, as OpenSSL judges them), its failure named as OpenSSL
 * names it; the trusted CA's own dates, which the
 * JDK's validator leaves alone, as OpenSSL checks them. A certificate the client sent (its own, an intermediate) whose
 * extended key usage leaves out clientAuth is "unsuitable certificate purpose", as OpenSSL's purpose check for an SSL
 * client.
 * Each of these texts is the one nginx 1.22 on Debian's OpenSSL 3 logged for the same certificate.
 */
final class ClientVerifier {

    /** OpenSSL's X509_V_ERR_* codes and their texts (OpenSSL 3's, which Debian's nginx 1.22 reports). */
    static final int UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20;
    static final int DEPTH_ZERO_SELF_SIGNED_CERT = 18;
    static final int SELF_SIGNED_CERT_IN_CHAIN = 19;
    static final int UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21;
    static final int UNABLE_TO_GET_ISSUER_CERT = 2;
    static final int UNSPECIFIED = 1;
    private static final int CERT_CHAIN_TOO_LONG = 22;
    static final int UNABLE_TO_GET_CRL = 3;
    static final int CERT_SIGNATURE_FAILURE = 7;
    static final int CRL_SIGNATURE_FAILURE = 8;
    static final int CRL_NOT_YET_VALID = 11;
    static final int CRL_HAS_EXPIRED = 12;
    static final int CERT_NOT_YET_VALID = 9;
    static final int CERT_HAS_EXPIRED = 10;
    static final int CERT_REVOKED = 23;
    static final int INVALID_CA = 24;
    static final int PATH_LENGTH_EXCEEDED = 25;
    static final int INVALID_PURPOSE = 26;
    static final int KEYUSAGE_NO_CRL_SIGN = 35;
    static final int CA_MD_TOO_WEAK = 68;
    /**
     * What nginx's ssl_ocsp says of a chain that verified (ngx_ssl_ocsp_get_status): no OpenSSL codes, so edge's own,
     * below 0, which the log leaves out as nginx's does ("client SSL certificate verify error: certificate revoked").
     */
    static final int OCSP_REQUEST_FAILED = -1;
    static final int OCSP_REVOKED = -2;
    static final int OCSP_UNKNOWN = -3;

    /**
     * How many certificates past {@code depth} a client may send (its own, intermediates, a root it added): more is
     * refused unlooked-at, "certificate chain too long". nginx's OpenSSL bounds them by bytes (max_cert_list, 100 KiB):
     * a count here, as each certificate sent may cost a signature check.
     */
    private static final int SENT_PAST_DEPTH = 10;
    /** clientAuth and anyExtendedKeyUsage: an extended key usage that lets a certificate authenticate a client. */
    private static final Set<String> CLIENT_USAGES = Set.of("1.3.6.1.5.5.7.3.2", "2.5.29.37.0");
    private static final String AUTHORITY_KEY_ID = Extension.authorityKeyIdentifier.getId();
    private static final String SUBJECT_KEY_ID = Extension.subjectKeyIdentifier.getId();

    private final TlsClientVerify settings;
    private final ClientOcsp ocsp;
    /** Both files' CAs: the chain's issuers are looked for among them first. */
    private final List<X509Certificate> trusted;
    /** Signatures checked while chains were built, for the tests of what a chain costs. */
    final LongAdder signatureChecks = new LongAdder();

    ClientVerifier(TlsClientVerify settings) {
        this.settings = settings;
        this.ocsp = settings.ocsp().enabled() ? new ClientOcsp(settings.ocsp(), Clock.systemUTC()) : null;
        List<X509Certificate> all = new ArrayList<>(settings.named());
        all.addAll(settings.trusted());
        this.trusted = List.copyOf(all);
        // The JDK's validator reads its list of blocked certificates (lib/security/blocked.certs) from disk the first
        // time it checks a path: checked once here, as the configuration is read, never first on an event loop.
        trusted.stream().filter(this::selfSigned).findFirst().ifPresent(root -> validated(List.of(root),
                root));
    }

    TlsClientVerify settings() {
        return settings;
    }

    /** The OCSP checks of chains this verified, null where the settings ask for none. */
    ClientOcsp ocsp() {
        return ocsp;
    }

    /** What came of checking {@code sent}, the client's certificate then the chain it sent; none for an empty one. */
    ClientVerification verify(Certificate[] sent) {
        return verified(sent).verification();
    }

    /**
     * What came of a check, and the chain it verified: the client's certificate first, the trusted root last (empty
     * where it failed).
     */
    record Verified(ClientVerification verification, List<X509Certificate> chain) {

        Verified {
            chain = List.copyOf(chain);
        }

        static Verified failed(ClientVerification verification) {
            return new Verified(verification, List.of());
        }
    }

    /** {@link #verify}, and the chain verified. */
    Verified verified(Certificate[] sent) {
        if (sent == null || sent.length == 0 || !(sent[0] instanceof X509Certificate leaf)) {
            return Verified.failed(ClientVerification.NONE);
        }
        if (sent.length > settings.depth() + SENT_PAST_DEPTH) {
            return Verified.failed(ClientVerification.failed(leaf, CERT_CHAIN_TOO_LONG));
        }
        List<X509Certificate> sentCertificates = sentCertificates(sent);
        // OpenSSL's build_chain: no further than the depth and one past it (which fails below), however many came
        int longest = settings.depth() + 2;
        List<X509Certificate> path = new ArrayList<>(List.of(leaf));
        X509Certificate anchor = null;
        while (true) {
            X509Certificate last = path.get(path.size() - 1);
            X509Certificate issuer = issuer(last, trusted, path);
            if (issuer != null && selfSigned(issuer)) {
                anchor = issuer;
                break;
            }
            if (issuer == null && selfSigned(last)) {
                break; // a root no CA file holds
            }
            if (path.size() >= longest) {
                break; // as long as OpenSSL builds it: no issuer looked for past it ("local issuer", as nginx says)
            }
            if (issuer == null) {
                issuer = sentIssuer(last, sentCertificates, path);
            }
            if (issuer == null) {
                break;
            }
            path.add(issuer);
        }
        if (anchor == null) {
            X509Certificate top = path.get(path.size() - 1);
            int error = selfSigned(top) ? path.size() == 1 ? DEPTH_ZERO_SELF_SIGNED_CERT : SELF_SIGNED_CERT_IN_CHAIN
                    : path.size() == 1 ? UNABLE_TO_VERIFY_LEAF_SIGNATURE : UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
            // OpenSSL goes on past the first error (nginx's callback lets it): a date found wrong after it is the one
            int dates = dates(path);
            return Verified.failed(ClientVerification.failed(leaf, dates != 0 ? dates : error));
        }
        if (path.get(path.size() - 1).equals(anchor)) {
            path.remove(path.size() - 1); // a trusted self-signed client certificate: the anchor alone
        }
        if (path.size() - 1 > settings.depth()) {
            // OpenSSL builds no further than the depth: the CA found past it is not looked for (nginx 1.22 says so)
            return Verified.failed(ClientVerification.failed(leaf, UNABLE_TO_GET_ISSUER_CERT_LOCALLY));
        }
        int error = validated(path, anchor); // an empty path: the trusted client certificate on a CRL of its own
        if (error == 0 && !path.stream().filter(certificate -> !trusted.contains(certificate))
                .allMatch(ClientVerifier::forClients)) {
            error = INVALID_PURPOSE;
        }
        // OpenSSL checks the trusted CA's dates too, before the others' (a date of theirs is the error left); the JDK's
        // validator never looks at its anchor's
        if (error != CERT_HAS_EXPIRED && error != CERT_NOT_YET_VALID && dates(List.of(anchor)) != 0) {
            error = dates(List.of(anchor));
        }
        if (error != 0) {
            return Verified.failed(ClientVerification.failed(leaf, error));
        }
        List<X509Certificate> chain = new ArrayList<>(path);
        chain.add(anchor);
        return new Verified(ClientVerification.success(leaf), chain);
    }

    private static List<X509Certificate> sentCertificates(Certificate[] sent) {
        List<X509Certificate> certificates = new ArrayList<>();
        for (int i = 1; i < sent.length; i++) {
            if (sent[i] instanceof X509Certificate certificate) {
                certificates.add(certificate);
            }
        }
        return certificates;
    }

    /**
     * The certificate the client sent that names itself {@code certificate}'s issuer, not in {@code path}: the first
     * whose subject is the issuer's name and whose key identifier, where both have one, is the one {@code certificate}
     * names, as OpenSSL's find_issuer takes it (check_issued: no signature checked). Its signature is the PKIX
     * validator's to check, once: a client sending many certificates of one name makes no more signature checks.
     */
    private static X509Certificate sentIssuer(X509Certificate certificate, List<X509Certificate> sent,
            List<X509Certificate> path) {
        byte[] named = authorityKeyIdentifier(certificate.getExtensionValue(AUTHORITY_KEY_ID));
        for (X509Certificate candidate : sent) {
            if (candidate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())
                    && (candidate.equals(certificate) || !path.contains(candidate))) {
                byte[] own = subjectKeyIdentifier(candidate.getExtensionValue(SUBJECT_KEY_ID));
                if (named == null || own == null || Arrays.equals(named, own)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /**
     * The keyIdentifier of an AuthorityKeyIdentifier extension's value as {@link X509Certificate#getExtensionValue}
     * gives it (an OCTET STRING around the extension's DER), null where there is none or it cannot be read.
     */
    private static byte[] authorityKeyIdentifier(byte[] extension) {
        try {
            ASN1OctetString identifier = extension == null ? null : AuthorityKeyIdentifier.getInstance(
                    JcaX509ExtensionUtils.parseExtensionValue(extension)).getKeyIdentifierObject();
            return identifier == null ? null : identifier.getOctets();
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            return null; // not DER
        }
    }

    /** The key identifier of a SubjectKeyIdentifier extension's value, as {@link #authorityKeyIdentifier} reads it. */
    private static byte[] subjectKeyIdentifier(byte[] extension) {
        try {
            return extension == null ? null : SubjectKeyIdentifier.getInstance(
                    JcaX509ExtensionUtils.parseExtensionValue(extension)).getKeyIdentifier();
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            return null; // not DER
        }
    }

    /** The one of {@code among} that issued {@code certificate} (by name, and its signature), not in {@code path}. */
    private X509Certificate issuer(X509Certificate certificate, List<X509Certificate> among,
            List<X509Certificate> path) {
        for (X509Certificate candidate : among) {
            if (candidate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())
                    && (candidate.equals(certificate) || !path.contains(candidate)) && signed(certificate, candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private boolean selfSigned(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())
                && signed(certificate, certificate);
    }

    /** {@link PkixCheck#signedBy}, counted in {@link #signatureChecks}. */
    private boolean signed(X509Certificate certificate, X509Certificate by) {
        signatureChecks.increment();
        return PkixCheck.signedBy(certificate, by);
    }

    /** OpenSSL's error for the dates of {@code path}'s certificates, the client's own last (its error the one left). */
    private static int dates(List<X509Certificate> path) {
        int error = 0;
        for (int i = path.size() - 1; i >= 0; i--) {
            try {
                path.get(i).checkValidity();
            } catch (CertificateExpiredException e) {
                error = CERT_HAS_EXPIRED;
            } catch (CertificateNotYetValidException e) {
                error = CERT_NOT_YET_VALID;
            }
        }
        return error;
    }

    /** The JDK's PKIX check of {@code path} (the client's first) under {@code anchor}: 0, or OpenSSL's error. */
    private int validated(List<X509Certificate> path, X509Certificate anchor) {
        return PkixCheck.error(path, anchor, settings.revocations());
    }

    /** Whether {@code certificate}'s extended key usage, if any, lets it (or those it signs) authenticate clients. */
    private static boolean forClients(X509Certificate certificate) {
        try {
            List<String> usages = certificate.getExtendedKeyUsage();
            return usages == null || usages.stream().anyMatch(CLIENT_USAGES::contains);
        } catch (CertificateParsingException e) {
            return false;
        }
    }

    /** OpenSSL's text of {@code error} (X509_verify_cert_error_string, OpenSSL 3's wording). */
    static String reason(int error) {
        return switch (error) {
            case UNSPECIFIED -> "unspecified certificate verification error";
            case UNABLE_TO_GET_ISSUER_CERT -> "unable to get issuer certificate";
            case UNABLE_TO_GET_CRL -> "unable to get certificate CRL";
            case CERT_SIGNATURE_FAILURE -> "certificate signature failure";
            case CRL_SIGNATURE_FAILURE -> "CRL signature failure";
            case CRL_NOT_YET_VALID -> "CRL is not yet valid";
            case CRL_HAS_EXPIRED -> "CRL has expired";
            case CERT_NOT_YET_VALID -> "certificate is not yet valid";
            case CERT_HAS_EXPIRED -> "certificate has expired";
            case DEPTH_ZERO_SELF_SIGNED_CERT -> "self-signed certificate";
            case SELF_SIGNED_CERT_IN_CHAIN -> "self-signed certificate in certificate chain";
            case UNABLE_TO_GET_ISSUER_CERT_LOCALLY -> "unable to get local issuer certificate";
            case UNABLE_TO_VERIFY_LEAF_SIGNATURE -> "unable to verify the first certificate";
            case CERT_REVOKED -> "certificate revoked";
            case CERT_CHAIN_TOO_LONG -> "certificate chain too long";
            case INVALID_CA -> "invalid CA certificate";
            case PATH_LENGTH_EXCEEDED -> "path length constraint exceeded";
            case INVALID_PURPOSE -> "unsuitable certificate purpose";
            case KEYUSAGE_NO_CRL_SIGN -> "key usage does not include CRL signing";
            case CA_MD_TOO_WEAK -> "CA signature digest algorithm too weak";
            case OCSP_REQUEST_FAILED -> "certificate status request failed";
            case OCSP_REVOKED -> "certificate revoked";
            case OCSP_UNKNOWN -> "certificate status unknown";
            default -> "certificate verify error " + error;
        };
    }
}
