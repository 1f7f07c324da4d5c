package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import io.edge.core.http.RawHttpClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named locations ({@code match = "@app"}, nginx's {@code location @app}): a front-controller ({@code try_files $uri
 * $uri/ @app}) and error-pages ({@code error_page 404 = @app}) hand a request there with its method and URI unchanged.
 * Each answer here is the one nginx 1.22 gave side by side, on the same files, php-fpm and backend.
 */
class NamedLocationIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** The script of the PHP named locations: what it was run as. */
    private static final String SCRIPT = """
            <?php http_response_code(isset($_GET['code']) ? (int) $_GET['code'] : 200); header('X-App: php');
            echo $_SERVER['REQUEST_METHOD'], ' ', $_SERVER['REQUEST_URI'], ' ', $_SERVER['SCRIPT_NAME'], ' ',
                $_SERVER['DOCUMENT_URI'], ' ', $_SERVER['QUERY_STRING'], ' ', file_get_contents('php://input');""";

    @TempDir
    Path dir;

    private Path www;
    private JdkBackend backend;

    @BeforeEach
    void files() throws IOException {
        www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("style.css"), "body{}");
        Files.writeString(www.resolve("index.php"), SCRIPT);
        backend = JdkBackend.start(NamedLocationIT::answer);
    }

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    /**
     * The backend's answer: its method, the URI as it came and the body; a 302 for a path with "redirect" in it. The
     * backend of {@link ErrorPageScriptIT} too.
     */
    static void answer(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        byte[] answer = ("app " + exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery())
                + " " + new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("X-App", "proxy");
        boolean redirect = exchange.getRequestURI().getPath().contains("redirect");
        if (redirect) {
            exchange.getResponseHeaders().set("Location", "http://elsewhere/");
        }
        exchange.sendResponseHeaders(redirect ? 302 : 200,
                exchange.getRequestMethod().equals("HEAD") ? -1 : answer.length);
        exchange.getResponseBody().write(exchange.getRequestMethod().equals("HEAD") ? new byte[0] : answer);
        exchange.close();
    }

    /**
     * nginx's {@code location / { try_files $uri $uri/ @php; }} with {@code location @php { fastcgi_param
     * SCRIPT_FILENAME $document_root/index.php; ... }}: a path that names no file runs the script, REQUEST_URI and
     * DOCUMENT_URI ($uri) the request's own, its method, query and body kept; a file is itself. SCRIPT_NAME is the
     * script's (nginx's fastcgi_params give $uri, the path).
     */
    @Test
    void aPathThatNamesNoFileRunsTheNamedPhpLocationsScriptWithItsUriUnchanged() throws Exception {
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", front-controller = "@php" }
                       { match = "@php", fastcgi = php, fastcgi-script = "/index.php" }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> page = send(edge, "GET", "/blog/hello?page=2", "");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("x-app")).contains("php");
            assertThat(page.body()).isEqualTo("GET /blog/hello?page=2 /index.php /blog/hello page=2 ");
            assertThat(send(edge, "POST", "/api/items/7", "{\"n\":1}").body())
                    .isEqualTo("POST /api/items/7 /index.php /api/items/7  {\"n\":1}");
            assertThat(send(edge, "GET", "/style.css", "").body()).isEqualTo("body{}");
            assertThat(send(edge, "GET", "/@php", "").body()).as("a path like any other: it names no file")
                    .isEqualTo("GET /@php /index.php /@php  ");
        }
    }

    /**
     * The CGI params of the script a named PHP location runs: SCRIPT_NAME and PHP_SELF are the script's,
     * SCRIPT_FILENAME its file, as nginx's {@code try_files $uri $uri/ /index.php?$query_string} layout gives them, where
     * nginx's {@code location @php} with its stock fastcgi_params gives the request's path ({@code $fastcgi_script_name}
     * of the unchanged URI: /blog/hello, PHP_SELF too), which sends Drupal 7's base path (dirname of SCRIPT_NAME) and
     * CodeIgniter 3's routes (SCRIPT_NAME's directory taken off the URI) astray below the top directory.
     */
    @Test
    void aNamedPhpLocationsScriptNameAndPhpSelfAreTheScriptsNotTheRequestsPath() throws Exception {
        Files.writeString(www.resolve("index.php"), "<?php echo $_SERVER['SCRIPT_NAME'], ' ', $_SERVER['PHP_SELF'],"
                + " ' ', $_SERVER['SCRIPT_FILENAME'], ' ', $_SERVER['DOCUMENT_URI'];");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", front-controller = "@php" }
                       { match = "@php", fastcgi = php, fastcgi-script = "/index.php" } ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            String file = www.toRealPath().resolve("index.php").toString();
            assertThat(send(edge, "GET", "/blog/hello?page=2", "").body())
                    .isEqualTo("/index.php /index.php " + file + " /blog/hello");
        }
    }

    /**
     * Drupal 7's nginx layout: {@code try_files $uri $uri/ @rewrite;} and {@code location @rewrite { rewrite ^/(.*)$
     * /index.php?q=$1; }}: the named location's rewrites are met (nginx starts it at its rewrite phase), and the new
     * URI runs in the PHP location, the query appended, REQUEST_URI the request's.
     */
    @Test
    void aNamedLocationsRewriteRunsTheScriptItNames() throws Exception {
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", front-controller = "@rewrite" }
                       { match = "@rewrite", rewrites = [{ rewrite = "^/(.*)$ /index.php?q=$1" }] }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(send(edge, "GET", "/node/12?x=1", "").body())
                    .isEqualTo("GET /node/12?x=1 /index.php /index.php q=node/12&x=1 ");
            assertThat(send(edge, "GET", "/style.css", "").body()).isEqualTo("body{}");
        }
    }

    /** nginx's {@code try_files $uri $uri/ @app} with {@code location @app { proxy_pass http://app; }}. */
    @Test
    void aPathThatNamesNoFileGoesToTheNamedProxyLocationAsItWasSent() throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", front-controller = "@app" }
                  { match = "@app", proxy = app }
                ] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(backend.address()))) {
            HttpResponse<String> answer = send(edge, "GET", "/users/42?tab=a%20b", "");
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.headers().firstValue("x-app")).contains("proxy");
            assertThat(answer.body()).isEqualTo("app GET /users/42?tab=a%20b ");
            assertThat(send(edge, "PUT", "/api/x", "abc").body()).isEqualTo("app PUT /api/x abc");
            assertThat(send(edge, "GET", "/style.css", "").body()).isEqualTo("body{}");
        }
    }

    /**
     * nginx's {@code error_page 404 @app} (the answer goes out with the error's status, a redirect's Location kept),
     * {@code error_page 404 = @app} (with the answer's own) and {@code error_page 404 =202 @app}, the method kept.
     */
    @Test
    void anErrorPageInANamedLocationAnswersWithTheStatusNginxGives() throws Exception {
        String[][] cases = {{"@app", "404"}, {"= @app", "200"}, {"=202 @app", "202"}};
        for (String[] page : cases) {
            try (EdgeHarness edge = EdgeHarness.start(dir, """
                    sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "%s" }
                      locations = [{ match = "/" }, { match = "@app", proxy = app }] }]
                    proxy.backends.app { addresses = ["%s"] }
                    """.formatted(page[0], backend.address()))) {
                int status = Integer.parseInt(page[1]);
                HttpResponse<String> get = send(edge, "GET", "/missing", "");
                assertThat(get.statusCode()).as(page[0]).isEqualTo(status);
                assertThat(get.body()).as(page[0]).isEqualTo("app GET /missing ");
                assertThat(get.headers().firstValue("x-app")).as(page[0]).contains("proxy");
                HttpResponse<String> post = send(edge, "POST", "/missing", "b=1");
                assertThat(post.statusCode()).as(page[0]).isEqualTo(status);
                assertThat(post.body()).as(page[0] + ": its method kept").isEqualTo("app POST /missing b=1");
                assertThat(send(edge, "GET", "/style.css", "").body()).as(page[0]).isEqualTo("body{}");
            }
        }
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "@app" }
                  locations = [{ match = "/" }, { match = "@app", proxy = app }] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(backend.address()))) {
            HttpResponse<String> redirect = send(edge, "GET", "/redirect", "");
            assertThat(redirect.statusCode()).as("the error's status over the backend's 302").isEqualTo(404);
            assertThat(redirect.headers().firstValue("location")).contains("http://elsewhere/");
            HttpResponse<String> head = send(edge, "HEAD", "/missing", "");
            assertThat(head.statusCode()).isEqualTo(404);
            assertThat(head.headers().firstValue("x-app")).contains("proxy");
        }
    }

    /**
     * nginx's {@code error_page 405 = @app}: a POST to a file, which the static module refuses, goes to the application
     * with its method and body; so does a limit's refusal ({@code error_page 503 = @app}).
     */
    @Test
    void aFilesRefusedMethodAndALimitsRefusalGoToTheNamedLocation() throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 405 = "= @app", 503 = "@app" }
                  locations = [{ match = "/" }, { match = "/limited/", limit-req { rate = "1 r/m", status = 503 } }, { match = "@app", proxy = app }] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(backend.address()))) {
            HttpResponse<String> post = send(edge, "POST", "/style.css", "a=1");
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(post.body()).isEqualTo("app POST /style.css a=1");
            assertThat(send(edge, "DELETE", "/style.css", "").body()).isEqualTo("app DELETE /style.css ");
            assertThat(send(edge, "GET", "/style.css", "").body()).isEqualTo("body{}");
            send(edge, "GET", "/limited/x", "");
            HttpResponse<String> limited = send(edge, "GET", "/limited/x", "");
            assertThat(limited.statusCode()).as("the limit's status").isEqualTo(503);
            assertThat(limited.body()).isEqualTo("app GET /limited/x ");
        }
    }

    /**
     * nginx's {@code error_page 401 416 @app}: auth-basic's refusal and a range past a file's end go to the application
     * with their status, the refusal's WWW-Authenticate and the 416's Content-Range and ETag (the file's) kept, as
     * nginx 1.22 answered them; a failed If-Match or If-Unmodified-Since's 412 too (a precompressed file's as well),
     * which nginx 1.22 drops (it closes the connection without an answer, logging 412 with no bytes).
     */
    @Test
    void aFilesRangeAndPreconditionFailuresAndAnAuthRefusalGoToTheNamedLocation() throws Exception {
        Files.createDirectories(www.resolve("locked"));
        Files.writeString(www.resolve("locked/f.txt"), "secret");
        Files.writeString(dir.resolve("htpasswd"), "alice:{PLAIN}secret\n");
        Files.createDirectories(www.resolve("gz"));
        Files.writeString(www.resolve("gz/app.js"), "var a;");
        Files.write(www.resolve("gz/app.js.gz"), new byte[] {31, -117, 8, 0});
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 401 = "@app", 412 = "@app", 416 = "@app" }
                  locations = [{ match = "/" }, { match = "/locked/", auth-basic { realm = "x", user-file = "htpasswd" } }
                    { match = "/gz/", gzip.static = true }
                    { match = "@app", proxy = app }] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(backend.address()))) {
            HttpResponse<String> range = HTTP.send(HttpRequest.newBuilder(edge.uri("/style.css"))
                    .header("Range", "bytes=1000-").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(range.statusCode()).isEqualTo(416);
            assertThat(range.body()).isEqualTo("app GET /style.css ");
            assertThat(range.headers().firstValue("content-range")).contains("bytes */6");
            assertThat(range.headers().firstValue("etag")).as("the file's").isPresent();
            HttpResponse<String> locked = send(edge, "GET", "/locked/f.txt", "");
            assertThat(locked.statusCode()).isEqualTo(401);
            assertThat(locked.body()).isEqualTo("app GET /locked/f.txt ");
            assertThat(locked.headers().firstValue("www-authenticate")).contains("Basic realm=\"x\"");
            for (String[] condition : new String[][] {{"If-Match", "\"other\""},
                    {"If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:01 GMT"}}) {
                HttpResponse<String> failed = HTTP.send(HttpRequest.newBuilder(edge.uri("/style.css"))
                        .header(condition[0], condition[1]).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(failed.statusCode()).as(condition[0]).isEqualTo(412);
                assertThat(failed.body()).as(condition[0]).isEqualTo("app GET /style.css ");
            }
            HttpResponse<String> precompressed = HTTP.send(HttpRequest.newBuilder(edge.uri("/gz/app.js"))
                    .header("Accept-Encoding", "gzip").header("If-Match", "\"other\"").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(precompressed.statusCode()).as("a precompressed file's").isEqualTo(412);
            assertThat(precompressed.body()).as("a precompressed file's").isEqualTo("app GET /gz/app.js ");
            assertThat(send(edge, "GET", "/style.css", "").body()).isEqualTo("body{}");
        }
    }

    /**
     * nginx's {@code error_page 401 416 @php} with a PHP named location: the script answers a POST refused for its
     * credentials with the credentials and the body it came with, the refusal's status and its challenge beside the
     * script's own fields, as nginx 1.22 answered side by side; a 416 keeps the file's Content-Range and ETag. A field
     * the script sends itself stays its own, once (nginx sends both: two WWW-Authenticate, or two Content-Range, the
     * second a 416 cannot have).
     */
    @Test
    void aNamedPhpLocationAnswersAnAuthRefusalAndARangePastTheEndWithTheirFieldsKept() throws Exception {
        Files.createDirectories(www.resolve("locked"));
        Files.writeString(www.resolve("locked/f.txt"), "secret");
        Files.writeString(dir.resolve("htpasswd"), "alice:{PLAIN}secret\n");
        Files.writeString(www.resolve("index.php"), "<?php if (isset($_GET['own'])) { header('WWW-Authenticate: Bearer'); "
                + "header('Content-Range: bytes */99'); } echo $_SERVER['REQUEST_METHOD'], ' ', "
                + "$_SERVER['HTTP_AUTHORIZATION'] ?? '-', ' ', file_get_contents('php://input');");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 401 = "@php", 416 = "@php" }
                       locations = [{ match = "/" }, { match = "/locked/", auth-basic { realm = "x", user-file = "htpasswd" } }
                         { match = "@php", fastcgi = php, fastcgi-script = "/index.php" }] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(edge.uri("/locked/f.txt"))
                    .header("Authorization", "Basic YWxpY2U6d3Jvbmc=")
                    .POST(HttpRequest.BodyPublishers.ofString("a=1")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.body()).isEqualTo("POST Basic YWxpY2U6d3Jvbmc= a=1");
            assertThat(refused.headers().allValues("www-authenticate")).containsExactly("Basic realm=\"x\"");
            assertThat(refused.headers().allValues("content-length")).containsExactly("31");
            HttpResponse<String> range = HTTP.send(HttpRequest.newBuilder(edge.uri("/style.css"))
                    .header("Range", "bytes=1000-").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(range.statusCode()).isEqualTo(416);
            assertThat(range.body()).isEqualTo("GET - ");
            assertThat(range.headers().allValues("content-range")).containsExactly("bytes */6");
            assertThat(range.headers().allValues("etag")).as("the file's").hasSize(1);
            HttpResponse<String> own = HTTP.send(HttpRequest.newBuilder(edge.uri("/locked/f.txt?own=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(own.statusCode()).isEqualTo(401);
            assertThat(own.headers().allValues("www-authenticate")).as("the script's own").containsExactly("Bearer");
        }
    }

    /**
     * nginx's {@code error_page 401 @login; location @login { return 302 /login; }}, a login page's redirect: a
     * named location's redirect (a return's, a rewrite's) goes with its own status whatever error led there, as nginx
     * 1.22 answered side by side (its special response sets err_status to the 302: with "@login" and "=200 @login"
     * alike), the refusal's challenge kept. Its other answers go with the error's status.
     */
    @Test
    void aNamedLocationsRedirectGoesWithItsOwnStatusWhateverErrorLedThere() throws Exception {
        Files.createDirectories(www.resolve("locked"));
        Files.writeString(www.resolve("locked/f.txt"), "secret");
        Files.writeString(dir.resolve("htpasswd"), "alice:{PLAIN}secret\n");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 401 = "@login", 416 = "=200 @login" }
                  locations = [{ match = "/" }, { match = "/locked/", auth-basic { realm = "x", user-file = "htpasswd" } }
                    { match = "@login", return = "302 /login" }] }]
                """)) {
            HttpResponse<String> refused = send(edge, "GET", "/locked/f.txt", "");
            assertThat(refused.statusCode()).isEqualTo(302);
            assertThat(refused.headers().firstValue("location")).contains(edge.uri("/login").toString());
            assertThat(refused.headers().allValues("www-authenticate")).containsExactly("Basic realm=\"x\"");
            HttpResponse<String> range = HTTP.send(HttpRequest.newBuilder(edge.uri("/style.css"))
                    .header("Range", "bytes=1000-").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(range.statusCode()).as("=200 @login").isEqualTo(302);
        }
    }

    /**
     * nginx's {@code error_page 401 @authed} where {@code location @authed} has an auth_basic of its own: its access
     * phase runs there too (a named location starts at its rewrite phase), so a refusal there gets the built-in 401 (an
     * error page is met once: no loop), and only its own users get its answer (with the 401). Not a change: pins that
     * a named error page is no way around a location's auth-basic.
     */
    @Test
    void anAuthBasicInTheNamedLocationOfA401IsMetThereWithoutALoop() throws Exception {
        Files.createDirectories(www.resolve("locked"));
        Files.writeString(www.resolve("locked/f.txt"), "secret");
        Files.writeString(dir.resolve("htpasswd"), "alice:{PLAIN}secret\n");
        Files.writeString(dir.resolve("htpasswd-named"), "bob:{PLAIN}hidden\n");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 401 = "@authed" }
                  locations = [{ match = "/" }, { match = "/locked/", auth-basic { realm = "x", user-file = "htpasswd" } }
                    { match = "@authed", auth-basic { realm = "y", user-file = "htpasswd-named" }, proxy = app }] }]
                proxy.backends.app { addresses = ["%s"] }
                """.formatted(backend.address()))) {
            HttpResponse<String> nobody = send(edge, "GET", "/locked/f.txt", "");
            assertThat(nobody.statusCode()).isEqualTo(401);
            assertThat(nobody.body()).doesNotContain("app");
            assertThat(nobody.headers().allValues("www-authenticate")).contains("Basic realm=\"y\"");
            for (String credentials : new String[] {"alice:wrong", "bob:wrong", "alice:hidden"}) {
                HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(edge.uri("/locked/f.txt"))
                        .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                                credentials.getBytes(StandardCharsets.UTF_8))).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(refused.statusCode()).as(credentials).isEqualTo(401);
                assertThat(refused.body()).as(credentials).doesNotContain("app");
            }
            HttpResponse<String> bob = HTTP.send(HttpRequest.newBuilder(edge.uri("/locked/f.txt"))
                    .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                            "bob:hidden".getBytes(StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bob.statusCode()).as("the named location's user").isEqualTo(401);
            assertThat(bob.body()).isEqualTo("app GET /locked/f.txt ");
        }
    }

    /**
     * nginx's {@code error_page 404 = @php}: the script's own status; an error of the named location's answer itself
     * (its backend down: 502) goes out as it is, with edge's page, not to error-pages again, as nginx's error_page is
     * met once.
     */
    @Test
    void anErrorPageInANamedPhpLocationRunsItsScriptAndAnErrorThereIsNotPagedAgain() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [
                       { server-names = ["_"], default = true, root = "www", error-pages { 404 = "= @php" }, locations = [
                         { match = "/" }, { match = "@php", fastcgi = php, fastcgi-script = "/index.php" } ] }
                       { server-names = ["down.test"], root = "www", error-pages { 404 = "@down", 502 = "@down" }
                         locations = [{ match = "/" }, { match = "@down", proxy = down }] }
                     ]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     proxy.backends.down { addresses = ["127.0.0.1:%d"] }
                     """.formatted(fpm.address(), closed))) {
            HttpResponse<String> created = send(edge, "GET", "/missing?code=201", "");
            assertThat(created.statusCode()).isEqualTo(201);
            assertThat(created.body()).isEqualTo("GET /missing?code=201 /index.php /missing code=201 ");
            try (RawHttpClient raw = new RawHttpClient(edge.address())) {
                RawHttpClient.Response down = raw.send("GET /missing HTTP/1.1\r\nHost: down.test\r\n\r\n")
                        .read(false);
                assertThat(down.status()).isEqualTo(502);
                assertThat(down.text()).contains("502 Bad Gateway");
            }
        }
    }

    /**
     * nginx's {@code error_page 404 @app} met by a script's X-Accel-Redirect to a file that is missing: nginx's
     * internal redirect to that URI went before, as a GET, so the named location gets that URI and its query (the
     * backend's target, {@code $uri}), not the script's.
     */
    @Test
    void anXAccelRedirectsMissingFileGoesToTheNamedErrorPageWithItsUri() throws Exception {
        Files.writeString(www.resolve("accel.php"), "<?php header('X-Accel-Redirect: ' . $_GET['to']);");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "@app" }
                       locations = [{ match = "/" }, { match = "~ \\\\.php$", fastcgi = php }, { match = "@app", proxy = app }] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     proxy.backends.app { addresses = ["%s"] }
                     """.formatted(fpm.address(), backend.address()))) {
            HttpResponse<String> missing = send(edge, "GET", "/accel.php?to=/files/gone%3Fz%3D1", "");
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.headers().firstValue("x-app")).contains("proxy");
            assertThat(missing.body()).isEqualTo("app GET /files/gone?z=1 ");
        }
    }

    /**
     * nginx's {@code location /files/ { try_files $uri $uri/ @app; }} reached by a script's X-Accel-Redirect to a file
     * that is missing there: the named location answers that URI and query, as a GET, with its own status.
     */
    @Test
    void anXAccelRedirectsMissingFileGoesToItsLocationsNamedFrontController() throws Exception {
        Files.writeString(www.resolve("accel.php"), "<?php header('X-Accel-Redirect: ' . $_GET['to']);");
        Files.createDirectories(www.resolve("files"));
        Files.writeString(www.resolve("files/here.txt"), "here");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/files/", front-controller = "@app" }, { match = "~ \\\\.php$", fastcgi = php }
                       { match = "@app", proxy = app }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     proxy.backends.app { addresses = ["%s"] }
                     """.formatted(fpm.address(), backend.address()))) {
            HttpResponse<String> missing = send(edge, "GET", "/accel.php?to=/files/gone%3Fz%3D1", "");
            assertThat(missing.statusCode()).isEqualTo(200);
            assertThat(missing.body()).isEqualTo("app GET /files/gone?z=1 ");
            assertThat(send(edge, "GET", "/accel.php?to=/files/here.txt", "").body()).isEqualTo("here");
        }
    }

    /**
     * A named location's own return, rewrite last and permanent, and its own front controller, for any method,
     * as nginx 1.22 answered them side by side: {@code location @ret { return 200 "..."; }} reached by {@code try_files
     * $uri @ret} (any method: DELETE, PROPFIND) and by {@code error_page 404 @ret} (a DELETE of a missing file is the
     * static module's 405, not paged); {@code rewrite ... last} routes the new URI, $request_uri the client's;
     * {@code permanent} a 301 with the query; {@code location @two { try_files $uri @ret; }} goes on.
     */
    @Test
    void aNamedLocationsReturnRewritesAndFrontControllerAnswerAsNginxsForAnyMethod() throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "@ret" }, locations = [
                  { match = "/" }
                  { match = "/tf/", front-controller = "@ret" }
                  { match = "/rw/", front-controller = "@rw" }
                  { match = "/rwp/", front-controller = "@rwp" }
                  { match = "/two/", front-controller = "@two" }
                  { match = "/target/", return = "200 target $request_method $uri $args $request_uri" }
                  { match = "@ret", return = "200 ret $request_method $uri $args $request_uri" }
                  { match = "@rw", rewrites = [{ rewrite = "^/rw/(.*)$ /target/$1 last" }] }
                  { match = "@rwp", rewrites = [{ rewrite = "^/rwp/(.*)$ /target/$1 permanent" }] }
                  { match = "@two", front-controller = "@ret" }
                ] }]
                """)) {
            String[][] cases = {
                {"GET", "/missing?a=1", "404", "ret GET /missing a=1 /missing?a=1"},
                {"DELETE", "/missing?a=1", "405", null},
                {"GET", "/tf/x?a=1", "200", "ret GET /tf/x a=1 /tf/x?a=1"},
                {"DELETE", "/tf/x?a=1", "200", "ret DELETE /tf/x a=1 /tf/x?a=1"},
                {"PROPFIND", "/tf/x?a=1", "200", "ret PROPFIND /tf/x a=1 /tf/x?a=1"},
                {"GET", "/rw/x?a=1", "200", "target GET /target/x a=1 /rw/x?a=1"},
                {"PROPFIND", "/rw/x?a=1", "200", "target PROPFIND /target/x a=1 /rw/x?a=1"},
                {"DELETE", "/rwp/x?a=1", "301", null},
                {"GET", "/two/x?a=1", "200", "ret GET /two/x a=1 /two/x?a=1"},
                {"DELETE", "/two/x?a=1", "200", "ret DELETE /two/x a=1 /two/x?a=1"},
            };
            for (String[] c : cases) {
                HttpResponse<String> answer = send(edge, c[0], c[1], "");
                assertThat(answer.statusCode()).as(c[0] + " " + c[1]).isEqualTo(Integer.parseInt(c[2]));
                if (c[3] != null) {
                    assertThat(answer.body()).as(c[0] + " " + c[1]).isEqualTo(c[3]);
                }
            }
            assertThat(send(edge, "GET", "/rwp/x?a=1", "").headers().firstValue("location"))
                    .hasValueSatisfying(location -> assertThat(location).endsWith("/target/x?a=1"));
        }
    }

    /** No client's path reaches a named location: /@app is a path like another, here a missing file's 404. */
    @Test
    void aClientsPathNeverReachesANamedLocation() throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }, { match = "@app", return = "200 named" }
                ] }]
                """)) {
            assertThat(send(edge, "GET", "/@app", "").statusCode()).isEqualTo(404);
            assertThat(send(edge, "GET", "/app", "").statusCode()).isEqualTo(404);
        }
    }

    /**
     * nginx's {@code error_page 416 @app} whose backend is down: its own 502 page, with the 416's Content-Range but not
     * the file's ETag, as nginx 1.22's special response clears ETag, Last-Modified and Accept-Ranges (measured: 502,
     * Content-Range: bytes *&#47;18, no ETag). Edge's page carried the file's ETag, a validator of another body.
     */
    @Test
    void edgesOwnPageAfterANamedErrorPageHasNoEtagOfTheFile() throws Exception {
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 416 = "@app" }
                  locations = [{ match = "/" }, { match = "@app", fastcgi = gone, fastcgi-script = "/index.php" }] }]
                fastcgi.backends.gone { addresses = ["unix:%s"] }
                """.formatted(dir.resolve("no-such.sock")))) {
            HttpResponse<String> range = HTTP.send(HttpRequest.newBuilder(edge.uri("/style.css"))
                    .header("Range", "bytes=1000-").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(range.statusCode()).isEqualTo(502);
            assertThat(range.headers().firstValue("content-range")).contains("bytes */6");
            assertThat(range.headers().map().keySet()).map(String::toLowerCase)
                    .doesNotContain("etag", "last-modified", "accept-ranges");
        }
    }

    /**
     * nginx's {@code error_page 404 @files} with {@code location @files { root other; }}: a directory named there
     * without its slash is redirected with the 301 of its own, as nginx 1.22's static module's redirect is a special
     * response that sets its own status (measured: 301, Location /g/sub/), while a file there goes with the error's
     * 404, as nginx's. Edge answered the 301's Location with the 404 status.
     */
    @Test
    void aDirectorysRedirectInANamedLocationGoesWithItsOwnStatus() throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("other/g/sub")).resolve("index.html"), "idx");
        Files.writeString(dir.resolve("other/g/x.txt"), "file");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "@files" }
                  locations = [{ match = "/" }, { match = "@files", root = "other" }] }]
                """)) {
            HttpResponse<String> directory = send(edge, "GET", "/g/sub?a=1", "");
            assertThat(directory.statusCode()).isEqualTo(301);
            assertThat(directory.headers().firstValue("location")).hasValueSatisfying(
                    location -> assertThat(location).endsWith("/g/sub/?a=1"));
            HttpResponse<String> file = send(edge, "GET", "/g/x.txt", "");
            assertThat(file.statusCode()).as("the error's status").isEqualTo(404);
            assertThat(file.body()).isEqualTo("file");
        }
    }

    private static HttpResponse<String> send(EdgeHarness edge, String method, String target, String body)
            throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(target)).method(method, body.isEmpty()
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
