package io.edge.cache.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AdmissionPaceTest {

    private final AtomicLong clock = new AtomicLong();
    private final AdmissionPace pace = new AdmissionPace(clock::get);

    /** A window of admissions, {@code hitShare} of which are hit (for the first time) within it. */
    private void window(double hitShare) {
        int hit = (int) Math.round(hitShare * AdmissionPace.WINDOW);
        for (int i = 0; i < hit; i++) {
            pace.firstHit();
        }
        for (int i = 0; i < AdmissionPace.WINDOW; i++) {
            pace.admitted();
        }
    }

    private long admittedOf(int candidates) {
        return IntStream.range(0, candidates).filter(i -> pace.admit()).count();
    }

    @Test
    void admitsEveryCandidateUntilAdmissionsGoUnhit() {
        assertThat(pace.stride()).isOne();
        assertThat(admittedOf(100)).isEqualTo(100);
    }

    @Test
    void aWindowWithLessThanHalfItsAdmissionsHitHalvesTheAdmissions() {
        for (int i = 0; i < AdmissionPace.WINDOW - 1; i++) {
            pace.admitted();
        }
        assertThat(pace.stride()).as("decided per whole window").isOne();
        pace.admitted();
        assertThat(pace.stride()).isEqualTo(2);
        assertThat(admittedOf(64)).isEqualTo(32);
        window(0.49);
        assertThat(pace.stride()).isEqualTo(4);
        assertThat(admittedOf(64)).isEqualTo(16);
        for (int i = 0; i < 10; i++) {
            window(0);
        }
        assertThat(pace.stride()).isEqualTo(AdmissionPace.MAX_STRIDE);
        assertThat(admittedOf(AdmissionPace.MAX_STRIDE * 3)).isEqualTo(3);
    }

    @Test
    void betweenHalfAndThreeQuartersHitThePaceHolds() {
        window(0);
        window(0);
        window(0.5);
        window(0.74);
        assertThat(pace.stride()).isEqualTo(4);
    }

    @Test
    void threeQuartersHitSpeedAdmissionsBackUp() {
        window(0);
        window(0);
        window(0.75);
        assertThat(pace.stride()).isEqualTo(2);
        window(1);
        assertThat(pace.stride()).isOne();
        window(1);
        assertThat(pace.stride()).isOne();
        assertThat(admittedOf(10)).isEqualTo(10);
    }

    @Test
    void aStrideNoWindowConfirmedHalvesAfterTheDecayTime() {
        window(0);
        window(0);
        assertThat(pace.stride()).isEqualTo(4);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(AdmissionPace.DECAY_SECONDS) - 1);
        pace.admit();
        assertThat(pace.stride()).isEqualTo(4);
        clock.addAndGet(1);
        pace.admit();
        assertThat(pace.stride()).isEqualTo(2);
        pace.admit();
        assertThat(pace.stride()).as("once per decay time").isEqualTo(2);
        clock.addAndGet(TimeUnit.SECONDS.toNanos(AdmissionPace.DECAY_SECONDS));
        pace.admit();
        assertThat(pace.stride()).isOne();
    }
}
