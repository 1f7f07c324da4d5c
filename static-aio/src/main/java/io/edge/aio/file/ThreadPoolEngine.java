package io.edge.aio.file;

import io.edge.aio.StaticIoSettings;
import io.edge.aio.linux.FileStatus;
import io.edge.aio.linux.FileSystems;
import io.edge.aio.linux.PageCache;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.util.NettyRuntime;
import io.netty.util.internal.ThreadExecutorMap;
import java.io.IOException;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code static.engine = threads}, like nginx's {@code aio threads}: opens (stat + open through the
 * {@link OpenFileCache}) and small reads ({@code pread} into a pooled direct buffer) run on a bounded pool
 * of threads, never on the caller. Regions are {@code sendfile}d as in {@link SendfileEngine}.
 *
 * <p>Bounds: {@code threads} blocking calls at once, and at most {@code maxPending} more waiting for a
 * thread; an open or a first read beyond that fails at once with {@link ReadQueueFullException} instead of
 * queueing without limit. A read for a response under way ({@link WhenFull#WAIT}) queues even then: refused, it
 * could only cut that response short; there is one at a time per response, cancelled if the response ends first
 * (a cancelled or timed-out operation is skipped when its turn comes). A read that has not completed
 * within {@code readTimeout} fails with a
 * {@link TimeoutException}; its thread keeps the buffer until the {@code pread} returns and then releases
 * it, so a late read never writes into memory someone else owns.
 *
 * <p>File servers: a file opened on the pool from FUSE, NFS or any file system not known to be local has its
 * descriptor closed off the event loop and, when the caller expects its body, is read there if small, into the
 * buffer the caller's read takes; its other reads run on the pool, never on the caller even when the page cache
 * holds them ({@link FileServerFiles}); decided per mounted file system
 * ({@link FileStatus.Key#fileSystem}) from {@code fstatfs} on the pool thread and logged. On such file systems
 * every open runs on the pool (none can be answered from the dentry cache alone), so every file of theirs gets
 * this. The kernel-AIO engine's pool does the same, but with that engine's inline limit of 0 reads nothing at
 * open; the io_uring engine's pool runs that engine's own hook instead.
 */
public final class ThreadPoolEngine implements FileEngine {

    private static final Logger log = LoggerFactory.getLogger(ThreadPoolEngine.class);
    /** File systems whose files are closed off the event loop and read at open: all but local ones. */
    static final LongPredicate FILE_SERVERS = type -> !FileSystems.isLocal(type);

    private final OpenFileCache cache;
    private final ThreadPoolExecutor pool;
    /** Operations the pool is running now. */
    private final AtomicInteger running = new AtomicInteger();
    /** Operations that may wait for a thread, beyond which an open or a first read is refused. */
    private final int maxPending;
    /** Set on this engine's pool threads. */
    private final ThreadLocal<Boolean> onPool = new ThreadLocal<>();
    private volatile OpenHook afterOpenOnPool = (file, bodyExpected) -> { };
    private final boolean residencyCheck;
    private final long chunkSize;
    private final int inlineLimit;
    private final long readTimeoutNanos;
    private final ReadBuffers readBuffers;
    private final AtomicLong reads = new AtomicLong();
    /** Carried over to the engine of the same kind that replaces this one on a reload ({@link FileEngines}). */
    private final EngineCounters counters;
    /** Which file systems are file servers ({@code statfs.f_type}); null: none are (the io_uring engine's pool). */
    private final LongPredicate fileServers;
    /** The engine this pool serves, for log lines. */
    private final String name;
    private final FileServerFiles fileServerFiles;
    /** File system ({@link FileStatus.Key#fileSystem}) -> whether it is a file server, once it answered. */
    private final ConcurrentHashMap<Long, Boolean> fileServerByFileSystem = new ConcurrentHashMap<>();
    /** File systems {@link #onFileServer} is asking about on the pool. */
    private final Set<Long> asking = ConcurrentHashMap.newKeySet();

    /**
     * An engine with its own open-file cache and {@code settings.threads()} threads; up to
     * {@link #backlogFor} operations wait for a thread.
     */
    public ThreadPoolEngine(StaticIoSettings settings) {
        this(settings, new EngineCounters());
    }

    /** As above, counting on in {@code counters} (a predecessor's). */
    ThreadPoolEngine(StaticIoSettings settings, EngineCounters counters) {
        this(new OpenFileCache(settings), settings.threads(), backlogFor(settings.queueDepth()),
                settings.sendfileChunk(), DEFAULT_INLINE_LIMIT, settings.readTimeout(), ReadBuffers.of(settings), true,
                "threads", FILE_SERVERS, counters);
    }

    /** The least {@link #backlogFor} allows: nginx's aio threads queue 65536; each waiting operation is a small task. */
    static final int MIN_BACKLOG = 4096;

    /**
     * How many operations may wait for a thread ({@code maxPending}) with {@code queueDepth}: twice that per event loop
     * (Netty's default loop count), and never fewer than {@link #MIN_BACKLOG}: a queue-depth lowered to a disk's
     * spindles (4) left 16 places, and a burst of opens on cold directories got 503 at once where each would have had
     * its answer within seconds (the static engines audit).
     */
    static int backlogFor(int queueDepth) {
        return (int) Math.max(MIN_BACKLOG, Math.min(Integer.MAX_VALUE,
                (long) queueDepth * NettyRuntime.availableProcessors() * 2));
    }

    /**
     * @param cache        the open-file cache it owns (closed with the engine)
     * @param threads      blocking calls running at once
     * @param maxPending   operations waiting for a thread at most
     * @param chunkSize    largest region, bytes
     * @param inlineLimit  files up to this size are read into a buffer; 0 turns that off
     * @param readTimeout  a read not done by then fails; zero waits forever
     */
    public ThreadPoolEngine(OpenFileCache cache, int threads, int maxPending, long chunkSize, int inlineLimit,
            Duration readTimeout) {
        this(cache, threads, maxPending, chunkSize, inlineLimit, readTimeout, ReadBuffers.CALLERS, false);
    }

    /**
     * As the public constructor, reading into buffers from {@code readBuffers} (owned, closed with the engine);
     * with {@code residencyCheck}, a read whose range is all in the page cache ({@link FileReads#readIfResident})
     * is done at once on the caller's thread, only misses on the pool.
     */
    ThreadPoolEngine(OpenFileCache cache, int threads, int maxPending, long chunkSize, int inlineLimit,
            Duration readTimeout, ReadBuffers readBuffers, boolean residencyCheck) {
        this(cache, threads, maxPending, chunkSize, inlineLimit, readTimeout, readBuffers, residencyCheck, "threads",
                null, new EngineCounters());
    }

    /**
     * As above, for the engine called {@code name}; files opened on the pool from a file system whose type
     * {@code fileServers} accepts are handled as the class comment says (null: no file system is treated so).
     */
    ThreadPoolEngine(OpenFileCache cache, int threads, int maxPending, long chunkSize, int inlineLimit,
            Duration readTimeout, ReadBuffers readBuffers, boolean residencyCheck, String name,
            LongPredicate fileServers) {
        this(cache, threads, maxPending, chunkSize, inlineLimit, readTimeout, readBuffers, residencyCheck, name,
                fileServers, new EngineCounters());
    }

    /** As above, counting in {@code counters} (new, or a predecessor's). */
    ThreadPoolEngine(OpenFileCache cache, int threads, int maxPending, long chunkSize, int inlineLimit,
            Duration readTimeout, ReadBuffers readBuffers, boolean residencyCheck, String name,
            LongPredicate fileServers, EngineCounters counters) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: " + threads + " (expected: >= 1)");
        }
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending: " + maxPending + " (expected: >= 1)");
        }
        if (chunkSize < 1) {
            throw new IllegalArgumentException("sendfileChunk: " + chunkSize + " (expected: >= 1)");
        }
        if (inlineLimit < 0) {
            throw new IllegalArgumentException("inlineLimit: " + inlineLimit + " (expected: >= 0)");
        }
        if (readTimeout.isNegative()) {
            throw new IllegalArgumentException("readTimeout: " + readTimeout + " (expected: >= 0)");
        }
        this.cache = Objects.requireNonNull(cache, "cache");
        this.counters = Objects.requireNonNull(counters, "counters");
        cache.countRefusalsIn(counters.rejected::increment); // a 503 for want of a descriptor is one refused too
        this.chunkSize = chunkSize;
        this.inlineLimit = inlineLimit;
        this.readTimeoutNanos = readTimeout.toNanos();
        this.readBuffers = Objects.requireNonNull(readBuffers, "readBuffers");
        this.residencyCheck = residencyCheck && PageCache.isAvailable();
        this.maxPending = maxPending;
        // Unbounded: execute() holds new work to maxPending itself, and lets a read for a response under way past it.
        this.pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), poolThreads(), new ThreadPoolExecutor.AbortPolicy()) {
            // counted here: getActiveCount takes the pool's main lock, which its threads take as they start and end,
            // and the status page asks on an event loop
            @Override
            protected void beforeExecute(Thread thread, Runnable task) {
                running.incrementAndGet();
            }

            @Override
            protected void afterExecute(Runnable task, Throwable thrown) {
                running.decrementAndGet();
            }
        };
        pool.allowCoreThreadTimeOut(true);
        this.name = Objects.requireNonNull(name, "name");
        this.fileServers = fileServers;
        this.fileServerFiles = fileServers == null ? null : new FileServerFiles(name, inlineLimit, readBuffers);
        if (fileServers != null) {
            this.afterOpenOnPool = this::afterOpenOnPool;
        }
    }

    /** Daemon threads that know they are this engine's: a {@link #close} on one cannot wait for the pool. */
    private ThreadFactory poolThreads() {
        ThreadFactory daemons = daemonThreads("edge-file-io-");
        return task -> daemons.newThread(() -> {
            onPool.set(Boolean.TRUE);
            task.run();
        });
    }

    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + n.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public CompletionStage<OpenFile> open(Path file, boolean followLinks) {
        return open(file, followLinks, true);
    }

    @Override
    public CompletionStage<OpenFile> open(Path file, boolean followLinks, boolean bodyExpected) {
        Objects.requireNonNull(file, "file");
        OpenFile hit = cache.acquireIfFresh(file);
        if (hit != null) {
            return CompletableFuture.completedFuture(hit); // cached and trusted: no I/O, no hop
        }
        return onPool(() -> cache.acquire(file, followLinks), bodyExpected, () -> "open of " + file);
    }

    @Override
    public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution) {
        return open(resolver, resolution, true);
    }

    @Override
    public CompletionStage<OpenFile> open(PathResolver resolver, Resolution resolution, boolean bodyExpected) {
        Objects.requireNonNull(resolution, "resolution");
        try {
            OpenFile inline = cache.acquireInline(resolver, resolution);
            if (inline != null) {
                return CompletableFuture.completedFuture(inline); // cached, or every directory was in memory
            }
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e); // a definite answer (no such file, permission) costs no hop either
        }
        return openOnPool(resolver, resolution, bodyExpected);
    }

    /** {@link #open(PathResolver, Resolution, boolean)} without its inline attempt: one known to be of no use. */
    CompletionStage<OpenFile> openOnPool(PathResolver resolver, Resolution resolution, boolean bodyExpected) {
        return onPool(() -> cache.acquire(resolver, resolution), bodyExpected, () -> "open of " + resolution.file());
    }

    /** What runs on the pool thread after an open done there. */
    interface OpenHook {
        /** @param bodyExpected what the opener said: whether its caller expects to read the file's bytes */
        void opened(OpenFile file, boolean bodyExpected);
    }

    /**
     * Has {@code hook} run on the pool thread after each open done there, before the caller gets the file (the
     * io_uring engine reads small files from FUSE or NFS there). What it throws is logged and does not fail the
     * open.
     */
    void afterOpenOnPool(OpenHook hook) {
        if (fileServers != null) {
            throw new IllegalStateException("this pool has its own file-server hook");
        }
        afterOpenOnPool = Objects.requireNonNull(hook, "hook");
    }

    /** The hook when this pool handles file servers itself (the threads engine's, the kernel-AIO engine's). */
    private void afterOpenOnPool(OpenFile file, boolean bodyExpected) {
        if (file.isDirectory() || !(file.fileKey() instanceof FileStatus.Key key)) {
            return;
        }
        Boolean known = fileServerByFileSystem.get(key.fileSystem());
        if (known == null ? isFileServer(file, key) : known) {
            fileServerFiles.opened(file, bodyExpected);
        }
    }

    /**
     * Whether {@code file} is known to be on a file server, as an open on this pool found. A file system not asked
     * yet (its files were opened on the caller: a cached tree) is asked now, on the pool, for the next reads; this one
     * is taken as local. False where this pool does not tell file servers apart.
     */
    boolean onFileServer(OpenFile file) {
        if (fileServers == null || file.isDirectory() || !(file.fileKey() instanceof FileStatus.Key key)) {
            return false;
        }
        Boolean known = fileServerByFileSystem.get(key.fileSystem());
        if (known == null && asking.add(key.fileSystem())) {
            OpenFile held = file.retain();
            try {
                pool.execute(() -> {
                    try {
                        isFileServer(held, key);
                    } finally {
                        held.release();
                        asking.remove(key.fileSystem());
                    }
                });
            } catch (RejectedExecutionException e) {
                held.release();
                asking.remove(key.fileSystem());
            }
        }
        return known != null && known;
    }

    /**
     * Asks {@code file}'s file system (on the pool: on FUSE or NFS {@code fstatfs} waits for the server) and
     * remembers the answer for its file system ({@code key}). A failed question means "file server", the safe way,
     * and is asked again by the next open there.
     */
    private boolean isFileServer(OpenFile file, FileStatus.Key key) {
        long type;
        try {
            // Without a raw descriptor (opened by the JDK), its path.
            type = file.hasRawDescriptor() ? Syscalls.fileSystemType(file.fd())
                    : Syscalls.fileSystemType(file.path().toString());
        } catch (RuntimeException e) {
            log.warn("{} engine: the file system of {} could not be told; treated as a file server", name, file.path(), e);
            return true;
        }
        if (type < 0) {
            return true;
        }
        boolean server = fileServers.test(type);
        if (fileServerByFileSystem.putIfAbsent(key.fileSystem(), server) == null) {
            log.info("{} engine: files of device {} ({}) {}", name, key.deviceName(),
                    FileSystems.describe(type), server ? "are closed off the event loop (a file server)" : "are local");
        }
        return server;
    }

    /**
     * Opens on a pool thread; an open whose caller is gone (timed out, engine closing) is released there. An open
     * not done within the read timeout fails as a read does ({@code what} names it): a FUSE or NFS server that
     * stalls on open holds a pool thread, never a request.
     */
    private CompletionStage<OpenFile> onPool(OpenFileCache.Acquire acquire, boolean bodyExpected, Supplier<String> what) {
        CompletableFuture<OpenFile> result = new CompletableFuture<>();
        execute(result, WhenFull.REFUSE, () -> {
            OpenFile open = acquire.acquire();
            try {
                afterOpenOnPool.opened(open, bodyExpected);
            } catch (Throwable e) {
                log.warn("after opening {}", open.path(), e);
            }
            if (!result.complete(open)) {
                open.release(); // nobody is left to take it
            }
        }, () -> { });
        ReadTimer.arm(result, new ReadTimer.Deadline(), readTimeoutNanos, counters, what);
        return result;
    }

    /** On a pool thread, refused when its queue is full and timed as an open is. */
    @Override
    public CompletionStage<PathStatus> status(String path) {
        CompletableFuture<PathStatus> result = new CompletableFuture<>();
        execute(result, WhenFull.REFUSE, () -> result.complete(PathStatus.of(path)), () -> { });
        ReadTimer.arm(result, new ReadTimer.Deadline(), readTimeoutNanos, counters, () -> "stat of " + path);
        return result;
    }

    @Override
    public Object region(OpenFile file, long offset, long length) {
        FileReads.checkRange(file, offset, length);
        counters.sendfileRegions.increment();
        return new OpenFileRegion(file.retain(), offset, length);
    }

    @Override
    public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc) {
        return read(file, offset, length, alloc, WhenFull.REFUSE);
    }

    @Override
    public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc,
            WhenFull whenFull) {
        return read(file, offset, length, alloc, readTimeoutNanos, whenFull);
    }

    /**
     * As {@link #read(OpenFile, long, int, ByteBufAllocator, WhenFull)}, failing after {@code timeoutNanos} (0: never)
     * instead of the read timeout: for a read another engine hands over with what is left of its time.
     */
    CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc, long timeoutNanos,
            WhenFull whenFull) {
        FileReads.checkRange(file, offset, length);
        Objects.requireNonNull(alloc, "alloc");
        CompletableFuture<ByteBuf> atOpen = FileReads.readAtOpen(file, offset, length, counters);
        if (atOpen != null) {
            return atOpen;
        }
        if (residencyCheck && file.hasRawDescriptor() && !FileServerFiles.isFromFileServer(file)) {
            // A page-cache hit is a memory copy: cheaper here than two hand-offs through the pool. Told so that a
            // page still being read is a miss, never waited for here.
            ByteBuf resident = FileReads.readIfResident(file, offset, length, readAllocator(alloc));
            if (resident != null) {
                counters.residentReads.increment();
                return CompletableFuture.completedFuture(resident);
            }
        }
        counters.asyncReads.increment();
        long start = System.nanoTime();
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        ReadTimer.Deadline deadline = new ReadTimer.Deadline();
        OpenFile held = file.retain(); // the task's reference: the descriptor stays open while it reads
        boolean queued = execute(result, whenFull, () -> {
            // The buffer belongs to this thread until result takes it; a timed-out read releases it here.
            ByteBuf buffer = null;
            try {
                buffer = DirectMemory.buffer(readAllocator(alloc), length);
                FileReads.readFully(held, buffer, offset);
            } catch (IOException | RuntimeException | Error e) {
                if (buffer != null) {
                    buffer.release();
                }
                throw e;
            } finally {
                held.release(); // before the stage completes, so a caller that saw it sees the count too
            }
            if (!deadline.disarm()) {
                buffer.release(); // timed out, and counted as that only
                return;
            }
            reads.incrementAndGet();
            counters.readDone(start);
            if (!result.complete(buffer)) {
                buffer.release();
            }
        }, held::release);
        if (queued) {
            ReadTimer.arm(result, deadline, timeoutNanos, counters, () -> "read of " + file.path());
        } else {
            // Counted before the hand-off (a stage may complete before execute returns), taken back when refused:
            // a refused read is counted as rejected only.
            counters.asyncReads.decrement();
        }
        return result;
    }

    /**
     * Runs {@code task} on the pool unless {@code result} is settled first, in which case, or if it is refused (the
     * queue full and {@code whenFull} {@link WhenFull#REFUSE}, or the pool shut down), {@code skipped} runs instead
     * (and a refusal fails {@code result}). Returns false if it was refused.
     */
    boolean execute(CompletableFuture<?> result, WhenFull whenFull, Blocking task, Runnable skipped) {
        try {
            if (whenFull == WhenFull.REFUSE && pool.getQueue().size() >= maxPending) {
                // checked before the hand-off: loops that look at once may each add one more, no more
                throw new RejectedExecutionException("queue full");
            }
            pool.execute(() -> {
                if (result.isDone()) {
                    skipped.run(); // timed out while waiting for a thread
                    return;
                }
                try {
                    task.run();
                } catch (IOException | RuntimeException | Error e) {
                    // An Error too (no direct memory left for a read's buffer): its caller fails now instead of
                    // waiting for the read timeout, for ever without one, and the thread takes the next task.
                    result.completeExceptionally(e);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            counters.rejected.increment();
            skipped.run();
            result.completeExceptionally(pool.isShutdown()
                    ? new EngineClosedException("file engine closed")
                    : new ReadQueueFullException("file I/O queue full (" + pool.getQueue().size() + " waiting for "
                            + pool.getMaximumPoolSize() + " threads)"));
            return false;
        }
    }

    /**
     * The allocator a read given {@code alloc} takes its buffer from: {@code alloc}, or with
     * {@code static.poison-released-buffers} a poisoning one over it (see {@link ReadBuffers}).
     */
    ByteBufAllocator readAllocator(ByteBufAllocator alloc) {
        return readBuffers.allocator(alloc);
    }

    /** Where this engine's reads take their buffers (shared with the engine it serves, if any). */
    ReadBuffers readBuffers() {
        return readBuffers;
    }

    interface Blocking {
        void run() throws IOException;
    }

    @Override
    public void invalidate(Path file) {
        cache.invalidate(file);
    }

    /** A range in the page cache as a {@code sendfile} region at once; any other read into a buffer first. */
    @Override
    public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
        return loadRegion(file, offset, length, WhenFull.REFUSE);
    }

    @Override
    public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length, WhenFull whenFull) {
        return loadRegion(file, offset, length, readTimeoutNanos, whenFull);
    }

    /** As {@link #loadRegion(OpenFile, long, long, WhenFull)}, a read failing after {@code timeoutNanos} (see read). */
    CompletionStage<Object> loadRegion(OpenFile file, long offset, long length, long timeoutNanos, WhenFull whenFull) {
        return FileReads.residentRegionOrRead(this, file, offset, length,
                (whole, at, bytes) -> read(whole, at, bytes, PooledByteBufAllocator.DEFAULT, timeoutNanos, whenFull));
    }

    @Override
    public long chunkSize() {
        return chunkSize;
    }

    @Override
    public int inlineLimit() {
        return inlineLimit;
    }

    /** The open-file cache, for metrics. */
    public OpenFileCache cache() {
        return cache;
    }

    @Override
    public FileEngineStats stats() {
        return counters.snapshot("threads", running.get(), pool.getQueue().size(), cache);
    }

    /** What this engine counts in, for a successor of its kind ({@link FileEngines#create(StaticIoSettings, FileEngine)}). */
    EngineCounters counters() {
        return counters;
    }

    /** Reads completed by the pool so far; one that completed after it timed out is counted only as timed out. */
    public long completedReads() {
        return reads.get();
    }

    /** Operations that may wait for a thread before an open or a first read is refused. */
    int maxPending() {
        return maxPending;
    }

    /** Opens and reads running or waiting for a thread now. */
    public int pendingOperations() {
        return running.get() + pool.getQueue().size();
    }

    /**
     * Stops taking work and drops cached descriptors. Operations already queued still run and complete their
     * stages. Off an event loop and off this engine's own pool, waits for them (up to the read timeout, at least
     * a second), so that their files are released, and for the closes handed to {@link FileServerFiles#CLOSER};
     * elsewhere waits for neither. Quarantined read buffers are checked and freed last, after the reads that
     * could still release one.
     */
    @Override
    public void close() {
        closeBy(System.nanoTime() + closeWaitNanos());
    }

    /** How long a close may wait for what is in flight: the read timeout, at least a second. */
    long closeWaitNanos() {
        return Math.max(TimeUnit.SECONDS.toNanos(1), readTimeoutNanos);
    }

    /** {@link #close()}, waiting until {@code deadlineNanos} ({@link System#nanoTime()}) at the latest. */
    void closeBy(long deadlineNanos) {
        pool.shutdown();
        cache.close();
        if (!(ThreadExecutorMap.currentExecutor() instanceof IoEventLoop) && onPool.get() == null) {
            try {
                if (!pool.awaitTermination(remaining(deadlineNanos), TimeUnit.NANOSECONDS)) {
                    log.warn("{} engine closed with {} file operations still running", name, pool.getActiveCount());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // The closes of the descriptors just dropped, and of every file released before: a file server's, a
            // large file's or one whose path left it (OpenFile.deallocate), handed to the closer's thread.
            FileServerFiles.awaitCloses(name, remaining(deadlineNanos));
        }
        readBuffers.close();
    }

    /** Nanoseconds left until {@code deadlineNanos}, at least 10 ms: enough to see work that is already done. */
    static long remaining(long deadlineNanos) {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(10), deadlineNanos - System.nanoTime());
    }
}
