package io.edge.fastcgi.pool;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/** Opens one backend connection on a given event loop. */
interface Connector {

    /** The returned future fails with the connect error; its channel is registered on {@code loop}. */
    Future<Channel> connect(EventLoop loop, BackendAddress address);
}
