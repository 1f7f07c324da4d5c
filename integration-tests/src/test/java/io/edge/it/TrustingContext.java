package io.edge.it;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The TLS client side of the tests: an {@code SSLContext} that trusts one certificate (a test CA, or a self-signed one). */
final class TrustingContext {

    private TrustingContext() {
    }

    /**
     * Makes a self-signed certificate for localhost and 127.0.0.1 in {@code tls} (cert.pem, key.pem) with openssl, as a
     * listener marked ssl takes it.
     */
    static void selfSigned(Path tls) throws Exception {
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost").directory(tls.toFile()).redirectErrorStream(true)
                .redirectOutput(tls.resolve("openssl.log").toFile()).start();
        if (!openssl.waitFor(60, TimeUnit.SECONDS) || openssl.exitValue() != 0) {
            throw new IllegalStateException("openssl failed: " + Files.readString(tls.resolve("openssl.log")));
        }
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
