package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.Referers;
import io.netty.handler.codec.http.HttpHeaderNames;

/**
 * A location's {@code referers} in front of its responder, nginx's {@code valid_referers} with
 * {@code if ($invalid_referer) { return ...; }}: a request whose (first) Referer the location takes goes on; another
 * is answered with the configured invalid answer, as a return is.
 */
public final class RefererCheck implements Responder {

    private final Responder inner;
    private final Referers referers;

    public RefererCheck(Responder inner, Referers referers) {
        this.inner = inner;
        this.referers = referers;
    }

    @Override
    public void respond(Exchange exchange) {
        if (!refuses(exchange, exchange.location(), exchange.path(), referers)) {
            inner.respond(exchange);
        }
    }

    /**
     * Whether {@code location}'s referers refuse {@code exchange}'s Referer, then answered with their invalid answer:
     * for where nginx's internal redirect meets that location's {@code if ($invalid_referer)} without its responder
     * (a script a PHP location runs for another location's URI, the file an X-Accel-Redirect names), {@code path} the
     * URI that led there (for the captures of its invalid answer). False for a location without referers.
     */
    public static boolean refuses(Exchange exchange, LocationSettings location, String path) {
        return location != null && location.referers() != null
                && refuses(exchange, location, path, location.referers());
    }

    private static boolean refuses(Exchange exchange, LocationSettings location, String path, Referers referers) {
        String referer = exchange.request().headers().get(HttpHeaderNames.REFERER);
        if (referers.valid(referer, exchange.site().serverNames())) {
            return false;
        }
        ReturnResponder.answer(exchange, location, path, referers.invalid());
        return true;
    }
}
