package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.tls.RevocationList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
        List<RevocationList> both = crls(certificates, "ca.crl", "intermediate.crl");

        assertThat(PkixCheck.failure(List.of(certificates.certificate("revoked"), intermediate), ca, both))
                .isEqualTo("23:certificate revoked");
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept"), intermediate), ca, both)).isNull();
        // every certificate of the chain on a CRL of its issuer's: the intermediate's own is the root's
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept"), intermediate), ca,
                crls(certificates, "intermediate.crl"))).isEqualTo("3:unable to get certificate CRL");
    }

    /**
     * Of two CRLs of the same CA, both in date, OpenSSL takes the newer (get_crl_sk: of those scored alike, the latest
     * lastUpdate), whatever their order in the file: a CRL file that holds the CRL before the one revoking a client.
     */
    @Test
    void ofTwoCrlsOfTheIssuerInDateTheNewerSaysWhetherTheCertificateIsRevokedWhateverTheirOrder() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSignedByCa("ca", "/CN=Client CA", "20200101000000Z", "20991231000000Z");
        certificates.signedByCa("leaf", "ca", "/CN=revoked.client", null, null);
        certificates.openssl("ca", "-batch", "-config", "ca-ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                "-gencrl", "-crl_lastupdate", "20240101000000Z", "-out", "before.crl");
        certificates.revoke("leaf", "ca");
        certificates.crl("ca");
        X509Certificate ca = certificates.certificate("ca");
        List<X509Certificate> path = List.of(certificates.certificate("leaf"));

        assertThat(PkixCheck.failure(path, ca, crls(certificates, "before.crl"))).isNull();
        // openssl verify -crl_check_all -CRLfile of the two concatenated, either order: "certificate revoked"; edge
        // took the first CRL in date it found, and let the revoked certificate in
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "before.crl", "ca.crl")))
                .isEqualTo("23:certificate revoked");
        assertThat(PkixCheck.failure(path, ca, crls(certificates, "ca.crl", "before.crl")))
                .isEqualTo("23:certificate revoked");
    }

    /**
     * OpenSSL's cert_crl: a serial listed with the reason removeFromCRL is not revoked (a hold lifted), one on hold
     * (certificateHold) is.
     */
    @Test
    void aCertificateListedAsRemovedFromTheCrlIsNotRevokedAndOneOnHoldIs() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSignedByCa("ca", "/CN=Client CA", "20200101000000Z", "20991231000000Z");
        certificates.signedByCa("removed", "ca", "/CN=removed.client", null, null);
        certificates.signedByCa("held", "ca", "/CN=held.client", null, null);
        certificates.openssl("ca", "-batch", "-config", "ca-ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                "-revoke", "removed.pem", "-crl_reason", "removeFromCRL");
        certificates.openssl("ca", "-batch", "-config", "ca-ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                "-revoke", "held.pem", "-crl_hold", "holdInstructionReject");
        certificates.crl("ca");
        X509Certificate ca = certificates.certificate("ca");
        List<RevocationList> crl = crls(certificates, "ca.crl");

        // openssl verify -crl_check_all: "removed.pem: OK"; edge said "23:certificate revoked"
        assertThat(PkixCheck.failure(List.of(certificates.certificate("removed")), ca, crl)).isNull();
        assertThat(PkixCheck.failure(List.of(certificates.certificate("held")), ca, crl))
                .isEqualTo("23:certificate revoked");
    }

    /**
     * CRLs of a critical issuing distribution point (openssl ca -gencrl -crlexts), as OpenSSL 3.0 and nginx 1.22's
     * ssl_crl take them: a CRL only of end entities holds the client's certificate and not its root, which
     * CRL_CHECK_ALL checks too, so it needs a CRL only of CAs beside it; a CRL of a distribution point holds the
     * certificates whose CRL distribution points name it. Each answer is nginx's for the same files (openssl verify
     * -crl_check_all says "44:different CRL scope" where nginx, whose callback lets OpenSSL go on, ends on "3:unable
     * to get certificate CRL").
     */
    @Test
    void aCrlOfAnIssuingDistributionPointHoldsTheCertificatesInItsScopeAsOpenSslReadsIt() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.selfSignedByCa("ca", "/CN=Client CA", "20200101000000Z", "20991231000000Z");
        certificates.signedByCa("revoked", "ca", "/CN=revoked.client", "basicConstraints=CA:false");
        certificates.signedByCa("kept", "ca", "/CN=kept.client", "basicConstraints=CA:false");
        certificates.signedByCa("pointed", "ca", "/CN=pointed.client",
                "basicConstraints=CA:false\ncrlDistributionPoints=URI:http://crl.example/ca.crl");
        certificates.revoke("revoked", "ca");
        Files.writeString(dir.resolve("ca-ca.cnf"), """
                [users]
                issuingDistributionPoint = critical, @onlyUsers
                [onlyUsers]
                onlyuser = TRUE
                [cas]
                issuingDistributionPoint = critical, @onlyCas
                [onlyCas]
                onlyCA = TRUE
                [point]
                issuingDistributionPoint = critical, @named
                [named]
                fullname = URI:http://crl.example/ca.crl
                """, StandardOpenOption.APPEND);
        for (String scope : new String[] {"users", "cas", "point"}) {
            certificates.openssl("ca", "-batch", "-config", "ca-ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                    "-gencrl", "-crlexts", scope, "-out", scope + ".crl");
        }
        X509Certificate ca = certificates.certificate("ca");
        List<RevocationList> usersAndCas = crls(certificates, "users.crl", "cas.crl");
        List<RevocationList> pointAndCas = crls(certificates, "point.crl", "cas.crl");

        // edge took no CRL with a critical extension: "3:unable to get certificate CRL" for each, every client refused
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept")), ca, usersAndCas)).isNull();
        assertThat(PkixCheck.failure(List.of(certificates.certificate("revoked")), ca, usersAndCas))
                .isEqualTo("23:certificate revoked");
        assertThat(PkixCheck.failure(List.of(certificates.certificate("pointed")), ca, pointAndCas)).isNull();
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept")), ca, pointAndCas))
                .isEqualTo("3:unable to get certificate CRL");
        // the root on a CRL only of end entities, the client's certificate on one only of CAs
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept")), ca, crls(certificates, "users.crl")))
                .isEqualTo("3:unable to get certificate CRL");
        assertThat(PkixCheck.failure(List.of(certificates.certificate("kept")), ca, crls(certificates, "cas.crl")))
                .isEqualTo("3:unable to get certificate CRL");
    }

    /**
     * OpenSSL's check_crl: a CRL of a CA whose key usage leaves out cRLSign is "35:key usage does not include CRL
     * signing", as nginx 1.22 (ssl_crl) said of every client of such a CA, where edge took the CRL and let them in.
     */
    @Test
    void aCrlOfACaWhoseKeyUsageLeavesOutCrlSigningIsRefused() throws Exception {
        TestCertificates certificates = new TestCertificates(dir);
        certificates.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "nosign.key", "-out",
                "nosign.pem", "-subj", "/CN=Client CA", "-days", "2", "-addext", "keyUsage=keyCertSign");
        certificates.signedByCa("leaf", "nosign", "/CN=alice", null, null);
        certificates.crl("nosign");

        assertThat(PkixCheck.failure(List.of(certificates.certificate("leaf")), certificates.certificate("nosign"),
                crls(certificates, "nosign.crl"))).isEqualTo("35:key usage does not include CRL signing");
    }

    private static List<RevocationList> crls(TestCertificates certificates, String... files) throws Exception {
        RevocationList[] crls = new RevocationList[files.length];
        for (int i = 0; i < files.length; i++) {
            crls[i] = certificates.revocationList(files[i]);
        }
        return List.of(crls);
    }
}
