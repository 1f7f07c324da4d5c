package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several limit-req and limit-conn in one location (nginx's several limit_req and limit_conn, each in its own zone),
 * and a zone keyed by a text of the request's variables (nginx's limit_req_zone key) instead of the client.
 */
class LimitZonesConfigTest {

    @TempDir
    Path dir;

    @Test
    void aListOfLimitsIsReadInOrderEachWithTheReferencesDefaultsAndItsKey() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { limit-req { rate = "1 r/s", burst = 7 } }
                sites = [{ root = www, locations = [
                  { match = "/", limit-req = [
                      { zone = perip, rate = "10 r/s", burst = 10, nodelay = true }
                      { zone = perserver, rate = "100 r/s", burst = 100, key = "$server_name" }
                      { rate = "1 r/m", key = "$http_x_api_key", status = 503 }
                    ]
                    limit-conn = [{ zone = perip, max = 10 }, { zone = perserver, max = 1000, key = "$server_name" }] }
                  { match = "/single/", limit-conn { max = 2 } }
                  { match = "/none/", limit-req = [] }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        LocationSettings both = locations.get(0);
        assertThat(both.limitReqs()).extracting(LimitReq::zone, LimitReq::rate, LimitReq::burst, LimitReq::delay,
                LimitReq::status).as("each entry with reference.conf's defaults, not location-defaults' limit-req")
                .containsExactly(tuple("zone perip", 10.0, 10, 10, 429), tuple("zone perserver", 100.0, 100, 0, 429),
                        tuple("location edge.sites[0].locations[0].limit-req[2]", 1 / 60.0, 0, 0, 503));
        assertThat(both.limitReqs().get(0).key()).as("the client").isNull();
        assertThat(both.limitReqs().get(1).key().parts()).containsExactly(new Return.Part(null, "server_name"));
        assertThat(both.limitReqs().get(2).key().parts()).containsExactly(new Return.Part(null, "http_x_api_key"));
        assertThat(both.limitConns()).extracting(LimitConn::zone, LimitConn::max)
                .containsExactly(tuple("zone perip", 10), tuple("zone perserver", 1000));
        assertThat(both.limitConns().get(1).key().parts()).containsExactly(new Return.Part(null, "server_name"));
        assertThat(locations.get(1).limitConns()).as("the single form, as before")
                .containsExactly(new LimitConn("location edge.sites[0].locations[1].limit-conn", 2, 429, 128));
        assertThat(locations.get(1).limitReqs()).as("location-defaults' own")
                .containsExactly(new LimitReq("location edge.sites[0].locations[1].limit-req", 1, 7, 0, 429, 128));
        assertThat(locations.get(2).limitReqs()).as("an empty list: none, the defaults' replaced").isEmpty();
    }

    /**
     * A list under location-defaults holds every location, nginx's limit_req at server level; a location's own, a
     * single object too, replaces it, with reference.conf's defaults under it (it said burst and the rest missing).
     */
    @Test
    void aListUnderLocationDefaultsHoldsEveryLocationAndOneOfItsOwnReplacesIt() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { limit-req = [{ zone = perip, rate = "5 r/s" }
                                                 { zone = all, rate = "50 r/s", key = "$server_name" }] }
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/login/", limit-req { zone = login, rate = "1 r/s" } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(0).limitReqs()).extracting(LimitReq::zone).containsExactly("zone perip", "zone all");
        assertThat(locations.get(1).limitReqs()).extracting(LimitReq::zone).containsExactly("zone login");
    }

    /**
     * A limit without a zone under location-defaults gives every location inheriting it a table of its own, as
     * reference.conf says ("each location counts on its own"); a zone shares one, nginx's server-level limit_req.
     * They were all named after location-defaults, so every location counted in one table.
     */
    @Test
    void aZonelessLimitUnderLocationDefaultsIsATableOfEachLocationsOwn() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { limit-req = [{ rate = "5 r/s" }, { zone = all, rate = "50 r/s" }]
                                    limit-conn { max = 2 } }
                sites = [{ root = www, locations = [{ match = "/a/" }, { match = "/b/" }] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations).extracting(location -> location.limitReqs().get(0).zone()).containsExactly(
                "location edge.sites[0].locations[0].limit-req[0]", "location edge.sites[0].locations[1].limit-req[0]");
        assertThat(locations).extracting(location -> location.limitReqs().get(1).zone())
                .containsExactly("zone all", "zone all");
        assertThat(locations).extracting(location -> location.limitConns().get(0).zone()).containsExactly(
                "location edge.sites[0].locations[0].limit-conn", "location edge.sites[0].locations[1].limit-conn");
    }

    /**
     * A key is its zone's (nginx's limit_req_zone): a location naming a zone of its own beside location-defaults'
     * keyed one counts it by the client unless it writes a key; it took the defaults' "$server_name", so its login
     * zone was one bucket for every client. One naming no zone is in the defaults' zone, with its key.
     */
    @Test
    void aLocationNamingItsOwnZoneTakesNoKeyFromLocationDefaults() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { limit-req { zone = all, rate = "50 r/s", key = "$server_name", burst = 100 } }
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/login/", limit-req { zone = login, rate = "1 r/s" } }
                  { match = "/api/", limit-req { zone = api, rate = "1 r/s", key = "$http_x_api_key" } }
                  { match = "/b/", limit-req { burst = 5 } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(1).limitReqs().get(0).key()).as("the client").isNull();
        assertThat(locations.get(2).limitReqs().get(0).key().parts())
                .containsExactly(new Return.Part(null, "http_x_api_key"));
        assertThat(locations.get(3).limitReqs().get(0).zone()).isEqualTo("zone all");
        assertThat(locations.get(3).limitReqs().get(0).key().parts())
                .containsExactly(new Return.Part(null, "server_name"));
    }

    /**
     * A location's own limit naming a zone other than location-defaults' is that zone's, nginx's limit_req in a
     * location replacing the inherited one whole: reference.conf's defaults under it, not location-defaults' burst,
     * nodelay, ipv6-prefix (or limit-conn's max); it took them through HOCON's merge, so a login zone of 1 r/s let a
     * burst of 20 through at once. Its status is location-defaults', as nginx's limit_req_status (limit_conn_status)
     * is inherited apart from limit_req. One naming the defaults' zone, or none, still inherits them all.
     */
    @Test
    void aLocationNamingAnotherZoneTakesNothingFromLocationDefaults() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults {
                  limit-req { rate = "10 r/s", burst = 20, nodelay = true, status = 503, ipv6-prefix = 64 }
                  limit-conn { zone = perip, max = 4, status = 503, ipv6-prefix = 64 }
                }
                sites = [{ root = www, locations = [
                  { match = "/" }
                  { match = "/login/", limit-req { zone = login, rate = "1 r/s" }
                    limit-conn { zone = login, max = 1 } }
                  { match = "/b/", limit-req { burst = 5 }, limit-conn { zone = perip, max = 2 } }
                ] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        assertThat(locations.get(1).limitReqs()).as("reference.conf's defaults under the login zone, but the status")
                .containsExactly(new LimitReq("zone login", 1, 0, 0, 503, 128));
        assertThat(locations.get(1).limitConns()).containsExactly(new LimitConn("zone login", 1, 503, 128));
        assertThat(locations.get(2).limitReqs()).as("no zone named: location-defaults' under it")
                .containsExactly(new LimitReq("location edge.sites[0].locations[2].limit-req", 10, 5, 5, 503, 64));
        assertThat(locations.get(2).limitConns()).as("the defaults' zone: its status and prefix")
                .containsExactly(new LimitConn("zone perip", 2, 503, 64));
    }

    /** A location naming location-defaults' keyed zone itself keeps its key (it was the client, a problem). */
    @Test
    void aLocationNamingTheDefaultsZoneKeepsItsKey() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults { limit-req { zone = all, rate = "50 r/s", key = "$server_name" } }
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/b/", limit-req { zone = all } }] }]
                """));
        assertThat(settings.sites().get(0).locations().get(1).limitReqs().get(0).key().parts())
                .containsExactly(new Return.Part(null, "server_name"));
    }

    @Test
    void aConstantKeyIsOneBucketForEveryRequest() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [{ match = "/", limit-req { rate = "5 r/s", key = all } }] }]
                """));
        assertThat(settings.sites().get(0).locations().get(0).limitReqs().get(0).key())
                .isEqualTo(VariableText.of("all"));
    }

    @Test
    void badListsAndKeysAreListedWithWhereAndWhatIsWrong() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", limit-req = [{ zone = z, rate = "1 r/s" }, { zone = z, rate = "1 r/s", burst = 2 }] }
                  { match = "/b/", limit-conn = [{ max = 1, zone = c, key = "$server_name" }, { max = 2, zone = c }] }
                  { match = "/c/", limit-req { rate = "1 r/s", zone = z, key = "$host" } }
                  { match = "/d/", limit-req { rate = "1 r/s", key = "$nope" } }
                  { match = "/e/", limit-req { rate = "1 r/s", key = "$server_name", ipv6-prefix = 64 } }
                  { match = "/f/", limit-req = [{ rate = "1 r/s", brust = 3 }] }
                  { match = "/g/", limit-conn { max = 1, key = "" } }
                  { match = "/h/", limit-req { rate = "1 r/s", key = "$upstream_cache_status" } }
                  { match = "/i/", limit-req = [5] }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].limit-req[1].zone", "zone z is already in this"
                                + " location's limit-req, at edge.sites[0].locations[0].limit-req[0]"),
                        tuple(4, "edge.sites[0].locations[1].limit-conn[1].zone", "the client as key differs from"
                                + " \"$server_name\", which edge.sites[0].locations[1].limit-conn[0] gives zone c,"
                                + " whose table is one"),
                        tuple(4, "edge.sites[0].locations[1].limit-conn[1].zone", "zone c is already in this"
                                + " location's limit-conn, at edge.sites[0].locations[1].limit-conn[0]"),
                        tuple(5, "edge.sites[0].locations[2].limit-req.key", "\"$host\" as key differs from the"
                                + " client, which edge.sites[0].locations[0].limit-req[0] gives zone z, whose table is"
                                + " one"),
                        tuple(6, "edge.sites[0].locations[3].limit-req.key", "\"$nope\" has unknown variable $nope"
                                + " " + known()),
                        tuple(7, "edge.sites[0].locations[4].limit-req.ipv6-prefix", "ipv6-prefix 64 set beside key,"
                                + " which counts requests by something else than the client"),
                        tuple(8, "edge.sites[0].locations[5].limit-req[0].brust", "unknown key (did you mean"
                                + " \"burst\"?)"),
                        tuple(9, "edge.sites[0].locations[6].limit-conn.key", "\"\" is no key: every request's would"
                                + " be empty, and none counted"),
                        tuple(10, "edge.sites[0].locations[7].limit-req.key", "\"$upstream_cache_status\" names a"
                                + " variable of the answer, which a limit counting the request before it has no value"
                                + " for"),
                        tuple(11, "edge.sites[0].locations[8].limit-req[0]", "5 is not an object"));
    }

    /** nginx's usual key, $binary_remote_addr, is the client: said so, not as an unknown variable. */
    @Test
    void nginxsBinaryRemoteAddrAsKeyIsSaidToBeTheClient() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/", limit-req { zone = perip, rate = "1 r/s", key = "$binary_remote_addr" } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(3, "edge.sites[0].locations[0].limit-req.key", "\"$binary_remote_addr\" is"
                        + " the client, which a limit counts by without a key"));
    }

    /** What a message about an unknown variable lists, as {@link SettingsMapper#variableFault} says it. */
    private static String known() {
        String fault = SettingsMapper.variableFault("nope", "limit-req key");
        return fault.substring(fault.indexOf('('));
    }
}
