package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * X-Accel-Redirect is followed without any x-sendfile directories, as nginx always follows it: the classic protected
 * download (a script checks access, then names a file of an internal location with a root of its own) gave the client
 * an empty 200 and the internal path. The file is taken from the site's document roots only; X-Sendfile, an absolute
 * path, still needs directories named for it, and passes untouched without.
 */
class XAccelRedirectIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    /** php-fpm for the scripts of {@code www}, two workers. */
    private PhpFpm twoWorkers() throws IOException {
        return PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
    }

    /** edge in front of {@code fpm}: the scripts of {@code www}, its {@code /protected/} internal (their files). */
    private EdgeHarness protectedDownloads(PhpFpm fpm) throws Exception {
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "~ \\\\.php$", fastcgi = php }
                  { match = "^~ /protected/", internal = true }
                ] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    /**
     * Writes {@code www/protected/file.txt} holding {@code file}, and {@code www/dl.php}, which hands it out by
     * X-Accel-Redirect, then runs the PHP statements {@code more}.
     */
    private void handsOut(String file, String more) throws IOException {
        Path www = Files.createDirectories(dir.resolve("www/protected")).getParent();
        Files.writeString(www.resolve("protected/file.txt"), file);
        Files.writeString(www.resolve("dl.php"), "<?php\nheader('X-Accel-Redirect: /protected/file.txt');\n" + more);
    }

    @Test
    void aProtectedDownloadWorksWithoutXSendfileDirectories() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path vault = Files.createDirectories(dir.resolve("vault/protected")); // root "vault" + the URI, as nginx
        Files.writeString(vault.resolve("report.pdf"), "%PDF only for members");
        Files.writeString(vault.resolve(".secret"), "never");
        Files.writeString(www.resolve("download.php"), """
                <?php
                if (($_GET['member'] ?? '') !== 'yes') { http_response_code(403); echo 'members only'; exit; }
                header('Content-Type: application/pdf');
                header('X-Accel-Redirect: /protected/' . $_GET['f']);""");
        Files.writeString(www.resolve("sendfile.php"), "<?php header('X-Sendfile: " + vault.resolve("report.pdf")
                + "'); echo 'script body';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /protected/", root = "vault", internal = true }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> report = get(edge, "/download.php?member=yes&f=report.pdf");
            assertThat(report.statusCode()).isEqualTo(200);
            assertThat(report.body()).isEqualTo("%PDF only for members");
            assertThat(report.headers().firstValue("content-type")).contains("application/pdf");
            assertThat(report.headers().firstValue("x-accel-redirect")).as("the internal path stays inside").isEmpty();
            assertThat(get(edge, "/download.php?member=no&f=report.pdf").statusCode()).isEqualTo(403);
            assertThat(get(edge, "/protected/report.pdf").statusCode()).as("internal: not for clients").isEqualTo(404);
            assertThat(get(edge, "/download.php?member=yes&f=.secret").statusCode()).as("dotfiles = deny holds")
                    .isEqualTo(403);
            assertThat(get(edge, "/download.php?member=yes&f=missing.pdf").statusCode()).isEqualTo(404);

            HttpResponse<String> sendfile = get(edge, "/sendfile.php");
            assertThat(sendfile.body()).as("X-Sendfile without directories: not acted on").isEqualTo("script body");
        }
    }

    /**
     * The usual download script puts the client's file name after {@code /protected/}, trusting, as it may behind
     * nginx, that a URI with a {@code ..} segment is refused (nginx's "unsafe URI", 404), also once decoded: edge
     * normalized it instead and sent any file a location serves, another internal location's too.
     */
    @Test
    void aUriWithADotDotSegmentIsRefusedAsNginxRefusesIt() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("protected"));
        Files.writeString(www.resolve("protected/file.txt"), "for members");
        Files.createDirectories(www.resolve("secret"));
        Files.writeString(www.resolve("secret/key.txt"), "TOPSECRET");
        Files.writeString(www.resolve("index.html"), "home");
        Files.writeString(www.resolve("dl.php"), "<?php header('X-Accel-Redirect: /protected/' . $_GET['f']);");
        Files.writeString(www.resolve("to.php"), "<?php header('X-Accel-Redirect: ' . $_GET['u']);");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /protected/", internal = true }
                       { match = "^~ /secret/", internal = true }
                       { match = "/" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()));
             CapturedLog log = CapturedLog.of("io.edge.core.fastcgi.FastCgiResponder")) {
            assertThat(get(edge, "/dl.php?f=file.txt").body()).isEqualTo("for members");
            // PHP decodes the query once: the header carries "..", "%2e%2e" and "..%2f" respectively
            for (String f : new String[] {"../secret/key.txt", "%252e%252e/secret/key.txt", "..%252fsecret/key.txt",
                    "..", "../index.html"}) {
                HttpResponse<String> refused = get(edge, "/dl.php?f=" + f);
                assertThat(refused.statusCode()).as(f).isEqualTo(404);
                assertThat(refused.body()).as(f).doesNotContain("TOPSECRET").doesNotContain("home");
            }
            HttpResponse<String> relative = get(edge, "/to.php?u=protected/file.txt");
            assertThat(relative.statusCode()).as("no path from the root").isEqualTo(404);
            assertThat(relative.body()).doesNotContain("for members");
            assertThat(get(edge, "/to.php?u=/protected/./file.txt").body()).as("\".\" is no escape")
                    .isEqualTo("for members");
            assertThat(log.events()).extracting(e -> e.getFormattedMessage())
                    .anyMatch(line -> line.contains("/protected/../secret/key.txt: an unsafe URI"));
        }
    }

    /**
     * Held to the root of the location its URI routes to, as a request there is: another PHP location's script went
     * out as its source (wp-config.php, passwords and all), and a link a client's request got 403 for went out where
     * another location's root, a parent directory, held its target.
     */
    @Test
    void aFileIsHeldToTheRootItsUriRoutesToAndNoScriptGoesOut(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path app = Files.createDirectories(own.resolve("approot/app"));
        Path other = Files.createDirectories(own.resolve("other"));
        Files.writeString(www.resolve("wp-config.php"), "<?php define('DB_PASSWORD', 'SECRET');");
        Files.writeString(other.resolve("secret.txt"), "another site's secret");
        Files.createDirectories(www.resolve("files"));
        Files.createSymbolicLink(www.resolve("files/link.txt"), other.resolve("secret.txt"));
        Files.writeString(www.resolve("files/plain.txt"), "plain");
        Files.writeString(app.resolve("dl.php"), "<?php header('X-Accel-Redirect: ' . $_GET['f']);");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /app/", fastcgi = php, root = "approot" }
                       { match = "^~ /shared/", root = "." }
                       { match = "^~ /files/" }
                       { match = "/" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "/app/dl.php?f=/files/plain.txt").body()).isEqualTo("plain");
            for (String script : new String[] {"/wp-config.php", "/wp-config.php/", "/WP-CONFIG.PHP"}) {
                HttpResponse<String> refused = get(edge, "/app/dl.php?f=" + script);
                assertThat(refused.statusCode()).as(script + ": a PHP location's URI (404), or a script (403)")
                        .isIn(403, 404);
                assertThat(refused.body()).as(script).doesNotContain("SECRET");
            }
            assertThat(get(edge, "/files/link.txt").statusCode()).as("a client's own request").isEqualTo(403);
            HttpResponse<String> link = get(edge, "/app/dl.php?f=/files/link.txt");
            assertThat(link.statusCode()).isEqualTo(403);
            assertThat(link.body()).doesNotContain("secret");

            // a URI no location serves files at (a PHP location without a front controller): 404, as a client's own
            // request there gets, not the file (nginx would run it)
            Files.writeString(app.resolve("parameters.yml"), "secret: 1");
            assertThat(get(edge, "/app/parameters.yml").statusCode()).as("a client's own request").isEqualTo(404);
            assertThat(get(edge, "/app/dl.php?f=/app/parameters.yml").statusCode()).isEqualTo(404);
            assertThat(get(edge, "/app/dl.php?f=/files/../app/parameters.yml").statusCode()).isEqualTo(404);
            // a .php segment past a line terminator, in a location of files (^~): the PHP location's regex, had it the
            // path, would take it as a script too, so it never goes as a file
            Path newline = Files.createDirectories(www.resolve("files/nl\n"));
            Files.writeString(newline.resolve("s.php"), "<?php echo 'SOURCE';");
            Files.writeString(www.resolve("files/t.php\n"), "<?php echo 'SOURCE';");
            try (CapturedLog log = CapturedLog.of("io.edge.core.fastcgi.FastCgiResponder")) {
                // the header names them percent-encoded ("/files/nl%0A/s.php"), which edge decodes as nginx does
                for (String name : new String[] {"/files/nl%250A/s.php", "/files/t.php%250A", "/files/nl%250A/s.PHP"}) {
                    HttpResponse<String> script = get(edge, "/app/dl.php?f=" + name);
                    assertThat(script.statusCode()).as(name).isEqualTo(403);
                    assertThat(script.body()).as(name).doesNotContain("SOURCE");
                }
                assertThat(log.events()).extracting(e -> e.getFormattedMessage())
                        .as("a name's line feed never starts a line of its own").noneMatch(line -> line.contains("\n"));
            }
        }
    }

    /**
     * With x-sendfile directories that hold a document root, no .php file below any document root of the site goes,
     * whichever location runs it: another PHP location's script went out as its source there (before this session too).
     */
    @Test
    void noScriptOfTheSiteGoesOutOfConfiguredDirectories(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path app = Files.createDirectories(own.resolve("approot/app"));
        Files.writeString(www.resolve("wp-config.php"), "<?php define('DB_PASSWORD', 'SECRET');");
        Files.writeString(www.resolve("readme.txt"), "readme");
        Files.writeString(app.resolve("dl.php"), """
                <?php
                if (isset($_GET['s'])) { header('X-Sendfile: ' . $_GET['s']); } else { header('X-Accel-Redirect: ' . $_GET['f']); }""");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /app/", fastcgi = php, root = "approot", x-sendfile = ["."] }
                       { match = "/" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "/app/dl.php?f=/readme.txt").body()).isEqualTo("readme");
            assertThat(get(edge, "/app/dl.php?f=/wp-config.php").statusCode()).isEqualTo(403);
            HttpResponse<String> sendfile = get(edge, "/app/dl.php?s=" + www.resolve("wp-config.php"));
            assertThat(sendfile.statusCode()).isEqualTo(403);
            assertThat(sendfile.body()).doesNotContain("SECRET");
        }
    }

    /**
     * nginx follows a script's X-Accel-Redirect as a GET (a HEAD stays one), as a proxied backend's: the internal
     * location's $request_method was the script's POST.
     */
    @Test
    void aPostsRedirectIsAGet() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("protected"));
        Files.writeString(www.resolve("protected/file.txt"), "for members");
        Files.writeString(www.resolve("dl.php"), "<?php header('X-Accel-Redirect: /protected/file.txt');");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /protected/", internal = true, headers { X-Method = "$request_method" } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            for (String method : new String[] {"POST", "GET", "HEAD"}) {
                HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php")).method(method,
                        method.equals("POST") ? HttpRequest.BodyPublishers.ofString("a=1")
                                : HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as(method).isEqualTo(200);
                assertThat(answer.body()).as(method).isEqualTo(method.equals("HEAD") ? "" : "for members");
                assertThat(answer.headers().firstValue("X-Method")).as(method)
                        .hasValue(method.equals("HEAD") ? "HEAD" : "GET");
            }
        }
    }

    /**
     * A 304 or 416 of a file a script hands out carries the headers the script's 200 carries, as nginx's do: the 304
     * stands for that 200 (its Cache-Control and Expires, RFC 9110 15.4.5), and the session cookie the script set was
     * lost when the client revalidated. Edge's 304 had the validators alone, its 416 the Content-Range. Those are
     * nginx's fields alone: the script's Vary and Content-Language went to the 200 too, which nginx drops.
     */
    @Test
    void a304Or416OfTheFileCarriesTheScriptsHeaders() throws Exception {
        handsOut("for members", """
                header('Cache-Control: public, max-age=60');
                header('Expires: Thu, 01 Jan 2037 00:00:00 GMT');
                header('Vary: Cookie');
                header('Content-Language: de');
                header('Content-Disposition: attachment; filename="file.txt"');
                setcookie('sid', 'abc');""");
        try (PhpFpm fpm = twoWorkers(); EdgeHarness edge = protectedDownloads(fpm)) {
            HttpResponse<String> whole = get(edge, "/dl.php");
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.body()).isEqualTo("for members");
            // nginx's fields alone (ngx_http_upstream_headers_in's with redirect set): neither Vary nor
            // Content-Language, as a proxied backend's redirect
            assertThat(whole.headers().map().keySet()).map(String::toLowerCase)
                    .doesNotContain("vary", "content-language");
            String etag = whole.headers().firstValue("etag").orElseThrow();
            String lastModified = whole.headers().firstValue("last-modified").orElseThrow();
            for (String[] ask : new String[][] {{"If-None-Match", etag}, {"If-Modified-Since", lastModified},
                    {"Range", "bytes=100-"}}) {
                HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php"))
                        .header(ask[0], ask[1]).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as(ask[0]).isEqualTo(ask[0].equals("Range") ? 416 : 304);
                for (String name : new String[] {"cache-control", "expires", "vary", "content-disposition",
                        "set-cookie"}) {
                    assertThat(answer.headers().allValues(name)).as(ask[0] + ": " + name)
                            .isEqualTo(whole.headers().allValues(name));
                }
                assertThat(answer.headers().firstValue("set-cookie")).as(ask[0]).hasValueSatisfying(
                        cookie -> assertThat(cookie).startsWith("sid=abc"));
            }
        }
    }

    /**
     * A Range of a script's X-Accel-Redirect file is a 206 with the file's head: its one Content-Range and the part's
     * Content-Length, none of the script's own (a Content-Length, a Content-Range, an ETag it sent for its own body),
     * and no Accept-Ranges, the script's ("none") or another, as no 206 of edge's says one; the whole 200 says the
     * file's "bytes" alone. nginx 1.22 sends the script's Accept-Ranges on both (measured beside php-fpm 8.2, script
     * sending Accept-Ranges, Content-Length 5, Content-Range bytes 0-4/5: its 206 "Accept-Ranges: none" or "bytes", its
     * 200 the script's then its own "bytes", two fields), which contradicts its own 206: edge does not. Pins what
     * edge already did (the script's Accept-Ranges was never kept for its file).
     */
    @Test
    void aRangeOfTheFileHasTheFilesHeadAlone() throws Exception {
        handsOut("0123456789abcdef", """
                header('Accept-Ranges: ' . $_GET['ar']);
                header('Content-Length: 5');
                header('Content-Range: bytes 0-4/5');
                header('ETag: "script"');
                echo 'abcde';""");
        try (PhpFpm fpm = twoWorkers(); EdgeHarness edge = protectedDownloads(fpm)) {
            for (String ar : new String[] {"none", "bytes"}) {
                HttpResponse<String> part = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php?ar=" + ar))
                        .header("Range", "bytes=2-5").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(part.statusCode()).as(ar).isEqualTo(206);
                assertThat(part.body()).as(ar).isEqualTo("2345");
                assertThat(part.headers().allValues("content-range")).as(ar).containsExactly("bytes 2-5/16");
                assertThat(part.headers().allValues("content-length")).as(ar).containsExactly("4");
                assertThat(part.headers().allValues("etag")).as(ar).doesNotContain("\"script\"").hasSize(1);
                assertThat(part.headers().firstValue("accept-ranges")).as(ar).isEmpty();
                HttpResponse<String> parts = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php?ar=" + ar))
                        .header("Range", "bytes=0-0,2-2").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(parts.statusCode()).as(ar).isEqualTo(206);
                assertThat(parts.headers().firstValue("accept-ranges")).as(ar).isEmpty();
                HttpResponse<String> whole = get(edge, "/dl.php?ar=" + ar);
                assertThat(whole.statusCode()).as(ar).isEqualTo(200);
                assertThat(whole.body()).as(ar).isEqualTo("0123456789abcdef");
                assertThat(whole.headers().allValues("content-length")).as(ar).containsExactly("16");
                assertThat(whole.headers().allValues("content-range")).as(ar).isEmpty();
                assertThat(whole.headers().allValues("accept-ranges")).as(ar).containsExactly("bytes");
            }
        }
    }

    /**
     * An error answered on the way to a script's X-Accel-Redirect file (the file missing, an unsafe URI, a URI no
     * location serves, a directory without an index) keeps the script's fields nginx copies before it looks for the
     * file, as nginx 1.22's (measured): Set-Cookie, Cache-Control, Expires and Content-Disposition, not Accept-Ranges
     * (its error page clears it), nor the fields it never copies (Vary, Content-Language, the script's own), its type
     * the page's. Edge's 404 and 403 had none of them, and the session cookie the script set was lost.
     */
    @Test
    void anErrorOnTheWayToTheFileKeepsTheScriptsFields() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("protected/empty"));
        Files.writeString(www.resolve("dl.php"), """
                <?php
                header('Set-Cookie: sid=abc');
                header('Cache-Control: private, max-age=5');
                header('Expires: Thu, 01 Jan 2037 00:00:00 GMT');
                header('Content-Disposition: attachment; filename="x.txt"');
                header('Accept-Ranges: bytes');
                header('Vary: X-Foo');
                header('Content-Language: fr');
                header('X-Custom: c');
                header('Content-Type: text/x-mine');
                header('X-Accel-Redirect: ' . $_GET['to']);
                echo 'the script body';""");
        try (PhpFpm fpm = twoWorkers(); EdgeHarness edge = protectedDownloads(fpm)) {
            String[][] cases = {{"/protected/missing.txt", "404"}, {"/protected/%2e%2e/dl.php", "404"},
                    {"/elsewhere/x.txt", "404"}, {"/protected/empty/", "403"}};
            for (String[] way : cases) {
                HttpResponse<String> error = get(edge, "/dl.php?to=" + URLEncoder.encode(way[0], StandardCharsets.UTF_8));
                assertThat(error.statusCode()).as(way[0]).isEqualTo(Integer.parseInt(way[1]));
                assertThat(error.body()).as(way[0]).doesNotContain("the script body");
                assertThat(error.headers().allValues("set-cookie")).as(way[0]).containsExactly("sid=abc");
                assertThat(error.headers().allValues("cache-control")).as(way[0]).containsExactly("private, max-age=5");
                assertThat(error.headers().allValues("expires")).as(way[0])
                        .containsExactly("Thu, 01 Jan 2037 00:00:00 GMT");
                assertThat(error.headers().allValues("content-disposition")).as(way[0])
                        .containsExactly("attachment; filename=\"x.txt\"");
                assertThat(error.headers().firstValue("content-type")).as(way[0])
                        .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
                assertThat(error.headers().map().keySet()).as(way[0]).map(String::toLowerCase)
                        .doesNotContain("accept-ranges", "vary", "content-language", "x-custom", "x-accel-redirect");
            }
        }
    }

    /**
     * nginx's X-Accel-Redirect is an internal redirect: what refuses or fails the request where its URI leads (the
     * location's access rules' 403, its auth-basic's 401, a missing file's 404, a link out of its root's 403) is that
     * location's answer, with its always-headers, and where no location takes the URI, the server's (location-defaults'
     * here), as nginx 1.22 answers. The refusals, and the 404 where no location takes the URI, carried the script
     * location's.
     */
    @Test
    void aRefusalWhereTheUriLeadsCarriesTheAlwaysHeadersOfItsLocation() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        for (String location : new String[] {"protected", "locked", "files"}) {
            Files.writeString(Files.createDirectories(www.resolve(location)).resolve("f.txt"), "for members");
        }
        Files.writeString(dir.resolve("outside.txt"), "outside the root");
        Files.createSymbolicLink(www.resolve("files/link.txt"), dir.resolve("outside.txt"));
        Files.writeString(dir.resolve("htpasswd"), "alice:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n"); // secret
        Files.writeString(www.resolve("to.php"), "<?php header('X-Accel-Redirect: ' . $_GET['u']);");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     location-defaults { always-headers { X-Where = server } }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, always-headers { X-Where = script } }
                       { match = "^~ /protected/", internal = true, access = ["deny all"]
                         always-headers { X-Where = protected } }
                       { match = "^~ /locked/", internal = true, auth-basic { realm = "Locked", user-file = "htpasswd" }
                         always-headers { X-Where = locked } }
                       { match = "^~ /files/", internal = true, always-headers { X-Where = files } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertWhere(get(edge, "/to.php?u=/protected/f.txt"), 403, "protected");
            assertWhere(get(edge, "/to.php?u=/locked/f.txt"), 401, "locked");
            assertWhere(get(edge, "/to.php?u=/files/missing.txt"), 404, "files");
            assertWhere(get(edge, "/to.php?u=/files/link.txt"), 403, "files");
            assertWhere(get(edge, "/to.php?u=/nowhere/f.txt"), 404, "server");
            assertWhere(get(edge, "/to.php?u=/files/f.txt"), 200, "files");
        }
    }

    /**
     * A name that ends in "/" (or "/.") names a directory, and a file there is 404: a client's own request for
     * /files/file.jpg/ is, and nginx answers its X-Accel-Redirect so (its internal redirect to the URI finds no
     * directory: ENOTDIR; measured with nginx 1.22), where edge sent the file. An X-Sendfile path the same way, as
     * open(2) finds it. A directory named so is still never sent (403), and the file by its own name still goes.
     */
    @Test
    void aFileNamedAsADirectoryIs404AsAClientsOwnRequestIs(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        for (String location : new String[] {"protected", "files"}) {
            Files.writeString(Files.createDirectories(www.resolve(location)).resolve("file.jpg"), "JPEG");
        }
        Files.createDirectories(www.resolve("protected/sub"));
        Files.writeString(www.resolve("to.php"), "<?php header('X-Accel-Redirect: ' . $_GET['u']);");
        Files.writeString(Files.createDirectories(www.resolve("sf")).resolve("sf.php"),
                "<?php header('X-Sendfile: ' . $_GET['s']);");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /sf/", fastcgi = php, x-sendfile = ["www/protected"] }
                       { match = "^~ /protected/", internal = true }
                       { match = "/" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "/files/file.jpg/").statusCode()).as("a client's own request").isEqualTo(404);
            for (String uri : new String[] {"/protected/file.jpg/", "/protected/file.jpg/.", "/protected//file.jpg/",
                    "/files/file.jpg/", "/protected/file.jpg/?x=1"}) {
                HttpResponse<String> named = get(edge, "/to.php?u=" + URLEncoder.encode(uri, StandardCharsets.UTF_8));
                assertThat(named.statusCode()).as(uri).isEqualTo(404);
                assertThat(named.body()).as(uri).doesNotContain("JPEG");
            }
            HttpResponse<String> sendfile = get(edge, "/sf/sf.php?s=" + www.resolve("protected/file.jpg") + "/");
            assertThat(sendfile.statusCode()).as("X-Sendfile").isEqualTo(404);
            assertThat(sendfile.body()).doesNotContain("JPEG");
            assertThat(get(edge, "/to.php?u=/protected/sub/").statusCode()).as("a directory").isEqualTo(403);
            assertThat(get(edge, "/to.php?u=/protected/file.jpg").body()).isEqualTo("JPEG");
            assertThat(get(edge, "/sf/sf.php?s=" + www.resolve("protected/file.jpg")).body()).isEqualTo("JPEG");
        }
    }

    /**
     * An X-Accel-Redirect to a directory named with its slash sends the directory's index file, as nginx's internal
     * redirect to such a URI goes through its index module, in an internal location too: it was always 403. Without
     * an index file it is still 403, as is an index.php (never its source) and an index file whose URI routes to
     * another location (a PHP one, which nginx would run it in); one named without its slash is redirected to it (below).
     */
    @Test
    void aDirectoryNamedWithItsSlashSendsItsIndexFile(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        for (String location : new String[] {"protected", "vault"}) {
            Files.writeString(Files.createDirectories(www.resolve(location + "/sub")).resolve("index.html"),
                    location + " index");
            Files.createDirectories(www.resolve(location + "/empty"));
            Files.writeString(Files.createDirectories(www.resolve(location + "/php")).resolve("index.php"),
                    "<?php echo 'ran'; // SOURCE");
        }
        Files.writeString(www.resolve("to.php"), "<?php header('X-Accel-Redirect: ' . $_GET['u']);");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", index = ["index.php", "index.html"],
                       locations = [
                         { match = "~ \\\\.php$", fastcgi = php }
                         { match = "^~ /protected/", internal = true }
                         { match = "/vault/", internal = true }
                         { match = "/" }
                       ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            for (String location : new String[] {"protected", "vault"}) {
                HttpResponse<String> index = get(edge, "/to.php?u=/" + location + "/sub/");
                assertThat(index.statusCode()).as(location).isEqualTo(200);
                assertThat(index.body()).isEqualTo(location + " index");
                assertThat(get(edge, "/" + location + "/sub/").statusCode()).as("internal: not for clients")
                        .isEqualTo(404);
                assertThat(get(edge, "/to.php?u=/" + location + "/sub").statusCode()).as("no slash: to it")
                        .isEqualTo(301);
                assertThat(get(edge, "/to.php?u=/" + location + "/empty/").statusCode()).as("no index")
                        .isEqualTo(403);
                HttpResponse<String> script = get(edge, "/to.php?u=/" + location + "/php/");
                assertThat(script.statusCode()).as(location + ": index.php").isEqualTo(403);
                assertThat(script.body()).doesNotContain("SOURCE").doesNotContain("ran");
            }
        }
    }

    /**
     * An X-Accel-Redirect to a directory named without its slash is answered as nginx 1.22 answers it (measured side by
     * side): its static module's 301 to the redirect's URI with its slash and the redirect's own query (not the
     * script's request's), percent-encoded, made a URL of the client's Host and edge's port, with the fields of the
     * script nginx keeps (Set-Cookie, Cache-Control) and its page's type, never the script's body. Edge answered 403,
     * as for a directory it would never send. A location that counts no directory (front-controller-directories = false) still hands it
     * to its named front controller, and a directory with its slash still gets its index file.
     */
    @Test
    void aDirectoryNamedWithoutItsSlashIsRedirectedToItsUriWithTheSlash(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(Files.createDirectories(www.resolve("protected/sub")).resolve("index.html"), "sub index");
        Files.createDirectories(www.resolve("protected/a b"));
        Files.createDirectories(www.resolve("app/sub"));
        Files.writeString(www.resolve("to.php"), """
                <?php
                header('Set-Cookie: sid=abc');
                header('Cache-Control: private, max-age=5');
                header('Content-Type: text/x-mine');
                header('X-Accel-Redirect: ' . $_GET['u']);
                echo 'the script body';""");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /protected/", internal = true }
                       { match = "^~ /app/", internal = true, front-controller = "@app",
                         front-controller-directories = false }
                       { match = "@app", return = "200 app" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            String base = edge.uri("").toString();
            String[][] cases = {{"/protected/sub", base + "/protected/sub/"},
                    {"/protected/sub?q=1&r=2", base + "/protected/sub/?q=1&r=2"},
                    {"/protected/a b", base + "/protected/a%20b/"}};
            for (String[] way : cases) {
                HttpResponse<String> moved = get(edge, "/to.php?x=script&u=" + URLEncoder.encode(way[0],
                        StandardCharsets.UTF_8));
                assertThat(moved.statusCode()).as(way[0]).isEqualTo(301);
                assertThat(moved.headers().firstValue("location")).as(way[0]).contains(way[1]);
                assertThat(moved.body()).as(way[0]).doesNotContain("the script body");
                assertThat(moved.headers().allValues("set-cookie")).as(way[0]).containsExactly("sid=abc");
                assertThat(moved.headers().allValues("cache-control")).as(way[0]).containsExactly("private, max-age=5");
                assertThat(moved.headers().firstValue("content-type")).as(way[0])
                        .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
            }
            HttpResponse<String> index = get(edge, "/to.php?u=/protected/sub/");
            assertThat(index.statusCode()).as("with its slash").isEqualTo(200);
            assertThat(index.body()).isEqualTo("sub index");
            HttpResponse<String> app = get(edge, "/to.php?u=/app/sub");
            assertThat(app.statusCode()).as("a location that counts no directory").isEqualTo(200);
            assertThat(app.body()).isEqualTo("app");
        }
    }

    /**
     * A directory named without its slash through a link is redirected only where the site's symlinks rule lets a
     * client's own request there through, as nginx 1.22's disable_symlinks refuses the internal redirect (measured side
     * by side): a link out of the root is 403 under within-root (edge's 301 told the client that the link, to /etc, is
     * a directory), any link 403 under deny (nginx's disable_symlinks on); a link to a directory in the root is still
     * redirected under within-root, and every link under allow (nginx's disable_symlinks off).
     */
    @Test
    void aDirectoryNamedWithoutItsSlashThroughALinkMeetsTheSymlinksRule(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path protectedDir = Files.createDirectories(www.resolve("protected"));
        Files.writeString(Files.createDirectories(protectedDir.resolve("sub")).resolve("index.html"), "sub index");
        Files.createSymbolicLink(protectedDir.resolve("outlink"), Files.createDirectories(own.resolve("outside")));
        Files.createSymbolicLink(protectedDir.resolve("inlink"), protectedDir.resolve("sub"));
        Files.writeString(www.resolve("to.php"), "<?php header('X-Accel-Redirect: ' . $_GET['u']);");
        for (String symlinks : new String[] {"within-root", "deny", "allow"}) {
            try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm-" + symlinks)),
                    "pm = static\npm.max_children = 2\n");
                 EdgeHarness edge = EdgeHarness.start(own, """
                         sites = [{ server-names = ["_"], default = true, root = "www", symlinks = %s, locations = [
                           { match = "~ \\\\.php$", fastcgi = php }
                           { match = "^~ /protected/", internal = true }
                         ] }]
                         fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                         """.formatted(symlinks, fpm.address()))) {
                assertThat(get(edge, "/to.php?u=/protected/sub").statusCode()).as(symlinks + ": no link")
                        .isEqualTo(301);
                assertThat(get(edge, "/to.php?u=/protected/outlink").statusCode())
                        .as(symlinks + ": a link out of the root")
                        .isEqualTo(symlinks.equals("allow") ? 301 : 403);
                assertThat(get(edge, "/to.php?u=/protected/inlink").statusCode()).as(symlinks + ": a link in the root")
                        .isEqualTo(symlinks.equals("deny") ? 403 : 301);
            }
        }
    }

    /**
     * A location's gzip.static sends the .gz beside a file a script hands out to a client that takes gzip, as nginx's
     * gzip_static answers the internal redirect to its URI (nginx 1.22: the .gz, with the script's type), held to the
     * same checks as the file: edge never looked for it, and sent the file as it is. A client that takes no gzip, and a
     * file without a .gz, get the file; a .gz that is a link out of the root is passed over for the file. A Range of
     * the .gz is answered with all of it, 200, as nginx 1.22's (its gzip_static handler, unlike its static one, lets
     * no range filter cut its answer); edge sent a 206 of the .gz's bytes.
     */
    @Test
    void gzipStaticSendsTheGzBesideAFileAScriptHandsOut(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Path protectedDir = Files.createDirectories(www.resolve("protected"));
        String css = "body { color: black }\n".repeat(100);
        byte[] gz = GzipIT.gzip("precompressed " + css);
        for (String name : new String[] {"a.css", "plain.css", "linked.css"}) {
            Files.writeString(protectedDir.resolve(name), css);
        }
        Files.write(protectedDir.resolve("a.css.gz"), gz);
        Files.write(own.resolve("outside.gz"), gz);
        Files.createSymbolicLink(protectedDir.resolve("linked.css.gz"), own.resolve("outside.gz"));
        Files.writeString(www.resolve("dl.php"), """
                <?php
                header('Content-Type: text/css');
                header('Content-Disposition: attachment; filename="style.css"');
                header('X-Accel-Redirect: /protected/' . $_GET['f']);""");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /protected/", internal = true, gzip { static = true, enabled = false } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<byte[]> compressed = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php?f=a.css"))
                    .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(compressed.statusCode()).isEqualTo(200);
            assertThat(compressed.body()).isEqualTo(gz);
            assertThat(compressed.headers().firstValue("content-encoding")).hasValue("gzip");
            assertThat(compressed.headers().firstValue("content-type")).hasValue("text/css;charset=UTF-8"); // PHP's
            assertThat(compressed.headers().firstValue("content-length")).hasValue(String.valueOf(gz.length));
            assertThat(compressed.headers().firstValue("content-disposition")).isPresent();
            HttpResponse<byte[]> range = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php?f=a.css"))
                    .header("Accept-Encoding", "gzip").header("Range", "bytes=0-9").build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(range.statusCode()).as("a range of the .gz").isEqualTo(200);
            assertThat(range.body()).as("a range of the .gz").isEqualTo(gz);
            assertThat(range.headers().firstValue("content-range")).isEmpty();
            for (String f : new String[] {"plain.css", "linked.css"}) {
                HttpResponse<byte[]> asItIs = HTTP.send(HttpRequest.newBuilder(edge.uri("/dl.php?f=" + f))
                        .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
                assertThat(asItIs.statusCode()).as(f).isEqualTo(200);
                assertThat(asItIs.headers().firstValue("content-encoding")).as(f).isEmpty();
                assertThat(new String(asItIs.body(), StandardCharsets.UTF_8)).as(f).isEqualTo(css);
            }
            HttpResponse<String> plain = get(edge, "/dl.php?f=a.css");
            assertThat(plain.headers().firstValue("content-encoding")).isEmpty();
            assertThat(plain.body()).isEqualTo(css);
        }
    }

    /**
     * {@code X-Accel-Redirect: @app} hands the request to the named location as nginx's does (nginx 1.22, measured):
     * with its method, URI and query as they came (not made a GET), the fields nginx keeps from the script's answer,
     * and 500 where the site has no such location. Edge answered 404 (no path from the root). The body, which went to
     * the script, goes again to the named location's script, as nginx sends the one it kept (1.22, measured: a POST's
     * "a=1", a chunked one's with its CONTENT_LENGTH, and one of 200 000 bytes its temporary file held); edge sent
     * none.
     */
    @Test
    void aRedirectToANamedLocationIsAnsweredThereAsNginxDoes(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(www.resolve("to.php"), """
                <?php
                header('Content-Disposition: attachment; filename="named.txt"');
                header('X-Accel-Redirect: ' . $_GET['u']);
                echo 'the script body';""");
        Files.writeString(www.resolve("app.php"), """
                <?php
                header('Content-Type: text/plain');
                echo 'app: ', $_SERVER['REQUEST_METHOD'], ' ', $_SERVER['REQUEST_URI'], ' ', $_SERVER['QUERY_STRING'];
                $body = file_get_contents('php://input');
                if ($body !== '') { echo ' ', $_SERVER['CONTENT_LENGTH'], ' ', strlen($body) > 10 ? md5($body) : $body; }""");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "@app", fastcgi = php, fastcgi-script = "/app.php", headers { X-Named = "$uri" } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            for (String method : new String[] {"GET", "POST", "HEAD"}) {
                HttpResponse<String> named = HTTP.send(HttpRequest.newBuilder(edge.uri("/to.php?u=@app&x=1"))
                        .method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("a=1")
                                : HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(named.statusCode()).as(method).isEqualTo(200);
                assertThat(named.body()).as(method).isEqualTo(method.equals("HEAD") ? ""
                        : "app: " + method + " /to.php?u=@app&x=1 u=@app&x=1" + (method.equals("POST") ? " 3 a=1" : ""));
                assertThat(named.headers().firstValue("content-type")).as(method).hasValue("text/plain;charset=UTF-8");
                assertThat(named.headers().firstValue("content-disposition")).as(method)
                        .hasValue("attachment; filename=\"named.txt\"");
                assertThat(named.headers().firstValue("x-named")).as(method).hasValue("/to.php");
            }
            HttpResponse<String> chunked = HTTP.send(HttpRequest.newBuilder(edge.uri("/to.php?u=@app"))
                    .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString("chunky")))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(chunked.body()).as("a chunked body").isEqualTo("app: POST /to.php?u=@app u=@app 6 chunky");
            String large = "x".repeat(200_000); // past client-body-buffer-size: held in the spool file
            HttpResponse<String> spooled = HTTP.send(HttpRequest.newBuilder(edge.uri("/to.php?u=@app"))
                    .POST(HttpRequest.BodyPublishers.ofString(large)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(spooled.body()).as("a body from its file").isEqualTo("app: POST /to.php?u=@app u=@app 200000 "
                    + md5Hex(large));
            try (CapturedLog log = CapturedLog.of("io.edge.core.http.ServerExchange")) {
                HttpResponse<String> missing = get(edge, "/to.php?u=@missing");
                assertThat(missing.statusCode()).isEqualTo(500);
                assertThat(missing.body()).doesNotContain("the script body");
                assertThat(log.events()).extracting(e -> e.getFormattedMessage())
                        .anyMatch(line -> line.contains("could not find named location @missing"));
            }
        }
    }

    /**
     * A request redirected twice (a script's {@code X-Accel-Redirect: @second}, whose script hands out a file) keeps
     * the fields of both redirects, as nginx's (1.22, measured: each redirect copies its backend's fields into the
     * request's, the later's type over the earlier's): the first script's session cookie, download name and
     * Cache-Control beside the second's cookie, the second's type. Edge kept the last redirect's alone, and the first
     * script's cookie was lost.
     */
    @Test
    void aSecondRedirectKeepsTheFieldsTheFirstCarried(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(Files.createDirectories(www.resolve("protected")).resolve("a.txt"), "the file\n");
        Files.writeString(www.resolve("first.php"), """
                <?php
                header('Content-Type: application/x-first');
                header('Content-Disposition: attachment; filename="first.txt"');
                header('Set-Cookie: first=1');
                header('Cache-Control: max-age=5');
                header('X-Accel-Redirect: @second');""");
        Files.writeString(www.resolve("second.php"), """
                <?php
                header('Content-Type: text/plain');
                header('Set-Cookie: second=2');
                header('X-Accel-Redirect: /protected/a.txt');""");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /protected/", internal = true }
                       { match = "@second", fastcgi = php, fastcgi-script = "/second.php" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> twice = get(edge, "/first.php");
            assertThat(twice.statusCode()).isEqualTo(200);
            assertThat(twice.body()).isEqualTo("the file\n");
            assertThat(twice.headers().allValues("set-cookie")).containsExactlyInAnyOrder("first=1", "second=2");
            assertThat(twice.headers().firstValue("content-disposition")).hasValue("attachment; filename=\"first.txt\"");
            assertThat(twice.headers().firstValue("cache-control")).hasValue("max-age=5");
            assertThat(twice.headers().allValues("content-type")).containsExactly("text/plain;charset=UTF-8");
        }
    }

    /**
     * A script's X-Accel-Redirect to a URI whose file is missing, where that location's front controller (nginx's
     * try_files $uri @app) or the site's error page ({@code error_page 404 = @app}) hands the request on to a PHP or
     * proxied location: nginx 1.22 sends the POST's body there again with the GET it became (measured: "app: GET CL=3
     * body=a=1", a proxy "GET" with Content-Length 3 and "a=1", a chunked one's too).
     */
    @Test
    void aRedirectToAMissingFileThatGoesOnSendsTheBodyThere(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.createDirectories(www.resolve("files"));
        Files.createDirectories(www.resolve("errs"));
        Files.writeString(www.resolve("to.php"), "<?php header('X-Accel-Redirect: ' . $_GET['u']);");
        Files.writeString(www.resolve("hop.php"), "<?php header('X-Accel-Redirect: /files/missing.txt');");
        Files.writeString(www.resolve("app.php"), """
                <?php
                header('Content-Type: text/plain');
                echo 'app: ', $_SERVER['REQUEST_METHOD'], ' ', $_SERVER['CONTENT_LENGTH'] ?? '-', ' ',
                        file_get_contents('php://input');""");
        java.util.List<String> proxied = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (JdkBackend backend = JdkBackend.start(exchange -> {
                byte[] body = exchange.getRequestBody().readAllBytes();
                proxied.add(exchange.getRequestMethod() + " " + exchange.getRequestHeaders().getFirst("Content-Length")
                        + " " + new String(body, StandardCharsets.UTF_8));
                exchange.sendResponseHeaders(200, 2);
                exchange.getResponseBody().write("ok".getBytes(StandardCharsets.UTF_8));
                exchange.close();
             });
             PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "@app" },
                       locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /files/", internal = true, front-controller = "@app" }
                       { match = "^~ /prox/", internal = true, front-controller = "@prox" }
                       { match = "^~ /errs/", internal = true }
                       { match = "@app", fastcgi = php, fastcgi-script = "/app.php" }
                       { match = "@hop", fastcgi = php, fastcgi-script = "/hop.php" }
                       { match = "@flaky", fastcgi = flaky, fastcgi-script = "/app.php" }
                       { match = "@prox", proxy = back }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     fastcgi.backends.flaky { addresses = ["unix:%s", "%s"], max-connections = 2 }
                     proxy.backends.back { addresses = ["%s"] }
                     """.formatted(fpm.address(), own.resolve("gone.sock"), fpm.address(), backend.address()))) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            // a URI no location of files serves, and an unsafe one (refused before it became a GET), are 404s too
            String[][] cases = {{"/files/missing.txt", "GET"}, {"/errs/missing.txt", "GET"}, {"/none/x.txt", "GET"},
                    {"/files/%2e%2e/x.txt", "POST"}};
            for (String[] way : cases) {
                HttpResponse<String> landed = client.send(HttpRequest.newBuilder(edge.uri("/to.php?u="
                                + URLEncoder.encode(way[0], StandardCharsets.UTF_8)))
                        .timeout(java.time.Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("a=1"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(landed.body()).as(way[0]).isEqualTo("app: " + way[1] + " 3 a=1");
            }
            HttpResponse<String> chunked = client.send(HttpRequest.newBuilder(edge.uri("/to.php?u=/files/missing.txt"))
                    .timeout(java.time.Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.fromPublisher(
                            HttpRequest.BodyPublishers.ofString("chunky"))).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(chunked.body()).as("a chunked body, announced by its length").isEqualTo("app: GET 6 chunky");
            // a chain of redirects (to @hop, whose script sends it on to the missing file), a body its spool file
            // holds; and a group whose first address is gone, the body sent again to the next
            String large = "x".repeat(200_000);
            for (String[] way : new String[][] {{"@hop", "GET"}, {"@flaky", "POST"}, {"@flaky", "POST"}}) {
                HttpResponse<String> spooled = client.send(HttpRequest.newBuilder(edge.uri("/to.php?u=" + way[0]))
                        .timeout(java.time.Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(large))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(spooled.body()).as(way[0]).isEqualTo("app: " + way[1] + " 200000 " + large);
            }
            HttpResponse<String> landed = client.send(HttpRequest.newBuilder(edge.uri("/to.php?u=/prox/missing.txt"))
                    .timeout(java.time.Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("a=1"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(landed.statusCode()).isEqualTo(200);
            assertThat(proxied).containsExactly("GET 3 a=1");
        }
    }

    /**
     * A script's X-Accel-Redirect to a file that is missing, whose 404 a named error page answers: that answer keeps
     * the script's fields nginx copied before it looked for the file (Set-Cookie, Cache-Control, Content-Disposition),
     * as nginx 1.22's (measured: error_page 404 = @app, PHP's 200 with them; error_page 404 @files, the file there
     * with them, its own type text/plain, not the script's application/pdf). Edge's named page had none of them.
     */
    @Test
    void aNamedErrorPageOnTheWayToTheFileKeepsTheScriptsFields(@TempDir Path own) throws Exception {
        Path www = Files.createDirectories(own.resolve("www"));
        Files.writeString(Files.createDirectories(own.resolve("other/files")).resolve("gone.txt"), "from other");
        Files.writeString(www.resolve("to.php"), """
                <?php
                header('Set-Cookie: sid=abc');
                header('Cache-Control: private');
                header('Content-Disposition: attachment; filename="x.pdf"');
                header('Content-Type: application/pdf');
                header('X-Accel-Redirect: ' . $_GET['u']);""");
        Files.writeString(www.resolve("app.php"), "<?php header('Content-Type: text/plain'); echo 'app';");
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(own.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(own, """
                     sites = [{ server-names = ["_"], default = true, root = "www", error-pages { 404 = "@files" },
                       locations = [
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "^~ /files/", internal = true }
                       { match = "^~ /app/", internal = true, front-controller = "@app" }
                       { match = "@files", root = "other", front-controller = "@app" }
                       { match = "@app", fastcgi = php, fastcgi-script = "/app.php" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> file = get(edge, "/to.php?u=/files/gone.txt");
            assertThat(file.statusCode()).isEqualTo(404);
            assertThat(file.body()).isEqualTo("from other");
            assertThat(file.headers().firstValue("content-type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/plain"));
            HttpResponse<String> app = get(edge, "/to.php?u=/files/missing.txt");
            assertThat(app.body()).isEqualTo("app");
            for (HttpResponse<String> answer : java.util.List.of(file, app)) {
                String what = answer.body();
                assertThat(answer.headers().allValues("set-cookie")).as(what).containsExactly("sid=abc");
                assertThat(answer.headers().allValues("cache-control")).as(what).containsExactly("private");
                assertThat(answer.headers().allValues("content-disposition")).as(what)
                        .containsExactly("attachment; filename=\"x.pdf\"");
            }
        }
    }

    private static String md5Hex(String text) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                .digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static void assertWhere(HttpResponse<String> answer, int status, String where) {
        String what = answer.request().uri().getQuery();
        assertThat(answer.statusCode()).as(what).isEqualTo(status);
        assertThat(answer.headers().allValues("x-where")).as(what).containsExactly(where);
    }

    private static HttpResponse<String> get(EdgeHarness edge, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
