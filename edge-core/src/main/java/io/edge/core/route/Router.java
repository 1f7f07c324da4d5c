package io.edge.core.route;

import io.edge.conf.LocationSearch;
import io.edge.conf.LocationSettings;
import io.edge.conf.RegexGaveUpException;
import io.edge.conf.Return;
import io.edge.conf.ServerSettings;
import io.edge.conf.SiteSettings;
import io.edge.core.http.HttpStatusException;
import io.edge.core.http.ThrottledWarnings;
import io.edge.fastcgi.regex.BoundedMatch;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * Picks a site by {@code Host} and a location by path, as nginx does.
 *
 * <p>Sites: an exact server name wins, then the longest leading wildcard ({@code *.example.org} or
 * {@code .example.org}, the latter also matching {@code example.org} itself), then the longest trailing wildcard
 * ({@code www.example.*}), then the first regular expression ({@code ~^(www\.)?example\.(com|net)$}) in the order
 * of the sites and their names that finds a match in the host, else the default site.
 * Where names of two sites claim the same hosts ({@code .example.org} and {@code example.org}, or
 * {@code .example.org} and {@code *.example.org}) the site listed first answers them, as nginx's hash of server
 * names keeps the first and ignores the other with its "conflicting server name" warning: {@link #conflicts}.
 * An exact name beside a wildcard that covers it ({@code www.example.org}, {@code *.example.org}) is no conflict:
 * the exact name wins, wherever it is listed.
 *
 * <p>Locations: as nginx picks them, exact, then the longest prefix (its nested locations searched within), then
 * regexes in order ({@link LocationSearch}).
 *
 * <p>Sites are picked among those listening on the address of server.listen a connection was accepted on
 * ({@link SiteSettings#listen}), as nginx picks among the server blocks of an address:port: names, their conflicts
 * and the default (the site marked so, else the first there) are each address's own.
 *
 * <p>Immutable and thread-safe: built once per configuration.
 */
public final class Router {

    /** The longest host regex names are tried on: a DNS name has at most 253 characters. */
    static final int REGEX_HOST_MAX = 255;
    /** Regex names that gave up on a host, said at most once every 10 s. */
    private final ThrottledWarnings gaveUp = new ThrottledWarnings(LoggerFactory.getLogger(Router.class),
            System::nanoTime);

    /** The names and default of the sites that listen on each address of server.listen. */
    private final Map<InetSocketAddress, Names> byAddress = new HashMap<>();
    /** Those of every site, with the configuration's default: for a connection of no known listener. */
    private final Names everyAddress;
    private final Set<String> conflicts = new LinkedHashSet<>();
    /** The largest body limit a location of these sites sets itself, or -1. */
    private final long largestLocationBodyLimit;

    /** A server name written as a regex, the regex and its named groups. */
    private record RegexName(String name, Pattern pattern, Set<String> groups) {
    }

    /** A server name as written and the index of its site in the configuration's list. */
    private record Claim(String name, int site) {
    }

    /**
     * @param sites       in configuration order: the first of two that claim a host answers it; each routed among those
     *                    that listen on the address a connection was accepted on ({@link SiteSettings#listen})
     * @param defaultSite the default where the address is not known (no listener's connection)
     */
    public Router(List<SiteSettings> sites, SiteSettings defaultSite) {
        Set<InetSocketAddress> addresses = addresses(sites);
        // where every site listens on every address, every address routes as everyAddress does (the marked default,
        // else the first site), its conflicts said once: byAddress stays empty, and a request's address goes unhashed
        boolean alike = !listenApart(sites);
        everyAddress = new Names(sites, site -> true, defaultSite, "", alike ? conflicts : new ArrayList<>());
        for (InetSocketAddress address : alike ? List.<InetSocketAddress>of() : addresses) {
            SiteSettings firstThere = sites.stream().filter(site -> site.listensOn(address)).findFirst().orElseThrow();
            SiteSettings defaultThere = sites.stream().filter(site -> site.listensOn(address) && site.isDefault())
                    .findFirst().orElse(firstThere); // as nginx: the first server on an address:port, unless marked
            byAddress.put(address, new Names(sites, site -> site.listensOn(address), defaultThere,
                    " on \"" + ServerSettings.written(address) + "\"", conflicts));
        }
        largestLocationBodyLimit = sites.stream().flatMap(site -> site.everyLocation().stream())
                .mapToLong(LocationSettings::bodyLimit).max().orElse(LocationSettings.SERVER_BODY_LIMIT);
    }

    /** Every address some site listens on, in the order the sites list them. */
    private static Set<InetSocketAddress> addresses(List<SiteSettings> sites) {
        Set<InetSocketAddress> addresses = new LinkedHashSet<>();
        sites.forEach(site -> addresses.addAll(site.listen()));
        return addresses;
    }

    /**
     * Whether some site does not listen on every address another does ({@link SiteSettings#listen}): then one host may
     * be answered by one site on one address and by another on another.
     */
    public static boolean listenApart(List<SiteSettings> sites) {
        Set<InetSocketAddress> addresses = addresses(sites);
        return !sites.stream().allMatch(site -> addresses.stream().allMatch(site::listensOn));
    }

    /** The server names of the sites on one address, as nginx's of the server blocks on one address:port. */
    private static final class Names {
        private final Map<String, SiteSettings> exactNames = new HashMap<>();
        private final List<Map.Entry<String, SiteSettings>> suffixNames = new ArrayList<>();
        /** Trailing wildcards as the start a host must have ({@code www.example.}), the longest first. */
        private final List<Map.Entry<String, SiteSettings>> prefixNames = new ArrayList<>();
        private final List<Map.Entry<RegexName, SiteSettings>> regexNames = new ArrayList<>();
        private final SiteSettings defaultSite;
        /** Where these are, in a conflict's words: ' on "127.0.0.1:8081"' (as written), or "" for every address. */
        private final String where;
        private final Collection<String> conflicts;

        /** Of the {@code sites} that are {@code listening}; conflicts among them added to {@code conflicts}. */
        Names(List<SiteSettings> sites, Predicate<SiteSettings> listening, SiteSettings defaultSite, String where,
                Collection<String> conflicts) {
            this.defaultSite = defaultSite;
            this.where = where;
            this.conflicts = conflicts;
            Map<String, Claim> exactClaims = new HashMap<>();
            Map<String, Claim> suffixClaims = new HashMap<>();
            Map<String, Claim> prefixClaims = new HashMap<>();
            for (int i = 0; i < sites.size(); i++) {
                SiteSettings site = sites.get(i);
                if (!listening.test(site)) {
                    continue;
                }
                if (site.serverNames().isEmpty() && site != defaultSite) {
                    // as nginx's warning of a second server without a name on the same port
                    conflicts.add("edge.sites[" + i + "] has no server-names and is not the default site" + where
                            + ": no request reaches it" + (where.isEmpty() ? "" : " there"));
                }
                for (String name : site.serverNames()) {
                    Pattern regex = SiteSettings.serverNameRegex(name);
                    if (regex != null) {
                        regexNames.add(Map.entry(new RegexName(name, regex, Return.namedGroups(regex)), site));
                        continue;
                    }
                    String n = name.toLowerCase(Locale.ROOT);
                    Claim claim = new Claim(name, i);
                    if (n.endsWith(".*")) {
                        String prefix = n.substring(0, n.length() - 1);
                        prefixNames.add(Map.entry(prefix, site));
                        claim(prefixClaims, prefix, claim, "requests for names starting " + prefix);
                    } else if (n.startsWith("*.")) {
                        suffixNames.add(Map.entry(n.substring(1), site));
                        claim(suffixClaims, n.substring(1), claim, "requests for names under " + n.substring(2));
                    } else if (n.startsWith(".")) {
                        suffixNames.add(Map.entry(n, site));
                        claim(suffixClaims, n, claim, "requests for names under " + n.substring(1));
                        exactNames.putIfAbsent(n.substring(1), site);
                        claim(exactClaims, n.substring(1), claim, "requests for " + n.substring(1));
                    } else {
                        exactNames.putIfAbsent(n, site);
                        claim(exactClaims, n, claim, "requests for " + n);
                    }
                }
            }
            // stable: of two equal wildcards the first listed stays first
            suffixNames.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
            prefixNames.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
        }

        /**
         * Notes {@code claim} of {@code key} in {@code claims}; where another site claimed it before, which wins, that
         * is a conflict over {@code requests}.
         */
        private void claim(Map<String, Claim> claims, String key, Claim claim, String requests) {
            Claim first = claims.putIfAbsent(key, claim);
            if (first != null && first.site() != claim.site()) {
                conflicts.add("conflicting server name \"" + claim.name() + "\" of " + key(claim) + " and \""
                        + first.name() + "\" of " + key(first) + where + ": " + requests + " go to " + key(first)
                        + ", listed first");
            }
        }
    }

    /**
     * Whether sites are chosen among those of a connection's address ({@link SiteSettings#listen}): some site does not
     * listen on every address. Then a connection of an address no site listens on (a listener a reload closed) has no
     * sites of its own.
     */
    public boolean routesByAddress() {
        return !byAddress.isEmpty();
    }

    /**
     * Whether a request of a connection accepted on {@code listenAddress} (null: of no listener) is routed here: not
     * where sites are chosen by address and no site listens on it, the connection of a listener a reload closed (whose
     * requests the connection refuses before routing, its listener marked dropped: this is the router's own guard, as
     * {@link #site} throws). Routed among every site, a client of the public port would be answered by another port's
     * site; nginx answers it from the old configuration, never the new one. Free where no site listens apart.
     */
    public boolean serves(InetSocketAddress listenAddress) {
        return listenAddress == null || byAddress.isEmpty() || byAddress.containsKey(listenAddress);
    }

    /** The largest request body any location takes, {@code serverLimit} for those without a limit of their own. */
    public long largestBodyLimit(long serverLimit) {
        return Math.max(serverLimit, largestLocationBodyLimit);
    }

    /** The site's key in the configuration: {@code edge.sites[1]}. */
    private static String key(Claim claim) {
        return "edge.sites[" + claim.site() + "]";
    }

    /**
     * Each server name that a site listed before its own claims too (see the class comment), in words naming both
     * sites and which one answers; none when every host has one site. For a warning: it is what nginx does too.
     */
    public List<String> conflicts() {
        return List.copyOf(conflicts);
    }

    /**
     * The route for {@code host} (may be null or carry a port) and a normalised {@code path}.
     *
     * @throws HttpStatusException 500 where a location's regex gave up on the path ({@link #location})
     */
    public Route route(String hostHeader, String path) {
        return route(null, hostHeader, path);
    }

    /**
     * The route for {@code host} (may be null or carry a port) and a normalised {@code path} of a connection accepted
     * on {@code listenAddress}, an address of server.listen as configured (null: among every site).
     *
     * @throws HttpStatusException 500 where a location's regex gave up on the path ({@link #location})
     * @throws IllegalArgumentException where this router does not {@link #serves serve} {@code listenAddress}
     */
    public Route route(InetSocketAddress listenAddress, String hostHeader, String path) {
        Names names = names(listenAddress);
        String host = host(hostHeader);
        SiteSettings named = named(names, host);
        Map.Entry<RegexName, SiteSettings> regex = named == null ? regex(names, host) : null;
        if (regex != null) {
            SiteSettings site = regex.getValue();
            return new Route(site, location(site, path), regex.getKey().pattern(), regex.getKey().groups());
        }
        SiteSettings site = named != null ? named : names.defaultSite;
        return new Route(site, location(site, path)); // nothing more made for a request no regex name routed
    }

    /** The site for {@code hostHeader} among every site. */
    SiteSettings site(String hostHeader) {
        return site(null, hostHeader);
    }

    /**
     * The site for {@code hostHeader} (may be null or carry a port) among those on {@code listenAddress}, as nginx picks
     * a server block by its names among those listening on the address:port.
     *
     * @throws IllegalArgumentException where this router does not {@link #serves serve} {@code listenAddress}
     */
    public SiteSettings site(InetSocketAddress listenAddress, String hostHeader) {
        Names names = names(listenAddress);
        String host = host(hostHeader);
        SiteSettings named = named(names, host);
        Map.Entry<RegexName, SiteSettings> regex = named == null ? regex(names, host) : null;
        return regex != null ? regex.getValue() : named != null ? named : names.defaultSite;
    }

    /** The names of the sites on {@code listenAddress} (null: every site). */
    private Names names(InetSocketAddress listenAddress) {
        Names names = listenAddress == null || byAddress.isEmpty() ? everyAddress // no site listens apart: not hashed
                : byAddress.get(listenAddress);
        if (names == null) {
            // never among every site: another address's default would answer a client of this one
            throw new IllegalArgumentException("no site listens on " + ServerSettings.written(listenAddress));
        }
        return names;
    }

    /** The host name of {@code hostHeader}; null for none. */
    private static String host(String hostHeader) {
        return hostHeader == null || hostHeader.isEmpty() ? null : hostName(hostHeader);
    }

    /** The site of {@code host}'s exact name, longest leading wildcard or longest trailing one; null for none. */
    private static SiteSettings named(Names names, String host) {
        SiteSettings named = host == null ? null : exactOrLeading(names, host);
        return named != null || host == null ? named : trailing(names, host);
    }

    /** The site of {@code host}'s exact name or longest leading wildcard, or null. */
    private static SiteSettings exactOrLeading(Names names, String host) {
        SiteSettings site = names.exactNames.get(host);
        if (site != null) {
            return site;
        }
        for (int i = 0; i < names.suffixNames.size(); i++) { // indexed: no iterator made per request
            Map.Entry<String, SiteSettings> suffix = names.suffixNames.get(i);
            if (host.endsWith(suffix.getKey())) {
                return suffix.getValue();
            }
        }
        return null;
    }

    /** The site of {@code host}'s longest trailing wildcard, or null. */
    private static SiteSettings trailing(Names names, String host) {
        for (int i = 0; i < names.prefixNames.size(); i++) { // indexed: no iterator made per request
            Map.Entry<String, SiteSettings> prefix = names.prefixNames.get(i);
            if (host.length() > prefix.getKey().length() && host.startsWith(prefix.getKey())) {
                return prefix.getValue();
            }
        }
        return null;
    }

    /** The first regex name that finds a match in {@code host}, and its site; null for none. */
    private Map.Entry<RegexName, SiteSettings> regex(Names names, String host) {
        if (host == null || names.regexNames.isEmpty() || host.length() > REGEX_HOST_MAX) {
            return null; // no host name is that long: a regex's work on it would grow with what the client sent
        }
        for (Map.Entry<RegexName, SiteSettings> regex : names.regexNames) {
            if (finds(regex.getKey(), host)) {
                return regex;
            }
        }
        return null;
    }

    /**
     * Whether {@code regex} finds a match in {@code host} within {@link BoundedMatch#STEPS} reads of it (as PCRE's
     * match limit bounds nginx's): a regex that backtracks past them, or deeper than the stack, matches nothing and is
     * said so, rather than holding the event loop.
     */
    private boolean finds(RegexName regex, String host) {
        BoundedMatch.Result result = BoundedMatch.find(regex.pattern(), host);
        if (result == BoundedMatch.Result.GAVE_UP) {
            gaveUp.warn(BoundedMatch.class, "server name \"" + regex.name() + "\" gave up on a host of " + host.length()
                    + " characters (past " + BoundedMatch.STEPS + " steps, or too deep): not matched; a regex that"
                    + " backtracks less would");
        }
        return result == BoundedMatch.Result.FOUND;
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

    /**
     * The location of {@code site} for {@code path}: see the class comment ({@link LocationSearch#find}).
     *
     * @throws HttpStatusException 500 where the site's regexes gave up on the path, past {@link BoundedMatch#PATH_STEPS}
     *                             reads of it in all (or deeper than the stack), as nginx answers where PCRE's match
     *                             limit stops one: a regex a crafted path makes backtrack no longer holds the loop, and
     *                             the request is never answered by a location that matches less than the configuration
     *                             says
     */
    public static LocationSettings location(SiteSettings site, String path) {
        try {
            return LocationSearch.find(site.locations(), path);
        } catch (RegexGaveUpException gaveUp) {
            throw new HttpStatusException(HttpResponseStatus.INTERNAL_SERVER_ERROR, gaveUp.getMessage());
        }
    }
}
