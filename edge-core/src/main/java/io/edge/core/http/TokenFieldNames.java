package io.edge.core.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Ahead of an HTTP/2 or HTTP/3 stream's codec: leaves out of an answer's head the fields whose names are no token (a
 * proxied backend's {@code Fo(o}, passed on to an HTTP/1.x client as nginx passes it), as Netty's encoder refuses
 * them, and its refusal closed the client's whole connection with no answer. nginx 1.22 sends them on over HTTP/2
 * (measured: curl's nghttp2 then reset the stream, PROTOCOL_ERROR); here the client gets the answer without them.
 */
@ChannelHandler.Sharable
final class TokenFieldNames extends ChannelOutboundHandlerAdapter {

    static final TokenFieldNames INSTANCE = new TokenFieldNames();

    private TokenFieldNames() {
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response && !allTokens(response.headers())) {
            // the rare answer with such a name pays for the list; every other one is only looked through
            List<String> refused = response.headers().names().stream()
                    .filter(name -> HttpHeaderValidationUtil.validateToken(name) >= 0).toList();
            refused.forEach(response.headers()::remove);
        }
        ctx.write(msg, promise);
    }

    private static boolean allTokens(HttpHeaders headers) {
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            if (HttpHeaderValidationUtil.validateToken(it.next().getKey()) >= 0) {
                return false;
            }
        }
        return true;
    }
}
