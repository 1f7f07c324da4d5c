package io.edge.core.http;

import io.edge.aio.path.MalformedPathException;
import io.edge.aio.path.PathResolver;
import io.edge.conf.LocationSettings;
import io.edge.conf.Rewrite;
import io.edge.fastcgi.LogText;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A location's {@code rewrite} ({@link Rewrite}), nginx's {@code rewrite ... last}: the request is answered as one for
 * the replacement's URI, routed again by the exchange ({@link Exchange#redirect(String, String)}); the client sees no
 * redirect. Stateless: one per configuration serves every location.
 */
public final class RewriteResponder implements Responder {

    private static final Logger LOG = LoggerFactory.getLogger(RewriteResponder.class);

    @Override
    public void respond(Exchange exchange) {
        LocationSettings location = exchange.location();
        Captures captures = Captures.of(exchange, location.regex(), exchange.path());
        String path = newPath(exchange, captures, location.rewrite(), "location " + location.match());
        if (path != null) {
            handOn(exchange, path, newQuery(exchange, captures, location.rewrite()));
        }
    }

    /**
     * The path {@code rewrite} makes, with {@code captures} (its regex's of the path it rewrites), normalized; null
     * where it is none (a value that climbs, "/.." from a header or an argument), answered 400 then, as a request for
     * that URI would be. {@code whose}: the rewrite's owner, for the log.
     */
    static String newPath(Exchange exchange, Captures captures, Rewrite rewrite, String whose) {
        String rawPath = Variables.render(exchange, captures, rewrite.path(), Variables.Escape.URL);
        try {
            return PathResolver.normalize(rawPath);
        } catch (MalformedPathException e) {
            LOG.debug("{} {}: rewrite of {} to {} is no path: {}", exchange.request().method(),
                    LogText.escapeBytes(exchange.request().uri()), whose, rawPath, e.getMessage());
            exchange.sendError(HttpResponseStatus.BAD_REQUEST);
            return null;
        }
    }

    /**
     * The query {@code rewrite} makes, with {@code captures}: its own, the request's kept after it or dropped, as
     * nginx's arguments.
     */
    static String newQuery(Exchange exchange, Captures captures, Rewrite rewrite) {
        String query = exchange.query();
        if (rewrite.setsQuery()) {
            String set = Variables.render(exchange, captures, rewrite.query(), Variables.Escape.QUERY);
            query = !rewrite.keepsQuery() || query.isEmpty() ? set : set + "&" + query;
        }
        return query;
    }

    /**
     * Routes {@code exchange} again as a request for {@code path} and {@code query}: 404 where that is an internal
     * location's, 500 where a location's regex gave up on the path.
     */
    static void handOn(Exchange exchange, String path, String query) {
        LocationSettings landing;
        try {
            landing = exchange.locationOf(path);
        } catch (HttpStatusException gaveUp) { // a location's regex gave up on the path (Router): as a re-route would
            exchange.fail(gaveUp);
            return;
        }
        if (landing != null && landing.internal()) {
            // An internal location is a script's to hand out (X-Accel-Redirect): "~ ^/old/(.*)$" -> "/$1" reached
            // /old/protected/file around the script's check (nginx's rewrite does; its internal says otherwise)
            exchange.sendError(HttpResponseStatus.NOT_FOUND);
            return;
        }
        exchange.redirect(path, query);
    }
}
