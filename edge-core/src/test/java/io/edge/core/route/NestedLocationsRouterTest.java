package io.edge.core.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.ConfigLoader;
import io.edge.conf.LocationSettings;
import io.edge.conf.Return;
import io.edge.conf.SiteSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which location answers a path where locations nest, as nginx 1.22's ngx_http_core_find_location picks it. Each row
 * was checked by hand against nginx 1.22 with the same locations, each written {@code return 200 <name>}, and curl.
 */
class NestedLocationsRouterTest {

    /**
     * The nginx side: <pre>
     * location /w/ { location ~ \.php$ {} location ^~ /w/images/ {} location = /w/x {} }
     * location ~ \.php$ {}
     * location / {}
     * location ^~ /s/ { location ~ \.php$ {} location /s/t/ {} }
     * location ~ ^/r/ { location ~ \.txt$ {} }
     * location /p/ { location ^~ /p/q/ {} location /p/q/r/ {} }
     * location /d/ { location /d/e/ { location ~ \.php$ {} } location ~ \.txt$ {} }
     * </pre>
     */
    private static final String LOCATIONS = """
            { match = "/w/", locations = [
              { match = "~ \\\\.php$", return = "200 w-php" }
              { match = "^~ /w/images/", return = "200 w-images" }
              { match = "= /w/x", return = "200 w-exact" }
            ], return = "200 w" }
            { match = "~ \\\\.php$", return = "200 php" }
            { match = "/", return = "200 root" }
            { match = "^~ /s/", return = "200 s", locations = [
              { match = "~ \\\\.php$", return = "200 s-php" }
              { match = "/s/t/", return = "200 s-t" }
            ] }
            { match = "~ ^/r/", return = "200 r", locations = [{ match = "~ \\\\.txt$", return = "200 r-txt" }] }
            { match = "/p/", return = "200 p", locations = [
              { match = "^~ /p/q/", return = "200 p-q" }
              { match = "/p/q/r/", return = "200 p-q-r" }
            ] }
            { match = "/d/", return = "200 d", locations = [
              { match = "/d/e/", return = "200 d-e", locations = [{ match = "~ \\\\.php$", return = "200 d-e-php" }] }
              { match = "~ \\\\.txt$", return = "200 d-txt" }
            ] }
            """;

    @TempDir
    static Path dir;
    private static SiteSettings site;

    @BeforeAll
    static void load() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "edge { sites = [{ root = www, locations = [\n" + LOCATIONS + "] }] }\n");
        site = new ConfigLoader().load(conf).sites().get(0);
    }

    /** URI, then the location nginx 1.22 answered it from (its return's text), then why. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /w/a            | w         | the prefix; nothing nested matches, no regex
            /w/a.php        | w-php     | the nested regex, tried before the site's
            /w/x            | w-exact   | a nested exact match ends the search
            /w/x.php        | w-php     | the nested regex; the exact match is /w/x alone
            /w/images/a.png | w-images  | the nested ^~ prefix
            /w/images/a.php | php       | a nested ^~ skips its own level's regexes, not the site's
            /x.php          | php       | the site's regex
            /a              | root      | the site's prefix
            /s/a            | s         | ^~ at the site level
            /s/a.php        | s-php     | a ^~ location's nested regexes are still tried
            /s/t/a.php      | s-php     | the nested prefix refines, the level's regex takes it
            /s/t/a          | s-t       | the nested prefix
            /r/a            | r         | a regex location
            /r/a.txt        | r-txt     | its nested regex
            /r/a.php        | php       | the site's regexes in order: \\.php$ is before ^/r/
            /p/a.php        | php       | the site's regex: /p/ nests none
            /p/q/a          | p-q       | the nested ^~
            /p/q/a.php      | php       | the nested ^~ skips /p/'s regexes (none), the site's still tried
            /p/q/r/a.php    | php       | the longest nested prefix, then the site's regex
            /d/e/a.php      | d-e-php   | two levels down, innermost regex first
            /d/e/a.txt      | d-txt     | /d/e/ has no match for it: /d/'s regex
            /d/a.txt        | d-txt     | /d/'s regex
            /d/e/a          | d-e       | the nested prefix
            /d/a.php        | php       | /d/'s regexes miss: the site's
            """)
    void theLocationNginxAnswersFrom(String path, String answer, String why) {
        LocationSettings location = Router.location(site, path);
        assertThat(location.returns().text()).as(why).extracting(Return.Part::literal).containsExactly(answer);
    }
}
