package io.edge.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A stream's HEADERS that end it, before Netty's codec ({@link Http2Connection.RequestHeadCheck}): the codec allocates a
 * full request's content before it checks the request line, and keeps it where that check fails.
 */
class Http2RequestHeadTest {

    @Test
    void aRequestLineTheCodecRefusesLeavesNoBufferBehind() {
        for (Http2Headers refused : List.of(
                new DefaultHttp2Headers().method("GET").path("/a b").scheme("https").authority("h"),
                new DefaultHttp2Headers().method("GET").scheme("https").authority("h"),
                new DefaultHttp2Headers().path("/").scheme("https").authority("h"),
                new DefaultHttp2Headers().method("G T").path("/").scheme("https").authority("h"))) {
            List<ByteBuf> allocated = new ArrayList<>();
            List<Object> read = new ArrayList<>();
            List<Throwable> refusals = new ArrayList<>();
            EmbeddedChannel stream = stream(read, refusals);
            stream.config().setAllocator(counting(allocated));
            stream.writeInbound(new DefaultHttp2HeadersFrame(refused, true));
            assertThat(read).as("%s: no request made", refused).isEmpty();
            assertThat(refusals).as("%s: refused as the codec refuses it", refused).hasSize(1);
            assertThat(allocated).as("%s: every buffer allocated released", refused)
                    .allSatisfy(buffer -> assertThat(buffer.refCnt()).isZero());
            stream.finishAndReleaseAll();
        }
    }

    @Test
    void aWholeRequestAndTrailersStillPass() {
        List<Object> read = new ArrayList<>();
        List<Throwable> refusals = new ArrayList<>();
        EmbeddedChannel stream = stream(read, refusals);
        stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET").path("/x?a=1")
                .scheme("https").authority("h"), true));
        assertThat(read).hasSize(1);
        assertThat(read.get(0)).isInstanceOf(FullHttpRequest.class);
        EmbeddedChannel upload = stream(read, refusals);
        upload.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").path("/up")
                .scheme("https").authority("h"), false));
        upload.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-trailer", "t"), true));
        assertThat(read).hasSize(3);
        assertThat(read.get(2)).isInstanceOf(LastHttpContent.class);
        assertThat(refusals).isEmpty();
        stream.finishAndReleaseAll();
        upload.finishAndReleaseAll();
    }

    /** A stream's pipeline from the check on: what the codec makes kept in {@code read}, its refusals in {@code refusals}. */
    private static EmbeddedChannel stream(List<Object> read, List<Throwable> refusals) {
        return new EmbeddedChannel(new Http2Connection.RequestHeadCheck(), new Http2StreamFrameToHttpObjectCodec(true),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        read.add(msg);
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        refusals.add(cause);
                    }
                });
    }

    /** Netty's unpooled allocator, every buffer it hands out kept in {@code allocated}. */
    private static ByteBufAllocator counting(List<ByteBuf> allocated) {
        ByteBufAllocator real = UnpooledByteBufAllocator.DEFAULT;
        InvocationHandler keeping = (proxy, method, args) -> {
            Object made = method.invoke(real, args);
            if (made instanceof ByteBuf buffer) {
                allocated.add(buffer);
            }
            return made;
        };
        return (ByteBufAllocator) Proxy.newProxyInstance(ByteBufAllocator.class.getClassLoader(),
                new Class<?>[] {ByteBufAllocator.class}, keeping);
    }
}
