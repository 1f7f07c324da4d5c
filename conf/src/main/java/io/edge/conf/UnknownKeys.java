package io.edge.conf;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds keys the user wrote that edge does not know, by walking the user's object alongside a template
 * (the same object in {@code reference.conf}), and suggests the nearest known key for typos.
 */
final class UnknownKeys {

    private UnknownKeys() {
    }

    /**
     * Reports every key of {@code actual} (recursively) that {@code template} lacks.
     *
     * @param actual    the user's object, possibly with defaults laid under it (those keys are known anyway)
     * @param template  the known keys; an empty template object means "any key" (a map such as backends)
     * @param path      full key of {@code actual}
     * @param extra     further keys known at this level only (required keys that have no default)
     * @param freeMaps  full keys of objects whose keys are the user's to choose (not descended into)
     */
    static void check(ConfigObject actual, ConfigObject template, String path, Set<String> extra,
                      Set<String> freeMaps, Problems problems) {
        check(actual, template, path, extra, freeMaps, Map.of(), problems);
    }

    /**
     * Keys known at a neighbouring level, where a key unknown at this one belongs: a location's in a site (nginx
     * writes gzip, expires or add_header in a server block), a site's in a location.
     *
     * @param template the neighbour's known keys
     * @param owner    whose keys they are, such as {@code "a location's"}
     * @param where    where such a key is written, such as {@code "in the site's locations"}
     */
    record Neighbour(ConfigObject template, String owner, String where) {
    }

    /**
     * Keys a neighbour knows under the same name as a server-wide setting that an nginx server block writes: nginx's
     * per-server access_log is edge's server.access-log (one log for every site), where a location's access-log only
     * says whether its requests go to it. Said instead of the neighbour's place.
     */
    static final Map<String, String> SERVER_KEYS = Map.of("access-log", "the log's file in server.access-log (one for"
            + " every site); a location's access-log = false keeps its requests out of it");

    /**
     * As {@link #check(ConfigObject, ConfigObject, String, Set, Set, Problems)}, and a key of {@code neighbour}
     * written at this level (not below it) is said to be the neighbour's, and where to write it.
     */
    static void check(ConfigObject actual, ConfigObject template, String path, Set<String> extra,
                      Set<String> freeMaps, Neighbour neighbour, Problems problems) {
        check(actual, template, path, extra, freeMaps, Map.of(path, neighbour), problems);
    }

    /**
     * As {@link #check(ConfigObject, ConfigObject, String, Set, Set, Problems)}, and a key unknown in an object whose
     * full key {@code neighbours} lists, but known to its neighbour there, is said to be the neighbour's.
     */
    static void check(ConfigObject actual, ConfigObject template, String path, Set<String> extra,
                      Set<String> freeMaps, Map<String, Neighbour> neighbours, Problems problems) {
        Neighbour neighbour = neighbours.get(path);
        for (Map.Entry<String, ConfigValue> entry : actual.entrySet()) {
            String name = entry.getKey();
            String key = Section.child(path, name);
            ConfigValue known = template.get(name);
            if (known == null) {
                if (extra.contains(name)) {
                    continue;
                }
                if (neighbour != null && neighbour.template().containsKey(name)) {
                    problems.add(entry.getValue().origin(), key, "unknown key here: " + name + " is "
                            + neighbour.owner() + " key", SERVER_KEYS.getOrDefault(name,
                            name + " " + neighbour.where()));
                } else {
                    Set<String> keys = union(template.keySet(), extra);
                    String suggestion = suggestion(name, keys);
                    if (suggestion.isEmpty()) {
                        // the key of another level: server.keep-alive-requests for server.limits.keep-alive-requests
                        String below = below(name, template, MAX_DEPTH_BELOW);
                        suggestion = below == null ? "" : " (did you mean \"" + below + "\"?)";
                    }
                    // A suggestion says what was meant; without one, the user is told what may be written there.
                    problems.add(entry.getValue().origin(), key, "unknown key" + suggestion,
                            suggestion.isEmpty() ? "one of " + String.join(", ", new TreeSet<>(keys)) : null);
                }
                continue;
            }
            ConfigValue value = entry.getValue();
            if (value.valueType() == ConfigValueType.OBJECT && known.valueType() == ConfigValueType.OBJECT
                    && !freeMaps.contains(key) && !((ConfigObject) known).isEmpty()) {
                check((ConfigObject) value, (ConfigObject) known, key, Set.of(), freeMaps, neighbours, problems);
            }
        }
    }

    /** How deep below where it was written a key of the same name is looked for. */
    private static final int MAX_DEPTH_BELOW = 2;

    /**
     * The path, from {@code template}, of the first known key named {@code name} (case aside) in an object below it, at
     * most {@code depth} levels down ({@code limits.keep-alive-requests}); null when there is none.
     */
    private static String below(String name, ConfigObject template, int depth) {
        if (depth == 0) {
            return null;
        }
        for (Map.Entry<String, ConfigValue> entry : new java.util.TreeMap<>(template).entrySet()) {
            if (entry.getValue() instanceof ConfigObject object && !object.isEmpty()) {
                for (String key : new TreeSet<>(object.keySet())) {
                    if (key.equalsIgnoreCase(name)) {
                        return entry.getKey() + "." + key;
                    }
                }
                String deeper = below(name, object, depth - 1);
                if (deeper != null) {
                    return entry.getKey() + "." + deeper;
                }
            }
        }
        return null;
    }

    /** {@code " (did you mean \"x\"?)"} for the nearest candidate within a typo's distance, else "". */
    static String suggestion(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : new TreeSet<>(candidates)) {
            int distance = distance(word.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        int allowed = Math.max(2, word.length() / 3);
        return best != null && bestDistance <= allowed ? " (did you mean \"" + best + "\"?)" : "";
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        if (b.isEmpty()) {
            return a;
        }
        Set<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }
}
