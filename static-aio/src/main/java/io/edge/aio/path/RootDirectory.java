package io.edge.aio.path;

import io.edge.aio.linux.FileStatus;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A document root held open ({@code O_PATH}) so that files are opened relative to it with {@code openat2}
 * and {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}: the kernel refuses a link or an escape anywhere on the
 * way in the same call that opens the file, where a user-space check costs a {@code readlink} per component
 * and leaves a window between check and open.
 *
 * <p>Inline opens: on a local file system ({@link #inlineOpens()}), an open with {@code RESOLVE_CACHED} and
 * {@code RESOLVE_NO_XDEV} either finds every component in the dentry cache or fails with EAGAIN at once, so
 * an event loop may try it before handing the open to a thread. Network and FUSE file systems are left out:
 * their {@code open} itself asks a server.
 *
 * <p>The descriptor lives while its resolver uses it (one per root and path policy), and when the root changes
 * (a deploy switched a link on the way to it, or renamed another directory over it), until the last open that
 * took it ({@link #retain}) is done with it: never closed under an open, so its number is never reused under one.
 */
public final class RootDirectory {

    private static final Logger log = LoggerFactory.getLogger(RootDirectory.class);
    /** Roots whose file system failed to answer the open probe, with the error last logged for each. */
    private static final ConcurrentHashMap<Path, String> FAILING = new ConcurrentHashMap<>();
    private static final AtomicBoolean NO_NATIVES_LOGGED = new AtomicBoolean();
    /** The kernel (or a seccomp filter) refuses openat2 itself: no root is held open, nor tried again. */
    private static volatile boolean OPENAT2_UNSUPPORTED;

    private final Path path;
    private final int fd;
    /** The directory the descriptor holds, whatever its path names later. */
    private final FileStatus.Key key;
    private final boolean inlineOpens;
    /** The resolver's reference (until the root changes) and one per open using the descriptor. */
    private final AtomicInteger references = new AtomicInteger(1);

    private RootDirectory(Path path, int fd, FileStatus.Key key, boolean inlineOpens) {
        this.path = path;
        this.fd = fd;
        this.key = key;
        this.inlineOpens = inlineOpens;
    }

    /**
     * Opens {@code realRoot}, or returns null (links are then checked in user space) where the natives,
     * {@code openat2} or the directory itself are missing.
     */
    static RootDirectory open(Path realRoot) {
        if (!Syscalls.isAvailable()) {
            if (NO_NATIVES_LOGGED.compareAndSet(false, true)) {
                // the cause as text: as the last argument a Throwable is taken for the line's exception (a trace)
                log.warn("native calls unavailable ({}): links under document roots are checked in user space, and a "
                        + "tree whose links change while it is served can race the check",
                        String.valueOf(Syscalls.unavailabilityCause()));
            }
            return null;
        }
        if (OPENAT2_UNSUPPORTED) {
            return null; // said once, at the first root that found it out
        }
        int fd = Syscalls.openDirectoryPath(realRoot.toString());
        if (fd < 0) {
            if (fd != -Syscalls.ENOENT && fd != -Syscalls.ENOTDIR) {
                // EMFILE, ENFILE, ENOMEM: checked in user space until the resolver's next look at its root opens it
                log.warn("{} cannot be held open ({}): links under it are checked in user space until it can",
                        realRoot, Syscalls.describe(-fd));
            }
            return null; // a missing root: every path is 404 through the user-space checks
        }
        int probe = Syscalls.openat2ReadOnly(fd, ".", true, Syscalls.RESOLVE_BENEATH | Syscalls.RESOLVE_NO_SYMLINKS);
        if (probe < 0 && probe != -Syscalls.EACCES) {
            if (probe == -Syscalls.ENOSYS || probe == -Syscalls.EPERM || probe == -Syscalls.EINVAL) {
                OPENAT2_UNSUPPORTED = true;
                log.warn("openat2 unavailable ({}): links under {} and every other document root are checked in user "
                        + "space, and each file opened is checked by its descriptor's real path",
                        Syscalls.describe(-probe), realRoot);
            } else {
                // the file system did not answer (EIO, a file server gone: ENOTCONN); the root's check every second
                // tries again, and says so once until the answer changes
                String failure = Syscalls.describe(-probe);
                if (!failure.equals(FAILING.put(realRoot, failure))) {
                    log.warn("{} did not answer an open beneath it ({}): links under it are checked in user space "
                            + "until it does", realRoot, failure);
                }
            }
            Syscalls.closeQuietly(fd);
            return null;
        }
        if (FAILING.remove(realRoot) != null) {
            log.info("{} answers again", realRoot);
        }
        Syscalls.closeQuietly(probe);
        FileStatus.Key key;
        try {
            key = Syscalls.fstat(fd).fileKey();
        } catch (IOException e) {
            log.info("statx of {} failed ({}): links under it are checked in user space", realRoot, e.getMessage());
            Syscalls.closeQuietly(fd);
            return null;
        }
        int cached = Syscalls.openat2ReadOnly(fd, ".", true, Syscalls.RESOLVE_BENEATH | Syscalls.RESOLVE_CACHED);
        Syscalls.closeQuietly(cached);
        long type = Syscalls.fileSystemType(fd);
        boolean local = FileSystems.isLocal(type);
        // EINVAL: a kernel before 5.12 without RESOLVE_CACHED; EAGAIN is fine (the root was not cached).
        boolean inline = local && cached != -Syscalls.EINVAL;
        if (!inline) {
            log.info("{}: opens go to the file engine's threads (file system {}{})", realRoot, FileSystems.describe(type),
                    local ? ", no RESOLVE_CACHED" : ", not a local file system");
        }
        return new RootDirectory(realRoot, fd, key, inline);
    }

    /**
     * Whether a root that {@link #open} left unopened may open on another try: natives and openat2 are there, and
     * what failed was the root (gone for the moment, or no descriptor to be had).
     */
    static boolean mayOpenLater() {
        return Syscalls.isAvailable() && !OPENAT2_UNSUPPORTED;
    }

    /**
     * Whether {@code realRoot} still names the directory held open (same device, inode and mount): false once
     * another directory was renamed over it. Blocks (a {@code statx} of the path); fails as the JDK's stat would.
     */
    boolean isAt(Path realRoot) throws IOException {
        return Syscalls.stat(realRoot.toString(), true).fileKey().equals(key);
    }

    /** The root's real path. */
    public Path path() {
        return path;
    }

    /** The {@code O_PATH} descriptor of the root; use it only between {@link #retain} and {@link #release}. */
    public int fd() {
        return fd;
    }

    /** Takes a reference for one use of {@link #fd()}; false if the root was replaced and its descriptor closed. */
    public boolean retain() {
        for (int n = references.get(); n > 0; n = references.get()) {
            if (references.compareAndSet(n, n + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Gives a reference back; the last one closes the descriptor. */
    public void release() {
        if (references.decrementAndGet() == 0) {
            Syscalls.closeQuietly(fd);
        }
    }

    /** Whether an event loop may try an open with {@code RESOLVE_CACHED} before handing it to a thread. */
    public boolean inlineOpens() {
        return inlineOpens;
    }
}
