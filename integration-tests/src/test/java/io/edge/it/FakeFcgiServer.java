package io.edge.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A FastCGI peer for the faults a real php-fpm won't produce on demand. It reads one request per
 * connection turn and answers according to the script's file name: {@code ok.php} answers properly and
 * keeps the connection; {@code garbage.php}, {@code cut.php}, {@code stall.php}, {@code overloaded.php},
 * {@code bighead.php} and {@code short.php} (a body shorter than its Content-Length, as from a script killed
 * mid-readfile) misbehave ({@code overloaded-once.php} only the first time for each query string); {@code sendfile-stall.php} sends X-Sendfile of the root's file.txt, then stalls;
 * {@code stderr-then-close.php} sends a STDERR record and closes, before any STDOUT; {@code stall-once-till-closed.php}
 * answers nothing until edge closes its connection the first time for each query string, then a cacheable page
 * ({@link #stalledOnceSeen} counts them all); {@code late.php} answers
 * after 5 s of silence, a script that thinks before its first byte;
 * {@code head-then-cut.php} sends a cacheable head and the start of its body, then cuts its answer once the test
 * calls {@link #cutAfterHead}. {@link #closeKeptOnNext} has the next request that arrives on a kept connection met
 * as a php-fpm worker past its pm.max_requests meets one: its side shut, the request read and dropped. It records how
 * many requests each connection carried.
 */
final class FakeFcgiServer implements AutoCloseable {

    private final ServerSocketChannel server;
    private final Thread acceptor;
    /** Requests served per accepted connection, in accept order. */
    final List<AtomicInteger> requestsPerConnection = new CopyOnWriteArrayList<>();
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();

    /** FCGI_OVERLOADED answers given ({@code overloaded.php} always, {@code overloaded-once.php} the first time). */
    final AtomicInteger overloadedAnswers = new AtomicInteger();
    /** Requests {@code overloaded-once.php} answered, each the second time its query string came. */
    final AtomicInteger answeredAfterOverload = new AtomicInteger();
    private final java.util.Set<String> overloadedOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The next request on a kept connection is met with the end of a worker's last one ({@link #closeKeptOnNext}). */
    private final java.util.concurrent.atomic.AtomicBoolean closeKept = new java.util.concurrent.atomic.AtomicBoolean();

    /** Counted down by the test once the client has the head of {@code head-then-cut.php}'s answer. */
    private final CountDownLatch headSeen = new CountDownLatch(1);

    /** The query strings {@code stall-once-till-closed.php} stalled for, and how many of its requests came. */
    private final java.util.Set<String> stalledOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final AtomicInteger stalledOnceSeen = new AtomicInteger();

    /** GET_VALUES records received (edge's worker probe). */
    final AtomicInteger getValuesSeen = new AtomicInteger();
    /** Whether GET_VALUES is answered (as php-fpm does), or read and ignored (as some FastCGI servers do). */
    private final boolean answersGetValues;

    FakeFcgiServer(Path socket) throws IOException {
        this(socket, true);
    }

    FakeFcgiServer(Path socket, boolean answersGetValues) throws IOException {
        this.answersGetValues = answersGetValues;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(this::acceptLoop, "fake-fcgi");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel connection = server.accept();
                open.add(connection);
                AtomicInteger count = new AtomicInteger();
                requestsPerConnection.add(count);
                Thread worker = new Thread(() -> serve(connection, count), "fake-fcgi-conn");
                worker.setDaemon(true);
                worker.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(SocketChannel connection, AtomicInteger count) {
        try (connection) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(connection));
            OutputStream out = Channels.newOutputStream(connection);
            while (true) {
                Map<String, String> params = readRequest(in, out);
                if (count.get() > 0 && closeKept.compareAndSet(true, false)) {
                    // a worker that ended its last request shuts its side and reads on, dropping, until edge closes:
                    // met at once, as in the moment between its END_REQUEST and edge's close that php-fpm leaves
                    connection.shutdownOutput();
                    in.transferTo(OutputStream.nullOutputStream());
                    return;
                }
                count.incrementAndGet();
                String script = Path.of(params.getOrDefault("SCRIPT_FILENAME", "/none")).getFileName().toString();
                switch (script) {
                    case "ok.php" -> {
                        stdout(out, "Content-Type: text/plain\r\n\r\nok from fake");
                        end(out, 0);
                    }
                    case "garbage.php" -> {
                        out.write("this is not FastCGI at all\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        Thread.sleep(60_000);
                    }
                    case "cut.php" -> {
                        cutRecord(in, out); // before any head
                        return;
                    }
                    case "head-then-cut.php" -> {
                        // a failure after the head reached the client: the cut waits for the test to have seen it
                        stdout(out, "Content-Type: text/plain\r\nCache-Control: max-age=60\r\n\r\nthe start");
                        headSeen.await();
                        cutRecord(in, out);
                        return;
                    }
                    case "stall.php" -> Thread.sleep(60_000);
                    case "stall-once-till-closed.php" -> {
                        stalledOnceSeen.incrementAndGet();
                        if (stalledOnce.add(params.getOrDefault("QUERY_STRING", ""))) {
                            // nothing until edge closes the connection (its read timeout)
                            in.transferTo(OutputStream.nullOutputStream());
                            return;
                        }
                        stdout(out, "Content-Type: text/plain\r\nCache-Control: max-age=60\r\n\r\nafter a stall");
                        end(out, 0);
                    }
                    case "late.php" -> { // a script that thinks 5 s before its first byte
                        Thread.sleep(5_000);
                        stdout(out, "Content-Type: text/plain\r\n\r\nlate from fake");
                        end(out, 0);
                    }
                    case "stderr-then-close.php" -> {
                        // a script that logged, then its worker died before any output (nginx still passes it on)
                        skipRecord(in);
                        byte[] line = "PHP Warning: about to die".getBytes(StandardCharsets.US_ASCII);
                        out.write(new byte[] {1, 7, 0, 1, 0, (byte) line.length, 0, 0});
                        out.write(line);
                        out.flush();
                        return;
                    }
                    case "overloaded.php" -> {
                        overloadedAnswers.incrementAndGet();
                        end(out, 2);
                    }
                    case "overloaded-once.php" -> {
                        if (overloadedOnce.add(params.getOrDefault("QUERY_STRING", ""))) {
                            overloadedAnswers.incrementAndGet();
                            end(out, 2);
                        } else {
                            answeredAfterOverload.incrementAndGet();
                            stdout(out, "Content-Type: text/plain\r\n\r\nok after an overload");
                            end(out, 0);
                        }
                    }
                    case "sendfile-stall.php" -> {
                        // X-Sendfile of the root's file.txt, then silence past the read timeout
                        stdout(out, "X-Sendfile: " + params.get("DOCUMENT_ROOT") + "/file.txt\r\n"
                                + "Cache-Control: max-age=60\r\n\r\n");
                        Thread.sleep(60_000);
                    }
                    case "bighead.php" -> {
                        stdout(out, "X-Big: " + "b".repeat(60_000) + "\r\n");
                        Thread.sleep(60_000);
                    }
                    default -> {
                        stdout(out, "Status: 500\r\n\r\nunknown fake script " + script);
                        end(out, 0);
                    }
                }
            }
        } catch (IOException | InterruptedException gone) {
            // the client closed: fine for a fake peer
        }
    }

    /**
     * Reads BEGIN_REQUEST, PARAMS up to the empty record and STDIN up to the empty record, answering a GET_VALUES met
     * on the way.
     */
    private Map<String, String> readRequest(DataInputStream in, OutputStream out) throws IOException {
        ByteArrayOutputStream params = new ByteArrayOutputStream();
        boolean paramsDone = false;
        boolean stdinDone = false;
        while (!paramsDone || !stdinDone) {
            int version = in.readUnsignedByte();
            int type = in.readUnsignedByte();
            in.readUnsignedShort();
            int length = in.readUnsignedShort();
            int padding = in.readUnsignedByte();
            in.readUnsignedByte();
            if (version != 1) {
                throw new IOException("bad version " + version);
            }
            byte[] content = in.readNBytes(length);
            in.skipNBytes(padding);
            if (type == 9) {
                // GET_VALUES, which edge sends behind a request to learn when the worker reads again: answered
                // (FCGI_MPXS_CONNS=0) as php-fpm answers it, when the next request is read
                getValuesSeen.incrementAndGet();
                if (!answersGetValues) {
                    continue;
                }
                byte[] pair = "\u000f\u0001FCGI_MPXS_CONNS0".getBytes(StandardCharsets.US_ASCII);
                out.write(new byte[] {1, 10, 0, 0, 0, (byte) pair.length, (byte) (8 - pair.length % 8), 0});
                out.write(pair);
                out.write(new byte[8 - pair.length % 8]);
                out.flush();
                continue;
            }
            if (type == 4) {
                params.write(content);
                paramsDone = length == 0;
            } else if (type == 5) {
                stdinDone = length == 0;
            }
        }
        return decode(params.toByteArray());
    }

    /**
     * Sends a STDOUT header announcing 100 bytes, then only 10 of them (the caller closes). What edge sent behind the
     * request (its GET_VALUES worker probe) is read first, so the close is an orderly end after the cut record, not a
     * reset that may discard what was sent before it.
     */
    private static void cutRecord(DataInputStream in, OutputStream out) throws IOException {
        skipRecord(in);
        out.write(new byte[] {1, 6, 0, 1, 0, 100, 0, 0});
        out.write("Content-Ty".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Lets {@code head-then-cut.php} cut its answer. */
    void cutAfterHead() {
        headSeen.countDown();
    }

    /** The next request that arrives on a kept connection finds it ended, as php-fpm's worker past pm.max_requests. */
    void closeKeptOnNext() {
        closeKept.set(true);
    }

    /** Reads one record whole and drops it. */
    private static void skipRecord(DataInputStream in) throws IOException {
        in.readUnsignedShort(); // version, type
        in.readUnsignedShort(); // request id
        int length = in.readUnsignedShort();
        int padding = in.readUnsignedByte();
        in.readUnsignedByte();
        in.skipNBytes(length + padding);
    }

    private static Map<String, String> decode(byte[] data) throws IOException {
        Map<String, String> result = new HashMap<>();
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data));
        while (in.available() > 0) {
            int nameLength = length(in);
            int valueLength = length(in);
            String name = new String(in.readNBytes(nameLength), StandardCharsets.UTF_8);
            result.put(name, new String(in.readNBytes(valueLength), StandardCharsets.UTF_8));
        }
        return result;
    }

    private static int length(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0x80) {
            return b;
        }
        return ((b & 0x7f) << 24) | (in.read() << 16) | (in.read() << 8) | in.read();
    }

    private static void stdout(OutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        for (int offset = 0; offset < bytes.length; offset += 65535) {
            int length = Math.min(65535, bytes.length - offset);
            out.write(new byte[] {1, 6, 0, 1, (byte) (length >> 8), (byte) length, 0, 0});
            out.write(bytes, offset, length);
        }
        out.flush();
    }

    private static void end(OutputStream out, int protocolStatus) throws IOException {
        out.write(new byte[] {1, 6, 0, 1, 0, 0, 0, 0});
        out.write(new byte[] {1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, (byte) protocolStatus, 0, 0, 0});
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel connection : open) {
            connection.close();
        }
    }
}
