package io.edge.fastcgi.pool;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;

/** One backend connection and its pool state; fields other than the finals are guarded by the pool's lock. */
final class PooledConnection {

    /** See {@link BackendPool}'s class comment; LINGERING: closed, its slot still taken until the linger ends. */
    enum State { LEASED, IDLE, LINGERING, CLOSED }

    final Channel channel;
    /** The loop the channel is registered on; changes when the pool moves an idle connection. */
    EventLoop loop;
    final Backend backend;
    State state = State.LEASED;
    int exchanges;
    /** Bumped each time the connection turns idle, so a stale idle timer does nothing. */
    long idleGeneration;
    Runnable cancelIdleTimer;

    PooledConnection(Channel channel, EventLoop loop, Backend backend) {
        this.channel = channel;
        this.loop = loop;
        this.backend = backend;
    }
}
