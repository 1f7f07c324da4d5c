package io.edge.fastcgi.pool;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/** Opens one backend connection on a given event loop, and moves an idle one to another loop. */
interface Connector {

    /** The returned future fails with the connect error; its channel is registered on {@code loop}. */
    Future<Channel> connect(EventLoop loop, BackendAddress address);

    /**
     * Moves the idle {@code channel} to {@code loop}: deregistered from its loop (two {@code epoll_ctl}
     * calls in all), then registered on {@code loop}. The future completes on {@code loop}. Far cheaper than
     * closing it and connecting again, which also costs the backend an accept and a worker turnaround.
     */
    default Future<Void> move(Channel channel, EventLoop loop) {
        Promise<Void> moved = loop.newPromise();
        channel.deregister().addListener(deregistered -> {
            if (!deregistered.isSuccess()) {
                moved.tryFailure(deregistered.cause());
                return;
            }
            loop.register(channel).addListener(registered -> {
                if (registered.isSuccess()) {
                    moved.trySuccess(null);
                } else {
                    moved.tryFailure(registered.cause());
                }
            });
        });
        return moved;
    }
}
