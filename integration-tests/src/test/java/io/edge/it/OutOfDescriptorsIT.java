package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * edge out of file descriptors (its clients hold them all) when a PHP request needs a connection to php-fpm: the
 * request waits, as for a busy backend, and gets 503 + Retry-After at its queue timeout, the log saying why; once
 * descriptors are free, PHP answers at full strength again. The socket that could not be made failed a close in the
 * connector before the pool heard of it: the request hung for good and its connection slot was lost for the life of
 * the process (found probing under {@code prlimit --nofile=256}).
 */
class OutOfDescriptorsIT {

    @TempDir
    Path dir;

    @Test
    void aPhpRequestWithNoDescriptorLeftGets503AndTheSlotsComeBack() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.html"), "static\n");
        Files.writeString(www.resolve("quick.php"), "<?php echo 'quick';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n")) {
            Path conf = dir.resolve("edge.conf");
            Files.writeString(conf, """
                    edge {
                      server { listen = ["127.0.0.1:0"], access-log = off }
                      sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                        { match = "~ \\\\.php$", fastcgi = php }, { match = "/" } ] }]
                      fastcgi.backends.php { addresses = ["%s"], max-connections = 2, queue.timeout = 2 s }
                    }
                    """.formatted(fpm.address()));
            try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
                edge.verify(() -> {
                    int port = edge.awaitBoundPort();
                    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
                    try (RawHttpClient client = new RawHttpClient(address)) {
                        assertThat(client.send("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
                        long pid = edge.process.pid();
                        String soft = openFilesLimit(pid);
                        int limit = (int) descriptors(pid) + 4;
                        setOpenFilesLimit(pid, Integer.toString(limit)); // the soft limit only: raised again below

                        List<Socket> idle = new ArrayList<>();
                        try {
                            for (int i = 0; i < 16; i++) { // edge accepts until its limit; the rest wait in the backlog
                                Socket socket = new Socket();
                                socket.connect(address);
                                idle.add(socket);
                            }
                            await(() -> descriptors(pid) >= limit, "edge's descriptors all taken");
                            RawHttpClient.Response starved = client.send("GET /quick.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
                            assertThat(starved.status()).isEqualTo(503);
                            assertThat(starved.headers()).containsKey("retry-after");
                        } finally {
                            for (Socket socket : idle) {
                                socket.close();
                            }
                        }
                        setOpenFilesLimit(pid, soft);
                        // both slots free again: two requests at once, each on its own connection
                        try (RawHttpClient second = new RawHttpClient(address)) {
                            client.send("GET /quick.php HTTP/1.1\r\nHost: a\r\n\r\n");
                            second.send("GET /quick.php HTTP/1.1\r\nHost: a\r\n\r\n");
                            assertThat(client.read().text()).isEqualTo("quick");
                            assertThat(second.read().text()).isEqualTo("quick");
                        }
                    }
                    // the error log is written by a thread of its own: the 503's line, logged after the connect
                    // failure's, may reach the output after the answers above did
                    String output = edge.awaitOutput("GET /quick.php -> 503: fastcgi group php: no connection slot "
                            + "within 2000 ms (the last connect failed: " + fpm.address() + ": ");
                    assertThat(output).contains("edge is out of file descriptors (its limit, ulimit -n, or the system's)")
                            .containsPattern("the last connect failed: [^\\n]*Too many open files\\)")
                            .doesNotContain("QueueTimeoutException", "Unable to create Channel");
                });
            }
        }
    }

    /** The soft limit on open files of process {@code pid}, as /proc shows it. */
    private static String openFilesLimit(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc/" + pid + "/limits")).stream()
                .filter(line -> line.startsWith("Max open files")).findFirst().orElseThrow()
                .substring("Max open files".length()).trim().split("\\s+")[0];
    }

    private static void setOpenFilesLimit(long pid, String soft) throws Exception {
        Process prlimit = new ProcessBuilder("prlimit", "--pid", Long.toString(pid), "--nofile=" + soft + ":")
                .inheritIO().start();
        assertThat(prlimit.waitFor()).as("prlimit --nofile=" + soft + ":").isZero();
    }

    private static long descriptors(long pid) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.count();
        }
    }
}
