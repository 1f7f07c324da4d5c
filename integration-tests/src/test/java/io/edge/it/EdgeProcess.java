package io.edge.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** edge as a separate process (same class path as the tests), for exit codes and signals. */
final class EdgeProcess implements AutoCloseable {

    final Process process;
    final Path output;

    private EdgeProcess(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    static EdgeProcess start(Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.edge.core.Main"));
        command.addAll(List.of(args));
        Path output = dir.resolve("edge-" + System.nanoTime() + ".log");
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        return new EdgeProcess(process, output);
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
        return java.nio.file.Files.readString(output, StandardCharsets.UTF_8);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Waits (bounded) until the port accepts connections. */
    void awaitListening(int port) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("edge exited early:\n" + output());
            }
            try {
                new Socket("127.0.0.1", port).close();
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("edge did not listen on " + port + ":\n" + output());
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
