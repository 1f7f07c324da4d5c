package io.edge.conf;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A location's {@code return}, nginx's {@code return code [text | URL]}: every request the location takes is answered
 * with {@code status} at once. A redirect's status (301, 302, 303, 307, 308) takes a URL, sent as {@code Location};
 * another status takes an optional text, sent as the body; 444 closes the connection without an answer.
 *
 * <p>The text holds variables as nginx writes them, {@code $name} or {@code ${name}}: {@link #VARIABLES}, a request
 * header ({@code $http_user_agent}), a query argument ({@code $arg_page}), a cookie ({@code $cookie_session}), and the
 * location's regex captures
 * ({@code $1} to {@code $9}, one digit as nginx reads it, and named groups {@code (?<slug>...)} as {@code $slug}).
 *
 * @param status the status answered
 * @param text   the URL or body, as literal and variable parts in order; empty for none
 */
public record Return(int status, List<Part> text) {

    /** nginx's code for "close the connection, answer nothing". */
    public static final int CLOSE = 444;

    /** The request's variables a text may name, besides headers, arguments and captures. */
    public static final Set<String> VARIABLES = Set.of("scheme", "host", "server_port", "server_addr", "server_name",
            "request_uri", "uri", "document_uri", "args", "query_string", "is_args", "request_method", "remote_addr",
            "remote_port", "server_protocol", "https", "content_type", "content_length", "request_id",
            "secure_link", "secure_link_expires", "ssl_protocol", "ssl_cipher", "ssl_server_name", "http2",
            "proxy_host", "proxy_add_x_forwarded_for", "ssl_client_verify", "ssl_client_s_dn", "ssl_client_i_dn",
            "ssl_client_serial", "ssl_client_fingerprint", "ssl_client_cert", "ssl_client_raw_cert",
            "ssl_client_escaped_cert", "ssl_client_v_start", "ssl_client_v_end", "ssl_client_v_remain");

    /**
     * Variables of what came of the request, which a header or a FastCGI param may name (nginx's add_header
     * X-Cache-Status $upstream_cache_status) but a return or a rewrite, answered before the response cache, not.
     */
    public static final Set<String> ANSWER_VARIABLES = Set.of("upstream_cache_status");

    /**
     * nginx's variables of the file a request names, {@code $document_root} (its location's root, or alias) and
     * {@code $request_filename} (that and the URI, an alias's prefix taken off): edge's own paths, which a file test's
     * path names ({@code if (!-e $request_filename)}) and nothing else (a FastCGI param's path is the backend's).
     */
    public static final Set<String> FILE_VARIABLES = Set.of("document_root", "request_filename");

    /** The prefixes of the variables named after one of the request's: a header, a query argument, a cookie. */
    public static final List<String> PREFIXES = List.of("http_", "arg_", "cookie_");

    /** What a return is written as, for a message. */
    static final String EXPECTED = "a status and an optional text or URL, such as \"301 https://example.org"
            + "$request_uri\", \"403\", \"200 ok\" or \"444\"; a URL alone is a 302";

    /** How a capture's problem ends where there is no regex: a site's rewrites say where theirs come from instead. */
    static final String NO_REGEX = " in a location whose match is no regex";

    private static final Pattern NAMED_GROUP = Pattern.compile("\\(\\?<([a-zA-Z][a-zA-Z0-9]*)>");

    public Return {
        text = List.copyOf(text);
    }

    /**
     * One piece of the text: {@code literal} text, or the value of {@code variable} (its name without {@code $}: a
     * name of {@link #VARIABLES}, one of {@link #PREFIXES} and a name, a capture's digit or group name, or a map's
     * name, the {@code map} then).
     *
     * @param map the server's map {@code variable} names ({@code server.maps}), else null
     */
    public record Part(String literal, String variable, VariableMap map) {

        /** A literal, or a variable that names no map. */
        public Part(String literal, String variable) {
            this(literal, variable, null);
        }

        /** Whether this part is a capture of the location's regex (a map's value: of its entry's regex). */
        public boolean isCapture() {
            return variable != null && map == null && !VARIABLES.contains(variable)
                    && !ANSWER_VARIABLES.contains(variable) && !FILE_VARIABLES.contains(variable) && !prefixed(variable);
        }

        /**
         * This capture's value in {@code captures}, the match of the location's regex (or the last regex that ran, for
         * a number): $1 to $9 by number, a named group by name; null where its group took no part in the match or
         * the regex has no such group (nginx's $2 after a regex of one group).
         */
        public String captured(Matcher captures) {
            if (!Character.isDigit(variable.charAt(0))) {
                return captures.group(variable);
            }
            int group = variable.charAt(0) - '0';
            return group <= captures.groupCount() ? captures.group(group) : null;
        }
    }

    /** Whether {@code status} is a redirect, whose text is the {@code Location}. */
    public static boolean redirects(int status) {
        return switch (status) {
            case 301, 302, 303, 307, 308 -> true;
            default -> false;
        };
    }

    /** Whether this answer is a redirect, whose text is the {@code Location}. */
    public boolean redirects() {
        return redirects(status);
    }

    /**
     * A return as written: a status from 200 to 599 and, after white space, its text; or a URL alone (starting with
     * {@code http://}, {@code https://} or {@code $scheme}), a 302, as nginx reads it. {@code regex}, the location's
     * (null for another match), says which captures there are.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static Return parse(String written, Pattern regex) {
        return parse(written, regex, VariableMaps.NONE);
    }

    /** As {@link #parse(String, Pattern)}, its text naming {@code maps} as well. */
    static Return parse(String written, Pattern regex, VariableMaps maps) {
        return parse(written, regex, maps, Set.of());
    }

    /** As {@link #parse(String, Pattern, VariableMaps)}, its text naming the named groups {@code earlier} as well. */
    static Return parse(String written, Pattern regex, VariableMaps maps, Set<String> earlier) {
        String trimmed = written.stripLeading();
        if (trimmed.isBlank()) {
            throw new IllegalArgumentException("is empty");
        }
        if (isQuote(trimmed.charAt(0))) {
            String word = unquoted(trimmed);
            if (isUrl(word)) { // a URL alone in quotes
                trimmed = word;
            }
        }
        int end = 0;
        while (end < trimmed.length() && !Character.isWhitespace(trimmed.charAt(end))) {
            end++;
        }
        String first = trimmed.substring(0, end);
        int status;
        String text;
        if (isUrl(first)) {
            status = 302;
            text = trimmed.strip();
        } else if (first.matches("\\d{1,3}")) {
            status = Integer.parseInt(first);
            // a text is taken as written past the blanks after the status ("200 ok\n" ends with its line feed); a URL
            // without white space around it
            text = redirects(status) ? trimmed.substring(end).strip() : trimmed.substring(end).replaceFirst("^[ \t]+", "");
            if (text.isBlank()) {
                text = "";
            }
            if (!text.isEmpty() && isQuote(text.charAt(0))) {
                text = unquoted(text);
            }
        } else {
            throw new IllegalArgumentException("starts with \"" + first + "\", neither a status nor a URL");
        }
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("has status " + status + ", not from 200 to 599");
        }
        if (redirects(status) && text.isEmpty()) {
            throw new IllegalArgumentException("has no URL for its redirect (" + status + ")");
        }
        if ((status == 204 || status == 304) && !text.isEmpty()) {
            throw new IllegalArgumentException("has a text with " + status + ", which has no body");
        }
        if (status == CLOSE && !text.isEmpty()) {
            throw new IllegalArgumentException("has a text with 444, which answers nothing");
        }
        if (redirects(status) && text.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("has white space or a control character in its URL");
        }
        if (text.chars().anyMatch(c -> c < 0x20 && c != '\t' && c != '\n' || c == 0x7f)) {
            throw new IllegalArgumentException("has a control character other than tab or line feed in its text");
        }
        return new Return(status, parts(text, regex, maps, earlier));
    }

    /** Whether {@code text} starts as a URL, which nginx's return takes alone as a 302's and a rewrite redirects to. */
    static boolean isUrl(String text) {
        return text.startsWith("http://") || text.startsWith("https://") || text.startsWith("$scheme");
    }

    private static boolean isQuote(char c) {
        return c == '\'' || c == '"';
    }

    /**
     * {@code text}, which starts with a quote, without its quotes, as nginx's configuration reads a quoted word
     * ({@code return 200 'a b';} answers {@code a b}, its variables still read): the word ends at the same quote, with
     * nothing but blanks after it (nginx's return takes one text).
     *
     * @throws IllegalArgumentException where the quote is never closed or something follows it
     */
    private static String unquoted(String text) {
        String word = text.strip();
        char quote = word.charAt(0);
        int close = word.indexOf(quote, 1);
        if (close < 0) {
            throw new IllegalArgumentException("has a " + quote + " without its closing one");
        }
        if (close != word.length() - 1) {
            throw new IllegalArgumentException("has \"" + word.substring(close + 1) + "\" after its closing " + quote
                    + " (nginx's return takes one text: quote all of it, or none)");
        }
        return word.substring(1, close);
    }

    /** {@code text} split into literals and variables, each variable checked against what exists. */
    static List<Part> parts(String text, Pattern regex) {
        return parts(text, regex, VariableMaps.NONE);
    }

    /** As {@link #parts(String, Pattern)}, a map's name its map, but where {@code regex} has a group of that name. */
    static List<Part> parts(String text, Pattern regex, VariableMaps maps) {
        return parts(text, regex, maps, Set.of());
    }

    /** As {@link #parts(String, Pattern, VariableMaps)}, {@code also} variables too (such as {@link #FILE_VARIABLES}). */
    static List<Part> parts(String text, Pattern regex, VariableMaps maps, Set<String> also) {
        Set<String> groups = namedGroups(regex);
        int groupCount = regex == null ? 0 : regex.matcher("").groupCount();
        // a group of a regex met before (also) is a capture still where a site's regex declares its variable too:
        // the value is the last match's that set it, which a capture of those regexes finds
        Set<String> captures = new TreeSet<>(groups);
        captures.addAll(also);
        return maps.bind(parts(text, name -> maps.has(name) && !groups.contains(name) || also.contains(name) ? null
                : maps.withNames(variableFault(name, regex != null, groupCount, groups, LOCATION_REGEX))),
                captures);
    }

    /**
     * {@code text} split into literals and the captures of {@code regex} ($1 to $9, named groups), as {@link #parts}
     * but with no request variable: an alias's file path, which a header or an argument must not choose.
     */
    static List<Part> captures(String text, Pattern regex) {
        Set<String> groups = namedGroups(regex);
        int groupCount = regex.matcher("").groupCount();
        return parts(text, name -> Character.isDigit(name.charAt(0)) || groups.contains(name)
                ? variableFault(name, true, groupCount, groups, LOCATION_REGEX)
                : "has variable $" + name + ", which is no capture of the location's regex ("
                + (groupCount == 0 ? "it has none" : "its captures: $1" + (groupCount == 1 ? "" : " to $"
                + Math.min(groupCount, 9)) + (groups.isEmpty() ? "" : ", $" + String.join(", $", groups))) + ")");
    }

    /** The names of {@code regex}'s named groups ({@code (?<slug>...)}); none without a regex. */
    public static Set<String> namedGroups(Pattern regex) {
        Set<String> groups = new TreeSet<>();
        if (regex != null) {
            Matcher named = NAMED_GROUP.matcher(regex.pattern());
            while (named.find()) {
                if (hasGroup(regex, named.group(1))) { // not "\\(?<x>" or a class's text, which only looks like one
                    groups.add(named.group(1));
                }
            }
        }
        return groups;
    }

    /**
     * The names {@code written}, a regex's text not yet compiled (or a rewrite's, a condition's that holds one), gives
     * named groups ({@code (?<slug>...)}), or seems to: read before anything is compiled, for the variables they
     * declare ({@link RewriteRule#captureNames}).
     */
    static Set<String> writtenGroups(String written) {
        Set<String> names = new TreeSet<>();
        Matcher named = NAMED_GROUP.matcher(written);
        while (named.find()) {
            names.add(named.group(1));
        }
        return names;
    }

    /**
     * {@code text} split into literals and variables ({@code $name}, {@code ${name}}, a capture's {@code $1} to
     * {@code $9}), each variable's name checked by {@code fault}: why it names nothing, or null.
     */
    static List<Part> parts(String text, Function<String, String> fault) {
        return parts(text, fault, false);
    }

    /**
     * As {@link #parts(String, Function)}; with {@code dollarsKept} (a header's or a param's value) {@code $$} is one
     * literal {@code $}, a {@code $} before anything but a name's letter, {@code _}, <code>{</code> or a capture's
     * digit (1 to 9) is kept as written ({@code US$ 5}, {@code $0}), and names are read ignoring case, as nginx's are.
     */
    static List<Part> parts(String text, Function<String, String> fault, boolean dollarsKept) {
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$') {
                literal.append(c);
                i++;
                continue;
            }
            char after = i + 1 < text.length() ? text.charAt(i + 1) : ' ';
            if (dollarsKept && (after == '$' || after != '{' && (after == '0' || !isNameChar(after)))) {
                literal.append('$');
                i += after == '$' ? 2 : 1;
                continue;
            }
            String name;
            int next;
            if (i + 1 < text.length() && text.charAt(i + 1) == '{') {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    throw new IllegalArgumentException("has a \"${\" without its \"}\"");
                }
                name = text.substring(i + 2, close);
                next = close + 1;
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*|[1-9]")) {
                    throw new IllegalArgumentException("has \"${" + name + "}\", which names no variable");
                }
            } else if (i + 1 < text.length() && text.charAt(i + 1) >= '1' && text.charAt(i + 1) <= '9') {
                name = text.substring(i + 1, i + 2); // one digit: nginx reads "$10" as $1 and "0"
                next = i + 2;
            } else {
                next = i + 1;
                while (next < text.length() && isNameChar(text.charAt(next))) {
                    next++;
                }
                name = text.substring(i + 1, next);
                if (name.isEmpty() || Character.isDigit(name.charAt(0))) {
                    throw new IllegalArgumentException("has a \"$\" that starts no variable name at index " + i
                            + " of its text (a variable is $name or ${name}; a capture $1 to $9)");
                }
            }
            if (dollarsKept) {
                name = name.toLowerCase(Locale.ROOT);
            }
            String why = fault.apply(name);
            if (why != null) {
                throw new IllegalArgumentException(why);
            }
            if (!literal.isEmpty()) {
                parts.add(new Part(literal.toString(), null));
                literal.setLength(0);
            }
            parts.add(new Part(null, name));
            i = next;
        }
        if (!literal.isEmpty()) {
            parts.add(new Part(literal.toString(), null));
        }
        return parts;
    }

    /** What a capture's problem calls the regex whose groups it counts, where that is a location's. */
    static final String LOCATION_REGEX = "the location's regex";

    /**
     * Why {@code $digit}, a capture, is none of {@code regex}'s (null: not a regex location's), or null where it is
     * one: as in a return. {@code regexName} is what the problem calls the regex ({@link #LOCATION_REGEX}).
     */
    static String captureFault(String digit, Pattern regex, String regexName) {
        return variableFault(digit, regex != null, regex == null ? 0 : regex.matcher("").groupCount(), Set.of(),
                regexName);
    }

    /** The group of {@code groups} named {@code name} ignoring case (a header's names are read so), or null. */
    static String group(String name, Set<String> groups) {
        for (String group : groups) {
            if (group.equalsIgnoreCase(name)) {
                return group;
            }
        }
        return null;
    }

    /** Whether {@code name} is one of {@link #PREFIXES} followed by a name ({@code http_origin}). */
    public static boolean prefixed(String name) {
        for (String prefix : PREFIXES) {
            if (name.startsWith(prefix) && name.length() > prefix.length()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code regex} has a group named {@code name}: Java 17 lists them nowhere public, so a pattern that matches
     * for sure (the regex or nothing) is asked for it, which throws for a name it lacks.
     */
    private static boolean hasGroup(Pattern regex, String name) {
        Matcher matcher = Pattern.compile("(?:" + regex.pattern() + ")|", regex.flags()).matcher("");
        matcher.find();
        try {
            matcher.group(name);
            return true;
        } catch (IllegalArgumentException noSuchGroup) {
            return false;
        }
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }

    /** Why {@code name} names nothing a request has, or null; {@code regexName} is what it calls the regex. */
    private static String variableFault(String name, boolean regex, int groupCount, Set<String> groups,
            String regexName) {
        if (VARIABLES.contains(name) || groups.contains(name)) {
            return null;
        }
        if (prefixed(name)) {
            return null;
        }
        if (FILE_VARIABLES.contains(name)) {
            return "has $" + name + ", which only a file test's path names (\"!-e $" + name + "\")";
        }
        if (Character.isDigit(name.charAt(0))) {
            int group = name.charAt(0) - '0';
            if (!regex) {
                return "has capture $" + group + NO_REGEX;
            }
            return group <= groupCount ? null
                    : "has capture $" + group + ", but " + regexName + " has " + groupCount + " group"
                    + (groupCount == 1 ? "" : "s");
        }
        return "has unknown variable $" + name + " (known: $" + String.join(", $", new TreeSet<>(VARIABLES))
                + ", $http_<header>, $arg_<name>, $cookie_<name>"
                + (regex ? ", captures $1 to $9 and the regex's named groups" : "") + ")";
    }
}
