package io.edge.aio.file;

import java.io.IOException;

/**
 * A confined open met a symbolic link, or a path leaving the root, on the way (ELOOP or EXDEV from
 * {@code openat2}): the caller decides whether the path's links are checked in user space or refused. Thrown
 * often on a tree full of links, so it is one shared instance without a stack trace.
 */
final class LinkOnPathException extends IOException {

    private static final long serialVersionUID = 1L;

    static final LinkOnPathException INSTANCE = new LinkOnPathException();

    private LinkOnPathException() {
        super("a symbolic link or a path out of the root on the way");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // shared and expected: no trace to take
    }
}
