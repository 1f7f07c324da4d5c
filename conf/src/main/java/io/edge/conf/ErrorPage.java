package io.edge.conf;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * A site's own page for an error status (nginx's {@code error_page}), read when the configuration is loaded: the
 * body edge sends in place of its built-in one, and the URI it was named by, which routes to the location whose
 * always-headers go with it. Or a named location ({@link #named(String, int)}, {@code 404 = "@app"}) that answers the
 * request in place of a page.
 */
public final class ErrorPage {

    /** The largest page read: an error page is a short document, and it is held in memory for every answer. */
    public static final int MAX_BYTES = 64 * 1024;

    private final String uri;
    private final Path file;
    private final String contentType;
    private final byte[] body;
    /** For a {@link #named} one: the status its answer goes with; -1 the error's, 0 the location's own. */
    private final int answerStatus;
    private final boolean missing;

    public ErrorPage(String uri, Path file, String contentType, byte[] body) {
        this(uri, file, contentType, body, -1, false);
    }

    private ErrorPage(String uri, Path file, String contentType, byte[] body, int answerStatus, boolean missing) {
        this.uri = uri;
        this.file = file;
        this.contentType = contentType;
        this.body = body.clone();
        this.answerStatus = answerStatus;
        this.missing = missing;
    }

    /**
     * A page ({@code 503 = "/errors/503.html"}, {@code 301 = "/moved.html"}) whose {@code file} was not there when the
     * configuration was read, or was a link to nothing: no problem, as nginx -t looks for no error_page file, and the
     * error is answered as nginx's then is, its error_page redirect finding nothing: 404 with the built-in page (a
     * redirect's Location kept), not paged again.
     */
    public static ErrorPage missing(String uri, Path file) {
        return new ErrorPage(uri, file, null, new byte[0], -1, true);
    }

    /**
     * The named location {@code name} ({@code "@app"}) answers the error's request, its method and URI unchanged, as
     * nginx's {@code error_page 404 @app}: with the error's status ({@code answerStatus} -1, written {@code "@app"}),
     * its own ({@code 0}, {@code "= @app"}) or {@code answerStatus} ({@code "=200 @app"}).
     */
    public static ErrorPage named(String name, int answerStatus) {
        return new ErrorPage(name, null, null, new byte[0], answerStatus, false);
    }

    /** Whether the page's file was not there when the configuration was read ({@link #missing(String, Path)}). */
    public boolean missing() {
        return missing;
    }

    /** Whether a named location answers in place of a page ({@link #named(String, int)}). */
    public boolean named() {
        return file == null;
    }

    /** For a {@link #named} one: the status its answer goes with; -1 the error's, 0 the location's own. */
    public int answerStatus() {
        return answerStatus;
    }

    /** The page's path as error-pages names it ("/errors/404.html"), under the site's root; a named location's name. */
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
        return o instanceof ErrorPage other && uri.equals(other.uri) && Objects.equals(file, other.file)
                && Objects.equals(contentType, other.contentType) && Arrays.equals(body, other.body)
                && answerStatus == other.answerStatus && missing == other.missing;
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(file) * 31 + Arrays.hashCode(body) + uri.hashCode();
    }

    @Override
    public String toString() {
        return named() ? "ErrorPage[" + uri + ", status " + answerStatus + "]"
                : missing ? "ErrorPage[" + file + ", missing]"
                : "ErrorPage[" + file + ", " + contentType + ", " + body.length + " bytes]";
    }
}
