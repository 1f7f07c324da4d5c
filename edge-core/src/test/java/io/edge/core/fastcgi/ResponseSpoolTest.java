package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The part of a response a slow client has not taken: memory, then an unlinked file, handed back in order. */
class ResponseSpoolTest {

    @TempDir
    Path dir;

    private LocalConnection connection;
    private Channel client;
    private final List<IOException> failures = new CopyOnWriteArrayList<>();
    private final List<IOException> withoutFile = new CopyOnWriteArrayList<>();
    private final AtomicInteger roomMade = new AtomicInteger();

    @BeforeEach
    void connect() throws Exception {
        connection = new LocalConnection();
        client = connection.client;
    }

    @AfterEach
    void close() throws Exception {
        connection.close();
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> task) throws Exception {
        return client.eventLoop().submit(task).get(10, TimeUnit.SECONDS);
    }

    private void onLoop(Runnable task) throws Exception {
        client.eventLoop().submit(task).get(10, TimeUnit.SECONDS);
    }

    private ResponseSpool spool(int memory, long maxFile) {
        return new ResponseSpool(client, memory, maxFile, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet);
    }

    private static byte[] bytes(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + seed);
        }
        return bytes;
    }

    /** A direct copy of {@code bytes}, as the backend's reads give: its release can be checked. */
    private static ByteBuf chunk(byte[] bytes) {
        return Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    }

    /** Everything {@code spool} holds, in the order it hands it out (on the loop, file reads awaited). */
    private byte[] drain(ResponseSpool spool) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (onLoop(() -> !spool.isEmpty())) {
            out.write(takeOne(spool));
        }
        return out.toByteArray();
    }

    /** Asks {@code spool} for its next chunk: polled at once, or completed once read from its file. */
    private CompletableFuture<ByteBuf> ask(ResponseSpool spool) throws Exception {
        CompletableFuture<ByteBuf> next = new CompletableFuture<>();
        onLoop(() -> {
            ByteBuf chunk = spool.poll();
            if (chunk != null) {
                next.complete(chunk);
            } else {
                spool.readNext(next::complete);
            }
        });
        return next;
    }

    @Test
    void aResponseWithinTheMemoryBufferNeverMakesAFile() throws Exception {
        ResponseSpool spool = spool(4096, 1 << 20);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        onLoop(() -> {
            for (int i = 0; i < 4; i++) {
                byte[] b = bytes(1024, i);
                expected.writeBytes(b);
                spool.add(chunk(b));
            }
            assertThat(spool.isFull()).isFalse();
        });
        assertThat(drain(spool)).isEqualTo(expected.toByteArray());
        assertThat(onLoop(spool::usedFile)).isFalse();
        assertThat(spoolFilesOpen()).isZero();
        onLoop(spool::release);
        assertThat(failures).isEmpty();
    }

    @Test
    void memoryThenFileComeBackInOrderWhileMoreArrives() throws Exception {
        ResponseSpool spool = spool(4096, 1 << 20);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int seed = 0;
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 40; i++) { // 3000 bytes each: one fits in memory, the rest go to the file
                byte[] b = bytes(3000, seed++);
                expected.writeBytes(b);
                onLoop(() -> spool.add(chunk(b)));
            }
            assertThat(onLoop(spool::usedFile)).isTrue();
            awaitSpoolFilesOpen(1); // one file, unlinked: made by the first file task, on a spool thread
            try (Stream<Path> names = Files.list(dir)) {
                assertThat(names).as("nobody else sees it").isEmpty();
            }
            // some of it taken (a memory chunk, a file read or two), then more arrives behind the rest
            for (int i = 0; i < 2; i++) {
                got.write(takeOne(spool));
            }
        }
        got.write(drain(spool));
        assertThat(got.toByteArray()).isEqualTo(expected.toByteArray());
        // emptied: the next bytes fit in memory again, and the file is written over from its start
        byte[] after = bytes(5000, 99);
        onLoop(() -> {
            spool.add(chunk(bytes(1000, 98)));
            spool.add(chunk(after));
        });
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        tail.writeBytes(bytes(1000, 98));
        tail.writeBytes(after);
        assertThat(drain(spool)).isEqualTo(tail.toByteArray());
        onLoop(spool::release);
        awaitSpoolFilesOpen(0);
        assertThat(failures).isEmpty();
    }

    /**
     * A paced answer writes a piece of a chunk and puts the rest back: it comes out first, before the memory chunks
     * and the file's bytes behind it, and the order of the whole is kept; one put back after release is dropped.
     */
    @Test
    void theRestOfAChunkPutBackComesOutFirst() throws Exception {
        ResponseSpool spool = spool(4096, 1 << 20);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 6; i++) { // 3000 bytes each: one in memory, the rest in the file
            byte[] b = bytes(3000, i);
            expected.writeBytes(b);
            onLoop(() -> spool.add(chunk(b)));
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) { // the memory chunk, then two of the file's reads, each a piece at a time
            ByteBuf chunk = ask(spool).get(10, TimeUnit.SECONDS);
            ByteBuf piece = chunk.readRetainedSlice(1000);
            got.write(ByteBufUtil.getBytes(piece));
            piece.release();
            onLoop(() -> spool.putBack(chunk));
        }
        got.write(drain(spool));
        assertThat(got.toByteArray()).isEqualTo(expected.toByteArray());
        onLoop(spool::release);
        ByteBuf late = chunk(bytes(10, 0));
        onLoop(() -> spool.putBack(late));
        assertThat(late.refCnt()).isZero();
        awaitSpoolFilesOpen(0);
        assertThat(failures).isEmpty();
    }

    @Test
    void aFullFileAsksForBackpressureUntilTheClientTakesSome() throws Exception {
        ResponseSpool spool = spool(1024, 8192);
        onLoop(() -> {
            for (int i = 0; i < 9; i++) {
                spool.add(chunk(bytes(1000, i)));
            }
        });
        awaitWritten(spool, 1000);
        assertThat(onLoop(spool::isFull)).as("8000 bytes in the file of 8192, and 1000 in memory").isFalse();
        onLoop(() -> spool.add(chunk(bytes(1000, 9))));
        awaitWritten(spool, 1000);
        assertThat(onLoop(spool::isFull)).as("the file at its max").isTrue();
        assertThat(drain(spool)).hasSize(10_000);
        assertThat(onLoop(spool::isFull)).isFalse();
        onLoop(spool::release);
        awaitSpoolFilesOpen(0);
    }

    /** Bytes waiting for the disk count as memory: a disk slower than the backend stops it, and catching up resumes it. */
    @Test
    void aDiskThatCatchesUpMakesRoomWithoutTheClient() throws Exception {
        List<Runnable> heldBack = new CopyOnWriteArrayList<>();
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet, heldBack::add, ResponseSpool.FileOpener.UNLINKED);
        onLoop(() -> {
            for (int i = 0; i < 3; i++) {
                spool.add(chunk(bytes(1000, i))); // one in memory, two for the file
            }
        });
        assertThat(onLoop(spool::isFull)).isTrue();
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run();
            onLoop(() -> { });
        }
        assertThat(onLoop(spool::isFull)).isFalse();
        assertThat(roomMade).as("told once, when the second write was done").hasValue(1);
        onLoop(spool::release);
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run(); // the close
        }
        awaitSpoolFilesOpen(0);
    }

    @Test
    void withoutATempFileTheMemoryBufferAloneAsksForBackpressure() throws Exception {
        ResponseSpool spool = spool(0, 0); // buffering off: the first byte held stops the backend, as before
        onLoop(() -> spool.add(chunk(bytes(10, 1))));
        assertThat(onLoop(spool::isFull)).isTrue();
        assertThat(drain(spool)).isEqualTo(bytes(10, 1));
        assertThat(onLoop(spool::isFull)).isFalse();
        assertThat(onLoop(spool::usedFile)).isFalse();
        onLoop(spool::release);
    }

    @Test
    void releasedMidwayEveryBufferIsReleasedAndTheFileClosed() throws Exception {
        List<Runnable> heldBack = new CopyOnWriteArrayList<>(); // a slow disk: file tasks wait
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet, heldBack::add, ResponseSpool.FileOpener.UNLINKED);
        List<ByteBuf> chunks = new ArrayList<>();
        onLoop(() -> {
            for (int i = 0; i < 5; i++) {
                ByteBuf chunk = chunk(bytes(1000, i));
                chunks.add(chunk);
                spool.add(chunk);
            }
        });
        assertThat(heldBack).as("the first of four writes waiting for the disk").hasSize(1);
        heldBack.remove(0).run(); // the first one is written: the file is open
        awaitSpoolFilesOpen(1);
        onLoop(() -> {
            spool.readNext(read -> {
                throw new AssertionError("nothing is handed out after the release");
            });
            spool.release(); // the client left
        });
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run();
        }
        onLoop(() -> { });
        assertThat(chunks).allMatch(c -> c.refCnt() == 0);
        awaitSpoolFilesOpen(0);
        assertThat(onLoop(spool::poll)).isNull();
        assertThat(failures).isEmpty();
    }

    /** A directory that is not there (or read-only): nothing is lost, the response is held in memory instead. */
    @Test
    void aFileThatCannotBeMadeLeavesTheResponseInMemory() throws Exception {
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir.resolve("missing"), failures::add,
                withoutFile::add, roomMade::incrementAndGet).gatherBelow(0); // the chunks themselves are held
        List<ByteBuf> chunks = new ArrayList<>();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        onLoop(() -> {
            for (int i = 0; i < 4; i++) {
                byte[] b = bytes(1000, i);
                expected.writeBytes(b);
                ByteBuf chunk = chunk(b);
                chunks.add(chunk);
                spool.add(chunk);
            }
        });
        awaitFileTasks(spool, 4000);
        assertThat(withoutFile).as("told once").hasSize(1);
        assertThat(onLoop(spool::fileFailed)).isTrue();
        assertThat(onLoop(spool::isFull)).as("4000 bytes in memory, 1024 allowed").isTrue();
        assertThat(chunks).as("the chunks the file did not take are held").allMatch(c -> c.refCnt() == 1);
        assertThat(drain(spool)).isEqualTo(expected.toByteArray());
        assertThat(onLoop(spool::isFull)).isFalse();
        onLoop(() -> spool.add(chunk(bytes(10, 1)))); // in memory, the file is not tried again
        assertThat(drain(spool)).isEqualTo(bytes(10, 1));
        onLoop(spool::release);
        assertThat(chunks).allMatch(c -> c.refCnt() == 0);
        assertThat(withoutFile).hasSize(1);
        assertThat(failures).isEmpty();
    }

    /**
     * A script that flushes every few bytes to a slow client: past the memory buffer its small chunks are gathered
     * into a few file writes (one file task each, not one per chunk; a memory buffer's worth each at most), and come
     * back whole and in order, also while more arrive between reads.
     */
    @Test
    void smallChunksPastTheMemoryBufferAreGatheredIntoFewFileWritesInOrder() throws Exception {
        AtomicInteger spoolTasks = new AtomicInteger();
        ResponseSpool spool = new ResponseSpool(client, 16 * 1024, 1 << 20, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet, task -> {
                    spoolTasks.incrementAndGet();
                    SpooledBody.THREADS.execute(task);
                }, ResponseSpool.FileOpener.UNLINKED);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        onLoop(() -> {
            for (int i = 0; i < 20_000; i++) {
                byte[] b = bytes(1 + i % 7, i);
                expected.writeBytes(b);
                spool.add(chunk(b));
            }
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        got.write(takeOne(spool)); // the memory part, then the first read of the file
        got.write(takeOne(spool));
        onLoop(() -> {
            for (int i = 0; i < 5_000; i++) {
                byte[] b = bytes(3, i);
                expected.writeBytes(b);
                spool.add(chunk(b));
            }
        });
        got.write(drain(spool));
        assertThat(got.toByteArray()).isEqualTo(expected.toByteArray());
        assertThat(spoolTasks.get()).as("file tasks for 95 000 bytes in 25 000 chunks").isLessThan(20);
        onLoop(spool::release);
        awaitSpoolFilesOpen(0);
        assertThat(failures).isEmpty();
    }

    /**
     * {@code response-buffer.memory} bounds what a response holds, also while its small chunks are gathered for the
     * file: the gathering buffer was 64 KiB whatever the limit, sixteen times a 4 KiB one, and held for as long as
     * the client was slow. The chunks still come back whole and in order.
     */
    @Test
    void theBufferGatheringSmallChunksIsNoLargerThanTheMemoryLimit() throws Exception {
        LargestDirectBuffer alloc = new LargestDirectBuffer();
        client.config().setAllocator(alloc);
        ResponseSpool spool = spool(4096, 1 << 20);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        onLoop(() -> {
            for (int i = 0; i < 200; i++) { // 4 KiB in memory, the rest to the file through the gathering buffer
                byte[] b = bytes(1 + i % 60, i);
                expected.writeBytes(b);
                spool.add(chunk(b));
            }
        });
        assertThat(onLoop(spool::usedFile)).isTrue();
        assertThat(alloc.largest).as("the largest buffer the spool took").isLessThanOrEqualTo(4096);
        assertThat(drain(spool)).isEqualTo(expected.toByteArray());
        onLoop(spool::release);
        assertThat(failures).isEmpty();
    }

    /** Unpooled buffers, the capacity of the largest direct one remembered. */
    private static final class LargestDirectBuffer extends FastCgiResponderTest.BufferTracker {
        volatile int largest;

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            largest = Math.max(largest, initialCapacity);
            return super.newDirectBuffer(initialCapacity, maxCapacity);
        }
    }

    /** Gathered chunks on a disk that fills up: what the file did not take is held, nothing is lost, in order. */
    @Test
    void gatheredChunksADiskCouldNotTakeAreHeldInOrder() throws Exception {
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet, SpooledBody.THREADS, failingAfter(70_000));
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        onLoop(() -> {
            for (int i = 0; i < 2_000; i++) { // 200 000 bytes: the file takes 70 000 of them
                byte[] b = bytes(100, i);
                expected.writeBytes(b);
                spool.add(chunk(b));
            }
        });
        assertThat(drain(spool)).isEqualTo(expected.toByteArray());
        assertThat(withoutFile).as("told once").hasSize(1);
        assertThat(onLoop(spool::fileFailed)).isTrue();
        onLoop(spool::release);
        awaitSpoolFilesOpen(0);
        assertThat(failures).isEmpty();
    }

    /**
     * The disk fills up mid-response (the write fails halfway through a chunk): what the file took is read back, the
     * chunk it failed on and those after it are held in memory, in order, and the backend is held back from then on.
     */
    @Test
    void aWriteThatFailsLosesNothingAndTheSpoolStaysFull() throws Exception {
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet, SpooledBody.THREADS, failingAfter(3500))
                .gatherBelow(0); // a file task per chunk: the failure falls inside the fourth
        List<ByteBuf> chunks = new ArrayList<>();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        onLoop(() -> {
            for (int i = 0; i < 7; i++) { // one in memory; the file takes three and half of the fourth
                byte[] b = bytes(1000, i);
                expected.writeBytes(b);
                ByteBuf chunk = chunk(b);
                chunks.add(chunk);
                spool.add(chunk);
            }
        });
        awaitFileTasks(spool, 1000 + 3000);
        assertThat(withoutFile).as("told once").hasSize(1);
        assertThat(withoutFile.get(0)).hasMessageContaining("No space left on device");
        assertThat(onLoop(spool::fileFailed)).isTrue();
        assertThat(onLoop(spool::isFull)).isTrue();
        assertThat(spoolFilesOpen()).as("the file stays open: what it holds is still read back").isEqualTo(1);
        assertThat(chunks.subList(1, 4)).as("written and released").allMatch(c -> c.refCnt() == 0);
        assertThat(chunks.subList(4, 7)).as("the failed write's chunk and those after it, held").allMatch(
                c -> c.refCnt() == 1);

        // taken a chunk at a time: full while the file holds anything or memory is past its limit
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        List<Boolean> fullAfterEach = new ArrayList<>();
        while (onLoop(() -> !spool.isEmpty())) {
            got.write(takeOne(spool));
            fullAfterEach.add(onLoop(spool::isFull));
        }
        assertThat(got.toByteArray()).isEqualTo(expected.toByteArray());
        // the memory chunk (the file still holds 3000), one read of the file's 3000, then the three held chunks:
        // 2000 left in memory (over 1024), then 1000, then none
        assertThat(fullAfterEach).containsExactly(true, true, true, false, false);

        onLoop(() -> spool.add(chunk(bytes(2000, 9)))); // held in memory from now on, never in the file
        assertThat(onLoop(spool::isFull)).isTrue();
        assertThat(drain(spool)).isEqualTo(bytes(2000, 9));
        onLoop(spool::release);
        awaitSpoolFilesOpen(0);
        assertThat(chunks).allMatch(c -> c.refCnt() == 0);
        assertThat(withoutFile).hasSize(1);
        assertThat(failures).isEmpty();
        assertThat(roomMade).as("room is made by the client, not the disk").hasValue(0);
    }

    /**
     * The order the loop and the file tasks meet in, set by hand: a read asked for before the loop hears of the failed
     * write it covers, and a chunk added while chunks from before the failure are still on their way back.
     */
    @Test
    void aWriteFailureRacingAReadAndNewChunksKeepsTheOrder() throws Exception {
        List<Runnable> heldBack = new CopyOnWriteArrayList<>();
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet, heldBack::add, failingAfter(1000));
        List<ByteBuf> chunks = new ArrayList<>();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 4; i++) { // 0 in memory; 1 written, 2 fails, 3 skipped
            byte[] b = bytes(1000, i);
            expected.writeBytes(b);
            ByteBuf chunk = chunk(b);
            chunks.add(chunk);
            onLoop(() -> spool.add(chunk));
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        got.write(takeOne(spool)); // chunk 0, from memory
        CompletableFuture<ByteBuf> read = new CompletableFuture<>();
        onLoop(() -> spool.readNext(read::complete)); // asks for 3000 bytes of the file
        heldBack.remove(0).run(); // chunk 1 written
        heldBack.remove(0).run(); // chunk 2 fails
        onLoop(() -> { }); // the loop hears of it; chunk 3 is still with the file tasks
        assertThat(withoutFile).hasSize(1);
        byte[] four = bytes(1000, 4);
        expected.writeBytes(four);
        ByteBuf chunk4 = chunk(four);
        chunks.add(chunk4);
        onLoop(() -> spool.add(chunk4)); // newer than chunk 3: must come after it
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run();
        }
        ByteBuf first = read.get(10, TimeUnit.SECONDS);
        assertThat(first.readableBytes()).as("the file's part ends where the write failed").isEqualTo(1000);
        got.write(ByteBufUtil.getBytes(first));
        first.release();
        while (onLoop(() -> !spool.isEmpty())) {
            CompletableFuture<ByteBuf> next = ask(spool);
            while (!next.isDone()) {
                assertThat(heldBack).as("a file task to run").isNotEmpty();
                heldBack.remove(0).run();
            }
            ByteBuf chunk = next.get(10, TimeUnit.SECONDS);
            got.write(ByteBufUtil.getBytes(chunk));
            chunk.release();
        }
        assertThat(got.toByteArray()).isEqualTo(expected.toByteArray());
        onLoop(spool::release);
        while (!heldBack.isEmpty()) {
            heldBack.remove(0).run(); // the close
        }
        awaitSpoolFilesOpen(0);
        assertThat(chunks).allMatch(c -> c.refCnt() == 0);
        assertThat(failures).isEmpty();
    }

    /** Only a file that cannot be read back loses the response: told once, everything released. */
    @Test
    void aReadThatFailsFailsOnceAndReleasesEverything() throws Exception {
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, withoutFile::add,
                roomMade::incrementAndGet, SpooledBody.THREADS, d -> new FaultyFile(
                        SpooledBody.openUnlinked(d, "edge-response-"), Long.MAX_VALUE, true));
        List<ByteBuf> chunks = new ArrayList<>();
        onLoop(() -> {
            for (int i = 0; i < 4; i++) {
                ByteBuf chunk = chunk(bytes(1000, i));
                chunks.add(chunk);
                spool.add(chunk);
            }
        });
        awaitWritten(spool, 1000);
        ByteBuf first = onLoop(spool::poll);
        first.release();
        onLoop(() -> spool.readNext(read -> {
            throw new AssertionError("nothing is handed out after the failure");
        }));
        for (int i = 0; i < 1000 && failures.isEmpty(); i++) {
            Thread.sleep(10);
        }
        onLoop(() -> { });
        assertThat(failures).hasSize(1);
        assertThat(withoutFile).isEmpty();
        assertThat(chunks).allMatch(c -> c.refCnt() == 0);
        assertThat(onLoop(spool::poll)).isNull();
        onLoop(() -> spool.add(chunk(bytes(10, 1)))); // dropped, and released
        awaitSpoolFilesOpen(0);
        assertThat(failures).hasSize(1);
    }

    /** The next bytes {@code spool} hands out (a memory chunk, or a file read, awaited). */
    private byte[] takeOne(ResponseSpool spool) throws Exception {
        ByteBuf chunk = ask(spool).get(10, TimeUnit.SECONDS);
        byte[] bytes = ByteBufUtil.getBytes(chunk);
        chunk.release();
        return bytes;
    }

    /** Opens spool files in {@code dir} as usual, on a disk that is full after {@code bytes} bytes. */
    private static ResponseSpool.FileOpener failingAfter(long bytes) {
        return dir -> new FaultyFile(SpooledBody.openUnlinked(dir, "edge-response-"), bytes, false);
    }

    /**
     * A real (unlinked) file whose positional writes fail past {@code room} bytes, as on a full tmpfs (the write that
     * crosses it writes what fits; the next one fails), or whose reads fail.
     */
    private static final class FaultyFile extends FileChannel {
        private final FileChannel file;
        private final long room;
        private final boolean readsFail;
        private long written;

        FaultyFile(FileChannel file, long room, boolean readsFail) {
            this.file = file;
            this.room = room;
            this.readsFail = readsFail;
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            long left = room - written;
            if (left <= 0) {
                throw new IOException("No space left on device");
            }
            ByteBuffer part = src.duplicate();
            part.limit(part.position() + (int) Math.min(part.remaining(), left));
            int n = file.write(part, position);
            src.position(src.position() + n);
            written += n;
            return n;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            if (readsFail) {
                throw new IOException("Input/output error");
            }
            return file.read(dst, position);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public long position() throws IOException {
            return file.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            file.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            file.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            file.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void implCloseChannel() throws IOException {
            file.close();
        }
    }

    /**
     * Waits until the loop heard back from every file task (written, or kept as the file failed): memory then holds
     * {@code expected} bytes.
     */
    private void awaitFileTasks(ResponseSpool spool, long expected) throws Exception {
        for (int i = 0; i < 1000 && onLoop(spool::unwrittenBytes) != 0; i++) {
            Thread.sleep(10);
        }
        assertThat(onLoop(spool::unwrittenBytes)).isZero();
        assertThat(onLoop(spool::memoryBytes)).isEqualTo(expected);
    }

    /** Waits until the file tasks wrote all they were given: memory holds {@code expected} bytes. */
    private void awaitWritten(ResponseSpool spool, long expected) throws Exception {
        for (int i = 0; i < 1000 && onLoop(spool::memoryBytes) != expected; i++) {
            Thread.sleep(10);
        }
        assertThat(onLoop(spool::memoryBytes)).isEqualTo(expected);
    }

    private void awaitSpoolFilesOpen(long expected) throws Exception {
        for (int i = 0; i < 1000 && spoolFilesOpen() != expected; i++) {
            Thread.sleep(10);
        }
        assertThat(spoolFilesOpen()).isEqualTo(expected);
    }

    /** Descriptors of this process on deleted response spool files in {@link #dir}. */
    private long spoolFilesOpen() throws IOException {
        return SpoolFiles.open(dir.toRealPath() + "/edge-response-");
    }
}
