package io.edge.cache.http;

import io.netty.handler.codec.DateFormatter;
import java.util.Date;
import java.util.regex.Pattern;

/**
 * Reads HTTP dates from headers a client or a script sent (RFC 9110 5.6.7): {@code If-Modified-Since},
 * {@code Expires}, {@code Last-Modified} and the like.
 */
public final class HttpDates {

    private static final String DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
    private static final String MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
    private static final String TIME = "[0-9]{2}:[0-9]{2}:[0-9]{2}";
    /**
     * The three forms RFC 9110 5.6.7 has a recipient accept, whole: IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37
     * GMT}), RFC 850's ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime's ({@code Sun Nov  6 08:49:37 1994}). Names
     * in any case, as Netty's parser reads them.
     */
    private static final Pattern HTTP_DATE = Pattern.compile(
            DAY + ", [0-9]{2} " + MONTH + " [0-9]{4} " + TIME + " GMT"
                    + "|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), [0-9]{2}-" + MONTH + "-[0-9]{2} "
                    + TIME + " GMT"
                    + "|" + DAY + " " + MONTH + " (?: [0-9]|[0-9]{2}) " + TIME + " [0-9]{4}",
            Pattern.CASE_INSENSITIVE);

    private HttpDates() {
    }

    /**
     * The date {@code value} names, or null where it is none, of any length: each caller then does what RFC 9110 and
     * 9111 say of a field that is no date (ignore it; an {@code Expires} means already expired). Only a whole
     * HTTP-date is one: a list of two, one with more after it, or one in another zone than GMT is none (Netty's
     * parser alone read {@code ... GMT, ... GMT} and {@code ... PST} as dates in GMT).
     */
    public static Date parse(CharSequence value) {
        return value == null || !HTTP_DATE.matcher(value).matches() ? null : DateFormatter.parseHttpDate(value);
    }
}
