package io.edge.fastcgi.pool;

import io.netty.channel.unix.Errors;
import java.io.FileNotFoundException;
import java.net.ConnectException;
import java.util.function.Predicate;

/**
 * Tells "the backend is busy or restarting, try again soon" from real connect failures. On a Unix socket a
 * full listen backlog fails a non-blocking connect with EAGAIN at once; ECONNREFUSED (nobody listening) and
 * ENOENT (socket file gone) are what a php-fpm restart looks like, and also a php-fpm that is down: those are
 * {@link #isRefused refusals}, which the pool reports, where a full backlog is plain busyness.
 */
final class ConnectFailures {

    private ConnectFailures() {
    }

    static boolean isBusy(Throwable cause) {
        return isRefused(cause) || isBacklogFull(cause) || isOutOfDescriptors(cause);
    }

    /**
     * edge's own descriptors ran out (EMFILE, ENFILE) making the connection's socket: no fault of the backend's, so
     * never counted against it; the request waits, as for a busy backend, for one to be freed within its deadline.
     */
    static boolean isOutOfDescriptors(Throwable cause) {
        return anyCause(cause, t -> t instanceof Errors.NativeIoException e
                        && (e.expectedErr() == -EMFILE || e.expectedErr() == -ENFILE)
                || t.getMessage() != null && t.getMessage().contains("Too many open files"));
    }

    private static final int EMFILE = 24;
    private static final int ENFILE = 23;

    /** Nobody listens at the address (ECONNREFUSED), or its socket file is gone (ENOENT). */
    static boolean isRefused(Throwable cause) {
        return anyCause(cause, t -> t instanceof FileNotFoundException
                || t instanceof Errors.NativeIoException e && (e.expectedErr() == Errors.ERROR_ECONNREFUSED_NEGATIVE
                        || e.expectedErr() == Errors.ERRNO_ENOENT_NEGATIVE)
                || t instanceof ConnectException && t.getMessage() != null
                        && (t.getMessage().contains("Connection refused")
                                || t.getMessage().contains("No such file or directory")));
    }

    private static boolean isBacklogFull(Throwable cause) {
        return anyCause(cause, t -> t instanceof Errors.NativeIoException e
                        && (e.expectedErr() == Errors.ERRNO_EAGAIN_NEGATIVE
                                || e.expectedErr() == Errors.ERRNO_EWOULDBLOCK_NEGATIVE)
                || t instanceof ConnectException && t.getMessage() != null
                        && t.getMessage().contains("Resource temporarily unavailable"));
    }

    /** Whether {@code cause} or any cause beneath it is one {@code test} names. */
    private static boolean anyCause(Throwable cause, Predicate<Throwable> test) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (test.test(t)) {
                return true;
            }
        }
        return false;
    }
}
