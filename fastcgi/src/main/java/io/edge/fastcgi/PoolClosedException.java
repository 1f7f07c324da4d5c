package io.edge.fastcgi;

/**
 * A request was queued for a backend pool that closed before it had a connection: the configuration it came under was
 * replaced and its drain ended, or edge stops. It never ran, so it may be asked again: 503 with {@code Retry-After}
 * (it was a 502, as if the backend had failed it).
 *
 * <p>{@code group}: the group as its pool names it, "fastcgi group php" or "proxy backend api".
 */
public final class PoolClosedException extends BackendBusyException {

    /** @param retryAfterSeconds the group's queue.retry-after (see {@link BackendBusyException#retryAfterSeconds}) */
    public PoolClosedException(String group, int retryAfterSeconds) {
        super(group + ": shutting down", retryAfterSeconds);
    }
}
