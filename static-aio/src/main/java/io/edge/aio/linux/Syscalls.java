package io.edge.aio.linux;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.function.IntUnaryOperator;
import org.slf4j.LoggerFactory;

/**
 * The one class holding native methods: libc's {@code syscall} (io_uring, kernel AIO, eventfd, fallocate,
 * cachestat, read), {@code mmap}, {@code munmap}, {@code mincore}, {@code open},
 * {@code read}, {@code close} and {@code strerror}, bound by JNA direct mapping (about 0.5 us a call).
 * {@code syscall} is variadic; declaring it with seven {@code long}s is correct on x86-64 and aarch64 Linux.
 * Pointers are passed as {@code long} addresses. A failing call becomes an {@link IOException} naming the
 * call and the errno ({@link #error}); errno is read with {@link Native#getLastError()} straight after it.
 *
 * <p>Loading is lazy and probed once: {@link #isAvailable()} is false (with {@link #unavailabilityCause()})
 * on a platform other than Linux x86-64 or aarch64, or if JNA cannot load its native stub.
 */
public final class Syscalls {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int ENXIO = 6;
    public static final int EAGAIN = 11;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int EINVAL = 22;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int ENAMETOOLONG = 36;
    public static final int EOPNOTSUPP = 95;
    public static final int ECANCELED = 125;

    /** {@code preadv2} flag: fail with EAGAIN instead of waiting for the disk (4.14; buffered reads since 5.9). */
    public static final int RWF_NOWAIT = 0x08;

    /** {@code openat2} resolve flags (linux/openat2.h). */
    public static final long RESOLVE_NO_XDEV = 0x01;
    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    public static final long RESOLVE_BENEATH = 0x08;
    /** Fail with EAGAIN unless every component is in the dentry cache (5.12): an open that cannot block on the disk. */
    public static final long RESOLVE_CACHED = 0x20;

    public static final int O_RDONLY = 0;
    /** Differs by architecture (asm-generic: 0100000 on aarch64; 0400000 on x86-64). */
    public static final int O_NOFOLLOW;
    public static final int O_CLOEXEC = 02000000;
    /** A FIFO's open returns at once instead of waiting for a writer; regular files ignore it (nginx opens with it). */
    public static final int O_NONBLOCK = 04000;
    /** Reads through the descriptor leave the file's access time alone (the same on x86-64 and aarch64). */
    public static final int O_NOATIME = 01000000;
    /** Whether opens of files to serve still ask for {@link #O_NOATIME}: until the kernel refused it (withNoAtime). */
    private static volatile boolean noAtime = true;
    private static final int O_PATH = 010000000;
    private static final int O_DIRECTORY;
    private static final int AT_FDCWD = -100;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int AT_STATX_DONT_SYNC = 0x4000;
    /** The mount's 64-bit id, never reused since boot (Linux 6.8; older kernels ignore the bit). */
    private static final int STATX_MNT_ID_UNIQUE = 0x4000;
    /** STATX_TYPE | STATX_MODE | STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE | STATX_MNT_ID_UNIQUE */
    private static final int STATX_WANTED = 0x1 | 0x2 | 0x40 | 0x80 | 0x100 | 0x200 | STATX_MNT_ID_UNIQUE;
    private static final int PATH_MAX = 4096;
    /** Per thread: a NUL-terminated path, then {@code struct open_how} (24 bytes) or {@code struct statx} (256). */
    private static final FastThreadLocal<Scratch> SCRATCH = Scratch.perThread(PATH_MAX + 256);

    private static final long SYS_READ;
    private static final long SYS_PREAD64;
    private static final long SYS_PREADV2;
    private static final long SYS_IO_SETUP;
    private static final long SYS_IO_DESTROY;
    private static final long SYS_IO_SUBMIT;
    private static final long SYS_IO_GETEVENTS;
    private static final long SYS_FALLOCATE;
    private static final int O_DIRECT;
    private static final long SYS_IO_URING_SETUP = 425;
    private static final long SYS_IO_URING_ENTER = 426;
    private static final long SYS_IO_URING_REGISTER = 427;
    private static final long SYS_EVENTFD2;
    private static final long SYS_CACHESTAT = 451;
    private static final long SYS_OPENAT2 = 437;
    private static final long SYS_STATX;
    private static final long SYS_FSTATFS;
    private static final long SYS_STATFS;

    private static final Throwable UNAVAILABILITY_CAUSE;

    static {
        Throwable cause = null;
        long eventfd2 = -1;
        long read = -1;
        long pread = -1;
        long preadv2 = -1;
        long[] aio = {-1, -1, -1, -1};
        long fallocate = -1;
        int direct = 0;
        int noFollow = 0400000;
        int directory = 0200000;
        long statx = -1;
        long fstatfs = -1;
        long statfs = -1;
        if (!Platform.isLinux()) {
            cause = new UnsupportedOperationException("not Linux: " + System.getProperty("os.name"));
        } else if (Platform.isIntel() && Platform.is64Bit()) {
            eventfd2 = 290;
            read = 0;
            pread = 17;
            preadv2 = 327;
            aio = new long[] {206, 207, 209, 208};
            fallocate = 285;
            direct = 040000;
            statx = 332;
            fstatfs = 138;
            statfs = 137;
        } else if (Platform.isARM() && Platform.is64Bit()) {
            eventfd2 = 19;
            read = 63;
            pread = 67;
            preadv2 = 286;
            aio = new long[] {0, 1, 2, 4};
            fallocate = 47;
            direct = 0200000;
            noFollow = 0100000;
            directory = 040000;
            statx = 291;
            fstatfs = 44;
            statfs = 43;
        } else {
            cause = new UnsupportedOperationException("unsupported architecture: " + System.getProperty("os.arch"));
        }
        if (cause == null) {
            try {
                Native.register(Syscalls.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            } catch (LinkageError | RuntimeException e) {
                cause = e;
            }
        }
        SYS_EVENTFD2 = eventfd2;
        SYS_READ = read;
        SYS_PREAD64 = pread;
        SYS_PREADV2 = preadv2;
        SYS_IO_SETUP = aio[0];
        SYS_IO_DESTROY = aio[1];
        SYS_IO_SUBMIT = aio[2];
        SYS_IO_GETEVENTS = aio[3];
        SYS_FALLOCATE = fallocate;
        O_DIRECT = direct;
        O_NOFOLLOW = noFollow;
        O_DIRECTORY = directory;
        SYS_STATX = statx;
        SYS_FSTATFS = fstatfs;
        SYS_STATFS = statfs;
        UNAVAILABILITY_CAUSE = cause;
    }

    private Syscalls() {
    }

    private static native long syscall(long number, long a, long b, long c, long d, long e, long f);

    private static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    private static native int munmap(long addr, long length);

    private static native int mincore(long addr, long length, long vec);

    private static native int open(String path, int flags, int mode);

    private static native int close(int fd);

    private static native String strerror(int errno);

    private static native int getpagesize();

    /** True if the natives are bound. */
    public static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** Why the natives are not bound, or null. */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    /** {@code io_uring_setup(entries, params)}: the ring's descriptor, or -errno. */
    public static int ioUringSetup(int entries, long paramsAddress) {
        return (int) call(SYS_IO_URING_SETUP, entries, paramsAddress, 0, 0, 0, 0);
    }

    /** {@code io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)}: SQEs consumed, or -errno. */
    public static int ioUringEnter(int ringFd, int toSubmit, int minComplete, int flags) {
        return (int) call(SYS_IO_URING_ENTER, ringFd, toSubmit, minComplete, flags, 0, 0);
    }

    /** {@code io_uring_register(fd, opcode, arg, count)}: a result, or -errno. */
    public static int ioUringRegister(int ringFd, int opcode, long argAddress, int count) {
        return (int) call(SYS_IO_URING_REGISTER, ringFd, opcode, argAddress, count, 0, 0);
    }

    /** {@code eventfd2(initval, flags)}: the descriptor, or -errno. */
    public static int eventfd(int initialValue, int flags) {
        return (int) call(SYS_EVENTFD2, initialValue, flags, 0, 0, 0, 0);
    }

    /** {@code cachestat(fd, range, cstat, 0)} (kernel 6.5): 0, or -errno. */
    public static int cachestat(int fd, long rangeAddress, long statAddress) {
        return (int) call(SYS_CACHESTAT, fd, rangeAddress, statAddress, 0, 0, 0);
    }

    /** {@code io_setup(maxEvents, ctxp)}: 0 with the context stored at {@code contextAddress}, or -errno. */
    public static int ioSetup(int maxEvents, long contextAddress) {
        return (int) call(SYS_IO_SETUP, maxEvents, contextAddress, 0, 0, 0, 0);
    }

    /** {@code io_destroy(ctx)}: waits for the context's operations in flight, then frees it; 0 or -errno. */
    public static int ioDestroy(long context) {
        return (int) call(SYS_IO_DESTROY, context, 0, 0, 0, 0, 0);
    }

    /** {@code io_submit(ctx, count, iocbpp)}: iocbs the kernel took, or -errno (for the first one). */
    public static int ioSubmit(long context, int count, long iocbPointersAddress) {
        return (int) call(SYS_IO_SUBMIT, context, count, iocbPointersAddress, 0, 0, 0);
    }

    /** {@code io_getevents(ctx, minEvents, maxEvents, events, timeout)}: events stored, or -errno. */
    public static int ioGetevents(long context, int minEvents, int maxEvents, long eventsAddress, long timeoutAddress) {
        return (int) call(SYS_IO_GETEVENTS, context, minEvents, maxEvents, eventsAddress, timeoutAddress, 0);
    }

    /** {@code fallocate(fd, mode, offset, length)}: 0, or -errno. */
    public static int fallocate(int fd, int mode, long offset, long length) {
        return (int) call(SYS_FALLOCATE, fd, mode, offset, length, 0, 0);
    }

    /** The page size. */
    public static int pageSize() {
        return getpagesize();
    }

    /** {@code read(fd, buf, count)}: bytes read, or -errno. */
    public static long read(int fd, long address, long count) {
        return call(SYS_READ, fd, address, count, 0, 0, 0);
    }

    /** {@code pread(fd, buf, count, offset)}: bytes read (0 at the end of the file), or -errno. */
    public static long pread(int fd, long address, long count, long offset) {
        return call(SYS_PREAD64, fd, address, count, offset, 0, 0);
    }

    /**
     * {@code preadv2(fd, {address, count}, 1, offset, flags)}: bytes read (0 at the end of the file), or -errno;
     * with {@link #RWF_NOWAIT}, -EAGAIN if the first page is not in the page cache and a short count if a later
     * one is not, -EOPNOTSUPP where the file system does not take the flag.
     */
    public static long preadv2(int fd, long address, long count, long offset, int flags) {
        Scratch m = SCRATCH.get();
        m.buffer.putLong(0, address).putLong(8, count);
        // The kernel takes the offset as two halves (pos_l, pos_h); on 64-bit the low one holds all of it.
        return call(SYS_PREADV2, fd, m.address, 1, offset, 0, flags);
    }

    private static long call(long number, long a, long b, long c, long d, long e, long f) {
        long result = syscall(number, a, b, c, d, e, f);
        return result == -1 ? -Native.getLastError() : result;
    }

    /** Maps {@code length} bytes of {@code fd} at {@code offset} shared, read-write, populated; fails by errno. */
    public static long mmapShared(int fd, long length, long offset) throws IOException {
        return mmapShared(fd, length, offset, true);
    }

    /**
     * Maps {@code length} bytes of {@code fd} at {@code offset} shared and read-write; {@code populate} faults
     * every page in now (which allocates a sparse tmpfs file in full). Fails by errno.
     */
    public static long mmapShared(int fd, long length, long offset, boolean populate) throws IOException {
        final int protReadWrite = 0x1 | 0x2;
        final int mapShared = 0x01;
        final int mapPopulate = 0x8000;
        long address = mmap(0, length, protReadWrite, mapShared | (populate ? mapPopulate : 0), fd, offset);
        if (address == -1) {
            throw error("mmap", Native.getLastError());
        }
        return address;
    }

    /**
     * {@code mmap(NULL, length, PROT_READ, MAP_SHARED, fd, offset)}, which touches no page: the address, or -errno
     * (ENODEV where the file system cannot map files). {@code offset} must be a multiple of the page size.
     */
    public static long mmapReadOnly(int fd, long length, long offset) {
        final int protRead = 0x1;
        final int mapShared = 0x01;
        long address = mmap(0, length, protRead, mapShared, fd, offset);
        return address == -1 ? -Native.getLastError() : address;
    }

    /**
     * {@code mincore(address, length, vector)}: 0 with one byte per page at {@code vectorAddress} (bit 0 set: the
     * page is in memory and up to date), or -errno.
     */
    public static int pageResidency(long address, long length, long vectorAddress) {
        return mincore(address, length, vectorAddress) == 0 ? 0 : -Native.getLastError();
    }

    /** Unmaps what {@link #mmapShared} or {@link #mmapReadOnly} mapped; errors are not expected and are ignored. */
    public static void munmapQuietly(long address, long length) {
        munmap(address, length);
    }

    /**
     * {@code open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK [| O_NOFOLLOW] [| O_NOATIME])}, a file to serve: the
     * descriptor, or -errno. O_NOATIME as {@link #withNoAtime} says.
     */
    public static int openRaw(String path, boolean followLinks) {
        return withNoAtime(noAtimeFlag -> {
            int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW) | noAtimeFlag, 0);
            return fd >= 0 ? fd : -Native.getLastError();
        });
    }

    /**
     * The {@link #O_NOATIME} bit an open of a file to serve asks for now: the bit, or 0 once the kernel refused it
     * ({@link #withNoAtime}). For an open made elsewhere (a ring's), whose EPERM then goes to {@link #withNoAtime}.
     */
    public static int noAtimeFlag() {
        return noAtime ? O_NOATIME : 0;
    }

    /**
     * Makes an open of a file to serve by {@code open}, given the {@link #O_NOATIME} bit to add, as lighttpd opens
     * its files: with it, a read (a sendfile on an event loop included) never updates the file's access time, a
     * write of its inode to the journal and later to the disk its reads wait for (under {@code relatime} the first
     * read after each change, and once a day). The kernel refuses it (EPERM) for a file the process's user does not
     * own, without CAP_FOWNER: the open is made again without it, and if that one is let through (the EPERM was the
     * bit's), no later open asks for it, said once in the log: a tree another user owns is most often all of it.
     */
    static int withNoAtime(IntUnaryOperator open) {
        int flag = noAtimeFlag();
        int fd = open.applyAsInt(flag);
        if (fd != -EPERM || flag == 0) {
            return fd;
        }
        int again = open.applyAsInt(0);
        if (again != -EPERM && noAtime) {
            noAtime = false;
            LoggerFactory.getLogger(Syscalls.class).info("O_NOATIME refused (files owned by another user, no "
                    + "CAP_FOWNER): files are opened without it; the first read of a file after it changes updates "
                    + "its access time");
        }
        return again;
    }

    /** Asks for {@link #O_NOATIME} again, as at start: for tests. */
    static void resetNoAtime() {
        noAtime = true;
    }

    /** {@code open(path, O_RDWR | O_CLOEXEC)} of an existing file; fails naming the call and errno. */
    public static int openReadWrite(String path) throws IOException {
        final int readWrite = 2;
        int fd = open(path, readWrite | O_CLOEXEC, 0);
        if (fd < 0) {
            throw error("open " + path, Native.getLastError());
        }
        return fd;
    }

    /**
     * A second, independent open of the file behind {@code fd} with {@code O_DIRECT} (through
     * {@code /proc/self/fd}): the descriptor, or -errno; -EINVAL means the file system refuses O_DIRECT.
     */
    public static int reopenDirect(int fd) {
        return withNoAtime(noAtimeFlag -> {
            int direct = open("/proc/self/fd/" + fd, O_RDONLY | O_CLOEXEC | O_DIRECT | noAtimeFlag, 0);
            return direct >= 0 ? direct : -Native.getLastError();
        });
    }

    /**
     * {@code openat2(dirfd, path, {O_RDONLY | O_CLOEXEC | O_NONBLOCK [| O_NOFOLLOW], 0, resolve})}: the
     * descriptor, or -errno (ENOSYS before Linux 5.6; EAGAIN with {@link #RESOLVE_CACHED} when a lookup would
     * have to wait; ELOOP for a link under {@link #RESOLVE_NO_SYMLINKS}; EXDEV for an escape from
     * {@link #RESOLVE_BENEATH} or a mount crossed under {@link #RESOLVE_NO_XDEV}).
     */
    public static int openat2ReadOnly(int dirFd, String path, boolean followLinks, long resolve) {
        return openat2(dirFd, path, followLinks, 0, resolve);
    }

    /** {@link #openat2ReadOnly} of a file to serve, with {@link #O_NOATIME} as {@link #withNoAtime} says. */
    public static int openat2File(int dirFd, String path, boolean followLinks, long resolve) {
        return withNoAtime(noAtimeFlag -> openat2(dirFd, path, followLinks, noAtimeFlag, resolve));
    }

    private static int openat2(int dirFd, String path, boolean followLinks, int moreFlags, long resolve) {
        Scratch m = SCRATCH.get();
        int how = putOpenat2ReadOnly(m.buffer, 0, PATH_MAX + OPEN_HOW_SIZE, path, followLinks, moreFlags, resolve);
        if (how < 0) {
            return -ENAMETOOLONG;
        }
        return (int) call(SYS_OPENAT2, dirFd, m.address, m.address + how, OPEN_HOW_SIZE, 0, 0);
    }

    /** {@code sizeof(struct open_how)}. */
    public static final int OPEN_HOW_SIZE = 24;

    /**
     * Whether {@code path} (absolute) is reached with no symbolic link on the way, its last component included: one
     * {@code openat2(AT_FDCWD, path, {O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS})}, closed at once (an
     * {@code O_PATH} open reads nothing and asks no file server). 0 when it is, -ELOOP when a link is met, else
     * -errno (ENOENT; ENOSYS before Linux 5.6, EPERM under a seccomp filter).
     */
    public static int reachedWithNoLink(String path) {
        Scratch m = SCRATCH.get();
        int how = putPath(m.buffer, 0, PATH_MAX, path);
        if (how < 0) {
            return -ENAMETOOLONG;
        }
        m.buffer.putLong(how, O_PATH | O_CLOEXEC).putLong(how + 8, 0).putLong(how + 16, RESOLVE_NO_SYMLINKS);
        int fd = (int) call(SYS_OPENAT2, AT_FDCWD, m.address, m.address + how, OPEN_HOW_SIZE, 0, 0);
        if (fd < 0) {
            return fd;
        }
        closeQuietly(fd);
        return 0;
    }

    /**
     * Writes the arguments of {@link #openat2ReadOnly}, its flags with {@code moreFlags} (such as
     * {@link #noAtimeFlag()}), into {@code buffer} (native order) at {@code offset}: the
     * path, NUL-terminated, then its {@code struct open_how} at the next multiple of 8, all within {@code capacity}
     * bytes, for an {@code openat2} made elsewhere (an io_uring request). Returns where the {@code open_how} starts,
     * relative to {@code offset}, or -1 if the path does not fit (or reaches {@code PATH_MAX}).
     */
    public static int putOpenat2ReadOnly(ByteBuffer buffer, int offset, int capacity, String path, boolean followLinks,
            int moreFlags, long resolve) {
        int how = putPath(buffer, offset, capacity - OPEN_HOW_SIZE, path);
        if (how < 0) {
            return -1;
        }
        buffer.putLong(offset + how, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW) | moreFlags)
                .putLong(offset + how + 8, 0)
                .putLong(offset + how + 16, resolve);
        return how;
    }

    /** {@code open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)}: a descriptor naming a directory, or -errno. */
    public static int openDirectoryPath(String path) {
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        return fd >= 0 ? fd : -Native.getLastError();
    }

    /**
     * {@code statx} of an open descriptor with {@code AT_STATX_DONT_SYNC}: what the kernel has in memory, never
     * a round trip to a network or FUSE server. Fails by errno.
     */
    public static FileStatus fstat(int fd) throws IOException {
        return statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, "fstat");
    }

    /** {@code statx} of a path (of a link itself unless {@code followLinks}): blocks. Fails as the JDK's stat would. */
    public static FileStatus stat(String path, boolean followLinks) throws IOException {
        final int atSymlinkNofollow = 0x100;
        return statx(AT_FDCWD, path, followLinks ? 0 : atSymlinkNofollow, path);
    }

    private static FileStatus statx(int dirFd, String path, int flags, String what) throws IOException {
        Scratch m = SCRATCH.get();
        int out = putPath(m, path);
        if (out < 0) {
            throw openFailure(what, ENAMETOOLONG);
        }
        int result = (int) call(SYS_STATX, dirFd, m.address, flags, STATX_WANTED, m.address + out, 0);
        if (result != 0) {
            throw openFailure(what, -result);
        }
        // struct statx: mask u32 @0, mode u16 @28, ino u64 @32, size u64 @40, ctime {i64 sec @96, u32 nsec @104},
        // mtime {i64 sec @112, u32 nsec @120}, dev_major/minor u32 @136/140, mnt_id u64 @144 (the unique one when
        // the mask says so)
        ByteBuffer b = m.buffer;
        boolean mountKnown = (b.getInt(out) & STATX_MNT_ID_UNIQUE) != 0;
        return new FileStatus(b.getShort(out + 28) & 0xFFFF, b.getLong(out + 40),
                b.getLong(out + 112) * 1000 + (b.getInt(out + 120) & 0xFFFFFFFFL) / 1_000_000,
                ((long) b.getInt(out + 136) << 32) | (b.getInt(out + 140) & 0xFFFFFFFFL), b.getLong(out + 32),
                mountKnown ? b.getLong(out + 144) : 0,
                b.getLong(out + 96) * 1_000_000_000 + (b.getInt(out + 104) & 0xFFFFFFFFL));
    }

    /** {@code fstatfs(fd).f_type} (a file system's magic number), or -errno. */
    public static long fileSystemType(int fd) {
        Scratch m = SCRATCH.get();
        long result = call(SYS_FSTATFS, fd, m.address, 0, 0, 0, 0);
        return result != 0 ? result : m.buffer.getLong(0);
    }

    /** {@code statfs(path).f_type} (a file system's magic number), or -errno. Blocks on FUSE or NFS. */
    public static long fileSystemType(String path) {
        Scratch m = SCRATCH.get();
        int out = putPath(m, path);
        if (out < 0) {
            return -ENAMETOOLONG;
        }
        long result = call(SYS_STATFS, m.address, m.address + out, 0, 0, 0, 0);
        return result != 0 ? result : m.buffer.getLong(out);
    }

    /**
     * Writes {@code path} NUL-terminated at 0; returns the first 8-aligned offset after it (where the call's
     * struct goes), or -1 if it is too long.
     */
    private static int putPath(Scratch m, String path) {
        return putPath(m.buffer, 0, PATH_MAX, path);
    }

    /**
     * Writes {@code path} NUL-terminated into {@code buffer} at {@code offset}; returns the first 8-aligned offset after
     * it, relative to {@code offset}, or -1 (nothing written) if it reaches {@code PATH_MAX} or that offset would pass
     * {@code limit}.
     */
    private static int putPath(ByteBuffer buffer, int offset, int limit, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        int end = (bytes.length + 1 + 7) & ~7;
        if (bytes.length >= PATH_MAX || end > limit) {
            return -1;
        }
        buffer.put(offset, bytes).put(offset + bytes.length, (byte) 0);
        return end;
    }

    /** The exception the JDK would throw for a failed open or stat of {@code path} with {@code errno}. */
    public static IOException openFailure(String path, int errno) {
        switch (errno) {
            case ENOENT:
            case ENAMETOOLONG:
                return new NoSuchFileException(path);
            case EACCES:
            case EPERM:
                return new AccessDeniedException(path, null, strerror(errno));
            case ELOOP:
                return new AccessDeniedException(path, null, "symbolic link not followed");
            case ENXIO: // a Unix socket, or a device with nothing behind it: as a FIFO, not a file to serve
            case ENODEV:
                return new NoSuchFileException(path, null, "not a regular file");
            default:
                return new FileSystemException(path, null, strerror(errno));
        }
    }

    /** Closes {@code fd}; EINTR and errors are ignored (Linux has released the descriptor either way). */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            close(fd);
        }
    }

    /** An exception naming the call and {@code errno}: {@code "io_uring_setup: Operation not permitted (EPERM 1)"}. */
    public static IOException error(String call, int errno) {
        return new IOException(call + ": " + describe(errno));
    }

    /**
     * Whether {@code error}, or a cause beneath it, is the descriptor limit, the process's (EMFILE) or the system's
     * (ENFILE), met opening a file: a {@link FileSystemException}'s reason (in this process's locale or glibc's English,
     * {@link #isReason}), or a message the JDK words it in ("... (Too many open files)"). (A backend's socket is told by
     * the fastcgi module's ConnectFailures, from Netty's errors.)
     */
    public static boolean isOutOfDescriptors(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            String reason = t instanceof FileSystemException fs ? fs.getReason() : null;
            if (isReason(reason, EMFILE, "Too many open files") || isReason(reason, ENFILE, "Too many open files in system")
                    || t.getMessage() != null && t.getMessage().contains("Too many open files")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code reason}, a {@link java.nio.file.FileSystemException}'s, is the text of {@code errno}: the JDK
     * takes it from {@code strerror} in the process's locale ("Ist kein Verzeichnis" under de_DE), so it is compared
     * with this process's {@code strerror}, and with glibc's English text ({@code english}) where that is not to
     * be had. The JDK's reason may go on after it ("or unable to access attributes of symbolic link").
     */
    public static boolean isReason(String reason, int errno, String english) {
        if (reason == null) {
            return false;
        }
        if (reason.startsWith(english)) {
            return true;
        }
        try {
            String local = strerror(errno);
            return local != null && !local.isEmpty() && reason.startsWith(local);
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }

    /** {@code strerror(errno)} with the errno's name and number. */
    public static String describe(int errno) {
        String text;
        try {
            text = strerror(errno);
        } catch (LinkageError | RuntimeException e) {
            text = "error";
        }
        return text + " (" + name(errno) + ")";
    }

    private static String name(int errno) {
        switch (errno) {
            case EPERM: return "EPERM";
            case ENOENT: return "ENOENT";
            case EINTR: return "EINTR";
            case 5: return "EIO";
            case ENXIO: return "ENXIO";
            case 9: return "EBADF";
            case EAGAIN: return "EAGAIN";
            case 12: return "ENOMEM";
            case EACCES: return "EACCES";
            case EFAULT: return "EFAULT";
            case EBUSY: return "EBUSY";
            case EINVAL: return "EINVAL";
            case EXDEV: return "EXDEV";
            case ENODEV: return "ENODEV";
            case ENOTDIR: return "ENOTDIR";
            case ELOOP: return "ELOOP";
            case ENFILE: return "ENFILE";
            case EMFILE: return "EMFILE";
            case ENOSYS: return "ENOSYS";
            case 125: return "ECANCELED";
            default: return "errno " + errno;
        }
    }
}
