package io.edge.fastcgi.regex;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A regular expression tried on what a client sent (a Host, a Referer, a request's path) within a budget, as PCRE's
 * match limit bounds nginx's: a regex that backtracks (nested quantifiers, several {@code .*}) would otherwise hold an
 * event loop for as long as the text lets it. Here, below conf, so that fastcgi's script resolution (a location's
 * split-path-info) has it too.
 */
public final class BoundedMatch {

    /** Reads of the text a match may make: a few thousand find any sane regex in any host name or Referer. */
    public static final int STEPS = 100_000;
    /**
     * Reads of a request's path its site's location regexes may make in all, as many as PCRE's default match limit
     * (10 000 000), which nginx keeps: about 50 ms of a loop at most. A path runs to the head's limit, kilobytes, and
     * regexes nginx configurations hold backtrack on long ones: {@code ^/(.*)/(.*)/(.*)\.jpg$} reads a 1 000-character
     * path of many slashes 31 million times.
     */
    public static final int PATH_STEPS = 10_000_000;

    /** What a search came to. */
    public enum Result { FOUND, NOT_FOUND, GAVE_UP }

    private BoundedMatch() {
    }

    /**
     * Whether {@code regex} finds a match in {@code text} within {@link #STEPS} reads of it; {@link Result#GAVE_UP}
     * past them, or where the regex recursed deeper than the stack.
     */
    public static Result find(Pattern regex, String text) {
        return find(regex, text, STEPS);
    }

    /** As {@link #find(Pattern, String)}, within {@code steps} reads. */
    static Result find(Pattern regex, String text, int steps) {
        return find(regex, new Budgeted(text, steps));
    }

    /**
     * As {@link #find(Pattern, String)}, within what is left of {@code text}'s budget: several regexes tried on one
     * text (a request's path, by each regex location in turn) share one.
     */
    public static Result find(Pattern regex, Budgeted text) {
        try {
            return search(regex, text) != null ? Result.FOUND : Result.NOT_FOUND;
        } catch (Budgeted.Exhausted | StackOverflowError e) {
            return Result.GAVE_UP;
        }
    }

    /**
     * The first match {@code regex} finds in {@code text} within {@code steps} reads, for its groups; null where it
     * finds none, or gives up.
     */
    public static Matcher first(Pattern regex, String text, int steps) {
        try {
            return search(regex, new Budgeted(text, steps));
        } catch (Budgeted.Exhausted | StackOverflowError e) {
            return null;
        }
    }

    /**
     * {@code regex}'s match of the whole of {@code text}, for its groups, within what is left of its budget; null where
     * it does not match.
     *
     * @throws GaveUpException past the budget, or where the regex recursed deeper than the stack
     */
    public static Matcher whole(Pattern regex, Budgeted text) {
        try {
            Matcher matcher = regex.matcher(text);
            return matcher.matches() ? matcher : null;
        } catch (Budgeted.Exhausted | StackOverflowError e) {
            throw new GaveUpException();
        }
    }

    /** A match that gave up ({@link #whole}): no stack trace, a control flow. */
    public static final class GaveUpException extends RuntimeException {
        GaveUpException() {
            super("gave up", null, false, false);
        }
    }

    /** {@code text} to be searched within {@code steps} reads in all. */
    public static Budgeted budgeted(String text, int steps) {
        return new Budgeted(text, steps);
    }

    /**
     * The leftmost match, or null. A regex that starts with {@code .*} or {@code .+} (in groups, without an
     * alternative beside it) matches from the start of a text of one line or nowhere: tried there alone, as PCRE
     * anchors such a regex, rather than from each character of the text in turn, which reads a text of n characters
     * n * n / 2 times to say no ({@code (.+)\.php$} on a long path).
     */
    private static Matcher search(Pattern regex, Budgeted text) {
        Matcher matcher = regex.matcher(text);
        // the scan of the regex's few dozen characters costs less than a lookup of what it said the last time
        boolean found = startsWithDotStar(regex) && text.isOneLine() ? matcher.lookingAt() : matcher.find();
        return found ? matcher : null;
    }

    /**
     * Whether {@code regex} starts with {@code .*} or {@code .+} (greedy, lazy or possessive), maybe inside groups,
     * none of which (nor the whole) holds an alternative ({@code |}) or may be skipped ({@code ?}, {@code *} or braces
     * after it, as in {@code ((.+)a)*b}), and has no back reference nor {@code \G}: then a match that starts further
     * in a text of one line means one that starts at its start. Conservative: false for anything else (flags written
     * first, a lookaround first, comments mode).
     */
    static boolean startsWithDotStar(Pattern regex) {
        if ((regex.flags() & (Pattern.COMMENTS | Pattern.LITERAL)) != 0) {
            return false;
        }
        String p = regex.pattern();
        int i = 0;
        int depth = 0;
        while (p.startsWith("(", i)) {
            if (p.startsWith("(?:", i)) {
                i += 3;
            } else if (p.startsWith("(?<", i) && i + 3 < p.length() && Character.isLetter(p.charAt(i + 3))) {
                i = p.indexOf('>', i) + 1; // a named group
                if (i == 0) {
                    return false;
                }
            } else if (p.startsWith("(?", i)) {
                return false;
            } else {
                i++;
            }
            depth++;
        }
        if (!p.startsWith(".*", i) && !p.startsWith(".+", i)) {
            return false;
        }
        int lowest = depth; // the groups at depths 1..lowest hold the leading .* still
        int classes = 0; // the character classes open here: Java's nest
        for (i += 2; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\') {
                char next = i + 1 < p.length() ? p.charAt(i + 1) : ' ';
                if (next >= '1' && next <= '9' || next == 'k' || next == 'G' || next == 'Q') {
                    return false; // a back reference, \G, or quoted text this scan would misread
                }
                i += next == 'c' ? 2 : 1; // \cX, a control character, is three
            } else if (c == '[') {
                if (p.startsWith("]", i + 1) || p.startsWith("^]", i + 1)) {
                    return false; // a ']' first in a class: read otherwise by PCRE and Java
                }
                classes++;
            } else if (classes > 0) {
                classes -= c == ']' ? 1 : 0;
            } else if (c == '(') {
                if (p.startsWith("(?", i) && flagsHaveComments(p, i + 2)) {
                    return false; // comments mode: a '#' hides the rest of the line from Java, not from this scan
                }
                depth++;
            } else if (c == ')') {
                depth--;
                if (depth < lowest && i + 1 < p.length() && "?*{".indexOf(p.charAt(i + 1)) >= 0) {
                    return false; // a group of the leading .* that may be skipped ({0}): what follows may start later
                }
                lowest = Math.min(lowest, depth);
            } else if (c == '|' && depth <= lowest) {
                return false;
            }
        }
        return true;
    }

    /** Whether the inline flags at {@code from} ({@code (?ix)}, {@code (?x:...)}) turn comments mode on. */
    private static boolean flagsHaveComments(String p, int from) {
        for (int i = from; i < p.length() && p.charAt(i) != ')' && p.charAt(i) != ':'; i++) {
            char c = p.charAt(i);
            if (c == 'x') {
                return true;
            }
            if (c == '-' || !Character.isLetter(c)) {
                return false; // flags turned off, or no flag group: a lookaround, a named group
            }
        }
        return false;
    }

    /**
     * A text's characters, read at most a budget's times in all, by one search or several; the groups of a match taken
     * after it read freely.
     */
    public static final class Budgeted implements CharSequence {

        /** Thrown past the budget: no stack trace, a control flow. */
        private static final class Exhausted extends RuntimeException {
            Exhausted() {
                super(null, null, false, false);
            }
        }

        private final String text;
        private int reads;
        private final int steps;
        private Boolean oneLine;

        private Budgeted(String text, int steps) {
            this.text = text;
            this.steps = steps;
        }

        /** Whether no character of the text ends a line as {@code .} reads one (nor a NEL, U+2028 or U+2029). */
        boolean isOneLine() {
            if (oneLine == null) {
                oneLine = text.chars().noneMatch(c -> c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029);
            }
            return oneLine;
        }

        /** {@code other} to be searched within what is left of this text's budget now. */
        public Budgeted then(String other) {
            return new Budgeted(other, Math.max(0, steps - reads));
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public char charAt(int index) {
            if (++reads > steps) {
                throw new Exhausted();
            }
            return text.charAt(index);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return text.substring(start, end);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
