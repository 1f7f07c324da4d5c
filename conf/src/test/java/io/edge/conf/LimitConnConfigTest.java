package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code limit-conn} (nginx's limit_conn and limit_conn_zone) onto LocationSettings. */
class LimitConnConfigTest {

    @TempDir
    Path dir;

    @Test
    void aLimitConnIsReadAndLocationsNamingAZoneShareItsName() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/downloads/", limit-conn { max = 2 } }
                  { match = "~ \\\\.php$", fastcgi = php, limit-conn { max = 8, zone = php, status = 503 } }
                  { match = "/api/", fastcgi = php, limit-conn { max = 4, zone = php } }
                ] }]
                fastcgi.backends { php { addresses = ["unix:php-fpm.sock"] } }
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).limitConns()).isEmpty();
        assertThat(locations.get(1).limitConns())
                .containsExactly(new LimitConn("location edge.sites[0].locations[1].limit-conn", 2, 429, 128));
        assertThat(locations.get(2).limitConns()).containsExactly(new LimitConn("zone php", 8, 503, 128));
        assertThat(locations.get(3).limitConns()).as("max and status are each location's, as nginx's")
                .containsExactly(new LimitConn("zone php", 4, 429, 128));
    }

    @Test
    void aLimitConnUnderLocationDefaultsHoldsEveryLocationAndOneOfItsOwnReplacesIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { limit-conn { max = 16, zone = all } }
                sites = [{ root = www, locations = [
                    { match = "/" }
                    { match = "/big/", limit-conn { max = 1, zone = null } }
                    { match = "= /old", return = "301 /new" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).limitConns()).containsExactly(new LimitConn("zone all", 16, 429, 128));
        assertThat(locations.get(1).limitConns())
                .containsExactly(new LimitConn("location edge.sites[0].locations[1].limit-conn", 1, 429, 128));
        assertThat(locations.get(2).limitConns()).as("the defaults' beside a return are no problem: it counts nothing")
                .containsExactly(new LimitConn("zone all", 16, 429, 128));
    }

    @Test
    void badLimitConnsAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-conn { status = 503 } }
                  { match = "/b/", limit-conn { max = 0 } }
                  { match = "/c/", limit-conn { max = two } }
                  { match = "/d/", limit-conn { max = 2, zone = "a zone" } }
                  { match = "/e/", limit-conn { max = 2, status = 302 } }
                  { match = "/f/", return = 410, limit-conn { max = 2 } }
                  { match = "~ ^/g/(.*)$", rewrite = "/x/$1", limit-conn { max = 2 } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].limit-conn.status", "set without a max, which a limit needs"),
                        tuple(4, "edge.sites[0].locations[1].limit-conn.max", "0 is out of range"),
                        tuple(5, "edge.sites[0].locations[2].limit-conn.max", "\"two\" is not a number"),
                        tuple(6, "edge.sites[0].locations[3].limit-conn.zone", "\"a zone\" is not a zone name"),
                        tuple(7, "edge.sites[0].locations[4].limit-conn.status", "302 is out of range"),
                        tuple(8, "edge.sites[0].locations[5].limit-conn.max", "set in a location with return, which"
                                + " answers first: nothing is counted"),
                        tuple(9, "edge.sites[0].locations[6].limit-conn.max", "set in a location with rewrite, which"
                                + " answers first: nothing is counted"));
    }
}
