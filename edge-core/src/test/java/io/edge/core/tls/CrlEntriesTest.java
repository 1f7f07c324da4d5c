package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.tls.RevocationList;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CRLs whose entries OpenSSL and the JDK read differently (a serial listed twice, a certificateIssuer of several
 * names, a critical entry extension), made by BouncyCastle: {@link PkixCheck}'s answer for each certificate set beside
 * what openssl verify -crl_check_all says of it.
 */
class CrlEntriesTest {

    private static final X500Name ISSUER = new X500Name("CN=Entries CA");
    private static final X500Name OTHER = new X500Name("CN=Other CA");

    @TempDir
    static Path dir;
    static ContentSigner signer;
    static X509Certificate ca;
    static Map<Integer, X509Certificate> leaves = new LinkedHashMap<>();
    static Date from = new Date(System.currentTimeMillis() - 86_400_000L);
    static Date to = new Date(System.currentTimeMillis() + 86_400_000L);

    @BeforeAll
    static void certificates() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair key = generator.generateKeyPair();
        signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate());
        SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded());
        X509v3CertificateBuilder root = new X509v3CertificateBuilder(ISSUER, BigInteger.ONE, from, to, ISSUER,
                publicKey);
        root.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        ca = certificate(root.build(signer).getEncoded());
        write("ca.pem", "CERTIFICATE", ca.getEncoded());
        for (int serial = 10; serial <= 16; serial++) {
            X509Certificate leaf = certificate(new X509v3CertificateBuilder(ISSUER, BigInteger.valueOf(serial), from,
                    to, new X500Name("CN=leaf " + serial), publicKey).build(signer).getEncoded());
            leaves.put(serial, leaf);
            write(serial + ".pem", "CERTIFICATE", leaf.getEncoded());
        }
    }

    @Test
    void theFirstEntryOfASerialCounts() throws Exception {
        X509v2CRLBuilder crl = crl();
        crl.addCRLEntry(BigInteger.valueOf(10), from, 1); // keyCompromise, then removeFromCRL: revoked
        crl.addCRLEntry(BigInteger.valueOf(11), from, 8); // removeFromCRL, then keyCompromise: not
        crl.addCRLEntry(BigInteger.valueOf(10), from, 8);
        crl.addCRLEntry(BigInteger.valueOf(11), from, 1);
        assertAsOpenssl(crl, "23:10 0:11");
    }

    @Test
    void aCertificateIssuerOfSeveralNamesNamesEach() throws Exception {
        X509v2CRLBuilder crl = crl();
        crl.addCRLEntry(BigInteger.valueOf(12), from, entry(Extension.certificateIssuer, true,
                new GeneralNames(new GeneralName[] {new GeneralName(OTHER), new GeneralName(ISSUER)})));
        crl.addCRLEntry(BigInteger.valueOf(13), from, 1); // the names kept for the entries after
        crl.addCRLEntry(BigInteger.valueOf(14), from, entry(Extension.certificateIssuer, true,
                new GeneralNames(new GeneralName(OTHER))));
        crl.addCRLEntry(BigInteger.valueOf(15), from, 1);
        assertAsOpenssl(crl, "23:12 23:13 0:14 0:15 0:16");
    }

    @Test
    void aCriticalEntryExtensionLeavesTheCrlOut() throws Exception {
        X509v2CRLBuilder unknown = crl();
        unknown.addCRLEntry(BigInteger.valueOf(12), from, entry(new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"),
                true, new DEROctetString(new byte[] {1})));
        unknown.addCRLEntry(BigInteger.valueOf(16), from, 1);
        // openssl: "36:unhandled critical CRL extension" for every certificate; edge takes no such CRL (3)
        assertAsOpenssl(unknown, "3:10 3:12 3:16");
        X509v2CRLBuilder reason = crl();
        reason.addCRLEntry(BigInteger.valueOf(16), from, entry(Extension.reasonCode, true, new ASN1Enumerated(1)));
        assertAsOpenssl(reason, "3:10 3:16");
        X509v2CRLBuilder notCritical = crl();
        notCritical.addCRLEntry(BigInteger.valueOf(12), from, entry(new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"),
                false, new DEROctetString(new byte[] {1})));
        assertAsOpenssl(notCritical, "0:10 23:12");
    }

    /**
     * An entry with two reasonCodes: OpenSSL's crl_set_issuers stops at it (EXFLAG_INVALID), so it and every entry
     * after it keep no reason (revoked, a removeFromCRL one too) and the entries after it no certificateIssuer.
     */
    @Test
    void anEntryWithTwoReasonCodesStopsTheReadingOfReasons() throws Exception {
        X509v2CRLBuilder crl = crl();
        crl.addCRLEntry(BigInteger.valueOf(13), from, 8); // removeFromCRL, before: not revoked
        // removeFromCRL and keyCompromise (2.5.29.99 written, 2.5.29.21 signed: BouncyCastle writes no OID twice)
        ASN1ObjectIdentifier stand = new ASN1ObjectIdentifier("2.5.29.99");
        ExtensionsGenerator twice = new ExtensionsGenerator();
        twice.addExtension(Extension.reasonCode, false, new ASN1Enumerated(8));
        twice.addExtension(stand, false, new ASN1Enumerated(1));
        crl.addCRLEntry(BigInteger.valueOf(10), from, twice.generate());
        crl.addCRLEntry(BigInteger.valueOf(11), from, 8); // removeFromCRL, after: revoked
        crl.addCRLEntry(BigInteger.valueOf(14), from, entry(Extension.certificateIssuer, true,
                new GeneralNames(new GeneralName(OTHER)))); // another issuer's, after: the CRL's own
        byte[] tbs = crl.build(signer).toASN1Structure().getTBSCertList().getEncoded("DER");
        for (int i = 0; i + 5 <= tbs.length; i++) {
            if (tbs[i] == 6 && tbs[i + 1] == 3 && tbs[i + 2] == 0x55 && tbs[i + 3] == 0x1d && tbs[i + 4] == 0x63) {
                tbs[i + 4] = 0x15;
            }
        }
        try (java.io.OutputStream out = signer.getOutputStream()) {
            out.write(tbs);
        }
        assertAsOpenssl(new org.bouncycastle.asn1.DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {
                org.bouncycastle.asn1.ASN1Primitive.fromByteArray(tbs), signer.getAlgorithmIdentifier(),
                new org.bouncycastle.asn1.DERBitString(signer.getSignature())}).getEncoded(),
                "0:13 23:10 23:11 23:14 0:12");
    }

    /**
     * What {@link PkixCheck} says of each certificate of {@code expected} ("code:serial" each, OpenSSL's 36 written
     * as edge's 3) under the CRL of {@code crl}, and what openssl verify says.
     */
    private static void assertAsOpenssl(X509v2CRLBuilder crl, String expected) throws Exception {
        assertAsOpenssl(crl.build(signer).getEncoded(), expected);
    }

    private static void assertAsOpenssl(byte[] der, String expected) throws Exception {
        write("list.crl", "X509 CRL", der);
        List<RevocationList> lists = List.of(RevocationList.of(der));
        List<String> edge = new ArrayList<>();
        List<String> openssl = new ArrayList<>();
        for (String pair : expected.split(" ")) {
            int serial = Integer.parseInt(pair.substring(pair.indexOf(':') + 1));
            edge.add(PkixCheck.error(List.of(leaves.get(serial)), ca, lists) + ":" + serial);
            int said = verify(serial + ".pem");
            openssl.add((said == 36 ? 3 : said) + ":" + serial);
        }
        assertThat(String.join(" ", openssl)).as("openssl").isEqualTo(expected);
        assertThat(String.join(" ", edge)).as("edge").isEqualTo(expected);
    }

    /** OpenSSL's error code of {@code certificate} under ca.pem and list.crl, 0 where it passes. */
    private static int verify(String certificate) throws Exception {
        Process process = new ProcessBuilder("openssl", "verify", "-crl_check_all", "-CAfile", "ca.pem", "-CRLfile",
                "list.crl", certificate).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("verify.log").toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String said = Files.readString(dir.resolve("verify.log"));
        if (process.exitValue() == 0) {
            return 0;
        }
        java.util.regex.Matcher error = java.util.regex.Pattern.compile("error (\\d+) at").matcher(said);
        assertThat(error.find()).as(said).isTrue();
        return Integer.parseInt(error.group(1));
    }

    private static X509v2CRLBuilder crl() {
        X509v2CRLBuilder crl = new X509v2CRLBuilder(ISSUER, from);
        crl.setNextUpdate(to);
        return crl;
    }

    private static Extensions entry(ASN1ObjectIdentifier oid, boolean critical,
            org.bouncycastle.asn1.ASN1Encodable value) throws Exception {
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(oid, critical, value);
        return extensions.generate();
    }

    private static X509Certificate certificate(byte[] der) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(der));
    }

    private static void write(String name, String type, byte[] der) throws Exception {
        Files.writeString(dir.resolve(name), "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder().encodeToString(der) + "\n-----END " + type + "-----\n");
    }
}
