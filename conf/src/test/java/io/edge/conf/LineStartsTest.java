package io.edge.conf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Lines as HOCON counts them: from 1, each ended by LF (a CR before it is part of its line). */
class LineStartsTest {

    @Test
    void anOffsetIsOnTheLineItsCharacterIs() {
        LineStarts lines = LineStarts.of("a = 1\r\nb = 2\n\nc = 3");
        assertThat(lines.lineOf(0)).isEqualTo(1);
        assertThat(lines.lineOf(5)).as("the CR of CRLF").isEqualTo(1);
        assertThat(lines.lineOf(6)).as("the LF ending line 1").isEqualTo(1);
        assertThat(lines.lineOf(7)).isEqualTo(2);
        assertThat(lines.lineOf(12)).isEqualTo(2);
        assertThat(lines.lineOf(13)).as("an empty line").isEqualTo(3);
        assertThat(lines.lineOf(14)).isEqualTo(4);
        assertThat(lines.lineOf(19)).as("the end of a text without a last LF").isEqualTo(4);
    }

    @Test
    void aTextWithoutLineEndsIsOneLine() {
        assertThat(LineStarts.of("").lineOf(0)).isEqualTo(1);
        assertThat(LineStarts.of("a = 1").lineOf(3)).isEqualTo(1);
    }

    /** As many lines as a configuration of thousands of sites has, each found as counting from the top finds it. */
    @Test
    void everyOffsetOfAManyLinedTextIsOnTheLineCountedFromTheTop() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 5_000; i++) {
            text.append("x".repeat(i % 7)).append('\n');
        }
        LineStarts lines = LineStarts.of(text.toString());
        int line = 1;
        for (int offset = 0; offset <= text.length(); offset++) {
            assertThat(lines.lineOf(offset)).isEqualTo(line);
            if (offset < text.length() && text.charAt(offset) == '\n') {
                line++;
            }
        }
    }
}
