package io.edge.core.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class SmallChunksTest {

    /** An allocator out of memory, as a burst of uploads left the JVM's direct memory. */
    private static final AbstractByteBufAllocator EXHAUSTED = new AbstractByteBufAllocator(true) {
        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            throw new OutOfMemoryError("Java heap space");
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            throw new OutOfMemoryError("Cannot reserve " + initialCapacity + " bytes of direct buffer memory");
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    };

    /**
     * A chunk given to be gathered is released when no buffer can be had to gather it in: it stayed held, and an
     * upload burst that ran out of direct memory left a little more of it gone with every round.
     */
    @Test
    void aChunkIsReleasedWhenNoBufferCanBeHadToGatherIt() {
        SmallChunks gathered = new SmallChunks(EXHAUSTED, 65528);
        ByteBuf chunk = Unpooled.directBuffer(16).writeZero(16);
        assertThatThrownBy(() -> gathered.add(chunk)).isInstanceOf(OutOfMemoryError.class);
        assertThat(chunk.refCnt()).isZero();
        assertThat(gathered.isEmpty()).isTrue();
    }
}
