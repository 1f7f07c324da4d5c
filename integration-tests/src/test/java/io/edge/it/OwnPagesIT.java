package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.RawHttpClient;
import io.edge.core.http.ServerField;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * edge's own pages and the answers it makes itself, against nginx 1.22.1's (read from its source:
 * ngx_http_special_response.c, ngx_http_send_error_page, the gzip and sub filters): signed as server_tokens says, a
 * site's page for a path no location takes filtered by its own location, a return's text compressed.
 */
class OwnPagesIT {

    private static final String PAGE = "<html><body>Sorry NAME, nothing here</body></html>\n";
    private static final String TEXT = "a text long enough for the gzip min-length, said by a return and nothing else\n";

    @TempDir
    static Path dir;

    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Files.createDirectories(www.resolve("errors"));
        Files.createDirectories(www.resolve("files/sub"));
        Files.writeString(www.resolve("files/ranged.txt"), TEXT);
        Files.writeString(www.resolve("errors/404.html"), PAGE);
        Files.createDirectories(www.resolve("gone"));
        Files.createSymbolicLink(www.resolve("gone/found.html"), Path.of("nowhere.html")); // a link to nothing
        Files.createSymbolicLink(www.resolve("gone/500.html"), Path.of("nowhere.html"));
        edge = EdgeHarness.start(dir, """
                location-defaults.gzip { enabled = true, min-length = 20 }
                sites = [
                  { server-names = ["plain"], default = true, root = "www", locations = [
                    { match = "/files/" }, { match = "= /r", return = "200 '%s'" } ] }
                  { server-names = ["paged"], root = "www", error-pages { 404 = "/errors/404.html" }, locations = [
                    { match = "/files/" }
                    { match = "/errors/", sub-filter.replace = [{ match = "NAME", with = "$host" }] } ] }
                  { server-names = ["moved"], root = "www", error-pages { 301 = "/gone/moved.html"
                      302 = "/gone/found.html", 503 = "/gone/busy.html", 500 = "/gone/500.html"
                      416 = "/gone/416.html", 429 = "/gone/429.html", 405 = "/gone/405.html" }, locations = [
                    { match = "= /old", return = "301 /new" }, { match = "/files/" }
                    { match = "= /found", return = "302 /new" }, { match = "= /busy", return = 503 }
                    { match = "= /broken", return = 500 }
                    { match = "^~ /limited/", limit-req { rate = "1 r/m", burst = 0 } }
                    { match = "/gone/", headers { X-Not = "a 404's" }, always-headers { X-Gone = "yes" } } ] }
                ]
                """.formatted(TEXT.replace("\n", "\\n")));
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    private static RawHttpClient.Response get(String host, String target, String... fields) throws IOException {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            return client.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + String.join("", fields)
                    + "Connection: close\r\n\r\n").read();
        }
    }

    private static String gunzip(byte[] body) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** nginx's own pages end {@code <hr><center>nginx/1.22.1</center>}; edge's say its version so too. */
    @Test
    void edgesOwnPageIsSignedWithItsVersion() throws Exception {
        RawHttpClient.Response missing = get("plain", "/files/missing.txt");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.text()).endsWith("<hr><p>edge/" + ServerField.VERSION + "</p></body></html>\n");
        RawHttpClient.Response unrouted = get("plain", "/nowhere");
        assertThat(unrouted.status()).isEqualTo(404);
        assertThat(unrouted.text()).contains("<hr><p>edge/" + ServerField.VERSION + "</p>");
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            // unreadable: answered outside any exchange
            RawHttpClient.Response bad = client.send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                    + "Content-Length: 2\r\n\r\nab").read();
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.text()).contains("<hr><p>edge/" + ServerField.VERSION + "</p>");
        }
    }

    /**
     * nginx's error_page is an internal redirect to the page's URI, answered by the location that URI finds, its
     * sub_filter included, also for a request whose own path no location took.
     */
    @Test
    void aSitesPageForAPathNoLocationTakesGoesThroughItsLocationsSubFilter() throws Exception {
        RawHttpClient.Response routed = get("paged", "/files/missing.txt");
        assertThat(routed.status()).isEqualTo(404);
        assertThat(routed.text()).isEqualTo(PAGE.replace("NAME", "paged"));
        RawHttpClient.Response unrouted = get("paged", "/nowhere");
        assertThat(unrouted.status()).isEqualTo(404);
        assertThat(unrouted.text()).isEqualTo(PAGE.replace("NAME", "paged"));
    }

    /**
     * error_page 301 /gone/moved.html whose file is not there: nginx -t says nothing, and the redirect's internal
     * redirect to the page finds no file: nginx answers its own 404 page (recursive_error_pages off: not paged again),
     * the Location its return set still sent (ngx_http_send_error_page, the static module's 404, the header filter),
     * the page's location's add_header ... always with it (its add_header without always takes no 404). A
     * directory's 301 to its slash the same.
     */
    @Test
    void aRedirectsMissingPageIsNginxs404KeepingTheLocation() throws Exception {
        RawHttpClient.Response moved = get("moved", "/old");
        assertThat(moved.status()).isEqualTo(404);
        assertThat(moved.header("location")).isEqualTo("http://moved:" + edge.address().getPort() + "/new");
        assertThat(moved.header("x-gone")).isEqualTo("yes");
        assertThat(moved.header("x-not")).isNull();
        assertThat(moved.header("content-type")).startsWith("text/html");
        assertThat(moved.text()).startsWith("<html><head><title>404 Not Found</title>")
                .contains("<hr><p>edge/" + ServerField.VERSION + "</p>");
        RawHttpClient.Response directory = get("moved", "/files/sub");
        assertThat(directory.status()).isEqualTo(404);
        assertThat(directory.header("location")).endsWith("/files/sub/");
    }

    /**
     * edge's own 404 for a path no location takes goes through location-defaults' gzip, as nginx 1.22's special response
     * goes through the server-level gzip (side by side: gzip on in a server whose one location does not take the path,
     * Accept-Encoding: gzip, a 404 with Content-Encoding: gzip).
     */
    @Test
    void edgesOwn404ForAPathNoLocationTakesIsCompressedByLocationDefaults() throws Exception {
        RawHttpClient.Response unrouted = get("plain", "/nowhere", "Accept-Encoding: gzip\r\n");
        assertThat(unrouted.status()).isEqualTo(404);
        assertThat(unrouted.header("content-encoding")).isEqualTo("gzip");
        assertThat(unrouted.header("vary")).isEqualTo("Accept-Encoding");
        assertThat(gunzip(unrouted.body())).startsWith("<html><head><title>404 Not Found</title>");
        RawHttpClient.Response plain = get("plain", "/nowhere");
        assertThat(plain.header("content-encoding")).isNull();
        assertThat(plain.text()).startsWith("<html><head><title>404 Not Found</title>");
    }

    /**
     * An error's page whose file is not there, or is a link to nothing, is no problem at load (nginx -t looks for no
     * error_page file) and answers as nginx 1.22 does (side by side: error_page 503 /errors/503.html, no such file,
     * return 503): its error_page redirect finds nothing, and its own 404 goes, not paged again, without the 503's
     * Retry-After, with the page's location's add_header ... always; after a 500 the connection is closed all the same,
     * after a 503 it goes on. A redirect's page that is a link to nothing answers as a missing one.
     */
    @Test
    void anErrorsMissingPageIsNginxs404() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            client.send("GET /busy HTTP/1.1\r\nHost: moved\r\n\r\nGET /broken HTTP/1.1\r\nHost: moved\r\n\r\n");
            RawHttpClient.Response busy = client.read();
            assertThat(busy.status()).isEqualTo(404);
            assertThat(busy.header("retry-after")).isNull();
            assertThat(busy.header("x-gone")).isEqualTo("yes");
            assertThat(busy.header("connection")).isNull();
            assertThat(busy.text()).startsWith("<html><head><title>404 Not Found</title>");
            RawHttpClient.Response broken = client.read();
            assertThat(broken.status()).isEqualTo(404);
            assertThat(broken.header("x-gone")).isEqualTo("yes");
            assertThat(broken.header("connection")).isEqualTo("close");
            assertThat(broken.text()).startsWith("<html><head><title>404 Not Found</title>");
            assertThat(client.isClosedByPeer()).isTrue();
        }
        RawHttpClient.Response found = get("moved", "/found");
        assertThat(found.status()).isEqualTo(404);
        assertThat(found.header("location")).isEqualTo("http://moved:" + edge.address().getPort() + "/new");
        assertThat(found.text()).startsWith("<html><head><title>404 Not Found</title>");
    }

    /**
     * nginx 1.22.1 side by side (error_page 416 and 429 to missing files; a Range past a file's end, a second request
     * over limit_req's rate with limit_req_status 429): its 404 keeps the 416's Content-Range but has no ETag, and the
     * limit's 404 no Retry-After (nginx sends none there at all). edge's refusal adds one to its 429: not to the 404.
     */
    @Test
    void anErrorsMissingPage404HasNoRetryAfterNorTheFilesETag() throws Exception {
        RawHttpClient.Response ranged = get("moved", "/files/ranged.txt", "Range: bytes=99999-\r\n");
        assertThat(ranged.status()).isEqualTo(404);
        assertThat(ranged.header("content-range")).isEqualTo("bytes */" + TEXT.length());
        assertThat(ranged.header("etag")).isNull();
        assertThat(ranged.text()).startsWith("<html><head><title>404 Not Found</title>");
        get("moved", "/limited/x");
        RawHttpClient.Response limited = get("moved", "/limited/x");
        assertThat(limited.status()).isEqualTo(404);
        assertThat(limited.header("retry-after")).isNull();
        assertThat(limited.header("x-gone")).isEqualTo("yes");
        assertThat(limited.text()).startsWith("<html><head><title>404 Not Found</title>");
    }

    /**
     * nginx 1.22.1 side by side (error_page 405 to a missing file, a POST to a static file): 404 without Allow, as its
     * 405 has none. edge's 405 says Allow: not its 404 there, which refuses no method.
     */
    @Test
    void aMissingPagesAnswerToAPostToAFileHasNoAllow() throws Exception {
        try (RawHttpClient client = new RawHttpClient(edge.address())) {
            RawHttpClient.Response posted = client.send("POST /files/ranged.txt HTTP/1.1\r\nHost: moved\r\n"
                    + "Content-Length: 2\r\nConnection: close\r\n\r\nab").read();
            assertThat(posted.status()).isEqualTo(404);
            assertThat(posted.header("allow")).isNull();
            assertThat(posted.text()).startsWith("<html><head><title>404 Not Found</title>");
        }
    }

    /**
     * nginx's return with a text goes through its gzip filter (ngx_http_send_response sends it as any answer), compressed
     * where gzip_types has its type and it is over gzip_min_length.
     */
    @Test
    void aReturnsTextIsCompressed() throws Exception {
        RawHttpClient.Response plain = get("plain", "/r");
        assertThat(plain.text()).isEqualTo(TEXT);
        assertThat(plain.header("content-encoding")).isNull();
        RawHttpClient.Response zipped = get("plain", "/r", "Accept-Encoding: gzip\r\n");
        assertThat(zipped.status()).isEqualTo(200);
        assertThat(zipped.header("content-encoding")).isEqualTo("gzip");
        assertThat(zipped.header("vary")).isEqualTo("Accept-Encoding");
        assertThat(gunzip(zipped.body())).isEqualTo(TEXT);
    }
}
