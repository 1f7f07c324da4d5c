package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import io.edge.core.EdgeServer;
import io.edge.core.http.BackendGate;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import io.edge.core.proxy.BackendTls;
import io.edge.core.proxy.ProxyResponder;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.pool.AddressCounts;
import io.edge.fastcgi.pool.BackendPool;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An exception of edge's own while a proxied answer's head is taken is edge's failure, not the backend's: a 500, logged
 * with its stack trace at ERROR, no failure of the address counted and the request sent to no other. The fault is the
 * response cache's place, a gate whose tap throws at the head (ProxyResponder's constructor takes any gate).
 */
class ProxyOwnFaultIT {

    @TempDir
    Path dir;

    /** What a test does with the server running: its address. */
    @FunctionalInterface
    private interface Run {
        void with(InetSocketAddress edge) throws Exception;
    }

    /**
     * Runs {@code run} against edge proxying to {@code first} then {@code second}, each answering GET /a with "ok",
     * through a responder built with {@code gate}.
     */
    private void proxying(FakeHttpBackend first, FakeHttpBackend second, BackendGate gate, Run run) throws Exception {
        String ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        first.answer("a", ok);
        second.answer("a", ok);
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server.listen = ["127.0.0.1:0"]
                  server.access-log = off
                  sites = [{ server-names = ["_"], default = true, root = ".",
                    locations = [{ match = "/", proxy = app }] }]
                  proxy.backends.app { addresses = ["127.0.0.1:%d", "127.0.0.1:%d"] }
                }
                """.formatted(first.port(), second.port()));
        EdgeSettings settings = new ConfigLoader().load(conf);
        BackendGroupSettings group = settings.proxyBackends().get("app");
        BackendPool pool = BackendPool.create(group, null, new AddressCounts(), BackendTls.of(group),
                BackendPool.Kind.PROXY);
        EdgeServer server = new EdgeServer(settings, location -> new ProxyResponder(pool, group, dir, dir, gate));
        try {
            server.start();
            run.with(server.boundAddresses().get(0));
        } finally {
            server.shutdown();
            pool.close();
        }
    }

    /**
     * Before, the exception reached the call's exceptionCaught: a failure of the first address (counted against its
     * health), the request passed on to the second, which failed the same way, and the client had a 502.
     */
    @Test
    void anExceptionOfEdgesOwnAtTheHeadIsA500AndNoFailureOfTheBackend() throws Exception {
        try (FakeHttpBackend first = new FakeHttpBackend(); FakeHttpBackend second = new FakeHttpBackend();
             CapturedLog log = CapturedLog.of(ProxyResponder.class)) {
            proxying(first, second, ThrowingTap.gate(ThrowingTap.At.HEAD), edge -> {
                try (RawHttpClient client = new RawHttpClient(edge)) {
                    client.send("GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    assertThat(client.read().status()).isEqualTo(500);
                }
            });
            assertThat(first.connections()).isEqualTo(1);
            assertThat(second.connections()).as("passed on to the next address").isZero();
            assertThat(log.events()).filteredOn(e -> e.getLevel() == Level.ERROR).singleElement()
                    .satisfies(e -> {
                        assertThat(e.getFormattedMessage()).contains("GET /a: the answer could not be taken")
                                .contains(ThrowingTap.BUG);
                        assertThat(e.getThrowableProxy()).as("its stack trace").isNotNull();
                    });
        }
    }

    /**
     * The tap throwing as it is shown a body chunk (the cache's copy of it) leaves the chunk released: the call's own
     * failure ends the exchange, the connection closed and the request sent to no other address. Failed before: the
     * chunk the decoder handed the call was never released (a leak per such answer; refCnt 2 where the test's hold
     * alone should be left).
     */
    @Test
    void anExceptionOfEdgesOwnAtABodyChunkLeavesTheChunkReleased() throws Exception {
        List<ByteBuf> seen = new CopyOnWriteArrayList<>();
        try (FakeHttpBackend first = new FakeHttpBackend(); FakeHttpBackend second = new FakeHttpBackend();
             CapturedLog log = CapturedLog.of(ProxyResponder.class)) {
            proxying(first, second, ThrowingTap.gate(ThrowingTap.At.BODY, seen), edge -> {
                try (RawHttpClient client = new RawHttpClient(edge)) {
                    client.send("GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    client.socket().getInputStream().readAllBytes(); // a 500, or the head and the connection closed
                }
            });
            assertThat(seen).as("the chunk the tap was shown").hasSize(1);
            assertThat(seen.get(0).refCnt()).as("the test's hold alone left").isEqualTo(1);
            assertThat(second.connections()).as("passed on to the next address").isZero();
            assertThat(log.events()).filteredOn(e -> e.getLevel() == Level.ERROR).singleElement()
                    .satisfies(e -> assertThat(e.getFormattedMessage()).contains(ThrowingTap.BUG));
        } finally {
            seen.forEach(ByteBuf::release);
        }
    }
}
