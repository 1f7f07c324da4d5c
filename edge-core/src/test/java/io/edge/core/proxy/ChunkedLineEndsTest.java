package io.edge.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ChunkedLineEndsTest {

    /** What the codec gets of {@code answer}, fed whole, and fed one byte at a time: the same bytes either way. */
    private static String through(boolean bodiless, String answer) {
        String whole = fed(bodiless, answer, answer.length());
        assertThat(fed(bodiless, answer, 1)).isEqualTo(whole);
        return whole;
    }

    private static String fed(boolean bodiless, String answer, int piece) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChunkedLineEnds(bodiless));
        byte[] bytes = answer.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < bytes.length; i += piece) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(piece, bytes.length - i)));
        }
        StringBuilder out = new StringBuilder();
        for (ByteBuf read; (read = channel.readInbound()) != null; ) {
            out.append(read.toString(StandardCharsets.ISO_8859_1));
            read.release();
        }
        assertThat(channel.finish()).isFalse();
        return out.toString();
    }

    @Test
    void aChunkedBodysBareLineFeedsGetACarriageReturnItsDataNone() {
        assertThat(through(false, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
                + "5;x=y\nhe\nlo\n3\r\nab\n\r\n0\nTrailer: t\n\nrest\n"))
                .isEqualTo("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5;x=y\r\nhe\nlo\r\n3\r\nab\n\r\n0\r\nTrailer: t\r\n\r\nrest\n");
    }

    @Test
    void interimAnswersAndAFoldedTransferEncodingAreFollowed() {
        assertThat(through(false, "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nTransfer-Encoding: gzip,\n chunked\n\n"
                + "1\nx\n0\n\n"))
                .isEqualTo("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n"
                        + " chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n");
    }

    @Test
    void aBodyNotChunkedPassesAsItCame() {
        assertThat(through(false, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\na\nb\n"))
                .isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\na\nb\n");
        // a HEAD's answer, a 204's, an HTTP/1.0 one and a 101's have no chunked body whatever their heads say
        assertThat(through(true, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n"))
                .endsWith("\r\n\r\n1\nx\n");
        assertThat(through(false, "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n"))
                .endsWith("\r\n\r\n1\nx\n");
        assertThat(through(false, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n"))
                .endsWith("\r\n\r\n1\nx\n");
        assertThat(through(false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\n\n"))
                .endsWith("\r\n\r\n\n\n");
    }

    @Test
    void whatNettyRefusesIsLeftForItToRefuse() {
        // a size that is no hex number, bytes after a chunk's data: as they came, from there on
        assertThat(through(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\nx\n"))
                .endsWith("\r\n\r\nzz\r\nx\n");
        assertThat(through(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nxy\n0\n\n"))
                .endsWith("\r\n\r\n1\r\nxy\r\n0\n\n");
        assertThat(through(false, "garbage\nmore\n")).isEqualTo("garbage\r\nmore\n");
    }

    @Test
    void chunkSizesAreHexUpToTheirExtensions() {
        assertThat(ChunkedLineEnds.chunkSize("1F")).isEqualTo(31);
        assertThat(ChunkedLineEnds.chunkSize("a ; name=value")).isEqualTo(10);
        assertThat(ChunkedLineEnds.chunkSize("+5")).isEqualTo(-1);
        assertThat(ChunkedLineEnds.chunkSize("")).isEqualTo(-1);
        assertThat(ChunkedLineEnds.chunkSize("123456789")).isEqualTo(-1);
        assertThat(ChunkedLineEnds.chunkSize("80000000")).isEqualTo(-1);
    }

    /**
     * Netty's decoder takes a size of any number of digits up to 2^31 - 1 (leading zeros), and a status line whose
     * parts are apart by more than one space; so does nginx (a chunked body read whole where this handler passed
     * on, before, what followed as it came, and the codec cut the answer at its first bare LF).
     */
    @Test
    void whatNettyTakesIsFollowed() {
        assertThat(ChunkedLineEnds.chunkSize("0000000005")).isEqualTo(5);
        assertThat(ChunkedLineEnds.chunkSize("7fffffff")).isEqualTo(Integer.MAX_VALUE);
        assertThat(through(false, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n0000000005\nhello\n0\n\n"))
                .endsWith("\r\n\r\n0000000005\r\nhello\r\n0\r\n\r\n");
        assertThat(through(false, "HTTP/1.1  200\tOK\nTransfer-Encoding: chunked\n\n1\nx\n0\n\n"))
                .endsWith("\r\n\r\n1\r\nx\r\n0\r\n\r\n");
        assertThat(through(false, "HTTP/1.1 200\nTransfer-Encoding: chunked\n\n1\nx\n0\n\n"))
                .endsWith("\r\n\r\n1\r\nx\r\n0\r\n\r\n");
    }
}
