package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A limit's {@code log-level}, {@code log} and {@code dry-run}: nginx's limit_req_log_level, limit_req_dry_run and
 * limit_conn's, onto {@link LimitMode}.
 */
class LimitModeConfigTest {

    @TempDir
    Path dir;

    @Test
    void aLimitsLogLevelLogAndDryRunAreReadWithNginxsDefaults() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/", limit-req { rate = "1 r/s" }, limit-conn { max = 2 } }
                  { match = "/a/", limit-req { rate = "1 r/s", log-level = notice, log = throttled, dry-run = true } }
                  { match = "/b/", limit-conn { max = 2, zone = b, log-level = warn, dry-run = true } }
                  { match = "/c/", limit-req = [{ zone = x, rate = "1 r/s", dry-run = true, log-level = info }
                                                { zone = y, rate = "9 r/s", dry-run = true }] }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).limitReqs().get(0).mode()).as("error, a line for each, not a dry run, as nginx's")
                .isEqualTo(LimitMode.DEFAULT).isEqualTo(new LimitMode(LimitMode.Level.ERROR, true, false));
        assertThat(locations.get(0).limitConns().get(0).mode()).isEqualTo(LimitMode.DEFAULT);
        assertThat(locations.get(1).limitReqs().get(0).mode())
                .isEqualTo(new LimitMode(LimitMode.Level.NOTICE, false, true));
        assertThat(locations.get(2).limitConns())
                .containsExactly(new LimitConn("zone b", 2, 429, 128, null, new LimitMode(LimitMode.Level.WARN, true,
                        true)));
        assertThat(locations.get(3).limitReqs()).extracting(LimitReq::mode).containsExactly(
                new LimitMode(LimitMode.Level.INFO, true, true), new LimitMode(LimitMode.Level.ERROR, true, true));
        assertThat(locations.get(3).limitReqs()).extracting(LimitReq::zoneName).containsExactly("x", "y");
    }

    /**
     * location-defaults' log-level, log and dry-run are taken by a location that writes a limit of its own (a list, or
     * an object naming another zone), as nginx's limit_req_log_level and limit_req_dry_run are inherited apart from
     * limit_req; what the location writes wins. They were reference.conf's there (error, every, no dry run).
     */
    @Test
    void locationDefaultsModeIsInheritedByALocationWritingItsOwnLimits() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults {
                  limit-req { zone = site, rate = "9 r/s", log-level = warn, log = throttled, dry-run = true }
                  limit-conn { zone = site, max = 9, log-level = notice, dry-run = true }
                }
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req = [{ zone = x, rate = "1 r/s" }, { zone = y, rate = "2 r/s" }]
                                   limit-conn = [{ zone = x, max = 1 }] }
                  { match = "/b/", limit-req { zone = login, rate = "1 r/s" }, limit-conn { zone = other, max = 2 } }
                  { match = "/c/", limit-req = [{ zone = x, rate = "1 r/s", log-level = info, dry-run = false }] }
                  { match = "/d/" }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        LimitMode site = new LimitMode(LimitMode.Level.WARN, false, true);
        LimitMode siteConn = new LimitMode(LimitMode.Level.NOTICE, true, true);
        assertThat(locations.get(0).limitReqs()).extracting(LimitReq::mode).containsExactly(site, site);
        assertThat(locations.get(0).limitConns()).extracting(LimitConn::mode).containsExactly(siteConn);
        assertThat(locations.get(1).limitReqs()).extracting(LimitReq::mode).containsExactly(site);
        assertThat(locations.get(1).limitConns()).extracting(LimitConn::mode).containsExactly(siteConn);
        assertThat(locations.get(2).limitReqs()).extracting(LimitReq::mode)
                .containsExactly(new LimitMode(LimitMode.Level.INFO, false, false));
        assertThat(locations.get(3).limitReqs()).extracting(LimitReq::mode).containsExactly(site);
    }

    /**
     * A location nested in one that writes its own limits takes location-defaults' log-level, log and dry-run through
     * it, as nginx's nested location inherits limit_req_log_level and limit_req_dry_run from the location it is in,
     * which took them from the server; what the enclosing location writes wins over location-defaults'.
     */
    @Test
    void aNestedLocationTakesTheModeItsEnclosingLocationTook() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults {
                  limit-req { zone = site, rate = "9 r/s", log-level = warn, log = throttled, dry-run = true }
                  limit-conn { zone = site, max = 9, log-level = notice, dry-run = true }
                }
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req = [{ zone = x, rate = "1 r/s" }], limit-conn = [{ zone = x, max = 1 }]
                    locations = [{ match = "/a/b/", limit-req = [{ zone = y, rate = "2 r/s" }]
                                   limit-conn { zone = y, max = 2 } }] }
                  { match = "/c/", limit-req { zone = c, rate = "1 r/s", log-level = info }
                    locations = [{ match = "/c/d/", limit-req = [{ zone = z, rate = "2 r/s" }] }] }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        LimitMode site = new LimitMode(LimitMode.Level.WARN, false, true);
        LimitMode siteConn = new LimitMode(LimitMode.Level.NOTICE, true, true);
        assertThat(locations.get(0).limitReqs()).extracting(LimitReq::mode).containsExactly(site);
        assertThat(locations.get(0).locations().get(0).limitReqs()).extracting(LimitReq::mode).containsExactly(site);
        assertThat(locations.get(0).locations().get(0).limitConns()).extracting(LimitConn::mode)
                .containsExactly(siteConn);
        assertThat(locations.get(1).locations().get(0).limitReqs()).extracting(LimitReq::mode)
                .containsExactly(new LimitMode(LimitMode.Level.INFO, false, true));
    }

    /**
     * A list whose first entry turns location-defaults' dry run off turns it off for the entries that say nothing of it,
     * as nginx's limit_req_dry_run off is the location's: they took location-defaults' and the list was a problem (the
     * same dry-run in every entry).
     */
    @Test
    void aListsFirstEntryTurningTheDryRunOffTurnsItOffForTheList() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.limit-req { zone = site, rate = "9 r/s", dry-run = true }
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req = [{ zone = x, rate = "1 r/s", dry-run = false }, { zone = y, rate = "2 r/s" }] }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations().get(0).limitReqs()).extracting(limit -> limit.mode().dryRun())
                .containsExactly(false, false);
    }

    /** A wrong level location-defaults' limit gives the limits a location writes is said once, where it is written. */
    @Test
    void aBadInheritedLevelIsSaidAtLocationDefaults() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                location-defaults.limit-req { zone = site, rate = "9 r/s", log-level = debug }
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req = [{ zone = x, rate = "1 r/s" }, { zone = y, rate = "2 r/s" }] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(2, "edge.location-defaults.limit-req.log-level", "\"debug\" is not allowed"));
    }

    @Test
    void badLevelsLogsAndMixedDryRunsAreListedWithWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req { rate = "1 r/s", log-level = debug } }
                  { match = "/b/", limit-conn { max = 2, log = sometimes } }
                  { match = "/c/", limit-req { rate = "1 r/s", dry-run = maybe } }
                  { match = "/d/", limit-req = [{ zone = x, rate = "1 r/s" }
                                                { zone = y, rate = "9 r/s", dry-run = true }] }
                  { match = "/e/", limit-conn { dry-run = true } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message,
                        ConfigProblem::expected)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].limit-req.log-level", "\"debug\" is not allowed",
                                "one of error, warn, notice, info"),
                        tuple(4, "edge.sites[0].locations[1].limit-conn.log", "\"sometimes\" is not allowed",
                                "one of every, throttled"),
                        tuple(5, "edge.sites[0].locations[2].limit-req.dry-run", "\"maybe\" is not a boolean",
                                "true or false"),
                        tuple(7, "edge.sites[0].locations[3].limit-req[1].dry-run", "true where the list's first"
                                + " entry says false", "the same dry-run in every entry of a list, as nginx's"
                                + " limit_req_dry_run is the location's"),
                        tuple(8, "edge.sites[0].locations[4].limit-conn.dry-run", "set without a max, which a limit"
                                + " needs", "a max beside it, such as max = 2"));
    }
}
