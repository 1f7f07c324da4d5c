package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.file.FileEngineStats;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class StaticStatsLineTest {

    private final Histogram latency = new Histogram(2);

    private FileEngineStats stats(long asyncReads) {
        return new FileEngineStats("io_uring", 7, 11, asyncReads, 2, 1, 3, 4, 5, 6, latency.copy());
    }

    @Test
    void namesTheEngineAndEveryCounter() {
        assertThat(new StaticStatsLine().next(stats(13))).isEqualTo("engine=io_uring sendfile=7 resident=11 async=13 "
                + "fallback=2 timed-out=1 rejected=3 in-flight=4 waiting=5 descriptors=6");
    }

    @Test
    void latencyPercentilesCoverOnlyTheReadsOfThePeriod() {
        StaticStatsLine line = new StaticStatsLine();
        latency.recordValue(100);
        latency.recordValue(100);
        latency.recordValue(200);
        assertThat(line.next(stats(3))).endsWith("descriptors=6 read-us p50=100 p99=200 max=200 n=3");
        assertThat(line.next(stats(3))).as("no read since").endsWith("descriptors=6");
        latency.recordValue(50);
        assertThat(line.next(stats(4))).endsWith("read-us p50=50 p99=50 max=50 n=1");
    }

    @Test
    void theStatusPageLineCoversEveryReadSinceStart() {
        StaticStatsLine line = new StaticStatsLine();
        latency.recordValue(100);
        line.next(stats(1));
        latency.recordValue(200);
        line.next(stats(2));
        assertThat(StaticStatsLine.sinceStart(stats(2))).endsWith("descriptors=6 read-us p50=100 p99=200 max=200 n=2");
    }
}
