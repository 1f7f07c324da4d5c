package io.edge.core.route;

import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;

/** The site and location chosen for one request; {@code location} is null when no location matches. */
public record Route(SiteSettings site, LocationSettings location) {
}
