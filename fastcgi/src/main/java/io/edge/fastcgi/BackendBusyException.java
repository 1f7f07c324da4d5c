package io.edge.fastcgi;

/**
 * The backend group is busy: the request was not run and may be retried later. The HTTP core answers
 * 503 with {@code Retry-After}. No stack trace: under saturation these are thrown by the thousand.
 */
public abstract class BackendBusyException extends RuntimeException {

    /** The server's own, for a failure that names none. */
    public static final int DEFAULT_RETRY_AFTER = -1;

    private final int retryAfterSeconds;

    protected BackendBusyException(String message) {
        this(message, DEFAULT_RETRY_AFTER);
    }

    /** @param retryAfterSeconds what the 503's Retry-After says: 0 leaves it out, {@link #DEFAULT_RETRY_AFTER} */
    protected BackendBusyException(String message, int retryAfterSeconds) {
        super(message, null, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Seconds the 503 tells the client to wait ({@code Retry-After}), 0 for none, or {@link #DEFAULT_RETRY_AFTER}. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
