package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's body-limit: the server's unless set, in bytes, never negative; 0, as server.limits.body, none. */
class BodyLimitConfigTest {

    @TempDir
    Path dir;

    @Test
    void aLocationsOwnLimitOrTheServers() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server.limits.body = 2 MiB
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/upload/", body-limit = 64 MiB }] }]
                """));
        LocationSettings plain = settings.sites().get(0).locations().get(0);
        LocationSettings upload = settings.sites().get(0).locations().get(1);
        assertThat(plain.bodyLimit()).isEqualTo(LocationSettings.SERVER_BODY_LIMIT);
        assertThat(plain.bodyLimit(settings.server().limits().body())).isEqualTo(2L << 20);
        assertThat(upload.bodyLimit(settings.server().limits().body())).isEqualTo(64L << 20);
    }

    @Test
    void zeroIsNoLimitAsNginxsClientMaxBodySize0() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server.limits.body = 0
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/upload/", body-limit = 0 }] }]
                """));
        LocationSettings plain = settings.sites().get(0).locations().get(0);
        LocationSettings upload = settings.sites().get(0).locations().get(1);
        assertThat(settings.server().limits().body()).isEqualTo(Long.MAX_VALUE);
        assertThat(plain.bodyLimit(settings.server().limits().body())).isEqualTo(Long.MAX_VALUE);
        assertThat(upload.bodyLimit(1024)).as("under a server limit of 1 KiB").isEqualTo(Long.MAX_VALUE);
    }

    /**
     * A php-fpm edge spawns takes the bodies edge passes it (its post_max_size and upload_max_filesize): the largest
     * body limit of the locations it serves; none when one of them has none; the server's for a pool no location
     * names. A backend edge does not spawn is not edge's to set.
     */
    @Test
    void aSpawnedPoolTakesTheLargestBodyOfItsLocations() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server.limits.body = 2 MiB
                server.run-dir = run
                sites = [{ root = www, locations = [
                  { match = "/", fastcgi = app, front-controller = "/index.php" }
                  { match = "/upload/", fastcgi = app, body-limit = 64 MiB }
                  { match = "/static/", body-limit = 1 GiB }
                  { match = "/api/", fastcgi = api, body-limit = 0 }
                  { match = "/small/", fastcgi = small, body-limit = 1 MiB }
                  { match = "/remote/", fastcgi = remote, body-limit = 8 MiB }
                ] }]
                fastcgi.backends {
                  app { spawn { enabled = true, workers = 1 } }
                  api { spawn { enabled = true, workers = 1 } }
                  small { spawn { enabled = true, workers = 1 } }
                  unused { spawn { enabled = true, workers = 1 } }
                  remote { addresses = ["127.0.0.1:9000"] }
                }
                """));
        assertThat(settings.backends().get("app").spawn().maxBody()).isEqualTo(64L << 20);
        assertThat(settings.backends().get("api").spawn().maxBody()).as("no limit").isZero();
        assertThat(settings.backends().get("small").spawn().maxBody()).isEqualTo(1L << 20);
        assertThat(settings.backends().get("unused").spawn().maxBody()).as("the server's").isEqualTo(2L << 20);
        assertThat(settings.backends().get("remote").spawn()).isNull();
    }

    @Test
    void aNegativeOrWordyLimitIsAProblemWithItsLine() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                server.limits.body = -1
                sites = [{ root = www, locations = [
                  { match = "/a/", body-limit = -1 }
                  { match = "/b/", body-limit = lots }
                  { match = "/c/", body-limit = -1 KiB }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.server.limits.body", 2),
                tuple("edge.sites[0].locations[0].body-limit", 4),
                tuple("edge.sites[0].locations[1].body-limit", 5),
                tuple("edge.sites[0].locations[2].body-limit", 6));
        assertThat(e.problems().get(1).toString()).startsWith(file + ":4: edge.sites[0].locations[0].body-limit: ");
    }
}
