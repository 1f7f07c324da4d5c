package io.edge.core.status;

import io.edge.conf.AddressRange;
import io.edge.core.http.Exchange;
import io.edge.core.http.Responder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A status location ({@code status = true}), like nginx's {@code stub_status} or HAProxy's stats page: GET and HEAD
 * get {@code text/plain}, one line per part of the server as the periodic log writes it, with counters since
 * start; never cached. {@code ?format=prometheus}, or an {@code Accept} naming the Prometheus text format
 * ({@code version=0.0.4}) or OpenMetrics as a scraper sends it, gets the same figures in the Prometheus text format
 * instead. A client not in {@code status-allow} gets 403, another method 405.
 */
public final class StatusResponder implements Responder {

    private final Supplier<List<String>> lines;
    private final Supplier<String> metrics;
    private final List<AddressRange> allowed;

    /**
     * @param lines   the page's lines now, without line ends; called on the event loop, so it must not block
     * @param metrics the same in the Prometheus text format ({@link PrometheusText}); called on the event loop too
     */
    public StatusResponder(Supplier<List<String>> lines, Supplier<String> metrics, List<AddressRange> allowed) {
        this.lines = Objects.requireNonNull(lines, "lines");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.allowed = List.copyOf(allowed);
    }

    @Override
    public void respond(Exchange exchange) {
        if (!AddressRange.anyContains(allowed, exchange.remoteAddress().getAddress())) {
            exchange.sendError(HttpResponseStatus.FORBIDDEN);
            return;
        }
        HttpMethod method = exchange.request().method();
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            exchange.sendError(HttpResponseStatus.METHOD_NOT_ALLOWED);
            return;
        }
        boolean prometheus = wantsPrometheus(exchange);
        StringBuilder page = new StringBuilder(512);
        if (prometheus) {
            page.append(metrics.get());
        } else {
            for (String line : lines.get()) {
                page.append(line).append('\n');
            }
        }
        int length = ByteBufUtil.utf8Bytes(page);
        ByteBuf body = exchange.isHead() ? Unpooled.EMPTY_BUFFER
                : ByteBufUtil.writeUtf8(exchange.clientChannel().alloc(), page);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE,
                        prometheus ? PrometheusText.CONTENT_TYPE : "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        exchange.complete(exchange.writeAndFlush(response)); // the write owns the body
    }

    /** {@code format=prometheus} in the query, or an {@code Accept} as Prometheus scrapers send it. */
    private static boolean wantsPrometheus(Exchange exchange) {
        for (String parameter : exchange.query().split("&")) {
            if (parameter.equals("format=prometheus")) {
                return true;
            }
        }
        String accept = exchange.request().headers().get(HttpHeaderNames.ACCEPT);
        return accept != null && (accept.contains("version=0.0.4") || accept.contains("application/openmetrics-text"));
    }
}
