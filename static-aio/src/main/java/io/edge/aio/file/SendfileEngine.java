package io.edge.aio.file;

import io.edge.aio.StaticIoSettings;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.util.internal.ThreadExecutorMap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The blocking baseline ({@code static.engine = sendfile}), like nginx's default: open, stat and small
 * reads happen on the calling thread and return completed stages; bodies leave as {@code DefaultFileRegion}s
 * over the cached descriptor, i.e. zero-copy {@code sendfile}. A page-cache miss blocks the event loop for
 * the duration of the disk read; the asynchronous engines exist to avoid exactly that.
 */
public final class SendfileEngine implements FileEngine {

    private final OpenFileCache cache;
    private final long chunkSize;
    private final int inlineLimit;
    private final ReadBuffers readBuffers;
    /** Carried over to the engine of the same kind that replaces this one on a reload ({@link FileEngines}). */
    private final EngineCounters counters;

    /** An engine with its own open-file cache sized by {@code settings}. */
    public SendfileEngine(StaticIoSettings settings) {
        this(settings, new EngineCounters());
    }

    /** As above, counting on in {@code counters} (a predecessor's). */
    SendfileEngine(StaticIoSettings settings, EngineCounters counters) {
        this(new OpenFileCache(settings), settings.sendfileChunk(), DEFAULT_INLINE_LIMIT, ReadBuffers.of(settings),
                counters);
    }

    /**
     * @param cache        the open-file cache it owns (closed with the engine)
     * @param chunkSize    largest region, bytes
     * @param inlineLimit  files up to this size are read into a buffer; 0 turns that off
     */
    public SendfileEngine(OpenFileCache cache, long chunkSize, int inlineLimit) {
        this(cache, chunkSize, inlineLimit, ReadBuffers.CALLERS);
    }

    /** As the public constructor, reading into buffers from {@code readBuffers} (owned, closed with the engine). */
    SendfileEngine(OpenFileCache cache, long chunkSize, int inlineLimit, ReadBuffers readBuffers) {
        this(cache, chunkSize, inlineLimit, readBuffers, new EngineCounters());
    }

    private SendfileEngine(OpenFileCache cache, long chunkSize, int inlineLimit, ReadBuffers readBuffers,
            EngineCounters counters) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("sendfileChunk: " + chunkSize + " (expected: >= 1)");
        }
        if (inlineLimit < 0) {
            throw new IllegalArgumentException("inlineLimit: " + inlineLimit + " (expected: >= 0)");
        }
        this.cache = Objects.requireNonNull(cache, "cache");
        this.counters = Objects.requireNonNull(counters, "counters");
        cache.countRefusalsIn(counters.rejected::increment); // a 503 for want of a descriptor is one refused too
        this.chunkSize = chunkSize;
        this.inlineLimit = inlineLimit;
        this.readBuffers = Objects.requireNonNull(readBuffers, "readBuffers");
    }

    @Override
    public CompletionStage<OpenFile> open(Path file, boolean followLinks) {
        return now(() -> cache.acquire(file, followLinks));
    }

    @Override
    public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution) {
        return now(() -> cache.acquire(resolver, resolution));
    }

    /** On the caller, as this engine opens: the blocking baseline. */
    @Override
    public CompletionStage<PathStatus> status(String path) {
        return CompletableFuture.completedFuture(PathStatus.of(path));
    }

    private static CompletionStage<OpenFile> now(OpenFileCache.Acquire acquire) {
        try {
            return CompletableFuture.completedFuture(acquire.acquire());
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public Object region(OpenFile file, long offset, long length) {
        FileReads.checkRange(file, offset, length);
        counters.sendfileRegions.increment();
        return new OpenFileRegion(file.retain(), offset, length);
    }

    @Override
    public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc) {
        FileReads.checkRange(file, offset, length);
        counters.fallbackReads.increment(); // blocking, on the caller: what this baseline does for every read
        long start = System.nanoTime();
        ByteBuf buffer = DirectMemory.buffer(readBuffers.allocator(alloc), length);
        try {
            FileReads.readFully(file, buffer, offset);
            counters.readDone(start);
            return CompletableFuture.completedFuture(buffer); // ownership passes to the caller
        } catch (IOException | RuntimeException e) {
            buffer.release();
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public FileEngineStats stats() {
        return counters.snapshot("sendfile", 0, 0, cache);
    }

    /** What this engine counts in, for a successor of its kind ({@link FileEngines#create(StaticIoSettings, FileEngine)}). */
    EngineCounters counters() {
        return counters;
    }

    @Override
    public void invalidate(Path file) {
        cache.invalidate(file);
    }

    @Override
    public long chunkSize() {
        return chunkSize;
    }

    @Override
    public int inlineLimit() {
        return inlineLimit;
    }

    /** The open-file cache, for metrics. */
    public OpenFileCache cache() {
        return cache;
    }

    /** Drops cached descriptors and frees quarantined read buffers. */
    @Override
    public void close() {
        cache.close();
        if (!(ThreadExecutorMap.currentExecutor() instanceof IoEventLoop)) {
            // The closes handed to the closer's thread: of the descriptors just dropped, and of files released before
            // whose path left them (a replaced file, or one opened through a link: OpenFile.deallocate).
            FileServerFiles.awaitCloses("sendfile", TimeUnit.SECONDS.toNanos(1));
        }
        readBuffers.close();
    }
}
