package io.edge.fastcgi.spawn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Whether the account a spawned php-fpm runs PHP as can enter a directory, asked of the system as that account
 * ({@code setpriv} to its user, group and supplementary groups, then {@code test -x}), so that its groups and ACLs
 * count as they will for php-fpm's workers. Search permission alone: php-fpm opens a script by its path, which needs
 * no read permission on a directory (a root of 0711 serves). Only root can ask: for anyone else the answer is
 * unknown. About 2 ms a directory.
 */
public final class SpawnAccess {

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final long TIMEOUT_SECONDS = 5;
    private static final String CAN = "yes";
    private static final String CANNOT = "no";

    private SpawnAccess() {
    }

    /**
     * True where {@code user} (in {@code group}, or the user's own group when null) can enter {@code directory} (and
     * each directory above it), false where it cannot, null where that could not be asked (not root, no setpriv, an
     * account the system does not know, no answer in time).
     */
    public static Boolean canEnter(String user, String group, Path directory) {
        if (!Files.isExecutable(SETPRIV)) {
            return null;
        }
        List<String> command = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid", user));
        command.addAll(group != null ? List.of("--regid", group) : List.of("--regid", primaryGroup(user)));
        command.addAll(List.of("--init-groups", "--", "/bin/sh", "-c",
                "if test -x \"$1\"; then echo " + CAN + "; else echo " + CANNOT + "; fi",
                "edge-check", directory.toString()));
        String answer = run(command);
        return CAN.equals(answer) ? Boolean.TRUE : CANNOT.equals(answer) ? Boolean.FALSE : null;
    }

    /** The user's own group, as php-fpm takes it for a pool without a group: {@code id -g}'s, or the user's name. */
    private static String primaryGroup(String user) {
        String gid = run(List.of("id", "-g", "--", user));
        return gid != null && gid.matches("[0-9]+") ? gid : user;
    }

    /** The first line {@code command} writes, once it ended within the timeout; null if it did not, or failed. */
    private static String run(List<String> command) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException | RuntimeException e) {
            return null;
        }
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) || process.exitValue() != 0) {
                return null;
            }
            String out = new String(process.getInputStream().readNBytes(256), StandardCharsets.US_ASCII);
            int newline = out.indexOf('\n');
            return newline < 0 ? out : out.substring(0, newline);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            try {
                process.getInputStream().close();
            } catch (IOException e) {
                // nothing more to read from it
            }
        }
    }
}
