package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.PageCache;
import io.edge.aio.linux.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract again with the page-cache hit path on; hits and misses counted apart. */
class IoUringResidencyTest extends IoUringContract {

    @BeforeAll
    static void needsPageCacheProbes() {
        requirePageCacheVisible();
    }

    @Override
    FileEngine newEngine(Ticker ticker) throws Exception {
        return uringEngine(ticker, true, IoUringEngine.BLOCKING_FILE_SYSTEMS);
    }

    @Test
    void aJustWrittenFileIsReadAtOnceAndADroppedOneComesBackWhole() throws Exception {
        Path written = Files.write(dir.resolve("hot"), bytes(9000, 9));
        Path cold = Files.write(dir.resolve("cold"), bytes(8192, 7));
        dropFromPageCache(cold);
        OpenFile hot = open(written);
        OpenFile dropped = open(cold);
        try {
            assertThat(PageCache.isResident(hot.fd(), 0, 9000)).isTrue();
            assertThat(PageCache.isResident(dropped.fd(), 0, 8192)).isFalse();
            assertThat(read(hot, 0, 9000)).isEqualTo(bytes(9000, 9));
            assertThat(engine.stats().residentReads()).isEqualTo(1);
            assertThat(engine.stats().asyncReads()).isZero();
            // On ext4 the no-wait read starts the disk read and mostly answers EAGAIN (then the ring reads), but
            // a disk as fast as this host-cached one may finish first: either way, the bytes.
            assertThat(read(dropped, 0, 8192)).isEqualTo(bytes(8192, 7));
            assertThat(engine.stats().residentReads() + engine.stats().asyncReads()).isEqualTo(2);
        } finally {
            hot.release();
            dropped.release();
        }
    }

    @Test
    void aSmallFileCachedOnlyInPartComesBackWhole() throws Exception {
        byte[] content = bytes(12288, 5);
        Path partly = Files.write(dir.resolve("partly"), content);
        dropFromPageCache(partly, 2, 1); // the third page only: the first two stay cached
        OpenFile file = open(partly);
        try {
            assertThat(PageCache.isResident(file.fd(), 0, 8192)).isTrue();
            assertThat(PageCache.isResident(file.fd(), 8192, 4096)).isFalse();
            // a short no-wait read (two pages of three) goes to the ring whole, never out as the file
            assertThat(read(file, 0, 12288)).isEqualTo(content);
            assertThat(engine.stats().residentReads() + engine.stats().asyncReads()).isEqualTo(1);
        } finally {
            file.release();
        }
    }

    @Test
    void aFileSystemTakingNoWaitReadsIsReadByOneAndTmpfsIsToldResidentByCachestat() throws Exception {
        IoUringEngine uring = (IoUringEngine) engine;
        OpenFile onDisk = open(Files.write(dir.resolve("on-disk"), bytes(6000, 2)));
        Path shm = Files.createTempFile(Path.of("/dev/shm"), "edge-residency-", ".bin");
        try {
            Files.write(shm, bytes(6000, 3));
            OpenFile inMemory = open(shm);
            try {
                long diskType = Syscalls.fileSystemType(onDisk.fd());
                assertThat(uring.reads(onDisk)).isEqualTo(FileSystems.takesNoWaitReads(diskType)
                        ? IoUringEngine.FileSystemReads.NO_WAIT : IoUringEngine.FileSystemReads.RESIDENCY_CHECK);
                assertThat(Syscalls.fileSystemType(inMemory.fd())).as("/dev/shm").isEqualTo(FileSystems.TMPFS);
                // tmpfs refuses RWF_NOWAIT (EOPNOTSUPP): its reads are told resident by cachestat, not tried first
                assertThat(uring.reads(inMemory)).isEqualTo(IoUringEngine.FileSystemReads.RESIDENCY_CHECK);
                assertThat(read(inMemory, 0, 6000)).isEqualTo(bytes(6000, 3));
                assertThat(read(onDisk, 0, 6000)).isEqualTo(bytes(6000, 2));
                assertThat(engine.stats().residentReads()).isEqualTo(2);
                assertThat(engine.stats().asyncReads()).isZero();
            } finally {
                inMemory.release();
            }
        } finally {
            onDisk.release();
            Files.deleteIfExists(shm);
        }
    }
}
