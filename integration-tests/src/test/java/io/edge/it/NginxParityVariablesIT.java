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
 * Variables in fastcgi-params and headers as nginx 1.22 gives them, where a side-by-side run with nginx and a real
 * php-fpm found edge's different.
 */
class NginxParityVariablesIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("length.php"), """
                <?php
                echo 'CONTENT_LENGTH=', $_SERVER['CONTENT_LENGTH'] ?? '-', ' APP_LENGTH=', $_SERVER['APP_LENGTH'] ?? '-',
                     ' body=', strlen(file_get_contents('php://input')), "\\n";
                """);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "~ \\\\.php$", fastcgi = php
                      fastcgi-params { APP_LENGTH = "$content_length" }
                      headers { X-Content-Length = "$content_length" } }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    /**
     * A chunked body's $content_length is its length once read, as nginx's (which reads the body whole before its
     * script runs): the same as the CONTENT_LENGTH param edge sends; a Content-Length's is its value, and a request
     * without a body has none.
     */
    @Test
    void aChunkedBodysContentLengthIsItsLength() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response chunked = client.send("POST /length.php HTTP/1.1\r\nHost: a\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").read();
            assertThat(chunked.status()).isEqualTo(200);
            assertThat(chunked.text()).isEqualTo("CONTENT_LENGTH=11 APP_LENGTH=11 body=11\n");
            assertThat(chunked.header("x-content-length")).isEqualTo("11");

            RawHttpClient.Response sized = client.send("POST /length.php HTTP/1.1\r\nHost: a\r\n"
                    + "Content-Length: 3\r\n\r\nabc").read();
            assertThat(sized.text()).isEqualTo("CONTENT_LENGTH=3 APP_LENGTH=3 body=3\n");
            assertThat(sized.header("x-content-length")).isEqualTo("3");

            RawHttpClient.Response none = client.send("GET /length.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(none.text()).isEqualTo("CONTENT_LENGTH= APP_LENGTH= body=0\n");
            assertThat(none.headers()).doesNotContainKey("x-content-length");
        }
    }
}
