package io.edge.core.fastcgi;

import io.edge.core.http.WholeBody;
import io.edge.fastcgi.LogText;
import io.edge.fastcgi.SpoolDirectory;
import io.edge.fastcgi.client.FcgiExchange;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request body read whole before a backend connection is taken, as nginx buffers request bodies ({@code
 * fastcgi_request_buffering on} and {@code proxy_request_buffering on}, its defaults): a client trickling an upload in
 * holds no PHP worker, nor proxied backend connection, meanwhile; and the body, kept until the request is answered,
 * goes again whole to the next address a request is passed on to. Up to {@code memoryLimit} bytes stay in memory
 * (copied once to heap blocks, {@link HeapBlocks}, so that a body arriving slowly pins none of the direct buffers its
 * parts were read into; sent from there a block at a time as the backend takes them), as
 * long as all bodies together hold no more than the shared {@link MemoryBudget} ({@link #BODIES_IN_MEMORY}: an eighth
 * of the heap; a body that leaves memory counts there until its file has what it held); past either the body, from its
 * first byte, goes to an unlinked temporary file in {@code dir}, written and later read back on the spool's own
 * threads, never on the event loop. While more than {@link #HIGH_WATER} bytes
 * wait for the disk the client's reading is paused ({@link io.edge.core.http.Exchange#pauseBody}: the body timeout does
 * not count it), and it resumes once they are down to {@link #LOW_WATER}. A spool that takes no bytes for {@code
 * stallTimeout} while the client waits (a disk that hangs) fails the body, so no connection stays paused for ever.
 *
 * <p>Every method runs on the client's event loop. The file is used only by tasks chained one after another
 * ({@link SpoolTasks}), so by one spool thread at a time and in order; the last one closes it.
 */
public final class SpooledBody implements WholeBody {

    private static final Logger LOG = LoggerFactory.getLogger(SpooledBody.class);
    /** Bytes read back from the file per STDIN write: one FastCGI record's worth (at most 65 535, 8-aligned). */
    static final int READ_CHUNK = 65528;
    /**
     * The most of a heap buffer (a body that leaves memory: up to the location's client-body-buffer-size, 64 MiB) one
     * file write is given: the JDK writes a heap buffer through a temporary direct buffer of the size it is given, and
     * keeps that buffer for the spool thread's next writes, so one body of the size's most held as much direct memory
     * for as long as edge ran, per spool thread.
     */
    static final int HEAP_WRITE = 64 * 1024;
    /**
     * The read buffers one body may hold waiting for the disk before its client's reading pauses: direct memory, so
     * kept small (150 uploads faster than the disk, at 1 MiB each, took the 85 MiB a 96 MiB heap allows, and reads
     * for other clients failed), yet a few writes' worth for the spool threads.
     */
    static final int HIGH_WATER = 256 * 1024;
    static final int LOW_WATER = 64 * 1024;

    /**
     * The threads that write and read spool files (request bodies, and responses a client is slow to take:
     * {@link ResponseSpool}): a slow disk holds up bodies, never an event loop.
     */
    static final ExecutorService THREADS =
            Executors.newFixedThreadPool(2, new DefaultThreadFactory("edge-body-spool", true));

    /**
     * What the bodies held in memory may hold together: thousands of clients each sending most of a small body and
     * then waiting (up to the body timeout between bytes) held 64 KiB each, more than the memory of a small machine,
     * and the event loops stalled waiting for memory; past it, a body goes to its file as a large one does, as nginx
     * writes what exceeds client_body_buffer_size.
     */
    static final MemoryBudget BODIES_IN_MEMORY = new MemoryBudget(Runtime.getRuntime().maxMemory() / 8);

    /** Bytes that all holders together may take; taken and given back on any thread. */
    static final class MemoryBudget {
        private final AtomicLong held = new AtomicLong();
        private final long max;

        MemoryBudget(long max) {
            this.max = max;
        }

        /** Takes {@code bytes} if they fit, else takes nothing and says so. */
        boolean take(long bytes) {
            if (held.addAndGet(bytes) <= max) {
                return true;
            }
            held.addAndGet(-bytes);
            return false;
        }

        void give(long bytes) {
            held.addAndGet(-bytes);
        }

        long held() {
            return held.get();
        }
    }

    /** Pauses and resumes reading the client ({@link io.edge.core.http.Exchange#pauseBody}). */
    @FunctionalInterface
    public interface ReadPause {
        void pause(boolean paused);
    }

    /**
     * Where {@link #sendTo} writes the body: a FastCGI exchange's STDIN, a proxied request's content on one try's
     * connection. Called on the client's event loop.
     *
     * @param write      writes a part, which the sink owns from then on
     * @param end        the body is all written
     * @param isDone     whether the try it carries is over (answered, failed, left): nothing more is written to it
     * @param isWritable whether it takes more now
     * @param onWritable runs a task once it takes more
     */
    public record Sink(Consumer<ByteBuf> write, Runnable end, BooleanSupplier isDone, BooleanSupplier isWritable,
                       Consumer<Runnable> onWritable) {
    }

    private final Channel client;
    private final long stallNanos;
    /** When the spool last took bytes (or the client's reading was paused), while it is paused. */
    private long progressAt;
    private final ReadPause readPause;
    private final int memoryLimit;
    private final Path dir;
    /** The body while it fits in memory; null once it went to the file (or was released). */
    private HeapBlocks memory;
    /** Where the heap that {@link #memory}'s blocks take is counted, and how much that is. */
    private final MemoryBudget budget;
    private long taken;
    private long length;
    /** Small parts gathered for one file task, written when full, before a larger part, or when the body ends. */
    private final SmallChunks gathered;
    /** The file tasks, run one after another on the spool threads. */
    private final SpoolTasks tasks;
    /** Opened by the first file task; only file tasks touch it. */
    private FileChannel file;
    /** Bytes handed to file tasks and not yet written. */
    private long unwritten;
    private boolean pausedClient;
    /** {@link #sendTo} began: failures from now on are the backend exchange's, not the read-in's. */
    private boolean sending;
    private final Consumer<IOException> onFailure;
    /** The first failure of a file task, seen on the loop; the body can no longer be sent. */
    private IOException failure;
    /** Released: the tasks still chained drop their buffers, and the last one closes the file. */
    private volatile boolean released;
    /** Its maker let it go ({@link #release}): it is released once no {@link #share} holds it either. */
    private boolean makerReleased;
    /** Holds {@link #share} gave out that were not given back. */
    private int shares;

    /**
     * @param client      the client's channel: its event loop runs every method, its allocator gives the buffers
     * @param readPause   pauses the client's reading while the disk lags
     * @param memoryLimit bodies up to this many bytes are never written to a file
     * @param dir         where the spool file is made (and at once unlinked); refused (the body fails) if others
     *                    than this user or root own it or may write in it (sticky directories aside)
     * @param stallTimeout how long the client may stay paused with the spool taking nothing before the body fails
     * @param onFailure   called on the loop, once, if the body cannot be written to its file; the body is then never
     *                    ready and is released right after (the caller answers)
     */
    public SpooledBody(Channel client, ReadPause readPause, int memoryLimit, Path dir, Duration stallTimeout,
            Consumer<IOException> onFailure) {
        this(client, readPause, memoryLimit, dir, stallTimeout, onFailure, THREADS, BODIES_IN_MEMORY);
    }

    /** As above, the file tasks run by {@code threads} (tests hold them back). */
    SpooledBody(Channel client, ReadPause readPause, int memoryLimit, Path dir, Duration stallTimeout,
            Consumer<IOException> onFailure, Executor threads) {
        this(client, readPause, memoryLimit, dir, stallTimeout, onFailure, threads, BODIES_IN_MEMORY);
    }

    /** As above, what is held in memory counted in {@code budget} (tests give a small one). */
    SpooledBody(Channel client, ReadPause readPause, int memoryLimit, Path dir, Duration stallTimeout,
            Consumer<IOException> onFailure, Executor threads, MemoryBudget budget) {
        this.client = client;
        this.budget = budget;
        this.tasks = new SpoolTasks(client, threads, this::failed, () -> {
            released = true; // the tasks after this one have nobody to answer either
            closeFile();
        });
        this.stallNanos = stallTimeout.toNanos();
        this.readPause = readPause;
        this.onFailure = onFailure;
        this.memoryLimit = memoryLimit;
        this.dir = dir;
        this.memory = new HeapBlocks(client.alloc(), READ_CHUNK);
        this.gathered = new SmallChunks(client.alloc(), READ_CHUNK);
    }

    /**
     * Appends the bytes of {@code content}, a part of the client's body as {@link io.edge.core.http.Exchange#readBody}
     * hands it, and releases it; after its last part, {@code ready} runs as {@link #finish} says.
     */
    public void take(HttpContent content, Runnable ready) {
        boolean last = content instanceof LastHttpContent;
        ByteBuf part = content.content().retain();
        content.release();
        add(part); // its own now, released whatever happens there (out of direct memory too)
        if (last) {
            finish(ready);
        }
    }

    /** Appends {@code chunk}, which this body owns from now on. */
    void add(ByteBuf chunk) {
        if (released || failure != null) {
            chunk.release();
            return;
        }
        int bytes = chunk.readableBytes();
        length += bytes;
        if (memory != null && length <= memoryLimit) {
            long grown = memory.growthFor(bytes); // the heap its blocks take, not only its bytes
            if (budget.take(grown)) {
                taken += grown;
                memory.add(chunk);
                return;
            }
        }
        if (memory != null) {
            leaveMemory();
        }
        if (!gathered.takes(chunk.readableBytes())) {
            spoolGathered(); // written before this part, in order
            spool(chunk, 0);
            return;
        }
        if (!gathered.fits(chunk.readableBytes())) {
            spoolGathered();
        }
        gathered.add(chunk);
    }

    /**
     * Hands what memory held to a file task, the file holding the body from its first byte: its bytes count in the
     * budget until written, the heap holds them until then.
     */
    private void leaveMemory() {
        ByteBuf held = memory.takeAll();
        long heldBytes = taken;
        memory = null;
        taken = 0;
        spool(held, heldBytes);
    }

    /** The body is no longer held in memory: {@link #memory} released, its bytes given back to the budget. */
    private void dropMemory() {
        memory.release();
        memory = null;
        budget.give(taken);
        taken = 0;
    }

    /** Hands the parts gathered so far, if any, to a file task. */
    private void spoolGathered() {
        ByteBuf parts = gathered.take();
        if (parts != null) {
            spool(parts, 0);
        }
    }

    /**
     * Appends {@code toWrite}, which the file task owns from now on, to the file; {@code budgeted} of its bytes, held in
     * the budget, are given back once it is written (or dropped).
     */
    private void spool(ByteBuf toWrite, long budgeted) {
        int bytes = toWrite.readableBytes();
        unwritten += bytes;
        if (unwritten > HIGH_WATER && !pausedClient) {
            pausedClient = true;
            readPause.pause(true);
            progressAt = System.nanoTime();
            checkStallIn(stallNanos);
        }
        tasks.chain(() -> {
            try {
                if (!released) {
                    write(toWrite);
                }
            } finally {
                toWrite.release();
                budget.give(budgeted);
            }
            return null;
        }, nothing -> written(bytes));
    }

    /** Calls {@code ready} on the loop once the whole body is in memory or on disk (not if it failed or was released). */
    public void finish(Runnable ready) {
        if (failure != null || released) {
            return;
        }
        if (memory != null) {
            ready.run();
            return;
        }
        spoolGathered();
        tasks.chain(() -> null, nothing -> {
            if (failure == null && !released) {
                ready.run();
            }
        });
    }

    @Override
    public long length() {
        return length;
    }

    /**
     * Says at debug that this body, whole now, went to its file, as nginx's "a client request body is buffered to a
     * temporary file" (at its warn level, which its default error_log level does not show: edge's default, info, shows
     * no line per upload either).
     */
    public void logIfInFile(String requestId, HttpRequest request) {
        if (memory == null && LOG.isDebugEnabled()) {
            LOG.debug("[{}] a client request body is buffered to a temporary file in {}: {} bytes, {} {}", requestId,
                    dir, length, request.method(), LogText.escapeBytes(request.uri()));
        }
    }

    /**
     * Writes the whole body to {@code backend} and ends it, a chunk at a time, each written when the backend takes more:
     * from memory the blocks as they are (no copy), from the file chunks each read on a spool thread. Stops when the
     * backend is done or the body released. A read that fails is handed to {@code unreadable} (on the loop), which must
     * end the backend exchange: it must not take part of the body for all of it. The body is kept until {@link
     * #release}, so it can be sent again to another backend (one that never took the request, {@link
     * FcgiExchange#requestUnread}; the next address of a group, nginx's next upstream).
     */
    public void sendTo(Sink backend, Consumer<IOException> unreadable) {
        sending = true;
        if (memory != null) {
            sendBlocks(backend, 0);
            return;
        }
        sendFrom(backend, 0, unreadable);
    }

    /**
     * Writes the blocks held in memory from {@code index} on while the backend takes them, then ends the body. Bounded
     * by the backend's writability as the file's chunks are: the whole body written at once took a direct copy of all
     * of it (a heap buffer is copied to a direct one as it is queued on a socket) for as long as the backend took to
     * read it.
     */
    private void sendBlocks(Sink backend, int index) {
        for (int next = index; ; next++) {
            if (released || memory == null || backend.isDone().getAsBoolean()) {
                return;
            }
            if (next == memory.blocks()) {
                backend.end().run();
                return;
            }
            if (!backend.isWritable().getAsBoolean()) {
                int resumeAt = next;
                backend.onWritable().accept(() -> sendBlocks(backend, resumeAt));
                return;
            }
            backend.write().accept(memory.retainedBlock(next));
        }
    }

    private void sendFrom(Sink backend, long position, Consumer<IOException> unreadable) {
        if (released || backend.isDone().getAsBoolean()) {
            return;
        }
        int bytes = (int) Math.min(READ_CHUNK, length - position);
        tasks.chain(() -> read(position, bytes), chunk -> {
            if (chunk == null || released || backend.isDone().getAsBoolean()) {
                if (chunk != null) {
                    chunk.release();
                } else if (!released && !backend.isDone().getAsBoolean()) {
                    unreadable.accept(failure);
                }
                return;
            }
            backend.write().accept(chunk);
            long next = position + bytes;
            if (next == length) {
                backend.end().run();
            } else if (backend.isWritable().getAsBoolean()) {
                sendFrom(backend, next, unreadable);
            } else {
                backend.onWritable().accept(() -> sendFrom(backend, next, unreadable));
            }
        });
    }

    /**
     * One more holder of the body beside its maker (the exchange a backend's X-Accel-Redirect sends the request on
     * with, and the call that sends it again from there): the body is kept until the maker's {@link #release} and
     * every share's release (the runnable returned, which gives this one back once however often it runs) are done.
     * Taken while the body is held.
     */
    public Runnable share() {
        shares++;
        return new Runnable() {
            private boolean given;

            @Override
            public void run() {
                if (!given) {
                    given = true;
                    shares--;
                    dropIfUnheld();
                }
            }
        };
    }

    /**
     * Its maker lets the body go: dropped now (memory now, the file once the tasks chained before it are done), or
     * once the last {@link #share} is given back. Idempotent.
     */
    public void release() {
        makerReleased = true;
        dropIfUnheld();
    }

    private void dropIfUnheld() {
        if (released || !makerReleased || shares > 0) {
            return;
        }
        released = true;
        if (memory != null) {
            dropMemory();
        }
        gathered.release();
        resumeClient();
        tasks.finish(this::closeFile);
    }

    /** On the loop: the first failure of a file task counts. */
    private void failed(IOException error) {
        if (failure != null) {
            return;
        }
        failure = error;
        if (!sending && !released) {
            onFailure.accept(error);
            release();
        }
    }

    /** A file task: appends {@code buffer} to the file, opening (and unlinking) it first if needed. */
    private void write(ByteBuf buffer) throws IOException {
        if (file == null) {
            file = openUnlinked(dir);
        }
        for (ByteBuffer part : buffer.nioBuffers()) {
            while (part.hasRemaining()) {
                if (part.isDirect() || part.remaining() <= HEAP_WRITE) {
                    file.write(part);
                } else {
                    part.position(part.position() + file.write(part.slice(part.position(), HEAP_WRITE)));
                }
            }
        }
    }

    /*
     * The spool file is opened once, by a name nobody can have made before (O_CREAT|O_EXCL: an existing file or link
     * there fails the open, it is never followed), readable by this user only, and unlinked at once: no step opens it
     * again by its name, so whoever else can write in the directory has no moment to put a file or link of theirs
     * under it. The directory itself must be one nobody else can change: owned by this user (or root, as /tmp), and
     * writable by nobody else unless sticky (where others cannot rename or delete what this user made).
     */

    private static final SecureRandom NAMES = new SecureRandom();
    private static final FileAttribute<?> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    /** A new spool file in {@code dir}, open for reading and writing and already unlinked. */
    static FileChannel openUnlinked(Path dir) throws IOException {
        return openUnlinked(dir, "edge-body-");
    }

    /** As {@link #openUnlinked(Path)}, its name (for the moment it has one) starting with {@code prefix}. */
    static FileChannel openUnlinked(Path dir, String prefix) throws IOException {
        checkSpoolDir(dir);
        for (int attempt = 0; ; attempt++) {
            Path path = dir.resolve(prefix + Long.toUnsignedString(NAMES.nextLong()) + ".tmp");
            FileChannel channel;
            try {
                channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY);
            } catch (FileAlreadyExistsException e) {
                if (attempt < 10) {
                    continue;
                }
                throw e;
            }
            try {
                Files.delete(path); // the descriptor keeps the bytes
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            return channel;
        }
    }

    /** Refuses a spool directory others could put files or links into ({@link SpoolDirectory#refusal}). */
    static void checkSpoolDir(Path dir) throws IOException {
        SpoolDirectory.Refusal refusal = SpoolDirectory.refusal(dir);
        if (refusal != null) {
            throw new IOException("request body spool directory " + dir + " " + refusal.what() + " (expected: "
                    + refusal.expected() + ")");
        }
    }

    /** A file task: {@code bytes} of the file at {@code position}, in a new buffer. */
    private ByteBuf read(long position, int bytes) throws IOException {
        ByteBuf chunk = client.alloc().directBuffer(bytes, bytes);
        try {
            while (chunk.writerIndex() < bytes) {
                if (chunk.writeBytes(file, position + chunk.writerIndex(), bytes - chunk.writerIndex()) < 0) {
                    throw new IOException("request body spool file ended at " + (position + chunk.writerIndex())
                            + " of " + length + " bytes");
                }
            }
            return chunk;
        } catch (IOException | RuntimeException e) {
            chunk.release();
            throw e;
        }
    }

    /** On the loop: {@code bytes} more were written (or dropped); resumes the client's reading below the low mark. */
    private void written(int bytes) {
        unwritten -= bytes;
        progressAt = System.nanoTime();
        if (unwritten <= LOW_WATER) {
            resumeClient();
        }
    }

    /** Lets the client's reading go on, if this body paused it. */
    private void resumeClient() {
        if (pausedClient) {
            pausedClient = false;
            readPause.pause(false);
        }
    }

    /** On the loop, {@code nanos} from now: fails the body if the client is still paused and the spool took nothing. */
    private void checkStallIn(long nanos) {
        try {
            client.eventLoop().schedule(this::checkStall, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // the loop is gone, and the connection with it
        }
    }

    private void checkStall() {
        if (!pausedClient || released || failure != null) {
            return;
        }
        long idle = System.nanoTime() - progressAt;
        if (idle < stallNanos) {
            checkStallIn(stallNanos - idle);
            return;
        }
        failed(new IOException("the request body's spool file in " + dir + " took no bytes for "
                + stallNanos / 1_000_000 + " ms while the client waited (a disk that hangs?)"));
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
