package io.edge.aio.file;

import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.netty.util.ReferenceCountUtil;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * What the kernel-queue engines (io_uring, linux-aio-sendfile) share: opens (stat + open can hit the disk) and
 * {@code sendfile} regions straight from the file are a {@link ThreadPoolEngine}'s, which also reads what the
 * kernel path cannot take; reads are counted per event loop in {@link LoopStats}.
 */
abstract class ThreadPoolBackedEngine implements FileEngine {

    /**
     * Counters of the kernel path: the gauges and {@code completed} updated by the per-loop contexts on their loop
     * threads, {@code counters} also by callers and the read timer; read anywhere.
     */
    static class LoopStats {
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger waiting = new AtomicInteger();
        final AtomicLong completed = new AtomicLong();
        /** Opens and closes made by the loops' rings (io_uring engine): for tests. */
        final LongAdder ringOpens = new LongAdder();
        final LongAdder ringCloses = new LongAdder();
        /** Carried over, with the pool's, to the engine of the same kind that replaces this one on a reload. */
        final EngineCounters counters;

        LoopStats() {
            this(new EngineCounters());
        }

        LoopStats(EngineCounters counters) {
            this.counters = counters;
        }
    }

    private final String name;
    final ThreadPoolEngine blocking;
    private final LoopStats stats;

    ThreadPoolBackedEngine(String name, ThreadPoolEngine blocking, LoopStats stats) {
        this.name = name;
        this.blocking = blocking;
        this.stats = stats;
    }

    @Override
    public CompletionStage<OpenFile> open(Path file, boolean followLinks) {
        return blocking.open(file, followLinks);
    }

    @Override
    public CompletionStage<OpenFile> open(Path file, boolean followLinks, boolean bodyExpected) {
        return blocking.open(file, followLinks, bodyExpected);
    }

    @Override
    public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution) {
        return blocking.open(resolver, resolution);
    }

    @Override
    public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution, boolean bodyExpected) {
        return blocking.open(resolver, resolution, bodyExpected);
    }

    /**
     * On the pool, as an open that cannot be made on the caller: a {@code statx} on the ring would go to a kernel
     * worker all the same.
     */
    @Override
    public CompletionStage<PathStatus> status(String path) {
        return blocking.status(path);
    }

    /**
     * An engine's fallback to its pool: completes {@code result} with what {@code work} gives (a read or region
     * the pool counts itself, so the engine's own asynchronous read is taken back; one the caller no longer
     * wants is released) and gives up the caller's reference to {@code file}, which the pool's work holds by
     * itself. A caller that cancels {@code result} cancels the pool's work too: a read still waiting for a thread
     * is skipped.
     */
    final <T> void handToPool(OpenFile file, CompletableFuture<T> result,
            Supplier<? extends CompletionStage<? extends T>> work) {
        stats.counters.asyncReads.decrement();
        try {
            CompletionStage<? extends T> pooled = work.get();
            pooled.whenComplete((value, error) -> {
                if (error != null) {
                    result.completeExceptionally(error);
                } else if (!result.complete(value)) {
                    ReferenceCountUtil.release(value);
                }
            });
            result.whenComplete((value, error) -> {
                if (result.isCancelled()) {
                    pooled.toCompletableFuture().cancel(false);
                }
            });
        } finally {
            file.release();
        }
    }

    /** A {@code sendfile} region straight from the file, as {@link ThreadPoolEngine#region}. */
    @Override
    public Object region(OpenFile file, long offset, long length) {
        return blocking.region(file, offset, length);
    }

    @Override
    public void invalidate(Path file) {
        blocking.cache().invalidate(file);
    }

    /** A range in the page cache as a {@code sendfile} region at once; any other read into a buffer first. */
    @Override
    public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
        return loadRegion(file, offset, length, WhenFull.REFUSE);
    }

    @Override
    public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length, WhenFull whenFull) {
        return FileReads.residentRegionOrRead(this, file, offset, length, whenFull);
    }

    @Override
    public long chunkSize() {
        return blocking.chunkSize();
    }

    @Override
    public int inlineLimit() {
        return blocking.inlineLimit();
    }

    /**
     * The kernel path's counters with the pool's: its {@code sendfile} regions, and its reads as fallbacks (the
     * kernel path is this engine's own way to read).
     */
    @Override
    public FileEngineStats stats() {
        FileEngineStats pool = blocking.stats();
        FileEngineStats own = stats.counters.snapshot(name, stats.inFlight.get(), stats.waiting.get(), cache());
        Histogram latency = own.readLatencyMicros();
        latency.add(pool.readLatencyMicros());
        return new FileEngineStats(name, pool.sendfileRegions(), own.residentReads(), own.asyncReads(),
                pool.asyncReads(), own.timedOutReads() + pool.timedOutReads(), own.rejected() + pool.rejected(),
                own.inFlight() + pool.inFlight(), own.waiting() + pool.waiting(), pool.descriptors(), latency);
    }

    /** The kernel path's counters, for a successor of this engine's kind. */
    EngineCounters ownCounters() {
        return stats.counters;
    }

    /** The pool's counters, for a successor of this engine's kind. */
    EngineCounters poolCounters() {
        return blocking.counters();
    }

    /** The open-file cache, for metrics. */
    public OpenFileCache cache() {
        return blocking.cache();
    }

    /** Reads the kernel is working on now, over all event loops. */
    public int inFlightReads() {
        return stats.inFlight.get();
    }

    /** Reads waiting in their loop's queue for the kernel now. */
    public int waitingReads() {
        return stats.waiting.get();
    }

    /**
     * Kernel reads completed so far for a caller still waiting: not one that completed after its read timed out
     * (counted as that only), nor, with kernel AIO, a piece of a read given up for another reason (a sibling
     * piece refused or failed, the caller gone). A completion in the instant between a timer's claim and its
     * failing the read may still be counted as both.
     */
    public long completedReads() {
        return stats.completed.get();
    }
}
