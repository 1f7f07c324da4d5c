package io.edge.core.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust manager of a site's handshakes that ask for a client certificate: it names the CAs of
 * {@code client-certificate} in the CertificateRequest (its accepted issuers, which BoringSSL and the JDK send), and
 * takes whatever certificate comes, as nginx's verify callback does, so the handshake completes and the request is
 * answered 400 at the HTTP level. {@link ClientVerifier} checks the certificate.
 */
final class NamingTrustManager extends X509ExtendedTrustManager {

    private final X509Certificate[] named;

    NamingTrustManager(List<X509Certificate> named) {
        this.named = named.toArray(X509Certificate[]::new);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        // taken: checked by ClientVerifier when a request asks
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        // taken, as above
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
        // taken, as above
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("a server's context checks no server");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("a server's context checks no server");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a server's context checks no server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return named.clone();
    }
}
