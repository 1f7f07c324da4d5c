package io.edge.aio.linux;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageCacheTest {

    private static final int PAGE = 4096;
    private static final int POSIX_FADV_RANDOM = 1;
    private static final int POSIX_FADV_DONTNEED = 4;

    @TempDir
    Path dir;

    @Test
    void aFileDroppedFromThePageCacheIsNotResidentUntilItIsRead() throws Exception {
        Path path = write(dir.resolve("cold"), 4 * PAGE + 100);
        drop(path);
        int fd = open(path);
        try {
            assertThat(PageCache.isResident(fd, 0, 4 * PAGE + 100)).as("dropped").isFalse();
            assertThat(PageCache.isResident(fd, PAGE + 100, 2 * PAGE)).as("dropped").isFalse();
            Files.readAllBytes(path);
            assertThat(PageCache.isResident(fd, 0, 4 * PAGE + 100)).as("read").isTrue();
            assertThat(PageCache.isResident(fd, PAGE + 100, 2 * PAGE)).as("read").isTrue();
        } finally {
            Syscalls.closeQuietly(fd);
        }
    }

    @Test
    void anUnalignedRangeIsJudgedByEveryPageItTouchesAndNoOther() throws Exception {
        Path path = write(dir.resolve("partly"), 4 * PAGE);
        cacheOnly(path, 0, 1, 3);
        int fd = open(path);
        try {
            assertThat(PageCache.isResident(fd, 100, 2 * PAGE - 100)).as("pages 0-1").isTrue();
            assertThat(PageCache.isResident(fd, 2 * PAGE - 1, 2)).as("pages 1-2").isFalse();
            assertThat(PageCache.isResident(fd, 2 * PAGE + PAGE - 1, 1)).as("page 2, last byte").isFalse();
            assertThat(PageCache.isResident(fd, PAGE - 1, 2)).as("pages 0-1").isTrue();
            assertThat(PageCache.isResident(fd, 3 * PAGE, 10)).as("page 3").isTrue();
            assertThat(PageCache.isResident(fd, 0, 0)).as("nothing").isFalse();
        } finally {
            Syscalls.closeQuietly(fd);
        }
    }

    @Test
    void aMemoryFileSystemsFileIsResidentByEitherProbe() throws Exception {
        Path shm = Files.createTempFile(Path.of("/dev/shm"), "edge-page-cache-", ".bin");
        try {
            write(shm, 3 * PAGE);
            int fd = open(shm);
            try {
                assertThat(PageCache.isResident(fd, 10, 2 * PAGE)).isTrue();
                assertThat(PageCache.isResidentInMemoryFileSystem(fd, 10, 2 * PAGE)).isTrue();
            } finally {
                Syscalls.closeQuietly(fd);
            }
        } finally {
            Files.delete(shm);
        }
    }

    @Test
    void aDescriptorThatCannotBeMappedIsNotResident() throws Exception {
        int fd = Syscalls.openDirectoryPath(dir.toString()); // O_PATH: mmap answers EBADF
        try {
            assertThat(PageCache.isResident(fd, 0, PAGE)).isFalse();
        } finally {
            Syscalls.closeQuietly(fd);
        }
    }

    /**
     * The check behind a "resident" answer for a process without CAP_FOWNER (run here as root, it is skipped): the
     * page past the end of a file the process may see is never reported resident, so mincore's answer stands.
     */
    @Test
    void mincoreTellsTheTruthAboutAFileThisProcessMaySee() throws Exception {
        Path path = write(dir.resolve("mine"), 2 * PAGE + 1);
        Files.readAllBytes(path);
        int fd = open(path);
        try {
            assertThat(PageCache.mincoreTellsTheTruth(fd)).isTrue();
        } finally {
            Syscalls.closeQuietly(fd);
        }
    }

    @Test
    void capabilitiesAreReadFromTheProcessStatus() throws Exception {
        String capEff = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("CapEff:")).findFirst().orElseThrow();
        long bits = Long.parseUnsignedLong(capEff.substring("CapEff:".length()).trim(), 16);
        for (int capability : new int[] {0, 3, 21}) {
            assertThat(PageCache.hasCapability(capability)).as("capability " + capability)
                    .isEqualTo((bits >>> capability & 1) != 0);
        }
    }

    private static Path write(Path path, int length) throws Exception {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        Files.write(path, bytes);
        return path;
    }

    private static int open(Path path) {
        int fd = Syscalls.openRaw(path.toString(), true);
        assertThat(fd).isNotNegative();
        return fd;
    }

    /** Drops every page of {@code path} from the page cache. */
    private static void drop(Path path) throws Exception {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true); // clean pages, so that dropping them loses nothing
        }
        fadvise(path, POSIX_FADV_DONTNEED, new int[0]);
    }

    /**
     * Leaves only {@code pages} of {@code path} in the page cache: drops the file, then reads each page alone, with
     * readahead off. A page cannot be dropped alone: a file written at once sits in large folios, which
     * {@code POSIX_FADV_DONTNEED} of one page leaves whole.
     */
    private static void cacheOnly(Path path, int... pages) throws Exception {
        drop(path);
        fadvise(path, POSIX_FADV_RANDOM, pages);
    }

    /** {@code posix_fadvise(advice)} over the whole file, then a read of each of {@code pages} by that descriptor. */
    private static void fadvise(Path path, int advice, int[] pages) {
        int fd = open(path);
        try (Memory page = new Memory(PAGE)) {
            int error = Function.getFunction(Platform.C_LIBRARY_NAME, "posix_fadvise")
                    .invokeInt(new Object[] {fd, 0L, 0L, advice});
            assertThat(error).as("posix_fadvise").isZero();
            for (int index : pages) {
                assertThat(Syscalls.pread(fd, Pointer.nativeValue(page), PAGE, (long) index * PAGE)).isEqualTo(PAGE);
            }
        } finally {
            Syscalls.closeQuietly(fd);
        }
    }
}
