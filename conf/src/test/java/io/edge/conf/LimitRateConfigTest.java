package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code limit-rate} (nginx's limit_rate and limit_rate_after) onto LocationSettings. */
class LimitRateConfigTest {

    @TempDir
    Path dir;

    @Test
    void aRateInBytesASecondAndTheBytesBeforeItHolds() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/downloads/", limit-rate { rate = 1 MiB, after = 10 MiB } }
                  { match = "/video/", limit-rate.rate = 500k }
                  { match = "/free/", limit-rate { rate = 0, after = 1 MiB } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).limitRate()).isNull();
        assertThat(locations.get(1).limitRate()).isEqualTo(new LimitRate(1 << 20, 10 << 20));
        assertThat(locations.get(2).limitRate()).as("HOCON's k, nginx's k: 1024").isEqualTo(new LimitRate(512_000, 0));
        assertThat(locations.get(3).limitRate()).as("nginx's limit_rate 0: off").isNull();
    }

    @Test
    void badLimitRatesAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-rate { after = 1 MiB } }
                  { match = "/b/", limit-rate { rate = -1 } }
                  { match = "/c/", limit-rate { rate = fast } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].limit-rate.after", "set without a rate, which a limit needs"),
                        tuple(4, "edge.sites[0].locations[1].limit-rate.rate", "-1 is out of range"),
                        tuple(5, "edge.sites[0].locations[2].limit-rate.rate", "\"fast\" is not a size"));
    }
}
