package io.edge.fastcgi.pool;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.TimeUnit;

/** Time and timers for the pool, injectable so tests never sleep. */
interface Timers {

    long nanoTime();

    /** Runs {@code task} on {@code executor} after {@code delayNanos}; the result cancels it. */
    Runnable schedule(EventExecutor executor, Runnable task, long delayNanos);

    Timers SYSTEM = new Timers() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Runnable schedule(EventExecutor executor, Runnable task, long delayNanos) {
            var f = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        }
    };
}
