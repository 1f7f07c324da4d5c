package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A status location in front of a real php-fpm: what the page says after a static file and a PHP request. */
class StatusPageIT {

    @TempDir
    static Path dir;
    static PhpFpm fpm;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("a.txt"), "static bytes\n");
        Files.writeString(www.resolve("hello.php"), "<?php echo 'hello';\n");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/" }
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "= /edge-status", status = true }
                    { match = "= /closed-status", status = true, status-allow = ["10.9.8.7"] }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> send(String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(edge.uri(path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thePageCountsWhatWasServedAndRefusesOthers() throws Exception {
        assertThat(send("GET", "/a.txt").body()).isEqualTo("static bytes\n");
        assertThat(send("GET", "/hello.php").body()).isEqualTo("hello");

        HttpResponse<String> page = send("GET", "/edge-status");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
        assertThat(page.headers().firstValue("cache-control")).hasValue("no-store");
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line)
                .matches("static files: engine=(io_uring|threads) sendfile=0 resident=\\d+ async=\\d+ fallback=0 "
                        + "timed-out=0 rejected=0 in-flight=0 waiting=0 descriptors=\\d+( read-us .*)?")
                .satisfies(l -> assertThat(readsIn(l)).as("the one file read").isEqualTo(1)));
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line)
                .startsWith("fastcgi group php: open=").contains(" leases=1 ", " rejected-full=0 "));
        assertThat(page.body().lines()).anySatisfy(line -> assertThat(line).startsWith("content cache: hits="));
        assertThat(page.body().lines()).first().asString()
                .matches("connections: open=[1-9]\\d* max=\\d+ accepting=yes accepted=[1-9]\\d* refused=0 pauses=0");

        HttpResponse<String> head = send("HEAD", "/edge-status");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValueAsLong("content-length").orElseThrow()).isPositive();

        assertThat(send("POST", "/edge-status").statusCode()).isEqualTo(405);
        assertThat(send("GET", "/closed-status").statusCode()).as("127.0.0.1 is not in its status-allow")
                .isEqualTo(403);
    }

    /** resident + async + fallback of a static files line. */
    private static long readsIn(String line) {
        long reads = 0;
        for (String key : new String[] {"resident=", "async=", "fallback="}) {
            int at = line.indexOf(' ' + key) + key.length() + 1;
            reads += Long.parseLong(line.substring(at, line.indexOf(' ', at)));
        }
        return reads;
    }
}
