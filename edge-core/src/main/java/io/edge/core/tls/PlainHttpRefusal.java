package io.edge.core.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of a connection to a listener marked ssl: what begins with a TLS record goes on to the handshake
 * (this handler leaves, its bytes passed on); anything else, a plain HTTP request most likely, is answered as nginx
 * answers it, 400 "The plain HTTP request was sent to HTTPS port", in plain text, and the connection closed.
 */
final class PlainHttpRefusal extends ByteToMessageDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(PlainHttpRefusal.class);
    /** A TLS record's header: content type, version, length. */
    private static final int RECORD_HEADER = 5;
    private static final byte[] BODY = ("<html>\r\n"
            + "<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n"
            + "<body>\r\n"
            + "<center><h1>400 Bad Request</h1></center>\r\n"
            + "<center>The plain HTTP request was sent to HTTPS port</center>\r\n"
            + "</body>\r\n"
            + "</html>\r\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ANSWER = ("HTTP/1.1 400 Bad Request\r\n"
            + "Content-Type: text/html\r\n"
            + "Content-Length: " + BODY.length + "\r\n"
            + "Connection: close\r\n"
            + "\r\n" + new String(BODY, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);

    private boolean refused;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (refused) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < RECORD_HEADER && (!in.isReadable() || isRecordType(in.getUnsignedByte(in.readerIndex())))) {
            return; // too little to tell yet
        }
        if (in.readableBytes() >= RECORD_HEADER && SslHandler.isEncrypted(in, true)) {
            ctx.pipeline().remove(this); // what it holds goes on to the SNI handler
            return;
        }
        refused = true;
        in.skipBytes(in.readableBytes());
        LOG.debug("{}: a plain HTTP request to a TLS listener, answered 400", ctx.channel().remoteAddress());
        ctx.writeAndFlush(Unpooled.wrappedBuffer(ANSWER)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Whether {@code type} is a TLS record's content type (change_cipher_spec, alert, handshake, application_data). */
    private static boolean isRecordType(int type) {
        return type >= 20 && type <= 23 || type >= 0x80; // or an SSLv2-framed hello's length
    }
}
