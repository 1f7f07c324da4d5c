package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code limit-rate}, nginx's limit_rate, on a real edge and a real php-fpm: a paced body arrives whole and
 * in order, from the location itself and through a script's X-Accel-Redirect into it (its pace is unit-tested on a
 * clock moved by hand: no test here times anything).
 */
class LimitRateIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void aPacedDownloadArrivesWholeDirectlyAndThroughAnXAccelRedirect() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("downloads"));
        byte[] file = new byte[3 << 20];
        new Random(7).nextBytes(file);
        Files.write(www.resolve("downloads/big.bin"), file);
        Files.writeString(www.resolve("get.php"), "<?php header('X-Accel-Redirect: /downloads/big.bin');");
        Files.createDirectories(www.resolve("files"));
        Files.write(www.resolve("files/big.bin"), file);
        // nginx's X-Accel-Limit-Rate: the script sets the pace of the file it hands out
        Files.writeString(www.resolve("paced.php"), """
                <?php
                header('X-Accel-Redirect: /files/big.bin');
                header('X-Accel-Limit-Rate: ' . $_GET['rate']);
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/downloads/", limit-rate { rate = 4 MiB, after = 1 MiB } }
                       { match = "/files/", internal = true }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            HttpResponse<byte[]> direct = HTTP.send(HttpRequest.newBuilder(edge.uri("/downloads/big.bin")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(direct.statusCode()).isEqualTo(200);
            assertThat(direct.body()).isEqualTo(file);
            HttpResponse<byte[]> accel = HTTP.send(HttpRequest.newBuilder(edge.uri("/get.php")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(accel.statusCode()).isEqualTo(200);
            assertThat(accel.body()).isEqualTo(file);
            HttpResponse<byte[]> range = HTTP.send(HttpRequest.newBuilder(edge.uri("/downloads/big.bin"))
                    .header("Range", "bytes=1000-2999999").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(range.statusCode()).isEqualTo(206);
            assertThat(range.body()).isEqualTo(java.util.Arrays.copyOfRange(file, 1000, 3_000_000));
            for (String rate : new String[] {"4194304", "0", "fast"}) {
                HttpResponse<byte[]> paced = HTTP.send(HttpRequest.newBuilder(edge.uri("/paced.php?rate=" + rate))
                        .build(), HttpResponse.BodyHandlers.ofByteArray());
                assertThat(paced.statusCode()).isEqualTo(200);
                assertThat(paced.body()).as("X-Accel-Limit-Rate " + rate).isEqualTo(file);
                assertThat(paced.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();
            }
        }
    }
}
