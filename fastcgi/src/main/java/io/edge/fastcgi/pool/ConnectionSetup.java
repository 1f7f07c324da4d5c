package io.edge.fastcgi.pool;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * What a new backend connection goes through before the pool grants it: a TLS handshake for an HTTP group's
 * {@code https://} backends. Its failure is the connect's (the next address, and counted against this one), as nginx
 * takes an upstream's failed SSL handshake for a failed connect.
 */
@FunctionalInterface
public interface ConnectionSetup {

    /** Nothing: the connection is granted as connected. */
    ConnectionSetup NONE = null;

    /**
     * Starts setting up the just connected {@code backendChannel} (on its event loop); the future completes when it may
     * carry requests, or fails with why not (the channel is then closed by the caller).
     */
    Future<?> setUp(Channel backendChannel);
}
