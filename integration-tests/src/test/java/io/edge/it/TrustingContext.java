package io.edge.it;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The TLS client side of the tests: an {@code SSLContext} that trusts one certificate (a test CA, or a self-signed one). */
final class TrustingContext {

    private TrustingContext() {
    }

    /** A context trusting the certificate in the PEM file {@code certificate}, and nothing else. */
    static SSLContext of(Path certificate) throws Exception {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        try (InputStream cert = Files.newInputStream(certificate)) {
            trusted.setCertificateEntry("trusted", CertificateFactory.getInstance("X.509").generateCertificate(cert));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
