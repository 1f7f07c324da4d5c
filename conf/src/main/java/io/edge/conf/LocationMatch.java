package io.edge.conf;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A location's {@code match} text, parsed as nginx reads a location's modifier and pattern:
 * {@code "= /x"} exact, {@code "^~ /x"} prefix that skips regexes, {@code "~ re"} and {@code "~* re"}
 * regular expressions (the latter ignoring case; character classes read as PCRE reads them, {@link PcreClasses}), a
 * bare {@code "/x"} prefix, and {@code "@name"}, a named location no path matches.
 *
 * @param kind    how the pattern is compared
 * @param pattern the path or the regular expression text
 * @param regex   compiled for {@link LocationSettings.Kind#REGEX}, else {@code null}
 */
record LocationMatch(LocationSettings.Kind kind, String pattern, Pattern regex) {

    static final String EXPECTED = "\"/prefix\", \"= /exact\", \"^~ /prefix\", \"~ regex\", \"~* regex\" or \"@name\"";

    /** The modifiers, as nginx's location takes them. */
    private static final Set<String> MODIFIERS = Set.of("=", "^~", "~", "~*");

    /**
     * @throws IllegalArgumentException saying what is wrong with {@code text}; a control character (a NUL is a HOCON
     *                                  escape away) by its code point, as a message should not carry it
     */
    static LocationMatch parse(String text) {
        String trimmed = text.strip();
        boolean regex = trimmed.startsWith("~");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            // None is meant: a request path with one is a client's oddity, and "\b" (a regex's word boundary) in a
            // quoted HOCON string is a backspace. In a path a blank one (a tab) is white space, said so below.
            if (Character.isISOControl(c) && (regex || !Character.isWhitespace(c))) {
                throw new IllegalArgumentException(
                        String.format(Locale.ROOT, "contains control character U+%04X at index %d", (int) c, i)
                                + (c == '\b' && regex ? " (in a quoted string HOCON reads \\b as a backspace: a "
                                + "word boundary is \\\\b)" : ""));
            }
        }
        String modifier = trimmed.split("\\s", 2)[0];
        if (modifier.length() < trimmed.length() && !modifier.isEmpty() && !MODIFIERS.contains(modifier)
                && modifier.chars().allMatch(c -> "~*=^".indexOf(c) >= 0)) {
            // "~~ a", "=~ /x", "^~~ /x": a modifier mistyped, which nginx refuses ("invalid location modifier"); read
            // as a regex of what followed its first "~", or as a path, it matched something else than meant
            throw new IllegalArgumentException("has the modifier \"" + modifier + "\", which is none (expected: =, ^~, "
                    + "~ or ~*, then a space)");
        }
        if (trimmed.startsWith("@")) {
            return new LocationMatch(LocationSettings.Kind.NAMED, name(trimmed), null);
        }
        if (trimmed.startsWith("~*")) {
            return regex(trimmed.substring(2), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
        }
        if (regex) {
            return regex(trimmed.substring(1), 0);
        }
        if (trimmed.startsWith("^~")) {
            return new LocationMatch(LocationSettings.Kind.PREFIX_NO_REGEX, path(trimmed.substring(2)), null);
        }
        if (trimmed.startsWith("=")) {
            return new LocationMatch(LocationSettings.Kind.EXACT, path(trimmed.substring(1)), null);
        }
        return new LocationMatch(LocationSettings.Kind.PREFIX, path(trimmed), null);
    }

    /** The longest text {@link #quoted} says whole; of a longer one, its first {@link #QUOTED_START} characters. */
    private static final int QUOTED_WHOLE = 1024;
    private static final int QUOTED_START = 80;

    /**
     * {@code text} in quotes, each control character written as the HOCON escape that writes it ({@code \u0000}); one
     * longer than {@value #QUOTED_WHOLE} characters by its start and its length, as nginx's "too long parameter" says
     * its start (a regex of 200 000 characters was said whole in each of its problems).
     */
    static String quoted(String text) {
        int shown = text.length() > QUOTED_WHOLE ? QUOTED_START : text.length();
        StringBuilder quoted = new StringBuilder(shown + 2).append('"');
        for (int i = 0; i < shown; i++) {
            char c = text.charAt(i);
            quoted.append(Character.isISOControl(c) ? String.format(Locale.ROOT, "\\u%04x", (int) c) : c);
        }
        if (shown < text.length()) {
            return quoted.append("...\" (").append(text.length()).append(" characters)").toString();
        }
        return quoted.append('"').toString();
    }

    /**
     * A named location's {@code "@name"}, as nginx's {@code location @name}: a word after the {@code @}, which the
     * front-controller and error-pages that send requests there name whole.
     */
    static String name(String text) {
        if (text.length() == 1) {
            throw new IllegalArgumentException("has no name after \"@\"");
        }
        if (text.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("name " + quoted(text) + " contains white space");
        }
        return text;
    }

    private static String path(String text) {
        String path = text.strip();
        if (path.isEmpty()) {
            throw new IllegalArgumentException("has no path");
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path " + quoted(path) + " does not start with \"/\"");
        }
        if (path.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("path " + quoted(path) + " contains white space");
        }
        return path;
    }

    /**
     * A regex location; one of its groups named as one of edge's variables is refused ({@link #variableGroupFault}):
     * its captures are its headers' and return's variables, and {@code $host} would name both.
     */
    private static LocationMatch regex(String text, int flags) {
        String expression = text.strip();
        Pattern regex = compile(expression, flags);
        String fault = variableGroupFault(regex);
        if (fault != null) {
            throw new IllegalArgumentException(fault);
        }
        return new LocationMatch(LocationSettings.Kind.REGEX, expression, regex);
    }

    /** What a regex whose named groups become variables is expected to be, for a message. */
    static final String VARIABLE_GROUP_EXPECTED = "named groups whose names are none of edge's variables, such as"
            + " (?<sub>...) rather than (?<host>...)";

    /**
     * Why {@code regex} (null: none) cannot be one whose named groups become variables, or null: a group named as one
     * of edge's variables ({@code (?<host>...)}, read ignoring case as a variable's name is). nginx refuses it wherever
     * a regex's groups become variables (a location's, a server name's, a rewrite's, an if's: "the duplicate "host"
     * variable"); edge read {@code $host} as the request's and the capture went nowhere.
     */
    static String variableGroupFault(Pattern regex) {
        for (String group : Return.namedGroups(regex)) {
            String name = group.toLowerCase(Locale.ROOT);
            if (Return.VARIABLES.contains(name) || Return.ANSWER_VARIABLES.contains(name)) {
                return "has a group named " + group + ", one of edge's variables ($" + name + "): nginx refuses it"
                        + " too (the duplicate \"" + name + "\" variable)";
            }
        }
        return null;
    }

    /** The longest regex taken: nginx reads no word of its file longer ("too long parameter"). */
    static final int MAX_REGEX = 4096;

    /**
     * {@code expression}, a regular expression written for nginx's PCRE ({@link PcreClasses}), compiled.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    static Pattern compile(String expression, int flags) {
        if (expression.isEmpty()) {
            throw new IllegalArgumentException("has no regular expression");
        }
        if (expression.length() > MAX_REGEX) {
            // Java's compile of a run of literals takes time square in its length (its Boyer-Moore table): one of
            // 200 000 characters held a check, and a reload, for minutes
            throw new IllegalArgumentException("bad regular expression: " + expression.length() + " characters long,"
                    + " more than the " + MAX_REGEX + " nginx reads as one parameter");
        }
        String java;
        try {
            java = PcreClasses.toJava(expression);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad regular expression: " + e.getMessage());
        }
        int trailing = expression.length() - expression.replaceAll("\\\\+$", "").length();
        if (trailing % 2 == 1) { // Java says "Unexpected internal error" of it
            throw new IllegalArgumentException("bad regular expression: it ends in a \\ that escapes nothing (\\\\ for"
                    + " a backslash)");
        }
        try {
            // UNIX_LINES: only a line feed ends a line, as in PCRE: Java's $ also matched before a last \r, U+0085,
            // U+2028 or U+2029 and its . none of them ("/a.jpg%0d" was taken by "~ \.jpg$", nginx's is not)
            return Pattern.compile(java, flags | Pattern.UNIX_LINES);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("bad regular expression: " + e.getDescription()
                    + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
        }
    }
}
