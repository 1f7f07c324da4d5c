package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code autoindex} (nginx's autoindex, autoindex_format, _exact_size, _localtime) onto LocationSettings. */
class AutoindexConfigTest {

    @TempDir
    Path dir;

    @Test
    void enabledListsInTheFormatAskedWithNginxsDefaults() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/pub/", autoindex.enabled = true }
                  { match = "/api/", autoindex { enabled = true, format = json } }
                  { match = "/feed/", autoindex { enabled = true, format = xml, localtime = true } }
                  { match = "/big/", autoindex { enabled = true, exact-size = false } }
                  { match = "/off/", autoindex { enabled = false, format = json } }
                  { match = "~ \\\\.php$", fastcgi = php, autoindex.enabled = true }
                ] }]
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations).extracting(LocationSettings::autoindex).containsExactly(
                null,
                new Autoindex(Autoindex.Format.HTML, true, false),
                new Autoindex(Autoindex.Format.JSON, true, false),
                new Autoindex(Autoindex.Format.XML, true, true),
                new Autoindex(Autoindex.Format.HTML, false, false),
                null,
                new Autoindex(Autoindex.Format.HTML, true, false));
    }

    @Test
    void locationDefaultsListOnlyWhereFilesAreServed() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.autoindex.enabled = true
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/old/", return = "301 /new/" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).autoindex()).isEqualTo(new Autoindex(Autoindex.Format.HTML, true, false));
        assertThat(locations.get(1).autoindex()).as("a return lists nothing, and is no fault").isNull();
    }

    @Test
    void badAutoindexesAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", autoindex { enabled = true, format = jsn } }
                  { match = "/b/", autoindex { enabled = yes please } }
                  { match = "/c/", return = 404, autoindex.enabled = true }
                  { match = "/d/", autoindex { enabled = true, exact-size = 3 } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].autoindex.format", "\"jsn\" is not allowed (did you mean \"json\"?)"),
                        tuple(4, "edge.sites[0].locations[1].autoindex.enabled", "\"yes please\" is not a boolean"),
                        tuple(5, "edge.sites[0].locations[2].autoindex.enabled",
                                "true in a location with return, which serves no directory"),
                        tuple(6, "edge.sites[0].locations[3].autoindex.exact-size", "3 is not a boolean"));
    }
}
