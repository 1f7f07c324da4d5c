package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's body-limit (nginx's client_max_body_size in a location) in front of a real php-fpm: an upload location
 * takes more than the server's limit allows elsewhere, another less; each beyond its own gets 413 and a close. A
 * limit of 0 is none, as nginx's client_max_body_size 0.
 */
class BodyLimitIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path www = PhpScripts.install(Files.createDirectories(dir.resolve("www")));
        for (String sub : new String[] {"upload", "small", "open", "hidden"}) {
            Files.createDirectories(www.resolve(sub));
            Files.copy(www.resolve("hash.php"), www.resolve(sub + "/hash.php"));
        }
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2\n");
        edge = EdgeHarness.start(dir, """
                server.limits.body = 1 MiB
                sites = [{
                  server-names = ["_"], default = true, root = "www"
                  locations = [
                    { match = "/", fastcgi = php }
                    { match = "/upload/", fastcgi = php, body-limit = 4 MiB }
                    { match = "/small/", fastcgi = php, body-limit = 1 KiB }
                    { match = "/open/", fastcgi = php, body-limit = 0 }
                    # an upload form's pretty URL: MediaWiki's /wiki/Special:Upload, DokuWiki's /start?do=media
                    { match = "~ ^/pretty/small$", rewrite = "/small/hash.php" }
                    { match = "/tosmall/", front-controller = "/small/hash.php" }
                    # a PHP location's front controller that another PHP location's path names: run here, as there
                    { match = "/phpfront/", fastcgi = php, front-controller = "/small/hash.php" }
                    # its front controller hidden by a location of files, as reference.conf shows: run as its own
                    { match = "/bigfront/", fastcgi = php, front-controller = "/hidden/hash.php", body-limit = 4 MiB }
                    { match = "^~ /hidden/", internal = true }
                  ]
                }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    private static HttpResponse<String> post(String path, byte[] body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(edge.uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String sha256(byte[] body) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    }

    /**
     * An upload location takes more than the server's limit, also through a front controller that an {@code internal}
     * location of files hides: it runs as its PHP location's, held to that one's limit, not to the files location's (the
     * server's; that location runs no script).
     */
    @Test
    void anUploadLocationTakesMoreThanTheServersLimitAndOthersDoNot() throws Exception {
        byte[] body = new byte[2 << 20];
        new Random(5).nextBytes(body);
        for (String path : new String[] {"/upload/hash.php", "/bigfront/upload"}) {
            HttpResponse<String> upload = post(path, body);
            assertThat(upload.statusCode()).as(path).isEqualTo(200);
            assertThat(upload.body()).isEqualTo(body.length + " " + sha256(body));
        }
        assertThat(post("/hash.php", body).statusCode()).as("the server's 1 MiB").isEqualTo(413);
        assertThat(post("/upload/hash.php", new byte[5 << 20]).statusCode()).as("over the location's 4 MiB")
                .isEqualTo(413);
    }

    @Test
    void zeroIsNoLimitAsNginxsClientMaxBodySize0() throws Exception {
        byte[] body = new byte[3 << 20];
        new Random(7).nextBytes(body);
        HttpResponse<String> open = post("/open/hash.php", body);
        assertThat(open.statusCode()).as("past the server's 1 MiB").isEqualTo(200);
        assertThat(open.body()).isEqualTo(body.length + " " + sha256(body));
        try (RawHttpClient client = sendChunked("/open/hash.php", 1 << 20 | 1)) {
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.text()).startsWith((1 << 20 | 1) + " ");
        }
    }

    @Test
    void aLocationCanTakeLessAlsoChunked() throws Exception {
        assertThat(post("/small/hash.php", new byte[1024]).statusCode()).isEqualTo(200);
        assertThat(post("/small/hash.php", new byte[1025]).statusCode()).isEqualTo(413);
        try (RawHttpClient client = sendChunked("/small/hash.php", 1500)) {
            assertThat(client.read().status()).isEqualTo(413);
            assertThat(client.isClosedByPeer()).isTrue();
        }
        try (RawHttpClient client = sendChunked("/small/hash.php", 1000)) {
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.text()).startsWith("1000 ");
        }
    }

    /**
     * The size line of a chunk the location's limit cannot take is refused with 413 before a byte of that chunk comes,
     * as nginx refuses it; with /open/ taking any body, the largest limit of all locations is none, so only the limit
     * of the location the request goes to can refuse it.
     */
    @Test
    void aChunkSizeOverItsLocationsLimitIsRefusedBeforeItsData() throws Exception {
        for (String sized : new String[] {"/small/hash.php 401", "/hash.php 100001"}) {
            String[] pathAndSize = sized.split(" ");
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send("POST " + pathAndSize[0] + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + pathAndSize[1] + "\r\n");
                assertThat(client.read().status()).as(sized).isEqualTo(413);
                assertThat(client.isClosedByPeer()).isTrue();
            }
        }
    }

    /**
     * A chunked request pipelined behind another is read, body and all, while it waits, and is routed only when it
     * starts: its body is held to its own location's limit then, as nginx holds it, not to the largest any location
     * takes, by which it was read; so is a chunk size it declared while it waited, before the chunk comes.
     */
    @Test
    void aPipelinedChunkedBodyIsHeldToItsLocationsLimit() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /hash.php HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /small/hash.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + ("1f4\r\n" + "a".repeat(500) + "\r\n").repeat(3) + "0\r\n\r\n");
            assertThat(client.read().status()).isEqualTo(200);
            assertThat(client.read().status()).as("1500 bytes for 1 KiB").isEqualTo(413);
            assertThat(client.isClosedByPeer()).isTrue();
        }
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /hash.php HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /small/hash.php HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n");
            assertThat(client.read().status()).isEqualTo(200);
            assertThat(client.read().status()).as("a chunk of 1025 bytes for 1 KiB, none of it sent").isEqualTo(413);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    /**
     * A request that reaches its script through a rewrite or a front controller (an upload form's pretty URL) is held
     * to the limit of the location it lands in before its body is read, as nginx checks client_max_body_size at each
     * location it finds: one declared over it gets 413 at once, without 100 Continue. The client was asked for its
     * body, and sent the limit's worth of it before the 413.
     */
    @Test
    void aBodyDeclaredOverTheLimitWhereARewriteLandsIsRefusedBeforeItIsSent() throws Exception {
        for (String path : new String[] {"/pretty/small", "/tosmall/form", "/phpfront/form"}) {
            try (RawHttpClient client = new RawHttpClient(edge.address())) {
                client.send("POST " + path + " HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                        + "Content-Length: 2000\r\n\r\n");
                assertThat(client.read().status()).as(path + ": 2000 bytes for 1 KiB").isEqualTo(413);
                assertThat(client.isClosedByPeer()).isTrue();
            }
            byte[] body = new byte[1000];
            new Random(3).nextBytes(body);
            HttpResponse<String> within = post(path, body);
            assertThat(within.statusCode()).as(path).isEqualTo(200);
            assertThat(within.body()).isEqualTo(body.length + " " + sha256(body));
        }
    }

    /**
     * A chunked body is held to the limit of the location a front controller sends its request to, as nginx's internal
     * redirect holds it: a location of files' front controller (the request routed again), and a PHP location's whose
     * URI another PHP location takes (the script run where the request came in). In the latter the bytes, which come
     * while the script is looked for, were held to the limit where the request came in (the server's here): the
     * script ran with 1500 bytes for 1 KiB.
     */
    @Test
    void aChunkedBodyIsHeldToTheLimitWhereAFrontControllerLandsAlsoWhereItCameFirst() throws Exception {
        for (String path : new String[] {"/tosmall/form", "/phpfront/form"}) {
            try (RawHttpClient client = sendChunked(path, 1500)) {
                assertThat(client.read().status()).as(path + ": 1500 bytes for 1 KiB").isEqualTo(413);
                assertThat(client.isClosedByPeer()).isTrue();
            }
            try (RawHttpClient client = sendChunked(path, 1000)) {
                RawHttpClient.Response response = client.read();
                assertThat(response.status()).as(path).isEqualTo(200);
                assertThat(response.text()).startsWith("1000 ");
            }
        }
    }

    /**
     * An upload in chunks of one byte, sent in one write, reaches PHP whole and in order (the small chunks of one read
     * are handed on as one piece: {@code StrictHttpServerCodec}), and is held to the location's limit to the byte, as
     * nginx's client_max_body_size holds it: 1024 such chunks for 1 KiB are taken, 1025 refused.
     */
    @Test
    void anUploadInOneByteChunksReachesPhpWholeAndIsHeldToTheLimitToTheByte() throws Exception {
        byte[] body = new byte[10_000];
        new Random(11).nextBytes(body);
        try (RawHttpClient client = sendOneByteChunks("/upload/hash.php", body)) {
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.text()).isEqualTo(body.length + " " + sha256(body));
        }
        try (RawHttpClient client = sendOneByteChunks("/small/hash.php", new byte[1024])) {
            RawHttpClient.Response response = client.read();
            assertThat(response.status()).as("1024 bytes for 1 KiB").isEqualTo(200);
            assertThat(response.text()).isEqualTo("1024 " + sha256(new byte[1024]));
        }
        try (RawHttpClient client = sendOneByteChunks("/small/hash.php", new byte[1025])) {
            assertThat(client.read().status()).as("1025 bytes for 1 KiB").isEqualTo(413);
            assertThat(client.isClosedByPeer()).isTrue();
        }
    }

    /** A client that sent a POST to {@code path} with {@code body} in chunks of one byte, all in one write. */
    private static RawHttpClient sendOneByteChunks(String path, byte[] body) throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(("POST " + path + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        for (byte b : body) {
            wire.writeBytes(new byte[] {'1', '\r', '\n', b, '\r', '\n'});
        }
        wire.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        RawHttpClient client = new RawHttpClient(edge.address());
        client.send(wire.toByteArray());
        return client;
    }

    /** A client that sent a POST to {@code path} with a chunked body of {@code size} bytes in one chunk. */
    private static RawHttpClient sendChunked(String path, int size) throws Exception {
        RawHttpClient client = new RawHttpClient(edge.address());
        String chunk = "a".repeat(size);
        client.send(("POST " + path + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(size) + "\r\n" + chunk + "\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return client;
    }
}
