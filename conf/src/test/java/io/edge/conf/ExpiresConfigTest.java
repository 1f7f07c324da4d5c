package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code expires} (nginx's) onto LocationSettings, and what is refused. */
class ExpiresConfigTest {

    @TempDir
    Path dir;

    @Test
    void offEpochMaxAndDurationsAreRead() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.expires = 1 h
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "/thumbs/", expires = 30 d },
                  { match = "/off/", expires = off },
                  { match = "/quoted-off/", expires = "off" },
                  { match = "/max/", expires = max },
                  { match = "/epoch/", expires = epoch },
                  { match = "/now/", expires = 0 }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations()).extracting(LocationSettings::match, LocationSettings::expires)
                .containsExactly(
                        tuple("/", Duration.ofHours(1)),
                        tuple("/thumbs/", Duration.ofDays(30)),
                        tuple("/off/", null),
                        tuple("/quoted-off/", null),
                        tuple("/max/", Duration.ofDays(3650)),
                        tuple("/epoch/", LocationSettings.EXPIRES_EPOCH),
                        tuple("/now/", Duration.ZERO));
    }

    @Test
    void theDefaultIsOff() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, "sites = [{ root = www }]"));
        assertThat(settings.sites().get(0).locations().get(0).expires()).isNull();
    }

    @Test
    void wordsThatAreNoDurationNegativeOrTooLongAndAStatusPageAreProblemsWithTheirLines() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", expires = forever },
                  { match = "/b/", expires = -5 s },
                  { match = "/c/", expires = 3651 d },
                  { match = "= /s", status = true, expires = 1 d }
                  { match = "/d/", expires = 3600 }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].locations[0].expires", 3),
                tuple("edge.sites[0].locations[1].expires", 4),
                tuple("edge.sites[0].locations[2].expires", 5),
                tuple("edge.sites[0].locations[3].expires", 6),
                tuple("edge.sites[0].locations[4].expires", 7));
        assertThat(e.problems().get(4).message()).isEqualTo("3600 has no unit");
        assertThat(e.problems().get(0).toString()).endsWith("expires: \"forever\" is not a duration "
                + "(expected: off, epoch (nginx's expires -1), max, or a duration such as 30 d (0 to 3650 d))");
        assertThat(e.problems().get(1).message()).isEqualTo("\"-5 s\" is out of range");
        // nginx's "expires -1" copied over: the expected names what it is here
        assertThat(e.problems().get(4).toString()).endsWith("(expected: off, epoch (nginx's expires -1), max, or a "
                + "duration such as 30 d (0 to 3650 d))");
    }
}
