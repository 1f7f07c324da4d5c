package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.fastcgi.tls.RevocationList;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listener marked ssl (nginx's {@code listen 443 ssl}), server.tls, and a site's certificate and key (nginx's
 * ssl_certificate, ssl_certificate_key) in the forms openssl and certbot write, made here by the openssl CLI.
 */
class TlsConfigTest {

    private static final String LISTEN = "server.listen = [\"127.0.0.1:19380\", \"127.0.0.1:19381 ssl\"]\n";

    @TempDir
    Path dir;

    @Test
    void aListenerMarkedSslWithACertificateOfEachKind() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa8.pem", "-out", "rsa.pem", "-days",
                "2", "-subj", "/CN=rsa.test");
        openssl("rsa", "-in", "rsa8.pem", "-traditional", "-out", "rsa1.pem");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec1.pem");
        openssl("req", "-x509", "-key", "ec1.pem", "-out", "ec.pem", "-days", "2", "-subj", "/CN=ec.test");
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", "ec1.pem", "-out", "ec8.pem");
        assertThat(Files.readString(dir.resolve("rsa1.pem"))).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(Files.readString(dir.resolve("ec1.pem"))).contains("-----BEGIN EC PRIVATE KEY-----");
        EdgeSettings settings = load(LISTEN + """
                server.tls { protocols = ["TLSv1.3"], session-timeout = 10m, session-cache = 100 }
                sites = [
                  { root = www, tls { certificate = rsa.pem, key = rsa8.pem } }
                  { root = www, tls { certificate = rsa.pem, key = rsa1.pem } }
                  { root = www, tls { certificate = ec.pem, key = ec1.pem } }
                  { root = www, tls { certificate = ec.pem, key = ec8.pem } }
                ]""");
        ServerSettings.Tls tls = settings.server().tls();
        assertThat(tls.listen()).containsExactly(new InetSocketAddress("127.0.0.1", 19381));
        assertThat(tls.endsOn(new InetSocketAddress("127.0.0.1", 19380))).isFalse();
        assertThat(settings.server().listen()).hasSize(2);
        assertThat(tls.protocols()).containsExactly("TLSv1.3");
        assertThat(tls.sessionTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(tls.sessionCache()).isEqualTo(100);
        assertThat(settings.sites()).extracting(site -> site.tls().key().getAlgorithm())
                .containsExactly("RSA", "RSA", "EC", "EC");
        assertThat(settings.sites().get(0).tls().leaf().getSubjectX500Principal().getName()).isEqualTo("CN=rsa.test");
    }

    @Test
    void aChainFileIsReadWhole() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=Test CA");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj",
                "/CN=leaf.test");
        openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
                "leaf.pem", "-days", "2");
        Files.writeString(dir.resolve("fullchain.pem"), Files.readString(dir.resolve("leaf.pem"))
                + Files.readString(dir.resolve("ca.pem")));
        EdgeSettings settings = load(LISTEN + """
                site-defaults.tls { certificate = fullchain.pem, key = leaf.key }
                sites = [{ root = www }]""");
        assertThat(settings.sites().get(0).tls().chain()).extracting(c -> c.getSubjectX500Principal().getName())
                .containsExactly("CN=leaf.test", "CN=Test CA");
    }

    @Test
    void everyProblemNamesItsKey() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "b.key", "-out", "b.pem", "-days", "2",
                "-subj", "/CN=b.test");
        Files.writeString(dir.resolve("junk.pem"), "not a certificate\n");
        List<ConfigProblem> problems = problems(LISTEN + """
                server.tls.protocols = ["TLSv1.2", "SSLv3"]
                sites = [
                  { root = www, server-names = [a], tls { certificate = missing.pem, key = a.key } }
                  { root = www, server-names = [b], tls { certificate = junk.pem, key = a.key } }
                  { root = www, server-names = [c], tls { certificate = a.pem, key = b.key } }
                  { root = www, server-names = [d] }
                  { root = www, server-names = [e], tls { certificate = a.pem, key = a.pem } }
                  { root = www, server-names = [f], tls { certificate = a.pem } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(3, "edge.server.tls.protocols[1]"),
                tuple(5, "edge.sites[0].tls.certificate"),
                tuple(6, "edge.sites[1].tls.certificate"),
                tuple(7, "edge.sites[2].tls.key"),
                tuple(8, "edge.sites[3].tls.certificate"),
                tuple(9, "edge.sites[4].tls.key"),
                tuple(10, "edge.sites[5].tls.key"));
        assertThat(problems).extracting(ConfigProblem::message).anyMatch(m -> m.contains("missing.pem cannot be read"
                + " (No such file or directory)")).anyMatch(m -> m.contains("junk.pem holds no certificate"))
                .anyMatch(m -> m.contains("b.key does not match the certificate's public key"))
                .anyMatch(m -> m.equals("not set, and the site listens on \"127.0.0.1:19381 ssl\""))
                .anyMatch(m -> m.contains("a.pem holds no private key"))
                .anyMatch(m -> m.equals("\"SSLv3\" is not a TLS version"));
    }

    /** certbot's two files both gone (a renewal that failed half-way, a wrong live/ directory): both said at once. */
    @Test
    void aMissingCertificateAndKeyAreBothProblems() {
        List<ConfigProblem> problems = problems(LISTEN
                + "sites = [{ root = www, tls { certificate = live/fullchain.pem, key = live/privkey.pem } }]");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].tls.certificate", dir.resolve("live/fullchain.pem")
                        + " cannot be read (No such file or directory)"),
                tuple("edge.sites[0].tls.key", dir.resolve("live/privkey.pem")
                        + " cannot be read (No such file or directory)"));
    }

    /** nginx's {@code listen 443 ssl} copied into a site: the address, with " ssl" beside it or not. */
    @Test
    void aSiteNamesATlsListenerWithOrWithoutSsl() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        EdgeSettings settings = load(LISTEN + """
                sites = [
                  { root = www, listen = ["127.0.0.1:19380"] }
                  { root = www, listen = ["127.0.0.1:19381 ssl"], tls { certificate = a.pem, key = a.key } }
                  { root = www, listen = ["127.0.0.1:19381"], tls { certificate = a.pem, key = a.key } }
                ]""");
        assertThat(settings.sites().get(1).listen()).containsExactly(new InetSocketAddress("127.0.0.1", 19381));
        assertThat(settings.sites().get(2).listen()).containsExactly(new InetSocketAddress("127.0.0.1", 19381));
        List<ConfigProblem> problems = problems(LISTEN + """
                sites = [
                  { root = www, listen = ["127.0.0.1:19380 ssl"] }
                  { root = www, listen = ["127.0.0.1:19381"], tls { certificate = a.pem, key = a.key } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].listen[0]", "\"127.0.0.1:19380 ssl\" is not marked ssl in server.listen"));
    }

    /**
     * nginx's {@code listen 443 ssl http2}: the marks in either order, in server.listen and a site's listen, and
     * server.http2's stream limit (nginx's http2_max_concurrent_streams, 128 by default); http2 without ssl, nginx's
     * {@code listen 80 http2} (h2c), a plain listener among them; a site's http2 on a listener server.listen does not
     * mark so refused.
     */
    @Test
    void aListenerMarkedHttp2() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        String listen = "server.listen = [\"127.0.0.1:19380 ssl\", \"127.0.0.1:19381 http2 ssl\"]\n";
        EdgeSettings settings = load(listen + """
                sites = [
                  { root = www, listen = ["127.0.0.1:19381 ssl http2"], tls { certificate = a.pem, key = a.key } }
                  { root = www, tls { certificate = a.pem, key = a.key } }
                ]""");
        InetSocketAddress h2 = new InetSocketAddress("127.0.0.1", 19381);
        assertThat(settings.server().tls().listen()).containsExactlyInAnyOrder(h2,
                new InetSocketAddress("127.0.0.1", 19380));
        assertThat(settings.server().tls().http2().listen()).containsExactly(h2);
        assertThat(settings.server().tls().http2().maxConcurrentStreams()).isEqualTo(128);
        assertThat(settings.sites().get(0).listen()).containsExactly(h2);
        assertThat(load(listen + """
                server.http2.max-concurrent-streams = 32
                sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]""").server().tls().http2()
                .maxConcurrentStreams()).isEqualTo(32);
        InetSocketAddress h2c = new InetSocketAddress("127.0.0.1", 19382);
        EdgeSettings clear = load("""
                server.listen = ["127.0.0.1:19382 http2", "127.0.0.1:19380"]
                sites = [{ root = www, listen = ["127.0.0.1:19382 http2"] }, { root = www }]""");
        assertThat(clear.server().tls().listen()).isEmpty();
        assertThat(clear.server().tls().http2().listen()).containsExactly(h2c);
        assertThat(clear.sites().get(0).listen()).containsExactly(h2c);
        List<ConfigProblem> problems = problems("""
                server.listen = ["127.0.0.1:19380 http2", "127.0.0.1:19381 ssl"]
                server.http2.max-concurrent-streams = 0
                sites = [
                  { root = www, listen = ["127.0.0.1:19381 ssl http2"], tls { certificate = a.pem, key = a.key } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple("edge.server.http2.max-concurrent-streams", "0 is out of range"),
                tuple("edge.sites[0].listen[0]", "\"127.0.0.1:19381 ssl http2\" is not marked http2 in server.listen"));
    }

    /**
     * nginx's {@code listen 443 quic} beside {@code listen 443 ssl}: " quic" on a listener marked ssl takes HTTP/3 on
     * the UDP port of its own number, " quic=PORT" on another; server.http3's defaults (128 streams, Alt-Svc on with
     * ma=86400, as nginx's documentation writes the add_header).
     */
    @Test
    void aListenerMarkedQuic() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        EdgeSettings settings = load("""
                server.listen = ["127.0.0.1:19380 ssl http2 quic", "127.0.0.1:19381 quic=19383 ssl", "127.0.0.1:19382 ssl"]
                sites = [
                  { root = www, listen = ["127.0.0.1:19381 ssl quic"], tls { certificate = a.pem, key = a.key } }
                  { root = www, tls { certificate = a.pem, key = a.key } }
                ]""");
        InetSocketAddress same = new InetSocketAddress("127.0.0.1", 19380);
        InetSocketAddress other = new InetSocketAddress("127.0.0.1", 19381);
        ServerSettings.Http3 http3 = settings.server().tls().http3();
        assertThat(http3.listen()).containsOnlyKeys(same, other);
        assertThat(http3.udpPort(same, 19380)).isEqualTo(19380);
        assertThat(http3.udpPort(other, 19381)).isEqualTo(19383);
        assertThat(http3.offeredOn(new InetSocketAddress("127.0.0.1", 19382))).isFalse();
        assertThat(settings.server().tls().http2().listen()).containsExactly(same);
        assertThat(settings.server().tls().listen()).hasSize(3);
        assertThat(http3.maxConcurrentStreams()).isEqualTo(128);
        assertThat(http3.altSvcField(19383)).isEqualTo("h3=\":19383\"; ma=86400");
        assertThat(settings.sites().get(0).listen()).containsExactly(other);
        ServerSettings.Http3 off = load("""
                server.listen = ["127.0.0.1:19380 ssl quic"]
                server.http3 { alt-svc = off, max-concurrent-streams = 16 }
                sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]""").server().tls().http3();
        assertThat(off.altSvcField(19380)).isNull();
        assertThat(off.maxConcurrentStreams()).isEqualTo(16);
    }

    /** quic without ssl, a UDP port two listeners would share, a port past 65535, a site's quic not server.listen's. */
    @Test
    void quicProblemsNameTheirEntry() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        List<ConfigProblem> problems = problems("""
                server.listen = ["127.0.0.1:19380 quic", "*:19381 ssl quic", "127.0.0.1:19382 ssl quic=19381",
                  "127.0.0.1:19384 ssl quic=70000", "127.0.0.1:19385 ssl"]
                server.http3.alt-svc-max-age = soon
                sites = [
                  { root = www, listen = ["127.0.0.1:19385 ssl quic"], tls { certificate = a.pem, key = a.key } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(2, "edge.server.listen[0]", "\"127.0.0.1:19380 quic\" is marked quic, not ssl"),
                        tuple(2, "edge.server.listen[2]", "\"127.0.0.1:19382 ssl quic=19381\" listens for QUIC on UDP"
                                + " 127.0.0.1:19381, as an earlier listener marked quic does (*:19381)"),
                        tuple(3, "edge.server.listen[3]", "\"127.0.0.1:19384 ssl quic=70000\" names UDP port 70000"),
                        tuple(4, "edge.server.http3.alt-svc-max-age", "\"soon\" is not a duration"),
                        tuple(6, "edge.sites[0].listen[0]",
                                "\"127.0.0.1:19385 ssl quic\" is not marked quic in server.listen"));
    }

    /**
     * nginx's ssl_ciphers copied as it is: one colon-separated line of OpenSSL's names (Mozilla's intermediate list),
     * IANA's names beside them, or OpenSSL's cipher string ("HIGH:!aNULL:!MD5", nginx's default) expanded as OpenSSL
     * does; a string matching no suite, one OpenSSL refuses, and TLSv1.3's suites each a problem saying why.
     */
    @Test
    void ciphersTakeNginxsLine() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        EdgeSettings settings = load(LISTEN + """
                server.tls.ciphers = ["ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
                ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:\
                ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
                sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]""");
        assertThat(settings.server().tls().ciphers()).containsExactly("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256");
        assertThat(load(LISTEN + """
                server.tls.ciphers = ["HIGH:!aNULL:!MD5"]
                sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]""").server().tls().ciphers())
                .startsWith("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
                .hasSize(14).endsWith("TLS_RSA_WITH_AES_128_CBC_SHA");
        assertThat(load(LISTEN + """
                server.tls.ciphers = ["ECDHE+AESGCM:!ECDSA", "AES128-SHA", "HIGH:!aNULL:!kRSA:!SHA1:!AES256"]
                sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]""").server().tls().ciphers())
                .containsExactly("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                        "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        List<ConfigProblem> problems = problems(LISTEN + """
                server.tls.ciphers = ["TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA257", "EDH+AESGCM:!RC4",
                  "HIGH:*"]
                sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(3, "edge.server.tls.ciphers[0]", "\"TLS_AES_128_GCM_SHA256\" is a TLSv1.3 suite:"
                                + " TLSv1.3's are the provider's, as nginx's ssl_ciphers leaves them"),
                        tuple(3, "edge.server.tls.ciphers[1]", "\"ECDHE-RSA-AES128-GCM-SHA257\" is not a cipher"
                                + " suite this JVM knows"),
                        tuple(3, "edge.server.tls.ciphers[2]", "\"EDH+AESGCM:!RC4\" matches no suite of TLSv1.2 and"
                                + " below that edge has"),
                        tuple(4, "edge.server.tls.ciphers[3]", "\"HIGH:*\": \"*\" holds '*', which no cipher"
                                + " string's word does"));
    }

    /**
     * nginx's ssl_ecdh_curve: auto, or curves by OpenSSL's names or BoringSSL's, each once by BoringSSL's name; a name
     * of neither a problem, as OpenSSL refuses it in nginx.
     */
    @Test
    void ecdhCurveTakesNginxsNames() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        String site = "sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]\n";
        assertThat(load(LISTEN + site).server().tls().ecdhCurves()).isEmpty();
        assertThat(load(LISTEN + "server.tls.ecdh-curve = \"X25519:prime256v1:secp384r1:secp256r1:X448\"\n" + site)
                .server().tls().ecdhCurves()).containsExactly("X25519", "P-256", "P-384", "X448");
        List<ConfigProblem> problems = problems(LISTEN + "server.tls.ecdh-curve = \"X25519:prime255v1:\"\n" + site);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(3, "edge.server.tls.ecdh-curve", "\"X25519:prime255v1:\" holds \"prime255v1\","
                        + " \"\", not a curve or group OpenSSL or BoringSSL names"));
        assertThat(problems(LISTEN + "server.tls.ecdh-curve = secp256r2\n" + site)).extracting(ConfigProblem::message)
                .containsExactly("\"secp256r2\" is not a curve or group OpenSSL or BoringSSL names");
    }

    /**
     * nginx's ssl_session_tickets and ssl_session_ticket_key: 48-byte files read whole, in order; one of another size, an
     * 80-byte one (nginx's AES-256 keys) and a missing one each a problem.
     */
    @Test
    void sessionTicketKeysAreFilesOf48Bytes() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        openssl("rand", "-out", "first.key", "48");
        openssl("rand", "-out", "second.key", "48");
        openssl("rand", "-out", "aes256.key", "80");
        openssl("rand", "-out", "short.key", "47");
        String site = "sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]\n";
        ServerSettings.Tls defaults = load(LISTEN + site).server().tls();
        assertThat(defaults.sessionTickets()).isTrue();
        assertThat(defaults.sessionTicketKeys()).isEmpty();
        assertThat(defaults.preferServerCiphers()).isFalse();
        assertThat(load(LISTEN + "server.tls.prefer-server-ciphers = on\n" + site).server().tls().preferServerCiphers())
                .isTrue();
        ServerSettings.Tls tls = load(LISTEN + "server.tls { session-tickets = off, session-ticket-keys = [first.key,"
                + " second.key] }\n" + site).server().tls();
        assertThat(tls.sessionTickets()).isFalse();
        assertThat(tls.sessionTicketKeys()).containsExactly(Files.readAllBytes(dir.resolve("first.key")),
                Files.readAllBytes(dir.resolve("second.key")));
        assertThat(problems(LISTEN + "server.tls.session-ticket-keys = [first.key, aes256.key, short.key, none.key]\n"
                + site)).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message).containsExactly(
                        tuple(3, "edge.server.tls.session-ticket-keys[1]", dir.resolve("aes256.key") + " is 80 bytes,"
                                + " nginx's AES-256 ticket keys, which BoringSSL's ticket callback in netty-tcnative"
                                + " does not take (AES-128 alone)"),
                        tuple(3, "edge.server.tls.session-ticket-keys[2]", dir.resolve("short.key") + " is 47 bytes"),
                        tuple(3, "edge.server.tls.session-ticket-keys[3]", dir.resolve("none.key") + " cannot be"
                                + " read: No such file or directory"));
    }

    /** nginx's ssl_dhparam: a file of DH parameters, checked; another file and a missing one problems. */
    @Test
    void dhparamIsAFileOfDhParameters() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        Files.writeString(dir.resolve("dhparam.pem"), """
                -----BEGIN DH PARAMETERS-----
                MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
                -----END DH PARAMETERS-----
                """);
        String site = "sites = [{ root = www, tls { certificate = a.pem, key = a.key } }]\n";
        assertThat(load(LISTEN + site).server().tls().dhparam()).isNull();
        assertThat(load(LISTEN + "server.tls.dhparam = dhparam.pem\n" + site).server().tls().dhparam())
                .isEqualTo(dir.resolve("dhparam.pem"));
        assertThat(problems(LISTEN + "server.tls.dhparam = a.pem\n" + site)).extracting(ConfigProblem::line,
                ConfigProblem::key, ConfigProblem::message).containsExactly(tuple(3, "edge.server.tls.dhparam",
                        dir.resolve("a.pem") + " holds no DH PARAMETERS"));
        assertThat(problems(LISTEN + "server.tls.dhparam = none.pem\n" + site)).extracting(ConfigProblem::message)
                .containsExactly(dir.resolve("none.pem") + " cannot be read: No such file or directory");
    }

    /**
     * nginx's two ssl_certificate lines (ECDSA beside RSA): a site's tls.certificates, each entry with its own files
     * (its key decrypted with the site's password-file where it names none), the site's own list over site-defaults'
     * one certificate; an SNI site's own pair.
     */
    @Test
    void aSiteTakesACertificateOfEachKeyType() throws Exception {
        dualCertificates();
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "open.key", "-out", "locked.pem", "-days",
                "2", "-subj", "/CN=locked.test");
        openssl("pkey", "-in", "open.key", "-aes-256-cbc", "-passout", "pass:secret", "-out", "locked.key");
        Files.writeString(dir.resolve("pass"), "secret\n");
        EdgeSettings settings = load(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key }
                sites = [
                  { root = www, tls.certificates = [{ certificate = a.pem, key = a.key }, { certificate = ec.pem, key = ec.key }] }
                  { root = www, server-names = [b.test], tls { password-file = pass,
                    certificates = [{ certificate = ec.pem, key = ec.key, stapling-file = "" }, { certificate = locked.pem, key = locked.key }] } }
                  { root = www, server-names = [c.test] }
                ]""");
        assertThat(settings.sites()).extracting(site -> site.certificates().stream()
                .map(c -> c.leaf().getSubjectX500Principal().getName()).toList())
                .containsExactly(List.of("CN=a.test", "CN=ec.test"), List.of("CN=ec.test", "CN=locked.test"),
                        List.of("CN=a.test"));
        assertThat(settings.sites().get(0).tls().leaf().getSubjectX500Principal().getName()).isEqualTo("CN=a.test");
    }

    /**
     * Two of one key type (nginx's OpenSSL keeps the last alone), a key that is not its certificate's, an empty list,
     * an entry without a certificate or with a key it does not know, both forms in one place, one stapling-file for
     * several, a list for the whole tls: each a problem with its key.
     */
    @Test
    void badCertificatesAreProblemsOfTheirKeys() throws Exception {
        dualCertificates();
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "b.key", "-out", "b.pem", "-days", "2",
                "-subj", "/CN=b.test");
        List<ConfigProblem> problems = problems(LISTEN + """
                sites = [
                  { root = www, tls.certificates = [{ certificate = a.pem, key = a.key }, { certificate = b.pem, key = b.key }] }
                  { root = www, tls.certificates = [{ certificate = a.pem, key = b.key }, { certificate = ec.pem, key = ec.key }] }
                  { root = www, tls.certificates = [] }
                  { root = www, tls.certificates = [{ key = a.key }, { password-file = "" }, { certificate = ec.pem, key = ec.key, keys = x }] }
                  { root = www, tls { certificate = a.pem, key = a.key, certificates = [{ certificate = ec.pem, key = ec.key }] } }
                  { root = www, tls { stapling = true, stapling-file = a.der,
                    certificates = [{ certificate = a.pem, key = a.key }, { certificate = ec.pem, key = ec.key }] } }
                  { root = www, tls = [{ certificate = a.pem, key = a.key }, { certificate = ec.pem, key = ec.key }] }
                ]
                """.replace("a.der", der()));
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(4, "edge.sites[0].tls.certificates[1]", "a second RSA certificate (certificates[0] is"
                                + " one): OpenSSL keeps one of each key type, nginx's the last"),
                        tuple(5, "edge.sites[1].tls.certificates[0].key", dir.resolve("b.key") + " does not match"
                                + " the certificate's public key (" + dir.resolve("a.pem") + ": CN=a.test)"),
                        tuple(6, "edge.sites[2].tls.certificates", "[] holds no certificate"),
                        tuple(7, "edge.sites[3].tls.certificates[0].certificate", "not set, and tls.key is"),
                        tuple(7, "edge.sites[3].tls.certificates[1].certificate", "not set"),
                        tuple(7, "edge.sites[3].tls.certificates[2].keys", "is no key of a certificates entry (did you"
                                + " mean \"key\"?)"),
                        tuple(8, "edge.sites[4].tls.certificates", "set beside tls.certificate and tls.key"),
                        tuple(9, "edge.sites[5].tls.stapling-file", "one response for the 2 certificates of"
                                + " tls.certificates"),
                        tuple(11, "edge.sites[6].tls", "a list of 2: a site's certificates are a list in it"));
    }

    /** a.pem and a.key (RSA), ec.pem and ec.key (ECDSA, P-256). */
    private void dualCertificates() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "a.key", "-out", "a.pem", "-days", "2",
                "-subj", "/CN=a.test");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.key");
        openssl("req", "-x509", "-key", "ec.key", "-out", "ec.pem", "-days", "2", "-subj", "/CN=ec.test");
    }

    /** A file that passes for a DER OCSP response (stapled unread). */
    private String der() throws IOException {
        Path der = dir.resolve("a.der");
        Files.write(der, new byte[] {0x30, 0x03, 0x0a, 0x01, 0x00});
        return der.toString();
    }

    /**
     * nginx's ssl_verify_client and its files: a site's (and site-defaults') tls.verify-client, client-certificate,
     * trusted-certificate, verify-depth and crl; off by default.
     */
    @Test
    void clientCertificatesAreAskedForAsASiteSays() throws Exception {
        selfSigned("a", "/CN=a.test");
        selfSigned("ca", "/CN=Client CA");
        selfSigned("other", "/CN=Other CA");
        Files.writeString(dir.resolve("ca.cnf"), "[ca]\ndefault_ca = edge\n[edge]\ndatabase = index.txt\n"
                + "default_md = sha256\ndefault_crl_days = 2\n");
        Files.writeString(dir.resolve("index.txt"), "");
        openssl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "ca.crl");
        EdgeSettings settings = load(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key }
                sites = [
                  { root = www }
                  { root = www, tls { verify-client = on, client-certificate = ca.pem } }
                  { root = www, tls { verify-client = optional, client-certificate = ca.pem,
                                      trusted-certificate = other.pem, verify-depth = 2, crl = ca.crl } }
                  { root = www, tls { verify-client = optional_no_ca } }
                ]""");
        assertThat(settings.sites()).extracting(site -> site.clientVerify().mode()).containsExactly(
                TlsClientVerify.Mode.OFF, TlsClientVerify.Mode.ON, TlsClientVerify.Mode.OPTIONAL,
                TlsClientVerify.Mode.OPTIONAL_NO_CA);
        TlsClientVerify on = settings.sites().get(1).clientVerify();
        assertThat(on.named()).extracting(c -> c.getSubjectX500Principal().getName()).containsExactly("CN=Client CA");
        assertThat(on.trusted()).isEmpty();
        assertThat(on.depth()).isEqualTo(1);
        TlsClientVerify optional = settings.sites().get(2).clientVerify();
        assertThat(optional.trusted()).extracting(c -> c.getSubjectX500Principal().getName())
                .containsExactly("CN=Other CA");
        assertThat(optional.depth()).isEqualTo(2);
        assertThat(optional.revocations()).extracting(crl -> crl.getIssuerX500Principal().getName())
                .containsExactly("CN=Client CA");
        assertThat(settings.sites().get(3).clientVerify().named()).isEmpty();
    }

    /**
     * A reload parses a CRL file again only where its bytes changed: a CRL of 200 000 entries takes some 0.2 s to
     * read, and the running configuration already holds the CRLs of an unchanged one. The CRL here is past the 4 MB
     * the JDK's CertificateFactory keeps parsed CRLs of (below it, the factory's own cache gives the same CRL again):
     * not by 200 000 entries, whose making and parsing took this test 13 s, but by a non-critical extension of 4.2 MB
     * of zeros (openssl ca -crlexts, DER:00:00:...), which the JDK keeps unread.
     */
    @Test
    void aCrlFileReadAgainUnchangedGivesTheCrlsAlreadyReadAndAChangedOneIsReadAgain() throws Exception {
        selfSigned("a", "/CN=a.test");
        selfSigned("ca", "/CN=Client CA");
        Files.writeString(dir.resolve("index.txt"), "");
        Files.writeString(dir.resolve("ca.cnf"), "[ca]\ndefault_ca = edge\n[edge]\ndatabase = index.txt\n"
                + "default_md = sha256\ndefault_crl_days = 2\n[big]\n1.3.6.1.4.1.99999.1 = DER:"
                + "00:".repeat(4200 * 1024) + "00\n");
        openssl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "ca.crl",
                "-crl_lastupdate", "20200101000000Z", "-crlexts", "big");
        String conf = LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key }
                sites = [{ root = www, tls { verify-client = on, client-certificate = ca.pem, crl = ca.crl } }]""";
        RevocationList held = load(conf).sites().get(0).clientVerify().revocations().get(0); // as the running one holds it

        // compared as booleans: a failure printing a CRL of megabytes would fill the tests' heap
        RevocationList again = load(conf).sites().get(0).clientVerify().revocations().get(0);
        assertThat(again == held).as("the CRL already read given again").isTrue();
        openssl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "ca.crl",
                "-crl_lastupdate", "20200102000000Z", "-crlexts", "big");
        RevocationList changed = load(conf).sites().get(0).clientVerify().revocations().get(0);
        assertThat(changed == held).as("the CRL of the changed file is the one read before").isFalse();
        assertThat(changed.getThisUpdate()).isNotEqualTo(held.getThisUpdate());
    }

    /**
     * As nginx refuses "ssl_verify_client on" without ssl_client_certificate (ssl_trusted_certificate alone is not
     * enough for nginx 1.22 either), and a file it cannot read.
     */
    @Test
    void aClientCertificateProblemNamesItsKey() throws Exception {
        selfSigned("a", "/CN=a.test");
        List<ConfigProblem> problems = problems(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key }
                sites = [
                  { root = www, server-names = [a], tls { verify-client = on } }
                  { root = www, server-names = [b], tls { verify-client = sometimes, client-certificate = a.pem } }
                  { root = www, server-names = [c], tls { verify-client = optional, client-certificate = gone.pem } }
                  { root = www, server-names = [d], tls { verify-client = on, trusted-certificate = a.key } }
                  { root = www, server-names = [e], tls { verify-client = on, client-certificate = a.pem,
                                                          crl = a.pem, verify-depth = -1 } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(5, "edge.sites[0].tls.client-certificate"),
                tuple(6, "edge.sites[1].tls.verify-client"),
                tuple(7, "edge.sites[2].tls.client-certificate"),
                tuple(8, "edge.sites[3].tls.trusted-certificate"),
                tuple(8, "edge.sites[3].tls.client-certificate"),
                tuple(10, "edge.sites[4].tls.crl"),
                tuple(10, "edge.sites[4].tls.verify-depth"));
        assertThat(problems).extracting(ConfigProblem::message)
                .contains("not set, and tls.verify-client is on")
                .anyMatch(m -> m.startsWith("\"sometimes\" is not allowed"))
                .anyMatch(m -> m.contains("gone.pem cannot be read (No such file or directory)"))
                .anyMatch(m -> m.contains("a.key holds no certificate"))
                .anyMatch(m -> m.contains("a.pem holds no CRL"));
    }

    /**
     * A CRL file whose CRL is cut short, or whose entry is no entry, is a problem of its key naming the file, the CRL
     * and what is wrong with it, as nginx refuses it ("PEM_read_bio_X509_CRL() failed"; here the byte is said too).
     */
    @Test
    void aCrlThatCannotBeReadNamesTheFileAndWhatIsWrong() throws Exception {
        selfSigned("a", "/CN=a.test");
        Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        // a CRL of 16 bytes with 3 of them; a CRL whose revokedCertificates holds an INTEGER where an entry should be
        Files.writeString(dir.resolve("cut.crl"), "-----BEGIN X509 CRL-----\n" + pem.encodeToString(new byte[] {
                0x30, 0x10, 0x30, 0x01, 0x02}) + "\n-----END X509 CRL-----\n");
        selfSigned("ca", "/CN=Client CA");
        Files.writeString(dir.resolve("ca.cnf"), "[ca]\ndefault_ca = edge\n[edge]\ndatabase = index.txt\n"
                + "default_md = sha256\ndefault_crl_days = 2\n");
        Files.writeString(dir.resolve("index.txt"), "R\t301231000000Z\t260101000000Z\t1001\tunknown\t/CN=c\n");
        openssl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "whole.crl");
        String whole = Files.readString(dir.resolve("whole.crl"));
        byte[] der = Base64.getMimeDecoder().decode(whole.substring(whole.indexOf("-----BEGIN X509 CRL-----") + 24,
                whole.indexOf("-----END X509 CRL-----")));
        int entry = indexOf(der, new byte[] {0x30, 0x13, 0x02, 0x02, 0x10, 0x01}); // its entry: serial, date
        der[entry] = 0x02;
        Files.writeString(dir.resolve("entry.crl"), whole + "-----BEGIN X509 CRL-----\n" + pem.encodeToString(der)
                + "\n-----END X509 CRL-----\n");
        List<ConfigProblem> problems = problems(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key }
                sites = [
                  { root = www, server-names = [a], tls { verify-client = on, client-certificate = a.pem,
                                                          crl = cut.crl } }
                  { root = www, server-names = [b], tls { verify-client = on, client-certificate = a.pem,
                                                          crl = entry.crl } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(6, "edge.sites[0].tls.crl"), tuple(8, "edge.sites[1].tls.crl"));
        assertThat(problems).extracting(ConfigProblem::message)
                .anyMatch(m -> m.contains(dir.resolve("cut.crl") + ": CRL 1 cannot be read (the CRL's DER cannot be"
                        + " read (corrupted stream - out of bounds length found: 16 > 5))"))
                .anyMatch(m -> m.contains(dir.resolve("entry.crl") + ": CRL 2 cannot be read (entry 1 of"
                        + " revokedCertificates: the entry cannot be read (tag 0x2 where 0x30 was expected))"));
    }

    /**
     * A CRL block with nothing in it, and a CRL whose signed part holds an element running past its end (found when
     * the signed part's fields are read, after the CRL's outline), are problems of the key too, not exceptions out of
     * the reading of the configuration.
     */
    @Test
    void anEmptyCrlOrAMalformedSignedPartIsAProblemOfTheKey() throws Exception {
        selfSigned("a", "/CN=a.test");
        Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(dir.resolve("empty.crl"), "-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n");
        // tbsCertList (an INTEGER of 5 bytes in 2), signatureAlgorithm, signature
        Files.writeString(dir.resolve("inner.crl"), "-----BEGIN X509 CRL-----\n" + pem.encodeToString(new byte[] {
                0x30, 0x0b, 0x30, 0x04, 0x02, 0x05, 0x01, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00})
                + "\n-----END X509 CRL-----\n");
        List<ConfigProblem> problems = problems(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key }
                sites = [
                  { root = www, server-names = [a], tls { verify-client = on, client-certificate = a.pem,
                                                          crl = empty.crl } }
                  { root = www, server-names = [b], tls { verify-client = on, client-certificate = a.pem,
                                                          crl = inner.crl } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(6, "edge.sites[0].tls.crl"), tuple(8, "edge.sites[1].tls.crl"));
        assertThat(problems).extracting(ConfigProblem::message)
                .anyMatch(m -> m.contains(dir.resolve("empty.crl") + ": CRL 1 cannot be read (the CRL is no"
                        + " CertificateList (it is empty))"))
                .anyMatch(m -> m.contains(dir.resolve("inner.crl") + ": CRL 1 cannot be read (the CRL's DER cannot"
                        + " be read ("));
    }

    /** The offset of {@code wanted} in {@code bytes}. */
    private static int indexOf(byte[] bytes, byte[] wanted) {
        for (int i = 0; i + wanted.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + wanted.length, wanted, 0, wanted.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    /**
     * nginx's ssl_password_file: each line a passphrase, tried in turn on a key encrypted with one, PKCS#8's as
     * openssl 3 writes it and the traditional PEM of older openssl's genrsa -aes256 or -des3.
     */
    @Test
    void anEncryptedKeyIsDecryptedByALineOfThePasswordFile() throws Exception {
        selfSigned("a", "/CN=a.test");
        openssl("pkey", "-in", "a.key", "-aes-256-cbc", "-passout", "pass:second line", "-out", "pkcs8.key");
        openssl("rsa", "-in", "a.key", "-aes256", "-traditional", "-passout", "pass:second line", "-out", "aes.key");
        openssl("rsa", "-in", "a.key", "-des3", "-traditional", "-passout", "pass:second line", "-out", "des3.key");
        assertThat(Files.readString(dir.resolve("pkcs8.key"))).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        assertThat(Files.readString(dir.resolve("aes.key"))).contains("DEK-Info: AES-256-CBC,");
        assertThat(Files.readString(dir.resolve("des3.key"))).contains("DEK-Info: DES-EDE3-CBC,");
        Files.writeString(dir.resolve("passwords"), "first line\r\nsecond line\n");
        EdgeSettings settings = load(LISTEN + """
                site-defaults.tls { certificate = a.pem, password-file = passwords }
                sites = [
                  { root = www, tls.key = pkcs8.key }
                  { root = www, tls.key = aes.key }
                  { root = www, tls.key = des3.key }
                  { root = www, tls.key = a.key }
                ]""");
        assertThat(settings.sites()).extracting(site -> site.tls().key())
                .allSatisfy(key -> assertThat(key.getEncoded()).isEqualTo(settings.sites().get(3).tls().key()
                        .getEncoded()));
    }

    @Test
    void aWrongPassphraseIsAProblemOfTheKey() throws Exception {
        selfSigned("a", "/CN=a.test");
        openssl("pkey", "-in", "a.key", "-aes-256-cbc", "-passout", "pass:right", "-out", "pkcs8.key");
        openssl("rsa", "-in", "a.key", "-aes128", "-traditional", "-passout", "pass:right", "-out", "aes.key");
        Files.writeString(dir.resolve("wrong"), "wrong\n");
        Files.writeString(dir.resolve("wrongs"), "wrong\nalso wrong\n");
        Files.writeString(dir.resolve("empty"), "\n");
        List<ConfigProblem> problems = problems(LISTEN + """
                site-defaults.tls.certificate = a.pem
                sites = [
                  { root = www, server-names = [a], tls { key = pkcs8.key, password-file = wrong } }
                  { root = www, server-names = [b], tls { key = aes.key, password-file = wrongs } }
                  { root = www, server-names = [c], tls { key = pkcs8.key } }
                  { root = www, server-names = [d], tls { key = pkcs8.key, password-file = missing } }
                  { root = www, server-names = [e], tls { key = pkcs8.key, password-file = empty } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(5, "edge.sites[0].tls.key", dir.resolve("pkcs8.key") + ": the passphrase of "
                                + dir.resolve("wrong") + " does not decrypt its key"),
                        tuple(6, "edge.sites[1].tls.key", dir.resolve("aes.key") + ": none of the 2 passphrases of "
                                + dir.resolve("wrongs") + " decrypts its key"),
                        tuple(7, "edge.sites[2].tls.key", dir.resolve("pkcs8.key") + " holds a key encrypted with a"
                                + " passphrase, and tls.password-file names no file of passphrases (nginx's"
                                + " ssl_password_file)"),
                        tuple(8, "edge.sites[3].tls.password-file", dir.resolve("missing")
                                + " cannot be read (No such file or directory)"),
                        tuple(9, "edge.sites[4].tls.password-file", dir.resolve("empty") + " holds no passphrase"));
    }

    /**
     * nginx's ssl_stapling, ssl_stapling_file, ssl_stapling_responder and ssl_stapling_verify: off by default; the file
     * read with the configuration; the trusted CAs kept for the issuer's lookup.
     */
    @Test
    void staplingIsReadAsASiteSays() throws Exception {
        selfSigned("a", "/CN=a.test");
        selfSigned("ca", "/CN=Test CA");
        Files.write(dir.resolve("a.ocsp"), new byte[] {0x30, 0x03, 0x0a, 0x01, 0x00});
        EdgeSettings settings = load(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key }
                sites = [
                  { root = www, server-names = [a] }
                  { root = www, server-names = [b], tls { stapling = true, stapling-verify = true,
                                                          trusted-certificate = ca.pem } }
                  { root = www, server-names = [c], tls { stapling = true, stapling-file = a.ocsp,
                                                          stapling-responder = "http://127.0.0.1:8888/ocsp" } }
                ]""");
        List<TlsStapling> stapling = settings.sites().stream().map(site -> site.tls().stapling()).toList();
        assertThat(stapling.get(0)).isEqualTo(TlsStapling.OFF);
        assertThat(stapling.get(1).enabled()).isTrue();
        assertThat(stapling.get(1).verify()).isTrue();
        assertThat(stapling.get(1).response()).isNull();
        assertThat(stapling.get(1).trusted()).extracting(c -> c.getSubjectX500Principal().getName())
                .containsExactly("CN=Test CA");
        assertThat(stapling.get(2).file()).isEqualTo(dir.resolve("a.ocsp"));
        assertThat(stapling.get(2).response()).containsExactly(0x30, 0x03, 0x0a, 0x01, 0x00);
        assertThat(stapling.get(2).responder()).hasToString("http://127.0.0.1:8888/ocsp");
        assertThat(stapling.get(2).verify()).isFalse();
    }

    /** Stapling without a certificate, a stapling-file that cannot be read or is no DER, an https responder. */
    @Test
    void aStaplingProblemNamesItsKey() throws Exception {
        selfSigned("a", "/CN=a.test");
        List<ConfigProblem> problems = problems("server.listen = [\"127.0.0.1:19380\"]\n" + """
                sites = [
                  { root = www, server-names = [a], tls { stapling = true } }
                  { root = www, server-names = [b], tls { certificate = a.pem, key = a.key, stapling = true,
                                                          stapling-file = gone.der } }
                  { root = www, server-names = [c], tls { certificate = a.pem, key = a.key, stapling = true,
                                                          stapling-file = a.pem } }
                  { root = www, server-names = [d], tls { certificate = a.pem, key = a.key, stapling = true,
                                                          stapling-responder = "https://ocsp.example/" } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].tls.stapling", "true in a site without a certificate"),
                        tuple(6, "edge.sites[1].tls.stapling-file", dir.resolve("gone.der")
                                + " cannot be read (No such file or directory)"),
                        tuple(8, "edge.sites[2].tls.stapling-file", dir.resolve("a.pem")
                                + " holds no DER OCSP response"),
                        tuple(10, "edge.sites[3].tls.stapling-responder",
                                "\"https://ocsp.example/\" is not an http:// URL"));
    }

    /** nginx's ssl_ocsp, ssl_ocsp_responder and ssl_ocsp_cache: off by default; leaf, on, a responder, a cache. */
    @Test
    void clientOcspIsReadAsASiteSays() throws Exception {
        selfSigned("a", "/CN=a.test");
        selfSigned("ca", "/CN=Client CA");
        EdgeSettings settings = load(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key, verify-client = on, client-certificate = ca.pem }
                sites = [
                  { root = www, server-names = [a] }
                  { root = www, server-names = [b], tls { ocsp = leaf } }
                  { root = www, server-names = [c], tls { ocsp = on, ocsp-responder = "http://127.0.0.1:8888/ocsp",
                                                          ocsp-cache = 1000 } }
                  { root = www, server-names = [d], tls { ocsp = true } }
                ]""");
        List<TlsClientVerify.Ocsp> ocsp = settings.sites().stream().map(site -> site.clientVerify().ocsp()).toList();
        assertThat(ocsp.get(0)).isEqualTo(TlsClientVerify.Ocsp.OFF);
        assertThat(ocsp.get(1)).isEqualTo(new TlsClientVerify.Ocsp(TlsClientVerify.Ocsp.Checked.LEAF, null, 0));
        assertThat(ocsp.get(2)).isEqualTo(new TlsClientVerify.Ocsp(TlsClientVerify.Ocsp.Checked.ON,
                java.net.URI.create("http://127.0.0.1:8888/ocsp"), 1000));
        assertThat(ocsp.get(3).checked()).isEqualTo(TlsClientVerify.Ocsp.Checked.ON);
    }

    /**
     * OCSP without verify-client (nginx asks nothing then), with optional_no_ca (nginx: "ssl_ocsp" is incompatible
     * with "ssl_verify_client optional_no_ca"), an https responder (nginx: invalid URL prefix), an unknown value.
     */
    @Test
    void aClientOcspProblemNamesItsKey() throws Exception {
        selfSigned("a", "/CN=a.test");
        selfSigned("ca", "/CN=Client CA");
        List<ConfigProblem> problems = problems(LISTEN + """
                site-defaults.tls { certificate = a.pem, key = a.key, client-certificate = ca.pem }
                sites = [
                  { root = www, server-names = [a], tls { ocsp = leaf } }
                  { root = www, server-names = [b], tls { verify-client = optional_no_ca, ocsp = on } }
                  { root = www, server-names = [c], tls { verify-client = on, ocsp = leaf,
                                                          ocsp-responder = "https://ocsp.example/" } }
                  { root = www, server-names = [d], tls { verify-client = on, ocsp = chain } }
                ]""");
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple("edge.sites[0].tls.ocsp", "leaf, and tls.verify-client is off"),
                        tuple("edge.sites[1].tls.ocsp", "on, and tls.verify-client is optional_no_ca"),
                        tuple("edge.sites[2].tls.ocsp-responder", "\"https://ocsp.example/\" is not an http:// URL"),
                        tuple("edge.sites[3].tls.ocsp", "\"chain\" is not allowed"));
    }

    @Test
    void aPlainConfigurationHasNoTlsListener() throws Exception {
        EdgeSettings settings = load("server.listen = [\"127.0.0.1:19380\"]\nsites = [{ root = www }]");
        assertThat(settings.server().tls().listen()).isEmpty();
        assertThat(settings.sites().get(0).tls()).isNull();
    }

    /** A key and a self-signed certificate of {@code subject}, in {@code name}.key and {@code name}.pem. */
    private void selfSigned(String name, String subject) throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".pem",
                "-days", "2", "-subj", subject);
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(process.waitFor()).as(String.join(" ", command)).isZero();
    }

    private EdgeSettings load(String body) throws Exception {
        return new ConfigLoader().load(EdgeConfFile.write(dir, body));
    }

    private List<ConfigProblem> problems(String body) {
        try {
            load(body);
        } catch (ConfigException e) {
            return e.problems();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("loading should fail");
    }
}
