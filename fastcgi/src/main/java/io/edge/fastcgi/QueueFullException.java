package io.edge.fastcgi;

/**
 * Every connection slot was busy and the wait queue already held {@code queue.max-waiters} requests.
 *
 * <p>{@code group}: the group as its pool names it, "fastcgi group php" or "proxy backend api".
 */
public final class QueueFullException extends BackendBusyException {

    public QueueFullException(String group, int maxWaiters) {
        this(group, maxWaiters, DEFAULT_RETRY_AFTER);
    }

    /** @param retryAfterSeconds the group's queue.retry-after (see {@link BackendBusyException#retryAfterSeconds}) */
    public QueueFullException(String group, int maxWaiters, int retryAfterSeconds) {
        super(group + ": wait queue full (" + maxWaiters + " waiters)", retryAfterSeconds);
    }
}
