package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * OpenSSL's cipher strings as configurations write them for nginx's ssl_ciphers, each expanded as the openssl CLI
 * (OpenSSL 3, as nginx's) lists it, with the suites edge lacks taken out, in the same order.
 */
class CipherStringsTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "HIGH:!aNULL:!MD5", // nginx's default
            // Mozilla's intermediate, modern (no TLSv1.2 suite left in 5.7: the 4.0 one) and old profiles
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                    + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                    + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:!aNULL",
            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
                    + "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                    + "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:"
                    + "ECDHE-RSA-AES128-SHA256:@STRENGTH",
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                    + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                    + "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:"
                    + "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:"
                    + "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:"
                    + "DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:"
                    + "AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA:!aNULL",
            "EECDH+AESGCM:EDH+AESGCM", // cipherli.st
            "EECDH+AESGCM:EDH+AESGCM:AES256+EECDH:AES256+EDH", // cipherli.st's older line
            "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL",
            "HIGH:!aNULL:!MD5:!3DES",
            "DEFAULT:!RC4",
            "DEFAULT",
            "ALL:!EXPORT",
            "ALL:!EXPORT:!LOW:!aNULL:!eNULL:!SSLv2",
            "kEECDH+ECDSA+AES128:kEECDH+AES128:kEECDH:-3DES:RC4+RSA:!aNULL:!eNULL:!LOW:!MD5:!EXP:!PSK:!SRP:!DSS",
            "HIGH:MEDIUM:!aNULL:@STRENGTH",
            "AES128+EECDH:AES256+EECDH:@STRENGTH",
            "ALL:@STRENGTH:+AES128",
            "AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:ALL:-ECDHE:+kRSA:ECDHE+SHA",
            "ALL:-AES256:!AESGCM:AES256",
            "ALL:!ECDSA:ECDSA+AES256",
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE:-ALL:ALL",
            "AES128-SHA:-ALL:ALL",
            "ALL:-kRSA:-AESGCM:!ECDSA:AES128:+SHA:kRSA:AESGCM",
            "ECDHE:-AES256:+AES128:-ECDSA:AES:@STRENGTH:-CHACHA20:ALL",
            "ECDHE-RSA-CHACHA20-POLY1305 ECDHE-RSA-AES128-GCM-SHA256,AES256-SHA;kRSA",
            "TLSv1.2:!SSLv3:TLSv1:+AESGCM",
            "SSLv3+ECDHE:FIPS+CHACHA20:CBC+ECDSA:SHA+kRSA:SHA1:AES+SHA256:@SECLEVEL=2:SHA384:AEAD:aNULL:ALL+AESGCM",
            "HIGH+TLSv1.2+ECDHE+aRSA:ECDH+AESGCM+aECDSA:DH:ADH:AECDH:kDHE:kEDH:kECDHE:DHE:ECDH",
            "RSA+AES128:aRSA+AES256:AES256+ECDSA+SHA1:ECDHE-ECDSA-AES128-SHA+SHA1:COMPLEMENTOFALL:COMPLEMENTOFDEFAULT",
            "PSK:aNULL:eNULL:NULL:MD5",
            "TLSv1.0+aECDSA:aDSS:aPSK:kPSK:aECDSA+AES128:-ECDSA+AES128:ECDHE-RSA-AES128-SHA:AES128:@SECLEVEL=1",
            "FOO:HIGH:!BAR",
    })
    void expandsAsOpenSsl(String cipherString) throws Exception {
        assertThat(CipherStrings.expand(cipherString)).as(cipherString).isEqualTo(openSsl(cipherString));
    }

    /** nginx's default, as OpenSSL 3.0.22 lists it. */
    @Test
    void nginxsDefaultIsEveryAesAndChaCha20SuiteForwardSecretAndAeadFirst() {
        assertThat(CipherStrings.expand("HIGH:!aNULL:!MD5")).containsExactly(
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA",
                "TLS_RSA_WITH_AES_128_CBC_SHA");
        assertThat(CipherStrings.expand("EECDH+AESGCM:EDH+AESGCM")).containsExactly(
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }

    /** What OpenSSL refuses ("invalid command"), refused; what it refuses for matching nothing, nothing. */
    @Test
    void refusesWhatOpenSslRefuses() throws Exception {
        for (String bad : List.of("HIGH:*", "@FOO", "HIGH:!", "AES++SHA")) {
            assertThatThrownBy(() -> CipherStrings.expand(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
            assertThat(run(bad).exit).as(bad).isNotZero();
        }
        assertThat(CipherStrings.expand("EDH+AESGCM:RC4")).isEmpty();
        assertThat(openSsl("EDH+AESGCM:RC4")).isEmpty();
    }

    /** IANA's names of edge's suites that openssl lists for {@code cipherString}, in its order (none: it refuses). */
    private static List<String> openSsl(String cipherString) throws IOException, InterruptedException {
        Run run = run(cipherString);
        if (run.exit != 0) {
            assertThat(run.output).as(cipherString).contains("no cipher match");
            return List.of();
        }
        Map<String, String> iana = CipherStrings.SUITES.stream()
                .collect(Collectors.toMap(CipherStrings.Suite::name, CipherStrings.Suite::iana));
        List<String> suites = new ArrayList<>();
        for (String line : run.output.split("\n")) {
            String name = line.trim().split("\\s+")[0];
            if (iana.containsKey(name)) {
                suites.add(iana.get(name));
            }
        }
        return suites;
    }

    private record Run(int exit, String output) {
    }

    private static Run run(String cipherString) throws IOException, InterruptedException {
        Process openssl = new ProcessBuilder("openssl", "ciphers", "-v", cipherString).redirectErrorStream(true)
                .start();
        String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(openssl.waitFor(), output);
    }
}
