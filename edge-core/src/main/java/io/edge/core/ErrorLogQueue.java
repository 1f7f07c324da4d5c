package io.edge.core;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The error log's queue in front of stderr ({@code logback.xml}): it drops lines rather than hold an event loop, as
 * logback's {@link AsyncAppender} does when its queue is full (and INFO and below when it is 80 % full), and unlike that
 * one says how many, in a line of its own once there is room again: a flood (a script's stderr, a burst of 502
 * warnings) lost thousands of lines, other requests' among them, with nothing in the log to tell (the FastCGI audit).
 */
public final class ErrorLogQueue extends AsyncAppender {

    private final AtomicLong dropped = new AtomicLong();

    @Override
    protected void append(ILoggingEvent event) {
        int room = getRemainingCapacity();
        if (room == 0 || room < getDiscardingThreshold() && isDiscardable(event)) {
            dropped.incrementAndGet(); // a line that fills the queue between this look and the offer goes untold
            return;
        }
        if (room >= 2 && dropped.get() > 0) { // room for the loss line and this one: else the count waits
            long lost = dropped.getAndSet(0);
            if (lost > 0) {
                super.append(lossLine(lost));
            }
        }
        super.append(event);
    }

    /** Lines dropped so far and not told yet; for tests. */
    long dropped() {
        return dropped.get();
    }

    private ILoggingEvent lossLine(long lost) {
        LoggerContext context = (LoggerContext) getContext();
        return new LoggingEvent(ErrorLogQueue.class.getName(), context.getLogger(Logging.class), Level.WARN,
                "error log: " + lost + (lost == 1 ? " line" : " lines") + " dropped: written faster than stderr takes"
                        + " them (a flood, or a slow reader), and dropped rather than hold an event loop",
                null, null);
    }
}
