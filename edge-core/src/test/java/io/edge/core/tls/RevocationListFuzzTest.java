package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.tls.RevocationList;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CRLReason;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;
import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/**
 * RevocationList of CRLs BouncyCastle makes at random (seeded: the same each run), its answers set beside OpenSSL's
 * rules modelled here and the JDK's X509CRL of the same bytes where the JDK reads them as OpenSSL does.
 */
class RevocationListFuzzTest {

    @Test
    void answersAsOpensslAndTheJdk() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair ca = generator.generateKeyPair();
        KeyPair other = generator.generateKeyPair();
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate());
        X500Name issuer = new X500Name("CN=Fuzz CA,O=Edge");
        X500Name otherIssuer = new X500Name("CN=Other CA");
        Random random = new Random(20261206);
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        int checked = 0;
        for (int round = 0; round < 150; round++) {
            X509v2CRLBuilder builder = new X509v2CRLBuilder(issuer, new Date(1_700_000_000_000L));
            if (random.nextBoolean()) {
                builder.setNextUpdate(new Date(1_900_000_000_000L));
            }
            List<BigInteger> serials = new ArrayList<>();
            // OpenSSL's reading, modelled: per serial, whether its first entry of this CRL's issuer revokes it
            java.util.Map<BigInteger, Boolean> model = new java.util.HashMap<>();
            java.util.Map<BigInteger, Integer> times = new java.util.HashMap<>();
            boolean ours = true;
            boolean critical = false;
            boolean severalNames = false; // the JDK takes a certificateIssuer's first name, OpenSSL each
            int entries = random.nextInt(5) == 0 ? 0 : random.nextInt(60);
            for (int i = 0; i < entries; i++) {
                BigInteger serial;
                int kind = random.nextInt(6);
                if (kind == 0 && !serials.isEmpty()) {
                    serial = serials.get(random.nextInt(serials.size())); // a duplicate
                } else if (kind == 1) {
                    serial = BigInteger.valueOf(random.nextInt(3));
                } else if (kind == 2) {
                    serial = new BigInteger(1 + random.nextInt(160), random).negate();
                } else {
                    int bytes = 1 + random.nextInt(20);
                    serial = new BigInteger(1, randomBytes(random, bytes));
                }
                serials.add(serial);
                times.merge(serial, 1, Integer::sum);
                ExtensionsGenerator extensions = new ExtensionsGenerator();
                boolean lifted = false;
                if (random.nextInt(3) == 0) {
                    int[] reasons = {0, 1, 2, 3, 4, 5, 6, 8, 9, 10};
                    int reason = random.nextInt(4) == 0 ? 8 : reasons[random.nextInt(reasons.length)];
                    boolean criticalReason = random.nextInt(5) == 0;
                    critical |= criticalReason;
                    lifted = reason == 8;
                    extensions.addExtension(Extension.reasonCode, criticalReason, new ASN1Enumerated(reason));
                }
                if (random.nextInt(4) == 0) {
                    extensions.addExtension(Extension.invalidityDate, false,
                            new ASN1GeneralizedTime(new Date(1_600_000_000_000L)));
                }
                if (random.nextInt(8) == 0) {
                    int names = random.nextInt(3);
                    GeneralName[] named = names == 0 ? new GeneralName[] {new GeneralName(otherIssuer)}
                            : names == 1 ? new GeneralName[] {new GeneralName(issuer)}
                            : new GeneralName[] {new GeneralName(otherIssuer), new GeneralName(issuer)};
                    ours = names != 0;
                    severalNames |= names == 2;
                    extensions.addExtension(Extension.certificateIssuer, true, new GeneralNames(named));
                }
                if (random.nextInt(8) == 0) {
                    boolean criticalUnknown = random.nextBoolean();
                    critical |= criticalUnknown;
                    extensions.addExtension(new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"), criticalUnknown,
                            new DEROctetString(new byte[] {1, 2}));
                }
                if (ours) {
                    model.putIfAbsent(serial, !lifted);
                }
                Extensions written = extensions.isEmpty() ? null : extensions.generate();
                builder.addCRLEntry(serial, new Date(1_650_000_000_000L), written);
            }
            if (random.nextInt(4) == 0) {
                builder.addExtension(Extension.cRLNumber, false, new ASN1Integer(round));
            }
            if (random.nextInt(8) == 0) {
                builder.addExtension(Extension.issuingDistributionPoint, true,
                        new IssuingDistributionPoint(null, true, false, null, false, false));
            }
            if (random.nextInt(8) == 0) {
                builder.addExtension(Extension.deltaCRLIndicator, true, new ASN1Integer(1));
            }
            byte[] der = builder.build(signer).getEncoded();
            X509CRL jdk = (X509CRL) factory.generateCRL(new ByteArrayInputStream(der));
            RevocationList edge = RevocationList.of(der);
            assertThat(edge.signedBy(ca.getPublic())).isTrue();
            assertThat(edge.signedBy(other.getPublic())).isFalse();
            assertThat(edge.getIssuerX500Principal()).isEqualTo(jdk.getIssuerX500Principal());
            assertThat(edge.getNextUpdate()).isEqualTo(jdk.getNextUpdate());
            assertThat(edge.getCriticalExtensionOIDs()).isEqualTo(jdk.getCriticalExtensionOIDs());
            assertThat(edge).isEqualTo(RevocationList.of(der.clone()));
            assertThat(edge.hasCriticalEntryExtension()).isEqualTo(critical);
            List<BigInteger> asked = new ArrayList<>();
            for (BigInteger serial : serials) {
                asked.add(serial);
                asked.add(serial.add(BigInteger.ONE));
                asked.add(serial.subtract(BigInteger.ONE));
                asked.add(serial.negate());
            }
            for (int i = 0; i < 20; i++) {
                asked.add(new BigInteger(1 + random.nextInt(160), random));
            }
            asked.add(BigInteger.ZERO);
            asked.add(BigInteger.valueOf(-1));
            for (BigInteger serial : asked) {
                boolean expected = model.getOrDefault(serial, false);
                assertThat(edge.revokes(serial)).as("round " + round + " serial " + serial.toString(16))
                        .isEqualTo(expected);
                X509CRLEntry entry = jdk.getRevokedCertificate(serial);
                // the JDK takes the last entry of a serial (OpenSSL the first), a certificateIssuer's first name
                if (times.getOrDefault(serial, 0) < 2 && !severalNames) {
                    assertThat(entry != null && entry.getRevocationReason() != CRLReason.REMOVE_FROM_CRL)
                            .as("JDK, round " + round + " serial " + serial.toString(16)).isEqualTo(expected);
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(4_000);
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        if (random.nextInt(4) == 0) {
            bytes[0] |= (byte) 0x80; // high bit: DER gets a leading 00
        }
        return bytes;
    }
}
