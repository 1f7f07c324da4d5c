package io.edge.core.statics;

import io.edge.core.statics.ByteRanges.Range;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The body of a {@code multipart/byteranges} 206 (RFC 9110 §14.6) as pieces to write in order: part
 * headers as text, file contents as slices the responder sends through its file engine.
 *
 * <pre>
 * CRLF "--" boundary CRLF
 * "Content-Type: " type CRLF
 * "Content-Range: bytes " first "-" last "/" length CRLF
 * CRLF
 * &lt;bytes first..last of the file&gt;
 * ... one such part per range ...
 * CRLF "--" boundary "--" CRLF
 * </pre>
 *
 * <p>Instances are immutable and hold no buffers, so the same value serves HEAD (only
 * {@link #contentLength()}) and GET; {@link Text#buffer()} wraps the bytes in a new buffer the caller owns.
 */
public final class MultipartByteranges {

    /** One piece of the body. */
    public sealed interface Piece permits Text, Slice {
        long length();
    }

    /** Delimiter and part header bytes. */
    public record Text(byte[] bytes) implements Piece {
        public Text {
            bytes = bytes.clone();
        }

        @Override
        public long length() {
            return bytes.length;
        }

        /** A new buffer over these bytes; the caller owns it (writing it passes it on). */
        public ByteBuf buffer() {
            return Unpooled.wrappedBuffer(bytes.clone());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Text t && java.util.Arrays.equals(bytes, t.bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Text(" + new String(bytes, StandardCharsets.US_ASCII) + ")";
        }
    }

    /** {@code length} bytes of the file from {@code offset}. */
    public record Slice(long offset, long length) implements Piece {
    }

    private final String boundary;
    private final List<Piece> pieces;
    private final long contentLength;

    private MultipartByteranges(String boundary, List<Piece> pieces) {
        this.boundary = boundary;
        this.pieces = List.copyOf(pieces);
        long total = 0;
        for (Piece piece : pieces) {
            total += piece.length();
        }
        this.contentLength = total;
    }

    /**
     * @param ranges           the ranges, as {@link ByteRanges.Partial} gives them
     * @param fileLength       the representation length
     * @param partContentType  the media type of the file (each part's {@code Content-Type})
     * @param boundary         from {@link #newBoundary()} (tests pass a fixed one)
     */
    public static MultipartByteranges of(List<Range> ranges, long fileLength, String partContentType, String boundary) {
        Objects.requireNonNull(partContentType, "partContentType");
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            throw new IllegalArgumentException("boundary: 1 to 70 characters (RFC 2046)");
        }
        List<Piece> pieces = new ArrayList<>(ranges.size() * 2 + 1);
        for (Range range : ranges) {
            if (range.last() >= fileLength) {
                throw new IllegalArgumentException("range " + range + " beyond " + fileLength + " bytes");
            }
            pieces.add(text("\r\n--" + boundary + "\r\nContent-Type: " + partContentType
                    + "\r\nContent-Range: " + range.contentRange(fileLength) + "\r\n\r\n"));
            pieces.add(new Slice(range.first(), range.length()));
        }
        pieces.add(text("\r\n--" + boundary + "--\r\n"));
        return new MultipartByteranges(boundary, pieces);
    }

    /** A random boundary of 32 hex digits. */
    public static String newBoundary() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return String.format("%016x%016x", random.nextLong(), random.nextLong());
    }

    private static Text text(String s) {
        return new Text(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** The response's {@code Content-Type}. */
    public String contentType() {
        return "multipart/byteranges; boundary=" + boundary;
    }

    /** The exact body length, for {@code Content-Length}. */
    public long contentLength() {
        return contentLength;
    }

    /** The body, in order. */
    public List<Piece> pieces() {
        return pieces;
    }
}
