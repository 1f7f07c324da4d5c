package io.edge.core.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The key manager of one certificate, chosen whenever the handshake asks for one, whatever it asks with.
 * <ul>
 *   <li>A server's ({@link #server}): netty-tcnative asks for the key types of the server's suites ("RSA", "EC",
 *   "EC_EC"...) and the JDK's key manager matches them against the key's algorithm, so an Ed25519 key ("EdDSA") was
 *   never handed to BoringSSL and every handshake ended in an internal error alert; BoringSSL itself signs with the key
 *   it is given (ECDHE_ECDSA's suites and ed25519 over TLSv1.2, ed25519 over TLSv1.3), as nginx's OpenSSL does.</li>
 *   <li>A client's ({@link #client}), a backend group's: whatever CAs the backend's request names, as OpenSSL sends
 *   nginx's proxy_ssl_certificate, and a backend may take one no CA of its list issued (nginx's ssl_verify_client
 *   optional_no_ca, a certificate pinned by its fingerprint). The JDK's key manager, which SslContextBuilder's
 *   keyManager(key, chain) makes, sent none where no certificate of the chain was issued by one of them.</li>
 * </ul>
 */
public final class OneCertificateKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "certificate";

    private final PrivateKey key;
    private final X509Certificate[] chain;
    private final boolean server;

    private OneCertificateKeyManager(PrivateKey key, X509Certificate[] chain, boolean server) {
        this.key = key;
        this.chain = chain.clone();
        this.server = server;
    }

    /** A server's, of {@code key} and its certificate's {@code chain}. */
    public static OneCertificateKeyManager server(PrivateKey key, X509Certificate[] chain) {
        return new OneCertificateKeyManager(key, chain, true);
    }

    /** A client's, of {@code key} and its certificate's {@code chain}. */
    public static OneCertificateKeyManager client(PrivateKey key, X509Certificate[] chain) {
        return new OneCertificateKeyManager(key, chain, false);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return server ? null : new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return server ? null : ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return server ? null : ALIAS;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return server ? new String[] {ALIAS} : null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return server ? ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return server ? ALIAS : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? key : null;
    }
}
