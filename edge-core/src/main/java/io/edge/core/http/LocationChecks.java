package io.edge.core.http;

import io.edge.conf.AuthBasic;
import io.edge.conf.LimitConn;
import io.edge.conf.LimitReq;
import io.edge.conf.LocationSettings;
import io.edge.conf.Referers;
import io.edge.conf.Return;
import io.edge.conf.SecureLink;
import io.edge.core.auth.BasicAuth;
import io.edge.core.limit.ConnectionLimits;
import io.edge.core.limit.RequestLimits;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.List;

/**
 * What a request meets as it enters a location, after the location's access rules, in nginx's order of phases: its
 * referers (nginx's {@code valid_referers} with {@code if ($invalid_referer) { return ...; }}, rewrite phase: another
 * Referer gets the invalid answer, as a return) and its secure link (nginx's {@code secure_link} with {@code if
 * ($secure_link = "") / ("0")}, rewrite phase too: a link missing or wrong gets the invalid answer, one past its time
 * the expired one), its limit-req and limit-conn (preaccess, each
 * counting a request once whatever locations it passes), its password (access); then the location's own answer. A
 * return answers before the limit-conn and the password, a rewrite hands the request on before the limits and the
 * password (where it leads has its own), as nginx's rewrite phase comes first. One configuration's: its limit tables.
 */
public final class LocationChecks {

    private final RequestLimits requestLimits;
    private final ConnectionLimits connectionLimits;

    public LocationChecks(RequestLimits requestLimits, ConnectionLimits connectionLimits) {
        this.requestLimits = requestLimits;
        this.connectionLimits = connectionLimits;
    }

    /** {@code inner}, {@code location}'s own responder, behind its checks; {@code inner} itself where it has none. */
    public Responder guard(Responder inner, LocationSettings location) {
        if (location.referers() == null && !answersSecureLink(location) && limitReqs(location).isEmpty()
                && limitConns(location).isEmpty()
                && authBasic(location) == null) {
            return inner;
        }
        return exchange -> enter(exchange, location, exchange.path(), null, () -> inner.respond(exchange));
    }

    /**
     * Meets {@code location}'s checks for {@code exchange} and runs {@code then} once they let it through (now, after
     * a limit's wait, or once its password is checked); one that refuses it answers it, and {@code then} never runs.
     * {@code uri}: the URI that led there (the captures of the referers' invalid answer); {@code here}: the location
     * the request came in by, whose checks it met already, or null (an internal redirect of a script, nginx's, meets
     * only what its new location has beyond them).
     */
    public void enter(Exchange exchange, LocationSettings location, String uri, LocationSettings here, Runnable then) {
        // referers by identity: a location's own (their regexes have no equals); met again, they answer the same
        if (location.referers() != (here == null ? null : here.referers()) && refusesReferer(exchange, location, uri)) {
            return;
        }
        if (answersSecureLink(location) && location.secureLink() != (here == null ? null : here.secureLink())
                && refusesSecureLink(exchange, location, uri)) {
            return;
        }
        AuthBasic auth = beyond(authBasic(location), here == null ? null : here.authBasic());
        List<LimitReq> requests = beyond(limitReqs(location), here == null ? null : here.limitReqs());
        List<LimitConn> connections = beyond(limitConns(location), here == null ? null : here.limitConns());
        Runnable checked = auth == null ? then : () -> BasicAuth.authorize(exchange, auth, then);
        Runnable counted = connections == null ? checked : () -> {
            if (connectionLimits.admit(exchange, connections)) {
                checked.run();
            }
        };
        if (requests == null) {
            counted.run();
        } else {
            requestLimits.admit(exchange, requests, counted);
        }
    }

    /**
     * Whether {@code location}'s referers refuse {@code exchange}'s (first) Referer, then answered with their invalid
     * answer, as a return is, with the captures the location's regex makes of {@code uri}. False without referers.
     */
    private static boolean refusesReferer(Exchange exchange, LocationSettings location, String uri) {
        Referers referers = location.referers();
        String referer = exchange.request().headers().get(HttpHeaderNames.REFERER);
        if (referers == null || referers.valid(referer, exchange.site().serverNames())) {
            return false;
        }
        ReturnResponder.answer(exchange, location, uri, referers.invalid());
        return true;
    }

    /**
     * Whether {@code location}'s secure-link refuses {@code exchange}'s link, then answered with its invalid or expired
     * answer, as a return is, with the captures the location's regex makes of {@code uri}. False without a secure-link.
     */
    private static boolean refusesSecureLink(Exchange exchange, LocationSettings location, String uri) {
        SecureLink link = location.secureLink();
        String verdict = Variables.secureLink(exchange, location);
        if (link == null || SecureLink.VALID.equals(verdict)) {
            return false;
        }
        Return answer = SecureLink.EXPIRED.equals(verdict) ? link.expired() : link.invalid();
        if (answer == null) { // let through: $secure_link says which it was
            return false;
        }
        ReturnResponder.answer(exchange, location, uri, answer);
        return true;
    }

    /** Whether {@code location} has a secure-link with an answer of its own (one without only makes the variable). */
    private static boolean answersSecureLink(LocationSettings location) {
        return location.secureLink() != null && location.secureLink().answers();
    }

    /** {@code check}, unless the location the request came in by had the same. */
    private static <T> T beyond(T check, T met) {
        return check == null || check.equals(met) ? null : check;
    }

    /** {@code limits}, unless the location the request came in by had the same: null then, or for none. */
    private static <T> List<T> beyond(List<T> limits, List<T> met) {
        return limits.isEmpty() || limits.equals(met) ? null : limits;
    }

    private static AuthBasic authBasic(LocationSettings location) {
        return answersFirst(location) ? null : location.authBasic();
    }

    private static List<LimitConn> limitConns(LocationSettings location) {
        return answersFirst(location) ? List.of() : location.limitConns();
    }

    private static List<LimitReq> limitReqs(LocationSettings location) {
        return location.handler() == LocationSettings.Handler.REWRITE ? List.of() : location.limitReqs();
    }

    /** A return or a rewrite location: it answers, or hands the request on, before the limit-conn and the password. */
    private static boolean answersFirst(LocationSettings location) {
        return location.handler() == LocationSettings.Handler.RETURN
                || location.handler() == LocationSettings.Handler.REWRITE;
    }
}
