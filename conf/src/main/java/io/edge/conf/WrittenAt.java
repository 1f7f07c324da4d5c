package io.edge.conf;

import java.nio.file.Path;

/**
 * Where a setting was written, for a problem found only when it is used (an address in use when it is bound): named
 * as {@link ConfigProblem} names one, {@code edge.conf:4: edge.server.listen[0]}.
 *
 * @param file the file it was written in; an empty path when unknown
 * @param line 1-based line in {@code file}, or a value below 1 when none applies (a default of reference.conf)
 * @param key  the full key, list elements written {@code listen[0]}
 * @param variable the environment variable the value was substituted from ({@code ${EDGE_LISTEN}}), whose line is
 *                 only where it was substituted; {@code null} when the file wrote the value
 * @param source   the URL (and line there) a value read by an {@code include url(...)} was written at, where {@code file}
 *                 and {@code line} name that include; {@code null} for a value of a file
 */
public record WrittenAt(Path file, int line, String key, String variable, String source) {

    /** A value the file wrote itself. */
    public WrittenAt(Path file, int line, String key) {
        this(file, line, key, null, null);
    }

    /** A value of the file, or substituted there from {@code variable} (null: none). */
    public WrittenAt(Path file, int line, String key, String variable) {
        this(file, line, key, variable, null);
    }

    /** A setting of which only the key is known. */
    public static WrittenAt key(String key) {
        return new WrittenAt(Path.of(""), 0, key);
    }

    /** The problem {@code message} with this setting, read as a configuration problem (naming its variable, if any). */
    public ConfigProblem problem(String message) {
        return new ConfigProblem(file, line, key, message + note(), null);
    }

    /**
     * {@code " (from environment variable NAME)"}, {@code " (in http://host/x.conf line 3)"}, or nothing for a value the
     * file wrote.
     */
    String note() {
        return (variable == null ? "" : " (from environment variable " + variable + ")")
                + (source == null ? "" : " (in " + source + ")");
    }
}
