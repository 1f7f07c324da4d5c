package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A request body read in whole: memory while small, then an unlinked file, the client paused while the disk lags. */
class SpooledBodyTest {

    @TempDir
    Path dir;

    private LocalConnection connection;
    private Channel client;
    private final List<IOException> failures = new CopyOnWriteArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        connection = new LocalConnection();
        client = connection.client;
    }

    @AfterEach
    void close() throws Exception {
        connection.close();
    }

    /** Runs {@code task} on the client's event loop, where every method of the body runs, and waits for it. */
    private void onLoop(Runnable task) throws Exception {
        client.eventLoop().submit(task).get(10, TimeUnit.SECONDS);
    }

    private SpooledBody body(int memoryLimit, Path spoolDir) {
        // as the connection does for the running exchange when nothing else holds its reading
        return new SpooledBody(client, paused -> client.config().setAutoRead(!paused), memoryLimit, spoolDir,
                Duration.ofSeconds(60), failures::add);
    }

    private static byte[] bytes(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed);
        }
        return bytes;
    }

    @Test
    void aBodyWithinTheMemoryLimitIsReadyAtOnceAndNeverMakesAFile() throws Exception {
        SpooledBody body = body(4096, dir);
        AtomicInteger ready = new AtomicInteger();
        onLoop(() -> {
            body.add(Unpooled.wrappedBuffer(bytes(1000, 1)));
            body.add(Unpooled.wrappedBuffer(bytes(3096, 2)));
            body.finish(ready::incrementAndGet);
            assertThat(ready).as("ready within finish").hasValue(1);
            assertThat(body.length()).isEqualTo(4096);
            body.release();
        });
        assertThat(spoolFilesOpen()).isZero();
        assertThat(failures).isEmpty();
    }

    /**
     * A share (the exchange an X-Accel-Redirect sends the request on with, the call there) keeps the body past its
     * maker's release, sendable whole, until every share is given back; giving one back twice counts once.
     */
    @Test
    void aSharedBodyOutlivesItsMakersReleaseUntilEveryShareIsGivenBack() throws Exception {
        SpooledBody body = body(4096, dir);
        ByteBuf part = Unpooled.wrappedBuffer(bytes(1000, 3));
        RecordingBackend after = new RecordingBackend();
        RecordingBackend afterAll = new RecordingBackend();
        onLoop(() -> {
            body.add(part);
            body.finish(() -> { });
            Runnable exchanges = body.share();
            Runnable calls = body.share();
            body.release();
            body.release();
            calls.run();
            calls.run(); // once only: the exchange's share still holds it
            body.sendTo(after.sink(), failures::add);
            exchanges.run();
            body.sendTo(afterAll.sink(), failures::add);
        });
        assertThat(after.received.toByteArray()).isEqualTo(bytes(1000, 3));
        assertThat(after.ends).isOne();
        assertThat(afterAll.ends).as("released with the last share: nothing goes").isZero();
        assertThat(afterAll.received.size()).isZero();
        assertThat(after.allPartsReleased()).isTrue();
        assertThat(failures).isEmpty();
    }

    /**
     * A backend in a test: keeps the bytes of each part written to it, in order, and releases the part; takes parts
     * only while {@link #writable} (full again after each part if {@link #onePartAtATime}), and runs the task left
     * with it once made writable again.
     */
    private static final class RecordingBackend {
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final List<ByteBuf> parts = new ArrayList<>();
        int ends;
        boolean writable = true;
        boolean onePartAtATime;
        Runnable whenWritable;

        SpooledBody.Sink sink() {
            return new SpooledBody.Sink(part -> {
                parts.add(part);
                received.writeBytes(ByteBufUtil.getBytes(part));
                part.release();
                writable = !onePartAtATime;
            }, () -> ends++, () -> false, () -> writable, task -> whenWritable = task);
        }

        /** Takes parts again: runs what waited for it. */
        void becomeWritable() {
            writable = true;
            Runnable task = whenWritable;
            whenWritable = null;
            if (task != null) {
                task.run();
            }
        }

        /** Whether every part written here was released, by this backend and by the body it came from. */
        boolean allPartsReleased() {
            return parts.stream().allMatch(part -> part.refCnt() == 0);
        }
    }

    /**
     * A body held in memory of many small parts (a chunked upload of short chunks) reaches the backend whole and in
     * order, once for each try (the next address of a group gets it again), and nothing of it stays held once released.
     */
    @Test
    void aBodyOfManySmallPartsHeldInMemoryReachesEachBackendWholeAndInOrder() throws Exception {
        SpooledBody.MemoryBudget budget = new SpooledBody.MemoryBudget(1 << 20);
        SpooledBody body = new SpooledBody(client, paused -> client.config().setAutoRead(!paused), 1 << 20, dir,
                Duration.ofSeconds(60), failures::add, SpooledBody.THREADS, budget);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        List<ByteBuf> added = new ArrayList<>();
        RecordingBackend first = new RecordingBackend();
        RecordingBackend next = new RecordingBackend();
        onLoop(() -> {
            for (int i = 0; i < 5000; i++) {
                byte[] part = bytes(1 + i % 97, i);
                sent.writeBytes(part);
                ByteBuf buffer = Unpooled.wrappedBuffer(part);
                added.add(buffer);
                body.add(buffer);
            }
            body.finish(() -> { });
            body.sendTo(first.sink(), failures::add);
            body.sendTo(next.sink(), failures::add);
        });
        assertThat(added).as("each part released once its bytes are held").allMatch(part -> part.refCnt() == 0);
        assertThat(first.received.toByteArray()).isEqualTo(sent.toByteArray());
        assertThat(first.ends).isEqualTo(1);
        assertThat(next.received.toByteArray()).as("again, whole, to the next").isEqualTo(sent.toByteArray());
        assertThat(next.ends).isEqualTo(1);
        assertThat(budget.held()).as("its blocks, at least its bytes").isGreaterThanOrEqualTo(sent.size());
        onLoop(body::release);
        assertThat(first.allPartsReleased()).isTrue();
        assertThat(next.allPartsReleased()).isTrue();
        assertThat(budget.held()).isZero();
        assertThat(spoolFilesOpen()).isZero();
        assertThat(failures).isEmpty();
    }

    /**
     * A body held in memory that came in one large part goes to the backend only as fast as the backend takes it: all
     * of it written at once took a direct copy of all of it (a heap buffer is copied to a direct one as it is queued on
     * a socket), up to a location's client-body-buffer-size (64 MiB) per upload, for as long as the backend took to
     * read it. Whole and in order, and nothing stays held once released.
     */
    @Test
    void aLargeBodyHeldInMemoryGoesToTheBackendOnlyAsFastAsItTakesItWholeAndInOrder() throws Exception {
        SpooledBody body = body(4 << 20, dir);
        byte[] sent = bytes(3 << 20, 7);
        ByteBuf part = Unpooled.wrappedBuffer(sent);
        RecordingBackend backend = new RecordingBackend();
        onLoop(() -> {
            body.add(part);
            body.finish(() -> { });
            backend.writable = false;
            backend.onePartAtATime = true;
            body.sendTo(backend.sink(), failures::add);
        });
        assertThat(part.refCnt()).as("released once its bytes are held").isZero();
        assertThat(backend.received.size()).as("nothing while the backend takes nothing").isZero();
        int writes = 0;
        while (backend.ends == 0 && writes++ < 1000) {
            int before = backend.received.size();
            onLoop(backend::becomeWritable);
            assertThat(backend.received.size() - before).as("one part for each time it takes more")
                    .isBetween(1, SpooledBody.READ_CHUNK);
        }
        assertThat(backend.received.toByteArray()).isEqualTo(sent);
        assertThat(backend.ends).isEqualTo(1);
        onLoop(body::release);
        assertThat(backend.allPartsReleased()).isTrue();
        assertThat(failures).isEmpty();
    }

    /**
     * What a body holds in memory counts in the budget as the heap holds it, its blocks, not only its bytes: blocks grow
     * with the body, each new one as large as the body so far (up to a FastCGI record's worth), so a body one byte past
     * a block's edge held a new block nearly all empty, and bodies stopped there held near twice the budget (an eighth
     * of the heap) that counted their bytes. Given back whole once the body is released.
     */
    @Test
    void aBodyHeldInMemoryCountsTheBlocksItHoldsInTheBudget() throws Exception {
        FastCgiResponderTest.BufferTracker heap = new FastCgiResponderTest.BufferTracker();
        client.config().setAllocator(heap);
        SpooledBody.MemoryBudget budget = new SpooledBody.MemoryBudget(1 << 20);
        SpooledBody body = new SpooledBody(client, paused -> client.config().setAutoRead(!paused), 1 << 20, dir,
                Duration.ofSeconds(60), failures::add, SpooledBody.THREADS, budget);
        for (int length : new int[] {8192, 8192, 16384, 32768, 1, 65527, 1, 100_000}) {
            onLoop(() -> body.add(Unpooled.wrappedBuffer(bytes(length, length))));
            long held = heap.handedOut.stream().filter(buffer -> buffer.refCnt() > 0)
                    .mapToLong(ByteBuf::capacity).sum();
            assertThat(budget.held()).as("counted after %d bytes more, of %d", length, body.length())
                    .isEqualTo(held);
        }
        onLoop(body::release);
        assertThat(budget.held()).isZero();
        assertThat(heap.handedOut).allMatch(buffer -> buffer.refCnt() == 0, "released");
        assertThat(failures).isEmpty();
    }

    /**
     * Small bodies held in memory share one budget: one that would take it past goes to its file, as a large body does,
     * and what a released body held is free again. Thousands of clients each holding most of a small body held 64 KiB
     * each, more than a small machine's memory, and the event loops stalled waiting for it.
     */
    @Test
    void smallBodiesBeyondTheSharedMemoryBudgetGoToTheirFiles() throws Exception {
        SpooledBody.MemoryBudget budget = new SpooledBody.MemoryBudget(1000);
        List<SpooledBody> bodies = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            bodies.add(new SpooledBody(client, paused -> client.config().setAutoRead(!paused), 4096, dir,
                    Duration.ofSeconds(60), failures::add, SpooledBody.THREADS, budget));
        }
        CountDownLatch ready = new CountDownLatch(3);
        onLoop(() -> {
            bodies.get(0).add(Unpooled.wrappedBuffer(bytes(600, 1)));
            bodies.get(1).add(Unpooled.wrappedBuffer(bytes(300, 2)));
            bodies.get(1).add(Unpooled.wrappedBuffer(bytes(300, 3))); // 1 200 together: past the budget
            bodies.subList(0, 2).forEach(body -> body.finish(ready::countDown));
        });
        awaitSpoolFilesOpen(1);
        for (int i = 0; i < 1000 && budget.held() != 600; i++) {
            Thread.sleep(10); // the second body's 300 bytes count until its file has them
        }
        assertThat(budget.held()).as("the first body's alone").isEqualTo(600);
        onLoop(() -> {
            bodies.get(0).release();
            assertThat(budget.held()).isZero();
            bodies.get(2).add(Unpooled.wrappedBuffer(bytes(900, 4)));
            assertThat(budget.held()).as("free again for the next").isEqualTo(900);
            bodies.get(2).finish(ready::countDown);
        });
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(spoolFilesOpen()).as("the second body's file alone").isEqualTo(1);
        assertThat(spoolFileContent()).isEqualTo(concat(bytes(300, 2), bytes(300, 3)));
        onLoop(() -> bodies.forEach(SpooledBody::release));
        assertThat(budget.held()).isZero();
        awaitSpoolFilesOpen(0);
        assertThat(failures).isEmpty();
    }

    /**
     * A body that leaves memory past its size holds what it had in memory until the spool thread has written it, and
     * counts in the budget until then: given back at once, the next bodies took the budget again while the disk lagged,
     * each of them up to a location's client-body-buffer-size (64 MiB), and the heap held bodies waiting for the disk
     * past any budget.
     */
    @Test
    void aBodyLeavingMemoryCountsInTheBudgetUntilItsBytesAreWritten() throws Exception {
        SpooledBody.MemoryBudget budget = new SpooledBody.MemoryBudget(1000);
        List<Runnable> heldBack = new CopyOnWriteArrayList<>(); // a disk that lags: the file tasks wait
        SpooledBody leaving = new SpooledBody(client, paused -> client.config().setAutoRead(!paused), 800, dir,
                Duration.ofSeconds(60), failures::add, heldBack::add, budget);
        SpooledBody next = new SpooledBody(client, paused -> client.config().setAutoRead(!paused), 800, dir,
                Duration.ofSeconds(60), failures::add, SpooledBody.THREADS, budget);
        onLoop(() -> {
            leaving.add(Unpooled.wrappedBuffer(bytes(700, 1)));
            leaving.add(Unpooled.wrappedBuffer(bytes(200, 2))); // past its size: all of it to the file
            assertThat(budget.held()).as("its 700 bytes wait for the disk").isEqualTo(700);
            next.add(Unpooled.wrappedBuffer(bytes(600, 3)));
            assertThat(budget.held()).as("no room for the next body's: its file").isEqualTo(700);
        });
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run(); // written
        }
        assertThat(budget.held()).as("free once written").isZero();
        onLoop(() -> {
            leaving.release();
            next.release();
        });
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run(); // its file closed
        }
        awaitSpoolFilesOpen(0);
        assertThat(budget.held()).isZero();
        assertThat(failures).isEmpty();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @Test
    void aLargerBodyGoesToAnUnlinkedFileAndIsReadyOnceWrittenThenReleasedWithIt() throws Exception {
        SpooledBody body = body(1024, dir);
        CountDownLatch ready = new CountDownLatch(1);
        onLoop(() -> {
            for (int i = 0; i < 10; i++) {
                body.add(Unpooled.wrappedBuffer(bytes(1024, i)));
            }
            body.finish(() -> {
                assertThat(client.eventLoop().inEventLoop()).as("ready on the loop").isTrue();
                ready.countDown();
            });
        });
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(spoolFilesOpen()).as("one file, open and unlinked").isEqualTo(1);
        try (Stream<Path> names = Files.list(dir)) {
            assertThat(names).as("nobody else sees it").isEmpty();
        }
        onLoop(() -> {
            assertThat(body.length()).isEqualTo(10 * 1024);
            body.release();
        });
        awaitSpoolFilesOpen(0);
        assertThat(failures).isEmpty();
    }

    /**
     * A body held in memory up to a large client-body-buffer-size goes to its file, past it, without the spool thread
     * keeping a copy of it in direct memory: the JDK writes a heap buffer through a temporary direct one as large as
     * what it is given, and keeps that one for the thread's next write, so a 16 MiB body held in memory cost 16 MiB of
     * direct memory for as long as edge ran (64 MiB, the size's most, for each of the two spool threads), outside any
     * budget: the direct memory requests, files and answers are read into.
     */
    @Test
    void aLargeBodyLeavingMemoryLeavesNoDirectCopyOfItBehind() throws Exception {
        int limit = 16 << 20;
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow();
        SpooledBody body = body(limit, dir);
        CountDownLatch ready = new CountDownLatch(1);
        long before = direct.getMemoryUsed();
        onLoop(() -> {
            for (int i = 0; i < limit / 8192; i++) {
                body.add(Unpooled.wrappedBuffer(bytes(8192, i)));
            }
            body.add(Unpooled.wrappedBuffer(bytes(1, 0))); // one byte past it: all of it to the file
            body.finish(ready::countDown);
        });
        assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue();
        onLoop(body::release);
        awaitSpoolFilesOpen(0);
        assertThat(direct.getMemoryUsed() - before).as("direct memory the spool's writes keep").isLessThan(limit / 4);
        assertThat(failures).isEmpty();
    }

    /**
     * A chunked body of many tiny chunks (one byte each: six bytes of framing per byte of body) costs one file task per
     * gathered run of them, not one per chunk: each task is a hand-off to a spool thread, a write(2) and an answer on
     * the loop, which nginx, appending them to one buffer, does not pay.
     */
    @Test
    void tinyChunksPastTheMemoryLimitAreGatheredIntoFewFileWritesInOrder() throws Exception {
        AtomicInteger fileTasks = new AtomicInteger();
        SpooledBody body = new SpooledBody(client, paused -> client.config().setAutoRead(!paused), 1024, dir,
                Duration.ofSeconds(60), failures::add, task -> {
                    fileTasks.incrementAndGet();
                    SpooledBody.THREADS.execute(task);
                });
        byte[] sent = bytes(1024 + 20_000, 3);
        CountDownLatch ready = new CountDownLatch(1);
        onLoop(() -> {
            for (byte b : sent) {
                body.add(Unpooled.wrappedBuffer(new byte[] {b}));
            }
            body.finish(ready::countDown);
        });
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(fileTasks.get()).as("file tasks for %d one-byte chunks", sent.length).isLessThanOrEqualTo(4);
        assertThat(spoolFileContent()).isEqualTo(sent);
        onLoop(body::release);
        awaitSpoolFilesOpen(0);
        assertThat(failures).isEmpty();
    }

    @Test
    void theClientsReadingPausesWhileTooMuchWaitsForTheDiskAndResumesAfter() throws Exception {
        SpooledBody body = body(1024, dir);
        CountDownLatch ready = new CountDownLatch(1);
        boolean[] pausedAfterAdds = new boolean[1];
        onLoop(() -> {
            for (int i = 0; i < 5; i++) {
                body.add(Unpooled.wrappedBuffer(new byte[SpooledBody.HIGH_WATER / 4]));
            }
            pausedAfterAdds[0] = !client.config().isAutoRead();
            body.finish(ready::countDown);
        });
        assertThat(pausedAfterAdds[0]).as("more than the high-water mark queued for the disk: paused").isTrue();
        assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
        boolean[] readingAfterWrites = new boolean[1];
        onLoop(() -> readingAfterWrites[0] = client.config().isAutoRead());
        assertThat(readingAfterWrites[0]).as("all written: reading again").isTrue();
        onLoop(body::release);
        awaitSpoolFilesOpen(0);
    }

    @Test
    void aBodyThatCannotBeSpooledIsReportedOnceNeverReadyAndReleasesItself() throws Exception {
        SpooledBody body = body(1024, dir.resolve("missing"));
        AtomicInteger ready = new AtomicInteger();
        boolean[] pausedAfterAdds = new boolean[1];
        onLoop(() -> {
            for (int i = 0; i < 5; i++) {
                body.add(Unpooled.wrappedBuffer(new byte[SpooledBody.HIGH_WATER / 2]));
            }
            pausedAfterAdds[0] = !client.config().isAutoRead();
        });
        assertThat(pausedAfterAdds[0]).isTrue();
        awaitFailure();
        onLoop(() -> {
            assertThat(client.config().isAutoRead()).as("released by the failure: reading again").isTrue();
            body.add(Unpooled.wrappedBuffer(new byte[100])); // after the failure: dropped
            body.finish(ready::incrementAndGet);
        });
        onLoop(() -> { }); // whatever the spool threads still hand back has run
        assertThat(ready).as("never ready").hasValue(0);
        assertThat(failures).hasSize(1);
        assertThat(failures.get(0)).hasMessageContaining("missing");
    }

    @Test
    void aSpoolDirectoryOthersMayWriteInIsRefusedAndGetsNoFile() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx")); // not sticky
        SpooledBody body = body(1024, dir);
        AtomicInteger ready = new AtomicInteger();
        onLoop(() -> {
            body.add(Unpooled.wrappedBuffer(bytes(4096, 1)));
            body.finish(ready::incrementAndGet);
        });
        awaitFailure();
        onLoop(() -> { });
        assertThat(failures.get(0)).hasMessage("request body spool directory " + dir
                + " is writable by all, mode 0777 (expected: not writable by others, or sticky)");
        assertThat(ready).as("never ready").hasValue(0);
        assertThat(spoolFilesOpen()).isZero();
        try (Stream<Path> names = Files.list(dir)) {
            assertThat(names).isEmpty();
        }
    }

    /** A directory shared with a group (a php-fpm group, 0770 or 2770) is not refused: only one others may write. */
    @Test
    void aGroupWritableSpoolDirectoryIsTaken() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwx---"));
        SpooledBody.checkSpoolDir(dir);
        try (FileChannel file = SpooledBody.openUnlinked(dir)) {
            assertThat(file.write(ByteBuffer.wrap(bytes(10, 1)))).isEqualTo(10);
        }
    }

    @Test
    void aStickyDirectoryOthersMayWriteInIsTakenAsTmpIs() throws Exception {
        assertThat(new ProcessBuilder("chmod", "1777", dir.toString()).inheritIO().start().waitFor()).isZero();
        try (FileChannel file = SpooledBody.openUnlinked(dir); Stream<Path> names = Files.list(dir)) {
            assertThat(names).as("unlinked at once").isEmpty();
            assertThat(file.write(ByteBuffer.wrap(bytes(10, 1)))).isEqualTo(10);
        }
    }

    @Test
    void aSpoolThatTakesNothingWhileTheClientWaitsFailsTheBodyAfterTheStallTimeout() throws Exception {
        List<Runnable> heldBack = new CopyOnWriteArrayList<>(); // a disk that hangs: no file task runs
        SpooledBody body = new SpooledBody(client, paused -> client.config().setAutoRead(!paused), 1024, dir,
                Duration.ofMillis(50), failures::add, heldBack::add);
        AtomicInteger ready = new AtomicInteger();
        onLoop(() -> {
            for (int i = 0; i < 5; i++) {
                body.add(Unpooled.wrappedBuffer(new byte[SpooledBody.HIGH_WATER / 2]));
            }
            body.finish(ready::incrementAndGet);
            assertThat(client.config().isAutoRead()).as("paused behind the disk").isFalse();
        });
        awaitFailure();
        assertThat(failures.get(0)).hasMessageContaining("took no bytes for 50 ms");
        onLoop(() -> assertThat(client.config().isAutoRead()).as("failed and released: reading again").isTrue());
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run(); // the disk comes back: the tasks see the body released and drop their buffers
        }
        onLoop(() -> { });
        assertThat(ready).as("never ready").hasValue(0);
        assertThat(failures).hasSize(1);
    }

    private void awaitFailure() throws Exception {
        for (int i = 0; i < 1000 && failures.isEmpty(); i++) {
            Thread.sleep(10);
        }
        assertThat(failures).as("failure reported").isNotEmpty();
    }

    private void awaitSpoolFilesOpen(int expected) throws Exception {
        for (int i = 0; i < 1000 && spoolFilesOpen() != expected; i++) {
            Thread.sleep(10);
        }
        assertThat(spoolFilesOpen()).isEqualTo(expected);
    }

    /** What the one spool file in {@link #dir} holds, read through this process's descriptor on it. */
    private byte[] spoolFileContent() throws IOException {
        String prefix = dir.toRealPath() + "/edge-body-";
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith(prefix)) {
                        return Files.readAllBytes(fd);
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own descriptor, or one closed since
                }
            }
        }
        throw new IOException("no spool file open in " + dir);
    }

    /** Descriptors of this process on deleted spool files in {@link #dir}. */
    private long spoolFilesOpen() throws IOException {
        return SpoolFiles.open(dir.toRealPath() + "/edge-body-");
    }
}
