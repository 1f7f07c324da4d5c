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
import java.util.concurrent.Semaphore;
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
        ErrorLogQueue queue = queueOfFour(context, stderr, 0);
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

    /**
     * The count of lines dropped goes in only with room for it and the line that tells it beside it: with room for one
     * line, that line goes and the count waits, so that the line is never the one dropped for the count's sake.
     */
    @Test
    void theCountWaitsForRoomForItselfAndTheLineBehindIt() throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        Semaphore writes = new Semaphore(0); // one permit per line the stalled stderr may write
        List<String> written = new CopyOnWriteArrayList<>();
        AppenderBase<ILoggingEvent> stderr = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                try {
                    if (!writes.tryAcquire(20, TimeUnit.SECONDS)) {
                        return; // a bound: the test failed already
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                written.add(event.getFormattedMessage());
            }
        };
        ErrorLogQueue queue = queueOfFour(context, stderr, 2); // INFO and below dropped with room for fewer than 2
        try {
            queue.doAppend(warning(context, "line 0"));
            awaitRoom(queue, 4); // the writer took line 0 and waits to write it
            for (int i = 1; i <= 3; i++) {
                queue.doAppend(warning(context, "line " + i));
            }
            queue.doAppend(new LoggingEvent(ErrorLogQueueTest.class.getName(), context.getLogger("test"), Level.INFO,
                    "an info line", null, null)); // room for one: dropped
            assertThat(queue.dropped()).isEqualTo(1);
            queue.doAppend(warning(context, "with room for one"));
            assertThat(queue.dropped()).as("the count waits").isEqualTo(1);
            writes.release(100);
            awaitRoom(queue, 4);
            queue.doAppend(warning(context, "with room"));
        } finally {
            writes.release(100);
            queue.stop();
        }
        assertThat(written).hasSize(7);
        assertThat(written.subList(0, 5)).containsExactly("line 0", "line 1", "line 2", "line 3", "with room for one");
        assertThat(written.get(5)).startsWith("error log: 1 line dropped: ");
        assertThat(written.get(6)).isEqualTo("with room");
    }

    /** A started queue of 4 lines in front of {@code stderr} (started too), dropping rather than blocking. */
    private static ErrorLogQueue queueOfFour(LoggerContext context, AppenderBase<ILoggingEvent> stderr,
            int discardingThreshold) {
        stderr.setContext(context);
        stderr.start();
        ErrorLogQueue queue = new ErrorLogQueue();
        queue.setContext(context);
        queue.setQueueSize(4);
        queue.setDiscardingThreshold(discardingThreshold);
        queue.setNeverBlock(true);
        queue.addAppender(stderr);
        queue.start();
        return queue;
    }

    /** Waits (bounded) until the queue has room for {@code lines}. */
    private static void awaitRoom(ErrorLogQueue queue, int lines) throws InterruptedException {
        for (int i = 0; i < 2000 && queue.getRemainingCapacity() != lines; i++) {
            Thread.sleep(10);
        }
        assertThat(queue.getRemainingCapacity()).isEqualTo(lines);
    }

    private static LoggingEvent warning(LoggerContext context, String message) {
        return new LoggingEvent(ErrorLogQueueTest.class.getName(), context.getLogger("test"), Level.WARN, message, null,
                null);
    }
}
