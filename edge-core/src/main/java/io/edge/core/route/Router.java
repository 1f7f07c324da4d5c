package io.edge.core.route;

import io.edge.conf.LocationSettings;
import io.edge.conf.SiteSettings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Picks a site by {@code Host} and a location by path, as nginx does.
 *
 * <p>Sites: an exact server name wins, then the longest leading wildcard ({@code *.example.org} or
 * {@code .example.org}, the latter also matching {@code example.org} itself), else the default site.
 *
 * <p>Locations: an exact match ({@code = /x}) wins at once; otherwise the longest matching prefix is
 * remembered; if it was written {@code ^~} it wins; otherwise regular expressions are tried in
 * configuration order and the first match wins; otherwise the remembered prefix.
 *
 * <p>Immutable and thread-safe: built once per configuration.
 */
public final class Router {

    private final Map<String, SiteSettings> exactNames = new HashMap<>();
    private final List<Map.Entry<String, SiteSettings>> suffixNames = new ArrayList<>();
    private final SiteSettings defaultSite;

    public Router(List<SiteSettings> sites, SiteSettings defaultSite) {
        this.defaultSite = defaultSite;
        for (SiteSettings site : sites) {
            for (String name : site.serverNames()) {
                String n = name.toLowerCase(Locale.ROOT);
                if (n.startsWith("*.")) {
                    suffixNames.add(Map.entry(n.substring(1), site));
                } else if (n.startsWith(".")) {
                    suffixNames.add(Map.entry(n, site));
                    exactNames.putIfAbsent(n.substring(1), site);
                } else {
                    exactNames.putIfAbsent(n, site);
                }
            }
        }
        suffixNames.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
    }

    /** The route for {@code host} (may be null or carry a port) and a normalised {@code path}. */
    public Route route(String host, String path) {
        SiteSettings site = site(host);
        return new Route(site, location(site, path));
    }

    SiteSettings site(String hostHeader) {
        if (hostHeader == null || hostHeader.isEmpty()) {
            return defaultSite;
        }
        String host = hostName(hostHeader);
        SiteSettings site = exactNames.get(host);
        if (site != null) {
            return site;
        }
        for (Map.Entry<String, SiteSettings> suffix : suffixNames) {
            if (host.endsWith(suffix.getKey())) {
                return suffix.getValue();
            }
        }
        return defaultSite;
    }

    /** The host name of a {@code Host} header: lower case, without port and trailing dot. */
    public static String hostName(String hostHeader) {
        String host = stripPort(hostHeader).toLowerCase(Locale.ROOT);
        return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    }

    private static String stripPort(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end > 0 ? host.substring(0, end + 1) : host;
        }
        int colon = host.lastIndexOf(':');
        return colon >= 0 ? host.substring(0, colon) : host;
    }

    static LocationSettings location(SiteSettings site, String path) {
        LocationSettings longestPrefix = null;
        for (LocationSettings location : site.locations()) {
            switch (location.kind()) {
                case EXACT -> {
                    if (location.pattern().equals(path)) {
                        return location;
                    }
                }
                case PREFIX, PREFIX_NO_REGEX -> {
                    if (path.startsWith(location.pattern())
                            && (longestPrefix == null || location.pattern().length() > longestPrefix.pattern().length())) {
                        longestPrefix = location;
                    }
                }
                case REGEX -> {
                    // tried below, after every prefix has been seen
                }
            }
        }
        if (longestPrefix != null && longestPrefix.kind() == LocationSettings.Kind.PREFIX_NO_REGEX) {
            return longestPrefix;
        }
        for (LocationSettings location : site.locations()) {
            if (location.kind() == LocationSettings.Kind.REGEX && location.regex().matcher(path).find()) {
                return location;
            }
        }
        return longestPrefix;
    }
}
