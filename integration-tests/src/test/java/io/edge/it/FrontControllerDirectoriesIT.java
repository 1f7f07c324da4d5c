package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code front-controller-directories = false}, nginx's {@code try_files $uri /index.php} (no {@code $uri/}): an
 * existing directory, with its slash or without, is no match and goes to the front controller, asked with curl. nginx
 * 1.22.1 answered the same paths so side by side ({@code location / { try_files $uri /index.php; }}: {@code /somedir},
 * {@code /somedir/}, {@code /noindex/} and {@code /} the front controller's, {@code /index.html} the file,
 * {@code /index.html/} the front controller's). The default keeps the meaning README gives front-controller, nginx's
 * {@code try_files $uri $uri/ ...}.
 */
class FrontControllerDirectoriesIT {

    @TempDir
    Path dir;

    private static String get(EdgeHarness edge, String path) throws Exception {
        return Curl.output("-w", " %{http_code}", edge.uri(path).toString());
    }

    private void site(Path www) throws Exception {
        Files.writeString(www.resolve("index.html"), "root index");
        Files.createDirectories(www.resolve("somedir"));
        Files.writeString(www.resolve("somedir/index.html"), "somedir index");
        Files.createDirectories(www.resolve("noindex"));
    }

    @Test
    void inALocationOfFilesADirectoryGoesToTheFrontController() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        site(www);
        Files.createDirectories(dir.resolve("spa/app"));
        Files.writeString(dir.resolve("spa/app/shell.html"), "shell");
        Files.createDirectories(dir.resolve("spa/app/users"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/app/", root = "spa", front-controller = "/app/shell.html", front-controller-directories = false }
                  { match = "/", front-controller = "/index.html" }
                ] }]
                """)) {
            for (String path : new String[] {"/app/users", "/app/users/", "/app/", "/app/missing", "/app/shell.html/"}) {
                assertThat(get(edge, path)).as(path).isEqualTo("shell 200");
            }
            // the default, nginx's $uri $uri/: the directory's index, its slash added, 403 without one
            assertThat(get(edge, "/somedir/")).isEqualTo("somedir index 200");
            assertThat(Curl.output("-o", "/dev/null", "-w", "%{http_code}", edge.uri("/somedir").toString()))
                    .isEqualTo("301");
            assertThat(Curl.output("-o", "/dev/null", "-w", "%{http_code}", edge.uri("/noindex/").toString()))
                    .isEqualTo("403");
        }
    }

    @Test
    void besideAPhpLocationAndInOneADirectoryRunsTheFrontController() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        site(www);
        Files.writeString(www.resolve("index.php"), "<?php echo 'front ', $_SERVER['REQUEST_URI'];");
        Files.writeString(www.resolve("somedir/index.php"), "<?php echo 'somedir script';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php", "index.html"],
                       locations = [
                         { match = "/", front-controller = "/index.php", front-controller-directories = false }
                         { match = "~ \\\\.php$", fastcgi = php }
                         { match = "/api/", fastcgi = php, front-controller = "/index.php", front-controller-directories = false }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            for (String path : new String[] {"/somedir", "/somedir/", "/noindex/", "/", "/index.html/", "/missing"}) {
                assertThat(get(edge, path)).as(path).isEqualTo("front " + path + " 200");
            }
            assertThat(get(edge, "/index.html")).as("a file is itself").isEqualTo("root index 200");
            assertThat(get(edge, "/somedir/index.php")).as("a script is itself").isEqualTo("somedir script 200");
            Files.createDirectories(www.resolve("api/v1"));
            Files.writeString(www.resolve("api/index.php"), "<?php echo 'api index';");
            Files.writeString(www.resolve("api/v1/doc.txt"), "doc");
            for (String path : new String[] {"/api/", "/api/v1", "/api/v1/", "/api/users/7"}) {
                assertThat(get(edge, path)).as("in the PHP location: " + path).isEqualTo("front " + path + " 200");
            }
            assertThat(get(edge, "/api/v1/doc.txt")).isEqualTo("doc 200");
        }
    }

    /**
     * An X-Accel-Redirect to a directory of such a location, nginx's internal redirect meeting its {@code try_files $uri
     * @app}: the directory is no match there either, so the named front controller answers (nginx 1.22.1 side by side
     * with {@code location /app/ { try_files $uri @app; } location @app { return 200 "app"; }}), never its index.
     */
    @Test
    void anAccelRedirectToADirectoryGoesToTheNamedFrontController() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("app/users"));
        Files.writeString(www.resolve("app/users/index.html"), "users index");
        Files.writeString(www.resolve("app/a.txt"), "a");
        Files.writeString(www.resolve("x.php"), "<?php header('X-Accel-Redirect: ' . $_GET['to']);");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/app/", front-controller = "@app", front-controller-directories = false }
                       { match = "@app", return = "200 app" }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            for (String to : new String[] {"/app/users/", "/app/users", "/app/missing", "/app/missing/"}) {
                assertThat(get(edge, "/x.php?to=" + to)).as(to).isEqualTo("app 200");
            }
            assertThat(get(edge, "/x.php?to=/app/a.txt")).isEqualTo("a 200");
            assertThat(get(edge, "/app/users/")).isEqualTo("app 200");
        }
    }
}
