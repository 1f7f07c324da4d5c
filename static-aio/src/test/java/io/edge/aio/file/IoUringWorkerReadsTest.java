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
import java.util.concurrent.CountDownLatch;
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

    @Override
    FileEngine newEngine(Ticker ticker) throws Exception {
        LongPredicate always = type -> {
            synchronized (asked) {
                asked.add(type);
            }
            return true;
        };
        return uringEngine(ticker, false, always);
    }

    @Override
    boolean sendsCachedRangesFromTheFile() {
        return false;
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
            assertThat(engine.stats().residentReads()).as("each file's first read: the bytes read at open").isEqualTo(2);
            assertThat(engine.stats().asyncReads()).isEqualTo(1);
        } finally {
            first.release();
            second.release();
        }
    }

    @Test
    void aStalledFileSystemNeverHoldsUpTheEventLoopAndItsReadsGoThroughThePoolMeanwhile() throws Exception {
        // The first question (at the open) fails, so the device is asked again by the read; the second hangs,
        // as fstatfs does on a FUSE or NFS server that does not answer.
        CountDownLatch answer = new CountDownLatch(1);
        List<Thread> askedOn = new ArrayList<>();
        LongPredicate stalling = type -> {
            synchronized (askedOn) {
                askedOn.add(Thread.currentThread());
                if (askedOn.size() == 1) {
                    throw new IllegalStateException("no answer");
                }
            }
            try {
                answer.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true;
        };
        Path path = Files.write(dir.resolve("c"), bytes(7000, 3));
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        IoUringEngine uring = uringEngine(clock::get, false, stalling);
        try {
            // opened although the question failed; no body expected, so not read at open: the reads below are
            OpenFile file = await(uring.open(path, true, false));
            try {
                IoEventLoop loop = group.next();
                Thread loopThread = loop.submit(Thread::currentThread).get();
                CompletableFuture<ByteBuf> whileStalled = loop.submit(() -> uring.read(file, 0, 7000, ALLOC)
                        .toCompletableFuture()).get(30, TimeUnit.SECONDS);
                assertThat(bytesOf(whileStalled)).isEqualTo(bytes(7000, 3));
                assertThat(answer.getCount()).as("still unanswered").isOne();
                assertThat(uring.stats().fallbackReads()).as("read on the pool").isEqualTo(1);
                assertThat(uring.stats().asyncReads()).isZero();
                answer.countDown();
                assertThat(uring.viaWorker(file)).isTrue();
                CompletableFuture<ByteBuf> answered = loop.submit(() -> uring.read(file, 0, 7000, ALLOC)
                        .toCompletableFuture()).get(30, TimeUnit.SECONDS);
                assertThat(bytesOf(answered)).isEqualTo(bytes(7000, 3));
                assertThat(uring.stats().asyncReads()).as("through the ring once answered").isEqualTo(1);
                assertThat(askedOn).hasSize(2).doesNotContain(loopThread);
            } finally {
                file.release();
            }
        } finally {
            answer.countDown();
            OpenFileCache cache = uring.cache();
            uring.close(); // closes the ring on the loop before the loop goes
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            assertThat(cache.descriptorsInUse()).isZero();
        }
    }

    @Test
    void aColdSmallFileOpenedOnThePoolIsReadThereWhenItsReadsWouldGoToWorkers() throws Exception {
        FileEngineStats stats = coldReadThrough(true, file -> {
            assertThat(PageCache.isResident(file.fd(), 0, 9000)).as("read while opened").isTrue();
            assertThat(file.closer()).as("closed off the event loop").isSameAs(FileServerFiles.CLOSER);
        });
        assertThat(stats.residentReads()).isEqualTo(1);
        assertThat(stats.asyncReads()).isZero();
    }

    @Test
    void aFileWhoseReadsGoToWorkersIsNeverReadOnTheCallerAfterItsOpenersRead() throws Exception {
        requirePageCacheVisible();
        IoUringEngine uring = uringEngine(clock::get, true, type -> true);
        Path path = Files.write(dir.resolve("cached"), bytes(9000, 6));
        try (uring) {
            OpenFile file = await(uring.open(path, true));
            try {
                assertThat(read(uring, file, 0, 9000)).as("the bytes read at open").isEqualTo(bytes(9000, 6));
                assertThat(PageCache.isResident(file.fd(), 0, 9000)).isTrue();
                assertThat(read(uring, file, 0, 9000)).isEqualTo(bytes(9000, 6));
                assertThat(uring.stats().residentReads()).isEqualTo(1);
                assertThat(uring.stats().asyncReads()).as("resident, but a file server's: through a worker")
                        .isEqualTo(1);
            } finally {
                file.release();
            }
        }
        assertThat(uring.cache().descriptorsInUse()).isZero();
    }

    @Test
    void aLargeFileWhoseReadsGoToWorkersIsReadByAWorkerEvenFromThePageCacheNeverSentFromTheFile() throws Exception {
        requirePageCacheVisible();
        byte[] content = bytes(3 * 65536, 8);
        Path path = Files.write(dir.resolve("large"), content);
        for (boolean viaWorkers : new boolean[] {true, false}) {
            IoUringEngine uring = uringEngine(clock::get, true, type -> viaWorkers);
            assertCachedRangeOfLargeFile(uring, uring.cache(), path, content, viaWorkers);
        }
    }

    @Test
    void aColdSmallFileWhoseReadsCompleteInTheRingIsNotReadWhenOpened() throws Exception {
        FileEngineStats stats = coldReadThrough(false, file -> {
            assertThat(PageCache.isResident(file.fd(), 0, 9000)).as("dropped").isFalse();
            assertThat(file.closer()).as("closed where released").isNull();
        });
        // Read once, by the ring or, where this host-cached disk finished the read the no-wait probe started before
        // the probe looked again, on the caller; never on the pool (the file system was settled at the open).
        assertThat(stats.residentReads() + stats.asyncReads()).as("read once, not at open").isEqualTo(1);
        assertThat(stats.fallbackReads()).as("read on the pool").isZero();
    }

    @Test
    void aFileOpenedForItsMetadataOnlyIsNotReadAheadEvenWhereItsReadsWouldGoToWorkers() throws Exception {
        IoUringEngine uring = uringEngine(clock::get, true, type -> true);
        try (uring) {
            assertNotReadAheadWithoutABody(uring, Files.write(dir.resolve("head-only"), bytes(9000, 5)));
        }
        assertThat(uring.cache().descriptorsInUse()).isZero();
    }

    /** Checks on a file just opened. */
    private interface OpenedCheck {
        void check(OpenFile file) throws Exception;
    }

    /**
     * Opens a 9000-byte file out of the page cache (on a pool thread: not cached yet) through an engine whose
     * file-system question answers {@code viaWorkers}, checks it with {@code opened}, reads it whole and
     * returns the engine's statistics.
     */
    private FileEngineStats coldReadThrough(boolean viaWorkers, OpenedCheck opened) throws Exception {
        requirePageCacheVisible();
        byte[] content = bytes(9000, 4);
        Path path = Files.write(dir.resolve("thumb"), content);
        dropFromPageCache(path);
        IoUringEngine uring = uringEngine(clock::get, true, type -> viaWorkers);
        FileEngineStats stats;
        try (uring) {
            OpenFile file = await(uring.open(path, true));
            try {
                opened.check(file);
                assertThat(read(uring, file, 0, 9000)).isEqualTo(content);
                stats = uring.stats();
            } finally {
                file.release();
            }
        }
        assertThat(uring.cache().descriptorsInUse()).isZero();
        return stats;
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
