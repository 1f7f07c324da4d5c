package io.edge.fastcgi.cgi;

import io.edge.fastcgi.FcgiProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Parses the CGI response head at the start of STDOUT: header lines ended by CRLF or LF, up to a blank line.
 * {@code Status: 404 Not Found} sets the status; {@code Location} without {@code Status} means 302; no
 * status means 200. Feed STDOUT chunks to {@link #parse} until it returns true; the bytes after the blank
 * line are left readable in the last chunk: they are the start of the body.
 *
 * <p>A line starting with a space or tab (obs-fold, a continuation of the line before) is a protocol error, as
 * nginx's 502: trimmed into a field of its own it would hand the client fields the script never sent. So is a name
 * with a control character in it ({@code Fo\x01o}, a tab), nginx 1.22's "upstream sent invalid header" (measured), as
 * a proxied backend's. A name of any other visible ASCII goes on ({@code Fo(o}, {@code Foo/bar}: {@link AnswerFields}),
 * as nginx passes it; one with a byte past ASCII is left out without a word, as the proxy leaves it out. A field with a
 * control character in its value goes with spaces in their place; one with a space in its name, and a line with no
 * colon, are dropped; these are listed by {@link #mended} (the caller logs them).
 *
 * <p>The head's framing is checked, since it goes to the client: a 1xx {@code Status} (an interim response
 * sent as the final one would desynchronise the client's pipelined responses) and a {@code Content-Length}
 * that is not one non-negative decimal number are protocol errors (a 502, as nginx answers "upstream sent
 * invalid Content-Length header"). The same length given several times is kept once.
 *
 * <p>States: reading headers, then done (terminal). Head bytes beyond {@code maxHeaderSize}, and lines beyond
 * {@link #MAX_FIELDS}, are a protocol error. Not thread-safe; one per response.
 */
public final class CgiResponseParser {

    /**
     * The most lines a head may have: HAProxy refuses more than 101 fields; a script's cookies and headers come to a
     * few dozen. Netty's headers look a name up in at most 128 hash chains, so a head of 32 KiB in 5 000 one-letter
     * fields would make each merge or copy of it (a response cache's revalidation) cost as many times more.
     */
    public static final int MAX_FIELDS = 1000;

    private final int maxHeaderSize;
    /** The lines read for the server that stay in the head all the same, lower case: status, x-accel-charset. */
    private final Set<String> kept;
    private int lines;
    private final StringBuilder line = new StringBuilder(80);
    private final HttpHeaders headers = AnswerFields.FACTORY.newHeaders();
    private final List<String> mended = new ArrayList<>(0);
    private int headerBytes;
    private HttpResponse head;

    public CgiResponseParser(int maxHeaderSize) {
        this(maxHeaderSize, Set.of());
    }

    /**
     * {@code kept}: of the script's {@code Status} and {@code X-Accel-Charset} (lower case), those whose lines stay in
     * the head as the script sent them, for a server that passes them to its client (nginx's fastcgi_pass_header); the
     * status is read from a kept Status all the same.
     */
    public CgiResponseParser(int maxHeaderSize, Set<String> kept) {
        this.maxHeaderSize = maxHeaderSize;
        this.kept = Set.copyOf(kept);
    }

    /**
     * Consumes head bytes from {@code in}.
     *
     * @return true once the head is complete ({@link #head()} is set); further calls are not allowed
     * @throws FcgiProtocolException for a malformed line, a bad status or a head over the size cap
     */
    public boolean parse(ByteBuf in) {
        if (head != null) {
            throw new IllegalStateException("head already parsed");
        }
        while (in.isReadable()) {
            if (++headerBytes > maxHeaderSize) {
                throw FcgiProtocolException.of("response head", "more than " + maxHeaderSize + " bytes",
                        "<= " + maxHeaderSize + " bytes");
            }
            char c = (char) (in.readByte() & 0xff);
            if (c != '\n') {
                line.append(c);
                continue;
            }
            int end = line.length();
            if (end > 0 && line.charAt(end - 1) == '\r') {
                line.setLength(end - 1);
            }
            if (line.length() == 0) {
                head = buildHead();
                return true;
            }
            if (++lines > MAX_FIELDS) {
                throw FcgiProtocolException.of("response head", "more than " + MAX_FIELDS + " lines",
                        "<= " + MAX_FIELDS + " header fields");
            }
            addHeader(line.toString());
            line.setLength(0);
        }
        return false;
    }

    /** The response head, or null until {@link #parse} returned true. */
    public HttpResponse head() {
        return head;
    }

    private void addHeader(String text) {
        char first = text.charAt(0);
        if (first == ' ' || first == '\t') {
            // obs-fold (RFC 9112 5.2): a gateway answers 502 or unfolds; trimmed, it became a field of its own
            throw FcgiProtocolException.of("response header line", quote(text), "name: value, no line folding");
        }
        int colon = text.indexOf(':');
        if (colon <= 0) {
            // header('Cache-Control no-cache'), a typo: the page still goes, as with a space in a name below (nginx
            // since 1.21.1 answers 502 for a name with a space, and sends a bare "Garbage" as a field of no value)
            mended.add(quote(text) + ": not a header (name: value), dropped");
            return;
        }
        String name = withoutTrailingBlanks(text.substring(0, colon));
        if (name.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
            // nginx 1.22's "upstream sent invalid header", a 502 (measured: Fo\x01o, Fo\x7fo, a tab), as the proxy's
            throw FcgiProtocolException.of("response header name", quote(name), "no control character");
        }
        if (name.chars().anyMatch(c -> c >= 0x80)) {
            return; // as the proxy leaves such a line out (nginx 1.22's FastCGI sends the byte on: measured, "Fo\xe9o")
        }
        String value = text.substring(colon + 1).trim();
        try {
            headers.add(name, value);
            return;
        } catch (IllegalArgumentException invalid) {
            // a control character in the value: mended below, not a 502 for the whole answer
        }
        // RFC 9110 5.5: a recipient may replace CR (and the other controls, which it may also keep) in a field value
        // with SP; a script's stray byte (header("X: a\x01b")) should not cost the page, as it does not behind nginx
        String spaced = withoutControls(value);
        try {
            headers.add(name, spaced);
            mended.add(quote(text) + ": control characters sent as spaces");
        } catch (IllegalArgumentException stillInvalid) {
            mended.add(quote(text) + ": not a valid HTTP header, dropped"); // a space in its name, say
        }
    }

    /** {@code name} without the spaces and tabs before its colon ({@code Foo : v} is {@code Foo: v}). */
    private static String withoutTrailingBlanks(String name) {
        int end = name.length();
        while (end > 0 && (name.charAt(end - 1) == ' ' || name.charAt(end - 1) == '\t')) {
            end--;
        }
        return name.substring(0, end);
    }

    /** {@code value} with each control character but HTAB replaced by SP. */
    private static String withoutControls(String value) {
        StringBuilder spaced = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            spaced.append(c < 0x20 && c != '\t' || c == 0x7f ? ' ' : c);
        }
        return spaced.toString();
    }

    /** Header lines of the head that were not valid HTTP, each quoted with what was done with it; empty for none. */
    public List<String> mended() {
        return mended;
    }

    private HttpResponse buildHead() {
        checkContentLength(headers);
        List<String> types = headers.getAll(HttpHeaderNames.CONTENT_TYPE);
        if (!types.isEmpty() && types.get(types.size() - 1).isEmpty()) {
            headers.remove(HttpHeaderNames.CONTENT_TYPE); // header('Content-Type:'): no media type, none, as nginx
        } else if (types.size() > 1) {
            headers.set(HttpHeaderNames.CONTENT_TYPE, types.get(types.size() - 1)); // PHP's last header() wins, as nginx
        }
        HttpResponseStatus status = HttpResponseStatus.OK;
        String statusLine = headers.get("Status");
        if (statusLine != null) {
            if (!kept.contains("status")) {
                headers.remove("Status");
            }
            status = parseStatus(statusLine);
        } else if (headers.contains(HttpHeaderNames.LOCATION)) {
            status = HttpResponseStatus.FOUND;
        }
        dropHopByHop(headers, status);
        for (String name : SERVER_DIRECTIVES) {
            if (!kept.contains(name.toLowerCase(Locale.ROOT))) {
                headers.remove(name);
            }
        }
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, headers);
    }

    /**
     * Fields about one connection only (RFC 9110 7.6.1, RFC 9113 8.2.2), which a script cannot know (RFC 3875 6.3.4
     * lets the server remove them): never passed on. Trailer is no such field (RFC 9110 6.6.2): it goes, as behind
     * nginx.
     */
    private static final List<CharSequence> HOP_BY_HOP = List.of(HttpHeaderNames.TRANSFER_ENCODING,
            "Keep-Alive", HttpHeaderNames.TE, "Proxy-Connection", HttpHeaderNames.CONNECTION);

    /**
     * nginx's directives a script gives the server in front of it, which nginx hides from the client (its
     * fastcgi_hide_header defaults). Edge does not act on these; passed on, they would reach a proxy or CDN before
     * edge that does. X-Accel-Redirect is taken up elsewhere, and so is X-Accel-Expires, by the response cache, which
     * the server hides from the client once the cache has seen it; and X-Accel-Limit-Rate, the pace of the answer (the
     * script's own body, or the file an X-Accel-Redirect or X-Sendfile hands out), which the server takes (and hides)
     * as the head comes; and X-Accel-Buffering, whether the answer streams unbuffered, which the response cache and the
     * server read (and the server hides) as the head comes.
     */
    private static final List<String> SERVER_DIRECTIVES = List.of("X-Accel-Charset");

    /**
     * The lines read for the server that a parser may keep in the head ({@code kept}), lower case: a location passes
     * them (nginx's fastcgi_pass_header), or else hides them, on a cached copy's hits too ({@link #kept}, {@link
     * #hidden}).
     */
    private static final List<String> KEEPABLE = List.of("status", "x-accel-charset");

    /**
     * Of the lines read for the server that a parser may keep in the head, those a location's {@code passHeaders}
     * (its fastcgi_pass_header fields, lower case) pass: its parsers' {@code kept}.
     */
    public static Set<String> kept(Set<String> passHeaders) {
        return KEEPABLE.stream().filter(passHeaders::contains).collect(Collectors.toUnmodifiableSet());
    }

    /**
     * The others ({@link #kept}): those the location hides, from the head its parsers make and from its cached copies'
     * hits alike.
     */
    public static Set<String> hidden(Set<String> passHeaders) {
        return KEEPABLE.stream().filter(name -> !passHeaders.contains(name)).collect(Collectors.toUnmodifiableSet());
    }

    /** The pace of the answer, bytes a second, 0 for none (nginx's): the server's to take, never the client's. */
    public static final AsciiString X_ACCEL_LIMIT_RATE = AsciiString.of("X-Accel-Limit-Rate");

    /**
     * Removes what would frame or steer the client connection: a script's {@code Transfer-Encoding} (with its own
     * {@code Content-Length} it made a response a client could read two ways, and kept alive), {@code Keep-Alive},
     * {@code Upgrade}, a switch edge does not offer on the client's connection (but on a 426, which names the
     * protocols a client should come back with), and the like. Edge frames the body itself ({@code Content-Length}
     * when the script gave one, else chunked or close) as nginx does.
     *
     * <p>{@code Connection} goes too, {@code close} as well, and is not obeyed: the client's connection is edge's to
     * keep or close by its own rules, as nginx ignores a FastCGI answer's {@code Connection} (a script's
     * {@code header('Connection: close')}, a mod_php habit, would close every client connection it answers). The
     * fields it names are the answer's like any other, as behind nginx: a script has no HTTP connection of its own for
     * them to be about, and dropped they cost what the script meant ({@code Connection: Location} cost a redirect its
     * target).
     *
     * <p>nginx 1.22 passes a script's {@code Upgrade}, {@code TE} and {@code Proxy-Connection} on, over HTTP/2 as
     * well, where they make the answer malformed (RFC 9113 8.2.2: an HTTP/2 client such as nghttp2 resets the
     * stream).
     */
    private static void dropHopByHop(HttpHeaders headers, HttpResponseStatus status) {
        for (CharSequence name : HOP_BY_HOP) {
            headers.remove(name);
        }
        if (status.code() != 426) { // a 426 names the protocols to upgrade to (RFC 9110 15.5.22)
            headers.remove(HttpHeaderNames.UPGRADE);
        }
    }

    /**
     * The code is the value's first three digits and the reason whatever follows, blanks around it dropped, as nginx
     * reads a Status (it sends "404\tNot Found" and "200OK" on as the script wrote them, status lines HTTP does not
     * allow; edge sends its reason after a space).
     */
    private static HttpResponseStatus parseStatus(String value) {
        // RFC 9110 15: status codes are 100 to 599, and 1xx are interim (no answer); 600 and up are none, nor is a
        // fourth digit (nginx reads "1000" as a 100, "2000" as a 200)
        if (value.length() < 3 || !isDigit(value.charAt(0)) || !isDigit(value.charAt(1)) || !isDigit(value.charAt(2))
                || value.length() > 3 && isDigit(value.charAt(3)) || value.charAt(0) < '2' || value.charAt(0) > '5') {
            throw FcgiProtocolException.of("Status", quote(value), "a final status, a 3-digit code from 200 to 599");
        }
        int n = Integer.parseInt(value, 0, 3, 10);
        String reason = value.substring(3).trim();
        return reason.isEmpty() ? bareStatus(n) : new HttpResponseStatus(n, reason);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /**
     * The status of a bare {@code Status: 425}, as PHP's http_response_code() sends it: with the reason phrase of
     * RFC 9110 and its registry. Netty's table has an outdated name for some (425 "Unordered Collection") and makes one
     * up for codes it lacks ("Client Error (451)"); those get the registered name, or none, as nginx sends them.
     */
    static HttpResponseStatus bareStatus(int code) {
        String registered = switch (code) {
            case 226 -> "IM Used";
            case 425 -> "Too Early";
            case 451 -> "Unavailable For Legal Reasons";
            case 508 -> "Loop Detected";
            default -> null;
        };
        if (registered != null) {
            return new HttpResponseStatus(code, registered);
        }
        HttpResponseStatus known = HttpResponseStatus.valueOf(code);
        return known.reasonPhrase().endsWith("(" + code + ")") ? new HttpResponseStatus(code, "") : known;
    }

    /**
     * Leaves at most one {@code Content-Length}, a non-negative decimal number; several fields or a list
     * ({@code 42, 42}) saying the same length are one (RFC 9110, 8.6).
     */
    private static void checkContentLength(HttpHeaders headers) {
        List<String> values = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
        if (values.isEmpty()) {
            return;
        }
        long length = -1;
        for (String value : values) {
            for (String element : value.split(",", -1)) {
                long n = decimal(element.trim());
                if (n < 0 || (length >= 0 && n != length)) {
                    throw FcgiProtocolException.of("Content-Length", quote(String.join(", ", values)),
                            "one non-negative decimal number");
                }
                length = n;
            }
        }
        if (values.size() > 1 || values.get(0).indexOf(',') >= 0) {
            headers.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
        }
    }

    /** The value of 1 to 18 ASCII digits (no sign, no spaces: never overflows), else -1. */
    private static long decimal(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!isDigit(c)) {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    private static String quote(String s) {
        return '"' + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + '"';
    }
}
