package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two edge nodes behind a real HAProxy with the balancing of {@code examples/haproxy.cfg} ({@code balance uri},
 * {@code hash-type consistent}): each URI sticks to one node, and the URIs spread over both.
 */
class ScaleOutIT {

    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** A node whose every thumbnail answers with its name, so the test sees which node served a URI. */
    private EdgeHarness node(String name) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        Path thumbs = Files.createDirectories(home.resolve("www/t"));
        for (int i = 0; i < 32; i++) {
            Files.writeString(thumbs.resolve(i + ".txt"), name);
        }
        return EdgeHarness.start(home, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/" }] }]
                """);
    }

    @Test
    @SuppressWarnings("try") // HAProxy serves the body's requests
    void eachUriSticksToOneNodeAndTheUrisSpreadOverBoth() throws Exception {
        try (EdgeHarness one = node("node-1"); EdgeHarness two = node("node-2")) {
            try (Haproxy haproxy = haproxy("""
                        balance uri
                        hash-type consistent
                        http-reuse safe
                        server edge1 127.0.0.1:%d
                        server edge2 127.0.0.1:%d
                    """.formatted(one.address().getPort(), two.address().getPort()))) {
                int port = haproxy.port(0);
                Map<String, String> servedBy = new HashMap<>();
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < 32; i++) {
                        String path = "/t/" + i + ".txt";
                        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
                        assertThat(response.statusCode()).isEqualTo(200);
                        String previous = servedBy.putIfAbsent(path, response.body());
                        if (previous != null) {
                            assertThat(response.body()).as(path + " sticks to its node").isEqualTo(previous);
                        }
                    }
                }
                Set<String> nodes = new HashSet<>(servedBy.values());
                assertThat(nodes).as("the URIs spread over both nodes").containsExactlyInAnyOrder("node-1", "node-2");
            }
        }
    }

    /**
     * HAProxy's {@code option forwardfor} names the client to a node that trusts it ({@code server.real-ip}): a client
     * on 127.0.0.2 reaching the node through HAProxy (on 127.0.0.1) is judged as 127.0.0.2 by status-allow, and the
     * tests' own 127.0.0.1, going straight to the node, is judged as itself.
     */
    @Test
    void aNodeBehindHaproxyTakesTheClientHaproxyNames() throws Exception {
        judgedAsTheClientThroughHaproxy("server.real-ip.from = [\"127.0.0.1\"]", "option forwardfor\n",
                "server edge1 127.0.0.1:%d\n", true);
    }

    /**
     * The same with HAProxy's PROXY protocol v2 ({@code send-proxy-v2}, its health checks too); there a connection
     * from 127.0.0.1 must be HAProxy's (one without the header is closed: RealIpIT).
     */
    @Test
    void aNodeBehindHaproxySendingTheProxyProtocolTakesTheClientItNames() throws Exception {
        judgedAsTheClientThroughHaproxy("server.real-ip { from = [\"127.0.0.1\"], proxy-protocol = true }", "",
                "server edge1 127.0.0.1:%d send-proxy-v2 check inter 200ms\n", false);
    }

    /** {@code direct}: whether the tests' own 127.0.0.1 is also asked straight, and judged as itself. */
    @SuppressWarnings("try") // HAProxy serves the body's requests
    private void judgedAsTheClientThroughHaproxy(String realIp, String backendOptions, String serverLine,
            boolean direct) throws Exception {
        Path home = Files.createDirectories(dir.resolve("node"));
        try (EdgeHarness node = EdgeHarness.start(home, realIp + """

                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                  { match = "= /edge-status", status = true, status-allow = ["127.0.0.2"] },
                  { match = "/" }] }]
                """)) {
            Files.writeString(home.resolve("index.html"), "up");
            try (Haproxy haproxy = haproxy("    option httpchk GET /\n    "
                    + backendOptions.replace("\n", "\n    ") + serverLine.formatted(node.address().getPort()));
                 java.net.Socket client = new java.net.Socket()) {
                client.bind(new java.net.InetSocketAddress("127.0.0.2", 0));
                client.connect(new java.net.InetSocketAddress("127.0.0.1", haproxy.port(0)), 5000);
                client.getOutputStream().write("GET /edge-status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String answer = new String(client.getInputStream().readAllBytes(),
                        java.nio.charset.StandardCharsets.ISO_8859_1);
                assertThat(answer).startsWith("HTTP/1.1 200 ").contains("connections");
                if (direct) {
                    assertThat(HTTP.send(HttpRequest.newBuilder(node.uri("/edge-status")).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(403);
                }
            }
        }
    }

    @Test
    void theShippedExampleIsAValidHaproxyConfigurationWithTheBalancingTestedHere() throws Exception {
        Path example = Path.of("..", "examples", "haproxy.cfg"); // the integration tests run in their module's folder
        assertThat(Files.readString(example)).contains("balance uri", "hash-type consistent");
        Path log = dir.resolve("check.log");
        assertThat(Haproxy.check(example, log)).as(Files.readString(log)).isTrue();
    }

    /** A HAProxy listening on a loopback port of its own ({@link Haproxy#port}), one backend of {@code backendLines}. */
    private Haproxy haproxy(String backendLines) throws Exception {
        return Haproxy.start(dir, 1, ports -> Haproxy.GLOBAL_AND_DEFAULTS + """
                frontend thumbs
                    bind 127.0.0.1:%d
                    default_backend edges
                backend edges
                """.formatted(ports[0]) + backendLines);
    }
}
