package io.edge.core.limit;

import io.edge.conf.LimitReq;
import io.edge.core.http.Exchange;
import io.edge.core.http.Responder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A configuration's {@code limit-req} tables by zone ({@link LimitReq#zone}), nginx's {@code limit_req_zone}: afresh
 * at each reload (a zone's rate may change with it). Thread-safe: the event loops share it.
 */
public final class RequestLimits {

    private final ConcurrentMap<String, RequestZone> zones = new ConcurrentHashMap<>();

    /** The limit-req in front of {@code inner}, a location's responder. */
    public Responder guard(Responder inner, LimitReq limit) {
        return new LimitingResponder(inner, zone(limit), limit);
    }

    /** As {@link LimitingResponder#admit}: {@code then} runs once {@code limit} lets {@code exchange}'s request go. */
    public void admit(Exchange exchange, LimitReq limit, Runnable then) {
        new LimitingResponder(ignored -> then.run(), zone(limit), limit).admit(exchange, then);
    }

    private RequestZone zone(LimitReq limit) {
        return zones.computeIfAbsent(limit.zone(), name -> new RequestZone(limit.rate()));
    }
}
