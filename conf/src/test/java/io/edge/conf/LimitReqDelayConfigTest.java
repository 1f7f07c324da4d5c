package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code delay} of a location's limit-req, nginx's {@code delay=}: how many of the burst go at once. */
class LimitReqDelayConfigTest {

    @TempDir
    Path dir;

    /** Each location's, as its burst: locations sharing a zone may give different ones; nodelay is the whole burst. */
    @Test
    void aDelayIsEachLocationsAndNodelayIsTheWholeBurst() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/app/", limit-req { rate = "1 r/s", burst = 5, delay = 2 } }
                  { match = "/login", limit-req { rate = "1 r/s", burst = 5, delay = 1, zone = auth } }
                  { match = "/reset", limit-req { rate = "1 r/s", burst = 5, zone = auth } }
                  { match = "/api/", limit-req { rate = "1 r/s", burst = 4, nodelay = true } }
                  { match = "/all/", limit-req { rate = "1 r/s", burst = 3, delay = 3 } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations).extracting(location -> location.limitReqs().get(0).delay())
                .containsExactly(2, 1, 0, 4, 3);
    }

    /**
     * A delay that is no count, one past the burst (which nginx takes as nodelay), or one beside nodelay = true (of
     * which nginx takes the one written last) is a problem, named by the key the location wrote. One beside a burst
     * that is itself wrong says nothing more. The defaults' own is told once, where they are written.
     */
    @Test
    void badDelaysAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults.limit-req { rate = "1 r/s", delay = 2 }
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req { rate = "1 r/s", burst = 5, delay = -1 } }
                  { match = "/b/", limit-req { rate = "1 r/s", burst = 5, delay = "two" } }
                  { match = "/c/", limit-req { rate = "1 r/s", burst = 2, delay = 3 } }
                  { match = "/d/", limit-req { rate = "1 r/s", burst = 5, delay = 2, nodelay = true } }
                  { match = "/e/", limit-req { rate = "1 r/s", burst = 5, nodelay = true } }
                  { match = "/f/", limit-req { rate = "1 r/s", burst = 1 } }
                  { match = "/g/", limit-req { rate = "1 r/s", burst = "many" } }
                  { match = "/h/", limit-req { rate = "1 r/s", burst = 5, delay = 0, nodelay = true } }
                  { match = "/i/", limit-req { rate = "1 r/s", burst = 5 } }
                  { match = "/j/" }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(4, "edge.sites[0].locations[0].limit-req.delay", "-1 is out of range"),
                        tuple(5, "edge.sites[0].locations[1].limit-req.delay", "\"two\" is not a number"),
                        tuple(6, "edge.sites[0].locations[2].limit-req.delay", "delay 3 is more than the burst of 2,"
                                + " all that can go at once (nginx takes it as nodelay)"),
                        tuple(7, "edge.sites[0].locations[3].limit-req.delay", "set beside nodelay = true: nodelay"
                                + " answers the whole burst at once, delay its first 2"),
                        tuple(8, "edge.sites[0].locations[4].limit-req.nodelay", "set beside delay = 2: nodelay"
                                + " answers the whole burst at once, delay its first 2"),
                        tuple(9, "edge.sites[0].locations[5].limit-req.burst", "delay 2 is more than the burst of 1,"
                                + " all that can go at once (nginx takes it as nodelay)"),
                        tuple(10, "edge.sites[0].locations[6].limit-req.burst", "\"many\" is not a number"),
                        tuple(2, "edge.location-defaults.limit-req.delay", "delay 2 is more than the burst of 0,"
                                + " all that can go at once (nginx takes it as nodelay)"));
    }
}
