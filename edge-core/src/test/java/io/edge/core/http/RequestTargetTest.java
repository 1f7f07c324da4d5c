package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestTargetTest {

    @Test
    void splitsPathAndQueryAndDecodesThePathOnce() {
        RequestTarget target = RequestTarget.parse("/a%20b/%252e%252e/c?x=%20y");
        assertThat(target.path()).isEqualTo("/a b/%2e%2e/c");
        assertThat(target.query()).isEqualTo("x=%20y");
    }

    @Test
    void normalisesDotSegmentsAndDuplicateSlashes() {
        assertThat(RequestTarget.parse("//a/./b/../c//d/").path()).isEqualTo("/a/c/d/");
        assertThat(RequestTarget.parse("/a/..").path()).isEqualTo("/");
        assertThat(RequestTarget.parse("/").path()).isEqualTo("/");
    }

    @Test
    void acceptsAbsoluteFormAndKeepsItsAuthority() {
        assertThat(RequestTarget.parse("http://example.org/x?y"))
                .isEqualTo(new RequestTarget("example.org", "/x", "y", "/x?y"));
        assertThat(RequestTarget.parse("http://example.org")).isEqualTo(new RequestTarget("example.org", "/", "", "/"));
        assertThat(RequestTarget.parse("http://Example.org:8080?a/b"))
                .isEqualTo(new RequestTarget("Example.org:8080", "/", "a/b", "/?a/b"));
        assertThat(RequestTarget.parse("/x?y")).isEqualTo(new RequestTarget(null, "/x", "y", "/x?y"));
    }

    /**
     * RFC 9112 3.2: a request target has no fragment. One was cut off for routing but reached PHP in REQUEST_URI,
     * while the response cache stored the page built for it under the URL without it (stored XSS for every visitor).
     */
    @ParameterizedTest
    @ValueSource(strings = {"/page.php?v=2#\"><script>alert(1)</script>", "/a#b", "/#", "/a?q#", "http://example.org/x#f",
            "http://example.org#f"})
    void rejectsAFragment(String uri) {
        assertThatThrownBy(() -> RequestTarget.parse(uri))
                .isInstanceOf(HttpStatusException.class)
                .hasMessageContaining("fragment")
                .satisfies(e -> assertThat(((HttpStatusException) e).status().code()).isEqualTo(400));
    }

    /**
     * What comes before "://" is a scheme (RFC 3986 3.1) or the target is none: "a/b://host/p" was read as absolute,
     * its "authority" routed on in place of Host, where nginx, HAProxy and a filter in front see a path.
     */
    @ParameterizedTest
    @ValueSource(strings = {"a/b://localhost/a.txt", "x?y://localhost/a.txt", "*://localhost/", "1://localhost/",
            "%41://localhost/", "%2F%2E%2E://other.test/b.txt", "-http://localhost/", "ht_tp://localhost/"})
    void rejectsAnAbsoluteFormWhoseSchemeIsNone(String uri) {
        assertThatThrownBy(() -> RequestTarget.parse(uri))
                .isInstanceOf(HttpStatusException.class)
                .hasMessageContaining("scheme")
                .satisfies(e -> assertThat(((HttpStatusException) e).status().code()).isEqualTo(400));
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTPS://example.org/x", "h2c+x.y-z://example.org/x", "a1://example.org/x"})
    void acceptsAnySchemeAsNginxDoes(String uri) {
        assertThat(RequestTarget.parse(uri).authority()).isEqualTo("example.org");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http:///x", "http://user@example.org/x", "http://?x"})
    void rejectsAnAbsoluteFormWithoutAHostOrWithUserInformation(String uri) {
        assertThatThrownBy(() -> RequestTarget.parse(uri))
                .isInstanceOf(HttpStatusException.class)
                .satisfies(e -> assertThat(((HttpStatusException) e).status().code()).isEqualTo(400));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://a\\b/x", "http://a,b/x", "http://:80/x", "http://a:8o/x", "http://[::1/x",
            "http://[zz::1]/x", "http://a b/x", "http://./x", "http://.:80/x"})
    void rejectsAnAbsoluteFormWhoseAuthorityIsNotAHostAndPort(String uri) {
        assertThatThrownBy(() -> RequestTarget.parse(uri))
                .isInstanceOf(HttpStatusException.class)
                .satisfies(e -> assertThat(((HttpStatusException) e).status().code()).isEqualTo(400));
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "LocalHost:8080", "example.org.", "127.0.0.1:80", "[::1]", "[::1]:8443",
            "[::1]:", "[2001:db8::7]", "[v1.fe:x]", "xn--caf-dma.example", "a_b-c~d", "%41.example", "a:",
            "!$&'()*+;="})
    void acceptsHostAndPort(String host) {
        assertThat(RequestTarget.isHostAndPort(host)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost/x", "local host/../x", "a@localhost", "localhost, evil", "a,b", "a\\b",
            "a b", "a\tb", "a\u0000b", "a\u007fb", "a:8o", "a:80:80", "a:-1", "[::1", "[::1]x", "[]",
            "[zz::1]", "[fe80::1%25eth0]", "[v1.]", "[1.2.3]", "%4", "%zz.example", "caf\u00e9.example", "a?b", "a#b",
            "a.test..", "a..test", "..:80", ".", ".:80", ":80", ":", ""})
    void rejectsWhatIsNotHostAndPort(String host) {
        assertThat(RequestTarget.isHostAndPort(host)).as(host).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/ind\u0001ex.html", "/?\u001b[31mred\u001b[0m", "/a?b=\u007f", "/a b", "/a\tb",
            "/a\u0000", "/a\r\nX-Injected: 1", "http://a\u0001b/x"})
    void rejectsBlanksControlCharactersAndDel(String uri) {
        assertThatThrownBy(() -> RequestTarget.parse(uri))
                .isInstanceOf(HttpStatusException.class)
                .satisfies(e -> assertThat(((HttpStatusException) e).status().code()).isEqualTo(400));
    }

    @Test
    void decodesUtf8() {
        assertThat(RequestTarget.parse("/caf%C3%A9").path()).isEqualTo("/café");
    }

    /** A legacy Latin-1 link is no 400 (nginx routes it): its byte is kept as an escape, its target as sent. */
    @Test
    void keepsAPathThatIsNotUtf8() {
        RequestTarget target = RequestTarget.parse("/caf%E9?q=1");
        assertThat(target.path()).isEqualTo("/caf\uDCE9");
        assertThat(target.originForm()).isEqualTo("/caf%E9?q=1");
        assertThat(RequestTarget.parse("/%C3%28").path()).isEqualTo("/\uDCC3(");
    }

    /** A backslash is a character of a path, as for nginx on Linux (not a separator: "..\\" is a name). */
    @Test
    void keepsABackslash() {
        assertThat(RequestTarget.parse("/search/a%5Cb?q=1").path()).isEqualTo("/search/a\\b");
        assertThat(RequestTarget.parse("/..\\x").path()).isEqualTo("/..\\x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/../etc/passwd", "/%2e%2e/etc/passwd", "/a/..%2f..%2fetc", "/%00", "/%zz", "/%4", "*"})
    void rejectsEscapesNulAndBadEncodings(String uri) {
        assertThatThrownBy(() -> RequestTarget.parse(uri))
                .isInstanceOf(HttpStatusException.class)
                .satisfies(e -> assertThat(((HttpStatusException) e).status().code()).isEqualTo(400));
    }
}
