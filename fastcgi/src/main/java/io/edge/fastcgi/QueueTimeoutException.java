package io.edge.fastcgi;

import java.time.Duration;

/** A request waited {@code queue.timeout} for a connection slot and got none. */
public final class QueueTimeoutException extends BackendBusyException {

    public QueueTimeoutException(String group, Duration waited) {
        super("fastcgi group " + group + ": no connection slot within " + waited.toMillis() + " ms");
    }
}
