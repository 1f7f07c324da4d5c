package io.edge.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.conf.ConfigLoader;
import io.edge.conf.EdgeSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edge -s}'s check that the process a pid file names is edge's, not another that has its id since. */
class PidFileTest {

    @TempDir
    Path dir;

    /** A process whose command line names {@code last} after {@code padding} bytes of other arguments. */
    private static Process sleeper(int padding, String last) throws IOException {
        // "& wait": a sh that is bash would exec a lone command, and the command line would be sleep's
        return new ProcessBuilder("sh", "-c", "sleep 60 & wait", "x".repeat(padding), last).start();
    }

    @Test
    void edgeIsFoundByItsMainClassHoweverLongItsCommandLine() throws Exception {
        Process edge = sleeper(8192, "io.edge.core.Main");
        try {
            Path pidFile = Files.writeString(dir.resolve("edge.pid"), edge.pid() + "\n");

            assertThat(PidFile.running(pidFile).pid()).isEqualTo(edge.pid());
        } finally {
            edge.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anotherProcessIsRefused() throws Exception {
        Process other = sleeper(10, "not-edge");
        try {
            Path pidFile = Files.writeString(dir.resolve("edge.pid"), other.pid() + "\n");

            assertThatThrownBy(() -> PidFile.running(pidFile)).isInstanceOf(IOException.class)
                    .hasMessageContaining("which is not edge (/");
        } finally {
            other.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A write that takes the file over from another edge that runs is told (a restart while the old one drains, or two
     * servers given one file); a stale file is not: no process, another program's (a kernel thread's or a zombie's
     * command line is empty: not edge's either), none at all, no number, or this process's own.
     */
    @Test
    void anotherRunningEdgeIsTheOnlyOneAPidFileIsTakenOverFrom() throws Exception {
        Process edge = sleeper(10, "io.edge.core.Main");
        Process other = sleeper(10, "not-edge");
        try {
            Path held = Files.writeString(dir.resolve("held.pid"), edge.pid() + "\n");
            assertThat(PidFile.otherEdge(held)).hasValue(edge.pid());
            assertThat(PidFile.otherEdge(Files.writeString(dir.resolve("other.pid"), other.pid() + "\n"))).isEmpty();
            assertThat(PidFile.otherEdge(Files.writeString(dir.resolve("own.pid"), ProcessHandle.current().pid() + "\n")))
                    .isEmpty();
            assertThat(PidFile.otherEdge(Files.writeString(dir.resolve("garbage.pid"), "abc\n"))).isEmpty();
            assertThat(PidFile.otherEdge(dir.resolve("none.pid"))).isEmpty();
            assertThat(PidFile.isEdge("")).as("a kernel thread's or a zombie's empty command line").isFalse();
        } finally {
            edge.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            other.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFileNamingNoProcessOrNoNumberIsRefused() throws Exception {
        assertThatThrownBy(() -> PidFile.running(dir.resolve("none.pid"))).hasMessageContaining("does not exist");
        Path garbage = Files.writeString(dir.resolve("garbage.pid"), "abc\n");
        assertThatThrownBy(() -> PidFile.running(garbage)).hasMessageContaining("holds no process id");
    }

    /**
     * A start that fails once it listens (its pid file's directory gone since the configuration was read) stops what
     * it started, and the stop Main calls after it does nothing more: it shut the stopped loops down again, and its
     * RejectedExecutionException went out as a stack trace with exit status 1 (the configuration audit).
     */
    @Test
    void aStartFailingAtItsPidFileIsStoppedOnceAndASecondStopIsQuiet() throws Exception {
        Path run = Files.createDirectory(dir.resolve("run"));
        Files.createDirectory(dir.resolve("www"));
        Path conf = Files.writeString(dir.resolve("edge.conf"), "edge {\n  server { listen = [\"127.0.0.1:0\"],"
                + " pid-file = \"run/edge.pid\" }\n  sites = [{ root = www }]\n}\n");
        EdgeSettings settings = new ConfigLoader().load(conf);
        Files.delete(run);
        Edge edge = new Edge(settings);
        assertThatThrownBy(edge::start).isInstanceOf(IOException.class);
        assertThat(edge.stop()).isTrue();
    }
}
