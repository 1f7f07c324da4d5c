package io.edge.fastcgi.spawn;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which PHP a spawn's {@code command} is, as its {@code -v} says ({@code PHP 8.2.7 (fpm-fcgi) ...}): the usual
 * mistake, {@code php8.2} (the command line's) or {@code php-cgi8.2} for {@code php-fpm8.2}, passed the check as an
 * executable file and failed at start, leaving the group without a backend. About 0.07 s a run, at each load of the
 * configuration (twice at a start with a temporary run directory, whose real name is mapped again).
 */
public final class PhpSapi {

    /** php-fpm's own. */
    public static final String FPM = "fpm-fcgi";

    private static final Pattern VERSION_LINE = Pattern.compile("^PHP \\d+\\.\\d+\\S* \\(([A-Za-z0-9-]+)\\)");

    private PhpSapi() {
    }

    /**
     * The server API {@code command -v} names when it is a PHP other than php-fpm ("cli", "cgi-fcgi"), else null:
     * php-fpm, or something that does not answer as PHP does (a wrapper script, a stand-in), or that could not be
     * asked (the start tells then).
     */
    public static String otherThanFpm(Path command) {
        String firstLine = FirstLine.of(List.of(command.toString(), "-v"));
        Matcher version = VERSION_LINE.matcher(firstLine == null ? "" : firstLine);
        return version.find() && !version.group(1).equals(FPM) ? version.group(1) : null;
    }
}
