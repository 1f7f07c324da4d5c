package io.edge.conf;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A location's {@code limit-req}, nginx's {@code limit_req}: each client (its address) may make {@code rate} requests a
 * second on average, a leaky bucket as nginx's. Up to {@code burst} requests past the rate at a time: the first
 * {@code delay} of them are answered at once, the rest wait until they conform; beyond the burst they get
 * {@code status}.
 *
 * @param zone     the name of its table of clients, as messages say it: {@code zone login} for a zone the
 *                 configuration names, which locations naming it share (nginx's {@code zone=}; they must agree on its
 *                 rate); {@code location <its key>} for a location's own
 * @param rate     requests per second allowed on average, above 0 (nginx's {@code rate=10r/s}, {@code 30r/m})
 * @param burst    requests past the rate a client may have outstanding (nginx's {@code burst=})
 * @param delay    of the requests past the rate, how many are answered at once, from 0 (every one waits) to
 *                 {@code burst} (none waits: nginx's {@code nodelay}); nginx's {@code delay=}
 * @param status   the answer to a request beyond the burst (nginx's {@code limit_req_status}), from 400 to 599
 * @param ipv6Prefix the leading bits of an IPv6 client's address that name it, from 1 to 128 (64: a subscriber's
 *                 /64 is one client); an IPv4 client is named by its whole address
 * @param key      what the zone counts requests by instead of the client, nginx's {@code limit_req_zone} key: a text
 *                 with the request's variables ({@code "$http_x_api_key"}; a constant, such as {@code "all"}, one
 *                 bucket for every request, nginx's {@code $server_name} zone), a request whose key comes out empty
 *                 not limited by it, as nginx's; null: the client ({@code ipv6Prefix})
 * @param mode     how it logs what it refuses, and whether it refuses (a dry run); nginx's {@code limit_req_log_level}
 *                 and {@code limit_req_dry_run}
 */
public record LimitReq(String zone, double rate, int burst, int delay, int status, int ipv6Prefix, VariableText key,
                       LimitMode mode) {

    /** A limit counting each client. */
    public LimitReq(String zone, double rate, int burst, int delay, int status, int ipv6Prefix) {
        this(zone, rate, burst, delay, status, ipv6Prefix, null);
    }

    /** A limit logging as nginx's by default. */
    public LimitReq(String zone, double rate, int burst, int delay, int status, int ipv6Prefix, VariableText key) {
        this(zone, rate, burst, delay, status, ipv6Prefix, key, LimitMode.DEFAULT);
    }

    /** The zone's name as nginx's line says it ({@code by zone "login"}): a named zone's, else the location's table's. */
    public String zoneName() {
        return zone.startsWith("zone ") ? zone.substring("zone ".length()) : zone;
    }

    /** What a rate is written as, for a message. */
    static final String RATE_EXPECTED = "requests per second or minute, such as \"10 r/s\" or \"30 r/m\"";

    private static final Pattern RATE = Pattern.compile("(\\d{1,9})\\s*r/([sm])");

    /** The rate as nginx writes it: {@code 10r/s}, or {@code 30r/m} for one below a request a second. */
    public String rateText() {
        return rate == Math.rint(rate) ? (long) rate + "r/s" : Math.round(rate * 60) + "r/m";
    }

    /**
     * A rate as nginx writes it: {@code 10r/s}, {@code 30 r/m}; in requests per second.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code text}
     */
    static double rate(String text) {
        Matcher m = RATE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("is not a rate");
        }
        long count = Long.parseLong(m.group(1));
        if (count == 0) {
            throw new IllegalArgumentException("allows no request");
        }
        return m.group(2).equals("s") ? count : count / 60.0;
    }
}
