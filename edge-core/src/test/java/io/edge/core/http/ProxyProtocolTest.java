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

    /** A v2 header with {@code tlvs} and a request behind it, on a fresh connection expecting one. */
    private static EmbeddedChannel afterV2(byte[] tlvs) throws Exception {
        EmbeddedChannel channel = expecting();
        channel.writeInbound(Unpooled.wrappedBuffer(v2(tlvs)),
                Unpooled.copiedBuffer("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII));
        return channel;
    }

    /** An SSL field (PP2_TYPE_SSL): its client bits, a verify result of 0, then {@code nested} fields. */
    private static byte[] ssl(int client, byte... nested) {
        ByteBuffer field = ByteBuffer.allocate(3 + 5 + nested.length);
        field.put((byte) 0x20).putShort((short) (5 + nested.length)).put((byte) client).putInt(0).put(nested);
        return field.array();
    }

    /**
     * HAProxy's send-proxy-v2-ssl: an SSL field whose PP2_CLIENT_SSL bit (0x01) is set says the client came over TLS,
     * for every request on the connection; its other bits alone (a client certificate), a field without it, no field
     * or a v1 header say it did not.
     */
    @Test
    void theSslFieldsClientBitSaysTheClientCameOverTls() throws Exception {
        byte[] version = {0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3'};
        for (byte[] tlvs : new byte[][] {ssl(0x01), ssl(0x07, version),
                // another field first (PP2_TYPE_NOOP), an ALPN after
                {0x04, 0x00, 0x01, 0x00, 0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0, 0x01, 0x00, 0x02, 'h', '2'}}) {
            EmbeddedChannel channel = afterV2(tlvs);
            assertThat(ProxyProtocol.clientTls(channel)).isTrue();
            assertThat(ProxyProtocol.peer(channel)).isEqualTo(new InetSocketAddress("203.0.113.9", 5555));
            Object request = channel.readInbound();
            assertThat(request).as("the request passed on").isNotNull();
            channel.finishAndReleaseAll();
            io.netty.util.ReferenceCountUtil.release(request);
        }
        for (byte[] tlvs : new byte[][] {new byte[0], ssl(0x00), ssl(0x06),
                {0x01, 0x00, 0x02, 'h', '2'}}) { // ALPN alone
            EmbeddedChannel channel = afterV2(tlvs);
            assertThat(channel.isOpen()).isTrue();
            assertThat(ProxyProtocol.clientTls(channel)).isFalse();
            channel.finishAndReleaseAll();
        }
        EmbeddedChannel v1 = expecting();
        v1.writeInbound(Unpooled.copiedBuffer("PROXY TCP4 203.0.113.9 127.0.0.1 5555 443\r\nGET / HTTP/1.1\r\n",
                StandardCharsets.US_ASCII));
        assertThat(ProxyProtocol.clientTls(v1)).isFalse();
        v1.finishAndReleaseAll();
    }

    /** A LOCAL header (a proxy's own health check) names no client: its SSL field says nothing of one either. */
    @Test
    void aLocalHeadersSslFieldIsNotRead() throws Exception {
        byte[] header = v2(ssl(0x01));
        header[12] = 0x20; // LOCAL
        EmbeddedChannel channel = expecting();
        channel.writeInbound(Unpooled.wrappedBuffer(header));
        assertThat(channel.isOpen()).isTrue();
        assertThat(ProxyProtocol.clientTls(channel)).isFalse();
        channel.finishAndReleaseAll();
    }

    /**
     * An SSL field too short for its client bits and verify result (under 5 bytes), or whose own nested field runs
     * past it, is a broken header, as Netty's decoder reads it: the connection is closed and counted, its request
     * going nowhere, and nothing of the header is left unreleased (paranoid leak detection).
     */
    @Test
    void aBrokenSslFieldClosesTheConnectionAsABrokenHeader() throws Exception {
        for (byte[] tlvs : new byte[][] {{0x20, 0x00, 0x01, 0x01}, {0x20, 0x00, 0x04, 0x01, 0, 0, 0},
                {0x20, 0x00, 0x00, 0x01, 0x00, 0x02, 'h', '2'}, {0x20, 0x00, 0x09, 0x01, 0, 0, 0, 0},
                ssl(0x01, (byte) 0x21, (byte) 0x00, (byte) 0x09, (byte) 'T')}) {
            long before = ProxyProtocol.brokenSinceStart();
            EmbeddedChannel channel = afterV2(tlvs);
            channel.checkException();
            assertThat(channel.isOpen()).isFalse();
            Object passedOn = channel.readInbound();
            assertThat(passedOn).as("the request goes nowhere").isNull();
            assertThat(ProxyProtocol.clientTls(channel)).isFalse();
            assertThat(ProxyProtocol.brokenSinceStart()).isEqualTo(before + 1);
            channel.finishAndReleaseAll();
        }
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
