package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.conf.LocationSettings;
import io.edge.conf.LogFormat;
import io.edge.conf.Return;
import io.edge.conf.ServerSettings;
import io.edge.core.EdgeServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The access log's body bytes are those that went to the client, as nginx's {@code $body_bytes_sent}: not what was
 * handed to the channel (a cut response's unsent rest), with a chunked body's framing; and a line edge writes for a
 * head it could not take (a 408) carries the time since that head began and is counted as a request. nginx's other
 * variables of the connection and its bytes too: {@code $connection}, {@code $connection_requests},
 * {@code $request_length} (line, head and body as they came, chunk framing too), {@code $bytes_sent} (head and body),
 * {@code $request_completion}, {@code $remote_port}; and "-" for the backend's and the cache's where neither answered.
 */
class AccessLogBytesTest {

    /** Status, body bytes and request time of a combined line with edge's timings after it. */
    private static final Pattern LINE = Pattern.compile(".*\" (\\d{3}) (\\d+) \"[^\"]*\" \"[^\"]*\" (\\d+\\.\\d{3}) .*");
    private static final long FILE_SIZE = 32 << 20;
    /**
     * A line of {@code $connection $connection_requests $request_length $bytes_sent $request_completion $remote_port
     * $upstream_addr|$upstream_status|$upstream_cache_status $uri}.
     */
    private static final Pattern VARIABLES_LINE = Pattern.compile(
            "(\\d+) (\\d+) (\\d+) (\\d+) (OK|) (\\d+) (.+)\\|(.+)\\|(.+) (/\\w)");

    @TempDir
    Path root;

    private EdgeServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.shutdown();
        }
    }

    /**
     * The head and a 32 MiB file region go to a client that reads nothing yet, and the response is cut at once (a file
     * truncated under it): the kernel took part of the region, the rest never went. The log says what the client then
     * reads before the close, not the region's 32 MiB (the helper's audit: a whole 1 MiB chunk logged for a client that
     * had reset, 2 MiB for 229 KB sent).
     */
    @Test
    void aCutResponseIsLoggedWithTheBytesTheClientWasSent() throws Exception {
        Path file = root.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(FILE_SIZE);
        }
        InetSocketAddress address = start(exchange -> {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setContentLength(head, FILE_SIZE);
            exchange.write(head);
            exchange.writeAndFlush(new DefaultFileRegion(file.toFile(), 0, FILE_SIZE));
            exchange.fail(new EOFException(file + " was truncated while it was sent"));
        }, Duration.ofSeconds(10));
        assertCutAndLoggedAsSent(address, "/big.bin", FILE_SIZE);
    }

    /**
     * As above with the body in a buffer, as a script's answer goes (the client-abort audit: a cut PHP download was
     * logged with 0 bytes, the client having had its head and 135 KB): what of the buffer the kernel took is counted.
     */
    @Test
    void aCutBufferedResponseIsLoggedWithTheBytesTheClientWasSent() throws Exception {
        int size = 8 << 20;
        InetSocketAddress address = start(exchange -> {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setContentLength(head, size);
            exchange.write(head);
            exchange.writeAndFlush(new DefaultHttpContent(exchange.clientChannel().alloc().directBuffer(size)
                    .writeZero(size)));
            exchange.fail(new EOFException("the backend connection ended mid-answer"));
        }, Duration.ofSeconds(10));
        assertCutAndLoggedAsSent(address, "/buffered", size);
    }

    /**
     * As above with the body compressed on its way (a location's gzip): what of the compressed buffer the kernel took is
     * counted (the compressed parts were heap buffers, which the channel writes through a copy, and a cut one counted
     * nothing).
     */
    @Test
    void aCutCompressedResponseIsLoggedWithTheBytesTheClientWasSent() throws Exception {
        int size = 8 << 20;
        byte[] noise = new byte[size];
        new java.util.Random(7).nextBytes(noise); // as good as incompressible: the compressed body is as long
        LocationSettings gzipped = LocationSettings.builder("/", LocationSettings.Kind.PREFIX, "/", null, null,
                LocationSettings.Handler.STATIC, null).gzip(new LocationSettings.Gzip(1, 0, Set.of("*"))).build();
        server = new EdgeServer(TestServers.settings(TestServers.server(TestServers.limits(),
                TestServers.timeouts(Duration.ofSeconds(10)), 100), root, List.of(gzipped)), location -> exchange -> {
                    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                            .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                    exchange.offerCompression();
                    exchange.write(head);
                    exchange.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(noise)));
                    exchange.fail(new EOFException("the backend connection ended mid-answer"));
                });
        server.start();
        List<String> lines;
        long received;
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(server.boundAddresses().get(0), 64 << 10)) {
            client.send("GET /gzipped HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
            byte[] response = readToEnd(client.socket().getInputStream());
            assertThat(new String(response, 0, 200, StandardCharsets.ISO_8859_1)).containsIgnoringCase("Content-Encoding: gzip");
            received = bodyBytes(response);
            lines = awaitLines(access);
        }
        assertThat(received).as("cut short").isLessThan(size).isPositive();
        Matcher m = matched(lines);
        assertThat(m.group(1)).isEqualTo("200");
        assertThat(Long.parseLong(m.group(2))).as("the bytes the client had").isEqualTo(received);
    }

    /**
     * Asks for {@code path} with a small receive buffer, reads what comes until the close, and checks that the answer,
     * a 200 of {@code size} bytes, was cut short and that its log line counts what the client had.
     */
    private static void assertCutAndLoggedAsSent(InetSocketAddress address, String path, long size) throws Exception {
        List<String> lines;
        long received;
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(address, 64 << 10)) {
            client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
            received = bodyBytes(readToEnd(client.socket().getInputStream()));
            lines = awaitLines(access);
        }
        assertThat(received).as("cut short").isLessThan(size).isPositive();
        Matcher m = matched(lines);
        assertThat(m.group(1)).isEqualTo("200");
        assertThat(Long.parseLong(m.group(2))).as("the bytes the client had").isEqualTo(received);
    }

    /** A chunked body's bytes on the wire are its data and its framing, which nginx counts too. */
    @Test
    void aChunkedBodyIsLoggedWithItsFraming() throws Exception {
        InetSocketAddress address = start(exchange -> {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            exchange.write(head);
            exchange.write(new DefaultHttpContent(Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII)));
            exchange.write(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[300])));
            exchange.complete(exchange.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
        }, Duration.ofSeconds(10));
        List<String> lines;
        long received;
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(address)) {
            client.send("GET /chunked HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            received = bodyBytes(readToEnd(client.socket().getInputStream()));
            lines = awaitLines(access);
        }
        assertThat(received).as("10 and 300 bytes in two chunks, then the last").isEqualTo(3 + 10 + 2 + 5 + 300 + 2 + 5);
        assertThat(Long.parseLong(matched(lines).group(2))).isEqualTo(received);
    }

    /**
     * A script's 200 whose range is cut as it goes out ({@link RangeSlicer}, offered by the response cache) is logged as
     * what the client got: 206 and the range's bytes (the commits' review: the line said 200).
     */
    @Test
    void aRangeCutFromAStreamedAnswerIsLoggedAsThe206ItBecame() throws Exception {
        InetSocketAddress address = startStreamingRanges();
        Answered ranged = answered(address, "GET /ranged HTTP/1.1\r\nHost: a\r\nRange: bytes=5-14\r\n\r\n");
        assertThat(ranged.response().status()).isEqualTo(206);
        assertThat(ranged.response().body()).isEqualTo("56789\0\0\0\0\0".getBytes(StandardCharsets.US_ASCII));
        Matcher m = matched(ranged.lines());
        assertThat(m.group(1)).isEqualTo("206");
        assertThat(m.group(2)).isEqualTo("10");
    }

    /**
     * A range past the end of such an answer: edge's 416 page goes in place of its body, streamed as it was, without
     * the answer's ETag, type or Accept-Ranges but with its other fields, as nginx's special response; logged as the
     * 416 and the page's bytes (it went with an empty body and the answer's fields).
     */
    @Test
    void aRangePastTheEndOfAStreamedAnswerGetsThe416PageInPlaceOfItsBody() throws Exception {
        InetSocketAddress address = startStreamingRanges();
        Answered refused = answered(address, "GET /ranged HTTP/1.1\r\nHost: a\r\nRange: bytes=310-\r\n\r\n");
        assertThat(refused.response().status()).isEqualTo(416);
        String page = new String(refused.response().body(), StandardCharsets.US_ASCII);
        assertThat(page).contains("<title>416 Requested Range Not Satisfiable</title>");
        assertThat(refused.response().headers()).containsEntry("content-range", "bytes */310")
                .containsEntry("content-type", "text/html; charset=utf-8").containsEntry("cache-control", "max-age=60")
                .containsEntry("content-length", String.valueOf(page.length()))
                .doesNotContainKeys("etag", "accept-ranges");
        Matcher m = matched(refused.lines());
        assertThat(m.group(1)).isEqualTo("416");
        assertThat(Long.parseLong(m.group(2))).isEqualTo(page.length());
    }

    /**
     * A server whose answer is a script's 200 as the response cache offers it for ranges: 310 bytes (ten digits, then
     * zeros) streamed in two parts, with Accept-Ranges, an ETag, a type and a Cache-Control.
     */
    private InetSocketAddress startStreamingRanges() throws Exception {
        return start(exchange -> {
            exchange.offerRanges();
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setContentLength(head, 310);
            head.headers().set("Accept-Ranges", "bytes").set("ETag", "\"s1\"").set("Content-Type", "video/mp4")
                    .set("Cache-Control", "max-age=60");
            exchange.write(head);
            exchange.write(new DefaultHttpContent(Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII)));
            exchange.write(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[300])));
            exchange.complete(exchange.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
        }, Duration.ofSeconds(10));
    }

    /**
     * A head that did not come whole within the head timeout: its 408's line says how long it was waited for (it said
     * 0.000: the time was taken as the line was written) and the bytes of the 408 sent, and the status page counts it
     * as a request, as nginx's stub_status counts one from its first byte.
     */
    @Test
    void aHeadTimeoutIsLoggedWithItsWaitAndCountedAsARequest() throws Exception {
        InetSocketAddress address = start(exchange -> {
            throw new AssertionError("no head is whole");
        }, Duration.ofSeconds(1));
        Answered timedOut = answered(address, "GET /slow HTTP/1.1\r\nHost: a\r\n");
        assertThat(timedOut.response().status()).isEqualTo(408);
        Matcher m = matched(timedOut.lines());
        assertThat(m.group(1)).isEqualTo("408");
        assertThat(Long.parseLong(m.group(2))).isEqualTo(timedOut.response().body().length);
        assertThat(Double.parseDouble(m.group(3))).as("at least the head timeout").isGreaterThanOrEqualTo(1.0);
        assertThat(server.connectionsLine()).contains(" requests=1");
    }

    /**
     * A client that closes or resets its connection in the middle of a head: counted as a request and logged as a 400
     * with nothing sent, with its request line once that was read, as nginx logs a client that "prematurely closed
     * connection" (the client-abort audit: no line, not counted). {@code after}: the part comes behind a request the
     * client has its answer to (before a reset, so that it was surely read: a reset drops what the server has not read
     * yet); then the connection closes after a response, lingering, and the part is still logged.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "G| true| true| -",
            "G| false| false| -",
            "G| false| true| -",
            "GET /cut HTTP/1.1\\r\\nHost: a\\r\\n| true| true| GET /cut HTTP/1.1",
            "GET /cut HTTP/1.1\\r\\nHost: a\\r\\n| false| true| GET /cut HTTP/1.1",
            "GET /cut HTTP/1.1\\r\\nHost: a\\r\\n| false| false| GET /cut HTTP/1.1"})
    void aHeadCutByTheClientIsLoggedAsA400AndCountedAsARequest(String part, boolean reset, boolean after,
            String logged) throws Exception {
        InetSocketAddress address = start(exchange -> {
            HttpResponse kept = new io.netty.handler.codec.http.DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.OK);
            HttpUtil.setContentLength(kept, 0); // the connection stays open after it
            exchange.complete(exchange.writeAndFlush(kept));
        }, Duration.ofSeconds(60));
        List<String> lines;
        try (CapturedLog access = CapturedLog.of("edge.access")) {
            try (RawHttpClient client = new RawHttpClient(address)) {
                String cut = part.replace("\\r\\n", "\r\n");
                if (after) {
                    client.send("GET /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" + cut);
                    assertThat(client.read().status()).isEqualTo(200);
                } else {
                    client.send(cut);
                }
                if (reset) {
                    client.socket().setSoLinger(true, 0);
                } else { // a FIN comes after the bytes before it
                    client.socket().shutdownOutput();
                    readToEnd(client.socket().getInputStream());
                }
            }
            lines = awaitLines(access, after ? 2 : 1);
        }
        assertThat(lines).hasSize(after ? 2 : 1);
        assertThat(lines.get(lines.size() - 1)).contains("\"" + logged + "\" 400 0 ");
        assertThat(server.connectionsLine()).contains(after ? " requests=2" : " requests=1");
    }

    /**
     * A reset while a request runs, with part of the next one's head read behind it: the running one's line (499), not
     * a 400 for the part as well, as nginx logs it (the review of the head-cut commit).
     */
    @Test
    void aPartOfAPipelinedHeadBehindARunningRequestIsNoCutHead() throws Exception {
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        InetSocketAddress address = start(exchange -> running.countDown(), Duration.ofSeconds(60)); // never answers
        List<String> lines;
        try (CapturedLog access = CapturedLog.of("edge.access")) {
            try (java.net.Socket client = new java.net.Socket()) {
                client.connect(address);
                client.getOutputStream().write("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HT"
                        .getBytes(StandardCharsets.US_ASCII));
                client.getOutputStream().flush();
                assertThat(running.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("a bound only").isTrue();
                client.setSoLinger(true, 0);
            }
            lines = awaitLines(access);
        }
        assertThat(lines).singleElement().asString().contains("\"GET /a HTTP/1.1\" 499 0 ");
        assertThat(server.connectionsLine()).contains(" requests=1");
    }

    /** What a client that sent a request read back, and the access log's lines for it. */
    private record Answered(RawHttpClient.Response response, List<String> lines) {
    }

    /** Sends {@code request} on a connection of its own and reads its answer and the access log's lines. */
    private static Answered answered(InetSocketAddress address, String request) throws Exception {
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(address)) {
            client.send(request);
            RawHttpClient.Response response = client.read();
            return new Answered(response, awaitLines(access));
        }
    }

    @Test
    void pipelinedRequestsAreCountedByTheBytesTheyCameInAndTheBytesTheirAnswersWent() throws Exception {
        InetSocketAddress address = startLogging("$connection $connection_requests $request_length $bytes_sent "
                + "$request_completion $remote_port $upstream_addr|$upstream_status|$upstream_cache_status $uri");
        List<String> requests = List.of(
                "GET /a?size=10 HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\n\r\n",
                "POST /b?size=2000 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
                "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                        + "3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
        byte[] answers;
        int clientPort;
        String firstConnection;
        try (CapturedLog access = CapturedLog.of("edge.access");
             Socket client = new Socket()) {
            client.connect(address);
            clientPort = client.getLocalPort();
            // all at once: the second and third wait, queued, while the first runs; an empty line before the second
            // is no part of it (nginx's request starts at its method)
            client.getOutputStream().write((requests.get(0) + "\r\n" + requests.get(1) + requests.get(2))
                    .getBytes(StandardCharsets.ISO_8859_1));
            answers = readToEnd(client.getInputStream());
            assertThat(awaitLines(access, 3)).hasSize(3);
            List<Matcher> lines = new ArrayList<>();
            for (String line : access.lines()) {
                Matcher matcher = VARIABLES_LINE.matcher(line);
                assertThat(matcher.matches()).as(line).isTrue();
                lines.add(matcher);
            }
            long sent = 0;
            for (int i = 0; i < 3; i++) {
                Matcher line = lines.get(i);
                assertThat(line.group(10)).isEqualTo(List.of("/a", "/b", "/c").get(i));
                assertThat(line.group(1)).as("one connection").isEqualTo(lines.get(0).group(1));
                assertThat(line.group(2)).as("its place on it").isEqualTo(Integer.toString(i + 1));
                assertThat(Long.parseLong(line.group(3))).as("the bytes it came in: " + line.group())
                        .isEqualTo(requests.get(i).length());
                assertThat(line.group(5)).isEqualTo("OK");
                assertThat(line.group(6)).isEqualTo(Integer.toString(clientPort));
                assertThat(line.group(7) + "|" + line.group(8) + "|" + line.group(9)).as("no backend, no cache")
                        .isEqualTo("-|-|-");
                sent += Long.parseLong(line.group(4));
            }
            assertThat(sent).as("the answers' bytes, heads and bodies").isEqualTo(answers.length);
            firstConnection = lines.get(0).group(1);
        }
        // another connection: another number, and it counts its requests from 1
        try (CapturedLog access = CapturedLog.of("edge.access");
             RawHttpClient client = new RawHttpClient(address)) {
            client.send("GET /d HTTP/1.1\r\nHost: a\r\n\r\n").read();
            assertThat(awaitLines(access, 1)).hasSize(1);
            String[] words = access.lines().get(0).split(" ");
            assertThat(words[0]).as("its number").isNotEqualTo(firstConnection);
            assertThat(words[1]).as("its first request").isEqualTo("1");
        }
    }

    /**
     * A request too malformed for an exchange (a header line without a colon) still has nginx's variables of its
     * connection, its number there and a $request_id, and the path and query its line parsed to, as nginx logs them; a
     * request refused for a target that parses to none is "-" there, not the "/" its refusal is routed by.
     */
    @Test
    void aRefusedRequestHasItsConnectionsNumbersAndTheParsedPathOrADash() throws Exception {
        InetSocketAddress address = startLogging("$connection $connection_requests $uri $args $request_id $status");
        List<String> lines;
        try (CapturedLog access = CapturedLog.of("edge.access")) {
            try (RawHttpClient client = new RawHttpClient(address)) {
                assertThat(client.send("GET /ok?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
                assertThat(client.send("GET /bad/path?z=2 HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n").read()
                        .status()).isEqualTo(400);
            }
            try (RawHttpClient client = new RawHttpClient(address)) {
                assertThat(client.send("GET /frag#x HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(400);
            }
            lines = awaitLines(access, 3);
        }
        assertThat(lines).hasSize(3);
        String connection = lines.get(0).split(" ")[0];
        assertThat(lines.get(0)).matches(connection + " 1 /ok x=1 [0-9a-f]{32} 200");
        assertThat(lines.get(1)).as("the same connection's second request")
                .matches(connection + " 2 /bad/path z=2 [0-9a-f]{32} 400");
        assertThat(lines.get(2)).matches("\\d+ 1 - - [0-9a-f]{32} 400").doesNotStartWith(connection + " ");
    }

    /** A {@code 100 Continue} the client was sent is among the bytes it was sent, as nginx counts it. */
    @Test
    void anInterimContinueIsCountedAmongTheBytesSent() throws Exception {
        InetSocketAddress address = startLogging("$bytes_sent $request_length $request_completion $uri");
        String head = "PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n"
                + "Connection: close\r\n\r\n";
        try (CapturedLog access = CapturedLog.of("edge.access");
             Socket client = new Socket()) {
            client.connect(address);
            client.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
            byte[] interim = client.getInputStream().readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
            assertThat(new String(interim, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
            client.getOutputStream().write("abc".getBytes(StandardCharsets.ISO_8859_1));
            byte[] answer = readToEnd(client.getInputStream());
            assertThat(awaitLines(access, 1)).hasSize(1);
            assertThat(access.lines().get(0)).isEqualTo((interim.length + answer.length) + " " + (head.length() + 3)
                    + " OK /e");
        }
    }

    @Test
    void aHeadIsCountedAsTheEncoderWritesIt() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND);
        head.headers().add(HttpHeaderNames.CONTENT_LENGTH, 0).add("X-Two", "a").add("X-Two", "b, c")
                .add(HttpHeaderNames.DATE, HttpDate.now());
        EmbeddedChannel encoder = new EmbeddedChannel(new HttpResponseEncoder());
        encoder.writeOutbound(head);
        long encoded = 0;
        for (ByteBuf out; (out = encoder.readOutbound()) != null; ) {
            encoded += out.readableBytes();
            out.release();
        }
        encoder.finishAndReleaseAll();
        assertThat(AccessLog.headLength(head.status(), head.headers())).isEqualTo(encoded);
    }

    @Test
    void aBackendIsWrittenAsNginxWritesItsUpstreamAddr() throws Exception {
        assertThat(AccessLog.upstreamAddress(new InetSocketAddress("127.0.0.1", 9000))).isEqualTo("127.0.0.1:9000");
        assertThat(AccessLog.upstreamAddress(new InetSocketAddress("::1", 9000))).isEqualTo("[::1]:9000");
        assertThat(AccessLog.upstreamAddress(new DomainSocketAddress("/run/php/fpm.sock")))
                .isEqualTo("unix:/run/php/fpm.sock");
    }

    /** A server answering with {@link EchoResponder}, its access-log line written as {@code format} says. */
    private InetSocketAddress startLogging(String format) throws Exception {
        ServerSettings plain = TestServers.server(TestServers.limits(), TestServers.timeouts(Duration.ofSeconds(10)), 100);
        ServerSettings logged = new ServerSettings(plain.listen(), plain.ioThreads(), plain.maxConnections(),
                plain.limits(), plain.timeouts(), null, plain.runDir(), true, false, Map.of(),
                ServerSettings.DEFAULT_TCP_NOTSENT_LOWAT, ServerSettings.RealIp.OFF, null, logFormat(format));
        server = new EdgeServer(TestServers.settings(logged, root), location -> new EchoResponder());
        server.start();
        return server.boundAddresses().get(0);
    }

    /** {@code written}'s variables ({@code $name}, letters and underscores) and the text between them. */
    private static LogFormat logFormat(String written) {
        List<Return.Part> parts = new ArrayList<>();
        Matcher variable = Pattern.compile("\\$([a-z_]+)").matcher(written);
        int at = 0;
        while (variable.find()) {
            if (variable.start() > at) {
                parts.add(new Return.Part(written.substring(at, variable.start()), null));
            }
            parts.add(new Return.Part(null, variable.group(1)));
            at = variable.end();
        }
        if (at < written.length()) {
            parts.add(new Return.Part(written.substring(at), null));
        }
        return new LogFormat(parts, false);
    }

    private InetSocketAddress start(Responder responder, Duration headTimeout) throws Exception {
        server = new EdgeServer(TestServers.settings(TestServers.server(TestServers.limits(),
                TestServers.timeouts(headTimeout), 100), root), location -> responder);
        server.start();
        return server.boundAddresses().get(0);
    }

    private static byte[] readToEnd(InputStream in) throws Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 << 10];
        try {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                all.write(buffer, 0, n);
            }
        } catch (java.net.SocketException reset) {
            // what came before a reset counts as read
        }
        return all.toByteArray();
    }

    /** The bytes after the response's head. */
    private static long bodyBytes(byte[] response) {
        byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i + end.length <= response.length; i++) {
            if (Arrays.equals(response, i, i + end.length, end, 0, end.length)) {
                return response.length - i - end.length;
            }
        }
        throw new AssertionError("no head in " + response.length + " bytes");
    }

    /** The line is written once the response's last write is done, after the client saw its end: waited for (a bound). */
    private static List<String> awaitLines(CapturedLog access) throws InterruptedException {
        return awaitLines(access, 1);
    }

    /** As {@link #awaitLines(CapturedLog)}, until {@code count} lines are there (a bound). */
    private static List<String> awaitLines(CapturedLog access, int count) throws InterruptedException {
        for (int i = 0; i < 500 && access.lines().size() < count; i++) {
            Thread.sleep(10);
        }
        return access.lines();
    }

    private static Matcher matched(List<String> lines) {
        assertThat(lines).hasSize(1);
        Matcher m = LINE.matcher(lines.get(0));
        assertThat(m.matches()).as(lines.get(0)).isTrue();
        return m;
    }
}
