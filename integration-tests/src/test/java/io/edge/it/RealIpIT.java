package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Behind a proxy edge trusts (server.real-ip.from; here loopback, where the tests connect from), the client is the
 * address the proxy names in X-Forwarded-For: PHP's REMOTE_ADDR, the access log, status-allow. A connection from
 * anywhere else is its own address whatever it sends.
 */
class RealIpIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    /** Trusts 127.0.0.1, the tests' own address, as a proxy. */
    static EdgeHarness behindProxy;
    /** Trusts only 10.0.0.0/8: the tests are an ordinary client. */
    static EdgeHarness direct;
    /** Trusts 127.0.0.1 as a proxy that sends the PROXY protocol. */
    static EdgeHarness proxyProtocol;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static final String SITE = """
            sites = [{ server-names = ["_"], default = true, root = "%s", locations = [
              { match = "/" }, { match = "~ \\\\.php$", fastcgi = php }, { match = "= /edge-status", status = true }
            ] }]
            fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
            """;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("who.php"), "<?php echo $_SERVER['REMOTE_ADDR'], ' ', $_SERVER['REMOTE_PORT'], ' ',"
                + " $_SERVER['HTTP_X_FORWARDED_FOR'] ?? '-';\n");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        String site = SITE.formatted(www, fpm.address());
        behindProxy = EdgeHarness.start(Files.createDirectories(dir.resolve("proxied")), """
                server.access-log = "-"
                server.real-ip { from = ["127.0.0.1", "10.0.0.0/8"], recursive = true }
                """ + site);
        direct = EdgeHarness.start(Files.createDirectories(dir.resolve("direct")),
                "server.real-ip.from = [\"10.0.0.0/8\"]\n" + site);
        proxyProtocol = EdgeHarness.start(Files.createDirectories(dir.resolve("proxy-protocol")), """
                server.access-log = "-"
                server.timeouts.request-head = 1 s
                server.real-ip { from = ["127.0.0.1"], proxy-protocol = true }
                """ + site);
    }

    @AfterAll
    static void stop() {
        if (direct != null) {
            direct.close();
        }
        if (proxyProtocol != null) {
            proxyProtocol.close();
        }
        EdgeHarness.close(behindProxy, fpm);
    }

    private static HttpResponse<String> get(EdgeHarness edge, String path, String... forwardedFor) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path));
        for (String line : forwardedFor) {
            request.header("X-Forwarded-For", line);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void phpSeesTheClientTheTrustedProxyNames() throws Exception {
        // written without a port: REMOTE_PORT empty, as nginx's $remote_port
        assertThat(get(behindProxy, "/who.php", "203.0.113.9").body()).isEqualTo("203.0.113.9  203.0.113.9");
        // what the client wrote first is not believed; trusted hops at the end are passed over (recursive)
        assertThat(get(behindProxy, "/who.php", "127.0.0.1, 203.0.113.9:4711, 10.1.2.3").body())
                .isEqualTo("203.0.113.9 4711 127.0.0.1, 203.0.113.9:4711, 10.1.2.3");
        // no header, or nothing an address at its end: the proxy's own connection
        assertThat(get(behindProxy, "/who.php").body()).startsWith("127.0.0.1 ").endsWith(" -");
        assertThat(get(behindProxy, "/who.php", "unknown").body()).startsWith("127.0.0.1 ");
    }

    /**
     * nginx joins the lines of X-Forwarded-For alone: of X-Real-IP (any other header) it reads the first line, a
     * list in itself whose last address is the client. (A proxy in front must so replace the client's X-Real-IP, not
     * add its own after it.)
     */
    @Test
    void ofSeveralXRealIpLinesTheFirstIsRead() throws Exception {
        String site = SITE.formatted(dir.resolve("www"), fpm.address());
        EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("x-real-ip")),
                "server.real-ip { from = [\"127.0.0.1\"], header = \"X-Real-IP\" }\n" + site);
        try {
            HttpRequest twoLines = HttpRequest.newBuilder(edge.uri("/who.php"))
                    .header("X-Real-IP", "198.51.100.1, 203.0.113.1").header("X-Real-IP", "203.0.113.2").build();
            assertThat(HTTP.send(twoLines, HttpResponse.BodyHandlers.ofString()).body()).startsWith("203.0.113.1 ");
        } finally {
            edge.close();
        }
    }

    @Test
    void aClientThatIsNoTrustedProxyIsItsConnection() throws Exception {
        assertThat(get(direct, "/who.php", "203.0.113.9").body()).startsWith("127.0.0.1 ").endsWith(" 203.0.113.9");
        assertThat(get(direct, "/edge-status", "203.0.113.9").statusCode()).isEqualTo(200);
    }

    @Test
    void statusAllowAndTheAccessLogJudgeTheClientNotTheProxy() throws Exception {
        List<String> lines;
        try (CapturedLog access = CapturedLog.of("edge.access")) {
            assertThat(get(behindProxy, "/edge-status", "203.0.113.9").statusCode()).isEqualTo(403);
            assertThat(get(behindProxy, "/edge-status", "::1").statusCode()).isEqualTo(200);
            assertThat(get(behindProxy, "/edge-status").statusCode()).isEqualTo(200);
            // a line is written once its response is out, which the client may see first; an earlier test's may land
            lines = Awaits.until(() -> access.lines().stream().filter(line -> line.contains("/edge-status")).toList(),
                    logged -> logged.size() >= 3, "three requests logged");
        }
        // (each on its connection's loop: in order only while the client keeps one connection)
        assertThat(lines).hasSize(3).satisfiesExactlyInAnyOrder(
                line -> assertThat(line).startsWith("203.0.113.9 ").contains("\"GET /edge-status HTTP/1.1\" 403 "),
                line -> assertThat(line).startsWith("::1 ").contains(" 200 "),
                line -> assertThat(line).startsWith("127.0.0.1 ").contains(" 200 "));
    }

    private static final String WHO = "GET /who.php HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n";

    /** A PROXY protocol v2 header: {@code command} 0x20 LOCAL or 0x21 PROXY, a TCP source and destination. */
    private static byte[] proxyV2(int command, byte[] source, int sourcePort, byte[] destination, int destinationPort) {
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(16 + 2 * source.length + 4);
        header.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        header.put((byte) command).put((byte) (source.length == 4 ? 0x11 : 0x21));
        header.putShort((short) (2 * source.length + 4));
        header.put(source).put(destination).putShort((short) sourcePort).putShort((short) destinationPort);
        return header.array();
    }

    private static byte[] concat(byte[] head, String rest) {
        byte[] tail = rest.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }

    @Test
    void behindTheProxyProtocolEveryRequestOfAConnectionIsFromTheSourceItsHeaderNamed() throws Exception {
        try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            // v1, then two requests kept alive; X-Forwarded-For is not read on top
            client.send("PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n" + WHO);
            assertThat(client.read().text()).isEqualTo("203.0.113.9 5555 198.51.100.1");
            client.send(WHO);
            assertThat(client.read().text()).isEqualTo("203.0.113.9 5555 198.51.100.1");
        }
        byte[] v6 = java.net.InetAddress.getByName("2001:db8::9").getAddress();
        byte[] local = java.net.InetAddress.getByName("::1").getAddress();
        try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            client.send(concat(proxyV2(0x21, v6, 443, local, 80), WHO));
            assertThat(client.read().text()).isEqualTo("2001:db8::9 443 198.51.100.1");
        }
        try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            // LOCAL: the proxy's own health check, the connection's address
            client.send(concat(proxyV2(0x20, new byte[4], 0, new byte[4], 0), WHO));
            assertThat(client.read().text()).startsWith("127.0.0.1 ");
        }
    }

    /**
     * A reload that turns the PROXY protocol on applies to connections accepted from then on: one the proxy opened
     * before it (HAProxy reuses its connections for good) has its clients named in X-Forwarded-For still, and is not
     * taken for the proxy's own requests, which the loopback default of status-allow lets in.
     */
    @Test
    void aConnectionAcceptedBeforeAReloadTurnedTheProxyProtocolOnIsStillItsClientsNotTheProxys() throws Exception {
        String site = SITE.formatted(dir.resolve("www"), fpm.address());
        EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("turned-on")),
                "server.real-ip.from = [\"127.0.0.1\"]\n" + site);
        try (RawHttpClient kept = new RawHttpClient(edge.address())) {
            String status = "GET /edge-status HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n";
            kept.send(status);
            assertThat(kept.read().status()).as("the client, not loopback").isEqualTo(403);
            edge.reload("server.real-ip { from = [\"127.0.0.1\"], proxy-protocol = true }\n" + site);
            kept.send(WHO);
            assertThat(kept.read().text()).startsWith("198.51.100.1 ");
            kept.send(status);
            assertThat(kept.read().status()).isEqualTo(403);
            try (RawHttpClient fresh = new RawHttpClient(edge.address())) {
                fresh.send(WHO);
                assertThat(fresh.isClosedByPeer()).as("the reload took: a new connection must send the header").isTrue();
            }
        } finally {
            edge.close();
        }
    }

    @Test
    void aTrustedConnectionWithoutAProxyProtocolHeaderIsClosedUnanswered() throws Exception {
        try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            client.send(WHO);
            assertThat(client.isClosedByPeer()).isTrue();
        }
        // and the next one is served
        try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            client.send("PROXY TCP4 203.0.113.10 127.0.0.1 5556 80\r\n" + WHO);
            assertThat(client.read().text()).startsWith("203.0.113.10 5556 ");
        }
    }

    /**
     * A proxy that connects ahead of its client (a browser's preconnect through HAProxy in TCP mode) sends only its
     * header: the connection waits as an idle new one, closed quietly at request-head, not answered 408 or logged.
     */
    @Test
    void aConnectionThatSentOnlyItsProxyProtocolHeaderIsClosedQuietlyAsAnIdleOne() throws Exception {
        List<String> lines;
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            client.send("PROXY TCP4 203.0.113.12 127.0.0.1 5558 80\r\n");
            assertThat(client.isClosedByPeer()).as("closed without a byte").isTrue();
            lines = access.lines();
        }
        // (an earlier test's last line may land here: a line is written once its response is out)
        assertThat(lines).noneMatch(line -> line.startsWith("203.0.113.12 ") || line.contains(" 408 "));
    }

    @Test
    void aBadRequestAfterAProxyProtocolHeaderIsLoggedWithItsSource() throws Exception {
        List<String> lines;
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            client.send("PROXY TCP4 203.0.113.11 127.0.0.1 5557 80\r\nGET /who.php HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n");
            assertThat(client.read().status()).isEqualTo(400);
            lines = Awaits.until(() -> access.lines().stream().filter(line -> line.contains(" 400 ")).toList(),
                    logged -> !logged.isEmpty(), "the 400 logged");
        }
        assertThat(lines).singleElement().asString().startsWith("203.0.113.11 ");
    }
}
