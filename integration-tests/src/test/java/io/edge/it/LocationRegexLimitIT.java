package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's regex on a path it backtracks on (three greedy groups, a path of a thousand slashes): given up on past
 * PCRE's match limit and answered 500, as nginx answers, rather than holding the event loop for seconds and then
 * answering from a less strict location. On a real edge with real files.
 */
class LocationRegexLimitIT {

    @TempDir
    Path dir;

    @Test
    void aPathARegexBacktracksOnIsAnswered500AndTheConnectionGoesOn() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www/a/b"));
        Files.writeString(www.resolve("c.jpg"), "a thumbnail");
        String slashes = "/" + "a/".repeat(1500) + "b"; // about 1500^3 / 6 reads to say no
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "~ ^/old/(.*)$", rewrite = "/$1.png" }
                  { match = "~ ^/(.*)/(.*)/(.*)\\\\.jpg$", expires = 1 h }
                ] }]
                """);
             CapturedLog log = CapturedLog.of("io.edge.core.http.ServerExchange")) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response thumbnail = get(client, "/a/b/c.jpg");
                assertThat(thumbnail.status()).isEqualTo(200);
                assertThat(thumbnail.text()).isEqualTo("a thumbnail");
                assertThat(thumbnail.header("Cache-Control")).as("answered by the regex location")
                        .isEqualTo("max-age=3600");

                RawHttpClient.Response crafted = get(client, slashes + ".png");
                assertThat(crafted.status()).isEqualTo(500);
                assertThat(crafted.text()).doesNotContain("Exception").doesNotContain("gave up");
                assertThat(client.isClosedByPeer()).as("closed after a 500, as nginx closes").isTrue();
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(get(client, "/old" + slashes).status()).as("the rewrite's new path, routed again")
                        .isEqualTo(500);
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(get(client, "/a/b/c.jpg").status()).isEqualTo(200);
            }
            assertThat(log.warnings()).as("said once in 10 s: a client may send many").singleElement().asString()
                    .startsWith("GET " + slashes + ".png -> 500 location \"~ ^/(.*)/(.*)/(.*)\\.jpg$\" gave up on a"
                            + " path of 3006 characters");
        }
    }

    private static RawHttpClient.Response get(RawHttpClient client, String target) throws Exception {
        return client.send("GET " + target + " HTTP/1.1\r\nHost: example.org\r\n\r\n").read();
    }
}
