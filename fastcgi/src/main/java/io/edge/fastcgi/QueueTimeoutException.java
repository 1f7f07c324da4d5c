package io.edge.fastcgi;

import java.net.SocketAddress;
import java.time.Duration;

/**
 * A request waited {@code queue.timeout} for a connection slot and got none.
 *
 * <p>{@code group}: the group as its pool names it, "fastcgi group php" or "proxy backend api".
 */
public final class QueueTimeoutException extends BackendBusyException {

    private final transient SocketAddress triedAddress;

    public QueueTimeoutException(String group, Duration waited) {
        this(group, waited, null);
    }

    /**
     * @param lastConnectFailure why the last connect made while it waited failed ("unix:/run/php.sock: connection
     *                           refused": php-fpm down or restarting), or null if none did
     */
    public QueueTimeoutException(String group, Duration waited, String lastConnectFailure) {
        this(group, waited, lastConnectFailure, DEFAULT_RETRY_AFTER);
    }

    /** @param retryAfterSeconds the group's queue.retry-after (see {@link BackendBusyException#retryAfterSeconds}) */
    public QueueTimeoutException(String group, Duration waited, String lastConnectFailure, int retryAfterSeconds) {
        this(group, waited, lastConnectFailure, retryAfterSeconds, null);
    }

    /** @param triedAddress the address a connect made for this request failed at last, or null: it made none */
    public QueueTimeoutException(String group, Duration waited, String lastConnectFailure, int retryAfterSeconds,
            SocketAddress triedAddress) {
        super(group + ": no connection slot within " + waited.toMillis() + " ms"
                + (lastConnectFailure == null ? "" : " (the last connect failed: " + lastConnectFailure + ")"),
                retryAfterSeconds);
        this.triedAddress = triedAddress;
    }

    /**
     * The address a connect made for this request failed at last (php-fpm restarting, its socket missing), or null:
     * it waited for a slot alone, and no backend was tried for it.
     */
    public SocketAddress triedAddress() {
        return triedAddress;
    }
}
