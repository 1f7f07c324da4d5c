package io.edge.aio.path;

/**
 * A request path that cannot name a file: bad percent-encoding, NUL, invalid UTF-8, or ".."
 * climbing above the root. The message names the condition only, never a file system path, so it may be
 * logged; the client gets a plain 400.
 */
public final class MalformedPathException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public MalformedPathException(String message) {
        super(message);
    }
}
