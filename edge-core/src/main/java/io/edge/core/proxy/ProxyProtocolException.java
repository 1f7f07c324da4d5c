package io.edge.core.proxy;

/** A backend answered with something that is no HTTP/1.x response (or one edge does not pass on, a 101): 502. */
public final class ProxyProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProxyProtocolException(String message) {
        super(message, null, false, false);
    }
}
