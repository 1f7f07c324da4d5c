package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.PageCache;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

/**
 * The contract with every io_uring read sent straight to kernel workers ({@code IOSQE_ASYNC}), as reads from
 * FUSE or NFS are; and which file systems get that.
 */
class IoUringWorkerReadsTest extends IoUringContract {

    /** File system types the engine asked about. */
    private final List<Long> asked = new ArrayList<>();
    /** The threads it asked on. */
    private final List<Thread> askedOn = new ArrayList<>();

    @Override
    FileEngine newEngine(Ticker ticker) throws Exception {
        LongPredicate always = type -> {
            synchronized (asked) {
                asked.add(type);
                askedOn.add(Thread.currentThread());
            }
            return true;
        };
        return uringEngine(ticker, false, always);
    }

    @Test
    void theFileSystemIsAskedAboutOncePerDevice() throws Exception {
        OpenFile first = open(Files.write(dir.resolve("a"), bytes(5000, 1)));
        OpenFile second = open(Files.write(dir.resolve("b"), bytes(6000, 2)));
        try {
            assertThat(read(first, 0, 5000)).isEqualTo(bytes(5000, 1));
            assertThat(read(second, 0, 6000)).isEqualTo(bytes(6000, 2));
            assertThat(read(first, 1000, 10)).isEqualTo(Arrays.copyOfRange(bytes(5000, 1), 1000, 1010));
            assertThat(asked).containsExactly(Syscalls.fileSystemType(first.fd()));
            assertThat(((IoUringEngine) engine).viaWorker(second)).isTrue();
            assertThat(engine.stats().asyncReads()).isEqualTo(3);
        } finally {
            first.release();
            second.release();
        }
    }

    @Test
    void aDevicesFirstReadFromAnEventLoopAsksTheFileSystemOnAnotherThreadAndCompletesOnTheLoop() throws Exception {
        // fstatfs waits for the file server on FUSE or NFS: never on the loop.
        OpenFile file = open(Files.write(dir.resolve("c"), bytes(7000, 3)));
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            IoEventLoop loop = group.next();
            CompletableFuture<Boolean> completedOnLoop = new CompletableFuture<>();
            CompletableFuture<ByteBuf> read = loop.submit(() -> engine.read(file, 0, 7000, ALLOC).toCompletableFuture()
                    .whenComplete((buffer, failure) -> completedOnLoop.complete(loop.inEventLoop()))).get();
            assertThat(bytesOf(read)).isEqualTo(bytes(7000, 3));
            assertThat(completedOnLoop.get(30, TimeUnit.SECONDS)).isTrue();
            assertThat(askedOn).hasSize(1);
            assertThat(askedOn.get(0)).isNotSameAs(loop.submit(Thread::currentThread).get());
            assertThat(((IoUringEngine) engine).rings()).isEqualTo(1);
        } finally {
            file.release();
            engine.close(); // closes the ring on the loop before the loop goes
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aColdSmallFileOpenedOnThePoolIsReadThereWhenItsReadsWouldGoToWorkers() throws Exception {
        byte[] content = bytes(9000, 4);
        Path path = Files.write(dir.resolve("thumb"), content);
        dropFromPageCache(path);
        try (IoUringEngine uring = uringEngine(clock::get, true, type -> true)) {
            OpenFile file = await(uring.open(path, true)); // not cached: opened on a pool thread
            try {
                assertThat(PageCache.isResident(file.fd(), 0, 9000)).as("read while opened").isTrue();
                assertThat(read(uring, file, 0, 9000)).isEqualTo(content);
                assertThat(uring.stats().residentReads()).isEqualTo(1);
                assertThat(uring.stats().asyncReads()).isZero();
            } finally {
                file.release();
            }
        }
    }

    @Test
    void aColdSmallFileWhoseReadsCompleteInTheRingIsNotReadWhenOpened() throws Exception {
        byte[] content = bytes(9000, 5);
        Path path = Files.write(dir.resolve("thumb"), content);
        dropFromPageCache(path);
        try (IoUringEngine uring = uringEngine(clock::get, true, type -> false)) {
            OpenFile file = await(uring.open(path, true));
            try {
                assertThat(PageCache.isResident(file.fd(), 0, 9000)).as("dropped").isFalse();
                assertThat(read(uring, file, 0, 9000)).isEqualTo(content);
                assertThat(uring.stats().asyncReads()).isEqualTo(1);
            } finally {
                file.release();
            }
        }
    }

    @Test
    void onlyFileSystemsWithoutAsyncBufferedReadsNeedWorkers() {
        assertThat(FileSystems.readsAsynchronously(FileSystems.EXT4)).isTrue();
        assertThat(FileSystems.readsAsynchronously(FileSystems.XFS)).isTrue();
        assertThat(FileSystems.readsAsynchronously(FileSystems.BTRFS)).isTrue();
        assertThat(FileSystems.readsAsynchronously(FileSystems.TMPFS)).isTrue();
        assertThat(FileSystems.readsAsynchronously(FileSystems.FUSE)).isFalse();
        assertThat(FileSystems.readsAsynchronously(FileSystems.NFS)).isFalse();
        assertThat(FileSystems.readsAsynchronously(FileSystems.OVERLAYFS)).isFalse();
    }
}
