package io.edge.core.tls;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which of a site's certificates (one of each key type: RSA, ECDSA, Ed25519) answers a client hello, as nginx's
 * OpenSSL chooses among the certificates of a server block: netty-tcnative cannot, as its certificate callback asks
 * the key manager for each key type in the order of the server's own suites (OpenSslKeyMaterialManager, whatever the
 * client offers), and BoringSSL takes one certificate a connection, so the choice is made here, before the
 * connection's engine is, from the client hello the SNI handler read.
 * <ul>
 *   <li>TLSv1.3 (OpenSSL's tls_choose_sigalg): the first signature algorithm of the client's list (of the server's
 *   default list where the server's order is preferred) that a certificate signs with: ecdsa_secp256r1_sha256 a P-256
 *   key's (each ECDSA scheme names its curve), rsa_pss_rsae_* an RSA key's, ed25519 an Ed25519 key's.</li>
 *   <li>TLSv1.2 (ssl3_choose_cipher): the first cipher suite of the client's list (of the server's where its order is
 *   preferred) that both offer and a certificate serves: ECDHE_ECDSA the key of the first of the client's signature
 *   algorithms (of the server's, where its order is preferred) that an ECDSA key whose curve the client's groups hold
 *   or an Ed25519 key signs with, ECDHE_RSA an RSA key its signature algorithms name, RSA key exchange an RSA
 *   key.</li>
 * </ul>
 * Where none fits, the first certificate: the handshake then fails on it as nginx's does.
 */
final class CertificateChoice {

    /** A certificate's key as the handshake sees it: its type, and for ECDSA its curve. */
    enum Key {
        RSA(0, 0), P256(0x0403, 23), P384(0x0503, 24), P521(0x0603, 25), ED25519(0x0807, 0), OTHER(0, 0);

        /** The one TLSv1.3 signature scheme of an EC or Ed25519 key (0 for RSA's several). */
        final int scheme;
        /** An ECDSA key's curve, as supported_groups names it. */
        final int group;

        Key(int scheme, int group) {
            this.scheme = scheme;
            this.group = group;
        }

        boolean ecdsa() {
            return group != 0;
        }

        static Key of(PublicKey key) {
            if (key instanceof RSAPublicKey) {
                return RSA;
            }
            if (key instanceof ECPublicKey ec) {
                return switch (ec.getParams().getCurve().getField().getFieldSize()) {
                    case 256 -> P256;
                    case 384 -> P384;
                    case 521 -> P521;
                    default -> OTHER;
                };
            }
            if (key instanceof EdECPublicKey ed && "Ed25519".equals(ed.getParams().getName())) {
                return ED25519;
            }
            return OTHER;
        }
    }

    /** The authentication of TLSv1.2's suites edge has, by code. */
    private enum Auth { ECDSA, RSA_SIGNED, RSA_KEY_EXCHANGE }

    private record Suite(int code, String iana, String openSsl, Auth auth) {
    }

    private static final List<Suite> SUITES = List.of(
            new Suite(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", Auth.ECDSA),
            new Suite(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", Auth.RSA_SIGNED),
            new Suite(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
                    Auth.ECDSA),
            new Suite(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
                    Auth.RSA_SIGNED),
            new Suite(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", Auth.ECDSA),
            new Suite(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", Auth.RSA_SIGNED),
            new Suite(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", Auth.ECDSA),
            new Suite(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", Auth.RSA_SIGNED),
            new Suite(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", Auth.ECDSA),
            new Suite(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", Auth.RSA_SIGNED),
            new Suite(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", Auth.RSA_KEY_EXCHANGE),
            new Suite(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", Auth.RSA_KEY_EXCHANGE),
            new Suite(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", Auth.RSA_KEY_EXCHANGE),
            new Suite(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", Auth.RSA_KEY_EXCHANGE));

    private static final Map<Integer, Suite> BY_CODE = Map.copyOf(SUITES.stream()
            .collect(java.util.stream.Collectors.toMap(Suite::code, suite -> suite)));

    /**
     * OpenSSL's default list of signature algorithms (tls12_sigalgs), the server's order where it is preferred: ECDSA,
     * EdDSA, RSA-PSS, then PKCS#1 (TLSv1.2 alone).
     */
    private static final List<Integer> SERVER_SCHEMES = List.of(0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809,
            0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0203, 0x0301, 0x0201);

    private final List<Key> keys;
    /** The server's TLSv1.2 suites, by code, in its order. */
    private final List<Integer> serverSuites;
    private final boolean serverOrder;
    private final int lowest;
    private final int highest;

    /**
     * @param keys         the certificates' keys, in the site's order
     * @param serverSuites the suites the server offers (IANA's or OpenSSL's names), in its order
     * @param serverOrder  whether the server's order is preferred (prefer-server-ciphers)
     * @param protocols    the server's protocols ("TLSv1.2", "TLSv1.3")
     */
    CertificateChoice(List<Key> keys, List<String> serverSuites, boolean serverOrder, List<String> protocols) {
        this.keys = List.copyOf(keys);
        List<Integer> codes = new ArrayList<>();
        for (String name : serverSuites) {
            SUITES.stream().filter(s -> s.iana.equals(name) || s.openSsl.equals(name)).findFirst()
                    .ifPresent(suite -> codes.add(suite.code));
        }
        this.serverSuites = List.copyOf(codes);
        this.serverOrder = serverOrder;
        List<Integer> versions = protocols.stream().map(CertificateChoice::version).filter(v -> v != 0).toList();
        this.lowest = versions.stream().min(Integer::compare).orElse(ClientHello.TLS1_2);
        this.highest = versions.stream().max(Integer::compare).orElse(ClientHello.TLS1_3);
    }

    private static int version(String protocol) {
        return switch (protocol) {
            case "TLSv1" -> 0x0301;
            case "TLSv1.1" -> 0x0302;
            case "TLSv1.2" -> ClientHello.TLS1_2;
            case "TLSv1.3" -> ClientHello.TLS1_3;
            default -> 0;
        };
    }

    /** The index of the certificate that answers {@code hello} (null: none read), 0 where none fits. */
    int choose(ClientHello hello) {
        if (keys.size() == 1 || hello == null) {
            return 0;
        }
        int version = hello.version(lowest, highest);
        int chosen = version >= ClientHello.TLS1_3 ? byScheme(hello) : version != 0 ? bySuite(hello) : -1;
        return Math.max(chosen, 0);
    }

    /** TLSv1.3's: the certificate of the first scheme both name, in the preferred order; -1 for none. */
    private int byScheme(ClientHello hello) {
        List<Integer> offered = hello.signatureSchemes() == null ? List.of() : hello.signatureSchemes();
        for (int scheme : serverOrder ? SERVER_SCHEMES.stream().filter(offered::contains).toList() : offered) {
            for (int i = 0; i < keys.size(); i++) {
                Key key = keys.get(i);
                boolean signs = key == Key.RSA ? scheme >= 0x0804 && scheme <= 0x0806 : key.scheme == scheme;
                if (signs && SERVER_SCHEMES.contains(scheme)) {
                    return i;
                }
            }
        }
        return -1;
    }

    /** TLSv1.2's: the certificate of the first suite both offer that one serves, in the preferred order; -1 for none. */
    private int bySuite(ClientHello hello) {
        List<Integer> offered = hello.cipherSuites();
        // each suite once, so a hello listing one suite thousands of times (a 64 KiB hello holds 32767) costs each
        // check below once: the work is the hello's length times the server's suites, not its square
        List<Integer> order = new ArrayList<>(serverSuites.size());
        if (serverOrder) {
            serverSuites.stream().filter(offered::contains).forEach(order::add);
        } else {
            for (int code : offered) {
                if (serverSuites.contains(code) && !order.contains(code)) {
                    order.add(code);
                }
            }
        }
        for (int code : order) {
            Suite suite = BY_CODE.get(code);
            int index = switch (suite.auth) {
                case ECDSA -> ecdsa(hello);
                case RSA_SIGNED -> signsRsa(hello) ? indexOf(k -> k == Key.RSA) : -1;
                case RSA_KEY_EXCHANGE -> indexOf(k -> k == Key.RSA);
            };
            if (index >= 0) {
                return index;
            }
        }
        return -1;
    }

    /**
     * ECDHE_ECDSA's certificate (OpenSSL's tls_choose_sigalg over TLSv1.2): that of the first signature algorithm of
     * the preferred order that one signs with, an ECDSA scheme of SHA-256, -384 or -512 (any curve's) an ECDSA key
     * whose curve the client's groups hold, ed25519 an Ed25519 key; without the extension the ECDSA key (RFC 5246's
     * default, SHA-1 with the suite's key type); -1 for none. SHA-1's ECDSA scheme signs nothing, as OpenSSL 3.0's
     * security level 1 has it; SHA-224's, which OpenSSL takes, BoringSSL does not sign with (the handshake failed):
     * the next scheme decides.
     */
    private int ecdsa(ClientHello hello) {
        int ecdsa = indexOf(k -> k.ecdsa() && (hello.groups() == null || hello.groups().contains(k.group)));
        List<Integer> offered = hello.signatureSchemes();
        if (offered == null) {
            return ecdsa;
        }
        int ed25519 = indexOf(k -> k == Key.ED25519);
        for (int scheme : serverOrder ? SERVER_SCHEMES.stream().filter(offered::contains).toList() : offered) {
            if (ecdsa >= 0 && (scheme & 0xff) == 3 && (scheme >> 8) >= 4 && (scheme >> 8) <= 6) {
                return ecdsa;
            }
            if (ed25519 >= 0 && scheme == Key.ED25519.scheme) {
                return ed25519;
            }
        }
        return -1;
    }

    /**
     * Whether TLSv1.2's signature algorithms of {@code hello} take an RSA key's signature: PKCS#1 of any hash (SHA-1's
     * too: OpenSSL gives ECDHE_RSA the RSA certificate then, and fails the handshake on it) or rsa_pss_rsae_*; without
     * the extension, SHA-1 with the suite's key type (RFC 5246 7.4.1.4.1).
     */
    private static boolean signsRsa(ClientHello hello) {
        return hello.signatureSchemes() == null || hello.signatureSchemes().stream().anyMatch(scheme ->
                scheme >= 0x0804 && scheme <= 0x0806 || (scheme & 0xff) == 1 && (scheme >> 8) >= 2 && (scheme >> 8) <= 6);
    }

    private int indexOf(java.util.function.Predicate<Key> matches) {
        for (int i = 0; i < keys.size(); i++) {
            if (matches.test(keys.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
