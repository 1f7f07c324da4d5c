package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import io.edge.core.http.ServerField;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Server field, as nginx's server_tokens gives it: on every answer (a file's, a script's, a proxied one, a cached
 * one, a 304, a 206, a HEAD's, edge's own pages, a 400 read outside any exchange, a 101), once; a script's own in its
 * place, as nginx's FastCGI passes it; a proxied backend's hidden, as nginx's proxy_hide_header defaults.
 */
class ServerFieldIT {

    private static final String WITH_VERSION = "edge/" + ServerField.VERSION;

    @TempDir
    Path dir;

    private EdgeHarness start(String serverTokens, String backend, String wsBackend) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("small.txt"), "a small file\n");
        Files.writeString(www.resolve("plain.php"), "<?php echo 'plain';");
        Files.writeString(www.resolve("own.php"), "<?php header('Server: script/1'); echo 'own';");
        Files.writeString(www.resolve("kept.php"), "<?php header('Cache-Control: max-age=60'); echo microtime();");
        return EdgeHarness.start(dir, """
                server { run-dir = "run", %s }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }, { match = "~ \\\\.php$", fastcgi = php, cache = true }
                  { match = "/api/", proxy = app }, { match = "/ws/", proxy = ws } ] }]
                fastcgi.backends.php.spawn { enabled = true, workers = 1 }
                proxy.backends.app { addresses = ["%s"] }
                proxy.backends.ws { addresses = ["%s"] }
                """.formatted(serverTokens, backend, wsBackend));
    }

    /** A backend that says its own Server, as Node's and Apache's do. */
    private static JdkBackend backend() throws IOException {
        return JdkBackend.start(exchange -> {
            byte[] body = "proxied".getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().add("Server", "backend/1");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
    }

    private static RawHttpClient.Response get(EdgeHarness edge, String target, String... fields) throws IOException {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            return client.send("GET " + target + " HTTP/1.1\r\nHost: a\r\n" + String.join("", fields)
                    + "Connection: close\r\n\r\n").read();
        }
    }

    @Test
    void everyAnswerSaysEdgeAndItsVersionOnce() throws Exception {
        try (JdkBackend backend = backend(); WebSocketEchoBackend ws = new WebSocketEchoBackend();
                EdgeHarness edge = start("", backend.address(), ws.address())) {
            Function<RawHttpClient.Response, String> server = answer -> answer.header("server");
            RawHttpClient.Response file = get(edge, "/small.txt");
            assertThat(file.status()).isEqualTo(200);
            assertThat(server.apply(file)).isEqualTo(WITH_VERSION);
            RawHttpClient.Response notModified = get(edge, "/small.txt", "If-None-Match: " + file.header("etag")
                    + "\r\n");
            assertThat(notModified.status()).isEqualTo(304);
            assertThat(server.apply(notModified)).isEqualTo(WITH_VERSION);
            RawHttpClient.Response range = get(edge, "/small.txt", "Range: bytes=0-3\r\n");
            assertThat(range.status()).isEqualTo(206);
            assertThat(server.apply(range)).isEqualTo(WITH_VERSION);
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response head = client.send("HEAD /small.txt HTTP/1.1\r\nHost: a\r\n\r\n").read(true);
                assertThat(server.apply(head)).isEqualTo(WITH_VERSION);
            }
            RawHttpClient.Response missing = get(edge, "/missing.txt");
            assertThat(missing.status()).isEqualTo(404);
            assertThat(server.apply(missing)).isEqualTo(WITH_VERSION);
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                // unreadable: answered outside any exchange
                RawHttpClient.Response bad = client.send("GET /small.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                        + "Content-Length: 2\r\n\r\nab")
                        .read();
                assertThat(bad.status()).isEqualTo(400);
                assertThat(server.apply(bad)).isEqualTo(WITH_VERSION);
            }
            RawHttpClient.Response script = get(edge, "/plain.php");
            assertThat(script.text()).isEqualTo("plain");
            assertThat(server.apply(script)).isEqualTo(WITH_VERSION);
            RawHttpClient.Response first = get(edge, "/kept.php");
            RawHttpClient.Response hit = get(edge, "/kept.php");
            assertThat(hit.text()).as("the response cache's").isEqualTo(first.text());
            assertThat(server.apply(hit)).isEqualTo(WITH_VERSION);
            RawHttpClient.Response proxied = get(edge, "/api/x");
            assertThat(proxied.text()).isEqualTo("proxied");
            assertThat(server.apply(proxied)).as("the backend's hidden").isEqualTo(WITH_VERSION);
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response upgraded = client.send("GET /ws/echo HTTP/1.1\r\nHost: a\r\n"
                        + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n\r\n").read();
                assertThat(upgraded.status()).isEqualTo(101);
                assertThat(server.apply(upgraded)).isEqualTo(WITH_VERSION);
            }
        }
    }

    /** nginx's FastCGI passes a script's Server on, and its header filter adds none then. */
    @Test
    void aScriptsOwnServerGoesInPlaceOfEdges() throws Exception {
        try (JdkBackend backend = backend(); WebSocketEchoBackend ws = new WebSocketEchoBackend();
                EdgeHarness edge = start("", backend.address(), ws.address())) {
            RawHttpClient.Response own = get(edge, "/own.php");
            assertThat(own.text()).isEqualTo("own");
            assertThat(own.header("server")).isEqualTo("script/1");
        }
    }

    /** server_tokens off: "edge" alone, the version nowhere. */
    @Test
    void serverTokensOffSaysEdgeAlone() throws Exception {
        try (JdkBackend backend = backend(); WebSocketEchoBackend ws = new WebSocketEchoBackend();
                EdgeHarness edge = start("server-tokens = off", backend.address(), ws.address())) {
            assertThat(get(edge, "/small.txt").header("server")).isEqualTo("edge");
            RawHttpClient.Response missing = get(edge, "/missing.txt");
            assertThat(missing.header("server")).isEqualTo("edge");
            assertThat(missing.text()).doesNotContain(ServerField.VERSION);
            assertThat(get(edge, "/api/x").header("server")).isEqualTo("edge");
        }
    }
}
