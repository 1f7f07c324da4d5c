package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The contract through io_uring as configured; then what only a ring on an epoll loop does. */
class IoUringEngineTest extends IoUringContract {

    @Override
    FileEngine newEngine(Ticker ticker) throws Exception {
        return uringEngine(ticker, false, IoUringEngine.BLOCKING_FILE_SYSTEMS);
    }

    @Test
    void readsFromAnEpollLoopCompleteOnThatLoopThroughItsOwnRing() throws Exception {
        IoUringEngine uring = (IoUringEngine) engine;
        int files = 20;
        List<byte[]> contents = new ArrayList<>();
        List<OpenFile> open = new ArrayList<>();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            for (int i = 0; i < files; i++) {
                contents.add(bytes(7000 + i, i));
                open.add(open(Files.write(dir.resolve("l" + i), contents.get(i))));
            }
            uring.viaWorker(open.get(0)); // the device is known, so every read goes to the ring at once
            IoEventLoop loop = group.next();
            List<CompletableFuture<ByteBuf>> reads = new ArrayList<>();
            List<Boolean> completedOnLoop = new ArrayList<>();
            CountDownLatch allDone = new CountDownLatch(files);
            loop.submit(() -> {
                for (int i = 0; i < files; i++) {
                    CompletableFuture<ByteBuf> read = uring.read(open.get(i), 0, contents.get(i).length, ALLOC)
                            .toCompletableFuture();
                    read.whenComplete((b, e) -> {
                        synchronized (completedOnLoop) {
                            completedOnLoop.add(loop.inEventLoop());
                        }
                        allDone.countDown();
                    });
                    reads.add(read);
                }
                assertThat(uring.inFlightReads() + uring.waitingReads()).isEqualTo(files);
            }).get(30, TimeUnit.SECONDS);
            // Not get(): a waiting get() may run the callbacks itself; the latch leaves that to the completer.
            assertThat(allDone.await(30, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < files; i++) {
                assertThat(bytesOf(reads.get(i))).isEqualTo(contents.get(i));
            }
            assertThat(completedOnLoop).hasSize(files).containsOnly(true);
            assertThat(uring.rings()).isEqualTo(1);
            assertThat(uring.inFlightReads()).isZero();
            assertThat(uring.waitingReads()).isZero();
            assertThat(uring.completedReads()).isEqualTo(files);
        } finally {
            open.forEach(OpenFile::release);
            engine.close(); // closes the ring on the loop before the loop goes
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void kernelWorkersAreSharedOutOverTheLoopsOfTheCallersGroup() throws Exception {
        // threads / loops per ring: server.io-threads, not the core count, sets how many rings share them
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(3, EpollIoHandler.newFactory());
        try {
            assertThat(IoUringEngine.workersPerRing(4, group.next())).isEqualTo(2);
            assertThat(IoUringEngine.workersPerRing(16, group.next())).isEqualTo(6);
            assertThat(IoUringEngine.workersPerRing(2, group.next())).isEqualTo(1);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void readsGoToKernelWorkersOnlyFromFileSystemsWithoutAsyncBufferedReads() throws Exception {
        OpenFile file = open(Files.writeString(dir.resolve("here"), "here"));
        try {
            long type = Syscalls.fileSystemType(file.fd());
            assertThat(type).isPositive();
            assertThat(((IoUringEngine) engine).viaWorker(file)).isEqualTo(!FileSystems.readsAsynchronously(type));
            assertThat(read(file, 0, 4)).isEqualTo("here".getBytes(StandardCharsets.US_ASCII));
        } finally {
            file.release();
        }
    }

    @Test
    void aFileFromACacheWithoutRawDescriptorsIsRefused() throws Exception {
        Path path = Files.writeString(dir.resolve("plain"), "plain");
        // Opened by the JDK (as where the natives are missing): a channel and no raw descriptor.
        try (OpenFileCache plain = new OpenFileCache(4, REVALIDATE, 8, clock::get,
                (p, follow) -> java.nio.channels.FileChannel.open(p))) {
            OpenFile file = plain.acquire(path, true);
            try {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.read(file, 0, 5, ALLOC))
                        .isInstanceOf(IllegalStateException.class);
                assertThat(file.refCnt()).isEqualTo(2);
            } finally {
                file.release();
            }
        }
    }
}
