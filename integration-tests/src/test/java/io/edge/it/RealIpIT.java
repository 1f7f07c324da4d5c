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
 * anywhere else is its own address whatever it sends. So is the scheme the client came by to a proxy that ended TLS
 * (real-ip.proto-header's X-Forwarded-Proto, the PROXY v2 header's SSL field): PHP's HTTPS and REQUEST_SCHEME,
 * $scheme, and the response cache's keys.
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
    /** Trusts 127.0.0.1 as a proxy that ends TLS and says so in X-Forwarded-Proto. */
    static EdgeHarness endingTls;
    /** Reads X-Forwarded-Proto from 10.0.0.0/8 only: the tests are an ordinary client. */
    static EdgeHarness directWithProto;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private static final String SITE = """
            sites = [{ server-names = ["_"], default = true, root = "%s", locations = [
              { match = "/" }, { match = "~ ^/cached/", fastcgi = php, cache = true }
              { match = "~ \\\\.php$", fastcgi = php }, { match = "= /edge-status", status = true }
              { match = "= /where", return = "302 $scheme://$host/there" }
            ] }]
            fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
            """;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("who.php"), "<?php echo $_SERVER['REMOTE_ADDR'], ' ', $_SERVER['REMOTE_PORT'], ' ',"
                + " $_SERVER['HTTP_X_FORWARDED_FOR'] ?? '-';\n");
        PhpScripts.installSchemeScripts(www);
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
        endingTls = EdgeHarness.start(Files.createDirectories(dir.resolve("ending-tls")), """
                server.access-log = "-"
                server.access-log-format = "$scheme $request_uri $status"
                server.real-ip { from = ["127.0.0.1"], proto-header = X-Forwarded-Proto }
                """ + site);
        directWithProto = EdgeHarness.start(Files.createDirectories(dir.resolve("direct-proto")),
                "server.real-ip { from = [\"10.0.0.0/8\"], proto-header = X-Forwarded-Proto }\n" + site);
    }

    @AfterAll
    static void stop() {
        if (direct != null) {
            direct.close();
        }
        if (proxyProtocol != null) {
            proxyProtocol.close();
        }
        if (endingTls != null) {
            endingTls.close();
        }
        if (directWithProto != null) {
            directWithProto.close();
        }
        EdgeHarness.close(behindProxy, fpm);
    }

    private static HttpResponse<String> get(EdgeHarness edge, String path, String... forwardedFor) throws Exception {
        return getWith(edge, path, "X-Forwarded-For", forwardedFor);
    }

    /** A GET of {@code path} sending {@code header} in {@code lines}, one each. */
    private static HttpResponse<String> getWith(EdgeHarness edge, String path, String header, String... lines)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path));
        for (String line : lines) {
            request.header(header, line);
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

    /**
     * A PROXY protocol v2 header: {@code command} 0x20 LOCAL or 0x21 PROXY, a TCP source and destination, then
     * {@code tlvs}.
     */
    private static byte[] proxyV2(int command, byte[] source, int sourcePort, byte[] destination, int destinationPort,
                                  byte... tlvs) {
        java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(16 + 2 * source.length + 4 + tlvs.length);
        header.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        header.put((byte) command).put((byte) (source.length == 4 ? 0x11 : 0x21));
        header.putShort((short) (2 * source.length + 4 + tlvs.length));
        header.put(source).put(destination).putShort((short) sourcePort).putShort((short) destinationPort).put(tlvs);
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
     * taken for the proxy's own requests, which the loopback default of status-allow lets in; its scheme is read from
     * X-Forwarded-Proto still too, kept set through the reload (else an application's redirect to https would loop on
     * it until the proxy closed it).
     */
    @Test
    void aConnectionAcceptedBeforeAReloadTurnedTheProxyProtocolOnIsStillItsClientsNotTheProxys() throws Exception {
        String site = SITE.formatted(dir.resolve("www"), fpm.address());
        EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("turned-on")),
                "server.real-ip { from = [\"127.0.0.1\"], proto-header = X-Forwarded-Proto }\n" + site);
        try (RawHttpClient kept = new RawHttpClient(edge.address())) {
            String status = "GET /edge-status HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n";
            kept.send(status);
            assertThat(kept.read().status()).as("the client, not loopback").isEqualTo(403);
            edge.reload("server.real-ip { from = [\"127.0.0.1\"], proxy-protocol = true,"
                    + " proto-header = X-Forwarded-Proto }\n" + site);
            kept.send(WHO);
            assertThat(kept.read().text()).startsWith("198.51.100.1 ");
            kept.send(SCHEME);
            assertThat(kept.read().text()).isEqualTo("on https");
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

    private static final String SCHEME = "GET /scheme.php HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\n\r\n";

    private static HttpResponse<String> getAs(EdgeHarness edge, String path, String... forwardedProto)
            throws Exception {
        return getWith(edge, path, "X-Forwarded-Proto", forwardedProto);
    }

    /**
     * A site reached by http and https alike behind a proxy that ends TLS: PHP sees per request which way its client
     * came, HTTPS = "on" and REQUEST_SCHEME = "https" only where the trusted proxy says https (nginx's map of
     * $http_x_forwarded_proto); no HTTPS for http, as nginx's fastcgi_params sends none.
     */
    @Test
    void phpSeesHttpsWhereTheTrustedProxySaysTheClientCameOverTls() throws Exception {
        assertThat(getAs(endingTls, "/scheme.php", "https").body()).isEqualTo("on https");
        assertThat(getAs(endingTls, "/scheme.php", "HTTPS").body()).isEqualTo("on https");
        assertThat(getAs(endingTls, "/scheme.php", "http").body()).isEqualTo("- http");
        assertThat(getAs(endingTls, "/scheme.php").body()).isEqualTo("- http");
        // of a list the nearest proxy's entry: the client's own "https" before it is not believed
        assertThat(getAs(endingTls, "/scheme.php", "https, http").body()).isEqualTo("- http");
        assertThat(getAs(endingTls, "/scheme.php", "http, https").body()).isEqualTo("on https");
        // each request of a kept-alive connection as its proxy says of it
        try (RawHttpClient client = new RawHttpClient(endingTls.address())) {
            client.send(SCHEME);
            assertThat(client.read().text()).isEqualTo("on https");
            client.send("GET /scheme.php HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.read().text()).isEqualTo("- http");
        }
    }

    /**
     * A request's client and scheme are judged by the same real-ip settings: one whose client a trusted proxy named,
     * waiting past limit-req's rate while a reload stopped trusting that proxy, still has the scheme that proxy said.
     * The scheme was read from the new settings when the script ran: PHP saw the named client as REMOTE_ADDR, there by
     * the proxy's word, and no HTTPS, that same proxy's word no longer believed.
     */
    @Test
    void aRequestsClientAndSchemeAreJudgedByTheSameSettingsAcrossAReload() throws Exception {
        Path www = dir.resolve("www");
        Files.writeString(www.resolve("client.php"),
                "<?php echo $_SERVER['REMOTE_ADDR'], ' ', $_SERVER['HTTPS'] ?? '-';\n");
        String site = """
                sites = [{ server-names = ["_"], default = true, root = "%s", locations = [
                  { match = "~ \\\\.php$", fastcgi = php, limit-req { rate = "12 r/m", burst = 1 } }
                ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(www, fpm.address());
        EdgeHarness edge = EdgeHarness.start(Files.createDirectories(dir.resolve("trust-reloaded")),
                "server.real-ip { from = [\"127.0.0.1\"], proto-header = X-Forwarded-Proto }\n" + site);
        String request = "GET /client.php HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 198.51.100.7\r\n"
                + "X-Forwarded-Proto: https\r\n\r\n";
        try (RawHttpClient first = new RawHttpClient(edge.address());
             RawHttpClient waiting = new RawHttpClient(edge.address())) {
            first.send(request);
            assertThat(first.read().text()).isEqualTo("198.51.100.7 on");
            waiting.send(request); // the client's second within the rate's 5 s: it waits them out
            edge.reload("server.real-ip { from = [\"10.0.0.0/8\"], proto-header = X-Forwarded-Proto }\n" + site);
            assertThat(waiting.read().text()).isEqualTo("198.51.100.7 on");
            try (RawHttpClient after = new RawHttpClient(edge.address())) {
                after.send(request);
                assertThat(after.read().text()).as("the reload took").isEqualTo("127.0.0.1 -");
            }
        } finally {
            edge.close();
        }
    }

    /** A client that is no trusted proxy cannot pose as https: its X-Forwarded-Proto is its own, unread. */
    @Test
    void aClientThatIsNoTrustedProxyCannotPoseAsHttps() throws Exception {
        assertThat(getAs(directWithProto, "/scheme.php", "https").body()).isEqualTo("- http");
        assertThat(getAs(direct, "/scheme.php", "https").body()).isEqualTo("- http");
        assertThat(getAs(behindProxy, "/scheme.php", "https").body()).as("trusted, but no proto-header named")
                .isEqualTo("- http");
        HttpResponse<String> where = getAs(directWithProto, "/where", "https");
        assertThat(where.headers().firstValue("location")).contains("http://127.0.0.1/there");
    }

    /** $scheme follows it: return's redirect, and the access log. */
    @Test
    void schemeIsHttpsInReturnAndTheAccessLog() throws Exception {
        List<String> lines;
        try (CapturedLog access = CapturedLog.of("edge.access")) {
            HttpResponse<String> secure = getAs(endingTls, "/where?tls", "https");
            assertThat(secure.statusCode()).isEqualTo(302);
            assertThat(secure.headers().firstValue("location")).contains("https://127.0.0.1/there");
            assertThat(getAs(endingTls, "/where?plain", "http").headers().firstValue("location"))
                    .contains("http://127.0.0.1/there");
            lines = Awaits.until(() -> access.lines().stream().filter(line -> line.contains("/where?")).toList(),
                    logged -> logged.size() >= 2, "both logged");
        }
        assertThat(lines).containsExactlyInAnyOrder("https /where?tls 302", "http /where?plain 302");
    }

    /**
     * The response cache keeps what a script answered for http apart from what it answered for https: its cacheable
     * 301 to https, made for http, would send an https client to the same URL again and again. Each is served from
     * the cache to its own scheme, and a PURGE of the URL drops both.
     */
    @Test
    void theResponseCacheDoesNotServeAnAnswerMadeForHttpToHttps() throws Exception {
        HttpResponse<String> plain = getAs(endingTls, "/cached/moved.php?a", "http");
        assertThat(plain.statusCode()).isEqualTo(301);
        assertThat(plain.headers().firstValue("location"))
                .contains(endingTls.uri("/cached/moved.php?a").toString().replace("http:", "https:"));
        HttpResponse<String> secure = getAs(endingTls, "/cached/moved.php?a", "https");
        assertThat(secure.statusCode()).as("not the 301 stored for http").isEqualTo(200);
        assertThat(secure.body()).startsWith("secure ");
        assertThat(getAs(endingTls, "/cached/moved.php?a", "https").body()).as("stored for https")
                .isEqualTo(secure.body());
        assertThat(getAs(endingTls, "/cached/moved.php?a", "http").statusCode()).isEqualTo(301);
        // the other way round: https first
        assertThat(getAs(endingTls, "/cached/moved.php?b", "https").statusCode()).isEqualTo(200);
        assertThat(getAs(endingTls, "/cached/moved.php?b").statusCode()).isEqualTo(301);

        HttpResponse<String> purged = HTTP.send(HttpRequest.newBuilder(endingTls.uri("/cached/moved.php?a"))
                .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(purged.body()).as("the answers of both schemes").isEqualTo("purged 2\n");
        assertThat(getAs(endingTls, "/cached/moved.php?a", "https").body()).as("run again").startsWith("secure ")
                .isNotEqualTo(secure.body());
        HttpResponse<String> prefix = HTTP.send(HttpRequest.newBuilder(endingTls.uri("/cached/moved.php*"))
                .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(prefix.body()).as("?a for https, ?b for both").isEqualTo("purged 3\n");
    }

    /**
     * HAProxy's send-proxy-v2-ssl: the PROXY v2 header's SSL field, whose PP2_CLIENT_SSL bit is set, says the client
     * came over TLS, for every request on the connection; without it, or with a v1 header, it is http, and
     * X-Forwarded-Proto is not read on top.
     */
    @Test
    void behindTheProxyProtocolItsSslFieldSaysHttps() throws Exception {
        byte[] source = java.net.InetAddress.getByName("203.0.113.20").getAddress();
        byte[] local = java.net.InetAddress.getByName("127.0.0.1").getAddress();
        byte[] sslTlv = {0x20, 0x00, 0x0F, 0x01, 0, 0, 0, 0, 0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3'};
        try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            client.send(concat(proxyV2(0x21, source, 5000, local, 443, sslTlv), SCHEME));
            assertThat(client.read().text()).isEqualTo("on https");
            client.send(SCHEME.replace("X-Forwarded-Proto: https\r\n", ""));
            assertThat(client.read().text()).isEqualTo("on https");
        }
        byte[] notTls = {0x20, 0x00, 0x05, 0x00, 0, 0, 0, 0};
        byte[] v1 = "PROXY TCP4 203.0.113.20 127.0.0.1 5000 443\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (byte[] header : new byte[][] {proxyV2(0x21, source, 5000, local, 80, notTls),
                proxyV2(0x21, source, 5000, local, 80), v1}) {
            try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
                client.send(concat(header, SCHEME));
                assertThat(client.read().text()).isEqualTo("- http");
            }
        }
        // an SSL field too short for its client bits and verify result: a broken header, closed unanswered
        try (RawHttpClient client = new RawHttpClient(proxyProtocol.address())) {
            client.send(concat(proxyV2(0x21, source, 5000, local, 443, (byte) 0x20, (byte) 0, (byte) 1, (byte) 1),
                    SCHEME));
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }
}
