package io.edge.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.ToIntBiFunction;

/**
 * Caffeine caches whose values own buffers: bounded by weight in bytes (W-TinyLFU), and every value removed
 * for any reason gives its buffer back. Removal runs on the thread that caused it, so the cache's reference
 * is gone before the call returns (an expiry nothing else brought: on the timer's thread).
 */
public final class BufferCaches {

    private BufferCaches() {
    }

    /**
     * @param maxBytes  the weight bound
     * @param weigher   the bytes a key and value hold
     * @param release   gives back the cache's reference of a removed value
     * @param evictions counts removals by size or expiry (not explicit invalidations)
     */
    public static <K, V> Cache<K, V> bounded(long maxBytes, ToIntBiFunction<K, V> weigher,
                                             Consumer<V> release, LongAdder evictions) {
        return boundedWithKeys(maxBytes, weigher, (K key, V value) -> release.accept(value), evictions);
    }

    /** As {@link #bounded}, {@code release} told the key too: for a cache that keeps an index of its keys. */
    public static <K, V> Cache<K, V> boundedWithKeys(long maxBytes, ToIntBiFunction<K, V> weigher,
                                                     BiConsumer<K, V> release, LongAdder evictions) {
        return builder(maxBytes, weigher, release, evictions).build();
    }

    /**
     * As {@link #boundedWithKeys}, each value let go once {@code expiry} says it is of no more use, on {@code ticker}'s
     * time (counted in {@code evictions} too): its room is free for a newcomer, which Caffeine then stores without
     * weighing it against the values held, as it does while under {@code maxBytes}. Without it, a cache full of values
     * nobody can use turns most newcomers away (W-TinyLFU keeps what was used more often). Caffeine lets expired values
     * go at its maintenance, which reads and writes bring; {@code timer} brings it too once the next value is due, so
     * that a cache nobody uses gives its buffers back all the same. The maintenance then runs on the timer's thread.
     */
    public static <K, V> Cache<K, V> boundedWithKeys(long maxBytes, ToIntBiFunction<K, V> weigher,
                                                     BiConsumer<K, V> release, LongAdder evictions,
                                                     Expiry<K, V> expiry, Ticker ticker, Timer timer) {
        return builder(maxBytes, weigher, release, evictions).expireAfter(expiry).ticker(ticker)
                .scheduler(schedulerOn(timer)).build();
    }

    /**
     * Caffeine's tasks run by {@code timer}: a timer stopped (its configuration's cache retired with it) runs none, and
     * says so with a future already done rather than an exception, which Caffeine would log at each try.
     */
    private static Scheduler schedulerOn(Timer timer) {
        return (executor, command, delay, unit) -> {
            CompletableFuture<Void> scheduled = new CompletableFuture<>();
            Timeout timeout;
            try {
                timeout = timer.newTimeout(t -> {
                    if (scheduled.complete(null)) {
                        executor.execute(command);
                    }
                }, delay, unit);
            } catch (IllegalStateException | RejectedExecutionException stopped) {
                return CompletableFuture.completedFuture(null);
            }
            // Caffeine cancels what it scheduled once it is no longer due (a maintenance ran first)
            scheduled.whenComplete((done, cancelled) -> {
                if (cancelled != null) {
                    timeout.cancel();
                }
            });
            return scheduled;
        };
    }

    private static <K, V> Caffeine<K, V> builder(long maxBytes, ToIntBiFunction<K, V> weigher,
                                                 BiConsumer<K, V> release, LongAdder evictions) {
        return Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .<K, V>weigher(weigher::applyAsInt)
                .executor(Runnable::run)
                .<K, V>removalListener((key, value, cause) -> {
                    if (cause.wasEvicted()) {
                        evictions.increment();
                    }
                    if (value != null) {
                        release.accept(key, value);
                    }
                });
    }
}
