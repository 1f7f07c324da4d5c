package io.edge.conf;

import java.nio.file.Path;

/**
 * Finds a line ended by CR alone (classic Mac OS) in a configuration file. Typesafe ends a line at LF only and reads
 * a CR as a blank, so such a file is one line: a comment at its top made all of it a comment, an included file's
 * settings were silently left at their defaults, and otherwise its first line was a syntax error that gave no reason.
 *
 * <p>Reported, not mended: Typesafe reads the file itself (its origins, and the includes relative to it, depend on
 * that), and a configuration should mean the same to every HOCON tool that reads it. CRLF (Windows) is fine: CR is a
 * blank before the LF that ends the line.
 */
final class LineEndCheck {

    private LineEndCheck() {
    }

    /**
     * The first CR of {@code file}'s {@code bytes} that no LF follows (past any more CRs), as a problem at its line;
     * {@code null} when there is none.
     */
    static ConfigProblem problem(Path file, byte[] bytes) {
        int line = 1; // as HOCON counts lines, and so every other problem in the file
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                line++;
            } else if (bytes[i] == '\r' && !endsLineAnyway(bytes, i)) {
                return new ConfigProblem(file, line, null, "a line ends in CR alone (classic Mac OS), which HOCON"
                        + " reads as a blank, not a line end", "LF or CRLF line endings");
            }
        }
        return null;
    }

    /**
     * Whether the CR at {@code cr} is followed, past any more CRs, by an LF or the end of the file: then it joins no
     * lines (CR CR LF, as a file converted to CRLF twice has; a CR at the very end).
     */
    private static boolean endsLineAnyway(byte[] bytes, int cr) {
        int next = cr + 1;
        while (next < bytes.length && bytes[next] == '\r') {
            next++;
        }
        return next == bytes.length || bytes[next] == '\n';
    }
}
