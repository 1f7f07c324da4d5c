package io.edge.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy (Debian's haproxy package, installed by .ci/run) started by a test in the foreground with its
 * configuration written in a temp directory, listening on loopback ports of the test's; its output goes to
 * {@code haproxy.log} there.
 */
final class Haproxy implements AutoCloseable {

    /** The lines every test's configuration begins with: its frontends and backends follow. */
    static final String GLOBAL_AND_DEFAULTS = """
            global
                maxconn 256
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            """;

    private final Path dir;
    private final Process process;

    private Haproxy(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
    }

    /**
     * Writes {@code config} to {@code haproxy.cfg} in {@code dir}, starts HAProxy on it and waits (up to 20 s each)
     * until it accepts connections on every one of {@code ports}; fails with its log if it exits first.
     */
    static Haproxy start(Path dir, String config, int... ports) throws Exception {
        Path file = Files.writeString(dir.resolve("haproxy.cfg"), config);
        Process process = new ProcessBuilder(binary(), "-db", "-f", file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        Haproxy haproxy = new Haproxy(dir, process);
        try {
            for (int port : ports) {
                haproxy.awaitListening(port);
            }
        } catch (Throwable e) {
            process.destroy();
            throw e;
        }
        return haproxy;
    }

    /** HAProxy from .ci/run (Debian's haproxy package). */
    static String binary() {
        return Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : "haproxy";
    }

    /** Whether {@code haproxy -c} passes {@code config}; its output is written to {@code log}. */
    static boolean check(Path config, Path log) throws Exception {
        Process check = new ProcessBuilder(binary(), "-c", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!check.waitFor(30, TimeUnit.SECONDS)) {
            check.destroy();
            throw new AssertionError("haproxy -c did not finish: " + Files.readString(log));
        }
        return check.exitValue() == 0;
    }

    private void awaitListening(int port) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("haproxy exited " + process.exitValue() + ": " + log());
            }
            try (java.net.Socket probe = new java.net.Socket()) {
                probe.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("haproxy did not listen on " + port + ": " + log());
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("haproxy.log"));
    }

    /** Stops HAProxy and waits (up to 10 s) until it has exited; fails with its log if it has not. */
    @Override
    public void close() throws IOException {
        process.destroy();
        boolean stopped;
        try {
            stopped = process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        if (!stopped) {
            process.destroyForcibly();
            throw new AssertionError("haproxy did not stop: " + log());
        }
    }
}
