package io.edge.it;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The JDK's HTTP server as a proxied backend: a free loopback port, every path to one handler, on threads of its own. */
final class JdkBackend implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService threads;

    private JdkBackend(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    static JdkBackend start(HttpHandler handler) throws IOException {
        return started(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), handler);
    }

    /** An HTTPS backend: {@code tls} makes each connection's SSLEngine (its certificate, what it asks of a client). */
    static JdkBackend startTls(HttpHandler handler, HttpsConfigurator tls) throws IOException {
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(tls);
        return started(server, handler);
    }

    private static JdkBackend started(HttpServer server, HttpHandler handler) {
        ExecutorService threads = Executors.newCachedThreadPool();
        server.setExecutor(threads);
        server.createContext("/", handler);
        server.start();
        return new JdkBackend(server, threads);
    }

    /** {@code 127.0.0.1:port}, as a group's addresses list it. */
    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
