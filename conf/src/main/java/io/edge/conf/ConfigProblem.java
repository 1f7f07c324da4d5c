package io.edge.conf;

import java.nio.file.Path;

/**
 * One thing wrong with a configuration, located where the user can fix it.
 *
 * <p>{@link #toString()} reads like nginx's messages:
 * {@code edge.conf:12: edge.fastcgi.backends.php.queue.timeout: "3 parsecs" is not a duration (expected: a duration such as 30 s)}.
 *
 * @param file     the file holding the offending value (an included file where that is where it was set)
 * @param line     1-based line in {@code file}, or a value below 1 when no line applies (a missing file)
 * @param key      the full key, list elements written {@code sites[0]}; {@code null} for syntax errors
 * @param message  what is wrong
 * @param expected what would be right, or {@code null}
 */
public record ConfigProblem(Path file, int line, String key, String message, String expected) {

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        if (!file.toString().isEmpty()) { // an empty path says nothing; the message says it is empty
            text.append(file);
            if (line > 0) {
                text.append(':').append(line);
            }
            text.append(": ");
        }
        if (key != null) {
            text.append(key).append(": ");
        }
        text.append(message);
        if (expected != null) {
            text.append(" (expected: ").append(expected).append(')');
        }
        return text.toString();
    }
}
