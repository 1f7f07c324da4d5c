package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file engine behind the whole server: a thumbnail-sized file, a file of several sendfile chunks, a
 * range across a chunk boundary. The content cache is off, so each request reaches the engine.
 */
class StaticEnginesIT {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"auto", "io_uring", "threads", "linux-aio-sendfile", "sendfile"})
    void servesSmallAndMultiChunkFilesAndRanges(String engine) throws Exception {
        byte[] thumb = write("AB/CD/thumb.jpg", 7_001, 1);
        byte[] big = write("AB/CD/big.bin", 3 * (1 << 20) + 4_097, 2);
        HttpClient http = HttpClient.newHttpClient();
        try (EdgeHarness edge = start(engine)) {
            for (int round = 0; round < 2; round++) { // the second round from the open-file cache
                HttpResponse<byte[]> small = http.send(HttpRequest.newBuilder(edge.uri("/AB/CD/thumb.jpg")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(small.statusCode()).isEqualTo(200);
                assertThat(small.body()).isEqualTo(thumb);
                HttpResponse<byte[]> whole = http.send(HttpRequest.newBuilder(edge.uri("/AB/CD/big.bin")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(whole.statusCode()).isEqualTo(200);
                assertThat(Arrays.equals(whole.body(), big)).as("3 MiB body through %s", engine).isTrue();
                int from = (1 << 20) - 10;
                HttpResponse<byte[]> range = http.send(HttpRequest.newBuilder(edge.uri("/AB/CD/big.bin"))
                        .header("Range", "bytes=" + from + "-" + (from + 99)).build(), HttpResponse.BodyHandlers.ofByteArray());
                assertThat(range.statusCode()).isEqualTo(206);
                assertThat(range.body()).isEqualTo(Arrays.copyOfRange(big, from, from + 100));
            }
        }
    }

    /**
     * A location's gzip on files (nginx's gzip filter after its static module): a file of several chunks is read into
     * buffers and compressed as it goes, a small one whole; a client that takes no gzip gets the bytes as they are.
     */
    @ParameterizedTest
    @ValueSource(strings = {"auto", "io_uring", "threads", "linux-aio-sendfile", "sendfile"})
    void compressesFilesAsTheyGo(String engine) throws Exception {
        byte[] small = write("AB/CD/small.txt", 7_001, 3);
        byte[] big = write("AB/CD/big.txt", 3 * (1 << 20) + 4_097, 4);
        HttpClient http = HttpClient.newHttpClient();
        try (EdgeHarness edge = start(engine, "location-defaults.gzip { enabled = true, types = [\"text/plain\"] }")) {
            for (String[] file : new String[][] {{"/AB/CD/small.txt", "small"}, {"/AB/CD/big.txt", "big"}}) {
                byte[] expected = file[1].equals("small") ? small : big;
                HttpResponse<byte[]> compressed = http.send(HttpRequest.newBuilder(edge.uri(file[0]))
                        .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
                assertThat(compressed.statusCode()).isEqualTo(200);
                assertThat(compressed.headers().firstValue("content-encoding")).hasValue("gzip");
                try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(compressed.body()))) {
                    assertThat(Arrays.equals(in.readAllBytes(), expected)).as("%s through %s", file[0], engine).isTrue();
                }
                HttpResponse<byte[]> plain = http.send(HttpRequest.newBuilder(edge.uri(file[0])).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
                assertThat(plain.headers().firstValue("vary")).hasValue("Accept-Encoding");
                assertThat(Arrays.equals(plain.body(), expected)).as("%s as it is", file[0]).isTrue();
            }
        }
    }

    /**
     * {@code printf 'GET /f HTTP/1.0\r\n\r\n' | nc -N}: the client's FIN comes while its file is opened and read,
     * off the loop where the engine does that. edge closed the connection at the FIN and the answer was lost; nginx
     * answers, then closes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"auto", "io_uring", "threads", "linux-aio-sendfile", "sendfile"})
    void aClientThatHalfClosesAfterItsRequestGetsTheFileThenTheClose(String engine) throws Exception {
        byte[] thumb = write("thumb.jpg", 7_001, 3);
        byte[] big = write("big.bin", 2 * (1 << 20) + 5, 4);
        try (EdgeHarness edge = start(engine)) {
            for (String name : new String[] {"thumb.jpg", "big.bin", "thumb.jpg"}) {
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    client.send("GET /" + name + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    client.socket().shutdownOutput();
                    RawHttpClient.Response response = client.read();
                    assertThat(response.status()).as("%s through %s", name, engine).isEqualTo(200);
                    assertThat(Arrays.equals(response.body(), name.equals("big.bin") ? big : thumb))
                            .as("%s through %s", name, engine).isTrue();
                    assertThat(client.isClosedByPeer()).isTrue();
                }
            }
        }
    }

    /**
     * The same client, but the file is not in the page cache and outgrows what the sockets hold: between two chunks
     * edge waits for the disk, with nothing to write and the client's side closed. Netty 4.2.18's epoll then takes the
     * connection out of epoll (no interest left), and the next full socket buffer failed to register for writability
     * (epoll_ctl MOD: ENOENT): the output was shut down, the client had its 200 head and a body cut after a few MiB
     * (found soaking: a request, {@code shutdown(SHUT_WR)}, then reading a cold 50 MiB file).
     */
    @ParameterizedTest
    @ValueSource(strings = {"auto", "io_uring", "threads", "linux-aio-sendfile", "sendfile"})
    void aClientThatHalfClosesGetsAFileLargerThanTheSocketBuffersWhole(String engine) throws Exception {
        byte[] big = write("big.bin", 12 * (1 << 20) + 7, 5);
        try (EdgeHarness edge = start(engine)) {
            for (int round = 0; round < 2; round++) { // the second from the open-file cache
                dropFromPageCache(dir.resolve("root/big.bin"));
                try (RawHttpClient client = new RawHttpClient(edge.address(), 16 * 1024)) {
                    client.send("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
                    client.socket().shutdownOutput();
                    RawHttpClient.Response response = client.read();
                    assertThat(response.status()).as("through %s", engine).isEqualTo(200);
                    assertThat(Arrays.equals(response.body(), big)).as("12 MiB through %s", engine).isTrue();
                    assertThat(client.isClosedByPeer()).isTrue();
                }
            }
        }
    }

    /**
     * A read buffer the JVM's direct memory limit has no room for ({@code -XX:MaxDirectMemorySize}). The JDK's
     * {@code allocateDirect} then runs a full GC and sleeps, about half a second, on the event loop before its
     * OutOfMemoryError, and the request got 500: a burst of cold reads under a small limit held the loops for tens of
     * seconds. It is now refused at once, 503 with Retry-After as when descriptors run out, and a read with room is
     * served.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "threads"})
    void aReadPastTheDirectMemoryLimitIs503WithRetryAfterAndOneWithRoomIsServed(String engine) throws Exception {
        byte[] thumb = write("thumb.jpg", 7_001, 6);
        write("big.bin", 6 * (1 << 20), 7);
        dropFromPageCache(dir.resolve("root/big.bin"));
        try (EdgeProcess edge = startUnderDirectMemoryLimit(engine, "4m")) {
            edge.verify(() -> {
                InetSocketAddress address = new InetSocketAddress("127.0.0.1", edge.awaitBoundPort());
                try (RawHttpClient client = new RawHttpClient(address)) {
                    client.send("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n"); // one 6 MiB read: over the limit
                    RawHttpClient.Response response = client.read();
                    assertThat(response.status()).as("through %s", engine).isEqualTo(503);
                    assertThat(response.header("retry-after")).isEqualTo("1");
                }
                try (RawHttpClient client = new RawHttpClient(address)) {
                    client.send("GET /thumb.jpg HTTP/1.1\r\nHost: a\r\n\r\n");
                    RawHttpClient.Response response = client.read();
                    assertThat(response.status()).as("through %s", engine).isEqualTo(200);
                    assertThat(response.body()).isEqualTo(thumb);
                }
                assertThat(edge.output()).doesNotContain("OutOfMemoryError");
            });
        }
    }

    /**
     * A read the limit has room for is served while another read's buffer is in flight. Netty 4.2 counts the direct
     * buffers it takes from the JDK as the JDK does, and the two counts were added: with a 6 MiB buffer held for a slow
     * client under a 16 MiB limit, a second 6 MiB read was refused (503) with 10 MiB free.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "threads"})
    void aReadTheDirectMemoryLimitHasRoomForIsServedBesideOneInFlight(String engine) throws Exception {
        write("held.bin", 6 * (1 << 20), 8);
        byte[] second = write("second.bin", 6 * (1 << 20), 9);
        dropFromPageCache(dir.resolve("root/held.bin"));
        dropFromPageCache(dir.resolve("root/second.bin"));
        try (EdgeProcess edge = startUnderDirectMemoryLimit(engine, "16m")) {
            edge.verify(() -> {
                InetSocketAddress address = new InetSocketAddress("127.0.0.1", edge.awaitBoundPort());
                try (RawHttpClient slow = new RawHttpClient(address, 16 * 1024)) {
                    slow.send("GET /held.bin HTTP/1.1\r\nHost: a\r\n\r\n");
                    // Body bytes came: the 6 MiB read is done, and its buffer waits for a client that reads no more.
                    byte[] start = slow.socket().getInputStream().readNBytes(4096);
                    assertThat(new String(start, 0, 12, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200");
                    try (RawHttpClient client = new RawHttpClient(address)) {
                        client.send("GET /second.bin HTTP/1.1\r\nHost: a\r\n\r\n");
                        RawHttpClient.Response response = client.read();
                        assertThat(response.status()).as("through %s", engine).isEqualTo(200);
                        assertThat(Arrays.equals(response.body(), second)).isTrue();
                    }
                }
                assertThat(edge.output()).doesNotContain("OutOfMemoryError");
            });
        }
    }

    /**
     * Edge as a process on {@code engine} under {@code -XX:MaxDirectMemorySize=limit}, listening on a loopback port it
     * binds ({@link EdgeProcess#awaitBoundPort}): a file
     * of up to 8 MiB is one read, and the content cache is off (each request reaches the engine).
     */
    private EdgeProcess startUnderDirectMemoryLimit(String engine, String limit) throws Exception {
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off }
                  static { engine = %s, sendfile-chunk = 8 MiB }
                  cache.content.enabled = false
                  sites = [{ server-names = ["_"], default = true, root = "root" }]
                }
                """.formatted(engine));
        EdgeProcess edge = EdgeProcess.startWithJvmOptions(List.of("-XX:MaxDirectMemorySize=" + limit), dir,
                "-c", conf.toString());
        try {
            edge.awaitBoundPort();
        } catch (Exception | Error e) {
            edge.close();
            throw e;
        }
        return edge;
    }

    /** Edge on {@code engine}, the content cache off (each request reaches the engine), serving {@code dir/root}. */
    private EdgeHarness start(String engine) throws Exception {
        return start(engine, "");
    }

    /** As {@link #start(String)}, with {@code more} configuration. */
    private EdgeHarness start(String engine, String more) throws Exception {
        return EdgeHarness.start(dir, """
                static { engine = %s, sendfile-chunk = 1 MiB }
                cache.content.enabled = false
                sites = [{ server-names = ["_"], default = true, root = "root" }]
                %s
                """.formatted(engine, more));
    }

    /** Drops {@code file}'s pages from the page cache (posix_fadvise DONTNEED), as a cold disk would have them. */
    private static void dropFromPageCache(Path file) throws Exception {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            channel.force(true); // clean pages, so that dropping them loses nothing
        }
        Process dd = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0", "status=none").inheritIO().start();
        assertThat(dd.waitFor()).isZero();
    }

    /** Writes {@code n} random bytes (from {@code seed}) to {@code path} under the root, and returns them. */
    private byte[] write(String path, int n, long seed) throws Exception {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        Path file = dir.resolve("root").resolve(path);
        Files.createDirectories(file.getParent());
        Files.write(file, b);
        return b;
    }
}
