package io.edge.fastcgi.pool;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connections to each backend address, counted for every pool of a server that has it: two groups at one php-fpm
 * (a location with a longer read timeout beside the others), or a group a reload renamed, take workers of the same
 * php-fpm pool. One group's idle kept connections held every worker while another, with slots free in its own count,
 * connected into php-fpm's listen backlog, where its request waited unseen until a kept connection timed out idle
 * (60 s) or its read timeout gave 504. Now a pool whose connect takes the address's count past its max-connections has
 * a pool of another group there close one idle connection ({@link BackendPool#giveUpOneIdle}), which frees its worker
 * for that connect. Each group still holds only its own connections to its max-connections (with those of the pools
 * a reload replaced: {@link SharedSlots}). Thread-safe; it never takes a pool's lock.
 */
public final class AddressCounts {

    /**
     * Connections of every pool at an address, by its {@link BackendAddress#key()} (two groups may spell one address
     * two ways): connecting, leased, idle and lingering.
     */
    private final Map<String, AtomicInteger> taken = new HashMap<>();
    /** The address keys of each pool that joined and has not left. */
    private final Map<BackendPool, List<String>> addresses = new HashMap<>();

    /**
     * {@code pool}, being built, counts its connections to the addresses of {@code keys} ({@link BackendAddress#key()})
     * here: their counters, in order.
     */
    synchronized List<AtomicInteger> join(BackendPool pool, List<String> keys) {
        List<AtomicInteger> counters = new ArrayList<>(keys.size());
        for (String key : keys) {
            counters.add(taken.computeIfAbsent(key, s -> new AtomicInteger()));
        }
        addresses.put(pool, List.copyOf(keys));
        tellNeighbours();
        return counters;
    }

    /**
     * {@code pool} was closed: it keeps no connection idle any more (its leased ones still count until released). An
     * address no pool has any more, its last connection gone (a spawned php-fpm's socket a reload moved from), is
     * forgotten, so that reloads do not add up.
     */
    synchronized void leave(BackendPool pool) {
        addresses.remove(pool);
        taken.entrySet().removeIf(e -> e.getValue().get() == 0
                && addresses.values().stream().noneMatch(keys -> keys.contains(e.getKey())));
        tellNeighbours();
    }

    /** Tells each pool the pools of other groups (other {@link SharedSlots}) at one of its addresses. */
    private void tellNeighbours() {
        for (Map.Entry<BackendPool, List<String>> pool : addresses.entrySet()) {
            List<BackendPool> neighbours = new ArrayList<>();
            for (Map.Entry<BackendPool, List<String>> other : addresses.entrySet()) {
                if (other.getKey().slots() != pool.getKey().slots()
                        && other.getValue().stream().anyMatch(pool.getValue()::contains)) {
                    neighbours.add(other.getKey());
                }
            }
            pool.getKey().neighbours = List.copyOf(neighbours);
        }
    }

    /** How many addresses are counted. For tests. */
    synchronized int addressesCounted() {
        return taken.size();
    }
}
