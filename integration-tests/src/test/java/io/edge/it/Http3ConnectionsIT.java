package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/3 connections as {@code server.max-connections} counts them beside TCP ones, Netty's HTTP/3 client on one side
 * ({@link NettyHttp3Client}) and curl over TCP on the other: refused at the limit, an idle one closed to make room for
 * a new client of either kind, as an idle kept-alive TCP one is; and kept while a request is in flight, however long
 * its script is silent. Static files and a fake FastCGI peer: no php-fpm.
 */
@SuppressWarnings("try") // the edge of a test serves its requests
class Http3ConnectionsIT {

    /** The port of the edge started last, a new one for each, as Http3IT's. */
    private static int port;

    @TempDir
    static Path dir;

    static Path www;
    /** A FastCGI peer whose late.php thinks 5 s before it answers. */
    static FakeFcgiServer fake;

    @BeforeAll
    static void start() throws Exception {
        www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("small.txt"), "a small file\n");
        Files.writeString(www.resolve("late.php"), "<?php // answered by the fake peer");
        fake = new FakeFcgiServer(dir.resolve("fake.sock"));
        TrustingContext.selfSigned(Files.createDirectories(dir.resolve("tls")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (fake != null) {
            fake.close();
        }
    }

    /** One connection at a time, an idle one kept for an hour: QUIC's idle timeout does not close it first. */
    private static final String ONE_SLOT_KEPT_AN_HOUR = """
            server.max-connections = 1
            server.timeouts.keep-alive = 1 h
            """;

    /** A client whose one request is answered: its connection idle, no stream open. */
    private static NettyHttp3Client idleClient() throws Exception {
        NettyHttp3Client idle = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter());
        assertThat(idle.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
        return idle;
    }

    private static EdgeHarness started(String name, String extra) throws Exception {
        port = EdgeProcess.freePort();
        Path tls = dir.resolve("tls");
        return EdgeHarness.start(Files.createDirectories(dir.resolve(name)), """
                server.listen = ["127.0.0.1:%d ssl http2 quic"]
                sites = [
                  { server-names = [localhost], default = true, root = "%s",
                    tls { certificate = "%s", key = "%s" },
                    locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = fake }] }
                ]
                fastcgi.backends.fake.addresses = ["unix:%s"]
                """.formatted(port, www, tls.resolve("cert.pem"), tls.resolve("key.pem"), dir.resolve("fake.sock"))
                + extra);
    }

    /**
     * QUIC connections count against {@code server.max-connections}, as nginx's {@code worker_connections} counts
     * them: at the limit a new one is refused (nothing can wait on a UDP socket that carries every other connection
     * too), and one that closes frees its slot. The first has sent no request yet: not idle, so not closed for the
     * second ({@link #anIdleQuicConnectionIsClosedToMakeRoomForANewOne}).
     */
    @Test
    void quicConnectionsCountAgainstMaxConnections() throws Exception {
        try (EdgeHarness edge = started("max-connections", "server.max-connections = 1\n")) {
            try (NettyHttp3Client first = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
                NettyHttp3Client second;
                try {
                    second = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter());
                } catch (ExecutionException | TimeoutException refusedInItsHandshake) {
                    second = null;
                }
                if (second != null) { // its handshake ended before the refusal came: the refusal closes it
                    try (NettyHttp3Client refused = second) {
                        assertThat(refused.quic.closeFuture().await(30, TimeUnit.SECONDS))
                                .as("a second QUIC connection at max-connections 1 closed").isTrue();
                    }
                }
            }
            await(() -> { // once the server has seen the first one's close
                try (NettyHttp3Client next = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
                    return "200".equals(next.status("/small.txt").get(30, TimeUnit.SECONDS));
                } catch (ExecutionException refused) { // in its handshake, or after it
                    return false;
                }
            }, "a connection served once the first one closed");
        }
    }

    /**
     * A new QUIC connection at {@code max-connections} takes the slot of an idle one (its request answered, no stream
     * open), closed for it, as a TCP client held at the limit does: it is served, and the idle one closes.
     */
    @Test
    void anIdleQuicConnectionIsClosedToMakeRoomForANewOne() throws Exception {
        try (EdgeHarness edge = started("idle-room-quic", ONE_SLOT_KEPT_AN_HOUR);
             NettyHttp3Client idle = idleClient()) {
            try (NettyHttp3Client next = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
                assertThat(next.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            }
            assertThat(idle.quic.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * An idle QUIC connection (its request answered, no stream open) is closed to make room for a TCP client held at
     * {@code max-connections}, as an idle kept-alive TCP one is (nginx reuses its idle connections so): the client is
     * served, and the QUIC connection closes.
     */
    @Test
    void anIdleQuicConnectionIsClosedToMakeRoomForATcpClient() throws Exception {
        try (EdgeHarness edge = started("idle-room-tcp", ONE_SLOT_KEPT_AN_HOUR);
             NettyHttp3Client idle = idleClient()) {
            assertThat(Curl.output("--cacert", dir.resolve("tls/cert.pem").toString(), "--http1.1", "--max-time", "30",
                    "-o", "/dev/null", "-w", "%{http_code}", "https://127.0.0.1:" + port + "/small.txt"))
                    .isEqualTo("200");
            assertThat(idle.quic.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * A stream reset for its malformed head (a Host that is not its :authority: RFC 9114 4.1.2's H3_MESSAGE_ERROR, sent
     * by Netty's codec) is done with on edge's side too: its connection, its one request answered before, is idle
     * after it, closed to make room for a new client at {@code max-connections}. An hour's request-head timeout: the
     * stream is not closed by it meanwhile.
     */
    @Test
    void aStreamResetForAMalformedHeadLeavesItsConnectionIdle() throws Exception {
        try (EdgeHarness edge = started("malformed-idle", ONE_SLOT_KEPT_AN_HOUR
                + "server.timeouts.request-head = 1 h\n");
             NettyHttp3Client idle = idleClient()) {
            Http3HeadersFrame otherHost = idle.get("/small.txt");
            otherHost.headers().add("host", "elsewhere.example");
            assertThat(idle.outcome(otherHost).get(30, TimeUnit.SECONDS)).isEqualTo("reset 0x10e");
            try (NettyHttp3Client next = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
                assertThat(next.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            }
            assertThat(idle.quic.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * A script silent for longer than QUIC's idle timeout ({@code timeouts.keep-alive}, 2 s here; the fake peer's
     * late.php answers after 5 s) is answered: the idle timeout ends a connection with no request in flight, as
     * HTTP/1.1's and HTTP/2's keep-alive timeout never cuts a request in progress.
     */
    @Test
    void aScriptSilentPastTheIdleTimeoutIsAnswered() throws Exception {
        try (EdgeHarness edge = started("silent-script", "server.timeouts.keep-alive = 2 s\n");
             NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
            assertThat(client.status("/late.php").get(30, TimeUnit.SECONDS)).isEqualTo("200");
        }
    }

    /**
     * {@code $server_addr} and {@code $server_port} over HTTP/3 are the address and port the client sent its packets
     * to, as over TCP and as nginx's: on a listener bound to one address, that address (the UDP socket's). On a
     * wildcard listener (epoll) each datagram names the address it was sent to; not tested here: tests listen on
     * 127.0.0.1 alone (checked by hand with this test's listener "*:PORT" in a network namespace of its own).
     */
    @Test
    void theServerAddressIsTheListenersOwn() throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             EdgeHarness edge = started("server-addr", """
                     server.access-log = "-"
                     server.access-log-format = "$server_addr $server_port $server_protocol"
                     """);
             NettyHttp3Client client = new NettyHttp3Client(port, new ChannelInboundHandlerAdapter())) {
            assertThat(client.status("/small.txt").get(30, TimeUnit.SECONDS)).isEqualTo("200");
            await(() -> access.lines().size() == 1, "its line");
            assertThat(access.lines()).containsExactly("127.0.0.1 " + port + " HTTP/3.0");
        }
    }
}
