package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's splits (nginx's split_clients) on a real edge behind a trusted proxy, asked with curl: each client is
 * in the part nginx 1.22.1 put it in with the same split ({@code split_clients "${remote_addr}AAA" $client { 0.5% .one;
 * 2.0% .two; * ""; }}, {@code set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;}, {@code return 200
 * "[$client]"}), asked for the same addresses: the expected values are nginx's answers.
 */
class SplitClientsIT {

    @TempDir
    static Path dir;

    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        edge = EdgeHarness.start(dir, """
                server {
                  real-ip { from = ["127.0.0.1"], header = "X-Forwarded-For" }
                  split-clients {
                    client { source = "${remote_addr}AAA", values = [
                      { percent = "0.5%", value = ".one" }, { percent = "2.0%", value = ".two" }, { percent = "*", value = "" }
                    ]}
                  }
                  maps { landing { source = "$client", default = "/a/", values = [{ match = ".one", value = "/b/" }] } }
                }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "= /c", return = "200 [$client]" }
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

    private static String client(String address, String target) throws Exception {
        return Curl.output("-H", "X-Forwarded-For: " + address, edge.uri(target).toString());
    }

    @Test
    void eachClientIsInThePartNginxPutsItIn() throws Exception {
        assertThat(client("10.0.1.250", "/c")).isEqualTo("[.one]");
        assertThat(client("10.0.3.113", "/c")).isEqualTo("[.one]");
        assertThat(client("10.0.0.157", "/c")).isEqualTo("[.two]");
        assertThat(client("10.0.0.203", "/c")).isEqualTo("[.two]");
        assertThat(client("10.0.0.1", "/c")).isEqualTo("[]");
        assertThat(client("192.168.1.7", "/c")).isEqualTo("[]");
        assertThat(client("2001:db8::1", "/c")).isEqualTo("[]");
    }

    @Test
    void aMapOfTheSplitDecidesARedirect() throws Exception {
        assertThat(Curl.output("-o", "/dev/null", "-w", "%{redirect_url}", "-H", "X-Forwarded-For: 10.0.1.250",
                edge.uri("/go").toString())).isEqualTo(edge.uri("/b/").toString());
        assertThat(Curl.output("-o", "/dev/null", "-w", "%{redirect_url}", "-H", "X-Forwarded-For: 10.0.0.157",
                edge.uri("/go").toString())).isEqualTo(edge.uri("/a/").toString());
    }
}
