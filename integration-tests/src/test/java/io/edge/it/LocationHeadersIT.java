package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code headers} (nginx's add_header) in front of a real php-fpm and the response cache: on files,
 * scripts' answers fresh and cached, redirects and 304s, once each; never on errors.
 */
class LocationHeadersIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path www = PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        Files.createDirectories(www.resolve("files"));
        Files.writeString(www.resolve("files/plain.txt"), "plain\n");
        Files.createDirectories(www.resolve("files/bare"));
        Files.writeString(www.resolve("files/bare/plain.txt"), "bare\n");
        Files.writeString(Files.createDirectories(dir.resolve("private/protected")).resolve("kept.txt"), "kept\n");
        // A shareable answer whose head goes out before its body is over: streamed, not held whole.
        Files.writeString(www.resolve("streamed.php"), """
                <?php
                header('Cache-Control: public, max-age=60');
                header('Content-Type: text/plain');
                echo uniqid('', true), ' ', str_repeat('a', 100000);
                while (ob_get_level() > 0) { ob_end_flush(); }
                flush();
                usleep(200000);
                echo ' end';
                """);
        Files.writeString(www.resolve("accel-to.php"), """
                <?php
                header('Cache-Control: private');
                header('X-Accel-Redirect: ' . $_GET['u']);
                """);
        Files.copy(www.resolve("accel-to.php"), Files.createDirectories(www.resolve("open")).resolve("accel-to.php"));
        Files.writeString(www.resolve("open/report.txt"), "a report\n");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 4\n");
        edge = EdgeHarness.start(dir, """
                location-defaults.headers { X-Content-Type-Options = nosniff }
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/", fastcgi = php, cache = true, x-sendfile = ["www/files", "private"]
                      headers { X-Frame-Options = SAMEORIGIN } }
                    { match = "^~ /files/", expires = 1 h, headers { "Access-Control-Allow-Origin" = "*" } }
                    { match = "^~ /files/bare/", headers { Last-Modified = "", ETag = "\\"edge\\"", X-Empty = "" } }
                    { match = "^~ /protected/", root = "private", headers { X-Protected = yes } }
                    { match = "^~ /open/", fastcgi = php, x-sendfile = ["www"] }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 4 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    /**
     * nginx's X-Accel-Redirect is an internal redirect: the URI is mapped under the root of the location it routes to
     * (here one of its own, outside the site's root, as an nginx {@code location /protected/ { internal; root ...; }}),
     * not under the script's.
     */
    @Test
    void anXAccelRedirectURIIsMappedUnderTheRootOfTheLocationItRoutesTo() throws Exception {
        HttpResponse<String> accel = get("/accel-to.php?u=/protected/kept.txt");
        assertThat(accel.statusCode()).isEqualTo(200);
        assertThat(accel.body()).isEqualTo("kept\n");
        assertThat(accel.headers().allValues("x-protected")).containsExactly("yes");
        HttpResponse<String> dotDot = get("/accel-to.php?u=/protected/../files/plain.txt");
        assertThat(dotDot.statusCode()).as("a \"..\" segment: unsafe, as nginx has it").isEqualTo(404);
        assertThat(dotDot.body()).doesNotContain("plain");
    }

    /**
     * An X-Accel-Redirect to a script's URI (nginx runs it, as a GET) is refused where x-sendfile takes the document
     * root: edge sends files only, and that file sent was the script's PHP source.
     */
    @Test
    void anXAccelRedirectToAScriptIsRefusedNotItsSourceSent() throws Exception {
        for (String uri : new String[] {"/accel-to.php", "/open/./streamed.php", "/accel-to.php/extra"}) {
            HttpResponse<String> accel = get("/open/accel-to.php?u=" + URLEncoder.encode(uri, StandardCharsets.UTF_8));
            assertThat(accel.statusCode()).as(uri).isEqualTo(403);
            assertThat(accel.body()).as(uri).doesNotContain("<?php");
        }
        assertThat(get("/open/accel-to.php?u=/files/plain.txt").body()).as("a file still goes").isEqualTo("plain\n");
        assertThat(get("/open/accel-to.php?u=/open/report.txt").body()).as("also one a FastCGI location holds")
                .isEqualTo("a report\n");
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        return send(edge, "GET", path, headers);
    }

    /** A {@code method} request without a body for {@code path} of {@code at}, with {@code headers} (name, value, ...). */
    static HttpResponse<String> send(EdgeHarness at, String method, String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(at.uri(path)).method(method,
                HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString()); // redirects not followed
    }

    @Test
    void aStaticLocationsFilesCarryItsHeadersAndTheDefaultsOnce() throws Exception {
        HttpResponse<String> file = get("/files/plain.txt");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.headers().allValues("access-control-allow-origin")).containsExactly("*");
        assertThat(file.headers().allValues("x-content-type-options")).containsExactly("nosniff");
        assertThat(file.headers().allValues("x-frame-options")).as("another location's").isEmpty();

        HttpResponse<String> notModified = get("/files/plain.txt",
                "If-None-Match", file.headers().firstValue("etag").orElseThrow());
        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.headers().allValues("access-control-allow-origin")).containsExactly("*");

        HttpResponse<String> unsatisfiable = get("/files/plain.txt", "Range", "bytes=1000-");
        assertThat(unsatisfiable.statusCode()).isEqualTo(416);
        assertThat(unsatisfiable.headers().allValues("access-control-allow-origin")).as("as nginx 1.22's 416")
                .containsExactly("*");
        assertThat(unsatisfiable.headers().allValues("x-content-type-options")).containsExactly("nosniff");

        HttpResponse<String> missing = get("/files/missing.txt");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().allValues("access-control-allow-origin")).isEmpty();
        assertThat(missing.headers().allValues("x-content-type-options")).isEmpty();
    }

    @Test
    void scriptsAnswersCarryThemOnceFreshAndFromTheResponseCache() throws Exception {
        String url = "/cache.php?id=headers&cc=" + URLEncoder.encode("public, max-age=60", StandardCharsets.UTF_8);
        for (int i = 0; i < 3; i++) { // the first runs PHP, the others are hits
            HttpResponse<String> page = get(url);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).isEqualTo("id=headers run=1 ae=");
            assertThat(page.headers().allValues("x-frame-options")).as("round %d", i).containsExactly("SAMEORIGIN");
            assertThat(page.headers().allValues("x-content-type-options")).as("round %d", i).containsExactly("nosniff");
        }
        HttpResponse<String> redirect = get("/redirect.php");
        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(redirect.headers().allValues("x-frame-options")).containsExactly("SAMEORIGIN");
    }

    @Test
    void aStreamedAnswerFromTheResponseCacheCarriesThemOnce() throws Exception {
        HttpResponse<String> first = get("/streamed.php");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).endsWith(" end");
        assertThat(first.headers().allValues("x-frame-options")).containsExactly("SAMEORIGIN");
        for (int i = 1; i < 3; i++) {
            HttpResponse<String> hit = get("/streamed.php");
            assertThat(hit.body()).as("round %d, from the cache", i).isEqualTo(first.body());
            assertThat(hit.headers().allValues("x-frame-options")).as("round %d", i).containsExactly("SAMEORIGIN");
            assertThat(hit.headers().allValues("x-content-type-options")).as("round %d", i).containsExactly("nosniff");
        }
    }

    @Test
    void lastModifiedAndETagReplaceTheAnswersOwnAndAnEmptyValueAddsNothingAsWithNginx() throws Exception {
        // nginx's add_header sets Last-Modified and ETag in place of the answer's (empty: removes them, the
        // common way to turn them off) and adds no field for an empty value.
        HttpResponse<String> file = get("/files/bare/plain.txt");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).isEqualTo("bare\n");
        assertThat(file.headers().allValues("last-modified")).isEmpty();
        assertThat(file.headers().allValues("etag")).containsExactly("\"edge\"");
        assertThat(file.headers().allValues("x-empty")).isEmpty();
        assertThat(file.headers().allValues("x-content-type-options")).containsExactly("nosniff");
    }

    @Test
    void aFileAScriptHandsOutCarriesTheHeadersAndExpiresOfTheLocationItsUriRoutesToAsWithNginx() throws Exception {
        // nginx's X-Accel-Redirect is an internal redirect: the target location's add_header and expires apply, and
        // its expires replaces the script's Cache-Control. An X-Sendfile path under the root goes by its URI there.
        HttpResponse<String> accel = get("/accel-to.php?u=/files/plain.txt");
        HttpResponse<String> sendfile = get("/sendfile.php?f=" + dir.resolve("www/files/plain.txt"));
        for (HttpResponse<String> file : List.of(accel, sendfile)) {
            String what = file.request().uri().getPath();
            assertThat(file.statusCode()).as(what).isEqualTo(200);
            assertThat(file.body()).as(what).isEqualTo("plain\n");
            assertThat(file.headers().allValues("access-control-allow-origin")).as(what).containsExactly("*");
            assertThat(file.headers().allValues("x-content-type-options")).as(what).containsExactly("nosniff");
            assertThat(file.headers().allValues("x-frame-options")).as(what + ": the script's location's").isEmpty();
            assertThat(file.headers().allValues("cache-control")).as(what).containsExactly("max-age=3600");
            assertThat(file.headers().allValues("expires")).as(what).hasSize(1);
        }
        assertThat(sendfile.headers().allValues("content-disposition"))
                .containsExactly("attachment; filename=\"doc.txt\"");
    }

    @Test
    void scriptsErrorsGetNone() throws Exception {
        for (String status : new String[] {"404", "500", "503"}) {
            HttpResponse<String> page = get("/status.php?s=" + status);
            assertThat(page.statusCode()).isEqualTo(Integer.parseInt(status));
            assertThat(page.headers().allValues("x-frame-options")).as(status).isEmpty();
        }
    }
}
