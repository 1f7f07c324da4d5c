package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several limits in one location, nginx's {@code limit_req zone=perip ...; limit_req zone=perserver ...;} and
 * {@code limit_conn perip 2; limit_conn perserver 2;}, and zones keyed by something else than the client
 * ({@code $server_name}: one bucket for the site; {@code $http_x_api_key}), on a real edge with a real HTTP client;
 * clients varied by X-Forwarded-For from loopback, which real-ip trusts here. Rates of a request a minute, so that
 * nothing drains while a test runs.
 */
class LimitZonesIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Far more than the socket buffers on both ends hold: its download stays in progress while nobody reads it. */
    private static final int BIG = 32 << 20;

    @TempDir
    Path dir;

    /**
     * A client's limit and a ceiling for the whole site in one location: a client past its own burst is refused by it,
     * a client under its own refused by the ceiling once the site's burst is spent; and a request one refuses counts
     * in neither (nginx's: it takes from the zones only once all let it in): the refused third request of the first
     * client left the ceiling room for another's, and the requests the ceiling refused left the last client's own
     * bucket untouched, which another location of its zone shows.
     */
    @Test
    void aPerClientLimitAndAGlobalCeilingBothApplyAndARefusedRequestCountsInNeither() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["shop.example"], default = true, root = "www", locations = [
                  { match = "/", return = "200 ok", limit-req = [
                      { zone = perip, rate = "1 r/m", burst = 1, nodelay = true }
                      { zone = perserver, rate = "1 r/m", burst = 2, nodelay = true, key = "$server_name",
                        status = 503 }
                  ] }
                  { match = "/own/", return = "200 own",
                    limit-req { zone = perip, rate = "1 r/m", burst = 1, nodelay = true } }
                ] }]
                """)) {
            assertThat(edge.getFrom("198.51.100.1", "/a").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/a").statusCode()).as("within the client's burst").isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/a").statusCode()).as("past the client's burst, its status")
                    .isEqualTo(429);
            assertThat(edge.getFrom("198.51.100.2", "/a").statusCode())
                    .as("the site's third: the refused request took nothing of the ceiling").isEqualTo(200);
            HttpResponse<String> ceiling = edge.getFrom("198.51.100.3", "/a");
            assertThat(ceiling.statusCode()).as("a client under its own limit, past the site's").isEqualTo(503);
            assertThat(ceiling.headers().firstValue("retry-after")).contains("60");
            assertThat(edge.getFrom("198.51.100.3", "/a").statusCode()).isEqualTo(503);
            assertThat(edge.getFrom("198.51.100.3", "/own/").statusCode())
                    .as("its own bucket untouched by the two the ceiling refused").isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.3", "/own/").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.3", "/own/").statusCode()).as("its own burst spent now").isEqualTo(429);
        }
    }

    /**
     * A zone keyed by a header, nginx's {@code limit_req_zone $http_x_api_key}: one key is one bucket whichever client
     * sends it, another key another, and a request without one is not limited by it.
     */
    @Test
    void aZoneKeyedByAHeaderCountsEachKeyAndLetsARequestWithoutOneBy() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ root = "www", locations = [
                  { match = "/api/", return = "200 ok",
                    limit-req { zone = keys, rate = "1 r/m", key = "$http_x_api_key" } }
                ] }]
                """)) {
            assertThat(apiCall(edge, "198.51.100.1", "k1").statusCode()).isEqualTo(200);
            assertThat(apiCall(edge, "198.51.100.2", "k1").statusCode()).as("the same key from another client")
                    .isEqualTo(429);
            assertThat(apiCall(edge, "198.51.100.1", "k2").statusCode()).as("another key").isEqualTo(200);
            for (int i = 0; i < 3; i++) {
                assertThat(edge.getFrom("198.51.100.1", "/api/x").statusCode()).as("no key: not limited")
                        .isEqualTo(200);
            }
        }
    }

    /**
     * A request whose keys all come out empty where it comes in is not counted there, so the location an internal
     * redirect (here an index) takes it to counts it, as nginx's (it marks a request counted only once a zone took
     * it: measured on nginx 1.22, GET /a/ without X-Api-Key 200 then 503 by the index's zone). It was let through
     * unlimited: the empty key had used the request's one count.
     */
    @Test
    void aRequestNoZoneCountedWhereItCameInIsCountedWhereARedirectTakesIt() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www/a"));
        Files.writeString(www.resolve("index.html"), "index");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ root = "www", locations = [
                  { match = "/a/", limit-req { zone = keys, rate = "1 r/m", key = "$http_x_api_key" } }
                  { match = "= /a/index.html", limit-req { zone = perip, rate = "1 r/m" } }
                ] }]
                """)) {
            assertThat(edge.getFrom("198.51.100.1", "/a/").body()).isEqualTo("index");
            assertThat(edge.getFrom("198.51.100.1", "/a/").statusCode()).as("counted by the index's zone")
                    .isEqualTo(429);
            assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/a/")).header("X-Forwarded-For", "198.51.100.2")
                    .header("X-Api-Key", "k1").build(), HttpResponse.BodyHandlers.ofString()).body())
                    .as("counted by its key where it came in").isEqualTo("index");
            assertThat(HTTP.send(HttpRequest.newBuilder(edge.uri("/a/")).header("X-Forwarded-For", "198.51.100.3")
                    .header("X-Api-Key", "k1").build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .as("the key's rate").isEqualTo(429);
        }
    }

    /**
     * A limit-req without a zone under location-defaults counts each location inheriting it in a table of its own, as
     * reference.conf says; one with a zone counts them together (nginx's limit_req at server level). The zone-less
     * one was one table for every location.
     */
    @Test
    void aZonelessLimitUnderLocationDefaultsCountsEachLocationOnItsOwn() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                location-defaults.limit-req { rate = "1 r/m" }
                sites = [{ root = "www", locations = [
                  { match = "/x/", return = "200 x" }
                  { match = "/y/", return = "200 y" }
                  { match = "/shared/", return = "200 z", limit-req = [{ rate = "1 r/m", zone = site }] }
                  { match = "/also-shared/", return = "200 z", limit-req = [{ rate = "1 r/m", zone = site }] }
                ] }]
                """)) {
            assertThat(edge.getFrom("198.51.100.1", "/x/").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/y/").statusCode()).as("its own table").isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/x/").statusCode()).isEqualTo(429);
            assertThat(edge.getFrom("198.51.100.1", "/shared/").statusCode()).isEqualTo(200);
            assertThat(edge.getFrom("198.51.100.1", "/also-shared/").statusCode()).as("the zone's one table")
                    .isEqualTo(429);
        }
    }

    /**
     * Two limit-conn in one location, a site's ceiling before a client's own: a client's second download, refused by
     * its own limit, gives back the place it took in the ceiling (nginx's cleanup of a refused request's counts), so
     * another client's request goes; with two downloads in progress the ceiling refuses a third client.
     */
    @Test
    void aRequestOneLimitConnRefusesGivesBackThePlacesTheOthersTook() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("downloads"));
        Files.write(www.resolve("downloads/big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("downloads/small.txt"), "small");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/downloads/", limit-conn = [
                      { zone = perserver, max = 2, key = "$server_name", status = 503 }
                      { zone = perip, max = 1 }
                  ] }
                ] }]
                """);
             RawHttpClient first = new RawHttpClient(edge.address(), 4096);
             RawHttpClient second = new RawHttpClient(edge.address(), 4096)) {
            first.send("GET /downloads/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n");
            assertThat(first.readStatusLine()).as("the first download under way, not refused")
                    .isEqualTo("HTTP/1.1 200 OK");
            for (int i = 0; i < 3; i++) {
                assertThat(edge.getFrom("198.51.100.1", "/downloads/small.txt").statusCode())
                        .as("a second request of the client, past its own max").isEqualTo(429);
            }
            // on the connection of the download after it: that one starts once this one has ended, its places back
            assertThat(second.send("GET /downloads/small.txt HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.2"
                    + "\r\n\r\n").read().text()).as("the refused ones gave back their place in the ceiling")
                    .isEqualTo("small");
            second.send("GET /downloads/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.2\r\n\r\n");
            assertThat(second.readStatusLine()).as("the second download under way, not refused")
                    .isEqualTo("HTTP/1.1 200 OK");
            assertThat(edge.getFrom("198.51.100.3", "/downloads/small.txt").statusCode())
                    .as("two downloads in progress: the site's ceiling").isEqualTo(503);
        }
    }

    /**
     * As for limit-req, a request no limit-conn zone counts where it comes in (no X-Api-Key) is counted where its
     * index takes it: a client with a download in progress there is refused its directory's index. It went through.
     */
    @Test
    void aRequestNoConnZoneCountedWhereItCameInIsCountedWhereItsIndexTakesIt() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www/files"));
        Files.write(www.resolve("big.bin"), new byte[BIG]);
        Files.writeString(www.resolve("small.txt"), "small");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.real-ip.from = ["127.0.0.1"]
                sites = [{ server-names = ["_"], default = true, root = "www", index = ["small.txt"], locations = [
                  { match = "= /files/", limit-conn { zone = keys, max = 5, key = "$http_x_api_key" } }
                  { match = "/files/", limit-conn { zone = perip, max = 1 } }
                ] }]
                """);
             RawHttpClient download = new RawHttpClient(edge.address(), 4096)) {
            // another client than the download's: a count is given back just after the answer's last byte went,
            // so the same client's download on another connection could come in before this one's place was back
            assertThat(edge.getFrom("198.51.100.3", "/files/").body()).isEqualTo("small");
            download.send("GET /files/big.bin HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n");
            assertThat(download.readStatusLine()).as("the download under way, not refused")
                    .isEqualTo("HTTP/1.1 200 OK");
            assertThat(edge.getFrom("198.51.100.1", "/files/").statusCode())
                    .as("counted by the index's zone, where the client has its download").isEqualTo(429);
            assertThat(edge.getFrom("198.51.100.2", "/files/").body()).as("another client").isEqualTo("small");
        }
    }

    private static HttpResponse<String> apiCall(EdgeHarness edge, String client, String apiKey) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri("/api/x")).header("X-Forwarded-For", client)
                .header("X-Api-Key", apiKey).build(), HttpResponse.BodyHandlers.ofString());
    }
}
