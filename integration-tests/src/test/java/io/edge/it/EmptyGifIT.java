package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code empty-gif} (nginx's empty_gif) on a real edge, asked with curl. What is expected is what nginx
 * 1.22.1 answered to the same requests with {@code location = /_.gif { empty_gif; }} (side by side): the same 43 bytes,
 * image/gif, its Last-Modified, 304 to that date, 405 to a POST, the whole 200 to a Range.
 */
class EmptyGifIT {

    /** nginx 1.22.1's body, as {@code curl -s http://nginx/_.gif | xxd -p} printed it. */
    private static final String NGINX_GIF = "47494638396101000100800100000000ffffff21f90401000001002c00000000010001000002024c01003b";
    private static final String LAST_MODIFIED = "Mon, 28 Sep 1970 06:00:00 GMT";

    @TempDir
    static Path dir;

    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "= /_.gif", empty-gif = true, headers { X-Pixel = "1" } }
                ] }]
                """);
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static String url() {
        return edge.uri("/_.gif").toString();
    }

    @Test
    void aGetIsNginxsGifByteForByte() throws Exception {
        String body = Curl.output(url());
        assertThat(HexFormat.of().formatHex(body.getBytes(StandardCharsets.ISO_8859_1))).isEqualTo(NGINX_GIF);
        String head = Curl.output("-o", "/dev/null", "-D", "-", url());
        assertThat(head).startsWith("HTTP/1.1 200 ").containsIgnoringCase("content-type: image/gif\r\n")
                .containsIgnoringCase("content-length: 43\r\n")
                .containsIgnoringCase("last-modified: " + LAST_MODIFIED + "\r\n")
                .containsIgnoringCase("x-pixel: 1\r\n").doesNotContainIgnoringCase("accept-ranges");
    }

    @Test
    void aHeadHasTheHeadAlone() throws Exception {
        String head = Curl.output("-I", url());
        assertThat(head).startsWith("HTTP/1.1 200 ").containsIgnoringCase("content-length: 43\r\n")
                .containsIgnoringCase("content-type: image/gif\r\n").endsWith("\r\n\r\n");
    }

    @Test
    void itsDateIsJudgedAsAFilesIs() throws Exception {
        assertThat(Curl.output("-o", "/dev/null", "-w", "%{http_code}", "-H", "If-Modified-Since: " + LAST_MODIFIED,
                url())).isEqualTo("304");
        assertThat(Curl.output("-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: *", url()))
                .isEqualTo("304");
        assertThat(Curl.output("-o", "/dev/null", "-w", "%{http_code}", "-H",
                "If-Unmodified-Since: Mon, 28 Sep 1970 05:00:00 GMT", url())).isEqualTo("412");
        assertThat(Curl.output("-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-H", "Range: bytes=0-5",
                url())).as("no ranges, as nginx's").isEqualTo("200 43");
    }

    @Test
    void aPostIs405() throws Exception {
        assertThat(Curl.output("-o", "/dev/null", "-w", "%{http_code}", "-d", "x=1", url())).isEqualTo("405");
    }
}
