package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
        return new ResponseSpool(client, memory, maxFile, dir, failures::add, roomMade::incrementAndGet);
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
            CompletableFuture<ByteBuf> next = new CompletableFuture<>();
            onLoop(() -> {
                ByteBuf chunk = spool.poll();
                if (chunk != null) {
                    next.complete(chunk);
                } else {
                    spool.readNext(next::complete);
                }
            });
            ByteBuf chunk = next.get(10, TimeUnit.SECONDS);
            out.write(ByteBufUtil.getBytes(chunk));
            chunk.release();
        }
        return out.toByteArray();
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
            assertThat(spoolFilesOpen()).as("one file, unlinked").isEqualTo(1);
            try (Stream<Path> names = Files.list(dir)) {
                assertThat(names).as("nobody else sees it").isEmpty();
            }
            // some of it taken (a memory chunk, a file read or two), then more arrives behind the rest
            for (int i = 0; i < 2; i++) {
                CompletableFuture<ByteBuf> next = new CompletableFuture<>();
                onLoop(() -> {
                    ByteBuf chunk = spool.poll();
                    if (chunk != null) {
                        next.complete(chunk);
                    } else {
                        spool.readNext(next::complete);
                    }
                });
                ByteBuf chunk = next.get(10, TimeUnit.SECONDS);
                got.write(ByteBufUtil.getBytes(chunk));
                chunk.release();
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
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, roomMade::incrementAndGet,
                heldBack::add);
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
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir, failures::add, roomMade::incrementAndGet,
                heldBack::add);
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

    @Test
    void aFileThatCannotBeMadeFailsOnceAndReleasesEverything() throws Exception {
        ResponseSpool spool = new ResponseSpool(client, 1024, 1 << 20, dir.resolve("missing"), failures::add,
                roomMade::incrementAndGet);
        List<ByteBuf> chunks = new ArrayList<>();
        onLoop(() -> {
            for (int i = 0; i < 4; i++) {
                ByteBuf chunk = chunk(bytes(1000, i));
                chunks.add(chunk);
                spool.add(chunk);
            }
        });
        for (int i = 0; i < 1000 && failures.isEmpty(); i++) {
            Thread.sleep(10);
        }
        onLoop(() -> { });
        assertThat(failures).hasSize(1);
        assertThat(chunks).allMatch(c -> c.refCnt() == 0);
        assertThat(onLoop(spool::poll)).isNull();
        onLoop(() -> spool.add(chunk(bytes(10, 1)))); // dropped, and released
        assertThat(failures).hasSize(1);
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
        String prefix = dir.toRealPath() + "/edge-response-";
        long open = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(prefix) && target.endsWith(" (deleted)")) {
                        open++;
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own descriptor, or one closed since
                }
            }
        }
        return open;
    }
}
