package io.edge.core.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edge.core.http.ServerField;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Plain HTTP to a TLS listener, answered as nginx 1.22.1 answers it: its 400 page ends with the footer of its other
 * pages and the answer has a Server and a Date field, "nginx/1.22.1" with server_tokens on, "nginx" with off.
 */
class PlainHttpRefusalTest {

    private static String refusal(boolean serverTokens) {
        List<Long> logged = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel(new PlainHttpRefusal(
                (line, referer, agent, bytes, start) -> logged.add(bytes), serverTokens));
        channel.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: a\r\n\r\n", StandardCharsets.US_ASCII));
        ByteBuf written = channel.readOutbound();
        String answer = written.toString(StandardCharsets.US_ASCII);
        written.release();
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        assertThat(answer).contains("\r\nContent-Length: " + body.length() + "\r\n");
        assertThat(logged).containsExactly((long) body.length());
        assertThat(channel.isOpen()).isFalse();
        return answer;
    }

    @Test
    void signedWithTheVersionAsServerTokensOnSays() {
        String answer = refusal(true);
        assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\nServer: edge/" + ServerField.VERSION + "\r\nDate: ")
                .endsWith("<center>The plain HTTP request was sent to HTTPS port</center>\r\n<hr><center>edge/"
                        + ServerField.VERSION + "</center>\r\n</body>\r\n</html>\r\n");
    }

    @Test
    void signedEdgeAloneWithServerTokensOff() {
        String answer = refusal(false);
        assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\nServer: edge\r\nDate: ")
                .endsWith("<hr><center>edge</center>\r\n</body>\r\n</html>\r\n");
    }
}
