package io.edge.conf;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.parser.ConfigDocumentFactory;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns Typesafe's parse and include failures into problems a user can act on: the including file and line
 * of a failed {@code include} (Typesafe names only the file or URL it could not open, with no line), no Java
 * class names, and a hint where a parse error is at the end of the file.
 */
final class ParseErrors {

    static final String EXPECTED_INCLUDE = "an existing, readable file";
    static final String EXPECTED_URL = "a URL that can be fetched";

    /**
     * Typesafe's advice after a syntax error, which does not apply: edge reads the main file as HOCON, whatever its name,
     * and every include too but one of a .properties file (which has no lists, so could hardly hold edge's settings).
     */
    private static final String RENAME_ADVICE = ", or you may be able to rename the file .properties rather than .conf";

    /**
     * Typesafe's words where a key was expected (an object's next key, or its close brace), whatever came instead
     * (lightbend/config#617), and also, rightly, for an include's open parenthesis.
     */
    private static final String PARENTHESIS = "expecting a close parentheses ')' here, not: ";
    /** The start of an include whose name may be in parentheses: {@code include required(file("a")}. */
    private static final Pattern INCLUDE_START = Pattern.compile("\\binclude\\s");

    /** How Typesafe words a url include it could not fetch (refused, unknown host, HTTP 5xx): no origin. */
    private static final String URL_FAILED = "Cannot load config from URL: ";

    /** {@code include "a"}, {@code include required(file("a"))}, ... : group 1 the form, 2 the name. */
    private static final Pattern INCLUDE = Pattern.compile(
            "\\binclude\\s+(?:required\\s*\\(\\s*)?(?:(file|url|classpath)\\s*\\(\\s*)?\"((?:[^\"\\\\]|\\\\.)*)\"(?:\\s*\\))*");
    /** A Java class name leading a message: {@code java.io.FileNotFoundException: }. */
    private static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(?:\\$\\w+)*: ");
    /**
     * Typesafe's words for a list or object written beside a value of another kind ({@code [1] ${HOME}}), naming its
     * own classes: group 1 and 3 the classes, 2 and 4 the values as written.
     */
    private static final Pattern CONCATENATION = Pattern.compile("Cannot concatenate object or list with a "
            + "non-object-or-list, (\\w+)\\((.*)\\) and (\\w+)\\((.*)\\) are not compatible");
    /** Typesafe's words for a file that is a list (JSON allows it), not an object: group 1 the type. */
    private static final Pattern NOT_AN_OBJECT_AT_ROOT = Pattern.compile("\\s*has type (\\w+) rather than object at file root");
    static final String EXPECTED_CONCATENATION = "lists with lists or objects with objects, to concatenate them";
    private static final int MAX_DEPTH = 16;
    /** The extensions Typesafe adds, in this order, to an include's name that has none of them. */
    private static final List<String> SYNTAX_EXTENSIONS = RequiredIncludes.SYNTAX_EXTENSIONS;
    /** Typesafe's words for a file with substitutions included inside a list, which it does not resolve. */
    private static final String INCLUDE_IN_LIST = "when an include statement is nested inside a list value";
    /** Typesafe's words (taken from its JSON parser) at the end of a line in which a quoted string is still open. */
    private static final String NEWLINE_IN_STRING = "does not allow unescaped newline in quoted strings";
    /** Typesafe's words at the end of a file in which a triple-quoted string is still open. */
    private static final String OPEN_TRIPLE_QUOTE = "triple-quoted string was still open";
    /**
     * What follows a value on its line when another value does: a separator, then something other than separators
     * (before the separator is the rest of the value, such as a substitution it is concatenated with).
     */
    private static final Pattern ANOTHER_VALUE = Pattern.compile("[,}\\]].*[^\\s,}\\]]");
    private static final String EXPECTED_NO_CYCLE = "no file that includes, directly or not, itself";
    /**
     * Typesafe's words for a character the tokenizer refused, said twice (once with the advice to quote the value):
     * group 1 a backslash's next character in a quoted string, 2 a reserved character outside quotes.
     */
    private static final Pattern REFUSED_CHARACTER = Pattern.compile(".*?\\((?:backslash followed by '(.)', this is not a"
            + " valid escape sequence|Reserved character '(.)' is not allowed outside quotes).*", Pattern.DOTALL);

    private ParseErrors() {
    }

    /** The problem {@code e} stands for, thrown while parsing {@code file} (and what it includes). */
    static ConfigProblem describe(ConfigException e, Path file) {
        ConfigProblem cycle = includeCycle(e, file);
        if (cycle != null) {
            return cycle;
        }
        String failed = failedInclude(e);
        if (failed != null) {
            ConfigProblem include = includeProblem(e, failed, file);
            if (include != null) {
                return include;
            }
        }
        ConfigOrigin origin = e.origin();
        String message = withoutClassNames(stripOrigin(e)).replace(RENAME_ADVICE, "");
        WrittenAt inUrl = urlIncludeOf(origin, file, null);
        if (inUrl != null) {
            return new ConfigProblem(inUrl.file(), inUrl.line(), null, message + inUrl.note(), null);
        }
        Path where = origin != null && origin.filename() != null ? Path.of(origin.filename()) : file;
        int line = origin != null ? origin.lineNumber() : -1;
        Matcher root = NOT_AN_OBJECT_AT_ROOT.matcher(stripOrigin(e));
        if (e instanceof ConfigException.WrongType && root.matches()) {
            return new ConfigProblem(where, line, null,
                    "the file holds " + kind(root.group(1)) + ", not settings", "settings such as edge { sites = [...] }");
        }
        int unclosed = e instanceof ConfigException.Parse && e.getMessage().contains(OPEN_TRIPLE_QUOTE)
                ? unclosedTripleQuote(where) : -1;
        if (unclosed > 0) {
            return new ConfigProblem(where, unclosed, null,
                    "a triple-quoted string is not closed: it runs to the end of the file", "\"\"\" where the string ends");
        }
        if (e instanceof ConfigException.Parse && e.getMessage().contains(INCLUDE_IN_LIST)) {
            return new ConfigProblem(where, line, includeInListAt(where, line), "the file has substitutions (${...}),"
                    + " which cannot be resolved in a file included inside a list",
                    "the include outside the list, or no substitution in the file");
        }
        if (e instanceof ConfigException.Parse && e.getMessage().contains(NEWLINE_IN_STRING)) {
            return new ConfigProblem(where, line, null, "a quoted string is not closed on its line",
                    "a closing \" before the line ends, or \"\"\"...\"\"\" for a string over several lines");
        }
        Matcher refused = REFUSED_CHARACTER.matcher(message);
        if (e instanceof ConfigException.Parse && refused.matches()) {
            return refused.group(1) != null
                    ? new ConfigProblem(where, line, null, "\\" + refused.group(1) + " in a quoted string is not an escape",
                            "\\\\ for a backslash, as in \"~ \\\\.php$\", or the string in triple quotes, where a backslash"
                            + " is itself: \"\"\"~ \\.php$\"\"\"")
                    : new ConfigProblem(where, line, null, "'" + refused.group(2) + "' is not allowed outside quotes",
                            "the value (or key) in double quotes, as in match = \"^~ /thumbs/\"");
        }
        String concatenation = concatenation(e);
        if (concatenation != null) {
            return new ConfigProblem(where, line, null, concatenation, EXPECTED_CONCATENATION);
        }
        if (message.startsWith(PARENTHESIS) && !inOpenInclude(where, line)) {
            message = "expecting a key or a closing '}' here, not: " + message.substring(PARENTHESIS.length());
        }
        if (e instanceof ConfigException.Parse && message.contains("end of file")) {
            message += " (an unclosed { or [ ?" + leftOpen(where) + ")";
        }
        return new ConfigProblem(where, line, null, message, null);
    }

    /**
     * The problem an include that could not be opened stands for, in parsing {@code file}: at its own directive, the
     * one its place in the read order says; at the first naming what failed (in its includer, then anywhere) when that
     * is not known (its includer was not read to its end) or names something else (a directive the text was not read
     * as the parser reads).
     */
    static ConfigProblem describe(RequiredIncludes.Unopened include, Path file) {
        ConfigException e = include.error();
        String failed = failedInclude(e);
        Path includer = include.at().includerFile();
        if (failed != null && includer != null) {
            List<Directive> directives = directives(includer);
            int ordinal = include.at().ordinal();
            if (directives != null && ordinal < directives.size() && names(directives.get(ordinal), failed)) {
                return includeProblem(e, directives.get(ordinal));
            }
            Directive first = find(includer, failed, new HashSet<>(), MAX_DEPTH); // in the includer alone
            if (first != null) {
                return includeProblem(e, first);
            }
        }
        return describe(e, file);
    }

    /**
     * The includes of {@code file} naming a file that is not there (or cannot be read), each the problem a failed
     * include is. Found from the text, for a file whose includes Typesafe never tried: it reads a file's syntax whole
     * before it follows an include, so a syntax error, in the file or in one read before it, ended the parse first.
     * URLs are not fetched, and resources not looked for, here.
     */
    static List<ConfigProblem> unopenedIncludes(Path file) {
        List<ConfigProblem> problems = new ArrayList<>();
        List<Directive> directives = directives(file);
        for (Directive directive : directives != null ? directives : List.<Directive>of()) {
            Path included = directive.includedFile();
            String text = directive.text();
            boolean balanced = text.chars().filter(c -> c == '(').count() == text.chars().filter(c -> c == ')').count();
            if ("classpath".equals(directive.form())) {
                // as its read would have it (a URL's would need a fetch: said once the syntax error is mended)
                if (balanced && ParseErrors.class.getClassLoader().getResource(directive.name()) == null) {
                    problems.add(new ConfigProblem(directive.file(), directive.line(), text,
                            "no such resource on the classpath", EXPECTED_INCLUDE));
                }
                continue;
            }
            if (included == null || readAsUrl(directive.form(), directive.name()) || !balanced
                    || Files.isRegularFile(included) && Files.isReadable(included)
                    || directive.form() == null && ParseErrors.class.getClassLoader().getResource(directive.name()) != null) {
                // unclosed, the directive is the syntax error; a bare name not beside its includer is read from the
                // classpath when it is there
                continue;
            }
            problems.add(fileIncludeProblem(directive, Files.isRegularFile(included) ? "Permission denied" : ""));
        }
        return problems;
    }

    /**
     * Files that include each other: Typesafe gives up after 50 levels with its parser's trace of every level (cut
     * at 50, so which file it starts from is chance). The cycle instead, found by following the include directives
     * from {@code file}, at the include that closes it; {@code null} when {@code e} is no such failure.
     */
    private static ConfigProblem includeCycle(ConfigException e, Path file) {
        String message = e.getMessage();
        if (message == null || !message.contains("you probably have a cycle in your includes")) {
            return null;
        }
        ConfigProblem cycle = cycleFrom(file.toAbsolutePath().normalize(), new ArrayList<>());
        return cycle != null ? cycle : new ConfigProblem(file, -1, null, "include cycle", EXPECTED_NO_CYCLE);
    }

    /** The first cycle of includes reached from {@code file}, whose includers are {@code stack}; null if none. */
    private static ConfigProblem cycleFrom(Path file, List<Path> stack) {
        if (stack.size() > MAX_DEPTH) {
            return null;
        }
        List<Directive> directives = directives(file);
        if (directives == null) {
            return null;
        }
        stack.add(file);
        for (Directive directive : directives) {
            Path included = directive.includedFile();
            if (included == null || isUrl(directive.name())) {
                continue;
            }
            int seen = stack.indexOf(included);
            if (seen >= 0) {
                List<String> names = new ArrayList<>();
                stack.subList(seen, stack.size()).forEach(p -> names.add(p.toString()));
                names.add(included.toString());
                return new ConfigProblem(file, directive.line(), directive.text(),
                        "include cycle: " + String.join(" includes ", names), EXPECTED_NO_CYCLE);
            }
            if (Files.isRegularFile(included)) {
                ConfigProblem found = cycleFrom(included, stack);
                if (found != null) {
                    return found;
                }
            }
        }
        stack.remove(stack.size() - 1);
        return null;
    }

    /** Whether {@code e} is Typesafe's word for a URL include that could not be fetched. */
    static boolean isUrlFailure(ConfigException e) {
        return e instanceof ConfigException.BugOrBroken && e.getMessage() != null && e.getMessage().startsWith(URL_FAILED);
    }

    /**
     * What an include that failed with {@code e} named, as Typesafe names it: a file's path (a file: URL's too),
     * another URL in full; {@code null} when {@code e} is no include failure.
     */
    private static String failedInclude(ConfigException e) {
        if (e instanceof ConfigException.IO && e.origin() != null) {
            return e.origin().description();
        }
        if (isUrlFailure(e)) {
            return e.getMessage().substring(URL_FAILED.length());
        }
        return null;
    }

    /** A failed include, at the directive that asked for it; {@code null} when no directive names it. */
    private static ConfigProblem includeProblem(ConfigException e, String missing, Path file) {
        Directive directive = find(file, missing, new HashSet<>(), 0);
        return directive == null ? null : includeProblem(e, directive);
    }

    /** The include {@code directive}, which failed with {@code e}. */
    private static ConfigProblem includeProblem(ConfigException e, Directive directive) {
        Throwable cause = e.getCause();
        String reason = cause != null && cause.getMessage() != null ? cause.getMessage() : "";
        if (readAsUrl(directive.form(), directive.name()) && !isFileUrl(directive.name())) {
            // Typesafe takes a 404 or 410 for missing (IO); a refused connection, an unknown host, a 5xx is broken.
            String message = e instanceof ConfigException.IO ? "not found" : "cannot be fetched ("
                    + (cause instanceof UnknownHostException ? "unknown host " : "") + withoutClassNames(reason) + ")";
            return new ConfigProblem(directive.file(), directive.line(), directive.text(), message, EXPECTED_URL);
        }
        return fileIncludeProblem(directive, reason);
    }

    /** The include {@code directive} of a file or resource, which could not be opened for {@code reason}. */
    private static ConfigProblem fileIncludeProblem(Directive directive, String reason) {
        String message;
        if (reason.contains("Permission denied")) {
            message = "cannot be read";
        } else if (reason.startsWith(RequiredIncludes.TOO_LARGE)) {
            message = "is " + reason; // "larger than 16 MiB"
        } else if (reason.startsWith(RequiredIncludes.NOT_A_PATH)) {
            message = reason; // "not a valid path: Nul character not allowed"
        } else if (reason.contains(RequiredIncludes.NOT_REGULAR)) {
            message = "is not a regular file (a FIFO or a device, whose read would wait)";
        } else if (reason.contains("Is a directory") || isDirectory(directive.namedFile())) {
            // a name without an extension Typesafe looks for as name.conf, .json, .properties: missing, all of them
            message = "is a directory";
        } else if ("classpath".equals(directive.form())) {
            message = "no such resource on the classpath";
        } else if (directive.form() == null || "file".equals(directive.form())) {
            Path named = directive.namedFile();
            Path read = directive.includedFile();
            if (read != null && !read.equals(named)) {
                // "noext", "x.txt", "/etc/shadow": Typesafe reads name.conf (or .json, .properties), never the name
                message = "no such file " + read + " (a name without .conf, .json or .properties is read as name.conf"
                        + (Files.isRegularFile(named) ? ", never as " + named.getFileName() + " itself)" : ")");
            } else if (!new File(directive.name()).isAbsolute()) {
                // A bare name (also looked for on the classpath) or a relative file(...) is read beside the including
                // file.
                message = "no such file " + named + " (a name is relative to the including file)";
            } else {
                message = "no such file";
            }
        } else {
            message = "no such file";
        }
        return new ConfigProblem(directive.file(), directive.line(), directive.text(), message, EXPECTED_INCLUDE);
    }

    private static boolean isDirectory(Path file) {
        return file != null && Files.isDirectory(file);
    }

    /**
     * Whether {@code file}, read to the end of {@code line}, ends inside the parentheses of its last include (which
     * Typesafe's parenthesis message is then right about); false when it cannot be read. The word in a quoted string
     * or a comment is no include, nor is a parenthesis there one.
     */
    private static boolean inOpenInclude(Path file, int line) {
        List<String> lines = linesOf(file);
        if (lines == null) {
            return false;
        }
        String code = withoutStringsAndComments(String.join("\n", lines.subList(0, Math.min(line, lines.size()))));
        Matcher include = INCLUDE_START.matcher(code);
        int last = -1;
        while (include.find()) {
            last = include.start();
        }
        if (last < 0) {
            return false;
        }
        int open = 0;
        for (int i = last; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '(') {
                open++;
            } else if (c == ')') {
                open--;
            }
        }
        return open > 0;
    }

    /**
     * Which { or [ of {@code file}, a file that ends with one left open, is likely the one, counted outside strings
     * and comments: the first that a } or ] at the start of a line closes while indented less than the line that
     * opened it (the one left open was before it, and it closes that line's), else the last left open at the end;
     * "" when the file cannot be read or leaves none open.
     */
    private static String leftOpen(Path file) {
        List<String> lines = linesOf(file);
        if (lines == null) {
            return "";
        }
        String[] code = withoutStringsAndComments(String.join("\n", lines)).split("\n", -1);
        Deque<int[]> open = new ArrayDeque<>(); // each the line (from 0) and the character that opened it
        for (int i = 0; i < code.length; i++) {
            int indentation = indentation(code[i]);
            for (int j = indentation; j < code[i].length(); j++) {
                char c = code[i].charAt(j);
                if (c == '{' || c == '[') {
                    open.push(new int[] {i, c});
                } else if ((c == '}' || c == ']') && !open.isEmpty()) {
                    int[] opener = open.pop();
                    if (j == indentation && indentation < indentation(code[opener[0]])) {
                        return " the " + (char) opener[1] + " on line " + (opener[0] + 1) + ", by the indentation of the "
                                + c + " on line " + (i + 1);
                    }
                }
            }
        }
        return open.isEmpty() ? "" : " the " + (char) open.peek()[1] + " on line " + (open.peek()[0] + 1)
                + " is the last left open";
    }

    /** How many white space characters {@code line} starts with. */
    private static int indentation(String line) {
        int i = 0;
        while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Where a file nests its objects and lists deepest: the first line at that depth, and the depth. */
    record Depth(int line, int levels) {
    }

    /**
     * Where {@code file} nests objects and lists ({@code {}, {@code [}) deepest, counted outside strings and comments;
     * null when it cannot be read.
     */
    static Depth deepest(Path file) {
        List<String> lines = linesOf(file);
        if (lines == null) {
            return null;
        }
        String[] code = withoutStringsAndComments(String.join("\n", lines)).split("\n", -1);
        Depth deepest = new Depth(0, 0);
        int levels = 0;
        for (int i = 0; i < code.length; i++) {
            for (int j = 0; j < code[i].length(); j++) {
                char c = code[i].charAt(j);
                if (c == '{' || c == '[') {
                    levels++;
                    if (levels > deepest.levels()) {
                        deepest = new Depth(i + 1, levels);
                    }
                } else if (c == '}' || c == ']') {
                    levels--;
                }
            }
        }
        return deepest;
    }

    /**
     * HOCON {@code text} with what its quoted strings hold (a backslash escaping the next character; a triple-quoted
     * string taken raw, as far as its closing quotes) and its {@code #} and {@code //} comments blanked out, line breaks
     * kept: the keys, unquoted values and punctuation the parser reads.
     */
    static String withoutStringsAndComments(String text) {
        return withoutStringsAndComments(text, stringsAndComments(text));
    }

    /**
     * As {@link #withoutStringsAndComments(String)}, for {@code text} whose {@link #stringsAndComments} are
     * {@code spans}.
     */
    private static String withoutStringsAndComments(String text, List<Span> spans) {
        StringBuilder code = new StringBuilder(text);
        for (Span span : spans) {
            for (int i = span.start(); i < span.end(); i++) {
                if (code.charAt(i) != '\n') {
                    code.setCharAt(i, ' ');
                }
            }
        }
        return code.toString();
    }

    /** A quoted string or a comment in HOCON text, from {@code start} to before {@code end}. */
    private record Span(int start, int end, boolean tripleQuoted) {
    }

    /**
     * The quoted strings (a backslash escaping the next character; a triple-quoted string taken raw, as far as its
     * closing quotes) and the {@code #} and {@code //} comments of HOCON {@code text}, in order.
     */
    private static List<Span> stringsAndComments(String text) {
        List<Span> spans = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end;
            boolean tripleQuoted = text.startsWith("\"\"\"", i);
            if (tripleQuoted) {
                int close = text.indexOf("\"\"\"", i + 3);
                end = close < 0 ? text.length() : close + 3;
                while (end < text.length() && text.charAt(end) == '"') {
                    end++; // quotes before the closing three are the string's
                }
            } else if (text.charAt(i) == '"') {
                end = i + 1;
                while (end < text.length() && text.charAt(end) != '"' && text.charAt(end) != '\n') {
                    end += text.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(end + 1, text.length());
            } else if (text.charAt(i) == '#' || text.startsWith("//", i)) {
                int lineEnd = text.indexOf('\n', i);
                end = lineEnd < 0 ? text.length() : lineEnd;
            } else {
                i++;
                continue;
            }
            spans.add(new Span(i, end, tripleQuoted));
            i = end;
        }
        return spans;
    }

    /**
     * Where the triple-quoted strings of a file ({@code lines}) that span lines start: for the line each ends on, the
     * line it starts on. Typesafe places such a string's value at the line it ends on, where
     * nobody looks for its key. A line where another value follows the closing quotes ({@code """a\nb""", c = 1}) is
     * left out: a value there is at its own line.
     */
    static Map<Integer, Integer> tripleQuotedStarts(List<String> lines) {
        String text = String.join("\n", lines);
        List<Span> spans = stringsAndComments(text);
        String code = withoutStringsAndComments(text, spans);
        LineStarts lineStarts = LineStarts.of(text); // a big file has thousands of strings: no count from the top
        Map<Integer, Integer> starts = new HashMap<>();
        for (Span span : spans) {
            if (!span.tripleQuoted()) {
                continue;
            }
            int first = lineStarts.lineOf(span.start());
            int last = lineStarts.lineOf(span.end() - 1);
            int lineEnd = text.indexOf('\n', span.end());
            String after = code.substring(span.end(), lineEnd < 0 ? text.length() : lineEnd);
            if (last > first && !ANOTHER_VALUE.matcher(after).find()) {
                starts.put(last, first);
            }
        }
        return starts;
    }

    /**
     * The include directive at {@code line} of {@code file} whose file has a substitution, as written; null when none
     * is found there.
     */
    private static String includeInListAt(Path file, int line) {
        List<Directive> directives = directives(file);
        for (Directive directive : directives != null ? directives : List.<Directive>of()) {
            Path included = directive.includedFile();
            List<String> lines = directive.line() == line && included != null ? linesOf(included) : null;
            if (lines != null && String.join("\n", lines).contains("${")) {
                return directive.text();
            }
        }
        return null;
    }

    /** The line where a triple-quoted string of {@code file} opens that is never closed; -1 when none is. */
    private static int unclosedTripleQuote(Path file) {
        List<String> lines = linesOf(file);
        if (lines == null) {
            return -1;
        }
        String text = String.join("\n", lines);
        for (Span span : stringsAndComments(text)) {
            // closed: six quotes at least, the last three its own (an open one has no three quotes after its first)
            if (span.tripleQuoted() && (span.end() - span.start() < 6 || !text.startsWith("\"\"\"", span.end() - 3))) {
                return LineStarts.of(text).lineOf(span.start());
            }
        }
        return -1;
    }

    /** One include directive as written: where, its text, its form (file, url, classpath or null) and name. */
    private record Directive(Path file, int line, String text, String form, String name) {

        /** The file this names, as written (absolute, normalised); null for a URL or a classpath one. */
        Path namedFile() {
            if ("url".equals(form) || "classpath".equals(form)) {
                return null;
            }
            try {
                Path named = Path.of(name);
                return (named.isAbsolute() ? named : file.toAbsolutePath().getParent().resolve(named)).normalize();
            } catch (InvalidPathException e) {
                return null;
            }
        }

        /**
         * The file this reads (absolute, normalised); null for a URL or a classpath one. A name without the extension
         * of a syntax Typesafe knows is read, as Typesafe reads it, as name.conf (merged over name.json and
         * name.properties, which hold no edge settings): the first of them that exists, else name.conf.
         */
        Path includedFile() {
            Path named = namedFile();
            if (named == null || named.getFileName() == null || SYNTAX_EXTENSIONS.stream().anyMatch(name::endsWith)) {
                return named;
            }
            for (String extension : SYNTAX_EXTENSIONS) {
                Path candidate = named.resolveSibling(named.getFileName() + extension);
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
            return named.resolveSibling(named.getFileName() + SYNTAX_EXTENSIONS.get(0));
        }
    }

    /**
     * The include directives of {@code file}, in the order written; null when it cannot be read. Only a word
     * {@code include} the parser reads counts, not one in a quoted string or a comment: the file is read whole, with
     * {@link #withoutStringsAndComments}, as escaped quotes and triple-quoted strings (which may span lines) decide.
     */
    private static List<Directive> directives(Path file) {
        List<String> lines = linesOf(file);
        if (lines == null) {
            return null;
        }
        String[] code = withoutStringsAndComments(String.join("\n", lines)).split("\n", -1);
        List<Directive> directives = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = INCLUDE.matcher(lines.get(i));
            int from = 0;
            while (m.find(from)) {
                if (code[i].startsWith("include", m.start())) {
                    directives.add(new Directive(file, i + 1, m.group().strip(), m.group(1), unescaped(m.group(2))));
                    from = m.end();
                } else {
                    from = m.start() + 1; // a match from a string or a comment may run over a real directive
                }
            }
        }
        return directives;
    }

    /**
     * Where a value read from {@code origin} is to be named when it came from a URL include (which has no file): at the
     * include directive reading that URL, in {@code file} or a file it includes (else {@code file}, without a line), with
     * a note naming the URL and the line there. Null for an origin of a file or a resource.
     */
    static WrittenAt urlIncludeOf(ConfigOrigin origin, Path file, String key) {
        if (origin == null || origin.filename() != null || origin.resource() != null || origin.url() == null) {
            return null;
        }
        String url = origin.url().toExternalForm();
        Directive include = find(file, url, new HashSet<>(), 0);
        String source = url + (origin.lineNumber() > 0 ? " line " + origin.lineNumber() : "");
        return include == null ? new WrittenAt(file, -1, key, null, source)
                : new WrittenAt(include.file(), include.line(), key, null, source);
    }

    /** The directive in {@code file}, or in a file it includes, that names {@code missing}. */
    private static Directive find(Path file, String missing, Set<Path> seen, int depth) {
        if (depth > MAX_DEPTH || !seen.add(file.toAbsolutePath().normalize())) {
            return null;
        }
        List<Directive> directives = directives(file);
        if (directives == null) {
            return null;
        }
        for (Directive directive : directives) {
            if (names(directive, missing)) {
                return directive;
            }
        }
        for (Directive directive : directives) { // then the files this one includes
            Path included = directive.includedFile();
            if (included != null && Files.isRegularFile(included)) {
                Directive found = find(included, missing, seen, depth + 1);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** {@code quoted}, the text between an include's quotes, as HOCON reads it: {@code a\\u0000b} is a, NUL, b. */
    private static String unescaped(String quoted) {
        if (quoted.indexOf('\\') < 0) {
            return quoted;
        }
        try {
            return ConfigFactory.parseString("v = \"" + quoted + "\"").getString("v");
        } catch (ConfigException e) {
            return quoted;
        }
    }

    /** Whether {@code directive} names {@code missing}, as Typesafe names an include that failed. */
    private static boolean names(Directive directive, String missing) {
        String name = directive.name();
        return readAsUrl(directive.form(), name) ? missing.equals(failedAs(name))
                : !isUrl(missing) && (missing.equals(name) || missing.endsWith("/" + name));
    }

    /**
     * {@code file}'s lines, or null when it cannot be read. Bytes that are not UTF-8 read as U+FFFD, as Typesafe reads
     * them (and {@link Utf8Check} reports them): the directives in such a file are still found.
     */
    static List<String> linesOf(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The files {@code file} includes, directly or not, as their include directives name them (absolute, normalised,
     * each once, {@code file} first), each with where it is first read: the lines of the includes that lead to it, as
     * {@link ReadOrder#positions} gives them. Found from the text alone, so files that a syntax error kept Typesafe
     * from reaching are found too; a file that does not exist is left out.
     */
    static Map<Path, List<Integer>> filesReachedFrom(Path file) {
        Map<Path, List<Integer>> reached = new LinkedHashMap<>();
        reach(file.toAbsolutePath().normalize(), List.of(), reached);
        return reached;
    }

    private static void reach(Path file, List<Integer> at, Map<Path, List<Integer>> reached) {
        if (at.size() > MAX_DEPTH || reached.putIfAbsent(file, at) != null) {
            return;
        }
        for (IncludedFile include : includedFiles(file)) {
            if (Files.isRegularFile(include.file())) {
                List<Integer> position = new ArrayList<>(at);
                position.add(include.line());
                reach(include.file(), List.copyOf(position), reached);
            }
        }
    }

    /**
     * The first syntax error of {@code file} parsed on its own, its includes not followed (Typesafe stops a parse at
     * its first syntax error, so one file's hides every other file's); {@code null} when it has none or cannot be read.
     */
    static ConfigProblem syntaxError(Path file) {
        if (RequiredIncludes.isProperties(file.getFileName().toString())) {
            return null; // an included properties file: what is not a HOCON syntax error is
        }
        try {
            ConfigDocumentFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF));
            return null;
        } catch (ConfigException.Parse e) {
            return describe(e, file);
        } catch (ConfigException | UncheckedIOException e) {
            return null; // cannot be read: its include, or the loader, reports that
        }
    }

    /** An include directive naming a file, at {@code line} of the including file. */
    record IncludedFile(int line, Path file) {
    }

    /**
     * The include directives of {@code file} that name a file (absolute, normalised), in the order written; none
     * when it cannot be read.
     */
    static List<IncludedFile> includedFiles(Path file) {
        List<IncludedFile> result = new ArrayList<>();
        List<Directive> directives = directives(file);
        for (Directive directive : directives != null ? directives : List.<Directive>of()) {
            Path included = directive.includedFile();
            if (included != null && !isUrl(directive.name())) {
                result.add(new IncludedFile(directive.line(), included));
            }
        }
        return result;
    }

    /**
     * The file the include {@code directive}, written in {@code includer}, names (absolute, normalised, as
     * {@link #includedFiles} gives it), a {@code file:} URL's too, as Typesafe reads it; null for another URL, a
     * resource or a text that is no include.
     */
    static Path includedFile(Path includer, String directive) {
        Matcher m = INCLUDE.matcher(directive);
        if (!m.find()) {
            return null;
        }
        if (readAsUrl(m.group(1), m.group(2)) && isFileUrl(m.group(2))) {
            try {
                return fileOf(new URL(m.group(2))).toPath().toAbsolutePath().normalize();
            } catch (MalformedURLException | InvalidPathException e) {
                return null;
            }
        }
        if (isUrl(m.group(2))) {
            return null;
        }
        return new Directive(includer, 0, m.group().strip(), m.group(1), unescaped(m.group(2))).includedFile();
    }

    /**
     * What Typesafe names when {@code url(name)} fails: a file: URL's file (as its {@code ConfigImplUtil.urlToFile}
     * makes it, escapes decoded), any other URL in its external form.
     */
    private static String failedAs(String name) {
        URL url;
        try {
            url = new URL(name);
        } catch (MalformedURLException e) {
            return name;
        }
        return isFileUrl(name) ? fileOf(url).getPath() : url.toExternalForm();
    }

    /** The file a {@code file:} URL names, as Typesafe's {@code ConfigImplUtil.urlToFile} makes it (escapes decoded). */
    static File fileOf(URL url) {
        try {
            return new File(url.toURI());
        } catch (URISyntaxException | IllegalArgumentException e) { // file://host/a has an authority: its path
            return new File(url.getPath());
        }
    }

    /**
     * Whether Typesafe reads the name of an include in {@code form} as a URL: {@code url(...)}, or a bare name
     * that parses as one ({@code include "http://host/a.conf"}), as its includer decides.
     */
    private static boolean readAsUrl(String form, String name) {
        return "url".equals(form) || form == null && isUrl(name);
    }

    private static boolean isUrl(String name) {
        try {
            new URL(name);
            return true;
        } catch (MalformedURLException e) {
            return false;
        }
    }

    private static boolean isFileUrl(String name) {
        return name.regionMatches(true, 0, "file:", 0, 5);
    }

    /** Typesafe prefixes its messages with the origin, which a {@link ConfigProblem} already shows. */
    static String stripOrigin(ConfigException e) {
        String message = e.getMessage();
        if (e.origin() != null) {
            String prefix = e.origin().description() + ": ";
            if (message.startsWith(prefix)) {
                return message.substring(prefix.length());
            }
        }
        return message;
    }

    /**
     * What is wrong when {@code e} is Typesafe's refusal to concatenate a list or object with a value of another kind,
     * in a user's words; {@code null} for any other failure.
     */
    static String concatenation(ConfigException e) {
        Matcher m = CONCATENATION.matcher(stripOrigin(e));
        if (!(e instanceof ConfigException.WrongType) || !m.matches()) {
            return null;
        }
        return kind(m.group(1)) + " and " + kind(m.group(3)) + " side by side: " + shortened(m.group(2)) + " and "
                + shortened(m.group(4));
    }

    /** The most of a value a concatenation's problem shows: an object substituted whole has every default in it. */
    private static final int SHOWN = 60;

    /** {@code rendered}, a value as Typesafe renders it, cut at {@link #SHOWN} characters, its closing bracket kept. */
    static String shortened(String rendered) {
        if (rendered.length() <= SHOWN) {
            return rendered;
        }
        char last = rendered.charAt(rendered.length() - 1);
        return rendered.substring(0, SHOWN - 4) + " ..." + (last == '}' || last == ']' ? String.valueOf(last) : "");
    }

    /** A kind of value, as a user would name it, for the name of the Typesafe class that holds it. */
    private static String kind(String typesafeClass) {
        if (typesafeClass.contains("List") || typesafeClass.equals("LIST")) {
            return "a list";
        }
        if (typesafeClass.contains("Object")) {
            return "an object";
        }
        return switch (typesafeClass) {
            case "ConfigInt", "ConfigLong", "ConfigDouble" -> "a number";
            case "ConfigBoolean" -> "a boolean";
            case "ConfigNull" -> "null";
            default -> "a string";
        };
    }

    static String withoutClassNames(String message) {
        return CLASS_NAME.matcher(message).replaceAll("");
    }
}
