package io.edge.conf;

import io.edge.aio.StaticIoSettings;
import io.edge.fastcgi.BackendGroupSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The whole validated configuration of one server, as immutable records.
 *
 * @param source     the file it was read from (relative paths in it were resolved against its directory)
 * @param server     listeners, limits and timeouts
 * @param staticIo   the static file engine and its bounds
 * @param mimeTypes  file extension (lower case, no dot) to media type: the built-in table plus overrides
 * @param sites      virtual hosts, in configuration order; exactly one is the default
 * @param backends   FastCGI backend groups by name
 * @param cache      the file content and response caches
 */
public record EdgeSettings(
        Path source,
        ServerSettings server,
        StaticIoSettings staticIo,
        Map<String, String> mimeTypes,
        List<SiteSettings> sites,
        Map<String, BackendGroupSettings> backends,
        CacheSettings cache) {

    public EdgeSettings {
        mimeTypes = Map.copyOf(mimeTypes);
        sites = List.copyOf(sites);
        backends = Map.copyOf(backends);
    }

    /** Settings with the default caches (tests that build settings in code). */
    public EdgeSettings(Path source, ServerSettings server, StaticIoSettings staticIo, Map<String, String> mimeTypes,
                        List<SiteSettings> sites, Map<String, BackendGroupSettings> backends) {
        this(source, server, staticIo, mimeTypes, sites, backends, CacheSettings.defaults());
    }

    /** The site that answers requests whose Host matches no server name. */
    public SiteSettings defaultSite() {
        return sites.stream().filter(SiteSettings::isDefault).findFirst().orElse(sites.get(0));
    }
}
