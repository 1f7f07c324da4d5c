package io.edge.core.proxy;

import io.edge.aio.linux.Syscalls;
import io.edge.cache.http.ResponseCache;
import io.edge.conf.LimitRate;
import io.edge.conf.LocationSettings;
import io.edge.core.http.BackendGate;
import io.edge.core.http.Exchange;
import io.edge.core.http.HttpStatusException;
import io.edge.core.http.RequestTarget;
import io.edge.core.http.Responder;
import io.edge.core.fastcgi.BackendFileNames;
import io.edge.core.fastcgi.ResponseSpool;
import io.edge.core.fastcgi.SpoolDrain;
import io.edge.core.fastcgi.SpooledBody;
import io.edge.core.limit.BodyPace;
import io.edge.fastcgi.BackendGroupSettings;
import io.edge.fastcgi.BackendTimeoutException;
import io.edge.fastcgi.BackendUnavailableException;
import io.edge.fastcgi.LogText;
import io.edge.fastcgi.QueueFullException;
import io.edge.fastcgi.client.IdleGuard;
import io.edge.fastcgi.pool.BackendPool;
import io.edge.fastcgi.pool.Lease;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a location's requests from an HTTP/1.1 backend group (nginx's {@code proxy_pass} to an upstream), on the
 * client's event loop: the connection comes from the group's {@link BackendPool} (so a request that finds every
 * connection busy waits in its bounded queue, then 503 + Retry-After, as a FastCGI request does), and carries a Netty
 * {@link HttpClientCodec} of the running call's own ahead of its handler, and an {@link IdleGuard} that closes it for
 * anything that comes between calls.
 *
 * <h2>A call</h2>
 * <pre>
 *   [BODY: read whole, memory then a temporary file (proxy-request-buffering)] ──whole──► QUEUED
 *   QUEUED ──lease──► SENDING (head, then the body kept, or as the client sends it) ──body sent──► AWAITING (the head)
 *      │                 │  (the backend may answer before the body is all sent: its head and body pass on, and the
 *      │                 │   connection is closed after, never reused)
 *      │                 └──────────────────────────────► STREAMING ──last content──► DONE (lease REUSABLE or CLOSE)
 *   STREAMING, buffered ──what the client can't take now──► the spool, drained as the client takes it; the backend
 *                              paused only while it is full; last content with it not empty: DONE for the backend
 *                              (lease given back), the drain ends the client's answer
 *   queue full / timeout: 503; a connect that fails (refused, reset, unreachable, timed out): the next address of
 *                              the group not tried yet, any method (nothing went), with error (timeout for a connect
 *                              timeout) in the list; none left: 502 (504 for a timeout); the last one left refusing is
 *                              waited for as a restart (BackendPool's restart window)
 *   any state ──client gone──► DONE: the place in the queue given up, or the backend connection closed (never pooled
 *                              with an answer half read)
 *   SENDING / AWAITING ──kept connection closed before any byte of an answer──► QUEUED again, once, for a request that
 *                              nginx passes on (below) and that has no body or a kept one, with error in the list
 *                              (not a try)
 *   SENDING / AWAITING ──connection failed (error), read (or write) timeout (timeout), an answer not HTTP
 *                              (invalid_header) or a head whose status is in the list (http_502...: its connection
 *                              closed, its body unread) before any byte of an answer went to the client──► QUEUED for
 *                              the next address not tried yet, for a request nginx passes on, its body kept (or
 *                              none); else (or none left) 502, 504 for a timeout, or that head's answer as it is, the
 *                              last address's (an address left is looked for before a head is dropped)
 *   STREAMING ──failed or timed out──► the client's connection closed (never sent again: bytes of it went)
 *   any state ──not HTTP / a 101──► 502 (the head not yet sent), else the client's connection closed
 *   AWAITING ──a 101 to a request that asked to upgrade──► DONE: both connections a {@link ProxyTunnel}'s
 * </pre>
 * The next address is nginx's {@code proxy_next_upstream}, its conditions the location's (proxy-next-upstream, error
 * and timeout by default; none for off), bounded by {@code proxy_next_upstream_tries} and {@code
 * proxy_next_upstream_timeout} (proxy-next-upstream-tries and -timeout, 0 for none: the defaults): each address at most
 * once per request ({@link BackendPool#acquireNext}), every try in {@code $upstream_addr} and {@code $upstream_status}
 * ("127.0.0.1:8081, 127.0.0.1:8082" and "502, 200"), each failure counted against its address's health (a 403 or 404
 * passed on is none); a queue full or timed out (busy) is no failure. nginx sends any request again once it went out
 * except a POST, LOCK or PATCH (1.9.13), those too with non_idempotent.
 * A request's body is read whole before the request goes to the group, as nginx's {@code proxy_request_buffering}
 * (the location's proxy-request-buffering, on by default): a {@link SpooledBody}, memory then an unlinked temporary
 * file, so a client that uploads slowly holds no connection (nor place of max-connections) meanwhile; it goes with its
 * Content-Length, chunked or not as the client sent it, and is kept until the exchange ends, so a request passed on
 * goes with it whole. Without (proxy-request-buffering = false) the body is streamed as the client sends it, and a
 * request with one, once it went, has none to send again, whatever the list.
 * The answer is read as fast as the backend sends it (nginx's {@code proxy_buffering}, the location's proxy-buffering):
 * what the client does not take at once is held in a {@link ResponseSpool} (the group's response-buffer: memory, then
 * an unlinked temporary file), drained in order as the client takes it, so the backend's connection is given back
 * (kept or closed) once the answer is whole, and the read timeout stops with it; only a full spool pauses the backend.
 * A client that leaves drops the spool. Without buffering (proxy-buffering = false, or the backend's
 * X-Accel-Buffering: no) the backend is not read while the client's connection takes nothing more. The client's body
 * is not read while the backend's connection takes nothing more. A location's limit-rate, or the backend's own
 * X-Accel-Limit-Rate, paces the answer's body as nginx's limit_rate does ({@link BodyPace}): buffered, the spool's
 * drain writes a piece at a time as the pace allows; unbuffered, ahead of the rate, the backend is not read until
 * the next piece is due.
 * An answer with {@code X-Accel-Redirect} is followed as nginx's proxy follows it: its body dropped, its connection
 * kept only where it had none, and the request redirected inside edge to the URI as a GET, carrying the backend's fields
 * nginx keeps ({@link Exchange#carryHeaders}).
 * A location's gzip compresses the answer on its way out as it does a script's ({@link Exchange#offerCompression()}:
 * nginx's gzip filter after its proxy module), buffered or not, zlib flushed with each flush to the client; the pace
 * counts the bytes that go out, compressed.
 *
 * <h2>With the response cache</h2>
 * A location with {@code cache = true} (nginx's {@code proxy_cache}) sends its requests through a {@link BackendGate},
 * the FastCGI locations' own: it answers from the cache, or runs the call with the request it derived (a GET for a
 * HEAD, the stored entry's validators for a revalidation: nginx's {@code proxy_cache_revalidate on}) and a tap that
 * sees the head as the client would (its redirects rewritten, hidden fields left out) and each chunk of the body as
 * it is read from the backend, before it goes to the client or the spool: a buffered answer is recorded at the
 * backend's speed, however slowly its client reads. The tap may take the answer over at its head (a 304 merged into
 * the entry, a 5xx a stale copy replaces): the client then gets nothing of it from here. A HEAD's answer ends with its
 * head, the rest read for the cache alone; a client that leaves while the cache still wants the answer (others wait
 * for it) leaves it read to its end for the cache. A request that asks to upgrade passes the cache by.
 */
public final class ProxyResponder implements Responder {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyResponder.class);
    private static final String X_ACCEL_REDIRECT = "X-Accel-Redirect";
    static final String CODEC = "proxy-http-codec";
    static final String LINE_ENDS = "proxy-line-ends";
    static final String CALL = "proxy-call";
    static final String IDLE_GUARD = "proxy-idle-guard";
    /**
     * How a backend's answer is read: Netty's defaults, but a line of the head may end with a bare LF, as nginx's
     * upstream parser takes one (RFC 9112 2.2 lets a recipient); the answer is framed anew for the client either way.
     * A chunked body's lines need CRLF whatever this says: {@link ChunkedLineEnds} ahead of the codec gives them one.
     * Nor are Netty's RFC 9112 checks on Transfer-Encoding made: nginx 1.22 reads a chunked body whatever the status
     * line's version (RFC 9112 6.1 lets a recipient), and over a Content-Length beside it, which ChunkedLineEnds leaves
     * out (6.3: chunked wins); neither answer's connection is reused ({@link Call#head}). Nor does the codec see two
     * Content-Lengths, or one that is no number, which it would refuse: ChunkedLineEnds leaves the last one, as nginx
     * 1.22 reads it, or none (the body read to the close). A field's name may hold any visible ASCII but ':', as nginx
     * 1.22's proxy passes it on ({@link ProxyHeaders#ANSWER_FIELDS}), where Netty's would refuse {@code Fo(o}. The
     * head's fields are held to 8 KiB by ChunkedLineEnds, as they came: the codec's limit has room for the colon it
     * gives each line that had none.
     */
    static final HttpDecoderConfig ANSWER_DECODING = new HttpDecoderConfig().setStrictLineParsing(false)
            .setUseRfc9112TransferEncoding(false).setHeadersFactory(ProxyHeaders.ANSWER_FIELDS)
            .setMaxHeaderSize(2 * ChunkedLineEnds.MAX_FIELDS);

    private final BackendPool pool;
    private final long readTimeoutNanos;
    private final long writeTimeoutNanos;
    private final BackendGroupSettings.ResponseBuffer responseBuffer;
    /** Where a spool's temporary file is made (server.run-dir's, as a FastCGI answer's). */
    private final Path spoolDir;
    /** Where a buffered request body's temporary file is made (server.client-body-temp-path). */
    private final Path bodySpoolDir;
    /** What requests pass through on their way to the backend (the response cache), or null for none. */
    private final BackendGate gate;

    /**
     * @param pool     the group's connections
     * @param group    the group: its timeouts, and its response-buffer for a buffered answer
     * @param spoolDir where a buffered answer's temporary file is made (and at once unlinked)
     * @param bodySpoolDir where a buffered request body's is, when longer than the location's client-body-buffer-size
     */
    public ProxyResponder(BackendPool pool, BackendGroupSettings group, Path spoolDir, Path bodySpoolDir) {
        this(pool, group, spoolDir, bodySpoolDir, null);
    }

    /** As above, every request but an upgrade passed through {@code gate} (the response cache), if not null. */
    public ProxyResponder(BackendPool pool, BackendGroupSettings group, Path spoolDir, Path bodySpoolDir,
            BackendGate gate) {
        this.gate = gate;
        this.pool = pool;
        this.readTimeoutNanos = group.timeouts().read().toNanos();
        this.writeTimeoutNanos = group.timeouts().write().toNanos();
        this.responseBuffer = group.responseBuffer();
        this.spoolDir = spoolDir;
        this.bodySpoolDir = bodySpoolDir;
    }

    @Override
    public void respond(Exchange exchange) {
        if (gate == null || asksToUpgrade(exchange)) {
            // a tunnel is no answer to keep (nginx keeps no 101)
            new Call(exchange, exchange.request(), null).start();
        } else {
            gate.enter(exchange, (to, backendRequest, tap) -> new Call(to, backendRequest, tap).start());
        }
    }

    /** Whether the request goes with an Upgrade to the backend (proxy-upgrade, and one the client may have). */
    private static boolean asksToUpgrade(Exchange exchange) {
        return exchange.location().proxy().upgrade() && exchange.upgradable()
                && ProxyHeaders.upgradeProtocols(exchange.request().headers()) != null;
    }

    /**
     * One request's way to the backend and back; every method runs on the client's event loop. Sharable only in that
     * it goes into a second connection's pipeline when sent again ({@link #backendFailed}): it is in one at a time.
     */
    @ChannelHandler.Sharable
    private final class Call extends ChannelInboundHandlerAdapter {

        private final Exchange exchange;
        /** What the backend is sent: the client's request, or the one the gate derived from it. */
        private final HttpRequest request;
        /** The gate's watch on the answer (the response cache), or null. */
        private final BackendGate.ResponseTap tap;
        /**
         * The client gets no more of the answer from this call: the tap took it over at its head, a HEAD's answer ended
         * with its head, or the client left while the tap still wants the answer ({@link #detached}).
         */
        private boolean takenOver;
        /** The client left, and the answer goes on for the tap alone. */
        private boolean detached;
        /** A HEAD's answer ended with its head, the backend's GET read on for the tap. */
        private boolean headAnswered;
        private final LocationSettings location;
        /** When the request goes on to the next address (proxy-next-upstream). */
        private final LocationSettings.NextUpstream next;
        /**
         * When it first went to the group, its body whole where it is read first: proxy-next-upstream-timeout counts
         * from here, as nginx's from its upstream's start, so the time a client took to upload is not counted.
         */
        private long startedNanos;
        /** Tries that failed, connects included: proxy-next-upstream-tries bounds them. */
        private int failedTries;
        private final boolean hasBody;
        /** The body, read whole before the first try and sent whole with each (proxy-request-buffering); or null. */
        private SpooledBody body;
        /** What waits for the backend's connection to take more of {@link #body}; or null. */
        private Runnable whenWritable;
        /** The protocols the backend is asked to switch to (the client's Upgrade, h2c left out), or null for none. */
        private final String upgrade;
        private Future<Lease> pending;
        private Lease lease;
        private Channel backendChannel;
        private ScheduledFuture<?> timer;
        /** When the backend last moved (a read, a write done), or the client let it move again after a pause. */
        private long lastProgressNanos;
        private long queuedNanos;
        private long acquiredAt;
        private boolean retried;
        /** The keys of the addresses the request went out to: it is passed on only to others. */
        private final Set<String> tried = new HashSet<>();
        /** The failure that passed the request on, answered if no other address takes it; null before one. */
        private Throwable passedOnFor;
        /** The address of the last connect that failed for the current acquire (listed for the log), or null. */
        private SocketAddress failedConnect;
        private boolean requestSent;
        /** Some byte of an answer came: a request is never sent again past this. */
        private boolean answering;
        private boolean headWritten;
        /** The backend is not read until the client takes more, or the pace lets the next piece go. */
        private boolean paused;
        /** The pace of the answer's body (the location's limit-rate, or the backend's X-Accel-Limit-Rate); or null. */
        private BodyPace pace;
        /** The answer is read as fast as the backend sends it, what the client does not take held in {@link #spool}. */
        private boolean buffered;
        /** What of a buffered answer the client has not taken yet, in order; made on the first need. */
        private ResponseSpool spool;
        /** Writes {@link #spool} out as the client takes it; made with it. */
        private SpoolDrain drain;
        /** The backend's answer ended with some of it still in {@link #spool}: the drain ends the client's. */
        private boolean endAfterSpool;
        /** The client left (or its answer failed): nothing more is written to it. */
        private boolean clientLeft;
        /** A 1xx head came: its (empty) body is dropped with it. */
        private boolean interim;
        /** The answer's head lets the connection carry another request once its body is read. */
        private boolean keepBackend;
        /** The running try's line-end fixer, ahead of its codec: what it saw of the head ({@link #head}). */
        private ChunkedLineEnds lineEnds;
        /** The answer's X-Accel-Redirect, followed once its connection is given back; or null. */
        private Runnable accelFollowed;
        private boolean done;
        private final ChannelFutureListener sent = this::written;

        Call(Exchange exchange, HttpRequest request, BackendGate.ResponseTap tap) {
            this.exchange = exchange;
            this.request = request;
            this.tap = tap;
            this.location = exchange.location();
            this.next = location.proxy().nextUpstream();
            this.hasBody = Exchange.announcesBody(request);
            this.upgrade = tap == null && asksToUpgrade(exchange)
                    ? ProxyHeaders.upgradeProtocols(exchange.request().headers()) : null;
            exchange.tagLogLines("[" + exchange.requestId() + "]");
            exchange.onClientGone(this::clientGone);
            exchange.endOnClientClose(true);
        }

        /**
         * Goes to the group; a request with a body, where the location buffers it (nginx's proxy_request_buffering),
         * once that body is whole. Expect: 100-continue is answered as the body is asked for: a full queue before
         * that (the client spared an upload only to be refused), as a FastCGI location's.
         */
        void start() {
            if (exchange.keptBody() instanceof SpooledBody kept) {
                // the body a backend's X-Accel-Redirect sent the request on with, read whole there, held by the
                // exchange until it ends: sent again, as nginx sends the body it kept where a redirect lands
                body = kept;
                toGroup();
                return;
            }
            if (!hasBody || !location.proxy().requestBuffering()) {
                toGroup();
                return;
            }
            if (exchange.isEnded()) {
                return; // its client's FIN came already (endOnClientClose)
            }
            if (exchange.awaitsContinue()) {
                QueueFullException full = pool.refusalIfFull();
                if (full != null) {
                    exchange.fail(full);
                    return;
                }
            }
            // a spool that takes nothing for the group's write timeout fails as a backend that takes nothing would
            SpooledBody whole = new SpooledBody(exchange.clientChannel(), exchange::pauseBody,
                    location.clientBodyBufferSize(), bodySpoolDir, Duration.ofNanos(writeTimeoutNanos),
                    this::bodyNotSpooled);
            exchange.whenEnded(whole::release); // kept for every try until then
            exchange.readBody(content -> whole.take(content, () -> {
                if (!done && !exchange.isEnded()) {
                    whole.logIfInFile(exchange.requestId(), exchange.request());
                    body = whole;
                    toGroup();
                }
            }), () -> {
                whole.release();
                if (tap != null) {
                    tap.onGivenUp(); // the cache's flight this request leads ends: nothing will be asked for it
                }
            });
        }

        /** The body could not go to its spool file (a full disk, no descriptor left): 500 (503 for descriptors). */
        private void bodyNotSpooled(IOException cause) {
            LOG.warn("[{}] request body of {} {} could not be spooled to {}: {}", exchange.requestId(),
                    exchange.request().method(), LogText.escapeBytes(exchange.request().uri()), bodySpoolDir,
                    cause.toString());
            exchange.sendError(Syscalls.isOutOfDescriptors(cause) ? HttpResponseStatus.SERVICE_UNAVAILABLE
                    : HttpResponseStatus.INTERNAL_SERVER_ERROR);
        }

        /**
         * The kept body could not be read back from its spool file: the backend got part of it, its connection is
         * closed and the request ends, 500 (edge's fault), or cut where the backend's answer began.
         */
        private void bodyUnreadable(IOException cause) {
            LOG.warn("[{}] request body of {} {} could not be read back from its spool file: {}", exchange.requestId(),
                    exchange.request().method(), LogText.escapeBytes(exchange.request().uri()), cause.toString());
            finish();
            exchange.upstreamEnded();
            releaseLease(Lease.Outcome.CLOSE);
            if (headWritten) {
                exchange.fail(cause);
            } else {
                exchange.sendError(HttpResponseStatus.INTERNAL_SERVER_ERROR);
            }
        }

        /** One try's connection as where the kept {@link #body} goes; closed once the call left that connection. */
        private SpooledBody.Sink sinkTo(Channel backend) {
            return new SpooledBody.Sink(part -> backend.writeAndFlush(new DefaultHttpContent(part)).addListener(sent),
                    () -> {
                        backend.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(sent);
                        requestSent = true;
                    }, () -> done || backendChannel != backend, backend::isWritable, task -> whenWritable = task);
        }

        /** The request's first try: proxy-next-upstream-timeout counts from now. */
        private void toGroup() {
            startedNanos = System.nanoTime();
            acquire();
        }

        void acquire() {
            if (done) {
                return;
            }
            acquiredAt = System.nanoTime();
            failedConnect = null;
            // a request that waited behind another for the same answer (the cache's) waits that much less here; one the
            // cache can answer from a stale copy fails at once while the group refuses connections
            long waited = queuedNanos + (tap == null ? 0 : tap.waitedNanos());
            pending = pool.acquireNext(exchange.clientChannel().eventLoop(), waited, retried || passedOnFor != null,
                    tap != null && tap.answersWithoutBackend(), tried, this::connectFailed,
                    cause -> mayPassOn(cause instanceof ConnectTimeoutException
                            ? LocationSettings.Condition.TIMEOUT : LocationSettings.Condition.ERROR));
            pending.addListener(f -> leased());
        }

        /** A connect made for the request failed, and it goes on to the next address if any: a try of its own. */
        private void connectFailed(String key, BackendUnavailableException failure) {
            tried.add(key);
            failedTries++;
            if (!done) {
                failedConnect = failure.triedAddress();
                exchange.upstreamFailed(failedConnect, failure);
            }
        }

        private void leased() {
            Future<Lease> f = pending;
            pending = null;
            if (f.isCancelled()) {
                return;
            }
            if (!f.isSuccess()) {
                if (!(f.cause() instanceof QueueFullException)) {
                    exchange.upstreamQueued(queuedNanos + System.nanoTime() - acquiredAt);
                }
                SocketAddress last = BackendPool.triedAddress(f.cause());
                if (last != null && !last.equals(failedConnect)) { // (that one is listed: connectFailed)
                    exchange.upstreamFailed(last, f.cause());
                }
                if (body != null && !detached) {
                    // read whole, never sent: the error's page (502 = "/busy.php", "@busy") gets it, as nginx's
                    // error_page redirect sends on the body it read (a script's group's the same: FastCgiResponder)
                    BackendFileNames.passOnBody(exchange, body);
                }
                finish();
                // passed on with no address left to try: answered as the last try failed, as nginx does
                failed(passedOnFor != null && f.cause() instanceof BackendUnavailableException && last == null
                        ? passedOnFor : f.cause());
                return;
            }
            lease = f.getNow();
            if (done) {
                lease.release(Lease.Outcome.CLOSE);
                return;
            }
            queuedNanos += lease.waitNanos();
            if (tap != null) {
                tap.onLeased();
            }
            exchange.upstreamStarted(lease.waitNanos(), lease.connectNanos());
            backendChannel = lease.channel();
            SocketAddress peer = backendChannel.remoteAddress();
            exchange.upstreamAddress(peer != null ? peer : lease.address().address());
            lease.exchangeStarted();
            if (!backendChannel.isActive()) { // before a codec goes on: a closed pipeline would never remove it
                backendFailed(new BackendUnavailableException(lease.address() + ": connection closed before the request"));
                return;
            }
            ChannelPipeline p = backendChannel.pipeline();
            if (p.get(IDLE_GUARD) == null) {
                p.addLast(IDLE_GUARD, IdleGuard.INSTANCE);
            }
            // a codec of its own per request: the last one left with the answer it read (releaseLease)
            lineEnds = new ChunkedLineEnds(HttpMethod.HEAD.equals(request.method()));
            p.addBefore(IDLE_GUARD, LINE_ENDS, lineEnds);
            p.addBefore(IDLE_GUARD, CODEC, new HttpClientCodec(ANSWER_DECODING, false, false));
            p.addBefore(IDLE_GUARD, CALL, this);
            lastProgressNanos = System.nanoTime();
            armTimer(Math.min(readTimeoutNanos, writeTimeoutNanos));
            backendChannel.write(requestHead()).addListener(sent);
            if (body != null) {
                body.sendTo(sinkTo(backendChannel), this::bodyUnreadable);
            } else if (hasBody) {
                exchange.readBody(this::sendBody, this::bodyCut);
            } else {
                // the encoder's message ends with its last content, none for a request without a body
                backendChannel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(sent);
                requestSent = true;
            }
        }

        private HttpRequest requestHead() {
            HttpRequest client = request;
            HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, client.method(),
                    ProxyTarget.of(client.uri(), exchange.uri(), exchange.query(), location));
            ProxyHeaders.copyRequest(client.headers(), head.headers());
            ProxyHeaders.setConfigured(exchange, location.proxy(), head.headers());
            if (body != null) {
                // read whole: its length is known, a chunked one's too (as nginx sends a buffered body)
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length());
            } else if (HttpUtil.isTransferEncodingChunked(client)) {
                HttpUtil.setTransferEncodingChunked(head, true);
            } else if (hasBody) {
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, HttpUtil.getContentLength(client, 0L));
            } else if (client.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
                // an empty body announced (a POST of an empty form) goes announced, as nginx passes it: a backend may
                // answer a POST without a length 411
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
            if (!lease.keepAlive()) {
                head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            if (upgrade != null) {
                head.headers().set(HttpHeaderNames.UPGRADE, upgrade);
                head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            }
            return head;
        }

        /** A chunk of the client's body, this call's to release: on to the backend, the client paused while it lags. */
        private void sendBody(HttpContent chunk) {
            if (done || backendChannel == null) {
                chunk.release();
                return;
            }
            boolean last = chunk instanceof LastHttpContent;
            Object out = last ? new DefaultLastHttpContent(chunk.content())
                    : new DefaultHttpContent(chunk.content());
            backendChannel.writeAndFlush(out).addListener(sent);
            if (last) {
                requestSent = true;
            } else if (!backendChannel.isWritable()) {
                exchange.pauseBody(true);
            }
        }

        /** The client's body ended short (its client left, over the limit): the backend has half a request. */
        private void bodyCut() {
            if (!done && lease != null) {
                finish();
                releaseLease(Lease.Outcome.ABANDONED);
                if (tap != null) {
                    tap.onGivenUp(); // no answer comes for the cache's flight this request leads
                }
            }
        }

        /** A write to the backend ended; one to a connection this call has left (sent again elsewhere) says nothing. */
        private void written(ChannelFuture f) {
            if (f.channel() != backendChannel) {
                return;
            }
            if (f.isSuccess()) {
                lastProgressNanos = System.nanoTime();
            } else if (!done) {
                backendFailed(new BackendUnavailableException(lease.address() + ": the request could not be sent ("
                        + f.cause() + ")"));
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && whenWritable != null) {
                Runnable kept = whenWritable; // the kept body's next part
                whenWritable = null;
                kept.run();
            }
            if (ctx.channel().isWritable() && !requestSent && !done) {
                exchange.pauseBody(false);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                read(ctx, msg);
            } catch (RuntimeException | Error e) {
                if (!done) {
                    ownFailure(e);
                    return;
                }
                // thrown once the backend's part was over (the tap's onEnd: a revalidated entry's answer, a store),
                // which exceptionCaught leaves alone (done): the client gets an answer (500), or its connection
                // closed after the head, and either is logged (fail's warning), not left to wait for its timeout
                if (exchange.isEnded()) {
                    LOG.warn("[{}] {} {}: failed after its answer: {}", exchange.requestId(),
                            exchange.request().method(), LogText.escapeBytes(exchange.request().uri()), e.toString(),
                            e);
                } else {
                    exchange.fail(e);
                }
            }
        }

        /**
         * {@code e}, thrown by edge's own code as it took the backend's answer (a bug copying its head, the tap's store):
         * the request fails with it, a 500 (or its connection closed after the head), where the tap does not answer it
         * (told as of any failure: its flight ends); but the backend is not at fault, so no failure of its address is
         * counted and the request goes to no other. It went to exceptionCaught, a 502, counted against the address,
         * and passed on to the next one, which failed the same way.
         */
        private void ownFailure(Throwable e) {
            if (e instanceof OutOfMemoryError) {
                // no memory for a buffer (-XX:MaxDirectMemorySize reached) at a load's peak: no bug to trace
                LOG.warn("[{}] {} {}: the answer could not be taken: {}", exchange.requestId(),
                        exchange.request().method(), LogText.escapeBytes(exchange.request().uri()), e.toString());
            } else {
                LOG.error("[{}] {} {}: the answer could not be taken: {}", exchange.requestId(),
                        exchange.request().method(), LogText.escapeBytes(exchange.request().uri()), e.toString(), e);
            }
            finish();
            if (lease != null) {
                releaseLease(Lease.Outcome.CLOSE); // the rest of the answer unread
            }
            exchange.upstreamEnded();
            failed(e);
        }

        private void read(ChannelHandlerContext ctx, Object msg) {
            if (done) {
                ReferenceCountUtil.release(msg);
                return;
            }
            lastProgressNanos = System.nanoTime();
            answering = true;
            HttpObject object = (HttpObject) msg;
            if (object.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                if (object.decoderResult().cause() instanceof PrematureChannelClosureException) {
                    // closed within the head: nginx's "upstream prematurely closed connection", an error, not a
                    // garbled answer (invalid_header)
                    backendFailed(closedEarly());
                } else {
                    protocolError("not an HTTP answer (" + object.decoderResult().cause() + ")");
                }
                return;
            }
            if (msg instanceof HttpResponse && lineEnds.refused() != null) {
                // nginx 1.22's "upstream sent invalid header" (obs-fold, which Netty's decoder joins; a name with a space)
                ReferenceCountUtil.release(msg);
                protocolError(lineEnds.refused());
                return;
            }
            if (msg instanceof HttpResponse response) {
                head(response);
            }
            // (a head passed on may have the call on another connection already: this one's content is not its own)
            if (msg instanceof HttpContent content && !done && ctx.channel() == backendChannel) {
                body(content);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private void head(HttpResponse response) {
            int code = response.status().code();
            if (code == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                if (upgrade != null && response.headers().contains(HttpHeaderNames.UPGRADE) && exchange.upgradable()) {
                    tunnel(response);
                } else {
                    protocolError("a 101 (Switching Protocols) " + (upgrade == null ? "to a request that asked for none"
                            : "without an Upgrade field"));
                }
                return;
            }
            if (code < 200) {
                interim = true; // 100, 102, 103: dropped, with the empty body the decoder gives them
                return;
            }
            exchange.upstreamStatus(code);
            LocationSettings.Condition status = LocationSettings.NextUpstream.ofStatus(code);
            if (status != null && mayGoAgain(status) && pool.hasAddressBesides(tried, lease)) {
                // dropped, head and body (the connection closed with what is left of it unread): the next one answers
                finish();
                releaseLease(status.isFailure() ? Lease.Outcome.BACKEND_FAILED : Lease.Outcome.CLOSE);
                exchange.upstreamEnded();
                passOn(new BackendUnavailableException(lease.address() + " answered " + code));
                return;
            }
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(),
                    ProxyHeaders.ANSWER_FIELDS);
            ProxyHeaders.copyResponse(response.headers(), head.headers(), location.proxy().passHeaders());
            ProxyHeaders.rewriteRedirects(exchange, location.proxy(), head.headers());
            boolean bodiless = exchange.isHead() || !Exchange.statusHasBody(code);
            if (HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response)) {
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, HttpUtil.getContentLength(response, 0L));
            } else if (!bodiless) {
                // chunked or read to the close: chunked to an HTTP/1.1 client, to the close to an HTTP/1.0 one
                if (exchange.request().protocolVersion().equals(HttpVersion.HTTP_1_1)) {
                    HttpUtil.setTransferEncodingChunked(head, true);
                } else {
                    head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                }
            }
            // an answer read to the close leaves nothing to reuse (a HEAD's may have a body: the cache asked a GET),
            // nor does an HTTP/1.0 one, its Connection: keep-alive notwithstanding, as nginx's proxy reuses none, nor
            // one whose framing is in doubt (chunked beside a Content-Length, named twice, not last or within another
            // word; two Content-Lengths that differ; a coding beside a length): what the backend sends after it may be
            // the rest of a body framed otherwise, not the next answer's start (nginx 1.22 reuses it)
            boolean noBody = HttpMethod.HEAD.equals(request.method()) || !Exchange.statusHasBody(code);
            keepBackend = lease.keepAlive() && response.protocolVersion().equals(HttpVersion.HTTP_1_1)
                    && HttpUtil.isKeepAlive(response) && (HttpUtil.isContentLengthSet(response)
                    || HttpUtil.isTransferEncodingChunked(response) || noBody)
                    && !lineEnds.framingInDoubt();
            // nginx's X-Accel-Redirect, judged after the cache's word on the head (a 304 it merges, a 5xx its stale copy
            // answers), as nginx's proxy follows it after its cache's revalidation
            String accel = response.headers().get(X_ACCEL_REDIRECT);
            if (tap != null && !tapPasses(response, head, accel)) {
                return;
            }
            if (accel != null) {
                accelRedirect(response, accel, noBody);
                return;
            }
            // nginx's limit_rate paces a proxied answer too, and its backend may set the pace (X-Accel-Limit-Rate,
            // the last line that is a number, as nginx's)
            LimitRate limitRate = BodyPace.ofScript(accelLimitRate(response), location.limitRate(),
                    () -> "[" + exchange.requestId() + "]");
            pace = limitRate == null || bodiless ? null : new BodyPace(limitRate, exchange.clientChannel().eventLoop());
            // nginx's proxy_buffering, which the backend may turn off for its answer (X-Accel-Buffering: no)
            // or on where the location has it off (yes), as nginx's: the last of several "yes"/"no" lines
            buffered = !bodiless && accelBuffering(response, location.proxy().buffering());
            headWritten = true;
            // nginx's gzip filter runs on a proxied answer as on any: the location's gzip, as on a script's answer
            // (the cache's tap saw the head before, and records the body as read: stored uncompressed, each hit
            // compressed on its way out as this one is)
            exchange.offerCompression();
            exchange.write(head);
            if (tap != null && exchange.isHead() && !noBody) {
                // the cache asked a GET for a HEAD: the client's answer is its head, the body is the cache's alone
                takenOver = true;
                headAnswered = true;
                exchange.complete(exchange.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
                if (!tap.wantsRest()) {
                    letGo();
                }
            }
        }

        /**
         * Shows the tap the head the client is to get ({@code head}), with the backend's fields for the cache that the
         * client never sees; false when the answer goes no further to the client (taken over, or its client left), and
         * the backend let go where the tap wants none of the rest.
         */
        private boolean tapPasses(HttpResponse response, HttpResponse head, String accel) {
            // the fields proxy-pass-headers passed to the client stay on its head, as they were (nginx's
            // proxy_pass_header beside proxy_cache)
            HttpHeaders passed = new DefaultHttpHeaders();
            for (String name : List.of(ResponseCache.X_ACCEL_EXPIRES, ResponseCache.X_ACCEL_LIMIT_RATE,
                    ResponseCache.X_ACCEL_BUFFERING, X_ACCEL_REDIRECT)) {
                passed.add(name, head.headers().getAll(name));
            }
            // what nginx's cache reads of them: X-Accel-Expires its lifetime, X-Accel-Limit-Rate the pace of its hits
            // (the cache takes the line that paces this answer), and an answer not buffered is not stored (nginx's
            // proxy_buffering off). Every line as it came, whether this location passes it or not: the cache keeps them
            // for a hit in a location that passes them, as nginx's cache file holds the upstream's head (measured: a
            // fill in a location without fastcgi_pass_header X-Accel-Buffering, a HIT in one with it carries it; two
            // X-Accel-Limit-Rate lines passed reach the MISS and the HIT both)
            for (String name : List.of(ResponseCache.X_ACCEL_EXPIRES, ResponseCache.X_ACCEL_LIMIT_RATE,
                    ResponseCache.X_ACCEL_BUFFERING)) {
                List<String> lines = response.headers().getAll(name);
                if (!lines.isEmpty()) {
                    head.headers().set(name, lines);
                }
            }
            if (!accelBuffering(response, location.proxy().buffering())) {
                head.headers().set(ResponseCache.X_ACCEL_BUFFERING, "no");
            }
            if (accel != null) {
                head.headers().set(X_ACCEL_REDIRECT, accel); // never stored: the body is not the answer's
            }
            boolean passes = tap.onHead(head);
            head.headers().remove(ResponseCache.X_ACCEL_EXPIRES).remove(ResponseCache.X_ACCEL_LIMIT_RATE)
                    .remove(ResponseCache.X_ACCEL_BUFFERING).remove(X_ACCEL_REDIRECT).add(passed);
            if (passes && !detached) {
                return true;
            }
            takenOver = true;
            headWritten = true; // to the tap: the request is never sent again past it
            if (!tap.wantsRest()) {
                letGo();
            }
            return false;
        }

        /**
         * The backend's {@code X-Accel-Redirect: uri}, as nginx's proxy follows it: the answer's body is dropped, and
         * the request goes to {@code uri} by an internal redirect ({@link #followAccel}). The connection is kept where
         * the answer has no body ({@code noBody}, or a length of 0: given back once its end is read), as nginx's
         * keepalive takes one back only then; else it is closed unread, as nginx's.
         */
        private void accelRedirect(HttpResponse response, String uri, boolean noBody) {
            HttpHeaders kept = new DefaultHttpHeaders();
            for (String name : BackendFileNames.ACCEL_REDIRECT_KEPT) {
                kept.add(name, response.headers().getAll(name));
            }
            headWritten = true; // the answer is the request's: never sent again past it
            takenOver = true; // nothing of it goes to the client
            accelFollowed = () -> followAccel(uri, kept);
            boolean empty = noBody || !HttpUtil.isTransferEncodingChunked(response)
                    && HttpUtil.getContentLength(response, -1L) == 0;
            if (!empty || !keepBackend) {
                finish();
                exchange.upstreamEnded();
                releaseLease(Lease.Outcome.CLOSE);
                if (tap != null) {
                    tap.onEnd();
                }
                accelFollowed.run();
            }
            // else the empty body's end comes with this read: body() gives the connection back, then follows
        }

        /**
         * The internal redirect to an X-Accel-Redirect's {@code uri}, nginx's: a GET (a HEAD stays one) without a body,
         * its query the URI's (none without one), the backend's fields nginx keeps ({@code kept}) carried to whatever answers it,
         * internal locations reached; an unsafe URI (no path from the root, a ".." segment) is 404, as nginx's. A named
         * location's ({@code @app}) has the request as it came, as nginx's named location. Either has the body read
         * whole for this backend ({@link BackendFileNames#passOnBody}); one streamed to it is not sent again.
         */
        private void followAccel(String uri, HttpHeaders kept) {
            if (exchange.isEnded() || detached) {
                return;
            }
            exchange.endOnClientClose(false); // the answer from here on is the location's, a file's download too
            exchange.carryHeaders(kept);
            BackendFileNames.passOnBody(exchange, body);
            if (uri.startsWith("@")) {
                exchange.redirectNamed(uri); // nginx's named location: the request as it came, not made a GET
                return;
            }
            RequestTarget target = null;
            if (!BackendFileNames.unsafeAccelUri(BackendFileNames.withoutQuery(uri))) {
                try {
                    target = RequestTarget.parse(uri);
                } catch (HttpStatusException notAPath) {
                    // blanks or controls in it: no URI nginx would find a file at either
                }
            }
            if (target == null) {
                LOG.warn("[{}] backend redirected {} {} to {}: an unsafe URI, 404", exchange.requestId(),
                        exchange.request().method(), LogText.escapeBytes(exchange.request().uri()),
                        LogText.escapeControls(uri));
                exchange.sendError(HttpResponseStatus.NOT_FOUND);
                return;
            }
            if (!exchange.isHead()) {
                exchange.request().setMethod(HttpMethod.GET);
            }
            exchange.redirect(target.path(), target.query());
        }

        /** Nobody wants the rest of the answer (the tap answered from its head): its connection is closed unread. */
        private void letGo() {
            finish();
            exchange.upstreamEnded();
            releaseLease(Lease.Outcome.CLOSE);
        }

        /** The backend's X-Accel-Limit-Rate line that sets the pace ({@link BodyPace#scriptRate}); null for none. */
        private static String accelLimitRate(HttpResponse response) {
            return BodyPace.scriptRate(response.headers().getAll(ResponseCache.X_ACCEL_LIMIT_RATE));
        }

        /** The backend's X-Accel-Buffering ("yes" or "no" in any case, of several lines the last), else {@code dflt}. */
        private static boolean accelBuffering(HttpResponse response, boolean dflt) {
            boolean buffering = dflt;
            for (String value : response.headers().getAll("X-Accel-Buffering")) {
                if ("yes".equalsIgnoreCase(value.strip())) {
                    buffering = true;
                } else if ("no".equalsIgnoreCase(value.strip())) {
                    buffering = false;
                }
            }
            return buffering;
        }

        /** The backend switched protocols: the call is over, its connection and the client's a tunnel's. */
        private void tunnel(HttpResponse response) {
            exchange.upstreamStatus(response.status().code());
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(),
                    ProxyHeaders.ANSWER_FIELDS);
            ProxyHeaders.copyResponse(response.headers(), head.headers(), location.proxy().passHeaders());
            head.headers().set(HttpHeaderNames.UPGRADE, response.headers().get(HttpHeaderNames.UPGRADE));
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            finish();
            backendChannel.pipeline().remove(LINE_ENDS); // passing all since the 101's head: it holds nothing
            ProxyTunnel.open(exchange, lease, head, CODEC, IDLE_GUARD, readTimeoutNanos);
        }

        private void body(HttpContent content) {
            if (interim) {
                content.release();
                interim = !(content instanceof LastHttpContent);
                return;
            }
            boolean last = content instanceof LastHttpContent;
            if (tap != null && content.content().isReadable()) {
                try {
                    tap.onBody(content.content()); // as it is read: a buffered answer is recorded at the backend's speed
                } catch (RuntimeException | Error e) {
                    content.release(); // still the call's: channelRead's ownFailure takes the rest
                    throw e;
                }
            }
            if (!content.content().isReadable() || takenOver) {
                content.release();
            } else if (buffered && (spool != null && !spool.isEmpty() || !exchange.isWritable() || pace != null)) {
                toSpool(content.content()); // trailers dropped: the client's framing is edge's own
            } else {
                exchange.write(new DefaultHttpContent(content.content()));
            }
            if (last) {
                exchange.upstreamEnded();
                endAfterSpool = spool != null && !spool.isEmpty(); // the drain waiting ends the client's answer
                finish();
                // the backend had the whole request and framed its whole answer: the connection may carry another
                releaseLease(requestSent && keepBackend ? Lease.Outcome.REUSABLE : Lease.Outcome.CLOSE);
                if (tap != null) {
                    tap.onEnd();
                }
                if (!endAfterSpool && !takenOver) {
                    exchange.complete(exchange.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
                }
                if (accelFollowed != null) {
                    accelFollowed.run(); // an X-Accel-Redirect's empty answer read to its end, its connection kept
                }
            } else if (buffered || takenOver) {
                return; // the backend is paused only by a full spool (toSpool), or not at all for the tap alone
            } else if (!paused && pace != null && paceHolds()) {
                // ahead of the rate: the backend is not read (what this read brought still goes) until it is due
                paused = true;
                backendChannel.config().setAutoRead(false);
            } else if (!exchange.isWritable() && !paused) {
                paused = true;
                backendChannel.config().setAutoRead(false);
                exchange.onWritable(this::resume);
            }
        }

        /**
         * Holds {@code chunk} (the call's until now, the spool's from now on) for the client, which can't take it now
         * (or its pace holds it back); the backend waits only once the spool is full (memory, then its file).
         */
        private void toSpool(ByteBuf chunk) {
            if (spool == null) {
                spool = new ResponseSpool(exchange.clientChannel(), responseBuffer.memory(),
                        responseBuffer.maxTempFile(), spoolDir, this::spoolFailed, this::spoolWithoutFile,
                        this::spoolHasRoom);
                drain = new SpoolDrain(spool, exchange, new DrainSink());
            }
            spool.add(chunk);
            if (spool.isFull() && !paused) {
                paused = true;
                backendChannel.config().setAutoRead(false);
            }
            if (!exchange.isWritable()) {
                // what this read wrote is sent now: the client's connection turns writable again only as it goes out,
                // and a read that ends the answer is flushed by nobody else
                exchange.flush();
            }
            drain.await();
        }

        /** The drain's way to the client ({@link SpoolDrain}). */
        private final class DrainSink implements SpoolDrain.Sink {
            @Override
            public boolean stopped() {
                return clientLeft;
            }

            @Override
            public BodyPace pace() {
                return pace;
            }

            @Override
            public void write(ByteBuf chunk) {
                exchange.write(new DefaultHttpContent(chunk));
                spoolHasRoom();
            }

            /** Ends the client's answer when the backend's end waited for the spool. */
            @Override
            public void drained() {
                if (endAfterSpool) {
                    endAfterSpool = false;
                    releaseSpool();
                    exchange.complete(exchange.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
                } else {
                    exchange.flush();
                }
            }
        }

        /**
         * Whether the pace holds the unbuffered backend back (it then reads it again once due), judged on what went
         * out: zlib's held bytes flushed first, else a compressed answer read at once would pass whole into zlib before
         * any of it counted.
         */
        private boolean paceHolds() {
            exchange.flush();
            return pace.holds(BodyPace.sent(exchange), this::paceDue);
        }

        /** The spool has room again (the client took some, or its file took what waited for the disk). */
        private void spoolHasRoom() {
            if (paused && !done && !spool.isFull()) {
                resume();
            }
        }

        /** The spool's file could not be made or written: nothing is lost, the backend is paced by the client. */
        private void spoolWithoutFile(IOException cause) {
            LOG.warn("[{}] answer to {} {}: its spool file in {} failed ({}); the answer goes on without it, the "
                    + "backend paced by the client", exchange.requestId(), exchange.request().method(),
                    LogText.escapeBytes(exchange.request().uri()), spoolDir, cause.toString());
        }

        /** The spool's file could not be read back: the answer can't be whole, the client's connection is closed. */
        private void spoolFailed(IOException cause) {
            LOG.warn("[{}] answer to {} {}: its spool file in {} could not be read back ({}); the answer is cut short",
                    exchange.requestId(), exchange.request().method(), LogText.escapeBytes(exchange.request().uri()),
                    spoolDir, cause.toString());
            endAfterSpool = false;
            if (!done) {
                finish();
                exchange.upstreamEnded();
                releaseLease(Lease.Outcome.CLOSE);
                if (tap != null) {
                    tap.onError(cause); // the answer is cut short for the cache too
                }
            }
            releaseSpool();
            exchange.fail(cause);
        }

        /** Drops what the spool holds (its file with it) and the pace's wait; nothing more goes to the client. */
        private void releaseSpool() {
            if (spool != null) {
                clientLeft = true;
                if (pace != null) {
                    pace.cancel();
                }
                spool.release();
            }
        }

        /** The pace lets the next piece go: the backend is read again once the client takes more. */
        private void paceDue() {
            if (done) {
                return;
            }
            if (exchange.isWritable()) {
                resume();
            } else {
                exchange.onWritable(this::resume);
            }
        }

        private void resume() {
            paused = false;
            if (!done) {
                lastProgressNanos = System.nanoTime();
                backendChannel.config().setAutoRead(true);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (headWritten && !takenOver && !done) {
                exchange.flush();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!done) {
                backendFailed(closedEarly());
            }
            ctx.fireChannelInactive();
        }

        private BackendUnavailableException closedEarly() {
            return new BackendUnavailableException(lease.address() + ": connection closed "
                    + (answering ? "in the middle of the answer" : "before any answer"));
        }

        /** The backend ended its side (a Unix socket read with half-closure) before the answer's end. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent && !done) {
                backendFailed(closedEarly());
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!done) {
                backendFailed(new BackendUnavailableException(lease.address() + ": " + cause, cause));
            }
        }

        /**
         * {@code what}: how the answer is broken, the backend's bytes in it (a decoder's refusal names the field) written
         * as they are in the log line, a control character as {@code \x01}, as nginx's "upstream sent invalid header".
         */
        private void protocolError(String what) {
            exchange.upstreamStatus(HttpResponseStatus.BAD_GATEWAY.code());
            exchange.upstreamEnded();
            finish();
            releaseLease(Lease.Outcome.BACKEND_FAILED);
            passOnOrFail(new ProxyProtocolException(lease.address() + " answered " + exchange.request().method()
                    + " " + LogText.escapeBytes(exchange.request().uri()) + " with " + LogText.escapeBytes(what)),
                    LocationSettings.Condition.INVALID_HEADER);
        }

        /**
         * The connection failed (closed, reset, a write refused). A kept one that ended before any answer to a
         * request without a body is most likely one the backend closed as idle: the request goes once more, on another
         * connection, as nginx's proxy_next_upstream error does; else it goes to the next address ({@link #passOnOrFail}).
         */
        private void backendFailed(Throwable cause) {
            boolean again = !answering && !retried && lease.isReused() && passable()
                    && next.on(LocationSettings.Condition.ERROR);
            finish();
            if (again) {
                LOG.debug("[{}] {}: sent again on a new connection", exchange.requestId(), cause.getMessage());
                releaseLease(Lease.Outcome.CLOSE);
                exchange.upstreamEnded();
                retried = true;
                acquireAgain();
                return;
            }
            releaseLease(Lease.Outcome.BACKEND_FAILED);
            exchange.upstreamStatus(HttpResponseStatus.BAD_GATEWAY.code());
            exchange.upstreamEnded();
            passOnOrFail(cause, LocationSettings.Condition.ERROR);
        }

        /**
         * Whether the request may be sent again after it went out: nginx's rule (not a POST, LOCK or PATCH, unless
         * proxy-next-upstream has non_idempotent), and only with its body kept, or none: a body streamed is not kept.
         */
        private boolean passable() {
            return (!hasBody || body != null) && next.resends(request.method());
        }

        /**
         * Whether a try that failed for {@code condition} passes the request on (nginx's proxy_next_upstream): the
         * condition is in the location's list, and neither its tries (this one counted) nor its time are used up.
         */
        private boolean mayPassOn(LocationSettings.Condition condition) {
            return next.passesOn(condition, failedTries, System.nanoTime() - startedNanos);
        }

        /**
         * As {@link #mayPassOn}, for a request that went out: one that {@link #passable may go again}, nothing of
         * the answer sent to the client yet.
         */
        private boolean mayGoAgain(LocationSettings.Condition condition) {
            return !headWritten && passable() && mayPassOn(condition);
        }

        /**
         * The backend failed the request ({@code cause}, its try listed and its lease released) for {@code condition}.
         * A request that {@link #mayGoAgain may go again} goes to the next address of the group it has not gone to
         * (with none left, {@code cause} answers it); else {@code cause} answers it now.
         */
        private void passOnOrFail(Throwable cause, LocationSettings.Condition condition) {
            if (mayGoAgain(condition)) {
                passOn(cause);
            } else {
                failed(cause);
            }
        }

        /**
         * Fails the exchange with {@code cause}, unless the tap answers it (a stale copy) or nobody is left to answer
         * (the client left, or had its HEAD's answer: the tap alone is told).
         */
        private void failed(Throwable cause) {
            boolean answered = tap != null && tap.onError(cause);
            if (!answered && !detached && !headAnswered) {
                exchange.fail(cause);
            }
        }

        /** The request, its try over ({@code cause}, listed, its lease released), goes to the next address. */
        private void passOn(Throwable cause) {
            LOG.debug("[{}] {}: passed on to the next address", exchange.requestId(), cause.getMessage());
            tried.add(lease.address().key());
            failedTries++;
            passedOnFor = cause;
            acquireAgain();
        }

        /** The call, {@link #finish finished} with its lease given back, asks the pool again for the same request. */
        private void acquireAgain() {
            done = false;
            requestSent = false; // the next try sends it anew, its kept body too
            answering = false;
            interim = false;
            backendChannel = null;
            lease = null;
            acquire();
        }

        private void armTimer(long delayNanos) {
            timer = exchange.clientChannel().eventLoop().schedule(this::checkTimer, delayNanos, TimeUnit.NANOSECONDS);
        }

        /**
         * The read (or, until the request is sent, write) timeout: the time since the backend last moved, the time
         * the client kept it paused not counted.
         */
        private void checkTimer() {
            if (done) {
                return;
            }
            long timeout = requestSent ? readTimeoutNanos : writeTimeoutNanos;
            long left = lastProgressNanos + timeout - System.nanoTime();
            if (paused || left > 0) {
                armTimer(paused ? timeout : left);
                return;
            }
            finish();
            releaseLease(Lease.Outcome.TIMED_OUT);
            exchange.upstreamStatus(HttpResponseStatus.GATEWAY_TIMEOUT.code());
            exchange.upstreamEnded();
            BackendTimeoutException timedOut = new BackendTimeoutException(lease.address() + ": no " + (requestSent
                    ? "answer" : "progress sending the request") + " within " + TimeUnit.NANOSECONDS.toMillis(timeout)
                    + " ms");
            passOnOrFail(timedOut, LocationSettings.Condition.TIMEOUT);
        }

        private void clientGone() {
            endAfterSpool = false;
            releaseSpool();
            if (done) {
                return;
            }
            if (tap != null && !detached && tap.onClientGone(this::giveUp)) {
                // others wait for this answer (the cache's flight): it is read on, queued still or at the backend, for
                // the tap alone; a pause for the client would never end now
                detached = true;
                takenOver = true;
                if (pending != null) {
                    exchange.upstreamQueued(queuedNanos + System.nanoTime() - acquiredAt); // its wait so far, for the 499
                }
                if (pace != null) {
                    pace.cancel();
                }
                if (paused) {
                    resume();
                }
                return;
            }
            endWithClient();
        }

        /** The tap that kept the request going for others no longer wants its answer: it ends as its client did. */
        private void giveUp() {
            if (!done) {
                endWithClient();
            }
        }

        /** The client left, and nobody else wants the answer: the queue place is given up, the backend let go. */
        private void endWithClient() {
            if (pending != null) {
                exchange.upstreamQueued(queuedNanos + System.nanoTime() - acquiredAt); // for the access log's 499
                pending.cancel(false);
            }
            finish();
            if (lease != null) {
                // never pooled with an answer half read, nor a request half sent
                exchange.upstreamEnded();
                releaseLease(requestSent ? Lease.Outcome.CLOSE : Lease.Outcome.ABANDONED);
            }
        }

        /** The call is over for the backend: its timer stopped, its handler out of the connection's pipeline. */
        private void finish() {
            done = true;
            if (!endAfterSpool) {
                releaseSpool(); // the answer failed, or was answered whole: the spool has nothing left for the client
                if (pace != null) {
                    pace.cancel();
                }
            }
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            if (backendChannel != null && backendChannel.pipeline().context(this) != null) {
                backendChannel.pipeline().remove(this);
            }
            if (paused && backendChannel != null) {
                backendChannel.config().setAutoRead(true);
            }
        }

        /**
         * Gives the connection back; one that is not reusable is closed by the pool. A reusable one leaves its codec
         * here, which hands the idle guard whatever the backend sent past the answer's end (a body to a HEAD or after
         * a 204, bytes past its Content-Length): the guard closes the connection for them, before the pool could give
         * it to a request waiting for it, whose answer they would begin. nginx drops them too.
         */
        private void releaseLease(Lease.Outcome outcome) {
            if (outcome != Lease.Outcome.REUSABLE && backendChannel != null) {
                backendChannel.close();
            } else if (outcome == Lease.Outcome.REUSABLE) {
                backendChannel.pipeline().remove(LINE_ENDS); // at the answer's end: it holds nothing
                backendChannel.pipeline().remove(CODEC);
            }
            lease.release(outcome);
        }
    }
}
