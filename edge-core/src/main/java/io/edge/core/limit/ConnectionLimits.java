package io.edge.core.limit;

import io.edge.conf.LimitConn;
import io.edge.conf.Return;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.LimitStatus;
import io.edge.core.http.ThrottledWarnings;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code limit-conn} tables by zone ({@link LimitConn#zone}), nginx's {@code limit_conn}: a request
 * goes on while its client has fewer than the location's {@code max} requests in progress in the zone, and counts there
 * until it has ended (its answer's last byte written, or its client gone); one more is answered with the limit's
 * status and the site's page for it. A location with several ({@code limit_conn perip 10; limit_conn perserver 1000})
 * counts a request in each; one refusing it gives back the places the others took, as nginx's. Each refusal is logged
 * as nginx logs it ({@link LimitLog}); a dry run (nginx's limit_conn_dry_run) logs but refuses nothing. What it made of
 * the request is the exchange's {@code $limit_conn_status}. Thread-safe: the event loops share it.
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
     * Counts {@code exchange}'s request by {@code limits}, a location's, in order, if no limit counted it before (nginx
     * counts a request once, whatever internal redirects take it through other limited locations): true when it goes
     * on, its places given back when it ends; false when one refused it (and it was answered with that one's status),
     * the places the ones before took given back at once (nginx's ngx_http_limit_conn_cleanup_all); true for one a dry
     * run's limit would have refused, counted in none. A zone whose key
     * comes out empty for the request does not count it, as nginx's; a request no zone counts is not counted
     * by this location, so that a location an internal redirect takes it to may count it.
     */
    public boolean admit(Exchange exchange, List<LimitConn> limits) {
        List<Object> keys = new ArrayList<>(limits.size());
        boolean anyKey = false;
        for (LimitConn limit : limits) {
            Object key = ZoneKeys.of(exchange, limit.key(), limit.ipv6Prefix());
            keys.add(key);
            anyKey |= key != null;
        }
        // counted already, where it came from; one no zone counts (its keys all empty) is not counted here, and the
        // location a redirect takes it to may count it, as nginx's
        if (!anyKey || !exchange.claimConnCount()) {
            return true;
        }
        List<Runnable> releases = new ArrayList<>(limits.size());
        for (int i = 0; i < limits.size(); i++) {
            LimitConn limit = limits.get(i);
            // released by the key it was counted by: a reload that changes the zone's key leaves it right
            Object key = keys.get(i);
            if (key == null) {
                continue;
            }
            ConnectionZone zone = (limit.zone().startsWith("zone ") ? named : own)
                    .computeIfAbsent(limit.zone(), name -> new ConnectionZone());
            if (!zone.acquire(key, limit.max())) {
                releases.forEach(Runnable::run);
                return refuse(exchange, limit);
            }
            releases.add(() -> zone.release(key));
        }
        exchange.limitConnStatus(LimitStatus.PASSED);
        if (!releases.isEmpty()) {
            exchange.whenEnded(() -> releases.forEach(Runnable::run));
        }
        return true;
    }

    /**
     * Answers {@code exchange}, which {@code limit} refused, and false; true for a dry run's: it goes on, counted in
     * none of the location's zones (nginx's dry run gives back the places the others took too).
     */
    private static boolean refuse(Exchange exchange, LimitConn limit) {
        boolean dryRun = limit.mode().dryRun();
        exchange.limitConnStatus(dryRun ? LimitStatus.REJECTED_DRY_RUN : LimitStatus.REJECTED);
        LimitLog.refused(LOG, REFUSED, ConnectionLimits.class, limit.mode(), "limiting connections"
                + (dryRun ? ", dry run," : "") + " by zone \"" + limit.zoneName() + "\"",
                () -> LimitLog.context(exchange));
        if (dryRun) {
            return true;
        }
        if (limit.status() == Return.CLOSE) {
            exchange.closeWithoutAnswer(); // nginx's limit_conn_status 444
        } else {
            // the site's page for it; no Retry-After, as nginx's (when a place comes free is not known), even with 503
            HttpResponseStatus status = HttpResponseStatus.valueOf(limit.status());
            if (exchange.toNamedErrorPage(status)) {
                return false; // the site's named location for it, as nginx's error_page
            }
            exchange.complete(exchange.writeAndFlush(ErrorResponses.response(exchange, status, 0)));
        }
        return false;
    }
}
