package io.edge.aio.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One io_uring instance: the submission and completion rings mapped into this process, and SQEs written with
 * absolute puts. Not thread-safe: one thread (an event loop) owns a ring.
 *
 * <pre>
 *  SQ ring (mmap at 0)          head/tail u32, mask, entries, array[entries] of SQE indexes (identity here)
 *  SQEs    (mmap at 0x10000000) 64 bytes each: opcode u8 @0, flags u8 @1, ioprio u16 @2, fd s32 @4,
 *                               off u64 @8, addr u64 @16, len u32 @24, rw_flags u32 @28, user_data u64 @32
 *  CQ ring (mmap at 0x8000000)  head/tail u32, mask, entries, cqes[] of 16 bytes: user_data u64, res s32, flags u32
 * </pre>
 *
 * The kernel moves the SQ head and the CQ tail, this class the SQ tail and the CQ head: those are read with
 * acquire and written with release semantics ({@link VarHandle} views over the mapped memory).
 */
public final class IoUring implements AutoCloseable {

    public static final byte OP_READ = 22;
    public static final byte OP_CLOSE = 19;
    public static final byte OP_OPENAT2 = 28;
    public static final int ENTER_GETEVENTS = 1;
    /** IOSQE_ASYNC: the request goes straight to an io-wq kernel worker, never tried inline first. */
    private static final byte SQE_ASYNC = 1 << 4;
    /** IOSQE_CQE_SKIP_SUCCESS: no completion unless the request fails (kernel 5.17, {@link #FEAT_CQE_SKIP}). */
    private static final byte SQE_CQE_SKIP_SUCCESS = 1 << 6;
    private static final int FEAT_CQE_SKIP = 1 << 11;
    private static final int REGISTER_EVENTFD = 4;
    private static final int REGISTER_IOWQ_MAX_WORKERS = 19;
    /** IORING_FEAT_RW_CUR_POS: kernel 5.6, the release that added IORING_OP_READ. */
    private static final int FEAT_RW_CUR_POS = 1 << 3;
    private static final long OFF_SQ_RING = 0;
    private static final long OFF_CQ_RING = 0x8000000L;
    private static final long OFF_SQES = 0x10000000L;
    private static final int SQE_SIZE = 64;
    private static final int CQE_SIZE = 16;
    private static final VarHandle U32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    /** Receives completions from {@link #drain}. */
    @FunctionalInterface
    public interface CompletionHandler {
        /** @param result bytes transferred, or -errno */
        void complete(long userData, int result);
    }

    private final int ringFd;
    private final long sqRingAddress;
    private final long sqRingSize;
    private final long cqRingAddress;
    private final long cqRingSize;
    private final long sqesAddress;
    private final long sqesSize;
    private final ByteBuffer sqRing;
    private final ByteBuffer cqRing;
    private final ByteBuffer sqes;
    private final int sqHead;
    private final int sqTail;
    private final int sqMask;
    private final int sqEntries;
    private final int cqHead;
    private final int cqTail;
    private final int cqMask;
    private final int cqEntries;
    private final int cqes;
    private final Memory scratch = new Memory(8);
    /** The kernel posts no completion for a successful request that asks for none ({@link #prepareClose}). */
    private final boolean skipsSuccess;
    private int localSqTail;
    private boolean closed;

    private IoUring(int ringFd, Memory p) throws IOException {
        this.ringFd = ringFd;
        skipsSuccess = (p.getInt(20) & FEAT_CQE_SKIP) != 0;
        sqEntries = p.getInt(0);
        cqEntries = p.getInt(4);
        int sqOff = 40;
        int cqOff = 80;
        sqHead = p.getInt(sqOff);
        sqTail = p.getInt(sqOff + 4);
        int sqMaskOff = p.getInt(sqOff + 8);
        int sqArray = p.getInt(sqOff + 24);
        cqHead = p.getInt(cqOff);
        cqTail = p.getInt(cqOff + 4);
        int cqMaskOff = p.getInt(cqOff + 8);
        cqes = p.getInt(cqOff + 20);
        sqRingSize = sqArray + 4L * sqEntries;
        cqRingSize = cqes + (long) CQE_SIZE * cqEntries;
        sqesSize = (long) SQE_SIZE * sqEntries;
        long sq = 0;
        long cq = 0;
        long se = 0;
        try {
            sq = Syscalls.mmapShared(ringFd, sqRingSize, OFF_SQ_RING);
            cq = Syscalls.mmapShared(ringFd, cqRingSize, OFF_CQ_RING);
            se = Syscalls.mmapShared(ringFd, sqesSize, OFF_SQES);
        } catch (IOException e) {
            unmap(sq, sqRingSize, cq, cqRingSize, se, sqesSize);
            throw e;
        }
        sqRingAddress = sq;
        cqRingAddress = cq;
        sqesAddress = se;
        sqRing = new Pointer(sq).getByteBuffer(0, sqRingSize).order(ByteOrder.nativeOrder());
        cqRing = new Pointer(cq).getByteBuffer(0, cqRingSize).order(ByteOrder.nativeOrder());
        sqes = new Pointer(se).getByteBuffer(0, sqesSize).order(ByteOrder.nativeOrder());
        sqMask = sqRing.getInt(sqMaskOff);
        cqMask = cqRing.getInt(cqMaskOff);
        for (int i = 0; i < sqEntries; i++) {
            sqRing.putInt(sqArray + 4 * i, i); // SQE i always sits in slot i
        }
        localSqTail = (int) U32.getAcquire(sqRing, sqTail);
    }

    /**
     * Sets up a ring of at least {@code entries} submission slots (the kernel rounds up to a power of two)
     * and twice as many completion slots, and maps it.
     *
     * @throws IOException naming {@code io_uring_setup} and the errno (EPERM from seccomp or
     *                     {@code kernel.io_uring_disabled}, ENOSYS on an old kernel), or {@code mmap}
     */
    public static IoUring create(int entries) throws IOException {
        checkAvailable();
        Memory params = new Memory(120);
        params.clear();
        int fd = Syscalls.ioUringSetup(entries, Pointer.nativeValue(params));
        if (fd < 0) {
            throw Syscalls.error("io_uring_setup", -fd);
        }
        try {
            if ((params.getInt(20) & FEAT_RW_CUR_POS) == 0) {
                throw new IOException("io_uring: kernel older than 5.6 has no IORING_OP_READ");
            }
            return new IoUring(fd, params);
        } catch (IOException | RuntimeException e) {
            Syscalls.closeQuietly(fd);
            throw e;
        }
    }

    private static void checkAvailable() throws IOException {
        if (!Syscalls.isAvailable()) {
            throw new IOException("no native system calls: " + Syscalls.unavailabilityCause(), Syscalls.unavailabilityCause());
        }
    }

    /**
     * Whether this process may use io_uring here, found by setting up and closing a small ring. Returns null
     * if it may, else the reason, e.g. {@code io_uring_setup: Operation not permitted (EPERM);
     * kernel.io_uring_disabled = 2}.
     */
    public static String probe() {
        try {
            create(2).close();
            return null;
        } catch (IOException | RuntimeException | LinkageError e) {
            String reason = e.getMessage();
            String sysctl = ioUringDisabledSysctl();
            return sysctl == null || "0".equals(sysctl) ? reason : reason + "; kernel.io_uring_disabled = " + sysctl;
        }
    }

    private static String ioUringDisabledSysctl() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/io_uring_disabled")).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Registers {@code eventFd} to be signalled on every completion. */
    public void registerEventFd(int eventFd) throws IOException {
        scratch.setInt(0, eventFd);
        int result = Syscalls.ioUringRegister(ringFd, REGISTER_EVENTFD, Pointer.nativeValue(scratch), 1);
        if (result < 0) {
            throw Syscalls.error("io_uring_register(EVENTFD)", -result);
        }
    }

    /**
     * Caps the kernel workers (io-wq) that run this thread's blocking requests, such as reads sent with
     * {@code viaWorker}, at {@code max} for each of the kernel's two kinds of work ("bounded", a few per CPU by
     * default, and "unbounded", limited only by RLIMIT_NPROC: reads from FUSE were measured to be of this kind).
     * The limit belongs to the submitting thread. Kernel 5.15.
     */
    public void limitWorkers(int max) throws IOException {
        scratch.setInt(0, max);
        scratch.setInt(4, max);
        int result = Syscalls.ioUringRegister(ringFd, REGISTER_IOWQ_MAX_WORKERS, Pointer.nativeValue(scratch), 2);
        if (result < 0) {
            throw Syscalls.error("io_uring_register(IOWQ_MAX_WORKERS)", -result);
        }
    }

    /** Submission slots. */
    public int sqEntries() {
        return sqEntries;
    }

    /** Completion slots. */
    public int cqEntries() {
        return cqEntries;
    }

    /**
     * Queues a {@code read(fd, address, length)} at {@code fileOffset} without entering the kernel.
     *
     * @param viaWorker hand the read to a kernel worker at once ({@code IOSQE_ASYNC}) rather than trying it in
     *                  {@code io_uring_enter} first: for files whose reads would otherwise be retried, blocking,
     *                  in the submitting thread
     * @return false if the submission ring is full (call {@link #submit} first)
     */
    public boolean prepareRead(int fd, long fileOffset, long address, int length, long userData, boolean viaWorker) {
        int base = nextSqe(OP_READ, viaWorker ? SQE_ASYNC : 0, fd, userData);
        if (base < 0) {
            return false;
        }
        sqes.putLong(base + 8, fileOffset);
        sqes.putLong(base + 16, address);
        sqes.putInt(base + 24, length);
        publish();
        return true;
    }

    /**
     * Queues an {@code openat2(dirFd, path, how, sizeof how)} without entering the kernel: its completion's result is
     * the new descriptor or -errno. The kernel tries it in {@code io_uring_enter} with a lookup that may not wait
     * (as {@code RESOLVE_CACHED}) and hands it to a worker if that fails, unless {@code how} asks for
     * {@code RESOLVE_CACHED} itself: then it fails with EAGAIN. Both addresses must stay valid until {@link #submit}
     * returned (the kernel copies the path and {@code how} as it takes the request).
     *
     * @param pathAddress a NUL-terminated path, relative to {@code dirFd}
     * @param howAddress  a {@code struct open_how} ({@link Syscalls#putOpenat2ReadOnly} writes both)
     * @return false if the submission ring is full (call {@link #submit} first)
     */
    public boolean prepareOpenat2(int dirFd, long pathAddress, long howAddress, long userData) {
        int base = nextSqe(OP_OPENAT2, 0, dirFd, userData);
        if (base < 0) {
            return false;
        }
        sqes.putLong(base + 8, howAddress);
        sqes.putLong(base + 16, pathAddress);
        sqes.putInt(base + 24, Syscalls.OPEN_HOW_SIZE);
        publish();
        return true;
    }

    /**
     * Queues a {@code close(fd)} without entering the kernel. It completes only if it fails where the kernel can
     * skip the completion of a success (5.17); on an older kernel always, with {@code userData}.
     *
     * @return false if the submission ring is full (call {@link #submit} first)
     */
    public boolean prepareClose(int fd, long userData) {
        int base = nextSqe(OP_CLOSE, skipsSuccess ? SQE_CQE_SKIP_SUCCESS : 0, fd, userData);
        if (base < 0) {
            return false;
        }
        publish();
        return true;
    }

    /** Zeroes the next SQE and fills its common fields; its offset in {@link #sqes}, or -1 if the ring is full. */
    private int nextSqe(byte opcode, int flags, int fd, long userData) {
        int head = (int) U32.getAcquire(sqRing, sqHead);
        if (localSqTail - head >= sqEntries) {
            return -1;
        }
        int base = (localSqTail & sqMask) * SQE_SIZE;
        for (int i = 0; i < SQE_SIZE; i += 8) {
            sqes.putLong(base + i, 0);
        }
        sqes.put(base, opcode);
        sqes.put(base + 1, (byte) flags);
        sqes.putInt(base + 4, fd);
        sqes.putLong(base + 32, userData);
        return base;
    }

    /** Whether the kernel skips the completion of a successful close ({@link #prepareClose}): Linux 5.17. */
    public boolean skipsSuccess() {
        return skipsSuccess;
    }

    /** Makes the SQE {@link #nextSqe} filled visible to the kernel. */
    private void publish() {
        localSqTail++;
        U32.setRelease(sqRing, sqTail, localSqTail);
    }

    /** SQEs prepared but not yet taken by the kernel. */
    public int pendingSubmissions() {
        return localSqTail - (int) U32.getAcquire(sqRing, sqHead);
    }

    /**
     * Hands every prepared SQE to the kernel ({@code io_uring_enter}); with {@code minComplete > 0} also waits
     * for that many completions. EINTR, EAGAIN and EBUSY leave the SQEs queued for the next call.
     *
     * @return SQEs the kernel took
     */
    public int submit(int minComplete) throws IOException {
        int pending = pendingSubmissions();
        if (pending == 0 && minComplete == 0) {
            return 0;
        }
        int result = Syscalls.ioUringEnter(ringFd, pending, minComplete, minComplete > 0 ? ENTER_GETEVENTS : 0);
        if (result < 0) {
            int errno = -result;
            if (errno == Syscalls.EINTR || errno == Syscalls.EAGAIN || errno == Syscalls.EBUSY) {
                return 0;
            }
            throw Syscalls.error("io_uring_enter", errno);
        }
        return result;
    }

    /** Passes every completion posted so far to {@code handler} and frees its slot; returns how many. */
    public int drain(CompletionHandler handler) {
        int head = cqRing.getInt(cqHead); // only this thread moves it
        int tail = (int) U32.getAcquire(cqRing, cqTail);
        int n = 0;
        while (head != tail) {
            int base = cqes + (head & cqMask) * CQE_SIZE;
            long userData = cqRing.getLong(base);
            int result = cqRing.getInt(base + 8);
            head++;
            n++;
            U32.setRelease(cqRing, cqHead, head);
            handler.complete(userData, result);
            if (head == tail) {
                tail = (int) U32.getAcquire(cqRing, cqTail);
            }
        }
        return n;
    }

    /**
     * Unmaps the rings and closes the descriptor; idempotent. The kernel cancels what is still in flight
     * only asynchronously: a caller must not free a read's buffer before its completion was drained.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        unmap(sqRingAddress, sqRingSize, cqRingAddress, cqRingSize, sqesAddress, sqesSize);
        Syscalls.closeQuietly(ringFd);
    }

    private static void unmap(long sq, long sqSize, long cq, long cqSize, long se, long seSize) {
        if (sq != 0) {
            Syscalls.munmapQuietly(sq, sqSize);
        }
        if (cq != 0) {
            Syscalls.munmapQuietly(cq, cqSize);
        }
        if (se != 0) {
            Syscalls.munmapQuietly(se, seSize);
        }
    }

    @Override
    public String toString() {
        return "IoUring(fd=" + ringFd + ", sq=" + sqEntries + ", cq=" + cqEntries + ')';
    }
}
