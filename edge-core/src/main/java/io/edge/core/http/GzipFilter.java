package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.fastcgi.regex.BoundedMatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.ByteBuffer;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A location's {@code gzip} on a response's way out, nginx's gzip filter: whether a response is compressed, the
 * headers that go with it, and its body compressed (RFC 1952) as the responder writes it. One per compressed response,
 * used on its event loop; {@link #end} frees zlib's memory (~300 KB) if the body never reached its last part.
 */
public final class GzipFilter {

    /** Magic, deflate, no flags, no time, no extra flags, Unix (as nginx writes it). */
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

    /** RFC 9110 12.4.2's qvalue: compiled once, not per element of a client's header (a 16 KiB one holds 2 000). */
    private static final Pattern QVALUE = Pattern.compile("0(\\.[0-9]{0,3})?|1(\\.0{0,3})?");

    private final ByteBufAllocator alloc;
    private final int level;
    /** zlib's state (~300 KB of native memory), made at the first byte compressed: a kept compressed form needs none. */
    private Deflater deflater;
    private final CRC32 crc = new CRC32();
    private boolean headerWritten;

    private GzipFilter(ByteBufAllocator alloc, int level) {
        this.alloc = alloc;
        this.level = level;
    }

    /**
     * Judges {@code response}, about to go to {@code request}'s client, by {@code gzip}: when it is compressed, its
     * head is made that of a gzip body (Content-Encoding, no Content-Length or Accept-Ranges, chunked, a weak ETag) and
     * the filter for its body is returned; else null, its head untouched but for {@code Vary: Accept-Encoding}, which
     * every answer gets that is compressed for some clients (a 304 also a weak ETag, for a client whose 200 had one).
     *
     * @param head       the request is a HEAD: its answer gets the head its GET would, judged by the length its GET
     *                   declares; without one (PHP sends a HEAD no body) as a GET streamed without one, compressed, as
     *                   nginx answers a HEAD passed to PHP: Vary and Content-Encoding as its GET's, which a cache that
     *                   refreshes its stored answer with a HEAD compares (but where the GET came whole under
     *                   min-length, and goes uncompressed: a HEAD cannot tell); no filter, having no body
     * @param bodyLength for a 304, the length of the body its 200 has (a cached answer's), -1 if unknown: judged as
     *                   that 200 would be, so that both carry the same ETag and Vary; for a file's 206, the file's
     * @param bodyType   for a 304 without a Content-Type (a file's), its 200's; for a file's 206 (only then
     *                   judged here), the file's; else null
     * @param clients    which clients are sent gzip ({@link #sendsGzip})
     * @param file       the response is a file's (its Last-Modified does not count for {@code gzip.proxied})
     * @param judgedBy   with {@code file}: the fields its location's gzip.static judged the request by, before the
     *                   file's head was made ({@link Exchange#accelFields}), as nginx's gzip_static does, whose verdict
     *                   nginx's gzip filter keeps; null where the location has no gzip.static
     */
    static GzipFilter begin(HttpRequest request, boolean head, HttpResponse response, long bodyLength,
            String bodyType, LocationSettings.Gzip gzip, LocationSettings.GzipClients clients, boolean file,
            HttpHeaders judgedBy, ByteBufAllocator alloc) {
        HttpHeaders headers = response.headers();
        int status = response.status().code();
        boolean notModified = status == 304;
        // a file's 206: judged as its 200 (of that type and length), Vary at most; its ranges are of the file's bytes
        boolean rangeOfFile = status == 206 && bodyType != null;
        String type = rangeOfFile ? bodyType : headers.get(HttpHeaderNames.CONTENT_TYPE, notModified ? bodyType : null);
        if (status != 200 && status != 403 && status != 404 && !notModified && !rangeOfFile
                || !compressible(headers, type, gzip)) {
            return null;
        }
        long length = notModified || rangeOfFile ? bodyLength
                : response instanceof FullHttpResponse whole && !head ? whole.content().readableBytes()
                : declaredLength(response); // a HEAD's: the length its GET has, if it says
        if (length >= 0 && length < gzip.minLength()) {
            return null;
        }
        vary(headers);
        if (rangeOfFile || !sendsGzip(request, file && judgedBy != null ? judgedBy : headers, file, clients)) {
            return null;
        }
        String etag = headers.get(HttpHeaderNames.ETAG);
        if (etag != null && etag.startsWith("\"")) {
            headers.set(HttpHeaderNames.ETAG, "W/" + etag);
        }
        if (notModified) {
            return null;
        }
        headers.set(HttpHeaderNames.CONTENT_ENCODING, HttpHeaderValues.GZIP)
                .remove(HttpHeaderNames.CONTENT_LENGTH)
                .remove(HttpHeaderNames.ACCEPT_RANGES);
        if (head) {
            // Its GET goes chunked, or whole with the compressed length (a cached answer, one that came in one read):
            // which, and that length, only compressing tells. RFC 9110 9.3.2 lets a HEAD leave out what only making
            // the content determines, and RFC 9112 6.1 allows chunked on one only where its GET is: neither is sent.
            return null;
        }
        // an HTTP/1.0 client's (gzip.http-version 1.0) reads no chunks: its body ends with the connection, as nginx's
        if (!request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new GzipFilter(alloc, gzip.level());
    }

    /**
     * Whether {@link #begin} would compress {@code response}, a 200 whose body has {@code length} bytes (-1 if unknown),
     * for {@code request}'s client: judged as it judges, without touching the response. nginx's gzip filter runs before
     * its range filter and leaves it no length: such an answer goes whole to a Range, compressed.
     */
    static boolean compresses(HttpRequest request, HttpResponse response, long length, LocationSettings.Gzip gzip,
            LocationSettings.GzipClients clients) {
        HttpHeaders headers = response.headers();
        return response.status().code() == 200
                && compressible(headers, headers.get(HttpHeaderNames.CONTENT_TYPE), gzip)
                && (length < 0 || length >= gzip.minLength())
                && sendsGzip(request, headers, false, clients);
    }

    /**
     * Whether {@code gzip} may compress an answer of {@code type} with {@code headers}: a type it lists, no coding of the
     * answer's own, no {@code Cache-Control: no-transform}.
     */
    private static boolean compressible(HttpHeaders headers, String type, LocationSettings.Gzip gzip) {
        return gzip.compresses(mediaType(type)) && headers.get(HttpHeaderNames.CONTENT_ENCODING, "").isBlank()
                && !headers.containsValue(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_TRANSFORM, true);
    }

    /** The response's Content-Length, -1 without one (or one that is not a number, which the backend's reader refused). */
    static long declaredLength(HttpResponse response) {
        try {
            return HttpUtil.getContentLength(response, -1L);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code Content-Type}'s media type, lower case, without parameters; "" for none. */
    public static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
    }

    /** Adds {@code Accept-Encoding} to {@code Vary} unless it names it already, or is {@code *}. */
    private static void vary(HttpHeaders headers) {
        for (String vary : headers.getAll(HttpHeaderNames.VARY)) {
            for (String name : vary.split(",")) {
                String trimmed = name.strip();
                if (trimmed.equals("*") || HttpHeaderNames.ACCEPT_ENCODING.contentEqualsIgnoreCase(trimmed)) {
                    return;
                }
            }
        }
        headers.add(HttpHeaderNames.VARY, "Accept-Encoding");
    }

    /**
     * Whether {@code request}'s client is sent gzip, compressed on the way or compressed beforehand, nginx's
     * ngx_http_gzip_ok: it {@link #takesGzip takes it}, and if the request came through a proxy (it has Via), the
     * answer is one {@code gzip.proxied} names.
     *
     * @param answer the answer's head as it goes out, after the location's headers; for a file's {@code .gz} looked
     *               for before its head is made, as nginx's gzip_static asks, what it has then: {@link
     *               Exchange#accelFields}
     * @param file   the answer is a file's: its Last-Modified does not count (nginx's static module gives the time,
     *               not the header that gzip_proxied's no_last_modified looks for)
     */
    public static boolean sendsGzip(HttpRequest request, HttpHeaders answer, boolean file,
            LocationSettings.GzipClients clients) {
        return takesGzip(request, clients)
                && (!request.headers().contains(HttpHeaderNames.VIA)
                || proxiedGetsGzip(request.headers(), answer, file, clients.proxied()));
    }

    /**
     * Whether {@code request}'s client takes gzip, judged by the request alone: its version
     * ({@code gzip.http-version}), an Accept-Encoding that takes it, a User-Agent {@code gzip.disable} does not name, and no Via where
     * {@code gzip.proxied} is off. Its answer may still go uncompressed: {@link #sendsGzip}.
     */
    public static boolean takesGzip(HttpRequest request, LocationSettings.GzipClients clients) {
        HttpVersion version = request.protocolVersion();
        HttpHeaders headers = request.headers();
        if (!version.equals(HttpVersion.HTTP_1_1) && !(clients.http10() && version.equals(HttpVersion.HTTP_1_0))
                || !acceptsGzip(headers)) {
            return false;
        }
        if (clients.disableMsie6() || !clients.disable().isEmpty()) { // no lookup, nor stream, per file without it
            String userAgent = headers.get(HttpHeaderNames.USER_AGENT);
            if (userAgent != null && (clients.disableMsie6() && isMsie6(userAgent)
                    || disables(clients.disable(), userAgent))) {
                return false;
            }
        }
        return !clients.proxied().contains(LocationSettings.Proxied.OFF) || !headers.contains(HttpHeaderNames.VIA);
    }

    /**
     * Whether one of {@code disable} finds a match in {@code userAgent}, each within PCRE's default match limit as
     * nginx's gzip_disable is tried ({@link BoundedMatch#PATH_STEPS}): one that gives up past it counts as found, as
     * nginx's failed match declines gzip, rather than hold the event loop for as long as the User-Agent lets it.
     */
    private static boolean disables(List<Pattern> disable, String userAgent) {
        for (Pattern regex : disable) {
            if (BoundedMatch.find(regex, BoundedMatch.budgeted(userAgent, BoundedMatch.PATH_STEPS))
                    != BoundedMatch.Result.NOT_FOUND) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code userAgent} is MSIE 4 to 6 before SP2 as nginx tells it ({@code gzip_disable msie6}): "MSIE " and
     * at least three characters after it, the first of them 4, 5 or 6 and a dot, no "SV1" after a 6's, not Opera.
     */
    static boolean isMsie6(String userAgent) {
        int msie = userAgent.indexOf("MSIE ");
        if (msie < 0 || msie + 7 >= userAgent.length() || userAgent.contains("Opera")
                || userAgent.charAt(msie + 6) != '.') {
            return false;
        }
        char major = userAgent.charAt(msie + 5);
        return major == '4' || major == '5' || major == '6' && userAgent.indexOf("SV1", msie + 8) < 0;
    }

    /**
     * Whether {@code answer}, to a request with Via, is compressed by {@code proxied} (nginx's gzip_proxied), in
     * nginx's order: an Expires decides alone, then a Cache-Control; then a Last-Modified or ETag refuses.
     */
    private static boolean proxiedGetsGzip(HttpHeaders request, HttpHeaders answer, boolean file,
            Set<LocationSettings.Proxied> proxied) {
        if (proxied.contains(LocationSettings.Proxied.OFF)) {
            return false;
        }
        if (proxied.contains(LocationSettings.Proxied.ANY)
                || proxied.contains(LocationSettings.Proxied.AUTH) && request.contains(HttpHeaderNames.AUTHORIZATION)) {
            return true;
        }
        String expires = answer.get(HttpHeaderNames.EXPIRES);
        if (expires != null) {
            if (!proxied.contains(LocationSettings.Proxied.EXPIRED)) {
                return false;
            }
            Date expiry = DateFormatter.parseHttpDate(expires);
            String dateField = answer.get(HttpHeaderNames.DATE);
            Date date = dateField == null ? new Date() : DateFormatter.parseHttpDate(dateField);
            return expiry != null && date != null && expiry.getTime() / 1000 < date.getTime() / 1000;
        }
        List<String> cacheControl = answer.getAll(HttpHeaderNames.CACHE_CONTROL);
        if (!cacheControl.isEmpty()) {
            return proxied.contains(LocationSettings.Proxied.NO_CACHE) && hasDirective(cacheControl, "no-cache")
                    || proxied.contains(LocationSettings.Proxied.NO_STORE) && hasDirective(cacheControl, "no-store")
                    || proxied.contains(LocationSettings.Proxied.PRIVATE) && hasDirective(cacheControl, "private");
        }
        return !(proxied.contains(LocationSettings.Proxied.NO_LAST_MODIFIED) && !file
                && answer.contains(HttpHeaderNames.LAST_MODIFIED))
                && !(proxied.contains(LocationSettings.Proxied.NO_ETAG) && answer.contains(HttpHeaderNames.ETAG));
    }

    /**
     * Whether one of {@code fields} has the directive {@code name} without a value, as nginx finds one: elements split
     * at ',' or ';', spaces before each skipped, the name (any case) followed by spaces only, then ',' or the end.
     */
    static boolean hasDirective(List<String> fields, String name) {
        for (String field : fields) {
            int at = 0;
            int end = field.length();
            while (at < end) {
                if (field.regionMatches(true, at, name, 0, name.length())) {
                    at += name.length();
                    while (at < end && field.charAt(at) == ' ') {
                        at++;
                    }
                    if (at == end || field.charAt(at) == ',') {
                        return true;
                    }
                }
                while (at < end) {
                    char c = field.charAt(at++);
                    if (c == ',' || c == ';') {
                        break;
                    }
                }
                while (at < end && field.charAt(at) == ' ') {
                    at++;
                }
            }
        }
        return false;
    }

    /**
     * Whether the request's {@code Accept-Encoding} fields take gzip (RFC 9110 12.5.3): {@code gzip} or
     * {@code x-gzip} with a q above 0, else {@code *} with one. A q that is not a number counts as 0, as nginx reads it.
     */
    static boolean acceptsGzip(HttpHeaders requestHeaders) {
        double gzip = -1;
        double any = -1;
        for (String field : requestHeaders.getAll(HttpHeaderNames.ACCEPT_ENCODING)) {
            for (String element : field.split(",")) {
                String[] parts = element.split(";");
                String coding = parts[0].strip().toLowerCase(Locale.ROOT);
                if (!coding.equals("gzip") && !coding.equals("x-gzip") && !coding.equals("*")) {
                    continue;
                }
                double q = quality(parts);
                if (coding.equals("*")) {
                    any = Math.max(any, q);
                } else {
                    gzip = Math.max(gzip, q);
                }
            }
        }
        return gzip >= 0 ? gzip > 0 : any > 0;
    }

    /** The q of an element split at ';': 1 without one, 0 when it is not a qvalue (RFC 9110 12.4.2). */
    private static double quality(String[] parts) {
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].strip();
            if (parameter.length() >= 2 && (parameter.charAt(0) == 'q' || parameter.charAt(0) == 'Q')
                    && parameter.charAt(1) == '=') {
                String value = parameter.substring(2).strip();
                if (!QVALUE.matcher(value).matches()) {
                    return 0;
                }
                return Double.parseDouble(value);
            }
        }
        return 1;
    }

    /**
     * {@code whole}'s body compressed in one, with its length: the whole response arrived at once (a small script's
     * answer, a response cache hit). Takes {@code whole}; the filter is ended.
     */
    FullHttpResponse encodeWhole(FullHttpResponse whole, Exchange.CompressedForm kept) {
        try {
            ByteBuf body = kept == null ? null : kept.get(level);
            if (body == null) {
                body = compress(whole.content(), Deflater.NO_FLUSH, true);
                if (kept != null) {
                    kept.made(level, body);
                }
            }
            FullHttpResponse compressed = whole.replace(body);
            compressed.headers().remove(HttpHeaderNames.TRANSFER_ENCODING)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            return compressed;
        } finally {
            whole.release();
            end();
        }
    }

    /**
     * {@code content} compressed: what zlib gives back for it, all it was given when {@code flush} (the responder flushes
     * it to the client now), and for a {@link LastHttpContent} the rest and gzip's trailer, with its trailing headers;
     * the filter is ended then. Takes {@code content}.
     */
    HttpContent encode(HttpContent content, boolean flush) {
        boolean last = content instanceof LastHttpContent;
        try {
            int mode = flush ? Deflater.SYNC_FLUSH : Deflater.NO_FLUSH;
            return partLike(content, compress(content.content(), mode, last));
        } finally {
            content.release();
            if (last) {
                end();
            }
        }
    }

    /**
     * {@code body} (taken) as a part of the kind {@code content} is: a last part with its trailing headers, else a
     * part; for a filter that makes a new body of each part it is given.
     */
    static HttpContent partLike(HttpContent content, ByteBuf body) {
        if (!(content instanceof LastHttpContent last)) {
            return new DefaultHttpContent(body);
        }
        DefaultLastHttpContent end = new DefaultLastHttpContent(body);
        end.trailingHeaders().set(last.trailingHeaders());
        return end;
    }

    /** What zlib holds of the body written so far, as a part to send now; null if it holds nothing. */
    HttpContent flushed() {
        ByteBuf body = compress(null, Deflater.SYNC_FLUSH, false);
        if (body.isReadable()) {
            return new DefaultHttpContent(body);
        }
        body.release();
        return null;
    }

    /** Frees zlib's memory; the body can't go on after it. */
    void end() {
        if (deflater != null) {
            deflater.end();
        }
    }

    /**
     * Compresses {@code in} (not taken; null: nothing new) into a new buffer: gzip's header first, then what zlib gives
     * back with {@code mode}; when {@code finish}, all of it and gzip's trailer (CRC-32 and length, little-endian).
     */
    private ByteBuf compress(ByteBuf in, int mode, boolean finish) {
        int size = in == null ? 0 : in.readableBytes();
        if (deflater == null) {
            deflater = new Deflater(level, true);
        }
        // direct: the channel writes it as it is (a heap buffer it writes through a direct copy: one more copy, and of a
        // write cut short nothing told how much went, which the access log counts)
        ByteBuf out = alloc.directBuffer(Math.min(size / 2 + 64, 64 * 1024));
        boolean done = false;
        try {
            if (!headerWritten) {
                out.writeBytes(HEADER);
                headerWritten = true;
            }
            if (size > 0) {
                for (ByteBuffer part : in.nioBuffers(in.readerIndex(), size)) {
                    crc.update(part.duplicate());
                    deflater.setInput(part);
                    while (!deflater.needsInput()) {
                        deflate(out, Deflater.NO_FLUSH);
                    }
                }
            }
            if (finish) {
                deflater.finish();
                while (!deflater.finished()) {
                    deflate(out, Deflater.NO_FLUSH);
                }
                out.writeIntLE((int) crc.getValue()).writeIntLE((int) deflater.getBytesRead());
            } else if (mode != Deflater.NO_FLUSH) {
                // zlib may have more for the flush than the space it was given: again until it gives less
                while (deflate(out, mode) == 0) {
                    // the buffer was filled; deflate grew it
                }
            }
            done = true;
            return out;
        } finally {
            if (!done) {
                out.release();
            }
        }
    }

    /**
     * One call of zlib into {@code out}'s free space (made at least 4 KB first); returns that space minus what zlib
     * wrote: 0 when it filled it, so a flush must be asked again.
     */
    private int deflate(ByteBuf out, int mode) {
        out.ensureWritable(4096);
        int space = out.writableBytes();
        int written = deflater.deflate(out.nioBuffer(out.writerIndex(), space), mode);
        out.writerIndex(out.writerIndex() + written);
        return space - written;
    }
}
