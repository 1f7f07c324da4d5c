package io.edge.it;

import static io.edge.it.Awaits.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import io.edge.core.http.CapturedLog;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nginx's X-Accel-Redirect from a {@code proxy_pass} backend (the protected download: the application says who may
 * have the file, the web server sends it from an internal location): a real edge in front of the JDK's HTTP server,
 * real files, a real client. As nginx 1.22, side by side: the backend's body is dropped (its connection kept where the
 * answer had none, else closed), the request goes to the URI as a GET (a HEAD stays one) with the URI's query alone,
 * and keeps the backend's Content-Type, Content-Disposition, Set-Cookie, Cache-Control, Expires and Accept-Ranges,
 * not its other fields; the response cache stores no such answer.
 */
class ProxyAccelRedirectIT {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String FILE = "secret-pdf\n";

    @TempDir
    Path dir;

    private JdkBackend backend;
    private EdgeHarness edge;
    /** Each request the backend had: its method, path and the client port of its connection. */
    private final List<String> seen = new CopyOnWriteArrayList<>();
    /** The body of each request the backend had, in order ("" for none). */
    private final List<String> bodies = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = JdkBackend.start(this::answer);
        Files.createDirectories(dir.resolve("www/protected"));
        Files.writeString(dir.resolve("www/protected/a.pdf"), FILE);
        edge = EdgeHarness.start(dir, """
                server { access-log = "-", access-log-format = "$request|$request_method|$uri|$args|$status" }
                sites = [{ server-names = ["_"], default = true, root = "www", locations = [
                  { match = "/api/", proxy = api }
                  { match = "/cached/", proxy = api, cache = true, headers { X-Cache = "$upstream_cache_status" } }
                  { match = "/protected/", internal = true,
                    headers { X-Method = "$request_method", X-Args = "$args", X-Uri = "$uri" } }
                  { match = "/zipped/", internal = true, gzip.enabled = true }
                  { match = "@back", proxy = api, headers { X-Named = "$uri" } }
                ] }]
                proxy.backends.api { addresses = ["%s"] }
                """.formatted(backend.address()));
    }

    @AfterEach
    void stop() {
        EdgeHarness.close(edge, backend);
    }

    /**
     * {@code .../<name>} answered with {@code X-Accel-Redirect: /protected/<name>} (its query {@code v=1} where the
     * path has "query"; a ".." segment for "unsafe"; {@code /zipped/<rest>} for "zipped-<rest>"; the named location
     * {@code @<rest>} for "at-<rest>", which sends such a request back here, answered "named" the second time), the
     * fields of a download script (its type the query's {@code type} where it has one), and no body, or one where the
     * path has "withbody".
     */
    private void answer(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            bodies.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getQuery();
        boolean again = seen.stream().anyMatch(s -> s.contains(" " + path + " "));
        seen.add(exchange.getRequestMethod() + " " + path + " " + exchange.getRemoteAddress().getPort());
        if (path.contains("/at-") && again) {
            byte[] named = ("named " + exchange.getRequestMethod() + " " + exchange.getRequestURI())
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, named.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(named);
            }
            return;
        }
        if (path.endsWith("/plain") || path.endsWith("/typed")) {
            exchange.getResponseHeaders().add("Set-Cookie", "plain=1");
            if (path.endsWith("/typed")) {
                exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
            }
            byte[] ok = "ok".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, ok.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(ok);
            }
            return;
        }
        String name = path.substring(path.lastIndexOf('/') + 1);
        exchange.getResponseHeaders().add("X-Accel-Redirect", name.equals("unsafe") ? "/protected/%2e%2e/secret.txt"
                : name.equals("toplain") ? "/api/plain" : name.equals("totyped") ? "/api/typed"
                : name.startsWith("zipped-") ? "/zipped/" + name.substring("zipped-".length())
                : name.startsWith("at-") ? "@" + name.substring("at-".length())
                : "/protected/" + name.replace("withbody-", "").replace("query-", "")
                + (path.contains("query") ? "?v=1" : ""));
        exchange.getResponseHeaders().add("Content-Type", query != null && query.startsWith("type=")
                ? query.substring("type=".length()) : "application/pdf");
        exchange.getResponseHeaders().add("Content-Disposition", "attachment; filename=\"report.pdf\"");
        exchange.getResponseHeaders().add("Set-Cookie", "downloaded=1");
        exchange.getResponseHeaders().add("Cache-Control", "max-age=60");
        exchange.getResponseHeaders().add("Vary", "X-Foo");
        exchange.getResponseHeaders().add("Content-Language", "de");
        exchange.getResponseHeaders().add("Accept-Ranges", "none");
        exchange.getResponseHeaders().add("ETag", "\"backend\"");
        exchange.getResponseHeaders().add("X-App", "yes");
        byte[] body = path.contains("withbody") ? "the backend's own body, dropped".getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(200, body.length == 0 || head ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (!head) {
                out.write(body);
            }
        }
    }

    private HttpResponse<String> send(String method, String target, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(target)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@link #send} of a request the backend redirects to the file: its answer, asserted to be the file. */
    private HttpResponse<String> download(String method, String target, String body) throws Exception {
        HttpResponse<String> download = send(method, target, body);
        assertThat(download.statusCode()).as(method + " " + target).isEqualTo(200);
        assertThat(download.body()).as(method + " " + target).isEqualTo(FILE);
        return download;
    }

    @Test
    void aProtectedDownloadComesFromTheInternalLocationWithTheFieldsNginxKeeps() throws Exception {
        HttpResponse<String> download = download("GET", "/api/download/a.pdf?user=7", null);
        // nginx's: the backend's type over the file's, its disposition, cookie and Cache-Control
        assertThat(download.headers().firstValue("Content-Type")).hasValue("application/pdf");
        assertThat(download.headers().firstValue("Content-Disposition")).hasValue("attachment; filename=\"report.pdf\"");
        assertThat(download.headers().allValues("Set-Cookie")).containsExactly("downloaded=1");
        assertThat(download.headers().allValues("Cache-Control")).containsExactly("max-age=60");
        // and none of its other fields: the file's own ETag, no Vary, no X-App, no X-Accel-Redirect
        assertThat(download.headers().firstValue("ETag")).isPresent().get().isNotEqualTo("\"backend\"");
        assertThat(download.headers().map().keySet()).map(String::toLowerCase)
                .doesNotContain("vary", "content-language", "x-app", "x-accel-redirect");
        // its Accept-Ranges (nginx's too) where the answer has none of its own: a file's is the file's
        assertThat(download.headers().allValues("Accept-Ranges")).containsExactly("bytes");
        // the internal location's answer: its $uri the redirect's, $args none (the client's query is not the URI's:
        // the field, empty, is not sent, as nginx's add_header)
        assertThat(download.headers().firstValue("X-Uri")).hasValue("/protected/a.pdf");
        assertThat(download.headers().firstValue("X-Args")).isEmpty();
        assertThat(download.headers().firstValue("X-Method")).hasValue("GET");
        // which a client's own request does not reach
        assertThat(send("GET", "/protected/a.pdf", null).statusCode()).isEqualTo(404);
    }

    @Test
    void theRedirectsQueryIsTheRedirectedRequestsArguments() throws Exception {
        HttpResponse<String> download = download("GET", "/api/download/query-a.pdf?user=7", null);
        assertThat(download.headers().firstValue("X-Args")).hasValue("v=1");
    }

    /**
     * A Range of the file: a 206 of its bytes with its own Content-Length and Content-Range, one range or several, and
     * without the backend's Accept-Ranges (none), as no 206 of edge's says one; the whole 200 has the file's own alone.
     * nginx 1.22 sends the backend's on both (measured, a proxied backend's X-Accel-Redirect and a script's alike:
     * "Accept-Ranges: none" on the 206 it sent, and on the 200 before its own "Accept-Ranges: bytes"), which
     * contradicts the 206: edge does not.
     * The 206 said "Accept-Ranges: none".
     */
    @Test
    void aRangeOfTheFileIsA206WithoutTheBackendsAcceptRanges() throws Exception {
        HttpResponse<String> part = CLIENT.send(HttpRequest.newBuilder(edge.uri("/api/download/a.pdf"))
                .header("Range", "bytes=0-5").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo("secret");
        assertThat(part.headers().allValues("Content-Range")).containsExactly("bytes 0-5/" + FILE.length());
        assertThat(part.headers().allValues("Content-Length")).containsExactly("6");
        assertThat(part.headers().allValues("Content-Type")).containsExactly("application/pdf");
        assertThat(part.headers().firstValue("Accept-Ranges")).isEmpty();
        HttpResponse<String> parts = CLIENT.send(HttpRequest.newBuilder(edge.uri("/api/download/a.pdf"))
                .header("Range", "bytes=0-0,2-2").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(parts.statusCode()).isEqualTo(206);
        assertThat(parts.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("multipart/byteranges; boundary="));
        assertThat(parts.headers().firstValue("Accept-Ranges")).isEmpty();
        assertThat(download("GET", "/api/download/a.pdf", null).headers().allValues("Accept-Ranges"))
                .containsExactly("bytes");
    }

    @Test
    void aMissingFileIs404WithTheFieldsNginxKeeps() throws Exception {
        HttpResponse<String> missing = send("GET", "/api/download/none.pdf", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        // nginx's 404 page (text/html), its cookie and disposition carried still
        assertThat(missing.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("text/html"));
        assertThat(missing.headers().allValues("Set-Cookie")).containsExactly("downloaded=1");
        assertThat(missing.headers().firstValue("Content-Disposition")).isPresent();
        // but no Accept-Ranges, which nginx's error page clears
        assertThat(missing.headers().firstValue("Accept-Ranges")).isEmpty();
        assertThat(missing.body()).doesNotContain("the backend's own body");
    }

    @Test
    void anUnsafeUriIs404() throws Exception {
        Files.writeString(dir.resolve("www/secret.txt"), "not for clients");
        HttpResponse<String> unsafe = send("GET", "/api/download/unsafe", null);
        assertThat(unsafe.statusCode()).isEqualTo(404);
        assertThat(unsafe.body()).doesNotContain("not for clients");
    }

    @Test
    void aPostIsRedirectedAsAGetAndLoggedAsSent() throws Exception {
        CapturedLog access = CapturedLog.of("edge.access");
        try {
            HttpResponse<String> download = download("POST", "/api/download/a.pdf", "token=1");
            assertThat(download.headers().firstValue("X-Method")).hasValue("GET");
            assertThat(seen).singleElement().asString().startsWith("POST /api/download/a.pdf ");
            await(() -> !access.lines().isEmpty(), "the access log line");
            // $request as sent, $request_method the redirect's GET, $uri its URI, as nginx's
            assertThat(access.lines()).containsExactly("POST /api/download/a.pdf HTTP/1.1|GET|/protected/a.pdf|-|200");
        } finally {
            access.close();
        }
    }

    /**
     * A POST's body went to the backend that redirected it, read whole: the GET it becomes goes to another proxied
     * location with that body again, as nginx 1.22 sends the body it kept (measured: "a=1" to both); edge first sent
     * it announced and never sent (that backend waited for it to the client's timeout), then none. That answer has the
     * backend's fields nginx carries, Accept-Ranges among them, its Set-Cookie beside the answer's own, its type where
     * the answer has none (it had none of them but the answer's own cookie).
     */
    @Test
    void aPostRedirectedToAProxiedLocationIsAnsweredThere() throws Exception {
        HttpResponse<String> plain = send("POST", "/api/download/toplain", "token=1");
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(plain.body()).isEqualTo("ok");
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).startsWith("POST /api/download/toplain ");
        assertThat(seen.get(1)).startsWith("GET /api/plain ");
        assertThat(bodies).containsExactly("token=1", "token=1");
        // with the fields nginx carries, its Accept-Ranges too (that answer has none), none of the others
        assertThat(plain.headers().allValues("Accept-Ranges")).containsExactly("none");
        // its cookie beside that answer's own, and its type where that answer has none, as nginx's
        assertThat(plain.headers().allValues("Set-Cookie")).containsExactlyInAnyOrder("plain=1", "downloaded=1");
        assertThat(plain.headers().firstValue("Content-Type")).hasValue("application/pdf");
        assertThat(plain.headers().map().keySet()).map(String::toLowerCase)
                .doesNotContain("vary", "content-language", "x-app", "etag");
    }

    /**
     * A backend's answer where the URI leads keeps its own type, as nginx's upstream sets its own over the one it
     * carries (a file's, a return's, or an answer without one, take the redirecting backend's): it had the redirecting
     * backend's application/pdf over its text.
     */
    @Test
    void aProxiedAnswerWhereTheUriLeadsKeepsItsOwnType() throws Exception {
        HttpResponse<String> typed = send("GET", "/api/download/totyped", null);
        assertThat(typed.statusCode()).isEqualTo(200);
        assertThat(typed.body()).isEqualTo("ok");
        assertThat(typed.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
        assertThat(typed.headers().firstValue("Content-Disposition")).hasValue("attachment; filename=\"report.pdf\"");
    }

    /**
     * A file the redirect hands out is compressed by its location's gzip judged by the type the backend's answer
     * carried to it, as nginx's gzip filter judges the type its X-Accel-Redirect kept (nginx 1.22: a file named
     * .bin sent as text/html went compressed, a stylesheet sent as application/pdf as it is). Edge judged by the
     * file's name: the page went as it was. Asked twice: the second may be a content cache hit.
     */
    @Test
    void aRedirectedFileIsCompressedByTheTypeTheBackendGaveIt() throws Exception {
        String page = "<p>a line of the page</p>\n".repeat(200);
        Files.createDirectories(dir.resolve("www/zipped"));
        Files.writeString(dir.resolve("www/zipped/page.bin"), page);
        Files.writeString(dir.resolve("www/zipped/a.css"), "body { color: black }\n".repeat(100));
        for (int i = 0; i < 2; i++) {
            HttpResponse<byte[]> html = gzipGet("/api/download/zipped-page.bin?type=text/html");
            assertThat(html.statusCode()).isEqualTo(200);
            assertThat(html.headers().firstValue("Content-Type")).hasValue("text/html");
            assertThat(html.headers().firstValue("Content-Encoding")).as("request " + i).hasValue("gzip");
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(html.body()))) {
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(page);
            }
        }
        HttpResponse<byte[]> pdf = gzipGet("/api/download/zipped-a.css");
        assertThat(pdf.statusCode()).isEqualTo(200);
        assertThat(pdf.headers().firstValue("Content-Type")).hasValue("application/pdf");
        assertThat(pdf.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(new String(pdf.body(), StandardCharsets.UTF_8)).isEqualTo("body { color: black }\n".repeat(100));
    }

    private HttpResponse<byte[]> gzipGet(String target) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(edge.uri(target)).header("Accept-Encoding", "gzip")
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /**
     * {@code X-Accel-Redirect: @back} hands the request to the named location as nginx 1.22 does: its method, URI
     * and query as they came (a POST stays one, with its body again, as nginx sends the one it kept: edge sent none),
     * the fields nginx keeps carried to the answer there, and 500 for a name the site has not. Edge answered 404.
     */
    @Test
    void aRedirectToANamedLocationIsAnsweredThere() throws Exception {
        for (String method : new String[] {"GET", "POST"}) {
            seen.clear();
            bodies.clear();
            HttpResponse<String> named = send(method, "/api/download/at-back?x=1", method.equals("POST") ? "a=1" : null);
            assertThat(named.statusCode()).as(method).isEqualTo(200);
            assertThat(named.body()).as(method).isEqualTo("named " + method + " /api/download/at-back?x=1");
            assertThat(named.headers().firstValue("Content-Type")).as(method).hasValue("text/plain");
            assertThat(named.headers().firstValue("Content-Disposition")).as(method)
                    .hasValue("attachment; filename=\"report.pdf\"");
            assertThat(named.headers().firstValue("X-Named")).as(method).hasValue("/api/download/at-back");
            assertThat(bodies).as(method).containsExactly(method.equals("POST") ? new String[] {"a=1", "a=1"}
                    : new String[] {"", ""});
        }
        assertThat(send("GET", "/api/download/at-missing", null).statusCode()).isEqualTo(500);
    }

    @Test
    void aHeadGetsTheFilesHeadAsAHead() throws Exception {
        HttpResponse<String> head = send("HEAD", "/api/download/a.pdf", null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("Content-Length")).hasValue(String.valueOf(FILE.length()));
        assertThat(head.headers().firstValue("Content-Disposition")).isPresent();
        assertThat(head.headers().firstValue("X-Method")).hasValue("HEAD");
        assertThat(seen).singleElement().asString().startsWith("HEAD /api/download/a.pdf ");
    }

    /**
     * An answer without a body leaves its connection to the next request, as nginx's keepalive takes it back; one with
     * a body is closed unread, as nginx's (its keepalive takes a connection back only with the answer read whole).
     */
    @Test
    void theConnectionIsKeptWithoutABodyAndClosedWithOne() throws Exception {
        download("GET", "/api/download/a.pdf", null);
        download("GET", "/api/download/a.pdf", null);
        assertThat(send("GET", "/api/plain", null).body()).isEqualTo("ok");
        assertThat(ports()).as("one kept connection: " + seen).hasSize(1);
        download("GET", "/api/download/withbody-a.pdf", null);
        assertThat(send("GET", "/api/plain", null).body()).isEqualTo("ok");
        assertThat(ports()).as("the one with a body closed: " + seen).hasSize(2);
    }

    private List<String> ports() {
        return seen.stream().map(s -> s.substring(s.lastIndexOf(' ') + 1)).distinct().toList();
    }

    /** nginx's proxy_cache stores no X-Accel-Redirect answer (it follows it first): each request asks the backend. */
    @Test
    void theResponseCacheStoresNoRedirect() throws Exception {
        download("GET", "/cached/download/a.pdf", null);
        download("GET", "/cached/download/a.pdf", null);
        assertThat(seen).hasSize(2);
    }
}
