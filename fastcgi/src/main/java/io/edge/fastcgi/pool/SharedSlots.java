package io.edge.fastcgi.pool;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The slots of a backend group's addresses, shared by the pools that reloads put in each other's place. A reload that
 * changes a group builds a new pool while the requests of the previous one finish on it: their connections take
 * workers of the same php-fpm as the new pool's, so an address's connections are counted together against
 * max-connections (each pool against its own), and the next request waits in the new pool's queue rather than in
 * php-fpm's backlog. A slot one pool frees is offered to the others' queues. Thread-safe; each pool still guards its
 * own counts with its own lock, so two pools taking the last slot at the same moment may take one more.
 */
final class SharedSlots {

    /** Connections of every pool sharing these slots, by address: connecting, leased, idle and lingering. */
    private final ConcurrentHashMap<String, AtomicInteger> taken = new ConcurrentHashMap<>();
    /** The pools sharing them, oldest first; a pool leaves when it is closed. */
    private final List<BackendPool> pools = new CopyOnWriteArrayList<>();
    /** The last of {@link #pools}, null when none is left. */
    private volatile BackendPool newest;

    AtomicInteger of(BackendAddress address) {
        return taken.computeIfAbsent(address.spec(), spec -> new AtomicInteger());
    }

    /** {@code pool} takes the place of those before it, whose idle connections would hold workers it needs. */
    void join(BackendPool pool) {
        List<BackendPool> older;
        synchronized (this) {
            older = List.copyOf(pools);
            pools.add(pool);
            newest = pool;
        }
        older.forEach(BackendPool::superseded);
    }

    /**
     * {@code pool} was closed: it queues nothing any more (its leased connections still count until released). A
     * reload that failed after building it leaves the pool before it the newest again.
     */
    synchronized void leave(BackendPool pool) {
        pools.remove(pool);
        newest = pools.isEmpty() ? null : pools.get(pools.size() - 1);
        // an address no pool uses any more, its last connection gone (a spawned php-fpm's socket a reload moved
        // from): forgotten, so that reloads do not add up; a closed pool opens no connection again
        taken.entrySet().removeIf(e -> e.getValue().get() == 0 && pools.stream().noneMatch(p -> p.uses(e.getKey())));
    }

    boolean isNewest(BackendPool pool) {
        BackendPool last = newest;
        return last == null || last == pool;
    }

    /** How many addresses are counted. For tests. */
    int addressesCounted() {
        return taken.size();
    }

    boolean isShared() {
        return pools.size() > 1;
    }

    /** {@code from} freed a slot: the others' queued requests may take it. Called without any pool's lock. */
    void freed(BackendPool from) {
        for (BackendPool pool : pools) {
            if (pool != from) {
                pool.dispatchQueuedFromElsewhere();
            }
        }
    }
}
