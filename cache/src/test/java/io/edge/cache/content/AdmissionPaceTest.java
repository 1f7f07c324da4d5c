package io.edge.cache.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AdmissionPaceTest {

    private final AdmissionPace pace = new AdmissionPace();

    private void window(int hitsEach) {
        for (int i = 0; i < AdmissionPace.WINDOW; i++) {
            pace.evicted(hitsEach);
        }
    }

    private long admittedOf(int candidates) {
        return IntStream.range(0, candidates).filter(i -> pace.admit()).count();
    }

    @Test
    void admitsEveryCandidateUntilEvictionsSayOtherwise() {
        assertThat(pace.stride()).isOne();
        assertThat(admittedOf(100)).isEqualTo(100);
    }

    @Test
    void evictedEntriesThatEarnedLessThanAHitEachHalveTheAdmissionsPerWindow() {
        for (int i = 0; i < AdmissionPace.WINDOW - 1; i++) {
            pace.evicted(0);
        }
        assertThat(pace.stride()).as("decided per whole window").isOne();
        pace.evicted(0);
        assertThat(pace.stride()).isEqualTo(2);
        assertThat(admittedOf(64)).isEqualTo(32);
        window(0);
        assertThat(pace.stride()).isEqualTo(4);
        assertThat(admittedOf(64)).isEqualTo(16);
        for (int i = 0; i < 10; i++) {
            window(0);
        }
        assertThat(pace.stride()).isEqualTo(AdmissionPace.MAX_STRIDE);
        assertThat(admittedOf(AdmissionPace.MAX_STRIDE * 3)).isEqualTo(3);
    }

    @Test
    void betweenOneAndTwoHitsEachThePaceHolds() {
        window(0);
        window(0);
        window(1);
        assertThat(pace.stride()).isEqualTo(4);
    }

    @Test
    void evictedEntriesThatPaidOffSpeedAdmissionsBackUp() {
        window(0);
        window(0);
        window(AdmissionPace.PAYS_OFF);
        assertThat(pace.stride()).isEqualTo(2);
        window(5);
        assertThat(pace.stride()).isOne();
        window(5);
        assertThat(pace.stride()).isOne();
        assertThat(admittedOf(10)).isEqualTo(10);
    }
}
