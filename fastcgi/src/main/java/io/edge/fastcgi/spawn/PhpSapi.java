package io.edge.fastcgi.spawn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which PHP a spawn's {@code command} is, as its {@code -v} says ({@code PHP 8.2.7 (fpm-fcgi) ...}): the usual
 * mistake, {@code php8.2} (the command line's) or {@code php-cgi8.2} for {@code php-fpm8.2}, passed the check as an
 * executable file and failed at start, leaving the group without a backend. About 0.07 s a run.
 */
public final class PhpSapi {

    /** php-fpm's own. */
    public static final String FPM = "fpm-fcgi";

    private static final long TIMEOUT_SECONDS = 5;
    private static final Pattern VERSION_LINE = Pattern.compile("^PHP \\d+\\.\\d+\\S* \\(([A-Za-z0-9-]+)\\)");

    private PhpSapi() {
    }

    /**
     * The server API {@code command -v} names when it is a PHP other than php-fpm ("cli", "cgi-fcgi"), else null:
     * php-fpm, or something that does not answer as PHP does (a wrapper script, a stand-in), or that could not be
     * asked (the start tells then).
     */
    public static String otherThanFpm(Path command) {
        Path out = null;
        try {
            out = Files.createTempFile("edge-php-v", ".txt");
            out.toFile().deleteOnExit();
            Process process = new ProcessBuilder(command.toString(), "-v")
                    .redirectErrorStream(true).redirectOutput(out.toFile()) // a file: no pipe to fill and stall on
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                // not a PHP (php -v answers at once): a wrapper that started something; it and what it started go
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                return null;
            }
            String first;
            try (var lines = Files.lines(out, StandardCharsets.ISO_8859_1)) {
                first = lines.findFirst().orElse("");
            }
            Matcher version = VERSION_LINE.matcher(first);
            return version.find() && !version.group(1).equals(FPM) ? version.group(1) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException e) {
                    // deleteOnExit has it
                }
            }
        }
    }
}
