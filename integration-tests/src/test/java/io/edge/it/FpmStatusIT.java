package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * php-fpm's own pages, its status page ({@code pm.status_path}) and ping ({@code ping.path}), which monitoring reads
 * through the web server: php-fpm answers them itself, with no file of that name. Through a location's
 * {@code fastcgi-script}, as nginx's {@code location = /fpm-status { fastcgi_pass ...; }}; edge only ran a path
 * naming an existing .php file, so they were 404 (or the front controller's).
 */
class FpmStatusIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void phpFpmsStatusPageAndPingAnswerThroughALocationsFixedScript() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php echo 'front controller';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = 2\npm.status_path = /fpm-status\nping.path = /fpm-ping\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "= /fpm-status", fastcgi = php, fastcgi-script = "/fpm-status" }
                       { match = "= /fpm-ping", fastcgi = php, fastcgi-script = "/fpm-ping" }
                       { match = "/", fastcgi = php, front-controller = "/index.php" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> ping = get(edge, "/fpm-ping");
            assertThat(ping.statusCode()).isEqualTo(200);
            assertThat(ping.body()).isEqualTo("pong");
            HttpResponse<String> status = get(edge, "/fpm-status");
            assertThat(status.statusCode()).isEqualTo(200);
            assertThat(status.body()).contains("pool:", "accepted conn:");
            assertThat(get(edge, "/fpm-status?json").body()).as("its query reaches php-fpm").contains("\"pool\":");
            assertThat(get(edge, "/fpm-statusx").body()).as("another path, the front controller's")
                    .isEqualTo("front controller");
        }
    }

    /** A php-fpm edge spawns has its status page and ping at /fpm-status and /fpm-ping, for such locations. */
    @Test
    void aSpawnedPoolsStatusPageAndPingAreThereToRead() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php echo 'front controller';");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.run-dir = run
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "= /status", fastcgi = php, fastcgi-script = "/fpm-status" }
                  { match = "= /ping", fastcgi = php, fastcgi-script = "/fpm-ping" }
                  { match = "= /elsewhere", fastcgi = php, fastcgi-script = "/fpm-ping", status-allow = ["10.0.0.0/8"] }
                  { match = "/", fastcgi = php, front-controller = "/index.php" }
                ] }]
                fastcgi.backends.php { spawn { enabled = true, workers = 1 } }
                """)) {
            assertThat(get(edge, "/ping").body()).isEqualTo("pong");
            HttpResponse<String> refused = get(edge, "/elsewhere");
            assertThat(refused.statusCode()).as("status-allow guards it, as edge's status page").isEqualTo(403);
            assertThat(refused.body()).doesNotContain("pong");
            assertThat(get(edge, "/status").body()).contains("pool:", "process manager:      static");
            assertThat(get(edge, "/fpm-status").body()).as("by its path alone, the front controller")
                    .isEqualTo("front controller");
        }
    }

    private static HttpResponse<String> get(EdgeHarness edge, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
