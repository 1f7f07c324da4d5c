package io.edge.aio.file;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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
 * responses in flight end. Near the limit a pooled allocator might still have had room in a chunk it holds; such
 * a read is refused too.
 */
final class DirectMemory {

    /** The JDK's count of direct memory reserved by {@code ByteBuffer.allocateDirect}; null if it has none. */
    private static final BufferPoolMXBean JDK_DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
            .stream().filter(pool -> pool.getName().equals("direct")).findFirst().orElse(null);

    private DirectMemory() {
    }

    /** A direct buffer of exactly {@code length} bytes from {@code alloc}, if the limit leaves room for it. */
    static ByteBuf buffer(ByteBufAllocator alloc, int length) {
        long max = PlatformDependent.maxDirectMemory();
        // Netty counts what it allocates without the JDK (its no-cleaner buffers); -1 when it allocates none.
        long used = (JDK_DIRECT == null ? 0 : JDK_DIRECT.getMemoryUsed()) + Math.max(0, PlatformDependent.usedDirectMemory());
        if (used > max - length) {
            throw new DirectMemoryExhaustedException("read buffer of " + length + " bytes: " + used + " of " + max
                    + " bytes of direct memory in use (-XX:MaxDirectMemorySize)");
        }
        return alloc.directBuffer(length, length);
    }
}
