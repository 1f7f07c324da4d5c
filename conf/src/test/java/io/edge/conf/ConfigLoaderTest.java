package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.edge.aio.PathPolicy;
import io.edge.aio.StaticIoSettings;
import io.edge.fastcgi.BackendGroupSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader();

    @Test
    void threeErrorsAreReportedTogetherWithTheirLines() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("/three-errors.conf").toURI());

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.load(file));

        assertThat(e.problems()).extracting(ConfigProblem::line, ConfigProblem::key).containsExactly(
                tuple(3, "edge.server.timeouts.keepalive"),
                tuple(5, "edge.static.queue-depth"),
                tuple(9, "edge.fastcgi.backends.php.queue.timeout"));
        assertThat(e.problems().get(0).message()).isEqualTo("unknown key (did you mean \"keep-alive\"?)");
        assertThat(e.problems().get(1).message()).isEqualTo("\"deep\" is not a number");
        assertThat(e.problems().get(2).toString()).isEqualTo(file + ":9: edge.fastcgi.backends.php.queue.timeout: "
                + "\"3 parsecs\" is not a duration (expected: a duration such as 30 s)");
        assertThat(e.getMessage().lines()).hasSize(3);
    }

    @Test
    void everyExtensionOfNginxsMimeTypesHasAType() throws Exception {
        // the extensions of Debian nginx's /etc/nginx/mime.types: a site moved from nginx keeps its types
        List<String> nginxExtensions = List.of(
                "html", "htm", "shtml", "css", "xml", "gif", "jpeg", "jpg", "js", "atom", "rss", "mml", "txt", "jad",
                "wml", "htc", "avif", "png", "svg", "svgz", "tif", "tiff", "wbmp", "webp", "ico", "jng", "bmp",
                "woff", "woff2", "jar", "war", "ear", "json", "hqx", "doc", "pdf", "ps", "eps", "ai", "rtf", "m3u8",
                "kml", "kmz", "xls", "eot", "ppt", "odg", "odp", "ods", "odt", "pptx", "xlsx", "docx", "wmlc",
                "wasm", "7z", "cco", "jardiff", "jnlp", "run", "pl", "pm", "prc", "pdb", "rar", "rpm", "sea", "swf",
                "sit", "tcl", "tk", "der", "pem", "crt", "xpi", "xhtml", "xspf", "zip", "bin", "exe", "dll", "deb",
                "dmg", "iso", "img", "msi", "msp", "msm", "mid", "midi", "kar", "mp3", "ogg", "m4a", "ra", "3gpp",
                "3gp", "ts", "mp4", "mpeg", "mpg", "mov", "webm", "flv", "m4v", "mng", "asx", "asf", "wmv", "avi");
        Files.createDirectory(dir.resolve("www"));

        EdgeSettings settings = load("sites = [{ root = www }]");

        assertThat(settings.mimeTypes()).containsKeys(nginxExtensions.toArray(String[]::new))
                .containsEntry("xhtml", "application/xhtml+xml").containsEntry("3gp", "video/3gpp")
                .containsEntry("pem", "application/x-x509-ca-cert");
    }

    @Test
    void defaultsFillEverythingButTheRoot() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        EdgeSettings settings = load("sites = [{ root = www }]");

        ServerSettings server = settings.server();
        assertThat(server.listen()).containsExactly(new InetSocketAddress("127.0.0.1", 8080));
        assertThat(server.ioThreads()).isZero();
        assertThat(server.maxConnections()).isEqualTo(10000);
        assertThat(server.tcpNotsentLowat()).isEqualTo(128 * 1024);
        assertThat(server.limits()).isEqualTo(new ServerSettings.HttpLimits(8192, 16384, 100, 16L << 20));
        assertThat(server.timeouts()).isEqualTo(new ServerSettings.HttpTimeouts(Duration.ofSeconds(10),
                Duration.ofSeconds(60), Duration.ofSeconds(75), Duration.ofSeconds(60), Duration.ofSeconds(30),
                Duration.ofSeconds(5), Duration.ofSeconds(30)));
        assertThat(server.accessLog()).isNull();
        assertThat(server.accessLogEnabled()).isTrue();
        // a fresh temporary path; with no spawned backend nothing needs it, so nothing is left on disk
        assertThat(server.runDir().getFileName().toString()).startsWith("edge-");
        assertThat(server.runDir()).doesNotExist();
        assertThat(settings.staticIo()).isEqualTo(new StaticIoSettings(StaticIoSettings.Engine.AUTO, 256, 16, 10000,
                Duration.ofSeconds(1), 2, 16000, 1L << 20, Duration.ofSeconds(30), false));
        assertThat(settings.mimeTypes()).containsEntry("jpg", "image/jpeg")
                .containsEntry("html", "text/html; charset=utf-8").hasSizeGreaterThan(60);
        assertThat(settings.sites()).containsExactly(new SiteSettings(List.of(), false, dir.resolve("www"),
                List.of("index.html"), PathPolicy.DEFAULT, List.of(new LocationSettings("/",
                LocationSettings.Kind.PREFIX, "/", null, null, LocationSettings.Handler.STATIC, null)), Map.of(),
                List.of(new InetSocketAddress("127.0.0.1", 8080)))); // every address of server.listen
        assertThat(settings.defaultSite()).isSameAs(settings.sites().get(0));
        assertThat(settings.backends()).isEmpty();
        assertThat(settings.source()).isEqualTo(dir.resolve("edge.conf"));
    }

    @Test
    void fullConfigMapsOntoTheRecords() throws Exception {
        Files.createDirectories(dir.resolve("www/thumbs"));
        Files.createDirectory(dir.resolve("sock"));
        Path fpm = executable("php-fpm");
        EdgeSettings settings = load("""
                server {
                  listen = ["*:8081", "[::1]:8082"]
                  io-threads = 2
                  max-connections = 500
                  tcp-notsent-lowat = 16 KiB
                  limits { request-line = 4 KiB, header-block = 8 KiB, header-count = 50, body = 1 MiB, keep-alive-requests = 0 }
                  timeouts { request-head = 5 s, body = 7 s, keep-alive = 0, write = 20 s, drain = 1 s,
                             lingering = 0, lingering-time = 10 s }
                  access-log = logs/access.log
                  run-dir = run
                }
                static { engine = threads, queue-depth = 64, threads = 8, open-file-cache { size = 100, revalidate = 0, min-uses = 1 }
                         fd-budget = 200, sendfile-chunk = 64 KiB, read-timeout = 5 s, poison-released-buffers = on }
                mime-types { JPG = image/pjpeg, heif = image/heif }
                site-defaults.index = ["index.php", "index.html"]
                sites = [
                  { server-names = [Example.ORG, "*.example.org"], default = true, root = www, dotfiles = allow,
                    symlinks = allow,
                    locations = [
                      { match = "/" }
                      { match = "= /health" }
                      { match = "^~ /thumbs/", root = www/thumbs }
                      { match = "~* \\\\.php$", fastcgi = php }
                    ] }
                  { server-names = [other.org], root = www, symlinks = deny }
                ]
                fastcgi.backends {
                  php { spawn { enabled = true, command = php-fpm, workers = 3, ini = ["memory_limit = 64M"] } }
                  api { addresses = ["unix:sock/api.sock", "10.0.0.1:9000"], balance = round-robin, max-connections = 2,
                        queue { max-waiters = 0, timeout = 2 s }, await-worker = false }
                }
                """.replace("logs/", (Files.createDirectory(dir.resolve("logs")).getFileName() + "/")));

        ServerSettings server = settings.server();
        assertThat(server.listen()).containsExactly(new InetSocketAddress(8081),
                new InetSocketAddress("::1", 8082));
        assertThat(server.ioThreads()).isEqualTo(2);
        assertThat(server.tcpNotsentLowat()).isEqualTo(16 * 1024);
        assertThat(server.limits()).isEqualTo(new ServerSettings.HttpLimits(4096, 8192, 50, 1 << 20, 0));
        assertThat(server.timeouts().keepAlive()).isZero();
        assertThat(server.timeouts().body()).isEqualTo(Duration.ofSeconds(7));
        assertThat(server.timeouts().lingering()).isZero();
        assertThat(server.timeouts().lingeringTime()).isEqualTo(Duration.ofSeconds(10));
        assertThat(server.accessLog()).isEqualTo(dir.resolve("logs/access.log"));
        assertThat(server.runDir()).isEqualTo(dir.resolve("run"));
        assertThat(settings.staticIo()).isEqualTo(new StaticIoSettings(StaticIoSettings.Engine.THREADS, 64, 8, 100,
                Duration.ZERO, 1, 200, 65536, Duration.ofSeconds(5), true));
        assertThat(settings.mimeTypes()).containsEntry("jpg", "image/pjpeg").containsEntry("heif", "image/heif")
                .doesNotContainKey("JPG");

        SiteSettings first = settings.sites().get(0);
        assertThat(first.serverNames()).containsExactly("example.org", "*.example.org");
        assertThat(first.isDefault()).isTrue();
        assertThat(first.index()).containsExactly("index.php", "index.html");
        assertThat(first.pathPolicy()).isEqualTo(new PathPolicy(true, true, true));
        assertThat(first.locations()).extracting(LocationSettings::kind, LocationSettings::pattern,
                LocationSettings::handler, LocationSettings::fastcgiBackend).containsExactly(
                tuple(LocationSettings.Kind.PREFIX, "/", LocationSettings.Handler.STATIC, null),
                tuple(LocationSettings.Kind.EXACT, "/health", LocationSettings.Handler.STATIC, null),
                tuple(LocationSettings.Kind.PREFIX_NO_REGEX, "/thumbs/",
                        LocationSettings.Handler.STATIC, null),
                tuple(LocationSettings.Kind.REGEX, "\\.php$",
                        LocationSettings.Handler.FASTCGI, "php"));
        assertThat(first.locations().get(2).root()).isEqualTo(dir.resolve("www/thumbs"));
        assertThat(first.locations().get(3).regex().matcher("/a/INDEX.PHP").find()).isTrue();
        SiteSettings second = settings.sites().get(1);
        assertThat(second.isDefault()).isFalse();
        assertThat(second.pathPolicy()).isEqualTo(new PathPolicy(false, false, false));
        assertThat(settings.defaultSite()).isSameAs(first);

        BackendGroupSettings php = settings.backends().get("php");
        assertThat(php.addresses()).containsExactly("unix:" + dir.resolve("run/php/php-fpm.sock"));
        assertThat(php.maxConnections()).isEqualTo(3);
        assertThat(php.spawn()).isEqualTo(new BackendGroupSettings.Spawn(fpm, 3, List.of("memory_limit = 64M"),
                dir.resolve("run/php"), false, Duration.ofSeconds(60)) // read 60 s (no keep-alive: no idle time)
                .withMaxBody(1L << 20)); // the server's body limit, its .php location's
        assertThat(php.queue()).isEqualTo(new BackendGroupSettings.Queue(1024, Duration.ofSeconds(30),
                Duration.ofSeconds(1)));
        assertThat(php.keepAlive()).isEqualTo(new BackendGroupSettings.KeepAlive(false, Duration.ofSeconds(60), 1000));
        assertThat(php.health()).isEqualTo(new BackendGroupSettings.Health(3, Duration.ofSeconds(10)));
        assertThat(php.timeouts()).isEqualTo(new BackendGroupSettings.Timeouts(Duration.ofSeconds(5),
                Duration.ofSeconds(60), Duration.ofSeconds(60)));
        BackendGroupSettings api = settings.backends().get("api");
        assertThat(api.addresses()).containsExactly("unix:" + dir.resolve("sock/api.sock"), "10.0.0.1:9000");
        assertThat(api.balance()).isEqualTo(BackendGroupSettings.Balance.ROUND_ROBIN);
        assertThat(api.maxConnections()).isEqualTo(2);
        assertThat(api.queue()).isEqualTo(new BackendGroupSettings.Queue(0, Duration.ofSeconds(2),
                Duration.ofSeconds(1)));
        assertThat(api.spawn()).isNull();
        assertThat(php.awaitWorker()).as("by default").isTrue();
        assertThat(api.awaitWorker()).isFalse();
    }

    @Test
    void accessLogOffAndStandardOutput() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        ServerSettings off = load("server.access-log = off\nsites = [{ root = www }]").server();
        assertThat(off.accessLogEnabled()).isFalse();
        assertThat(off.accessLog()).isNull();
        ServerSettings stdout = load("server.access-log = \"-\"\nsites = [{ root = www }]").server();
        assertThat(stdout.accessLogEnabled()).isTrue();
        assertThat(stdout.accessLog()).isNull();
    }

    @Test
    void relativePathsResolveAgainstTheConfigDirectoryNotTheWorkingDirectory() throws Exception {
        Path confDir = Files.createDirectories(dir.resolve("etc/edge"));
        Files.createDirectories(confDir.resolve("../www"));
        Path file = confDir.resolve("edge.conf");
        Files.writeString(file, "edge { server.run-dir = ../run, sites = [{ root = ../www }] }");
        EdgeSettings settings = loader.load(file);
        assertThat(settings.sites().get(0).root()).isEqualTo(dir.resolve("etc/www"));
        assertThat(settings.server().runDir()).isEqualTo(dir.resolve("etc/run"));
    }

    /**
     * php-fpm starts a worker's request_terminate_timeout clock when it begins to wait for the next request on a kept
     * connection, so a spawned pool's timeout covers the idle time edge may keep that connection too; and a slot of a
     * timed-out connection lingers as long as such a script may run on.
     */
    @Test
    void aSpawnedPoolsTerminateTimeoutIsTheReadTimeoutPlusTheIdleTimeOfKeptConnections() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        executable("fpm");
        String spawn = "sites = [{ root = www }]\nserver.run-dir = run\nfastcgi.backends.php { spawn { enabled = true, "
                + "command = fpm }, timeouts.read = 30 s, keep-alive { enabled = %s, idle-timeout = %s } }";
        BackendGroupSettings kept = ConfigLoader.checkOnly().load(EdgeConfFile.write(dir, spawn.formatted(true, "10 s")))
                .backends().get("php");
        assertThat(kept.spawn().requestTerminateTimeout()).isEqualTo(Duration.ofSeconds(40));
        assertThat(kept.lingerAfterTimeout()).isEqualTo(Duration.ofSeconds(30));
        BackendGroupSettings longIdle = ConfigLoader.checkOnly()
                .load(EdgeConfFile.write(dir, spawn.formatted(true, "45 s"))).backends().get("php");
        assertThat(longIdle.spawn().requestTerminateTimeout()).isEqualTo(Duration.ofSeconds(75));
        assertThat(longIdle.lingerAfterTimeout()).as("a hung script may run the idle time after the read timeout")
                .isEqualTo(Duration.ofSeconds(45));
        BackendGroupSettings notKept = ConfigLoader.checkOnly()
                .load(EdgeConfFile.write(dir, spawn.formatted(false, "45 s"))).backends().get("php");
        assertThat(notKept.spawn().requestTerminateTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(notKept.lingerAfterTimeout()).isEqualTo(Duration.ofSeconds(30));
        // set for scripts that stream longer (an export, server-sent events): as set, 0 for none
        String streaming = spawn.formatted(true, "10 s").replace("command = fpm", "command = fpm, "
                + "request-terminate-timeout = %s");
        for (String set : new String[] {"10 minutes", "0 s"}) {
            BackendGroupSettings longer = ConfigLoader.checkOnly().load(EdgeConfFile.write(dir, streaming.formatted(set)))
                    .backends().get("php");
            assertThat(longer.spawn().requestTerminateTimeout()).as(set)
                    .isEqualTo(set.equals("0 s") ? Duration.ZERO : Duration.ofMinutes(10));
        }
        ConfigException negative = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.checkOnly()
                .load(EdgeConfFile.write(dir, streaming.formatted("\"-1 s\""))));
        assertThat(negative.problems()).extracting(ConfigProblem::key)
                .containsExactly("edge.fastcgi.backends.php.spawn.request-terminate-timeout");
    }

    /** queue.retry-after: whole seconds of a Retry-After, rounded up; 0 leaves it out; beyond a day is a problem. */
    @Test
    void aQueuesRetryAfterIsWholeSecondsRoundedUp() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        String conf = "sites = [{ root = www }]\nfastcgi.backends.php { addresses = [\"127.0.0.1:9000\"], "
                + "queue.retry-after = %s }";
        for (String set : new String[] {"2500 ms", "0 s", "1 d"}) {
            BackendGroupSettings php = load(conf.formatted(set)).backends().get("php");
            assertThat(php.queue().retryAfterSeconds()).as(set).isEqualTo(switch (set) {
                case "2500 ms" -> 3;
                case "0 s" -> 0;
                default -> 86400;
            });
        }
        ConfigException tooLong = catchThrowableOfType(ConfigException.class, () -> load(conf.formatted("2 d")));
        assertThat(tooLong.problems()).singleElement().asString()
                .contains("edge.fastcgi.backends.php.queue.retry-after: \"2 d\" is out of range", "at most 1 d");
    }

    @Test
    void checkingCreatesNoRunDirectoryAndLoadingMakesOneOnlyForASpawnedBackend() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        executable("fpm");
        Path file = EdgeConfFile.write(dir, "sites = [{ root = www }]\nfastcgi.backends.php.spawn { enabled = true, command = fpm }");
        Path checked = ConfigLoader.checkOnly().load(file).server().runDir();
        assertThat(checked.getFileName().toString()).startsWith("edge-");
        assertThat(checked).doesNotExist();
        Path made = loader.load(file).server().runDir();
        try {
            assertThat(made).isDirectory();
            assertThat(made.getFileName().toString()).startsWith("edge-");
        } finally {
            deleteRunDir(made);
        }
    }

    @Test
    void aReloadKeepsTheRunningServersTemporaryRunDirectory() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        executable("fpm");
        Path file = EdgeConfFile.write(dir, "sites = [{ root = www }]\nfastcgi.backends.php.spawn { enabled = true, command = fpm }");
        ServerSettings running = loader.load(file).server();
        try {
            ServerSettings reloaded = ConfigLoader.forReload(running.runDir()).load(file).server();
            assertThat(reloaded.runDir()).isEqualTo(running.runDir());
            assertThat(reloaded.runDirTemporary()).isTrue();
            assertThat(ConfigLoader.forReload(running.runDir()).load(file).backends().get("php").addresses())
                    .containsExactly("unix:" + running.runDir().resolve("php/php-fpm.sock"));
        } finally {
            deleteRunDir(running.runDir());
        }
    }

    @Test
    void aReloadMakesATemporaryRunDirectoryWhenTheRunningServerHasNone() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        executable("fpm");
        Path file = EdgeConfFile.write(dir, "sites = [{ root = www }]\nfastcgi.backends.php.spawn { enabled = true, command = fpm }");
        Path made = ConfigLoader.forReload(null).load(file).server().runDir();
        try {
            assertThat(made).isDirectory();
            assertThat(made.getFileName().toString()).startsWith("edge-");
        } finally {
            deleteRunDir(made);
        }
    }

    @Test
    void listenPortZeroAsksForAnyFreePort() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        assertThat(load("server.listen = [\"127.0.0.1:0\"]\nsites = [{ root = www }]").server().listen())
                .containsExactly(new InetSocketAddress("127.0.0.1", 0));
    }

    /**
     * Typesafe parses and resolves by recursion: past what the stack holds, a problem, not a StackOverflowError; at the
     * line nested deepest when the file's own nesting is why.
     */
    @Test
    void nestingOrASubstitutionChainTooDeepToReadIsAProblem() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        int levels = 200_000;
        Path nested = dir.resolve("nested.conf");
        Files.writeString(nested, "edge { sites = [{ root = www }] }\nx = " + "[".repeat(levels) + "]".repeat(levels)
                + "\n");
        StringBuilder chain = new StringBuilder("edge { sites = [{ root = www }] }\n");
        for (int i = 0; i < levels / 10; i++) {
            chain.append("v").append(i).append(" = ${v").append(i + 1).append("}\n");
        }
        chain.append("v").append(levels / 10).append(" = 1\n");
        Path chained = Files.writeString(dir.resolve("chain.conf"), chain);
        String expected = " (expected: fewer levels of objects or lists one inside another, or a shorter chain of "
                + "substitutions)";
        ConfigException deep = catchThrowableOfType(ConfigException.class, () -> loader.load(nested));
        assertThat(deep).isNotNull();
        assertThat(deep.problems()).singleElement().hasToString(nested + ":2: is nested too deeply to be read: "
                + levels + " levels of objects and lists here" + expected);
        ConfigException substituted = catchThrowableOfType(ConfigException.class, () -> loader.load(chained));
        assertThat(substituted).isNotNull();
        assertThat(substituted.problems()).singleElement().hasToString(chained + ": is nested too deeply to be read"
                + expected);
    }

    /**
     * A duration written as a bare number is refused, as location expires is: HOCON would read {@code 30} as 30 ms,
     * nginx as 30 s, and a write timeout of 30 ms passes any check but closes most slow clients. 0 needs no unit.
     */
    @Test
    void aDurationWithoutItsUnitIsRefusedButZero() throws Exception {
        Files.createDirectory(dir.resolve("www"));
        Path file = EdgeConfFile.write(dir, "sites = [{ root = www }]\nserver.timeouts.write = 30\n"
                + "fastcgi.backend-defaults.queue.timeout = \"10\"\nstatic.open-file-cache.revalidate = 0");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.load(file));

        assertThat(e).isNotNull();
        assertThat(e.problems()).extracting(ConfigProblem::key, ConfigProblem::message).containsExactlyInAnyOrder(
                tuple("edge.server.timeouts.write", "30 has no unit"),
                tuple("edge.fastcgi.backend-defaults.queue.timeout", "\"10\" has no unit"));
        assertThat(e.problems().get(0).toString()).contains("(expected: a duration such as 30 s");
    }

    private static void deleteRunDir(Path runDir) throws IOException {
        Files.deleteIfExists(runDir.resolve(TemporaryRunDir.MARKER));
        Files.deleteIfExists(runDir);
    }

    private Path executable(String name) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/sh\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    private EdgeSettings load(String body) throws Exception {
        return loader.load(EdgeConfFile.write(dir, body));
    }
}
