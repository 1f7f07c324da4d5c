package io.edge.it;


import java.io.IOException;
import java.net.Socket;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A real php-fpm behind an edge whose one location ({@code /}, PHP) has the response cache on, aging on a
 * fake clock the test advances; its {@code X-Cache} is the location's {@code $upstream_cache_status}. {@code
 * cache.php} appends its id to {@code count.txt} on every run, so a test counts how often PHP really ran; {@link #url}
 * builds its query.
 */
final class CachedPhp implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final Path dir;
    private final AtomicLong nanos = new AtomicLong(1);
    private final PhpFpm fpm;
    private final EdgeHarness edge;

    private CachedPhp(Path dir, PhpFpm fpm, String backendSettings, String cacheSettings) throws Exception {
        this.dir = dir;
        this.fpm = fpm;
        EdgeHarness started;
        try {
            started = EdgeHarness.start(dir, """
                    sites = [{
                      server-names = ["_"], default = true, root = "www"
                      locations = [
                        { match = "/", fastcgi = php, cache = true, headers { X-Cache = "$upstream_cache_status" } }
                        { match = "= /edge-status", status = true }
                      ]
                    }]
                    fastcgi.backends.php { addresses = ["%s"], %s }
                    cache.responses { %s }
                    """.formatted(fpm.address(), backendSettings, cacheSettings), nanos::get);
        } catch (Exception | Error e) {
            fpm.close();
            throw e;
        }
        this.edge = started;
    }

    /**
     * @param workers         php-fpm's pm.max_children
     * @param backendSettings the rest of {@code fastcgi.backends.php}, e.g. {@code max-connections = 1}
     * @param cacheSettings   the inside of {@code cache.responses}
     */
    static CachedPhp start(Path dir, int workers, String backendSettings, String cacheSettings) throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")),
                "pm = static\npm.max_children = " + workers + "\n");
        return new CachedPhp(dir, fpm, backendSettings, cacheSettings);
    }

    /** {@code cache.php} for {@code id}, sending {@code cacheControl} (none when null); {@code extra} is "&k=v..." */
    static String url(String id, String cacheControl, String extra) {
        return "/cache.php?id=" + id
                + (cacheControl == null ? "" : "&cc=" + URLEncoder.encode(cacheControl, StandardCharsets.UTF_8)) + extra;
    }

    /** What {@code cache.php} answers on its {@code run}-th run for {@code id}, without Accept-Encoding. */
    static String body(String id, int run) {
        return "id=" + id + " run=" + run + " ae=";
    }

    void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }

    HttpResponse<String> get(String path, String... headers) throws Exception {
        return send("GET", path, headers);
    }

    HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        return HTTP.send(request(method, path, headers), HttpResponse.BodyHandlers.ofString());
    }

    /** As {@link #get}, the body as its bytes. */
    HttpResponse<byte[]> getBytes(String path, String... headers) throws Exception {
        return HTTP.send(request("GET", path, headers), HttpResponse.BodyHandlers.ofByteArray());
    }

    CompletableFuture<HttpResponse<String>> getAsync(String path, String... headers) {
        return HTTP.sendAsync(request("GET", path, headers), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest request(String method, String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path))
                .timeout(Duration.ofSeconds(60))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return request.build();
    }

    /**
     * Sends a GET for {@code path} on a connection of its own and returns it unread: a client that can leave
     * (close it) before its answer comes.
     */
    Socket sendAndHold(String path) throws IOException {
        Socket client = new Socket(edge.address().getAddress(), edge.address().getPort());
        try {
            client.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + edge.uri("/").getAuthority()
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        return client;
    }

    /** The value of one sample on edge's status page (Prometheus text), e.g. {@code edge_connections_open}. */
    long metric(String name) throws Exception {
        String page = get("/edge-status?format=prometheus").body();
        return page.lines().filter(line -> line.startsWith(name + " "))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(name.length() + 1).strip()))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not on the status page:\n" + page));
    }

    /** How often cache.php ran for {@code id}. */
    long runs(String id) throws IOException {
        Path counter = dir.resolve("count.txt");
        return Files.exists(counter) ? Files.readAllLines(counter).stream().filter(id::equals).count() : 0;
    }

    /** How cache.php's run for {@code id} with {@code stream} ended: "aborted", "done", or null while it runs. */
    String streamEnd(String id) throws IOException {
        Path end = dir.resolve("stream-" + id + ".txt");
        return Files.exists(end) ? Files.readString(end) : null;
    }

    /** The most runs of cache.php for {@code id} with {@code track} that ran at once (0: none ran). */
    long mostAtOnce(String id) throws IOException {
        Path most = dir.resolve("most-" + id + ".txt");
        return Files.exists(most) ? Long.parseLong(Files.readString(most).strip()) : 0;
    }

    /** Lets every cache.php run held with {@code hold=name} finish. */
    void release(String name) throws IOException {
        Files.writeString(dir.resolve(name), "");
    }

    /** Stops php-fpm at once; edge keeps running. */
    void stopPhp() throws IOException, InterruptedException {
        fpm.stopNow();
    }

    /** Starts the php-fpm {@link #stopPhp} stopped again, on the same socket. */
    void startPhp() throws IOException {
        fpm.start();
    }

    /**
     * Probes until {@code done} holds (for work edge finishes in the background), then returns the value;
     * fails after a generous bound. Asserts an outcome, never a duration.
     */
    static <T> T eventually(Callable<T> probe, Predicate<T> done) throws Exception {
        return Awaits.until(probe, done, "what the test waits for");
    }

    @Override
    public void close() {
        try {
            edge.close();
        } finally {
            fpm.close();
        }
    }
}
