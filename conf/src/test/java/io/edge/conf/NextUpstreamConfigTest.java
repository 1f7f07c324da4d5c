package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.conf.LocationSettings.Condition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy location's proxy-next-upstream, -tries and -timeout (nginx's proxy_next_upstream and its two bounds), and a
 * FastCGI location's fastcgi-next-upstream and its bounds (nginx's fastcgi_next_upstream, which has no http_502 or
 * http_504).
 */
class NextUpstreamConfigTest {

    @TempDir
    Path dir;

    @Test
    void theDefaultIsNginxsErrorTimeoutUnbounded() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                proxy.backends.api { addresses = ["127.0.0.1:3000"] }
                sites = [{ root = www, locations = [{ match = "/", proxy = api }] }]
                """);
        assertThat(settings.sites().get(0).locations().get(0).proxy().nextUpstream())
                .isEqualTo(LocationSettings.NextUpstream.DEFAULT)
                .isEqualTo(new LocationSettings.NextUpstream(Set.of(Condition.ERROR, Condition.TIMEOUT), 0,
                        Duration.ZERO));
    }

    @Test
    void conditionsTriesAndTimeoutAreReadAsWrittenAndOffIsNone() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                proxy.backends.api { addresses = ["127.0.0.1:3000", "127.0.0.1:3001"] }
                location-defaults.proxy-next-upstream-tries = 3
                sites = [{ root = www, locations = [
                  { match = "/a/", proxy = api, proxy-next-upstream = [error, http_502, http_503, non_idempotent]
                    proxy-next-upstream-tries = 2, proxy-next-upstream-timeout = 10 s }
                  { match = "/b/", proxy = api, proxy-next-upstream = [off] }
                  { match = "/", proxy = api, proxy-next-upstream = [timeout, invalid_header, http_500, http_504,
                    http_403, http_404, http_429] }
                ] }]
                """);
        var locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).proxy().nextUpstream()).isEqualTo(new LocationSettings.NextUpstream(Set.of(
                Condition.ERROR, Condition.HTTP_502, Condition.HTTP_503, Condition.NON_IDEMPOTENT), 2,
                Duration.ofSeconds(10)));
        assertThat(locations.get(1).proxy().nextUpstream().conditions()).as("off").isEmpty();
        assertThat(locations.get(1).proxy().nextUpstream().tries()).as("location-defaults'").isEqualTo(3);
        assertThat(locations.get(2).proxy().nextUpstream().conditions()).containsExactlyInAnyOrder(Condition.TIMEOUT,
                Condition.INVALID_HEADER, Condition.HTTP_500, Condition.HTTP_504, Condition.HTTP_403,
                Condition.HTTP_404, Condition.HTTP_429);
    }

    @Test
    void statusesMapToTheirConditionsAnd403And404AreNoFailures() {
        assertThat(LocationSettings.NextUpstream.ofStatus(502)).isEqualTo(Condition.HTTP_502);
        assertThat(LocationSettings.NextUpstream.ofStatus(429)).isEqualTo(Condition.HTTP_429);
        assertThat(LocationSettings.NextUpstream.ofStatus(501)).as("not one of nginx's").isNull();
        assertThat(LocationSettings.NextUpstream.ofStatus(200)).isNull();
        assertThat(Condition.HTTP_503.isFailure()).isTrue();
        assertThat(Condition.HTTP_404.isFailure()).isFalse();
        assertThat(Condition.HTTP_403.isFailure()).isFalse();
    }

    /** Every problem at once, each with its line and key and what was expected. */
    @Test
    void badValuesAreProblemsWithTheirLineAndKey() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                proxy.backends.api { addresses = ["127.0.0.1:3000"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", proxy = api, proxy-next-upstream = [error, http_501] }
                  { match = "/b/", proxy = api, proxy-next-upstream = [off, error] }
                  { match = "/c/", proxy = api, proxy-next-upstream-tries = -1 }
                  { match = "/d/", proxy = api, proxy-next-upstream-timeout = -2 s }
                  { match = "/e/", proxy = api, proxy-next-upstream = [] }
                  { match = "/f/", proxy-next-upstream = [off] }
                  { match = "/g/", proxy = api, proxy-next-upstream = error }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        // location i is written on line 4 + i, each with one problem
        List<String> keys = List.of("proxy-next-upstream[1]", "proxy-next-upstream", "proxy-next-upstream-tries",
                "proxy-next-upstream-timeout", "proxy-next-upstream", "proxy-next-upstream", "proxy-next-upstream");
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrderElementsOf(
                IntStream.range(0, keys.size()).mapToObj(i -> tuple(4 + i, "edge.sites[0].locations[" + i + "]."
                        + keys.get(i))).toList());
        assertThat(e.problems()).extracting(ConfigProblem::message).contains(
                "\"http_501\" is not a proxy_next_upstream condition", "off with other conditions",
                "-1 is out of range", "no condition", "set in a location without proxy", "\"error\" is not a list");
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("proxy-next-upstream[1]")).extracting(
                ConfigProblem::expected).singleElement().asString().contains("http_502", "non_idempotent", "[off] alone");
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
    }

    /** nginx's bounds: the tries count every address tried, this one too; the time counts from the first try. */
    @Test
    void aFailedTryPassesOnWhileItsConditionIsListedAndTheBoundsAreNotReached() {
        LocationSettings.NextUpstream twoTries = new LocationSettings.NextUpstream(Set.of(Condition.ERROR), 2,
                Duration.ofSeconds(10));
        assertThat(twoTries.passesOn(Condition.ERROR, 0, 0)).isTrue();
        assertThat(twoTries.passesOn(Condition.TIMEOUT, 0, 0)).isFalse();
        assertThat(twoTries.passesOn(Condition.ERROR, 1, 0)).isFalse();
        assertThat(twoTries.passesOn(Condition.ERROR, 0, Duration.ofSeconds(10).toNanos())).isFalse();
        assertThat(LocationSettings.NextUpstream.DEFAULT.passesOn(Condition.TIMEOUT, 1000, Long.MAX_VALUE)).isTrue();
    }

    @Test
    void aFastCgiLocationsDefaultIsNginxsErrorTimeoutUnboundedAndOtherLocationsHaveNone() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                fastcgi.backends.php { addresses = ["unix:a.sock", "unix:b.sock"] }
                sites = [{ root = www, locations = [{ match = "/", fastcgi = php }, { match = "/static/" }] }]
                """);
        var locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).fastcgiNextUpstream()).isEqualTo(LocationSettings.NextUpstream.DEFAULT);
        assertThat(locations.get(1).fastcgiNextUpstream()).as("a location of files").isNull();
    }

    @Test
    void fastCgiConditionsTriesAndTimeoutAreReadAsWrittenAndLocationDefaultsApply() throws Exception {
        EdgeSettings settings = EdgeConfFile.load(dir, """
                fastcgi.backends.php { addresses = ["unix:a.sock", "unix:b.sock"] }
                location-defaults { fastcgi-next-upstream = [error, http_503], fastcgi-next-upstream-timeout = 5 s }
                sites = [{ root = www, locations = [
                  { match = "/a/", fastcgi = php, fastcgi-next-upstream = [error, timeout, invalid_header, http_500,
                    http_503, http_403, http_404, http_429, non_idempotent], fastcgi-next-upstream-tries = 2 }
                  { match = "/b/", fastcgi = php, fastcgi-next-upstream = [off] }
                  { match = "/c/", fastcgi = php }
                  { match = "/" }
                ] }]
                """);
        var locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).fastcgiNextUpstream()).isEqualTo(new LocationSettings.NextUpstream(
                Condition.FASTCGI, 2, Duration.ofSeconds(5)));
        assertThat(locations.get(0).fastcgiNextUpstream().conditions()).hasSize(9);
        assertThat(locations.get(1).fastcgiNextUpstream().conditions()).as("off").isEmpty();
        assertThat(locations.get(2).fastcgiNextUpstream()).as("location-defaults'").isEqualTo(
                new LocationSettings.NextUpstream(Set.of(Condition.ERROR, Condition.HTTP_503), 0,
                        Duration.ofSeconds(5)));
        assertThat(locations.get(3).fastcgiNextUpstream()).as("location-defaults' unused without fastcgi").isNull();
        assertThat(locations.get(3).proxy()).isNull();
    }

    /** Every problem at once, each with its line and key and what was expected; nginx's fastcgi_next_upstream's words. */
    @Test
    void badFastCgiValuesAreProblemsWithTheirLineAndKey() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:a.sock", "unix:b.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", fastcgi = php, fastcgi-next-upstream = [error, http_502] }
                  { match = "/b/", fastcgi = php, fastcgi-next-upstream = [off, error] }
                  { match = "/c/", fastcgi = php, fastcgi-next-upstream-tries = -1 }
                  { match = "/d/", fastcgi = php, fastcgi-next-upstream-timeout = -2 s }
                  { match = "/e/", fastcgi = php, fastcgi-next-upstream = [] }
                  { match = "/f/", fastcgi-next-upstream = [off] }
                  { match = "/g/", fastcgi = php, fastcgi-next-upstream = error }
                  { match = "/h/", fastcgi = php, fastcgi-next-upstream = [timeout, http_504] }
                  { match = "/i/", fastcgi-next-upstream-tries = 2 }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        // location i is written on line 4 + i, each with one problem
        List<String> keys = List.of("fastcgi-next-upstream[1]", "fastcgi-next-upstream", "fastcgi-next-upstream-tries",
                "fastcgi-next-upstream-timeout", "fastcgi-next-upstream", "fastcgi-next-upstream",
                "fastcgi-next-upstream", "fastcgi-next-upstream[1]", "fastcgi-next-upstream-tries");
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrderElementsOf(
                IntStream.range(0, keys.size()).mapToObj(i -> tuple(4 + i, "edge.sites[0].locations[" + i + "]."
                        + keys.get(i))).toList());
        assertThat(e.problems()).extracting(ConfigProblem::message).contains(
                "\"http_502\" is not a fastcgi_next_upstream condition", "off with other conditions",
                "-1 is out of range", "no condition", "set in a location without fastcgi", "\"error\" is not a list",
                "\"http_504\" is not a fastcgi_next_upstream condition");
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("locations[0].fastcgi-next-upstream[1]"))
                .extracting(ConfigProblem::expected).singleElement().asString()
                .contains("http_503", "http_429", "invalid_header", "non_idempotent", "[off] alone")
                .doesNotContain("http_502", "http_504");
        assertThat(e.problems()).filteredOn(p -> p.key().endsWith("locations[5].fastcgi-next-upstream"))
                .extracting(ConfigProblem::expected).singleElement().asString()
                .contains("only in a location with fastcgi = <backend>, or under location-defaults");
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(file));
    }

    /**
     * A bad value under location-defaults is a problem where it is written, said once, as a bad split-path-info's or
     * proxy-buffering's is, while no location has the fastcgi or proxy that would use it: found by --check-config, not
     * only once a PHP or proxy location is added.
     */
    @Test
    void badLocationDefaultsAreProblemsWhereWrittenWithoutALocationThatUsesThem() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults { fastcgi-next-upstream = [http_502], fastcgi-next-upstream-tries = -1,
                  proxy-next-upstream = [bogus], proxy-next-upstream-timeout = 5 }
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/b/" }] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(2, "edge.location-defaults.fastcgi-next-upstream[0]"),
                tuple(2, "edge.location-defaults.fastcgi-next-upstream-tries"),
                tuple(3, "edge.location-defaults.proxy-next-upstream[0]"),
                tuple(3, "edge.location-defaults.proxy-next-upstream-timeout"));
    }
}
