package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/**
 * The client hello read as a server reads it (from the JDK's own client's bytes, whole and cut short), and the
 * certificate nginx 1.22's OpenSSL chose for each offer (RSA first, ECDSA P-256 second, as DualCertificatesIT's site).
 */
class CertificateChoiceTest {

    private static final int RSA = 0;
    private static final int ECDSA = 1;
    private static final List<String> SERVER_SUITES = List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256");
    private static final CertificateChoice CLIENT_ORDER = new CertificateChoice(List.of(CertificateChoice.Key.RSA,
            CertificateChoice.Key.P256), SERVER_SUITES, false, List.of("TLSv1.2", "TLSv1.3"));

    /** The body of the client hello the JDK's client sends offering {@code suites} over {@code protocols}. */
    private static ByteBuf jdkClientHello(String[] protocols, String[] suites) throws Exception {
        SSLEngine client = SSLContext.getDefault().createSSLEngine("a.test", 443);
        client.setUseClientMode(true);
        client.setEnabledProtocols(protocols);
        client.setEnabledCipherSuites(suites);
        ByteBuffer record = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
        client.wrap(ByteBuffer.allocate(0), record);
        record.flip();
        ByteBuf bytes = Unpooled.wrappedBuffer(record);
        return bytes.skipBytes(5 + 4); // record header, handshake header
    }

    @Test
    void aClientHelloIsReadAsItWasSent() throws Exception {
        ByteBuf body = jdkClientHello(new String[] {"TLSv1.3", "TLSv1.2"}, new String[] {"TLS_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"});
        int readerIndex = body.readerIndex();
        ClientHello hello = ClientHello.parse(body);
        assertThat(body.readerIndex()).isEqualTo(readerIndex);
        assertThat(hello.legacyVersion()).isEqualTo(0x0303);
        assertThat(hello.versions()).containsExactly(0x0304, 0x0303);
        assertThat(hello.cipherSuites()).containsExactly(0x1301, 0xC02F, 0xC02C);
        assertThat(hello.signatureSchemes()).contains(0x0403, 0x0804);
        assertThat(hello.groups()).contains(23, 29);
        assertThat(hello.version(0x0303, 0x0304)).isEqualTo(0x0304);
        assertThat(hello.version(0x0303, 0x0303)).isEqualTo(0x0303);
        for (int length = 0; length < body.readableBytes(); length++) {
            // cut short anywhere: nothing, or what was whole before the cut, never an exception
            ClientHello.parse(body.slice(body.readerIndex(), length));
        }
    }

    @Test
    void overTls13TheClientsFirstSchemeThatAKeySignsWithDecides() {
        assertThat(CLIENT_ORDER.choose(tls13(0x0403, 0x0804))).isEqualTo(ECDSA);
        assertThat(CLIENT_ORDER.choose(tls13(0x0804, 0x0403))).isEqualTo(RSA);
        assertThat(CLIENT_ORDER.choose(tls13(0x0503, 0x0804))).as("P-384's scheme, a P-256 key").isEqualTo(RSA);
        assertThat(CLIENT_ORDER.choose(tls13(0x0401, 0x0403))).as("PKCS#1 signs no TLSv1.3 handshake")
                .isEqualTo(ECDSA);
        CertificateChoice serverOrder = new CertificateChoice(List.of(CertificateChoice.Key.RSA,
                CertificateChoice.Key.P256), SERVER_SUITES, true, List.of("TLSv1.2", "TLSv1.3"));
        assertThat(serverOrder.choose(tls13(0x0804, 0x0403))).as("OpenSSL's list: ECDSA first").isEqualTo(ECDSA);
    }

    @Test
    void overTls12TheClientsFirstSuiteACertificateServesDecides() {
        assertThat(CLIENT_ORDER.choose(tls12(List.of(0xC02F, 0xC02B), null, null))).isEqualTo(RSA);
        assertThat(CLIENT_ORDER.choose(tls12(List.of(0xC02B, 0xC02F), null, null))).isEqualTo(ECDSA);
        assertThat(CLIENT_ORDER.choose(tls12(List.of(0x009C, 0xC02B), null, null))).isEqualTo(RSA);
        assertThat(CLIENT_ORDER.choose(tls12(List.of(0xC02B, 0xC02F), List.of(0x0401, 0x0804), null)))
                .as("no ECDSA signature algorithm").isEqualTo(RSA);
        assertThat(CLIENT_ORDER.choose(tls12(List.of(0xC02B, 0xC02F), null, List.of(24))))
                .as("no P-256").isEqualTo(RSA);
        assertThat(CLIENT_ORDER.choose(tls12(List.of(0xC02C), List.of(0x0804), null)))
                .as("none fits: the first").isEqualTo(RSA);
        CertificateChoice serverOrder = new CertificateChoice(List.of(CertificateChoice.Key.RSA,
                CertificateChoice.Key.P256), SERVER_SUITES, true, List.of("TLSv1.2", "TLSv1.3"));
        assertThat(serverOrder.choose(tls12(List.of(0xC02F, 0xC02B), null, null))).isEqualTo(ECDSA);
    }

    /**
     * ECDHE_ECDSA's suites over TLSv1.2 with a P-256 and an Ed25519 certificate: the client's first signature algorithm
     * that one of them signs with decides, as nginx 1.22 chose side by side (OpenSSL's tls_choose_sigalg, in either
     * order of ssl_certificate); SHA-1's ECDSA scheme signs nothing (OpenSSL 3.0's security level 1), so a client
     * offering it alone for ECDSA got the RSA certificate. SHA-224's, where nginx's OpenSSL chose the ECDSA
     * certificate, BoringSSL cannot sign with (a handshake failure): the next scheme decides, so the handshake is made.
     */
    @Test
    void overTls12TheClientsFirstSchemeChoosesBetweenEcdsaAndEd25519() {
        for (List<CertificateChoice.Key> keys : List.of(List.of(CertificateChoice.Key.P256,
                CertificateChoice.Key.ED25519), List.of(CertificateChoice.Key.ED25519, CertificateChoice.Key.P256))) {
            CertificateChoice choice = new CertificateChoice(keys, SERVER_SUITES, false, List.of("TLSv1.2", "TLSv1.3"));
            int p256 = keys.indexOf(CertificateChoice.Key.P256);
            int ed25519 = keys.indexOf(CertificateChoice.Key.ED25519);
            assertThat(choice.choose(tls12(List.of(0xC02B), List.of(0x0807, 0x0403), null))).isEqualTo(ed25519);
            assertThat(choice.choose(tls12(List.of(0xC02B), List.of(0x0403, 0x0807), null))).isEqualTo(p256);
            assertThat(choice.choose(tls12(List.of(0xC02B), List.of(0x0403, 0x0807), List.of(29))))
                    .as("no P-256").isEqualTo(ed25519);
            assertThat(choice.choose(tls12(List.of(0xC02B), List.of(0x0303, 0x0807, 0x0403), null)))
                    .as("ecdsa_sha224 first").isEqualTo(ed25519);
        }
        assertThat(CLIENT_ORDER.choose(tls12(List.of(0xC02B, 0xC02F), List.of(0x0203, 0x0401), null)))
                .as("ecdsa_sha1 alone").isEqualTo(RSA);
    }

    /**
     * A 64 KiB hello may list one suite thousands of times: each is weighed once, so the choice costs the hello's
     * length, not its square (12000 ECDHE_ECDSA suites against 6000 groups without the key's curve were 72 million
     * comparisons, a tenth of a second of an event loop a handshake).
     */
    @Test
    void aSuiteListedThousandsOfTimesIsWeighedOnce() {
        List<Integer> suites = new java.util.ArrayList<>(java.util.Collections.nCopies(12000, 0xC02B));
        suites.add(0xC02F);
        int[] lookups = new int[1];
        List<Integer> groups = new java.util.AbstractList<>() {
            private final List<Integer> p384 = java.util.Collections.nCopies(6000, 24);

            @Override
            public Integer get(int index) {
                return p384.get(index);
            }

            @Override
            public int size() {
                return p384.size();
            }

            @Override
            public boolean contains(Object group) {
                lookups[0]++;
                return p384.contains(group);
            }
        };
        assertThat(CLIENT_ORDER.choose(tls12(suites, List.of(0x0403, 0x0401), groups))).as("no P-256: RSA")
                .isEqualTo(RSA);
        assertThat(lookups[0]).as("the groups looked through once for the ECDSA suite").isEqualTo(1);
    }

    private static ClientHello tls13(Integer... schemes) {
        return new ClientHello(0x0303, List.of(0x0304, 0x0303), List.of(0x1301, 0xC02B, 0xC02F), List.of(schemes),
                List.of(29, 23));
    }

    private static ClientHello tls12(List<Integer> suites, List<Integer> schemes, List<Integer> groups) {
        return new ClientHello(0x0303, List.of(), suites, schemes, groups);
    }
}
