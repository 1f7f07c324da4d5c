package io.edge.core.statics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.core.statics.ByteRanges.Range;
import io.edge.core.statics.MultipartByteranges.Piece;
import io.edge.core.statics.MultipartByteranges.Slice;
import io.edge.core.statics.MultipartByteranges.Text;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultipartByterangesTest {

    static final String FILE = "0123456789abcdefghij";

    @Test
    void bodyLayoutAndExactLength() {
        MultipartByteranges body = MultipartByteranges.of(
                List.of(new Range(0, 3), new Range(10, 19)), FILE.length(), "text/plain", "BOUND");
        assertThat(body.contentType()).isEqualTo("multipart/byteranges; boundary=BOUND");

        StringBuilder rendered = new StringBuilder();
        for (Piece piece : body.pieces()) {
            if (piece instanceof Text text) {
                ByteBuf buf = text.buffer();
                try {
                    rendered.append(buf.toString(StandardCharsets.US_ASCII));
                } finally {
                    buf.release();
                }
            } else {
                Slice slice = (Slice) piece;
                rendered.append(FILE, (int) slice.offset(), (int) (slice.offset() + slice.length()));
            }
        }
        assertThat(rendered.toString()).isEqualTo(
                "\r\n--BOUND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-3/20\r\n\r\n0123"
                + "\r\n--BOUND\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-19/20\r\n\r\nabcdefghij"
                + "\r\n--BOUND--\r\n");
        assertThat(body.contentLength()).isEqualTo(rendered.length());
        assertThat(body.pieces()).hasSize(5);
    }

    @Test
    void boundaries() {
        String boundary = MultipartByteranges.newBoundary();
        assertThat(boundary).matches("[0-9a-f]{32}");
        assertThat(MultipartByteranges.newBoundary()).isNotEqualTo(boundary);
        assertThatThrownBy(() -> MultipartByteranges.of(List.of(new Range(0, 20)), 20, "text/plain", "B"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
