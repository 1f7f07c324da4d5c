package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/**
 * The client hello parser on what an attacker sends before any handshake: every byte of a real hello changed, lengths
 * that lie, repeated and oversized extensions, GREASE, random bytes. It must answer (an offer or null), never throw,
 * never read outside the hello, and leave the buffer as it was; and the choice must answer every offer it reads.
 */
class ClientHelloTest {

    private static final CertificateChoice CHOICE = new CertificateChoice(List.of(CertificateChoice.Key.RSA,
            CertificateChoice.Key.P256, CertificateChoice.Key.ED25519), List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"), false,
            List.of("TLSv1.2", "TLSv1.3"));

    /** The body of the client hello the JDK's client sends (TLSv1.3 and TLSv1.2, its default suites). */
    private static byte[] jdkClientHello() throws Exception {
        SSLEngine client = SSLContext.getDefault().createSSLEngine("a.test", 443);
        client.setUseClientMode(true);
        client.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        ByteBuffer record = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(ByteBuffer.allocate(0), record);
        record.flip();
        byte[] body = new byte[record.remaining() - 5 - 4]; // record header, handshake header
        record.position(5 + 4);
        record.get(body);
        return body;
    }

    /** Parses {@code bytes} as the SNI handler hands them over (a slice its exact length) and chooses on the offer. */
    private static ClientHello parsed(byte[] bytes) {
        ByteBuf buffer = Unpooled.wrappedBuffer(new byte[7], bytes).slice(7, bytes.length);
        try {
            ClientHello hello = ClientHello.parse(buffer);
            assertThat(buffer.readerIndex()).isZero();
            assertThat(CHOICE.choose(hello)).isBetween(0, 2);
            return hello;
        } finally {
            buffer.release();
        }
    }

    @Test
    void everyByteOfARealHelloChangedIsReadOrRefusedWithoutAnException() throws Exception {
        byte[] hello = jdkClientHello();
        assertThat(parsed(hello)).isNotNull();
        for (int i = 0; i < hello.length; i++) {
            for (int value : new int[] {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}) {
                byte[] changed = hello.clone();
                changed[i] = (byte) value;
                parsed(changed);
            }
        }
    }

    @Test
    void randomChangesAndRandomBytesAreReadOrRefused() throws Exception {
        byte[] hello = jdkClientHello();
        Random random = new Random(20261207);
        for (int round = 0; round < 20000; round++) {
            byte[] changed = hello.clone();
            for (int n = random.nextInt(8); n >= 0; n--) {
                changed[random.nextInt(changed.length)] = (byte) random.nextInt(256);
            }
            parsed(java.util.Arrays.copyOf(changed, random.nextInt(changed.length + 1)));
            byte[] noise = new byte[random.nextInt(512)];
            random.nextBytes(noise);
            parsed(noise);
        }
    }

    @Test
    void lyingLengthsRepeatedExtensionsAndGreaseAreHeldToTheHello() {
        // an extension that claims more than the extensions hold: refused
        assertThat(parsed(hello(List.of(0xC02B), extension(13, 0xffff, new byte[4])))).isNull();
        // a list whose length lies inside its extension: that extension is left out, the rest read
        ClientHello lying = parsed(hello(List.of(0xC02B), concat(extension(13, 4, new byte[] {0x00, 0x09, 0x04, 0x03}),
                extension(10, 4, new byte[] {0x00, 0x02, 0x00, 0x17}))));
        assertThat(lying.signatureSchemes()).isNull();
        assertThat(lying.groups()).containsExactly(23);
        // twice: the last one read, as the handshake itself refuses the hello
        ClientHello twice = parsed(hello(List.of(0xC02B), concat(extension(13, 4, new byte[] {0x00, 0x02, 0x04, 0x01}),
                extension(13, 4, new byte[] {0x00, 0x02, 0x04, 0x03}))));
        assertThat(twice.signatureSchemes()).containsExactly(0x0403);
        // GREASE suites, groups, versions and schemes left out
        ClientHello grease = parsed(hello(List.of(0x1a1a, 0xC02F), concat(extension(43, 5,
                new byte[] {0x04, 0x2a, 0x2a, 0x03, 0x04}), extension(0x3a3a, 0, new byte[0]))));
        assertThat(grease.cipherSuites()).containsExactly(0xC02F);
        assertThat(grease.versions()).containsExactly(0x0304);
        // the most a 64 KiB hello holds: one suite 32000 times
        List<Integer> many = new ArrayList<>(java.util.Collections.nCopies(32000, 0xC02B));
        assertThat(parsed(hello(many, new byte[0])).cipherSuites()).hasSize(32000);
        // SSLv2's or no extensions at all
        assertThat(parsed(hello(List.of(0xC02F), null)).groups()).isNull();
    }

    /** A hello body of TLSv1.2's legacy_version offering {@code suites}, {@code extensions} (null: no field). */
    private static byte[] hello(List<Integer> suites, byte[] extensions) {
        ByteBuf body = Unpooled.buffer();
        body.writeShort(0x0303).writeZero(32).writeByte(0).writeShort(suites.size() * 2);
        suites.forEach(body::writeShort);
        body.writeByte(1).writeByte(0);
        if (extensions != null) {
            body.writeShort(extensions.length).writeBytes(extensions);
        }
        byte[] bytes = new byte[body.readableBytes()];
        body.readBytes(bytes).release();
        return bytes;
    }

    private static byte[] extension(int type, int length, byte[] data) {
        ByteBuf extension = Unpooled.buffer().writeShort(type).writeShort(length).writeBytes(data);
        byte[] bytes = new byte[extension.readableBytes()];
        extension.readBytes(bytes).release();
        return bytes;
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] both = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }
}
