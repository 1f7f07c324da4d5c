package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.linux.Syscalls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.File;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check itself: it sees the calls it is meant to see, on event loops and only there. */
class EventLoopBlockingCheckTest {

    private static EventLoopGroup loops;
    private static ExecutorService pool;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        loops = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        // a pool of FastThreadLocalThreads, as SpooledBody's: not an event loop, may block
        pool = Executors.newSingleThreadExecutor(new DefaultThreadFactory("blocking-pool", true));
        // binds the natives here, as a server does at its start: JNA's first load runs ldconfig
        assertThat(Syscalls.isAvailable()).isTrue();
    }

    @AfterAll
    static void stop() {
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        pool.shutdownNow();
    }

    @Test
    void sleepOnALoopIsRecordedWithWhereItCameFrom() throws Exception {
        onLoop(() -> {
            Thread.sleep(1);
            return null;
        });

        List<String> calls = EventLoopBlockingCheck.drain();
        assertThat(calls).singleElement().asString()
                .contains("java.lang.Thread.sleep")
                .contains("(while EventLoopBlockingCheckTest.sleepOnALoopIsRecordedWithWhereItCameFrom ran)")
                .contains(getClass().getName());
    }

    @Test
    void fileSystemCallsOnALoopAreRecorded() throws Exception {
        Path file = Files.writeString(dir.resolve("a.txt"), "a");

        onLoop(() -> Files.getLastModifiedTime(file)); // stat
        onLoop(() -> file.toRealPath()); // realpath
        onLoop(() -> Files.readString(file)); // open and read
        onLoop(() -> new File(dir.toFile(), "a.txt").length()); // java.io

        List<String> calls = EventLoopBlockingCheck.drain();
        assertThat(calls).anyMatch(call -> call.startsWith("sun.nio.fs.UnixNativeDispatcher.") && call.contains("stat"));
        assertThat(calls).anyMatch(call -> call.startsWith("sun.nio.fs.UnixNativeDispatcher.realpath0"));
        assertThat(calls).anyMatch(call -> call.startsWith("sun.nio.fs.UnixNativeDispatcher.open"));
        assertThat(calls).anyMatch(call -> call.startsWith("sun.nio.ch.") && call.contains("FileDispatcherImpl.read"));
        assertThat(calls).anyMatch(call -> call.startsWith("java.io.UnixFileSystem#getLength"));
    }

    @Test
    void aHostNameLookupOnALoopIsRecorded() throws Exception {
        // a reverse lookup: the JDK keeps no answer for it, and 127.0.0.1 is answered from /etc/hosts
        onLoop(() -> InetAddress.getByAddress(new byte[] {127, 0, 0, 1}).getHostName());

        // getHostByAddr, then a forward lookup of the name found to confirm it
        assertThat(EventLoopBlockingCheck.drain()).isNotEmpty()
                .allMatch(call -> call.startsWith("java.net.Inet"))
                .anyMatch(call -> call.contains("#getHostByAddr on "));
    }

    @Test
    void edgesOwnOpensOnALoopAreRecorded() throws Exception {
        Path file = Files.writeString(dir.resolve("a.txt"), "a");

        int fd = onLoop(() -> Syscalls.openRaw(file.toString(), true));
        Syscalls.closeQuietly(fd);

        assertThat(fd).isNotNegative();
        assertThat(EventLoopBlockingCheck.drain()).singleElement().asString()
                .startsWith("io.edge.aio.linux.Syscalls.openRaw");
    }

    @Test
    void theSameCallsOffTheLoopsAreNot() throws Exception {
        Path file = Files.writeString(dir.resolve("a.txt"), "a");

        pool.submit(() -> {
            Thread.sleep(1);
            return Files.readString(file);
        }).get(10, TimeUnit.SECONDS);
        Thread.sleep(1);
        Files.readString(file);

        assertThat(EventLoopBlockingCheck.drain()).isEmpty();
    }

    private static <T> T onLoop(Callable<T> call) throws Exception {
        return loops.next().submit(call).get(10, TimeUnit.SECONDS);
    }
}
