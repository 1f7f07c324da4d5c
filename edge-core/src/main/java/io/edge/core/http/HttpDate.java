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

    private final LongSupplier clock;
    private volatile Cached cached = new Cached(Long.MIN_VALUE, AsciiString.EMPTY_STRING);

    private record Cached(long second, AsciiString text) {
    }

    /** @param clock milliseconds since the epoch (a fake one in tests) */
    HttpDate(LongSupplier clock) {
        this.clock = clock;
    }

    /** The value for a response sent now, on the system clock. */
    public static AsciiString now() {
        return SYSTEM.current();
    }

    AsciiString current() {
        long second = Math.floorDiv(clock.getAsLong(), 1000);
        Cached c = cached;
        if (c.second() != second) {
            c = new Cached(second, AsciiString.of(DateFormatter.format(new Date(second * 1000))));
            cached = c;
        }
        return c.text();
    }
}
