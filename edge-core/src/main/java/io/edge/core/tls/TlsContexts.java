package io.edge.core.tls;

import io.edge.conf.EdgeSettings;
import io.edge.conf.ServerSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.TlsCertificate;
import io.edge.conf.TlsClientVerify;
import io.edge.core.route.Router;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.KeyManagerFactoryWrapper;
import io.netty.internal.tcnative.SSL;
import io.netty.util.AttributeKey;
import io.netty.util.Mapping;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS of one configuration: an {@code SslContext} per certificate of its sites, made once as the configuration is
 * put in force (a reload makes new ones of the files read again; connections open keep the one they began with), and
 * the handlers a connection of a listener marked ssl begins with:
 * <pre>
 *   PlainHttpRefusal (400 to plain HTTP) -> SniHandler, then SslHandler -> TlsEvents -> FileRegionReader -> ...
 * </pre>
 * The certificate is the site's that the SNI name routes to among the sites of the listener, by the router's own
 * choice (nginx picks the server block for SNI as for Host): no name, or one of no site, gets the default site's.
 * A site with several (RSA beside ECDSA) has a context for each, and the client hello the SNI handler read chooses
 * among them ({@link CertificateChoice}) before the engine is made, as BoringSSL takes one certificate a connection.
 * The provider is BoringSSL (netty-tcnative) where it loads, else the JDK's. The site chosen so decides too whether
 * the handshake asks for a client certificate ({@link ClientCertificates}), and which OCSP response is stapled to it
 * ({@link OcspStapler}: fetched from when the configuration is put in force, {@link #startStapling}, until it is
 * replaced, {@link #stopStapling}).
 */
public final class TlsContexts {

    private static final Logger LOG = LoggerFactory.getLogger(TlsContexts.class);
    /** The SNI name of a connection, as its client hello gave it (absent without one). */
    static final AttributeKey<String> SERVER_NAME = AttributeKey.valueOf("edge.tls.server-name");

    /** A configuration without a listener marked ssl. */
    public static final TlsContexts NONE = new TlsContexts(ServerSettings.Tls.NONE, null, Map.of(), Map.of(),
            Map.of(), Map.of(), Map.of(), 0);

    private final ServerSettings.Tls settings;
    private final Router router;
    private final Map<SiteTls, SiteContexts> contexts;
    /** Those of listeners marked http2, whose ALPN offers h2 first: none without one. */
    private final Map<SiteTls, SiteContexts> http2Contexts;
    /** Those of listeners marked quic, for QUIC's handshakes (TLS 1.3, ALPN h3): none without one. */
    private final Map<SiteTls, QuicSslContext> quicContexts;
    /** The client certificate checker of each context that asks for one. */
    private final Map<SslContext, ClientVerifier> verifiers;
    /** The OCSP stapler of each context whose certificate's status is stapled. */
    private final Map<SslContext, OcspStapler> staplers;
    /**
     * The options BoringSSL's engines clear, in one call (0: none, or the JDK's provider): SSL_OP_NO_TICKET where
     * tickets are on (Netty sets it on a server's contexts, and clears it on an engine only where TLSv1.3 is on: with
     * protocols TLSv1.2 alone no ticket was sent), SSL_OP_CIPHER_SERVER_PREFERENCE where prefer-server-ciphers is off
     * (Netty's contexts prefer the server's order).
     */
    private final int clearedOptions;

    private TlsContexts(ServerSettings.Tls settings, Router router, Map<SiteTls, SiteContexts> contexts,
            Map<SiteTls, SiteContexts> http2Contexts, Map<SiteTls, QuicSslContext> quicContexts,
            Map<SslContext, ClientVerifier> verifiers, Map<SslContext, OcspStapler> staplers, int clearedOptions) {
        this.clearedOptions = clearedOptions;
        this.quicContexts = quicContexts;
        this.settings = settings;
        this.router = router;
        this.contexts = contexts;
        this.http2Contexts = http2Contexts;
        this.verifiers = verifiers;
        this.staplers = staplers;
    }

    /**
     * What a site's contexts are made of: its certificates, and whether (and how) its handshakes ask for a client's.
     * Sites alike in both share them; two with one certificate and different ssl_verify_client each have their own.
     */
    private record SiteTls(List<TlsCertificate> certificates, TlsClientVerify clientVerify) {

        /** {@code site}'s, null where it has no certificate. */
        static SiteTls of(SiteSettings site) {
            return site.certificates().isEmpty() ? null : new SiteTls(site.certificates(), site.clientVerify());
        }
    }

    /** A site's contexts, one a certificate in its order, and which of them answers a client hello. */
    private record SiteContexts(List<SslContext> contexts, CertificateChoice choice) {

        /**
         * The context of the certificate that answers {@code clientHello}, a ClientHello's body (null: none read),
         * which is read only where there is a choice: a site of one certificate costs a handshake nothing more.
         */
        SslContext answering(ByteBuf clientHello) {
            return contexts.size() == 1 ? contexts.get(0) : contexts.get(choice.choose(ClientHello.parse(clientHello)));
        }
    }

    /**
     * The contexts of {@code settings}' sites that listen on an address marked ssl (their certificates were read and
     * checked with the configuration).
     *
     * @throws SSLException where the provider refuses a certificate, key or setting
     */
    public static TlsContexts of(EdgeSettings settings) throws SSLException {
        ServerSettings.Tls tls = settings.server().tls();
        if (tls.listen().isEmpty()) {
            return NONE;
        }
        SslProvider provider = provider();
        List<String> ciphers = offered("server.tls.ciphers", tls.ciphers(), provider);
        List<String> groups = offeredGroups(tls.ecdhCurves(), provider);
        if (tls.dhparam() != null) {
            LOG.warn("server.tls.dhparam {} is not used: {}", tls.dhparam(), provider == SslProvider.OPENSSL
                    ? OpenSsl.versionString() + " has no DHE suites (ECDHE's groups are ecdh-curve's)"
                    : "the JDK's SSLEngine takes its DHE groups from RFC 7919's (-Djdk.tls.namedGroups)");
        }
        if (provider != SslProvider.OPENSSL && (!tls.sessionTickets() || !tls.sessionTicketKeys().isEmpty())) {
            throw new SSLException("server.tls." + (tls.sessionTickets() ? "session-ticket-keys" : "session-tickets = off")
                    + ": the JDK's SSLEngine (netty-tcnative did not load) has its own ticket keys, on for the whole JVM"
                    + " (-Djdk.tls.server.enableSessionTicketExtension)");
        }
        Map<SiteTls, SiteContexts> contexts = new HashMap<>();
        Map<SiteTls, SiteContexts> http2Contexts = new HashMap<>();
        Map<SslContext, ClientVerifier> verifiers = new IdentityHashMap<>();
        Map<SslContext, OcspStapler> staplers = new IdentityHashMap<>();
        boolean http2 = tls.http2().listen().stream().anyMatch(tls::endsOn); // h2c's need none
        Map<SiteTls, QuicSslContext> quicContexts = new HashMap<>();
        boolean quic = !tls.http3().listen().isEmpty() && Quic.isAvailable();
        for (SiteSettings site : settings.sites()) {
            SiteTls siteTls = SiteTls.of(site);
            if (siteTls != null && quic && !quicContexts.containsKey(siteTls)) {
                quicContexts.put(siteTls, quicContext(quicCertificate(siteTls.certificates()), tls));
            }
            if (siteTls != null && !contexts.containsKey(siteTls)) {
                ClientVerifier verifier = siteTls.clientVerify().asks() ? new ClientVerifier(siteTls.clientVerify())
                        : null;
                List<SslContext> siteContexts = new ArrayList<>();
                List<SslContext> siteHttp2Contexts = new ArrayList<>();
                for (TlsCertificate certificate : siteTls.certificates()) {
                    // each certificate its own stapler: its own status, asked of its own responder
                    OcspStapler stapler = stapler(certificate, provider);
                    List<SslContext> made = new ArrayList<>();
                    made.add(context(certificate, siteTls.clientVerify(), tls, ciphers, groups, provider, HTTP_1_1,
                            stapler != null));
                    siteContexts.add(made.get(0));
                    if (http2) {
                        made.add(context(certificate, siteTls.clientVerify(), tls, ciphers, groups, provider,
                                H2_FIRST, stapler != null));
                        siteHttp2Contexts.add(made.get(1));
                    }
                    for (SslContext context : made) {
                        if (verifier != null) {
                            verifiers.put(context, verifier);
                        }
                        if (stapler != null) {
                            staplers.put(context, stapler);
                        }
                    }
                }
                CertificateChoice choice = new CertificateChoice(siteTls.certificates().stream()
                        .map(certificate -> CertificateChoice.Key.of(certificate.leaf().getPublicKey())).toList(),
                        siteContexts.get(0).cipherSuites(), tls.preferServerCiphers(), tls.protocols());
                contexts.put(siteTls, new SiteContexts(List.copyOf(siteContexts), choice));
                if (http2) {
                    http2Contexts.put(siteTls, new SiteContexts(List.copyOf(siteHttp2Contexts), choice));
                }
            }
        }
        return new TlsContexts(tls, new Router(settings.sites(), settings.defaultSite()), Map.copyOf(contexts),
                Map.copyOf(http2Contexts), Map.copyOf(quicContexts), Collections.unmodifiableMap(verifiers),
                Collections.unmodifiableMap(staplers),
                provider != SslProvider.OPENSSL ? 0 : (tls.sessionTickets() ? SSL.SSL_OP_NO_TICKET : 0)
                        | (tls.preferServerCiphers() ? 0 : SSL.SSL_OP_CIPHER_SERVER_PREFERENCE));
    }

    /**
     * The one of a site's certificates its QUIC handshakes take: its ECDSA one where it has one (every HTTP/3 client
     * signs with ecdsa_secp256r1_sha256 first, which nginx's OpenSSL answers with the ECDSA certificate), else its
     * first. The QUIC library's handshake takes one certificate; no choice per client hello there.
     */
    private static TlsCertificate quicCertificate(List<TlsCertificate> certificates) {
        return certificates.stream().filter(certificate -> "EC".equals(certificate.key().getAlgorithm()))
                .findFirst().orElse(certificates.get(0));
    }

    /**
     * A QUIC handshake's context of {@code certificate}: TLS 1.3 by the QUIC library's own BoringSSL, ALPN h3, the
     * sessions of server.tls (their cache and timeout). No early data (0-RTT): a request replayed by an attacker
     * would run its script twice. No client certificate asked for: a site that requires one answers 400 over QUIC
     * ({@link ClientCertificates#refusal}: no certificate came).
     */
    private static QuicSslContext quicContext(TlsCertificate certificate, ServerSettings.Tls tls) {
        return QuicSslContextBuilder.forServer(certificate.key(), null,
                        certificate.chain().toArray(X509Certificate[]::new))
                .applicationProtocols(Http3.supportedApplicationProtocols())
                .sessionCacheSize(tls.sessionCache())
                .sessionTimeout(tls.sessionTimeout().toSeconds())
                .earlyData(false)
                .build();
    }

    /**
     * The QUIC context of a handshake to the listener of {@code listenAddress} that named {@code serverName} (null:
     * none), chosen as {@link #addTo}'s SNI handler chooses; null where this configuration has none (the listener is
     * no longer marked quic: the handshake fails).
     */
    public QuicSslContext quicContext(InetSocketAddress listenAddress, String serverName) {
        if (quicContexts.isEmpty() || router == null || !router.serves(listenAddress)) {
            return null;
        }
        SiteTls siteTls = SiteTls.of(router.site(listenAddress, serverName));
        return quicContexts.get(siteTls != null ? siteTls : SiteTls.of(router.site(listenAddress, null)));
    }

    /**
     * The stapler of {@code certificate}, or null where its status is not stapled: stapling is off, the request cannot
     * be made ({@link OcspStapler#of}), or the provider is the JDK's, whose SSLEngine staples nothing on a server.
     */
    private static OcspStapler stapler(TlsCertificate certificate, SslProvider provider) {
        if (!certificate.stapling().enabled()) {
            return null;
        }
        if (provider != SslProvider.OPENSSL || !OpenSsl.isOcspSupported()) {
            LOG.warn("tls.stapling of {}: off, stapling needs the OpenSSL provider (netty-tcnative's BoringSSL), and"
                    + " TLS is by the JDK's SSLEngine", certificate.certificateFile());
            return null;
        }
        return OcspStapler.of(certificate, Clock.systemUTC());
    }

    /** Begins fetching the OCSP responses to staple: the configuration is in force. */
    public void startStapling() {
        staplers.values().forEach(OcspStapler::start);
    }

    /** Fetches no more OCSP responses: another configuration's contexts replaced these. */
    public void stopStapling() {
        staplers.values().forEach(OcspStapler::close);
    }

    /** TLSv1.3's suites (RFC 8446), which server.tls.ciphers never names: the provider's. */
    private static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    /**
     * The suites offered by {@code key} (server.tls.ciphers, a proxy group's tls.ciphers; null for the provider's own
     * list): those it names that {@code provider} has, those it lacks (BoringSSL has no DHE suites, which Mozilla's
     * intermediate list for nginx names) left out and said, as OpenSSL skips names it lacks in nginx's ssl_ciphers;
     * then TLSv1.3's, which nginx's ssl_ciphers leaves on (a list without them would turn TLSv1.3 off).
     *
     * @throws SSLException where it has none of them
     */
    public static List<String> offered(String key, List<String> ciphers, SslProvider provider) throws SSLException {
        if (ciphers.isEmpty()) {
            return null;
        }
        List<String> offered = new ArrayList<>(provider != SslProvider.OPENSSL ? ciphers // checked with the configuration
                : those(key, ciphers, ciphers.stream().filter(OpenSsl::isCipherSuiteAvailable).toList()));
        offered.addAll(provider != SslProvider.OPENSSL ? TLS13_SUITES
                : TLS13_SUITES.stream().filter(OpenSsl::isCipherSuiteAvailable).toList());
        return offered;
    }

    /**
     * The groups of server.tls.ecdh-curve that {@code provider} has, in order (empty: its own list): those it lacks
     * (BoringSSL has no X448, no ffdhe or brainpool groups, which nginx's OpenSSL names) left out and said.
     *
     * @throws SSLException where it has none of them, or it is the JDK's, whose groups Java 17 sets for the whole JVM
     *                      alone (-Djdk.tls.namedGroups)
     */
    private static List<String> offeredGroups(List<String> groups, SslProvider provider) throws SSLException {
        if (groups.isEmpty()) {
            return groups;
        }
        if (provider != SslProvider.OPENSSL) {
            throw new SSLException("server.tls.ecdh-curve \"" + String.join(":", groups) + "\": the JDK's SSLEngine"
                    + " (netty-tcnative did not load) takes its groups from -Djdk.tls.namedGroups alone: set that"
                    + " (EDGE_JAVA_OPTS), and ecdh-curve = auto");
        }
        List<String> offered = new ArrayList<>();
        for (String group : groups) {
            if (hasGroup(group)) {
                offered.add(group);
            }
        }
        return those("server.tls.ecdh-curve", groups, offered);
    }

    /**
     * {@code offered}, those of {@code named} ({@code key}'s) that BoringSSL has; those it lacks said.
     *
     * @throws SSLException where it has none of them
     */
    private static List<String> those(String key, List<String> named, List<String> offered) throws SSLException {
        if (offered.isEmpty()) {
            throw new SSLException("none of " + key + " " + named + " is one " + OpenSsl.versionString() + " has");
        }
        if (offered.size() < named.size()) {
            LOG.info("{}: {} left out, which {} does not have", key, named.stream()
                    .filter(name -> !offered.contains(name)).toList(), OpenSsl.versionString());
        }
        return offered;
    }

    /** Whether BoringSSL takes {@code group} (by its name there) in a context's list of groups. */
    private static boolean hasGroup(String group) throws SSLException {
        long probe;
        try {
            probe = io.netty.internal.tcnative.SSLContext.make(SSL.SSL_PROTOCOL_TLSV1_2, SSL.SSL_MODE_SERVER);
        } catch (Exception e) {
            throw new SSLException("no SSL_CTX to try server.tls.ecdh-curve's " + group + " in", e);
        }
        try {
            return io.netty.internal.tcnative.SSLContext.setCurvesList(probe, group);
        } finally {
            io.netty.internal.tcnative.SSLContext.free(probe);
            // a group refused leaves its error in the thread's queue, where the next certificate parsed would find it
            SSL.clearError();
        }
    }

    /**
     * ALPN of a listener marked ssl: HTTP/1.1 alone, so a client offering h2 and http/1.1 gets http/1.1, one offering
     * h2 alone none.
     */
    private static final ApplicationProtocolConfig HTTP_1_1 = alpn(ApplicationProtocolNames.HTTP_1_1);
    /** ALPN of a listener marked http2 too: h2 where the client offers it, else http/1.1, as nginx prefers. */
    private static final ApplicationProtocolConfig H2_FIRST = alpn(ApplicationProtocolNames.HTTP_2,
            ApplicationProtocolNames.HTTP_1_1);

    private static ApplicationProtocolConfig alpn(String... protocols) {
        return new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols);
    }

    /**
     * A context of {@code siteTls}. One that asks for a client certificate asks as nginx's ssl_verify_client: the
     * handshake names the CAs of client-certificate and completes whether a certificate came or not, whatever it is
     * ({@link NamingTrustManager}); a request is refused at the HTTP level ({@link ClientCertificates#refusal}).
     */
    private static SslContext context(TlsCertificate certificate, TlsClientVerify clientVerify,
            ServerSettings.Tls tls, List<String> ciphers, List<String> groups, SslProvider provider,
            ApplicationProtocolConfig alpn, boolean stapling) throws SSLException {
        X509Certificate[] chain = certificate.chain().toArray(X509Certificate[]::new);
        // netty-tcnative asks the key manager for the key types of RSA and ECDSA suites alone: an Ed25519 key's
        // answers them all (cached as netty caches its own key material)
        SslContextBuilder builder = provider != SslProvider.JDK && !(certificate.key() instanceof RSAPrivateKey)
                && !(certificate.key() instanceof ECPrivateKey)
                ? SslContextBuilder.forServer(new OpenSslCachingX509KeyManagerFactory(new KeyManagerFactoryWrapper(
                        OneCertificateKeyManager.server(certificate.key(), chain))))
                : SslContextBuilder.forServer(certificate.key(), chain);
        if (clientVerify.asks()) {
            builder.clientAuth(ClientAuth.OPTIONAL)
                    .trustManager(new NamingTrustManager(clientVerify.named()));
        }
        if (!groups.isEmpty()) {
            builder.option(OpenSslContextOption.GROUPS, groups.toArray(String[]::new));
        }
        SslContext context = builder
                .sslProvider(provider)
                .protocols(tls.protocols())
                .ciphers(ciphers)
                .sessionTimeout(tls.sessionTimeout().toSeconds())
                .sessionCacheSize(tls.sessionCache())
                .applicationProtocolConfig(alpn)
                .enableOcsp(stapling)
                .build();
        if (context instanceof ReferenceCountedOpenSslContext openSsl) {
            sessions(openSsl, certificate, clientVerify, tls);
        }
        return context;
    }

    /**
     * How {@code context}'s sessions resume, as nginx's ssl_session_tickets and ssl_session_ticket_key: by tickets of
     * server.tls.session-ticket-keys (the first encrypting, every one decrypting, so the edges behind one balancer and
     * a restarted one resume each other's), or of BoringSSL's own key, or (tickets off) by TLSv1.2's session id alone.
     * A session is its site's: its context's session id context is a digest of the certificate and of the client
     * certificates asked for, as nginx's, so a ticket of one site (every site's sealed with the same keys) offered
     * with another's SNI name is a full handshake.
     */
    private static void sessions(ReferenceCountedOpenSslContext context, TlsCertificate certificate,
            TlsClientVerify clientVerify, ServerSettings.Tls tls) throws SSLException {
        OpenSslSessionContext sessions = context.sessionContext();
        if (sessions instanceof OpenSslServerSessionContext serverSessions) {
            serverSessions.setSessionIdContext(sessionIdContext(certificate, clientVerify));
        }
        if (tls.sessionCache() == 0) { // Netty's builder reads 0 as its default size, 20480
            sessions.setSessionCacheEnabled(false);
        }
        if (tls.sessionTickets() && !tls.sessionTicketKeys().isEmpty()) { // off: each engine's (newSslHandler)
            sessions.setTicketKeys(tls.sessionTicketKeys().stream()
                    .map(key -> new OpenSslSessionTicketKey(Arrays.copyOfRange(key, 0, 16),
                            Arrays.copyOfRange(key, 32, 48), Arrays.copyOfRange(key, 16, 32))) // nginx's: name, AES, HMAC
                    .toArray(OpenSslSessionTicketKey[]::new));
        }
    }

    /**
     * The session id context of {@code siteTls}'s contexts: SHA-256 (32 bytes) of its certificate, whether it asks for
     * a client's, and the CAs it checks one with (client-certificate's and trusted-certificate's), as nginx's: a site's
     * session resumes with no site that checks against other CAs. The depth and the CRLs are left out, as nginx's (a
     * CRL renewed by a reload ends no session): a resumed session's certificate is checked again by the connection's
     * site all the same ({@link ClientCertificates#check}).
     */
    private static byte[] sessionIdContext(TlsCertificate certificate, TlsClientVerify verify) throws SSLException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(certificate.leaf().getEncoded());
            // the count says where the CAs of client-certificate end and those of trusted-certificate begin
            digest.update(java.nio.ByteBuffer.allocate(2 * Integer.BYTES).putInt(verify.mode().ordinal())
                    .putInt(verify.named().size()).array());
            for (X509Certificate named : verify.named()) {
                digest.update(named.getEncoded());
            }
            for (X509Certificate trusted : verify.trusted()) {
                digest.update(trusted.getEncoded());
            }
            return digest.digest();
        } catch (java.security.GeneralSecurityException e) {
            throw new SSLException("no session id context of " + certificate.leaf().getSubjectX500Principal(), e);
        }
    }

    /** BoringSSL where netty-tcnative loads, else the JDK's; said once. */
    private static SslProvider provider() {
        return Provider.CHOSEN;
    }

    /** The provider, chosen and logged at the first configuration with TLS. */
    private static final class Provider {
        static final SslProvider CHOSEN = choose();

        private static SslProvider choose() {
            if (OpenSsl.isAvailable()) {
                LOG.info("TLS by {} (netty-tcnative)", OpenSsl.versionString());
                return SslProvider.OPENSSL;
            }
            LOG.info("TLS by the JDK's SSLEngine: netty-tcnative did not load ({})",
                    String.valueOf(OpenSsl.unavailabilityCause()));
            return SslProvider.JDK;
        }
    }

    /** Whether connections of the listener of {@code listenAddress} (one of server.listen, as configured) end TLS. */
    public boolean endsOn(InetSocketAddress listenAddress) {
        return settings.endsOn(listenAddress) && router != null && router.serves(listenAddress);
    }

    /** Whether the listener of {@code listenAddress} ends TLS ({@link #endsOn}) and offers h2 by ALPN (marked http2). */
    public boolean offersHttp2(InetSocketAddress listenAddress) {
        return endsOn(listenAddress) && settings.http2().offeredOn(listenAddress);
    }

    /**
     * Puts the TLS handlers of a connection of the listener of {@code listenAddress} ({@link #endsOn}) in
     * {@code pipeline} before the handler {@code before}; a handshake not done within {@code handshakeTimeout} fails.
     * Plain HTTP answered 400 goes to {@code refusedLog} (the access log), signed as {@code serverTokens} says.
     */
    public void addTo(ChannelPipeline pipeline, String before, InetSocketAddress listenAddress,
            Duration handshakeTimeout, RefusedLog refusedLog, boolean serverTokens) {
        Map<SiteTls, SiteContexts> listenerContexts = offersHttp2(listenAddress) ? http2Contexts : contexts;
        Mapping<String, SiteContexts> byName = serverName -> {
            SiteTls siteTls = SiteTls.of(router.site(listenAddress, serverName));
            // every site on the listener has one (the configuration's check); the default's for one it lacked
            return listenerContexts.get(siteTls != null ? siteTls : SiteTls.of(router.site(listenAddress, null)));
        };
        long timeoutMillis = Math.max(1, handshakeTimeout.toMillis());
        pipeline.addBefore(before, "plain-refusal", new PlainHttpRefusal(refusedLog, serverTokens));
        Mapping<String, SslContext> unread = serverName -> byName.map(serverName).answering(null);
        pipeline.addBefore(before, "tls", new SniHandler(unread, timeoutMillis) {
            /**
             * The body of the client hello being looked up (the SNI handler's, held only while its lookup runs, which
             * calls the lookup by name within it), which decides among the certificates of the SNI name's site.
             */
            private ByteBuf clientHello;

            @Override
            protected Future<SslContext> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) throws Exception {
                this.clientHello = clientHello;
                try {
                    return super.lookup(ctx, clientHello);
                } finally {
                    this.clientHello = null;
                }
            }

            @Override
            protected Future<SslContext> lookup(ChannelHandlerContext ctx, String hostname) {
                return ctx.executor().newSucceededFuture(byName.map(hostname).answering(clientHello));
            }

            @Override
            protected void replaceHandler(ChannelHandlerContext ctx, String hostname, SslContext context)
                    throws Exception {
                // the handshake's site decides whether a certificate is asked for, and how it is checked
                ClientVerifier verifier = verifiers.get(context);
                if (verifier != null) {
                    ctx.channel().attr(ClientCertificates.VERIFIER).set(verifier);
                }
                super.replaceHandler(ctx, hostname, context);
            }

            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                SslHandler handler = super.newSslHandler(context, allocator);
                if (handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
                    long ssl = engine.sslPointer();
                    if (clearedOptions != 0) {
                        SSL.clearOptions(ssl, clearedOptions);
                    }
                    if (!settings.sessionTickets()) {
                        SSL.setOptions(ssl, SSL.SSL_OP_NO_TICKET);
                    }
                } else {
                    SSLParameters parameters = handler.engine().getSSLParameters();
                    parameters.setUseCipherSuitesOrder(settings.preferServerCiphers());
                    handler.engine().setSSLParameters(parameters);
                }
                handler.setHandshakeTimeoutMillis(timeoutMillis);
                OcspStapler stapler = staplers.get(context);
                byte[] staple = stapler == null ? null : stapler.staple();
                if (staple != null && handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
                    engine.setOcspResponse(staple); // sent where the client hello asks for it (status_request)
                }
                return handler;
            }
        });
        pipeline.addBefore(before, "tls-events", new TlsEvents());
        pipeline.addBefore(before, "file-regions", new FileRegionReader());
    }

    /**
     * The handler of a QUIC connection's TLS events, first in its pipeline: notes the SNI name its client hello named
     * ({@link #serverName}: {@code $ssl_server_name}), as on TCP.
     */
    public static ChannelHandler quicEvents() {
        return new TlsEvents();
    }

    /**
     * The reader of file regions of an HTTP/2 stream, put after its HTTP/1 codec: its pieces go as body parts, so a
     * file goes in pieces that heed the stream's flow control (its channel's writability) as on a TLS connection.
     */
    public static ChannelHandler streamFileRegions() {
        return new FileRegionReader(DefaultHttpContent::new);
    }

    /** The access log of plain HTTP sent to a TLS listener, answered 400 as nginx answers it. */
    public interface RefusedLog {
        /**
         * @param requestLine what came of its request line, "-" for none
         * @param referer     its Referer, or null
         * @param userAgent   its User-Agent, or null
         */
        void log(String requestLine, String referer, String userAgent, long bodyBytes, long startNanos);
    }

    /** The TLS session of {@code clientChannel}, or null: a plain connection, or a handshake not done. */
    public static SSLSession session(Channel clientChannel) {
        Channel connection = connectionOf(clientChannel);
        if (connection instanceof QuicChannel quic) { // its requests come once its handshake is done
            return quic.sslEngine() == null ? null : quic.sslEngine().getSession();
        }
        SslHandler handler = connection.pipeline().get(SslHandler.class);
        return handler == null || !handler.handshakeFuture().isSuccess() ? null : handler.engine().getSession();
    }

    /** Whether {@code clientChannel} ends TLS: it began with the handlers of {@link #addTo}, or it is QUIC's. */
    public static boolean endsTls(Channel clientChannel) {
        Channel connection = connectionOf(clientChannel);
        return connection instanceof QuicChannel || connection.pipeline().get(SslHandler.class) != null;
    }

    /** The connection {@code clientChannel} is on: itself, or an HTTP/2 or HTTP/3 stream's parent. */
    static Channel connectionOf(Channel clientChannel) {
        return clientChannel instanceof Http2StreamChannel || clientChannel instanceof QuicStreamChannel
                ? clientChannel.parent() : clientChannel;
    }

    /** The SNI name {@code clientChannel}'s client hello named, or null. */
    public static String serverName(Channel clientChannel) {
        return connectionOf(clientChannel).attr(SERVER_NAME).get();
    }
}
