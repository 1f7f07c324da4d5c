package io.edge.aio.file;

import static io.edge.aio.file.FileEngineContract.ALLOC;
import static io.edge.aio.file.FileEngineContract.REVALIDATE;
import static io.edge.aio.file.FileEngineContract.await;
import static io.edge.aio.file.FileEngineContract.deleteTree;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.debug.PoisoningAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * {@code static.poison-released-buffers}: with their reads' buffers from a poisoning allocator, the engines still
 * pass the contract, a released read buffer holds the poison, and no read buffer is written after its release
 * (the contract's truncated files, evictions and concurrent reads included).
 */
class PoisonedReadBuffersTest {

    /**
     * Reads {@code path} (holding {@code content}) whole through {@code engine}, checks the bytes, releases the buffer
     * and checks that its memory, kept from before the release, now holds the poison.
     */
    static void assertReleasedReadBufferIsPoisoned(FileEngine engine, Path path, byte[] content) throws Exception {
        OpenFile file = await(engine.open(path, true));
        try {
            ByteBuf buffer = await(engine.read(file, 0, content.length, ALLOC));
            ByteBuffer memory = buffer.nioBuffer(0, buffer.capacity()); // still allocated while quarantined
            assertThat(ByteBufUtil.getBytes(buffer)).isEqualTo(content);
            buffer.release();
            byte[] released = new byte[memory.capacity()];
            memory.get(0, released);
            byte[] poison = new byte[released.length];
            Arrays.fill(poison, PoisoningAllocator.POISON);
            assertThat(released).as("%s: a released read buffer", engine.getClass().getSimpleName())
                    .isEqualTo(poison);
        } finally {
            file.release();
        }
    }

    /** The contract with poisoned read buffers, and two checks of the poisoning itself. */
    abstract static class PoisonedContract extends FileEngineContract {

        final ReadBuffers readBuffers = ReadBuffers.poisoned();
        /** The cache {@link #newEngine} gave its engine. */
        OpenFileCache cache;

        @Override
        OpenFileCache cacheOf(FileEngine engine) {
            return cache;
        }

        /**
         * The thread pool and io_uring read a cold range into a buffer first; sendfile sends it from the file,
         * linux-aio-sendfile from its slab.
         */
        @Override
        boolean readsColdRangesBeforeSending() {
            return engine instanceof ThreadPoolEngine || engine instanceof IoUringEngine;
        }

        @AfterEach
        void noReadBufferWasWrittenAfterItsRelease() {
            readBuffers.close(); // checks every buffer still quarantined
            assertThat(readBuffers.writesAfterRelease()).isZero();
        }

        @Test
        void aReleasedReadBufferHoldsThePoison() throws Exception {
            byte[] content = bytes(5000, 5);
            assertReleasedReadBufferIsPoisoned(engine, Files.write(dir.resolve("poisoned"), content), content);
        }
    }

    @Nested
    class Threads extends PoisonedContract {

        @Override
        String configName() {
            return "threads";
        }

        @Override
        FileEngine newEngine(Ticker ticker) {
            cache = new OpenFileCache(16, REVALIDATE, 32, ticker);
            return new ThreadPoolEngine(cache, 2, 256, 1 << 20, 16 * 1024, Duration.ofSeconds(30), readBuffers, false);
        }
    }

    @Nested
    class Sendfile extends PoisonedContract {

        @Override
        String configName() {
            return "sendfile";
        }

        @Override
        FileEngine newEngine(Ticker ticker) {
            cache = new OpenFileCache(16, REVALIDATE, 32, ticker);
            return new SendfileEngine(cache, 1 << 20, 16 * 1024, readBuffers);
        }
    }

    /** Where the kernel writes the buffers itself, after the read was submitted; skipped without io_uring. */
    @Nested
    class IoUring extends PoisonedContract {

        @Override
        String configName() {
            return "io_uring";
        }

        @BeforeAll
        static void needsIoUring() {
            IoUringContract.needsIoUring();
        }

        @Override
        FileEngine newEngine(Ticker ticker) throws Exception {
            cache = OpenFileCache.withRawDescriptors(16, REVALIDATE, 32, ticker);
            return new IoUringEngine(cache, 2, 4, 1 << 20, 16 * 1024, Duration.ofSeconds(30), false, readBuffers);
        }
    }

    /**
     * Kernel AIO writes its slab, not read buffers; its reads into buffers (small files, the slab full) come
     * from the pool it falls back to. Files under {@code /var/tmp}, as {@link LinuxAioSendfileEngineTest}'s.
     */
    @Nested
    class LinuxAioSendfile extends PoisonedContract {

        @Override
        String configName() {
            return "linux-aio-sendfile";
        }

        @BeforeEach
        void filesOnADiskFileSystem() throws IOException {
            dir = Files.createTempDirectory(Path.of("/var/tmp"), "edge-aio-poison-test-");
        }

        @AfterEach
        void removeFiles() throws IOException {
            deleteTree(dir);
        }

        @Override
        FileEngine newEngine(Ticker ticker) {
            cache = OpenFileCache.withDirectDescriptors(16, REVALIDATE, 32, ticker);
            return new LinuxAioSendfileEngine(cache, 2, 4, 8, 1 << 20, 16 * 1024, Duration.ofSeconds(30),
                    LinuxAioSendfileEngine.SLAB_DIR, readBuffers);
        }
    }
}
