package io.edge.fastcgi.spawn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.fastcgi.BackendGroupSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real php-fpm started by the supervisor in a temp dir. No assertion depends on timing. */
class PhpFpmSupervisorTest {

    static final Path PHP_FPM = Path.of("/usr/sbin/php-fpm8.2");

    @TempDir
    Path dir;
    PhpFpmSupervisor supervisor;

    @AfterEach
    void stopSupervisor() {
        if (supervisor != null) {
            supervisor.stop();
        }
    }

    PhpFpmSupervisor started(int workers, List<String> extraIni) throws Exception {
        assertThat(PHP_FPM).as("php-fpm8.2 (bin/setup installs it)").isExecutable();
        Files.writeString(dir.resolve("index.php"), "<?php echo 'hello from ', getmypid(), ' limit=', ini_get('memory_limit');\n");
        supervisor = new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, workers, extraIni, dir.resolve("run"), false));
        supervisor.start();
        return supervisor;
    }

    /**
     * php-fpm lets a script run on after its connection closed (edge's read timeout): request_terminate_timeout,
     * the group's read timeout in whole seconds (rounded up), bounds how long its worker stays busy.
     */
    @Test
    void thePoolConfigBoundsAScriptByTheReadTimeout() {
        Path run = dir.resolve("run");
        assertThat(new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false,
                java.time.Duration.ofMillis(1500))).config(false)).contains("request_terminate_timeout = 2s\n");
        assertThat(new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false,
                java.time.Duration.ofSeconds(60))).config(false)).contains("request_terminate_timeout = 60s\n");
        assertThat(new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false,
                java.time.Duration.ofNanos(500_000))).config(false)).as("below a millisecond: 1 s, not 0 (none)")
                .contains("request_terminate_timeout = 1s\n");
        assertThat(new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false))
                .config(false)).doesNotContain("request_terminate_timeout");
        // php-fpm reads it into an int: 2^32 - 50 s became 10 s there, and killed scripts edge waited for
        assertThat(new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false,
                java.time.Duration.ofSeconds(Integer.MAX_VALUE))).config(false))
                .contains("request_terminate_timeout = " + Integer.MAX_VALUE + "s\n");
        assertThat(new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false,
                java.time.Duration.ofSeconds(4_294_967_306L))).config(false))
                .as("longer than php-fpm can hold: no limit, as none was meant").doesNotContain("request_terminate_timeout");
    }

    /**
     * The pool takes the bodies edge passes it: post_max_size and upload_max_filesize are the spawn's largest body
     * (0, no limit, as 0 is to PHP), unless spawn.ini sets one; PHP's own where edge says nothing. With PHP's
     * defaults (8M, 2M) an upload of 10 MB edge accepted reached the script as an empty form.
     */
    @Test
    void thePoolTakesTheBodiesEdgePassesIt() {
        Path run = dir.resolve("run");
        var spawn = new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false);
        assertThat(new PhpFpmSupervisor("php", spawn.withMaxBody(16 << 20)).config(false))
                .contains("php_value[post_max_size] = 16777216\n", "php_value[upload_max_filesize] = 16777216\n");
        assertThat(new PhpFpmSupervisor("php", spawn.withMaxBody(0)).config(false))
                .contains("php_value[post_max_size] = 0\n", "php_value[upload_max_filesize] = 0\n");
        var ownPostSize = new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of("post_max_size = 1M"), run, false);
        assertThat(new PhpFpmSupervisor("php", ownPostSize.withMaxBody(16 << 20)).config(false))
                .contains("php_admin_value[post_max_size] = 1M\n", "php_value[upload_max_filesize] = 16777216\n")
                .doesNotContain("php_value[post_max_size]");
        assertThat(new PhpFpmSupervisor("php", spawn).config(false)).as("edge's limit not known")
                .doesNotContain("post_max_size", "upload_max_filesize");
    }

    /** As root, the pool runs as the spawn's user and group; without one, as root, and the config says so. */
    @Test
    void thePoolRunsAsTheSpawnsUserWhenEdgeIsRoot() {
        Path run = dir.resolve("run");
        var withUser = new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false,
                java.time.Duration.ZERO, "www-data", "www-data"));
        assertThat(withUser.config(true)).contains("\n[php]\nuser = \"www-data\"\ngroup = \"www-data\"\n")
                .doesNotContain("workers run as root");
        assertThat(withUser.config(false)).as("not root: php-fpm could not switch").doesNotContain("user =");
        var userOnly = new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false,
                java.time.Duration.ZERO, "nobody", null));
        assertThat(userOnly.config(true)).contains("user = \"nobody\"\n").doesNotContain("group =");
        assertThat(new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false))
                .config(true)).contains("workers run as root").doesNotContain("user =");
    }

    /**
     * php's INI parser reads an unquoted yes, on or true as "1" and none, no, off, false or null as "": a pool user
     * named so ran PHP as uid 1 (daemon), or as nobody switched to (php-fpm then refused to start).
     */
    @Test
    void phpFpmReadsTheUserAndGroupAsTheirNames() throws Exception {
        assertThat(PHP_FPM).as("php-fpm8.2 (bin/setup installs it)").isExecutable();
        Path run = Files.createDirectories(dir.resolve("run"));
        var spawn = new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false, java.time.Duration.ZERO,
                "yes", "none");
        Path config = Files.writeString(run.resolve("test.conf"), new PhpFpmSupervisor("php", spawn).config(true));
        Process test = new ProcessBuilder(PHP_FPM.toString(), "-tt", "-y", config.toString())
                .redirectErrorStream(true).start();
        String parsed = new String(test.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        test.waitFor();
        // Its dump of the pool, or (no account yes here) its refusal: the name either way, never uid 1
        assertThat(parsed).doesNotContain("\tuser = 1\n").containsAnyOf("\tuser = yes\n", "for user 'yes'");
    }

    @Test
    void startWritesTheConfigAndServesPhpOnTheSocket() throws Exception {
        started(2, List.of("memory_limit = 33M", ""));

        Path run = dir.resolve("run");
        assertThat(Files.getPosixFilePermissions(run)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(supervisor.socketAddress()).isEqualTo("unix:" + run.resolve("php-fpm.sock"));
        assertThat(Files.readString(run.resolve("php-fpm.conf")))
                .contains("[php]\n", "pm = static\n", "pm.max_children = 2\n", "daemonize = no\n",
                        "process_control_timeout = 10\n", "php_admin_value[memory_limit] = 33M\n")
                .doesNotContain("user =");
        long pid = supervisor.pid().orElseThrow();
        // The socket accepts once php-fpm listens; it writes its pid file and forks the workers right after.
        await(() -> pidFileSays(run, pid), "the pid file");
        await(() -> ProcessHandle.of(pid).orElseThrow().children().count() == 2, "two workers");

        assertThat(get()).startsWith("hello from ").endsWith(" limit=33M");
        assertThat(supervisor.state()).isEqualTo(PhpFpmSupervisor.State.RUNNING);
    }

    @Test
    void aMasterKilledWithSigkillIsRestartedAndItsOrphanedWorkersKilled() throws Exception {
        started(2, List.of());
        ProcessHandle master = ProcessHandle.of(supervisor.pid().orElseThrow()).orElseThrow();
        await(() -> master.children().count() == 2, "two workers");
        List<ProcessHandle> workers = master.children().toList();

        master.destroyForcibly(); // SIGKILL: the workers survive it and keep the socket open

        await(() -> supervisor.restarts() == 1 && supervisor.state() == PhpFpmSupervisor.State.RUNNING,
                "a restarted php-fpm; log:\n" + supervisor.logTail());
        assertThat(supervisor.pid().orElseThrow()).isNotEqualTo(master.pid());
        // Killed before the restart; gone from the process table once init has reaped them.
        await(() -> workers.stream().noneMatch(ProcessHandle::isAlive), "the old workers to be reaped");
        assertThat(get()).startsWith("hello from ");
        ProcessHandle.of(supervisor.pid().orElseThrow()).orElseThrow().destroyForcibly(); // and once more
        await(() -> supervisor.restarts() == 2 && supervisor.state() == PhpFpmSupervisor.State.RUNNING,
                "a second restart; log:\n" + supervisor.logTail());
        assertThat(get()).startsWith("hello from ");
    }

    /**
     * Its run directory removed while php-fpm runs (a temporary-file cleaner under /tmp, where the default run-dir is):
     * php-fpm lived on without a socket, every request waited for a restart that never came (503 after the queue
     * timeout) until edge itself was restarted. The supervisor sees the socket gone and restarts php-fpm, with its run
     * directory and config made again.
     */
    @Test
    void aRunningPhpFpmWhoseSocketIsGoneIsRestarted() throws Exception {
        started(2, List.of());
        ProcessHandle master = ProcessHandle.of(supervisor.pid().orElseThrow()).orElseThrow();
        Files.writeString(dir.resolve("slow.php"), "<?php file_put_contents(__DIR__ . '/started', '1');"
                + " for ($i = 0; $i < 3000 && !file_exists(__DIR__ . '/release'); $i++) { usleep(10000); }"
                + " echo 'finished';\n");
        CompletableFuture<String> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return get("slow.php");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        await(() -> Files.exists(dir.resolve("started")), "a script running");
        Path run = dir.resolve("run");
        try (var files = Files.walk(run)) {
            for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }

        await(() -> supervisor.state() == PhpFpmSupervisor.State.RESTARTING, "the restart begun");
        Files.writeString(dir.resolve("release"), "");
        // the old master stopped gracefully: the script running on it ends, its answer whole (a SIGKILL cut it)
        assertThat(inFlight.get(60, TimeUnit.SECONDS)).endsWith("finished");
        await(() -> supervisor.restarts() == 1 && supervisor.state() == PhpFpmSupervisor.State.RUNNING,
                "a restarted php-fpm");
        assertThat(supervisor.pid().orElseThrow()).isNotEqualTo(master.pid());
        await(() -> !master.isAlive(), "the old master gone");
        assertThat(Files.getPosixFilePermissions(run)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(get()).startsWith("hello from ");
    }

    @Test
    void stopIsGracefulRemovesTheSocketAndNeverRestarts() throws Exception {
        started(1, List.of());
        ProcessHandle master = ProcessHandle.of(supervisor.pid().orElseThrow()).orElseThrow();
        await(() -> master.children().count() == 1, "one worker");
        List<ProcessHandle> workers = master.children().toList();

        supervisor.stop();

        assertThat(master.isAlive()).isFalse(); // our child, reaped by the JVM before stop() returned
        await(() -> workers.stream().noneMatch(ProcessHandle::isAlive), "the worker to be reaped");
        assertThat(supervisor.socketPath()).doesNotExist();
        assertThat(supervisor.state()).isEqualTo(PhpFpmSupervisor.State.STOPPED);
        assertThat(supervisor.pid()).isEmpty();
        assertThat(Files.readString(supervisor.logPath())).contains("exiting, bye-bye");
        supervisor.stop(); // idempotent

        // Longer than the first restart backoff: had the exit been taken for a crash, php-fpm would be back.
        Thread.sleep(2 * PhpFpmSupervisor.BACKOFF_INITIAL_MILLIS + 300);
        assertThat(ProcessHandle.current().children().filter(p -> p.info().command().orElse("").contains("php-fpm")))
                .isEmpty();
        assertThat(supervisor.restarts()).isZero();
        assertThatThrownBy(supervisor::start).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(supervisor::reload).isInstanceOf(IllegalStateException.class);
    }

    private boolean logSays(String text) {
        try {
            return Files.readString(supervisor.logPath()).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** A script that says it started (a file), then runs a minute (a signal cuts a sleep short, not the loop). */
    private Path busyScript() throws IOException {
        Path started = dir.resolve("busy.started");
        Files.writeString(dir.resolve("busy.php"), "<?php file_put_contents('" + started + "', 'x');\n"
                + "for ($end = time() + 60; time() < $end; ) { usleep(10000); }\n");
        return started;
    }

    /** An operator's second signal: php-fpm stops its fast way (SIGTERM), ending the script still running. */
    @Test
    void aHurriedStopEndsTheScriptsStillRunning() throws Exception {
        started(1, List.of());
        Path started = busyScript();
        CompletableFuture<Void> busy = CompletableFuture.runAsync(() -> {
            try {
                get("busy.php");
            } catch (IOException e) {
                // ends with php-fpm
            }
        });
        await(() -> Files.exists(started), "the script to run");

        supervisor.hurry();
        supervisor.stop();

        assertThat(Files.readString(supervisor.logPath())).contains("Terminating ...").doesNotContain("Finishing ...");
        busy.get(30, TimeUnit.SECONDS); // its connection ended with php-fpm
    }

    /** The same once a graceful stop is waiting for the script: the hurry cuts it short. */
    @Test
    void aHurryCutsAGracefulStopShort() throws Exception {
        started(1, List.of());
        Path started = busyScript();
        CompletableFuture.runAsync(() -> {
            try {
                get("busy.php");
            } catch (IOException e) {
                // ends with php-fpm
            }
        });
        await(() -> Files.exists(started), "the script to run");
        CompletableFuture<Void> stop = CompletableFuture.runAsync(supervisor::stop);
        await(() -> logSays("Finishing ..."), "the graceful stop");

        supervisor.hurry();

        stop.get(30, TimeUnit.SECONDS);
        assertThat(Files.readString(supervisor.logPath())).contains("Terminating ...");
    }

    @Test
    void reloadKeepsTheMasterAndTheSocket() throws Exception {
        started(1, List.of());
        long pid = supervisor.pid().orElseThrow();

        supervisor.reload();

        await(() -> count(supervisor.logPath(), "ready to handle connections") >= 2, "php-fpm to reload; log:\n" + supervisor.logTail());
        assertThat(get()).startsWith("hello from ");
        assertThat(supervisor.pid().orElseThrow()).isEqualTo(pid);
        assertThat(supervisor.restarts()).isZero();
    }

    @Test
    void aFailedStartSaysWhyWithTheTailOfTheLogAndNamesTheLogInAConfiguredRunDir() throws Exception {
        assertThatThrownBy(() -> failedStart(false))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exited with status 78")
                .hasMessageContaining(dir.resolve("run/php-fpm.log") + " ends with:\nERROR: boom from fake fpm");
        assertThat(supervisor.state()).isEqualTo(PhpFpmSupervisor.State.STOPPED);
    }

    @Test
    void aFailedStartInATemporaryRunDirQuotesTheLogWithoutNamingIt() throws Exception {
        // The message is read once edge has stopped, and the temporary run directory has gone with it.
        assertThatThrownBy(() -> failedStart(true))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exited with status 78")
                .hasMessageContaining("its log (in the temporary run directory, removed when edge stops; set"
                        + " server.run-dir to keep it) ends with:\nERROR: boom from fake fpm")
                .hasMessageNotContaining("php-fpm.log");
        assertThat(supervisor.state()).isEqualTo(PhpFpmSupervisor.State.STOPPED);
    }

    /**
     * php-fpm.log is appended to, so it may hold the lines of an earlier php-fpm on the same run directory (a previous
     * run of edge, a previous reload generation): a failed start quotes only what its own php-fpm wrote, and says so
     * when that is nothing.
     */
    @Test
    void aFailedStartQuotesOnlyWhatItsOwnPhpFpmWroteToTheLog() throws Exception {
        Path log = Files.createDirectories(dir.resolve("run")).resolve("php-fpm.log");
        Files.writeString(log, "ERROR: stale line of an earlier php-fpm\n");

        assertThatThrownBy(() -> failedStart(false)).isInstanceOf(IOException.class)
                .hasMessageEndingWith(log + " ends with:\nERROR: boom from fake fpm\n");

        assertThatThrownBy(() -> failedStart(false, "#!/bin/sh\nexit 78\n")).isInstanceOf(IOException.class)
                .hasMessageContaining("exited with status 78")
                .hasMessageEndingWith("; it wrote nothing to " + log);
        assertThat(log).content().isEqualTo("ERROR: stale line of an earlier php-fpm\nERROR: boom from fake fpm\n");
    }

    /** Starts a php-fpm stand-in that logs an error and exits 78, as php-fpm does on a bad config. */
    private void failedStart(boolean runDirTemporary) throws Exception {
        failedStart(runDirTemporary, "#!/bin/sh\necho 'ERROR: boom from fake fpm' >&2\nexit 78\n");
    }

    private void failedStart(boolean runDirTemporary, String script) throws Exception {
        Path fake = dir.resolve("fake-fpm");
        Files.writeString(fake, script);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        supervisor = new PhpFpmSupervisor("php",
                new BackendGroupSettings.Spawn(fake, 1, List.of(), dir.resolve("run"), runDirTemporary));
        supervisor.start();
    }

    /**
     * edge's SIGTERM while php-fpm starts: a stop() from another thread ends the start at once, as stopped (not as a
     * php-fpm that died, nor after the 10 s the socket is waited for), and by then the php-fpm it launched is gone, though
     * this one never listens and ignores SIGQUIT and SIGTERM.
     */
    @Test
    void aStopWhileStartingEndsTheStartAndThePhpFpmItLaunched() throws Exception {
        Path pidFile = dir.resolve("stuck.pid");
        Path fake = dir.resolve("fake-fpm");
        Files.writeString(fake, "#!/bin/sh\ntrap '' QUIT TERM\necho $$ > '" + pidFile + "'\nexec sleep 600\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        supervisor = new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(fake, 1, List.of(), dir.resolve("run"), false));
        CompletableFuture<Void> start = CompletableFuture.runAsync(() -> {
            try {
                supervisor.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        await(() -> count(pidFile, "") == 1, "the stand-in to run");
        ProcessHandle launched = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).orElseThrow();

        supervisor.stop();

        assertThatThrownBy(() -> start.get(60, TimeUnit.SECONDS)) // the bound only keeps a broken start from hanging
                .isInstanceOf(ExecutionException.class)
                .hasRootCauseInstanceOf(IOException.class)
                .hasRootCauseMessage("php-fpm for group php was stopped while starting");
        assertThat(launched.isAlive()).as("the php-fpm the start launched").isFalse();
        assertThat(supervisor.state()).isEqualTo(PhpFpmSupervisor.State.STOPPED);
        assertThat(supervisor.pid()).isEmpty();
        assertThat(supervisor.socketPath()).doesNotExist();
    }

    /**
     * reference.conf tells operators to set run-dir to keep php-fpm.log: a start that a stop (edge's SIGTERM)
     * abandons keeps it, and the config php-fpm was given, as a failed start and a normal stop do.
     */
    @Test
    void aStopWhileStartingKeepsTheLogAndConfigOfARunDirThatIsNotTemporary() throws Exception {
        Path pidFile = dir.resolve("stuck.pid");
        Path fake = dir.resolve("fake-fpm");
        Files.writeString(fake, "#!/bin/sh\necho 'stand-in starting'\necho $$ > '" + pidFile + "'\nexec sleep 600\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        Path run = dir.resolve("run");
        supervisor = new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(fake, 1, List.of(), run, false));
        CompletableFuture<Void> start = CompletableFuture.runAsync(() -> {
            try {
                supervisor.start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        await(() -> count(pidFile, "") == 1, "the stand-in to run");

        supervisor.stop();

        assertThatThrownBy(() -> start.get(60, TimeUnit.SECONDS))
                .hasRootCauseMessage("php-fpm for group php was stopped while starting");
        assertThat(run.resolve("php-fpm.conf")).content().contains("[php]\n");
        assertThat(supervisor.logPath()).isEqualTo(run.resolve("php-fpm.log")).content().contains("stand-in starting");
        assertThat(supervisor.socketPath()).doesNotExist();
    }

    @Test
    void aSecondSupervisorOnTheSameRunDirRefusesAndLeavesTheFirstAlone() throws Exception {
        started(1, List.of());
        PhpFpmSupervisor second = new PhpFpmSupervisor("php",
                new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), dir.resolve("run"), false));

        assertThatThrownBy(second::start).isInstanceOf(IOException.class)
                .hasMessageContaining("another process accepts on " + supervisor.socketPath());
        assertThat(second.state()).isEqualTo(PhpFpmSupervisor.State.STOPPED);
        assertThat(get()).startsWith("hello from ");
    }

    @Test
    void settingsAreCheckedBeforeAnythingStarts() {
        Path run = dir.resolve("run");
        assertThat(PhpFpmSupervisor.adminValue(" upload_max_filesize =  64M ")).isEqualTo("php_admin_value[upload_max_filesize] = 64M");
        assertThatThrownBy(() -> PhpFpmSupervisor.adminValue("no equals sign"))
                .hasMessage("spawn.extra-ini: \"no equals sign\" has no \"=\" (expected: key = value, the key of "
                        + "[A-Za-z0-9_.], the value on one line)");
        assertThatThrownBy(() -> PhpFpmSupervisor.adminValue("= x")).hasMessageContaining("has no key before \"=\"");
        assertThatThrownBy(() -> new PhpFpmSupervisor("php]\n[evil", new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run, false)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("group name");
        assertThatThrownBy(() -> new PhpFpmSupervisor("php", new BackendGroupSettings.Spawn(PHP_FPM, 0, List.of(), run, false)))
                .hasMessage("spawn.workers: 0 (expected: >= 1)");
        assertThatThrownBy(() -> new PhpFpmSupervisor("php",
                new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), run.resolve("x".repeat(120)), false)))
                .hasMessageContaining("(expected: <= 106, the Unix socket path limit)");
        assertThatThrownBy(() -> new PhpFpmSupervisor("php",
                new BackendGroupSettings.Spawn(PHP_FPM, 1, List.of(), dir.resolve("r$un"), false)))
                .hasMessage("spawn.run-dir: \"" + dir.resolve("r$un") + "\" contains '$' (expected: a path without '\"', "
                        + "'$' or control characters (it goes into php-fpm.conf))");
        assertThatThrownBy(() -> new PhpFpmSupervisor("php",
                new BackendGroupSettings.Spawn(Path.of("/usr/sbin/php\tfpm"), 1, List.of(), run, false)))
                .hasMessageContaining("spawn.command: ").hasMessageContaining("contains a control character (U+0009)");
        assertThat(BackendGroupSettings.Spawn.iniPathProblem("/usr/sbin/php-fpm8.2")).isNull();
        assertThat(BackendGroupSettings.Spawn.iniPathProblem("/a\"b")).isEqualTo("contains '\"'");
        assertThat(run).doesNotExist();
    }

    static long count(Path file, String needle) {
        try {
            return Files.readString(file).lines().filter(l -> l.contains(needle)).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean pidFileSays(Path run, long pid) {
        try {
            return Files.readString(run.resolve("php-fpm.pid")).strip().equals(Long.toString(pid));
        } catch (IOException notYet) {
            return false;
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline < 0).as("waited 30 s for %s", what).isTrue();
            Thread.sleep(20);
        }
    }

    /** One FastCGI GET of index.php, by hand: begin, params, empty stdin; stdout until END_REQUEST. */
    String get() throws IOException {
        return get("index.php");
    }

    /** One FastCGI GET of {@code script} in the temp dir. */
    String get(String script) throws IOException {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        record(request, 1, new byte[] {0, 1, 0, 0, 0, 0, 0, 0}); // BEGIN_REQUEST: RESPONDER, no keep-conn
        ByteArrayOutputStream params = new ByteArrayOutputStream();
        for (Map.Entry<String, String> p : Map.of("SCRIPT_FILENAME", dir.resolve(script).toString(),
                "REQUEST_METHOD", "GET", "SCRIPT_NAME", "/" + script).entrySet()) {
            byte[] name = p.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = p.getValue().getBytes(StandardCharsets.UTF_8);
            params.write(name.length); // all < 128: one-byte lengths
            params.write(value.length);
            params.writeBytes(name);
            params.writeBytes(value);
        }
        record(request, 4, params.toByteArray());
        record(request, 4, new byte[0]);
        record(request, 5, new byte[0]);

        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        try (SocketChannel backend = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            backend.connect(UnixDomainSocketAddress.of(supervisor.socketPath()));
            ByteBuffer out = ByteBuffer.wrap(request.toByteArray());
            while (out.hasRemaining()) {
                backend.write(out);
            }
            while (true) {
                ByteBuffer header = readFully(backend, 8);
                int type = header.get(1);
                int length = header.getShort(4) & 0xffff;
                int padding = header.get(6) & 0xff;
                ByteBuffer content = readFully(backend, length + padding);
                if (type == 6) {
                    stdout.write(content.array(), 0, length);
                } else if (type == 3) {
                    break;
                }
            }
        }
        String response = stdout.toString(StandardCharsets.UTF_8);
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    static void record(ByteArrayOutputStream out, int type, byte[] content) {
        out.writeBytes(new byte[] {1, (byte) type, 0, 1, (byte) (content.length >> 8), (byte) content.length, 0, 0});
        out.writeBytes(content);
    }

    static ByteBuffer readFully(SocketChannel channel, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new IOException("backend closed mid-record");
            }
        }
        return buffer.flip();
    }
}
