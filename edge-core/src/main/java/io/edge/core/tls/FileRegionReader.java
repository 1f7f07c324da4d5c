package io.edge.core.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Sends a {@code FileRegion} through the SSL handler, which takes buffers only: sendfile cannot go through a cipher.
 * Each region written on a TLS connection (a cached answer's, a FastCGI answer spooled to a file; not a static file's,
 * an X-Accel-Redirect file's: the static responder has the file engine read those into buffers, see
 * {@code Exchange#endsTls}) is read in pieces of at most {@link #PIECE} bytes into pooled buffers, one piece at a
 * time, by a thread of {@link #READERS}, never the event loop; each piece is written as it comes while the channel is
 * writable, and once it is not, the next read waits for it to be again. So a connection holds a piece and what the
 * channel's high-water mark lets queue, never the file, whatever its size. Writes after a region wait for it, in order;
 * the region's promise completes with its last piece. Plain connections never have this handler: their regions go to
 * the socket by sendfile as before, with nothing more done per request.
 * <pre>
 *   IDLE --a region written--> READING (a piece read off the loop) --read, on the loop--> piece written;
 *     writable: READING again; not writable: WAITING --writable--> READING; the region's last piece: IDLE (next held)
 *   any --the channel closes--> what is held failed and released (a region being read: once its read is back)
 * </pre>
 */
final class FileRegionReader extends ChannelDuplexHandler {

    /** The most read at once: a few TLS records. */
    static final int PIECE = 128 * 1024;

    /** The threads that read the pieces: as many as cores, idle ones gone after a minute. */
    private static final Executor READERS = readers();

    private record Pending(Object message, ChannelPromise promise) {
    }

    /** What a piece is written as: the piece itself, or, on an HTTP/2 stream, an HTTP body part holding it. */
    private final Function<ByteBuf, Object> pieces;

    /** Writes held behind a region being read (its own first), oldest first. */
    private final ArrayDeque<Pending> held = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private boolean flushAsked;
    /** A piece of the head region is being read off the loop. */
    private boolean reading;
    private boolean closed;

    private static Executor readers() {
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), task -> {
                    Thread thread = new Thread(task, "edge-tls-file-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** A reader for a TLS connection: pieces go to the SSL handler as buffers. */
    FileRegionReader() {
        this(piece -> piece);
    }

    /**
     * A reader whose pieces are written as {@code pieces} makes them of each: on an HTTP/2 stream, whose channel takes
     * frames, as body parts ahead of the codec that makes DATA frames of them.
     */
    FileRegionReader(Function<ByteBuf, Object> pieces) {
        this.pieces = pieces;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
        if (held.isEmpty() && !(message instanceof FileRegion)) {
            ctx.write(message, promise);
            return;
        }
        if (closed) {
            ReferenceCountUtil.release(message);
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        held.add(new Pending(message, promise));
        pump();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (held.isEmpty()) {
            ctx.flush();
        } else {
            flushAsked = true;
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            pump();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        close();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        close();
    }

    /** Writes what is held up to the next region, and starts reading that region's next piece if the channel takes it. */
    private void pump() {
        while (!held.isEmpty() && !reading && !closed) {
            Pending head = held.peek();
            if (!(head.message() instanceof FileRegion region)) {
                held.poll();
                ctx.write(head.message(), head.promise());
                continue;
            }
            long left = region.count() - region.transferred();
            if (left <= 0) { // an empty region
                held.poll();
                ReferenceCountUtil.release(region);
                ctx.write(pieces.apply(Unpooled.EMPTY_BUFFER), head.promise());
                continue;
            }
            if (!ctx.channel().isWritable()) {
                ctx.flush(); // the pieces written go; writability brings the next read
                return;
            }
            reading = true;
            ByteBuf piece = ctx.alloc().directBuffer((int) Math.min(PIECE, left));
            READERS.execute(() -> {
                Throwable failure = null;
                try {
                    if (region.transferTo(new Sink(piece), region.transferred()) <= 0) {
                        failure = new IOException("the file of a region of " + region.count()
                                + " bytes ended after " + region.transferred());
                    }
                } catch (IOException | RuntimeException e) {
                    failure = e;
                }
                Throwable failed = failure;
                try {
                    ctx.executor().execute(() -> pieceRead(head, region, piece, failed));
                } catch (RejectedExecutionException stopping) { // the loops are shutting down: nothing writes it
                    piece.release();
                    ReferenceCountUtil.release(region);
                }
            });
            return;
        }
        if (held.isEmpty() && flushAsked) {
            flushAsked = false;
            ctx.flush();
        }
    }

    /** On the loop: a piece of {@code region}, the head of {@link #held}, was read into {@code piece} (or failed). */
    private void pieceRead(Pending head, FileRegion region, ByteBuf piece, Throwable failure) {
        reading = false;
        if (closed || failure != null) {
            piece.release();
            if (held.peek() == head) {
                held.poll();
            }
            ReferenceCountUtil.release(region);
            head.promise().tryFailure(failure != null ? failure : new ClosedChannelException());
            if (failure != null) {
                ctx.close();
            }
            return;
        }
        if (region.transferred() < region.count()) {
            ctx.writeAndFlush(pieces.apply(piece), ctx.voidPromise());
        } else {
            held.poll();
            ReferenceCountUtil.release(region); // written whole: what a socket's write does with it
            ctx.write(pieces.apply(piece), head.promise());
            ctx.flush();
        }
        pump();
    }

    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (reading) {
            held.poll(); // the region being read: pieceRead releases it, once the thread reading it is done with it
        }
        Pending pending;
        while ((pending = held.poll()) != null) {
            ReferenceCountUtil.release(pending.message());
            pending.promise().tryFailure(new ClosedChannelException());
        }
    }

    /** A channel that appends to a buffer what fits in it. */
    private record Sink(ByteBuf buffer) implements WritableByteChannel {

        @Override
        public int write(ByteBuffer source) {
            int length = Math.min(source.remaining(), buffer.writableBytes());
            ByteBuffer part = source.duplicate();
            part.limit(part.position() + length);
            buffer.writeBytes(part);
            source.position(source.position() + length);
            return length;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
