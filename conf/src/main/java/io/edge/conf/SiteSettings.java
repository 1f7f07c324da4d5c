package io.edge.conf;

import io.edge.aio.PathPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One virtual host.
 *
 * @param serverNames  Host names it answers ("*.example.org" and ".example.org" match subdomains)
 * @param isDefault    answers requests whose Host matches no site
 * @param root         document root (absolute, existing directory)
 * @param index        index files tried for a directory, in order
 * @param pathPolicy   dotfiles and symlinks
 * @param locations    in configuration order; the router applies nginx's precedence
 * @param errorPages   the site's own pages for error statuses edge answers itself, by status code
 */
public record SiteSettings(
        List<String> serverNames,
        boolean isDefault,
        Path root,
        List<String> index,
        PathPolicy pathPolicy,
        List<LocationSettings> locations,
        Map<Integer, ErrorPage> errorPages) {

    public SiteSettings {
        serverNames = List.copyOf(serverNames);
        index = List.copyOf(index);
        locations = List.copyOf(locations);
        errorPages = Map.copyOf(errorPages);
    }

    /** The site's page for {@code status}, or null: edge's built-in one. */
    public ErrorPage errorPage(int status) {
        return errorPages.get(status);
    }

    /** A site with edge's built-in error pages. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, Map.of());
    }
}
