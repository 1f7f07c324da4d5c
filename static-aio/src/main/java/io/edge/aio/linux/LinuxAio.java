package io.edge.aio.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Linux kernel AIO context ({@code io_setup}) with a fixed table of iocbs in native memory, filled with
 * absolute puts and handed to {@code io_submit} in batches; completions are collected with a non-blocking
 * {@code io_getevents}. Reads are only asynchronous on descriptors opened with {@code O_DIRECT} (buffered ones
 * complete inside {@code io_submit}). Not thread-safe: one thread (an event loop) owns a context.
 *
 * <pre>
 *  struct iocb (64 bytes)      aio_data u64 @0, aio_key u32 @8, aio_rw_flags s32 @12, aio_lio_opcode u16 @16,
 *                              aio_reqprio s16 @18, aio_fildes u32 @20, aio_buf u64 @24, aio_nbytes u64 @32,
 *                              aio_offset s64 @40, aio_reserved2 u64 @48, aio_flags u32 @56, aio_resfd u32 @60
 *  struct io_event (32 bytes)  data u64 @0, obj u64 @8, res s64 @16, res2 s64 @24
 * </pre>
 *
 * Every iocb carries {@code IOCB_FLAG_RESFD}: its completion adds one to an eventfd, which an event loop
 * watches.
 */
public final class LinuxAio implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LinuxAio.class);

    private static final int IOCB_SIZE = 64;
    private static final int EVENT_SIZE = 32;
    private static final short IOCB_CMD_PREAD = 0;
    private static final int IOCB_FLAG_RESFD = 1;

    private final long context;
    private final int iocbCount;
    private final Memory iocbs;
    /** The iocb pointers of prepared reads not yet taken by the kernel, in order: io_submit's argument. */
    private final Memory pending;
    private final Memory events;
    private final Memory zeroTimeout = new Memory(16);
    private int pendingCount;
    private boolean closed;

    private LinuxAio(long context, int iocbCount) {
        this.context = context;
        this.iocbCount = iocbCount;
        this.iocbs = new Memory((long) IOCB_SIZE * iocbCount);
        this.pending = new Memory(8L * iocbCount);
        this.events = new Memory((long) EVENT_SIZE * iocbCount);
        iocbs.clear();
        zeroTimeout.clear();
    }

    /**
     * Sets up a context for {@code maxEvents} operations in flight, with {@code iocbCount} iocbs (each in use by
     * at most one read at a time; index = the read's {@code userData}).
     *
     * @throws IOException naming {@code io_setup} and the errno (EAGAIN beyond {@code fs.aio-max-nr}, ENOSYS
     *                     on a kernel without AIO, EPERM from a seccomp filter)
     */
    public static LinuxAio create(int maxEvents, int iocbCount) throws IOException {
        if (!Syscalls.isAvailable()) {
            throw new IOException("no native system calls: " + Syscalls.unavailabilityCause(), Syscalls.unavailabilityCause());
        }
        if (iocbCount < maxEvents) {
            throw new IllegalArgumentException("iocbCount " + iocbCount + " < maxEvents " + maxEvents);
        }
        Memory context = new Memory(8);
        context.setLong(0, 0); // io_setup requires *ctxp == 0
        int result = Syscalls.ioSetup(maxEvents, Pointer.nativeValue(context));
        if (result < 0) {
            throw Syscalls.error("io_setup", -result);
        }
        return new LinuxAio(context.getLong(0), iocbCount);
    }

    /** Null if this process may set up an AIO context here, else why not (found by setting one up). */
    public static String probe() {
        try {
            create(1, 1).close();
            return null;
        } catch (IOException | RuntimeException | LinkageError e) {
            return e.getMessage();
        }
    }

    /**
     * Queues {@code pread(fd, address, length, offset)} in iocb {@code userData}, to signal {@code eventFd} when
     * done, without entering the kernel. With {@code noWait} ({@code RWF_NOWAIT}, Linux 4.13), a read that would
     * have {@code io_submit} wait (dirty pages of the range that an O_DIRECT read would first write back, a writer
     * holding the inode; a full device queue only where the file system passes the flag on to the block layer, which
     * ext4 and xfs do not as of 6.x) completes at once with -EAGAIN instead, and a file system that does not take the
     * flag refuses the read with -EOPNOTSUPP (an older kernel with -EINVAL).
     */
    public void prepareRead(int userData, int fd, long address, long length, long offset, int eventFd,
            boolean noWait) {
        if (userData < 0 || userData >= iocbCount || pendingCount == iocbCount) {
            throw new IllegalStateException("iocb " + userData + " of " + iocbCount + ", " + pendingCount + " pending");
        }
        long base = (long) userData * IOCB_SIZE;
        iocbs.setMemory(base, IOCB_SIZE, (byte) 0);
        iocbs.setLong(base, userData);
        if (noWait) {
            iocbs.setInt(base + 12, Syscalls.RWF_NOWAIT);
        }
        iocbs.setShort(base + 16, IOCB_CMD_PREAD);
        iocbs.setInt(base + 20, fd);
        iocbs.setLong(base + 24, address);
        iocbs.setLong(base + 32, length);
        iocbs.setLong(base + 40, offset);
        iocbs.setInt(base + 56, IOCB_FLAG_RESFD);
        iocbs.setInt(base + 60, eventFd);
        pending.setLong(8L * pendingCount++, Pointer.nativeValue(iocbs) + base);
    }

    /** Reads prepared but not yet taken by the kernel. */
    public int pendingSubmissions() {
        return pendingCount;
    }

    /**
     * Hands the prepared reads to the kernel ({@code io_submit}). One the kernel refuses outright (EBADF,
     * EINVAL…) goes to {@code refused} with -errno, no longer pending (so {@code refused} may prepare its iocb
     * again), and the rest are submitted after it; EAGAIN and EINTR keep the remainder queued for the next call.
     *
     * @return reads the kernel took
     */
    public int submit(CompletionHandler refused) {
        int taken = 0;
        while (pendingCount > 0) {
            int result = Syscalls.ioSubmit(context, pendingCount, Pointer.nativeValue(pending));
            if (result == -Syscalls.EAGAIN || result == -Syscalls.EINTR || result == 0) {
                break;
            }
            int consumed = result > 0 ? result : 1;
            long first = pending.getLong(0);
            pendingCount -= consumed;
            for (int i = 0; i < pendingCount; i++) {
                pending.setLong(8L * i, pending.getLong(8L * (i + consumed)));
            }
            if (result < 0) {
                refused.complete(new Pointer(first).getLong(0), result);
            } else {
                taken += result;
            }
        }
        return taken;
    }

    /** Passes every completion posted so far to {@code handler} without waiting; returns how many. */
    public int drain(CompletionHandler handler) {
        int total = 0;
        for (;;) {
            int n = Syscalls.ioGetevents(context, 0, iocbCount, Pointer.nativeValue(events), Pointer.nativeValue(zeroTimeout));
            if (n == -Syscalls.EINTR) {
                continue;
            }
            if (n <= 0) {
                return total;
            }
            for (int i = 0; i < n; i++) {
                long base = (long) i * EVENT_SIZE;
                try {
                    handler.complete(events.getLong(base), events.getLong(base + 16));
                } catch (RuntimeException e) {
                    // the kernel gave this batch once: a handler that throws must not lose the rest of it (their
                    // slots, buffers and files would stay taken for good)
                    log.error("kernel AIO: a completion's handler failed", e);
                }
            }
            total += n;
            if (n < iocbCount) {
                return total;
            }
        }
    }

    /**
     * Destroys the context; idempotent. {@code io_destroy} waits for the reads still in flight, so their
     * buffers are free to reuse when it returns.
     */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Syscalls.ioDestroy(context);
        }
    }

    /** Receives completions. */
    @FunctionalInterface
    public interface CompletionHandler {
        /** @param result bytes read, or -errno */
        void complete(long userData, long result);
    }

    @Override
    public String toString() {
        return "LinuxAio(ctx=0x" + Long.toHexString(context) + ", iocbs=" + iocbCount + ')';
    }
}
