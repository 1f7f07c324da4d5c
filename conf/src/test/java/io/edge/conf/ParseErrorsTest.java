package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigOriginFactory;
import java.io.FileNotFoundException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Syntax and include failures: at the line that caused them, in words, never a Java class name. An include that cannot
 * be opened is listed with every other problem (here, often the filler {@code sites = []}'s "no sites").
 */
class ParseErrorsTest {

    @TempDir
    Path dir;

    @Test
    void missingRequiredFileIncludeIsReportedAtTheIncludeLine() throws Exception {
        Path file = write("s3.conf", "include required(file(\"nope.conf\"))\nedge { sites = [] }\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file
                + ":1: include required(file(\"nope.conf\")): no such file " + dir.resolve("nope.conf")
                + " (a name is relative to the including file) (expected: an existing, readable file)");
    }

    @Test
    void missingRequiredBareIncludeSaysWhereTheFileWasLookedFor() throws Exception {
        Path file = write("s4.conf", "edge {\n  sites = []\n  include required(\"nope.conf\")\n}\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file + ":3: include required(\"nope.conf\"): no such file "
                + dir.resolve("nope.conf") + " (a name is relative to the including file) "
                + "(expected: an existing, readable file)");
    }

    /**
     * A name without .conf, .json or .properties is read as name.conf (HOCON's rule): the problem names that file,
     * and says when the name itself is there, never read; "no such file noext (a name is relative...)" of a file that
     * exists, or of an absolute name, said neither.
     */
    @Test
    void anIncludeOfANameWithoutASyntaxExtensionNamesTheFileItReads() throws Exception {
        write("noext", "edge.server.io-threads = 1\n");
        Path file = write("x1.conf", "edge { sites = [] }\ninclude \"noext\"\ninclude file(\"missing\")\n"
                + "include \"" + dir.resolve("noext") + "\"\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(
                file + ":2: include \"noext\": no such file " + dir.resolve("noext.conf") + " (a name without .conf, "
                        + ".json or .properties is read as name.conf, never as noext itself) (expected: an existing, "
                        + "readable file)",
                file + ":3: include file(\"missing\"): no such file " + dir.resolve("missing.conf") + " (a name without "
                        + ".conf, .json or .properties is read as name.conf) (expected: an existing, readable file)",
                file + ":4: include \"" + dir.resolve("noext") + "\": no such file " + dir.resolve("noext.conf")
                        + " (a name without .conf, .json or .properties is read as name.conf, never as noext itself) "
                        + "(expected: an existing, readable file)");
    }

    /**
     * An include of a FIFO held --check-config, a start or a reload until something wrote to it (of a device, for
     * ever): refused as a file that cannot be opened is, at its line, named by every form of include.
     */
    @Test
    void anIncludeOfAFifoIsAProblemNotAWait() throws Exception {
        Path fifo = dir.resolve("fifo.conf");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        Path file = write("f1.conf", "edge { sites = [] }\ninclude \"fifo.conf\"\ninclude file(\"fifo.conf\")\n");
        Path bare = write("f2.conf", "edge { sites = [] }\ninclude \"fifo\"\n"); // read as fifo.conf
        String notRegular = "is not a regular file (a FIFO or a device, whose read would wait) (expected: an existing, "
                + "readable file)";
        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(60), () -> problems(file),
                "the include of a FIFO waits for a writer")).extracting(ConfigProblem::toString).contains(
                file + ":2: include \"fifo.conf\": " + notRegular,
                file + ":3: include file(\"fifo.conf\"): " + notRegular);
        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(60), () -> problems(bare),
                "the include of a FIFO waits for a writer")).extracting(ConfigProblem::toString).contains(
                bare + ":2: include \"fifo\": " + notRegular);
    }

    /** An include naming no path (a NUL in it) threw InvalidPathException out of the loader: exit 1, a stack trace. */
    @Test
    void anIncludeOfANameWithANulIsAProblemAtItsLine() throws Exception {
        Path file = write("n1.conf", "edge { sites = [] }\ninclude \"a\\u0000b\"\ninclude file(\"/tmp/a\\u0000b\")\n"
                + "include \"a:\\u0000.conf\"\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(
                file + ":2: include \"a\\u0000b\": not a valid path: Nul character not allowed (expected: an existing, "
                        + "readable file)",
                file + ":3: include file(\"/tmp/a\\u0000b\"): not a valid path: Nul character not allowed (expected: an "
                        + "existing, readable file)",
                file + ":4: include \"a:\\u0000.conf\": not a valid path: Nul character not allowed (expected: an "
                        + "existing, readable file)");
    }

    /**
     * A file: URL, and a name with a colon that is no URL ("a:b.conf"), is a file too: an include of a FIFO so named
     * held the check for ever, and of /dev/zero ran the heap out (OutOfMemoryError, exit 1). A file past 16 MiB, of
     * an include or the configuration itself, is refused before Typesafe reads it whole.
     */
    @Test
    void aFileUrlOrAColonNameIsAFileAndNoFileIsReadPast16Mib() throws Exception {
        Path fifo = dir.resolve("a:b.conf");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        try (java.io.RandomAccessFile large = new java.io.RandomAccessFile(dir.resolve("large.conf").toFile(), "rw")) {
            large.setLength((16L << 20) + 1); // sparse
        }
        Path file = write("u1.conf", "edge { sites = [] }\ninclude url(\"file://" + fifo + "\")\ninclude \"file://" + fifo
                + "\"\ninclude \"a:b.conf\"\ninclude url(\"file:///dev/zero\")\ninclude \"large.conf\"\n");
        String notRegular = "is not a regular file (a FIFO or a device, whose read would wait) (expected: an existing, "
                + "readable file)";
        assertThat(assertTimeoutPreemptively(Duration.ofSeconds(60), () -> problems(file),
                "the include of a FIFO waits for a writer")).extracting(ConfigProblem::toString).contains(
                file + ":2: include url(\"file://" + fifo + "\"): " + notRegular,
                file + ":3: include \"file://" + fifo + "\": " + notRegular,
                file + ":4: include \"a:b.conf\": " + notRegular,
                file + ":5: include url(\"file:///dev/zero\"): " + notRegular,
                file + ":6: include \"large.conf\": is larger than 16 MiB (expected: an existing, readable file)");
        assertThat(problems(dir.resolve("large.conf"))).extracting(ConfigProblem::toString).containsExactly(
                dir.resolve("large.conf") + ": is larger than 16 MiB (expected: a HOCON configuration file of at most "
                        + "16 MiB)");
    }

    /** As nginx: a plain include of a missing file is an error, not settings silently left at their defaults. */
    @Test
    void aPlainIncludeOfAMissingFileIsAProblemAtItsLine() throws Exception {
        Path file = write("p1.conf", "edge {\n  sites = []\n  include \"statuss.conf\"\n}\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file + ":3: include \"statuss.conf\": no such file "
                + dir.resolve("statuss.conf") + " (a name is relative to the including file) "
                + "(expected: an existing, readable file)");
        Path other = write("p2.conf", "include file(\"" + dir.resolve("nope.conf") + "\")\nedge { sites = [] }\n");
        assertThat(problems(other)).extracting(ConfigProblem::toString).contains(other + ":1: include file(\"" + dir.resolve("nope.conf")
                + "\"): no such file (expected: an existing, readable file)");
    }

    /**
     * A relative {@code file(...)} is read beside the including file, as a bare name is, as every relative path of edge
     * is, and as the checks of includes read it: Typesafe read it against the working directory, so whether the file
     * was found depended on where edge was started from (and a problem in it was named by a path relative to that).
     */
    @Test
    void aRelativeFileIncludeIsReadBesideTheIncludingFile() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(dir.resolve("conf.d"));
        Path limits = write("conf.d/limits.conf", "max-connections = 0\ninclude file(\"timeouts.conf\")\n");
        Path timeouts = write("conf.d/timeouts.conf", "timeouts.write = lots\n");
        Path file = write("f1.conf", "edge {\n  sites = [{ root = www }]\n  server { include file(\"conf.d/limits.conf\") }\n"
                + "  include required(file(\"nope.conf\"))\n}\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(
                limits + ":1: edge.server.max-connections: 0 is out of range (expected: a whole number >= 1)",
                timeouts + ":1: edge.server.timeouts.write: \"lots\" is not a duration (expected: a duration such as 30 s)",
                file + ":4: include required(file(\"nope.conf\")): no such file " + dir.resolve("nope.conf")
                        + " (a name is relative to the including file) (expected: an existing, readable file)");
    }

    /**
     * An include of a name without an extension reads name.conf (or .json, .properties), as Typesafe does; edge's own
     * walk of the includes looked for the name itself: the file's problems were listed after the includer's instead
     * of at its include, and a key set twice in it was named as if the file stood alone.
     */
    @Test
    void anIncludeOfANameWithoutItsExtensionIsFollowedToTheFileRead() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path limits = write("limits.conf", "max-connections = 5\nmax-connections = 7\nio-threads = lots\n");
        Path file = write("e1.conf", "edge {\n  sites = [{ root = www }]\n  server { include \"limits\" }\n"
                + "  static.queue-depth = 0\n}\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(where(e.problems())).containsExactly(
                tuple(limits, 3, "edge.server.io-threads"),
                tuple(file, 4, "edge.static.queue-depth"));
        assertThat(where(e.warnings())).containsExactly(tuple(limits, 2, "edge.server.max-connections"));
    }

    /**
     * An include naming a directory without an extension (Typesafe then looks for its .conf, .json and .properties)
     * said "no such file" of a name that is there; nginx -t says "Is a directory" of such an include.
     */
    @Test
    void anIncludeOfADirectorySaysItIsADirectory() throws Exception {
        Files.createDirectory(dir.resolve("conf.d"));
        Path file = write("d1.conf", "include \"conf.d\"\nedge { sites = [] }\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(
                file + ":1: include \"conf.d\": is a directory (expected: an existing, readable file)");
        Path other = write("d2.conf", "include file(\"conf.d\")\nedge { sites = [] }\n");
        assertThat(problems(other)).extracting(ConfigProblem::toString).contains(
                other + ":1: include file(\"conf.d\"): is a directory (expected: an existing, readable file)");
    }

    /** A missing include hides nothing else: the other files' problems are listed with it. */
    @Test
    void aMissingIncludeIsListedWithEveryOtherProblem() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path included = write("inc.conf", "edge {\n  server.io-threads = \"x\"\n  include \"gone.conf\"\n}\n");
        Path file = write("m1.conf", "include \"inc.conf\"\ninclude \"missing.conf\"\n"
                + "edge.sites = [{ root = \"www\" }]\nedge.server.max-connections = 0\n");
        assertThat(where(problems(file))).containsExactly(
                tuple(included, 2, "edge.server.io-threads"),
                tuple(included, 3, "include \"gone.conf\""),
                tuple(file, 2, "include \"missing.conf\""),
                tuple(file, 4, "edge.server.max-connections"));
    }

    /**
     * In the order the configuration reads, as nginx -t names the first problem it reads: an included file's problems
     * at its include, before the lines after it; not by file name, which put "a-second.conf" before "main.conf".
     */
    @Test
    void problemsInSeveralFilesAreListedInTheOrderTheyAreRead() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path first = write("z-first.conf", "# first included\nedge.static.queue-depth = 0\n");
        Path nested = write("nested.conf", "edge.cache.content.max-bytes = \"lots\"\n");
        Path second = write("a-second.conf", "edge.static.fd-budget = 9223372036854775808\n"
                + "include \"nested.conf\"\nedge.server.limits.body = \"lots\"\n");
        Path file = write("main.conf", "edge.server.max-connections = 0\ninclude \"z-first.conf\"\n"
                + "edge.server.io-threads = \"x\"\n# include \"a-second.conf\"\ninclude \"a-second.conf\"\n"
                + "edge.sites = [{ root = \"www\" }]\nedge.static.read-timeout = 0\n");
        assertThat(where(problems(file))).containsExactly(
                tuple(file, 1, "edge.server.max-connections"),
                tuple(first, 2, "edge.static.queue-depth"),
                tuple(file, 3, "edge.server.io-threads"),
                tuple(second, 1, "edge.static.fd-budget"),
                tuple(nested, 1, "edge.cache.content.max-bytes"),
                tuple(second, 3, "edge.server.limits.body"),
                tuple(file, 7, "edge.static.read-timeout"));
    }

    /**
     * Typesafe ends a line at LF alone and reads a CR as a blank: a file saved with classic Mac OS line endings is one
     * line. Included, with a comment first, all of it was that comment, and its settings were silently left at their
     * defaults; as the file given, it was "no sites" or a syntax error at line 1, with no word of why. CRLF is fine.
     */
    @Test
    void lineEndingsOfCrAloneAreAProblem() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path status = write("status.conf", "# who may read /status\redge.server.max-connections = 5\r");
        Path file = write("cr.conf", "edge {\n  sites = [{ root = \"www\" }]\n}\ninclude \"status.conf\"\n");
        String expected = " a line ends in CR alone (classic Mac OS), which HOCON reads as a blank, not a line end"
                + " (expected: LF or CRLF line endings)";
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(status + ":1:" + expected);
        Path alone = write("alone.conf", "# saved on classic Mac OS\redge {\r  sites = [{ root = \"www\" }]\r}\r");
        assertThat(problems(alone)).extracting(ConfigProblem::toString).first().isEqualTo(alone + ":1:" + expected);
        Path stray = write("stray.conf", "edge {\n  sites = [{ root = \"www\" }]\n  server.io-threads = 2\r}\n");
        assertThat(problems(stray)).extracting(ConfigProblem::toString).first().isEqualTo(stray + ":3:" + expected);
        Path crlf = write("crlf.conf", "# DOS\r\nedge {\r\n  sites = [{ root = \"www\" }]\r\n}\r\n");
        assertThat(new ConfigLoader().load(crlf).sites()).hasSize(1);
    }

    /**
     * A CR that a line end follows anyway (CR CR LF, as a file converted to CRLF twice has; or a CR at the very end)
     * joins no lines: HOCON reads the file as written, so it is no problem.
     */
    @Test
    void aCrBeforeALineEndAnywayIsNoProblem() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path twice = write("twice.conf", "# converted twice\r\r\nedge {\r\r\n  sites = [{ root = \"www\" }]\r\r\n}\r");
        assertThat(new ConfigLoader().load(twice).sites()).hasSize(1);
    }

    /** Typesafe names its own classes (SimpleConfigList([...]), Quoted("...")); the problem names kinds of value. */
    @Test
    void valuesThatCannotBeConcatenatedAreNamedByKindNotByClass() throws Exception {
        Path file = write("cat1.conf", "edge.sites = []\nedge.server.listen = 1 [\"127.0.0.1:8080\"]\n");
        assertThat(problems(file)).singleElement().hasToString(file + ":2: a number and a list side by side: 1 and "
                + "[\"127.0.0.1:8080\"] (expected: lists with lists or objects with objects, to concatenate them)");
        Path env = write("cat2.conf", "edge.sites = []\nedge.server.listen = [\"127.0.0.1:8080\"] ${EDGE_TEST_WORD}\n");
        assertThat(problems(env)).extracting(ConfigProblem::toString).contains(env + ":2: edge.server.listen: a list and a "
                + "string side by side: [\"127.0.0.1:8080\"] and \"lots\" (expected: lists with lists or objects with "
                + "objects, to concatenate them)");
    }

    @Test
    void aFileThatHoldsAListIsSaidToInWords() throws Exception {
        Path file = write("list.conf", "[1, 2]\n");
        assertThat(problems(file)).singleElement().hasToString(file
                + ":1: the file holds a list, not settings (expected: settings such as edge { sites = [...] })");
    }

    @Test
    void aPlainIncludeOfAnExistingFileIsRead() throws Exception {
        write("extra.conf", "edge.server.max-connections = 77\n");
        Files.createDirectories(dir.resolve("www"));
        Path file = write("p3.conf", "include \"extra.conf\"\nedge { sites = [{ root = \"www\" }] }\n");
        assertThat(ConfigLoader.checkOnly().load(file).server().maxConnections()).isEqualTo(77);
    }

    /**
     * {@code -c edge.conf} (the default) names a file without a directory: its includes are still found beside it
     * (they were "no such file" naming the file that exists). Written in the working directory, as such a name is.
     */
    @Test
    void anIncludeOfAFileNamedWithoutADirectoryIsFoundBesideIt() throws Exception {
        String unique = "edge-parse-errors-test-" + ProcessHandle.current().pid();
        Path extra = Path.of(unique + "-extra.conf");
        Path file = Path.of(unique + ".conf");
        Files.createDirectories(dir.resolve("www"));
        try {
            Files.writeString(extra, "edge.server.max-connections = 77\n");
            Files.writeString(file, "include \"" + extra + "\"\nedge { sites = [{ root = \"" + dir.resolve("www")
                    + "\" }] }\n");
            assertThat(file.getParent()).as("a bare name").isNull();
            assertThat(ConfigLoader.checkOnly().load(file).server().maxConnections()).isEqualTo(77);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(extra);
        }
    }

    /** Not Typesafe's 50-level trace of parser objects: the cycle, at the include that closes it. */
    @Test
    void filesThatIncludeEachOtherAreOneProblemAtTheIncludeThatClosesTheCycle() throws Exception {
        Path a = write("a.conf", "include \"b.conf\"\nedge { sites = [] }\n");
        Path b = write("b.conf", "# b\n\ninclude \"a.conf\"\n");
        assertThat(problems(a)).singleElement().hasToString(b + ":3: include \"a.conf\": include cycle: " + a
                + " includes " + b + " includes " + a + " (expected: no file that includes, directly or not, itself)");
        // three files in the cycle, entered from a fourth outside it
        Path root = write("root.conf", "include \"c1.conf\"\nedge { sites = [] }\n");
        Path c1 = write("c1.conf", "include \"c2.conf\"\n");
        Path c2 = write("c2.conf", "include \"c3.conf\"\n");
        Path c3 = write("c3.conf", "\ninclude \"c1.conf\"\n");
        assertThat(problems(root)).singleElement().hasToString(c3 + ":2: include \"c1.conf\": include cycle: " + c1
                + " includes " + c2 + " includes " + c3 + " includes " + c1
                + " (expected: no file that includes, directly or not, itself)");
    }

    /**
     * An escaped quote ({@code \"}) does not end a string: the comment after {@code "27\" wide"} is a comment, and a
     * {@code #} in {@code "5\" #1"} is the string's. Each once ended the string there, so an include in the comment was
     * taken for the directive, or a real one after the string for a comment.
     */
    @Test
    void anIncludeAfterAStringWithAnEscapedQuoteIsReadAsTheParserReadsIt() throws Exception {
        Path commented = write("e3.conf", "edge { sites = [] }\n"
                + "edge.location-defaults.headers { X-Screen = \"27\\\" wide\" } # include required(\"gone.conf\")\n"
                + "include required(\"gone.conf\")\n");
        assertThat(problems(commented)).extracting(ConfigProblem::toString).contains(commented
                + ":3: include required(\"gone.conf\"): no such file " + dir.resolve("gone.conf")
                + " (a name is relative to the including file) (expected: an existing, readable file)");
        Path hashInString = write("e4.conf", "edge { sites = [] }\n"
                + "edge.location-defaults.headers { X-Size = \"5\\\" #1\" }, include required(\"lost.conf\")\n");
        assertThat(problems(hashInString)).extracting(ConfigProblem::toString).contains(hashInString
                + ":2: include required(\"lost.conf\"): no such file " + dir.resolve("lost.conf")
                + " (a name is relative to the including file) (expected: an existing, readable file)");
        Path a = write("e1.conf", "include \"e2.conf\"\nedge { sites = [] }\n");
        Path b = write("e2.conf", "edge.location-defaults.headers { X-Screen = \"27\\\" wide\" } # include \"e1.conf\"\n"
                + "\ninclude \"e1.conf\"\n");
        assertThat(problems(a)).singleElement().hasToString(b + ":3: include \"e1.conf\": include cycle: " + a
                + " includes " + b + " includes " + a + " (expected: no file that includes, directly or not, itself)");
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
        ConfigProblem problem = problems(file).stream().filter(p -> p.key() != null && p.key().startsWith("include")).findFirst()
                .orElseThrow();
        assertThat(problem.line()).isEqualTo(4);
        assertThat(problem.message()).startsWith("no such file " + dir.resolve("x.conf"));
    }

    @Test
    void missingRequiredFileUrlIncludeIsReportedAtTheIncludeLine() throws Exception {
        // Typesafe names the file a file: URL stands for, escapes decoded: a%20b.conf fails as "/nonexistent/a b.conf".
        for (String url : List.of("file:///nonexistent/a%20b.conf", "file:///nonexistent/x.conf",
                "file://localhost/nonexistent/x.conf")) {
            Path file = write("u1.conf", "edge { sites = [] }\n# include required(url(\"" + url + "\"))\n"
                    + "include required(url(\"" + url + "\"))\n");
            assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file + ":3: include required(url(\"" + url + "\")): "
                    + "no such file (expected: an existing, readable file)");
        }
    }

    @Test
    void anUnreachableUrlIncludeIsReportedAtTheIncludeLine() throws Exception {
        // Nothing listens on port 1: the connection is refused without leaving the machine. Typesafe fails even an
        // optional url include when the server cannot be reached (only a 404 counts as missing). The rest of the
        // configuration is still judged (it hid every other problem): here its empty sites.
        Path file = write("u2.conf", "edge {\n  sites = []\n}\ninclude url(\"http://127.0.0.1:1/x.conf\")\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(
                file + ":2: edge.sites: no sites (expected: at least one site, sites = [{ root = \"/srv/www\" }])",
                file + ":4: include url(\"http://127.0.0.1:1/x.conf\"): "
                        + "cannot be fetched (Connection refused) (expected: a URL that can be fetched)");
    }

    /**
     * A server that takes the connection and never answers held a --check-config, and a reload, for good: the JDK's
     * URL connection waits for ever unless told otherwise, and ConfigLoader tells it (10 s; this module's tests 1 s).
     */
    @Test
    void aUrlIncludeThatNeverAnswersIsAProblemOnceItsReadTimesOut() throws Exception {
        assertThat(ConfigLoader.URL_INCLUDE_TIMEOUT_MILLIS).isPositive();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String url = "http://127.0.0.1:" + silent.getLocalPort() + "/x.conf";
            Path file = write("u6.conf", "edge { sites = [] }\ninclude url(\"" + url + "\")\n");
            assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file + ":2: include url(\"" + url
                    + "\"): cannot be fetched (Read timed out) (expected: a URL that can be fetched)");
            // ConfigLoader's default where none was given, the one given (this module's surefire) where one was
            assertThat(System.getProperty("sun.net.client.defaultConnectTimeout")).isEqualTo("10000");
            assertThat(System.getProperty("sun.net.client.defaultReadTimeout")).isEqualTo("1000");
        }
    }

    @Test
    void anUnreachableUrlIncludeIsNotTakenForAFileIncludeOfTheSameName() throws Exception {
        write("x.conf", "# present\n");
        Path file = write("u4.conf", "edge { sites = [] }\ninclude \"x.conf\"\n\n\ninclude url(\"http://127.0.0.1:1/conf/x.conf\")\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file + ":5: include "
                + "url(\"http://127.0.0.1:1/conf/x.conf\"): cannot be fetched (Connection refused) (expected: a URL that can "
                + "be fetched)").hasSize(2);
    }

    @Test
    void aBareNameThatIsAUrlIsReportedAsAUrl() throws Exception {
        Path file = write("u5.conf", "edge { sites = [] }\ninclude \"http://127.0.0.1:1/x.conf\"\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file + ":2: include "
                + "\"http://127.0.0.1:1/x.conf\": cannot be fetched (Connection refused) (expected: a URL that can be "
                + "fetched)").hasSize(2);
    }

    @Test
    void aUrlIncludeAnsweredWith404IsNotFoundAtTheIncludeLine() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/gone.conf";
            Path file = write("u3.conf", "edge { sites = [] }\ninclude required(url(\"" + url + "\"))\n");
            assertThat(problems(file)).extracting(ConfigProblem::toString).contains(file + ":2: include required(url(\"" + url + "\")): "
                    + "not found (expected: a URL that can be fetched)");
        } finally {
            server.stop(0);
        }
    }

    /**
     * Where a key was expected, Typesafe says it expected a close parenthesis (lightbend/config#617) in a file that has
     * none; it is said in the file's terms, and an include's parenthesis left open is still asked for as one.
     */
    @Test
    void aMissingKeyIsNotCalledAMissingParenthesis() throws Exception {
        Path unclosed = write("k1.conf", "edge {\n  sites = []\n  server { io-threads = 2\n}\n");
        assertThat(problems(unclosed)).singleElement().satisfies(p -> assertThat(p.message())
                .isEqualTo("expecting a key or a closing '}' here, not: end of file (an unclosed { or [ ? the { on line 3,"
                        + " by the indentation of the } on line 4)"));
        Path braces = write("k2.conf", "edge {\n  sites = []\n  { io-threads = 2 }\n}\n");
        assertThat(problems(braces)).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).isEqualTo("expecting a key or a closing '}' here, not: '{'");
        });
        Path include = write("k3.conf", "edge {\n  include file(\"x.conf\"\n}\n");
        assertThat(problems(include)).singleElement()
                .satisfies(p -> assertThat(p.message()).isEqualTo("expecting a close parentheses ')' here, not: '}'"));
    }

    /**
     * The word {@code include} in a quoted string or a comment opens no include: the missing key is still called one.
     * The text after such a word was searched for an open parenthesis, and what the quotes held or the comment said
     * was taken for an include's.
     */
    @Test
    void anIncludeInAStringOrACommentIsNoOpenInclude() throws Exception {
        Path quoted = write("k4.conf", "edge {\n  sites = []\n  location-defaults.headers { X-Note = \"pages include drafts (beta\" }\n"
                + "  { io-threads = 2 }\n}\n");
        assertThat(problems(quoted)).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(4);
            assertThat(p.message()).isEqualTo("expecting a key or a closing '}' here, not: '{'");
        });
        Path commented = write("k5.conf", "edge {\n  sites = []\n  location-defaults.headers { X-Screen = \"27\\\" and wider\" }"
                + " # include (the old headers\n  { io-threads = 2 }\n}\n");
        assertThat(problems(commented)).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(4);
            assertThat(p.message()).isEqualTo("expecting a key or a closing '}' here, not: '{'");
        });
    }

    /**
     * nginx's location ~ \.php$ written in quotes: HOCON's strings escape as JSON's, and Typesafe's words said what was
     * wrong twice over in one line, then advised the quotes the value already had.
     */
    @Test
    void aBackslashThatEscapesNothingInAQuotedStringSaysHowToWriteOne() throws Exception {
        Path file = write("e1.conf", "edge {\n  sites = [{ root = www, locations = [\n"
                + "    { match = \"~ \\.php$\", fastcgi = php }\n  ] }]\n}\n");
        assertThat(problems(file)).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).isEqualTo("\\. in a quoted string is not an escape");
            assertThat(p.expected()).isEqualTo("\\\\ for a backslash, as in \"~ \\\\.php$\", or the string in triple"
                    + " quotes, where a backslash is itself: \"\"\"~ \\.php$\"\"\"");
        });
    }

    /** nginx's location ^~ /thumbs/ written without quotes: Typesafe's words said the reserved character twice. */
    @Test
    void aReservedCharacterOutsideQuotesIsSaidOnce() throws Exception {
        Path file = write("e2.conf", "edge {\n  sites = [{ root = www, locations = [\n"
                + "    { match = ^~ /thumbs/ }\n  ] }]\n}\n");
        assertThat(problems(file)).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).isEqualTo("'^' is not allowed outside quotes");
            assertThat(p.expected()).isEqualTo("the value (or key) in double quotes, as in match = \"^~ /thumbs/\"");
        });
    }

    /** edge reads a .conf file as HOCON, whatever it holds: Typesafe's advice to rename it .properties would not help. */
    @Test
    void aSyntaxErrorDoesNotAdviseRenamingTheFile() throws Exception {
        Path file = write("s7.conf", "edge {\n  sites = []\n  server.io-threads = }\n}\n");
        assertThat(problems(file)).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(3);
            assertThat(p.message()).isEqualTo("Expecting a value but got wrong token: '}' (if you intended '}' to be part "
                    + "of a key or string value, try enclosing the key or value in double quotes)");
        });
    }

    /**
     * Typesafe stops at the first syntax error, and parses a file whole before it reads what it includes: an error
     * in the main file hid every included file's, and one in an included file hid those of the files after it. Each
     * file is parsed on its own, so all are listed at once, in the order the configuration reads.
     */
    @Test
    void aSyntaxErrorInOneFileHidesNoOtherFilesSyntaxError() throws Exception {
        Path first = write("first.conf", "edge.server.listen = [\n");
        Path second = write("second.conf", "edge {\n  static.fd-budget = = 3\n}\n");
        Path file = write("main.conf", "include \"first.conf\"\ninclude \"second.conf\"\n"
                + "edge {\n  sites = []\n  server.io-threads = }\n}\n");
        assertThat(problems(file)).extracting(ConfigProblem::file, ConfigProblem::line).containsExactly(
                tuple(first, 2), tuple(second, 2),
                tuple(file, 5));
        assertThat(problems(file).get(1).message()).isEqualTo("Expecting a value but got wrong token: '=' (if you "
                + "intended '=' to be part of a key or string value, try enclosing the key or value in double quotes)");
        Files.writeString(file, "include \"first.conf\"\ninclude \"second.conf\"\nedge { sites = [] }\n");
        assertThat(problems(file)).as("the main file without one").extracting(ConfigProblem::file)
                .containsExactly(first, second);
    }

    @Test
    void anUnclosedBracketAtTheEndGetsTheHintToo() throws Exception {
        Path file = write("s6.conf", "edge {\n  sites = [\n");
        assertThat(problems(file)).singleElement()
                .satisfies(p -> assertThat(p.message()).endsWith("(an unclosed { or [ ? the [ on line 2 is the last left open)"));
    }

    /**
     * A brace left open in a long file was reported at its end alone, with no hint of which: the } whose indentation is
     * less than the line that opened what it closes points to the brace left open there, before it. Braces and
     * brackets in strings and comments are not counted.
     */
    @Test
    void anUnclosedBraceIsFoundByTheIndentationOfTheBraceAfterIt() throws Exception {
        Path file = write("s8.conf", "edge {\n  server {\n    listen = [\"127.0.0.1:8080\"] # [ {\n  }\n"
                + "  sites = [{ root = www, locations = [\n    { match = \"/{\", return = 404 }\n  ] }]\n"
                + "  static {\n    threads = 4\n  fastcgi.backends {}\n}\n");
        assertThat(problems(file)).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(12);
            assertThat(p.message()).isEqualTo("expecting a key or a closing '}' here, not: end of file (an unclosed"
                    + " { or [ ? the { on line 8, by the indentation of the } on line 11)");
        });
    }

    @Test
    void missingIncludeInAnIncludedFileIsReportedThere() throws Exception {
        Files.createDirectory(dir.resolve("sub"));
        Path inner = write("sub/inner.conf", "\n\ninclude required(file(\"" + dir.resolve("deeper.conf") + "\"))\n");
        Path file = write("edge.conf", "include required(file(\"" + inner + "\"))\nedge { sites = [] }\n");
        ConfigProblem problem = problems(file).stream().filter(p -> p.key() != null && p.key().startsWith("include")).findFirst()
                .orElseThrow();
        assertThat(problem.file()).isEqualTo(inner);
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.message()).isEqualTo("no such file");
    }

    /**
     * Each include that cannot be opened is a problem at its own line, also where another include of the same name is:
     * in the same file, or from another directory (where the name means another file); not once, at the first.
     */
    @Test
    void everyIncludeOfAMissingNameIsReportedAtItsOwnLine() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(dir.resolve("sub"));
        Path sub = write("sub/a.conf", """
                server.io-threads = 1
                include "missing.conf"
                include classpath("missing.conf")
                """);
        Path other = write("b.conf", "include \"missing.conf\"\n");
        Path file = write("edge.conf", """
                edge {
                  sites = [{ root = www }]
                  include "missing.conf"
                  server { include "missing.conf" }
                  include "sub/a.conf"
                  include classpath("missing.conf")
                  server { include "b.conf" }
                }
                """);
        assertThat(where(problems(file))).containsExactly(
                tuple(file, 3, "include \"missing.conf\""),
                tuple(file, 4, "include \"missing.conf\""),
                tuple(sub, 2, "include \"missing.conf\""),
                tuple(sub, 3, "include classpath(\"missing.conf\")"),
                tuple(file, 6, "include classpath(\"missing.conf\")"),
                tuple(other, 1, "include \"missing.conf\""));
        assertThat(problems(file)).filteredOn(p -> p.file().equals(sub) && p.line() == 2).extracting(ConfigProblem::message)
                .containsExactly("no such file " + dir.resolve("sub/missing.conf")
                        + " (a name is relative to the including file)");
    }

    /**
     * A value written as a triple-quoted string over several lines is named at the line it starts on, where its key is,
     * in an included file too (Typesafe places it at the line its closing quotes are on); the lines after it are
     * counted right. A line that closes one and has another value after it is that value's line: which of the two a
     * problem there is about cannot be told, and its key says it.
     */
    @Test
    void aProblemWithATripleQuotedStringOverSeveralLinesIsAtTheLineItStarts() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path included = write("inc.conf", """
                server {
                  name = \"""a
                b
                c\"""
                  io-threads = lots
                  x = \"""one "quoted" ""
                two\""" ${?EDGE_NOT_SET}
                  max-connections = 0
                  limits.body = \"""a
                b\""", limits.headers = -1
                }
                """);
        Path file = write("edge.conf", """
                edge {
                  sites = [{ root = www
                    x-banner = \"""
                line
                \"""
                  }]
                  include "inc.conf"
                  server.timeouts.body = \"""
                  7 parsecs\"""
                  server.timeouts.write = \"""3 parsecs\"""
                  static.queue-depth = 0
                }
                """);
        assertThat(where(problems(file))).containsExactly(
                tuple(file, 3, "edge.sites[0].x-banner"),
                tuple(included, 2, "edge.server.name"),
                tuple(included, 5, "edge.server.io-threads"),
                tuple(included, 6, "edge.server.x"),
                tuple(included, 8, "edge.server.max-connections"),
                tuple(included, 10, "edge.server.limits.headers"),
                tuple(included, 10, "edge.server.limits.body"),
                tuple(file, 8, "edge.server.timeouts.body"),
                tuple(file, 10, "edge.server.timeouts.write"),
                tuple(file, 11, "edge.static.queue-depth"));
    }

    /**
     * Typesafe reads a file's syntax whole before it follows its includes: a syntax error in a file kept its includes,
     * and those of the files read after it, from being tried, so an include of a missing file there was not listed
     * beside the syntax error. Every include of a file that is not there is, and of a resource not on the classpath.
     */
    @Test
    void anIncludeOfAMissingFileIsListedBesideASyntaxError() throws Exception {
        Path included = write("inc.conf", """
                include "missing.conf"
                include file("gone.conf")
                server.io-threads = = 2
                include "missing.conf"
                include required(classpath("nothing-here.conf"))
                include classpath("reference.conf")
                """);
        Path file = write("edge.conf", """
                edge {
                  sites = []
                  include "inc.conf"
                  include "missing.conf"
                }
                """);
        assertThat(where(problems(file))).containsExactly(
                tuple(included, 1, "include \"missing.conf\""),
                tuple(included, 2, "include file(\"gone.conf\")"),
                tuple(included, 3, null),
                tuple(included, 4, "include \"missing.conf\""),
                tuple(included, 5, "include required(classpath(\"nothing-here.conf\"))"),
                tuple(file, 4, "include \"missing.conf\""));
        assertThat(problems(file).get(1).toString()).isEqualTo(included + ":2: include file(\"gone.conf\"): no such file "
                + dir.resolve("gone.conf") + " (a name is relative to the including file) (expected: an existing,"
                + " readable file)");
    }

    /**
     * Typesafe refuses a file with substitutions included inside a list, in a paragraph of its own ("Due to current
     * limitations of the config parser, ..."): the problem is the include, named, with what would do.
     */
    @Test
    void anIncludeInsideAListOfAFileWithSubstitutionsIsNamed() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        write("site.conf", "root = www\nindex = [${?EDGE_NOPE_INDEX}]\n");
        Path file = write("l1.conf", "edge {\n  sites = [\n    { server-names = [a.org], include \"site.conf\" }\n  ]\n}\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(file + ":3: include"
                + " \"site.conf\": the file has substitutions (${...}), which cannot be resolved in a file included"
                + " inside a list (expected: the include outside the list, or no substitution in the file)");
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

    /**
     * A triple-quoted string left open reads to the end of the file: the problem is where it opens, not at the end
     * (Typesafe's "Expecting a value but got wrong token: ''" there), with what would close it.
     */
    @Test
    void anUnclosedTripleQuotedStringIsAProblemWhereItOpens() throws Exception {
        Path file = write("t1.conf", """
                edge {
                  sites = [{ root = www }]
                  server.access-log = \"""a.log\"""
                  server.max-connections = \"""12
                  server.io-threads = 2
                }
                """);
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(file + ":4: a triple-quoted"
                + " string is not closed: it runs to the end of the file (expected: \"\"\" where the string ends)");
    }

    /**
     * A quoted string left open at the end of its line was Typesafe's "Expecting a value but got wrong token: 'newline'
     * (JSON does not allow unescaped newline in quoted strings, ...) (if you intended 'newline' ... try enclosing the
     * key or value in double quotes)": JSON in a HOCON file, and advice to quote what is quoted.
     */
    @Test
    void aQuotedStringLeftOpenAtTheEndOfItsLineSaysSo() throws Exception {
        Path file = write("q1.conf", "edge {\n  sites = [{ root = www }]\n  server.access-log = \"a.log\n}\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(file + ":3: a quoted string is"
                + " not closed on its line (expected: a closing \" before the line ends, or \"\"\"...\"\"\" for a"
                + " string over several lines)");
    }

    @Test
    void anUnclosedBraceHintsAtItself() throws Exception {
        Path file = write("s5.conf", "edge {\n sites = []\n");
        ConfigProblem problem = problems(file).get(0);
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.message()).endsWith("end of file (an unclosed { or [ ? the { on line 1 is the last left open)");
    }

    /** Typesafe reads such bytes as U+FFFD without a word: "café" in Latin-1 was a root named "caf\uFFFD". */
    @Test
    void bytesThatAreNotUtf8AreAProblemAtTheirLineBesideTheOthers() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path file = dir.resolve("latin1.conf");
        String text = "edge {\n  server.max-connections = lots\n"
                + "  sites = [{ root = \"www\", server-names = [\"caf\u00e9.org\"] }]\n}\n";
        Files.write(file, text.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(
                file + ":2: edge.server.max-connections: \"lots\" is not a number (expected: a whole number >= 1)",
                file + ":3: not UTF-8 at byte offset " + text.indexOf('\u00e9') + " (0xE9) (expected: a file in UTF-8)");
    }

    @Test
    void bytesThatAreNotUtf8InAnIncludedFileAreAProblemThere() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path included = dir.resolve("names.conf");
        Files.write(included, "# Stra\u00dfe\nedge.server.max-connections = 5\n".getBytes(StandardCharsets.ISO_8859_1));
        Path file = write("edge.conf", "include \"names.conf\"\nedge { sites = [{ root = \"www\" }] }\n");
        assertThat(problems(file)).singleElement()
                .hasToString(included + ":1: not UTF-8 at byte offset 6 (0xDF) (expected: a file in UTF-8)");
    }

    /** The include walk reads such a file as Typesafe does: the missing include is still found at its line. */
    @Test
    void aMissingIncludeInAFileThatIsNotUtf8IsStillReportedAtItsLine() throws Exception {
        Path file = dir.resolve("latin1.conf");
        Files.write(file, "# \u00e9t\u00e9\nedge {\n  sites = []\n  include \"nope.conf\"\n}\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(
                file + ":1: not UTF-8 at byte offset 2 (0xE9) (expected: a file in UTF-8)",
                file + ":3: edge.sites: no sites (expected: at least one site, sites = [{ root = \"/srv/www\" }])",
                file + ":4: include \"nope.conf\": no such file " + dir.resolve("nope.conf")
                        + " (a name is relative to the including file) (expected: an existing, readable file)");
    }

    @Test
    void noJavaClassNameInAnyMessage() {
        assertThat(ParseErrors.withoutClassNames("x.conf: java.io.FileNotFoundException: x.conf (No such file)"))
                .isEqualTo("x.conf: x.conf (No such file)");
        assertThat(ParseErrors.withoutClassNames("com.typesafe.config.ConfigException$IO: gone")).isEqualTo("gone");
    }

    /**
     * A configuration given as a .properties file: read as HOCON, its first "key=host:port" line was a syntax error that
     * named no key (config fuzz); it is refused as what it is, the one problem.
     */
    @Test
    void aPropertiesFileIsRefusedAsOneRatherThanReadAsHocon() throws Exception {
        Path file = Files.writeString(dir.resolve("edge.properties"),
                "edge.server.listen.0=127.0.0.1:8080\nedge.sites.0.root=www\n");
        assertThat(problems(file)).extracting(ConfigProblem::toString).containsExactly(file
                + ": is a .properties file, which edge does not read (expected: a HOCON configuration file (.conf; JSON is"
                + " HOCON too))");
    }

    /**
     * An included .properties file is read as one, as Typesafe reads it anywhere else: it was read as HOCON, the main
     * file's syntax (its {@code a b = c} a syntax error). Its values' problems are at their lines, which Typesafe does
     * not give them, and a syntax error elsewhere does not have it parsed as HOCON for one of its own.
     */
    @Test
    void anIncludedPropertiesFileIsReadAsPropertiesWithItsProblemsAtTheirLines() throws Exception {
        Path properties = write("tuning.properties", "# generated\nedge.server.io-threads = lots\n"
                + "edge.static.fd-budget: 1 2 3 = =\n");
        Path file = write("main.conf", "edge { sites = [] }\ninclude \"tuning.properties\"\n");
        assertThat(problems(file)).filteredOn(p -> p.file().equals(properties)).extracting(ConfigProblem::line,
                ConfigProblem::key).containsExactly(tuple(2, "edge.server.io-threads"), tuple(3, "edge.static.fd-budget"));
        Path broken = write("broken.conf", "edge { sites = [] }\ninclude file(\"tuning.properties\")\nedge.x = = 1\n");
        assertThat(problems(broken)).extracting(ConfigProblem::file).containsExactly(broken);
    }

    /**
     * A .properties file included by a file fetched from a URL is fetched beside it, as Typesafe reads a name there: not
     * read from the working directory (only a file's includes are read as files beside it). A key set twice in one has
     * its problem at the line that counts, the last.
     */
    @Test
    void anIncludedPropertiesFileBesideAUrlIsFetchedAndAKeySetTwiceIsPlacedAtItsLastLine() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body = (path.endsWith("/inc.conf") ? "include \"t.properties\"\n"
                    : path.endsWith("/t.properties") ? "! properties, not HOCON\nedge.server.max-connections 77\n" : "")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(body.length == 0 ? 404 : 200, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            Files.createDirectories(dir.resolve("www"));
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/cfg/inc.conf";
            Path file = write("main.conf", "edge { sites = [{ root = www }] }\ninclude url(\"" + url + "\")\n");
            assertThat(new ConfigLoader().load(file).server().maxConnections()).isEqualTo(77);
        } finally {
            server.stop(0);
        }
        Path twice = write("twice.properties", "edge.server.io-threads = 2\n# the one that counts:\n"
                + "edge.server.io-threads = lots\n");
        Path file = write("main2.conf", "edge { sites = [] }\ninclude \"twice.properties\"\n");
        assertThat(problems(file)).filteredOn(p -> p.file().equals(twice)).extracting(ConfigProblem::line,
                ConfigProblem::message).containsExactly(tuple(3, "\"lots\" is not a number"));
        // included inside an object, its keys are written without the object's path: found all the same (it had no line)
        Path inner = write("inner.properties", "# inside edge { }\nserver.timeouts.body = 5 years\n");
        Path nested = write("main3.conf", "edge {\n  sites = []\n  include \"inner.properties\"\n}\n");
        assertThat(problems(nested)).filteredOn(p -> p.file().equals(inner)).extracting(ConfigProblem::line,
                ConfigProblem::key).containsExactly(tuple(2, "edge.server.timeouts.body"));
    }

    /**
     * A bad value or a syntax error in a file fetched by an include url(...) is placed at that include, in the file that
     * has it, with the URL and its line there: it was named as the main file's, at the URL file's line numbers, where the
     * main file had something else (the config audit).
     */
    @Test
    void aProblemInAUrlIncludeIsPlacedAtTheIncludeAndNamesTheUrlAndItsLine() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = (exchange.getRequestURI().getPath().endsWith("/bad.conf")
                    ? "server {\n  io-threads = lots\n  bogus = 1\n}\n" : "server {\n  io-threads = [\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            Files.createDirectories(dir.resolve("www"));
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            Path inner = write("inner.conf", "# the include\n\ninclude url(\"" + base + "/bad.conf\")\n");
            Path file = write("main.conf", "edge {\n  sites = [{ root = www }]\n  include \"inner.conf\"\n}\n");
            assertThat(problems(file)).extracting(ConfigProblem::file, ConfigProblem::line, ConfigProblem::key,
                    ConfigProblem::message).containsExactlyInAnyOrder(
                    tuple(inner, 3, "edge.server.io-threads", "\"lots\" is not a number (in " + base + "/bad.conf line 2)"),
                    tuple(inner, 3, "edge.server.bogus", "unknown key (in " + base + "/bad.conf line 3)"));
            Path broken = write("broken.conf", "edge {\n  sites = [{ root = www }]\n}\n\ninclude url(\"" + base
                    + "/broken.conf\")\n");
            assertThat(problems(broken)).singleElement().satisfies(p -> {
                assertThat(p.file()).isEqualTo(broken);
                assertThat(p.line()).isEqualTo(5);
                assertThat(p.message()).endsWith("(in " + base + "/broken.conf line 3)");
            });
        } finally {
            server.stop(0);
        }
    }

    private List<ConfigProblem> problems(Path file) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file));
        assertThat(e).as("loading should fail").isNotNull();
        assertThat(e.getMessage()).doesNotContain("Exception");
        return e.problems();
    }

    /** Where each of {@code problems} is: its file, line and key. */
    private static List<org.assertj.core.groups.Tuple> where(List<ConfigProblem> problems) {
        return problems.stream().map(p -> tuple(p.file(), p.line(), p.key())).toList();
    }

    private Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }
}
