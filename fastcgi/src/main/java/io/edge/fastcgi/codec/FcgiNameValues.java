package io.edge.fastcgi.codec;

import io.edge.fastcgi.FcgiProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Name-value pairs, the body of PARAMS, GET_VALUES and GET_VALUES_RESULT:
 * {@code nameLength valueLength nameData valueData}, where a length below 128 takes one byte and any other
 * takes four with the top bit set ({@code 1xxxxxxx xxxxxxxx xxxxxxxx xxxxxxxx}, at most 2^31-1).
 *
 * <p>Names and values are byte strings: each char is one byte (ISO-8859-1), as in Netty's HTTP headers.
 * Text that is Unicode (a decoded path) must be turned into UTF-8 bytes first ({@code CgiParams} does).
 */
public final class FcgiNameValues {

    private static final int MAX_LENGTH = Integer.MAX_VALUE;

    private FcgiNameValues() {
    }

    /** Bytes that {@link #encode(ByteBuf, CharSequence, CharSequence)} writes for this pair. */
    public static int encodedLength(CharSequence name, CharSequence value) {
        return lengthSize(name.length()) + lengthSize(value.length()) + name.length() + value.length();
    }

    public static void encode(ByteBuf out, CharSequence name, CharSequence value) {
        writeLength(out, name.length());
        writeLength(out, value.length());
        out.writeCharSequence(name, StandardCharsets.ISO_8859_1);
        out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
    }

    /** Bytes that {@link #encode(ByteBuf, byte[], int, CharSequence)} writes for this pair. */
    public static int encodedLength(int nameLength, CharSequence value) {
        return lengthSize(nameLength) + lengthSize(value.length()) + nameLength + value.length();
    }

    /** Writes one pair whose name is already bytes: {@code name[0 .. nameLength)}. */
    public static void encode(ByteBuf out, byte[] name, int nameLength, CharSequence value) {
        int valueLength = value.length();
        if (nameLength < 128 && valueLength < 128) {
            out.writeShort(nameLength << 8 | valueLength);
        } else {
            writeLength(out, nameLength);
            writeLength(out, valueLength);
        }
        out.writeBytes(name, 0, nameLength);
        out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
    }

    /** Encodes all pairs into one new buffer, owned by the caller. */
    public static ByteBuf encode(ByteBufAllocator alloc, List<? extends Map.Entry<String, String>> pairs) {
        int size = 0;
        for (Map.Entry<String, String> p : pairs) {
            size += encodedLength(p.getKey(), p.getValue());
        }
        ByteBuf out = alloc.buffer(size);
        for (Map.Entry<String, String> p : pairs) {
            encode(out, p.getKey(), p.getValue());
        }
        return out;
    }

    /**
     * The most bytes a value of {@code name} may have for their pair to fit in one record (65535 bytes), as
     * {@link #pairLongerThanARecord} asks of every pair sent: the record less the name and the two lengths.
     */
    public static int longestValueInARecord(CharSequence name) {
        return FcgiRecordEncoder.MAX_CONTENT_LENGTH - name.length() - lengthSize(name.length()) - lengthSize(Short.MAX_VALUE);
    }

    /**
     * The name of the first pair in {@code pairs}' readable bytes longer than one record (65535 bytes), or null. php-fpm
     * decodes each PARAMS record on its own, so it cannot take such a pair. Reads nothing.
     */
    public static String pairLongerThanARecord(ByteBuf pairs) {
        if (pairs.readableBytes() <= FcgiRecordEncoder.MAX_CONTENT_LENGTH) {
            return null; // every request's params but the rarest: no pair to look at
        }
        for (int at = pairs.readerIndex(); at < pairs.writerIndex(); ) {
            int end = pairEnd(pairs, at);
            if (end - at > FcgiRecordEncoder.MAX_CONTENT_LENGTH) {
                int valueLengthAt = at + lengthBytesAt(pairs, at);
                int nameAt = valueLengthAt + lengthBytesAt(pairs, valueLengthAt);
                return pairs.toString(nameAt, Math.min(lengthAt(pairs, at), end - nameAt), StandardCharsets.ISO_8859_1);
            }
            at = end;
        }
        return null;
    }

    /**
     * Bytes of the whole pairs at the start of {@code in}'s readable bytes that fit in {@code max}: 0 when the first
     * is longer. Reads nothing.
     */
    static int wholePairsWithin(ByteBuf in, int max) {
        int start = in.readerIndex();
        int at = start;
        while (at < in.writerIndex()) {
            int end = pairEnd(in, at);
            if (end - start > max) {
                break;
            }
            at = end;
        }
        return at - start;
    }

    /** Where the pair starting at index {@code at} of {@code in} ends; at most its writer index. Reads nothing. */
    static int pairEnd(ByteBuf in, int at) {
        int end = in.writerIndex();
        long position = at;
        long lengths = 0;
        for (int field = 0; field < 2 && position < end; field++) {
            int bytes = lengthBytesAt(in, (int) position);
            lengths += position + bytes <= end ? lengthAt(in, (int) position) : 0; // a cut-off length counts nothing
            position += bytes;
        }
        return (int) Math.min(position + lengths, end);
    }

    /**
     * Decodes every pair in the readable bytes of {@code in} (which it consumes).
     *
     * @throws FcgiProtocolException when a length, or the pair it announces, runs past the end of the buffer
     */
    public static List<Map.Entry<String, String>> decode(ByteBuf in) {
        List<Map.Entry<String, String>> pairs = new ArrayList<>();
        while (in.isReadable()) {
            int nameLength = readLength(in, "nameLength");
            int valueLength = readLength(in, "valueLength");
            if ((long) nameLength + valueLength > in.readableBytes()) {
                throw FcgiProtocolException.of("nameLength + valueLength", (long) nameLength + valueLength,
                        "<= " + in.readableBytes() + " remaining bytes");
            }
            String name = in.readCharSequence(nameLength, StandardCharsets.ISO_8859_1).toString();
            String value = in.readCharSequence(valueLength, StandardCharsets.ISO_8859_1).toString();
            pairs.add(Map.entry(name, value));
        }
        return pairs;
    }

    private static int lengthSize(int length) {
        return length < 128 ? 1 : 4;
    }

    private static void writeLength(ByteBuf out, int length) {
        if (length < 128) {
            out.writeByte(length);
        } else {
            out.writeInt(length | 0x80000000);
        }
    }

    /** The length written at index {@code at}: one byte below 128, else four with the top bit set. */
    private static int lengthAt(ByteBuf in, int at) {
        int first = in.getUnsignedByte(at);
        return first < 128 ? first : in.getInt(at) & MAX_LENGTH;
    }

    private static int lengthBytesAt(ByteBuf in, int at) {
        return in.getUnsignedByte(at) < 128 ? 1 : 4;
    }

    private static int readLength(ByteBuf in, String field) {
        if (!in.isReadable()) { // a name length as the pairs' last byte: its value length never came
            throw FcgiProtocolException.of(field, "missing", "1 or 4 bytes");
        }
        int first = in.getUnsignedByte(in.readerIndex());
        if (first < 128) {
            in.skipBytes(1);
            return first;
        }
        if (in.readableBytes() < 4) {
            throw FcgiProtocolException.of(field, "4-byte length with " + in.readableBytes() + " bytes left",
                    "4 bytes");
        }
        return in.readInt() & MAX_LENGTH;
    }
}
