package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A connection expected to begin with a PROXY protocol header, on an embedded channel. */
class ProxyProtocolTest {

    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private static EmbeddedChannel expecting() {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast("timeouts", new ChannelInboundHandlerAdapter());
        ProxyProtocol.expectIn(channel.pipeline(), "timeouts");
        return channel;
    }

    /** A v2 PROXY header over TCP/IPv4 from 203.0.113.9:5555, with {@code tlvs} after the addresses. */
    private static byte[] v2(byte[] tlvs) throws Exception {
        ByteBuffer header = ByteBuffer.allocate(16 + 12 + tlvs.length);
        header.put(SIGNATURE).put((byte) 0x21).put((byte) 0x11).putShort((short) (12 + tlvs.length));
        header.put(InetAddress.getByName("203.0.113.9").getAddress()).put(InetAddress.getByName("127.0.0.1").getAddress());
        header.putShort((short) 5555).putShort((short) 80).put(tlvs);
        return header.array();
    }

    @Test
    void aHeaderNamesTheConnectionsClient() throws Exception {
        EmbeddedChannel channel = expecting();
        assertThat(ProxyProtocol.expected(channel)).isTrue();
        channel.writeInbound(Unpooled.wrappedBuffer(v2(new byte[0])),
                Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII));
        assertThat(ProxyProtocol.peer(channel)).isEqualTo(new InetSocketAddress("203.0.113.9", 5555));
        assertThat(channel.isOpen()).isTrue();
        assertThat(channel.pipeline().get(ProxyProtocol.class)).isNull();
        channel.finishAndReleaseAll();
        assertThat(ProxyProtocol.expected(new EmbeddedChannel())).isFalse();
    }

    /**
     * A v1 source address Netty's decoder lets through but that names no address as written (a zone, leading zeros)
     * is a broken header: the connection closes and its request goes nowhere. It was taken for the proxy's own, its
     * request passing rules meant for that address (the loopback-only status page).
     */
    @Test
    void aSourceAddressThatNamesNoAddressClosesTheConnection() {
        for (String header : new String[] {"PROXY TCP4 198.051.100.007 127.0.0.1 1 2\r\n",
                "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"}) {
            EmbeddedChannel channel = expecting();
            channel.writeInbound(Unpooled.copiedBuffer(header + "GET /st HTTP/1.1\r\nHost: x\r\n\r\n",
                    StandardCharsets.US_ASCII));
            assertThat(channel.isOpen()).as(header).isFalse();
            Object passedOn = channel.readInbound();
            assertThat(passedOn).as(header + ": the request goes nowhere").isNull();
            assertThat(ProxyProtocol.peer(channel)).as(header + ": no client taken from it").isNull();
            channel.finishAndReleaseAll();
        }
    }

    /**
     * A v2 TLV whose length runs past the header's end fails Netty's decoder with an IndexOutOfBoundsException, not
     * its own exception: the connection is closed as for any broken header, not passed on as an error.
     */
    @Test
    void aTlvRunningPastTheHeaderClosesTheConnectionAsABrokenHeader() throws Exception {
        EmbeddedChannel channel = expecting();
        channel.writeInbound(Unpooled.wrappedBuffer(v2(new byte[] {0x04, 0x00, 0x50, 'a', 'b', 'c'})));
        channel.checkException(); // nothing reached the end of the pipeline
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }

    /**
     * Too few bytes to tell a header (under v2's 13, or a v1 line without its end) and then nothing: the timeout that
     * closes the connection (RequestTimeouts, behind this handler) counts it as a broken header, logged as one that
     * could not be read. It was closed without a word.
     */
    @Test
    void aHeaderCutShortIsBrokenWhenTheConnectionClosesAtItsTimeout() {
        for (String part : new String[] {"PROXY", "PROXY TCP4 203.0.113.9 127.0.0.1 5555"}) {
            EmbeddedChannel channel = expecting();
            long before = ProxyProtocol.brokenSinceStart();
            channel.writeInbound(Unpooled.copiedBuffer(part, StandardCharsets.US_ASCII));
            assertThat(channel.isOpen()).as(part + ": waits for the rest").isTrue();
            channel.pipeline().context("timeouts").close();
            channel.checkException();
            assertThat(channel.isOpen()).as(part).isFalse();
            assertThat(ProxyProtocol.brokenSinceStart()).as(part + ": counted as broken").isEqualTo(before + 1);
            channel.finishAndReleaseAll();
        }
    }

    /** A connection closed before it sent a byte (a proxy's TCP health check) began no header to break. */
    @Test
    void aConnectionClosedBeforeItsFirstByteIsNoBrokenHeader() {
        EmbeddedChannel channel = expecting();
        long before = ProxyProtocol.brokenSinceStart();
        channel.pipeline().context("timeouts").close();
        assertThat(channel.isOpen()).isFalse();
        assertThat(ProxyProtocol.brokenSinceStart()).isEqualTo(before);
        channel.finishAndReleaseAll();
    }
}
