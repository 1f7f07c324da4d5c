package io.edge.core.limit;

import io.edge.conf.LimitConn;
import io.edge.conf.Return;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.ThrottledWarnings;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code limit-conn} tables by zone ({@link LimitConn#zone}), nginx's {@code limit_conn}: a request
 * goes on while its client has fewer than the location's {@code max} requests in progress in the zone, and counts there
 * until it has ended (its answer's last byte written, or its client gone); one more is answered with the limit's
 * status and the site's page for it. Thread-safe: the event loops share it.
 */
public final class ConnectionLimits {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimits.class);
    private static final ThrottledWarnings REFUSED = new ThrottledWarnings(LOG, System::nanoTime);

    /** The zones a configuration names ({@code zone downloads}): shared with the configurations before and after. */
    private final ConcurrentMap<String, ConnectionZone> named;
    /** Locations' own tables, named by their place in this configuration: its own. */
    private final ConcurrentMap<String, ConnectionZone> own = new ConcurrentHashMap<>();

    /** Tables of their own, named zones too. */
    public ConnectionLimits() {
        this(new ConcurrentHashMap<>());
    }

    /**
     * A configuration's tables, its named zones in {@code named}, which a reloaded configuration shares (nginx keeps a
     * limit_conn_zone across a reload: a download the old one started still counts); a location's own table is named
     * by its place in the configuration, which a reload may give another location, and starts afresh.
     */
    public ConnectionLimits(ConcurrentMap<String, ConnectionZone> named) {
        this.named = named;
    }

    /**
     * Counts {@code exchange}'s request by {@code limit}, if no limit counted it before (nginx counts a request once,
     * whatever internal redirects take it through other limited locations): true when it goes on, its place given back
     * when it ends; false when it was refused (and answered).
     */
    public boolean admit(Exchange exchange, LimitConn limit) {
        if (!exchange.claimConnCount()) {
            return true; // counted already, where it came from
        }
        ConnectionZone zone = (limit.zone().startsWith("zone ") ? named : own)
                .computeIfAbsent(limit.zone(), name -> new ConnectionZone());
        InetAddress client = exchange.remoteAddress().getAddress();
        // released by the key it was counted by: a reload that changes the zone's ipv6-prefix leaves it right
        InetAddress key = ClientKeys.of(client, limit.ipv6Prefix());
        if (zone.acquire(key, limit.max())) {
            exchange.whenEnded(() -> zone.release(key));
            return true;
        }
        // nginx logs each one ("limiting connections by zone ..."); a flood is one line in ten seconds
        REFUSED.warn(ConnectionLimits.class, exchange.request().method() + " " + exchange.request().uri() + " from "
                + NetUtil.toAddressString(client) + " -> " + limit.status() + ": past the " + limit.max()
                + " requests in progress " + limit.zone() + " allows a client");
        if (limit.status() == Return.CLOSE) {
            exchange.closeWithoutAnswer(); // nginx's limit_conn_status 444
        } else {
            // the site's page for it; no Retry-After, as nginx's (when a place comes free is not known), even with 503
            HttpResponseStatus status = HttpResponseStatus.valueOf(limit.status());
            exchange.complete(exchange.writeAndFlush(ErrorResponses.response(status,
                    exchange.isHead(), exchange.errorPage(status), 0)));
        }
        return false;
    }
}
