package io.edge.core.tls;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One DER element (X.690) of a byte array: its tag, and where its contents lie. Enough of ASN.1 for OCSP's
 * requests and responses (RFC 6960), which the JDK parses only inside its own certificate path checker:
 * <pre>
 *   tag (1 byte, low-tag-number form) | length (short form < 0x80, or 0x8N then N bytes) | contents
 * </pre>
 * Every length is checked against what holds it before a byte is read; a fault is an {@link IllegalArgumentException}
 * naming what was wrong where.
 */
final class Der {

    static final int INTEGER = 0x02;
    static final int BIT_STRING = 0x03;
    static final int OCTET_STRING = 0x04;
    static final int NULL = 0x05;
    static final int OID = 0x06;
    static final int ENUMERATED = 0x0A;
    static final int GENERALIZED_TIME = 0x18;
    static final int SEQUENCE = 0x30;

    private final byte[] bytes;
    private final int tag;
    private final int start;
    private final int contentStart;
    private final int end;

    private Der(byte[] bytes, int tag, int start, int contentStart, int end) {
        this.bytes = bytes;
        this.tag = tag;
        this.start = start;
        this.contentStart = contentStart;
        this.end = end;
    }

    /** The element that is the whole of {@code bytes}. */
    static Der parse(byte[] bytes) {
        Der element = at(bytes, 0, bytes.length);
        if (element.end != bytes.length) {
            throw new IllegalArgumentException("length: " + (bytes.length - element.end)
                    + " bytes after the element (expected: none)");
        }
        return element;
    }

    private static Der at(byte[] bytes, int offset, int limit) {
        if (limit - offset < 2) {
            throw new IllegalArgumentException("element at " + offset + ": " + (limit - offset)
                    + " bytes (expected: at least a tag and a length)");
        }
        int tag = bytes[offset] & 0xff;
        if ((tag & 0x1f) == 0x1f) {
            throw new IllegalArgumentException("tag: 0x" + Integer.toHexString(tag) + " at " + offset
                    + " (expected: a low tag number)");
        }
        int first = bytes[offset + 1] & 0xff;
        int position = offset + 2;
        long length;
        if (first < 0x80) {
            length = first;
        } else {
            int count = first & 0x7f;
            if (count == 0 || count > 4 || position + count > limit) {
                throw new IllegalArgumentException("length: 0x" + Integer.toHexString(first) + " at " + (offset + 1)
                        + " (expected: a definite length of 1 to 4 bytes within the element)");
            }
            length = 0;
            for (int i = 0; i < count; i++) {
                length = length << 8 | bytes[position++] & 0xff;
            }
        }
        if (length > limit - position) {
            throw new IllegalArgumentException("length: " + length + " at " + (offset + 1) + " (expected: <= "
                    + (limit - position) + ", what is left)");
        }
        return new Der(bytes, tag, offset, position, position + (int) length);
    }

    int tag() {
        return tag;
    }

    /** The elements this constructed one holds, in order. */
    List<Der> children() {
        List<Der> children = new ArrayList<>();
        for (int position = contentStart; position < end; ) {
            Der child = at(bytes, position, end);
            children.add(child);
            position = child.end;
        }
        return children;
    }

    /** This element's {@code index}th child, which must have {@code expectedTag}. */
    Der child(int index, int expectedTag, String what) {
        List<Der> children = children();
        if (index >= children.size() || children.get(index).tag != expectedTag) {
            throw new IllegalArgumentException(what + ": " + (index >= children.size() ? "missing"
                    : "tag 0x" + Integer.toHexString(children.get(index).tag)) + " (expected: tag 0x"
                    + Integer.toHexString(expectedTag) + ")");
        }
        return children.get(index);
    }

    /** The contents, without tag and length. */
    byte[] content() {
        return Arrays.copyOfRange(bytes, contentStart, end);
    }

    /** The whole element, tag and length too. */
    byte[] encoded() {
        return Arrays.copyOfRange(bytes, start, end);
    }

    /** An OBJECT IDENTIFIER's dotted form. */
    String oid() {
        StringBuilder dotted = new StringBuilder();
        long value = 0;
        boolean first = true;
        for (int i = contentStart; i < end; i++) {
            value = value << 7 | bytes[i] & 0x7f;
            if ((bytes[i] & 0x80) == 0) {
                if (first) {
                    int arc = (int) Math.min(2, value / 40);
                    dotted.append(arc).append('.').append(value - 40L * arc);
                    first = false;
                } else {
                    dotted.append('.').append(value);
                }
                value = 0;
            }
        }
        return dotted.toString();
    }

    /** A BIT STRING's bits, whole bytes (the unused-bits count must be 0). */
    byte[] bits() {
        if (end == contentStart || bytes[contentStart] != 0) {
            throw new IllegalArgumentException("bit string: not whole bytes (expected: 0 unused bits)");
        }
        return Arrays.copyOfRange(bytes, contentStart + 1, end);
    }

    /** The DER of an element of {@code tag} holding {@code content}. */
    static byte[] encode(int tag, byte[]... content) {
        ByteArrayOutputStream contents = new ByteArrayOutputStream();
        for (byte[] part : content) {
            contents.writeBytes(part);
        }
        ByteArrayOutputStream element = new ByteArrayOutputStream();
        element.write(tag);
        int length = contents.size();
        if (length < 0x80) {
            element.write(length);
        } else {
            int count = (32 - Integer.numberOfLeadingZeros(length) + 7) / 8;
            element.write(0x80 | count);
            for (int i = count - 1; i >= 0; i--) {
                element.write(length >>> 8 * i);
            }
        }
        element.writeBytes(contents.toByteArray());
        return element.toByteArray();
    }
}
