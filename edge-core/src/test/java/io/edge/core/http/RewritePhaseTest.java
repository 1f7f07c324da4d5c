package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.aio.file.FileEngine;
import io.edge.aio.file.PathStatus;
import io.edge.conf.ConfigLoader;
import io.edge.conf.ServerSettings;
import io.edge.core.EdgeServer;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site's rewrites, met before a location is chosen, and a location's, met before its responder (which answers with
 * the URI it was handed, its location's match and its query): nginx's rewrite phases.
 */
class RewritePhaseTest {

    @TempDir
    Path root;

    private EdgeServer server;
    /** Requests the locations' responder answered. */
    private final AtomicInteger answered = new AtomicInteger();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.shutdown();
        }
    }

    private InetSocketAddress start(String sites) throws Exception {
        return start(sites, null);
    }

    /** As {@link #start(String)}, the file tests asking {@code files}. */
    private InetSocketAddress start(String sites, FileEngine files) throws Exception {
        Files.createDirectories(root.resolve("www"));
        Path conf = root.resolve("edge.conf");
        Files.writeString(conf, "edge {\n" + sites + "\n}\n");
        ServerSettings settings = TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)),
                100);
        server = new EdgeServer(TestServers.sites(settings, root, new ConfigLoader().load(conf).sites()),
                location -> RewritePhase.guard(exchange -> {
                    if (exchange.path().endsWith("/") && location.match().startsWith("/")) {
                        exchange.redirect(exchange.path() + "index.html"); // as a directory's index file is found
                        return;
                    }
                    byte[] body = (location.match() + " " + exchange.path() + "?" + exchange.query())
                            .getBytes(StandardCharsets.UTF_8);
                    DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                    answered.incrementAndGet();
                    exchange.complete(exchange.writeAndFlush(response));
                }, location), files);
        server.start();
        return server.boundAddresses().get(0);
    }

    @Test
    void siteRewritesChainThenRouteAndLocationIfsAnswer() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ root = www
                  rewrites = [
                    { rewrite = "^/a/(.*)$ /b/$1?from=a" }
                    { rewrite = "^/b/(.*)$ /c/$1" }
                    { if = "$arg_from = a", rewrite = "^/c/x$ /d/x last" }
                    { rewrite = "^/d/x$ /never" }
                    { if = "$http_x_go", rewrite = "^ https://example.org/go redirect" }
                  ]
                  locations = [
                    { match = "/" }
                    { match = "/c/" }
                    { match = "/d/" }
                    { match = "~ ^/item/(\\\\d+)$", rewrites = [
                      { if = "$http_x_old = yes", return = "301 /items/$1" }
                      { if = "$http_x_slow ~ ^(.*)/(.*)/(.*)\\\\.jpg$", return = 403 }
                    ] }
                    { match = "/name/", rewrites = [{ if = "$http_x_name ~ ^n-(.+)$", return = "302 /n/$1" }] }
                  ] }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /a/y?q=1 HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("the second rewrite met the first one's URI, the query set and the request's after it")
                    .isEqualTo("/c/ /c/y?from=a&q=1");
            assertThat(client.send("GET /a/x HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("last: the entries after it passed over").isEqualTo("/d/ /d/x?from=a");
            RawHttpClient.Response go = client.send("GET /z?k=v HTTP/1.1\r\nHost: h\r\nX-Go: 1\r\n\r\n").read();
            assertThat(go.status()).isEqualTo(302);
            assertThat(go.header("location")).as("the request's query appended, after ?").isEqualTo(
                    "https://example.org/go?k=v");
            RawHttpClient.Response old = client.send("GET /item/7 HTTP/1.1\r\nHost: h\r\nX-Old: yes\r\n\r\n").read();
            assertThat(old.status()).isEqualTo(301);
            assertThat(old.header("location")).as("the location regex's capture")
                    .isEqualTo("http://h:" + address.getPort() + "/items/7");
            assertThat(client.send("GET /item/7 HTTP/1.1\r\nHost: h\r\nX-Old: no\r\n\r\n").read().text())
                    .isEqualTo("~ ^/item/(\\d+)$ /item/7?");
            RawHttpClient.Response name = client.send("GET /name/ HTTP/1.1\r\nHost: h\r\nX-Name: n-caf\u00c3\u00a9"
                    + "\r\n\r\n").read();
            assertThat(name.header("location")).as("a header's UTF-8 captured as the bytes sent, encoded once")
                    .isEqualTo("http://h:" + address.getPort() + "/n/caf%C3%A9");
            RawHttpClient.Response slow = client.send("GET /item/7 HTTP/1.1\r\nHost: h\r\nX-Slow: "
                    + "/" + "a/".repeat(1500) + "b\r\n\r\n").read(); // 1500^3 / 6 reads to say no
            assertThat(slow.status()).as("a regex that backtracks gives up within its budget: 500, the loop let go")
                    .isEqualTo(500);
        }
    }

    /**
     * A site's rewrites are met again for the new URI at an internal redirect (here a directory's index file, as
     * nginx's index module redirects to /dir/index.html), not at a location's rewrite (nginx routes its URI again and
     * meets the site's no more), and nginx's 10 internal redirects and location rewrites are counted across them (a
     * site's rewrite is not counted). They were met once per request: /dir/ found its index.
     */
    @Test
    void siteRewritesAreMetAgainAtAnInternalRedirect() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ root = www
                  rewrites = [
                    { if = "$uri = /dir/index.html", return = 418 }
                    { rewrite = "^/moved/index.html$ /elsewhere/index.html" }
                    { rewrite = "^/loc-target$ /never" }
                    { rewrite = "^/cycle/index.html$ /cycle/" }
                    { rewrite = "^/n/(x*)/index.html$ /n/$1x" }
                  ]
                  locations = [
                    { match = "/" }
                    { match = "/loc/", rewrites = [{ rewrite = "^ /loc-target last" }] }
                    { match = "~ ^/n/x{1,5}$", rewrites = [{ rewrite = "^/n/(x*)$ /n/$1/ last" }] }
                  ] }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /dir/ HTTP/1.1\r\nHost: h\r\n\r\n").read().status())
                    .as("the index file's URI met the site's if").isEqualTo(418);
            assertThat(client.send("GET /moved/ HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("and its rewrite").isEqualTo("/ /elsewhere/index.html?");
            assertThat(client.send("GET /loc/a HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("a location's rewrite last meets the site's no more").isEqualTo("/ /loc-target?");
            assertThat(client.send("GET /cycle/ HTTP/1.1\r\nHost: h\r\n\r\n").read().status())
                    .as("an index and a site's rewrite back to its directory: a cycle, 500").isEqualTo(500);
        }
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /n/x/ HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("5 index files and 4 location rewrites, the site's 5 rewrites between them not counted")
                    .isEqualTo("/ /n/xxxxxx?");
        }
    }

    /**
     * An if's text in a regex location has the location's captures, as nginx's "if ($arg_c = $1)" in
     * "location ~ ^/eq/(\w+)$" compares with the location's $1.
     */
    @Test
    void anIfTextHasTheLocationsCaptures() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ root = www
                  locations = [{ match = "~ ^/eq/(\\\\w+)$", rewrites = [
                    { if = "$arg_c = $1", return = "200 eq $1" }
                  ] }]
                }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /eq/ab?c=ab HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("eq ab");
            assertThat(client.send("GET /eq/ab?c=x HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .isEqualTo("~ ^/eq/(\\w+)$ /eq/ab?c=x");
        }
    }

    /**
     * A body is held to the limit of the location the site's rewrites route it to, as nginx checks
     * client_max_body_size in the location it finds after its server rewrite phase: it was held to the first
     * location's, 413 before the rewrites ran.
     */
    @Test
    void aBodyIsHeldToTheLimitOfTheLocationTheSitesRewritesFind() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ root = www
                  rewrites = [{ rewrite = "^/big$ /upload/big" }]
                  locations = [
                    { match = "/", body-limit = 10 }
                    { match = "/upload/", body-limit = 1 MiB }
                  ] }]
                """);
        String body = "abcdefghijklmnopqrstuvwxyz";
        try (RawHttpClient client = new RawHttpClient(address)) {
            RawHttpClient.Response big = client.send("POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: "
                    + body.length() + "\r\n\r\n" + body).read();
            assertThat(big.status()).as("the upload location's limit").isEqualTo(200);
            assertThat(big.text()).isEqualTo("/upload/ /upload/big?");
        }
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("POST /other HTTP/1.1\r\nHost: h\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body).read().status()).as("the first location's").isEqualTo(413);
        }
    }

    /**
     * nginx's set: a value made where its entry is met (an if that holds, a rewrite's regex that matches, with their
     * captures), seen by every later entry, the site's by the location's; "" where no set reached it; $args changes
     * the query passed on; a map whose source names a set variable read at its first use and kept.
     */
    @Test
    void setsAreMadeInOrderAndSeenByLaterEntries() throws Exception {
        InetSocketAddress address = start("""
                server.maps.lang_name { source = "$lang", default = "none", values = [{ match = "fr", value = "french" }] }
                sites = [{ root = www
                  rewrites = [
                    { set = "$skip 0" }
                    { if = "$request_method = POST", set = "$skip 1" }
                    { if = "$http_x_user ~ ^u-(.+)$", set = ["$user $1", "$full $scheme://$host$uri"] }
                    { rewrite = "^/old/(.*)$ /new/$1", set = "$was $1" }
                    { if = "$arg_drop", set = "$args kept=1" }
                  ]
                  locations = [
                    { match = "/", rewrites = [
                      { if = "$skip", return = "200 skipped" }
                      { return = "200 skip=$skip user=$user full=$full was=$was never=$never uri=$uri args=$args" }
                    ] }
                    { match = "/q/" }
                    { match = "/lang/", rewrites = [{ set = "$lang fr" }, { return = "200 $lang_name" }] }
                    { match = "/early/", rewrites = [
                      { if = "$lang_name = none", set = "$seen yes" }
                      { set = "$lang fr" }
                      { return = "200 $lang_name $seen" }
                    ] }
                    { match = "/z/", rewrites = [{ if = "$arg_z", set = "$never 1" }] }
                  ] }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /old/x?drop=1 HTTP/1.1\r\nHost: h\r\nX-User: u-bob\r\n\r\n").read().text())
                    .as("each set made in order, with its if's or rewrite's captures; the site's seen by the location")
                    .isEqualTo("skip=0 user=bob full=http://h/old/x was=x never= uri=/new/x args=kept=1");
            assertThat(client.send("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").read().text())
                    .as("a later set replaces an earlier one's value").isEqualTo("skipped");
            assertThat(client.send("GET /q/a?drop=1&k=v HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("set $args: the query passed on").isEqualTo("/q/ /q/a?kept=1");
            assertThat(client.send("GET /lang/ HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("a map whose source is a set variable").isEqualTo("french");
            assertThat(client.send("GET /early/ HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("a map read before the set keeps its first value, as nginx's").isEqualTo("none yes");
        }
    }

    /**
     * A file engine whose stats wait until the test answers them ({@link #answer}), or answer at once from another
     * thread ({@code held} false): a file test's phase is resumed on its loop either way.
     */
    private static final class HeldStats {
        final BlockingQueue<CompletableFuture<PathStatus>> held = new LinkedBlockingQueue<>();
        final List<String> asked = new CopyOnWriteArrayList<>();
        volatile boolean holding;
        final FileEngine engine = (FileEngine) Proxy.newProxyInstance(FileEngine.class.getClassLoader(),
                new Class<?>[] {FileEngine.class}, (proxy, method, args) -> {
                    if (!method.getName().equals("status")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    String path = (String) args[0];
                    asked.add(path);
                    CompletableFuture<PathStatus> status = new CompletableFuture<>();
                    if (holding) {
                        held.add(status);
                    } else {
                        CompletableFuture.runAsync(() -> status.complete(PathStatus.of(path)));
                    }
                    return status;
                });

        /** Answers the oldest stat held with what the path is now. */
        void answer() throws InterruptedException {
            held.take().complete(PathStatus.of(asked.get(asked.size() - 1)));
        }
    }

    /**
     * nginx's file tests: a site's maintenance file answers 503 while it exists (seen at once: never remembered), a
     * path that names nothing goes to the front controller, an existing file and a directory do not; a location's -d,
     * -f, -x and their negations on $request_filename, $document_root and an absolute path; a trailing "/" after a
     * file names nothing; an entry's sets before the test are kept through it, and the entries after it are met.
     */
    @Test
    void fileTestsAnswerAsNginxsDo() throws Exception {
        HeldStats stats = new HeldStats();
        Path www = Files.createDirectories(root.resolve("www"));
        Files.writeString(www.resolve("real.txt"), "x");
        Files.createDirectories(www.resolve("d/sub"));
        Path script = Files.writeString(www.resolve("d/run.sh"), "#!/bin/sh");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr--r--"));
        Files.createSymbolicLink(www.resolve("link.txt"), www.resolve("real.txt"));
        Files.createSymbolicLink(www.resolve("dangling"), www.resolve("nothing"));
        InetSocketAddress address = start("""
                sites = [{ root = www
                  rewrites = [
                    { set = "$before 1" }
                    { if = "-f $document_root/maintenance.html", return = "503 down" }
                    { if = "!-e $request_filename", rewrite = "^ /index.php last" }
                  ]
                  locations = [
                    { match = "/" }
                    { match = "/index.php", rewrites = [{ if = "$before", return = "200 front $uri" }] }
                    { match = "/d/", rewrites = [
                      { if = "-d $request_filename", return = "200 dir" }
                      { if = "-x $request_filename", return = "200 exec" }
                      { if = "!-f $request_filename", return = "404" }
                      { if = "-f '%s/real.txt/'", return = "200 a file with a slash" }
                    ] }
                  ] }]
                """.formatted(www), stats.engine);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /real.txt HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("an existing file: the site's entries all met, then its location").isEqualTo("/ /real.txt?");
            assertThat(client.send("GET /link.txt HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("a link to a file exists").isEqualTo("/ /link.txt?");
            assertThat(client.send("GET /dangling HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("a link to nothing does not: to the front controller, the set before the test kept")
                    .isEqualTo("front /index.php");
            assertThat(client.send("GET /no/such/dir/x HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("a path under a missing directory names nothing").isEqualTo("front /index.php");
            Files.writeString(www.resolve("maintenance.html"), "down");
            RawHttpClient.Response down = client.send("GET /real.txt HTTP/1.1\r\nHost: h\r\n\r\n").read();
            assertThat(down.status()).as("the maintenance file, created since").isEqualTo(503);
            Files.delete(www.resolve("maintenance.html"));
            assertThat(client.send("GET /real.txt HTTP/1.1\r\nHost: h\r\n\r\n").read().status())
                    .as("and removed again").isEqualTo(200);
            assertThat(client.send("GET /d/sub/ HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("dir");
            assertThat(client.send("GET /d/run.sh HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("the owner's execute bit").isEqualTo("exec");
            assertThat(client.send("GET /d/nothing HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .as("the site's rewrite routed it to its front controller first").isEqualTo("front /index.php");
        }
        assertThat(stats.asked).contains(www + "/maintenance.html", www + "/real.txt", www + "/d/sub/",
                www + "/d/run.sh");
        assertThat(PathStatus.of(www + "/real.txt/")).as("a file named with a trailing slash names nothing")
                .isEqualTo(PathStatus.MISSING);
        assertThat(PathStatus.of(www + "/d/sub/").directory()).isTrue();
    }

    /**
     * An entry with a file test suspends the phase until the engine answers, and the request goes on on its loop
     * then, with the entries after it; a client that left meanwhile is let go there (nothing answered, nothing
     * leaked), and the next request is served as ever.
     */
    @Test
    void aFileTestSuspendsThePhaseUntilTheEngineAnswers() throws Exception {
        HeldStats stats = new HeldStats();
        stats.holding = true;
        Path www = Files.createDirectories(root.resolve("www"));
        Files.writeString(www.resolve("real.txt"), "x");
        InetSocketAddress address = start("""
                sites = [{ root = www
                  locations = [{ match = "/", rewrites = [
                    { if = "!-e $request_filename", return = "404" }
                    { set = "$after 1" }
                    { if = "$after = ''", return = "500 the set after the test was not made" }
                  ] }]
                }]
                """, stats.engine);
        try (RawHttpClient client = new RawHttpClient(address)) {
            client.send("GET /real.txt HTTP/1.1\r\nHost: h\r\n\r\n");
            CompletableFuture<PathStatus> first = stats.held.take();
            assertThat(answered).as("nothing answered while the stat waits").hasValue(0);
            first.complete(PathStatus.of(www + "/real.txt"));
            assertThat(client.read().text()).as("the entries after the test met on the loop, then its location")
                    .isEqualTo("/ /real.txt?");
            client.send("GET /real.txt HTTP/1.1\r\nHost: h\r\n\r\n");
            stats.held.take().complete(PathStatus.MISSING);
            assertThat(client.read().status()).isEqualTo(404);
        }
        int before = answered.get();
        RawHttpClient gone = new RawHttpClient(address);
        gone.send("GET /real.txt HTTP/1.1\r\nHost: h\r\n\r\n");
        CompletableFuture<PathStatus> orphan = stats.held.take();
        gone.socket().setSoLinger(true, 0);
        gone.close(); // a reset: the exchange ends with its connection
        while (server.connectionStats().open() > 0) {
            Thread.sleep(10); // until the server saw it go
        }
        orphan.complete(PathStatus.of(www + "/real.txt"));
        try (RawHttpClient client = new RawHttpClient(address)) {
            client.send("GET /real.txt HTTP/1.1\r\nHost: h\r\n\r\n");
            stats.held.take().complete(PathStatus.of(www + "/real.txt"));
            assertThat(client.read().text()).isEqualTo("/ /real.txt?");
        }
        assertThat(answered.get() - before).as("the one whose client left was not answered").isEqualTo(1);
    }

    /**
     * $request_filename in an alias's location is its directory and what follows its prefix (a trailing "/" kept), as
     * nginx's; $document_root is the alias's directory.
     */
    @Test
    void anAliasMapsRequestFilenameAsNginxs() throws Exception {
        HeldStats stats = new HeldStats();
        Path alias = Files.createDirectories(root.resolve("shared"));
        Files.createDirectories(alias.resolve("sub"));
        Files.writeString(alias.resolve("a.txt"), "a");
        InetSocketAddress address = start("""
                sites = [{ root = www
                  locations = [{ match = "/al/", alias = shared, rewrites = [
                    { if = "-d $request_filename", return = "200 dir" }
                    { if = "-f $document_root/a.txt", return = "200 file" }
                  ] }]
                }]
                """, stats.engine);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /al/sub/ HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("dir");
            assertThat(client.send("GET /al/x HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("file");
        }
        assertThat(stats.asked).containsExactly(alias + "/sub/", alias + "/x", alias + "/a.txt");
    }

    /**
     * $request_filename in a slash-less prefix location's alias is the alias's text and what follows the match, as
     * nginx's: {@code /slx} names {@code sharedx} beside the directory (no file edge serves), not the directory itself.
     */
    @Test
    void aSlashlessAliasMapsRequestFilenameAsNginxs() throws Exception {
        HeldStats stats = new HeldStats();
        Path alias = Files.createDirectories(root.resolve("shared"));
        Files.createDirectories(alias.resolve("sub"));
        InetSocketAddress address = start("""
                sites = [{ root = www
                  locations = [{ match = "/sl", alias = shared, rewrites = [
                    { if = "-e $request_filename", return = "200 there" }
                    { if = "!-e $request_filename", return = "200 not there" }
                  ] }]
                }]
                """, stats.engine);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /sl/sub/ HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("there");
            assertThat(client.send("GET /slx HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("not there");
        }
        assertThat(stats.asked).containsExactly(alias + "/sub/", alias + "x", alias + "x");
    }

    /**
     * $document_root under an alias of a file (an exact location's, a slash-less prefix's) is the alias itself, as
     * nginx 1.22's (measured side by side: {@code location = /x { alias /srv/file.txt; }} gives /srv/file.txt for it
     * and for $request_filename), not the parent edge holds the file below; under a slash-less alias of a directory
     * it is that directory. So in a location nested in such a one, which takes the alias: nginx's merge copies the
     * alias's text inward (the nested location's was the parent).
     */
    @Test
    void aFileAliasIsItsOwnDocumentRootAsNginxs() throws Exception {
        HeldStats stats = new HeldStats();
        Path data = Files.createDirectories(root.resolve("data"));
        Files.writeString(data.resolve("f.txt"), "f");
        Files.createDirectories(root.resolve("shared"));
        InetSocketAddress address = start("""
                sites = [{ root = www
                  locations = [
                    { match = "= /x", alias = "data/f.txt", rewrites = [
                      { if = "-f $document_root", return = "200 exact" }] }
                    { match = "/f.txt", alias = "data/f.txt", rewrites = [
                      { if = "-f $document_root", return = "200 prefix" }] }
                    { match = "/sl", alias = shared, rewrites = [
                      { if = "-d $document_root", return = "200 directory" }] }
                    { match = "= /y", alias = "data/f.txt", rewrites = [
                      { if = "-f $request_filename", return = "200 filename" }] }
                    { match = "/g.txt", alias = "data/f.txt", locations = [
                      { match = "~ \\\\.txt$", rewrites = [{ if = "-f $document_root", return = "200 nested file" }] }
                    ] }
                    { match = "/sn", alias = shared, locations = [
                      { match = "~ \\\\.css$", rewrites = [{ if = "-d $document_root", return = "200 nested dir" }] }
                    ] }
                  ]
                }]
                """, stats.engine);
        try (RawHttpClient client = new RawHttpClient(address)) {
            assertThat(client.send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("exact");
            assertThat(client.send("GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("prefix");
            assertThat(client.send("GET /sl/a HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("directory");
            assertThat(client.send("GET /y HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("filename");
            assertThat(client.send("GET /g.txt HTTP/1.1\r\nHost: h\r\n\r\n").read().text()).isEqualTo("nested file");
            assertThat(client.send("GET /sn/a.css HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                    .isEqualTo("nested dir");
        }
        assertThat(stats.asked).containsExactly(data + "/f.txt", data + "/f.txt", root.resolve("shared").toString(),
                data + "/f.txt", data + "/f.txt", root.resolve("shared").toString());
    }

    /**
     * nginx's $1 to $9 are the last regex's that ran: an if's regex that finds no match leaves none (nginx 1.22: after
     * "if ($arg_x ~ ^(\\d+)$)" fails, $1 is empty, not the location's), one that matches its own, whether or not
     * the entry is met ("!~"); a rewrite's regex its own, matched or not, for the entries after it ("rewrite
     * ^/i/(\\w)(\\w*)$ /j/$2; set $v $1;" sets "a", in a prefix location too); a named group stays the regex's that set it.
     */
    @Test
    void capturesAreTheLastRegexsAsNginxLeavesThem() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ root = www
                  locations = [
                    { match = "~ ^/d/(\\\\w+)$", rewrites = [
                      { set = "$before $1" }
                      { if = "$arg_x ~ ^(\\\\d+)$", set = "$in $1" }
                      { return = "200 before=[$before] in=[$in] after=[$1]" }
                    ] }
                    { match = "~ ^/f/(\\\\w+)/(\\\\w+)$", rewrites = [
                      { if = "$arg_x ~ ^(\\\\d+)$", set = "$in $1" }
                      { return = "200 f1=[$1] f2=[$2]" }
                    ] }
                    { match = "~ ^/h/(\\\\w+)$", rewrites = [
                      { if = "$arg_x !~ ^(\\\\d+)$", return = "200 neg h1=[$1]" }
                      { return = "200 pos h1=[$1]" }
                    ] }
                    { match = "~ ^/i/(\\\\w+)$", rewrites = [
                      { rewrite = "^/i/(\\\\w)(\\\\w*)$ /j/$2" }
                      { set = "$v $1" }
                      { return = "200 v=[$v] uri=[$uri]" }
                    ] }
                    { match = "~ ^/k/(\\\\w+)$", rewrites = [
                      { rewrite = "^/nomatch(\\\\d)$ /j" }
                      { return = "200 k1=[$1]" }
                    ] }
                    { match = "/r/", rewrites = [
                      { rewrite = "^/r/(a)(.*)$ /x$2" }
                      { set = ["$v $1", "$w $2"] }
                      { return = "200 v=[$v] w=[$w] uri=[$uri]" }
                    ] }
                    { match = "/s/", rewrites = [
                      { rewrite = "^/s/(a)(.*)$ /x$2" }
                      { rewrite = "^/zzz(.*)$ /q$1" }
                      { set = "$v $1" }
                      { return = "200 v=[$v] uri=[$uri]" }
                    ] }
                    { match = "~ ^/n/(?<slug>\\\\w+)$", rewrites = [
                      { if = "$arg_x ~ ^(\\\\d+)$", set = "$in $1" }
                      { return = "200 slug=[$slug] one=[$1]" }
                    ] }
                  ] }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            for (String[] asked : new String[][] {
                    {"/d/abc?x=12", "before=[abc] in=[12] after=[12]"},
                    {"/d/abc?x=zz", "before=[abc] in=[] after=[]"},
                    {"/f/aa/bb?x=zz", "f1=[] f2=[]"},
                    {"/f/aa/bb?x=12", "f1=[12] f2=[]"},
                    {"/h/abc?x=zz", "neg h1=[]"},
                    {"/h/abc?x=12", "pos h1=[12]"},
                    {"/i/abc", "v=[a] uri=[/j/bc]"},
                    {"/k/abc", "k1=[]"},
                    {"/n/abc?x=zz", "slug=[abc] one=[]"},
                    {"/n/abc?x=12", "slug=[abc] one=[12]"},
                    {"/r/abc", "v=[a] w=[bc] uri=[/xbc]"},
                    {"/s/abc", "v=[] uri=[/xbc]"}}) {
                assertThat(client.send("GET " + asked[0] + " HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                        .as(asked[0] + ", as nginx 1.22 answers it").isEqualTo(asked[1]);
            }
        }
    }

    /**
     * A named group is a variable of the last match that set it (nginx's), for every entry after its regex's: an if's
     * {@code (?<slug>...)} reaches a later rewrite and return, whatever regexes ran since; a later regex of the same
     * name that matches replaces it (a "!~" one too: it matched), one that finds no match leaves it; never matched,
     * it is empty. Answers as nginx 1.22 gave them, side by side with the same blocks.
     */
    @Test
    void aNamedGroupIsTheLastMatchsThatSetIt() throws Exception {
        InetSocketAddress address = start("""
                sites = [{ server-names = [h], root = www
                  rewrites = [
                    { if = "$uri ~ ^/(?<slug>[a-z]+)", set = "$seen $slug" }
                    { rewrite = "^/s/ /index.php?s=$slug last" }
                    { rewrite = "^/m/(?<mid>\\\\w+)$ /c/$mid" }
                    { if = "$uri ~ ^/c/", return = "200 c mid=[$mid] slug=[$slug] seen=[$seen]" }
                    { if = "$uri ~ ^/(?<slug>[0-9]+)", return = "200 digits slug=[$slug]" }
                    { if = "$uri !~ ^/(?<slug>[A-Z]+)", return = "200 neg slug=[$slug]" }
                  ]
                  locations = [{ match = "/" }]
                }, { server-names = [n], root = www
                  locations = [
                    { match = "~ ^/n/(?<slug>\\\\w+)$", rewrites = [
                      { if = "$arg_x ~ ^(?<slug>\\\\d+)$", set = "$in 1" }
                      { if = "$arg_y ~ ^(?<other>\\\\d+)$", set = "$in 2" }
                      { rewrite = "^/n/(\\\\w)\\\\w*$ /q/$1$slug$other" }
                      { return = "200 slug=[$slug] other=[$other] uri=[$uri]" }
                    ] }
                    { match = "/" }
                  ] }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            for (String[] asked : new String[][] {
                    {"/s/x", "/ /index.php?s=s"},
                    {"/S/x", "/ /S/x?"},
                    {"/m/qq", "c mid=[qq] slug=[m] seen=[m]"},
                    {"/9", "digits slug=[9]"},
                    {"/zz", "neg slug=[zz]"},
                    {"/n/abc", "slug=[abc] other=[] uri=[/q/aabc]"},
                    {"/n/abc?x=12", "slug=[12] other=[] uri=[/q/a12]"},
                    {"/n/abc?y=7", "slug=[abc] other=[7] uri=[/q/aabc7]"},
                    {"/n/abc?x=12&y=7", "slug=[12] other=[7] uri=[/q/a127]"}}) {
                String host = asked[0].startsWith("/n/") ? "n" : "h";
                assertThat(client.send("GET " + asked[0] + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").read().text())
                        .as(asked[0] + ", as nginx 1.22 answers it").isEqualTo(asked[1]);
            }
        }
    }

    /**
     * A location's regex (its rewrite's, a regex location's own) whose named group has a map's name sets that map's
     * variable for the rest of the request, in the location's later entries and in the location a rewrite routes to; a
     * group nested in another sets both; a rewrite that finds no match leaves the map's value. Answers as nginx 1.22
     * gave them with the same blocks (map $uri $pool declared after the server: declared before it, nginx's capture
     * takes the variable over and the map is "" for every request, which edge does not copy). Before, a location's
     * group reached its own list alone: the location routed to, and an entry after a rewrite that found no match,
     * read the map's default or nothing.
     */
    @Test
    void aLocationsNamedGroupOfAMapsNameSetsTheMap() throws Exception {
        InetSocketAddress address = start("""
                server.maps.pool { source = "$uri", default = mapdef, values = [{ match = "~^/m", value = mapm }] }
                sites = [{ server-names = [h], root = www, locations = [
                  { match = "/c/", rewrites = [
                    { rewrite = "^/c/(?<pool>[a-z]+)$ /c/done" }
                    { return = "200 c pool=$pool uri=$uri" }
                  ] }
                  { match = "/d/", rewrites = [
                    { set = "$before $pool" }
                    { rewrite = "^/d/(?<pool>[a-z]+)$ /d/done" }
                    { return = "200 d before=$before pool=$pool" }
                  ] }
                  { match = "/e/", rewrites = [
                    { rewrite = "^/e/(?<pool>[0-9]+)$ /e/done" }
                    { return = "200 e pool=$pool" }
                  ] }
                  { match = "/a/", rewrites = [{ rewrite = "^/a/(?<pool>[a-z]+)$ /r/ last" }] }
                  { match = "~ ^/l/(?<pool>[a-z]+)$", rewrites = [{ rewrite = "^ /r/ last" }] }
                  { match = "/rp/", rewrites = [{ rewrite = "^/rp/(?<a>x(?<pool>y))$ /r/ last" }] }
                  { match = "/r/", rewrites = [{ return = "200 r pool=$pool uri=$uri" }] }
                  { match = "/m/", rewrites = [{ return = "200 m pool=$pool" }] }
                  { match = "~ ^/n/(?<a>x(?<b>y))$", rewrites = [{ return = "200 n a=$a b=$b" }] }
                  { match = "/rn/", rewrites = [
                    { rewrite = "^/rn/(?<a>x(?<b>y))$ /rn/done" }
                    { return = "200 rn a=$a b=$b" }
                  ] }
                ] }]
                """);
        try (RawHttpClient client = new RawHttpClient(address)) {
            for (String[] asked : new String[][] {
                    {"/c/abc", "c pool=abc uri=/c/done"},
                    {"/d/abc", "d before=mapdef pool=abc"},
                    {"/e/abc", "e pool=mapdef"},
                    {"/a/abc", "r pool=abc uri=/r/"},
                    {"/l/abc", "r pool=abc uri=/r/"},
                    {"/rp/xy", "r pool=y uri=/r/"},
                    {"/r/", "r pool=mapdef uri=/r/"},
                    {"/m/x", "m pool=mapm"},
                    {"/n/xy", "n a=xy b=y"},
                    {"/rn/xy", "rn a=xy b=y"}}) {
                assertThat(client.send("GET " + asked[0] + " HTTP/1.1\r\nHost: h\r\n\r\n").read().text())
                        .as(asked[0] + ", as nginx 1.22 answers it").isEqualTo(asked[1]);
            }
        }
    }
}
