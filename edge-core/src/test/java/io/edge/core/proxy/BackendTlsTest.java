package io.edge.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.core.tls.TestCertificates;
import io.edge.fastcgi.BackendGroupSettings;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
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

        assertThatThrownBy(() -> checking(ca, 1, "api.internal").checkServerTrusted(chain, "RSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("verify-depth 1");
        checking(ca, 2, "api.internal").checkServerTrusted(chain, "RSA");
        assertThatThrownBy(() -> checking(ca, 2, "web.internal").checkServerTrusted(chain, "RSA"))
                .isInstanceOf(CertificateException.class).hasMessageContaining("does not match \"web.internal\"");
        assertThatThrownBy(() -> checking(certificates.certificate("inter"), 2, "api.internal")
                .checkServerTrusted(new X509Certificate[] {certificates.certificate("inter")}, "RSA"))
                .as("the backend's certificate must be its own").isInstanceOf(CertificateException.class);
    }

    private static BackendTls.NameChecking checking(X509Certificate ca, int depth, String name) throws Exception {
        BackendGroupSettings.Tls tls = new BackendGroupSettings.Tls(true, List.of(ca), depth, false, name,
                List.of("TLSv1.3"), true);
        return new BackendTls.NameChecking(tls, BackendTls.trustManager(tls.trusted()));
    }
}
