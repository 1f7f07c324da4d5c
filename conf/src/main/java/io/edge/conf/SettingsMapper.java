package io.edge.conf;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.edge.aio.PathPolicy;
import io.edge.aio.StaticIoSettings;
import io.edge.aio.path.PathResolver;
import io.edge.cache.ContentCacheSettings;
import io.edge.cache.ResponseCacheSettings;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.SpoolDirectory;
import io.edge.fastcgi.cgi.CgiParams;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.codec.FcgiNameValues;
import io.edge.fastcgi.pool.BackendAddress;
import io.edge.fastcgi.spawn.IniCheck;
import io.edge.fastcgi.spawn.PhpSapi;
import io.edge.fastcgi.spawn.SpawnAccess;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.ssl.CipherSuiteConverter;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Maps the merged, resolved {@code edge} object onto the settings records, recording every problem.
 *
 * <p>HOCON lays reference.conf under fixed objects only; list elements (sites, locations) and map values
 * (backends) get their defaults here, from {@code site-defaults}, {@code location-defaults} and
 * {@code backend-defaults} as merged with the user's overrides of them. Unknown keys in those elements are
 * checked against the reference's templates, in what each element wrote itself (a key in the defaults is
 * reported there once). {@code backend-defaults} are checked on their own, so a bad default is found before
 * any backend uses it, and reported once (at the defaults) however many backends inherit it.
 */
final class SettingsMapper {

    private static final Pattern BACKEND_NAME = Pattern.compile("[A-Za-z0-9_-]+");
    /** The longest shutdown drain: a day is past any deploy, and far from where deadlines in nanoseconds overflow. */
    private static final Duration MAX_DRAIN = Duration.ofDays(1);

    /**
     * The redirects edge makes (a return's, a rewrite's, a directory's to its slash) that a site's error-pages may name a
     * page for, as nginx's error_page 301 serves it with the redirect's status and Location.
     */
    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
    /** A response's memory buffer at most: 64 MiB, so a typo (64 GiB) cannot promise memory per response. */
    private static final long MAX_RESPONSE_BUFFER_MEMORY = 64L << 20;
    /**
     * A script's head at least and at most: 1 KiB holds PHP's own fields and a cookie or two (nginx's 4 KiB page is
     * its default); 1 MiB is far past any head a browser or proxy takes, and held per response while it comes.
     */
    private static final long MIN_RESPONSE_HEAD = 1024;
    private static final long MAX_RESPONSE_HEAD = 1L << 20;
    /** An auth-basic user file at most: 16 MiB, some 200 000 users with bcrypt hashes, all held in memory. */
    private static final int MAX_USER_FILE = 16 << 20;

    private final Problems problems;
    private final Path base;
    private final Path runDir;
    private final boolean runDirMade;
    private final ConfigObject reference;
    private final boolean root;
    /** Each limit-req zone named so far, with the location that set its rate first: all must agree on it. */
    private final Map<String, Map.Entry<String, Double>> limitZones = new HashMap<>();
    /** Each limit zone named so far ("limit-req login"), with the location that set its ipv6-prefix first. */
    private final Map<String, Map.Entry<String, Integer>> zonePrefixes = new HashMap<>();
    /** Each limit zone named so far ("limit-req login"), with the location that set its key first ("": the client). */
    private final Map<String, Map.Entry<String, String>> zoneKeys = new HashMap<>();
    /** Each auth-basic user file read so far (null: it had a problem, said once). */
    private final Map<Path, Htpasswd> userFiles = new HashMap<>();
    /** Each spawned backend's spawn section with a user, for {@link #spawnUsersReach}. */
    private final Map<String, Section> spawnUsers = new HashMap<>();
    /** The addresses each backend group wrote, for the warning of groups sharing one. */
    private final SharedAddresses sharedAddresses = new SharedAddresses();
    /**
     * What loads but is said as a warning, where nginx -t says nothing: error pages that cannot be sent yet (missing,
     * unreadable), a backend chosen by a variable none of whose values names a group.
     */
    private final List<ConfigProblem> warnings = new ArrayList<>();
    /**
     * The server's maps, geos and splits ({@code server.maps}, {@code server.geo}, {@code server.split-clients}), read
     * first: every text may name them.
     */
    private VariableMaps maps = VariableMaps.NONE;
    /**
     * The variables a rewrites' set or a named group (a site's regex's, a location's) gives a value to, whatever a map
     * of the name holds: not known at load.
     */
    private Set<String> assigned = Set.of();

    /**
     * @param problems  where problems go
     * @param base      directory of the configuration file, for relative paths
     * @param runDir    the run directory when {@code run-dir = ""}, chosen by the caller
     * @param runDirMade whether the caller made {@code runDir} for this server (else it is only a name)
     * @param reference the {@code edge} object of reference.conf, for the templates of list elements
     * @param root      whether the server runs as root, so applies a spawn's user and group
     */
    SettingsMapper(Problems problems, Path base, Path runDir, boolean runDirMade, ConfigObject reference,
                   boolean root) {
        this.problems = problems;
        this.base = base;
        this.runDir = runDir;
        this.runDirMade = runDirMade;
        this.reference = reference;
        this.root = root;
    }

    /** The HTTP backend groups, read before the sites whose locations name them ({@link #proxy}). */
    private Map<String, BackendGroupSettings> proxyBackends = Map.of();
    private BackendNames proxyNames = new BackendNames(Set.of(), Set.of(), false);

    EdgeSettings map(Section edge, Path source) {
        Section serverSection = edge.section("server");
        Set<String> declared = RewriteRule.setNames(edge.object());
        Set<String> captured = RewriteRule.captureNames(edge.object());
        captured.removeAll(declared); // a set's as well: said as a set's
        declared.addAll(captured);
        Set<String> assignedNames = new TreeSet<>(declared);
        assignedNames.addAll(RewriteRule.anyCaptureNames(edge.object())); // a location's group of a map's name sets it
        assigned = Set.copyOf(assignedNames);
        maps = VariableMaps.read(serverSection.section("maps"), serverSection.section("geo"),
                serverSection.section("split-clients"), declared, problems,
                SettingsMapper::reservedName).captured(captured);
        ServerSettings server = server(serverSection);
        StaticIoSettings staticIo = staticIo(edge.section("static"));
        Map<String, String> mimeTypes = mimeTypes(edge.section("mime-types"));
        Section fastcgi = edge.section("fastcgi");
        Map<String, BackendGroupSettings> backends = backends(fastcgi, server);
        String runDirProblem = BackendGroupSettings.Spawn.iniPathProblem(server.runDir().toString());
        if (runDirProblem != null && backends.values().stream().anyMatch(b -> b.spawn() != null)) {
            serverSection.problem("run-dir", (serverSection.string("run-dir").isEmpty() ? "\"\" is a temporary directory "
                            + server.runDir() + ", which " : Section.render(ConfigValueFactory.fromAnyRef(
                            server.runDir().toString())) + " ") + runDirProblem + ", and a spawned backend's pool "
                            + "config names it", BackendGroupSettings.Spawn.INI_PATH_EXPECTED);
        }
        if (!backends.isEmpty() && !serverSection.string("run-dir").isEmpty() && Files.isDirectory(server.runDir())) {
            // FastCGI's request and response bodies too large for memory are spooled there: found now, not at the first
            // large upload (a server without backends spools nothing)
            SpoolDirectory.Refusal unsafe = spoolRefusal(server.runDir());
            if (unsafe != null) {
                serverSection.problem("run-dir", server.runDir() + " " + unsafe.what() + ", and bodies too large for "
                        + "memory are spooled there", "a run directory " + unsafe.expected());
            }
        }
        if (!backends.isEmpty() && serverSection.string("run-dir").isEmpty()
                && backends.values().stream().noneMatch(b -> b.spawn() != null)) {
            // no run directory (none made for a spawned php-fpm either): those bodies go to java.io.tmpdir
            tmpdirProblem(serverSection, Path.of(System.getProperty("java.io.tmpdir")));
        }
        Section proxy = edge.section("proxy");
        proxyBackends = proxyBackends(proxy);
        proxyNames = BackendNames.of(proxy, proxyBackends.keySet());
        BackendNames fastcgiNames = BackendNames.of(fastcgi, backends.keySet());
        List<SiteSettings> sites = sites(edge, fastcgiNames, mimeTypes, server.listen(), server.tls());
        unlistened(server, sites);
        spawnUsersReach(backends, fastcgiNames, sites);
        CacheSettings cache = cache(edge.section("cache"));
        // read (and checked) as each location's too: its problems are found once
        Map<String, VariableText> alwaysHeaders = headers(defaults(edge, "location-defaults",
                objectOrEmpty(reference.get("location-defaults"))).section("always-headers"), "always-headers", null);
        return new EdgeSettings(source, server, staticIo, mimeTypes, sites,
                withBodyLimits(backends, sites, server.limits().body()), cache,
                Stream.concat(sharedAddresses.warnings(backends, problems).stream(), warnings.stream()).toList(),
                alwaysHeaders, proxyBackends);
    }

    /**
     * As root, a spawned php-fpm runs PHP as its spawn.user: a root of its locations that user cannot enter
     * (a home directory of 0700, a tree made under root's umask 077) made each of their scripts php-fpm's "Primary
     * script unknown" (404), found at the first request rather than by the check. Asked of the system as that user
     * ({@link SpawnAccess}), so that its groups and ACLs count; where it cannot be asked, nothing is said. A location's
     * front controller is asked for as a file it must read: it may lie in a directory below the root that user cannot
     * enter, or (symlinks = allow) be a link out of the root, and every request no script or file answers runs it.
     */
    private void spawnUsersReach(Map<String, BackendGroupSettings> backends, BackendNames names,
            List<SiteSettings> sites) {
        if (!root || spawnUsers.isEmpty()) {
            return;
        }
        Map<String, Boolean> entered = new HashMap<>(); // backend NUL root: whether its spawn.user may enter it
        Set<String> read = new HashSet<>(); // backend NUL front controller file, asked once
        for (SiteSettings site : sites) {
            for (LocationSettings location : site.everyLocation()) {
                Path dir = location.root() != null ? location.root() : site.root();
                if (location.handler() != LocationSettings.Handler.FASTCGI || location.fastcgiScript() != null
                        || dir == null || !Files.isDirectory(dir)) {
                    continue; // a root that is not there is its own problem, said where it is written
                }
                for (String group : scriptGroups(location, names)) {
                    Section spawnSection = spawnUsers.get(group);
                    if (spawnSection != null) {
                        spawnUserReaches(spawnSection, backends.get(group).spawn(), group, site, location, dir,
                                entered, read);
                    }
                }
            }
        }
    }

    /**
     * The FastCGI groups a location's scripts go to: the one it names, or those the values of its variable name where
     * all are known at load ({@link #possibleValues}); none where a value is not, as any group could be its.
     */
    private Set<String> scriptGroups(LocationSettings location, BackendNames names) {
        if (location.backendChoice() == null) {
            return Set.of(location.fastcgiBackend());
        }
        Set<String> values = possibleValues(location.backendChoice().parts());
        return values == null ? Set.of() : values.stream().filter(names::names).map(names::named)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * Whether {@code spawn}'s user (of {@code group}) enters {@code dir}, the root of {@code location}, and reads its
     * front controller: a problem of {@code spawnSection}'s user where not; each root ({@code entered}) and front
     * controller ({@code read}) asked once per group.
     */
    private void spawnUserReaches(Section spawnSection, BackendGroupSettings.Spawn spawn, String group, SiteSettings site,
            LocationSettings location, Path dir, Map<String, Boolean> entered, Set<String> read) {
        String account = spawn.user() + (spawn.group() == null ? "" : " (group " + spawn.group() + ")");
        String rootKey = group + "\0" + dir;
        if (!entered.containsKey(rootKey)) {
            boolean enters = SpawnAccess.canEnter(spawn.user(), spawn.group(), dir) != Boolean.FALSE;
            entered.put(rootKey, enters);
            if (!enters) {
                spawnSection.problem("user", account + " cannot enter " + dir + ", the root of the location \""
                                + location.match() + "\": php-fpm would answer each of its scripts \"Primary "
                                + "script unknown\" (404)",
                        "a user that can (chmod o+x on it and each directory above it, a group of the user's,"
                                + " or an ACL), or another user");
            }
        }
        Path controller = entered.get(rootKey) ? frontControllerFile(site, location, dir) : null;
        if (controller != null && read.add(group + "\0" + controller)
                && SpawnAccess.canRead(spawn.user(), spawn.group(), controller) == Boolean.FALSE) {
            frontControllerUnread(spawnSection, account, spawn, location, controller);
        }
    }

    /**
     * Says why {@code account} cannot read {@code controller}, the location's front controller: a directory on the way
     * to the file it is (through links) that it cannot enter, so php-fpm does not find the script, or the file itself,
     * which php-fpm finds and cannot open (both measured with php-fpm 8.2).
     */
    private static void frontControllerUnread(Section spawnSection, String account, BackendGroupSettings.Spawn spawn,
            LocationSettings location, Path controller) {
        Path directory;
        try {
            directory = controller.toRealPath().getParent();
        } catch (IOException e) {
            directory = controller.getParent();
        }
        String of = "the front controller " + location.frontController() + " of the location \"" + location.match()
                + "\": php-fpm would answer each request that falls back to it ";
        if (SpawnAccess.canEnter(spawn.user(), spawn.group(), directory) == Boolean.FALSE) {
            spawnSection.problem("user", account + " cannot enter " + directory + ", where lies " + of
                            + "\"Primary script unknown\" (404)",
                    "a user that can (chmod o+x on it and each directory above it, a group of the user's, or an ACL),"
                            + " or another user");
        } else {
            spawnSection.problem("user", account + " cannot read " + controller + ", " + of
                            + "\"Access denied.\" (403)",
                    "a user that can (chmod o+r on it, a group of the user's, or an ACL), or another user");
        }
    }

    /** Whether the links from {@code root} to {@code file}, an existing file under it, are ones the policy takes. */
    private static boolean followsPolicy(PathPolicy policy, Path root, Path file) throws IOException {
        Path real = file.toRealPath();
        Path realRoot = root.toRealPath();
        return policy.symlinksMayLeaveRoot() || (policy.followSymlinks()
                ? real.startsWith(realRoot) : real.equals(realRoot.resolve(root.relativize(file))));
    }

    /**
     * The file a FastCGI location's front controller names under {@code root}, where it is one the site's links policy
     * lets the script lookup run; null where there is none (a front controller a deploy makes later is no problem of
     * the user's), or edge refuses it itself (403).
     */
    private static Path frontControllerFile(SiteSettings site, LocationSettings location, Path root) {
        if (location.frontController() == null) {
            return null;
        }
        String prefix = location.aliasPrefix() != null ? location.aliasPrefix() : "/";
        if (!location.frontController().startsWith(prefix)) {
            return null;
        }
        Path file = root.resolve(location.frontController().substring(prefix.length()));
        try {
            return Files.isRegularFile(file) && followsPolicy(site.pathPolicy(), root, file) ? file : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * {@code backends} with each spawned php-fpm told the largest body edge passes it (its post_max_size and
     * upload_max_filesize, {@link BackendGroupSettings.Spawn#maxBody}): the largest body limit of the locations it
     * serves, a location without its own taking {@code serverLimit}; none of them limited, none (0). A pool no
     * location names takes the server's.
     */
    static Map<String, BackendGroupSettings> withBodyLimits(Map<String, BackendGroupSettings> backends,
            List<SiteSettings> sites, long serverLimit) {
        Map<String, BackendGroupSettings> result = new TreeMap<>(backends);
        backends.forEach((name, group) -> {
            if (group.spawn() == null) {
                return;
            }
            long largest = -1;
            for (SiteSettings site : sites) {
                for (LocationSettings location : site.everyLocation()) {
                    if (location.sendsTo(name)) {
                        largest = Math.max(largest, location.bodyLimit(serverLimit));
                    }
                }
            }
            long limit = largest < 0 ? serverLimit : largest;
            result.put(name, group.withSpawn(group.spawn().withMaxBody(limit == Long.MAX_VALUE ? 0 : limit)));
        });
        return result;
    }

    CacheSettings cache(Section cache) {
        Section content = cache.section("content");
        boolean contentEnabled = content.bool("enabled");
        ContentCacheSettings contentSettings = new ContentCacheSettings(
                content.bytes("max-bytes", 0, Long.MAX_VALUE),
                (int) content.bytes("max-file-size", 0, Integer.MAX_VALUE),
                content.duration("revalidate", true));

        Section responses = cache.section("responses");
        List<String> bypassCookies = new ArrayList<>();
        for (Section.Element element : responses.elements("bypass-cookies")) {
            String name = element.text();
            String fault = ResponseCacheSettings.bypassCookieFault(name);
            if (fault != null) {
                responses.problem("bypass-cookies", element.index(), "\"" + name + "\" " + fault,
                        ResponseCacheSettings.BYPASS_COOKIE);
            } else {
                bypassCookies.add(name);
            }
        }
        Map<Integer, Duration> valid = new TreeMap<>();
        Section validSection = responses.section("valid");
        for (String status : new TreeSet<>(validSection.object().keySet())) { // sorted: problems in one order
            // three digits, as a status is written ("0200" would be a second 200), or "any"
            int code = status.equals("any") ? ResponseCacheSettings.ANY_STATUS
                    : status.matches("[0-9]{3}") ? Integer.parseInt(status) : -1;
            if (code != ResponseCacheSettings.ANY_STATUS && (code < 200 || code > 599 || code == 206 || code == 304)) {
                validSection.problem(status, "\"" + status + "\" is not a status an answer is stored with",
                        "a status from 200 to 599 (not 206 or 304), or any");
                continue;
            }
            valid.put(code, validSection.duration(status, false, LocationSettings.EXPIRES_MAX));
        }
        ResponseCacheSettings responseSettings = new ResponseCacheSettings(
                responses.bytes("max-bytes", 0, Long.MAX_VALUE),
                responses.bytes("max-object-size", 0, Integer.MAX_VALUE),
                responses.bool("store-set-cookie"),
                responses.duration("coalesce-timeout", true),
                responses.duration("hit-for-miss", true),
                responses.duration("stale-grace", true),
                bypassCookies,
                responses.bool("honour-client-no-cache"),
                responses.duration("stale-while-updating", true),
                valid);
        return new CacheSettings(contentEnabled ? contentSettings : null, responseSettings,
                addresses(responses, "purge-allow"), responses.bool("purge-marks-stale"),
                conditions(responses, "bypass"), conditions(responses, "no-cache"));
    }

    /**
     * {@code name} of {@code responses}, nginx's fastcgi_cache_bypass or fastcgi_no_cache: a list of texts with
     * variables (maps, set variables), each that names one edge does not have a problem.
     */
    private List<VariableText> conditions(Section responses, String name) {
        List<VariableText> texts = new ArrayList<>();
        for (Section.Element element : responses.elements(name)) {
            VariableText text = variableText(responses, name, element.text(), name, null);
            if (text != null) {
                texts.add(text);
            }
        }
        return texts;
    }

    /** A list of IP address literals; each one that is not is a problem. */
    private static List<AddressRange> addresses(Section section, String name) {
        List<AddressRange> result = new ArrayList<>();
        for (Section.Element element : section.elements(name)) {
            String address = element.text();
            try {
                result.add(Addresses.range(address));
            } catch (IllegalArgumentException e) {
                section.invalid(name, element.index(), "\"" + address + "\" " + e.getMessage(),
                        "IP addresses or ranges such as \"127.0.0.1\", \"::1\" or \"10.0.0.0/8\"");
            }
        }
        return result;
    }

    ServerSettings server(Section server) {
        List<InetSocketAddress> listen = new ArrayList<>();
        List<String> listenWritten = new ArrayList<>(); // as the user wrote each, for messages
        Map<InetSocketAddress, WrittenAt> listenWrittenAt = new HashMap<>(); // where, for a failure to bind it
        List<Section.Element> addresses = server.elements("listen");
        if (addresses.isEmpty() && server.isEmptyList("listen")) {
            server.problem("listen", "no address", "at least one \"host:port\"");
        }
        Set<InetSocketAddress> tlsListen = new HashSet<>();
        Set<InetSocketAddress> http2Listen = new HashSet<>();
        Map<InetSocketAddress, Integer> quicListen = new HashMap<>();
        List<InetSocketAddress> quicPorts = new ArrayList<>(); // the UDP addresses taken, for a clash
        for (Section.Element element : addresses) {
            // nginx's "listen 443 ssl": the listener ends TLS; "listen 443 ssl http2": and offers HTTP/2 by ALPN;
            // "listen 80 http2" (nginx >= 1.25.1): HTTP/2 in the clear (h2c) to a client that begins with its preface
            Listen marked = Listen.of(element.text());
            boolean ssl = marked.ssl();
            String address = marked.address();
            if (marked.quic() != Listen.NO_QUIC && !ssl) {
                // nginx's "listen 443 quic" has TLS 1.3 of its own; here it rides on the listener's certificates
                server.problem("listen", element.index(), "\"" + element.text() + "\" is marked quic, not ssl",
                        "\"" + address + " ssl quic\": HTTP/3 ends TLS with the certificates of the sites on the"
                                + " listener marked ssl");
            } else if (marked.quic() > 65535) {
                server.problem("listen", element.index(), "\"" + element.text() + "\" names UDP port "
                        + marked.quic(), "\"quic\" (the listener's port) or \"quic=PORT\", a port 1..65535");
            }
            List<InetSocketAddress> resolved;
            try {
                resolved = Addresses.listen(address);
            } catch (IllegalArgumentException e) {
                server.problem("listen", element.index(), "\"" + address + "\" " + e.getMessage(),
                        "\"host:port\", \"[v6]:port\" or \"*:port\"");
                continue;
            }
            int before = listen.size(); // a host name's addresses overlap no earlier entry's; among themselves, never
            for (InetSocketAddress parsed : resolved) {
                for (int i = 0; i < before && parsed != null; i++) {
                    InetSocketAddress earlier = listen.get(i);
                    if (overlaps(earlier, parsed)) {
                        server.problem("listen", element.index(), "\"" + address + "\" "
                                        + (earlier.equals(parsed) ? "is listed twice"
                                        : "overlaps \"" + listenWritten.get(i) + "\""),
                                "each address and port once (a wildcard address takes its port on every address, IPv4"
                                        + " and IPv6 alike: nginx's pair \"listen 80; listen [::]:80;\" is \"*:80\" alone)");
                        parsed = null;
                    }
                }
                if (parsed == null) {
                    break; // said once for the entry
                }
                listen.add(parsed);
                listenWritten.add(address);
                listenWrittenAt.put(parsed, server.writtenAt("listen", element.index()));
                if (ssl) {
                    tlsListen.add(parsed);
                }
                if (marked.http2()) {
                    http2Listen.add(parsed);
                }
                if (ssl && marked.quic() != Listen.NO_QUIC && marked.quic() <= 65535) {
                    InetSocketAddress udp = new InetSocketAddress(parsed.getAddress(),
                            marked.quic() == 0 ? parsed.getPort() : marked.quic());
                    InetSocketAddress clash = quicPorts.stream().filter(taken -> overlaps(taken, udp)).findFirst()
                            .orElse(null);
                    if (clash != null) {
                        server.problem("listen", element.index(), "\"" + element.text() + "\" listens for QUIC on UDP "
                                + ServerSettings.written(udp) + ", as an earlier listener marked quic does ("
                                + ServerSettings.written(clash) + ")", "each UDP address and port once: \"quic=PORT\""
                                + " moves one to a port of its own");
                    } else {
                        quicPorts.add(udp);
                        quicListen.put(parsed, marked.quic());
                    }
                }
            }
        }
        int ioThreads = server.integer("io-threads", 0, 1024);
        int maxConnections = server.integer("max-connections", 1, Integer.MAX_VALUE);
        int tcpNotsentLowat = (int) server.bytes("tcp-notsent-lowat", 0, Integer.MAX_VALUE);

        Section limits = server.section("limits");
        ServerSettings.HttpLimits httpLimits = new ServerSettings.HttpLimits(
                (int) limits.bytes("request-line", 64, Integer.MAX_VALUE),
                (int) limits.bytes("header-block", 256, Integer.MAX_VALUE),
                limits.integer("header-count", 1, Integer.MAX_VALUE),
                bodyLimit(limits, "body"),
                limits.integer("keep-alive-requests", 0, Integer.MAX_VALUE));

        Section timeouts = server.section("timeouts");
        ServerSettings.HttpTimeouts httpTimeouts = new ServerSettings.HttpTimeouts(
                timeouts.duration("request-head", false),
                timeouts.duration("body", false),
                timeouts.duration("keep-alive", true),
                timeouts.duration("write", false),
                timeouts.duration("drain", true, MAX_DRAIN),
                timeouts.duration("lingering", true),
                timeouts.duration("lingering-time", false));

        String accessLogText = server.string("access-log");
        Path accessLog = null;
        boolean accessLogEnabled = !accessLogText.equals("off");
        if (accessLogEnabled && !accessLogText.equals("-")) {
            accessLog = server.toPath("access-log", accessLogText, base);
            String expected = "\"-\", \"off\" or a writable file in an existing directory";
            if (accessLog == null) {
                // already reported
            } else if (Files.isDirectory(accessLog)) {
                server.problem("access-log", accessLog + " is a directory", expected);
            } else if (Files.exists(accessLog, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(accessLog)
                    && !isCharacterDevice(accessLog)) {
                // a FIFO held the start (its open waits for a reader); a dangling link or a loop cannot be opened
                server.problem("access-log", accessLog + " is not a regular file" + (Files.exists(accessLog) ? ""
                        : " (a link to nothing)"), expected + " (or a character device such as /dev/null)");
            } else if (Files.exists(accessLog) && !Files.isWritable(accessLog)) {
                server.problem("access-log", accessLog + " is not writable", expected);
            } else if (!Files.isDirectory(accessLog.getParent())) {
                server.problem("access-log", whyNoDirectory(accessLog.getParent()), expected);
            } else if (!Files.exists(accessLog) && !Files.isWritable(accessLog.getParent())) {
                server.problem("access-log", "directory " + accessLog.getParent() + " is not writable", expected);
            } else if (!isCharacterDevice(accessLog)) {
                String refused = appendRefused(accessLog);
                if (refused != null) {
                    server.problem("access-log", "cannot open " + accessLog + " for appending (" + refused + ")",
                            expected);
                }
            }
        }

        Path pidFile = pidFile(server, base);

        String runDirText = server.string("run-dir");
        Path run = runDirText.isEmpty() ? runDir : server.toPath("run-dir", runDirText, base);
        if (!runDirText.isEmpty() && run != null) {
            String expected = "\"\" (a temporary directory) or a writable directory, or one edge can create";
            if (Files.exists(run, LinkOption.NOFOLLOW_LINKS) && !Files.exists(run)) {
                // passed, and the start could make no directory there: spooled to /tmp, with a Java class name said
                server.problem("run-dir", run + " is a link to nothing (or a loop of links)", expected);
            } else if (Files.exists(run) && !Files.isDirectory(run)) {
                server.problem("run-dir", run + " is not a directory", expected);
            } else if (Files.isDirectory(run) && !Files.isWritable(run)) {
                server.problem("run-dir", run + " is not writable", expected);
            } else if (Files.isDirectory(run)) {
                String refused = directoryRefused(run);
                if (refused != null) {
                    server.problem("run-dir", run + " is not writable: a directory cannot be made in it ("
                            + refused + ")", expected);
                }
            } else {
                // edge creates it and its missing parents: the nearest one that exists must let it
                Path existing = run.getParent();
                while (existing != null && !Files.exists(existing)) {
                    existing = existing.getParent();
                }
                if (existing == null || !Files.isDirectory(existing)) {
                    server.problem("run-dir", (existing == null ? run : existing) + " is not a directory", expected);
                } else if (!Files.isWritable(existing)) {
                    server.problem("run-dir", "directory " + existing + " is not writable", expected);
                } else {
                    String refused = directoryRefused(existing);
                    if (refused != null) {
                        server.problem("run-dir", run + " cannot be created: a directory cannot be made in " + existing
                                + " (" + refused + ")", expected);
                    }
                }
            }
        }
        return new ServerSettings(listen, ioThreads, maxConnections, httpLimits, httpTimeouts, accessLog,
                run == null ? runDir : run, accessLogEnabled, runDirText.isEmpty() && runDirMade, listenWrittenAt,
                tcpNotsentLowat, realIp(server.section("real-ip")), pidFile, logFormat(server),
                tls(server.section("tls"), tlsListen, http2(server.section("http2"), http2Listen),
                        http3(server.section("http3"), quicListen), base),
                clientBodyTempPath(server, base), imageWorkers(server.section("image-filter")),
                server.bool("server-tokens", "on or off"));
    }

    /** server.image-filter: the threads that make the images of locations' image-filter. */
    private static ServerSettings.ImageWorkers imageWorkers(Section section) {
        return new ServerSettings.ImageWorkers(section.integer("workers", 0, 4096),
                section.integer("queue", 0, 1_000_000), section.number("max-pixels", 1, Long.MAX_VALUE),
                section.duration("timeout", false, ServerSettings.ImageWorkers.MAX_TIMEOUT));
    }

    /**
     * server.client-body-temp-path, nginx's client_body_temp_path: an existing directory edge can make files in, and
     * others cannot (as a run-dir that holds spool files: {@link SpoolDirectory}), or one edge can make (0700) in an
     * existing directory, as nginx makes its temp paths' last directory at start (and at {@code nginx -t}); found now
     * rather than at the first large upload (a 500); {@code null} for "" (edge's default place) or a problem.
     */
    private static Path clientBodyTempPath(Section server, Path base) {
        String key = "client-body-temp-path";
        String text = server.string(key);
        Path dir = text.isEmpty() ? null : server.toPath(key, text, base);
        if (dir == null) {
            return null;
        }
        String expected = "\"\" (the run-dir, else java.io.tmpdir) or a directory edge can write in, or make in an "
                + "existing one";
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            // made by the start (or the reload) that takes it, its last name only, as nginx's mkdir()
            Path parent = dir.getParent();
            String refused;
            if (parent == null || !Files.isDirectory(parent)) {
                refused = "does not exist, nor does " + parent;
            } else if (!Files.isWritable(parent)) {
                refused = "does not exist, and " + parent + " is not writable";
            } else {
                String made = directoryRefused(parent);
                refused = made == null ? null : "does not exist, and cannot be made in " + parent + " (" + made + ")";
            }
            if (refused != null) {
                server.problem(key, dir + " " + refused, expected);
                return null;
            }
            return dir;
        }
        String fault = !Files.isDirectory(dir) ? (Files.exists(dir) ? "is not a directory"
                : "is a link to nothing (or a loop of links)") : !Files.isWritable(dir) ? "is not writable" : null;
        if (fault == null) {
            String refused = fileRefused(dir, ".edge-probe-");
            fault = refused == null ? null : "is not writable: a file cannot be made in it (" + refused + ")";
        }
        SpoolDirectory.Refusal unsafe = fault == null ? spoolRefusal(dir) : null;
        if (unsafe != null) {
            server.problem(key, dir + " " + unsafe.what() + ", and request bodies are spooled there",
                    "a directory " + unsafe.expected());
            return null;
        }
        if (fault != null) {
            server.problem(key, dir + " " + fault, expected);
            return null;
        }
        return dir;
    }

    /** nginx's names of the TLS versions, as server.tls.protocols takes them, to the JDK's and Netty's. */
    private static final List<String> TLS_PROTOCOLS = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
    /** A listen entry and its marks, nginx's parameters of listen: "127.0.0.1:8443 ssl", "*:443 ssl http2". */
    private static final Pattern MARKED_LISTEN = Pattern.compile("(.*?)((?:\\s+(?:ssl|http2|quic(?:=\\d{1,9})?))*)");

    /**
     * A listen entry as written: its address, and whether it is marked ssl (the listener ends TLS), http2 (ALPN
     * offers h2 there too; without ssl, h2c to a client that begins with HTTP/2's preface) and quic (HTTP/3 on a UDP
     * port too: {@code quic} the listener's own port number, as nginx's {@code listen 443 quic} beside {@code listen
     * 443 ssl}, {@code quic=PORT} another), in any order, as nginx takes listen's parameters.
     *
     * @param quic the UDP port of {@code quic=PORT}, 0 for a bare {@code quic}, {@link #NO_QUIC} for none
     */
    private record Listen(String address, boolean ssl, boolean http2, int quic) {

        static final int NO_QUIC = -1;

        static Listen of(String written) {
            Matcher marked = MARKED_LISTEN.matcher(written);
            if (!marked.matches()) { // never: the pattern takes any text, its marks perhaps none
                return new Listen(written, false, false, NO_QUIC);
            }
            List<String> marks = List.of(marked.group(2).strip().split("\\s+"));
            int quic = NO_QUIC;
            for (String mark : marks) {
                if (mark.equals("quic")) {
                    quic = 0;
                } else if (mark.startsWith("quic=")) {
                    quic = Integer.parseInt(mark.substring("quic=".length())); // at most 9 digits
                }
            }
            return new Listen(marked.group(1).strip(), marks.contains("ssl"), marks.contains("http2"), quic);
        }
    }

    /** The TLS versions {@code tls.protocols} names (server.tls's, a proxy group's), each once. */
    private static List<String> tlsProtocols(Section tls) {
        List<String> protocols = new ArrayList<>();
        for (Section.Element element : tls.elements("protocols")) {
            if (!TLS_PROTOCOLS.contains(element.text())) {
                tls.invalid("protocols", element.index(), "\"" + element.text() + "\" is not a TLS version",
                        "some of \"TLSv1.2\", \"TLSv1.3\" (\"TLSv1\" and \"TLSv1.1\" for very old peers)");
            } else if (!protocols.contains(element.text())) {
                protocols.add(element.text());
            }
        }
        if (protocols.isEmpty() && !tls.isInvalid("protocols")) {
            tls.problem("protocols", "no TLS version", "at least one of \"TLSv1.2\", \"TLSv1.3\"");
        }
        return protocols;
    }

    /** server.http2: how the listeners of {@code http2Listen} speak HTTP/2. */
    private static ServerSettings.Http2 http2(Section http2, Set<InetSocketAddress> http2Listen) {
        return new ServerSettings.Http2(http2Listen, http2.integer("max-concurrent-streams", 1, Integer.MAX_VALUE));
    }

    /** server.http3: how the listeners of {@code quicListen} (each with its UDP port, 0: its own) speak HTTP/3. */
    private static ServerSettings.Http3 http3(Section http3, Map<InetSocketAddress, Integer> quicListen) {
        return new ServerSettings.Http3(quicListen, http3.integer("max-concurrent-streams", 1, Integer.MAX_VALUE),
                http3.bool("alt-svc", "on or off"), http3.duration("alt-svc-max-age", true));
    }

    /**
     * server.tls: how the listeners of {@code tlsListen} end TLS, those of {@code http2} offering h2 by ALPN ({@code
     * http2}'s plain listeners too, which speak h2c), those of {@code http3} HTTP/3 over QUIC too.
     */
    private static ServerSettings.Tls tls(Section tls, Set<InetSocketAddress> tlsListen, ServerSettings.Http2 http2,
            ServerSettings.Http3 http3, Path base) {
        List<String> protocols = tlsProtocols(tls);
        List<String> ciphers = ciphers(tls);
        return new ServerSettings.Tls(tlsListen, protocols, ciphers, tls.duration("session-timeout", false),
                tls.integer("session-cache", 0, Integer.MAX_VALUE), http2, ecdhCurves(tls), tls.bool("session-tickets",
                "on or off"), sessionTicketKeys(tls, base), tls.bool("prefer-server-ciphers", "on or off"),
                dhparam(tls, base), http3);
    }

    /**
     * server.tls.dhparam, nginx's ssl_dhparam: null where "", else the file, which must be readable and hold PEM DH
     * parameters (openssl dhparam's), as nginx refuses another; its parameters are not read further (no suite of
     * BoringSSL's uses them).
     */
    private static Path dhparam(Section tls, Path base) {
        Path file = optionalFile(tls, "dhparam", base);
        if (file == null) {
            return null;
        }
        String expected = "a PEM file of DH parameters (openssl dhparam -out dhparam.pem 2048), or \"\"";
        try {
            String text = Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (!text.contains("-----BEGIN DH PARAMETERS-----")
                    && !text.contains("-----BEGIN X9.42 DH PARAMETERS-----")) {
                tls.invalid("dhparam", file + " holds no DH PARAMETERS", expected);
            }
        } catch (IOException e) {
            tls.invalid("dhparam", file + " cannot be read: " + reason(e), expected);
        }
        return file;
    }

    /**
     * server.tls.session-ticket-keys, nginx's ssl_session_ticket_key: each file read whole now, 48 bytes in nginx's
     * layout (a name, an AES-128 key, an HMAC-SHA256 key, 16 bytes each). An 80-byte one (nginx's AES-256 keys) is a
     * problem: the provider's ticket callback (netty-tcnative's) encrypts with AES-128 alone.
     */
    private static List<byte[]> sessionTicketKeys(Section tls, Path base) {
        List<byte[]> keys = new ArrayList<>();
        String expected = "a file of 48 random bytes, as nginx's ssl_session_ticket_key takes (openssl rand 48 > file)";
        for (Section.Element element : tls.elements("session-ticket-keys")) {
            Path file = tls.toPath("session-ticket-keys", element.text(), base);
            if (file == null) {
                continue;
            }
            byte[] key;
            try {
                key = Files.readAllBytes(file);
            } catch (IOException e) {
                tls.invalid("session-ticket-keys", element.index(), file + " cannot be read: " + reason(e), expected);
                continue;
            }
            if (key.length == 80) {
                tls.invalid("session-ticket-keys", element.index(), file + " is 80 bytes, nginx's AES-256 ticket keys,"
                        + " which BoringSSL's ticket callback in netty-tcnative does not take (AES-128 alone)", expected);
            } else if (key.length != 48) {
                tls.invalid("session-ticket-keys", element.index(), file + " is " + key.length + " bytes", expected);
            } else {
                keys.add(key);
            }
        }
        return keys;
    }

    /**
     * The groups of TLS key exchange by their names as OpenSSL (nginx's) or BoringSSL take them in ssl_ecdh_curve, in
     * lower case, each to the name BoringSSL and Netty give it: NIST's curves under their three names, X25519 and X448,
     * the finite-field groups of RFC 7919, the brainpool curves of RFC 8734 and the post-quantum hybrids.
     */
    private static final Map<String, String> GROUPS = groups();

    private static Map<String, String> groups() {
        Map<String, String> groups = new LinkedHashMap<>();
        for (String[] names : new String[][] {{"P-224", "secp224r1"}, {"P-256", "prime256v1", "secp256r1"},
                {"P-384", "secp384r1"}, {"P-521", "secp521r1"}, {"X25519"}, {"X448"}, {"ffdhe2048"}, {"ffdhe3072"},
                {"ffdhe4096"}, {"ffdhe6144"}, {"ffdhe8192"}, {"brainpoolP256r1"}, {"brainpoolP384r1"},
                {"brainpoolP512r1"}, {"brainpoolP256r1tls13"}, {"brainpoolP384r1tls13"}, {"brainpoolP512r1tls13"},
                {"secp256k1"}, {"X25519MLKEM768"}, {"X25519Kyber768Draft00"}, {"MLKEM768"}, {"MLKEM1024"},
                {"SecP256r1MLKEM768"}, {"SecP384r1MLKEM1024"}}) {
            for (String name : names) {
                groups.put(name.toLowerCase(Locale.ROOT), names[0]);
            }
        }
        return Map.copyOf(groups);
    }

    /**
     * server.tls.ecdh-curve, nginx's ssl_ecdh_curve: "auto" (empty: the provider's own list), or a list of groups
     * separated by colons, each once, by the names of {@link #GROUPS}; another name is a problem, as OpenSSL's
     * SSL_CTX_set1_curves_list refuses it in nginx.
     */
    private static List<String> ecdhCurves(Section tls) {
        String written = tls.string("ecdh-curve");
        List<String> groups = new ArrayList<>();
        if (written.equals("auto")) {
            return groups;
        }
        List<String> unknown = new ArrayList<>();
        for (String name : written.split(":", -1)) {
            String group = GROUPS.get(name.strip().toLowerCase(Locale.ROOT));
            if (group == null) {
                unknown.add(name);
            } else if (!groups.contains(group)) {
                groups.add(group);
            }
        }
        if (!unknown.isEmpty()) {
            tls.invalid("ecdh-curve", "\"" + written + "\"" + (unknown.size() == 1 && unknown.get(0).equals(written)
                    ? " is not" : " holds " + quotedList(unknown) + ", not") + " a curve or group OpenSSL or BoringSSL"
                    + " names", "\"auto\", or curves separated by colons such as \"X25519:prime256v1:secp384r1\"");
        }
        return groups;
    }

    /**
     * server.tls.ciphers, each entry a suite or nginx's ssl_ciphers line of them ("ECDHE-RSA-AES128-GCM-SHA256:..."),
     * by OpenSSL's names or IANA's, or OpenSSL's cipher string ("HIGH:!aNULL:!MD5"), expanded on its own as OpenSSL
     * does over edge's suites ({@link CipherStrings}): IANA's names, in order, once each. A string matching none of
     * edge's suites is a problem, as OpenSSL's "no cipher match" fails nginx's start; so are TLSv1.3's suites named
     * in a line of names: TLSv1.3's are the provider's.
     */
    private static List<String> ciphers(Section tls) {
        List<String> ciphers = new ArrayList<>();
        List<Section.Element> elements = tls.elements("ciphers");
        if (elements.isEmpty()) {
            return ciphers;
        }
        Set<String> known;
        try {
            known = Set.of(javax.net.ssl.SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Section.Element element : elements) {
            List<String> patterns = new ArrayList<>();
            List<String> unknown = new ArrayList<>();
            List<String> tls13 = new ArrayList<>();
            List<String> named = new ArrayList<>();
            for (String name : element.text().split("[:, ]+")) {
                if (name.isEmpty()) {
                    continue;
                }
                String iana = known.contains(name) ? name : CipherSuiteConverter.toJava(name, "TLS");
                if (iana != null && known.contains(iana)) {
                    (TLS13_SUITE.matcher(iana).matches() ? tls13 : named).add(iana);
                } else if (CIPHER_PATTERN.matcher(name).matches()) {
                    patterns.add(name);
                } else {
                    unknown.add(name);
                }
            }
            String quoted = "\"" + element.text() + "\"";
            if (!patterns.isEmpty()) {
                try {
                    List<String> expanded = CipherStrings.expand(element.text());
                    if (expanded.isEmpty()) {
                        tls.invalid("ciphers", element.index(), quoted + " matches no suite of TLSv1.2 and below that"
                                + " edge has", "OpenSSL's cipher string matching one of " + quotedList(
                                CipherStrings.SUITES.stream().map(CipherStrings.Suite::name).toList()));
                    }
                    expanded.stream().filter(name -> !ciphers.contains(name)).forEach(ciphers::add);
                } catch (IllegalArgumentException e) {
                    tls.invalid("ciphers", element.index(), quoted + ": " + e.getMessage(), "OpenSSL's cipher"
                            + " string, such as \"HIGH:!aNULL:!MD5\" or \"ECDHE+AESGCM:ECDHE+CHACHA20\"");
                }
            } else if (!unknown.isEmpty()) {
                tls.invalid("ciphers", element.index(), (unknown.size() == 1 && named.isEmpty() && tls13.isEmpty()
                        ? quoted + " is not" : quoted + " holds " + quotedList(unknown) + ", not")
                        + " a cipher suite this JVM knows", "OpenSSL's names such as \"ECDHE-RSA-AES128-GCM-SHA256\""
                        + " or IANA's such as \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"");
            } else if (!tls13.isEmpty()) {
                tls.invalid("ciphers", element.index(), (named.isEmpty() && tls13.size() == 1 ? quoted + " is a"
                        : quoted + " holds " + quotedList(tls13) + ", a") + " TLSv1.3 suite: TLSv1.3's are the"
                        + " provider's, as nginx's ssl_ciphers leaves them", "suites of TLSv1.2 and below");
            } else {
                named.stream().filter(name -> !ciphers.contains(name)).forEach(ciphers::add);
            }
        }
        return ciphers;
    }

    /** TLSv1.3's suites by IANA's names, which OpenSSL's names the same. */
    private static final Pattern TLS13_SUITE = Pattern.compile("TLS_(AES|CHACHA20)_[A-Z0-9_]+");
    /**
     * A term of OpenSSL's cipher strings that names no suite: "HIGH", "!aNULL", "EECDH+AESGCM", "@STRENGTH", or a
     * character no term holds ("HIGH*"), which OpenSSL refuses.
     */
    private static final Pattern CIPHER_PATTERN = Pattern.compile(
            "[!+\\-@].*|.*\\+.*|[A-Za-z0-9=.]+|.*[^A-Za-z0-9=._-].*");

    private static String quotedList(List<String> names) {
        return names.stream().map(name -> "\"" + name + "\"").collect(java.util.stream.Collectors.joining(", "));
    }

    /**
     * A tls section's certificate chain and key (a site's, nginx's ssl_certificate; a proxy group's, presented to the
     * backends, proxy_ssl_certificate), read now, or null where it names none. One without the other, and each file
     * that cannot be read, holds no certificate or key, or a key that is not the certificate's, is a problem of its
     * key.
     *
     * @param owner     the object that holds {@code tls} (a site, a proxy group), where a key left out is reported
     * @param directive nginx's directive of the certificate, for the messages: "ssl" or "proxy_ssl"
     */
    private static TlsCertificate certificateAndKey(Section owner, Section tls, Path base, String directive) {
        return certificateAndKey(owner, tls, tls, base, directive);
    }

    /**
     * As {@link #certificateAndKey(Section, Section, Path, String)}, the key's passphrases read from the password-file
     * of {@code passwords} (an entry of a site's tls.certificates that names none takes the site's).
     */
    private static TlsCertificate certificateAndKey(Section owner, Section tls, Section passwords, Path base,
            String directive) {
        String certificateText = tls.optionalString("certificate");
        String keyText = tls.optionalString("key");
        boolean certificateSet = certificateText != null && !certificateText.isEmpty();
        boolean keySet = keyText != null && !keyText.isEmpty();
        if (!certificateSet && !keySet) {
            return null;
        }
        if (!certificateSet || !keySet) {
            tls.problemAt(owner, certificateSet ? "key" : "certificate", "not set, and tls." + (certificateSet
                    ? "certificate" : "key") + " is", "both a certificate (chain) file and its key file, as nginx's "
                    + directive + "_certificate and " + directive + "_certificate_key");
            return null;
        }
        Path certificateFile = tls.toPath("certificate", certificateText, base);
        Path keyFile = tls.toPath("key", keyText, base);
        if (certificateFile == null || keyFile == null) {
            return null;
        }
        List<java.security.cert.X509Certificate> chain = null;
        try {
            chain = PemFiles.certificates(certificateFile);
        } catch (IllegalArgumentException e) {
            tls.invalid("certificate", e.getMessage(), "a PEM file of the certificate, then its intermediates"
                    + " (certbot's fullchain.pem)");
        }
        Path passwordFile = optionalFile(passwords, "password-file", base);
        List<String> passphrases = List.of();
        if (passwordFile != null) {
            try {
                passphrases = PemFiles.passphrases(passwordFile);
            } catch (IllegalArgumentException e) {
                passwords.invalid("password-file", e.getMessage(), "a file of the key's passphrase, or of several, one a"
                        + " line (nginx's " + directive + "_password_file)");
                return null;
            }
        }
        java.security.PrivateKey key = null;
        try {
            key = PemFiles.privateKey(keyFile, passwordFile, passphrases, directive);
        } catch (IllegalArgumentException e) {
            tls.invalid("key", e.getMessage(), "a PEM file of the certificate's private key (certbot's privkey.pem)"
                    + (passwordFile == null ? "" : ", encrypted with a passphrase of tls.password-file or not"));
        }
        if (chain == null || key == null) {
            return null;
        }
        String mismatch = PemFiles.mismatch(key, chain.get(0));
        if (mismatch != null) {
            tls.invalid("key", keyFile + " " + mismatch + " (" + certificateFile + ": "
                    + chain.get(0).getSubjectX500Principal().getName() + ")",
                    "the private key of the first certificate of tls.certificate");
            return null;
        }
        return new TlsCertificate(certificateFile, keyFile, chain, key);
    }

    /** nginx's values of ssl_verify_client, as a site's tls.verify-client takes them. */
    private static final Map<String, TlsClientVerify.Mode> VERIFY_CLIENT = verifyClientModes();

    private static Map<String, TlsClientVerify.Mode> verifyClientModes() {
        Map<String, TlsClientVerify.Mode> modes = new LinkedHashMap<>();
        modes.put("off", TlsClientVerify.Mode.OFF);
        modes.put("on", TlsClientVerify.Mode.ON);
        modes.put("optional", TlsClientVerify.Mode.OPTIONAL);
        modes.put("optional_no_ca", TlsClientVerify.Mode.OPTIONAL_NO_CA);
        return modes;
    }

    /**
     * A site's tls.verify-client and the files that go with it, read now: nginx's ssl_verify_client,
     * ssl_client_certificate, ssl_trusted_certificate, ssl_verify_depth and ssl_crl. As nginx refuses to start, asking
     * for certificates without a client-certificate file (but for optional_no_ca, which may judge none) is a problem,
     * and so is each file that cannot be read or holds no certificate (no CRL).
     */
    private static TlsClientVerify clientVerify(Section site, Section tls, Path base,
            List<java.security.cert.X509Certificate> trusted) {
        ConfigValue written = tls.value("verify-client");
        TlsClientVerify.Mode mode = written != null && written.valueType() == ConfigValueType.BOOLEAN
                ? (Boolean) written.unwrapped() ? TlsClientVerify.Mode.ON : TlsClientVerify.Mode.OFF // true, false
                : tls.choice("verify-client", VERIFY_CLIENT);
        int depth = tls.integer("verify-depth", 0, 100);
        List<java.security.cert.X509Certificate> named = caFile(tls, "client-certificate", base);
        List<io.edge.fastcgi.tls.RevocationList> revocations = crlFile(tls, base);
        TlsClientVerify.Ocsp ocsp = ocsp(tls, mode);
        if (mode == TlsClientVerify.Mode.OFF) {
            return TlsClientVerify.OFF;
        }
        if (mode != TlsClientVerify.Mode.OPTIONAL_NO_CA && named == null && !tls.isInvalid("client-certificate")) {
            // nginx 1.22: no ssl_client_certificate for ssl_verify_client (ssl_trusted_certificate alone is not taken)
            tls.problemAt(site, "client-certificate", "not set, and tls.verify-client is "
                    + mode.name().toLowerCase(Locale.ROOT),
                    "a PEM file of the CAs that sign the clients' certificates (nginx's ssl_client_certificate), or"
                    + " verify-client = optional_no_ca where the application judges them");
        }
        return new TlsClientVerify(mode, named == null ? List.of() : named, trusted == null ? List.of() : trusted,
                depth, revocations, ocsp);
    }

    /** The CRLs of the file tls.crl names (none where it names none, or one that failed). */
    private static List<io.edge.fastcgi.tls.RevocationList> crlFile(Section tls, Path base) {
        Path file = optionalFile(tls, "crl", base);
        if (file == null) {
            return List.of();
        }
        try {
            return PemFiles.revocationLists(file);
        } catch (IllegalArgumentException e) {
            tls.invalid("crl", e.getMessage(), "a PEM file of CRLs (openssl ca -gencrl's), one of each CA of the"
                    + " chains it checks");
            return List.of();
        }
    }

    /**
     * A site's OCSP stapling, nginx's ssl_stapling and the directives that go with it: the stapling-file read now (a
     * DER OCSP response, stapled as it is). Stapling in a site without a certificate, a file that cannot be read or
     * holds no DER response, and a responder that is not an http:// URL (nginx takes no other) are problems.
     *
     * @param certified whether the site has a certificate (or one whose problem is already said)
     */
    private static TlsStapling stapling(Section tls, Path base, List<java.security.cert.X509Certificate> trusted,
            boolean certified) {
        boolean enabled = tls.bool("stapling");
        boolean verify = tls.bool("stapling-verify");
        Path file = optionalFile(tls, "stapling-file", base);
        byte[] response = staplingFile(tls, file);
        java.net.URI responder = responder(tls, "stapling-responder", "ssl_stapling_responder");
        if (enabled && !certified) {
            tls.problem("stapling", "true in a site without a certificate", "tls { certificate, key } beside it, as"
                    + " stapling sends the certificate's OCSP status in its handshakes, or stapling = false");
        }
        return enabled ? new TlsStapling(true, file, response, responder, verify, trusted == null ? List.of()
                : trusted) : TlsStapling.OFF;
    }

    /**
     * The DER OCSP response of {@code file}, {@code section}'s stapling-file (null for none); one that cannot be read or
     * is no DER response is a problem, and null.
     */
    private static byte[] staplingFile(Section section, Path file) {
        if (file == null) {
            return null;
        }
        String fault;
        byte[] response = null;
        try {
            response = java.nio.file.Files.readAllBytes(file);
            fault = response.length < 2 || response[0] != 0x30 ? file + " holds no DER OCSP response" : null;
        } catch (java.io.IOException e) {
            fault = file + " cannot be read (" + reason(e) + ")";
        }
        if (fault != null) {
            section.invalid("stapling-file", fault, "a DER OCSP response of the certificate (openssl ocsp -respout's),"
                    + " as nginx's ssl_stapling_file");
            return null;
        }
        return response;
    }

    /** The keys an entry of a site's tls.certificates may write. */
    private static final Set<String> CERTIFICATE_ENTRY_KEYS = Set.of("certificate", "key", "password-file",
            "stapling-file");
    private static final String CERTIFICATES_EXPECTED = "a list of { certificate, key }, one of each key type (RSA,"
            + " ECDSA, Ed25519), as nginx's ssl_certificate and ssl_certificate_key written once for each:"
            + " certificates = [{ certificate = \"rsa/fullchain.pem\", key = \"rsa/privkey.pem\" },"
            + " { certificate = \"ecdsa/fullchain.pem\", key = \"ecdsa/privkey.pem\" }]";

    /**
     * A site's certificates, read now, each stapled as its tls section says: tls.certificate and tls.key (nginx's
     * ssl_certificate once), or the entries of tls.certificates (nginx's ssl_certificate once a key type, ECDSA beside
     * RSA), in order. The form the site writes itself wins over the other one inherited from site-defaults; both
     * written in one place, an empty list, an entry without a certificate, two of one key type (nginx's OpenSSL keeps
     * the last of them alone), and tls.stapling-file beside more than one (each staples its own: stapling-file in its
     * entry) are problems, as are each entry's as a single certificate's.
     */
    private List<TlsCertificate> siteCertificates(Section site, Section tls, Path base,
            List<java.security.cert.X509Certificate> trusted) {
        boolean listed = tls.isSet("certificates");
        boolean single = !isEmpty(tls.optionalString("certificate")) || !isEmpty(tls.optionalString("key"));
        if (listed && single) {
            ConfigObject own = tls.own();
            boolean ownList = own.containsKey("certificates");
            boolean ownSingle = own.containsKey("certificate") || own.containsKey("key");
            if (ownList == ownSingle) {
                tls.problem("certificates", "set beside tls.certificate and tls.key", "either certificate and key"
                        + " (one certificate), or certificates alone: " + CERTIFICATES_EXPECTED);
                return List.of();
            }
            listed = ownList;
        }
        if (!listed) {
            TlsCertificate certificate = certificateAndKey(site, tls, base, "ssl");
            TlsStapling stapling = stapling(tls, base, trusted, certificate != null || tls.isInvalid("certificate")
                    || tls.isInvalid("key") || tls.isInvalid("password-file"));
            return certificate == null ? List.of() : List.of(certificate.withStapling(stapling));
        }
        ConfigValue value = tls.value("certificates");
        if (!(value instanceof ConfigList list) || list.isEmpty()) {
            tls.invalid("certificates", value instanceof ConfigList ? "[] holds no certificate"
                    : Section.render(value) + " is not a list", CERTIFICATES_EXPECTED);
            stapling(tls, base, trusted, true);
            return List.of();
        }
        Section none = new Section(ConfigValueFactory.fromMap(Map.of()), "", tls.anchor(), problems);
        List<Section> entries = tls.sections("certificates", none);
        TlsStapling stapling = stapling(tls, base, trusted, true);
        if (stapling.file() != null && list.size() > 1) {
            tls.problem("stapling-file", "one response for the " + list.size() + " certificates of tls.certificates",
                    "stapling-file in each entry of certificates, each certificate's own response");
        }
        List<TlsCertificate> certificates = new ArrayList<>();
        Map<String, Integer> keyTypes = new HashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            Section entry = entries.get(i);
            boolean unknown = false;
            for (String key : new TreeSet<>(entry.own().keySet())) {
                if (!CERTIFICATE_ENTRY_KEYS.contains(key)) {
                    entry.problem(key, "is no key of a certificates entry"
                            + UnknownKeys.suggestion(key, CERTIFICATE_ENTRY_KEYS), CERTIFICATES_EXPECTED);
                    unknown = true;
                }
            }
            if (!entry.isSet("certificate") && !entry.isSet("key")) {
                entry.problemAt(entry, "certificate", "not set", CERTIFICATES_EXPECTED);
                continue;
            }
            TlsCertificate certificate = certificateAndKey(entry, entry, entry.isSet("password-file") ? entry : tls,
                    base, "ssl");
            Path file = optionalFile(entry, "stapling-file", base);
            byte[] response = staplingFile(entry, file);
            if (certificate == null || unknown) {
                continue;
            }
            String keyType = keyType(certificate.key());
            Integer first = keyTypes.putIfAbsent(keyType, i);
            if (first != null) {
                tls.problem("certificates", i, "a second " + keyType + " certificate (certificates[" + first
                        + "] is one): OpenSSL keeps one of each key type, nginx's the last", CERTIFICATES_EXPECTED);
                continue;
            }
            certificates.add(certificate.withStapling(file == null ? stapling : !stapling.enabled() ? TlsStapling.OFF
                    : new TlsStapling(true, file, response, stapling.responder(), stapling.verify(),
                            stapling.trusted())));
        }
        return certificates;
    }

    /** The key type a certificate's key is of, as OpenSSL keeps one certificate of each: RSA, ECDSA, Ed25519. */
    static String keyType(java.security.PrivateKey key) {
        return switch (key.getAlgorithm()) {
            case "EC" -> "ECDSA";
            case "EdDSA" -> key instanceof java.security.interfaces.EdECKey ec ? ec.getParams().getName() : "EdDSA";
            default -> key.getAlgorithm();
        };
    }

    private static boolean isEmpty(String text) {
        return text == null || text.isEmpty();
    }

    /**
     * The http:// URL of an OCSP responder that tls.{@code key} names (nginx's {@code directive}), null where it names
     * none ("") or one that is not an http:// URL, which is a problem (nginx takes no https).
     */
    private static java.net.URI responder(Section tls, String key, String directive) {
        String text = tls.optionalString(key);
        if (text == null || text.isEmpty()) {
            return null;
        }
        java.net.URI responder;
        try {
            responder = new java.net.URI(text);
        } catch (java.net.URISyntaxException e) {
            responder = null;
        }
        if (responder == null || !"http".equalsIgnoreCase(responder.getScheme()) || responder.getHost() == null) {
            tls.invalid(key, LocationMatch.quoted(text) + " is not an http:// URL", "the http:// URL of the OCSP"
                    + " responder (nginx's " + directive + ": https is not taken), or \"\" for the certificate's own");
            return null;
        }
        return responder;
    }

    /** nginx's values of ssl_ocsp, as a site's tls.ocsp takes them. */
    private static final Map<String, TlsClientVerify.Ocsp.Checked> OCSP = ocspModes();

    private static Map<String, TlsClientVerify.Ocsp.Checked> ocspModes() {
        Map<String, TlsClientVerify.Ocsp.Checked> modes = new LinkedHashMap<>();
        modes.put("off", TlsClientVerify.Ocsp.Checked.OFF);
        modes.put("on", TlsClientVerify.Ocsp.Checked.ON);
        modes.put("leaf", TlsClientVerify.Ocsp.Checked.LEAF);
        return modes;
    }

    /**
     * A site's tls.ocsp, ocsp-responder and ocsp-cache: nginx's ssl_ocsp, ssl_ocsp_responder and ssl_ocsp_cache. As
     * nginx refuses to start, OCSP with verify-client = optional_no_ca is a problem; so, unlike nginx (which asks
     * nothing then), is OCSP where verify-client is off.
     */
    private static TlsClientVerify.Ocsp ocsp(Section tls, TlsClientVerify.Mode mode) {
        ConfigValue written = tls.value("ocsp");
        TlsClientVerify.Ocsp.Checked checked = written != null && written.valueType() == ConfigValueType.BOOLEAN
                ? (Boolean) written.unwrapped() ? TlsClientVerify.Ocsp.Checked.ON : TlsClientVerify.Ocsp.Checked.OFF
                : tls.choice("ocsp", OCSP);
        java.net.URI responder = responder(tls, "ocsp-responder", "ssl_ocsp_responder");
        int cache = tls.integer("ocsp-cache", 0, 10_000_000);
        if (checked == TlsClientVerify.Ocsp.Checked.OFF) {
            return TlsClientVerify.Ocsp.OFF;
        }
        if (mode == TlsClientVerify.Mode.OFF) {
            tls.problem("ocsp", checked.name().toLowerCase(Locale.ROOT) + ", and tls.verify-client is off",
                    "verify-client = on or optional beside it, as OCSP asks about a client certificate that verified"
                    + " (nginx's ssl_ocsp asks nothing without ssl_verify_client), or ocsp = off");
        } else if (mode == TlsClientVerify.Mode.OPTIONAL_NO_CA) {
            tls.problem("ocsp", checked.name().toLowerCase(Locale.ROOT) + ", and tls.verify-client is"
                    + " optional_no_ca", "verify-client = on or optional, or ocsp = off (nginx: \"ssl_ocsp\" is"
                    + " incompatible with \"ssl_verify_client optional_no_ca\")");
        }
        return new TlsClientVerify.Ocsp(checked, responder, cache);
    }

    /** The certificates of the CA file {@code key} names (null where it names none, or one that failed). */
    private static List<java.security.cert.X509Certificate> caFile(Section tls, String key, Path base) {
        Path file = optionalFile(tls, key, base);
        if (file == null) {
            return null;
        }
        try {
            return PemFiles.certificates(file);
        } catch (IllegalArgumentException e) {
            tls.invalid(key, e.getMessage(), "a PEM file of CA certificates");
            return null;
        }
    }

    /** The file {@code key} names, relative to {@code base}; null where it names none (""). */
    private static Path optionalFile(Section section, String key, Path base) {
        String text = section.optionalString(key);
        return text == null || text.isEmpty() ? null : section.toPath(key, text, base);
    }

    /** {@code server.access-log-format} and its escape: null for edge's own line. */
    private LogFormat logFormat(Section server) {
        Map<String, Boolean> escapes = new LinkedHashMap<>();
        escapes.put("default", false);
        escapes.put("json", true);
        boolean json = server.choice("access-log-escape", escapes);
        String written = server.optionalString("access-log-format");
        if (written == null) {
            return null;
        }
        try {
            return LogFormat.parse(written, json, maps);
        } catch (IllegalArgumentException e) {
            server.invalid("access-log-format", LocationMatch.quoted(written) + " " + e.getMessage(),
                    LogFormat.EXPECTED);
            return null;
        }
    }

    /**
     * {@code server.pid-file}: none ({@code ""}), or a file edge can write (a new one, made beside it and renamed over
     * it) in a directory that exists, as nginx's {@code pid}: it makes no directory for it.
     */
    private static Path pidFile(Section server, Path base) {
        String text = server.string("pid-file");
        if (text.isEmpty()) {
            return null;
        }
        Path file = server.toPath("pid-file", text, base);
        String expected = "\"\" (none) or a file in an existing directory edge may write in";
        if (file == null) {
            return null; // already reported
        }
        Path directory = file.getParent();
        if (Files.isDirectory(file)) {
            server.problem("pid-file", file + " is a directory", expected);
        } else if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            server.problem("pid-file", file + " is not a regular file", expected);
        } else if (!Files.isDirectory(directory)) {
            server.problem("pid-file", whyNoDirectory(directory), expected);
        } else if (!Files.isWritable(directory)) {
            server.problem("pid-file", "directory " + directory + " is not writable", expected);
        } else {
            // as the start writes it: a file made beside it, whose longer name or place (/proc) may be refused
            String refused = fileRefused(directory, "." + file.getFileName() + ".");
            if (refused != null) {
                server.problem("pid-file", file + " cannot be written: a file cannot be made beside it (" + refused
                        + ")", expected);
            }
        }
        return file;
    }

    /**
     * {@code server.real-ip}: the proxies trusted, and the header naming whom they serve (a field name), or whether
     * their connections begin with a PROXY protocol header, which means nothing without a proxy trusted.
     */
    private static ServerSettings.RealIp realIp(Section realIp) {
        List<AddressRange> from = addresses(realIp, "from");
        boolean noProxy = from.isEmpty() && realIp.isEmptyList("from");
        String header = realIp.string("header");
        if (header.isEmpty() || HttpHeaderValidationUtil.validateToken(header) != -1) {
            realIp.problem("header", LocationMatch.quoted(header) + " is not a header name",
                    "a field name such as X-Forwarded-For or X-Real-IP");
        } else if (header.equalsIgnoreCase("proxy_protocol") || header.equalsIgnoreCase("proxy-protocol")) {
            // nginx's real_ip_header proxy_protocol: here it would read a request header of that name, which any
            // client can send through a proxy that passes it on
            realIp.problem("header", LocationMatch.quoted(header) + " names a request header, not the PROXY protocol",
                    "proxy-protocol = true for the PROXY protocol's source, or a field such as X-Forwarded-For");
        } else if (header.equalsIgnoreCase("Forwarded")) {
            realIp.problem("header", "\"Forwarded\" (RFC 7239, for=...) is not read: none of its values is an address",
                    "a field of bare addresses such as X-Forwarded-For or X-Real-IP");
        } else if (noProxy && realIp.own().containsKey("header")) {
            // nginx's real_ip_header without set_real_ip_from: the header would never be read
            realIp.problem("header", LocationMatch.quoted(header) + " with no proxy in from",
                    "the addresses of the proxies that send it in from, or no header");
        }
        boolean recursive = realIp.bool("recursive");
        if (noProxy && recursive) {
            realIp.problem("recursive", "true with no proxy in from", "the addresses of the proxies in from, or false");
        }
        boolean proxyProtocol = realIp.bool("proxy-protocol");
        if (proxyProtocol && noProxy) {
            realIp.problem("proxy-protocol", "true with no proxy in from",
                    "the addresses of the proxies that send it in from, or false");
        }
        String protoHeader = realIp.string("proto-header");
        if (!protoHeader.isEmpty() && HttpHeaderValidationUtil.validateToken(protoHeader) != -1) {
            realIp.problem("proto-header", LocationMatch.quoted(protoHeader) + " is not a header name",
                    "a field name such as X-Forwarded-Proto, or \"\" for none");
        } else if (!protoHeader.isEmpty() && noProxy) {
            realIp.problem("proto-header", LocationMatch.quoted(protoHeader) + " with no proxy in from",
                    "the addresses of the proxies that send it in from, or \"\"");
        }
        return new ServerSettings.RealIp(from, header, recursive, proxyProtocol, protoHeader);
    }

    /**
     * Why no directory can be made in {@code directory}, or {@code null} when one can. Asked by making one and removing
     * it at once, as nothing else tells: access(2) answers yes to root for /proc, where every mkdir fails, and for
     * directories on a file server that maps root to nobody. Nothing is left behind, also by --check-config.
     */
    static String directoryRefused(Path directory) {
        return madeRefused(() -> Files.createTempDirectory(directory, ".edge-probe-"));
    }

    /**
     * Why no file named {@code prefix}, a random part and ".tmp" can be made in {@code directory}, or {@code null} when
     * one can: asked as {@link #directoryRefused} asks.
     */
    private static String fileRefused(Path directory, String prefix) {
        return madeRefused(() -> Files.createTempFile(directory, prefix, ".tmp"));
    }

    /** Something {@link #madeRefused} makes. */
    private interface Probe {
        Path make() throws IOException;
    }

    /** Why {@code probe} could not make its file or directory, or {@code null} when it did; what it made is removed. */
    private static String madeRefused(Probe probe) {
        Path made;
        try {
            made = probe.make();
        } catch (IOException | RuntimeException e) {
            return reason(e);
        }
        try {
            Files.delete(made);
        } catch (IOException | RuntimeException e) {
            // made, which is what was asked; an empty one of ours that cannot be removed is left
        }
        return null;
    }

    /**
     * Why {@code file} cannot be opened for appending, as the start opens an access log, or {@code null} when it can.
     * access(2) answers yes to root where the open fails (/proc, a read-only mount): a file that is there is opened; for
     * one that is not, a file of a name of this check's own is made beside it and removed ({@link #fileRefused}), so
     * that --check-config leaves nothing behind, and two checks at once (a deploy's beside an {@code edge -s reload})
     * never take each other's file for the log (one opened the other's as it was removed: "No such file or directory",
     * exit 2 for a good configuration).
     */
    static String appendRefused(Path file) {
        try {
            FileChannel.open(file, StandardOpenOption.APPEND).close(); // there: opened as it is, never removed
            return null;
        } catch (NoSuchFileException e) {
            // not there yet (or removed meanwhile): the start makes it where a file can be made (its directory is, as
            // checked before)
            return fileRefused(file.toAbsolutePath().getParent(), ".edge-probe-");
        } catch (IOException | RuntimeException e) {
            return reason(e);
        }
    }

    /**
     * What is wrong with {@code tmp}, java.io.tmpdir, as the place FastCGI bodies too large for memory are spooled to
     * where there is no run directory: as a problem of {@code run-dir}, found now rather than at the first large upload
     * (a 500).
     */
    private static void tmpdirProblem(Section server, Path tmp) {
        String fault = !Files.isDirectory(tmp) ? (Files.exists(tmp) ? "is not a directory" : "does not exist")
                : !Files.isWritable(tmp) ? "is not writable" : null;
        SpoolDirectory.Refusal unsafe = fault == null ? spoolRefusal(tmp) : null;
        if (fault != null || unsafe != null) {
            server.problem("run-dir", "\"\" spools bodies too large for memory to java.io.tmpdir " + tmp + ", which "
                    + (fault != null ? fault : unsafe.what()), "a run-dir, or -Djava.io.tmpdir (in EDGE_JAVA_OPTS) "
                    + "naming a directory " + (unsafe != null ? unsafe.expected() : "edge can write in"));
        }
    }

    /** Why {@code directory} may not hold spool files ({@link SpoolDirectory}), or null (also if it cannot be read). */
    private static SpoolDirectory.Refusal spoolRefusal(Path directory) {
        try {
            return SpoolDirectory.refusal(directory);
        } catch (IOException | RuntimeException e) {
            return null; // a directory edge cannot read the attributes of: the start's own checks tell
        }
    }

    /** Whether {@code text} holds a surrogate that is not half of a pair: no character, "?" in UTF-8. */
    private static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code file} (links followed) is a character device, /dev/null or a terminal: a write never waits. */
    private static boolean isCharacterDevice(Path file) {
        try {
            return ((Integer) Files.getAttribute(file, "unix:mode") & 0170000) == 0020000; // S_IFMT, S_IFCHR
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** What the file system said, without the path and class name {@link IOException#getMessage()} would add. */
    static String reason(Exception e) {
        if (e instanceof java.io.UncheckedIOException unchecked) {
            return reason(unchecked.getCause());
        }
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return ParseErrors.withoutClassNames(String.valueOf(e.getMessage()));
    }

    /** Two listeners that cannot both be bound: the same address, or the same port where one is a wildcard. */
    private static boolean overlaps(InetSocketAddress a, InetSocketAddress b) {
        if (a.getPort() != b.getPort() || a.getPort() == 0) {
            return false;
        }
        return a.equals(b) || a.getAddress().isAnyLocalAddress() || b.getAddress().isAnyLocalAddress();
    }

    StaticIoSettings staticIo(Section io) {
        Map<String, StaticIoSettings.Engine> engines = new LinkedHashMap<>();
        for (StaticIoSettings.Engine engine : StaticIoSettings.Engine.values()) {
            engines.put(engine.configName(), engine);
        }
        StaticIoSettings.Engine engine = io.choice("engine", engines);
        int queueDepth = io.integer("queue-depth", 1, 32768);
        int threads = io.integer("threads", 1, 1024);
        Section cache = io.section("open-file-cache");
        int cacheSize = cache.integer("size", 0, Integer.MAX_VALUE);
        int fdBudget = io.integer("fd-budget", 1, Integer.MAX_VALUE);
        if (fdBudget <= cacheSize && io.isSet("fd-budget")) {
            if (isBuiltIn(io.value("fd-budget").origin())) {
                // the file set the cache's size, not the budget: the problem is at the line it wrote
                cache.problem("size", cacheSize + " leaves no descriptor for requests within fd-budget (" + fdBudget
                        + ")", "less than fd-budget, or a larger static.fd-budget");
            } else {
                io.problem("fd-budget", fdBudget + " leaves no descriptor for requests beside the open-file cache",
                        "more than open-file-cache.size (" + cacheSize + ")");
            }
        }
        return new StaticIoSettings(engine, queueDepth, threads, cacheSize,
                cache.duration("revalidate", true),
                cache.integer("min-uses", 1, 2),
                fdBudget,
                io.bytes("sendfile-chunk", 4096, StaticIoSettings.MAX_SENDFILE_CHUNK),
                io.duration("read-timeout", false),
                io.bool("poison-released-buffers"));
    }

    /**
     * The merged table with lower-case keys. Keys differing only in case collapse into one; a user's
     * entry wins over the built-in one, and two of the user's are a problem (which would win is chance).
     */
    Map<String, String> mimeTypes(Section table) {
        Map<String, String> result = new TreeMap<>();
        Map<String, String> fromUser = new HashMap<>(); // extension -> the user's key, as written
        for (String key : new TreeSet<>(table.object().keySet())) { // sorted: the same problems in the same order
            String extension = key.toLowerCase(Locale.ROOT);
            boolean builtIn = isBuiltIn(table.object().get(key).origin());
            String type = table.optionalString(key);
            if (type == null) {
                continue;
            }
            if (extension.isEmpty() || extension.startsWith(".") || extension.endsWith(".") || extension.contains("..")
                    || extension.contains("/")) {
                table.problem(key, "\"" + key + "\" is not a file extension", "an extension without the dot, such as jpg");
                continue;
            }
            if (!CONTENT_TYPE.matcher(type).matches()) {
                // it goes out as Content-Type: "text/html\r\nX-Injected: yes" was a header line of every .html answer
                table.problem(key, LocationMatch.quoted(type) + " is not a media type",
                        "type/subtype and parameters in printable ASCII, such as image/jpeg or text/html; charset=utf-8");
                continue;
            }
            if (builtIn && fromUser.containsKey(extension)) {
                continue;
            }
            if (!builtIn) {
                String earlier = fromUser.putIfAbsent(extension, key);
                if (earlier != null) {
                    table.problem(key, "\"" + key + "\" is set twice, also as \"" + earlier
                            + "\" (extensions are compared ignoring case)", "each extension once");
                    continue;
                }
            }
            result.put(extension, type);
        }
        return result;
    }

    /** RFC 9110's media-type: type "/" subtype *( OWS ";" OWS token "=" ( token / quoted-string ) ). */
    private static final Pattern CONTENT_TYPE;

    static {
        String token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
        String quoted = "\"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*\"";
        CONTENT_TYPE = Pattern.compile(token + "/" + token + "(?:[ \\t]*;[ \\t]*" + token + "=(?:" + token + "|" + quoted
                + "))*");
    }

    private static boolean isBuiltIn(ConfigOrigin origin) {
        return origin.resource() != null || Substitutions.isCopiedDefault(origin);
    }

    Map<String, BackendGroupSettings> backends(Section fastcgi, ServerSettings server) {
        return groups(fastcgi, "fastcgi", (name, backend) -> backend(name, backend, server));
    }

    /** The HTTP backend groups under {@code edge.proxy.backends}, as FastCGI's are read. */
    Map<String, BackendGroupSettings> proxyBackends(Section proxy) {
        return groups(proxy, "proxy", this::proxyBackend);
    }

    /**
     * The groups under {@code section.backends}, each over {@code section.backend-defaults}, read by {@code group}
     * (given a null name, it checks the defaults alone).
     */
    private Map<String, BackendGroupSettings> groups(Section section, String kind,
            BiFunction<String, Section, BackendGroupSettings> group) {
        ConfigObject template = objectOrEmpty(((ConfigObject) reference.get(kind)).get("backend-defaults"));
        Section defaults = defaults(section, "backend-defaults", template);
        // Checked on their own, backends or none; a backend inheriting a bad value does not repeat it.
        group.apply(null, defaults);
        Section backends = section.section("backends");
        Map<String, BackendGroupSettings> result = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> entry : backends.object().entrySet()) {
            String name = entry.getKey();
            ConfigValue value = entry.getValue();
            String key = backends.key(name);
            if (value.valueType() != ConfigValueType.OBJECT) {
                problems.add(value.origin(), key, Section.render(value) + " is not an object", "an object { ... }");
                continue;
            }
            if (!BACKEND_NAME.matcher(name).matches()) {
                problems.add(value.origin(), key, "\"" + name + "\" is not a backend name",
                        "letters, digits, \"-\" and \"_\"");
                continue;
            }
            UnknownKeys.check((ConfigObject) value, template, key, Set.of(), Set.of(), problems);
            Section backend = backends.withDefaults((ConfigObject) value, defaults, key, value.origin());
            result.put(name, group.apply(name, backend));
        }
        // a name finds its group whatever the case of its letters, as nginx's upstream names: two that differ in case
        // alone would be one name (nginx: "duplicate upstream"), the later of them in order told
        Map<String, String> lowered = new HashMap<>();
        for (String name : result.keySet()) {
            String first = lowered.putIfAbsent(VariableMap.asciiLowerCase(name), name);
            if (first != null) {
                ConfigValue value = backends.object().get(name);
                problems.add(value.origin(), backends.key(name), "\"" + name + "\" and \"" + first
                        + "\" differ in case alone, and a name finds its group whatever its case",
                        "names that differ in more than case (nginx: duplicate upstream)");
            }
        }
        return result;
    }

    /**
     * What is wrong with the directory of the Unix socket {@code backend} names (a {@link Addresses#backend}): it does
     * not exist, or is no directory; null when it is one, when the address is no Unix socket, or when it cannot be
     * told (a directory above it that this user cannot search). The socket itself need not exist: php-fpm may start
     * after edge, and a connection refused meanwhile is "busy", not a failure.
     */
    private static String socketDirectoryProblem(String backend) {
        if (!backend.startsWith(Addresses.UNIX_PREFIX)) {
            return null;
        }
        Path socket = Path.of(backend.substring(Addresses.UNIX_PREFIX.length()));
        String notSocket = notASocket(socket);
        if (notSocket != null) {
            return notSocket;
        }
        Path directory = socket.getParent();
        if (directory == null || Files.isDirectory(directory)) {
            return null;
        }
        if (Files.notExists(directory)) {
            return "directory " + directory + " does not exist";
        }
        return Files.exists(directory) ? directory + " is not a directory" : null;
    }

    /**
     * Why the socket of {@code backend}, which is there, would refuse edge's connects for their permission (EACCES, a
     * 502 each: php-fpm's listen.mode 0660 for another user and group), as {@code writable} (access(2)'s W_OK) sees it;
     * null where it is no socket there (not yet made: php-fpm makes it when it starts) or edge may write it. Run as
     * root, edge may write any.
     */
    static String unwritableSocket(String backend, Predicate<Path> writable) {
        if (!backend.startsWith(Addresses.UNIX_PREFIX)) {
            return null;
        }
        Path socket = Path.of(backend.substring(Addresses.UNIX_PREFIX.length()));
        try {
            int mode = (Integer) Files.getAttribute(socket, "unix:mode");
            if ((mode & 0170000) != 0140000 || writable.test(socket)) { // S_IFMT, S_IFSOCK
                return null;
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException notThere) {
            return null;
        }
        return socket + " is a socket edge's user (" + System.getProperty("user.name") + ") may not write to, or"
                + " reach: each connect would be refused for its permission (EACCES), a 502";
    }

    /**
     * Why {@code socket}, which is there, is no socket (a directory: "unix:/run/php/"; a regular file), or null: not
     * there (php-fpm makes it when it starts), a socket, or out of reach. Connects to it were refused, taken for a
     * restarting php-fpm: each request waited 5 s for its 502.
     */
    private static String notASocket(Path socket) {
        try {
            int mode = (Integer) Files.getAttribute(socket, "unix:mode");
            if ((mode & 0170000) == 0140000) { // S_IFMT, S_IFSOCK
                return null;
            }
            boolean directory = (mode & 0170000) == 0040000; // S_IFDIR
            return socket + (directory ? " is a directory" : " is a file") + ", not a socket";
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException notThere) {
            return null;
        }
    }

    /**
     * {@code element} of {@code backend}'s addresses in its canonical form ({@link Addresses#backend}), recorded in
     * {@code reached} by what it reaches; null, with a problem, where it is no address or one listed before.
     */
    private String backendAddress(Section backend, Section.Element element, Map<String, String> reached) {
        String address = element.text();
        String canonical;
        try {
            canonical = Addresses.backend(address, base);
        } catch (IllegalArgumentException e) {
            backend.invalid("addresses", element.index(), "\"" + address + "\" " + e.getMessage(),
                    "\"unix:/path/to.sock\", \"host:port\" or \"[v6]:port\"");
            return null;
        }
        String first = reached.putIfAbsent(BackendAddress.key(canonical), address);
        if (first != null) {
            backend.invalid("addresses", element.index(), "\"" + address + "\" "
                            + (first.equals(address) ? "is listed twice" : "is the same address as \"" + first + "\""),
                    "each address once (max-connections is how many connections one takes)");
            return null;
        }
        return canonical;
    }

    /** What a FastCGI group and an HTTP group share: the choice of address, the pool, its queue, timeouts and health. */
    private record Pooling(BackendGroupSettings.Balance balance, int maxConnections, BackendGroupSettings.Queue queue,
                           BackendGroupSettings.Timeouts timeouts, BackendGroupSettings.KeepAlive keepAlive,
                           BackendGroupSettings.Health health) {
    }

    private Pooling pooling(String name, Section backend) {
        Map<String, BackendGroupSettings.Balance> balances = new LinkedHashMap<>();
        balances.put("least-connections", BackendGroupSettings.Balance.LEAST_CONNECTIONS);
        balances.put("round-robin", BackendGroupSettings.Balance.ROUND_ROBIN);
        BackendGroupSettings.Balance balance = backend.choice("balance", balances);
        int maxConnections = backend.integer("max-connections", 1, Integer.MAX_VALUE);
        Section queue = backend.section("queue");
        BackendGroupSettings.Queue waitQueue = new BackendGroupSettings.Queue(
                queue.integer("max-waiters", 0, Integer.MAX_VALUE), queue.duration("timeout", false),
                queue.duration("retry-after", true, Duration.ofDays(1)));
        Section timeouts = backend.section("timeouts");
        BackendGroupSettings.Timeouts backendTimeouts = new BackendGroupSettings.Timeouts(
                timeouts.duration("connect", false), timeouts.duration("read", false),
                timeouts.duration("write", false));
        Section keepAlive = backend.section("keep-alive");
        BackendGroupSettings.KeepAlive reuse = new BackendGroupSettings.KeepAlive(keepAlive.bool("enabled"),
                keepAlive.duration("idle-timeout", false), keepAlive.integer("max-requests", 0, Integer.MAX_VALUE));
        if (!reuse.enabled() && name != null && backend.own().containsKey("keep-alive")) {
            setWhileOff(keepAlive, "keep-alive", Set.of("enabled"), "enabled = true beside it");
        }
        Section health = backend.section("health");
        BackendGroupSettings.Health passive = new BackendGroupSettings.Health(
                health.integer("max-fails", 0, Integer.MAX_VALUE), health.duration("fail-timeout", false));
        return new Pooling(balance, maxConnections, waitQueue, backendTimeouts, reuse, passive);
    }

    /**
     * An HTTP backend group ({@code proxy.backends}), or with {@code name == null} the defaults alone. A pool as a
     * FastCGI group's, without php-fpm's parts: nothing spawned, and a slot freed with the answer (no worker to await);
     * its response-buffer holds what a slow client has not taken yet (a location's proxy-buffering turns it off).
     */
    private BackendGroupSettings proxyBackend(String name, Section backend) {
        List<String> addresses = new ArrayList<>();
        Map<String, String> reached = new HashMap<>();
        for (Section.Element element : backend.elements("addresses")) {
            String canonical = backendAddress(backend, element, reached);
            if (canonical != null) {
                addresses.add(canonical);
            }
        }
        Pooling pooling = pooling(name, backend);
        if (name == null) {
            return null;
        }
        if (addresses.isEmpty() && backend.isEmptyList("addresses")) {
            ConfigValue list = backend.object().get("addresses");
            problems.add(list != null && !isBuiltIn(list.origin()) ? list.origin() : backend.anchor(),
                    backend.key("addresses"), "no address", "at least one address, such as \"127.0.0.1:3000\"");
        }
        Section buffer = backend.section("response-buffer");
        BackendGroupSettings.ResponseBuffer responseBuffer = new BackendGroupSettings.ResponseBuffer(
                (int) buffer.bytes("memory", 0, MAX_RESPONSE_BUFFER_MEMORY),
                buffer.bytes("max-temp-file", 0, Long.MAX_VALUE));
        return new BackendGroupSettings(name, addresses, pooling.balance(), pooling.maxConnections(), pooling.queue(),
                pooling.timeouts(), pooling.keepAlive(), pooling.health(), null, responseBuffer, false,
                proxyTls(name, backend, addresses));
    }

    /**
     * A proxy group's {@code tls}: its backends spoken to over TLS (nginx's {@code proxy_pass https://} and its
     * {@code proxy_ssl_*} directives), or null when not enabled. As nginx refuses to start, verify = true needs a
     * trusted-certificate ("no proxy_ssl_trusted_certificate for proxy_ssl_verify"). A Unix socket is refused beside
     * it: nginx would speak TLS over one, but no backend listening on a local socket asks for it. A group's own
     * certificate, key, password-file, crl or ciphers beside tls.enabled = false is a problem (nginx ignores its
     * proxy_ssl_certificate before an http:// proxy_pass): the group would speak plain HTTP to a backend the
     * configuration means to be TLS; so is a crl without verify, which nothing would check.
     *
     * @param group the group's name, null for the defaults alone (whose files may be for the groups that enable tls)
     */
    private BackendGroupSettings.Tls proxyTls(String group, Section backend, List<String> addresses) {
        Section tls = backend.section("tls");
        boolean enabled = tls.bool("enabled");
        boolean verify = tls.bool("verify");
        boolean serverName = tls.bool("server-name");
        boolean sessionReuse = tls.bool("session-reuse");
        int depth = tls.integer("verify-depth", 0, 100);
        String name = tls.optionalString("name");
        List<String> protocols = tlsProtocols(tls);
        List<String> ciphers = ciphers(tls);
        List<java.security.cert.X509Certificate> trusted = caFile(tls, "trusted-certificate", base);
        TlsCertificate certificate = certificateAndKey(backend, tls, base, "proxy_ssl");
        List<io.edge.fastcgi.tls.RevocationList> revocations = crlFile(tls, base);
        if (!enabled) {
            for (String key : List.of("certificate", "key", "password-file", "crl", "ciphers")) {
                ConfigValue written = group == null ? null : tls.own().get(key);
                if (written != null && !(written.unwrapped() instanceof String text && text.isEmpty())
                        && !(written.unwrapped() instanceof List<?> list && list.isEmpty())) {
                    tls.problem(key, "set, and tls.enabled is false: the group speaks plain HTTP to its backends",
                            "tls.enabled = true (nginx's proxy_pass https://), or no " + key);
                }
            }
            return null;
        }
        if (verify && trusted == null && !tls.isInvalid("trusted-certificate")) {
            tls.problem("verify", "true without a trusted-certificate",
                    "trusted-certificate, a PEM file of the CAs the backends' chains lead to, or verify = false");
        }
        if (!verify && !revocations.isEmpty()) {
            tls.problem("crl", "set, and tls.verify is false: nothing checks the backends' certificates against it",
                    "verify = true with a trusted-certificate, or no crl");
        }
        String firstHost = null;
        for (String address : addresses) {
            if (address.startsWith(Addresses.UNIX_PREFIX)) {
                backend.problem("addresses", "\"" + address + "\" is a Unix socket, and tls.enabled is true",
                        "\"host:port\" addresses only in a group with tls, or tls.enabled = false");
                return null;
            }
            if (firstHost == null) {
                firstHost = Addresses.hostPort(address, 1).host(); // checked already: backendAddress
            }
        }
        if (name != null && name.isEmpty()) {
            name = null;
        }
        if (name == null && firstHost == null) {
            return null; // no address: said above
        }
        return new BackendGroupSettings.Tls(verify, trusted == null ? List.of() : trusted, depth, serverName,
                name != null ? name : firstHost, protocols, sessionReuse, ciphers,
                certificate == null ? List.of() : certificate.chain(), certificate == null ? null : certificate.key(),
                revocations);
    }

    /** A backend group, or with {@code name == null} the defaults alone: what is wrong in any group. */
    private BackendGroupSettings backend(String name, Section backend, ServerSettings server) {
        List<String> addresses = new ArrayList<>();
        // Each address as first written, by what it reaches: a second one is a second pool member for one
        // php-fpm, with max-connections of its own against the one pm.max_children.
        Map<String, String> reached = new HashMap<>();
        List<Section.Element> written = backend.elements("addresses");
        Section spawnSection = backend.section("spawn");
        boolean spawnEnabled = spawnSection.bool("enabled");
        for (Section.Element element : written) {
            String address = element.text();
            String canonical = backendAddress(backend, element, reached);
            if (canonical == null) {
                continue;
            }
            if (!spawnEnabled) { // a spawned php-fpm's socket directory is edge's own, and then none is written
                String directoryProblem = socketDirectoryProblem(canonical);
                if (directoryProblem != null) {
                    backend.invalid("addresses", element.index(), "\"" + address + "\": " + directoryProblem,
                            "a socket path in an existing directory (php-fpm makes the socket, not its directory),"
                                    + " such as unix:/run/php/php8.2-fpm.sock");
                    continue;
                }
                String unwritable = unwritableSocket(canonical, Files::isWritable);
                if (unwritable != null) {
                    backend.invalid("addresses", element.index(), "\"" + address + "\": " + unwritable,
                            "a socket edge's user may write to (php-fpm's listen.owner, listen.group and listen.mode,"
                                    + " as for nginx's user)");
                    continue;
                }
            }
            addresses.add(canonical);
            if (name != null && !spawnEnabled) {
                sharedAddresses.add(name, canonical, backend.writtenAt("addresses", element.index()));
            }
        }
        Pooling pooling = pooling(name, backend);
        BackendGroupSettings.Balance balance = pooling.balance();
        int maxConnections = pooling.maxConnections();
        BackendGroupSettings.Queue waitQueue = pooling.queue();
        BackendGroupSettings.Timeouts backendTimeouts = pooling.timeouts();
        BackendGroupSettings.KeepAlive reuse = pooling.keepAlive();
        BackendGroupSettings.Health passive = pooling.health();

        Section buffer = backend.section("response-buffer");
        BackendGroupSettings.ResponseBuffer responseBuffer = new BackendGroupSettings.ResponseBuffer(
                (int) buffer.bytes("memory", 0, MAX_RESPONSE_BUFFER_MEMORY),
                buffer.bytes("max-temp-file", 0, Long.MAX_VALUE), buffer.bool("enabled"),
                (int) buffer.bytes("head-size", MIN_RESPONSE_HEAD, MAX_RESPONSE_HEAD));

        Path command = spawnSection.path("command", base);
        int workers = spawnSection.integer("workers", 1, 4096);
        List<Section.Element> iniLines = spawnSection.elements("ini");
        List<String> ini = iniLines.stream().map(Section.Element::text).toList();
        BackendGroupSettings.Spawn spawn = null;
        // The form of every spawn setting is checked whether or not it is enabled, as nginx checks every directive: a
        // mistake in a block turned off waited for the day it was turned on. What it names (the binary, the accounts,
        // what php-fpm makes of the ini lines) is looked at only when it is.
        String commandProblem = command == null ? null : BackendGroupSettings.Spawn.iniPathProblem(command.toString());
        if (commandProblem != null) {
            spawnSection.invalid("command", Section.render(ConfigValueFactory.fromAnyRef(command.toString())) + " "
                    + commandProblem, BackendGroupSettings.Spawn.INI_PATH_EXPECTED);
        }
        String user = account(spawnSection, "user", false, spawnEnabled);
        String group = account(spawnSection, "group", true, spawnEnabled);
        if (name != null && spawnEnabled && user != null) {
            spawnUsers.put(name, spawnSection);
        }
        if (group != null && user == null && spawnSection.optionalString("user") == null) {
            spawnSection.problem("group", "set without spawn.user", "a user too, or no group");
        }
        List<Section.Element> wellFormed = new ArrayList<>();
        for (Section.Element line : iniLines) {
            String problem = BackendGroupSettings.Spawn.iniLineProblem(line.text());
            if (problem != null) {
                spawnSection.invalid("ini", line.index(), Section.render(ConfigValueFactory.fromAnyRef(line.text()))
                        + " " + problem, "\"key = value\", the key of [A-Za-z0-9_.], the value on one line");
            } else {
                wellFormed.add(line);
            }
        }
        Duration terminateSet = spawnSection.isSet("request-terminate-timeout")
                ? spawnSection.duration("request-terminate-timeout", true) : null;
        if (spawnEnabled) {
            if (command == null) {
                spawnSection.missing("command", "the path of the php-fpm binary");
            } else if (commandProblem == null) { // a path's own problem is said above
                if (!Files.isRegularFile(command) || !Files.isExecutable(command)) {
                    spawnSection.invalid("command", command + " is not an executable file",
                            "the path of the php-fpm binary");
                } else {
                    String sapi = PhpSapi.otherThanFpm(command);
                    if (sapi != null) {
                        spawnSection.invalid("command", command + " is PHP's " + sapi + ", not php-fpm", "the path of"
                                + " the php-fpm binary, whose -v says (" + PhpSapi.FPM + "), such as /usr/sbin/php-fpm8.2");
                    }
                }
            }
            if (name != null && !wellFormed.isEmpty() && command != null && commandProblem == null
                    && Files.isRegularFile(command) && Files.isExecutable(command)) {
                // php-fpm's INI reader judges the values (expressions of PHP constants): asked here, not at the start;
                // about the well-formed lines, so that a malformed one does not hide its verdict on the others
                String expected = "a value PHP's INI reader takes (quote one with = ( ) ! ~ or { in it)";
                IniCheck.refused(command, wellFormed.stream().map(Section.Element::text).toList()).forEach((index, said) -> {
                    if (index < 0) {
                        spawnSection.problem("ini", "php-fpm refuses these lines together: " + said, expected);
                    } else {
                        Section.Element line = wellFormed.get(index);
                        spawnSection.invalid("ini", line.index(),
                                Section.render(ConfigValueFactory.fromAnyRef(line.text())) + " is refused by php-fpm: "
                                        + said, expected);
                    }
                });
            }
            if (name == null) {
                return null; // the rest is about one group: its addresses and its socket
            }
            if (!written.isEmpty()) {
                backend.problem("addresses", "must be empty when spawn.enabled = true",
                        "[] (the spawned php-fpm listens on unix:<run-dir>/" + name + "/"
                                + BackendGroupSettings.Spawn.SOCKET_NAME + ")");
            }
            Path spawnRunDir = server.runDir().resolve(name);
            Path socket = spawnRunDir.resolve(BackendGroupSettings.Spawn.SOCKET_NAME);
            int socketBytes = BackendGroupSettings.Spawn.socketPathBytes(socket);
            int allowed = BackendGroupSettings.Spawn.MAX_SOCKET_PATH_BYTES - BackendGroupSettings.Spawn.RELOAD_SUFFIX_BYTES;
            if (socketBytes > allowed) {
                problems.add(backend.anchor(), backend.key("spawn"), "socket path " + socket + " is " + socketBytes
                        + " bytes, longer than the " + allowed + " that leave room for a reload's run directory ("
                        + spawnRunDir.getFileName() + ".N) within the " + BackendGroupSettings.Spawn.MAX_SOCKET_PATH_BYTES
                        + " edge connects by", "a shorter server.run-dir");
            } else {
                addresses = List.of(Addresses.UNIX_PREFIX + socket);
            }
            // Each spawned worker serves one connection; more connections would queue in php-fpm's backlog.
            maxConnections = workers;
            // edge's own, unless set: a script that streams for longer than it (an export, server-sent events)
            // needs a longer one, or 0 (none, php-fpm's default)
            Duration terminate = terminateSet != null ? terminateSet
                    : BackendGroupSettings.requestTerminateTimeout(backendTimeouts, reuse);
            spawn = new BackendGroupSettings.Spawn(command == null ? Path.of("") : command, workers, ini, spawnRunDir,
                    server.runDirTemporary(), terminate, user, group);
        } else if (name != null && written.isEmpty() && backend.isEmptyList("addresses")) {
            ConfigValue list = backend.object().get("addresses");
            problems.add(list != null && !isBuiltIn(list.origin()) ? list.origin() : backend.anchor(),
                    backend.key("addresses"), "no address", "at least one address, or spawn.enabled = true");
        }
        if (name == null) {
            return null;
        }
        return new BackendGroupSettings(name, addresses, balance, maxConnections, waitQueue, backendTimeouts, reuse,
                passive, spawn, responseBuffer, backend.bool("await-worker"));
    }

    /**
     * A site's {@code error-pages}: status (400-599, or a redirect of {@link #REDIRECTS}) to a file, named as a URI path
     * ("/errors/503.html"), read now, at most {@link ErrorPage#MAX_BYTES}; its type from its extension, which mime-types
     * must name. The file is looked for where the location of {@code locations} the URI routes to keeps its files (its
     * root or alias, else the site's {@code root}), as nginx's error_page is an internal redirect to the URI. Links on
     * the way are held to the site's {@code symlinks} rule as a request's are: edge reads the page as root, and whoever
     * may write in the root (PHP, a deploy) must not make it any file of the machine. {@code siteKey}: the site's
     * {@code error-pages}, whose problem a page of site-defaults naming a location the site lacks is.
     */
    private Map<Integer, ErrorPage> errorPages(Section pages, String siteKey, Path root, PathPolicy policy,
            Map<String, String> mimeTypes, List<LocationSettings> locations) {
        if (pages.object().isEmpty()) {
            return Map.of();
        }
        Set<String> names = locations.stream().filter(LocationSettings::named).map(LocationSettings::pattern)
                .collect(Collectors.toSet());
        Map<Integer, ErrorPage> result = new TreeMap<>();
        for (String status : new TreeSet<>(pages.object().keySet())) { // sorted: the same problems in the same order
            String uri = pages.optionalString(status);
            if (uri == null) {
                continue;
            }
            // three digits, as a status is written: "0503" or "+503" would be a second page for 503
            int code = status.matches("[0-9]{3}") ? Integer.parseInt(status) : -1;
            boolean redirect = REDIRECTS.contains(code);
            if (!redirect && (code < 400 || code > 599)) {
                pages.problem(status, "\"" + status + "\" is not an error status", "a status from 400 to 599, or a"
                        + " redirect edge makes (301, 302, 303, 307, 308)");
                continue;
            }
            String located = uri.strip();
            if (located.startsWith("@") || located.startsWith("=")) {
                // a named location answers it, or after "=" the location a path routes to
                if (!refusedToLocation(pages, status, code, located, false)) {
                    Consumer<String> gaveUp = why -> gaveUpOnPage(pages, status, why);
                    ErrorPage named = namedErrorPage(pages, siteKey, status, located, names,
                            path -> answersPage(pageLocation(locations, path, gaveUp), path, gaveUp));
                    if (named != null) {
                        result.put(code, named);
                    }
                }
                continue;
            }
            // nginx's error_page 404 /404.php?x=1 redirects with the args x=1; a file's page is that file, its args
            // unused (measured: nginx 1.22 serves /404.html for error_page 404 /404.html?y=2)
            String query = queryPart(uri);
            uri = pathPart(uri);
            String path = "a path beginning with /, such as \"/errors/" + code + ".html\"";
            String fault = Section.pathFault(uri);
            if (fault != null) {
                pages.invalid(status, fault, path);
                continue;
            }
            Path lexical = root == null ? null : root.resolve(uri.startsWith("/") ? uri.substring(1) : uri).normalize();
            String expected = path + ", of at most " + ErrorPage.MAX_BYTES / 1024 + " KiB";
            if (!uri.startsWith("/") || uri.equals("/")
                    || lexical != null && (!lexical.startsWith(root) || lexical.equals(root))) {
                pages.invalid(status, "\"" + uri + "\" is not a path under the root", expected);
                continue;
            }
            if (hasDotSegment(uri)) {
                // "/../www/404.html" normalised to a file under the root, which the open beneath it then refused:
                // "cannot be read: Permission denied" of a readable file
                pages.invalid(status, "\"" + uri + "\" has a . or .. segment", expected + ", written without them");
                continue;
            }
            Consumer<String> gaveUp = why -> gaveUpOnPage(pages, status, why);
            LocationSettings pageLocation = pageLocation(locations, uri, gaveUp);
            if (answersPage(pageLocation, uri, gaveUp)) {
                // nginx's error_page 503 /busy.php: an internal redirect to the path, whose script runs (or whose
                // backend is asked) with the error's status kept; nothing to read here
                if (!refusedToLocation(pages, status, code, uri, true) && !unsendableQuery(pages, status, uri, query)) {
                    result.put(code, ErrorPage.routed(uri, query, -1));
                }
                continue;
            }
            if (root == null) {
                continue; // no file to look for
            }
            ErrorPage.Source source = ErrorPage.Source.of(root, policy, pageLocation);
            Path file = source.file(uri);
            if (file == null) {
                pages.invalid(status, "\"" + uri + "\" is not a path under the root of its location, "
                        + source.root(), expected);
                continue;
            }
            try {
                String type = MimeLookup.typeOf(mimeTypes, file.getFileName().toString());
                if (type == null) {
                    // A page is sent as the file it is, never run: a script's source (busy.php) would go to every
                    // client, and a type browsers do not show makes them download the page. Its name says so, whether
                    // the file is there yet or not.
                    pages.invalid(status, file + " has no type in mime-types (a page is sent as it is, a script "
                            + "is never run)", expected + ", of a type mime-types names, such as .html");
                    continue;
                }
                if (Files.notExists(file)) {
                    // nginx -t looks for no error_page file: its redirect to a missing one (a dangling link's too) is
                    // a 404 at request time, whatever the status it was for; read once it is there
                    result.put(code, ErrorPage.missing(uri, file, type, source));
                    warnings.add(pages.writtenAt(status).problem("error page " + file + " is not there: its"
                            + " errors are answered 404 (as nginx's error_page to a missing file) until it is"));
                    continue;
                }
                if (!Files.exists(file)) {
                    // neither there nor not: a directory on its way edge's user may not search
                    result.put(code, unreadablePage(pages, status, uri, file, type, source));
                    continue;
                }
                if (!Files.isRegularFile(file)) {
                    pages.invalid(status, whyNoFile(file, "is not a file"), expected);
                    continue;
                }
                if (Files.size(file) > ErrorPage.MAX_BYTES) {
                    pages.invalid(status, file + " is " + Files.size(file) + " bytes", expected);
                    continue;
                }
                if (!followsPolicy(policy, source.root(), file)) {
                    // refused as a request's open of it is, never read: 403, or 404 under a directory linked on its
                    // way (nginx 1.22 starts, and answers so), with a warning
                    result.put(code, unreadablePage(pages, status, uri, file, type, source));
                    continue;
                }
                // as before the read: a change meanwhile is read at the next refresh
                List<Object> version = ErrorPage.version(source.root(), file);
                // The check above names what is wrong; the open enforces it: beneath the root, each component held to
                // the rule by the open itself, so a directory swapped for a link since leads nowhere. No more than the
                // limit, had the file grown.
                byte[] body;
                PathResolver resolver = source.resolver();
                try {
                    body = ErrorPage.read(resolver, uri, ErrorPage.MAX_BYTES + 1);
                } catch (AccessDeniedException refused) {
                    if (PathResolver.DOTFILE.equals(refused.getReason())) {
                        throw refused; // a name the site's dotfiles rule refuses: the page was named wrong
                    }
                    result.put(code, unreadablePage(pages, status, uri, file, type, source));
                    continue;
                } finally {
                    resolver.close();
                }
                if (body.length > ErrorPage.MAX_BYTES) {
                    pages.invalid(status, file + " is more than " + ErrorPage.MAX_BYTES + " bytes", expected);
                    continue;
                }
                result.put(code, ErrorPage.read(uri, file, type, body, source, version));
            } catch (IOException e) {
                pages.invalid(status, file + " cannot be read: " + reason(e), expected);
            }
        }
        return result;
    }

    /**
     * A page whose file edge's user may not read (or a directory on its way search): no problem, as nginx -t opens no
     * error_page file and its redirect to one its workers may not open is a 403 at request time (nginx 1.22.1, measured:
     * a page of mode 000 to its workers' user). Looked at as a refresh looks, which answers its errors 403 until it is
     * mended and says why: a warning at the key that named it.
     */
    private ErrorPage unreadablePage(Section pages, String status, String uri, Path file, String type,
            ErrorPage.Source source) {
        ErrorPage page = ErrorPage.missing(uri, file, type, source);
        String why = page.refresh();
        if (page.content().state() != ErrorPage.State.READ) { // not made readable meanwhile
            warnings.add(pages.writtenAt(status).problem(why != null ? why
                    : "error page " + file + " cannot be read"));
        }
        return page;
    }

    /** A page's {@code uri} without the query it may be written with ("/404.php" of "/404.php?x=1"). */
    private static String pathPart(String uri) {
        int mark = uri.indexOf('?');
        return mark < 0 ? uri : uri.substring(0, mark);
    }

    /** The query a page's {@code uri} is written with, without '?' ("x=1" of "/404.php?x=1"), "" for none. */
    private static String queryPart(String uri) {
        int mark = uri.indexOf('?');
        return mark < 0 ? "" : uri.substring(mark + 1);
    }

    /**
     * Whether a routed page's {@code query} has a character no request target carries (a blank, a control, a non-ASCII
     * one), a problem then: a proxied page's request line could not be sent (Netty refused it at request time, the
     * backend's connection opened and left waiting), as a URL's it is written percent-encoded.
     */
    private static boolean unsendableQuery(Section pages, String status, String uri, String query) {
        if (query.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
            return false;
        }
        pages.invalid(status, "\"" + uri + "?" + query + "\": its query has a blank, a control or a non-ASCII"
                + " character, which no request target carries", "a query written percent-encoded, as in a URL"
                + " (\"a%20b\" for \"a b\")");
        return true;
    }

    /** Whether a page's {@code uri} has a "." or ".." segment. */
    private static boolean hasDotSegment(String uri) {
        return Arrays.stream(uri.split("/", -1)).anyMatch(segment -> segment.equals(".") || segment.equals(".."));
    }

    /**
     * Whether {@code location}, which an error page's {@code uri} routes to, answers the page itself rather than send
     * its file: a proxy location, or a FastCGI one that takes the path as a script (its split finds one, or it runs one
     * script for every path). A FastCGI location's other paths are files, as a request's are. A split that gives up on
     * the path takes it for a script, as a request's path is taken, and {@code gaveUp} is told why.
     */
    private static boolean answersPage(LocationSettings location, String uri, Consumer<String> gaveUp) {
        if (location == null) {
            return false;
        }
        return switch (location.handler()) {
            case PROXY -> true;
            case FASTCGI -> location.fastcgiScript() != null || ScriptResolver.hasScriptPart(location.scriptSplit(), uri,
                    split -> gaveUp.accept(split.reason()));
            default -> false;
        };
    }

    /**
     * A regex gave up on the path of the page {@code pages} names at {@code status} ({@code why}, with what the page is
     * taken for then): a warning at that key, as a request's path it gives up on is logged, never passed over in
     * silence. Not a problem: nginx -t matches no error_page path against its locations.
     */
    private void gaveUpOnPage(Section pages, String status, String why) {
        warnings.add(pages.writtenAt(status).problem("error page " + pages.optionalString(status) + ": " + why));
    }

    /**
     * Whether a page that a location answers ({@code routed}: the one its path routes to, {@code "/busy.php"}, else a
     * named one, {@code "@app"}, or an {@code "="} form) cannot be for {@code code}, a problem then: a redirect's goes
     * to no named location (nginx's would pass the request on, its method and body kept, where the redirect answers
     * it), and a 413's body is refused unread and the connection closed after the answer (nginx's error_page 413
     * @app passes the request on with its body discarded, still announced, which a proxy would send on; a path's
     * page, 413 = "/413.php", runs without it, as nginx's error_page 413 /413.php).
     */
    private static boolean refusedToLocation(Section pages, String status, int code, String target, boolean routed) {
        if (REDIRECTS.contains(code) && !routed) {
            pages.invalid(status, "\"" + target + "\": a redirect's page is a file, or a path a script or proxy"
                    + " location takes, sent with its Location",
                    "a path beginning with /, such as \"/errors/" + code + ".html\"");
            return true;
        }
        if (code == 413 && !routed) {
            pages.invalid(status, "\"" + target + "\": " + (target.startsWith("=")
                    ? "a 413's page goes with the 413, never its own status (the client's body was refused unread)"
                    : "a 413 goes to no named location (its body is refused unread; nginx's error_page 413 @app passes"
                            + " the request on announcing the body it dropped)"),
                    "a path beginning with /, such as \"/errors/413.html\"");
            return true;
        }
        return false;
    }

    /**
     * The location of {@code locations} that an error page's {@code uri} routes to, as a request's path is routed; null
     * for none, or where a regex gave up on it, which {@code gaveUp} is told (the page then read beneath the site's root;
     * a request for the URI itself would be a 500).
     */
    private static LocationSettings pageLocation(List<LocationSettings> locations, String uri,
            Consumer<String> gaveUp) {
        try {
            return LocationSearch.find(locations, uri);
        } catch (RegexGaveUpException e) {
            gaveUp.accept(e.getMessage() + "; the page is looked for as if no location took its path, beneath the"
                    + " site's root (a request for the path itself would be a 500)");
            return null;
        }
    }

    /**
     * An error-pages entry that names a location of the site ({@code names}) as nginx's {@code error_page 404 @app}:
     * {@code "@app"} (the answer goes with the error's status), {@code "= @app"} (with its own) or {@code "=200 @app"};
     * or, after an {@code "="}, a path that a location answers ({@code routed}: a script's, a proxy's), as nginx's
     * {@code error_page 404 = /404.php}; null and a problem where it is none of these.
     */
    private static ErrorPage namedErrorPage(Section pages, String siteKey, String status, String text,
            Set<String> names, Predicate<String> routed) {
        String expected = "a named location of this site, \"@app\" (answering with the error's status), \"= @app\""
                + " (with its own) or \"=200 @app\", the path a script or proxy location takes in place of \"@app\","
                + " or a path beginning with /";
        String[] words = text.split("\\s+");
        int answerStatus = -1;
        String name = words[0];
        if (words[0].startsWith("=")) {
            String code = words[0].substring(1);
            String target = words.length == 2 ? pathPart(words[1]) : "";
            boolean path = target.startsWith("/") && Section.pathFault(target) == null && !hasDotSegment(target)
                    && routed.test(target);
            if (words.length != 2 || !words[1].startsWith("@") && !path) {
                pages.invalid(status, "\"" + text + "\" has no named location after its \"=\", nor a path a script"
                        + " or proxy location takes (a file's page is sent with the error's status)", expected);
                return null;
            }
            answerStatus = code.isEmpty() ? 0 : code.matches("[0-9]{3}") ? Integer.parseInt(code) : -2;
            if (answerStatus == -2 || answerStatus != 0 && (answerStatus < 200 || answerStatus > 599)) {
                pages.invalid(status, "\"" + words[0] + "\" is not \"=\" or \"=\" and a status", expected);
                return null;
            }
            name = words[1];
            if (path) {
                return unsendableQuery(pages, status, target, queryPart(name)) ? null
                        : ErrorPage.routed(target, queryPart(name), answerStatus);
            }
        } else if (words.length != 1) {
            pages.invalid(status, "\"" + text + "\" is not one name", expected);
            return null;
        }
        if (!names.contains(name)) {
            // the site's fault, not the value's: site-defaults' page is a problem of each site without the location
            pages.keyedAs(siteKey).problem(status, "\"" + name + "\" names no location of this site"
                    + UnknownKeys.suggestion(name, names), expected);
            return null;
        }
        return ErrorPage.named(name, answerStatus);
    }

    /**
     * A spawn's {@code user} or {@code group}: null, or an account name; for a server that runs as root, of an account
     * of this machine where {@code looked} (the spawn is enabled). One that does not run as root applies neither
     * (php-fpm runs as edge, and the supervisor warns once that the user is not applied), so a configuration written
     * for root's www-data loads there too.
     */
    private String account(Section spawn, String name, boolean isGroup, boolean looked) {
        String account = spawn.optionalString(name);
        if (account == null) {
            return null;
        }
        String expected = "the name of an existing " + (isGroup ? "group" : "user") + ", such as www-data";
        if (!BackendGroupSettings.Spawn.ACCOUNT_NAME.matcher(account).matches()) {
            spawn.invalid(name, "\"" + account + "\" is not an account name", expected);
            return null;
        }
        if (account.equals("root")) {
            // With a user php-fpm starts without -R, and then refuses a pool of root's ("please specify user and
            // group other than root"): edge would not start. PHP as root is the spawn without a user.
            spawn.invalid(name, "root: php-fpm refuses to run a pool as root with a user set", isGroup
                    ? "a group other than root, or none (the user's own)"
                    : "a user other than root, or none to run PHP as edge runs (root: warned at start)");
            return null;
        }
        if (!root || !looked) {
            return account;
        }
        try {
            UserPrincipalLookupService accounts = FileSystems.getDefault().getUserPrincipalLookupService();
            if (isGroup) {
                accounts.lookupPrincipalByGroupName(account);
            } else {
                accounts.lookupPrincipalByName(account);
            }
        } catch (UserPrincipalNotFoundException e) {
            spawn.invalid(name, "no " + (isGroup ? "group" : "user") + " " + account + " on this machine", expected);
            return null;
        } catch (IOException e) {
            return account; // accounts that cannot be looked up here: php-fpm says so at start
        }
        return account;
    }

    /**
     * The defaults object {@code name} of {@code parent}; when the user's is not an object (reported here, once), the
     * built-in one, so that the sites, locations or backends laid over it are checked as usual rather than each
     * reported as missing every key it did not write itself.
     */
    private Section defaults(Section parent, String name, ConfigObject builtIn) {
        Section defaults = parent.section(name);
        return defaults.isBroken() ? new Section(builtIn, parent.key(name), builtIn.origin(), problems) : defaults;
    }

    /**
     * The backends a location may name: those that are usable, and those whose own problem was already reported (not
     * an object, not a backend name, an unresolved substitution); every name when {@code edge.fastcgi.backends} is
     * itself unusable (reported as such). A location naming a reported one adds no second problem about it.
     */
    record BackendNames(Set<String> usable, Set<String> written, boolean allReported) {

        static BackendNames of(Section fastcgi, Set<String> usable) {
            ConfigValue backends = fastcgi.object().get("backends");
            return backends instanceof ConfigObject written && !fastcgi.isBroken()
                    ? new BackendNames(usable, written.keySet(), false) : new BackendNames(usable, Set.of(), true);
        }

        /** Whether {@code name} names no backend, usable or reported: the location's problem to report. */
        boolean isUnknown(String name) {
            return !allReported && !usable.contains(name) && !written.contains(name);
        }

        /** Whether {@code value}, a variable's, names a backend, usable or reported ({@link #named}). */
        boolean names(String value) {
            String name = named(value);
            return usable.contains(name) || written.contains(name);
        }

        /**
         * The backend {@code name} (not null) names, the case of its letters A to Z aside, as nginx finds an upstream
         * by its name and as a variable's value names a group at run time: {@code name} where it is one, else the one
         * that differs from it in case alone (two groups may not: {@link #groups}), else {@code name} (unknown).
         */
        String named(String name) {
            if (usable.contains(name) || written.contains(name)) {
                return name;
            }
            String lowered = VariableMap.asciiLowerCase(name);
            return Stream.concat(usable.stream(), written.stream())
                    .filter(candidate -> VariableMap.asciiLowerCase(candidate).equals(lowered))
                    .findFirst().orElse(name);
        }
    }

    List<SiteSettings> sites(Section edge, BackendNames backendNames, Map<String, String> mimeTypes,
            List<InetSocketAddress> serverListen, ServerSettings.Tls serverTls) {
        ConfigObject siteTemplate = objectOrEmpty(reference.get("site-defaults"));
        ConfigObject locationTemplate = objectOrEmpty(reference.get("location-defaults"));
        Section siteDefaults = defaults(edge, "site-defaults", siteTemplate);
        Section locationDefaults = defaults(edge, "location-defaults", locationTemplate);
        if (locationDefaults.isSet("alias")) {
            locationDefaults.problem("alias", "set for every location: each would stand for one directory",
                    "null; alias in the prefix location it stands for, such as { match = \"/thumbs/\","
                    + " alias = \"/srv/thumbs/\" }");
        }
        if (locationDefaults.bool("internal")) {
            locationDefaults.problem("internal", "true for every location: no request could reach any",
                    "false; internal = true in the location an X-Accel-Redirect sends to");
        }
        List<Section> siteSections = edge.sections("sites", siteDefaults);
        if (siteSections.isEmpty() && edge.isEmptyList("sites")) {
            ConfigValue sites = edge.value("sites");
            // sites = ${?VAR} of a variable not set leaves the default, no sites: say why
            Problems.UnsetSubstitution unset = problems.unsetSubstitution(edge.key("sites"));
            String message = unset == null ? "no sites"
                    : "no sites: ${?" + unset.name() + "} has no value, " + unset.name() + " is not set";
            problems.add(isBuiltIn(sites.origin()) ? edge.anchor() : sites.origin(), edge.key("sites"), message,
                    "at least one site, sites = [{ root = \"/srv/www\" }]");
        }
        // nginx writes gzip or expires in a server block, index in a location: said where each belongs
        UnknownKeys.Neighbour locationKeys = new UnknownKeys.Neighbour(locationTemplate, "a location's",
                "in the site's locations, or under location-defaults for every location");
        UnknownKeys.Neighbour siteKeys = new UnknownKeys.Neighbour(siteTemplate, "a site's",
                "in the site, or under site-defaults for every site");
        // for edge's own pages no location answers, as nginx's server-level gzip (read, and checked, as each location's)
        LocationSettings.Gzip defaultsGzip = gzip(locationDefaults.section("gzip"));
        LocationSettings.GzipClients defaultsGzipClients = gzipClients(locationDefaults.section("gzip"));
        List<SiteSettings> result = new ArrayList<>();
        Map<String, List<NameOwner>> serverNameOwners = new HashMap<>();
        Map<InetSocketAddress, String> defaultOwners = new HashMap<>();
        List<List<InetSocketAddress>> listens = siteSections.stream().map(site -> siteListen(site, serverListen, serverTls))
                .toList();
        for (int i = 0; i < siteSections.size(); i++) {
            Section site = siteSections.get(i);
            UnknownKeys.check(site.own(), siteTemplate, site.path(), Set.of("root"), Set.of(), locationKeys, problems);
            List<InetSocketAddress> listen = listens.get(i);
            List<String> serverNames = new ArrayList<>();
            for (Section.Element element : site.elements("server-names")) {
                String serverName = element.text();
                String lower = ServerNames.canonical(serverName);
                ServerNames.Fault fault = ServerNames.fault(lower);
                if (fault != null) {
                    site.invalid("server-names", element.index(), "\"" + serverName + "\" " + fault.message(),
                            fault.expected());
                    continue;
                }
                if (serverNames.contains(lower)) {
                    site.problem("server-names", element.index(), "\"" + serverName + "\" is repeated in this site",
                            "each name once");
                    continue;
                }
                List<NameOwner> owners = serverNameOwners.computeIfAbsent(lower, n -> new ArrayList<>());
                // judged per address, as nginx's names of the servers on one address:port
                owners.stream().filter(owner -> shared(owner.listen(), listen) != null).findFirst().ifPresent(owner ->
                        site.problem("server-names", element.index(), "\"" + serverName + "\" is already a name of "
                                + owner.site() + (listen.size() < serverListen.size()
                                || owner.listen().size() < serverListen.size()
                                ? " on \"" + ServerSettings.written(shared(owner.listen(), listen)) + "\"" : ""),
                                "each name in one site only of those listening on an address"));
                owners.add(new NameOwner(site.path(), listen));
                serverNames.add(lower);
            }
            boolean isDefault = site.bool("default");
            for (InetSocketAddress address : isDefault ? listen : List.<InetSocketAddress>of()) {
                String owner = defaultOwners.putIfAbsent(address, site.path());
                if (owner != null) {
                    site.problem("default", "a second default site" + (serverListen.size() > 1 ? " on \""
                            + ServerSettings.written(address) + "\"" : "") + " (" + owner + " is)",
                            "default = true in one site only of those listening on an address");
                    break;
                }
            }
            Path root = directory(site, "root", true);
            List<Section.Element> indexElements = site.elements("index");
            List<String> index = indexElements.stream().map(Section.Element::text).toList();
            Set<String> indexNames = new HashSet<>();
            for (Section.Element element : indexElements) {
                String file = element.text();
                // A name in the directory asked for: not the directory itself, nor its parent, nor below it
                if (file.isEmpty() || file.contains("/") || file.equals(".") || file.equals("..")
                        || Section.pathFault(file) != null) {
                    site.invalid("index", element.index(), Section.render(ConfigValueFactory.fromAnyRef(file))
                            + " is not a file name", "file names such as index.html");
                } else if (!indexNames.add(file)) {
                    site.invalid("index", element.index(), Section.render(ConfigValueFactory.fromAnyRef(file))
                            + " is listed twice", "each name once, in the order they are tried");
                }
            }
            PathPolicy policy = pathPolicy(site);
            if (root != null && !policy.followSymlinks()) {
                linkedRoot(site, root);
            }
            List<LocationSettings> locations = locations(site, locationDefaults, locationTemplate, siteKeys,
                    backendNames);
            Map<Integer, ErrorPage> errorPages = errorPages(site.section("error-pages"), site.key("error-pages"), root,
                    policy, mimeTypes, locations);
            List<RewriteRule> rewrites = rewriteRules(site, null, false);
            List<TlsCertificate> certificates = List.of();
            TlsClientVerify clientVerify = TlsClientVerify.OFF;
            if (site.value("tls") instanceof ConfigList list) {
                site.invalid("tls", "a list of " + list.size() + ": a site's certificates are a list in it",
                        "one tls { certificates = [{ certificate, key }, { certificate, key }] }, nginx's"
                        + " ssl_certificate twice (ECDSA beside RSA); or tls { certificate, key } for one");
            } else {
                Section tlsSection = site.section("tls");
                List<java.security.cert.X509Certificate> trusted = caFile(tlsSection, "trusted-certificate", base);
                clientVerify = clientVerify(site, tlsSection, base, trusted);
                certificates = siteCertificates(site, tlsSection, base, trusted);
                boolean failed = certificates.isEmpty() && (tlsSection.isInvalid("certificate")
                        || tlsSection.isInvalid("key") || tlsSection.isInvalid("password-file")
                        || tlsSection.isSet("certificates"));
                InetSocketAddress bare = !certificates.isEmpty() || failed ? null
                        : listen.stream().filter(serverTls::endsOn).findFirst().orElse(null);
                if (bare != null && !tlsSection.isBroken()) {
                    // nginx: no "ssl_certificate" is defined for the "listen ... ssl" directive
                    tlsSection.problemAt(site, "certificate", "not set, and the site listens on \""
                            + ServerSettings.written(bare) + " ssl\"", "tls { certificate = \"/etc/ssl/fullchain.pem\","
                            + " key = \"/etc/ssl/privkey.pem\" } in every site on a listener marked ssl (or under"
                            + " site-defaults)");
                }
            }
            result.add(new SiteSettings(serverNames, isDefault, root, index, policy, locations, errorPages, listen,
                    rewrites, certificates, clientVerify, captureVariables(serverNames, rewrites, locations),
                    redirects(locationDefaults), defaultsGzip, defaultsGzip == null ? null : defaultsGzipClients));
        }
        return result;
    }

    /**
     * The variables the named groups of a site's regexes set when they match (its server names' written {@code ~regex},
     * its rewrites'), by group name: as nginx's, they keep the last match's value for the rest of the request, so a
     * location's texts read them as a set's variable ({@link RewriteRule#captureNames} declared them). Its locations'
     * regexes (a regex location's, its rewrites' and ifs', nested ones' too) set those of a name edge has anyway (a
     * map's, a geo's, a split's, a set's): nginx's {@code rewrite ^/(?<pool>[a-z]+)$ ...} sets a map's {@code $pool}
     * for the rest of the request, measured with nginx 1.22, the map declared after the server; declared before it,
     * nginx's capture takes the map's variable over and the map gives "" to every request, which edge does not copy.
     */
    private Map<String, VariableMap> captureVariables(List<String> serverNames, List<RewriteRule> rewrites,
            List<LocationSettings> locations) {
        Set<String> names = new TreeSet<>();
        for (String name : serverNames) {
            names.addAll(Return.namedGroups(SiteSettings.serverNameRegex(name)));
        }
        if (!rewrites.isEmpty()) {
            rewrites.get(0).groups().values().forEach(names::addAll); // each entry's copy is the list's
        }
        locations.stream().flatMap(LocationSettings::withNested).forEach(location -> {
            names.addAll(Return.namedGroups(location.regex()));
            if (!location.rewrites().isEmpty()) {
                location.rewrites().get(0).groups().values().forEach(names::addAll);
            }
        });
        Map<String, VariableMap> variables = new HashMap<>();
        for (String name : names) {
            VariableMap variable = maps.get(name);
            if (variable != null) {
                variables.put(name, variable);
            }
        }
        return variables;
    }

    /** A site of {@code site} that has a server name, and the addresses it listens on. */
    private record NameOwner(String site, List<InetSocketAddress> listen) {
    }

    /** An address both lists hold, or null. */
    private static InetSocketAddress shared(List<InetSocketAddress> a, List<InetSocketAddress> b) {
        return a.stream().filter(b::contains).findFirst().orElse(null);
    }

    /**
     * A site's {@code listen}: each address one of {@code serverListen}'s (a problem otherwise), all of them where it
     * writes none. A site names a listener, not an address a listener takes: matched by the listener a connection came
     * in on, "127.0.0.1:8080" under a server's "*:8080" would be none of them.
     */
    private static List<InetSocketAddress> siteListen(Section site, List<InetSocketAddress> serverListen,
            ServerSettings.Tls tls) {
        List<Section.Element> elements = site.elements("listen");
        if (elements.isEmpty() || serverListen.isEmpty()) {
            return serverListen; // none written; or server.listen has none to judge them by (a problem of its own)
        }
        String expected = "addresses of server.listen: " + String.join(", ",
                serverListen.stream().map(a -> "\"" + ServerSettings.written(a) + "\"").distinct().toList());
        List<InetSocketAddress> listen = new ArrayList<>();
        boolean wrong = false;
        for (Section.Element element : elements) {
            String address = element.text();
            // nginx's "listen 443 ssl http2" in a server block: the address of a listener server.listen marks so
            Listen marked = Listen.of(address);
            List<InetSocketAddress> resolved;
            try {
                resolved = Addresses.listen(marked.address());
            } catch (IllegalArgumentException e) {
                site.invalid("listen", element.index(), "\"" + address + "\" " + e.getMessage(), expected);
                wrong = true;
                continue;
            }
            for (InetSocketAddress given : resolved) {
                // "*", "[::]" and "0.0.0.0" are one dual-stack listener: the one server.listen has on the port
                InetSocketAddress parsed = !given.getAddress().isAnyLocalAddress() ? given : serverListen.stream()
                        .filter(a -> a.getPort() == given.getPort() && a.getAddress().isAnyLocalAddress())
                        .findFirst().orElse(given);
                if (listen.contains(parsed)) {
                    site.invalid("listen", element.index(), "\"" + address + "\" is listed twice", "each address once");
                    wrong = true;
                    break;
                }
                if (!serverListen.contains(parsed)) {
                    InetSocketAddress wildcard = serverListen.stream().filter(a -> a.getPort() == parsed.getPort()
                            && a.getAddress().isAnyLocalAddress()).findFirst().orElse(null);
                    site.invalid("listen", element.index(), "\"" + address + "\" is not an address of server.listen"
                            + (wildcard == null ? "" : " (its \"" + ServerSettings.written(wildcard) + "\" takes every address on"
                            + " the port: a site names the listener)"), expected);
                    wrong = true;
                    break;
                }
                String unmarked = marked.ssl() && !tls.endsOn(parsed) ? "ssl"
                        : marked.http2() && !tls.http2().offeredOn(parsed) ? "http2"
                        : marked.quic() != Listen.NO_QUIC && !tls.http3().listen().containsKey(parsed) ? "quic" : null;
                if (unmarked != null) {
                    site.invalid("listen", element.index(), "\"" + address + "\" is not marked " + unmarked
                            + " in server.listen", "\"" + ServerSettings.written(parsed) + " " + unmarked + "\" in"
                            + " server.listen (a site names the address, with or without its marks)");
                    wrong = true;
                    break;
                }
                listen.add(parsed);
            }
        }
        // where it is wrong, none: every address as SiteSettings reads it, and no clash of a name or a default
        // (judged among sites that share an address) nor an address left without a site said beside it
        return wrong ? List.of() : listen;
    }

    /**
     * Each address of server.listen no site listens on is a problem, as nginx has no such address (a listen is a server
     * block's): a connection accepted there could be answered by none.
     */
    private void unlistened(ServerSettings server, List<SiteSettings> sites) {
        if (sites.isEmpty()) {
            return; // "no sites" said
        }
        for (InetSocketAddress address : server.listen()) {
            if (sites.stream().noneMatch(site -> site.listensOn(address))) {
                ConfigProblem unused = server.writtenAt(address).problem("\"" + ServerSettings.written(address)
                        + "\" is in no site's listen: no site would answer there");
                problems.add(new ConfigProblem(unused.file(), unused.line(), unused.key(), unused.message(),
                        "a site with listen = [\"" + ServerSettings.written(address) + "\"], or the address not in server.listen"));
            }
        }
    }

    private PathPolicy pathPolicy(Section site) {
        Map<String, Boolean> dotfiles = new LinkedHashMap<>();
        dotfiles.put("deny", false);
        dotfiles.put("allow", true);
        boolean allowDotfiles = site.choice("dotfiles", dotfiles);
        Map<String, PathPolicy> symlinks = new LinkedHashMap<>();
        symlinks.put("deny", new PathPolicy(allowDotfiles, false, false));
        symlinks.put("within-root", new PathPolicy(allowDotfiles, true, false));
        symlinks.put("allow", new PathPolicy(allowDotfiles, true, true));
        return site.choice("symlinks", symlinks);
    }

    private List<LocationSettings> locations(Section site, Section defaults, ConfigObject template,
                                             UnknownKeys.Neighbour siteKeys, BackendNames backendNames) {
        List<Section> sections = site.sections("locations", defaults);
        if (sections.isEmpty() && site.isEmptyList("locations")) {
            site.problem("locations", "no locations", "at least one location, such as { match = \"/\" }");
        }
        Map<String, InheritedMode> modes = new HashMap<>();
        for (String kind : List.of("limit-req", "limit-conn")) {
            ConfigValue limit = defaults.value(kind);
            modes.put(kind, new InheritedMode(modeOf(limit), defaults.key(kind) + (limit instanceof ConfigList
                    ? "[0]" : "")));
        }
        Level level = new Level(null, defaults, defaults, template, siteKeys, backendNames, namedLocations(sections),
                null, Map.copyOf(modes));
        return locations(sections, level);
    }

    /**
     * Keys a nested location takes from location-defaults, not from the location it is in: what makes a location's
     * answer (nginx's fastcgi_pass, proxy_pass, return, rewrite, try_files and stub_status are the location's own,
     * never merged into a nested one) and what names the location itself. An alias too: edge's stands for the prefix
     * it is written in (a nested location in an alias one sets its own, {@link Level#enclosingAlias}).
     */
    private static final Set<String> NOT_INHERITED = Set.of("match", "locations", "fastcgi", "proxy", "return",
            "rewrite", "rewrites", "status", "empty-gif", "front-controller", "front-controller-directories",
            "fastcgi-script", "alias");

    /**
     * Where a list of locations is read: the site's (no {@code enclosing}), or a location's own.
     *
     * @param enclosing the match of the location they are nested in, null at the site level or where it is bad
     * @param defaults  what each inherits: location-defaults at the site level, else the enclosing location's settings
     * @param base      location-defaults, which {@link #NOT_INHERITED} come from in a nested location
     * @param names     the site's named locations
     * @param enclosingAlias the alias of the location they are nested in (its own or one it took), null for none
     */
    private record Level(LocationMatch enclosing, Section defaults, Section base, ConfigObject template,
                         UnknownKeys.Neighbour siteKeys, BackendNames backendNames, Set<String> names,
                         EnclosingAlias enclosingAlias, Map<String, InheritedMode> limitModes) {

        /** The level of the locations nested in {@code location}, whose match is {@code parsed}. */
        Level within(Section location, LocationMatch parsed, EnclosingAlias alias) {
            Map<String, InheritedMode> modes = new HashMap<>(limitModes);
            modes.replaceAll((kind, enclosing) -> {
                // nginx's nested location merges limit_req_log_level and limit_req_dry_run from the location it is
                // in, which merged them from the server: what this location writes, over what it took
                ConfigObject written = modeOf(location.own().get(kind));
                return written.isEmpty() ? enclosing : new InheritedMode(written.withFallback(enclosing.mode()),
                        location.key(kind) + (location.own().get(kind) instanceof ConfigList ? "[0]" : ""));
            });
            return new Level(parsed, location.enclosing(NOT_INHERITED, base), base, template, siteKeys, backendNames,
                    names, alias, Map.copyOf(modes));
        }
    }

    /**
     * The {@link LimitMode} keys ({@code log-level}, {@code log}, {@code dry-run}) the locations of a level take for
     * the limits they write themselves, and the key a wrong one is said at (where the nearest of them was written).
     */
    private record InheritedMode(ConfigObject mode, String key) {
    }

    /**
     * The alias of a location that the locations nested in it take where they set no alias or root of their own, as
     * nginx merges {@code alias} inward: its directory stands for {@code prefix} in them too. {@code prefix} null: an
     * alias in a regex location, whose captures a nested location cannot take (then it sets its own), or a bad one
     * (already a problem).
     *
     * @param written   the alias as written, for a problem's text
     * @param directory the alias's directory
     * @param prefix    the request paths it stands for, the prefix location's match
     * @param captures  an alias of an exact or slash-less prefix location ({@link #slashlessAlias}): what a request
     *                  path names below {@code directory}, made of that location's match alone, so a nested
     *                  location takes it as nginx's merge does; null for another
     */
    private record EnclosingAlias(String written, Path directory, String prefix, AliasCaptures captures) {
    }

    /**
     * Why a location whose match is {@code nested} cannot be inside {@code enclosing}, as nginx refuses it; null where
     * it can.
     */
    static String nestingFault(LocationMatch nested, LocationMatch enclosing) {
        String outer = LocationMatch.quoted(enclosing.pattern());
        if (nested.kind() == LocationSettings.Kind.NAMED) {
            return "is a named location inside another: nginx takes them at the site level only (named location \""
                    + nested.pattern() + "\" can be on the server level only)";
        }
        if (enclosing.kind() == LocationSettings.Kind.EXACT) {
            return "is inside the exact location " + outer + ", which nothing but its own path reaches: nginx refuses"
                    + " it (cannot be inside the exact location)";
        }
        if (enclosing.kind() == LocationSettings.Kind.NAMED) {
            return "is inside the named location " + outer + ": nginx refuses it (cannot be inside the named location)";
        }
        if (nested.kind() != LocationSettings.Kind.REGEX && (enclosing.kind() == LocationSettings.Kind.REGEX
                || !nested.pattern().startsWith(enclosing.pattern()))) {
            return "is outside location " + outer + (enclosing.kind() == LocationSettings.Kind.REGEX
                    ? ", a regex, in which only regexes nest" : ": a nested prefix starts with its location's")
                    + " (nginx: location \"" + nested.pattern() + "\" is outside location \"" + enclosing.pattern()
                    + "\")";
        }
        return null;
    }

    private List<LocationSettings> locations(List<Section> sections, Level level) {
        List<LocationSettings> result = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Section defaults = level.defaults();
        ConfigObject template = level.template();
        BackendNames backendNames = level.backendNames();
        Set<String> names = level.names();
        String before = problems.reading(null);
        for (Section location : sections) {
            problems.reading(location.path());
            UnknownKeys.check(location.own(), template, location.path(), Set.of("match", "locations"),
                    Set.of(Section.child(location.path(), "proxy-headers")), level.siteKeys(),
                    problems);
            String match = location.string("match");
            LocationMatch parsed;
            try {
                parsed = LocationMatch.parse(match);
            } catch (IllegalArgumentException e) {
                if (location.isSet("match")) {
                    location.problem("match", LocationMatch.quoted(match) + " " + e.getMessage(), LocationMatch.EXPECTED);
                }
                parsed = null; // its other keys are checked all the same: every problem at once
            }
            String nestingFault = parsed == null || level.enclosing() == null ? null
                    : nestingFault(parsed, level.enclosing());
            if (nestingFault != null) {
                location.problem("match", LocationMatch.quoted(match) + " " + nestingFault,
                        "a regex, or a prefix or exact path that starts with the enclosing prefix, nested in a prefix"
                        + " location (or a regex in a regex location)");
            }
            // "/a" and "^~ /a" are one prefix (nginx: duplicate location): which one applied went by their order
            LocationSettings.Kind kind = parsed == null ? null : parsed.kind() == LocationSettings.Kind.PREFIX_NO_REGEX
                    ? LocationSettings.Kind.PREFIX : parsed.kind();
            // "~ ^/x/" and "~* ^/x/" are two: the second answers /X/
            if (parsed != null && !seen.add(kind + " " + (parsed.regex() == null ? 0 : parsed.regex().flags()) + " "
                    + parsed.pattern())) {
                boolean siteLevel = level.enclosing() == null;
                location.problem("match", LocationMatch.quoted(match) + " duplicates an earlier location "
                        + (siteLevel ? "of this site" : "nested in the same one"), siteLevel ? "each match once per site"
                        : "each match once among a location's nested locations");
            }
            // the location's own: location-defaults' is a problem said once
            boolean alias = location.isSet("alias") && location.own().containsKey("alias");
            // an alias replaces location-defaults' root; beside the location's own it is a problem
            Path root = location.isSet("root") && (!alias || location.own().containsKey("root"))
                    ? directory(location, "root", false) : null;
            AliasCaptures aliasCaptures = null;
            if (alias) {
                if (root != null) {
                    location.problem("alias", "set with root, which it replaces", "alias or root, not both");
                }
                if (parsed != null && parsed.kind() == LocationSettings.Kind.REGEX) {
                    RegexAlias regexAlias = regexAlias(location, parsed.regex());
                    root = regexAlias == null ? null : regexAlias.directory();
                    aliasCaptures = regexAlias == null ? null : regexAlias.captures();
                } else if (slashless(parsed)) {
                    RegexAlias nameAlias = slashlessAlias(location, parsed);
                    root = nameAlias == null ? null : nameAlias.directory();
                    aliasCaptures = nameAlias == null ? null : nameAlias.captures();
                } else {
                    root = directory(location, "alias", false);
                }
            }
            // nginx's merge: a location nested in an alias one, with no alias or root of its own, takes that alias
            EnclosingAlias taken = alias || location.own().containsKey("root") ? null : level.enclosingAlias();
            boolean takesCaptures = taken != null && taken.prefix() == null && taken.captures() != null;
            if (taken != null && taken.prefix() != null) {
                root = taken.directory();
            } else if (takesCaptures) {
                // a slash-less prefix's: its match makes the file, whatever the nested location's own match
                root = taken.directory();
                aliasCaptures = taken.captures();
            } else if (taken != null && taken.directory() != null) {
                location.problemAt(location, "alias", "not set in a location nested in one with alias = "
                        + LocationMatch.quoted(taken.written()) + ", a regex location's, whose captures it cannot take:"
                        + " it would serve the site's root", "alias (or root) set in the nested location itself");
            }
            String aliasPrefix = taken != null && taken.prefix() != null ? taken.prefix()
                    : alias && root != null && aliasCaptures == null && parsed != null ? parsed.pattern() : null;
            // what the locations nested in it take where they set no alias or root of their own (read below)
            EnclosingAlias enclosingAlias = takesCaptures ? taken : aliasPrefix != null ? new EnclosingAlias(
                    location.optionalString("alias"), root, aliasPrefix, null)
                    : alias && !location.own().containsKey("root") ? new EnclosingAlias(location.optionalString(
                            "alias"), root, null, slashless(parsed) ? aliasCaptures : null) : null;
            String fastcgi = location.optionalString("fastcgi");
            String backend = fastcgi == null || namesByVariable(fastcgi) ? fastcgi : backendNames.named(fastcgi);
            VariableText fastcgiChoice = backendChoice(location, "fastcgi", backend, parsed, backendNames);
            Set<String> usable = backendNames.usable();
            if (backend != null && !namesByVariable(backend) && backendNames.isUnknown(backend)) {
                // bad in itself: said once, where written (location-defaults' for every location inheriting it)
                location.invalid("fastcgi", "no backend named \"" + backend + "\""
                                + UnknownKeys.suggestion(backend, usable),
                        usable.isEmpty() ? "a backend defined under edge.fastcgi.backends"
                                : "one of " + String.join(", ", new TreeSet<>(usable)));
            }
            String frontController = location.optionalString("front-controller");
            String frontFault = frontController == null ? null
                    : location.bool("status") ? "is set in a status location"
                    : frontController.startsWith("@") ? namedFault(frontController, names, backend)
                    : backend != null ? aliasScriptFault(frontController, aliasPrefix)
                    : scriptPathFault(frontController);
            if (frontFault != null) {
                location.problem("front-controller", LocationMatch.quoted(frontController) + " " + frontFault,
                        "a path such as \"/index.php\" (or, in a location of files, \"/index.html\" or a named"
                        + " location of this site, such as \"@app\")");
            }
            String fastcgiScript = location.optionalString("fastcgi-script");
            String scriptFault = fastcgiScript == null ? null
                    : backend == null ? "needs a fastcgi backend in the same location"
                    : frontController != null ? "is set with a front-controller (every request runs it: none falls back)"
                    : aliasScriptFault(fastcgiScript, aliasPrefix);
            if (scriptFault != null) {
                location.problem("fastcgi-script", LocationMatch.quoted(fastcgiScript) + " " + scriptFault,
                        "a path such as \"/fpm-status\" in a location with fastcgi = <backend> and no front-controller");
            }
            Pattern splitPathInfo = splitPathInfo(location, backend, fastcgiScript);
            List<Path> sendfileRoots = new ArrayList<>();
            for (Section.Element element : location.elements("x-sendfile")) {
                // "" would resolve to the configuration's directory: a directory no one meant to open to the backend
                String fault = Section.configuredPathFault(element.text());
                if (fault != null) {
                    location.invalid("x-sendfile", element.index(), fault, "a file system path");
                    continue;
                }
                Path path = base.resolve(element.text()).toAbsolutePath().normalize();
                if (!Files.isDirectory(path)) {
                    location.invalid("x-sendfile", element.index(), path + (Files.exists(path) ? " is not a directory" : " does not exist"),
                            "existing directories a backend may send files from");
                } else if (backend == null) {
                    location.problem("x-sendfile", element.index(), "needs a fastcgi backend in the same location",
                            "x-sendfile only in a location with fastcgi = <backend>");
                }
                sendfileRoots.add(path);
            }
            boolean cache = location.bool("cache");
            boolean status = location.bool("status");
            if (status && backend != null) {
                location.problem("status", "true in a location with fastcgi = \"" + backend + "\"",
                        "status = true only in a location of its own, without fastcgi");
            }
            List<AddressRange> statusAllow = addresses(location, "status-allow"); // checked everywhere, kept for status
            boolean named = parsed != null && parsed.kind() == LocationSettings.Kind.NAMED;
            if (named && backend != null && fastcgiScript == null) {
                location.problem("fastcgi", "set in a named location without fastcgi-script: no request's path names"
                        + " a script there", "fastcgi-script = \"/index.php\" beside it, the script it runs (nginx's"
                        + " fastcgi_param SCRIPT_FILENAME $document_root/index.php)");
            }
            // edge's status page, or php-fpm's; a named location's script is the application's
            boolean guarded = status || fastcgiScript != null && !named;
            if (!guarded && location.own().containsKey("status-allow")) {
                // read as nginx's allow, it would seem to guard the location, which every client still reaches
                location.problem("status-allow", (named ? "set in a named location, whose fastcgi-script is every"
                        + " client's" : "set in a location without status = true or fastcgi-script") + ": it guards"
                        + " status pages only, not this location", "status-allow only in a location with status = true"
                        + " or a fastcgi-script, or under location-defaults; access = [\"allow ...\", \"deny all\"] to"
                        + " guard any location");
            }
            Return returns = returnOf(location, parsed, backend, status, frontController, sendfileRoots, cache);
            Rewrite rewrite = rewriteOf(location, parsed, backend, status, frontController, sendfileRoots, cache,
                    returns);
            VariableText proxyChoice = backendChoice(location, "proxy", location.optionalString("proxy"), parsed,
                    proxyNames);
            LocationSettings.Proxy proxy = proxy(location, parsed, backend, proxyChoice);
            if (cache && backend == null && proxy == null) {
                // nginx's fastcgi_cache and proxy_cache: the response cache stands before a backend, of either kind
                location.problem("cache", "true needs a fastcgi or proxy backend in the same location",
                        "cache = true only in a location with fastcgi = <backend> or proxy = <backend>");
            }
            boolean emptyGif = location.bool("empty-gif");
            String besideGif = !emptyGif ? null : backend != null ? "fastcgi" : proxy != null ? "proxy"
                    : returns != null ? "return" : rewrite != null ? "rewrite" : status ? "status = true"
                    : frontController != null ? "front-controller" : null;
            if (besideGif != null) {
                location.problem("empty-gif", "true in a location with " + besideGif, "empty-gif = true in a location"
                        + " of its own, without fastcgi, proxy, return, rewrite, status or front-controller");
            }
            LocationSettings.Handler handler = returns != null ? LocationSettings.Handler.RETURN
                    : rewrite != null ? LocationSettings.Handler.REWRITE
                    : status ? LocationSettings.Handler.STATUS
                    : emptyGif && besideGif == null ? LocationSettings.Handler.EMPTY_GIF
                    : backend != null ? LocationSettings.Handler.FASTCGI
                    : proxy != null ? LocationSettings.Handler.PROXY : LocationSettings.Handler.STATIC;
            if (proxy != null && handler != LocationSettings.Handler.PROXY && backend == null) { // fastcgi: said in proxy()
                location.problem("proxy", "set in a location with " + (returns != null ? "return"
                                : rewrite != null ? "rewrite" : "status = true"),
                        "proxy in a location of its own, without return, rewrite or status");
            }
            Duration expires = expires(location);
            if (expires != null && status) {
                location.problem("expires", "set in a status location", "off: the status page is never cached");
            }
            // their captures are the location regex's (one whose match is a problem: of none)
            Pattern regex = parsed == null ? null : parsed.regex();
            Map<String, VariableText> headers = headers(location.section("headers"), "headers", regex);
            Map<String, VariableText> alwaysHeaders = headers(location.section("always-headers"), "always-headers",
                    regex);
            headersInBoth(location, headers, alwaysHeaders);
            Map<String, VariableText> fastcgiParams = fastcgiParams(location.section("fastcgi-params"), regex);
            // read without a backend too: a bad value is a problem where written, location-defaults' as well
            LocationSettings.NextUpstream fastcgiNextUpstream = nextUpstream(location, "fastcgi",
                    LocationSettings.Condition.FASTCGI);
            Set<String> fastcgiPassHeaders = passHeaders(location, "fastcgi-pass-headers");
            if (backend == null) {
                fastcgiNextUpstream = null;
                setWithout(location, "fastcgi", List.of("fastcgi-next-upstream", "fastcgi-next-upstream-tries",
                        "fastcgi-next-upstream-timeout", "fastcgi-pass-headers"));
            }
            if (backend == null && location.own().get("fastcgi-params") instanceof ConfigObject own && !own.isEmpty()) {
                // the location's own (location-defaults' apply where there is a backend, unused elsewhere)
                location.problem("fastcgi-params", "set in a location without fastcgi",
                        "fastcgi-params only in a location with fastcgi = <backend>, or under location-defaults");
            }
            long bodyLimit = location.isSet("body-limit") ? bodyLimit(location, "body-limit")
                    : LocationSettings.SERVER_BODY_LIMIT;
            // bounded as a response buffer's memory is: what one body may hold of the heap
            int clientBodyBufferSize = (int) location.bytes("client-body-buffer-size", 0, MAX_RESPONSE_BUFFER_MEMORY);
            Section gzipSection = location.section("gzip");
            LocationSettings.Gzip gzip = gzip(gzipSection);
            boolean gzipStatic = gzipSection.bool("static");
            if (gzip == null && !gzipStatic && location.own().containsKey("gzip")) {
                setWhileOff(gzipSection, "gzip", Set.of("enabled", "static"),
                        "enabled = true beside it (or static = true, for files' .gz)");
            }
            LocationSettings.SubFilter subFilter = subFilter(location.section("sub-filter"), regex);
            LocationSettings.ImageFilter imageFilter = imageFilter(location.section("image-filter"), regex);
            boolean internal = location.bool("internal");
            if (internal && named && location.own().containsKey("internal")) {
                location.problem("internal", "true in a named location, which no client's request reaches already",
                        "internal = true only in a location of files that an X-Accel-Redirect sends to");
            } else if (internal && handler != LocationSettings.Handler.STATIC
                    && (level.enclosing() == null || location.own().containsKey("internal"))) {
                // inherited from the location it is nested in, it is nginx's: no client's request reaches it (404)
                location.problem("internal", "true in a location with " + (returns != null ? "return"
                                : rewrite != null ? "rewrite" : status ? "status = true"
                                : handler == LocationSettings.Handler.EMPTY_GIF ? "empty-gif = true" : "fastcgi"),
                        "internal = true only in a location of files that an X-Accel-Redirect sends to");
            }
            if (alias) {
                aliasFault(location, parsed, handler);
            } else if (takesCaptures && handler == LocationSettings.Handler.FASTCGI) {
                location.problemAt(location, "alias", "not set in a location of scripts (fastcgi) nested in one with"
                        + " alias = " + LocationMatch.quoted(taken.written()) + " whose match does not end in /, an"
                        + " alias of files only", "alias (or root) set in the nested location itself, or the"
                        + " enclosing location's match ending in /");
            }
            List<AccessRule> access = accessRules(location);
            List<LimitReq> limitReqs = limits(location, defaults, level.limitModes().get("limit-req"), "limit-req",
                    template, this::limitReq, LimitReq::zone, LimitReq::mode);
            List<LimitConn> limitConns = limits(location, defaults, level.limitModes().get("limit-conn"),
                    "limit-conn", template, this::limitConn, LimitConn::zone, LimitConn::mode);
            LimitRate limitRate = limitRate(location.section("limit-rate"));
            Section listing = location.section("autoindex");
            Autoindex autoindex = autoindex(listing);
            if (autoindex == null && location.own().containsKey("autoindex")) {
                setWhileOff(listing, "autoindex", Set.of("enabled"), "enabled = true beside it");
            }
            if (autoindex != null && handler != LocationSettings.Handler.STATIC
                    && handler != LocationSettings.Handler.FASTCGI && location.own().containsKey("autoindex")
                    && listing.own().containsKey("enabled")) {
                // a location that lists no files (location-defaults' apply where files are served, and are no fault);
                // said at the key the location wrote, where a line is known
                listing.problem("enabled", "true in a location with " + (returns != null ? "return"
                                : rewrite != null ? "rewrite" : status ? "status = true" : "empty-gif = true")
                                + ", which serves no directory",
                        "autoindex in a location of files");
            }
            AuthBasic authBasic = authBasic(location.section("auth-basic"));
            Referers referers = parsed == null ? null : referers(location.section("referers"), parsed.regex());
            SecureLink secureLink = parsed == null ? null : secureLink(location.section("secure-link"),
                    location.own().get("secure-link"), parsed.regex());
            // A return or a rewrite answers before them, as nginx's rewrite phase: written beside one, they would seem
            // to guard a location they never do (location-defaults' apply where the location leads, and are no fault)
            if (authBasic != null && location.own().containsKey("auth-basic") && (returns != null || rewrite != null)) {
                location.problem("auth-basic", "set in a location with " + (returns != null ? "return" : "rewrite")
                        + ", which answers first: no password is asked", "auth-basic in the location a rewrite leads"
                        + " to, or a location of its own");
            }
            if (!limitConns.isEmpty() && location.own().containsKey("limit-conn")
                    && (returns != null || rewrite != null)) {
                // a return answers at once, a rewrite hands the request on: nothing of theirs stays in progress
                String message = "set in a location with " + (returns != null ? "return" : "rewrite")
                        + ", which answers first: nothing is counted";
                String expected = "limit-conn in the location a rewrite leads to, or a location of its own";
                Section connections = location.value("limit-conn") instanceof ConfigObject
                        ? location.section("limit-conn") : null;
                if (connections == null || connections.own().isEmpty()) {
                    location.problem("limit-conn", message, expected); // limit-conn {}: the defaults' max
                } else {
                    // at a key the location wrote: that is where a line is known
                    connections.problem(new TreeSet<>(connections.own().keySet()).first(), message, expected);
                }
            }
            if (!limitReqs.isEmpty() && location.own().containsKey("limit-req") && rewrite != null) {
                location.problem("rewrite", "set beside this location's own limit-req, which it hands the request past:"
                        + " the location it leads to counts it", "limit-req in the location a rewrite leads to");
            }
            List<RewriteRule> rewrites = rewriteRules(location, parsed == null ? null : parsed.regex(), true);
            boolean accessLogged = location.bool("access-log",
                    "true or false (" + UnknownKeys.SERVER_KEYS.get("access-log") + ")");
            // after every value of its own: one bad in itself is said as this location's, one bad only as a nested
            // location inherits it (a capture the nested regex lacks) names that location (Problems#reading)
            List<LocationSettings> nested = List.of();
            if (location.own().containsKey("locations")) {
                Level within = level.within(location, parsed, enclosingAlias);
                nested = locations(location.sections("locations", within.defaults()), within);
            }
            if (parsed == null) {
                continue;
            }
            result.add(new LocationSettings(match, parsed.kind(), parsed.pattern(), parsed.regex(), root, handler,
                    backend, frontController, sendfileRoots, cache, guarded ? statusAllow : List.of(), expires, headers,
                    bodyLimit, fastcgiParams, handler == LocationSettings.Handler.STATIC
                    || handler == LocationSettings.Handler.FASTCGI || handler == LocationSettings.Handler.PROXY
                    || handler == LocationSettings.Handler.RETURN ? gzip : null, // a return's: for its 403's, 404's page
                    gzipStatic && (handler == LocationSettings.Handler.STATIC
                    || handler == LocationSettings.Handler.FASTCGI), internal, fastcgiScript, access,
                    returns, rewrite, limitReqs, limitConns, authBasic, accessLogged, referers,
                    aliasPrefix != null || alias && root != null || takesCaptures, limitRate,
                    handler == LocationSettings.Handler.STATIC || handler == LocationSettings.Handler.FASTCGI ? autoindex
                    : null, alwaysHeaders,
                    root != null ? aliasCaptures : null, handler == LocationSettings.Handler.FASTCGI ? splitPathInfo
                    : null, secureLink, rewrites, handler == LocationSettings.Handler.PROXY ? proxy : null,
                    handler == LocationSettings.Handler.FASTCGI ? fastcgiNextUpstream : null, clientBodyBufferSize,
                    gzipClients(gzipSection), redirects(location), subFilter, nested, aliasPrefix,
                    imageFilter,
                    frontControllerDirectories(location, frontController),
                    handler == LocationSettings.Handler.FASTCGI ? fastcgiChoice
                    : handler == LocationSettings.Handler.PROXY ? proxyChoice : null,
                    handler == LocationSettings.Handler.FASTCGI ? fastcgiPassHeaders : Set.of()));
        }
        problems.reading(before);
        return result;
    }

    /**
     * {@code front-controller-directories}: whether a directory answers before the front controller ($uri/ in nginx's
     * try_files); false written where the location has no front controller is a problem.
     */
    private static boolean frontControllerDirectories(Section location, String frontController) {
        boolean directories = location.bool("front-controller-directories");
        if (!directories && frontController == null && location.own().containsKey("front-controller-directories")) {
            location.problem("front-controller-directories", "false in a location without front-controller",
                    "front-controller-directories beside front-controller, such as { match = \"/\","
                    + " front-controller = \"/index.php\", front-controller-directories = false }");
        }
        return directories;
    }

    /**
     * How the redirects edge makes itself in {@code location} (or, for location-defaults, in a site's rewrites) write
     * their Location: nginx's absolute_redirect, port_in_redirect and server_name_in_redirect, on or off.
     */
    private static LocationSettings.Redirects redirects(Section location) {
        return new LocationSettings.Redirects(
                location.bool("absolute-redirect", "true or false (nginx's absolute_redirect on or off)"),
                location.bool("port-in-redirect", "true or false (nginx's port_in_redirect on or off)"),
                location.bool("server-name-in-redirect", "true or false (nginx's server_name_in_redirect on or off)"));
    }

    /** The names of the named locations ({@code match = "@app"}) among a site's {@code locations}, as written. */
    private static Set<String> namedLocations(List<Section> locations) {
        Set<String> names = new HashSet<>();
        for (Section location : locations) {
            ConfigValue match = location.value("match");
            if (match != null && match.valueType() == ConfigValueType.STRING
                    && ((String) match.unwrapped()).strip().startsWith("@")) {
                names.add(((String) match.unwrapped()).strip());
            }
        }
        return names;
    }

    /**
     * Why {@code name} ({@code "@app"}) cannot be a front-controller or an error page: no location of the site has it,
     * or it is a PHP location's front controller, whose path names its script; null where it can.
     */
    private static String namedFault(String name, Set<String> names, String backend) {
        if (!names.contains(name)) {
            return "names no location of this site" + UnknownKeys.suggestion(name, names);
        }
        return backend == null ? null : "is set in a location with fastcgi: a named front-controller is a location of"
                + " files' (nginx's try_files $uri $uri/ " + name + ")";
    }

    /**
     * A location's {@code proxy} with its {@code proxy-uri}, {@code proxy-headers} and {@code proxy-upgrade}, or null
     * where it names no group (or one with a problem, reported here or at the group); {@code backend} is its fastcgi,
     * which excludes it; {@code choice} the text that names its group where variables do ({@link #backendChoice}).
     */
    private LocationSettings.Proxy proxy(Section location, LocationMatch parsed, String backend, VariableText choice) {
        String proxy = location.optionalString("proxy");
        String name = proxy == null || namesByVariable(proxy) ? proxy : proxyNames.named(proxy);
        String uri = location.optionalString("proxy-uri");
        Pattern regex = parsed == null ? null : parsed.regex();
        Map<String, VariableText> headers = headers(location.section("proxy-headers"), "proxy-headers", regex);
        boolean upgrade = location.bool("proxy-upgrade");
        boolean buffering = location.bool("proxy-buffering");
        boolean requestBuffering = location.bool("proxy-request-buffering",
                "true or false (nginx's proxy_request_buffering on or off)");
        Set<String> passHeaders = passHeaders(location, "proxy-pass-headers");
        if (name == null) {
            // a bad value is a problem where written all the same, location-defaults' too, as proxy-buffering's
            nextUpstream(location, "proxy", EnumSet.allOf(LocationSettings.Condition.class));
            if (uri != null || location.own().get("proxy-headers") instanceof ConfigObject own && !own.isEmpty()) {
                location.problem(uri != null ? "proxy-uri" : "proxy-headers", "set in a location without proxy",
                        "proxy-uri and proxy-headers only in a location with proxy = <backend>, proxy-headers also"
                        + " under location-defaults");
            } else {
                setWithout(location, "proxy", List.of("proxy-upgrade", "proxy-buffering", "proxy-request-buffering",
                        "proxy-redirect", "proxy-next-upstream", "proxy-next-upstream-tries",
                        "proxy-next-upstream-timeout", "proxy-pass-headers"));
            }
            return null;
        }
        LocationSettings.NextUpstream nextUpstream = nextUpstream(location, "proxy",
                EnumSet.allOf(LocationSettings.Condition.class));
        if (!namesByVariable(name) && proxyNames.isUnknown(name)) {
            Set<String> usable = proxyNames.usable();
            location.invalid("proxy", "no backend named \"" + name + "\"" + UnknownKeys.suggestion(name, usable),
                    usable.isEmpty() ? "a backend defined under edge.proxy.backends"
                            : "one of " + String.join(", ", new TreeSet<>(usable)));
        }
        if (backend != null) {
            location.problem("proxy", "set with fastcgi = \"" + backend + "\"", "fastcgi or proxy, not both");
        }
        if (uri != null && (!uri.startsWith("/") || !uri.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            location.problem("proxy-uri", LocationMatch.quoted(uri) + " is not a path",
                    "a path from the root such as \"/\" or \"/v2/\", printable ASCII, no spaces");
        } else if (uri != null && parsed != null && (parsed.kind() == LocationSettings.Kind.REGEX
                || parsed.kind() == LocationSettings.Kind.NAMED)) {
            // as nginx: a regex names no part of the path to replace, nor does a named location
            location.problem("proxy-uri", "set in a " + (parsed.kind() == LocationSettings.Kind.REGEX ? "regex"
                            : "named") + " location, which names no prefix to replace",
                    "proxy-uri in a prefix or exact location; a rewrite for a regex one");
        }
        if (namesByVariable(name)) {
            // each group's $proxy_host; no default proxy-redirect, which names one group's, as nginx's with variables
            Map<String, String> hosts = new HashMap<>();
            proxyBackends.forEach((group, settings) -> {
                if (!settings.addresses().isEmpty()) {
                    hosts.put(group, proxyHost(settings.addresses().get(0)));
                }
            });
            List<LocationSettings.Proxy.Redirect> redirects = proxyRedirects(location, regex, null);
            return choice == null ? null : new LocationSettings.Proxy(name, uri, null, headers, upgrade, redirects,
                    nextUpstream, buffering, requestBuffering, passHeaders, hosts);
        }
        BackendGroupSettings group = proxyBackends.get(name);
        String host = group == null || group.addresses().isEmpty() ? null : proxyHost(group.addresses().get(0));
        String prefix = parsed == null || parsed.kind() == LocationSettings.Kind.REGEX
                || parsed.kind() == LocationSettings.Kind.NAMED ? null : parsed.pattern();
        List<LocationSettings.Proxy.Redirect> redirects = proxyRedirects(location, regex,
                defaultRedirect(group != null && group.tls() != null ? "https://" : "http://", host, uri, prefix));
        return host == null ? null : new LocationSettings.Proxy(name, uri, host, headers, upgrade, redirects,
                nextUpstream, buffering, requestBuffering, passHeaders);
    }

    /** Whether a location's fastcgi or proxy, as written, names its group with variables ({@code "$pool"}). */
    private static boolean namesByVariable(String written) {
        return written != null && written.indexOf('$') >= 0;
    }

    /** Variables whose value is not known before the request goes to a group, so cannot choose it. */
    private static final Set<String> UNKNOWN_BEFORE_GROUP = Set.of("proxy_host", "upstream_cache_status");

    /**
     * A location's {@code key} ({@code fastcgi} or {@code proxy}) written with variables, nginx's {@code fastcgi_pass
     * $pool} and {@code proxy_pass http://$pool}: the text whose value names, for each request, the group of that kind
     * it goes to (any variable edge has, a map's, a regex location's capture). Null where {@code written} names its
     * group itself, or with a problem said: a variable edge does not have, one not known before a group is chosen.
     * Where every value the text can take is known at load (maps of text) and none names one of {@code groups}, it
     * loads with a warning, as nginx -t passes {@code proxy_pass http://$pool;} whatever its map holds.
     */
    private VariableText backendChoice(Section location, String key, String written, LocationMatch parsed,
            BackendNames groups) {
        if (!namesByVariable(written)) {
            return null;
        }
        VariableText text = variableText(location, key, written, key, parsed == null ? null : parsed.regex());
        if (text == null) {
            return null;
        }
        String late = text.parts().stream().map(Return.Part::variable)
                .filter(variable -> variable != null && UNKNOWN_BEFORE_GROUP.contains(variable)).findFirst()
                .orElse(null);
        if (text.constant() != null || late != null) {
            location.problem(key, LocationMatch.quoted(written) + (late != null ? " has $" + late + ", which is not"
                            + " known before the group is chosen" : " names no variable"),
                    "a group's name, or variables whose value is one (\"$pool\" from a map)");
            return null;
        }
        Set<String> values = possibleValues(text.parts());
        if (values != null && !groups.allReported() && values.stream().noneMatch(groups::names)) {
            ConfigProblem warning = location.writtenAtItsWriter(key).problem(LocationMatch.quoted(written) + " can only be "
                    + values.stream().map(LocationMatch::quoted).collect(Collectors.joining(", ")) + ", which name no "
                    + "group of edge." + key + ".backends: each of its requests is answered as one naming no group ("
                    + (key.equals("proxy") ? "502, 500 for an empty value" : "500") + ")");
            if (!warnings.contains(warning)) { // once where location-defaults wrote it
                warnings.add(warning);
            }
        }
        return text;
    }

    /** The most values {@link #possibleValues} lists; a text that can take more is taken as any. */
    private static final int MOST_VALUES = 64;

    /**
     * Each map's values ({@link #mapValues}) as worked out once, empty for one that can take any: a map named by many
     * entries of another, in a chain of such maps, is not gone through again for each (31^8 texts for 8 maps of 30).
     */
    private final Map<VariableMap, Optional<Set<String>>> mapValues = new IdentityHashMap<>();

    /** Every value {@code map} can come out as ({@link #possibleValues} of each of its values), or null. */
    private Set<String> mapValues(VariableMap map) {
        Optional<Set<String>> known = mapValues.get(map);
        if (known != null) {
            return known.orElse(null);
        }
        Set<String> values = new TreeSet<>();
        for (List<Return.Part> value : map.values()) {
            Set<String> taken = possibleValues(value); // maps in a cycle are none
            if (taken == null) {
                values = null;
                break;
            }
            values.addAll(taken);
            if (values.size() > MOST_VALUES) {
                values = null; // a geo of many ranges: not gathered whole for each location
                break;
            }
        }
        mapValues.put(map, Optional.ofNullable(values));
        return values;
    }

    /**
     * Every value {@code parts} can come out as, in order, where each part is text or a map whose values are such
     * texts; null where one is not known at load (another variable, a capture, one {@link #assigned}) or there are over
     * {@link #MOST_VALUES}.
     */
    private Set<String> possibleValues(List<Return.Part> parts) {
        Set<String> values = Set.of("");
        for (Return.Part part : parts) {
            Set<String> partValues = new TreeSet<>();
            if (part.literal() != null) {
                partValues.add(part.literal());
            } else if (part.map() != null && !assigned.contains(part.variable())) {
                Set<String> taken = mapValues(part.map());
                if (taken == null) {
                    return null;
                }
                partValues.addAll(taken);
            } else {
                return null;
            }
            Set<String> joined = new TreeSet<>();
            for (String before : values) {
                for (String value : partValues) {
                    joined.add(before + value);
                }
            }
            if (joined.size() > MOST_VALUES) {
                return null;
            }
            values = joined;
        }
        return values;
    }

    /**
     * A location's {@code proxy-pass-headers} or {@code fastcgi-pass-headers} ({@code key}): field names, lower case,
     * each a problem where it is no field name. One that nothing hides is passed all the same, as nginx's {@code
     * proxy_pass_header} and {@code fastcgi_pass_header} take any name.
     */
    private static Set<String> passHeaders(Section location, String key) {
        Set<String> names = new HashSet<>();
        for (Section.Element element : location.elements(key)) {
            String name = element.text();
            if (name.isEmpty() || HttpHeaderValidationUtil.validateToken(name) != -1) {
                location.problem(key, element.index(), LocationMatch.quoted(name) + " is not a header name",
                        "a field name such as Server or X-Accel-Expires");
            } else {
                names.add(name.toLowerCase(Locale.ROOT));
            }
        }
        return names;
    }

    /**
     * A problem at each of {@code settings} the location wrote itself while it has no {@code handler} ({@code proxy},
     * {@code fastcgi}): location-defaults' apply where it has one, and are no fault elsewhere.
     */
    private static void setWithout(Section location, String handler, List<String> settings) {
        for (String setting : settings) {
            if (location.own().get(setting) != null) {
                location.problem(setting, "set in a location without " + handler, setting + " only in a location with "
                        + handler + " = <backend>, or under location-defaults");
            }
        }
    }

    /** What proxy-redirect accepts. */
    private static final String PROXY_REDIRECT_EXPECTED = "default, off, or a list of { from = \"...\", to = \"...\" }"
            + " and default, such as [{ from = \"http://app:3000/\", to = \"/\" }, default]";

    /**
     * A location's {@code proxy-redirect}, nginx's {@code proxy_redirect}: {@code default} ({@code byDefault}),
     * {@code off} (none), or a list of pairs and {@code default}s, in order. A pair's {@code from} is a start of a URL
     * or a regular expression, its {@code to} what replaces it, both with the request's variables and the location
     * regex's captures (the to of a regular expression its own). A null {@code byDefault} is a proxy variables name,
     * whose group's URL is not known at load ({@link #defaultWithVariable}).
     */
    private List<LocationSettings.Proxy.Redirect> proxyRedirects(Section location, Pattern regex,
            LocationSettings.Proxy.Redirect byDefault) {
        ConfigValue value = location.value("proxy-redirect");
        if (value == null || value.valueType() == ConfigValueType.NULL
                || value.valueType() == ConfigValueType.BOOLEAN && !((Boolean) value.unwrapped())) {
            return List.of(); // "off" unquoted may read as false
        }
        if (value.valueType() == ConfigValueType.STRING) {
            switch (((String) value.unwrapped()).strip()) {
                case "default" -> {
                    return byDefault != null ? List.of(byDefault) : defaultWithVariable(location, value);
                }
                case "off", "false", "none" -> {
                    return List.of();
                }
                default -> {
                }
            }
        }
        if (!(value instanceof ConfigList list)) {
            location.problem("proxy-redirect", Section.render(value) + " is not a proxy-redirect",
                    PROXY_REDIRECT_EXPECTED);
            return List.of();
        }
        List<LocationSettings.Proxy.Redirect> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            ConfigValue element = list.get(i);
            if (element.valueType() == ConfigValueType.STRING && "default".equals(element.unwrapped())) {
                if (byDefault != null) {
                    result.add(byDefault);
                } else {
                    defaultWithVariable(location, element);
                }
            } else if (element instanceof ConfigObject pair) {
                Section section = new Section(pair, location.key("proxy-redirect") + "[" + i + "]", pair.origin(),
                        problems);
                LocationSettings.Proxy.Redirect redirect = redirectPair(section, regex);
                if (redirect != null) {
                    result.add(redirect);
                }
            } else {
                location.problem("proxy-redirect", i, Section.render(element) + " is not a pair or default",
                        "{ from = \"...\", to = \"...\" } or default");
            }
        }
        return result;
    }

    /**
     * proxy-redirect's {@code default} in a location whose proxy a variable names: none, for reference.conf's (the
     * group's URL is not known at load), a problem where written, as nginx refuses it.
     */
    private static List<LocationSettings.Proxy.Redirect> defaultWithVariable(Section location, ConfigValue written) {
        if (written.origin().resource() == null && !Substitutions.isCopiedDefault(written.origin())) {
            location.problem("proxy-redirect", "default in a location whose proxy a variable names: no one group's URL"
                    + " to replace (nginx: \"proxy_redirect default\" cannot be used with \"proxy_pass\" directive"
                    + " with variables)", "off, or pairs { from = \"http://app:3000/\", to = \"/\" }");
        }
        return List.of();
    }

    /**
     * One of proxy-redirect's pairs, or null with its problems said. A {@code from} written {@code ~regex} (or
     * {@code ~*regex}, ignoring case) is a regular expression, whose captures are the {@code to}'s $1 and named groups
     * in place of the location's.
     */
    private LocationSettings.Proxy.Redirect redirectPair(Section pair, Pattern locationRegex) {
        for (String key : new TreeSet<>(pair.object().keySet())) {
            if (!key.equals("from") && !key.equals("to")) {
                pair.problem(key, "unknown key" + UnknownKeys.suggestion(key, Set.of("from", "to")),
                        "from and to only");
            }
        }
        String fromText = redirectText(pair, "from", "the start of a URL the backend sends, such as"
                + " \"http://app:3000/\", or ~ and a regular expression");
        String toText = redirectText(pair, "to", "what replaces it, such as \"/\" or \"https://$host/\"");
        VariableText from = null;
        Pattern regex = null;
        if (fromText != null && fromText.startsWith("~")) {
            try {
                regex = LocationMatch.parse(fromText).regex();
            } catch (IllegalArgumentException e) {
                pair.problem("from", LocationMatch.quoted(fromText) + " " + e.getMessage(),
                        "~ and a regular expression, ~* to ignore case: \"~^http://[^/]+/(.*)$\"");
            }
        } else if (fromText != null && fromText.isEmpty()) {
            pair.problem("from", "empty", "the start of a URL, compared as written, such as \"http://app:3000/\"");
        } else if (fromText != null) {
            from = variableText(pair, "from", fromText, "proxy-redirect", locationRegex);
        }
        VariableText to = toText == null ? null : regex != null
                ? variableText(pair, "to", toText, "proxy-redirect", regex, "its from's regex")
                : variableText(pair, "to", toText, "proxy-redirect", locationRegex);
        return from == null && regex == null || to == null ? null
                : new LocationSettings.Proxy.Redirect(from, regex, to);
    }

    /** A pair's {@code from} or {@code to} as written, or null where it is missing or no URL (a problem said). */
    private static String redirectText(Section pair, String key, String expected) {
        String text = pair.optionalString(key);
        if (text == null) {
            pair.missing(key, expected);
        } else if (!text.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            pair.problem(key, LocationMatch.quoted(text) + " is not a URL", "printable ASCII, no spaces");
            return null;
        }
        return text;
    }

    /**
     * nginx's {@code proxy_redirect default}: the proxy_pass URL, {@code http://} ({@code https://} to a group with
     * tls) and {@code $proxy_host} (the Host a
     * backend sees by default, from which it makes its absolute redirects) with the proxy-uri, replaced by the
     * location's prefix ({@code http://127.0.0.1:3000/} by {@code /api/} for {@code /api/} with {@code proxy-uri = "/"});
     * without a proxy-uri (or in a regex location) {@code http://$proxy_host/} by {@code /}.
     */
    static LocationSettings.Proxy.Redirect defaultRedirect(String scheme, String host, String uri, String prefix) {
        boolean replaced = uri != null && prefix != null;
        return new LocationSettings.Proxy.Redirect(VariableText.of(scheme + host + (replaced ? uri : "/")), null,
                VariableText.of(replaced ? prefix : "/"));
    }

    /**
     * A location's {@code <module>-next-upstream} ({@code proxy} or {@code fastcgi}: nginx's proxy_next_upstream or
     * fastcgi_next_upstream, its conditions written as nginx's, of {@code accepted}), its -tries and its -timeout.
     */
    private static LocationSettings.NextUpstream nextUpstream(Section location, String module,
            Set<LocationSettings.Condition> accepted) {
        String key = module + "-next-upstream";
        String directive = module + "_next_upstream";
        String expected = "some of " + accepted.stream().map(c -> c.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", ")) + "; or [off] alone";
        Set<LocationSettings.Condition> conditions = EnumSet.noneOf(LocationSettings.Condition.class);
        List<Section.Element> elements = location.elements(key);
        boolean off = false;
        for (Section.Element element : elements) {
            String text = element.text();
            LocationSettings.Condition condition = accepted.stream()
                    .filter(c -> c.name().toLowerCase(Locale.ROOT).equals(text)).findFirst().orElse(null);
            if (text.equals("off")) {
                off = true;
            } else if (condition == null) {
                location.invalid(key, element.index(), "\"" + text + "\" is not a " + directive + " condition",
                        expected);
            } else {
                conditions.add(condition);
            }
        }
        if (off && elements.size() > 1) {
            location.invalid(key, "off with other conditions", "[off] alone, or the conditions without it");
        } else if (elements.isEmpty() && !location.isInvalid(key)) {
            location.invalid(key, "no condition", expected + " (nginx's " + directive + " off)");
        }
        int tries = location.integer(key + "-tries", 0, Integer.MAX_VALUE);
        Duration timeout = location.duration(key + "-timeout", true);
        return new LocationSettings.NextUpstream(off ? Set.of() : conditions, tries, timeout);
    }

    /**
     * nginx's {@code $proxy_host} for a backend address ({@link Addresses#backend}'s form): {@code host:port}, the
     * port left out when it is 80, and {@code localhost} for a Unix socket, as nginx sends to {@code http://unix:...}.
     */
    static String proxyHost(String address) {
        if (address.startsWith(Addresses.UNIX_PREFIX)) {
            return "localhost";
        }
        return address.endsWith(":80") ? address.substring(0, address.length() - 3) : address;
    }

    /**
     * A location's split-path-info, or null for edge's default: a problem where it is no split of a path into a script
     * name and PATH_INFO ({@link SplitPathInfo}), or where the location wrote it and splits no script's path (it has no
     * fastcgi, or one fastcgi-script). location-defaults' applies where there is a backend, and is no fault elsewhere.
     */
    private static Pattern splitPathInfo(Section location, String backend, String fastcgiScript) {
        String text = location.optionalString("split-path-info");
        if (text == null) {
            return null;
        }
        Pattern split;
        try {
            split = SplitPathInfo.parse(text);
        } catch (IllegalArgumentException e) {
            // bad in itself: said once, where written (location-defaults' for every location inheriting it)
            location.invalid("split-path-info", LocationMatch.quoted(text) + " " + e.getMessage(),
                    SplitPathInfo.EXPECTED);
            return null;
        }
        if (location.own().containsKey("split-path-info") && (backend == null || fastcgiScript != null)) {
            location.problem("split-path-info", "set in a location " + (backend == null ? "without fastcgi"
                            : "with a fastcgi-script, which runs with no PATH_INFO"),
                    "split-path-info only in a location with fastcgi = <backend>, or under location-defaults");
        }
        return split;
    }

    /**
     * A site's or a location's {@code rewrites} (nginx's {@code if} with a return or a rewrite, and bare rewrites), in
     * order; each entry that is no object, names another key, or has a bad condition, return or rewrite a problem at
     * its key. {@code regex}: a location's, whose captures an entry's return has where its condition has none.
     */
    private List<RewriteRule> rewriteRules(Section owner, Pattern regex, boolean inLocation) {
        List<RewriteRule> rules = new ArrayList<>();
        Section none = new Section(ConfigValueFactory.fromMap(Map.of()), "", owner.anchor(), problems);
        Set<String> keys = Set.of("if", "return", "rewrite", "set");
        int ranGroups = groups(regex); // the most groups of a regex met so far: whose $1 to $9 a text may name
        // the named groups of the regexes met so far (the location's, the entries'): nginx keeps each as a variable of
        // the match that set it, so a text after them may name any of them
        Map<Pattern, Set<String>> groups = new HashMap<>();
        Set<String> earlier = new TreeSet<>();
        named(regex, groups, earlier);
        for (Section entry : owner.sections("rewrites", none)) {
            boolean unknown = false; // a misspelled key: its return or rewrite not said missing too
            for (String key : new TreeSet<>(entry.own().keySet())) {
                if (!keys.contains(key)) {
                    entry.problem(key, "is no key of a rewrites entry" + UnknownKeys.suggestion(key, keys),
                            RewriteRule.EXPECTED);
                    unknown = true;
                }
            }
            if (unknown) {
                continue;
            }
            String condition = entry.isSet("if") ? entry.optionalString("if") : null;
            String answer = entry.isSet("return") ? entry.optionalString("return") : null;
            String rewrite = entry.isSet("rewrite") ? entry.optionalString("rewrite") : null;
            List<Section.Element> sets = setsOf(entry);
            if (answer != null && rewrite != null) {
                entry.problem("rewrite", "set beside a return, which answers first", "return or rewrite, not both");
                continue;
            }
            if (answer == null && rewrite == null && sets == null) {
                problems.add(entry.anchor(), entry.path(), "has neither return, rewrite nor set",
                        RewriteRule.EXPECTED);
                continue;
            }
            RewriteRule.Condition parsedCondition = null;
            if (condition != null) {
                try {
                    parsedCondition = RewriteRule.condition(condition, checkedCaptures(regex, ranGroups), maps,
                            earlier);
                } catch (IllegalArgumentException e) {
                    entry.invalid("if", LocationMatch.quoted(condition) + " " + capturesProblem(e, inLocation),
                            RewriteRule.CONDITION_EXPECTED);
                    continue;
                }
                if (variableGroup(entry, "if", condition, parsedCondition.regex())) {
                    continue;
                }
            }
            named(parsedCondition == null ? null : parsedCondition.regex(), groups, earlier); // its if's ran first
            Pattern captures = parsedCondition != null && parsedCondition.regex() != null ? parsedCondition.regex()
                    : regex;
            Pattern checked = captures == regex ? checkedCaptures(regex, ranGroups) : captures;
            RewriteRule rule = null;
            if (answer != null) {
                try {
                    rule = new RewriteRule(parsedCondition, Return.parse(answer, checked, maps, earlier), captures,
                            null, RewriteRule.Flag.NONE, null);
                } catch (IllegalArgumentException e) {
                    entry.invalid("return", LocationMatch.quoted(answer) + " " + capturesProblem(e, inLocation),
                            Return.EXPECTED);
                    continue;
                }
            } else if (rewrite != null) {
                try {
                    rule = RewriteRule.rewrite(parsedCondition, rewrite, maps, inLocation, earlier);
                } catch (IllegalArgumentException e) {
                    entry.invalid("rewrite", LocationMatch.quoted(rewrite) + " " + e.getMessage(),
                            RewriteRule.REWRITE_EXPECTED);
                    continue;
                }
                if (variableGroup(entry, "rewrite", rewrite, rule.regex())) {
                    continue;
                }
            } else {
                rule = new RewriteRule(parsedCondition, null, captures, null, RewriteRule.Flag.NONE, null);
            }
            if (rewrite != null) {
                named(rule.regex(), groups, earlier);
            }
            if (sets != null) {
                rule = rule.withSets(assignments(entry, sets, rewrite != null ? rule.regex() : checked, earlier,
                        inLocation));
            }
            rules.add(rule);
            ranGroups = Math.max(ranGroups, Math.max(groups(rule.regex()), parsedCondition == null ? 0
                    : groups(parsedCondition.regex())));
        }
        Map<Pattern, Set<String>> all = Map.copyOf(groups); // one map, which each entry's copy is
        return rules.stream().map(rule -> rule.withGroups(all)).toList();
    }

    /**
     * Whether {@code regex}, of {@code entry}'s {@code key} written {@code written} (a rewrite's, an if's, a map
     * entry's), has a group named as one of edge's variables ({@link LocationMatch#variableGroupFault}), a problem at
     * that key.
     */
    static boolean variableGroup(Section entry, String key, String written, Pattern regex) {
        String fault = LocationMatch.variableGroupFault(regex);
        if (fault != null) {
            entry.invalid(key, LocationMatch.quoted(written) + " " + fault, LocationMatch.VARIABLE_GROUP_EXPECTED);
        }
        return fault != null;
    }

    /** Adds {@code regex}'s named groups (none where null, or it has none) to {@code groups} and {@code earlier}. */
    private static void named(Pattern regex, Map<Pattern, Set<String>> groups, Set<String> earlier) {
        Set<String> names = Return.namedGroups(regex);
        if (!names.isEmpty()) {
            groups.put(regex, Set.copyOf(names));
            earlier.addAll(names);
        }
    }

    private static int groups(Pattern regex) {
        return regex == null ? 0 : regex.matcher("").groupCount();
    }

    /**
     * {@code regex} (null: none) as an entry's captures are checked: its named groups, and as many numbered ones as the
     * most a regex met before the entry has ({@code ranGroups}), as nginx's $1 to $9 are the last regex's that ran
     * ("rewrite ^/(a)(.*)$ /x$2; set $v $1;" in a prefix location); one past them all is a problem.
     */
    private static Pattern checkedCaptures(Pattern regex, int ranGroups) {
        int own = groups(regex);
        if (own >= ranGroups) {
            return regex;
        }
        String more = "()".repeat(ranGroups - own);
        return regex == null ? Pattern.compile(more) : Pattern.compile("(?:" + regex.pattern() + ")" + more,
                regex.flags());
    }

    /** An entry's {@code set}: one string or a list of them; null where it has none (or a problem was said). */
    private static List<Section.Element> setsOf(Section entry) {
        if (!entry.isSet("set")) {
            return null;
        }
        if (entry.value("set").valueType() == ConfigValueType.LIST) {
            List<Section.Element> sets = entry.elements("set");
            if (sets.isEmpty()) {
                entry.invalid("set", "[] sets nothing", RewriteRule.SET_EXPECTED); // and is said nowhere else
            }
            return sets;
        }
        String written = entry.optionalString("set");
        return written == null ? null : List.of(new Section.Element(-1, written));
    }

    /**
     * An entry's sets, their values' captures {@code regex}'s and the named groups {@code earlier}; each that is
     * written wrong a problem.
     */
    private List<RewriteRule.Assignment> assignments(Section entry, List<Section.Element> sets, Pattern regex,
            Set<String> earlier, boolean inLocation) {
        List<RewriteRule.Assignment> assignments = new ArrayList<>();
        for (Section.Element set : sets) {
            try {
                assignments.add(RewriteRule.set(set.text(), regex, maps, earlier));
            } catch (IllegalArgumentException e) {
                String message = LocationMatch.quoted(set.text()) + " " + capturesProblem(e, inLocation);
                if (set.index() < 0) {
                    entry.invalid("set", message, RewriteRule.SET_EXPECTED);
                } else {
                    entry.invalid("set", set.index(), message, RewriteRule.SET_EXPECTED);
                }
            }
        }
        return assignments;
    }

    /**
     * {@code e}'s message of a rewrites entry's if, return or set; a site's capture without a regex says where a site's
     * captures come from: its entries are in no location, and their captures are an if regex's alone.
     */
    private static String capturesProblem(IllegalArgumentException e, boolean inLocation) {
        String message = e.getMessage();
        if (inLocation || !message.contains(Return.NO_REGEX)) {
            return message;
        }
        // the maps named after it, if any, are left off: a capture is no map
        return message.substring(0, message.indexOf(Return.NO_REGEX)) + ", but a site's rewrites have no"
                + " location regex: an if with a regex has the captures (\"$uri ~ ^/(.*)$\")";
    }

    /**
     * A location's {@code return}, or null when it has none; a problem where it is set beside what answers a location
     * otherwise (a backend, the status page, a front controller, X-Sendfile directories, the response cache): nginx
     * would answer with the return and never reach them.
     */
    private Return returnOf(Section location, LocationMatch parsed, String backend, boolean status,
            String frontController, List<Path> sendfileRoots, boolean cache) {
        String written = location.optionalString("return");
        if (written == null) {
            return null;
        }
        if (answersOtherwise(location, "return", backend, status, frontController, sendfileRoots, cache)) {
            return null;
        }
        if (parsed == null) {
            return null; // its match is a problem already: which captures it has is not known
        }
        try {
            return Return.parse(written, parsed.regex(), maps);
        } catch (IllegalArgumentException e) {
            location.invalid("return", LocationMatch.quoted(written) + " " + e.getMessage(), Return.EXPECTED);
            return null;
        }
    }

    /**
     * A location's {@code rewrite}, or null when it has none; a problem where it is set beside a {@code return} or what
     * answers a location otherwise, as for {@link #returnOf}.
     */
    private Rewrite rewriteOf(Section location, LocationMatch parsed, String backend, boolean status,
            String frontController, List<Path> sendfileRoots, boolean cache, Return returns) {
        String written = location.optionalString("rewrite");
        if (written == null) {
            return null;
        }
        if (returns != null || location.isSet("return")) {
            location.problem("rewrite", "set in a location with a return, which answers first",
                    "return or rewrite in a location, not both");
            return null;
        }
        if (answersOtherwise(location, "rewrite", backend, status, frontController, sendfileRoots, cache)) {
            return null;
        }
        if (parsed == null) {
            return null; // as for a return
        }
        try {
            return Rewrite.parse(written, parsed.regex(), maps);
        } catch (IllegalArgumentException e) {
            location.invalid("rewrite", LocationMatch.quoted(written) + " " + e.getMessage(), Rewrite.EXPECTED);
            return null;
        }
    }

    /**
     * Whether {@code key} (a return or rewrite, which answers every request of its location) is set beside what answers
     * a location otherwise (a backend, the status page, a front controller, X-Sendfile directories, the response
     * cache), which nginx would never reach: a problem then.
     */
    private static boolean answersOtherwise(Section location, String key, String backend, boolean status,
            String frontController, List<Path> sendfileRoots, boolean cache) {
        String beside = backend != null ? "fastcgi = \"" + backend + "\"" : status ? "status = true"
                : frontController != null ? "a front-controller" : !sendfileRoots.isEmpty() ? "x-sendfile"
                : cache ? "cache = true" : null;
        if (beside != null) {
            location.problem(key, "set in a location with " + beside + ", which it would never reach", key
                    + " in a location of its own, with no fastcgi, status, front-controller, x-sendfile or cache");
        }
        return beside != null;
    }

    /**
     * A location's limits of one {@code kind} ({@code limit-req}, {@code limit-conn}): one object, or a list of them,
     * nginx's several {@code limit_req} (or {@code limit_conn}) in a location, each in its own zone and every one
     * applying; each element with reference.conf's defaults ({@code template}'s) under it, as location-defaults' own
     * limit is not (a list replaces it whole). A zone named twice in one list is a problem, as nginx's "is duplicate".
     * A location's own object beside a list in {@code locationDefaults} has reference.conf's defaults under it too,
     * and so does one naming a zone other than location-defaults' object's: that zone's limit, as nginx's limit_req in
     * a location replaces the inherited one whole (burst, nodelay, a key are of the defaults' zone; a login zone took
     * their burst of 20), but for the keys nginx inherits apart ({@link #MODE_KEYS}: what {@code inheritedMode} holds).
     * One naming the defaults' zone, or none, inherits what it leaves out.
     * One without a zone has a table of the location's own, inherited from location-defaults too; a nested location
     * that inherits it from the location it is in shares that location's table.
     */
    private <T> List<T> limits(Section location, Section locationDefaults, InheritedMode inheritedMode, String kind,
            ConfigObject template,
            BiFunction<Section, String, T> read, Function<T, String> zone, Function<T, LimitMode> mode) {
        ConfigObject defaults = objectOrEmpty(template.get(kind));
        ConfigValue inherited = locationDefaults.value(kind);
        String referencePath = kind;
        if (location.own().get(kind) != null) {
            // nginx's limit_req_log_level and limit_req_dry_run are inherited apart from limit_req: a location's own
            // limits take them from location-defaults' (or the enclosing location's, which took them from there)
            // where they write none, a wrong one said there
            defaults = inheritedMode.mode().withFallback(defaults);
            referencePath = inheritedMode.key();
            if (location.own().get(kind) instanceof ConfigList list && !list.isEmpty()
                    && list.get(0) instanceof ConfigObject first && first.get("dry-run") != null) {
                // nginx's dry run is the location's: the first entry's, for the entries that write none
                defaults = first.withOnlyKey("dry-run").withFallback(defaults);
            }
        }
        Section reference = new Section(defaults, referencePath, defaults.origin(), problems);
        ConfigValue value = location.value(kind);
        if (value instanceof ConfigObject && location.own().get(kind) instanceof ConfigObject written
                && (inherited instanceof ConfigList || namesAnotherZone(written, inherited))) {
            // copied: HOCON's object, merged over the defaults' list, ignores any fallback from then on
            ConfigObject own = ConfigValueFactory.fromMap(new LinkedHashMap<>(written));
            T limit = read.apply(location.withDefaults(own, reference, location.key(kind), written.origin()),
                    location.key(kind));
            return limit == null ? List.of() : List.of(limit);
        }
        if (!(value instanceof ConfigList)) {
            T limit = read.apply(location.section(kind), location.inheritedKey(kind));
            return limit == null ? List.of() : List.of(limit);
        }
        List<T> result = new ArrayList<>();
        Map<String, String> zones = new HashMap<>();
        for (Section element : location.sections(kind, reference)) {
            UnknownKeys.check(element.own(), defaults, element.path(), Set.of(), Set.of(), problems);
            // a table of its own named after this location's entry ("...limit-req[1]"), even where inherited from
            // location-defaults; the enclosing location's where a nested location inherits its list
            String index = element.path().substring(element.path().lastIndexOf('['));
            T limit = read.apply(element, location.inheritedKey(kind) + index);
            if (limit == null) {
                continue;
            }
            String first = zones.putIfAbsent(zone.apply(limit), element.path());
            if (first != null) {
                element.problem("zone", zone.apply(limit) + " is already in this location's " + kind + ", at " + first,
                        "each zone once in a location (an entry without a zone has a table of its own)");
                continue;
            }
            if (!result.isEmpty() && mode.apply(limit).dryRun() != mode.apply(result.get(0)).dryRun()) {
                // one would refuse what the other lets through uncounted: nginx's dry run is the location's
                element.problem("dry-run", mode.apply(limit).dryRun() + " where the list's first entry says "
                        + mode.apply(result.get(0)).dryRun(), "the same dry-run in every entry of a list, as nginx's "
                        + kind.replace('-', '_') + "_dry_run is the location's");
            }
            result.add(limit);
        }
        return result;
    }

    /**
     * A limit's keys that nginx merges apart from limit_req (limit_conn): its {@link LimitMode}'s, as written, and its
     * status (limit_req_status, limit_conn_status).
     */
    private static final List<String> MODE_KEYS = List.of("log-level", "log", "dry-run", "status");

    /**
     * The {@link LimitMode} keys of a limit ({@code written}: an object, or the first entry of a list, whose dry-run is
     * every entry's; null for none), for the limits a location inheriting it writes itself.
     */
    private static ConfigObject modeOf(ConfigValue written) {
        ConfigValue limit = written instanceof ConfigList list && !list.isEmpty() ? list.get(0) : written;
        Map<String, ConfigValue> mode = new LinkedHashMap<>();
        if (limit instanceof ConfigObject object) {
            for (String key : MODE_KEYS) {
                if (object.get(key) != null) {
                    mode.put(key, object.get(key));
                }
            }
        }
        return ConfigValueFactory.fromMap(mode);
    }

    /** Whether a location's own limit object names a zone, other than the one location-defaults' object names. */
    private static boolean namesAnotherZone(ConfigObject written, ConfigValue inherited) {
        ConfigValue zone = written.get("zone");
        ConfigValue theirs = inherited instanceof ConfigObject object ? object.get("zone") : null;
        return zone != null && zone.valueType() != ConfigValueType.NULL
                && (theirs == null || !zone.unwrapped().equals(theirs.unwrapped()));
    }

    /**
     * A location's {@code limit-req}: null without a rate. A zone's rate is the same in every location that names it
     * (its table of clients is one), else a problem. Without a zone, its table is the location's own, named
     * {@code ownTable} (the location's key: each location inheriting one from location-defaults its own table).
     */
    private LimitReq limitReq(Section limit, String ownTable) {
        String rateText = limit.optionalString("rate");
        int burst = limit.integer("burst", 0, 1_000_000);
        int delay = limit.integer("delay", 0, 1_000_000);
        int status = limit.integer("status", 400, 599);
        String zone = zoneName(limit);
        if (rateText == null) {
            if (!limit.own().isEmpty()) {
                // named by a key the location wrote: "rate" it left to the defaults, which are not at fault
                limit.problem(new TreeSet<>(limit.own().keySet()).first(), "set without a rate, which a limit needs",
                        "a rate beside it: " + LimitReq.RATE_EXPECTED);
            }
            return null;
        }
        double rate;
        try {
            rate = LimitReq.rate(rateText);
        } catch (IllegalArgumentException e) {
            limit.invalid("rate", "\"" + rateText + "\" " + e.getMessage(), LimitReq.RATE_EXPECTED);
            return null;
        }
        String name = zone != null ? zone : ownTable; // a table of its own: the location's key names it
        Map.Entry<String, Double> first = limitZones.putIfAbsent(name, Map.entry(limit.path(), rate));
        if (first != null && first.getValue() != rate) {
            limit.problem("rate", "\"" + rateText + "\" differs from the rate " + first.getKey() + " gives zone "
                    + name + ", whose table of clients is one", "one rate per zone");
        }
        int ipv6Prefix = ipv6Prefix(limit, "limit-req", zone);
        VariableText key = zoneKey(limit, "limit-req", zone, ipv6Prefix);
        return new LimitReq(zone != null ? "zone " + zone : "location " + ownTable, rate, burst,
                delay(limit, burst, delay), status, ipv6Prefix, key, limitMode(limit));
    }

    /**
     * A limit-req's {@code delay}, nginx's {@code delay=}, as read: how many of the requests past the rate go at once,
     * the whole burst with {@code nodelay}. Beside {@code nodelay = true} it is a problem (nginx takes the one written
     * last, an order HOCON does not keep), and so is one past the burst (nginx reads it as nodelay: it says more than it
     * does). Asked of a limit with a rate: one without has its problem already.
     */
    private static int delay(Section limit, int burst, int delay) {
        if (limit.bool("nodelay")) {
            if (delay != 0) {
                // named by the key the location wrote; one it left to the defaults is not what it set here
                boolean delayWritten = limit.own().containsKey("delay") || !limit.own().containsKey("nodelay");
                limit.problem(delayWritten ? "delay" : "nodelay", "set beside " + (delayWritten ? "nodelay = true"
                        : "delay = " + delay) + ": nodelay answers the whole burst at once, delay its first " + delay,
                        "one of delay and nodelay (delay = 0 beside nodelay = true)");
            }
            return burst;
        }
        if (delay > burst && !limit.isInvalid("burst")) {
            boolean burstWritten = limit.own().containsKey("burst") && !limit.own().containsKey("delay");
            limit.problem(burstWritten ? "burst" : "delay", "delay " + delay + " is more than the burst of " + burst
                    + ", all that can go at once (nginx takes it as nodelay)",
                    "a delay from 0 to the burst; nodelay = true for the whole burst at once");
            return burst;
        }
        return delay;
    }

    /**
     * A limit's {@code ipv6-prefix}, the same in every location that names its zone (its table of clients is one, keyed
     * one way), else a problem.
     */
    private int ipv6Prefix(Section limit, String kind, String zone) {
        int prefix = limit.integer("ipv6-prefix", 1, 128);
        if (zone != null) {
            Map.Entry<String, Integer> first = zonePrefixes.putIfAbsent(kind + " " + zone,
                    Map.entry(limit.path(), prefix));
            if (first != null && first.getValue() != prefix) {
                // one the location left to the defaults is named by the zone it wrote, which brought the mismatch
                String key = limit.own().containsKey("ipv6-prefix") ? "ipv6-prefix" : "zone";
                limit.problem(key, "ipv6-prefix " + prefix + " differs from the " + first.getValue() + " "
                        + first.getKey() + " gives zone " + zone + ", whose table of clients is one",
                        "one ipv6-prefix per zone");
            }
        }
        return prefix;
    }

    /**
     * A limit's {@code key}, nginx's zone key: null for the client (unset; a location naming a zone other than
     * location-defaults' takes none from them, see {@link #limits}), else the text with its variables. The same
     * in every location that names the zone (its table is keyed one way), else a problem; so is an ipv6-prefix beside
     * it (the prefix says how a client is keyed) and a variable of the answer, which is not there when limits count.
     */
    private VariableText zoneKey(Section limit, String kind, String zone, int ipv6Prefix) {
        String written = limit.optionalString("key");
        VariableText key = null;
        if (written != null && written.isEmpty()) {
            limit.problem("key", "\"\" is no key: every request's would be empty, and none counted",
                    "a text with variables, such as \"$http_x_api_key\", or a constant such as \"all\"");
            written = null;
        } else if (written != null && written.strip().equals("$binary_remote_addr")) {
            // nginx's usual limit_req_zone key: the client's address, which a limit without a key counts by
            limit.problem("key", "\"$binary_remote_addr\" is the client, which a limit counts by without a key",
                    "no key (null: the client; ipv6-prefix for an IPv6 client's network)");
            written = null;
        } else if (written != null) {
            key = variableText(limit, "key", written, kind + " key", null);
            if (key != null && key.parts().stream().anyMatch(part -> part.variable() != null
                    && Return.ANSWER_VARIABLES.contains(part.variable()))) {
                limit.problem("key", LocationMatch.quoted(written) + " names a variable of the answer, which a limit"
                        + " counting the request before it has no value for", "the request's variables");
                key = null;
            }
            if (ipv6Prefix != 128) {
                limit.problem(limit.own().containsKey("ipv6-prefix") ? "ipv6-prefix" : "key", "ipv6-prefix "
                        + ipv6Prefix + " set beside key, which counts requests by something else than the client",
                        "one of key and ipv6-prefix");
            }
        }
        if (zone != null) {
            String text = written == null ? "" : written;
            Map.Entry<String, String> first = zoneKeys.putIfAbsent(kind + " " + zone, Map.entry(limit.path(), text));
            if (first != null && !first.getValue().equals(text)) {
                String firstKey = first.getValue().isEmpty() ? "the client" : "\"" + first.getValue() + "\"";
                limit.problem(limit.own().containsKey("key") ? "key" : "zone", (written == null ? "the client"
                        : "\"" + written + "\"") + " as key differs from " + firstKey + ", which " + first.getKey()
                        + " gives zone " + zone + ", whose table is one", "one key per zone");
            }
        }
        return key;
    }

    /**
     * A location's {@code referers}: null without a valid list. {@code regex}, the location's (null for another match),
     * says which captures its invalid answer may use.
     */
    private static Referers referers(Section referers, Pattern regex) {
        if (!referers.isSet("valid")) {
            if (referers.own().containsKey("invalid")) {
                referers.problem("invalid", "set without a valid list, which turns the check on",
                        "valid = [none, blocked, server-names, \"*.example.org\"] beside it");
            }
            return null;
        }
        String written = referers.optionalString("invalid");
        Return invalid = null;
        if (written == null) {
            if (!referers.isSet("invalid")) {
                referers.problem("invalid", "is null", "an answer as a return is written: 403, 444, \"302 /hotlink.png\"");
            } // else not a string: said
        } else {
            try {
                invalid = Return.parse(written, regex);
            } catch (IllegalArgumentException e) {
                referers.invalid("invalid", LocationMatch.quoted(written) + " " + e.getMessage(), Return.EXPECTED);
            }
        }
        boolean none = false;
        boolean blocked = false;
        boolean serverNames = false;
        List<Referers.Host> hosts = new ArrayList<>();
        List<Pattern> regexes = new ArrayList<>();
        for (Section.Element element : referers.elements("valid")) {
            String text = element.text().strip();
            switch (text.toLowerCase(Locale.ROOT)) {
                case "none" -> none = true;
                case "blocked" -> blocked = true;
                case "server-names", "server_names" -> serverNames = true;
                default -> {
                    try {
                        if (text.startsWith("~")) {
                            // nginx's are caseless, matched against the text after "http://" or "https://"
                            regexes.add(LocationMatch.compile(text.substring(1).strip(), Pattern.CASE_INSENSITIVE));
                        } else {
                            hosts.add(Referers.host(text));
                        }
                    } catch (IllegalArgumentException e) { // a bad regex says so: LocationMatch.compile
                        String reason = e.getMessage();
                        referers.invalid("valid", element.index(), LocationMatch.quoted(element.text()) + " " + reason,
                                Referers.EXPECTED);
                    }
                }
            }
        }
        if (!none && !blocked && !serverNames && hosts.isEmpty() && regexes.isEmpty()) {
            if (referers.isEmptyList("valid")) {
                referers.problem("valid", "is empty: every request would be refused",
                        "at least one entry: " + Referers.EXPECTED);
            }
            return null;
        }
        return invalid == null ? null : new Referers(none, blocked, serverNames, hosts, regexes, invalid);
    }

    /**
     * A location's {@code secure-link}: null without a link and an md5, which turn the check on together ({@code
     * written}, the location's own, says whether an answer without them is its fault). {@code regex}, the location's
     * (null for another match), says which captures its answers may use. The link and the md5 name the request's
     * variables but no map (nor $secure_link, which they make: nginx would find the cycle per request), the md5
     * {@code $secure_link_expires} as well.
     */
    private static SecureLink secureLink(Section section, ConfigValue written, Pattern regex) {
        String link = section.optionalString("link");
        String md5 = section.optionalString("md5");
        if (link == null || md5 == null) {
            // an answer alone is a fault where the location wrote it: location-defaults' are for those with a link
            Set<String> own = written instanceof ConfigObject object ? object.keySet() : Set.of();
            String set = link != null ? "link" : md5 != null ? "md5" : own.contains("invalid") ? "invalid"
                    : own.contains("expired") ? "expired" : null;
            if (set != null && !section.isInvalid(set)) {
                section.problem(set, "set without " + (link != null ? "md5" : md5 != null ? "link" : "link and md5")
                        + ", which turn the check on together", "link = \"$arg_md5,$arg_expires\" and md5 ="
                        + " \"$secure_link_expires$uri secret\" beside it");
            }
            return null;
        }
        List<Return.Part> linkParts = secureLinkText(section, "link", link, false);
        List<Return.Part> md5Parts = secureLinkText(section, "md5", md5, true);
        Return invalid = secureLinkAnswer(section, "invalid", regex);
        Return expired = secureLinkAnswer(section, "expired", regex);
        return linkParts == null || md5Parts == null || section.isInvalid("invalid") || section.isInvalid("expired")
                ? null : new SecureLink(linkParts, md5Parts, invalid, expired);
    }

    /** A secure-link's {@code link} or {@code md5} ({@code key}): its parts, or null with a problem. */
    private static List<Return.Part> secureLinkText(Section section, String key, String written, boolean md5) {
        try {
            return Return.parts(written, name -> name.equals("secure_link")
                    || !md5 && name.equals("secure_link_expires") ? "has $" + name + ", which the " + key
                    + " itself makes" : variableFault(name, "secure-link." + key), true);
        } catch (IllegalArgumentException e) {
            section.invalid(key, LocationMatch.quoted(written) + " " + e.getMessage(), md5
                    ? "text with the request's variables and $secure_link_expires, such as \"$secure_link_expires$uri"
                    + "$remote_addr secret\"" : "text with the request's variables, such as \"$arg_md5,$arg_expires\"");
            return null;
        }
    }

    /**
     * A secure-link's {@code invalid} or {@code expired} answer, written as a return is; null for none (the key null:
     * the request goes on, as nginx's secure_link without its if, and $secure_link says), or with a problem (the key
     * then {@link Section#isInvalid}).
     */
    private static Return secureLinkAnswer(Section section, String key, Pattern regex) {
        String written = section.optionalString(key);
        if (written == null) {
            return null;
        }
        try {
            return Return.parse(written, regex);
        } catch (IllegalArgumentException e) {
            section.invalid(key, LocationMatch.quoted(written) + " " + e.getMessage(), Return.EXPECTED);
            return null;
        }
    }

    /** An alias in a regex location: its fixed directory, and what the captures make below it. */
    private record RegexAlias(Path directory, AliasCaptures captures) {
    }

    /**
     * The alias of a regex location, nginx's {@code alias /data/images/$1}: the text before its first capture, cut at
     * its last "/", an existing directory (not "/"), and the captures of {@code regex} in the rest. Null where it is
     * none (then a problem): an alias without a capture (nginx serves that one file for every path the regex matches,
     * a known trap: the regex's extension or directory says nothing of what goes out), or with a request variable.
     */
    private RegexAlias regexAlias(Section location, Pattern regex) {
        String written = location.optionalString("alias");
        if (written == null) {
            return null;
        }
        String expected = "a directory and, below it, the location's captures ($1 to $9, named groups), such as"
                + " \"/srv/images/$1\"";
        int variable = written.indexOf('$');
        if (variable < 0) {
            location.problem("alias", LocationMatch.quoted(written) + " has no capture in a regex location: every path"
                    + " the regex matches would be that one file (nginx's alias so)", expected);
            return null;
        }
        int cut = written.lastIndexOf('/', variable);
        if (cut < 0) {
            location.problem("alias", LocationMatch.quoted(written) + " starts with a capture: no directory holds its"
                    + " files", expected);
            return null;
        }
        List<Return.Part> below;
        try {
            below = Return.captures(written.substring(cut + 1), regex);
        } catch (IllegalArgumentException e) {
            location.invalid("alias", LocationMatch.quoted(written) + " " + e.getMessage(), expected);
            return null;
        }
        Path directory = location.toPath("alias", written.substring(0, cut + 1), base);
        if (directory != null && directory.getParent() == null) {
            location.problem("alias", LocationMatch.quoted(written) + " has / before its first capture: a capture"
                    + " could name any file", expected);
            return null;
        }
        directory = directory(location, "alias", directory);
        return directory == null ? null : new RegexAlias(directory, new AliasCaptures(regex, below));
    }

    /** Whether {@code parsed} is an exact location or a prefix one whose match does not end in "/". */
    private static boolean slashless(LocationMatch parsed) {
        return parsed != null && (parsed.kind() == LocationSettings.Kind.EXACT
                || (parsed.kind() == LocationSettings.Kind.PREFIX
                || parsed.kind() == LocationSettings.Kind.PREFIX_NO_REGEX) && !parsed.pattern().endsWith("/"));
    }

    /**
     * The alias of an exact location or of a prefix one whose match does not end in "/", nginx's {@code location /i {
     * alias /data/w3/images; }}: the file is the alias's text and what follows the match. Made an {@link AliasCaptures}
     * of a regex of the match whose group is that rest, below the directory the file never leaves. An alias that is a
     * directory (or ends in "/") is that directory, and only what follows the match with a "/" (or nothing) names a
     * file there: {@code /i/x} is {@code /data/w3/images/x}, {@code /i} the directory; {@code /ifoo}, {@code /i../x}
     * name nothing (404), where nginx serves {@code /data/w3/imagesfoo} and {@code images../x}, files beside the
     * directory (an alias ending in "/" takes any rest: {@code location /k { alias /data/w3/images/; }} reads
     * {@code /kfoo} as {@code images/foo}, as nginx's, and {@code /k../x}, nginx's {@code /data/w3/x}, is 404):
     * the directory is the root the site's symlinks rule holds a link to, as under an alias with its slash, never its
     * parent (a link in {@code /home/u/public_html} to {@code ~/.ssh} would be served; an alias {@code /data}'s parent
     * is "/"). An alias of a file ({@code location = /favicon.ico { alias /data/f.ico; }}, {@code location
     * /robots.txt { alias /data/robots.txt; }}) is below its parent, its name and the rest. An exact location's is
     * what it is at load (one not there yet: that one path below its parent; a directory: that directory, and while
     * its resolver finds a file there since, that file below its parent); a prefix location's, written without
     * its "/", is the directory (there, or to come), and, while its resolver finds a file there instead ({@link
     * AliasCaptures#asFile}: there at load, or since), that file below its parent, each shape taken again when the
     * alias turns into the other. Null where it is none (then a problem).
     */
    private RegexAlias slashlessAlias(Section location, LocationMatch parsed) {
        String written = location.optionalString("alias");
        if (written == null) {
            return null;
        }
        Path path = location.toPath("alias", written, base);
        if (path == null) {
            return null;
        }
        boolean slash = written.endsWith("/");
        boolean exact = parsed.kind() == LocationSettings.Kind.EXACT;
        if (path.getParent() == null) {
            location.problem("alias", LocationMatch.quoted(written) + " is /: a path past the match could name any"
                    + " file", "a file or directory below /, such as \"/srv/f.ico\" or \"/srv/images\"");
            return null;
        }
        // nginx decides per request (its alias is a text, /i/x its "/x" after it). A prefix's alias written without
        // its "/" is taken in either shape, by what its resolver's look at it (every second, off the loops) last
        // found: the directory (there, or to come: past the match a path goes on with "/"), or, while a file is
        // there (at load, made since, or put in the directory's place), that file below its parent (asFile). An
        // exact match names the alias alone, whatever it becomes; an alias with its "/" is a directory.
        boolean eitherShape = !exact && !slash;
        boolean directory = Files.isDirectory(path);
        boolean directoryItself = slash || eitherShape || directory;
        // a directory written without its "/": nothing past the match, or a "/" and the rest ("/ifoo" is no file of
        // it), and, where it is found to be a file, that file below the parent; with its "/", any rest ("/kfoo" its
        // foo, as nginx's)
        AliasCaptures captures = eitherShape ? new AliasCaptures(Pattern.compile("^"
                + Pattern.quote(parsed.pattern()) + "(/.*)?$", Pattern.DOTALL), List.of(new Return.Part(null, "1")),
                "", slashlessCaptures(parsed, path.getFileName().toString(), "((?!/).*)$"))
                : slashlessCaptures(parsed, directoryItself ? "" : path.getFileName().toString(), "(.*)$");
        if (exact && !slash && directory) {
            // an exact location's directory (its one path a 301 to the slash, as nginx's) found to be a file since (a
            // link in its place too): that file below its parent, as a prefix location's, never the file judged against
            // itself as its own root, where a link there to anywhere would be inside it
            captures = new AliasCaptures(captures.regex(), captures.below(), captures.name(),
                    slashlessCaptures(parsed, path.getFileName().toString(), "(.*)$"));
        }
        // checked at load: the directory it is, or the parent a file there is held in; nothing where it is to come
        Path checked = slash || directory ? path
                : eitherShape && Files.notExists(path) ? null : path.getParent();
        if (checked != null) {
            directory(location, "alias", checked); // a problem where it is no directory edge's user can search
        }
        return new RegexAlias(directoryItself ? path : path.getParent(), captures);
    }

    /**
     * A slash-less location's alias of {@code name} below its directory ("" for the directory itself): that name and,
     * past a prefix's match, the rest {@code rest} (a regex of one group) takes. The alias found to be a file by the
     * resolver's look at its root takes none from "/": nothing is below a file (nginx's ENOTDIR, 404), and a directory
     * put in its place since that look is no file of the parent, its links held there, but its own root at the next.
     */
    private static AliasCaptures slashlessCaptures(LocationMatch parsed, String name, String rest) {
        boolean exact = parsed.kind() == LocationSettings.Kind.EXACT;
        Pattern regex = Pattern.compile("^" + Pattern.quote(parsed.pattern()) + (exact ? "$" : rest),
                Pattern.DOTALL);
        List<Return.Part> below = new ArrayList<>(2);
        if (!name.isEmpty()) {
            below.add(new Return.Part(name, null));
        }
        if (!exact) {
            below.add(new Return.Part(null, "1"));
        }
        return new AliasCaptures(regex, below, name, null);
    }

    /**
     * Why {@code script}, a FastCGI location's front controller or fixed script, cannot be: {@link #scriptPathFault},
     * or, under an alias standing for {@code aliasPrefix} (null: none), a path outside it, which names no file of the
     * alias's directory (nginx's {@code try_files} there would look for the alias and the path past its prefix's
     * length, a file of another name). Null where it can.
     */
    private static String aliasScriptFault(String script, String aliasPrefix) {
        String fault = scriptPathFault(script);
        return fault != null || aliasPrefix == null || script.startsWith(aliasPrefix) ? fault
                : "is outside the alias's prefix \"" + aliasPrefix + "\", so no file of its directory: a script is"
                + " named by its URI there, such as \"" + aliasPrefix + "index.php\"";
    }

    /**
     * Records a problem where a location's {@code alias} cannot be: in a location whose match is neither a prefix
     * ending in {@code /} nor a regex (nginx's alias in /thumbs without the slash reads /thumbs../x as ../x beside the
     * directory), or that answers otherwise than with files, or with scripts under a prefix (a regex location's
     * captures name no script: nginx's SCRIPT_FILENAME there is what the captures make, edge's split has no part in
     * it).
     */
    private static void aliasFault(Section location, LocationMatch parsed, LocationSettings.Handler handler) {
        String expected = "alias in a prefix location of files or scripts whose match ends in /, such as"
                + " { match = \"/thumbs/\", alias = \"/srv/thumbs/\" }, in an exact location or another prefix"
                + " location of files, such as { match = \"= /favicon.ico\", alias = \"/srv/f.ico\" }, or in a regex"
                + " location of files with its captures, such as { match = \"~ ^/users/(.+\\\\.png)$\", alias ="
                + " \"/srv/images/$1\" }";
        if (parsed != null && parsed.kind() == LocationSettings.Kind.NAMED) {
            location.problem("alias", "set in a named location", expected);
        } else if (slashless(parsed) && handler == LocationSettings.Handler.FASTCGI) {
            // nginx allows it (SCRIPT_FILENAME $request_filename), and runs what follows the match without its "/" as
            // a script beside the alias's directory, the hole the same alias of files closes with a 404 (/ifoo); an
            // exact one runs the alias, a script no URI below a directory names, which edge's split and checks need
            String scripts = "alias ending in / in a prefix location of scripts ending in /, such as { match = \"/b/\","
                    + " alias = \"/srv/b/\", fastcgi = php }, or, for one script, root and fastcgi-script, such as"
                    + " { match = \"= /one\", root = \"/srv\", fastcgi = php, fastcgi-script = \"/one.php\" }";
            if (parsed.kind() == LocationSettings.Kind.EXACT) {
                location.problem("alias", "set in an exact location of scripts (fastcgi): edge names a script by its"
                        + " URI below a directory, never by an alias of the script itself", scripts);
            } else {
                location.problem("alias", "set in a location of scripts (fastcgi) whose prefix does not end in /:"
                        + " nginx's would run " + LocationMatch.quoted(parsed.pattern() + "foo.php") + " as "
                        + LocationMatch.quoted(location.optionalString("alias") + "foo.php") + ", a script beside the"
                        + " alias's directory, where edge runs none outside it", scripts);
            }
        } else if (slashless(parsed) && handler != LocationSettings.Handler.STATIC) {
            location.problem("alias", "set in an exact location or a prefix not ending in / that answers otherwise"
                    + " than with files (" + handler.name().toLowerCase(Locale.ROOT) + ")", expected);
        } else if (!slashless(parsed) && handler != LocationSettings.Handler.STATIC
                && (handler != LocationSettings.Handler.FASTCGI
                || parsed != null && parsed.kind() == LocationSettings.Kind.REGEX)) {
            location.problem("alias", "set in a location that answers otherwise than with files or scripts ("
                    + handler.name().toLowerCase(Locale.ROOT) + (handler == LocationSettings.Handler.FASTCGI
                    ? " in a regex location" : "") + ")", expected);
        }
    }

    /** A limit's {@code zone}, or null when it names none (or one that can't be a name, then a problem). */
    private static String zoneName(Section limit) {
        String zone = limit.optionalString("zone");
        if (zone != null && !zone.matches("[A-Za-z0-9_.-]+")) {
            limit.problem("zone", "\"" + zone + "\" is not a zone name", "letters, digits, '_', '.' and '-'");
            return null;
        }
        return zone;
    }

    /** A location's {@code limit-rate}: null without a rate. */
    private static LimitRate limitRate(Section limit) {
        long after = limit.bytes("after", 0, Long.MAX_VALUE);
        if (!limit.isSet("rate")) {
            if (limit.own().containsKey("after") && limit.isSet("after")) {
                limit.problem("after", "set without a rate, which a limit needs", "a rate beside it, such as"
                        + " rate = 500 KiB (bytes a second)");
            }
            return null;
        }
        long rate = limit.bytes("rate", 0, Long.MAX_VALUE);
        return rate == 0 ? null : new LimitRate(rate, after); // nginx's limit_rate 0: off
    }

    /** {@code autoindex.format}'s values as written: html, json, jsonp, xml. */
    private static final Map<String, Autoindex.Format> AUTOINDEX_FORMATS = autoindexFormats();

    private static Map<String, Autoindex.Format> autoindexFormats() {
        Map<String, Autoindex.Format> formats = new LinkedHashMap<>();
        for (Autoindex.Format format : Autoindex.Format.values()) {
            formats.put(format.name().toLowerCase(Locale.ROOT), format);
        }
        return formats;
    }

    /**
     * Reports the first key that {@code section}, the object of a feature an element wrote ({@code gzip { ... }}),
     * sets while the feature is off and the element wrote none of its {@code switches}: those settings do nothing
     * (nginx's gzip_comp_level without gzip on). The defaults' are no fault: they are for the elements that turn
     * it on; a switch written off beside them is the user's choice.
     */
    private static void setWhileOff(Section section, String feature, Set<String> switches, String expected) {
        ConfigObject own = section.own();
        if (!own.isEmpty() && switches.stream().noneMatch(own::containsKey)) {
            section.problem(new TreeSet<>(own.keySet()).first(), "set while " + feature + " is off", expected);
        }
    }

    /** A location's {@code autoindex}: null unless enabled. */
    private static Autoindex autoindex(Section autoindex) {
        Autoindex.Format format = autoindex.choice("format", AUTOINDEX_FORMATS);
        boolean exactSize = autoindex.bool("exact-size");
        boolean localTime = autoindex.bool("localtime");
        return autoindex.bool("enabled") ? new Autoindex(format, exactSize, localTime) : null;
    }

    /** A location's {@code limit-conn}: null without a max. */
    private LimitConn limitConn(Section limit, String ownTable) {
        String zone = zoneName(limit);
        int status = limit.integer("status", 400, 599);
        if (!limit.isSet("max")) {
            if (!limit.own().isEmpty()) {
                // named by a key the location wrote: "max" it left to the defaults, which are not at fault
                limit.problem(new TreeSet<>(limit.own().keySet()).first(), "set without a max, which a limit needs",
                        "a max beside it, such as max = 2");
            }
            return null;
        }
        int max = limit.integer("max", 1, 1_000_000);
        int ipv6Prefix = ipv6Prefix(limit, "limit-conn", zone);
        VariableText key = zoneKey(limit, "limit-conn", zone, ipv6Prefix);
        return new LimitConn(zone != null ? "zone " + zone : "location " + ownTable, max, status, ipv6Prefix, key,
                limitMode(limit));
    }

    /** A limit-req's or limit-conn's {@code log-level}, {@code log} and {@code dry-run}. */
    private static LimitMode limitMode(Section limit) {
        return new LimitMode(limit.choice("log-level", LimitMode.LEVELS), limit.choice("log", LimitMode.LOGS),
                limit.bool("dry-run"));
    }

    /**
     * A location's {@code auth-basic}: null without a realm. Its user file is read now (each of its lines that names no
     * usable user is a problem, as is a file that names none: every request would be refused); the same file named by
     * several locations is read once.
     */
    private AuthBasic authBasic(Section auth) {
        String realm = auth.optionalString("realm");
        String written = auth.optionalString("user-file");
        if (realm == null) {
            if (written != null && auth.own().containsKey("user-file")) {
                auth.problem("user-file", "set without a realm, which turns auth-basic on",
                        "a realm beside it, such as realm = \"Restricted\"");
            }
            return null;
        }
        if (realm.isEmpty() || !realm.chars().allMatch(c -> c >= 0x20 && c < 0x7f && c != '"' && c != '\\')) {
            auth.problem("realm", "\"" + realm.replace("\n", "\\n") + "\" cannot be a realm",
                    "printable ASCII without quotes or backslashes, such as \"Restricted\"");
            return null;
        }
        if (written == null) {
            // named by the realm, which the location (or location-defaults) wrote: user-file is the defaults' null
            auth.problem("realm", "set without a user-file, the htpasswd file of the users it lets in",
                    "user-file = \"/etc/edge/htpasswd\" beside it");
            return null;
        }
        Path file = auth.toPath("user-file", written, base);
        if (file == null) {
            return null; // no path ("a\u0000b"): said
        }
        file = file.toAbsolutePath();
        if (!userFiles.containsKey(file)) {
            userFiles.put(file, readUserFile(auth, file));
        }
        Htpasswd users = userFiles.get(file);
        return users == null ? null : new AuthBasic(realm, file, users);
    }

    /**
     * An htpasswd file of at most {@link #MAX_USER_FILE} bytes; null after a problem. Only a regular file is read: a
     * FIFO would hold a check, a start or a reload until something wrote to it, a device ({@code /dev/zero}) fill the
     * heap.
     */
    private Htpasswd readUserFile(Section auth, Path file) {
        String expected = "a readable htpasswd file of at most " + (MAX_USER_FILE >> 20) + " MiB";
        byte[] bytes;
        try {
            if (!Files.isRegularFile(file)) {
                auth.problem("user-file", file + (Files.exists(file) ? " is not a regular file" : " does not exist"),
                        expected);
                return null;
            }
            // A file of no length is read as none: /proc/kmsg, regular to stat, has none and its read waits for ever
            bytes = new byte[0];
            if (Files.size(file) > 0) {
                try (InputStream in = Files.newInputStream(file)) {
                    bytes = in.readNBytes(MAX_USER_FILE + 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            auth.problem("user-file", file + " cannot be read (" + reason(e) + ")", expected);
            return null;
        }
        if (bytes.length > MAX_USER_FILE) {
            auth.problem("user-file", file + " is larger than " + (MAX_USER_FILE >> 20) + " MiB", expected);
            return null;
        }
        String text = new String(bytes, StandardCharsets.ISO_8859_1); // bytes: names and passwords are compared so
        Htpasswd users = Htpasswd.parse(text);
        for (String problem : users.problems()) {
            auth.problem("user-file", file + ", " + problem, "name:hash lines of htpasswd -m (apr1), -s, -5 or -2");
        }
        if (users.users().isEmpty() && users.problems().isEmpty()) {
            auth.problem("user-file", file + " names no user: every request would be refused", "name:hash lines");
        }
        return users.problems().isEmpty() && !users.users().isEmpty() ? users : null;
    }

    /** A location's {@code access} rules, in order; each one that cannot be read is a problem. */
    private static List<AccessRule> accessRules(Section location) {
        List<AccessRule> rules = new ArrayList<>();
        boolean all = false;
        for (Section.Element element : location.elements("access")) {
            try {
                AccessRule rule = AccessRule.parse(element.text());
                if (all) {
                    location.problem("access", element.index(), "\"" + element.text() + "\" follows an \"allow all\" or"
                            + " \"deny all\", which decides for every client first", "rules for all clients last");
                }
                all |= rule.range() == null;
                rules.add(rule);
            } catch (IllegalArgumentException e) {
                location.invalid("access", element.index(), LocationMatch.quoted(element.text()) + " " + e.getMessage(),
                        AccessRule.EXPECTED);
            }
        }
        return rules;
    }

    /**
     * A location's {@code gzip}: null when it is not enabled, its other keys checked all the same. Each type a media
     * type without parameters ({@code text/html}), compared ignoring case, or {@code *} for any.
     */
    private static LocationSettings.Gzip gzip(Section gzip) {
        boolean enabled = gzip.bool("enabled");
        int level = gzip.integer("level", 1, 9);
        long minLength = gzip.bytes("min-length", 0, Long.MAX_VALUE);
        Set<String> types = mediaTypes(gzip);
        return enabled ? new LocationSettings.Gzip(level, minLength, types) : null;
    }

    /**
     * A location's {@code sub-filter}: null when its replace list is empty, its other keys checked all the same. Each
     * entry has a match and a with, both with the request's variables (and the captures of {@code regex}, the
     * location's), the match not empty; types as gzip's.
     */
    private LocationSettings.SubFilter subFilter(Section filter, Pattern regex) {
        boolean once = filter.bool("once");
        boolean lastModified = filter.bool("last-modified");
        Set<String> types = mediaTypes(filter);
        Section none = new Section(ConfigValueFactory.fromMap(Map.of()), "", filter.anchor(), problems);
        Set<String> keys = Set.of("match", "with");
        String expected = "{ match = \"text looked for\", with = \"its replacement\" }";
        List<LocationSettings.SubFilter.Replace> replace = new ArrayList<>();
        for (Section entry : filter.sections("replace", none)) {
            boolean complete = true;
            for (String key : new TreeSet<>(entry.own().keySet())) {
                if (!keys.contains(key)) {
                    entry.problem(key, "is no key of a sub-filter.replace entry" + UnknownKeys.suggestion(key, keys),
                            expected);
                    complete = false;
                }
            }
            String match = entry.optionalString("match");
            String with = entry.optionalString("with");
            if (match == null || with == null) {
                problems.add(entry.anchor(), entry.path(), "has " + (match == null ? "no match" : "no with"),
                        expected);
                continue;
            }
            if (match.isEmpty()) {
                entry.problem("match", "is empty", "the text to look for");
                complete = false;
            }
            VariableText matchText = variableText(entry, "match", match, "sub-filter", regex);
            VariableText withText = variableText(entry, "with", with, "sub-filter", regex);
            if (complete && matchText != null && withText != null) {
                replace.add(new LocationSettings.SubFilter.Replace(matchText, withText));
            }
        }
        if (filter.value("replace") instanceof ConfigList list && list.size() > MAX_SUB_FILTER_STRINGS) {
            filter.problem("replace", "has " + list.size() + " entries", "at most " + MAX_SUB_FILTER_STRINGS
                    + " strings in a location, as nginx's sub_filter");
        }
        return replace.isEmpty() ? null : new LocationSettings.SubFilter(replace, once, types, lastModified);
    }

    /** image-filter.filter's words, nginx's image_filter's first, off (the default) first. */
    private static final Map<String, String> IMAGE_ACTIONS = imageActions();

    private static Map<String, String> imageActions() {
        Map<String, String> words = new LinkedHashMap<>();
        for (String word : List.of("off", "test", "size", "resize", "crop", "rotate")) {
            words.put(word, word);
        }
        return words;
    }

    /**
     * A location's {@code image-filter}: null for {@code filter = off}, its other keys checked all the same. Width and
     * height (resize, crop) and rotate (rotate) must be given; each number-like key is a constant nginx would take
     * (a positive number, {@code -} for a width or height, 90, 180 or 270 for rotate) or text with the request's
     * variables (and the captures of {@code regex}, the location's), valued per request.
     */
    private LocationSettings.ImageFilter imageFilter(Section filter, Pattern regex) {
        String word = filter.choice("filter", IMAGE_ACTIONS);
        LocationSettings.ImageFilter.Action action = word.equals("off") ? null
                : LocationSettings.ImageFilter.Action.valueOf(word.toUpperCase(Locale.ROOT));
        long buffer = filter.bytes("buffer", 1, Integer.MAX_VALUE - 8);
        boolean transparency = filter.bool("transparency");
        boolean interlace = filter.bool("interlace");
        boolean sizes = action == LocationSettings.ImageFilter.Action.RESIZE
                || action == LocationSettings.ImageFilter.Action.CROP;
        String pixels = "a positive number of pixels, \"-\" for any, or text with variables such as \"$arg_w\"";
        VariableText width = imageValue(filter, "width", regex, sizes, pixels, true, 1);
        VariableText height = imageValue(filter, "height", regex, sizes, pixels, true, 1);
        VariableText rotate = imageValue(filter, "rotate", regex,
                action == LocationSettings.ImageFilter.Action.ROTATE,
                "90, 180 or 270 (degrees counterclockwise), or text with variables such as \"$arg_r\"", false, 90);
        VariableText quality = imageValue(filter, "jpeg-quality", regex, true,
                "a quality from 1 to 100, or text with variables such as \"$arg_q\"", false, 1);
        VariableText sharpen = imageValue(filter, "sharpen", regex, true,
                "a percent from 0 up, or text with variables", false, 0);
        if (action == null) {
            return null;
        }
        return new LocationSettings.ImageFilter(action, width, height, rotate, buffer, quality, sharpen,
                transparency, interlace);
    }

    /**
     * An image-filter key's text: null where it is empty and not {@code required} (a problem where it is); a constant
     * checked as nginx checks it ({@code dash}: "-" taken, any number from {@code min}, 90/180/270 for min 90), else
     * text with the request's variables.
     */
    private VariableText imageValue(Section filter, String key, Pattern regex, boolean required, String expected,
            boolean dash, int min) {
        String text = filter.optionalString(key);
        if (text == null) {
            return null;
        }
        if (text.isEmpty()) {
            if (required) {
                filter.problem(key, "is empty", expected);
            }
            return null;
        }
        VariableText value = variableText(filter, key, text, "image-filter", regex);
        if (value == null || value.constant() == null) {
            return value;
        }
        String constant = value.constant();
        boolean valid;
        if (dash && constant.equals("-")) {
            valid = true;
        } else if (!constant.matches("[0-9]{1,9}")) {
            valid = false;
        } else {
            int n = Integer.parseInt(constant);
            valid = min == 90 ? n == 90 || n == 180 || n == 270 : n >= min;
        }
        if (!valid) {
            filter.problem(key, LocationMatch.quoted(text) + " is not a value nginx's image_filter takes", expected);
            return null;
        }
        return value;
    }

    /** nginx's limit, its "number of search patterns exceeds 255" (its tables index them by a byte). */
    private static final int MAX_SUB_FILTER_STRINGS = 255;

    /**
     * {@code section}'s {@code types} (gzip's, sub-filter's): each a media type without parameters ({@code text/html}),
     * compared ignoring case, or {@code *} for any.
     */
    private static Set<String> mediaTypes(Section section) {
        Set<String> types = new TreeSet<>();
        for (Section.Element element : section.elements("types")) {
            String type = element.text().toLowerCase(Locale.ROOT);
            if (!type.equals("*") && !MEDIA_TYPE.matcher(type).matches()) {
                section.invalid("types", element.index(), LocationMatch.quoted(element.text()) + " is not a media type",
                        "type/subtype without parameters, such as text/html, or \"*\" for any");
            } else if (!types.add(type)) {
                section.problem("types", element.index(), LocationMatch.quoted(element.text()) + " is listed twice"
                        + " (types are compared ignoring case)", "each type once");
            }
        }
        return types;
    }

    /** {@code gzip.proxied}'s values, as nginx spells them, for a problem's expectation. */
    private static final String PROXIED_EXPECTED = "off alone, or any of expired, no-cache, no-store, private,"
            + " no_last_modified, no_etag, auth, any (nginx's gzip_proxied)";

    /**
     * A location's {@code gzip}'s {@code http-version}, {@code proxied} and {@code disable}, nginx's gzip_http_version,
     * gzip_proxied and gzip_disable: each checked whether gzip is on or not. A {@code disable} element is a regular
     * expression written for nginx's PCRE, found in the User-Agent ignoring case as nginx's is, or "msie6".
     */
    private static LocationSettings.GzipClients gzipClients(Section gzip) {
        Map<String, Boolean> versions = new LinkedHashMap<>();
        versions.put("1.1", false);
        versions.put("1.0", true);
        boolean http10 = gzip.choice("http-version", versions);
        Set<LocationSettings.Proxied> proxied = EnumSet.noneOf(LocationSettings.Proxied.class);
        List<Section.Element> proxiedElements = gzip.elements("proxied");
        for (Section.Element element : proxiedElements) {
            LocationSettings.Proxied value = LocationSettings.Proxied.of(element.text().strip());
            if (value == null) {
                gzip.invalid("proxied", element.index(), LocationMatch.quoted(element.text()) + " is not a value of"
                        + " gzip_proxied", PROXIED_EXPECTED);
            } else if (!proxied.add(value)) {
                gzip.problem("proxied", element.index(), LocationMatch.quoted(element.text()) + " is listed twice",
                        "each value once");
            } else if (value == LocationSettings.Proxied.OFF && proxiedElements.size() > 1) {
                // nginx takes "off any" and answers as off: the others would do nothing
                gzip.problem("proxied", element.index(), "\"off\" beside other values, which it leaves nothing to do",
                        PROXIED_EXPECTED);
            }
        }
        if (proxied.isEmpty()) {
            if (gzip.isEmptyList("proxied")) {
                gzip.invalid("proxied", "[] names no value", PROXIED_EXPECTED);
            }
            proxied.add(LocationSettings.Proxied.OFF);
        }
        List<Pattern> disable = new ArrayList<>();
        boolean msie6 = false;
        for (Section.Element element : gzip.elements("disable")) {
            if (element.text().equals("msie6")) {
                msie6 = true;
                continue;
            }
            try {
                disable.add(LocationMatch.compile(element.text(), Pattern.CASE_INSENSITIVE));
            } catch (IllegalArgumentException e) { // a bad regex says so: LocationMatch.compile
                gzip.invalid("disable", element.index(), LocationMatch.quoted(element.text()) + " " + e.getMessage(),
                        "a regular expression found in the User-Agent (ignoring case), or \"msie6\"");
            }
        }
        return new LocationSettings.GzipClients(http10, proxied, disable, msie6);
    }

    /** type/subtype, each an HTTP token (RFC 9110 8.3.1), lower case, without "*" (no "text/*": types compare whole). */
    private static final Pattern MEDIA_TYPE = Pattern.compile("[a-z0-9!#$%&'+.^_`|~-]+/[a-z0-9!#$%&'+.^_`|~-]+");

    /**
     * A location's {@code headers} or {@code always-headers} ({@code setting}): each name an HTTP token that is not
     * edge's to set (framing, connection, Date), each value visible ASCII, spaces and tabs inside, nothing else (a line
     * break would split the head), its variables ones edge has ({@link #variableFault}) and captures of {@code regex},
     * the location's (null: none).
     */
    private Map<String, VariableText> headers(Section headers, String setting, Pattern regex) {
        Map<String, VariableText> result = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String name : new TreeSet<>(headers.object().keySet())) { // sorted: the same problems in the same order
            String value = headers.optionalString(name);
            if (value == null) {
                continue;
            }
            if (name.isEmpty() || HttpHeaderValidationUtil.validateToken(name) != -1) {
                headers.problem(name, "\"" + name + "\" is not a header name", "a field name such as X-Frame-Options");
            } else if (EDGE_OWN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                // nginx's websocket lines (proxy_set_header Upgrade $http_upgrade; Connection "upgrade"): edge's own
                boolean upgrade = setting.equals("proxy-headers")
                        && Set.of("upgrade", "connection").contains(name.toLowerCase(Locale.ROOT));
                headers.problem(name, name + " is edge's to set", "a header that is not one of "
                        + String.join(", ", new TreeSet<>(EDGE_OWN_HEADERS)) + (upgrade
                        ? " (a client's upgrade, a websocket's, goes to the backend by itself: proxy-upgrade)" : ""));
            } else if (!value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c < 0x7f))
                    || value.strip().length() != value.length()) {
                headers.problem(name, "\"" + value.replace("\n", "\\n").replace("\r", "\\r")
                        + "\" is not a header value", "printable ASCII without leading or trailing spaces");
            } else {
                VariableText text = variableText(headers, name, value, setting, regex);
                if (text != null && result.put(name, text) != null) {
                    headers.problem(name, name + " is set twice (names are compared ignoring case)", "each name once");
                }
            }
        }
        return result;
    }

    /**
     * {@code value}, {@code setting}'s {@code name}, with its variables and the captures of {@code regex} (the
     * location's, null for none: $1 to $9 and its named groups, as a return's); null, with a problem, where it names
     * one edge does not have or is written wrong.
     */
    private VariableText variableText(Section section, String name, String value, String setting, Pattern regex) {
        return variableText(section, name, value, setting, regex, Return.LOCATION_REGEX);
    }

    /** As {@link #variableText(Section, String, String, String, Pattern)}, {@code regex} called {@code regexName}. */
    private VariableText variableText(Section section, String name, String value, String setting, Pattern regex,
            String regexName) {
        boolean ifNotEmpty = setting.equals("fastcgi-params") && value.endsWith(VariableText.IF_NOT_EMPTY);
        Set<String> groups = Return.namedGroups(regex);
        try {
            String text = ifNotEmpty ? value.substring(0, value.length() - VariableText.IF_NOT_EMPTY.length()) : value;
            // a group's name is its capture, not a map's, as in a return
            Function<String, String> fault = variable -> Character.isDigit(variable.charAt(0))
                    ? Return.captureFault(variable, regex, regexName) : Return.group(variable, groups) != null ? null
                    : maps.orMap(known -> variableFault(known, setting)).apply(variable);
            return maps.bind(VariableText.parse(text, fault, ifNotEmpty, groups), groups);
        } catch (IllegalArgumentException e) {
            section.problem(name, LocationMatch.quoted(value) + " " + e.getMessage(), "a value with the variables"
                    + " edge has, $$ for a literal $ before a name (\"$$name\" sends \"$name\")");
            return null;
        }
    }

    /**
     * A problem for each name a location adds both in {@code headers} and in {@code always-headers} (neither empty: an
     * empty one is dropped): it would go out twice on the statuses both cover, and it is not said which was meant. At
     * the one the location wrote itself, the always-headers' when it wrote both or neither (location-defaults).
     */
    private static void headersInBoth(Section location, Map<String, VariableText> headers,
            Map<String, VariableText> alwaysHeaders) {
        alwaysHeaders.forEach((name, value) -> {
            VariableText other = headers.get(name); // compared ignoring case, as each map's names are
            if ("".equals(value.constant()) || other == null || "".equals(other.constant())) {
                return;
            }
            Predicate<String> writes = setting -> location.own().get(setting) instanceof ConfigObject own
                    && own.keySet().stream().anyMatch(name::equalsIgnoreCase);
            String setting = writes.test("headers") && !writes.test("always-headers") ? "headers" : "always-headers";
            Section written = location.section(setting);
            String key = written.object().keySet().stream().filter(name::equalsIgnoreCase).findFirst().orElse(name);
            written.problem(key, name + " is in both headers and always-headers (names are compared ignoring case)",
                    "each name in one of them: always-headers for every answer, headers for the statuses of nginx's"
                    + " add_header; " + name + " = \"\" drops a default's");
        });
    }

    /**
     * A location's {@code fastcgi-params}: each name a CGI variable's ([A-Za-z_][A-Za-z0-9_]*) that is not one edge
     * derives from the request and its script (a fixed SCRIPT_FILENAME or REQUEST_URI would run or describe another
     * request than the one sent; an HTTP_ name would pose as a header the client sent), each value without control
     * characters but tab (it goes to the backend as its UTF-8 bytes), its variables ones edge has, nginx's
     * {@code if_not_empty} after it; one that is empty for sure with it is left out.
     */
    private Map<String, VariableText> fastcgiParams(Section params, Pattern regex) {
        Map<String, VariableText> result = new TreeMap<>();
        for (String name : new TreeSet<>(params.object().keySet())) { // sorted: the same problems in the same order
            String value = params.optionalString(name);
            if (value == null) {
                continue;
            }
            if (!CGI_NAME.matcher(name).matches()) {
                params.problem(name, LocationMatch.quoted(name) + " is not a CGI variable name",
                        "letters, digits and '_', not starting with a digit (HTTPS, APP_ENV)");
            } else if (REQUEST_PARAMS.contains(name)) {
                params.problem(name, name + " is derived from each request", "a name other than "
                        + String.join(", ", new TreeSet<>(REQUEST_PARAMS)));
            } else if (!value.chars().allMatch(c -> c == '\t' || !Character.isISOControl(c))) {
                params.problem(name, LocationMatch.quoted(value) + " has a control character",
                        "a value without control characters but tab");
            } else if (hasLoneSurrogate(value)) {
                // no character: its UTF-8 bytes are a "?"
                params.problem(name, "has half of a UTF-16 pair (\\ud800 to \\udfff alone), no character",
                        "a value of Unicode characters");
            } else {
                VariableText text = variableText(params, name, value, "fastcgi-params", regex);
                // as it goes to the backend, its variables' values yet to come
                int bytes = text == null ? 0 : CgiParams.utf8Bytes(text.literals()).length();
                if (bytes > FcgiNameValues.longestValueInARecord(name)) {
                    // php-fpm takes a pair in one PARAMS record: every request of the location would be refused (414)
                    params.problem(name, "is " + bytes + " bytes, more than a FastCGI record takes beside its"
                            + " name", "a value of at most " + FcgiNameValues.longestValueInARecord(name) + " bytes");
                } else if (text != null && !(text.ifNotEmpty() && "".equals(text.constant()))) {
                    result.put(name, text);
                }
            }
        }
        return result;
    }

    private static final Pattern CGI_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** Variables of nginx's fastcgi_param lines (Debian's fastcgi_params, snippets) besides the access log's. */
    private static final Set<String> FASTCGI_PARAM_VARIABLES = Set.of("https", "document_root", "realpath_root",
            "fastcgi_script_name", "fastcgi_path_info", "request_filename", "content_type", "content_length",
            "remote_port", "remote_user", "request_scheme", "server_software", "nginx_version", "hostname",
            "request_body", "request_id", "request_length", "ssl_protocol", "ssl_cipher", "ssl_server_name",
            "proxy_protocol_addr", "proxy_protocol_port", "realip_remote_addr");

    /**
     * Why the variable {@code name} (lower case) cannot be in a value of {@code setting} (headers, always-headers,
     * fastcgi-params), or null: edge has the request's ({@link Return#VARIABLES}, a header's, an argument's, a
     * cookie's) and the response cache's word ({@link Return#ANSWER_VARIABLES}), not nginx's others, such as those of
     * its FastCGI module or the rest of the access log's.
     */
    static String variableFault(String name, String setting) {
        if (Return.VARIABLES.contains(name) || Return.ANSWER_VARIABLES.contains(name) || Return.prefixed(name)) {
            return null;
        }
        String known = "(known: $" + String.join(", $", new TreeSet<>(Return.VARIABLES))
                + ", $" + String.join(", $", Return.ANSWER_VARIABLES)
                + ", $http_<header>, $arg_<name>, $cookie_<name>; $$ for a literal $)";
        if (LogFormat.VARIABLES.contains(name) || FASTCGI_PARAM_VARIABLES.contains(name)) {
            // nginx expands it; edge has no value for it here
            return "names nginx's $" + name + ", which edge does not have in " + setting + " " + known;
        }
        return "has unknown variable $" + name + " " + known;
    }

    /**
     * Why a map may not be called {@code name}, or null: a variable edge has, or one of nginx's, which a configuration
     * brought from nginx means as nginx's.
     */
    static String reservedName(String name) {
        if (Return.VARIABLES.contains(name) || Return.ANSWER_VARIABLES.contains(name)) {
            return "is a variable edge has";
        }
        if (LogFormat.VARIABLES.contains(name) || FASTCGI_PARAM_VARIABLES.contains(name)) {
            return "is a variable of nginx's";
        }
        return null;
    }

    /** The params edge derives from the request and its script, which a location may not fix. */
    private static final Set<String> REQUEST_PARAMS = Set.of("SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO",
            "PATH_TRANSLATED", "REQUEST_URI", "DOCUMENT_URI", "DOCUMENT_ROOT", "QUERY_STRING", "REQUEST_METHOD",
            "CONTENT_TYPE", "CONTENT_LENGTH", "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_USER", "AUTH_TYPE", "SERVER_ADDR");

    /** Headers that frame the message or the connection, or that edge always sets itself. */
    private static final Set<String> EDGE_OWN_HEADERS = Set.of("content-length", "transfer-encoding", "connection",
            "keep-alive", "upgrade", "te", "trailer", "proxy-connection", "date");

    /** A body limit in bytes, never negative; 0 is none ({@code Long.MAX_VALUE}), as nginx's client_max_body_size 0. */
    private static long bodyLimit(Section section, String key) {
        long limit = section.bytes(key, 0, Long.MAX_VALUE);
        return limit == 0 ? Long.MAX_VALUE : limit;
    }

    /** {@code off} (null), {@code epoch}, {@code max}, or a duration of at most ten years. */
    private static Duration expires(Section location) {
        ConfigValue value = location.value("expires");
        if (value != null && value.valueType() == ConfigValueType.BOOLEAN && !((Boolean) value.unwrapped())) {
            return null; // "off" unquoted reads as false in HOCON
        }
        if (value != null && value.valueType() == ConfigValueType.STRING) {
            switch (((String) value.unwrapped()).trim()) {
                case "off" -> {
                    return null;
                }
                case "epoch" -> {
                    return LocationSettings.EXPIRES_EPOCH;
                }
                case "max" -> {
                    return LocationSettings.EXPIRES_MAX;
                }
                default -> {
                }
            }
        }
        if (value == null) {
            return null;
        }
        // nginx's "expires -1" (a page asked for every time) is epoch here
        String expected = "off, epoch (nginx's expires -1), max, or a duration such as 30 d (0 to 3650 d)";
        if (Section.isBareNumber(value)) {
            location.invalid("expires", Section.render(value) + " has no unit", expected);
            return null;
        }
        Duration duration = Section.durationOf(value);
        if (duration == null) {
            location.invalid("expires", Section.render(value) + " is not a duration", expected);
        } else if (Section.belowNanosecond(value, duration)) {
            location.invalid("expires", Section.render(value) + " is less than a nanosecond", expected);
        } else if (Section.negative(value, duration) || duration.compareTo(LocationSettings.EXPIRES_MAX) > 0) {
            location.invalid("expires", Section.render(value) + " is out of range", expected);
        } else {
            return duration;
        }
        return null;
    }

    /** An existing directory, relative paths resolved against the configuration's directory. */
    private Path directory(Section section, String name, boolean required) {
        if (!section.isSet(name)) {
            if (required) {
                section.missing(name, "the path of an existing directory");
            }
            return null;
        }
        return directory(section, name, section.path(name, base));
    }

    /** {@code path}, written at {@code name}, if an existing directory edge's user can search; a problem if not. */
    private static Path directory(Section section, String name, Path path) {
        if (path != null && !Files.isDirectory(path)) {
            section.invalid(name, whyNoDirectory(path), "the path of an existing directory");
        } else if (path != null && !Files.isExecutable(path)) {
            // Without search permission every file under it is refused (403) with nothing logged; nginx finds out
            // per request (EACCES in its error log), edge at the start, as it does for a root that is missing.
            section.invalid(name, path + " cannot be searched by edge's user (no x permission)",
                    "the path of a directory edge's user can open files in");
        }
        return path;
    }

    /**
     * A warning where {@code root}, {@code site}'s under symlinks = deny, is reached through a link (it is one, or a
     * directory above it is): every request below it is 404, as nginx 1.22's disable_symlinks on answers a root that
     * is a link (measured, ENOTDIR), and as edge's resolver answers it ({@code PathResolver}); nginx -t says nothing.
     */
    private void linkedRoot(Section site, Path root) {
        Path written = root.toAbsolutePath().normalize();
        Path real;
        try {
            real = written.toRealPath();
        } catch (IOException e) {
            return; // not there: said where it is written
        }
        if (!real.equals(written)) {
            warnings.add(site.writtenAt("root").problem(written + " is reached through a symbolic link (its real"
                    + " path is " + real + "), which symlinks = deny does not follow: every request below it is"
                    + " answered 404, as nginx's disable_symlinks on answers it (edge has no from=$document_root);"
                    + " write its real path, or symlinks = within-root"));
        }
    }

    /** What {@link #reasonNoFile} says of a path that is not there. */
    static final String MISSING = "does not exist";

    /**
     * Why {@code path} is not what was looked for: {@code notOne} (it is there, as something else), {@link #MISSING},
     * or out of edge's user's reach (EACCES on the way, which {@link Files#exists} takes for "not there": "does not
     * exist" sent the user looking for a file that is there).
     */
    static String reasonNoFile(Path path, String notOne) {
        try {
            Files.readAttributes(path, BasicFileAttributes.class);
            return notOne;
        } catch (AccessDeniedException denied) {
            return "cannot be reached by edge's user (no search permission on a directory on the way)";
        } catch (IOException missing) { // a file on the way (ENOTDIR) too
            return MISSING;
        }
    }

    /** {@link #reasonNoFile}, after the path. */
    static String whyNoFile(Path path, String notOne) {
        return path + " " + reasonNoFile(path, notOne);
    }

    /** Why {@code path} is no directory: not one, not there, or out of edge's user's reach (EACCES on the way). */
    static String whyNoDirectory(Path path) {
        return whyNoFile(path, "is not a directory");
    }

    private static ConfigObject objectOrEmpty(ConfigValue value) {
        return value != null && value.valueType() == ConfigValueType.OBJECT
                ? (ConfigObject) value : ConfigFactory.empty().root();
    }

    /**
     * Why {@code path} cannot name a front controller, or null: a path as the script lookup takes one (decoded,
     * normalised), without a query (the request's own is passed as sent: nginx's {@code /index.php?$query_string}
     * habit would look for a file named so) and without control characters.
     */
    static String scriptPathFault(String path) {
        if (!path.startsWith("/")) {
            return "is not a path";
        }
        if (path.indexOf('?') >= 0 || path.indexOf('#') >= 0) {
            return "holds a query or fragment (the request's query goes to the script as sent)";
        }
        for (int i = 0; i < path.length(); i++) {
            if (Character.isISOControl(path.charAt(i))) {
                return "holds a control character";
            }
        }
        for (String segment : path.substring(1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "is not a normalised path (an empty, \".\" or \"..\" segment)";
            }
        }
        return null;
    }
}
