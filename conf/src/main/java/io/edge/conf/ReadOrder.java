package io.edge.conf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The order in which a configuration is read: each included file in place of the include that brought it in, as
 * nginx reads an include, so that problems are listed as the configuration reads (nginx -t names the first one so).
 *
 * <p>{@link RequiredIncludes} builds the tree of includes as Typesafe parses ({@link #enter}, {@link #read},
 * {@link #leave} around each include, nested ones within). The line of each include in its includer is not in
 * Typesafe's origins: it is found in the includer's text, by the include directive naming that file
 * ({@link ParseErrors#includedFiles}); an include no directive names is read after the includer's last line.
 */
final class ReadOrder {

    /** A file read, or an include being read ({@code file} still null, and left so when it could not be opened). */
    static final class Include {
        private final Include includer;
        private final List<Include> included = new ArrayList<>();
        private Path file;

        private Include(Include includer, Path file) {
            this.includer = includer;
            this.file = file;
        }

        /** The file whose include this is; null for the configuration file, or an includer not read to its end. */
        Path includerFile() {
            return includer == null ? null : includer.file;
        }

        /** How many includes its includer met before this one (0 for the first). */
        int ordinal() {
            return includer == null ? 0 : includer.included.indexOf(this);
        }
    }

    private final Include root;
    private Include reading;

    /** @param file the configuration file, where reading starts */
    ReadOrder(Path file) {
        root = new Include(null, file.toAbsolutePath().normalize());
        reading = root;
    }

    /** An include starts in the file being read: what it reads until {@link #leave} is read within it. */
    Include enter() {
        Include include = new Include(reading, null);
        reading.included.add(include);
        reading = include;
        return include;
    }

    /** The include {@code include} read {@code file} (null: no file, a URL or a resource). */
    void read(Include include, Path file) {
        include.file = file == null ? null : file.toAbsolutePath().normalize();
    }

    /** The include has been read, or failed: reading goes on in its includer. */
    void leave(Include include) {
        reading = include.includer;
    }

    /**
     * Where each file read is first read: the lines of the includes that lead to it, from the configuration file's
     * (empty for that file itself). A line of a problem in the file after these orders problems as they are read.
     */
    Map<Path, List<Integer>> positions() {
        Map<Path, List<Integer>> positions = new HashMap<>();
        positions.put(root.file, List.of());
        place(root, List.of(), positions);
        return positions;
    }

    private static void place(Include includer, List<Integer> at, Map<Path, List<Integer>> positions) {
        List<ParseErrors.IncludedFile> directives = new ArrayList<>(ParseErrors.includedFiles(includer.file));
        for (Include include : includer.included) {
            if (include.file == null) {
                continue;
            }
            int line = Integer.MAX_VALUE;
            for (int i = 0; i < directives.size(); i++) {
                if (directives.get(i).file().equals(include.file)) {
                    line = directives.remove(i).line();
                    break;
                }
            }
            List<Integer> position = new ArrayList<>(at);
            position.add(line);
            if (positions.putIfAbsent(include.file, List.copyOf(position)) == null) {
                place(include, position, positions);
            }
        }
    }
}
