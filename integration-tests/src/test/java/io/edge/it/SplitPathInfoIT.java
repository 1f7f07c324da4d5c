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
 * A location's split-path-info (nginx's fastcgi_split_path_info) in front of a real php-fpm whose pool runs .phtml
 * scripts too: a .phtml location splits its paths by its own regex, and the site's default PHP location beside it
 * splits as it always has.
 */
class SplitPathInfoIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** What PHP was told: which script ran, and the two params the split makes. */
    private static final String SAYS = "<?php echo basename($_SERVER['SCRIPT_FILENAME']), ' SCRIPT_NAME=',"
            + " $_SERVER['SCRIPT_NAME'], ' PATH_INFO=[', $_SERVER['PATH_INFO'] ?? '', ']';";

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        for (String script : new String[] {"app.phtml", "index.php", "page.php"}) {
            Files.writeString(www.resolve(script), SAYS);
        }
        Files.writeString(www.resolve("notes.txt"), "plain");
        Path docs = Files.createDirectories(www.resolve("phtml-only/docs"));
        Files.writeString(docs.resolve("index.php"), SAYS);
        Files.writeString(www.resolve("phtml-only/front.phtml"), SAYS);
        Files.writeString(Files.createDirectories(www.resolve("files")).resolve("nl.phtml\n"), SAYS);
        Files.writeString(Files.createDirectories(www.resolve("nginx")).resolve("show.php"), SAYS);
        Files.writeString(Files.createDirectories(www.resolve("upper")).resolve("page.php"), SAYS);
        Files.writeString(www.resolve("send.php"), "<?php header(isset($_GET['a']) ? 'X-Accel-Redirect: ' . $_GET['a']"
                + " : 'X-Sendfile: ' . __DIR__ . '/' . $_GET['f']);");
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), """
                pm = static
                pm.max_children = 2
                security.limit_extensions = .php .phtml
                """);
        edge = EdgeHarness.start(dir, """
                sites = [{
                  server-names = ["_"], default = true, root = "www", index = ["index.php"]
                  locations = [
                    { match = "/", fastcgi = php, front-controller = "/index.php", x-sendfile = ["www"] }
                    { match = "~ \\\\.phtml(/|$)", fastcgi = php, split-path-info = "^(.+?\\\\.phtml)(/.*)$" }
                    { match = "^~ /phtml-only/", fastcgi = php, front-controller = "/phtml-only/front.phtml"
                      split-path-info = "^(.+?\\\\.phtml)(/.*)$" }
                    { match = "^~ /files/" }
                    { match = "^~ /nginx/", fastcgi = php, split-path-info = "^(.+\\\\.php)(.*)$" }
                    { match = "^~ /upper/", fastcgi = php, split-path-info = "(?i)^(.+\\\\.php)(/.+)$" }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertRuns(String path, String body) throws Exception {
        HttpResponse<String> response = get(path);
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        assertThat(response.body()).as(path).isEqualTo(body);
    }

    /**
     * Under split-path-info = "^(.+?\\.phtml)(/.*)$" a .phtml script runs with the rest of the path as PATH_INFO, and
     * without one as itself (nginx's split that does not match leaves the path the script name); a missing one is 404.
     * Before, the key was unknown (the configuration refused), and the resolver's split on .php alone ran none of them.
     */
    @Test
    void aPhtmlScriptRunsWithThePathInfoItsLocationsSplitMakes() throws Exception {
        assertRuns("/app.phtml/users/7", "app.phtml SCRIPT_NAME=/app.phtml PATH_INFO=[/users/7]");
        assertRuns("/app.phtml/", "app.phtml SCRIPT_NAME=/app.phtml PATH_INFO=[/]");
        assertRuns("/app.phtml", "app.phtml SCRIPT_NAME=/app.phtml PATH_INFO=[]");
        assertThat(get("/missing.phtml/users/7").statusCode()).isEqualTo(404);
        assertThat(get("/missing.phtml").statusCode()).isEqualTo(404);
    }

    /**
     * A script's X-Sendfile of a .phtml script, which the site's split-path-info names one, is refused as a .php one is:
     * sent, it would be its source (it was). So is an X-Accel-Redirect's whose name ends in a line feed past ".phtml"
     * (percent-encoded, decoded as nginx decodes it), as a .php one is: PCRE's "$" matches before it, so nginx's "~
     * \\.phtml$" runs it (it was sent). A file beside it goes.
     */
    @Test
    void aScriptTheSplitNamesIsNeverHandedOutAsAFile() throws Exception {
        for (String script : new String[] {"app.phtml", "page.php", "x&a=/files/nl.phtml%250A"}) {
            HttpResponse<String> refused = get("/send.php?f=" + script);
            assertThat(refused.statusCode()).as(script).isEqualTo(403);
            assertThat(refused.body()).as(script).doesNotContain("<?php");
        }
        HttpResponse<String> file = get("/send.php?f=notes.txt");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).isEqualTo("plain");
    }

    /**
     * Under a location whose split names .phtml scripts only, a .php file is no script and never its source: asked for
     * itself it is 404, and as a directory's index file it is passed over as missing (the site's index is index.php
     * alone: 403, no index). The index was sent as a file, its source.
     */
    @Test
    void aPhpIndexFileTheSplitNamesNoScriptIsNeverSentAsItsSource() throws Exception {
        assertThat(get("/phtml-only/docs/index.php").statusCode()).isEqualTo(404);
        HttpResponse<String> index = get("/phtml-only/docs/");
        assertThat(index.body()).doesNotContain("<?php");
        assertThat(index.statusCode()).isEqualTo(403);
    }

    /**
     * nginx's documented split, ^(.+\.php)(.*)$, with no try_files but the split's script (nginx's try_files
     * $fastcgi_script_name =404): a script runs with its PATH_INFO, or none; a missing one is 404, and so is a name
     * where nginx's split would make a PATH_INFO that is no path (/show.phpx: /show.php and "x"). A case-insensitive
     * split, (?i)^(.+\.php)(/.+)$, splits /PAGE.PHP/x too, but the file is looked for as named, as nginx looks: on a
     * case-sensitive file system there is none, 404. Both were refused before: the configuration did not load.
     */
    @Test
    void nginxsDocumentedSplitAndACaseInsensitiveOneRunAsNginxWithTryFiles() throws Exception {
        assertRuns("/nginx/show.php/article/0001", "show.php SCRIPT_NAME=/nginx/show.php PATH_INFO=[/article/0001]");
        assertRuns("/nginx/show.php", "show.php SCRIPT_NAME=/nginx/show.php PATH_INFO=[]");
        assertThat(get("/nginx/missing.php").statusCode()).isEqualTo(404);
        assertThat(get("/nginx/missing.php/x").statusCode()).isEqualTo(404);
        HttpResponse<String> inName = get("/nginx/show.phpx");
        assertThat(inName.statusCode()).isEqualTo(404);
        assertThat(inName.body()).doesNotContain("<?php");
        assertRuns("/upper/page.php/x", "page.php SCRIPT_NAME=/upper/page.php PATH_INFO=[/x]");
        assertRuns("/upper/page.php", "page.php SCRIPT_NAME=/upper/page.php PATH_INFO=[]");
        HttpResponse<String> upper = get("/upper/PAGE.PHP/x");
        assertThat(upper.statusCode()).isEqualTo(404);
        assertThat(upper.body()).doesNotContain("<?php");
    }

    /** The location without the key splits after the first .php segment, as before: a .phtml path there is no script. */
    @Test
    void theDefaultLocationSplitsAsBefore() throws Exception {
        assertRuns("/page.php/a/b.php/c", "page.php SCRIPT_NAME=/page.php PATH_INFO=[/a/b.php/c]");
        assertRuns("/page.php", "page.php SCRIPT_NAME=/page.php PATH_INFO=[]");
        assertRuns("/blog/post", "index.php SCRIPT_NAME=/index.php PATH_INFO=[]");
        assertThat(get("/missing.php/x").statusCode()).isEqualTo(404);
        HttpResponse<String> file = get("/notes.txt");
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).isEqualTo("plain");
    }
}
