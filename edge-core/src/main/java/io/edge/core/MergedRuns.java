package io.edge.core;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A task run on an executor once for every burst of asks: an ask while a run is already waiting for the executor joins
 * it; one while it runs queues one more, which then sees whatever changed meanwhile. As nginx's master takes a signal
 * by setting a flag, so that SIGHUPs sent while it reconfigures make one reload (a deploy tool's burst of 30 made 30
 * reloads, each reading the same file, up to seconds behind the last signal).
 */
final class MergedRuns implements Runnable {

    private final Executor executor;
    private final Runnable task;
    private final AtomicBoolean waiting = new AtomicBoolean();

    MergedRuns(Executor executor, Runnable task) {
        this.executor = executor;
        this.task = task;
    }

    /** Asks for a run: queued unless one is waiting to start. */
    @Override
    public void run() {
        if (waiting.compareAndSet(false, true)) {
            executor.execute(() -> {
                waiting.set(false); // from here an ask queues the next run: this one may have read too early for it
                task.run();
            });
        }
    }
}
