package io.edge.core.http;

import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.VariableMap;
import io.edge.fastcgi.cgi.CgiParams;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a text's captures come from, as nginx's rewrite module leaves them: {@code $1} to {@code $9} are the last
 * regex's that ran (a location's, an {@code if}'s, a rewrite's), none where that one found no match; a named group is
 * the regex's that defines it, which nginx keeps as a variable of the match that set it, whatever ran since. Each
 * regex is run on its subject only when a capture of it is first asked for, then kept.
 */
final class Captures {

    /**
     * The regexes of a rewrites list that found a match, in {@code subject}, the last first ({@code before}: the one
     * matched before it, null for none): where a named group is looked up, as nginx's variable of that name is the
     * last match's that set it.
     */
    record Matched(Pattern regex, String subject, Matched before) {
    }

    private final Exchange exchange;
    private final Pattern namedRegex;
    private final String namedSubject;
    private final Matched matched;
    private final Map<Pattern, Set<String>> groups;
    private final Pattern numberedRegex;
    private final String numberedSubject;
    private Matcher named;
    private Matcher numbered;
    private boolean namedRun;
    private boolean numberedRun;

    private Captures(Exchange exchange, Pattern namedRegex, String namedSubject, Matched matched,
            Map<Pattern, Set<String>> groups, Pattern numberedRegex, String numberedSubject) {
        this.exchange = exchange;
        this.namedRegex = namedRegex;
        this.namedSubject = namedSubject;
        this.matched = matched;
        this.groups = groups;
        this.numberedRegex = numberedRegex;
        this.numberedSubject = numberedSubject;
    }

    private Captures(Exchange exchange, Pattern namedRegex, String namedSubject, Pattern numberedRegex,
            String numberedSubject) {
        this(exchange, namedRegex, namedSubject, null, null, numberedRegex, numberedSubject);
    }

    /** Every capture of {@code regex} (none where null) in {@code subject}. */
    static Captures of(Exchange exchange, Pattern regex, String subject) {
        return new Captures(exchange, regex, subject, regex, subject);
    }

    /** Named groups of {@code namedRegex} in {@code namedSubject}; $1 to $9 of {@code numberedRegex}. */
    static Captures of(Exchange exchange, Pattern namedRegex, String namedSubject, Pattern numberedRegex,
            String numberedSubject) {
        return new Captures(exchange, namedRegex, namedSubject, numberedRegex, numberedSubject);
    }

    /**
     * A rewrites entry's: a named group the last of {@code matched} that has it (its groups as {@code groups} says)
     * found, null where none has; $1 to $9 of {@code numberedRegex}.
     */
    static Captures of(Exchange exchange, Matched matched, Map<Pattern, Set<String>> groups, Pattern numberedRegex,
            String numberedSubject) {
        return new Captures(exchange, null, null, matched, groups, numberedRegex, numberedSubject);
    }

    /**
     * Sets the variables of {@code exchange}'s site ({@link io.edge.conf.SiteSettings#captureVariables}) that
     * {@code groups}, named groups of {@code regex}, stand for, to what the match {@code regex} found in {@code subject}
     * captured ("" for a group that took no part): nginx makes a named group a variable that the match sets and that
     * keeps its value for the rest of the request, so a location's texts read it whichever regex ran last. Nothing where
     * the site declares none of them, or the regex now finds no match (it gave up: no value is kept).
     */
    static void keep(Exchange exchange, Pattern regex, String subject, Set<String> groups) {
        Map<String, VariableMap> variables = exchange.site() == null ? Map.of() : exchange.site().captureVariables();
        if (variables.isEmpty() || groups == null || groups.isEmpty()) {
            return;
        }
        Matcher match = null;
        for (String group : groups) {
            VariableMap variable = variables.get(group);
            if (variable == null) {
                continue;
            }
            if (match == null) {
                match = exchange.captures(regex, subject);
                if (match == null) {
                    return;
                }
            }
            String captured = match.group(group);
            // kept as a set's value is, as the bytes it stands for, one char each
            exchange.mapValues().put(variable, captured == null ? "" : CgiParams.utf8Bytes(captured));
        }
    }

    /**
     * As {@link #keep}, for the regex of {@code location}, which {@code path} was routed to: nginx's match of a regex
     * location sets its named groups' variables as any regex's does, so one named as a site regex's group is the
     * location's past a rewrite or redirect out of it. Nothing where the site's regexes declare no variable.
     */
    static void keepLocation(Exchange exchange, LocationSettings location, String path) {
        if (location == null || location.regex() == null || exchange.site() == null
                || exchange.site().captureVariables().isEmpty()) {
            return;
        }
        keep(exchange, location.regex(), path, Return.namedGroups(location.regex()));
    }

    /** No captures: every one is null. Shared, as nothing is left to run. */
    static final Captures NONE = found(null);

    /** Every capture of {@code match} (none where null), a match already made (a map's regex's). */
    static Captures found(Matcher match) {
        Captures captures = new Captures(null, null, null, null, null);
        captures.named = match;
        captures.numbered = match;
        captures.namedRun = true;
        captures.numberedRun = true;
        return captures;
    }

    /** The value of {@code part}, a capture; null where its regex found no match or its group took no part. */
    String value(Return.Part part) {
        Matcher match;
        if (Character.isDigit(part.variable().charAt(0))) {
            if (!numberedRun) {
                numbered = numberedRegex == null ? null : exchange.captures(numberedRegex, numberedSubject);
                numberedRun = true;
            }
            match = numbered;
        } else if (groups != null) {
            return lastMatched(part);
        } else {
            if (!namedRun) {
                named = namedRegex == null ? null : exchange.captures(namedRegex, namedSubject);
                namedRun = true;
            }
            match = named;
        }
        return match == null ? null : part.captured(match);
    }

    /**
     * The named group {@code part} of the last of {@link #matched} that has it; where none has, the value of the site's
     * variable of its name: what a regex kept of it ({@link #keep}: a server name's, a site rewrite's, an earlier
     * location's, met before this list), else the map's of that name ("" for a set's), as nginx's variable is the
     * map's until a match sets it; else null.
     */
    private String lastMatched(Return.Part part) {
        for (Matched regex = matched; regex != null; regex = regex.before()) {
            if (groups.getOrDefault(regex.regex(), Set.of()).contains(part.variable())) {
                Matcher match = exchange.captures(regex.regex(), regex.subject());
                return match == null ? null : part.captured(match);
            }
        }
        VariableMap variable = exchange.site() == null ? null : exchange.site().captureVariables().get(part.variable());
        // kept as bytes, one char each, as a map's value is: a capture is text
        return variable == null ? null : Variables.paramText(Variables.mapValue(exchange, variable));
    }
}
