package io.edge.fastcgi.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.Future;
import java.net.Inet6Address;
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
class BackendResolverGroupTest {

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
    void anIpv6LiteralKeepsItsScope() {
        InetSocketAddress scoped = (InetSocketAddress) BackendAddress.parse("[fe80::1%1]:9000").address();
        assertThat(scoped.isUnresolved()).isFalse();
        assertThat(((Inet6Address) scoped.getAddress()).getScopeId()).isEqualTo(1);
    }

    /**
     * Connects to one name share its lookup; a name whose DNS hangs holds one lookup thread, and another name is
     * looked up beside it.
     */
    @Test
    void aHangingNameHoldsOneLookupAndAnotherIsAnsweredBesideIt() throws Exception {
        ExecutorService two = Executors.newFixedThreadPool(2);
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ServerSocket backend = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            BackendResolverGroup.Lookup lookup = host -> {
                asked.add(host);
                return host.equals("php.backend.test") ? slowLookup(host) : List.of(InetAddress.getLoopbackAddress());
            };
            EpollConnector connector = new EpollConnector(Duration.ofSeconds(30),
                    new BackendResolverGroup(lookup, two, Duration.ofSeconds(30)));
            EventLoop loop = loops.next();
            List<Future<Channel>> held = List.of(
                    connector.connect(loop, BackendAddress.parse("php.backend.test:" + backend.getLocalPort())),
                    connector.connect(loop, BackendAddress.parse("php.backend.test:" + backend.getLocalPort())),
                    connector.connect(loop, BackendAddress.parse("php.backend.test:" + backend.getLocalPort())));

            Future<Channel> other = connector.connect(loop, BackendAddress.parse("other.backend.test:"
                    + backend.getLocalPort()));

            assertThat(other.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(other.cause()).isNull();
            assertThat(held).noneMatch(Future::isDone);
            answer.countDown();
            for (Future<Channel> f : held) {
                assertThat(f.await(10, TimeUnit.SECONDS)).isTrue();
                assertThat(f.cause()).isNull();
                f.getNow().close().sync();
            }
            other.getNow().close().sync();
            assertThat(asked).containsExactlyInAnyOrder("php.backend.test", "other.backend.test");
        } finally {
            two.shutdownNow();
        }
    }

    @Test
    void theLoopGoesOnWhileANameIsLookedUpAndTheConnectFollowsTheAnswer() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            EpollConnector connector = new EpollConnector(Duration.ofSeconds(30),
                    new BackendResolverGroup(this::slowLookup, lookups, Duration.ofSeconds(30)));
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
                new BackendResolverGroup(this::slowLookup, lookups, Duration.ofMillis(200)));
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
                new BackendResolverGroup(this::slowLookup, lookups, Duration.ofSeconds(10)));

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
