package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A spawned php-fpm and the FastCGI connections edge keeps open to it. php-fpm starts a worker's
 * {@code request_terminate_timeout} clock when the worker begins to wait for its next request, so on a kept connection
 * the time it sat idle in edge's pool counts against the next script.
 */
class KeptPhpConnectionIT {

    @TempDir
    Path dir;

    /**
     * A script sent over a connection that sat idle for most of the read timeout still gets the whole read timeout: with
     * request_terminate_timeout = the read timeout (2 s) it was killed about half a second in, its answer cut off.
     */
    @Test
    void aScriptOnAConnectionThatSatIdleGetsTheWholeReadTimeout() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("quick.php"), "<?php echo 'quick';");
        // Writes a digit every 0.3 s for 3 s (data all along, so edge's read timeout of 2 s never fires), then "done".
        Files.writeString(www.resolve("stream.php"), """
                <?php
                while (ob_get_level()) { ob_end_flush(); }
                for ($i = 0; $i < 10; $i++) { echo $i; flush(); usleep(300000); }
                echo 'done';
                """);
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off }
                  fastcgi.backends.php {
                    spawn { enabled = true, workers = 1 }
                    timeouts.read = 2 s
                    keep-alive { enabled = true, idle-timeout = 20 s }
                  }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                    { match = "/", fastcgi = php }
                  ]}]
                }
                """);
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                // The one worker's connection is kept; the worker's clock starts now, as it waits for the next request.
                assertThat(EdgeProcess.get(http, port, "/quick.php")).isEqualTo("quick");
                Thread.sleep(1500);
                // A POST: edge never sends it again on another connection, so a killed script shows in its answer.
                HttpResponse<String> streamed = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/stream.php"))
                        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("x=1")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(streamed.statusCode()).isEqualTo(200);
                assertThat(streamed.body()).isEqualTo("0123456789done");
                assertThat(EdgeProcess.get(http, port, "/quick.php")).as("the worker still serves").isEqualTo("quick");
            });
        }
    }
}
