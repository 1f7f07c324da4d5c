package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.auth.BasicAuth;
import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code auth-basic}, nginx's auth_basic with an htpasswd file, on a real edge with a real php-fpm behind
 * it: the hashes are of "secret" and "s3cret", made by openssl passwd.
 */
class BasicAuthIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String ALICE = "alice:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n"; // secret
    private static final String BOB = "bob:$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwP"
            + "ZN.Pq.H91p5hVO1\n"; // secret

    @TempDir
    Path dir;

    @Test
    void onlyAUserOfTheFileWithItsPasswordGetsThroughAndPhpSeesWho() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("staging"));
        Files.writeString(www.resolve("staging/page.txt"), "staging page");
        Files.writeString(www.resolve("open.txt"), "open");
        Files.writeString(www.resolve("who.php"), "<?php echo $_SERVER['PHP_AUTH_USER'] ?? '-', ' ',"
                + " $_SERVER['REMOTE_USER'] ?? '-', ' ', $_SERVER['AUTH_TYPE'] ?? '-';");
        Files.writeString(www.resolve("open.php"), "<?php echo $_SERVER['REMOTE_USER'] ?? '-';");
        Files.createDirectories(www.resolve("app"));
        Files.writeString(www.resolve("app/index.php"), "<?php echo 'app';");
        Files.writeString(www.resolve("app/admin.php"), "<?php echo 'admin';");
        Files.writeString(dir.resolve("htpasswd"), ALICE + BOB);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     location-defaults.auth-basic { realm = "Staging", user-file = "htpasswd" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/" }
                       { match = "~ \\\\.php$", fastcgi = php }
                       { match = "= /open.txt", auth-basic.realm = null }
                       { match = "= /open.php", fastcgi = php, auth-basic.realm = null }
                       { match = "^~ /app/", fastcgi = php, front-controller = "/app/index.php", auth-basic.realm = null }
                       { match = "= /app/admin.php", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> none = get(edge, "/staging/page.txt", null);
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.headers().firstValue("www-authenticate")).contains("Basic realm=\"Staging\"");
            assertThat(get(edge, "/staging/page.txt", "alice:secret").body()).isEqualTo("staging page");
            assertThat(get(edge, "/staging/page.txt", "alice:secret").statusCode()).as("remembered").isEqualTo(200);
            assertThat(get(edge, "/staging/page.txt", "bob:secret").statusCode()).as("SHA-512 crypt").isEqualTo(200);
            assertThat(get(edge, "/staging/page.txt", "alice:wrong").statusCode()).isEqualTo(401);
            assertThat(get(edge, "/staging/page.txt", "carol:secret").statusCode()).isEqualTo(401);
            assertThat(get(edge, "/staging/page.txt", "alice").statusCode()).as("no colon").isEqualTo(401);
            assertThat(get(edge, "/who.php", "alice:secret").body()).isEqualTo("alice alice Basic");
            assertThat(get(edge, "/open.php", "mallory:anything").body())
                    .as("no REMOTE_USER where no password was checked: a client's word").isEqualTo("-");
            assertThat(get(edge, "/who.php", null).statusCode()).as("the script never runs unasked").isEqualTo(401);
            assertThat(get(edge, "/open.txt", null).body()).as("realm = null turns it off").isEqualTo("open");
            assertThat(get(edge, "/app/some/route", null).body()).isEqualTo("app");
            assertThat(get(edge, "/app/admin.php/users", null).statusCode())
                    .as("a script of a location that asks, found with PATH_INFO by one that does not").isEqualTo(401);
            assertThat(get(edge, "/app/admin.php", "alice:secret").body()).isEqualTo("admin");

            // htpasswd -b adds a user: no reload needed; a changed password ends the old one's welcome
            Files.writeString(dir.resolve("htpasswd"), "alice:$apr1$abcdefgh$M2T3erDstkD7SsE2QQnfH0\n" + BOB
                    + "carol:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n");
            Awaits.await(() -> get(edge, "/staging/page.txt", "carol:secret").statusCode() == 200,
                    "the file read again");
            assertThat(get(edge, "/staging/page.txt", "alice:secret").statusCode()).as("alice's old password")
                    .isEqualTo(401);
            assertThat(get(edge, "/staging/page.txt", "alice:s3cret").statusCode()).isEqualTo(200);
        }
    }

    /**
     * The default access-log line is nginx's combined format, whose third field is the user auth-basic checked (it was
     * always "-"); a name no password was checked for is not written there (nor given to PHP).
     */
    @Test
    void theAccessLogNamesTheUserAuthBasicChecked() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("page.txt"), "page");
        Files.writeString(www.resolve("open.txt"), "open");
        Files.writeString(dir.resolve("htpasswd"), ALICE);
        io.edge.core.http.CapturedLog access = io.edge.core.http.CapturedLog.of("edge.access");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                     server.access-log = "-"
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", auth-basic { realm = "Staging", user-file = "htpasswd" } }
                       { match = "= /open.txt" }
                     ] }]
                     """)) {
            assertThat(get(edge, "/page.txt", "alice:secret").body()).isEqualTo("page");
            assertThat(get(edge, "/open.txt", "mallory:anything").body()).isEqualTo("open");
        } finally {
            access.close();
        }
        assertThat(access.lines()).anySatisfy(line -> assertThat(line).startsWith("127.0.0.1 - alice [")
                .contains("\"GET /page.txt HTTP/1.1\" 200 4 "));
        assertThat(access.lines()).anySatisfy(line -> assertThat(line).startsWith("127.0.0.1 - - [")
                .contains("\"GET /open.txt HTTP/1.1\" 200 4 "));
    }

    /**
     * A page a script behind auth-basic marks public is stored, and once stale its background refresh (cache
     * stale-while-updating) runs as the user whose request started it, as nginx's background update does: it ran without
     * REMOTE_USER, and the script's "not logged in" answer replaced the page for every user (the cache audit).
     */
    @Test
    void aStalePagesBackgroundRefreshRunsAsTheUserWhoseRequestStartedIt() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("team.php"), """
                <?php
                header('Cache-Control: public, max-age=1');
                $file = __DIR__ . '/../runs.txt';
                file_put_contents($file, "x", FILE_APPEND | LOCK_EX);
                echo $_SERVER['REMOTE_USER'] ?? '-', ' ', strlen(file_get_contents($file));
                """);
        Files.writeString(dir.resolve("htpasswd"), ALICE + BOB);
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong(1);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "~ \\\\.php$", fastcgi = php, cache = true,
                         auth-basic { realm = "Team", user-file = "htpasswd" } }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     cache.responses.stale-while-updating = 1 m
                     """.formatted(fpm.address()), nanos::get)) {
            assertThat(get(edge, "/team.php", "alice:secret").body()).isEqualTo("alice 1");
            assertThat(get(edge, "/team.php", "bob:secret").body()).as("stored: public").isEqualTo("alice 1");
            nanos.addAndGet(java.time.Duration.ofSeconds(5).toNanos());
            assertThat(get(edge, "/team.php", "bob:secret").body()).as("stale, refreshed behind it").isEqualTo("alice 1");
            Awaits.await(() -> Files.exists(dir.resolve("runs.txt")) && Files.size(dir.resolve("runs.txt")) == 2,
                    "the refresh ran");
            assertThat(Awaits.until(() -> get(edge, "/team.php", "alice:secret").body(), body -> !body.equals("alice 1"),
                    "the refreshed page")).isEqualTo("bob 2");
        }
    }

    /**
     * Where nginx's internal redirect meets a location's auth_basic, edge asks too: an X-Accel-Redirect into a protected
     * location (its file went out to anyone before the review of this change); a return there answers without asking,
     * as nginx's rewrite phase comes first; two Authorization fields are 400.
     */
    @Test
    void anXAccelRedirectIntoAProtectedLocationAsksForItsPasswordAndAReturnDoesNot() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("admin"));
        Files.writeString(www.resolve("admin/secret.txt"), "the secret");
        Files.writeString(www.resolve("dl.php"), "<?php header('X-Accel-Redirect: /admin/secret.txt');");
        Files.writeString(dir.resolve("htpasswd"), ALICE);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     location-defaults.auth-basic { realm = "Admin", user-file = "htpasswd" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/", auth-basic.realm = null }
                       { match = "~ \\\\.php$", fastcgi = php, auth-basic.realm = null }
                       { match = "/admin/" }
                       { match = "= /admin/healthz", return = "200 ok" }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            HttpResponse<String> anonymous = get(edge, "/dl.php", null);
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThat(anonymous.headers().firstValue("www-authenticate")).contains("Basic realm=\"Admin\"");
            assertThat(anonymous.body()).doesNotContain("the secret");
            assertThat(get(edge, "/dl.php", "alice:secret").body()).isEqualTo("the secret");
            assertThat(get(edge, "/admin/healthz", null).body()).as("a return answers first").isEqualTo("ok");

            HttpResponse<String> twice = HTTP.send(HttpRequest.newBuilder(edge.uri("/admin/secret.txt"))
                    .header("Authorization", basic("alice:secret")).header("Authorization", basic("bob:x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(twice.statusCode()).as("which one was checked, PHP would not know").isEqualTo(400);
        }
    }

    /**
     * A user file gone refuses everyone (403, as nginx's) until it is back; a change that keeps the file's size and
     * modification time (a copy with cp -p, tar) is seen all the same (its change time and inode).
     */
    @Test
    void aUserFileGoneRefusesEveryoneAndAnyChangeToItIsSeen() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("page.txt"), "page");
        Path users = dir.resolve("htpasswd");
        Files.writeString(users, ALICE);
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/", auth-basic { realm = "R", user-file = "htpasswd" } }
                ] }]
                """)) {
            assertThat(get(edge, "/page.txt", "alice:secret").statusCode()).isEqualTo(200);
            Files.delete(users);
            Awaits.await(() -> get(edge, "/page.txt", "alice:secret").statusCode() == 403, "the file gone: 403");

            Files.writeString(users, ALICE);
            Awaits.await(() -> get(edge, "/page.txt", "alice:secret").statusCode() == 200, "the file back");
            java.nio.file.attribute.FileTime modified = Files.getLastModifiedTime(users);
            Path copy = dir.resolve("htpasswd.new");
            Files.writeString(copy, "alice:$apr1$abcdefgh$M2T3erDstkD7SsE2QQnfH0\n"); // s3cret: the same length
            Files.setLastModifiedTime(copy, modified);
            Files.move(copy, users, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Awaits.await(() -> get(edge, "/page.txt", "alice:s3cret").statusCode() == 200, "the new password");
            assertThat(get(edge, "/page.txt", "alice:secret").statusCode()).isEqualTo(401);
        }
    }

    /**
     * A PHP location's front controller hidden by an internal location (reference.conf's idiom) that gets a password
     * from location-defaults and a limit of its own: it runs, asked for the password, and is never sent as a file (the
     * last review found a redirect there sending thumb.php's source); PATH_INFO stays where the script's location asks
     * for the same password.
     */
    @Test
    void aScriptFoundUnderAnotherLocationsUriRunsWhereItWasFoundAfterThatLocationsPassword() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("thumb.php"), "<?php /* db_password */ echo 'made ', $_SERVER['PATH_INFO'] ?? '';");
        Files.writeString(www.resolve("index.php"), "<?php echo 'index ', $_SERVER['PATH_INFO'] ?? '';");
        Files.writeString(dir.resolve("htpasswd"), ALICE);
        try (PhpFpm fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
             EdgeHarness edge = EdgeHarness.start(dir, """
                     location-defaults.auth-basic { realm = "Staging", user-file = "htpasswd" }
                     sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                       { match = "/thumbs/", fastcgi = php, front-controller = "/thumb.php" }
                       { match = "^~ /thumb.php", internal = true, limit-req { rate = "5 r/s", burst = 10 } }
                       { match = "/", fastcgi = php, front-controller = "/index.php" }
                       { match = "~ \\\\.php$", fastcgi = php }
                     ] }]
                     fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                     """.formatted(fpm.address()))) {
            assertThat(get(edge, "/thumbs/ab/cd.jpg", null).statusCode()).isEqualTo(401);
            HttpResponse<String> made = get(edge, "/thumbs/ab/cd.jpg", "alice:secret");
            assertThat(made.body()).as("run, never its source").isEqualTo("made ");
            assertThat(get(edge, "/index.php/foo/bar", "alice:secret").body()).isEqualTo("index /foo/bar");
        }
    }

    /**
     * A refusal's line quotes the request target with its C1 controls and other bytes above ASCII escaped, as a limit's
     * line does: it wrote them as the characters they read as in Latin-1, a raw CSI (U+009B) and NEL (U+0085).
     */
    @Test
    void aRefusalsLineEscapesTheTargetsBytesAboveAscii() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.writeString(dir.resolve("htpasswd"), ALICE);
        try (CapturedLog log = CapturedLog.of(BasicAuth.class);
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ root = "www", locations = [
                       { match = "/", auth-basic { realm = "R", user-file = "htpasswd" } }
                     ] }]
                     """)) {
            // one line in ten seconds, for the whole JVM: another test's refusal may have had this interval's
            Awaits.await(() -> {
                try (RawHttpClient client = new RawHttpClient(edge.address(), 4096)) {
                    client.send("GET /a?\u009b2J\u0085b/caf\u00c3\u00a9 HTTP/1.1\r\nHost: h\r\nAuthorization: "
                            + basic("alice:wrong") + "\r\n\r\n");
                    assertThat(client.readStatusLine()).isEqualTo("HTTP/1.1 401 Unauthorized");
                }
                return !log.lines().isEmpty();
            }, "a refusal's line");
            assertThat(log.lines()).first().asString()
                    .startsWith("GET /a?\\x9b2J\\x85b/caf\\xc3\\xa9 from 127.0.0.1 -> 401: user \"alice\"");
        }
    }

    private static String basic(String credentials) {
        return "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<String> get(EdgeHarness edge, String target, String credentials) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(target));
        if (credentials != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
