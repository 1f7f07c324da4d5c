package io.edge.it;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real php-fpm (Debian's php8.2-fpm) started by a test with its own pool configuration in a temp
 * directory, listening on a Unix socket there (or on a loopback TCP port).
 */
final class PhpFpm implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/sbin/php-fpm8.2");

    private final Path dir;
    private final Path config;
    private final String listen;
    private Process process;

    private PhpFpm(Path dir, String listen, String pool) throws IOException {
        this.dir = dir;
        this.listen = listen;
        this.config = dir.resolve("php-fpm.conf");
        Files.writeString(config, """
                [global]
                pid = %s
                error_log = %s
                daemonize = no
                process_control_timeout = 10

                [www]
                listen = %s
                listen.mode = 0666
                catch_workers_output = yes
                decorate_workers_output = no
                clear_env = no
                php_admin_flag[log_errors] = on
                %s
                """.formatted(dir.resolve("php-fpm.pid"), dir.resolve("php-fpm.log"), listen, pool));
    }

    /** {@code pool} holds the pool's pm lines, e.g. "pm = static\npm.max_children = 4\nlisten.backlog = 8". */
    static PhpFpm unix(Path dir, String pool) throws IOException {
        return new PhpFpm(dir, dir.resolve("php-fpm.sock").toString(), pool).start();
    }

    /**
     * As {@link #unix}, listening on a loopback TCP port of its own ({@link #address}): php-fpm binds no port 0, so one
     * is picked free, and another where php-fpm could not bind it ({@link EdgeProcess#onFreePorts}).
     */
    static PhpFpm tcp(Path dir, String pool) throws Exception {
        return EdgeProcess.onFreePorts(1, ports -> {
            Files.deleteIfExists(dir.resolve("php-fpm.log"));
            return new PhpFpm(dir, "127.0.0.1:" + ports[0], pool).start();
        });
    }

    /** The address in edge's configuration syntax. */
    String address() {
        return listen.startsWith("/") ? "unix:" + listen : listen;
    }

    /**
     * Starts php-fpm. Its workers keep its environment (clear_env = no), which is the build's less HTTP_PROXY: a
     * script's getenv('HTTP_PROXY') reads the environment where the request has none, and the httpoxy test wants it
     * empty whatever proxy the machine running the tests is set up with.
     */
    PhpFpm start() throws IOException {
        ProcessBuilder builder = new ProcessBuilder(BINARY.toString(), "-R", "-F", "-y", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("php-fpm.out").toFile()));
        builder.environment().keySet().removeIf(name -> name.equalsIgnoreCase("HTTP_PROXY"));
        process = builder.start();
        try {
            awaitReady();
        } catch (IOException notReady) {
            stopUnready();
            throw notReady;
        }
        return this;
    }

    /**
     * Stops a php-fpm that never became ready (SIGTERM, which ends its workers too; SIGKILL after 10 s): no test holds
     * it to close, and it ran on with its workers for the rest of the JVM's test classes.
     */
    private void stopUnready() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /**
     * Waits until php-fpm listens, polling every 50 ms for 30 s at most (the suite's one bound, as {@link Awaits}'s): a
     * start on a loaded machine may take more than the 10 s this once allowed.
     */
    private void awaitReady() throws IOException {
        for (int i = 0; i < 600; i++) {
            if (!process.isAlive()) {
                throw new IOException("php-fpm exited: " + log());
            }
            // over TCP, another process's listener on the port would accept as well: php-fpm's own word too
            if (accepts() && (listen.startsWith("/") || log().contains("ready to handle connections"))) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        throw new IOException("php-fpm did not listen on " + listen + ": " + log());
    }

    private boolean accepts() {
        if (listen.startsWith("/")) {
            if (!Files.exists(Path.of(listen))) {
                return false;
            }
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                return channel.connect(UnixDomainSocketAddress.of(listen));
            } catch (IOException e) {
                return false;
            }
        }
        int colon = listen.lastIndexOf(':');
        try (java.net.Socket socket = new java.net.Socket(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)))) {
            return socket.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGUSR2: php-fpm reloads, finishing running requests first (process_control_timeout). */
    void reload() throws IOException, InterruptedException {
        signal("USR2");
    }

    /** SIGQUIT: graceful stop; waits for the master to exit. */
    void stopGracefully() throws IOException, InterruptedException {
        signal("QUIT");
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    /** SIGTERM: php-fpm stops at once, dropping idle kept-alive connections; waits for the master to exit. */
    void stopNow() throws IOException, InterruptedException {
        signal("TERM");
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    private void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    String log() throws IOException {
        StringBuilder all = new StringBuilder();
        for (String name : new String[] {"php-fpm.log", "php-fpm.out"}) {
            Path file = dir.resolve(name);
            if (Files.exists(file)) {
                all.append(Files.readString(file, StandardCharsets.UTF_8));
            }
        }
        return all.toString();
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            try {
                stopGracefully();
            } catch (IOException | InterruptedException e) {
                process.destroyForcibly();
            }
        }
    }
}
