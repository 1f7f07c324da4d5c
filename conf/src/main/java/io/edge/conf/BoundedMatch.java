package io.edge.conf;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A regular expression tried on what a client sent within a budget: {@link io.edge.fastcgi.regex.BoundedMatch}, whose
 * contract this is, kept under this name for conf's and edge-core's callers. The mechanism lives in fastcgi, below
 * conf, so that a location's split-path-info is tried within the same budget.
 */
public final class BoundedMatch {

    /** {@link io.edge.fastcgi.regex.BoundedMatch#STEPS}. */
    public static final int STEPS = io.edge.fastcgi.regex.BoundedMatch.STEPS;
    /** {@link io.edge.fastcgi.regex.BoundedMatch#PATH_STEPS}. */
    public static final int PATH_STEPS = io.edge.fastcgi.regex.BoundedMatch.PATH_STEPS;

    /** What a search came to. */
    public enum Result { FOUND, NOT_FOUND, GAVE_UP }

    private BoundedMatch() {
    }

    /** {@link io.edge.fastcgi.regex.BoundedMatch#find(Pattern, String)}. */
    public static Result find(Pattern regex, String text) {
        return of(io.edge.fastcgi.regex.BoundedMatch.find(regex, text));
    }

    /** {@link io.edge.fastcgi.regex.BoundedMatch#find(Pattern, io.edge.fastcgi.regex.BoundedMatch.Budgeted)}. */
    public static Result find(Pattern regex, Budgeted text) {
        return of(io.edge.fastcgi.regex.BoundedMatch.find(regex, text.text));
    }

    /** {@link io.edge.fastcgi.regex.BoundedMatch#first}. */
    public static Matcher first(Pattern regex, String text, int steps) {
        return io.edge.fastcgi.regex.BoundedMatch.first(regex, text, steps);
    }

    /** {@code text} to be searched within {@code steps} reads in all. */
    public static Budgeted budgeted(String text, int steps) {
        return new Budgeted(io.edge.fastcgi.regex.BoundedMatch.budgeted(text, steps));
    }

    private static Result of(io.edge.fastcgi.regex.BoundedMatch.Result result) {
        return Result.valueOf(result.name());
    }

    /** A text's characters, read at most a budget's times in all, by one search or several. */
    public static final class Budgeted {

        private final io.edge.fastcgi.regex.BoundedMatch.Budgeted text;

        private Budgeted(io.edge.fastcgi.regex.BoundedMatch.Budgeted text) {
            this.text = text;
        }
    }
}
