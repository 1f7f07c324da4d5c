package io.edge.aio.linux;

import java.util.Map;

/**
 * What the kernel's file systems, told apart by {@code statfs.f_type}, do for the engines: which answer a cached
 * lookup from memory, and which can read through the page cache without blocking the submitter.
 */
public final class FileSystems {

    public static final long EXT4 = 0xEF53L;
    public static final long XFS = 0x58465342L;
    public static final long BTRFS = 0x9123683EL;
    public static final long TMPFS = 0x01021994L;
    public static final long RAMFS = 0x858458F6L;
    public static final long OVERLAYFS = 0x794C7630L;
    public static final long F2FS = 0xF2F52010L;
    public static final long ZFS = 0x2FC12FC1L;
    public static final long FUSE = 0x65735546L;
    public static final long NFS = 0x6969L;

    /** Open and stat answer from memory once the inode is cached (no server to ask). */
    private static final long[] LOCAL = {EXT4, XFS, BTRFS, TMPFS, RAMFS, OVERLAYFS, F2FS, ZFS};

    /**
     * Buffered reads that miss the page cache complete asynchronously inside io_uring: the kernel sets
     * {@code FMODE_BUF_RASYNC} on their files (ext4, xfs, btrfs since 5.9), and memory file systems never wait
     * for a device. On the others (FUSE, NFS, overlayfs…) io_uring retries a read that would block in the
     * submitting thread's task work, which for an event loop means waiting on the file server there.
     */
    private static final long[] ASYNC_BUFFERED_READS = {EXT4, XFS, BTRFS, TMPFS, RAMFS};

    /**
     * Buffered reads take {@code preadv2(..., RWF_NOWAIT)}: pages in the page cache are copied, and a read that
     * would wait for the device fails with EAGAIN instead (ext4, xfs, btrfs since 4.14). tmpfs answers
     * EOPNOTSUPP (Linux 6.18) though its pages never wait.
     */
    private static final long[] NO_WAIT_READS = {EXT4, XFS, BTRFS};

    private static final Map<Long, String> NAMES = Map.of(EXT4, "ext4", XFS, "xfs", BTRFS, "btrfs", TMPFS, "tmpfs",
            RAMFS, "ramfs", OVERLAYFS, "overlayfs", F2FS, "f2fs", ZFS, "zfs", FUSE, "fuse", NFS, "nfs");

    private FileSystems() {
    }

    /** Whether {@code type} is a local file system: no open or stat of a cached inode leaves the kernel. */
    public static boolean isLocal(long type) {
        return contains(LOCAL, type);
    }

    /** Whether io_uring reads a file of {@code type} without ever blocking the thread that submitted the read. */
    public static boolean readsAsynchronously(long type) {
        return contains(ASYNC_BUFFERED_READS, type);
    }

    /** Whether a buffered read from a file of {@code type} takes {@code RWF_NOWAIT}. */
    public static boolean takesNoWaitReads(long type) {
        return contains(NO_WAIT_READS, type);
    }

    /** {@code type} for a log line: a name where known, then its hexadecimal magic number. */
    public static String describe(long type) {
        String name = NAMES.get(type);
        String hex = "0x" + Long.toHexString(type);
        return name == null ? hex : name + ' ' + hex;
    }

    private static boolean contains(long[] types, long type) {
        for (long known : types) {
            if (known == type) {
                return true;
            }
        }
        return false;
    }
}
