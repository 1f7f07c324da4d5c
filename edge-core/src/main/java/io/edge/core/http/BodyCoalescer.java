package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Hands the exchanges the small pieces of a request body that one read brought as one piece. Netty's decoder makes a
 * content of every chunk of a chunked body, so an upload in 1-byte chunks was 10 000 contents for 10 000 bytes, each
 * counted, checked against the limit, queued or spooled on its own (and a FastCGI body's parts each copied to the heap):
 * about fifty times the CPU nginx spends on it, which reads the chunks of one read into one buffer. Here the pieces of
 * one read are copied into one buffer as they come and handed on as one content when the read ends
 * ({@code channelReadComplete}), when the buffer holds {@link #MOST} bytes, or before anything else the decoder hands
 * on (a last content, a failure, a request head), so the order and the bytes stay as decoded. A piece of
 * {@link #SMALL} bytes or more goes on as it is (the buffer before it): copying it would cost more than it saves.
 *
 * <p>What is held is at most {@link #MOST} bytes of what one read brought, and never outlives the read: the body
 * limit, counted by {@link HttpConnectionHandler} on what it is handed, and the body timeout, which
 * {@link RequestTimeouts} runs on the reads themselves, see the same bytes at the same read as before. The buffer is
 * this handler's until it is handed on in a content (then the content's owner's), and released if the handler is
 * removed with it. Runs on the connection's event loop only.
 */
final class BodyCoalescer extends ChannelInboundHandlerAdapter {

    /** The most bytes one handed-on piece holds: as a chunk of the decoder's ({@code maxChunkSize}) at most. */
    static final int MOST = 64 * 1024;
    /** Pieces from this size on go on as they are. */
    static final int SMALL = 8 * 1024;

    /** The small pieces of this read so far, not yet handed on; null for none. */
    private ByteBuf pending;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpContent content && !(content instanceof LastHttpContent)
                && content.decoderResult().isSuccess() && content.content().readableBytes() < SMALL) {
            ByteBuf piece = content.content();
            if (pending != null && pending.readableBytes() + piece.readableBytes() > MOST) {
                handOn(ctx);
            }
            if (pending == null) {
                pending = ctx.alloc().buffer(Math.max(piece.readableBytes(), 256), MOST);
            }
            pending.writeBytes(piece);
            content.release();
            return;
        }
        handOn(ctx);
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        handOn(ctx);
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        handOn(ctx);
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    /** Hands on what is pending, if anything, as one content (whose owner the buffer is from now on). */
    private void handOn(ChannelHandlerContext ctx) {
        if (pending != null) {
            ByteBuf piece = pending;
            pending = null;
            ctx.fireChannelRead(new DefaultHttpContent(piece));
        }
    }
}
