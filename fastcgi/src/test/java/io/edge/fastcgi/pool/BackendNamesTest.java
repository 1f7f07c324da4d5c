package io.edge.fastcgi.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A backend's host name is looked up at each connect, off the event loop: a DNS server that does not answer holds
 * that connect (up to the connect timeout), not every client of the loop.
 */
class BackendNamesTest {

    private MultiThreadIoEventLoopGroup loops;
    private ExecutorService lookups;
    private final CountDownLatch answer = new CountDownLatch(1);

    @BeforeEach
    void start() {
        loops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        lookups = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void stop() throws InterruptedException {
        answer.countDown();
        lookups.shutdownNow();
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** As a DNS server that answers only when the test says so. */
    private List<InetAddress> slowLookup(String host) throws UnknownHostException {
        try {
            if (!answer.await(30, TimeUnit.SECONDS)) {
                throw new UnknownHostException(host + ": the test gave no answer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnknownHostException(host + ": interrupted");
        }
        if (!host.equals("php.backend.test")) {
            throw new UnknownHostException(host);
        }
        return List.of(InetAddress.getLoopbackAddress());
    }

    @Test
    void aNameIsKeptForTheConnectAndALiteralIsTakenAsItIs() {
        InetSocketAddress name = (InetSocketAddress) BackendAddress.parse("php.backend.test:9000").address();
        assertThat(name.isUnresolved()).isTrue();
        assertThat(name.getHostString()).isEqualTo("php.backend.test");
        InetSocketAddress v4 = (InetSocketAddress) BackendAddress.parse("127.0.0.1:9000").address();
        assertThat(v4.isUnresolved()).isFalse();
        assertThat(v4.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        InetSocketAddress v6 = (InetSocketAddress) BackendAddress.parse("[::1]:9001").address();
        assertThat(v6.isUnresolved()).isFalse();
        assertThat(v6.getAddress().isLoopbackAddress()).isTrue();
    }

    @Test
    void theLoopGoesOnWhileANameIsLookedUpAndTheConnectFollowsTheAnswer() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            EpollConnector connector = new EpollConnector(Duration.ofSeconds(30),
                    new BackendNames(this::slowLookup, lookups, Duration.ofSeconds(30)));
            EventLoop loop = loops.next();

            Future<Channel> connect = connector.connect(loop,
                    BackendAddress.parse("php.backend.test:" + backend.getLocalPort()));

            // the lookup waits for its answer; the loop meanwhile runs other work
            assertThat(loop.submit(() -> "ran").get(10, TimeUnit.SECONDS)).isEqualTo("ran");
            assertThat(connect.isDone()).isFalse();

            answer.countDown();
            assertThat(connect.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(connect.cause()).isNull();
            Channel backendChannel = connect.getNow();
            assertThat(((InetSocketAddress) backendChannel.remoteAddress()).getPort())
                    .isEqualTo(backend.getLocalPort());
            assertThat(backendChannel.eventLoop()).isSameAs(loop);
            backendChannel.close().sync();
        }
    }

    @Test
    void aLookupNotAnsweredWithinTheConnectTimeoutFailsTheConnectOnItsLoop() throws Exception {
        EpollConnector connector = new EpollConnector(Duration.ofMillis(200),
                new BackendNames(this::slowLookup, lookups, Duration.ofMillis(200)));
        EventLoop loop = loops.next();
        AtomicBoolean notifiedOnLoop = new AtomicBoolean();
        CountDownLatch notified = new CountDownLatch(1);

        Future<Channel> connect = connector.connect(loop, BackendAddress.parse("php.backend.test:9000"));
        connect.addListener(done -> {
            notifiedOnLoop.set(loop.inEventLoop());
            notified.countDown();
        });

        assertThat(notified.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(connect.cause()).isInstanceOf(UnknownHostException.class)
                .hasMessageContaining("php.backend.test: no answer within 200 ms");
        assertThat(notifiedOnLoop).isTrue();
    }

    @Test
    void aNameThatDoesNotResolveFailsTheConnect() throws Exception {
        answer.countDown();
        EpollConnector connector = new EpollConnector(Duration.ofSeconds(10),
                new BackendNames(this::slowLookup, lookups, Duration.ofSeconds(10)));

        Future<Channel> connect = connector.connect(loops.next(), BackendAddress.parse("gone.backend.test:9000"));

        assertThat(connect.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(connect.cause()).isInstanceOf(UnknownHostException.class).hasMessageContaining("gone.backend.test");
    }

    @Test
    void theJdksLookupConnectsToLocalhost() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
            Future<Channel> connect = new EpollConnector(Duration.ofSeconds(10))
                    .connect(loops.next(), BackendAddress.parse("localhost:" + backend.getLocalPort()));

            assertThat(connect.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(connect.cause()).isNull();
            connect.getNow().close().sync();
        }
    }
}
