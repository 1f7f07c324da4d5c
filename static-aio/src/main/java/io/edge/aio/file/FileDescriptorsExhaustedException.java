package io.edge.aio.file;

import java.io.IOException;

/**
 * The process or the system ran out of file descriptors (EMFILE/ENFILE) even after the open-file cache
 * gave back what it could. A temporary condition: the core answers 503, never 403 or 404.
 */
public final class FileDescriptorsExhaustedException extends IOException {

    private static final long serialVersionUID = 1L;

    public FileDescriptorsExhaustedException(String message, Throwable cause) {
        super(message, cause);
    }
}
