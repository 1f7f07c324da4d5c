package io.edge.conf;

import io.edge.aio.StaticIoSettings;
import io.edge.fastcgi.BackendGroupSettings;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The whole validated configuration of one server, as immutable records.
 *
 * @param source     the file it was read from (relative paths in it were resolved against its directory)
 * @param server     listeners, limits and timeouts
 * @param staticIo   the static file engine and its bounds
 * @param mimeTypes  file extension (lower case, no dot) to media type: the built-in table plus overrides
 * @param sites      virtual hosts, in configuration order; exactly one is the default
 * @param backends   FastCGI backend groups by name
 * @param proxyBackends HTTP backend groups by name ({@code proxy.backends}), pools of the same kind as FastCGI's
 * @param cache      the file content and response caches
 * @param warnings   what is not wrong but likely a mistake (a value set twice in one object, backend groups at one
 *                   address), for the operator to read: logged at a start and a reload, printed by {@code --check-config}
 * @param alwaysHeaders {@code location-defaults}' {@code always-headers}: added to the answers given before any location
 *                   is chosen (a request that cannot be read or routed, a request head's timeout) and to those of a
 *                   path no location matches (404), as nginx adds a server's {@code add_header ... always} to its 400s
 *                   and to the answers no location of its gives; by name
 */
public record EdgeSettings(
        Path source,
        ServerSettings server,
        StaticIoSettings staticIo,
        Map<String, String> mimeTypes,
        List<SiteSettings> sites,
        Map<String, BackendGroupSettings> backends,
        CacheSettings cache,
        List<ConfigProblem> warnings,
        Map<String, VariableText> alwaysHeaders,
        Map<String, BackendGroupSettings> proxyBackends) {

    public EdgeSettings {
        proxyBackends = Map.copyOf(proxyBackends);
        mimeTypes = Map.copyOf(mimeTypes);
        sites = List.copyOf(sites);
        backends = Map.copyOf(backends);
        warnings = List.copyOf(warnings);
        alwaysHeaders = Collections.unmodifiableMap(new TreeMap<>(alwaysHeaders));
    }

    /** Settings without HTTP backends. */
    public EdgeSettings(Path source, ServerSettings server, StaticIoSettings staticIo, Map<String, String> mimeTypes,
                        List<SiteSettings> sites, Map<String, BackendGroupSettings> backends, CacheSettings cache,
                        List<ConfigProblem> warnings, Map<String, VariableText> alwaysHeaders) {
        this(source, server, staticIo, mimeTypes, sites, backends, cache, warnings, alwaysHeaders, Map.of());
    }

    /** Settings without warnings, nor headers on answers no location gives. */
    public EdgeSettings(Path source, ServerSettings server, StaticIoSettings staticIo, Map<String, String> mimeTypes,
                        List<SiteSettings> sites, Map<String, BackendGroupSettings> backends, CacheSettings cache) {
        this(source, server, staticIo, mimeTypes, sites, backends, cache, List.of(), Map.of());
    }

    /** Settings with the default caches (tests that build settings in code). */
    public EdgeSettings(Path source, ServerSettings server, StaticIoSettings staticIo, Map<String, String> mimeTypes,
                        List<SiteSettings> sites, Map<String, BackendGroupSettings> backends) {
        this(source, server, staticIo, mimeTypes, sites, backends, CacheSettings.defaults());
    }

    /** These settings with {@code warnings} instead of theirs. */
    EdgeSettings withWarnings(List<ConfigProblem> warnings) {
        return new EdgeSettings(source, server, staticIo, mimeTypes, sites, backends, cache, warnings, alwaysHeaders,
                proxyBackends);
    }

    /** The site that answers requests whose Host matches no server name. */
    public SiteSettings defaultSite() {
        return sites.stream().filter(SiteSettings::isDefault).findFirst().orElse(sites.get(0));
    }
}
