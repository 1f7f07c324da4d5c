package io.edge.conf;

import io.edge.fastcgi.tls.RevocationList;
import java.net.URI;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * How a site asks for and checks client certificates, as nginx's {@code ssl_verify_client}, {@code
 * ssl_client_certificate}, {@code ssl_trusted_certificate}, {@code ssl_verify_depth} and {@code ssl_crl}: files read
 * (and checked) when the configuration is, so a reload reads them again.
 *
 * @param mode         whether a certificate is asked for, and what a request on a connection without a good one gets
 * @param named        the CAs of {@code client-certificate}: named to the client in the handshake's CertificateRequest,
 *                     and trusted
 * @param trusted      the CAs of {@code trusted-certificate}: trusted, not named
 * @param depth        how many CA certificates may stand between a client's certificate and the CA that is trusted
 *                     ({@code ssl_verify_depth}, 1 by default as nginx's: the CA signed it, or one intermediate did)
 * @param revocations  the CRLs of {@code crl}: where there are any, every certificate of a chain must be on a CRL of
 *                     its issuer's and not revoked there (OpenSSL's CRL_CHECK_ALL, as nginx sets it)
 * @param ocsp         whether a verified chain's certificates are asked about at their OCSP responder too
 */
public record TlsClientVerify(Mode mode, List<X509Certificate> named, List<X509Certificate> trusted, int depth,
        List<RevocationList> revocations, Ocsp ocsp) {

    /** No certificate asked for (nginx's default, {@code ssl_verify_client off}). */
    public static final TlsClientVerify OFF = new TlsClientVerify(Mode.OFF, List.of(), List.of(), 1, List.of());

    public TlsClientVerify {
        named = List.copyOf(named);
        trusted = List.copyOf(trusted);
        revocations = List.copyOf(revocations);
    }

    /** Without OCSP ({@link Ocsp#OFF}). */
    public TlsClientVerify(Mode mode, List<X509Certificate> named, List<X509Certificate> trusted, int depth,
            List<RevocationList> revocations) {
        this(mode, named, trusted, depth, revocations, Ocsp.OFF);
    }

    /**
     * OCSP of client certificates, as nginx's {@code ssl_ocsp}, {@code ssl_ocsp_responder} and {@code ssl_ocsp_cache}.
     *
     * @param checked   which certificates of a verified chain are asked about: none, the client's own, or all but the
     *                  root
     * @param responder the http:// URL asked, over each certificate's own (its AIA OCSP URL); null: that one
     * @param cache     how many answers are kept (each until its nextUpdate, an hour where it has none); 0: none, every
     *                  connection asks (nginx's default, {@code ssl_ocsp_cache off})
     */
    public record Ocsp(Checked checked, URI responder, int cache) {

        /** No OCSP (nginx's default, {@code ssl_ocsp off}). */
        public static final Ocsp OFF = new Ocsp(Checked.OFF, null, 0);

        /** nginx's values of {@code ssl_ocsp}. */
        public enum Checked {
            /** None asked about. */
            OFF,
            /** Every certificate of the chain but the root ({@code ssl_ocsp on}). */
            ON,
            /** The client's own alone ({@code ssl_ocsp leaf}). */
            LEAF
        }

        /** Whether any certificate is asked about. */
        public boolean enabled() {
            return checked != Checked.OFF;
        }
    }

    /** nginx's values of {@code ssl_verify_client}. */
    public enum Mode {
        /** No certificate asked for. */
        OFF,
        /** Asked for; a request without one, or with one that failed, is answered 400. */
        ON,
        /** Asked for; a request without one is served, one with a certificate that failed answered 400. */
        OPTIONAL,
        /**
         * Asked for; as {@link #OPTIONAL}, and a certificate no trusted CA signed (self-signed, an unknown issuer) is
         * served too, the application left to judge it ({@code $ssl_client_verify} says why it failed).
         */
        OPTIONAL_NO_CA
    }

    /** Whether a certificate is asked for. */
    public boolean asks() {
        return mode != Mode.OFF;
    }
}
