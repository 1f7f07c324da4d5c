package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * edge as its own process with the heap capped at 256 MiB (see {@link EdgeProcess}), in front of php-fpm
 * over TCP: a 200 MiB response streams through with bounded memory, and the script's STDERR lands in
 * edge's log; cacheable answers through a small direct memory.
 */
class FastCgiProcessIT {

    @TempDir
    Path dir;

    /**
     * Writes edge.conf: edge on a loopback port the kernel picks as it binds ({@link EdgeProcess#awaitBoundPort}),
     * everything passed to {@code fpm}, with {@code location} settings too.
     */
    private Path conf(PhpFpm fpm, String location) throws Exception {
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/", fastcgi = php%s }] }]
                  fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                }
                """.formatted(location, fpm.address()));
        return conf;
    }

    @Test
    void largeResponseStreamsThroughASmallHeapAndStderrIsLogged() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        try (PhpFpm fpm = PhpFpm.tcp(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n")) {
            Path conf = conf(fpm, "");
            // 200 MiB through a heap and a direct memory of a fraction of it: a response held whole would fail
            try (EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-Xmx96m", "-XX:MaxDirectMemorySize=32m"),
                    dir, "-c", conf.toString())) {
                edge.verify(() -> {
                    int port = edge.awaitBoundPort();
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
                        Arrays.fill(mib, (byte) ('A' + i % 26));
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

    /**
     * Forty clients ask for a 900 KB page each and read nothing (a small receive window, never drained). What their
     * connections do not take waits in the spool (memory, then its file): the part that came with the page's head in
     * one read from php-fpm too. That part was written to the connection whole, beyond response-buffer.memory (a read's
     * worth, some 300-850 KB), and forty such clients ran a 16 MiB direct memory out: answers failed. Every script runs
     * to its end, and each client gets its whole page when it reads.
     */
    @Test
    void clientsThatReadNothingHoldNoWholeReadInMemory() throws Exception {
        int clients = 40;
        int length = 900_000;
        Path www = Files.createDirectories(dir.resolve("www"));
        Path done = Files.createDirectories(dir.resolve("done"));
        Files.writeString(www.resolve("page.php"), "<?php $id = (int) $_GET['id']; header('Content-Length: " + length + "'); echo str_repeat(chr(65 + $id % 26), "
                + length + "); file_put_contents('" + done + "/' . $id, 'done');\n");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 8\n")) {
            Path conf = conf(fpm, "").resolveSibling("edge.conf");
            // the server's connections as few as any descriptor limit allows: under ulimit -n 1024 the default 10 000
            // was lowered with a warning, which this test counts as a failure
            Files.writeString(conf, Files.readString(conf).replace("max-connections = 2", "max-connections = 8")
                    .replace("access-log = off }", "access-log = off, max-connections = 100 }"));
            try (EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-XX:MaxDirectMemorySize=16m"),
                    dir, "-c", conf.toString())) {
                List<Socket> slow = new ArrayList<>();
                try {
                    edge.verify(() -> {
                        int port = edge.awaitBoundPort();
                        for (int id = 0; id < clients; id++) {
                            Socket socket = new Socket();
                            slow.add(socket);
                            socket.setReceiveBufferSize(4096); // before the connect: a small window, drained only later
                            socket.connect(new InetSocketAddress("127.0.0.1", port));
                            socket.getOutputStream().write(("GET /page.php?id=" + id + " HTTP/1.1\r\nHost: a\r\n\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                        }
                        Awaits.await(() -> {
                            try (Stream<Path> ended = Files.list(done)) {
                                return ended.count() == clients;
                            }
                        }, "every script ended while its client read nothing");
                        for (int id = 0; id < clients; id++) {
                            InputStream in = slow.get(id).getInputStream();
                            assertThat(FastCgiBufferingIT.readHead(in)).as("answer %d", id)
                                    .startsWith("HTTP/1.1 200 OK\r\n");
                            byte[] body = in.readNBytes(length);
                            assertThat(body.length).as("body bytes of answer %d", id).isEqualTo(length);
                            byte[] page = new byte[length];
                            Arrays.fill(page, (byte) ('A' + id % 26));
                            assertThat(Arrays.mismatch(body, page))
                                    .as("the first byte of answer %d that is not its letter", id).isEqualTo(-1);
                        }
                        assertThat(edge.output().lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")))
                                .as("warnings and errors").isEmpty();
                    }, fpm::log);
                } finally {
                    for (Socket socket : slow) {
                        socket.close();
                    }
                }
            }
        }
    }

    /**
     * The caches' defaults (256 MiB each) are more than a small JVM's direct memory (-XX:MaxDirectMemorySize, else
     * -Xmx): cacheable answers filled it, the caches far from full evicted nothing, and PHP's answers failed from then
     * on (502, or cut short). They are held to half of it, and every answer comes whole.
     */
    @Test
    void cachesAreHeldUnderTheDirectMemoryLimitAndEveryAnswerComesWhole() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("page.php"), "<?php header('Cache-Control: max-age=600');"
                + " echo str_repeat(chr(65 + (int) $_GET['id'] % 26), 900000);\n");
        try (PhpFpm fpm = PhpFpm.tcp(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n")) {
            Path conf = conf(fpm, ", cache = true");
            try (EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-XX:MaxDirectMemorySize=32m"),
                    dir, "-c", conf.toString())) {
                edge.verify(() -> {
                    int port = edge.awaitBoundPort();
                    assertThat(edge.output()).contains("edge.cache.content.max-bytes 256 MiB held to 8 MiB and"
                            + " edge.cache.responses.max-bytes 256 MiB held to 8 MiB: the JVM's direct memory limit is"
                            + " 32 MiB");
                    HttpClient http = HttpClient.newHttpClient();
                    for (int i = 0; i < 2; i++) {
                        HttpResponse<String> first = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/page.php?id=0")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(first.headers().firstValue("age").isPresent()).as("stored, then a hit").isEqualTo(i == 1);
                    }
                    for (int id = 0; id < 60; id++) {
                        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/page.php?id=" + id)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(response.statusCode()).as("answer %d", id).isEqualTo(200);
                        assertThat(response.body()).as("answer %d", id)
                                .isEqualTo(String.valueOf((char) ('A' + id % 26)).repeat(900000));
                    }
                    assertThat(edge.output()).doesNotContain("OutOfMemoryError").doesNotContain("no direct memory");
                }, fpm::log);
            }
        }
    }
}
