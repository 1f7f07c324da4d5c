package io.edge.conf;

import io.netty.util.NetUtil;

/**
 * The host of a {@code Host} header as edge takes it (RFC 9112 3.2, RFC 3986 3.2.2): an IP literal between brackets,
 * or a reg-name of unreserved characters, %HH escapes and sub-delims less ',' ({@code Host: a, b} is a list of two
 * hosts). One grammar for edge-core's request parsing, which answers 400 to any other host, and for the server names
 * a configuration may give a site ({@link ServerNames}), which must be hosts a request can carry.
 */
public final class HostSyntax {

    private HostSyntax() {
    }

    /** RFC 3986 {@code IPv6address / IPvFuture}, the text between the brackets; no zone identifier. */
    public static boolean isIpLiteral(String literal) {
        if (literal.startsWith("v") || literal.startsWith("V")) {
            int dot = literal.indexOf('.');
            if (dot < 2 || dot == literal.length() - 1) {
                return false;
            }
            for (int i = 1; i < dot; i++) {
                if (!isHex(literal.charAt(i))) {
                    return false;
                }
            }
            for (int i = dot + 1; i < literal.length(); i++) {
                char c = literal.charAt(i);
                if (c != ':' && !isRegNameChar(c)) {
                    return false;
                }
            }
            return true;
        }
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c != ':' && c != '.' && !isHex(c)) {
                return false;
            }
        }
        return NetUtil.isValidIpV6Address(literal);
    }

    /**
     * Where {@code value} from {@code from} to {@code to} first stops being a reg-name: the index of a character a
     * reg-name cannot carry, or of a '%' not followed by two hex digits; -1 when all of it is one.
     */
    public static int invalidRegNameChar(String value, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = value.charAt(i);
            if (c == '%') {
                if (i + 2 >= to || !isHex(value.charAt(i + 1)) || !isHex(value.charAt(i + 2))) {
                    return i;
                }
                i += 2;
            } else if (!isRegNameChar(c)) {
                return i;
            }
        }
        return -1;
    }

    /** RFC 3986 unreserved, or a sub-delim less ','. */
    private static boolean isRegNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~".indexOf(c) >= 0
                || "!$&'()*+;=".indexOf(c) >= 0;
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }
}
