package io.edge.conf;

import io.edge.fastcgi.tls.RevocationList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Certificates and keys in PEM files, as certbot and openssl write them, read with the JDK alone. A key may be PKCS#8
 * ({@code BEGIN PRIVATE KEY}, openssl genpkey's and certbot's now) or the older PKCS#1 and SEC1 forms
 * ({@code BEGIN RSA PRIVATE KEY}, {@code BEGIN EC PRIVATE KEY}), which are wrapped into PKCS#8 here, each of them
 * maybe encrypted with a passphrase; CRLs ({@code BEGIN X509 CRL}). Each method throws
 * {@link IllegalArgumentException} saying what is wrong, for a configuration problem.
 */
final class PemFiles {

    /** A PEM block: its type, the header lines of an encrypted traditional key (RFC 1421's), its base64. */
    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*((?:[A-Za-z-]+: *[^\\r\\n]*"
            + "\\r?\\n)*)([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    private static final String CRL_BEGIN = "-----BEGIN X509 CRL-----";
    private static final String CRL_END = "-----END X509 CRL-----";
    /** An encrypted traditional key's cipher and IV: "DEK-Info: AES-256-CBC,1F2E...". */
    private static final Pattern DEK_INFO = Pattern.compile("DEK-Info: *([A-Z0-9-]+),([0-9A-Fa-f]+)");
    /** AlgorithmIdentifier of rsaEncryption (1.2.840.113549.1.1.1) with its NULL parameters. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** The OID id-ecPublicKey (1.2.840.10045.2.1), DER. */
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    private static final byte[] PROBE = "edge checks the key".getBytes(StandardCharsets.US_ASCII);
    /** The CRLs of the files read, by the SHA-256 of their bytes, while a configuration holds them. */
    private static final ParsedCrls PARSED_CRLS = new ParsedCrls();

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

    /** The private key of {@code file}: its first key block, which must not be encrypted. */
    static PrivateKey privateKey(Path file) {
        return privateKey(file, null, List.of(), "ssl");
    }

    /**
     * The private key of {@code file}: its first key block; one encrypted with a passphrase (PKCS#8's "ENCRYPTED
     * PRIVATE KEY", or a traditional "RSA PRIVATE KEY" / "EC PRIVATE KEY" with "Proc-Type: 4,ENCRYPTED") decrypted by
     * the first of {@code passphrases} that does, as nginx tries the lines of ssl_password_file in turn.
     *
     * @param passwordFile where {@code passphrases} were read, for the message; null where none was named
     * @param directive    nginx's prefix of the key's directives, for the message: "ssl" (a site's key, whose
     *                     passphrases are ssl_password_file's) or "proxy_ssl" (a proxy group's, proxy_ssl_password_file)
     */
    static PrivateKey privateKey(Path file, Path passwordFile, List<String> passphrases, String directive) {
        Matcher block = BLOCK.matcher(read(file));
        while (block.find()) {
            String type = block.group(1);
            if (!type.endsWith("PRIVATE KEY")) {
                continue; // "EC PARAMETERS" before an openssl ecparam key
            }
            try {
                boolean encrypted = type.equals("ENCRYPTED PRIVATE KEY") || block.group(2).contains("ENCRYPTED");
                if (encrypted && passwordFile == null) {
                    throw new IllegalArgumentException(file + " holds a key encrypted with a passphrase, and"
                            + " tls.password-file names no file of passphrases (nginx's " + directive + "_password_file)");
                }
                if (encrypted) {
                    return decrypted(file, type, block, passwordFile, passphrases);
                }
                return plain(type, der(block), file);
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

    /** The key of an unencrypted block of {@code type}. */
    private static PrivateKey plain(String type, byte[] der, Path file) throws GeneralSecurityException {
        return switch (type) {
            case "PRIVATE KEY" -> pkcs8(der);
            case "RSA PRIVATE KEY" -> KeyFactory.getInstance("RSA").generatePrivate(
                    new PKCS8EncodedKeySpec(privateKeyInfo(RSA_ALGORITHM, der)));
            case "EC PRIVATE KEY" -> KeyFactory.getInstance("EC").generatePrivate(
                    new PKCS8EncodedKeySpec(privateKeyInfo(ecAlgorithm(der), der)));
            default -> throw new IllegalArgumentException(file + " holds a \"" + type + "\", not one of"
                    + " \"PRIVATE KEY\", \"RSA PRIVATE KEY\", \"EC PRIVATE KEY\"");
        };
    }

    /**
     * The key of an encrypted block, decrypted by the first of {@code passphrases} that does: PKCS#8's by the JDK's
     * PBES2 (PBKDF2 with HMAC-SHA1/SHA-224/256/384/512 and AES-CBC, openssl's since 1.1: "openssl genpkey
     * -aes-256-cbc", "openssl pkcs8 -topk8") and PBES1/PKCS#12 ciphers (openssl pkcs8 -v1 PBE-SHA1-3DES); a
     * traditional one by OpenSSL's EVP_BytesToKey (MD5, one round) and AES-CBC or DES-EDE3-CBC, as openssl genrsa
     * -aes256 wrote it before 3.0. BouncyCastle is not needed for either.
     */
    private static PrivateKey decrypted(Path file, String type, Matcher block, Path passwordFile,
            List<String> passphrases) throws GeneralSecurityException {
        byte[] der = der(block);
        String cipherName;
        EncryptedPrivateKeyInfo info = null;
        Matcher dekInfo = DEK_INFO.matcher(block.group(2));
        if (type.equals("ENCRYPTED PRIVATE KEY")) {
            try {
                info = new EncryptedPrivateKeyInfo(der);
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ": the encrypted private key cannot be read ("
                        + e.getMessage() + ")");
            }
            // PBES2's algorithm is its parameters' ("PBEWithHmacSHA256AndAES_256"), PBES1's its own name
            cipherName = info.getAlgParameters() != null && (info.getAlgName().equals("PBES2")
                    || info.getAlgName().equals("1.2.840.113549.1.5.13")) ? info.getAlgParameters().toString()
                    : info.getAlgName();
        } else if (dekInfo.find()) {
            cipherName = dekInfo.group(1);
        } else {
            throw new IllegalArgumentException(file + ": the encrypted " + type.toLowerCase() + " names no cipher"
                    + " (no \"DEK-Info:\" line)");
        }
        for (String passphrase : passphrases) {
            try {
                if (info != null) {
                    SecretKeyFactory factory = SecretKeyFactory.getInstance(cipherName);
                    Cipher cipher = Cipher.getInstance(cipherName);
                    cipher.init(Cipher.DECRYPT_MODE, factory.generateSecret(new PBEKeySpec(passphrase.toCharArray())),
                            info.getAlgParameters());
                    return pkcs8(info.getKeySpec(cipher).getEncoded());
                }
                return plain(type, traditionalDecrypted(file, der, cipherName, dekInfo.group(2), passphrase), file);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalArgumentException(file + ": the key is encrypted with " + cipherName + ", which"
                        + " this JVM does not decrypt: encrypt it again with openssl pkcs8 -topk8 -v2 aes-256-cbc");
            } catch (GeneralSecurityException | IllegalArgumentException | IndexOutOfBoundsException wrong) {
                // a wrong passphrase: bad padding, or bytes that are no key; the next one is tried
                if (wrong instanceof IllegalArgumentException && wrong.getMessage() != null
                        && wrong.getMessage().startsWith(file.toString())) {
                    throw wrong;
                }
            }
        }
        throw new IllegalArgumentException(file + ": " + (passphrases.size() == 1 ? "the passphrase of " + passwordFile
                + " does not decrypt its key" : "none of the " + passphrases.size() + " passphrases of " + passwordFile
                + " decrypts its key"));
    }

    /** The DER of a traditional encrypted key: OpenSSL's EVP_BytesToKey (MD5, one round, the IV's first 8 bytes). */
    private static byte[] traditionalDecrypted(Path file, byte[] encrypted, String cipherName, String ivHex,
            String passphrase) throws GeneralSecurityException {
        int keyLength = switch (cipherName) {
            case "AES-128-CBC" -> 16;
            case "AES-192-CBC", "DES-EDE3-CBC" -> 24;
            case "AES-256-CBC" -> 32;
            default -> throw new IllegalArgumentException(file + ": the key is encrypted with " + cipherName
                    + ", which edge does not decrypt: encrypt it again with openssl pkcs8 -topk8 -v2 aes-256-cbc");
        };
        String algorithm = cipherName.startsWith("AES") ? "AES" : "DESede";
        byte[] iv = HexFormat.of().parseHex(ivHex);
        byte[] password = passphrase.getBytes(StandardCharsets.UTF_8);
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        ByteArrayOutputStream key = new ByteArrayOutputStream();
        byte[] previous = new byte[0];
        while (key.size() < keyLength) {
            md5.update(previous);
            md5.update(password);
            md5.update(iv, 0, 8);
            previous = md5.digest();
            key.writeBytes(previous);
        }
        Cipher cipher = Cipher.getInstance(algorithm + "/CBC/PKCS5Padding");
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(Arrays.copyOf(key.toByteArray(), keyLength), algorithm),
                new IvParameterSpec(iv));
        return cipher.doFinal(encrypted);
    }

    /**
     * The passphrases of {@code file}, one a line (a line may be empty: an empty passphrase), as nginx's
     * ssl_password_file reads them; at least one.
     */
    static List<String> passphrases(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read (" + SettingsMapper.reason(e) + ")");
        }
        String lines = text.replaceAll("[\r\n]+$", "");
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no passphrase");
        }
        return Arrays.stream(lines.split("\n", -1)).map(line -> line.endsWith("\r")
                ? line.substring(0, line.length() - 1) : line).toList();
    }

    /**
     * The CRLs of {@code file} ("-----BEGIN X509 CRL-----" blocks); at least one. A file read before with the same
     * bytes, whose CRLs a configuration still holds, gives those CRLs again unparsed: a reload of a site whose CRL did
     * not change costs a read and a digest of the file, not the parse of every entry ({@link RevocationList}: some
     * 100 ms for 200 000).
     */
    static List<RevocationList> revocationLists(Path file) {
        byte[] bytes = bytes(file);
        String digest = sha256(bytes);
        List<RevocationList> known = PARSED_CRLS.held(digest);
        if (known != null) {
            return known;
        }
        // the blocks found by their lines, not by BLOCK: its match of a CRL's megabytes of base64 is slower than this
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        List<RevocationList> lists = new ArrayList<>();
        for (int begin = text.indexOf(CRL_BEGIN); begin >= 0; begin = text.indexOf(CRL_BEGIN, begin + 1)) {
            int end = text.indexOf(CRL_END, begin);
            try {
                if (end < 0) {
                    throw new IllegalArgumentException("no \"" + CRL_END + "\" after it");
                }
                // decoded from the file's bytes: a substring of megabytes would be copied twice first
                byte[] der = Base64.getMimeDecoder().decode(Arrays.copyOfRange(bytes, begin + CRL_BEGIN.length(), end));
                lists.add(RevocationList.of(der));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": CRL " + (lists.size() + 1) + " cannot be read ("
                        + e.getMessage() + ")");
            }
        }
        if (lists.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no CRL (no \"" + CRL_BEGIN + "\")");
        }
        PARSED_CRLS.hold(digest, lists);
        return List.copyOf(lists);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
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
        return new String(bytes(file), StandardCharsets.ISO_8859_1);
    }

    private static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read (" + SettingsMapper.reason(e) + ")");
        }
    }

    /** The bytes of {@code block}'s base64 (the MIME decoder skips its line breaks and spaces, the only others). */
    private static byte[] der(Matcher block) {
        return Base64.getMimeDecoder().decode(block.group(3));
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

    /**
     * CRLs parsed, by the digest of their file's bytes, held weakly: those a running configuration holds are found
     * again when a reload reads the same file; once no configuration holds them (a reload that read another file) they
     * are the collector's. A CRL of 200 000 entries is some 14 MB (its signed bytes, its serials, a sorted index of
     * them): none is kept for a file that may come back.
     */
    private static final class ParsedCrls {

        private final Map<String, List<WeakReference<RevocationList>>> byDigest = new HashMap<>();

        /** The CRLs parsed from bytes of {@code digest}, null where none are (or no longer all are) held. */
        synchronized List<RevocationList> held(String digest) {
            byDigest.values().removeIf(crls -> crls.stream().anyMatch(crl -> crl.get() == null));
            List<RevocationList> held = new ArrayList<>();
            for (WeakReference<RevocationList> reference : byDigest.getOrDefault(digest, List.of())) {
                RevocationList crl = reference.get(); // once: a second get() may find it collected in between
                if (crl == null) {
                    return null; // collected since
                }
                held.add(crl);
            }
            return held.isEmpty() ? null : List.copyOf(held);
        }

        synchronized void hold(String digest, List<RevocationList> crls) {
            byDigest.put(digest, crls.stream().map(WeakReference::new).toList());
        }
    }
}
