package io.edge.aio.file;

import io.edge.aio.StaticIoSettings;
import io.edge.aio.linux.FileStatus;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.IoUring;
import io.edge.aio.linux.PageCache;
import io.edge.aio.linux.Syscalls;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.Epoll;
import io.netty.util.concurrent.MultithreadEventExecutorGroup;
import io.netty.util.internal.ThreadExecutorMap;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code static.engine = io_uring}: small reads go to the kernel as {@code IORING_OP_READ} into pooled
 * direct buffers, many at once, and complete on the caller's event loop without any extra thread.
 *
 * <p>Rings: one per Netty epoll event loop ({@link LoopRing}), created lazily on that loop the first time it
 * reads, its completions signalled through an eventfd the loop's epoll watches. A caller that is not on an
 * epoll loop (a test, a worker thread) uses one ring on a private single-thread epoll loop that the engine
 * starts on first use. Up to {@code queueDepth} reads are in flight per ring; further ones wait in the ring's
 * queue, never blocking the caller.
 *
 * <p>One system call per loop iteration: on an event loop whose ring is set up, a file on ext4, xfs or btrfs is
 * opened by the ring ({@code IORING_OP_OPENAT2} with the same resolve flags as the caller's inline open: it fails
 * rather than wait, and then the open goes to the pool), its small reads go to the ring whether the page cache has
 * them or not, and a descriptor whose last reference goes on the loop is closed by it ({@link LoopRing#submitOpen},
 * {@link LoopRing#submitClose}): the opens, reads and closes of all the requests one loop iteration answers reach the
 * kernel in one {@code io_uring_enter}, where each was a system call of its own (a hot thumbnail's file calls cost
 * 0.61 of that on a 2-core guest: BENCHMARKS.md, {@code bench/lib/batch-cost.c split}). The {@code statx} of each
 * opened file stays a call on the loop: on the ring it would go to a kernel worker.
 *
 * <p>Residency: elsewhere (no ring on the caller's loop yet, or not on a loop), a read whose range is all in the page
 * cache is copied at once on the caller's thread (a few microseconds for at most {@link #inlineLimit()} bytes) and
 * only misses go through the ring; not on file systems whose reads go to kernel workers (below). A page still being
 * read (by the ring, by readahead) is a miss: waiting for it would hold the loop for the disk ({@link FileSystemReads}
 * says how each file system tells).
 *
 * <p>Kernel workers: on ext4, xfs and btrfs a read that misses the page cache completes inside io_uring
 * without blocking anyone. On other file systems (FUSE, NFS…) the kernel would retry such a read in the
 * submitting thread, the event loop, and wait there for the file server; their reads are sent with
 * {@code IOSQE_ASYNC} to io_uring's own worker threads instead (measured on Linux 6.18: without it the loop
 * spent 34-41 % of its time in {@code io_uring_enter} on slowfs, in task work running {@code filemap_read}).
 * At most {@code threads / event loops of the loop's group} (rounded up, at least one) workers per ring block
 * at once, set on a ring's first such read: about as many in all as the threads engine would run, since more
 * only lengthen the file server's queue (on slowfs, 4 spindles: p99 100 ms with 16 workers, 150 ms with 66).
 * Decided per mounted file system from {@code fstatfs} (keyed by the mount's id from {@code statx}, never reused
 * on Linux 6.8+, not by the device number, which a FUSE mount can inherit from an unmounted tmpfs), asked on a
 * pool thread (on FUSE or NFS that call waits for the file server), usually when its first file is opened, and
 * logged. The same decision picks how a small page-cache hit is told and copied ({@link FileSystemReads}).
 *
 * <p>Read at open: opens on those file systems always run on the pool, and a small file opened there is read
 * whole by the same thread (unless its opener expects no body: a HEAD, a conditional GET) into the buffer the
 * caller's read then takes at once: one hand-off per cold small file instead of two. Their other reads go to
 * workers even when the page cache holds them, since there a read may wait for the server; their descriptors
 * are closed on a thread of their own ({@link FileServerFiles}).
 *
 * <p>Opens are tried on the caller where they cannot block (a cached file, or every directory in the dentry
 * cache) and otherwise run on a bounded thread pool like {@link ThreadPoolEngine}'s; regions are
 * {@code sendfile}d. Files carry a raw descriptor ({@link OpenFile#fd()}, the one their channel wraps), owned
 * by the {@link OpenFile}: it closes only when the last reference goes, and every in-flight read holds one.
 */
public final class IoUringEngine extends ThreadPoolBackedEngine {

    private static final Logger log = LoggerFactory.getLogger(IoUringEngine.class);
    private static final String DISABLE_PROPERTY = "edge.io_uring.disable";
    /** File systems whose reads go straight to kernel workers. */
    static final LongPredicate BLOCKING_FILE_SYSTEMS = type -> !FileSystems.readsAsynchronously(type);

    /** How the reads of one file system's files are done; decided once per mounted file system from its type. */
    enum FileSystemReads {
        /** FUSE, NFS, overlayfs…: straight to kernel workers, so the submitting loop never waits for a server. */
        WORKERS,
        /** ext4, xfs, btrfs: a small page-cache hit is one {@code preadv2(RWF_NOWAIT)} on the loop, the rest the ring reads. */
        NO_WAIT,
        /**
         * tmpfs, ramfs: in the ring, but {@code RWF_NOWAIT} is refused, so {@code cachestat} tells a hit first (safe
         * there only: no page of theirs is ever under read I/O); {@code mincore} where the kernel lacks it.
         */
        RESIDENCY_CHECK
    }

    private record Decided(long fileSystem, CompletableFuture<FileSystemReads> reads) {
    }

    /** Probed once, on first use. */
    private static final class Probe {
        static final String UNAVAILABILITY = probe();
    }

    private final int queueDepth;
    private final long readTimeoutNanos;
    private final boolean residencyCheck;
    private final LoopStats stats;
    private final LoopContexts<LoopRing> rings;
    private final LongPredicate viaWorkers;
    /** File system ({@link FileStatus.Key#fileSystem}) -> how its files are read, once it answered. */
    private final ConcurrentHashMap<Long, CompletableFuture<FileSystemReads>> readsByFileSystem = new ConcurrentHashMap<>();
    /** The file system decided last: most servers read from one, so most reads find it here (no boxed map key). */
    private volatile Decided lastDecided;
    private final AtomicBoolean noRingLogged = new AtomicBoolean();
    /** Reads at open and closes of files whose reads go to kernel workers; see {@link #afterOpenOnPool}. */
    private final FileServerFiles fileServerFiles;

    /**
     * An engine with its own open-file cache ({@code fdBudget} over the descriptors a file holds),
     * {@code threads} threads for opens, and {@code queueDepth} reads in flight per event loop.
     *
     * @throws IOException if io_uring is not available here (see {@link #unavailabilityCause()})
     */
    public IoUringEngine(StaticIoSettings settings) throws IOException {
        this(settings, new EngineCounters(), new EngineCounters());
    }

    /** As above, counting on in a predecessor's counters: its kernel path's ({@code own}) and its pool's. */
    IoUringEngine(StaticIoSettings settings, EngineCounters own, EngineCounters pool) throws IOException {
        this(OpenFileCache.withRawDescriptors(settings),
                settings.threads(), settings.queueDepth(), settings.sendfileChunk(), DEFAULT_INLINE_LIMIT,
                settings.readTimeout(), PageCache.isAvailable(), ReadBuffers.of(settings), BLOCKING_FILE_SYSTEMS,
                own, pool);
    }

    /**
     * @param cache           a cache made by {@link OpenFileCache#withRawDescriptors}, owned by the engine
     * @param residencyCheck  read page-cache hits at once on the caller, only misses through io_uring
     * @param readBuffers     where reads take their buffers, owned by the engine
     * @param viaWorkers      which file systems ({@code statfs.f_type}) have their reads sent to kernel workers
     */
    IoUringEngine(OpenFileCache cache, int threads, int queueDepth, long chunkSize, int inlineLimit,
            Duration readTimeout, boolean residencyCheck, ReadBuffers readBuffers, LongPredicate viaWorkers)
            throws IOException {
        this(cache, threads, queueDepth, chunkSize, inlineLimit, readTimeout, residencyCheck, readBuffers, viaWorkers,
                new EngineCounters(), new EngineCounters());
    }

    private IoUringEngine(OpenFileCache cache, int threads, int queueDepth, long chunkSize, int inlineLimit,
            Duration readTimeout, boolean residencyCheck, ReadBuffers readBuffers, LongPredicate viaWorkers,
            EngineCounters own, EngineCounters pool) throws IOException {
        this(new ThreadPoolEngine(cache, threads, ThreadPoolEngine.backlogFor(queueDepth), chunkSize,
                inlineLimit, readTimeout, readBuffers, false, "threads", null, pool), queueDepth,
                threads, readTimeout, residencyCheck, viaWorkers,
                new LoopStats(own));
    }

    /** As the constructor above, with reads via kernel workers where the file system needs them. */
    IoUringEngine(OpenFileCache cache, int threads, int queueDepth, long chunkSize, int inlineLimit,
            Duration readTimeout, boolean residencyCheck, ReadBuffers readBuffers) throws IOException {
        this(cache, threads, queueDepth, chunkSize, inlineLimit, readTimeout, residencyCheck, readBuffers,
                BLOCKING_FILE_SYSTEMS);
    }

    private static int ceilDiv(int a, int b) {
        return Math.max(1, (a + b - 1) / b);
    }

    /**
     * The kernel-worker cap of {@code loop}'s ring: {@code threads} shared out over the event loops of its group
     * (server.io-threads), each of which may get a ring.
     */
    static int workersPerRing(int threads, IoEventLoop loop) {
        return ceilDiv(threads, loop.parent() instanceof MultithreadEventExecutorGroup group ? group.executorCount() : 1);
    }

    private IoUringEngine(ThreadPoolEngine blocking, int queueDepth, int workers, Duration readTimeout,
            boolean residencyCheck, LongPredicate viaWorkers, LoopStats stats) throws IOException {
        super("io_uring", blocking, stats);
        this.stats = stats;
        this.viaWorkers = Objects.requireNonNull(viaWorkers, "viaWorkers");
        if (!isAvailable()) {
            throw new IOException("io_uring unavailable: " + unavailabilityCause());
        }
        if (queueDepth < 1 || queueDepth > 32768) {
            throw new IllegalArgumentException("queueDepth: " + queueDepth + " (expected: 1..32768)");
        }
        this.queueDepth = queueDepth;
        this.residencyCheck = residencyCheck && PageCache.isAvailable();
        this.readTimeoutNanos = readTimeout.toNanos();
        this.rings = new LoopContexts<>("io_uring engine",
                loop -> LoopRing.create(loop, queueDepth, workersPerRing(workers, loop), readTimeoutNanos, stats,
                        this::readByPool));
        this.fileServerFiles = new FileServerFiles("io_uring", blocking.inlineLimit(), blocking.readBuffers());
        blocking.afterOpenOnPool(this::afterOpenOnPool);
        blocking.cache().closeDescriptorsWith(fd -> {
            LoopRing ring = rings.currentIfPresent();
            return ring != null && ring.submitClose(fd);
        });
    }

    /**
     * On an event loop whose ring is set up, the open the pool engine would try on the caller (a confined one that
     * cannot wait, {@link OpenFileCache#acquireInline}) is made by the ring instead, with the loop's other requests
     * (see the class comment); where the ring cannot take it, the pool engine's open as before; where the ring's
     * answer is that the open must wait (or meets a link, a mount, or no descriptor left), straight the pool's: the
     * inline attempt the pool engine would make first is the one the ring just made.
     */
    @Override
    public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution, boolean bodyExpected) {
        LoopRing ring = rings.currentIfPresent();
        CompletableFuture<OpenFile> onRing;
        try {
            onRing = ring == null ? null : blocking.cache().acquireOnRing(resolver, resolution, ring::submitOpen);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (onRing == null) {
            return super.open(resolver, resolution, bodyExpected);
        }
        return onRing.thenCompose(opened -> opened != null ? CompletableFuture.completedFuture(opened)
                : blocking.openOnPool(resolver, resolution, bodyExpected));
    }

    @Override
    public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution) {
        return open(resolver, resolution, true);
    }

    /** Whether io_uring can be used here; probed once. */
    public static boolean isAvailable() {
        return Probe.UNAVAILABILITY == null;
    }

    /** Why io_uring cannot be used here (EPERM from seccomp, the sysctl, ENOSYS…), or null. */
    public static String unavailabilityCause() {
        return Probe.UNAVAILABILITY;
    }

    static String probe() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return "disabled by -D" + DISABLE_PROPERTY + "=true";
        }
        if (!Epoll.isAvailable()) {
            return "Netty epoll unavailable: " + Epoll.unavailabilityCause();
        }
        return IoUring.probe();
    }

    @Override
    public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc) {
        return read(file, offset, length, alloc, WhenFull.REFUSE);
    }

    /** The ring's reads never meet a full queue; {@code whenFull} is for those that go to the pool instead. */
    @Override
    public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc,
            WhenFull whenFull) {
        FileReads.checkRange(file, offset, length);
        Objects.requireNonNull(alloc, "alloc");
        file.fd(); // fails here, not on the loop, for a file from another cache
        ByteBufAllocator buffers = blocking.readAllocator(alloc);
        if (rings.isClosed()) {
            return CompletableFuture.failedFuture(new EngineClosedException("io_uring engine closed"));
        }
        CompletableFuture<ByteBuf> atOpen = FileReads.readAtOpen(file, offset, length, stats.counters);
        if (atOpen != null) {
            return atOpen;
        }
        CompletableFuture<FileSystemReads> decision = fileSystemReads(file);
        FileSystemReads how = decision.isDone() ? settled(decision) : null;
        // On the loop's own ring a page-cache hit completes in the io_uring_enter that also takes the loop's other
        // opens, reads and closes: cheaper than a preadv2 of its own (measured: bench/lib/batch-cost.c, split). The
        // ring cannot tell a hit from a miss: both are counted as asynchronous reads.
        LoopRing loopsRing = how == FileSystemReads.NO_WAIT ? rings.currentIfPresent() : null;
        if (loopsRing == null && residencyCheck && how == FileSystemReads.NO_WAIT && length <= blocking.inlineLimit()
                && file.preadDescriptor() >= 0) {
            // A page-cache hit is a memory copy: cheaper here than a round trip through the ring. One
            // preadv2(RWF_NOWAIT) both tells and copies; a miss goes to the ring.
            ByteBuf resident = FileReads.readIfResident(file, offset, length, buffers);
            if (resident != null) {
                stats.counters.residentReads.increment();
                return CompletableFuture.completedFuture(resident);
            }
        } else if (loopsRing == null && residencyCheck
                && (how == null ? file.onLocalFileSystem() : how != FileSystemReads.WORKERS)
                && (how == FileSystemReads.RESIDENCY_CHECK
                        ? PageCache.isResidentInMemoryFileSystem(file.fd(), offset, length)
                        : PageCache.isResident(file.fd(), offset, length))) {
            // Not where reads go to workers: a read from a file server's page cache may still wait for the server
            // (FileServerFiles). Undecided, only for a file known to be local: one opened on the loop, told by
            // mincore, which no local file system's pages under read I/O can fool.
            stats.counters.residentReads.increment();
            return FileReads.readResident(file, offset, length, buffers);
        }
        if (how == null) {
            // The file's file system is being asked (on a pool thread: fstatfs waits for a FUSE or NFS server).
            // Until it answers, its reads are done on the pool too, as the threads engine does them.
            return blocking.read(file, offset, length, alloc, whenFull);
        }
        stats.counters.asyncReads.increment();
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        LoopRing.Read read = new LoopRing.Read(file.retain(), offset, length, buffers, alloc, result,
                how == FileSystemReads.WORKERS);
        read.whenFull = whenFull;
        if (loopsRing != null) {
            loopsRing.submit(read); // looked up above: on this thread, nothing closed it since
        } else {
            rings.execute(ring -> ring.submit(read), cause -> noRing(read, cause));
        }
        return result;
    }

    /** {@code read} found no ring on its loop: fails if the engine closed, else goes to the pool. */
    private void noRing(LoopRing.Read read, Throwable cause) {
        if (rings.isClosed()) {
            read.abandon(cause);
            return;
        }
        if (noRingLogged.compareAndSet(false, true)) {
            log.warn("io_uring: no ring on event loop {} ({}); its reads go to the thread pool until one can be set "
                    + "up (tried again after {} ms; logged once)", Thread.currentThread().getName(), cause.toString(),
                    LoopContexts.RETRY_AFTER_NANOS / 1_000_000);
        }
        readByPool(read);
    }

    /**
     * Does {@code read} on the pool instead of a ring (no ring on its loop, or the kernel keeps refusing it), and
     * completes its stage with the pool's answer; takes over the read's file reference. The pool times it with what
     * is left of the read timeout since the read was asked for ({@link LoopRing.Read#start}), at least 1 ns: a read
     * the kernel refused for most of its time still fails within one read timeout, not two.
     */
    void readByPool(LoopRing.Read read) {
        long remaining = readTimeoutNanos <= 0 ? 0
                : Math.max(1, readTimeoutNanos - (System.nanoTime() - read.start));
        handToPool(read.file, read.result,
                () -> blocking.read(read.file, read.offset, read.length, read.callersAlloc, remaining, read.whenFull));
    }

    /** A settled decision: no answer (the question failed or was refused) sends reads to workers, the safe way. */
    private static FileSystemReads settled(CompletableFuture<FileSystemReads> decision) {
        return decision.isCompletedExceptionally() ? FileSystemReads.WORKERS : decision.join();
    }

    /**
     * How reads of {@code file} are done ({@link FileSystemReads}): decided once per file system (per mount, where
     * the kernel gives mount ids: {@link FileStatus.Key#fileSystem}) from {@code fstatfs} (see {@link #ask}), on a
     * pool thread because on FUSE or NFS that call waits for the file server. Usually settled by the file's open
     * ({@link #afterOpenOnPool}); otherwise the first read asks, and gets a pending answer. A file without a key
     * (not from a raw-descriptor cache, which this engine refuses) goes to workers, the safe way.
     */
    private CompletableFuture<FileSystemReads> fileSystemReads(OpenFile file) {
        if (!(file.fileKey() instanceof FileStatus.Key key)) {
            return CompletableFuture.completedFuture(FileSystemReads.WORKERS);
        }
        return decision(file, key, false);
    }

    /**
     * The decision for the file system of {@code file} ({@code key}): the one there, or a new one this call puts
     * there and has asked — on this thread if {@code askHere} (the caller may block), else on a pool thread.
     */
    private CompletableFuture<FileSystemReads> decision(OpenFile file, FileStatus.Key key, boolean askHere) {
        long fileSystem = key.fileSystem();
        Decided last = lastDecided;
        if (last != null && last.fileSystem() == fileSystem) {
            return last.reads();
        }
        CompletableFuture<FileSystemReads> known = readsByFileSystem.get(fileSystem);
        if (known != null) {
            return known;
        }
        CompletableFuture<FileSystemReads> decision = new CompletableFuture<>();
        known = readsByFileSystem.putIfAbsent(fileSystem, decision);
        if (known != null) {
            return known;
        }
        if (askHere) {
            ask(file, key, decision);
            return decision;
        }
        OpenFile held = file.retain();
        blocking.execute(decision, WhenFull.REFUSE, () -> {
            try {
                ask(held, key, decision);
            } finally {
                held.release();
            }
        }, () -> {
            held.release();
            readsByFileSystem.remove(fileSystem, decision); // refused: asked again by a later read
        });
        return decision;
    }

    /**
     * Settles {@code decision} for the file system of {@code file} ({@code key}) from its {@code fstatfs} (blocks
     * on FUSE or NFS). Never throws: a failure settles it as "workers" and leaves the file system to be asked again.
     */
    private void ask(OpenFile file, FileStatus.Key key, CompletableFuture<FileSystemReads> decision) {
        try {
            long type = Syscalls.fileSystemType(file.fd());
            if (type >= 0) {
                FileSystemReads how = viaWorkers.test(type) ? FileSystemReads.WORKERS
                        : FileSystems.takesNoWaitReads(type) ? FileSystemReads.NO_WAIT : FileSystemReads.RESIDENCY_CHECK;
                log.info("io_uring: reads from device {} ({}) {}", key.deviceName(), FileSystems.describe(type),
                        switch (how) {
                            case WORKERS -> "go straight to kernel workers (no async buffered reads there)";
                            case NO_WAIT -> "complete in the ring; page-cache hits by preadv2(RWF_NOWAIT)";
                            case RESIDENCY_CHECK -> "complete in the ring; page-cache hits told by "
                                    + (PageCache.hasCachestat() ? "cachestat" : "mincore");
                        });
                decision.complete(how);
                lastDecided = new Decided(key.fileSystem(), decision);
                return;
            }
        } catch (Throwable e) {
            log.warn("io_uring: the file system of {} could not be told; its reads go to kernel workers", file.path(), e);
        }
        readsByFileSystem.remove(key.fileSystem(), decision);
        decision.complete(FileSystemReads.WORKERS);
    }

    /**
     * Runs on the pool thread of every open done there (on FUSE or NFS every open is one), before the caller
     * gets the file. Settles its file system's question here if nobody has, since this thread may block. A file
     * whose reads would go to a kernel worker is then read here if small and set to close off the loop
     * ({@link FileServerFiles}).
     */
    private void afterOpenOnPool(OpenFile file, boolean bodyExpected) {
        if (file.isDirectory() || !(file.fileKey() instanceof FileStatus.Key key)) {
            return;
        }
        CompletableFuture<FileSystemReads> decision = decision(file, key, true);
        // Still being asked by another thread (a file server slow to answer fstatfs): handled as a file server's,
        // the safe way, rather than wait here for that answer.
        if (!decision.isDone() || settled(decision) == FileSystemReads.WORKERS) {
            fileServerFiles.opened(file, bodyExpected);
        }
    }

    /** For tests: how reads of {@code file} are done; blocks until the answer. */
    FileSystemReads reads(OpenFile file) {
        return fileSystemReads(file).exceptionally(refused -> FileSystemReads.WORKERS).join();
    }

    /** For tests: whether reads of {@code file} go straight to kernel workers; blocks until the answer. */
    boolean viaWorker(OpenFile file) {
        return reads(file) == FileSystemReads.WORKERS;
    }

    /** For tests: opens made by the loops' rings so far. */
    long ringOpens() {
        return stats.ringOpens.sum();
    }

    /** For tests: descriptors closed through the loops' rings so far. */
    long ringCloses() {
        return stats.ringCloses.sum();
    }

    /** Rings set up so far (one per event loop that read). */
    public int rings() {
        return rings.size();
    }

    /**
     * Stops taking reads, closes every ring once its in-flight reads completed (their buffers are never
     * released earlier), and drops cached descriptors. Off an event loop, waits up to the read timeout (at
     * least a second) in all for the rings to close, the pool's queued opens and reads to finish and the
     * descriptors handed to {@link FileServerFiles#CLOSER} to close; on a loop, waits for none of them.
     */
    @Override
    public void close() {
        long waitNanos = blocking.closeWaitNanos();
        long deadline = System.nanoTime() + waitNanos; // one wait in all, not one per step
        rings.close(waitNanos);
        blocking.closeBy(deadline);
        if (ThreadExecutorMap.currentExecutor() instanceof IoEventLoop) {
            return; // never wait on a loop: the closes finish on their own
        }
        // The closes of the descriptors just dropped, and of every file released before, are ahead of this.
        fileServerFiles.awaitCloses(ThreadPoolEngine.remaining(deadline));
    }
}
