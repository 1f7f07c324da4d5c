package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What PHP warns of as a php-fpm edge spawned starts (here an extension spawn.ini names that is not there, which each
 * worker tries to load) reaches edge's own log, named by the group, and not only php-fpm.log, which keeps it too: an
 * operator reading edge's log saw nothing of why PHP lacked the extension. PHP still answers.
 */
class SpawnStartupWarningsIT {

    @TempDir
    Path dir;

    @Test
    void aStartUpWarningOfTheSpawnedPhpIsInEdgesLogAndPhpStillAnswers() throws Exception {
        Files.writeString(Files.createDirectory(dir.resolve("www")).resolve("index.php"), "<?php echo 'php answers';\n");
        Path run = dir.resolve("run");
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off, run-dir = "%s" }
                  sites = [{ root = www, locations = [{ match = "/", fastcgi = php }] }]
                  fastcgi.backends.php.spawn { enabled = true, workers = 2, ini = ["extension = nope_missing.so"] }
                }
                """.formatted(run));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                assertThat(EdgeProcess.get(HttpClient.newHttpClient(), port, "/index.php")).isEqualTo("php answers");
                String warning = "Unable to load dynamic library 'nope_missing.so'";
                String output = edge.awaitOutput(warning);
                assertThat(output.lines().filter(line -> line.contains(warning)))
                        .allSatisfy(line -> assertThat(line).contains(" WARN ")
                                .contains("php-fpm for group php: PHP Warning:  Unknown: " + warning));
                assertThat(Files.readString(run.resolve("php/php-fpm.log"))).as("php-fpm's own log").contains(warning);
            });
        }
    }
}
