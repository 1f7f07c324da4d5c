package io.edge.fastcgi;

/**
 * The backend group is busy: the request was not run and may be retried later. The HTTP core answers
 * 503 with {@code Retry-After}. No stack trace: under saturation these are thrown by the thousand.
 */
public abstract class BackendBusyException extends RuntimeException {

    protected BackendBusyException(String message) {
        super(message, null, false, false);
    }
}
