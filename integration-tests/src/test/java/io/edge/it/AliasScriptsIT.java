package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
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
 * phpMyAdmin's and Roundcube's layout as nginx writes it, in front of a real php-fpm: {@code location /phpmyadmin/ {
 * alias /usr/share/phpmyadmin/; index index.php; location ~ \.php$ { fastcgi_pass php; fastcgi_param SCRIPT_FILENAME
 * $request_filename; } }}. The nested PHP location takes the alias, as nginx's merge does. What php-fpm is told is what
 * nginx 1.22 tells it there (checked side by side with a script printing $_SERVER): SCRIPT_FILENAME the alias and the
 * path past the prefix, SCRIPT_NAME and PHP_SELF the request's path, DOCUMENT_ROOT the alias's directory (nginx's
 * keeps the alias's trailing slash, edge's is a root like any other, without it).
 */
class AliasScriptsIT {

    private static final String SERVER = "<?php foreach (['SCRIPT_FILENAME', 'DOCUMENT_ROOT', 'SCRIPT_NAME',"
            + " 'PATH_INFO', 'PHP_SELF'] as $k) echo $k, '=', $_SERVER[$k] ?? '(unset)', \"\\n\";";

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static Path pma;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        pma = Files.createDirectories(dir.resolve("pma"));
        Files.writeString(pma.resolve("index.php"), SERVER);
        Files.writeString(Files.createDirectories(pma.resolve("sub")).resolve("x.php"), SERVER);
        Files.writeString(Files.createDirectories(pma.resolve("themes")).resolve("s.css"), "body{}");
        Files.writeString(Files.createDirectories(pma.resolve("libraries")).resolve("config.inc.php"),
                "<?php $password = 'secret';");
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("a.css"), "outside");
        Files.writeString(outside.resolve("x.php"), "<?php echo 'outside ran';");
        Files.writeString(dir.resolve("www/other.php"), "<?php echo 'www ran';");
        Files.createSymbolicLink(pma.resolve("ext"), outside);
        pma = pma.toRealPath();
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 1
                """);
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www", index = [index.php]
                  locations = [
                    { match = "/phpmyadmin/", alias = "pma/", locations = [
                      { match = "~ \\\\.php$", fastcgi = php }
                      { match = "/phpmyadmin/themes/", expires = 1h }
                    ] }
                    { match = "/rc/", alias = "pma/", fastcgi = php, front-controller = "/rc/index.php" }
                    { match = "/app.php/", alias = "pma/", fastcgi = php }
                    { match = "/" }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 1 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(edge.uri("/") + path.substring(1))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String server(String scriptFilename, String scriptName, String pathInfo) {
        return "SCRIPT_FILENAME=" + scriptFilename + "\nDOCUMENT_ROOT=" + pma + "\nSCRIPT_NAME=" + scriptName
                + "\nPATH_INFO=" + pathInfo + "\nPHP_SELF=" + scriptName + pathInfo + "\n";
    }

    /** nginx: /phpmyadmin/ is its index, /phpmyadmin/index.php by an internal redirect to the nested PHP location. */
    @Test
    void theIndexScriptRunsFromTheAlias() throws Exception {
        for (String path : new String[] {"/phpmyadmin/", "/phpmyadmin/index.php"}) {
            HttpResponse<String> index = get(path);
            assertThat(index.statusCode()).as(path).isEqualTo(200);
            assertThat(index.body()).as(path).isEqualTo(server(pma + "/index.php", "/phpmyadmin/index.php", ""));
        }
        assertThat(get("/phpmyadmin").statusCode()).as("the site's /, as nginx 1.22's: no www/phpmyadmin")
                .isEqualTo(404);
    }

    @Test
    void aScriptInASubDirectoryRunsWithTheRequestsPathAsItsName() throws Exception {
        HttpResponse<String> sub = get("/phpmyadmin/sub/x.php");
        assertThat(sub.statusCode()).isEqualTo(200);
        assertThat(sub.body()).isEqualTo(server(pma + "/sub/x.php", "/phpmyadmin/sub/x.php", ""));
        assertThat(get("/phpmyadmin/missing.php").statusCode()).isEqualTo(404);
    }

    @Test
    void filesAreServedFromTheAliasAndAScriptNeverAsAFile() throws Exception {
        HttpResponse<String> css = get("/phpmyadmin/themes/s.css");
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.body()).isEqualTo("body{}");
        assertThat(css.headers().firstValue("Cache-Control")).as("the nested prefix, which takes the alias too")
                .hasValue("max-age=3600");
        HttpResponse<String> config = get("/phpmyadmin/libraries/config.inc.php");
        assertThat(config.statusCode()).as("run, not sent").isEqualTo(200);
        assertThat(config.body()).isEmpty();
        HttpResponse<String> upper = get("/phpmyadmin/libraries/config.inc.PHP");
        assertThat(upper.body()).as("no PHP location takes it: still never its source").doesNotContain("secret");
    }

    /** A location of scripts with an alias of its own: its scripts, PATH_INFO and front controller under the alias. */
    @Test
    void aLocationOfScriptsWithAnAliasRunsThemWithPathInfoAndItsFrontController() throws Exception {
        HttpResponse<String> info = get("/rc/sub/x.php/more");
        assertThat(info.statusCode()).isEqualTo(200);
        assertThat(info.body()).isEqualTo(server(pma + "/sub/x.php", "/rc/sub/x.php", "/more"));
        HttpResponse<String> index = get("/rc/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.body()).isEqualTo(server(pma + "/index.php", "/rc/index.php", ""));
        HttpResponse<String> route = get("/rc/some/route");
        assertThat(route.statusCode()).isEqualTo(200);
        assertThat(route.body()).isEqualTo(server(pma + "/index.php", "/rc/index.php", ""));
        HttpResponse<String> css = get("/rc/themes/s.css");
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.body()).isEqualTo("body{}");
    }

    /** A ".php" in the prefix names no file: the script is past it (nginx 1.22: /srv/pma/sub/x.php, as here). */
    @Test
    void aPrefixNamedAsAScriptIsNone() throws Exception {
        HttpResponse<String> info = get("/app.php/sub/x.php/more");
        assertThat(info.statusCode()).isEqualTo(200);
        assertThat(info.body()).isEqualTo(server(pma + "/sub/x.php", "/app.php/sub/x.php", "/more"));
        HttpResponse<String> index = get("/app.php/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.body()).isEqualTo(server(pma + "/index.php", "/app.php/index.php", ""));
    }

    /** The file never leaves the alias's directory: a "..", encoded or not, and a link out of it (within-root). */
    @Test
    void nothingOutsideTheAliasIsServedOrRun() throws Exception {
        StringBuilder statuses = new StringBuilder();
        for (String path : new String[] {"/phpmyadmin/../outside/x.php", "/phpmyadmin/%2e%2e/outside/x.php",
                "/phpmyadmin/..%2foutside%2fx.php", "/phpmyadmin/../../outside/x.php", "/rc/%2e%2e/outside/x.php",
                "/rc/..%2f..%2foutside/a.css"}) {
            HttpResponse<String> climb = get(path);
            statuses.append(path).append(' ').append(climb.statusCode()).append('\n');
            assertThat(climb.body()).as(path).doesNotContain("outside");
        }
        assertThat(statuses).hasToString("""
                /phpmyadmin/../outside/x.php 404
                /phpmyadmin/%2e%2e/outside/x.php 404
                /phpmyadmin/..%2foutside%2fx.php 404
                /phpmyadmin/../../outside/x.php 400
                /rc/%2e%2e/outside/x.php 404
                /rc/..%2f..%2foutside/a.css 400
                """);
        for (String path : new String[] {"/phpmyadmin/ext/a.css", "/phpmyadmin/ext/x.php", "/rc/ext/x.php"}) {
            HttpResponse<String> link = get(path);
            assertThat(link.statusCode()).as(path).isEqualTo(403);
            assertThat(link.body()).as(path).doesNotContain("outside");
        }
    }
}
