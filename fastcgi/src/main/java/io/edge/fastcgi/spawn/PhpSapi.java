package io.edge.fastcgi.spawn;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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

    private static final long TIMEOUT_SECONDS = 5;
    /** php -v's first line is ~50 bytes. */
    private static final int MAX_LINE = 4096;
    private static final Pattern VERSION_LINE = Pattern.compile("^PHP \\d+\\.\\d+\\S* \\(([A-Za-z0-9-]+)\\)");

    private PhpSapi() {
    }

    /**
     * The server API {@code command -v} names when it is a PHP other than php-fpm ("cli", "cgi-fcgi"), else null:
     * php-fpm, or something that does not answer as PHP does (a wrapper script, a stand-in), or that could not be
     * asked (the start tells then).
     */
    public static String otherThanFpm(Path command) {
        Process process;
        try {
            process = new ProcessBuilder(command.toString(), "-v").redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException | RuntimeException e) {
            return null;
        }
        try {
            Matcher version = VERSION_LINE.matcher(firstLine(process));
            return version.find() && !version.group(1).equals(FPM) ? version.group(1) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            try {
                process.waitFor(200, TimeUnit.MILLISECONDS); // php -v ends as its last line is written
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (process.isAlive()) { // not a PHP: it, and what it started, go
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
            try {
                process.getInputStream().close();
            } catch (IOException e) {
                // nothing more to read from it
            }
        }
    }

    /**
     * The first line of what {@code process} writes, read as it comes for at most {@link #TIMEOUT_SECONDS} and
     * {@link #MAX_LINE} bytes: a command that writes on and on fills its pipe and waits, and takes no disk.
     */
    private static String firstLine(Process process) throws IOException, InterruptedException {
        InputStream out = process.getInputStream();
        byte[] line = new byte[MAX_LINE];
        int length = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (length < MAX_LINE && System.nanoTime() < deadline) {
            int ready = out.available();
            if (ready > 0) {
                int n = out.read(line, length, Math.min(ready, MAX_LINE - length));
                if (n < 0) {
                    break;
                }
                length += n;
                if (new String(line, 0, length, StandardCharsets.ISO_8859_1).indexOf('\n') >= 0) {
                    break;
                }
            } else if (!process.isAlive()) {
                if (out.available() == 0) {
                    break;
                }
            } else {
                Thread.sleep(5);
            }
        }
        String text = new String(line, 0, length, StandardCharsets.ISO_8859_1);
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
