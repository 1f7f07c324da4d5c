package io.edge.aio.file;

import io.edge.aio.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;

/**
 * What a path is, as nginx's {@code if} file tests ask ({@code -f}, {@code -d}, {@code -e}, {@code -x}): its
 * {@code stat(2)}, links followed. Whatever the stat fails with (no such file, a file where a directory is on the way,
 * permission denied on a directory above it, a name too long, a link to nothing) is {@link #MISSING}, as nginx's tests
 * take any failed stat as false (and its negations as true).
 *
 * @param exists          the stat succeeded
 * @param regularFile     a regular file
 * @param directory       a directory
 * @param ownerExecutable the mode's owner execute bit, as nginx's {@code ngx_is_exec} reads it (not {@code access(2)})
 */
public record PathStatus(boolean exists, boolean regularFile, boolean directory, boolean ownerExecutable) {

    /** No such path, or none this process may stat. */
    public static final PathStatus MISSING = new PathStatus(false, false, false, false);

    private static final int S_IXUSR = 0100;

    /**
     * Stats {@code path} as given (a trailing "/" kept: it names a directory, or nothing), {@code statx} where the
     * natives are there, else the JDK. Blocks: for a file engine's thread.
     */
    public static PathStatus of(String path) {
        if (path.isEmpty() || path.indexOf('\0') >= 0) {
            return MISSING; // stat("") is ENOENT; a C string would end at the NUL
        }
        try {
            if (Syscalls.isAvailable()) {
                var stat = Syscalls.stat(path, true);
                return new PathStatus(true, stat.isRegularFile(), stat.isDirectory(), (stat.mode() & S_IXUSR) != 0);
            }
            PosixFileAttributes stat = Files.readAttributes(Path.of(path), PosixFileAttributes.class);
            if (path.endsWith("/") && !stat.isDirectory()) {
                return MISSING; // ENOTDIR, which the JDK's path, its trailing "/" dropped, does not meet
            }
            return new PathStatus(true, stat.isRegularFile(), stat.isDirectory(),
                    stat.permissions().contains(PosixFilePermission.OWNER_EXECUTE));
        } catch (IOException | InvalidPathException | UnsupportedOperationException e) {
            return MISSING;
        }
    }
}
