package io.edge.conf;

import io.edge.fastcgi.regex.BoundedMatch;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A location's {@code referers}, nginx's {@code valid_referers} with {@code if ($invalid_referer) { return ...; }}: the
 * {@code Referer} headers its requests may carry, others answered with {@link #invalid} (hotlinked thumbnails).
 *
 * @param none        a request without a Referer is valid (nginx's {@code none})
 * @param blocked     a Referer that is not an http or https URL (a firewall's or proxy's "XXXXX") is valid (nginx's
 *                    {@code blocked})
 * @param serverNames a Referer naming one of the site's server names is valid (nginx's {@code server_names})
 * @param hosts       the host names (and URL path prefixes) a valid Referer names
 * @param regexes     patterns one of which a valid Referer's text after {@code http://} or {@code https://} contains,
 *                    case ignored (nginx's {@code ~regex})
 * @param invalid     the answer to a request with another Referer
 */
public record Referers(boolean none, boolean blocked, boolean serverNames, List<Host> hosts, List<Pattern> regexes,
                       Return invalid) {

    /** What one of the valid list's entries may be, for a message. */
    static final String EXPECTED = "none, blocked, server-names, a host name such as example.org, *.example.org,"
            + " .example.org or www.example.* with an optional path (example.org/galleries/), or ~ and a regex";

    public Referers {
        hosts = List.copyOf(hosts);
        regexes = List.copyOf(regexes);
    }

    /**
     * A host a valid Referer names, as nginx matches one: {@code example.org} that name, {@code *.example.org} names
     * under it, {@code .example.org} both, {@code www.example.*} names that start so; and, if {@code path} is not
     * empty, the Referer's path must start with it.
     */
    public record Host(String name, String path) {

    }

    private static final long EXACT = 3L << 32;
    private static final long SUFFIX = 2L << 32;
    private static final long PREFIX = 1L << 32;

    /**
     * How closely the name {@code name} (a host entry's, or a server name: {@code example.org}, {@code *.example.org},
     * {@code .example.org}, {@code www.example.*}) names {@code host} (lower case, no port), as nginx's hash of names
     * ranks a match: 0 not at all; an exact name (a leading-dot name's own) above a name under a wildcard's suffix, the
     * longer suffix first, above a name starting with a wildcard's prefix, the longer first.
     */
    static long rank(String name, String host) {
        if (name.startsWith("*.") || name.startsWith(".")) {
            int suffix = name.indexOf('.'); // ".example.org" from there
            int length = name.length() - suffix;
            if (suffix == 0 && host.length() == length - 1 && host.regionMatches(0, name, 1, length - 1)) {
                return EXACT;
            }
            return host.length() > length && host.regionMatches(host.length() - length, name, suffix, length)
                    ? SUFFIX + length : 0;
        }
        if (name.endsWith(".*")) {
            int prefix = name.length() - 1; // "www.example."
            return host.length() > prefix && host.regionMatches(0, name, 0, prefix) ? PREFIX + prefix : 0;
        }
        return host.equals(name) ? EXACT : 0;
    }

    /**
     * A host entry as written: a name, {@code *.name}, {@code .name} or {@code name.*}, and an optional path
     * ({@code example.org/galleries/}); the name in lower case.
     *
     * @throws IllegalArgumentException saying what is wrong with {@code written}
     */
    static Host host(String written) {
        int slash = written.indexOf('/');
        String name = (slash < 0 ? written : written.substring(0, slash)).toLowerCase(Locale.ROOT);
        String path = slash < 0 ? "" : written.substring(slash);
        String bare = name.startsWith("*.") ? name.substring(2) : name.startsWith(".") ? name.substring(1)
                : name.endsWith(".*") ? name.substring(0, name.length() - 2) : name;
        if (bare.isEmpty() || !bare.matches("[a-z0-9_-]+(\\.[a-z0-9_-]+)*")) {
            throw new IllegalArgumentException(bare.indexOf('*') >= 0 ? "has a \"*\" elsewhere than a whole first or"
                    + " last label" : bare.indexOf(':') >= 0 ? "names a port (a Referer's port is not compared)"
                    : "is not a host name");
        }
        if (path.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
            throw new IllegalArgumentException("has white space, a control or non-ASCII character in its path");
        }
        return new Host(name, path);
    }

    /**
     * Whether {@code referer} (null: no Referer header) is valid for a site named {@code siteNames}, as nginx's
     * {@code $invalid_referer} is empty: missing (with none), not an http(s) URL (with blocked), its host one of the
     * hosts (and its path under theirs) or of the site's names (with server-names), or matching a regex.
     */
    public boolean valid(String referer, List<String> siteNames) {
        if (referer == null) {
            return none;
        }
        String rest;
        String lower = referer.toLowerCase(Locale.ROOT);
        // nginx takes a URL of 11 characters and more ("http://i.ru", "https://i.r"), shorter is no URL
        if (lower.startsWith("http://") && referer.length() >= 11) {
            rest = referer.substring(7);
        } else if (lower.startsWith("https://") && referer.length() >= 11) {
            rest = referer.substring(8);
        } else {
            return blocked;
        }
        int hostEnd = 0;
        while (hostEnd < rest.length() && rest.charAt(hostEnd) != '/' && rest.charAt(hostEnd) != ':') {
            hostEnd++;
        }
        if (hostEnd >= 256) {
            return false; // as nginx's: no host name is that long
        }
        String host = rest.substring(0, hostEnd).toLowerCase(Locale.ROOT);
        int pathStart = rest.indexOf('/', hostEnd); // past a port
        String path = pathStart < 0 ? "" : rest.substring(pathStart);
        // as nginx's: the host that names it most closely (the site's names among them) decides, by its path
        String closest = null; // the path of the name that names the host most closely
        long best = 0;
        for (Host valid : hosts) {
            long rank = rank(valid.name(), host);
            if (rank > best) {
                closest = valid.path();
                best = rank;
            }
        }
        if (serverNames) {
            for (String name : siteNames) {
                long rank = name.startsWith("~") ? 0 : rank(name, host);
                if (rank > best) {
                    closest = ""; // a site's name has no path
                    best = rank;
                }
            }
        }
        if (closest != null) {
            return path.startsWith(closest);
        }
        if (serverNames) {
            for (String name : siteNames) {
                Pattern regex = SiteSettings.serverNameRegex(name);
                if (regex != null && BoundedMatch.find(regex, host) == BoundedMatch.Result.FOUND) {
                    return true; // as nginx's: a site's regex names after the hosts, before the ~ entries
                }
            }
        }
        for (Pattern regex : regexes) {
            if (BoundedMatch.find(regex, rest) == BoundedMatch.Result.FOUND) {
                return true; // one that gives up (a regex that backtracks) validates nothing
            }
        }
        return false;
    }
}
