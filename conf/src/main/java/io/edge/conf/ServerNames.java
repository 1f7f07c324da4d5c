package io.edge.conf;

import java.net.IDN;
import java.util.Locale;

/**
 * What a site's server name may be: a name that some request's {@code Host} can match, as edge routes. A name no
 * {@code Host} can match would leave its site reachable only as the default site, without a word.
 *
 * <p>edge answers 400 to a {@code Host} that is not {@code uri-host [ ":" port ]} ({@link HostSyntax}: a reg-name
 * of unreserved characters, %HH and sub-delims less ',', with no empty label; or an IPv6 or IPvFuture literal in
 * brackets), and routes the rest by the host in lower case
 * without one trailing dot ({@code Router}), as nginx: an exact name first, then {@code *.suffix} (names under suffix)
 * and {@code .suffix} (suffix and names under it), then {@code prefix.*} (names that start so), then {@code ~regex}
 * (a host it finds a match in). So a server name is such a host, one of those wildcards over one, or a regular
 * expression that compiles. {@code _} (nginx's usual "no name") is a name like any.
 */
final class ServerNames {

    /** What is wrong with a name: said after the name in quotes, and what was expected instead. */
    record Fault(String message, String expected) {
    }

    private static final String HOST_NAME = "a host name such as example.org, *.example.org, .example.org or"
            + " www.example.*";
    private static final String IP_LITERAL = "a host name, or an IPv6 address in brackets as in Host: [::1]";

    private ServerNames() {
    }

    /**
     * {@code written} as requests are routed by: lower case, without one trailing dot (a fully qualified name); a
     * regular expression as written.
     */
    static String canonical(String written) {
        if (written.startsWith("~")) {
            return written;
        }
        String lower = written.toLowerCase(Locale.ROOT);
        // (not a trailing wildcard's: "www.example.*." is no name, as nginx says, not www.example.*)
        if (lower.length() > 1 && lower.endsWith(".") && !lower.endsWith("..") && !lower.endsWith(".*.")) {
            return lower.substring(0, lower.length() - 1);
        }
        return lower;
    }

    /** What is wrong with the server name {@code name} ({@link #canonical}), or {@code null} when a Host can match it. */
    static Fault fault(String name) {
        if (name.startsWith("~")) { // before the host checks: "(?:" and "/" are a regex's
            if (name.length() > 1 && Character.isWhitespace(name.charAt(1))) {
                // as match = "~ regex" is written: here the blank would be the regex's, and no host has one
                return new Fault("has white space after ~, which no host has",
                        "the regular expression right after ~, such as ~^shop\\.");
            }
            try {
                String group = LocationMatch.variableGroupFault(SiteSettings.serverNameRegex(name));
                return group == null ? null : new Fault(group, LocationMatch.VARIABLE_GROUP_EXPECTED);
            } catch (IllegalArgumentException e) {
                return new Fault(e.getMessage(), "a regular expression a host is matched with, such as"
                        + " ~^(www\\.)?example\\.(com|net)$");
            }
        }
        if (name.isEmpty() || name.chars().anyMatch(c -> Character.isWhitespace(c) || c == '/')) {
            return new Fault("is not a host name", HOST_NAME);
        }
        if (name.startsWith("[")) {
            return name.endsWith("]") && HostSyntax.isIpLiteral(name.substring(1, name.length() - 1)) ? null
                    : new Fault("is not an IPv6 address in brackets", IP_LITERAL);
        }
        if (name.indexOf(':') >= 0) {
            return new Fault("is not a host name", IP_LITERAL);
        }
        if (name.indexOf('\uFFFD') >= 0) {
            return null; // bytes that were not UTF-8, reported at this line (Utf8Check): what was meant is unknown
        }
        if (name.chars().anyMatch(c -> c > 0x7f)) {
            return new Fault("is not ASCII", asciiForm(name));
        }
        String suffix = name.startsWith("*.") ? name.substring(2) : name.startsWith(".") ? name.substring(1)
                : name.endsWith(".*") ? name.substring(0, name.length() - 2) : name;
        if (suffix.indexOf('*') >= 0) {
            return new Fault("has a '*' elsewhere than a whole first or last label",
                    "a wildcard such as *.example.org or www.example.*, or a regular expression such as"
                            + " ~^www\\..+\\.example\\.org$ (default = true answers hosts no name matches)");
        }
        int invalid = HostSyntax.invalidRegNameChar(suffix, 0, suffix.length());
        if (invalid >= 0) {
            return new Fault("has '" + suffix.charAt(invalid) + "', which no Host can carry", HOST_NAME);
        }
        if (suffix.isEmpty() || suffix.startsWith(".") || suffix.contains("..")) {
            return new Fault("has an empty label", HOST_NAME);
        }
        return null;
    }

    /** What to write instead of an international name: its ASCII (xn--) form, which is what a Host carries. */
    private static String asciiForm(String name) {
        try {
            return "its ASCII form as a Host carries it, \"" + IDN.toASCII(name) + "\"";
        } catch (IllegalArgumentException e) {
            return "a host name in ASCII, an international one in its xn-- form";
        }
    }
}
