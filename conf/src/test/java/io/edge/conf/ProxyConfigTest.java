package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.fastcgi.BackendGroupSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** proxy.backends (nginx's upstream) and a location's proxy, proxy-uri and proxy-headers (proxy_pass, proxy_set_header). */
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
                }
                proxy.backends.metrics { addresses = ["localhost:80"] }
                sites = [{ root = www, locations = [
                  { match = "/api/", proxy = api, proxy-uri = "/", proxy-headers { Host = "$host", X-Request-Id = "$request_id" } }
                  { match = "= /metrics", proxy = metrics }
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
                ] }]
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
                tuple(15, "edge.sites[0].locations[8].proxy-headers.Upgrade"));
        assertThat(e.problems()).extracting(ConfigProblem::message).contains(
                "no backend named \"apx\" (did you mean \"api\"?)",
                "set with fastcgi = \"php\"",
                "set in a regex location, which names no prefix to replace",
                "\"no-slash\" is not a path",
                "set in a location without proxy", "\"sometimes\" is not a boolean");
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("proxy-headers.Upgrade")).extracting(
                ConfigProblem::expected).singleElement().asString().endsWith("goes to the backend by itself: proxy-upgrade)");
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
}
