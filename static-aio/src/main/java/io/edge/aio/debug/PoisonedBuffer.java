package io.edge.aio.debug;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A {@link PoisoningAllocator} buffer: when its count reaches zero its memory is not freed but handed, still
 * allocated, to its {@link BufferQuarantine}, which poisons it, later checks it, and only then frees it. It has a
 * memory address, as the pooled buffers it stands in for, so reads take the same path ({@code pread} or the
 * kernel straight into the address).
 */
final class PoisonedBuffer extends UnpooledUnsafeDirectByteBuf {

    private static final int PAGE = 4096;
    private static final ByteBuffer POISON_PAGE = poisonPage();

    private final BufferQuarantine quarantine;
    /** All of the buffer's memory: still reachable here once the count is zero, when the buffer refuses access. */
    private ByteBuffer memory;

    PoisonedBuffer(ByteBufAllocator alloc, int initialCapacity, int maxCapacity, BufferQuarantine quarantine) {
        super(alloc, initialCapacity, maxCapacity);
        this.quarantine = quarantine;
        this.memory = nioBuffer(0, capacity());
    }

    private static ByteBuffer poisonPage() {
        byte[] page = new byte[PAGE];
        Arrays.fill(page, PoisoningAllocator.POISON);
        return ByteBuffer.wrap(page).asReadOnlyBuffer();
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        super.capacity(newCapacity); // frees the old memory at once (see PoisoningAllocator)
        memory = nioBuffer(0, capacity());
        return this;
    }

    /** The count reached zero: the memory goes to the quarantine, still allocated. */
    @Override
    protected void deallocate() {
        quarantine.admit(this);
    }

    /** Bytes of memory held. */
    int size() {
        return memory.capacity();
    }

    /** Fills the whole memory with {@link PoisoningAllocator#POISON}. */
    void poison() {
        for (int at = 0; at < memory.capacity(); at += PAGE) {
            memory.put(at, POISON_PAGE, 0, Math.min(PAGE, memory.capacity() - at));
        }
    }

    /** The offset of the first byte that is no longer the poison, or -1 if every byte still is. */
    int firstChange() {
        for (int at = 0; at < memory.capacity(); at += PAGE) {
            int length = Math.min(PAGE, memory.capacity() - at);
            int mismatch = memory.slice(at, length).mismatch(POISON_PAGE.slice(0, length));
            if (mismatch >= 0) {
                return at + mismatch;
            }
        }
        return -1;
    }

    /** Frees the memory; called once, as the buffer leaves the quarantine. */
    void free() {
        memory = null;
        super.deallocate();
    }
}
