package io.edge.aio.file;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a pool thread does with a file it has just opened from a file server (FUSE, NFS: a file system whose
 * engine decided so), before the event loop gets it:
 * <ul>
 *   <li>the descriptor is to be closed on {@link #CLOSER}, not on the event loop that may release it last: FUSE's
 *       {@code close} waits for the file server's answer to FLUSH (mergerfs, sshfs, rclone implement it), and an
 *       NFSv4 close is a round trip;</li>
 *   <li>a small file (at most {@code inlineLimit} bytes) is read here, whole, into the buffer its response is
 *       sent from ({@link OpenFile#offerContent}): the opener's read takes it at once, one hand-off per cold small
 *       file instead of two (the open, then the read). The event loop never reads such a file itself, even from the
 *       page cache: there a {@code read} may wait for the server (FUSE with {@code auto_inval_data}, libfuse 3's
 *       default, sends GETATTR once the attribute timeout has passed; NFS revalidates after {@code acregmin}), so
 *       the engines send every other read of these files to a thread ({@link #isFromFileServer}), and their larger
 *       files and ranges too are read there into buffers, a chunk at a time, instead of leaving by {@code sendfile}
 *       from the loop ({@link FileReads#residentRegionOrRead}): FUSE's {@code sendfile} of cached pages does not ask
 *       the server (checked on Linux 6.18), but NFS's revalidates as its {@code read} does. It costs a copy.</li>
 * </ul>
 * Read failures are left for the caller's own read to meet and report. Thread-safe.
 */
final class FileServerFiles {

    private static final Logger log = LoggerFactory.getLogger(FileServerFiles.class);

    /**
     * Closes descriptors of files on file servers ({@link OpenFile#closeOn}), and of large files or files whose path
     * left them ({@link OpenFile#pathLeftIt}) that an event loop released last
     * ({@link OpenFile#CLOSED_OFF_THE_LOOP_ABOVE}): one daemon thread for every engine; a file server that stalls
     * holds up closes (and their fd budget permits), never an event loop.
     */
    static final Executor CLOSER = Executors.newSingleThreadExecutor(ThreadPoolEngine.daemonThreads("edge-file-close-"));

    private final String engine;
    private final int inlineLimit;
    /** Where the small files read at open go: the engine's read buffers, over Netty's default allocator. */
    private final ByteBufAllocator buffers;

    /**
     * @param engine      the engine's name, for log lines
     * @param inlineLimit files up to this size are read at open
     * @param readBuffers the engine's read buffers
     */
    FileServerFiles(String engine, int inlineLimit, ReadBuffers readBuffers) {
        this.engine = engine;
        this.inlineLimit = inlineLimit;
        this.buffers = readBuffers.allocator(ByteBufAllocator.DEFAULT);
    }

    /** Whether {@code file} was opened from a file server (and handled here): the event loop must not read it. */
    static boolean isFromFileServer(OpenFile file) {
        return file.closer() == CLOSER;
    }

    /**
     * On the pool thread that opened {@code file}, a regular file of a file server. It is read whole only if its
     * opener expects to read it ({@code bodyExpected}: not for a HEAD or a probable 304; a conditional GET whose
     * validators are stale is read by the loop's own read, on a thread, instead).
     */
    void opened(OpenFile file, boolean bodyExpected) {
        file.closeOn(CLOSER);
        long size = file.size();
        // A cached file revalidated may still hold bytes its last opener did not take: read them fresh.
        file.dropContent();
        if (!bodyExpected || size == 0 || size > inlineLimit) {
            return;
        }
        ByteBuf content;
        try {
            content = DirectMemory.buffer(buffers, (int) size);
        } catch (DirectMemoryExhaustedException e) {
            return; // a read ahead, not owed: the caller's own read meets the limit and is answered 503
        }
        try {
            FileReads.readFully(file, content, 0);
        } catch (IOException | RuntimeException e) {
            content.release();
            return; // the caller's own read meets it again and reports it
        }
        file.offerContent(content); // the file owns it now
    }

    /**
     * Waits up to {@code waitNanos} for the closes handed to {@link #CLOSER} so far (an engine's close, off an
     * event loop, after dropping its cached descriptors). The thread is shared by every engine in the process.
     */
    void awaitCloses(long waitNanos) {
        awaitCloses(engine, waitNanos);
    }

    /** As {@link #awaitCloses(long)}, for the engine named {@code engine}, whether or not it has file servers. */
    static void awaitCloses(String engine, long waitNanos) {
        try {
            CompletableFuture.runAsync(() -> { }, CLOSER).get(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("{} engine closed with descriptors still being closed (a file server not answering?)", engine);
        }
    }
}
