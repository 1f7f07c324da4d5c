package io.edge.conf;

import java.nio.file.Path;

/**
 * Where a setting was written, for a problem found only when it is used (an address in use when it is bound): named
 * as {@link ConfigProblem} names one, {@code edge.conf:4: edge.server.listen[0]}.
 *
 * @param file the file it was written in; an empty path when unknown
 * @param line 1-based line in {@code file}, or a value below 1 when none applies (a default of reference.conf)
 * @param key  the full key, list elements written {@code listen[0]}
 */
public record WrittenAt(Path file, int line, String key) {

    /** A setting of which only the key is known. */
    public static WrittenAt key(String key) {
        return new WrittenAt(Path.of(""), 0, key);
    }

    /** The problem {@code message} with this setting, read as a configuration problem. */
    public ConfigProblem problem(String message) {
        return new ConfigProblem(file, line, key, message, null);
    }
}
