package io.edge.fastcgi;

import java.net.SocketAddress;

/**
 * No backend could take the request for a reason other than busyness: every address is marked down, a
 * connect failed hard, or the backend closed the connection before finishing. The HTTP core answers 502, or 504
 * when the connect timed out.
 */
public final class BackendUnavailableException extends RuntimeException {

    private final transient SocketAddress triedAddress;

    public BackendUnavailableException(String message) {
        this(message, null, null);
    }

    public BackendUnavailableException(String message, Throwable cause) {
        this(message, cause, null);
    }

    /** @param triedAddress the address this request's last connect failed at, or null: it made none */
    public BackendUnavailableException(String message, Throwable cause, SocketAddress triedAddress) {
        super(message, cause);
        this.triedAddress = triedAddress;
    }

    /** The address this request's last connect failed at (nginx's {@code $upstream_addr} of the try), or null. */
    public SocketAddress triedAddress() {
        return triedAddress;
    }
}
