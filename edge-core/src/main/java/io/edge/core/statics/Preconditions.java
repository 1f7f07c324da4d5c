package io.edge.core.statics;

import io.edge.cache.http.HttpDates;
import io.edge.core.http.Exchange;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Date;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Conditional requests (RFC 9110 §13) against a representation's strong ETag and modification time.
 *
 * <p>Evaluation order (§13.2.2): {@code If-Match} (strong comparison, else 412); when absent,
 * {@code If-Unmodified-Since} (modified after the date: 412); then {@code If-None-Match} (weak comparison:
 * a match is 304 for GET/HEAD, 412 otherwise); when absent, {@code If-Modified-Since} for GET/HEAD (not
 * modified since: 304). A date that does not parse is ignored, and so is an {@code If-Modified-Since} later
 * than the server's clock (§13.1.3: invalid), unless it is the modification time itself: a file with a future mtime
 * (a clock skewed where it was made), whose Last-Modified a client had from nginx, which sends it as it is, is then
 * revalidated as nginx's default {@code if_modified_since exact} does (edge sends such a file's as the time of the
 * answer, §8.8.2.1). A date is one only whole, in one of its three forms ({@code HttpDates}). Times compare in whole
 * seconds, the resolution of HTTP dates.
 * {@code If-Range} is separate: {@link #ifRangeAllows}.
 */
public final class Preconditions {

    private Preconditions() {
    }

    /** What the preconditions say. */
    public enum Outcome { PROCEED, NOT_MODIFIED, PRECONDITION_FAILED }

    /**
     * @param request             request headers
     * @param getOrHead           whether the method is GET or HEAD
     * @param etag                the representation's entity tag, quoted (strong or {@code W/}), or {@code null}
     * @param lastModifiedMillis  modification time, ms since the epoch
     */
    public static Outcome evaluate(HttpHeaders request, boolean getOrHead, String etag, long lastModifiedMillis) {
        return evaluate(request, getOrHead, etag, lastModifiedMillis, System::currentTimeMillis);
    }

    /**
     * {@link #evaluate(HttpHeaders, boolean, String, long)}, with the time now read from {@code clock} (ms since the
     * epoch; a fake one in tests).
     */
    static Outcome evaluate(HttpHeaders request, boolean getOrHead, String etag, long lastModifiedMillis,
            LongSupplier clock) {
        long lastModified = Math.floorDiv(lastModifiedMillis, 1000); // the second Last-Modified and the ETag name
        String ifMatch = list(request, HttpHeaderNames.IF_MATCH);
        if (ifMatch != null) {
            if (!matchesAny(ifMatch, etag, true)) {
                return Outcome.PRECONDITION_FAILED;
            }
        } else {
            // A modification time ahead of the clock is no usable one (it is sent as the time of the answer,
            // StaticResponder): the field is then ignored, as for a representation without one (13.1.4)
            Long since = seconds(request.get(HttpHeaderNames.IF_UNMODIFIED_SINCE));
            if (since != null && lastModified > since && lastModified <= clock.getAsLong() / 1000) {
                return Outcome.PRECONDITION_FAILED;
            }
        }
        String ifNoneMatch = list(request, HttpHeaderNames.IF_NONE_MATCH);
        if (ifNoneMatch != null) {
            if (matchesAny(ifNoneMatch, etag, false)) {
                return getOrHead ? Outcome.NOT_MODIFIED : Outcome.PRECONDITION_FAILED;
            }
        } else if (getOrHead) {
            Long since = seconds(request.get(HttpHeaderNames.IF_MODIFIED_SINCE));
            if (since != null && (since == lastModified || lastModified < since && since <= clock.getAsLong() / 1000)) {
                return Outcome.NOT_MODIFIED;
            }
        }
        return Outcome.PROCEED;
    }

    /**
     * {@link #evaluate} for an answer edge makes without validators (a directory's listing, a return's text), as RFC
     * 9110 13.2.1 has a 2xx judged: {@code If-Match} holds for {@code *} only, {@code If-None-Match: *} is a 304 to a
     * GET or HEAD (412 to others), {@code If-Modified-Since} and {@code If-Unmodified-Since} are ignored (13.1.3,
     * 13.1.4: no modification date; nginx answers the latter 412).
     */
    public static Outcome evaluateWithoutValidators(HttpHeaders request, boolean getOrHead) {
        if (!isConditional(request)) {
            return Outcome.PROCEED;
        }
        HttpHeaders conditions = request.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE)
                ? request.copy().remove(HttpHeaderNames.IF_UNMODIFIED_SINCE) : request;
        return evaluate(conditions, getOrHead, null, Long.MAX_VALUE);
    }

    /**
     * Answers {@code exchange}, whose answer edge makes without validators, with 304 or 412 where its preconditions call
     * for it ({@link #evaluateWithoutValidators}), and says whether it did; {@code beforeNotModified} runs before a 304
     * is written (to give it what the 200's head would have, its Vary).
     */
    public static boolean answeredWithoutValidators(Exchange exchange, boolean getOrHead, Runnable beforeNotModified) {
        switch (evaluateWithoutValidators(exchange.request().headers(), getOrHead)) {
            case NOT_MODIFIED -> {
                beforeNotModified.run();
                exchange.complete(exchange.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER)));
            }
            case PRECONDITION_FAILED -> exchange.sendError(HttpResponseStatus.PRECONDITION_FAILED);
            case PROCEED -> {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code request} has any of the four preconditions {@link #evaluate} judges. */
    public static boolean isConditional(HttpHeaders request) {
        return request.contains(HttpHeaderNames.IF_NONE_MATCH) || request.contains(HttpHeaderNames.IF_MODIFIED_SINCE)
                || request.contains(HttpHeaderNames.IF_MATCH) || request.contains(HttpHeaderNames.IF_UNMODIFIED_SINCE);
    }

    /**
     * A list header's value, its field lines joined with commas as RFC 9110 §5.3 allows: a client or proxy may
     * split {@code If-None-Match: "a", "b"} over two lines. Null when absent.
     */
    private static String list(HttpHeaders request, CharSequence name) {
        String first = request.get(name);
        if (first == null) {
            return null; // most requests have no precondition: no list made for each field they lack
        }
        List<String> lines = request.getAll(name);
        return lines.size() == 1 ? first : String.join(", ", lines);
    }

    /**
     * Whether a {@code Range} may be honoured given {@code If-Range} (§13.1.5): absent, or a strong ETag that
     * matches strongly, or an HTTP date equal to the modification time and strong (§8.8.2.2: the second it names is
     * over, so the file cannot have changed again within it, keeping that date for other bytes). Otherwise the whole
     * representation is sent.
     */
    public static boolean ifRangeAllows(String ifRange, String etag, long lastModifiedMillis) {
        return ifRangeAllows(ifRange, etag, lastModifiedMillis, System::currentTimeMillis);
    }

    /** {@link #ifRangeAllows(String, String, long)}, the time now read from {@code clock} (ms; a fake one in tests). */
    static boolean ifRangeAllows(String ifRange, String etag, long lastModifiedMillis, LongSupplier clock) {
        if (ifRange == null) {
            return true;
        }
        String value = ifRange.trim();
        if (value.startsWith("\"") || value.startsWith("W/")) {
            return strongMatch(value, etag);
        }
        Long date = seconds(value);
        return date != null && date == Math.floorDiv(lastModifiedMillis, 1000) && date < clock.getAsLong() / 1000;
    }

    /** Strong comparison: both tags strong and their opaque parts equal. */
    public static boolean strongMatch(String a, String b) {
        return a != null && b != null && isTag(a) && isTag(b) && !isWeak(a) && !isWeak(b) && a.equals(b);
    }

    /** Weak comparison: opaque parts equal, weakness ignored. */
    public static boolean weakMatch(String a, String b) {
        return a != null && b != null && isTag(a) && isTag(b) && opaque(a).equals(opaque(b));
    }

    /**
     * Whether a list header ({@code If-Match}, {@code If-None-Match}) matches {@code etag}: {@code *}, the whole
     * value, matches any existing representation, which the one judged is, with an entity tag or without (a cached
     * answer a script sent none for; nginx matches it before it looks at the tag). An element that is no entity tag
     * ending at a comma matches nothing, {@code *} among tags included ({@code "x", *}: the grammar is
     * {@code "*" / #entity-tag}) and tags not separated by commas ({@code "x" "y"}); the elements after the next comma
     * are read on, as nginx reads the list.
     */
    static boolean matchesAny(String list, String etag, boolean strong) {
        if (list.trim().equals("*")) {
            return true;
        }
        int i = 0;
        int n = list.length();
        while (i < n) {
            char c = list.charAt(i);
            if (c == ' ' || c == '\t' || c == ',') {
                i++;
                continue;
            }
            int start = i;
            if (list.startsWith("W/", i)) {
                i += 2;
            }
            int close = i < n && list.charAt(i) == '"' ? list.indexOf('"', i + 1) : -1;
            if (close >= 0) {
                String tag = list.substring(start, close + 1);
                i = close + 1;
                while (i < n && (list.charAt(i) == ' ' || list.charAt(i) == '\t')) {
                    i++;
                }
                if (i == n || list.charAt(i) == ',') {
                    if (strong ? strongMatch(tag, etag) : weakMatch(tag, etag)) {
                        return true;
                    }
                    continue;
                }
            }
            // not an entity tag ending at a comma ("*" among tags, "x" "y"): it matches nothing, and the list is
            // read on from the next comma, as nginx reads it
            int comma = list.indexOf(',', i);
            if (comma < 0) {
                return false;
            }
            i = comma + 1;
        }
        return false;
    }

    private static boolean isWeak(String tag) {
        return tag.startsWith("W/");
    }

    private static String opaque(String tag) {
        return isWeak(tag) ? tag.substring(2) : tag;
    }

    private static boolean isTag(String tag) {
        String o = opaque(tag);
        return o.length() >= 2 && o.charAt(0) == '"' && o.charAt(o.length() - 1) == '"' && o.indexOf('"', 1) == o.length() - 1;
    }

    private static Long seconds(String httpDate) {
        if (httpDate == null) {
            return null;
        }
        Date date = HttpDates.parse(httpDate.trim());
        return date == null ? null : date.getTime() / 1000;
    }
}
