package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.typesafe.config.ConfigOriginFactory;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Syntax and include failures: at the line that caused them, in words, never a Java class name. */
class ParseErrorsTest {

    @TempDir
    Path dir;

    @Test
    void missingRequiredFileIncludeIsReportedAtTheIncludeLine() throws Exception {
        Path file = write("s3.conf", "include required(file(\"nope.conf\"))\nedge { sites = [] }\n");
        assertThat(problems(file)).singleElement().hasToString(file
                + ":1: include required(file(\"nope.conf\")): no such file (expected: an existing, readable file)");
    }

    @Test
    void missingRequiredBareIncludeSaysWhereTheFileWasLookedFor() throws Exception {
        Path file = write("s4.conf", "edge {\n  sites = []\n  include required(\"nope.conf\")\n}\n");
        assertThat(problems(file)).singleElement().hasToString(file + ":3: include required(\"nope.conf\"): no such file "
                + dir.resolve("nope.conf") + " (a name is relative to the including file) "
                + "(expected: an existing, readable file)");
    }

    @Test
    void aCommentedOutIncludeOrAnotherFileWithTheSameEndingIsNotTakenForTheMissingOne() throws Exception {
        Files.createDirectory(dir.resolve("conf"));
        write("conf/x.conf", "");
        Path file = write("edge.conf", """
                # before: include required("x.conf")
                include required("conf/x.conf")
                edge { sites = [] }
                include required("x.conf")
                """);
        ConfigProblem problem = problems(file).get(0);
        assertThat(problem.line()).isEqualTo(4);
        assertThat(problem.message()).startsWith("no such file " + dir.resolve("x.conf"));
    }

    @Test
    void anUnclosedBracketAtTheEndGetsTheHintToo() throws Exception {
        Path file = write("s6.conf", "edge {\n  sites = [\n");
        assertThat(problems(file)).singleElement()
                .satisfies(p -> assertThat(p.message()).contains("(an unclosed { or [ ?)"));
    }

    @Test
    void missingIncludeInAnIncludedFileIsReportedThere() throws Exception {
        Files.createDirectory(dir.resolve("sub"));
        Path inner = write("sub/inner.conf", "\n\ninclude required(file(\"" + dir.resolve("deeper.conf") + "\"))\n");
        Path file = write("edge.conf", "include required(file(\"" + inner + "\"))\nedge { sites = [] }\n");
        ConfigProblem problem = problems(file).get(0);
        assertThat(problem.file()).isEqualTo(inner);
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.message()).isEqualTo("no such file");
    }

    @Test
    void anIncludedFileThatCannotBeReadSaysSo() throws Exception {
        // Tests run as root, who reads every file: the mapping is checked on the exception Typesafe throws.
        Path file = write("edge.conf", "edge {\n  include required(file(\"secret.conf\"))\n}\n");
        var e = new com.typesafe.config.ConfigException.IO(ConfigOriginFactory.newFile("secret.conf"),
                "java.io.FileNotFoundException: secret.conf (Permission denied)",
                new FileNotFoundException("secret.conf (Permission denied)"));
        assertThat(ParseErrors.describe(e, file)).hasToString(file
                + ":2: include required(file(\"secret.conf\")): cannot be read (expected: an existing, readable file)");
    }

    @Test
    void anUnclosedBraceHintsAtItself() throws Exception {
        Path file = write("s5.conf", "edge {\n sites = []\n");
        ConfigProblem problem = problems(file).get(0);
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.message()).endsWith("end of file (an unclosed { or [ ?)");
    }

    @Test
    void noJavaClassNameInAnyMessage() {
        assertThat(ParseErrors.withoutClassNames("x.conf: java.io.FileNotFoundException: x.conf (No such file)"))
                .isEqualTo("x.conf: x.conf (No such file)");
        assertThat(ParseErrors.withoutClassNames("com.typesafe.config.ConfigException$IO: gone")).isEqualTo("gone");
    }

    private List<ConfigProblem> problems(Path file) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).as("loading should fail").isNotNull();
        assertThat(e.getMessage()).doesNotContain("Exception");
        return e.problems();
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }
}
