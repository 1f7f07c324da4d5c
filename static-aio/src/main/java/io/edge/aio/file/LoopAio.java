package io.edge.aio.file;

import io.edge.aio.linux.LinuxAio;
import io.edge.aio.linux.ShmSlab;
import io.edge.aio.linux.Syscalls;
import io.netty.channel.IoEventLoop;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One kernel AIO context and one {@code /dev/shm} slab bound to one epoll event loop ({@link LoopContext}),
 * created on and only ever touched by that loop's thread. Reads go to the kernel as O_DIRECT {@code pread}s
 * into slab slots; each iocb signals the loop's eventfd ({@code IOCB_FLAG_RESFD}) when done.
 *
 * <pre>
 *  slab: | slot 0 | slot 1 | ... | slot n-1 |      slot = chunk rounded up to ALIGNMENT, plus ALIGNMENT
 *  a piece reads the aligned cover of its range:  [alignDown(offset), alignUp(offset + length))
 * </pre>
 *
 * <p>States of a slot: {@code FREE} -> {@code IN_FLIGHT} (a piece's read is with the kernel; at most
 * {@code queueDepth} at once) -> {@code HELD} (its bytes are being copied out, or a {@link SlabRegion} refers
 * to them) -> hole punched -> {@code FREE}. Invariants: a slot is written by the kernel only while
 * {@code IN_FLIGHT}; it returns to {@code FREE} only after {@code fallocate(PUNCH_HOLE)} detached its pages,
 * so a socket that {@code sendfile}d them keeps the bytes it was given; a slot whose punch failed is never
 * reused. A piece that finds the queue depth reached waits here (FIFO), never blocking; one that finds the
 * depth not reached but no free slot, every other slot held by regions their clients have not taken yet, is
 * handed back ({@link Unread#NO_SLOT}) to be read another way: slow clients never hold up other reads; so is one
 * whose slot's pages the slab's full tmpfs could not give ({@link Unread#NO_ROOM}), and so is one the kernel could not
 * take without waiting ({@link Unread#WOULD_WAIT}): reads are submitted with {@code RWF_NOWAIT}, as {@code io_submit}
 * otherwise writes back the range's dirty pages before an O_DIRECT read, or waits for a writer holding the file, with
 * the event loop. (It may still wait for a free request of a full device queue: ext4 and xfs do not pass the flag on
 * to the block layer as of Linux 6.x.)
 */
final class LoopAio extends LoopContext<LoopAio.Piece> {

    static final int ALIGNMENT = 4096;
    /** The smallest logical block a block device has: an O_DIRECT read not at the end of a file ends on one. */
    private static final int SECTOR = 512;
    private static final Logger log = LoggerFactory.getLogger(LoopAio.class);

    private final LinuxAio aio;
    private final ShmSlab slab;
    private final long slotSize;
    /** How far apart slots start in the slab: {@link #slotSize} in whole pages ({@link #slotStride}). */
    private final long slotStride;
    private final int queueDepth;
    private final LinuxAioSendfileEngine.Stats stats;
    private final Piece[] inFlight;
    private final int[] freeSlots;
    private int freeCount;
    private int inFlightCount;
    private int lostSlots;
    private int eventFd = -1;

    private LoopAio(IoEventLoop loop, LinuxAio aio, ShmSlab slab, long slotSize, int slots, int queueDepth,
            LinuxAioSendfileEngine.Stats stats) {
        super(loop, "linux-aio-sendfile engine", stats.waiting);
        this.aio = aio;
        this.slab = slab;
        this.slotSize = slotSize;
        this.slotStride = slotStride(slotSize, Syscalls.pageSize());
        this.queueDepth = queueDepth;
        this.stats = stats;
        this.inFlight = new Piece[slots];
        this.freeSlots = new int[slots];
        for (int i = slots - 1; i >= 0; i--) {
            freeSlots[freeCount++] = i;
        }
    }

    /** Bytes a slot takes for pieces of up to {@code chunk} bytes at any offset. */
    static long slotSize(long chunk) {
        return alignUp(chunk) + ALIGNMENT;
    }

    /**
     * How far apart slots of {@code slotSize} bytes start in the slab, on a kernel of {@code pageSize}-byte pages:
     * a whole number of pages. A hole punched in tmpfs detaches whole pages only and zeroes the parts of pages at
     * its ends in place: a slot sharing a page with its neighbour (16 or 64 KiB pages: arm64 kernels) would zero
     * bytes a socket still sends from that page, and the neighbour's next read would write into it.
     */
    static long slotStride(long slotSize, int pageSize) {
        return (slotSize + pageSize - 1) / pageSize * pageSize;
    }

    static long alignDown(long position) {
        return position & -ALIGNMENT;
    }

    static long alignUp(long position) {
        return (position + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /** Sets up the AIO context, the slab and the eventfd on {@code loop}; call on that loop's thread. */
    static LoopAio create(IoEventLoop loop, int queueDepth, int slots, long slotSize, Path slabDir,
            LinuxAioSendfileEngine.Stats stats) throws IOException {
        LinuxAio aio = LinuxAio.create(queueDepth, slots);
        ShmSlab slab;
        try {
            slab = ShmSlab.create(slabDir, slotStride(slotSize, Syscalls.pageSize()) * slots);
        } catch (IOException | RuntimeException e) {
            aio.close();
            throw e;
        }
        LoopAio context = new LoopAio(loop, aio, slab, slotSize, slots, queueDepth, stats);
        context.watchCompletions(eventFd -> context.eventFd = eventFd);
        return context;
    }

    /** Takes a piece: it starts now, or waits for a free slot under the queue depth. Call on the loop. */
    void submit(Piece piece) {
        enqueue(piece);
        startWaiting();
    }

    private void startWaiting() {
        while (inFlightCount < queueDepth && hasWaiting()) {
            Piece piece = dequeue();
            if (!piece.wanted()) {
                piece.failed(new IOException("read abandoned before it started"));
                continue;
            }
            if (freeCount == 0) {
                // Below the queue depth, so regions hold every slot the kernel is not reading into: sockets
                // that do not take their bytes (slow clients). Waiting for them could take any time.
                piece.notRead(Unread.NO_SLOT);
                continue;
            }
            piece.slot = freeSlots[--freeCount];
            inFlight[piece.slot] = piece;
            inFlightCount++;
            stats.slotsHeld.incrementAndGet();
            stats.highestInFlight.accumulateAndGet(stats.inFlight.incrementAndGet(), Math::max);
            prepare(piece);
        }
    }

    /**
     * Queues the piece's read (the rest of its cover) for the next submission; without waiting in {@code io_submit}
     * ({@code RWF_NOWAIT}) unless the file's file system refused that.
     */
    private void prepare(Piece piece) {
        piece.noWait = !piece.file.noWaitRefused();
        aio.prepareRead(piece.slot, piece.file.fd(), slab.address() + slotOffset(piece.slot) + piece.done,
                piece.coverLength - piece.done, piece.coverStart + piece.done, eventFd, piece.noWait);
        flushLater();
    }

    @Override
    int submitPrepared() {
        aio.submit(this::complete);
        return aio.pendingSubmissions();
    }

    @Override
    void reap() {
        aio.drain(this::complete);
        startWaiting();
    }

    private void complete(long userData, long result) {
        int slot = (int) userData;
        Piece piece = inFlight[slot];
        if (result == -Syscalls.EINTR || result == -Syscalls.EAGAIN && !piece.noWait) {
            prepare(piece);
            return;
        }
        if (result == -Syscalls.EINVAL && piece.endedUnaligned()) {
            // A read on from a short read's end that no sector boundary holds: only the end of the file ends an
            // O_DIRECT read there (it shrank since it was opened), and a read from it is refused for its alignment,
            // not for O_DIRECT. The end, as a read that returns nothing says it.
            result = 0;
        }
        if (piece.noWait && (result == -Syscalls.EOPNOTSUPP || result == -Syscalls.EINVAL)) {
            // The flag refused, by io_submit or as the read's completion: a file system or block device that cannot
            // say it would wait (EOPNOTSUPP; tmpfs), or a kernel before 4.13, whose iocb had the field reserved
            // (EINVAL; also what a file system refusing the O_DIRECT read answers, and then again without the flag).
            piece.file.refuseNoWait();
            prepare(piece);
            return;
        }
        if (result > 0) {
            piece.done += (int) result;
            if (piece.readsOn()) {
                prepare(piece); // the rest, in the same slot
                return;
            }
        }
        inFlight[slot] = null;
        inFlightCount--;
        stats.inFlight.decrementAndGet();
        if (result < 0) {
            release(slot);
            if (result == -Syscalls.EAGAIN) {
                piece.notRead(Unread.WOULD_WAIT); // RWF_NOWAIT: the read would have had io_submit wait, on this loop
            } else if (result == -Syscalls.EINVAL) {
                piece.notRead(Unread.REFUSED);
            } else if (result == -Syscalls.EFAULT) {
                piece.notRead(Unread.NO_ROOM); // the slab's pages could not be had: its tmpfs is full
            } else {
                piece.failed(Syscalls.error("kernel AIO read of " + piece.file.path(), (int) -result));
            }
            return;
        }
        if (piece.wanted()) {
            stats.completed.incrementAndGet(); // not one whose read timed out: that is counted as timed out only
            piece.loaded(this, slot, piece.done); // the piece owns the slot now and releases it
        } else {
            release(slot);
            piece.failed(new IOException("read abandoned"));
        }
    }

    /** Where {@code slot} starts in the slab. */
    long slotOffset(int slot) {
        return slot * slotStride;
    }

    /** The slab as a file, for regions. */
    FileChannel slabChannel() {
        return slab.channel();
    }

    /** {@code length} bytes of the slab at {@code offset}, to copy from. */
    ByteBuffer slabView(long offset, int length) {
        return slab.view(offset, length);
    }

    /** Punches {@code slot}'s pages out of the slab and frees it for the next piece. Call on the loop. */
    void release(int slot) {
        stats.slotsHeld.decrementAndGet();
        if (isDestroyed()) {
            return;
        }
        try {
            slab.punchHole(slotOffset(slot), slotStride);
            stats.holesPunched.incrementAndGet();
            freeSlots[freeCount++] = slot;
        } catch (IOException e) {
            // Reusing it could rewrite bytes a socket still sends: leave it out for good.
            lostSlots++;
            log.error("linux-aio-sendfile: slab slot {} not reused ({} lost)", slot, lostSlots, e);
        }
        startWaiting();
        closeIfIdle();
    }

    /** {@link #release} from any thread; once the loop is gone the slab went with it. */
    void releaseFromAnyThread(int slot) {
        if (loop().inEventLoop()) {
            release(slot);
            return;
        }
        try {
            loop().execute(() -> release(slot));
        } catch (RejectedExecutionException e) {
            stats.slotsHeld.decrementAndGet(); // the loop shut down and freed the slab: nothing is held any more
        }
    }

    @Override
    int busy() {
        return inFlight.length - freeCount - lostSlots;
    }

    @Override
    void abandon(Piece piece, IOException why) {
        piece.failed(why);
    }

    /** {@code io_destroy} waits for reads in flight, so the slab can be unmapped after it. */
    @Override
    void free() {
        aio.close();
        slab.close();
    }

    /**
     * Fails the pieces whose reads were with the kernel (or prepared for it) when the loop shut down: {@link #free}
     * waited for those reads, so each piece's owner may give back its file at once; their slots went with the slab.
     */
    @Override
    void abandonInFlight(IOException why) {
        for (int slot = 0; slot < inFlight.length; slot++) {
            Piece piece = inFlight[slot];
            if (piece != null) {
                inFlight[slot] = null;
                inFlightCount--;
                stats.inFlight.decrementAndGet();
                stats.slotsHeld.decrementAndGet();
                piece.failed(why);
            }
        }
    }

    private static long checkedCover(long length) {
        if (length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cover of " + length + " bytes");
        }
        return length;
    }

    /**
     * Why a piece was not read by the kernel into a slot, to be read some other way (the thread pool). Where the parts of
     * one read meet several, the first of them in this order is the read's.
     */
    enum Unread {
        /**
         * The kernel refused the O_DIRECT read (EINVAL): a file system that wants the rest aligned otherwise, or that
         * refuses O_DIRECT reads of this file.
         */
        REFUSED,
        /**
         * The piece never started: every slot not being read into is held by a region a client has not taken yet;
         * rather than wait for slow clients.
         */
        NO_SLOT,
        /**
         * The kernel would have had to wait to take the read (EAGAIN under {@code RWF_NOWAIT}): dirty pages of the
         * range to write back first, a writer holding the file (a full device queue where the file system passes the
         * flag on to the block layer); rather than have {@code io_submit} wait on the event loop.
         */
        WOULD_WAIT,
        /**
         * The kernel could not have the slot's pages (EFAULT): the slab's file system is full, as a tmpfs smaller than
         * the slots in use is (Docker's 64 MiB {@code /dev/shm}; the slab is sparse, so no set-up finds it).
         */
        NO_ROOM
    }

    /**
     * One aligned read into one slot, from {@link #submit} to one of {@link #loaded}, {@link #failed} or
     * {@link #notRead}, each called once on the loop. The piece's owner holds a reference to {@link #file} (its
     * O_DIRECT descriptor) until then.
     */
    abstract static class Piece {
        final OpenFile file;
        final long coverStart;
        final int coverLength;
        /** Bytes of the cover up to the end of the range. */
        private final int needed;
        int slot = -1;
        int done;
        /** Its read was last submitted with {@code RWF_NOWAIT}. */
        boolean noWait;

        /** A piece for bytes {@code [from, to)} of {@code file}: it reads their aligned cover. */
        Piece(OpenFile file, long from, long to) {
            this.file = file;
            this.coverStart = alignDown(from);
            this.coverLength = (int) checkedCover(alignUp(to) - coverStart);
            this.needed = (int) (to - coverStart);
        }

        /**
         * Whether a read that has {@link #done} bytes of the cover so far goes on for the rest: while the piece's range
         * is not all read. The kernel may end an O_DIRECT read short of it with the file going on (NFS or a FUSE server
         * answering short, a file system on 512-byte sectors ending a read on one); only a read that returns nothing
         * says the file ended (it shrank: the range is past its end). Where the file system wants the rest aligned
         * otherwise, the kernel refuses it (EINVAL) and the piece is read another way ({@link Unread#REFUSED}).
         */
        boolean readsOn() {
            return done < needed;
        }

        /**
         * Whether an earlier read of the piece ended short off a 512-byte boundary, where a block device's O_DIRECT read
         * ends only at the end of the file; a read on from there is refused (EINVAL) for its alignment.
         */
        boolean endedUnaligned() {
            return done > 0 && (done & (SECTOR - 1)) != 0;
        }

        /** False once the caller gave up (its stage completed): the piece is not started, or its slot goes back. */
        abstract boolean wanted();

        /**
         * The kernel read {@code done} bytes from {@code coverStart} into {@code slot}: fewer than the cover at end
         * of file, fewer than the range where the file shrank. The piece owns the slot now and gives it back with {@link LoopAio#release}.
         */
        abstract void loaded(LoopAio context, int slot, int done);

        /** The read failed or never started; no slot is held. */
        abstract void failed(Throwable cause);

        /** The piece was not read here, for {@code why}; no slot is held. It is read some other way. */
        abstract void notRead(Unread why);
    }
}
