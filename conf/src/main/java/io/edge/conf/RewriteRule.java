package io.edge.conf;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * One entry of a site's or a location's {@code rewrites}, nginx's rewrite module as its "If is evil" page calls safe:
 * an {@code if} that answers with a {@code return}, hands the request on with a {@code rewrite} or sets variables
 * with {@code set}, or a bare {@code rewrite regex replacement [flag]} or {@code set}. A site's run before a location is chosen (nginx's server rewrite phase), a
 * location's after its access rules and before anything else of it (its referers, limits, password, own answer).
 *
 * @param condition the {@code if}'s condition; null for a bare rewrite or return, which is always met
 * @param answer    what the entry answers with: its return, or the redirect a rewrite's {@code redirect} or
 *                  {@code permanent} (or a replacement that is a URL) makes; null for a rewrite that hands on
 * @param regex     the rewrite's regex, tried on {@code $uri} (its captures are the replacement's {@code $1}...); the
 *                  condition's for a return (or sets alone) whose condition is a regex (its captures are the
 *                  return's, the sets'), else the location's (its groups bound the {@code $N} they may name, whose
 *                  value is the last regex's that ran, as nginx's; a named group is {@code groups}'); null in a site
 * @param rewrite   the new URI, for a rewrite that hands on ({@link Flag#NONE}, {@link Flag#LAST}, {@link Flag#BREAK})
 * @param flag      the rewrite's flag; {@link Flag#NONE} for a return
 * @param argsJoin  for a redirect made by a rewrite, what joins the request's own query to its URL ("?", "&"); null
 *                  where it is not appended (a return, a replacement ending in "?")
 * @param sets      the entry's {@code set}s, nginx's {@code set $name value}, in order: made when the entry is met (its
 *                  condition holds; a rewrite's regex finds a match), before its return or rewrite, with the captures
 *                  its return (its rewrite) has; an entry of sets alone has neither return nor rewrite
 * @param groups    the named groups of each regex of the entry's list that has some, the location's and every entry's
 *                  (an if's, a rewrite's), the same map for all of them: a text's {@code $slug} is the group of that
 *                  name of the last of them that found a match, as nginx keeps a named capture as a variable of the
 *                  match that set it, whatever ran since ({@code if ($uri ~ ^/(?<slug>[a-z]+))} then
 *                  {@code rewrite ^ /index.php?s=$slug})
 */
public record RewriteRule(Condition condition, Return answer, Pattern regex, Rewrite rewrite, Flag flag,
        String argsJoin, List<Assignment> sets, Map<Pattern, Set<String>> groups) {

    public RewriteRule {
        sets = List.copyOf(sets);
        groups = Map.copyOf(groups); // a Pattern is equal to itself alone: looked up by the regex that ran
    }

    /** An entry without sets, its regexes' named groups not yet known. */
    public RewriteRule(Condition condition, Return answer, Pattern regex, Rewrite rewrite, Flag flag,
            String argsJoin) {
        this(condition, answer, regex, rewrite, flag, argsJoin, List.of(), Map.of());
    }

    /** This entry with {@code sets}. */
    RewriteRule withSets(List<Assignment> sets) {
        return new RewriteRule(condition, answer, regex, rewrite, flag, argsJoin, sets, groups);
    }

    /** This entry with {@code groups}, its list's regexes' named groups. */
    RewriteRule withGroups(Map<Pattern, Set<String>> groups) {
        return new RewriteRule(condition, answer, regex, rewrite, flag, argsJoin, sets, groups);
    }

    /** Whether the entry only sets variables: it neither answers nor hands the request on. */
    public boolean setsOnly() {
        return answer == null && rewrite == null;
    }

    /** What a set is written as, for a message. */
    static final String SET_EXPECTED = "a variable and its value, as nginx's set: \"$skip_cache 1\", \"$full"
            + " $scheme://$host$uri\", \"$args ''\" (a value with blanks in quotes), or a list of them";

    /**
     * One {@code set $name value}: {@code value} (text with the request's variables, maps, set variables and captures)
     * becomes {@code name}'s for the rest of the request.
     *
     * @param name     the variable's name, without {@code $}
     * @param variable the variable set: one declared by a set, or a map's or geo's (its value for this request
     *                 replaced, as nginx's set replaces a map's); null for {@code $args}, the request's query
     * @param value    the value's parts
     */
    public record Assignment(String name, VariableMap variable, List<Return.Part> value) {

        public Assignment {
            value = List.copyOf(value);
        }
    }

    /** The built-in variables a set may change: {@code $args}, the query passed on (nginx's set $args). */
    static final Set<String> SETTABLE = Set.of("args");

    /**
     * nginx's variables a set changes that edge reads nowhere: set, they would be a variable of their own that slows
     * nothing, so they are refused with what edge has instead.
     */
    private static final Map<String, String> NOT_READ = Map.of("limit_rate",
            "a location's limit-rate (nginx's limit_rate), or a script's X-Accel-Limit-Rate");

    /**
     * The variables the {@code set}s of {@code edge}'s rewrites name (the sites', the locations', site-defaults' and its
     * locations', location-defaults'), read before anything else, as nginx declares a set's variable for every server
     * block: every text may name one. A set written wrong declares nothing; its problem is said where it is read.
     */
    static Set<String> setNames(ConfigObject edge) {
        Set<String> names = new TreeSet<>();
        List<ConfigValue> owners = new ArrayList<>();
        owners.add(edge.get("location-defaults"));
        List<ConfigValue> sites = new ArrayList<>(listed(edge.get("sites")));
        sites.add(edge.get("site-defaults")); // its locations are those of every site that lists none
        for (ConfigValue site : sites) {
            owners.add(site);
            if (site instanceof ConfigObject object) {
                owners.addAll(listed(object.get("locations")));
            }
        }
        for (ConfigValue owner : owners) {
            if (owner instanceof ConfigObject object) {
                for (ConfigValue entry : listed(object.get("rewrites"))) {
                    if (entry instanceof ConfigObject rule) {
                        ConfigValue set = rule.get("set");
                        List<ConfigValue> written = set instanceof ConfigList list ? list
                                : set == null ? List.of() : List.of(set);
                        for (ConfigValue one : written) {
                            String name = one.valueType() == ConfigValueType.STRING
                                    ? setName((String) one.unwrapped()) : null;
                            if (name != null) {
                                names.add(name);
                            }
                        }
                    }
                }
            }
        }
        return names;
    }

    /**
     * The named groups of {@code edge}'s site-level regexes (its sites' and site-defaults' server names written
     * {@code ~regex}, and their rewrites' regexes, a rewrite's and an if's), read before anything else as
     * {@link #setNames} are: nginx makes a regex's named group a variable that the match sets and that keeps its
     * value for the rest of the request, so a location's texts may name one ({@code $sub} of
     * {@code ~^(?<sub>.+)\.example\.com$}). What only looks like a group is declared too, and stays "".
     */
    static Set<String> captureNames(ConfigObject edge) {
        Set<String> names = new TreeSet<>();
        List<ConfigValue> sites = new ArrayList<>(listed(edge.get("sites")));
        sites.add(edge.get("site-defaults"));
        for (ConfigValue site : sites) {
            if (site instanceof ConfigObject object) {
                List<ConfigValue> written = new ArrayList<>(listed(object.get("server-names")));
                for (ConfigValue entry : listed(object.get("rewrites"))) {
                    if (entry instanceof ConfigObject rule) {
                        written.add(rule.get("rewrite"));
                        written.add(rule.get("if"));
                    }
                }
                for (ConfigValue one : written) {
                    if (one != null && one.valueType() == ConfigValueType.STRING) {
                        names.addAll(Return.writtenGroups((String) one.unwrapped()));
                    }
                }
            }
        }
        return names;
    }

    /**
     * The names a named group of any regex under {@code edge}'s sites, site-defaults and location-defaults gives, a
     * location's included (its match, its rewrites' and ifs', nested locations' too): read before anything is compiled.
     * A location's group of a map's name sets that map for the rest of the request ({@code SettingsMapper}'s
     * captureVariables), so such a map's value is not known at load.
     */
    static Set<String> anyCaptureNames(ConfigObject edge) {
        Set<String> names = new TreeSet<>();
        for (String key : List.of("sites", "site-defaults", "location-defaults")) {
            writtenGroups(edge.get(key), null, names);
        }
        return names;
    }

    private static void writtenGroups(ConfigValue value, String key, Set<String> names) {
        if (value instanceof ConfigObject object) {
            object.forEach((name, inner) -> writtenGroups(inner, name, names));
        } else if (value instanceof ConfigList list) {
            list.forEach(inner -> writtenGroups(inner, key, names));
        } else if (value != null && value.valueType() == ConfigValueType.STRING
                && ("match".equals(key) || "rewrite".equals(key) || "if".equals(key))) {
            names.addAll(Return.writtenGroups((String) value.unwrapped()));
        }
    }

    private static List<ConfigValue> listed(ConfigValue value) {
        return value instanceof ConfigList list ? list : List.of();
    }

    /**
     * The name {@code written} sets, without {@code $}: its first word's, where that is {@code $} and a variable's
     * name; else null (the problem is said where the set is read).
     */
    static String setName(String written) {
        String text = written.strip();
        int end = 0;
        while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
            end++;
        }
        String first = text.substring(0, end);
        String name = first.startsWith("$") ? first.substring(1) : "";
        return SET_NAME.matcher(name).matches() && !NOT_READ.containsKey(name) ? name : null;
    }

    /** A name a set may give a variable of its own, nginx's: lower-case letters, digits and '_', no digit first. */
    private static final Pattern SET_NAME = Pattern.compile("[a-z_][a-z0-9_]*");

    /**
     * A set as written, {@code $name value}: {@code name} one of {@code maps} (a set's, a map's or a geo's) or
     * {@link #SETTABLE}, {@code value} one word (in quotes where it holds blanks; '' for empty) with variables and
     * the captures of {@code regex} (null: none) and the named groups {@code earlier} (regexes' met before).
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static Assignment set(String written, Pattern regex, VariableMaps maps, Set<String> earlier) {
        List<String> words = words(written);
        if (words.size() != 2) {
            throw new IllegalArgumentException("has " + words.size() + " word" + (words.size() == 1 ? "" : "s")
                    + ", not a variable and a value");
        }
        String target = words.get(0);
        if (!target.startsWith("$") || target.length() < 2) {
            throw new IllegalArgumentException("sets \"" + target + "\", which is no variable ($name)");
        }
        String name = target.substring(1);
        if (!SET_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("sets \"" + target + "\", not a variable's name (lower-case letters,"
                    + " digits and '_', not starting with a digit)");
        }
        if (NOT_READ.containsKey(name)) {
            throw new IllegalArgumentException("sets nginx's $" + name + ", which edge does not read: "
                    + NOT_READ.get(name));
        }
        VariableMap variable = maps.get(name);
        if (variable == null && !SETTABLE.contains(name)) {
            String what = Return.VARIABLES.contains(name) || Return.ANSWER_VARIABLES.contains(name)
                    ? "edge's $" + name + ", which the request makes" : Return.prefixed(name) ? "$" + name
                    + ", which is named after the request's header, argument or cookie" : "nginx's $" + name
                    + ", which edge does not have";
            throw new IllegalArgumentException("sets " + what + ": a set may change $args (the query passed on)"
                    + " and its own variables");
        }
        String value = words.get(1);
        if (value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
            throw new IllegalArgumentException("has a control character in its value");
        }
        return new Assignment(name, variable, Return.parts(value, regex, maps, earlier));
    }

    /** What an entry is written as, for a message. */
    static final String EXPECTED = "{ if = \"$host != example.org\", return = \"301 https://example.org"
            + "$request_uri\" }, { if = \"$is_bot\", rewrite = \"^ /bots.html last\" }, { rewrite = \"^/old/(.*)$"
            + " /new/$1 permanent\" } or { if = \"$request_method = POST\", set = \"$skip_cache 1\" }";

    /** What a rewrite is written as, for a message. */
    static final String REWRITE_EXPECTED = "\"regex replacement [last | break | redirect | permanent]\", as nginx's"
            + " rewrite: \"^/old/(.*)$ /new/$1 permanent\", \"^/feed$ /index.php?feed=rss last\"";

    /** What a condition is written as, for a message. */
    static final String CONDITION_EXPECTED = "a variable (false when empty or \"0\"), a variable, an operator"
            + " (=, !=, ~, ~*, !~, !~*) and a text or regex, or a file test (-f, !-f, -d, !-d, -e, !-e, -x, !-x) and a"
            + " path: \"$host != example.org\", \"$request_method !~ ^(GET|HEAD)$\", \"!-e $request_filename\"";

    /** nginx's rewrite flags. */
    public enum Flag {
        /** None written: the URI changes, the entries after it are met with it, then the request is routed again. */
        NONE,
        /** Routed again with the new URI at once; the entries after it are passed over. */
        LAST,
        /** As {@link #LAST} in a site; refused in a location, where nginx would serve the new URI from it. */
        BREAK,
        /** A 302 to the replacement. */
        REDIRECT,
        /** A 301 to the replacement. */
        PERMANENT
    }

    /** How a condition compares its variable. */
    public enum Operator {
        /** True unless the value is empty or "0". */
        SET,
        EQUALS,
        NOT_EQUALS,
        MATCHES,
        NOT_MATCHES,
        /** nginx's {@code -f}: the path is a regular file, links followed. */
        FILE,
        NOT_FILE,
        /** {@code -d}: a directory, links followed. */
        DIRECTORY,
        NOT_DIRECTORY,
        /** {@code -e}: anything that exists, links followed (a link to nothing does not). */
        EXISTS,
        NOT_EXISTS,
        /** {@code -x}: anything whose owner may execute it (nginx reads the mode's owner bit: a directory usually). */
        EXECUTABLE,
        NOT_EXECUTABLE;

        /** Whether this is one of nginx's file tests, which ask the file system about a path. */
        public boolean fileTest() {
            return compareTo(FILE) >= 0;
        }
    }

    /**
     * An {@code if}'s condition.
     *
     * @param subject  the variable tested (a map's, or a request's); null for a file test
     * @param operator how
     * @param text     for {@link Operator#EQUALS} and {@link Operator#NOT_EQUALS}, what it is compared with (variables
     *                 in it as in a return's text); for a file test ({@link Operator#fileTest}), the path asked
     *                 about; else empty
     * @param regex    for {@link Operator#MATCHES} and {@link Operator#NOT_MATCHES}, what is searched in it
     */
    public record Condition(Return.Part subject, Operator operator, List<Return.Part> text, Pattern regex) {

        public Condition {
            text = List.copyOf(text);
        }
    }

    /**
     * An entry's {@code if}, as nginx writes it between the parentheses (which may be written too): {@code $is_bot},
     * {@code $host != example.org}, {@code $request_method !~ ^(GET|HEAD|POST)$}, {@code !-e $request_filename}
     * ({@link #fileTest}), a text or a regex in quotes where it
     * holds blanks. A text's captures are {@code regex}'s, its location's (null: none), as nginx's {@code $1} there is
     * the location's while no regex of its own matched, and the named groups {@code earlier} (regexes' met before).
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static Condition condition(String written, Pattern regex, VariableMaps maps, Set<String> earlier) {
        String text = written.strip();
        if (text.startsWith("(") && text.endsWith(")")) {
            text = text.substring(1, text.length() - 1).strip();
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException("is empty");
        }
        if (text.startsWith("-") || text.startsWith("!-")) {
            return fileTest(text, regex, maps, earlier);
        }
        if (!text.startsWith("$")) {
            throw new IllegalArgumentException("does not start with a variable");
        }
        int end = 1;
        if (text.startsWith("${")) {
            end = text.indexOf('}') + 1;
            if (end == 0) {
                throw new IllegalArgumentException("has a \"${\" without its \"}\"");
            }
        } else {
            while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
                end++;
            }
        }
        List<Return.Part> subject = Return.parts(text.substring(0, end), null, maps);
        if (subject.size() != 1 || subject.get(0).variable() == null || subject.get(0).isCapture()) {
            throw new IllegalArgumentException("starts with \"" + text.substring(0, end) + "\", which is no one"
                    + " variable of the request's or a map's");
        }
        String rest = text.substring(end).strip();
        if (rest.isEmpty()) {
            return new Condition(subject.get(0), Operator.SET, List.of(), null);
        }
        int blank = 0;
        while (blank < rest.length() && !Character.isWhitespace(rest.charAt(blank))) {
            blank++;
        }
        String operator = rest.substring(0, blank);
        String operand = operand(operator, rest.substring(blank).strip());
        switch (operator) {
            case "=", "!=" -> {
                return new Condition(subject.get(0), operator.equals("=") ? Operator.EQUALS : Operator.NOT_EQUALS,
                        Return.parts(operand, regex, maps, earlier), null);
            }
            case "~", "~*", "!~", "!~*" -> {
                if (operand.isEmpty()) {
                    throw new IllegalArgumentException("has no regex after " + operator);
                }
                Pattern own = LocationMatch.compile(operand, operator.endsWith("*") ? Pattern.CASE_INSENSITIVE : 0);
                return new Condition(subject.get(0), operator.startsWith("!") ? Operator.NOT_MATCHES
                        : Operator.MATCHES, List.of(), own);
            }
            default -> throw new IllegalArgumentException("has \"" + operator + "\" where an operator (=, !=, ~, ~*,"
                    + " !~, !~*) goes");
        }
    }

    /** nginx's file tests, as written. */
    private static final Map<String, Operator> FILE_TESTS = Map.of("-f", Operator.FILE, "!-f", Operator.NOT_FILE,
            "-d", Operator.DIRECTORY, "!-d", Operator.NOT_DIRECTORY, "-e", Operator.EXISTS, "!-e", Operator.NOT_EXISTS,
            "-x", Operator.EXECUTABLE, "!-x", Operator.NOT_EXECUTABLE);

    /**
     * A file test, nginx's {@code -f $request_filename}: the test and one text (variables and {@code regex}'s captures
     * in it, in quotes where it holds blanks), the path asked about. A text that starts with the configuration's own
     * characters starts with "/": the path is never the server's working directory's.
     */
    private static Condition fileTest(String text, Pattern regex, VariableMaps maps, Set<String> earlier) {
        List<String> words = words(text); // the test first: it starts with "-" or "!-", never a quote
        String test = words.get(0);
        Operator operator = FILE_TESTS.get(test);
        if (operator == null) {
            throw new IllegalArgumentException("has \"" + test + "\" where a file test (-f, !-f, -d, !-d, -e, !-e, -x,"
                    + " !-x) goes");
        }
        if (words.size() == 1) {
            throw new IllegalArgumentException("has no path after " + test);
        }
        String written = words.get(1);
        if (words.size() > 2 || written.startsWith("~")) {
            throw new IllegalArgumentException("has " + (words.size() > 2 ? words.size() - 1 + " words" : "a regex")
                    + " after " + test + ", which takes one path (a text of variables, such as $request_filename or"
                    + " $document_root/maintenance.html), not a comparison");
        }
        Set<String> also = new TreeSet<>(Return.FILE_VARIABLES);
        also.addAll(earlier);
        List<Return.Part> path = Return.parts(written, regex, maps, also);
        if (path.isEmpty() || path.get(0).literal() != null && !path.get(0).literal().startsWith("/")) {
            throw new IllegalArgumentException("tests \"" + written + "\", which is no absolute path (\"/\" or a"
                    + " variable first)");
        }
        return new Condition(null, operator, path, null);
    }

    /**
     * A rewrite as nginx writes it, {@code regex replacement [flag]}: regex and replacement in quotes where they hold
     * blanks, {@code last} or {@code break} (or none) for a URI the request is routed by, {@code redirect} (302) or
     * {@code permanent} (301), or a replacement that starts with {@code http://}, {@code https://} or {@code $scheme},
     * for a redirect. {@code inLocation}: a location's, where {@code break} is refused. The replacement may name the
     * named groups {@code earlier} (those of the regexes met before it: its if's, the entries' before it, the
     * location's) besides its regex's.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static RewriteRule rewrite(Condition condition, String written, VariableMaps maps, boolean inLocation,
            Set<String> earlier) {
        List<String> words = words(written);
        if (words.size() < 2 || words.size() > 3) {
            throw new IllegalArgumentException("has " + words.size() + " word" + (words.size() == 1 ? "" : "s")
                    + ", not a regex, a replacement and an optional flag");
        }
        Flag flag = Flag.NONE;
        if (words.size() == 3) {
            try {
                flag = Flag.valueOf(words.get(2).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("has flag \"" + words.get(2) + "\", not last, break, redirect or"
                        + " permanent");
            }
            if (flag == Flag.NONE) {
                throw new IllegalArgumentException("has flag \"" + words.get(2) + "\", not last, break, redirect or"
                        + " permanent");
            }
        }
        if (flag == Flag.BREAK && inLocation) {
            throw new IllegalArgumentException("has flag break, which in a location would serve the new URI from it"
                    + " (nginx's \"if is evil\"): last routes it to its own location");
        }
        Pattern regex = LocationMatch.compile(words.get(0), 0);
        String replacement = words.get(1);
        boolean url = Return.isUrl(replacement);
        if (url || flag == Flag.REDIRECT || flag == Flag.PERMANENT) {
            // nginx appends the request's query to a redirect's URL, after "&" where the URL has one already, but where
            // the replacement ends in "?"
            String argsJoin = replacement.endsWith("?") ? null : replacement.contains("?") ? "&" : "?";
            String target = replacement.endsWith("?") ? replacement.substring(0, replacement.length() - 1)
                    : replacement;
            Return answer = Return.parse((flag == Flag.PERMANENT ? "301 " : "302 ") + target, regex, maps, earlier);
            return new RewriteRule(condition, answer, regex, null, flag == Flag.PERMANENT ? flag : Flag.REDIRECT,
                    argsJoin);
        }
        return new RewriteRule(condition, null, regex, Rewrite.parse(replacement, regex, maps, earlier), flag, null);
    }

    /** {@code written}'s words, split at blanks but within quotes ("..." or '...'), the quotes taken off. */
    static List<String> words(String written) {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < written.length()) {
            char c = written.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            if (c == '"' || c == '\'') {
                int close = written.indexOf(c, i + 1);
                if (close < 0) {
                    throw new IllegalArgumentException("has a " + c + " without its closing one");
                }
                words.add(written.substring(i + 1, close));
                i = close + 1;
                continue;
            }
            int end = i;
            while (end < written.length() && !Character.isWhitespace(written.charAt(end))) {
                end++;
            }
            words.add(written.substring(i, end));
            i = end;
        }
        return words;
    }

    /**
     * The text or regex after a condition's {@code operator}, {@code written} as one word, its quotes taken off: nginx
     * takes one argument there, and refuses more ({@code if ($uri = a b)}: "invalid condition") or none. An
     * operator that is none has its own problem later, whatever follows it.
     */
    private static String operand(String operator, String written) {
        if (!Set.of("=", "!=", "~", "~*", "!~", "!~*").contains(operator)) {
            return written;
        }
        List<String> words = words(written);
        boolean regex = operator.contains("~");
        if (words.isEmpty()) {
            throw new IllegalArgumentException(regex ? "has no regex after " + operator
                    : "has no text after " + operator + " ('' for the empty one)");
        }
        if (words.size() > 1) {
            boolean quotes = written.indexOf('"') >= 0 || written.indexOf('\'') >= 0;
            throw new IllegalArgumentException("has " + words.size() + " words after " + operator + ", which nginx"
                    + " refuses (\"invalid condition\"): a " + (regex ? "regex" : "text") + " with blanks is quoted"
                    + (quotes ? " whole" : ", '" + written + "' or \"" + written + "\""));
        }
        return words.get(0);
    }
}
