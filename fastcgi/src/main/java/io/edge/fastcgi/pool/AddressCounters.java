package io.edge.fastcgi.pool;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connection counters by address ({@link BackendAddress#key()}: one address spelt two ways is one), for the pools that
 * joined and have not left: connecting, leased, idle and lingering. An address no pool has any more, its last
 * connection gone (a spawned php-fpm's socket a reload moved from), is forgotten, so that reloads do not add up. Not
 * thread-safe: its owner ({@link SharedSlots}, {@link AddressCounts}) holds its own lock around each call.
 */
final class AddressCounters {

    private final Map<String, AtomicInteger> taken = new HashMap<>();
    /** The address keys of each pool that joined and has not left. */
    private final Map<BackendPool, List<String>> keys = new HashMap<>();

    /** {@code pool} counts its connections to the addresses of {@code addressKeys} here: their counters, in order. */
    List<AtomicInteger> join(BackendPool pool, List<String> addressKeys) {
        List<AtomicInteger> counters = new ArrayList<>(addressKeys.size());
        for (String key : addressKeys) {
            counters.add(taken.computeIfAbsent(key, k -> new AtomicInteger()));
        }
        keys.put(pool, List.copyOf(addressKeys));
        return counters;
    }

    /** {@code pool} left; the counters at 0 of addresses no pool has any more are forgotten. */
    void leave(BackendPool pool) {
        keys.remove(pool);
        taken.entrySet().removeIf(e -> e.getValue().get() == 0
                && keys.values().stream().noneMatch(held -> held.contains(e.getKey())));
    }

    /** The address keys of {@code pool}, or null if it has not joined or has left. */
    List<String> keysOf(BackendPool pool) {
        return keys.get(pool);
    }

    /** The pools that joined and have not left. */
    Set<BackendPool> pools() {
        return keys.keySet();
    }

    /** How many addresses are counted. */
    int size() {
        return taken.size();
    }
}
