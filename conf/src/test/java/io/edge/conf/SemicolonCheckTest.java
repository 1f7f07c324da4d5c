package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx ends a directive with ';', HOCON does not: after a quoted string it was read as part of the value, so
 * access-log = "/var/log/edge.log"; logged to a file named edge.log; and a header's DENY; was sent as written, both
 * without a word.
 */
class SemicolonCheckTest {

    private static final String EXPECTED = "no ';' (a line break or a comma ends a value; in quotes, a ';' is the value's own)";

    @TempDir
    Path dir;

    @Test
    void aSemicolonEndingAValueIsAProblemAtEachLineThatHasOne() throws Exception {
        Path file = EdgeConfFile.write(dir, """
                  server.access-log = "edge.log";
                  server.listen = ["127.0.0.1:8080"];   # a comment; with a semicolon
                  sites = [{ root = www, locations = [{ match = "/", headers { X-Frame-Options = DENY; } }] }]
                  mime-types { csv = "text/csv; charset=utf-8", tsv = \"""text/tab-separated-values; x=y\""" }
                """);
        List<ConfigProblem> problems = problems(file);
        assertThat(problems).extracting(ConfigProblem::file, ConfigProblem::line, ConfigProblem::key,
                ConfigProblem::message, ConfigProblem::expected).containsExactly(
                tuple(file, 2, null, "a ';' after a value (nginx's end of a directive), which HOCON reads as part of it",
                        EXPECTED),
                tuple(file, 3, null, "a ';' after a value (nginx's end of a directive), which HOCON reads as part of it",
                        EXPECTED),
                tuple(file, 4, null, "a ';' after a value (nginx's end of a directive), which HOCON reads as part of it",
                        EXPECTED));
        assertThat(new ConfigLoader().load(EdgeConfFile.write(dir, """
                  sites = [{ root = www }]
                  mime-types { csv = "text/csv; charset=utf-8" } # quoted, and here; in a comment
                """)).mimeTypes()).containsEntry("csv", "text/csv; charset=utf-8");
    }

    /** Beside a syntax error the ';' may have caused (root = "/srv"; default = true), each is said too. */
    @Test
    void aSemicolonIsSaidBesideASyntaxError() throws Exception {
        Path file = EdgeConfFile.write(dir, "  sites = [{ root = www; default = true }]");
        assertThat(problems(file)).extracting(ConfigProblem::line, ConfigProblem::message).contains(
                tuple(2, "a ';' after a value (nginx's end of a directive), which HOCON reads as part of it"));
    }

    @Test
    void aSemicolonInAnIncludedFileIsSaidThere() throws Exception {
        Path included = dir.resolve("part.conf");
        Files.writeString(included, "server.access-log = \"edge.log\";\n");
        Path file = EdgeConfFile.write(dir, "  include \"part.conf\"\n  sites = [{ root = www }]");
        assertThat(problems(file)).extracting(ConfigProblem::file, ConfigProblem::line).contains(tuple(included, 1));
    }

    private static List<ConfigProblem> problems(Path file) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).as("loading should fail").isNotNull();
        return e.problems();
    }
}
