package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site's error-pages: read with the configuration, and every mistake listed with its line. */
class ErrorPagesConfigTest {

    @TempDir
    Path dir;

    @BeforeEach
    void site() throws Exception {
        Files.createDirectories(dir.resolve("www/errors"));
        Files.writeString(dir.resolve("www/errors/503.html"), "<p>busy</p>");
        Files.write(dir.resolve("www/errors/huge.html"), new byte[ErrorPage.MAX_BYTES + 1]);
        Files.writeString(dir.resolve("outside.html"), "<p>outside</p>");
    }

    @Test
    void aPageIsReadWithItsType() throws Exception {
        EdgeSettings settings = new ConfigLoader().load(EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages { 503 = "/errors/503.html" } }]
                """));
        ErrorPage page = settings.sites().get(0).errorPages().get(503);
        assertThat(page.contentType()).startsWith("text/html");
        ByteBuffer body = page.body();
        assertThat(StandardCharsets.UTF_8.decode(body).toString()).isEqualTo("<p>busy</p>");
        assertThat(page.body().isReadOnly()).isTrue();
        assertThat(settings.sites().get(0).errorPages()).containsOnlyKeys(503);
    }

    @Test
    void noStatusAMissingOrLargeFileAndAPathOutOfTheRootAreProblems() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www, error-pages {
                  200 = "/errors/503.html"
                  404 = "/errors/404.html"
                  500 = "/errors/huge.html"
                  502 = "/../outside.html"
                  504 = "errors/503.html"
                } }]
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::line).containsExactly(
                tuple("edge.sites[0].error-pages.200", 3),
                tuple("edge.sites[0].error-pages.404", 4),
                tuple("edge.sites[0].error-pages.500", 5),
                tuple("edge.sites[0].error-pages.502", 6),
                tuple("edge.sites[0].error-pages.504", 7));
        assertThat(e.problems().get(0).message()).isEqualTo("\"200\" is not an error status");
        assertThat(e.problems().get(1).message()).endsWith("errors/404.html does not exist");
        assertThat(e.problems().get(2).message()).endsWith("huge.html is " + (ErrorPage.MAX_BYTES + 1) + " bytes");
        assertThat(e.problems().get(3).message()).isEqualTo("\"/../outside.html\" is not a path under the root");
    }

    @Test
    void aPageThatIsALinkTheSitesSymlinksRuleRefusesIsAProblem() throws Exception {
        // Whoever may write in the root (PHP, a deploy) must not have edge, reading as root at a reload, hand out
        // a file the site's rule keeps a request from: /etc/shadow as everybody's 404.
        Files.createSymbolicLink(dir.resolve("www/errors/404.html"), dir.resolve("outside.html"));
        Files.createSymbolicLink(dir.resolve("www/errors/500.html"), dir.resolve("www/errors/503.html"));
        String pages = "error-pages { 404 = \"/errors/404.html\", 500 = \"/errors/500.html\" }";
        ConfigException withinRoot = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, "sites = [{ root = www, " + pages + " }]\n")));
        assertThat(withinRoot).isNotNull();
        assertThat(withinRoot.problems()).extracting(ConfigProblem::key)
                .containsExactly("edge.sites[0].error-pages.404");
        ConfigException deny = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, "sites = [{ root = www, symlinks = deny, " + pages + " }]\n")));
        assertThat(deny).isNotNull();
        assertThat(deny.problems()).extracting(ConfigProblem::key)
                .containsExactly("edge.sites[0].error-pages.404", "edge.sites[0].error-pages.500");
        EdgeSettings allow = new ConfigLoader().load(
                EdgeConfFile.write(dir, "sites = [{ root = www, symlinks = allow, " + pages + " }]\n"));
        assertThat(StandardCharsets.UTF_8.decode(allow.sites().get(0).errorPages().get(404).body()).toString())
                .isEqualTo("<p>outside</p>");
    }

    @Test
    void aStatusWrittenAnotherWayIsAProblemNotASecondPageForTheSameStatus() throws Exception {
        // "0503" and "+503" read as 503 by Integer.parseInt: one of the two pages silently won
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages {
                          503 = "/errors/503.html"
                          "0503" = "/errors/503.html"
                          "+503" = "/errors/503.html"
                        } }]
                        """)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactly(
                "edge.sites[0].error-pages.0503", "edge.sites[0].error-pages.+503");
    }

    @Test
    void aPageOfNoKnownTypeSuchAsAScriptIsAProblem() throws Exception {
        // nginx's error_page 503 /busy.php runs the script; edge reads the file and sends it as it is: the source
        // (with whatever it holds, such as the database password) would have gone to every client of a busy PHP.
        Files.writeString(dir.resolve("www/errors/busy.php"), "<?php $db = 'secret'; echo 'busy';");
        Files.writeString(dir.resolve("www/errors/README"), "pages");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(
                EdgeConfFile.write(dir, """
                        sites = [{ root = www, error-pages { 503 = "/errors/busy.php", 502 = "/errors/README" } }]
                        """)));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactly(
                "edge.sites[0].error-pages.502", "edge.sites[0].error-pages.503");
    }
}
