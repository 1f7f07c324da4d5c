package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.fastcgi.BackendGroupSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * proxy.backends (nginx's upstream) and a location's proxy, proxy-uri, proxy-headers and proxy-redirect (proxy_pass,
 * proxy_set_header, proxy_redirect).
 */
class ProxyConfigTest {

    @TempDir
    Path dir;

    private EdgeSettings load(String body) throws Exception {
        return new ConfigLoader().load(EdgeConfFile.write(dir, body));
    }

    @Test
    void aGroupIsAPoolAsAFastCgiGroupIsAndALocationNamesIt() throws Exception {
        EdgeSettings settings = load("""
                proxy.backends.api {
                  addresses = ["127.0.0.1:3000", "unix:/run/api.sock"]
                  max-connections = 4
                  queue { max-waiters = 10, timeout = 2 s, retry-after = 3 s }
                  timeouts { connect = 1 s, read = 5 s, write = 6 s }
                  keep-alive { idle-timeout = 2 s }
                  response-buffer { memory = 16 KiB, max-temp-file = 0 }
                }
                proxy.backends.metrics { addresses = ["localhost:80"] }
                sites = [{ root = www, locations = [
                  { match = "/api/", proxy = api, proxy-uri = "/", proxy-headers { Host = "$host", X-Request-Id = "$request_id" } }
                  { match = "= /metrics", proxy = metrics, proxy-buffering = false, proxy-request-buffering = false }
                  { match = "/" }
                ] }]
                """);
        BackendGroupSettings api = settings.proxyBackends().get("api");
        assertThat(api.addresses()).containsExactly("127.0.0.1:3000", "unix:/run/api.sock");
        assertThat(api.maxConnections()).isEqualTo(4);
        assertThat(api.queue()).isEqualTo(new BackendGroupSettings.Queue(10, Duration.ofSeconds(2), Duration.ofSeconds(3)));
        assertThat(api.timeouts()).isEqualTo(new BackendGroupSettings.Timeouts(Duration.ofSeconds(1),
                Duration.ofSeconds(5), Duration.ofSeconds(6)));
        assertThat(api.keepAlive().enabled()).as("reference.conf's default").isTrue();
        assertThat(api.keepAlive().idleTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(api.spawn()).isNull();
        assertThat(api.awaitWorker()).as("no php-fpm worker to wait for").isFalse();
        assertThat(api.responseBuffer()).isEqualTo(new BackendGroupSettings.ResponseBuffer(16 * 1024, 0));
        assertThat(settings.proxyBackends().get("metrics").responseBuffer()).as("reference.conf's defaults")
                .isEqualTo(new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30));
        assertThat(settings.backends()).as("FastCGI's groups are apart").isEmpty();

        LocationSettings apiLocation = settings.sites().get(0).locations().get(0);
        assertThat(apiLocation.handler()).isEqualTo(LocationSettings.Handler.PROXY);
        LocationSettings.Proxy proxy = apiLocation.proxy();
        assertThat(proxy.backend()).isEqualTo("api");
        assertThat(proxy.uri()).isEqualTo("/");
        assertThat(proxy.host()).isEqualTo("127.0.0.1:3000");
        // location-defaults' four, Host replaced, one added
        assertThat(proxy.headers().keySet()).containsExactlyInAnyOrder("Host", "X-Forwarded-For", "X-Real-IP",
                "X-Forwarded-Proto", "X-Request-Id");
        assertThat(proxy.headers().get("Host").parts()).isNotEmpty();

        LocationSettings metrics = settings.sites().get(0).locations().get(1);
        assertThat(proxy.upgrade()).as("reference.conf's default: a websocket passes").isTrue();
        assertThat(proxy.buffering()).as("reference.conf's default, as nginx's proxy_buffering").isTrue();
        assertThat(metrics.proxy().buffering()).isFalse();
        assertThat(proxy.requestBuffering()).as("reference.conf's default, as nginx's proxy_request_buffering")
                .isTrue();
        assertThat(metrics.proxy().requestBuffering()).isFalse();
        assertThat(metrics.proxy().uri()).isNull();
        assertThat(metrics.proxy().host()).as("nginx's $proxy_host leaves port 80 out").isEqualTo("localhost");
        assertThat(settings.sites().get(0).locations().get(2).proxy()).isNull();
    }

    @Test
    void aUnixSocketsProxyHostIsLocalhost() {
        assertThat(SettingsMapper.proxyHost("unix:/run/api.sock")).isEqualTo("localhost");
        assertThat(SettingsMapper.proxyHost("[::1]:8080")).isEqualTo("[::1]:8080");
    }

    /** Every problem at once, each with its line and key and what was expected. */
    @Test
    void problemsAreSaidWithTheirLineAndKey() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.api { addresses = ["nohost"] }
                proxy.backends.empty { max-connections = 0 }
                proxy.backends.ok { addresses = ["127.0.0.1:3000"], spawn.enabled = true }
                fastcgi.backends.php { addresses = ["127.0.0.1:9000"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", proxy = apx }
                  { match = "/b/", proxy = ok, fastcgi = php }
                  { match = "~ ^/c/", proxy = ok, proxy-uri = "/" }
                  { match = "/d/", proxy = ok, proxy-uri = "no-slash" }
                  { match = "/e/", proxy-uri = "/" }
                  { match = "/f/", proxy = ok, proxy-headers { Connection = "close" } }
                  { match = "/g/", proxy = ok, proxy-headers { X-Bad = "$nonesuch" } }
                  { match = "/h/", proxy-upgrade = false }
                  { match = "/i/", proxy = ok, proxy-upgrade = "sometimes", proxy-headers { Upgrade = "$http_upgrade" } }
                  { match = "/j/", proxy-buffering = false }
                  { match = "/k/", proxy = ok, proxy-buffering = "sometimes" }
                  { match = "/l/", proxy-request-buffering = false }
                  { match = "/m/", proxy = ok, proxy-request-buffering = "sometimes" }
                ] }]
                proxy.backends.big { addresses = ["127.0.0.1:3001"], response-buffer.memory = 1 GiB }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).contains(
                tuple(2, "edge.proxy.backends.api.addresses[0]"),
                tuple(3, "edge.proxy.backends.empty.max-connections"),
                tuple(4, "edge.proxy.backends.ok.spawn"),
                tuple(7, "edge.sites[0].locations[0].proxy"),
                tuple(8, "edge.sites[0].locations[1].proxy"),
                tuple(9, "edge.sites[0].locations[2].proxy-uri"),
                tuple(10, "edge.sites[0].locations[3].proxy-uri"),
                tuple(11, "edge.sites[0].locations[4].proxy-uri"),
                tuple(12, "edge.sites[0].locations[5].proxy-headers.Connection"),
                tuple(13, "edge.sites[0].locations[6].proxy-headers.X-Bad"),
                tuple(14, "edge.sites[0].locations[7].proxy-upgrade"),
                tuple(15, "edge.sites[0].locations[8].proxy-upgrade"),
                tuple(15, "edge.sites[0].locations[8].proxy-headers.Upgrade"),
                tuple(16, "edge.sites[0].locations[9].proxy-buffering"),
                tuple(17, "edge.sites[0].locations[10].proxy-buffering"),
                tuple(18, "edge.sites[0].locations[11].proxy-request-buffering"),
                tuple(19, "edge.sites[0].locations[12].proxy-request-buffering"),
                tuple(21, "edge.proxy.backends.big.response-buffer.memory"));
        assertThat(e.problems()).extracting(ConfigProblem::message).contains(
                "no backend named \"apx\" (did you mean \"api\"?)",
                "set with fastcgi = \"php\"",
                "set in a regex location, which names no prefix to replace",
                "\"no-slash\" is not a path",
                "set in a location without proxy", "\"sometimes\" is not a boolean");
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("proxy-headers.Upgrade")).extracting(
                ConfigProblem::expected).singleElement().asString().endsWith("goes to the backend by itself: proxy-upgrade)");
        assertThat(e.problems()).filteredOn(p -> p.key().equals("edge.sites[0].locations[12].proxy-request-buffering"))
                .extracting(ConfigProblem::message, ConfigProblem::expected).containsExactly(tuple(
                        "\"sometimes\" is not a boolean", "true or false (nginx's proxy_request_buffering on or off)"));
        assertThat(e.problems()).filteredOn(p -> p.key().equals("edge.sites[0].locations[1].proxy")).hasSize(1);
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
    }

    @Test
    void aGroupWithoutAddressesIsAProblem() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.api {}
                sites = [{ root = www }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::message, ConfigProblem::expected)
                .containsExactly(tuple("edge.proxy.backends.api.addresses", "no address",
                        "at least one address, such as \"127.0.0.1:3000\""));
    }

    /**
     * nginx's proxy_pass_header: the names a location passes of those hidden by default, lower case, location-defaults'
     * where a location has none of its own; a name that is no field name is a problem with its file, line and key.
     */
    @Test
    void proxyPassHeadersAreFieldNames() throws Exception {
        EdgeSettings settings = load("""
                proxy.backends.api { addresses = ["127.0.0.1:3000"] }
                location-defaults { proxy-pass-headers = ["X-Accel-Expires"] }
                sites = [{ root = www, locations = [
                  { match = "/api/", proxy = api, proxy-pass-headers = ["Server", "date"] }
                  { match = "/other/", proxy = api }
                ] }]
                """);
        assertThat(settings.sites().get(0).locations().get(0).proxy().passHeaders())
                .containsExactlyInAnyOrder("server", "date");
        assertThat(settings.sites().get(0).locations().get(1).proxy().passHeaders())
                .containsExactly("x-accel-expires");

        Path file = EdgeConfFile.write(dir, """
                proxy.backends.api { addresses = ["127.0.0.1:3000"] }
                sites = [{ root = www, locations = [
                  { match = "/api/", proxy = api, proxy-pass-headers = ["Server", "Bad Name", ""] }
                  { match = "/", proxy-pass-headers = ["Server"] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].locations[0].proxy-pass-headers[1]",
                                "\"Bad Name\" is not a header name"),
                        tuple(4, "edge.sites[0].locations[0].proxy-pass-headers[2]", "\"\" is not a header name"),
                        tuple(5, "edge.sites[0].locations[1].proxy-pass-headers", "set in a location without proxy"));
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
    }

    private static List<String> redirects(LocationSettings location) {
        return location.proxy().redirects().stream().map(r -> (r.regex() != null ? "(regex)"
                : r.from().constant() != null ? r.from().constant() : "(variable)") + " -> " + (r.to().constant() != null ? r.to().constant() : "(variable)")).toList();
    }

    @Test
    void proxyRedirectIsNginxsDefaultOffOrPairsInOrder() throws Exception {
        EdgeSettings settings = load("""
                proxy.backends.api { addresses = ["127.0.0.1:3000"] }
                proxy.backends.web { addresses = ["localhost:80"] }
                sites = [{ root = www, locations = [
                  { match = "/api/", proxy = api, proxy-uri = "/" }
                  { match = "/app/", proxy = web }
                  { match = "~ ^/r/", proxy = api }
                  { match = "= /exact", proxy = api, proxy-uri = "/v2/exact" }
                  { match = "/off/", proxy = api, proxy-uri = "/", proxy-redirect = off }
                  { match = "/quoted-off/", proxy = api, proxy-redirect = "off" }
                  { match = "/pairs/", proxy = api, proxy-uri = "/", proxy-redirect = [
                    { from = "http://app.internal/", to = "https://$host/" }, default, { from = "/", to = "/pairs/" }
                    { from = "~*^https?://(?<site>[a-z.]+)/(.*)$", to = "/$site/$2" } ] }
                ] }]
                """);
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(redirects(locations.get(0))).containsExactly("http://127.0.0.1:3000/ -> /api/");
        assertThat(redirects(locations.get(1))).as("no proxy-uri: proxy_pass http://web; and port 80 left out")
                .containsExactly("http://localhost/ -> /");
        assertThat(redirects(locations.get(2))).containsExactly("http://127.0.0.1:3000/ -> /");
        assertThat(redirects(locations.get(3))).containsExactly("http://127.0.0.1:3000/v2/exact -> /exact");
        assertThat(locations.get(4).proxy().redirects()).isEmpty();
        assertThat(locations.get(5).proxy().redirects()).isEmpty();
        assertThat(redirects(locations.get(6))).containsExactly("http://app.internal/ -> (variable)",
                "http://127.0.0.1:3000/ -> /pairs/", "/ -> /pairs/", "(regex) -> (variable)");
        java.util.regex.Pattern regex = locations.get(6).proxy().redirects().get(3).regex();
        assertThat(regex.pattern()).isEqualTo("^https?://(?<site>[a-z.]+)/(.*)$");
        assertThat(regex.matcher("HTTP://App/x").matches()).as("~*: case ignored").isTrue();
    }

    /**
     * A pair's {@code to} names the captures of its own {@code from} regex, in place of the location's: a capture past
     * them says so, as one past the location's does where the pair's from is no regex.
     */
    @Test
    void aCaptureBeyondAProxyRedirectRegexNamesItsRegex() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.ok { addresses = ["127.0.0.1:3000"] }
                sites = [{ root = www, locations = [
                  { match = "~ ^/r/(a)/(b)/", proxy = ok, proxy-redirect = [
                    { from = "~^http://x/(.*)$", to = "/$2" }, { from = "http://y/", to = "/$3" } ] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.sites[0].locations[0].proxy-redirect[0].to",
                        "\"/$2\" has capture $2, but its from's regex has 1 group"),
                tuple("edge.sites[0].locations[0].proxy-redirect[1].to",
                        "\"/$3\" has capture $3, but the location's regex has 2 groups"));
    }

    @Test
    void aBadProxyRedirectIsAProblem() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.ok { addresses = ["127.0.0.1:3000"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", proxy = ok, proxy-redirect = sometimes }
                  { match = "/b/", proxy = ok, proxy-redirect = [{ from = "~^http://(.*$", to = "/x" }, { from = "~^http://(.*)$", to = "/$2" }] }
                  { match = "/c/", proxy = ok, proxy-redirect = [{ from = "http://x/" }, { to = "/" }, 3] }
                  { match = "/d/", proxy = ok, proxy-redirect = [{ from = "http://x/", to = "/$nonesuch", form = "y" }] }
                  { match = "/e/", proxy-redirect = off }
                  { match = "/f/", proxy = ok, proxy-redirect = [{ from = "http://x/ y", to = "/" }] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).contains(
                tuple(4, "edge.sites[0].locations[0].proxy-redirect"),
                tuple(5, "edge.sites[0].locations[1].proxy-redirect[0].from"),
                tuple(5, "edge.sites[0].locations[1].proxy-redirect[1].to"),
                tuple(6, "edge.sites[0].locations[2].proxy-redirect[0].to"),
                tuple(6, "edge.sites[0].locations[2].proxy-redirect[1].from"),
                tuple(6, "edge.sites[0].locations[2].proxy-redirect[2]"),
                tuple(7, "edge.sites[0].locations[3].proxy-redirect[0].form"),
                tuple(7, "edge.sites[0].locations[3].proxy-redirect[0].to"),
                tuple(8, "edge.sites[0].locations[4].proxy-redirect"),
                tuple(9, "edge.sites[0].locations[5].proxy-redirect[0].from"));
        assertThat(e.problems()).extracting(ConfigProblem::message).contains("\"sometimes\" is not a proxy-redirect",
                "missing",
                "3 is not a pair or default", "unknown key (did you mean \"from\"?)", "set in a location without proxy",
                "\"http://x/ y\" is not a URL");
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("locations[0].proxy-redirect"))
                .extracting(ConfigProblem::expected).singleElement().asString().startsWith("default, off, or a list");
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
    }

    @Test
    void tlsToTheBackendsIsReadWithNginxsDefaults() throws Exception {
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Backend CA").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(openssl.waitFor()).isZero();
        EdgeSettings settings = load("""
                proxy.backends.api { addresses = ["[::1]:8443"], tls.enabled = true }
                proxy.backends.checked { addresses = ["10.0.0.1:443"], tls { enabled = true, verify = true,
                  trusted-certificate = "ca.pem", server-name = true, name = "api.internal", verify-depth = 2,
                  protocols = ["TLSv1.3"], session-reuse = false } }
                proxy.backends.plain { addresses = ["127.0.0.1:3000"] }
                sites = [{ root = www, locations = [{ match = "/api/", proxy = api }] }]
                """);
        assertThat(settings.proxyBackends().get("api").tls()).isEqualTo(new BackendGroupSettings.Tls(false, List.of(),
                1, false, "::1", List.of("TLSv1.2", "TLSv1.3"), true));
        BackendGroupSettings.Tls checked = settings.proxyBackends().get("checked").tls();
        assertThat(checked.trusted()).hasSize(1);
        assertThat(checked).isEqualTo(new BackendGroupSettings.Tls(true, checked.trusted(), 2, true, "api.internal",
                List.of("TLSv1.3"), false));
        assertThat(settings.proxyBackends().get("plain").tls()).isNull();
        assertThat(settings.sites().get(0).locations().get(0).proxy().redirects().get(0).from())
                .as("proxy_redirect default of proxy_pass https://").isEqualTo(VariableText.of("https://[::1]:8443/"));
    }

    @Test
    void tlsWithAUnixSocketABadCaFileOrVerifyWithoutOneIsAProblemWhereWritten() throws Exception {
        java.nio.file.Files.writeString(dir.resolve("bad.pem"), "not a certificate\n");
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.a { addresses = ["unix:/run/api.sock"], tls.enabled = true }
                proxy.backends.b { addresses = ["127.0.0.1:1"], tls { enabled = true, trusted-certificate = "bad.pem" } }
                proxy.backends.c { addresses = ["127.0.0.1:2"], tls { enabled = true, verify = true } }
                proxy.backends.d { addresses = ["127.0.0.1:3"], tls { enabled = true, protocols = ["SSLv3"] } }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).contains(
                tuple(2, "edge.proxy.backends.a.addresses"),
                tuple(3, "edge.proxy.backends.b.tls.trusted-certificate"),
                tuple(4, "edge.proxy.backends.c.tls.verify"),
                tuple(5, "edge.proxy.backends.d.tls.protocols[0]"));
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
    }

    @Test
    void aClientCertificateCrlAndCiphersAreReadAsASitesAre() throws Exception {
        Process openssl = new ProcessBuilder("sh", "-c", "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key"
                + " -out ca.pem -days 2 -subj /CN=CA && openssl pkcs8 -topk8 -v2 aes-256-cbc -in ca.key -out enc.key"
                + " -passout pass:s3cret && printf 's3cret\\n' > pass && mkdir db && touch db/index.txt"
                + " && printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=db/index.txt\\ndefault_md=sha256\\n"
                + "crlnumber=db/crlnumber\\ndefault_crl_days=2\\n' > ca.cnf && echo 1000 > db/crlnumber"
                + " && openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out ca.crl")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile())
                .start();
        assertThat(openssl.waitFor()).as(java.nio.file.Files.readString(dir.resolve("openssl.log"))).isZero();
        EdgeSettings settings = load("""
                proxy.backends.api { addresses = ["127.0.0.1:8443"], tls { enabled = true, verify = true,
                  trusted-certificate = "ca.pem", crl = "ca.crl", certificate = "ca.pem", key = "enc.key",
                  password-file = "pass", ciphers = ["ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"] } }
                sites = [{ root = www, locations = [{ match = "/api/", proxy = api }] }]
                """);
        BackendGroupSettings.Tls tls = settings.proxyBackends().get("api").tls();
        assertThat(tls.certificate()).hasSize(1);
        assertThat(tls.key().getAlgorithm()).isEqualTo("RSA");
        assertThat(tls.revocations()).hasSize(1);
        assertThat(tls.ciphers()).containsExactly("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    }

    @Test
    void aBackendCertificateWithoutItsKeyUnreadableFilesAndTlsOffAreProblemsWhereWritten() throws Exception {
        java.nio.file.Files.writeString(dir.resolve("bad.pem"), "not a certificate\n");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                "c.key", "-out", "c.pem", "-days", "2", "-subj", "/CN=edge").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(openssl.waitFor()).isZero();
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.a { addresses = ["127.0.0.1:1"], tls { enabled = true, certificate = "bad.pem" } }
                proxy.backends.b { addresses = ["127.0.0.1:2"], tls { enabled = true, key = "k.pem",
                  certificate = "missing.pem" } }
                proxy.backends.c { addresses = ["127.0.0.1:3"], tls { certificate = "c.pem", key = "c.key" } }
                proxy.backends.d { addresses = ["127.0.0.1:4"], tls { enabled = true, crl = "bad.pem" } }
                proxy.backends.e { addresses = ["127.0.0.1:5"], tls { enabled = true, ciphers = ["aNULL:!RC4"] } }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).contains(
                tuple(2, "edge.proxy.backends.a.tls.key"),
                tuple(4, "edge.proxy.backends.b.tls.certificate"),
                tuple(3, "edge.proxy.backends.b.tls.key"),
                tuple(5, "edge.proxy.backends.c.tls.certificate"),
                tuple(5, "edge.proxy.backends.c.tls.key"),
                tuple(6, "edge.proxy.backends.d.tls.crl"),
                tuple(7, "edge.proxy.backends.e.tls.ciphers[0]"));
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
        assertThat(e.getMessage()).contains("nginx's proxy_ssl_certificate and proxy_ssl_certificate_key",
                "missing.pem cannot be read", "set, and tls.enabled is false", "holds no CRL");
    }

    @Test
    void aBackendKeyThatCannotBeDecryptedOrIsNotTheCertificatesIsAProblemNamingNginxsProxySslDirectives()
            throws Exception {
        Process openssl = new ProcessBuilder("sh", "-c", "openssl req -x509 -newkey rsa:2048 -nodes -keyout c.key"
                + " -out c.pem -days 2 -subj /CN=edge && openssl genpkey -algorithm RSA -out other.key"
                + " && openssl pkcs8 -topk8 -v2 aes-256-cbc -in c.key -out enc.key -passout pass:s3cret"
                + " && printf 'wrong\\n' > wrong").directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(openssl.waitFor()).as(java.nio.file.Files.readString(dir.resolve("openssl.log"))).isZero();
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.a { addresses = ["127.0.0.1:1"], tls { enabled = true, certificate = c.pem, key = enc.key } }
                proxy.backends.b { addresses = ["127.0.0.1:2"], tls { enabled = true, certificate = c.pem, key = enc.key,
                  password-file = wrong } }
                proxy.backends.c { addresses = ["127.0.0.1:3"], tls { enabled = true, certificate = c.pem, key = other.key } }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .contains(
                        tuple(2, "edge.proxy.backends.a.tls.key", dir.resolve("enc.key") + " holds a key encrypted"
                                + " with a passphrase, and tls.password-file names no file of passphrases (nginx's"
                                + " proxy_ssl_password_file)"),
                        tuple(3, "edge.proxy.backends.b.tls.key", dir.resolve("enc.key") + ": the passphrase of "
                                + dir.resolve("wrong") + " does not decrypt its key"));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key)
                .contains(tuple(5, "edge.proxy.backends.c.tls.key"));
        assertThat(e.getMessage()).doesNotContain("nginx's ssl_");
    }
}
