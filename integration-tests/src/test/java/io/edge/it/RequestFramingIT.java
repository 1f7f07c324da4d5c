package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How request heads and bodies are framed where clients differ from the letter of RFC 9112 and nginx 1.22.1 still
 * reads them: the body a real php-fpm script receives (hash.php: its length and SHA-256) must be the bytes sent, and
 * the request pipelined after it must be read as the next one. The limits are raised so that a head can pass what one
 * FastCGI record holds; the head timeout too, past the client's read timeout (20 s), so that a head waited for where it
 * is to be refused fails its test.
 */
class RequestFramingIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                server.limits { request-line = 64 KiB, header-block = 256 KiB }
                server.timeouts.request-head = 10 m
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [{ match = "/", fastcgi = php }, { match = "/static/" }
                    { match = "^~ /denied/", access = ["deny all"] }, { match = "^~ /fixed/", return = "200 fixed" }]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    /** What hash.php answers to a body of {@code body}. */
    private static String hashed(String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.ISO_8859_1);
        return bytes.length + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Sends {@code request}, then a GET on the same connection: the script's answer, and that the GET was read. */
    private static String postedThenNext(String request) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send(request + "GET /static/plain.txt HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response posted = client.read();
            assertThat(posted.status()).as(request).isEqualTo(200);
            assertThat(client.read().text()).as("the request after it").isEqualTo("plain static file\n");
            return posted.text();
        }
    }

    /** RFC 9112 2.2 lets a lone LF end the request line and the field lines; nginx takes it. */
    @Test
    void aHeadWhoseLinesEndInALoneLfFramesItsBodyForPhp() throws Exception {
        assertThat(postedThenNext("POST /hash.php HTTP/1.1\nHost: a\nContent-Length: 12\n\nhello\r\nworld"))
                .isEqualTo(hashed("hello\r\nworld"));
        assertThat(postedThenNext("POST /hash.php HTTP/1.1\nHost: a\r\nTransfer-Encoding: chunked\n\n"
                + "5\r\nhello\r\n6\r\n\nworld\r\n0\r\n\n")).isEqualTo(hashed("hello\nworld"));
    }

    private static final String CHUNKED_POST = "POST /hash.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

    /** Blanks after a chunk size, alone ("5 \r\n") or before an extension, and extensions: nginx takes them all. */
    @Test
    void aChunkSizeWithBlanksOrAnExtensionAfterItFramesItsDataForPhp() throws Exception {
        assertThat(postedThenNext(CHUNKED_POST + "5 \r\nhello\r\n6\t;name=\"v w\"\r\n world\r\n1;x\r\n!\r\n0 \r\n\r\n"))
                .isEqualTo(hashed("hello world!"));
    }

    /**
     * An expectation edge does not know is ignored, as nginx ignores it (RFC 9110 10.1.1 lets a server answer 417, and
     * need not): the body reaches the script, and the next request is read.
     */
    @Test
    void anUnknownExpectationIsIgnoredAndTheBodyReachesPhp() throws Exception {
        assertThat(postedThenNext("POST /hash.php HTTP/1.1\r\nHost: a\r\nExpect: something\r\nContent-Length: 5\r\n"
                + "\r\nhello")).isEqualTo(hashed("hello"));
    }

    /**
     * A request sent as the body of one answered without reading it (refused by access, a return, a method a static
     * location does not take) is dropped as that body, by its length or its chunks, never read as a request of its own:
     * the next request answered is the one after the body. A script gets the same body as data.
     */
    @ParameterizedTest
    @CsvSource({"POST /denied/x, 403", "POST /fixed/x, 200", "PUT /static/plain.txt, 405", "GET /hash.php, 200"})
    void aRequestInsideABodyIsNeverReadAsOne(String target, int status) throws Exception {
        String inside = "GET /fixed/inside HTTP/1.1\r\nHost: a\r\n\r\n";
        String[] framings = {"Content-Length: " + inside.length() + "\r\n\r\n" + inside,
                "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(inside.length()) + "\r\n" + inside
                        + "\r\n0\r\n\r\n"};
        for (String framing : framings) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send(target + " HTTP/1.1\r\nHost: a\r\n" + framing
                        + "GET /static/plain.txt HTTP/1.1\r\nHost: a\r\n\r\n");
                RawHttpClient.Response answered = client.read();
                assertThat(answered.status()).as(target + " " + framing).isEqualTo(status);
                if (target.endsWith(".php")) {
                    assertThat(answered.text()).isEqualTo(hashed(inside));
                }
                assertThat(client.read().text()).as("the request after the body").isEqualTo("plain static file\n");
            }
        }
    }

    /**
     * A transfer coding edge does not decode, alone or before chunked: 501 and the connection closes, as nginx answers
     * it, before the script runs (its body would reach PHP still encoded, or framed by a length it does not have).
     */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "gzip, chunked", "identity"})
    void aTransferCodingOtherThanChunkedIs501AndClosesBeforePhp(String coding) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("POST /hash.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + coding
                    + "\r\nContent-Length: 5\r\n\r\nhello");
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(501);
            assertThat(response.text()).doesNotContain("5 ");
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    /** Trailer fields are dropped and the body reaches the script whole, as behind nginx. */
    @Test
    void trailerFieldsLeaveTheBodyWhole() throws Exception {
        assertThat(postedThenNext(CHUNKED_POST + "5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"))
                .isEqualTo(hashed("hello"));
    }

    /**
     * A trailer line that is no field (no colon, a blank before it) is 400 and closes before the script runs, as the
     * same line in a head is: nginx skips such lines unread, and edge did too, the one place it took what it refuses
     * in a head.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nocolon", "X-T : 1"})
    void aTrailerLineThatIsNoFieldIs400BeforePhp(String line) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send(CHUNKED_POST + "5\r\nhello\r\n0\r\n" + line + "\r\nX-U: 2\r\n\r\n"
                    + "GET /static/plain.txt HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(400);
            assertThat(response.text()).doesNotContain("5 ");
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    /**
     * A line that a byte has made unreadable, whatever follows, is 400 and closes as that byte comes, before php-fpm,
     * as nginx answers it: its client may never end the line, and it waited for the head timeout (408). So is such a
     * field line that ended when no line follows yet, which Netty's decoder reads only once the next one ends.
     */
    @ParameterizedTest
    @ValueSource(strings = {"G\u0001ET", "POST /hash.php\u0000", "POST /hash.php HTTP/1.1\r\nHost: a\r\nX\u0001",
            "POST /hash.php HTTP/1.1\r\nHost: a\r\nX\u0001: 1\r\n"})
    void aLineAByteHasMadeUnreadableIs400AndClosesBeforeItEnds(String unfinished) throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            assertThat(client.send(unfinished).read().status()).isEqualTo(400);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    /** A valid head that comes a byte at a time is waited for, blanks and bytes above 0x7f in it, and reaches php. */
    @Test
    void aValidHeadSentAByteAtATimeReachesPhp() throws Exception {
        byte[] request = "POST /hash.php?\u00e9 HTTP/1.1\r\nHost: a\r\nX_Y: \u00e9\tz\r\nContent-Length: 2\r\n\r\nab"
                .getBytes(StandardCharsets.ISO_8859_1);
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.socket().setTcpNoDelay(true); // each byte a segment of its own
            for (byte b : request) {
                client.send(new byte[] {b});
            }
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.text()).isEqualTo(hashed("ab"));
        }
    }

    /**
     * Params past one FastCGI record (65535 bytes) reach the script: php-fpm decodes each PARAMS record on its own, so
     * a pair cut across two records was garbage to it, and it reset the connection (a 502).
     */
    @Test
    void aQueryStringPastOneFastCgiRecordReachesPhp() throws Exception {
        // QUERY_STRING and REQUEST_URI carry it both: 80000 bytes of params, each pair within a record
        String query = "q=" + "a".repeat(40_000);
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /echo.php?" + query + " HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.text()).contains("\nquery=" + query + "\n");
        }
    }

    /**
     * A pair no FastCGI record holds (a field or a URI over 64 KiB, past what these limits let in) is the request's
     * fault, answered before php-fpm, which would reset the connection: a 502 that counted against its health.
     */
    @Test
    void aFieldOrAUriNoFastCgiRecordHoldsIsRefusedBeforePhp() throws Exception {
        // a REQUEST_URI of 65520 bytes: a request line within the 64 KiB limit, a pair one byte over a record
        String[] requests = {
                "GET /echo.php HTTP/1.1\r\nHost: a\r\nCookie: c=" + "c".repeat(70_000) + "\r\n\r\n",
                "GET /echo.php?q=" + "q".repeat(65_508) + " HTTP/1.1\r\nHost: a\r\n\r\n"};
        int[] statuses = {431, 414};
        for (int i = 0; i < requests.length; i++) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                assertThat(client.send(requests[i]).read().status()).isEqualTo(statuses[i]);
            }
        }
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            assertThat(client.send("GET /echo.php HTTP/1.1\r\nHost: a\r\n\r\n").read().status()).isEqualTo(200);
        }
    }
}
