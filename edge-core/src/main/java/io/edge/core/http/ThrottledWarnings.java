package io.edge.core.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * Warnings that come in bursts: of overload answers (503: a FastCGI queue full or waited out, no file descriptor or
 * direct memory left), thousands a second exactly when the machine is busiest, or of a file refused (403) that many
 * clients ask for. The first of a kind is logged, then at most one every {@link #EVERY_NANOS}, saying how many more of
 * that kind there were since (a burst over a queue of 5 logged 44 000 lines in 5 s before). The access log still has
 * a line for each, and the status page counts a FastCGI group's queue-full and timed-out ones.
 */
public final class ThrottledWarnings {

    static final long EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger log;
    private final LongSupplier nanoTime;
    private final ConcurrentMap<Class<?>, Kind> kinds = new ConcurrentHashMap<>();

    /** When a kind was last logged, and how many of it were not since. */
    private record Kind(AtomicLong loggedAt, AtomicLong unlogged) {
    }

    public ThrottledWarnings(Logger log, LongSupplier nanoTime) {
        this.log = log;
        this.nanoTime = nanoTime;
    }

    /** Logs {@code message}, one of kind {@code kind}, unless one of that kind was logged within the interval. */
    public void warn(Class<?> kind, String message) {
        log(Level.WARN, kind, message);
    }

    /** As {@link #warn}, at {@code level}. */
    public void log(Level level, Class<?> kind, String message) {
        long now = nanoTime.getAsLong();
        // a new kind counts as logged an interval ago, so its first is logged at once
        Kind k = kinds.computeIfAbsent(kind, c -> new Kind(new AtomicLong(now - EVERY_NANOS), new AtomicLong()));
        long at = k.loggedAt().get();
        if (now - at >= EVERY_NANOS && k.loggedAt().compareAndSet(at, now)) {
            long more = k.unlogged().getAndSet(0);
            if (more == 0) {
                log.atLevel(level).log(message);
            } else {
                log.atLevel(level).log("{} (and {} more like it in the last {} s)", message, more,
                        TimeUnit.NANOSECONDS.toSeconds(now - at));
            }
        } else {
            k.unlogged().incrementAndGet();
        }
    }
}
