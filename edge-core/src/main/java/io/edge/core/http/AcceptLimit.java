package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import java.io.IOException;

/**
 * {@code max-connections} where connections are accepted, on the listeners' accept loop, so that none is ever taken
 * from the listen backlog beyond the limit but the one client held for a slot, as nginx accepts it and then closes an
 * idle connection for it (HAProxy checks {@code maxconn} before each {@code accept}).
 *
 * <p>Two parts, installed on every listener by {@link HttpServerContext#limitAccepting}:
 * <ul>
 *   <li>{@link Allocator}: the listener's read handle. The transport's accept loop asks its {@code continueReading()}
 *   after each accept; it says no once the connections open plus those accepted in this read reach the limit and
 *   one more, to hold, was taken ({@link HttpServerContext#mayAcceptMore}). NIO
 *   accepts a whole read's worth before passing any of them on, epoll passes each on as it takes it: counting the
 *   accepts of the read covers both.</li>
 *   <li>{@link Admission}: first in the listener's pipeline, before Netty's acceptor hands the connection to its
 *   loop. Counts it as open ({@link HttpServerContext#admitAccepted}); or, at the limit, holds it until a slot frees
 *   (not closed), which stops the listeners' reading then and there, in the same read, before the accept loop looks
 *   at the socket again, and has an idle kept-alive connection closed for it.</li>
 * </ul>
 */
final class AcceptLimit {

    private AcceptLimit() {
    }

    /** The listeners' read handles: Netty's server-channel handle, stopped at the limit. */
    static final class Allocator implements RecvByteBufAllocator {

        /** Netty's default for a listener: up to 16 accepts per read (the server channels' metadata). */
        private final ServerChannelRecvByteBufAllocator accepts = new ServerChannelRecvByteBufAllocator();
        private final HttpServerContext server;

        Allocator(HttpServerContext server) {
            this.server = server;
            accepts.maxMessagesPerRead(16);
        }

        // Handle is deprecated for ExtendedHandle, which extends it; the interface must still name it.
        @Override
        @SuppressWarnings("deprecation")
        public Handle newHandle() {
            return new LimitedHandle((ExtendedHandle) accepts.newHandle(), server);
        }
    }

    /** Netty's handle, but reading ends once no connection more may be accepted. Runs on the accept loop. */
    @SuppressWarnings("deprecation") // ExtendedHandle's methods are declared by the deprecated Handle
    private static final class LimitedHandle implements RecvByteBufAllocator.ExtendedHandle {

        private final RecvByteBufAllocator.ExtendedHandle accepts;
        private final HttpServerContext server;

        LimitedHandle(RecvByteBufAllocator.ExtendedHandle accepts, HttpServerContext server) {
            this.accepts = accepts;
            this.server = server;
        }

        @Override
        public void reset(ChannelConfig config) {
            server.acceptReadStarted();
            accepts.reset(config);
        }

        @Override
        public void incMessagesRead(int numMessages) {
            server.acceptedInRead(numMessages);
            accepts.incMessagesRead(numMessages);
        }

        @Override
        public boolean continueReading() {
            return server.mayAcceptMore() && accepts.continueReading();
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return server.mayAcceptMore() && accepts.continueReading(maybeMoreDataSupplier);
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return accepts.allocate(alloc);
        }

        @Override
        public int guess() {
            return accepts.guess();
        }

        @Override
        public void lastBytesRead(int bytes) {
            accepts.lastBytesRead(bytes);
        }

        @Override
        public int lastBytesRead() {
            return accepts.lastBytesRead();
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            accepts.attemptedBytesRead(bytes);
        }

        @Override
        public int attemptedBytesRead() {
            return accepts.attemptedBytesRead();
        }

        @Override
        public void readComplete() {
            accepts.readComplete();
        }
    }

    /** First in every listener's pipeline: each accepted connection is counted and passed on, held, or closed. */
    @ChannelHandler.Sharable
    static final class Admission extends ChannelInboundHandlerAdapter {

        private final HttpServerContext server;

        Admission(HttpServerContext server) {
            this.server = server;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            server.admitAccepted(ctx, (Channel) msg);
        }

        /** A failed accept is the server's to handle ({@link HttpServerContext#acceptFailed}), not Netty's tail's. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                server.acceptFailed(ctx.channel(), cause);
            } else {
                ctx.fireExceptionCaught(cause);
            }
        }
    }
}
