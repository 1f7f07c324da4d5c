package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.ServerSettings;
import io.edge.conf.VariableText;
import io.edge.core.EdgeServer;
import io.edge.fastcgi.cgi.CgiParams;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A location's headers with nginx's variables, expanded for each answer as the head goes out (nginx's add_header). */
class VariablesTest {

    @TempDir
    Path root;

    private EdgeServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.shutdown();
        }
    }

    private static VariableText text(Return.Part... parts) {
        return new VariableText(List.of(parts), null);
    }

    private static Return.Part variable(String name) {
        return new Return.Part(null, name);
    }

    private static Return.Part literal(String text) {
        return new Return.Part(text, null);
    }

    /** A server whose one location adds {@code headers} and answers 200 with its request's $request_id as the body. */
    private InetSocketAddress start(Map<String, VariableText> headers, Map<String, VariableText> alwaysHeaders)
            throws Exception {
        LocationSettings location = LocationSettings.builder("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null).headers(headers).alwaysHeaders(alwaysHeaders).build();
        ServerSettings settings = TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)),
                100);
        server = new EdgeServer(TestServers.settings(settings, root, List.of(location)), l -> exchange -> {
            if (exchange.path().equals("/missing")) {
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return;
            }
            byte[] id = exchange.requestId().getBytes(StandardCharsets.US_ASCII);
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(id));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, id.length);
            exchange.complete(exchange.writeAndFlush(response));
        });
        server.start();
        return server.boundAddresses().get(0);
    }

    /**
     * $request_id is 32 hex digits, one per request, the same in every header and wherever else the request asks for
     * it (here the responder's body); each other variable as the request has it, a header that comes out empty is not
     * sent (as nginx's empty add_header), a constant as written.
     */
    @Test
    void headersExpandTheRequestsVariablesEachRequestItsOwnRequestId() throws Exception {
        Map<String, VariableText> headers = new TreeMap<>();
        headers.put("X-Request-Id", text(variable("request_id")));
        headers.put("X-Again", text(literal("id="), variable("request_id")));
        headers.put("Link", text(literal("<http://"), variable("host"), variable("uri"), literal(">; rel=canonical")));
        headers.put("X-Session", text(variable("cookie_sid")));
        headers.put("X-Origin", text(variable("http_origin")));
        headers.put("X-Https", text(variable("https")));
        headers.put("X-Protocol", text(variable("server_protocol"), literal(" "), variable("content_type")));
        headers.put("X-Const", VariableText.of("fixed"));
        InetSocketAddress address = start(headers, Map.of());
        try (RawHttpClient client = new RawHttpClient(address)) {
            RawHttpClient.Response first = client.send("GET /a/b.html?x=1 HTTP/1.1\r\nHost: Example.ORG:8080\r\n"
                    + "Cookie: a=1; sid=abc; SID=other\r\nContent-Type: text/plain\r\n\r\n").read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.header("x-request-id")).matches("[0-9a-f]{32}").isEqualTo(first.text());
            assertThat(first.header("x-again")).isEqualTo("id=" + first.text());
            assertThat(first.header("link")).isEqualTo("<http://example.org/a/b.html>; rel=canonical");
            assertThat(first.header("x-session")).isEqualTo("abc");
            assertThat(first.header("x-protocol")).isEqualTo("HTTP/1.1 text/plain");
            assertThat(first.header("x-const")).isEqualTo("fixed");
            assertThat(first.headers()).as("empty: not sent").doesNotContainKeys("x-origin", "x-https");
            RawHttpClient.Response second = client.send("GET / HTTP/1.1\r\nHost: a\r\nOrigin: https://b.example\r\n\r\n")
                    .read();
            assertThat(second.header("x-request-id")).matches("[0-9a-f]{32}").isEqualTo(second.text())
                    .isNotEqualTo(first.text());
            assertThat(second.header("x-origin")).isEqualTo("https://b.example");
        }
    }

    /**
     * A decoded $uri's CR LF (sent as %0D%0A) can never split the head: its control bytes go out percent-encoded, no
     * field of the client's making is added; a non-ASCII path as its UTF-8 bytes. On an error page too (always-headers).
     */
    @Test
    void aValuesControlBytesArePercentEncodedSoNoHeaderIsSplit() throws Exception {
        InetSocketAddress address = start(Map.of("X-Uri", text(variable("uri"))),
                Map.of("X-Always", text(literal("at "), variable("uri"))));
        try (RawHttpClient client = new RawHttpClient(address)) {
            RawHttpClient.Response response = client.send("GET /a%0D%0ASet-Cookie:%20x=1%01%C3%A9 HTTP/1.1\r\nHost: a"
                    + "\r\n\r\n").read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("x-uri")).isEqualTo("/a%0D%0ASet-Cookie: x=1%01\u00c3\u00a9");
            assertThat(response.header("x-always")).isEqualTo("at /a%0D%0ASet-Cookie: x=1%01\u00c3\u00a9");
            assertThat(response.headers()).doesNotContainKey("set-cookie");
            RawHttpClient.Response missing = client.send("GET /missing HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(missing.status()).isEqualTo(404);
            assertThat(missing.header("x-always")).isEqualTo("at /missing");
            assertThat(missing.headers()).as("headers: not on a 404").doesNotContainKey("x-uri");
        }
    }

    /**
     * The server's maps (nginx's map) as a location's headers name them: exact before wildcard names before regexes
     * in order, else the default; a regex's captures ($1, a named group) and another map in a value; a map that comes
     * out empty leaves its header out (CORS for one origin and not another).
     */
    @Test
    void aMapsValueIsTheEntryItsSourceTakesInNginxsOrder() throws Exception {
        Files.createDirectories(root.resolve("www"));
        Path conf = root.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server.maps {
                    cors_origin { source = "$http_origin", values = [{ match = "~^https://(www\\\\.)?example\\\\.(com|org)$", value = "$http_origin" }] }
                    site { source = "$host", hostnames = true, default = other, values = [
                      { match = "~^(?<sub>[a-z]+)\\\\.example\\\\.(org|com)$", value = "re-$sub-$2-$cors_origin" }
                      { match = ".example.org", value = wild }
                      { match = "EXAMPLE.org", value = exact }
                    ]}
                  }
                  sites = [{ root = www, locations = [{ match = "/", headers { X-Cors = "$cors_origin", X-Site = "[$site]" } }] }]
                }
                """);
        LocationSettings configured = new ConfigLoader().load(conf).sites().get(0).locations().get(0);
        InetSocketAddress address = start(configured.headers(), Map.of());
        try (RawHttpClient client = new RawHttpClient(address)) {
            RawHttpClient.Response exact = client.send("GET / HTTP/1.1\r\nHost: example.org\r\n"
                    + "Origin: https://www.example.com\r\n\r\n").read();
            assertThat(exact.header("x-cors")).isEqualTo("https://www.example.com");
            assertThat(exact.header("x-site")).as("exact before the wildcard and the regex").isEqualTo("[exact]");
            RawHttpClient.Response wild = client.send("GET / HTTP/1.1\r\nHost: Shop.Example.ORG.\r\n"
                    + "Origin: https://evil.example\r\n\r\n").read();
            assertThat(wild.headers()).as("no match, default \"\": not sent").doesNotContainKey("x-cors");
            assertThat(wild.header("x-site")).as("the wildcard before the regex written first").isEqualTo("[wild]");
            RawHttpClient.Response regex = client.send("GET / HTTP/1.1\r\nHost: shop.example.com\r\n"
                    + "Origin: https://example.org\r\n\r\n").read();
            assertThat(regex.header("x-site")).isEqualTo("[re-shop-com-https://example.org]");
            RawHttpClient.Response other = client.send("GET / HTTP/1.1\r\nHost: example.net\r\n\r\n").read();
            assertThat(other.header("x-site")).isEqualTo("[other]");
        }
    }

    /** A FastCGI param's value is what CgiParams sends as its UTF-8 bytes: a header's bytes reach PHP as sent. */
    @Test
    void aParamsBytesGoToTheBackendAsTheyWereSent() {
        String fromHeader = "caf\u00c3\u00a9\r"; // "café" sent in UTF-8, one char per byte, as Netty reads a head
        String bytes = fromHeader.replace("\r", "%0D");
        assertThat(CgiParams.utf8Bytes(Variables.paramText(bytes))).isEqualTo(bytes);
        assertThat(Variables.cookie(List.of("a=1;  sid = x", "sid=2"), "sid")).isEqualTo("2");
        assertThat(Variables.cookie(List.of("a=1;  sid=x ; b=2"), "SID")).isEqualTo("x");
        assertThat(Variables.cookie(List.of("xsid=1"), "sid")).isEmpty();
    }

    /**
     * An answer runs its location's regex once for all its captures, as nginx keeps the captures of its location's
     * match: the headers' $size and $2 are read of the match the exchange found first, not of one search a header.
     */
    @Test
    void anAnswersCapturesAreFoundOnce() throws Exception {
        Pattern regex = Pattern.compile("^/img/(?<size>\\d+)/(.+)$");
        Map<String, VariableText> headers = new TreeMap<>();
        headers.put("X-Size", text(variable("size")));
        headers.put("X-Name", text(variable("2")));
        LocationSettings location = LocationSettings.builder("~ " + regex.pattern(), LocationSettings.Kind.REGEX,
                regex.pattern(), regex, null, LocationSettings.Handler.STATIC, null).headers(headers).build();
        ServerSettings settings = TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)),
                100);
        server = new EdgeServer(TestServers.settings(settings, root, List.of(location)), l -> exchange -> {
            Matcher first = exchange.captures(regex, exchange.uri());
            String both = Variables.field(exchange, text(variable("size"), literal("/"), variable("2")));
            byte[] body = (both + (exchange.captures(regex, exchange.uri()) == first ? " once" : " again"))
                    .getBytes(StandardCharsets.US_ASCII);
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(body));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            exchange.complete(exchange.writeAndFlush(response));
        });
        server.start();
        try (RawHttpClient client = new RawHttpClient(server.boundAddresses().get(0))) {
            RawHttpClient.Response answer = client.send("GET /img/120/cat.jpg HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(answer.text()).isEqualTo("120/cat.jpg once");
            assertThat(answer.header("x-size")).isEqualTo("120");
            assertThat(answer.header("x-name")).isEqualTo("cat.jpg");
            RawHttpClient.Response other = client.send("GET /img/64/dog.png HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(other.text()).as("another request's its own").isEqualTo("64/dog.png once");
            assertThat(other.header("x-size")).isEqualTo("64");
        }
    }

    /**
     * A {@code $request_id} seen tells nothing of the next: nginx makes it with RAND_bytes, and configurations use it
     * as a CSP nonce ({@code add_header Content-Security-Policy "script-src 'nonce-$request_id'"}). Made from
     * ThreadLocalRandom it told everything: each long is the thread's seed through MurmurHash3's finalizer, which can be
     * undone, and the seed moves by a fixed step each long, which an id's two longs show, so one id gave every later id
     * its event loop would make.
     */
    @Test
    void aRequestIdSeenDoesNotTellTheNext() {
        String seen = Variables.newRequestId();
        String next = Variables.newRequestId();
        assertThat(seen).matches("[0-9a-f]{32}");
        long first = unmix(Long.parseUnsignedLong(seen.substring(0, 16), 16)); // the seeds behind its two longs
        long seed = unmix(Long.parseUnsignedLong(seen.substring(16), 16));
        long gamma = seed - first; // the thread's step
        String predicted = String.format("%016x%016x", mix(seed + gamma), mix(seed + 2 * gamma));
        assertThat(next).matches("[0-9a-f]{32}").isNotEqualTo(predicted);
    }

    /** MurmurHash3's 64-bit finalizer, ThreadLocalRandom's mix64. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** {@link #mix} undone: x ^ (x >>> 33) is its own inverse, and an odd multiplier has one modulo 2^64. */
    private static long unmix(long z) {
        z = (z ^ (z >>> 33)) * inverse(0xc4ceb9fe1a85ec53L);
        z = (z ^ (z >>> 33)) * inverse(0xff51afd7ed558ccdL);
        return z ^ (z >>> 33);
    }

    /** The inverse of odd {@code a} modulo 2^64, by Newton's iteration (each step doubles the bits that are right). */
    private static long inverse(long a) {
        long x = a;
        for (int i = 0; i < 5; i++) {
            x *= 2 - a * x;
        }
        return x;
    }
}
