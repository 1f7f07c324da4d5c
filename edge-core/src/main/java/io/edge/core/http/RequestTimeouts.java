package io.edge.core.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ByteProcessor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Read-side timeouts of one client connection. Sits in front of the HTTP decoder so it sees raw bytes.
 *
 * <pre>
 *   WAITING --first byte but CR, LF--> HEAD --head decoded--> BUSY --exchange done, keep-alive--> WAITING (HEAD
 *                                                                     if the decoder already holds part of the next head)
 *   WAITING: a new connection waits {@code requestHead}, a kept-alive one {@code keepAlive}; expiry closes quietly.
 *            Either is listed in its loop's {@link IdleConnections} meanwhile (a kept-alive one from when its last
 *            response is out): at {@code max-connections} the server may close it early, as quietly.
 *   HEAD:    part of a request head arrived; expiry answers 408 and closes (slowloris).
 *   BUSY:    an exchange is running; its writes are watched by the write timeout instead.
 * </pre>
 *
 * Across those states, while a request body is incomplete ({@link #bodyStarted} to {@link #bodyEnded}) its
 * deadline is the one that counts: {@code body} after the last read, moved by every read; expiry fires
 * {@link #BODY_TIMEOUT} for the connection handler to answer (408, or a close once the response began). Time
 * while reading is off does not count: edge paused it (a responder whose sink for the body lags, pipelining), not
 * the client.
 *
 * One timer at most per connection, and none per request: the current state's expiry is a deadline field,
 * and the timer, when it fires, re-arms itself for a deadline that moved later (keep-alive ones move on every
 * request) rather than being cancelled and scheduled anew on each change. A timer is scheduled only when a
 * deadline moves earlier than the pending one (a new head timeout within a long keep-alive wait), and a head
 * that arrives whole in the read that started it never arms its own.
 *
 * All methods run on the channel's event loop.
 */
final class RequestTimeouts extends ReusableConnection {

    /** The event fired down the pipeline when a request body stayed silent for the body timeout. */
    static final Object BODY_TIMEOUT = new Object() {
        @Override
        public String toString() {
            return "request body timeout";
        }
    };

    private enum State { WAITING, HEAD, BUSY }

    /** How long a new connection says nothing before it may be closed to make room ({@link IdleConnections}). */
    static final long SILENT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long requestHeadNanos;
    private final long bodyNanos;
    private final long keepAliveNanos;
    private ChannelHandlerContext ctx;
    private State state = State.WAITING;
    /** When the head now read began ({@link System#nanoTime}), as nginx's request time counts; 0 outside a head. */
    private long headStartNanos;
    /** A request body is incomplete: {@link #deadline} is its deadline, whatever the state. */
    private boolean readingBody;
    /** When the current state (or body) expires (the executor's ticker); meaningless while BUSY without a body. */
    private long deadline;
    private ScheduledFuture<?> timer;
    /** When {@link #timer} fires. */
    private long timerAt;
    /** The end of the last response ({@link #awaitingRequest}); the keep-alive wait starts once it is done. */
    private ChannelFuture responseEnd;
    /** Whether the decoder holds part of a request (bytes of the next head that came with or after the last one). */
    private BooleanSupplier midRequest = () -> false;
    /**
     * When a new connection joins {@link #idleList} if it is still waiting for its first request (empty lines alone are
     * nothing); 0 once that time came.
     */
    private long silentFrom;

    RequestTimeouts(Duration requestHead, Duration body, Duration keepAlive) {
        this.requestHeadNanos = requestHead.toNanos();
        this.bodyNanos = body.toNanos();
        this.keepAliveNanos = keepAlive.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        long now = now();
        deadline = now + requestHeadNanos;
        if (idleList != null) {
            // Silent for SILENT_NANOS since it connected, it may be closed to make room as a kept-alive one may, as
            // nginx's reusable new connections: else max-connections clients that connect and say nothing, again each
            // head timeout, held every other client out (the resource audit). Not at once: a client just accepted
            // whose request is in the socket, not read yet, would be the one closed for the next.
            silentFrom = now + Math.min(SILENT_NANOS, requestHeadNanos);
            schedule(silentFrom); // fires first, then re-arms for the head's deadline
        } else {
            schedule(deadline);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (readingBody && (msg instanceof ByteBuf buf ? buf : msg instanceof ByteBufHolder frame ? frame.content()
                : Unpooled.EMPTY_BUFFER).isReadable()) { // a buffer; on an HTTP/2 stream, a DATA frame
            deadline = now() + bodyNanos; // the timer, when it fires, re-arms for it
        } else if (state == State.WAITING && msg instanceof ByteBuf buf && buf.isReadable()
                && (midRequest.getAsBoolean() || buf.forEachByte(ByteProcessor.FIND_NON_CRLF) >= 0)) {
            // Empty lines alone between requests (a CRLF some clients send after a POST's body) start no head: RFC
            // 9112 2.2 has them ignored, so the wait goes on as it was, not a head's 408 the client never asked for
            state = State.HEAD;
            headStartNanos = System.nanoTime();
            notIdle();
            long headDeadline = now() + requestHeadNanos;
            ctx.fireChannelRead(msg);
            if (ctx.isRemoved()) {
                return; // the read was HTTP/2's preface: the connection, HTTP/2 now, has no use for these
            }
            if (state == State.HEAD) {
                arm(headDeadline); // the head is still incomplete
            } else {
                waitForARestOfHead();
            }
            return;
        }
        ctx.fireChannelRead(msg);
        waitForARestOfHead();
    }

    /**
     * After the decoder took a read: a request answered within it (the connection waits again) may have been
     * followed by part of the next head, decoded only after that answer: its rest is waited for as a head is.
     */
    private void waitForARestOfHead() {
        if (state == State.WAITING && !readingBody && midRequest.getAsBoolean()) {
            keepAliveIfIdle();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    /** Taken out of a connection that ALPN turned to HTTP/2 ({@link Http2Connection}), whose streams have their own. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    private void stop() {
        notIdle();
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /**
     * Tells where to learn whether the decoder holds part of a request: once a response is out, such a connection
     * waits for the rest of that head ({@code requestHead}, then 408), not for a new request ({@code keepAlive}, then a
     * quiet close), as nginx's {@code client_header_timeout}.
     */
    void midRequestFrom(BooleanSupplier decoderMidRequest) {
        this.midRequest = decoderMidRequest;
    }

    /** A whole request head was decoded: the exchange takes over. */
    void headReceived() {
        state = State.BUSY;
        headStartNanos = 0;
        notIdle();
    }

    /**
     * When the head being read began ({@link System#nanoTime}): its first byte, or the end of the response before it
     * when it came with that one's request; now where no head is being read (one decoded from what an earlier read
     * brought, a pipelined request's).
     */
    long headStartNanos() {
        return headStartNanos != 0 ? headStartNanos : System.nanoTime();
    }

    /**
     * Lists this connection in {@code idle} while it waits for a request: a new one until its first byte, one between
     * requests once its last response is out, no part of a request read. The server may then close it
     * ({@link #closeIdle}) to make room.
     */
    void trackIdleIn(IdleConnections idle) {
        this.idleList = idle;
    }

    /** Quietly, as the end of its keep-alive wait does. */
    @Override
    ChannelFuture closeIdle() {
        notIdle();
        return ctx.close();
    }

    /** A request head announced a body (a length or chunks); it is read from now on. */
    void bodyStarted() {
        readingBody = true;
        arm(now() + bodyNanos);
    }

    /**
     * A client that waited for {@code 100 Continue} has been told to send its body: its body deadline counts from
     * now, not from the head (the wait was edge's: an earlier response going out, a responder not asking yet).
     */
    void bodyAwaited() {
        if (readingBody) {
            arm(now() + bodyNanos);
        }
    }

    /**
     * Edge reads the connection again after it paused reading (a spool file behind the disk, a backend not taking the
     * body, pipelining): a body's silence counts from now, the pause not the client's. The timer sees a pause only
     * while it lasts; one that ended just before the timer fired left the deadline from before it, and a client that
     * had been sending all along was answered 408.
     */
    void readingResumed() {
        if (readingBody) {
            deadline = Math.max(deadline, now() + bodyNanos); // the timer, when it fires, re-arms for it
        }
    }

    /** The last of the body arrived (or the connection gave up on it). */
    void bodyEnded() {
        if (readingBody) {
            readingBody = false;
            keepAliveIfIdle(); // the exchange may have been done before its body
        }
    }

    /**
     * The connection waits for its next kept-alive request. The keep-alive wait starts once {@code lastWrite}, the
     * end of the last response, is out and the request's body is all in: until then the client is still receiving
     * (a slow reader of a large file is the write timeout's business) or sending, and closing at the wait's end
     * would cut the response short.
     */
    void awaitingRequest(ChannelFuture lastWrite) {
        state = State.WAITING;
        responseEnd = lastWrite;
        if (!lastWrite.isDone()) {
            lastWrite.addListener(written -> {
                if (responseEnd == lastWrite) {
                    keepAliveIfIdle();
                }
            });
        }
        keepAliveIfIdle();
    }

    /**
     * Once waiting with no body coming: arms the keep-alive wait if the last response is out, else stops the timer
     * (a deadline of the request just answered, or of its body, must not end the wait) until that response's end
     * calls here again.
     */
    private void keepAliveIfIdle() {
        if (state != State.WAITING || readingBody) {
            return;
        }
        if (responseEnd == null || responseEnd.isDone()) {
            if (midRequest.getAsBoolean()) {
                state = State.HEAD; // part of the next head came with or during the last request
                headStartNanos = System.nanoTime();
                notIdle();
                arm(now() + requestHeadNanos);
            } else {
                long now = now();
                arm(now + keepAliveNanos);
                if (idleList != null && !idleLinked && responseEnd != null) { // kept alive, not new
                    idleList.add(this, now);
                }
            }
        } else if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Whether a request body is still incomplete, or the decoder holds part of a next request. */
    boolean clientSending() {
        return readingBody || midRequest.getAsBoolean();
    }

    /** Whether a connection is kept alive between requests at all ({@code keep-alive} above 0). */
    boolean keepsAlive() {
        return keepAliveNanos > 0;
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }

    private void arm(long newDeadline) {
        deadline = newDeadline;
        if (timer != null && timerAt - newDeadline <= 0) {
            return; // fires first and re-arms
        }
        if (timer != null) {
            timer.cancel(false);
        }
        schedule(newDeadline);
    }

    private void schedule(long at) {
        timerAt = at;
        timer = ctx.executor().schedule(this::fired, Math.max(0, at - now()), TimeUnit.NANOSECONDS);
    }

    private void fired() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (silentFrom != 0 && now() - silentFrom >= 0) {
            silentFrom = 0;
            if (state == State.WAITING && !idleLinked && responseEnd == null) {
                idleList.add(this, now());
            }
        }
        if (readingBody) {
            if (!ctx.channel().config().isAutoRead()) {
                deadline = now() + bodyNanos; // edge stopped reading, not the client
                schedule(deadline);
            } else if (now() - deadline < 0) {
                schedule(deadline);
            } else {
                readingBody = false;
                ctx.pipeline().fireUserEventTriggered(BODY_TIMEOUT);
            }
            return;
        }
        if (state == State.BUSY) {
            return; // re-armed when the exchange is done
        }
        if (now() - deadline < 0) {
            schedule(deadline);
        } else if (state == State.HEAD) {
            // The decoder holds a partial head; answer from here, after it in the pipeline, and close.
            ctx.pipeline().fireUserEventTriggered(new HttpStatusException(HttpResponseStatus.REQUEST_TIMEOUT, "request head timeout"));
        } else {
            ctx.close();
        }
    }
}
