package io.edge.fastcgi.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.time.Duration;

/** Connects with epoll channels on the caller's (epoll) event loop; the exchange installs its handlers later. */
final class EpollConnector implements Connector {

    private static final ChannelHandlerAdapter NO_HANDLER = new ChannelHandlerAdapter() {
        @Override
        public boolean isSharable() {
            return true;
        }
    };

    private final int connectTimeoutMillis;
    /** A host name is looked up at each connect, off the loop, within the connect timeout. */
    private final BackendResolverGroup names;
    /** What a connection goes through before it is granted (a TLS handshake), or null. */
    private final ConnectionSetup setup;

    EpollConnector(Duration connectTimeout) {
        this(connectTimeout, BackendResolverGroup.of(connectTimeout), null);
    }

    EpollConnector(Duration connectTimeout, ConnectionSetup setup) {
        this(connectTimeout, BackendResolverGroup.of(connectTimeout), setup);
    }

    EpollConnector(Duration connectTimeout, BackendResolverGroup names) {
        this(connectTimeout, names, null);
    }

    EpollConnector(Duration connectTimeout, BackendResolverGroup names, ConnectionSetup setup) {
        this.connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis()));
        this.names = names;
        this.setup = setup;
    }

    @Override
    public Future<Channel> connect(EventLoop loop, BackendAddress address) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(address.isUnix() ? EpollDomainSocketChannel.class : EpollSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(NO_HANDLER);
        if (address.address() instanceof InetSocketAddress tcp && tcp.isUnresolved()) {
            b.resolver(names); // else Netty's default, which has nothing to look up
        }
        if (address.isUnix()) {
            // The backend's end of its side is an event, not a close, so that a request php-fpm never took can be
            // told from one whose worker died (FcgiExchange.requestUnread). Not over TCP: a write to a peer that
            // closed whole succeeds there until its reset comes back, so it would prove nothing.
            b.option(ChannelOption.ALLOW_HALF_CLOSURE, true);
        } else {
            b.option(ChannelOption.TCP_NODELAY, true);
        }
        Promise<Channel> promise = loop.newPromise();
        ChannelFuture f = b.connect(address.address());
        f.addListener(done -> {
            if (done.isSuccess() && setup == null) {
                promise.setSuccess(f.channel());
            } else if (done.isSuccess()) {
                setUp(f.channel(), promise);
            } else {
                // first: a channel whose socket could not even be made (EMFILE) is registered nowhere, and its close
                // throws; the pool must still hear of the failure, or the slot it counted stays taken for good
                promise.setFailure(done.cause());
                if (f.channel().isRegistered()) {
                    f.channel().close();
                }
            }
        });
        return promise;
    }

    /** Grants {@code backendChannel} once set up; a setup that fails is the connect's failure, the channel closed. */
    private void setUp(Channel backendChannel, Promise<Channel> promise) {
        Future<?> ready;
        try {
            ready = setup.setUp(backendChannel);
        } catch (RuntimeException e) {
            ready = backendChannel.eventLoop().newFailedFuture(e);
        }
        ready.addListener(set -> {
            if (set.isSuccess()) {
                promise.setSuccess(backendChannel);
            } else {
                promise.setFailure(set.cause());
                backendChannel.close();
            }
        });
    }
}
