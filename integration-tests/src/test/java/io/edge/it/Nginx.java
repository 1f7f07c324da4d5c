package io.edge.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx (Debian's 1.22, installed by .ci/run) started by a test in the foreground, its prefix and configuration
 * in a temp directory, listening on a loopback port picked for it as HAProxy's are ({@link Haproxy}): a backend, or a
 * proxy to compare edge with. Its error log is {@code error.log} in its directory.
 */
final class Nginx implements AutoCloseable {

    private final Path dir;
    private final Process process;
    private final int port;

    private Nginx(Path dir, Process process, int port) {
        this.dir = dir;
        this.process = process;
        this.port = port;
    }

    /**
     * Writes the {@code http} block {@code http} makes for a free port to {@code nginx.conf} in {@code dir} (its
     * prefix: relative paths are under it), starts nginx on it and waits until it listens there.
     */
    static Nginx start(Path dir, Haproxy.Config http) throws Exception {
        return EdgeProcess.onFreePorts(1, ports -> start(dir, http.on(ports), ports[0]));
    }

    private static Nginx start(Path dir, String http, int port) throws Exception {
        Files.createDirectories(dir.resolve("tmp"));
        Path file = Files.writeString(dir.resolve("nginx.conf"), """
                daemon off;
                master_process on;
                worker_processes 1;
                pid nginx.pid;
                error_log error.log info;
                events { worker_connections 64; }
                http {
                  access_log off;
                  client_body_temp_path tmp/body;
                  proxy_temp_path tmp/proxy;
                  fastcgi_temp_path tmp/fastcgi;
                  uwsgi_temp_path tmp/uwsgi;
                  scgi_temp_path tmp/scgi;
                %s
                }
                """.formatted(http));
        Process process = new ProcessBuilder(binary(), "-p", dir + "/", "-c", file.toString(), "-e", "error.log")
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
        Nginx nginx = new Nginx(dir, process, port);
        try {
            for (int i = 0; !Haproxy.listensOn(process, port); i++) {
                if (!process.isAlive()) {
                    throw new AssertionError("nginx exited " + process.exitValue() + ": " + nginx.log());
                }
                if (i == 200) {
                    throw new AssertionError("nginx did not listen on " + port + ": " + nginx.log());
                }
                Thread.sleep(100);
            }
        } catch (Throwable e) {
            nginx.close();
            throw e;
        }
        return nginx;
    }

    /** nginx from .ci/run (Debian's nginx package). */
    private static String binary() {
        return Files.isExecutable(Path.of("/usr/sbin/nginx")) ? "/usr/sbin/nginx" : "nginx";
    }

    int port() {
        return port;
    }

    /** What nginx said: its error log and its output. */
    String log() throws java.io.IOException {
        Path errors = dir.resolve("error.log");
        return (Files.exists(errors) ? Files.readString(errors) : "") + Files.readString(dir.resolve("nginx.out"));
    }

    /** Stops nginx (SIGTERM: its fast shutdown) and waits (up to 20 s) until it has exited; fails if it has not. */
    @Override
    public void close() {
        process.destroy();
        boolean stopped;
        try {
            stopped = process.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        if (!stopped) {
            process.destroyForcibly();
            throw new AssertionError("nginx did not stop");
        }
    }
}
