package io.edge.conf;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.codec.digest.Md5Crypt;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.apache.commons.codec.digest.UnixCrypt;

/**
 * A password file as nginx's {@code auth_basic_user_file} reads it (Apache's htpasswd format): a line per user,
 * {@code name:hash} (anything after a second ':' or a CR is a comment), ending in LF or CRLF (the last line maybe in
 * neither). Empty lines, lines of spaces and tabs and lines starting with {@code #} or CR are skipped (nginx finds no
 * user on them and says nothing). The hashes nginx on Linux checks: {@code $apr1$} (htpasswd's default, {@code -m}),
 * {@code {SHA}} ({@code -s}), {@code {SSHA}}, {@code {PLAIN}}, and crypt(3)'s: {@code $1$}, {@code $5$}, {@code $6$},
 * DES, bcrypt ({@code $2y$}, htpasswd {@code -B}) and yescrypt ({@code $y$}, mkpasswd's default), checked by the
 * system's libcrypt as nginx checks them (by commons-codec where there is none, which has no bcrypt nor yescrypt:
 * then those are refused).
 *
 * @param users    each user's hash, by name (the first line of a name wins, as nginx reads the file top down)
 * @param problems each line that could not be read, as "line N: what"; its user is left out
 */
public record Htpasswd(Map<String, String> users, List<String> problems) {

    public Htpasswd {
        users = Map.copyOf(users);
        problems = List.copyOf(problems);
    }

    /**
     * Reads the file's text: its bytes, one char each (ISO-8859-1), as nginx compares names and passwords byte for
     * byte whatever their encoding.
     */
    public static Htpasswd parse(String text) {
        Map<String, String> users = new HashMap<>();
        List<String> problems = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank() || line.startsWith("#") || line.startsWith("\r")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                problems.add("line " + (i + 1) + ": no \"name:hash\"");
                continue;
            }
            String name = line.substring(0, colon);
            int end = colon + 1;
            while (end < line.length() && line.charAt(end) != ':' && line.charAt(end) != '\r') {
                end++;
            }
            String hash = line.substring(colon + 1, end);
            String fault = hashFault(hash);
            if (fault != null) {
                problems.add("line " + (i + 1) + ": user " + name + "'s hash " + fault);
                continue;
            }
            users.putIfAbsent(name, hash);
        }
        return new Htpasswd(users, problems);
    }

    /** Why {@code hash} is none edge can check, or null. */
    private static String hashFault(String hash) {
        if (bySystem(hash)) {
            return LibCrypt.AVAILABLE ? null : "is bcrypt, yescrypt or scrypt, which edge checks with the system's"
                    + " libcrypt.so.1, not usable here (" + LibCrypt.unavailabilityCause() + "): make it with htpasswd"
                    + " -m or -2, or openssl passwd -apr1 or -6";
        }
        if (!LibCrypt.AVAILABLE && (hash.startsWith("$5$") || hash.startsWith("$6$"))
                && (hash.startsWith("$$", 2) || hash.contains("rounds=") && !checkable(hash))) {
            return "has a salt or rounds no check takes (an empty salt, or rounds past what commons-codec allows):"
                    + " make it again with htpasswd -2 or openssl passwd -6";
        }
        if (hash.startsWith("$apr1$") || hash.startsWith("$1$") || hash.startsWith("$5$") || hash.startsWith("$6$")
                || hash.startsWith("{PLAIN}") || hash.startsWith("{SHA}") || hash.startsWith("{SSHA}")) {
            return null;
        }
        if (hash.startsWith("$") || hash.startsWith("{")) {
            return "is of a kind edge does not know (" + hash.substring(0, Math.min(hash.length(), 6)) + "...)";
        }
        return hash.length() == 13 ? null : "is empty or of no kind edge knows";
    }

    /** Whether {@code hash} is one of the kinds only the system's crypt checks: bcrypt, yescrypt, scrypt. */
    private static boolean bySystem(String hash) {
        return hash.startsWith("$2a$") || hash.startsWith("$2b$") || hash.startsWith("$2y$") || hash.startsWith("$y$")
                || hash.startsWith("$7$") || hash.startsWith("$gy$");
    }

    /** Whether the SHA-crypt {@code hash}'s salt and rounds are ones a check takes (it would throw for every password). */
    private static boolean checkable(String hash) {
        try {
            if (hash.startsWith("$5$")) {
                Sha2Crypt.sha256Crypt(new byte[0], hash);
            } else {
                Sha2Crypt.sha512Crypt(new byte[0], hash);
            }
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Whether {@code password} is {@code user}'s, by its hash; false for a user the file does not name. Both are bytes,
     * one char each (ISO-8859-1), as a client's {@code Authorization} carries them.
     */
    public boolean matches(String user, String password) {
        String hash = users.get(user);
        return hash != null && matchesHash(password.getBytes(StandardCharsets.ISO_8859_1), hash);
    }

    /** Whether {@code password} hashes to {@code hash} (a kind {@link #parse} accepted), compared in constant time. */
    static boolean matchesHash(byte[] password, String hash) {
        try {
            String made;
            if (hash.startsWith("{PLAIN}")) {
                made = "{PLAIN}" + new String(password, StandardCharsets.ISO_8859_1);
            } else if (hash.startsWith("{SHA}")) {
                made = "{SHA}" + Base64.getEncoder().encodeToString(sha1(password));
            } else if (hash.startsWith("{SSHA}")) {
                byte[] stored = Base64.getDecoder().decode(hash.substring(6));
                if (stored.length <= 20) {
                    return false;
                }
                byte[] salt = Arrays.copyOfRange(stored, 20, stored.length);
                byte[] salted = Arrays.copyOf(password, password.length + salt.length);
                System.arraycopy(salt, 0, salted, password.length, salt.length);
                return MessageDigest.isEqual(sha1(salted), Arrays.copyOf(stored, 20));
            } else if (hash.startsWith("$apr1$")) {
                made = Md5Crypt.apr1Crypt(password, hash); // nginx's own: crypt(3) has no apr1
            } else if (LibCrypt.AVAILABLE) {
                made = LibCrypt.crypt(password, hash); // every other kind as nginx's crypt(3) checks it
                if (made == null) {
                    return false;
                }
            } else if (hash.startsWith("$1$")) {
                made = Md5Crypt.md5Crypt(password, hash);
            } else if (hash.startsWith("$5$")) {
                made = Sha2Crypt.sha256Crypt(password, hash);
            } else if (hash.startsWith("$6$")) {
                made = Sha2Crypt.sha512Crypt(password, hash);
            } else {
                made = UnixCrypt.crypt(password, hash);
            }
            return MessageDigest.isEqual(made.getBytes(StandardCharsets.ISO_8859_1),
                    hash.getBytes(StandardCharsets.ISO_8859_1));
        } catch (IllegalArgumentException malformed) {
            return false; // a salt or encoding the hash's kind does not allow: no password matches it
        }
    }

    private static byte[] sha1(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-1", e);
        }
    }
}
