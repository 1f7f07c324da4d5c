package io.edge.aio.file;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * Read buffers taken only while the JVM's direct memory ({@code -XX:MaxDirectMemorySize}) has room for them.
 * <p>
 * The JDK's {@code ByteBuffer.allocateDirect}, under Netty's unpooled direct buffers and each new chunk of its
 * pooled ones, answers a request over the limit by running a full GC and sleeping, about half a second in all,
 * before its {@code OutOfMemoryError}; on an event loop that held every connection of the loop, once for every
 * read refused, so a burst of cold reads under a small limit stopped the loops for tens of seconds. Waiting for a
 * GC wins back little here, since Netty's buffers free their memory on release: a read that would pass the limit
 * is refused at once ({@link DirectMemoryExhaustedException}, a 503), and room comes back as the reads and
 * responses in flight end. (bin/jvm.options lets Netty allocate without the JDK, so that its other allocations past
 * the limit fail at once too; a JVM started without those options still allocates through the JDK.)
 * <p>
 * What counts is what the JDK compares with the limit, the capacity of its direct buffers (Netty's pooled chunks and
 * unpooled buffers among them), plus Netty's own count only where Netty allocates without the JDK (its no-cleaner
 * buffers): Netty 4.2 also counts the buffers it takes from the JDK, and adding both counts there counted each byte
 * twice, so reads were refused with half the limit free. A pooled allocator may ask the JDK for a whole chunk (up to
 * {@link #POOL_CHUNK} bytes) to serve a small buffer; where what is left has room for the buffer but not for such a
 * chunk, the buffer is unpooled, exactly its size asked of the JDK, rather than the pool left to ask for more than
 * there is. With less room than the buffer itself, a pooled allocator might still have had room in a chunk it holds,
 * which none tells without trying, and a try that needs a new chunk sleeps: such a read is refused too.
 */
public final class DirectMemory {

    /**
     * The most a pooled allocator of unknown chunk size may ask of the JDK at once for a small buffer: Netty 4.2's
     * adaptive allocator (the channels' default) grows by chunks of up to 8 MiB.
     */
    private static final int POOL_CHUNK = 8 << 20;

    /** The JDK's count of direct memory reserved by {@code ByteBuffer.allocateDirect}; null if it has none. */
    private static final BufferPoolMXBean JDK_DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
            .stream().filter(pool -> pool.getName().equals("direct")).findFirst().orElse(null);

    private DirectMemory() {
    }

    /** A direct buffer of exactly {@code length} bytes from {@code alloc}, if the limit leaves room for it. */
    static ByteBuf buffer(ByteBufAllocator alloc, int length) {
        long max = limit();
        long used = used();
        long room = max - used;
        if (room < length) {
            throw new DirectMemoryExhaustedException("read buffer of " + length + " bytes: " + used + " of " + max
                    + " bytes of direct memory in use (-XX:MaxDirectMemorySize)");
        }
        ByteBufAllocator buffers = room < growth(alloc, length) ? UnpooledByteBufAllocator.DEFAULT : alloc;
        return buffers.directBuffer(length, length);
    }

    /** Direct memory in use as the limit counts it, each byte once (for the status page too). */
    public static long used() {
        long jdk = JDK_DIRECT == null ? 0 : JDK_DIRECT.getTotalCapacity();
        if (!PlatformDependent.useDirectBufferNoCleaner()) {
            return jdk; // Netty's count is of buffers the JDK counts too
        }
        return jdk + Math.max(0, PlatformDependent.usedDirectMemory()); // -1 when Netty counts nothing
    }

    /** The JVM's direct memory limit ({@code -XX:MaxDirectMemorySize}, else the heap's maximum). */
    public static long limit() {
        return PlatformDependent.maxDirectMemory();
    }

    /** The most direct memory {@code alloc} may ask for to serve a buffer of {@code length} bytes. */
    private static long growth(ByteBufAllocator alloc, int length) {
        if (!alloc.isDirectBufferPooled()) {
            return length;
        }
        long chunk = alloc instanceof PooledByteBufAllocator pooled ? pooled.metric().chunkSize() : POOL_CHUNK;
        return Math.max(length, chunk);
    }
}
