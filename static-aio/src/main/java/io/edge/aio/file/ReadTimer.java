package io.edge.aio.file;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Fails reads not done within the read timeout: one daemon thread for every engine, as the JDK's
 * {@code orTimeout} has, but the timeout is counted before the read's stage fails, so whoever sees the failure
 * sees it counted; a read that completes first cancels its timer (removed from the queue at once).
 */
final class ReadTimer {

    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private ReadTimer() {
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                ThreadPoolEngine.daemonThreads("edge-file-io-timer-"));
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /**
     * Fails {@code read} with a {@link TimeoutException} saying {@code what} unless it completes within
     * {@code timeoutNanos}; 0 or less: never.
     */
    static void arm(CompletableFuture<?> read, long timeoutNanos, EngineCounters counters, Supplier<String> what) {
        if (timeoutNanos <= 0 || read.isDone()) {
            return;
        }
        ScheduledFuture<?> timer = TIMER.schedule(() -> {
            if (read.isDone()) {
                return;
            }
            counters.timedOut.increment();
            if (!read.completeExceptionally(new TimeoutException(what.get() + " not done after "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms"))) {
                counters.timedOut.decrement(); // it completed meanwhile
            }
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        read.whenComplete((done, failure) -> timer.cancel(false));
    }
}
