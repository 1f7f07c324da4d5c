package io.edge.core.route;

import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;

/**
 * The site and location chosen for one request; {@code location} is null when no location matches.
 * {@code hostNamesSite}: the request's Host is one of the site's server names (exactly or by a leading wildcard), not
 * a host the site answers only as the default site or by a trailing wildcard or a regex (whatever the client chose).
 */
public record Route(SiteSettings site, LocationSettings location, boolean hostNamesSite) {
}
