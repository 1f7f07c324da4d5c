package io.edge.fastcgi.cgi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edge.fastcgi.FcgiProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CgiResponseParserTest {

    static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Test
    void defaultStatusAndBodyLeftReadable() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Content-Type: text/html\r\nX-A: 1\r\n\r\nbody");
        assertThat(p.parse(in)).isTrue();
        HttpResponse head = p.head();
        assertThat(head.status().code()).isEqualTo(200);
        assertThat(head.headers().get("Content-Type")).isEqualTo("text/html");
        assertThat(in.toString(StandardCharsets.ISO_8859_1)).isEqualTo("body");
        in.release();
    }

    /**
     * The Status and X-Accel-Charset lines a server passes to its client (nginx's fastcgi_pass_header) stay in the head
     * as the script sent them, the status read from Status all the same; without that, neither does.
     */
    @Test
    void statusAndXAccelCharsetStayInTheHeadWhereKept() {
        String script = "Status: 203  Made Up\r\nX-Accel-Charset: utf-8\r\nX-A: 1\r\n\r\n";
        CgiResponseParser keeping = new CgiResponseParser(8192, Set.of("status", "x-accel-charset"));
        ByteBuf in = buf(script);
        assertThat(keeping.parse(in)).isTrue();
        assertThat(keeping.head().status().code()).isEqualTo(203);
        assertThat(keeping.head().status().reasonPhrase()).isEqualTo("Made Up");
        assertThat(keeping.head().headers().getAll("Status")).containsExactly("203  Made Up");
        assertThat(keeping.head().headers().getAll("X-Accel-Charset")).containsExactly("utf-8");
        in.release();

        CgiResponseParser hiding = new CgiResponseParser(8192);
        in = buf(script);
        assertThat(hiding.parse(in)).isTrue();
        assertThat(hiding.head().status().code()).isEqualTo(203);
        assertThat(hiding.head().headers().names()).containsExactly("X-A");
        in.release();
    }

    /**
     * A location's fastcgi_pass_header fields split Status and X-Accel-Charset in two: those its parsers keep in the
     * head, and the others, which it hides (on a cached copy's hits too); the other fields it passes count in neither.
     */
    @Test
    void passHeadersSplitTheLinesAParserMayKeep() {
        Set<String> passHeaders = Set.of("status", "x-powered-by");
        assertThat(CgiResponseParser.kept(passHeaders)).containsExactly("status");
        assertThat(CgiResponseParser.hidden(passHeaders)).containsExactly("x-accel-charset");
        assertThat(CgiResponseParser.kept(Set.of())).isEmpty();
        assertThat(CgiResponseParser.hidden(Set.of())).containsExactlyInAnyOrder("status", "x-accel-charset");
        assertThat(CgiResponseParser.kept(Set.of("status", "x-accel-charset")))
                .containsExactlyInAnyOrder("status", "x-accel-charset");
        assertThat(CgiResponseParser.hidden(Set.of("status", "x-accel-charset"))).isEmpty();
    }

    /**
     * A stray control character in a header's value goes as a space (RFC 9110 5.5), a header with a space in its name
     * is dropped: the page still goes out (it was a 502), and both are listed for the log.
     */
    @Test
    void aHeaderWithAControlCharacterIsMendedAndOneWithASpaceInItsNameDropped() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Content-Type: text/html\r\nX-Ctl: a\u0001b\u007fc\td\r\nX-Bad Name: v\r\nX-A: 1\r\n\r\nbody");
        assertThat(p.parse(in)).isTrue();
        HttpResponse head = p.head();
        assertThat(head.status().code()).isEqualTo(200);
        assertThat(head.headers().get("X-Ctl")).isEqualTo("a b c\td");
        assertThat(head.headers().contains("X-Bad Name")).isFalse();
        assertThat(head.headers().get("X-A")).isEqualTo("1");
        assertThat(p.mended()).containsExactly("\"X-Ctl: a\u0001b\u007fc\td\": control characters sent as spaces",
                "\"X-Bad Name: v\": not a valid HTTP header, dropped");
        assertThat(in.toString(StandardCharsets.ISO_8859_1)).isEqualTo("body");
        in.release();
    }

    /**
     * A name of visible ASCII that is no token goes on as the script sent it, as nginx 1.22 passes it from php-fpm
     * (measured) and as a proxied backend's goes on, with nothing listed for the log; one with a byte past ASCII is left
     * out, with nothing listed either. Before, both were dropped and listed (a warning per request).
     */
    @Test
    void aNameOutsideATokenGoesOnAndOneWithAByteBeyondAsciiIsLeftOutSilently() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Fo(o: a\r\nFoo/bar: b\r\nX-Bad@Name: c\r\nFo{o : d\r\nFo\u00e9o: e\r\nX-A: 1\r\n\r\nbody");
        assertThat(p.parse(in)).isTrue();
        HttpResponse head = p.head();
        assertThat(head.headers().names()).containsExactlyInAnyOrder("Fo(o", "Foo/bar", "X-Bad@Name", "Fo{o", "X-A");
        assertThat(head.headers().get("Fo(o")).isEqualTo("a");
        assertThat(head.headers().get("Fo{o")).isEqualTo("d");
        assertThat(p.mended()).isEmpty();
        assertThat(in.toString(StandardCharsets.ISO_8859_1)).isEqualTo("body");
        in.release();
    }

    /**
     * Pins what was right: spaces and tabs between a name and its colon are taken out, Status and Location's too (a
     * proxied backend's are, RFC 9112 5.1), nothing listed; nginx 1.22 answers 502 for each (measured beside php-fpm).
     */
    @Test
    void blanksBeforeTheColonAreTakenOut() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Status\t: 404 Gone\r\nFoo\t: v\r\nLocation : /x\r\n\r\nbody");
        assertThat(p.parse(in)).isTrue();
        HttpResponse head = p.head();
        assertThat(head.status().code()).isEqualTo(404);
        assertThat(head.headers().get("Foo")).isEqualTo("v");
        assertThat(head.headers().get("Location")).isEqualTo("/x");
        assertThat(p.mended()).isEmpty();
        in.release();
    }

    /**
     * A control character in a name (0x01, DEL, a tab; before the colon too) is a protocol error, a 502, as nginx 1.22's
     * "upstream sent invalid header" (measured) and a proxied backend's; its message has the byte escaped. Before, the
     * field was dropped and the page went.
     */
    @Test
    void aControlCharacterInANameIsAnError() {
        assertThat(failure("Fo\u0001o: v\r\n\r\n"))
                .isEqualTo("response header name: \"Fo\\x01o\" (expected: no control character)");
        assertThat(failure("Fo\u007fo: v\r\n\r\n")).startsWith("response header name: \"Fo\\x7fo\"");
        assertThat(failure("Fo\to: v\r\n\r\n")).startsWith("response header name: \"Fo\to\"");
        assertThat(failure("Foo\u0001 : v\r\n\r\n")).startsWith("response header name: \"Foo\\x01\"");
    }

    /**
     * A script's Transfer-Encoding (with its own Content-Length a response a client reads two ways) and the other
     * fields about one connection only never reach the client; edge frames the body. Its Connection: close is dropped
     * too: the client's connection is edge's to keep or close, as nginx ignores a FastCGI answer's Connection (measured
     * with nginx 1.22 and php-fpm 8.2: header('Connection: close') kept the client's connection alive). Trailer is not
     * one of them (RFC 9110 6.6.2, 7.6.1): it goes on, as behind nginx.
     */
    @Test
    void hopByHopFieldsFromTheScriptAreDropped() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Transfer-Encoding: chunked\r\nContent-Length: 12\r\nKeep-Alive: timeout=999\r\n"
                + "Connection: upgrade\r\nUpgrade: websocket\r\nTE: trailers\r\nTrailer: X-Sum\r\n"
                + "Proxy-Connection: keep-alive\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().headers().names()).containsExactlyInAnyOrder("Content-Length", "Trailer", "Set-Cookie");
        assertThat(p.head().headers().get("Trailer")).isEqualTo("X-Sum");
        assertThat(p.head().headers().getAll("Set-Cookie")).containsExactly("a=1", "b=2");
        in.release();

        CgiResponseParser closing = new CgiResponseParser(8192);
        ByteBuf close = buf("Connection: Keep-Alive, close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assertThat(closing.parse(close)).isTrue();
        assertThat(closing.head().headers().contains("Connection")).isFalse();
        assertThat(closing.head().headers().contains("Transfer-Encoding")).isFalse();
        close.release();
    }

    /**
     * A script's Connection is dropped, not obeyed: the fields it names are the answer's like any other (nginx ignores
     * a FastCGI answer's Connection and sends them all). A {@code header('Connection: Location')} cost the redirect its
     * target (a 302 with no Location); the fields edge drops by name still go.
     */
    @Test
    void theFieldsTheScriptsConnectionNamesStay() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Connection: Location\r\nLocation: /elsewhere\r\n\r\n");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().status().code()).isEqualTo(302);
        assertThat(p.head().headers().get("Location")).isEqualTo("/elsewhere");
        assertThat(p.head().headers().contains("Connection")).isFalse();
        in.release();

        CgiResponseParser named = new CgiResponseParser(8192);
        ByteBuf fields = buf("Connection: keep-alive, X-Secret, Content-Length\r\nX-Secret: s\r\n"
                + "Connection: x-other , close, Upgrade\r\nX-Other: o\r\nContent-Length: 2\r\nUpgrade: h2c\r\n"
                + "X-Kept: k\r\n\r\n");
        assertThat(named.parse(fields)).isTrue();
        assertThat(named.head().headers().names()).containsExactlyInAnyOrder("X-Secret", "X-Other", "Content-Length",
                "X-Kept");
        fields.release();
    }

    /**
     * X-Accel-Charset is a script's word to the server in front of it; nginx hides it from the client, and a proxy or
     * CDN before edge that reads it must not take it as its own. X-Accel-Expires stays for the response cache, which
     * reads it, X-Accel-Limit-Rate for the server, which paces the answer by it (the script's own body, or a file it
     * hands out), and X-Accel-Buffering for both (an unbuffered answer is not stored, and its backend is read as its
     * client takes it); the server hides them once it has seen them.
     */
    @Test
    void xAccelDirectivesToTheServerNeverReachTheClient() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("X-Accel-Buffering: no\r\nx-accel-expires: 10\r\nX-Accel-Limit-Rate: 1024\r\n"
                + "X-Accel-Charset: utf-8\r\nX-Accel-Other: kept\r\nContent-Type: text/plain\r\n\r\n");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().headers().names()).containsExactlyInAnyOrder("X-Accel-Buffering", "x-accel-expires",
                "X-Accel-Limit-Rate", "X-Accel-Other", "Content-Type");
        in.release();
        CgiResponseParser file = new CgiResponseParser(8192);
        ByteBuf accel = buf("X-Accel-Redirect: /files/a.bin\r\nX-Accel-Limit-Rate: 1024\r\n\r\n");
        assertThat(file.parse(accel)).isTrue();
        assertThat(file.head().headers().get("X-Accel-Limit-Rate")).as("the pace of the file edge sends: edge's to take")
                .isEqualTo("1024");
        accel.release();
    }

    @Test
    void a426KeepsItsUpgrade() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Status: 426 Upgrade Required\r\nUpgrade: TLS/1.3\r\nConnection: Upgrade\r\n\r\n");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().headers().get("Upgrade")).isEqualTo("TLS/1.3");
        assertThat(p.head().headers().contains("Connection")).isFalse();
        in.release();
    }

    @Test
    void ofSeveralContentTypesTheLastIsKept() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Content-Type: text/plain\r\nContent-type: text/x-foo\r\n\r\n");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().headers().getAll("Content-Type")).containsExactly("text/x-foo");
        in.release();
    }

    @Test
    void anEmptyContentTypeIsNone() {
        // PHP's header('Content-Type:'): nginx sends no Content-Type then, and an empty one is no media type
        for (String head : new String[] {
                "Content-Type:\r\n\r\n", "Content-Type: text/plain\r\nContent-Type: \r\n\r\n"}) {
            CgiResponseParser p = new CgiResponseParser(8192);
            ByteBuf in = buf(head);
            assertThat(p.parse(in)).isTrue();
            assertThat(p.head().headers().contains("Content-Type")).as(head).isFalse();
            in.release();
        }
    }

    @Test
    void statusHeaderSetsStatusAndIsRemoved() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Status: 404 Not Found\nContent-type: text/plain\n\n");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().status().code()).isEqualTo(404);
        assertThat(p.head().status().reasonPhrase()).isEqualTo("Not Found");
        assertThat(p.head().headers().contains("Status")).isFalse();
        in.release();
    }

    /** PHP's http_response_code(425) sends a bare "Status: 425": the registered reason, never a made-up one. */
    @Test
    void aBareStatusGetsItsRegisteredReasonOrNone() {
        assertThat(parsed("Status: 404\r\n\r\n").status().reasonPhrase()).isEqualTo("Not Found");
        assertThat(parsed("Status: 425\r\n\r\n").status().reasonPhrase()).isEqualTo("Too Early");
        assertThat(parsed("Status: 451\r\n\r\n").status().reasonPhrase()).isEqualTo("Unavailable For Legal Reasons");
        HttpResponse unregistered = parsed("Status: 499\r\n\r\n");
        assertThat(unregistered.status().code()).isEqualTo(499);
        assertThat(unregistered.status().reasonPhrase()).isEmpty();
        assertThat(parsed("Status: 299 Custom Reason\r\n\r\n").status().reasonPhrase()).isEqualTo("Custom Reason");
    }

    @Test
    void locationWithoutStatusIs302() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Location: /elsewhere\r\n\r\n");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().status().code()).isEqualTo(302);
        in.release();
        CgiResponseParser p2 = new CgiResponseParser(8192);
        ByteBuf in2 = buf("Status: 301\r\nLocation: /x\r\n\r\n");
        assertThat(p2.parse(in2)).isTrue();
        assertThat(p2.head().status().code()).isEqualTo(301);
        in2.release();
    }

    @Test
    void headSplitAcrossChunksOneByteAtATime() {
        CgiResponseParser p = new CgiResponseParser(8192);
        String text = "Status: 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nX";
        for (int i = 0; i < text.length(); i++) {
            ByteBuf one = buf(text.substring(i, i + 1));
            boolean done = p.parse(one);
            assertThat(done).isEqualTo(i == text.length() - 2);
            if (done) {
                assertThat(one.isReadable()).isFalse();
                one.release();
                break;
            }
            one.release();
        }
        assertThat(p.head().status().code()).isEqualTo(201);
        assertThat(p.head().headers().getAll("Set-Cookie")).containsExactly("a=1", "b=2");
    }

    @Test
    void oversizedHeadIsAnError() {
        CgiResponseParser p = new CgiResponseParser(16);
        ByteBuf in = buf("X-Long: 0123456789abcdef\r\n\r\n");
        assertThatThrownBy(() -> p.parse(in)).isInstanceOf(FcgiProtocolException.class)
                .hasMessage("response head: more than 16 bytes (expected: <= 16 bytes)");
        in.release();
    }

    /** A head of thousands of tiny fields is refused (502) as HAProxy refuses one: each lookup in it would crawl. */
    @Test
    void aHeadOfMoreThanAThousandLinesIsAnError() {
        String fields = "S: c\r\n".repeat(CgiResponseParser.MAX_FIELDS - 1);
        CgiResponseParser most = new CgiResponseParser(32768);
        ByteBuf whole = buf(fields + "X: y\r\n\r\n");
        assertThat(most.parse(whole)).isTrue();
        assertThat(most.head().headers().size()).isEqualTo(CgiResponseParser.MAX_FIELDS);
        whole.release();
        CgiResponseParser p = new CgiResponseParser(32768);
        ByteBuf in = buf(fields + "X: y\r\nbad line\r\n\r\n");
        assertThatThrownBy(() -> p.parse(in)).isInstanceOf(FcgiProtocolException.class)
                .hasMessage("response head: more than 1000 lines (expected: <= 1000 header fields)");
        in.release();
    }

    /**
     * A line with no colon (a script's typo, header('Cache-Control no-cache')) is dropped and listed for the log, as a
     * name that is no token is: the page goes out. It was a 502 for the whole page (as nginx's since 1.21.1 for a line
     * with a space; a bare word nginx sends as a field of no value).
     */
    @Test
    void aLineWithoutAColonIsDroppedNotTheWholePage() {
        CgiResponseParser p = new CgiResponseParser(8192);
        ByteBuf in = buf("Content-Type: text/plain\r\nCache-Control no-cache\r\n: nameless\r\nX-A: 1\r\n\r\nbody");
        assertThat(p.parse(in)).isTrue();
        assertThat(p.head().status().code()).isEqualTo(200);
        assertThat(p.head().headers().names()).containsExactlyInAnyOrder("Content-Type", "X-A");
        assertThat(p.mended()).containsExactly("\"Cache-Control no-cache\": not a header (name: value), dropped",
                "\": nameless\": not a header (name: value), dropped");
        assertThat(in.toString(StandardCharsets.ISO_8859_1)).isEqualTo("body");
        in.release();
    }

    @Test
    void malformedLinesAreErrors() {
        ByteBuf in2 = buf("Status: abc\r\n\r\n");
        assertThatThrownBy(() -> new CgiResponseParser(8192).parse(in2)).hasMessageStartingWith("Status: \"abc\"");
        in2.release();
    }

    private static String failure(String head) {
        ByteBuf in = buf(head);
        try {
            new CgiResponseParser(8192).parse(in);
            throw new AssertionError("parsed: " + head);
        } catch (FcgiProtocolException e) {
            return e.getMessage();
        } finally {
            in.release();
        }
    }

    private static HttpResponse parsed(String head) {
        ByteBuf in = buf(head);
        try {
            CgiResponseParser p = new CgiResponseParser(8192);
            assertThat(p.parse(in)).isTrue();
            return p.head();
        } finally {
            in.release();
        }
    }

    @Test
    void aContentLengthThatIsNotOneNonNegativeNumberIsAnError() {
        assertThat(failure("Content-Length: abc\r\n\r\n"))
                .isEqualTo("Content-Length: \"abc\" (expected: one non-negative decimal number)");
        for (String bad : new String[] {"-1", "+5", "5 5", "0x10", "1e3", "", "5,", "5, 6", "99999999999999999999"}) {
            assertThat(failure("Content-Length: " + bad + "\r\n\r\n")).as(bad).startsWith("Content-Length: ");
        }
        assertThat(failure("Content-Length: 5\r\nContent-Length: 6\r\n\r\n"))
                .isEqualTo("Content-Length: \"5, 6\" (expected: one non-negative decimal number)");
    }

    @Test
    void aContentLengthSaidSeveralTimesIsKeptOnce() {
        assertThat(parsed("Content-Length: 5\r\nContent-Length: 5\r\n\r\n").headers().getAll("Content-Length"))
                .containsExactly("5");
        assertThat(parsed("Content-Length: 5, 5\r\n\r\n").headers().getAll("Content-Length")).containsExactly("5");
        assertThat(parsed("Content-Length:  0 \r\n\r\n").headers().getAll("Content-Length")).containsExactly("0");
        assertThat(parsed("Content-Length: 012\r\n\r\n").headers().get("Content-Length")).isEqualTo("012");
    }

    @Test
    void anInterimStatusIsNoAnswer() {
        assertThat(failure("Status: 100 Continue\r\n\r\n"))
                .isEqualTo("Status: \"100 Continue\" (expected: a final status, a 3-digit code from 200 to 599)");
        assertThat(failure("Status: 101\r\n\r\n")).startsWith("Status: \"101\"");
        assertThat(failure("Status: 199\r\n\r\n")).startsWith("Status: \"199\"");
        assertThat(failure("Status: 099\r\n\r\n")).as("no status at all (RFC 9110 15)").startsWith("Status: \"099\"");
        assertThat(parsed("Status: 200\r\n\r\n").status().code()).isEqualTo(200);
    }

    /** RFC 9110 15: a status is 100 to 599; a script's 600 or 999 is no HTTP answer (502), not passed on. */
    @Test
    void aStatusPast599IsNoAnswer() {
        assertThat(failure("Status: 600 Odd\r\n\r\n")).startsWith("Status: \"600 Odd\" (expected:");
        assertThat(failure("Status: 999\r\n\r\n")).startsWith("Status: \"999\"");
        assertThat(parsed("Status: 599 Network Connect Timeout\r\n\r\n").status().code()).isEqualTo(599);
    }

    /**
     * nginx reads the code from a Status value's first three bytes and takes the rest for the reason, whatever parts
     * them (measured with nginx 1.22 and php-fpm 8.2, header('Status: 404\tNot Found') and header('Status: 200OK'):
     * a 404 and a 200, their status lines sent as the script wrote them, "HTTP/1.1 404\tNot Found" and "HTTP/1.1
     * 200OK", which HTTP does not allow). Edge takes the same code and sends the reason after a space.
     */
    @Test
    void aStatusIsItsFirstThreeDigitsAndTheRestItsReason() {
        HttpResponse tab = parsed("Status: 404\tNot Found\r\n\r\n");
        assertThat(tab.status().code()).isEqualTo(404);
        assertThat(tab.status().reasonPhrase()).isEqualTo("Not Found");
        HttpResponse joined = parsed("Status: 200OK\r\n\r\n");
        assertThat(joined.status().code()).isEqualTo(200);
        assertThat(joined.status().reasonPhrase()).isEqualTo("OK");
        assertThat(parsed("Status:  201 Created\r\n\r\n").status().reasonPhrase()).isEqualTo("Created");
        assertThat(parsed("Status: 404x\r\n\r\n").status().reasonPhrase()).isEqualTo("x");
        assertThat(parsed("Status: 404\t\r\n\r\n").status().reasonPhrase()).isEqualTo("Not Found");
        assertThat(parsed("Status: 503 \t Slow  Down\r\n\r\n").status().reasonPhrase()).isEqualTo("Slow  Down");
        // UTF-8 bytes go as they came (obs-text), a control byte as a space, as in any field's value
        assertThat(parsed("Status: 404 Caf\u00c3\u00a9\u0001!\r\n\r\n").status().reasonPhrase())
                .isEqualTo("Caf\u00c3\u00a9 !");
    }

    /**
     * Fewer than three digits is no status, for nginx too ("upstream sent invalid status", 502); nor is a fourth
     * digit, a code past 999, which nginx reads as its first three (1000 as a 100, sent on as "HTTP/1.1 1000").
     */
    @Test
    void aStatusOfOtherThanThreeDigitsIsNoAnswer() {
        for (String bad : new String[] {"99", "20", "abc", "", "2000", "1000", "20a OK", "-200"}) {
            assertThat(failure("Status: " + bad + "\r\n\r\n")).as(bad)
                    .isEqualTo("Status: \"" + bad + "\" (expected: a final status, a 3-digit code from 200 to 599)");
        }
    }

    /**
     * A line that starts with a space or tab continues the field before it (obs-fold, RFC 9112 5.2), which a gateway
     * must answer with 502 or unfold; it was trimmed into a field of its own, so "X-A: a" followed by
     * " Content-Length: 0" reached the client as a Content-Length the script never sent. nginx answers 502.
     */
    @Test
    void aFoldedLineIsAnError() {
        assertThat(failure("X-A: a\r\n Content-Length: 0\r\n\r\n"))
                .isEqualTo("response header line: \" Content-Length: 0\" (expected: name: value, no line folding)");
        assertThat(failure("X-A: a\r\n\tSet-Cookie: s=1\r\n\r\n")).startsWith("response header line: \"\tSet-Cookie");
        assertThat(failure(" Status: 200\r\n\r\n")).startsWith("response header line: \" Status: 200\"");
        assertThat(parsed("X-A : a\r\n\r\n").headers().get("X-A")).isEqualTo("a");
    }
}
