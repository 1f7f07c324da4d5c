package io.edge.fastcgi.client;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Last in a backend pipeline. Between exchanges nothing may arrive: anything that reaches this handler
 * (stray records, a decoder error) means the connection cannot be trusted, so it is closed. The pool then
 * forgets it.
 */
@ChannelHandler.Sharable
final class IdleGuard extends ChannelInboundHandlerAdapter {

    static final IdleGuard INSTANCE = new IdleGuard();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
