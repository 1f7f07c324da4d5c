package io.edge.core.limit;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One table of clients of a connection limit (nginx's {@code limit_conn_zone}): per client key ({@link ClientKeys}),
 * how many of its requests are in progress. A client is in the table only while it has one: the table holds no more
 * entries than there are requests. Thread-safe: the event loops share it.
 */
public final class ConnectionZone {

    private final ConcurrentMap<InetAddress, Integer> inProgress = new ConcurrentHashMap<>();

    /** Counts a request of {@code client} if it has fewer than {@code max} in progress: true then, false if not. */
    public boolean acquire(InetAddress client, int max) {
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
    public void release(InetAddress client) {
        inProgress.computeIfPresent(client, (address, count) -> count > 1 ? count - 1 : null);
    }

    /** Requests of {@code client} in progress. */
    public int inProgress(InetAddress client) {
        return inProgress.getOrDefault(client, 0);
    }
}
