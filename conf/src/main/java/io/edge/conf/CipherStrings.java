package io.edge.conf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * OpenSSL's cipher strings, as nginx's ssl_ciphers takes them ("HIGH:!aNULL:!MD5", "ECDHE+AESGCM:!aNULL",
 * "DEFAULT:!RC4", "@STRENGTH"), expanded as OpenSSL 3.0's ssl_create_cipher_list does over the suites of TLSv1.2 and
 * below that edge's providers have (BoringSSL's, which the JDK has too; its PSK suites left out: edge has no PSK
 * keys, nor has nginx 1.22). OpenSSL expands over its whole list; each step (add, delete, kill, move to the end,
 * sort by strength) keeps the order of the suites it does not touch, so the expansion over this subset is OpenSSL's
 * list with the suites edge lacks taken out.
 *
 * <p>The grammar: words separated by colons, commas, spaces or semicolons; a word a suite's name or an alias
 * ({@link #ALIASES}), or aliases joined by '+' (their intersection); before it, nothing (add the matching suites not
 * yet on the list, at its end), '-' (take them off; a later word may add them back), '!' (take them off for good),
 * '+' (move those on the list to its end); "@STRENGTH" sorts the list by key length, longest first, keeping the order
 * within a length; "@SECLEVEL=n" is taken and has no effect on the list. "DEFAULT" at the start is
 * "ALL:!COMPLEMENTOFDEFAULT:!eNULL". '-' moves the suites it takes off to the front of the whole list, in their
 * order, as OpenSSL's does (the last taken off come first when added back: "AES128-SHA:-ALL:ALL" has AES128-SHA
 * first). A word that is neither a suite edge has nor an alias matches nothing, as OpenSSL skips the words it does
 * not know (its suites that BoringSSL lacks, "RC4", "EXP"); so do Suite B's words ("SUITEB128"), which OpenSSL
 * reads apart and edge does not.
 */
final class CipherStrings {

    // Key exchange.
    private static final int K_RSA = 1;
    private static final int K_ECDHE = 2;
    private static final int K_DHE = 4;
    private static final int K_PSK = 8;
    // Authentication.
    private static final int A_RSA = 1;
    private static final int A_ECDSA = 2;
    private static final int A_NULL = 4;
    private static final int A_DSS = 8;
    private static final int A_PSK = 16;
    // Encryption.
    private static final int AES128 = 1;
    private static final int AES256 = 2;
    private static final int AES128GCM = 4;
    private static final int AES256GCM = 8;
    private static final int CHACHA20 = 16;
    private static final int TRIPLE_DES = 32;
    private static final int E_NULL = 64;
    private static final int AES = AES128 | AES256 | AES128GCM | AES256GCM;
    // Message authentication.
    private static final int SHA1 = 1;
    private static final int SHA256 = 2;
    private static final int SHA384 = 4;
    private static final int AEAD = 8;
    private static final int MD5 = 16;
    // Strength (OpenSSL's SSL_STRONG_MASK), and SSL_NOT_DEFAULT apart.
    private static final int LOW = 2;
    private static final int MEDIUM = 4;
    private static final int HIGH = 8;
    private static final int FIPS = 16;
    private static final int STRONG_MASK = 31;
    private static final int NOT_DEFAULT = 32;
    // The lowest protocol version of a suite, as OpenSSL's min_tls.
    private static final int SSL3 = 0x300;
    private static final int TLS1 = 0x301;
    private static final int TLS1_2 = 0x303;

    /** A suite: its names, OpenSSL's attributes, and the key length @STRENGTH sorts by. */
    record Suite(String name, String iana, int kx, int auth, int enc, int mac, int minTls, int strength, int bits) {
    }

    /** A word's pattern: each field 0 for any; a suite's own name matches that suite alone. */
    private record Alias(String suite, int kx, int auth, int enc, int mac, int minTls, int strength) {
    }

    /**
     * edge's suites in the order OpenSSL 3.0 sorts its whole list before reading the string ("openssl ciphers ALL"):
     * ECDHE before the rest, AEAD first within each, then by key length, AES-GCM before ChaCha20.
     */
    static final List<Suite> SUITES = List.of(
            new Suite("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", K_ECDHE, A_ECDSA,
                    AES256GCM, AEAD, TLS1_2, HIGH | FIPS, 256),
            new Suite("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", K_ECDHE, A_RSA,
                    AES256GCM, AEAD, TLS1_2, HIGH | FIPS, 256),
            new Suite("ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", K_ECDHE,
                    A_ECDSA, CHACHA20, AEAD, TLS1_2, HIGH, 256),
            new Suite("ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", K_ECDHE, A_RSA,
                    CHACHA20, AEAD, TLS1_2, HIGH, 256),
            new Suite("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", K_ECDHE, A_ECDSA,
                    AES128GCM, AEAD, TLS1_2, HIGH | FIPS, 128),
            new Suite("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", K_ECDHE, A_RSA,
                    AES128GCM, AEAD, TLS1_2, HIGH | FIPS, 128),
            new Suite("ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", K_ECDHE, A_ECDSA, AES256, SHA1,
                    TLS1, HIGH | FIPS, 256),
            new Suite("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", K_ECDHE, A_RSA, AES256, SHA1, TLS1,
                    HIGH | FIPS, 256),
            new Suite("ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", K_ECDHE, A_ECDSA, AES128, SHA1,
                    TLS1, HIGH | FIPS, 128),
            new Suite("ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", K_ECDHE, A_RSA, AES128, SHA1, TLS1,
                    HIGH | FIPS, 128),
            new Suite("AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", K_RSA, A_RSA, AES256GCM, AEAD, TLS1_2,
                    HIGH | FIPS, 256),
            new Suite("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", K_RSA, A_RSA, AES128GCM, AEAD, TLS1_2,
                    HIGH | FIPS, 128),
            new Suite("AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", K_RSA, A_RSA, AES256, SHA1, SSL3, HIGH | FIPS, 256),
            new Suite("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", K_RSA, A_RSA, AES128, SHA1, SSL3, HIGH | FIPS,
                    128));

    /**
     * OpenSSL 3.0's aliases (ssl_ciph.c's cipher_aliases) that can match a suite of edge's or take part in a word
     * that does; the rest (RC4, CAMELLIA, SRP, GOST...) match none of them, as an unknown word.
     */
    private static final Map<String, Alias> ALIASES = Map.ofEntries(
            Map.entry("ALL", new Alias(null, 0, 0, ~E_NULL, 0, 0, 0)),
            Map.entry("COMPLEMENTOFALL", new Alias(null, 0, 0, E_NULL, 0, 0, 0)),
            Map.entry("COMPLEMENTOFDEFAULT", new Alias(null, 0, 0, 0, 0, 0, NOT_DEFAULT)),
            Map.entry("kRSA", new Alias(null, K_RSA, 0, 0, 0, 0, 0)),
            Map.entry("kEDH", new Alias(null, K_DHE, 0, 0, 0, 0, 0)),
            Map.entry("kDHE", new Alias(null, K_DHE, 0, 0, 0, 0, 0)),
            Map.entry("DH", new Alias(null, K_DHE, 0, 0, 0, 0, 0)),
            Map.entry("kEECDH", new Alias(null, K_ECDHE, 0, 0, 0, 0, 0)),
            Map.entry("kECDHE", new Alias(null, K_ECDHE, 0, 0, 0, 0, 0)),
            Map.entry("ECDH", new Alias(null, K_ECDHE, 0, 0, 0, 0, 0)),
            Map.entry("kPSK", new Alias(null, K_PSK, 0, 0, 0, 0, 0)),
            Map.entry("aRSA", new Alias(null, 0, A_RSA, 0, 0, 0, 0)),
            Map.entry("aDSS", new Alias(null, 0, A_DSS, 0, 0, 0, 0)),
            Map.entry("DSS", new Alias(null, 0, A_DSS, 0, 0, 0, 0)),
            Map.entry("aNULL", new Alias(null, 0, A_NULL, 0, 0, 0, 0)),
            Map.entry("aECDSA", new Alias(null, 0, A_ECDSA, 0, 0, 0, 0)),
            Map.entry("ECDSA", new Alias(null, 0, A_ECDSA, 0, 0, 0, 0)),
            Map.entry("aPSK", new Alias(null, 0, A_PSK, 0, 0, 0, 0)),
            Map.entry("EDH", new Alias(null, K_DHE, ~A_NULL, 0, 0, 0, 0)),
            Map.entry("DHE", new Alias(null, K_DHE, ~A_NULL, 0, 0, 0, 0)),
            Map.entry("EECDH", new Alias(null, K_ECDHE, ~A_NULL, 0, 0, 0, 0)),
            Map.entry("ECDHE", new Alias(null, K_ECDHE, ~A_NULL, 0, 0, 0, 0)),
            Map.entry("NULL", new Alias(null, 0, 0, E_NULL, 0, 0, 0)),
            Map.entry("eNULL", new Alias(null, 0, 0, E_NULL, 0, 0, 0)),
            Map.entry("RSA", new Alias(null, K_RSA, A_RSA, 0, 0, 0, 0)),
            Map.entry("ADH", new Alias(null, K_DHE, A_NULL, 0, 0, 0, 0)),
            Map.entry("AECDH", new Alias(null, K_ECDHE, A_NULL, 0, 0, 0, 0)),
            Map.entry("PSK", new Alias(null, K_PSK, 0, 0, 0, 0, 0)),
            Map.entry("3DES", new Alias(null, 0, 0, TRIPLE_DES, 0, 0, 0)),
            Map.entry("AES128", new Alias(null, 0, 0, AES128 | AES128GCM, 0, 0, 0)),
            Map.entry("AES256", new Alias(null, 0, 0, AES256 | AES256GCM, 0, 0, 0)),
            Map.entry("AES", new Alias(null, 0, 0, AES, 0, 0, 0)),
            Map.entry("AESGCM", new Alias(null, 0, 0, AES128GCM | AES256GCM, 0, 0, 0)),
            Map.entry("CBC", new Alias(null, 0, 0, AES128 | AES256 | TRIPLE_DES, 0, 0, 0)),
            Map.entry("CHACHA20", new Alias(null, 0, 0, CHACHA20, 0, 0, 0)),
            Map.entry("MD5", new Alias(null, 0, 0, 0, MD5, 0, 0)),
            Map.entry("SHA1", new Alias(null, 0, 0, 0, SHA1, 0, 0)),
            Map.entry("SHA", new Alias(null, 0, 0, 0, SHA1, 0, 0)),
            Map.entry("SHA256", new Alias(null, 0, 0, 0, SHA256, 0, 0)),
            Map.entry("SHA384", new Alias(null, 0, 0, 0, SHA384, 0, 0)),
            Map.entry("SSLv3", new Alias(null, 0, 0, 0, 0, SSL3, 0)),
            Map.entry("TLSv1", new Alias(null, 0, 0, 0, 0, TLS1, 0)),
            Map.entry("TLSv1.0", new Alias(null, 0, 0, 0, 0, TLS1, 0)),
            Map.entry("TLSv1.2", new Alias(null, 0, 0, 0, 0, TLS1_2, 0)),
            Map.entry("LOW", new Alias(null, 0, 0, 0, 0, 0, LOW)),
            Map.entry("MEDIUM", new Alias(null, 0, 0, 0, 0, 0, MEDIUM)),
            Map.entry("HIGH", new Alias(null, 0, 0, 0, 0, 0, HIGH)),
            Map.entry("FIPS", new Alias(null, 0, 0, 0, 0, 0, FIPS)));

    private CipherStrings() {
    }

    /** A word of a cipher string: OpenSSL's characters of names and aliases. */
    private static boolean wordChar(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
                || c == '.' || c == '=';
    }

    private static boolean separator(char c) {
        return c == ':' || c == ' ' || c == ';' || c == ',';
    }

    /**
     * The suites {@code cipherString} gives, IANA's names in OpenSSL's order (none: it matches no suite edge has).
     *
     * @throws IllegalArgumentException where OpenSSL refuses the string: a character no word holds ("HIGH:*"), or
     *                                  an '@' command other than STRENGTH and SECLEVEL=n (OpenSSL's "invalid command")
     */
    static List<String> expand(String cipherString) {
        // Every suite in OpenSSL's order, each on the list (active) or not: a word adds the matching ones not on it at
        // its end, in the order they hold in this list, so where those taken off stand counts.
        List<Suite> order = new ArrayList<>(SUITES);
        List<Suite> active = new ArrayList<>();
        String rest = cipherString;
        if (rest.startsWith("DEFAULT")) {
            apply("ALL:!COMPLEMENTOFDEFAULT:!eNULL", order, active);
            rest = rest.substring("DEFAULT".length());
            if (rest.startsWith(":")) {
                rest = rest.substring(1);
            }
        }
        apply(rest, order, active);
        return order.stream().filter(active::contains).map(Suite::iana).toList();
    }

    private static void apply(String string, List<Suite> order, List<Suite> active) {
        int at = 0;
        while (at < string.length()) {
            char op = string.charAt(at);
            if (separator(op)) {
                at++;
                continue;
            }
            if (op == '-' || op == '+' || op == '!' || op == '@') {
                at++;
            } else {
                op = 0;
            }
            int end = at;
            while (end < string.length() && !separator(string.charAt(end))) {
                end++;
            }
            String word = string.substring(at, end);
            at = end;
            if (op == '@') {
                if (word.equals("STRENGTH")) {
                    List<Suite> sorted = order.stream().filter(active::contains)
                            .sorted(Comparator.comparingInt(Suite::bits).reversed()).toList();
                    order.removeAll(sorted);
                    order.addAll(sorted);
                } else if (!word.matches("SECLEVEL=[0-5]")) {
                    throw new IllegalArgumentException("\"@" + word + "\" is not OpenSSL's @STRENGTH or @SECLEVEL=n");
                }
                continue;
            }
            if (word.isEmpty() || word.startsWith("+") || word.endsWith("+") || word.contains("++")) {
                throw new IllegalArgumentException("\"" + (op == 0 ? "" : op) + word + "\" lacks a word where"
                        + " OpenSSL reads one");
            }
            for (char c : word.toCharArray()) {
                if (!wordChar(c) && c != '+') {
                    throw new IllegalArgumentException("\"" + (op == 0 ? "" : op) + word + "\" holds '" + c
                            + "', which no cipher string's word does");
                }
            }
            Optional<Alias> pattern = pattern(word);
            if (pattern.isEmpty()) {
                continue;
            }
            List<Suite> matching = order.stream().filter(suite -> matches(pattern.get(), suite)).toList();
            switch (op) {
                case '-' -> {
                    List<Suite> taken = matching.stream().filter(active::contains).toList();
                    order.removeAll(taken);
                    order.addAll(0, taken);
                    active.removeAll(taken);
                }
                case '!' -> {
                    active.removeAll(matching);
                    order.removeAll(matching);
                }
                case '+' -> {
                    List<Suite> moved = matching.stream().filter(active::contains).toList();
                    order.removeAll(moved);
                    order.addAll(moved);
                }
                default -> {
                    List<Suite> added = matching.stream().filter(suite -> !active.contains(suite)).toList();
                    order.removeAll(added);
                    order.addAll(added);
                    active.addAll(added);
                }
            }
        }
    }

    /**
     * The pattern of a word, its aliases joined by '+' intersected field by field as OpenSSL's
     * ssl_cipher_process_rulestr does; empty where a part is unknown or the intersection is empty (OpenSSL skips
     * the word).
     */
    private static Optional<Alias> pattern(String word) {
        Alias pattern = new Alias(null, 0, 0, 0, 0, 0, 0);
        for (String part : word.split("\\+", -1)) {
            Alias alias = ALIASES.get(part);
            if (alias == null) {
                alias = SUITES.stream().filter(suite -> suite.name().equals(part)).findFirst()
                        .map(suite -> new Alias(suite.name(), suite.kx(), suite.auth(), suite.enc(), suite.mac(),
                                0, suite.strength()))
                        .orElse(null);
            }
            if (alias == null) {
                return Optional.empty();
            }
            int kx = both(pattern.kx(), alias.kx());
            int auth = both(pattern.auth(), alias.auth());
            int enc = both(pattern.enc(), alias.enc());
            int mac = both(pattern.mac(), alias.mac());
            int strength = both(pattern.strength(), alias.strength());
            if (kx == 0 && (pattern.kx() | alias.kx()) != 0 || auth == 0 && (pattern.auth() | alias.auth()) != 0
                    || enc == 0 && (pattern.enc() | alias.enc()) != 0 || mac == 0 && (pattern.mac() | alias.mac()) != 0
                    || strength == 0 && (pattern.strength() | alias.strength()) != 0
                    || pattern.minTls() != 0 && alias.minTls() != 0 && pattern.minTls() != alias.minTls()) {
                return Optional.empty();
            }
            pattern = new Alias(alias.suite() != null ? alias.suite() : pattern.suite(), kx, auth, enc, mac,
                    pattern.minTls() != 0 ? pattern.minTls() : alias.minTls(), strength);
        }
        return Optional.of(pattern);
    }

    /** Two masks of one field: their intersection, or the one set where the other is any (0). */
    private static int both(int one, int other) {
        return one == 0 ? other : other == 0 ? one : one & other;
    }

    private static boolean matches(Alias pattern, Suite suite) {
        return (pattern.suite() == null || pattern.suite().equals(suite.name()))
                && (pattern.kx() == 0 || (pattern.kx() & suite.kx()) != 0)
                && (pattern.auth() == 0 || (pattern.auth() & suite.auth()) != 0)
                && (pattern.enc() == 0 || (pattern.enc() & suite.enc()) != 0)
                && (pattern.mac() == 0 || (pattern.mac() & suite.mac()) != 0)
                && (pattern.minTls() == 0 || pattern.minTls() == suite.minTls())
                && ((pattern.strength() & STRONG_MASK) == 0
                        || (pattern.strength() & suite.strength() & STRONG_MASK) != 0)
                && ((pattern.strength() & NOT_DEFAULT) == 0 || (suite.strength() & NOT_DEFAULT) != 0);
    }
}
