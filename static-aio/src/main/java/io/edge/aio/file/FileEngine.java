package io.edge.aio.file;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Opens files and turns byte ranges of them into messages a Netty channel can write. One per server,
 * shared by all event loops. The baseline is {@link SendfileEngine}; the asynchronous engines (io_uring,
 * threads, linux-aio-sendfile) implement the same contract without blocking the caller.
 *
 * <p>Stages may complete on any thread: a caller on an event loop hops back to it before writing.
 */
public interface FileEngine extends AutoCloseable {

    /** Files up to this many bytes are cheaper sent by {@link #read} in one write with the headers. */
    int DEFAULT_INLINE_LIMIT = 16 * 1024;

    /**
     * Opens {@code file} (or finds it open). The stage completes with a reference the caller owns and must
     * release, or fails with the exceptions of {@link OpenFileCache#acquire}. A caller that no longer wants
     * the result (the client went away) still releases it.
     *
     * @param followLinks false refuses a link as last component ({@code O_NOFOLLOW})
     */
    CompletionStage<OpenFile> open(Path file, boolean followLinks);

    /** As {@link #open(Path, boolean)}, saying whether a body is expected (see the resolver's overload below). */
    default CompletionStage<OpenFile> open(Path file, boolean followLinks, boolean bodyExpected) {
        return open(file, followLinks);
    }

    /**
     * Opens what {@code resolver} resolved ({@link PathResolver#resolveForOpen}), as
     * {@link OpenFileCache#acquire(PathResolver, Resolution)} does: a confined resolution beneath the root with
     * no link on the way. The asynchronous engines try it on the caller first where that cannot block
     * ({@link OpenFileCache#acquireInline}) and go to their threads only when it would.
     */
    CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution);

    /**
     * As {@link #open(PathResolver, Resolution)}, saying whether the caller expects to read the file's bytes:
     * false for a HEAD, or a conditional GET that most likely ends in 304. An engine that reads small files
     * from a file server ahead as it opens them ({@link FileServerFiles}) skips that when none is expected.
     */
    default CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution, boolean bodyExpected) {
        return open(resolver, resolution);
    }

    /**
     * A message carrying {@code length} bytes of {@code file} from {@code offset}: a {@code FileRegion} or a
     * {@code ByteBuf}. It holds its own reference to {@code file}, so the caller may release its one at
     * once; writing (or releasing) the message gives it back. Callers split long ranges into pieces of at
     * most {@link #chunkSize()} bytes (see {@link #chunks}).
     *
     * @throws IllegalArgumentException if the range is empty or outside the file
     */
    Object region(OpenFile file, long offset, long length);

    /**
     * The bytes of {@link #region}, once they can be written without the writer waiting for the disk: the stage
     * completes with a {@code FileRegion} or {@code ByteBuf} that the caller owns (writing or releasing it gives
     * it back) and that holds what it needs of {@code file}. The default is {@link #region} at once;
     * {@code linux-aio-sendfile} first reads the range into its slab and hands out a region of the slab.
     *
     * @throws IllegalArgumentException as {@link #region}, or if {@code length > chunkSize()}
     */
    default CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
        if (length > chunkSize()) {
            throw new IllegalArgumentException("length: " + length + " (expected: <= chunkSize " + chunkSize() + ")");
        }
        return CompletableFuture.completedFuture(region(file, offset, length));
    }

    /**
     * As {@link #loadRegion(OpenFile, long, long)}, meeting a full queue as {@code whenFull} says: a piece of a
     * response whose head went out waits ({@link WhenFull#WAIT}) rather than being refused.
     */
    default CompletionStage<Object> loadRegion(OpenFile file, long offset, long length, WhenFull whenFull) {
        return loadRegion(file, offset, length);
    }

    /**
     * Reads {@code length} bytes at {@code offset} into a buffer from {@code alloc}; the caller owns the
     * buffer. Fails if the file is shorter than expected.
     */
    CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc);

    /** As {@link #read(OpenFile, long, int, ByteBufAllocator)}, meeting a full queue as {@code whenFull} says. */
    default CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc,
            WhenFull whenFull) {
        return read(file, offset, length, alloc);
    }

    /**
     * What a read does when the engine's queue of work waiting for a thread is full (the threads engine, and the
     * pool the others fall back to; io_uring's and kernel AIO's own queues never refuse).
     */
    enum WhenFull {
        /**
         * Fails at once with {@link ReadQueueFullException}: nothing of the response went out yet, and the client gets
         * 503 with Retry-After, as for an open refused. The first read of a response.
         */
        REFUSE,
        /**
         * Waits its turn behind the queue, still within the read timeout: a later piece of a response whose head went
         * out, which a refusal could only cut short. A response has one such read at a time, and cancels it when it
         * ends first (its client left): a read cancelled while it waits is skipped. So no more wait than responses
         * are under way; the opens and first reads the full queue refuses keep new work out meanwhile.
         */
        WAIT
    }

    /**
     * What {@code path} (as given, absolute) is now, links followed: nginx's {@code if} file tests ask it. Never
     * remembered, so a file created or removed between two requests is seen by the second. The stage completes with
     * the answer (any stat failure is {@link PathStatus#MISSING}), or fails as an open on the pool does: the queue full
     * ({@link ReadQueueFullException}), the engine closed, the read timeout passed.
     */
    CompletionStage<PathStatus> status(String path);

    /** Largest {@link #region} length worth writing as one message ({@code sendfileChunk}). */
    long chunkSize();

    /** Files up to this size are best read with {@link #read} and written together with the headers. */
    int inlineLimit();

    /** Number of pieces {@code length} bytes split into at {@code chunkSize}. */
    static long chunks(long length, long chunkSize) {
        return length == 0 ? 0 : (length - 1) / chunkSize + 1;
    }

    /** What the engine did so far (for the periodic log line and metrics); cheap enough to call every few seconds. */
    FileEngineStats stats();

    /** Forgets the cached descriptor of {@code file}, if any (another cache saw it change or go). */
    void invalidate(Path file);

    /** Drops cached descriptors; sends in flight keep theirs until they complete. */
    @Override
    void close();
}
