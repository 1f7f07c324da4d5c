package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http3.Http3Exception;
import io.netty.handler.codec.http3.Http3HeadersValidationException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamRequests} on an HTTP/3 stream, as {@link Http3Connection} sets it: the codec's refusal of a malformed
 * head, whose stream the codec resets itself (H3_MESSAGE_ERROR) once its exception has gone by.
 */
class StreamRequestsTest {

    private static EmbeddedChannel stream(List<Object> handedOn) {
        return new EmbeddedChannel(new StreamRequests(Http3Connection.HTTP_3, 8192, List.of(),
                Http3Exception.class, true, Http3HeadersValidationException.class::isInstance,
                (ctx, cause) -> handedOn.add("failed: " + cause)),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        handedOn.add(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        handedOn.add(cause);
                    }
                });
    }

    /**
     * Nothing is handed on to the exchanges (which would answer it or close its stream, a FIN before the codec's
     * reset), and the stream closes after: a task run once the codec's reset is done.
     */
    @Test
    void aHeadTheCodecRefusesGoesNoFurtherAndItsStreamClosesAfterTheReset() {
        List<Object> handedOn = new ArrayList<>();
        EmbeddedChannel stream = stream(handedOn);
        stream.pipeline().fireExceptionCaught(new Http3HeadersValidationException(
                "Conflicting ':authority' pseudo-header and 'host' header field."));
        assertThat(stream.isOpen()).as("open while the codec resets it").isTrue();
        stream.runPendingTasks();
        assertThat(stream.isOpen()).isFalse();
        assertThat(handedOn).isEmpty();
        assertThat(stream.finish()).isFalse();
    }

    /**
     * A trailer section the codec refuses (a pseudo-header in it), its request handed on already: as a head, its
     * stream closes after the reset, the request ending with it; the failure goes no further (the exchanges' handler
     * would close the stream at once, a FIN before the reset).
     */
    @Test
    void trailersTheCodecRefusesGoNoFurtherAndTheirStreamClosesAfterTheReset() {
        List<Object> handedOn = new ArrayList<>();
        EmbeddedChannel stream = stream(handedOn);
        stream.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/echo.php"));
        stream.pipeline().fireExceptionCaught(new Http3HeadersValidationException(
                "Pseudo-header(s) included in trailers."));
        assertThat(stream.isOpen()).as("open while the codec resets it").isTrue();
        stream.runPendingTasks();
        assertThat(stream.isOpen()).isFalse();
        assertThat(handedOn).singleElement().isInstanceOf(HttpRequest.class);
        assertThat(stream.finish()).isFalse();
    }

    /** Any other failure goes on as it did: not one this handler ends. */
    @Test
    void anotherFailureIsHandedOn() {
        List<Object> handedOn = new ArrayList<>();
        EmbeddedChannel stream = stream(handedOn);
        IllegalStateException other = new IllegalStateException("other");
        stream.pipeline().fireExceptionCaught(other);
        stream.runPendingTasks();
        assertThat(handedOn).containsExactly(other);
        assertThat(stream.isOpen()).isTrue();
        assertThat(stream.finish()).isFalse();
    }
}
