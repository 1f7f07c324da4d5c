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
 * A location's {@code alias}, nginx's: its prefix stands for a directory outside the site's root, on a real edge with
 * real files and a real php-fpm (a script's X-Accel-Redirect into an internal alias location).
 */
class AliasIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;

    @Test
    void aPrefixStandsForItsDirectoryWithTheSitesRulesHeldThere() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path thumbs = Files.createDirectories(dir.resolve("srv/thumbs"));
        Files.createDirectories(thumbs.resolve("ab/cd"));
        Files.write(thumbs.resolve("ab/cd/0123.jpg"), new byte[7307]);
        Files.writeString(thumbs.resolve("ab/index.html"), "index of ab");
        Files.writeString(thumbs.resolve(".secret"), "secret");
        Files.writeString(dir.resolve("srv/beside.txt"), "beside");
        Files.writeString(www.resolve("page.html"), "page");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/thumbs/", alias = "srv/thumbs/", expires = 30 d }
                ] }]
                """)) {
            HttpResponse<byte[]> thumb = get(edge, "/thumbs/ab/cd/0123.jpg");
            assertThat(thumb.statusCode()).isEqualTo(200);
            assertThat(thumb.body()).hasSize(7307);
            assertThat(thumb.headers().firstValue("content-type")).contains("image/jpeg");
            assertThat(thumb.headers().firstValue("cache-control")).contains("max-age=2592000");
            assertThat(get(edge, "/thumbs/ab/cd/0123.jpg", "Range", "bytes=0-99").body()).hasSize(100);

            assertThat(new String(get(edge, "/thumbs/ab/").body())).as("a directory's index").isEqualTo("index of ab");
            HttpResponse<byte[]> redirect = get(edge, "/thumbs/ab");
            assertThat(redirect.statusCode()).as("a directory named without its slash").isEqualTo(301);
            assertThat(redirect.headers().firstValue("location")).contains("/thumbs/ab/");

            assertThat(get(edge, "/thumbs/.secret").statusCode()).as("the site's dotfile rule").isEqualTo(403);
            assertThat(get(edge, "/thumbs/%2e%2e/beside.txt").statusCode())
                    .as("normalised, a path climbing out of the prefix is the site root's").isEqualTo(404);
            assertThat(get(edge, "/thumbs/ab/cd/missing.jpg").statusCode()).isEqualTo(404);
            assertThat(new String(get(edge, "/page.html").body())).as("the site's root elsewhere").isEqualTo("page");
            assertThat(get(edge, "/ab/cd/0123.jpg").statusCode()).as("the directory only under its prefix")
                    .isEqualTo(404);
        }
    }

    /** nginx's protected downloads: a script's X-Accel-Redirect into an internal location whose alias holds them. */
    @Test
    void anXAccelRedirectIntoAnAliasLocationNamesItsFileThere() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path vault = Files.createDirectories(dir.resolve("vault"));
        Files.writeString(vault.resolve("report.pdf"), "the report");
        Files.writeString(www.resolve("download.php"), """
                <?php
                header('Content-Type: application/pdf');
                header('X-Accel-Redirect: /private/' . basename($_GET['f']));
                """);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "/private/", alias = "%s/", internal = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(vault, fpm.address()))) {
            HttpResponse<byte[]> report = get(edge, "/download.php?f=report.pdf");
            assertThat(report.statusCode()).isEqualTo(200);
            assertThat(new String(report.body())).isEqualTo("the report");
            assertThat(get(edge, "/private/report.pdf").statusCode()).as("internal: not for a client's own request")
                    .isEqualTo(404);
            assertThat(get(edge, "/download.php?f=missing.pdf").statusCode()).isEqualTo(404);
        }
    }

    /**
     * A file a script names with X-Sendfile under an alias location's directory goes out as that location's (its
     * URI is the prefix's): its access rules hold, as they would for the same file named by X-Accel-Redirect.
     */
    @Test
    void anXSendfilePathUnderAnAliasDirectoryIsThatLocationsFile() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path vault = Files.createDirectories(dir.resolve("vault"));
        Files.writeString(vault.resolve("report.pdf"), "the report");
        Files.writeString(www.resolve("send.php"), "<?php header('X-Sendfile: %s/' . basename($_GET['f']));"
                .formatted(vault));
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 1\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, x-sendfile = ["%s"] }
                       { match = "/vault/", alias = "%s/", internal = true, access = ["deny all"] }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"] }
                     """.formatted(vault, vault, fpm.address()))) {
            assertThat(get(edge, "/send.php?f=report.pdf").statusCode()).as("the alias location's access rules")
                    .isEqualTo(403);
        }
    }

    private static HttpResponse<byte[]> get(EdgeHarness edge, String target, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(target));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
