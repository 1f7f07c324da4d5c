package io.edge.aio.path;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
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
 * @param beneath  when not null, the file's links were not checked ({@link #confined()}): it must be opened
 *                 beneath this root, the resolver's when it resolved ({@link PathResolver#rootDirectory()}),
 *                 which refuses any link on the way, and a link found there calls for
 *                 {@link PathResolver#checkLinks}
 * @param relative the path of {@code file} below the root, normalised, without a leading '/' ("" for the root itself):
 *                 {@code uriPath} past what the root stands for ("/", an alias's prefix "/thumbs/"), or what an alias
 *                 in a regex location makes of it; set on what {@link PathResolver#resolveForOpen(String)} made (a
 *                 file still to be checked or opened beneath the root, {@link #relativePath()}, or one whose name a
 *                 suffix extends, {@link PathResolver#resolveForOpen(Resolution, String)}), else null
 * @param linksToCheck the file's links were not checked, and no root is held to open it beneath
 *                 ({@link #linksToCheck()}): {@link PathResolver#checkLinks} decides, off the event loop, before it
 *                 is opened
 */
public record Resolution(Status status, String uriPath, Path file, String reason, RootDirectory beneath,
                         String relative, boolean linksToCheck) {

    /**
     * The outcome; the core maps it to 200/400/403/404, and FAILED to 500: the file system could not answer (an I/O
     * error, a file server gone: ENOTCONN, ESTALE), which says nothing of whether the file exists.
     */
    public enum Status { OK, BAD_REQUEST, FORBIDDEN, NOT_FOUND, FAILED }

    public Resolution {
        Objects.requireNonNull(status, "status");
        if ((status == Status.OK) != (file != null)) {
            throw new IllegalArgumentException("file must be set exactly when status is OK");
        }
        if (linksToCheck && (beneath != null || status != Status.OK)) {
            throw new IllegalArgumentException("links are checked before an open beneath no root, of a file to open");
        }
    }

    public Resolution(Status status, String uriPath, Path file, String reason) {
        this(status, uriPath, file, reason, null, null, false);
    }

    static Resolution ok(String uriPath, Path file) {
        return new Resolution(Status.OK, uriPath, file, "");
    }

    /** A file whose links there is nothing to check of (they may lead anywhere), made lexically: its relative path. */
    static Resolution lexical(String uriPath, Path file, String relative) {
        return new Resolution(Status.OK, uriPath, file, "", null, Objects.requireNonNull(relative, "relative"), false);
    }

    static Resolution confined(String uriPath, Path lexicalFile, RootDirectory beneath, String relative) {
        return new Resolution(Status.OK, uriPath, lexicalFile, "", Objects.requireNonNull(beneath, "beneath"),
                Objects.requireNonNull(relative, "relative"), false);
    }

    static Resolution linksToCheck(String uriPath, Path lexicalFile, String relative) {
        return new Resolution(Status.OK, uriPath, lexicalFile, "", null, Objects.requireNonNull(relative, "relative"),
                true);
    }

    static Resolution refused(Status status, String uriPath, String reason) {
        return new Resolution(status, uriPath, null, reason);
    }

    /** The path to open relative to the root: {@link #relative} ("." for the root). */
    public String relativePath() {
        return relative.isEmpty() ? "." : relative;
    }

    /** Whether the file must be opened beneath {@link #beneath()}: its links were not checked. */
    public boolean confined() {
        return beneath != null;
    }

    /**
     * Whether the file's links were not checked: it is opened {@link #confined()} or after
     * {@link PathResolver#checkLinks} ({@link #linksToCheck()}). Only a file reached with no link on the way (an
     * {@code OpenFile}'s {@code confined()}) answers it without either.
     */
    public boolean linksUnchecked() {
        return beneath != null || linksToCheck;
    }

    public boolean isOk() {
        return status == Status.OK;
    }

    /**
     * This resolution if it may be opened; else what its refusal means for an open.
     *
     * @throws NoSuchFileException   NOT_FOUND (404)
     * @throws AccessDeniedException any other refusal (403)
     */
    public Resolution requireOk() throws IOException {
        switch (status) {
            case OK -> {
                return this;
            }
            case NOT_FOUND -> throw new NoSuchFileException(uriPath, null, reason);
            case FAILED -> throw new IOException(uriPath + ": " + reason);
            default -> throw new AccessDeniedException(uriPath, null, reason);
        }
    }
}
