package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a read handed on to another engine keeps of its time ({@link ReadTimer.Deadline#remainingNanos}). */
class ReadTimerTest {

    @Test
    void aReadHandedOnKeepsWhatIsLeftOfItsTimeNotAFreshTimeout() {
        CompletableFuture<Object> read = new CompletableFuture<>();
        ReadTimer.Deadline deadline = new ReadTimer.Deadline();
        long timeout = TimeUnit.SECONDS.toNanos(30);
        ReadTimer.arm(read, deadline, timeout, new EngineCounters(), () -> "a read");
        try {
            assertThat(deadline.disarm()).isTrue();
            assertThat(deadline.remainingNanos()).isPositive().isLessThanOrEqualTo(timeout);
        } finally {
            read.complete(null);
        }
    }

    @Test
    void aReadWithoutATimeoutHandsOnNone() {
        ReadTimer.Deadline unarmed = new ReadTimer.Deadline();
        ReadTimer.arm(new CompletableFuture<>(), unarmed, 0, new EngineCounters(), () -> "a read");
        assertThat(unarmed.remainingNanos()).as("0: never times out").isZero();
    }
}
