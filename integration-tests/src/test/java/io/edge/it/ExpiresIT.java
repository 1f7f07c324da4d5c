package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's {@code expires}, as nginx's: Cache-Control and Expires on the files it answers, and only there. */
class ExpiresIT {

    @TempDir
    static Path dir;

    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("thumbs/ab/cd"));
        Files.write(root.resolve("thumbs/ab/cd/small.jpg"), new byte[7_000]);
        Files.write(root.resolve("thumbs/ab/cd/large.jpg"), new byte[3 << 20]); // past the in-memory read
        Files.createDirectories(root.resolve("old"));
        Files.writeString(root.resolve("old/page.html"), "<p>old</p>");
        Files.writeString(root.resolve("plain.txt"), "plain");
        edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "root", locations = [
                  { match = "/" },
                  { match = "/thumbs/", expires = 30 d },
                  { match = "/old/", expires = epoch }
                ] }]
                """);
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static HttpResponse<byte[]> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static ZonedDateTime date(HttpResponse<?> response, String name) {
        return ZonedDateTime.parse(response.headers().firstValue(name).orElseThrow(() -> new AssertionError(name)),
                DateTimeFormatter.RFC_1123_DATE_TIME);
    }

    /** max-age of 30 days, and an Expires 30 days after the answer's Date (within the second they were taken in). */
    private static void keptFor30Days(HttpResponse<?> response, String what) {
        assertThat(response.headers().allValues("cache-control")).as(what).containsExactly("max-age=2592000");
        Duration apart = Duration.between(date(response, "date"), date(response, "expires"));
        assertThat(apart).as(what).isBetween(Duration.ofDays(30).minusSeconds(1), Duration.ofDays(30).plusSeconds(1));
    }

    @Test
    void filesOfAnExpiresLocationCarryCacheControlAndExpiresOnEveryKindOfAnswer() throws Exception {
        for (int i = 0; i < 3; i++) { // the first from the disk, later ones from the content cache once admitted
            HttpResponse<byte[]> small = send("GET", "/thumbs/ab/cd/small.jpg");
            assertThat(small.statusCode()).isEqualTo(200);
            assertThat(small.body()).hasSize(7_000);
            keptFor30Days(small, "small, round " + i);
        }
        HttpResponse<byte[]> large = send("GET", "/thumbs/ab/cd/large.jpg");
        assertThat(large.statusCode()).isEqualTo(200);
        assertThat(large.body()).hasSize(3 << 20);
        keptFor30Days(large, "large");

        String etag = large.headers().firstValue("etag").orElseThrow();
        HttpResponse<byte[]> notModified = send("GET", "/thumbs/ab/cd/large.jpg", "If-None-Match", etag);
        assertThat(notModified.statusCode()).isEqualTo(304);
        keptFor30Days(notModified, "304");

        HttpResponse<byte[]> range = send("GET", "/thumbs/ab/cd/small.jpg", "Range", "bytes=0-99");
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).hasSize(100);
        keptFor30Days(range, "206");

        // nginx 1.22's headers filter sees the 200 before its range filter turns it into a 416: expires holds there too
        for (String path : new String[] {"/thumbs/ab/cd/small.jpg", "/thumbs/ab/cd/large.jpg"}) {
            HttpResponse<byte[]> unsatisfiable = send("GET", path, "Range", "bytes=99999999-");
            assertThat(unsatisfiable.statusCode()).as(path).isEqualTo(416);
            keptFor30Days(unsatisfiable, "416 of " + path);
        }

        HttpResponse<byte[]> head = send("HEAD", "/thumbs/ab/cd/large.jpg");
        assertThat(head.statusCode()).isEqualTo(200);
        keptFor30Days(head, "HEAD");

        HttpResponse<byte[]> directory = send("GET", "/thumbs/ab");
        assertThat(directory.statusCode()).isEqualTo(301);
        keptFor30Days(directory, "301 to the directory");
    }

    @Test
    void epochAsksEveryTime() throws Exception {
        HttpResponse<byte[]> page = send("GET", "/old/page.html");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().allValues("cache-control")).containsExactly("no-cache");
        assertThat(page.headers().allValues("expires")).containsExactly("Thu, 01 Jan 1970 00:00:01 GMT");
    }

    @Test
    void otherLocationsAndErrorsCarryNeither() throws Exception {
        HttpResponse<byte[]> plain = send("GET", "/plain.txt");
        assertThat(plain.statusCode()).isEqualTo(200);
        HttpResponse<byte[]> missing = send("GET", "/thumbs/ab/cd/missing.jpg");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(plain.headers().firstValue("cache-control")).isEmpty();
        assertThat(plain.headers().firstValue("expires")).isEmpty();
        // the location adds nothing to an error (as nginx's expires: 200, 201, 204, 206, 301-304, 307, 308), and
        // a 404 of edge's own says nothing of caching either (as nginx's)
        assertThat(missing.headers().firstValue("cache-control")).isEmpty();
        assertThat(missing.headers().firstValue("expires")).isEmpty();
    }
}
