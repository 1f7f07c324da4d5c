package io.edge.core.http;

import io.edge.aio.path.MalformedPathException;
import io.edge.aio.path.PathResolver;
import io.edge.conf.LocationSettings;
import io.edge.conf.Rewrite;
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
        Rewrite rewrite = exchange.location().rewrite();
        String rawPath = Variables.render(exchange, rewrite.path(), Variables.Escape.URL);
        String path;
        try {
            path = PathResolver.normalize(rawPath);
        } catch (MalformedPathException e) {
            // A value that climbs ("/.." from a header or an argument): as a request for that URI would be answered
            LOG.debug("{} {}: rewrite of location {} to {} is no path: {}", exchange.request().method(),
                    exchange.request().uri(), exchange.location().match(), rawPath, e.getMessage());
            exchange.sendError(HttpResponseStatus.BAD_REQUEST);
            return;
        }
        String query = exchange.query();
        if (rewrite.setsQuery()) {
            String set = Variables.render(exchange, rewrite.query(), Variables.Escape.QUERY);
            query = !rewrite.keepsQuery() || query.isEmpty() ? set : set + "&" + query;
        }
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
