package io.edge.aio.file;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The counters behind {@link FileEngineStats}, updated on event loops, pool threads and the read timer without a
 * shared lock: adders for the counts (no contended cache line between loops) and a wait-free {@link Recorder} for
 * read latency.
 */
final class EngineCounters {

    final LongAdder sendfileRegions = new LongAdder();
    final LongAdder residentReads = new LongAdder();
    final LongAdder asyncReads = new LongAdder();
    final LongAdder fallbackReads = new LongAdder();
    final LongAdder timedOut = new LongAdder();
    final LongAdder rejected = new LongAdder();
    private final Recorder latency = new Recorder(2);
    private final Histogram latencySoFar = new Histogram(2);
    private Histogram recycled;

    /** Records a read that was asked for at {@code startNanos} ({@link System#nanoTime}) and is done now. */
    void readDone(long startNanos) {
        latency.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos)));
    }

    /** Every latency recorded so far, microseconds: a copy the caller owns. */
    synchronized Histogram latencySoFar() {
        recycled = latency.getIntervalHistogram(recycled);
        latencySoFar.add(recycled);
        return latencySoFar.copy();
    }

    FileEngineStats snapshot(String engine, int inFlight, int waiting, OpenFileCache cache) {
        return new FileEngineStats(engine, sendfileRegions.sum(), residentReads.sum(), asyncReads.sum(),
                fallbackReads.sum(), timedOut.sum(), rejected.sum(), inFlight, waiting, cache.descriptorsInUse(),
                latencySoFar());
    }
}
