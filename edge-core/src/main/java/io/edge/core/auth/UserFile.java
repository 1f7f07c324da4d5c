package io.edge.core.auth;

import io.edge.conf.Htpasswd;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An htpasswd file's users as read last: at the configuration's load, then by {@link #refresh} (once a second, off the
 * event loops) whenever its modification time or size changed, as nginx, which reads the file at every request, sees
 * an edit at once. A file that turns unreadable keeps the users read before, with a warning; lines that name no usable
 * user are left out, with a warning (the others count).
 */
public final class UserFile {

    private static final Logger LOG = LoggerFactory.getLogger(UserFile.class);

    private final Path path;
    private volatile Htpasswd users;
    private FileTime modified;
    private long size = -1;
    private boolean unreadable;

    /** @param loaded the file as the configuration read it */
    public UserFile(Path path, Htpasswd loaded) {
        this.path = path;
        this.users = loaded;
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            modified = attributes.lastModifiedTime();
            size = attributes.size();
        } catch (IOException e) {
            // read just now by the configuration: the next refresh reads it again
        }
    }

    public Path path() {
        return path;
    }

    /** The users now. */
    public Htpasswd users() {
        return users;
    }

    /** Reads the file again if it changed since it was last read. Blocks on the disk: never on an event loop. */
    public synchronized void refresh() {
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (attributes.lastModifiedTime().equals(modified) && attributes.size() == size && !unreadable) {
                return;
            }
            Htpasswd read = Htpasswd.parse(Files.readString(path, StandardCharsets.UTF_8));
            for (String problem : read.problems()) {
                LOG.warn("auth-basic user file {}: {}: that user is left out", path, problem);
            }
            users = read;
            modified = attributes.lastModifiedTime();
            size = attributes.size();
            if (unreadable) {
                LOG.info("auth-basic user file {} is read again: {} users", path, read.users().size());
            }
            unreadable = false;
        } catch (IOException | RuntimeException e) {
            if (!unreadable) {
                LOG.warn("auth-basic user file {} cannot be read ({}): its users as last read stay", path, e.toString());
            }
            unreadable = true;
        }
    }
}
