package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

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
 * MediaWiki's layout written as nginx writes it, with nested locations, in front of a real php-fpm: /w/ serves the
 * wiki's files, its nested {@code ~ \.php$} runs its scripts, its nested {@code ^~ /w/images/} serves uploads and
 * never runs one (its own nested regex refuses them), and what a nested location leaves unset is the enclosing one's.
 */
class NestedLocationsIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        Path w = Files.createDirectories(dir.resolve("www/w"));
        Files.writeString(w.resolve("index.php"), "<?php echo 'wiki ', $_SERVER['SCRIPT_NAME'];");
        Files.writeString(Files.createDirectories(w.resolve("skins")).resolve("main.css"), "body{}");
        Path images = Files.createDirectories(w.resolve("images"));
        Files.writeString(images.resolve("logo.png"), "png");
        Files.writeString(images.resolve("evil.php"), "<?php echo 'ran';");
        Files.writeString(Files.createDirectories(images.resolve("deleted")).resolve("old.png"), "old");
        Files.writeString(dir.resolve("www/robots.txt"), "robots");
        Files.writeString(w.resolve("send.php"), "<?php header('X-Accel-Redirect: /w/private/docs/a.txt');");
        Files.writeString(Files.createDirectories(w.resolve("private/docs")).resolve("a.txt"), "private");
        Files.writeString(Files.createDirectories(dir.resolve("www/rx/a")).resolve("s.php"),
                "<?php echo 'script ', $_SERVER['RX'];");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 1
                """);
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/w/", expires = 1h, headers { X-Wiki = yes }, locations = [
                      { match = "~ \\\\.php$", fastcgi = php, expires = off, x-sendfile = ["www"] }
                      { match = "/w/private/", internal = true, locations = [{ match = "/w/private/docs/" }] }
                      { match = "^~ /w/images/", expires = 30d, locations = [
                        { match = "~ \\\\.php$", return = "403" }
                        { match = "/w/images/deleted/", access = ["deny all"] }
                      ] }
                    ] }
                    { match = "~ ^/rx/(\\\\w+)/", headers { X-One = "[$1]" }, return = "200 outer:[$1]", locations = [
                      { match = "~ /(\\\\w+)-(\\\\w+)\\\\.png$", return = "200 png:[$1][$2]" }
                      { match = "~ /(\\\\w+)\\\\.php$", fastcgi = php, fastcgi-params { RX = "[$1]" } }
                    ] }
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
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** nginx: location /w/ { location ~ \.php$ { fastcgi_pass ... } } runs /w/index.php, its headers the /w/'s. */
    @Test
    void theWikisScriptsRunInTheNestedRegexLocation() throws Exception {
        HttpResponse<String> script = get("/w/index.php");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.body()).isEqualTo("wiki /w/index.php");
        assertThat(script.headers().firstValue("X-Wiki")).as("inherited from /w/").hasValue("yes");
        assertThat(script.headers().firstValue("Cache-Control")).as("its own expires = off").isEmpty();
        assertThat(get("/w/missing.php").statusCode()).isEqualTo(404);
    }

    @Test
    void theWikisFilesAreServedByTheEnclosingPrefix() throws Exception {
        HttpResponse<String> css = get("/w/skins/main.css");
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.body()).isEqualTo("body{}");
        assertThat(css.headers().firstValue("Cache-Control")).hasValue("max-age=3600");
        assertThat(css.headers().firstValue("X-Wiki")).hasValue("yes");
        HttpResponse<String> robots = get("/robots.txt");
        assertThat(robots.body()).isEqualTo("robots");
        assertThat(robots.headers().firstValue("X-Wiki")).as("the site's /, no /w/ settings").isEmpty();
    }

    /** Uploads: the nested ^~ prefix with its own expires, the /w/ headers inherited; no upload ever runs. */
    @Test
    void uploadsAreFilesAndNeverScripts() throws Exception {
        HttpResponse<String> logo = get("/w/images/logo.png");
        assertThat(logo.statusCode()).isEqualTo(200);
        assertThat(logo.body()).isEqualTo("png");
        assertThat(logo.headers().firstValue("Cache-Control")).hasValue("max-age=2592000");
        assertThat(logo.headers().firstValue("X-Wiki")).hasValue("yes");
        HttpResponse<String> evil = get("/w/images/evil.php");
        assertThat(evil.statusCode()).as("the ^~ location's own nested regex, not /w/'s PHP one").isEqualTo(403);
        assertThat(evil.body()).doesNotContain("ran").doesNotContain("<?php");
        assertThat(get("/w/images/deleted/old.png").statusCode()).as("two levels down").isEqualTo(403);
    }

    /**
     * $1 to $9 are the captures of the innermost regex location that took the request, as nginx's are the last regex's
     * that matched: in its own return, in the headers it inherits, in its script's params; the enclosing regex
     * location's where no nested one matched. nginx 1.22 with location ~ ^/rx/(\w+)/ { add_header X-One "[$1]";
     * return 200 "outer:[$1]"; location ~ /(\w+)-(\w+)\.png$ { return 200 "png:[$1][$2]"; } } answered /rx/a/ with
     * X-One [a] and outer:[a], /rx/a/b-c.png with X-One [b] and png:[b][c]; a fastcgi_param RX "[$1]" reached the
     * script of a nested ~ /(\w+)\.php$ as [s] for /rx/a/s.php.
     */
    @Test
    void capturesAreThoseOfTheInnermostRegexLocationThatMatched() throws Exception {
        HttpResponse<String> outer = get("/rx/a/");
        assertThat(outer.body()).isEqualTo("outer:[a]");
        assertThat(outer.headers().firstValue("X-One")).hasValue("[a]");
        HttpResponse<String> png = get("/rx/a/b-c.png");
        assertThat(png.body()).isEqualTo("png:[b][c]");
        assertThat(png.headers().firstValue("X-One")).as("inherited, the nested regex's $1").hasValue("[b]");
        HttpResponse<String> script = get("/rx/a/s.php");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.body()).isEqualTo("script [s]");
        assertThat(script.headers().firstValue("X-One")).hasValue("[s]");
    }

    /**
     * internal is inherited, as nginx's (location /i/ { internal; location /i/x/ {...} } answers /i/x/a 404): a client
     * never reaches the nested location, a script's X-Accel-Redirect does.
     */
    @Test
    void aLocationNestedInAnInternalOneIsReachedOnlyByAnAccelRedirect() throws Exception {
        assertThat(get("/w/private/docs/a.txt").statusCode()).isEqualTo(404);
        HttpResponse<String> sent = get("/w/send.php");
        assertThat(sent.statusCode()).isEqualTo(200);
        assertThat(sent.body()).isEqualTo("private");
    }
}
