package io.edge.aio.path;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a request path leads under a site root.
 *
 * @param status   whether the path may be served, and if not why
 * @param uriPath  the decoded, normalised request path ("/a/b/", trailing slash kept), or {@code null} when
 *                 the raw path was malformed
 * @param file     the file to open (its real path when links were checked) when {@code status} is
 *                 {@link Status#OK}, else {@code null}
 * @param reason   why a path was refused, for the error log only: it never names a file system path
 */
public record Resolution(Status status, String uriPath, Path file, String reason) {

    /** The outcome; the core maps it to 200/400/403/404. */
    public enum Status { OK, BAD_REQUEST, FORBIDDEN, NOT_FOUND }

    public Resolution {
        Objects.requireNonNull(status, "status");
        if ((status == Status.OK) != (file != null)) {
            throw new IllegalArgumentException("file must be set exactly when status is OK");
        }
    }

    static Resolution ok(String uriPath, Path file) {
        return new Resolution(Status.OK, uriPath, file, "");
    }

    static Resolution refused(Status status, String uriPath, String reason) {
        return new Resolution(status, uriPath, null, reason);
    }

    public boolean isOk() {
        return status == Status.OK;
    }
}
