package io.edge.core.fastcgi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Small chunks bound for a spool file ({@link SpooledBody}, {@link ResponseSpool}), copied into one buffer that one file
 * task writes, instead of a task each: a hand-off to a spool thread, a write(2) and an answer on the loop per chunk
 * cost seconds of the spool threads, which every body and answer shares, for a body or an answer sent a few bytes at a
 * time (a chunked upload of one-byte chunks, a script flushing every line to a slow client). nginx appends such bytes
 * to its buffers and writes its temporary files a whole buffer at a time.
 *
 * <p>Confined to the client's event loop. Owns its buffer until {@link #take} hands it over.
 */
final class SmallChunks {

    /** Chunks under this many bytes are gathered; larger ones go to the file as they are. */
    static final int BELOW = 16 * 1024;

    private final ByteBufAllocator alloc;
    private final int capacity;
    private final int below;
    private ByteBuf buffer;

    /** Gathers chunks under {@link #BELOW} bytes, and no larger than {@code capacity}, into buffers of that capacity. */
    SmallChunks(ByteBufAllocator alloc, int capacity) {
        this(alloc, capacity, BELOW);
    }

    /**
     * Gathers chunks under {@code below} bytes, and no larger than {@code capacity}: none if either is 0 (tests give a
     * {@code below} of 0 for what happens at each chunk's boundaries).
     */
    SmallChunks(ByteBufAllocator alloc, int capacity, int below) {
        this.alloc = alloc;
        this.capacity = capacity;
        this.below = below;
    }

    /** Whether a chunk of {@code bytes} is gathered here rather than written as it is. */
    boolean takes(int bytes) {
        return bytes < below && bytes <= capacity;
    }

    /** Whether a chunk of {@code bytes} fits beside what is gathered; if not, {@link #take} what is first. */
    boolean fits(int bytes) {
        return buffer == null || buffer.writableBytes() >= bytes;
    }

    /** Nothing is gathered. */
    boolean isEmpty() {
        return buffer == null;
    }

    /** Bytes gathered. */
    int bytes() {
        return buffer == null ? 0 : buffer.readableBytes();
    }

    /**
     * Copies {@code chunk}, which {@link #fits}, behind what is gathered, and releases it, also when the buffer to
     * gather in cannot be had (out of direct memory: the failure goes on, the chunk does not stay held).
     */
    void add(ByteBuf chunk) {
        try {
            if (buffer == null) {
                buffer = alloc.directBuffer(capacity, capacity);
            }
            buffer.writeBytes(chunk);
        } finally {
            chunk.release();
        }
    }

    /** What is gathered, owned by the caller from now on, or null if nothing is. */
    ByteBuf take() {
        ByteBuf taken = buffer;
        buffer = null;
        return taken;
    }

    /** Drops what is gathered. */
    void release() {
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }
}
