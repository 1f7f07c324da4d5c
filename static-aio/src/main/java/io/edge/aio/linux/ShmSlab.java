package io.edge.aio.linux;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A sparse, unlinked file (in {@code /dev/shm}: memory, not disk) mapped shared into this process: kernel AIO
 * reads land in the mapping, and {@code sendfile} sends from the file through {@link #channel()}.
 *
 * <p>{@code sendfile} from tmpfs hands the socket references to the file's pages, not copies. Writing a range
 * again while a socket still holds its pages would change bytes already "sent"; {@link #punchHole} first
 * detaches the pages from the file ({@code FALLOC_FL_PUNCH_HOLE}), so the next write gets fresh ones and the
 * socket keeps the old. Not thread-safe; {@link #close} is idempotent.
 */
public final class ShmSlab implements AutoCloseable {

    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final AtomicLong NAMES = new AtomicLong();

    private final int fd;
    private final FileChannel channel;
    private final long address;
    private final long size;
    private boolean closed;

    private ShmSlab(int fd, FileChannel channel, long address, long size) {
        this.fd = fd;
        this.channel = channel;
        this.address = address;
        this.size = size;
    }

    /** Creates a slab of {@code size} bytes in {@code dir}, unlinked at once, mapped without populating it. */
    public static ShmSlab create(Path dir, long size) throws IOException {
        Path path = dir.resolve("edge-slab-" + ProcessHandle.current().pid() + '-' + NAMES.incrementAndGet());
        int fd = -1;
        FileChannel channel = null;
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (RandomAccessFile create = new RandomAccessFile(path.toFile(), "rw")) {
                create.setLength(size); // ftruncate: sparse, no page allocated
            }
            fd = Syscalls.openReadWrite(path.toString());
            channel = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ);
            long address = Syscalls.mmapShared(fd, size, 0, false);
            return new ShmSlab(fd, channel, address, size);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            Syscalls.closeQuietly(fd);
            throw e;
        } finally {
            Files.deleteIfExists(path);
        }
    }

    /** The slab as a file, for {@code sendfile}: positional transfers only, never close it. */
    public FileChannel channel() {
        return channel;
    }

    /** Where the mapping starts; {@code offset} in the file is {@code address() + offset} in memory. */
    public long address() {
        return address;
    }

    /** Bytes. */
    public long size() {
        return size;
    }

    /** A view of {@code length} mapped bytes at {@code offset}; valid until {@link #close}. */
    public ByteBuffer view(long offset, int length) {
        return new Pointer(address + offset).getByteBuffer(0, length);
    }

    /** Detaches the pages of a range from the file (they go back to the system once no socket holds them). */
    public void punchHole(long offset, long length) throws IOException {
        int result = Syscalls.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
        if (result < 0) {
            throw Syscalls.error("fallocate(PUNCH_HOLE)", -result);
        }
    }

    /** Unmaps and closes; only once no kernel read still targets the mapping. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Syscalls.munmapQuietly(address, size);
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing was written through this channel.
        }
        Syscalls.closeQuietly(fd);
    }
}
