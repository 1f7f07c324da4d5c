package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.PageCache;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.FileRegion;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

class ThreadPoolEngineTest extends FileEngineContract {

    @Override
    FileEngine newEngine(Ticker ticker) {
        return new ThreadPoolEngine(new OpenFileCache(16, REVALIDATE, 32, ticker), 2, 256, 1 << 20, 16 * 1024,
                Duration.ofSeconds(30));
    }

    @Override
    boolean readsColdRangesBeforeSending() {
        return true;
    }

    @Override
    OpenFileCache cacheOf(FileEngine engine) {
        return ((ThreadPoolEngine) engine).cache();
    }

    @Override
    String configName() {
        return "threads";
    }

    @Test
    void closeWaitsForAQueuedOperationToLetGoOfItsFile() throws Exception {
        ThreadPoolEngine own = new ThreadPoolEngine(new OpenFileCache(16, REVALIDATE, 32, clock::get), 2, 256,
                1 << 20, 16 * 1024, Duration.ofSeconds(30));
        OpenFile file = await(own.open(Files.writeString(dir.resolve("held"), "held"), true));
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        own.execute(new CompletableFuture<>(), FileEngine.WhenFull.REFUSE, () -> {
            running.countDown();
            try {
                letGo.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            file.release();
        }, file::release);
        running.await();
        long[] heldWhenClosed = {-1};
        Thread closer = new Thread(() -> {
            own.close();
            heldWhenClosed[0] = own.cache().descriptorsInUse();
        });
        closer.start();
        // Let the operation go only once close() waits for it (a close that returned at once fails below).
        while (closer.isAlive() && closer.getState() != Thread.State.TIMED_WAITING) {
            Thread.onSpinWait();
        }
        letGo.countDown();
        closer.join();
        assertThat(heldWhenClosed[0]).as("descriptors held when close() returned").isZero();
    }

    @Test
    void withTheResidencyCheckAPageCacheHitIsReadOnTheCallerAndOnlyAMissOnThePool() throws Exception {
        Path hot = Files.write(dir.resolve("hot"), bytes(9000, 1));
        Path cold = Files.write(dir.resolve("cold"), bytes(9000, 2));
        dropFromPageCache(cold);
        ThreadPoolEngine checking = new ThreadPoolEngine(new OpenFileCache(16, REVALIDATE, 32, clock::get), 2, 256,
                1 << 20, 16 * 1024, Duration.ofSeconds(30), ReadBuffers.CALLERS, true);
        try (checking) {
            OpenFile inCache = await(checking.open(hot, true));
            OpenFile onDisk = await(checking.open(cold, true));
            try {
                CompletionStage<ByteBuf> hit = checking.read(inCache, 0, 9000, ALLOC);
                assertThat(hit.toCompletableFuture().isDone()).as("answered before read() returned").isTrue();
                assertThat(bytesOf(hit)).isEqualTo(bytes(9000, 1));
                assertThat(checking.stats().residentReads()).isEqualTo(1);
                assertThat(checking.stats().asyncReads()).isZero();
                // The no-wait probe starts the disk read and mostly answers EAGAIN (then the pool reads), but a disk
                // as fast as this host-cached one may finish first: either way, the bytes, read once.
                assertThat(read(checking, onDisk, 0, 9000)).isEqualTo(bytes(9000, 2));
                assertThat(checking.stats().residentReads() + checking.stats().asyncReads()).isEqualTo(2);
            } finally {
                inCache.release();
                onDisk.release();
            }
        }
        assertThat(checking.cache().descriptorsInUse()).isZero();
    }

    @Test
    void aChunkTheResidencyProbeCallsAbsentIsReadIntoABufferNotSentFromTheFile() throws Exception {
        // Pages under read I/O cannot be made on purpose here; the probe stands in for a mincore that saw them.
        byte[] content = bytes(3 * 4096 + 100, 9);
        OpenFile file = open(Files.write(dir.resolve("probed"), content));
        List<String> asked = new ArrayList<>();
        FileReads.Reader reader = (whole, at, length) -> engine.read(whole, at, length, ALLOC);
        try {
            Object absent = await(FileReads.residentRegionOrRead(engine, file, 100, 8192, reader, (fd, at, length) -> {
                asked.add(at + "+" + length);
                return false;
            }));
            assertThat(absent).as("read, though the page cache holds it").isInstanceOf(ByteBuf.class);
            assertThat(drain(absent)).isEqualTo(slice(content, 100, 8192));
            assertThat(asked).as("before the read and after it").containsExactly("100+8192", "100+8192");
            Object resident = await(FileReads.residentRegionOrRead(engine, file, 100, 8192, reader,
                    (fd, at, length) -> true));
            assertThat(resident).isInstanceOf(FileRegion.class);
            assertThat(drain(resident)).isEqualTo(slice(content, 100, 8192));
            // A caller that cancels the stage (its client left) reaches the read, which the pool then skips if it
            // still waits for a thread.
            CompletableFuture<ByteBuf> held = new CompletableFuture<>();
            CompletionStage<Object> load = FileReads.residentRegionOrRead(engine, file, 100, 8192,
                    (whole, at, length) -> held, (fd, at, length) -> false);
            assertThat(load.toCompletableFuture().cancel(false)).isTrue();
            assertThat(held).isCancelled();
        } finally {
            file.release();
        }
    }

    @Test
    void aChunkReadIntoTheEmptyPageCacheLeavesFromItAndItsBufferIsGivenBackAtOnce() throws Exception {
        byte[] content = bytes(3 * 4096 + 100, 11);
        OpenFile file = open(Files.write(dir.resolve("warmed"), content));
        List<ByteBuf> buffers = new ArrayList<>();
        FileReads.Reader reader = (whole, at, length) -> engine.read(whole, at, length, ALLOC)
                .thenApply(buffer -> {
                    buffers.add(buffer);
                    return buffer;
                });
        boolean[] read = {false};
        FileReads.Residency afterTheRead = (fd, at, length) -> {
            boolean resident = read[0];
            read[0] = true; // absent when first asked, there once the read filled the page cache
            return resident;
        };
        try {
            Object warmed = await(FileReads.residentRegionOrRead(engine, file, 100, 8192, reader, afterTheRead));
            assertThat(warmed).as("sent from the page cache the read filled").isInstanceOf(FileRegion.class);
            assertThat(buffers).hasSize(1);
            assertThat(buffers.get(0).refCnt()).as("the read's buffer, given back").isZero();
            assertThat(drain(warmed)).isEqualTo(slice(content, 100, 8192));

            // A read already under way when its caller stopped waiting (a kernel's, which a cancel does not stop):
            // what it read goes back when it ends, and its hold on the file with it.
            CompletableFuture<ByteBuf> underWay = new CompletableFuture<>() {
                @Override
                public boolean cancel(boolean mayInterruptIfRunning) {
                    return false;
                }
            };
            read[0] = false;
            int held = file.refCnt();
            CompletionStage<Object> load = FileReads.residentRegionOrRead(engine, file, 100, 8192,
                    (whole, at, length) -> underWay, afterTheRead);
            assertThat(load.toCompletableFuture().cancel(false)).isTrue();
            ByteBuf buffer = ALLOC.directBuffer(8192);
            underWay.complete(buffer.writeZero(8192));
            assertThat(buffer.refCnt()).isZero();
            assertThat(file.refCnt()).isEqualTo(held);
        } finally {
            file.release();
        }
    }

    /**
     * Without natives (the JDK opens files, no raw descriptor) residency cannot be told: a chunk is read into a buffer
     * on the pool, not sent by a sendfile from the loop that might wait for the disk.
     */
    @Test
    void withoutARawDescriptorAChunkIsReadNotSentFromTheFile() throws Exception {
        byte[] content = bytes(3 * 4096 + 100, 7);
        Path path = Files.write(dir.resolve("jdk-opened"), content);
        ThreadPoolEngine jdkOpens = new ThreadPoolEngine(new OpenFileCache(16, REVALIDATE, 32, clock::get,
                (file, followLinks) -> FileChannel.open(file)), 2, 256, 1 << 20, 16 * 1024, Duration.ofSeconds(30));
        try {
            OpenFile file = await(jdkOpens.open(path, true));
            try {
                assertThat(file.hasRawDescriptor()).isFalse();
                Object chunk = await(jdkOpens.loadRegion(file, 100, 8192));
                assertThat(chunk).isInstanceOf(ByteBuf.class);
                assertThat(drain(chunk)).isEqualTo(slice(content, 100, 8192));
            } finally {
                file.release();
            }
        } finally {
            jdkOpens.close();
        }
    }

    @Test
    void aPageCacheHitOnAFileSystemThatRefusesNoWaitReadsIsStillReadOnTheCaller() throws Exception {
        Path shm = Files.createTempFile(Path.of("/dev/shm"), "edge-resident-", ".bin");
        ThreadPoolEngine checking = new ThreadPoolEngine(new OpenFileCache(16, REVALIDATE, 32, clock::get), 2, 256,
                1 << 20, 16 * 1024, Duration.ofSeconds(30), ReadBuffers.CALLERS, true);
        try (checking) {
            Files.write(shm, bytes(9000, 3));
            OpenFile file = await(checking.open(shm, true));
            try {
                CompletionStage<ByteBuf> hit = checking.read(file, 100, 8000, ALLOC);
                assertThat(hit.toCompletableFuture().isDone()).as("tmpfs: preadv2 refused, mincore told").isTrue();
                assertThat(bytesOf(hit)).isEqualTo(slice(bytes(9000, 3), 100, 8000));
                assertThat(checking.stats().residentReads()).isEqualTo(1);
            } finally {
                file.release();
            }
        } finally {
            Files.delete(shm);
        }
    }

    @Test
    void aSmallFileOpenedFromAFileServerIsReadOnThePoolAndClosedOffTheEventLoop() throws Exception {
        requirePageCacheVisible();
        List<Long> asked = new ArrayList<>();
        ThreadPoolEngine engine = fileServerEngine(type -> {
            synchronized (asked) {
                asked.add(type);
            }
            return true;
        });
        Path first = Files.write(dir.resolve("first"), bytes(9000, 5));
        Path second = Files.write(dir.resolve("second"), bytes(7000, 6));
        dropFromPageCache(first);
        dropFromPageCache(second);
        try (engine) {
            OpenFile file = await(engine.open(first, true));
            OpenFile other = await(engine.open(second, true));
            try {
                assertThat(PageCache.isResident(file.fd(), 0, 9000)).as("read while opened").isTrue();
                assertThat(file.closer()).as("closed off the event loop").isSameAs(FileServerFiles.CLOSER);
                assertThat(other.closer()).isSameAs(FileServerFiles.CLOSER);
                CompletionStage<ByteBuf> read = engine.read(file, 0, 9000, ALLOC);
                assertThat(read.toCompletableFuture().isDone()).as("the bytes read at open, at once").isTrue();
                assertThat(bytesOf(read)).isEqualTo(bytes(9000, 5));
                assertThat(engine.stats().residentReads()).isEqualTo(1);
                assertThat(engine.stats().asyncReads()).isZero();
                assertThat(asked).as("once per device").hasSize(1);
            } finally {
                file.release();
                other.release();
            }
        }
        assertThat(engine.cache().descriptorsInUse()).as("closed by the time the engine is").isZero();
    }

    @Test
    void aFileServersFileIsReadOnThePoolAfterItsOpenersReadEvenFromThePageCache() throws Exception {
        ThreadPoolEngine engine = fileServerEngine(type -> true);
        Path path = Files.write(dir.resolve("thumb"), bytes(9000, 9));
        try (engine) {
            OpenFile file = await(engine.open(path, true));
            try {
                assertThat(bytesOf(engine.read(file, 0, 9000, ALLOC))).as("the bytes read at open").isEqualTo(bytes(9000, 9));
                assertThat(engine.stats().residentReads()).isEqualTo(1);
                CompletionStage<ByteBuf> again = engine.read(file, 100, 200, ALLOC);
                assertThat(bytesOf(again)).isEqualTo(Arrays.copyOfRange(bytes(9000, 9), 100, 300));
                assertThat(engine.stats().asyncReads()).as("a file server's: on the pool, never on the caller")
                        .isEqualTo(1);
                assertThat(engine.stats().residentReads()).isEqualTo(1);
            } finally {
                file.release();
            }
        }
        assertThat(engine.cache().descriptorsInUse()).isZero();
    }

    @Test
    void aFileServersFileOpenedForItsMetadataOnlyIsNotReadAhead() throws Exception {
        ThreadPoolEngine engine = fileServerEngine(type -> true);
        try (engine) {
            assertNotReadAheadWithoutABody(engine, Files.write(dir.resolve("thumb"), bytes(9000, 8)));
        }
        assertThat(engine.cache().descriptorsInUse()).isZero();
    }

    @Test
    void aFileOfALocalFileSystemIsNeitherReadAheadNorClosedElsewhere() throws Exception {
        requirePageCacheVisible();
        ThreadPoolEngine engine = fileServerEngine(type -> false);
        Path path = Files.write(dir.resolve("local"), bytes(9000, 7));
        dropFromPageCache(path);
        try (engine) {
            OpenFile file = await(engine.open(path, true));
            try {
                assertThat(PageCache.isResident(file.fd(), 0, 9000)).as("not read while opened").isFalse();
                assertThat(file.closer()).as("closed where released").isNull();
                assertThat(read(engine, file, 0, 9000)).isEqualTo(bytes(9000, 7));
                // Read once, and not from bytes read at open (the page cache did not have them above): mostly on the
                // pool, but the no-wait probe starts the disk read and a disk as fast as this host-cached one may
                // finish it before the probe looks again, so the bytes come back resident (as for the miss above).
                assertThat(engine.stats().residentReads() + engine.stats().asyncReads()).as("read once").isEqualTo(1);
            } finally {
                file.release();
            }
        }
        assertThat(engine.cache().descriptorsInUse()).isZero();
    }

    @Test
    void fileServersAreTheFileSystemsNotKnownToBeLocal() {
        assertThat(ThreadPoolEngine.FILE_SERVERS.test(FileSystems.FUSE)).isTrue();
        assertThat(ThreadPoolEngine.FILE_SERVERS.test(FileSystems.NFS)).isTrue();
        assertThat(ThreadPoolEngine.FILE_SERVERS.test(0x12345678L)).as("unknown").isTrue();
        assertThat(ThreadPoolEngine.FILE_SERVERS.test(FileSystems.EXT4)).isFalse();
        assertThat(ThreadPoolEngine.FILE_SERVERS.test(FileSystems.XFS)).isFalse();
        assertThat(ThreadPoolEngine.FILE_SERVERS.test(FileSystems.TMPFS)).isFalse();
    }

    /** A threads engine as the server builds one (residency check on), file servers told by {@code fileServers}. */
    @Test
    void aFileServersLargeFileIsReadOnThePoolEvenFromThePageCacheNeverSentFromTheFile() throws Exception {
        requirePageCacheVisible();
        byte[] content = bytes(3 * 65536, 10);
        Path path = Files.write(dir.resolve("large"), content);
        for (boolean fileServer : new boolean[] {true, false}) {
            ThreadPoolEngine engine = fileServerEngine(type -> fileServer);
            assertCachedRangeOfLargeFile(engine, engine.cache(), path, content, fileServer);
        }
    }

    private ThreadPoolEngine fileServerEngine(LongPredicate fileServers) {
        return new ThreadPoolEngine(new OpenFileCache(16, REVALIDATE, 32, clock::get), 2, 256, 1 << 20, 16 * 1024,
                Duration.ofSeconds(30), ReadBuffers.CALLERS, true, "threads", fileServers);
    }

    /**
     * How many operations may wait for a thread no longer falls with queue-depth below 4096: lowered to a disk's
     * spindles (4), it left 16 places on two CPUs, and a burst of cold opens got 503 at once (the static engines
     * audit); nginx's aio threads queue 65536.
     */
    @Test
    void aLowQueueDepthLeavesThousandsOfPlacesToWaitForAThread() {
        int cpus = io.netty.util.NettyRuntime.availableProcessors();
        assertThat(ThreadPoolEngine.backlogFor(4)).isEqualTo(ThreadPoolEngine.MIN_BACKLOG);
        assertThat(ThreadPoolEngine.backlogFor(32768)).isEqualTo(Math.max(4096, 32768 * cpus * 2));
        ThreadPoolEngine engine = new ThreadPoolEngine(new io.edge.aio.StaticIoSettings(
                io.edge.aio.StaticIoSettings.Engine.THREADS, 4, 2, 16, Duration.ofSeconds(5), 1, 64, 1 << 20,
                Duration.ofSeconds(30), false));
        try {
            assertThat(engine.maxPending()).isEqualTo(4096);
        } finally {
            engine.close();
        }
    }

    /**
     * An open refused because the static path holds its share of the descriptors (503) counts among the engine's
     * rejected, once: the status page said rejected=0 beside 40 % of 503s (the static engines audit).
     */
    @Test
    void anOpenRefusedForWantOfADescriptorCountsAsRejected() throws Exception {
        ThreadPoolEngine engine = new ThreadPoolEngine(new OpenFileCache(10, Duration.ofSeconds(5), 1, 1, clock::get), 1,
                16, 1 << 20, 16 * 1024, Duration.ZERO);
        try {
            OpenFile held = await(engine.open(Files.writeString(dir.resolve("held"), "abc"), true));
            engine.cache().invalidate(dir.resolve("held")); // in a send, not idle: nothing to evict for room
            CompletionStage<OpenFile> refused = engine.open(Files.writeString(dir.resolve("next"), "def"), true);
            assertThatThrownBy(() -> await(refused)).isInstanceOf(FileDescriptorsExhaustedException.class);
            assertThat(engine.stats().rejected()).isEqualTo(1);
            held.release();
        } finally {
            engine.close();
        }
    }

    @Test
    void neverRunsOnTheCallerAndRefusesBeyondItsQueue() throws Exception {
        Path path = FileEngineContract.settled(Files.writeString(dir.resolve("a"), "abc"));
        ThreadPoolEngine small = new ThreadPoolEngine(new OpenFileCache(4, REVALIDATE, 8, clock::get), 1, 1, 1 << 20,
                16 * 1024, Duration.ZERO);
        try {
            OpenFile file = await(small.open(path, true));
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch running = new CountDownLatch(1);
            // Occupy the single thread through a read whose allocator blocks until released.
            CompletionStage<?> blocked = small.read(file, 0, 3, new BlockingAllocator(running, hold));
            running.await();
            assertThat(Thread.currentThread().getName()).doesNotStartWith("edge-file-io-");
            CompletionStage<?> queued = small.read(file, 0, 3, ALLOC);
            List<CompletionStage<?>> refused = new ArrayList<>();
            refused.add(small.read(file, 0, 3, ALLOC));
            refused.add(small.open(Files.writeString(dir.resolve("b"), "not cached"), true));
            for (CompletionStage<?> stage : refused) {
                assertThatThrownBy(() -> await(stage)).isInstanceOf(ReadQueueFullException.class);
            }
            assertThat(small.stats().rejected()).isEqualTo(2);
            assertThat(small.stats().asyncReads()).as("the reads the pool took; the refused one is counted as that only")
                    .isEqualTo(2);
            // A read for a response under way waits its turn behind the full queue: refused, it would cut the response.
            CompletionStage<ByteBuf> underWay = small.read(file, 0, 3, ALLOC, FileEngine.WhenFull.WAIT);
            assertThat(underWay.toCompletableFuture()).isNotDone();
            assertThat(small.pendingOperations()).isEqualTo(3);
            CompletionStage<?> stillRefused = small.read(file, 0, 3, ALLOC);
            assertThatThrownBy(() -> await(stillRefused)).isInstanceOf(ReadQueueFullException.class);
            assertThat(small.stats().rejected()).isEqualTo(3);
            assertThat(small.stats().asyncReads()).isEqualTo(3);
            // One whose caller gave up (its client left) is skipped when its turn comes, not read for nobody.
            CompletionStage<ByteBuf> abandoned = small.read(file, 0, 3, ALLOC, FileEngine.WhenFull.WAIT);
            assertThat(abandoned.toCompletableFuture().cancel(false)).isTrue();
            // A cached, trusted file needs no thread: it opens at once on the caller, full queue or not.
            OpenFile again = await(small.open(path, true));
            assertThat(again).isSameAs(file);
            again.release();
            hold.countDown();
            ((ByteBuf) await(blocked)).release();
            ((ByteBuf) await(queued)).release();
            ByteBuf waited = await(underWay);
            assertThat(waited.toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
            waited.release();
            file.release();
        } finally {
            small.close();
        }
        assertThat(small.completedReads()).as("the held, the queued and the one under way").isEqualTo(3);
        assertThat(small.cache().descriptorsInUse()).isZero();
    }

    /**
     * A read whose buffer cannot be had ({@code OutOfMemoryError: Cannot reserve ... bytes of direct buffer memory},
     * under load with a small {@code -XX:MaxDirectMemorySize}) fails with that error at once, rather than leave its
     * caller waiting until the read timeout (for ever without one); the pool thread goes on to the next read.
     */
    @Test
    void aReadWhoseBufferCannotBeHadFailsAndThePoolGoesOn() throws Exception {
        Path path = Files.writeString(dir.resolve("no-memory"), "abc");
        ThreadPoolEngine small = new ThreadPoolEngine(new OpenFileCache(4, REVALIDATE, 8, clock::get), 1, 4, 1 << 20,
                16 * 1024, Duration.ZERO);
        try {
            OpenFile file = await(small.open(path, true));
            try {
                AbstractByteBufAllocator noDirectMemory = new AbstractByteBufAllocator(true) {
                    @Override
                    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                        return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
                    }

                    @Override
                    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                        throw new OutOfMemoryError("Cannot reserve 3 bytes of direct buffer memory");
                    }

                    @Override
                    public boolean isDirectBufferPooled() {
                        return false;
                    }
                };
                assertThatThrownBy(() -> await(small.read(file, 0, 3, noDirectMemory)))
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(OutOfMemoryError.class);
                assertThat(read(small, file, 0, 3)).isEqualTo("abc".getBytes(StandardCharsets.US_ASCII));
            } finally {
                file.release();
            }
        } finally {
            small.close();
        }
        assertThat(small.cache().descriptorsInUse()).isZero();
    }

    @Test
    void readsAndOpensNotDoneWithinTheReadTimeoutFailAndAreCountedAndGiveBackWhatTheyHeld() throws Exception {
        Path path = Files.writeString(dir.resolve("slow"), "abc");
        ThreadPoolEngine slow = new ThreadPoolEngine(new OpenFileCache(4, REVALIDATE, 8, clock::get), 1, 4, 1 << 20,
                16 * 1024, Duration.ofMillis(1));
        try {
            OpenFile file = slow.cache().acquire(path, true); // not on the pool: an open there might time out too
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch running = new CountDownLatch(1);
            // The only thread waits for its buffer until the test lets it go: neither read can finish before.
            BlockingAllocator blocking = new BlockingAllocator(running, hold);
            CompletionStage<ByteBuf> started;
            CompletionStage<ByteBuf> queued;
            CompletionStage<OpenFile> opening;
            // No timeout fires until the first read is on the pool's thread and the others wait behind it.
            CountDownLatch timeoutsGo = new CountDownLatch(1);
            ReadTimer.holdUntil(timeoutsGo);
            try {
                started = slow.read(file, 0, 3, blocking);
                running.await();
                queued = slow.read(file, 0, 3, ALLOC);
                // An open (a stalled FUSE or NFS server's, or one queued as here) fails the same way.
                opening = slow.open(Files.writeString(dir.resolve("other"), "x"), true);
            } finally {
                timeoutsGo.countDown();
            }
            assertThatThrownBy(() -> await(started)).isInstanceOf(TimeoutException.class);
            assertThatThrownBy(() -> await(queued)).isInstanceOf(TimeoutException.class);
            assertThatThrownBy(() -> await(opening)).isInstanceOf(TimeoutException.class)
                    .hasMessageContaining("open of " + dir.resolve("other"));
            assertThat(slow.stats().timedOutReads()).as("reads and opens").isEqualTo(3);
            hold.countDown();
            // The late read finishes on its thread and gives its buffer back; the queued read and open give back
            // whatever they took. Closing waits for the thread to be past all three.
            file.release();
            slow.close();
            assertThat(slow.completedReads()).as("the late read, counted only as timed out").isZero();
            assertThat(slow.stats().readLatencyMicros().getTotalCount()).as("latencies recorded").isZero();
            assertThat(slow.stats().timedOutReads()).isEqualTo(3);
            assertThat(blocking.handedOut.refCnt()).as("the late read's buffer, released by its thread").isZero();
        } finally {
            slow.close();
        }
        slow.cache().invalidateAll();
        assertThat(slow.cache().descriptorsInUse()).isZero();
    }

    /** Hands out direct buffers only once {@code hold} opens, so the pool thread asking for one waits. */
    static final class BlockingAllocator extends AbstractByteBufAllocator {
        private final CountDownLatch running;
        private final CountDownLatch hold;
        /** The last buffer handed out. */
        volatile ByteBuf handedOut;

        BlockingAllocator(CountDownLatch running, CountDownLatch hold) {
            super(true);
            this.running = running;
            this.hold = hold;
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            running.countDown();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            handedOut = UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
            return handedOut;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }
}
