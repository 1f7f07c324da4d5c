package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.conf.WrittenAt;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator reads when a valid configuration still cannot start: the setting, the value, the reason. */
class StartFailureTest {

    @TempDir
    Path dir;

    /** With the system's reason: a link leading nowhere said only "cannot open ... for appending". */
    @Test
    void accessLogThatCannotBeOpenedFailsTheStart() throws IOException {
        assertThatThrownBy(() -> Logging.configureAccessLog(true, dir))
                .isInstanceOf(IOException.class)
                .hasMessage("edge.server.access-log: cannot open " + dir + " for appending (Is a directory)");
        Path dangling = Files.createSymbolicLink(dir.resolve("access.log"), dir.resolve("gone/access.log"));
        assertThatThrownBy(() -> Logging.configureAccessLog(true, dangling))
                .isInstanceOf(IOException.class)
                .hasMessage("edge.server.access-log: cannot open " + dangling + " for appending (No such file or "
                        + "directory)");
    }

    /**
     * A run-dir whose group directory is a file (or a link leading nowhere) failed the start with the path alone,
     * "could not start: /srv/run/php", the JDK's message: now with what its refusal means.
     */
    @Test
    void aFileSystemRefusalWithoutAReasonSaysWhatItMeans() throws IOException {
        Path file = Files.writeString(dir.resolve("php"), "");
        assertThatThrownBy(() -> Files.createDirectories(file)).satisfies(e -> assertThat(Main.describe(e))
                .isEqualTo(file + ": exists, and is no directory (a file, or a link leading nowhere) where a directory "
                        + "is made"));
        assertThatThrownBy(() -> Files.readString(dir.resolve("missing"))).satisfies(e -> assertThat(Main.describe(e))
                .isEqualTo(dir.resolve("missing") + ": no such file or directory"));
        assertThat(Main.describe(new FileSystemException("/x", null, "Read-only file system")))
                .isEqualTo("/x: Read-only file system");
    }

    @Test
    void portInUseNamesWhereTheSettingWasWrittenAndTheAddressWithoutAClassName() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
            WrittenAt written = new WrittenAt(Path.of("/etc/edge/edge.conf"), 4, "edge.server.listen[1]");
            // Netty's epoll transport words it so (Errors.NativeIoException)
            IOException epoll = new IOException("bind(..) failed with error(-98): Address already in use");
            assertThat(Main.describe(EdgeServer.bindFailure(address, written, epoll)))
                    .isEqualTo("/etc/edge/edge.conf:4: edge.server.listen[1]: 127.0.0.1:" + taken.getLocalPort()
                            + ": address already in use");
            assertThat(Main.describe(EdgeServer.bindFailure(new InetSocketAddress("::1", 80), written, epoll)))
                    .isEqualTo("/etc/edge/edge.conf:4: edge.server.listen[1]: [::1]:80: address already in use");
            // an address from the environment: its line is where it was substituted, and the variable is named
            assertThat(Main.describe(EdgeServer.bindFailure(address, new WrittenAt(Path.of("/etc/edge/edge.conf"), 4,
                    "edge.server.listen[1]", "EDGE_LISTEN"), epoll)))
                    .isEqualTo("/etc/edge/edge.conf:4: edge.server.listen[1]: 127.0.0.1:" + taken.getLocalPort()
                            + ": address already in use (from environment variable EDGE_LISTEN)");
            // a default of reference.conf has no line of the user's file; settings made in code, no file either
            assertThat(Main.describe(EdgeServer.bindFailure(address, new WrittenAt(Path.of("/etc/edge/edge.conf"), -1,
                    "edge.server.listen[0]"), new BindException("Address already in use"))))
                    .isEqualTo("/etc/edge/edge.conf: edge.server.listen[0]: 127.0.0.1:" + taken.getLocalPort()
                            + ": address already in use");
            assertThat(Main.describe(EdgeServer.bindFailure(address, WrittenAt.key("edge.server.listen"),
                    new BindException("Address already in use"))))
                    .isEqualTo("edge.server.listen: 127.0.0.1:" + taken.getLocalPort() + ": address already in use");
        }
    }

    /**
     * Netty's "failed to create a child event loop" was all a start with more io-threads than descriptors allow said
     * (io-threads = 400 under ulimit -n 1024): the setting and the system's reason now, as Netty wraps it.
     */
    @Test
    void eventLoopsThatCannotBeMadeNameIoThreadsAndTheReason() {
        IllegalStateException netty = new IllegalStateException("failed to create a child event loop",
                new io.netty.channel.ChannelException(new IOException("epoll_create1() failed: Too many open files")));
        assertThat(Main.describe(netty)).startsWith("edge.server.io-threads: its event loops could not all be made "
                + "(epoll_create1() failed: Too many open files); each takes a few file descriptors");
    }
}
