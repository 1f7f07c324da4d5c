package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

/** Pins what was right (its allocation only changed): the names that are no token left out, the others kept. */
class TokenFieldNamesTest {

    private static HttpResponse head(String... names) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                DefaultHttpHeadersFactory.headersFactory().withNameValidation(false));
        for (String name : names) {
            head.headers().add(name, "v");
        }
        return head;
    }

    @Test
    void anAnswerOfTokensGoesAsItCame() {
        EmbeddedChannel stream = new EmbeddedChannel(TokenFieldNames.INSTANCE);
        HttpResponse head = head("Content-Type", "X-A", "x_b");
        stream.writeOutbound(head);
        HttpResponse sent = stream.readOutbound();
        assertThat(sent).isSameAs(head);
        assertThat(sent.headers().names()).containsExactlyInAnyOrder("Content-Type", "X-A", "x_b");
        assertThat(stream.finish()).isFalse();
    }

    @Test
    void aNameThatIsNoTokenIsLeftOutAndTheOthersKept() {
        EmbeddedChannel stream = new EmbeddedChannel(TokenFieldNames.INSTANCE);
        stream.writeOutbound(head("X-A", "Fo(o", "Foo/bar", "X-B", "Fo(o"));
        HttpResponse sent = stream.readOutbound();
        assertThat(sent.headers().names()).containsExactlyInAnyOrder("X-A", "X-B");
        assertThat(stream.finish()).isFalse();
    }
}
