package io.edge.conf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The temporary run directory of {@code run-dir = ""}: {@code <java.io.tmpdir>/edge-<digits>}, holding a marker,
 * {@value #MARKER}, that names the edge process it belongs to as {@code <pid> <start time> <pid namespace>} (the start
 * time in clock ticks since boot, field 22 of {@code /proc/<pid>/stat}: a pid used again by another process does not
 * match; the namespace as {@code /proc/self/ns/pid} names it, {@code pid:[4026531836]}: a pid means something only
 * in its own namespace, and containers sharing a {@code /tmp} each see their own pid 1). {@code -} stands for what
 * could not be read (no {@code /proc}).
 *
 * <p>An edge killed with {@code kill -9} cannot delete its directory; {@link #removeStale} does, at the next start:
 * a directory is removed only if its name is edge's, it is a directory (not a link) owned by this user, its marker is
 * a regular file of this user that reads as above, written in this process's pid namespace, and that process is
 * gone. Anything in doubt stays (a marker of another namespace, or one with a {@code -}). Links inside are removed,
 * never followed.
 */
public final class TemporaryRunDir {

    static final String MARKER = "edge.pid";
    /** {@link Files#createTempDirectory} names it prefix + an unsigned long. */
    private static final Pattern NAME = Pattern.compile("edge-[0-9]{1,20}");
    private static final Path PROC = Path.of("/proc");

    private TemporaryRunDir() {
    }

    /** The directory temporary run directories are made in, and looked for: {@code java.io.tmpdir} as it is now. */
    public static Path parent() {
        return Path.of(System.getProperty("java.io.tmpdir", "/tmp")).toAbsolutePath();
    }

    /** Makes a new temporary run directory in {@code parent} (owner only), marked as this process's. */
    static Path create(Path parent) throws IOException {
        Path dir = Files.createTempDirectory(parent, "edge-");
        try {
            Files.writeString(dir.resolve(MARKER), marker(ProcessHandle.current().pid()), StandardCharsets.US_ASCII,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(dir.resolve(MARKER));
            Files.deleteIfExists(dir);
            throw e;
        }
        return dir;
    }

    /** The marker's text for the process {@code pid} (of this namespace): its pid, start time and pid namespace. */
    static String marker(long pid) {
        String start;
        try {
            start = Long.toString(startTime(pid));
        } catch (IOException | RuntimeException noProc) {
            start = "-";
        }
        String namespace = pidNamespace();
        return pid + " " + start + " " + (namespace != null ? namespace : "-") + "\n";
    }

    /** This process's pid namespace, as {@code /proc/self/ns/pid} names it ({@code pid:[4026531836]}), or null. */
    static String pidNamespace() {
        try {
            return Files.readSymbolicLink(PROC.resolve("self/ns/pid")).toString();
        } catch (IOException | RuntimeException noProc) {
            return null;
        }
    }

    /**
     * Removes the temporary run directories in {@code parent} left by edge processes that are gone (see the class
     * comment) and returns them. Where there is no {@code /proc} nothing is removed. A directory that cannot be
     * removed, or only in part, is not returned.
     */
    public static List<Path> removeStale(Path parent) {
        List<Path> removed = new ArrayList<>();
        int self;
        String namespace = pidNamespace();
        try {
            self = (Integer) Files.getAttribute(PROC.resolve("self"), "unix:uid"); // its directory is the process's user's
        } catch (IOException | RuntimeException noProc) {
            return removed;
        }
        if (namespace == null) {
            return removed;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, e -> NAME.matcher(
                e.getFileName().toString()).matches())) {
            for (Path dir : entries) {
                try {
                    if (isStale(dir, self, namespace)) {
                        deleteTree(dir);
                        removed.add(dir);
                    }
                } catch (IOException | RuntimeException e) {
                    // kept: in doubt, or not removable by this user
                }
            }
        } catch (IOException | RuntimeException e) {
            // parent unreadable: nothing to remove
        }
        return removed;
    }

    private static boolean isStale(Path dir, int self, String namespace) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isDirectory() || uid(dir) != self) {
            return false;
        }
        Path marker = dir.resolve(MARKER);
        BasicFileAttributes markerAttributes =
                Files.readAttributes(marker, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!markerAttributes.isRegularFile() || markerAttributes.size() > 64 || uid(marker) != self) {
            return false;
        }
        String[] fields = Files.readString(marker, StandardCharsets.US_ASCII).strip().split(" ");
        if (fields.length != 3 || !fields[2].equals(namespace)) {
            return false; // another format, or an edge in another pid namespace (a container sharing this /tmp)
        }
        long pid = Long.parseLong(fields[0]); // a NumberFormatException keeps it
        long start = Long.parseLong(fields[1]);
        try {
            return startTime(pid) != start; // a pid now used by another process
        } catch (NoSuchFileException gone) {
            return true;
        }
    }

    /** Field 22 of {@code /proc/<pid>/stat}, after the command name (which may hold spaces and parentheses). */
    private static long startTime(long pid) throws IOException {
        String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.US_ASCII);
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(after[19]); // field 3 is after[0]
    }

    private static int uid(Path path) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        return (Integer) attributes.get("uid");
    }

    /**
     * Deletes {@code dir} and what is in it; links are removed, never followed. The marker goes last, so a removal
     * that fails half-way is tried again at the next start. A directory gone already is fine (a second stop).
     */
    public static void deleteTree(Path dir) throws IOException {
        Path marker = dir.resolve(MARKER);
        if (Files.notExists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!file.equals(marker)) {
                    Files.deleteIfExists(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException failure) throws IOException {
                if (failure instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // gone meanwhile (a php-fpm still exiting removed its socket)
                }
                throw failure;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path visited, IOException failure) throws IOException {
                if (failure != null) {
                    throw failure;
                }
                if (visited.equals(dir)) {
                    Files.deleteIfExists(marker);
                }
                Files.deleteIfExists(visited);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
