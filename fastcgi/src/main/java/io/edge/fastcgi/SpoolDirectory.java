package io.edge.fastcgi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether a directory may hold the files request and response bodies are spooled to: only one that nobody but this
 * user (or root), or its group, could put files or links into. Refused: owned by another user, or writable by all
 * without the sticky bit. (Each spool file is also created exclusively, never through a link, 0600, and unlinked at
 * once; this is the second line.) Judged where a body is spooled and, for a configured run directory, by the
 * configuration's check, so that such a directory is found before the first large upload.
 */
public final class SpoolDirectory {

    private static final int S_ISVTX = 01000;
    private static final int WRITABLE_BY_OTHERS = 02;

    private SpoolDirectory() {
    }

    /**
     * Why {@code dir} may not hold spool files, or null if it may.
     *
     * @param what     what is wrong, to follow the directory's name ("is writable by all, mode 0777")
     * @param expected what would be right
     */
    public record Refusal(String what, String expected) {
    }

    /** Why {@code dir} may not hold spool files, or null if it may. Without {@code /proc} the owner is not judged. */
    public static Refusal refusal(Path dir) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(dir, "unix:uid,mode");
        int owner = (Integer) attributes.get("uid");
        int mode = (Integer) attributes.get("mode");
        int self;
        try {
            self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"); // /proc/self is the process's
        } catch (IOException | RuntimeException noProc) {
            self = owner;
        }
        if (owner != self && owner != 0) {
            return new Refusal("is owned by uid " + owner, "owned by this process's uid " + self + " or root");
        }
        if ((mode & WRITABLE_BY_OTHERS) != 0 && (mode & S_ISVTX) == 0) {
            return new Refusal("is writable by all, mode " + String.format("%04o", mode & 07777),
                    "not writable by others, or sticky");
        }
        return null;
    }
}
