package io.edge.core.fastcgi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
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
 *   FIFO:  [memory chunks] [file: readPosition .. writePosition] [afterFile chunks]
 *   add:   to memory while the file part is empty and the chunk fits (or there is no file), else to the file;
 *          once the file failed, to afterFile
 *   poll:  the oldest memory chunk, or once the file part is empty the oldest afterFile chunk;
 *          readNext: else the next bytes of the file, read on a spool thread
 *   the file part emptied: both positions go back to 0 (the file is written over, never grows past what it held)
 * </pre>
 *
 * <p>A write to the file that fails (a full disk, a file system remounted read-only, a directory that is not
 * there) loses nothing: the chunk is kept, and so is every chunk handed to the file after it, in order, as
 * {@code afterFile}; the file takes no more writes, and what it holds up to the failed write is still read back
 * (the descriptor stays open: reading what was written works on a full or read-only file system). From then on
 * the spool is full while the file holds anything or memory is past its limit, so the backend waits for the client
 * (the backpressure of a file at its max), and memory stays bounded by {@code memoryLimit} plus the chunks that were
 * on their way to the disk. Only a read of the file that fails loses the response ({@code onFailure}).
 *
 * <p>Every method runs on the client's event loop. The file is opened, written, read and closed only by tasks chained
 * one after another ({@link SpoolTasks}) on the spool threads, never on the event loop; the last one closes it. Being
 * unlinked from the start, it is gone with its descriptor whatever happens to the process.
 *
 * <p>Public for the proxy's answers too ({@code io.edge.core.proxy}, nginx's {@code proxy_buffering}): the same spool,
 * its threads and its spool directory serve both kinds of backend.
 */
public final class ResponseSpool {

    /** Bytes read back from the file per chunk written to the client. */
    static final int READ_CHUNK = 64 * 1024;

    private final Channel client;
    private final int memoryLimit;
    private final long maxFileSize;
    private final Path dir;
    private final Consumer<IOException> onFailure;
    private final Consumer<IOException> withoutFile;
    private final Runnable roomMade;
    private final FileOpener opener;
    /** Chunks older than anything in the file; owned by the spool. */
    private final ArrayDeque<ByteBuf> memory = new ArrayDeque<>();
    /** Chunks newer than anything in the file, once a write to it failed; owned by the spool. Counted in memoryBytes. */
    private final ArrayDeque<ByteBuf> afterFile = new ArrayDeque<>();
    private long memoryBytes;
    /** Bytes handed to file tasks and not yet written: memory too. */
    private long unwritten;
    /** The file's end, counting bytes handed to file tasks; the next read starts at {@link #readPosition}. */
    private long writePosition;
    private long readPosition;
    /** Bytes of a file read in flight, still held until {@link #readNext}'s consumer got them. */
    private int reading;
    /** The file tasks, run one after another on the spool threads. */
    private final SpoolTasks tasks;
    /**
     * Small chunks bound for the file, gathered for one file task, written when full, before a larger chunk, before
     * the file is read, or when the spool is full and no write is on its way. Counted in {@link #writePosition} and
     * {@link #unwritten} already: the file's part, not yet written.
     */
    private SmallChunks gathered;
    /** Where {@link #gathered} goes in the file. */
    private long gatheredPosition;
    /** Opened by the first file task; only file tasks touch it. */
    private FileChannel file;
    private IOException failure;
    /** Something went to the file. */
    private boolean spilled;
    /** On the loop: a write to the file failed; it takes no more, and what it holds ends at writePosition. */
    private boolean fileFailed;
    /** On the spool threads: a write failed at {@link #fileEnd}; later writes are skipped, reads stop there. */
    private volatile boolean writeFailed;
    private volatile long fileEnd;
    /** Released: the tasks still chained drop their buffers, and the last one closes the file. */
    private volatile boolean released;

    /**
     * @param client      the client's channel: its event loop runs every method, its allocator gives read buffers
     * @param memoryLimit bytes held in memory before the file is used
     * @param maxFileSize bytes the file holds at most (0: no file); a read from the backend may cross it
     * @param dir         where the file is made (and at once unlinked), as request bodies' spool files
     * @param onFailure   called on the loop, once, if the file cannot be read back: the spooled response is lost,
     *                    the spool is released right after, and the caller ends the response
     * @param withoutFile called on the loop, once, if the file cannot be made or written: nothing is lost, the
     *                    response goes on without the file (held in memory, the backend paused as for a full file)
     * @param roomMade    called on the loop when a write to the file left the spool no longer {@link #isFull}: the
     *                    caller reads the backend again (a client taking bytes makes room too; the caller sees that)
     * @param threads     run the file tasks (the spool threads; tests hold them back)
     * @param opener      makes the file in {@code dir}, open for reading and writing and unlinked (tests fake a disk)
     */
    ResponseSpool(Channel client, int memoryLimit, long maxFileSize, Path dir, Consumer<IOException> onFailure,
            Consumer<IOException> withoutFile, Runnable roomMade, Executor threads, FileOpener opener) {
        this.roomMade = roomMade;
        this.withoutFile = withoutFile;
        this.opener = opener;
        this.client = client;
        this.memoryLimit = memoryLimit;
        this.maxFileSize = maxFileSize;
        this.dir = dir;
        this.onFailure = onFailure;
        this.gathered = new SmallChunks(client.alloc(), gatheringCapacity());
        this.tasks = new SpoolTasks(client, threads, this::failed, () -> {
            released = true; // the tasks after this one have nobody to answer either
            closeFile();
        });
    }

    public ResponseSpool(Channel client, int memoryLimit, long maxFileSize, Path dir, Consumer<IOException> onFailure,
            Consumer<IOException> withoutFile, Runnable roomMade) {
        this(client, memoryLimit, maxFileSize, dir, onFailure, withoutFile, roomMade, SpooledBody.THREADS,
                FileOpener.UNLINKED);
    }

    /**
     * Gathers chunks bound for the file only below {@code bytes} (0: none, each chunk a file task of its own, as
     * chunks of {@link SmallChunks#BELOW} and more always are): for tests of what happens at a chunk's boundaries.
     * Before the first chunk.
     */
    ResponseSpool gatherBelow(int bytes) {
        this.gathered = new SmallChunks(client.alloc(), gatheringCapacity(), bytes);
        return this;
    }

    /**
     * The buffer small chunks bound for the file are gathered in: a file write's worth, but never more than the
     * memory limit, which bounds what the response holds (none with a limit of 0: each chunk goes as it is).
     */
    private int gatheringCapacity() {
        return Math.min(READ_CHUNK, memoryLimit);
    }

    /** Makes the spool file; called on a spool thread. */
    @FunctionalInterface
    interface FileOpener {
        FileOpener UNLINKED = dir -> SpooledBody.openUnlinked(dir, "edge-response-");

        FileChannel open(Path dir) throws IOException;
    }

    /** Appends {@code chunk}, which the spool owns from now on. */
    public void add(ByteBuf chunk) {
        int bytes = chunk.readableBytes();
        if (released || failure != null || bytes == 0) {
            chunk.release();
            return;
        }
        if (fileFailed && unwritten == 0) {
            afterFile.add(chunk);
            memoryBytes += bytes;
            return;
        }
        if (!fileFailed && fileBytes() == 0 && (memoryBytes + bytes <= memoryLimit || maxFileSize == 0)) {
            memory.add(chunk);
            memoryBytes += bytes;
            return;
        }
        // To the file; once it failed, still through the file tasks while chunks handed to them before are on their
        // way back (they are older), to come back after them.
        spilled = true;
        if (!fileFailed && gathered.takes(bytes)) {
            if (!gathered.fits(bytes)) {
                writeGathered();
            }
            if (gathered.isEmpty()) {
                gatheredPosition = writePosition;
            }
            gathered.add(chunk);
            writePosition += bytes;
            unwritten += bytes;
            writeGatheredIfFull();
            return;
        }
        writeGathered(); // older: written first
        long position = writePosition;
        if (!fileFailed) {
            writePosition += bytes;
        }
        unwritten += bytes;
        handToFile(chunk, position, bytes);
    }

    /**
     * Hands the gathered chunks to a file task if the spool is full and no write is on its way to free it: the disk
     * makes room as it writes them, not the client alone. With a write on its way, its answer ({@link #written})
     * asks again, so a full spool's chunks go to the disk a batch per write.
     */
    private void writeGatheredIfFull() {
        if (!gathered.isEmpty() && unwritten == gathered.bytes() && isFull()) {
            writeGathered();
        }
    }

    /** Hands the chunks gathered so far, if any, to a file task. */
    private void writeGathered() {
        ByteBuf chunk = gathered.take();
        if (chunk != null) {
            handToFile(chunk, gatheredPosition, chunk.readableBytes());
        }
    }

    /** Has a file task write {@code chunk} (owned by it from now on), counted in {@link #unwritten}, at {@code position}. */
    private void handToFile(ByteBuf chunk, long position, int bytes) {
        tasks.run(() -> {
            // Owned by this task until written (released here) or handed back to the loop (not written).
            IOException error = null;
            boolean kept = false;
            try {
                if (released) {
                    chunk.release();
                } else if (writeFailed) {
                    kept = true;
                } else {
                    write(chunk, position);
                    chunk.release();
                }
            } catch (Throwable e) { // out of direct memory included
                error = e instanceof IOException io ? io : new IOException(e.toString(), e);
                fileEnd = position;
                writeFailed = true;
                kept = true;
            }
            ByteBuf back = kept ? chunk : null;
            IOException failed = error;
            tasks.onLoop(back, () -> written(back, bytes, position, failed));
        });
    }

    /** On the loop: a write task is done; {@code notWritten}, if not null, is its chunk, kept (the file failed). */
    private void written(ByteBuf notWritten, int bytes, long position, IOException error) {
        boolean wasFull = isFull();
        unwritten -= bytes;
        if (released) {
            if (notWritten != null) {
                notWritten.release();
            }
            return;
        }
        if (notWritten != null) {
            if (!fileFailed) {
                fileFailed = true;
                writePosition = position; // the file holds what came before; the rest is held here, in order
                withoutFile.accept(error != null ? error : new IOException("response spool file failed"));
            }
            afterFile.add(notWritten);
            memoryBytes += bytes;
        }
        writeGatheredIfFull();
        if (wasFull && !isFull()) {
            roomMade.run();
        }
    }

    /** Nothing is held: every byte added was handed out by {@link #poll} or {@link #readNext}. */
    public boolean isEmpty() {
        return memoryBytes == 0 && fileBytes() == 0 && reading == 0 && unwritten == 0;
    }

    /**
     * The spool holds as much as it may: the caller stops reading the backend until it is not. Once the file failed,
     * as long as it holds anything (as a file at its max), or memory is past its limit.
     */
    public boolean isFull() {
        return memoryBytes + unwritten > memoryLimit || (maxFileSize > 0 && writePosition >= maxFileSize)
                || (fileFailed && (fileBytes() > 0 || reading > 0));
    }

    /** Bytes handed to the file tasks whose write (or failure) the loop has not heard of yet (tests). */
    long unwrittenBytes() {
        return unwritten;
    }

    /** Whether a write to the file failed and the spool goes on without it (tests). */
    boolean fileFailed() {
        return fileFailed;
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
    public ByteBuf poll() {
        if (released || failure != null || reading > 0) {
            return null;
        }
        ByteBuf chunk = memory.poll();
        if (chunk == null && fileBytes() == 0 && unwritten == 0) {
            chunk = afterFile.poll(); // the file's part was handed out, and what its failed writes kept comes next
        }
        if (chunk != null) {
            memoryBytes -= chunk.readableBytes();
        }
        return chunk;
    }

    /**
     * Takes back {@code rest} (owned by the spool from now on), the part of the last chunk {@link #poll} or
     * {@link #readNext} handed out that the caller did not write (a paced answer's piece was smaller): the oldest
     * bytes held again, handed out first by the next {@link #poll}.
     */
    public void putBack(ByteBuf rest) {
        int bytes = rest.readableBytes();
        if (released || failure != null || bytes == 0) {
            rest.release();
            return;
        }
        memory.addFirst(rest);
        memoryBytes += bytes;
    }

    /**
     * Reads up to {@link #READ_CHUNK} of the oldest bytes held from the file, on a spool thread, and hands them to
     * {@code then} (which owns them) on the loop: call it when {@link #poll} gave null and the spool is not empty.
     * One read at a time; nothing is handed out if the spool is released or fails before.
     */
    public void readNext(Consumer<ByteBuf> then) {
        writeGathered(); // its write is chained before the read
        int bytes = (int) Math.min(READ_CHUNK, fileBytes());
        // The file failed and what it holds was read: chunks kept from its failed writes are still on their way back
        // from the file tasks; a read of nothing, chained after them, hands out the first.
        boolean awaitKept = fileFailed && bytes == 0 && unwritten > 0;
        if (released || failure != null || reading > 0 || !memory.isEmpty() || (bytes == 0 && !awaitKept)) {
            return;
        }
        long position = readPosition;
        readPosition += bytes;
        reading = Math.max(bytes, 1);
        tasks.chain(() -> released ? null : read(position, bytes), read -> {
            reading = 0;
            if (read != null && read.readableBytes() < bytes) {
                // A write failed inside this read's range (a task before it): the file's part ends there, and the
                // rest of the range is in afterFile.
                readPosition = position + read.readableBytes();
            }
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
            if (!read.isReadable() && !afterFile.isEmpty() && memory.isEmpty()) {
                read.release(); // nothing of the range was written: its first bytes wait in memory
                read = afterFile.poll();
                memoryBytes -= read.readableBytes();
            }
            then.accept(read);
        });
    }

    /** Drops what is held: memory now, the file once the tasks chained before are done. Idempotent. */
    public void release() {
        if (released) {
            return;
        }
        released = true;
        ByteBuf chunk;
        while ((chunk = memory.poll()) != null) {
            chunk.release();
        }
        while ((chunk = afterFile.poll()) != null) {
            chunk.release();
        }
        gathered.release();
        memoryBytes = 0;
        tasks.finish(this::closeFile);
    }

    /** Bytes of the file not read yet; never below 0 (a read in flight may cover a failed write's range). */
    private long fileBytes() {
        return Math.max(0, writePosition - readPosition);
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
            file = opener.open(dir);
        }
        long at = position;
        for (ByteBuffer part : buffer.nioBuffers()) {
            while (part.hasRemaining()) {
                at += file.write(part, at);
            }
        }
    }

    /**
     * A file task: {@code bytes} of the file at {@code position}, in a new buffer; fewer (maybe none) if a write
     * chained before this read failed inside the range: the file's part ends where it failed.
     */
    private ByteBuf read(long position, int bytes) throws IOException {
        int length = writeFailed ? (int) Math.max(0, Math.min(bytes, fileEnd - position)) : bytes;
        ByteBuf chunk = client.alloc().directBuffer(length, length);
        try {
            while (chunk.writerIndex() < length) {
                if (file == null || chunk.writeBytes(file, position + chunk.writerIndex(),
                        length - chunk.writerIndex()) < 0) {
                    throw new IOException("response spool file ended at " + (position + chunk.writerIndex())
                            + " (expected: " + (position + length) + " bytes)");
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
