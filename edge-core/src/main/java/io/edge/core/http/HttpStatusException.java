package io.edge.core.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/** A failure whose HTTP status is already known (a bad request, a forbidden path). */
public final class HttpStatusException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final boolean said;

    public HttpStatusException(HttpResponseStatus status, String reason) {
        this(status, reason, false);
    }

    /** @param said the failure was logged where it was found (throttled there): answering it logs nothing more */
    public HttpStatusException(HttpResponseStatus status, String reason, boolean said) {
        super(status.code() + " " + reason, null, false, false);
        this.status = status;
        this.said = said;
    }

    public HttpResponseStatus status() {
        return status;
    }

    /** Whether the failure was logged where it was found. */
    public boolean said() {
        return said;
    }
}
