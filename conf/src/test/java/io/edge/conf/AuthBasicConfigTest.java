package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code auth-basic} (nginx's auth_basic and auth_basic_user_file) onto LocationSettings. */
class AuthBasicConfigTest {

    @TempDir
    Path dir;

    @Test
    void aRealmAndAUserFileAreReadAndARealmOfNullTurnsItOff() throws Exception {
        Files.writeString(dir.resolve("users"), "alice:{PLAIN}secret\n");
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                location-defaults.auth-basic { realm = "Staging", user-file = users }
                sites = [{ root = www, locations = [{ match = "/" }, { match = "/open/", auth-basic.realm = null }] }]
                """));
        List<LocationSettings> locations = settings.sites().get(0).locations();
        AuthBasic auth = locations.get(0).authBasic();
        assertThat(auth.realm()).isEqualTo("Staging");
        assertThat(auth.userFile()).isEqualTo(dir.resolve("users").toAbsolutePath().normalize());
        assertThat(auth.users().matches("alice", "secret")).isTrue();
        assertThat(locations.get(1).authBasic()).isNull();
    }

    @Test
    void badSettingsAndUnusableUserFilesAreListed() throws Exception {
        Files.writeString(dir.resolve("bcrypt"), "ok:{PLAIN}x\nbob:$9$unknown\n");
        Files.writeString(dir.resolve("empty"), "# nobody yet\n");
        Files.writeString(dir.resolve("users"), "alice:{PLAIN}x\n");
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, locations = [
                  { match = "/a/", auth-basic { realm = "A", user-file = missing } }
                  { match = "/b/", auth-basic { realm = "B", user-file = bcrypt } }
                  { match = "/c/", auth-basic { realm = "C", user-file = empty } }
                  { match = "/d/", auth-basic { realm = "say \\"hi\\"", user-file = empty } }
                  { match = "/e/", auth-basic { user-file = empty } }
                  { match = "/f/", auth-basic { realm = "F" } }
                  { match = "/g/", return = 404, auth-basic { realm = "G", user-file = users } }
                  { match = "/h/", rewrite = "/x", limit-req { rate = "1 r/s" } }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        Path dirReal = dir.toAbsolutePath().normalize();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(3, "edge.sites[0].locations[0].auth-basic.user-file", dirReal.resolve("missing")
                                + " does not exist"),
                        tuple(4, "edge.sites[0].locations[1].auth-basic.user-file", dirReal.resolve("bcrypt")
                                + ", line 2: user bob's hash is of a kind edge does not know ($9$unk...)"),
                        tuple(5, "edge.sites[0].locations[2].auth-basic.user-file", dirReal.resolve("empty")
                                + " names no user: every request would be refused"),
                        tuple(6, "edge.sites[0].locations[3].auth-basic.realm", "\"say \"hi\"\" cannot be a realm"),
                        tuple(7, "edge.sites[0].locations[4].auth-basic.user-file",
                                "set without a realm, which turns auth-basic on"),
                        tuple(8, "edge.sites[0].locations[5].auth-basic.realm",
                                "set without a user-file, the htpasswd file of the users it lets in"),
                        tuple(9, "edge.sites[0].locations[6].auth-basic",
                                "set in a location with return, which answers first: no password is asked"),
                        tuple(10, "edge.sites[0].locations[7].rewrite", "set beside this location's own limit-req, which"
                                + " it hands the request past: the location it leads to counts it"));
    }

    /**
     * A user file is a regular file of at most 16 MiB, named by a path: a FIFO held --check-config, a start and a
     * reload until something wrote to it, /dev/zero or a large file ran the heap out (OutOfMemoryError, exit 1), and a
     * NUL in the name threw InvalidPathException, and /proc/kmsg (regular to stat, of no length) held the read for
     * ever; each now is a problem at its line.
     */
    @Test
    void aUserFileThatIsNoRegularFileOfAtMost16MibOrNoPathIsAProblem() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        Files.createDirectory(dir.resolve("directory"));
        try (java.io.RandomAccessFile large = new java.io.RandomAccessFile(dir.resolve("large").toFile(), "rw")) {
            large.setLength((16L << 20) + 1); // sparse
        }
        Path file = EdgeConfFile.write(dir, """
                location-defaults.auth-basic { realm = "R", user-file = "users\\u0000x" }
                sites = [{ root = www, locations = [
                  { match = "/", auth-basic.user-file = fifo }
                  { match = "/a/", auth-basic.user-file = directory }
                  { match = "/b/", auth-basic.user-file = /dev/zero }
                  { match = "/c/", auth-basic.user-file = large }
                  { match = "/d/" }
                  { match = "/e/", auth-basic.user-file = /proc/kmsg }
                ] }]
                """);
        ConfigException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file)),
                "the read of a FIFO waits for a writer");
        assertThat(e).isNotNull();
        Path dirReal = dir.toAbsolutePath().normalize();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactlyInAnyOrder(
                        tuple(2, "edge.location-defaults.auth-basic.user-file",
                                "\"users\\u0000x\" is not a valid path: Nul character not allowed"),
                        tuple(4, "edge.sites[0].locations[0].auth-basic.user-file",
                                fifo.toAbsolutePath().normalize() + " is not a regular file"),
                        tuple(5, "edge.sites[0].locations[1].auth-basic.user-file",
                                dirReal.resolve("directory") + " is not a regular file"),
                        tuple(6, "edge.sites[0].locations[2].auth-basic.user-file", "/dev/zero is not a regular file"),
                        tuple(7, "edge.sites[0].locations[3].auth-basic.user-file",
                                dirReal.resolve("large") + " is larger than 16 MiB"),
                        tuple(9, "edge.sites[0].locations[5].auth-basic.user-file",
                                "/proc/kmsg names no user: every request would be refused"));
        assertThat(e.problems()).allSatisfy(problem -> assertThat(problem.expected()).isIn(
                "a file system path", "a readable htpasswd file of at most 16 MiB", "name:hash lines"));
    }
}
