package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Stands between a location's request and its backend, whichever kind that is (a FastCGI script, a proxied HTTP
 * group): the response cache. It answers the exchange itself or through {@link Backend#run} (any number of times,
 * also for other exchanges of the same URL). Called on the client's event loop. The responders keep its contract
 * alike (nginx's {@code fastcgi_cache} and {@code proxy_cache} are one upstream cache too), so one gate serves both.
 */
@FunctionalInterface
public interface BackendGate {

    void enter(Exchange exchange, Backend backend);

    /**
     * The request has no backend to go to (a value of {@code proxy = "$pool"} or {@code fastcgi = "$pool"} that names no
     * group), and its caller answers the error: the gate says what it would have made of the request before asking
     * one (the response cache, a MISS or a BYPASS in {@code $upstream_cache_status}, as nginx 1.22 looks its cache up
     * before it finds no upstream of that name). Nothing by default.
     */
    default void noBackend(Exchange exchange) {
    }

    /** Sends one request of a location to its backend. */
    @FunctionalInterface
    interface Backend {
        /**
         * Sends {@code backendRequest} (the client's, or one derived from it without a body) to the backend for {@code
         * exchange}; {@code tap}, if not {@code null}, watches the response and may take it over.
         */
        void run(Exchange exchange, HttpRequest backendRequest, ResponseTap tap);
    }

    /**
     * Watches one backend response on the client's event loop, in order: {@code onHead}, {@code onBody}...,
     * then {@code onEnd} or {@code onError} (also for a queue full or timed out before any head). The head it sees
     * is the one the client would get, after what the responder does to it on the way (a proxy's hidden and hop-by-hop
     * fields left out, its redirects rewritten), with the backend's {@code X-Accel-Expires}, {@code X-Accel-Limit-Rate}
     * and {@code X-Accel-Buffering} still in it (its client never sees them), the last one {@code no} where the answer
     * is not buffered.
     */
    interface ResponseTap {
        /**
         * Returns true to let the response go to the client as usual; false to take it over: the body is then
         * shown only to this tap, and the tap answers the exchange itself (or leaves it alone).
         */
        boolean onHead(HttpResponse backendResponse);

        /** A body chunk, still owned by the caller: copy, don't keep. */
        void onBody(ByteBuf chunk);

        void onEnd();

        /** Returns true when the tap answered the exchange; false lets the responder fail it. */
        boolean onError(Throwable cause);

        /** The request left the queue: it has its backend connection and goes to the backend now. */
        default void onLeased() {
        }

        /**
         * How long the request has waited for the backend already, behind another request for the same answer
         * (coalesced): its wait in the group's queue is that much shorter, so that no request waits longer than
         * {@code queue.timeout} in all. 0 by default.
         */
        default long waitedNanos() {
            return 0;
        }

        /**
         * Whether the tap can answer the client without the backend should it be down (a stale copy it may send on
         * error): then a group that refuses connections fails the request at once ({@code onError}), where another
         * waits for a restart up to {@code queue.timeout}. False by default.
         */
        default boolean answersWithoutBackend() {
            return false;
        }

        /**
         * Asked once, after {@code onHead}, when the response goes no further to the client (taken over, its client
         * gone, or a HEAD's answer ended with its head): false when nobody needs the rest of it either (the tap
         * answered the client itself, and keeps nothing of the body), having let go of what it held. The backend
         * request is then let go as a gone client's is (a script that keeps writing is stopped, a proxied connection
         * closed), and no call follows. After true for a HEAD answered, the rest goes to this tap alone, and what
         * {@code onError} returns is ignored.
         */
        default boolean wantsRest() {
            return true;
        }

        /**
         * The client went away before the response ended. Returns true to have the backend's response go on
         * for this tap alone: nothing more is written to the client, {@code onHead} (whatever it returns),
         * {@code onBody}, {@code onEnd} or {@code onError} follow as they would have, and what {@code onError}
         * returns is ignored. False (the default) aborts the backend request, and no call follows. After true,
         * {@code giveUp}, run on the client's event loop, ends the request as false would have (when nobody wants
         * its answer any more); no call follows it either.
         */
        default boolean onClientGone(Runnable giveUp) {
            return false;
        }

        /**
         * The request was given up before any answer of the backend: its body ended short while it was read for it
         * (over the limit, a broken chunk, its client gone) and the exchange is answered otherwise (the error's page,
         * edge's own). The tap lets go of what it holds, and whoever waits for its answer goes on alone; nothing is
         * answered here, and no call follows. Nothing by default.
         */
        default void onGivenUp() {
        }
    }
}
