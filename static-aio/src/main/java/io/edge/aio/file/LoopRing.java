package io.edge.aio.file;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.edge.aio.file.ThreadPoolBackedEngine.LoopStats;
import io.edge.aio.linux.IoUring;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Queue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One io_uring bound to one epoll event loop ({@link LoopContext}), created on and only ever touched by that
 * loop's thread. Completions wake the loop through an eventfd registered with the ring and watched by the
 * loop's epoll; no other thread is involved.
 *
 * <p>States of a read: {@code WAITING} (queued here, no buffer yet) -> {@code IN_FLIGHT} (buffer allocated,
 * SQE prepared, owns slot {@code user_data}) -> done. A short read goes back to the kernel for the rest
 * in the same slot. Invariants: {@code inFlight <= queueDepth <= SQ entries}, so the reads alone never fill the
 * submission ring (the opens and closes that share it are made room for: {@link #roomForOne}) and the completion ring
 * (twice as large) never overflows; a buffer is released only after its
 * CQE was reaped, even if the caller's stage already failed by timeout; the file keeps a reference (and so
 * its descriptor) for as long as the read is in flight. If the loop shuts down with reads in flight, their
 * stages fail, but their buffers and files stay unreleased for good: the kernel may still write them after the
 * ring is gone.
 *
 * <p>Opens and closes: the engine also opens small files here ({@link #submitOpen}: {@code IORING_OP_OPENAT2}, its
 * path and {@code open_how} in one of {@value #OPEN_SLOTS} slots of this ring's own memory) and closes descriptors
 * whose last reference went on this loop ({@link #submitClose}), so that the opens, reads and closes of the requests
 * one loop iteration answers reach the kernel in one {@code io_uring_enter}, at the end of the iteration
 * ({@link #flushLater}), instead of a system call each. An open in flight counts as busy: a closing ring waits for
 * its completion, which hands the descriptor to its caller (who owns it from then).
 */
final class LoopRing extends LoopContext<LoopRing.Read> {

    private static final Logger log = LoggerFactory.getLogger(LoopRing.class);
    /**
     * Times a read answered EAGAIN or EINTR goes back to the kernel (an EAGAIN through a worker) before it is
     * handed to {@link #elsewhere}: older kernels answer EAGAIN for every read of an O_NONBLOCK file on a device
     * without NOWAIT support (dm-crypt, some md setups), however often it is resubmitted.
     */
    static final int MAX_RETRIES = 2;

    private final IoUring ring;
    private final long timeoutNanos;
    private final LoopStats stats;
    /** Does the reads this ring cannot (the kernel keeps refusing them); takes over the read's file reference. */
    private final Consumer<Read> elsewhere;
    /** Cap on kernel workers, set on the first read sent to them (rings that send none keep the kernel's). */
    private final int workers;
    private boolean workersLimited;
    private final Read[] slots;
    private final int[] freeSlots;
    private int freeCount;

    /**
     * Opens in flight at once at most, each with its arguments in a slot of {@link #openArgs}; beyond it, opens go
     * elsewhere. Fewer where the completion ring has less room than that beside {@code queueDepth} reads: every
     * request here that completes has its place there ({@link #openSlots}).
     */
    static final int OPEN_SLOTS = 64;
    /** Bytes of a slot: a path of up to ~1000 bytes and its {@code open_how}; a longer path is opened elsewhere. */
    private static final int OPEN_ARGS_SIZE = 1024;
    /** {@code user_data} of an open (with its slot in the low bits) and of a close; a read's is its slot. */
    private static final long OPEN = 1L << 32;
    private static final long CLOSE = 2L << 32;
    private final ByteBuffer openArgs =
            ByteBuffer.allocateDirect(OPEN_SLOTS * OPEN_ARGS_SIZE).order(ByteOrder.nativeOrder());
    private final long openArgsAddress = Pointer.nativeValue(Native.getDirectBufferPointer(openArgs));
    private final IntConsumer[] opens = new IntConsumer[OPEN_SLOTS];
    private final int[] freeOpenSlots = new int[OPEN_SLOTS];
    private final int openSlots;
    private int freeOpenCount;

    /**
     * Reads not done yet that a timeout applies to, oldest {@link Read#start} first (all have the same timeout, so in
     * order of their deadlines): one timer per ring ({@link #sweepDue}) times out those due, instead of one each.
     */
    private Read timedFirst;
    private Read timedLast;
    /** The timer: armed when a read is timed here, due at the first one's deadline or earlier; null when not armed. */
    private ScheduledFuture<?> sweep;

    private LoopRing(IoEventLoop loop, IoUring ring, int queueDepth, int workers, long timeoutNanos, LoopStats stats,
            Consumer<Read> elsewhere) {
        super(loop, "io_uring engine", stats.waiting);
        this.ring = ring;
        this.timeoutNanos = timeoutNanos;
        this.stats = stats;
        this.elsewhere = elsewhere;
        this.workers = workers;
        this.slots = new Read[queueDepth];
        this.freeSlots = new int[queueDepth];
        for (int i = queueDepth - 1; i >= 0; i--) {
            freeSlots[freeCount++] = i;
        }
        // Closes complete only when they fail (IoUring#skipsSuccess, else none is made here).
        openSlots = Math.max(0, Math.min(OPEN_SLOTS, ring.cqEntries() - queueDepth));
        for (int i = openSlots - 1; i >= 0; i--) {
            freeOpenSlots[freeOpenCount++] = i;
        }
    }

    /**
     * Sets up a ring on {@code loop}; call on that loop's thread.
     *
     * @param workers   how many of the reads sent to kernel workers may run (and block) at once
     * @param elsewhere does the reads the kernel keeps refusing; takes over the read's file reference
     */
    static LoopRing create(IoEventLoop loop, int queueDepth, int workers, long timeoutNanos, LoopStats stats,
            Consumer<Read> elsewhere) throws IOException {
        IoUring ring = IoUring.create(queueDepth);
        LoopRing loopRing = new LoopRing(loop, ring, Math.min(queueDepth, ring.sqEntries()), workers, timeoutNanos,
                stats, elsewhere);
        loopRing.watchCompletions(ring::registerEventFd);
        return loopRing;
    }

    /**
     * Takes a read; it waits here, behind those already waiting, while {@code queueDepth} are in flight. Timed from
     * here on (before it can be handed elsewhere, which times it itself), or timed out at once. On the loop.
     */
    void submit(Read read) {
        if (!time(read)) {
            return;
        }
        if (freeCount == 0 || isClosing() || hasWaiting()) {
            enqueue(read);
        } else {
            start(read);
        }
    }

    /**
     * Queues {@code openat2(dirFd, path, {read-only, resolve})} ({@link Syscalls#openat2File}'s flags) for the end
     * of this loop iteration; {@code opened} gets the descriptor or -errno on this loop, from {@link #reap} (or
     * {@code -ECANCELED} if the loop shuts down first, when the kernel may still open it: a descriptor lost then). On
     * the loop.
     *
     * @return false, and {@code opened} is never called, if it cannot be queued: every open slot in use, a path too
     *         long for one, the submission ring full, or the ring closing
     */
    boolean submitOpen(int dirFd, String path, boolean followLinks, long resolve, IntConsumer opened) {
        if (freeOpenCount == 0 || isClosing()) {
            return false;
        }
        int slot = freeOpenSlots[freeOpenCount - 1];
        int offset = slot * OPEN_ARGS_SIZE;
        int how = Syscalls.putOpenat2ReadOnly(openArgs, offset, OPEN_ARGS_SIZE, path, followLinks,
                Syscalls.noAtimeFlag(), resolve);
        if (how < 0) {
            return false;
        }
        long pathAddress = openArgsAddress + offset;
        long howAddress = pathAddress + how;
        if (!roomForOne() || !ring.prepareOpenat2(dirFd, pathAddress, howAddress, OPEN | slot)) {
            return false;
        }
        freeOpenCount--;
        opens[slot] = opened;
        stats.ringOpens.increment();
        flushLater();
        return true;
    }

    /**
     * Queues {@code close(fd)} for the end of this loop iteration; the caller gives the descriptor up. On the loop.
     *
     * @return false if it cannot be queued (the submission ring full, or the ring closing): the caller closes it
     */
    boolean submitClose(int fd) {
        if (isClosing() || !ring.skipsSuccess() || !roomForOne() || !ring.prepareClose(fd, CLOSE)) {
            return false;
        }
        stats.ringCloses.increment();
        flushLater();
        return true;
    }

    private void start(Read read) {
        if (read.result.isDone()) {
            // cancelled while it waited (its client left): not read for nobody; nothing else completes it (a timed-out
            // one leaves the queue as it times out)
            read.abandon(new CancellationException("read cancelled before it started"));
            return;
        }
        ByteBuf buffer;
        long address;
        try {
            buffer = DirectMemory.buffer(read.alloc, read.length);
            address = addressOf(buffer);
        } catch (RuntimeException | Error e) {
            read.abandon(e);
            return;
        }
        read.buffer = buffer; // owned by this ring until the CQE is reaped
        read.address = address;
        read.slot = freeSlots[--freeCount];
        slots[read.slot] = read;
        stats.inFlight.incrementAndGet();
        prepare(read);
    }

    private static long addressOf(ByteBuf buffer) {
        if (buffer.hasMemoryAddress()) {
            return buffer.memoryAddress() + buffer.writerIndex();
        }
        if (!buffer.isDirect() || buffer.nioBufferCount() != 1) {
            buffer.release();
            throw new IllegalStateException("io_uring needs one direct buffer, got " + buffer);
        }
        ByteBuffer nio = buffer.nioBuffer(buffer.writerIndex(), buffer.writableBytes());
        return Pointer.nativeValue(Native.getDirectBufferPointer(nio));
    }

    private void prepare(Read read) {
        if (read.viaWorker && !workersLimited) {
            workersLimited = true;
            try {
                ring.limitWorkers(workers);
            } catch (IOException e) {
                log.debug("io_uring: kernel workers left at the kernel's limit", e);
            }
        }
        int fd = read.file.fd();
        long at = read.offset + read.done;
        long into = read.address + read.done;
        int length = read.length - read.done;
        if (!roomForOne() || !ring.prepareRead(fd, at, into, length, read.slot, read.viaWorker)) {
            freeSlot(read);
            read.handOff();
            elsewhere.accept(read);
            return;
        }
        flushLater();
    }

    /**
     * Makes room for one more request in the submission ring: a full one is first handed to the kernel
     * ({@link #submitNow}). The ring holds every read in flight (queueDepth <= SQ entries), but the opens and closes
     * prepared in this iteration share it. False if that enter failed; one that took less than all leaves the ring
     * full, which the prepare that follows reports.
     */
    private boolean roomForOne() {
        return ring.pendingSubmissions() < ring.sqEntries() || submitNow();
    }

    /**
     * Hands what is prepared to the kernel: at the end of the iteration ({@link #submitPrepared}), or now when the
     * submission ring is full. Whether the enter went through; if not, the SQEs stay queued for the next one (their
     * reads time out if none succeeds).
     */
    private boolean submitNow() {
        try {
            ring.submit(0);
            return true;
        } catch (IOException e) {
            log.warn("io_uring: submission failed, {} SQEs kept for retry", ring.pendingSubmissions(), e);
            return false;
        }
    }

    @Override
    int submitPrepared() {
        submitNow();
        return ring.pendingSubmissions();
    }

    @Override
    void reap() {
        ring.drain(this::complete);
        while (freeCount > 0 && hasWaiting()) {
            start(dequeue());
        }
    }

    private void complete(long userData, int result) {
        if ((userData & OPEN) != 0) {
            int slot = (int) userData;
            IntConsumer opened = opens[slot];
            opens[slot] = null;
            freeOpenSlots[freeOpenCount++] = slot;
            opened.accept(result);
            return;
        }
        if (userData == CLOSE) {
            if (result < 0) { // the descriptor is gone all the same (close(2) frees it even when it reports an error)
                log.debug("io_uring: close failed: {}", Syscalls.describe(-result));
            }
            return;
        }
        Read read = slots[(int) userData];
        if (result == -Syscalls.EINTR || result == -Syscalls.EAGAIN) {
            if (read.result.isDone()) {
                freeSlot(read);
                read.finish(Syscalls.error("io_uring read " + read.file.path(), -result)); // timed out: let it go
            } else if (read.retries++ < MAX_RETRIES) {
                read.viaWorker |= result == -Syscalls.EAGAIN; // a worker may wait where the inline attempt may not
                prepare(read);
            } else {
                freeSlot(read);
                read.handOff();
                elsewhere.accept(read);
            }
            return;
        }
        if (result > 0) {
            read.done += result;
            if (read.done < read.length && !read.result.isDone()) {
                prepare(read); // short read: the rest, in the same slot (not for a read that timed out: it goes)
                return;
            }
        }
        freeSlot(read);
        if (result > 0) {
            if (!read.result.isDone()) { // one that timed out was counted as that, and only as that
                stats.completed.incrementAndGet();
                stats.counters.readDone(read.start);
            }
            read.finish(null);
        } else if (result == 0) {
            read.finish(new EOFException("file shrank below " + (read.offset + read.length)
                    + " bytes while being read: " + read.file.path()));
        } else {
            read.finish(Syscalls.error("io_uring read " + read.file.path(), -result));
        }
    }

    private void freeSlot(Read read) {
        slots[read.slot] = null;
        freeSlots[freeCount++] = read.slot;
        stats.inFlight.decrementAndGet();
    }

    /**
     * Has {@code read} timed out when the read timeout since its {@link Read#start} is over. False if that already
     * went by on its way to the ring (a busy loop, the hop to the private one): then it failed, counted as timed out,
     * without reaching the kernel, so that no read gets more than one read timeout in all.
     */
    private boolean time(Read read) {
        if (timeoutNanos <= 0 || read.result.isDone()) {
            return true;
        }
        long now = System.nanoTime();
        long remaining = timeoutNanos - (now - read.start);
        if (remaining <= 0) {
            stats.counters.timedOut.increment();
            read.abandon(timedOut(read));
            return false;
        }
        Read before = timedLast;
        while (before != null && before.start - read.start > 0) { // one that started earlier came later: rare
            before = before.timedPrevious;
        }
        read.timedBy = this;
        read.timedPrevious = before;
        read.timedNext = before == null ? timedFirst : before.timedNext;
        if (read.timedNext == null) {
            timedLast = read;
        } else {
            read.timedNext.timedPrevious = read;
        }
        if (before == null) {
            timedFirst = read;
            if (sweep != null && sweep.getDelay(TimeUnit.NANOSECONDS) > remaining) { // armed for a later deadline
                sweep.cancel(false);
                sweep = null;
            }
        } else {
            before.timedNext = read;
        }
        if (sweep == null) {
            arm(Math.max(0, timeoutNanos - (now - timedFirst.start)));
        }
        return true;
    }

    /** Takes {@code read} out of the reads timed here (it is done, or timed out). */
    private void untime(Read read) {
        read.timedBy = null;
        if (read.timedPrevious == null) {
            timedFirst = read.timedNext;
        } else {
            read.timedPrevious.timedNext = read.timedNext;
        }
        if (read.timedNext == null) {
            timedLast = read.timedPrevious;
        } else {
            read.timedNext.timedPrevious = read.timedPrevious;
        }
        read.timedPrevious = null;
        read.timedNext = null;
    }

    /** Arms the timer to sweep in {@code delayNanos}. */
    private void arm(long delayNanos) {
        sweep = loop().schedule(this::sweepDue, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** The timer's task. */
    private void sweepDue() {
        sweep = null;
        sweep(System.nanoTime());
    }

    /** Times out the reads whose deadline is over at {@code now}, and arms the timer for the next one if need be. */
    void sweep(long now) {
        while (timedFirst != null) {
            long remaining = timeoutNanos - (now - timedFirst.start);
            if (remaining > 0) {
                if (sweep == null) { // else armed already (by a read that those timed out started, say)
                    arm(remaining);
                }
                return;
            }
            Read due = timedFirst;
            untime(due);
            timeout(due); // may start other reads: they are timed here too, after those already here
        }
    }

    /** Times {@code read} out: a waiting one leaves the queue; an in-flight one keeps its buffer until its CQE. */
    void timeout(Read read) {
        if (read.result.isDone()) {
            return;
        }
        stats.counters.timedOut.increment();
        TimeoutException timeout = timedOut(read);
        if (read.slot < 0 && removeWaiting(read)) {
            read.abandon(timeout);
        } else {
            read.result.completeExceptionally(timeout);
        }
    }

    private TimeoutException timedOut(Read read) {
        return new TimeoutException("io_uring read of " + read.file.path() + " not done after "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
    }

    @Override
    int busy() {
        return slots.length - freeCount + openSlots - freeOpenCount;
    }

    @Override
    void abandon(Read read, IOException why) {
        read.abandon(why);
    }

    /** Closes the ring, after handing the kernel what is still prepared: closes queued in this iteration. */
    @Override
    void free() {
        if (sweep != null) {
            sweep.cancel(false);
            sweep = null;
        }
        if (ring.pendingSubmissions() > 0) {
            try {
                ring.submit(0);
            } catch (IOException e) {
                log.warn("io_uring: {} requests not submitted before the ring closed", ring.pendingSubmissions(), e);
            }
        }
        ring.close();
    }

    /**
     * Reads abandoned in flight as their loop shut down, with their buffers and files: held here for good. Only
     * dropped from its slot, a read was unreachable, and a buffer of {@code ByteBuffer.allocateDirect} (an unpooled
     * one where Netty keeps a cleaner) was freed by the garbage collector while a kernel worker could still write it.
     */
    private static final Queue<Read> HELD_FOR_GOOD = new ConcurrentLinkedQueue<>();

    /**
     * Fails the reads in flight: their stages complete, while their buffers and files stay held for good
     * ({@link #HELD_FOR_GOOD}), as the class comment says (the kernel may still write a buffer after the ring is
     * gone).
     */
    @Override
    void abandonInFlight(IOException why) {
        for (int slot = 0; slot < openSlots; slot++) {
            IntConsumer opened = opens[slot];
            if (opened != null) {
                opens[slot] = null;
                freeOpenSlots[freeOpenCount++] = slot;
                opened.accept(-Syscalls.ECANCELED);
            }
        }
        for (int slot = 0; slot < slots.length; slot++) {
            Read read = slots[slot];
            if (read != null) {
                slots[slot] = null;
                HELD_FOR_GOOD.add(read);
                stats.inFlight.decrementAndGet();
                read.stopTiming();
                read.result.completeExceptionally(why);
            }
        }
    }

    /** One read, from {@link IoUringEngine#read} to its stage's completion. */
    static final class Read {
        final OpenFile file;
        final long offset;
        final int length;
        final ByteBufAllocator alloc;
        /** The allocator the caller gave, for a read done {@link #elsewhere} ({@link #alloc} may wrap it). */
        final ByteBufAllocator callersAlloc;
        final CompletableFuture<ByteBuf> result;
        boolean viaWorker;
        /** How it meets a full queue if it goes to the pool instead ({@link IoUringEngine#readByPool}). */
        FileEngine.WhenFull whenFull = FileEngine.WhenFull.REFUSE;
        /** When it was asked for ({@link System#nanoTime}): its latency and its read timeout count from here. */
        final long start;
        ByteBuf buffer;
        long address;
        int slot = -1;
        int done;
        int retries;
        /** The ring whose timer times it out while it is not done ({@link LoopRing#time}), or null. */
        LoopRing timedBy;
        Read timedPrevious;
        Read timedNext;

        /**
         * Takes over one reference to {@code file}.
         *
         * @param alloc     where the ring's buffer comes from
         * @param viaWorker send it straight to a kernel worker ({@link IoUring#prepareRead})
         */
        Read(OpenFile file, long offset, int length, ByteBufAllocator alloc, ByteBufAllocator callersAlloc,
                CompletableFuture<ByteBuf> result, boolean viaWorker) {
            this(file, offset, length, alloc, callersAlloc, result, viaWorker, System.nanoTime());
        }

        /** As above, asked for at {@code start} ({@link System#nanoTime}). */
        Read(OpenFile file, long offset, int length, ByteBufAllocator alloc, ByteBufAllocator callersAlloc,
                CompletableFuture<ByteBuf> result, boolean viaWorker, long start) {
            this.start = start;
            this.file = file;
            this.offset = offset;
            this.length = length;
            this.alloc = alloc;
            this.callersAlloc = callersAlloc;
            this.result = result;
            this.viaWorker = viaWorker;
        }

        /** The kernel is done with the buffer: hand it to the caller, or release it. */
        void finish(Throwable failure) {
            stopTiming();
            file.release();
            if (failure == null) {
                buffer.writerIndex(buffer.writerIndex() + length);
                if (!result.complete(buffer)) {
                    buffer.release(); // the caller gave up (timeout): nobody else holds it
                }
            } else {
                buffer.release();
                result.completeExceptionally(failure);
            }
        }

        /** The kernel is done with the buffer and the read goes elsewhere: the buffer goes, the file stays held. */
        void handOff() {
            stopTiming();
            buffer.release();
            buffer = null;
        }

        /** Fails a read the kernel never saw (no buffer yet). */
        void abandon(Throwable failure) {
            stopTiming();
            file.release();
            result.completeExceptionally(failure);
        }

        private void stopTiming() {
            if (timedBy != null) {
                timedBy.untime(this);
            }
        }
    }
}
