package io.edge.core.cache;

import io.edge.cache.http.ResponseCache;
import io.edge.conf.AddressRange;
import io.edge.core.http.Exchange;
import io.edge.core.http.Responder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;

/**
 * Takes {@code PURGE} requests of a cached location and passes everything else to the location's
 * responder. {@code PURGE /path?query} purges that URL (every variant, the answers made for http and for https),
 * {@code PURGE /prefix*} every URL starting with the prefix, both on the request's {@code Host} and among the entries
 * of the location's site alone (its scope, {@link ResponseCache#scope}, and each group's under it where a variable
 * chooses the group: every group's answer to the URL); the answer is 200 with the count, 404 when
 * nothing was cached, 403 for a client not in {@code purge-allow}. A prefix's literal target may route to any
 * location ({@code PURGE /t*} to a static "/" where the scripts are cached by {@code ~ \.php$}, or a prefix over
 * several locations): every location of a site with a cached one takes prefix purges ({@link #prefixesOnly}), and one
 * that routes to no location goes to the site's first cached one (HttpConnectionHandler).
 */
public final class PurgeResponder implements Responder {

    /** The method, as Squid and Varnish spell it. */
    public static final HttpMethod PURGE = HttpMethod.valueOf("PURGE");

    private final Responder delegate;
    private final ResponseCache cache;
    /** The scopes of the location's site's entries ({@link ResponseCache#scope}; the first its own, or empty). */
    private final List<String> scopes;
    private final List<AddressRange> allowed;
    private final boolean markStale;
    private final boolean prefixesOnly;

    /**
     * @param scopes the scopes of the location's site's entries ({@link ResponseCache#scope}): its own (empty where each
     *               host names one site), and each group's under it where a cached location's variable chooses one
     */
    public PurgeResponder(Responder delegate, ResponseCache cache, List<String> scopes, List<AddressRange> allowed,
            boolean markStale) {
        this(delegate, cache, scopes, allowed, markStale, false);
    }

    private PurgeResponder(Responder delegate, ResponseCache cache, List<String> scopes, List<AddressRange> allowed,
            boolean markStale, boolean prefixesOnly) {
        this.delegate = delegate;
        this.cache = cache;
        this.scopes = List.copyOf(scopes);
        this.allowed = List.copyOf(allowed);
        this.markStale = markStale;
        this.prefixesOnly = prefixesOnly;
    }

    /**
     * For a location that is not cached, of a site with one that is: {@code PURGE /prefix*} purges as above, and
     * everything else, a {@code PURGE} of one URL too, goes to {@code delegate}.
     */
    public static PurgeResponder prefixesOnly(Responder delegate, ResponseCache cache, List<String> scopes,
            List<AddressRange> allowed, boolean markStale) {
        return new PurgeResponder(delegate, cache, scopes, allowed, markStale, true);
    }

    @Override
    public void respond(Exchange exchange) {
        if (!PURGE.equals(exchange.request().method())
                || prefixesOnly && !exchange.request().uri().endsWith("*")) {
            delegate.respond(exchange);
            return;
        }
        if (!AddressRange.anyContains(allowed, exchange.remoteAddress().getAddress())) {
            exchange.sendError(HttpResponseStatus.FORBIDDEN);
            return;
        }
        String uri = exchange.request().uri();
        int purged = 0;
        // the answers made for http and those made for https (ResponseCache.httpsScope), whichever way the PURGE came
        HttpRequest target = keyRequest(exchange, uri.endsWith("*") ? uri.substring(0, uri.length() - 1) : uri);
        List<String> keys = new ArrayList<>();
        for (String scope : scopes) {
            keys.add(ResponseCache.keyOf(scope, target));
            keys.add(ResponseCache.keyOf(ResponseCache.httpsScope(scope), target));
        }
        if (uri.endsWith("*")) {
            purged = cache.purgePrefixes(keys, markStale); // one walk of the cache for every scope
        } else {
            for (String key : keys) {
                purged += cache.purge(key, markStale);
            }
        }
        if (purged == 0) {
            exchange.sendError(HttpResponseStatus.NOT_FOUND);
            return;
        }
        ByteBuf body = ByteBufUtil.writeAscii(exchange.clientChannel().alloc(), "purged " + purged + "\n");
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        exchange.complete(exchange.writeAndFlush(response)); // the write owns the body
    }

    /** A GET for {@code uri} with the PURGE's headers, keyed as the cache keys it. */
    private static HttpRequest keyRequest(Exchange exchange, String uri) {
        HttpRequest request = new DefaultHttpRequest(exchange.request().protocolVersion(), HttpMethod.GET, uri);
        request.headers().set(exchange.request().headers());
        return request;
    }
}
