package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code alias} (nginx's alias) onto LocationSettings, and where it cannot be. */
class AliasConfigTest {

    @TempDir
    Path dir;

    @BeforeEach
    void createDirectories() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Files.createDirectory(dir.resolve("thumbs"));
    }

    @Test
    void anAliasIsTheLocationsRootStandingForItsPrefix() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.root = www
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/thumbs/", alias = thumbs }
                  { match = "^~ /t/", alias = "thumbs/" }
                  { match = "/files/", root = thumbs }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        Path thumbs = dir.resolve("thumbs").toAbsolutePath().normalize();
        assertThat(locations.get(0).alias()).isFalse();
        assertThat(locations.get(0).root()).as("location-defaults' root, which an alias replaces")
                .isEqualTo(dir.resolve("www").toAbsolutePath().normalize());
        assertThat(locations.get(1).alias()).isTrue();
        assertThat(locations.get(1).root()).isEqualTo(thumbs);
        assertThat(locations.get(2).alias()).isTrue();
        assertThat(locations.get(2).root()).isEqualTo(thumbs);
        assertThat(locations.get(3).alias()).isFalse();
    }

    @Test
    void anAliasWhereItCannotBeIsListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults.alias = thumbs
                sites = [{ root = www, locations = [
                  { match = "/a/", alias = thumbs, root = www }
                  { match = "/b", alias = thumbs }
                  { match = "~ ^/c/(.*)$", alias = thumbs }
                  { match = "= /d/", alias = thumbs }
                  { match = "/e/", alias = thumbs, fastcgi = php }
                  { match = "/f/", alias = missing }
                ] }]
                fastcgi.backends.php { addresses = ["unix:/run/php/php-fpm.sock"] }
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        String expected = "alias in a prefix location of files whose match ends in /, such as"
                + " { match = \"/thumbs/\", alias = \"/srv/thumbs/\" }";
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                        ConfigProblem::expected)
                .contains(
                        tuple(4, "edge.sites[0].locations[0].alias", "set with root, which it replaces",
                                "alias or root, not both"),
                        tuple(5, "edge.sites[0].locations[1].alias", "set in a location whose match is not a prefix"
                                + " ending in /", expected),
                        tuple(6, "edge.sites[0].locations[2].alias", "set in a location whose match is not a prefix"
                                + " ending in /", expected),
                        tuple(7, "edge.sites[0].locations[3].alias", "set in a location whose match is not a prefix"
                                + " ending in /", expected),
                        tuple(8, "edge.sites[0].locations[4].alias", "set in a location that answers otherwise than"
                                + " with files (fastcgi)", expected),
                        tuple(9, "edge.sites[0].locations[5].alias", dir.toAbsolutePath().normalize()
                                .resolve("missing") + " does not exist", "the path of an existing directory"));
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::message)
                .contains(tuple(2, "set for every location: each would stand for one directory"));
    }
}
