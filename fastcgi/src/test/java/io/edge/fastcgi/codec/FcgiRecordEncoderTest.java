package io.edge.fastcgi.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class FcgiRecordEncoderTest {

    private static String encodeHex(Object msg) {
        EmbeddedChannel ch = new EmbeddedChannel(new FcgiRecordEncoder());
        ch.writeOutbound(msg);
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            sb.append(ByteBufUtil.hexDump(b));
            b.release();
        }
        assertThat(ch.finish()).isFalse();
        return sb.toString();
    }

    @Test
    void beginRequestWithKeepConn() {
        assertThat(encodeHex(new FcgiBeginRequest(1, FcgiRole.RESPONDER, true)))
                .isEqualTo("0101000100080000" + "0001010000000000");
    }

    @Test
    void padsContentToMultipleOfEight() {
        assertThat(encodeHex(new FcgiStdin(1, Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII))))
                .isEqualTo("0105000100050300" + "68656c6c6f" + "000000");
        assertThat(encodeHex(new FcgiStdin(1, Unpooled.copiedBuffer("12345678", StandardCharsets.US_ASCII))))
                .isEqualTo("0105000100080000" + "3132333435363738");
    }

    @Test
    void emptyPayloadEndsTheStream() {
        assertThat(encodeHex(new FcgiParams(258, Unpooled.EMPTY_BUFFER))).isEqualTo("0104010200000000");
    }

    @Test
    void splitsPayloadAt65535Bytes() {
        String hex = encodeHex(new FcgiStdin(1, Unpooled.wrappedBuffer(new byte[70000])));
        // record 1: 65535 bytes + 1 padding; record 2: 4465 bytes + 7 padding
        assertThat(hex.length() / 2).isEqualTo(8 + 65535 + 1 + 8 + 4465 + 7);
        assertThat(hex).startsWith("01050001" + "ffff0100");
        int second = (8 + 65535 + 1) * 2;
        assertThat(hex.substring(second, second + 16)).isEqualTo("0105000111710700");
    }

    @Test
    void paramsRecordsEndBetweenPairs() {
        // two pairs of 40000 + 40000 bytes: php-fpm reads each PARAMS record on its own, so the first record holds
        // the first pair alone instead of 65535 bytes that end inside the second
        ByteBuf pairs = Unpooled.buffer();
        FcgiNameValues.encode(pairs, "A", "a".repeat(40_000 - 10));
        FcgiNameValues.encode(pairs, "B", "b".repeat(40_000 - 10));
        int pairLength = 1 + 4 + 1 + 39_990; // name length, value length, name, value
        assertThat(pairs.readableBytes()).isEqualTo(2 * pairLength);
        String hex = encodeHex(new FcgiParams(1, pairs));
        int padding = FcgiRecordEncoder.padding(pairLength);
        assertThat(hex.length() / 2).isEqualTo(2 * (8 + pairLength + padding));
        assertThat(hex.substring(0, 16)).isEqualTo("01040001" + String.format("%04x%02x00", pairLength, padding));
        int second = (8 + pairLength + padding) * 2;
        assertThat(hex.substring(second, second + 16))
                .isEqualTo("01040001" + String.format("%04x%02x00", pairLength, padding));
        assertThat(hex.substring(second + 16, second + 16 + 12)).isEqualTo("01" + "80009c36" + "42");
    }

    @Test
    void aParamsPairLongerThanARecordIsCutAndThePairAfterItStartsARecord() {
        ByteBuf pairs = Unpooled.buffer();
        FcgiNameValues.encode(pairs, "A", "a".repeat(70_000));
        FcgiNameValues.encode(pairs, "C", "c");
        String hex = encodeHex(new FcgiParams(1, pairs));
        assertThat(hex).startsWith("01040001" + "ffff0100");
        int rest = 1 + 4 + 1 + 70_000 - 65535;
        int third = (8 + 65535 + 1 + 8 + rest + FcgiRecordEncoder.padding(rest)) * 2;
        assertThat(hex.substring((8 + 65535 + 1) * 2, (8 + 65535 + 1) * 2 + 16))
                .isEqualTo("01040001" + String.format("%04x%02x00", rest, FcgiRecordEncoder.padding(rest)));
        assertThat(hex.substring(third)).isEqualTo("01040001" + "00040400" + "01014363" + "00000000");
    }

    @Test
    void paddingFormula() {
        assertThat(FcgiRecordEncoder.padding(0)).isZero();
        assertThat(FcgiRecordEncoder.padding(1)).isEqualTo(7);
        assertThat(FcgiRecordEncoder.padding(8)).isZero();
        assertThat(FcgiRecordEncoder.padding(65535)).isEqualTo(1);
    }
}
