package io.edge.aio.file;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.edge.aio.linux.FileStatus;
import io.edge.aio.linux.PageCache;
import io.edge.aio.linux.Syscalls;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
 *   <li>a small file (at most {@code inlineLimit} bytes) is read here, into the page cache, so the loop's read
 *       finds it resident and copies it at once: one hand-off per cold small file instead of two (the open, then
 *       the read). Where that leaves nothing resident (FUSE with {@code direct_io}, overlayfs: the page cache
 *       checked is not the one read into) that file system gets no more read-aheads (logged once).</li>
 * </ul>
 * Read failures are left for the caller's own read to meet and report. Thread-safe.
 */
final class FileServerFiles {

    private static final Logger log = LoggerFactory.getLogger(FileServerFiles.class);

    /**
     * Closes descriptors of files on file servers ({@link OpenFile#closeOn}): one daemon thread for every engine;
     * a file server that stalls holds up closes (and their fd budget permits), never an event loop.
     */
    static final Executor CLOSER = Executors.newSingleThreadExecutor(ThreadPoolEngine.daemonThreads("edge-file-close-"));

    private final String engine;
    private final int inlineLimit;
    private final boolean residencyCheck;
    /** File systems ({@link FileStatus.Key#fileSystem}) where a read-ahead left nothing in the page cache. */
    private final Set<Long> noReadAhead = ConcurrentHashMap.newKeySet();
    /** Where pool threads read small files into the page cache; never looked at. */
    private final ThreadLocal<Memory> readAheadBuffer;

    /**
     * @param engine         the engine's name, for log lines
     * @param inlineLimit    files up to this size are read ahead
     * @param residencyCheck whether reads look at the page cache first ({@code cachestat}); without it a
     *                       read-ahead would only cost, and none is done
     */
    FileServerFiles(String engine, int inlineLimit, boolean residencyCheck) {
        this.engine = engine;
        this.inlineLimit = inlineLimit;
        this.residencyCheck = residencyCheck && PageCache.isAvailable();
        int bufferSize = Math.max(1, inlineLimit);
        this.readAheadBuffer = ThreadLocal.withInitial(() -> new Memory(bufferSize));
    }

    /**
     * On the pool thread that opened {@code file}, a regular file identified by {@code key}. It is read ahead only if its
     * opener expects to read it ({@code bodyExpected}: not for a HEAD or a probable 304; a conditional GET whose
     * validators are stale is read by the loop's own read instead) and it has a descriptor for buffered reads.
     */
    void opened(OpenFile file, FileStatus.Key key, boolean bodyExpected) {
        file.closeOn(CLOSER);
        long size = file.size();
        int fd = file.preadDescriptor();
        if (!bodyExpected || !residencyCheck || fd < 0 || size == 0 || size > inlineLimit
                || noReadAhead.contains(key.fileSystem()) || PageCache.isResident(fd, 0, size)) {
            return;
        }
        long address = Pointer.nativeValue(readAheadBuffer.get());
        for (long done = 0, n; done < size; done += n) {
            n = Syscalls.pread(fd, address, size - done, done);
            if (n <= 0) {
                return;
            }
        }
        if (!PageCache.isResident(fd, 0, size) && noReadAhead.add(key.fileSystem())) {
            log.info("{}: reads from device {} bypass the page cache; no read-ahead at open there", engine,
                    key.deviceName());
        }
    }

    /**
     * Waits up to {@code waitNanos} for the closes handed to {@link #CLOSER} so far (an engine's close, off an
     * event loop, after dropping its cached descriptors). The thread is shared by every engine in the process.
     */
    void awaitCloses(long waitNanos) {
        try {
            CompletableFuture.runAsync(() -> { }, CLOSER).get(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("{} engine closed with descriptors still being closed (a file server not answering?)", engine);
        }
    }
}
