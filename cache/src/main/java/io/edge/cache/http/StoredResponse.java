package io.edge.cache.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AbstractReferenceCounted;

/**
 * One stored response; headers are never modified after construction. Times are ticker nanoseconds.
 *
 * <p>Reference-counted, and never recycled: the cache holds the one lasting reference (its removal listener
 * releases it, and with it the body). A {@link Lookup} keeps the entry without a reference and retains it only
 * while it takes a duplicate of the body; once released an entry can never be retained again. The body
 * itself could not be trusted that way: a pooled buffer is a recycled object, so after its release the same
 * object may come back from the allocator with someone else's bytes and a count of one.
 */
final class StoredResponse extends AbstractReferenceCounted {

    final HttpResponseStatus status;
    final HttpHeaders headers;
    final ByteBuf body;
    /** When the response's age was zero: storage time less its corrected initial age. */
    final long bornAt;
    /** When its head came from the backend (a 304's, for an entry it renewed): when it was last validated. */
    final long receivedAt;
    /**
     * When its answer was asked for, on the purges' clock ({@link PurgeMarks#now}): a request that waited for it answers
     * from it if its URL was last purged no later ({@link ResponseCache#lookupAfterFlight}).
     */
    final long askedAsOf;
    /** Until when it is fresh; a soft purge moves it back to the purge time. */
    volatile long freshUntil;
    final long staleWhileRevalidateNanos;
    /** How long past freshness it may answer when the backend fails by its own stale-if-error (0: none). */
    final long staleIfErrorNanos;
    /**
     * Whether the configured grace may stretch that (not refused by s-maxage): read from the cache's settings at each
     * use, so that an entry carried over a reload that changed the grace has the new one.
     */
    final boolean graceApplies;
    /**
     * no-cache, or invalidated since it was stored (RFC 9111 4.4, marked rather than removed): every use needs a
     * successful revalidation first.
     */
    volatile boolean alwaysRevalidate;
    /** no-cache, must-revalidate or proxy-revalidate: never answer stale, not even on error. */
    final boolean staleForbidden;
    /** public, s-maxage or must-revalidate: may answer requests carrying Authorization. */
    final boolean sharedWithAuthorization;
    final String etag;
    final String lastModified;
    /** The script's {@code X-Accel-Expires} when it was stored, or null: a 304 without one renews by it. */
    final String xAccelExpires;
    /**
     * The script's {@code X-Accel-Limit-Rate} when it was stored (or the 304's that renewed it), or null: the pace of
     * every use, handed out beside the head ({@link CachedResponse#xAccelLimitRate}).
     */
    final String xAccelLimitRate;
    /**
     * The backend's {@code X-Accel-Expires}, {@code X-Accel-Limit-Rate} and {@code X-Accel-Buffering} lines as they
     * came with the answer (a 304 that renewed it replaces those of a name it has): kept beside the head, never in it,
     * for a location that passes them to its clients (nginx's proxy_pass_header: its cache's hits carry them as its
     * miss did). Never modified.
     */
    final HttpHeaders accelFields;
    /**
     * Whether the backend declared the body's length in its head (a {@code Content-Length}, not chunked): a stored head
     * always says it, so this tells what the backend said. nginx ranges a hit only then ({@link
     * CachedResponse#lengthDeclared}).
     */
    final boolean lengthDeclared;

    StoredResponse(HttpResponseStatus status, HttpHeaders headers, ByteBuf body, long bornAt, long receivedAt,
            long askedAsOf, long freshUntil,
            long staleWhileRevalidateNanos, long staleIfErrorNanos, boolean graceApplies, boolean alwaysRevalidate,
            boolean staleForbidden,
            boolean sharedWithAuthorization, String etag, String lastModified, String xAccelExpires,
            String xAccelLimitRate, HttpHeaders accelFields, boolean lengthDeclared) {
        this.status = status;
        this.headers = headers;
        this.body = body;
        this.bornAt = bornAt;
        this.receivedAt = receivedAt;
        this.askedAsOf = askedAsOf;
        this.freshUntil = freshUntil;
        this.staleWhileRevalidateNanos = staleWhileRevalidateNanos;
        this.staleIfErrorNanos = staleIfErrorNanos;
        this.graceApplies = graceApplies;
        this.alwaysRevalidate = alwaysRevalidate;
        this.staleForbidden = staleForbidden;
        this.sharedWithAuthorization = sharedWithAuthorization;
        this.etag = etag;
        this.lastModified = lastModified;
        this.xAccelExpires = xAccelExpires;
        this.xAccelLimitRate = xAccelLimitRate;
        this.accelFields = accelFields;
        this.lengthDeclared = lengthDeclared;
    }

    long ageSeconds(long now) {
        return Math.max(0, now - bornAt) / 1_000_000_000L;
    }

    boolean fresh(long now) {
        return !alwaysRevalidate && now < freshUntil;
    }

    /** Nanoseconds past freshness, 0 while fresh. */
    long staleness(long now) {
        return Math.max(0, now - freshUntil);
    }

    @Override
    protected void deallocate() {
        body.release();
    }

    @Override
    public StoredResponse touch(Object hint) {
        body.touch(hint);
        return this;
    }

    int weight(String key) {
        long w = (long) body.capacity() + 2L * key.length() + 320 + keptWeight(xAccelExpires)
                + keptWeight(xAccelLimitRate);
        for (HttpHeaders fields : new HttpHeaders[] {headers, accelFields}) {
            for (var header : fields) {
                w += 2L * (header.getKey().length() + header.getValue().length()) + 48;
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, w);
    }

    /** The weight of a field's value kept beside the headers, as one in them: its characters and a string's own. */
    private static long keptWeight(String kept) {
        return kept == null ? 0 : 2L * kept.length() + 48;
    }
}
