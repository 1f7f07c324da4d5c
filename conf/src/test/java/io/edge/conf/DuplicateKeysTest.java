package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A value set twice in one object of one file: HOCON's later value wins, as it does, and a warning names both lines
 * (nginx -t refuses most directives written twice; an override across files or by an include stays silent).
 */
class DuplicateKeysTest {

    @TempDir
    Path dir;

    @Test
    void aDurationSetTwiceInOneObjectIsWarnedOfWithBothLinesAndTheValueThatWins() throws Exception {
        EdgeSettings settings = load("""
                edge {
                  sites = [{ root = www }]
                  server {
                    timeouts.write = 5 s
                    timeouts.write = 7 s
                  }
                }
                """);
        assertThat(settings.server().timeouts().write()).isEqualTo(Duration.ofSeconds(7));
        assertThat(settings.warnings()).extracting(ConfigProblem::toString).containsExactly(dir.resolve("edge.conf")
                + ":5: edge.server.timeouts.write: set twice in one object, at lines 4 and 5: 7 s (line 5) wins over"
                + " 5 s (line 4)");
    }

    @Test
    void aListSetTwiceInOneObjectIsWarnedOf() throws Exception {
        EdgeSettings settings = load("""
                edge {
                  sites = [{ root = www }]
                  server { listen = ["127.0.0.1:0"], listen = ["127.0.0.2:0"] }
                }
                """);
        assertThat(settings.server().listen()).containsExactly(new InetSocketAddress("127.0.0.2", 0));
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(tuple(3, "edge.server.listen",
                        "set twice in one object, both at line 3: the later, [\"127.0.0.2:0\"], wins over"
                                + " [\"127.0.0.1:0\"]"));
    }

    /**
     * A value written at a key replaces what was below it, which a key written below it again then no longer meets; a
     * key below another that was never replaced still does. Many keys in one object (a mime-types of 100 000) are
     * walked once each.
     */
    @Test
    void aValueReplacingAnObjectForgetsWhatWasBelowItAndManyKeysAreEachWalkedOnce() throws Exception {
        StringBuilder types = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            types.append("    ext").append(i).append(" = \"application/x-e").append(i).append("\"\n");
        }
        EdgeSettings settings = load("""
                edge {
                  sites = [{ root = www, locations = [{ match = "/", headers { X-A = "1" }, headers = null, headers { X-A = "2" } }] }]
                  server { real-ip { from = ["10.0.0.1"], header = X-Real-IP }, real-ip.header = X-Client-IP }
                  mime-types {
                """ + types + """
                  }
                }
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(3, "edge.server.real-ip.header"));
    }

    /** A path expression and an object written again are the same object: HOCON merges them. */
    @Test
    void theSameKeyThroughAPathAndAnObjectOfTheSameFileIsWarnedOf() throws Exception {
        EdgeSettings settings = load("""
                edge.server.max-connections = 5
                edge {
                  sites = [{ root = www }]
                  server { max-connections = 6 }
                }
                """);
        assertThat(settings.server().maxConnections()).isEqualTo(6);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(4, "edge.server.max-connections"));
    }

    @Test
    void aKeySetTwiceInOneListElementIsNamedByItsIndex() throws Exception {
        EdgeSettings settings = load("""
                edge {
                  sites = [
                    { root = www, server-names = [a.org] }
                    { root = nope
                      server-names = [b.org]
                      root = www }
                  ]
                }
                """);
        assertThat(settings.sites().get(1).root()).isEqualTo(dir.resolve("www"));
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(6, "edge.sites[1].root"));
    }

    /** What HOCON users mean to do: override across files, append, refer to the value before, merge objects. */
    @Test
    void overridesAcrossFilesAppendsSelfReferencesAndMergedObjectsAreSilent() throws Exception {
        Files.writeString(dir.resolve("base.conf"), """
                edge.server.max-connections = 5
                edge.server.timeouts.write = 5 s
                """);
        EdgeSettings settings = load("""
                include "base.conf"
                edge {
                  sites = [{ root = www, server-names = [a.org] }, { root = www, server-names = [b.org] }]
                  server.max-connections = 6
                  server { timeouts { body = 20 s } }
                  server { timeouts { keep-alive = 20 s } }
                  sites += { root = www, server-names = [c.org] }
                  server.access-log = "a.log"
                  server.access-log = ${edge.server.access-log}".1"
                }
                """);
        assertThat(settings.server().maxConnections()).isEqualTo(6);
        assertThat(settings.sites()).hasSize(3);
        assertThat(settings.server().accessLog()).isEqualTo(dir.resolve("a.log.1"));
        assertThat(settings.warnings()).isEmpty();
    }

    @Test
    void aKeySetTwiceInAnIncludedFileIsWarnedOfThere() throws Exception {
        Files.writeString(dir.resolve("limits.conf"), """
                max-connections = 5
                max-connections = 7
                """);
        EdgeSettings settings = load("""
                edge {
                  sites = [{ root = www }]
                  server { include "limits.conf" }
                }
                """);
        assertThat(settings.server().maxConnections()).isEqualTo(7);
        assertThat(settings.warnings()).extracting(ConfigProblem::toString).containsExactly(dir.resolve("limits.conf")
                + ":2: edge.server.max-connections: set twice in one object, at lines 1 and 2: 7 (line 2) wins over 5"
                + " (line 1)");
    }

    /**
     * A file included by a file: URL is a file, read where the include is: its keys are named in full as those of a
     * file included by name are (they were named from the included file's own root, "max-connections").
     */
    @Test
    void aKeySetTwiceInAFileIncludedByAFileUrlIsNamedInFull() throws Exception {
        Path limits = Files.writeString(dir.resolve("limits.conf"), """
                max-connections = 5
                max-connections = 7
                """);
        EdgeSettings settings = load("""
                edge {
                  sites = [{ root = www }]
                  server { include url("%s") }
                }
                """.formatted(limits.toUri()));
        assertThat(settings.server().maxConnections()).isEqualTo(7);
        assertThat(settings.warnings()).extracting(ConfigProblem::toString).containsExactly(limits
                + ":2: edge.server.max-connections: set twice in one object, at lines 1 and 2: 7 (line 2) wins over 5"
                + " (line 1)");
    }

    /**
     * A key in an included file is named in full, as the operator searches for it (and as every problem names it): the
     * objects around the include, in every file on the way to it, then the key as the included file writes it.
     */
    @Test
    void aKeySetTwiceInAFileIncludedByAnIncludedFileIsNamedInFull() throws Exception {
        Files.createDirectories(dir.resolve("conf.d"));
        Files.writeString(dir.resolve("conf.d/static.conf"), """
                static {
                  include "ofc.conf"
                }
                """);
        Files.writeString(dir.resolve("conf.d/ofc.conf"), """
                open-file-cache {
                  size = 100
                  size = 200
                }
                """);
        EdgeSettings settings = load("""
                edge {
                  sites = [{ root = www }]
                  include "conf.d/static.conf"
                }
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::file, ConfigProblem::line, ConfigProblem::key)
                .containsExactly(tuple(dir.resolve("conf.d/ofc.conf"), 3, "edge.static.open-file-cache.size"));
    }

    /** Triple-quoted strings over several lines, in an included file: each value at the line it starts on. */
    @Test
    void aKeySetTwiceAroundTripleQuotedStringsIsAtTheLinesItsValuesStart() throws Exception {
        Files.writeString(dir.resolve("server.conf"), """
                server {
                  access-log = \"""a
                b.log\"""
                  access-log = \"""c
                .log\"""
                  io-threads = 2
                  io-threads = 3
                }
                """);
        EdgeSettings settings = load("""
                edge {
                  sites = [{ root = www }]
                  include "server.conf"
                }
                """);
        assertThat(settings.warnings()).extracting(ConfigProblem::line, ConfigProblem::key, ConfigProblem::message)
                .containsExactly(
                        tuple(4, "edge.server.access-log", "set twice in one object, at lines 2 and 4: \"\"\"c .log\"\"\""
                                + " (line 4) wins over \"\"\"a b.log\"\"\" (line 2)"),
                        tuple(7, "edge.server.io-threads",
                                "set twice in one object, at lines 6 and 7: 3 (line 7) wins over 2 (line 6)"));
    }

    /**
     * A file included into a list element and at other places is warned of once, at its line, named by the first place
     * and naming the others (a template included by 2 000 sites gave 2 000 warnings of one line).
     */
    @Test
    void aKeySetTwiceInAFileIncludedAtSeveralPlacesIsWarnedOfOnceNamingEachPlace() throws Exception {
        Files.writeString(dir.resolve("site.conf"), """
                root = nope
                root = www
                """);
        EdgeSettings settings = load("""
                edge {
                  sites = [
                    { root = www, server-names = [a.org] }
                    { server-names = [b.org], include "site.conf" }
                    { server-names = [c.org]
                      include "site.conf" }
                    { server-names = [d.org], include "site.conf" }
                    { server-names = [e.org], include "site.conf" }
                    { server-names = [f.org], include "site.conf" }
                  ]
                }
                """);
        assertThat(settings.sites().get(2).root()).isEqualTo(dir.resolve("www"));
        assertThat(settings.warnings()).singleElement().satisfies(warning -> {
            assertThat(warning.line()).isEqualTo(2);
            assertThat(warning.key()).isEqualTo("edge.sites[1].root");
            assertThat(warning.message()).endsWith("; the same line is also edge.sites[2].root, edge.sites[3].root,"
                    + " edge.sites[4].root and 1 more (the file is included at 5 places)");
        });
    }

    /**
     * A configuration with problems still says what was set twice: the value that won may be the problem (a first
     * line right, a forgotten second one wrong), and the warning names the line the user meant.
     */
    @Test
    void aKeySetTwiceIsWarnedOfBesideTheProblemsOfAConfigurationThatFails() throws Exception {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> load("""
                edge {
                  sites = [{ root = www }]
                  server {
                    timeouts.write = 30 s
                    timeouts.write = -1 s
                  }
                }
                """));
        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key).containsExactly("edge.server.timeouts.write");
        assertThat(e.warnings()).extracting(ConfigProblem::toString).containsExactly(dir.resolve("edge.conf")
                + ":5: edge.server.timeouts.write: set twice in one object, at lines 4 and 5: -1 s (line 5) wins over"
                + " 30 s (line 4)");
    }

    /** Loads {@code text} as {@code edge.conf}, beside the site root {@code www} it names. */
    private EdgeSettings load(String text) throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path file = dir.resolve("edge.conf");
        Files.writeString(file, text);
        return ConfigLoader.checkOnly().load(file);
    }
}
