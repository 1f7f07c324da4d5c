package io.edge.conf;

import io.edge.fastcgi.cgi.ScriptResolver;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One location of a site: which request paths it takes and who answers them.
 *
 * <p>Matching follows nginx: an exact match ({@code "= /path"}) wins, then the longest prefix
 * ({@code "/prefix/"}), then the first regular expression in configuration order ({@code "~ regex"},
 * {@code "~* regex"} case-insensitive) — except that a prefix written {@code "^~ /prefix/"} stops the regex
 * search when it is the longest.
 *
 * @param match    the text as written in the configuration
 * @param kind     how {@code pattern} is compared
 * @param pattern  the path or regular expression text
 * @param regex    compiled expression for {@link Kind#REGEX}, else {@code null}
 * @param root     overrides the site's root, or {@code null}
 * @param handler  who answers
 * @param fastcgiBackend backend group name when {@code handler} is {@link Handler#FASTCGI}, else {@code null}
 * @param frontController for FastCGI locations, a script such as {@code /index.php} that runs when the path
 *                        is neither a script nor an existing file or directory (nginx's
 *                        {@code try_files $uri $uri/ /index.php?$query_string}); {@code null} for none
 * @param sendfileRoots   for FastCGI locations, directories whose files a backend may hand back with
 *                        {@code X-Sendfile} or {@code X-Accel-Redirect}; empty turns both off
 * @param cache           for FastCGI locations, answer GET and HEAD from the shared response cache and
 *                        accept {@code PURGE}
 * @param statusAllow     for {@link Handler#STATUS} locations, the client addresses that may read the page
 * @param expires         how long clients may keep this location's answers with the statuses {@link #addsHeaders}
 *                        names ({@code Cache-Control: max-age} and {@code Expires}, nginx's {@code expires});
 *                        negative: already expired ({@code no-cache}); {@code null}: no such headers
 * @param headers         added to this location's answers with the statuses {@link #addsHeaders} names, nginx's
 *                        {@code add_header}; by name, each value with the request's variables
 * @param bodyLimit       the largest request body this location takes, in bytes (nginx's {@code client_max_body_size}
 *                        in a location); {@code Long.MAX_VALUE}: no limit; {@link #SERVER_BODY_LIMIT}:
 *                        {@code server.limits.body}
 * @param fastcgiParams   for FastCGI locations, params sent to the backend after the standard ones, each replacing
 *                        one of the same name (nginx's {@code fastcgi_param}: {@code HTTPS = on} behind a proxy that
 *                        ends TLS); in the order of their names, each value with the request's variables
 * @param gzip            how the location's answers (a backend's, files) are compressed for clients that take gzip
 *                        (nginx's {@code gzip on}); {@code null}: they go as they are
 * @param gzipStatic      a file's {@code .gz} beside it is sent instead, compressed, to clients that take gzip (nginx's
 *                        {@code gzip_static on})
 * @param internal        reached only by an X-Accel-Redirect, never by a client's own request (nginx's {@code internal})
 * @param fastcgiScript   for FastCGI locations, the script every request runs, not looked for under the root: php-fpm's
 *                        {@code pm.status_path} and {@code ping.path}, which php-fpm answers itself; {@code null}: the
 *                        request's path names it
 * @param access          client addresses let in or refused (403), nginx's {@code allow} and {@code deny}: the first rule
 *                        that holds the client decides; none: every client
 * @param returns         for {@link Handler#RETURN} locations, the answer every request gets (nginx's {@code return});
 *                        else {@code null}
 * @param rewrite         for {@link Handler#REWRITE} locations, the URI every request is answered as, routed again
 *                        (nginx's {@code rewrite ... last}); else {@code null}
 * @param limitReqs       how many requests a second each client (or each key) may make here (nginx's
 *                        {@code limit_req}), each in its own zone, every one applying; empty: no limit
 * @param limitConns      how many requests each client (or each key) may have in progress here at a time (nginx's
 *                        {@code limit_conn}), each in its own zone, every one applying; empty: no limit
 * @param authBasic       the users and passwords this location asks for (nginx's {@code auth_basic}); {@code null}: none
 * @param accessLog       whether the requests this location answers are written to the access log (nginx's
 *                        {@code access_log off} in a location: false)
 * @param referers        the Referer headers its requests may carry, others answered otherwise (nginx's
 *                        {@code valid_referers}); {@code null}: any
 * @param alias           {@link #root} is the directory the location's prefix stands for (nginx's {@code alias}):
 *                        {@code /thumbs/ab/x.jpg} is {@code ab/x.jpg} in it for the prefix {@code /thumbs/}; in a
 *                        regex location, the alias's fixed directory, below which {@link #aliasCaptures} say where
 *                        a path's file is
 * @param limitRate       how fast a file's body goes to each client (nginx's {@code limit_rate}); {@code null}: as fast
 *                        as it can
 * @param autoindex       how a directory with no index file is listed (nginx's {@code autoindex on}); {@code null}: it
 *                        is not (403)
 * @param alwaysHeaders   added to every answer of this location whatever its status, edge's error pages too, nginx's
 *                        {@code add_header ... always}; by name, none of them in {@link #headers}, each value
 *                        with the request's variables
 * @param aliasCaptures   for an alias in a regex location, the file's path below {@link #root} its captures make
 *                        ({@code alias /srv/images/$1}); {@code null} for any other location
 * @param splitPathInfo   for FastCGI locations, the split of a path into the script name (group 1) and PATH_INFO
 *                        (group 2), nginx's {@code fastcgi_split_path_info}; {@code null}: edge's default, after the
 *                        first segment ending in {@code .php} that is no directory
 * @param secureLink      the signed, expiring URLs its requests must carry, others answered otherwise (nginx's
 *                        {@code secure_link} and {@code secure_link_md5}); {@code null}: none asked for
 * @param rewrites        its {@code if}s and rewrites (nginx's rewrite phase), met in order after its access rules and
 *                        before anything else of it
 * @param proxy           for {@link Handler#PROXY} locations, the HTTP backend group and how a request goes to it;
 *                        else {@code null}
 * @param fastcgiNextUpstream for {@link Handler#FASTCGI} locations, when a request goes on to the next address of its
 *                        group (nginx's {@code fastcgi_next_upstream}, its tries and timeout; {@code null} given for one
 *                        is {@link NextUpstream#DEFAULT}); else {@code null}
 * @param clientBodyBufferSize the longest request body kept in memory where bodies are read whole before a backend is
 *                        asked (FastCGI, proxy-request-buffering), a longer one spooled to a file (nginx's {@code
 *                        client_body_buffer_size})
 * @param gzipClients     which requests {@link #gzip} and {@link #gzipStatic} send gzip to (nginx's
 *                        {@code gzip_proxied}, {@code gzip_disable}, {@code gzip_http_version}); {@code null} given is
 *                        {@link GzipClients#DEFAULT}
 * @param redirects       how the redirects edge makes itself here (a directory's missing slash, a return's or a
 *                        rewrite's to a path) write their {@code Location} (nginx's {@code absolute_redirect},
 *                        {@code port_in_redirect}, {@code server_name_in_redirect}); {@code null} given is
 *                        {@link Redirects#DEFAULT}
 * @param subFilter       the strings replaced in the bodies of its answers (nginx's {@code sub_filter}); {@code null}:
 *                        none
 * @param locations       the locations nested in it (nginx's location in a location), in configuration order: a path
 *                        its prefix takes is matched among them too, as nginx does (see the router); empty: none
 * @param aliasPrefix     for an alias that stands for a prefix, that prefix: the location's own match ({@code /thumbs/}),
 *                        or, in a location nested in a prefix alias one that sets no root or alias of its own, the
 *                        enclosing one's, whose alias it takes as nginx's merge does ({@code location /pma/ { alias
 *                        /srv/pma/; location ~ \.php$ {} }}: {@code /pma/a/b.php} is {@code /srv/pma/a/b.php} there
 *                        too); {@code null} for no alias or an alias in a regex location ({@link #aliasCaptures}).
 *                        {@code null} given for an alias without captures is {@link #pattern}
 * @param imageFilter     what is made of the images it answers (nginx's {@code image_filter}); {@code null}: nothing
 * @param frontControllerDirectories with a {@link #frontController}, whether an existing directory answers before it
 *                        (its index), nginx's {@code try_files $uri $uri/ /index.php}; false: a directory goes to the
 *                        front controller as a missing path does, nginx's {@code try_files $uri /index.php}
 * @param backendChoice   for a {@code fastcgi} or {@code proxy} written with variables ({@code "$pool"}, nginx's
 *                        {@code fastcgi_pass $pool} and {@code proxy_pass http://$pool}): the text whose value, worked
 *                        out for each request, names the group of that kind it goes to ({@link #fastcgiBackend} and
 *                        {@link Proxy#backend} then hold it as written); {@code null}: the group named is the one
 * @param fastcgiPassHeaders for a FastCGI location, the script's response fields passed to the client that are hidden
 *                        by default (X-Accel-Expires, -Limit-Rate, -Buffering), lower case: nginx's
 *                        {@code fastcgi_pass_header}; {@code null} given is none
 */
public record LocationSettings(
        String match,
        Kind kind,
        String pattern,
        Pattern regex,
        Path root,
        Handler handler,
        String fastcgiBackend,
        String frontController,
        List<Path> sendfileRoots,
        boolean cache,
        List<AddressRange> statusAllow,
        Duration expires,
        Map<String, VariableText> headers,
        long bodyLimit,
        Map<String, VariableText> fastcgiParams,
        Gzip gzip,
        boolean gzipStatic,
        boolean internal,
        String fastcgiScript,
        List<AccessRule> access,
        Return returns,
        Rewrite rewrite,
        List<LimitReq> limitReqs,
        List<LimitConn> limitConns,
        AuthBasic authBasic,
        boolean accessLog,
        Referers referers,
        boolean alias,
        LimitRate limitRate,
        Autoindex autoindex,
        Map<String, VariableText> alwaysHeaders,
        AliasCaptures aliasCaptures,
        Pattern splitPathInfo,
        SecureLink secureLink,
        List<RewriteRule> rewrites,
        Proxy proxy,
        NextUpstream fastcgiNextUpstream,
        int clientBodyBufferSize,
        GzipClients gzipClients,
        Redirects redirects,
        SubFilter subFilter,
        List<LocationSettings> locations,
        String aliasPrefix,
        ImageFilter imageFilter,
        boolean frontControllerDirectories,
        VariableText backendChoice,
        Set<String> fastcgiPassHeaders) {

    /** {@link #bodyLimit}: the server's. */
    public static final long SERVER_BODY_LIMIT = -1;

    /** {@code expires = max}: ten years, nginx's {@code max-age} for it. */
    public static final Duration EXPIRES_MAX = Duration.ofDays(3650);
    /** {@code expires = epoch}: already expired. */
    public static final Duration EXPIRES_EPOCH = Duration.ofSeconds(-1);

    public LocationSettings {
        sendfileRoots = List.copyOf(sendfileRoots);
        statusAllow = List.copyOf(statusAllow);
        headers = Collections.unmodifiableMap(new TreeMap<>(headers));
        alwaysHeaders = Collections.unmodifiableMap(new TreeMap<>(alwaysHeaders));
        fastcgiParams = Collections.unmodifiableMap(new TreeMap<>(fastcgiParams));
        access = List.copyOf(access);
        rewrites = List.copyOf(rewrites);
        limitReqs = List.copyOf(limitReqs);
        limitConns = List.copyOf(limitConns);
        if (handler == Handler.FASTCGI && fastcgiNextUpstream == null) {
            fastcgiNextUpstream = NextUpstream.DEFAULT;
        }
        if (gzipClients == null) {
            gzipClients = GzipClients.DEFAULT;
        }
        if (redirects == null) {
            redirects = Redirects.DEFAULT;
        }
        locations = List.copyOf(locations);
        fastcgiPassHeaders = fastcgiPassHeaders == null ? Set.of() : Set.copyOf(fastcgiPassHeaders);
        if (!alias || aliasCaptures != null) {
            aliasPrefix = null;
        } else if (aliasPrefix == null) {
            aliasPrefix = pattern;
        }
    }

    /**
     * Whether this location's scripts may go to the FastCGI group {@code group}: the one it names, or any where a
     * variable chooses ({@link #backendChoice}).
     */
    public boolean sendsTo(String group) {
        return handler == Handler.FASTCGI && (backendChoice != null || group.equals(fastcgiBackend));
    }

    /** This location and those nested in it, theirs too, each before those nested in it. */
    public Stream<LocationSettings> withNested() {
        return Stream.concat(Stream.of(this), locations.stream().flatMap(LocationSettings::withNested));
    }

    /** {@link #clientBodyBufferSize} of a location made without a configuration: reference.conf's default. */
    public static final int CLIENT_BODY_BUFFER_SIZE = 64 * 1024;

    /**
     * {@link AliasCaptures#asFile} of this location's alias, which the location takes while its {@link #root} is found
     * to be a file, its parent then the directory the file never leaves; null for any other location.
     */
    public AliasCaptures aliasAsFile() {
        return alias && aliasCaptures != null ? aliasCaptures.asFile() : null;
    }

    /**
     * The request paths this location's {@link #root} stands for: its prefix for an alias, else all ("/"); an alias in a
     * regex location says by its {@link #aliasCaptures} where a path is below its directory.
     */
    public String uriPrefix() {
        return alias && aliasCaptures == null ? aliasPrefix : "/";
    }

    /** How a script's path is split into SCRIPT_NAME and PATH_INFO: {@link #splitPathInfo}, else edge's default. */
    public Pattern scriptSplit() {
        return splitPathInfo != null ? splitPathInfo : ScriptResolver.DEFAULT_SPLIT;
    }

    /** This location's body limit: its own, else {@code serverLimit}. */
    public long bodyLimit(long serverLimit) {
        return bodyLimit == SERVER_BODY_LIMIT ? serverLimit : bodyLimit;
    }

    /** Whether {@link #headers} go with an answer of {@code status}: nginx's add_header list (2xx, 3xx but 300, 305). */
    public static boolean addsHeaders(int status) {
        return switch (status) {
            case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308 -> true;
            default -> false;
        };
    }

    /**
     * A location made without a configuration, every setting but these as a configuration leaves it that names none:
     * no front controller or X-Sendfile, no cache, its headers and params none, the server's body limit, request
     * bodies of up to {@link #CLIENT_BODY_BUFFER_SIZE} kept in memory, nginx's defaults for its next upstream, gzip
     * clients and redirects, and no nested locations. {@link #builder} sets some of the others.
     */
    public LocationSettings(String match, Kind kind, String pattern, Pattern regex, Path root, Handler handler,
                            String fastcgiBackend) {
        this(match, kind, pattern, regex, root, handler, fastcgiBackend, null, List.of(), false, List.of(), null,
                Map.of(), SERVER_BODY_LIMIT, Map.of(), null, false, false, null, List.of(), null, null, List.of(),
                List.of(), null, true, null, false, null, null, Map.of(), null, null, null, List.of(), null, null,
                CLIENT_BODY_BUFFER_SIZE, null, null, null, List.of(), null, null, true, null, Set.of());
    }

    /**
     * A location made without a configuration as {@link #LocationSettings(String, Kind, String, Pattern, Path, Handler,
     * String)} makes it, but for the settings the builder is given.
     */
    public static Builder builder(String match, Kind kind, String pattern, Pattern regex, Path root, Handler handler,
            String fastcgiBackend) {
        return new Builder(new LocationSettings(match, kind, pattern, regex, root, handler, fastcgiBackend));
    }

    /**
     * The settings a location made without a configuration is given beyond those of {@link #builder} (a test's cache,
     * headers, gzip, limit rate or secure link); every other one as that constructor leaves it.
     */
    public static final class Builder {

        private final LocationSettings base;
        private boolean cache;
        private Map<String, VariableText> headers;
        private Gzip gzip;
        private LimitRate limitRate;
        private Map<String, VariableText> alwaysHeaders;
        private SecureLink secureLink;

        private Builder(LocationSettings base) {
            this.base = base;
            this.cache = base.cache;
            this.headers = base.headers;
            this.gzip = base.gzip;
            this.limitRate = base.limitRate;
            this.alwaysHeaders = base.alwaysHeaders;
            this.secureLink = base.secureLink;
        }

        /** {@link LocationSettings#cache}. */
        public Builder cache(boolean cache) {
            this.cache = cache;
            return this;
        }

        /** {@link LocationSettings#headers}. */
        public Builder headers(Map<String, VariableText> headers) {
            this.headers = headers;
            return this;
        }

        /** {@link LocationSettings#gzip}. */
        public Builder gzip(Gzip gzip) {
            this.gzip = gzip;
            return this;
        }

        /** {@link LocationSettings#limitRate}. */
        public Builder limitRate(LimitRate limitRate) {
            this.limitRate = limitRate;
            return this;
        }

        /** {@link LocationSettings#alwaysHeaders}. */
        public Builder alwaysHeaders(Map<String, VariableText> alwaysHeaders) {
            this.alwaysHeaders = alwaysHeaders;
            return this;
        }

        /** {@link LocationSettings#secureLink}. */
        public Builder secureLink(SecureLink secureLink) {
            this.secureLink = secureLink;
            return this;
        }

        public LocationSettings build() {
            LocationSettings b = base; // short: each of its settings is named below
            return new LocationSettings(b.match, b.kind, b.pattern, b.regex, b.root, b.handler, b.fastcgiBackend,
                    b.frontController, b.sendfileRoots, cache, b.statusAllow, b.expires, headers, b.bodyLimit,
                    b.fastcgiParams, gzip, b.gzipStatic, b.internal, b.fastcgiScript, b.access, b.returns, b.rewrite,
                    b.limitReqs, b.limitConns, b.authBasic, b.accessLog, b.referers, b.alias, limitRate, b.autoindex,
                    alwaysHeaders, b.aliasCaptures, b.splitPathInfo, secureLink, b.rewrites, b.proxy,
                    b.fastcgiNextUpstream, b.clientBodyBufferSize, b.gzipClients, b.redirects, b.subFilter,
                    b.locations, b.aliasPrefix, b.imageFilter, b.frontControllerDirectories, b.backendChoice,
                    b.fastcgiPassHeaders);
        }
    }

    /**
     * How a {@code Location} that edge writes itself as a path ({@code /dir/}, a return's {@code /path}) goes out:
     * nginx's {@code absolute_redirect}, {@code port_in_redirect} and {@code server_name_in_redirect}, which nginx's
     * header filter applies to such a Location.
     *
     * @param absolute   made a URL, {@code scheme://host[:port]/dir/}: the scheme the request's ({@code $scheme}), the
     *                   host as {@code serverName} says; false: sent as the path, which the client resolves against
     *                   the URL it asked for
     * @param port       with the port the connection came to, but 80 for http and 443 for https
     * @param serverName the host the site's first server name; false: the request's Host without its port, or the
     *                   address the connection came to where it has none
     */
    public record Redirects(boolean absolute, boolean port, boolean serverName) {

        /** nginx's defaults: absolute, with the port, the request's host. */
        public static final Redirects DEFAULT = new Redirects(true, true, false);
    }

    /**
     * A location's {@code gzip}: which answers are compressed, and how hard.
     *
     * @param level     zlib's level, 1 (fastest, nginx's default) to 9 (smallest)
     * @param minLength answers that declare a shorter length (Content-Length) go as they are
     * @param types     media types compressed, lower case, without parameters ({@code text/css}); {@code *} is any;
     *                  text/html is compressed whatever it holds
     */
    public record Gzip(int level, long minLength, Set<String> types) {

        public Gzip {
            types = Set.copyOf(types);
        }

        /**
         * Whether an answer of {@code mediaType} (lower case, without parameters) is compressed: one of {@link #types},
         * and text/html always, as nginx's gzip_types always has it.
         */
        public boolean compresses(String mediaType) {
            return types.contains(mediaType) || types.contains("*") || "text/html".equals(mediaType);
        }
    }

    /**
     * A location's {@code image-filter}, nginx's {@code image_filter} and its {@code image_filter_*} directives: the
     * JPEG, GIF and PNG images it answers read whole, then tested, measured, scaled down, cropped or turned.
     *
     * @param action       what is done to an image
     * @param width        the largest width {@link Action#RESIZE} and {@link Action#CROP} leave, with the request's
     *                     variables: pixels, or {@code -} for any; null for the other actions
     * @param height       the largest height, as {@code width}
     * @param rotate       the degrees an image is turned counterclockwise (90, 180, 270), with variables, after a
     *                     resize and before a crop; null: not turned
     * @param buffer       the largest body read, in bytes (nginx's {@code image_filter_buffer}): a larger one is 415
     * @param jpegQuality  the quality a JPEG is written with, 1 to 100, with variables
     * @param sharpen      the percent an image made anew is sharpened by, with variables; "0" none
     * @param transparency whether a GIF's or palette PNG's transparent colour is kept when scaled
     * @param interlace    whether an image made anew is written progressive (JPEG) or interlaced (PNG)
     */
    public record ImageFilter(Action action, VariableText width, VariableText height, VariableText rotate, long buffer,
            VariableText jpegQuality, VariableText sharpen, boolean transparency, boolean interlace) {

        /** nginx's {@code image_filter test | size | resize | crop | rotate}. */
        public enum Action {
            /** Answers images as they are, anything else 415. */
            TEST,
            /** Answers an image's dimensions and type as JSON; {@code {}} for anything else. */
            SIZE,
            /** Scales down, keeping the ratio, to fit within width and height. */
            RESIZE,
            /** Scales down to cover width and height, keeping the ratio, then cuts the middle out. */
            CROP,
            /** Turns it alone. */
            ROTATE
        }
    }

    /**
     * A location's {@code sub-filter}, nginx's {@code sub_filter}, {@code sub_filter_once}, {@code sub_filter_types}
     * and {@code sub_filter_last_modified}: strings replaced in the bodies of its answers on their way out.
     *
     * @param replace      what is looked for (ignoring ASCII case) and what it is replaced with, in the order written:
     *                     at one place, the first listed that is found there wins; never empty
     * @param once         each string is replaced where it is first found only; false: everywhere
     * @param types        media types filtered, lower case, without parameters; {@code *} is any; text/html always
     * @param lastModified the answer keeps its Last-Modified, its ETag made weak; false: both are dropped
     */
    public record SubFilter(List<Replace> replace, boolean once, Set<String> types, boolean lastModified) {

        public SubFilter {
            replace = List.copyOf(replace);
            types = Set.copyOf(types);
        }

        /** Whether an answer of {@code mediaType} (lower case, without parameters) is filtered. */
        public boolean filters(String mediaType) {
            return types.contains(mediaType) || types.contains("*") || "text/html".equals(mediaType);
        }

        /**
         * One {@code sub_filter string replacement}, each with the request's variables.
         *
         * @param match the string looked for; one whose value is empty for a request is not looked for
         * @param with  what replaces it
         */
        public record Replace(VariableText match, VariableText with) {
        }
    }

    /**
     * Which requests a location's {@code gzip} and {@code gzip.static} send gzip to, besides taking it: nginx's
     * {@code gzip_http_version}, {@code gzip_proxied} and {@code gzip_disable}.
     *
     * @param http10       HTTP/1.0 requests too ({@code gzip_http_version 1.0}); false: HTTP/1.1 and later
     * @param proxied      for a request with a Via field, which answers ({@code gzip_proxied}); never empty
     * @param disable      a request whose User-Agent one of these finds (caseless, anywhere) is sent none
     * @param disableMsie6 nor one from MSIE 4 to 6 before SP2 ({@code gzip_disable msie6})
     */
    public record GzipClients(boolean http10, Set<Proxied> proxied, List<Pattern> disable, boolean disableMsie6) {

        /** nginx's defaults: HTTP/1.1, none to a request with Via ({@code gzip_proxied off}), every User-Agent. */
        public static final GzipClients DEFAULT = new GzipClients(false, EnumSet.of(Proxied.OFF), List.of(), false);

        public GzipClients {
            proxied = Collections.unmodifiableSet(EnumSet.copyOf(proxied));
            disable = List.copyOf(disable);
        }
    }

    /** A value of {@code gzip.proxied}, nginx's {@code gzip_proxied}, spelt as nginx spells it. */
    public enum Proxied {
        OFF("off"), EXPIRED("expired"), NO_CACHE("no-cache"), NO_STORE("no-store"), PRIVATE("private"),
        NO_LAST_MODIFIED("no_last_modified"), NO_ETAG("no_etag"), AUTH("auth"), ANY("any");

        private final String written;

        Proxied(String written) {
            this.written = written;
        }

        /** As nginx writes it ({@code no-cache}, {@code no_etag}). */
        public String written() {
            return written;
        }

        /**
         * The value written {@code text}, in any case as nginx reads it, also with - for _ (no-etag) and _ for -
         * (no_cache), which nginx refuses; null for none.
         */
        public static Proxied of(String text) {
            String lower = text.toLowerCase(Locale.ROOT);
            for (Proxied value : values()) {
                if (value.written.equals(lower) || value.written.equals(lower.replace('-', '_'))
                        || value.written.equals(lower.replace('_', '-'))) {
                    return value;
                }
            }
            return null;
        }
    }

    /**
     * A location's {@code proxy}: nginx's {@code proxy_pass} to an upstream.
     *
     * @param backend the group under {@code proxy.backends}
     * @param uri     what replaces the location's prefix in the path sent (nginx's proxy_pass URI part); {@code null}:
     *                the request's URI goes as the client sent it
     * @param host    nginx's {@code $proxy_host}: the group's first address as a Host ({@code host:port}, no port for
     *                80, {@code localhost} for a Unix socket); null where a variable names the group
     *                ({@link LocationSettings#backendChoice}): {@link #hosts} has each group's
     * @param headers request headers set for the backend (nginx's {@code proxy_set_header}), by name; a value that
     *                comes out empty leaves the header out
     * @param upgrade whether a client's request to upgrade its connection (a websocket's) goes to the backend with its
     *                Upgrade field, and a 101 answer makes the two connections a tunnel; false: sent without, as any
     * @param redirects how the backend's Location and Refresh headers are rewritten (nginx's {@code proxy_redirect}):
     *                the first that takes such a URL ({@link Redirect}) has it replaced by its {@code to}; empty:
     *                they pass as the backend sent them ({@code proxy_redirect off})
     * @param nextUpstream when a request goes on to the next address of the group
     * @param buffering whether an answer is read from the backend as fast as it comes, what the client has not taken
     *                held in the group's response-buffer (nginx's {@code proxy_buffering}); false: read only as fast
     *                as the client takes it
     * @param requestBuffering whether a request's body is read whole (memory, then a temporary file) before the
     *                request takes a backend connection, and kept to go again to the next address (nginx's {@code
     *                proxy_request_buffering}); false: streamed to the backend as the client sends it, never sent again
     * @param passHeaders the backend's response fields passed to the client that are hidden by default (Date,
     *                Server, X-Pad, X-Accel-Expires, -Redirect, -Limit-Rate, -Buffering, -Charset: nginx's {@code
     *                proxy_pass_header}), lower case
     * @param hosts   where a variable names the group: each group's {@link #host}, by its name; else empty
     */
    public record Proxy(String backend, String uri, String host, Map<String, VariableText> headers, boolean upgrade,
                        List<Redirect> redirects, NextUpstream nextUpstream, boolean buffering,
                        boolean requestBuffering, Set<String> passHeaders, Map<String, String> hosts) {
        public Proxy {
            headers = Collections.unmodifiableMap(new TreeMap<>(headers));
            redirects = List.copyOf(redirects);
            passHeaders = Set.copyOf(passHeaders);
            hosts = Map.copyOf(hosts);
        }

        /** A location's proxy to the group it names. */
        public Proxy(String backend, String uri, String host, Map<String, VariableText> headers, boolean upgrade,
                     List<Redirect> redirects, NextUpstream nextUpstream, boolean buffering,
                     boolean requestBuffering, Set<String> passHeaders) {
            this(backend, uri, host, headers, upgrade, redirects, nextUpstream, buffering, requestBuffering,
                    passHeaders, Map.of());
        }

        /**
         * nginx's {@code $proxy_host} for a request sent to {@code group}, the one this location names or chose; empty
         * where a variable names the group and none is chosen ({@code group} null: not yet, in the rewrite phase, or the
         * value named none).
         */
        public String host(String group) {
            return host != null ? host : group == null ? "" : hosts.getOrDefault(group, "");
        }

        /**
         * One rewrite of {@code proxy_redirect}: a backend's URL that starts with {@code from} (compared case and all)
         * has that start replaced by {@code to}; one in which {@code regex} finds a match is replaced whole by it.
         *
         * @param from  the start of a URL, with the request's variables; null where {@code regex} is set
         * @param regex nginx's {@code ~regex} (or {@code ~*regex}), whose captures are {@code to}'s $1 to $9 and named
         *              groups; null for a {@code from}
         * @param to    what replaces it, with the request's variables
         */
        public record Redirect(VariableText from, Pattern regex, VariableText to) {

            /** A pair of a start and what replaces it. */
            public Redirect(VariableText from, VariableText to) {
                this(from, null, to);
            }
        }
    }

    /**
     * When a request goes on to the next address of its group: nginx's {@code proxy_next_upstream}, {@code
     * proxy_next_upstream_tries} and {@code proxy_next_upstream_timeout} for a proxied one, their {@code fastcgi_}
     * twins for a script's.
     *
     * @param conditions what passes a request on; empty for nginx's {@code off}
     * @param tries      at most this many addresses tried for a request, the first one included; 0: no limit
     * @param timeout    no passing on once this long went since the request first went to the group; zero: no limit
     */
    public record NextUpstream(Set<Condition> conditions, int tries, Duration timeout) {
        /** nginx's default: {@code error timeout}, no limit of tries or time. */
        public static final NextUpstream DEFAULT = new NextUpstream(EnumSet.of(Condition.ERROR, Condition.TIMEOUT), 0,
                Duration.ZERO);

        public NextUpstream {
            conditions = conditions.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(conditions));
        }

        public boolean on(Condition condition) {
            return conditions.contains(condition);
        }

        /**
         * Whether a request of {@code method} may go to the next address once it went to one: nginx's rule, every
         * method but its non-idempotent ones (POST, LOCK, PATCH; RFC 9110 9.2.2 allows it of the idempotent ones, and
         * nginx of a method it does not know), those too where the list has non_idempotent.
         */
        public boolean resends(HttpMethod method) {
            return on(Condition.NON_IDEMPOTENT) || !NOT_RESENT.contains(method);
        }

        private static final Set<HttpMethod> NOT_RESENT = Set.of(HttpMethod.POST, HttpMethod.PATCH,
                HttpMethod.valueOf("LOCK"));

        /**
         * Whether a try that failed for {@code condition} passes its request on: the condition is in the list, and
         * neither the tries ({@code failedTries} before this one, which counts too) nor the time ({@code elapsedNanos}
         * since the request first went to the group) are used up.
         */
        public boolean passesOn(Condition condition, int failedTries, long elapsedNanos) {
            return on(condition) && (tries == 0 || failedTries + 1 < tries)
                    && (timeout.isZero() || elapsedNanos < timeout.toNanos());
        }

        /** The condition an answer's status meets, or null for a status that never passes a request on. */
        public static Condition ofStatus(int status) {
            return switch (status) {
                case 500 -> Condition.HTTP_500;
                case 502 -> Condition.HTTP_502;
                case 503 -> Condition.HTTP_503;
                case 504 -> Condition.HTTP_504;
                case 403 -> Condition.HTTP_403;
                case 404 -> Condition.HTTP_404;
                case 429 -> Condition.HTTP_429;
                default -> null;
            };
        }
    }

    /**
     * One of {@code proxy_next_upstream}'s conditions, written as nginx's in lower case ({@code http_502});
     * {@code fastcgi_next_upstream} takes them but {@code http_502} and {@code http_504} ({@link #FASTCGI}).
     */
    public enum Condition {
        ERROR, TIMEOUT, INVALID_HEADER, HTTP_500, HTTP_502, HTTP_503, HTTP_504, HTTP_403, HTTP_404, HTTP_429,
        NON_IDEMPOTENT;

        /**
         * Those nginx's {@code fastcgi_next_upstream} takes: every one but {@code http_502} and {@code http_504}, the
         * statuses of a gateway, which nginx 1.22 refuses there ("invalid value").
         */
        public static final Set<Condition> FASTCGI = Collections.unmodifiableSet(
                EnumSet.complementOf(EnumSet.of(HTTP_502, HTTP_504)));

        /**
         * Whether an answer with this status, passed on, is counted against its address's health, as nginx counts it:
         * a 5xx or 429 it was told to pass on is, a 403 or 404 never.
         */
        public boolean isFailure() {
            return this != HTTP_403 && this != HTTP_404;
        }
    }

    /**
     * How a location's pattern is compared with a request path; {@link #NAMED} ({@code "@app"}, nginx's
     * {@code location @app}) with none: only a front-controller or an error page names it.
     */
    public enum Kind { EXACT, PREFIX, PREFIX_NO_REGEX, REGEX, NAMED }

    /**
     * Whether this is a named location ({@code match = "@app"}): no request path reaches it, a front-controller or an
     * error page sends a request there with its URI unchanged, as nginx's {@code try_files ... @app} and
     * {@code error_page 404 = @app}.
     */
    public boolean named() {
        return kind == Kind.NAMED;
    }

    /**
     * Who answers a location's requests: files, a FastCGI backend, an HTTP backend, edge's status page, its
     * {@code return}, or the location its {@code rewrite} leads to.
     */
    public enum Handler { STATIC, FASTCGI, PROXY, STATUS, RETURN, REWRITE, EMPTY_GIF }
}
