package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The static content cache over real sockets. A file rewritten in place (same inode) shows which layer
 * answered: the open-file cache reads the new bytes through its descriptor, only the content cache still
 * has the old ones. The caches age on a fake clock.
 */
class ContentCacheIT {

    @TempDir
    Path dir;
    final AtomicLong clock = new AtomicLong();
    final HttpClient http = HttpClient.newHttpClient();
    EdgeHarness edge;
    Path root;

    void start(String cache) throws Exception {
        root = Files.createDirectories(dir.resolve("root"));
        edge = EdgeHarness.start(dir, cache + """

                sites = [{ server-names = ["_"], default = true, root = "root" }]
                """, clock::get);
    }

    @AfterEach
    void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.ISO_8859_1));
    }

    /** Rewrites {@code file} in place, same length, and moves its mtime on by a minute. */
    void rewriteInPlace(Path file, String content) throws Exception {
        FileTime before = Files.getLastModifiedTime(file);
        Files.writeString(file, content, StandardCharsets.ISO_8859_1, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 60_000));
    }

    /** The body of {@code path} once it is {@code expected}: the test thread waits for the background stat. */
    String eventually(String path, String expected) throws Exception {
        return Awaits.until(() -> get(path).body(), expected::equals, path + " answering " + expected);
    }

    /**
     * A thumbnail a script writes in place as it makes it ({@code fopen("w")}, then its pieces): asked for while it is
     * being written, its first pieces go out (as nginx sends them), but neither cache keeps them as the file, so the
     * first request after the writer is done gets the whole file, its length and its validators, not the first pieces
     * as a whole 200 for the period (the thumbnail-generation audit: half the answers of a 50-client burst, empty or
     * cut, a second after the file was whole).
     */
    @Test
    void aFileBeingWrittenInPlaceIsAnsweredWholeOnceTheWriterIsDone() throws Exception {
        start("cache.content { revalidate = 1 s }");
        Path file = Files.writeString(root.resolve("thumb.jpg"), "first piece");
        for (int i = 0; i < 3; i++) { // a miss, a miss that would copy it in, a hit
            assertThat(get("/thumb.jpg").body()).isEqualTo("first piece");
        }
        Files.writeString(file, ", the rest", StandardCharsets.ISO_8859_1, StandardOpenOption.APPEND);
        HttpResponse<String> whole = get("/thumb.jpg");
        assertThat(whole.body()).isEqualTo("first piece, the rest");
        assertThat(whole.headers().firstValue("content-length")).hasValue("21");
        assertThat(whole.headers().firstValue("etag")).hasValueSatisfying(etag -> assertThat(etag).endsWith("-15\""));
    }

    @Test
    void aSmallFileIsAnsweredFromMemoryUntilItsRevalidationSeesTheChange() throws Exception {
        start("cache.content { revalidate = 1 s }");
        Path file = Files.writeString(root.resolve("a.txt"), "first version");
        // modified a while ago: the bytes of a file modified within the period are not kept (being written still?)
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        assertThat(get("/a.txt").body()).isEqualTo("first version");
        String etag = get("/a.txt").headers().firstValue("etag").orElseThrow();

        rewriteInPlace(file, "other content");
        // Within the revalidation period: the cached bytes, with their validators, ranges and 304s.
        HttpResponse<String> hit = get("/a.txt");
        assertThat(hit.body()).isEqualTo("first version");
        assertThat(hit.headers().firstValue("etag")).hasValue(etag);
        assertThat(hit.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        HttpResponse<String> range = get("/a.txt", "Range", "bytes=6-12");
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).isEqualTo("version");
        assertThat(range.headers().firstValue("content-range")).hasValue("bytes 6-12/13");
        assertThat(get("/a.txt", "If-None-Match", etag).statusCode()).isEqualTo(304);
        HttpResponse<String> head = http.send(HttpRequest.newBuilder(edge.uri("/a.txt"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.headers().firstValue("content-length")).hasValue("13");
        assertThat(head.body()).isEmpty();

        // Due: the next request still gets the old bytes at once and starts one stat off the event loop;
        // the entry is then dropped and the new bytes are read.
        clock.addAndGet(TimeUnit.SECONDS.toNanos(2));
        assertThat(eventually("/a.txt", "other content")).isEqualTo("other content");
        assertThat(get("/a.txt").headers().firstValue("etag")).isNotEqualTo(etag);
    }

    @Test
    void aFileOverMaxFileSizeIsNeverKept() throws Exception {
        start("cache.content { max-file-size = 16 }");
        Path file = Files.writeString(root.resolve("big.txt"), "seventeen bytes!!");
        assertThat(get("/big.txt").body()).isEqualTo("seventeen bytes!!");
        rewriteInPlace(file, "SEVENTEEN BYTES!!");
        assertThat(get("/big.txt").body()).isEqualTo("SEVENTEEN BYTES!!"); // read again through the descriptor
    }

    @Test
    void turnedOffEveryRequestReadsTheFile() throws Exception {
        start("cache.content { enabled = false }");
        Path file = Files.writeString(root.resolve("a.txt"), "first version");
        // modified a while ago: the bytes of a file modified within the period are not kept (being written still?)
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        assertThat(get("/a.txt").body()).isEqualTo("first version");
        rewriteInPlace(file, "other content");
        assertThat(get("/a.txt").body()).isEqualTo("other content");
    }

    @Test
    void aDeletedFileIsForgottenAfterRevalidation() throws Exception {
        start("cache.content { revalidate = 1 s }");
        Path file = Files.writeString(root.resolve("gone.txt"), "soon gone");
        assertThat(get("/gone.txt").body()).isEqualTo("soon gone");
        Files.delete(file);
        // The open-file cache trusts its descriptor for its revalidation period (on the system clock, as
        // nginx's open_file_cache_valid) and the content cache may take the bytes from it meanwhile; both
        // periods pass here, the content cache's on the fake clock at every try.
        HttpResponse<String> last;
        int tries = 0;
        do {
            clock.addAndGet(TimeUnit.SECONDS.toNanos(2));
            Thread.sleep(10);
            last = get("/gone.txt");
        } while (last.statusCode() != 404 && ++tries < 1000);
        assertThat(last.statusCode()).isEqualTo(404);
    }
}
