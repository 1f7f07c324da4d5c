package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.fastcgi.cgi.ScriptResolver;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A FastCGI location's split-path-info (nginx's fastcgi_split_path_info) onto LocationSettings, and its problems. */
class SplitPathInfoConfigTest {

    @TempDir
    Path dir;

    private List<LocationSettings> locations(String body) throws Exception {
        return new ConfigLoader().load(EdgeConfFile.write(dir, body)).sites().get(0).locations();
    }

    @Test
    void aLocationsSplitIsReadAndLocationDefaultsOneAppliesWhereThereIsABackend() throws Exception {
        List<LocationSettings> locations = locations("""
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                location-defaults { split-path-info = "^(?P<script>.+?\\\\.php5)(?P<info>/.*)?$" }
                sites = [{ root = www, locations = [
                  { match = "/" },
                  { match = "~ [^/]\\\\.phtml(/|$)", fastcgi = php, split-path-info = "^(.+?\\\\.phtml)(/.*)$" },
                  { match = "~ [^/]\\\\.php5(/|$)", fastcgi = php },
                  { match = "~ [^/]\\\\.php(/|$)", fastcgi = php, split-path-info = "^(.+?\\\\.php)(/.*)$" }
                ] }]
                """);
        assertThat(locations.get(0).splitPathInfo()).as("a location of files splits nothing").isNull();
        assertThat(locations.get(1).splitPathInfo().pattern()).isEqualTo("^(.+?\\.phtml)(/.*)$");
        assertThat(locations.get(2).splitPathInfo().pattern()).isEqualTo("^(?<script>.+?\\.php5)(?<info>/.*)?$");
        assertThat(locations.get(3).splitPathInfo()).as("nginx's classic split is edge's default").isNull();
        assertThat(locations.get(3).scriptSplit()).isSameAs(ScriptResolver.DEFAULT_SPLIT);
        Pattern phtml = locations.get(1).scriptSplit();
        assertThat(phtml.matcher("/app.phtml/users/7").replaceAll("$1 $2")).isEqualTo("/app.phtml /users/7");
    }

    @Test
    void unsetItIsTheDefault() throws Exception {
        LocationSettings php = locations("""
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [{ match = "~ \\\\.php$", fastcgi = php }] }]
                """).get(0);
        assertThat(php.splitPathInfo()).isNull();
        assertThat(php.scriptSplit()).isSameAs(ScriptResolver.DEFAULT_SPLIT);
    }

    /**
     * Each split that makes no script name and PATH_INFO of a path is a problem at its line: one that does not compile,
     * one without two groups, one whose script name is not the path's start or whose PATH_INFO does not start with "/",
     * one that leaves a part of the path to neither; and one set where no script's path is split.
     */
    @Test
    void aSplitThatMakesNoScriptNameAndPathInfoIsAProblemAtItsLine() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", fastcgi = php, split-path-info = "^(.+\\\\.phtml(/.*)$" }
                  { match = "/b/", fastcgi = php, split-path-info = "^(.+\\\\.phtml)$" }
                  { match = "/c/", fastcgi = php, split-path-info = "^((.+)\\\\.phtml)(/.*)$" }
                  { match = "/d/", fastcgi = php, split-path-info = "^/(.+\\\\.phtml)(/.*)$" }
                  { match = "/e/", fastcgi = php, split-path-info = "^(.+\\\\.php)(x.*)$" }
                  { match = "/f/", fastcgi = php, split-path-info = "^(.+\\\\.php)x(/.*)$" }
                  { match = "/g/", fastcgi = php, split-path-info = "^(.+\\\\.php)(/.*)x$" }
                  { match = "/h/", split-path-info = "^(.+?\\\\.phtml)(/.*)$" }
                  { match = "= /fpm-status", fastcgi = php, fastcgi-script = "/fpm-status",
                    split-path-info = "^(.+?\\\\.phtml)(/.*)$" }
                  { match = "/i/", fastcgi = php, split-path-info = ".+\\\\.php(/.*)" }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        String at = "edge.sites[0].locations[%d].split-path-info";
        assertThat(e.problems()).extracting(ConfigProblem::file, ConfigProblem::line, ConfigProblem::key)
                .containsExactlyInAnyOrder(
                        tuple(file, 4, at.formatted(0)), tuple(file, 5, at.formatted(1)),
                        tuple(file, 6, at.formatted(2)), tuple(file, 7, at.formatted(3)),
                        tuple(file, 8, at.formatted(4)), tuple(file, 9, at.formatted(5)),
                        tuple(file, 10, at.formatted(6)), tuple(file, 11, at.formatted(7)),
                        tuple(file, 13, at.formatted(8)), tuple(file, 14, at.formatted(9)));
        assertThat(e.problems()).extracting(ConfigProblem::message).containsExactly(
                "\"^(.+\\.phtml(/.*)$\" bad regular expression: Unclosed group at index 17",
                "\"^(.+\\.phtml)$\" has 1 capturing group (nginx's fastcgi_split_path_info takes 2)",
                "\"^((.+)\\.phtml)(/.*)$\" has 3 capturing groups (nginx's fastcgi_split_path_info takes 2)",
                "\"^/(.+\\.phtml)(/.*)$\" does not start with the script name's group: SCRIPT_NAME would not start"
                        + " with the path's \"/\"",
                "\"^(.+\\.php)(x.*)$\" has a PATH_INFO group that does not start with \"/\" (nor is nginx's"
                        + " \"(.*)\"): it could split /a.phpx into /a.php and \"x\"",
                "\"^(.+\\.php)x(/.*)$\" has something between the script name's group and the PATH_INFO's: that part"
                        + " of the path would be neither",
                "\"^(.+\\.php)(/.*)x$\" has something after the PATH_INFO's group: that part of the path would be"
                        + " neither",
                "set in a location without fastcgi",
                "set in a location with a fastcgi-script, which runs with no PATH_INFO",
                "\".+\\.php(/.*)\" has 1 capturing group (nginx's fastcgi_split_path_info takes 2)");
        assertThat(e.problems()).filteredOn(p -> p.line() < 11 || p.line() == 14).extracting(ConfigProblem::expected)
                .containsOnly(SplitPathInfo.EXPECTED);
    }

    /**
     * nginx's documented {@code ^(.+\.php)(.*)$} is taken, its PATH_INFO group made a path's ({@code (/.*)?}); inline
     * flags before the {@code ^} and a leading {@code ~*}, as "match" writes a case-insensitive regex, are taken too.
     */
    @Test
    void nginxsDocumentedSplitAndCaseInsensitiveOnesAreTaken() throws Exception {
        List<LocationSettings> locations = locations("""
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                sites = [{ root = www, locations = [
                  { match = "/a/", fastcgi = php, split-path-info = "^(.+\\\\.php)(.*)$" }
                  { match = "/b/", fastcgi = php, split-path-info = "(?i)^(.+\\\\.php)(/.+)$" }
                  { match = "/c/", fastcgi = php, split-path-info = "~* ^(.+\\\\.phtml)(/.*)$" }
                  { match = "/d/", fastcgi = php, split-path-info = "^(?i)(?<script>.+?\\\\.php5)(?<info>.*)?$" }
                ] }]
                """);
        Pattern nginx = locations.get(0).scriptSplit();
        assertThat(nginx.pattern()).isEqualTo("^(.+\\.php)(/.*)?$");
        assertThat(nginx.matcher("/show.php/article/0001").replaceAll("$1 $2")).isEqualTo("/show.php /article/0001");
        assertThat(nginx.matcher("/show.php").matches()).isTrue();
        assertThat(nginx.matcher("/a.phpx").matches()).as("no PATH_INFO \"x\"").isFalse();
        assertThat(nginx.matcher("/a.php/b.phpx").replaceAll("$1 $2")).isEqualTo("/a.php /b.phpx");
        Pattern upper = locations.get(1).scriptSplit();
        assertThat(upper.matcher("/INDEX.PHP/x").replaceAll("$1 $2")).isEqualTo("/INDEX.PHP /x");
        Pattern tilde = locations.get(2).scriptSplit();
        assertThat(tilde.matcher("/App.PHTML/x").replaceAll("$1 $2")).isEqualTo("/App.PHTML /x");
        Pattern named = locations.get(3).scriptSplit();
        assertThat(named.pattern()).isEqualTo("^(?i)(?<script>.+?\\.php5)(?<info>/.*)?$");
        assertThat(named.matcher("/a.PHP5").matches()).isTrue();
    }

    /** A bad split under location-defaults is said once, where written, not at every location inheriting it. */
    @Test
    void aBadSplitUnderLocationDefaultsIsSaidOnceWhereWritten() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                fastcgi.backends.php { addresses = ["unix:/run/php.sock"] }
                location-defaults { split-path-info = "^(.+\\\\.php)" }
                sites = [{ root = www, locations = [
                  { match = "/a/", fastcgi = php }, { match = "/b/", fastcgi = php }
                ] }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(3, "edge.location-defaults.split-path-info",
                        "\"^(.+\\.php)\" has 1 capturing group (nginx's fastcgi_split_path_info takes 2)"));
    }
}
