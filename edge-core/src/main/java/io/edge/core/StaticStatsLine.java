package io.edge.core;

import io.edge.aio.file.FileEngineStats;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The static path's line: the engine in use, where ranges went since start (sendfile, resident reads, reads handed
 * off, fallbacks), failures, the queue now, and the read latency of the last period (the periodic log,
 * {@link #next}) or since start (the status page, {@link #sinceStart}). {@link #next} is not thread-safe: one
 * caller, the stats logger.
 */
final class StaticStatsLine {

    private Histogram previous = new Histogram(2);

    /** The line for {@code stats}; latency percentiles cover the reads done since the previous call. */
    String next(FileEngineStats stats) {
        Histogram total = stats.readLatencyMicros();
        Histogram period = total.copy();
        period.subtract(previous);
        previous = total;
        return counters(stats) + latency(period);
    }

    /** The line for {@code stats} with the latency of every read so far (the status page's). */
    static String sinceStart(FileEngineStats stats) {
        return counters(stats) + latency(stats.readLatencyMicros());
    }

    private static String counters(FileEngineStats stats) {
        return String.format(Locale.ROOT,
                "engine=%s sendfile=%d resident=%d async=%d fallback=%d timed-out=%d rejected=%d in-flight=%d "
                        + "waiting=%d descriptors=%d",
                stats.engine(), stats.sendfileRegions(), stats.residentReads(), stats.asyncReads(), stats.fallbackReads(),
                stats.timedOutReads(), stats.rejected(), stats.inFlight(), stats.waiting(), stats.descriptors());
    }

    /** Percentiles of {@code latency}, or nothing when it holds no read. */
    private static String latency(Histogram latency) {
        if (latency.getTotalCount() == 0) {
            return "";
        }
        return String.format(Locale.ROOT, " read-us p50=%d p99=%d max=%d n=%d", latency.getValueAtPercentile(50),
                latency.getValueAtPercentile(99), latency.getMaxValue(), latency.getTotalCount());
    }
}
