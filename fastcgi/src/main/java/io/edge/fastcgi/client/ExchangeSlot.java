package io.edge.fastcgi.client;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The place of the running exchange in a backend pipeline, between the record decoder and the {@link IdleGuard}:
 * installed once per connection, it hands inbound events to the exchange that occupies it, and passes them on
 * to the guard when none does (anything arriving between exchanges then closes the connection). Adding and
 * removing a handler per request instead cost a pipeline change twice per request. Event loop only.
 */
final class ExchangeSlot extends ChannelInboundHandlerAdapter {

    static final String NAME = "fcgi-exchange";

    private ChannelInboundHandler current;

    /** From now on {@code exchange} gets this connection's inbound events. */
    void occupy(ChannelInboundHandler exchange) {
        if (current != null) {
            throw new IllegalStateException("a backend connection serves one exchange at a time");
        }
        current = exchange;
    }

    /** {@code exchange} is done: events go to the idle guard again. A no-op for another exchange. */
    void vacate(ChannelInboundHandler exchange) {
        if (current == exchange) {
            current = null;
        }
    }

    /** Whether no exchange runs on the connection. */
    boolean isVacant() {
        return current == null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (current != null) {
            current.channelRead(ctx, msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (current != null) {
            current.channelReadComplete(ctx);
        } else {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (current != null) {
            current.exceptionCaught(ctx, cause);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (current != null) {
            current.channelInactive(ctx);
        } else {
            ctx.fireChannelInactive();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (current != null) {
            current.userEventTriggered(ctx, event);
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (current != null) {
            current.channelWritabilityChanged(ctx);
        } else {
            ctx.fireChannelWritabilityChanged();
        }
    }
}
