package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A php-fpm edge spawns takes the uploads edge takes: its post_max_size and upload_max_filesize follow the body limit
 * of the locations it serves. With PHP's defaults (8M, 2M) an upload of 10 MB that edge's 16 MiB let through reached
 * the script as an empty form, with a 200 and only a PHP warning in edge's log (found by a probe against nginx, whose
 * 1m default answers 413 instead). A pool whose spawn.ini sets its own keeps it.
 */
class SpawnedPoolBodiesIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String BOUNDARY = "edge-it-boundary-7d41";

    @TempDir
    Path dir;

    @Test
    void anUploadEdgeTakesReachesTheScriptWhole() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        String echo = """
                <?php
                $f = $_FILES['f'] ?? null;
                echo $f === null ? 'no file' : $f['error'] . ' ' . $f['size'] . ' '
                        . ($f['error'] === 0 ? md5_file($f['tmp_name']) : '-');
                echo ' ', $_POST['field'] ?? 'no field';
                """;
        Files.writeString(www.resolve("up.php"), echo);
        Files.createDirectories(www.resolve("strict"));
        Files.writeString(www.resolve("strict/up.php"), echo);
        byte[] tenMiB = new byte[10 << 20];
        new Random(7).nextBytes(tenMiB);
        byte[] twoMiB = new byte[2 << 20];
        new Random(8).nextBytes(twoMiB);
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.run-dir = run
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/strict/", fastcgi = strict }
                  { match = "/", fastcgi = php }
                ] }]
                fastcgi.backends {
                  php { spawn { enabled = true, workers = 1 } }
                  strict { spawn { enabled = true, workers = 1, ini = ["upload_max_filesize = 1M"] } }
                }
                """)) {
            assertThat(upload(edge, "/up.php", tenMiB).body()).as("the server's 16 MiB, PHP's too")
                    .isEqualTo("0 " + tenMiB.length + " " + md5(tenMiB) + " v");
            assertThat(upload(edge, "/strict/up.php", twoMiB).body()).as("spawn.ini's own upload_max_filesize")
                    .isEqualTo("1 0 - v"); // UPLOAD_ERR_INI_SIZE; the form itself, under post_max_size, still came
        }
    }

    private static HttpResponse<String> upload(EdgeHarness edge, String path, byte[] file) throws Exception {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nv\r\n"
                + "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        body.writeBytes(file);
        body.writeBytes(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(edge.uri(path))
                .header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response;
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }
}
