package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a client sends reaches the access log as one ASCII line, escaped as nginx escapes it. */
class AccessLogTest {

    private static String escaped(String s) {
        StringBuilder out = new StringBuilder();
        AccessLog.appendEscaped(out, s);
        return out.toString();
    }

    @Test
    void quotesBackslashesAndControlCharactersAreEscaped() {
        assertThat(escaped("a\"b\\c\u0001\u007f")).isEqualTo("a\\x22b\\x5Cc\\x01\\x7F");
    }

    @Test
    void bytesAboveAsciiAreEscapedSoNoReaderSplitsTheLine() {
        // as Netty hands header bytes over, one char per byte: NEL (0x85) is a line break to some readers
        assertThat(escaped("nel\u0085x")).isEqualTo("nel\\x85x");
        assertThat(escaped("/\u00c3\u00a9")).as("UTF-8 bytes of a path").isEqualTo("/\\xC3\\xA9");
        assertThat(escaped("\u2028")).as("anything wider, by its UTF-8 bytes").isEqualTo("\\xE2\\x80\\xA8");
        assertThat(escaped("\ud83d\ude00")).as("a surrogate pair, by its code point").isEqualTo("\\xF0\\x9F\\x98\\x80");
        assertThat(escaped("plain /a?b=c")).isEqualTo("plain /a?b=c");
    }
}
