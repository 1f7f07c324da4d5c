package io.edge.it;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionAddress;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Netty's HTTP/3 client on a connection of its own to an edge on 127.0.0.1:{@code port}, its handshake naming {@link
 * #SERVER_NAME} (SNI) as a browser's names its host; {@code control} sees its control frames. Where a test needs what
 * flupke cannot do (stop a stream, leave one unread, see GOAWAY).
 */
@SuppressWarnings("try") // its close waits for its socket and loop to end, interruptibly
final class NettyHttp3Client implements AutoCloseable {

    /** The SNI name of the handshakes, a default site's: Netty sends none without a dot in it. */
    static final String SERVER_NAME = "edge.localhost";

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel udp;
    private final int port;
    final QuicChannel quic;

    NettyHttp3Client(int port, ChannelHandler control) throws Exception {
        this.port = port;
        QuicSslContext tls = QuicSslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                .applicationProtocols(Http3.supportedApplicationProtocols()).build();
        udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(Http3.newQuicClientCodecBuilder().sslEngineProvider(quic -> tls.newEngine(quic.alloc(),
                                SERVER_NAME, port)).maxIdleTimeout(60, TimeUnit.SECONDS)
                        .initialMaxData(64 * 1024 * 1024).initialMaxStreamDataBidirectionalLocal(256 * 1024)
                        .build())
                .bind(0).sync().channel();
        // its connection ids made here: SecureRandom reads /dev/urandom, which the loop check refuses on a loop
        try {
            quic = QuicChannel.newBootstrap(udp)
                    .handler(new Http3ClientConnectionHandler(control, null, null, null, true))
                    .localConnectionAddress(QuicConnectionAddress.random())
                    .remoteConnectionAddress(QuicConnectionAddress.random())
                    .remoteAddress(new InetSocketAddress("127.0.0.1", port)).connect().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException refused) { // its socket and loop closed with it
            udp.close().await(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
            throw refused;
        }
    }

    /** Sends {@code head} on a stream of its own, whose frames go to {@code stream}. */
    void send(Http3HeadersFrame head, Http3RequestStreamInboundHandler stream) throws Exception {
        Http3.newRequestStream(quic, stream).get(30, TimeUnit.SECONDS).writeAndFlush(head)
                .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
    }

    /** The head of a GET of {@code path} from the test's edge. */
    Http3HeadersFrame get(String path) {
        Http3HeadersFrame head = new DefaultHttp3HeadersFrame();
        head.headers().method("GET").path(path).authority("127.0.0.1:" + port).scheme("https");
        return head;
    }

    /**
     * Sends a GET of {@code path}; its first DATA frame completes the future returned, after {@code then} is done
     * with the stream's context (its frames are dropped).
     */
    CompletableFuture<Void> firstData(String path, Consumer<ChannelHandlerContext> then) throws Exception {
        CompletableFuture<Void> first = new CompletableFuture<>();
        send(get(path), new DroppingStream() {
            @Override
            void data(ChannelHandlerContext ctx) {
                if (!first.isDone()) {
                    then.accept(ctx);
                    first.complete(null);
                }
            }
        });
        return first;
    }

    /** The status of a GET of {@code path}, once its answer has come whole; failed if the connection closes first. */
    CompletableFuture<String> status(String path) throws Exception {
        CompletableFuture<String> status = new CompletableFuture<>();
        quic.closeFuture().addListener(closed -> status.completeExceptionally(new ClosedChannelException()));
        send(get(path), new DroppingStream() {
            private String said;

            @Override
            void headers(Http3HeadersFrame frame) {
                said = String.valueOf(frame.headers().status());
            }

            @Override
            void ended() {
                status.complete(said);
            }
        });
        return status;
    }

    /**
     * What the stream of {@code head} ended with, once it ended: {@code "status N"} for an answer that came whole (its
     * head's status), {@code "reset N"} for a stream the server reset (RESET_STREAM's code, a head's status before it
     * as {@code "status N reset M"}); failed if the connection closes first.
     */
    CompletableFuture<String> outcome(Http3HeadersFrame head) throws Exception {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        send(head, outcomeOf(outcome, true));
        return outcome;
    }

    /**
     * As {@link #outcome(Http3HeadersFrame)}, {@code body} sent after {@code head} in a DATA frame, then {@code
     * trailers} unless null; the stream's sending side then ended if {@code whole}, left open if not. A reset of the
     * answer's side leaves the sending side as it is (RFC 9000 3.5: only STOP_SENDING asks a sender to stop).
     */
    CompletableFuture<String> outcome(Http3HeadersFrame head, byte[] body, Http3HeadersFrame trailers, boolean whole)
            throws Exception {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        QuicStreamChannel stream = Http3.newRequestStream(quic, outcomeOf(outcome, false)).get(30, TimeUnit.SECONDS);
        stream.write(head);
        ChannelFuture sent = stream.writeAndFlush(new DefaultHttp3DataFrame(Unpooled.wrappedBuffer(body)));
        if (trailers != null) {
            sent = stream.writeAndFlush(trailers);
        }
        if (whole) {
            sent.addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
        }
        return outcome;
    }

    private Http3RequestStreamInboundHandler outcomeOf(CompletableFuture<String> outcome, boolean closeOnReset) {
        quic.closeFuture().addListener(closed -> outcome.completeExceptionally(new ClosedChannelException()));
        return new DroppingStream() {
            private String said = "";

            @Override
            void headers(Http3HeadersFrame frame) {
                said = "status " + frame.headers().status() + " ";
            }

            @Override
            void ended() {
                outcome.complete(said.strip());
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                if (cause instanceof QuicStreamResetException reset) {
                    outcome.complete(said + "reset 0x" + Long.toHexString(reset.applicationProtocolCode()));
                    if (!closeOnReset) {
                        return;
                    }
                } else {
                    outcome.completeExceptionally(cause);
                }
                ctx.close();
            }
        };
    }

    @Override
    public void close() throws InterruptedException {
        quic.close().await(5, TimeUnit.SECONDS);
        udp.close().await(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }

    /** A request stream's handler that drops what comes (its frames released) and closes the stream at its end. */
    static class DroppingStream extends Http3RequestStreamInboundHandler {

        @Override
        protected final void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            headers(frame);
            ReferenceCountUtil.release(frame);
        }

        @Override
        protected final void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            frame.release();
            data(ctx);
        }

        @Override
        protected final void channelInputClosed(ChannelHandlerContext ctx) {
            ended();
            ctx.close();
        }

        /** The answer's head came. */
        void headers(Http3HeadersFrame frame) {
        }

        /** A DATA frame came. */
        void data(ChannelHandlerContext ctx) {
        }

        /** The answer came whole. */
        void ended() {
        }
    }
}
