package io.edge.conf;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A location's regular expression as nginx's PCRE reads its character classes, rewritten for {@link java.util.regex}:
 * a POSIX class ({@code [[:digit:]]}, {@code [[:^space:]]}) becomes the Java class of the same ASCII set (Java took
 * {@code [[:digit:]]} as the characters {@code :dgit}, so a rule copied from nginx matched other paths and said
 * nothing); a {@code ]} right after {@code [} or {@code [^} is literal, as in PCRE. A {@code [} that starts no POSIX
 * class, or {@code &&}, inside a class is refused: PCRE takes either as itself, Java as a nested class or an
 * intersection, so a regex written for one would silently match otherwise (escaped, {@code \[} and {@code \&}, it
 * means the same to both). PCRE's Python-style named groups ({@code (?P<name>...)}, {@code (?P=name)}) become Java's;
 * a group name Java cannot take ({@code my_name}) is refused, saying so. Everything else is left as written,
 * {@code \Q...\E} and escapes included.
 */
final class PcreClasses {

    /** PCRE's POSIX class names and the Java classes of the same (ASCII) sets. */
    private static final Map<String, String> POSIX = Map.ofEntries(
            Map.entry("alpha", "p{Alpha}"), Map.entry("digit", "p{Digit}"), Map.entry("alnum", "p{Alnum}"),
            Map.entry("upper", "p{Upper}"), Map.entry("lower", "p{Lower}"), Map.entry("space", "p{Space}"),
            Map.entry("blank", "p{Blank}"), Map.entry("punct", "p{Punct}"), Map.entry("xdigit", "p{XDigit}"),
            Map.entry("cntrl", "p{Cntrl}"), Map.entry("graph", "p{Graph}"), Map.entry("print", "p{Print}"),
            Map.entry("ascii", "p{ASCII}"), Map.entry("word", "w"));

    private PcreClasses() {
    }

    /**
     * @throws IllegalArgumentException for a POSIX class name PCRE does not know, or one outside a class (PCRE refuses
     *                                  both), or a {@code [} or {@code &&} inside a class (read otherwise by each),
     *                                  saying where
     */
    static String toJava(String pcre) {
        StringBuilder java = new StringBuilder(pcre.length() + 16);
        boolean inClass = false;
        boolean extended = false; // (?x) met: PCRE keeps white space inside a class, Java drops it
        int groups = 0;
        int backReference = 0;
        int backReferenceAt = -1;
        int i = 0;
        while (i < pcre.length()) {
            char c = pcre.charAt(i);
            if (c == '\\' && i + 1 < pcre.length()) {
                if (pcre.charAt(i + 1) == 'Q') { // quoted up to \E (or the end), as written
                    int end = pcre.indexOf("\\E", i + 2);
                    int next = end < 0 ? pcre.length() : end + 2;
                    java.append(pcre, i, next);
                    i = next;
                } else {
                    char escaped = pcre.charAt(i + 1);
                    if (!inClass && escaped >= '1' && escaped <= '9' && escaped - '0' > backReference) {
                        backReference = escaped - '0';
                        backReferenceAt = i;
                    }
                    java.append(c).append(escaped);
                    i += 2;
                }
                continue;
            }
            if (!inClass && c == '(') {
                Matcher flags = INLINE_FLAGS.matcher(pcre).region(i, pcre.length());
                if (flags.lookingAt()) {
                    String letters = flags.group(1);
                    for (char flag : new char[] {'U', 'u', 'd'}) {
                        if (letters.indexOf(flag) >= 0) {
                            throw new IllegalArgumentException("(?" + flag + ") at index " + i + " is not taken: "
                                    + (flag == 'U' ? "PCRE's ungreedy mode, Java's Unicode classes (write *? or +? for"
                                    + " a lazy match)" : "a Java flag PCRE, as nginx, does not have"));
                        }
                    }
                    int on = letters.indexOf('-') < 0 ? letters.length() : letters.indexOf('-');
                    extended |= letters.substring(0, on).indexOf('x') >= 0;
                } else if (!pcre.startsWith("(?", i) || pcre.startsWith("(?<", i) && !pcre.startsWith("(?<=", i)
                        && !pcre.startsWith("(?<!", i) || pcre.startsWith("(?P<", i)) {
                    groups++;
                }
            }
            if (inClass && extended && (c == ' ' || c == '\t')) {
                throw new IllegalArgumentException("white space inside a class at index " + i + " under (?x): PCRE, as"
                        + " nginx, keeps it, Java drops it; write \\x20 (or \\t) for it");
            }
            int posixEnd = posixEnd(pcre, i);
            if (posixEnd > 0) {
                if (!inClass) {
                    throw new IllegalArgumentException("POSIX class " + pcre.substring(i, posixEnd) + " at index " + i
                            + " outside a class (as [" + pcre.substring(i, posixEnd) + "])");
                }
                boolean negated = pcre.charAt(i + 2) == '^';
                String name = pcre.substring(i + (negated ? 3 : 2), posixEnd - 2);
                String javaClass = POSIX.get(name);
                if (javaClass == null) {
                    throw new IllegalArgumentException("unknown POSIX class [:" + name + ":] at index " + i);
                }
                java.append('\\').append(negated ? invert(javaClass) : javaClass);
                i = posixEnd;
                continue;
            }
            if (!inClass && c == '(' && pcre.startsWith("(?", i)) {
                int next = namedGroup(pcre, i, java);
                if (next > i) {
                    i = next;
                    continue;
                }
            }
            if (!inClass && c == '[') {
                inClass = true;
                java.append(c);
                i++;
                if (i < pcre.length() && pcre.charAt(i) == '^') {
                    java.append('^');
                    i++;
                }
                if (i < pcre.length() && pcre.charAt(i) == ']') { // a literal ] first
                    java.append("\\]");
                    i++;
                }
                continue;
            }
            if (inClass && c == ']') {
                inClass = false;
            } else if (inClass && (c == '[' || pcre.startsWith("&&", i))) {
                // PCRE (nginx) takes either as itself, Java as a nested class or an intersection: a regex written for
                // either reads as the other wanted it only if it says so
                boolean bracket = c == '[';
                throw new IllegalArgumentException((bracket ? "a [" : "&&") + " inside a class at index " + i
                        + ": PCRE, as nginx, takes it as itself, Java as "
                        + (bracket ? "a nested class" : "an intersection") + "; write "
                        + (bracket ? "\\[" : "\\&\\&") + " for the characters");
            }
            java.append(c);
            i++;
        }
        if (backReference > groups) {
            // Java takes it and never matches: the location is never chosen, and nothing says why
            throw new IllegalArgumentException("\\" + backReference + " at index " + backReferenceAt + " refers to a"
                    + " group the regex does not have (it has " + groups + "); PCRE, as nginx, refuses it");
        }
        return java.toString();
    }

    /** An inline flag group, {@code (?i)} or {@code (?x-i:}: its letters. */
    private static final Pattern INLINE_FLAGS = Pattern.compile("\\(\\?([a-zA-Z]+(?:-[a-zA-Z]*)?|-[a-zA-Z]+)[:)]");

    /**
     * A named group's or back reference's opening at {@code i} as Java writes it, appended to {@code java}: PCRE's
     * {@code (?P<name>} as {@code (?<name>}, {@code (?P=name)} as {@code \k<name>}, {@code (?<name>} as it is. Returns
     * the index after what was read, or {@code i} where none starts (a lookbehind, another group).
     *
     * @throws IllegalArgumentException for a name Java's regex cannot take, or a PCRE recursion {@code (?P>name)}
     */
    private static int namedGroup(String pcre, int i, StringBuilder java) {
        boolean python = pcre.startsWith("(?P<", i);
        if (pcre.startsWith("(?P>", i) || pcre.startsWith("(?&", i)) {
            throw new IllegalArgumentException("a recursion into a named group at index " + i + ", which Java's regex"
                    + " has not");
        }
        if (pcre.startsWith("(?P=", i)) {
            int end = pcre.indexOf(')', i);
            String name = end < 0 ? "" : pcre.substring(i + 4, end);
            checkName(name, i);
            java.append("\\k<").append(name).append('>');
            return end + 1;
        }
        int start = python ? i + 4 : i + 3;
        if (!python && (!pcre.startsWith("(?<", i) || start >= pcre.length() || pcre.charAt(start) == '='
                || pcre.charAt(start) == '!')) {
            return i; // a lookbehind, or no named group
        }
        int end = pcre.indexOf('>', start);
        String name = end < 0 ? "" : pcre.substring(start, end);
        checkName(name, i);
        java.append("(?<").append(name).append('>');
        return end + 1;
    }

    private static void checkName(String name, int at) {
        if (!name.matches("[A-Za-z][A-Za-z0-9]*")) {
            throw new IllegalArgumentException("group name \"" + name + "\" at index " + at + ": Java's regex takes a"
                    + " letter, then letters and digits only (no '_')");
        }
    }

    /** The index after a {@code [:name:]} or {@code [:^name:]} starting at {@code i}, or -1 if none starts there. */
    private static int posixEnd(String pcre, int i) {
        if (!pcre.startsWith("[:", i)) {
            return -1;
        }
        int j = i + 2;
        if (j < pcre.length() && pcre.charAt(j) == '^') {
            j++;
        }
        int start = j;
        while (j < pcre.length() && Character.isLetter(pcre.charAt(j))) {
            j++;
        }
        return j > start && pcre.startsWith(":]", j) ? j + 2 : -1;
    }

    private static String invert(String javaClass) {
        return javaClass.equals("w") ? "W" : "P" + javaClass.substring(1);
    }
}
