package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's limit_rate on a proxied answer: a real edge in front of the JDK's HTTP server, which writes its whole answer
 * at once, and a raw client that reads all it can as it comes. Nothing is timed: past the first second's worth, which
 * goes at once, the client still waits for the rest of a paced answer after another request was answered, where an
 * unpaced one (the backend wrote it all at once, over loopback) was all there long before; then it arrives whole.
 */
class ProxyLimitRateIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** The pace: 64 KiB a second, so the 768 KiB answer takes some 11 s past its first second's worth. */
    private static final int RATE = 64 * 1024;
    private static final byte[] BODY = new byte[768 * 1024];

    static {
        new Random(11).nextBytes(BODY);
    }

    @TempDir
    Path dir;

    private JdkBackend backend;

    /**
     * Answers BODY whole at once, with the query's {@code rate} as its X-Accel-Limit-Rate where it has one (a line for
     * each of several, comma-separated).
     */
    @BeforeEach
    void startBackend() throws IOException {
        backend = JdkBackend.start(this::answer);
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    private void answer(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        if (query != null && query.startsWith("rate=")) {
            for (String rate : query.substring("rate=".length()).split(",")) {
                exchange.getResponseHeaders().add("X-Accel-Limit-Rate", rate);
            }
        }
        exchange.sendResponseHeaders(200, BODY.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(BODY);
        }
    }

    private EdgeHarness edge() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("www/ping.txt"), "pong");
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/slow/", proxy = app, proxy-uri = "/", limit-rate { rate = %d } }
                  { match = "/fast/", proxy = app, proxy-uri = "/" }
                ] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(RATE, backend.address()));
    }

    @Test
    void aProxiedAnswerGoesAtItsLocationsPace() throws Exception {
        try (EdgeHarness edge = edge()) {
            arrivesPacedAndWhole(edge, "/slow/body");
        }
    }

    @Test
    void aBackendsXAccelLimitRatePacesItsAnswerAndIsNotPassedOn() throws Exception {
        try (EdgeHarness edge = edge()) {
            arrivesPacedAndWhole(edge, "/fast/body?rate=" + RATE);
        }
    }

    /**
     * Of several X-Accel-Limit-Rate lines the last that is a number sets the pace, as nginx's upstream takes each over
     * the ones before (measured on nginx 1.22): "0", "65536" is paced, where the first line left it unpaced.
     */
    @Test
    void theLastOfSeveralXAccelLimitRateLinesPacesTheAnswer() throws Exception {
        try (EdgeHarness edge = edge()) {
            arrivesPacedAndWhole(edge, "/fast/body?rate=0," + RATE);
        }
    }

    /**
     * "1", "0" leaves the answer unpaced, as nginx does: it arrives whole, where the first line's pace (a byte a
     * second) would hold it for days; and so does "0", "abc", a line that is no number set aside as nginx sets it aside.
     */
    @Test
    void aLastXAccelLimitRateLineOfZeroLeavesTheAnswerUnpaced() throws Exception {
        try (EdgeHarness edge = edge()) {
            for (String rates : new String[] {"1,0", "0,abc"}) {
                HttpResponse<byte[]> whole = CLIENT.sendAsync(HttpRequest.newBuilder(edge.uri("/fast/body?rate=" + rates))
                        .build(), HttpResponse.BodyHandlers.ofByteArray()).get(60, TimeUnit.SECONDS);
                assertThat(whole.body()).as(rates).isEqualTo(BODY);
                assertThat(whole.headers().firstValue("x-accel-limit-rate")).as("never the client's").isEmpty();
            }
        }
    }

    private static void arrivesPacedAndWhole(EdgeHarness edge, String path) throws Exception {
        try (Socket client = new Socket()) {
            client.connect(edge.address());
            client.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + edge.uri("/").getAuthority()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.getInputStream();
            String head = FastCgiBufferingIT.readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + BODY.length);
            assertThat(head.toLowerCase()).as("the backend's, never the client's").doesNotContain("x-accel-limit-rate");
            AtomicInteger received = new AtomicInteger();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            CompletableFuture<Void> whole = LimitRateIT.readAsItComes(in, received, got);
            Awaits.await(() -> received.get() > RATE + 16 * 1024, "more than the first second's worth");

            HttpResponse<String> other = CLIENT.send(HttpRequest.newBuilder(edge.uri("/ping.txt")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.body()).isEqualTo("pong");
            assertThat(received.get()).as("the paced client, reading all it can, still waits for the rest")
                    .isLessThan(BODY.length);

            whole.get(60, TimeUnit.SECONDS);
            assertThat(got.toByteArray()).as("then the whole body, byte for byte").isEqualTo(BODY);
        }
    }
}
