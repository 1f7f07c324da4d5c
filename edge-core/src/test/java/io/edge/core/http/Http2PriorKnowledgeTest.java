package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A plain connection of a listener marked http2 ({@link Http2Connection.PriorKnowledge}): HTTP/2's preface turns it,
 * whole or a byte at a time; anything else is HTTP/1's at its first byte not the preface's, every byte handed on in
 * order and none kept.
 */
class Http2PriorKnowledgeTest {

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** A SETTINGS frame with no setting, what a client sends after the preface. */
    private static final byte[] SETTINGS = {0, 0, 0, 4, 0, 0, 0, 0, 0};

    @Test
    void thePrefaceTurnsTheConnectionWholeOrAByteAtATime() {
        byte[] sent = concat(PREFACE, SETTINGS);
        for (int piece : new int[] {sent.length, 1, 5, PREFACE.length}) {
            Connection connection = new Connection();
            for (int at = 0; at < sent.length; at += piece) {
                int end = Math.min(sent.length, at + piece);
                assertThat(connection.turned).as("turned before the preface's last byte (pieces of %d)", piece)
                        .isEqualTo(at >= PREFACE.length);
                connection.channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(sent, at, end)));
            }
            assertThat(connection.turned).as("pieces of %d", piece).isTrue();
            assertThat(connection.read.toByteArray()).as("the preface and what came after, handed on").isEqualTo(sent);
            assertThat(connection.channel.pipeline().get(Http2Connection.PriorKnowledge.class)).isNull();
            connection.channel.finishAndReleaseAll();
        }
    }

    /**
     * HTTP/1: decided at the first byte that is not the preface's, the bytes before it held no longer (a POST's "PO",
     * "PRI * HTTP/1.1"'s first nine), nothing turned.
     */
    @Test
    void anyOtherStartStaysHttp1AtItsFirstByteNotThePreface() {
        for (String start : List.of("GET / HTTP/1.1\r\n", "POST /x HTTP/1.1\r\n", "PRI * HTTP/1.1\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r", "PRI * HTTP/2.0\r\n\r\nsM\r\n\r\n", "\u0016\u0003\u0001")) {
            byte[] sent = start.getBytes(StandardCharsets.ISO_8859_1);
            int differs = 0;
            while (differs < sent.length && differs < PREFACE.length && sent[differs] == PREFACE[differs]) {
                differs++;
            }
            Connection connection = new Connection();
            for (int at = 0; at < sent.length; at++) {
                connection.channel.writeInbound(Unpooled.wrappedBuffer(sent, at, 1));
                assertThat(connection.read.size()).as("%s: handed on after byte %d", start.strip(), at)
                        .isEqualTo(at < differs ? 0 : at + 1);
            }
            if (differs == sent.length) { // the preface's start, its end never sent: waits, and the close drops it
                assertThat(connection.channel.finishAndReleaseAll()).isFalse();
                assertThat(connection.read.size()).isZero();
                continue;
            }
            assertThat(connection.turned).isFalse();
            assertThat(connection.read.toString(StandardCharsets.ISO_8859_1)).isEqualTo(start);
            assertThat(connection.channel.pipeline().get(Http2Connection.PriorKnowledge.class)).isNull();
            connection.channel.finishAndReleaseAll();
        }
    }

    /** A connection that closes with part of the preface held releases it. */
    @Test
    void aCloseMidPrefaceReleasesWhatWasHeld() {
        Connection connection = new Connection();
        ByteBuf part = Unpooled.copiedBuffer(PREFACE, 0, 10);
        ByteBuf more = Unpooled.copiedBuffer(PREFACE, 10, 6);
        connection.channel.writeInbound(part);
        connection.channel.writeInbound(more);
        connection.channel.close();
        assertThat(part.refCnt()).isZero();
        assertThat(more.refCnt()).isZero();
        assertThat(connection.read.size()).isZero();
        assertThat(connection.turned).isFalse();
    }

    /** A channel with the check first and a reader of what it hands on after. */
    private static final class Connection {
        final ByteArrayOutputStream read = new ByteArrayOutputStream();
        boolean turned;
        final EmbeddedChannel channel = new EmbeddedChannel();

        Connection() {
            ChannelPipeline pipeline = channel.pipeline();
            pipeline.addLast("h2c", new Http2Connection.PriorKnowledge(turning -> turned = true));
            pipeline.addLast("reader", new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ByteBuf bytes = (ByteBuf) msg;
                    byte[] copy = new byte[bytes.readableBytes()];
                    bytes.readBytes(copy);
                    read.writeBytes(copy);
                    ReferenceCountUtil.release(msg);
                }
            });
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
