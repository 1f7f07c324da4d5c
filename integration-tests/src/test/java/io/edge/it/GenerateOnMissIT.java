package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thumbnail origin's classic pattern: a thumbnail that is missing is made by a PHP front controller, which writes
 * it into the tree and hands it out by X-Accel-Redirect; from then on it is a static file. Edge remembered the path as
 * missing for the open-file cache's revalidate period (here 60 s), so every request in that time ran the generator
 * again (a probe: 34 runs for 50 requests over 1.5 s, where nginx's default ran 8). The file a script hands out is
 * forgotten as missing now: the next request gets the file. The generator itself is hidden from clients by an internal
 * location of its path, as nginx's {@code location = /thumb.php { internal; }}; no script (a .php file under the root,
 * named or reached by a link) is ever sent as a file, whatever location its URI routes to.
 */
class GenerateOnMissIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void aThumbnailMadeOnItsFirstRequestIsServedAsAFileFromTheNext() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path runs = dir.resolve("runs.log");
        Files.writeString(www.resolve("accel.php"), "<?php header('X-Accel-Redirect: /thumb.php');");
        Files.createSymbolicLink(www.resolve("link.jpg"), www.resolve("thumb.php"));
        Files.writeString(www.resolve("link.php"), "<?php header('X-Accel-Redirect: /link.jpg');");
        Path downloads = Files.createDirectories(dir.resolve("downloads"));
        Files.writeString(downloads.resolve("example.php"), "<?php echo 'an example to download';");
        Files.writeString(www.resolve("download.php"),
                "<?php header('X-Sendfile: " + downloads.resolve("example.php") + "');");
        Files.writeString(www.resolve("sendfile.php"), "<?php header('X-Sendfile: ' . __DIR__ . '/thumb.php');");
        Files.writeString(www.resolve("thumb.php"),
                generator(runs, "header('X-Accel-Redirect: ' . parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));"));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     static.open-file-cache.revalidate = 60 s
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", fastcgi = php, front-controller = "/thumb.php", x-sendfile = ["www", "downloads"] }
                       { match = "^~ /thumb.php", internal = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> made = get(edge, "/7f/2e/7f2e8d63.jpg");
            assertThat(made.statusCode()).isEqualTo(200);
            assertThat(made.body()).isEqualTo("thumbnail of 7f2e8d63.jpg");
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> again = get(edge, "/7f/2e/7f2e8d63.jpg");
                assertThat(again.statusCode()).isEqualTo(200);
                assertThat(again.body()).isEqualTo("thumbnail of 7f2e8d63.jpg");
                assertThat(again.headers().firstValue("ETag")).as("a static file's answer").isPresent();
            }
            assertThat(Files.readAllLines(runs)).as("the generator ran once").containsExactly("/7f/2e/7f2e8d63.jpg");
            assertThat(get(edge, "/7f/2e/other.jpg").body()).as("another missing one: made too")
                    .isEqualTo("thumbnail of other.jpg");
            assertThat(Files.readAllLines(runs)).hasSize(2);
            for (String direct : new String[] {"/thumb.php", "/thumb.php/", "/thumb.php/x.jpg", "/thumb.php%2f"}) {
                assertThat(get(edge, direct).statusCode()).as(direct + ": the generator hidden, as nginx's internal")
                        .isEqualTo(404);
            }
            assertThat(Files.readAllLines(runs)).hasSize(2);
            // A script that hands out the generator itself gets 403, not its source: to a .php path edge sends nothing,
            // whichever location it routes to (here the internal files location over the generator's path).
            for (String leak : new String[] {"accel", "sendfile", "link"}) {
                HttpResponse<String> refused = get(edge, "/" + leak + ".php");
                assertThat(refused.statusCode()).as(leak).isEqualTo(403);
                assertThat(refused.body()).as(leak).doesNotContain("<?php");
            }
            HttpResponse<String> download = get(edge, "/download.php");
            assertThat(download.statusCode()).as("a .php file outside the root is a file like any other").isEqualTo(200);
            assertThat(download.body()).isEqualTo("<?php echo 'an example to download';");
        }
    }

    /**
     * The same by X-Sendfile under a root reached through a link (a deploy's current -> releases/42): PHP names the
     * file under the real root (__DIR__), the path found missing was remembered under the configured one. The
     * generator ran on every request of the period.
     */
    @Test
    void aThumbnailMadeUnderALinkedRootAndSentByXSendfileIsServedAsAFileFromTheNext() throws Exception {
        Path www = Files.createDirectories(dir.resolve("release"));
        Files.createSymbolicLink(dir.resolve("current"), www);
        Path runs = dir.resolve("runs.log");
        Files.writeString(www.resolve("thumb.php"), generator(runs, "header('X-Sendfile: ' . $path);"));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     static.open-file-cache.revalidate = 60 s
                     sites = [{ server-names = ["_"], default = true, root = "current", symlinks = allow, locations = [
                       { match = "/", fastcgi = php, front-controller = "/thumb.php", x-sendfile = ["current"] }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> answer = get(edge, "/ab/cd/abcd.jpg");
                assertThat(answer.statusCode()).isEqualTo(200);
                assertThat(answer.body()).isEqualTo("thumbnail of abcd.jpg");
            }
            assertThat(Files.readAllLines(runs)).as("the generator ran once").containsExactly("/ab/cd/abcd.jpg");
        }
    }

    /**
     * A generator that logs each run in {@code runs}, writes the thumbnail its request names (by a rename, as a
     * resizer would) and answers with {@code answer}, a PHP statement that has {@code $path}, the file it made.
     */
    private static String generator(Path runs, String answer) {
        return """
                <?php
                file_put_contents('%s', $_SERVER['REQUEST_URI'] . "\\n", FILE_APPEND);
                $path = __DIR__ . parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
                @mkdir(dirname($path), 0755, true);
                file_put_contents($path . '.tmp', 'thumbnail of ' . basename($path));
                rename($path . '.tmp', $path);
                %s
                """.formatted(runs, answer);
    }

    private static HttpResponse<String> get(EdgeHarness edge, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
