package io.edge.conf;

import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.parser.ConfigDocumentFactory;
import com.typesafe.config.parser.ConfigNode;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds a key set twice, to a value that is not an object, in one object of one file: HOCON lets the later value win
 * without a word, where nginx -t refuses most directives written twice ("directive is duplicate"). It is a warning, not
 * a problem: overriding is what HOCON is for. Only a value the same file wrote twice into the same object is one; an
 * override by another file or an include, an append ({@code +=}), a value that refers to another ({@code ${...}}: the
 * one before, or an optional variable) and two objects (merged) are not.
 *
 * <p>Typesafe's parse keeps only the value that wins, so the file's syntax tree is read instead: the nodes of a
 * {@code ConfigDocument}. Their classes are not Typesafe's public API (a document only renders and edits itself), so
 * they are reached by reflection, through three methods that Typesafe 1.4 has ({@code ConfigNodeComplexValue.children},
 * {@code ConfigNodeField.path} and {@code value}) and the document's tree. A library that no longer has them gives no
 * warning rather than a failure (and {@code DuplicateKeysTest} fails). Lines are counted in the text the nodes
 * render, which is the file's text.
 *
 * <p>A key is named in full, as every problem names it: the configuration file's tree is walked from its root, and an
 * include's file where the include is, below the keys of the objects around it (in a list element, by its index), as
 * Typesafe merges it there. A file included at two places is walked at each, and a line set twice there is one warning
 * naming each place.
 */
final class DuplicateKeys {

    private static final String NODES = "com.typesafe.config.impl.";
    private static final Syntax SYNTAX = Syntax.load();
    /** Includes followed within includes at most: a cycle is refused by the parse before, this only bounds the walk. */
    private static final int MAX_DEPTH = 16;

    private final Path file;
    /** The lines of the file's text, which the nodes' offsets are in. */
    private final LineStarts lines;
    /** What the walk has found, in every file; shared by the walk of each file. */
    private final List<ConfigProblem> found;
    /** The files walked into, so far and in all; shared. */
    private final Set<Path> walked;
    /** How many includes lead to this file. */
    private final int depth;

    /** A value that is not an object, where it was written and as written. */
    private record Written(int line, String value) {
    }

    /**
     * The values an object has written so far, by key, and the keys some of them were written below (a superset: a
     * key whose values below went may stay), so that a value replacing what is below its key looks through them only
     * where there may be some: once per value, that look made a mime-types of 30 000 entries take 10 s to check.
     */
    private static final class Writes {
        private final Map<List<String>, Written> values = new HashMap<>();
        private final Set<List<String>> parents = new HashSet<>();

        Written put(List<String> key, Written value) {
            for (int i = 1; i < key.size(); i++) {
                parents.add(List.copyOf(key.subList(0, i)));
            }
            return values.put(key, value);
        }

        void remove(List<String> key) {
            values.remove(key);
        }

        /** Forgets the values below {@code key}, which one written at it replaces. */
        void removeBelow(List<String> key) {
            if (parents.remove(key)) {
                values.keySet().removeIf(k -> k.size() > key.size() && k.subList(0, key.size()).equals(key));
            }
        }
    }

    private DuplicateKeys(Path file, String text, List<ConfigProblem> found, Set<Path> walked, int depth) {
        this.file = file;
        this.lines = LineStarts.of(text);
        this.found = found;
        this.walked = walked;
        this.depth = depth;
    }

    /**
     * The keys set twice in one object of {@code file} or a file it includes, each a warning at the line of the value
     * that wins, each once; none in a file that cannot be read or parsed (its include, or the loader, reports that).
     *
     * @param read every file the parse read ({@code file} and what it includes): one the walk does not reach from
     *             {@code file} (an include the walk cannot follow) is walked on its own, its keys named from its root
     */
    static List<ConfigProblem> in(Path file, Collection<Path> read) {
        if (SYNTAX == null) {
            return List.of();
        }
        List<ConfigProblem> found = new ArrayList<>();
        Set<Path> walked = new HashSet<>();
        walk(file, List.of(), "", found, walked, 0);
        for (Path other : read) {
            if (!walked.contains(other.toAbsolutePath().normalize())) {
                walk(other, List.of(), "", found, walked, 0);
            }
        }
        return oncePerLine(new LinkedHashSet<>(found));
    }

    /** Names of the other places a warning's line is at, before "and N more". */
    private static final int OTHER_PLACES_NAMED = 3;

    /**
     * One warning per line of a file: a file included at several places (a template of every site) sets a key twice
     * at each, and is warned of at its line once, named by the first place, the others in its message.
     */
    private static List<ConfigProblem> oncePerLine(Collection<ConfigProblem> found) {
        Map<List<Object>, List<ConfigProblem>> byLine = new LinkedHashMap<>();
        for (ConfigProblem problem : found) {
            List<Object> line = List.of(problem.file(), problem.line(), problem.message());
            byLine.computeIfAbsent(line, same -> new ArrayList<>()).add(problem);
        }
        List<ConfigProblem> warnings = new ArrayList<>(byLine.size());
        for (List<ConfigProblem> places : byLine.values()) {
            ConfigProblem first = places.get(0);
            if (places.size() == 1) {
                warnings.add(first);
                continue;
            }
            List<String> others = places.subList(1, places.size()).stream().map(ConfigProblem::key).toList();
            String named = String.join(", ", others.subList(0, Math.min(others.size(), OTHER_PLACES_NAMED)));
            String more = others.size() > OTHER_PLACES_NAMED
                    ? " and " + (others.size() - OTHER_PLACES_NAMED) + " more" : "";
            warnings.add(new ConfigProblem(first.file(), first.line(), first.key(), first.message()
                    + "; the same line is also " + named + more + " (the file is included at " + places.size()
                    + " places)", first.expected()));
        }
        return List.copyOf(warnings);
    }

    /**
     * Walks {@code file}'s object, read below {@code prefix} of the object {@code scope} names; adds to {@code found}.
     */
    private static void walk(Path file, List<String> prefix, String scope, List<ConfigProblem> found, Set<Path> walked,
                             int depth) {
        walked.add(file.toAbsolutePath().normalize());
        Object root;
        try {
            root = SYNTAX.tree.get(ConfigDocumentFactory.parseFile(file.toFile(),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)));
        } catch (com.typesafe.config.ConfigException | java.io.UncheckedIOException | IllegalAccessException e) {
            return;
        }
        DuplicateKeys keys = new DuplicateKeys(file, ((ConfigNode) root).render(), found, walked, depth);
        int before = found.size();
        try {
            // the root holds the file's one object, with the comments and blanks around it
            keys.walk(root, 0, (child, offset) -> {
                if (SYNTAX.object.isInstance(child)) {
                    keys.object(child, offset, prefix, scope, new Writes());
                }
            });
        } catch (ReflectiveOperationException | RuntimeException e) {
            // this library is not the one read: no warning rather than a wrong one
            found.subList(before, found.size()).clear();
        }
    }

    /** What is done with each child of a node, at its offset in the text. */
    private interface Visit {
        void child(Object node, int offset) throws ReflectiveOperationException;
    }

    /** Visits the children of {@code node}, which starts at {@code offset}. */
    private void walk(Object node, int offset, Visit visit) throws ReflectiveOperationException {
        for (Object child : (Collection<?>) SYNTAX.children.invoke(node)) {
            visit.child(child, offset);
            offset += ((ConfigNode) child).render().length();
        }
    }

    /**
     * The fields of the object {@code node}, its keys below {@code prefix} in the object {@code scope} names (a list
     * element starts one of its own; "" the file's root object), what it has written so far in {@code written}.
     */
    private void object(Object node, int offset, List<String> prefix, String scope, Writes written)
            throws ReflectiveOperationException {
        walk(node, offset, (child, at) -> {
            if (SYNTAX.field.isInstance(child)) {
                field(child, at, prefix, scope, written);
            } else if (SYNTAX.include.isInstance(child)) {
                include(((ConfigNode) child).render(), prefix, scope);
            }
        });
    }

    /**
     * The file the include {@code directive} reads, walked below {@code prefix} of {@code scope}: its keys are merged
     * into the object the include is in. Its own keys are another file's, so they override this file's silently.
     */
    private void include(String directive, List<String> prefix, String scope) {
        Path included = ParseErrors.includedFile(file, directive);
        if (included != null && depth < MAX_DEPTH && Files.isRegularFile(included)) {
            walk(included, prefix, scope, found, walked, depth + 1);
        }
    }

    private void field(Object node, int offset, List<String> prefix, String scope, Writes written)
            throws ReflectiveOperationException {
        String fieldText = ((ConfigNode) node).render();
        String pathText = ((ConfigNode) SYNTAX.path.invoke(node)).render();
        Object value = SYNTAX.value.invoke(node);
        String valueText = ((ConfigNode) value).render();
        if (fieldText.substring(pathText.length()).stripLeading().startsWith("+=")) {
            return; // an append adds to the value before
        }
        List<String> key = new ArrayList<>(prefix);
        key.addAll(ConfigUtil.splitPath(pathText.strip()));
        // the value is the field's last node
        int valueOffset = offset + fieldText.length() - valueText.length();
        if (SYNTAX.object.isInstance(value)) {
            written.remove(key); // an object replaces a value that is not one, and merges with one that is
            object(value, valueOffset, key, scope, written);
            return;
        }
        if (SYNTAX.array.isInstance(value)) {
            elements(value, valueOffset, name(scope, key));
        }
        // this value replaces whatever was below the key
        written.removeBelow(key);
        Written now = new Written(lines.lineOf(offset), Section.shortened(valueText.strip().replaceAll("\\s+", " ")));
        Written before = written.put(key, now);
        if (before != null && !valueText.contains("${")) {
            String message = before.line() == now.line()
                    ? "set twice in one object, both at line " + now.line() + ": the later, " + now.value()
                            + ", wins over " + before.value()
                    : "set twice in one object, at lines " + before.line() + " and " + now.line() + ": " + now.value()
                            + " (line " + now.line() + ") wins over " + before.value() + " (line " + before.line() + ")";
            found.add(new ConfigProblem(file, now.line(), name(scope, key), message, null));
        }
    }

    /** Each object element of the list {@code node}, named {@code list[i]}: an object of its own. */
    private void elements(Object node, int offset, String list) throws ReflectiveOperationException {
        int[] index = {0};
        walk(node, offset, (child, at) -> {
            if (SYNTAX.object.isInstance(child)) {
                object(child, at, List.of(), list + "[" + index[0] + "]", new Writes());
            } else if (SYNTAX.array.isInstance(child)) {
                elements(child, at, list + "[" + index[0] + "]");
            }
            if (SYNTAX.valueNode.isInstance(child)) {
                index[0]++;
            }
        });
    }

    /** The full key of {@code key} in the object named {@code scope}, as a problem names it. */
    private static String name(String scope, List<String> key) {
        String name = scope;
        for (String segment : key) {
            name = Section.child(name, segment);
        }
        return name;
    }

    /** The parts of Typesafe's syntax tree this reads, reached once. */
    private record Syntax(Field tree, Method children, Method path, Method value, Class<?> field, Class<?> object,
                          Class<?> array, Class<?> valueNode, Class<?> include) {

        /** They, or null when this Typesafe has not got them. */
        static Syntax load() {
            try {
                Field tree = Class.forName(NODES + "SimpleConfigDocument").getDeclaredField("configNodeTree");
                Method children = Class.forName(NODES + "ConfigNodeComplexValue").getDeclaredMethod("children");
                Class<?> field = Class.forName(NODES + "ConfigNodeField");
                Method path = field.getDeclaredMethod("path");
                Method value = field.getDeclaredMethod("value");
                for (java.lang.reflect.AccessibleObject member : List.of(tree, children, path, value)) {
                    member.setAccessible(true);
                }
                return new Syntax(tree, children, path, value, field, Class.forName(NODES + "ConfigNodeObject"),
                        Class.forName(NODES + "ConfigNodeArray"), Class.forName(NODES + "AbstractConfigNodeValue"),
                        Class.forName(NODES + "ConfigNodeInclude"));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    }
}
