package io.edge.cache.http;

import io.netty.handler.codec.DateFormatter;
import java.util.Date;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads HTTP dates from headers a client or a script sent (RFC 9110 5.6.7): {@code If-Modified-Since},
 * {@code Expires}, {@code Last-Modified} and the like.
 */
public final class HttpDates {

    /** Where IMF-fixdate has its digits: day, year, hours, minutes, seconds. */
    private static final int[] IMF_DIGITS = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
    private static final Set<String> DAYS = Set.of("mon", "tue", "wed", "thu", "fri", "sat", "sun");
    private static final String MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
    private static final String TIME = "[0-9]{2}:[0-9]{2}:[0-9]{2}";
    /**
     * The two obsolete forms RFC 9110 5.6.7 has a recipient accept too, whole: RFC 850's ({@code Sunday, 06-Nov-94
     * 08:49:37 GMT}) and asctime's ({@code Sun Nov  6 08:49:37 1994}). Names in any case, as Netty's parser reads them.
     */
    private static final Pattern OBSOLETE_DATE = Pattern.compile(
            "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), [0-9]{2}-" + MONTH + "-[0-9]{2} " + TIME
                    + " GMT|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + MONTH + " (?: [0-9]|[0-9]{2}) " + TIME + " [0-9]{4}",
            Pattern.CASE_INSENSITIVE);

    private HttpDates() {
    }

    /**
     * The date {@code value} names, or null where it is none, of any length: each caller then does what RFC 9110 and
     * 9111 say of a field that is no date (ignore it; an {@code Expires} means already expired). Only a whole
     * HTTP-date is one: a list of two, one with more after it, or one in a zone other than GMT is none (Netty's parser
     * alone read {@code ... GMT, ... GMT} and {@code ... PST} as dates in GMT). The IMF-fixdate form is also taken
     * with {@code UTC} or {@code +0000} for its zone, the same time: PHP's {@code date(DATE_RFC1123)} writes
     * {@code +0000}, and nginx's cache honours such an {@code Expires}.
     */
    public static Date parse(CharSequence value) {
        if (value == null || !(isImfFixdate(value) || OBSOLETE_DATE.matcher(value).matches())) {
            return null;
        }
        return DateFormatter.parseHttpDate(value); // names the shape check left: a wrong one is null there
    }

    /**
     * {@code Sun, 06 Nov 1994 08:49:37 GMT} by its shape and its day's name, the month's left to Netty's parser: what
     * nearly every date a client or a script sends is, checked without a regular expression.
     */
    private static boolean isImfFixdate(CharSequence v) {
        int n = v.length();
        if (n < 29 || v.charAt(3) != ',' || v.charAt(4) != ' ' || v.charAt(7) != ' ' || v.charAt(11) != ' '
                || v.charAt(16) != ' ' || v.charAt(19) != ':' || v.charAt(22) != ':' || v.charAt(25) != ' ') {
            return false;
        }
        for (int i : IMF_DIGITS) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        String zone = v.subSequence(26, n).toString();
        return DAYS.contains(v.subSequence(0, 3).toString().toLowerCase(Locale.ROOT))
                && (zone.equalsIgnoreCase("GMT") || zone.equalsIgnoreCase("UTC") || zone.equals("+0000"));
    }
}
