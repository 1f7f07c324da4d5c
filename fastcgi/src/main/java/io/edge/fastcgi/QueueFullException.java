package io.edge.fastcgi;

/** Every connection slot was busy and the wait queue already held {@code queue.max-waiters} requests. */
public final class QueueFullException extends BackendBusyException {

    public QueueFullException(String group, int maxWaiters) {
        super("fastcgi group " + group + ": wait queue full (" + maxWaiters + " waiters)");
    }
}
