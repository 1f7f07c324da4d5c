package io.edge.core.http;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * A connection's handler that lists it in its loop's {@link IdleConnections} while it waits with nothing in flight, as
 * nginx's {@code ngx_reusable_connection} marks one: an HTTP/1 connection's {@link RequestTimeouts}, an HTTP/2 one's
 * {@link Http2Connection} and an HTTP/3 one's {@link Http3Connection} (no stream open). The fields are the list's
 * links, its list's alone.
 */
abstract class ReusableConnection extends ChannelInboundHandlerAdapter {

    /** Where this connection is listed while it waits ({@link RequestTimeouts#trackIdleIn}), or null: never (a stream's). */
    IdleConnections idleList;
    ReusableConnection idlePrevious;
    ReusableConnection idleNext;
    boolean idleLinked;
    /** When it joined the list (its loop's ticker). */
    long idleSince;

    /**
     * Closes the connection, idle, to free its slot for a waiting client (nginx closes its reusable connections so when
     * it runs out of them), unlinking it first; the future completes once it is closed.
     */
    abstract ChannelFuture closeIdle();

    /** Busy again, or closing: off the list if on it. On the loop. */
    final void notIdle() {
        if (idleLinked) {
            idleList.remove(this);
        }
    }
}
