package io.edge.conf;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.function.Supplier;

/**
 * A location's {@code secure-link}, nginx's {@code secure_link $arg_md5,$arg_expires;} with {@code secure_link_md5}
 * and the two {@code if ($secure_link = "") / ("0")} returns beside them: a signed, expiring URL (a thumbnail a PHP
 * page links to) is let through, another answered with {@link #invalid}, one past its time with {@link #expired}.
 *
 * <p>As nginx's module: {@link #link}'s value is the hash, then optionally a comma and the expiry time (unix seconds,
 * decimal digits only, above 0); the hash is the MD5 of {@link #md5}'s value in base64url (22 characters, padding
 * optional), compared in constant time. {@code $secure_link} is "" for a link missing, malformed or wrong, "0" for a
 * right one whose time is before now, "1" for a right one (one without a time never expires); {@code
 * $secure_link_expires} the time's text, which {@link #md5} names to sign it.
 *
 * @param link    nginx's {@code secure_link} expression: text with the request's variables
 * @param md5     nginx's {@code secure_link_md5} expression: text with the request's variables and {@code
 *                $secure_link_expires}
 * @param invalid the answer where {@code $secure_link} is "", or null for none: the request goes on (nginx's
 *                secure_link without its if; a location's rewrites, or its script, decide by {@code $secure_link})
 * @param expired the answer where {@code $secure_link} is "0", or null for none, likewise
 */
public record SecureLink(List<Return.Part> link, List<Return.Part> md5, Return invalid, Return expired) {

    /** {@code $secure_link}'s values. */
    public static final String INVALID = "";
    public static final String EXPIRED = "0";
    public static final String VALID = "1";

    public SecureLink {
        link = List.copyOf(link);
        md5 = List.copyOf(md5);
    }

    /** Whether an answer of its own refuses some links: false where both are null, nginx's secure_link alone. */
    public boolean answers() {
        return invalid != null || expired != null;
    }

    /**
     * {@code $secure_link} of a request whose {@link #link} came out as {@code linkValue}, {@link #md5} as {@code
     * signed} gives it (the bytes, one char each: asked only for a well-formed hash), at {@code nowSeconds} (unix
     * time).
     */
    public static String check(String linkValue, Supplier<String> signed, long nowSeconds) {
        int comma = linkValue.indexOf(',');
        String hash = comma < 0 ? linkValue : linkValue.substring(0, comma);
        long expires = 0;
        if (comma >= 0) {
            expires = seconds(linkValue.substring(comma + 1));
            if (expires <= 0) {
                return INVALID;
            }
        }
        // nginx reads at most 24 characters: 22 of a 16-byte MD5 and its "==" padding
        byte[] sent = hash.length() > 24 ? null : decodeBase64Url(hash);
        if (sent == null || sent.length != 16) {
            return INVALID;
        }
        byte[] expected = newMd5().digest(signed.get().getBytes(StandardCharsets.ISO_8859_1));
        if (!MessageDigest.isEqual(sent, expected)) { // constant time (nginx's memcmp is not)
            return INVALID;
        }
        return expires != 0 && expires < nowSeconds ? EXPIRED : VALID;
    }

    /**
     * {@code $secure_link_expires} of a request whose {@link #link} came out as {@code linkValue}: the text after its
     * first comma where that is a time nginx takes; else null (not found).
     */
    public static String expiresText(String linkValue) {
        int comma = linkValue.indexOf(',');
        if (comma < 0) {
            return null;
        }
        String text = linkValue.substring(comma + 1);
        return seconds(text) > 0 ? text : null;
    }

    /** {@code text} as nginx's {@code ngx_atotm} reads it: decimal digits alone, else (or past a long) -1. */
    static long seconds(String text) {
        if (text.isEmpty()) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9' || value > (Long.MAX_VALUE - (c - '0')) / 10) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /**
     * {@code text} decoded as nginx's {@code ngx_decode_base64url} does: up to its first {@code =} (what follows is
     * not read), every character before it of the URL alphabet ({@code -} and {@code _}, not {@code +} and {@code /});
     * a length that leaves one character over is no base64; unused low bits of the last character are not checked.
     * Null for no base64url.
     */
    static byte[] decodeBase64Url(String text) {
        int length = text.indexOf('=');
        if (length < 0) {
            length = text.length();
        }
        if (length % 4 == 1) {
            return null;
        }
        int[] sextets = new int[length];
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
                    : c >= '0' && c <= '9' ? c - '0' + 52 : c == '-' ? 62 : c == '_' ? 63 : -1;
            if (v < 0) {
                return null;
            }
            sextets[i] = v;
        }
        byte[] out = new byte[length / 4 * 3 + Math.max(0, length % 4 - 1)];
        int o = 0;
        int s = 0;
        for (; length - s > 3; s += 4) {
            out[o++] = (byte) (sextets[s] << 2 | sextets[s + 1] >> 4);
            out[o++] = (byte) (sextets[s + 1] << 4 | sextets[s + 2] >> 2);
            out[o++] = (byte) (sextets[s + 2] << 6 | sextets[s + 3]);
        }
        if (length - s > 1) {
            out[o++] = (byte) (sextets[s] << 2 | sextets[s + 1] >> 4);
        }
        if (length - s > 2) {
            out[o] = (byte) (sextets[s + 1] << 4 | sextets[s + 2] >> 2);
        }
        return out;
    }

    private static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has MD5", e);
        }
    }
}
