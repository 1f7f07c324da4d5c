package io.edge.cache.http;

import io.netty.handler.codec.DateFormatter;
import java.util.Date;

/**
 * Reads HTTP dates from headers a client or a script sent (RFC 9110 5.6.7): {@code If-Modified-Since},
 * {@code Expires}, {@code Last-Modified} and the like.
 */
public final class HttpDates {

    /** Netty's parser refuses longer input with an exception; no HTTP-date is this long. */
    private static final int LONGEST = 64;

    private HttpDates() {
    }

    /**
     * The date {@code value} names, or null where it is none, of any length: each caller then does what RFC 9110 and
     * 9111 say of a field that is no date (ignore it; an {@code Expires} means already expired).
     */
    public static Date parse(CharSequence value) {
        return value == null || value.length() > LONGEST ? null : DateFormatter.parseHttpDate(value);
    }
}
