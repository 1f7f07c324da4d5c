package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's client-body-buffer-size (nginx's client_body_buffer_size) and server.client-body-temp-path (nginx's
 * client_body_temp_path): where request bodies stay in memory and where longer ones are spooled.
 */
class ClientBodyBufferConfigTest {

    @TempDir
    Path dir;

    @Test
    void aLocationsOwnSizeOrLocationDefaultsOr64KiB() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/" }, { match = "/upload/", client-body-buffer-size = 1 MiB }
                ] }]
                """));
        assertThat(settings.sites().get(0).locations()).extracting(LocationSettings::clientBodyBufferSize)
                .containsExactly(64 * 1024, 1 << 20);
        EdgeSettings defaults = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.client-body-buffer-size = 16k
                sites = [{ root = www, locations = [
                  { match = "/" }, { match = "/all/", client-body-buffer-size = 0 }
                ] }]
                """));
        assertThat(defaults.sites().get(0).locations()).extracting(LocationSettings::clientBodyBufferSize)
                .containsExactly(16 * 1024, 0);
    }

    @Test
    void aTempPathOrEdgesDefaultPlace() throws Exception {
        Path bodies = Files.createDirectory(dir.resolve("bodies"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server.client-body-temp-path = bodies
                sites = [{ root = www }]
                """));
        assertThat(settings.server().clientBodyTempPath()).isEqualTo(bodies);
        EdgeSettings byDefault = new ConfigLoader().load(EdgeConfFile.write(dir, "sites = [{ root = www }]\n"));
        assertThat(byDefault.server().clientBodyTempPath()).as("run-dir, else java.io.tmpdir").isNull();
        assertThat(Files.list(bodies)).as("the check's probe is gone").isEmpty();
    }

    /**
     * A temp path not there yet, in a directory that is, is taken: the start makes it (0700), as nginx makes its temp
     * paths' last directory, at nginx -t too; the check makes nothing.
     */
    @Test
    void aTempPathNotThereYetInAnExistingDirectoryIsTaken() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                server.client-body-temp-path = bodies
                sites = [{ root = www }]
                """));
        assertThat(settings.server().clientBodyTempPath()).isEqualTo(dir.resolve("bodies"));
        assertThat(dir.resolve("bodies")).as("made by the start, not the check").doesNotExist();
    }

    @Test
    void aMissingFileOrOpenTempPathAndABadSizeAreProblemsWithTheirLines() throws Exception {
        Files.writeString(dir.resolve("file"), "x");
        Files.createDirectory(dir.resolve("open"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxrwxrwx")));
        Files.setPosixFilePermissions(dir.resolve("open"), PosixFilePermissions.fromString("rwxrwxrwx"));
        for (String[] path : new String[][] {{"missing/deeper", "does not exist, nor does " + dir.resolve("missing")},
                {"file", "is not a directory"},
                {"open", "is writable by all, mode 0777"}}) {
            Path file = EdgeConfFile.write(dir, """
                    server.client-body-temp-path = %s
                    sites = [{ root = www, locations = [
                      { match = "/a/", client-body-buffer-size = lots }
                      { match = "/b/", client-body-buffer-size = 65 MiB }
                    ] }]
                    """.formatted(path[0]));
            ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
            assertThat(e).isNotNull();
            assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                    tuple("edge.server.client-body-temp-path", 2),
                    tuple("edge.sites[0].locations[0].client-body-buffer-size", 4),
                    tuple("edge.sites[0].locations[1].client-body-buffer-size", 5));
            assertThat(e.problems().get(0).toString()).startsWith(file + ":2: edge.server.client-body-temp-path: "
                    + dir.resolve(path[0]) + " " + path[1]);
        }
    }
}
