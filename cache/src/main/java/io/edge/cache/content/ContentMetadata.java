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
 * @param confined      read from a file opened beneath its site's root with no symbolic link on the way: only
 *                      such content may answer a request whose path was not checked for links (the open was to
 *                      refuse them), since another site may have read a link's target under the same path
 */
public record ContentMetadata(long size, FileTime lastModified, String etag, String contentType, boolean confined) {

    public ContentMetadata {
        Objects.requireNonNull(lastModified, "lastModified");
    }

    /** Metadata of content not known to be {@code confined}. */
    public ContentMetadata(long size, FileTime lastModified, String etag, String contentType) {
        this(size, lastModified, etag, contentType, false);
    }

    /** True when {@code stat} still describes the file that was read: same size, same mtime. */
    boolean matches(BasicFileAttributes stat) {
        // Milliseconds, as the server's ETag and Last-Modified, so metadata built from either compares equal.
        return stat.isRegularFile() && stat.size() == size
                && lastModified.toMillis() == stat.lastModifiedTime().toMillis();
    }
}
