package io.edge.fastcgi.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.fastcgi.FcgiProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class FcgiRecordDecoderTest {

    /** A php-fpm style answer: STDOUT "Status: 200\r\n\r\nhi" (padded), empty STDOUT, END_REQUEST. */
    static final String RESPONSE = ""
            + "01 06 0001 0011 07 00" + "5374617475733a203230300d0a0d0a6869" + "00000000000000"
            + "01 06 0001 0000 00 00"
            + "01 03 0001 0008 00 00" + "00000000 00 000000";

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    static List<Object> decode(byte[] bytes, boolean byteByByte) {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        if (byteByByte) {
            for (byte b : bytes) {
                ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            }
        } else {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        }
        List<Object> out = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            out.add(o);
        }
        assertThat(ch.finish()).isFalse();
        return out;
    }

    @Test
    void aLongStreamToASlowReaderKeepsTheBufferBelowARecord() {
        // Every read ends inside a record, and the chunks decoded from it are still held (queued for a slow
        // client) when the read completes; they are let go before the next read.
        int payload = 16_000;
        int record = 8 + payload;
        int records = 600;
        byte[] stream = new byte[records * record];
        for (int r = 0; r < records; r++) {
            int at = r * record;
            stream[at] = 1;
            stream[at + 1] = 6; // STDOUT
            stream[at + 3] = 1; // request 1
            stream[at + 4] = (byte) (payload >>> 8);
            stream[at + 5] = (byte) payload;
            java.util.Arrays.fill(stream, at + 8, at + record, (byte) ('a' + r % 26));
        }
        FcgiRecordDecoder decoder = new FcgiRecordDecoder();
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.config().setAllocator(new PooledByteBufAllocator(true));
        long received = 0;
        int largest = 0;
        for (int from = 0; from < stream.length; ) {
            int to = Math.min(stream.length, from == 0 ? record / 2 : from + record);
            ByteBuf read = ch.alloc().directBuffer(to - from).writeBytes(stream, from, to - from);
            ch.writeInbound(read); // the read, then its read-complete
            largest = Math.max(largest, decoder.bufferCapacity());
            for (Object o; (o = ch.readInbound()) != null; ) {
                FcgiStdout chunk = (FcgiStdout) o;
                received += chunk.content().readableBytes();
                chunk.release(); // the slow client took it
            }
            from = to;
        }
        assertThat(received).isEqualTo((long) records * payload);
        assertThat(largest).as("decoder's buffer").isLessThan(256 * 1024); // a shared buffer grew to 12 MiB
        assertThat(ch.finish()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void decodesStdoutAndEndRequest(boolean byteByByte) {
        List<Object> out = decode(hex(RESPONSE), byteByByte);
        assertThat(out).hasSize(3);
        FcgiStdout stdout = (FcgiStdout) out.get(0);
        assertThat(stdout.requestId()).isEqualTo(1);
        assertThat(stdout.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo("Status: 200\r\n\r\nhi");
        assertThat(((FcgiStdout) out.get(1)).isEndOfStream()).isTrue();
        assertThat(out.get(2)).isEqualTo(new FcgiEndRequest(1, 0, FcgiProtocolStatus.REQUEST_COMPLETE));
        stdout.release();
        ((FcgiStdout) out.get(1)).release();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void decodesHeaderOnlyRecords(boolean byteByByte) {
        String bytes = ""
                + "01 01 0007 0008 00 00" + "0001 01 0000000000"       // BEGIN_REQUEST responder keep-conn
                + "01 02 0007 0000 00 00"                               // ABORT_REQUEST
                + "01 03 0007 0008 00 00" + "000000ff 02 000000"        // END_REQUEST appStatus 255 OVERLOADED
                + "01 0b 0000 0008 00 00" + "63 00000000000000"         // UNKNOWN_TYPE 99
                + "01 0a 0000 0012 06 00" + "0e02" + "464347495f4d4158" + "5f434f4e4e53" + "3130" + "000000000000";
        List<Object> out = decode(hex(bytes), byteByByte);
        assertThat(out).containsExactly(
                new FcgiBeginRequest(7, FcgiRole.RESPONDER, true),
                new FcgiAbortRequest(7),
                new FcgiEndRequest(7, 255, FcgiProtocolStatus.OVERLOADED),
                new FcgiUnknownType(99),
                new FcgiGetValuesResult(List.of(Map.entry("FCGI_MAX_CONNS", "10"))));
    }

    @Test
    void rejectsBadVersionAndStaysBroken() {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(hex("03 06 0001 0000 00 00"))))
                .isInstanceOf(FcgiProtocolException.class)
                .hasMessage("version: 3 (expected: 1)");
        FcgiRecordDecoder decoder = ch.pipeline().get(FcgiRecordDecoder.class);
        assertThat(decoder.state()).isEqualTo(FcgiRecordDecoder.State.BAD_MESSAGE);
        // A well-formed record afterwards is discarded: the connection is done.
        ch.writeInbound(Unpooled.wrappedBuffer(hex(RESPONSE)));
        Object after = ch.readInbound();
        assertThat(after).isNull();
        assertThat(ch.finish()).isFalse();
    }

    /**
     * A GET_VALUES_RESULT whose one pair lacks its value length fails as a protocol error, which the exchange reports as
     * the backend's (502), and leaves the decoder terminal, not an IndexOutOfBoundsException with the record consumed
     * and the decoder still reading content.
     */
    @Test
    void rejectsAGetValuesResultCutInsideAPairAndStaysBroken() {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(hex("01 0a 0000 0001 00 00" + "05"))))
                .isInstanceOf(FcgiProtocolException.class)
                .hasMessage("valueLength: missing (expected: 1 or 4 bytes)");
        assertThat(ch.pipeline().get(FcgiRecordDecoder.class).state()).isEqualTo(FcgiRecordDecoder.State.BAD_MESSAGE);
        ch.writeInbound(Unpooled.wrappedBuffer(hex(RESPONSE)));
        Object after = ch.readInbound();
        assertThat(after).isNull();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void rejectsUnknownType() {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(hex("01 0c 0001 0000 00 00"))))
                .isInstanceOf(FcgiProtocolException.class)
                .hasMessage("type: 12 (expected: 1..11)");
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsImpossibleLengthsAndIdsBeforeReadingContent() {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        // Only the header: the check must not wait for the 5 content bytes.
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(hex("01 03 0001 0005 00 00"))))
                .hasMessage("contentLength: 5 (expected: 8 for END_REQUEST)");
        ch.finishAndReleaseAll();
        EmbeddedChannel ch2 = new EmbeddedChannel(new FcgiRecordDecoder());
        assertThatThrownBy(() -> ch2.writeInbound(Unpooled.wrappedBuffer(hex("01 06 0000 0000 00 00"))))
                .hasMessage("requestId: 0 (expected: > 0 for STDOUT)");
        ch2.finishAndReleaseAll();
        EmbeddedChannel ch3 = new EmbeddedChannel(new FcgiRecordDecoder());
        assertThatThrownBy(() -> ch3.writeInbound(
                Unpooled.wrappedBuffer(hex("01 03 0001 0008 00 00 00000000 07 000000"))))
                .hasMessage("protocolStatus: 7 (expected: 0..3)");
        ch3.finishAndReleaseAll();
    }

    @Test
    void truncatedRecordAtCloseIsAnError() {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 06 0001 0064 00 00 41424344")));
        assertThatThrownBy(ch::finish)
                .isInstanceOf(FcgiProtocolException.class)
                .hasMessage("content: 4 bytes at end of stream (expected: 100 for STDOUT)");
        EmbeddedChannel ch2 = new EmbeddedChannel(new FcgiRecordDecoder());
        ch2.writeInbound(Unpooled.wrappedBuffer(hex("01 06 00")));
        assertThatThrownBy(ch2::finish).hasMessage("header: 3 bytes at end of stream (expected: 8)");
    }

    /** A record delivered with its padding still to come leaves the decoder between records; its header does not. */
    @Test
    void aRecordWhosePaddingIsStillToComeIsBetweenRecords() {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        FcgiRecordDecoder decoder = ch.pipeline().get(FcgiRecordDecoder.class);
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 06 0001 0001 07 00 41")));
        assertThat(ch.<Object>readInbound()).isInstanceOf(io.edge.fastcgi.codec.FcgiStdout.class)
                .satisfies(io.netty.util.ReferenceCountUtil::release);
        assertThat(decoder.isAtRecordBoundary()).isTrue();
        ch.writeInbound(Unpooled.wrappedBuffer(hex("0000000000 0000 01 06")));
        assertThat(decoder.isAtRecordBoundary()).as("a header begun").isFalse();
        assertThatThrownBy(ch::finish).hasMessage("header: 2 bytes at end of stream (expected: 8)");
    }

    @Test
    void cleanCloseBetweenRecordsIsFine() {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 06 0001 0000 00 00")));
        assertThat(ch.pipeline().get(FcgiRecordDecoder.class).isAtRecordBoundary()).isTrue();
        assertThat(ch.finishAndReleaseAll()).isTrue();
    }

    @Test
    void roundTripsEveryMessageThroughEncoder() {
        byte[] big = new byte[70000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        EmbeddedChannel enc = new EmbeddedChannel(new FcgiRecordEncoder());
        enc.writeOutbound(new FcgiBeginRequest(1, FcgiRole.RESPONDER, false),
                new FcgiStdin(1, Unpooled.wrappedBuffer(big)), // PARAMS would be cut between pairs: any bytes here
                new FcgiParams(1, Unpooled.EMPTY_BUFFER),
                new FcgiStdin(1, Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)),
                new FcgiGetValues(List.of("FCGI_MPXS_CONNS")),
                new FcgiEndRequest(1, 0xffffffffL, FcgiProtocolStatus.UNKNOWN_ROLE));
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = enc.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        byte[] wire = new byte[all.readableBytes()];
        all.readBytes(wire);
        all.release();
        List<Object> out = decode(wire, false);
        assertThat(out).hasSize(7);
        assertThat(out.get(0)).isEqualTo(new FcgiBeginRequest(1, FcgiRole.RESPONDER, false));
        FcgiStdin first = (FcgiStdin) out.get(1);
        FcgiStdin second = (FcgiStdin) out.get(2);
        assertThat(first.content().readableBytes()).isEqualTo(65535);
        assertThat(second.content().readableBytes()).isEqualTo(70000 - 65535);
        assertThat(second.content().getByte(0)).isEqualTo((byte) 65535);
        assertThat(((FcgiParams) out.get(3)).isEndOfStream()).isTrue();
        assertThat(((FcgiStdin) out.get(4)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
        assertThat(out.get(5)).isEqualTo(new FcgiGetValues(List.of("FCGI_MPXS_CONNS")));
        assertThat(out.get(6)).isEqualTo(new FcgiEndRequest(1, 0xffffffffL, FcgiProtocolStatus.UNKNOWN_ROLE));
        for (Object o : out.subList(1, 5)) {
            ((FcgiStreamRecord) o).release();
        }
        assertThat(enc.finish()).isFalse();
    }
}
