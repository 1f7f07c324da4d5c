package io.edge.aio.linux;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A sparse, unlinked file (in {@code /dev/shm}: memory, not disk) mapped shared into this process: kernel AIO
 * reads land in the mapping, and {@code sendfile} sends from the file through {@link #channel()}.
 *
 * <p>{@code sendfile} from tmpfs hands the socket references to the file's pages, not copies. Writing a range
 * again while a socket still holds its pages would change bytes already "sent"; {@link #punchHole} first
 * detaches the pages from the file ({@code FALLOC_FL_PUNCH_HOLE}), so the next write gets fresh ones and the
 * socket keeps the old. Not on a tmpfs that backs files with huge pages ({@link #hugePageCause}): a huge folio a
 * socket still holds cannot be split off, so the kernel zeroes the punched range in place and the next write
 * lands in bytes being sent. Not thread-safe; {@link #close} is idempotent.
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

    /**
     * Why a slab in {@code dir} would not keep bytes being sent ({@link #punchHole} cannot detach huge pages), or null:
     * the tmpfs holding it is mounted {@code huge=always} or {@code huge=within_size}, or shmem huge pages are forced
     * machine-wide ({@code shmem_enabled} {@code force}, for all sizes or one). Found so on a huge=always /dev/shm:
     * most bodies sent from the slab were zeros.
     */
    public static String hugePageCause(Path dir) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            return null; // the slab's creation says why it cannot be made there
        }
        List<String> forced = new ArrayList<>();
        Path thp = Path.of("/sys/kernel/mm/transparent_hugepage");
        try (DirectoryStream<Path> sizes = Files.newDirectoryStream(thp, "hugepages-*")) {
            forced.add(readQuietly(thp.resolve("shmem_enabled")));
            for (Path size : sizes) {
                forced.add(readQuietly(size.resolve("shmem_enabled")));
            }
        } catch (IOException | RuntimeException noThp) {
            // no transparent huge pages here (or no /sys): nothing forces them
        }
        return hugePageCause(real, readQuietly(Path.of("/proc/self/mounts")), forced);
    }

    /**
     * {@link #hugePageCause(Path)} from {@code mounts} (as /proc/self/mounts: the last mount of a point is the one
     * seen) and the {@code shmem_enabled} settings ({@code "always [never] force"}: the bracketed one is in force).
     */
    static String hugePageCause(Path realDir, String mounts, List<String> shmemEnabled) {
        for (String setting : shmemEnabled) {
            if (setting.contains("[force]")) {
                return "shmem huge pages are forced (/sys/kernel/mm/transparent_hugepage: shmem_enabled = force): "
                        + "a slab's huge page cannot be detached while a send holds it";
            }
        }
        String point = null;
        String type = null;
        String options = null;
        for (String line : mounts.split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length < 4) {
                continue;
            }
            String mountPoint = unescape(fields[1]);
            if (realDir.startsWith(mountPoint) && (point == null || mountPoint.length() >= point.length())) {
                point = mountPoint;
                type = fields[2];
                options = fields[3];
            }
        }
        if (point == null || !type.equals("tmpfs")) {
            return null;
        }
        for (String option : options.split(",")) {
            if (option.equals("huge=always") || option.equals("huge=within_size")) {
                return "the tmpfs at " + point + " is mounted " + option + ": a slab's huge page cannot be detached"
                        + " while a send holds it (bytes being sent would be overwritten); mount it huge=never";
            }
        }
        return null;
    }

    /** A mount point as /proc/self/mounts writes it: space, tab, newline and backslash as octal escapes. */
    private static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return "";
        }
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
