package io.edge.aio;

import java.time.Duration;
import java.util.Objects;

/**
 * How files are opened, probed and read: the engine and its bounds. One instance per server.
 *
 * @param engine             which reader serves page-cache misses
 * @param queueDepth         reads in flight per event loop; beyond it requests wait (never block)
 * @param threads            pool size of the {@code threads} engine
 * @param openFileCacheSize  open descriptors kept by the open-file cache
 * @param revalidateAfter    how long a cached open file is trusted before it is stat'ed again
 * @param openFileCacheMinUses opens of a file before its descriptor is cached: 1 (the first), or 2 (a file
 *                           opened once is closed after its send, so a stream of one-off files does not churn the cache)
 * @param fdBudget           descriptors the static path may hold at once (cache plus in-flight opens)
 * @param sendfileChunk      largest single {@code sendfile} call, in bytes, at most {@link #MAX_SENDFILE_CHUNK}
 * @param readTimeout        a read that has not completed by then fails the request
 * @param poisonReleasedBuffers for debugging, off in production: the engines' read buffers come from a
 *                           {@link io.edge.aio.debug.PoisoningAllocator}, so a released one is poisoned and
 *                           quarantined, and a write into it after its release is caught (slower)
 * @param fdLimit            descriptors the static path may hold at all, in-flight opens past {@code fdBudget}
 *                           included: its share of the process's limit (what the clients' sockets leave), beyond
 *                           which an open is answered 503 rather than made (it would take a descriptor new clients
 *                           are accepted on); {@link Integer#MAX_VALUE} where no limit is known
 */
public record StaticIoSettings(
        Engine engine,
        int queueDepth,
        int threads,
        int openFileCacheSize,
        Duration revalidateAfter,
        int openFileCacheMinUses,
        int fdBudget,
        long sendfileChunk,
        Duration readTimeout,
        boolean poisonReleasedBuffers,
        int fdLimit) {

    /** As the canonical constructor, with no {@code fdLimit} known. */
    public StaticIoSettings(Engine engine, int queueDepth, int threads, int openFileCacheSize, Duration revalidateAfter,
            int openFileCacheMinUses, int fdBudget, long sendfileChunk, Duration readTimeout,
            boolean poisonReleasedBuffers) {
        this(engine, queueDepth, threads, openFileCacheSize, revalidateAfter, openFileCacheMinUses, fdBudget,
                sendfileChunk, readTimeout, poisonReleasedBuffers, Integer.MAX_VALUE);
    }

    /**
     * The largest {@code sendfileChunk}, 2 GiB - 8 KiB: the linux-aio-sendfile engine reads a chunk into a slab slot
     * of the chunk rounded up to 4 KiB plus 4 KiB (for a range that starts inside a block), and a slot's size is an
     * {@code int}. No engine loses by it: Linux sends at most 2 GiB - 4 KiB in one call.
     */
    public static final long MAX_SENDFILE_CHUNK = (2L << 30) - 2 * 4096;

    /** The readers a server can use; {@link #AUTO} picks io_uring, else threads. */
    public enum Engine {
        AUTO("auto"), IO_URING("io_uring"), THREADS("threads"), LINUX_AIO_SENDFILE("linux-aio-sendfile"), SENDFILE("sendfile");

        private final String configName;

        Engine(String configName) {
            this.configName = configName;
        }

        /** The name used in configuration files. */
        public String configName() {
            return configName;
        }
    }

    public StaticIoSettings {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(revalidateAfter, "revalidateAfter");
        Objects.requireNonNull(readTimeout, "readTimeout");
        if (openFileCacheMinUses < 1 || openFileCacheMinUses > 2) {
            throw new IllegalArgumentException("openFileCacheMinUses: " + openFileCacheMinUses + " (expected: 1 or 2)");
        }
        if (fdLimit < 1) {
            throw new IllegalArgumentException("fdLimit: " + fdLimit + " (expected: >= 1)");
        }
    }
}
