package io.edge.aio.debug;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Released buffers are poisoned, held and checked. A "late write" writes through a view of the buffer's memory
 * kept from before its release, as the kernel writes through the address it was given; views are touched only
 * while their buffer is quarantined, never once it may have been freed.
 */
class PoisoningAllocatorTest {

    private BufferQuarantine quarantine;

    @AfterEach
    void close() {
        if (quarantine != null) {
            quarantine.close();
            assertThat(quarantine.heldBuffers()).isZero();
        }
    }

    private PoisoningAllocator allocator(int maxBuffers, long maxBytes) {
        quarantine = new BufferQuarantine(maxBuffers, maxBytes);
        return new PoisoningAllocator(UnpooledByteBufAllocator.DEFAULT, quarantine);
    }

    /** The whole memory of {@code buffer}, usable after its release. */
    private static ByteBuffer memoryOf(ByteBuf buffer) {
        return buffer.nioBuffer(0, buffer.capacity());
    }

    /** Allocates {@code size} bytes filled with 'x', releases it and returns its memory. */
    private static ByteBuffer released(PoisoningAllocator alloc, int size) {
        ByteBuf buffer = alloc.directBuffer(size, size);
        buffer.writeBytes("x".repeat(size).getBytes(StandardCharsets.US_ASCII));
        ByteBuffer memory = memoryOf(buffer);
        assertThat(buffer.release()).isTrue();
        return memory;
    }

    private static void assertPoisoned(ByteBuffer memory) {
        for (int i = 0; i < memory.capacity(); i++) {
            assertThat(memory.get(i)).as("byte %d", i).isEqualTo(PoisoningAllocator.POISON);
        }
    }

    @Test
    void releasedMemoryHoldsThePoisonWhileQuarantined() {
        PoisoningAllocator alloc = allocator(4, 1 << 20);
        ByteBuffer memory = released(alloc, 10_000); // more than one poison page
        assertThat(quarantine.heldBuffers()).isEqualTo(1);
        assertThat(quarantine.heldBytes()).isEqualTo(10_000);
        assertPoisoned(memory);
    }

    @Test
    void aWriteIntoAReleasedBufferIsCountedWhenItLeavesTheQuarantine() {
        PoisoningAllocator alloc = allocator(1, 1 << 20);
        ByteBuffer memory = released(alloc, 4096);
        memory.put(1234, (byte) 'k'); // the kernel finishing a read into memory its reader already gave back
        assertThat(quarantine.writesAfterRelease()).as("not checked while held").isZero();

        released(alloc, 16); // pushes the first one out
        assertThat(quarantine.writesAfterRelease()).isEqualTo(1);
        assertThat(quarantine.heldBuffers()).isEqualTo(1);
    }

    @Test
    void anUntouchedBufferCountsNothing() {
        PoisoningAllocator alloc = allocator(1, 1 << 20);
        released(alloc, 4096);
        released(alloc, 4096);
        quarantine.close();
        assertThat(quarantine.writesAfterRelease()).isZero();
    }

    @Test
    void theQuarantineIsBoundedByCountAndTheOldestLeavesFirst() {
        PoisoningAllocator alloc = allocator(2, 1 << 20);
        ByteBuffer oldest = released(alloc, 100);
        ByteBuffer middle = released(alloc, 200);
        oldest.put(0, (byte) 1);
        released(alloc, 300);
        assertThat(quarantine.writesAfterRelease()).as("the oldest left and was checked").isEqualTo(1);
        assertThat(quarantine.heldBuffers()).isEqualTo(2);
        assertThat(quarantine.heldBytes()).isEqualTo(500);
        assertPoisoned(middle);
    }

    @Test
    void theQuarantineIsBoundedByBytesButAlwaysHoldsTheNewest() {
        PoisoningAllocator alloc = allocator(100, 1000);
        released(alloc, 600);
        ByteBuffer second = released(alloc, 600);
        assertThat(quarantine.heldBuffers()).isEqualTo(1);
        assertThat(quarantine.heldBytes()).isEqualTo(600);
        assertPoisoned(second);

        ByteBuffer huge = released(alloc, 5000);
        assertThat(quarantine.heldBuffers()).as("larger than the bound, held alone").isEqualTo(1);
        assertThat(quarantine.heldBytes()).isEqualTo(5000);
        assertPoisoned(huge);
    }

    @Test
    void closeChecksAndFreesEverythingAndLaterReleasesAtOnce() {
        PoisoningAllocator alloc = allocator(10, 1 << 20);
        released(alloc, 100);
        ByteBuffer written = released(alloc, 100);
        written.put(99, (byte) 0);
        ByteBuf late = alloc.directBuffer(64, 64);

        quarantine.close();
        assertThat(quarantine.heldBuffers()).isZero();
        assertThat(quarantine.heldBytes()).isZero();
        assertThat(quarantine.writesAfterRelease()).isEqualTo(1);

        late.release(); // a response still being written when the engine closed
        assertThat(quarantine.heldBuffers()).isZero();
        assertThat(quarantine.writesAfterRelease()).isEqualTo(1);
    }

    @Test
    void aBufferThatGrewIsPoisonedOverItsNewMemory() {
        PoisoningAllocator alloc = allocator(4, 1 << 20);
        ByteBuf buffer = alloc.directBuffer(16, 1 << 16);
        buffer.writeBytes(new byte[5000]);
        ByteBuffer memory = memoryOf(buffer);
        buffer.release();
        assertThat(quarantine.heldBytes()).isEqualTo(memory.capacity()).isGreaterThanOrEqualTo(5000);
        assertPoisoned(memory);
    }

    @Test
    void heapBuffersComeFromTheDelegate() {
        PoisoningAllocator alloc = allocator(4, 1 << 20);
        ByteBuf heap = alloc.heapBuffer(10);
        ByteBuf direct = alloc.directBuffer(10);
        try {
            assertThat(heap.isDirect()).isFalse();
            assertThat(heap.alloc()).isSameAs(UnpooledByteBufAllocator.DEFAULT);
            assertThat(direct.isDirect()).isTrue();
            assertThat(direct.alloc()).isSameAs(alloc);
        } finally {
            heap.release();
            direct.release();
        }
        assertThat(quarantine.heldBuffers()).as("only the direct one").isEqualTo(1);
    }

    @Test
    void buffersReleasedOnManyThreadsAreAllCheckedAndFreed() throws Exception {
        PoisoningAllocator alloc = allocator(8, 1 << 20);
        List<CompletableFuture<Void>> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 500; i++) {
                    alloc.directBuffer(128, 128).writeZero(128).release();
                }
            }));
        }
        CompletableFuture.allOf(threads.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(quarantine.heldBuffers()).isEqualTo(8);
        quarantine.close();
        assertThat(quarantine.heldBuffers()).isZero();
        assertThat(quarantine.writesAfterRelease()).isZero();
    }
}
