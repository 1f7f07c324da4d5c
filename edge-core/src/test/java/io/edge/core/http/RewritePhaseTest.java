package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.conf.ServerSettings;
import io.edge.core.EdgeServer;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site's rewrites, met before a location is chosen, and a location's, met before its responder (which answers with
 * the URI it was handed, its location's match and its query): nginx's rewrite phases.
 */
class RewritePhaseTest {

    @TempDir
    Path root;

    private EdgeServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.shutdown();
        }
    }

    private InetSocketAddress start(String sites) throws Exception {
        Files.createDirectories(root.resolve("www"));
        Path conf = root.resolve("edge.conf");
        Files.writeString(conf, "edge {\n" + sites + "\n}\n");
        ServerSettings settings = TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)),
                100);
        server = new EdgeServer(TestServers.sites(settings, root, new ConfigLoader().load(conf).sites()),
                location -> RewritePhase.guard(exchange -> {
                    byte[] body = (location.match() + " " + exchange.path() + "?" + exchange.query())
                            .getBytes(StandardCharsets.UTF_8);
                    DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                    exchange.complete(exchange.writeAndFlush(response));
                }, location));
        server.start();
        return server.boundAddresses().get(0);
    }

    @Test
    void siteRewritesChainThenRouteAndLocationIfsAnswer() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ root = www
                  rewrites = [
                    { rewrite = "^/a/(.*)$ /b/$1?from=a" }
                    { rewrite = "^/b/(.*)$ /c/$1" }
                    { if = "$arg_from = a", rewrite = "^/c/x$ /d/x last" }
                    { rewrite = "^/d/x$ /never" }
                    { if = "$http_x_go", rewrite = "^ https://example.org/go redirect" }
                  ]
                  locations = [
                    { match = "/" }
                    { match = "/c/" }
                    { match = "/d/" }
                    { match = "~ ^/item/(\\\\d+)$", rewrites = [
                      { if = "$http_x_old = yes", return = "301 /items/$1" }
                      { if = "$http_x_slow ~ ^(.*)/(.*)/(.*)\\\\.jpg$", return = 403 }
                    ] }
                    { match = "/name/", rewrites = [{ if = "$http_x_name ~ ^n-(.+)$", return = "302 /n/$1" }] }
                  ] }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /a/y?q=1 HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("the second rewrite met the first one's URI, the query set and the request's after it")
                    .isEqualTo("/c/ /c/y?from=a&q=1");
            assertThat(client.send("GET /a/x HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("last: the entries after it passed over").isEqualTo("/d/ /d/x?from=a");
            RawHttpClient.Response go = client.send("GET /z?k=v HTTP/1.1\r\nHost: h\r\nX-Go: 1\r\n\r\n").read();
            assertThat(go.status()).isEqualTo(302);
            assertThat(go.header("location")).as("the request's query appended, after ?").isEqualTo(
                    "https://example.org/go?k=v");
            RawHttpClient.Response old = client.send("GET /item/7 HTTP/1.1\r\nHost: h\r\nX-Old: yes\r\n\r\n").read();
            assertThat(old.status()).isEqualTo(301);
            assertThat(old.header("location")).as("the location regex's capture").isEqualTo("/items/7");
            assertThat(client.send("GET /item/7 HTTP/1.1\r\nHost: h\r\nX-Old: no\r\n\r\n").read().text())
                    .isEqualTo("~ ^/item/(\\d+)$ /item/7?");
            RawHttpClient.Response name = client.send("GET /name/ HTTP/1.1\r\nHost: h\r\nX-Name: n-caf\u00c3\u00a9"
                    + "\r\n\r\n").read();
            assertThat(name.header("location")).as("a header's UTF-8 captured as the bytes sent, encoded once")
                    .isEqualTo("/n/caf%C3%A9");
            RawHttpClient.Response slow = client.send("GET /item/7 HTTP/1.1\r\nHost: h\r\nX-Slow: "
                    + "/" + "a/".repeat(1500) + "b\r\n\r\n").read(); // 1500^3 / 6 reads to say no
            assertThat(slow.status()).as("a regex that backtracks gives up within its budget: 500, the loop let go")
                    .isEqualTo(500);
        }
    }

    /**
     * An if's text in a regex location has the location's captures, as nginx's "if ($arg_c = $1)" in
     * "location ~ ^/eq/(\w+)$" compares with the location's $1.
     */
    @Test
    void anIfTextHasTheLocationsCaptures() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ root = www
                  locations = [{ match = "~ ^/eq/(\\\\w+)$", rewrites = [
                    { if = "$arg_c = $1", return = "200 eq $1" }
                  ] }]
                }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /eq/ab?c=ab HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("eq ab");
            assertThat(client.send("GET /eq/ab?c=x HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .isEqualTo("~ ^/eq/(\\w+)$ /eq/ab?c=x");
        }
    }
}
