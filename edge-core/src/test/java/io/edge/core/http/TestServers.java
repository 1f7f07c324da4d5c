package io.edge.core.http;

import io.edge.aio.PathPolicy;
import io.edge.aio.StaticIoSettings;
import io.edge.conf.EdgeSettings;
import io.edge.conf.LocationSettings;
import io.edge.conf.ServerSettings;
import io.edge.conf.SiteSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Settings for core tests: one site, one prefix location "/", port 0 on loopback. */
final class TestServers {

    private TestServers() {
    }

    static ServerSettings server(ServerSettings.HttpLimits limits, ServerSettings.HttpTimeouts timeouts, int maxConnections) {
        return new ServerSettings(List.of(new InetSocketAddress("127.0.0.1", 0)), 1, maxConnections, limits, timeouts,
                null, Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** Small limits, and no cap on the requests of a connection: tests pipeline thousands. */
    static ServerSettings.HttpLimits limits() {
        return new ServerSettings.HttpLimits(1024, 4096, 20, 1 << 20, 0);
    }

    static ServerSettings.HttpTimeouts timeouts(Duration head) {
        return new ServerSettings.HttpTimeouts(head, Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofSeconds(30));
    }

    static ServerSettings.HttpTimeouts writeTimeout(Duration write) {
        return new ServerSettings.HttpTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(30), write, Duration.ofSeconds(5),
                Duration.ofSeconds(5), Duration.ofSeconds(30));
    }

    static ServerSettings.HttpTimeouts lingering(Duration lingering, Duration lingeringTime) {
        return new ServerSettings.HttpTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(30),
                Duration.ofSeconds(30), Duration.ofSeconds(5), lingering, lingeringTime);
    }

    static EdgeSettings settings(ServerSettings server, Path root) {
        return settings(server, root, List.of(new LocationSettings("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null)));
    }

    /** One site of these locations. */
    static EdgeSettings settings(ServerSettings server, Path root, List<LocationSettings> locations) {
        SiteSettings site = new SiteSettings(List.of("_"), true, root, List.of("index.html"), PathPolicy.DEFAULT, locations);
        return sites(server, root, List.of(site));
    }

    /** These sites, in this order. */
    static EdgeSettings sites(ServerSettings server, Path root, List<SiteSettings> sites) {
        StaticIoSettings io = new StaticIoSettings(StaticIoSettings.Engine.SENDFILE, 64, 4, 100, Duration.ofSeconds(1),
                1, 1000, 1 << 20, Duration.ofSeconds(30), false);
        return new EdgeSettings(root.resolve("edge.conf"), server, io, Map.of(), sites, Map.of());
    }
}
