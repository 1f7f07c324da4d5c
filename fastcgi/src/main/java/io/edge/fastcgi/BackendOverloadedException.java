package io.edge.fastcgi;

/** The backend answered END_REQUEST with FCGI_OVERLOADED: it refused the request without running it. */
public final class BackendOverloadedException extends BackendBusyException {

    public BackendOverloadedException(String address) {
        super("fastcgi backend " + address + ": FCGI_OVERLOADED");
    }
}
