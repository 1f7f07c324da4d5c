package io.edge.cache.content;

import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * What is known about a cached file besides its bytes; the HTTP core builds its headers from it.
 *
 * @param size          the file's size in bytes, equal to the cached content's length
 * @param lastModified  the file's mtime when it was read
 * @param etag          the entity tag to send, quoted, or {@code null}
 * @param contentType   the media type to send, or {@code null}
 */
public record ContentMetadata(long size, FileTime lastModified, String etag, String contentType) {

    public ContentMetadata {
        Objects.requireNonNull(lastModified, "lastModified");
    }

    /** True when {@code stat} still describes the file that was read: same size, same mtime. */
    boolean matches(BasicFileAttributes stat) {
        // Milliseconds, as the server's ETag and Last-Modified, so metadata built from either compares equal.
        return stat.isRegularFile() && stat.size() == size
                && lastModified.toMillis() == stat.lastModifiedTime().toMillis();
    }
}
