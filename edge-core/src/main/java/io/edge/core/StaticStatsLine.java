package io.edge.core;

import io.edge.aio.file.FileEngineStats;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The static path's periodic log line: the engine in use, where ranges went since start (sendfile, resident reads,
 * reads handed off, fallbacks), failures, the queue now, and the read latency of the last period. Not thread-safe:
 * one caller, the stats logger.
 */
final class StaticStatsLine {

    private Histogram previous = new Histogram(2);

    /** The line for {@code stats}; latency percentiles cover the reads done since the previous call. */
    String next(FileEngineStats stats) {
        Histogram total = stats.readLatencyMicros();
        Histogram period = total.copy();
        period.subtract(previous);
        previous = total;
        String line = String.format(Locale.ROOT,
                "engine=%s sendfile=%d resident=%d async=%d fallback=%d timed-out=%d rejected=%d in-flight=%d "
                        + "waiting=%d descriptors=%d",
                stats.engine(), stats.sendfileRegions(), stats.residentReads(), stats.asyncReads(), stats.fallbackReads(),
                stats.timedOutReads(), stats.rejected(), stats.inFlight(), stats.waiting(), stats.descriptors());
        if (period.getTotalCount() == 0) {
            return line;
        }
        return line + String.format(Locale.ROOT, " read-us p50=%d p99=%d max=%d n=%d",
                period.getValueAtPercentile(50), period.getValueAtPercentile(99), period.getMaxValue(),
                period.getTotalCount());
    }
}
