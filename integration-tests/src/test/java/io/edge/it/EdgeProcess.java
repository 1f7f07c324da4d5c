package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** edge as a separate process (same class path as the tests), for exit codes and signals. */
final class EdgeProcess implements AutoCloseable {

    final Process process;
    final Path output;

    private EdgeProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    static EdgeProcess start(Path dir, String... args) throws IOException {
        return startUnder(List.of(), dir, args);
    }

    /** As {@link #start}, the JVM run by {@code wrapper} (e.g. {@code nohup}, which execs it ignoring SIGHUP). */
    static EdgeProcess startUnder(List<String> wrapper, Path dir, String... args) throws IOException {
        return launch(wrapper, List.of(), dir, args);
    }

    /** As {@link #start}, the JVM given {@code jvmOptions} too (e.g. {@code -XX:MaxDirectMemorySize=4m}). */
    static EdgeProcess startWithJvmOptions(List<String> jvmOptions, Path dir, String... args) throws IOException {
        return launch(List.of(), jvmOptions, dir, args);
    }

    private static EdgeProcess launch(List<String> wrapper, List<String> jvmOptions, Path dir, String... args)
            throws IOException {
        return launch(javaCommand(wrapper, jvmOptions, args), false, dir);
    }

    private static List<String> javaCommand(List<String> wrapper, List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.edge.core.Main"));
        command.addAll(List.of(args));
        return command;
    }

    /** As {@link #start}, through {@code bin/edge} (which execs the JVM, so the process is edge's). */
    static EdgeProcess startByLauncher(Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("edge.home"), "bin", "edge").toString());
        command.addAll(List.of(args));
        return launch(command, false, dir);
    }

    /**
     * As {@link #start}, in an environment without a locale (no {@code LANG}, {@code LC_*}), as a systemd unit or cron
     * job may start it: the JVM then reads file names as ASCII. {@code byLauncher}: through {@code bin/edge} (which
     * execs the JVM, so the process is edge's), else the JVM directly.
     */
    static EdgeProcess startWithoutLocale(boolean byLauncher, Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        if (byLauncher) {
            command.add(Path.of(System.getProperty("edge.home"), "bin", "edge").toString());
            command.addAll(List.of(args));
        } else {
            command = javaCommand(List.of(), List.of(), args);
        }
        return launch(command, true, dir);
    }

    private static EdgeProcess launch(List<String> command, boolean withoutLocale, Path dir) throws IOException {
        Path output = dir.resolve("edge-" + System.nanoTime() + ".log");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile());
        if (withoutLocale) {
            builder.environment().keySet().removeIf(name -> name.equals("LANG") || name.startsWith("LC_")
                    || name.equals("LANGUAGE"));
        }
        return new EdgeProcess(builder.start(), output);
    }

    /** Runs to completion (bounded), returning the exit code. */
    int await() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("edge did not exit within 60 s");
        }
        return process.exitValue();
    }

    /** What a check against this process may throw. */
    interface Check {
        void run() throws Exception;
    }

    /** Another process's log, for a failure message. */
    interface Log {
        String read() throws IOException;
    }

    /**
     * Runs {@code check}; a failure carries the tail of edge's output and of each of {@code others}
     * (their logs go with the temporary directory, so without this a failure in CI says nothing about
     * what edge or its backend saw).
     */
    void verify(Check check, Log... others) throws Exception {
        try {
            check.run();
        } catch (Throwable failure) {
            failure.addSuppressed(new AssertionError("edge " + (process.isAlive() ? "still running" : "exited " + process.exitValue())
                    + "; its output ends:\n" + tail(output())));
            for (Log other : others) {
                failure.addSuppressed(new AssertionError("the backend's log ends:\n" + tail(other.read())));
            }
            throw failure;
        }
    }

    private static String tail(String log) {
        return log.substring(Math.max(0, log.length() - 16_384));
    }

    String output() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    /**
     * A port free now, for a server that must be told its port before it starts ({@link #onFreePorts}, which picks
     * again where it was taken by then): chosen at random below the ephemeral range ({@link #firstEphemeralPort}) and
     * never handed out twice in this JVM.
     */
    static int freePort() throws IOException {
        int below = firstEphemeralPort();
        if (below > LOWEST_PORT + 1_000) {
            for (int attempt = 0; attempt < 1_000; attempt++) {
                int port = LOWEST_PORT + ThreadLocalRandom.current().nextInt(below - LOWEST_PORT);
                if (HANDED_OUT.add(port) && bindable(port)) {
                    return port;
                }
            }
        }
        // no range left below the ephemeral one, or no pick there bindable (a CI run once came here, why unknown: the
        // last refusal is printed): as the kernel picks, but never twice either -- it hands a port just closed out
        // again at once, and the two ports of one onFreePorts pick were once the same
        Refusal refusal = lastRefusal;
        System.err.println("EdgeProcess.freePort: no free port below " + below + " (last bind refused: "
                + (refusal == null ? "none" : refusal.port() + ": " + refusal.cause()) + "); the kernel's pick instead");
        try {
            for (int attempt = 0; attempt < 1_000; attempt++) {
                try (ServerSocket socket = new ServerSocket(0)) {
                    if (HANDED_OUT.add(socket.getLocalPort())) {
                        return socket.getLocalPort();
                    }
                }
            }
            throw new IOException("no port the kernel picked was one not handed out before, and no free port below "
                    + below);
        } catch (IOException failure) {
            // why the pick below the ephemeral range was given up goes with the failure, not only to stderr
            if (refusal != null) {
                failure.addSuppressed(refusal.cause());
            }
            throw failure;
        }
    }

    /** A test's step run on ports picked for it ({@link #onFreePorts}), returning what it started (or null). */
    interface OnPorts<T> {
        T run(int[] ports) throws Exception;
    }

    /** How many times {@link #onFreePorts} picks ports before it gives up. */
    private static final int PICKS = 5;

    /**
     * Runs {@code step} on {@code count} {@link #freePort}s, and again on fresh ones where it failed because one of
     * them was in use: a port is only free when picked, and any process on the machine (another build's tests, which
     * pick from the same range) may bind it before the server {@code step} starts does. For a server that must be
     * told its port before it starts, where port 0 will not do: HAProxy, which refuses it, or edge where its
     * configuration names the port again (a second listener beside one on port 0, a site's listen, a listener a
     * reload adds). {@code step} runs again whole, so it must close what it started when it fails. A failure that does
     * not say one of the ports is in use is thrown as it is; after {@value #PICKS} picks all taken, the last failure
     * is thrown, saying so.
     */
    static <T> T onFreePorts(int count, OnPorts<T> step) throws Exception {
        for (int pick = 1; ; pick++) {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ports[i] = freePort();
            }
            try {
                return step.run(ports);
            } catch (Exception | AssertionError failure) {
                if (!saysInUse(failure, ports)) {
                    throw failure;
                }
                if (pick == PICKS) {
                    throw new AssertionError(PICKS + " picks of free ports, each found in use by another process "
                            + "before the test's server bound it; the last one's failure follows", failure);
                }
            }
        }
    }

    /**
     * Whether {@code failure}, a cause or a suppressed one says on one line that a loopback port of {@code ports} is
     * in use, as edge does ({@code edge.conf:3: edge.server.listen[1]: 127.0.0.1:20345: address already in use}) or
     * HAProxy ({@code cannot bind socket (Address already in use) for [127.0.0.1:20345]}); an output quoted in its
     * message counts too.
     */
    private static boolean saysInUse(Throwable failure, int[] ports) {
        List<String> messages = new ArrayList<>();
        collectMessages(failure, messages, Collections.newSetFromMap(new IdentityHashMap<>()));
        for (String message : messages) {
            for (String line : (Iterable<String>) message.lines()::iterator) {
                if (!line.toLowerCase(Locale.ROOT).contains("address already in use")) {
                    continue;
                }
                for (int port : ports) {
                    if (Pattern.compile("127\\.0\\.0\\.1:" + port + "(?!\\d)").matcher(line).find()) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void collectMessages(Throwable failure, List<String> messages, Set<Throwable> seen) {
        if (failure == null || !seen.add(failure)) {
            return;
        }
        if (failure.getMessage() != null) {
            messages.add(failure.getMessage());
        }
        collectMessages(failure.getCause(), messages, seen);
        for (Throwable suppressed : failure.getSuppressed()) {
            collectMessages(suppressed, messages, seen);
        }
    }

    /** Ports {@link #freePort} picks from, up to the first ephemeral one: above the well-known and usual fixed ones. */
    private static final int LOWEST_PORT = 20_000;
    /** Every port {@link #freePort} returned in this JVM: never twice, whatever was bound on it meanwhile. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    /**
     * The lowest port the kernel gives a socket that connects without binding ({@code ip_local_port_range}).
     * A port taken from that range by binding :0 and closing, as {@link #freePort} did, can be given to any
     * client's connection before edge binds it (the tests' own HTTP clients connect all the while), and edge
     * then fails to start with "address in use"; below it, only a process that binds that very port can.
     */
    private static int firstEphemeralPort() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException unknown) {
            return 32_768; // Linux's default
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException taken) {
            lastRefusal = new Refusal(port, taken);
            return false;
        }
    }

    /** A port {@link #bindable} said no to, and why. */
    private record Refusal(int port, IOException cause) {
    }

    /** Why {@link #bindable} last said no, for {@link #freePort}'s note and failure where none was. */
    private static volatile Refusal lastRefusal;

    /**
     * Waits (bounded) until edge says it listens on a loopback port and returns that port: for a configuration that
     * listens on {@code 127.0.0.1:0}, the port the kernel gave edge as it bound. Nothing can take that port from it,
     * where a {@link #freePort} is only free when picked: any process on the machine (another build's tests, which pick
     * from the same range) may bind it before edge starts, edge then fails to, and a connection is accepted by that
     * other process, which may be gone by the first request (a ConnectException on a loaded machine).
     */
    int awaitBoundPort() throws Exception {
        Matcher listening = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) ").matcher("");
        for (int i = 0; i < 300; i++) {
            if (listening.reset(output()).find()) {
                return Integer.parseInt(listening.group(1));
            }
            if (!process.isAlive()) {
                throw new AssertionError("edge exited early:\n" + output());
            }
            Thread.sleep(100);
        }
        throw new AssertionError("edge did not say it listens:\n" + output());
    }

    /** Sends signal {@code name} ("HUP", "USR1") with kill(1). */
    void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -" + name).isTrue();
    }

    /** Waits (bounded) until edge's output contains {@code text}; returns the output then. */
    String awaitOutput(String text) throws Exception {
        return Awaits.until(this::output, output -> output.contains(text), "edge's output to contain " + text);
    }

    /** Whether something accepts connections on the loopback {@code port}. */
    static boolean accepts(int port) {
        try {
            new Socket("127.0.0.1", port).close();
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    /** Waits (bounded) for {@code file} to exist: a script's sign that it started. */
    static void awaitExists(Path file) throws Exception {
        Awaits.await(() -> Files.exists(file), file + " to exist");
    }

    /** The body of a GET of {@code target} on the loopback {@code port}, after checking it answered 200. */
    static String get(HttpClient http, int port, String target) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + target))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(target).isEqualTo(200);
        return response.body();
    }

    /**
     * Reads one response head off {@code in} (a connection the test writes raw requests to); checks it is a 200
     * that keeps the connection open and returns its Content-Length.
     */
    static int readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed after: " + head);
            }
            head.append((char) c);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("connection: close");
        for (String line : head.toString().split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                return Integer.parseInt(line.substring(15).strip());
            }
        }
        throw new AssertionError("no Content-Length in " + head);
    }

    /**
     * Stops edge as an operator would, SIGTERM, so that its shutdown stops the php-fpm it spawned and removes its run
     * directory (a SIGKILL left one under /tmp per test for the next start to clean up); SIGKILL if it has not stopped
     * within 10 s.
     */
    @Override
    public void close() {
        process.destroy();
        try {
            if (process.waitFor(10, TimeUnit.SECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
    }
}
