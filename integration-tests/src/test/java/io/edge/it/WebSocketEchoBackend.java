package io.edge.it;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A websocket echo server on Netty's own handshaker, for the tests of edge's tunnel: every path is a websocket
 * endpoint, but {@code /ws/refuse}, which answers an upgrade 400, and any request that asks no upgrade, answered 200
 * with {@code plain upgrade=<its Upgrade field>}. Text and binary messages come back as they came; the text
 * {@code close-me} is answered with a close (1000, "bye") and the connection's end. The echo is read only as fast as
 * its answers go (autoRead off while the channel is not writable). On epoll, as edge: the blocking-call check of the
 * tests takes Java's NIO socket calls on any event loop for blocking ones.
 */
final class WebSocketEchoBackend implements AutoCloseable {

    static final int MAX_FRAME = 64 * 1024 * 1024;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final Channel server;
    /** Websocket connections open now, and handshakes done in all. */
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger handshakes = new AtomicInteger();

    WebSocketEchoBackend() throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1024 * 1024),
                                new PlainAnswers(), new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig
                                        .newBuilder().websocketPath("/").checkStartsWith(true)
                                        .maxFramePayloadLength(MAX_FRAME).build()),
                                new Echo());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The answers that are no handshake; an upgrade goes on to Netty's handshaker. */
    private final class PlainAnswers extends SimpleChannelInboundHandler<FullHttpRequest> {

        PlainAnswers() {
            super(false);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
            if (upgrade != null && !request.uri().startsWith("/ws/refuse")) {
                ctx.fireChannelRead(request); // the handshaker's
                return;
            }
            request.release();
            boolean refused = upgrade != null;
            FullHttpResponse answer = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    refused ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.OK, Unpooled.copiedBuffer(
                            refused ? "refused" : "plain upgrade=" + upgrade, StandardCharsets.UTF_8));
            answer.headers().set(HttpHeaderNames.CONTENT_LENGTH, answer.content().readableBytes());
            ctx.writeAndFlush(answer);
        }
    }

    private final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {

        Echo() {
            super(false);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                handshakes.incrementAndGet();
                open.incrementAndGet();
                ctx.channel().closeFuture().addListener(f -> open.decrementAndGet());
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame text && text.text().equals("close-me")) {
                frame.release();
                ctx.writeAndFlush(new CloseWebSocketFrame(1000, "bye")).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
                ctx.write(frame); // as it came: the echo
                if (!ctx.channel().isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                }
            } else {
                frame.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
