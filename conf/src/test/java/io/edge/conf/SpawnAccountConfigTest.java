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
 * A spawned php-fpm's user and group: accounts of this machine when edge runs as root (only then are they applied), a
 * group only with a user.
 */
class SpawnAccountConfigTest {

    @TempDir
    Path dir;

    private Path write(String spawn) throws Exception {
        return EdgeConfFile.write(dir, """
                server.run-dir = run
                fastcgi.backends.php.spawn { enabled = true, command = "/bin/true"
                  %s
                }
                sites = [{ root = www }]
                """.formatted(spawn));
    }

    @Test
    void anExistingUserAndGroupAreKept() throws Exception {
        EdgeSettings settings = ConfigLoader.checkOnly().load(write("user = nobody, group = nogroup"));
        assertThat(settings.backends().get("php").spawn().user()).isEqualTo("nobody");
        assertThat(settings.backends().get("php").spawn().group()).isEqualTo("nogroup");
        EdgeSettings none = ConfigLoader.checkOnly().load(write(""));
        assertThat(none.backends().get("php").spawn().user()).isNull();
    }

    @Test
    void unknownAccountsBadNamesAndAGroupAloneAreProblems() throws Exception {
        ConfigException unknown = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().asRoot(true).load(write("user = no-such-user-here, group = \"a b\"")));
        assertThat(unknown).isNotNull();
        assertThat(unknown.problems()).extracting(ConfigProblem::key, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple("edge.fastcgi.backends.php.spawn.user", "no user no-such-user-here on this machine"),
                tuple("edge.fastcgi.backends.php.spawn.group", "\"a b\" is not an account name"));
        ConfigException unknownGroup = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().asRoot(true).load(write("user = nobody, group = no-such-group-here")));
        assertThat(unknownGroup).isNotNull();
        assertThat(unknownGroup.problems()).extracting(ConfigProblem::key, ConfigProblem::line)
                .containsExactly(tuple("edge.fastcgi.backends.php.spawn.group", 4));
        ConfigException alone = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().load(write("group = nogroup")));
        assertThat(alone).isNotNull();
        assertThat(alone.problems()).extracting(ConfigProblem::key, ConfigProblem::line)
                .containsExactly(tuple("edge.fastcgi.backends.php.spawn.group", 4));
    }

    @Test
    void unknownAccountsAreNoProblemForAServerNotRunningAsRootWhichIgnoresThem() throws Exception {
        // Not root, edge applies no spawn user or group (it warns once at start that the user is not applied): a
        // configuration written for the production machine's www-data checks and runs on a developer's laptop.
        EdgeSettings settings = ConfigLoader.checkOnly().asRoot(false)
                .load(write("user = no-such-user-here, group = no-such-group-here"));
        assertThat(settings.backends().get("php").spawn().user()).isEqualTo("no-such-user-here");
        assertThat(settings.backends().get("php").spawn().group()).isEqualTo("no-such-group-here");
        // what is never an account, or never works, still is a problem
        ConfigException bad = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().asRoot(false).load(write("user = \"a b\"")));
        assertThat(bad).isNotNull();
        assertThat(bad.problems()).extracting(ConfigProblem::key, ConfigProblem::line)
                .containsExactly(tuple("edge.fastcgi.backends.php.spawn.user", 4));
    }

    @Test
    void rootAsUserOrGroupIsAProblemAsPhpFpmRefusesItWithoutMinusR() throws Exception {
        // php-fpm started without -R (a user is set) exits at once: "please specify user and group other than root"
        ConfigException root = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().load(write("user = root")));
        assertThat(root).isNotNull();
        assertThat(root.problems()).extracting(ConfigProblem::key, ConfigProblem::line)
                .containsExactly(tuple("edge.fastcgi.backends.php.spawn.user", 4));
        ConfigException rootGroup = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().load(write("user = nobody, group = root")));
        assertThat(rootGroup).isNotNull();
        assertThat(rootGroup.problems()).extracting(ConfigProblem::key, ConfigProblem::line)
                .containsExactly(tuple("edge.fastcgi.backends.php.spawn.group", 4));
    }

    /**
     * As root, a root of the spawn's locations that its user cannot enter is a problem of spawn.user: each
     * script there would be php-fpm's "Primary script unknown" (404), found only at the first request. Only root can
     * ask as another user: run as anyone else, nothing is said.
     */
    @Test
    void asRootARootThatTheSpawnUserCannotEnterIsAProblem() throws Exception {
        Path www = dir.resolve("www");
        Path conf = spawnAsNobodyIn(www);
        Files.setPosixFilePermissions(www, PosixFilePermissions.fromString("rwx------"));
        ConfigException closed = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().asRoot(true).load(conf));
        if ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0) {
            assertThat(closed).isNotNull();
            assertThat(closed.problems()).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message)
                    .containsExactly(tuple("edge.fastcgi.backends.php.spawn.user", 3, "nobody cannot enter "
                            + www + ", the root of the location \"/\": php-fpm would answer each of its scripts "
                            + "\"Primary script unknown\" (404)"));
        } else {
            assertThat(closed).as("not root: the system cannot be asked as nobody").isNull();
        }
        Files.setPosixFilePermissions(www, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(ConfigLoader.checkOnly().asRoot(true).load(conf).backends().get("php").spawn().user())
                .isEqualTo("nobody");
    }

    /**
     * A location whose group a variable chooses is checked for each spawned group its values can name, as a location
     * naming that group: a map of text whose values are php and other. A text with a request's variable could name any
     * group, so none is asked for it (php-fpm answers 404 only where the request chose that group).
     */
    @Test
    void asRootARootThatAVariableChosenSpawnUserCannotEnterIsAProblem() throws Exception {
        Path www = dir.resolve("www");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(www);
        Files.setPosixFilePermissions(www, PosixFilePermissions.fromString("rwx------"));
        String groups = """
                server.run-dir = run
                fastcgi.backends.php.spawn { enabled = true, command = "/bin/true", user = nobody }
                fastcgi.backends.other { addresses = ["127.0.0.1:9000"] }
                server.maps.pool { source = "$http_x_tenant", default = PHP, values = [{ match = b, value = other }] }
                """;
        assertSpawnUserProblem(EdgeConfFile.write(dir, groups + """
                sites = [{ root = www, locations = [{ match = "/", fastcgi = "$pool" }] }]
                """), "nobody cannot enter " + www + ", the root of the location \"/\": php-fpm would answer each of"
                + " its scripts \"Primary script unknown\" (404)");
        assertThat(ConfigLoader.checkOnly().asRoot(true).load(EdgeConfFile.write(dir, groups + """
                sites = [{ root = www, locations = [{ match = "/", fastcgi = "$arg_pool" }] }]
                """)).backends().get("php").spawn().user()).as("any group: none asked").isEqualTo("nobody");
    }

    /**
     * A root its spawn.user can enter but not list (0711, as a hardened home or docroot) is no problem: php-fpm opens a
     * script by its path, which needs search permission on each directory, never read.
     */
    @Test
    void asRootARootTheSpawnUserCanEnterButNotListIsNoProblem() throws Exception {
        Path www = dir.resolve("www");
        Path conf = spawnAsNobodyIn(www);
        Files.setPosixFilePermissions(www, PosixFilePermissions.fromString("rwx--x--x"));
        assertThat(ConfigLoader.checkOnly().asRoot(true).load(conf).backends().get("php").spawn().user())
                .isEqualTo("nobody");
    }

    /**
     * As root, a front controller its spawn.user cannot read is a problem of spawn.user, though the root is open: below
     * a directory of the root closed to that user, closed itself, or (symlinks = allow) a link to a file in a directory
     * out of the root closed to it, where the root's check says nothing. Each request no script or file answers runs
     * it.
     */
    @Test
    void asRootAFrontControllerTheSpawnUserCannotReadIsAProblem() throws Exception {
        Path www = dir.resolve("www");
        Path app = Files.createDirectories(www.resolve("app"));
        Path inApp = Files.writeString(app.resolve("index.php"), "<?php echo 1;");
        Files.setPosixFilePermissions(inApp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwx------"));
        String fallsBack = " of the location \"/\": php-fpm would answer each request that falls back to it ";
        assertSpawnUserProblem(spawnAsNobodyIn(www, "", "/app/index.php"), "nobody cannot enter " + app.toRealPath()
                + ", where lies the front controller /app/index.php" + fallsBack + "\"Primary script unknown\" (404)");
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(inApp, PosixFilePermissions.fromString("rw-------"));
        assertSpawnUserProblem(spawnAsNobodyIn(www, "", "/app/index.php"), "nobody cannot read " + inApp
                + ", the front controller /app/index.php" + fallsBack + "\"Access denied.\" (403)");
        Files.setPosixFilePermissions(inApp, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(ConfigLoader.checkOnly().asRoot(true).load(spawnAsNobodyIn(www, "", "/app/index.php"))
                .backends().get("php").spawn().user()).isEqualTo("nobody");

        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path shared = Files.writeString(outside.resolve("index.php"), "<?php echo 2;");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(www.resolve("index.php"), shared);
        assertSpawnUserProblem(spawnAsNobodyIn(www, ", symlinks = allow", "/index.php"), "nobody cannot enter "
                + outside.toRealPath() + ", where lies the front controller /index.php" + fallsBack
                + "\"Primary script unknown\" (404)");
        // within the root only (the default), edge refuses that link itself (403): php-fpm never opens it
        assertThat(ConfigLoader.checkOnly().asRoot(true).load(spawnAsNobodyIn(www, "", "/index.php"))
                .backends().get("php").spawn().user()).isEqualTo("nobody");
    }

    /** As root, loading {@code conf} is refused with {@code message} for spawn.user; not root, nothing is said. */
    private void assertSpawnUserProblem(Path conf, String message) throws Exception {
        ConfigException refused = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.checkOnly().asRoot(true).load(conf));
        if ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0) {
            assertThat(refused).isNotNull();
            assertThat(refused.problems()).extracting(ConfigProblem::key, ConfigProblem::line, ConfigProblem::message)
                    .containsExactly(tuple("edge.fastcgi.backends.php.spawn.user", 3, message));
        } else {
            assertThat(refused).as("not root: the system cannot be asked as nobody").isNull();
        }
    }

    /** A configuration whose spawned php-fpm runs as nobody and whose site's root is {@code www}, made here. */
    private Path spawnAsNobodyIn(Path www) throws Exception {
        return spawnAsNobodyIn(www, "", null);
    }

    /**
     * As {@link #spawnAsNobodyIn(Path)}, with more settings of the site ({@code ", symlinks = allow"}) and the
     * location's front controller (null: none).
     */
    private Path spawnAsNobodyIn(Path www, String site, String frontController) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(www);
        return EdgeConfFile.write(dir, """
                server.run-dir = run
                fastcgi.backends.php.spawn { enabled = true, command = "/bin/true", user = nobody }
                sites = [{ root = www%s, locations = [{ match = "/", fastcgi = php%s }] }]
                """.formatted(site, frontController == null ? "" : ", front-controller = \"" + frontController + "\""));
    }
}
