package io.edge.fastcgi.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a restarting php-fpm looks like to a real epoll connect: both must count as busy. */
class ConnectFailuresTest {

    @TempDir
    Path dir;

    Throwable connectFailure(Path socket) throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Future<Channel> f = new EpollConnector(Duration.ofSeconds(1))
                    .connect(group.next(), BackendAddress.parse("unix:" + socket));
            f.await(5, TimeUnit.SECONDS);
            assertThat(f.isSuccess()).isFalse();
            return f.cause();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * edge's own descriptors running out while it makes the socket (EMFILE, ENFILE; the JDK's words for them too) is
     * busyness, not the backend's failure; another error is neither.
     */
    @Test
    void outOfDescriptorsIsBusyNotTheBackendsFault() {
        Epoll.ensureAvailability(); // loads the native library Errors' constants come from
        Throwable emfile = new io.netty.channel.ChannelException("Unable to create Channel",
                io.netty.channel.unix.Errors.newIOException("newSocketStream", -24));
        assertThat(ConnectFailures.isOutOfDescriptors(emfile)).isTrue();
        assertThat(ConnectFailures.isBusy(emfile)).isTrue();
        assertThat(ConnectFailures.isRefused(emfile)).isFalse();
        assertThat(ConnectFailures.isOutOfDescriptors(io.netty.channel.unix.Errors.newIOException("socket", -23))).isTrue();
        assertThat(ConnectFailures.isOutOfDescriptors(new IOException("Too many open files"))).isTrue();
        assertThat(ConnectFailures.isBusy(io.netty.channel.unix.Errors.newIOException("connect", -13))).isFalse();
    }

    @Test
    void missingSocketFileIsBusy() throws Exception {
        Epoll.ensureAvailability();
        Throwable cause = connectFailure(dir.resolve("gone.sock"));
        assertThat(ConnectFailures.isBusy(cause)).as("%s", cause).isTrue();
        assertThat(ConnectFailures.isRefused(cause)).as("%s", cause).isTrue();
    }

    @Test
    void socketWithoutListenerIsBusy() throws Exception {
        Epoll.ensureAvailability();
        Path socket = dir.resolve("stale.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
        }
        Throwable cause = connectFailure(socket);
        assertThat(ConnectFailures.isBusy(cause)).as("%s", cause).isTrue();
        assertThat(ConnectFailures.isRefused(cause)).as("%s", cause).isTrue();
    }

    /** A full listen backlog is busyness, not a backend that may be down: never reported as a refusal. */
    @Test
    void aFullBacklogIsBusyButNoRefusal() {
        Epoll.ensureAvailability(); // the natives Errors' codes come from
        Throwable full = io.netty.channel.unix.Errors.newIOException("connect",
                io.netty.channel.unix.Errors.ERRNO_EAGAIN_NEGATIVE);
        assertThat(ConnectFailures.isBusy(full)).isTrue();
        assertThat(ConnectFailures.isRefused(full)).isFalse();
    }

    @Test
    void otherErrorsAreNotBusy() {
        assertThat(ConnectFailures.isBusy(new IOException("Broken pipe"))).isFalse();
        assertThat(ConnectFailures.isBusy(new io.netty.channel.ConnectTimeoutException("timed out"))).isFalse();
    }
}
