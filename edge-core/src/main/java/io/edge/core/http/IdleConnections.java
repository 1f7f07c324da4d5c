package io.edge.core.http;

import io.netty.channel.EventLoop;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The connections of one event loop that wait for a request with nothing in flight, new ones that have sent nothing yet
 * and kept-alive ones, oldest idle first: those closed to make room at {@code max-connections} (nginx's reusable
 * connections, drained by {@code ngx_drain_connections}). An intrusive list through {@link ReusableConnection}: an
 * HTTP/1 connection's {@link ReusableConnection} links it as its keep-alive wait starts (a new one once it has been
 * silent a second) and unlinks it as a request's first byte arrives or it closes; an HTTP/2 one's
 * {@link Http2Connection} and an HTTP/3 one's {@link Http3Connection} link it while no stream is open once one was.
 * No allocation and no lock per request.
 *
 * <p>The list is its loop's alone. Other threads see only {@link #oldestIdleSince}, so the accept loop can pick the
 * loop whose oldest idle connection waited longest; it is written only when the list's first connection changes,
 * always by an ordered store (no fence on the request path). The accept loop may therefore read it stale: it then
 * asks a loop whose connection is gone ({@link #closeOldest} answers and it looks again), or sees none where one is
 * idle, which is the rare case {@link HttpServerContext} settles by asking each loop to look at its own list
 * ({@link #reportIfIdle}); see {@link #add} for why no wake-up is lost.
 */
final class IdleConnections {

    /** {@link #oldestIdleSince} of an empty list. */
    static final long NONE = Long.MIN_VALUE;

    private final EventLoop loop;
    private final HttpServerContext server;
    private ReusableConnection oldest;
    private ReusableConnection newest;
    private final AtomicLong oldestIdleSince = new AtomicLong(NONE);

    IdleConnections(EventLoop loop, HttpServerContext server) {
        this.loop = loop;
        this.server = server;
    }

    EventLoop loop() {
        return loop;
    }

    /** When the oldest idle connection became idle (its loop's ticker), or {@link #NONE}. Any thread. */
    long oldestIdleSince() {
        return oldestIdleSince.get();
    }

    /**
     * {@code connection} became idle at {@code now}: it goes last. On the loop; not linked yet.
     *
     * <p>No lost wake-up, with no fence here. The accept loop, finding no loop with an idle connection while a client
     * is held, first sets the server's wish ({@link HttpServerContext#wantsIdle}, volatile) and then posts
     * {@link #reportIfIdle} to every loop registered (under the registry's lock, which a loop takes once, to
     * register). The task queue's handoff orders that write before the task, and the task before everything its loop
     * does after it. So for each loop: a connection idle when the task runs is reported by the task, one that becomes
     * idle later reads the wish here (set, unless the accept loop has since found one or no client is held any more),
     * and a loop registered later registered after the wish was set. Each report is posted to the accept loop after
     * this loop's ordered store of {@link #oldestIdleSince}, which it therefore sees.
     */
    void add(ReusableConnection connection, long now) {
        connection.idleSince = now;
        connection.idlePrevious = newest;
        connection.idleNext = null;
        connection.idleLinked = true;
        if (newest == null) {
            oldest = connection;
            oldestIdleSince.lazySet(now);
        } else {
            newest.idleNext = connection;
        }
        newest = connection;
        if (server.wantsIdle()) {
            server.idleAppeared();
        }
    }

    /** {@code connection}, linked, is busy again or closed. On the loop. */
    void remove(ReusableConnection connection) {
        ReusableConnection previous = connection.idlePrevious;
        ReusableConnection next = connection.idleNext;
        if (previous == null) {
            oldest = next;
            oldestIdleSince.lazySet(next == null ? NONE : next.idleSince);
        } else {
            previous.idleNext = next;
        }
        if (next == null) {
            newest = previous;
        } else {
            next.idlePrevious = previous;
        }
        connection.idlePrevious = null;
        connection.idleNext = null;
        connection.idleLinked = false;
    }

    /** The accept loop wants an idle connection and saw none: reports this loop's, if it has one. On the loop. */
    void reportIfIdle() {
        if (oldest != null) {
            server.idleAppeared();
        }
    }

    /**
     * Closes the connection idle longest, to free its slot for a held client (the accept loop asked), and answers once
     * it is closed, its slot released; or answers at once if none is left (it got a request or closed meanwhile) or no
     * client is held any more (a slot freed otherwise): the server then looks again, if a client is still held.
     */
    void closeOldest() {
        if (oldest == null || !server.clientHeld()) {
            server.idleAnswered();
        } else {
            // Unlinks it as it closes. The channel's close future, which releases the slot, completes before this one.
            oldest.closeIdle().addListener(closed -> server.idleAnswered());
        }
    }

    /**
     * Closes the connection idle longest for a QUIC connection taken over the limit
     * ({@link HttpServerContext#admitQuic}): {@code done} is told true once it is closed, its slot released, or false
     * at once if none is left (it got a request or closed meanwhile). On the loop.
     */
    void closeOldestFor(Consumer<Boolean> done) {
        if (oldest == null) {
            done.accept(false);
        } else {
            oldest.closeIdle().addListener(closed -> done.accept(true));
        }
    }
}
