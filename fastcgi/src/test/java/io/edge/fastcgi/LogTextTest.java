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

    /** A header a script sent with a control character is refused (502), and logged without it raw. */
    @Test
    void aProtocolErrorQuotesTheBackendsValueEscaped() {
        assertThat(FcgiProtocolException.of("response header", "X-Odd: a\u0001b", "a valid HTTP header"))
                .hasMessage("response header: X-Odd: a\\x01b (expected: a valid HTTP header)");
    }
}
