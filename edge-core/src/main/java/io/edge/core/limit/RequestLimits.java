package io.edge.core.limit;

import io.edge.conf.LimitReq;
import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.HeldRequest;
import io.edge.core.http.LimitStatus;
import io.edge.core.http.ThrottledWarnings;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A configuration's {@code limit-req} tables by zone ({@link LimitReq#zone}), nginx's {@code limit_req_zone} and
 * {@code limit_req}: a request within the client's rate goes on at once; one past it, while the client has at most
 * {@code burst} such requests, goes at once too if it is among the first {@code delay} of them ({@code nodelay}: all),
 * else waits on the event loop's timer until it conforms; one beyond is answered with the limit's status, a
 * {@code Retry-After} of the seconds until the bucket has room, and the site's page for it. A named zone
 * ({@code zone login}) is shared with the configurations before and after while its rate stays the same (nginx keeps
 * its limit_req_zone across a reload: a reload is no fresh burst for a client that was over its rate); a location's own
 * table starts afresh. A location with several ({@link LocationSettings#limitReqs}) counts a request in each, as
 * nginx's several limit_req ({@link #admit(List, long)}). Each refusal is logged as nginx logs it ({@link LimitLog});
 * a dry run ({@code dry-run = true}, nginx's limit_req_dry_run) logs and counts but refuses and delays nothing. What it
 * made of the request is the exchange's {@code $limit_req_status}. Thread-safe: the event loops share it.
 */
public final class RequestLimits {

    private static final Logger LOG = LoggerFactory.getLogger(RequestLimits.class);
    private static final ThrottledWarnings REFUSED = new ThrottledWarnings(LOG, System::nanoTime);

    /** Named zones by name and rate ({@link #namedKey}): shared with the configurations before and after. */
    private final ConcurrentMap<String, RequestZone> named;
    /** Locations' own tables, named by their place in this configuration: its own. */
    private final ConcurrentMap<String, RequestZone> own = new ConcurrentHashMap<>();

    /** Tables of their own, named zones too. */
    public RequestLimits() {
        this(new ConcurrentHashMap<>());
    }

    /** A configuration's tables, its named zones in {@code named}, which a reloaded configuration shares. */
    public RequestLimits(ConcurrentMap<String, RequestZone> named) {
        this.named = named;
    }

    /**
     * A named zone's key in the map shared across reloads: its name, rate, IPv6 prefix and key, so that a reload that
     * changes the rate, or how its clients are keyed, starts the zone afresh; null for a location's own table.
     */
    public static String namedKey(LimitReq limit) {
        if (!limit.zone().startsWith("zone ")) {
            return null;
        }
        String key = limit.zone() + " at " + limit.rate() + " r/s";
        if (limit.key() != null) {
            StringBuilder written = new StringBuilder(key).append(" by ");
            limit.key().parts().forEach(part -> written.append(part.literal() != null ? part.literal()
                    : "${" + part.variable() + "}"));
            return written.toString();
        }
        return limit.ipv6Prefix() == 128 ? key : key + " per IPv6 /" + limit.ipv6Prefix();
    }

    /** A zone a request is counted in: its table, the request's key there, and the location's limit of it. */
    record Count(RequestZone zone, Object key, LimitReq limit) {
    }

    /**
     * What {@link #admit(List, long)} says of a request: refused by {@code refusedBy}, else to wait so long, which a dry
     * run's zone asks of none; {@code delayedBy} the zone that asks for the longest wait, dry run or not (null: none
     * asks for one). A request a dry run's zone refuses is let in ({@link #status}), counted in none.
     */
    record Verdict(LimitReq refusedBy, long waitNanos, Count delayedBy) {

        Verdict(LimitReq refusedBy, long waitNanos) {
            this(refusedBy, waitNanos, null);
        }

        /** nginx's {@code $limit_req_status} of the request. */
        LimitStatus status() {
            if (refusedBy != null) {
                return refusedBy.mode().dryRun() ? LimitStatus.REJECTED_DRY_RUN : LimitStatus.REJECTED;
            }
            if (delayedBy == null) {
                return LimitStatus.PASSED;
            }
            return waitNanos > 0 ? LimitStatus.DELAYED : LimitStatus.DELAYED_DRY_RUN;
        }
    }

    /**
     * nginx's several limit_req in one location (ngx_http_limit_req_handler): each zone but the last is looked at in
     * order, counting nothing; the last counts it if it fits; then, all having let it in, each of the others counts
     * it too. A request one refuses is counted in none (nginx's ngx_http_limit_req_unlock: what the ones before it
     * were about to take is let go), so a client refused by a global ceiling spends nothing of its own rate, nor one
     * refused by its own rate anything of the ceiling. One let in waits for the longest wait any asks for
     * (ngx_http_limit_req_account's max_delay).
     */
    static Verdict admit(List<Count> counts, long nowNanos) {
        int last = counts.size() - 1;
        for (int i = 0; i < last; i++) {
            Count count = counts.get(i);
            if (!count.zone().fits(count.key(), nowNanos, count.limit().burst())) {
                return new Verdict(count.limit(), RequestZone.REFUSED);
            }
        }
        Count lastCount = counts.get(last);
        long lastWait = lastCount.zone().admit(lastCount.key(), nowNanos, lastCount.limit().burst(),
                lastCount.limit().delay());
        if (lastWait == RequestZone.REFUSED) {
            return new Verdict(lastCount.limit(), RequestZone.REFUSED);
        }
        long wait = 0; // of the zones that are no dry run
        long longest = 0;
        Count delayedBy = null;
        for (int i = 0; i <= last; i++) {
            Count count = counts.get(i);
            long itsWait = i == last ? lastWait : count.zone().count(count.key(), nowNanos, count.limit().delay());
            if (itsWait > longest) {
                longest = itsWait;
                delayedBy = count;
            }
            if (!count.limit().mode().dryRun()) {
                wait = Math.max(wait, itsWait);
            }
        }
        return new Verdict(null, wait, delayedBy);
    }

    /**
     * Counts {@code exchange}'s request by {@code limits}, a location's (if no limit counted it before: nginx counts a
     * request once, whatever internal redirects take it through other limited locations) and runs {@code then} once
     * it may go: at once, or after its wait; one a limit refuses is answered with that limit's status, and {@code then}
     * never runs. A zone whose key comes out empty for the request does not count it, as nginx's; a request no zone
     * counts is not counted by this location, so that a location an internal redirect takes it to may count it.
     */
    public void admit(Exchange exchange, List<LimitReq> limits, Runnable then) {
        List<Count> counts = new ArrayList<>(limits.size());
        for (LimitReq limit : limits) {
            Object key = ZoneKeys.of(exchange, limit.key(), limit.ipv6Prefix());
            if (key != null) {
                counts.add(new Count(zone(limit), key, limit));
            }
        }
        // counted already, where it came from: nginx counts a request once; one no zone took (its keys all empty)
        // is not counted, and the location a redirect takes it to may count it, as nginx's
        if (counts.isEmpty() || !exchange.claimLimitCount()) {
            then.run();
            return;
        }
        long now = System.nanoTime();
        Verdict verdict = admit(counts, now);
        exchange.limitReqStatus(verdict.status());
        long wait = verdict.waitNanos();
        LimitReq limit = verdict.refusedBy();
        if (limit != null) {
            // nginx's line, its excess counting this request; nothing counted it, so the zone is as it was
            Count refusing = counts.stream().filter(count -> count.limit() == limit).findFirst().orElseThrow();
            LimitLog.refused(LOG, REFUSED, RequestLimits.class, limit.mode(), "limiting requests"
                    + (limit.mode().dryRun() ? ", dry run" : "") + ", excess: "
                    + LimitLog.excess(refusing.zone().excessWithOneMore(refusing.key(), now)) + " by zone \""
                    + limit.zoneName() + "\"", () -> LimitLog.context(exchange));
            if (limit.mode().dryRun()) {
                then.run(); // counted in no zone, as nginx's dry run
                return;
            }
            if (limit.status() == Return.CLOSE) {
                exchange.closeWithoutAnswer(); // nginx's limit_req_status 444
                return;
            }
            HttpResponseStatus status = HttpResponseStatus.valueOf(limit.status());
            if (exchange.toNamedErrorPage(status)) {
                return; // the site's named location for it, as nginx's error_page
            }
            FullHttpResponse response = ErrorResponses.response(exchange, status);
            // room for one more request comes within a request's share of a second; none on the 404 of a page whose
            // file is missing, or the 403 of one refused (nginx's error_page to it), which refuse nothing
            if (response.status().code() == status.code()) {
                response.headers().setInt(HttpHeaderNames.RETRY_AFTER, (int) Math.max(1, Math.ceil(1 / limit.rate())));
            }
            exchange.complete(exchange.writeAndFlush(response));
            return;
        }
        Count delayedBy = verdict.delayedBy();
        Level delayLevel = delayedBy == null ? null : LimitLog.delayLevel(delayedBy.limit().mode());
        if (delayLevel != null && LOG.isEnabledForLevel(delayLevel)) {
            LOG.atLevel(delayLevel).log("delaying request" + (wait == 0 ? ", dry run" : "") + ", excess: "
                    + LimitLog.excess(delayedBy.zone().excess(delayedBy.key(), now)) + ", by zone \""
                    + delayedBy.limit().zoneName() + "\"" + LimitLog.context(exchange));
        }
        if (wait == 0) {
            then.run();
            return;
        }
        // A client that stops sending while its request waits has left, as nginx sees it then (499): nothing holds it.
        // A body stays in the socket meanwhile (nginx's does too): read now, an upload would wait in memory, and the
        // body timeout does not count the wait (its client is not the one slow). Its client's leaving is seen when
        // the wait ends.
        exchange.endOnClientClose(true);
        HeldRequest held = HeldRequest.hold(exchange);
        ScheduledFuture<?> waiting = exchange.clientChannel().eventLoop().schedule(() -> {
            if (!held.release()) {
                return; // its client left meanwhile
            }
            exchange.endOnClientClose(false); // the responder's own rule from here, as for a request that never waited
            HeldRequest.run(exchange, then);
        }, wait, TimeUnit.NANOSECONDS);
        exchange.onClientGone(() -> waiting.cancel(false)); // what the wait holds (the connection) goes with its client
    }

    /** {@code limit}'s table: its named zone's, shared across reloads, or its location's own. */
    private RequestZone zone(LimitReq limit) {
        String shared = namedKey(limit);
        return shared != null
                ? named.computeIfAbsent(shared, name -> new RequestZone(limit.rate()))
                : own.computeIfAbsent(limit.zone(), name -> new RequestZone(limit.rate()));
    }
}
