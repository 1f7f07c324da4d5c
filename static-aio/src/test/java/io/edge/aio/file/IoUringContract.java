package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.BeforeAll;

/**
 * The contract through io_uring, in the variants its test classes choose; failed (with the reason) where io_uring
 * is not permitted, never skipped: the suite runs where edge's default engine does. A queue depth of 4 so that the contract's concurrent reads also exercise the
 * wait queue.
 */
abstract class IoUringContract extends FileEngineContract {

    @BeforeAll
    static void needsIoUring() {
        assertThat(IoUringEngine.isAvailable())
                .as(() -> "io_uring unavailable: " + IoUringEngine.unavailabilityCause()).isTrue();
    }

    /** An engine of 2 open threads and queue depth 4 over its own cache. */
    static IoUringEngine uringEngine(Ticker ticker, boolean residencyCheck, LongPredicate viaWorkers)
            throws Exception {
        return new IoUringEngine(OpenFileCache.withRawDescriptors(16, REVALIDATE, 32, ticker), 2, 4, 1 << 20,
                16 * 1024, Duration.ofSeconds(30), residencyCheck, ReadBuffers.CALLERS, viaWorkers);
    }

    @Override
    boolean readsColdRangesBeforeSending() {
        return true;
    }

    @Override
    OpenFileCache cacheOf(FileEngine engine) {
        return ((IoUringEngine) engine).cache();
    }

    @Override
    String configName() {
        return "io_uring";
    }
}
