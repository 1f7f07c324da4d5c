package io.edge.aio.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The regions go through a real socket: native sendfile on epoll, transferTo on NIO. */
class SendfileOverSocketTest {

    @TempDir
    Path dir;

    @Test
    void epoll() throws Exception {
        Epoll.ensureAvailability();
        send(EpollIoHandler.newFactory(), EpollServerSocketChannel.class);
    }

    @Test
    void nio() throws Exception {
        send(NioIoHandler.newFactory(), NioServerSocketChannel.class);
    }

    private void send(IoHandlerFactory ioHandler, Class<? extends ServerChannel> serverType) throws Exception {
        byte[] content = new byte[300_000];
        new Random(42).nextBytes(content);
        Path file = FileEngineContract.settled(Files.write(dir.resolve("blob"), content));
        SendfileEngine engine = new SendfileEngine(new OpenFileCache(4, Duration.ofMinutes(1), 8, () -> 0L), 64 * 1024, 0);
        OpenFile open = engine.open(file, true).toCompletableFuture().join();
        CompletableFuture<Void> sent = new CompletableFuture<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, ioHandler);
        try {
            Channel server = new ServerBootstrap().group(group).channel(serverType)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            for (long offset = 0; offset < content.length; offset += engine.chunkSize()) {
                                long length = Math.min(engine.chunkSize(), content.length - offset);
                                ctx.write(engine.region(open, offset, length));
                            }
                            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                                if (f.isSuccess()) {
                                    sent.complete(null);
                                } else {
                                    sent.completeExceptionally(f.cause());
                                }
                            }).addListener(ChannelFutureListener.CLOSE);
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            byte[] received;
            try (Socket client = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort());
                 InputStream in = client.getInputStream()) {
                received = in.readAllBytes();
            }
            sent.get(10, TimeUnit.SECONDS);
            assertThat(received).isEqualTo(content);
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        // Every region gave its reference back: only ours and the cache's remain.
        assertThat(open.refCnt()).isEqualTo(2);
        open.release();
        engine.close();
        assertThat(engine.cache().descriptorsInUse()).isZero();
    }

}
