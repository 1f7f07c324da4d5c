package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.PathPolicy;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.Syscalls;
import io.edge.aio.path.PathResolver;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
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

    /**
     * On an epoll loop whose ring is set up (by the loop's first read), the opens, small reads and closes of the
     * loop's requests go through that ring: the files read are the files asked for, a missing one is no such file, a
     * link the policy refuses is still refused (the ring's open meets it and the pool's checked open answers), and a
     * descriptor closed through the ring is closed.
     */
    @Test
    void opensReadsAndClosesOnAnEpollLoopGoThroughItsRing() throws Exception {
        IoUringEngine uring = (IoUringEngine) engine;
        Path root = Files.createDirectories(dir.resolve("site"));
        int files = 4; // the test engine's ring: 4 reads in flight, 8 completions, so room for 4 opens in flight
        List<byte[]> contents = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            contents.add(bytes(5000 + i, i));
            Files.write(root.resolve("f" + i + ".jpg"), contents.get(i));
        }
        Files.createSymbolicLink(root.resolve("link.jpg"), root.resolve("f0.jpg"));
        PathResolver resolver = new PathResolver(root, new PathPolicy(false, false, false));
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            IoEventLoop loop = group.next();
            OpenFile first = await(loop.submit(() -> uring.open(resolver, resolver.resolveForOpen("/f0.jpg"))).get());
            // ext4, xfs, btrfs: every small read goes to the loop's ring; tmpfs: a page-cache hit is read at once
            boolean noWait = uring.reads(first) == IoUringEngine.FileSystemReads.NO_WAIT;
            assertThat(bytesOf(loop.submit(() -> uring.read(first, 0, 5000, ALLOC)).get())).isEqualTo(contents.get(0));
            loop.submit(() -> { first.release(); }).get();
            assertThat(uring.rings()).as("set up by the loop's first read").isEqualTo(1);

            long opensBefore = uring.ringOpens();
            List<OpenFile> opened = new ArrayList<>();
            for (CompletionStage<OpenFile> open : loop.submit(() -> {
                List<CompletionStage<OpenFile>> opens = new ArrayList<>();
                for (int i = 1; i < files; i++) {
                    opens.add(uring.open(resolver, resolver.resolveForOpen("/f" + i + ".jpg")));
                }
                return opens;
            }).get()) {
                opened.add(await(open));
            }
            assertThat(uring.ringOpens() - opensBefore).as("opens made by the ring").isEqualTo(files - 1);
            long completedBefore = uring.completedReads();
            for (int i = 1; i < files; i++) {
                OpenFile file = opened.get(i - 1);
                int length = contents.get(i).length;
                assertThat(bytesOf(loop.submit(() -> uring.read(file, 0, length, ALLOC)).get()))
                        .isEqualTo(contents.get(i));
            }
            assertThat(uring.completedReads() - completedBefore).as("reads done by the ring")
                    .isEqualTo(noWait ? files - 1 : 0);

            assertThatThrownBy(() -> await(loop.submit(() -> uring.open(resolver, resolver.resolveForOpen("/none.jpg")))
                    .get())).isInstanceOf(NoSuchFileException.class);
            assertThatThrownBy(() -> await(loop.submit(() -> uring.open(resolver, resolver.resolveForOpen("/link.jpg")))
                    .get())).isInstanceOf(AccessDeniedException.class);
            assertThat(uring.ringOpens() - opensBefore).as("the missing file and the link asked of the ring too")
                    .isEqualTo(files + 1);

            List<Integer> descriptors = new ArrayList<>();
            long closesBefore = uring.ringCloses();
            loop.submit(() -> {
                for (OpenFile file : opened) {
                    descriptors.add(file.fd());
                    file.release();
                    uring.invalidate(file.path()); // the cache's reference goes: the last one
                }
            }).get();
            loop.submit(() -> { }).get(); // after the close requests went to the kernel at the end of that task
            assertThat(uring.ringCloses() - closesBefore).as("closes made by the ring").isEqualTo(files - 1);
            for (int i = 0; i < descriptors.size(); i++) {
                Path fd = Path.of("/proc/self/fd/" + descriptors.get(i));
                Path target;
                try {
                    target = Files.readSymbolicLink(fd); // the number may name another file since
                } catch (NoSuchFileException gone) {
                    target = null;
                }
                assertThat(target).as("what descriptor %s names", fd)
                        .isNotEqualTo(root.resolve("f" + (i + 1) + ".jpg"));
            }
        } finally {
            engine.close(); // closes the ring on the loop before the loop goes
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aReadThatTimedOutIsCountedOnlyAsTimedOutWhenTheKernelCompletesItLater() throws Exception {
        OpenFile file = open(Files.write(dir.resolve("late"), bytes(6000, 4)));
        int held = file.refCnt();
        ThreadPoolBackedEngine.LoopStats stats = new ThreadPoolBackedEngine.LoopStats();
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            IoEventLoop loop = group.next();
            LoopRing ring = loop.submit(() -> {
                // No timer of the ring's own (0): the test times the read out, after its SQE was prepared and
                // before the kernel saw it, which is when this task ends. Its CQE can only come later.
                LoopRing own = ownRing(loop, 0, stats);
                LoopRing.Read read = new LoopRing.Read(file.retain(), 0, 6000, ALLOC, ALLOC, result, false);
                own.submit(read);
                own.timeout(read);
                own.closeWhenIdle(); // closes once the late CQE was reaped
                return own;
            }).get(30, TimeUnit.SECONDS);
            ring.closeFuture().get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> await(result)).isInstanceOf(TimeoutException.class);
            assertThat(stats.counters.timedOut.sum()).isEqualTo(1);
            assertThat(stats.completed.get()).as("completed reads").isZero();
            assertThat(stats.counters.latencySoFar().getTotalCount()).as("latencies recorded").isZero();
            assertThat(file.refCnt()).as("the read's reference, given back with its CQE").isEqualTo(held);
        } finally {
            file.release();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A ring of 4 reads on {@code loop} whose kernel never refuses a read for good (none goes elsewhere). */
    private static LoopRing ownRing(IoEventLoop loop, long timeoutNanos, ThreadPoolBackedEngine.LoopStats stats)
            throws IOException {
        return LoopRing.create(loop, 4, 1, timeoutNanos, stats, elsewhere -> {
            throw new AssertionError("not refused");
        });
    }

    /**
     * A read the kernel keeps refusing (EAGAIN, {@link LoopRing#MAX_RETRIES} times over) is handed by its ring to
     * the pool ({@code elsewhere}, which is {@link IoUringEngine#readByPool}): there it has what is left of its read
     * timeout, counted from when it was asked for, not a new one. Here it was asked for longer ago than the read
     * timeout (30 s): the pool's timer is due at once and fails it, although the pool's thread has not read it yet.
     * Counted once: the ring's asynchronous read taken back, a fallback read that timed out.
     */
    @Test
    void aReadHandedFromItsRingToThePoolKeepsItsDeadlineAndIsCountedOnce() throws Exception {
        IoUringEngine uring = (IoUringEngine) engine;
        OpenFile file = open(Files.write(dir.resolve("refused"), bytes(6000, 6)));
        CountDownLatch hold = new CountDownLatch(1);
        // The pool's thread waits for its buffer until the test lets it go: only a timeout can end the read before.
        ThreadPoolEngineTest.BlockingAllocator blocking =
                new ThreadPoolEngineTest.BlockingAllocator(new CountDownLatch(1), hold);
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        FileEngineStats before = uring.stats();
        try {
            long askedFor = System.nanoTime() - TimeUnit.SECONDS.toNanos(31);
            uring.readByPool(new LoopRing.Read(file.retain(), 0, 6000, ALLOC, blocking, result, false, askedFor));
            ReadTimer.holdUntil(new CountDownLatch(0)); // returns once every timer due before it has fired
            assertThat(result).as("failed by the deadline of its first submission").isCompletedExceptionally();
            assertThatThrownBy(() -> await(result)).isInstanceOf(TimeoutException.class);
        } finally {
            hold.countDown();
            file.release();
        }
        FileEngineStats after = uring.stats();
        assertThat(after.asyncReads() - before.asyncReads()).as("the ring's read, taken back").isEqualTo(-1);
        assertThat(after.fallbackReads() - before.fallbackReads()).as("fallback reads").isEqualTo(1);
        assertThat(after.timedOutReads() - before.timedOutReads()).as("timed out").isEqualTo(1);
        assertThat(after.readLatencyMicros().getTotalCount() - before.readLatencyMicros().getTotalCount())
                .as("latencies recorded").isZero();
    }

    /**
     * A read whose read timeout (30 s) went by between its submission ({@link IoUringEngine#read}, here 31 s ago) and
     * its reaching the ring (a busy loop, or the hop to the private one) times out as the ring takes it, rather than
     * get a whole read timeout more there, and never reaches the kernel: the ring is idle and closes at once.
     */
    @Test
    void aReadWhoseTimeWentByBeforeItReachedItsRingTimesOutThere() throws Exception {
        OpenFile file = open(Files.write(dir.resolve("late-to-the-ring"), bytes(6000, 7)));
        int held = file.refCnt();
        ThreadPoolBackedEngine.LoopStats stats = new ThreadPoolBackedEngine.LoopStats();
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            IoEventLoop loop = group.next();
            List<Object> onTheLoop = loop.submit(() -> {
                LoopRing own = ownRing(loop, TimeUnit.SECONDS.toNanos(30), stats);
                long askedFor = System.nanoTime() - TimeUnit.SECONDS.toNanos(31);
                own.submit(new LoopRing.Read(file.retain(), 0, 6000, ALLOC, ALLOC, result, false, askedFor));
                boolean failedAtOnce = result.isCompletedExceptionally();
                own.closeWhenIdle(); // nothing in flight: closes now
                return List.<Object>of(own, failedAtOnce);
            }).get(30, TimeUnit.SECONDS);
            assertThat(onTheLoop.get(1)).as("timed out as the ring took it").isEqualTo(true);
            ((LoopRing) onTheLoop.get(0)).closeFuture().get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> await(result)).isInstanceOf(TimeoutException.class);
            assertThat(stats.counters.timedOut.sum()).isEqualTo(1);
            assertThat(stats.completed.get()).as("completed reads").isZero();
            assertThat(file.refCnt()).as("the read's reference, given back with its CQE").isEqualTo(held);
        } finally {
            file.release();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * One timer per ring times its reads out, oldest first: of three reads in flight, asked for 29, 28 and 1 s before
     * (one read timeout being 30 s), the ring's sweep at what would be 2.5 s later fails the first two, whatever
     * order they reached the ring in, and leaves the third to complete with its bytes; so does a fourth, which the
     * failure of one of the first two submits to the ring during the sweep. The clock of the sweep is the test's: the
     * reads were prepared for the kernel in the same loop task, which has not seen them yet. Every buffer is given
     * back with its CQE.
     */
    @Test
    void theRingsTimerTimesOutTheReadsWhoseDeadlineIsOverAndOnlyThose() throws Exception {
        byte[] content = bytes(6000, 8);
        OpenFile file = open(Files.write(dir.resolve("swept"), content));
        int held = file.refCnt();
        ThreadPoolBackedEngine.LoopStats stats = new ThreadPoolBackedEngine.LoopStats();
        List<CompletableFuture<ByteBuf>> results = List.of(new CompletableFuture<>(), new CompletableFuture<>(),
                new CompletableFuture<>(), new CompletableFuture<>());
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            IoEventLoop loop = group.next();
            List<Object> onTheLoop = loop.submit(() -> {
                LoopRing own = ownRing(loop, TimeUnit.SECONDS.toNanos(30), stats);
                long now = System.nanoTime();
                long[] askedFor = {now - TimeUnit.SECONDS.toNanos(28), now - TimeUnit.SECONDS.toNanos(29),
                        now - TimeUnit.SECONDS.toNanos(1)};
                for (int i = 0; i < 3; i++) { // the one asked for first reaches the ring second
                    own.submit(new LoopRing.Read(file.retain(), 0, 6000, ALLOC, ALLOC, results.get(i), false,
                            askedFor[i]));
                }
                results.get(0).whenComplete((buffer, failure) -> own.submit(
                        new LoopRing.Read(file.retain(), 0, 6000, ALLOC, ALLOC, results.get(3), false)));
                boolean noneDone = results.stream().noneMatch(CompletableFuture::isDone);
                own.sweep(now + TimeUnit.MILLISECONDS.toNanos(2500));
                List<Boolean> failed = results.stream().map(CompletableFuture::isCompletedExceptionally).toList();
                own.closeWhenIdle(); // closes once every CQE was reaped
                return List.<Object>of(own, noneDone, failed);
            }).get(30, TimeUnit.SECONDS);
            assertThat(onTheLoop.get(1)).as("none timed out as the ring took it").isEqualTo(true);
            assertThat(onTheLoop.get(2)).as("timed out by the sweep").isEqualTo(List.of(true, true, false, false));
            ((LoopRing) onTheLoop.get(0)).closeFuture().get(30, TimeUnit.SECONDS);
            assertThatThrownBy(() -> await(results.get(0))).isInstanceOf(TimeoutException.class);
            assertThatThrownBy(() -> await(results.get(1))).isInstanceOf(TimeoutException.class);
            assertThat(bytesOf(results.get(2))).isEqualTo(content);
            assertThat(bytesOf(results.get(3))).isEqualTo(content);
            assertThat(stats.counters.timedOut.sum()).isEqualTo(2);
            assertThat(stats.completed.get()).as("completed reads").isEqualTo(2);
            assertThat(file.refCnt()).as("the reads' references, given back with their CQEs").isEqualTo(held);
        } finally {
            file.release();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A read cancelled while it waits for a slot of its ring (its client left; a response's later pieces may wait
     * behind a full queue) is never started: no buffer taken, nothing read for nobody, its file given back.
     */
    @Test
    void aReadCancelledWhileItWaitsForASlotIsNeverStarted() throws Exception {
        byte[] content = bytes(6000, 9);
        OpenFile file = open(Files.write(dir.resolve("waits"), content));
        int held = file.refCnt();
        ThreadPoolBackedEngine.LoopStats stats = new ThreadPoolBackedEngine.LoopStats();
        AtomicInteger buffers = new AtomicInteger();
        ByteBufAllocator counting = new AbstractByteBufAllocator(true) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                throw new UnsupportedOperationException("direct buffers only");
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                buffers.incrementAndGet();
                return ALLOC.directBuffer(initialCapacity, maxCapacity);
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        };
        CompletableFuture<ByteBuf> first = new CompletableFuture<>();
        CompletableFuture<ByteBuf> second = new CompletableFuture<>();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            IoEventLoop loop = group.next();
            LoopRing own = loop.submit(() -> {
                LoopRing ring = LoopRing.create(loop, 1, 1, TimeUnit.SECONDS.toNanos(30), stats, elsewhere -> {
                    throw new AssertionError("not refused");
                });
                ring.submit(new LoopRing.Read(file.retain(), 0, 6000, counting, counting, first, false));
                ring.submit(new LoopRing.Read(file.retain(), 0, 6000, counting, counting, second, false));
                second.cancel(false); // it waits behind the first: a queue depth of 1
                return ring;
            }).get(30, TimeUnit.SECONDS);
            assertThat(bytesOf(first)).isEqualTo(content);
            loop.submit(own::closeWhenIdle).get(30, TimeUnit.SECONDS); // the first's CQE reaped: the queue looked at
            own.closeFuture().get(30, TimeUnit.SECONDS);
            assertThat(second).isCancelled();
            assertThat(buffers.get()).as("the first read's buffer only").isEqualTo(1);
            assertThat(file.refCnt()).as("both reads' references given back").isEqualTo(held);
        } finally {
            file.release();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A read with the kernel when its loop closes its handles (it shuts down; Netty then calls {@code loopClosed}):
     * its stage fails rather than wait for a completion no loop will reap. Its buffer stays unreleased for good (the
     * kernel may still write it), so it comes from an allocator the leak detector does not watch.
     */
    @Test
    void aReadInFlightWhenItsLoopClosesFails() throws Exception {
        // A cache of its own: the read's reference to the file, and so its descriptor, is never given back either.
        OpenFileCache cache = OpenFileCache.withRawDescriptors(4, REVALIDATE, 8, clock::get);
        OpenFile file = cache.acquire(Files.write(dir.resolve("cut-off"), bytes(6000, 5)), true);
        ThreadPoolBackedEngine.LoopStats stats = new ThreadPoolBackedEngine.LoopStats();
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        ByteBufAllocator untracked = new UnpooledByteBufAllocator(true, true);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            IoEventLoop loop = group.next();
            LoopRing ring = loop.submit(() -> {
                LoopRing own = ownRing(loop, 0, stats);
                own.submit(new LoopRing.Read(file.retain(), 0, 6000, untracked, untracked, result, false));
                own.submitPrepared(); // with the kernel now; its CQE can only be reaped after this task
                own.loopClosed();
                return own;
            }).get(30, TimeUnit.SECONDS);
            assertThat(ring.closeFuture()).isDone();
            assertThatThrownBy(() -> await(result)).isInstanceOf(EngineClosedException.class).hasMessage("event loop closed");
            assertThat(stats.inFlight.get()).as("in flight").isZero();
        } finally {
            file.release();
            cache.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A read its ring hands to the pool (no ring on its loop, or the kernel keeps refusing it) meets a full pool queue
     * as its caller asked: a first read is refused (503), a piece of a response under way waits its turn, since
     * refused it would cut the response short.
     */
    @Test
    void aReadHandedToAFullPoolIsRefusedUnlessItsResponseIsUnderWay() throws Exception {
        OpenFileCache cache = OpenFileCache.withRawDescriptors(16, REVALIDATE, 32, clock::get);
        try (IoUringEngine oneThread = new IoUringEngine(cache,
                1, 1, 1 << 20, 16 * 1024, Duration.ZERO, false, ReadBuffers.CALLERS)) {
            byte[] content = bytes(6000, 8);
            OpenFile file = await(oneThread.open(Files.write(dir.resolve("handed"), content), true));
            CountDownLatch hold = new CountDownLatch(1);
            List<CompletionStage<ByteBuf>> busy = new ArrayList<>();
            try {
                ThreadPoolEngine pool = oneThread.blocking;
                CountDownLatch running = new CountDownLatch(1);
                busy.add(pool.read(file, 0, 1, new ThreadPoolEngineTest.BlockingAllocator(running, hold)));
                running.await();
                for (int i = 0; i < pool.maxPending(); i++) {
                    busy.add(pool.read(file, 0, 1, ALLOC));
                }
                CompletableFuture<ByteBuf> first = new CompletableFuture<>();
                oneThread.readByPool(new LoopRing.Read(file.retain(), 0, 6000, ALLOC, ALLOC, first, false));
                assertThatThrownBy(() -> await(first)).isInstanceOf(ReadQueueFullException.class);
                CompletableFuture<ByteBuf> underWay = new CompletableFuture<>();
                LoopRing.Read later = new LoopRing.Read(file.retain(), 0, 6000, ALLOC, ALLOC, underWay, false);
                later.whenFull = FileEngine.WhenFull.WAIT;
                oneThread.readByPool(later);
                assertThat(underWay).isNotDone();
                hold.countDown();
                ByteBuf bytes = await(underWay);
                assertThat(ByteBufUtil.getBytes(bytes)).isEqualTo(content);
                bytes.release();
            } finally {
                hold.countDown();
                for (CompletionStage<ByteBuf> read : busy) {
                    await(read).release();
                }
                file.release();
            }
        }
    }

    @Test
    void aReadStartedWhileOthersWaitQueuesBehindThemEvenIfASlotIsFree() throws Exception {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(3);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (IoUringEngine depthOne = new IoUringEngine(OpenFileCache.withRawDescriptors(16, REVALIDATE, 32, clock::get),
                2, 1, 1 << 20, 16 * 1024, Duration.ofSeconds(30), false, ReadBuffers.CALLERS,
                IoUringEngine.BLOCKING_FILE_SYSTEMS)) {
            List<OpenFile> files = new ArrayList<>();
            for (String name : List.of("a", "b", "c")) {
                files.add(await(depthOne.open(Files.write(dir.resolve(name), bytes(6000, name.charAt(0))), true)));
            }
            depthOne.viaWorker(files.get(0)); // the device is known, so every read goes to the ring at once
            try {
                BiConsumer<String, OpenFile> read = new BiConsumer<>() {
                    @Override
                    public void accept(String name, OpenFile file) {
                        depthOne.read(file, 0, 6000, ALLOC).whenComplete((buffer, error) -> {
                            ReferenceCountUtil.release(buffer);
                            if (error != null) {
                                errors.add(error);
                            }
                            order.add(name);
                            if (name.equals("a")) {
                                // a's slot is free now, but b was waiting first
                                accept("c", files.get(2));
                            }
                            done.countDown();
                        });
                    }
                };
                group.next().submit(() -> {
                    read.accept("a", files.get(0)); // in flight: the queue depth is 1
                    read.accept("b", files.get(1)); // waits
                }).get(30, TimeUnit.SECONDS);
                assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
                assertThat(errors).isEmpty();
                assertThat(order).containsExactly("a", "b", "c");
            } finally {
                files.forEach(OpenFile::release);
            }
        } finally {
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
        Path path = FileEngineContract.settled(Files.writeString(dir.resolve("plain"), "plain"));
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
