package io.edge.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP backend on a raw socket that answers each request with the bytes the test set for its path (the path
 * without its leading "/"): any bytes at all (garbage, a 101, a body cut short), nothing ({@code null}: the request
 * stalls), or a close ({@code ""}). A connection is kept after an answer unless the request asked for its close or
 * the answer is read to the close (has neither a Content-Length nor chunked; an HTTP/1.0 answer's is kept only with
 * Connection: keep-alive); {@link #closeKeptOnNext} has the next request that arrives on a kept connection met with a
 * close, as a backend whose idle timeout ran out.
 */
final class FakeHttpBackend implements AutoCloseable {

    private final ServerSocket server;
    private final Map<String, String> answers = new ConcurrentHashMap<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicBoolean closeKept = new AtomicBoolean();
    private final Thread acceptor;
    /** A path answered with a streamed body of {@link #streamSize} pattern bytes ({@link #streamOnPath}). */
    private volatile String streamPath;
    private volatile int streamSize;
    private final java.util.concurrent.atomic.AtomicLong streamed = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicInteger streamsEnded = new AtomicInteger();
    private final AtomicInteger streamsStarted = new AtomicInteger();
    /** Paths whose answer waits for its latch ({@link #hold}). */
    private final Map<String, CountDownLatch> holds = new ConcurrentHashMap<>();
    private final AtomicInteger held = new AtomicInteger();

    FakeHttpBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "fake-http-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A loopback port nothing listens on: a connect there is refused. */
    static int closedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    int port() {
        return server.getLocalPort();
    }

    /** The connections accepted so far. */
    int connections() {
        return connections.get();
    }

    /** {@code path}'s answer (without the leading "/"): bytes as ISO-8859-1 text, "" for a close, null for none. */
    void answer(String path, String bytes) {
        answers.put(path, bytes == null ? "\0stall" : bytes);
    }

    /** {@code path}'s answer is written only once {@code release} is counted down (within 30 s). */
    void hold(String path, CountDownLatch release) {
        holds.put(path, release);
    }

    /** Requests whose answer waits for its release now ({@link #hold}). */
    int held() {
        return held.get();
    }

    /**
     * {@code path} is answered with a Content-Length of {@code size} and that many bytes of ProxyIT's pattern, written
     * in blocks as fast as the connection takes them: {@link #streamed} says how far it got.
     */
    void streamOnPath(String path, int size) {
        streamSize = size;
        streamPath = path;
    }

    /** Bytes of the current streamed answer written so far (0 at the start of each). */
    long streamed() {
        return streamed.get();
    }

    /** Streamed answers begun. */
    int streamsStarted() {
        return streamsStarted.get();
    }

    /** Streamed answers that ended: written whole, or cut by their connection's close. */
    int streamsEnded() {
        return streamsEnded.get();
    }

    void closeKeptOnNext() {
        closeKept.set(true);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.incrementAndGet();
                sockets.add(socket);
                Thread serving = new Thread(() -> serve(socket), "fake-http-connection");
                serving.setDaemon(true);
                serving.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            boolean kept = false;
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                if (kept && closeKept.compareAndSet(true, false)) {
                    return;
                }
                String lower = head.toLowerCase(Locale.ROOT);
                int length = contentLength(lower);
                in.readNBytes(length);
                String path = head.substring(head.indexOf(' ') + 2, head.indexOf(' ', head.indexOf(' ') + 1));
                if (path.equals(streamPath)) {
                    stream(socket);
                    kept = true;
                    continue;
                }
                String answer = answers.getOrDefault(path.contains("?") ? path.substring(0, path.indexOf('?')) : path,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                if (answer.equals("\0stall")) {
                    in.read(); // until edge closes
                    return;
                }
                if (answer.isEmpty()) {
                    return;
                }
                CountDownLatch release = holds.get(path);
                if (release != null) {
                    held.incrementAndGet();
                    boolean released = release.await(30, TimeUnit.SECONDS);
                    held.decrementAndGet();
                    if (!released) {
                        return;
                    }
                }
                socket.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
                String answerHead = answer.toLowerCase(Locale.ROOT);
                // an HTTP/1.0 answer keeps its connection only with Connection: keep-alive, as a 1.0 server's
                boolean keepAlive = answer.startsWith("HTTP/1.1 2")
                        || answer.startsWith("HTTP/1.0 2") && answerHead.contains("connection: keep-alive");
                // chunked found within a Transfer-Encoding line, as nginx 1.22's proxy finds it ("xchunked" too)
                boolean framed = answerHead.contains("content-length")
                        || answerHead.matches("(?s).*transfer-encoding:[^\n]*chunked.*");
                if (lower.contains("connection: close") || !framed || answerHead.contains("connection: close")
                        || !keepAlive) {
                    return;
                }
                kept = true;
            }
        } catch (IOException gone) {
            // edge closed it
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        }
    }

    private void stream(Socket socket) throws IOException {
        streamed.set(0);
        streamsStarted.incrementAndGet();
        int size = streamSize;
        try {
            socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] block = new byte[65536];
            int written = 0;
            while (written < size) {
                int n = Math.min(block.length, size - written);
                for (int i = 0; i < n; i++) {
                    block[i] = (byte) ((written + i) * 31 + ((written + i) >>> 13));
                }
                socket.getOutputStream().write(block, 0, n);
                written += n;
                streamed.set(written);
            }
        } finally {
            streamsEnded.incrementAndGet();
        }
    }

    /** A request head up to its blank line, or null at the end of the stream. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static int contentLength(String lowerHead) {
        int at = lowerHead.indexOf("\r\ncontent-length:");
        if (at < 0) {
            return 0;
        }
        int end = lowerHead.indexOf("\r\n", at + 2);
        return Integer.parseInt(lowerHead.substring(at + 17, end).strip());
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
