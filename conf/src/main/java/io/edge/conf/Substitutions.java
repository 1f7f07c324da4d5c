package io.edge.conf;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves {@code ${...}} substitutions without stopping at the first that fails.
 *
 * <p>Typesafe's {@code resolve()} throws on the first substitution it cannot resolve, which would hide every
 * other problem in the file. Here resolution allows unresolved values; each value left unresolved (and each
 * substitution in a cycle, which Typesafe rejects even then) becomes one problem at the line where the
 * substitution was written, and the value is replaced by {@code null}. Later problems about a replaced key
 * (it reads as missing) are silenced, so each mistake is reported once.
 *
 * <p>A value resolved from the environment, a default or another setting is then located at the line of the key
 * that used it, so that a bad value found later is reported at a line of the user's, the line its key names.
 */
final class Substitutions {

    private static final ConfigResolveOptions OPTIONS = ConfigResolveOptions.defaults().setAllowUnresolved(true);
    /** The comment {@link #locatedInside} marks the origin of a default it moves to a user's line with. */
    private static final String COPIED_DEFAULT = "edge: a default of reference.conf, copied by a substitution";
    /** The comment, before the variable's name, {@link #locatedWhereWritten} marks a value from the environment with. */
    private static final String FROM_ENVIRONMENT = "edge: from environment variable ";
    /** The description Typesafe gives the origin of a value read from the environment. */
    private static final String ENV_VARIABLES = "env variables";
    private static final Pattern SUBSTITUTION = Pattern.compile("\\$\\{(\\??)\\s*([^}]*?)\\s*}");

    private Substitutions() {
    }

    /**
     * {@code user} over {@code reference}, resolved; the user's values that cannot be resolved are reported to
     * {@code problems} and read as unset. The user's tree is resolved on its own (against the merged whole) so
     * that an unresolved value is located where the user wrote it, not in a merge with the defaults.
     */
    static Config resolve(Config user, Config reference, Problems problems) {
        Config resolved;
        try {
            // The usual case, and the only resolution whose values count: HOCON's own, of the user's file over
            // the defaults (self-references, "+=" to a default, overrides by ${?VAR} all mean what they say).
            resolved = user.withFallback(reference).resolve();
            reportCyclesThroughDefaults(user, problems);
        } catch (ConfigException first) {
            // Something cannot be resolved (a missing value, a cycle): find every such place to report.
            try {
                resolved = resolveReporting(user, reference, problems);
            } catch (ConfigException unexpected) {
                throw first; // reported as Typesafe put it, as one problem
            }
        }
        noteUnsetOptionals(user, resolved, problems);
        return locatedWhereWritten(resolved, user, problems);
    }

    /** A value written as one optional substitution alone: {@code ${?EDGE_ROOT}}. */
    private static final Pattern OPTIONAL_ALONE = Pattern.compile("\\s*\\$\\{\\?\\s*([^}]*?)\\s*}\\s*");

    /**
     * Notes each value of {@code user} written as one optional substitution alone whose variable (or setting) is not
     * set: HOCON then drops the key as if unwritten, and a key that needs a value was reported as missing without a
     * word of the substitution ({@link Section#missing} names it now).
     */
    private static void noteUnsetOptionals(Config user, Config resolved, Problems problems) {
        walk(user.root(), new ArrayList<>(), (path, value) -> {
            if (!isUnresolved(value)) {
                return true;
            }
            Matcher alone = OPTIONAL_ALONE.matcher(render(value));
            if (isUsersLine(value.origin()) && alone.matches()) {
                String looked = alone.group(1);
                String name = asWritten(looked, value.origin(), problems);
                if (System.getenv(name) == null && !isResolvedPath(resolved, looked) && !isResolvedPath(resolved, name)) {
                    problems.unsetSubstitution(new Problems.UnsetSubstitution(key(path), value.origin(), name));
                }
            }
            return false;
        });
    }

    /**
     * {@code resolved} with each value a substitution of {@code user} gave (an environment variable, whose origin is
     * "env variables"; a default of reference.conf; another setting, at its own line) located where the user wrote
     * its key instead: a bad {@code io-threads = ${THREADS}} is reported at that line, not without one, and
     * {@code queue-depth = ${depth}} at its own line, not at depth's. Values inside a substituted object or list keep
     * the lines they were written at, but those that have none of the user's (defaults, the environment) are located
     * at the key's line too. A value that is an environment variable's is marked with its name
     * ({@link #environmentVariable}), as its problem is not to be looked for in the file.
     */
    private static Config locatedWhereWritten(Config resolved, Config user, Problems problems) {
        List<Found> substituted = new ArrayList<>();
        walk(user.root(), new ArrayList<>(), (path, value) -> {
            if (isUnresolved(value)) {
                substituted.add(new Found(path, value));
                return false;
            }
            return true;
        });
        ConfigObject root = resolved.root();
        for (Found f : substituted) {
            ConfigValue value = at(root, f.path());
            if (value != null && isUsersLine(f.value().origin())) {
                ConfigOrigin origin = f.value().origin();
                String variable = variableOf(value, f.value(), problems);
                if (variable != null) {
                    origin = atLineSubstituting(origin, f.path(), variable, problems);
                    List<String> comments = new ArrayList<>(origin.comments());
                    comments.add(FROM_ENVIRONMENT + variable);
                    origin = origin.withComments(comments);
                }
                ConfigValue located = locatedAt(value, origin);
                if (variable == null) {
                    located = withVariablesLocated(located, value, f, problems);
                }
                root = (ConfigObject) replace(root, f.path(), 0, located);
            }
        }
        return root.toConfig();
    }

    /**
     * {@code located} (the substituted {@code value}, its insides moved to its line) with each scalar inside that is an
     * environment variable's at the line substituting that variable, and named: a key set again by a list or object
     * that substitutes one ({@code sites += { root = ${?R} }}) has one origin for both, at the first line, where the
     * problem was placed without the variable's name.
     */
    private static ConfigValue withVariablesLocated(ConfigValue located, ConfigValue value, Found f, Problems problems) {
        if (!(value instanceof ConfigObject) && !(value instanceof ConfigList)) {
            return located;
        }
        List<Found> fromEnvironment = new ArrayList<>();
        walk(value, new ArrayList<>(), (path, inner) -> {
            if (!(inner instanceof ConfigObject) && !(inner instanceof ConfigList)) {
                fromEnvironment.add(new Found(path, inner));
            }
            return true;
        });
        for (Found inner : fromEnvironment) {
            String variable = variableOf(inner.value(), f.value(), problems);
            if (variable == null) {
                continue;
            }
            List<Object> full = new ArrayList<>(f.path());
            full.addAll(inner.path());
            ConfigOrigin at = atLineSubstituting(f.value().origin(), full, variable, problems);
            List<String> comments = new ArrayList<>(at.comments());
            comments.add(FROM_ENVIRONMENT + variable);
            located = replace(located, inner.path(), 0, inner.value().withOrigin(at.withComments(comments)));
        }
        return located;
    }

    /**
     * {@code origin} moved to the line that substitutes {@code variable} for the key at {@code path}: a key written
     * twice, the second time to a variable ({@code io-threads = 2}, then {@code io-threads = ${?EDGE_THREADS}},
     * HOCON's idiom for an override from the environment), has one origin for both, at the first of the lines. The
     * first line from there on that names the key and substitutes the variable is the one; else, in a file included
     * inside an object, the first that substitutes the variable without the object's path Typesafe prefixes it with;
     * {@code origin} itself when none does (or the file cannot be read).
     */
    private static ConfigOrigin atLineSubstituting(ConfigOrigin origin, List<Object> path, String variable,
                                                   Problems problems) {
        if (origin.filename() == null || origin.lineNumber() < 1) {
            return origin;
        }
        List<String> lines = problems.linesOf(Path.of(origin.filename()));
        Object key = path.get(path.size() - 1);
        ConfigOrigin found;
        if (key instanceof String name) {
            found = lineSubstituting(origin, lines, name, variable);
        } else {
            // a list's element: first a line that names the list (listen = [${?L}], the key set again below another
            // line substituting the same variable), then any (an element on a line of its own)
            String list = path.stream().filter(String.class::isInstance).map(String.class::cast)
                    .reduce((first, second) -> second).orElse(null);
            found = list == null ? null : lineSubstituting(origin, lines, list, variable);
            if (found == null) {
                found = lineSubstituting(origin, lines, null, variable);
            }
        }
        return found != null ? found : origin;
    }

    /**
     * The first line of {@code lines} from {@code origin}'s on that substitutes {@code variable} (and names {@code key},
     * unless null), else, in a file included inside an object, the first that substitutes it without the object's path;
     * null when none does.
     */
    private static ConfigOrigin lineSubstituting(ConfigOrigin origin, List<String> lines, String key, String variable) {
        for (boolean unprefixed : new boolean[] {false, true}) {
            for (int i = origin.lineNumber() - 1; i < lines.size(); i++) {
                if (key != null && !lines.get(i).contains(key)) {
                    continue;
                }
                Matcher m = SUBSTITUTION.matcher(lines.get(i));
                while (m.find()) {
                    if (unprefixed ? variable.endsWith("." + m.group(2)) : m.group(2).equals(variable)) {
                        return i + 1 == origin.lineNumber() ? origin : origin.withLineNumber(i + 1);
                    }
                }
            }
        }
        return null;
    }

    /**
     * The environment variable whose value {@code value} is, substituted in {@code written}; {@code null} when it is
     * not one's (a setting's, a default's, or a concatenation with what the file wrote beside it).
     */
    private static String variableOf(ConfigValue value, ConfigValue written, Problems problems) {
        ConfigOrigin from = value.origin();
        if (!ENV_VARIABLES.equals(from.description()) || from.filename() != null || from.url() != null
                || from.resource() != null) {
            return null;
        }
        Matcher m = SUBSTITUTION.matcher(render(written));
        while (m.find()) {
            String name = asWritten(m.group(2), written.origin(), problems);
            if (Objects.equals(System.getenv(name), value.unwrapped())) {
                return name;
            }
        }
        return null;
    }

    /**
     * The environment variable the value at {@code origin} was substituted from ({@code root = ${?EDGE_ROOT}}), for
     * its problems to name; {@code null} when it was written otherwise.
     */
    static String environmentVariable(ConfigOrigin origin) {
        if (origin != null) {
            for (String comment : origin.comments()) {
                if (comment.startsWith(FROM_ENVIRONMENT)) {
                    return comment.substring(FROM_ENVIRONMENT.length());
                }
            }
        }
        return null;
    }

    /** {@code value} at {@code origin}, and each value inside it that is not on a line of the user's. */
    private static ConfigValue locatedAt(ConfigValue value, ConfigOrigin origin) {
        if (value instanceof ConfigObject object) {
            ConfigObject located = object;
            for (Map.Entry<String, ConfigValue> entry : object.entrySet()) {
                located = located.withValue(entry.getKey(), locatedInside(entry.getValue(), origin));
            }
            return located.withOrigin(origin);
        }
        if (value instanceof ConfigList list) {
            List<ConfigValue> elements = new ArrayList<>();
            list.forEach(element -> elements.add(locatedInside(element, origin)));
            return ConfigValueFactory.fromIterable(elements).withOrigin(origin);
        }
        return value.withOrigin(origin);
    }

    /**
     * A value inside one substituted at {@code origin}: there unless it is on a line of the user's. A default moved
     * there is marked as one ({@link #isCopiedDefault}).
     */
    private static ConfigValue locatedInside(ConfigValue value, ConfigOrigin origin) {
        ConfigOrigin at = value.origin().resource() != null ? origin.withComments(List.of(COPIED_DEFAULT)) : origin;
        if (value instanceof ConfigObject || value instanceof ConfigList) {
            ConfigValue inside = locatedAt(value, origin);
            return inside.withOrigin(isUsersLine(value.origin()) ? value.origin() : at);
        }
        return isUsersLine(value.origin()) ? value : value.withOrigin(at);
    }

    /**
     * Whether {@code origin} is that of a default (of reference.conf) a substitution copied into a user's value,
     * located at the user's line for its problems: it is still a default, which a user's value overrides
     * ({@code mime-types = ${edge.mime-types} { JPG = ... }} as {@code mime-types { JPG = ... }}).
     */
    static boolean isCopiedDefault(ConfigOrigin origin) {
        return origin.comments().contains(COPIED_DEFAULT);
    }

    /** Whether {@code origin} is a line of the user's files (not reference.conf, not the environment). */
    static boolean isUsersLine(ConfigOrigin origin) {
        return origin != null && origin.resource() == null && origin.lineNumber() > 0;
    }

    private static Config resolveReporting(Config user, Config reference, Problems problems) {
        Config written = user;
        Set<String> inCycles = new HashSet<>();
        // Each round removes at least one substitution of a cycle, so this ends.
        while (true) {
            try {
                Config resolved;
                try {
                    resolved = written.resolveWith(written.withFallback(reference), OPTIONS);
                } catch (ConfigException.BugOrBroken e) {
                    // Typesafe cannot resolve a key appended to twice (a += x, a += y) against another source
                    // ("replace in parent not possible"); the whole, defaults merged in, it can. scrub locates
                    // what is left unresolved by the user's tree all the same.
                    resolved = written.withFallback(reference).resolve(OPTIONS);
                }
                if (!resolved.isResolved()) {
                    resolved = scrub(resolved, user, written.withFallback(reference), problems);
                }
                reportUsesOfCycles(user, inCycles, problems);
                return resolved.withFallback(reference).resolve();
            } catch (ConfigException.UnresolvedSubstitution e) {
                Config broken = breakCycle(written, user, e, inCycles, problems);
                if (broken == null) {
                    throw e; // no substitution found where Typesafe says; nothing more can be done
                }
                written = broken;
            } catch (ConfigException.WrongType e) {
                Config broken = breakConcatenation(written, user, reference, e, problems);
                if (broken == null) {
                    throw e;
                }
                written = broken;
            }
        }
    }

    /**
     * Replaces the substitutions written where {@code e} points by null, each reported as a cycle and its key added
     * to {@code inCycles}.
     */
    private static Config breakCycle(Config current, Config user, ConfigException.UnresolvedSubstitution e,
                                     Set<String> inCycles, Problems problems) {
        String detail = e.getMessage();
        List<String> chain = new ArrayList<>();
        int involving = detail.indexOf(" involving ");
        Matcher inCycle = SUBSTITUTION.matcher(involving < 0 ? detail : detail.substring(involving));
        while (inCycle.find()) {
            chain.add(inCycle.group());
        }
        int again = chain.isEmpty() ? -1 : chain.subList(1, chain.size()).indexOf(chain.get(0));
        if (again >= 0) {
            chain = chain.subList(0, again + 2); // once round: Typesafe names it twice (${x} -> ${y} -> ${x} -> ${y})
        }
        String message = "is part of a cycle of substitutions: " + String.join(" -> ", chain);
        // Every setting in the cycle, named in the message; else whatever was written where it points.
        List<Found> found = new ArrayList<>();
        Matcher names = SUBSTITUTION.matcher(e.getMessage());
        while (names.find()) {
            List<Object> path = new ArrayList<>();
            try {
                path.addAll(ConfigUtil.splitPath(names.group(2)));
            } catch (ConfigException error) {
                continue;
            }
            ConfigValue value = at(user.root(), path);
            if (value != null && found.stream().noneMatch(f -> f.path().equals(path))) {
                found.add(new Found(path, value));
            }
        }
        if (found.isEmpty()) {
            walk(user.root(), new ArrayList<>(), (path, value) -> {
                boolean leaf = !(value instanceof ConfigObject) && !(value instanceof ConfigList);
                if (leaf && sameLine(value.origin(), e.origin()) && SUBSTITUTION.matcher(render(value)).find()) {
                    found.add(new Found(path, value));
                }
                return true;
            });
        }
        ConfigObject root = current.root();
        boolean replaced = false;
        for (Found f : found) {
            ConfigValue now = at(root, f.path());
            if (now == null || !isUnresolved(now) && now.valueType() == ConfigValueType.NULL) {
                continue; // broken in an earlier round
            }
            replaced = true;
            inCycles.add(key(f.path()));
            problems.addAndSilence(f.value().origin(), key(f.path()), message,
                    "a substitution that does not lead back to itself");
            root = (ConfigObject) replace(root, f.path(), 0);
        }
        return replaced ? root.toConfig() : null;
    }

    /**
     * Reports each key of a cycle of the user's substitutions that HOCON resolved all the same: one that leads back to
     * a key with a default ({@code pid-file = ${edge.server.access-log}}, {@code access-log = ${edge.server.pid-file}})
     * is read as that default, with no word; the pid file was a file named "-", the access log's. A key that
     * substitutes itself alone ({@code mime-types = ${edge.mime-types} {...}}) is HOCON's way to add to its default,
     * no cycle.
     */
    private static void reportCyclesThroughDefaults(Config user, Problems problems) {
        Map<String, ConfigOrigin> written = new LinkedHashMap<>();
        Map<String, List<String>> uses = new LinkedHashMap<>();
        walk(user.root(), new ArrayList<>(), (path, value) -> {
            if (!isUnresolved(value)) {
                return true;
            }
            String key = key(path);
            List<String> used = new ArrayList<>();
            Matcher m = SUBSTITUTION.matcher(render(value));
            while (m.find()) {
                String looked = keyOf(m.group(2));
                if (!looked.equals(key)) {
                    used.add(looked);
                }
            }
            written.put(key, value.origin());
            uses.put(key, used);
            return false;
        });
        Set<String> reported = new HashSet<>();
        for (String start : uses.keySet()) {
            List<String> cycle = reported.contains(start) ? null : cycleFrom(start, uses);
            if (cycle == null) {
                continue;
            }
            List<String> keys = cycle.subList(0, cycle.size() - 1);
            for (int i = 0; i < keys.size(); i++) {
                String key = keys.get(i);
                if (reported.add(key)) {
                    List<String> chain = new ArrayList<>(); // from this key round to it
                    for (int j = 0; j <= keys.size(); j++) {
                        chain.add("${" + keys.get((i + j) % keys.size()) + "}");
                    }
                    problems.addAndSilence(written.get(key), key, "is part of a cycle of "
                            + "substitutions: " + String.join(" -> ", chain) + ", which HOCON resolved with a default",
                            "a substitution that does not lead back to itself");
                }
            }
        }
    }

    /**
     * The shortest way from {@code start} through {@code uses} (each key to the keys it substitutes) back to it, its
     * keys in order, {@code start} first and last; {@code null} when there is none.
     */
    private static List<String> cycleFrom(String start, Map<String, List<String>> uses) {
        Map<String, String> reachedFrom = new LinkedHashMap<>();
        ArrayDeque<String> next = new ArrayDeque<>(List.of(start));
        while (!next.isEmpty()) {
            String key = next.poll();
            for (String used : uses.getOrDefault(key, List.of())) {
                if (used.equals(start)) {
                    List<String> cycle = new ArrayList<>(List.of(start));
                    for (String at = key; !at.equals(start); at = reachedFrom.get(at)) {
                        cycle.add(1, at);
                    }
                    cycle.add(start);
                    return cycle;
                }
                if (!reachedFrom.containsKey(used) && uses.containsKey(used)) {
                    reachedFrom.put(used, key);
                    next.add(used);
                }
            }
        }
        return null;
    }

    /**
     * Reports each value of {@code user} that substitutes a setting of a cycle ({@code inCycles}), which was read as
     * null when the cycle was broken: it has no value, for that reason, and is not reported again as a null nobody
     * wrote. What substitutes such a value is reported so in turn.
     */
    private static void reportUsesOfCycles(Config user, Set<String> inCycles, Problems problems) {
        Set<String> noValue = new HashSet<>(inCycles);
        boolean more = !noValue.isEmpty();
        while (more) {
            more = false;
            List<Found> uses = new ArrayList<>();
            walk(user.root(), new ArrayList<>(), (path, value) -> {
                if (!isUnresolved(value)) {
                    return true;
                }
                if (!noValue.contains(key(path))) {
                    uses.add(new Found(path, value));
                }
                return false;
            });
            for (Found use : uses) {
                Matcher m = SUBSTITUTION.matcher(render(use.value()));
                while (m.find()) {
                    String name = asWritten(m.group(2), use.value().origin(), problems);
                    String looked = keyOf(m.group(2)); // in an included file, prefixed
                    String used = noValue.contains(looked) ? looked : keyOf(name);
                    if (m.group(1).isEmpty() && noValue.contains(used)) {
                        String why = inCycles.contains(used) ? " is part of" : " depends on";
                        problems.addAndSilence(use.value().origin(), key(use.path()),
                                "${" + name + "} has no value: " + name + why + " a cycle of substitutions",
                                "a value, once the cycle is broken");
                        noValue.add(key(use.path()));
                        more = true;
                        break;
                    }
                }
            }
        }
    }

    /**
     * Replaces by null the value with a substitution written where {@code e} points, a list or object that a
     * substitution put beside a value of another kind ({@code listen = ["a:80"] ${HOME}}), reported as such;
     * {@code null} when {@code e} is no such failure or no such value is written there.
     */
    private static Config breakConcatenation(Config current, Config user, Config reference,
                                             ConfigException.WrongType e, Problems problems) {
        String message = ParseErrors.concatenation(e);
        if (message == null) {
            return null;
        }
        List<Found> concatenations = new ArrayList<>();
        walk(user.root(), new ArrayList<>(), (path, value) -> {
            if (isUnresolved(value) && SUBSTITUTION.matcher(render(value)).find()) {
                concatenations.add(new Found(path, value)); // the outermost: a concatenation is one value
                return false;
            }
            return true;
        });
        List<Found> found = concatenations.stream().filter(f -> sameLine(f.value().origin(), e.origin())).toList();
        if (found.isEmpty()) {
            // Substitutions on both sides (${HOME} ${edge.extra}): Typesafe's failure is located at the values they
            // gave, merged, which has no line. The value that fails alone as the whole did is the one written so.
            Config source = current.withFallback(reference);
            found = concatenations.stream().filter(f -> message.equals(concatenationAlone(f.value(), source))).toList();
        }
        if (found.isEmpty()) {
            // An append to a default that is no list (max-connections += 5): located at the default's line in
            // reference.conf, and alone its self-reference cannot be resolved. In its place over the defaults it fails so.
            found = concatenations.stream().filter(f -> message.equals(concatenationOverDefaults(f, reference)))
                    .toList();
        }
        ConfigObject root = current.root();
        boolean replaced = false;
        for (Found f : found) {
            ConfigValue now = at(root, f.path());
            if (now == null || !isUnresolved(now)) {
                continue; // broken in an earlier round
            }
            replaced = true;
            problems.addAndSilence(f.value().origin(), key(f.path()), message, ParseErrors.EXPECTED_CONCATENATION);
            root = (ConfigObject) replace(root, f.path(), 0);
        }
        return replaced ? root.toConfig() : null;
    }

    /**
     * What is wrong with {@code found} resolved in its place over {@code reference} alone when it concatenates values
     * of different kinds, as {@link ParseErrors#concatenation} words it; {@code null} when it resolves, fails otherwise
     * or is in a list.
     */
    private static String concatenationOverDefaults(Found found, Config reference) {
        if (found.path().stream().anyMatch(Integer.class::isInstance)) {
            return null;
        }
        try {
            ConfigFactory.empty().withValue(key(found.path()), found.value()).withFallback(reference).resolve(OPTIONS);
            return null;
        } catch (ConfigException.WrongType e) {
            return ParseErrors.concatenation(e);
        } catch (ConfigException e) {
            return null;
        }
    }

    /**
     * What is wrong with {@code value} resolved alone against {@code source} when it concatenates values of different
     * kinds, as {@link ParseErrors#concatenation} words it; {@code null} when it resolves, or fails otherwise.
     */
    private static String concatenationAlone(ConfigValue value, Config source) {
        try {
            ConfigFactory.empty().withValue("value", value).resolveWith(source, OPTIONS);
            return null;
        } catch (ConfigException.WrongType e) {
            return ParseErrors.concatenation(e);
        } catch (ConfigException e) {
            return null;
        }
    }

    /**
     * Reports each value of {@code resolved} that is still unresolved, located by the same value in
     * {@code written} (where the substitution was written, not where its unresolved target was), and
     * returns {@code resolved} with those values set to null.
     *
     * @param source what {@code resolved} was resolved against
     */
    private static Config scrub(Config resolved, Config written, Config source, Problems problems) {
        ConfigObject root = unmerged(resolved.root(), written, source);
        Map<String, Found> unresolved = new LinkedHashMap<>();
        walk(root, new ArrayList<>(), (path, value) -> {
            if (isUnresolved(value)) {
                unresolved.put(key(path), new Found(path, value));
                return false;
            }
            return true;
        });
        for (Found f : unresolved.values()) {
            ConfigValue writtenValue = Objects.requireNonNullElse(at(written.root(), f.path()), f.value());
            String text = render(writtenValue);
            String cause = null;
            String causeMessage = null;
            ConfigOrigin origin = writtenValue.origin();
            Matcher m = SUBSTITUTION.matcher(text);
            while (m.find() && cause == null) {
                String looked = m.group(2);
                // where it was written: not at an earlier value of the key it overrides, which Typesafe's origin names
                ConfigOrigin at = atLineSubstituting(writtenValue.origin(), f.path(), looked, problems);
                String name = asWritten(looked, at, problems);
                if (!m.group(1).isEmpty() || System.getenv(name) != null || isResolvedPath(resolved, looked)
                        || isResolvedPath(resolved, name)) {
                    continue;
                }
                cause = name;
                origin = at;
                causeMessage = unresolved.containsKey(keyOf(looked)) || unresolved.containsKey(keyOf(name))
                        ? "${" + name + "} has no value: " + name + " is itself unresolved"
                        : "${" + name + "} has no value";
            }
            if (cause == null) {
                problems.addAndSilence(origin, key(f.path()), text + " cannot be resolved",
                        "substitutions of environment variables or settings that exist");
            } else {
                problems.addAndSilence(origin, key(f.path()), causeMessage, "an environment variable or a "
                        + "setting named " + cause + "; use ${?" + cause + "} to make it optional");
            }
            root = (ConfigObject) replace(root, f.path(), 0);
        }
        return root.toConfig();
    }

    /**
     * {@code root} with each user's list or object that Typesafe left unresolved as a whole, merged over a default
     * ({@code sites = [...]} over reference.conf's {@code []}, when resolved with the defaults merged in), resolved
     * again on its own against {@code source}: what is unresolved is then found in it, at its own key, and what is not
     * checked. The user's list replaces the default in any case; one that still fails alone is left whole.
     */
    private static ConfigObject unmerged(ConfigObject root, Config written, Config source) {
        List<Found> merges = new ArrayList<>();
        walk(root, new ArrayList<>(), (path, value) -> {
            if (!isUnresolved(value)) {
                return true;
            }
            ConfigValue user = at(written.root(), path);
            if (!(value instanceof ConfigObject || value instanceof ConfigList)
                    && (user instanceof ConfigObject || user instanceof ConfigList)) {
                merges.add(new Found(path, user));
            }
            return false;
        });
        for (Found merge : merges) {
            try {
                ConfigValue alone = ConfigFactory.empty().withValue("value", merge.value()).resolveWith(source, OPTIONS)
                        .root().get("value");
                root = (ConfigObject) replace(root, merge.path(), 0, alone);
            } catch (ConfigException e) {
                // left whole: reported as one
            }
        }
        return root;
    }

    /**
     * The name the substitution Typesafe looks up as {@code looked} was written with, at {@code origin}'s line: in a
     * file included inside an object, Typesafe prefixes a substitution with that object's path and looks it up so
     * first, then as written (and in the environment), so the written name is the one to set or make optional.
     * {@code looked} itself when that line has no such substitution (or cannot be read). The file is read through
     * {@code problems}, once, however many of its values ask.
     */
    private static String asWritten(String looked, ConfigOrigin origin, Problems problems) {
        if (!isUsersLine(origin) || origin.filename() == null) {
            return looked;
        }
        List<String> lines = problems.linesOf(Path.of(origin.filename()));
        if (origin.lineNumber() > lines.size()) {
            return looked;
        }
        String written = looked;
        Matcher m = SUBSTITUTION.matcher(lines.get(origin.lineNumber() - 1));
        while (m.find()) {
            String name = m.group(2);
            if (name.equals(looked)) {
                return looked;
            }
            if (looked.endsWith("." + name) && (written.equals(looked) || name.length() > written.length())) {
                written = name;
            }
        }
        return written;
    }

    private record Found(List<Object> path, ConfigValue value) {
    }

    private interface Visitor {
        /** @return whether to descend into {@code value} */
        boolean visit(List<Object> path, ConfigValue value);
    }

    /** Visits every value below {@code value}; path elements are keys (String) and list indexes (Integer). */
    private static void walk(ConfigValue value, List<Object> path, Visitor visitor) {
        if (!path.isEmpty() && !visitor.visit(path, value)) {
            return;
        }
        if (value instanceof ConfigObject object) {
            Iterable<Map.Entry<String, ConfigValue>> entries;
            try {
                entries = object.entrySet();
            } catch (ConfigException.NotResolved e) {
                return;
            }
            for (Map.Entry<String, ConfigValue> entry : entries) {
                List<Object> child = new ArrayList<>(path);
                child.add(entry.getKey());
                walk(entry.getValue(), child, visitor);
            }
        } else if (value instanceof ConfigList list) {
            for (int i = 0; i < list.size(); i++) {
                List<Object> child = new ArrayList<>(path);
                child.add(i);
                walk(list.get(i), child, visitor);
            }
        }
    }

    private static boolean isUnresolved(ConfigValue value) {
        try {
            if (value instanceof ConfigObject object) {
                object.entrySet();
            } else {
                value.valueType();
            }
            return false;
        } catch (ConfigException.NotResolved e) {
            return true;
        }
    }

    private static boolean isResolvedPath(Config resolved, String path) {
        try {
            return resolved.hasPathOrNull(path) && !isUnresolved(resolved.getValue(path));
        } catch (ConfigException e) {
            return false;
        }
    }

    /** The value at {@code path}, or null where the path cannot be followed (an unresolved object on the way). */
    private static ConfigValue at(ConfigValue root, List<Object> path) {
        ConfigValue value = root;
        try {
            for (Object element : path) {
                if (element instanceof String name && value instanceof ConfigObject object) {
                    value = object.get(name);
                } else if (element instanceof Integer index && value instanceof ConfigList list && index < list.size()) {
                    value = list.get(index);
                } else {
                    return null;
                }
                if (value == null) {
                    return null;
                }
            }
            return value;
        } catch (ConfigException.NotResolved e) {
            return null;
        }
    }

    /** {@code value} with the value at {@code path} (from {@code depth} on) replaced by null; origins kept. */
    private static ConfigValue replace(ConfigValue value, List<Object> path, int depth) {
        return replace(value, path, depth, ConfigValueFactory.fromAnyRef(null));
    }

    /** {@code value} with the value at {@code path} (from {@code depth} on) replaced by {@code with}; origins kept. */
    private static ConfigValue replace(ConfigValue value, List<Object> path, int depth, ConfigValue with) {
        if (depth == path.size()) {
            return with;
        }
        Object element = path.get(depth);
        if (element instanceof String name && value instanceof ConfigObject object) {
            return object.withValue(name, replace(object.get(name), path, depth + 1, with));
        }
        if (element instanceof Integer index && value instanceof ConfigList list) {
            List<ConfigValue> elements = new ArrayList<>(list);
            elements.set(index, replace(list.get(index), path, depth + 1, with));
            return ConfigValueFactory.fromIterable(elements).withOrigin(list.origin());
        }
        return value;
    }

    /** The full key of a substitution's path as {@link #key} writes it ({@code a."b c"}); the text itself if not a path. */
    private static String keyOf(String substituted) {
        try {
            return key(new ArrayList<>(ConfigUtil.splitPath(substituted)));
        } catch (ConfigException e) {
            return substituted;
        }
    }

    /** The full key: {@code edge.server.listen[1]}. */
    static String key(List<Object> path) {
        String key = "";
        for (Object element : path) {
            key = element instanceof Integer index ? key + "[" + index + "]" : Section.child(key, (String) element);
        }
        return key;
    }

    private static boolean sameLine(ConfigOrigin a, ConfigOrigin b) {
        return a != null && b != null && a.lineNumber() == b.lineNumber()
                && Objects.equals(a.filename(), b.filename()) && Objects.equals(a.resource(), b.resource());
    }

    private static String render(ConfigValue value) {
        return value.render(ConfigRenderOptions.concise());
    }
}
