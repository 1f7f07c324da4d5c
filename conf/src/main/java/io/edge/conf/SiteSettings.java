package io.edge.conf;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.edge.aio.PathPolicy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One virtual host.
 *
 * @param serverNames  Host names it answers, as nginx's server_name: "example.org"; "*.example.org" names under it,
 *                     ".example.org" it and names under it; "www.example.*" names that start so; "~regex" hosts it
 *                     finds a match in ({@link #serverNameRegex})
 * @param isDefault    answers requests whose Host matches no site of the addresses it listens on
 * @param root         document root (absolute, existing directory)
 * @param index        index files tried for a directory, in order
 * @param pathPolicy   dotfiles and symlinks
 * @param locations    the site level's, in configuration order, each with those nested in it ({@link #everyLocation});
 *                     the router applies nginx's precedence
 * @param errorPages   the site's own pages for error statuses edge answers itself, by status code
 * @param listen       the addresses of {@code server.listen} it answers on, as nginx's listen in a server block: a
 *                     connection accepted by the listener of one of them is routed among the sites listening there
 *                     alone; empty for every address (a configuration fills in server.listen's where none is written)
 * @param rewrites     its {@code if}s and rewrites met before a location is chosen (nginx's server rewrite phase), in
 *                     order
 * @param certificates its certificates and keys for the listeners that end TLS (nginx's ssl_certificate and
 *                     ssl_certificate_key), one of each key type at most (RSA beside ECDSA: a handshake gets the one
 *                     its client can use, as nginx's OpenSSL chooses), the first the one served where no choice is
 *                     made; empty: none
 * @param clientVerify whether its TLS handshakes ask for a client certificate, and how it is checked (nginx's
 *                     ssl_verify_client and the files that go with it)
 * @param captureVariables the variables the named groups of its server names' and rewrites' regexes set when they
 *                     match, by group name: nginx keeps a named capture as a variable for the rest of the request,
 *                     which its locations' texts read ({@code $sub} of {@code ~^(?<sub>.+)\.example\.com$})
 * @param redirects    how a redirect of its {@link #rewrites} writes its Location: location-defaults', as nginx's
 *                     server-level absolute_redirect and the like there; {@code null} given is
 *                     {@link LocationSettings.Redirects#DEFAULT}
 * @param gzip         location-defaults' gzip, null where it is off: for edge's own page where no location answers (a
 *                     path none matches: its 404; a site's page whose path none matches), as nginx's server-level gzip
 *                     compresses its special responses there
 * @param gzipClients  location-defaults' gzip.http-version, proxied and disable, with {@link #gzip}; {@code null} given
 *                     is {@link LocationSettings.GzipClients#DEFAULT}
 * @param everyLocation its locations and those nested in them, at any depth, each before those nested in it: made
 *                     from {@link #locations} once, whatever is given (the constructors without it give null)
 */
public record SiteSettings(
        List<String> serverNames,
        boolean isDefault,
        Path root,
        List<String> index,
        PathPolicy pathPolicy,
        List<LocationSettings> locations,
        Map<Integer, ErrorPage> errorPages,
        List<InetSocketAddress> listen,
        List<RewriteRule> rewrites,
        List<TlsCertificate> certificates,
        TlsClientVerify clientVerify,
        Map<String, VariableMap> captureVariables,
        LocationSettings.Redirects redirects,
        LocationSettings.Gzip gzip,
        LocationSettings.GzipClients gzipClients,
        List<LocationSettings> everyLocation) {

    public SiteSettings {
        if (gzipClients == null) {
            gzipClients = LocationSettings.GzipClients.DEFAULT;
        }
        captureVariables = Map.copyOf(captureVariables);
        certificates = List.copyOf(certificates);
        if (redirects == null) {
            redirects = LocationSettings.Redirects.DEFAULT;
        }
        listen = List.copyOf(listen);
        rewrites = List.copyOf(rewrites);
        serverNames = List.copyOf(serverNames);
        index = List.copyOf(index);
        locations = List.copyOf(locations);
        errorPages = Map.copyOf(errorPages);
        // once: PURGE and a script's X-Accel-Redirect and X-Sendfile look through them on each request
        everyLocation = locations.stream().flatMap(LocationSettings::withNested).toList();
    }

    /** A site whose every location is found from its {@code locations}. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations, Map<Integer, ErrorPage> errorPages,
            List<InetSocketAddress> listen, List<RewriteRule> rewrites, List<TlsCertificate> certificates,
            TlsClientVerify clientVerify, Map<String, VariableMap> captureVariables,
            LocationSettings.Redirects redirects, LocationSettings.Gzip gzip, LocationSettings.GzipClients gzipClients) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, errorPages, listen, rewrites, certificates,
                clientVerify, captureVariables, redirects, gzip, gzipClients, null);
    }

    /** A site whose every location is found from its {@code locations}, with no gzip where no location answers. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations, Map<Integer, ErrorPage> errorPages,
            List<InetSocketAddress> listen, List<RewriteRule> rewrites, List<TlsCertificate> certificates,
            TlsClientVerify clientVerify, Map<String, VariableMap> captureVariables,
            LocationSettings.Redirects redirects) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, errorPages, listen, rewrites, certificates,
                clientVerify, captureVariables, redirects, null, null);
    }

    /**
     * Server names written as regular expressions, compiled (checked when the configuration was read), while a site
     * holds the name: by the name's identity, so a name no configuration has any more goes with the last that had it.
     */
    private static final Cache<String, Pattern> REGEXES = Caffeine.newBuilder().weakKeys().build();

    /**
     * The regular expression a server name written {@code ~regex} is, as nginx compiles it: caseless if it has an
     * upper-case letter (a host is compared in lower case), else as written; null for another name.
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static Pattern serverNameRegex(String name) {
        if (!name.startsWith("~")) {
            return null;
        }
        return REGEXES.get(name, n -> {
            String expression = n.substring(1);
            boolean upper = expression.chars().anyMatch(c -> c >= 'A' && c <= 'Z');
            return LocationMatch.compile(expression, upper ? Pattern.CASE_INSENSITIVE : 0);
        });
    }

    /**
     * What the site calls itself, as nginx's {@code $server_name}: its first name as written (lower case; a regex as
     * written, "*.example.org" as it is), but ".example.org" without its leading dot; "" without one. Never the
     * request's host: a script trusts SERVER_NAME where it would not trust HTTP_HOST (links in mails, redirects to
     * the canonical host).
     */
    public String serverName() {
        if (serverNames.isEmpty()) {
            return "";
        }
        String name = serverNames.get(0); // in lower case, but for a regex: as written
        return name.startsWith(".") ? name.substring(1) : name;
    }

    /** The site's page for {@code status}, or null: edge's built-in one (or a named location's, {@link #namedErrorPage}). */
    public ErrorPage errorPage(int status) {
        ErrorPage page = errorPages.get(status);
        return page == null || page.named() ? null : page;
    }

    /** The named location that answers {@code status} in place of a page ({@code 404 = "@app"}), or null. */
    public ErrorPage namedErrorPage(int status) {
        ErrorPage page = errorPages.get(status);
        return page != null && page.named() ? page : null;
    }

    /** The location {@code name} ({@code "@app"}) names, or null. */
    public LocationSettings namedLocation(String name) {
        for (LocationSettings location : locations) {
            if (location.named() && location.pattern().equals(name)) {
                return location;
            }
        }
        return null;
    }

    /** Its first certificate (the one served where no choice is made), or null: none. */
    public TlsCertificate tls() {
        return certificates.isEmpty() ? null : certificates.get(0);
    }

    /** A site whose regexes set no variables, that asks for no client certificate. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations, Map<Integer, ErrorPage> errorPages,
            List<InetSocketAddress> listen, List<RewriteRule> rewrites, TlsCertificate tls) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, errorPages, listen, rewrites,
                tls == null ? List.of() : List.of(tls), TlsClientVerify.OFF, Map.of(), null);
    }

    /** A site without a certificate. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations, Map<Integer, ErrorPage> errorPages,
            List<InetSocketAddress> listen, List<RewriteRule> rewrites) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, errorPages, listen, rewrites, null);
    }

    /** A site without rewrites. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations, Map<Integer, ErrorPage> errorPages,
            List<InetSocketAddress> listen) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, errorPages, listen, List.of());
    }

    /** A site on every listen address. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations, Map<Integer, ErrorPage> errorPages) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, errorPages, List.of());
    }

    /**
     * Its locations and those nested in them, at any depth, each before those nested in it: where each location has
     * something (a responder, a zone, a root) made for it. {@link #locations} are the site level's, matched first.
     * The same list on each call, made when the site was.
     */
    @Override
    public List<LocationSettings> everyLocation() {
        return everyLocation;
    }

    /** Whether it answers connections accepted on {@code address}, one of server.listen's. */
    public boolean listensOn(InetSocketAddress address) {
        return listen.isEmpty() || listen.contains(address);
    }

    /** A site with edge's built-in error pages. */
    public SiteSettings(List<String> serverNames, boolean isDefault, Path root, List<String> index,
            PathPolicy pathPolicy, List<LocationSettings> locations) {
        this(serverNames, isDefault, root, index, pathPolicy, locations, Map.of());
    }
}
