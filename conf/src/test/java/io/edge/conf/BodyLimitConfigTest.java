package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's body-limit: the server's unless set, in bytes, never negative. */
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
    void aNegativeOrWordyLimitIsAProblemWithItsLine() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", body-limit = -1 }
                  { match = "/b/", body-limit = lots }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].locations[0].body-limit", 3),
                tuple("edge.sites[0].locations[1].body-limit", 4));
    }
}
