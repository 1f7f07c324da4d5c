package io.edge.fastcgi.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CRLReason;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link RevocationList} read from CRLs openssl ca -gencrl wrote, each answer set beside the JDK's {@link X509CRL}
 * of the same bytes (what edge read before).
 */
class RevocationListTest {

    private static final String IDP = "2.5.29.28";

    @TempDir
    static Path dir;
    /** The serials of the CRLs' database: a few of each kind, then 300 random ones (some with the high bit set). */
    static List<BigInteger> listed = new ArrayList<>();

    @BeforeAll
    static void database() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj",
                "/CN=List CA", "-days", "2");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.pem",
                "-subj", "/CN=List CA", "-days", "2");
        StringBuilder index = new StringBuilder();
        // 1001 keyCompromise, 1002 no reason, 1003 removeFromCRL (a hold lifted), 1004 on hold, FF10 (DER 00 FF 10)
        String[] entries = {"1001\t260101000000Z,keyCompromise", "1002\t260101000000Z", "1003\t260101000000Z,"
                + "removeFromCRL", "1004\t260101000000Z,certificateHold", "FF10\t260101000000Z"};
        Random random = new Random(7);
        List<String> lines = new ArrayList<>(Arrays.asList(entries));
        Set<BigInteger> randoms = new LinkedHashSet<>();
        while (randoms.size() < 300) {
            randoms.add(new BigInteger(1 + random.nextInt(159), random).add(BigInteger.valueOf(0x10000)));
        }
        for (BigInteger serial : randoms) {
            String hex = serial.toString(16).toUpperCase();
            lines.add((hex.length() % 2 == 0 ? hex : "0" + hex) + "\t260101000000Z"); // openssl wants whole bytes
        }
        for (String line : lines) {
            String[] fields = line.split("\t");
            listed.add(new BigInteger(fields[0], 16));
            index.append("R\t301231000000Z\t").append(fields[1]).append('\t').append(fields[0]).append("\tunknown\t/CN=c")
                    .append(listed.size()).append('\n');
        }
        Files.writeString(dir.resolve("index.txt"), index);
        Files.writeString(dir.resolve("ca.cnf"), """
                [ca]
                default_ca = edge
                [edge]
                database = index.txt
                default_md = sha256
                default_crl_days = 2
                [point]
                issuingDistributionPoint = critical, @named
                [named]
                fullname = URI:http://crl.test/list.crl
                onlyuser = TRUE
                """);
        openssl("ca", "-batch", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out",
                "list.crl");
        openssl("ca", "-batch", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out",
                "point.crl", "-crlexts", "point");
        openssl("ca", "-batch", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "ca.pem", "-out",
                "pss.crl", "-sigopt", "rsa_padding_mode:pss");
    }

    @Test
    void aSerialIsRevokedWhereTheJdkFindsItWithAnyReasonButRemoveFromCrl() throws Exception {
        RevocationList list = RevocationList.of(der("list.crl"));
        X509CRL jdk = jdk("list.crl");
        assertThat(list.revokes(BigInteger.valueOf(0x1001))).isTrue();
        assertThat(list.revokes(BigInteger.valueOf(0xff10))).isTrue();
        assertThat(list.revokes(BigInteger.valueOf(0x1005))).isFalse();
        assertThat(list.revokes(BigInteger.valueOf(0x10))).isFalse();
        // the hold lifted: listed, and not revoked
        assertThat(jdk.getRevokedCertificate(BigInteger.valueOf(0x1003)).getRevocationReason())
                .isEqualTo(CRLReason.REMOVE_FROM_CRL);
        assertThat(list.revokes(BigInteger.valueOf(0x1003))).isFalse();
        assertThat(list.revokes(BigInteger.valueOf(0x1004))).isTrue();

        List<BigInteger> asked = new ArrayList<>(listed);
        for (BigInteger serial : listed) {
            asked.addAll(List.of(serial.add(BigInteger.ONE), serial.negate(), serial.shiftLeft(8)));
        }
        for (BigInteger serial : asked) {
            X509CRLEntry entry = jdk.getRevokedCertificate(serial);
            assertThat(list.revokes(serial)).as(serial.toString(16))
                    .isEqualTo(entry != null && entry.getRevocationReason() != CRLReason.REMOVE_FROM_CRL);
        }
        assertThat(list.revokedCount()).isEqualTo(jdk.getRevokedCertificates().size() - 1);
    }

    @Test
    void theIssuersKeyVerifiesTheSignatureAndAnotherKeyOrAnotherSignatureDoesNot() throws Exception {
        RevocationList list = RevocationList.of(der("list.crl"));
        X509CRL jdk = jdk("list.crl");
        PublicKey ca = certificate("ca.pem").getPublicKey();
        PublicKey other = certificate("other.pem").getPublicKey();
        jdk.verify(ca);
        assertThat(list.signedBy(ca)).isTrue();
        assertThat(list.signedBy(ca)).as("again, the key kept").isTrue();
        assertThat(verifies(jdk, other)).isFalse();
        assertThat(list.signedBy(other)).isFalse();

        byte[] forged = der("list.crl");
        forged[forged.length - 1] ^= 1; // the signature's last bit
        assertThat(verifies(jdk(forged), ca)).isFalse();
        assertThat(RevocationList.of(forged).signedBy(ca)).isFalse();
        byte[] altered = der("list.crl");
        int serial = indexOf(altered, BigInteger.valueOf(0x1002).toByteArray());
        altered[serial + 1] = 0x05; // 1002 is 1005 now, under the same signature
        assertThat(verifies(jdk(altered), ca)).isFalse();
        assertThat(RevocationList.of(altered).signedBy(ca)).isFalse();

        RevocationList pss = RevocationList.of(der("pss.crl"));
        assertThat(jdk("pss.crl").getSigAlgName()).isEqualTo("RSASSA-PSS");
        assertThat(verifies(jdk("pss.crl"), ca)).isTrue();
        assertThat(pss.signedBy(other)).isFalse();
        assertThat(pss.signedBy(ca)).isTrue();
    }

    @Test
    void theIssuerDatesAndIssuingDistributionPointAreTheJdks() throws Exception {
        for (String file : List.of("list.crl", "point.crl")) {
            RevocationList list = RevocationList.of(der(file));
            X509CRL jdk = jdk(file);
            assertThat(list.getIssuerX500Principal()).isEqualTo(jdk.getIssuerX500Principal());
            assertThat(list.getThisUpdate()).isEqualTo(jdk.getThisUpdate());
            assertThat(list.getNextUpdate()).isEqualTo(jdk.getNextUpdate());
            assertThat(list.getCriticalExtensionOIDs()).isEqualTo(jdk.getCriticalExtensionOIDs());
            assertThat(list.getExtensionValue(IDP)).isEqualTo(jdk.getExtensionValue(IDP));
            assertThat(list.revokes(BigInteger.valueOf(0x1001))).isTrue();
        }
        assertThat(RevocationList.of(der("point.crl")).getCriticalExtensionOIDs()).containsExactly(IDP);
        assertThat(new String(RevocationList.of(der("point.crl")).getExtensionValue(IDP), "ISO-8859-1"))
                .contains("http://crl.test/list.crl");
        assertThat(RevocationList.of(der("list.crl")).getExtensionValue(IDP)).isNull();
    }

    /**
     * Entries openssl ca does not write, made here: a serial listed twice (the first entry counts, as OpenSSL finds
     * it; the JDK's map keeps the last), and certificateIssuer extensions (an indirect CRL's: the entries after one
     * are of the issuer it names, none of the CRL issuer's until one names it again).
     */
    @Test
    void entriesAreKeyedAsOpensslKeysThem() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair pair = generator.generateKeyPair();
        byte[] direct = new X500Principal("CN=Direct CA").getEncoded();
        byte[] other = new X500Principal("CN=Other CA").getEncoded();
        byte[] ecdsaWithSha256 = tlv(0x30, tlv(0x06, new byte[] {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 4, 3, 2}));
        byte[] tbs = tlv(0x30, tlv(0x02, new byte[] {1}), ecdsaWithSha256, direct, time("260101000000Z"),
                time("301231000000Z"), tlv(0x30,
                        entry(5), entry(6, reason(1)), entry(6, reason(8)), entry(7, reason(8)), entry(7),
                        entry(8, issuer(other)), entry(9), entry(10, issuer(direct)), entry(5, reason(6)),
                        entry(0x80), entry(-2)));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(pair.getPrivate());
        signer.update(tbs);
        byte[] signature = signer.sign();
        byte[] bits = new byte[signature.length + 1];
        System.arraycopy(signature, 0, bits, 1, signature.length);
        byte[] der = tlv(0x30, tbs, ecdsaWithSha256, tlv(0x03, bits));

        RevocationList list = RevocationList.of(der);
        X509CRL jdk = jdk(der);
        jdk.verify(pair.getPublic());
        assertThat(list.signedBy(pair.getPublic())).isTrue();
        for (int serial = -3; serial <= 0x81; serial++) {
            if (serial == 6 || serial == 7) {
                continue; // listed twice: the JDK takes the last entry
            }
            X509CRLEntry entry = jdk.getRevokedCertificate(BigInteger.valueOf(serial));
            assertThat(list.revokes(BigInteger.valueOf(serial))).as("serial " + serial)
                    .isEqualTo(entry != null && entry.getRevocationReason() != CRLReason.REMOVE_FROM_CRL);
        }
        assertThat(List.of(5, 6, 7, 8, 9, 10, 0x80, -2)).map(serial -> list.revokes(BigInteger.valueOf(serial)))
                .containsExactly(true, true, false, false, false, true, true, true);
    }

    private static byte[] entry(int serial, byte[]... extensions) {
        byte[] entry = tlv(0x30, tlv(0x02, BigInteger.valueOf(serial).toByteArray()), time("260101000000Z"));
        return extensions.length == 0 ? entry : tlv(0x30, tlv(0x02, BigInteger.valueOf(serial).toByteArray()),
                time("260101000000Z"), tlv(0x30, extensions));
    }

    /** A reasonCode extension (2.5.29.21) of {@code code}. */
    private static byte[] reason(int code) {
        return tlv(0x30, tlv(0x06, new byte[] {0x55, 0x1d, 0x15}), tlv(0x04, tlv(0x0a, new byte[] {(byte) code})));
    }

    /** A critical certificateIssuer extension (2.5.29.29) of one directory name. */
    private static byte[] issuer(byte[] name) {
        return tlv(0x30, tlv(0x06, new byte[] {0x55, 0x1d, 0x1d}), tlv(0x01, new byte[] {-1}),
                tlv(0x04, tlv(0x30, tlv(0xa4, name))));
    }

    private static byte[] time(String utc) {
        return tlv(0x17, utc.getBytes(StandardCharsets.US_ASCII));
    }

    /** DER: {@code tag}, the length, then {@code parts}. */
    private static byte[] tlv(int tag, byte[]... parts) {
        ByteArrayOutputStream contents = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            contents.writeBytes(part);
        }
        int length = contents.size();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        if (length < 0x80) {
            out.write(length);
        } else {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length);
        }
        out.writeBytes(contents.toByteArray());
        return out.toByteArray();
    }

    @Test
    void twoReadingsOfTheSameBytesAreEqualAndOfOthersAreNot() throws Exception {
        assertThat(RevocationList.of(der("list.crl"))).isEqualTo(RevocationList.of(der("list.crl")))
                .hasSameHashCodeAs(RevocationList.of(der("list.crl")))
                .isNotEqualTo(RevocationList.of(der("point.crl")));
    }

    @Test
    void bytesThatAreNoCrlSayWhatIsWrong() throws Exception {
        byte[] der = der("list.crl");
        assertThatThrownBy(() -> RevocationList.of(Arrays.copyOf(der, der.length - 10)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("the CRL's DER cannot be read (corrupted stream - out of bounds length");
        assertThatThrownBy(() -> RevocationList.of("not a CRL".getBytes()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the CRL's DER cannot be read (corrupted stream - out of bounds length found: 111 > 9)");
        byte[] badSerial = der.clone();
        int serialTag = indexOf(badSerial, BigInteger.valueOf(0x1001).toByteArray()) - 2;
        badSerial[serialTag] = 0x04; // an OCTET STRING
        assertThatThrownBy(() -> RevocationList.of(badSerial)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("entry 1 of revokedCertificates: the serial cannot be read (tag 0x4 where 0x2 was expected)");
        byte[] badVersion = der.clone();
        badVersion[indexOf(badVersion, new byte[] {0x01})] = 0x05; // the first INTEGER 1, the version (v2): v6
        assertThatThrownBy(() -> RevocationList.of(badVersion)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Invalid version");
    }

    /** The offset of {@code wanted}'s INTEGER contents in {@code der}, preceded by tag 0x02 and its length. */
    private static int indexOf(byte[] der, byte[] wanted) {
        for (int i = 2; i + wanted.length <= der.length; i++) {
            if (der[i - 2] == 0x02 && der[i - 1] == wanted.length
                    && Arrays.equals(der, i, i + wanted.length, wanted, 0, wanted.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    private static boolean verifies(X509CRL crl, PublicKey key) {
        try {
            crl.verify(key);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static X509CRL jdk(String file) throws Exception {
        return jdk(der(file));
    }

    private static X509CRL jdk(byte[] der) throws Exception {
        return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
    }

    private static X509Certificate certificate(String file) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(dir.resolve(file))));
    }

    private static byte[] der(String file) throws Exception {
        String pem = Files.readString(dir.resolve(file));
        return Base64.getMimeDecoder().decode(pem.substring(pem.indexOf("-----BEGIN X509 CRL-----") + 24,
                pem.indexOf("-----END X509 CRL-----")));
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ": " + Files.readString(log)).isZero();
    }
}
