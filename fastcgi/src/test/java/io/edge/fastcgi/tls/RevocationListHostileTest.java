package io.edge.fastcgi.tls;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;

/**
 * CRLs made to break a reader: elements nested some 400 000 deep (in the extensions, in an entry's certificateIssuer,
 * the whole CRL), lengths of 2^31 and more, indefinite lengths, nothing at all, bytes after the CRL. Each is an
 * {@link IllegalArgumentException} (a problem of the configuration's key), no other exception, no stack overflow.
 */
class RevocationListHostileTest {

    static byte[] tlv(int tag, byte[]... parts) {
        ByteArrayOutputStream contents = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            contents.writeBytes(part);
        }
        byte[] body = contents.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = body.length;
        out.write(0x84);
        out.write(n >>> 24);
        out.write(n >>> 16);
        out.write(n >>> 8);
        out.write(n);
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** {@code depth} elements of {@code tag} in one another, NULL innermost. */
    static byte[] deep(int tag, int depth) {
        byte[] out = new byte[depth * 6 + 2];
        for (int k = 0; k < depth; k++) {
            int length = 2 + 6 * (depth - 1 - k);
            out[6 * k] = (byte) tag;
            out[6 * k + 1] = (byte) 0x84;
            out[6 * k + 2] = (byte) (length >>> 24);
            out[6 * k + 3] = (byte) (length >>> 16);
            out[6 * k + 4] = (byte) (length >>> 8);
            out[6 * k + 5] = (byte) length;
        }
        out[depth * 6] = 5;
        return out;
    }

    static byte[] crl(byte[] afterDates, byte[] tail) {
        byte[] alg = tlv(0x30, tlv(0x06, new byte[] {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 4, 3, 2}));
        byte[] time = new byte[] {0x17, 13, '2', '6', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z'};
        byte[] tbs = tlv(0x30, tlv(0x02, new byte[] {1}), alg, new X500Principal("CN=Deep").getEncoded(), time,
                afterDates);
        return tlv(0x30, tbs, alg, tlv(0x03, new byte[] {0, 0x30, 0}), tail);
    }

    @Test
    void deepTaggedExtensions() {
        // the signed part's fields: BouncyCastle's ASN1ParsingException (an IllegalStateException) got out before
        for (int depth : new int[] {1_000, 100_000, 400_000}) {
            byte[] der = crl(deep(0xa0, depth), new byte[0]);
            assertThatThrownBy(() -> RevocationList.of(der)).as("depth " + depth)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void deepSetsInExtensions() {
        byte[] der = crl(tlv(0xa0, deep(0x31, 400_000)), new byte[0]);
        assertThatThrownBy(() -> RevocationList.of(der)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void deepInACertificateIssuer() {
        // an entry whose certificateIssuer value nests 400 000 [4] directoryName tags
        byte[] extension = tlv(0x30, tlv(0x06, new byte[] {0x55, 0x1d, 0x1d}), new byte[] {1, 1, (byte) 0xff},
                tlv(0x04, tlv(0x30, deep(0xa4, 400_000))));
        byte[] entry = tlv(0x30, tlv(0x02, new byte[] {5}), new byte[] {0x17, 13, '2', '6', '0', '1', '0', '1', '0',
                '0', '0', '0', '0', '0', 'Z'}, tlv(0x30, extension));
        byte[] der = crl(tlv(0x30, entry), new byte[0]);
        assertThatThrownBy(() -> RevocationList.of(der)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hugeLengths() {
        byte[] entry = {0x30, (byte) 0x84, (byte) 0x80, 0, 0, 0, 2, 1, 5};
        assertThatThrownBy(() -> RevocationList.of(crl(tlv(0x30, entry), new byte[0])))
                .isInstanceOf(IllegalArgumentException.class);
        byte[] entry2 = {0x30, (byte) 0x84, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 2, 1, 5};
        assertThatThrownBy(() -> RevocationList.of(crl(tlv(0x30, entry2), new byte[0])))
                .isInstanceOf(IllegalArgumentException.class);
        byte[] outer = {0x30, (byte) 0x84, (byte) 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x30, 0};
        assertThatThrownBy(() -> RevocationList.of(outer)).isInstanceOf(IllegalArgumentException.class);
        byte[] outer2 = {0x30, (byte) 0x88, 0, 0, 0, 0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x30, 0};
        assertThatThrownBy(() -> RevocationList.of(outer2)).isInstanceOf(IllegalArgumentException.class);
        byte[] indefinite = {0x30, (byte) 0x80, 0x30, (byte) 0x80, 0x30, (byte) 0x80, 0, 0, 0, 0, 0, 0};
        assertThatThrownBy(() -> RevocationList.of(indefinite)).isInstanceOf(IllegalArgumentException.class);
        // nothing: a NullPointerException got out before
        assertThatThrownBy(() -> RevocationList.of(new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RevocationList.of(deep(0x30, 400_000))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RevocationList.of(crl(tlv(0x30), new byte[] {5, 0})))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
