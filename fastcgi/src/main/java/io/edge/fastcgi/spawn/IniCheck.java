package io.edge.fastcgi.spawn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Asks php-fpm itself ({@code php-fpm -t}) whether it takes a spawn's {@code ini} lines as the
 * {@code php_admin_value} lines edge writes them as: PHP's INI reader refuses values such as {@code x = y} or
 * {@code (a} that edge cannot judge (its values are expressions of constants: {@code E_ALL & ~E_NOTICE}), and a
 * configuration that passed the check then failed at start with php-fpm's "syntax error ... on line 1". One run for
 * all lines; where it fails, one without any (a command that is no php-fpm, or a php-fpm that fails for its own
 * reasons, is not asked) and then one per line, to name the lines refused. About 0.1 s a run.
 */
public final class IniCheck {

    private static final long TIMEOUT_SECONDS = 10;
    /** The two files a check writes in its directory (php-fpm -t makes none: it binds no socket). */
    private static final String CONF = "php-fpm.conf";
    private static final String OUT = "out.txt";

    private IniCheck() {
    }

    /**
     * The lines (by index) php-fpm at {@code command} refuses, each with what it said; empty when it takes them all,
     * or when it could not be asked (it did not run, or ran too long): the start says so then.
     */
    public static Map<Integer, String> refused(Path command, List<String> lines) {
        Map<Integer, String> refused = new LinkedHashMap<>();
        if (lines.stream().allMatch(String::isBlank)) {
            return refused;
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("edge-ini-check");
            // A stop while it runs (System.exit from a signal) skips the finally below: the JVM removes these then,
            // the files before their directory (the reverse of this order)
            dir.toFile().deleteOnExit();
            dir.resolve(CONF).toFile().deleteOnExit();
            dir.resolve(OUT).toFile().deleteOnExit();
            String together = answer(command, dir, lines);
            if (together == null || answer(command, dir, List.of()) != null) {
                return refused;
            }
            for (int i = 0; i < lines.size(); i++) {
                if (!lines.get(i).isBlank()) {
                    String said = answer(command, dir, List.of(lines.get(i)));
                    if (said != null) {
                        refused.put(i, said);
                    }
                }
            }
            if (refused.isEmpty()) {
                refused.put(-1, together); // together only
            }
        } catch (IOException e) {
            refused.clear(); // not asked: the start will tell
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            refused.clear();
        } finally {
            if (dir != null) {
                deleteQuietly(dir);
            }
        }
        return refused;
    }

    /** What php-fpm said when it refused {@code lines}, or null when it took them. */
    private static String answer(Path command, Path dir, List<String> lines) throws IOException, InterruptedException {
        Path conf = dir.resolve(CONF);
        StringBuilder text = new StringBuilder()
                .append("[global]\nerror_log = /dev/null\n[check]\n")
                .append("listen = ").append(dir.resolve("check.sock")).append('\n')
                .append("pm = static\npm.max_children = 1\n");
        for (String line : lines) {
            if (!line.isBlank()) { // a blank line is no setting (and has no key to write), as the supervisor skips it
                text.append(PhpFpmSupervisor.adminValue(line)).append('\n');
            }
        }
        Files.writeString(conf, text, StandardCharsets.UTF_8);
        Path out = dir.resolve(OUT);
        Process process = new ProcessBuilder(command.toString(), "-t", "-R", "-y", conf.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()) // a file: no pipe to fill and stall on
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(command + " -t did not answer within " + TIMEOUT_SECONDS + " s");
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        if (process.exitValue() == 0) {
            return null;
        }
        // "PHP:  syntax error, unexpected '=' in Unknown on line 1", then php-fpm's own "failed to load" lines
        return output.lines().filter(line -> line.startsWith("PHP:")).findFirst()
                .map(line -> line.substring(4).strip().replaceFirst(" in Unknown on line \\d+$", ""))
                .orElseGet(() -> output.lines().filter(line -> line.contains("ERROR:")).findFirst()
                        .map(line -> line.substring(line.indexOf("ERROR:") + 6).strip())
                        .orElse("exit status " + process.exitValue()));
    }

    private static void deleteQuietly(Path dir) {
        try {
            Files.deleteIfExists(dir.resolve(CONF));
            Files.deleteIfExists(dir.resolve(OUT));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a temporary directory left behind
        }
    }
}
