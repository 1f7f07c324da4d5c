package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site's regexes' named groups read in its locations, as nginx keeps a named capture as a variable for the rest of
 * the request: a server name's ({@code ~^(?<sub>[a-z]+)\.example\.com$}) and a site rewrite's, on a real edge.
 */
class SiteCapturesIT {

    @TempDir
    Path dir;

    @Test
    void aLocationReadsTheNamedGroupsOfItsSitesServerNameAndRewrites() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [
                  { server-names = ["~^(?<sub>[a-z]+)\\\\.example\\\\.com$", "example.com"], root = www
                    rewrites = [{ rewrite = "^/(?<lang>en|fr)/(.*)$ /$2" }]
                    locations = [
                      { match = "/", return = "200 sub=$sub lang=$lang", headers { X-Sub = "$sub" } }
                      { match = "/old/", rewrites = [{ if = "$sub = shop", return = "301 https://example.com/$sub$uri" }] }
                      { match = "~ ^/num/(?<sub>[0-9]+)$", rewrites = [{ rewrite = "^ / last" }] }
                      { match = "/both/", headers { X-Sub = "$sub" }, rewrites = [
                        { if = "$arg_s ~ ^(?<sub>[a-z]+)$", set = "$seen 1" }
                        { return = "200 $sub" }
                      ] }
                    ]
                  }
                ]
                """)) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send(
                        "GET /fr/x HTTP/1.1\r\nHost: shop.example.com\r\n\r\n").read();
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.text()).as("the server name's group and the site rewrite's, kept past both")
                        .isEqualTo("sub=shop lang=fr");
                assertThat(response.header("X-Sub")).isEqualTo("shop");
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send(
                        "GET /old/a HTTP/1.1\r\nHost: shop.example.com\r\n\r\n").read();
                assertThat(response.status()).isEqualTo(301);
                assertThat(response.header("Location")).isEqualTo("https://example.com/shop/old/a");
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send(
                        "GET /both/?s=xyz HTTP/1.1\r\nHost: shop.example.com\r\n\r\n").read();
                assertThat(response.text()).as("the last match that set it: the location's if").isEqualTo("xyz");
                assertThat(response.header("X-Sub")).isEqualTo("xyz");
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send(
                        "GET /both/?s=1 HTTP/1.1\r\nHost: shop.example.com\r\n\r\n").read();
                assertThat(response.text()).as("its if found no match: the server name's stays").isEqualTo("shop");
                assertThat(response.header("X-Sub")).isEqualTo("shop");
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send(
                        "GET /num/42 HTTP/1.1\r\nHost: shop.example.com\r\n\r\n").read();
                assertThat(response.text()).as("the location regex's group of that name, kept past its rewrite")
                        .isEqualTo("sub=42 lang=");
            }
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send("GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n").read();
                assertThat(response.text()).as("routed by its exact name: no regex ran, nothing set, as nginx's")
                        .isEqualTo("sub= lang=");
            }
        }
    }

    /**
     * A location's rewrite or regex whose named group has a map's name sets the map's variable for the rest of the
     * request, as nginx 1.22's (measured, map $uri $pool declared after the server): the location a rewrite's last
     * routes to reads it in its headers as its file is served, and in its return. Before, they read the map's value.
     */
    @Test
    void aLocationsNamedGroupOfAMapsNameSetsTheMapForTheRestOfTheRequest() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/f.txt"), "file\n");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.maps.pool { source = "$uri", default = mapdef, values = [{ match = "~^/m", value = mapm }] }
                sites = [{ root = www, locations = [
                  { match = "/b/", rewrites = [{ rewrite = "^/b/(?<pool>[a-z]+)$ /f.txt last" }] }
                  { match = "= /f.txt", headers { X-Pool = "$pool" } }
                  { match = "/a/", rewrites = [{ rewrite = "^/a/(?<pool>[a-z]+)$ /r/ last" }] }
                  { match = "~ ^/l/(?<pool>[a-z]+)$", rewrites = [{ rewrite = "^ /r/ last" }] }
                  { match = "/r/", return = "200 r pool=$pool", headers { X-Pool = "$pool" } }
                ] }]
                """)) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send("GET /b/abc HTTP/1.1\r\nHost: h\r\n\r\n").read();
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.text()).isEqualTo("file\n");
                assertThat(response.header("X-Pool")).as("the rewrite's group, over the map's").isEqualTo("abc");
                response = client.send("GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n").read();
                assertThat(response.header("X-Pool")).as("no rewrite ran: the map's").isEqualTo("mapdef");
                for (String[] asked : new String[][] {
                        {"/a/abc", "r pool=abc", "abc"},
                        {"/l/abc", "r pool=abc", "abc"},
                        {"/r/", "r pool=mapdef", "mapdef"}}) {
                    response = client.send("GET " + asked[0] + " HTTP/1.1\r\nHost: h\r\n\r\n").read();
                    assertThat(response.text()).as(asked[0] + ", as nginx 1.22 answers it").isEqualTo(asked[1]);
                    assertThat(response.header("X-Pool")).as(asked[0]).isEqualTo(asked[2]);
                }
            }
        }
    }

    /**
     * A map a location's named group set keeps that value through the internal redirect to the site's error page, as
     * nginx 1.22 keeps it (measured: location /a/ { rewrite ^/a/(?<pool>[a-z]+)$ /missing last; } with error_page 404
     * /404.html and location = /404.html { add_header X-Pool $pool always; }: /a/abc 404 with X-Pool abc; the same
     * through try_files' front controller and X-Accel-Redirect); the next request on the connection reads the map again.
     */
    @Test
    void aMapALocationsGroupSetKeepsItsValueThroughTheErrorPage() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/404.html"), "404 page\n");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                server.maps.pool { source = "$uri", default = mapdef, values = [{ match = "~^/m", value = mapm }] }
                sites = [{ root = www, error-pages { 404 = "/404.html" }, locations = [
                  { match = "= /404.html", always-headers { X-Pool = "$pool" } }
                  { match = "/a/", rewrites = [{ rewrite = "^/a/(?<pool>[a-z]+)$ /missing last" }] }
                ] }]
                """)) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response response = client.send("GET /a/abc HTTP/1.1\r\nHost: h\r\n\r\n").read();
                assertThat(response.status()).isEqualTo(404);
                assertThat(response.text()).isEqualTo("404 page\n");
                assertThat(response.header("X-Pool")).as("the rewrite's group, through the error page").isEqualTo("abc");
                response = client.send("GET /missing HTTP/1.1\r\nHost: h\r\n\r\n").read();
                assertThat(response.status()).isEqualTo(404);
                assertThat(response.header("X-Pool")).as("the next request on the connection: the map's")
                        .isEqualTo("mapdef");
            }
        }
    }
}
