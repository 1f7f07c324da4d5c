package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script's X-Accel-Buffering read as nginx 1.22 reads it, with a real php-fpm: "no" or "yes" in any case, the whole
 * value, of several lines the last of those; any other value ("nope", "n", "Y", "yessir") leaves the location's buffering as it
 * was. Seen where it shows most: the response cache stores a buffered answer and no unbuffered one, as nginx's
 * fastcgi_cache.
 */
class NginxParityBufferingIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        String script = """
                <?php
                header('Cache-Control: public, max-age=60');
                header('X-Accel-Buffering: ' . $_GET['b']);
                if (isset($_GET['then'])) {
                    header('X-Accel-Buffering: ' . $_GET['then'], false);
                }
                echo uniqid('', true), "\\n";
                """;
        for (String sub : new String[] {"buffered", "streams"}) {
            Files.writeString(Files.createDirectories(www.resolve(sub)).resolve("answer.php"), script);
        }
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "^~ /buffered/", fastcgi = php, cache = true }
                    { match = "^~ /streams/", fastcgi = streams, cache = true }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                fastcgi.backends.streams { addresses = ["%1$s"], max-connections = 2, response-buffer.enabled = false }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    /** Whether the answer to {@code path} was stored: asked twice, the second is the first's body. */
    private static boolean stored(String path) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response first = client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").read();
            RawHttpClient.Response second = client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.headers()).as(path).doesNotContainKey("x-accel-buffering");
            return first.text().equals(second.text());
        }
    }

    /** Where the answer is buffered, "no" in any case makes it a stream nothing stores; "nope" or "n" do not. */
    @Test
    void onlyNoUnbuffersABufferedAnswer() throws Exception {
        assertThat(stored("/buffered/answer.php?b=no")).as("no").isFalse();
        assertThat(stored("/buffered/answer.php?b=NO")).as("NO").isFalse();
        assertThat(stored("/buffered/answer.php?b=nope")).as("nope: nginx stores it").isTrue();
        assertThat(stored("/buffered/answer.php?b=n")).as("n: nginx stores it").isTrue();
    }

    /** Of several lines the last "no" or "yes" says it, as nginx reads each in turn. */
    @Test
    void theLastOfTwoLinesSaysIt() throws Exception {
        assertThat(stored("/buffered/answer.php?b=no&then=nope")).as("no, then nope: the no stands").isFalse();
        assertThat(stored("/buffered/answer.php?b=no&then=yes")).as("no, then yes").isTrue();
        assertThat(stored("/buffered/answer.php?b=yes&then=no")).as("yes, then no").isFalse();
        assertThat(stored("/streams/answer.php?b=no&then=yes")).as("no, then yes: buffered").isTrue();
        assertThat(stored("/streams/answer.php?b=yes&then=no")).as("yes, then no: unbuffered").isFalse();
    }

    /** Where the group is fastcgi_buffering off, "yes" in any case buffers the answer; "Y" or "yessir" do not. */
    @Test
    void onlyYesBuffersAnUnbufferedGroupsAnswer() throws Exception {
        assertThat(stored("/streams/answer.php?b=yes")).as("yes").isTrue();
        assertThat(stored("/streams/answer.php?b=Yes")).as("Yes").isTrue();
        assertThat(stored("/streams/answer.php?b=Y")).as("Y: nginx streams it").isFalse();
        assertThat(stored("/streams/answer.php?b=yessir")).as("yessir: nginx streams it").isFalse();
    }
}
