package io.edge.core.http;

/**
 * Answers the requests of one location. Every responder hands the core Netty HTTP objects, so the core
 * never knows who answered.
 */
public interface Responder {

    /**
     * Starts answering {@code exchange}. Called on the client's event loop; must not block it. The responder
     * owns the exchange until it calls {@link Exchange#complete} or {@link Exchange#fail}.
     */
    void respond(Exchange exchange);
}
