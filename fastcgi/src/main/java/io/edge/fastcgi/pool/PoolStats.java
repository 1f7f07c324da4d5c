package io.edge.fastcgi.pool;

/**
 * A snapshot of one backend group.
 *
 * @param open         connections counted against max-connections (connecting, leased, idle and lingering), all
 *                     addresses
 * @param idle         idle kept-alive connections
 * @param waiters      requests in the wait queue
 * @param rejectedFull requests refused because the queue was full, since start
 * @param timedOut     requests that waited out the queue timeout, since start
 * @param busyConnects connects that failed as busy/restarting and were sent back to wait, since start
 * @param failedConnects other connect failures, since start
 * @param lingering    closed connections still counted in {@code open}: they timed out or were cut off while their
 *                     worker may still run the script (php-fpm does not stop a script when its connection closes)
 * @param answered     leased connections whose answer is complete, held until their worker reads again (await-worker):
 *                     as many more requests may wait than max-waiters
 */
public record PoolStats(int open, int idle, int waiters, long rejectedFull, long timedOut, long busyConnects,
        long failedConnects, int lingering, int answered) {
}
