package io.edge.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.CapturedLog;
import io.edge.core.http.RawHttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script's field names as nginx 1.22 passes them from php-fpm 8.2 (measured side by side, fastcgi_pass to a Unix
 * socket): a name of visible ASCII that is no token ({@code Fo(o}) goes on to an HTTP/1.1 client, as a proxied
 * backend's does, and is left out for an HTTP/2 one; one with a control character is a 502.
 */
class FastCgiFieldNamesIT {

    @TempDir
    static Path dir;

    static PhpFpm fpm;
    static EdgeHarness edge;

    @BeforeAll
    static void start() throws Exception {
        Path www = Files.createDirectories(dir.resolve("www"));
        // the field's name as hex: any byte reaches header() as it is (the listener takes HTTP/1.1 and h2c both)
        Files.writeString(www.resolve("name.php"), """
                <?php
                header(hex2bin($_GET['n']) . ': v');
                header('X-After: a');
                echo 'ok';
                """);
        Files.writeString(Files.createDirectories(www.resolve("c")).resolve("cached.php"), """
                <?php
                header('Cache-Control: public, max-age=300');
                header('Fo(o: v');
                echo 'ok';
                """);
        fpm = PhpFpm.unix(Files.createDirectories(dir.resolve("fpm")), "pm = static\npm.max_children = 2");
        edge = EdgeHarness.start(dir, """
                server.listen = ["127.0.0.1:0 http2"]
                sites = [{ server-names = ["_"], default = true, root = "www",
                  locations = [{ match = "/", fastcgi = php },
                    { match = "/c/", fastcgi = php, cache = true, headers { X-Cache = "$upstream_cache_status" } }] }]
                fastcgi.backends.php { addresses = ["%s"], max-connections = 2 }
                """.formatted(fpm.address()));
    }

    @AfterAll
    static void stop() {
        EdgeHarness.close(edge, fpm);
    }

    /** The path of the script that sends a field named {@code name} (its bytes one char each). */
    private static String sending(String name) {
        return "/name.php?n=" + HexFormat.of().formatHex(name.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String http11(String name) throws Exception {
        return Curl.output("-i", edge.uri(sending(name)).toString());
    }

    /**
     * Fo(o, Foo/bar, Foo@ and Fo{o go on to an HTTP/1.1 client as the script sent them, as nginx 1.22 sends them
     * (measured), with no warning logged; an HTTP/2 client gets the answer without them (nginx sent "fo(o" there, and
     * curl's nghttp2 reset the stream). Before, each was dropped, a warning logged per request.
     */
    @Test
    void aNameOutsideATokenGoesOnOverHttp11AndIsLeftOutOverHttp2() throws Exception {
        try (CapturedLog log = CapturedLog.of("io.edge.fastcgi.client.FcgiExchange")) {
            for (String name : new String[] {"Fo(o", "Foo/bar", "Foo@", "Fo{o"}) {
                assertThat(http11(name)).startsWith("HTTP/1.1 200 ").contains("\r\n" + name + ": v\r\n")
                        .contains("\r\nX-After: a\r\n").endsWith("ok");
            }
            String http2 = Curl.output("-i", "--http2-prior-knowledge", edge.uri(sending("Fo(o")).toString());
            assertThat(http2).startsWith("HTTP/2 200").contains("x-after: a").doesNotContain("fo(o").endsWith("ok");
            assertThat(log.warnings()).isEmpty();
        }
    }

    /**
     * A name with a byte past ASCII is left out without a word, as the proxy leaves it out (nginx 1.22's FastCGI sends
     * the byte on: measured). Before, it was dropped with a warning per request.
     */
    @Test
    void aNameWithAByteBeyondAsciiIsLeftOutWithoutAWarning() throws Exception {
        try (CapturedLog log = CapturedLog.of("io.edge.fastcgi.client.FcgiExchange")) {
            assertThat(http11("Fo\u00e9o")).startsWith("HTTP/1.1 200 ").doesNotContain("Fo\u00e9o")
                    .contains("\r\nX-After: a\r\n").endsWith("ok");
            assertThat(log.warnings()).isEmpty();
        }
    }

    /**
     * A control character in a name (0x01, DEL, a tab) is a 502, as nginx 1.22's "upstream sent invalid header"
     * (measured) and a proxied backend's; the log line has it escaped, as nginx's ("Fo\x01..."). Before, the field was
     * dropped and the page went as a 200.
     */
    @Test
    void aControlCharacterInANameIsA502ItsByteEscapedInTheLog() throws Exception {
        try (CapturedLog log = CapturedLog.of("io.edge.core.http.ServerExchange")) {
            for (String name : new String[] {"Fo\u0001o", "Fo\u007fo", "Fo\to"}) {
                try (RawHttpClient client = new RawHttpClient(edge.address())) {
                    client.send("GET " + sending(name) + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    assertThat(client.read().status()).as(name).isEqualTo(502);
                }
            }
            assertThat(log.warnings()).anySatisfy(line -> assertThat(line).contains(" -> 502: ")
                    .contains("\"Fo\\x01o\""));
            assertThat(log.warnings()).allSatisfy(line -> assertThat(line).doesNotContain("\u0001", "\u007f"));
        }
    }

    /**
     * Pins what was right: the response cache keeps such a field with the entry, an HTTP/2 client's MISS and HIT go
     * without it, and leaving it out there takes nothing from the entry: an HTTP/1.1 client's HIT after them has it.
     */
    @Test
    void aCachedEntryKeepsSuchANameLeftOutOfItsHitsOverHttp2Only() throws Exception {
        String target = edge.uri("/c/cached.php").toString();
        for (String status : new String[] {"MISS", "HIT"}) {
            assertThat(Curl.output("-i", "--http2-prior-knowledge", target)).as(status).startsWith("HTTP/2 200")
                    .contains("x-cache: " + status).doesNotContain("fo(o").endsWith("ok");
        }
        assertThat(Curl.output("-i", target)).startsWith("HTTP/1.1 200 ").contains("\r\nX-Cache: HIT\r\n")
                .contains("\r\nFo(o: v\r\n").endsWith("ok");
    }
}
