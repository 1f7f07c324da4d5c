package io.edge.fastcgi.spawn;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the account a spawned php-fpm runs PHP as can enter a directory or read a script, asked of the system as that
 * account ({@code setpriv} to its user, group and supplementary groups, then {@code test -x} or {@code -r}), so that its
 * groups and ACLs count as they will for php-fpm's workers. Search permission alone on a directory: php-fpm opens a
 * script by its path, which needs no read permission on one (a root of 0711 serves). Only root can ask: for anyone else
 * the answer is unknown. About 2 ms a question. A location's front controller, whose path the configuration names, is
 * asked for as a file ({@link #canRead}): it may lie below directories the root's search permission says nothing of,
 * or, where links are followed anywhere, outside the root.
 */
public final class SpawnAccess {

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
        return ask(user, group, "-x", directory);
    }

    /**
     * True where {@code user} (in {@code group}, or the user's own group when null) can open {@code file} for reading
     * by its path, as php-fpm opens a script: read permission on the file, search permission on each directory on the
     * way to it (a link's target's too, as the open follows links); false where it cannot, null where that could not
     * be asked, as {@link #canEnter}.
     */
    public static Boolean canRead(String user, String group, Path file) {
        return ask(user, group, "-r", file);
    }

    private static Boolean ask(String user, String group, String test, Path path) {
        String setpriv = PhpFpmSupervisor.findTool("setpriv");
        if (setpriv == null) {
            return null;
        }
        List<String> command = new ArrayList<>(List.of(setpriv, "--reuid", user));
        command.addAll(group != null ? List.of("--regid", group) : List.of("--regid", primaryGroup(user)));
        command.addAll(List.of("--init-groups", "--", "/bin/sh", "-c",
                "if test " + test + " \"$1\"; then echo " + CAN + "; else echo " + CANNOT + "; fi",
                "edge-check", path.toString()));
        String answer = FirstLine.of(command);
        return CAN.equals(answer) ? Boolean.TRUE : CANNOT.equals(answer) ? Boolean.FALSE : null;
    }

    /** The user's own group, as php-fpm takes it for a pool without a group: {@code id -g}'s, or the user's name. */
    private static String primaryGroup(String user) {
        String gid = FirstLine.of(List.of("id", "-g", "--", user));
        return gid != null && gid.matches("[0-9]+") ? gid : user;
    }
}
