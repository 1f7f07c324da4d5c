package io.edge.conf;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds a ';' written after a value, as nginx ends a directive. HOCON has no such end: after a quoted string or a
 * bare word it is read as part of the value ({@code access-log = "/var/log/edge.log";} logged to a file named
 * {@code edge.log;}, a header's {@code DENY;} was sent so), after a list or an object it is dropped, and before
 * another key on the line it is a syntax error that does not name it. A ';' inside a value, quoted or bare
 * ({@code text/html; charset=utf-8} in quotes), and one in a comment are no fault.
 */
final class SemicolonCheck {

    static final String MESSAGE = "a ';' after a value (nginx's end of a directive), which HOCON reads as part of it";
    static final String EXPECTED = "no ';' (a line break or a comma ends a value; in quotes, a ';' is the value's own)";
    /** What follows a ';' when a key does: a key, then what separates it from its value. */
    private static final Pattern KEY_AFTER = Pattern.compile("\\s*[^\\s=:{}\\[\\],]+\\s*[=:{].*");

    private SemicolonCheck() {
    }

    /** A problem at each line of {@code file}'s {@code bytes} that has a ';' after a value; none when no line has. */
    static List<ConfigProblem> problems(Path file, byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.indexOf(';') < 0 || RequiredIncludes.isProperties(file.getFileName().toString())) {
            return List.of();
        }
        String[] written = text.split("\n", -1);
        String[] code = ParseErrors.withoutStringsAndComments(text).split("\n", -1);
        List<ConfigProblem> found = new ArrayList<>();
        for (int i = 0; i < code.length; i++) {
            for (int at = code[i].indexOf(';'); at >= 0; at = code[i].indexOf(';', at + 1)) {
                if (endsAValue(written[i], code[i], at)) {
                    found.add(new ConfigProblem(file, i + 1, null, MESSAGE, EXPECTED));
                    break;
                }
            }
        }
        return found;
    }

    /**
     * Whether the ';' at {@code at} of a line ({@code written}, and {@code code} with its strings and comments blanked)
     * ends a value: nothing follows it but a separator or the line's end, or it follows a quoted string, a list or an
     * object, or a key follows it.
     */
    private static boolean endsAValue(String written, String code, int at) {
        String after = code.substring(at + 1).strip();
        if (after.isEmpty() || ",}]".indexOf(after.charAt(0)) >= 0 || KEY_AFTER.matcher(after).matches()) {
            return true;
        }
        String before = written.substring(0, at).strip();
        return !before.isEmpty() && "\"]}".indexOf(before.charAt(before.length() - 1)) >= 0;
    }
}
