package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a backend's answer is framed, as nginx's proxy reads it: a chunked body whose lines end with a bare LF is read
 * whole (nginx's chunked parser takes one), and an HTTP/1.0 answer's connection is never reused, its Connection:
 * keep-alive notwithstanding (nginx's proxy closes every HTTP/1.0 answer's). The backend is {@link FakeHttpBackend}'s
 * raw socket, the client a real one.
 */
class ProxyBackendFramingIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    private EdgeHarness edge(FakeHttpBackend fake) throws Exception {
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                  { match = "/", proxy = fake }
                ] }]
                proxy.backends.fake { addresses = ["127.0.0.1:%d"], max-connections = 1 }
                """.formatted(fake.port()));
    }

    /** A cached location in front of {@code fake}, its $upstream_cache_status in X-Cache. */
    private EdgeHarness cachedEdge(FakeHttpBackend fake) throws Exception {
        return EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                  { match = "/", proxy = fake, cache = true, headers { X-Cache = "$upstream_cache_status" } }
                ] }]
                proxy.backends.fake { addresses = ["127.0.0.1:%d"] }
                """.formatted(fake.port()));
    }

    private static HttpResponse<String> get(EdgeHarness edge, String target) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The read timeout runs from the request sent until the answer's head is whole, however its pieces come, as nginx
     * 1.22's proxy_read_timeout does for the head (measured behind a raw backend sending a head in 16 pieces a quarter
     * of a second apart, proxy_read_timeout 2s: 504 after 2 s); between two reads only once the body comes. A backend
     * that drips its head gets no longer than one that sends nothing.
     */
    @Test
    void aHeadThatComesInPiecesOverLongerThanTheReadTimeoutIs504AsNginxs() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                       { match = "/", proxy = slow }
                     ] }]
                     proxy.backends.slow { addresses = ["127.0.0.1:%d"], timeouts.read = 1 s }
                     """.formatted(backend.getLocalPort()))) {
            Thread trickling = new Thread(() -> trickle(backend,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Piece: one, two, three\r\nContent-Length: 4\r\n\r\n",
                    "done"), "trickling-backend");
            trickling.setDaemon(true);
            trickling.start();
            assertThat(get(edge, "/slow").statusCode()).isEqualTo(504);
        }
    }

    /** Answers one request with {@code head} in 16 pieces a quarter of a second apart, then {@code body}. */
    private static void trickle(ServerSocket backend, String head, String body) {
        try (Socket socket = backend.accept()) {
            InputStream in = socket.getInputStream();
            for (int last = 0, c; (c = in.read()) != -1; last = (last << 8 | c) & 0xFFFFFFFF) {
                if (((last << 8 | c) & 0xFFFFFFFF) == 0x0D0A0D0A) {
                    break; // the request's head read
                }
            }
            byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
            int piece = (bytes.length + 15) / 16;
            for (int from = 0; from < bytes.length; from += piece) {
                socket.getOutputStream().write(bytes, from, Math.min(piece, bytes.length - from));
                socket.getOutputStream().flush();
                Thread.sleep(250);
            }
            socket.getOutputStream().write(body.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            in.transferTo(java.io.OutputStream.nullOutputStream()); // until edge closes or keeps it to the end
        } catch (IOException | InterruptedException ended) {
            // the test is over
        }
    }

    /**
     * Before, Netty's decoder took the first bare LF after a chunk's data for a broken chunk: the client got the
     * head and a cut body, and the connection was closed.
     */
    @Test
    void aChunkedBodyWhoseLinesEndWithABareLineFeedIsReadWholeAndItsConnectionKept() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("lf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\nhello\n6;name=value\n world\r\n1\r\n!\n0\nX-Trailer: t\n\n");
            fake.answer("crlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnext\r\n0\r\n\r\n");
            fake.answer("head-lf", "HTTP/1.1 200 OK\nContent-Type: text/plain\nTransfer-Encoding: chunked\n\n"
                    + "3\nabc\n0\n\n");

            HttpResponse<String> lf = get(edge, "/lf");
            assertThat(lf.statusCode()).isEqualTo(200);
            assertThat(lf.body()).isEqualTo("hello world!");
            assertThat(get(edge, "/crlf").body()).isEqualTo("next");
            HttpResponse<String> headLf = get(edge, "/head-lf");
            assertThat(headLf.body()).isEqualTo("abc");
            assertThat(headLf.headers().firstValue("Content-Type")).hasValue("text/plain");
            assertThat(get(edge, "/crlf").body()).isEqualTo("next");
            // each answer ended where its last chunk and trailers did: one connection served them all
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * nginx 1.22 ends a chunk's size at a space, a tab or ';' and skips the rest of its line (measured behind the same
     * raw backend: "5 ", "5\t", "5 garbage", "5;a b=\"c" all read whole, the connection kept). Before, Netty's
     * decoder refused such a size line and the client's connection was closed with nothing.
     */
    @Test
    void aChunkSizeWithTrailingWhitespaceOrAnyExtensionIsReadWholeAndItsConnectionKept() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("ws", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5 \r\nhello\r\n1\t\r\n \r\n5 garbage\nworld\r\n0 \r\n\r\n");
            fake.answer("ext", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3;a b=\"c\r\nabc\r\n0;last\r\n\r\n");
            HttpResponse<String> ws = get(edge, "/ws");
            assertThat(ws.statusCode()).isEqualTo(200);
            assertThat(ws.body()).isEqualTo("hello world");
            assertThat(get(edge, "/ext").body()).isEqualTo("abc");
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * nginx 1.22 reads a chunked body whatever the status line's version, and over a Content-Length beside it (measured
     * behind the same raw backend: HTTP/1.0 with chunked, Content-Length: 3 before or after chunked, all read whole);
     * Netty's RFC 9112 checks refused them, and the client got a 502. Neither answer's connection is reused: nginx's
     * proxy reuses no HTTP/1.0 answer's, and edge none whose two framings disagree (nginx 1.22 does).
     */
    @Test
    void aChunkedBodyIsReadWhateverTheVersionAndOverAContentLengthItsConnectionClosed() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("old", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
                    + "3\r\nold\r\n0\r\n\r\n");
            fake.answer("both", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n");
            fake.answer("lower", "http/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nlower\n0\n\n");
            for (String path : new String[] {"old", "both"}) {
                HttpResponse<String> answer = get(edge, "/" + path);
                assertThat(answer.statusCode()).as(path).isEqualTo(200);
                assertThat(answer.headers().firstValue("Content-Length")).as(path).isEmpty();
            }
            assertThat(get(edge, "/both").body()).isEqualTo("hello");
            assertThat(get(edge, "/old").body()).isEqualTo("old");
            assertThat(fake.connections()).as("none reused").isEqualTo(4);
            assertThat(get(edge, "/lower").body()).isEqualTo("lower");
        }
    }

    /**
     * nginx 1.22 reads a chunked body beside a Content-Length that is no number, beside two Content-Lengths that differ,
     * and under Transfer-Encoding: chunked twice, on two lines or on one (measured behind the same raw backend: each read
     * whole, its connection reused). Netty's decoder refused each head, and the client got a 502. edge reads them as
     * nginx does but reuses none of their connections: a backend whose framing says two things may have meant the
     * other, and what follows its answer is not to be trusted for the start of the next one.
     */
    @Test
    void aChunkedBodyBesideABrokenOrDoubledLengthOrChunkedTwiceIsReadWholeItsConnectionClosed() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("nan", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: abc\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n");
            fake.answer("two", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
                    + "Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            fake.answer("twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
                    + "\r\n5\r\nhello\r\n0\r\n\r\n");
            fake.answer("comma", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\n\n5\nhello\n0\n\n");
            for (String path : new String[] {"nan", "two", "twice", "comma"}) {
                HttpResponse<String> answer = get(edge, "/" + path);
                assertThat(answer.statusCode()).as(path).isEqualTo(200);
                assertThat(answer.body()).as(path).isEqualTo("hello");
                assertThat(answer.headers().firstValue("Content-Length")).as(path).isEmpty();
            }
            assertThat(fake.connections()).as("none reused").isEqualTo(4);
        }
    }

    /**
     * An answer read to its backend's close (the backend closes after {@code body}): whole, framed anew for the client,
     * with no Content-Length.
     */
    private static void assertReadToTheClose(HttpResponse<String> answer, String body) {
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo(body);
        assertThat(answer.headers().firstValue("Content-Length")).isEmpty();
    }

    /** A head with {@code fields}, whose backend closes the connection after "hello world". */
    private static String closedAfterHelloWorld(String fields) {
        return "HTTP/1.1 200 OK\r\n" + fields + "Connection: close\r\n\r\nhello world";
    }

    /** The client's answer where the backend answers {@link #closedAfterHelloWorld} with {@code fields}. */
    private HttpResponse<String> answerClosedAfterHelloWorld(String fields) throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("close", closedAfterHelloWorld(fields));
            return get(edge, "/close");
        }
    }

    /**
     * nginx 1.22 reads a body not chunked to the backend's close where its Content-Length is no number (measured behind a
     * raw backend, "abc", an empty value and 99999999999999999999: 200, the body whole, chunked to the client, no
     * Content-Length, nothing logged). Before, Netty's decoder refused the head: 502.
     */
    @Test
    void aContentLengthThatIsNoNumberHasTheBodyReadToTheClose() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("nan", closedAfterHelloWorld("Content-Length: abc\r\n"));
            fake.answer("empty", closedAfterHelloWorld("Content-Length: \r\n"));
            fake.answer("huge", closedAfterHelloWorld("Content-Length: 99999999999999999999\r\n"));
            for (String path : new String[] {"nan", "empty", "huge"}) {
                assertReadToTheClose(get(edge, "/" + path), "hello world");
            }
        }
    }

    /**
     * nginx 1.22 reads a body by its Content-Length sent twice, the same both times, and reuses its connection (measured
     * behind a raw backend). Before, Netty's decoder refused the head: 502.
     */
    @Test
    void aContentLengthSentTwiceIsReadOnceItsConnectionKept() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("twice", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> answer = get(edge, "/twice");
                assertThat(answer.statusCode()).isEqualTo(200);
                assertThat(answer.body()).isEqualTo("hello");
                assertThat(answer.headers().firstValue("Content-Length")).hasValue("5");
            }
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * nginx 1.22 reads a body by the last of two Content-Lengths that differ, 5 then 6 or 6 then 5 (measured behind a raw
     * backend: 6 bytes, then 5, the connection reused). Before, Netty's decoder refused the head: 502. edge reads it as
     * nginx does, but reuses no such connection: the backend may have meant the other length.
     */
    @Test
    void twoContentLengthsThatDifferTheLastIsReadItsConnectionClosed() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("up", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
            fake.answer("down", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 5\r\n\r\nhello");
            HttpResponse<String> up = get(edge, "/up");
            assertThat(up.statusCode()).isEqualTo(200);
            assertThat(up.body()).isEqualTo("hello!");
            HttpResponse<String> down = get(edge, "/down");
            assertThat(down.statusCode()).isEqualTo(200);
            assertThat(down.body()).isEqualTo("hello");
            assertThat(fake.connections()).as("none reused").isEqualTo(2);
        }
    }

    /**
     * nginx 1.22 takes "5, 5" for no number, and reads the body to the backend's close (measured behind a raw backend).
     * Before, Netty's decoder refused the head: 502.
     */
    @Test
    void aContentLengthListHasTheBodyReadToTheClose() throws Exception {
        assertReadToTheClose(answerClosedAfterHelloWorld("Content-Length: 5, 5\r\n"), "hello world");
    }

    /**
     * nginx 1.22 takes "+5" for no number, and reads the body to the backend's close (measured behind a raw backend).
     * Before, Netty's decoder refused the head: 502.
     */
    @Test
    void aContentLengthWithAPlusSignHasTheBodyReadToTheClose() throws Exception {
        assertReadToTheClose(answerClosedAfterHelloWorld("Content-Length: +5\r\n"), "hello world");
    }

    /**
     * nginx 1.22 takes "-5" for no number, and reads the body to the backend's close (measured behind a raw backend).
     * Before, Netty's decoder refused the head: 502.
     */
    @Test
    void aNegativeContentLengthHasTheBodyReadToTheClose() throws Exception {
        assertReadToTheClose(answerClosedAfterHelloWorld("Content-Length: -5\r\n"), "hello world");
    }

    /** nginx 1.22 reads "Content-Length:    5    " as 5, and reuses the connection (measured behind a raw backend). */
    @Test
    void aContentLengthBetweenSpacesIsReadItsConnectionKept() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("spaces", "HTTP/1.1 200 OK\r\nContent-Length:    5    \r\n\r\nhello");
            assertThat(get(edge, "/spaces").body()).isEqualTo("hello");
            assertThat(get(edge, "/spaces").headers().firstValue("Content-Length")).hasValue("5");
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * nginx 1.22's header parser drops the spaces around a value but not a tab, and takes "\t5" and "5\t" for no number:
     * the body read to the backend's close (measured behind a raw backend). Before, Netty's decoder, which drops tabs
     * too, read 5 bytes of it.
     */
    @Test
    void aContentLengthBesideATabHasTheBodyReadToTheClose() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("before", closedAfterHelloWorld("Content-Length:\t5\r\n"));
            fake.answer("after", closedAfterHelloWorld("Content-Length: 5\t\r\n"));
            assertReadToTheClose(get(edge, "/before"), "hello world");
            assertReadToTheClose(get(edge, "/after"), "hello world");
        }
    }

    /** Has {@code fake} answer "/c0", "/c1"...: "hello", chunked, under each of {@code codings} in turn. */
    private static void helloChunkedUnder(FakeHttpBackend fake, String... codings) {
        for (int i = 0; i < codings.length; i++) {
            fake.answer("c" + i, "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + codings[i] + "\r\n\r\n"
                    + "5\r\nhello\r\n0\r\n\r\n");
        }
    }

    /**
     * nginx 1.22's proxy finds chunked anywhere in a Transfer-Encoding value (measured behind a raw backend: "xchunked",
     * "notchunked", "chunkedx", "chunked;q=1" and "chunked, gzip" read chunked, each connection reused). Before, edge
     * read the first four to the backend's close (Netty's decoder looks for a coding that is chunked), and the client got
     * the chunks' bytes as the body. edge reads each chunked, but reuses none of their connections: a backend that names
     * chunked so may frame its body otherwise.
     */
    @Test
    void chunkedWithinAnotherWordOrNotLastIsReadChunkedItsConnectionClosed() throws Exception {
        String[] codings = {"xchunked", "notchunked", "chunkedx", "chunked;q=1", "chunked, gzip"};
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            helloChunkedUnder(fake, codings);
            for (int i = 0; i < codings.length; i++) {
                HttpResponse<String> answer = get(edge, "/c" + i);
                assertThat(answer.statusCode()).as(codings[i]).isEqualTo(200);
                assertThat(answer.body()).as(codings[i]).isEqualTo("hello");
            }
            assertThat(fake.connections()).as("none reused").isEqualTo(codings.length);
        }
    }

    /**
     * Chunked in any case, or after another coding, is chunked to nginx 1.22 and to RFC 9112 alike (measured: "Chunked",
     * "CHUNKED", "gzip, chunked" read chunked, the connection reused): so to edge.
     */
    @Test
    void chunkedInAnyCaseOrLastIsReadChunkedItsConnectionKept() throws Exception {
        String[] codings = {"Chunked", "CHUNKED", "gzip, chunked"};
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            helloChunkedUnder(fake, codings);
            for (int i = 0; i < codings.length; i++) {
                assertThat(get(edge, "/c" + i).body()).as(codings[i]).isEqualTo("hello");
            }
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * nginx 1.22 reads a body whose Transfer-Encoding names no chunked ("identity", "gzip") by a Content-Length beside
     * it, and to the backend's close without one (measured behind a raw backend). edge read them so before too, but
     * reused the connection after the length: RFC 9112 6.3 reads such a body to the close, and a backend that sent both
     * may have meant that, so edge now reuses none.
     */
    @Test
    void aCodingThatIsNotChunkedLeavesTheBodyToItsLengthTheConnectionClosed() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("identity", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc");
            fake.answer("gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc");
            fake.answer("close", closedAfterHelloWorld("Transfer-Encoding: identity\r\n"));
            HttpResponse<String> identity = get(edge, "/identity");
            assertThat(identity.body()).isEqualTo("abc");
            assertThat(identity.headers().firstValue("Content-Length")).hasValue("3");
            assertThat(get(edge, "/gzip").body()).isEqualTo("abc");
            assertThat(fake.connections()).as("none reused").isEqualTo(2);
            assertReadToTheClose(get(edge, "/close"), "hello world");
        }
    }

    /**
     * nginx 1.22 skips a chunked answer's trailer section whatever its lines hold (measured: a line without a colon, the
     * answer whole and its connection reused). Before, Netty's decoder took such a line for a broken answer and the
     * client's answer was cut.
     */
    @Test
    void aTrailerLineWithoutAColonIsSkippedTheAnswerWholeAndItsConnectionKept() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("bogus", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n0\r\nno colon here\r\n\tfolded\nX-T: v\r\n\r\n");
            fake.answer("next", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
            HttpResponse<String> bogus = get(edge, "/bogus");
            assertThat(bogus.statusCode()).isEqualTo(200);
            assertThat(bogus.body()).isEqualTo("hello");
            assertThat(get(edge, "/next").body()).isEqualTo("next");
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * nginx 1.22 drops a backend's trailer fields (measured with curl --raw: "0" and the empty line, no X-T; the Trailer
     * field announcing them passed, which edge, taking it for hop-by-hop, does not pass), and so does edge: the
     * client's chunks are framed anew.
     */
    @Test
    void aBackendsTrailerFieldsAreDropped() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
                    + "5\r\nhello\r\n0\r\nX-T: v\r\n\r\n");
            String raw = Curl.output("--raw", "-i", edge.uri("/trailer").toString());
            assertThat(raw).startsWith("HTTP/1.1 200").endsWith("\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                    .doesNotContainIgnoringCase("X-T").doesNotContainIgnoringCase("Trailer:");
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * nginx 1.22 refuses a head with a folded line (obs-fold, RFC 9112 5.2), under a space or a tab: "upstream sent
     * invalid header", a 502, its connection closed (measured behind the same raw backend). Before, edge took the
     * folded line into the field above it and passed the answer.
     */
    @Test
    void aFoldedHeadLineIsA502AndItsConnectionClosed() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("space", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello");
            fake.answer("tab", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: a\n\tb\n\nhello");
            fake.answer("next", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
            assertThat(get(edge, "/space").statusCode()).isEqualTo(502);
            assertThat(get(edge, "/tab").statusCode()).isEqualTo(502);
            assertThat(get(edge, "/next").body()).isEqualTo("next");
            assertThat(fake.connections()).isEqualTo(3);
        }
    }

    /**
     * nginx 1.22 takes a head line without a colon for a field with an empty value ("Foo: " to its client) where the line
     * holds no whitespace, and refuses one that does ("Content-Length 5", "Foo bar": "upstream sent invalid header", a
     * 502, its connection closed); it skips a second status line (IIS's). Measured behind a raw backend. Before, edge
     * answered the first 502 and passed the second as a field Foo.
     */
    @Test
    void aHeadLineWithoutAColonIsAFieldWithAnEmptyValueOrA502AsNginxsReadsIt() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("bare", "HTTP/1.1 200 OK\r\nFoo\r\nContent-Length: 5\r\n\r\nhello");
            fake.answer("twice", "HTTP/1.1 200 OK\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nhello");
            fake.answer("length", "HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello");
            fake.answer("space", "HTTP/1.1 200 OK\r\nFoo bar\r\nContent-Length: 5\r\n\r\nhello");
            HttpResponse<String> bare = get(edge, "/bare");
            assertThat(bare.statusCode()).isEqualTo(200);
            assertThat(bare.body()).isEqualTo("hello");
            assertThat(bare.headers().firstValue("Foo")).hasValue("");
            HttpResponse<String> twice = get(edge, "/twice");
            assertThat(twice.statusCode()).isEqualTo(200);
            assertThat(twice.body()).isEqualTo("hello");
            assertThat(fake.connections()).as("both kept").isEqualTo(1);
            assertThat(get(edge, "/length").statusCode()).isEqualTo(502);
            assertThat(get(edge, "/space").statusCode()).isEqualTo(502);
            assertThat(get(edge, "/bare").statusCode()).isEqualTo(200);
            assertThat(fake.connections()).as("neither refused one kept").isEqualTo(3);
        }
    }

    /**
     * Pins a cached location's entry of an answer with a line without a colon and a second status line: nginx 1.22.1
     * (proxy_cache beside a raw backend, measured) sent "Foo: " to the MISS and to the HIT alike; so does edge, the
     * status line read over in both.
     */
    @Test
    void aHeadLineWithoutAColonIsKeptWithACachedEntryAsAFieldWithAnEmptyValue() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = cachedEdge(fake)) {
            fake.answer("bare", "HTTP/1.1 200 OK\r\nFoo\r\nHTTP/1.1 404 Not Found\r\nCache-Control: max-age=60\r\n"
                    + "Content-Length: 5\r\n\r\nhello");
            for (String status : new String[] {"MISS", "HIT"}) {
                HttpResponse<String> answer = get(edge, "/bare");
                assertThat(answer.statusCode()).as(status).isEqualTo(200);
                assertThat(answer.body()).as(status).isEqualTo("hello");
                assertThat(answer.headers().firstValue("X-Cache")).hasValue(status);
                assertThat(answer.headers().allValues("Foo")).as(status).containsExactly("");
            }
            assertThat(fake.connections()).isEqualTo(1);
        }
    }

    /**
     * A head's field lines count as they came against edge's 8 KiB, a repeated Content-Length too, though only the last
     * is read: nginx 1.22 answered 502 ("upstream sent too big header") to a head of 550 "Content-Length: 5" lines
     * (10 KB) as to one of 520 other fields, and already to 260 of either (5 KB: its proxy_buffer_size is a 4 KiB page).
     * Before, edge read the repeated lines as one and answered 200, where it refused as many other lines.
     */
    @Test
    void aHeadOfRepeatedLinesPastTheLimitIsA502AsOneOfOtherLines() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("lengths", "HTTP/1.1 200 OK\r\n" + "Content-Length: 5\r\n".repeat(550) + "\r\nhello");
            fake.answer("fields", "HTTP/1.1 200 OK\r\n" + "X-Many: 0123456789\r\n".repeat(520)
                    + "Content-Length: 5\r\n\r\nhello");
            fake.answer("within", "HTTP/1.1 200 OK\r\n" + "Content-Length: 5\r\n".repeat(260) + "\r\nhello");
            assertThat(get(edge, "/lengths").statusCode()).isEqualTo(502);
            assertThat(get(edge, "/fields").statusCode()).isEqualTo(502);
            assertThat(get(edge, "/within").body()).isEqualTo("hello");
        }
    }

    /** A chunk's data is taken by its size, whatever it holds: a LF in it is no line end. */
    @Test
    void aChunksDataWithLineFeedsInItPassesAsItIs() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("data", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "6\na\nb\r\n\n\n3\r\n\n0\n\r\n0\r\n\r\n");
            assertThat(get(edge, "/data").body()).isEqualTo("a\nb\r\n\n\n0\n");
        }
    }

    /**
     * Before, an HTTP/1.0 answer with Connection: keep-alive and a Content-Length left its connection in the pool,
     * and the next request went on it.
     */
    @Test
    void anHttp10AnswersConnectionIsNeverReusedItsKeepAliveNotwithstanding() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("old", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nold");
            assertThat(get(edge, "/old").body()).isEqualTo("old");
            assertThat(get(edge, "/old").body()).isEqualTo("old");
            assertThat(fake.connections()).isEqualTo(2);
        }
    }

    /**
     * To a HEAD, or in a 204, a Content-Length that is no number frames no body (nginx 1.22, measured: HEAD answered
     * "Content-Length: abc", its connection reused for the next request). What such a backend sends after the head
     * anyway is dropped with its connection, never read as the next request's answer.
     */
    @Test
    void aContentLengthThatIsNoNumberToAHeadOrInA204FramesNoBodyWhatFollowsDroppedWithItsConnection() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            String stray = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad";
            fake.answer("head", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n" + stray);
            fake.answer("none", "HTTP/1.1 204 No Content\r\nContent-Length: abc\r\n\r\n" + stray);
            fake.answer("next", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
            HttpResponse<String> head = CLIENT.send(HttpRequest.newBuilder(edge.uri("/head"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(get(edge, "/next").body()).isEqualTo("next");
            assertThat(get(edge, "/none").statusCode()).isEqualTo(204);
            assertThat(get(edge, "/next").body()).isEqualTo("next");
            // the HEAD's connection closed, the first "next"'s kept for the 204, closed after it
            assertThat(fake.connections()).isEqualTo(3);
        }
    }

    /**
     * nginx 1.22 stores an answer read to its backend's close (proxy_cache beside a raw backend, "Content-Length: abc"
     * and the body up to the close: MISS, then HIT, the body whole), but not one whose connection was reset in the
     * middle of its body (MISS, MISS). So does edge, its hit going with the body's length.
     */
    @Test
    void anAnswerReadToTheCloseIsStoredOneResetInItsBodyIsNot() throws Exception {
        Semaphore reset = new Semaphore(0);
        AtomicInteger resetAsked = new AtomicInteger();
        try (FakeHttpBackend fake = new FakeHttpBackend(); ServerSocket resetting = resettingBackend(reset, resetAsked);
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                       { match = "/", proxy = fake, cache = true, headers { X-Cache = "$upstream_cache_status" } }
                       { match = "/reset/", proxy = resetting, cache = true,
                         headers { X-Cache = "$upstream_cache_status" } }
                     ] }]
                     proxy.backends.fake { addresses = ["127.0.0.1:%d"] }
                     proxy.backends.resetting { addresses = ["127.0.0.1:%d"] }
                     """.formatted(fake.port(), resetting.getLocalPort()))) {
            fake.answer("close", closedAfterHelloWorld("Content-Length: abc\r\nCache-Control: max-age=60\r\n"));
            HttpResponse<String> miss = get(edge, "/close");
            assertReadToTheClose(miss, "hello world");
            assertThat(miss.headers().firstValue("X-Cache")).hasValue("MISS");
            HttpResponse<String> hit = get(edge, "/close");
            assertThat(hit.body()).isEqualTo("hello world");
            assertThat(hit.headers().firstValue("X-Cache")).hasValue("HIT");
            assertThat(hit.headers().firstValue("Content-Length")).hasValue("11");
            assertThat(fake.connections()).isEqualTo(1);

            for (int i = 0; i < 2; i++) {
                String cut = cutAnswer(edge, reset);
                assertThat(cut).as("the answer cut, not ended").contains("X-Cache: MISS").contains("hello")
                        .doesNotEndWith("0\r\n\r\n");
            }
            assertThat(resetAsked.get()).isEqualTo(2);
        }
    }

    /**
     * A backend that answers "Content-Length: abc", "hello" and, once {@code reset} gives it leave, resets the
     * connection (SO_LINGER 0).
     */
    private static ServerSocket resettingBackend(Semaphore reset, AtomicInteger asked) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread serving = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                    asked.incrementAndGet();
                    InputStream in = socket.getInputStream();
                    for (int matched = 0, b; matched < 4 && (b = in.read()) >= 0; ) {
                        matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : 0;
                    }
                    socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n"
                            + "Cache-Control: max-age=60\r\n\r\nhello").getBytes(StandardCharsets.ISO_8859_1));
                    socket.getOutputStream().flush();
                    reset.acquire();
                    socket.setSoLinger(true, 0);
                } catch (IOException | InterruptedException closed) {
                    return;
                }
            }
        }, "resetting-backend");
        serving.setDaemon(true);
        serving.start();
        return server;
    }

    /** A GET of /reset/x, raw: what the client got, its backend reset once "hello" reached it. */
    private static String cutAnswer(EdgeHarness edge, Semaphore reset) throws IOException {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), edge.uri("/").getPort())) {
            client.setSoTimeout(20_000);
            client.getOutputStream().write("GET /reset/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = client.getInputStream();
            StringBuilder got = new StringBuilder();
            boolean released = false;
            for (int b; (b = in.read()) >= 0; ) {
                got.append((char) b);
                if (!released && got.indexOf("hello") >= 0) {
                    reset.release();
                    released = true;
                }
            }
            return got.toString();
        }
    }

    /**
     * A field name with a character HTTP's token leaves out passes as nginx 1.22's proxy passes it (measured behind a
     * raw backend, each of {@code ( ) / { } < > @ , ; \ " [ ] ? = _ . ! # $ % & ' * + ^ ` | ~} within "Foo": 200, the
     * line passed as it came); one with a byte past ASCII (0x80, 0xE9) is dropped alone, nothing logged, the answer
     * passed. Before, Netty's header validation refused such a head: a 502.
     */
    @Test
    void aFieldNameWithCharactersOutsideATokenPassesAndOneWithBytesPastAsciiIsDroppedAsNginxs() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("names", "HTTP/1.1 200 OK\r\nFo(o: bar\r\nFoo/bar: x\r\nFoo{: y\r\nFo\u00e9o: z\r\nFo\u0080o: w\r\n"
                    + "X-After: a\r\nContent-Length: 2\r\n\r\nok");
            String answer = rawGet(edge, "/names");
            assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok")
                    .contains("\r\nFo(o: bar\r\n", "\r\nFoo/bar: x\r\n", "\r\nFoo{: y\r\n", "\r\nX-After: a\r\n")
                    .doesNotContain("\u00e9", "\u0080");
        }
    }

    /** A cached location's entry keeps such a field: the MISS and the HIT carry it, as nginx 1.22's (measured). */
    @Test
    void aFieldNameWithCharactersOutsideATokenIsKeptWithACachedEntry() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = cachedEdge(fake)) {
            fake.answer("names", "HTTP/1.1 200 OK\r\nFo(o: bar\r\nCache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok");
            for (String status : new String[] {"MISS", "HIT"}) {
                assertThat(rawGet(edge, "/names")).as(status).startsWith("HTTP/1.1 200 OK\r\n")
                        .contains("\r\nFo(o: bar\r\n", "\r\nX-Cache: " + status + "\r\n").endsWith("\r\n\r\nok");
            }
        }
    }

    /**
     * Over HTTP/2 such a field is left out, the answer sent without it: Netty's encoder takes token names only, and
     * its refusal closed the client's connection with no answer (curl: empty reply). nginx 1.22 sent "fo(o" on over h2c
     * (measured: curl's nghttp2 reset the stream, PROTOCOL_ERROR).
     */
    @Test
    void overHttp2AFieldNameOutsideATokenIsLeftOutTheAnswerSent() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend();
             EdgeHarness edge = EdgeHarness.start(dir, """
                     server.listen = ["127.0.0.1:0 http2"]
                     sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                       { match = "/", proxy = fake }
                     ] }]
                     proxy.backends.fake { addresses = ["127.0.0.1:%d"] }
                     """.formatted(fake.port()))) {
            fake.answer("names", "HTTP/1.1 200 OK\r\nFo(o: bar\r\nX-After: a\r\nContent-Length: 2\r\n\r\nok");
            List<String> command = Curl.command("-s", "-i", "--http2-prior-knowledge", edge.uri("/names").toString());
            Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
            String said = new String(curl.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(curl.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(curl.exitValue()).as(said).isZero();
            assertThat(said).startsWith("HTTP/2 200").contains("x-after: a").doesNotContain("fo(o").endsWith("ok");
        }
    }

    /**
     * A control character in a name is a 502, as nginx 1.22's "upstream sent invalid header" (pins what was right), and
     * its log line has the character escaped, as nginx's ("Fo\x01..."): it had the raw byte.
     */
    @Test
    void aFieldNameWithAControlCharacterIsA502AsNginxsItsByteEscapedInTheLog() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake);
             CapturedLog log = CapturedLog.of("io.edge.core.http.ServerExchange")) {
            fake.answer("control", "HTTP/1.1 200 OK\r\nFo\u0001o: v\r\nContent-Length: 2\r\n\r\nok");
            fake.answer("delete", "HTTP/1.1 200 OK\r\nFo\u007fo: v\r\nContent-Length: 2\r\n\r\nok");
            assertThat(rawGet(edge, "/control")).startsWith("HTTP/1.1 502 ");
            assertThat(rawGet(edge, "/delete")).startsWith("HTTP/1.1 502 ");
            assertThat(log.warnings()).anySatisfy(line -> assertThat(line).contains("GET /control -> 502")
                    .contains("Fo\\x01o"));
            assertThat(log.warnings()).anySatisfy(line -> assertThat(line).contains("GET /delete -> 502")
                    .contains("Fo\\x7fo"));
            assertThat(log.warnings()).allSatisfy(line -> assertThat(line).doesNotContain("\u0001", "\u007f"));
        }
    }

    /**
     * A head's field lines count against the 8 KiB as they came: a line without a colon, which goes on as a field
     * with an empty value, is not counted with the colon edge gives it. Before, a head of exactly 8 KiB whose last line
     * had no colon was a 502.
     */
    @Test
    void aLineWithoutAColonAtTheHeadLimitCountsAsItCame() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            String length = "Content-Length: 2";
            fake.answer("at", "HTTP/1.1 200 OK\r\n" + length + "\r\n" + "X".repeat(8192 - length.length())
                    + "\r\n\r\nok");
            fake.answer("past", "HTTP/1.1 200 OK\r\n" + length + "\r\n" + "X".repeat(8193 - length.length())
                    + "\r\n\r\nok");
            assertThat(get(edge, "/at").body()).isEqualTo("ok");
            assertThat(get(edge, "/past").statusCode()).isEqualTo(502);
        }
    }

    /**
     * A GET with a body in a cached location is looked up as one without: nginx 1.22 (proxy_cache, measured) logged
     * MISS for it, stored its answer (the next GET a HIT), and answered a later GET with a body from the cache (HIT).
     * Before, edge passed it by the cache: $upstream_cache_status "-", nothing stored.
     */
    @Test
    void aGetWithABodyInACachedLocationIsLookedUpAndStoredAsNginxs() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = cachedEdge(fake)) {
            fake.answer("page", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 4\r\n\r\npage");
            for (String status : new String[] {"MISS", "HIT"}) {
                HttpResponse<String> answer = CLIENT.send(HttpRequest.newBuilder(edge.uri("/page"))
                        .method("GET", HttpRequest.BodyPublishers.ofString("abc")).timeout(Duration.ofSeconds(20))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.body()).as(status).isEqualTo("page");
                assertThat(answer.headers().firstValue("X-Cache")).as(status).hasValue(status);
            }
            assertThat(get(edge, "/page").headers().firstValue("X-Cache")).hasValue("HIT");
        }
    }

    /**
     * Pins what was right: a backend's 1xx before its answer (100 Continue, 103 Early Hints) is dropped, the answer
     * after it framed for the client; an HTTP/1.1 client that sent Expect: 100-continue gets edge's own 100 alone, one
     * that did not and an HTTP/1.0 one none. nginx 1.22 (measured, GET and POST, with Expect and without, HTTP/1.0 too)
     * passed the 1xx on as the answer, with Connection: keep-alive and no length, and the backend's final head and
     * body after it as bytes of its body, read to the backend's close ($upstream_status 100).
     */
    @Test
    void aBackendsInterimAnswerIsDroppedTheAnswerAfterItFramedForTheClient() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = edge(fake)) {
            fake.answer("continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
            fake.answer("hints", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal");
            String body = "Content-Length: 3\r\nConnection: close\r\n\r\nabc";
            String expecting = raw(edge, "POST /continue HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n" + body);
            assertThat(expecting).startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nfinal");
            assertThat(expecting.split("HTTP/1.1 100", -1)).hasSize(2);
            for (String request : new String[] {"POST /continue HTTP/1.1\r\nHost: a\r\n" + body,
                    "GET /continue HTTP/1.0\r\n\r\n", "GET /hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"}) {
                String answer = raw(edge, request);
                assertThat(answer).as(request).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nfinal")
                        .doesNotContain("HTTP/1.1 1", "Link");
            }
        }
    }

    /**
     * A range past the end of an entry with a name outside a token, revalidated by a 304, is a 416 with that field.
     * Its 416's page refused the name (Netty's token check): the exception, thrown after the call was done, was
     * dropped by the call's exceptionCaught (the client waited for its timeout, nothing logged), then a 500.
     */
    @Test
    void aFailureAfterTheBackendsAnswerEndedStillAnswersTheClient() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = cachedEdge(fake)) {
            fake.answer("names", "HTTP/1.1 200 OK\r\nFo(o: bar\r\nAccept-Ranges: bytes\r\nETag: \"a\"\r\n"
                    + "Cache-Control: max-age=1\r\nContent-Length: 2\r\n\r\nok");
            assertThat(rawGet(edge, "/names")).contains("\r\nX-Cache: MISS\r\n");
            Thread.sleep(2100);
            fake.answer("names", "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\nCache-Control: max-age=60\r\n\r\n");
            assertThat(rawWithin(edge, "GET /names HTTP/1.1\r\nHost: localhost\r\nRange: bytes=10-\r\n"
                    + "Connection: close\r\n\r\n")).startsWith("HTTP/1.1 416 ").contains("\r\nFo(o: bar\r\n");
        }
    }

    /**
     * A range past the end of a cached answer with a name outside a token is a 416 carrying the answer's fields, that
     * one too, on the miss and on the hit. Before, the 416's page refused the name: the miss a 502 (the exception taken
     * for the backend's failure), the hit a 500.
     */
    @Test
    void aRangePastTheEndOfACachedAnswerWithANameOutsideATokenIsA416() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = cachedEdge(fake)) {
            fake.answer("names", "HTTP/1.1 200 OK\r\nFo(o: bar\r\nAccept-Ranges: bytes\r\n"
                    + "Cache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok");
            for (String status : new String[] {"MISS", "HIT"}) {
                assertThat(rawWithin(edge, "GET /names HTTP/1.1\r\nHost: localhost\r\nRange: bytes=10-\r\n"
                        + "Connection: close\r\n\r\n")).as(status).startsWith("HTTP/1.1 416 ")
                        .contains("\r\nFo(o: bar\r\n", "bytes */2\r\n");
            }
        }
    }

    /**
     * Pins what 8bcd596e made so: a GET with a body that finds its entry stale within stale-while-revalidate is
     * answered STALE, and the refresh it starts (a bodiless GET) lands: the next GET is a HIT of the new answer.
     */
    @Test
    void aGetWithABodyRefreshesAStaleWhileRevalidateEntry() throws Exception {
        try (FakeHttpBackend fake = new FakeHttpBackend(); EdgeHarness edge = cachedEdge(fake)) {
            fake.answer("swr", "HTTP/1.1 200 OK\r\nCache-Control: max-age=1, stale-while-revalidate=60\r\n"
                    + "Content-Length: 3\r\n\r\none");
            assertThat(rawGet(edge, "/swr")).contains("\r\nX-Cache: MISS\r\n").endsWith("one");
            Thread.sleep(2100);
            fake.answer("swr", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 3\r\n\r\ntwo");
            assertThat(rawWithin(edge, "GET /swr HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n"
                    + "Connection: close\r\n\r\nabc")).contains("\r\nX-Cache: STALE\r\n").endsWith("one");
            String later = "";
            for (int i = 0; i < 50 && !later.contains("X-Cache: HIT"); i++) {
                Thread.sleep(100);
                later = rawWithin(edge, "GET /swr HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            }
            assertThat(later).contains("\r\nX-Cache: HIT\r\n").endsWith("two");
        }
    }

    /**
     * A proxied image with a name outside a token goes through a location's image-filter with that field, as it goes
     * without the filter. Before, the filter's copy of the head refused the name.
     */
    @Test
    void aProxiedImageWithANameOutsideATokenPassesTheImageFilter() throws Exception {
        String gif = "GIF89a\u0001\u0000\u0001\u0000\u0080\u0000\u0000\u0000\u0000\u0000\u00ff\u00ff\u00ff"
                + "!\u00f9\u0004\u0001\u0000\u0000\u0000\u0000,\u0000\u0000\u0000\u0000\u0001\u0000\u0001\u0000"
                + "\u0000\u0002\u0002D\u0001\u0000;";
        try (FakeHttpBackend fake = new FakeHttpBackend();
             EdgeHarness edge = EdgeHarness.start(dir, """
                     sites = [{ server-names = ["_"], default = true, root = ".", locations = [
                       { match = "/", proxy = fake, image-filter.filter = test }
                     ] }]
                     proxy.backends.fake { addresses = ["127.0.0.1:%d"] }
                     """.formatted(fake.port()))) {
            fake.answer("i.gif", "HTTP/1.1 200 OK\r\nFo(o: bar\r\nContent-Type: image/gif\r\nContent-Length: "
                    + gif.length() + "\r\n\r\n" + gif);
            assertThat(rawWithin(edge, "GET /i.gif HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200 ").contains("\r\nFo(o: bar\r\n").endsWith(gif);
        }
    }

    /** As {@link #raw}, the answer due within 10 s (a read timeout past that). */
    private static String rawWithin(EdgeHarness edge, String request) throws IOException {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), edge.uri("/").getPort())) {
            client.setSoTimeout(10_000);
            client.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** A GET of {@code target} on a socket of its own, its answer read to the close as ISO-8859-1 text. */
    private static String rawGet(EdgeHarness edge, String target) throws IOException {
        return raw(edge, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    }

    /** {@code request} sent on a socket of its own, its answer read to the close as ISO-8859-1 text. */
    private static String raw(EdgeHarness edge, String request) throws IOException {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), edge.uri("/").getPort())) {
            client.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
