package io.edge.core.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Right after the SSL handler: notes the SNI name of the client hello ({@link TlsContexts#serverName}), and ends a
 * connection whose handshake failed (a bad client hello, no common version or cipher, a timeout) quietly: a debug line,
 * no stack trace, the failure never passed on to the HTTP handlers. The SSL handler closes the connection itself.
 */
final class TlsEvents extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(TlsEvents.class);

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SniCompletionEvent sni && sni.isSuccess() && sni.hostname() != null) {
            ctx.channel().attr(TlsContexts.SERVER_NAME).set(sni.hostname());
        } else if (event instanceof SslHandshakeCompletionEvent handshake && !handshake.isSuccess()) {
            LOG.debug("{}: TLS handshake failed: {}", ctx.channel().remoteAddress(), handshake.cause().toString());
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable tls = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        // a client hello cut short or garbled is a DecoderException of the SNI handler, before any SSL handler is there
        if (tls instanceof SSLException || cause instanceof DecoderException && TlsContexts.session(ctx.channel()) == null) {
            LOG.debug("{}: TLS failed: {}", ctx.channel().remoteAddress(), tls.toString());
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}
