package io.edge.it;

import com.github.benmanes.caffeine.cache.Ticker;
import io.edge.conf.ConfigLoader;
import io.edge.core.Edge;
import io.edge.core.http.RawHttpClient;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Starts a real edge in this JVM on a configuration written to a file (so the HOCON loader is part of
 * every test), listening on a free loopback port.
 */
final class EdgeHarness implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    /**
     * A {@code listen} key of the test's own: a word "listen" elsewhere (a socket named nobody-listens.sock) is none, and
     * taking it for one left edge on its default port 8080, which another process may hold.
     */
    private static final Pattern LISTEN_KEY = Pattern.compile("\\blisten\\s*[=:\\[]");

    private final Edge edge;
    private final InetSocketAddress address;
    private final Path conf;

    private EdgeHarness(Edge edge, Path conf) {
        this.edge = edge;
        this.address = edge.boundAddresses().get(0);
        this.conf = conf;
    }

    /** {@code edgeBody} is the inside of {@code edge { ... }}; the listener is added unless it sets one. */
    static EdgeHarness start(Path dir, String edgeBody) throws Exception {
        return start(dir, edgeBody, Ticker.systemTicker());
    }

    /** As {@link #start(Path, String)}, with the caches aging on {@code ticker} (a fake clock). */
    static EdgeHarness start(Path dir, String edgeBody, Ticker ticker) throws Exception {
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, file(edgeBody));
        Edge edge = new Edge(new ConfigLoader().load(conf), ticker);
        edge.start();
        return new EdgeHarness(edge, conf);
    }

    private static String file(String edgeBody) {
        String listen = LISTEN_KEY.matcher(edgeBody).find() ? "" : "server.listen = [\"127.0.0.1:0\"]\n";
        return "edge {\n" + listen + "server.access-log = off\n" + edgeBody + "\n}\n";
    }

    /** Rewrites the configuration file with {@code edgeBody} and reloads it, as SIGHUP does. */
    void reload(String edgeBody) throws Exception {
        reload(edgeBody, null);
    }

    /** As {@link #reload(String)}, a changed access log going through {@code accessLogs} (as the launcher's). */
    void reload(String edgeBody, Edge.AccessLogSwitch accessLogs) throws Exception {
        Files.writeString(conf, file(edgeBody));
        edge.reload(conf, accessLogs);
    }

    /** The edge this harness runs. */
    Edge edge() {
        return edge;
    }

    InetSocketAddress address() {
        return address;
    }

    /** The text of the status page, {@code /edge-status} (a location of the test's), over a connection of its own. */
    String status() throws Exception {
        try (RawHttpClient client = new RawHttpClient(address)) {
            return client.send("GET /edge-status HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").read().text();
        }
    }

    /**
     * A GET of {@code target} over HTTP/1.1 for the client {@code address}, as a trusted proxy in front names it: its
     * X-Forwarded-For, which a test's {@code server.real-ip.from = ["127.0.0.1"]} believes.
     */
    HttpResponse<String> getFrom(String address, String target) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(target)).header("X-Forwarded-For", address).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + address.getPort() + pathAndQuery);
    }

    /** Closes {@code edge}, then {@code fpm}; either may be null (a set-up that failed part-way). */
    static void close(EdgeHarness edge, PhpFpm fpm) {
        if (edge != null) {
            edge.close();
        }
        if (fpm != null) {
            fpm.close();
        }
    }

    /** Closes {@code edge}, then {@code backend}, even where the first failed; either may be null. */
    static void close(EdgeHarness edge, JdkBackend backend) {
        try {
            if (edge != null) {
                edge.close();
            }
        } finally {
            if (backend != null) {
                backend.close();
            }
        }
    }

    @Override
    public void close() {
        edge.stop();
    }
}
