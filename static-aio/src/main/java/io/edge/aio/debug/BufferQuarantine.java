package io.edge.aio.debug;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where released {@link PoisoningAllocator} buffers wait, poisoned, before their memory is freed: a FIFO bounded
 * by count and by bytes (the newest buffer is always held, even one larger than the byte bound). A buffer leaves
 * when newer ones push it out or the quarantine closes; it is then checked, and a byte that is no longer
 * {@link PoisoningAllocator#POISON} means something wrote into the memory after its release: that is counted
 * ({@link #writesAfterRelease()}) and logged as an error naming the buffer's size and the first changed offset
 * (the first {@value #LOGGED}; later ones are only counted). Then the memory is freed.
 *
 * <p>States: {@code OPEN} (holding within the bounds) -> {@code CLOSED} ({@link #close} checked and freed every
 * held buffer; one released later is checked and freed at once). Thread-safe: buffers are released on event
 * loops and pool threads; poisoning and checking run outside the lock.
 */
public final class BufferQuarantine implements AutoCloseable {

    private static final int LOGGED = 10;
    private static final Logger log = LoggerFactory.getLogger(BufferQuarantine.class);

    private final int maxBuffers;
    private final long maxBytes;
    private final AtomicLong writesAfterRelease = new AtomicLong();
    private final ArrayDeque<PoisonedBuffer> held = new ArrayDeque<>(); // oldest first; guarded by this
    private long heldBytes; // guarded by this
    private boolean closed; // guarded by this

    /**
     * @param maxBuffers  released buffers held at most
     * @param maxBytes    bytes of released buffers held at most
     */
    public BufferQuarantine(int maxBuffers, long maxBytes) {
        if (maxBuffers < 1) {
            throw new IllegalArgumentException("maxBuffers: " + maxBuffers + " (expected: >= 1)");
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 1)");
        }
        this.maxBuffers = maxBuffers;
        this.maxBytes = maxBytes;
    }

    /** Takes a buffer whose count reached zero: poisons and holds it, and lets out what no longer fits. */
    void admit(PoisonedBuffer buffer) {
        buffer.poison();
        for (PoisonedBuffer leaving : hold(buffer)) {
            checkAndFree(leaving);
        }
    }

    /** Holds {@code buffer}; returns the oldest buffers that no longer fit, or once closed {@code buffer} itself. */
    private synchronized List<PoisonedBuffer> hold(PoisonedBuffer buffer) {
        if (closed) {
            return List.of(buffer);
        }
        held.addLast(buffer);
        heldBytes += buffer.size();
        List<PoisonedBuffer> leaving = new ArrayList<>();
        while (held.size() > maxBuffers || (heldBytes > maxBytes && held.size() > 1)) {
            PoisonedBuffer oldest = held.removeFirst();
            heldBytes -= oldest.size();
            leaving.add(oldest);
        }
        return leaving;
    }

    private void checkAndFree(PoisonedBuffer buffer) {
        int changed = buffer.firstChange();
        if (changed >= 0) {
            long count = writesAfterRelease.incrementAndGet();
            if (count <= LOGGED) {
                log.error("a released {}-byte buffer was written while poisoned: first changed byte at offset {} "
                        + "(something wrote into memory it no longer owned){}", buffer.size(), changed,
                        count == LOGGED ? " (further ones are counted, not logged)" : "");
            }
        }
        buffer.free();
    }

    /** Released buffers found written to when they left the quarantine, so far. */
    public long writesAfterRelease() {
        return writesAfterRelease.get();
    }

    /** Released buffers held now. */
    public synchronized int heldBuffers() {
        return held.size();
    }

    /** Bytes of released buffers held now. */
    public synchronized long heldBytes() {
        return heldBytes;
    }

    /** Checks and frees every held buffer; buffers released later are checked and freed at once. Idempotent. */
    @Override
    public void close() {
        for (PoisonedBuffer leaving : closeAndTakeAll()) {
            checkAndFree(leaving);
        }
    }

    private synchronized List<PoisonedBuffer> closeAndTakeAll() {
        closed = true;
        List<PoisonedBuffer> all = new ArrayList<>(held);
        held.clear();
        heldBytes = 0;
        return all;
    }
}
