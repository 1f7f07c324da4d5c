package io.edge.fastcgi;

/** The backend sent nothing for the read timeout (or took no data for the write timeout). The HTTP core answers 504. */
public final class BackendTimeoutException extends RuntimeException {

    public BackendTimeoutException(String message) {
        super(message, null, false, false);
    }
}
