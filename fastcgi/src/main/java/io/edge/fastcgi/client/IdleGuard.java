package io.edge.fastcgi.client;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * Last in a backend pipeline. Between exchanges nothing may arrive: anything that reaches this handler
 * (stray records, a decoder error, the end of the backend's side) means the connection cannot be trusted, so it is
 * closed. The pool then forgets it.
 */
@ChannelHandler.Sharable
public final class IdleGuard extends ChannelInboundHandlerAdapter {

    public static final IdleGuard INSTANCE = new IdleGuard();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** The backend ended its side (a connection read with half-closure): done with, as at a close. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            ctx.close();
        }
    }
}
