package io.edge.core.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.edge.conf.LimitMode;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.ThrottledWarnings;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/** A limit's error-log lines: nginx's levels and excess, a line for each refusal or throttled. */
class LimitLogTest {

    private static final Logger LOG = LoggerFactory.getLogger(LimitLogTest.class);

    @Test
    void nginxsLevelsAreEdgesNoticeAndInfoBothInfo() {
        assertThat(LimitLog.level(new LimitMode(LimitMode.Level.ERROR, true, false))).isEqualTo(Level.ERROR);
        assertThat(LimitLog.level(new LimitMode(LimitMode.Level.WARN, true, false))).isEqualTo(Level.WARN);
        assertThat(LimitLog.level(new LimitMode(LimitMode.Level.NOTICE, true, false))).isEqualTo(Level.INFO);
        assertThat(LimitLog.level(new LimitMode(LimitMode.Level.INFO, true, false))).isEqualTo(Level.INFO);
    }

    /** nginx's delay_log_level: one below limit_req_log_level, info staying info; it was debug whatever the level. */
    @Test
    void aDelaysLineIsOneNginxLevelBelowTheRefusals() {
        assertThat(LimitLog.delayLevel(new LimitMode(LimitMode.Level.ERROR, true, false))).isEqualTo(Level.WARN);
        assertThat(LimitLog.delayLevel(new LimitMode(LimitMode.Level.WARN, true, false))).isEqualTo(Level.INFO);
        assertThat(LimitLog.delayLevel(new LimitMode(LimitMode.Level.NOTICE, true, false))).isEqualTo(Level.INFO);
        assertThat(LimitLog.delayLevel(new LimitMode(LimitMode.Level.INFO, true, false))).isEqualTo(Level.INFO);
    }

    @Test
    void theExcessIsWrittenAsNginxsToTheThousandthBelow() {
        assertThat(LimitLog.excess(0.9299)).isEqualTo("0.929");
        assertThat(LimitLog.excess(1)).isEqualTo("1.000");
        assertThat(LimitLog.excess(12.05)).isEqualTo("12.050");
        assertThat(LimitLog.excess(0)).isEqualTo("0.000");
    }

    /** every: each refusal its line at the mode's level (nginx's); throttled: the first, the rest counted. */
    @Test
    void everyRefusalIsLoggedUnlessThrottled() {
        AtomicLong now = new AtomicLong();
        ThrottledWarnings throttled = new ThrottledWarnings(LOG, now::get);
        LimitMode every = new LimitMode(LimitMode.Level.WARN, true, false);
        LimitMode fewer = new LimitMode(LimitMode.Level.ERROR, false, false);
        try (CapturedLog log = CapturedLog.of(LimitLogTest.class)) {
            for (int i = 0; i < 3; i++) {
                LimitLog.refused(LOG, throttled, LimitLogTest.class, every, "limiting requests " + i, () -> "");
            }
            for (int i = 0; i < 3; i++) {
                LimitLog.refused(LOG, throttled, LimitLogTest.class, fewer, "limiting connections " + i, () -> "");
            }
            assertThat(log.events()).extracting(ILoggingEvent::getLevel, ILoggingEvent::getFormattedMessage)
                    .containsExactly(
                            tuple(ch.qos.logback.classic.Level.WARN, "limiting requests 0"),
                            tuple(ch.qos.logback.classic.Level.WARN, "limiting requests 1"),
                            tuple(ch.qos.logback.classic.Level.WARN, "limiting requests 2"),
                            tuple(ch.qos.logback.classic.Level.ERROR,
                                    "limiting connections 0"));
        }
    }
}
