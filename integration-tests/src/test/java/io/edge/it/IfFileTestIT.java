package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * nginx's {@code if} file tests as WordPress setups write them, on a real edge and a real php-fpm, the stats made by
 * each asynchronous file engine: {@code if (-f $document_root/maintenance.html) { return 503; }} and
 * {@code if (!-e $request_filename) { rewrite ^ /index.php last; }} in the server block, a location's
 * {@code if (-d $request_filename)}.
 */
class IfFileTestIT {

    @TempDir
    Path dir;

    /**
     * Existing files (a stylesheet, a script) are served as they are; a pretty permalink that names nothing runs the
     * front controller with the URI the client sent, its POST body too; a maintenance file answers 503 from the request
     * after it is created to the one before it is removed; a directory is told by -d.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "threads"})
    void wordPressRewritesServeFilesAndSendTheRestToPhp(String engine) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("index.php"), """
                <?php echo 'front ', $_SERVER['SCRIPT_NAME'], ' ', $_SERVER['REQUEST_URI'], ' ',
                    file_get_contents('php://input');""");
        Files.writeString(www.resolve("wp-login.php"), "<?php echo 'login';");
        Files.writeString(www.resolve("style.css"), "body{}");
        Files.createDirectories(www.resolve("files/sub"));
        Files.writeString(www.resolve("files/a.txt"), "a");
        try (PhpFpm fpm = fpm();
             EdgeHarness edge = start(engine, fpm, """
                     sites = [{ server-names = ["_"], default = true, root = "www"
                       rewrites = [
                         { if = "-f $document_root/maintenance.html", return = "503 down for maintenance" }
                         { if = "!-e $request_filename", rewrite = "^ /index.php last" }
                       ]
                       locations = [
                         { match = "/" }
                         { match = "/files/", rewrites = [{ if = "-d $request_filename", return = "200 a directory" }] }
                         { match = "~ \\\\.php$", fastcgi = php }
                       ] }]
                     """)) {
            assertThat(get(edge, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n").text()).as("a file, served")
                    .isEqualTo("body{}");
            assertThat(get(edge, "GET /wp-login.php HTTP/1.1\r\nHost: x\r\n\r\n").text()).as("a script, run")
                    .isEqualTo("login");
            RawHttpClient.Response permalink = get(edge, "GET /2024/05/hello-world/?c=1 HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(permalink.status()).isEqualTo(200);
            assertThat(permalink.text()).as("the front controller, the URI as sent")
                    .isEqualTo("front /index.php /2024/05/hello-world/?c=1 ");
            RawHttpClient.Response posted = get(edge, "POST /wp-json/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    + "Content-Type: text/plain\r\n\r\nhello");
            assertThat(posted.text()).as("its body, held while the file was asked about").isEqualTo(
                    "front /index.php /wp-json/x hello");
            assertThat(get(edge, "GET /files/sub/ HTTP/1.1\r\nHost: x\r\n\r\n").text()).isEqualTo("a directory");
            assertThat(get(edge, "GET /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n").text()).isEqualTo("a");

            Files.writeString(www.resolve("maintenance.html"), "soon");
            RawHttpClient.Response down = get(edge, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(down.status()).as("the maintenance file, created since the last request").isEqualTo(503);
            assertThat(down.text()).isEqualTo("down for maintenance");
            assertThat(get(edge, "GET /2024/05/hello-world/ HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(503);
            Files.delete(www.resolve("maintenance.html"));
            assertThat(get(edge, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n").status()).as("and removed again")
                    .isEqualTo(200);
        }
    }

    /**
     * A PHP location's file test guards its scripts whatever URI found them: the script asked for, and a directory's
     * index.php found under another location's URI (nginx's internal redirect there meets the location's if), which
     * goes on to run once the flag file is there.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "threads"})
    void aPhpLocationsFileTestGuardsItsScriptsFoundUnderAnotherUri(String engine) throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("admin"));
        Files.writeString(www.resolve("admin/index.php"), "<?php echo 'admin';");
        try (PhpFpm fpm = fpm();
             EdgeHarness edge = start(engine, fpm, """
                     sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php"]
                       locations = [
                         { match = "/", fastcgi = php }
                         { match = "~ ^/admin/.*\\\\.php$", fastcgi = php, rewrites = [
                           { if = "!-f $document_root/admin/enabled", return = "403 admin is off" }
                         ] }
                       ] }]
                     """)) {
            assertThat(get(edge, "GET /admin/index.php HTTP/1.1\r\nHost: x\r\n\r\n").text())
                    .isEqualTo("admin is off");
            RawHttpClient.Response index = get(edge, "GET /admin/ HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(index.status()).as("the directory's index.php, its location's file test").isEqualTo(403);
            Files.writeString(www.resolve("admin/enabled"), "");
            assertThat(get(edge, "GET /admin/ HTTP/1.1\r\nHost: x\r\n\r\n").text()).isEqualTo("admin");
            assertThat(get(edge, "GET /admin/index.php HTTP/1.1\r\nHost: x\r\n\r\n").text()).isEqualTo("admin");
        }
    }

    /** A php-fpm of two children on a unix socket under the test's directory. */
    private PhpFpm fpm() throws Exception {
        return PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
    }

    /** Edge on {@code engine} with {@code sites}, its backend php {@code fpm}. */
    private EdgeHarness start(String engine, PhpFpm fpm, String sites) throws Exception {
        return EdgeHarness.start(dir, "static.engine = " + engine + "\n" + sites
                + "fastcgi.backends.php { addresses = [\"" + fpm.address() + "\"], max-connections = 2 }\n");
    }

    private static RawHttpClient.Response get(EdgeHarness edge, String raw) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            return client.send(raw.getBytes(StandardCharsets.UTF_8)).read();
        }
    }
}
