package io.edge.core.cache;

import io.edge.aio.file.FileEngine;
import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import io.edge.conf.VariableMap;
import io.edge.core.http.CacheStatus;
import io.edge.core.http.Exchange;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The exchange of a background refresh: the request of a client that was already answered from a stale
 * copy, with nobody to write to. It borrows the client's channel only for its event loop and allocator
 * (the backend connection lives on that loop); the tap of the refresh takes every response over, so
 * nothing is ever written. A write reaching it anyway is a bug and fails loudly.
 */
final class DetachedExchange implements Exchange {

    private final HttpRequest request;
    private final String path;
    private final String query;
    private final SiteSettings site;
    private final LocationSettings location;
    private final Channel clientChannel;
    private final InetSocketAddress remoteAddress;
    private final boolean https;
    private final InetSocketAddress localAddress;
    /** The user whose password the client's request had checked: the script sees it again (REMOTE_USER). */
    private final String authenticatedUser;
    /** The client's {@code $request_id} (made now if it was not yet): the refresh is its request, carried on. */
    private final String requestId;
    /**
     * The client's variables' values so far (its sets', its maps'): the script's fastcgi-params name what the client's
     * rewrites set ($skip_cache), as its own run would have. Kept as they are, as nginx's subrequest sees them.
     */
    private final Map<VariableMap, String> mapValues;
    /** The client's file engine: a location's file test the refresh meets (a script found under its URI) asks it. */
    private final FileEngine files;

    /** Snapshots what {@code client} knows before it completes; {@code request} is what the backend gets. */
    DetachedExchange(Exchange client, HttpRequest request) {
        this.request = request;
        this.path = client.path();
        this.query = client.query();
        this.site = client.site();
        this.location = client.location();
        this.clientChannel = client.clientChannel();
        this.remoteAddress = client.remoteAddress();
        this.https = client.https();
        this.localAddress = client.localAddress();
        this.authenticatedUser = client.authenticatedUser();
        this.requestId = client.requestId();
        this.mapValues = new IdentityHashMap<>(client.mapValues());
        this.files = client.files();
    }

    @Override
    public Map<VariableMap, String> mapValues() {
        return mapValues;
    }

    @Override
    public String requestId() {
        return requestId;
    }

    /**
     * nginx's {@code $upstream_cache_status} of a background update: the stale entry it refreshes was looked up as
     * expired (what the script's fastcgi-params name).
     */
    @Override
    public CacheStatus cacheStatus() {
        return CacheStatus.EXPIRED;
    }

    @Override
    public HttpRequest request() {
        return request;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String query() {
        return query;
    }

    @Override
    public boolean isHead() {
        return HttpMethod.HEAD.equals(request.method());
    }

    @Override
    public SiteSettings site() {
        return site;
    }

    @Override
    public LocationSettings location() {
        return location;
    }

    @Override
    public String authenticatedUser() {
        return authenticatedUser;
    }

    @Override
    public Channel clientChannel() {
        return clientChannel;
    }

    @Override
    public FileEngine files() {
        return files;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    @Override
    public boolean https() {
        return https;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public void readBody(Consumer<HttpContent> onContent, Runnable onIncomplete) {
        onContent.accept(LastHttpContent.EMPTY_LAST_CONTENT); // a refresh is a bodiless GET
    }

    @Override
    public void pauseBody(boolean paused) {
        // no client, no body
    }

    @Override
    public ChannelFuture write(Object message) {
        ReferenceCountUtil.release(message);
        throw new IllegalStateException("a background refresh has no client to write to");
    }

    @Override
    public ChannelFuture writeAndFlush(Object message) {
        return write(message);
    }

    @Override
    public void flush() {
        // nothing is sent: the recorder has already taken every message
    }

    @Override
    public boolean isWritable() {
        return true;
    }

    @Override
    public void onWritable(Runnable task) {
        task.run();
    }

    @Override
    public void complete(ChannelFuture lastWrite) {
    }

    @Override
    public void completeAndClose(ChannelFuture lastWrite) {
    }

    @Override
    public void fail(Throwable cause) {
    }

    @Override
    public void sendError(HttpResponseStatus status) {
    }

    @Override
    public void onClientGone(Runnable task) {
        // nobody can go away: the refresh runs until the backend ends it
    }

    @Override
    public void whenEnded(Runnable task) {
        // no limit counts a refresh: only a client's request is in progress for one
        throw new UnsupportedOperationException("a background refresh is counted by no limit");
    }

    @Override
    public boolean isEnded() {
        return false;
    }
}
