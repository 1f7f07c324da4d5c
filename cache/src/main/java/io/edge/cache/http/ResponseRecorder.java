package io.edge.cache.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Copies a backend response body into the cache while it streams to the client. Used by one thread at a
 * time; {@link #close()} after {@link #finish()} is harmless, so {@code try (recorder)} always cleans up.
 *
 * <p>Ownership: the recorder owns its copy of the body until {@link #finish()} hands it to the cache or
 * {@link #close()} releases it; the chunks appended stay the caller's (only their bytes are copied, their
 * indexes are not moved).
 */
public final class ResponseRecorder implements AutoCloseable {

    private final ResponseCache cache;
    /** The scope of the lookup that asked for it ({@link ResponseCache#scope}). */
    private final String scope;
    private final HttpRequest clientRequest;
    private final HttpResponse backendResponse;
    private final ResponseCache.Receipt receipt;
    /** When it was asked for, on the purges' clock ({@link PurgeMarks}): a purge of its URL since keeps it out. */
    private final long askedAsOf;
    /** The seconds the settings keep it for, saying nothing of its lifetime itself; or none (negative). */
    private final long valid;
    private final CacheControl cc;
    private final int maxBytes;
    private ByteBuf body;

    ResponseRecorder(ResponseCache cache, String scope, HttpRequest clientRequest, HttpResponse backendResponse,
            ResponseCache.Receipt receipt, long askedAsOf, CacheControl cc, long valid, ByteBuf body, int maxBytes) {
        this.askedAsOf = askedAsOf;
        this.valid = valid;
        this.cache = cache;
        this.scope = scope;
        this.clientRequest = clientRequest;
        this.backendResponse = backendResponse;
        this.receipt = receipt;
        this.cc = cc;
        this.body = body;
        this.maxBytes = maxBytes;
    }

    /**
     * Copies the readable bytes of {@code chunk}. Returns false, and gives up recording, once the body
     * grows past the cache's largest object (which marks the URL uncacheable, as a {@code Content-Length}
     * over it would have: {@link ResponseCache#rememberUncacheable}), when there is no direct memory left for it to
     * grow, or after {@link #finish()} / {@link #close()}.
     */
    public boolean append(ByteBuf chunk) {
        if (body == null) {
            return false;
        }
        int length = chunk.readableBytes();
        if (length > maxBytes - body.readableBytes()) {
            close();
            cache.rememberUncacheable(scope, clientRequest, backendResponse);
            return false;
        }
        try {
            body.writeBytes(chunk, chunk.readerIndex(), length);
        } catch (OutOfMemoryError e) { // the copy could not grow: the answer goes on to its client, unstored
            close();
            cache.noRoom();
            return false;
        }
        return true;
    }

    /**
     * Stores the recorded response: the body is complete. A body whose length disagrees with the response's
     * {@code Content-Length} (a truncated response) is not stored; one whose URL was purged since it was asked for is
     * stored only in need of a revalidation before any use, for the requests that waited for it since before the purge.
     *
     * @return whether it was stored for every request that comes (false for either of those)
     */
    public boolean finish() {
        ByteBuf recorded = body;
        if (recorded == null) {
            return false;
        }
        body = null;
        long contentLength = backendResponse.headers().getInt(HttpHeaderNames.CONTENT_LENGTH, -1);
        if (contentLength >= 0 && contentLength != recorded.readableBytes()) {
            recorded.release(); // nobody else holds the recording
            return false;
        }
        // the cache owns it now
        return cache.put(scope, clientRequest, backendResponse, receipt, askedAsOf, cc, valid, recorded);
    }

    /** Gives up recording and releases what was copied; does nothing after {@link #finish()}. */
    @Override
    public void close() {
        if (body != null) {
            body.release();
            body = null;
        }
    }
}
