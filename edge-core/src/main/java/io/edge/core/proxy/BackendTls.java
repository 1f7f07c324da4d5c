package io.edge.core.proxy;

import io.edge.core.tls.OneCertificateKeyManager;
import io.edge.core.tls.PkixCheck;
import io.edge.core.tls.TlsContexts;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.pool.ConnectionSetup;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS to a proxy group's backends, nginx's {@code proxy_pass https://}: each new connection gets a client
 * {@link SslHandler} first in its pipeline, and is granted to a request only once its handshake is done (within the
 * group's connect timeout), so a failed handshake is a failed connect (the next address, or 502), as nginx's
 * "SSL_do_handshake() failed ... while SSL handshaking to upstream". A kept connection carries its requests over the
 * one handshake. A backend that asks for a certificate gets the group's, where it has one (nginx's
 * {@code proxy_ssl_certificate}); its ciphers are offered as a site's are ({@link TlsContexts#offered}); a verified
 * backend's chain is checked against its CRLs as a client's is ({@link PkixCheck}).
 *
 * <p>The backend's name is checked here, not by the engine's endpoint identification: that takes the engine's peer
 * host, which is also what the engine sends as SNI, and nginx checks {@code proxy_ssl_name} whether or not it sends it
 * ({@code proxy_ssl_server_name off}). The engine's peer host is the name with server-name, else the backend's IP
 * address (never sent as SNI, RFC 6066 3); with session-reuse it keys the session resumed on the next connection.
 */
public final class BackendTls implements ConnectionSetup {

    private static final String TLS = "proxy-tls";
    private static final String HANDSHAKE_ERRORS = "proxy-tls-handshake-errors";
    /**
     * The threads that check verified backends' chains: the handshake's certificate check is a task the handler
     * gives them, never made on the event loop (signatures, and with crl a look-up in each CRL of the issuer's, whose
     * signature the first check verifies: a CRL of 200 000 entries, tens of milliseconds). Two, as the check is CPU
     * alone, and at most one a new connection; daemons, gone when idle.
     */
    private static final Executor CHECKS = checks();

    private final BackendGroupSettings.Tls tls;
    private final SslContext context;
    private final long handshakeTimeoutMillis;
    /** The check of the backend's chain where it is verified (null where not), for the tests. */
    final NameChecking checking;

    private BackendTls(BackendGroupSettings.Tls tls, SslContext context, Duration connectTimeout,
            NameChecking checking) {
        this.tls = tls;
        this.context = context;
        this.handshakeTimeoutMillis = Math.max(1, connectTimeout.toMillis());
        this.checking = checking;
    }

    private static Executor checks() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("edge-backend-cert", true));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** The setup of {@code group}'s connections: a TLS handshake if it has tls, else none (null). */
    public static ConnectionSetup of(BackendGroupSettings group) throws SSLException {
        BackendGroupSettings.Tls tls = group.tls();
        if (tls == null) {
            return ConnectionSetup.NONE;
        }
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(provider)
                .protocols(tls.protocols())
                .ciphers(TlsContexts.offered("proxy.backends." + group.name() + ".tls.ciphers", tls.ciphers(),
                        provider))
                .endpointIdentificationAlgorithm(null); // the name is checked by NameChecking, see above
        if (tls.key() != null) {
            // presented when the backend's CertificateRequest asks (nginx's proxy_ssl_certificate)
            builder.keyManager(OneCertificateKeyManager.client(tls.key(),
                    tls.certificate().toArray(X509Certificate[]::new)));
        }
        NameChecking checking = null;
        if (tls.verify()) {
            // the certificate check a task of the handshake (BoringSSL's asynchronous verify; the JDK's engine's
            // delegated tasks), run on CHECKS
            if (provider == SslProvider.OPENSSL) {
                builder.option(OpenSslContextOption.USE_TASKS, true);
            }
            if (!tls.revocations().isEmpty()) {
                // the JDK's validator reads its list of blocked certificates from disk at its first check: made now,
                // as the configuration is read, never first in a handshake on an event loop (as ClientVerifier does)
                PkixCheck.failure(List.of(tls.trusted().get(0)), tls.trusted().get(0), List.of());
            }
            checking = new NameChecking(tls, trustManager(tls.trusted()));
            builder.trustManager(checking);
        } else {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        }
        return new BackendTls(tls, builder.build(), group.timeouts().connect(), checking);
    }

    static X509TrustManager trustManager(List<X509Certificate> trusted) throws SSLException {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < trusted.size(); i++) {
                store.setCertificateEntry("ca" + i, trusted.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return (X509TrustManager) factory.getTrustManagers()[0];
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new SSLException("trusted certificates: " + e.getMessage(), e);
        }
    }

    @Override
    public Future<?> setUp(Channel backendChannel) {
        SslHandler handler;
        InetSocketAddress peer = (InetSocketAddress) backendChannel.remoteAddress();
        boolean sniName = tls.serverName() && !NetUtil.isValidIpV4Address(tls.name())
                && !NetUtil.isValidIpV6Address(tls.name());
        if (tls.sessionReuse()) {
            // the session cache is keyed by peer host and port
            handler = context.newHandler(backendChannel.alloc(),
                    sniName ? tls.name() : peer.getAddress().getHostAddress(), peer.getPort(), CHECKS);
        } else {
            handler = context.newHandler(backendChannel.alloc(), CHECKS);
        }
        if (sniName) {
            serverName(handler.engine(), tls.name());
        }
        handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        backendChannel.pipeline().addFirst(TLS, handler).addAfter(TLS, HANDSHAKE_ERRORS, HandshakeErrors.INSTANCE);
        Promise<Channel> done = backendChannel.eventLoop().newPromise();
        handler.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                backendChannel.pipeline().remove(HANDSHAKE_ERRORS);
                done.setSuccess(backendChannel);
            } else {
                done.setFailure(failure(f.cause()));
            }
        });
        return done;
    }

    /**
     * Sends {@code name} as SNI: set, not left to the engine's peer host, which Netty sends only where it has a dot,
     * when nginx sends a name without one too ("api", a compose service's). A name SNI cannot carry (an underscore,
     * {@code my_api}) goes without, as the peer host did, rather than failing every connect.
     */
    private static void serverName(SSLEngine engine, String name) {
        SNIHostName sni;
        try {
            sni = new SNIHostName(name);
        } catch (IllegalArgumentException e) {
            return;
        }
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setServerNames(List.of(sni));
        engine.setSSLParameters(parameters);
    }

    /**
     * The handshake's failure, in words as nginx's error log has them: a certificate not naming the backend is
     * "upstream SSL certificate does not match", another refused an "upstream SSL certificate verify error", with
     * the reason; a handshake the backend did not finish within the connect timeout a connect that timed out (nginx's
     * "upstream timed out ... while SSL handshaking to upstream": 504, and proxy-next-upstream's timeout, not error);
     * anything else an SSL handshake that failed. Without a cause, so that the pool's log line (the innermost message)
     * shows this one.
     */
    private static IOException failure(Throwable cause) {
        if (cause instanceof SslHandshakeTimeoutException) {
            return new ConnectTimeoutException(
                    "upstream timed out (110: Connection timed out) while SSL handshaking to upstream");
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NameMismatch mismatch) {
                return new SSLHandshakeException("upstream SSL certificate does not match \"" + mismatch.name
                        + "\" while SSL handshaking to upstream");
            }
            if (t instanceof CertificateException refused) {
                return new SSLHandshakeException("upstream SSL certificate verify error: (" + innermost(refused)
                        + ") while SSL handshaking to upstream");
            }
        }
        return new SSLHandshakeException("SSL handshake to upstream failed: " + innermost(cause));
    }

    /** The innermost message of {@code cause}'s chain: the reason, not the wrappers' words around it. */
    private static String innermost(Throwable cause) {
        String reason = null;
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null) {
                reason = t.getMessage();
            }
        }
        return reason != null ? reason : cause.getClass().getSimpleName();
    }

    /**
     * Takes the handshake's exception, which its future reports (the connect's failure): without it, it reached the
     * pipeline's tail, a warning with a stack trace for each. Out of the pipeline once the handshake is done.
     */
    @ChannelHandler.Sharable
    private static final class HandshakeErrors extends ChannelInboundHandlerAdapter {
        static final HandshakeErrors INSTANCE = new HandshakeErrors();

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // said by the handshake's future; the connection is closed with its failure
        }
    }

    /**
     * The trusted CAs' check of the backend's chain, within verify-depth, then of its name: a DNS subjectAltName
     * matching it (a "*." one matching one label), an IP one for an address; the subject's CN where it has no DNS
     * one, as OpenSSL's X509_check_host that nginx calls.
     */
    static final class NameChecking implements X509TrustManager {

        private final BackendGroupSettings.Tls tls;
        private final X509TrustManager trusted;
        /** The thread of the last check, for the tests. */
        volatile Thread checkedOn;

        NameChecking(BackendGroupSettings.Tls tls, X509TrustManager trusted) {
            this.tls = tls;
            this.trusted = trusted;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            checkedOn = Thread.currentThread();
            trusted.checkServerTrusted(chain, authType);
            // the CA certificates between the backend's and a trusted one (which may be sent or not): OpenSSL's
            // verify depth N takes N of them (nginx's proxy_ssl_verify_depth 1: one intermediate CA)
            int between = 0;
            for (int i = 1; i < chain.length && !tls.trusted().contains(chain[i]); i++) {
                between++;
            }
            if (!tls.trusted().contains(chain[0]) && between > tls.verifyDepth()) {
                throw new CertificateException("certificate chain too long: " + between
                        + " CA certificates under the trusted one, verify-depth " + tls.verifyDepth());
            }
            if (!tls.revocations().isEmpty()) {
                revocationChecked(chain, between);
            }
            if (!names(chain[0], tls.name())) {
                throw new NameMismatch(tls.name());
            }
        }

        /**
         * The chain the trusted CAs passed, checked against the CRLs (OpenSSL's CRL_CHECK_ALL, as nginx's
         * proxy_ssl_crl): the backend's certificate, the {@code between} CAs it sent under a trusted one, then the
         * trusted CAs up to a self-signed one (an intermediate of trusted-certificate too, as OpenSSL builds the chain
         * on to a root: one its root's CRL revoked is refused), each on a CRL of its issuer's and not revoked there.
         * A backend whose own certificate is trusted is checked no further.
         */
        private void revocationChecked(X509Certificate[] chain, int between) throws CertificateException {
            if (tls.trusted().contains(chain[0])) {
                return;
            }
            List<X509Certificate> path = new ArrayList<>(List.of(chain).subList(0, between + 1));
            X509Certificate anchor = issuer(path.get(path.size() - 1), path);
            while (anchor != null && !PkixCheck.selfSigned(anchor)) {
                X509Certificate above = issuer(anchor, path);
                if (above == null) {
                    break; // no trusted root above it: the CA the trust manager took is the anchor
                }
                path.add(anchor); // a trusted CA with an issuer of its own: checked against its CRLs too
                anchor = above;
            }
            String failure = anchor == null ? null : PkixCheck.failure(path, anchor, tls.revocations());
            if (failure != null) {
                throw new CertificateException(failure);
            }
        }

        /** The trusted CA that signed {@code certificate} (the trust manager found one), not in {@code path}, or null. */
        private X509Certificate issuer(X509Certificate certificate, List<X509Certificate> path) {
            for (X509Certificate ca : tls.trusted()) {
                if (!path.contains(ca) && ca.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())
                        && PkixCheck.signedBy(certificate, ca)) {
                    return ca;
                }
            }
            return null;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server's trust manager");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return trusted.getAcceptedIssuers();
        }
    }

    /** A backend's certificate that does not name it: nginx logs it in words of its own, not a verify error's. */
    static final class NameMismatch extends CertificateException {
        private static final long serialVersionUID = 1L;
        final String name;

        NameMismatch(String name) {
            super("certificate does not match \"" + name + "\"");
            this.name = name;
        }
    }

    /** Whether {@code certificate} names {@code name} (see {@link NameChecking}). */
    static boolean names(X509Certificate certificate, String name) throws CertificateParsingException {
        boolean address = NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name);
        String wanted = name.toLowerCase(Locale.ROOT);
        boolean anyDns = false;
        Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
        if (alternatives != null) {
            for (List<?> alternative : alternatives) {
                int type = (Integer) alternative.get(0);
                String value = String.valueOf(alternative.get(1));
                if (type == 2) { // dNSName
                    anyDns = true;
                    if (!address && dnsMatches(value.toLowerCase(Locale.ROOT), wanted)) {
                        return true;
                    }
                } else if (type == 7 && address // iPAddress
                        && java.util.Arrays.equals(NetUtil.createByteArrayFromIpAddressString(value),
                        NetUtil.createByteArrayFromIpAddressString(name))) {
                    return true;
                }
            }
        }
        if (anyDns || address) {
            return false;
        }
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")
                        && dnsMatches(String.valueOf(rdn.getValue()).toLowerCase(Locale.ROOT), wanted)) {
                    return true;
                }
            }
        } catch (InvalidNameException e) {
            return false;
        }
        return false;
    }

    /**
     * Whether the (lower-case) {@code pattern} of a certificate matches {@code name}, as OpenSSL's X509_check_host
     * with nginx's flags (none): a {@code *} stands for one or more characters of the name's first label, only where
     * it is in the pattern's first label, the pattern's only one, with at least two labels after it ({@code *.com}
     * and {@code *.internal} are literal names, never wildcards), and not in an IDNA ({@code xn--}) label; a partial
     * one ({@code api*.example.com}) never matches an IDNA label of the name.
     */
    static boolean dnsMatches(String pattern, String name) {
        int star = pattern.indexOf('*');
        int firstDot = pattern.indexOf('.');
        boolean wildcard = star >= 0 && pattern.indexOf('*', star + 1) < 0 && firstDot > star
                && pattern.indexOf('.', firstDot + 1) > firstDot + 1 && !pattern.startsWith("xn--")
                && !pattern.endsWith(".");
        if (!wildcard) {
            return pattern.equals(name);
        }
        String prefix = pattern.substring(0, star);
        String suffix = pattern.substring(star + 1);
        if (name.length() < prefix.length() + suffix.length() || !name.startsWith(prefix) || !name.endsWith(suffix)) {
            return false;
        }
        String matched = name.substring(prefix.length(), name.length() - suffix.length());
        boolean wholeLabel = prefix.isEmpty() && suffix.startsWith(".");
        if (wholeLabel && matched.isEmpty()) {
            return false;
        }
        if (!wholeLabel && name.startsWith("xn--")) {
            return false;
        }
        return matched.indexOf('.') < 0;
    }
}
