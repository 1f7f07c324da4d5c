package io.edge.aio.file;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.StaticIoSettings;
import io.edge.aio.linux.FdChannels;
import io.edge.aio.linux.FileStatus;
import io.edge.aio.linux.Syscalls;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.edge.aio.path.RootDirectory;
import io.edge.cache.content.Doorkeeper;
import io.edge.cache.content.FileVersion;
import io.netty.util.IllegalReferenceCountException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;
import java.util.function.IntUnaryOperator;

/**
 * Open descriptors by path, bounded by count, trusted for {@code revalidateAfter} and then stat'ed again
 * (a changed inode, size, mtime or ctime reopens the file), all under one descriptor budget. A file modified less than
 * {@code revalidateAfter} ago is not cached at all ({@link #settled}).
 *
 * <p>Ownership: the cache holds one reference to each cached {@link OpenFile} and releases it on eviction,
 * invalidation or replacement; {@link #acquire} hands out a further reference that the caller releases
 * when its send completed. The descriptor closes when both are gone.
 *
 * <p>Descriptors: every open takes a permit of the budget, returned when the descriptor closes. An open
 * that finds none first evicts idle entries; if still none is free (every descriptor is in a send), the
 * file is opened uncached and closed after its send. EMFILE/ENFILE from the kernel, at the open or at the
 * second open with O_DIRECT, evicts idle entries and retries once, then fails with
 * {@link FileDescriptorsExhaustedException} (a 503, never a 403 or a 500).
 *
 * <p>Directories are reported ({@link OpenFile#isDirectory()}) but not cached; they hold no descriptor.
 * Blocking: {@link #acquire} stats and opens on the calling thread.
 */
public final class OpenFileCache implements AutoCloseable {

    /** Opens a file; replaced in tests to simulate EMFILE. */
    interface Opener {
        FileChannel open(Path path, boolean followLinks) throws IOException;
    }

    /** One of this cache's {@code acquire} calls, which an engine runs now or on its pool. */
    interface Acquire {
        OpenFile acquire() throws IOException;
    }

    private static final LinkOption[] FOLLOW = {};
    private static final LinkOption[] NO_FOLLOW = {LinkOption.NOFOLLOW_LINKS};
    /** Idle entries evicted to make room for one open under the budget. */
    private static final int EVICT_FOR_ROOM = 8;

    /** How long an entry nobody asks for stays (nginx's {@code open_file_cache ... inactive=60s}). */
    static final Duration INACTIVE = Duration.ofSeconds(60);

    private final Cache<Path, Entry> cache;
    private final Ticker ticker;
    private final long revalidateNanos;
    private final FdBudget budget;
    private final Opener opener;
    private final Descriptors descriptors;
    /** {@link Syscalls#reopenDirect} for {@link Descriptors#DIRECT}; replaced in tests to simulate EMFILE. */
    private final IntUnaryOperator reopenDirect;
    /** Admission with {@code min-uses = 2}: a file is cached on an open only if it was opened recently before; else null. */
    private final Doorkeeper admission;
    /** Where native descriptors are closed when that can be queued ({@link #closeDescriptorsWith}), or null. */
    private volatile IntPredicate closeQueue;
    /** Counts an open refused for want of a descriptor (each a 503): the owning engine's rejected count. */
    private volatile Runnable onRefusal = () -> { };

    /** How files are opened and what they hold besides their channel. */
    private enum Descriptors {
        /** the JDK opens and stats; no raw descriptor (no natives here, or a test's {@link Opener}) */
        CHANNEL_ONLY,
        /** {@code openat2} and {@code statx}; the channel wraps the raw descriptor (io_uring reads from it) */
        NATIVE,
        /** as NATIVE, plus a second descriptor opened with O_DIRECT where the file system allows it (kernel AIO) */
        DIRECT
    }

    /** A cache from the server's settings, on the system clock. */
    public OpenFileCache(StaticIoSettings settings) {
        // natively opened files hold two descriptors each where no channel can wrap the raw one: the budget is files
        this(settings.openFileCacheSize(), settings.revalidateAfter(),
                Math.max(1, settings.fdBudget() / nativeDescriptorsPerFile()), Ticker.systemTicker(),
                OpenFileCache::openChannel, Syscalls.isAvailable() ? Descriptors.NATIVE : Descriptors.CHANNEL_ONLY,
                settings.openFileCacheMinUses(), Syscalls::reopenDirect, Scheduler.systemScheduler(),
                perFile(settings.fdLimit(), nativeDescriptorsPerFile()));
    }

    /** {@link #descriptorsPerFile} where the natives open files, else 1. */
    private static int nativeDescriptorsPerFile() {
        return Syscalls.isAvailable() ? descriptorsPerFile() : 1;
    }

    /** {@link #withRawDescriptors} from the server's settings: the budget is shared by the descriptors a file holds. */
    static OpenFileCache withRawDescriptors(StaticIoSettings settings) {
        requireNatives();
        return new OpenFileCache(settings.openFileCacheSize(), settings.revalidateAfter(),
                Math.max(1, settings.fdBudget() / descriptorsPerFile()), Ticker.systemTicker(),
                OpenFileCache::openChannel, Descriptors.NATIVE, settings.openFileCacheMinUses(), Syscalls::reopenDirect,
                Scheduler.systemScheduler(), perFile(settings.fdLimit(), descriptorsPerFile()));
    }

    /**
     * {@link #withDirectDescriptors} from the server's settings: half the budget, as a file holds two descriptors.
     * Without the natives, files are opened by the JDK and hold no O_DIRECT descriptor: the kernel-AIO engine, which
     * cannot work then, reads them all by its thread pool (its opens must not call the natives either).
     */
    static OpenFileCache withDirectDescriptors(StaticIoSettings settings) {
        return new OpenFileCache(settings.openFileCacheSize(), settings.revalidateAfter(),
                Math.max(1, settings.fdBudget() / 2), Ticker.systemTicker(), OpenFileCache::openChannel,
                Syscalls.isAvailable() ? Descriptors.DIRECT : Descriptors.CHANNEL_ONLY, settings.openFileCacheMinUses(),
                Syscalls::reopenDirect, Scheduler.systemScheduler(), perFile(settings.fdLimit(), 2));
    }

    /** {@code fdLimit} descriptors as files holding {@code descriptorsPerFile} each (no limit stays none). */
    private static int perFile(int fdLimit, int descriptorsPerFile) {
        return fdLimit == Integer.MAX_VALUE ? fdLimit : Math.max(1, fdLimit / descriptorsPerFile);
    }

    /**
     * @param maxSize          cached descriptors at most (at most {@code fdBudget} less
     *                         {@link #inFlightReserve} are ever cached)
     * @param revalidateAfter  how long an entry is trusted before it is stat'ed again
     * @param fdBudget         descriptors held at once, cached plus in flight
     * @param ticker           the clock (a fake one in tests)
     */
    public OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker) {
        this(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel,
                Syscalls.isAvailable() ? Descriptors.NATIVE : Descriptors.CHANNEL_ONLY, 1);
    }

    OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker, Opener opener) {
        this(maxSize, revalidateAfter, fdBudget, ticker, opener, Descriptors.CHANNEL_ONLY, 1);
    }

    /**
     * A cache whose files carry a raw descriptor ({@link OpenFile#fd()}) for io_uring: opened natively, with
     * the channel wrapping it. Where the JDK does not let a channel wrap it ({@link FdChannels}), the channel
     * is a second open through {@code /proc/self/fd} that counts as one against {@code fdBudget}.
     *
     * @throws IllegalStateException without the natives
     */
    static OpenFileCache withRawDescriptors(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker) {
        requireNatives();
        return new OpenFileCache(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel,
                Descriptors.NATIVE, 1);
    }

    private static void requireNatives() {
        if (!Syscalls.isAvailable()) {
            throw new IllegalStateException("raw descriptors need the natives: " + Syscalls.unavailabilityCause());
        }
    }

    /** Descriptors a cached file holds: 1, or 2 where the channel cannot wrap the raw one. */
    static int descriptorsPerFile() {
        return FdChannels.isAvailable() ? 1 : 2;
    }

    /**
     * As {@link #withRawDescriptors}, but the raw descriptor is opened with {@code O_DIRECT} for kernel AIO
     * ({@link OpenFile#isDirect()}); where the file system refuses O_DIRECT (EINVAL) the raw descriptor is a plain
     * one, whose page-cache residency the engines check before they send a range by {@code sendfile}.
     */
    static OpenFileCache withDirectDescriptors(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker) {
        return withDirectDescriptors(maxSize, revalidateAfter, fdBudget, ticker, Syscalls::reopenDirect);
    }

    /** As above; {@code reopenDirect} opens the O_DIRECT descriptor of an open one, or returns -errno. */
    static OpenFileCache withDirectDescriptors(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker,
            IntUnaryOperator reopenDirect) {
        return new OpenFileCache(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel,
                Descriptors.DIRECT, 1, reopenDirect, Scheduler.disabledScheduler(), Integer.MAX_VALUE);
    }

    private OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker, Opener opener,
            Descriptors descriptors, int minUses) {
        this(maxSize, revalidateAfter, fdBudget, ticker, opener, descriptors, minUses, Syscalls::reopenDirect,
                Scheduler.disabledScheduler(), Integer.MAX_VALUE);
    }

    /**
     * A cache as {@link #OpenFileCache(int, Duration, int, Ticker)} whose entries nobody asks for are closed by
     * {@code scheduler}'s maintenance ({@link #INACTIVE}) even while nothing else uses the cache.
     */
    OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker, Scheduler scheduler) {
        this(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel,
                Syscalls.isAvailable() ? Descriptors.NATIVE : Descriptors.CHANNEL_ONLY, 1, Syscalls::reopenDirect,
                scheduler, Integer.MAX_VALUE);
    }

    /**
     * A cache as {@link #OpenFileCache(int, Duration, int, Ticker)} whose static path may hold {@code fdLimit}
     * descriptors at all ({@link StaticIoSettings#fdLimit}).
     */
    OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, int fdLimit, Ticker ticker) {
        this(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel,
                Syscalls.isAvailable() ? Descriptors.NATIVE : Descriptors.CHANNEL_ONLY, 1, Syscalls::reopenDirect,
                Scheduler.disabledScheduler(), fdLimit);
    }

    /**
     * @param scheduler runs the cache's maintenance when an entry is due to expire, so that a file nobody asks for
     *                  is closed after {@link #INACTIVE} although no other request comes: Caffeine otherwise expires
     *                  entries only as the cache is used, and a deleted file's descriptor (and its disk space) was
     *                  held for as long as the server stayed quiet. The servers' caches use the JVM's scheduling
     *                  thread; caches on a test's clock none.
     */
    private OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker, Opener opener,
            Descriptors descriptors, int minUses, IntUnaryOperator reopenDirect, Scheduler scheduler, int fdLimit) {
        this.descriptors = descriptors;
        this.reopenDirect = reopenDirect;
        if (maxSize < 0) {
            throw new IllegalArgumentException("openFileCacheSize: " + maxSize + " (expected: >= 0)");
        }
        this.admission = minUses > 1 ? new Doorkeeper((int) Math.min(1 << 22, Math.max(1024, 8L * maxSize))) : null;
        this.budget = new FdBudget(fdBudget, fdLimit);
        this.ticker = ticker;
        this.revalidateNanos = revalidateAfter.toNanos();
        this.opener = opener;
        // Removal runs on the thread that caused it, so a descriptor is closed before the call returns (unless it is
        // in a send, or closed off the loop that releases it: OpenFile.deallocate). An entry
        // not asked for in INACTIVE goes (nginx's open_file_cache inactive=60s): a file deleted since, or one of a
        // release a deploy switched away from (its paths are never asked again), does not hold its disk space.
        this.cache = Caffeine.newBuilder()
                .maximumSize(Math.min(maxSize, fdBudget - inFlightReserve(fdBudget)))
                .expireAfterAccess(INACTIVE)
                .ticker(ticker)
                .scheduler(scheduler)
                .executor(Runnable::run)
                .<Path, Entry>removalListener((path, entry, cause) -> {
                    if (entry != null) {
                        entry.file.release();
                    }
                })
                .build();
    }

    /**
     * Permits of the budget the cache never fills, left to files open for sends in flight: a cache filling
     * the whole budget makes every miss evict before it can open (a sorted scan of the coldest entries).
     */
    static int inFlightReserve(int fdBudget) {
        return Math.max(1, fdBudget / 8);
    }

    /**
     * The cached open file of {@code path}, retained for the caller, if it is trusted now (checked within
     * {@code revalidateAfter}); else null, and {@link #acquire} must run, off the event loop. No I/O: an
     * engine answers a hit on the calling thread instead of a round trip through its thread pool.
     */
    public OpenFile acquireIfFresh(Path path) {
        return acquireIfFresh(path, false);
    }

    /**
     * As {@link #acquireIfFresh(Path)}; {@code confinedOnly} takes only a file reached with no link on the way
     * ({@link OpenFile#confined()}), for a lookup whose links were not checked.
     */
    private OpenFile acquireIfFresh(Path path, boolean confinedOnly) {
        return acquireIfFresh(path, cache.policy().getIfPresentQuietly(path), confinedOnly);
    }

    /**
     * {@code entry}, the one cached for {@code path} (or null), retained if it is trusted now. The lookup that found
     * it was quiet: only a hit counts as an access. A probe that finds an entry stale must not, or an entry whose
     * file cannot be reopened would never expire ({@link #INACTIVE}) while it is asked for.
     */
    private OpenFile acquireIfFresh(Path path, Entry entry, boolean confinedOnly) {
        if (entry == null || ticker.read() - entry.checkedAt >= revalidateNanos
                || (confinedOnly && !entry.file.confined())) {
            return null;
        }
        cache.getIfPresent(path); // the access
        return tryRetain(entry.file);
    }

    /**
     * Returns the open file for {@code path}, from the cache or freshly opened. The caller owns the returned
     * reference and must release it (after the send completed).
     *
     * @param followLinks  false opens with {@code O_NOFOLLOW}: a link as last component fails
     * @throws java.nio.file.NoSuchFileException  the file does not exist (404)
     * @throws AccessDeniedException              permission denied, or a link where none is followed (403)
     * @throws FileDescriptorsExhaustedException  no descriptor to be had (503)
     * @throws IOException                        any other failure
     */
    public OpenFile acquire(Path path, boolean followLinks) throws IOException {
        long now = ticker.read();
        Entry entry = cache.getIfPresent(path);
        if (entry != null) {
            if (now - entry.checkedAt < revalidateNanos) {
                OpenFile file = tryRetain(entry.file);
                if (file != null) {
                    return file;
                }
            } else {
                BasicFileAttributes stat;
                try {
                    stat = stat(path, followLinks);
                } catch (IOException e) {
                    forget(path, entry, pathLeft(e));
                    throw e;
                }
                if (entry.file.matches(stat)) {
                    entry.checkedAt = now;
                    OpenFile file = tryRetain(entry.file);
                    if (file != null) {
                        return file;
                    }
                    cache.asMap().remove(path, entry); // released meanwhile: its path still leads to it
                } else {
                    forget(path, entry, !Objects.equals(stat.fileKey(), entry.file.fileKey()));
                }
            }
        }
        return open(path, followLinks, now);
    }

    /**
     * Opens what {@code resolver} resolved. A {@link Resolution#confined() confined} resolution is opened beneath
     * the resolver's root with no link allowed on the way; a link found there is refused when links are not
     * followed, else the resolver checks it ({@link PathResolver#checkLinks}) and its real path is opened. One whose
     * {@link Resolution#linksToCheck() links are to check} (no root held open) is checked by the resolver first, its
     * refusal thrown as below. Blocks.
     *
     * @throws java.nio.file.NoSuchFileException  nothing there, or not a regular file or directory (404)
     * @throws AccessDeniedException              permission denied, or a link refused (403)
     * @throws FileDescriptorsExhaustedException  no descriptor to be had (503)
     */
    public OpenFile acquire(PathResolver resolver, Resolution resolution) throws IOException {
        if (resolution.linksToCheck()) {
            Resolution checked = resolver.checkLinks(resolution).requireOk(); // a refusal as its exception
            try {
                return checkedByDescriptor(resolver, checked, acquire(checked.file(), resolver.followSymlinks()));
            } catch (LinkChangedException e) {
                // What the cache held by that path was reached through a link (another site's, whose links may go
                // anywhere, or one swapped in for a moment): dropped, and the path opened anew, once.
                return checkedByDescriptor(resolver, checked, acquire(checked.file(), resolver.followSymlinks()));
            }
        }
        if (!resolution.confined()) {
            return checkedByDescriptor(resolver, resolution, acquire(resolution.file(), resolver.followSymlinks()));
        }
        if (descriptors != Descriptors.CHANNEL_ONLY) {
            try {
                OpenFile file = acquireConfined(resolution, resolver.followSymlinks(), false);
                if (file != null) {
                    return file;
                }
            } catch (LinkOnPathException e) {
                if (!resolver.followSymlinks()) {
                    // as nginx's disable_symlinks on: a link on the way (a directory of the path) is 404, ENOTDIR there;
                    // the file's own name a link, or a mount point crossed, 403
                    Resolution checked = resolver.checkLinks(resolution);
                    if (checked.status() == Resolution.Status.NOT_FOUND) {
                        checked.requireOk(); // its NoSuchFileException
                    }
                    throw new AccessDeniedException(resolution.uriPath(), null, "symbolic link not followed");
                }
            }
        }
        Resolution checked = resolver.checkLinks(resolution).requireOk(); // a refusal as its exception
        if (descriptors == Descriptors.CHANNEL_ONLY) {
            return acquire(checked.file(), resolver.followSymlinks()); // no natives: by path
        }
        return acquireChecked(resolver, resolution, checked);
    }

    /**
     * {@code file}, opened by the path the resolver checked in user space (no root held open: no openat2, or the root
     * could not be held for the moment), if what its descriptor names is what the site's link policy allows: a link
     * swapped in between the check and the open is refused ({@link LinkChangedException}), and dropped from the cache.
     * Without a descriptor to ask (no natives) it is taken as checked, and never marked. One found at its own path, no
     * link on the way, is {@link OpenFile#markConfined marked} so (and one found elsewhere no longer): a later lookup
     * whose links were not checked may take it from the cache as one opened beneath a root.
     */
    private OpenFile checkedByDescriptor(PathResolver resolver, Resolution resolution, OpenFile file)
            throws IOException {
        if (file.isDirectory() || !file.hasRawDescriptor()) {
            return file;
        }
        Path real;
        boolean admitted;
        try {
            real = file.realPath();
            admitted = resolver.admitsOpened(real, resolution.file());
        } catch (IOException | RuntimeException e) {
            file.release();
            throw e;
        }
        if (!admitted) {
            Entry cached = cache.policy().getIfPresentQuietly(file.path());
            if (cached != null && cached.file == file) {
                forget(file.path(), cached, true);
            }
            file.release();
            throw new LinkChangedException(resolution.uriPath());
        }
        file.markConfined(real.equals(file.path())); // where it is now: a directory on its way moved, it is not
        return file;
    }

    /** A file whose descriptor names what the site's link policy refuses (403): a link on the way when it was opened. */
    static final class LinkChangedException extends AccessDeniedException {
        LinkChangedException(String uriPath) {
            super(uriPath, null, "a link changed on the path while it was opened");
        }
    }

    /**
     * {@link #acquire(PathResolver, Resolution)} where it cannot block, for an event loop: a fresh cached file (one
     * reached with no link on the way for a resolution whose links were not checked), or a confined open on a local
     * file system that finds every directory in the dentry cache
     * ({@code RESOLVE_CACHED}). Returns null when the open has to wait, or met a link or a mount point: then
     * {@link #acquire(PathResolver, Resolution)} must run on a thread.
     */
    public OpenFile acquireInline(PathResolver resolver, Resolution resolution) throws IOException {
        if (resolution.linksToCheck()) {
            return acquireIfFresh(resolution.file(), true); // reached with no link on the way: nothing to check
        }
        if (!resolution.confined()) {
            return acquireIfFresh(resolution.file());
        }
        if (descriptors == Descriptors.CHANNEL_ONLY) {
            return null;
        }
        try {
            return acquireConfined(resolution, resolver.followSymlinks(), true);
        } catch (LinkOnPathException e) {
            return null;
        }
    }

    /**
     * The cached file of a confined resolution if fresh, else a new open beneath its root that replaces it (a
     * changed file is simply opened anew). An open that fails, finds a directory or a link on the way, or is not
     * cached drops the entry it was to replace, so that a deleted file's descriptor closes at once. Inline: null
     * when the open would wait or crossed a mount. Null too when that root was replaced since (a deploy switched a
     * link to it) and is closed: the caller checks the path's links against the new root. Neither null drops the
     * entry: nothing was learned about the file.
     */
    private OpenFile acquireConfined(Resolution resolution, boolean followLinks, boolean inline) throws IOException {
        return acquireBeneath(resolution.file(), resolution.beneath(), resolution.relativePath(), followLinks, inline);
    }

    /**
     * Opens the real path the resolver's link check found for {@code resolution} ({@code checked}) beneath the same
     * root, with no link allowed on the way: what was checked is what is opened. By its full path, links in it
     * would be followed again at the open, and a directory swapped for a link out of the root after the check (or
     * within the time the resolver trusts a directory's real path) would be served from wherever it leads. A link
     * met now means the tree changed under the check: it is checked once more, without the resolver's memory of
     * directories, then refused.
     */
    private OpenFile acquireChecked(PathResolver resolver, Resolution resolution, Resolution checked)
            throws IOException {
        RootDirectory root = resolution.beneath();
        for (int attempt = 0; ; attempt++) {
            Path real = checked.file();
            OpenFile opened = null;
            if (real.startsWith(root.path())) {
                String relative = real.equals(root.path()) ? "." : root.path().relativize(real).toString();
                try {
                    opened = acquireBeneath(real, root, relative, false, false);
                } catch (LinkOnPathException e) {
                    if (attempt > 0) {
                        throw new AccessDeniedException(resolution.uriPath(), null,
                                "a link appeared on the path while it was opened");
                    }
                    checked = resolver.checkLinksAgain(resolution).requireOk();
                    continue;
                }
            }
            if (opened != null) {
                return opened;
            }
            // The root was replaced since (a deploy switched a link to it): resolved against the new one.
            Resolution again = resolver.resolveAgain(resolution);
            if (!again.isOk() || again.beneath() == root) {
                throw new NoSuchFileException(resolution.uriPath(), null, "the root changed while it was opened");
            }
            return acquire(resolver, again);
        }
    }

    private OpenFile acquireBeneath(Path key, RootDirectory root, String relative, boolean followLinks, boolean inline)
            throws IOException {
        Entry cached = cache.policy().getIfPresentQuietly(key);
        // Never a file another site opened by this path with links followed: this open allows none on the way.
        OpenFile fresh = acquireIfFresh(key, cached, true);
        if (fresh != null) {
            return fresh;
        }
        if (inline && !root.inlineOpens()) {
            return null;
        }
        if (!root.retain()) {
            return null;
        }
        try {
            long resolve = inline ? INLINE_RESOLVE : Syscalls.RESOLVE_BENEATH | Syscalls.RESOLVE_NO_SYMLINKS;
            NativeOpen how = () -> Syscalls.openat2File(root.fd(), relative, followLinks, resolve);
            return openedBeneath(key, cached, inline, () -> openNative(key, how, true, ticker.read()));
        } finally {
            root.release();
        }
    }

    /** How an inline open resolves: beneath the root, no link, nothing that would wait, no mount crossed. */
    private static final long INLINE_RESOLVE = Syscalls.RESOLVE_BENEATH | Syscalls.RESOLVE_NO_SYMLINKS
            | Syscalls.RESOLVE_CACHED | Syscalls.RESOLVE_NO_XDEV;

    /** An open that may throw: {@link #openNative} or {@link #openReserved} of one file. */
    private interface Opening {
        OpenFile open() throws IOException;
    }

    /**
     * The rest of {@link #acquireBeneath} once the open is made by {@code opening}: the file stat'ed and cached in
     * place of {@code cached}, or null for EAGAIN (it would wait); {@link LinkOnPathException} for a link, an escape
     * or a mount on the way. A failure drops {@code cached}, so that a deleted file's descriptor closes at once.
     */
    private OpenFile openedBeneath(Path key, Entry cached, boolean inline, Opening opening) throws IOException {
        OpenFile opened;
        try {
            opened = opening.open();
        } catch (IOException | RuntimeException e) {
            forget(key, cached, e instanceof IOException io && pathLeft(io));
            throw e;
        }
        if (opened != null && cached != null) {
            // a no-op if the open cached its file in its place
            forget(key, cached, !Objects.equals(opened.fileKey(), cached.file.fileKey()));
        }
        if (inline && opened != null) {
            // Only a local file system opens inline (RootDirectory.inlineOpens), and RESOLVE_NO_XDEV kept the
            // open on the root's. Marked after the file is cached: a reader seeing it unmarked is only careful.
            opened.markOnLocalFileSystem();
        }
        return opened;
    }

    /** Makes an {@code openat2} somewhere else than the caller's thread: {@link LoopRing#submitOpen}'s contract. */
    interface RingOpen {
        boolean open(int dirFd, String path, boolean followLinks, long resolve, IntConsumer opened);
    }

    /**
     * {@link #acquireInline} with its open made by {@code ring} (an io_uring, which takes the opens of many requests
     * in one system call), on the thread {@code ring} calls back on. Null where it is not tried: a resolution that is
     * not confined, a cache without native descriptors, a root where opens are never inline, or {@code ring} not
     * taking it; the caller opens as before. Else a stage that completes with the file (a fresh cached one at once),
     * or with null where an open on a thread ({@link #acquire}) is to decide: the lookup would wait, a link or mount
     * is on the way, the kernel is out of descriptors (that open evicts and retries) or the ring went first; or
     * fails as {@link #acquireInline} throws. The open's descriptor counts against the budget from its submission on,
     * as an open on a thread counts from before its system call: opens in flight on a ring (up to its queue depth) were
     * counted only as they completed, so a burst of them could take the descriptors the clients' sockets need (EMFILE
     * where the budget said there was room). With no permit left the stage fails at once, as that open would throw.
     */
    CompletableFuture<OpenFile> acquireOnRing(PathResolver resolver, Resolution resolution, RingOpen ring) {
        if (!resolution.confined() || descriptors != Descriptors.NATIVE) {
            return null;
        }
        Path key = resolution.file();
        RootDirectory root = resolution.beneath();
        Entry cached = cache.policy().getIfPresentQuietly(key);
        OpenFile fresh = acquireIfFresh(key, cached, true);
        if (fresh != null) {
            return CompletableFuture.completedFuture(fresh);
        }
        if (!root.inlineOpens() || !root.retain()) {
            return null;
        }
        boolean cacheable;
        try {
            cacheable = reserveDescriptor();
        } catch (FileDescriptorsExhaustedException refused) {
            root.release();
            return CompletableFuture.failedFuture(refused);
        }
        CompletableFuture<OpenFile> result = new CompletableFuture<>();
        boolean queued = false;
        try {
            queued = ring.open(root.fd(), resolution.relativePath(), resolver.followSymlinks(), INLINE_RESOLVE, fd -> {
                try {
                    if (fd == -Syscalls.ECANCELED || isOutOfDescriptors(fd) || fd == -Syscalls.EPERM) {
                        // the open on a thread that decides takes a permit of its own; EPERM: O_NOATIME refused,
                        // which that open makes again without (Syscalls.openat2File)
                        budget.release();
                        result.complete(null);
                        return;
                    }
                    long now = ticker.read();
                    result.complete(openedBeneath(key, cached, true,
                            () -> openReserved(key, NativeOpen.madeElsewhere(fd), true, now, cacheable)));
                } catch (LinkOnPathException e) {
                    result.complete(null);
                } catch (IOException | RuntimeException e) {
                    result.completeExceptionally(e);
                } finally {
                    root.release();
                }
            });
        } finally {
            if (!queued) {
                budget.release();
                root.release();
            }
        }
        return queued ? result : null;
    }

    /** Drops {@code entry} if it is still the one cached for {@code key}; its reference is released. */
    private void forget(Path key, Entry entry) {
        if (entry != null) {
            cache.asMap().remove(key, entry);
        }
    }

    /**
     * Caches {@code file}, just opened at {@code now}, with a reference of the cache's, in place of any entry for
     * {@code key}: one of another file is marked first ({@link OpenFile#pathLeftIt}), since the replace releases it.
     */
    private void cacheOpened(Path key, OpenFile file, long now) {
        Entry before = cache.policy().getIfPresentQuietly(key);
        if (before != null && !Objects.equals(before.file.fileKey(), file.fileKey())) {
            before.file.pathLeftIt();
        }
        cache.put(key, new Entry(file.retain(), now));
    }

    /**
     * As {@link #forget(Path, Entry)}; {@code left}: its path was found to lead elsewhere or nowhere, and the file
     * is marked so ({@link OpenFile#pathLeftIt}).
     */
    private void forget(Path key, Entry entry, boolean left) {
        if (entry != null && left) {
            entry.file.pathLeftIt();
        }
        forget(key, entry);
    }

    /** Whether {@code failure}, of a stat or an open of a cached file's path, says the path leads to it no more. */
    private static boolean pathLeft(IOException failure) {
        return failure instanceof NoSuchFileException || failure instanceof NotDirectoryException
                || failure instanceof FileSystemException f && f.getReason() != null
                && f.getReason().contains("Not a directory");
    }

    /**
     * Takes a permit of the budget for one open, evicting idle entries for room if need be; returns whether the
     * file may be cached (false: every permit is in a send, so it is opened over budget and closed after use).
     *
     * @throws FileDescriptorsExhaustedException the static path holds its whole share of the process's descriptors
     *                                           (a 503): the open would take one the clients' sockets need, and
     *                                           once the process is out of them new clients hang unaccepted
     */
    private boolean reserveDescriptor() throws FileDescriptorsExhaustedException {
        boolean cacheable = budget.tryAcquire() || (evictIdle(EVICT_FOR_ROOM) > 0 && budget.tryAcquire());
        if (!cacheable && !budget.tryForce()) {
            onRefusal.run();
            int each = descriptorsEach();
            throw new FileDescriptorsExhaustedException("open: the static path holds its share of the descriptors ("
                    + budget.descriptors() + " of " + budget.hardLimit() * each + ", files being sent; budget "
                    + budget.limit() * each + "): raise ulimit -n for more concurrent downloads", null);
        }
        return cacheable;
    }

    /** After EMFILE/ENFILE from the kernel: frees idle descriptors (half the cache at most) before one retry. */
    private void evictForRetry() {
        evictIdle(Math.max(EVICT_FOR_ROOM, (int) (cache.estimatedSize() / 2)));
    }

    /** Opens natively: a descriptor, or -errno. */
    private interface NativeOpen {
        int open();

        /** {@code fd}, or -errno, from an open made already (by a ring, under a permit taken before it). */
        static NativeOpen madeElsewhere(int fd) {
            return () -> fd;
        }
    }

    /** {@code how}, and once more after {@link #evictForRetry} if the kernel had no descriptor: a descriptor, or -errno. */
    private int openEvictingForRetry(NativeOpen how) {
        int fd = how.open();
        if (isOutOfDescriptors(fd)) {
            evictForRetry();
            fd = how.open();
        }
        return fd;
    }

    private static boolean isOutOfDescriptors(int result) {
        return result == -Syscalls.EMFILE || result == -Syscalls.ENFILE;
    }

    /** For EMFILE or ENFILE ({@code -result}) from {@code call} after {@link #openEvictingForRetry}: a 503. */
    private FileDescriptorsExhaustedException exhausted(String call, int result) {
        onRefusal.run();
        return new FileDescriptorsExhaustedException(call + ": " + Syscalls.describe(-result) + " ("
                + descriptorsInUse() + " descriptors held by the static path, budget " + budget.limit() * descriptorsEach()
                + ")", null);
    }

    /**
     * Opens {@code key} by {@code how} under the budget, stats the descriptor and caches the file. A confined
     * open returns null for EAGAIN (it would have to wait) and throws {@link LinkOnPathException} for ELOOP or
     * EXDEV (a link, an escape or, inline, a mount point on the way).
     */
    private OpenFile openNative(Path key, NativeOpen how, boolean confined, long now) throws IOException {
        return openReserved(key, how, confined, now, reserveDescriptor());
    }

    /**
     * {@link #openNative} with its permit of the budget taken already ({@code cacheable}: {@link #reserveDescriptor}'s
     * answer), and given back here unless the file keeps it.
     */
    private OpenFile openReserved(Path key, NativeOpen how, boolean confined, long now, boolean cacheable)
            throws IOException {
        OpenFile file;
        try {
            int fd = openEvictingForRetry(how);
            if (isOutOfDescriptors(fd)) {
                throw exhausted("open", fd);
            }
            if (confined && fd == -Syscalls.EAGAIN) {
                file = null;
            } else if (confined && (fd == -Syscalls.ELOOP || fd == -Syscalls.EXDEV)) {
                throw LinkOnPathException.INSTANCE;
            } else if (fd < 0) {
                throw Syscalls.openFailure(key.toString(), -fd);
            } else {
                file = wrapNative(key, fd, confined);
            }
        } catch (IOException | RuntimeException e) {
            budget.release();
            throw e;
        }
        if (file == null) {
            budget.release();
            return null;
        }
        if (file.isDirectory()) {
            budget.release(); // a directory holds no descriptor
            return file;
        }
        if (cacheable && settled(file) && admits(key)) {
            cacheOpened(key, file, now);
        }
        return file;
    }

    /**
     * Whether {@code file}, just opened, may be cached and trusted for the revalidation period: it was left alone that
     * long ({@link FileVersion#settled}). One that was not is opened for each request, as nginx opens every file, until
     * it has settled.
     */
    private boolean settled(OpenFile file) {
        return FileVersion.settled(file.lastModifiedMillis(), revalidateNanos);
    }

    /** Whether a file just opened is to be cached: with a cache at all, and past {@link #admission} if any. */
    private boolean admits(Path key) {
        return revalidateNanos > 0 && (admission == null || admission.seenBefore(key.hashCode()));
    }

    /** The open file over {@code fd}, which it takes over (closed on failure). */
    private OpenFile wrapNative(Path key, int fd, boolean confined) throws IOException {
        FileStatus stat;
        try {
            stat = Syscalls.fstat(fd);
        } catch (IOException | RuntimeException e) {
            Syscalls.closeQuietly(fd);
            throw e;
        }
        if (stat.isDirectory()) {
            Syscalls.closeQuietly(fd);
            return OpenFile.directory(key, stat);
        }
        if (!stat.isRegularFile()) {
            Syscalls.closeQuietly(fd); // a FIFO, socket or device: never served
            throw new NoSuchFileException(key.toString(), null, "not a regular file");
        }
        boolean channelsFd = FdChannels.isAvailable();
        if (channelsFd && descriptors != Descriptors.DIRECT) {
            // The channel is made over fd when a send needs one; a small file read with pread never does.
            OpenFile file = new OpenFile(key, null, fd, true, false, confined, stat.size(), stat, budget);
            file.closeDescriptorThrough(closeQueue);
            return file;
        }
        FileChannel channel;
        int raw = fd;
        try {
            channel = channelsFd ? FdChannels.wrap(fd)
                    : FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            Syscalls.closeQuietly(fd);
            throw e;
        }
        boolean direct = false;
        if (descriptors == Descriptors.DIRECT) {
            // A second descriptor of the file: the kernel may be out of them here as at the open.
            int directFd = openEvictingForRetry(() -> reopenDirect.applyAsInt(fd));
            if (directFd >= 0) {
                if (!channelsFd) {
                    Syscalls.closeQuietly(fd); // the channel has its own open of the inode
                }
                channelsFd = false;
                raw = directFd;
                direct = true;
            } else if (directFd == -Syscalls.EINVAL) {
                // The file system refuses O_DIRECT. The plain descriptor stays the raw one (the channel's own, or a
                // second one in the place the O_DIRECT one would have taken): without it the residency of a range
                // could not be told, and every range would be sent by a sendfile that may wait for the disk.
                raw = fd;
            } else {
                if (!channelsFd) {
                    Syscalls.closeQuietly(fd);
                }
                channel.close();
                throw isOutOfDescriptors(directFd) ? exhausted("open O_DIRECT", directFd)
                        : new FileSystemException(key.toString(), null, Syscalls.describe(-directFd));
            }
        }
        return new OpenFile(key, channel, raw, channelsFd, direct, confined, stat.size(), stat, budget);
    }

    private OpenFile open(Path path, boolean followLinks, long now) throws IOException {
        if (descriptors != Descriptors.CHANNEL_ONLY) {
            return openNative(path, () -> Syscalls.openRaw(path.toString(), followLinks), false, now);
        }
        BasicFileAttributes stat = stat(path, followLinks);
        if (stat.isDirectory()) {
            return OpenFile.directory(path, stat);
        }
        if (!stat.isRegularFile()) {
            // Judged before the open, as the JDK's has no O_NONBLOCK: a FIFO's would wait for a writer for good.
            // A file swapped in between is opened all the same; the size comes from its descriptor.
            throw new NoSuchFileException(path.toString(), null, "not a regular file");
        }
        boolean cacheable = reserveDescriptor();
        FileChannel channel;
        long size;
        try {
            channel = openWithRetry(path, followLinks);
            try {
                size = channel.size();
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            budget.release();
            throw e;
        }
        // The caller's reference; the stat was taken before the open, the size comes from the descriptor.
        OpenFile file = new OpenFile(path, channel, size, stat, budget);
        if (cacheable && settled(file) && admits(path)) {
            cacheOpened(path, file, now);
        }
        return file;
    }

    private FileChannel openWithRetry(Path path, boolean followLinks) throws IOException {
        try {
            return opener.open(path, followLinks);
        } catch (FileSystemException e) {
            if (!Syscalls.isOutOfDescriptors(e)) {
                throw e;
            }
            evictForRetry();
            try {
                return opener.open(path, followLinks);
            } catch (FileSystemException again) {
                if (Syscalls.isOutOfDescriptors(again)) {
                    onRefusal.run();
                    throw new FileDescriptorsExhaustedException("open: " + again.getReason()
                            + " (" + descriptorsInUse() + " descriptors held by the static path, budget "
                            + budget.limit() * descriptorsEach() + ")", again);
                }
                throw again;
            }
        }
    }

    /** Evicts up to {@code max} of the coldest entries that no send is using; returns how many. */
    private int evictIdle(int max) {
        List<Path> idle = new ArrayList<>();
        cache.policy().eviction().ifPresent(eviction -> {
            for (Map.Entry<Path, Entry> e : eviction.coldest(max * 4).entrySet()) {
                if (idle.size() >= max) {
                    break;
                }
                if (e.getValue().file.refCnt() == 1) {
                    idle.add(e.getKey());
                }
            }
        });
        cache.invalidateAll(idle);
        return idle.size();
    }

    private static OpenFile tryRetain(OpenFile file) {
        try {
            return file.retain();
        } catch (IllegalReferenceCountException e) {
            return null; // evicted and closed by another thread just now
        }
    }

    /** The JDK's stat, or {@code statx} for natively opened files (whose file keys are {@link FileStatus.Key}s). */
    private BasicFileAttributes stat(Path path, boolean followLinks) throws IOException {
        BasicFileAttributes stat = descriptors != Descriptors.CHANNEL_ONLY
                ? Syscalls.stat(path.toString(), followLinks)
                : Files.readAttributes(path, BasicFileAttributes.class, followLinks ? FOLLOW : NO_FOLLOW);
        if (stat.isSymbolicLink()) {
            throw new AccessDeniedException(path.getFileName() + "", null, "symbolic link not followed");
        }
        return stat;
    }

    private static FileChannel openChannel(Path path, boolean followLinks) throws IOException {
        return followLinks
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Drops {@code path} from the cache (the descriptor closes once no send uses it), as a file found changed there:
     * it may have been replaced, so it is marked ({@link OpenFile#pathLeftIt}) and its last close is off the loop.
     */
    public void invalidate(Path path) {
        Entry entry = cache.policy().getIfPresentQuietly(path);
        if (entry != null) {
            entry.file.pathLeftIt();
        }
        cache.invalidate(path);
    }

    /**
     * Has the descriptors of files opened from now on, without a JDK channel, closed by {@code queue} where it takes
     * them (it returns true and owns the descriptor then: an io_uring close queued on the releasing event loop), else
     * at once as before. Set by the engine that owns the cache before its first open.
     */
    void closeDescriptorsWith(IntPredicate queue) {
        closeQueue = queue;
    }

    /**
     * Descriptors held by the static path now: cached plus in flight, each file's (two under kernel AIO where its
     * O_DIRECT one stands beside the buffered one; the budget counts files, and this said files, half what was held).
     */
    public int descriptorsInUse() {
        return budget.descriptors();
    }

    /**
     * Where an open refused for want of a descriptor is counted: the engine pool's rejected count, which outlives a
     * reload (this cache does not). Set by the engine that owns the cache before its first open.
     */
    void countRefusalsIn(Runnable count) {
        onRefusal = count;
    }

    /** Descriptors each file of this cache may hold, as its budget was divided by when it was made. */
    private int descriptorsEach() {
        return switch (descriptors) {
            case CHANNEL_ONLY -> 1;
            case NATIVE -> descriptorsPerFile();
            case DIRECT -> 2;
        };
    }

    /** Entries cached now. */
    public long cachedCount() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    /** Drops every entry; descriptors in a send close when that send releases them. */
    public void invalidateAll() {
        cache.invalidateAll();
        cache.cleanUp();
    }

    /** Same as {@link #invalidateAll()}; the cache stays usable. */
    @Override
    public void close() {
        invalidateAll();
    }

    void cleanUp() {
        cache.cleanUp();
    }

    /** A cached file and when it was last known to match the file system. */
    private static final class Entry {
        final OpenFile file;
        volatile long checkedAt;

        Entry(OpenFile file, long checkedAt) {
            this.file = file;
            this.checkedAt = checkedAt;
        }
    }
}
