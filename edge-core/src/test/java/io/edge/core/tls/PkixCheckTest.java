package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A chain's CRL check in OpenSSL's words, as nginx logs it for proxy_ssl_crl and ssl_crl. */
class PkixCheckTest {

    @TempDir
    Path dir;

    @Test
    void aCrlOutOfDateOrNotSignedByTheIssuerIsSaidAsOpenSslSaysIt() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSignedByCa("ca", "/CN=Backend CA", "20200101000000Z", "20991231000000Z");
        certificates.signedByCa("leaf", "ca", "/CN=api.internal", null, null);
        certificates.crl("ca");
        for (String[] dates : new String[][] {{"expired", "20200101000000Z", "20200102000000Z"},
                {"future", "20981231000000Z", "20991231000000Z"}}) {
            certificates.openssl("ca", "-batch", "-config", "ca-ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                    "-gencrl", "-crl_lastupdate", dates[1], "-crl_nextupdate", dates[2], "-out", dates[0] + ".crl");
        }
        // a CA of the same name and another key: its CRL is no CRL of the leaf's issuer
        certificates.selfSignedByCa("forger", "/CN=Backend CA", "20200101000000Z", "20991231000000Z");
        certificates.crl("forger");
        certificates.selfSignedByCa("other", "/CN=Other CA", "20200101000000Z", "20991231000000Z");
        certificates.crl("other");
        X509Certificate ca = certificates.certificate("ca");
        List<X509Certificate> path = List.of(certificates.certificate("leaf"));

        assertThat(PkixCheck.failure(path, ca, crls(certificates, "ca.crl"))).isNull();
        // openssl verify -crl_check_all and nginx 1.22's proxy_ssl_crl ("upstream SSL certificate verify error:
        // (12:CRL has expired)"): edge said "3:unable to get certificate CRL" for each
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "expired.crl"))).isEqualTo("12:CRL has expired");
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "future.crl"))).isEqualTo("11:CRL is not yet valid");
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "forger.crl")))
                .isEqualTo("8:CRL signature failure");
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "other.crl")))
                .isEqualTo("3:unable to get certificate CRL");
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "forger.crl", "expired.crl")))
                .isEqualTo("12:CRL has expired");
    }

    @Test
    void aCrlIsOutOfDateTheSecondItsNextUpdateIsPastOrBeforeItsThisUpdateWithNoSkewAsOpenSslJudgesIt()
            throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSignedByCa("ca", "/CN=Backend CA", "20200101000000Z", "20991231000000Z");
        certificates.signedByCa("leaf", "ca", "/CN=api.internal", "20200101000000Z", "20991231000000Z");
        Instant now = Instant.now();
        DateTimeFormatter asn1 = DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);
        for (Object[] dates : new Object[][] {{"expired", now.minus(Duration.ofHours(1)),
                now.minus(Duration.ofMinutes(5))}, {"future", now.plus(Duration.ofMinutes(5)),
                now.plus(Duration.ofHours(1))}, {"current", now.minus(Duration.ofMinutes(5)),
                now.plus(Duration.ofMinutes(5))}}) {
            certificates.openssl("ca", "-batch", "-config", "ca-ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                    "-gencrl", "-crl_lastupdate", asn1.format((Instant) dates[1]), "-crl_nextupdate",
                    asn1.format((Instant) dates[2]), "-out", dates[0] + ".crl");
        }
        X509Certificate ca = certificates.certificate("ca");
        List<X509Certificate> path = List.of(certificates.certificate("leaf"));

        // openssl verify -crl_check_all (OpenSSL 3.0) refuses the first two, as nginx 1.22 does; the JDK's revocation
        // checker, which edge used, grants 15 minutes either side and passed both
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "expired.crl"))).isEqualTo("12:CRL has expired");
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "future.crl"))).isEqualTo("11:CRL is not yet valid");
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "current.crl"))).isNull();
    }

    @Test
    void aCertificateOnItsIssuersCrlIsRevokedAndOneOnAnotherCasCrlIsNot() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSignedByCa("ca", "/CN=Backend CA", "20200101000000Z", "20991231000000Z");
        certificates.intermediateByCa("intermediate", "ca", "/CN=Backend Intermediate");
        certificates.signedByCa("revoked", "intermediate", "/CN=revoked.internal", null, null);
        certificates.signedByCa("kept", "intermediate", "/CN=kept.internal", null, null);
        certificates.revoke("revoked", "intermediate");
        certificates.crl("intermediate");
        certificates.crl("ca");
        X509Certificate ca = certificates.certificate("ca");
        X509Certificate intermediate = certificates.certificate("intermediate");
        List<X509CRL> both = crls(certificates, "ca.crl", "intermediate.crl");

        assertThat(PkixCheck.failure(List.of(certificates.certificate("revoked"), intermediate), ca, both))
                .isEqualTo("23:certificate revoked");
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept"), intermediate), ca, both)).isNull();
        // every certificate of the chain on a CRL of its issuer's: the intermediate's own is the root's
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept"), intermediate), ca,
                crls(certificates, "intermediate.crl"))).isEqualTo("3:unable to get certificate CRL");
    }

    private static List<X509CRL> crls(TestCertificates certificates, String... files) throws Exception {
        X509CRL[] crls = new X509CRL[files.length];
        for (int i = 0; i < files.length; i++) {
            crls[i] = certificates.revocationList(files[i]);
        }
        return List.of(crls);
    }
}
