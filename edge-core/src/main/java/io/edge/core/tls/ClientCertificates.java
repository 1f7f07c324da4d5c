package io.edge.core.tls;

import io.edge.conf.SiteSettings;
import io.edge.conf.TlsClientVerify;
import io.edge.core.http.RequestTarget;
import io.edge.core.route.Router;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TLS connection's client certificate, as nginx's ssl_verify_client has it: whether a request of a site may be
 * served on the connection ({@link #refusal}), and nginx's {@code $ssl_client_*} variables of it. The check is made
 * once, off the event loop, as the connection's first request comes ({@link #check}), from the certificates the
 * session holds, by the checker of the context whose handshake the connection made (the SNI name's site's:
 * {@link TlsContexts}).
 */
public final class ClientCertificates {

    /** The checker of the connection's handshake's context, where that context asked for a certificate. */
    static final AttributeKey<ClientVerifier> VERIFIER = AttributeKey.valueOf("edge.tls.client-verifier");
    /** What came of the check, once made. */
    private static final AttributeKey<ClientVerification> VERIFICATION =
            AttributeKey.valueOf("edge.tls.client-verification");
    /** The check under way ({@link #check}), shared by the connection's streams. */
    private static final AttributeKey<CompletableFuture<ClientVerification>> CHECK =
            AttributeKey.valueOf("edge.tls.client-check");
    private static final Logger LOG = LoggerFactory.getLogger(ClientCertificates.class);
    private static final Executor CHECKS = checks();

    /** OpenSSL's names of attributes the JDK writes as OIDs in RFC 2253 (XN_FLAG_RFC2253 uses its short names). */
    private static final Map<String, String> OPENSSL_NAMES = Map.ofEntries(
            Map.entry("1.2.840.113549.1.9.1", "emailAddress"), Map.entry("2.5.4.5", "serialNumber"),
            Map.entry("2.5.4.4", "SN"), Map.entry("2.5.4.42", "GN"), Map.entry("2.5.4.12", "title"),
            Map.entry("2.5.4.43", "initials"), Map.entry("2.5.4.46", "dnQualifier"),
            Map.entry("2.5.4.65", "pseudonym"), Map.entry("2.5.4.13", "description"),
            Map.entry("2.5.4.17", "postalCode"), Map.entry("2.5.4.9", "street"), Map.entry("2.5.4.15",
                    "businessCategory"), Map.entry("2.5.4.97", "organizationIdentifier"),
            Map.entry("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"));
    /** ASN1_TIME_print's form, nginx's $ssl_client_v_start: "Dec  6 13:05:00 2026 GMT". */
    private static final DateTimeFormatter OPENSSL_TIME = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss yyyy 'GMT'",
            Locale.ROOT).withZone(ZoneOffset.UTC);

    private ClientCertificates() {
    }

    /** Why a request of a site may not be served on a connection, as nginx answers it. */
    public enum Refusal {
        /** The Host names a site that asks for certificates, not the SNI name's: 421, its check not this site's. */
        MISDIRECTED,
        /** ssl_verify_client on, and no certificate came: 400 "No required SSL certificate was sent" (nginx's 496). */
        NO_CERTIFICATE,
        /** A certificate came and failed its check: 400 "The SSL certificate error" (nginx's 495). */
        CERTIFICATE_ERROR
    }

    /**
     * Why {@code site}, which {@code hostHeader} routed a request of {@code clientChannel} to, may not serve it, or
     * null: as nginx, a Host other than the SNI name naming a site that asks for certificates is misdirected (its
     * certificate, if any, was asked for and checked by the SNI name's site); a connection without a certificate
     * refused where the site says on; one whose certificate failed refused where it says on or optional, and where it
     * says optional_no_ca but for want of a trusted CA.
     *
     * <p>A request without a Host (HTTP/1.0) went to the default site, not the SNI name's: where the SNI name was
     * given it is misdirected too, as nginx 1.22's ngx_http_set_virtual_server compares the empty host with the SNI
     * name (and answers 421 where the default server verifies). Else another site's CA would stand for the default's.
     * Both names are compared as the router reads them: a trailing dot or capitals in either name no other site.
     *
     * <p>Without an SNI name the default site's handshake asked for the certificate and its CAs checked it: where the
     * Host names a site that verifies otherwise (other CAs, depth or CRLs), a certificate that came is not held to be that site's, and the request
     * is misdirected too (the client may try again with the name). nginx 1.22 serves it on the default server's
     * verification, so a certificate of the default's CA reached every site that verifies: a deliberate difference.
     */
    public static Refusal refusal(Channel clientChannel, SiteSettings site, String hostHeader) {
        if (site == null || !site.clientVerify().asks() || TlsContexts.session(clientChannel) == null) {
            return null;
        }
        String serverName = TlsContexts.serverName(clientChannel);
        if (serverName != null && (hostHeader == null || hostHeader.isEmpty()
                || !Router.hostName(serverName).equals(Router.hostName(hostHeader)))) {
            return Refusal.MISDIRECTED;
        }
        ClientVerification verification = verification(clientChannel);
        if (serverName == null && verification.sent() && !checksAlike(site.clientVerify(),
                verifierSettings(clientChannel))) {
            return Refusal.MISDIRECTED;
        }
        TlsClientVerify.Mode mode = site.clientVerify().mode();
        if (verification.failed() && !(mode == TlsClientVerify.Mode.OPTIONAL_NO_CA
                && verification.failedForWantOfCa())) {
            return Refusal.CERTIFICATE_ERROR;
        }
        return !verification.sent() && mode == TlsClientVerify.Mode.ON ? Refusal.NO_CERTIFICATE : null;
    }

    /**
     * Whether {@code checked} (null: none) checks a certificate as {@code site} would: its CAs, depth, CRLs and OCSP.
     */
    private static boolean checksAlike(TlsClientVerify site, TlsClientVerify checked) {
        return checked != null && site.named().equals(checked.named()) && site.trusted().equals(checked.trusted())
                && site.depth() == checked.depth() && site.revocations().equals(checked.revocations())
                && site.ocsp().equals(checked.ocsp());
    }

    /** The settings the certificate of {@code clientChannel}'s connection was checked by, null where none asked. */
    private static TlsClientVerify verifierSettings(Channel clientChannel) {
        ClientVerifier verifier = TlsContexts.connectionOf(clientChannel).attr(VERIFIER).get();
        return verifier == null ? null : verifier.settings();
    }

    /**
     * The client certificate of {@code clientChannel}'s connection and what came of its check: {@link
     * ClientVerification#NONE} on a plain connection, one whose handshake asked for none, or where none came. Never
     * checked here: {@link #check} makes the check off the event loop, and a request waits for it before it is served
     * (HttpConnectionHandler); what asks before it is made (a head cut's log line) is told NONE.
     */
    public static ClientVerification verification(Channel clientChannel) {
        ClientVerification known = TlsContexts.connectionOf(clientChannel).attr(VERIFICATION).get();
        return known != null ? known : ClientVerification.NONE;
    }

    /**
     * The check of {@code clientChannel}'s connection's certificate, to wait for before one of its requests is served:
     * null where there is none to wait for (made already; a plain connection, a handshake that asked for none or not
     * done yet, no certificate sent), else the check under way, begun now where it was not. The chain is checked on
     * the certificate-check threads, never on an event loop (a client's chain costs signature checks, CRL look-ups: up
     * to milliseconds, which every other connection of the loop would wait out); it completes on the connection's
     * loop, its result kept for the connection ({@link #verification}). One check a connection: HTTP/2 streams that
     * come while it runs wait for the same one. A client gone before its turn is not checked (the check is cancelled).
     */
    public static CompletableFuture<ClientVerification> check(Channel clientChannel) {
        Channel connection = TlsContexts.connectionOf(clientChannel);
        if (!connection.hasAttr(VERIFIER)) {
            // a plain connection (every request of one asks), or a handshake that asked for none, or not yet: one
            // look-up, nothing made (attr would add the key to every connection)
            return null;
        }
        if (connection.attr(VERIFICATION).get() != null) {
            return null;
        }
        CompletableFuture<ClientVerification> running = connection.attr(CHECK).get();
        if (running != null) {
            return running;
        }
        ClientVerifier verifier = connection.attr(VERIFIER).get();
        SSLSession session = TlsContexts.session(connection);
        if (verifier == null || session == null) {
            return null; // not kept: a handshake not done yet may still bring one
        }
        Certificate[] sent;
        try {
            sent = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException none) {
            sent = null;
        }
        if (sent == null || sent.length == 0) {
            connection.attr(VERIFICATION).set(ClientVerification.NONE);
            return null;
        }
        CompletableFuture<ClientVerification> check = new CompletableFuture<>();
        connection.attr(CHECK).set(check);
        Certificate[] chain = sent;
        CHECKS.execute(() -> {
            if (!connection.isActive()) {
                check.cancel(false); // its client left while it waited
                return;
            }
            ClientVerifier.Verified verified;
            try {
                verified = verifier.verified(chain);
            } catch (RuntimeException e) {
                LOG.warn("client certificate of {} could not be checked", connection.remoteAddress(), e);
                verified = ClientVerifier.Verified.failed(ClientVerification.failed((X509Certificate) chain[0],
                        ClientVerifier.UNSPECIFIED));
            }
            ClientVerification verification = verified.verification();
            if (verifier.ocsp() == null || verification.failed()) {
                made(connection, check, verification);
                return;
            }
            // a verified chain's OCSP check, as nginx's ssl_ocsp: the request waits for the responders' answers, an
            // exchange ending with the connection (the listener dropped once they came: a kept-alive connection would
            // hold every answer's bytes through it)
            CompletableFuture<Void> gone = new CompletableFuture<>();
            ChannelFutureListener leaving = closed -> gone.complete(null);
            connection.closeFuture().addListener(leaving);
            verifier.ocsp().check(verified.chain(), gone).thenAccept(error -> {
                connection.closeFuture().removeListener(leaving);
                made(connection, check, error == 0 ? verification
                        : ClientVerification.failed(verification.certificate(), error));
            });
        });
        return check;
    }

    /** Keeps {@code verification} for {@code connection} and completes its {@code check}, on its event loop. */
    private static void made(Channel connection, CompletableFuture<ClientVerification> check,
            ClientVerification verification) {
        LOG.debug("client certificate of {} checked: {}", connection.remoteAddress(), verification.verifyVariable());
        try {
            connection.eventLoop().execute(() -> {
                connection.attr(VERIFICATION).set(verification);
                check.complete(verification);
            });
        } catch (RejectedExecutionException stopped) {
            check.cancel(false); // the server stopped meanwhile: its connections with it
        }
    }

    /**
     * The threads that check client certificates: two, as a chain's check is CPU alone (no blocking) and at most one
     * a connection waits (one a TLS handshake made, which costs the client as much). Daemons, named as edge's other
     * threads, gone when idle.
     */
    private static Executor checks() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("edge-client-cert", true));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** nginx's {@code $ssl_client_*} variable {@code name} of {@code clientChannel}'s connection: "" without one. */
    public static String variable(Channel clientChannel, String name) {
        ClientVerification verification = clientChannel == null ? ClientVerification.NONE
                : verification(clientChannel);
        if (name.equals("ssl_client_verify")) {
            return clientChannel == null || TlsContexts.session(clientChannel) == null ? ""
                    : verification.verifyVariable();
        }
        X509Certificate certificate = verification.certificate();
        if (certificate == null) {
            return "";
        }
        return switch (name) {
            case "ssl_client_s_dn" -> rfc2253(certificate.getSubjectX500Principal());
            case "ssl_client_i_dn" -> rfc2253(certificate.getIssuerX500Principal());
            case "ssl_client_serial" -> serial(certificate);
            case "ssl_client_fingerprint" -> fingerprint(certificate);
            case "ssl_client_raw_cert" -> pem(certificate);
            // nginx's deprecated form: each line but the first begins with a tab, no newline at the end
            case "ssl_client_cert" -> pem(certificate).stripTrailing().replace("\n", "\n\t");
            case "ssl_client_escaped_cert" -> RequestTarget.encodeComponent(pem(certificate));
            case "ssl_client_v_start" -> OPENSSL_TIME.format(certificate.getNotBefore().toInstant());
            case "ssl_client_v_end" -> OPENSSL_TIME.format(certificate.getNotAfter().toInstant());
            case "ssl_client_v_remain" -> remain(certificate);
            default -> throw new IllegalArgumentException("no variable $" + name); // the configuration checked them
        };
    }

    /**
     * A name as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253 writes it, nginx's since 1.11.6: the JDK's RFC 2253
     * form with OpenSSL's short names, and each byte of a character past ASCII (UTF-8) or a control one escaped as
     * {@code \XX}, as OpenSSL's ESC_MSB and ESC_CTRL escape them. The JDK escapes "=" and "#" anywhere in a value,
     * OpenSSL a "#" that begins one alone: those escapes are taken out ("O=F=G#H", as nginx 1.22 said it).
     */
    static String rfc2253(X500Principal name) {
        String written = name.getName(X500Principal.RFC2253, OPENSSL_NAMES);
        StringBuilder escaped = new StringBuilder(written.length());
        boolean inType = true; // an attribute's type, before its "="
        boolean valueStarts = false;
        for (int i = 0; i < written.length(); i++) {
            char c = written.charAt(i);
            boolean startsValue = valueStarts;
            valueStarts = c == '=' && inType;
            if (c == '\\' && i + 1 < written.length()) {
                char next = written.charAt(++i);
                if (next != '=' && (next != '#' || startsValue)) {
                    escaped.append(c);
                }
                escaped.append(next);
                continue;
            }
            if (valueStarts || c == ',' || c == '+') {
                inType = !valueStarts;
            }
            if (c >= 0x20 && c < 0x7f) {
                escaped.append(c);
                continue;
            }
            int end = Character.isHighSurrogate(c) && i + 1 < written.length() ? i + 2 : i + 1;
            for (byte b : written.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                escaped.append('\\').append(HexFormat.of().withUpperCase().toHexDigits(b));
            }
            i = end - 1;
        }
        return escaped.toString();
    }

    /** The serial number in upper-case hex, two digits a byte, as OpenSSL's i2a_ASN1_INTEGER writes it. */
    private static String serial(X509Certificate certificate) {
        String hex = certificate.getSerialNumber().abs().toString(16).toUpperCase(Locale.ROOT);
        return (certificate.getSerialNumber().signum() < 0 ? "-" : "") + (hex.length() % 2 == 1 ? "0" + hex : hex);
    }

    /** The SHA-1 of the certificate's DER in lower-case hex, nginx's $ssl_client_fingerprint. */
    private static String fingerprint(X509Certificate certificate) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException(e); // every JDK has SHA-1; a certificate that came was encoded
        }
    }

    /** The certificate in PEM, as PEM_write_bio_X509 writes it. */
    private static String pem(X509Certificate certificate) {
        try {
            return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
                    .encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whole days until the certificate expires, 0 within the last one or past it, as nginx's $ssl_client_v_remain. */
    private static String remain(X509Certificate certificate) {
        long seconds = certificate.getNotAfter().toInstant().getEpochSecond() - Instant.now().getEpochSecond();
        return Long.toString(seconds < 86_400 ? 0 : seconds / 86_400);
    }
}
