package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code referers}, nginx's valid_referers with {@code if ($invalid_referer) { return ...; }}, on a real
 * edge with real files and a real php-fpm: thumbnails embedded by other sites (hotlinked) get the invalid answer, the
 * site's own pages and the listed partners get the file.
 */
class RefererIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    @Test
    void thumbnailsGoToTheSitesOwnPagesAndPartnersOthersGetTheInvalidAnswer() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("thumbs/ab/cd"));
        Files.createDirectories(www.resolve("errors"));
        byte[] thumb = new byte[7307];
        for (int i = 0; i < thumb.length; i++) {
            thumb[i] = (byte) (i * 31);
        }
        Files.write(www.resolve("thumbs/ab/cd/0123.jpg"), thumb);
        Files.writeString(www.resolve("errors/403.html"), "<p>no hotlinking</p>");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["example.org", "*.example.org"], default = true, root = "www",
                  error-pages { 403 = "/errors/403.html" }, locations = [
                    { match = "/" }
                    { match = "/thumbs/", referers { valid = [none, blocked, server-names, "partner.net/gallery/", "~\\\\.google\\\\."] } }
                    { match = "~ ^/embed/(.+)$", referers { valid = [server-names], invalid = "302 https://example.org/hotlink.html?t=$1" } }
                    { match = "/bots/", referers { valid = [server-names], invalid = 444 } }
                  ] }]
                """)) {
            String path = "/thumbs/ab/cd/0123.jpg";
            assertThat(get(edge, path, null).body()).as("no Referer: typed in, or a privacy setting").isEqualTo(thumb);
            assertThat(get(edge, path, "https://www.example.org/article/7").body()).as("the site's own page")
                    .isEqualTo(thumb);
            assertThat(get(edge, path, "http://partner.net/gallery/1.html").body()).isEqualTo(thumb);
            assertThat(get(edge, path, "https://images.google.de/search?q=x").body()).isEqualTo(thumb);
            assertThat(get(edge, path, "XXXXXXXXXXXXXXXXXXXX").body()).as("blocked by a proxy").isEqualTo(thumb);

            HttpResponse<byte[]> hotlinked = get(edge, path, "https://forum.example.net/thread/9");
            assertThat(hotlinked.statusCode()).isEqualTo(403);
            assertThat(new String(hotlinked.body())).isEqualTo("<p>no hotlinking</p>");
            assertThat(get(edge, path, "http://partner.net/blog/").statusCode()).as("outside the partner's path")
                    .isEqualTo(403);
            assertThat(get(edge, path, "https://example.org.evil.net/").statusCode()).isEqualTo(403);

            HttpResponse<byte[]> embedded = get(edge, "/embed/ab/cd/0123.jpg", "https://forum.example.net/");
            assertThat(embedded.statusCode()).isEqualTo(302);
            assertThat(embedded.headers().firstValue("location"))
                    .contains("https://example.org/hotlink.html?t=ab/cd/0123.jpg");

            try (RawHttpClient bot = new RawHttpClient(edge.address())) {
                bot.send("GET /bots/x HTTP/1.1\r\nHost: example.org\r\nReferer: http://spam.example.net/\r\n\r\n");
                assertThat(bot.isClosedByPeer()).as("444: no answer at all").isTrue();
            }
        }
    }

    /**
     * A PHP location's check runs before the script, which a hotlinking page never starts; a front controller's
     * internal redirect is judged where it lands, as nginx's rewrite phase runs again there.
     */
    @Test
    void aScriptRunsOnlyForAValidRefererAndAnInternalRedirectIsJudgedWhereItLands() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path counter = dir.resolve("count.txt");
        Files.writeString(www.resolve("index.php"), """
                <?php
                file_put_contents('%s', $_SERVER['REQUEST_URI'] . "\\n", FILE_APPEND | LOCK_EX);
                echo 'page ', $_SERVER['HTTP_REFERER'] ?? '-';
                """.formatted(counter));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["example.org"], default = true, root = "www", locations = [
                       { match = "/app/", front-controller = "/index.php" }
                       { match = "~ \\\\.php$", fastcgi = php, referers { valid = [server-names], invalid = "403 hotlinked" } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            HttpResponse<byte[]> own = get(edge, "/index.php", "http://example.org/");
            assertThat(own.statusCode()).isEqualTo(200);
            assertThat(new String(own.body())).isEqualTo("page http://example.org/");

            HttpResponse<byte[]> refused = get(edge, "/index.php", "http://elsewhere.net/");
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(new String(refused.body())).isEqualTo("hotlinked");
            assertThat(get(edge, "/app/list", "http://elsewhere.net/").statusCode())
                    .as("the front controller's location, where the app's URL lands").isEqualTo(403);
            assertThat(new String(get(edge, "/app/list", "http://example.org/x").body()))
                    .isEqualTo("page http://example.org/x");
            assertThat(Files.readAllLines(counter)).as("only the valid requests ran the script")
                    .containsExactly("/index.php", "/app/list");
        }
    }

    /**
     * Where nginx's internal redirect meets a location's referers without that location's responder: the front
     * controller a PHP location runs for another URI (try_files ... /index.php into "location = /index.php"), and the
     * file an X-Accel-Redirect names in an internal location.
     */
    @Test
    void aScriptRunForAnotherUriAndAnXAccelRedirectsFileMeetTheirLocationsReferers() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("protected"));
        Files.writeString(www.resolve("protected/report.txt"), "report");
        Files.writeString(www.resolve("index.php"), "<?php echo 'front';");
        Files.writeString(www.resolve("download.php"), "<?php header('X-Accel-Redirect: /protected/report.txt');");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["example.org"], default = true, root = "www", index = ["index.php"],
                       locations = [
                         { match = "/", fastcgi = php, front-controller = "/index.php" }
                         { match = "= /index.php", fastcgi = php, referers { valid = [server-names] } }
                         { match = "= /download.php", fastcgi = php }
                         { match = "/protected/", internal = true, referers { valid = [server-names] } }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            assertThat(new String(get(edge, "/app/page", "http://example.org/").body())).isEqualTo("front");
            assertThat(get(edge, "/app/page", "http://elsewhere.net/").statusCode())
                    .as("the front controller's own location's referers").isEqualTo(403);
            assertThat(get(edge, "/", null).statusCode()).as("the directory's index.php").isEqualTo(403);

            assertThat(new String(get(edge, "/download.php", "https://example.org/").body())).isEqualTo("report");
            assertThat(get(edge, "/download.php", "https://elsewhere.net/").statusCode())
                    .as("the file's location's referers").isEqualTo(403);
        }
    }

    /**
     * The invalid answer of a regex location an X-Accel-Redirect leads to uses that location's captures of the
     * redirect's URI (nginx's), whatever location the script's request came by (here an exact one, without a regex).
     */
    @Test
    void anXAccelRedirectsInvalidAnswerTakesItsLocationsCaptures() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("protected"));
        Files.writeString(www.resolve("protected/report.txt"), "report");
        Files.writeString(www.resolve("dl.php"), "<?php header('X-Accel-Redirect: /protected/report.txt');");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["example.org"], default = true, root = "www", locations = [
                       { match = "= /dl.php", fastcgi = php }
                       { match = "~ ^/protected/(.+)$", internal = true,
                         referers { valid = [server-names], invalid = "302 /hotlink?f=$1" } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(fpm.address()))) {
            assertThat(new String(get(edge, "/dl.php", "http://example.org/").body())).isEqualTo("report");
            HttpResponse<byte[]> hotlinked = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php"))
                    .header("Referer", "http://elsewhere.net/").timeout(java.time.Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(hotlinked.statusCode()).isEqualTo(302);
            assertThat(hotlinked.headers().firstValue("location")).contains(edge.uri("/hotlink?f=report.txt").toString());
        }
    }

    private static HttpResponse<byte[]> get(EdgeHarness edge, String target, String referer) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(target)); // the default site, whatever the Host
        if (referer != null) {
            request.header("Referer", referer);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
