package io.edge.aio.file;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Fails reads not done within the read timeout: one daemon thread for every engine, as the JDK's
 * {@code orTimeout} has, but the timeout is counted before the read's stage fails, so whoever sees the failure
 * sees it counted; a read that completes first cancels its timer (removed from the queue at once).
 *
 * <p>A read that succeeds is counted done before its stage completes, for the same reason, and so first
 * {@linkplain Deadline#disarm disarms} its deadline, which only one of the read and its timer gets to do: a read
 * is counted either done or timed out, never both, and one that completes after it timed out only gives back
 * what it holds.
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
     * Fails {@code read} with a {@link TimeoutException} saying {@code what} unless it completes, or
     * {@code deadline} is {@linkplain Deadline#disarm disarmed}, within {@code timeoutNanos}; 0 or less: never.
     */
    static void arm(CompletableFuture<?> read, Deadline deadline, long timeoutNanos, EngineCounters counters,
            Supplier<String> what) {
        if (timeoutNanos <= 0 || read.isDone()) {
            return;
        }
        deadline.expiresAtNanos = System.nanoTime() + timeoutNanos;
        ScheduledFuture<?> timer = TIMER.schedule(() -> {
            if (read.isDone() || !deadline.expire()) {
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

    /**
     * For tests: holds the timer's one thread until {@code release} opens, so that no timeout fires before then
     * (each fires at once after, if due). Returns once the thread is held.
     */
    static void holdUntil(CountDownLatch release) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        TIMER.execute(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        held.await();
    }

    /** Whether a read beat its timeout, decided once: by the read's success or by its timer. */
    static final class Deadline {
        private final AtomicBoolean settled = new AtomicBoolean();
        /** When its timer fires ({@link System#nanoTime}); 0 while none is armed. */
        private volatile long expiresAtNanos;

        /**
         * What is left of the read's time, for a read handed on to an engine that times it anew: at least 1 ns
         * once a timer was armed, 0 (never times out) if none was.
         */
        long remainingNanos() {
            long at = expiresAtNanos;
            return at == 0 ? 0 : Math.max(1, at - System.nanoTime());
        }

        /**
         * Takes the read out of the timer's hands, before the read counts itself done and completes its stage (or
         * hands the read to an engine that times it anew). False if the timer came first: the read is counted as
         * timed out and its stage fails, so the caller only gives back what the read holds.
         */
        boolean disarm() {
            return settled.compareAndSet(false, true);
        }

        private boolean expire() {
            return settled.compareAndSet(false, true);
        }
    }
}
