package io.edge.core.http;

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
        String referer = exchange.request().headers().get(HttpHeaderNames.REFERER);
        if (referers.valid(referer, exchange.site().serverNames())) {
            inner.respond(exchange);
        } else {
            ReturnResponder.answer(exchange, referers.invalid());
        }
    }
}
