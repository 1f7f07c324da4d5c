package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * edge as its own process with the heap capped at 256 MiB (see {@link EdgeProcess}), in front of php-fpm
 * over TCP: a 200 MiB response streams through with bounded memory, and the script's STDERR lands in
 * edge's log.
 */
class FastCgiProcessIT {

    @TempDir
    Path dir;

    @Test
    void largeResponseStreamsThroughASmallHeapAndStderrIsLogged() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        int fpmPort = EdgeProcess.freePort();
        int port = EdgeProcess.freePort();
        try (PhpFpm fpm = PhpFpm.tcp(Files.createDirectories(dir.resolve("fpm")), fpmPort, "pm = static\npm.max_children = 2\n")) {
            Path conf = dir.resolve("edge.conf");
            Files.writeString(conf, """
                    edge {
                      server { listen = ["127.0.0.1:%d"], access-log = off }
                      sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/", fastcgi = php }] }]
                      fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                    }
                    """.formatted(port, fpm.address()));
            // 200 MiB through a heap and a direct memory of a fraction of it: a response held whole would fail
            try (EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-Xmx96m", "-XX:MaxDirectMemorySize=32m"),
                    dir, "-c", conf.toString())) {
                edge.verify(() -> {
                    edge.awaitListening(port);
                    HttpClient http = HttpClient.newHttpClient();
                    HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/big.php?mib=200")).build(), HttpResponse.BodyHandlers.ofInputStream());
                    assertThat(response.statusCode()).isEqualTo(200);
                    MessageDigest actual = MessageDigest.getInstance("SHA-256");
                    long received = 0;
                    try (InputStream body = response.body()) {
                        byte[] buffer = new byte[1 << 16];
                        for (int n; (n = body.read(buffer)) > 0; received += n) {
                            actual.update(buffer, 0, n);
                        }
                    }
                    MessageDigest expected = MessageDigest.getInstance("SHA-256");
                    byte[] mib = new byte[1 << 20];
                    for (int i = 0; i < 200; i++) {
                        java.util.Arrays.fill(mib, (byte) ('A' + i % 26));
                        expected.update(mib);
                    }
                    assertThat(received).isEqualTo(200L << 20);
                    assertThat(HexFormat.of().formatHex(actual.digest())).isEqualTo(HexFormat.of().formatHex(expected.digest()));

                    HttpResponse<String> logged = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/stderr.php?id=r42")).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(logged.body()).isEqualTo("logged");
                    String output = edge.awaitOutput("edge-stderr-marker r42");
                    assertThat(output).contains("edge-stderr-marker r42");
                    // the line names the request it came with, as nginx's "client: ..., request: ..." does
                    assertThat(output.lines().filter(line -> line.contains("edge-stderr-marker r42")))
                            .singleElement().asString()
                            .endsWith("(client 127.0.0.1, request \"GET /stderr.php?id=r42\")");
                    assertThat(edge.process.isAlive()).isTrue();
                }, fpm::log);
            }
        }
    }
}
