package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
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
        // the running one: its events carry an MDC adapter, which a bare new context lacks
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        CountDownLatch release = new CountDownLatch(1);
        List<String> written = new CopyOnWriteArrayList<>();
        AppenderBase<ILoggingEvent> stderr = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                try {
                    release.await(20, TimeUnit.SECONDS); // a reader that stalls
                } catch (InterruptedException e) {
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
            for (int i = 0; i < 20; i++) {
                queue.doAppend(warning(context, "flood " + i));
            }
            long dropped = queue.dropped();
            assertThat(dropped).as("the queue holds 4, the stalled writer a batch it took").isPositive();
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
        assertThat(written.get(written.size() - 2)).startsWith("error log: ").contains(" lines dropped: ");
        assertThat(Long.parseLong(written.get(written.size() - 2).split(" ")[2]) + written.stream()
                .filter(line -> line.startsWith("flood ")).count()).as("every line written or counted").isEqualTo(20);
    }

    private static LoggingEvent warning(LoggerContext context, String message) {
        return new LoggingEvent(ErrorLogQueueTest.class.getName(), context.getLogger("test"), Level.WARN, message, null,
                null);
    }
}
