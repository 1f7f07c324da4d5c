package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A FastCGI group with await-worker = false, for a FastCGI server that leaves FCGI_GET_VALUES unanswered: no worker
 * probe goes behind its requests, and a slot is free once the answer is whole, as with nginx (with the probe, each
 * slot would stay taken a read timeout after every answer).
 */
class AwaitWorkerIT {

    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void withoutAwaitingTheWorkerNoProbeIsSentAndTheKeptConnectionServesTheNextRequest() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("ok.php"), "<?php // answered by the fake peer");
        Path socket = dir.resolve("fake.sock");
        try (FakeFcgiServer fake = new FakeFcgiServer(socket, false);
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", fastcgi = fake }
                     ] }]
                     fastcgi.backends.fake {
                       addresses = ["unix:%s"], max-connections = 1, await-worker = false
                       keep-alive.enabled = true, timeouts.read = 60 s, queue.timeout = 60 s
                     }
                     """.formatted(socket))) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(edge.uri("/ok.php")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as("request %d", i).isEqualTo(200);
            }
            assertThat(fake.getValuesSeen).hasValue(0);
            assertThat(fake.requestsPerConnection).singleElement().satisfies(count -> assertThat(count).hasValue(3));
        }
    }
}
