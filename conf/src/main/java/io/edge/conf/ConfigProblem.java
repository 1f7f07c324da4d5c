package io.edge.conf;

import java.nio.file.Path;
import java.util.Locale;

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
        return withControlsEscaped(text);
    }

    /**
     * {@code text} with its control characters written as escapes ({@code \n}, {@code \u001b}): a problem is one
     * line, and a value quoted in it (a server name with an ESC, a path with a line break) must neither forge another
     * line of the log nor drive the terminal it is printed on.
     */
    private static String withControlsEscaped(CharSequence text) {
        StringBuilder escaped = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = Character.isISOControl(c);
            if (control && escaped == null) {
                escaped = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (escaped != null) {
                if (!control) {
                    escaped.append(c);
                } else if (c == '\n') {
                    escaped.append("\\n");
                } else if (c == '\r') {
                    escaped.append("\\r");
                } else if (c == '\t') {
                    escaped.append("\\t");
                } else {
                    escaped.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                }
            }
        }
        return escaped == null ? text.toString() : escaped.toString();
    }
}
