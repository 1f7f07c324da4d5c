package io.edge.aio.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * Whether a byte range of an open file is in the page cache, by {@code cachestat} (kernel 6.5, about
 * 0.7 us). Pages still being read count as present, so a "resident" range can block briefly: callers bound
 * what they read synchronously. Probed once; where {@code cachestat} is missing (ENOSYS) or filtered (EPERM)
 * {@link #isAvailable()} is false and every range counts as not resident.
 *
 * <pre>
 *  struct cachestat_range { u64 off; u64 len; }                                     16 bytes
 *  struct cachestat { u64 nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; }  40 bytes
 * </pre>
 */
public final class PageCache {

    private static final int RANGE = 0;
    private static final int STAT = 16;
    private static final FastThreadLocal<Scratch> SCRATCH = Scratch.perThread(56);
    private static final String UNAVAILABILITY = probe();
    private static final int PAGE = UNAVAILABILITY == null ? Syscalls.pageSize() : 4096;

    private PageCache() {
    }

    private static String probe() {
        if (!Syscalls.isAvailable()) {
            return "no native system calls: " + Syscalls.unavailabilityCause();
        }
        Memory m = new Memory(56);
        m.clear();
        int result = Syscalls.cachestat(-1, Pointer.nativeValue(m), Pointer.nativeValue(m) + STAT);
        // A bad descriptor answers EBADF where the call exists; ENOSYS or EPERM where it does not or is filtered.
        return result == -9 ? null : "cachestat: " + Syscalls.describe(-result);
    }

    /** Whether {@code cachestat} works here. */
    public static boolean isAvailable() {
        return UNAVAILABILITY == null;
    }

    /** Why it does not, or null. */
    public static String unavailabilityCause() {
        return UNAVAILABILITY;
    }

    /** True if every page of {@code length} bytes of {@code fd} at {@code offset} is cached; false if unknown. */
    public static boolean isResident(int fd, long offset, long length) {
        if (UNAVAILABILITY != null || length <= 0) {
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
