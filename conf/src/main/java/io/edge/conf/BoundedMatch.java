package io.edge.conf;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A regular expression tried on what a client sent (a Host, a Referer, a request's path) within a budget, as PCRE's
 * match limit bounds nginx's: a regex that backtracks (nested quantifiers, several {@code .*}) would otherwise hold an
 * event loop for as long as the text lets it.
 */
public final class BoundedMatch {

    /** Reads of the text a match may make: a few thousand find any sane regex in any host name or Referer. */
    public static final int STEPS = 100_000;
    /**
     * Reads of a request's path a location's regex may make, as many as PCRE's default match limit (10 000 000), which
     * nginx keeps: about 50 ms of a loop at most. A path runs to the head's limit, kilobytes, and regexes nginx
     * configurations hold backtrack on long ones: {@code ^/(.*)/(.*)/(.*)\.jpg$} reads a 1 000-character path of many
     * slashes 31 million times, and {@code (.+)\.php$}, which Java does not anchor as PCRE does, a 2 000-character
     * one 6 million times.
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
    public static Result find(Pattern regex, String text, int steps) {
        try {
            return regex.matcher(new Budgeted(text, steps)).find() ? Result.FOUND : Result.NOT_FOUND;
        } catch (Budgeted.Exhausted | StackOverflowError e) {
            return Result.GAVE_UP;
        }
    }

    /**
     * The first match {@code regex} finds in {@code text} within {@code steps} reads, for its groups; null where it
     * finds none, or gives up.
     */
    public static Matcher first(Pattern regex, String text, int steps) {
        Matcher matcher = regex.matcher(new Budgeted(text, steps));
        try {
            return matcher.find() ? matcher : null;
        } catch (Budgeted.Exhausted | StackOverflowError e) {
            return null;
        }
    }

    /** A text's characters, read at most a budget's times in all; its groups taken after a match read freely. */
    private static final class Budgeted implements CharSequence {

        /** Thrown past the budget: no stack trace, a control flow. */
        private static final class Exhausted extends RuntimeException {
            Exhausted() {
                super(null, null, false, false);
            }
        }

        private final String text;
        private int reads;
        private final int steps;

        Budgeted(String text, int steps) {
            this.text = text;
            this.steps = steps;
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
