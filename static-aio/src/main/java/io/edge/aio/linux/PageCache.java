package io.edge.aio.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.IOException;

/**
 * Whether a byte range of an open file is in the page cache, so that reading or sending it cannot wait for a
 * device. Two probes:
 * <ul>
 *   <li>{@link #isResident}: {@code mmap(PROT_READ, MAP_SHARED)} of the range, {@code mincore}, {@code munmap}
 *       (about 4-6 us; no page is touched). {@code mincore} reports a page only once its contents are up to date,
 *       so a page the kernel is still reading (another request's read, readahead) counts as absent: a "resident"
 *       range is copied or sent without taking a page lock that waits for the disk. Works on every kernel the
 *       natives load on and every file system that maps files.</li>
 *   <li>{@link #isResidentInMemoryFileSystem}: {@code cachestat} (kernel 6.5, about 0.7 us) where the kernel has
 *       it. It counts pages still under read I/O as present, which only a memory file system (tmpfs, ramfs: no
 *       read I/O) makes harmless; elsewhere, or without it, {@link #isResident}.</li>
 * </ul>
 * Either answers false when it cannot tell: the caller then reads the range the way that never blocks it.
 *
 * <pre>
 *  struct cachestat_range { u64 off; u64 len; }                                     16 bytes
 *  struct cachestat { u64 nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; }  40 bytes
 * </pre>
 */
public final class PageCache {

    private static final int RANGE = 0;
    private static final int CAP_FOWNER = 3;
    private static final int STAT = 16;
    private static final FastThreadLocal<Scratch> SCRATCH = Scratch.perThread(56);
    /** {@code mincore}'s vector: one byte per page, so one call tells 16 MiB of 4 KiB pages. */
    private static final int VECTOR = 4096;
    private static final FastThreadLocal<Scratch> VECTORS = Scratch.perThread(VECTOR);
    /** Bit 0 of each of eight vector bytes. */
    private static final long EIGHT_RESIDENT = 0x0101010101010101L;
    private static final String UNAVAILABILITY =
            Syscalls.isAvailable() ? null : "no native system calls: " + Syscalls.unavailabilityCause();
    private static final String CACHESTAT_UNAVAILABILITY = probeCachestat();
    private static final long PAGE = UNAVAILABILITY == null ? Syscalls.pageSize() : 4096;
    /**
     * The process has CAP_FOWNER (root, as a rule): {@code mincore} tells it the truth about every file
     * ({@link #mincoreTellsTheTruth}), and the check costs nothing per range (it was 3 of 7 system calls per
     * {@code sendfile} chunk).
     */
    private static final boolean SEES_EVERY_FILE = hasCapability(CAP_FOWNER);

    private PageCache() {
    }

    /** Whether bit {@code capability} is set in the process's effective capabilities ({@code /proc/self/status}). */
    static boolean hasCapability(int capability) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    return (Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16) >>> capability & 1) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: check every range
        }
        return false;
    }

    private static String probeCachestat() {
        if (UNAVAILABILITY != null) {
            return UNAVAILABILITY;
        }
        Memory m = new Memory(56);
        m.clear();
        int result = Syscalls.cachestat(-1, Pointer.nativeValue(m), Pointer.nativeValue(m) + STAT);
        // A bad descriptor answers EBADF where the call exists; ENOSYS or EPERM where it does not or is filtered.
        return result == -9 ? null : "cachestat: " + Syscalls.describe(-result);
    }

    /** Whether residency can be told here ({@link #isResident}): the natives are bound. */
    public static boolean isAvailable() {
        return UNAVAILABILITY == null;
    }

    /** Why it cannot, or null. */
    public static String unavailabilityCause() {
        return UNAVAILABILITY;
    }

    /** Whether {@code cachestat} works here (Linux 6.5; not filtered); else its probe falls back to mincore. */
    public static boolean hasCachestat() {
        return CACHESTAT_UNAVAILABILITY == null;
    }

    /**
     * True if every page of {@code length} bytes of {@code fd} at {@code offset} is in the page cache and up to
     * date; false if any is not, is still being read, or this cannot be told (the file system cannot map files,
     * the process may not see the file's residency).
     */
    public static boolean isResident(int fd, long offset, long length) {
        if (UNAVAILABILITY != null || length <= 0 || offset < 0) {
            return false;
        }
        long start = offset - offset % PAGE; // mmap takes whole pages only
        long span = offset + length - start;
        long address = Syscalls.mmapReadOnly(fd, span, start);
        if (address < 0) {
            return false;
        }
        try {
            return allResident(address, span) && (SEES_EVERY_FILE || mincoreTellsTheTruth(fd));
        } finally {
            Syscalls.munmapQuietly(address, span);
        }
    }

    /** Whether {@code mincore} reports every page of {@code span} bytes mapped at {@code address} up to date. */
    private static boolean allResident(long address, long span) {
        Scratch vector = VECTORS.get();
        long pages = (span + PAGE - 1) / PAGE;
        for (long done = 0; done < pages; done += VECTOR) {
            int n = (int) Math.min(VECTOR, pages - done);
            if (Syscalls.pageResidency(address + done * PAGE, n * PAGE, vector.address) != 0) {
                return false;
            }
            int i = 0;
            for (; i + 8 <= n; i += 8) {
                if ((vector.buffer.getLong(i) & EIGHT_RESIDENT) != EIGHT_RESIDENT) {
                    return false;
                }
            }
            for (; i < n; i++) {
                if ((vector.buffer.get(i) & 1) == 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Whether {@code mincore} reports {@code fd}'s pages as they are. For a file the process neither owns nor could
     * open for writing (nor has CAP_FOWNER) the kernel hides its page cache and reports every page resident
     * (mm/mincore.c, {@code can_do_mincore}): a server running as nobody over root's files. The first page wholly
     * past the file's end is never cached; reported resident, the answer is that lie. (That page, not one far
     * beyond: mmap refuses offsets past the file system's largest file with EOVERFLOW. A file growing into it
     * meanwhile only makes a hit count as a miss.)
     */
    static boolean mincoreTellsTheTruth(int fd) {
        long size;
        try {
            size = Syscalls.fstat(fd).size();
        } catch (IOException e) {
            return false;
        }
        long address = Syscalls.mmapReadOnly(fd, PAGE, (size + PAGE - 1) / PAGE * PAGE);
        if (address < 0) {
            return false;
        }
        try {
            Scratch vector = VECTORS.get();
            return Syscalls.pageResidency(address, PAGE, vector.address) == 0 && (vector.buffer.get(0) & 1) == 0;
        } finally {
            Syscalls.munmapQuietly(address, PAGE);
        }
    }

    /**
     * As {@link #isResident}, by {@code cachestat} where the kernel has it. Only for a file of a memory file system
     * (tmpfs, ramfs): {@code cachestat} counts a page still being read as present, and only there is no page ever
     * read from a device.
     */
    public static boolean isResidentInMemoryFileSystem(int fd, long offset, long length) {
        if (CACHESTAT_UNAVAILABILITY != null) {
            return isResident(fd, offset, length);
        }
        if (length <= 0 || offset < 0) {
            return false;
        }
        Scratch m = SCRATCH.get();
        long first = offset / PAGE;
        long last = (offset + length - 1) / PAGE;
        m.buffer.putLong(RANGE, first * PAGE).putLong(RANGE + 8, (last - first + 1) * PAGE);
        if (Syscalls.cachestat(fd, m.address + RANGE, m.address + STAT) != 0) {
            return false;
        }
        return m.buffer.getLong(STAT) >= last - first + 1;
    }
}
