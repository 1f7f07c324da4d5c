package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.read.ListAppender;
import io.edge.core.http.ThrottledWarnings;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An access log whose writer stalls drops lines rather than block, and says so in the error log. */
class AccessLogLossTest {

    @Test
    void linesDroppedByAFullQueueAreToldInTheErrorLog() throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        CountDownLatch reader = new CountDownLatch(1);
        CountDownLatch writing = new CountDownLatch(1);
        List<String> written = new CopyOnWriteArrayList<>();
        AppenderBase<ILoggingEvent> stalled = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                writing.countDown();
                try {
                    reader.await(30, TimeUnit.SECONDS); // a reader of stdout that stopped reading
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                written.add(event.getMessage());
            }
        };
        stalled.setContext(context);
        stalled.start();
        ch.qos.logback.classic.Logger errors = context.getLogger("errors");
        ListAppender<ILoggingEvent> told = new ListAppender<>();
        told.setContext(context);
        told.start();
        errors.addAppender(told);
        AsyncAppender async = Logging.async(context, "ACCESS", stalled, 2, new ThrottledWarnings(errors, System::nanoTime));
        ch.qos.logback.classic.Logger access = context.getLogger("access");
        try {
            async.doAppend(line(access, "line 0"));
            assertThat(writing.await(30, TimeUnit.SECONDS)).as("the writer has the first line").isTrue();
            for (int i = 1; i <= 10; i++) {
                async.doAppend(line(access, "line " + i)); // two fit in the queue, the rest are dropped
            }
            assertThat(told.list).extracting(ILoggingEvent::getFormattedMessage).singleElement()
                    .satisfies(message -> assertThat(message).startsWith("access log: a line lost"));
        } finally {
            reader.countDown();
            async.stop(); // writes out what the queue holds
            stalled.stop();
        }
        assertThat(written).containsExactly("line 0", "line 1", "line 2");
    }

    private static ILoggingEvent line(ch.qos.logback.classic.Logger logger, String text) {
        return new LoggingEvent(AccessLogLossTest.class.getName(), logger, Level.INFO, text, null, null);
    }
}
