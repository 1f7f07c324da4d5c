package io.edge.core.http;

/**
 * How long a request's backend took, for the access log: the wait in its group's queue, the connect of a new
 * connection (0 for a kept-alive one), and the answer, from the request's sending to the response's end (or to the
 * exchange's, if the backend never finished). Connect and answer are {@link #NONE} for a request that waited and never
 * had a connection (its wait ran out, its client left), as HAProxy logs -1 for them.
 */
public record UpstreamTimes(long queueNanos, long connectNanos, long responseNanos) {

    /** A time that never began: logged as "-". */
    public static final long NONE = -1;

    /** A request that waited {@code queueNanos} in the queue and had no connection. */
    static UpstreamTimes queuedOnly(long queueNanos) {
        return new UpstreamTimes(queueNanos, NONE, NONE);
    }
}
