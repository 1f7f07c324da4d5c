package io.edge.fastcgi.pool;

/**
 * The bounded FIFO of requests waiting for a connection slot: an intrusive doubly-linked list, so removing
 * a cancelled or expired waiter is O(1). Not thread-safe: {@link BackendPool} guards it with its lock.
 *
 * <p>Invariants: {@code size()} equals the number of linked waiters, each linked waiter has
 * {@code queued == true}, and {@link #offer} never lets size exceed {@code maxWaiters} and the extra room it is given
 * (slots of answered requests: see {@link BackendPool}). Only {@link #putBack} (a waiter sent back after a busy
 * connect, or sent again, already admitted once) and {@link #offerFirst} (one a replaced pool handed over) may exceed
 * it.
 */
final class WaitQueue {

    private final int maxWaiters;
    private Waiter head;
    private Waiter tail;
    /** Written under the pool's lock; volatile so that {@link #isEmpty} may be asked without it (a moment late). */
    private volatile int size;

    WaitQueue(int maxWaiters) {
        this.maxWaiters = maxWaiters;
    }

    /** Appends {@code w}; false when the queue already holds {@code maxWaiters} and {@code extra} more. */
    boolean offer(Waiter w, int extra) {
        if (size >= maxWaiters + extra) {
            return false;
        }
        link(w, tail, null);
        return true;
    }

    /** Puts {@code w} at the head, ignoring the bound. */
    void offerFirst(Waiter w) {
        link(w, null, head);
    }

    /**
     * Puts {@code w}, which had its turn already, back ahead of the requests that had not, ignoring the bound: behind the
     * requests sent again ({@link Waiter#again}) and, where it is not one, behind those that came before it too; ahead
     * of every other. {@code arriving}: it is sent again now, so behind one sent again at the same time; else it comes
     * back from a connect, which it went to ahead of any such.
     */
    void putBack(Waiter w, boolean arriving) {
        Waiter at = head;
        while (at != null && (at.again && !w.again
                || at.again == w.again && (at.startNanos - w.startNanos < 0 || arriving && at.startNanos == w.startNanos))) {
            at = at.next;
        }
        link(w, at == null ? tail : at.prev, at);
    }

    Waiter peek() {
        return head;
    }

    Waiter poll() {
        Waiter w = head;
        if (w != null) {
            remove(w);
        }
        return w;
    }

    /** Unlinks {@code w}; false if it was not queued. */
    boolean remove(Waiter w) {
        if (!w.queued || w.queue != this) { // queued elsewhere: a waiter one pool handed over to another
            return false;
        }
        if (w.prev == null) {
            head = w.next;
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        w.queued = false;
        w.queue = null;
        size--;
        return true;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    private void link(Waiter w, Waiter prev, Waiter next) {
        if (w.queued) {
            throw new IllegalStateException("already queued");
        }
        w.prev = prev;
        w.next = next;
        if (prev == null) {
            head = w;
        } else {
            prev.next = w;
        }
        if (next == null) {
            tail = w;
        } else {
            next.prev = w;
        }
        w.queued = true;
        w.queue = this;
        size++;
    }
}
