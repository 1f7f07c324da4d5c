package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.spawn.PhpFpmSupervisor;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: config validation, exit codes, graceful SIGTERM, SIGUSR1 and SIGHUP (its reload: ReloadIT). */
class EdgeProcessIT {

    @TempDir
    Path dir;

    /**
     * Writes edge.conf: one default site serving {@code root} under the test's directory, listening on {@code port}
     * (0: one the kernel gives edge as it binds, {@link EdgeProcess#awaitBoundPort}), with {@code serverSettings} (e.g.
     * {@code access-log = off}) in its server block.
     */
    private Path defaultSiteConf(int port, String serverSettings) throws IOException {
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "edge {\n server { listen = [\"127.0.0.1:" + port + "\"], " + serverSettings + " }\n"
                + " sites = [{ server-names = [\"_\"], default = true, root = \"root\" }]\n}\n");
        return conf;
    }

    @Test
    void checkConfigListsEveryProblemWithLinesAndExits2() throws Exception {
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, """
                edge {
                  server {
                    listen = ["127.0.0.1:8080"]
                    keep-alive-timeout = 10 s
                    max-connections = lots
                  }
                  fastcgi.backends.php { addresses = ["127.0.0.1:9000"], queue.timeout = "3 parsecs" }
                  sites = [{ root = "." }]
                }
                """);
        try (EdgeProcess edge = EdgeProcess.start(dir, "--check-config", "-c", conf.toString())) {
            assertThat(edge.await()).isEqualTo(2);
            String output = edge.output();
            assertThat(output.lines()).hasSize(3);
            assertThat(output).contains("bad.conf:4: edge.server.keep-alive-timeout: unknown key")
                    .contains("bad.conf:5: edge.server.max-connections: \"lots\" is not a number")
                    .contains("bad.conf:7: edge.fastcgi.backends.php.queue.timeout: \"3 parsecs\" is not a duration")
                    .doesNotContain("Exception").doesNotContain("\tat ");
        }
    }

    /** A syntax error in the main file hid every included file's: each file's is listed, in the order they read. */
    @Test
    void checkConfigListsTheSyntaxErrorOfEveryFileAndExits2() throws Exception {
        Path included = dir.resolve("limits.conf");
        Files.writeString(included, "edge.server.listen = [\n");
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, "include \"limits.conf\"\nedge {\n  sites = []\n  server.io-threads = }\n}\n");
        try (EdgeProcess edge = EdgeProcess.start(dir, "--check-config", "-c", conf.toString())) {
            assertThat(edge.await()).isEqualTo(2);
            assertThat(edge.output().lines()).hasSize(2);
            assertThat(edge.output().lines().toList().get(0)).startsWith(included + ":2: List should have ]");
            assertThat(edge.output().lines().toList().get(1)).startsWith(conf + ":4: Expecting a value but got wrong token");
        }
    }

    @Test
    void serverRefusesToStartOnABadConfigWithTheSameMessages() throws Exception {
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, "edge.server.max-connections = -5\n");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            assertThat(edge.await()).isEqualTo(2);
            assertThat(edge.output()).contains("bad.conf:1: edge.server.max-connections");
        }
        // and -s on it says that nothing was sent (the running server is left as it is)
        try (EdgeProcess refused = EdgeProcess.start(dir, "-s", "reload", "-c", conf.toString())) {
            assertThat(refused.await()).isEqualTo(2);
            assertThat(refused.output().lines()).contains("edge: no signal sent (reload): the configuration has "
                    + "problems");
        }
    }

    @Test
    void aPortInUseAtStartExits1NamingTheFileLineAndKeyOfTheListenSetting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ServerSocket alsoTaken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Path conf = dir.resolve("edge.conf");
            Files.writeString(conf, """
                    edge {
                      server {
                        access-log = off
                        listen = [
                          "127.0.0.1:0"
                          "127.0.0.1:%d"
                          "127.0.0.1:%d"
                        ]
                      }
                      sites = [{ root = "." }]
                    }
                    """.formatted(port, alsoTaken.getLocalPort()));
            try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
                assertThat(edge.await()).isEqualTo(1);
                // every address in use at once, as every problem of a file is (only the first was named)
                assertThat(edge.output()).contains(conf + ":6: edge.server.listen[1]: 127.0.0.1:" + port
                        + ": address already in use", conf + ":7: edge.server.listen[2]: 127.0.0.1:"
                        + alsoTaken.getLocalPort() + ": address already in use").doesNotContain("\tat ");
            }
        }
    }

    @Test
    void checkConfigReportsAFailingUrlIncludeAtItsLineAndExits2() throws Exception {
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, "edge { sites = [] }\ninclude required(url(\"file:///nonexistent/a%20b.conf\"))\n");
        try (EdgeProcess edge = EdgeProcess.start(dir, "--check-config", "-c", conf.toString())) {
            assertThat(edge.await()).isEqualTo(2);
            assertThat(edge.output()).isEqualTo(conf + ":1: edge.sites: no sites (expected: at least one site, "
                    + "sites = [{ root = \"/srv/www\" }])\n"
                    + conf + ":2: include required(url(\"file:///nonexistent/a%20b.conf\")): "
                    + "no such file (expected: an existing, readable file)\n");
        }
    }

    @Test
    void aPhpFpmThatFailsToStartInATemporaryRunDirIsQuotedNotSentForAndEdgeExits1() throws Exception {
        Path fake = dir.resolve("fake-fpm");
        Files.writeString(fake, "#!/bin/sh\necho 'ERROR: boom from fake fpm' >&2\nexit 78\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        Files.createDirectory(dir.resolve("www"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off }
                  sites = [{ root = www }]
                  fastcgi.backends.php.spawn { enabled = true, command = "%s", workers = 1 }
                }
                """.formatted(0, fake));
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            assertThat(edge.await()).isEqualTo(1);
            String output = edge.output();
            assertThat(output).contains("could not start: php-fpm for group php exited with status 78")
                    .contains("ends with:\nERROR: boom from fake fpm").doesNotContain("php-fpm.log");
            Matcher socket = Pattern.compile("accepting on (\\S+)/php/php-fpm\\.sock").matcher(output);
            assertThat(socket.find()).as("the socket named in:\n" + output).isTrue();
            assertThat(Path.of(socket.group(1))).as("the temporary run directory").doesNotExist();
        }
    }

    /**
     * SIGTERM while edge waits for the php-fpm it spawned to listen (up to 10 s): the start is abandoned rather than
     * waited out, the php-fpm being started is stopped, the temporary run directory removed, and edge exits 0 as after
     * any SIGTERM, saying why it did not start. This stand-in never listens and ignores SIGQUIT and SIGTERM.
     */
    @Test
    void sigtermWhileASpawnedPhpFpmStartsAbandonsTheStartStopsItAndExits0() throws Exception {
        Path started = dir.resolve("stuck-fpm.started");
        Path fake = dir.resolve("stuck-fpm");
        // Writes its pid and its config file (the last argument, in the run directory's php/), then waits; answers the
        // configuration check's -v (which PHP it is) as no PHP does, so is not judged.
        Files.writeString(fake, "#!/bin/sh\n[ \"$1\" = -v ] && exit 0\ntrap '' QUIT TERM\nfor conf; do :; done\n"
                + "echo \"$$ $conf\" > '" + started + "'\nexec sleep 600\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        Files.createDirectory(dir.resolve("www"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off }
                  sites = [{ root = www }]
                  fastcgi.backends.php.spawn { enabled = true, command = "%s", workers = 1 }
                }
                """.formatted(0, fake));
        long phpFpm = -1;
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            EdgeProcess.awaitExists(started);
            Awaits.await(() -> Files.readString(started).endsWith("\n"), started + " written whole");
            String[] pidAndConf = Files.readString(started).strip().split(" ", 2);
            phpFpm = Long.parseLong(pidAndConf[0]);
            ProcessHandle starting = ProcessHandle.of(phpFpm).orElseThrow();
            Path runDir = Path.of(pidAndConf[1]).getParent().getParent();
            edge.verify(() -> {
                assertThat(runDir).as("the temporary run directory").isDirectory();

                edge.process.destroy(); // SIGTERM

                assertThat(edge.await()).isZero();
                assertThat(edge.output())
                        .contains("start abandoned: shutting down (php-fpm for group php was stopped while starting)")
                        .contains("stopped")
                        .doesNotContain("did not accept");
                assertThat(starting.isAlive()).as("the php-fpm being started").isFalse();
                assertThat(runDir).as("the temporary run directory").doesNotExist();
            });
        } finally {
            if (phpFpm > 0) { // whatever this test left behind
                new ProcessBuilder("kill", "-KILL", "--", "-" + phpFpm).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * A server name in Latin-1 (read as U+FFFD) and a run-dir in /proc (where root may write, as access(2) says, but
     * no directory can be made) passed --check-config, "configuration ok"; the run-dir then failed the start.
     */
    @Test
    void checkConfigReportsBytesThatAreNotUtf8AndARunDirThatCannotBeMadeAndExits2() throws Exception {
        Files.createDirectories(dir.resolve("root"));
        Path conf = dir.resolve("latin1.conf");
        String text = "edge {\n  server.run-dir = \"/proc/edge-run\"\n"
                + "  sites = [{ server-names = [\"caf\u00e9.example\"], root = \"root\" }]\n}\n";
        Files.write(conf, text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        try (EdgeProcess edge = EdgeProcess.start(dir, "--check-config", "-c", conf.toString())) {
            assertThat(edge.await()).isEqualTo(2);
            String output = edge.output();
            assertThat(output.lines()).hasSize(2);
            assertThat(output).contains(conf + ":2: edge.server.run-dir: /proc/edge-run cannot be created")
                    .contains(conf + ":3: not UTF-8 at byte offset " + text.indexOf('\u00e9') + " (0xE9)")
                    .doesNotContain("Exception").doesNotContain("\tat ");
        }
        assertThat(Path.of("/proc/edge-run")).doesNotExist();
    }

    /**
     * A site root edge's user cannot search passed --check-config, "configuration ok", and the server then answered
     * every file under it with 403, logging nothing (nginx logs each EACCES). Root searches every directory, so as root
     * edge runs here without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, as any other user would.
     */
    @Test
    void checkConfigReportsASiteRootEdgeCannotSearchAndExits2() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("a.txt"), "a");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rw-------"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "edge {\n  sites = [{ root = \"root\" }]\n}\n");
        List<String> withoutRootsOverride = "root".equals(System.getProperty("user.name"))
                ? List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search") : List.of();
        try (EdgeProcess edge = EdgeProcess.startUnder(withoutRootsOverride, dir, "--check-config", "-c", conf.toString())) {
            assertThat(edge.await()).isEqualTo(2);
            assertThat(edge.output()).contains(conf + ":2: edge.sites[0].root: " + root
                    + " cannot be searched by edge's user (no x permission)").doesNotContain("\tat ");
        } finally {
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        }
    }

    /**
     * An error page edge's user may not read refused the whole configuration, where nginx 1.22.1 starts (nginx -t opens
     * no error_page file) and answers its redirect to the page with its own 403 (measured: a page of mode 000 to its
     * workers' user). It is a warning naming the file at --check-config (ok, exit 0) and at the start, and the errors
     * are answered so; the page is read once it may be. Run as root, edge runs here without CAP_DAC_OVERRIDE and
     * CAP_DAC_READ_SEARCH, as any other user would.
     */
    @Test
    void anErrorPageEdgeMayNotReadIsAWarningAndItsErrorsAre403AsNginxAnswersThem() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path page = Files.writeString(Files.createDirectories(root.resolve("errors")).resolve("404.html"),
                "<p>nope</p>");
        Files.setPosixFilePermissions(page, PosixFilePermissions.fromString("---------"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "edge {\n server { listen = [\"127.0.0.1:0\"], access-log = off }\n"
                + " sites = [{ root = \"root\", error-pages { 404 = \"/errors/404.html\" } }]\n}\n");
        String warning = conf + ":3: edge.sites[0].error-pages.404: error page " + page + " cannot be read (";
        List<String> withoutRootsOverride = "root".equals(System.getProperty("user.name"))
                ? List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search") : List.of();
        try (EdgeProcess check = EdgeProcess.startUnder(withoutRootsOverride, dir, "--check-config", "-c",
                conf.toString())) {
            assertThat(check.await()).isZero();
            assertThat(check.output()).contains("warning: " + warning).contains("its errors are answered 403 (as"
                    + " nginx's error_page to a file it may not open) until it is mended").contains("configuration ok");
        }
        try (EdgeProcess edge = EdgeProcess.startUnder(withoutRootsOverride, dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                edge.awaitOutput(warning);
                java.util.concurrent.Callable<String> missing = () -> {
                    HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/missing")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    return answer.statusCode() + " " + answer.body();
                };
                assertThat(missing.call()).startsWith("403 <html><head><title>403 Forbidden</title>");
                Files.setPosixFilePermissions(page, PosixFilePermissions.fromString("rw-r--r--"));
                Awaits.until(missing, "404 <p>nope</p>"::equals, "the page made readable is sent");
            });
        }
    }

    /**
     * A FastCGI group's Unix socket that is there but edge's user may not write (php-fpm's listen.mode for another
     * user) passed --check-config, "configuration ok", and every request to it then got 502 (connect: EACCES). Run as
     * root, edge runs here without CAP_DAC_OVERRIDE, as any other user would. A socket not there yet passes.
     */
    @Test
    void checkConfigReportsAFastCgiSocketEdgeMayNotWriteAndExits2() throws Exception {
        Path socket = dir.resolve("fpm.sock");
        try (java.nio.channels.ServerSocketChannel listening = java.nio.channels.ServerSocketChannel.open(
                java.net.StandardProtocolFamily.UNIX)) {
            listening.bind(java.net.UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("r--r--r--"));
            Path conf = dir.resolve("edge.conf");
            Files.writeString(conf, """
                    edge {
                      sites = [{ root = "." }]
                      fastcgi.backends.php.addresses = ["unix:%s", "unix:%s"]
                    }
                    """.formatted(socket, dir.resolve("later.sock")));
            List<String> withoutRootsOverride = "root".equals(System.getProperty("user.name"))
                    ? List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search") : List.of();
            try (EdgeProcess edge = EdgeProcess.startUnder(withoutRootsOverride, dir, "--check-config", "-c",
                    conf.toString())) {
                assertThat(edge.await()).isEqualTo(2);
                assertThat(edge.output().lines()).singleElement().asString().startsWith(conf
                        + ":3: edge.fastcgi.backends.php.addresses[0]: \"unix:" + socket + "\": " + socket
                        + " is a socket edge's user (").contains("(EACCES)").doesNotContain("later.sock");
            }
        }
    }

    /**
     * ".a.org" claims a.org too: with "a.org" in another site that is a warning naming both and which answers, at
     * --check-config (still ok, exit 0) and at the start, as nginx's "conflicting server name"; it passed without a word.
     */
    @Test
    void conflictingServerNamesAreAWarningAtCheckConfigAndAtTheStart() throws Exception {
        Files.createDirectories(dir.resolve("root"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "edge {\n server { listen = [\"127.0.0.1:0\"], access-log = off }\n"
                + " sites = [{ server-names = [\".a.org\"], default = true, root = \"root\" },\n"
                + "   { server-names = [\"a.org\"], root = \"root\" }]\n}\n");
        String warning = "conflicting server name \"a.org\" of edge.sites[1] and \".a.org\" of edge.sites[0]: "
                + "requests for a.org go to edge.sites[0], listed first";
        try (EdgeProcess check = EdgeProcess.start(dir, "--check-config", "-c", conf.toString())) {
            assertThat(check.await()).isZero();
            assertThat(check.output()).contains("warning: " + warning).contains("configuration ok");
        }
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                edge.awaitOutput(warning);
                assertThat(edge.output()).containsOnlyOnce(warning);
            });
        }
    }

    /**
     * --check-config says what a start would warn of about the account PHP runs as: PHP as root (a server run as root,
     * no spawn.user), or a spawn.user that is not applied (a server not run as root). It said neither.
     */
    @Test
    void checkConfigWarnsOfTheAccountPhpRunsAsAsTheStartDoes() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  sites = [{ root = www }]
                  fastcgi.backends.php.spawn { enabled = true, command = "%s", workers = 1 }
                }
                """.formatted(PhpFpm.BINARY));
        boolean root = PhpFpmSupervisor.runningAsRoot(); // these tests run as edge would
        try (EdgeProcess check = EdgeProcess.start(dir, "--check-config", "-c", conf.toString())) {
            assertThat(check.await()).isZero();
            assertThat(check.output()).contains("configuration ok");
            if (root) {
                assertThat(check.output()).contains("warning: php-fpm for group php runs PHP as root, as edge runs: set"
                        + " fastcgi.backends.php.spawn.user (such as www-data, who must be able to read the scripts)");
            } else {
                assertThat(check.output()).doesNotContain("runs PHP as root");
            }
        }
    }

    @Test
    void checkConfigAcceptsTheBundledExample() throws Exception {
        Path example = Path.of(System.getProperty("edge.home"), "examples", "edge.conf");
        try (EdgeProcess edge = EdgeProcess.start(dir, "--check-config", "-c", example.toString())) {
            int code = edge.await();
            assertThat(edge.output()).contains("configuration ok");
            assertThat(code).isZero();
        }
    }

    /**
     * Started without a locale (a systemd unit without LANG, cron, env -i), JDK 17 reads file names as ASCII, and a
     * file whose name is not (café.txt) was a 500 with a stack trace per request. bin/edge runs the JVM under a UTF-8
     * locale then, so it is served; a JVM started otherwise is told at start.
     */
    @Test
    void withoutALocaleBinEdgeServesNonAsciiFileNamesAndAnotherLauncherIsWarnedAndAnswers404() throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("root")).resolve("café.txt"), "café");
        for (boolean byLauncher : new boolean[] {true, false}) {
                Path conf = defaultSiteConf(0, "access-log = off");
            try (EdgeProcess edge = EdgeProcess.startWithoutLocale(byLauncher, dir, "-c", conf.toString())) {
                edge.verify(() -> {
                    int port = edge.awaitBoundPort();
                    if (byLauncher) {
                        assertThat(EdgeProcess.get(HttpClient.newHttpClient(), port, "/caf%C3%A9.txt"))
                                .isEqualTo("café");
                        assertThat(edge.output()).doesNotContain("file names");
                    } else {
                        // the error log is written by a thread of its own: listening says nothing of what it wrote
                        edge.awaitOutput("file names are read as ANSI_X3.4-1968");
                        assertThat(edge.output()).contains("WARN");
                        // no file here can have a name that charset cannot write: 404, and no stack trace logged
                        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/caf%C3%A9.txt")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(answer.statusCode()).isEqualTo(404);
                        edge.awaitOutput("/caf%C3%A9.txt");
                        assertThat(edge.output()).doesNotContain("InvalidPathException").doesNotContain("\tat ");
                    }
                });
            }
        }
    }

    @Test
    void sigtermLetsARunningDownloadFinishThenExits0() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path big = root.resolve("big.bin");
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[1 << 20];
        Random random = new Random(42);
        try (FileChannel out = FileChannel.open(big, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 100; i++) {
                random.nextBytes(block);
                expected.update(block);
                out.write(java.nio.ByteBuffer.wrap(block));
            }
        }
        Path conf = defaultSiteConf(0, "access-log = off, timeouts.drain = 60 s");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpResponse<InputStream> response = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/big.bin")).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertThat(response.statusCode()).isEqualTo(200);
                MessageDigest actual = MessageDigest.getInstance("SHA-256");
                long received = 0;
                try (InputStream body = response.body()) {
                    byte[] buffer = new byte[64 * 1024];
                    int n = body.read(buffer);
                    actual.update(buffer, 0, n);
                    received += n;
                    edge.process.destroy(); // SIGTERM while most of the file is still to come
                    edge.awaitOutput("shutting down");
                    // a reload signal while it drains reloads nothing, and says so once (it logged a failure each)
                    edge.signal("HUP");
                    edge.signal("HUP");
                    edge.awaitOutput("a reload signal while edge stops: not reloading");
                    while ((n = body.read(buffer)) > 0) {
                        actual.update(buffer, 0, n);
                        received += n;
                    }
                }
                assertThat(received).isEqualTo(100L << 20);
                assertThat(HexFormat.of().formatHex(actual.digest())).isEqualTo(HexFormat.of().formatHex(expected.digest()));
                assertThat(edge.await()).isZero();
                assertThat(edge.output()).doesNotContain("reload failed").doesNotContain("(generation 2)");
                assertThat(edge.output().lines().filter(line -> line.contains("not reloading"))).hasSize(1);
            });
        }
    }

    /**
     * A second SIGTERM (or SIGINT: Ctrl-C twice) during the drain stops waiting for it: the connections still open are
     * closed and edge exits 0 at once, as nginx's fast stop, instead of after the drain timeout (an hour here) with no
     * word of the second signal. A client that reads nothing holds its download open meanwhile.
     */
    @Test
    void aSecondSigtermDuringTheDrainClosesWhatIsLeftAndExits0() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        try (var file = new java.io.RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
            file.setLength(256L << 20);
        }
        Path conf = defaultSiteConf(0, "access-log = off, timeouts.drain = 1 h");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString());
             java.net.Socket stalled = new java.net.Socket()) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                stalled.setReceiveBufferSize(4096);
                stalled.connect(new java.net.InetSocketAddress("127.0.0.1", port));
                stalled.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                stalled.getInputStream().read(); // its answer has begun: the drain waits for it
                edge.signal("TERM");
                edge.awaitOutput("shutting down: draining");
                edge.signal("INT");
                assertThat(edge.await()).isZero();
                assertThat(edge.output()).contains("SIGINT during the drain: ending it now, the 1 connections still open closed")
                        .contains("stopped (drain cut short by a second signal)").doesNotContain("drain timeout");
            });
        }
    }

    /**
     * The second signal is php-fpm's fast stop too: a script still running is ended (SIGTERM), not waited for up to
     * php-fpm's process_control_timeout (SIGQUIT, 10 s), as nginx's fast stop does not wait for its upstreams.
     */
    @Test
    void aSecondSigtermStopsPhpFpmItsFastWay() throws Exception {
        Path started = busyScript();
        Path conf = spawnedPhpConf(0, 1, "timeouts.drain = 1 h");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString());
             java.net.Socket client = new java.net.Socket()) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                runBusyScript(client, port, started);
                edge.signal("TERM");
                edge.awaitOutput("shutting down: draining");
                edge.signal("TERM");
                assertThat(edge.await()).isZero();
                assertThat(Files.readString(dir.resolve("run/php/php-fpm.log"))).contains("Terminating ...")
                        .doesNotContain("Finishing ...");
            });
        }
    }

    /**
     * A drain that runs out stops php-fpm its fast way too: a script still running is ended (SIGTERM), not waited for
     * up to php-fpm's process_control_timeout (SIGQUIT, 10 s) past the drain, which took a 2 s drain to 12 s. The drain
     * is the one a reload set, and the shutdown line says so (it said the start's).
     */
    @Test
    void aDrainThatRunsOutStopsPhpFpmItsFastWayAndIsTheOneAReloadSet() throws Exception {
        Path started = busyScript();
        Path conf = spawnedPhpConf(0, 1, "timeouts.drain = 1 h");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString());
             java.net.Socket client = new java.net.Socket()) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                spawnedPhpConf(0, 1, "timeouts.drain = 1 s");
                edge.signal("HUP");
                edge.awaitOutput("(generation 2)");
                runBusyScript(client, port, started);
                edge.signal("TERM");
                assertThat(edge.await()).isZero();
                assertThat(edge.output()).contains("shutting down: draining for at most 1 s");
                assertThat(Files.readString(dir.resolve("run/php/php-fpm.log"))).contains("Terminating ...")
                        .doesNotContain("Finishing ...");
            });
        }
    }

    /**
     * USR1 has a spawned php-fpm reopen its log too (its own SIGUSR1), so a logrotate of the run directory's
     * php-fpm.log starts a new file: php-fpm went on writing into the renamed one.
     */
    @Test
    void usr1ReopensASpawnedPhpFpmsLog() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path conf = spawnedPhpConf(0, 1, "");
        Path log = dir.resolve("run/php/php-fpm.log");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                Files.move(log, dir.resolve("php-fpm.log.1")); // as logrotate does, before its postrotate kill
                edge.signal("USR1");
                edge.awaitOutput("php-fpm for group php: " + log.toAbsolutePath() + " reopened");
                awaitContains(log, "error log file re-opened"); // php-fpm's own word, in the new file
            });
        }
    }

    @Test
    void usr1AndHupReopenTheAccessLogAfterARenameAndTheServerKeepsRunning() throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("root")).resolve("a.txt"), "a");
        Path conf = defaultSiteConf(0, "access-log = \"access.log\"");
        Path log = dir.resolve("access.log");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                EdgeProcess.get(http, port, "/a.txt?first");
                awaitContains(log, "first");
                int reopened = 0;
                for (String signal : new String[] {"USR1", "HUP"}) {
                    Path rotated = dir.resolve("access.log." + ++reopened);
                    Files.move(log, rotated); // as logrotate does, before its postrotate kill
                    edge.signal(signal);
                    edge.awaitOutput("SIG" + signal + ": access log");
                    EdgeProcess.get(http, port, "/a.txt?after-" + signal);
                    awaitContains(log, "after-" + signal);
                    assertThat(Files.readString(rotated)).doesNotContain("after-" + signal);
                    assertThat(edge.process.isAlive()).as("still serving after SIG" + signal).isTrue();
                }
                assertThat(Files.readString(dir.resolve("access.log.1"))).contains("first");
                edge.awaitOutput("(generation 2)"); // HUP reloaded the file too (ReloadIT)
                edge.process.destroy();
                assertThat(edge.await()).isZero();
            });
        }
    }

    /**
     * Under {@code ulimit -n 512} max-connections is held to what the limit leaves (324 here), but the open-file cache
     * kept its default budget of 16000 descriptors: after one client had asked for 600 files it held nearly every
     * descriptor left, accept failed with EMFILE, and new clients hung in the listen backlog with two connections open.
     */
    @Test
    void underALowDescriptorLimitCachedFilesLeaveRoomForTheConnections() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        for (int i = 0; i < 600; i++) {
            Files.writeString(root.resolve("f" + i + ".txt"), "file " + i);
        }
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "edge {\n server { listen = [\"127.0.0.1:0\"], access-log = off }\n"
                + " cache.content.enabled = false\n static.open-file-cache.min-uses = 1\n"
                + " sites = [{ server-names = [\"_\"], default = true, root = \"root\" }]\n}\n");
        try (EdgeProcess edge = EdgeProcess.startUnder(List.of("prlimit", "--nofile=512:512", "--"), dir,
                "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                try (Socket one = new Socket("127.0.0.1", port)) {
                    for (int i = 0; i < 600; i++) {
                        one.getOutputStream().write(("GET /f" + i + ".txt HTTP/1.1\r\nHost: x\r\n\r\n")
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                        one.getInputStream().readNBytes(EdgeProcess.readHead(one.getInputStream()));
                    }
                }
                List<Socket> clients = new java.util.ArrayList<>();
                try {
                    for (int i = 0; i < 300; i++) {
                        clients.add(requesting(port, "/f1.txt"));
                    }
                    for (Socket client : clients) {
                        assertThat(new String(client.getInputStream().readNBytes(EdgeProcess.readHead(
                                client.getInputStream())), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("file 1");
                    }
                } finally {
                    for (Socket client : clients) {
                        client.close();
                    }
                }
                assertThat(edge.output()).doesNotContain("Too many open files");
            });
        }
    }

    /**
     * Under {@code ulimit -n 300} (max-connections held to ~160, the files' share to ~56), 140 clients each start a
     * download of a distinct large file and stop reading. Files past the share were opened all the same (uncached,
     * past the budget) until the process ran out: accept failed with EMFILE, and every new client hung unanswered in
     * the listen backlog for as long as the downloads lasted (nginx answers 500 at once). Now the downloads past the
     * share get 503 with Retry-After, and a new client is accepted and answered.
     */
    @Test
    void underALowDescriptorLimitDownloadsPastTheFilesShareGet503AndNewClientsAreAnswered() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("index.html"), "index\n");
        Path big = root.resolve("big.bin");
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            file.setLength(64L << 20); // sparse: more than the socket buffers take of it
        }
        Path links = Files.createDirectories(root.resolve("big"));
        for (int i = 0; i < 140; i++) {
            Files.createLink(links.resolve("b" + i + ".bin"), big); // a path, and so a descriptor, of its own
        }
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, "edge {\n server { listen = [\"127.0.0.1:0\"], access-log = off }\n"
                + " sites = [{ server-names = [\"_\"], default = true, root = \"root\" }]\n}\n");
        try (EdgeProcess edge = EdgeProcess.startUnder(List.of("prlimit", "--nofile=300:300", "--"), dir,
                "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                List<Socket> downloads = new java.util.ArrayList<>();
                try {
                    for (int i = 0; i < 140; i++) {
                        downloads.add(requesting(port, "/big/b" + i + ".bin"));
                    }
                    int sent = 0;
                    int refused = 0;
                    for (Socket download : downloads) {
                        String status = statusLine(download);
                        if (status.startsWith("HTTP/1.1 200 ")) {
                            sent++;
                        } else {
                            assertThat(status).startsWith("HTTP/1.1 503 ");
                            refused++;
                        }
                    }
                    assertThat(sent).as("downloads within the files' share").isPositive();
                    assertThat(refused).as("downloads past it").isPositive();
                    try (Socket late = requesting(port, "/index.html")) {
                        assertThat(statusLine(late)).as("a new client is accepted and answered")
                                .matches("HTTP/1\\.1 (200|503) .*");
                    }
                } finally {
                    for (Socket download : downloads) {
                        download.close();
                    }
                }
                // which of the two 503s a download past the share gets (the share's, or the kernel's EMFILE once the
                // JVM's own descriptors, opened after the start, have eaten into it) depends on the JVM's state
            });
        }
    }

    /**
     * Under {@code ulimit -n 300}, the files' share is what max-connections sockets and the FastCGI groups' connections
     * leave. A reload that gave a group more connections and left {@code edge.static} as it was kept the file engine,
     * and so the share it was made with: files and backend connections together could then take more descriptors than
     * the process has. Now the share is worked out again, and a new engine made when it changed.
     */
    @Test
    void aReloadGivingFastCgiMoreConnectionsUnderALowDescriptorLimitShrinksTheFilesShare() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("index.html"), "index\n");
        Path conf = dir.resolve("edge.conf");
        String site = "edge {\n server { listen = [\"127.0.0.1:0\"], access-log = off }\n"
                + " sites = [{ server-names = [\"_\"], default = true, root = \"root\" }]\n"
                + " fastcgi.backends.php { addresses = [\"127.0.0.1:9\"], max-connections = %d }\n}\n";
        Files.writeString(conf, site.formatted(4));
        try (EdgeProcess edge = EdgeProcess.startUnder(List.of("prlimit", "--nofile=300:300", "--"), dir,
                "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                Pattern held = Pattern.compile("fd-budget \\d+ held to (\\d+)");
                Matcher first = held.matcher(edge.output());
                assertThat(first.find()).as("held under the limit at the start").isTrue();
                int before = Integer.parseInt(first.group(1));
                Files.writeString(conf, site.formatted(60));
                edge.signal("HUP");
                String output = edge.awaitOutput("(generation 2)");
                Matcher again = held.matcher(output);
                assertThat(again.find() && again.find()).as("held again for the reload").isTrue();
                assertThat(Integer.parseInt(again.group(1))).as("the files' share").isLessThan(before);
                try (Socket client = requesting(port, "/index.html")) {
                    assertThat(statusLine(client)).isEqualTo("HTTP/1.1 200 OK");
                }
                Files.writeString(conf, site.formatted(60).replace("access-log = off", "access-log = off, "
                        + "timeouts.keep-alive = 30 s"));
                edge.signal("HUP");
                assertThat(edge.awaitOutput("(generation 3)")).as("held as before: the engine kept")
                        .satisfies(text -> assertThat(held.matcher(text).results().count()).isEqualTo(2));
            });
        }
    }

    /**
     * nginx's {@code pid} and {@code -s}: the running server's pid file names it; {@code edge -s} finds it there and
     * reloads, reopens and stops it; a reload naming another file moves it; the stop removes it. A second edge that
     * cannot start leaves the first one's file alone.
     */
    @Test
    void thePidFileNamesTheRunningServerAndEdgeMinusSSignalsIt() throws Exception {
        Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(dir.resolve("run"));
        Path conf = defaultSiteConf(0, "access-log = \"access.log\", pid-file = \"edge.pid\"");
        Path pidFile = dir.resolve("edge.pid");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                Awaits.await(() -> Files.exists(pidFile), "the pid file");
                assertThat(Files.readString(pidFile)).isEqualTo(edge.process.pid() + "\n");

                // the same pid file, and the port the first one holds
                Path taken = Files.writeString(dir.resolve("taken.conf"), Files.readString(conf)
                        .replace("127.0.0.1:0", "127.0.0.1:" + port));
                try (EdgeProcess second = EdgeProcess.start(dir, "-c", taken.toString())) {
                    assertThat(second.await()).as("its port is taken").isEqualTo(1);
                    assertThat(second.output()).contains("127.0.0.1:" + port + ": address already in use");
                }
                assertThat(Files.readString(pidFile)).as("the first one's").isEqualTo(edge.process.pid() + "\n");

                Files.move(dir.resolve("access.log"), dir.resolve("access.log.1"));
                assertThat(signal("reopen", conf)).isEqualTo("edge: sent SIGUSR1 (reopen) to process "
                        + edge.process.pid() + "\n");
                Awaits.await(() -> Files.exists(dir.resolve("access.log")), "the access log reopened");

                assertThat(signal("reload", conf)).contains("SIGHUP (reload)");
                edge.awaitOutput("(generation 2)");
                // edge -s reads the file the configuration names now, which a reload moving it has not written yet
                Files.writeString(conf, Files.readString(conf).replace("\"edge.pid\"", "\"run/edge.pid\""));
                edge.signal("HUP");
                edge.awaitOutput("(generation 3)");
                Awaits.await(() -> Files.notExists(pidFile), "the old pid file gone");
                assertThat(Files.readString(dir.resolve("run/edge.pid"))).isEqualTo(edge.process.pid() + "\n");

                assertThat(signal("quit", conf)).contains("SIGTERM (quit)");
                assertThat(edge.await()).isZero();
                assertThat(dir.resolve("run/edge.pid")).doesNotExist();
                assertThat(edge.output()).doesNotContain("\tat ");
            });
        }
    }

    /**
     * {@code edge -s} refuses to signal a process its pid file does not name truly: one that is not edge (the id used
     * again after an edge was killed), one that has ended, a file of no number, no file.
     */
    @Test
    void edgeMinusSRefusesAPidFileThatNamesNoRunningEdge() throws Exception {
        Files.createDirectories(dir.resolve("root"));
        Path conf = defaultSiteConf(0, "pid-file = \"edge.pid\"");
        Path pidFile = dir.resolve("edge.pid");
        Process other = new ProcessBuilder("sleep", "60").start();
        try {
            Files.writeString(pidFile, other.pid() + "\n");
            try (EdgeProcess refused = EdgeProcess.start(dir, "-s", "reload", "-c", conf.toString())) {
                assertThat(refused.await()).isEqualTo(1);
                assertThat(refused.output()).isEqualTo("edge: -s reload: " + pidFile + " names process " + other.pid()
                        + ", which is not edge (" + ProcessHandle.of(other.pid()).orElseThrow().info().command()
                        .orElseThrow() + "): another process has that id now (edge was killed?)\n");
            }
            assertThat(other.isAlive()).as("not signalled").isTrue();
        } finally {
            other.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        long ended = other.pid();
        Files.writeString(pidFile, ended + "\n");
        if (ProcessHandle.of(ended).isEmpty()) { // its id is not taken again already
            try (EdgeProcess refused = EdgeProcess.start(dir, "-s", "stop", "-c", conf.toString())) {
                assertThat(refused.await()).isEqualTo(1);
                assertThat(refused.output()).contains("names process " + ended + ", which is not running");
            }
        }
        Files.writeString(pidFile, "edge\n");
        try (EdgeProcess refused = EdgeProcess.start(dir, "-s", "stop", "-c", conf.toString())) {
            assertThat(refused.await()).isEqualTo(1);
            assertThat(refused.output()).isEqualTo("edge: -s stop: " + pidFile + " holds no process id\n");
        }
        Files.delete(pidFile);
        try (EdgeProcess refused = EdgeProcess.start(dir, "-s", "quit", "-c", conf.toString())) {
            assertThat(refused.await()).isEqualTo(1);
            assertThat(refused.output()).isEqualTo("edge: -s quit: " + pidFile + " does not exist (is edge running?)\n");
        }
        Path without = defaultSiteConf(0, "access-log = off");
        try (EdgeProcess refused = EdgeProcess.start(dir, "-s", "reload", "-c", without.toString())) {
            assertThat(refused.await()).isEqualTo(1);
            assertThat(refused.output()).isEqualTo("edge: -s reload: " + without
                    + " names no pid file (set edge.server.pid-file)\n");
        }
    }

    /** {@code edge -s command -c conf}'s output, after checking it exited 0. */
    private String signal(String command, Path conf) throws Exception {
        try (EdgeProcess sender = EdgeProcess.start(dir, "-s", command, "-c", conf.toString())) {
            assertThat(sender.await()).as(sender.output()).isZero();
            return sender.output();
        }
    }

    /**
     * A client of edge on {@code port} that has sent {@code GET target}; a read waits 20 s at most (a client never
     * accepted, left in the listen backlog, would wait for good).
     */
    private static Socket requesting(int port, String target) throws IOException {
        Socket client = new Socket("127.0.0.1", port);
        try {
            client.setSoTimeout(20_000);
            client.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The first line of the answer on {@code socket}: read byte by byte, nothing after it. */
    private static String statusLine(Socket socket) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = socket.getInputStream().read(); c >= 0 && c != '\n'; c = socket.getInputStream().read()) {
            line.append((char) c);
        }
        return line.toString().strip();
    }

    /**
     * A reopen that fails (here the log's directory replaced by a file, which stops root too, then removed) keeps writing
     * to the file open before, as nginx does, and says so; it logged the error and then "SIGUSR1: access log ...
     * reopened". A removed directory was made again by logback, root's.
     */
    @Test
    void aFailedReopenOfTheAccessLogSaysSoAndLinesGoOnToTheFileOpenBefore() throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("root")).resolve("a.txt"), "a");
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Path conf = defaultSiteConf(0, "access-log = \"logs/access.log\"");
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                EdgeProcess.get(http, port, "/a.txt?first");
                Path moved = dir.resolve("logs.old");
                awaitContains(logs.resolve("access.log"), "first");
                Files.move(logs, moved);
                Files.writeString(logs, "not a directory");
                edge.signal("USR1");
                edge.awaitOutput("SIGUSR1: access log " + logs.resolve("access.log") + " not reopened");
                assertThat(edge.output()).doesNotContain("access.log reopened").doesNotContain("\tat ");
                EdgeProcess.get(http, port, "/a.txt?after");
                awaitContains(moved.resolve("access.log"), "after");
                // the directory gone: not made again (root's, where --check-config refuses it), as nginx does not
                Files.delete(logs);
                edge.signal("USR1");
                Awaits.await(() -> edge.output().lines().filter(line -> line.contains("not reopened")).count() == 2,
                        "the second reopen refused");
                assertThat(edge.output()).contains("directory " + logs + " does not exist");
                assertThat(logs).doesNotExist();
                Files.move(moved, logs);
                edge.signal("USR1");
                edge.awaitOutput("SIGUSR1: access log " + logs.resolve("access.log") + " reopened");
                assertThat(edge.process.isAlive()).isTrue();
            });
        }
    }

    /**
     * SIGUSR2 (HAProxy's reload signal, nginx's binary upgrade) is HotSpot's own for suspending threads, and one sent
     * from outside crashed the JVM (exit 134, an hs_err file): bin/edge gives the JVM another, and edge reloads on it.
     */
    @Test
    void usr2ReloadsAServerStartedByBinEdge() throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("root")).resolve("a.txt"), "a");
        Path conf = defaultSiteConf(0, "access-log = off");
        try (EdgeProcess edge = EdgeProcess.startByLauncher(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                edge.signal("USR2");
                edge.awaitOutput("(generation 2)");
                assertThat(edge.process.isAlive()).isTrue();
                assertThat(EdgeProcess.get(HttpClient.newHttpClient(), port, "/a.txt")).isEqualTo("a");
                edge.process.destroy();
                assertThat(edge.await()).isZero();
            });
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(name -> name.startsWith("hs_err"));
        }
    }

    /**
     * bin/edge runs a copy of the distribution; mktemp made its directory 0700, so after root had started edge once,
     * another user (a systemd unit's User=) could not run it.
     */
    @Test
    void theCopyBinEdgeRunsFromIsReadableByOtherUsers() throws Exception {
        Files.createDirectories(dir.resolve("root"));
        Path conf = defaultSiteConf(0, "access-log = off");
        try (EdgeProcess edge = EdgeProcess.startByLauncher(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                List<String> command = List.of(Files.readString(Path.of("/proc", Long.toString(edge.process.pid()),
                        "cmdline")).split("\0"));
                Path copy = Path.of(command.get(command.indexOf("-jar") + 1)).getParent();
                assertThat(copy.getParent().getFileName()).hasToString("run");
                assertThat(Files.getPosixFilePermissions(copy)).contains(PosixFilePermission.OTHERS_READ,
                        PosixFilePermission.OTHERS_EXECUTE);
                edge.process.destroy();
                assertThat(edge.await()).isZero();
            });
        }
    }

    /**
     * A SIGTERM while the configuration still loads (here an include from a server that never answers) stops edge
     * with status 0, as a drained stop does; it was the JVM's 143, a failure to systemd.
     */
    @Test
    void sigtermWhileTheConfigurationLoadsExits0() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Path conf = dir.resolve("edge.conf");
            Files.writeString(conf, "include url(\"http://127.0.0.1:" + silent.getLocalPort() + "/more.conf\")\n"
                    + "edge.sites = [{ server-names = [\"_\"], default = true, root = \"root\" }]\n");
            Files.createDirectories(dir.resolve("root"));
            try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
                edge.verify(() -> {
                    try (Socket loading = silent.accept()) { // edge reads its configuration now
                        assertThat(loading.isConnected()).isTrue();
                        edge.signal("TERM");
                        assertThat(edge.await()).isZero();
                    }
                });
            }
        }
    }

    /**
     * A SIGHUP, SIGUSR1 or SIGUSR2 that comes while the JVM bin/edge started is still starting, before edge handles
     * them, no longer ends it (the JVM's defaults: a stop, or death by the signal, exit 129, 138 or 140); edge starts,
     * serves, handles the next ones and says nothing of an ignored signal. Sent as soon as the JVM runs in the process.
     */
    @Test
    void signalsWhileTheJvmStartsDoNotEndAServerStartedByBinEdge() throws Exception {
        Files.writeString(Files.createDirectories(dir.resolve("root")).resolve("a.txt"), "a");
        Path conf = defaultSiteConf(0, "access-log = off");
        try (EdgeProcess edge = EdgeProcess.startByLauncher(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                Path cmdline = Path.of("/proc", Long.toString(edge.process.pid()), "cmdline");
                Awaits.until(() -> Files.readString(cmdline), line -> line.contains("edge-core.jar"),
                        "bin/edge to exec the JVM");
                for (String signal : List.of("HUP", "USR1", "USR2")) {
                    edge.signal(signal);
                }
                int port = edge.awaitBoundPort();
                assertThat(EdgeProcess.get(HttpClient.newHttpClient(), port, "/a.txt")).isEqualTo("a");
                edge.signal("HUP");
                edge.awaitOutput("(generation 2)");
                // of the signals sent (a SIGINT ignored by whatever started the tests, as a background job's is, is
                // rightly said)
                assertThat(edge.output()).doesNotContain("SIGHUP was ignored").doesNotContain("SIGUSR1 was ignored")
                        .doesNotContain("SIGUSR2 was ignored");
                edge.process.destroy();
                assertThat(edge.await()).isZero();
            });
        }
    }

    /**
     * Started under nohup (SIGHUP ignored, which the JVM would leave so), SIGHUP still reloads, as nginx's does: it
     * was silently ignored, no reload and no line in the log.
     */
    @Test
    void hupReloadsAServerStartedUnderNohup() throws Exception {
        Files.createDirectories(dir.resolve("root"));
        Path conf = defaultSiteConf(0, "access-log = off");
        try (EdgeProcess edge = EdgeProcess.startUnder(List.of("nohup"), dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                edge.signal("HUP");
                edge.awaitOutput("(generation 2)");
                assertThat(edge.process.isAlive()).isTrue();
                edge.process.destroy();
                assertThat(edge.await()).isZero();
            });
        }
    }

    @Test
    void sigtermStopsASpawnedPhpFpmOnlyAfterTheRequestsWaitingForItsWorkerWereServed() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path gates = Files.createDirectories(dir.resolve("gates"));
        // Says it started, then holds its worker until the test creates "go" (30 s at most).
        Files.writeString(www.resolve("gate.php"), """
                <?php
                $gates = '%s';
                touch($gates . '/started-' . $_GET['id']);
                for ($i = 0; $i < 600 && !file_exists($gates . '/go'); $i++) { usleep(50000); }
                echo 'done ', $_GET['id'];
                """.formatted(gates));
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:0"], access-log = off, timeouts.drain = 60 s }
                  fastcgi.backends.php {
                    spawn { enabled = true, workers = 1 }
                    queue { max-waiters = 10, timeout = 60 s }
                  }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                    { match = "= /edge-status", status = true }
                    { match = "/", fastcgi = php }
                  ]}]
                }
                """);
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            edge.verify(() -> {
                int port = edge.awaitBoundPort();
                HttpClient http = HttpClient.newHttpClient();
                CompletableFuture<HttpResponse<String>> first = http.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/gate.php?id=a")).build(), HttpResponse.BodyHandlers.ofString());
                EdgeProcess.awaitExists(gates.resolve("started-a"));
                CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/gate.php?id=b")).build(), HttpResponse.BodyHandlers.ofString());
                Awaits.await(() -> EdgeProcess.get(http, port, "/edge-status").contains("waiters=1 "),
                        "the second request queued");
                assertThat(EdgeProcess.get(http, port, "/edge-status")).as("the second request waits for the one worker")
                        .contains("waiters=1 ");
                edge.process.destroy(); // SIGTERM: the drain begins
                Awaits.await(() -> !EdgeProcess.accepts(port), "the listeners closed");
                assertThat(EdgeProcess.accepts(port)).as("listeners closed: the shutdown has begun").isFalse();
                Files.createFile(gates.resolve("go"));
                assertThat(first.get(60, TimeUnit.SECONDS).body()).isEqualTo("done a");
                HttpResponse<String> second = waiting.get(60, TimeUnit.SECONDS);
                assertThat(second.statusCode()).as("served by php-fpm, still there until the drain is over").isEqualTo(200);
                assertThat(second.body()).isEqualTo("done b");
                assertThat(edge.await()).isZero();
            });
        }
    }

    @Test
    void aSpawnedPhpFpmEndsWhenEdgeIsKilled() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.writeString(www.resolve("hi.php"), "<?php echo 'hi';\n");
        Path conf = spawnedPhpConf(0, 2, "");
        Path pidFile = dir.resolve("run/php/php-fpm.pid");
        long master = -1;
        try (EdgeProcess edge = EdgeProcess.start(dir, "-c", conf.toString())) {
            int port = edge.awaitBoundPort();
            assertThat(EdgeProcess.get(HttpClient.newHttpClient(), port, "/hi.php")).isEqualTo("hi");
            master = Long.parseLong(Files.readString(pidFile).strip());
            assertThat(ProcessHandle.of(master)).as("php-fpm's master").isPresent();
            edge.process.destroyForcibly(); // SIGKILL: no shutdown hook runs
            edge.await();
            long killed = master;
            Awaits.await(() -> !ProcessHandle.of(killed).map(ProcessHandle::isAlive).orElse(false),
                    "php-fpm's master gone");
            assertThat(ProcessHandle.of(master).map(ProcessHandle::isAlive).orElse(false))
                    .as("php-fpm left running after edge was killed").isFalse();
        } finally {
            if (master > 0) { // whatever this test left behind, its workers included
                new ProcessBuilder("kill", "-KILL", "--", "-" + master).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Writes www/busy.php, which says it started (the file returned, once it runs) and then runs for a minute. */
    private Path busyScript() throws IOException {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path started = dir.resolve("busy.started");
        Files.writeString(www.resolve("busy.php"), "<?php file_put_contents('" + started + "', 'x');\n"
                + "for ($end = time() + 60; time() < $end; ) { usleep(10000); }\n");
        return started;
    }

    /** Sends GET /busy.php on {@code client} to edge on {@code port} and waits (bounded) until the script runs. */
    private static void runBusyScript(java.net.Socket client, int port, Path started) throws Exception {
        client.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        client.getOutputStream().write("GET /busy.php HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        EdgeProcess.awaitExists(started);
    }

    /**
     * Writes edge.conf: every request of one site (root www) to a php-fpm edge spawns with {@code workers}, in the run
     * directory "run", with {@code server} added to the server settings ("" for none).
     */
    private Path spawnedPhpConf(int port, int workers, String server) throws IOException {
        Path conf = dir.resolve("edge.conf");
        Files.writeString(conf, """
                edge {
                  server { listen = ["127.0.0.1:%d"], access-log = off, run-dir = "run"%s }
                  fastcgi.backends.php.spawn { enabled = true, workers = %d }
                  sites = [{ server-names = ["_"], default = true, root = "www", locations = [{ match = "/", fastcgi = php }] }]
                }
                """.formatted(port, server.isEmpty() ? "" : ", " + server, workers));
        return conf;
    }

    /** Waits (bounded) for {@code file} to exist and hold {@code text}: the access log is written asynchronously. */
    private static void awaitContains(Path file, String text) throws Exception {
        Awaits.await(() -> Files.exists(file) && Files.readString(file).contains(text), file + " holding " + text);
        assertThat(file).exists();
        assertThat(Files.readString(file)).contains(text);
    }
}
