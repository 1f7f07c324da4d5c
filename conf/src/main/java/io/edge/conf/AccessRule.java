package io.edge.conf;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;

/**
 * One rule of a location's {@code access} list, nginx's {@code allow} and {@code deny}: {@code "allow 10.0.0.0/8"},
 * {@code "deny all"}. The list is read in order and the first rule whose range holds the client decides; a client no
 * rule names is let in, as nginx lets it in.
 *
 * @param allow whether the clients of {@code range} are let in
 * @param range the clients the rule is for; {@code null}: all
 */
public record AccessRule(boolean allow, AddressRange range) {

    /** What a rule is written as, for a message. */
    static final String EXPECTED = "\"allow <address or range>\", \"deny <address or range>\", \"allow all\" or"
            + " \"deny all\", such as \"allow 10.0.0.0/8\"";

    /** Whether {@code rules}, read in order, let {@code client} in. */
    public static boolean allows(List<AccessRule> rules, InetAddress client) {
        for (AccessRule rule : rules) {
            if (rule.range == null || rule.range.contains(client)) {
                return rule.allow;
            }
        }
        return true;
    }

    /**
     * A rule as written: {@code allow} or {@code deny}, white space, then {@code all} or an IP address or range
     * ({@link Addresses#range}: literals only, never a host name).
     *
     * @throws IllegalArgumentException saying what is wrong with {@code text}
     */
    static AccessRule parse(String text) {
        String[] words = text.strip().split("\\s+");
        if (words.length != 2) {
            throw new IllegalArgumentException(words.length < 2 ? "names no clients" : "has more than two words");
        }
        boolean allow = switch (words[0].toLowerCase(Locale.ROOT)) {
            case "allow" -> true;
            case "deny" -> false;
            default -> throw new IllegalArgumentException("starts with \"" + words[0] + "\", not allow or deny");
        };
        if (words[1].equalsIgnoreCase("all")) {
            return new AccessRule(allow, null);
        }
        return new AccessRule(allow, Addresses.range(words[1]));
    }

    @Override
    public String toString() {
        return (allow ? "allow " : "deny ") + (range == null ? "all" : range);
    }
}
