package io.edge.cache.content;

import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * What is known about a cached file besides its bytes; the HTTP core builds its headers from it.
 *
 * @param file          the file and version the bytes were read from; its size is the cached content's length
 * @param etag          the entity tag to send, quoted, or {@code null}
 * @param contentType   the media type to send, or {@code null}
 * @param confined      read from a file reached with no symbolic link on the way (opened beneath its site's root
 *                      so, or found by its descriptor at its own path): only
 *                      such content may answer a request whose path was not checked for links (the open was to
 *                      refuse them), since another site may have read a link's target under the same path
 */
public record ContentMetadata(FileVersion file, String etag, String contentType, boolean confined) {

    public ContentMetadata {
        Objects.requireNonNull(file, "file");
    }

    /** Metadata of content not known to be {@code confined}. */
    public ContentMetadata(FileVersion file, String etag, String contentType) {
        this(file, etag, contentType, false);
    }

    /** The file's size in bytes, equal to the cached content's length. */
    public long size() {
        return file.size();
    }

    /** The file's mtime when it was read. */
    public FileTime lastModified() {
        return FileTime.fromMillis(file.lastModifiedMillis());
    }

    /**
     * True when {@code now}, a stat of the path, still describes the file that was read: the same file (device and
     * inode), size, mtime and ctime.
     */
    boolean matches(FileVersion now) {
        return file.equals(now);
    }
}
