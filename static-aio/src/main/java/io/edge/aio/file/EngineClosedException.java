package io.edge.aio.file;

import java.io.IOException;

/**
 * The file engine (or the event loop it reads on) closed before an operation ran or ended: a reload replaced the
 * engine and its drain timeout passed, or the server stops. Expected, so logged without a stack trace.
 */
public final class EngineClosedException extends IOException {

    private static final long serialVersionUID = 1L;

    public EngineClosedException(String message) {
        super(message);
    }
}
