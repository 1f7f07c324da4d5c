package io.edge.fastcgi.client;

import io.edge.fastcgi.BackendOverloadedException;
import io.edge.fastcgi.BackendTimeoutException;
import io.edge.fastcgi.BackendUnavailableException;
import io.edge.fastcgi.FcgiProtocolException;
import io.edge.fastcgi.LogText;
import io.edge.fastcgi.cgi.CgiResponseParser;
import io.edge.fastcgi.codec.FcgiAbortRequest;
import io.edge.fastcgi.codec.FcgiBeginRequest;
import io.edge.fastcgi.codec.FcgiEndRequest;
import io.edge.fastcgi.codec.FcgiGetValues;
import io.edge.fastcgi.codec.FcgiGetValuesResult;
import io.edge.fastcgi.codec.FcgiNameValues;
import io.edge.fastcgi.codec.FcgiParams;
import io.edge.fastcgi.codec.FcgiRecordDecoder;
import io.edge.fastcgi.codec.FcgiRecordEncoder;
import io.edge.fastcgi.codec.FcgiRecordType;
import io.edge.fastcgi.codec.FcgiRole;
import io.edge.fastcgi.codec.FcgiStderr;
import io.edge.fastcgi.codec.FcgiStdin;
import io.edge.fastcgi.codec.FcgiStdout;
import io.edge.fastcgi.codec.FcgiStreamRecord;
import io.edge.fastcgi.codec.FcgiUnknownType;
import io.edge.fastcgi.pool.Lease;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request on one leased backend connection. Created by {@link #start}, which writes BEGIN_REQUEST and
 * PARAMS (they go out with the first {@link #writeStdin} or {@link #endStdin}); the caller then streams the body with {@link #writeStdin} and {@link #endStdin}. The response
 * comes to the {@link Listener}: a head, body chunks, then the end, or one error instead of whatever is
 * left. Every method must be called on the backend channel's event loop, which is the loop the lease was
 * acquired for (the client's); the listener is called there too.
 *
 * <p>States:
 * <pre>
 *   SENDING (request going out; response may already arrive)
 *     --END_REQUEST, worker probe unanswered--> AWAITING_WORKER (listener ended; lease held)
 *     --END_REQUEST--> ENDED (lease released: reusable only with keep-alive, at a record boundary, and once the
 *                      empty STDIN record that ends the request was written; a backend that answered before the
 *                      body ended, as php-fpm after fastcgi_finish_request(), would read the next request as the
 *                      rest of this one)
 *     --protocol error, close, OVERLOADED--> FAILED (connection closed, lease released)
 *     --a response head refused (the listener told)--> as abort
 *     --read or write timeout--> FAILED (lease released as TIMED_OUT: the worker may still run the script)
 *     --abort, request whole--> DISCARDING
 *     --abort, request not whole--> FAILED (lease released as ABANDONED: the slot is free at once)
 *     --dropAnswer (the answer passed on to another backend)--> as abort; as a failure of the backend, the lease
 *                      released from then on as BACKEND_FAILED (TIMED_OUT stays TIMED_OUT)
 *   DISCARDING (the listener is gone; the backend is silent, its script still running)
 *     --END_REQUEST--> ENDED (lease released as above)   --read timeout--> FAILED (TIMED_OUT)
 *     --STDOUT or STDERR not followed by END_REQUEST in the same read--> FAILED (connection closed, slot free:
 *                      the script goes on writing, so the close stops it)
 *     --close, protocol error--> FAILED
 *   AWAITING_WORKER (the response is whole; the backend's worker may still run the script)
 *     --GET_VALUES_RESULT (or UNKNOWN_TYPE for GET_VALUES)--> ENDED (lease released as after END_REQUEST)
 *     --anything else, close, read timeout--> ENDED (connection closed, lease released CLOSE)
 * </pre>
 * ENDED and FAILED are terminal; the lease is released exactly once, on leaving SENDING, DISCARDING or
 * AWAITING_WORKER for either. The listener hears of nothing after {@link #abort}.
 *
 * <p>Waiting for the worker ({@link Options#awaitWorker}): php-fpm sends END_REQUEST when a script calls
 * {@code fastcgi_finish_request()} (Symfony's and Laravel's every response) and runs the script on, so a slot freed
 * at END_REQUEST would send the next request into php-fpm's listen backlog, past edge's queue and its timeout, while
 * the worker is busy. So the request goes with FCGI_KEEP_CONN and, behind its empty STDIN record in the same write,
 * a GET_VALUES record: php-fpm reads it only once the worker is back at reading its connection, and answers then
 * (and keeps the connection). Until that answer the lease is held; the connection is closed after it when the pool
 * keeps none. A backend that answers at once costs nothing; one that never answers has its slot freed after a read
 * timeout (logged once per address).
 *
 * <p>Why DISCARDING: php-fpm does not stop a script when its connection closes (a script that writes nothing
 * does not notice), so closing the connection of a gone client would free edge's slot while the worker still
 * runs the script, and the next connect would wait unseen in php-fpm's listen backlog. Keeping the exchange
 * until END_REQUEST keeps the slot taken exactly as long as the worker is. A script that writes, though, is
 * stopped by the close (its next write fails, and PHP aborts a script whose client is gone unless it set
 * {@code ignore_user_abort}): output after the abort that END_REQUEST does not follow in the same read closes the
 * connection and frees the slot, so a streaming or long-polling script whose client left does not hold its worker
 * to its natural end.
 *
 * <p>Backpressure: when the client cannot take more, call {@link #pauseResponse} (the backend channel stops
 * reading, so the backend blocks on its writes) and {@link #resumeResponse} when it can. Before writing
 * more request body, check {@link #isWritable} and wait with {@link #onWritable}. The read timeout counts
 * only time without backend data after the request was sent, and not while the response is paused.
 */
public final class FcgiExchange {

    private static final Logger LOG = LoggerFactory.getLogger(FcgiExchange.class);
    private static final Logger STDERR = LoggerFactory.getLogger("io.edge.fastcgi.stderr");
    /** The longest piece of a script's stderr line logged as one line; the rest follows in lines of its own. */
    static final int STDERR_LINE = 8192;
    /** What begins each further piece of a stderr line longer than {@link #STDERR_LINE}. */
    static final String CONTINUED = "(continued) ";
    /**
     * The stderr lines (or pieces) of one request logged as they come; the rest are counted, and the last of them logged
     * with that count as the request ends (a fatal error comes last): a script flooding its stderr (a notice in a loop)
     * wrote its megabytes into the error log, a line each, holding the event loop and crowding out other requests'
     * lines. nginx logs the first 2 KB or so of each record.
     */
    static final int STDERR_LINES = 100;
    /** The headers a script's head had mended or dropped that are each named in the log; the rest are counted. */
    static final int MENDED_LOGGED = 3;
    private static final int REQUEST_ID = 1;

    /** Receives the response. Called on the backend channel's event loop. */
    public interface Listener {

        /** The CGI head, as an HTTP response head (status from {@code Status:}, 302 for a bare {@code Location:}). */
        void onHead(HttpResponse head);

        /** A body chunk; ownership passes to the listener, which must release it. */
        void onBody(ByteBuf chunk);

        /**
         * Everything the backend sent so far has been delivered (one socket read), and more is to come. A
         * listener that writes body chunks without flushing them flushes here, so a small response goes out
         * in one write together with its end.
         */
        default void onReadComplete() {
        }

        /**
         * The backend finished the response. The lease is released, or, while the worker is awaited
         * ({@link Options#awaitWorker}), released by the exchange itself later: the caller has nothing to release.
         */
        void onEnd();

        /**
         * The exchange failed for the listener: nothing more comes to it. {@code cause} is one of
         * {@link FcgiProtocolException}, {@link BackendTimeoutException}, {@link BackendOverloadedException},
         * {@link BackendUnavailableException}, an {@link OutOfMemoryError} (no memory for a read buffer: edge's own
         * want), or what the listener itself threw from {@code onHead}, {@code onBody} or {@code onReadComplete}.
         * {@code onHead} may already have been called. The lease is released
         * and the connection closed, except after a response head the exchange refused: the script runs on, so the
         * exchange goes on alone as after {@link #abort} and releases the lease itself when its worker is free. Also
         * after {@code onEnd}, with what it threw: the backend's part was over, its lease released as after any end.
         */
        void onError(Throwable cause);
    }

    /**
     * @param requestId     names the request in STDERR log lines
     * @param maxHeaderSize cap on the CGI response head, in bytes
     * @param readTimeout   longest time without backend data once the request was sent
     * @param writeTimeout  longest time the backend may refuse request body (its socket not writable)
     * @param client        what STDERR log lines say of the request they came with, as nginx's
     *                      {@code client: ..., request: "..."}: e.g. {@code client 10.0.0.7, request "GET /a.php"};
     *                      empty for nothing
     * @param awaitWorker   whether the lease is kept past END_REQUEST until the backend's worker reads again: see
     *                      "Waiting for the worker" above
     * @param keptFields    the script's Status and X-Accel-Charset lines (lower case names) left in the head for the
     *                      client, as nginx's fastcgi_pass_header leaves them ({@link CgiResponseParser})
     */
    public record Options(String requestId, int maxHeaderSize, Duration readTimeout, Duration writeTimeout,
            String client, boolean awaitWorker, Set<String> keptFields) {

        public Options {
            keptFields = Set.copyOf(keptFields);
        }

        /** Options whose head keeps none of the lines read for the server ({@link CgiResponseParser}'s kept). */
        public Options(String requestId, int maxHeaderSize, Duration readTimeout, Duration writeTimeout,
                String client, boolean awaitWorker) {
            this(requestId, maxHeaderSize, readTimeout, writeTimeout, client, awaitWorker, Set.of());
        }

        /** Options that release the lease at END_REQUEST, whatever the worker does after it. */
        public Options(String requestId, int maxHeaderSize, Duration readTimeout, Duration writeTimeout,
                String client) {
            this(requestId, maxHeaderSize, readTimeout, writeTimeout, client, false);
        }

        /** Options whose STDERR lines name the request by its id alone. */
        public Options(String requestId, int maxHeaderSize, Duration readTimeout, Duration writeTimeout) {
            this(requestId, maxHeaderSize, readTimeout, writeTimeout, "");
        }

        /** Options whose write timeout equals the read timeout. */
        public Options(String requestId, int maxHeaderSize, Duration readTimeout) {
            this(requestId, maxHeaderSize, readTimeout, readTimeout);
        }
    }

    private enum State { SENDING, DISCARDING, AWAITING_WORKER, ENDED, FAILED }

    /** What the request asks after its end: any variable will do, the answer's time is what counts. */
    private static final FcgiGetValues WORKER_PROBE = new FcgiGetValues(List.of("FCGI_MPXS_CONNS"));
    /** Backends that left a worker probe unanswered for a whole read timeout, logged once each. */
    private static final java.util.Set<String> UNANSWERED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Lease lease;
    private final Channel backendChannel;
    private final Options options;
    private final Listener listener;
    private final CgiResponseParser parser;
    private final Handler handler = new Handler();
    /** Where {@link #handler} receives the backend's events while the exchange runs; null before it began. */
    private ExchangeSlot slot;
    private final ChannelFutureListener writeFailure = this::writeDone;
    private final StringBuilder stderrLine = new StringBuilder();
    /** Stderr lines logged, and those past {@link #STDERR_LINES}: how many, their bytes, the last (null: none). */
    private int stderrLogged;
    private long stderrUnlogged;
    private long stderrUnloggedBytes;
    private String stderrLastUnlogged;
    private State state = State.SENDING;
    private boolean paused;
    /** The empty STDIN record is written: the backend has the whole request. */
    private boolean stdinEnded;
    /** {@link #endStdin} was called: the whole request is on its way. */
    private boolean stdinEnding;
    /** Output of the request came (a STDOUT record with content). */
    private boolean stdoutCame;
    /** A STDOUT or STDERR record of the request with content came: the script ran. */
    private boolean scriptWrote;
    /** What runs when one first does ({@link #onFirstOutput}); null for nothing. */
    private Runnable onFirstOutput;
    /** Something was flushed to the backend (a first {@link #writeStdin} or {@link #endStdin}). */
    private boolean sentAny;
    /** A write of the request went into the socket: the backend may have some of it. */
    private boolean delivered;
    /** A record arrived from the backend. */
    private boolean receivedAny;
    /** The connection ended quietly (its end of input, then a close; no reset, no error) before any record came. */
    private boolean endedQuietly;
    /** The backend certainly never took the request ({@link #requestUnread}). */
    private boolean unread;
    /** STDOUT or STDERR came in the read going on, after {@link #abort}. */
    private boolean outputWhileDiscarding;
    /** The answer was dropped as a failure of the backend ({@link #dropAnswer}): the lease is released as one. */
    private boolean answerFailed;
    /** The worker probe went out behind the request ({@link Options#awaitWorker}). */
    private boolean probing;
    /** The backend answered the probe: its worker reads again. */
    private boolean workerFree;
    private ScheduledFuture<?> workerTimer;
    private Runnable onWritable;
    /**
     * When the read timeout counts from: the last read once the head is in (or the response no longer wanted), else the
     * end of the request, as nginx's upstream read timer, which no part of the head moves: a backend that sent a header
     * line every half second held its request and its slot until the head's size limit, some 34 minutes.
     */
    private long lastReadNanos;
    /** The whole head was read ({@link Listener#onHead} called). */
    private boolean headRead;
    private ScheduledFuture<?> readTimer;
    private ScheduledFuture<?> writeTimer;

    private FcgiExchange(Lease lease, Options options, Listener listener) {
        this.lease = lease;
        this.backendChannel = lease.channel();
        this.options = options;
        this.listener = listener;
        this.parser = new CgiResponseParser(options.maxHeaderSize(), options.keptFields());
    }

    /**
     * Starts an exchange: installs the FastCGI codec on a new connection, then writes BEGIN_REQUEST
     * (FCGI_KEEP_CONN when the pool keeps connections) and the params. The exchange owns the lease from now
     * on. A reused connection the backend closed in the meantime fails at once with
     * {@link BackendUnavailableException} (nothing was sent, so the caller may retry with a new lease).
     */
    public static FcgiExchange start(Lease lease, List<? extends Map.Entry<String, String>> params, Options options,
            Listener listener) {
        return start(lease, FcgiNameValues.encode(lease.channel().alloc(), params), options, listener);
    }

    /**
     * As {@link #start(Lease, List, Options, Listener)}, with the params already encoded as name-value pairs
     * ({@code CgiParams.encode}); the exchange owns {@code encodedParams} from now on.
     */
    public static FcgiExchange start(Lease lease, ByteBuf encodedParams, Options options, Listener listener) {
        FcgiExchange exchange;
        try {
            Objects.requireNonNull(listener, "listener");
            exchange = new FcgiExchange(lease, options, listener);
        } catch (RuntimeException e) {
            encodedParams.release();
            throw e;
        }
        lease.exchangeStarted();
        exchange.begin(encodedParams);
        return exchange;
    }

    private void begin(ByteBuf encoded) {
        ChannelPipeline p = backendChannel.pipeline();
        ExchangeSlot slot = (ExchangeSlot) p.get(ExchangeSlot.NAME);
        if (slot == null) {
            slot = new ExchangeSlot();
            p.addLast("fcgi-encoder", new FcgiRecordEncoder());
            p.addLast("fcgi-decoder", new FcgiRecordDecoder());
            p.addLast(ExchangeSlot.NAME, slot);
            p.addLast("fcgi-idle-guard", IdleGuard.INSTANCE);
        }
        if (!backendChannel.isActive()) {
            encoded.release();
            fail(new BackendUnavailableException(lease.address() + ": connection closed before the request"),
                    Lease.Outcome.CLOSE);
            return;
        }
        this.slot = slot;
        slot.occupy(handler);
        lastReadNanos = backendChannel.eventLoop().ticker().nanoTime();
        // FCGI_KEEP_CONN also when the pool does not keep the connection, if the worker is to be waited for:
        // without it php-fpm closes at fastcgi_finish_request(), while its worker runs on unseen
        backendChannel.write(new FcgiBeginRequest(REQUEST_ID, FcgiRole.RESPONDER,
                lease.keepAlive() || options.awaitWorker())).addListener(writeFailure);
        backendChannel.write(new FcgiParams(REQUEST_ID, encoded)).addListener(writeFailure);
        // Not flushed: the first writeStdin or endStdin sends it all in one write.
        backendChannel.write(new FcgiParams(REQUEST_ID, Unpooled.EMPTY_BUFFER)).addListener(writeFailure);
    }

    /** Sends a chunk of request body; ownership of {@code chunk} passes to the exchange. */
    public ChannelFuture writeStdin(ByteBuf chunk) {
        if (state != State.SENDING || !chunk.isReadable()) {
            chunk.release();
            return backendChannel.newSucceededFuture();
        }
        sentAny = true;
        ChannelFuture f = backendChannel.writeAndFlush(new FcgiStdin(REQUEST_ID, chunk));
        f.addListener(writeFailure);
        return f;
    }

    /** Ends the request body (sends the empty STDIN record) and starts the read timeout. */
    public void endStdin() {
        if (state != State.SENDING) {
            return;
        }
        sentAny = true;
        stdinEnding = true;
        ChannelFuture ended = backendChannel.write(new FcgiStdin(REQUEST_ID, Unpooled.EMPTY_BUFFER));
        if (options.awaitWorker()) {
            // in the same write: the backend reads it only once its worker has finished the script
            probing = true;
            backendChannel.write(WORKER_PROBE).addListener(writeFailure);
        }
        backendChannel.flush();
        ended.addListener((ChannelFutureListener) f -> {
            stdinEnded = f.isSuccess();
            writeDone(f);
        });
        lastReadNanos = backendChannel.eventLoop().ticker().nanoTime();
        scheduleReadTimer(options.readTimeout().toNanos());
    }

    /**
     * Runs {@code task} when the script's first output comes, before it is handled (at once if some came already);
     * never if the exchange ends first. For a request whose client left that must still reach the script whole (a
     * POST): {@link #abort aborted} then, the script is stopped at its next output, and until then whatever befalls
     * the request (a kept connection found closed, FCGI_OVERLOADED) is told as for any.
     */
    public void onFirstOutput(Runnable task) {
        if (stdoutCame) {
            task.run();
        } else {
            onFirstOutput = task;
        }
    }

    /** Whether the backend can take more request body now. */
    public boolean isWritable() {
        return backendChannel.isWritable();
    }

    /** Runs {@code task} once the backend channel is writable (at once if it is). */
    public void onWritable(Runnable task) {
        if (backendChannel.isWritable() || state != State.SENDING) {
            task.run();
        } else {
            onWritable = task;
            if (writeTimer == null) {
                writeTimer = backendChannel.eventLoop().schedule(this::writeTimedOut,
                        options.writeTimeout().toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    /** The backend took no request body for the whole write timeout. */
    private void writeTimedOut() {
        writeTimer = null;
        if (state == State.SENDING && onWritable != null) {
            onWritable = null;
            fail(new BackendTimeoutException(lease.address() + ": request body not taken for "
                    + options.writeTimeout().toMillis() + " ms"), Lease.Outcome.TIMED_OUT);
        }
    }

    private void cancelWriteTimer() {
        if (writeTimer != null) {
            writeTimer.cancel(false);
            writeTimer = null;
        }
    }

    /** Stops reading the response until {@link #resumeResponse}. */
    public void pauseResponse() {
        if (state == State.SENDING && !paused) {
            paused = true;
            backendChannel.config().setAutoRead(false);
        }
    }

    public void resumeResponse() {
        if (paused) {
            paused = false;
            lastReadNanos = backendChannel.eventLoop().ticker().nanoTime();
            backendChannel.config().setAutoRead(true);
        }
    }

    /**
     * The response is no longer wanted (the client went away): the listener is not called again. A request the
     * backend has whole is left to finish while it is silent: the lease is released at END_REQUEST (or the
     * read timeout), so the slot stays taken while the backend's worker runs the script; the first record it sends
     * closes the connection instead, which stops a script that writes. A request cut off while going out closes the
     * connection at once; its lease is released as {@link Lease.Outcome#ABANDONED}, or as
     * {@link Lease.Outcome#CLOSE} when nothing was sent yet.
     */
    public void abort() {
        onFirstOutput = null;
        if (state != State.SENDING) {
            return;
        }
        cancelWriteTimer();
        onWritable = null;
        if (stdinEnding && backendChannel.isActive()) {
            state = State.DISCARDING;
            if (paused) { // nobody reads the response any more: let it come as fast as the backend sends it
                paused = false;
                lastReadNanos = backendChannel.eventLoop().ticker().nanoTime();
                backendChannel.config().setAutoRead(true);
            }
            LOG.debug("fastcgi {} request {}: client gone, dropping the response until END_REQUEST", lease.address(),
                    options.requestId());
            return;
        }
        state = State.FAILED;
        cleanUp();
        release(sentAny ? Lease.Outcome.ABANDONED : Lease.Outcome.CLOSE);
    }

    /**
     * The answer, its head read, goes to nobody: the request goes on to another backend (nginx's fastcgi_next_upstream
     * http_503). As {@link #abort}: the listener is not called again, and the script is left to end while its slot
     * stays taken. {@code failed}: the failure is counted against the address's health at once ({@link Lease#failed}),
     * as nginx counts a 500, 503 or 429 it passes on the moment it does, not when the script ends (a script that
     * sleeps after its head would let the next requests meet an address already down); whenever the lease is released,
     * it is as {@link Lease.Outcome#BACKEND_FAILED} (the connection closed, counted no more), or as
     * {@link Lease.Outcome#TIMED_OUT} should the script outlive the read timeout; else as after any abort (a 403 or 404,
     * none of the backend's failures).
     */
    public void dropAnswer(boolean failed) {
        answerFailed = failed;
        if (failed) {
            lease.failed();
        }
        abort();
    }

    /** Whether the listener has heard the last of this exchange (it ended, failed, or was aborted). */
    public boolean isDone() {
        return state != State.SENDING;
    }

    /**
     * After a {@link BackendUnavailableException}: whether the request may be sent again on another connection.
     * True when nothing was sent, or when not a single record came back: a kept-alive connection the backend had
     * closed as the request went out, or a new one reset in the backlog of a php-fpm that stopped (its master closes
     * the listener with connections no worker took; issue 3 asks that a stop and start fail no request). A worker
     * killed mid-script also closes without a record and cannot be told apart on a Unix socket (both are resets:
     * php-fpm leaves the request's empty STDIN record unread), so such a bodiless GET/HEAD may run again (once,
     * FastCgiResponder); once any record came (STDOUT,
     * STDERR: a script that logged), the script ran and is never run again.
     */
    public boolean mayReplay() {
        return !sentAny || !receivedAny;
    }

    /**
     * After a {@link BackendUnavailableException}: whether the backend certainly never took the request, so it may
     * go to another connection whatever its method (a POST too). php-fpm ends a kept connection this way when a
     * worker ends its last request ({@code pm.max_requests}): it sends END_REQUEST, shuts its side of the socket
     * down and exits once it has read, and dropped, whatever edge sends on until edge closes; that close lags the
     * END_REQUEST by a fraction of a millisecond, in which the connection can be reused. A worker that dies closes
     * its socket whole instead. So a reused connection on a Unix socket ({@code EpollConnector} reads it with
     * half-closure) that ended its input before any record came is written once more (ABORT_REQUEST): taken by the
     * socket, the worker was draining, and this is true; refused, it is the usual failure. True as well for a
     * connection that closed before the first of the request went out (a large body still being read back), and for
     * one whose first write the kernel refused (nothing of the request is in the socket).
     */
    public boolean requestUnread() {
        return unread;
    }

    /**
     * After a {@link BackendUnavailableException}: whether a kept-alive connection ended quietly (an end of input,
     * no reset) after the request went out and before any record came. That is how a php-fpm worker's kept
     * connection ends after its last request ({@code pm.max_requests}) over TCP, where {@link #requestUnread} cannot
     * tell; a worker killed mid-script resets it instead (php-fpm leaves the request's empty STDIN record unread). So
     * the request may go again as one on a connection that was never taken: nginx does not count a retry on a cached
     * connection either.
     */
    public boolean keptConnectionEnded() {
        return endedQuietly && lease.isReused() && sentAny && !receivedAny;
    }

    private void writeDone(ChannelFuture f) {
        if (f.isSuccess()) {
            delivered = true;
        } else {
            if (f.cause() instanceof OutOfMemoryError) {
                // no memory for a record's buffer (the encoder's, a flush's copy): edge's own want, as on a read
                fail(f.cause(), Lease.Outcome.CLOSE);
                return;
            }
            if (!delivered && f.cause() instanceof IOException) { // ClosedChannelException too
                // Not flushed (BEGIN_REQUEST and the params wait for the first of the body, still being read back),
                // they fail with the connection; or the first write the kernel refused (EPIPE, ECONNRESET: a php-fpm
                // killed with the connection in its backlog): writes complete in order, so none went before it,
                // and the backend has none of the request (the lifecycle audit: such a GET used up its one replay)
                unread = true;
            }
            fail(new BackendUnavailableException(lease.address() + ": write failed", f.cause()),
                    Lease.Outcome.BACKEND_FAILED);
        }
    }

    private void scheduleReadTimer(long delayNanos) {
        readTimer = backendChannel.eventLoop().schedule(this::readTimeoutCheck, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void readTimeoutCheck() {
        if (state != State.SENDING && state != State.DISCARDING) {
            return;
        }
        long timeout = options.readTimeout().toNanos();
        if (paused) {
            scheduleReadTimer(timeout);
            return;
        }
        long idle = backendChannel.eventLoop().ticker().nanoTime() - lastReadNanos;
        if (idle >= timeout) {
            fail(new BackendTimeoutException(lease.address() + ": no data for " + options.readTimeout().toMillis()
                    + " ms"), Lease.Outcome.TIMED_OUT);
        } else {
            scheduleReadTimer(timeout - idle);
        }
    }

    /** @param outcome what the pool learns of the connection: never {@code REUSABLE}, a failed exchange's is closed */
    private void fail(Throwable cause, Lease.Outcome outcome) {
        if (state != State.SENDING && state != State.DISCARDING) {
            return;
        }
        boolean listening = state == State.SENDING;
        state = State.FAILED;
        cleanUp();
        LOG.debug("fastcgi {} request {}: {}", lease.address(), options.requestId(), cause.toString());
        release(outcome);
        if (backendChannel.isOpen()) { // the pool closed it, unless the lease had gone before
            backendChannel.close();
        }
        if (listening) {
            listener.onError(cause);
        }
    }

    private void end(FcgiEndRequest end) {
        switch (end.protocolStatus()) {
            case REQUEST_COMPLETE -> {
                if (parser.head() == null && state == State.SENDING) {
                    fail(FcgiProtocolException.of("stdout", "ended inside the response head",
                            "headers ended by a blank line"), Lease.Outcome.BACKEND_FAILED);
                    return;
                }
                boolean listening = state == State.SENDING;
                FcgiRecordDecoder decoder = backendChannel.pipeline().get(FcgiRecordDecoder.class);
                // clean whether or not connections are kept (the pool closes this one then): a clean end is also
                // what resets the address's run of failures, which without keep-alive ran on for the process's life
                boolean clean = stdinEnded && decoder != null && decoder.isAtRecordBoundary();
                if (stdinEnded && probing && !workerFree) {
                    // not judged at a record boundary yet: the probe's answer may follow in this very read (a script
                    // that ended at once); workerFreed judges the boundary after it
                    state = State.AWAITING_WORKER;
                    lease.answered(); // its client may ask again before the worker is free: the pool makes room
                    cleanUp(false); // the slot stays this exchange's: the probe's answer comes to it
                    workerTimer = backendChannel.eventLoop().schedule(this::workerUnanswered,
                            options.readTimeout().toNanos(), TimeUnit.NANOSECONDS);
                } else {
                    state = State.ENDED;
                    cleanUp();
                    release(clean ? Lease.Outcome.REUSABLE : Lease.Outcome.CLOSE);
                }
                if (listening) {
                    try {
                        listener.onEnd();
                    } catch (RuntimeException | Error e) {
                        // the backend's part is over (its lease released, or held for its worker as ever): edge's own
                        // fault, told as any of the listener's, which ends the client's exchange with it; dropped
                        // (this exchange's handler leaves a done exchange alone), the client waited for its timeout
                        logListenerFailure("the end of the response", e);
                        listener.onError(e);
                    }
                }
            }
            // a refusal of a request the script never saw; after output of it, a backend that speaks no FastCGI
            case OVERLOADED -> fail(scriptWrote
                    ? FcgiProtocolException.of("protocolStatus", "FCGI_OVERLOADED after the script's output",
                            "REQUEST_COMPLETE")
                    : new BackendOverloadedException(lease.address().spec()),
                    scriptWrote ? Lease.Outcome.BACKEND_FAILED : Lease.Outcome.OVERLOADED);
            default -> fail(FcgiProtocolException.of("protocolStatus", end.protocolStatus(), "REQUEST_COMPLETE"),
                    Lease.Outcome.BACKEND_FAILED);
        }
    }

    /**
     * The worker probe's answer came after END_REQUEST: the backend's worker reads again, so the slot is free. The
     * connection is as reusable as the END_REQUEST left it, unless more than the answer came.
     */
    private void workerFreed() {
        FcgiRecordDecoder decoder = backendChannel.pipeline().get(FcgiRecordDecoder.class);
        workerDone(decoder != null && decoder.isAtRecordBoundary() ? Lease.Outcome.REUSABLE : Lease.Outcome.CLOSE);
    }

    /** Leaves AWAITING_WORKER: the slot is no longer this exchange's, and the lease is released as {@code outcome}. */
    private void workerDone(Lease.Outcome outcome) {
        state = State.ENDED;
        cancelWorkerTimer();
        slot.vacate(handler);
        release(outcome);
    }

    /** Releases the lease as {@code outcome}, or as a failure of the backend after {@link #dropAnswer}{@code (true)}. */
    private void release(Lease.Outcome outcome) {
        lease.release(answerFailed && outcome != Lease.Outcome.TIMED_OUT ? Lease.Outcome.BACKEND_FAILED : outcome);
    }

    /**
     * The connection ended, failed or brought something else while the worker was awaited: the worker is gone with it
     * (php-fpm's ends at pm.max_requests this way), or the backend speaks no FastCGI the wait can trust. The response
     * was whole; the slot is free and the connection closed.
     */
    private void workerGone(String why) {
        if (state != State.AWAITING_WORKER) {
            return;
        }
        LOG.debug("fastcgi {} request {}: {} while its worker was awaited", lease.address(), options.requestId(), why);
        workerDone(Lease.Outcome.CLOSE);
        if (backendChannel.isOpen()) {
            backendChannel.close();
        }
    }

    /**
     * The probe went unanswered for a whole read timeout after END_REQUEST: a script still running after
     * fastcgi_finish_request(), or a backend that does not answer FCGI_GET_VALUES. The slot is given up rather than
     * held for good (logged once per address: a backend that never answers has each slot held that long).
     */
    private void workerUnanswered() {
        workerTimer = null;
        if (state == State.AWAITING_WORKER && UNANSWERED.add(lease.address().spec())) {
            LOG.info("fastcgi {}: no answer to FCGI_GET_VALUES for {} ms after a response (a script running on after "
                    + "fastcgi_finish_request(), or a backend that does not answer it); its connection is closed and "
                    + "its slot freed; logged once", lease.address(), options.readTimeout().toMillis());
        }
        workerGone("no answer to the worker probe");
    }

    private void cancelWorkerTimer() {
        if (workerTimer != null) {
            workerTimer.cancel(false);
            workerTimer = null;
        }
    }

    private void cleanUp() {
        cleanUp(true);
    }

    /** Stops the timers, logs what STDERR left, reads on; {@code vacate}: the slot is no longer this exchange's. */
    private void cleanUp(boolean vacate) {
        cancelWriteTimer();
        if (readTimer != null) {
            readTimer.cancel(false);
            readTimer = null;
        }
        flushStderr();
        logUnloggedStderr();
        if (paused) {
            paused = false;
            backendChannel.config().setAutoRead(true);
        }
        if (vacate && slot != null) {
            slot.vacate(handler);
        }
    }

    /**
     * The script's head is refused (a status out of range, a malformed line, a head over the cap): the client is told
     * (502) at once, or the request goes on to the next address (invalid_header). The records were sound and the
     * script runs on, so its answer is dropped as one passed on ({@link #dropAnswer}): its output goes nowhere, and
     * the slot is held until its worker is free rather than freed while the worker runs (the next request would wait
     * unseen in php-fpm's backlog). A failure of its address, counted at once, the last address's too: nginx frees
     * the peer of an invalid header as NGX_PEER_FAILED (ngx_http_upstream_next, NGX_HTTP_UPSTREAM_FT_INVALID_HEADER)
     * whether or not it passes the request on, and closes its connection.
     */
    private void headRefused(FcgiProtocolException cause) {
        LOG.debug("fastcgi {} request {}: {}", lease.address(), options.requestId(), cause.toString());
        dropAnswer(true);
        listener.onError(cause);
    }

    private void stdout(FcgiStdout stdout) {
        ByteBuf content = stdout.content();
        if (parser.head() == null) {
            boolean complete;
            try {
                complete = parser.parse(content);
            } catch (FcgiProtocolException refused) {
                stdout.release();
                headRefused(refused);
                return;
            }
            if (!complete) {
                stdout.release();
                return;
            }
            List<String> mended = parser.mended();
            for (String one : mended.subList(0, Math.min(MENDED_LOGGED, mended.size()))) {
                LOG.warn("[{}] {}: response header {}", options.requestId(), lease.address(), LogText.escapeControls(one));
            }
            if (mended.size() > MENDED_LOGGED) {
                LOG.warn("[{}] {}: {} more response headers mended or dropped", options.requestId(), lease.address(),
                        mended.size() - MENDED_LOGGED);
            }
            headRead = true;
            lastReadNanos = backendChannel.eventLoop().ticker().nanoTime(); // the read that ended it counts
            try {
                listener.onHead(parser.head());
            } catch (RuntimeException | Error e) {
                stdout.release();
                listenerFailed("the response head", e);
                return;
            }
            if (state != State.SENDING) {
                stdout.release();
                return;
            }
        }
        if (content.isReadable()) {
            try {
                listener.onBody(content); // ownership passes with the message's reference
            } catch (RuntimeException | Error e) {
                listenerFailed("a part of the response body", e);
            }
        } else {
            stdout.release();
        }
    }

    /**
     * The listener threw taking {@code what}: edge's own fault, not the backend's, so no failure of the backend is
     * counted and the client gets no 502 for it; the exchange ends with it (its stack trace logged, for the bug it is)
     * rather than waiting for a backend that is not at fault.
     */
    private void listenerFailed(String what, Throwable e) {
        logListenerFailure(what, e);
        fail(e, Lease.Outcome.CLOSE);
    }

    private void logListenerFailure(String what, Throwable e) {
        if (e instanceof OutOfMemoryError) {
            // out of (direct) memory for a moment, under a load's peak: no bug to trace, one line per answer it fails
            LOG.warn("[{}] {}: {} could not be taken: {} (raise -XX:MaxDirectMemorySize, or lower "
                    + "response-buffer.memory)", options.requestId(), lease.address(), what, e.toString());
        } else {
            LOG.warn("[{}] {}: {} could not be taken: {}", options.requestId(), lease.address(), what, e.toString(), e);
        }
    }

    private void stderr(FcgiStderr stderr) {
        ByteBuf content = stderr.content();
        try {
            // A line at a time, not a byte at a time (a script logging much, under paranoid leak detection in tests,
            // recorded a trace per byte read). A line over STDERR_LINE goes out in pieces of at most that, none lost:
            // php-fpm joins a script's messages with "; " into one line until one of them spans lines, so the fatal
            // error that explains a 500 may come after tens of KiB of notices (it was cut off at 8 KiB).
            while (content.isReadable()) {
                int from = content.readerIndex();
                int lf = content.indexOf(from, content.writerIndex(), (byte) '\n');
                int end = lf < 0 ? content.writerIndex() : lf;
                int room = STDERR_LINE - stderrLine.length();
                if (end - from > room) {
                    stderrLine.append(content.toString(from, room, StandardCharsets.ISO_8859_1));
                    content.readerIndex(from + room);
                    // a UTF-8 sequence the piece would end inside (this record's, or one begun in an earlier record)
                    // goes whole with the next piece
                    int carry = incompleteUtf8Tail(stderrLine);
                    String carried = stderrLine.substring(stderrLine.length() - carry);
                    stderrLine.setLength(stderrLine.length() - carry);
                    flushStderr();
                    stderrLine.append(CONTINUED).append(carried);
                    continue;
                }
                stderrLine.append(content.toString(from, end - from, StandardCharsets.ISO_8859_1));
                content.readerIndex(lf < 0 ? end : lf + 1);
                if (lf >= 0) {
                    flushStderr();
                }
            }
        } finally {
            stderr.release();
        }
    }

    /**
     * How many chars (bytes, one per char) at the end of {@code line} are the start of a UTF-8 sequence they do not
     * complete: 0 if it ends between sequences.
     */
    static int incompleteUtf8Tail(CharSequence line) {
        int n = line.length();
        for (int back = 1; back <= Math.min(3, n); back++) {
            int b = line.charAt(n - back) & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // a continuation byte: its lead is further back
            }
            int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return length > back ? back : 0;
        }
        return 0;
    }

    /** Logs the line gathered so far, with the request it came with; control characters escaped ({@link LogText}). */
    private void flushStderr() {
        if (stderrLine.length() == 0) {
            return;
        }
        if (stderrLogged < STDERR_LINES) {
            stderrLogged++;
            logStderr("", stderrLine);
        } else {
            stderrUnlogged++;
            stderrUnloggedBytes += stderrLine.length();
            stderrLastUnlogged = stderrLine.toString();
        }
        stderrLine.setLength(0);
    }

    /** As the request's stderr ends: the last line not logged as it came, with how many were not. */
    private void logUnloggedStderr() {
        if (stderrLastUnlogged != null) {
            logStderr("(" + stderrUnlogged + (stderrUnlogged == 1 ? " line, " : " lines, ") + stderrUnloggedBytes
                    + " bytes, not logged as they came; the last:) ", stderrLastUnlogged);
            stderrLastUnlogged = null;
        }
    }

    /** Logs a stderr line ({@code bytes}, one char per byte) after {@code prefix}, with the request it came with. */
    private void logStderr(String prefix, CharSequence bytes) {
        String line = prefix + new String(bytes.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        if (options.client().isEmpty()) {
            STDERR.warn("[{}] {}: {}", options.requestId(), lease.address(), LogText.escapeControls(line));
        } else {
            // the request's target is the client's too: C1 controls (0x80-0x9f) pass RequestTarget
            STDERR.warn("[{}] {}: {} ({})", options.requestId(), lease.address(), LogText.escapeControls(line),
                    LogText.escapeControls(options.client()));
        }
    }

    /**
     * The backend's answer to the worker probe: GET_VALUES_RESULT, or UNKNOWN_TYPE naming GET_VALUES, a backend's
     * answer to a management record it does not implement (FastCGI 1.0, 4.2), which also says it read the probe.
     */
    private static boolean answersProbe(Object msg) {
        return msg instanceof FcgiGetValuesResult
                || msg instanceof FcgiUnknownType unknown && unknown.unknownType() == FcgiRecordType.GET_VALUES.code();
    }

    /** Inbound side of the exchange, in the backend pipeline between the decoder and the idle guard. */
    private final class Handler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (headRead || state != State.SENDING) {
                lastReadNanos = backendChannel.eventLoop().ticker().nanoTime();
            }
            if (state == State.AWAITING_WORKER) {
                ReferenceCountUtil.release(msg);
                if (answersProbe(msg)) {
                    workerFreed();
                } else {
                    workerGone("a record other than GET_VALUES_RESULT came");
                }
                return;
            }
            if (state != State.SENDING && state != State.DISCARDING) {
                ReferenceCountUtil.release(msg);
                return;
            }
            receivedAny = true;
            if (answersProbe(msg)) { // a backend that answers at once, not when its worker is free
                ReferenceCountUtil.release(msg);
                workerFree = true;
                return;
            }
            if (state == State.DISCARDING && !(msg instanceof FcgiEndRequest)) {
                // Output for a client that left: dropped; unless END_REQUEST follows in this read (the script's
                // last words), the script goes on writing, and the close at the read's end stops it. Its stderr is
                // still logged: php-fpm sends a script's messages last, just before END_REQUEST, and they say why a
                // head was refused or what an aborted script did.
                if (msg instanceof FcgiStderr stderr && stderr.requestId() == REQUEST_ID) {
                    stderr(stderr);
                } else {
                    ReferenceCountUtil.release(msg);
                }
                outputWhileDiscarding = true;
                return;
            }
            // (an empty STDOUT only ends the stream: a backend may end it before its END_REQUEST, refusals too)
            if (msg instanceof FcgiStreamRecord written && written.requestId() == REQUEST_ID
                    && !(msg instanceof FcgiStdin) && written.content().isReadable()) {
                scriptWrote = true;
            }
            if (msg instanceof FcgiStdout first && first.requestId() == REQUEST_ID && !stdoutCame
                    && first.content().isReadable()) {
                stdoutCame = true;
                Runnable task = onFirstOutput;
                onFirstOutput = null;
                if (task != null) {
                    task.run();
                    if (state != State.SENDING) { // aborted: the output is dropped, and the close stops the script
                        channelRead(ctx, msg);
                        return;
                    }
                }
            }
            try {
                if (msg instanceof FcgiStdout stdout && stdout.requestId() == REQUEST_ID) {
                    stdout(stdout);
                } else if (msg instanceof FcgiStderr stderr && stderr.requestId() == REQUEST_ID) {
                    stderr(stderr);
                } else if (msg instanceof FcgiEndRequest end && end.requestId() == REQUEST_ID) {
                    end(end);
                } else {
                    // named before its release: a stream record's description reads its content's length
                    FcgiProtocolException unexpected =
                            FcgiProtocolException.of("record", msg, "STDOUT, STDERR or END_REQUEST for request 1");
                    ReferenceCountUtil.release(msg);
                    throw unexpected;
                }
            } catch (FcgiProtocolException e) {
                fail(e, Lease.Outcome.BACKEND_FAILED);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (state == State.SENDING) {
                try {
                    listener.onReadComplete();
                } catch (RuntimeException | Error e) {
                    listenerFailed("the end of a read", e);
                }
            } else if (state == State.DISCARDING && outputWhileDiscarding) {
                fail(new BackendUnavailableException(lease.address() + ": output for a client that left"),
                        Lease.Outcome.CLOSE);
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (state == State.AWAITING_WORKER) {
                workerGone(cause.toString());
            } else if (cause instanceof FcgiProtocolException) {
                fail(cause, Lease.Outcome.BACKEND_FAILED);
            } else if (cause instanceof OutOfMemoryError) {
                // no memory for a read buffer (-XX:MaxDirectMemorySize reached): edge's own want, not the backend's
                // doing, so no failure of it counted and no 502 (503); Netty stops reading after such a read, and the
                // connection closes with the exchange
                fail(cause, Lease.Outcome.CLOSE);
            } else {
                fail(new BackendUnavailableException(lease.address() + ": " + cause, cause),
                        Lease.Outcome.BACKEND_FAILED);
            }
        }

        /** The backend ended its side of a half-closure connection: see {@link #requestUnread}. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (!(event instanceof ChannelInputShutdownEvent)) {
                ctx.fireUserEventTriggered(event);
                return;
            }
            if (state == State.SENDING && sentAny && !receivedAny && lease.isReused()) {
                ctx.writeAndFlush(new FcgiAbortRequest(REQUEST_ID)).addListener((ChannelFutureListener) probe -> {
                    unread = probe.isSuccess();
                    ctx.close(); // channelInactive fails the exchange, as any close before END_REQUEST
                });
            } else {
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (state == State.AWAITING_WORKER) {
                workerGone("the connection closed");
                ctx.fireChannelInactive();
                return;
            }
            // A record cut off by the close: the decoder failed in decodeLast, but fires channelInactive
            // before the exception, so report its error rather than a plain close.
            FcgiRecordDecoder decoder = ctx.pipeline().get(FcgiRecordDecoder.class);
            if (decoder != null && decoder.failure() != null) {
                fail(decoder.failure(), Lease.Outcome.BACKEND_FAILED);
            } else {
                endedQuietly = state == State.SENDING; // no exception failed the exchange first
                fail(new BackendUnavailableException(lease.address() + ": connection closed before END_REQUEST"),
                        Lease.Outcome.BACKEND_FAILED);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            Runnable task = onWritable;
            if (task != null && ctx.channel().isWritable()) {
                onWritable = null;
                cancelWriteTimer();
                task.run();
            }
            ctx.fireChannelWritabilityChanged();
        }
    }
}
