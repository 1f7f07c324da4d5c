package io.edge.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.core.tls.TestCertificates;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.tls.RevocationList;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backend's name checked against its certificate, as OpenSSL's X509_check_host that nginx's proxy_ssl_verify uses. */
class BackendTlsTest {

    @TempDir
    Path dir;

    @Test
    void aNameMatchesADnsOrIpAlternativeNameAWildcardOneLabelAndTheCnOnlyWithoutDnsNames() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSigned("ca", "/CN=CA");
        certificates.signed("alt", "ca", "/CN=cn.internal", "subjectAltName=DNS:api.internal,DNS:*.svc.internal,"
                + "IP:10.0.0.7");
        certificates.signed("cn", "ca", "/CN=cn.internal", null);
        X509Certificate alt = certificates.certificate("alt");
        X509Certificate cn = certificates.certificate("cn");

        assertThat(BackendTls.names(alt, "api.internal")).isTrue();
        assertThat(BackendTls.names(alt, "API.Internal")).isTrue();
        assertThat(BackendTls.names(alt, "a.svc.internal")).isTrue();
        assertThat(BackendTls.names(alt, "a.b.svc.internal")).as("a wildcard is one label").isFalse();
        assertThat(BackendTls.names(alt, "svc.internal")).isFalse();
        assertThat(BackendTls.names(alt, "10.0.0.7")).isTrue();
        assertThat(BackendTls.names(alt, "10.0.0.8")).isFalse();
        assertThat(BackendTls.names(alt, "cn.internal")).as("the CN is not looked at beside DNS names").isFalse();
        assertThat(BackendTls.names(cn, "cn.internal")).isTrue();
        assertThat(BackendTls.names(cn, "other.internal")).isFalse();
    }

    @Test
    void verifyDepthBoundsTheCertificatesAboveTheBackendsAsNginxsProxySslVerifyDepth() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSigned("ca", "/CN=CA");
        certificates.intermediate("inter", "ca", "/CN=Intermediate");
        certificates.signed("leaf", "inter", "/CN=api.internal", "subjectAltName=DNS:api.internal");
        X509Certificate ca = certificates.certificate("ca");
        X509Certificate[] chain = {certificates.certificate("leaf"), certificates.certificate("inter")};

        // nginx 1.22 with proxy_ssl_verify_depth 1 takes a backend sending its certificate and one intermediate
        // CA's (200), refuses it with 0 (502, "unable to get local issuer certificate")
        assertThatThrownBy(() -> checking(ca, 0, "api.internal").checkServerTrusted(chain, "RSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("verify-depth 0");
        checking(ca, 1, "api.internal").checkServerTrusted(chain, "RSA");
        checking(ca, 2, "api.internal").checkServerTrusted(chain, "RSA");
        certificates.signed("direct", "ca", "/CN=api.internal", "subjectAltName=DNS:api.internal");
        checking(ca, 0, "api.internal").checkServerTrusted(new X509Certificate[] {certificates.certificate("direct")},
                "RSA");
        assertThatThrownBy(() -> checking(ca, 2, "web.internal").checkServerTrusted(chain, "RSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("does not match \"web.internal\"");
        assertThatThrownBy(() -> checking(certificates.certificate("inter"), 2, "api.internal")
                .checkServerTrusted(new X509Certificate[] {certificates.certificate("inter")}, "RSA"))
                .as("the backend's certificate must be its own").isInstanceOf(CertificateException.class);
    }

    @Test
    void aWildcardNeedsTwoLabelsAfterItAndStandsForPartOfTheFirstLabelAsOpenSsls() {
        // nginx 1.22 refuses a backend whose only name is DNS:*.com for proxy_ssl_name example.com (502, "upstream
        // SSL certificate does not match")
        assertThat(BackendTls.dnsMatches("*.com", "example.com")).isFalse();
        assertThat(BackendTls.dnsMatches("*.internal", "api.internal")).isFalse();
        assertThat(BackendTls.dnsMatches("*.com", "*.com")).as("a literal name").isTrue();
        assertThat(BackendTls.dnsMatches("*.example.com", "a.example.com")).isTrue();
        assertThat(BackendTls.dnsMatches("*.example.com", "xn--bcher-kva.example.com")).isTrue();
        assertThat(BackendTls.dnsMatches("*.example.com", "a.b.example.com")).isFalse();
        assertThat(BackendTls.dnsMatches("*.example.com", "example.com")).isFalse();
        assertThat(BackendTls.dnsMatches("api*.example.com", "api2.example.com")).isTrue();
        assertThat(BackendTls.dnsMatches("api*.example.com", "api.example.com")).isTrue();
        assertThat(BackendTls.dnsMatches("api*.example.com", "web.example.com")).isFalse();
        assertThat(BackendTls.dnsMatches("a.*.example.com", "a.b.example.com")).as("not in the first label").isFalse();
        assertThat(BackendTls.dnsMatches("**.example.com", "a.example.com")).isFalse();
        assertThat(BackendTls.dnsMatches("xn--*.example.com", "xn--a.example.com")).isFalse();
    }

    @Test
    void anIntermediateOfTheTrustedFileIsCheckedAgainstItsRootsCrlAsOpenSslBuildsTheChainToTheRoot() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSigned("root", "/CN=Root");
        certificates.intermediateByCa("inter", "root", "/CN=Intermediate");
        certificates.signedByCa("leaf", "inter", "/CN=api.internal", null, null);
        certificates.crl("root");
        RevocationList rootClean = certificates.revocationList("root.crl");
        certificates.revoke("inter", "root");
        certificates.crl("root");
        certificates.crl("inter");
        RevocationList rootRevoking = certificates.revocationList("root.crl");
        RevocationList inter = certificates.revocationList("inter.crl");
        X509Certificate leaf = certificates.certificate("leaf");
        X509Certificate intermediate = certificates.certificate("inter");
        List<X509Certificate> bundle = List.of(intermediate, certificates.certificate("root"));

        // nginx 1.22 with proxy_ssl_trusted_certificate of the intermediate and the root, proxy_ssl_crl of both CAs'
        // CRLs, the root's revoking the intermediate: 502, "(23:certificate revoked)", whether the backend sends its
        // certificate alone or the intermediate's too (edge took both: its check stopped at the trusted intermediate)
        for (X509Certificate[] chain : List.of(new X509Certificate[] {leaf},
                new X509Certificate[] {leaf, intermediate})) {
            assertThatThrownBy(() -> checking(bundle, List.of(rootRevoking, inter)).checkServerTrusted(chain, "RSA"))
                    .isInstanceOf(CertificateException.class).hasMessage("23:certificate revoked");
            // the root's CRL left out: "unable to get certificate CRL", as OpenSSL's CRL_CHECK_ALL
            assertThatThrownBy(() -> checking(bundle, List.of(inter)).checkServerTrusted(chain, "RSA"))
                    .isInstanceOf(CertificateException.class).hasMessage("3:unable to get certificate CRL");
            checking(bundle, List.of(rootClean, inter)).checkServerTrusted(chain, "RSA");
        }
    }

    @Test
    void aVerifiedBackendsChainIsCheckedOffTheEventLoop() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSigned("ca", "/CN=CA");
        certificates.signedByCa("backend", "ca", "/CN=api.internal", null, null);
        certificates.crl("ca");
        Process server = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                certificates.file("backend.pem").toString(), "-key", certificates.file("backend.key").toString(),
                "-naccept", "1", "-www").redirectErrorStream(true).start();
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                    new java.io.InputStreamReader(server.getInputStream()));
            int port = 0;
            for (String line; port == 0 && (line = out.readLine()) != null; ) {
                java.util.regex.Matcher accept = java.util.regex.Pattern.compile("ACCEPT 127\\.0\\.0\\.1:(\\d+)")
                        .matcher(line);
                port = accept.find() ? Integer.parseInt(accept.group(1)) : 0;
            }
            BackendGroupSettings.Tls tls = new BackendGroupSettings.Tls(true, List.of(certificates.certificate("ca")),
                    1, false, "api.internal", List.of("TLSv1.2", "TLSv1.3"), true, List.of(), List.of(), null,
                    List.of(certificates.revocationList("ca.crl")));
            Duration second = Duration.ofSeconds(1);
            BackendTls setup = (BackendTls) BackendTls.of(new BackendGroupSettings("api", List.of("127.0.0.1:" + port),
                    BackendGroupSettings.Balance.ROUND_ROBIN, 1, new BackendGroupSettings.Queue(1, second, second),
                    new BackendGroupSettings.Timeouts(Duration.ofSeconds(20), second, second),
                    new BackendGroupSettings.KeepAlive(true, second, 0), new BackendGroupSettings.Health(0, second),
                    null, new BackendGroupSettings.ResponseBuffer(64 * 1024, 0), false, tls));
            Channel channel = new Bootstrap().group(loops).channel(EpollSocketChannel.class)
                    .handler(new ChannelInboundHandlerAdapter()).connect("127.0.0.1", port).sync().channel();
            try {
                // the check, signatures and CRLs, on the checks' threads: the event loop serves its other
                // connections meanwhile (it ran on the loop, as nginx's worker checks in its own loop)
                io.netty.util.concurrent.Future<?> handshake = setup.setUp(channel);
                assertThat(handshake.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(handshake.cause()).isNull();
                assertThat(setup.checking.checkedOn).isNotNull();
                assertThat(channel.eventLoop().inEventLoop(setup.checking.checkedOn)).isFalse();
                assertThat(setup.checking.checkedOn.getName()).startsWith("edge-backend-cert");
            } finally {
                channel.close().sync();
            }
        } finally {
            loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static BackendTls.NameChecking checking(List<X509Certificate> trusted, List<RevocationList> revocations)
            throws Exception {
        BackendGroupSettings.Tls tls = new BackendGroupSettings.Tls(true, trusted, 1, false, "api.internal",
                List.of("TLSv1.3"), true, List.of(), List.of(), null, revocations);
        return new BackendTls.NameChecking(tls, BackendTls.trustManager(tls.trusted()));
    }

    private static BackendTls.NameChecking checking(X509Certificate ca, int depth, String name) throws Exception {
        BackendGroupSettings.Tls tls = new BackendGroupSettings.Tls(true, List.of(ca), depth, false, name,
                List.of("TLSv1.3"), true);
        return new BackendTls.NameChecking(tls, BackendTls.trustManager(tls.trusted()));
    }
}
