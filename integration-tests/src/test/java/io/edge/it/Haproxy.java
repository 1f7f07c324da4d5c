package io.edge.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real HAProxy (Debian's haproxy package, installed by .ci/run) started by a test in the foreground with its
 * configuration written in a temp directory, listening on loopback ports picked for it; its output goes to
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
    private final int[] ports;

    private Haproxy(Path dir, Process process, int[] ports) {
        this.dir = dir;
        this.process = process;
        this.ports = ports;
    }

    /** What HAProxy's configuration is, made for the loopback ports it is to listen on. */
    interface Config {
        String on(int[] ports);
    }

    /**
     * Writes {@code config}, made for {@code count} loopback ports picked free, to {@code haproxy.cfg} in {@code dir},
     * starts HAProxy on it and waits (up to 20 s each) until it listens on every one of them; fails with its log if it
     * exits first. HAProxy binds no port 0, so its ports are picked before it starts; where one was bound by another
     * process meanwhile, HAProxy exits saying so and is started again on fresh ones ({@link EdgeProcess#onFreePorts}).
     */
    static Haproxy start(Path dir, int count, Config config) throws Exception {
        return EdgeProcess.onFreePorts(count, ports -> start(dir, config.on(ports), ports));
    }

    private static Haproxy start(Path dir, String config, int[] ports) throws Exception {
        Path file = Files.writeString(dir.resolve("haproxy.cfg"), config);
        Process process = new ProcessBuilder(binary(), "-db", "-f", file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        Haproxy haproxy = new Haproxy(dir, process, ports);
        try {
            for (int port : ports) {
                haproxy.awaitListening(port);
            }
        } catch (Throwable e) {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            throw e;
        }
        return haproxy;
    }

    /** The {@code index}th of the loopback ports its configuration was made for. */
    int port(int index) {
        return ports[index];
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

    /**
     * Waits until HAProxy itself listens on {@code port}: a connection accepted there could be another process's that
     * bound it first (HAProxy then exits saying so, but maybe only after the connection).
     */
    private void awaitListening(int port) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("haproxy exited " + process.exitValue() + ": " + log());
            }
            if (listensOn(process, port)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("haproxy did not listen on " + port + ": " + log());
    }

    /**
     * Whether one of {@code process}'s descriptors is a socket listening on 127.0.0.1:{@code port}: a line of
     * {@code /proc/net/tcp} in state 0A (LISTEN) for that address, whose inode is one of {@code /proc/PID/fd}'s
     * {@code socket:[inode]} links. For HAProxy and nginx ({@link Nginx}), which are told their ports.
     */
    static boolean listensOn(Process process, int port) throws IOException {
        Set<String> sockets = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String target = Files.readSymbolicLink(fd).toString();
                if (target.startsWith("socket:[")) {
                    sockets.add(target.substring(8, target.length() - 1));
                }
            }
        } catch (NoSuchFileException exited) { // the loop sees it exited
            return false;
        }
        String local = String.format("0100007F:%04X", port); // 127.0.0.1 as the kernel's bytes, in hex
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length > 9 && fields[1].equals(local) && fields[3].equals("0A") && sockets.contains(fields[9])) {
                return true;
            }
        }
        return false;
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
