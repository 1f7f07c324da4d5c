package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The body parts an HTTP/3 stream hands Netty's codec begin at index 0: a script's answer is a FastCGI record whose
 * CGI head was read off its front (reader index past 0), which Netty 4.2.18's QUIC stream sent from the buffer's start.
 */
class Http3ContentFromZeroTest {

    private static ByteBuf record() {
        ByteBuf record = Unpooled.directBuffer().writeBytes("Content-type: text/html\r\n\r\nHTTP/3.0 on 1"
                .getBytes(StandardCharsets.US_ASCII));
        record.skipBytes(record.readableBytes() - "HTTP/3.0 on 1".length());
        return record;
    }

    @Test
    void aPartReadPastItsStartGoesOnAsASliceFromZero() {
        EmbeddedChannel stream = new EmbeddedChannel(new Http3Connection.ContentFromZero());
        ByteBuf record = record();
        stream.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, record));
        FullHttpResponse sent = stream.readOutbound();
        assertThat(sent.content().readerIndex()).isZero();
        assertThat(sent.content().toString(StandardCharsets.US_ASCII)).isEqualTo("HTTP/3.0 on 1");
        assertThat(record.refCnt()).as("one reference: the slice's").isEqualTo(1);
        sent.release();
        assertThat(record.refCnt()).isZero();
        assertThat(stream.finish()).isFalse();
    }

    @Test
    void aPartFromZeroGoesOnAsItIs() {
        EmbeddedChannel stream = new EmbeddedChannel(new Http3Connection.ContentFromZero());
        HttpContent part = new DefaultHttpContent(Unpooled.copiedBuffer("whole", StandardCharsets.US_ASCII));
        stream.writeOutbound(part);
        HttpContent sent = stream.readOutbound();
        assertThat(sent).isSameAs(part);
        sent.release();
        assertThat(stream.finish()).isFalse();
    }
}
