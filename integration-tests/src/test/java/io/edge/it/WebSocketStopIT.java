package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop (SIGTERM) with a websocket tunnel open: nginx's graceful shutdown waits for an upgraded connection until
 * worker_shutdown_timeout, then closes it. edge's drain timeout is that bound: the tunnel's two connections are closed
 * when it passes, and the stop ends.
 */
class WebSocketStopIT {

    @TempDir
    Path dir;

    @Test
    void aStopClosesAnOpenTunnelOnceTheDrainTimeoutPasses() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        // edge closed (a second stop, which does nothing after the test's) however the test ends, then the backend
        try (WebSocketEchoBackend backend = new WebSocketEchoBackend();
                EdgeHarness edge = EdgeHarness.start(dir, """
                        server { listen = ["127.0.0.1:0"], timeouts.drain = 1 s }
                        sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                          { match = "/ws/", proxy = ws }
                        ] }]
                        proxy.backends.ws { addresses = ["%s"] }
                        """.formatted(backend.address()))) {
            int port = edge.address().getPort();
            CompletableFuture<Boolean> stop;
            try (Socket client = new Socket("127.0.0.1", port)) {
                client.setSoTimeout(60_000); // a guard: the test fails, not hangs, where the tunnel is never closed
                client.getOutputStream().write(("GET /ws/echo HTTP/1.1\r\nHost: edge.test\r\nConnection: Upgrade\r\n"
                        + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                assertThat(head(client.getInputStream())).startsWith("HTTP/1.1 101 ");
                await(() -> backend.open.get() == 1, "the backend's websocket open");

                stop = CompletableFuture.supplyAsync(edge.edge()::stop);
                assertThat(client.getInputStream().read()).as("the client's side closed by the stop").isEqualTo(-1);
            }
            assertThat(stop.get(60, TimeUnit.SECONDS)).as("not clean: a connection was closed at the bound").isFalse();
            await(() -> backend.open.get() == 0, "the backend's side closed too");
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).as("edge stopped listening")
                    .isInstanceOf(ConnectException.class);
        }
    }

    /** The response head read from {@code in}, up to its blank line. */
    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }
}
