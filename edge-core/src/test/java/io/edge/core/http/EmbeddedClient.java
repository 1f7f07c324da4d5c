package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;

/** Raw HTTP over a client connection played on an {@link EmbeddedChannel} (its pipeline built by the core). */
public final class EmbeddedClient {

    private EmbeddedClient() {
    }

    /** Feeds {@code request} to the connection and returns everything it wrote back. */
    public static String send(EmbeddedChannel client, String request) {
        client.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
        return received(client);
    }

    /** Everything the connection wrote since the last look. */
    public static String received(EmbeddedChannel client) {
        StringBuilder out = new StringBuilder();
        for (ByteBuf b; (b = client.readOutbound()) != null; ) {
            out.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return out.toString();
    }
}
