package io.edge.core.cache;

import io.edge.cache.http.CachedResponse;
import io.edge.cache.http.Coalescer;
import io.edge.cache.http.HttpDates;
import io.edge.cache.http.Lookup;
import io.edge.cache.http.ResponseCache;
import io.edge.cache.http.ResponseRecorder;
import io.edge.conf.VariableText;
import io.edge.core.http.BackendGate;
import io.edge.core.http.CacheStatus;
import io.edge.core.http.Exchange;
import io.edge.core.http.Variables;
import io.edge.core.statics.ByteRanges.Unsatisfiable;
import io.edge.core.statics.Preconditions;
import io.edge.fastcgi.LogText;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The response cache in front of a location's backend (a {@link BackendGate}): a FastCGI location's scripts (nginx's
 * fastcgi_cache) and a proxied location's HTTP group (proxy_cache) alike. GET and HEAD (with a body too) are looked up;
 * everything else goes straight to the backend, and a non-error answer to an unsafe method (POST, PUT, DELETE...)
 * invalidates what the cache holds for the URIs it changed ({@link ResponseCache#invalidate}, RFC 9111 4.4): removes
 * it, or with purge-marks-stale marks it to be revalidated before its next use.
 *
 * <pre>
 *   lookup --BYPASS-----------------> backend as sent, nothing stored
 *          --FRESH------------------> answer from the cache (Age; If-None-Match / If-Modified-Since -> 304)
 *          --STALE_WHILE_REVALIDATE-> answer stale; the one request that wins refresh() refreshes it in the
 *                                     background (a detached call whose answer only the cache sees)
 *          --MISS / STALE, uncacheable> backend alone, recorded (hit-for-miss: its last answer was not storable
 *                                     and did not vary; a storable one now is stored and ends the mark); without
 *                                     an entry, with the client's If-None-Match / If-Modified-Since (a pass-through)
 *          --MISS / STALE, alone------> backend alone, recorded: its answer may not be shareable for reasons of its
 *                                     own (no-store, Authorization), so it neither leads nor follows a flight
 *          --MISS / STALE-----------> coalesce:
 *               leader:   looks up again (a flight may have landed since the first lookup: answer if FRESH),
 *                         then backend (conditional when the entry has validators); a 200 streams to its client
 *                         while a ResponseRecorder copies it into the cache (or, when the client's own
 *                         If-None-Match / If-Modified-Since match it, the client has a 304 at once and the
 *                         body goes to the cache alone); a 304 is merged and answered from the cache; then
 *                         done() releases the followers. An answer that is not recorded
 *                         (not storable, X-Sendfile, or grown past max-object-size) releases them at once,
 *                         at its head (notStored(), or done() for one that varies); one refused at its end
 *                         (a purge meanwhile: kept stale, for the followers that came before the purge) at its end
 *               follower: waits (bounded by coalesce-timeout in all, over every flight it joins); DONE or
 *                         NOT_STORED -> look up again, answer if FRESH (what the flight stored or
 *                         revalidated is FRESH to it, also where every use needs a revalidation: the backend
 *                         validated it after this request came), or if STALE_WHILE_REVALIDATE (stale when it
 *                         landed) as the lookup above: stale, one refreshing it in the background; NOT_STORED,
 *                         nothing to answer, the URL not remembered uncacheable -> coalesce again: one follower
 *                         leads, the others wait on
 *                         (nginx's cache lock); else go to the backend alone (hit-for-miss: side by side, as
 *                         the URL's later misses); FAILED (refused, timed out, no connection within
 *                         queue.timeout, cut) -> the stale copy if usable on error, else as NOT_STORED: one tries
 *                         next, the others wait on (nginx's waiters take the lock in turn whatever became of its
 *                         holder); TIMED_OUT -> the stale copy if usable on error (the backend is slow), else
 *                         alone; alone or leading again, it queues only for what is left of queue.timeout after
 *                         its wait while the leader was queued (the leader's queue timed out: 503 at once, unless
 *                         a worker is free by then)
 *   backend failed / queue full / queue timed out before any head, or answered 5xx -> the stale copy if its
 *   stale-if-error or the configured grace allows, else the usual error (502/503/504 from ErrorResponses,
 *   or the backend's own 5xx)
 * </pre>
 *
 * Everything runs on the client's event loop; followers are resumed there. A leader whose client goes away
 * before its answer came, once it left the queue for the backend or while followers wait, goes on without it: the
 * answer is read to its end and stored, and its flight ends as it would have (followers wait for it, bounded by
 * coalesce-timeout, and the script runs once); nothing failed, so no stale copy answers for it. One still queued
 * for nobody gives its place up, as nginx drops a request whose client closed before it had an upstream
 * connection: at once, or once the last follower left (or stopped waiting: coalesce-timeout) while it was still
 * queued. A leader that passes an answer the cache cannot store has ended its flight at the head already, and
 * gives up with its client.
 */
public final class ResponseCacheGate implements BackendGate {

    private static final Logger LOG = LoggerFactory.getLogger(ResponseCacheGate.class);

    /** The client's validators a pass-through ({@link #fetch}, hit-for-miss) carries to the backend. */
    private static final List<AsciiString> CLIENT_VALIDATORS =
            List.of(HttpHeaderNames.IF_NONE_MATCH, HttpHeaderNames.IF_MODIFIED_SINCE);
    /** The fields nginx's cache reads of a backend's answer and hides from clients unless passed, lower case. */
    private static final List<String> ACCEL_FIELDS = ResponseCache.ACCEL_FIELDS.stream()
            .map(name -> name.toLowerCase(Locale.ROOT)).toList();

    private final ResponseCache cache;
    /** The scope of the site this gate's location is of ({@link ResponseCache#scope}), or empty. */
    private final String scope;
    /** That scope's for https requests ({@link ResponseCache#httpsScope}). */
    private final String httpsScope;
    /** The scopes an unsafe method's answer invalidates the URL in, {@link #scope} among them. */
    private final List<String> changed;
    /** Invalidations mark entries for revalidation instead of removing them (purge-marks-stale). */
    private final boolean invalidationMarksStale;

    /** nginx's fastcgi_cache_bypass: where one comes out neither empty nor "0", the cache stays out (BYPASS). */
    private final List<VariableText> bypass;
    /** nginx's fastcgi_no_cache: where one comes out neither empty nor "0", nothing is stored. */
    private final List<VariableText> noCache;
    /**
     * What the responder hands a file out for: such an answer's body is not the backend's. A FastCGI location's
     * follows X-Accel-Redirect always and X-Sendfile where x-sendfile directories are named; a proxied one's
     * X-Accel-Redirect only (nginx's proxy neither acts on X-Sendfile nor hides it), as nginx's cache stores neither
     * redirect. An answer with a field the responder does not follow is stored with it, as another.
     */
    private final boolean followsSendfile;
    private final boolean followsAccelRedirect;
    /**
     * The backend's X-Accel-Expires, -Limit-Rate and -Buffering names (lower case) the location passes to its clients
     * (proxy-pass-headers, fastcgi-pass-headers: nginx's proxy_pass_header, fastcgi_pass_header): its hits carry the
     * lines kept with the answer, as nginx's do.
     */
    private final Set<String> passedAccelFields;
    /**
     * The fields stored with an answer that this location hides from its hits, lower case: a FastCGI location's script
     * Status and X-Accel-Charset that it does not pass (the location that stored the answer may have, or this one
     * before a reload), as nginx reads a hit's head with the location's fastcgi_pass_header as it is.
     */
    private final Set<String> hiddenOnHits;

    /** @param scope the scope of the site ({@link ResponseCache#scope}), empty where each host names one site */
    public ResponseCacheGate(ResponseCache cache, String scope, boolean invalidationMarksStale) {
        this(cache, scope, invalidationMarksStale, List.of(), List.of());
    }

    /**
     * As above, with the texts of {@code cache.responses.bypass} and {@code no-cache} (see {@link
     * io.edge.conf.CacheSettings}), read for each request about to be looked up.
     */
    public ResponseCacheGate(ResponseCache cache, String scope, boolean invalidationMarksStale,
            List<VariableText> bypass, List<VariableText> noCache) {
        this(cache, scope, invalidationMarksStale, bypass, noCache, true, true);
    }

    /**
     * As above; {@code followsSendfile}, {@code followsAccelRedirect}: whether the responder behind the gate hands out
     * a file for a backend's X-Sendfile, for its X-Accel-Redirect.
     */
    public ResponseCacheGate(ResponseCache cache, String scope, boolean invalidationMarksStale,
            List<VariableText> bypass, List<VariableText> noCache, boolean followsSendfile,
            boolean followsAccelRedirect) {
        this(cache, scope, invalidationMarksStale, bypass, noCache, followsSendfile, followsAccelRedirect, Set.of());
    }

    /**
     * As above; {@code passedFields}: the backend's fields the location passes to its clients though they are hidden by
     * default (a proxied location's proxy-pass-headers, a FastCGI one's fastcgi-pass-headers, lower case), of which the
     * X-Accel ones reach its hits too.
     */
    public ResponseCacheGate(ResponseCache cache, String scope, boolean invalidationMarksStale,
            List<VariableText> bypass, List<VariableText> noCache, boolean followsSendfile,
            boolean followsAccelRedirect, Set<String> passedFields) {
        this(cache, scope, List.of(scope), invalidationMarksStale, bypass, noCache, followsSendfile,
                followsAccelRedirect, passedFields, Set.of());
    }

    /**
     * As above; {@code changed}: the scopes whose entries of a URL an unsafe method's answer invalidates, {@code scope}
     * among them: the site's, and each group's where a variable chooses the group (each answers the URL apart, and
     * one resource changed is changed for all); {@code hiddenOnHits}: the stored fields (lower case) its hits leave
     * out.
     */
    public ResponseCacheGate(ResponseCache cache, String scope, List<String> changed, boolean invalidationMarksStale,
            List<VariableText> bypass, List<VariableText> noCache, boolean followsSendfile,
            boolean followsAccelRedirect, Set<String> passedFields, Set<String> hiddenOnHits) {
        this.hiddenOnHits = Set.copyOf(hiddenOnHits);
        this.passedAccelFields = ACCEL_FIELDS.stream().filter(passedFields::contains)
                .collect(Collectors.toUnmodifiableSet());
        this.followsSendfile = followsSendfile;
        this.followsAccelRedirect = followsAccelRedirect;
        this.cache = cache;
        this.scope = scope;
        this.httpsScope = ResponseCache.httpsScope(scope);
        this.changed = List.copyOf(changed);
        this.invalidationMarksStale = invalidationMarksStale;
        this.bypass = List.copyOf(bypass);
        this.noCache = List.copyOf(noCache);
    }

    /** Whether one of {@code texts} comes out neither empty nor "0" for {@code exchange}, as nginx's test of them. */
    private static boolean holds(Exchange exchange, List<VariableText> texts) {
        for (VariableText text : texts) {
            String value = Variables.field(exchange, text);
            if (!value.isEmpty() && !value.equals("0")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code clientRequest} is looked up in the cache: a GET or a HEAD, with a body or without, as nginx 1.22
     * looks up a GET with a body (measured: MISS, its answer stored, a later one a HIT) and sends a miss's body on.
     */
    private static boolean lookedUp(HttpRequest clientRequest) {
        HttpMethod method = clientRequest.method();
        return HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);
    }

    /** Whether cache.responses.bypass holds for {@code exchange}: its answer neither looked up nor stored. */
    private boolean bypassed(Exchange exchange) {
        return !bypass.isEmpty() && holds(exchange, bypass);
    }

    /**
     * A MISS for a request the gate would look up (a BYPASS where bypass holds), nothing for another, as nginx 1.22 logs
     * a request whose upstream it finds no name for after its cache lookup (measured: proxy_pass http://$pool and
     * fastcgi_pass $pool with a map). Nothing is looked up: the name is no group's, and no group's entry answers it.
     */
    @Override
    public void noBackend(Exchange exchange) {
        if (lookedUp(exchange.request())) {
            exchange.cacheStatus(bypassed(exchange) ? CacheStatus.BYPASS : CacheStatus.MISS);
        }
    }

    @Override
    public void enter(Exchange exchange, BackendGate.Backend backend) {
        HttpRequest clientRequest = exchange.request();
        if (exchange.answersAsErrorPage()) {
            // a page of an error (404 = "/404.php"): its answer stands for the error, not for the URI it would be kept
            // under, where nginx's fastcgi_cache keeps it (measured: a 413's page, one POST away, then answered the
            // URI's GETs as a 200 HIT), so nothing is looked up or stored
            exchange.cacheStatus(CacheStatus.BYPASS);
            backend.run(exchange, clientRequest, null);
            return;
        }
        if (!lookedUp(clientRequest)) {
            backend.run(exchange, clientRequest, new Invalidation(clientRequest));
            return;
        }
        String requestScope = exchange.https() ? httpsScope : scope;
        Lookup lookup = bypassed(exchange) ? cache.bypassed(requestScope) : cache.lookup(requestScope, clientRequest);
        Lookup.Outcome outcome = lookup.outcome();
        exchange.cacheStatus(cacheStatus(outcome));
        if (outcome != Lookup.Outcome.FRESH && outcome != Lookup.Outcome.STALE_WHILE_REVALIDATE
                && refusedUncached(exchange)) {
            return;
        }
        if (outcome != Lookup.Outcome.FRESH && outcome != Lookup.Outcome.BYPASS && !noCache.isEmpty()
                && holds(exchange, noCache)) {
            // nginx's fastcgi_no_cache: what is stored answers, a stale-while-revalidate answer too (STALE, as nginx's
            // with fastcgi_cache_use_stale updating), but no refresh is run whose answer could not be kept; else the
            // script does, and its answer is not kept (nor does this request lead a flight others would wait on for
            // an answer never stored)
            if (outcome == Lookup.Outcome.STALE_WHILE_REVALIDATE
                    && answer(exchange, lookup.response(), CacheStatus.STALE)) {
                return;
            }
            exchange.cacheStatus(outcome == Lookup.Outcome.MISS ? CacheStatus.MISS : CacheStatus.EXPIRED);
            if (outcome == Lookup.Outcome.STALE_WHILE_REVALIDATE && refusedUncached(exchange)) {
                return;
            }
            backend.run(exchange, clientRequest, null);
            return;
        }
        switch (outcome) {
            case BYPASS -> backend.run(exchange, clientRequest, null);
            case FRESH -> {
                if (!answer(exchange, lookup.response())) {
                    exchange.cacheStatus(CacheStatus.MISS); // evicted since the lookup
                    if (!refusedUncached(exchange)) {
                        coalesce(exchange, backend, lookup);
                    }
                }
            }
            case STALE_WHILE_REVALIDATE -> {
                if (!answerWhileRevalidated(exchange, backend, lookup)) {
                    exchange.cacheStatus(CacheStatus.MISS);
                    if (!refusedUncached(exchange)) {
                        coalesce(exchange, backend, lookup); // evicted since the lookup
                    }
                }
            }
            case STALE, MISS -> {
                if (lookup.uncacheable() || lookup.alone()) {
                    // hit-for-miss, or an answer others may not share: nothing to wait for, nobody to wait for it
                    fetch(exchange, backend, lookup, null, true);
                } else {
                    coalesce(exchange, backend, lookup);
                }
            }
        }
    }

    /**
     * Answers {@code exchange} with {@code lookup}'s entry, stale within its stale-while-revalidate: UPDATING where
     * another request refreshes it; else STALE, and this request refreshes it in the background (a detached call whose
     * answer only the cache sees), as nginx's background update. False, with nothing sent, where the entry was evicted
     * since the lookup.
     */
    private boolean answerWhileRevalidated(Exchange exchange, BackendGate.Backend backend, Lookup lookup) {
        CachedResponse stale = lookup.response();
        if (stale == null) {
            return false;
        }
        Coalescer.Ticket refresh = lookup.refresh();
        if (refresh == null) { // another request refreshes it
            exchange.cacheStatus(CacheStatus.UPDATING);
            answer(exchange, stale);
            return true;
        }
        HttpRequest backendRequest = lookup.backendRequest(exchange.request());
        // a bodiless GET, whatever body the client's had (a GET may have one, and is looked up all the same)
        backendRequest.headers().remove(HttpHeaderNames.CONTENT_LENGTH).remove(HttpHeaderNames.TRANSFER_ENCODING);
        // Snapshot the client's exchange before answering it completes it; and the backend it runs on kept (a reload
        // meanwhile closes it only once the refresh is over).
        DetachedExchange detached = new DetachedExchange(exchange, backendRequest);
        Runnable release = exchange.holdBackends();
        try {
            exchange.cacheStatus(CacheStatus.STALE); // as nginx's background update's
            answer(exchange, stale);
            backend.run(detached, backendRequest, new Refresh(backendRequest, lookup, refresh, release));
        } catch (RuntimeException | Error e) {
            release.run();
            throw e;
        }
        return true;
    }

    /**
     * For a request with nothing stored that may be sent without the backend (a stale entry may not, unless the
     * script allowed stale-while-revalidate): if its client asked not to go there ({@code Cache-Control:
     * only-if-cached}), answers 504 (RFC 9111 5.2.1.7; nginx ignores the directive) and returns true.
     */
    private static boolean refusedUncached(Exchange exchange) {
        if (!ResponseCache.onlyIfCached(exchange.request())) {
            return false;
        }
        exchange.sendError(HttpResponseStatus.GATEWAY_TIMEOUT);
        return true;
    }

    private void coalesce(Exchange exchange, BackendGate.Backend backend, Lookup lookup) {
        coalesce(exchange, backend, lookup, true, 0, 0, null);
    }

    /**
     * {@code count}: false for a second wait, the request counted among the coalesced at its first; {@code queuedBefore}:
     * what it waited for the backend's queue in its waits before, counted on; {@code waitedBefore}: what it waited in
     * all before, which its coalesce-timeout counts too; {@code wait}: the request's waits as a follower so far, null
     * before its first.
     */
    private void coalesce(Exchange exchange, BackendGate.Backend backend, Lookup lookup, boolean count,
                          long queuedBefore, long waitedBefore, FollowerWait wait) {
        Coalescer.Ticket ticket = cache.coalesce(lookup, count, waitedBefore);
        if (ticket.leader()) {
            // A flight may have stored the answer and landed between our lookup and the join: look again
            // before going to the backend, or a burst of misses runs the script twice.
            Lookup again = cache.lookupAfterFlight(exchange.request(), lookup);
            if (again.outcome() == Lookup.Outcome.FRESH && answer(exchange, again.response(), CacheStatus.HIT)) {
                ticket.done();
                return;
            }
            fetch(exchange, backend, lookup, ticket, true, queuedBefore);
            return;
        }
        EventLoop loop = exchange.clientChannel().eventLoop();
        CompletableFuture<Coalescer.Outcome> ended = ticket.ended();
        FollowerWait follower = wait != null ? wait : new FollowerWait();
        follower.waitFor(ticket, ended);
        if (wait == null) {
            exchange.onClientGone(follower::clientGone); // once per request: the task ends whichever wait it is in
        }
        // A follower keeps a queued leader going: its client's FIN ends it as the leader's own does (a FastCGI
        // exchange, fastcgi_ignore_client_abort off), or a closed client would keep the leader queued for nobody.
        // A FIN that came already ends it now, through the task above.
        exchange.endOnClientClose(true);
        long joined = System.nanoTime();
        ended.whenCompleteAsync((outcome, error) -> {
            if (follower.gone || error != null) {
                return;
            }
            follower.waitFor(null, null);
            // what it waited while its leader was in the backend's queue counts against its own queue wait, should it go
            // alone: no request waits longer than queue.timeout for a free worker in all (the leader's script time is not
            // queue time)
            long waited = queuedBefore + ticket.queuedSince(joined);
            long waitedInAll = waitedBefore + System.nanoTime() - joined;
            switch (outcome) {
                case DONE, NOT_STORED -> afterFlight(exchange, backend, lookup, outcome == Coalescer.Outcome.NOT_STORED,
                        waited, waitedInAll, follower);
                case FAILED -> {
                    // The backend failed the leader (refused, timed out, no connection within the queue timeout, cut):
                    // a stale copy answers; else one follower tries next and the others wait on, as after an answer
                    // not stored: nginx's waiters take its cache lock in turn whatever became of its holder's request,
                    // and a failing backend is not sent them all at once
                    if (!answer(exchange, lookup.responseOnError(), CacheStatus.STALE)) {
                        afterFlight(exchange, backend, lookup, true, waited, waitedInAll, follower);
                    }
                }
                case TIMED_OUT -> {
                    // The leader is still waiting after coalesce-timeout: the backend is under pressure, and
                    // joining its queue as well would likely end in a queue timeout. A stale copy answers now; else
                    // it queues for what is left of the queue timeout after this wait.
                    if (!answer(exchange, lookup.responseOnError(), CacheStatus.UPDATING)) {
                        fetch(exchange, backend, lookup, null, true, waited);
                    }
                }
            }
        }, loop);
    }

    /**
     * A follower once its flight ended with nothing that answers it from before: looks up again, and answers with what
     * the flight stored or revalidated (FRESH to it, though every use needs a revalidation); else, where {@code relock}
     * (the flight's answer was not stored, or it failed) and nothing says the next answer will not be stored either
     * (no hit-for-miss mark), or where this request turned out another variant than the flight's, it coalesces again;
     * else it goes to the backend alone. {@code waited}, {@code waitedInAll}, {@code wait}: as {@link #coalesce}'s.
     */
    private void afterFlight(Exchange exchange, BackendGate.Backend backend, Lookup lookup, boolean relock,
                             long waited, long waitedInAll, FollowerWait wait) {
        Lookup again = cache.lookupAfterFlight(exchange.request(), lookup);
        if (again.outcome() == Lookup.Outcome.BYPASS) {
            exchange.cacheStatus(CacheStatus.BYPASS);
            backend.run(exchange, exchange.request(), null);
        } else if (again.outcome() == Lookup.Outcome.FRESH && answer(exchange, again.response(), CacheStatus.HIT)) {
            return;
        } else if (again.outcome() == Lookup.Outcome.STALE_WHILE_REVALIDATE
                && answerWhileRevalidated(exchange, backend, again)) {
            // stale already when it landed (an Age past its lifetime, a fill a purge overtook): as any request's, and as
            // nginx's lock waiters' (STALE, a background update)
            return;
        } else if (!again.uncacheable() && !again.alone()
                && (relock || again.outcome() == Lookup.Outcome.MISS && !again.key().equals(lookup.key()))) {
            // The leader's answer was not stored, or it had none, and nothing says the next will not be (no
            // hit-for-miss mark): one of the followers goes to the backend, the others wait for it, as nginx's waiters
            // take its cache lock again; so an answer never stored (or a failing backend) sees one request at a time
            // from them, each waiting up to coalesce-timeout in all (then alone), as nginx's
            // fastcgi_cache_lock_timeout. Or the leader's answer varied, and this request is another variant, known
            // only now (a URL's first fill): its misses coalesce on their own key, as nginx locks again on the
            // variant's. Each round needs a backend run, so it cannot spin.
            coalesce(exchange, backend, again, false, waited, waitedInAll, wait);
        } else {
            exchange.cacheStatus(cacheStatus(again.outcome()));
            fetch(exchange, backend, again, null, true, waited);
        }
    }

    /**
     * Goes to the backend for {@code exchange}, recording the answer; {@code ticket} is null when going alone.
     * {@code conditional}: with the entry's validators, if there is one; else without any. A URL remembered
     * uncacheable with no entry to revalidate (hit-for-miss) is a pass-through: the client's own If-None-Match and
     * If-Modified-Since go with it, as nginx sends them with a request it does not cache, so the script may answer 304
     * itself (never stored: a 304 is not storable). A fill, whose 200 the cache wants whole, goes without them, and so
     * do If-Match, If-Unmodified-Since and Range even here: their 412 or 416 could be stored for every client (the
     * preconditions are judged against the answer instead, see {@link #answer}).
     */
    private void fetch(Exchange exchange, BackendGate.Backend backend, Lookup lookup, Coalescer.Ticket ticket,
                       boolean conditional) {
        fetch(exchange, backend, lookup, ticket, conditional, 0);
    }

    /** As above, for a request that waited {@code waitedNanos} behind another's already ({@link Fetch#waitedNanos}). */
    private void fetch(Exchange exchange, BackendGate.Backend backend, Lookup lookup, Coalescer.Ticket ticket,
                       boolean conditional, long waitedNanos) {
        HttpRequest clientRequest = exchange.request();
        HttpRequest backendRequest = lookup.backendRequest(clientRequest);
        if (!conditional) {
            backendRequest.headers().remove(HttpHeaderNames.IF_NONE_MATCH).remove(HttpHeaderNames.IF_MODIFIED_SINCE);
        } else if (lookup.uncacheable() && !hasEntry(lookup)) {
            for (AsciiString validator : CLIENT_VALIDATORS) {
                List<String> values = clientRequest.headers().getAll(validator);
                if (!values.isEmpty()) {
                    backendRequest.headers().set(validator, values);
                }
            }
        }
        // A leader may outlive its client (Fetch.onClientGone): the backend it runs on is kept (a reload meanwhile
        // closes it only once the answer is in).
        Runnable release = ticket != null ? exchange.holdBackends() : () -> { };
        try {
            backend.run(exchange, backendRequest,
                    new Fetch(exchange, backend, lookup, ticket, backendRequest, release, waitedNanos));
        } catch (RuntimeException | Error e) {
            release.run();
            throw e;
        }
    }

    /**
     * Answers {@code exchange} with a response from the cache (owned here from now on), or as the client's
     * preconditions say of it: 304 when its validators match, 412 when its If-Match or If-Unmodified-Since do not
     * (RFC 9110 13.2.2; a cache evaluates them as the origin would, nginx's not-modified filter too); a Range as
     * {@link CachedRanges} says; its body paced by the script's X-Accel-Limit-Rate kept with it, as the miss was, else
     * by the location's limit-rate; with the X-Accel lines kept with it that the location passes, without the fields it
     * hides from its hits. Returns false, writing
     * nothing, when {@code response} is {@code null}.
     */
    boolean answer(Exchange exchange, CachedResponse response) {
        if (response == null) {
            return false;
        }
        for (String name : hiddenOnHits) {
            response.headers().remove(name);
        }
        for (Map.Entry<String, String> line : response.accelFields()) {
            if (passedAccelFields.contains(line.getKey().toLowerCase(Locale.ROOT))) {
                response.headers().add(line.getKey(), line.getValue()); // the miss's lines, as nginx's hit has them
            }
        }
        switch (preconditions(exchange.request(), response)) {
            case NOT_MODIFIED -> {
                answerNotModified(exchange, response);
                response.release();
            }
            case PRECONDITION_FAILED -> {
                response.release();
                exchange.sendError(HttpResponseStatus.PRECONDITION_FAILED);
            }
            case PROCEED -> {
                String limitRate = response.xAccelLimitRate();
                // ranged only where the backend declared its length, as nginx's range filter ranges a hit
                if (response.lengthDeclared() && CachedRanges.answer(exchange, response, limitRate)) {
                    return true;
                }
                exchange.offerCompression();
                SlicedAnswer.answer(exchange, response, limitRate);
            }
        }
        return true;
    }

    /** As {@link #answer(Exchange, CachedResponse)}, the access log told the cache answered as {@code status}. */
    private boolean answer(Exchange exchange, CachedResponse response, CacheStatus status) {
        if (response == null) {
            return false;
        }
        exchange.cacheStatus(status);
        return answer(exchange, response);
    }

    /**
     * The access log's word for a lookup's outcome, before anything came of it: nginx's for the same case (a stale
     * entry that may answer while revalidated: UPDATING, unless this request refreshes it).
     */
    private static CacheStatus cacheStatus(Lookup.Outcome outcome) {
        return switch (outcome) {
            case FRESH -> CacheStatus.HIT;
            case STALE_WHILE_REVALIDATE -> CacheStatus.UPDATING;
            case STALE -> CacheStatus.EXPIRED;
            case MISS -> CacheStatus.MISS;
            case BYPASS -> CacheStatus.BYPASS;
        };
    }

    /**
     * Answers {@code exchange} with a 304 carrying the headers of {@code response}, whose body is not looked at; of the
     * X-Accel fields, only those the location passes.
     */
    private void answerNotModified(Exchange exchange, HttpResponse response) {
        // a copy keeps the stored names' judge (a proxied backend's Fo(o goes on)
        FullHttpResponse notModified = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER, response.headers().copy(),
                new DefaultHttpHeaders());
        notModified.headers().remove(HttpHeaderNames.CONTENT_LENGTH)
                .remove(HttpHeaderNames.TRANSFER_ENCODING);
        for (String name : ACCEL_FIELDS) {
            if (!passedAccelFields.contains(name)) {
                notModified.headers().remove(name);
            }
        }
        // its Vary and ETag as the 200's went: judged by that one's length, as its head says (a stored answer's always
        // does, also where a HEAD's lookup handed it back without its body; a backend's was checked to be a number)
        long length = HttpUtil.getContentLength(response, -1L);
        exchange.offerCompression(length < 0 && response instanceof FullHttpResponse whole
                ? whole.content().readableBytes() : length);
        exchange.complete(exchange.writeAndFlush(notModified));
    }

    /**
     * What the client's preconditions say of a 200, judged against its validators: NOT_MODIFIED when its
     * If-None-Match / If-Modified-Since say it holds it already, PRECONDITION_FAILED when its If-Match /
     * If-Unmodified-Since say it is not the one the client means to act on; PROCEED for any other status.
     */
    private static Preconditions.Outcome preconditions(HttpRequest request, HttpResponse response) {
        HttpHeaders conditions = request.headers();
        if (response.status().code() != 200 || !Preconditions.isConditional(conditions)) {
            return Preconditions.Outcome.PROCEED; // most hits: nothing to judge, no date to read
        }
        Date date = HttpDates.parse(response.headers().get(HttpHeaderNames.LAST_MODIFIED));
        if (date == null && conditions.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE)) {
            // RFC 9110 13.1.4: without a modification date, If-Unmodified-Since is ignored
            conditions = conditions.copy().remove(HttpHeaderNames.IF_UNMODIFIED_SINCE);
        }
        // Without Last-Modified, If-Modified-Since can never match.
        long millis = date == null ? Long.MAX_VALUE : date.getTime();
        return Preconditions.evaluate(conditions, true, response.headers().get(HttpHeaderNames.ETAG), millis);
    }

    /**
     * Whether {@code backendRequest} carries validators: with an entry, the entry's (a revalidation), whose 304 may be
     * merged into it.
     */
    private static boolean askedWithValidators(HttpRequest backendRequest) {
        return backendRequest.headers().contains(HttpHeaderNames.IF_NONE_MATCH)
                || backendRequest.headers().contains(HttpHeaderNames.IF_MODIFIED_SINCE);
    }

    /** True when the lookup found an entry: a request sent with its validators may get a 304 to merge. */
    private static boolean hasEntry(Lookup lookup) {
        return lookup.outcome() != Lookup.Outcome.MISS && lookup.outcome() != Lookup.Outcome.BYPASS;
    }

    /** RFC 5861 4: a 5xx is an error a stale copy may answer instead (stale-if-error, or the grace). */
    private static boolean serverError(HttpResponse backendResponse) {
        return backendResponse.status().code() >= 500;
    }

    /** True when the backend hands the body to the static path: never stored, the cached copy would be empty. */
    private boolean sendsFile(HttpResponse backendResponse) {
        return followsSendfile && backendResponse.headers().contains("X-Sendfile")
                || followsAccelRedirect && backendResponse.headers().contains("X-Accel-Redirect");
    }

    /**
     * A request's waits as a follower, one after another while the flights it waits for store nothing (nginx's cache
     * lock taken again): the one client-gone task it registers, at its first wait, leaves the wait it is in, if any.
     * Touched on the client's event loop only.
     */
    private static final class FollowerWait {
        private Coalescer.Ticket ticket;
        private CompletableFuture<Coalescer.Outcome> ended;
        /** The client left: the wait's end does nothing more. */
        private boolean gone;

        /** The wait it is in from now on; null, null once one ended. */
        void waitFor(Coalescer.Ticket ticket, CompletableFuture<Coalescer.Outcome> ended) {
            this.ticket = ticket;
            this.ended = ended;
        }

        void clientGone() {
            gone = true;
            if (ticket != null) {
                ticket.leave();
                ended.cancel(false);
            }
        }
    }

    /**
     * A backend call for a client: a 200 (or any storable answer) streams to the client while it is
     * recorded; a 304 to the entry's validators is merged into the entry and answered from the cache; a
     * 5xx is replaced by the stale copy when that may answer on error. Owns the recorder and the merged
     * answer; ends the ticket exactly once (done, or failed: the ticket ignores a second end).
     *
     * <pre>
     *   onHead --304 to the entry's------> REVALIDATED --onEnd / onError--> merged answer (or again, unconditional)
     *          --5xx, stale usable-------> stale answer at once (wantsRest: the error's body is let go, as nginx's)
     *          --otherwise---------------> STREAMING (recorded when storable) --onEnd--> stored
     *          --a 200 the client's own validators match--> 304 to the client, then DETACHED (recorded when storable;
     *                                                         else nobody wants the rest: the backend is let go)
     *          --a 200 the client's Range is past the end of--> 416 to the client; nothing recorded, the backend let go
     *                                                         (DETACHED and recorded where followers wait for it)
     *   STREAMING, not (or no longer) recorded: the flight ends at once (NOT_STORED; DONE where the answer varies
     *                                            by fields the flight's key was not made with), so followers go on: one to the
     *                                            backend, or all (hit-for-miss)
     *   any state, client gone, a leader (not STREAMING unrecorded) at the backend or with followers waiting
     *                                                             --> DETACHED: the same, nobody answered
     *   any state, client gone, otherwise ------------------------------> backend aborted, ticket done
     *   DETACHED while queued, then nobody waits (the last follower left, or the flight timed out) before the lease
     *                                                             --> queue place given up, ticket done
     * </pre>
     */
    private final class Fetch implements BackendGate.ResponseTap {
        private final Exchange exchange;
        private final BackendGate.Backend backend;
        private final Lookup lookup;
        private final Coalescer.Ticket ticket;
        /** What the backend was asked: a GET also for a HEAD client, so the answer can be stored. */
        private final HttpRequest backendRequest;
        private ResponseRecorder recorder;
        /** The head the recorder was started with, for {@link #endUnstored} once it gives up. */
        private HttpResponse recordedHead;
        private CachedResponse merged;
        private boolean revalidated;
        private HttpResponseStatus replacedError;
        private boolean headPassed;
        /** The request left the queue for the backend ({@link #onLeased}). */
        private boolean leased;
        /** The client left, or had its 304 at the head; the answer goes on for the cache and the followers only. */
        private boolean detached;
        /** Releases the backend a leader runs on ({@link Exchange#holdBackends}); nothing for others. */
        private final Runnable release;
        private boolean ended;
        /** How long the request waited for the backend's queue behind another's request before this one (coalesced). */
        private final long waitedNanos;

        Fetch(Exchange exchange, BackendGate.Backend backend, Lookup lookup, Coalescer.Ticket ticket,
              HttpRequest backendRequest, Runnable release, long waitedNanos) {
            this.waitedNanos = waitedNanos;
            this.exchange = exchange;
            this.backend = backend;
            this.lookup = lookup;
            this.ticket = ticket;
            this.backendRequest = backendRequest;
            this.release = release;
        }

        @Override
        public long waitedNanos() {
            return waitedNanos;
        }

        /**
         * A stale copy that may answer on error does, at once, while the backend refuses connections (php-fpm, a
         * proxied group, stopped).
         */
        @Override
        public boolean answersWithoutBackend() {
            return lookup.usableOnError();
        }

        @Override
        public boolean onHead(HttpResponse backendResponse) {
            // a 304 merges into the entry only as the answer to the entry's validators: asked again unconditionally
            // (the first 304 named another version), one more is the script's word, passed on as nginx does; merged,
            // its mismatch asked again, and again, for as long as the client waited
            if (backendResponse.status().code() == 304 && hasEntry(lookup) && askedWithValidators(backendRequest)) {
                revalidated = true;
                merged = cache.revalidated(lookup, backendResponse);
                return false;
            }
            if (serverError(backendResponse) && lookup.usableOnError()) {
                replacedError = backendResponse.status();
                return false;
            }
            headPassed = true;
            boolean sendsFile = sendsFile(backendResponse);
            if (sendsFile) {
                cache.rememberUncacheable(lookup, backendRequest, backendResponse);
            } else {
                recorder = cache.record(lookup, backendRequest, backendResponse); // null marks the URL (unless varying)
                recordedHead = backendResponse;
            }
            if (recorder == null) {
                // The followers could only look up a miss once this answer is over: they go on now. Where the URL is
                // marked (hit-for-miss) they go to the backend side by side, as later misses do; else one of them
                // leads the next try and the others wait for it (nginx frees its cache lock at such a head).
                endUnstored(backendResponse);
            }
            // Not for a client that left (detached by onClientGone): its exchange is over, and takes no head
            Preconditions.Outcome judged = sendsFile || detached ? Preconditions.Outcome.PROCEED
                    : preconditions(exchange.request(), backendResponse);
            if (judged != Preconditions.Outcome.PROCEED) {
                // The backend was asked without the client's own preconditions (to have the whole answer to store; a
                // pass-through had its validators, and answered 200 all the same), so it could not answer 304 or 412
                // itself: they are judged against its answer here, as on a hit (and as nginx's not-modified filter
                // does on a cache miss). The body goes on to the cache alone.
                if (judged == Preconditions.Outcome.NOT_MODIFIED) {
                    answerNotModified(exchange, backendResponse);
                } else {
                    exchange.sendError(HttpResponseStatus.PRECONDITION_FAILED);
                }
                detached = true;
                return false;
            }
            // A range goes only of an answer the cache may store by its own fields (one too large for it too, or one
            // kept out for its request's no-store or Authorization alone, which nginx's cache does not read), as
            // nginx's range filter takes only what its cache takes as cacheable (measured: Set-Cookie, no-store or
            // private from the script, a whole 200 to a Range, one past its end too), and only where the backend
            // declared its length, as nginx's range filter wants it (measured: a script's answer without one, which
            // php-fpm never adds, a whole 200; edge knows the length of one that came whole, but nginx ranges its hit
            // no more than its miss); a file handed out takes the Range itself
            boolean ranged = !detached && !sendsFile && exchange.request().headers().contains(HttpHeaderNames.RANGE)
                    && ResponseCache.declaresLength(backendResponse)
                    && (recorder != null || cache.storableByItsHead(backendResponse));
            Unsatisfiable refused = ranged ? CachedRanges.refusedOnTheWay(exchange, backendResponse) : null;
            if (refused != null) {
                // A range past its end: the 416 goes now, and nothing of the answer is kept, nor read, as nginx's
                // range filter's 416 on a miss ends its upstream request (measured beside php-fpm 8.2: the script's
                // next write failed, and the next request was a MISS). Unless followers wait for it: then the answer
                // goes on for them, and is stored, as after a 304 to the client.
                if (ticket == null || !ticket.hasFollowers()) {
                    closeRecorder();
                    endUnstored(backendResponse);
                }
                refuseRange(backendResponse, refused);
                detached = true;
                return false;
            }
            if (ranged) {
                exchange.offerRanges(); // asked for whole: the client's Range is honoured on the way out, as nginx's
            }
            return true;
        }

        /**
         * The 416 of {@code backendResponse}'s range, as a hit's ({@link CachedRanges#refuse}): with the script's fields
         * as the client would have had them, of the X-Accel ones only those the location passes.
         */
        private void refuseRange(HttpResponse backendResponse, Unsatisfiable refused) {
            HttpHeaders answer = backendResponse.headers().copy();
            for (String name : ACCEL_FIELDS) {
                if (!passedAccelFields.contains(name)) {
                    answer.remove(name);
                }
            }
            CachedRanges.refuse(exchange, answer, refused);
        }

        @Override
        public void onBody(ByteBuf chunk) {
            if (recorder != null && !recorder.append(chunk)) {
                recorder = null; // too large: the recorder gave up, released its copy and marked the URL
                endUnstored(recordedHead);
            }
        }

        @Override
        public void onEnd() {
            end();
            if (recorder != null) {
                boolean stored = recorder.finish();
                recorder = null;
                if (!stored) {
                    endUnstored(recordedHead); // a purge meanwhile, no memory left: the next may be stored
                }
            }
            if (replacedError != null) {
                endTicket(false);
                answerStaleFor(replacedError);
                return;
            }
            endTicket(true);
            if (revalidated) {
                answerMerged();
            }
        }

        @Override
        public boolean onError(Throwable cause) {
            end();
            closeRecorder();
            if (revalidated) {
                // The 304 was merged before the backend failed: the entry is as good as after onEnd.
                endTicket(true);
                answerMerged();
                return true;
            }
            endTicket(false);
            if (detached) {
                return true; // nobody to answer
            }
            if (replacedError != null) {
                answerStaleFor(replacedError);
                return true;
            }
            if (headPassed) {
                return false; // the client has a head already: the responder closes the connection
            }
            CachedResponse stale = lookup.responseOnError();
            if (stale != null) {
                LOG.debug("{} {}: answered from a stale copy after {}", exchange.request().method(),
                        LogText.escapeBytes(exchange.request().uri()), cause.toString());
            }
            return answer(exchange, stale, CacheStatus.STALE);
        }

        private void answerMerged() {
            if (detached) {
                releaseMerged(); // the merge into the entry is what counts now
                return;
            }
            CachedResponse response = merged;
            merged = null;
            if (answer(exchange, response, CacheStatus.REVALIDATED)) {
                return;
            }
            // The entry was evicted or replaced between the lookup and the 304: an entry its backend answered since this
            // lookup (another revalidation's, a store's) answers; else ask again, unconditionally.
            Lookup now = cache.lookupAfterFlight(exchange.request(), lookup);
            if (now.outcome() != Lookup.Outcome.FRESH || !answer(exchange, now.response(), CacheStatus.HIT)) {
                fetch(exchange, backend, lookup, null, false);
            }
        }

        /** The backend's 5xx was held back for the stale copy; if that was evicted meanwhile, the status goes out. */
        private void answerStaleFor(HttpResponseStatus backendStatus) {
            if (!detached && !answer(exchange, lookup.responseOnError(), CacheStatus.STALE)) {
                exchange.sendError(backendStatus);
            }
        }

        @Override
        public void onLeased() {
            leased = true;
            if (ticket != null) {
                ticket.leaderLeased();
            }
        }

        @Override
        public boolean wantsRest() {
            if (replacedError != null) {
                // The stale copy answers at the error's head, as nginx's use_stale http_500..504 does: the error's body
                // is nobody's, and a backend slow to send it (or that never ends it) would hold the client until its
                // read timeout for an answer the cache has.
                end();
                endTicket(false);
                answerStaleFor(replacedError);
                replacedError = null;
                return false;
            }
            if (recorder != null || revalidated) {
                return true; // the cache records it, or its end answers the client (the merged entry)
            }
            // The client had its answer at the head (a 304 its own validators earned), or left; the cache keeps
            // nothing, and the followers were let go at the head: the script would run on for nobody (nginx sends
            // such an uncacheable answer whole; a 304 instead spares the client the body, and this spares the worker).
            end();
            return false;
        }

        @Override
        public boolean onClientGone(Runnable giveUp) {
            if (ended) {
                return false;
            }
            if (ticket != null && !(headPassed && recorder == null) && (leased || ticket.hasFollowers())) {
                // Followers wait for this answer, or the script runs already (nginx goes on with a cacheable
                // request whose client closed once it has its upstream connection), and the backend is not failing:
                // only this client left. Failing the flight would send the followers all to the backend (or to a
                // stale copy); reading it to its end for the cache answers them, and the script runs once. A request
                // still queued for nobody gives its place up, as nginx drops one without an upstream connection: now,
                // or once its followers have all gone too.
                detached = true;
                if (!leased) {
                    giveUpWhenNobodyWaits(giveUp);
                }
                return true;
            }
            abandon();
            return false;
        }

        /** Detached while queued: once no follower waits for the answer either, the request leaves the queue. */
        private void giveUpWhenNobodyWaits(Runnable giveUp) {
            EventLoop loop = exchange.clientChannel().eventLoop();
            ticket.whenNobodyWaits(() -> {
                try {
                    loop.execute(() -> {
                        if (ended || leased) {
                            return; // over, or at the backend: it goes on for the cache, as one whose client left there
                        }
                        if (ticket.hasFollowers()) {
                            giveUpWhenNobodyWaits(giveUp); // one joined since
                            return;
                        }
                        abandon();
                        giveUp.run();
                    });
                } catch (RejectedExecutionException shuttingDown) {
                    // the loop is gone, and the request with it
                }
            });
        }

        /**
         * Given up before the backend answered (its body ended short, the error's page answers): the flight ends as
         * {@link #abandon}'s, or the URI's next misses would wait behind it for the whole coalesce-timeout.
         */
        @Override
        public void onGivenUp() {
            if (!ended) {
                abandon();
            }
        }

        /** Nobody is left to answer: the flight ends, and nothing more is recorded or merged. */
        private void abandon() {
            end();
            closeRecorder();
            releaseMerged();
            endTicket(true); // followers (of an answer not stored, or one just joined) go on their own
        }

        /** The response ended, failed or was given up: the backend hold goes (more than once changes nothing). */
        private void end() {
            ended = true;
            release.run();
        }

        private void closeRecorder() {
            if (recorder != null) {
                recorder.close();
                recorder = null;
            }
        }

        private void releaseMerged() {
            if (merged != null) {
                merged.release();
                merged = null;
            }
        }

        /**
         * Ends the flight for an answer not stored: followers of an answer that varies go on their own where they may be
         * other variants, which nothing tells until one is stored (a URL's first fill: a user's private page with Vary:
         * Cookie; letting them lock again would queue every user's page behind every other's); the others lock again,
         * also those of a flight on a variant's key made with the fields the answer varies by, all its variant.
         */
        private void endUnstored(HttpResponse backendResponse) {
            if (ticket == null) {
                return;
            }
            if (ResponseCache.speaksForItsVariantOnly(backendResponse)
                    && !lookup.keyedAsItVaries(exchange.request(), backendResponse)) {
                ticket.done();
            } else {
                ticket.notStored();
            }
        }

        private void endTicket(boolean done) {
            if (ticket == null) {
                return;
            }
            if (done) {
                ticket.done();
            } else {
                ticket.failed();
            }
        }
    }

    /**
     * Watches the answer to a request the cache does not look up; the answer goes to the client as usual. The
     * cache decides from method and status whether it invalidates anything ({@link ResponseCache#invalidate}).
     */
    private final class Invalidation implements BackendGate.ResponseTap {
        private final HttpRequest clientRequest;
        private HttpResponse backendResponse;

        Invalidation(HttpRequest clientRequest) {
            this.clientRequest = clientRequest;
        }

        @Override
        public boolean onHead(HttpResponse backendResponse) {
            this.backendResponse = backendResponse;
            invalidate();
            return true;
        }

        @Override
        public void onBody(ByteBuf chunk) {
        }

        @Override
        public void onEnd() {
            // Once more: PHP sends its head with its first output and may change state after it, and a GET that
            // was at the backend meanwhile may have stored what the URI showed before.
            if (backendResponse != null) {
                invalidate();
            }
        }

        /**
         * The URL's answers made for http and for https alike, in each scope changed (each group's): one resource,
         * whichever way the change came.
         */
        private void invalidate() {
            for (String in : changed) {
                cache.invalidate(in, clientRequest, backendResponse, invalidationMarksStale);
                cache.invalidate(ResponseCache.httpsScope(in), clientRequest, backendResponse, invalidationMarksStale);
            }
        }

        @Override
        public boolean onError(Throwable cause) {
            return false; // the responder answers as without a tap
        }
    }

    /**
     * The one background refresh of a stale-while-revalidate entry: only the cache sees its answer. A 5xx
     * leaves the stale entry as it is (it may still answer on error).
     */
    private final class Refresh implements BackendGate.ResponseTap {
        private final HttpRequest backendRequest;
        private final Lookup lookup;
        private final Coalescer.Ticket ticket;
        /** Releases the backend this refresh runs on ({@link Exchange#holdBackends}). */
        private final Runnable release;
        private ResponseRecorder recorder;
        private boolean failed;

        Refresh(HttpRequest backendRequest, Lookup lookup, Coalescer.Ticket ticket, Runnable release) {
            this.backendRequest = backendRequest;
            this.lookup = lookup;
            this.ticket = ticket;
            this.release = release;
        }

        @Override
        public void onLeased() {
            ticket.leaderLeased();
        }

        @Override
        public boolean onHead(HttpResponse backendResponse) {
            if (backendResponse.status().code() == 304 && askedWithValidators(backendRequest)) {
                CachedResponse merged = cache.revalidated(lookup, backendResponse);
                if (merged != null) {
                    merged.release(); // nobody to answer: the merge into the entry is what counts
                }
            } else if (serverError(backendResponse)) {
                failed = true;
            } else if (!sendsFile(backendResponse)) {
                recorder = cache.record(lookup, backendRequest, backendResponse);
            }
            return false;
        }

        @Override
        public void onBody(ByteBuf chunk) {
            if (recorder != null && !recorder.append(chunk)) {
                recorder = null;
            }
        }

        @Override
        public void onEnd() {
            try {
                if (recorder != null) {
                    boolean stored = recorder.finish();
                    if (!stored && lookup.purgedSince()) {
                        LOG.debug("background refresh of {}: not stored (the URL was purged while it was asked)",
                                LogText.escapeBytes(backendRequest.uri()));
                    } else if (!stored) {
                        LOG.warn("background refresh of {}: not stored (the answer's body disagreed with its "
                                + "Content-Length, or a reload replaced the cache meanwhile)",
                                LogText.escapeBytes(backendRequest.uri()));
                    }
                    recorder = null;
                }
                if (failed) {
                    ticket.failed();
                } else {
                    ticket.done();
                }
            } finally {
                release.run();
            }
        }

        @Override
        public boolean onError(Throwable cause) {
            try {
                if (recorder != null) {
                    recorder.close();
                    recorder = null;
                }
                ticket.failed();
            } finally {
                release.run();
            }
            LOG.warn("background refresh of {} failed (the stale copy stays): {}",
                    LogText.escapeBytes(backendRequest.uri()), cause.toString());
            return true; // the client was answered from the stale copy already
        }
    }
}
