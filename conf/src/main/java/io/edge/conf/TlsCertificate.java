package io.edge.conf;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A site's certificate and key, as nginx's {@code ssl_certificate} and {@code ssl_certificate_key}: read (and checked)
 * when the configuration is, so a reload reads the files again.
 *
 * @param certificateFile where the chain was read from
 * @param keyFile         where the key was read from
 * @param chain           the leaf first, then the intermediates as the file lists them; all of it is sent
 * @param key             the leaf's private key
 * @param stapling        whether (and how) the leaf's OCSP status is stapled to the handshake
 */
public record TlsCertificate(Path certificateFile, Path keyFile, List<X509Certificate> chain, PrivateKey key,
        TlsStapling stapling) {

    public TlsCertificate {
        chain = List.copyOf(chain);
    }

    /** A certificate whose status is not stapled. */
    public TlsCertificate(Path certificateFile, Path keyFile, List<X509Certificate> chain, PrivateKey key) {
        this(certificateFile, keyFile, chain, key, TlsStapling.OFF);
    }

    /** This certificate, stapled as {@code next} says. */
    public TlsCertificate withStapling(TlsStapling next) {
        return new TlsCertificate(certificateFile, keyFile, chain, key, next);
    }

    /** The leaf certificate. */
    public X509Certificate leaf() {
        return chain.get(0);
    }
}
