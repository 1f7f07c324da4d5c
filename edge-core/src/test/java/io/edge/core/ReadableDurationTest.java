package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Durations in edge's log lines read as configured ("30 s"), not as Java prints them ("PT30S"). */
class ReadableDurationTest {

    @Test
    void wholeSecondsInSecondsTheRestInMilliseconds() {
        assertThat(Edge.readable(Duration.ofSeconds(30))).isEqualTo("30 s");
        assertThat(Edge.readable(Duration.ofMinutes(2))).isEqualTo("120 s");
        assertThat(Edge.readable(Duration.ofMillis(1500))).isEqualTo("1500 ms");
        assertThat(Edge.readable(Duration.ZERO)).isEqualTo("0 s");
    }
}
