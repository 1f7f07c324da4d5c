import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The least a Netty server does for a hot-thumbs request: not edge, a yardstick for it (bench/alone.sh floor and
 * floor-mem). One epoll event loop per core, Netty's HTTP codec, and per request either
 * <ul>
 *   <li>{@code file}: the path under ROOT opened, its size taken (fstat), read whole into a pooled direct buffer and
 *   closed, all on the event loop (the tree is in the page cache), then one write of head and body, the system
 *   calls nginx makes for it but its sendfile; no routing, no checks of the path beyond "..", no caches, no
 *   conditionals, no access log, no limits;</li>
 *   <li>{@code mem}: one 7 307-byte body from memory, no file at all: what HTTP over Netty costs alone.</li>
 * </ul>
 * What edge spends per request beyond {@code file} is its own; what {@code file} spends beyond nginx is the JVM's
 * and Netty's. Run: {@code java -cp 'edge-core/target/lib/*' bench/lib/NettyFloor.java PORT ROOT file|mem}.
 */
public final class NettyFloor {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path root = Path.of(args[1]);
        boolean fromMemory = args[2].equals("mem");
        ByteBuf body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(7307).writeZero(7307));
        MultiThreadIoEventLoopGroup loops = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
        new ServerBootstrap().group(loops).channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new Answer(root, fromMemory, body));
                    }
                })
                .bind("127.0.0.1", port).sync();
        System.out.println("NettyFloor listening on 127.0.0.1:" + port + " (" + args[2] + ")");
    }

    private static final class Answer extends SimpleChannelInboundHandler<Object> {
        private final Path root;
        private final boolean fromMemory;
        private final ByteBuf body;
        private boolean keepAlive;

        Answer(Path root, boolean fromMemory, ByteBuf body) {
            this.root = root;
            this.fromMemory = fromMemory;
            this.body = body;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                keepAlive = HttpUtil.isKeepAlive(request);
                FullHttpResponse response = fromMemory ? answer(HttpResponseStatus.OK, body.duplicate())
                        : file(ctx, request.uri());
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "image/jpeg");
                if (keepAlive) {
                    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                }
                ctx.write(response);
            }
            if (msg instanceof LastHttpContent) {
                ctx.flush();
                if (!keepAlive) {
                    ctx.close();
                }
            }
        }

        private FullHttpResponse file(ChannelHandlerContext ctx, String uri) {
            int query = uri.indexOf('?');
            String path = query < 0 ? uri : uri.substring(0, query);
            if (path.contains("..")) {
                return answer(HttpResponseStatus.BAD_REQUEST, Unpooled.EMPTY_BUFFER);
            }
            int start = 0;
            while (start < path.length() && path.charAt(start) == '/') {
                start++;
            }
            try (FileChannel file = FileChannel.open(root.resolve(path.substring(start)), StandardOpenOption.READ)) {
                int size = (int) file.size();
                ByteBuf content = ctx.alloc().directBuffer(size);
                try {
                    while (content.writableBytes() > 0 && content.writeBytes(file, content.writableBytes()) > 0) {
                        // read until the size taken at open
                    }
                } catch (IOException | RuntimeException e) {
                    content.release();
                    throw e;
                }
                return answer(HttpResponseStatus.OK, content);
            } catch (IOException e) {
                return answer(HttpResponseStatus.NOT_FOUND, Unpooled.EMPTY_BUFFER);
            }
        }

        private static FullHttpResponse answer(HttpResponseStatus status, ByteBuf content) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
            return response;
        }
    }
}
