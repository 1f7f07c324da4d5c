package io.edge.core.http;

import io.edge.cache.http.HttpDates;
import io.edge.core.statics.ByteRanges;
import io.edge.core.statics.ByteRanges.Partial;
import io.edge.core.statics.ByteRanges.Range;
import io.edge.core.statics.ByteRanges.Unsatisfiable;
import io.edge.core.statics.Preconditions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.Date;

/**
 * A {@code Range} honoured on a script's 200 as it goes out, nginx's range filter on an answer its cache asked for
 * whole (the response cache hides a client's Range from the script, as fastcgi_cache does, and a miss or an answer too
 * large to store then went whole: a video's seek or a resumed download had all of it, each time). As nginx's: only for
 * a 200 whose length its head declares and whose script said it takes ranges ({@code Accept-Ranges: bytes}), one that
 * edge does not compress (one its script compressed is ranged as it is, its bytes as encoded, as nginx ranges it), an
 * {@code If-Range} naming it; one range becomes a 206 of those bytes, none in the body a 416
 * ({@link #refuseWith}: the page edge or the site has for it, sent in place of the answer's body); several are sent
 * whole (nginx makes a multipart answer only of a body it holds in one buffer). One per response, on its event loop.
 */
public final class RangeSlicer {

    /** The first and last byte of the body that go out (inclusive); none for a 416. */
    private final long first;
    private final long last;
    /** How far into the body the parts written so far reached. */
    private long position;
    /** A 416's page ({@link #refuseWith}), sent with the answer's first part in place of its body; else null. */
    private ByteBuf instead;

    private RangeSlicer(long first, long last) {
        this.first = first;
        this.last = last;
    }

    /**
     * Judges {@code response}, about to go to {@code request}'s client: when a range of it goes, its head is made the
     * 206's (or the 416's, its page then given by {@link #refuseWith}) and the slicer for its body returned; else null,
     * the head untouched.
     */
    static RangeSlicer begin(HttpRequest request, HttpResponse response) {
        HttpHeaders headers = response.headers();
        if (HttpUtil.isTransferEncodingChunked(response)) {
            return null;
        }
        long length = HttpUtil.getContentLength(response, -1L);
        ByteRanges.Result ranges = rangesOf(request, response, length);
        if (ranges instanceof Unsatisfiable unsatisfiable) {
            response.setStatus(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
            headers.set(HttpHeaderNames.CONTENT_RANGE, unsatisfiable.contentRange());
            return new RangeSlicer(0, -1);
        }
        if (!(ranges instanceof Partial partial) || partial.isMultipart()) {
            return null;
        }
        Range part = partial.ranges().get(0);
        response.setStatus(HttpResponseStatus.PARTIAL_CONTENT);
        headers.set(HttpHeaderNames.CONTENT_RANGE, part.contentRange(length))
                .set(HttpHeaderNames.CONTENT_LENGTH, part.length())
                .remove(HttpHeaderNames.ACCEPT_RANGES); // as nginx 1.22's range filter clears it from its 206
        return new RangeSlicer(part.first(), part.last());
    }

    /** Whether the range was refused ({@link #begin} made the head a 416's): {@link #refuseWith} gives its page. */
    boolean refuses() {
        return first > last;
    }

    /**
     * The head of the 416 that goes in place of {@code response}, the answer whose range {@link #refuses refused}: that
     * of {@code refusal}, edge's page or the site's for the status (a missing page's 404), with the answer's fields
     * ({@link #carryFields}) and its Content-Range, as nginx's range filter's 416 becomes its special response with the
     * fields of the answer it refused. Takes {@code refusal}, and {@code response} when it is whole (then released, and
     * {@code refusal} returned, nothing left to slice); else {@code refusal}'s body goes with the answer's first part, in
     * place of its body (the parts after it go empty).
     */
    HttpResponse refuseWith(HttpResponse response, FullHttpResponse refusal, boolean paged) {
        carryFields(response.headers(), refusal.headers(), paged);
        if (response instanceof FullHttpResponse whole) {
            whole.release();
            return refusal;
        }
        instead = refusal.content(); // this slicer's now, until it goes with the first part
        return new DefaultHttpResponse(response.protocolVersion(), refusal.status(), refusal.headers());
    }

    /**
     * Adds to {@code refusal}, the head of the 416 of a range past the end of the answer {@code answer} heads, the
     * answer's fields that {@code refusal} has none of, as nginx's special response keeps an upstream answer's: not
     * its type, length, transfer coding or Accept-Ranges, and its ETag and Last-Modified only with the site's page
     * ({@code paged}; nginx clears them from its own page, and its error_page redirect to a file keeps them and adds
     * the page's ETag after, a second ETag field HTTP does not allow: edge sends the answer's alone, as for a file).
     * Nor the Content-Encoding of an answer its script compressed (nginx 1.22 keeps it: its page, not so coded,
     * goes labelled gzip, which no client can decode).
     */
    public static void carryFields(HttpHeaders answer, HttpHeaders refusal, boolean paged) {
        for (String name : answer.names()) {
            if (!HttpHeaderNames.CONTENT_TYPE.contentEqualsIgnoreCase(name)
                    && !HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)
                    && !HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)
                    && !HttpHeaderNames.CONTENT_ENCODING.contentEqualsIgnoreCase(name)
                    && !HttpHeaderNames.ACCEPT_RANGES.contentEqualsIgnoreCase(name)
                    && (paged || !HttpHeaderNames.ETAG.contentEqualsIgnoreCase(name)
                            && !HttpHeaderNames.LAST_MODIFIED.contentEqualsIgnoreCase(name))
                    && !refusal.contains(name)) {
                refusal.add(name, answer.getAll(name));
            }
        }
    }

    /** {@code whole}'s content cut to the range: a new response owning the slice; {@code whole} is released. */
    FullHttpResponse sliceWhole(FullHttpResponse whole) {
        ByteBuf kept = slice(whole.content());
        try {
            return whole.replace(kept);
        } finally {
            whole.release();
        }
    }

    /** {@code content} cut to the part of the range it holds (maybe none): a new message; {@code content} released. */
    HttpContent slice(HttpContent content) {
        ByteBuf kept = slice(content.content());
        if (instead != null) {
            // the 416's page, in place of the answer's body (kept: empty), with its first part: the client has its
            // whole answer then, not once the script has sent all of a body it will never see
            kept = instead;
            instead = null;
        }
        try {
            if (content instanceof LastHttpContent last) {
                return new DefaultLastHttpContent(kept, last.trailingHeaders());
            }
            return new DefaultHttpContent(kept);
        } finally {
            content.release();
        }
    }

    /** The bytes of {@code body}, the next part of the response's, that lie in the range: retained, or none. */
    private ByteBuf slice(ByteBuf body) {
        long start = position;
        long end = position + body.readableBytes(); // exclusive
        position = end;
        long from = Math.max(start, first);
        long to = Math.min(end, last + 1);
        if (from >= to) {
            return Unpooled.EMPTY_BUFFER;
        }
        return body.retainedSlice(body.readerIndex() + (int) (from - start), (int) (to - from));
    }

    /**
     * What {@code request}'s Range asks of {@code response}, a script's answer of {@code length} bytes (a stored one, or
     * one on its way), as nginx ranges an upstream's answer: null when the whole goes (no Range, another status than
     * 200, no {@code Accept-Ranges: bytes} from the script, a length unknown, an {@code If-Range} naming another version).
     */
    public static ByteRanges.Result rangesOf(HttpRequest request, HttpResponse response, long length) {
        String range = request.headers().get(HttpHeaderNames.RANGE);
        if (range == null || response.status().code() != 200 || !takesRanges(response.headers()) || length < 0
                || !ifRangeAllows(request.headers().get(HttpHeaderNames.IF_RANGE), response.headers())) {
            return null;
        }
        return ByteRanges.parse(range, length);
    }

    /** The script said it takes byte ranges: an {@code Accept-Ranges} naming {@code bytes}. */
    private static boolean takesRanges(HttpHeaders headers) {
        for (String value : headers.getAll(HttpHeaderNames.ACCEPT_RANGES)) {
            for (String unit : value.split(",")) {
                if (unit.strip().equalsIgnoreCase("bytes")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether an {@code If-Range} (none: yes) names the answer {@code headers} belong to: its strong ETag or date. */
    private static boolean ifRangeAllows(String ifRange, HttpHeaders headers) {
        if (ifRange == null) {
            return true;
        }
        Date modified = HttpDates.parse(headers.get(HttpHeaderNames.LAST_MODIFIED));
        // without a Last-Modified no date names it: one no If-Range date can equal
        long millis = modified == null ? Long.MIN_VALUE : modified.getTime();
        return Preconditions.ifRangeAllows(ifRange, headers.get(HttpHeaderNames.ETAG), millis);
    }
}
