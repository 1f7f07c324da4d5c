package io.edge.conf;

import com.typesafe.config.ConfigOrigin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Collects problems while a configuration is checked, so that all of them are reported at once. */
final class Problems {

    private final Path file;
    private final Set<ConfigProblem> found = new LinkedHashSet<>();

    /** @param file the user's configuration file, named when an origin has no file of its own */
    Problems(Path file) {
        this.file = file;
    }

    /** A problem with a value (or object) whose origin says where it was written. */
    void add(ConfigOrigin origin, String key, String message, String expected) {
        Path where = file;
        int line = -1;
        // A value from reference.conf is never the user's mistake to find there; name the user's file.
        if (origin != null && origin.resource() == null) {
            line = origin.lineNumber();
            if (origin.filename() != null) {
                where = Path.of(origin.filename());
            }
        }
        found.add(new ConfigProblem(where, line, key, message, expected));
    }

    void add(ConfigProblem problem) {
        found.add(problem);
    }

    boolean isEmpty() {
        return found.isEmpty();
    }

    /** Sorted by file and line; problems without a line come first, as they are about the whole file. */
    List<ConfigProblem> sorted() {
        List<ConfigProblem> list = new ArrayList<>(found);
        list.sort(Comparator.comparing((ConfigProblem p) -> String.valueOf(p.file()))
                .thenComparingInt(ConfigProblem::line));
        return list;
    }
}
