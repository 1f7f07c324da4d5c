package io.edge.core.tls;

import io.edge.core.http.HttpDate;
import io.edge.core.http.ServerField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
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
    /** Of the first read, what is looked at for the access log's request line, referer and user agent. */
    private static final int HEAD_READ = 8192;
    private static final String PAGE = "<html>\r\n"
            + "<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n"
            + "<body>\r\n"
            + "<center><h1>400 Bad Request</h1></center>\r\n"
            + "<center>The plain HTTP request was sent to HTTPS port</center>\r\n";

    private final TlsContexts.RefusedLog logged;
    /** The server's server-tokens: the Server field and the page's footer say the version, as nginx's. */
    private final boolean serverTokens;
    private final long startNanos = System.nanoTime();
    private boolean refused;

    PlainHttpRefusal(TlsContexts.RefusedLog logged, boolean serverTokens) {
        this.logged = logged;
        this.serverTokens = serverTokens;
    }

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
        String[] head = in.readCharSequence(Math.min(in.readableBytes(), HEAD_READ), StandardCharsets.ISO_8859_1)
                .toString().split("\r?\n", -1);
        in.skipBytes(in.readableBytes());
        LOG.debug("{}: a plain HTTP request to a TLS listener, answered 400", ctx.channel().remoteAddress());
        // signed as edge's other pages and answers (nginx 1.22.1's: its pages' tail and its Server field follow
        // server_tokens, and its Date goes with them)
        String signature = ServerField.value(serverTokens);
        String body = PAGE + "<hr><center>" + signature + "</center>\r\n</body>\r\n</html>\r\n";
        String answer = "HTTP/1.1 400 Bad Request\r\n"
                + "Server: " + signature + "\r\n"
                + "Date: " + HttpDate.now() + "\r\n"
                + "Content-Type: text/html\r\n"
                + "Content-Length: " + body.length() + "\r\n"
                + "Connection: close\r\n"
                + "\r\n" + body;
        ctx.writeAndFlush(Unpooled.copiedBuffer(answer, StandardCharsets.US_ASCII)).addListener(written -> {
            // as nginx's access.log has it: "GET / HTTP/1.1" 400 255, what of the head came in the first read
            logged.log(head[0].isEmpty() ? "-" : head[0], field(head, "referer"), field(head, "user-agent"),
                    written.isSuccess() ? body.length() : 0, startNanos);
            ctx.close();
        });
    }

    /** The value of {@code name}'s first line in {@code head}'s field lines, or null. */
    private static String field(String[] head, String name) {
        for (int i = 1; i < head.length && !head[i].isEmpty(); i++) {
            int colon = head[i].indexOf(':');
            if (colon == name.length() && head[i].regionMatches(true, 0, name, 0, colon)) {
                return head[i].substring(colon + 1).strip();
            }
        }
        return null;
    }

    /** Whether {@code type} is a TLS record's content type (change_cipher_spec, alert, handshake, application_data). */
    private static boolean isRecordType(int type) {
        return type >= 20 && type <= 23 || type >= 0x80; // or an SSLv2-framed hello's length
    }
}
