package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.fastcgi.pool.BackendAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backend groups that name one address each hold their own connections there to their own max-connections: a warning
 * at the address of the second group to name it, with each group's max-connections and what they add up to.
 */
class SharedAddressesTest {

    @TempDir
    Path dir;

    @Test
    void twoGroupsAtOneSocketAreWarnedOfAtTheAddressWrittenSecond() throws Exception {
        Files.createDirectories(dir.resolve("php"));
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends {
                  zeta { addresses = ["unix:php/fpm.sock"], max-connections = 8 }
                  alpha {
                    addresses = ["unix:./php/../php/fpm.sock"]
                    max-connections = 4
                  }
                }
                sites = [{ root = www }]
                """);
        EdgeSettings settings = ConfigLoader.checkOnly().load(file);
        assertThat(settings.warnings()).extracting(ConfigProblem::toString).containsExactly(file + ":5:"
                + " edge.fastcgi.backends.alpha.addresses[0]: groups zeta and alpha connect to unix:" + dir.resolve("php")
                + "/fpm.sock, each up to its own max-connections (zeta 8, alpha 4): 12 connections at once; those past"
                + " that php-fpm's pm.max_children wait in its listen backlog, unseen by the queue (no 503 + Retry-After:"
                + " a 504 at timeouts.read) (expected: max-connections that add up to at most its pm.max_children (split"
                + " its workers between the groups), or one group per php-fpm pool)");
    }

    @Test
    void threeGroupsAtOneHostAndPortSpeltDifferentlyAreOneWarning() throws Exception {
        EdgeSettings settings = load("""
                fastcgi.backends {
                  a { addresses = ["[::1]:9000"] }
                  b { addresses = ["127.0.0.1:9001", "[0:0::1]:9000"], max-connections = 3 }
                  c { addresses = ["[0::1]:9000"], max-connections = 2 }
                }
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(4, "edge.fastcgi.backends.b.addresses[1]"));
        assertThat(settings.warnings().get(0).message()).startsWith("groups a, b and c connect to [0:0::1]:9000, each"
                + " up to its own max-connections (a 8, b 3, c 2): 13 connections at once;");
    }

    /**
     * The groups warned of are those whose pools count the address together ({@link BackendAddress#key}): the pools
     * are given the addresses as written, and counted "[0::1]:9000" and "[::1]:9000" apart.
     */
    @Test
    void groupsWarnedOfAreCountedTogetherByTheirPools() throws Exception {
        EdgeSettings settings = load("""
                fastcgi.backends {
                  a { addresses = ["[::1]:9000", "PHP.internal:9001", "127.0.0.1:9002"] }
                  b { addresses = ["[0::1]:9000", "php.internal:9001", "localhost:9002"] }
                }
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::key).containsExactly(
                "edge.fastcgi.backends.b.addresses[0]", "edge.fastcgi.backends.b.addresses[1]");
        List<String> a = settings.backends().get("a").addresses().stream().map(BackendAddress::key).toList();
        List<String> b = settings.backends().get("b").addresses().stream().map(BackendAddress::key).toList();
        assertThat(b.subList(0, 2)).isEqualTo(a.subList(0, 2));
        assertThat(b.get(2)).as("a host name is not looked up").isNotEqualTo(a.get(2));
    }

    /** Host names are not looked up: one that names the address another group writes as a literal is not seen. */
    @Test
    void groupsAtDifferentAddressesOrAHostNameAndItsAddressAreNotWarnedOf() throws Exception {
        EdgeSettings settings = load("""
                fastcgi.backends {
                  a { addresses = ["127.0.0.1:9000", "127.0.0.1:9001"] }
                  b { addresses = ["localhost:9000", "127.0.0.2:9001"] }
                }
                """);
        assertThat(settings.warnings()).isEmpty();
    }

    /**
     * A spawned php-fpm has pm.max_children for its own group alone (spawn.workers, its max-connections): another
     * group at its socket always takes more, and is warned of whatever its max-connections.
     */
    @Test
    void aGroupAtTheSocketOfASpawnedPhpFpmIsWarnedOf() throws Exception {
        Files.createDirectories(dir.resolve("run/php"));
        Path file = EdgeConfFile.write(dir, """
                server.run-dir = run
                fastcgi.backends {
                  php.spawn { enabled = true, command = "/bin/true", workers = 4 }
                  uploads { addresses = ["unix:run/php/php-fpm.sock"], max-connections = 1 }
                }
                sites = [{ root = www }]
                """);
        EdgeSettings settings = ConfigLoader.checkOnly().load(file);
        String message = "group uploads connects to unix:" + dir.resolve("run/php/php-fpm.sock") + ", the php-fpm"
                + " edge spawns for group php, whose pm.max_children is php's spawn.workers (4) alone: with"
                + " max-connections uploads 1, 5 connections at once, and those past 4 wait in its listen backlog,"
                + " unseen by the queue (no 503 + Retry-After: a 504 at timeouts.read); a reload that changes php's"
                + " spawn starts its php-fpm at another socket (php.N)";
        assertThat(settings.warnings())
                .extracting(ConfigProblem::file, ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(file, 5, "edge.fastcgi.backends.uploads.addresses[0]", message));
        assertThat(settings.warnings().get(0).expected()).isEqualTo("one group per php-fpm pool: a spawn of its own"
                + " (spawn.enabled = true), or a php-fpm edge does not spawn, its workers split between the groups");
    }

    /**
     * Two spawned groups never share a socket: each is in a directory of the run directory named for its group, and
     * no group is named as a reload's directory beside it ({@code php.2}: a group name has no dot).
     */
    @Test
    void spawnedGroupsEachHaveASocketOfTheirOwn() throws Exception {
        EdgeSettings settings = load("""
                server.run-dir = run
                fastcgi.backends {
                  php.spawn { enabled = true, command = "/bin/true" }
                  uploads.spawn { enabled = true, command = "/bin/true" }
                }
                """);
        assertThat(settings.backends().get("php").addresses())
                .containsExactly("unix:" + dir.resolve("run/php/php-fpm.sock"));
        assertThat(settings.backends().get("uploads").addresses())
                .containsExactly("unix:" + dir.resolve("run/uploads/php-fpm.sock"));
        assertThat(settings.warnings()).isEmpty();
    }

    /** As a key set twice: what a configuration without its problems would also have been warned of. */
    @Test
    void aConfigurationWithProblemsStillSaysSo() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends {
                  a { addresses = ["127.0.0.1:9000"] }
                  b { addresses = ["127.0.0.1:9000"], max-connections = -1 }
                }
                sites = [{ root = www }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.checkOnly().load(file));
        assertThat(e.problems()).extracting(ConfigProblem::key)
                .containsExactly("edge.fastcgi.backends.b.max-connections");
        assertThat(e.warnings()).extracting(ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(4, "edge.fastcgi.backends.b.addresses[0]"));
    }

    private EdgeSettings load(String backends) throws Exception {
        return ConfigLoader.checkOnly().load(EdgeConfFile.write(dir, backends + "sites = [{ root = www }]\n"));
    }
}
