package io.edge.core.auth;

import io.edge.conf.Htpasswd;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An htpasswd file's users as read last: at the configuration's load, then by {@link #refresh} (once a second, off the
 * event loops) whenever the file changed (its inode, size, modification or change time), as nginx, which reads the
 * file at every request, sees an edit at once. A file gone or unreadable refuses everyone as nginx does (403, 500) until
 * it can be read again; lines that name no usable user are left out, with a warning (the others count). One per file,
 * whatever locations and configurations name it ({@link #of}).
 */
public final class UserFile {

    private static final Logger LOG = LoggerFactory.getLogger(UserFile.class);
    private static final Map<Path, UserFile> FILES = new ConcurrentHashMap<>();

    /** What the file is now. */
    public enum State { READ, MISSING, UNREADABLE }

    private final Path path;
    private volatile Htpasswd users;
    private volatile State state = State.READ;
    /** What the file was when it was last read; null: read it again at the next refresh. */
    private List<Object> version;

    private UserFile(Path path, Htpasswd loaded) {
        this.path = path;
        this.users = loaded;
    }

    /**
     * The one for {@code path}: made with {@code loaded} (the file as the configuration just read it), or the one made
     * before, which its refreshes keep current.
     */
    public static UserFile of(Path path, Htpasswd loaded) {
        return FILES.computeIfAbsent(path, p -> new UserFile(p, loaded));
    }

    /** The users as last read. */
    public Htpasswd users() {
        return users;
    }

    public State state() {
        return state;
    }

    /** Reads the file again if it changed since it was last read. Blocks on the disk: never on an event loop. */
    public synchronized void refresh() {
        try {
            List<Object> now = version();
            if (now.equals(version) && state == State.READ) {
                return;
            }
            Htpasswd read = Htpasswd.parse(Files.readString(path, StandardCharsets.ISO_8859_1));
            for (String problem : read.problems()) {
                LOG.warn("auth-basic user file {}, {}: that user is left out", path, problem);
            }
            users = read;
            version = now; // as before the read: a change meanwhile is read at the next refresh
            if (state != State.READ) {
                LOG.info("auth-basic user file {} is read again: {} users", path, read.users().size());
            }
            state = State.READ;
        } catch (NoSuchFileException e) {
            changeState(State.MISSING, "is gone: every request for it is refused (403) until it is back");
        } catch (IOException | RuntimeException e) {
            changeState(State.UNREADABLE, "cannot be read (" + e + "): every request for it gets 500 until it can");
        }
    }

    private void changeState(State next, String what) {
        if (state != next) {
            LOG.warn("auth-basic user file {} {}", path, what);
        }
        state = next;
        version = null;
    }

    /** The file's inode, size, modification and change times: any edit, a rename over it or a copy that keeps times. */
    private List<Object> version() throws IOException {
        Map<String, Object> attributes = Files.readAttributes(path, "unix:ino,size,lastModifiedTime,ctime");
        return List.of(Objects.toString(attributes.get("ino")), Objects.toString(attributes.get("size")),
                Objects.toString(attributes.get("lastModifiedTime")), Objects.toString(attributes.get("ctime")));
    }
}
