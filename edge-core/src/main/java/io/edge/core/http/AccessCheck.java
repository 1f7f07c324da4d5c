package io.edge.core.http;

import io.edge.conf.AccessRule;
import io.edge.conf.LocationSettings;
import io.edge.fastcgi.LogText;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A location's {@code access} rules (nginx's allow and deny) applied to an exchange: wherever a request reaches a
 * location (as routed, after an internal redirect, as the location of a script or a file a backend names), one check
 * and one answer.
 */
public final class AccessCheck {

    private static final Logger LOG = LoggerFactory.getLogger(AccessCheck.class);

    private AccessCheck() {
    }

    /**
     * Answers {@code exchange} 403 and returns true if {@code location}'s rules refuse its client; else false, and
     * nothing done (a location without rules, or null, refuses no one). {@code what} names what was asked there, for
     * the debug line (nginx logs each "access forbidden by rule" as an error; the access log has the 403).
     */
    public static boolean refuses(Exchange exchange, LocationSettings location, String what) {
        if (location == null || location.access().isEmpty()
                || AccessRule.allows(location.access(), exchange.remoteAddress().getAddress())) {
            return false;
        }
        LOG.debug("{} {} from {}: 403, {} refused by the access rules of location {}", exchange.request().method(),
                LogText.escapeBytes(exchange.request().uri()),
                NetUtil.toAddressString(exchange.remoteAddress().getAddress()), what, location.match());
        exchange.sendError(HttpResponseStatus.FORBIDDEN);
        return true;
    }
}
