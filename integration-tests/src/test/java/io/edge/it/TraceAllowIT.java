package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TRACE is 405 everywhere and never reaches PHP; its Allow lists what a request of that URI is taken with, so it says
 * the same as the 405 of another method there. A directory of a static location whose index file is a script (nginx's
 * index, then an internal redirect to the PHP location) takes what the PHP location takes.
 */
class TraceAllowIT {

    private static final String SCRIPTS = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    /** The same tree under one PHP location with a front controller, which hands existing files to the static path. */
    static EdgeHarness frontController;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        String script = "<?php echo 'method=', $_SERVER['REQUEST_METHOD'];\n";
        Files.writeString(www.resolve("index.php"), script);
        Files.writeString(Files.createDirectories(www.resolve("app")).resolve("index.php"), script);
        Files.writeString(Files.createDirectories(www.resolve("docs")).resolve("index.html"), "<p>docs</p>");
        Files.writeString(www.resolve("docs/index.php"), script); // second in the index list: never reached
        Files.createDirectories(www.resolve("empty"));
        Files.writeString(www.resolve("style.css"), "p {}");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www", index = ["index.html", "index.php"]
                  locations = [
                    { match = "~ \\\\.php$", fastcgi = php }
                    { match = "/" }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
        frontController = EdgeHarness.start(Files.createDirectories(dir.resolve("front")), """
                sites = [{
                  server-names = ["_"], default = true, root = "%s", index = ["index.html", "index.php"]
                  locations = [{ match = "/", fastcgi = php, front-controller = "/index.php" }]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(www, fpm.address()));
    }

    @AfterAll
    static void stop() {
        if (frontController != null) {
            frontController.close();
        }
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> send(String method, String path) throws Exception {
        return send(edge, method, path);
    }

    private static HttpResponse<String> send(EdgeHarness to, String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(to.uri(path)).method(method, HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void refusedWith(String path, String allow) throws Exception {
        refusedWith(edge, path, allow);
    }

    private static void refusedWith(EdgeHarness by, String path, String allow) throws Exception {
        HttpResponse<String> traced = send(by, "TRACE", path);
        assertThat(traced.statusCode()).as(path).isEqualTo(405);
        assertThat(traced.body()).as(path).doesNotContain("method=");
        assertThat(traced.headers().allValues("allow")).as(path).containsExactly(allow);
    }

    @Test
    void aDirectoryWhoseIndexIsAScriptTakesWhatThePhpLocationTakes() throws Exception {
        assertThat(send("POST", "/").body()).isEqualTo("method=POST");
        assertThat(send("PUT", "/app/").body()).isEqualTo("method=PUT");
        refusedWith("/", SCRIPTS);
        refusedWith("/app/", SCRIPTS);
        refusedWith("/index.php", SCRIPTS);
    }

    @Test
    void aDirectoryWhoseIndexIsAFileTakesGetAndHeadAsItsOtherMethodsSay() throws Exception {
        HttpResponse<String> posted = send("POST", "/docs/");
        assertThat(posted.statusCode()).isEqualTo(405);
        assertThat(posted.headers().allValues("allow")).containsExactly("GET, HEAD");
        refusedWith("/docs/", "GET, HEAD");
        refusedWith("/docs/index.html", "GET, HEAD");
        refusedWith("/empty/", "GET, HEAD");
        refusedWith("/missing/", "GET, HEAD");
        refusedWith("/app", "GET, HEAD"); // redirected to /app/ by a GET, refused by the static location here
    }

    /**
     * Under a front controller, an existing file is the static path's (GET, HEAD; a POST to it is 405 with those), and
     * only what runs the front controller or a script takes what the PHP location takes. A TRACE of a file said POST
     * and the rest.
     */
    @Test
    void underAFrontControllerAnExistingFileTakesGetAndHeadAndTheRestWhatThePhpLocationTakes() throws Exception {
        HttpResponse<String> posted = send(frontController, "POST", "/style.css");
        assertThat(posted.statusCode()).isEqualTo(405);
        assertThat(posted.headers().allValues("allow")).containsExactly("GET, HEAD");
        refusedWith(frontController, "/style.css", "GET, HEAD");
        refusedWith(frontController, "/docs/", "GET, HEAD");
        refusedWith(frontController, "/empty/", "GET, HEAD");
        assertThat(send(frontController, "POST", "/missing").body()).isEqualTo("method=POST");
        refusedWith(frontController, "/missing", SCRIPTS);
        refusedWith(frontController, "/", SCRIPTS);
        refusedWith(frontController, "/app/", SCRIPTS);
        refusedWith(frontController, "/index.php", SCRIPTS);
    }
}
