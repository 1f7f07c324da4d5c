package io.edge.conf;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and keys in PEM files, as certbot and openssl write them, read with the JDK alone. A key may be PKCS#8
 * ({@code BEGIN PRIVATE KEY}, openssl genpkey's and certbot's now) or the older PKCS#1 and SEC1 forms
 * ({@code BEGIN RSA PRIVATE KEY}, {@code BEGIN EC PRIVATE KEY}), which are wrapped into PKCS#8 here. Each method throws
 * {@link IllegalArgumentException} saying what is wrong, for a configuration problem.
 */
final class PemFiles {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** AlgorithmIdentifier of rsaEncryption (1.2.840.113549.1.1.1) with its NULL parameters. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** The OID id-ecPublicKey (1.2.840.10045.2.1), DER. */
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    private static final byte[] PROBE = "edge checks the key".getBytes(StandardCharsets.US_ASCII);

    private PemFiles() {
    }

    /** The certificates of {@code file} in their order (a leaf, then its intermediates); at least one. */
    static List<X509Certificate> certificates(Path file) {
        String text = read(file);
        List<X509Certificate> chain = new ArrayList<>();
        Matcher block = BLOCK.matcher(text);
        CertificateFactory factory;
        try {
            factory = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
        while (block.find()) {
            if (!block.group(1).equals("CERTIFICATE")) {
                continue; // a key or parameters beside them, as some bundles have
            }
            try {
                chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der(block))));
            } catch (CertificateException | IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": certificate " + (chain.size() + 1)
                        + " cannot be read (" + e.getMessage() + ")");
            }
        }
        if (chain.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no certificate (no \"-----BEGIN CERTIFICATE-----\")");
        }
        return chain;
    }

    /** The private key of {@code file}: its first key block. */
    static PrivateKey privateKey(Path file) {
        Matcher block = BLOCK.matcher(read(file));
        while (block.find()) {
            String type = block.group(1);
            if (!type.endsWith("PRIVATE KEY")) {
                continue; // "EC PARAMETERS" before an openssl ecparam key
            }
            try {
                return switch (type) {
                    case "PRIVATE KEY" -> pkcs8(der(block));
                    case "RSA PRIVATE KEY" -> KeyFactory.getInstance("RSA").generatePrivate(
                            new PKCS8EncodedKeySpec(privateKeyInfo(RSA_ALGORITHM, der(block))));
                    case "EC PRIVATE KEY" -> KeyFactory.getInstance("EC").generatePrivate(
                            new PKCS8EncodedKeySpec(privateKeyInfo(ecAlgorithm(der(block)), der(block))));
                    case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(file + " holds a key encrypted"
                            + " with a passphrase, which edge does not read (nginx's ssl_password_file): write it"
                            + " without one (openssl pkey -in it -out a file only edge's user reads)");
                    default -> throw new IllegalArgumentException(file + " holds a \"" + type + "\", not one of"
                            + " \"PRIVATE KEY\", \"RSA PRIVATE KEY\", \"EC PRIVATE KEY\"");
                };
            } catch (GeneralSecurityException | IllegalArgumentException | IndexOutOfBoundsException e) {
                if (e instanceof IllegalArgumentException && e.getMessage() != null
                        && e.getMessage().startsWith(file.toString())) {
                    throw (IllegalArgumentException) e;
                }
                throw new IllegalArgumentException(file + ": the " + type.toLowerCase() + " cannot be read ("
                        + e.getMessage() + ")");
            }
        }
        throw new IllegalArgumentException(file + " holds no private key (no \"-----BEGIN PRIVATE KEY-----\")");
    }

    /**
     * Why {@code key} is not the private key of {@code leaf}'s public key, or null when it is: a signature made with it
     * that the certificate's key verifies.
     */
    static String mismatch(PrivateKey key, X509Certificate leaf) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return "is a " + key.getAlgorithm() + " key, not an RSA, ECDSA or Ed25519 one";
        }
        if (!leaf.getPublicKey().getAlgorithm().equals(key.getAlgorithm())
                && !(algorithm.equals("Ed25519") && leaf.getPublicKey().getAlgorithm().startsWith("Ed"))) {
            return "is a " + key.getAlgorithm() + " key, and the certificate's is " + leaf.getPublicKey().getAlgorithm();
        }
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(PROBE);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(PROBE);
            return verifier.verify(signature) ? null : "does not match the certificate's public key";
        } catch (GeneralSecurityException e) {
            return "does not match the certificate's public key (" + e.getMessage() + ")";
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read (" + SettingsMapper.reason(e) + ")");
        }
    }

    private static byte[] der(Matcher block) {
        return Base64.getMimeDecoder().decode(block.group(2).replaceAll("\\s", ""));
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }

    /** PKCS#8's PrivateKeyInfo: SEQUENCE { INTEGER 0, algorithm, OCTET STRING key }. */
    private static byte[] privateKeyInfo(byte[] algorithm, byte[] key) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(algorithm);
        body.writeBytes(tagged(0x04, key));
        return tagged(0x30, body.toByteArray());
    }

    /**
     * The AlgorithmIdentifier of a SEC1 ECPrivateKey, SEQUENCE { INTEGER 1, OCTET STRING, [0] curve OID, [1] ... }: the
     * curve is its [0] parameters, which openssl always writes.
     */
    private static byte[] ecAlgorithm(byte[] sec1) {
        int[] at = {0};
        expect(sec1, at, 0x30);
        length(sec1, at);
        expect(sec1, at, 0x02);
        int versionLength = length(sec1, at);
        at[0] += versionLength;
        expect(sec1, at, 0x04);
        int keyLength = length(sec1, at);
        at[0] += keyLength;
        expect(sec1, at, 0xa0);
        int curveLength = length(sec1, at);
        ByteArrayOutputStream algorithm = new ByteArrayOutputStream();
        algorithm.writeBytes(EC_PUBLIC_KEY);
        algorithm.write(sec1, at[0], curveLength);
        return tagged(0x30, algorithm.toByteArray());
    }

    private static void expect(byte[] der, int[] at, int tag) {
        if ((der[at[0]] & 0xff) != tag) {
            throw new IllegalArgumentException("DER tag 0x" + Integer.toHexString(der[at[0]] & 0xff) + " at "
                    + at[0] + " (expected: 0x" + Integer.toHexString(tag) + ")");
        }
        at[0]++;
    }

    private static int length(byte[] der, int[] at) {
        int first = der[at[0]++] & 0xff;
        if (first < 0x80) {
            return first;
        }
        int length = 0;
        for (int i = 0; i < (first & 0x7f); i++) {
            length = length << 8 | der[at[0]++] & 0xff;
        }
        return length;
    }

    private static byte[] tagged(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = content.length;
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length);
        } else {
            out.write(0x83);
            out.write(length >> 16);
            out.write(length >> 8);
            out.write(length);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }
}
