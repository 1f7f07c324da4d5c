package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.core.route.Router;
import io.netty.channel.group.ChannelGroup;
import java.util.function.Function;

/**
 * What every connection of one server shares: routing, responders, limits, the access log and the
 * draining flag. Thread-safe; built once per configuration.
 */
public final class HttpServerContext {

    private final Router router;
    private final Function<LocationSettings, Responder> responders;
    private final ServerSettings settings;
    private final AccessLog accessLog;
    private final ChannelGroup connections;
    private volatile boolean draining;

    public HttpServerContext(Router router, Function<LocationSettings, Responder> responders, ServerSettings settings,
                             AccessLog accessLog, ChannelGroup connections) {
        this.router = router;
        this.responders = responders;
        this.settings = settings;
        this.accessLog = accessLog;
        this.connections = connections;
    }

    Router router() {
        return router;
    }

    /** The responder for a location, or {@code null} when no location matched. */
    Responder responder(LocationSettings location) {
        return location == null ? null : responders.apply(location);
    }

    ServerSettings settings() {
        return settings;
    }

    AccessLog accessLog() {
        return accessLog;
    }

    public ChannelGroup connections() {
        return connections;
    }

    public boolean isDraining() {
        return draining;
    }

    /** From now on every response closes its connection; idle connections are closed by the caller. */
    public void startDraining() {
        draining = true;
    }
}
