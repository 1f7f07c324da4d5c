package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.edge.conf.VariableText;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * A location's {@code sub-filter} on a response's way out, nginx's sub filter: whether a response is filtered, the
 * headers that go with it, and its body with the strings replaced as the responder writes it. One per filtered
 * response, used on its event loop; it holds no buffer between parts (what may begin a match is kept as bytes).
 *
 * <p>The body streams through: of each part, what cannot begin a match goes out at once, and at most the longest
 * match's length less one byte is held back until the next part tells whether it begins one. At each place the
 * strings are tried in the order written, the first found there wins; one that needs bytes yet to come to tell
 * holds the place, so that how the body is cut into parts never changes what is replaced.
 */
public final class SubFilter {

    private static final byte[] NONE = new byte[0];

    private final ByteBufAllocator alloc;
    /** The strings looked for, ASCII lower case, and what replaces each. */
    private final byte[][] matches;
    private final byte[][] replacements;
    /** Each string is replaced once: {@link #used} says which were. */
    private final boolean once;
    private final boolean[] used;
    /** Strings not yet used up (with {@link #once}); 0: the rest of the body goes as it is. */
    private int left;
    /** Whether a byte (lower case) begins one of the strings: most bytes are passed over by this alone. */
    private final boolean[] first = new boolean[256];
    /** The end of the last part, which may begin a match the next part completes. */
    private byte[] held = NONE;

    SubFilter(List<byte[]> matches, List<byte[]> replacements, boolean once, ByteBufAllocator alloc) {
        this.alloc = alloc;
        this.matches = new byte[matches.size()][];
        this.replacements = replacements.toArray(new byte[0][]);
        for (int i = 0; i < this.matches.length; i++) {
            byte[] match = matches.get(i).clone();
            for (int j = 0; j < match.length; j++) {
                match[j] = lower(match[j]);
            }
            this.matches[i] = match;
            first[match[0] & 0xff] = true;
        }
        this.once = once;
        this.used = new boolean[this.matches.length];
        this.left = this.matches.length;
    }

    /**
     * Judges {@code response}, about to go to {@code request}'s client, by {@code settings}: when it is filtered, its
     * head is made that of a body of unknown length (no Content-Length nor Accept-Ranges, chunked for an HTTP/1.1
     * client; Last-Modified and ETag dropped, or with {@code last-modified} the ETag made weak) and the filter for its
     * body is returned; else null, its head untouched. Not filtered: a 206, a 304, an answer with no body or a
     * Content-Encoding, one of a type {@code types} does not name, and one for which no string has a value.
     *
     * @param head   the request is a HEAD: the head its GET would have, no filter
     * @param values each string's value for this request (its variables), as UTF-8 bytes
     */
    static SubFilter begin(HttpRequest request, boolean head, HttpResponse response,
            LocationSettings.SubFilter settings, Function<VariableText, byte[]> values, ByteBufAllocator alloc) {
        HttpHeaders headers = response.headers();
        int status = response.status().code();
        if (status < 200 || status == 204 || status == 206 || status == 304
                || !settings.filters(GzipFilter.mediaType(headers.get(HttpHeaderNames.CONTENT_TYPE)))
                || !headers.get(HttpHeaderNames.CONTENT_ENCODING, "").isBlank()) {
            return null;
        }
        long length = response instanceof FullHttpResponse whole && !head ? whole.content().readableBytes()
                : GzipFilter.declaredLength(response);
        if (length == 0) {
            return null; // nginx's: nothing to look in
        }
        List<byte[]> matches = new ArrayList<>();
        List<byte[]> replacements = new ArrayList<>();
        for (LocationSettings.SubFilter.Replace replace : settings.replace()) {
            byte[] match = values.apply(replace.match());
            if (match.length > 0) {
                matches.add(match);
                replacements.add(values.apply(replace.with()));
            }
        }
        if (matches.isEmpty()) {
            return null; // nginx's: no string to look for, the answer left as it is, its head too
        }
        headers.remove(HttpHeaderNames.CONTENT_LENGTH).remove(HttpHeaderNames.ACCEPT_RANGES);
        if (settings.lastModified()) {
            String etag = headers.get(HttpHeaderNames.ETAG);
            if (etag != null && etag.startsWith("\"")) {
                headers.set(HttpHeaderNames.ETAG, "W/" + etag);
            }
        } else {
            headers.remove(HttpHeaderNames.LAST_MODIFIED).remove(HttpHeaderNames.ETAG);
        }
        if (head) {
            return null;
        }
        // an HTTP/1.0 client's reads no chunks: its body ends with the connection, as nginx's
        if (!request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new SubFilter(matches, replacements, settings.once(), alloc);
    }

    /**
     * Whether {@code exchange}'s location's sub-filter takes an answer of {@code contentType} (a file's, whose body must
     * then be read as bytes, not sent by sendfile, and sent whole, a Range answered with the whole 200): not where no
     * string has a value for the request (its variables all empty), as nginx's sub filter then leaves the answer
     * alone, its range filter taking the part asked for.
     */
    public static boolean filters(Exchange exchange, String contentType) {
        LocationSettings location = exchange.location();
        if (location == null || location.subFilter() == null
                || !location.subFilter().filters(GzipFilter.mediaType(contentType))) {
            return false;
        }
        for (LocationSettings.SubFilter.Replace replace : location.subFilter().replace()) {
            if (value(exchange, location, replace.match()).length > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code text}'s value for {@code exchange}, as UTF-8 bytes: its variables the request's, its captures those of
     * {@code location}'s regex on the exchange's URI.
     */
    static byte[] value(Exchange exchange, LocationSettings location, VariableText text) {
        String value = text.constant() != null ? text.constant()
                : Variables.render(exchange, location, exchange.uri(), text.parts(), Variables.Escape.NONE);
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code whole} with its body filtered, as one last part. Takes {@code whole}. */
    FullHttpResponse filterWhole(FullHttpResponse whole) {
        try {
            return whole.replace(filter(whole.content(), true));
        } finally {
            whole.release();
        }
    }

    /** {@code content} filtered, its trailing headers kept if it is the last part. Takes {@code content}. */
    HttpContent filter(HttpContent content) {
        try {
            return GzipFilter.partLike(content, filter(content.content(), content instanceof LastHttpContent));
        } finally {
            content.release();
        }
    }

    /**
     * What goes out for {@code in} (not taken) after what was held: a new buffer (or {@code in} retained, once every
     * string was used and nothing is held); the end that may begin a match held back unless {@code last}.
     */
    ByteBuf filter(ByteBuf in, boolean last) {
        if (left == 0 && held.length == 0) {
            return in.retain();
        }
        byte[] data = new byte[held.length + in.readableBytes()];
        System.arraycopy(held, 0, data, 0, held.length);
        in.getBytes(in.readerIndex(), data, held.length, in.readableBytes());
        ByteBuf out = alloc.directBuffer(data.length + 64);
        boolean done = false;
        try {
            int copied = 0;
            int at = 0;
            int end = data.length;
            while (at < end && left > 0) {
                if (!first[lower(data[at]) & 0xff]) {
                    at++;
                    continue;
                }
                int found = matchAt(data, at, last);
                if (found == WAIT) {
                    end = at; // held: the next part tells
                } else if (found == NOT_FOUND) {
                    at++;
                } else {
                    out.writeBytes(data, copied, at - copied).writeBytes(replacements[found]);
                    at += matches[found].length;
                    copied = at;
                    if (once) {
                        used[found] = true;
                        left--;
                    }
                }
            }
            out.writeBytes(data, copied, end - copied);
            held = end == data.length ? NONE : Arrays.copyOfRange(data, end, data.length);
            done = true;
            return out;
        } finally {
            if (!done) {
                out.release();
            }
        }
    }

    private static final int NOT_FOUND = -1;
    private static final int WAIT = -2;

    /**
     * The index of the first string (in the order written, not used up) found at {@code at}; {@link #WAIT} where one
     * before any found runs past the data and may yet be found ({@code last}: the data is all there is); else
     * {@link #NOT_FOUND}.
     */
    private int matchAt(byte[] data, int at, boolean last) {
        for (int i = 0; i < matches.length; i++) {
            if (once && used[i]) {
                continue;
            }
            byte[] match = matches[i];
            int j = 0;
            while (j < match.length && at + j < data.length && lower(data[at + j]) == match[j]) {
                j++;
            }
            if (j == match.length) {
                return i;
            }
            if (at + j == data.length && !last) {
                return WAIT;
            }
        }
        return NOT_FOUND;
    }

    /** ASCII lower case, as nginx's ngx_tolower: other bytes as they are. */
    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }
}
