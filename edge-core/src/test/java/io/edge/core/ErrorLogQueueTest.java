package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The error log drops lines rather than block when stderr does not keep up, and says how many once there is room. */
class ErrorLogQueueTest {

    @Test
    void linesDroppedForAFullQueueAreToldOnceThereIsRoom() throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter()); // an event's MDC is read as it is queued
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch stalled = new CountDownLatch(1);
        List<String> written = new CopyOnWriteArrayList<>();
        AppenderBase<ILoggingEvent> stderr = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                stalled.countDown();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                boolean interrupted = false;
                while (release.getCount() > 0 && System.nanoTime() < until) { // a reader that stalls, whatever wakes it
                    try {
                        release.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                written.add(event.getFormattedMessage());
            }
        };
        stderr.setContext(context);
        stderr.start();
        ErrorLogQueue queue = new ErrorLogQueue();
        queue.setContext(context);
        queue.setQueueSize(4);
        queue.setNeverBlock(true);
        queue.addAppender(stderr);
        queue.start();
        try {
            queue.doAppend(warning(context, "flood 0"));
            // the writer holds the first line, stalled, before the flood: it takes no more (it drains the queue only
            // between its writes), so the queue fills and the rest is dropped
            assertThat(stalled.await(20, TimeUnit.SECONDS)).isTrue();
            for (int i = 1; i < 20; i++) {
                queue.doAppend(warning(context, "flood " + i));
            }
            assertThat(queue.dropped()).as("the queue holds 4, the stalled writer one").isEqualTo(15);
            release.countDown();
            for (int i = 0; i < 2000 && queue.getNumberOfElementsInQueue() > 0; i++) {
                Thread.sleep(10); // a bound: the writer drains what was queued
            }
            queue.doAppend(warning(context, "after the flood"));
        } finally {
            release.countDown();
            queue.stop(); // writes out what is queued
        }
        assertThat(written).last().isEqualTo("after the flood");
        assertThat(written.get(written.size() - 2)).matches("error log: \\d+ lines? dropped: .*");
        assertThat(written).containsExactly("flood 0", "flood 1", "flood 2", "flood 3", "flood 4",
                written.get(5), "after the flood");
        assertThat(written.get(5)).startsWith("error log: 15 lines dropped: ");
    }

    private static LoggingEvent warning(LoggerContext context, String message) {
        return new LoggingEvent(ErrorLogQueueTest.class.getName(), context.getLogger("test"), Level.WARN, message, null,
                null);
    }
}
