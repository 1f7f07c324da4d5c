package io.edge.conf;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A site's own page for an error status (nginx's {@code error_page}), read when the configuration is loaded: the
 * body edge sends in place of its built-in one, and the URI it was named by, which routes to the location whose
 * always-headers go with it.
 */
public final class ErrorPage {

    /** The largest page read: an error page is a short document, and it is held in memory for every answer. */
    public static final int MAX_BYTES = 64 * 1024;

    private final String uri;
    private final Path file;
    private final String contentType;
    private final byte[] body;

    public ErrorPage(String uri, Path file, String contentType, byte[] body) {
        this.uri = uri;
        this.file = file;
        this.contentType = contentType;
        this.body = body.clone();
    }

    /** The page's path as error-pages names it ("/errors/404.html"), under the site's root. */
    public String uri() {
        return uri;
    }

    public Path file() {
        return file;
    }

    public String contentType() {
        return contentType;
    }

    public int length() {
        return body.length;
    }

    /** The page's bytes, shared and read-only (no copy per answer). */
    public ByteBuffer body() {
        return ByteBuffer.wrap(body).asReadOnlyBuffer();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ErrorPage other && uri.equals(other.uri) && file.equals(other.file) && contentType.equals(other.contentType)
                && Arrays.equals(body, other.body);
    }

    @Override
    public int hashCode() {
        return file.hashCode() * 31 + Arrays.hashCode(body);
    }

    @Override
    public String toString() {
        return "ErrorPage[" + file + ", " + contentType + ", " + body.length + " bytes]";
    }
}
