package io.edge.core.http;

import io.netty.handler.codec.DateFormatter;
import io.netty.util.AsciiString;
import java.util.Date;
import java.util.function.LongSupplier;

/**
 * The {@code Date} header value (RFC 9110 §6.6.1: an origin server with a clock sends it in every 2xx, 3xx and
 * 4xx response), formatted at most once per second of {@code clock} rather than per response. Threads may
 * race to format the same second; each gets a correct value.
 */
public final class HttpDate {

    private static final HttpDate SYSTEM = new HttpDate(System::currentTimeMillis);
    /** Formatted past seconds ({@code Last-Modified}), direct-mapped by second: files of one tree share few mtimes. */
    private static final Cached[] PAST = new Cached[256];

    private final LongSupplier clock;
    private volatile Cached cached = new Cached(Long.MIN_VALUE, AsciiString.EMPTY_STRING);

    private record Cached(long second, AsciiString text) {
        static Cached of(long second) {
            return new Cached(second, AsciiString.of(DateFormatter.format(new Date(second * 1000))));
        }
    }

    /** @param clock milliseconds since the epoch (a fake one in tests) */
    HttpDate(LongSupplier clock) {
        this.clock = clock;
    }

    /** The value for a response sent now, on the system clock. */
    public static AsciiString now() {
        return SYSTEM.current();
    }

    /**
     * {@code millis} as an HTTP date ({@code Last-Modified}), to the second. Remembers the last 256 distinct
     * seconds asked for (a plain array of immutable entries: a race costs one extra formatting, never a wrong value).
     */
    public static AsciiString format(long millis) {
        long second = Math.floorDiv(millis, 1000);
        int slot = (int) (second & (PAST.length - 1));
        Cached c = PAST[slot];
        if (c == null || c.second() != second) {
            c = Cached.of(second);
            PAST[slot] = c;
        }
        return c.text();
    }

    AsciiString current() {
        long second = Math.floorDiv(clock.getAsLong(), 1000);
        Cached c = cached;
        if (c.second() != second) {
            c = Cached.of(second);
            cached = c;
        }
        return c.text();
    }
}
