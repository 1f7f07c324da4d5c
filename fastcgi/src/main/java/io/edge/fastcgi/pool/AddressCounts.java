package io.edge.fastcgi.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connections to each backend address, counted for every pool of a server that has it: two groups at one php-fpm
 * (a location with a longer read timeout beside the others), or a group a reload renamed, take workers of the same
 * php-fpm pool. One group's idle kept connections held every worker while another, with slots free in its own count,
 * connected into php-fpm's listen backlog, where its request waited unseen until a kept connection timed out idle
 * (60 s) or its read timeout gave 504. Now a pool whose connect takes the address's count past its max-connections has
 * a pool of another group there close one idle connection ({@link BackendPool#giveUpOneIdle}), which frees its worker
 * for that connect; with none idle then (their scripts answered, their END_REQUEST not yet read), the next connection
 * released there is closed instead of kept ({@link #owe}). Each group still holds only its own connections to its max-connections (with those of the pools
 * a reload replaced: {@link SharedSlots}). Thread-safe; it never takes a pool's lock.
 */
public final class AddressCounts {

    /** Connections of every pool at an address, whichever group (two groups may spell one address two ways). */
    private final AddressCounters counters = new AddressCounters();
    /** Idle connections owed by address key: connects past the workers that found none to be given up. */
    private final Map<String, AtomicInteger> owed = new ConcurrentHashMap<>();

    /**
     * {@code pool}, being built, counts its connections to the addresses of {@code keys} ({@link BackendAddress#key()})
     * here: their counters, in order.
     */
    synchronized List<AtomicInteger> join(BackendPool pool, List<String> keys) {
        List<AtomicInteger> joined = counters.join(pool, keys);
        tellNeighbours();
        return joined;
    }

    /**
     * {@code pool} was closed: it keeps no connection idle any more (its leased ones still count until released); an
     * address no pool has any more, its last connection gone, is forgotten.
     */
    synchronized void leave(BackendPool pool) {
        counters.leave(pool);
        owed.keySet().removeIf(key -> counters.pools().stream().noneMatch(p -> counters.keysOf(p).contains(key)));
        tellNeighbours();
    }

    /**
     * A connect to the address of {@code key} went past the workers with the other groups' connections there: owed an
     * idle connection's worker. It was asked of the pools with idle ones at once; one that had none then, its
     * connections still leased, closes the next it would keep idle ({@link #payIfOwed}), or the connect waited in
     * php-fpm's backlog until that one's idle timeout. Owed before the pools are asked, so one released meanwhile pays.
     */
    void owe(String key) {
        owed.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    }

    /** True if an idle connection is owed at {@code key}, which this call then counts as given: the caller closes one. */
    boolean payIfOwed(String key) {
        AtomicInteger debt = owed.get(key);
        return debt != null && debt.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    }

    /** Tells each pool the pools of other groups (other {@link SharedSlots}) at one of its addresses. */
    private void tellNeighbours() {
        for (BackendPool pool : counters.pools()) {
            List<String> keys = counters.keysOf(pool);
            List<BackendPool> neighbours = new ArrayList<>();
            for (BackendPool other : counters.pools()) {
                if (other.slots() != pool.slots() && counters.keysOf(other).stream().anyMatch(keys::contains)) {
                    neighbours.add(other);
                }
            }
            pool.neighbours = List.copyOf(neighbours);
        }
    }

    /** How many addresses are counted. For tests. */
    synchronized int addressesCounted() {
        return counters.size();
    }
}
