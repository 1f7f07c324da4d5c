package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ipv6-prefix} of a location's limit-req and limit-conn: how much of an IPv6 client's address names it. */
class LimitIpv6PrefixConfigTest {

    @TempDir
    Path dir;

    @Test
    void anIpv6PrefixIsReadAndEachAddressIsAClientOfItsOwnWithoutOne() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/login", limit-req { rate = "1 r/s", zone = auth, ipv6-prefix = 64 } }
                  { match = "/reset", limit-req { rate = "1 r/s", zone = auth, ipv6-prefix = 64 } }
                  { match = "/downloads/", limit-conn { max = 2, ipv6-prefix = 56 } }
                  { match = "/api/", limit-req { rate = "1 r/s" }, limit-conn { max = 2 } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).limitReqs().get(0).ipv6Prefix()).isEqualTo(64);
        assertThat(locations.get(1).limitReqs().get(0).ipv6Prefix()).isEqualTo(64);
        assertThat(locations.get(2).limitConns().get(0).ipv6Prefix()).isEqualTo(56);
        assertThat(locations.get(3).limitReqs().get(0).ipv6Prefix()).as("the default: the whole address")
                .isEqualTo(128);
        assertThat(locations.get(3).limitConns().get(0).ipv6Prefix()).isEqualTo(128);
    }

    /** A limit-conn zone is another table than a limit-req one of the same name: /g/'s is no problem. */
    @Test
    void badIpv6PrefixesAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req { rate = "1 r/s", ipv6-prefix = 0 } }
                  { match = "/b/", limit-conn { max = 2, ipv6-prefix = 129 } }
                  { match = "/c/", limit-req { rate = "1 r/s", ipv6-prefix = "/64" } }
                  { match = "/d/", limit-req { rate = "1 r/s", zone = z, ipv6-prefix = 64 } }
                  { match = "/e/", limit-req { rate = "1 r/s", zone = z } }
                  { match = "/f/", limit-req { rate = "1 r/s", zone = z, ipv6-prefix = 48 } }
                  { match = "/g/", limit-conn { max = 2, zone = z } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].limit-req.ipv6-prefix", "0 is out of range"),
                        tuple(4, "edge.sites[0].locations[1].limit-conn.ipv6-prefix", "129 is out of range"),
                        tuple(5, "edge.sites[0].locations[2].limit-req.ipv6-prefix", "\"/64\" is not a number"),
                        tuple(7, "edge.sites[0].locations[4].limit-req.zone", "ipv6-prefix 128 differs from the 64"
                                + " edge.sites[0].locations[3].limit-req gives zone z, whose table of clients is one"),
                        tuple(8, "edge.sites[0].locations[5].limit-req.ipv6-prefix", "ipv6-prefix 48 differs from the"
                                + " 64 edge.sites[0].locations[3].limit-req gives zone z, whose table of clients is one"));
        assertThat(e.problems()).filteredOn(problem -> problem.line() == 3).extracting(ConfigProblem::expected)
                .singleElement().asString().contains("1", "128");
    }
}
