package io.edge.aio.file;

import java.io.IOException;

/** Every slot for a pending open or read is taken: the server is overloaded (a 503, retry later). */
public final class ReadQueueFullException extends IOException {

    private static final long serialVersionUID = 1L;

    public ReadQueueFullException(String message) {
        super(message);
    }
}
