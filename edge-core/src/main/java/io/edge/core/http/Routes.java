package io.edge.core.http;

import io.edge.aio.file.FileEngine;
import io.edge.conf.LocationSettings;
import io.edge.conf.VariableText;
import io.edge.core.route.Router;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One configuration's routing and responders, and how many exchanges run on them. Once replaced (a reload),
 * no exchange enters them any more, and {@link #replaced} tells when the last one running has ended: then what
 * only they used (backend pools, a php-fpm, a file engine) can be closed.
 */
final class Routes {

    private final Router router;
    private final Function<LocationSettings, Responder> responders;
    /**
     * The server's body limit of the same configuration (a location's own is the router's): taken with the routes, a
     * request never pairs a reload's location with the limit of the configuration before it.
     */
    private final long serverBodyLimit;
    /** {@code location-defaults}' always-headers of the same configuration: on answers no location gives. */
    private final Map<String, VariableText> unroutedHeaders;
    /** The file engine of the same configuration, which the rewrites' file tests ask; null: none (a test's). */
    private final FileEngine files;
    private final AtomicInteger running = new AtomicInteger();
    private final CompletableFuture<Void> idle = new CompletableFuture<>();
    private volatile boolean replaced;

    Routes(Router router, Function<LocationSettings, Responder> responders, long serverBodyLimit,
            Map<String, VariableText> unroutedHeaders, FileEngine files) {
        this.router = router;
        this.responders = responders;
        this.serverBodyLimit = serverBodyLimit;
        this.unroutedHeaders = unroutedHeaders;
        this.files = files;
    }

    Router router() {
        return router;
    }

    FileEngine files() {
        return files;
    }

    long serverBodyLimit() {
        return serverBodyLimit;
    }

    /** The headers of an answer given before a location is chosen (nginx's server-level add_header ... always). */
    Map<String, VariableText> unroutedHeaders() {
        return unroutedHeaders;
    }

    /** The responder for a location, or {@code null} when no location matched. */
    Responder responder(LocationSettings location) {
        return location == null ? null : responders.apply(location);
    }

    /**
     * Counts an exchange in, unless these routes were replaced: the count goes up before the flag is read, and
     * {@link #replaced} sets the flag before it reads the count, so one of the two sees the other.
     */
    boolean tryEnter() {
        running.incrementAndGet();
        if (replaced) {
            exit();
            return false;
        }
        return true;
    }

    /**
     * Counts in work an exchange already counted in hands on to outlive it (a background refresh); the returned
     * release counts it out, once however often it runs.
     */
    Runnable hold() {
        running.incrementAndGet();
        AtomicBoolean released = new AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) {
                exit();
            }
        };
    }

    /** An exchange counted in by {@link #tryEnter} has ended. */
    void exit() {
        if (running.decrementAndGet() == 0 && replaced) {
            idle.complete(null);
        }
    }

    /** Marks these routes replaced; the future completes when no exchange runs on them. */
    CompletableFuture<Void> replaced() {
        replaced = true;
        if (running.get() == 0) {
            idle.complete(null);
        }
        return idle;
    }
}
