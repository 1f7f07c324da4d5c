package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which account a spawned php-fpm runs PHP as. Run as root (CI): the spawn's user, as nginx's php-fpm pools run as
 * www-data; without one, root, with a warning. Run as anyone else: as edge, and a user set is reported as not applied.
 */
class SpawnUserIT {

    private static final String ROOT_WARNING = "runs PHP as root";
    private static final String NOT_APPLIED = "is not applied, edge does not run as root";

    @TempDir
    Path dir;

    private boolean root;

    @BeforeEach
    void site() throws Exception {
        // nobody reads the scripts: their modes set, not left to the umask the build runs under (077 made them root's)
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.setPosixFilePermissions(www, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(www.resolve("uid.php"), """
                <?php
                preg_match('/^Uid:\\s+(\\d+)/m', file_get_contents('/proc/self/status'), $m);
                echo $m[1];
                """);
        Files.setPosixFilePermissions(www.resolve("uid.php"), PosixFilePermissions.fromString("rw-r--r--"));
        root = uid(Path.of("/proc/self")) == 0;
    }

    private static int uid(Path file) throws Exception {
        return (Integer) Files.getAttribute(file, "unix:uid");
    }

    /** nobody's uid, from the passwd database. */
    private static String nobody() throws Exception {
        return Files.readAllLines(Path.of("/etc/passwd")).stream().filter(line -> line.startsWith("nobody:"))
                .map(line -> line.split(":")[2]).findFirst().orElseThrow();
    }

    private String phpUidWith(String spawnExtra, String[] output) throws Exception {
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off }
                  fastcgi.backends.php.spawn { enabled = true, workers = 1 %s }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                    { match = "/", fastcgi = php }
                  ]}]
                }
                """.formatted(spawnExtra));
        String[] uid = new String[1];
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                uid[0] = EdgeProcess.get(http, port, "/uid.php");
                // The error log is written by a thread of its own: all of it is out once edge has stopped.
                edge.process.destroy(); // SIGTERM
                assertThat(edge.await()).isZero();
            });
            output[0] = edge.output();
        }
        return uid[0];
    }

    @Test
    void phpRunsAsTheSpawnsUserWhenEdgeRunsAsRoot() throws Exception {
        String[] output = new String[1];
        String uid = phpUidWith(", user = nobody", output);
        if (root) {
            assertThat(uid).isEqualTo(nobody());
            assertThat(output[0]).doesNotContain(ROOT_WARNING).doesNotContain(NOT_APPLIED);
        } else {
            assertThat(uid).isEqualTo(String.valueOf(uid(Path.of("/proc/self"))));
            assertThat(output[0]).contains(NOT_APPLIED);
        }
    }

    @Test
    void withoutAUserPhpRunsAsEdgeWhichAsRootIsWarnedOf() throws Exception {
        String[] output = new String[1];
        String uid = phpUidWith("", output);
        assertThat(uid).isEqualTo(String.valueOf(uid(Path.of("/proc/self"))));
        if (root) {
            assertThat(output[0]).contains(ROOT_WARNING);
        } else {
            assertThat(output[0]).doesNotContain(ROOT_WARNING);
        }
    }

    @Test
    void aReloadThatChangesTheSpawnKeepsItsUser() throws Exception {
        Path conf = dir.resolve("edge.conf");
        String edgeConf = """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off }
                  fastcgi.backends.php.spawn { enabled = true, workers = %d, user = nobody }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                    { match = "/", fastcgi = php }
                  ]}]
                }
                """;
        Files.writeString(conf, edgeConf.formatted(1));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                // Another spawn (workers), so a php-fpm of its own, on a socket beside the running one's.
                Files.writeString(conf, edgeConf.formatted(2));
                edge.signal("HUP");
                edge.awaitOutput("(generation 2)");
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                String uid = EdgeProcess.get(http, port, "/uid.php");
                assertThat(uid).isEqualTo(root ? nobody() : String.valueOf(uid(Path.of("/proc/self"))));
                assertThat(edge.output()).doesNotContain(ROOT_WARNING);
            });
        }
    }

    /**
     * A front controller below a directory of the root that the spawn's user cannot enter: as root the configuration
     * is refused at start, naming the directory and spawn.user, rather than every request no script answers getting
     * php-fpm's 404 (the root itself is open, so its own check says nothing). Not root, php-fpm runs as edge and reads
     * it.
     */
    @Test
    void aFrontControllerTheSpawnsUserCannotReadIsRefusedAtStart() throws Exception {
        Path app = Files.createDirectories(dir.resolve("www/app"));
        Files.writeString(app.resolve("index.php"), "<?php echo 'front';");
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwx------"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off }
                  fastcgi.backends.php.spawn { enabled = true, workers = 1, user = nobody }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                    { match = "/", fastcgi = php, front-controller = "/app/index.php" }
                  ]}]
                }
                """);
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                if (root) {
                    assertThat(edge.await()).isEqualTo(2); // a configuration problem
                    assertThat(edge.output()).contains(conf + ":3: edge.fastcgi.backends.php.spawn.user: nobody cannot"
                            + " enter " + app.toRealPath() + ", where lies the front controller /app/index.php of the"
                            + " location \"/\": php-fpm would answer each request that falls back to it"
                            + " \"Primary script unknown\" (404)");
                } else {
                    int port = edge.awaitBoundPort();
                    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                    assertThat(EdgeProcess.get(http, port, "/no/such/page")).isEqualTo("front");
                }
            });
        }
    }
}
