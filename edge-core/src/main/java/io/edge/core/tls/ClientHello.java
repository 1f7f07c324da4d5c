package io.edge.core.tls;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * What a TLS ClientHello offers that decides which of a site's certificates answers it (RFC 8446 4.1.2, RFC 5246
 * 7.4.1.2): its versions, cipher suites, signature algorithms and groups, each in the client's order, GREASE values
 * (RFC 8701) left out.
 * <pre>
 *   legacy_version(2) random(32) session_id<0..32> cipher_suites<2..2^16-2> compression_methods<1..2^8-1>
 *   extensions<0..2^16-1>: each type(2) length(2) data
 *     supported_versions(43):   versions<2..254>, two bytes each
 *     signature_algorithms(13): schemes<2..2^16-2>, two bytes each
 *     supported_groups(10):     groups<2..2^16-1>, two bytes each
 * </pre>
 *
 * @param legacyVersion    legacy_version (0x0303 from a TLSv1.3 client, which lists its versions in
 *                         {@code versions})
 * @param versions         supported_versions', empty without the extension
 * @param cipherSuites     cipher_suites
 * @param signatureSchemes signature_algorithms', null without the extension (RFC 5246 7.4.1.4.1: SHA-1 with the
 *                         suite's key type)
 * @param groups           supported_groups', null without the extension (any curve)
 */
record ClientHello(int legacyVersion, List<Integer> versions, List<Integer> cipherSuites,
        List<Integer> signatureSchemes, List<Integer> groups) {

    static final int TLS1_2 = 0x0303;
    static final int TLS1_3 = 0x0304;
    private static final int SUPPORTED_VERSIONS = 43;
    private static final int SIGNATURE_ALGORITHMS = 13;
    private static final int SUPPORTED_GROUPS = 10;

    /**
     * The offer of {@code body}, a ClientHello's body (after its handshake header) from its reader index, which is left
     * as it was; null where it is cut short or its lengths do not add up (the handshake fails on it anyway).
     */
    static ClientHello parse(ByteBuf body) {
        if (body == null) {
            return null;
        }
        int end = body.writerIndex();
        int offset = body.readerIndex();
        if (end - offset < 2 + 32 + 1) {
            return null;
        }
        int legacyVersion = body.getUnsignedShort(offset);
        offset += 2 + 32;
        offset += 1 + body.getUnsignedByte(offset); // session_id
        if (end - offset < 2) {
            return null;
        }
        int suitesLength = body.getUnsignedShort(offset);
        offset += 2;
        if (suitesLength % 2 != 0 || end - offset < suitesLength + 1) {
            return null;
        }
        List<Integer> suites = shorts(body, offset, suitesLength);
        offset += suitesLength;
        offset += 1 + body.getUnsignedByte(offset); // compression_methods
        List<Integer> versions = List.of();
        List<Integer> schemes = null;
        List<Integer> groups = null;
        if (end - offset >= 2) {
            int extensionsEnd = offset + 2 + body.getUnsignedShort(offset);
            offset += 2;
            if (extensionsEnd > end) {
                return null;
            }
            while (extensionsEnd - offset >= 4) {
                int type = body.getUnsignedShort(offset);
                int length = body.getUnsignedShort(offset + 2);
                offset += 4;
                if (extensionsEnd - offset < length) {
                    return null;
                }
                if (type == SUPPORTED_VERSIONS && length >= 1 && body.getUnsignedByte(offset) == length - 1
                        && (length - 1) % 2 == 0) {
                    versions = shorts(body, offset + 1, length - 1);
                } else if ((type == SIGNATURE_ALGORITHMS || type == SUPPORTED_GROUPS) && length >= 2
                        && body.getUnsignedShort(offset) == length - 2 && length % 2 == 0) {
                    List<Integer> values = shorts(body, offset + 2, length - 2);
                    if (type == SIGNATURE_ALGORITHMS) {
                        schemes = values;
                    } else {
                        groups = values;
                    }
                }
                offset += length;
            }
        }
        return new ClientHello(legacyVersion, versions, suites, schemes, groups);
    }

    /** The two-byte values of {@code length} bytes at {@code offset}, GREASE's (0x?A?A) left out. */
    private static List<Integer> shorts(ByteBuf body, int offset, int length) {
        List<Integer> values = new ArrayList<>(length / 2);
        for (int i = 0; i < length; i += 2) {
            int value = body.getUnsignedShort(offset + i);
            if ((value & 0x0f0f) != 0x0a0a || (value >> 8) != (value & 0xff)) {
                values.add(value);
            }
        }
        return List.copyOf(values);
    }

    /**
     * The version a server of {@code lowest} to {@code highest} (0x0303 TLSv1.2, 0x0304 TLSv1.3) agrees on: the
     * highest of supported_versions it takes, else legacy_version's or the server's highest below it; 0 for none.
     */
    int version(int lowest, int highest) {
        if (!versions.isEmpty()) {
            return versions.stream().filter(v -> v >= lowest && v <= highest).max(Integer::compare).orElse(0);
        }
        int version = Math.min(legacyVersion, Math.min(highest, TLS1_2)); // TLSv1.3 is offered by supported_versions alone
        return version >= lowest ? version : 0;
    }
}
