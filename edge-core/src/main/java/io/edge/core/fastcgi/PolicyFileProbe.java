package io.edge.core.fastcgi;

import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.edge.fastcgi.cgi.ScriptResolver.FileProbe;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a path under a FastCGI root is, seen through the {@link PathResolver} the static path uses for the same
 * root and {@link io.edge.aio.PathPolicy}: a dotfile segment, a link the policy does not follow or one leaving the
 * root (and a link inside it landing on a dotfile) is {@link Kind#FORBIDDEN}, so a script, an index file or a
 * front-controller path is refused exactly where the static path refuses the same path.
 *
 * <p>Cost on the calling thread: nothing for a dotfile (the check is lexical and comes first); otherwise the
 * resolver's link check (an {@code lstat} of the last component once its directory's real path is known, which
 * the resolver remembers for a second) and a {@code stat} of the file it leads to. Wrap it in a
 * {@link CachedFileProbe} so that an event loop pays this once per path and revalidation period, as it paid the
 * plain {@code stat} before.
 *
 * <p>The probe checks, and php-fpm opens {@code SCRIPT_FILENAME} later itself: like the static path's user-space
 * checks, a tree whose directories an attacker can swap for links in between is out of scope.
 */
public final class PolicyFileProbe implements FileProbe {

    private final Path root;
    private final PathResolver resolver;

    /**
     * @param root     the root as the {@link io.edge.fastcgi.cgi.ScriptResolver} sees it (not necessarily its real
     *                 path): the paths asked about lie under it
     * @param resolver resolves request paths under the same root with the site's policy
     */
    public PolicyFileProbe(Path root, PathResolver resolver) {
        this.root = root.toAbsolutePath().normalize();
        this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    @Override
    public Kind kind(Path path) {
        if (!path.startsWith(root)) {
            return Kind.FORBIDDEN; // the script resolver never asks; nothing outside the root is a script
        }
        Resolution resolution = resolver.resolveNormalized("/" + root.relativize(path));
        return switch (resolution.status()) {
            case OK -> FILESYSTEM.kind(resolution.file()); // the real path where links were checked
            case FORBIDDEN -> Kind.FORBIDDEN;
            case NOT_FOUND -> Kind.MISSING;
            case BAD_REQUEST -> Kind.OTHER;
        };
    }
}
