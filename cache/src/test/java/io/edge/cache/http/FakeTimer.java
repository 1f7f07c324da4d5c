package io.edge.cache.http;

import io.netty.util.Timeout;
import io.netty.util.Timer;
import io.netty.util.TimerTask;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Manual time for the cache: a ticker, a wall clock that moves with it, and a timer run by {@link #advance}. */
final class FakeTimer implements Timer {

    static final long WALL_START_MILLIS = 1_700_000_000_000L;

    final AtomicLong nanos = new AtomicLong(5_000_000_000L);
    private final List<FakeTimeout> pending = new ArrayList<>();

    long read() {
        return nanos.get();
    }

    long wallMillis() {
        return WALL_START_MILLIS + nanos.get() / 1_000_000L;
    }

    void advanceSeconds(long seconds) {
        advance(TimeUnit.SECONDS.toNanos(seconds));
    }

    void advance(long deltaNanos) {
        long now = nanos.addAndGet(deltaNanos);
        List<FakeTimeout> due = new ArrayList<>();
        synchronized (this) {
            pending.removeIf(t -> {
                if (t.deadline <= now || t.cancelled) {
                    if (!t.cancelled) {
                        due.add(t);
                    }
                    return true;
                }
                return false;
            });
        }
        for (FakeTimeout t : due) {
            t.expired = true;
            try {
                t.task.run(t);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    synchronized int pending() {
        return (int) pending.stream().filter(t -> !t.cancelled).count();
    }

    @Override
    public synchronized Timeout newTimeout(TimerTask task, long delay, TimeUnit unit) {
        FakeTimeout t = new FakeTimeout(task, nanos.get() + unit.toNanos(delay));
        pending.add(t);
        return t;
    }

    @Override
    public Set<Timeout> stop() {
        return new HashSet<>();
    }

    private final class FakeTimeout implements Timeout {
        final TimerTask task;
        final long deadline;
        volatile boolean cancelled;
        volatile boolean expired;

        FakeTimeout(TimerTask task, long deadline) {
            this.task = task;
            this.deadline = deadline;
        }

        @Override
        public Timer timer() {
            return FakeTimer.this;
        }

        @Override
        public TimerTask task() {
            return task;
        }

        @Override
        public boolean isExpired() {
            return expired;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean cancel() {
            if (expired || cancelled) {
                return false;
            }
            cancelled = true;
            return true;
        }
    }
}
