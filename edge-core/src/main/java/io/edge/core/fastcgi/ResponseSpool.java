package io.edge.core.fastcgi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The part of one backend response its client could not take yet, in order: nginx's {@code fastcgi_buffering}.
 * The backend is read as fast as it sends, so its worker is free once the script ends, however slowly the client
 * reads. Up to {@code memoryLimit} bytes wait in memory; past that, and until the spool is empty again, bytes go to an
 * unlinked temporary file in {@code dir}, up to {@code maxFileSize} (nginx's {@code fastcgi_max_temp_file_size});
 * {@link #isFull} then asks the caller to stop reading the backend until the client took some (today's backpressure,
 * as nginx falls back to when its temp file is full). Bytes handed to the disk and not yet written count as memory,
 * so a disk slower than the backend also ends in {@link #isFull}: memory stays bounded by {@code memoryLimit} plus
 * one read from the backend.
 *
 * <pre>
 *   FIFO:  [memory chunks] [file: readPosition .. writePosition]
 *   add:   to memory while the file part is empty and the chunk fits (or there is no file), else to the file
 *   poll:  the oldest memory chunk;  readNext: else the next bytes of the file, read on a spool thread
 *   the file part emptied: both positions go back to 0 (the file is written over, never grows past what it held)
 * </pre>
 *
 * <p>Every method runs on the client's event loop. The file is opened, written, read and closed only by tasks chained
 * one after another ({@link #tail}) on the spool threads, never on the event loop; the last one closes it. Being
 * unlinked from the start, it is gone with its descriptor whatever happens to the process.
 */
final class ResponseSpool {

    /** Bytes read back from the file per chunk written to the client. */
    static final int READ_CHUNK = 64 * 1024;

    private final Channel client;
    private final Executor threads;
    private final int memoryLimit;
    private final long maxFileSize;
    private final Path dir;
    private final Consumer<IOException> onFailure;
    private final Runnable roomMade;
    /** Chunks older than anything in the file; owned by the spool. */
    private final ArrayDeque<ByteBuf> memory = new ArrayDeque<>();
    private long memoryBytes;
    /** Bytes handed to file tasks and not yet written: memory too. */
    private long unwritten;
    /** The file's end, counting bytes handed to file tasks; the next read starts at {@link #readPosition}. */
    private long writePosition;
    private long readPosition;
    /** Bytes of a file read in flight, still held until {@link #readNext}'s consumer got them. */
    private int reading;
    /** The last file task; the next one runs after it. */
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    /** Opened by the first file task; only file tasks touch it. */
    private FileChannel file;
    private IOException failure;
    /** Something went to the file. */
    private boolean spilled;
    /** Released: the tasks still chained drop their buffers, and the last one closes the file. */
    private volatile boolean released;

    /**
     * @param client      the client's channel: its event loop runs every method, its allocator gives read buffers
     * @param memoryLimit bytes held in memory before the file is used
     * @param maxFileSize bytes the file holds at most (0: no file); a read from the backend may cross it
     * @param dir         where the file is made (and at once unlinked), as request bodies' spool files
     * @param onFailure   called on the loop, once, if the file cannot be written or read: the spooled response is
     *                    lost, the spool is released right after, and the caller ends the response
     * @param roomMade    called on the loop when a write to the file left the spool no longer {@link #isFull}: the
     *                    caller reads the backend again (a client taking bytes makes room too; the caller sees that)
     * @param threads     run the file tasks (the spool threads; tests hold them back)
     */
    ResponseSpool(Channel client, int memoryLimit, long maxFileSize, Path dir, Consumer<IOException> onFailure,
            Runnable roomMade, Executor threads) {
        this.roomMade = roomMade;
        this.client = client;
        this.memoryLimit = memoryLimit;
        this.maxFileSize = maxFileSize;
        this.dir = dir;
        this.onFailure = onFailure;
        this.threads = threads;
    }

    ResponseSpool(Channel client, int memoryLimit, long maxFileSize, Path dir, Consumer<IOException> onFailure,
            Runnable roomMade) {
        this(client, memoryLimit, maxFileSize, dir, onFailure, roomMade, SpooledBody.THREADS);
    }

    /** Appends {@code chunk}, which the spool owns from now on. */
    void add(ByteBuf chunk) {
        int bytes = chunk.readableBytes();
        if (released || failure != null || bytes == 0) {
            chunk.release();
            return;
        }
        if (fileBytes() == 0 && (memoryBytes + bytes <= memoryLimit || maxFileSize == 0)) {
            memory.add(chunk);
            memoryBytes += bytes;
            return;
        }
        spilled = true;
        long position = writePosition;
        writePosition += bytes;
        unwritten += bytes;
        chain(() -> {
            try {
                if (!released) {
                    write(chunk, position);
                }
            } finally {
                chunk.release();
            }
            return null;
        }, nothing -> {
            boolean wasFull = isFull();
            unwritten -= bytes;
            if (wasFull && !isFull() && !released) {
                roomMade.run();
            }
        });
    }

    /** Nothing is held: every byte added was handed out by {@link #poll} or {@link #readNext}. */
    boolean isEmpty() {
        return memoryBytes == 0 && fileBytes() == 0 && reading == 0;
    }

    /** The spool holds as much as it may: the caller stops reading the backend until it is not. */
    boolean isFull() {
        return memoryBytes + unwritten > memoryLimit || (maxFileSize > 0 && writePosition >= maxFileSize);
    }

    /** Whether any of it went to the file (tests). */
    boolean usedFile() {
        return spilled;
    }

    /** Bytes held in memory, written or on their way to the file (tests). */
    long memoryBytes() {
        return memoryBytes + unwritten;
    }

    /**
     * The oldest bytes held, if they wait in memory (the caller owns them from now on); null if they are in the file
     * ({@link #readNext}), or nothing is held, or the spool was released or failed.
     */
    ByteBuf poll() {
        if (released || failure != null || reading > 0) {
            return null;
        }
        ByteBuf chunk = memory.poll();
        if (chunk != null) {
            memoryBytes -= chunk.readableBytes();
        }
        return chunk;
    }

    /**
     * Reads up to {@link #READ_CHUNK} of the oldest bytes held from the file, on a spool thread, and hands them to
     * {@code then} (which owns them) on the loop: call it when {@link #poll} gave null and the spool is not empty.
     * One read at a time; nothing is handed out if the spool is released or fails before.
     */
    void readNext(Consumer<ByteBuf> then) {
        int bytes = (int) Math.min(READ_CHUNK, fileBytes());
        if (released || failure != null || reading > 0 || !memory.isEmpty() || bytes == 0) {
            return;
        }
        long position = readPosition;
        readPosition += bytes;
        reading = bytes;
        chain(() -> released ? null : read(position, bytes), read -> {
            reading = 0;
            if (fileBytes() == 0) { // written over from the start: the file never holds more than it did at once
                readPosition = 0;
                writePosition = 0;
            }
            if (read == null) {
                return; // released, or failed (reported)
            }
            if (released) {
                read.release();
                return;
            }
            then.accept(read);
        });
    }

    /** Drops what is held: memory now, the file once the tasks chained before are done. Idempotent. */
    void release() {
        if (released) {
            return;
        }
        released = true;
        ByteBuf chunk;
        while ((chunk = memory.poll()) != null) {
            chunk.release();
        }
        memoryBytes = 0;
        tail = tail.whenCompleteAsync((done, error) -> closeFile(), threads);
    }

    private long fileBytes() {
        return writePosition - readPosition;
    }

    /** Work on the file, on a spool thread; may return a buffer for the loop. */
    private interface FileTask {
        ByteBuf run() throws IOException;
    }

    /**
     * Runs {@code task} on a spool thread after every task chained before it (a stage of {@link #tail} never fails),
     * then {@code then} with its result on the loop (null if it failed, after the failure is reported).
     */
    private void chain(FileTask task, Consumer<ByteBuf> then) {
        tail = tail.handleAsync((before, neverFails) -> {
            ByteBuf result = null;
            IOException error = null;
            try {
                result = task.run();
            } catch (IOException e) {
                error = e;
            } catch (Throwable e) { // out of direct memory included: the response fails, the chain goes on
                error = new IOException(e.toString(), e);
            }
            ByteBuf done = result;
            IOException failed = error;
            try {
                client.eventLoop().execute(() -> {
                    if (failed != null) {
                        failed(failed);
                    }
                    then.accept(done);
                });
            } catch (RejectedExecutionException loopGone) { // shutting down: nobody is left to answer
                if (done != null) {
                    done.release();
                }
                released = true;
                closeFile();
            }
            return null;
        }, threads);
    }

    private void failed(IOException error) {
        if (failure != null || released) {
            return;
        }
        failure = error;
        onFailure.accept(error);
        release();
    }

    /** A file task: writes {@code buffer} at {@code position}, opening (and unlinking) the file first if needed. */
    private void write(ByteBuf buffer, long position) throws IOException {
        if (file == null) {
            file = SpooledBody.openUnlinked(dir, "edge-response-");
        }
        long at = position;
        for (ByteBuffer part : buffer.nioBuffers()) {
            while (part.hasRemaining()) {
                at += file.write(part, at);
            }
        }
    }

    /** A file task: {@code bytes} of the file at {@code position}, in a new buffer. */
    private ByteBuf read(long position, int bytes) throws IOException {
        ByteBuf chunk = client.alloc().directBuffer(bytes, bytes);
        try {
            while (chunk.writerIndex() < bytes) {
                if (file == null || chunk.writeBytes(file, position + chunk.writerIndex(),
                        bytes - chunk.writerIndex()) < 0) {
                    throw new IOException("response spool file ended at " + (position + chunk.writerIndex())
                            + " (expected: " + (position + bytes) + " bytes)");
                }
            }
            return chunk;
        } catch (IOException | RuntimeException e) {
            chunk.release();
            throw e;
        }
    }

    /** The last file task. */
    private void closeFile() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // unlinked already: closing frees it whatever this says
            }
            file = null;
        }
    }
}
