package io.edge.fastcgi.spawn;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the account a spawned php-fpm runs PHP as can enter a directory, asked of the system as that account
 * ({@code setpriv} to its user, group and supplementary groups, then {@code test -x}), so that its groups and ACLs
 * count as they will for php-fpm's workers. Search permission alone: php-fpm opens a script by its path, which needs
 * no read permission on a directory (a root of 0711 serves). Only root can ask: for anyone else the answer is
 * unknown. About 2 ms a directory.
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
        String setpriv = PhpFpmSupervisor.findTool("setpriv");
        if (setpriv == null) {
            return null;
        }
        List<String> command = new ArrayList<>(List.of(setpriv, "--reuid", user));
        command.addAll(group != null ? List.of("--regid", group) : List.of("--regid", primaryGroup(user)));
        command.addAll(List.of("--init-groups", "--", "/bin/sh", "-c",
                "if test -x \"$1\"; then echo " + CAN + "; else echo " + CANNOT + "; fi",
                "edge-check", directory.toString()));
        String answer = FirstLine.of(command);
        return CAN.equals(answer) ? Boolean.TRUE : CANNOT.equals(answer) ? Boolean.FALSE : null;
    }

    /** The user's own group, as php-fpm takes it for a pool without a group: {@code id -g}'s, or the user's name. */
    private static String primaryGroup(String user) {
        String gid = FirstLine.of(List.of("id", "-g", "--", user));
        return gid != null && gid.matches("[0-9]+") ? gid : user;
    }
}
