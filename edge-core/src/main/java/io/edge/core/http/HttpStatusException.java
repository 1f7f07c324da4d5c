package io.edge.core.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/** A failure whose HTTP status is already known (a bad request, a forbidden path). */
public final class HttpStatusException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;

    public HttpStatusException(HttpResponseStatus status, String reason) {
        super(status.code() + " " + reason, null, false, false);
        this.status = status;
    }

    public HttpResponseStatus status() {
        return status;
    }
}
