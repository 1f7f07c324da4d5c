package io.edge.fastcgi.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.fastcgi.FcgiProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FcgiNameValuesTest {

    @Test
    void oneByteLengths() {
        ByteBuf buf = FcgiNameValues.encode(UnpooledByteBufAllocator.DEFAULT, List.of(Map.entry("A", "bc")));
        assertThat(ByteBufUtil.hexDump(buf)).isEqualTo("0102" + "41" + "6263");
        assertThat(FcgiNameValues.decode(buf)).containsExactly(Map.entry("A", "bc"));
        buf.release();
    }

    @Test
    void fourByteLengthsFrom128() {
        String value = "v".repeat(128);
        ByteBuf buf = FcgiNameValues.encode(UnpooledByteBufAllocator.DEFAULT, List.of(Map.entry("N", value)));
        assertThat(ByteBufUtil.hexDump(buf, 0, 5)).isEqualTo("0180000080");
        assertThat(FcgiNameValues.encodedLength("N", value)).isEqualTo(buf.readableBytes()).isEqualTo(134);
        assertThat(FcgiNameValues.decode(buf)).containsExactly(Map.entry("N", value));
        buf.release();
    }

    @Test
    void bytesAboveAsciiSurviveAsLatin1() {
        ByteBuf buf = FcgiNameValues.encode(UnpooledByteBufAllocator.DEFAULT, List.of(Map.entry("X", "\u00e9")));
        assertThat(ByteBufUtil.hexDump(buf)).isEqualTo("0101" + "58" + "e9");
        buf.release();
    }

    @Test
    void truncatedPairIsAProtocolError() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFormat.of().parseHex("0105" + "41" + "6263"));
        assertThatThrownBy(() -> FcgiNameValues.decode(buf))
                .isInstanceOf(FcgiProtocolException.class)
                .hasMessage("nameLength + valueLength: 6 (expected: <= 3 remaining bytes)");
        ByteBuf cut = Unpooled.wrappedBuffer(HexFormat.of().parseHex("8000"));
        assertThatThrownBy(() -> FcgiNameValues.decode(cut)).hasMessageStartingWith("nameLength:");
    }

    /** A name length as the last byte, its value length missing: found by fuzzing a GET_VALUES_RESULT. */
    @Test
    void aMissingValueLengthIsAProtocolError() {
        ByteBuf buf = Unpooled.wrappedBuffer(HexFormat.of().parseHex("05"));
        assertThatThrownBy(() -> FcgiNameValues.decode(buf))
                .isInstanceOf(FcgiProtocolException.class)
                .hasMessage("valueLength: missing (expected: 1 or 4 bytes)");
    }

    @Test
    void aPairLongerThanARecordIsNamed() {
        String fits = "f".repeat(65535 - 4 - 1 - "FITS".length());
        ByteBuf buf = FcgiNameValues.encode(UnpooledByteBufAllocator.DEFAULT, List.of(Map.entry("FITS", fits),
                Map.entry("HTTP_COOKIE", "c".repeat(70_000)), Map.entry("LATER", "l".repeat(70_000))));
        assertThat(FcgiNameValues.pairLongerThanARecord(buf)).isEqualTo("HTTP_COOKIE");
        assertThat(buf.readerIndex()).isZero();
        buf.release();
        ByteBuf small = FcgiNameValues.encode(UnpooledByteBufAllocator.DEFAULT, List.of(Map.entry("FITS", fits),
                Map.entry("A", "b")));
        assertThat(FcgiNameValues.pairLongerThanARecord(small)).isNull();
        small.release();
    }

    /** The longest value a name may have in one record is one whose pair is the whole record, and no byte more. */
    @Test
    void theLongestValueInARecordMakesAPairOfExactlyARecord() {
        for (String name : List.of("A", "APP_ENV", "N".repeat(200))) {
            int longest = FcgiNameValues.longestValueInARecord(name);
            assertThat(FcgiNameValues.encodedLength(name, "v".repeat(longest))).as(name).isEqualTo(65535);
            ByteBuf over = FcgiNameValues.encode(UnpooledByteBufAllocator.DEFAULT,
                    List.of(Map.entry(name, "v".repeat(longest + 1))));
            assertThat(FcgiNameValues.pairLongerThanARecord(over)).isEqualTo(name);
            over.release();
        }
        assertThat(FcgiNameValues.longestValueInARecord("APP_ENV")).isEqualTo(65535 - 7 - 1 - 4);
    }
}
