package io.edge.conf;

import java.util.regex.Pattern;

/**
 * A regular expression tried on what a client sent (a Host, a Referer) within a budget, as PCRE's match limit bounds
 * nginx's: a regex that backtracks (nested quantifiers, several {@code .*}) would otherwise hold an event loop for as
 * long as the text lets it.
 */
public final class BoundedMatch {

    /** Reads of the text a match may make: a few thousand find any sane regex in any host name or Referer. */
    public static final int STEPS = 100_000;

    /** What a search came to. */
    public enum Result { FOUND, NOT_FOUND, GAVE_UP }

    private BoundedMatch() {
    }

    /**
     * Whether {@code regex} finds a match in {@code text} within {@link #STEPS} reads of it; {@link Result#GAVE_UP}
     * past them, or where the regex recursed deeper than the stack.
     */
    public static Result find(Pattern regex, String text) {
        try {
            return regex.matcher(new Budgeted(text)).find() ? Result.FOUND : Result.NOT_FOUND;
        } catch (Budgeted.Exhausted | StackOverflowError e) {
            return Result.GAVE_UP;
        }
    }

    /** A text's characters, read at most {@link #STEPS} times in all. */
    private static final class Budgeted implements CharSequence {

        /** Thrown past the budget: no stack trace, a control flow. */
        private static final class Exhausted extends RuntimeException {
            Exhausted() {
                super(null, null, false, false);
            }
        }

        private final String text;
        private int reads;

        Budgeted(String text) {
            this.text = text;
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public char charAt(int index) {
            if (++reads > STEPS) {
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
