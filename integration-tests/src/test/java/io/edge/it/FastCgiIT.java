package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * edge in front of a real php-fpm on a Unix socket (listen.backlog = 8), through a group of 4 connections: the
 * saturation pool of the issue. Every test talks HTTP over real sockets.
 *
 * <p>php-fpm has 8 children, not 4: some tests start an edge of their own against the same php-fpm while the main one
 * has its 4 connections, and with 4 children the one's connection could wait in php-fpm's backlog behind the other's
 * (with kept-alive connections, each holding its child, until their idle timeout: 60 s).
 */
class FastCgiIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static Path counter;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path www = PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        counter = dir.resolve("count.txt");
        Files.createSymbolicLink(www.resolve("private-link"), Path.of("private")); // an x-sendfile directory's link
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 8
                listen.backlog = 8
                security.limit_extensions = .php .jpg
                """);
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www", index = ["index.php"]
                  locations = [
                    { match = "/", fastcgi = php, front-controller = "/index.php", x-sendfile = ["www/private"] }
                    { match = "^~ /static/" }
                    { match = "^~ /private/", internal = true }
                    { match = "= /edge-status", status = true }
                  ]
                }, {
                  server-names = ["nolinks.test"], root = "www", symlinks = deny
                  locations = [{ match = "/", fastcgi = php, x-sendfile = ["www/private"] }]
                }, {
                  server-names = ["linkeddir.test"], root = "www", symlinks = deny
                  locations = [{ match = "/", fastcgi = php, x-sendfile = ["www/private-link"] }]
                }, {
                  server-names = ["behind-tls.test"], root = "www"
                  locations = [{ match = "/", fastcgi = php,
                                 fastcgi-params { HTTPS = "on", SERVER_SOFTWARE = "nginx/1.22.1", APP_ENV = "prod",
                                                  APP_NAME = "Caf\u00e9 \u2615" } }]
                }]
                fastcgi.backends.php {
                  addresses = ["%s"]
                  max-connections = 4
                  queue { max-waiters = 1000, timeout = 20 s }
                }
                """.formatted(fpm.address()));
        assertThat(www).isDirectory();
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    @BeforeEach
    void resetCounter() throws Exception {
        Files.deleteIfExists(counter);
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> counted() throws Exception {
        return Files.exists(counter) ? Files.readAllLines(counter) : List.of();
    }

    /** X-Accel-Expires, which only the response cache reads, is a script's word to edge: as nginx, edge hides it. */
    @Test
    void xAccelExpiresFromAScriptWithoutCacheDoesNotReachTheClient() throws Exception {
        HttpResponse<String> response = get("/cache.php?id=xae&cc=max-age%3D60&xae=0");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("cache-control")).contains("max-age=60");
        assertThat(response.headers().firstValue("x-accel-expires")).isEmpty();
    }

    /**
     * A location's fastcgi-params reach PHP, replacing edge's own of the same name (behind a proxy that ends TLS, HTTPS
     * = on is how frameworks learn the scheme; a WordPress reads SERVER_SOFTWARE to decide it can rewrite URLs); a
     * location without them sends edge's own alone.
     */
    @Test
    void aLocationsFastcgiParamsReachTheScript() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response tls = client.send("GET /params.php HTTP/1.1\r\nHost: behind-tls.test\r\n\r\n").read();
            assertThat(tls.status()).isEqualTo(200);
            assertThat(tls.text()).isEqualTo("HTTPS=on\nREQUEST_SCHEME=http\nSERVER_SOFTWARE=nginx/1.22.1\nAPP_ENV=prod\n"
                    + "APP_NAME=Caf\u00e9 \u2615\nSCRIPT_NAME=/params.php\n"); // its UTF-8 bytes, as PHP reads them
        }
        // its own names nginx, as WordPress looks for to know URLs are rewritten without .htaccess (pretty permalinks)
        assertThat(get("/params.php").body()).isEqualTo("HTTPS=-\nREQUEST_SCHEME=http\nSERVER_SOFTWARE=edge (nginx-compatible)"
                + "\nAPP_ENV=-\nAPP_NAME=-\nSCRIPT_NAME=/params.php\n");
    }

    @Test
    void getWithAQueryReachesTheScript() throws Exception {
        HttpResponse<String> response = get("/echo.php?a=1&b=two%20words");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(response.body()).contains("method=GET\n", "query=a=1&b=two%20words\n", "\"b\":\"two words\"",
                "script_name=/echo.php\n", "request_uri=/echo.php?a=1&b=two%20words\n");
    }

    @Test
    void postOf10MibArrivesIntact() throws Exception {
        byte[] body = new byte[10 << 20];
        new Random(3).nextBytes(body);
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(edge.uri("/hash.php"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(body.length + " " + sha256(body));
    }

    @Test
    void postExpectingContinueIsSentOnceEdgeAsksAndArrivesIntact() throws Exception {
        byte[] body = new byte[1 << 20];
        new Random(5).nextBytes(body);
        // the JDK client holds the body back until it reads the 100 (or a final status, which would fail here)
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(edge.uri("/hash.php")).expectContinue(true)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(body.length + " " + sha256(body));
    }

    @Test
    void chunkedUploadIsBufferedAndSentWithItsLength() throws Exception {
        byte[] body = new byte[300_000];
        new Random(4).nextBytes(body);
        // a publisher of unknown length makes the JDK client send Transfer-Encoding: chunked
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(edge.uri("/hash.php"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(body.length + " " + sha256(body));
    }

    /** TRACE never reaches PHP; its 405 says what the PHP location takes, POST included (it said GET, HEAD). */
    @Test
    void traceIs405WithThePhpLocationsAllow() throws Exception {
        HttpResponse<String> traced = HTTP.send(HttpRequest.newBuilder(edge.uri("/echo.php"))
                .method("TRACE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(traced.statusCode()).isEqualTo(405);
        assertThat(traced.body()).doesNotContain("method=TRACE");
        assertThat(traced.headers().firstValue("allow")).hasValue("GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
    }

    @Test
    void severalCookieHeadersAreJoined() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response response = client.send("GET /echo.php HTTP/1.1\r\nHost: a\r\n"
                    + "Cookie: a=1\r\nCookie: b=2; c=3\r\n\r\n").read();
            assertThat(response.text()).contains("cookies={\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}");
        }
    }

    /** Nor a name PHP would turn into X_FORWARDED_FOR ('.' becomes '_' in $_SERVER's keys), as nginx drops it. */
    @Test
    void httpoxyAndUnderscoreHeadersNeverReachTheScript() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response response = client.send("GET /echo.php HTTP/1.1\r\nHost: a\r\n"
                    + "Proxy: http://evil.example:1\r\nX-Forwarded_For: 6.6.6.6\r\nX.Forwarded.For: 6.6.6.7\r\n\r\n")
                    .read();
            assertThat(response.text()).contains("http_proxy=\n", "x_forwarded_for=\n");
        }
    }

    /** As nginx (and RFC 3875: a body of no bytes is still a body): an empty chunked body was "0" already. */
    @Test
    void anEmptyBodyWithItsContentLengthIsContentLength0() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("POST /echo.php HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
                    + "POST /echo.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    + "GET /echo.php HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.read().text()).contains("content_length=0\n");
            assertThat(client.read().text()).contains("content_length=0\n");
            assertThat(client.read().text()).contains("content_length=\n");
        }
    }

    /** SERVER_PROTOCOL is the version the request line named, as nginx's $server_protocol, a 1.x above 1.1 too. */
    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1", "HTTP/1.2"})
    void serverProtocolIsTheVersionTheClientSent(String version) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response response = client.send("GET /echo.php " + version + "\r\nHost: a\r\n\r\n").read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.text()).contains("\nprotocol=" + version + "\n");
        }
    }

    @Test
    void anAnswerThatArrivesWholeGoesOutWithItsLengthAndKeepsAnHttp10Connection() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            for (int i = 0; i < 2; i++) {
                RawHttpClient.Response response = client.send("GET /status404.php HTTP/1.0\r\n"
                        + "Connection: keep-alive\r\n\r\n").read();
                assertThat(response.status()).isEqualTo(404);
                assertThat(response.header("content-length")).isEqualTo("13");
                assertThat(response.header("transfer-encoding")).isNull();
                assertThat(response.header("connection")).isEqualToIgnoringCase("keep-alive");
                assertThat(response.text()).isEqualTo("no such thing");
            }
        }
    }

    @Test
    void anAnswerStillComingAfterTheFirstReadIsStreamedChunked() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response response = client.send("GET /big.php?mib=3 HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("transfer-encoding")).isEqualToIgnoringCase("chunked");
            assertThat(response.body()).hasSize(3 * 1024 * 1024);
        }
    }

    @Test
    void statusHeaderFromTheScriptIsTheStatus() throws Exception {
        HttpResponse<String> response = get("/status404.php");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).isEqualTo("no such thing");
    }

    @Test
    void aScriptsOwnErrorStatusKeepsTheConnection() throws Exception {
        // edge closes after a 400, 413 or 500 of its own (it may not know where the request ends); a script's is the
        // answer to a request edge read whole, and nginx keeps that connection too
        for (int code : new int[] {400, 413, 431, 500, 501}) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send("GET /status.php?s=" + code + " HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "GET /status404.php HTTP/1.1\r\nHost: a\r\n\r\n");
                RawHttpClient.Response first = client.read();
                assertThat(first.status()).isEqualTo(code);
                assertThat(first.header("connection")).as("%d", code).isNull();
                assertThat(first.text()).isEqualTo("the script answered " + code);
                RawHttpClient.Response second = client.read();
                assertThat(second.status()).as("%d", code).isEqualTo(404);
                assertThat(second.text()).isEqualTo("no such thing");
            }
        }
    }

    @Test
    void aScriptsInvalidContentLengthOrInterimStatusIsABadGatewayAndThePipelineStaysInStep() throws Exception {
        for (String bad : new String[] {"/badlength.php", "/badlength.php?cl=-1", "/badlength.php?cl=5,%206",
            "/status100.php"}) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send("GET " + bad + " HTTP/1.1\r\nHost: a\r\n\r\nGET /status404.php HTTP/1.1\r\nHost: a\r\n\r\n");
                RawHttpClient.Response first = client.read();
                assertThat(first.status()).as(bad).isEqualTo(502);
                assertThat(first.text()).as(bad).doesNotContain("smuggled");
                RawHttpClient.Response second = client.read();
                assertThat(second.status()).as(bad).isEqualTo(404);
                assertThat(second.text()).as(bad).isEqualTo("no such thing");
            }
        }
        HttpResponse<String> framed = get("/badlength.php?cl=24");
        assertThat(framed.statusCode()).as("a valid length still goes through").isEqualTo(200);
        assertThat(framed.body()).isEqualTo("HTTP/1.1 200 OK smuggled");
    }

    /**
     * A Status line as nginx 1.22 reads it beside php-fpm 8.2 (measured): its code the value's first three digits, the
     * rest its reason, however parted from them; where nginx sends the script's bytes on ("HTTP/1.1 404\tNot Found",
     * "HTTP/1.1 200OK", "HTTP/1.1 600"), edge sends a status line HTTP allows, and a code outside 200 to 599 is a 502,
     * as what a client is told to take it for (RFC 9110 15), where nginx sends it on too; one within, a bare 426
     * (no Upgrade, no Connection: upgrade) too, goes on as the script sent it.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Status:%20404%09Not%20Found | HTTP/1.1 404 Not Found",
        "Status:%20200OK | HTTP/1.1 200 OK",
        "Status:%20%20201%20Created | HTTP/1.1 201 Created",
        "Status:%20404%09 | HTTP/1.1 404 Not Found",
        "Status:%2099 | HTTP/1.1 502 Bad Gateway",
        "Status:%20426 | HTTP/1.1 426 Upgrade Required",
        "Status:%20600 | HTTP/1.1 502 Bad Gateway",
        "Status:%20999 | HTTP/1.1 502 Bad Gateway",
        "Status:%20099 | HTTP/1.1 502 Bad Gateway",
        "Status:%20101 | HTTP/1.1 502 Bad Gateway",
        "Status:%201000 | HTTP/1.1 502 Bad Gateway"})
    void aScriptsStatusLineIsReadAsNginxReadsIt(String header, String statusLine) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /header.php?h=" + header + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            assertThat(client.readStatusLine()).isEqualTo(statusLine);
        }
    }

    /**
     * A script's header('Connection: close') (a mod_php habit) closed every client connection it answered; nginx
     * ignores a FastCGI answer's Connection and keeps the client's connection by its own rules, and so does edge: the
     * request pipelined behind it is answered on the same connection.
     */
    @Test
    void aScriptsConnectionCloseKeepsTheClientsConnection() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /header.php?h=Connection:%20close HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /status404.php HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response first = client.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.header("connection")).isNull();
            assertThat(first.text()).isEqualTo("the page");
            RawHttpClient.Response second = client.read();
            assertThat(second.status()).isEqualTo(404);
            assertThat(second.text()).isEqualTo("no such thing");
        }
    }

    /**
     * The fields a script's Connection names are the answer's, as nginx sends them: header('Connection: Location') cost
     * the redirect its target (a 302 without a Location). Its Upgrade, TE and Proxy-Connection never reach the client
     * (nginx passes them on), its Trailer does, and the request pipelined behind is answered on the same connection.
     */
    @Test
    void theFieldsAScriptsConnectionNamesGoOnAndItsHopByHopFieldsDoNot() throws Exception {
        String fields = Stream.of("Connection: Location, X-Kept", "Location: /elsewhere", "X-Kept: k", "Upgrade: h2c",
                "TE: gzip", "Trailer: X-Sum", "Proxy-Connection: keep-alive")
                .map(h -> "h%5B%5D=" + URLEncoder.encode(h, StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /headers.php?" + fields + " HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /status404.php HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response first = client.read();
            assertThat(first.status()).isEqualTo(302);
            assertThat(first.header("location")).isEqualTo("/elsewhere");
            assertThat(first.header("x-kept")).isEqualTo("k");
            assertThat(first.header("trailer")).isEqualTo("X-Sum");
            assertThat(first.headers()).doesNotContainKeys("connection", "upgrade", "te", "proxy-connection");
            assertThat(first.text()).isEqualTo("the page");
            RawHttpClient.Response second = client.read();
            assertThat(second.status()).isEqualTo(404);
            assertThat(second.text()).isEqualTo("no such thing");
        }
    }

    /**
     * A script's 426 (Upgrade Required) keeps its Upgrade, the protocols the client should come back with (RFC 9110
     * 15.5.22), and goes out without the script's Connection and without a "Connection: upgrade" of edge's: nginx 1.22
     * beside php-fpm 8.2 sent this script's answer with its Upgrade and "Connection: keep-alive" (close to an HTTP/1.0
     * client), the script's "Connection: Upgrade" dropped, whether or not the request asked for an upgrade, and
     * answered the request pipelined behind it on the same connection. A connection stays upgradable only by a 101.
     */
    @Test
    void aScriptsUpgradeRequiredKeepsItsUpgradeAndTheConnectionGoesOn() throws Exception {
        String fields = Stream.of("Status: 426", "Upgrade: TLS/1.3, HTTP/2.0", "Connection: Upgrade")
                .map(h -> "h%5B%5D=" + URLEncoder.encode(h, StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /headers.php?" + fields + " HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /headers.php?" + fields + " HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                    + "Upgrade: websocket\r\n\r\n"
                    + "GET /status404.php HTTP/1.1\r\nHost: a\r\n\r\n");
            for (int i = 0; i < 2; i++) {
                RawHttpClient.Response upgradeRequired = client.read();
                assertThat(upgradeRequired.status()).isEqualTo(426);
                assertThat(upgradeRequired.header("upgrade")).isEqualTo("TLS/1.3, HTTP/2.0");
                assertThat(upgradeRequired.headers()).doesNotContainKey("connection");
                assertThat(upgradeRequired.text()).isEqualTo("the page");
            }
            RawHttpClient.Response after = client.read();
            assertThat(after.status()).isEqualTo(404);
            assertThat(after.text()).isEqualTo("no such thing");
        }
    }

    /**
     * A script that says less than it prints (PHP's own {@code header('Content-Length: 5')}): the client gets the
     * declared bytes and the rest is dropped, as nginx does since 1.19.1, and the connection goes on: the request
     * pipelined behind it is answered.
     */
    @Test
    void aBodyLongerThanTheScriptsContentLengthIsCutToItAndThePipelineGoesOn() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /badlength.php?cl=5 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /status404.php HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response first = client.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.text()).isEqualTo("HTTP/");
            RawHttpClient.Response second = client.read();
            assertThat(second.status()).isEqualTo(404);
            assertThat(second.text()).isEqualTo("no such thing");
        }
    }

    /** PHP's header('Content-Type:') is an answer without a media type, as nginx sends it, not an empty field. */
    @Test
    void anEmptyContentTypeFromTheScriptIsNone() throws Exception {
        HttpResponse<String> response = get("/notype.php");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().allValues("content-type")).isEmpty();
        assertThat(response.body()).isEqualTo("no media type");
    }

    @Test
    void locationWithoutStatusIsA302() throws Exception {
        HttpResponse<String> response = get("/redirect.php");
        assertThat(response.statusCode()).isEqualTo(302);
        assertThat(response.headers().firstValue("location")).hasValue("/echo.php?from=redirect");
    }

    @Test
    void pathInfoIsSplitOffTheScript() throws Exception {
        HttpResponse<String> response = get("/echo.php/some/extra?x=1");
        assertThat(response.body()).contains("script_name=/echo.php\n", "path_info=/some/extra\n");
    }

    /**
     * A legacy link whose path is Latin-1, not UTF-8 (café as {@code %E9}), reaches PHP as behind nginx (it was a 400
     * before routing): the front controller answers it with REQUEST_URI as sent, and PATH_INFO after a script carries
     * its bytes.
     */
    @Test
    void aPathThatIsNotUtf8ReachesTheFrontControllerAndPathInfoKeepsItsBytes() throws Exception {
        HttpResponse<String> front = get("/caf%E9/menu?x=1");
        assertThat(front.statusCode()).isEqualTo(200);
        assertThat(front.body()).isEqualTo("front controller: /caf%E9/menu?x=1 query=x=1");
        HttpResponse<String> info = get("/echo.php/caf%E9");
        assertThat(info.statusCode()).isEqualTo(200);
        assertThat(info.body()).contains("script_name=/echo.php\n", "path_info_hex=2f636166e9\n");
    }

    @Test
    void unknownPathsGoToTheFrontControllerAndFilesAreServedAsFiles() throws Exception {
        HttpResponse<String> front = get("/articles/42?sort=new");
        assertThat(front.statusCode()).isEqualTo(200);
        assertThat(front.body()).isEqualTo("front controller: /articles/42?sort=new query=sort=new");
        assertThat(get("/").body()).startsWith("front controller: /");
        assertThat(get("/static/plain.txt").body()).isEqualTo("plain static file\n");
    }

    @Test
    void xSendfileAndXAccelRedirectAreServedByTheStaticPathInsideTheirDirectories() throws Exception {
        Path doc = dir.resolve("www/private/doc.txt");
        HttpResponse<String> sent = get("/sendfile.php?f=" + doc);
        assertThat(sent.statusCode()).isEqualTo(200);
        assertThat(sent.body()).isEqualTo("a document PHP decided to hand out\n");
        assertThat(sent.headers().firstValue("content-disposition")).hasValue("attachment; filename=\"doc.txt\"");
        assertThat(sent.headers().firstValue("x-sendfile")).isEmpty();
        HttpResponse<String> range = get("/sendfile.php?f=" + doc, "Range", "bytes=0-9");
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).isEqualTo("a document");
        assertThat(get("/accel.php").body()).isEqualTo("a document PHP decided to hand out\n");
        // its location is internal (nginx's): reached by the script's X-Accel-Redirect, never by the client itself
        HttpResponse<String> around = get("/private/doc.txt");
        assertThat(around.statusCode()).isEqualTo(404);
        assertThat(around.body()).doesNotContain("a document PHP decided to hand out");
        HttpResponse<String> withQuery = get("/accel.php?q=%3Fv%3D2"); // X-Accel-Redirect: /private/doc.txt?v=2
        assertThat(withQuery.statusCode()).isEqualTo(200);
        assertThat(withQuery.body()).isEqualTo("a document PHP decided to hand out\n");
        // Names as scripts send them: X-Accel-Redirect percent-encoded or raw UTF-8 (as nginx decodes it), X-Sendfile
        // raw UTF-8 (Symfony's BinaryFileResponse); both were read byte for byte as Latin-1: 404
        String accented = "a file with a space and an accent\n";
        for (String uri : new String[] {"/private/file%20name%20%C3%A9.txt", "/private/file name \u00e9.txt"}) {
            HttpResponse<String> named = get("/accel-named.php?u=" + URLEncoder.encode(uri, StandardCharsets.UTF_8));
            assertThat(named.statusCode()).as(uri).isEqualTo(200);
            assertThat(named.body()).as(uri).isEqualTo(accented);
        }
        HttpResponse<String> sentNamed = get("/sendfile.php?f=" + URLEncoder.encode(
                dir.resolve("www/private/file name \u00e9.txt").toString(), StandardCharsets.UTF_8));
        assertThat(sentNamed.statusCode()).isEqualTo(200);
        assertThat(sentNamed.body()).isEqualTo(accented);
        assertThat(get("/accel-named.php?u=" + URLEncoder.encode("/private/doc.txt%00.php", StandardCharsets.UTF_8))
                .statusCode()).as("a NUL names no file").isEqualTo(404);
        HttpResponse<String> outside = get("/sendfile.php?f=/etc/passwd");
        assertThat(outside.statusCode()).isEqualTo(403);
        assertThat(outside.body()).doesNotContain("root:");
        assertThat(get("/sendfile.php?f=" + dir.resolve("www/private/../echo.php")).statusCode()).isEqualTo(403);
        // Links are followed, and the file opened must lie inside: checked from its descriptor after the open.
        Path inside = Files.createSymbolicLink(dir.resolve("www/private/inside-link.txt"), doc);
        Path escape = Files.createSymbolicLink(dir.resolve("www/private/escape-link.txt"), dir.resolve("www/echo.php"));
        try {
            HttpResponse<String> linked = get("/sendfile.php?f=" + inside);
            assertThat(linked.statusCode()).isEqualTo(200);
            assertThat(linked.body()).isEqualTo("a document PHP decided to hand out\n");
            HttpResponse<String> escaped = get("/sendfile.php?f=" + escape);
            assertThat(escaped.statusCode()).as("a link inside to a file outside").isEqualTo(403);
            assertThat(escaped.body()).doesNotContain("<?php");
        } finally {
            Files.delete(inside);
            Files.delete(escape);
        }
    }

    /**
     * The site's dotfiles = deny holds for files a script hands out too, as nginx's rules for an internal redirect:
     * named so, or reached through a link in the directory (a link to .env was sent, which the static path refuses).
     */
    @Test
    void xSendfileOfADotfileIsRefusedUnderDotfilesDeny() throws Exception {
        Path secret = dir.resolve("www/private/.env");
        Files.writeString(secret, "DB_PASSWORD=hunter2\n");
        Path inDotDir = dir.resolve("www/private/.git/config");
        Files.createDirectories(inDotDir.getParent());
        Files.writeString(inDotDir, "[core]\n");
        Path toSecret = Files.createSymbolicLink(dir.resolve("www/private/env-link"), Path.of(".env"));
        Path toDotDir = Files.createSymbolicLink(dir.resolve("www/private/git-link"), Path.of(".git"));
        try {
            for (Path file : List.of(secret, inDotDir, toSecret, toDotDir.resolve("config"))) {
                HttpResponse<String> sent = get("/sendfile.php?f=" + file);
                assertThat(sent.statusCode()).as(file.toString()).isEqualTo(403);
                assertThat(sent.body()).doesNotContain("hunter2").doesNotContain("[core]");
            }
            assertThat(get("/sendfile.php?f=" + dir.resolve("www/private/doc.txt")).statusCode()).isEqualTo(200);
        } finally {
            Files.delete(toSecret);
            Files.delete(toDotDir);
            Files.delete(secret);
            Files.delete(inDotDir);
            Files.delete(inDotDir.getParent());
        }
    }

    /** Under a site's symlinks = deny a script hands out no file through a link either, as the static path refuses it. */
    @Test
    void xSendfileThroughALinkIsRefusedUnderSymlinksDeny() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("www/private/doc-link.txt"), Path.of("doc.txt"));
        try {
            for (boolean throughLink : new boolean[] {false, true}) {
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    RawHttpClient.Response sent = client.send("GET /sendfile.php?f="
                            + (throughLink ? link : dir.resolve("www/private/doc.txt"))
                            + " HTTP/1.1\r\nHost: nolinks.test\r\n\r\n").read();
                    assertThat(sent.status()).as("through a link: " + throughLink).isEqualTo(throughLink ? 403 : 200);
                }
            }
            assertThat(get("/sendfile.php?f=" + link).statusCode()).as("under within-root").isEqualTo(200);
        } finally {
            Files.delete(link);
        }
    }

    /**
     * Under symlinks = deny an x-sendfile directory that is a link holds nothing, as a root that is one does (42cd0c97:
     * every path below it 404, as nginx's disable_symlinks on meets ENOTDIR at the link): a script hands out no file
     * below it, named through the link or by its real path. The same file under the site's within-root goes out.
     */
    @Test
    void xSendfileBelowALinkedDirectoryIsRefusedUnderSymlinksDeny() throws Exception {
        for (String named : new String[] {"www/private-link/doc.txt", "www/private/doc.txt"}) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                RawHttpClient.Response sent = client.send("GET /sendfile.php?f=" + dir.resolve(named)
                        + " HTTP/1.1\r\nHost: linkeddir.test\r\n\r\n").read();
                assertThat(sent.status()).as(named).isEqualTo(403);
                assertThat(sent.text()).as(named).doesNotContain("a document PHP decided to hand out");
            }
        }
        assertThat(get("/sendfile.php?f=" + dir.resolve("www/private/doc.txt")).statusCode()).as("under within-root")
                .isEqualTo(200);
    }

    /**
     * A file handed to the static path by X-Sendfile no longer holds the backend: a client that half-closes while it
     * downloads gets the whole file, as it would from a plain static location. The FastCGI exchange ended at the FIN
     * (the rule for an answer that holds a PHP worker), so the download was cut.
     */
    @Test
    void anXSendfileDownloadGoesOnAfterItsClientHalfCloses() throws Exception {
        Path big = dir.resolve("www/private/big.bin");
        long size = 32L << 20; // more than the socket buffers hold for a client that has not read yet
        try (var file = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            file.setLength(size);
        }
        try (RawHttpClient client = new RawHttpClient(edge.address(), 16 * 1024)) {
            client.send("GET /sendfile.php?f=" + big + " HTTP/1.1\r\nHost: a\r\n\r\n");
            var in = client.socket().getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                assertThat(b).as("the response head, then the body").isNotNegative();
                head.append((char) b);
            }
            assertThat(head.toString().toLowerCase(java.util.Locale.ROOT)).startsWith("http/1.1 200").contains("content-length: " + size);
            client.socket().shutdownOutput(); // the head came from the static path: the hand-off is done
            byte[] buffer = new byte[1 << 16];
            long body = 0;
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                body += n;
                if (body >= size) {
                    break;
                }
            }
            assertThat(body).isEqualTo(size);
            assertThat(client.isClosedByPeer()).as("closed after the answer, the client having half-closed").isTrue();
        } finally {
            Files.delete(big);
        }
    }

    /**
     * The file goes out with the script's Content-Type, as nginx's; PHP's default when the script set none (also
     * after a bare header_remove, which php8.2-fpm undoes); the file name's when the script sent none or an empty one.
     */
    @Test
    void anXAccelRedirectFileHasTheScriptsContentType() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("pdf", "application/pdf");
        expected.put("default", "text/html; charset=UTF-8");
        expected.put("removed", "text/html; charset=UTF-8");
        expected.put("set-then-removed", "text/plain; charset=utf-8");
        expected.put("empty", "text/plain; charset=utf-8");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            HttpResponse<String> response = get("/accel-type.php?t=" + e.getKey());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("a document PHP decided to hand out\n");
            assertThat(response.headers().allValues("content-type")).as(e.getKey()).containsExactly(e.getValue());
        }
        HttpResponse<String> range = get("/accel-type.php?t=pdf", "Range", "bytes=0-9");
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.headers().allValues("content-type")).containsExactly("application/pdf");
    }

    @Test
    void aScriptIsTrustedForTheRevalidatePeriodAndANewOneRunsOnceItEnds(@TempDir Path own) throws Exception {
        AtomicLong nanos = new AtomicLong();
        try (EdgeHarness clocked = frontControllerSite(own, "static.open-file-cache.revalidate = 1 s", nanos)) {
            HttpRequest late = HttpRequest.newBuilder(clocked.uri("/late.php")).build();
            assertThat(HTTP.send(late, HttpResponse.BodyHandlers.ofString()).statusCode()).as("no script yet")
                    .isEqualTo(404);

            Files.writeString(own.resolve("www/late.php"), "<?php echo 'deployed late';");
            assertThat(HTTP.send(late, HttpResponse.BodyHandlers.ofString()).statusCode())
                    .as("what was seen is trusted for static.open-file-cache.revalidate")
                    .isEqualTo(404);

            nanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
            HttpResponse<String> deployed = HTTP.send(late, HttpResponse.BodyHandlers.ofString());
            assertThat(deployed.statusCode()).isEqualTo(200);
            assertThat(deployed.body()).isEqualTo("deployed late");
        }
    }

    /**
     * A php-fpm whose workers end after each request (pm.max_requests = 1; a pool that recycles its workers every
     * 500 requests does the same, now and then): a worker ends its kept connection just after its END_REQUEST, and a
     * POST that went out on it meanwhile was lost with a 502 (one in ten here), as a POST is never sent twice. The
     * worker never took it, though, and edge can tell: now it goes to another connection, and runs once, its body
     * whole (one from memory, one from its spool file).
     */
    @Test
    void aPostOnAConnectionWhoseWorkerEndedAfterItsLastRequestRunsOnceElsewhere(@TempDir Path own) throws Exception {
        PhpScripts.install(Files.createDirectories(own.resolve("www")));
        Path count = own.resolve("count.txt");
        byte[] large = new byte[300_000];
        new Random(6).nextBytes(large);
        try (PhpFpm recycling = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), """
                pm = static
                pm.max_children = 2
                pm.max_requests = 1
                """);
             EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2, keep-alive.enabled = true }
                """.formatted(recycling.address()))) {
            // Four clients for two connections: a connection goes from one request to the next as soon as it is free
            ExecutorService clients = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    int client = c;
                    done.add(clients.submit(() -> {
                        for (int i = 0; i < 30; i++) {
                            String id = "p" + client + "-" + i;
                            HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(site.uri("/count.php?id=" + id))
                                    .POST(HttpRequest.BodyPublishers.ofString("a=" + i)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            assertThat(posted.statusCode()).as("POST %s", id).isEqualTo(200);
                            assertThat(posted.body()).isEqualTo("counted " + id);
                            if (i % 5 == 0) {
                                HttpResponse<String> hashed = HTTP.send(HttpRequest.newBuilder(site.uri("/hash.php"))
                                        .POST(HttpRequest.BodyPublishers.ofByteArray(large)).build(),
                                        HttpResponse.BodyHandlers.ofString());
                                assertThat(hashed.statusCode()).as("large POST %s", id).isEqualTo(200);
                                assertThat(hashed.body()).isEqualTo(large.length + " " + sha256(large));
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(2, TimeUnit.MINUTES);
                }
            } finally {
                clients.shutdownNow();
            }
            List<String> runs = Files.readAllLines(count);
            assertThat(runs).hasSize(120).doesNotHaveDuplicates();
        }
    }

    /**
     * Without a front controller a directory still runs its index script, as nginx's {@code index} does for a
     * location that passes to FastCGI (before, GET / and GET /sub/ were 404 while /index.php ran).
     */
    @Test
    void withoutAFrontControllerADirectoryRunsItsIndexScript(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        String index = "<?php echo $_SERVER['SCRIPT_NAME'], ' for ', $_SERVER['REQUEST_URI'];";
        Files.writeString(www.resolve("index.php"), index);
        Files.writeString(Files.createDirectories(www.resolve("sub")).resolve("index.php"), index);
        Files.createDirectories(www.resolve("empty"));
        try (EdgeHarness indexed = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"],
                  locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            assertThat(body(indexed, "/")).isEqualTo("/index.php for /");
            assertThat(body(indexed, "/sub/")).isEqualTo("/sub/index.php for /sub/");
            assertThat(body(indexed, "/sub/?a=1")).isEqualTo("/sub/index.php for /sub/?a=1");
            assertThat(body(indexed, "/index.php")).isEqualTo("/index.php for /index.php");
            for (String path : new String[] {"/sub", "/sub?a=1"}) {
                // as nginx, whatever the index: run at /sub, the index page's relative links would miss the directory
                HttpResponse<String> bare = HTTP.send(HttpRequest.newBuilder(indexed.uri(path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(bare.statusCode()).as(path).isEqualTo(301);
                assertThat(bare.headers().firstValue("location")).as(path)
                        .hasValue(indexed.uri(path.replace("/sub", "/sub/")).toString());
            }
            HttpResponse<String> empty = HTTP.send(HttpRequest.newBuilder(indexed.uri("/empty/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(empty.statusCode()).as("no index: the static path's answer").isIn(403, 404);
            HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(indexed.uri("/missing/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(missing.statusCode()).isEqualTo(404);
        }
    }

    /** Under a front controller too, a directory named without its slash is redirected, never run (nginx's try_files). */
    @Test
    void aDirectoryWithoutItsSlashIsRedirectedBeforeItsIndexScriptRuns() throws Exception {
        Path app = Files.createDirectories(dir.resolve("www/app"));
        Files.writeString(app.resolve("index.php"), "<?php echo 'app index for ', $_SERVER['REQUEST_URI'];");
        HttpResponse<String> bare = get("/app?x=1");
        assertThat(bare.statusCode()).isEqualTo(301);
        assertThat(bare.headers().firstValue("location")).hasValue(edge.uri("/app/?x=1").toString());
        assertThat(bare.body()).doesNotContain("app index");
        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(edge.uri("/app"))
                .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as("a POST too, as nginx's").isEqualTo(301);
        assertThat(posted.headers().firstValue("location")).hasValue(edge.uri("/app/").toString());
        assertThat(get("/app/?x=1").body()).isEqualTo("app index for /app/?x=1");
    }

    /**
     * A directory named like a script ("dir.php") is a step of the path, as lighttpd and Apache find the script: edge
     * ran the front controller for /dir.php/ and even for /dir.php/index.php, as the path was split at the directory.
     * Named as a script, /dir.php is none: 404, as nginx's ~ \.php$ location answers it (try_files $uri =404; without
     * it php-fpm's "No input file specified."; measured with nginx 1.22 and php-fpm 8.2), where edge redirected it to
     * /dir.php/. A path below it that names nothing is the front controller's, as behind nginx's try_files.
     */
    @Test
    void aDirectoryNamedLikeAScriptIsIndexedAndItsScriptsRun() throws Exception {
        Path named = Files.createDirectories(dir.resolve("www/dir.php"));
        Files.writeString(named.resolve("index.php"), "<?php echo $_SERVER['SCRIPT_NAME'], ' [', "
                + "$_SERVER['PATH_INFO'] ?? '', '] for ', $_SERVER['REQUEST_URI'];");
        HttpResponse<String> bare = get("/dir.php");
        assertThat(bare.statusCode()).isEqualTo(404);
        assertThat(bare.headers().firstValue("location")).isEmpty();
        assertThat(bare.body()).doesNotContain("/dir.php/index.php");
        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(edge.uri("/dir.php"))
                .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as("a POST too").isEqualTo(404);
        assertThat(get("/dir.php/").body()).isEqualTo("/dir.php/index.php [] for /dir.php/");
        assertThat(get("/dir.php/x?q=1").body()).isEqualTo("front controller: /dir.php/x?q=1 query=q=1");
        assertThat(get("/dir.php/index.php").body()).isEqualTo("/dir.php/index.php [] for /dir.php/index.php");
        assertThat(get("/dir.php/index.php/a/b").body()).isEqualTo("/dir.php/index.php [/a/b] for /dir.php/index.php/a/b");
    }

    /**
     * A static location's directory whose index file is a script that a PHP location runs: run there, as nginx's
     * internal redirect does, with SCRIPT_NAME the index script and REQUEST_URI what the client sent; never sent as
     * a file (its source, secrets included). An index.html of the same location is still served, and one that
     * another static location owns is answered by that location (its own root).
     */
    @Test
    void aStaticDirectorysIndexScriptRunsInItsPhpLocation(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        String secret = "<?php $db_password = 'hunter2'; echo 'ran ', $_SERVER['SCRIPT_NAME'], ' for ', $_SERVER['REQUEST_URI'];";
        Files.writeString(Files.createDirectories(www.resolve("docs")).resolve("index.php"), secret);
        Files.writeString(Files.createDirectories(www.resolve("pages")).resolve("index.html"), "a page");
        Files.writeString(Files.createDirectories(www.resolve("other")).resolve("index.htm"), "found in www");
        Files.writeString(Files.createDirectories(own.resolve("alt/other")).resolve("index.htm"), "from alt");
        // under "^~", which no regex overrides, no PHP location takes an index.php: passed over, never its source
        Files.writeString(Files.createDirectories(www.resolve("kept")).resolve("index.php"), secret);
        Files.writeString(www.resolve("kept/index.html"), "kept page");
        Files.writeString(Files.createDirectories(www.resolve("bare")).resolve("index.php"), secret);
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www",
                  index = ["index.php", "index.html", "index.htm"],
                  locations = [
                    { match = "/", fastcgi = php }
                    { match = "/docs/" }
                    { match = "/pages/" }
                    { match = "/other/" }
                    { match = "^~ /kept/" }
                    { match = "^~ /bare/" }
                    { match = "~* \\\\.php$", fastcgi = php }
                    { match = "~ \\\\.htm$", root = "alt" }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            HttpResponse<String> docs = HTTP.send(HttpRequest.newBuilder(site.uri("/docs/?x=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(docs.statusCode()).isEqualTo(200);
            assertThat(docs.body()).doesNotContain("hunter2").isEqualTo("ran /docs/index.php for /docs/?x=1");
            HttpResponse<String> head = HTTP.send(HttpRequest.newBuilder(site.uri("/docs/"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
            assertThat(body(site, "/docs/index.php")).isEqualTo("ran /docs/index.php for /docs/index.php");
            assertThat(body(site, "/pages/")).as("index.php missing there: the next index").isEqualTo("a page");
            assertThat(body(site, "/other/")).as("found in this root, answered by its own location").isEqualTo("from alt");
            assertThat(body(site, "/kept/")).as("no PHP location runs it: the next index").isEqualTo("kept page");
            HttpResponse<String> bare = HTTP.send(HttpRequest.newBuilder(site.uri("/bare/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(bare.statusCode()).as("no other index: as a directory without one").isEqualTo(403);
            assertThat(bare.body()).doesNotContain("hunter2");
            HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(site.uri("/docs/"))
                    .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).as("a form posted to a directory runs its index, as nginx's").isEqualTo(200);
            assertThat(posted.body()).isEqualTo("ran /docs/index.php for /docs/");
            HttpResponse<String> postedFile = HTTP.send(HttpRequest.newBuilder(site.uri("/pages/"))
                    .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(postedFile.statusCode()).as("an index.html takes no POST").isEqualTo(405);
        }
        // a static "= /" beside a front controller that serves existing files itself: its index.html is served
        Files.writeString(www.resolve("index.html"), "home");
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.html"],
                  locations = [
                    { match = "/", fastcgi = php, front-controller = "/index.php" }
                    { match = "= /" }
                  ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            assertThat(body(site, "/")).isEqualTo("home");
        }
    }

    /**
     * A directory's index script answered from the response cache (stored under the URI sent, /docs/) is purged by
     * a PURGE of that URI, which the static location hands to the PHP location as it hands a GET.
     */
    @Test
    void aDirectorysCachedIndexAnswerIsPurgedByItsUri(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(Files.createDirectories(www.resolve("docs")).resolve("index.php"),
                "<?php header('Cache-Control: public, max-age=600'); echo uniqid('', true);");
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"],
                  locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php, cache = true }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            String first = body(site, "/docs/");
            assertThat(body(site, "/docs/")).as("from the cache").isEqualTo(first);
            HttpResponse<String> purged = HTTP.send(HttpRequest.newBuilder(site.uri("/docs/"))
                    .method("PURGE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(purged.statusCode()).isEqualTo(200);
            assertThat(body(site, "/docs/")).as("run again").isNotEqualTo(first);
        }
    }

    /**
     * Under a front controller, a directory whose index.html goes away while its index.php stays (a maintenance page
     * removed): the script lookup, remembered for a second, still names the static index, and the static index search
     * then finds index.php. It is run, never sent as a file (it was sent, source and secrets, for that second). The
     * clock stands still, so the second never ends while the test runs.
     */
    @Test
    void anIndexScriptFoundAfterTheScriptLookupIsRunNotSent(@TempDir Path own) throws Exception {
        AtomicLong nanos = new AtomicLong();
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php echo 'front';");
        Path maint = Files.createDirectories(www.resolve("maint"));
        Files.writeString(maint.resolve("index.html"), "maintenance");
        Files.writeString(maint.resolve("index.php"), "<?php $db_password = 'hunter2'; echo 'APP';");
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.html", "index.php"],
                  locations = [{ match = "/", fastcgi = php, front-controller = "/index.php" }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()), nanos::get)) {
            assertThat(body(site, "/maint/")).isEqualTo("maintenance");
            Files.delete(maint.resolve("index.html"));
            HttpResponse<String> after = HTTP.send(HttpRequest.newBuilder(site.uri("/maint/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(after.body()).as("maint/index.php ran").isEqualTo("APP");
        }
    }

    /**
     * A real script slower than the group's read timeout: 504, as nginx's "upstream timed out", and the group serves
     * the next request; a real script that declares a Content-Length its body falls short of (a readfile that died)
     * reaches the client cut on a closed connection. (FastCgiFaultsIT's fake backend does what php-fpm cannot be made
     * to: garbage records, a close mid-record, an overloaded END_REQUEST.)
     */
    @Test
    void aScriptSlowerThanTheReadTimeoutIs504AndAShortBodyIsCutOnAClosedConnection(@TempDir Path own) throws Exception {
        Path www = PhpScripts.install(Files.createDirectories(own.resolve("www")));
        Files.writeString(www.resolve("short.php"), "<?php header('Content-Length: 100'); echo '0123456789';");
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2, timeouts.read = 1 s }
                """.formatted(fpm.address()))) {
            assertThat(HTTP.send(HttpRequest.newBuilder(site.uri("/cache.php?id=slow&sleep=3000")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(504);
            assertThat(body(site, "/cache.php?id=after-slow")).isEqualTo("id=after-slow run=1 ae=");
            try (Socket client = new Socket()) {
                client.connect(site.address());
                client.setSoTimeout(30_000); // keeps a kept-alive connection from hanging the build; nothing is measured
                client.getOutputStream().write("GET /short.php HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String response = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(response).startsWith("HTTP/1.1 200 ").containsIgnoringCase("content-length: 100\r\n")
                        .endsWith("\r\n\r\n0123456789");
            }
        }
    }

    /**
     * PURGE /prefix* is routed by its literal target, which under nginx's usual layout (scripts cached by "~ \\.php$",
     * files under "/") reaches the static location: it purged nothing there (404). Every location of a site with a
     * cached one takes prefix purges; a PURGE of one URL stays the cached location's.
     */
    @Test
    void aPrefixPurgeReachesTheCacheWhateverLocationItsTargetRoutesTo(@TempDir Path own) throws Exception {
        PhpScripts.install(Files.createDirectories(own.resolve("www")));
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "~ \\\\.php$", fastcgi = php, cache = true }
                  { match = "/" }
                ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            String a = "/cache.php?id=pp-a&cc=public%2C%20max-age%3D60";
            String b = "/cache.php?id=pp-b&cc=public%2C%20max-age%3D60";
            assertThat(body(site, a)).isEqualTo("id=pp-a run=1 ae=");
            assertThat(body(site, b)).isEqualTo("id=pp-b run=1 ae=");
            assertThat(body(site, a)).as("a hit").isEqualTo("id=pp-a run=1 ae=");
            HttpResponse<String> purged = purge(site, "/cache*");
            assertThat(purged.statusCode()).isEqualTo(200);
            assertThat(purged.body()).isEqualTo("purged 2\n");
            assertThat(body(site, a)).isEqualTo("id=pp-a run=2 ae=");
            assertThat(purge(site, a).body()).as("one URL, at the cached location").isEqualTo("purged 1\n");
            assertThat(body(site, a)).isEqualTo("id=pp-a run=3 ae=");
            assertThat(purge(site, "/static/plain.txt").statusCode()).as("one URL of a static location").isEqualTo(405);
            assertThat(body(site, "/static/plain.txt")).isEqualTo("plain static file\n");
        }
    }

    /**
     * A site whose only location is the cached "~ \\.php$": PURGE /* routed nowhere and answered 404, as if nothing
     * were cached, while every page stayed. A prefix is taken by the site's cached location wherever it routes.
     */
    @Test
    void aPrefixPurgeWhoseTargetRoutesNowhereStillReachesTheSitesCache(@TempDir Path own) throws Exception {
        PhpScripts.install(Files.createDirectories(own.resolve("www")));
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "~ \\\\.php$", fastcgi = php, cache = true }
                ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            String a = "/cache.php?id=pn-a&cc=public%2C%20max-age%3D60";
            String b = "/cache.php?id=pn-b&cc=public%2C%20max-age%3D60";
            assertThat(body(site, a)).isEqualTo("id=pn-a run=1 ae=");
            assertThat(body(site, b)).isEqualTo("id=pn-b run=1 ae=");
            HttpResponse<String> purged = purge(site, "/*");
            assertThat(purged.statusCode()).isEqualTo(200);
            assertThat(purged.body()).isEqualTo("purged 2\n");
            assertThat(body(site, a)).isEqualTo("id=pn-a run=2 ae=");
            assertThat(purge(site, "/other").statusCode()).as("one URL that routes nowhere").isEqualTo(404);
        }
    }

    /**
     * A HEAD's answer is its head: with a script that streams on (a long export, a stream of events), the connection
     * waited for the script's end before the next request's answer; nginx ends the HEAD at its head. Told without a
     * clock: the next answer comes while the script is still held (its end marker not yet written).
     */
    @Test
    void aHeadToAStreamingScriptEndsAtItsHead(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path release = own.resolve("release");
        Path ended = own.resolve("ended");
        Files.writeString(www.resolve("stream.php"), """
                <?php
                header('Content-Type: text/event-stream');
                echo "data: first\\n\\n"; while (ob_get_level() > 0) { ob_end_flush(); } flush();
                for ($i = 0; $i < 6000 && !file_exists('%s'); $i++) { usleep(10000); }
                file_put_contents('%s', 'ended');
                echo "data: last\\n\\n";""".formatted(release, ended));
        Files.writeString(www.resolve("quick.php"), "<?php echo 'quick';");
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www",
                  locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()));
             RawHttpClient client = new RawHttpClient(site.address())) {
            RawHttpClient.Response head = client.send("HEAD /stream.php HTTP/1.1\r\nHost: a\r\n\r\n").read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-type")).startsWith("text/event-stream");
            RawHttpClient.Response next = client.send("GET /quick.php HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(next.text()).isEqualTo("quick");
            assertThat(ended).as("the script still held when the next answer came").doesNotExist();
        } finally {
            Files.writeString(release, "");
        }
        // The script, let go, writes into the test's directory when released: done before JUnit deletes it (a race
        // that failed the cleanup once)
        Awaits.await(() -> Files.exists(ended), "the released script's end");
    }

    /**
     * A script streaming its answer to a client that left is stopped at its next output, a POST's as a GET's, as behind
     * nginx: a streamed POST (a chat answer whose user pressed stop, an export) ran to its end, its worker held for
     * nobody. Told without a clock: the script notes at its end whether PHP saw the client go.
     */
    @ParameterizedTest
    @ValueSource(strings = {"POST", "GET"})
    void aStreamingScriptWhoseClientLeftIsStoppedAtItsNextOutput(String method, @TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path ended = own.resolve("ended");
        PhpScripts.streamNotingItsEnd(www, ended);
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www",
                  locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            try (Socket client = new Socket()) {
                client.connect(site.address());
                client.setSoTimeout(30_000); // keeps a hang from stalling the build; nothing is measured
                String body = method.equals("POST") ? "a=1" : "";
                client.getOutputStream().write((method + " /stream.php HTTP/1.1\r\nHost: a\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                byte[] some = client.getInputStream().readNBytes(64 * 1024);
                assertThat(new String(some, 0, 15, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200 OK");
                client.setSoLinger(true, 0); // the user pressed stop
            }
            assertThat(PhpScripts.noted(ended, "the script's end"))
                    .as("stopped at an output after its client left, not run to its end")
                    .startsWith("aborted=1 ").doesNotEndWith(" lines=5000");
        }
    }

    private static HttpResponse<String> purge(EdgeHarness edge, String target) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(target)).method("PURGE", HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A script that copies an upstream's Transfer-Encoding and Content-Length (PHP proxy code does) got both to the
     * client, kept alive: a response read two ways, the next one in the body. Edge frames the body itself, as nginx.
     */
    @Test
    void aScriptsTransferEncodingNeverReachesTheClient(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(www.resolve("te.php"), """
                <?php
                header('Transfer-Encoding: chunked');
                header('Content-Length: 12');
                header('Keep-Alive: timeout=999');
                echo "hello world\n";
                """);
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www",
                  locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()));
             RawHttpClient client = new RawHttpClient(site.address())) {
            client.send("GET /te.php HTTP/1.1\r\nHost: a\r\n\r\nGET /te.php HTTP/1.1\r\nHost: a\r\n\r\n");
            for (int i = 0; i < 2; i++) {
                RawHttpClient.Response response = client.read();
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.headers()).doesNotContainKeys("transfer-encoding", "keep-alive")
                        .containsEntry("content-length", "12");
                assertThat(response.text()).isEqualTo("hello world\n");
            }
        }
    }

    /**
     * A script's head longer than its group's response-buffer.head-size is a 502, logged with the request, as nginx
     * answers one past its fastcgi_buffer_size ("upstream sent too big header"; measured beside php-fpm 8.2: 4 KiB by
     * default, 40 lines of 110 bytes refused); one within it goes, and the connection with it.
     */
    @Test
    void aScriptsHeadPastItsGroupsHeadSizeIsABadGateway(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(www.resolve("fields.php"), """
                <?php
                for ($i = 0; $i < (int)$_GET['n']; $i++) { header("X-Field-$i: " . str_repeat('a', 100)); }
                echo 'the page';
                """);
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www",
                  locations = [{ match = "/", fastcgi = php }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4, response-buffer.head-size = 4 KiB }
                """.formatted(fpm.address()));
             RawHttpClient client = new RawHttpClient(site.address());
             CapturedLog log = CapturedLog.of("io.edge.core.http.ServerExchange")) {
            client.send("GET /fields.php?n=30 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /fields.php?n=40 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /fields.php?n=1 HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response within = client.read();
            assertThat(within.status()).isEqualTo(200);
            assertThat(within.headers()).containsKey("x-field-29");
            assertThat(client.read().status()).isEqualTo(502);
            assertThat(client.read().text()).as("the connection goes on").isEqualTo("the page");
            assertThat(log.events()).extracting(event -> event.getFormattedMessage())
                    .anySatisfy(line -> assertThat(line).matches(
                            "\\[[0-9a-z]+\\] GET /fields\\.php\\?n=40 -> 502: .*response head: more than 4096 .*"));
        }
    }

    @Test
    void withTheOpenFileCacheOffANewScriptRunsOnTheNextRequest(@TempDir Path own) throws Exception {
        try (EdgeHarness uncached = frontControllerSite(own, "static.open-file-cache.size = 0", new AtomicLong())) {
            HttpRequest late = HttpRequest.newBuilder(uncached.uri("/late.php")).build();
            assertThat(HTTP.send(late, HttpResponse.BodyHandlers.ofString()).statusCode()).as("no script yet")
                    .isEqualTo(404);
            Files.writeString(own.resolve("www/late.php"), "<?php echo 'deployed late';");
            assertThat(HTTP.send(late, HttpResponse.BodyHandlers.ofString()).body())
                    .as("nothing remembered, though the clock stands still").isEqualTo("deployed late");
        }
    }

    @Test
    void aDeployThatSwitchesTheLinkToTheRootServesTheNewReleaseOnceItsPeriodHasPassed(@TempDir Path own)
            throws Exception {
        for (int release = 1; release <= 2; release++) {
            Path pub = Files.createDirectories(own.resolve("releases/" + release + "/public"));
            Files.writeString(pub.resolve("app.css"), "css of release " + release);
            Files.writeString(pub.resolve("index.php"), "<?php echo 'php of release " + release + "';");
        }
        Files.writeString(own.resolve("releases/2/public/new.css"), "only in release 2");
        Path current = Files.createSymbolicLink(own.resolve("current"), own.resolve("releases/1"));
        AtomicLong nanos = new AtomicLong();
        try (EdgeHarness deployed = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "current/public",
                  locations = [{ match = "/", fastcgi = php, front-controller = "/index.php" }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()), nanos::get)) {
            assertThat(body(deployed, "/app.css")).isEqualTo("css of release 1");
            assertThat(body(deployed, "/new.css")).as("not a file: the front controller").isEqualTo("php of release 1");

            // ln -sfn releases/2 current: a new link renamed over the old one, then release 1 cleaned away
            Path next = Files.createSymbolicLink(own.resolve("current.next"), own.resolve("releases/2"));
            Files.move(next, current, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            nanos.addAndGet(TimeUnit.SECONDS.toNanos(1)); // what edge remembers of paths has aged out
            // The roots are checked every second of real time, on threads of their own: wait for that.
            List<String> answers = Awaits.until(() -> List.of(body(deployed, "/app.css"), body(deployed, "/some/route")),
                    bodies -> bodies.equals(List.of("css of release 2", "php of release 2")), "release 2 served");
            assertThat(answers.get(0)).isEqualTo("css of release 2");
            assertThat(answers.get(1)).isEqualTo("php of release 2");
            deleteTree(own.resolve("releases/1"));
            assertThat(body(deployed, "/new.css")).isEqualTo("only in release 2");
            assertThat(body(deployed, "/some/route")).isEqualTo("php of release 2");
        }
    }

    private static String body(EdgeHarness edge, String path) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(edge.uri(path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return response.body();
    }

    private static void deleteTree(Path top) throws IOException {
        try (Stream<Path> paths = Files.walk(top)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** An edge of its own on {@code dir/www} (only a front controller so far), its caches aging on {@code nanos}. */
    private static EdgeHarness frontControllerSite(Path dir, String staticLine, AtomicLong nanos) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), "<?php echo 'front controller';");
        return EdgeHarness.start(dir, staticLine + """

                sites = [{ server-names = ["_"], default = true, root = "www",
                  locations = [{ match = "/", fastcgi = php, front-controller = "/index.php" }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()), nanos::get);
    }

    @Test
    void theSitesDotfileAndLinkRulesKeepScriptsFromRunningAsTheyKeepStaticFilesFromBeingServed() throws Exception {
        Path www = dir.resolve("www");
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("x.php"), "<?php echo 'ran outside the root';");
        Files.writeString(outside.resolve("x.txt"), "read outside the root");
        Files.createDirectories(www.resolve(".hidden"));
        Files.writeString(www.resolve(".hidden/x.php"), "<?php echo 'ran a hidden script';");
        Files.createSymbolicLink(www.resolve("lnk.php"), outside.resolve("x.php"));
        Files.createSymbolicLink(www.resolve("static/lnk.txt"), outside.resolve("x.txt"));
        Files.createDirectories(www.resolve("linked-index"));
        Files.createSymbolicLink(www.resolve("linked-index/index.php"), outside.resolve("x.php"));
        Files.createSymbolicLink(www.resolve("inside.php"), www.resolve("echo.php"));

        assertThat(get("/static/lnk.txt").statusCode()).as("the static path's answer for a link out").isEqualTo(403);
        HttpResponse<String> hidden;
        HttpResponse<String> linked;
        List<String> warnings;
        try (CapturedLog log = CapturedLog.of("io.edge.core.fastcgi.FastCgiResponder")) {
            hidden = get("/.hidden/x.php");
            linked = get("/lnk.php");
            warnings = log.warnings();
        }
        assertThat(hidden.statusCode()).isEqualTo(403);
        assertThat(hidden.body()).doesNotContain("ran a hidden script");
        assertThat(linked.statusCode()).isEqualTo(403);
        assertThat(linked.body()).doesNotContain("ran outside the root");
        // the link's 403 is said, as the static path says it (Laravel's storage:link leaves the root: a bare 403 in
        // the access log was all there was); a dotfile's stays quiet, as there
        assertThat(warnings).singleElement().asString().contains("GET /lnk.php -> 403", "symlinks = within-root");
        HttpResponse<String> index = get("/linked-index/");
        assertThat(index.statusCode()).as("an index script linked out of the root").isEqualTo(403);
        assertThat(index.body()).doesNotContain("ran outside the root");
        assertThat(get("/.hidden/").statusCode()).as("not handed to the front controller").isEqualTo(403);
        assertThat(get("/.git/config").statusCode()).as("missing, but a dotfile all the same").isEqualTo(403);

        assertThat(get("/inside.php").body()).as("a link that stays inside the root").contains("script_name=/inside.php");
        assertThat(get("/echo.php").statusCode()).isEqualTo(200);
        assertThat(get("/.well-known/anything").body()).as(".well-known is no dotfile")
                .startsWith("front controller: /.well-known/anything");
    }

    /**
     * The old nginx hole (a "PHP" path through an uploaded picture, cgi.fix_pathinfo): /uploads/a.jpg/x.php names no
     * script, so it is 404 (nginx's try_files $uri =404; php-fpm's own check, 403); edge never hands php-fpm the
     * picture as the script. The pool allows .jpg scripts, so php-fpm's own security.limit_extensions would not hide
     * it if edge did.
     */
    @Test
    void aJpegIsNeverRunAsPhp() throws Exception {
        HttpResponse<String> response = get("/uploads/a.jpg/x.php");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).doesNotContain("front controller").doesNotContain("a JPEG must never run");
    }

    /**
     * Under a front controller, a path whose script part (to the first .php segment that is no directory) names no
     * script is the site's 404 page, as nginx's PHP location answers it in the layouts PHP applications ship (Laravel:
     * php-fpm's "File not found."; WordPress: try_files $uri =404; Symfony: return 404; measured with nginx 1.22 and
     * php-fpm 8.2): the front controller ran for each, so every probe of a scanner (wp-login.php, xmlrpc.php) booted
     * the application, which answered 200. A directory named as a script (/dir.php) is the site's 404 page too. The
     * front controller never runs for one (it counts its runs); it still answers a path without a script part, a
     * pretty URL among them, and its own path.
     */
    @Test
    void underAFrontControllerAMissingScriptIsTheSites404AndTheControllerNeverRuns(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path runs = own.resolve("runs.txt");
        Files.writeString(www.resolve("index.php"), "<?php file_put_contents('" + runs + "', $_SERVER['REQUEST_URI']"
                + " . \"\\n\", FILE_APPEND | LOCK_EX); echo 'front controller for ', $_SERVER['REQUEST_URI'];");
        Files.writeString(www.resolve("real.php"), "<?php echo 'real [', $_SERVER['PATH_INFO'] ?? '', ']';");
        Files.writeString(Files.createDirectories(www.resolve("errors")).resolve("404.html"), "the site's own 404");
        Files.createDirectories(www.resolve("dir.php"));
        Files.writeString(Files.createDirectories(www.resolve("uploads")).resolve("a.jpg"), "JPEG");
        try (EdgeHarness site = EdgeHarness.start(own, """
                sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"]
                  error-pages { 404 = "/errors/404.html" }
                  locations = [{ match = "/", fastcgi = php, front-controller = "/index.php" }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()))) {
            for (String path : new String[] {"/missing.php", "/wp-login.php?redirect_to=x", "/wp-admin/install.php",
                    "/phpmyadmin/index.php", "/missing.php/foo", "/missing.php/", "/dir.php/missing.php",
                    "/dir.php/missing.php/a", "/uploads/a.jpg/x.php", "/real.php.php", "/dir.php"}) {
                HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(site.uri(path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(missing.statusCode()).as(path).isEqualTo(404);
                assertThat(missing.body()).as(path).isEqualTo("the site's own 404");
            }
            HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(site.uri("/xmlrpc.php"))
                    .POST(HttpRequest.BodyPublishers.ofString("<methodCall/>")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).as("a POST too").isEqualTo(404);
            assertThat(runs).as("the front controller never ran").doesNotExist();
            for (String path : new String[] {"/blog/post?page=2", "/missing.php.bak", "/dir.php/x", "/index.php"}) {
                assertThat(body(site, path)).as(path).isEqualTo("front controller for " + path);
            }
            assertThat(body(site, "/real.php/foo")).isEqualTo("real [/foo]");
            assertThat(Files.readAllLines(runs)).containsExactly("/blog/post?page=2", "/missing.php.bak", "/dir.php/x",
                    "/index.php");
        }
    }

    @Test
    void newlineInPathInfoIsRefused() throws Exception {
        HttpResponse<String> response = get("/echo.php/a%0Ab");
        assertThat(response.statusCode()).isIn(400, 404);
        assertThat(response.body()).doesNotContain("path_info");
    }

    @Test
    void headGetsTheHeadersAndNoBody() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("HEAD /echo.php HTTP/1.1\r\nHost: a\r\n\r\nGET /status404.php HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(client.read(true).status()).isEqualTo(200);
            assertThat(client.read().status()).isEqualTo(404);
        }
    }

    @Test
    void saturationEveryRequestSucceedsAndRunsExactlyOnce() throws Exception {
        int clients = 64;
        int total = 400;
        AtomicInteger next = new AtomicInteger();
        ConcurrentHashMap<Integer, Integer> statuses = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            done.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                    HttpResponse<String> response = get("/count.php?sleep=100&id=" + i);
                    statuses.merge(response.statusCode(), 1, Integer::sum);
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        assertThat(statuses).containsExactly(java.util.Map.entry(200, total));
        List<String> ran = counted();
        assertThat(ran).hasSize(total).doesNotHaveDuplicates();
    }

    /**
     * A request whose client leaves while it waits in the queue gives its place up and never runs. The four scripts
     * ahead of it hold their connections until the test lets them go, and the test waits for what it needs to see
     * (the four running, the request queued, its place given up): a fixed half second for the four to reach PHP let
     * the leaving request take a free connection on a loaded machine, and it ran.
     */
    @Test
    void aClientThatLeavesWhileQueuedNeverReachesPhp() throws Exception {
        String hold = "release-leaver";
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<HttpResponse<String>>> busy = holdEveryConnection(pool, "busy", hold);
            try (RawHttpClient ghost = new RawHttpClient(edge.address())) {
                ghost.send("GET /count.php?id=ghost HTTP/1.1\r\nHost: a\r\n\r\n");
                await(() -> edge.status().contains(" waiters=1 "), "the ghost queued");
            }
            await(() -> edge.status().contains(" waiters=0 "), "the ghost's place given up");
            Files.writeString(dir.resolve(hold), "");
            for (Future<HttpResponse<String>> f : busy) {
                assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
        } finally {
            Files.writeString(dir.resolve(hold), "");
            pool.shutdown();
        }
        // FIFO: had the ghost still been queued, it would run before this one
        assertThat(get("/count.php?id=after").statusCode()).isEqualTo(200);
        assertThat(counted()).contains("busy0", "busy1", "busy2", "busy3", "after").doesNotContain("ghost");
    }

    /**
     * The group's four connections made busy, each with a script at a php-fpm child, counted (as {@code prefix0} to
     * {@code prefix3}) and held there until the test creates {@code hold}; returns their answers to come.
     */
    private List<Future<HttpResponse<String>>> holdEveryConnection(ExecutorService pool, String prefix, String hold)
            throws Exception {
        List<Future<HttpResponse<String>>> busy = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String id = prefix + i;
            busy.add(pool.submit(() -> get("/cache.php?id=" + id + "&hold=" + hold)));
        }
        await(() -> counted().containsAll(List.of(prefix + "0", prefix + "1", prefix + "2", prefix + "3")),
                "the four scripts running");
        return busy;
    }

    /**
     * A POST whose client hangs up as soon as it has sent it still reaches PHP, as behind nginx, where the request is
     * at php-fpm (or in its backlog) by then: WordPress's cron spawn posts with a 10 ms timeout and goes, and never ran.
     * Also from the queue: there a GET whose client left gives its place up (it would have nobody to answer), the POST
     * keeps its place and runs.
     */
    @Test
    void aPostWhoseClientHangsUpAtOnceStillRunsFromTheQueueTooWhereAGetGivesItsPlaceUp() throws Exception {
        String cron = "POST /count.php?id=%s HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded"
                + "\r\nContent-Length: 24\r\n\r\ndoing_wp_cron=1764688800";
        try (RawHttpClient spawn = new RawHttpClient(edge.address())) {
            spawn.send(cron.formatted("fired"));
        }
        await(() -> counted().contains("fired"), "the POST its client left at once, run");
        String hold = "release-posters";
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<HttpResponse<String>>> busy = holdEveryConnection(pool, "held", hold);
            try (RawHttpClient ghost = new RawHttpClient(edge.address());
                 RawHttpClient poster = new RawHttpClient(edge.address())) {
                ghost.send("GET /count.php?id=left-get HTTP/1.1\r\nHost: a\r\n\r\n");
                poster.send(cron.formatted("left-post"));
                await(() -> edge.status().contains(" waiters=2 "), "both queued");
            }
            await(() -> edge.status().contains(" waiters=1 "), "the GET's place given up, the POST's kept");
            Files.writeString(dir.resolve(hold), "");
            for (Future<HttpResponse<String>> f : busy) {
                assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            }
            await(() -> counted().contains("left-post"), "the queued POST run once a worker was free");
        } finally {
            Files.writeString(dir.resolve(hold), "");
            pool.shutdown();
        }
        assertThat(get("/count.php?id=after").statusCode()).isEqualTo(200);
        assertThat(counted()).contains("after").doesNotContain("left-get");
        assertThat(counted().stream().filter(id -> id.equals("left-post"))).as("run once").hasSize(1);
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
