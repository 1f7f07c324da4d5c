package io.edge.core.http;

/**
 * How long a request's backend took, for the access log: the wait in its group's queue, the connect of a new
 * connection (0 for a kept-alive one), and the answer, from the request's sending to the response's end (or to the
 * exchange's, if the backend never finished).
 */
public record UpstreamTimes(long queueNanos, long connectNanos, long responseNanos) {
}
