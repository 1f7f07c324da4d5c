package io.edge.cache.content;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A Bloom filter of recently missed keys that forgets everything after as many insertions as it was sized
 * for: "seen before" means asked for at least twice within roughly that many misses. Used as the admission
 * filter of the content cache and of the open-file cache ({@code min-uses = 2}). Thread-safe; a lost
 * race costs one extra admission or one delayed one, never correctness.
 */
public final class Doorkeeper {

    private final AtomicLongArray bits;
    private final int mask;
    private final int resetAfter;
    private final AtomicInteger insertions = new AtomicInteger();

    /** @param keys distinct keys remembered before it starts over; uses 16 bits per key */
    public Doorkeeper(int keys) {
        int size = Integer.highestOneBit(Math.max(64, keys * 16 - 1)) << 1; // bits, a power of two
        this.bits = new AtomicLongArray(size >>> 6);
        this.mask = size - 1;
        this.resetAfter = keys;
    }

    /** Records {@code hash}; true if it was (probably) recorded before since the last reset. */
    public boolean seenBefore(int hash) {
        int h1 = spread(hash);
        int h2 = spread(h1 ^ 0x9E3779B9);
        boolean seen = test(h1) & test(h2);
        if (!seen) {
            set(h1);
            set(h2);
            if (insertions.incrementAndGet() >= resetAfter) {
                insertions.set(0);
                for (int i = 0; i < bits.length(); i++) {
                    bits.set(i, 0);
                }
            }
        }
        return seen;
    }

    private boolean test(int h) {
        int bit = h & mask;
        return (bits.get(bit >>> 6) & (1L << bit)) != 0;
    }

    private void set(int h) {
        int bit = h & mask;
        long m = 1L << bit;
        int i = bit >>> 6;
        long old;
        while (((old = bits.get(i)) & m) == 0 && !bits.compareAndSet(i, old, old | m)) {
            // retry: another bit of this word changed
        }
    }

    private static int spread(int h) {
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        return h ^ (h >>> 16);
    }
}
