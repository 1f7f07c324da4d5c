package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
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

    String eventually(String path, String expected) throws Exception {
        String body = get(path).body();
        for (int i = 0; i < 1000 && !body.equals(expected); i++) {
            Thread.sleep(10); // the test thread waits for the background stat, no event loop does
            body = get(path).body();
        }
        return body;
    }

    @Test
    void aSmallFileIsAnsweredFromMemoryUntilItsRevalidationSeesTheChange() throws Exception {
        start("cache.content { revalidate = 1 s }");
        Path file = Files.writeString(root.resolve("a.txt"), "first version");
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

        // Due: the next request waits for one stat off the event loop; the entry is dropped and the new bytes
        // are read (through the descriptor the open-file cache may still trust).
        clock.addAndGet(TimeUnit.SECONDS.toNanos(2));
        assertThat(eventually("/a.txt", "other content")).isEqualTo("other content");
        assertThat(get("/a.txt").headers().firstValue("etag")).isNotEqualTo(etag);
    }

    /**
     * The project's acceptance case, {@code mv new old} while the file is cached: after the revalidation period the
     * very first request gets the new bytes, as nginx 1.22 answers after {@code open_file_cache_valid}. It waits for
     * the stat, which runs off the event loop; the open-file cache, on the system clock here, may still hold a
     * descriptor of the old file, which the stat's finding drops too.
     */
    @Test
    void aFileRenamedOverTheCachedOneIsServedNewByTheFirstRequestAfterThePeriod() throws Exception {
        start("cache.content { revalidate = 1 s }");
        Path file = Files.writeString(root.resolve("r.txt"), "AAAA-version-1\n");
        for (int i = 0; i < 3; i++) {
            assertThat(get("/r.txt").body()).isEqualTo("AAAA-version-1\n"); // read twice, then kept
        }
        Path replacement = Files.writeString(root.resolve("r.new"), "BBBB-version-2\n");
        Files.setLastModifiedTime(replacement, Files.getLastModifiedTime(file));
        Files.move(replacement, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertThat(get("/r.txt").body()).as("within the period").isEqualTo("AAAA-version-1\n");

        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(1_500));
        assertThat(get("/r.txt").body()).isEqualTo("BBBB-version-2\n");
        assertThat(get("/r.txt").body()).isEqualTo("BBBB-version-2\n");
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
