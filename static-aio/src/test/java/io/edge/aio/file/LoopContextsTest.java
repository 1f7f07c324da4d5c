package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What a loop whose context cannot be set up gets: the failure at once, and a new try only after a wait. */
class LoopContextsTest {

    private final AtomicLong now = new AtomicLong();
    private final AtomicInteger setUps = new AtomicInteger();

    @Test
    void aLoopWhoseSetUpFailedIsNotTriedAgainUntilTheWaitIsOver() throws Exception {
        LoopContexts<LoopRing> contexts = new LoopContexts<>("test engine", loop -> {
            throw new IOException("set-up " + setUps.incrementAndGet() + " failed");
        }, now::get);
        try {
            assertThat(failureOf(contexts)).hasMessage("set-up 1 failed");
            now.addAndGet(LoopContexts.RETRY_AFTER_NANOS - 1);
            assertThat(failureOf(contexts)).as("the first failure, without a new set-up").hasMessage("set-up 1 failed");
            now.addAndGet(1);
            assertThat(failureOf(contexts)).hasMessage("set-up 2 failed");
            assertThat(setUps).hasValue(2);
            assertThat(contexts.size()).isZero();
        } finally {
            contexts.close(TimeUnit.SECONDS.toNanos(1));
        }
    }

    private static Throwable failureOf(LoopContexts<LoopRing> contexts) throws Exception {
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        contexts.execute(ring -> failed.completeExceptionally(new AssertionError("no context expected")),
                failed::complete);
        return failed.get(30, TimeUnit.SECONDS);
    }
}
