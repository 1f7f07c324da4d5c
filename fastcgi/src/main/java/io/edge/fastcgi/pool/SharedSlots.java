package io.edge.fastcgi.pool;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The slots of a backend group's addresses, shared by the pools that reloads put in each other's place. A reload that
 * changes a group builds a new pool while the requests of the previous one finish on it: their connections take
 * workers of the same php-fpm as the new pool's, so an address's connections are counted together against
 * max-connections (each pool against its own), and the next request waits in a queue of edge's rather than in
 * php-fpm's backlog. A slot one pool frees is offered to the others' queues; a pool that keeps connections idle gives
 * them up while another has requests waiting, and a pool a newer one replaced keeps none idle for nobody.
 * Thread-safe; each pool guards its own counts with its own lock and takes a shared slot in one atomic step, so two
 * pools taking the last one at the same moment do not both get it.
 */
final class SharedSlots {

    /** Connections of every pool sharing these slots, by address (a reload may respell one). */
    private final AddressCounters counters = new AddressCounters();
    /** The pools that joined and have not left, oldest first. */
    private final List<BackendPool> pools = new CopyOnWriteArrayList<>();
    /** The last of {@link #pools}, null when none is left. */
    private volatile BackendPool newest;
    /**
     * Leases of every pool sharing these slots whose answer is complete, held until their worker reads again
     * ({@link Lease#answered}): the newest pool makes room for as many more waiters, as its clients asking again are
     * those of answers a pool before it gave too.
     */
    final AtomicInteger answered = new AtomicInteger();

    /**
     * {@code pool}, a pool being built, takes the place of those before it: the counters of its addresses'
     * {@code keys}, in order. It is offered slots only once {@link BackendPool#isReady}; the pools before it give up
     * their idle connections, which hold workers it needs.
     */
    List<AtomicInteger> join(BackendPool pool, List<String> keys) {
        List<AtomicInteger> joined;
        List<BackendPool> older;
        synchronized (this) {
            joined = counters.join(pool, keys);
            older = List.copyOf(pools);
            pools.add(pool);
            newest = pool;
        }
        older.forEach(BackendPool::giveUpIdle);
        return joined;
    }

    /**
     * {@code pool} was closed: it queues nothing any more (its leased connections still count until released). A
     * reload that failed after building it leaves the pool before it the newest again. An address no pool uses any
     * more, its last connection gone (a spawned php-fpm's socket a reload moved from), is forgotten, so that reloads
     * do not add up; a closed pool opens no connection again.
     */
    synchronized void leave(BackendPool pool) {
        pools.remove(pool);
        counters.leave(pool);
        newest = pools.isEmpty() ? null : pools.get(pools.size() - 1);
    }

    /** Whether {@code pool} has every address of {@code other} (both joined and not left): the same, or more. */
    synchronized boolean hasAddressesOf(BackendPool pool, BackendPool other) {
        List<String> mine = counters.keysOf(pool);
        List<String> theirs = counters.keysOf(other);
        return mine != null && theirs != null && mine.containsAll(theirs);
    }

    /** The pools that joined before {@code pool} and have not left, oldest first; none if it left. */
    synchronized List<BackendPool> before(BackendPool pool) {
        List<BackendPool> older = new ArrayList<>();
        if (counters.keysOf(pool) == null) {
            return older;
        }
        for (BackendPool other : pools) {
            if (other == pool) {
                break;
            }
            older.add(other);
        }
        return older;
    }

    boolean isNewest(BackendPool pool) {
        BackendPool last = newest;
        return last == null || last == pool;
    }

    boolean isShared() {
        return pools.size() > 1;
    }

    /** Whether a pool other than {@code pool} has requests waiting (read without its lock: a moment late at worst). */
    boolean othersWaiting(BackendPool pool) {
        if (pools.size() < 2) {
            return false;
        }
        for (BackendPool other : pools) {
            if (other != pool && other.hasWaiters()) {
                return true;
            }
        }
        return false;
    }

    /** {@code from} freed a slot: the others' queued requests may take it. Called without any pool's lock. */
    void freed(BackendPool from) {
        for (BackendPool pool : pools) {
            if (pool != from) {
                pool.dispatchQueuedFromElsewhere();
            }
        }
    }

    /**
     * {@code from} queued a request while slots are shared: the others give up their idle connections (unless their
     * own requests wait for them), whose slots it may be waiting for. Called without any pool's lock.
     */
    void wanted(BackendPool from) {
        for (BackendPool pool : pools) {
            if (pool != from) {
                pool.giveUpIdle();
            }
        }
    }

    /** How many addresses are counted. For tests. */
    synchronized int addressesCounted() {
        return counters.size();
    }
}
