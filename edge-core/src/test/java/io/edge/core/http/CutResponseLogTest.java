package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.edge.aio.file.DirectMemoryExhaustedException;
import io.edge.aio.file.EngineClosedException;
import io.edge.core.EdgeServer;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A response cut after its head by a failure is one warning: with the failure's stack trace where it is an unforeseen
 * fault, as one line where it says all there is (a file truncated while it was sent: nginx's "was truncated"; a file
 * engine a reload replaced, closed once the drain timeout passed under a long download).
 */
class CutResponseLogTest {

    @TempDir
    Path root;

    private EdgeServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.shutdown();
        }
    }

    /** Sends the head and seven of its hundred bytes, then fails with what the path names. */
    private static final Responder CUT = exchange -> {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpUtil.setContentLength(head, 100);
        exchange.write(head);
        exchange.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer("partial", StandardCharsets.US_ASCII)))
                .addListener(written -> exchange.fail(switch (exchange.request().uri()) {
                    case "/eof" -> new EOFException("/srv/f.bin was truncated while it was sent: 7 of 100 bytes");
                    case "/closed" -> new EngineClosedException("io_uring engine closed");
                    case "/memory" -> new DirectMemoryExhaustedException("read buffer of 1048576 bytes");
                    default -> new IOException("Input/output error");
                }));
    };

    @Test
    void aTruncatedFileOrAClosedEngineIsOneLineAndAnUnforeseenFaultKeepsItsStackTrace() throws Exception {
        InetSocketAddress address = startCutting();
        List<ILoggingEvent> warnings;
        try (CapturedLog log = CapturedLog.of(ServerExchange.class)) {
            for (String path : List.of("/eof", "/closed", "/io")) {
                try (RawHttpClient client = new RawHttpClient(address)) {
                    client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThatThrownBy(client::read).as("the body is cut: the connection closes").isInstanceOf(EOFException.class);
                }
            }
            awaitWarnings(log, 3);
            warnings = log.warningEvents();
        }
        assertThat(warnings).hasSize(3);
        ILoggingEvent truncated = warnings.stream().filter(e -> e.getFormattedMessage().contains("/eof")).findFirst().orElseThrow();
        assertThat(truncated.getFormattedMessage()).contains("200 response cut after 7 body bytes")
                .contains("/srv/f.bin was truncated while it was sent");
        assertThat(truncated.getThrowableProxy()).as("one line").isNull();
        ILoggingEvent closed = warnings.stream().filter(e -> e.getFormattedMessage().contains("/closed")).findFirst()
                .orElseThrow();
        assertThat(closed.getFormattedMessage()).contains("io_uring engine closed");
        assertThat(closed.getThrowableProxy()).as("one line").isNull();
        ILoggingEvent fault = warnings.stream().filter(e -> e.getFormattedMessage().contains("/io")).findFirst().orElseThrow();
        assertThat(fault.getThrowableProxy()).as("with its stack trace").isNotNull();
    }

    /**
     * Cut for overload (no direct memory left for a later piece): in bursts, as the 503s are, so warned as they are, one
     * line now and then with a count of the rest (the resource audit: 23 such lines in one second).
     */
    @Test
    void responsesCutForOverloadAreWarnedAsThe503sAre() throws Exception {
        InetSocketAddress address = startCutting();
        try (CapturedLog log = CapturedLog.of(ServerExchange.class)) {
            for (int i = 0; i < 3; i++) {
                try (RawHttpClient client = new RawHttpClient(address)) {
                    client.send("GET /memory HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThatThrownBy(client::read).as("the body is cut: the connection closes").isInstanceOf(EOFException.class);
                }
            }
            try (RawHttpClient client = new RawHttpClient(address)) { // a last one, warned at once, to wait for
                client.send("GET /io HTTP/1.1\r\nHost: a\r\n\r\n");
                assertThatThrownBy(client::read).isInstanceOf(EOFException.class);
            }
            awaitWarnings(log, 1);
            for (int i = 0; i < 500 && log.warnings().stream().noneMatch(w -> w.contains("/io")); i++) {
                Thread.sleep(10);
            }
            assertThat(log.warnings().stream().filter(w -> w.contains("/memory"))).as("throttled").hasSizeLessThanOrEqualTo(1);
        }
    }

    /** Starts a server answering every request with {@link #CUT}; its address. */
    private InetSocketAddress startCutting() throws Exception {
        server = new EdgeServer(TestServers.settings(TestServers.server(TestServers.limits(),
                TestServers.timeouts(Duration.ofSeconds(10)), 100), root), location -> CUT);
        server.start();
        return server.boundAddresses().get(0);
    }

    /** The warnings come from the event loop after the close; waits for them (a bound, not a timing). */
    private static void awaitWarnings(CapturedLog log, int count) throws InterruptedException {
        for (int i = 0; i < 500 && log.warnings().size() < count; i++) {
            Thread.sleep(10);
        }
    }
}
