package io.edge.cache.http;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.List;

/**
 * What the cache has for one request, and what the caller may do with it:
 * <ul>
 * <li>{@link Outcome#FRESH}: send {@link #response()}.
 * <li>{@link Outcome#STALE_WHILE_REVALIDATE}: send {@link #response()}; if {@link #refresh()} returns a
 *     ticket, this caller alone refreshes in the background with {@link #backendRequest}.
 * <li>{@link Outcome#STALE}: revalidate, usually after {@link ResponseCache#coalesce}: send
 *     {@link #backendRequest} (conditional when the entry has validators), merge a 304 with
 *     {@link ResponseCache#revalidated}, store a 200 with {@link ResponseCache#record}; when the backend
 *     fails or its queue is full, {@link #responseOnError()} may still answer.
 * <li>{@link Outcome#MISS}: like STALE without an entry.
 * <li>MISS or STALE and {@link #uncacheable()}: as above, but alone, not coalesced (hit-for-miss).
 * <li>MISS or STALE and {@link #alone()}: as above, alone too, with this request's answer recorded as usual.
 * <li>{@link Outcome#BYPASS}: the cache stays out: send the client's request as is and store nothing.
 * </ul>
 * A lookup holds no reference: responses are made (and retained) on demand, so dropping a lookup leaks
 * nothing. Its entry may be removed and released at any time after the lookup; from then on the methods that
 * make a response return {@code null} (never another buffer's bytes: see {@link StoredResponse}).
 */
public final class Lookup {

    /** See the class comment. */
    public enum Outcome { FRESH, STALE_WHILE_REVALIDATE, STALE, MISS, BYPASS }

    private final ResponseCache cache;
    /** The scope it was looked up in ({@link ResponseCache#scope}): what follows from it stays there. */
    final String scope;
    private final Outcome outcome;
    private final String key;
    final StoredResponse stored;
    final boolean head;
    private final boolean uncacheable;
    private final boolean alone;
    /** The purges' clock when this lookup was made ({@link PurgeMarks}): its backend request is asked after this. */
    final long asOf;
    /**
     * For a MISS or a STALE, the one that may wait for another's answer: when its URL was last purged before it was
     * made, on the purges' clock. An answer asked for since then answers it once its flight ended, though a purge came
     * meanwhile ({@link ResponseCache#lookupAfterFlight}); for the other outcomes, {@link #asOf}.
     */
    final long lastPurge;
    /** When it was made, on the cache's ticker ({@link ResponseCache#lookupAfterFlight}). */
    final long madeAt;

    Lookup(ResponseCache cache, String scope, Outcome outcome, String key, StoredResponse stored, boolean head,
            boolean uncacheable) {
        this(cache, scope, outcome, key, stored, head, uncacheable, false);
    }

    Lookup(ResponseCache cache, String scope, Outcome outcome, String key, StoredResponse stored, boolean head,
            boolean uncacheable, boolean alone) {
        this.cache = cache;
        this.scope = scope;
        this.outcome = outcome;
        this.key = key;
        this.stored = stored;
        this.head = head;
        this.uncacheable = uncacheable;
        this.alone = alone;
        this.asOf = cache.purgeClock();
        // Read after asOf: a purge in between makes it later, which only turns an answer away (asked before it)
        this.lastPurge = key != null && (outcome == Outcome.MISS || outcome == Outcome.STALE)
                ? cache.lastPurge(key) : asOf;
        this.madeAt = cache.ticks();
    }

    public Outcome outcome() {
        return outcome;
    }

    /**
     * For {@link Outcome#MISS} and {@link Outcome#STALE}: the last answer for this URL, within
     * {@code hitForMiss}, could not be stored and did not vary (Varnish's hit-for-miss). Concurrent misses would wait for one
     * another in vain, so each goes to the backend alone; its answer is still recorded, and a storable one is
     * stored and ends the mark.
     */
    public boolean uncacheable() {
        return uncacheable;
    }

    /**
     * For {@link Outcome#MISS} and {@link Outcome#STALE}: whether the cache may share this request's answer with others
     * is unknown until it comes, for reasons of the request's own ({@code Cache-Control: no-store}; {@code Authorization}
     * with no stored answer that says it may be shared). It goes to the backend alone, neither leading a flight (its
     * answer refused, the followers would all go to the backend side by side) nor following one; its answer is still
     * recorded, and stored where the rules allow. Not {@link ResponseCache#coalesce coalesced}.
     */
    public boolean alone() {
        return alone;
    }

    /**
     * Whether this lookup's URL was purged or invalidated since it was made: an answer it led to is then stored only in
     * need of a revalidation before any use, if at all ({@link ResponseCache#record(Lookup, HttpRequest, HttpResponse)}).
     */
    public boolean purgedSince() {
        return key != null && cache.purgedSince(key, asOf);
    }

    /** The full cache key (variant included), or {@code null} for {@link Outcome#BYPASS}. */
    public String key() {
        return key;
    }

    /**
     * Whether {@code backendResponse}, the answer to {@code clientRequest} (this lookup's), varies by the fields {@link
     * #key} was made with (the Vary index knew them): every request coalesced on the key has this one's values of them,
     * and is the answer's variant too.
     */
    public boolean keyedAsItVaries(HttpRequest clientRequest, HttpResponse backendResponse) {
        int cut = key == null ? -1 : key.indexOf(CachePolicy.VARIANT_SEPARATOR);
        List<String> vary = CachePolicy.varyNames(backendResponse.headers());
        return cut >= 0 && vary != null
                && CachePolicy.variantKey(key.substring(0, cut), vary, clientRequest.headers()).equals(key);
    }

    /**
     * The stored response with a current {@code Age}, owned by the caller (its body is a retained duplicate,
     * empty for HEAD); {@code null} when there is no entry or it was evicted since the lookup. Serve it
     * as is only for FRESH and STALE_WHILE_REVALIDATE.
     */
    public CachedResponse response() {
        return stored == null ? null : cache.toResponse(stored, head);
    }

    /**
     * True when the stored response may answer although stale, because the backend failed, is down, or its
     * wait queue is full: within the larger of its {@code stale-if-error} and the configured grace past
     * freshness (the grace not with {@code s-maxage}), and not forbidden by {@code no-cache},
     * {@code must-revalidate} or {@code proxy-revalidate}.
     */
    public boolean usableOnError() {
        return stored != null && cache.usableOnError(stored);
    }

    /** {@link #response()} if {@link #usableOnError()}, counted as a stale answer; else {@code null}. */
    public CachedResponse responseOnError() {
        return usableOnError() ? cache.staleAnswer(response()) : null;
    }

    /**
     * For {@link Outcome#STALE_WHILE_REVALIDATE}: a ticket for the one background refresh of this key, or
     * {@code null} when another request already refreshes it, or already did since this lookup (its answer
     * replaced the entry this lookup saw), or the outcome is another. The holder ends it with {@code done()}
     * after storing or merging the answer, or {@code failed()}.
     */
    public Coalescer.Ticket refresh() {
        if (outcome != Outcome.STALE_WHILE_REVALIDATE) {
            return null;
        }
        Coalescer.Ticket ticket = cache.coalescer().tryLead(key);
        if (ticket != null && !cache.isCurrent(key, stored)) {
            // A refresh stored its answer and ended its flight between this lookup and the lead: it was the one.
            ticket.done();
            return null;
        }
        return ticket;
    }

    /**
     * The request to send to the backend to fill or revalidate this entry: a GET (HEAD asks for the body to
     * store) with the client's own conditional and range fields removed, plus {@code If-None-Match} /
     * {@code If-Modified-Since} from the stored response's validators. A new request; the client's is
     * untouched. Not for {@link Outcome#BYPASS}.
     */
    public HttpRequest backendRequest(HttpRequest clientRequest) {
        HttpRequest request = new DefaultHttpRequest(clientRequest.protocolVersion(), HttpMethod.GET,
                clientRequest.uri());
        HttpHeaders headers = request.headers().set(clientRequest.headers());
        headers.remove(HttpHeaderNames.IF_NONE_MATCH)
                .remove(HttpHeaderNames.IF_MODIFIED_SINCE)
                .remove(HttpHeaderNames.IF_MATCH)
                .remove(HttpHeaderNames.IF_UNMODIFIED_SINCE)
                .remove(HttpHeaderNames.IF_RANGE)
                .remove(HttpHeaderNames.RANGE);
        if (stored != null) {
            if (stored.etag != null) {
                headers.set(HttpHeaderNames.IF_NONE_MATCH, stored.etag);
            }
            if (stored.lastModified != null) {
                headers.set(HttpHeaderNames.IF_MODIFIED_SINCE, stored.lastModified);
            }
        }
        return request;
    }

    @Override
    public String toString() {
        return "Lookup(" + outcome + ", " + key + ")";
    }
}
