package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.PathPolicy;
import io.edge.aio.linux.PageCache;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FileRegion;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link FileEngine} must do, run against each engine by a subclass. Waits are bounded only so
 * a broken engine fails instead of hanging the build; nothing here depends on timing.
 */
abstract class FileEngineContract {

    static final Duration REVALIDATE = Duration.ofSeconds(5);
    static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @TempDir
    Path dir;
    final AtomicLong clock = new AtomicLong();
    FileEngine engine;

    /** A new engine over a cache of 16 entries, {@link #REVALIDATE}, a budget of 32, on {@code ticker}. */
    abstract FileEngine newEngine(Ticker ticker) throws Exception;

    /** The engine's open-file cache. */
    abstract OpenFileCache cacheOf(FileEngine engine);

    /** The engine's name in {@code static.engine}. */
    abstract String configName();

    @BeforeEach
    void createEngine() throws Exception {
        engine = newEngine(clock::get);
    }

    @AfterEach
    void closeEngine() {
        OpenFileCache cache = cacheOf(engine);
        engine.close();
        assertThat(cache.descriptorsInUse()).as("descriptors held after every release and close").isZero();
    }

    static <T> T await(CompletionStage<T> stage) throws Exception {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        }
    }

    /**
     * Tests that look at what the page cache holds need the natives ({@code mincore}); a machine without them fails
     * those tests with the reason rather than skipping them.
     */
    static void requirePageCacheVisible() {
        assertThat(PageCache.isAvailable()).as(() -> "page cache not visible: " + PageCache.unavailabilityCause())
                .isTrue();
    }

    /** Drops {@code path}'s pages from the page cache, as a cold disk would have them. */
    static void dropFromPageCache(Path path) throws Exception {
        dd(path, "count=0"); // posix_fadvise(DONTNEED) over the whole file
    }

    /** Drops {@code pages} 4 KiB pages of {@code path} from page {@code first} on; the others stay as they are. */
    static void dropFromPageCache(Path path, int first, int pages) throws Exception {
        // dd reads the range, then advises DONTNEED over what it read
        dd(path, "bs=4096", "skip=" + first, "count=" + pages, "of=/dev/null");
    }

    private static void dd(Path path, String... range) throws Exception {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true); // clean pages, so that dropping them loses nothing
        }
        List<String> command = new ArrayList<>(List.of("dd", "if=" + path, "iflag=nocache", "status=none"));
        command.addAll(List.of(range));
        Process dd = new ProcessBuilder(command).inheritIO().start();
        assertThat(dd.waitFor()).isZero();
    }

    /**
     * Opens {@code path} (9000 bytes, dropped from the page cache here) on {@code engine}'s pool, as every open on
     * a file server is, saying no body is expected: an engine whose file-server predicate says yes leaves it
     * unread, and still has it closed off the event loop.
     */
    static void assertNotReadAheadWithoutABody(FileEngine engine, Path path) throws Exception {
        requirePageCacheVisible();
        dropFromPageCache(path);
        // Links may leave the root: no root descriptor, so no inline open; the open goes to the pool as on FUSE.
        PathResolver resolver = new PathResolver(path.getParent(), new PathPolicy(false, true, true));
        OpenFile file = await(engine.open(resolver, resolver.resolveForOpen("/" + path.getFileName()), false));
        try {
            assertThat(PageCache.isResident(file.fd(), 0, 9000)).as("no body expected: not read").isFalse();
            assertThat(file.closer()).as("still closed off the event loop").isSameAs(FileServerFiles.CLOSER);
        } finally {
            file.release();
        }
    }

    /**
     * Loads the middle 64 KiB of {@code content}, written to {@code path} (so in the page cache), through
     * {@code engine}, then closes the engine: a file server's range ({@code fileServer}) is read into a buffer off the
     * caller, never sent by {@code sendfile} from it (FileServerFiles); a local one leaves as a region.
     */
    static void assertCachedRangeOfLargeFile(FileEngine engine, OpenFileCache cache, Path path, byte[] content,
            boolean fileServer) throws Exception {
        try (engine) {
            OpenFile file = await(engine.open(path, true));
            try {
                assertThat(PageCache.isResident(file.fd(), 65536, 65536)).as("written: in the page cache").isTrue();
                Object piece = await(engine.loadRegion(file, 65536, 65536));
                assertThat(piece).as(fileServer ? "a file server's: read off the caller" : "a local file's: sendfile")
                        .isInstanceOf(fileServer ? ByteBuf.class : FileRegion.class);
                assertThat(drain(piece)).isEqualTo(Arrays.copyOfRange(content, 65536, 2 * 65536));
                assertThat(engine.stats().asyncReads()).isEqualTo(fileServer ? 1 : 0);
                assertThat(engine.stats().sendfileRegions()).isEqualTo(fileServer ? 0 : 1);
            } finally {
                file.release();
            }
        }
        assertThat(cache.descriptorsInUse()).isZero();
    }

    OpenFile open(Path path) throws Exception {
        return await(engine.open(path, true));
    }

    byte[] read(OpenFile file, long offset, int length) throws Exception {
        return read(engine, file, offset, length);
    }

    static byte[] read(FileEngine engine, OpenFile file, long offset, int length) throws Exception {
        byte[] bytes = bytesOf(engine.read(file, offset, length, ALLOC));
        assertThat(bytes).hasSize(length);
        return bytes;
    }

    /** The readable bytes of the buffer {@code read} completes with, which is released. */
    static byte[] bytesOf(CompletionStage<ByteBuf> read) throws Exception {
        ByteBuf buffer = await(read);
        try {
            byte[] bytes = new byte[buffer.readableBytes()];
            buffer.getBytes(buffer.readerIndex(), bytes);
            return bytes;
        } finally {
            buffer.release();
        }
    }

    /** Writes what {@link FileEngine#region} returns to memory, releasing it. */
    static byte[] drain(Object message) throws IOException {
        try {
            if (message instanceof ByteBuf) {
                ByteBuf buffer = (ByteBuf) message;
                byte[] bytes = new byte[buffer.readableBytes()];
                buffer.getBytes(buffer.readerIndex(), bytes);
                return bytes;
            }
            FileRegion region = (FileRegion) message;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (WritableByteChannel sink = Channels.newChannel(out)) {
                while (region.transferred() < region.count()) {
                    long n = region.transferTo(sink, region.transferred());
                    if (n <= 0) {
                        throw new EOFException("region ended at " + region.transferred() + " of " + region.count());
                    }
                }
            }
            return out.toByteArray();
        } finally {
            ReferenceCountUtil.release(message);
        }
    }

    /**
     * Writes {@code content} to {@code path} and to the disk: a file left with dirty pages would make an O_DIRECT read
     * write them back first, which kernel AIO under {@code RWF_NOWAIT} declines (EAGAIN), handing the read to the
     * thread pool; the engines are to be tested on files as a tree being served has them, written long before.
     */
    static Path written(Path path, byte[] content) throws IOException {
        writtenNow(path, content);
        return settled(path);
    }

    /**
     * {@code path} as a file of a tree deployed a while ago: its mtime an hour back. An open-file cache trusts only
     * a file modified at least its revalidation period ago (one modified since may be being written still).
     */
    static Path settled(Path path) throws IOException {
        Files.setLastModifiedTime(path, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        return path;
    }

    /** As {@link #written(Path, byte[])}, modified now, as a file just made. */
    static Path writtenNow(Path path, byte[] content) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        return path;
    }

    /** {@link #written(Path, byte[])} of {@code content} in UTF-8. */
    static Path written(Path path, String content) throws IOException {
        return written(path, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Deletes {@code dir} and everything under it. */
    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }

    static byte[] bytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] slice(byte[] bytes, long offset, int length) {
        byte[] out = new byte[length];
        System.arraycopy(bytes, (int) offset, out, 0, length);
        return out;
    }

    /**
     * What a path is, as nginx's if file tests ask: links followed (a link to nothing is no file), a trailing "/"
     * after a file names nothing, a path under a missing directory or under a file is missing, the owner's execute bit
     * (a directory's too); never remembered, so a file created, removed or made executable is seen at once.
     */
    @Test
    void statusIsWhatThePathIsNowLinksFollowed() throws Exception {
        Path file = Files.writeString(dir.resolve("f.txt"), "x");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Path sub = Files.createDirectories(dir.resolve("sub"));
        Files.createSymbolicLink(dir.resolve("link"), file);
        Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("none"));
        assertThat(await(engine.status(file.toString()))).isEqualTo(new PathStatus(true, true, false, false));
        assertThat(await(engine.status(file + "/"))).isEqualTo(PathStatus.MISSING);
        assertThat(await(engine.status(dir + "/link"))).isEqualTo(new PathStatus(true, true, false, false));
        assertThat(await(engine.status(dir + "/dangling"))).isEqualTo(PathStatus.MISSING);
        assertThat(await(engine.status(sub + "/"))).extracting(PathStatus::directory, PathStatus::ownerExecutable)
                .containsExactly(true, true);
        assertThat(await(engine.status(dir + "/none/x"))).isEqualTo(PathStatus.MISSING);
        assertThat(await(engine.status(file + "/x"))).isEqualTo(PathStatus.MISSING);
        assertThat(await(engine.status(""))).isEqualTo(PathStatus.MISSING);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr--r--"));
        assertThat(await(engine.status(file.toString())).ownerExecutable()).isTrue();
        Files.delete(file);
        assertThat(await(engine.status(file.toString()))).isEqualTo(PathStatus.MISSING);
    }

    @Test
    void emptyFileOpensWithSizeZeroAndHasNoRange() throws Exception {
        Path path = written(dir.resolve("empty"), new byte[0]);
        OpenFile file = open(path);
        try {
            assertThat(file.size()).isZero();
            assertThat(file.isDirectory()).isFalse();
            assertThatThrownBy(() -> engine.read(file, 0, 0, ALLOC)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> engine.region(file, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            file.release();
        }
    }

    @Test
    void statsCountEveryReadAndRegionAndTimeTheReadsHandedOff() throws Exception {
        byte[] content = bytes(9000, 3);
        OpenFile file = open(written(dir.resolve("counted"), content));
        FileEngineStats before = engine.stats();
        try {
            for (int i = 0; i < 3; i++) {
                assertThat(read(file, 0, content.length)).isEqualTo(content);
            }
            assertThat(drain(engine.region(file, 0, content.length))).isEqualTo(content);
        } finally {
            file.release();
        }
        FileEngineStats after = engine.stats();
        assertThat(after.engine()).isEqualTo(configName());
        assertThat(after.sendfileRegions() - before.sendfileRegions()).as("regions").isEqualTo(1);
        long handedOff = after.asyncReads() + after.fallbackReads() - before.asyncReads() - before.fallbackReads();
        assertThat(after.residentReads() - before.residentReads() + handedOff).as("reads, wherever they went").isEqualTo(3);
        assertThat(after.readLatencyMicros().getTotalCount() - before.readLatencyMicros().getTotalCount())
                .as("latencies recorded: one per read handed off").isEqualTo(handedOff);
        assertThat(after.timedOutReads()).isZero();
        assertThat(after.rejected()).isZero();
        assertThat(after.descriptors()).isEqualTo(cacheOf(engine).descriptorsInUse()).isPositive();
    }

    @Test
    void smallFilesAroundAPageReadWhole() throws Exception {
        for (int size : new int[] {1, 4095, 4096, 4097, 16 * 1024}) {
            byte[] content = bytes(size, size);
            Path path = written(dir.resolve("f" + size), content);
            OpenFile file = open(path);
            try {
                assertThat(file.size()).isEqualTo(size);
                assertThat(read(file, 0, size)).as("read of %d bytes", size).isEqualTo(content);
                assertThat(drain(engine.region(file, 0, size))).as("region of %d bytes", size).isEqualTo(content);
            } finally {
                file.release();
            }
        }
    }

    @Test
    void tenMebibytesReadWholeInRangesAndAsRegions() throws Exception {
        int size = 10 << 20;
        byte[] content = bytes(size, 10);
        Path path = written(dir.resolve("big"), content);
        OpenFile file = open(path);
        try {
            assertThat(read(file, 0, size)).isEqualTo(content);
            long[][] ranges = {{0, 1}, {4095, 2}, {4096, 4096}, {size - 1, 1}, {1 << 20, 3 << 20}, {size - 4097, 4097}};
            for (long[] r : ranges) {
                assertThat(read(file, r[0], (int) r[1])).as("read %d+%d", r[0], r[1])
                        .isEqualTo(slice(content, r[0], (int) r[1]));
            }
            long chunk = Math.min(engine.chunkSize(), 3 << 20);
            ByteArrayOutputStream whole = new ByteArrayOutputStream();
            for (long at = 0; at < size; at += chunk) {
                whole.write(drain(engine.region(file, at, Math.min(chunk, size - at))));
            }
            assertThat(whole.toByteArray()).isEqualTo(content);
            assertThatThrownBy(() -> engine.read(file, size - 1, 2, ALLOC)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> engine.read(file, -1, 2, ALLOC)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            file.release();
        }
    }

    @Test
    void loadedRegionsCarryTheBytesOfTheirRange() throws Exception {
        int size = 3 * 4096 + 123;
        byte[] content = bytes(size, 12);
        OpenFile file = open(written(dir.resolve("loaded"), content));
        try {
            long[][] ranges = {{0, 1}, {0, size}, {4095, 2}, {100, 9000}, {8192, 4096}, {size - 1, 1}, {size - 200, 200}};
            for (long[] r : ranges) {
                assertThat(drain(await(engine.loadRegion(file, r[0], r[1])))).as("loaded %d+%d", r[0], r[1])
                        .isEqualTo(slice(content, r[0], (int) r[1]));
            }
            assertThatThrownBy(() -> engine.loadRegion(file, size - 1, 2)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("within " + size + " bytes");
        } finally {
            file.release();
        }
    }

    @Test
    void aLoadedRegionIsAtMostOneChunk() throws Exception {
        Path path = dir.resolve("over-a-chunk");
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
            raf.setLength(engine.chunkSize() + 4096);
        }
        OpenFile file = open(path);
        try {
            assertThatThrownBy(() -> engine.loadRegion(file, 0, engine.chunkSize() + 1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expected: <= chunkSize " + engine.chunkSize());
        } finally {
            file.release();
        }
    }

    @Test
    void sparseFileBeyondTwoGibibytesReadsZerosAndTheBytesWrittenThere() throws Exception {
        long size = 3L << 30;
        long at = (1L << 31) + 12_345;
        byte[] marker = "written past 2^31".getBytes(StandardCharsets.US_ASCII);
        Path path = dir.resolve("sparse");
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
            raf.setLength(size);
            raf.seek(at);
            raf.write(marker);
            raf.seek(size - 1);
            raf.write(7);
            raf.getFD().sync(); // see written()
        }
        OpenFile file = open(path);
        try {
            assertThat(file.size()).isEqualTo(size);
            byte[] expected = new byte[4096];
            System.arraycopy(marker, 0, expected, 100, marker.length);
            assertThat(read(file, at - 100, 4096)).isEqualTo(expected);
            assertThat(read(file, size - 2, 2)).containsExactly(0, 7);
            assertThat(read(file, 1L << 31, 100)).isEqualTo(new byte[100]);
            assertThat(drain(engine.region(file, at, marker.length))).isEqualTo(marker);
            assertThat(drain(await(engine.loadRegion(file, at, marker.length)))).isEqualTo(marker);
        } finally {
            file.release();
        }
    }

    @Test
    void manyConcurrentReadsAllComplete() throws Exception {
        int files = 40;
        List<byte[]> contents = new ArrayList<>();
        List<OpenFile> open = new ArrayList<>();
        try {
            for (int i = 0; i < files; i++) {
                byte[] content = bytes(5000 + i * 97, i);
                contents.add(content);
                open.add(open(written(dir.resolve("t" + i), content)));
            }
            List<CompletableFuture<ByteBuf>> reads = new ArrayList<>();
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < files; i++) {
                    reads.add(engine.read(open.get(i), 0, contents.get(i).length, ALLOC).toCompletableFuture());
                }
            }
            for (int i = 0; i < reads.size(); i++) {
                assertThat(bytesOf(reads.get(i))).isEqualTo(contents.get(i % files));
            }
        } finally {
            open.forEach(OpenFile::release);
        }
    }

    @Test
    void aFileTruncatedAfterOpenFailsTheReadCleanly() throws Exception {
        Path path = written(dir.resolve("shrinks"), bytes(64 * 1024, 3));
        OpenFile file = open(path);
        try {
            try (FileChannel truncate = FileChannel.open(path, StandardOpenOption.WRITE)) {
                truncate.truncate(1000);
                truncate.force(true); // its last page, zeroed past the new end, written back (see written())
            }
            assertThatThrownBy(() -> await(engine.read(file, 0, 64 * 1024, ALLOC))).isInstanceOf(EOFException.class);
            assertThatThrownBy(() -> await(engine.read(file, 2000, 10, ALLOC))).isInstanceOf(EOFException.class);
            assertThat(read(file, 0, 1000)).hasSize(1000);
        } finally {
            file.release();
        }
    }

    /**
     * A file modified moments ago may still be being written in place (a thumbnail a script writes as it makes it):
     * it is not trusted for the revalidation period, so what the writer adds after an open is there at the next one,
     * with its size, not the size at the first open for a second more (the thumbnail-generation audit: half the
     * answers of a burst were whole 200s of the first piece, or empty). Once settled, it is trusted again.
     */
    @Test
    void aFileModifiedMomentsAgoIsNotTrustedUntilItSettles() throws Exception {
        Path path = writtenNow(dir.resolve("making.jpg"), "first piece".getBytes(StandardCharsets.US_ASCII));
        OpenFile first = open(path);
        assertThat(first.size()).isEqualTo(11);
        first.release();
        try (FileChannel writer = FileChannel.open(path, StandardOpenOption.APPEND)) {
            writer.write(ByteBuffer.wrap(", the rest".getBytes(StandardCharsets.US_ASCII)));
            writer.force(true); // on the disk: an O_DIRECT read (linux-aio-sendfile) need not wait for it
        }
        OpenFile whole = open(path);
        try {
            assertThat(whole.size()).as("its size now, the clock not moved").isEqualTo(21);
            assertThat(read(whole, 0, 21)).isEqualTo("first piece, the rest".getBytes(StandardCharsets.US_ASCII));
        } finally {
            whole.release();
        }
        settled(path);
        clock.addAndGet(REVALIDATE.toNanos() + 1);
        OpenFile trusted = open(path);
        trusted.release();
        OpenFile again = open(path);
        try {
            assertThat(again).as("settled: trusted until revalidation").isSameAs(trusted);
        } finally {
            again.release();
        }
    }

    @Test
    void aFileReplacedByRenameIsServedAfterRevalidation() throws Exception {
        Path path = written(dir.resolve("thumb.jpg"), "old bytes");
        OpenFile first = open(path);
        assertThat(read(first, 0, 9)).isEqualTo("old bytes".getBytes(StandardCharsets.US_ASCII));
        first.release();

        Path next = written(dir.resolve("thumb.jpg.tmp"), "new bytes, longer");
        Files.move(next, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        OpenFile cached = open(path);
        try {
            assertThat(cached).as("trusted until revalidation").isSameAs(first);
            assertThat(read(cached, 0, 9)).isEqualTo("old bytes".getBytes(StandardCharsets.US_ASCII));
        } finally {
            cached.release();
        }

        clock.addAndGet(REVALIDATE.toNanos() + 1);
        OpenFile replaced = open(path);
        try {
            assertThat(replaced).isNotSameAs(first);
            assertThat(replaced.size()).isEqualTo(17);
            assertThat(read(replaced, 0, 17)).isEqualTo("new bytes, longer".getBytes(StandardCharsets.US_ASCII));
        } finally {
            replaced.release();
        }
    }

    @Test
    void readsHoldTheirOwnReferenceSoEvictionDuringAReadIsSafe() throws Exception {
        byte[] content = bytes(8192, 8);
        Path path = written(dir.resolve("evicted"), content);
        OpenFile file = open(path);
        CompletionStage<ByteBuf> pending = engine.read(file, 0, 8192, ALLOC);
        cacheOf(engine).invalidate(path);
        file.release(); // the read keeps the descriptor open until it completes
        ByteBuf buffer = await(pending);
        try {
            byte[] got = new byte[8192];
            buffer.getBytes(0, got);
            assertThat(got).isEqualTo(content);
        } finally {
            buffer.release();
        }
    }

    @Test
    void openFailuresAndDirectories() throws Exception {
        assertThatThrownBy(() -> open(dir.resolve("missing"))).isInstanceOf(java.nio.file.NoSuchFileException.class);
        Files.createDirectory(dir.resolve("sub"));
        OpenFile sub = open(dir.resolve("sub"));
        try {
            assertThat(sub.isDirectory()).isTrue();
            assertThatThrownBy(() -> engine.read(sub, 0, 1, ALLOC)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            sub.release();
        }
        Path target = written(dir.resolve("target"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertThatThrownBy(() -> await(engine.open(link, false))).isInstanceOf(java.nio.file.AccessDeniedException.class);
        OpenFile followed = await(engine.open(link, true));
        try {
            assertThat(read(followed, 0, 1)).containsExactly('x');
        } finally {
            followed.release();
        }
    }

    /**
     * A tree with a link inside the root (a file and a directory), a link out of it, a link to a dotfile, a FIFO
     * and a subdirectory; {@code dir/outside} holds what must never be served.
     */
    private Path linkTree() throws Exception {
        Path root = Files.createDirectory(dir.resolve("root"));
        Path outside = Files.createDirectory(dir.resolve("outside"));
        written(outside.resolve("secret"), "secret");
        Files.createDirectory(root.resolve("sub"));
        written(root.resolve("sub/a.txt"), "a");
        written(root.resolve(".hidden"), "hidden");
        Files.createSymbolicLink(root.resolve("alias.txt"), root.resolve("sub/a.txt"));
        Files.createSymbolicLink(root.resolve("subalias"), Path.of("sub"));
        Files.createSymbolicLink(root.resolve("escape"), outside.resolve("secret"));
        Files.createSymbolicLink(root.resolve("escapedir"), outside);
        Files.createSymbolicLink(root.resolve("peek"), root.resolve(".hidden"));
        new ProcessBuilder("mkfifo", root.resolve("fifo").toString()).inheritIO().start().waitFor();
        return root;
    }

    private OpenFile openResolved(PathResolver resolver, String path) throws Exception {
        Resolution resolution = resolver.resolveForOpen(path);
        assertThat(resolution.isOk()).as(path).isTrue();
        return await(engine.open(resolver, resolution));
    }

    private void assertServes(PathResolver resolver, String path, String content) throws Exception {
        OpenFile file = openResolved(resolver, path);
        try {
            assertThat(new String(read(file, 0, (int) file.size()), StandardCharsets.UTF_8)).as(path).isEqualTo(content);
        } finally {
            file.release();
        }
    }

    @Test
    void confinedOpensKeepLinksInsideTheRoot() throws Exception {
        Path root = linkTree();
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT);
        assertThat(resolver.resolveForOpen("/sub/a.txt").confined()).as("resolved without touching the disk").isTrue();
        assertServes(resolver, "/sub/a.txt", "a");
        assertServes(resolver, "/alias.txt", "a");          // a link inside the root is followed
        assertServes(resolver, "/subalias/a.txt", "a");     // also as a directory on the way
        assertThatThrownBy(() -> openResolved(resolver, "/escape")).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> openResolved(resolver, "/escapedir/secret")).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> openResolved(resolver, "/peek")).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> openResolved(resolver, "/missing")).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> openResolved(resolver, "/fifo")).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> openResolved(resolver, "/sub/a.txt/b")).isInstanceOf(FileSystemException.class);
        OpenFile sub = openResolved(resolver, "/sub/");
        try {
            assertThat(sub.isDirectory()).isTrue();
        } finally {
            sub.release();
        }
    }

    /**
     * A directory reached through a link inside the root, checked, then swapped for a link out of it: the real path
     * the check found is opened beneath the root with no link on the way, so nothing outside is ever served (it was
     * for as long as the resolver trusted the directory's real path, and in a race beyond). Tried at once, while the
     * resolver still remembers the directory, on a clock that does not move.
     */
    @Test
    void aDirectorySwappedForALinkOutOfTheRootAfterItsCheckServesNothingOutside() throws Exception {
        Path root = linkTree();
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT, () -> 0L, java.time.Duration.ofSeconds(1));
        primeThenSwap(root, resolver);
        assertThatThrownBy(() -> openResolved(resolver, "/rl/secret")).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> openResolved(resolver, "/x/secret")).isInstanceOf(AccessDeniedException.class);
        assertServes(resolver, "/alias.txt", "a"); // links that stay inside are still followed
    }

    /**
     * The same swap where no root is held open (no openat2, or the root could not be opened for the moment): links
     * are checked in user space, and the file opened is checked again by what its descriptor names.
     */
    @Test
    void withoutARootHeldOpenTheDescriptorOfWhatWasOpenedIsCheckedToo() throws Exception {
        Path root = linkTree();
        PathResolver resolver = PathResolver.forChecksOnly(root, PathPolicy.DEFAULT, () -> 0L,
                java.time.Duration.ofSeconds(1));
        assertThat(resolver.resolveForOpen("/x").confined()).as("checked in user space").isFalse();
        primeThenSwap(root, resolver);
        assertThatThrownBy(() -> openResolved(resolver, "/rl/secret")).isInstanceOf(AccessDeniedException.class);
        assertServes(resolver, "/alias.txt", "a");
    }

    /**
     * A file served is read without touching its access time (O_NOATIME, as lighttpd opens files): under relatime a
     * read of a file whose atime is older than its mtime would write its inode, on the loop for a sendfile.
     */
    @Test
    void aFileReadLeavesItsAccessTimeAlone() throws Exception {
        Path file = written(dir.resolve("thumb.jpg"), "jpeg".repeat(2000));
        FileTime before = FileTime.from(Instant.now().minus(Duration.ofHours(2))); // older than its mtime
        Files.getFileAttributeView(file, java.nio.file.attribute.BasicFileAttributeView.class)
                .setTimes(null, before, null);
        PathResolver resolver = new PathResolver(dir, PathPolicy.DEFAULT);
        OpenFile opened = await(engine.open(resolver, resolver.resolveForOpen("/thumb.jpg")));
        try {
            assertThat(new String(read(opened, 0, 8000), StandardCharsets.US_ASCII)).startsWith("jpegjpeg");
        } finally {
            opened.release();
        }
        assertThat(Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).lastAccessTime())
                .isEqualTo(before);
    }

    /**
     * Where no root is held open, what an event loop does for a request (resolve the path, ask the engine to open it)
     * touches no file system there (the blocking check fails the test if it does: the link checks stat the disk):
     * the engine checks the links on its threads, and refuses what they refuse. A file reached with no link on the way
     * is then the cache's for the loop, as one opened beneath a held root is; one reached through a link is not.
     */
    @Test
    void withoutARootHeldOpenTheLoopLeavesTheLinkChecksToTheEngine() throws Exception {
        Path root = linkTree();
        PathResolver resolver = PathResolver.forChecksOnly(root, PathPolicy.DEFAULT, () -> 0L,
                java.time.Duration.ofSeconds(1));
        EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        try {
            assertServedThenCachedForTheLoop(loops, resolver, "/sub/a.txt"); // no link on its way
            // A site whose links go anywhere opens the link by its own path, and the cache keeps it so
            PathResolver anywhere = PathResolver.forChecksOnly(root, new PathPolicy(false, true, true), () -> 0L,
                    java.time.Duration.ofSeconds(1));
            assertServedThenCachedForTheLoop(loops, anywhere, "/alias.txt");
            assertThat(cacheOf(engine).acquireInline(resolver, resolver.resolveForOpen("/alias.txt")))
                    .as("a link on its way: not for a site that checks links, which checks it on a thread").isNull();
            assertThatThrownBy(() -> openOnLoop(loops, resolver, "/escape")).isInstanceOf(AccessDeniedException.class);
            assertThatThrownBy(() -> openOnLoop(loops, resolver, "/peek")).isInstanceOf(AccessDeniedException.class);
            assertThatThrownBy(() -> openOnLoop(loops, resolver, "/missing")).isInstanceOf(NoSuchFileException.class);

            // The directory on the cached file's way moved out of the root, a link to it left in its place: once an
            // open by that path (the site whose links go anywhere) finds the file elsewhere, it is no longer taken as
            // reached with no link.
            Path moved = Files.move(root.resolve("sub"), dir.resolve("moved"));
            Files.createSymbolicLink(root.resolve("sub"), moved);
            cacheOf(engine).acquire(anywhere, anywhere.resolveForOpen("/sub/a.txt")).release();
            assertThat(cacheOf(engine).acquireInline(resolver, resolver.resolveForOpen("/sub/a.txt")))
                    .as("found elsewhere: checked again on a thread").isNull();
            assertThatThrownBy(() -> openOnLoop(loops, resolver, "/sub/a.txt"))
                    .isInstanceOf(AccessDeniedException.class);
        } finally {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * Opens {@code path} (a file saying "a") for {@code site} as a request's loop does, and finds the cache hands that
     * very file to {@code site}'s next request on the loop.
     */
    private void assertServedThenCachedForTheLoop(EventLoopGroup loops, PathResolver site, String path)
            throws Exception {
        OpenFile file = openOnLoop(loops, site, path);
        try {
            assertThat(read(file, 0, 1)).containsExactly('a');
            OpenFile cached = cacheOf(engine).acquireInline(site, site.resolveForOpen(path));
            assertThat(cached).as("taken from the cache on the loop: " + path).isSameAs(file);
            cached.release();
        } finally {
            file.release();
        }
    }

    /** What a request's event loop does: resolves {@code path} and has the engine open it; then waits for the open. */
    private OpenFile openOnLoop(EventLoopGroup loops, PathResolver resolver, String path) throws Exception {
        return await(loops.next().submit(() -> engine.open(resolver, resolver.resolveForOpen(path)))
                .get(30, TimeUnit.SECONDS));
    }

    /**
     * Makes {@code root/x} a directory reached through the link {@code rl}, serves a file through it (the resolver
     * now knows rl as root/x), then swaps x for a link to {@code dir/outside}.
     */
    private void primeThenSwap(Path root, PathResolver resolver) throws Exception {
        Path real = Files.createDirectory(root.resolve("x"));
        written(real.resolve("hostname"), "decoy");
        Files.createSymbolicLink(root.resolve("rl"), Path.of("x"));
        assertServes(resolver, "/rl/hostname", "decoy");
        Files.delete(real.resolve("hostname"));
        Files.delete(real);
        Files.createSymbolicLink(root.resolve("x"), dir.resolve("outside"));
    }

    /**
     * A Unix socket in the tree is not a regular file, as a FIFO is not: nothing to serve (404), under every link
     * policy. Its open fails with ENXIO, which is no server error (it was a 500 with a stack trace).
     */
    @Test
    void aSocketInTheTreeIsNotFoundAsAFifoIs() throws Exception {
        Path root = linkTree();
        try (ServerSocketChannel socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(root.resolve("socket")));
            for (PathPolicy policy : List.of(PathPolicy.DEFAULT, new PathPolicy(false, false, false),
                    new PathPolicy(false, true, true))) {
                PathResolver resolver = new PathResolver(root, policy);
                for (String special : List.of("/fifo", "/socket")) {
                    assertThatThrownBy(() -> openResolved(resolver, special)).as(special + " " + policy)
                            .isInstanceOf(NoSuchFileException.class);
                }
            }
        }
    }

    /**
     * Links not followed, as nginx's disable_symlinks on (1.22.1, measured): a link as the file's own name is refused
     * (ELOOP, 403), a file reached through a linked directory is not found (ENOTDIR, 404).
     */
    @Test
    void confinedOpensRefuseEveryLinkWhenLinksAreNotFollowed() throws Exception {
        Path root = linkTree();
        PathResolver resolver = new PathResolver(root, new PathPolicy(false, false, false));
        assertServes(resolver, "/sub/a.txt", "a");
        for (String link : List.of("/alias.txt", "/escape", "/peek")) {
            assertThatThrownBy(() -> openResolved(resolver, link)).as(link).isInstanceOf(AccessDeniedException.class);
        }
        for (String onTheWay : List.of("/subalias/a.txt", "/escapedir/secret")) {
            assertThatThrownBy(() -> openResolved(resolver, onTheWay)).as(onTheWay)
                    .isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void aCachedTreeOpensOnTheCallerWithoutAThread() throws Exception {
        Path root = linkTree();
        PathResolver resolver = new PathResolver(root, PathPolicy.DEFAULT);
        assertThat(resolver.rootDirectory().inlineOpens()).as("a local file system").isTrue();
        assertServes(resolver, "/sub/a.txt", "a"); // its directories are in the dentry cache now
        cacheOf(engine).invalidateAll();
        CompletionStage<OpenFile> again = engine.open(resolver, resolver.resolveForOpen("/sub/a.txt"));
        assertThat(again.toCompletableFuture().isDone()).as("completed before open() returned").isTrue();
        await(again).release();
    }

    /** Whether {@link FileEngine#loadRegion} reads a range that is not in the page cache into a buffer first. */
    boolean readsColdRangesBeforeSending() {
        return false;
    }

    /**
     * Whether a range the page cache holds leaves as a {@code sendfile} region: not where the engine takes every file
     * for a file server's, whose ranges are all read into buffers off the loop ({@link FileServerFiles}).
     */
    boolean sendsCachedRangesFromTheFile() {
        return true;
    }

    @Test
    void aRangeOutOfThePageCacheIsReadBeforeItIsSentAndOneInItIsSentFromTheFile() throws Exception {
        int chunk = (int) engine.chunkSize();
        byte[] content = bytes(2 * chunk, 77);
        Path path = written(dir.resolve("cold"), content);
        dropFromPageCache(path);
        OpenFile file = open(path);
        try {
            assertThat(io.edge.aio.linux.PageCache.isResident(file.fd(), chunk, chunk)).as("dropped").isFalse();
            long readsBefore = engine.stats().asyncReads();
            Object cold = await(engine.loadRegion(file, chunk, chunk));
            if (readsColdRangesBeforeSending()) {
                assertThat(engine.stats().asyncReads() - readsBefore).as("reads").isEqualTo(1);
                // then sent from the page cache the read filled: a client slow to take it holds no buffer of ours
                assertThat(cold).isInstanceOf(sendsCachedRangesFromTheFile() ? FileRegion.class : ByteBuf.class);
            }
            assertThat(drain(cold)).isEqualTo(slice(content, chunk, chunk));
            Object hot = await(engine.loadRegion(file, chunk, chunk));
            if (readsColdRangesBeforeSending()) {
                if (sendsCachedRangesFromTheFile()) {
                    assertThat(engine.stats().asyncReads() - readsBefore).as("in the page cache since the read")
                            .isEqualTo(1);
                    assertThat(hot).isInstanceOf(FileRegion.class);
                } else {
                    assertThat(hot).isInstanceOf(ByteBuf.class);
                }
            }
            assertThat(drain(hot)).isEqualTo(slice(content, chunk, chunk));
        } finally {
            file.release();
        }
    }

    @Test
    void aReadIntoAHeapOnlyAllocatorStillWorks() throws Exception {
        Path path = written(dir.resolve("heap"), bytes(3000, 30));
        OpenFile file = open(path);
        try {
            ByteBuf buffer = await(engine.read(file, 0, 3000, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT));
            try {
                ByteBuffer nio = buffer.nioBuffer();
                assertThat(nio.remaining()).isEqualTo(3000);
            } finally {
                buffer.release();
            }
        } finally {
            file.release();
        }
    }
}
