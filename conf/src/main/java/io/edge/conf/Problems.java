package io.edge.conf;

import com.typesafe.config.ConfigOrigin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Collects problems while a configuration is checked, so that all of them are reported at once. */
final class Problems {

    private final Path file;
    private final Set<ConfigProblem> found = new LinkedHashSet<>();
    /** Keys whose value was already reported as unusable: later problems about them (or below) are noise. */
    private final Set<String> silenced = new HashSet<>();
    /** Where each file read is read ({@link ReadOrder#positions}); empty until the file is parsed. */
    private Map<Path, List<Integer>> readAt = Map.of();
    /** For each file a value was found in, where its triple-quoted strings over several lines start. */
    private final Map<Path, Map<Integer, Integer>> tripleQuotedStarts = new HashMap<>();
    /** The lines of each file {@link #linesOf} was asked for, read once. */
    private final Map<Path, List<String>> lines = new HashMap<>();
    /** Keys whose value was optional substitutions of variables not set ({@link #unsetSubstitution}). */
    private final Map<String, UnsetSubstitution> unsetSubstitutions = new HashMap<>();
    /** The key of the location being read ({@link #reading}), null for none. */
    private String location;

    /** @param file the user's configuration file, named when an origin has no file of its own */
    Problems(Path file) {
        this.file = file;
    }

    /** A problem with a value (or object) whose origin says where it was written. */
    void add(ConfigOrigin origin, String key, String message, String expected) {
        if (isSilenced(key)) {
            return;
        }
        WrittenAt where = writtenAt(origin, key);
        // a value from the environment is not in the file: the line is only where it was substituted
        ConfigProblem own = new ConfigProblem(where.file(), where.line(), key, message + where.note(), expected);
        String inheritedBy = inheritedBy(key);
        if (inheritedBy.isEmpty() || found.contains(own)) {
            found.add(own); // bad where written too: said once, as its own
        } else {
            found.add(new ConfigProblem(where.file(), where.line(), key, message + inheritedBy + where.note(),
                    expected));
        }
    }

    /**
     * Notes that the location of key {@code locationKey} is read from now on (null: none), and returns the one noted
     * before, to note again once it is read.
     */
    String reading(String locationKey) {
        String before = location;
        location = locationKey;
        return before;
    }

    /**
     * Where {@code key} is a value of a location that the location being read is nested in: what names the nested
     * location, whose reading of the value it inherited found the problem (that location's own reading had none: it
     * was read first); else "".
     */
    private String inheritedBy(String key) {
        for (int cut = location == null ? -1 : location.lastIndexOf(".locations["); cut > 0;
                cut = location.lastIndexOf(".locations[", cut - 1)) {
            String enclosing = location.substring(0, cut);
            if (!enclosing.contains(".locations[")) {
                break; // the site's own keys
            }
            if (key.startsWith(enclosing + ".") && !key.startsWith(enclosing + ".locations[")) {
                return "; in " + location + ", nested in this location, which inherits it (set its own there)";
            }
        }
        return "";
    }

    /**
     * A key whose value was written as an optional substitution alone ({@code root = ${?EDGE_ROOT}}) of a variable that
     * is not set, so HOCON left it as if unwritten.
     *
     * @param key    the key it was written for
     * @param origin where the substitution was written
     * @param name   the variable (or setting) substituted
     */
    record UnsetSubstitution(String key, ConfigOrigin origin, String name) {
    }

    /** Notes that {@code unset}'s key was left without a value by it, for a problem about its missing value. */
    void unsetSubstitution(UnsetSubstitution unset) {
        unsetSubstitutions.put(unset.key(), unset);
    }

    /** How {@code key} was left without a value by optional substitutions; null when it was not so. */
    UnsetSubstitution unsetSubstitution(String key) {
        return unsetSubstitutions.get(key);
    }

    /**
     * {@code file}'s lines ({@link ParseErrors#linesOf}), none when it cannot be read; read once in a check, however
     * many of its values ask.
     */
    List<String> linesOf(Path file) {
        return lines.computeIfAbsent(file, f -> Objects.requireNonNullElse(ParseErrors.linesOf(f), List.of()));
    }

    /** The first file and line of a merged origin's name: {@code merge of /a/main.conf: 2,/a/base.conf: 4}. */
    private static final Pattern MERGED = Pattern.compile("merge of (.+?): (\\d+)(?=,|$)");

    /** Where the value of {@code key} from {@code origin} was written, as its problems name it. */
    WrittenAt writtenAt(ConfigOrigin origin, String key) {
        WrittenAt inUrl = ParseErrors.urlIncludeOf(origin, file, key);
        if (inUrl != null) {
            return inUrl;
        }
        Path where = file;
        int line = -1;
        // A value from reference.conf is never the user's mistake to find there; name the user's file.
        if (origin != null && origin.resource() == null) {
            line = origin.lineNumber();
            String filename = origin.filename();
            Matcher merged = filename == null ? null : MERGED.matcher(filename);
            if (merged != null && merged.lookingAt()) {
                // Typesafe names a value merged from two files "merge of a.conf: 2,b.conf: 4" and gives it no line:
                // the first is where the value that wins was written (an override, a file including the other)
                filename = merged.group(1);
                line = Integer.parseInt(merged.group(2));
            }
            if (filename != null) {
                where = Path.of(filename);
                if (line < 1 && key != null && RequiredIncludes.isProperties(filename)) {
                    line = propertiesLineOf(linesOf(where), key); // Typesafe gives a properties file's values no line
                }
                // Typesafe places a triple-quoted string over several lines at its last line; its key is at its first
                line = tripleQuotedStarts.computeIfAbsent(where, f -> ParseErrors.tripleQuotedStarts(linesOf(f)))
                        .getOrDefault(line, line);
            }
        }
        return new WrittenAt(where, line, key, Substitutions.environmentVariable(origin));
    }

    /**
     * {@link #propertiesLine} of {@code key}, or of the key less its leading parts where the file was included inside an
     * object ({@code edge { include "x.properties" }} writes {@code server.timeouts.body} for
     * {@code edge.server.timeouts.body}); -1 when none is set there.
     */
    static int propertiesLineOf(List<String> lines, String key) {
        for (String inner = key; ; ) {
            int line = propertiesLine(lines, inner);
            int dot = inner.indexOf('.');
            if (line > 0 || dot < 0) {
                return line;
            }
            inner = inner.substring(dot + 1);
        }
    }

    /** A key of a properties file ({@code edge.sites.0.root}): what comes before its separator, {@code =}, : or a blank. */
    private static final Pattern PROPERTIES_KEY = Pattern.compile("\\s*((?:[^\\s=:\\\\]|\\\\.)+)");

    /**
     * The line of a properties file's {@code lines} that sets {@code key} ({@code edge.sites[0]} as
     * {@code edge.sites.0}): the last, whose value counts; else the first that sets a key below it; -1 when none does.
     */
    static int propertiesLine(List<String> lines, String key) {
        String wanted = key.replaceAll("\\[(\\d+)]", ".$1");
        int below = -1;
        int last = -1;
        boolean continued = false; // the line before ended in an odd number of backslashes: this one goes on its value
        for (int i = 0; i < lines.size(); i++) {
            String text = lines.get(i);
            boolean starts = !continued;
            String stripped = text.strip();
            boolean comment = starts && (stripped.startsWith("#") || stripped.startsWith("!"));
            continued = !comment && (text.length() - text.replaceAll("\\\\+$", "").length()) % 2 == 1;
            Matcher m = PROPERTIES_KEY.matcher(text);
            if (!starts || comment || stripped.isEmpty() || !m.lookingAt()) {
                continue;
            }
            String written = m.group(1).replaceAll("\\\\(.)", "$1");
            if (written.equals(wanted)) {
                last = i + 1;
            } else if (below < 0 && written.startsWith(wanted + ".")) {
                below = i + 1;
            }
        }
        return last > 0 ? last : below;
    }

    /**
     * Records a problem that makes the value of {@code key} unusable (it is then read as missing), and drops
     * every later problem about {@code key} or a key below it.
     */
    void addAndSilence(ConfigOrigin origin, String key, String message, String expected) {
        add(origin, key, message, expected);
        silence(key);
    }

    /** Drops every later problem about {@code key} or a key below it: its value was reported as unusable. */
    void silence(String key) {
        silenced.add(key);
    }

    /** Whether problems about {@code key} are dropped: its value, or one above it, was reported unusable. */
    boolean isSilenced(String key) {
        if (key == null || silenced.isEmpty()) {
            return false;
        }
        for (String prefix : silenced) {
            if (key.equals(prefix) || key.startsWith(prefix + ".") || key.startsWith(prefix + "[")) {
                return true;
            }
        }
        return false;
    }

    void add(ConfigProblem problem) {
        found.add(problem);
    }

    boolean isEmpty() {
        return found.isEmpty();
    }

    /** How many problems were found so far: a check that added none is told by the count it leaves. */
    int count() {
        return found.size();
    }

    /** Problems are to be listed in the order {@code order} read the files ({@link #sorted}). */
    void readIn(ReadOrder order) {
        readAt = order.positions();
    }

    /**
     * Files whose places in the reading order {@link #readIn} did not give ({@link ParseErrors#filesReachedFrom}: a
     * syntax error ended the parse before they were read) are listed as their include directives place them.
     */
    void readAlsoAt(Map<Path, List<Integer>> positions) {
        Map<Path, List<Integer>> all = new HashMap<>(positions);
        all.putAll(readAt);
        readAt = all;
    }

    /**
     * Sorted as the configuration reads: an included file's problems where it is included, between the problems of
     * the lines before and after its include (as nginx -t reads); problems without a line first in their file, as they
     * are about the whole file. A file not known to be read (before any was) comes after, by name.
     */
    List<ConfigProblem> sorted() {
        return inReadOrder(found);
    }

    /** {@code some} problems (or warnings) in the order their lines are read, as {@link #sorted} lists these. */
    List<ConfigProblem> inReadOrder(Collection<ConfigProblem> some) {
        List<ConfigProblem> list = new ArrayList<>(some);
        list.sort(Comparator.comparing((ConfigProblem p) -> readAt(p) == null)
                .thenComparing(this::compareReadAt)
                .thenComparing((ConfigProblem p) -> String.valueOf(p.file()))
                .thenComparingInt(ConfigProblem::line));
        return list;
    }

    /** Where {@code p} is read: the lines of the includes leading to its file, then its own; null when not known. */
    private List<Integer> readAt(ConfigProblem p) {
        List<Integer> at = p.file().toString().isEmpty() ? null : readAt.get(p.file().toAbsolutePath().normalize());
        if (at == null) {
            return null;
        }
        List<Integer> position = new ArrayList<>(at);
        position.add(p.line());
        return position;
    }

    private int compareReadAt(ConfigProblem a, ConfigProblem b) {
        List<Integer> x = readAt(a);
        List<Integer> y = readAt(b);
        if (x == null || y == null) {
            return 0;
        }
        for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
            int c = Integer.compare(x.get(i), y.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.size(), y.size());
    }
}
