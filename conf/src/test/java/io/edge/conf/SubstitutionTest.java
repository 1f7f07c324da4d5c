package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A substitution that cannot be resolved is one problem among the others, never the only one reported. */
class SubstitutionTest {

    @TempDir
    Path dir;

    @Test
    void unresolvedSubstitutionIsReportedWithEveryOtherProblem() throws Exception {
        List<ConfigProblem> problems = problems("""
                server.max-connections = "lots"
                static.engine = bogus
                server.io-threads = ${NOPE_EDGE_Y}
                sites = [{ root = "nope" }]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(2, "edge.server.max-connections"),
                tuple(3, "edge.static.engine"),
                tuple(4, "edge.server.io-threads"),
                tuple(5, "edge.sites[0].root"));
        assertThat(problems.get(2).toString()).isEqualTo(dir.resolve("edge.conf") + ":4: edge.server.io-threads: "
                + "${NOPE_EDGE_Y} has no value (expected: an environment variable or a setting named NOPE_EDGE_Y; "
                + "use ${?NOPE_EDGE_Y} to make it optional)");
    }

    /**
     * {@code ${?VAR}} of a variable not set leaves the key as if unwritten (HOCON): a key with a default keeps it, one
     * that needs a value was "missing" without a word of the substitution. It is named, at the line that wrote it.
     */
    @Test
    void anOptionalSubstitutionOfAnUnsetVariableLeavingARequiredKeyIsNamed() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                site-defaults.root = ${?NOPE_EDGE_ROOT}
                sites = [{ server-names = [a.org] }, { root = ${?NOPE_EDGE_WWW}, server-names = [b.org] }]
                server.io-threads = ${?NOPE_EDGE_THREADS}
                """);
        assertThat(problems).extracting(ConfigProblem::toString).containsExactly(
                dir.resolve("edge.conf") + ":2: edge.site-defaults.root: ${?NOPE_EDGE_ROOT} has no value: NOPE_EDGE_ROOT"
                        + " is not set (expected: the path of an existing directory)",
                dir.resolve("edge.conf") + ":3: edge.sites[1].root: ${?NOPE_EDGE_WWW} has no value: NOPE_EDGE_WWW"
                        + " is not set (expected: the path of an existing directory)");
    }

    @Test
    void unresolvedListElementIsNamedByItsIndexAndNotReportedAgainAsMissing() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, server-names = [a.org,
                  ${NOPE_EDGE_NAME}] }]
                """);
        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.key()).isEqualTo("edge.sites[0].server-names[1]");
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).isEqualTo("${NOPE_EDGE_NAME} has no value");
        });
    }

    @Test
    void substitutionOfAnUnresolvedSettingNamesBoth() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.io-threads = ${edge.threads}
                threads = ${NOPE_EDGE_T}
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(3, "edge.server.io-threads", "${edge.threads} has no value: edge.threads is itself unresolved"),
                        tuple(4, "edge.threads", "${NOPE_EDGE_T} has no value"));
    }

    /**
     * A value written in an object and overridden later in the same file by a substitution that cannot be resolved: the
     * problem is at the substitution's line, not at the value it overrides (where Typesafe's merged origin starts).
     */
    @Test
    void anUnresolvedOverrideOfAnEarlierValueIsReportedWhereItIsWritten() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server { io-threads = 2 }
                server.io-threads = ${NOPE_EDGE_THREADS}
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(4, "edge.server.io-threads", "${NOPE_EDGE_THREADS} has no value"));
    }

    @Test
    void aSubstitutionBesideAValueOfAnotherKindIsReportedWithTheRest() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.listen = ["127.0.0.1:8080"] ${EDGE_TEST_WORD}
                server.io-threads = x
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(3, "edge.server.listen",
                                "a list and a string side by side: [\"127.0.0.1:8080\"] and \"lots\""),
                        tuple(4, "edge.server.io-threads", "\"x\" is not a number"));
    }

    /**
     * The same in a file included inside an object, where Typesafe looks the variable up with the object's path first:
     * the problem is at the substitution's line and names the variable as written.
     */
    @Test
    void anUnresolvedOverrideInAFileIncludedInAnObjectIsReportedWhereAndAsItIsWritten() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path server = Files.writeString(dir.resolve("srv.conf"), "io-threads = 2\nbacklog-free = 1\n"
                + "io-threads = ${NOPE_EDGE_T9}\n");
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server { include "srv.conf" }
                """);
        assertThat(problems).filteredOn(p -> p.file().equals(server)).extracting(ConfigProblem::line, ConfigProblem::key,
                ConfigProblem::message).contains(tuple(3, "edge.server.io-threads", "${NOPE_EDGE_T9} has no value"));
    }

    /**
     * An earlier line of the key whose variable is only a suffix of the one looked up is not taken for the override's:
     * the line that substitutes it as looked up is, the suffix being for a file included inside an object.
     */
    @Test
    void anUnresolvedOverrideIsPlacedAtItsOwnLineBeforeAnEarlierOneEndingTheSame() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server { io-threads = ${?NOPE_EDGE_T} }
                server.io-threads = ${nope.NOPE_EDGE_T}
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(4, "edge.server.io-threads"));
    }

    /** An object substituted whole beside a string: its rendering, every default of it, is cut short in the problem. */
    @Test
    void aWholeObjectBesideAStringIsShownShortened() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.pid-file = ${edge.static} "x"
                """);
        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).startsWith("an object and a string side by side: {\"").endsWith(
                    " ...} and \" x\"").hasSizeLessThan(120);
        });
    }

    /**
     * Substitutions alone on both sides of a list beside a string: Typesafe's failure then has no line (its origin is
     * the values', merged), and the problem is still at the key that put them together.
     */
    @Test
    void twoSubstitutionsOfDifferentKindsSideBySideAreReportedAtTheirKey() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                extra = ["127.0.0.1:8081"]
                server.listen = ${EDGE_TEST_WORD} ${edge.extra}
                server.io-threads = x
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(3, "edge.extra", "unknown key"),
                        tuple(4, "edge.server.listen", "a string and a list side by side: \"lots"
                                + " \" and [\"127.0.0.1:8081\"]"), // the blank between is HOCON's, part of the string
                        tuple(5, "edge.server.io-threads", "\"x\" is not a number"));
    }

    /** Typesafe cannot resolve a key appended to twice against a source of edge's ("replace in parent not possible"). */
    @Test
    void aKeyAppendedToTwiceDoesNotHideTheOtherProblems() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.listen += "127.0.0.1:1"
                server.listen += "127.0.0.1:2"
                server.io-threads = ${NOPE_EDGE_X}
                static.engine = bad
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(5, "edge.server.io-threads"),
                tuple(6, "edge.static.engine"));
    }

    /**
     * Beside a key appended to twice, a list of sites holding a substitution that cannot be resolved was one problem of
     * the whole list, "edge.sites" at its first line, and the problems of its other sites were lost: Typesafe leaves
     * the user's list over the default one unresolved as a whole there. The substitution is named at its own key and
     * line, and the other sites are checked.
     */
    @Test
    void anUnresolvedSubstitutionInAListBesideAKeyAppendedToTwiceIsNamedAtItsKey() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [
                  { root = www, server-names = [a.org] }
                  { root = ${NOPE_EDGE_ROOT}, server-names = [b.org] }
                  { root = www, server-names = [c.org], locations = [{ match = "/", fastcgi = nope }] }
                ]
                server.listen += "127.0.0.1:1"
                server.listen += "127.0.0.1:2"
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(4, "edge.sites[1].root"),
                tuple(5, "edge.sites[2].locations[0].fastcgi"));
    }

    /**
     * HOCON reads a substitution in a file included inside an object below that object first ({@code ${X}} in a file
     * included in {@code server} as {@code ${edge.server.X}}, then as written): the one that has no value is named as
     * written, the name to set or make optional, not the name it was first looked for by.
     */
    @Test
    void anUnresolvedSubstitutionInAFileIncludedInAnObjectIsNamedAsWritten() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path included = dir.resolve("server.conf");
        Files.writeString(included, """
                io-threads = ${NOPE_EDGE_THREADS}
                limits.body = 1 ${server.nope}
                """);
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server { include "server.conf" }
                """);
        assertThat(problems).extracting(ConfigProblem::toString).containsExactly(
                included + ":1: edge.server.io-threads: ${NOPE_EDGE_THREADS} has no value (expected: an environment"
                        + " variable or a setting named NOPE_EDGE_THREADS; use ${?NOPE_EDGE_THREADS} to make it optional)",
                included + ":2: edge.server.limits.body: ${server.nope} has no value (expected: an environment"
                        + " variable or a setting named server.nope; use ${?server.nope} to make it optional)");
    }

    /**
     * {@code +=} to a setting whose default is not a list, beside another key appended to, was one problem at the
     * default's line in reference.conf, named as a line of the user's file (which has not got it), and every other
     * problem was lost.
     */
    @Test
    void anAppendToASettingWhoseDefaultIsNoListIsReportedAtItsLineWithTheRest() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www, server-names = [a.org] }]
                sites += { root = www, server-names = [b.org] }
                server.max-connections += 5
                server.io-threads = x
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(4, "edge.server.max-connections", "a number and a list side by side: 10000 and [5]"),
                        tuple(5, "edge.server.io-threads", "\"x\" is not a number"));
    }

    /**
     * A value inside an object a substitution copied from the defaults has no line of the user's: its problems were
     * named by file alone ("edge.conf: edge.server.limits.write: unknown key"). They are at the line of the key that
     * substituted it; a value the user wrote keeps its own line.
     */
    @Test
    void aProblemInsideAnObjectSubstitutedFromTheDefaultsIsAtTheLineOfItsKey() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.timeouts.body = 20 s
                server.limits = ${edge.server.timeouts}
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).contains(
                tuple(3, "edge.server.limits.body"),
                tuple(4, "edge.server.limits.write"));
        assertThat(problems).extracting(ConfigProblem::line).containsOnly(3, 4);
    }

    /**
     * {@code sites = ${?VAR}} of a variable not set leaves the default, no sites: that was "no sites" at the line of
     * {@code edge}, with no word of the substitution that left it so.
     */
    @Test
    void sitesLeftAtTheDefaultByAnOptionalSubstitutionOfAnUnsetVariableNamesIt() throws Exception {
        List<ConfigProblem> problems = problems("""
                server.io-threads = 2
                sites = ${?NOPE_EDGE_SITES}
                """);
        assertThat(problems).extracting(ConfigProblem::toString).containsExactly(dir.resolve("edge.conf") + ":3:"
                + " edge.sites: no sites: ${?NOPE_EDGE_SITES} has no value, NOPE_EDGE_SITES is not set (expected: at"
                + " least one site, sites = [{ root = \"/srv/www\" }])");
    }

    /**
     * The defaults a substitution copies into a user's object are still defaults, though located at its key's line:
     * {@code mime-types = ${edge.mime-types} { JPG = ... }} is the table the user's JPG overrides, as
     * {@code mime-types { JPG = ... }} is. Taken for the user's, the default jpg was "set twice, also as JPG" and a
     * valid file was refused.
     */
    @Test
    void aDefaultCopiedByASubstitutionIsOverriddenAsADefault() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www }]
                mime-types = ${edge.mime-types} { JPG = image/x-citrix-jpeg }
                """);
        assertThat(new ConfigLoader().load(file).mimeTypes()).containsEntry("jpg", "image/x-citrix-jpeg")
                .containsEntry("png", "image/png");
    }

    /** The line a problem names is its key's: the one with the substitution, not the setting it read. */
    @Test
    void aBadValueFromAnotherSettingIsReportedAtTheLineOfItsKey() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                depth = 0
                sites = [{ root = www }]
                static.queue-depth = ${edge.depth}
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(2, "edge.depth"),
                tuple(4, "edge.static.queue-depth"));
    }

    @Test
    void cycleIsReportedAndTheRestStillChecked() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.io-threads = ${edge.threads-a}
                threads-a = ${edge.threads-b}
                threads-b = ${edge.threads-a}
                static.engine = bogus
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).contains(
                tuple(4, "edge.threads-a"),
                tuple(5, "edge.threads-b"),
                tuple(6, "edge.static.engine"));
        assertThat(problems).filteredOn(p -> p.key().equals("edge.server.io-threads"))
                .as("what depends on the cycle has no value, and says why (it was \"null is no value\", a null not written)")
                .extracting(ConfigProblem::line, ConfigProblem::message).containsExactly(tuple(3,
                        "${edge.threads-a} has no value: edge.threads-a is part of a cycle of substitutions"));
        assertThat(problems).filteredOn(p -> p.key().startsWith("edge.threads-")).allSatisfy(p -> {
            assertThat(p.message()).contains("is part of a cycle");
            assertThat(p.message()).doesNotContain("Could not resolve");
            // once round (Typesafe names it twice round)
            assertThat(p.message()).matches("is part of a cycle of substitutions: (\\$\\{edge\\.threads-[ab]} -> ){2}"
                    + "\\$\\{edge\\.threads-[ab]}");
        });
    }

    /**
     * A cycle through keys with defaults was no error to HOCON: the substitution that leads back was read as the key's
     * default, without a word (pid-file = ${edge.server.access-log} and back left a pid file named "-", the access
     * log's default). It is reported as any cycle is; a key that substitutes itself to add to its default is none.
     */
    @Test
    void aCycleThroughKeysWithDefaultsIsReportedAsAnyCycle() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.pid-file = ${edge.server.access-log}
                server.access-log = ${edge.server.pid-file}
                server.timeouts { body = ${edge.server.timeouts.write}, write = ${edge.server.timeouts.lingering-time}
                  lingering-time = ${edge.server.timeouts.body} }
                mime-types = ${edge.mime-types} { webp = "image/webp" }
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key).containsExactlyInAnyOrder(
                tuple(3, "edge.server.pid-file"),
                tuple(4, "edge.server.access-log"),
                tuple(5, "edge.server.timeouts.body"),
                tuple(5, "edge.server.timeouts.write"),
                tuple(6, "edge.server.timeouts.lingering-time"));
        assertThat(problems.get(0).message()).isEqualTo("is part of a cycle of substitutions: "
                + "${edge.server.pid-file} -> ${edge.server.access-log} -> ${edge.server.pid-file}, which HOCON "
                + "resolved with a default");
    }

    /**
     * Typesafe locates a value from the environment at "env variables", with no line: the problem named the file only.
     * The variable is named too: the bad value is not in the file, however long one looks there. EDGE_TEST_WORD=lots
     * is set for the tests (the surefire configuration of this module).
     */
    @Test
    void aBadValueFromTheEnvironmentIsReportedAtTheLineOfTheKeyThatUsedIt() throws Exception {
        assertThat(System.getenv("EDGE_TEST_WORD")).as("set by the build").isEqualTo("lots");
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                server.max-connections = 5
                server.io-threads = ${EDGE_TEST_WORD}
                server.listen = ["127.0.0.1:8080",
                  ${EDGE_TEST_WORD}]
                sites = [{ root = www, locations = [{ match = "/",
                  fastcgi = ${?EDGE_TEST_WORD} }] }]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple(3, "edge.server.io-threads", "\"lots\" is not a number (from environment variable EDGE_TEST_WORD)"),
                tuple(5, "edge.server.listen[1]", "\"lots\" has no port (from environment variable EDGE_TEST_WORD)"),
                tuple(7, "edge.sites[0].locations[0].fastcgi",
                        "no backend named \"lots\" (from environment variable EDGE_TEST_WORD)"));
        assertThat(problems).allSatisfy(p -> assertThat(p.file()).isEqualTo(dir.resolve("edge.conf")));
    }

    /**
     * A list or object set again, appended to or overridden, with an environment variable inside: its bad value is
     * placed at the line that substitutes it, and named (it was placed at the first assignment's line, unnamed: the
     * config audit).
     */
    @Test
    void aBadValueFromTheEnvironmentInsideAListSetTwiceIsAtItsOwnLine() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                server.listen = ["127.0.0.1:8080"]
                sites = [{ root = www }]
                # appended to, and set again
                sites += { root = ${?EDGE_TEST_WORD} }
                server.listen = [${?EDGE_TEST_WORD}]
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .contains(tuple(5, "edge.sites[1].root", dir.resolve("lots") + " does not exist (from environment"
                                + " variable EDGE_TEST_WORD)"),
                        tuple(6, "edge.server.listen[0]", "\"lots\" has no port (from environment variable"
                                + " EDGE_TEST_WORD)"));
    }

    /**
     * The environment variable a bad value came from is named wherever it was substituted: over a value written before
     * it, in the defaults of every site, in a file included inside an object (where HOCON looks it up below that object
     * first). A value the file wrote beside it is the file's own.
     */
    @Test
    void aBadValueFromTheEnvironmentNamesItsVariableWhereverItWasSubstituted() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Files.writeString(dir.resolve("limits.conf"), "header-count = ${?EDGE_TEST_WORD}\n");
        List<ConfigProblem> problems = problems("""
                server.io-threads = 2
                server.io-threads = ${?EDGE_TEST_WORD}
                server.limits { include "limits.conf" }
                site-defaults.dotfiles = ${EDGE_TEST_WORD}
                sites = [{ root = www }, { root = www }]
                static.engine = ${EDGE_TEST_WORD}-io
                """);
        String from = " (from environment variable EDGE_TEST_WORD)";
        assertThat(problems).extracting(ConfigProblem::key, ConfigProblem::message).containsExactly(
                tuple("edge.server.io-threads", "\"lots\" is not a number" + from),
                tuple("edge.server.limits.header-count", "\"lots\" is not a number" + from),
                tuple("edge.site-defaults.dotfiles", "\"lots\" is not allowed" + from),
                tuple("edge.static.engine", "\"lots-io\" is not allowed"));
        assertThat(problems.get(1).file()).isEqualTo(dir.resolve("limits.conf"));
        // the line that substituted the bad value, not the one it replaced
        assertThat(problems.get(0).line()).isEqualTo(3);
    }

    /**
     * A listen address from the environment is only found wrong when it is bound (in use): the problem said then is at
     * the line that substituted it and names the variable, as a problem found in loading does; one the file wrote does
     * not. EDGE_TEST_LISTEN=127.0.0.1:8089 is set for the tests.
     */
    @Test
    void aListenAddressFromTheEnvironmentNamesItsVariableWhenItCannotBeBound() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path file = dir.resolve("edge.conf");
        Files.writeString(file, """
                edge {
                  server.listen = ["127.0.0.1:8088",
                    ${EDGE_TEST_LISTEN}]
                  sites = [{ root = www }]
                }
                """);
        ServerSettings server = new ConfigLoader().load(file).server();
        assertThat(server.writtenAt(new InetSocketAddress("127.0.0.1", 8089)).problem("127.0.0.1:8089: address already in use"))
                .hasToString(file + ":3: edge.server.listen[1]: 127.0.0.1:8089: address already in use"
                        + " (from environment variable EDGE_TEST_LISTEN)");
        assertThat(server.writtenAt(new InetSocketAddress("127.0.0.1", 8088)).problem("127.0.0.1:8088: address already in use"))
                .hasToString(file + ":2: edge.server.listen[0]: 127.0.0.1:8088: address already in use");
    }

    /** A default substituted from reference.conf is not the user's line either: the key that used it is. */
    @Test
    void aBadValueSubstitutedFromADefaultIsReportedAtTheLineOfTheKeyThatUsedIt() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        List<ConfigProblem> problems = problems("""
                sites = [{ root = www }]
                server.max-connections = ${edge.static.engine}
                """);
        assertThat(problems).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(3, "edge.server.max-connections", "\"auto\" is not a number"));
    }

    @Test
    void optionalAndResolvableSubstitutionsAreFine() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www }]
                server.io-threads = 3
                server.max-connections = ${edge.server.io-threads}
                server.run-dir = ${?NOPE_EDGE_RUN}
                """);
        assertThat(new ConfigLoader().load(file).server().maxConnections()).isEqualTo(3);
    }

    @Test
    void hoconsOwnOverridesAppendsAndSelfReferencesMeanWhatTheySay() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path file = EdgeConfFile.write(dir, """
                sites = [{ root = www }]
                server.io-threads = 2
                server.io-threads = ${?NOPE_EDGE_IO}
                server.listen += "127.0.0.1:18096"
                server.listen = ${edge.server.listen} ["127.0.0.1:18097"]
                site-defaults.index = ${edge.site-defaults.index} ["index.php"]
                """);
        EdgeSettings settings = new ConfigLoader().load(file);
        assertThat(settings.server().ioThreads()).as("kept where the variable is unset").isEqualTo(2);
        assertThat(settings.server().listen()).extracting(InetSocketAddress::getPort)
                .as("appended to the default, then to that").containsExactly(8080, 18096, 18097);
        assertThat(settings.sites().get(0).index()).containsExactly("index.html", "index.php");
    }

    /**
     * An object merged from two files (a base file and a per-host file including it and setting a key of the same
     * object) has a problem placed at the including file's line: Typesafe names such a value "merge of a: 2,b: 4",
     * which was printed as its file name, with no line, and sorted after every other problem.
     */
    @Test
    void aProblemOfAnObjectMergedFromTwoFilesIsAtTheLineOfTheFileThatWins() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Files.writeString(dir.resolve("base.conf"), """
                edge {
                  sites = [{ root = www, locations = [{ match = "/", fastcgi = php }] }]
                  fastcgi.backends.php {
                    max-connections = 4
                  }
                }
                """);
        Path main = Files.writeString(dir.resolve("main.conf"), """
                include "base.conf"
                edge.fastcgi.backends.php.balance = round-robin
                edge.server.io-threads = lots
                """);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(main));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::file, ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(main, 2, "edge.fastcgi.backends.php.addresses"),
                        tuple(main, 3, "edge.server.io-threads"));
    }

    private List<ConfigProblem> problems(String body) throws Exception {
        Path file = EdgeConfFile.write(dir, body);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).as("loading should fail").isNotNull();
        return e.problems();
    }
}
