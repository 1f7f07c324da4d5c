package io.edge.core.cache;

import io.edge.conf.ErrorPage;
import io.edge.core.http.ErrorResponses;
import io.edge.core.http.Exchange;
import io.edge.core.http.RangeSlicer;
import io.edge.core.http.SubFilter;
import io.edge.core.statics.ByteRanges;
import io.edge.core.statics.ByteRanges.Partial;
import io.edge.core.statics.ByteRanges.Range;
import io.edge.core.statics.ByteRanges.Unsatisfiable;
import io.edge.core.statics.MultipartByteranges;
import io.edge.core.statics.MultipartByteranges.Piece;
import io.edge.core.statics.MultipartByteranges.Slice;
import io.edge.core.statics.MultipartByteranges.Text;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A {@code Range} request answered from a stored 200 (RFC 9110 14): 206 with the range, or a
 * {@code multipart/byteranges} of several, or 416 when none is in the body (edge's page or the site's, with the stored
 * answer's fields, as {@link RangeSlicer#carryFields}). Only for an answer whose script said it
 * takes them (an {@code Accept-Ranges} naming {@code bytes}), as nginx ranges a cached answer only when its
 * upstream sent that header ({@code ngx_http_upstream_copy_allow_ranges}), and declared its length (the caller asks
 * {@link io.edge.cache.http.CachedResponse#lengthDeclared} first); any other goes whole, as a 200. The backend
 * never sees the client's Range of a cached URL (the fill asks for the whole answer), so this is the only place it is
 * honoured but for an answer on its way from the script ({@link RangeSlicer}, which judges both alike). An
 * {@code If-Range} that does not name the stored answer (strong ETag, or its Last-Modified exactly) has it
 * whole too.
 */
final class CachedRanges {

    private CachedRanges() {
    }

    /**
     * Answers {@code exchange}'s Range from {@code response} and returns true, owning {@code response}, the part paced
     * as {@link SlicedAnswer} paces by {@code accelLimitRate}; returns false, nothing written or released, when the
     * whole answer is to go.
     */
    static boolean answer(Exchange exchange, FullHttpResponse response, String accelLimitRate) {
        if (filtered(exchange, response.headers())) {
            return false;
        }
        // a HEAD's lookup may hand the answer back without its body: its head says how long the GET's is
        long length = exchange.isHead() ? HttpUtil.getContentLength(response, -1L) : response.content().readableBytes();
        if (exchange.compresses(response, length)) {
            return false; // the location's gzip takes it: the whole compressed 200, as nginx's gzip before its ranges
        }
        ByteRanges.Result ranges = RangeSlicer.rangesOf(exchange.request(), response, length);
        if (ranges == null) {
            return false;
        }
        if (ranges instanceof Unsatisfiable unsatisfiable) {
            response.release();
            refuse(exchange, response.headers(), unsatisfiable);
            return true;
        }
        if (!(ranges instanceof Partial partial)) {
            return false;
        }
        String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
        FullHttpResponse part;
        try {
            part = partOf(response, partial, length, type, exchange.isHead());
        } finally {
            response.release();
        }
        // the Vary its 200 would have; never compressed: its ranges are of the stored bytes
        exchange.offerCompression(length, type);
        SlicedAnswer.answer(exchange, part, accelLimitRate);
        return true;
    }

    /**
     * What {@code exchange}'s Range asks of {@code backendResponse}, a script's answer on its way to the cache (a miss),
     * when nothing of it can go: the 416 {@link #refuse} answers in its place. Null when its range or the whole goes
     * (judged as {@link RangeSlicer} judges it as it streams: its length declared, not chunked, not sub-filtered, not
     * compressed by the location's gzip).
     */
    static Unsatisfiable refusedOnTheWay(Exchange exchange, HttpResponse backendResponse) {
        long length = HttpUtil.getContentLength(backendResponse, -1L);
        if (HttpUtil.isTransferEncodingChunked(backendResponse) || filtered(exchange, backendResponse.headers())
                || exchange.compresses(backendResponse, length)) {
            return null; // the location's gzip takes it: the whole compressed 200, as nginx's gzip before its ranges
        }
        return RangeSlicer.rangesOf(exchange.request(), backendResponse, length) instanceof Unsatisfiable unsatisfiable
                ? unsatisfiable : null;
    }

    /**
     * Answers {@code exchange} with the 416 of a range past the end of the answer {@code answer} heads: edge's page or
     * the site's, with the answer's fields ({@link RangeSlicer#carryFields}), as nginx's range filter's 416 becomes its
     * special response (then its error_page redirect); its headers filter ran on the 200 before, so the location's
     * expires and headers go with it too, as with a file's 416.
     */
    static void refuse(Exchange exchange, HttpHeaders answer, Unsatisfiable unsatisfiable) {
        ErrorPage page = exchange.errorPage(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
        FullHttpResponse refusal = ErrorResponses.response(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                exchange.isHead(), page, exchange.serverTokens());
        refusal.headers().set(HttpHeaderNames.CONTENT_RANGE, unsatisfiable.contentRange());
        RangeSlicer.carryFields(answer, refusal.headers(),
                ErrorResponses.sendsSitePage(refusal, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, page));
        exchange.withLocationHeaders();
        exchange.complete(exchange.writeAndFlush(refusal));
    }

    /**
     * Whether the location's sub-filter changes the answer's bytes on the way out: the whole filtered 200, as nginx's
     * range filter finds no length left to take a range of; never a range of the unfiltered bytes.
     */
    private static boolean filtered(Exchange exchange, HttpHeaders answer) {
        return SubFilter.filters(exchange, answer.get(HttpHeaderNames.CONTENT_TYPE))
                && answer.get(HttpHeaderNames.CONTENT_ENCODING, "").isBlank();
    }

    /** The 206 of {@code partial} of {@code whole}'s body, {@code length} bytes long; without a body for a HEAD. */
    private static FullHttpResponse partOf(FullHttpResponse whole, Partial partial, long length, String type,
            boolean head) {
        ByteBuf stored = whole.content();
        FullHttpResponse part;
        if (partial.isMultipart()) {
            MultipartByteranges multipart = MultipartByteranges.of(partial.ranges(), length,
                    type == null ? "application/octet-stream" : type, MultipartByteranges.newBoundary());
            CompositeByteBuf body = Unpooled.compositeBuffer(multipart.pieces().size());
            if (!head) {
                for (Piece piece : multipart.pieces()) {
                    ByteBuf bytes = piece instanceof Text text ? text.buffer()
                            : stored.retainedSlice(stored.readerIndex() + (int) ((Slice) piece).offset(),
                                    (int) piece.length());
                    body.addComponent(true, bytes);
                }
            }
            part = response(whole, body);
            part.headers().set(HttpHeaderNames.CONTENT_TYPE, multipart.contentType())
                    .set(HttpHeaderNames.CONTENT_LENGTH, multipart.contentLength());
        } else {
            Range range = partial.ranges().get(0);
            part = response(whole, head ? Unpooled.EMPTY_BUFFER
                    : stored.retainedSlice(stored.readerIndex() + (int) range.first(), (int) range.length()));
            part.headers().set(HttpHeaderNames.CONTENT_RANGE, range.contentRange(length))
                    .set(HttpHeaderNames.CONTENT_LENGTH, range.length());
        }
        return part;
    }

    private static FullHttpResponse response(FullHttpResponse whole, ByteBuf body) {
        // a copy keeps the stored names' judge (a proxied backend's Fo(o goes on)
        FullHttpResponse part = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PARTIAL_CONTENT,
                body, whole.headers().copy(), new DefaultHttpHeaders());
        // without the stored Accept-Ranges: nginx 1.22's range filter clears it from the 206s it makes
        part.headers().remove(HttpHeaderNames.TRANSFER_ENCODING).remove(HttpHeaderNames.ACCEPT_RANGES);
        return part;
    }
}
