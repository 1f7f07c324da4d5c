package io.edge.core.fastcgi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * A request body held in memory ({@link SpooledBody}): its parts' bytes copied, once each, behind one another into
 * heap blocks of at most {@code blockSize} bytes, never moved again. A composite buffer of the parts, which past its
 * most components (1024) copied all it held into one new buffer, copied a 64 MiB body of 8 KiB parts eight times over
 * (288 MiB more) on the event loop. On the heap, so that a body arriving slowly pins none of the direct buffers its
 * parts were read into.
 *
 * <p>Blocks grow with the body (each new one as large as the body so far, up to {@code blockSize}): a small body holds
 * little more than its bytes, a large one blocks of one FastCGI record each.
 *
 * <p>Confined to the client's event loop. Owns its blocks until {@link #release} or {@link #takeAll}.
 */
final class HeapBlocks {

    private final ByteBufAllocator alloc;
    private final int blockSize;
    private final List<ByteBuf> blocks = new ArrayList<>();
    private long bytes;

    /** Holds bytes in heap blocks from {@code alloc} of at most {@code blockSize} bytes each. */
    HeapBlocks(ByteBufAllocator alloc, int blockSize) {
        this.alloc = alloc;
        this.blockSize = blockSize;
    }

    /**
     * Copies {@code part}'s bytes behind those held and releases it, also when a block cannot be had (out of memory:
     * the failure goes on, the part does not stay held).
     */
    void add(ByteBuf part) {
        try {
            while (part.isReadable()) {
                ByteBuf last = blocks.isEmpty() ? null : blocks.get(blocks.size() - 1);
                if (last == null || !last.isWritable()) {
                    int size = nextBlockSize(bytes, part.readableBytes());
                    last = alloc.heapBuffer(size, size);
                    blocks.add(last);
                }
                int copied = Math.min(part.readableBytes(), last.writableBytes());
                last.writeBytes(part, copied);
                bytes += copied;
            }
        } finally {
            part.release();
        }
    }

    /** A new block's size, {@code held} bytes held and {@code remaining} of a part to go: as large as the body so far. */
    private int nextBlockSize(long held, int remaining) {
        return (int) Math.min(blockSize, Math.max(remaining, held));
    }

    /**
     * The heap {@link #add} takes for a part of {@code more} bytes: the capacity of the blocks it makes, what a budget of
     * the heap bodies hold must count (a new block is as large as the body so far: one byte past a block's edge takes
     * nearly as much again as the bytes held).
     */
    long growthFor(int more) {
        long free = blocks.isEmpty() ? 0 : blocks.get(blocks.size() - 1).writableBytes();
        long held = bytes + Math.min(free, more);
        long growth = 0;
        for (long left = more - free; left > 0; ) {
            int size = nextBlockSize(held, (int) left);
            growth += size;
            held += Math.min(left, size);
            left -= size;
        }
        return growth;
    }

    /** Bytes held. */
    long bytes() {
        return bytes;
    }

    /** How many blocks hold them. */
    int blocks() {
        return blocks.size();
    }

    /** The bytes of block {@code index}, in a duplicate the caller owns; the block stays held here. */
    ByteBuf retainedBlock(int index) {
        return blocks.get(index).retainedDuplicate();
    }

    /** All the bytes held, in one composite of the blocks (no copy) the caller owns from now on; none are held here. */
    ByteBuf takeAll() {
        CompositeByteBuf all = alloc.compositeHeapBuffer(Math.max(2, blocks.size()));
        all.addComponents(true, blocks);
        blocks.clear();
        bytes = 0;
        return all;
    }

    /** Drops the blocks. Idempotent. */
    void release() {
        blocks.forEach(ByteBuf::release);
        blocks.clear();
        bytes = 0;
    }
}
