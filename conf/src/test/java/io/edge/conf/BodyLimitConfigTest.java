package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's body-limit: the server's unless set, in bytes, never negative; 0, as server.limits.body, none. */
class BodyLimitConfigTest {

    @TempDir
    Path dir;

    @BeforeEach
    void createRoot() throws Exception {
        Files.createDirectory(dir.resolve("www"));
    }

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
