package io.edge.core.limit;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One table of clients of a connection limit (nginx's {@code limit_conn_zone}): per key ({@link ZoneKeys}: a client's
 * address, or the value of the zone's key text), how many of its requests are in progress. A key is in the table only
 * while it has one: the table holds no more entries than there are requests, each key short (a long one kept as its
 * digest, {@link ZoneKeys}). Thread-safe: the event loops share it.
 */
public final class ConnectionZone {

    private final ConcurrentMap<Object, Integer> inProgress = new ConcurrentHashMap<>();

    /** Counts a request of {@code client} if it has fewer than {@code max} in progress: true then, false if not. */
    public boolean acquire(Object client, int max) {
        boolean[] admitted = new boolean[1];
        inProgress.compute(client, (address, count) -> {
            int now = count == null ? 0 : count;
            if (now >= max) {
                return count;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    /** A request {@link #acquire} counted for {@code client} has ended. */
    public void release(Object client) {
        inProgress.computeIfPresent(client, (address, count) -> count > 1 ? count - 1 : null);
    }

    /** Requests of {@code client} in progress. */
    public int inProgress(Object client) {
        return inProgress.getOrDefault(client, 0);
    }
}
