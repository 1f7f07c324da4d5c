import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The least a Netty server does for a hot-thumbs request: not edge, a yardstick for it (bench/alone.sh floor and
 * floor-mem). One epoll (or io_uring) event loop per core, Netty's HTTP codec, and per request either
 * <ul>
 *   <li>{@code file}: the path under ROOT opened, its size taken (fstat), read whole into a pooled direct buffer and
 *   closed, all on the event loop (the tree is in the page cache), then one write of head and body, the system
 *   calls nginx makes for it but its sendfile; no routing, no checks of the path beyond "..", no caches, no
 *   conditionals, no access log, no limits;</li>
 *   <li>{@code mem}: one 7 307-byte body from memory, no file at all: what HTTP over Netty costs alone;</li>
 *   <li>{@code raw} and {@code raw-mem}: the same without Netty's HTTP codec: the request's bytes searched for the
 *   end of its head and its path taken from the request line, a head of three fields written as bytes before the
 *   body (a yardstick only: it reads no field and answers every request alike).</li>
 * </ul>
 * What edge spends per request beyond {@code file} is its own; what {@code file} spends beyond nginx is the JVM's
 * and Netty's; what {@code file} spends beyond {@code raw}, Netty's HTTP codec's. With {@code FLOOR_TRANSPORT=io_uring}
 * the loops are Netty's io_uring transport's instead of epoll's (its jars on the class path): what moving edge's
 * sockets onto a ring would give. Run:
 * {@code java -cp 'edge-core/target/lib/*' bench/lib/NettyFloor.java PORT ROOT file|mem|raw|raw-mem}.
 */
public final class NettyFloor {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path root = Path.of(args[1]);
        boolean fromMemory = args[2].endsWith("mem");
        boolean raw = args[2].startsWith("raw");
        Bodies bodies = new Bodies(root, fromMemory,
                Unpooled.unreleasableBuffer(Unpooled.directBuffer(7307).writeZero(7307)));
        boolean uring = "io_uring".equals(System.getenv("FLOOR_TRANSPORT"));
        MultiThreadIoEventLoopGroup loops = new MultiThreadIoEventLoopGroup(
                uring ? (IoHandlerFactory) uringClass("IoUringIoHandler").getMethod("newFactory").invoke(null)
                        : EpollIoHandler.newFactory());
        new ServerBootstrap().group(loops)
                .channel(uring ? uringClass("IoUringServerSocketChannel").asSubclass(ServerChannel.class)
                        : EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (raw) {
                            ch.pipeline().addLast(new RawAnswer(bodies));
                        } else {
                            ch.pipeline().addLast(new HttpServerCodec(), new Answer(bodies));
                        }
                    }
                })
                .bind("127.0.0.1", port).sync();
        System.out.println("NettyFloor listening on 127.0.0.1:" + port + " (" + args[2] + (uring ? ", io_uring" : "")
                + ")");
    }

    /**
     * A class of Netty's io_uring transport, which edge does not ship: loaded by name, so that only a run with
     * {@code FLOOR_TRANSPORT=io_uring} needs its jars on the class path (bench/alone.sh's floor-uring fetches them).
     */
    private static Class<?> uringClass(String name) throws ClassNotFoundException {
        return Class.forName("io.netty.channel.uring." + name);
    }

    /** What a request is answered with: the file under {@code root} it names, or {@code body} from memory. */
    private record Bodies(Path root, boolean fromMemory, ByteBuf body) {
        /** The body for {@code uri}; null if there is no such file, or for a path with "..". */
        ByteBuf content(ChannelHandlerContext ctx, String uri) {
            return fromMemory ? body.duplicate() : read(ctx, root, uri);
        }
    }

    /** The file under {@code root} that {@code uri} names, read whole; null if none, or for a path with "..". */
    static ByteBuf read(ChannelHandlerContext ctx, Path root, String uri) {
        int query = uri.indexOf('?');
        String path = query < 0 ? uri : uri.substring(0, query);
        if (path.contains("..")) {
            return null;
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
            return content;
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code raw}: HTTP without Netty's codec, as little as wrk's keep-alive GETs need. */
    private static final class RawAnswer extends ChannelInboundHandlerAdapter {
        private static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: "
                .getBytes(StandardCharsets.US_ASCII);
        private static final byte[] END = "\r\nConnection: keep-alive\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] NOT_FOUND = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        private final Bodies bodies;
        private ByteBuf pending;

        RawAnswer(Bodies bodies) {
            this.bodies = bodies;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (pending != null) {
                pending.writeBytes(in);
                in.release();
                in = pending;
                pending = null;
            }
            try {
                for (int end; (end = ByteBufUtil.indexOf(CRLFCRLF, in)) >= 0; in.readerIndex(end + 4)) {
                    int from = in.readerIndex();
                    int space = in.indexOf(from, end, (byte) ' ');
                    int pathEnd = space < 0 ? -1 : in.indexOf(space + 1, end, (byte) ' ');
                    if (pathEnd < 0) {
                        ctx.close();
                        return;
                    }
                    respond(ctx, in.toString(space + 1, pathEnd - space - 1, StandardCharsets.US_ASCII));
                }
                if (in.isReadable()) {
                    pending = ctx.alloc().buffer(in.readableBytes() + 256).writeBytes(in);
                }
            } finally {
                in.release();
            }
        }

        private static final ByteBuf CRLFCRLF = Unpooled.unreleasableBuffer(
                Unpooled.wrappedBuffer("\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));

        private void respond(ChannelHandlerContext ctx, String uri) {
            ByteBuf content = bodies.content(ctx, uri);
            if (content == null) {
                ctx.write(Unpooled.wrappedBuffer(NOT_FOUND));
                return;
            }
            ByteBuf head = ctx.alloc().directBuffer(128).writeBytes(OK);
            head.writeCharSequence(Integer.toString(content.readableBytes()), StandardCharsets.US_ASCII);
            head.writeBytes(END);
            ctx.write(head);
            ctx.write(content);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
        }
    }

    private static final class Answer extends SimpleChannelInboundHandler<Object> {
        private final Bodies bodies;
        private boolean keepAlive;

        Answer(Bodies bodies) {
            this.bodies = bodies;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                keepAlive = HttpUtil.isKeepAlive(request);
                ByteBuf content = bodies.content(ctx, request.uri());
                FullHttpResponse response = content == null
                        ? answer(HttpResponseStatus.NOT_FOUND, Unpooled.EMPTY_BUFFER)
                        : answer(HttpResponseStatus.OK, content);
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

        private static FullHttpResponse answer(HttpResponseStatus status, ByteBuf content) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
            return response;
        }
    }
}
