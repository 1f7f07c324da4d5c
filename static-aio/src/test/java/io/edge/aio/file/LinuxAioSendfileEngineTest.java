package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.StaticIoSettings;
import io.edge.aio.linux.PageCache;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.FileRegion;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract through O_DIRECT kernel AIO into a {@code /dev/shm} slab, on files under {@code /var/tmp}
 * (a disk file system that takes O_DIRECT: the tests fail, rather than pass through the thread pool, where
 * it does not); then what only this engine has: aligned covers, slot reuse, the queue depth, a full slab and
 * the fallbacks.
 */
class LinuxAioSendfileEngineTest extends FileEngineContract {

    /** Slots beyond the queue depth, so that held regions and waiting reads both happen. */
    @Override
    FileEngine newEngine(Ticker ticker) {
        return engine(ticker, 4, 8, 1 << 20, LinuxAioSendfileEngine.SLAB_DIR);
    }

    static LinuxAioSendfileEngine engine(Ticker ticker, int queueDepth, int slots, long chunk, Path slabDir) {
        return new LinuxAioSendfileEngine(OpenFileCache.withDirectDescriptors(16, REVALIDATE, 32, ticker), 2,
                queueDepth, slots, chunk, 16 * 1024, Duration.ofSeconds(30), slabDir, ReadBuffers.CALLERS);
    }

    /**
     * A file server's files: descriptors closed off the event loop, small files read when opened, and every other read
     * by the pool, never by io_submit on the loop (FUSE asks its server for the file's attributes inside it).
     */
    @Test
    void aFileServersDescriptorsAreClosedOffTheEventLoopAndItsSmallFilesReadWhenOpened() throws Exception {
        requirePageCacheVisible();
        Path path = written(dir.resolve("on-a-server"), bytes(9000, 9));
        dropFromPageCache(path);
        LinuxAioSendfileEngine served = new LinuxAioSendfileEngine(
                OpenFileCache.withDirectDescriptors(16, REVALIDATE, 32, clock::get), 2, 4, 8, 1 << 20, 16 * 1024,
                Duration.ofSeconds(30), LinuxAioSendfileEngine.SLAB_DIR, ReadBuffers.CALLERS, type -> true);
        try (served) {
            OpenFile file = await(served.open(path, true));
            try {
                assertThat(file.closer()).as("closed off the event loop").isSameAs(FileServerFiles.CLOSER);
                assertThat(read(served, file, 0, 9000)).isEqualTo(bytes(9000, 9));
                assertThat(served.stats().residentReads()).as("the bytes read at open").isEqualTo(1);
                assertThat(served.stats().asyncReads()).isZero();
                dropFromPageCache(path);
                assertThat(read(served, file, 0, 9000)).isEqualTo(bytes(9000, 9));
                assertThat(served.threadReads()).as("then by the pool").isEqualTo(1);
                assertThat(drain(await(served.loadRegion(file, 100, 5000)))).isEqualTo(slice(bytes(9000, 9), 100, 5000));
                assertThat(served.completedReads()).as("never by kernel AIO").isZero();
            } finally {
                file.release();
            }
        }
        assertThat(served.cache().descriptorsInUse()).as("closed by the time the engine is").isZero();
    }

    @Override
    OpenFileCache cacheOf(FileEngine engine) {
        return ((LinuxAioSendfileEngine) engine).cache();
    }

    @Override
    String configName() {
        return "linux-aio-sendfile";
    }

    private LinuxAioSendfileEngine aio() {
        return (LinuxAioSendfileEngine) engine;
    }

    @BeforeEach
    void filesOnADiskFileSystem() throws IOException {
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "edge-aio-test-");
    }

    @AfterEach
    void everyReadWentThroughKernelAio() throws IOException {
        try {
            assertThat(aio().unavailabilityCause()).isNull();
            assertThat(aio().threadReads()).as("reads that fell back to the thread pool").isZero();
            assertThat(aio().waitingReads()).isZero();
            assertThat(aio().inFlightReads()).isZero();
        } finally {
            deleteTree(dir);
        }
    }

    @Test
    void unalignedOffsetsAndLengthsReadTheirAlignedCoverAndHandOutOnlyTheRange() throws Exception {
        int size = 5 * 4096 + 777;
        byte[] content = bytes(size, 77);
        Path path = written(dir.resolve("unaligned"), content);
        try (LinuxAioSendfileEngine small = engine(clock::get, 2, 3, 8192, LinuxAioSendfileEngine.SLAB_DIR)) {
            OpenFile file = await(small.open(path, true));
            try {
                assertThat(file.isDirect()).isTrue();
                long[][] ranges = {{1, 1}, {4095, 1}, {4095, 2}, {4097, 8190}, {123, 8192}, {size - 777, 777},
                        {size - 5, 5}, {4096 * 3 - 1, 4098}};
                for (long[] r : ranges) {
                    assertThat(drain(await(small.loadRegion(file, r[0], r[1])))).as("region %d+%d", r[0], r[1])
                            .isEqualTo(slice(content, r[0], (int) r[1]));
                    assertThat(read(small, file, r[0], (int) r[1])).as("read %d+%d", r[0], r[1])
                            .isEqualTo(slice(content, r[0], (int) r[1]));
                }
                // Longer than a slot from an unaligned start: several pieces, each cover fitting its slot.
                assertThat(read(small, file, 5, size - 5)).isEqualTo(slice(content, 5, size - 5));
                assertThat(small.threadReads()).isZero();
                assertThat(small.completedReads()).isGreaterThanOrEqualTo(2L * ranges.length + 3);
            } finally {
                file.release();
            }
        }
    }

    /**
     * A kernel read that returns fewer bytes than its piece needs, ending on a 512-byte boundary (the file was
     * truncated to 5120 bytes after it was opened), on a page (8192) or on neither (5000: the read on from there is
     * refused for its alignment, which says the file ended, not that O_DIRECT is refused), fails the read or load with
     * an {@link EOFException}: never a region or buffer with fewer bytes, or zeros from the slot, for the full length.
     */
    @Test
    void aShortKernelReadFailsTheReadOrLoadAndNeverHandsOutFewerBytes() throws Exception {
        for (int truncatedTo : new int[] {5120, 8192, 5000}) {
            Path path = written(dir.resolve("short-" + truncatedTo), bytes(16384, truncatedTo));
            OpenFile file = open(path);
            try {
                assertThat(file.isDirect()).isTrue();
                try (FileChannel truncate = FileChannel.open(path, StandardOpenOption.WRITE)) {
                    truncate.truncate(truncatedTo);
                    truncate.force(true); // its last page, zeroed past the new end, written back (see written())
                }
                assertThatThrownBy(() -> await(engine.loadRegion(file, 0, 16384))).as("load, %d", truncatedTo)
                        .isInstanceOf(EOFException.class);
                assertThatThrownBy(() -> await(engine.read(file, 4096, 12288, ALLOC))).as("read, %d", truncatedTo)
                        .isInstanceOf(EOFException.class);
                assertThat(drain(await(engine.loadRegion(file, 0, truncatedTo)))).as("what is left, %d", truncatedTo)
                        .isEqualTo(slice(bytes(16384, truncatedTo), 0, truncatedTo));
            } finally {
                file.release();
            }
        }
    }

    /**
     * A kernel read may end before the range does while the file goes on: NFS or a FUSE server answering short, or
     * a read of a file system on 512-byte sectors ending on one. The piece reads on from there, in the same slot,
     * until it has its range or a read returns nothing (the end of the file: then it fails as above); it does not
     * take the first short read for the end of the file.
     */
    @Test
    void aShortKernelReadBeforeTheEndOfItsRangeReadsOnFromWhereItEnded() throws Exception {
        int size = 4 * 4096 + 777;
        OpenFile file = open(written(dir.resolve("read-on"), bytes(size, 4)));
        try {
            RecordedPiece whole = new RecordedPiece(file); // bytes [0, size): a cover of 5 pages
            for (int done : new int[] {512, 2560, 4096, 8192 + 1024, 4 * 4096, size - 1}) {
                whole.done = done;
                assertThat(whole.readsOn()).as("%d of %d bytes", done, size).isTrue();
            }
            whole.done = size;
            assertThat(whole.readsOn()).as("the range whole, up to the end of the file").isFalse();
            RecordedPiece head = new RecordedPiece(file, 100, 5000); // a cover of 2 pages, 8192 bytes
            head.done = 5120;
            assertThat(head.readsOn()).as("short of the cover, but past the range's end").isFalse();
            head.done = 4096 + 512;
            assertThat(head.readsOn()).as("short of the range's end").isTrue();
        } finally {
            file.release();
        }
    }

    /**
     * A region is sent with {@code sendfile}, which leaves references to the slab's pages in the socket. The
     * receiver reads only after the one slot was reused many times: without the hole punched before each
     * reuse, it would receive the last read's bytes instead of the first file's.
     */
    @Test
    void aReusedSlotNeverChangesBytesASocketWasAlreadyGiven() throws Exception {
        int size = 32 * 1024;
        byte[] first = bytes(size, 1);
        List<Path> others = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            others.add(written(dir.resolve("other" + i), bytes(size, 100 + i)));
        }
        Path firstPath = written(dir.resolve("first"), first);
        try (LinuxAioSendfileEngine oneSlot = engine(clock::get, 1, 1, 64 * 1024, LinuxAioSendfileEngine.SLAB_DIR);
                ServerSocketChannel server = ServerSocketChannel.open()) {
            server.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            try (SocketChannel sender = SocketChannel.open()) {
                sender.setOption(StandardSocketOptions.SO_SNDBUF, 1 << 20);
                sender.connect(server.getLocalAddress());
                try (SocketChannel receiver = server.accept()) {
                    OpenFile file = await(oneSlot.open(firstPath, true));
                    FileRegion region = (FileRegion) await(oneSlot.loadRegion(file, 0, size));
                    file.release();
                    while (region.transferred() < region.count()) {
                        assertThat(region.transferTo(sender, region.transferred())).isPositive(); // sendfile(2)
                    }
                    region.release(); // the send finished: the slot goes back, punched

                    for (int round = 0; round < 3; round++) {
                        for (int i = 0; i < others.size(); i++) {
                            OpenFile other = await(oneSlot.open(others.get(i), true));
                            try {
                                assertThat(read(oneSlot, other, 0, size)).isEqualTo(bytes(size, 100 + i));
                                assertThat(drain(await(oneSlot.loadRegion(other, 0, size))))
                                        .isEqualTo(bytes(size, 100 + i));
                            } finally {
                                other.release();
                            }
                        }
                    }
                    // One slot: every read after the first found it punched (the last release may still be on its way).
                    assertThat(oneSlot.holesPunched()).isGreaterThanOrEqualTo(3L * 2 * others.size());

                    ByteBuffer received = ByteBuffer.allocate(size);
                    while (received.hasRemaining()) {
                        assertThat(receiver.read(received)).isNotNegative();
                    }
                    assertThat(differingBytes(received.array(), first))
                            .as("bytes changed after the socket was given them and the slot was reused").isZero();
                }
            }
            assertThat(oneSlot.threadReads()).isZero();
        }
    }

    private static int differingBytes(byte[] a, byte[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] == b[i] ? 0 : 1;
        }
        return n;
    }

    @Test
    void noMoreThanQueueDepthReadsAreInFlightPerLoopAndTheRestWait() throws Exception {
        int reads = 20;
        List<byte[]> contents = new ArrayList<>();
        List<OpenFile> open = new ArrayList<>();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (LinuxAioSendfileEngine depthTwo = engine(clock::get, 2, 4, 1 << 20, LinuxAioSendfileEngine.SLAB_DIR)) {
            for (int i = 0; i < reads; i++) {
                contents.add(bytes(5000 + 31 * i, i));
                open.add(await(depthTwo.open(written(dir.resolve("q" + i), contents.get(i)), true)));
            }
            IoEventLoop loop = group.next();
            List<CompletableFuture<ByteBuf>> pending = new ArrayList<>();
            // On the loop, no completion can be reaped before this task ends: what it sees is exact.
            loop.submit(() -> {
                for (int i = 0; i < reads; i++) {
                    pending.add(depthTwo.read(open.get(i), 0, contents.get(i).length, ALLOC).toCompletableFuture());
                }
                assertThat(depthTwo.inFlightReads()).isEqualTo(2);
                assertThat(depthTwo.waitingReads()).isEqualTo(reads - 2);
            }).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < reads; i++) {
                assertThat(bytesOf(pending.get(i))).isEqualTo(contents.get(i));
            }
            assertThat(depthTwo.highestInFlightReads()).isEqualTo(2);
            assertThat(depthTwo.completedReads()).isEqualTo(reads);
            assertThat(depthTwo.contexts()).isEqualTo(1);
            assertThat(depthTwo.waitingReads()).isZero();
        } finally {
            open.forEach(OpenFile::release);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A read or region load that finds every slot held goes to the thread pool, and there a first one is refused when
     * the pool's queue is full (the client gets 503), while one for a response under way waits its turn: refused, it
     * cut a download short in the middle (under queue-depth 2, slow clients holding the slots). One whose caller
     * cancels it (its client left) is skipped by the pool, not read for nobody.
     */
    @Test
    void aReadFallingBackToAFullPoolIsRefusedUnlessItsResponseIsUnderWay() throws Exception {
        requirePageCacheVisible();
        byte[] content = bytes(4 * 4096, 6);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        LinuxAioSendfileEngine twoSlots = engine(clock::get, 2, 2, 4096, LinuxAioSendfileEngine.SLAB_DIR);
        CountDownLatch hold = new CountDownLatch(1);
        List<CompletionStage<ByteBuf>> busy = new ArrayList<>();
        try {
            Path path = written(dir.resolve("under-way"), content);
            dropFromPageCache(path); // a region of it is read first, not sent from the file
            OpenFile file = await(twoSlots.open(path, true));
            IoEventLoop loop = group.next();
            try {
                Object first = await(onLoop(loop, () -> twoSlots.loadRegion(file, 0, 4096)));
                Object second = await(onLoop(loop, () -> twoSlots.loadRegion(file, 4096, 4096)));
                assertThat(twoSlots.slotsHeld()).isEqualTo(2);
                // Both pool threads held by reads that wait for the test, and the queue behind them full.
                ThreadPoolEngine pool = twoSlots.blocking;
                for (int i = 0; i < 2; i++) {
                    CountDownLatch running = new CountDownLatch(1);
                    busy.add(pool.read(file, 0, 1, new ThreadPoolEngineTest.BlockingAllocator(running, hold)));
                    running.await();
                }
                for (int i = 0; i < pool.maxPending(); i++) {
                    busy.add(pool.read(file, 0, 1, ALLOC));
                }
                CompletionStage<ByteBuf> firstRead = onLoop(loop, () -> twoSlots.read(file, 8192, 4096, ALLOC));
                assertThatThrownBy(() -> await(firstRead)).isInstanceOf(ReadQueueFullException.class);
                CompletionStage<Object> firstLoad = onLoop(loop, () -> twoSlots.loadRegion(file, 12288, 4096));
                assertThatThrownBy(() -> await(firstLoad)).isInstanceOf(ReadQueueFullException.class);
                CompletionStage<ByteBuf> underWay = onLoop(loop,
                        () -> twoSlots.read(file, 8192, 4096, ALLOC, FileEngine.WhenFull.WAIT));
                CompletionStage<Object> underWayLoad = onLoop(loop,
                        () -> twoSlots.loadRegion(file, 12288, 4096, FileEngine.WhenFull.WAIT));
                assertThat(pool.pendingOperations()).isEqualTo(2 + pool.maxPending() + 2);
                CompletionStage<ByteBuf> abandoned = onLoop(loop,
                        () -> twoSlots.read(file, 0, 4096, ALLOC, FileEngine.WhenFull.WAIT));
                assertThat(abandoned.toCompletableFuture().cancel(false)).isTrue();
                hold.countDown();
                assertThat(drain(await(underWay))).isEqualTo(slice(content, 8192, 4096));
                assertThat(drain(await(underWayLoad))).isEqualTo(slice(content, 12288, 4096));
                assertThat(twoSlots.slabFullReads()).isEqualTo(5);
                drain(first);
                drain(second);
                for (CompletionStage<ByteBuf> read : busy) {
                    await(read).release();
                }
                busy.clear();
                twoSlots.close(); // waits for what the pool has queued
                assertThat(pool.completedReads()).as("the held, the queued, the two under way; not the abandoned one")
                        .isEqualTo(2 + pool.maxPending() + 2);
            } finally {
                hold.countDown();
                for (CompletionStage<ByteBuf> read : busy) {
                    await(read).release();
                }
                file.release();
            }
        } finally {
            twoSlots.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aReadThatFindsEverySlotHeldByRegionsNotYetWrittenGoesToTheThreadPoolInsteadOfWaiting() throws Exception {
        byte[] content = bytes(4 * 4096, 5);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        LinuxAioSendfileEngine twoSlots = engine(clock::get, 2, 2, 4096, LinuxAioSendfileEngine.SLAB_DIR);
        try {
            OpenFile file = await(twoSlots.open(written(dir.resolve("held"), content), true));
            IoEventLoop loop = group.next();
            try {
                // Two regions nobody writes, as to clients that stopped reading: they hold both slots.
                Object first = await(onLoop(loop, () -> twoSlots.loadRegion(file, 0, 4096)));
                Object second = await(onLoop(loop, () -> twoSlots.loadRegion(file, 4096, 4096)));
                assertThat(twoSlots.slotsHeld()).isEqualTo(2);
                Object third = await(onLoop(loop, () -> twoSlots.loadRegion(file, 8192, 4096)));
                ByteBuf copy = await(onLoop(loop, () -> twoSlots.read(file, 12288, 4096, ALLOC)));
                ByteBuf twoParts = await(onLoop(loop, () -> twoSlots.read(file, 4096, 8192, ALLOC)));
                assertThat(drain(twoParts)).as("a read of two slots' worth").isEqualTo(slice(content, 4096, 8192));
                assertThat(twoSlots.slabFullReads()).isEqualTo(3);
                assertThat(twoSlots.slotsHeld()).as("the slab's slots are still the held regions'").isEqualTo(2);
                assertThat(drain(third)).isEqualTo(slice(content, 8192, 4096));
                assertThat(drain(copy)).isEqualTo(slice(content, 12288, 4096));
                assertThat(drain(first)).isEqualTo(slice(content, 0, 4096)); // written: its slot goes back
                // One slot free: the first part of three gets it, the second finds none, the third never starts.
                ByteBuf threeParts = await(onLoop(loop, () -> twoSlots.read(file, 0, 12288, ALLOC)));
                assertThat(drain(threeParts)).isEqualTo(slice(content, 0, 12288));
                assertThat(twoSlots.slabFullReads()).isEqualTo(4);
                assertThat(drain(second)).isEqualTo(slice(content, 4096, 4096));
                // Each counted once, where it went: the asynchronous count of those handed to the pool taken back.
                FileEngineStats stats = twoSlots.stats();
                assertThat(stats.asyncReads()).as("read into the slab").isEqualTo(2);
                assertThat(stats.fallbackReads() + stats.sendfileRegions()).as("read or sent by the pool")
                        .isEqualTo(4);
                assertThat(stats.readLatencyMicros().getTotalCount()).as("latencies, one per read")
                        .isEqualTo(stats.asyncReads() + stats.fallbackReads());
                assertThat(twoSlots.inFlightReads()).isZero();
            } finally {
                file.release();
            }
            twoSlots.close();
            assertThat(twoSlots.slotsHeld()).isZero();
        } finally {
            twoSlots.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A range with a page written but not yet written back (a thumbnail rewritten in place, a file being appended to):
     * an O_DIRECT read would first write the dirty page back, inside {@code io_submit}, with the event loop waiting
     * for the disk. Submitted with {@code RWF_NOWAIT}, the kernel declines at once (EAGAIN), and the read or load goes
     * to the thread pool, whose buffered read has the new bytes; once written back, the file is read by kernel AIO
     * again.
     */
    @Test
    void aRangeWithPagesNotYetWrittenBackIsReadByThePoolNotWrittenBackOnTheLoop() throws Exception {
        requirePageCacheVisible();
        byte[] content = bytes(16 * 4096, 12);
        Path path = written(dir.resolve("rewritten"), content);
        dropFromPageCache(path);
        byte[] page = bytes(4096, 13);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(page), 4 * 4096); // dirty; written back some 30 s from now
        }
        System.arraycopy(page, 0, content, 4 * 4096, 4096);
        try (LinuxAioSendfileEngine own = engine(clock::get, 4, 8, 1 << 20, LinuxAioSendfileEngine.SLAB_DIR)) {
            OpenFile file = await(own.open(path, true));
            try {
                assertThat(file.isDirect()).isTrue();
                assertThat(read(own, file, 0, content.length)).isEqualTo(content);
                assertThat(own.wouldWaitReads()).as("declined by the kernel").isEqualTo(1);
                assertThat(own.threadReads()).as("read by the pool").isEqualTo(1);
                assertThat(drain(await(own.loadRegion(file, 2 * 4096, 8 * 4096))))
                        .isEqualTo(slice(content, 2 * 4096, 8 * 4096));
                assertThat(own.wouldWaitReads()).as("a load declined too").isEqualTo(2);
                assertThat(own.completedReads()).as("none by kernel AIO").isZero();
                dropFromPageCache(path); // written back first
                assertThat(read(own, file, 0, content.length)).isEqualTo(content);
                assertThat(own.completedReads()).as("by kernel AIO, once nothing waits to be written").isEqualTo(1);
                assertThat(own.wouldWaitReads()).isEqualTo(2);
            } finally {
                file.release();
            }
        }
    }

    /**
     * A file system that cannot say a read would wait refuses RWF_NOWAIT (tmpfs, which takes O_DIRECT since Linux 6.6:
     * EOPNOTSUPP from io_submit): the read is submitted again without the flag, in the same submission, and the file's
     * later reads go without it from the start.
     */
    @Test
    void aFileSystemRefusingNoWaitHasItsReadsSubmittedWithoutIt() throws Exception {
        Path shm = Files.createTempDirectory(LinuxAioSendfileEngine.SLAB_DIR, "edge-aio-test-");
        try (LinuxAioSendfileEngine own = engine(clock::get, 4, 8, 1 << 20, LinuxAioSendfileEngine.SLAB_DIR)) {
            byte[] content = bytes(3 * 4096 + 100, 14);
            OpenFile file = await(own.open(written(shm.resolve("in-memory"), content), true));
            try {
                assertThat(file.isDirect()).as("tmpfs takes O_DIRECT").isTrue();
                assertThat(file.noWaitRefused()).isFalse();
                assertThat(read(own, file, 0, content.length)).isEqualTo(content);
                assertThat(file.noWaitRefused()).as("refused, and remembered").isTrue();
                assertThat(drain(await(own.loadRegion(file, 100, 8192)))).isEqualTo(slice(content, 100, 8192));
                assertThat(own.completedReads()).as("both by kernel AIO").isEqualTo(2);
                assertThat(own.threadReads()).isZero();
                assertThat(own.wouldWaitReads()).isZero();
            } finally {
                file.release();
            }
        } finally {
            deleteTree(shm);
        }
    }

    @Test
    void aPieceWhoseReadTimedOutWhileTheKernelHadItIsNotCountedCompletedWhenItCompletesLater() throws Exception {
        Path path = written(dir.resolve("late"), bytes(6000, 8));
        LinuxAioSendfileEngine.Stats stats = new LinuxAioSendfileEngine.Stats();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (OpenFileCache cache = OpenFileCache.withDirectDescriptors(4, REVALIDATE, 8, clock::get)) {
            OpenFile file = cache.acquire(path, true);
            RecordedPiece piece = new RecordedPiece(file);
            IoEventLoop loop = group.next();
            try {
                LoopAio context = loop.submit(() -> {
                    LoopAio own = LoopAio.create(loop, 1, 1, LoopAio.slotSize(1 << 20),
                            LinuxAioSendfileEngine.SLAB_DIR, stats);
                    own.submit(piece);
                    assertThat(stats.inFlight.get()).isEqualTo(1);
                    // Its read times out before the kernel gets it, which is when this task ends.
                    piece.wanted = false;
                    own.closeWhenIdle(); // closes once the late completion gave the slot back
                    return own;
                }).get(30, TimeUnit.SECONDS);
                context.closeFuture().get(30, TimeUnit.SECONDS);
                // Told after the slot went back, which closed the context: on the loop, once that is done.
                assertThat(loop.submit(() -> piece.failure).get(30, TimeUnit.SECONDS)).as("told it was abandoned")
                        .isInstanceOf(IOException.class);
                assertThat(stats.completed.get()).as("completed reads").isZero();
                assertThat(stats.slotsHeld.get()).isZero();
            } finally {
                file.release();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A piece, read into a slot of a context of its own on a loop of its own, is with the kernel when the loop closes
     * its handles (it shuts down; Netty then calls {@code loopClosed}): its read is failed, and its slot and in-flight
     * count given back, rather than left to wait for a completion that no loop will ever reap.
     */
    @Test
    void aPieceInFlightWhenItsLoopClosesIsFailedAndGivesBackItsSlot() throws Exception {
        Path path = written(dir.resolve("cut-off"), bytes(6000, 9));
        LinuxAioSendfileEngine.Stats stats = new LinuxAioSendfileEngine.Stats();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (OpenFileCache cache = OpenFileCache.withDirectDescriptors(4, REVALIDATE, 8, clock::get)) {
            OpenFile file = cache.acquire(path, true);
            RecordedPiece piece = new RecordedPiece(file);
            IoEventLoop loop = group.next();
            try {
                LoopAio context = loop.submit(() -> {
                    LoopAio own = LoopAio.create(loop, 1, 1, LoopAio.slotSize(1 << 20),
                            LinuxAioSendfileEngine.SLAB_DIR, stats);
                    own.submit(piece);
                    own.submitPrepared(); // with the kernel now; its completion can only be reaped after this task
                    own.loopClosed();
                    return own;
                }).get(30, TimeUnit.SECONDS);
                assertThat(context.closeFuture()).isDone();
                assertThat(piece.failure).as("told its read will not complete").isInstanceOf(IOException.class);
                assertThat(stats.inFlight.get()).as("in flight").isZero();
                assertThat(stats.slotsHeld.get()).as("slots held").isZero();
            } finally {
                file.release();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A region still held when its loop shut down (its slab went with the loop) and released after, as the writes of
     * channels closed by the shutdown are: its slot is no longer counted as held.
     */
    @Test
    void aRegionReleasedAfterItsLoopShutDownIsNoLongerCountedAsHoldingASlot() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (LinuxAioSendfileEngine own = engine(clock::get, 2, 2, 1 << 20, LinuxAioSendfileEngine.SLAB_DIR)) {
            OpenFile file = await(own.open(written(dir.resolve("held-past-its-loop"), bytes(6000, 3)), true));
            try {
                Object region = await(onLoop(group.next(), () -> own.loadRegion(file, 0, 6000)));
                assertThat(region).isInstanceOf(SlabRegion.class);
                assertThat(own.slotsHeld()).isEqualTo(1);
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
                ReferenceCountUtil.release(region);
                assertThat(own.slotsHeld()).isZero();
            } finally {
                file.release();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A piece that records how it ended; its caller may stop wanting it, as its stage times out. */
    private static final class RecordedPiece extends LoopAio.Piece {
        volatile boolean wanted = true;
        volatile Throwable failure;

        RecordedPiece(OpenFile file) {
            this(file, 0, file.size());
        }

        RecordedPiece(OpenFile file, long from, long to) {
            super(file, from, to);
        }

        @Override
        boolean wanted() {
            return wanted;
        }

        @Override
        void loaded(LoopAio context, int slot, int done) {
            context.release(slot);
            failure = new AssertionError("loaded");
        }

        @Override
        void failed(Throwable cause) {
            failure = cause;
        }

        @Override
        void notRead(LoopAio.Unread why) {
            failure = new AssertionError("not read: " + why);
        }
    }

    @Test
    void aReadHandedToThePoolIsTimedThereOnlyAndCountedOnce() throws Exception {
        Path path = written(dir.resolve("late"), bytes(6000, 8));
        Path slabDir = Files.createDirectory(dir.resolve("slabs"));
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        LinuxAioSendfileEngine slow = new LinuxAioSendfileEngine(
                OpenFileCache.withDirectDescriptors(16, REVALIDATE, 32, clock::get), 2, 4, 8, 1 << 20, 16 * 1024,
                Duration.ofMillis(1), slabDir, ReadBuffers.CALLERS);
        try {
            Files.delete(slabDir); // the read finds no context on its loop and goes to the pool
            OpenFile file = slow.cache().acquire(path, true); // not on the pool: an open there might time out too
            CountDownLatch hold = new CountDownLatch(1);
            // The pool's thread waits for its buffer until the test lets it go: the read times out first.
            ThreadPoolEngineTest.BlockingAllocator blocking =
                    new ThreadPoolEngineTest.BlockingAllocator(new CountDownLatch(1), hold);
            try {
                // On the loop, the read is handed to the pool (or found timed out) before onLoop returns.
                CompletionStage<ByteBuf> read = onLoop(group.next(), () -> slow.read(file, 0, 6000, blocking));
                assertThat(slow.contexts()).as("none on the read's loop").isZero();
                assertThatThrownBy(() -> await(read)).isInstanceOf(TimeoutException.class);
            } finally {
                hold.countDown();
                file.release();
            }
            slow.close(); // once the pool's thread let go of the late read
            assertThat(slow.stats().timedOutReads()).as("timed out by the engine or by its pool, not both").isEqualTo(1);
            assertThat(slow.stats().readLatencyMicros().getTotalCount()).as("latencies recorded").isZero();
            if (blocking.handedOut != null) {
                assertThat(blocking.handedOut.refCnt()).as("the late read's buffer, released by its thread").isZero();
            }
        } finally {
            slow.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Reads an engine handed off or did on the caller: what a range not in the page cache costs. */
    private static long readsOf(FileEngineStats stats) {
        return stats.asyncReads() + stats.fallbackReads();
    }

    /** What {@code start} returns, started on {@code loop}. */
    private static <T> CompletionStage<T> onLoop(IoEventLoop loop, Callable<CompletionStage<T>> start) throws Exception {
        return loop.submit(start).get(30, TimeUnit.SECONDS);
    }

    @Test
    void aFileWithoutAnODirectDescriptorThatIsNotInThePageCacheIsReadByThePoolNotSentFromTheLoop() throws Exception {
        requirePageCacheVisible();
        byte[] content = bytes(6000, 7);
        Path path = written(dir.resolve("plain-cold"), content);
        try (OpenFileCache plain = new OpenFileCache(4, REVALIDATE, 8, clock::get);
                LinuxAioSendfileEngine other = engine(clock::get, 2, 2, 1 << 20, LinuxAioSendfileEngine.SLAB_DIR)) {
            OpenFile file = plain.acquire(path, true);
            try {
                dropFromPageCache(path);
                FileEngineStats before = other.stats();
                Object loaded = await(other.loadRegion(file, 0, 6000));
                // a sendfile region of a cold file would make the writer wait for the disk: read first, then sent
                // from the page cache the read filled
                assertThat(readsOf(other.stats()) - readsOf(before)).as("reads").isEqualTo(1);
                assertThat(drain(loaded)).isEqualTo(content);
            } finally {
                file.release();
            }
        }
    }

    @Test
    void aFileWhoseFileSystemRefusesODirectIsReadByThePoolWhereItIsNotInThePageCacheAndSentWhereItIs()
            throws Exception {
        requirePageCacheVisible();
        byte[] content = bytes(6000, 5);
        Path path = written(dir.resolve("refused-cold"), content);
        // The file system answers the O_DIRECT reopen with EINVAL, as tmpfs did before Linux 6.6.
        try (LinuxAioSendfileEngine refusing = new LinuxAioSendfileEngine(
                OpenFileCache.withDirectDescriptors(16, REVALIDATE, 32, clock::get, fd -> -Syscalls.EINVAL), 2, 2, 2,
                1 << 20, 16 * 1024, Duration.ofSeconds(30), LinuxAioSendfileEngine.SLAB_DIR, ReadBuffers.CALLERS)) {
            OpenFile file = await(refusing.open(path, true));
            try {
                assertThat(file.isDirect()).isFalse();
                dropFromPageCache(path);
                FileEngineStats before = refusing.stats();
                Object cold = await(refusing.loadRegion(file, 0, 6000));
                // a sendfile region of a cold file would make the writer wait for the disk: read by the pool first
                assertThat(readsOf(refusing.stats()) - readsOf(before)).as("reads").isEqualTo(1);
                assertThat(drain(cold)).isEqualTo(content);
                Object warm = await(refusing.loadRegion(file, 0, 6000)); // the pool's read left the pages cached
                assertThat(warm).as("in the page cache: sent by sendfile from the file").isInstanceOf(FileRegion.class);
                assertThat(readsOf(refusing.stats()) - readsOf(before)).as("no second read").isEqualTo(1);
                assertThat(drain(warm)).isEqualTo(content);
            } finally {
                file.release();
            }
        }
    }

    @Test
    void aFileWithoutAnODirectDescriptorIsReadByTheThreadPool() throws Exception {
        byte[] content = bytes(6000, 6);
        Path path = written(dir.resolve("plain"), content);
        try (OpenFileCache plain = new OpenFileCache(4, REVALIDATE, 8, clock::get);
                LinuxAioSendfileEngine other = engine(clock::get, 2, 2, 1 << 20, LinuxAioSendfileEngine.SLAB_DIR)) {
            OpenFile file = plain.acquire(path, true);
            try {
                assertThat(file.isDirect()).isFalse();
                assertThat(read(other, file, 0, 6000)).isEqualTo(content);
                assertThat(drain(await(other.loadRegion(file, 10, 5000)))).isEqualTo(slice(content, 10, 5000));
                assertThat(other.threadReads()).isEqualTo(1);
                assertThat(other.completedReads()).isZero();
            } finally {
                file.release();
            }
        }
    }

    @Test
    void aFileSystemThatRefusesODirectGivesTheFileNoDirectDescriptor() throws Exception {
        // procfs answers O_DIRECT with EINVAL, as tmpfs did before Linux 6.6.
        OpenFile version = open(Path.of("/proc/version"));
        try {
            assertThat(version.isDirect()).isFalse();
        } finally {
            version.release();
        }
    }

    /**
     * Slots start on page boundaries and span whole pages, whatever the kernel's page size: a hole punched in tmpfs
     * zeroes the parts of pages at its ends in place, so a slot sharing a page with its neighbour (16 or 64 KiB pages,
     * arm64 kernels) would have bytes a socket still sends zeroed, and rewritten by the neighbour's next read (the
     * static-aio review: slots were 4 KiB-aligned only).
     */
    @ParameterizedTest
    @ValueSource(ints = {4096, 16384, 65536})
    void slotsSpanWholePagesOfAnyPageSize(int pageSize) {
        long slot = LoopAio.slotSize(1 << 20);
        long stride = LoopAio.slotStride(slot, pageSize);
        assertThat(stride % pageSize).as("a whole number of pages").isZero();
        assertThat(stride).as("the slot's bytes, and at most a page more").isBetween(slot, slot + pageSize - 1);
        assertThat(LoopAio.slotStride(LoopAio.slotSize(4096), pageSize)).isEqualTo(Math.max(pageSize, 8192));
    }

    @Test
    void theLargestChunkTheConfigurationAllowsStartsTheEngineAndOneByteMoreIsRefused() {
        long largest = StaticIoSettings.MAX_SENDFILE_CHUNK;
        assertThat(LoopAio.slotSize(largest)).as("its slot").isLessThanOrEqualTo(Integer.MAX_VALUE);
        try (LinuxAioSendfileEngine widest = engine(clock::get, 1, 1, largest, LinuxAioSendfileEngine.SLAB_DIR)) {
            assertThat(widest.unavailabilityCause()).isNull();
        }
        assertThatThrownBy(() -> engine(clock::get, 1, 1, largest + 1, LinuxAioSendfileEngine.SLAB_DIR))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sendfileChunk: 2147475457 (expected: <= 2147475456)");
    }

    @Test
    void whereNoSlabCanBeMadeEveryFileIsReadByTheThreadPool() throws Exception {
        Path path = written(dir.resolve("fallback"), bytes(9000, 9));
        Path noSlabDir = dir.resolve("no-such-dir");
        try (LinuxAioSendfileEngine noSlab = engine(clock::get, 2, 2, 1 << 20, noSlabDir)) {
            assertThat(noSlab.unavailabilityCause()).contains(noSlabDir.toString());
            readsByTheThreadPool(noSlab, path);
        }
    }

    @Test
    void whereTheSlabDirectoryTakesNoSlabEveryFileIsReadByTheThreadPoolFromTheStart() throws Exception {
        Path path = written(dir.resolve("fallback"), bytes(9000, 9));
        Path proc = Path.of("/proc"); // a directory where nobody, not even root, creates a file
        try (LinuxAioSendfileEngine noSlab = engine(clock::get, 2, 2, 1 << 20, proc)) {
            assertThat(noSlab.unavailabilityCause()).startsWith("no slab can be made in /proc");
            readsByTheThreadPool(noSlab, path);
        }
    }

    @Test
    void whereTheLoopsContextCannotBeSetUpTheReadGoesToTheThreadPool() throws Exception {
        Path path = written(dir.resolve("fallback"), bytes(9000, 9));
        Path slabDir = Files.createDirectory(dir.resolve("slabs"));
        try (LinuxAioSendfileEngine goneSlab = engine(clock::get, 2, 2, 1 << 20, slabDir)) {
            assertThat(goneSlab.unavailabilityCause()).isNull();
            Files.delete(slabDir); // found at start, gone when the first read sets up its loop's context
            readsByTheThreadPool(goneSlab, path);
        }
    }

    /**
     * A loop whose set-up fails (here its slab, as it would for EMFILE under a burst right after the start) reads
     * by the pool, the engine stays on for the loops that have a context, and the loop is tried again after the
     * wait, on a clock that moves only when told.
     */
    @Test
    void aLoopWhoseContextCouldNotBeSetUpReadsByThePoolUntilItIsTriedAgainAndTheOtherLoopsKeepKernelAio()
            throws Exception {
        byte[] content = bytes(9000, 5);
        Path path = written(dir.resolve("retried"), content);
        Path slabDir = Files.createDirectory(dir.resolve("slabs"));
        AtomicLong now = new AtomicLong();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        IoEventLoop first = group.next();
        IoEventLoop second = group.next();
        LinuxAioSendfileEngine retried = new LinuxAioSendfileEngine(
                OpenFileCache.withDirectDescriptors(16, REVALIDATE, 32, clock::get), 2, 2, 2, 1 << 20, 16 * 1024,
                Duration.ofSeconds(30), slabDir, ReadBuffers.CALLERS, ThreadPoolEngine.FILE_SERVERS, now::get);
        try {
            OpenFile file = await(retried.open(path, true));
            try {
                assertThat(file.isDirect()).isTrue();
                assertThat(bytesOf(onLoop(first, () -> retried.read(file, 0, 9000, ALLOC)))).isEqualTo(content);
                assertThat(retried.contexts()).isEqualTo(1);

                Files.delete(slabDir);
                assertThat(bytesOf(onLoop(second, () -> retried.read(file, 0, 9000, ALLOC)))).isEqualTo(content);
                assertThat(retried.threadReads()).as("the read on the loop without a context").isEqualTo(1);
                assertThat(retried.unavailabilityCause()).as("kernel AIO stays on").isNull();
                assertThat(bytesOf(onLoop(first, () -> retried.read(file, 0, 9000, ALLOC)))).isEqualTo(content);
                assertThat(retried.threadReads()).as("the loop with a context keeps it").isEqualTo(1);

                Files.createDirectory(slabDir);
                now.addAndGet(LoopContexts.RETRY_AFTER_NANOS - 1);
                assertThat(bytesOf(onLoop(second, () -> retried.read(file, 0, 9000, ALLOC)))).isEqualTo(content);
                assertThat(retried.threadReads()).as("not tried again before the wait is over").isEqualTo(2);
                now.addAndGet(1);
                assertThat(bytesOf(onLoop(second, () -> retried.read(file, 0, 9000, ALLOC)))).isEqualTo(content);
                assertThat(retried.threadReads()).as("tried again, and set up").isEqualTo(2);
                assertThat(retried.contexts()).isEqualTo(2);
            } finally {
                file.release();
            }
        } finally {
            retried.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A slab directory with less room than the slots in use (Docker's {@code /dev/shm} is 64 MiB; the defaults make
     * 2 x 256 slots of 1 MiB per event loop, sparse): the kernel cannot have a slot's pages (EFAULT), and the read
     * goes to the thread pool instead of failing. Mounts a small tmpfs: needs root (as CI runs).
     */
    @Test
    void aReadTheSlabHasNoRoomForGoesToTheThreadPool() throws Exception {
        Path slabDir = Files.createDirectory(dir.resolve("small-shm"));
        run("mount", "-t", "tmpfs", "-o", "size=256k", "edge-test", slabDir.toString());
        try (LinuxAioSendfileEngine small = engine(clock::get, 2, 4, 1 << 20, slabDir)) {
            assertThat(small.unavailabilityCause()).as("a sparse slab is made").isNull();
            byte[] content = bytes(600_000, 6);
            OpenFile file = await(small.open(written(dir.resolve("roomier-than-the-slab"), content), true));
            try {
                assertThat(file.isDirect()).isTrue();
                assertThat(read(small, file, 0, content.length)).isEqualTo(content);
                assertThat(drain(await(small.loadRegion(file, 0, content.length)))).isEqualTo(content);
                assertThat(small.slabNoRoomReads()).isEqualTo(2);
                assertThat(small.slotsHeld()).isZero();
            } finally {
                file.release();
            }
        } finally {
            run("umount", slabDir.toString());
        }
    }

    /**
     * Where the natives are missing (another architecture, or JNA's stub cannot load), the engine reads every file by
     * the thread pool, as it says at the start: its opens too, which must not call them. In a JVM of its own, where
     * JNA is kept from loading its stub ({@code jna.nosys}, {@code jna.nounpack}).
     */
    @Test
    void withoutTheNativesEveryFileIsOpenedAndReadByTheThreadPool() throws Exception {
        Path path = written(dir.resolve("no-natives"), bytes(9000, 9));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djna.nosys=true", "-Djna.nounpack=true", "-cp", System.getProperty("java.class.path"),
                WithoutNatives.class.getName(), path.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isZero();
        assertThat(output).contains("natives: false", "read: 9000 bytes", "region: 9000 bytes");
    }

    /** The JVM of the test above: a linux-aio-sendfile engine as configured, a file opened, read and loaded. */
    public static final class WithoutNatives {
        public static void main(String[] args) throws Exception {
            System.out.println("natives: " + io.edge.aio.linux.Syscalls.isAvailable());
            StaticIoSettings settings = new StaticIoSettings(StaticIoSettings.Engine.LINUX_AIO_SENDFILE, 4, 2, 16,
                    Duration.ofSeconds(1), 1, 64, 1 << 20, Duration.ofSeconds(10), false);
            try (FileEngine engine = FileEngines.create(settings)) {
                OpenFile file = await(engine.open(Path.of(args[0]), true));
                try {
                    System.out.println("read: " + read(engine, file, 0, 9000).length + " bytes");
                    System.out.println("region: " + drain(await(engine.loadRegion(file, 0, 9000))).length + " bytes");
                } finally {
                    file.release();
                }
            }
            System.exit(0);
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }

    private static void readsByTheThreadPool(LinuxAioSendfileEngine engine, Path path) throws Exception {
        byte[] content = Files.readAllBytes(path);
        OpenFile file = await(engine.open(path, true));
        try {
            assertThat(file.isDirect()).isTrue();
            assertThat(read(engine, file, 1, 8999)).isEqualTo(slice(content, 1, 8999));
            assertThat(drain(await(engine.loadRegion(file, 0, 9000)))).isEqualTo(content);
            assertThat(engine.threadReads()).isEqualTo(1);
            assertThat(engine.contexts()).isZero();
            assertThat(engine.completedReads()).isZero();
        } finally {
            file.release();
        }
    }
}
