package io.edge.core.http;

/**
 * A connection whose requests each come on a stream of their own, served by an {@link HttpConnectionHandler} of the
 * stream's channel: an HTTP/2 one ({@link Http2Connection}) or an HTTP/3 one ({@link Http3Connection}). What the
 * streams share is the connection's.
 */
interface StreamedConnection {

    /** nginx's {@code $connection}: the connection's serial number, every stream's. */
    long serial();

    /** A stream's request started: counted, and against {@code limits.keep-alive-requests}. */
    void requestStarted();

    /** Requests started on the connection so far (nginx's {@code $connection_requests}). */
    long requestsStarted();
}
