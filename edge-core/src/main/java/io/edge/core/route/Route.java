package io.edge.core.route;

import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The site and location chosen for one request; {@code location} is null when no location matches.
 * {@code hostRegex} is the server name written {@code ~regex} that chose the site (null where another name, or none,
 * did), and {@code hostGroups} its named groups: nginx sets them as variables once it matched.
 */
public record Route(SiteSettings site, LocationSettings location, Pattern hostRegex, Set<String> hostGroups) {

    /** A route whose site no regex chose. */
    public Route(SiteSettings site, LocationSettings location) {
        this(site, location, null, Set.of());
    }
}
