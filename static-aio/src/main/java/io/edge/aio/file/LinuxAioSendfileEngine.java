package io.edge.aio.file;

import io.edge.aio.StaticIoSettings;
import io.edge.aio.file.LoopAio.Unread;
import io.edge.aio.linux.LinuxAio;
import io.edge.aio.linux.ShmSlab;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.epoll.Epoll;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code static.engine = linux-aio-sendfile}, lighttpd 1.5's design: files are opened a second time with
 * {@code O_DIRECT}, read by Linux kernel AIO into slots of a sparse {@code /dev/shm} slab mapped into this
 * process, and sent from the slab file with {@code sendfile} ({@link #loadRegion}) or copied out of it
 * ({@link #read}).
 *
 * <p>Per event loop ({@link LoopAio}, created on the loop the first time it reads): one AIO context, one slab
 * of {@code slots} slots, an eventfd the loop's epoll watches ({@code IOCB_FLAG_RESFD}); no extra thread. Up
 * to {@code queueDepth} reads are in flight per loop; further ones wait in the loop's queue, never blocking
 * the caller. A read that finds every other slot held by regions their clients have not taken yet (slow
 * clients) goes to the thread pool instead of waiting for them, as a file without O_DIRECT does. O_DIRECT wants aligned
 * offsets and lengths: a read covers its range rounded out to {@value LoopAio#ALIGNMENT} bytes, and only the
 * requested bytes are copied or sent.
 *
 * <p>Fallbacks, each announced by one log line: where kernel AIO or the slab cannot be set up at all (no epoll,
 * {@code io_setup} refused, no usable {@code /dev/shm}: probed once, at start) every file, on a loop whose
 * context could not be set up for want of a resource (descriptors, {@code fs.aio-max-nr}, memory) that loop's
 * files until its set-up is tried again ({@link LoopContexts#RETRY_AFTER_NANOS} later), and where the file system
 * refuses {@code O_DIRECT} (EINVAL, at the open or at a read: remembered for the file), a read the kernel could not
 * take without {@code io_submit} waiting (reads go with {@code RWF_NOWAIT}: dirty pages of the range an O_DIRECT read
 * would write back first, a writer holding the file), and a file server's files
 * (FUSE asks its server for the file's attributes inside {@code io_submit}, and the loop would wait with it; a file
 * system is known as one once a file of it was opened on the pool), are loaded as {@link ThreadPoolEngine} loads
 * them: a {@code sendfile}
 * region straight from the file where the range is in the page cache, else a pool read into a buffer, so the
 * event loop never waits for the disk. {@link #region} itself always returns a region of the file. Opens
 * (stat + open) run on that pool too; descriptors of files from a file server (FUSE, NFS) are closed off the
 * event loop, as the threads engine closes them.
 */
public final class LinuxAioSendfileEngine extends ThreadPoolBackedEngine {

    static final Path SLAB_DIR = Path.of("/dev/shm");
    private static final Logger log = LoggerFactory.getLogger(LinuxAioSendfileEngine.class);

    /** Counters shared by the loops' contexts; updated on loop threads, read anywhere. */
    static final class Stats extends LoopStats {
        final AtomicInteger highestInFlight = new AtomicInteger();
        final AtomicInteger slotsHeld = new AtomicInteger();
        final AtomicLong holesPunched = new AtomicLong();
        final AtomicLong threadReads = new AtomicLong();

        Stats() {
        }

        Stats(EngineCounters counters) {
            super(counters);
        }
    }

    private final LoopContexts<LoopAio> contexts;
    private final Stats stats;
    private final long slotSize;
    private final long readTimeoutNanos;
    private final AtomicBoolean directRefusalLogged = new AtomicBoolean();
    /** Reads and loads handed to the pool for each reason the kernel did not read them, counted; each logged once. */
    private final Map<Unread, PoolReads> unread = new EnumMap<>(Unread.class);
    private final Path slabDir;
    private final AtomicBoolean noContextLogged = new AtomicBoolean();
    private final String unavailable;

    /**
     * An engine with its own open-file cache (half of {@code fdBudget}: each file holds two descriptors),
     * {@code threads} threads for opens and fallback reads, {@code queueDepth} reads in flight per event loop
     * and a slab of twice as many slots of {@code sendfileChunk} bytes per loop in {@code /dev/shm} (sparse:
     * only slots in use take memory). Its inline limit is 0: the static path sends every body, small ones too,
     * through {@link #loadRegion} and {@code sendfile} from the slab, the design this engine exists for.
     */
    public LinuxAioSendfileEngine(StaticIoSettings settings) {
        this(settings, new EngineCounters(), new EngineCounters());
    }

    /** As above, counting on in a predecessor's counters: its kernel path's ({@code own}) and its pool's. */
    LinuxAioSendfileEngine(StaticIoSettings settings, EngineCounters own, EngineCounters pool) {
        this(OpenFileCache.withDirectDescriptors(settings),
                settings.threads(), settings.queueDepth(), 2 * settings.queueDepth(), settings.sendfileChunk(),
                0, settings.readTimeout(), SLAB_DIR, // no inline reads: every body leaves by sendfile from the slab
                ReadBuffers.of(settings), ThreadPoolEngine.FILE_SERVERS, System::nanoTime, own, pool);
    }

    /**
     * @param cache       a cache made by {@link OpenFileCache#withDirectDescriptors}, owned by the engine
     * @param queueDepth  kernel reads in flight per event loop
     * @param slots       slab slots per event loop, at least {@code queueDepth}; a slot is held from its read
     *                    until its region was written (or its bytes copied)
     * @param slabDir     where slabs are created (and unlinked at once): a tmpfs
     * @param readBuffers where {@link #read} takes its buffers, owned by the engine
     */
    LinuxAioSendfileEngine(OpenFileCache cache, int threads, int queueDepth, int slots, long chunkSize,
            int inlineLimit, Duration readTimeout, Path slabDir, ReadBuffers readBuffers) {
        this(cache, threads, queueDepth, slots, chunkSize, inlineLimit, readTimeout, slabDir, readBuffers,
                ThreadPoolEngine.FILE_SERVERS);
    }

    /** As above; {@code fileServers} tells which file systems ({@code statfs.f_type}) have closes off the loop. */
    LinuxAioSendfileEngine(OpenFileCache cache, int threads, int queueDepth, int slots, long chunkSize,
            int inlineLimit, Duration readTimeout, Path slabDir, ReadBuffers readBuffers, LongPredicate fileServers) {
        this(cache, threads, queueDepth, slots, chunkSize, inlineLimit, readTimeout, slabDir, readBuffers,
                fileServers, System::nanoTime);
    }

    /** As above; {@code nanoTime} is the clock of the wait before a loop's failed set-up is tried again. */
    LinuxAioSendfileEngine(OpenFileCache cache, int threads, int queueDepth, int slots, long chunkSize,
            int inlineLimit, Duration readTimeout, Path slabDir, ReadBuffers readBuffers, LongPredicate fileServers,
            LongSupplier nanoTime) {
        this(cache, threads, queueDepth, slots, chunkSize, inlineLimit, readTimeout, slabDir, readBuffers, fileServers,
                nanoTime, new EngineCounters(), new EngineCounters());
    }

    private LinuxAioSendfileEngine(OpenFileCache cache, int threads, int queueDepth, int slots, long chunkSize,
            int inlineLimit, Duration readTimeout, Path slabDir, ReadBuffers readBuffers, LongPredicate fileServers,
            LongSupplier nanoTime, EngineCounters own, EngineCounters pool) {
        this(new ThreadPoolEngine(cache, threads, ThreadPoolEngine.backlogFor(queueDepth), chunkSize,
                inlineLimit, readTimeout, readBuffers, false, "linux-aio-sendfile", fileServers, pool),
                queueDepth, slots, readTimeout, slabDir, new Stats(own), nanoTime);
    }

    private LinuxAioSendfileEngine(ThreadPoolEngine blocking, int queueDepth, int slots, Duration readTimeout,
            Path slabDir, Stats stats, LongSupplier nanoTime) {
        super("linux-aio-sendfile", blocking, stats);
        this.stats = stats;
        for (Unread why : Unread.values()) {
            unread.put(why, new PoolReads());
        }
        if (queueDepth < 1 || queueDepth > 32768) {
            throw new IllegalArgumentException("queueDepth: " + queueDepth + " (expected: 1..32768)");
        }
        if (slots < queueDepth) {
            throw new IllegalArgumentException("slots: " + slots + " (expected: >= queueDepth " + queueDepth + ")");
        }
        if (blocking.chunkSize() > StaticIoSettings.MAX_SENDFILE_CHUNK) {
            throw new IllegalArgumentException("sendfileChunk: " + blocking.chunkSize() + " (expected: <= "
                    + StaticIoSettings.MAX_SENDFILE_CHUNK + ")");
        }
        this.slotSize = LoopAio.slotSize(blocking.chunkSize());
        this.slabDir = slabDir;
        this.readTimeoutNanos = readTimeout.toNanos();
        // A loop's set-up that fails after the probe passed ran out of something that comes back (EMFILE or
        // ENFILE for the eventfd or the slab, EAGAIN from io_setup beyond fs.aio-max-nr, ENOMEM): that loop
        // reads by the pool and is tried again later (LoopContexts), and the other loops keep their contexts.
        this.contexts = new LoopContexts<>("linux-aio-sendfile engine",
                loop -> LoopAio.create(loop, queueDepth, slots, slotSize, slabDir, stats), nanoTime);
        this.unavailable = probe(slabDir, slotSize, slots);
        if (unavailable != null) {
            log.warn("static.engine = linux-aio-sendfile: kernel AIO unavailable ({}); files are read by the "
                    + "thread pool", unavailable);
        } else {
            log.info("static.engine = linux-aio-sendfile: O_DIRECT kernel AIO, queue depth {} and {} slab slots "
                    + "of {} bytes per event loop in {}", queueDepth, slots, slotSize, slabDir);
        }
    }

    /**
     * Null if every loop's context can be set up here, else why not: what no retry changes (no epoll, no kernel
     * AIO, a slab directory that is missing or takes no slab of {@code slots} slots of {@code slotSize} bytes), found
     * by setting one up.
     */
    private static String probe(Path slabDir, long slotSize, int slots) {
        if (!Epoll.isAvailable()) {
            return "Netty epoll unavailable: " + Epoll.unavailabilityCause();
        }
        if (!Files.isDirectory(slabDir)) {
            return "no slab directory " + slabDir;
        }
        String cause = LinuxAio.probe();
        if (cause != null) {
            return cause;
        }
        String hugePages = ShmSlab.hugePageCause(slabDir);
        if (hugePages != null) {
            return hugePages;
        }
        try {
            ShmSlab.create(slabDir, LoopAio.slotStride(slotSize, Syscalls.pageSize()) * slots).close();
            return null;
        } catch (IOException | RuntimeException e) {
            // the system's words ("mmap: Cannot allocate memory"), not a Java class name
            return "no slab can be made in " + slabDir + ": " + (e.getMessage() != null ? e.getMessage()
                    : e.getClass().getSimpleName());
        }
    }

    /** Why kernel AIO is not used (every file goes to the thread pool), or null; decided at start. */
    public String unavailabilityCause() {
        return unavailable;
    }

    /** Reads the range into a slab slot with kernel AIO and hands out a {@code sendfile} region of the slot. */
    @Override
    public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length) {
        return loadRegion(file, offset, length, WhenFull.REFUSE);
    }

    /**
     * As {@link #loadRegion(OpenFile, long, long)}. The loop's own queue never refuses; {@code whenFull} is for a load
     * that goes to the pool instead (no slot free, a file system that refuses O_DIRECT).
     */
    @Override
    public CompletionStage<Object> loadRegion(OpenFile file, long offset, long length, WhenFull whenFull) {
        FileReads.checkRange(file, offset, length);
        if (length > chunkSize()) {
            throw new IllegalArgumentException("length: " + length + " (expected: <= chunkSize " + chunkSize() + ")");
        }
        if (!usesAio(file)) {
            return blocking.loadRegion(file, offset, length, whenFull);
        }
        CompletableFuture<Object> result = new CompletableFuture<>();
        RegionLoad load = new RegionLoad(file.retain(), offset, length, result, counted(result, file), whenFull);
        contexts.execute(context -> context.submit(load), load::notStarted);
        return result;
    }

    @Override
    public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc) {
        return read(file, offset, length, alloc, WhenFull.REFUSE);
    }

    /** As {@link #loadRegion(OpenFile, long, long, WhenFull)}, into a buffer. */
    @Override
    public CompletionStage<ByteBuf> read(OpenFile file, long offset, int length, ByteBufAllocator alloc,
            WhenFull whenFull) {
        FileReads.checkRange(file, offset, length);
        Objects.requireNonNull(alloc, "alloc");
        CompletableFuture<ByteBuf> atOpen = FileReads.readAtOpen(file, offset, length, stats.counters);
        if (atOpen != null) {
            return atOpen;
        }
        if (!usesAio(file)) {
            return readByThreads(file, offset, length, alloc, readTimeoutNanos, whenFull);
        }
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        BufferRead read = new BufferRead(file.retain(), offset, length, alloc, result, counted(result, file),
                whenFull);
        contexts.execute(read::start, read::notStarted);
        return result;
    }

    private boolean usesAio(OpenFile file) {
        if (unavailable != null || file.directReadsRefused()) {
            return false;
        }
        if (blocking.onFileServer(file)) {
            // FUSE asks its server for the file's attributes inside io_submit (GETATTR, libfuse's auto_inval_data),
            // and an NFS client may wait for its server there: the event loop would wait with it
            return false;
        }
        if (file.isDirect()) {
            return true;
        }
        if (directRefusalLogged.compareAndSet(false, true)) {
            log.info("linux-aio-sendfile: {} has no O_DIRECT descriptor (its file system refuses O_DIRECT); such "
                    + "files are read by the thread pool", file.path());
        }
        return false;
    }

    /** A read by the pool, failing after {@code timeoutNanos} (the read timeout, or what a fallback has left of it). */
    private CompletionStage<ByteBuf> readByThreads(OpenFile file, long offset, int length, ByteBufAllocator alloc,
            long timeoutNanos, WhenFull whenFull) {
        stats.threadReads.incrementAndGet();
        return blocking.read(file, offset, length, alloc, timeoutNanos, whenFull);
    }

    /**
     * Counts an asynchronous read of {@code file} (a fallback to the pool takes the count back: the pool's read
     * counts itself) and arms the read timeout on its {@code result}.
     */
    private ReadTimer.Deadline counted(CompletableFuture<?> result, OpenFile file) {
        stats.counters.asyncReads.increment();
        ReadTimer.Deadline deadline = new ReadTimer.Deadline();
        ReadTimer.arm(result, deadline, readTimeoutNanos, stats.counters, () -> "kernel AIO read of " + file.path());
        return deadline;
    }

    /**
     * {@link #handToPool}, whose read {@code work} times with what is left of the read timeout (given to it in
     * nanoseconds), unless the read timed out already: then it was counted as that, and only its reference to
     * {@code file} goes. The pool's timer alone runs from here on, so a read is counted once, and still fails
     * within the read timeout of its start.
     */
    private <T> void handToPoolInTime(ReadTimer.Deadline deadline, OpenFile file, CompletableFuture<T> result,
            LongFunction<? extends CompletionStage<? extends T>> work) {
        if (deadline.disarm()) {
            long remaining = deadline.remainingNanos();
            handToPool(file, result, () -> work.apply(remaining));
        } else {
            file.release();
        }
    }

    /**
     * Whether work that found no context on its loop goes to the thread pool instead of failing with {@code cause}:
     * unless the engine closed. The loop's context could not be set up (tried again after a while), or the loop
     * shuts down.
     */
    private boolean fallsBack(Throwable cause) {
        if (contexts.isClosed()) {
            return false;
        }
        if (noContextLogged.compareAndSet(false, true)) {
            log.warn("linux-aio-sendfile: no AIO context on event loop {} ({}); its reads go to the thread pool until "
                    + "one can be set up (tried again after {} ms; logged once)", Thread.currentThread().getName(),
                    cause.toString(), LoopContexts.RETRY_AFTER_NANOS / 1_000_000);
        }
        return true;
    }

    /** {@link #loadRegion}: one piece, whose slot becomes the region's. */
    private final class RegionLoad extends LoopAio.Piece {
        private final long offset;
        private final long length;
        private final CompletableFuture<Object> result;
        private final ReadTimer.Deadline deadline;
        /** For a load that falls back to the pool. */
        private final WhenFull whenFull;
        private final long start = System.nanoTime();

        /** Takes over one reference to {@code file}. */
        RegionLoad(OpenFile file, long offset, long length, CompletableFuture<Object> result,
                ReadTimer.Deadline deadline, WhenFull whenFull) {
            super(file, offset, offset + length);
            this.offset = offset;
            this.length = length;
            this.result = result;
            this.deadline = deadline;
            this.whenFull = whenFull;
        }

        @Override
        boolean wanted() {
            return !result.isDone();
        }

        @Override
        void loaded(LoopAio context, int slot, int done) {
            if (done < offset + length - coverStart) {
                context.release(slot);
                failed(shrank(file, offset + length));
                return;
            }
            file.release();
            if (!deadline.disarm()) {
                context.release(slot); // timed out meanwhile, and counted as that only
                return;
            }
            stats.counters.readDone(start);
            SlabRegion region = new SlabRegion(context, slot, context.slotOffset(slot) + (offset - coverStart), length);
            if (!result.complete(region)) {
                region.release(); // the caller gave up: nobody else holds it
            }
        }

        @Override
        void failed(Throwable cause) {
            file.release();
            result.completeExceptionally(cause);
        }

        @Override
        void notRead(Unread why) {
            handedToPool(why, file);
            fallBack();
        }

        void notStarted(Throwable cause) {
            if (fallsBack(cause)) {
                fallBack();
            } else {
                failed(cause);
            }
        }

        /** As the threads engine loads it: a region of the file if it is in the page cache, else a pool read. */
        private void fallBack() {
            handToPoolInTime(deadline, file, result, remaining -> blocking.loadRegion(file, offset, length, remaining,
                    whenFull));
        }
    }

    /**
     * {@link #read}: pieces of at most one slot each, read in parallel; each is copied into the caller's
     * buffer as it completes and its slot given back at once. States: {@code READING} (pieces outstanding)
     * -> done (the buffer goes to the caller) or failed (the buffer is released once no piece is left).
     * Runs on the loop after {@link #start}.
     */
    private final class BufferRead {
        private final OpenFile file;
        private final long offset;
        private final int length;
        private final ByteBufAllocator alloc;
        private final CompletableFuture<ByteBuf> result;
        private final ReadTimer.Deadline deadline;
        /** For a read that falls back to the pool. */
        private final WhenFull whenFull;
        private final long start = System.nanoTime();
        private ByteBuf buffer;
        private int outstanding;
        private Throwable failure;
        /** Why a part was not read by the kernel: the whole read goes to the pool. */
        private Unread unread;

        /** Takes over one reference to {@code file}. */
        BufferRead(OpenFile file, long offset, int length, ByteBufAllocator alloc, CompletableFuture<ByteBuf> result,
                ReadTimer.Deadline deadline, WhenFull whenFull) {
            this.file = file;
            this.offset = offset;
            this.length = length;
            this.alloc = alloc;
            this.result = result;
            this.deadline = deadline;
            this.whenFull = whenFull;
        }

        void start(LoopAio context) {
            try {
                // owned here until the caller takes it
                buffer = DirectMemory.buffer(blocking.readAllocator(alloc), length);
            } catch (RuntimeException | Error e) {
                file.release();
                result.completeExceptionally(e);
                return;
            }
            // Each piece's aligned cover fits one slot: pieces end at slot-sized aligned boundaries. All are
            // counted before any is submitted: one may end inside submit (no slot), and the read with it.
            List<Part> parts = new ArrayList<>();
            long end = offset + length;
            for (long from = offset; from < end; ) {
                long to = Math.min(end, LoopAio.alignDown(from) + slotSize - LoopAio.ALIGNMENT);
                parts.add(new Part(from, to));
                from = to;
            }
            outstanding = parts.size();
            for (Part part : parts) {
                context.submit(part);
            }
        }

        void notStarted(Throwable cause) {
            if (fallsBack(cause)) {
                fallBack();
            } else {
                file.release();
                result.completeExceptionally(cause);
            }
        }

        private void fallBack() {
            handToPoolInTime(deadline, file, result, remaining -> readByThreads(file, offset, length, alloc, remaining,
                    whenFull));
        }

        private void partDone(Throwable cause) {
            if (cause != null && failure == null) {
                failure = cause;
            }
            if (--outstanding > 0) {
                return;
            }
            if (failure != null || unread != null) {
                buffer.release();
                buffer = null;
                if (failure == null) {
                    handedToPool(unread, file);
                    fallBack();
                    return;
                }
                file.release();
                result.completeExceptionally(failure);
                return;
            }
            file.release();
            if (deadline.disarm()) {
                stats.counters.readDone(start);
                buffer.writerIndex(length);
                if (!result.complete(buffer)) {
                    buffer.release(); // the caller gave up: nobody else holds it
                }
            } else {
                buffer.release(); // timed out meanwhile, and counted as that only
            }
            buffer = null;
        }

        /** Bytes {@code [from, to)} of the file. */
        private final class Part extends LoopAio.Piece {
            private final long from;
            private final long to;

            Part(long from, long to) {
                super(BufferRead.this.file, from, to);
                this.from = from;
                this.to = to;
            }

            @Override
            boolean wanted() {
                return !result.isDone() && failure == null && unread == null;
            }

            @Override
            void loaded(LoopAio context, int slot, int done) {
                try {
                    if (done < to - coverStart) {
                        partDone(shrank(file, to));
                        return;
                    }
                    int count = (int) (to - from);
                    buffer.setBytes((int) (from - offset), context.slabView(context.slotOffset(slot) + (from - coverStart), count));
                    partDone(null);
                } finally {
                    context.release(slot);
                }
            }

            @Override
            void failed(Throwable cause) {
                // A part left unstarted because another was refused or found the slab full is not a failure:
                // the whole read goes to the pool.
                partDone(unread != null ? null : cause);
            }

            @Override
            void notRead(Unread why) {
                if (unread == null || why.compareTo(unread) < 0) {
                    unread = why; // the first in Unread's order: a refusal first, which the file remembers
                }
                partDone(null);
            }
        }
    }

    private static EOFException shrank(OpenFile file, long end) {
        return new EOFException("file shrank below " + end + " bytes while being read: " + file.path());
    }

    /** Reads or loads of one {@link Unread} reason handed to the pool so far, and whether that was logged. */
    private static final class PoolReads {
        final AtomicLong count = new AtomicLong();
        final AtomicBoolean logged = new AtomicBoolean();
    }

    /** Counts a read or load handed to the pool because the kernel did not read it, for {@code why}; logs the first. */
    private void handedToPool(Unread why, OpenFile file) {
        if (why == Unread.REFUSED) {
            file.refuseDirectReads();
        }
        PoolReads reads = unread.get(why);
        reads.count.incrementAndGet();
        if (!reads.logged.compareAndSet(false, true)) {
            return;
        }
        switch (why) {
            case REFUSED -> log.warn("linux-aio-sendfile: an O_DIRECT read of {} was refused (EINVAL); such reads go to "
                    + "the thread pool (counted, not logged again)", file.path());
            case NO_SLOT -> log.warn("linux-aio-sendfile: every slab slot of a loop is held by responses their clients "
                    + "have not taken yet (slow clients); a read of {} and others while that lasts go to the thread pool "
                    + "(counted, not logged again)", file.path());
            case NO_ROOM -> log.warn("linux-aio-sendfile: {} has no room for the pages of the slab slots in use (a full "
                    + "tmpfs: the kernel answers EFAULT); a read of {} and others while that lasts go to the thread pool "
                    + "(counted, not logged again). Give it more room, or lower static.queue-depth or "
                    + "static.sendfile-chunk", slabDir, file.path());
            case WOULD_WAIT -> log.info("linux-aio-sendfile: the kernel could not take a read of {} without waiting "
                    + "(pages of it not yet written back, a writer holding it); such reads go to the thread pool "
                    + "(counted, not logged again)", file.path());
        }
    }

    /**
     * Reads the kernel could not take without having {@code io_submit} wait (EAGAIN under {@code RWF_NOWAIT}), gone to
     * the thread pool so far.
     */
    public long wouldWaitReads() {
        return unread.get(Unread.WOULD_WAIT).count.get();
    }

    /** Reads whose slab slot the slab's file system had no room for (a full tmpfs), gone to the thread pool so far. */
    public long slabNoRoomReads() {
        return unread.get(Unread.NO_ROOM).count.get();
    }

    /** Reads that found every slab slot held by regions not yet written, and went to the thread pool so far. */
    public long slabFullReads() {
        return unread.get(Unread.NO_SLOT).count.get();
    }

    /** Kernel reads refused with EINVAL and redone by the thread pool so far. */
    public long refusedDirectReads() {
        return unread.get(Unread.REFUSED).count.get();
    }

    /** The most kernel reads in flight at once so far, over all event loops. */
    public int highestInFlightReads() {
        return stats.highestInFlight.get();
    }

    /** Slab slots in flight or held by a region or a copy now. */
    public int slotsHeld() {
        return stats.slotsHeld.get();
    }

    /** Slots punched and reused so far. */
    public long holesPunched() {
        return stats.holesPunched.get();
    }

    /** Reads handed to the thread pool so far (no AIO, no O_DIRECT). */
    public long threadReads() {
        return stats.threadReads.get();
    }

    /** AIO contexts set up so far (one per event loop that read). */
    public int contexts() {
        return contexts.size();
    }

    /**
     * Stops taking reads, closes every context once its reads completed and its regions were written or
     * released (waiting up to the read timeout, at least a second, off an event loop), and drops cached
     * descriptors.
     */
    @Override
    public void close() {
        long waitNanos = blocking.closeWaitNanos();
        long deadline = System.nanoTime() + waitNanos; // one wait in all, not one per step
        contexts.close(waitNanos);
        blocking.closeBy(deadline);
    }
}
