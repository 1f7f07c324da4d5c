package io.edge.aio.debug;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Objects;

/**
 * An allocator for hunting buffers used after their release: its direct buffers (from {@code directBuffer}, and
 * from {@code buffer} and {@code ioBuffer} where Netty prefers direct memory) are unpooled, and when one's count
 * reaches zero its whole memory is filled with {@link #POISON} and held in a {@link BufferQuarantine} instead
 * of being freed. A write into it while it is held (the kernel or a pool thread finishing a read late) is
 * found when it leaves the quarantine; a send from it after its release shows the client {@code 0xDB} bytes
 * instead of another response's. Heap buffers come from the delegate unchanged.
 *
 * <p>A buffer that grows frees its old memory at once, unpoisoned: the engines' read buffers never grow.
 */
public final class PoisoningAllocator extends AbstractByteBufAllocator {

    /**
     * The byte released memory is filled with: {@code 0xDB} ("dead buffer"), neither zero (fresh pages) nor
     * ASCII (text files, headers), so both a late write and a send of released memory stand out. A late write
     * of this very byte goes unnoticed.
     */
    public static final byte POISON = (byte) 0xDB;

    private final ByteBufAllocator delegate;
    private final BufferQuarantine quarantine;

    /** Direct buffers poisoned into {@code quarantine} on release; heap buffers from {@code delegate}. */
    public PoisoningAllocator(ByteBufAllocator delegate, BufferQuarantine quarantine) {
        super(true);
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.quarantine = Objects.requireNonNull(quarantine, "quarantine");
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(new PoisonedBuffer(this, initialCapacity, maxCapacity, quarantine));
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return delegate.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }
}
