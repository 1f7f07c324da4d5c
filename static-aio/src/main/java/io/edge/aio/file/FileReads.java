package io.edge.aio.file;

import io.edge.aio.linux.PageCache;
import io.edge.aio.linux.Syscalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Range checks and the blocking positional read that the engines share. */
final class FileReads {

    private FileReads() {
    }

    /** Rejects directories and ranges that are empty or reach outside the file as opened. */
    static void checkRange(OpenFile file, long offset, long length) {
        if (file.isDirectory()) {
            throw new IllegalArgumentException("a directory has no content");
        }
        if (offset < 0 || length < 1 || offset > file.size() - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " (expected: non-empty, within "
                    + file.size() + " bytes)");
        }
    }

    /**
     * {@link FileEngine#loadRegion} for the engines that read asynchronously: a range all in the page cache
     * leaves as {@code engine.region} ({@code sendfile}) at once; any other range is first read by
     * {@code engine.read} into a buffer (meeting a full queue as {@code whenFull} says), since {@code sendfile} of a
     * range not in memory would hold the writing event loop for the disk, and then leaves as a region too if the read
     * left it all in the page cache, else in that buffer. A file server's file
     * ({@link FileServerFiles#isFromFileServer}) is always read that way: its {@code sendfile} may wait for the server
     * even from the page cache (NFS revalidates the file's attributes after {@code acregmin}, and a hard mount whose
     * server is gone waits for ever). Residency is told by {@link PageCache#isResident} ({@code mincore}), which
     * counts a page still being read as absent: a chunk some other read or readahead is bringing in is read too, never
     * sent by a {@code sendfile} that would wait on its page lock. Where residency cannot be told (no natives, no raw
     * descriptor), the range is read too: a {@code sendfile} of it might wait for the disk.
     */
    static CompletionStage<Object> residentRegionOrRead(FileEngine engine, OpenFile file, long offset, long length,
            FileEngine.WhenFull whenFull) {
        return residentRegionOrRead(engine, file, offset, length,
                (whole, at, bytes) -> engine.read(whole, at, bytes, PooledByteBufAllocator.DEFAULT, whenFull));
    }

    /** Tells whether a range of a descriptor is in the page cache; {@link PageCache#isResident}, or a test's. */
    interface Residency {
        boolean isResident(int fd, long offset, long length);
    }

    /** How a range that is not in the page cache is read: {@link FileEngine#read}, or one given less time. */
    interface Reader {
        CompletionStage<ByteBuf> read(OpenFile file, long offset, int length);
    }

    /**
     * As {@link #residentRegionOrRead(FileEngine, OpenFile, long, long, FileEngine.WhenFull)}, reading with
     * {@code reader}.
     */
    static CompletionStage<Object> residentRegionOrRead(FileEngine engine, OpenFile file, long offset, long length,
            Reader reader) {
        return residentRegionOrRead(engine, file, offset, length, reader, PageCache::isResident);
    }

    /**
     * As {@link #residentRegionOrRead(FileEngine, OpenFile, long, long, Reader)}, told by {@code residency}. Where
     * residency can be told, a range that was read is then sent from the page cache the read filled, as a region,
     * its buffer given back at once: a client slow to take a large file's pieces (a stalled download, a video
     * paused) holds no memory of ours while its socket drains, only its reference to the file, as with nginx's
     * {@code sendfile}; held buffers of a megabyte each, a few hundred such clients took all the direct memory and
     * other cold files got 503. A range no longer all there once read (memory so short that the kernel dropped it
     * again) leaves in its buffer. A caller that stops waiting and cancels the stage reaches the read (one still
     * waiting for a pool thread is then skipped).
     */
    @SuppressWarnings("unchecked") // a stage of ByteBuf is one of Object, read only
    static CompletionStage<Object> residentRegionOrRead(FileEngine engine, OpenFile file, long offset, long length,
            Reader reader, Residency residency) {
        checkRange(file, offset, length);
        if (length > engine.chunkSize()) {
            throw new IllegalArgumentException("length: " + length + " (expected: <= chunkSize " + engine.chunkSize() + ")");
        }
        boolean told = !FileServerFiles.isFromFileServer(file) && PageCache.isAvailable() && file.hasRawDescriptor();
        if (told && residency.isResident(file.fd(), offset, length)) {
            return CompletableFuture.completedFuture(engine.region(file, offset, length));
        }
        CompletableFuture<ByteBuf> read = reader.read(file, offset, (int) length).toCompletableFuture();
        if (!told) {
            return (CompletionStage<Object>) (CompletionStage<?>) read;
        }
        return sentFromCacheOnceRead(engine, file, offset, length, read, residency);
    }

    /**
     * What {@code read} read of the range, as a region of the file if the range is all in the page cache once it is
     * done, else as its buffer. Cancelling the stage cancels the read; a piece that comes after its caller stopped
     * waiting is released. The file is held until then: the region is made where the read completes (a pool thread),
     * perhaps just as the caller lets the file go. As for a range found in the page cache, residency is told once:
     * a client so slow that the kernel drops the pages again before it took them all has the rest of the region's
     * {@code sendfile} read them back on the event loop (memory pressure and a stalled download at once).
     */
    private static CompletionStage<Object> sentFromCacheOnceRead(FileEngine engine, OpenFile file, long offset,
            long length, CompletableFuture<ByteBuf> read, Residency residency) {
        CompletableFuture<Object> piece = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                read.cancel(mayInterruptIfRunning);
                return super.cancel(mayInterruptIfRunning);
            }
        };
        file.retain();
        read.whenComplete((buffer, failure) -> {
            Object message = buffer;
            try {
                if (failure == null && !piece.isDone() && residency.isResident(file.fd(), offset, length)) {
                    message = engine.region(file, offset, length); // holding a reference of its own
                    buffer.release();
                }
            } finally {
                // let go before the stage completes, as the engines' reads do: a caller that saw it sees the count too
                file.release();
            }
            if (failure != null) {
                piece.completeExceptionally(failure);
            } else if (!piece.complete(message)) {
                ReferenceCountUtil.release(message);
            }
        });
        return piece;
    }

    /**
     * The range from the bytes a file server's small file was read into as it was opened
     * ({@link OpenFile#takeContent}), counted in {@code counters} as a read answered at once; null when none are held.
     */
    static CompletableFuture<ByteBuf> readAtOpen(OpenFile file, long offset, int length, EngineCounters counters) {
        ByteBuf opened = file.takeContent(offset, length);
        if (opened == null) {
            return null;
        }
        counters.residentReads.increment();
        return CompletableFuture.completedFuture(opened);
    }

    /**
     * The range in a buffer from {@code buffers} if every page of it is in the page cache, read at once on the
     * caller's thread by {@code preadv2} with {@code RWF_NOWAIT}: one call where a residency check and a
     * {@code pread} make two, and a page the kernel is still reading counts as absent instead of being waited
     * for. A file system that refuses the flag (tmpfs, overlayfs…; none of
     * {@link io.edge.aio.linux.FileSystems#takesNoWaitReads}) has the range told by {@link PageCache#isResident}
     * and then read. Null when any page is not cached, the file ended first or the file has no raw descriptor:
     * nothing was learned, and the caller reads the usual way. Not for a file server's file, whose cached pages
     * may still wait for the server.
     *
     * @throws DirectMemoryExhaustedException if the direct memory limit leaves no room for the buffer
     */
    static ByteBuf readIfResident(OpenFile file, long offset, int length, ByteBufAllocator buffers) {
        int fd = file.preadDescriptor();
        if (fd < 0 || !Syscalls.isAvailable()) {
            return null;
        }
        ByteBuf buffer = DirectMemory.buffer(buffers, length);
        boolean handedOff = false;
        try {
            if (!buffer.hasMemoryAddress() || buffer.writableBytes() != length) {
                return null;
            }
            long n;
            do {
                n = Syscalls.preadv2(fd, buffer.memoryAddress() + buffer.writerIndex(), length, offset,
                        Syscalls.RWF_NOWAIT);
            } while (n == -Syscalls.EINTR);
            if (n == -Syscalls.EOPNOTSUPP) {
                if (!PageCache.isResident(fd, offset, length)) {
                    return null;
                }
                try {
                    readFully(file, buffer, offset);
                } catch (IOException e) {
                    return null; // the caller's own read meets it and reports it
                }
            } else if (n == length) {
                buffer.writerIndex(buffer.writerIndex() + length);
            } else {
                return null;
            }
            handedOff = true;
            return buffer; // ownership passes to the caller
        } finally {
            if (!handedOff) {
                buffer.release();
            }
        }
    }

    /**
     * A read of a range that is in the page cache, done at once on the caller's thread (a memory copy: cheaper
     * than a hand-off to a thread or a ring for the small ranges engines read whole), into a buffer from
     * {@code buffers} that the returned stage hands to the caller.
     */
    static CompletableFuture<ByteBuf> readResident(OpenFile file, long offset, int length, ByteBufAllocator buffers) {
        ByteBuf buffer = DirectMemory.buffer(buffers, length);
        try {
            readFully(file, buffer, offset);
            return CompletableFuture.completedFuture(buffer); // ownership passes to the caller
        } catch (IOException | RuntimeException e) {
            buffer.release();
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Fills {@code buffer}'s writable bytes from {@code file} at {@code offset}: {@code pread} on its raw descriptor
     * straight into a direct buffer's memory where it can, else through its channel.
     *
     * @throws EOFException if the file ends first (it shrank after it was opened)
     */
    static void readFully(OpenFile file, ByteBuf buffer, long offset) throws IOException {
        int fd = file.preadDescriptor();
        if (fd < 0 || !buffer.hasMemoryAddress() || !Syscalls.isAvailable()) {
            readFully(file.channel(), buffer, offset);
            return;
        }
        long end = offset + buffer.writableBytes();
        long position = offset;
        while (buffer.isWritable()) {
            long n = Syscalls.pread(fd, buffer.memoryAddress() + buffer.writerIndex(), buffer.writableBytes(), position);
            if (n == -Syscalls.EINTR) {
                continue;
            }
            if (n < 0) {
                throw new FileSystemException(file.path().toString(), null, Syscalls.describe((int) -n));
            }
            if (n == 0) {
                throw new EOFException("file shrank below " + end + " bytes while being read");
            }
            buffer.writerIndex(buffer.writerIndex() + (int) n);
            position += n;
        }
    }

    /**
     * Fills {@code buffer}'s writable bytes from {@code channel} at {@code offset} with positional reads.
     *
     * @throws EOFException if the file ends first (it shrank after it was opened)
     */
    static void readFully(FileChannel channel, ByteBuf buffer, long offset) throws IOException {
        long end = offset + buffer.writableBytes();
        long position = offset;
        while (buffer.isWritable()) {
            int n = buffer.writeBytes(channel, position, buffer.writableBytes());
            if (n < 0) {
                throw new EOFException("file shrank below " + end + " bytes while being read");
            }
            position += n;
        }
    }
}
