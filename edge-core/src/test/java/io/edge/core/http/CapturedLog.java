package io.edge.core.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What one logger logs while a test runs: from {@link #of} until {@link #close}. The lines are read as a copy taken
 * under the appender's own lock, so a test may read them while an event loop still logs (logback appends to a plain
 * list, holding that lock; read without it, the list can be caught mid-append).
 */
public final class CapturedLog implements AutoCloseable {

    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private CapturedLog(Logger logger) {
        this.logger = logger;
        appender.start();
        logger.addAppender(appender);
    }

    /** Captures the logger named {@code name} (a class's logger is named by the class's full name). */
    public static CapturedLog of(String name) {
        return new CapturedLog((Logger) LoggerFactory.getLogger(name));
    }

    public static CapturedLog of(Class<?> owner) {
        return of(owner.getName());
    }

    /** Every event so far, in order. */
    public List<ILoggingEvent> events() {
        synchronized (appender) { // AppenderBase.doAppend is synchronized on the appender
            return List.copyOf(appender.list);
        }
    }

    /** Every line so far, formatted. */
    public List<String> lines() {
        return events().stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** The events so far at WARN. */
    public List<ILoggingEvent> warningEvents() {
        return events().stream().filter(e -> e.getLevel() == Level.WARN).toList();
    }

    /** The lines so far at WARN, formatted. */
    public List<String> warnings() {
        return warningEvents().stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
    }
}
