package io.edge.fastcgi.pool;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Manual time: tasks run on the calling thread when {@link #advance} passes their due time. */
final class FakeTimers implements Timers {

    private final List<long[]> due = new ArrayList<>(); // [when, id]
    private final List<Runnable> tasks = new ArrayList<>();
    private long now = 1_000_000_000L;

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    @Override
    public synchronized Runnable schedule(EventExecutor executor, Runnable task, long delayNanos) {
        int id = tasks.size();
        tasks.add(task);
        due.add(new long[] {now + delayNanos, id});
        return () -> {
            synchronized (this) {
                tasks.set(id, null);
            }
        };
    }

    void advanceMillis(long millis) {
        long target;
        synchronized (this) {
            target = now + millis * 1_000_000L;
        }
        while (true) {
            Runnable run;
            synchronized (this) {
                due.sort(Comparator.comparingLong(e -> e[0]));
                long[] next = due.isEmpty() ? null : due.get(0);
                if (next == null || next[0] > target) {
                    now = target;
                    return;
                }
                due.remove(0);
                now = Math.max(now, next[0]);
                run = tasks.get((int) next[1]);
                tasks.set((int) next[1], null);
            }
            if (run != null) {
                run.run();
            }
        }
    }

    synchronized int pending() {
        return (int) tasks.stream().filter(t -> t != null).count();
    }
}
