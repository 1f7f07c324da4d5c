package io.edge.core.http;

import io.edge.fastcgi.LogText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request held before its responder runs (a limit-req's wait, a password's check): a body it announced stays in the
 * socket meanwhile (read, an upload would wait in memory; the body timeout does not count the wait, edge's own), and
 * reading resumes when the hold ends. Made, released and run on the exchange's event loop.
 */
public final class HeldRequest {

    private static final Logger LOG = LoggerFactory.getLogger(HeldRequest.class);

    private final Exchange exchange;
    private final boolean body;

    private HeldRequest(Exchange exchange) {
        this.exchange = exchange;
        this.body = Exchange.announcesBody(exchange.request());
    }

    /** Holds {@code exchange}: its body, if it announced one, is no longer read. */
    public static HeldRequest hold(Exchange exchange) {
        HeldRequest held = new HeldRequest(exchange);
        if (held.body) {
            exchange.pauseBody(true);
        }
        return held;
    }

    /** Ends the hold: its body is read again. False, and nothing done, if the exchange ended meanwhile (client gone). */
    public boolean release() {
        if (exchange.isEnded()) {
            return false;
        }
        if (body) {
            exchange.pauseBody(false);
        }
        return true;
    }

    /** Runs {@code next} for {@code exchange}; an exception of it fails the exchange, as the connection's dispatch does. */
    public static void run(Exchange exchange, Runnable next) {
        try {
            next.run();
        } catch (RuntimeException e) {
            LOG.error("responder failed for {}", LogText.escapeBytes(exchange.request().uri()), e);
            exchange.fail(e);
        }
    }
}
