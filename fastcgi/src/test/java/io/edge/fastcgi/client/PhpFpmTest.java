package io.edge.fastcgi.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.cgi.CgiOptions;
import io.edge.fastcgi.cgi.CgiParams;
import io.edge.fastcgi.cgi.CgiRequest;
import io.edge.fastcgi.cgi.ScriptResolver;
import io.edge.fastcgi.pool.BackendPool;
import io.edge.fastcgi.pool.Lease;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.handler.codec.http.HttpResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real php-fpm started here: pm = static with one child, on a Unix socket in a temp dir. */
class PhpFpmTest {

    static final Path PHP_FPM = Path.of("/usr/sbin/php-fpm8.2");

    @TempDir
    Path dir;
    Process fpm;
    MultiThreadIoEventLoopGroup group;
    BackendPool pool;

    record Result(HttpResponse head, String body, Throwable error, boolean reused) {
    }

    @BeforeEach
    void startFpm() throws Exception {
        assertThat(PHP_FPM).as("php-fpm8.2 (bin/setup installs it)").isExecutable();
        Epoll.ensureAvailability();
        Files.writeString(dir.resolve("index.php"), """
                <?php
                header('Status: 201 Created');
                header('X-Method: ' . $_SERVER['REQUEST_METHOD']);
                file_put_contents('php://stderr', "note from php\\n");
                echo 'q=' . ($_GET['q'] ?? '') . ';body=' . file_get_contents('php://input')
                    . ';pi=' . ($_SERVER['PATH_INFO'] ?? '') . ';cookie=' . ($_SERVER['HTTP_COOKIE'] ?? '');
                """);
        String user = System.getProperty("user.name");
        Files.writeString(dir.resolve("fpm.conf"), """
                [global]
                error_log = %1$s/fpm.log
                daemonize = no
                [www]
                user = %2$s
                listen = %1$s/fpm.sock
                pm = static
                pm.max_children = 1
                """.formatted(dir, user));
        fpm = new ProcessBuilder(PHP_FPM.toString(), "-R", "-F", "-y", dir.resolve("fpm.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("fpm.out").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(dir.resolve("fpm.sock"))) {
            assertThat(fpm.isAlive()).as("php-fpm exited: %s", log()).isTrue();
            assertThat(System.nanoTime() < deadline).as("php-fpm socket never appeared").isTrue();
            Thread.sleep(20); // the test thread, not an event loop
        }
        group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        pool = BackendPool.create(new BackendGroupSettings("php", List.of("unix:" + dir.resolve("fpm.sock")),
                BackendGroupSettings.Balance.LEAST_CONNECTIONS, 1,
                new BackendGroupSettings.Queue(10, Duration.ofSeconds(5), Duration.ofSeconds(1)),
                new BackendGroupSettings.Timeouts(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(10)),
                new BackendGroupSettings.KeepAlive(true, Duration.ofSeconds(30), 100),
                new BackendGroupSettings.Health(3, Duration.ofSeconds(5)), null,
                new BackendGroupSettings.ResponseBuffer(64 * 1024, 1L << 30)));
    }

    String log() {
        try {
            return Files.readString(dir.resolve("fpm.out"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (pool != null) {
            pool.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        if (fpm != null) {
            fpm.destroy();
            fpm.waitFor(10, TimeUnit.SECONDS);
        }
    }

    Result run(String method, String path, String query, String body) throws Exception {
        return run(group.next(), method, path, query, body);
    }

    Result run(EventLoop loop, String method, String path, String query, String body) throws Exception {
        ScriptResolver.Script script = (ScriptResolver.Script) new ScriptResolver(dir, "/index.php").resolve(path, query);
        CgiRequest request = new CgiRequest(method, path + "?" + query, "HTTP/1.1", path, query,
                List.of(Map.entry("Cookie", "a=1"), Map.entry("Cookie", "b=2")),
                body.isEmpty() ? null : "text/plain", body.isEmpty() ? -1 : body.length(),
                "localhost", 8080, "127.0.0.1", "127.0.0.1", 40000, false);
        List<Map.Entry<String, String>> params = CgiParams.build(request, script, CgiOptions.DEFAULT);
        CompletableFuture<Result> done = new CompletableFuture<>();
        loop.execute(() -> pool.acquire(loop).addListener(f -> {
            if (!f.isSuccess()) {
                done.complete(new Result(null, null, f.cause(), false));
                return;
            }
            Lease lease = (Lease) f.getNow();
            assertThat(lease.channel().eventLoop()).isSameAs(loop);
            StringBuilder sb = new StringBuilder();
            HttpResponse[] head = new HttpResponse[1];
            FcgiExchange exchange = FcgiExchange.start(lease, params,
                    new FcgiExchange.Options("t-1", 8192, Duration.ofSeconds(10)), new FcgiExchange.Listener() {
                        @Override
                        public void onHead(HttpResponse h) {
                            head[0] = h;
                        }

                        @Override
                        public void onBody(ByteBuf chunk) {
                            sb.append(chunk.toString(StandardCharsets.UTF_8));
                            chunk.release();
                        }

                        @Override
                        public void onEnd() {
                            done.complete(new Result(head[0], sb.toString(), null, lease.isReused()));
                        }

                        @Override
                        public void onError(Throwable cause) {
                            done.complete(new Result(head[0], sb.toString(), cause, lease.isReused()));
                        }
                    });
            if (!body.isEmpty()) {
                exchange.writeStdin(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            }
            exchange.endStdin();
        }));
        return done.get(20, TimeUnit.SECONDS);
    }

    @Test
    void getAndPostThroughRealPhpFpmReusingTheConnection() throws Exception {
        Result get = run("GET", "/index.php/extra", "q=42", "");
        assertThat(get.error()).as("fpm log: %s", log()).isNull();
        assertThat(get.head().status().code()).isEqualTo(201);
        assertThat(get.head().headers().get("X-Method")).isEqualTo("GET");
        assertThat(get.body()).isEqualTo("q=42;body=;pi=/extra;cookie=a=1; b=2");
        assertThat(get.reused()).isFalse();

        Result post = run("POST", "/index.php", "q=", "hello body");
        assertThat(post.error()).isNull();
        assertThat(post.body()).startsWith("q=;body=hello body;pi=;");
        assertThat(post.reused()).isTrue(); // FCGI_KEEP_CONN kept the one worker's connection
        assertThat(pool.stats().open()).isEqualTo(1);
    }

    @Test
    void theOneKeptConnectionMovesBetweenEventLoopsInsteadOfBeingReopened() throws Exception {
        EventLoop first = group.next();
        EventLoop second = group.next();
        assertThat(second).isNotSameAs(first);
        int n = 0;
        for (EventLoop loop : List.of(first, second, first, second)) {
            Result r = run(loop, "GET", "/index.php", "q=" + n, "");
            assertThat(r.error()).as("fpm log: %s", log()).isNull();
            assertThat(r.body()).startsWith("q=" + n + ";");
            assertThat(r.reused()).as("request %d on a kept connection", n).isEqualTo(n > 0);
            n++;
        }
        assertThat(pool.stats().open()).isEqualTo(1);
    }

    @Test
    void frontControllerRunsForUnknownPaths() throws Exception {
        Result r = run("GET", "/blog/post", "q=7", "");
        assertThat(r.error()).isNull();
        assertThat(r.body()).startsWith("q=7;body=;pi=;");
    }
}
