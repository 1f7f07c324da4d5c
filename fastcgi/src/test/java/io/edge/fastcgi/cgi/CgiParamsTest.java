package io.edge.fastcgi.cgi;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.fastcgi.codec.FcgiNameValues;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CgiParamsTest {

    static final Path ROOT = Path.of("/srv/www");

    static CgiRequest request(List<Map.Entry<String, String>> headers) {
        return new CgiRequest("POST", "/a.php/p%C3%A9?x=1", "HTTP/1.1", "/a.php/p\u00e9", "x=1", headers,
                "text/plain", 5, "example.org", 8080, "10.0.0.1", "192.0.2.7", 54321, true);
    }

    static Map<String, String> params(CgiRequest r, CgiOptions o) {
        var script = new ScriptResolver.Script(ROOT, ROOT.resolve("a.php"), "/a.php", "/p\u00e9", r.path(), r.query());
        List<Map.Entry<String, String>> list = CgiParams.build(r, script, o);
        Map<String, String> m = new LinkedHashMap<>();
        list.forEach(e -> assertThat(m.put(e.getKey(), e.getValue())).as("duplicate " + e.getKey()).isNull());
        return m;
    }

    @Test
    void standardVariables() {
        Map<String, String> p = params(request(List.of()), CgiOptions.DEFAULT);
        assertThat(p).containsEntry("SCRIPT_FILENAME", "/srv/www/a.php")
                .containsEntry("SCRIPT_NAME", "/a.php")
                .containsEntry("PATH_INFO", "/p\u00c3\u00a9") // UTF-8 bytes of "é", one char per byte
                .containsEntry("PATH_TRANSLATED", "/srv/www/p\u00c3\u00a9")
                .containsEntry("REQUEST_URI", "/a.php/p%C3%A9?x=1")
                .containsEntry("DOCUMENT_URI", "/a.php/p\u00c3\u00a9")
                .containsEntry("DOCUMENT_ROOT", "/srv/www")
                .containsEntry("QUERY_STRING", "x=1")
                .containsEntry("REQUEST_METHOD", "POST")
                .containsEntry("CONTENT_TYPE", "text/plain")
                .containsEntry("CONTENT_LENGTH", "5")
                .containsEntry("SERVER_PROTOCOL", "HTTP/1.1")
                .containsEntry("SERVER_NAME", "example.org")
                .containsEntry("SERVER_PORT", "8080")
                .containsEntry("SERVER_ADDR", "10.0.0.1")
                .containsEntry("REMOTE_ADDR", "192.0.2.7")
                .containsEntry("REMOTE_PORT", "54321")
                .containsEntry("HTTPS", "on")
                .containsEntry("REQUEST_SCHEME", "https")
                .containsEntry("GATEWAY_INTERFACE", "CGI/1.1")
                .containsEntry("SERVER_SOFTWARE", "edge (nginx-compatible)")
                .containsEntry("REDIRECT_STATUS", "200");
    }

    @Test
    void noBodyNoHttpsNoPathInfo() {
        CgiRequest r = new CgiRequest("GET", "/a.php", "HTTP/1.1", "/a.php", "", List.of(), null, -1,
                "h", 80, "127.0.0.1", "127.0.0.1", 1, false);
        var script = new ScriptResolver.Script(ROOT, ROOT.resolve("a.php"), "/a.php", "", "/a.php", "");
        Map<String, String> p = new LinkedHashMap<>();
        CgiParams.build(r, script, CgiOptions.DEFAULT).forEach(e -> p.put(e.getKey(), e.getValue()));
        assertThat(p).containsEntry("CONTENT_LENGTH", "").containsEntry("CONTENT_TYPE", "")
                .containsEntry("PATH_INFO", "").containsEntry("REQUEST_SCHEME", "http")
                .doesNotContainKeys("HTTPS", "PATH_TRANSLATED");
    }

    /** real-ip's address without a port (X-Forwarded-For: 1.2.3.4): REMOTE_PORT empty, as nginx's, not "0". */
    @Test
    void aClientAddressWithoutAPortHasAnEmptyRemotePort() {
        CgiRequest r = new CgiRequest("GET", "/a.php", "HTTP/1.1", "/a.php", "", List.of(), null, -1,
                "h", 80, "127.0.0.1", "1.2.3.4", 0, false);
        assertThat(params(r, CgiOptions.DEFAULT)).containsEntry("REMOTE_ADDR", "1.2.3.4")
                .containsEntry("REMOTE_PORT", "");
    }

    @Test
    void headersBecomeHttpVariables() {
        Map<String, String> p = params(request(List.of(
                Map.entry("Host", "example.org"),
                Map.entry("Cookie", "a=1"),
                Map.entry("Accept", "text/html"),
                Map.entry("cookie", "b=2"),
                Map.entry("Accept", "*/*"),
                Map.entry("X-Forwarded-For", "1.2.3.4"),
                Map.entry("Content-Type", "text/plain"))), CgiOptions.DEFAULT);
        assertThat(p).containsEntry("HTTP_HOST", "example.org")
                .containsEntry("HTTP_COOKIE", "a=1; b=2")
                .containsEntry("HTTP_ACCEPT", "text/html, */*")
                .containsEntry("HTTP_X_FORWARDED_FOR", "1.2.3.4")
                .doesNotContainKey("HTTP_CONTENT_TYPE");
    }

    /** An empty field of a repeated header adds nothing: it made HTTP_COOKIE "a=1; " and "; b=2". */
    @Test
    void anEmptyFieldOfARepeatedHeaderAddsNoElement() {
        Map<String, String> p = params(request(List.of(
                Map.entry("Cookie", "a=1"), Map.entry("Cookie", ""),
                Map.entry("Accept", ""), Map.entry("Accept", "*/*"),
                Map.entry("X-Empty", ""), Map.entry("X-Empty", ""))), CgiOptions.DEFAULT);
        assertThat(p).containsEntry("HTTP_COOKIE", "a=1").containsEntry("HTTP_ACCEPT", "*/*")
                .containsEntry("HTTP_X_EMPTY", "");
    }

    @Test
    void neverHttpProxy() {
        Map<String, String> p = params(request(List.of(Map.entry("Proxy", "http://evil:8080"),
                        Map.entry("Content_Type", "x/y"), Map.entry("content_length", "9"))),
                new CgiOptions(true, List.of()));
        assertThat(p).doesNotContainKey("HTTP_PROXY")
                .doesNotContainKey("HTTP_CONTENT_TYPE").doesNotContainKey("HTTP_CONTENT_LENGTH");
    }

    /**
     * PHP makes '.' (and ' ', '[') in a param's name '_': {@code X.Forwarded.For} came to PHP as HTTP_X_FORWARDED_FOR,
     * ahead of the one a proxy in front appends. Only names of letters, digits and '-' pass, as nginx's
     * ignore_invalid_headers has it, underscores allowed or not.
     */
    @Test
    void headerNamesOfOtherCharactersThanLettersDigitsAndHyphensNeverReachTheScript() {
        List<Map.Entry<String, String>> h = List.of(Map.entry("X.Forwarded.For", "6.6.6.6"), Map.entry("X.Y", "a"),
                Map.entry("X~Real~IP", "6.6.6.6"), Map.entry("X-Forwarded-For", "10.0.0.1"), Map.entry("X-2", "b"));
        for (CgiOptions options : List.of(CgiOptions.DEFAULT, new CgiOptions(true, List.of()))) {
            Map<String, String> p = params(request(h), options);
            assertThat(p).containsEntry("HTTP_X_FORWARDED_FOR", "10.0.0.1").containsEntry("HTTP_X_2", "b")
                    .doesNotContainKeys("HTTP_X.FORWARDED.FOR", "HTTP_X.Y", "HTTP_X~REAL~IP");
        }
    }

    @Test
    void underscoreHeadersDroppedByDefault() {
        List<Map.Entry<String, String>> h = List.of(Map.entry("X-Forwarded_For", "6.6.6.6"));
        assertThat(params(request(h), CgiOptions.DEFAULT)).doesNotContainKey("HTTP_X_FORWARDED_FOR");
        assertThat(params(request(h), new CgiOptions(true, List.of())))
                .containsEntry("HTTP_X_FORWARDED_FOR", "6.6.6.6");
    }

    /**
     * A path's byte that was not UTF-8 (kept as U+DC00 + byte by the path's decoding) goes out as that byte, as nginx
     * passes a Latin-1 PATH_INFO; a surrogate pair whose low half lies in that range (U+1F480) is a character.
     */
    @Test
    void aPathsBytesThatWereNotUtf8GoOutAsThoseBytes() {
        assertThat(CgiParams.utf8Bytes("/caf\uDCE9")).isEqualTo("/caf\u00e9");
        assertThat(CgiParams.utf8Bytes("/\u00e9\uDCFF\uD83D\uDC80x"))
                .isEqualTo("/\u00c3\u00a9\u00ff\u00f0\u009f\u0092\u0080x");
        assertThat(CgiParams.utf8Bytes("/plain")).isEqualTo("/plain");
    }

    @Test
    void extraParamsAddAndReplace() {
        Map<String, String> p = params(request(List.of()), new CgiOptions(false,
                List.of(Map.entry("APP_ENV", "prod"), Map.entry("SERVER_SOFTWARE", "x"))));
        assertThat(p).containsEntry("APP_ENV", "prod").containsEntry("SERVER_SOFTWARE", "x");
    }

    /**
     * An HTTP_ param set in the configuration (Symfony's documented HTTP_X_SENDFILE_TYPE = X-Accel-Redirect) replaces
     * the client's header of that name, as nginx's fastcgi_param does: a client cannot set it itself.
     */
    @Test
    void anHttpParamSetInTheConfigurationReplacesTheClientsHeader() {
        Map<String, String> p = params(request(List.of(Map.entry("X-Sendfile-Type", "X-Sendfile"),
                Map.entry("X-Accel-Mapping", "/=/"))), new CgiOptions(false,
                List.of(Map.entry("HTTP_X_SENDFILE_TYPE", "X-Accel-Redirect"))));
        assertThat(p).containsEntry("HTTP_X_SENDFILE_TYPE", "X-Accel-Redirect").containsEntry("HTTP_X_ACCEL_MAPPING", "/=/");
    }

    @Test
    void encodedParamsAreTheBuiltOnesInTheSameOrder() {
        List<List<Map.Entry<String, String>>> headerSets = List.of(
                List.of(),
                List.of(Map.entry("Host", "example.org"), Map.entry("User-Agent", "wrk"),
                        Map.entry("x-lower-case", "v"), Map.entry("Content-Length", "5"),
                        Map.entry("Proxy", "http://evil:1"), Map.entry("X-Forwarded_For", "6.6.6.6"),
                        Map.entry("X-Long", "y".repeat(300)), Map.entry("X-" + "n".repeat(200), "long name")),
                List.of(Map.entry("Cookie", "a=1"), Map.entry("Accept", "*/*"), Map.entry("cookie", "b=2")));
        List<CgiOptions> options = List.of(CgiOptions.DEFAULT, new CgiOptions(true, List.of()),
                new CgiOptions(false, List.of(Map.entry("SERVER_SOFTWARE", "x"), Map.entry("APP_ENV", "prod"))));
        for (List<Map.Entry<String, String>> headers : headerSets) {
            for (CgiOptions o : options) {
                CgiRequest r = request(headers);
                var script = new ScriptResolver.Script(ROOT, ROOT.resolve("a.php"), "/a.php", "/p\u00e9", r.path(),
                        r.query());
                ByteBuf encoded = CgiParams.encode(UnpooledByteBufAllocator.DEFAULT, r, script, o);
                try {
                    assertThat(FcgiNameValues.decode(encoded)).as("headers %s, options %s", headers, o)
                            .containsExactlyElementsOf(CgiParams.build(r, script, o));
                } finally {
                    encoded.release();
                }
            }
        }
    }
}
