package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's geos (nginx's geo) on a real edge behind a trusted proxy (real-ip): the client the proxy names, IPv4 or
 * IPv6, gets the value of the most specific network that holds it, in a header, and through a map, a return's URL.
 */
class GeoIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;

    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/index.html"), "home");
        edge = EdgeHarness.start(dir, """
                server {
                  real-ip { from = ["127.0.0.1"], header = "X-Forwarded-For" }
                  geo {
                    allowed_net { default = "0", values = [
                      { match = "10.0.0.0/8", value = "1" }
                      { match = "10.66.0.0/16", value = "0" }
                      { match = "192.168.1.0/24", value = "1" }
                      { match = "2001:db8::/32", value = "1" }
                    ]}
                    by_arg { source = "$arg_ip", default = "outside", values = [{ match = "172.16.0.0/12", value = "inside" }] }
                  }
                  maps { landing { source = "$allowed_net", default = "/public/", values = [{ match = "1", value = "/intranet/" }] } }
                }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", headers { X-Allowed = "$allowed_net", X-Arg = "$by_arg" } }
                  { match = "= /go", return = "302 $landing" }
                ] }]
                """);
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static HttpResponse<String> get(String target, String client) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.address().getPort() + target))
                .header("X-Forwarded-For", client).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theMostSpecificNetworkOfTheRealClientDecidesInAHeader() throws Exception {
        assertThat(get("/", "10.1.2.3").headers().firstValue("x-allowed")).contains("1");
        assertThat(get("/", "10.66.2.3").headers().firstValue("x-allowed")).as("the /16 within the /8").contains("0");
        assertThat(get("/", "192.168.1.200").headers().firstValue("x-allowed")).contains("1");
        assertThat(get("/", "192.168.2.1").headers().firstValue("x-allowed")).contains("0");
        assertThat(get("/", "2001:db8:5::1").headers().firstValue("x-allowed")).contains("1");
        assertThat(get("/", "2001:db9::1").headers().firstValue("x-allowed")).contains("0");
        HttpResponse<String> byArg = get("/?ip=172.20.1.1", "8.8.8.8");
        assertThat(byArg.body()).isEqualTo("home");
        assertThat(byArg.headers().firstValue("x-arg")).as("another source").contains("inside");
        assertThat(get("/?ip=nonsense", "8.8.8.8").headers().firstValue("x-arg")).contains("outside");
    }

    @Test
    void aMapOfTheGeoDecidesAReturn() throws Exception {
        assertThat(get("/go", "10.9.9.9").headers().firstValue("location")).contains(edge.uri("/intranet/").toString());
        assertThat(get("/go", "203.0.113.7").headers().firstValue("location")).contains(edge.uri("/public/").toString());
    }
}
