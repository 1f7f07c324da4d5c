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
            assertThat(redirect.headers().firstValue("location")).contains(edge.uri("/thumbs/ab/").toString());

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

    /**
     * nginx's alias in a regex location, {@code location ~ ^/users/(.+\\.png)$ { alias /data/images/$1; }}: the file is
     * what the captures make of the alias, held below its directory (the part before the first capture) with the
     * site's rules: a capture of ".." that nginx follows out of it names nothing, a dotfile or a link out of it is
     * refused. Directories redirect and take their index as a path's would; gzip.static looks for the file's .gz; two
     * captures are two files (the caches hold files, not the location).
     */
    @Test
    void aRegexLocationsAliasIsWhatItsCapturesMakeBelowItsDirectory() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path images = Files.createDirectories(dir.resolve("srv/images"));
        Files.createDirectories(images.resolve("sub"));
        Files.writeString(images.resolve("a.png"), "png a");
        Files.write(images.resolve("a.png.gz"), new byte[] {31, -117, 8, 0});
        Files.writeString(images.resolve("sub/b.png"), "png b");
        Files.writeString(images.resolve("sub/index.html"), "index of sub");
        Files.writeString(images.resolve(".hidden.png"), "hidden");
        Files.writeString(dir.resolve("srv/secret.png"), "secret beside the directory");
        Files.createSymbolicLink(images.resolve("link.png"), dir.resolve("srv/secret.png"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "~ ^/users/(.+\\\\.(?:gif|jpe?g|png))$", alias = "srv/images/$1", gzip.static = true }
                  { match = "~ ^/all/(?<path>.*)$", alias = "srv/images/${path}" }
                  { match = "~ ^/u/(\\\\.\\\\.)x$", alias = "srv/images/$1/secret.png" }
                ] }]
                """)) {
            HttpResponse<byte[]> a = get(edge, "/users/a.png");
            assertThat(a.statusCode()).isEqualTo(200);
            assertThat(new String(a.body())).isEqualTo("png a");
            assertThat(a.headers().firstValue("content-type")).contains("image/png");
            for (int round = 0; round < 2; round++) { // the second round from the caches: by file, not by location
                assertThat(new String(get(edge, "/users/sub/b.png").body())).as("a capture with a /")
                        .isEqualTo("png b");
                assertThat(new String(get(edge, "/users/a.png").body())).isEqualTo("png a");
                assertThat(new String(get(edge, "/all/sub/b.png").body())).isEqualTo("png b");
            }
            assertThat(new String(get(edge, "/users/sub%2Fb.png").body())).as("%2F decoded, as nginx's")
                    .isEqualTo("png b");
            assertThat(get(edge, "/users/missing.png").statusCode()).isEqualTo(404);
            assertThat(get(edge, "/users/a.txt").statusCode()).as("not the regex's: the site's root").isEqualTo(404);

            assertThat(get(edge, "/u/..x").statusCode()).as("a capture of \"..\" out of the directory (nginx sends"
                    + " the file beside it)").isEqualTo(404);
            assertThat(get(edge, "/users/.hidden.png").statusCode()).as("a dotfile through a capture (the site's"
                    + " dotfiles = deny)").isEqualTo(403);
            assertThat(get(edge, "/users/link.png").statusCode()).as("a link out of the directory (symlinks ="
                    + " within-root)").isEqualTo(403);

            HttpResponse<byte[]> redirect = get(edge, "/all/sub");
            assertThat(redirect.statusCode()).as("a directory named without its slash").isEqualTo(301);
            assertThat(redirect.headers().firstValue("location")).contains(edge.uri("/all/sub/").toString());
            assertThat(new String(get(edge, "/all/sub/").body())).as("its index, the path's own")
                    .isEqualTo("index of sub");
            assertThat(get(edge, "/all/").statusCode()).as("an empty capture: the directory, no index").isEqualTo(403);

            // the regex does not match /users/a.png.gz: nginx's gzip_static looks for the file's name and .gz
            HttpResponse<byte[]> gzipped = get(edge, "/users/a.png", "Accept-Encoding", "gzip");
            assertThat(gzipped.headers().firstValue("content-encoding")).as("the file's .gz").contains("gzip");
            assertThat(gzipped.body()).containsExactly(31, -117, 8, 0);
            assertThat(new String(get(edge, "/users/a.png").body())).isEqualTo("png a");
        }
    }

    /** A script's X-Accel-Redirect into an internal regex location with an alias: the file its captures make. */
    @Test
    void anXAccelRedirectIntoARegexAliasLocationNamesTheFileItsCapturesMake() throws Exception {
        Path vault = Files.createDirectories(dir.resolve("vault/reports"));
        Files.writeString(vault.resolve("2026.pdf"), "the report");
        Files.writeString(dir.resolve("vault/secret.pdf"), "beside");
        try (PhpFpm fpm = redirectingScript();
             EdgeHarness edge = withScript(fpm, """
                     { match = "~ ^/private/([0-9]+)$", alias = "%s/$1.pdf", internal = true }
                     { match = "~ ^/odd/(\\\\.\\\\.)x$", alias = "%s/$1/secret.pdf", internal = true }
                     """.formatted(vault, vault))) {
            HttpResponse<byte[]> report = get(edge, "/download.php?to=/private/2026");
            assertThat(report.statusCode()).isEqualTo(200);
            assertThat(new String(report.body())).isEqualTo("the report");
            assertThat(get(edge, "/private/2026").statusCode()).as("internal").isEqualTo(404);
            assertThat(get(edge, "/download.php?to=/private/2025").statusCode()).isEqualTo(404);
            assertThat(get(edge, "/download.php?to=/odd/..x").statusCode()).as("a capture of \"..\" out of the"
                    + " directory").isEqualTo(404);
        }
    }

    /**
     * A script's X-Accel-Redirect into a slash-less prefix location whose alias, not there at the start, is made a file
     * (a link to one outside its parent): the file below its parent, as a client's own request there finds it (the
     * static path), so the link is judged against the parent (symlinks = within-root: 403) and {@code /dlx} names the
     * file beside it, as nginx's alias text does. The redirect judged the link against the file itself, the root
     * the alias was expected to be, which any link is inside: the file outside was sent, and /dlx was 404. So with
     * such a link there at the start (/at).
     */
    @Test
    void anXAccelRedirectIntoAnAliasFoundToBeAFileNamesItBelowItsParent() throws Exception {
        Path vault = Files.createDirectories(dir.resolve("vault"));
        Files.writeString(dir.resolve("outside.pdf"), "outside");
        Files.createSymbolicLink(vault.resolve("at"), Path.of("../outside.pdf"));
        Files.writeString(vault.resolve("atx"), "beside at");
        try (PhpFpm fpm = redirectingScript();
             EdgeHarness edge = withScript(fpm, """
                     { match = "/dl", alias = "%s/dl", internal = true }
                     { match = "/at", alias = "%s/at", internal = true }
                     """.formatted(vault, vault))) {
            assertThat(said(get(edge, "/download.php?to=/at")) + " | " + said(get(edge, "/download.php?to=/atx")))
                    .isEqualTo("403 | 200 beside at");
            assertThat(get(edge, "/download.php?to=/dl").statusCode()).as("not there yet").isEqualTo(404);
            Files.writeString(vault.resolve("dlx"), "beside");
            Files.createSymbolicLink(vault.resolve("dl"), Path.of("../outside.pdf"));
            // the alias's root is looked at again every second: until then it is no file, nor /dlx beside it
            String seen = Awaits.until(() -> said(get(edge, "/download.php?to=/dl")) + " | "
                    + said(get(edge, "/download.php?to=/dlx")), s -> s.contains("200"), "the alias seen a file");
            assertThat(seen).as("the link out of the alias's parent, and the file beside it")
                    .isEqualTo("403 | 200 beside");
        }
    }

    /** www/download.php, which answers with an X-Accel-Redirect to its argument "to", and a php-fpm to run it. */
    private PhpFpm redirectingScript() throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("www")).resolve("download.php"), """
                <?php
                header('X-Accel-Redirect: ' . $_GET['to']);
                """);
        return PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
    }

    /** edge serving www, its scripts run by {@code fpm}, with {@code locations} after its PHP location. */
    private EdgeHarness withScript(PhpFpm fpm, String locations) throws Exception {
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "~ \\\\.php$", fastcgi = php }
                %s] }]
                fastcgi.backends.php { addresses = ["%s"] }
                """.formatted(locations, fpm.address()));
    }

    /** A response's status and, for a 200, its body. */
    private static String said(HttpResponse<byte[]> response) {
        return response.statusCode() == 200 ? "200 " + new String(response.body()) : "" + response.statusCode();
    }

    private static HttpResponse<byte[]> get(EdgeHarness edge, String target, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(target));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
