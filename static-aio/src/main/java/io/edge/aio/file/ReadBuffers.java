package io.edge.aio.file;

import io.edge.aio.StaticIoSettings;
import io.edge.aio.debug.BufferQuarantine;
import io.edge.aio.debug.PoisoningAllocator;
import io.netty.buffer.ByteBufAllocator;

/**
 * Where an engine's reads take their buffers: the caller's allocator, or with
 * {@code static.poison-released-buffers} a {@link PoisoningAllocator} over it, whose released buffers wait
 * poisoned in the engine's {@link BufferQuarantine}, so that a buffer written by the kernel or a pool thread after
 * its release is caught. Owned by the engine and closed with it.
 */
final class ReadBuffers implements AutoCloseable {

    /** The last 256 reads, or 16 MiB of them: enough for a late write to land while its buffer is still held. */
    static final int QUARANTINE_BUFFERS = 256;
    static final long QUARANTINE_BYTES = 16 << 20;

    /** Buffers straight from the caller's allocator. */
    static final ReadBuffers CALLERS = new ReadBuffers(null);

    private final BufferQuarantine quarantine; // null: the caller's allocator

    private ReadBuffers(BufferQuarantine quarantine) {
        this.quarantine = quarantine;
    }

    /** What {@code settings.poisonReleasedBuffers()} asks for. */
    static ReadBuffers of(StaticIoSettings settings) {
        return settings.poisonReleasedBuffers() ? poisoned() : CALLERS;
    }

    /** Buffers from a poisoning allocator over the caller's, quarantined in a quarantine of their own. */
    static ReadBuffers poisoned() {
        return new ReadBuffers(new BufferQuarantine(QUARANTINE_BUFFERS, QUARANTINE_BYTES));
    }

    /** The allocator a read given {@code alloc} takes its buffer from. */
    ByteBufAllocator allocator(ByteBufAllocator alloc) {
        return quarantine == null ? alloc : new PoisoningAllocator(alloc, quarantine);
    }

    /** Released buffers found written to so far; 0 unless poisoned. */
    long writesAfterRelease() {
        return quarantine == null ? 0 : quarantine.writesAfterRelease();
    }

    /** Checks and frees the quarantined buffers. */
    @Override
    public void close() {
        if (quarantine != null) {
            quarantine.close();
        }
    }
}
