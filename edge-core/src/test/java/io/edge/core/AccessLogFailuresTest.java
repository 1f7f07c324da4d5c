package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import io.edge.core.http.CapturedLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * An access log whose file cannot be written (a full disk; /dev/full answers every write with ENOSPC) is said in the
 * error log, once a minute at most, not lost without a word; edge goes on serving.
 */
class AccessLogFailuresTest {

    @Test
    void aFullDiskUnderTheAccessLogIsWarnedOfOnce() throws Exception {
        Logger access = (Logger) LoggerFactory.getLogger("edge.access");
        Level level = access.getLevel();
        List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
        access.iteratorForAppenders().forEachRemaining(appenders::add);
        appenders.forEach(access::detachAppender); // kept for after: other tests read the access log
        try (CapturedLog errors = CapturedLog.of(Logging.class)) {
            Logging.configureAccessLog(true, Path.of("/dev/full"));
            for (int i = 0; i < 200; i++) {
                access.info("GET /line-{} HTTP/1.1", i);
            }
            for (int i = 0; i < 3000 && errors.warnings().isEmpty(); i++) { // a guard of 30 s, nothing measured
                Thread.sleep(10);
            }
            for (int i = 0; i < 200; i++) {
                access.info("GET /more-{} HTTP/1.1", i);
            }
            Logging.configureAccessLog(false, null); // writes out what was queued, then closes the file
            assertThat(errors.warnings()).singleElement().asString()
                    .startsWith("access log /dev/full: cannot be written (")
                    .endsWith("); its lines are lost until it can");
        } finally {
            Logging.configureAccessLog(false, null);
            appenders.forEach(access::addAppender);
            access.setLevel(level);
        }
    }
}
