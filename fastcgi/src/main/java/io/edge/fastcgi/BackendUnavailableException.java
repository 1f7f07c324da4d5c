package io.edge.fastcgi;

/**
 * No backend could take the request for a reason other than busyness: every address is marked down, a
 * connect failed hard, or the backend closed the connection before finishing. The HTTP core answers 502, or 504
 * when the connect timed out.
 */
public final class BackendUnavailableException extends RuntimeException {

    public BackendUnavailableException(String message) {
        super(message);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
