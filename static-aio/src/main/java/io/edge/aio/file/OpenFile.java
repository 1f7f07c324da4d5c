package io.edge.aio.file;

import io.edge.aio.linux.FdChannels;
import io.edge.aio.linux.FileStatus;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.internal.ThreadExecutorMap;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.IntPredicate;

/**
 * An open file (or a directory, which holds no descriptor) with the stat taken when it was opened.
 *
 * <p>Reference-counted: the open-file cache holds one reference while the file is cached, and every user
 * (a send in flight, a {@code FileRegion}) holds its own. The descriptor is closed, and its fd budget
 * permit returned, only when the last reference is released — so eviction never closes a file mid-send.
 */
public final class OpenFile extends AbstractReferenceCounted {

    /**
     * Files larger than this that an event loop releases last are closed on {@link FileServerFiles#CLOSER}: the last
     * close of a file deleted or replaced while it was open (a deploy's rsync over a video) frees its blocks then,
     * which may read the file system's block bitmaps from the disk, in the closing thread (an io_uring close's too:
     * its final release runs as the loop's task work). A thumbnail is closed where it is released, unless its path
     * was found to have left it ({@link #pathLeftIt}).
     */
    static final long CLOSED_OFF_THE_LOOP_ABOVE = 1 << 20;

    private final Path path;
    private final boolean directory;
    /** The JDK channel; for a file opened natively, made on first use ({@link #channel()}) over {@link #fd}. */
    private volatile FileChannel channel;
    private final long size;
    private final long lastModifiedMillis;
    private final long changeTimeNanos;
    private final Object fileKey;
    private final String etag;
    private final FdBudget budget;
    /** The raw descriptor for io_uring or kernel AIO, or -1; see {@link #fd()}. */
    private final int fd;
    /** {@link #fd} is the channel's own descriptor (closed with it), not a second one. */
    private final boolean channelsFd;
    private final boolean direct;
    private volatile boolean directReadsRefused;
    private volatile boolean noWaitRefused;
    /** Reached with no symbolic link on the way ({@link #confined()}). */
    private volatile boolean confined;
    /** Set once the descriptor is closed (the last reference went). */
    private volatile boolean closed;
    /** It holds a raw descriptor and a channel over another ({@link FdBudget#secondTaken}). */
    private final boolean twoDescriptors;
    /** Where the descriptor is closed when the last reference goes, if not on the releasing thread. */
    private volatile Executor closer;
    /** Its path led elsewhere or nowhere when looked up again ({@link #pathLeftIt}). */
    private volatile boolean pathLeft;
    /** Queues the raw descriptor's close where it can ({@link #closeDescriptorThrough}), or null. */
    private IntPredicate closeQueue;
    /** Opened on the caller's thread, which only a local file system allows ({@link #onLocalFileSystem}). */
    private volatile boolean onLocalFileSystem;
    /** The whole file, read by the pool thread that opened it, until a read takes it ({@link #takeContent}). */
    private volatile ByteBuf content;
    private static final AtomicReferenceFieldUpdater<OpenFile, ByteBuf> CONTENT =
            AtomicReferenceFieldUpdater.newUpdater(OpenFile.class, ByteBuf.class, "content");

    OpenFile(Path path, FileChannel channel, long size, BasicFileAttributes stat, FdBudget budget) {
        this(path, channel, -1, false, false, false, size, stat, budget);
    }

    /**
     * @param channel    the JDK channel, or null where {@code channelsFd}: then it is made over {@code fd} when
     *                   first asked for ({@link FdChannels#wrap}); a small file read with {@code pread} never needs one
     * @param channelsFd {@code fd} is the descriptor {@code channel} wraps
     * @param direct     {@code fd} was opened with {@code O_DIRECT}
     * @param confined   opened beneath the site's root with no link on the way ({@link #confined()})
     */
    OpenFile(Path path, FileChannel channel, int fd, boolean channelsFd, boolean direct, boolean confined,
            long size, BasicFileAttributes stat, FdBudget budget) {
        this.path = Objects.requireNonNull(path, "path");
        this.directory = stat.isDirectory();
        this.channel = channel;
        this.fd = fd;
        this.channelsFd = channelsFd && fd >= 0;
        this.direct = direct && fd >= 0 && !channelsFd;
        // a channel of its own beside the raw descriptor: two descriptors (counted for the status page)
        this.twoDescriptors = channel != null && fd >= 0 && !this.channelsFd && budget != null;
        if (twoDescriptors) {
            budget.secondTaken();
        }
        this.confined = confined;
        if (!directory && channel == null && !this.channelsFd) {
            throw new IllegalArgumentException("a file needs a channel or a descriptor to make one over: " + path);
        }
        this.size = size;
        this.lastModifiedMillis = stat.lastModifiedTime().toMillis();
        this.changeTimeNanos = changeTimeOf(stat);
        this.fileKey = stat.fileKey();
        this.etag = etagOf(lastModifiedMillis, size);
        this.budget = budget;
    }

    /** A directory: no descriptor, no budget. */
    static OpenFile directory(Path path, BasicFileAttributes stat) {
        return new OpenFile(path, null, stat.size(), stat, null);
    }

    /**
     * Whether it was reached with no symbolic link on the way: opened beneath its site's root so ({@code openat2}
     * with {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}), or found by its descriptor to be at its own path
     * ({@link #markConfined}), as last looked. Only such a file may answer a resolution whose links were not checked
     * ({@code Resolution.linksUnchecked()}): one opened by its path with links followed (a site with
     * {@code symlinks = allow}) may be a link's target outside the root, cached under the same path.
     */
    public boolean confined() {
        return confined;
    }

    /**
     * Says whether the file's descriptor names its own {@link #path()}, a real path, now: no link on its way, which is
     * what an open beneath a root with no link allowed finds out too; false once a directory on its way was moved and
     * a link put in its place.
     */
    void markConfined(boolean atItsPath) {
        confined = atItsPath;
    }

    /** The path it was opened by (the cache key). */
    public Path path() {
        return path;
    }

    /** True for a directory; it has no {@link #channel()} and the responder looks for index files. */
    public boolean isDirectory() {
        return directory;
    }

    /**
     * The open file. Shared by every holder: use positional reads and transfers only, never the channel's
     * own position, and never close it. Valid while a reference is held.
     *
     * @throws IllegalStateException for a directory
     */
    public FileChannel channel() {
        if (directory) {
            throw new IllegalStateException("a directory has no channel");
        }
        FileChannel c = channel;
        if (c == null) {
            if (closed) {
                throw new IllegalReferenceCountException("channel() of a released file: " + path);
            }
            synchronized (this) {
                c = channel;
                if (c == null) {
                    c = FdChannels.wrap(fd);
                    channel = c;
                }
            }
        }
        return c;
    }

    /** Whether the file's descriptor is still open: false once the last reference was released. */
    boolean isOpen() {
        return !closed;
    }

    /**
     * The descriptor to {@code pread} from without a channel: the raw one unless it is {@code O_DIRECT} (whose reads
     * must be aligned), else -1. Valid while a reference is held.
     */
    int preadDescriptor() {
        return directory || direct ? -1 : fd;
    }

    /**
     * The raw descriptor for io_uring and kernel AIO: the channel's own descriptor, or a second open of the same
     * inode ({@code O_DIRECT}, or where a channel cannot wrap a native descriptor). Valid while a reference is held.
     *
     * @throws IllegalStateException if the cache was not asked for raw descriptors
     */
    int fd() {
        if (fd < 0) {
            throw new IllegalStateException("opened without a raw descriptor: " + path);
        }
        return fd;
    }

    /** Whether {@link #fd()} has a descriptor to give (and {@link #realPath()} a file to name). */
    boolean hasRawDescriptor() {
        return fd >= 0;
    }

    /**
     * Whether {@link #fd()} was opened with {@code O_DIRECT} (by a cache asked for it, on a file system that
     * allows it): reads through it must be aligned, and kernel AIO on it is asynchronous.
     */
    boolean isDirect() {
        return direct;
    }

    /**
     * Whether a read through the {@code O_DIRECT} descriptor was refused ({@code EINVAL}: a file system that opens
     * with {@code O_DIRECT} but will not read so, as some FUSE servers): later reads of this file go another way.
     */
    boolean directReadsRefused() {
        return directReadsRefused;
    }

    void refuseDirectReads() {
        directReadsRefused = true;
    }

    /**
     * Whether kernel AIO refused a read of this file with {@code RWF_NOWAIT} ({@code EOPNOTSUPP}: a file system
     * that cannot tell it would wait; {@code EINVAL} from a kernel before 4.13): later reads are submitted without it.
     */
    boolean noWaitRefused() {
        return noWaitRefused;
    }

    void refuseNoWait() {
        noWaitRefused = true;
    }

    /**
     * Where the open file is, links resolved: the kernel's name for its descriptor ({@code /proc/self/fd}), built
     * from the dentries in memory, so it never waits for a disk or a file server, and it names the file opened, not
     * whatever its path names by now. A file removed since ends in {@code " (deleted)"}. Valid while a reference is
     * held.
     *
     * @throws IOException if the name cannot be read, or the file has no raw descriptor to name it by (opened
     *                     through the JDK's channel: no native calls): its path's real path would name what the
     *                     path names now, and would block
     */
    public Path realPath() throws IOException {
        if (fd < 0) {
            throw new IOException("no descriptor to name " + path + " by (opened without native calls)");
        }
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd));
    }

    /** Size in bytes when opened (from the open descriptor). */
    public long size() {
        return size;
    }

    /** Modification time in milliseconds since the epoch. */
    public long lastModifiedMillis() {
        return lastModifiedMillis;
    }

    /** A strong entity tag, quoted: {@code "<hex mtime s>-<hex size>"} ({@link #etagOf}). */
    public String etag() {
        return etag;
    }

    /**
     * nginx's entity tag for a file: {@code "<mtime in whole seconds, hex>-<size, hex>"}. The same tag for the same
     * file, so that a CDN's copies revalidated against nginx are still 304s after the move to edge, and origins that
     * hold copies of a tree with second-precision mtimes ({@code scp -p}, a tar) agree. (Edge's tag had milliseconds
     * before, which told apart two versions of one size written within one second; nginx's does not, nor edge's now,
     * so a client may revalidate or resume such a pair as one: the bytes edge sends are always the current file's.)
     */
    static String etagOf(long lastModifiedMillis, long size) {
        long seconds = Math.floorDiv(lastModifiedMillis, 1000);
        // signed, as nginx prints a time_t: a file of 1960 is "-12cff780-...", not two's complement
        String mtime = seconds < 0 ? "-" + Long.toHexString(-seconds) : Long.toHexString(seconds);
        return '"' + mtime + '-' + Long.toHexString(size) + '"';
    }

    /**
     * What identifies the file (device and inode): a {@link FileStatus.Key} where it was stat'ed natively, else the
     * JDK's file key; compares with the {@code fileKey()} of {@link #stat(Path)}.
     */
    public Object fileKey() {
        return fileKey;
    }

    /**
     * The file's ctime when it was opened, nanoseconds since the epoch, or {@link #CHANGE_TIME_UNKNOWN} where the
     * JDK stat'ed it; compares with {@link #changeTimeOf} a {@link #stat(Path)}.
     */
    public long changeTimeNanos() {
        return changeTimeNanos;
    }

    /**
     * Whether {@code stat} still describes this file: same inode, size, mtime and ctime. A file rewritten in place with
     * its mtime restored ({@code cp -p}) reads its new bytes through the descriptor anyway, but is reopened, so that
     * what it tells ({@link #changeTimeNanos}) is true again for the caches that keep its bytes.
     */
    boolean matches(BasicFileAttributes stat) {
        return stat.isDirectory() == isDirectory()
                && (isDirectory() || stat.size() == size)
                && stat.lastModifiedTime().toMillis() == lastModifiedMillis
                && changeTimeOf(stat) == changeTimeNanos
                && Objects.equals(stat.fileKey(), fileKey);
    }

    /** The ctime a stat that does not give one (the JDK's) is said to have: it compares equal only to itself. */
    public static final long CHANGE_TIME_UNKNOWN = Long.MIN_VALUE;

    /** The ctime of {@code stat}, nanoseconds since the epoch, where it is a {@code statx} one; else unknown. */
    public static long changeTimeOf(BasicFileAttributes stat) {
        return stat instanceof FileStatus status ? status.ctimeNanos() : CHANGE_TIME_UNKNOWN;
    }

    /**
     * Stats {@code path}, links followed, as the open-file cache stats what it opens: {@code statx} where the natives
     * are there, else the JDK. What it says compares with an open file's {@link #fileKey()} and
     * {@link #changeTimeNanos()}, for a cache of a file's bytes to tell whether they are still the file's. Blocks.
     */
    public static BasicFileAttributes stat(Path path) throws IOException {
        return Syscalls.isAvailable() ? Syscalls.stat(path.toString(), true)
                : Files.readAttributes(path, BasicFileAttributes.class);
    }

    @Override
    public OpenFile retain() {
        super.retain();
        return this;
    }

    @Override
    public OpenFile touch(Object hint) {
        return this;
    }

    /**
     * Has the descriptor closed on {@code closer} instead of the thread that releases the last reference (an
     * event loop, as often as not): on FUSE a {@code close} waits for the file server (FLUSH).
     */
    void closeOn(Executor closer) {
        this.closer = Objects.requireNonNull(closer, "closer");
    }

    /**
     * Its path was found to lead to another file or to none (replaced by a rename, deleted): this may be the inode's
     * last open, whose close frees it (its blocks, its inode: the file system's bitmaps and journal, from the disk
     * perhaps), so an event loop that releases it last has it closed on {@link FileServerFiles#CLOSER}, whatever its
     * size: a regenerated or purged thumbnail's stale entry is dropped by the loop that looked it up again.
     */
    void pathLeftIt() {
        pathLeft = true;
    }

    /**
     * Has the raw descriptor closed by {@code queue} when the last reference goes, where {@code queue} takes it
     * (returns true: an io_uring close on the releasing event loop, made with the loop's other requests), else at
     * once. Called by the cache before the file is shared.
     */
    void closeDescriptorThrough(IntPredicate queue) {
        this.closeQueue = queue;
    }

    /** Where the descriptor will be closed, or null: the thread releasing the last reference. */
    Executor closer() {
        return closer;
    }

    /**
     * Keeps {@code whole}, all of the file's bytes, read by the thread that opened it, for the next read of the
     * file to take instead of reading ({@link #takeContent}). Takes ownership: released with the file if no read
     * takes it. Called while holding a reference; a second offer is released at once.
     */
    void offerContent(ByteBuf whole) {
        if (whole.readableBytes() != size || !CONTENT.compareAndSet(this, null, whole)) {
            whole.release();
        }
    }

    /** Says the file was opened on the caller's thread: its file system is local, whatever anyone decided yet. */
    void markOnLocalFileSystem() {
        onLocalFileSystem = true;
    }

    /**
     * Whether the file is known to be on a local file system, its page cache read without asking a server: true
     * for a file opened on the caller's thread (no open that could wait). False says nothing.
     */
    boolean onLocalFileSystem() {
        return onLocalFileSystem;
    }

    /** Releases the bytes {@link #offerContent offered} if no read took them. */
    void dropContent() {
        ByteBuf untaken = CONTENT.getAndSet(this, null);
        if (untaken != null) {
            untaken.release();
        }
    }

    /**
     * The range {@code offset}+{@code length} of the bytes {@link #offerContent offered}, which are gone from the
     * file then: only one read takes them (the opener's, as a rule). Null if none are held. The caller owns the
     * buffer returned. The range must lie within the file ({@link FileReads#checkRange}).
     */
    ByteBuf takeContent(long offset, int length) {
        ByteBuf whole = content;
        if (whole == null || !CONTENT.compareAndSet(this, whole, null)) {
            return null;
        }
        if (offset == 0 && length == whole.readableBytes()) {
            return whole;
        }
        try {
            return whole.retainedSlice(whole.readerIndex() + (int) offset, length);
        } finally {
            whole.release();
        }
    }

    @Override
    protected void deallocate() {
        closed = true;
        dropContent();
        if (directory) {
            return;
        }
        Executor elsewhere = closer;
        if (elsewhere == null && (size > CLOSED_OFF_THE_LOOP_ABOVE || pathLeft)
                && ThreadExecutorMap.currentExecutor() instanceof IoEventLoop) {
            elsewhere = FileServerFiles.CLOSER; // not as this file's closer(): that says it is a file server's
        }
        if (elsewhere == null) {
            closeDescriptors();
            return;
        }
        try {
            elsewhere.execute(this::closeDescriptors);
        } catch (RejectedExecutionException e) {
            closeDescriptors();
        }
    }

    private void closeDescriptors() {
        FileChannel c = channel;
        try {
            if (c != null) {
                c.close();
            }
        } catch (IOException ignored) {
            // A read-only descriptor has nothing left to flush; close cannot lose data.
        } finally {
            if ((!channelsFd || c == null) && (closeQueue == null || !closeQueue.test(fd))) {
                Syscalls.closeQuietly(fd); // deallocate runs once: no double close of a reused number
            }
            if (twoDescriptors) {
                budget.secondReleased();
            }
            budget.release();
        }
    }

    @Override
    public String toString() {
        return "OpenFile(" + path + ", size=" + size + ", refCnt=" + refCnt() + ')';
    }
}
