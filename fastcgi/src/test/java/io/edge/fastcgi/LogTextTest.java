package io.edge.fastcgi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {

    @Test
    void controlCharactersAreEscapedAndNothingElseChanges() {
        assertThat(LogText.escapeControls("PHP message: login failed for café\tx"))
                .isEqualTo("PHP message: login failed for café\tx");
        assertThat(LogText.escapeControls("user a\rPHP message: forged\u001b[2J\u0085 end\u007f"))
                .isEqualTo("user a\\x0dPHP message: forged\\x1b[2J\\x85 end\\x7f");
    }

    /** What a client sent, one byte per character: its bytes above ASCII escaped too, UTF-8 as its bytes. */
    @Test
    void aClientsBytesAboveAsciiAreEscapedWithItsControls() {
        assertThat(LogText.escapeBytes("GET /caf\u00c3\u00a9?\u009b2J\tx\u00ff HTTP/1.1"))
                .isEqualTo("GET /caf\\xc3\\xa9?\\x9b2J\tx\\xff HTTP/1.1");
        assertThat(LogText.escapeBytes("GET / HTTP/1.1")).isEqualTo("GET / HTTP/1.1");
    }

    /** A header a script sent with a control character is refused (502), and logged without it raw. */
    @Test
    void aProtocolErrorQuotesTheBackendsValueEscaped() {
        assertThat(FcgiProtocolException.of("response header", "X-Odd: a\u0001b", "a valid HTTP header"))
                .hasMessage("response header: X-Odd: a\\x01b (expected: a valid HTTP header)");
    }
}
