package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code headers} (nginx's add_header) onto LocationSettings, and what is refused. */
class HeadersConfigTest {

    @TempDir
    Path dir;

    @Test
    void aLocationsHeadersAreAddedToThoseOfTheDefaults() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.headers { X-Content-Type-Options = nosniff }
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "/api/", headers { "Access-Control-Allow-Origin" = "*", Cache-Control = "no-store" } }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations().get(0).headers())
                .containsExactly(entry("X-Content-Type-Options", "nosniff"));
        assertThat(settings.sites().get(0).locations().get(1).headers()).containsOnly(
                entry("Access-Control-Allow-Origin", "*"), entry("Cache-Control", "no-store"),
                entry("X-Content-Type-Options", "nosniff"));
    }

    @Test
    void aLocationsHeaderOfTheSameNameReplacesTheDefaultsAndAnEmptyOneIsKeptToDropIt() throws Exception {
        // An empty value adds no field (ServerExchange, as nginx): "" is how one location drops a default
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.headers { X-Frame-Options = DENY }
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "/embed/", headers { X-Frame-Options = SAMEORIGIN } },
                  { match = "/widget/", headers { X-Frame-Options = "" } }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations().get(1).headers())
                .containsExactly(entry("X-Frame-Options", "SAMEORIGIN"));
        assertThat(settings.sites().get(0).locations().get(2).headers()).containsExactly(entry("X-Frame-Options", ""));
    }

    @Test
    void noneByDefault() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, "sites = [{ root = www }]"));
        assertThat(settings.sites().get(0).locations().get(0).headers()).isEmpty();
    }

    @Test
    void badNamesEdgesOwnHeadersLineBreaksAndNamesTwiceAreProblemsWithTheirLines() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", headers { "X Bad" = v } },
                  { match = "/b/", headers { Content-Length = "5" } },
                  { match = "/c/", headers { X-Split = "a\\r\\nSet-Cookie: x=1" } },
                  { match = "/d/", headers { X-Twice = a, x-twice = b } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple(3, "\"X Bad\" is not a header name"),
                tuple(4, "Content-Length is edge's to set"),
                tuple(5, "\"a\\r\\nSet-Cookie: x=1\" is not a header value"),
                tuple(6, "x-twice is set twice (names are compared ignoring case)"));
    }
}
