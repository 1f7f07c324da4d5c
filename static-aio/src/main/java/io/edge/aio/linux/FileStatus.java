package io.edge.aio.linux;

import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * What {@code statx} said about a file: enough to serve it and to tell whether it changed. As
 * {@link BasicFileAttributes} so that the open-file cache treats it like the JDK's stat; access and creation
 * times are not asked for and report the modification time.
 *
 * @param mode          {@code st_mode}: file type and permission bits
 * @param size          bytes
 * @param mtimeMillis   modification time, milliseconds since the epoch (truncated, as the JDK's {@code toMillis})
 * @param device        the device, major in the high 32 bits
 * @param inode         the inode number
 * @param mount         the id of the mount the file was reached through, never reused since boot
 *                      ({@code STATX_MNT_ID_UNIQUE}, Linux 6.8); 0 where the kernel does not give it
 * @param ctimeNanos    status change time, nanoseconds since the epoch: moved by every write, rename or chmod, and
 *                      set back by no call, so a file rewritten with its mtime restored ({@code cp -p}) still shows
 */
public record FileStatus(int mode, long size, long mtimeMillis, long device, long inode, long mount, long ctimeNanos)
        implements BasicFileAttributes {

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    /**
     * Identifies the file as {@code (device, inode)}, like the JDK's file key, and the mount it was reached through:
     * a file of a file system mounted again is another file.
     */
    public record Key(long device, long inode, long mount) {

        /**
         * The mounted file system the file is on, for what engines learn once per file system (its type): the
         * mount's unique id where the kernel gave one (Linux 6.8), else the device number. A device number is
         * reused as soon as its file system is unmounted (FUSE and tmpfs take anonymous ones), so a FUSE mount may
         * get the number a tmpfs had; a unique mount id never is. (The older, reusable {@code STATX_MNT_ID} is
         * not used: it is handed out lowest-free, so it is reused at once too.)
         */
        public long fileSystem() {
            return mount != 0 ? mount : device;
        }

        /** The device as {@code major:minor}, and the mount's id where known, for log lines. */
        public String deviceName() {
            String name = (device >>> 32) + ":" + (device & 0xFFFFFFFFL);
            return mount == 0 ? name : name + " (mount " + mount + ")";
        }
    }

    @Override
    public FileTime lastModifiedTime() {
        return FileTime.fromMillis(mtimeMillis);
    }

    @Override
    public FileTime lastAccessTime() {
        return lastModifiedTime();
    }

    @Override
    public FileTime creationTime() {
        return lastModifiedTime();
    }

    @Override
    public boolean isRegularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }

    @Override
    public boolean isDirectory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    @Override
    public boolean isSymbolicLink() {
        return (mode & S_IFMT) == S_IFLNK;
    }

    @Override
    public boolean isOther() {
        return !isRegularFile() && !isDirectory() && !isSymbolicLink();
    }

    @Override
    public Key fileKey() {
        return new Key(device, inode, mount);
    }
}
