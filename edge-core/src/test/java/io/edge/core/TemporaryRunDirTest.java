package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run directory edge makes for a spawned php-fpm ({@code run-dir = ""}) goes when edge stops; a configured one
 * stays. A failed start's message names php-fpm's log only where it stays.
 */
class TemporaryRunDirTest {

    private static final String PHP_FPM = "/usr/sbin/php-fpm8.2";

    @TempDir
    Path dir;

    @BeforeEach
    void site() throws Exception {
        Files.createDirectory(dir.resolve("www"));
    }

    @Test
    void deletedOnANormalStop() throws Exception {
        EdgeSettings settings = load("127.0.0.1:0", "\"\"");
        Path runDir = settings.server().runDir();
        assertThat(settings.server().runDirTemporary()).isTrue();
        Edge edge = new Edge(settings);
        edge.start();
        assertThat(runDir.resolve("php/php-fpm.sock")).exists();
        edge.stop();
        assertThat(runDir).doesNotExist();
    }

    @Test
    void deletedWhenTheStartFails() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            EdgeSettings settings = load("127.0.0.1:" + taken.getLocalPort(), "\"\"");
            Path runDir = settings.server().runDir();
            assertThat(runDir).isDirectory();
            assertThatThrownBy(new Edge(settings)::start).hasMessageContaining("address already in use");
            assertThat(runDir).doesNotExist();
        }
    }

    /**
     * An address in use is found before php-fpm is spawned: a second edge started on the same configuration (its
     * run-dir the first's) said the first's php-fpm was "another process" to stop, as it spawned its own before it
     * bound; nothing is started now, the run directory not even written to.
     */
    @Test
    void anAddressInUseIsSaidBeforeAnyPhpFpmIsSpawned() throws Exception {
        Path runDir = dir.resolve("run");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            EdgeSettings settings = load("127.0.0.1:" + taken.getLocalPort(), "\"" + runDir + "\"");
            assertThatThrownBy(new Edge(settings)::start).hasMessageEndingWith("edge.server.listen[0]: 127.0.0.1:"
                    + taken.getLocalPort() + ": address already in use");
        }
        assertThat(runDir.resolve("php")).as("no php-fpm spawned, no config written").doesNotExist();
    }

    @Test
    void deletedWhenEdgeStopsBeforeStarting() throws Exception {
        EdgeSettings settings = load("127.0.0.1:0", "\"\"");
        new Edge(settings).stop(); // as Main does when the access log cannot be opened
        assertThat(settings.server().runDir()).doesNotExist();
    }

    @Test
    void aStartAfterAStopStartsNothingAndLeavesNoRunDir() throws Exception {
        // A SIGTERM between the shutdown hook's registration and the start: the hook's stop runs first.
        EdgeSettings settings = load("127.0.0.1:0", "\"\"");
        Edge edge = new Edge(settings);
        edge.stop();
        assertThatThrownBy(edge::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("stopped");
        assertThat(settings.server().runDir()).doesNotExist();
    }

    /**
     * A SIGTERM while the spawned php-fpm starts: the shutdown hook's stop does not wait for php-fpm's socket (the
     * start holds the lock up to 10 s meanwhile). The start fails as stopped, the php-fpm it launched is gone and the
     * temporary run directory with it; this stand-in never listens and ignores SIGQUIT and SIGTERM.
     */
    @Test
    void aStopDuringTheStartAbandonsItStopsThePhpFpmBeingStartedAndDeletesTheRunDir() throws Exception {
        Path pidFile = dir.resolve("stuck.pid");
        Path fake = dir.resolve("stuck-fpm");
        // (-v is the configuration check asking which PHP it is: no answer as PHP's, so not judged)
        Files.writeString(fake, "#!/bin/sh\n[ \"$1\" = -v ] && exit 0\ntrap '' QUIT TERM\necho $$ > '" + pidFile
                + "'\nexec sleep 600\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        EdgeSettings settings = load("127.0.0.1:0", "\"\"", fake.toString());
        Path runDir = settings.server().runDir();
        Edge edge = new Edge(settings);
        CompletableFuture<Void> start = CompletableFuture.runAsync(() -> {
            try {
                edge.start();
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        for (int i = 0; i < 300 && !(Files.exists(pidFile) && Files.readString(pidFile).endsWith("\n")); i++) {
            Thread.sleep(100);
        }
        ProcessHandle phpFpm = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).orElseThrow();

        edge.stop();

        assertThatThrownBy(() -> start.get(60, TimeUnit.SECONDS)) // the bound only keeps a broken start from hanging
                .isInstanceOf(ExecutionException.class)
                .hasRootCauseMessage("php-fpm for group php was stopped while starting");
        assertThat(phpFpm.isAlive()).as("the php-fpm being started").isFalse();
        assertThat(runDir).doesNotExist();
    }

    /**
     * The same stop during the start with run-dir set: that directory is the operator's, and php-fpm's log and config
     * stay in it, as after a failed start or a normal stop (reference.conf says to set run-dir to keep the log).
     */
    @Test
    void aStopDuringTheStartKeepsPhpFpmsLogAndConfigInAConfiguredRunDir() throws Exception {
        Path pidFile = dir.resolve("stuck.pid");
        Path fake = dir.resolve("stuck-fpm");
        Files.writeString(fake, "#!/bin/sh\n[ \"$1\" = -v ] && exit 0\necho 'stand-in starting'\necho $$ > '" + pidFile
                + "'\nexec sleep 600\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        Path runDir = dir.resolve("run");
        EdgeSettings settings = load("127.0.0.1:0", "\"" + runDir + "\"", fake.toString());
        assertThat(settings.server().runDirTemporary()).isFalse();
        Edge edge = new Edge(settings);
        CompletableFuture<Void> start = CompletableFuture.runAsync(() -> {
            try {
                edge.start();
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        for (int i = 0; i < 300 && !(Files.exists(pidFile) && Files.readString(pidFile).endsWith("\n")); i++) {
            Thread.sleep(100);
        }
        ProcessHandle phpFpm = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).orElseThrow();

        edge.stop();

        assertThatThrownBy(() -> start.get(60, TimeUnit.SECONDS))
                .hasRootCauseMessage("php-fpm for group php was stopped while starting");
        assertThat(phpFpm.isAlive()).as("the php-fpm being started").isFalse();
        assertThat(runDir.resolve("php/php-fpm.conf")).content().contains("[php]\n");
        assertThat(runDir.resolve("php/php-fpm.log")).content().contains("stand-in starting");
        assertThat(runDir.resolve("php/php-fpm.sock")).doesNotExist();
    }

    @Test
    void aStartRemovesTheRunDirsOfEdgesThatWereKilledAndKeepsTheRest() throws Exception {
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        long impossiblePid = Long.parseLong(Files.readString(Path.of("/proc/sys/kernel/pid_max")).strip()) + 1;
        Path killed = Files.createDirectories(tmp.resolve("edge-1234/php"));
        String namespace = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        Files.writeString(tmp.resolve("edge-1234/edge.pid"), impossiblePid + " 1 " + namespace + "\n");
        Path unmarked = Files.createDirectories(tmp.resolve("edge-5678/php"));
        String previous = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try {
            Path file = dir.resolve("edge.conf");
            Files.writeString(file, "edge { server.listen = [\"127.0.0.1:0\"], sites = [{ root = www }] }\n");
            Edge edge = new Edge(new ConfigLoader().load(file));
            edge.start();
            edge.stop();
        } finally {
            System.setProperty("java.io.tmpdir", previous);
        }
        assertThat(killed.getParent()).doesNotExist();
        assertThat(unmarked).isDirectory();
    }

    @Test
    void aConfiguredRunDirStays() throws Exception {
        Path run = Files.createDirectory(dir.resolve("run"));
        EdgeSettings settings = load("127.0.0.1:0", "run");
        assertThat(settings.server().runDirTemporary()).isFalse();
        Edge edge = new Edge(settings);
        edge.start();
        edge.stop();
        assertThat(run).isDirectory();
    }

    @Test
    void aFailedStartQuotesPhpFpmsLogWithoutNamingTheFileItTookAlong() throws Exception {
        EdgeSettings settings = load("127.0.0.1:0", "\"\"", failingPhpFpm());
        Path runDir = settings.server().runDir();
        assertThatThrownBy(new Edge(settings)::start)
                .hasMessageContaining("exited with status 78")
                .hasMessageContaining("ends with:\nERROR: boom from fake fpm")
                .hasMessageNotContaining("php-fpm.log");
        assertThat(runDir).doesNotExist();
    }

    @Test
    void aFailedStartNamesPhpFpmsLogInAConfiguredRunDir() throws Exception {
        Files.createDirectory(dir.resolve("run"));
        EdgeSettings settings = load("127.0.0.1:0", "run", failingPhpFpm());
        Path log = settings.server().runDir().resolve("php/php-fpm.log");
        assertThatThrownBy(new Edge(settings)::start)
                .hasMessageContaining(log + " ends with:\nERROR: boom from fake fpm");
        assertThat(log).content().contains("ERROR: boom from fake fpm");
    }

    /**
     * A configured run directory keeps php-fpm's log across runs, so it holds an earlier php-fpm's lines: a failed
     * start quotes none of them as its own.
     */
    @Test
    void aFailedStartInAConfiguredRunDirQuotesNoLineOfAnEarlierRunsPhpFpm() throws Exception {
        Files.createDirectory(dir.resolve("run"));
        Edge earlier = new Edge(load("127.0.0.1:0", "run"));
        earlier.start();
        earlier.stop();
        EdgeSettings settings = load("127.0.0.1:0", "run", failingPhpFpm());
        Path log = settings.server().runDir().resolve("php/php-fpm.log");
        assertThat(log).content().contains("NOTICE: ready to handle connections");

        assertThatThrownBy(new Edge(settings)::start)
                .hasMessageEndingWith(log + " ends with:\nERROR: boom from fake fpm\n")
                .hasMessageNotContaining("NOTICE");
    }

    /** A php-fpm stand-in that logs an error and exits 78, as php-fpm does on a bad pool config. */
    private String failingPhpFpm() throws Exception {
        Path fake = dir.resolve("fake-fpm");
        Files.writeString(fake, "#!/bin/sh\necho 'ERROR: boom from fake fpm' >&2\nexit 78\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        return fake.toString();
    }

    private EdgeSettings load(String listen, String runDir) throws Exception {
        return load(listen, runDir, PHP_FPM);
    }

    private EdgeSettings load(String listen, String runDir, String phpFpm) throws Exception {
        Path file = dir.resolve("edge.conf");
        Files.writeString(file, "edge {\n  server { listen = [\"" + listen + "\"], run-dir = " + runDir + " }\n"
                + "  sites = [{ root = www }]\n"
                + "  fastcgi.backends.php.spawn { enabled = true, command = \"" + phpFpm + "\", workers = 1 }\n}\n");
        return new ConfigLoader().load(file);
    }
}
