package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.linux.PageCache;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract again with the cachestat hit path on; hits and misses counted apart. */
class IoUringResidencyTest extends IoUringContract {

    @BeforeAll
    static void needsCachestat() {
        assumeTrue(PageCache.isAvailable(), () -> "cachestat unavailable: " + PageCache.unavailabilityCause());
    }

    @Override
    FileEngine newEngine(Ticker ticker) throws Exception {
        return uringEngine(ticker, true, IoUringEngine.BLOCKING_FILE_SYSTEMS);
    }

    @Test
    void aJustWrittenFileIsAHitAndAHoleIsAMiss() throws Exception {
        Path written = Files.write(dir.resolve("hot"), bytes(9000, 9));
        Path sparse = dir.resolve("hole");
        try (RandomAccessFile raf = new RandomAccessFile(sparse.toFile(), "rw")) {
            raf.setLength(1 << 20);
        }
        OpenFile hot = open(written);
        OpenFile hole = open(sparse);
        try {
            assertThat(PageCache.isResident(hot.fd(), 0, 9000)).isTrue();
            assertThat(PageCache.isResident(hole.fd(), 512 * 1024, 8192)).isFalse();
            assertThat(read(hot, 0, 9000)).isEqualTo(bytes(9000, 9));
            assertThat(engine.stats().residentReads()).isEqualTo(1);
            assertThat(read(hole, 512 * 1024, 8192)).isEqualTo(new byte[8192]);
            assertThat(engine.stats().asyncReads()).isEqualTo(1);
        } finally {
            hot.release();
            hole.release();
        }
    }
}
