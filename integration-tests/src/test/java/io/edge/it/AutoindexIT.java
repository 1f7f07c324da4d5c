package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A location's {@code autoindex}, nginx's: a directory with no index file answered with what it holds, on a real edge
 * with real files and sockets.
 */
class AutoindexIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();
    /** 2024-02-29 13:05:09 UTC. */
    private static final long LEAP_DAY = 1_709_211_909_000L;

    @TempDir
    Path dir;

    @Test
    void aDirectoryWithoutAnIndexIsListedWhereAutoindexIsOn() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        Path pub = Files.createDirectories(www.resolve("pub"));
        Files.createDirectories(pub.resolve("2024"));
        Files.write(pub.resolve("photo.jpg"), new byte[7307]);
        Files.writeString(pub.resolve("caf\u00e9 & co.txt"), "x".repeat(300));
        Files.writeString(pub.resolve(".htaccess"), "deny from all");
        Files.setLastModifiedTime(pub.resolve("photo.jpg"), FileTime.fromMillis(LEAP_DAY));
        Files.createDirectories(www.resolve("pub/site"));
        Files.writeString(www.resolve("pub/site/index.html"), "the index");
        Files.createDirectories(www.resolve("closed"));
        Files.writeString(www.resolve("closed/a.txt"), "a");
        Files.createSymbolicLink(pub.resolve("passwd"), Path.of("/etc/passwd"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/pub/", autoindex.enabled = true, expires = 1 h, gzip { enabled = true } }
                ] }]
                """)) {
            HttpResponse<byte[]> listed = get(edge, "/pub/?sort=name");
            assertThat(listed.statusCode()).isEqualTo(200);
            assertThat(listed.headers().firstValue("content-type")).contains("text/html; charset=utf-8");
            assertThat(listed.headers().firstValue("cache-control")).as("the location's expires")
                    .contains("max-age=3600");
            String page = new String(listed.body(), StandardCharsets.UTF_8);
            assertThat(page).startsWith("<html>\r\n<head><title>Index of /pub/</title></head>")
                    .contains("<pre><a href=\"../\">../</a>\r\n<a href=\"2024/\">2024/</a> ")
                    .contains("<a href=\"photo.jpg\">photo.jpg</a>" + " ".repeat(41) + " 29-Feb-2024 13:05"
                            + " ".repeat(16) + "7307\r\n")
                    .contains("<a href=\"caf%C3%A9%20%26%20co.txt\">caf\u00e9 &amp; co.txt</a>")
                    .endsWith("</pre><hr></body>\r\n</html>\r\n")
                    .doesNotContain(".htaccess").as("a link out of the root").doesNotContain("passwd");
            assertThat(page.indexOf("site/")).as("directories first").isLessThan(page.indexOf("caf"));
            assertThat(listed.headers().firstValue("content-length")).contains(Integer.toString(listed.body().length));

            HttpResponse<byte[]> head = send(edge, HttpRequest.newBuilder(edge.uri("/pub/"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.headers().firstValue("content-length")).contains(Integer.toString(listed.body().length));
            assertThat(head.body()).isEmpty();

            HttpResponse<byte[]> gzipped = send(edge, HttpRequest.newBuilder(edge.uri("/pub/"))
                    .header("Accept-Encoding", "gzip"));
            assertThat(gzipped.headers().firstValue("content-encoding")).as("the location's gzip").contains("gzip");
            assertThat(gunzip(gzipped.body())).isEqualTo(listed.body());

            assertThat(new String(get(edge, "/pub/site/").body(), StandardCharsets.UTF_8)).as("an index wins")
                    .isEqualTo("the index");
            HttpResponse<byte[]> slashless = get(edge, "/pub/2024");
            assertThat(slashless.statusCode()).as("a directory named without its slash").isEqualTo(301);
            assertThat(slashless.headers().firstValue("location")).contains(edge.uri("/pub/2024/").toString());
            assertThat(new String(get(edge, "/pub/2024/").body(), StandardCharsets.UTF_8))
                    .as("an empty directory: its parent only").contains("<pre><a href=\"../\">../</a>\r\n</pre>");
            assertThat(get(edge, "/closed/").statusCode()).as("autoindex off: nginx's 403").isEqualTo(403);
            assertThat(get(edge, "/pub/nothing/").statusCode()).isEqualTo(404);
            assertThat(send(edge, HttpRequest.newBuilder(edge.uri("/pub/"))
                    .PUT(HttpRequest.BodyPublishers.ofString("x"))).statusCode()).isEqualTo(405);
            assertThat(send(edge, HttpRequest.newBuilder(edge.uri("/pub/"))
                    .POST(HttpRequest.BodyPublishers.ofString("x"))).statusCode())
                    .as("a POST to a directory: no listing, as nginx's").isEqualTo(403);
        }
    }

    @Test
    void anAliasDirectoryIsListedInJsonUnderItsRequestPath() throws Exception {
        Files.createDirectories(dir.resolve("www"));
        Path files = Files.createDirectories(dir.resolve("srv/files"));
        Files.writeString(files.resolve("b.txt"), "twelve bytes");
        Files.setLastModifiedTime(files.resolve("b.txt"), FileTime.fromMillis(LEAP_DAY));
        Files.createDirectories(files.resolve("a"));
        Files.setLastModifiedTime(files.resolve("a"), FileTime.fromMillis(LEAP_DAY));
        Files.createSymbolicLink(files.resolve("c.txt"), files.resolve("b.txt"));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", symlinks = deny, locations = [
                  { match = "/" }
                  { match = "/files/", alias = "srv/files/", autoindex { enabled = true, format = json } }
                ] }]
                """)) {
            HttpResponse<byte[]> listed = get(edge, "/files/");
            assertThat(listed.statusCode()).isEqualTo(200);
            assertThat(listed.headers().firstValue("content-type")).contains("application/json");
            assertThat(new String(listed.body(), StandardCharsets.UTF_8)).as("no link where the site denies them")
                    .isEqualTo("[\r\n"
                            + "{ \"name\":\"a\", \"type\":\"directory\", \"mtime\":\"Thu, 29 Feb 2024 13:05:09 GMT\" },\r\n"
                            + "{ \"name\":\"b.txt\", \"type\":\"file\", \"mtime\":\"Thu, 29 Feb 2024 13:05:09 GMT\","
                            + " \"size\":12 }\r\n]");
            assertThat(new String(get(edge, "/files/a/").body(), StandardCharsets.UTF_8)).isEqualTo("[\r\n]");
        }
    }

    /**
     * nginx's {@code autoindex_format jsonp}: the JSON list as a call of the request's callback, as
     * application/javascript; without one the JSON list; a callback a page could not call safely is 400.
     */
    @Test
    void aJsonpListCallsTheRequestsCallback() throws Exception {
        Path pub = Files.createDirectories(dir.resolve("www/pub"));
        Files.writeString(pub.resolve("b.txt"), "twelve bytes");
        Files.setLastModifiedTime(pub.resolve("b.txt"), FileTime.fromMillis(LEAP_DAY));
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/pub/", autoindex { enabled = true, format = jsonp } }
                ] }]
                """)) {
            String list = "[\r\n{ \"name\":\"b.txt\", \"type\":\"file\", \"mtime\":\"Thu, 29 Feb 2024 13:05:09 GMT\","
                    + " \"size\":12 }\r\n]";
            HttpResponse<byte[]> called = get(edge, "/pub/?x=1&Callback=jQuery_1.cb&callback=other");
            assertThat(called.statusCode()).isEqualTo(200);
            assertThat(called.headers().firstValue("content-type")).contains("application/javascript");
            assertThat(new String(called.body(), StandardCharsets.UTF_8)).as("nginx's bytes, its first callback")
                    .isEqualTo("/* callback */\r\njQuery_1.cb(" + list + ");");
            for (String plain : new String[] {"/pub/", "/pub/?callback="}) {
                HttpResponse<byte[]> json = get(edge, plain);
                assertThat(json.headers().firstValue("content-type")).as(plain).contains("application/json");
                assertThat(new String(json.body(), StandardCharsets.UTF_8)).as(plain).isEqualTo(list);
            }
            for (String refused : new String[] {"/pub/?callback=alert(1)//", "/pub/?callback=%41",
                    "/pub/?callback=" + "a".repeat(129)}) {
                HttpResponse<byte[]> bad = get(edge, refused);
                assertThat(bad.statusCode()).as(refused).isEqualTo(400);
                assertThat(new String(bad.body(), StandardCharsets.UTF_8)).as(refused).doesNotContain("alert");
            }
            assertThat(get(edge, "/pub/?callback=" + "a".repeat(128)).statusCode()).isEqualTo(200);
        }
    }

    /**
     * A listing has no validators, and its preconditions are judged as RFC 9110 13.2.1 has a 200's (nginx's judge
     * them too, but for the dates): If-Match holds for "*" only (else 412), If-None-Match: * is a 304 to a GET or
     * HEAD, with the Vary its 200 has; the dates are ignored (13.1.3, 13.1.4).
     */
    @Test
    void aListingsPreconditionsAreJudgedAsAnyAnswersAre() throws Exception {
        Path pub = Files.createDirectories(dir.resolve("www/pub"));
        Files.writeString(pub.resolve("b.txt"), "twelve bytes");
        try (EdgeHarness edge = EdgeHarness.start(dir, """
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/" }
                  { match = "/pub/", autoindex.enabled = true, gzip { enabled = true, min-length = 20 } }
                ] }]
                """)) {
            HttpResponse<byte[]> failed = send(edge, HttpRequest.newBuilder(edge.uri("/pub/")).header("If-Match", "\"x\""));
            assertThat(failed.statusCode()).isEqualTo(412);
            HttpResponse<byte[]> any = send(edge, HttpRequest.newBuilder(edge.uri("/pub/")).header("If-Match", "*"));
            assertThat(any.statusCode()).isEqualTo(200);
            assertThat(new String(any.body(), StandardCharsets.UTF_8)).contains("b.txt");
            HttpResponse<byte[]> held = send(edge, HttpRequest.newBuilder(edge.uri("/pub/"))
                    .header("If-None-Match", "*").header("Accept-Encoding", "gzip"));
            assertThat(held.statusCode()).isEqualTo(304);
            assertThat(held.body()).isEmpty();
            assertThat(held.headers().firstValue("vary")).as("as its 200's").contains("Accept-Encoding");
            HttpResponse<byte[]> other = send(edge, HttpRequest.newBuilder(edge.uri("/pub/"))
                    .header("If-None-Match", "\"x\"").header("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")
                    .header("If-Modified-Since", "Thu, 01 Jan 2099 00:00:00 GMT"));
            assertThat(other.statusCode()).as("no tag matched, no date to judge").isEqualTo(200);
        }
    }

    private static HttpResponse<byte[]> get(EdgeHarness edge, String target) throws Exception {
        return send(edge, HttpRequest.newBuilder(edge.uri(target)));
    }

    private static HttpResponse<byte[]> send(EdgeHarness edge, HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] gunzip(byte[] gzipped) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            return in.readAllBytes();
        }
    }
}
