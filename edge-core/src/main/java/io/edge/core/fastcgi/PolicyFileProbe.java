package io.edge.core.fastcgi;

import io.edge.aio.PathPolicy;
import io.edge.aio.path.PathResolver;
import io.edge.aio.path.Resolution;
import io.edge.fastcgi.cgi.ScriptResolver.FileProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * What a path under a FastCGI root is, seen through a {@link PathResolver} as the static path sees it with the
 * same root and {@link PathPolicy}: a dotfile segment, a link the policy does not follow or one leaving the
 * root (and a link inside it landing on a dotfile) is {@link Kind#FORBIDDEN}, so a script, an index file or a
 * front-controller path is refused exactly where the static path refuses the same path.
 *
 * <p>Cost on the calling thread: one {@code stat} of the path, following links. Nothing there (a dangling link
 * included) is answered by the lexical rules and the nearest directory on its way that exists, so a front
 * controller's routes ({@code /api/users/42}, mostly paths that do not exist) cost that call and a stat per
 * directory on the way that exists, one more for the first that does not. Something there also gets the resolver's
 * link check (an {@code lstat} of the last component once its directory's real path is known, which the resolver
 * remembers for a second). Wrap it in a {@link CachedFileProbe} so that an event loop pays this once per path and
 * revalidation period.
 *
 * <p>The probe checks, and php-fpm opens {@code SCRIPT_FILENAME} later itself: like the static path's user-space
 * checks, a tree whose directories an attacker can swap for links in between is out of scope. Since nothing is
 * opened beneath the root here, the resolver holds no descriptor of it ({@link PathResolver#forChecksOnly}).
 */
public final class PolicyFileProbe implements FileProbe {

    /** Holds the root as given ({@link PathResolver#configuredRoot}) and its real path now. */
    private final PathResolver resolver;

    /**
     * @param root         the root as the {@link io.edge.fastcgi.cgi.ScriptResolver} sees it (not necessarily its
     *                     real path): the paths asked about lie under it
     * @param policy       the site's dotfile and link rules
     * @param nanoClock    the clock the resolver's memory of directories ages on
     * @param directoryTtl how long a directory's real path is trusted, and how often the root's is taken again
     */
    public PolicyFileProbe(Path root, PathPolicy policy, LongSupplier nanoClock, Duration directoryTtl) {
        this.resolver = PathResolver.forChecksOnly(root, policy, nanoClock, directoryTtl);
    }

    /** The root's real path, taken again every second by the resolver: a deploy's new release, once switched. */
    @Override
    public Path backendRoot(Path root) {
        return root.equals(resolver.configuredRoot()) ? resolver.root() : root;
    }

    /**
     * The refusal of a path with nothing there, or null: the lexical rules', else that of the nearest directory on
     * its way that exists, if the policy refuses it (a link out of the root). So the path beyond such a link is
     * refused whether something lies there or not, as the static path refuses it (under deny, a link on the way is
     * missing either way, the static path's 404): else
     * {@code /etc_link/shadow} (403) and {@code /etc_link/nothing} (the front controller) told which files exist
     * outside the root. A front controller's routes mostly lie under no directory but the root: one failed stat.
     */
    private Resolution missing(Path root, Path path, String uriPath) {
        Resolution lexical = resolver.lexicalRefusal(uriPath);
        if (lexical != null) {
            return lexical;
        }
        // Down from the root to the first name not there: a stat per directory that exists, one for the name that
        // does not (up from the path, a stat per name missing: 2 000 for a request line of "/x/a/a/a/...")
        Path on = root;
        Path parent = path.getParent();
        if (parent != null && parent.startsWith(root)) {
            for (Path name : root.relativize(parent)) {
                Path next = on.resolve(name);
                if (name.toString().isEmpty() || !Files.exists(next)) {
                    break;
                }
                on = next;
            }
        }
        if (on.equals(root)) {
            return null;
        }
        Resolution way = resolver.resolveNormalized("/" + root.relativize(on));
        // links not followed: the directory itself a link is one on the path's way, where nothing is (as the static
        // path's 404, nginx's ENOTDIR), whatever lies beyond it
        boolean linkOnTheWay = !resolver.followSymlinks() && PathResolver.LINK.equals(way.reason());
        return way.status() == Resolution.Status.FORBIDDEN && !linkOnTheWay ? way : null;
    }

    @Override
    public Kind kind(Path path) {
        Path root = resolver.configuredRoot();
        if (!path.startsWith(root)) {
            return Kind.FORBIDDEN; // the script resolver never asks; nothing outside the root is a script
        }
        String uriPath = "/" + root.relativize(path);
        Kind there = FILESYSTEM.kind(path);
        Resolution resolution = there == Kind.MISSING ? missing(root, path, uriPath) : resolver.resolveNormalized(uriPath);
        if (resolution == null) {
            return Kind.MISSING;
        }
        return switch (resolution.status()) {
            // the real path where links were checked: the same file unless a link led elsewhere in the root
            case OK -> resolution.file().equals(path) ? there : FILESYSTEM.kind(resolution.file());
            case FORBIDDEN -> Kind.FORBIDDEN;
            case NOT_FOUND -> Kind.MISSING;
            case BAD_REQUEST, FAILED -> Kind.OTHER; // as FILESYSTEM takes an I/O error
        };
    }
}
