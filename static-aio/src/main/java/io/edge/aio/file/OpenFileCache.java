package io.edge.aio.file;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.aio.linux.Syscalls;
import io.edge.aio.StaticIoSettings;
import io.netty.util.IllegalReferenceCountException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Open descriptors by path, bounded by count, trusted for {@code revalidateAfter} and then stat'ed again
 * (a changed inode, size or mtime reopens the file), all under one descriptor budget.
 *
 * <p>Ownership: the cache holds one reference to each cached {@link OpenFile} and releases it on eviction,
 * invalidation or replacement; {@link #acquire} hands out a further reference that the caller releases
 * when its send completed. The descriptor closes when both are gone.
 *
 * <p>Descriptors: every open takes a permit of the budget, returned when the descriptor closes. An open
 * that finds none first evicts idle entries; if still none is free (every descriptor is in a send), the
 * file is opened uncached and closed after its send. EMFILE/ENFILE from the kernel evicts idle entries
 * and retries once, then fails with {@link FileDescriptorsExhaustedException} (a 503, never a 403).
 *
 * <p>Directories are reported ({@link OpenFile#isDirectory()}) but not cached; they hold no descriptor.
 * Blocking: {@link #acquire} stats and opens on the calling thread.
 */
public final class OpenFileCache implements AutoCloseable {

    /** Opens a file; replaced in tests to simulate EMFILE. */
    interface Opener {
        FileChannel open(Path path, boolean followLinks) throws IOException;
    }

    private static final LinkOption[] FOLLOW = {};
    private static final LinkOption[] NO_FOLLOW = {LinkOption.NOFOLLOW_LINKS};
    /** Idle entries evicted to make room for one open under the budget. */
    private static final int EVICT_FOR_ROOM = 8;

    private final Cache<Path, Entry> cache;
    private final Ticker ticker;
    private final long revalidateNanos;
    private final FdBudget budget;
    private final Opener opener;
    private final Descriptors descriptors;

    /** What a file holds besides its channel. */
    private enum Descriptors {
        /** nothing */
        CHANNEL_ONLY,
        /** a raw descriptor (io_uring) */
        RAW,
        /** a raw descriptor opened with O_DIRECT where the file system allows it (kernel AIO) */
        DIRECT
    }

    /** A cache from the server's settings, on the system clock. */
    public OpenFileCache(StaticIoSettings settings) {
        this(settings.openFileCacheSize(), settings.revalidateAfter(), settings.fdBudget(), Ticker.systemTicker());
    }

    /**
     * @param maxSize          cached descriptors at most (at most {@code fdBudget} less
     *                         {@link #inFlightReserve} are ever cached)
     * @param revalidateAfter  how long an entry is trusted before it is stat'ed again
     * @param fdBudget         descriptors held at once, cached plus in flight
     * @param ticker           the clock (a fake one in tests)
     */
    public OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker) {
        this(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel);
    }

    OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker, Opener opener) {
        this(maxSize, revalidateAfter, fdBudget, ticker, opener, Descriptors.CHANNEL_ONLY);
    }

    /**
     * A cache whose files also carry a raw descriptor ({@link OpenFile#fd()}) for io_uring: each file is
     * opened with {@code open(2)} and its channel through {@code /proc/self/fd}, so it holds two descriptors
     * and counts as one against {@code fdBudget} (give it half the budget).
     */
    static OpenFileCache withRawDescriptors(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker) {
        return new OpenFileCache(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel,
                Descriptors.RAW);
    }

    /**
     * As {@link #withRawDescriptors}, but the raw descriptor is opened with {@code O_DIRECT} for kernel AIO
     * ({@link OpenFile#isDirect()}); where the file system refuses O_DIRECT (EINVAL) the file has its channel
     * only.
     */
    static OpenFileCache withDirectDescriptors(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker) {
        return new OpenFileCache(maxSize, revalidateAfter, fdBudget, ticker, OpenFileCache::openChannel,
                Descriptors.DIRECT);
    }

    private OpenFileCache(int maxSize, Duration revalidateAfter, int fdBudget, Ticker ticker, Opener opener,
            Descriptors descriptors) {
        this.descriptors = descriptors;
        if (maxSize < 0) {
            throw new IllegalArgumentException("openFileCacheSize: " + maxSize + " (expected: >= 0)");
        }
        this.budget = new FdBudget(fdBudget);
        this.ticker = ticker;
        this.revalidateNanos = revalidateAfter.toNanos();
        this.opener = opener;
        // Removal runs on the thread that caused it, so a descriptor is closed before the call returns.
        this.cache = Caffeine.newBuilder()
                .maximumSize(Math.min(maxSize, fdBudget - inFlightReserve(fdBudget)))
                .ticker(ticker)
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
        Entry entry = cache.getIfPresent(path);
        if (entry == null || ticker.read() - entry.checkedAt >= revalidateNanos) {
            return null;
        }
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
                    cache.asMap().remove(path, entry);
                    throw e;
                }
                if (entry.file.matches(stat)) {
                    entry.checkedAt = now;
                    OpenFile file = tryRetain(entry.file);
                    if (file != null) {
                        return file;
                    }
                }
                cache.asMap().remove(path, entry);
            }
        }
        return open(path, followLinks, now);
    }

    private OpenFile open(Path path, boolean followLinks, long now) throws IOException {
        BasicFileAttributes stat = stat(path, followLinks);
        if (stat.isDirectory()) {
            return OpenFile.directory(path, stat);
        }
        boolean cacheable = budget.tryAcquire() || (evictIdle(EVICT_FOR_ROOM) > 0 && budget.tryAcquire());
        if (!cacheable) {
            budget.forceAcquire();
        }
        FileChannel channel;
        int fd;
        boolean direct;
        long size;
        try {
            Opened opened = openWithRetry(path, followLinks);
            channel = opened.channel;
            fd = opened.fd;
            direct = opened.direct;
            try {
                size = channel.size();
            } catch (IOException | RuntimeException e) {
                channel.close();
                Syscalls.closeQuietly(fd);
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            budget.release();
            throw e;
        }
        // The caller's reference; the stat was taken before the open, the size comes from the descriptor.
        OpenFile file = new OpenFile(path, channel, fd, direct, size, stat, budget);
        if (cacheable && revalidateNanos > 0) {
            cache.put(path, new Entry(file.retain(), now));
        }
        return file;
    }

    /** A channel and, for a cache with raw descriptors, a second descriptor of the same file (else -1). */
    private static final class Opened {
        final FileChannel channel;
        final int fd;
        final boolean direct;

        Opened(FileChannel channel, int fd, boolean direct) {
            this.channel = channel;
            this.fd = fd;
            this.direct = direct;
        }
    }

    private Opened openOnce(Path path, boolean followLinks) throws IOException {
        if (descriptors == Descriptors.CHANNEL_ONLY) {
            return new Opened(opener.open(path, followLinks), -1, false);
        }
        int fd = Syscalls.openReadOnly(path.toString(), followLinks);
        FileChannel channel;
        try {
            channel = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            Syscalls.closeQuietly(fd);
            throw e;
        }
        if (descriptors == Descriptors.RAW) {
            return new Opened(channel, fd, false);
        }
        // The channel has its own open of the inode; the O_DIRECT descriptor is a third, and fd can go.
        int direct = Syscalls.reopenDirect(fd);
        Syscalls.closeQuietly(fd);
        if (direct >= 0) {
            return new Opened(channel, direct, true);
        }
        if (direct == -Syscalls.EINVAL) {
            return new Opened(channel, -1, false); // the file system refuses O_DIRECT
        }
        channel.close();
        throw new FileSystemException(path.toString(), null, Syscalls.describe(-direct));
    }

    private Opened openWithRetry(Path path, boolean followLinks) throws IOException {
        try {
            return openOnce(path, followLinks);
        } catch (FileSystemException e) {
            if (!isOutOfDescriptors(e)) {
                throw e;
            }
            evictIdle(Math.max(EVICT_FOR_ROOM, (int) (cache.estimatedSize() / 2)));
            try {
                return openOnce(path, followLinks);
            } catch (FileSystemException again) {
                if (isOutOfDescriptors(again)) {
                    throw new FileDescriptorsExhaustedException("open: " + again.getReason()
                            + " (" + budget.inUse() + " descriptors held by the static path, budget "
                            + budget.limit() + ")", again);
                }
                throw again;
            }
        }
    }

    static boolean isOutOfDescriptors(FileSystemException e) {
        String reason = e.getReason();
        // EMFILE "Too many open files", ENFILE "Too many open files in system" (strerror, as the JDK reports them).
        return reason != null && reason.startsWith("Too many open files");
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

    private static BasicFileAttributes stat(Path path, boolean followLinks) throws IOException {
        BasicFileAttributes stat = Files.readAttributes(path, BasicFileAttributes.class, followLinks ? FOLLOW : NO_FOLLOW);
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

    /** Drops {@code path} from the cache (the descriptor closes once no send uses it). */
    public void invalidate(Path path) {
        cache.invalidate(path);
    }

    /** Descriptors held by the static path now: cached plus in flight. */
    public int descriptorsInUse() {
        return budget.inUse();
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
