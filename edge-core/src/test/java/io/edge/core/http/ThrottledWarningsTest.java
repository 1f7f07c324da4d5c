package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A burst of overload answers is one warning per kind and interval, each after the first saying how many it stood for. */
class ThrottledWarningsTest {

    private final AtomicLong now = new AtomicLong(1_000);

    @Test
    void aBurstIsOneWarningPerKindAndIntervalCountingTheRest() {
        String name = ThrottledWarningsTest.class.getName() + ".burst";
        try (CapturedLog log = CapturedLog.of(name)) {
            ThrottledWarnings warnings = new ThrottledWarnings(LoggerFactory.getLogger(name), now::get);
            for (int i = 0; i < 1000; i++) {
                warnings.warn(IllegalStateException.class, "GET /a -> 503: queue full " + i);
            }
            warnings.warn(ArithmeticException.class, "GET /b -> 503: no descriptors");
            now.addAndGet(ThrottledWarnings.EVERY_NANOS - 1);
            warnings.warn(IllegalStateException.class, "GET /a -> 503: queue full, within the interval");
            now.addAndGet(1);
            warnings.warn(IllegalStateException.class, "GET /a -> 503: queue full, next interval");
            now.addAndGet(TimeUnit.MINUTES.toNanos(5));
            warnings.warn(IllegalStateException.class, "GET /a -> 503: after a quiet time");
            assertThat(log.warnings()).containsExactly(
                    "GET /a -> 503: queue full 0",
                    "GET /b -> 503: no descriptors",
                    "GET /a -> 503: queue full, next interval (and 1000 more like it in the last 10 s)",
                    "GET /a -> 503: after a quiet time");
        }
    }
}
