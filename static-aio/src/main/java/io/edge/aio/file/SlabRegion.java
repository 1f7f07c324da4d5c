package io.edge.aio.file;

import io.netty.channel.DefaultFileRegion;

/**
 * Bytes a kernel AIO read left in a slab slot, sent with {@code sendfile} from the slab file. Holds the slot:
 * deallocation (after the write, or on release) gives it back to its {@link LoopAio}, which punches the
 * slot's pages out before reusing it, instead of closing the slab's channel.
 */
final class SlabRegion extends DefaultFileRegion {

    private final LoopAio owner;
    private final int slot;

    /** Takes over {@code slot} of {@code owner}; {@code position} is an offset in the slab. */
    SlabRegion(LoopAio owner, int slot, long position, long count) {
        super(owner.slabChannel(), position, count);
        this.owner = owner;
        this.slot = slot;
    }

    @Override
    protected void deallocate() {
        owner.releaseFromAnyThread(slot);
    }
}
